/* GET /admin/audit: the audit trail kept in the database (store/audit.c),
 * newest first, a page at a time by a keyset cursor. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/api_internal.h"
#include "core/admin.h"
#include "core/outcome_store.h"
#include "core/roles.h"
#include "util/b64.h"
#include "util/timefmt.h"

#define LIMIT_DEFAULT 50
#define LIMIT_MAX     500
/* The cursor: base64url of the last id's decimal text. */
#define CURSOR_MAX 32

/* The types the trail holds (API.md): a filter names one of them, or a
 * prefix of some ending in '.' ("login.", "admin."). */
static const char *const known_types[] = {
    "user.registered",
    "login.succeeded",
    "login.failed",
    "login.throttled",
    "refresh.reuse_detected",
    "logout",
    "password.changed",
    "password.reset",
    "email.confirmed",
    "account.deleted",
    "mfa.enabled",
    "mfa.disabled",
    "passkey.added",
    "passkey.removed",
    "users.imported",
    "admin.user_created",
    "admin.user_updated",
    "admin.user_deleted",
    "admin.sessions_revoked",
    "admin.password_reset",
    "admin.mfa_reset",
    "admin.apikey_created",
    "admin.apikey_revoked",
    "admin.roles_changed",
};

/* Whether t is a type filter: *prefix tells a family ("admin.") from one
 * type. */
static bool type_known(const char *t, size_t len, bool *prefix)
{
    *prefix = len > 0 && t[len - 1] == '.';
    for (size_t i = 0; i < sizeof known_types / sizeof known_types[0]; i++) {
        size_t n = strlen(known_types[i]);
        if (*prefix ? n > len && memcmp(known_types[i], t, len) == 0
                    : n == len && memcmp(known_types[i], t, len) == 0)
            return true;
    }
    return false;
}

/* A decimal integer of 1 to 18 digits (no sign, no leading zero). */
static bool decimal(const char *v, size_t len, int64_t *out)
{
    int64_t n = 0;

    if (len == 0 || len > 18 || (v[0] == '0' && len > 1))
        return false;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        n = n * 10 + (v[i] - '0');
    }
    *out = n;
    return true;
}

/* Digits of v[*i..] exactly n of them, as a number; -1 when not. */
static int digits(const char *v, size_t len, size_t *i, int n)
{
    int x = 0;

    for (int k = 0; k < n; k++, (*i)++) {
        if (*i >= len || v[*i] < '0' || v[*i] > '9')
            return -1;
        x = x * 10 + (v[*i] - '0');
    }
    return x;
}

/* RFC 3339 §5.6 date-time: "2026-12-08T01:00:00Z", with optional fraction
 * (ignored: the trail counts seconds) and "Z" or a "+hh:mm"/"-hh:mm"
 * offset; T and Z in either case. */
static bool rfc3339(const char *v, size_t len, int64_t *out)
{
    size_t i = 0;
    int y = digits(v, len, &i, 4), mo, d, h, mi, s, oh = 0, om = 0, sign = 0;

    if (y < 0 || i >= len || v[i++] != '-' || (mo = digits(v, len, &i, 2)) < 1 || mo > 12 ||
        i >= len || v[i++] != '-' || (d = digits(v, len, &i, 2)) < 1 || d > 31 || i >= len ||
        (v[i] != 'T' && v[i] != 't') || (++i, (h = digits(v, len, &i, 2)) < 0) || h > 23 ||
        i >= len || v[i++] != ':' || (mi = digits(v, len, &i, 2)) < 0 || mi > 59 || i >= len ||
        v[i++] != ':' || (s = digits(v, len, &i, 2)) < 0 || s > 60)
        return false;
    if (i < len && v[i] == '.') {
        size_t start = ++i;
        while (i < len && v[i] >= '0' && v[i] <= '9')
            i++;
        if (i == start)
            return false;
    }
    if (i < len && (v[i] == 'Z' || v[i] == 'z')) {
        i++;
    } else if (i < len && (v[i] == '+' || v[i] == '-')) {
        sign = v[i++] == '-' ? -1 : 1;
        if ((oh = digits(v, len, &i, 2)) < 0 || oh > 23 || i >= len || v[i++] != ':' ||
            (om = digits(v, len, &i, 2)) < 0 || om > 59)
            return false;
    } else {
        return false;
    }
    if (i != len)
        return false;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s == 60 ? 59 : s};
    time_t t = timegm(&tm);
    /* timegm normalises 31 February into March: such a date is refused. */
    if (tm.tm_mday != d || tm.tm_mon != mo - 1)
        return false;
    *out = (int64_t)t - sign * (oh * 3600 + om * 60);
    return true;
}

/* One query parameter: absent (false, *v NULL), or found once; repeated
 * is an error added to errs. */
static bool param(const struct api_request *req, const char *name, const char **v, size_t *len,
                  struct outcome_errors *errs)
{
    *v = NULL;
    *len = 0;
    switch (form_get(&req->query, name, v, len)) {
    case FORM_FOUND: return true;
    case FORM_REPEATED:
        outcome_error_add(errs, name, "repeated", "must be given once");
        *v = NULL;
        return false;
    case FORM_ABSENT: break;
    }
    /* "name=" counts as absent for form_get; here it is a value, and wrong. */
    for (size_t i = 0; i < req->query.count; i++)
        if (strcmp(req->query.fields[i].name, name) == 0) {
            *v = "";
            return true;
        }
    return false;
}

/* The filter of the request's query into f; the broken rules into errs. */
static void read_filter(const struct api_request *req, struct store_audit_filter *f,
                        char type[STORE_AUDIT_TYPE_MAX + 1], struct outcome_errors *errs)
{
    const char *v;
    size_t len;

    *f = (struct store_audit_filter){.type = type, .limit = LIMIT_DEFAULT};
    type[0] = '\0';
    if (param(req, "user_id", &v, &len, errs) && (!decimal(v, len, &f->user_id) || f->user_id < 1))
        outcome_error_add(errs, "user_id", "invalid", "must be a user's id (a positive integer)");
    if (param(req, "type", &v, &len, errs)) {
        if (len > STORE_AUDIT_TYPE_MAX || !type_known(v, len, &f->prefix))
            outcome_error_add(errs, "type", "invalid",
                              "must be an audit event's type, or a prefix of some ending in "
                              "'.' (e.g. admin.)");
        else
            memcpy(type, v, len + 1);
    }
    if (param(req, "since", &v, &len, errs) && !decimal(v, len, &f->since) &&
        !rfc3339(v, len, &f->since))
        outcome_error_add(errs, "since", "invalid",
                          "must be an RFC 3339 date-time or Unix seconds");
    if (param(req, "limit", &v, &len, errs) &&
        (!decimal(v, len, &f->limit) || f->limit < 1 || f->limit > LIMIT_MAX))
        outcome_error_add(errs, "limit", "invalid", "must be an integer from 1 to 500");
    if (param(req, "cursor", &v, &len, errs)) {
        char text[CURSOR_MAX];
        long n = len < CURSOR_MAX ? b64url_decode_public(text, sizeof text - 1, v, len) : -1;
        if (n > 0)
            text[n] = '\0';
        if (n <= 0 || !decimal(text, (size_t)n, &f->before) || f->before < 1)
            outcome_error_add(errs, "cursor", "invalid", "is not a cursor this server gave");
    }
}

/* Collects a page: the events as JSON, and the last id. */
struct page {
    json_t *events;
    int64_t last;
    int64_t count;
};

static int add_event(void *arg, const struct store_audit_row *r)
{
    struct page *p = arg;
    char at[32];
    json_t *e = json_loads(r->details, 0, NULL);

    if (!json_is_object(e)) {
        json_decref(e);
        e = json_object();
    }
    /* The row's own fields win over any detail of the same name. */
    json_object_set_new(e, "id", json_integer(r->id));
    json_object_set_new(e, "type", json_string(r->type));
    json_object_set_new(e, "at", json_string(timefmt_rfc3339(at, sizeof at, r->at)));
    json_object_set_new(e, "user_id", r->user_id > 0 ? json_integer(r->user_id) : json_null());
    json_object_set_new(e, "actor", r->has_actor ? json_string(r->actor) : json_null());
    json_object_set_new(e, "client", r->has_client ? json_string(r->client) : json_null());
    if (json_array_append_new(p->events, e) != 0)
        return -1;
    p->last = r->id;
    p->count++;
    return 0;
}

void api_admin_audit(const struct api_request *req, struct reply *r)
{
    struct outcome_detail d = {0};
    struct store_audit_filter f;
    char type[STORE_AUDIT_TYPE_MAX + 1];
    char actor[API_ADMIN_ACTOR_MAX + 1];

    if (!api_admin_authorize(req, r, actor))
        return;
    read_filter(req, &f, type, &d.errors);
    if (d.errors.count > 0) {
        errors_problem(r, OUTCOME_INVALID, &d);
        return;
    }
    int64_t limit = f.limit;
    f.limit = limit + 1; /* one more tells whether a next page exists */
    struct page p = {.events = json_array()};
    enum store_status st =
        p.events != NULL ? store_audit_list(req->app->users.store, &f, add_event, &p) : STORE_ERROR;
    if (st != STORE_OK) {
        json_decref(p.events);
        errors_problem(r, outcome_from_store(st, OUTCOME_ERROR), NULL);
        return;
    }
    json_t *next = json_null();
    if (p.count > limit) {
        json_array_remove(p.events, (size_t)limit);
        json_t *last = json_array_get(p.events, (size_t)limit - 1);
        char num[24], cursor[CURSOR_MAX];
        int n = snprintf(num, sizeof num, "%lld",
                         (long long)json_integer_value(json_object_get(last, "id")));
        b64url_encode(cursor, num, (size_t)n);
        json_decref(next);
        next = json_string(cursor);
    }
    json_t *page = json_pack("{s:o, s:o}", "events", p.events, "next_cursor", next);
    char *body = page != NULL ? json_dumps(page, JSON_COMPACT) : NULL;
    json_decref(page);
    if (body == NULL) {
        errors_problem(r, OUTCOME_ERROR, NULL);
        return;
    }
    reply_json(r, 200, body);
    r->no_store = true;
}
