/* The admin API (API.md, "Administration, roles and access rules"):
 * GET|POST /admin/users, GET|PATCH|DELETE /admin/users/{id},
 * GET|DELETE /admin/users/{id}/sessions, POST /admin/users/{id}/password-reset,
 * DELETE /admin/users/{id}/mfa. Every handler runs on a worker and calls
 * admin_authorize first: the routes read the Authorization header
 * themselves (API_AUTH_HANDLER), since an API key is not one of the
 * service's tokens. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/audit.h"
#include "core/admin.h"
#include "core/emails.h"
#include "core/outcome_store.h"
#include "util/b64.h"
#include "util/timefmt.h"

#define ITEM_PREFIX   "/admin/users/"
#define LIMIT_MAX     500
#define LIMIT_DEFAULT 50
#define QUERY_MAX     256
#define ACTOR_MAX     API_ADMIN_ACTOR_MAX

/* Who may act: an API key with the role admin, or a gatehouse access token
 * (Authorization: Bearer only, never the cookie: a browser's ambient
 * credential must not reach these routes) whose user, read from the
 * database now, is not disabled, has the role admin, and, when it has a
 * second factor, signed in with one (amr otp or hwk). The token's own
 * roles claim is never trusted here: a role taken away counts at once.
 * Answers r (401 or 403) and returns false otherwise; the actor
 * ("user:<id>", "apikey:<id>") into actor. */
bool api_admin_authorize(const struct api_request *req, struct reply *r,
                         char actor[API_ADMIN_ACTOR_MAX + 1])
{
    size_t len = 0;
    bool from_cookie = false;
    const char *tok = api_find_token(req->authorization, NULL, API_AUTH_BEARER, &len, &from_cookie);
    enum outcome o = OUTCOME_OK;

    if (tok == NULL) {
        errors_problem(r, OUTCOME_UNAUTHENTICATED, NULL);
        return false;
    }
    if (admin_is_apikey(tok, len)) {
        struct store_apikey k;
        o = admin_apikey_find(req->app->users.store, tok, len, &k);
        if (o == OUTCOME_OK && !roles_has(k.roles, "admin"))
            o = OUTCOME_NOT_ADMIN;
        if (o == OUTCOME_OK)
            snprintf(actor, ACTOR_MAX + 1, "apikey:%s", k.id);
    } else {
        struct jwt_claims c;
        struct store_admin_user u;
        o = sessions_verify_access(&req->app->sessions, tok, len, timefmt_now(), &c);
        if (o == OUTCOME_OK)
            o = outcome_from_store(store_admin_user(req->app->users.store, NULL, c.user_id, &u),
                                   OUTCOME_TOKEN_INVALID);
        if (o == OUTCOME_OK && u.disabled)
            o = OUTCOME_TOKEN_INVALID;
        if (o == OUTCOME_OK && !roles_has(u.roles, "admin"))
            o = OUTCOME_NOT_ADMIN;
        if (o == OUTCOME_OK && (u.totp || u.passkeys > 0) &&
            (c.amr & (JWT_AMR_OTP | JWT_AMR_HWK)) == 0)
            o = OUTCOME_NOT_ADMIN;
        if (o == OUTCOME_OK)
            snprintf(actor, ACTOR_MAX + 1, "user:%lld", (long long)u.id);
    }
    if (o != OUTCOME_OK) {
        errors_problem(r, o, NULL);
        return false;
    }
    return true;
}

/* The JSON of a user as the admin API shows it. */
static json_t *user_json(const struct store_admin_user *u)
{
    char when[32];
    json_t *roles = json_array();
    const char *p = u->roles;

    while (roles != NULL && *p != '\0') {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        json_array_append_new(roles, json_stringn(p, len));
        p += len + (comma != NULL);
    }
    return json_pack("{s:I, s:s, s:s?, s:b, s:o, s:b, s:{s:b, s:I}, s:s}", "id", (json_int_t)u->id,
                     "username", u->username, "email", u->email[0] != '\0' ? u->email : NULL,
                     "email_verified", u->email_verified, "roles", roles, "disabled", u->disabled,
                     "mfa", "totp", u->totp, "passkeys", (json_int_t)u->passkeys, "created_at",
                     timefmt_rfc3339(when, sizeof when, u->created_at));
}

/* Sends o (a new reference, taken) with status, not to be cached. */
static void reply_object(struct reply *r, int status, json_t *o)
{
    char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

    json_decref(o);
    if (s == NULL) {
        errors_problem(r, OUTCOME_ERROR, NULL);
        return;
    }
    reply_json(r, status, s);
    r->no_store = true;
}

/* The user id of a path under ITEM_PREFIX and what follows it ("" for the
 * user itself, "/sessions"...): false for anything but a decimal id of 1 to
 * 2^63 - 1 without a leading zero (the caller answers 404). */
static bool path_id(const char *path, int64_t *id, const char **rest)
{
    const char *p = path + strlen(ITEM_PREFIX);
    int64_t v = 0;
    size_t n = 0;

    if (*p == '0')
        return false;
    for (; p[n] >= '0' && p[n] <= '9'; n++) {
        if (v > (INT64_MAX - (p[n] - '0')) / 10)
            return false;
        v = v * 10 + (p[n] - '0');
    }
    *id = v;
    *rest = p + n;
    return n > 0;
}

static void reply_user(const struct api_request *req, struct reply *r, int status, int64_t id)
{
    struct store_admin_user u;
    enum outcome o = outcome_from_store(store_admin_user(req->app->users.store, NULL, id, &u),
                                        OUTCOME_NOT_FOUND);

    if (o != OUTCOME_OK)
        errors_problem(r, o, NULL);
    else
        reply_object(r, status, user_json(&u));
}

/* ------------------------------------------------------------- listing */

struct page {
    json_t *users;
    int64_t last;
};

static void add_user(void *arg, const struct store_admin_user *u)
{
    struct page *p = arg;

    json_array_append_new(p->users, user_json(u));
    p->last = u->id;
}

/* A query parameter: NULL when absent; false (r answered 422) when it is
 * repeated. */
static bool query_param(const struct api_request *req, struct reply *r, const char *name,
                        const char **v, size_t *len, struct outcome_errors *errs)
{
    (void)r;
    *v = NULL;
    *len = 0;
    switch (form_get(&req->query, name, v, len)) {
    case FORM_ABSENT: *v = NULL; return true;
    case FORM_FOUND: return true;
    case FORM_REPEATED: break;
    }
    outcome_error_add(errs, name, "repeated", "must be given once");
    return false;
}

/* The cursor of the page after the one that ended with id: base64url of
 * the id in decimal (opaque to clients). */
static json_t *cursor_of(int64_t id)
{
    char dec[24], b64[40];
    int n = snprintf(dec, sizeof dec, "%lld", (long long)id);

    b64url_encode(b64, dec, (size_t)n);
    return json_string(b64);
}

static bool cursor_parse(const char *v, size_t len, int64_t *id)
{
    char dec[32];
    long n;

    if (len == 0 || len > 28 || (n = b64url_decode(dec, sizeof dec - 1, v, len)) <= 0 || n > 19)
        return false;
    dec[n] = '\0';
    int64_t x = 0;
    if (dec[0] == '0')
        return false;
    for (long i = 0; i < n; i++) {
        if (dec[i] < '0' || dec[i] > '9' || x > (INT64_MAX - (dec[i] - '0')) / 10)
            return false;
        x = x * 10 + (dec[i] - '0');
    }
    *id = x;
    return true;
}

void api_admin_users_list(const struct api_request *req, struct reply *r)
{
    char actor[ACTOR_MAX + 1], q[QUERY_MAX + 1] = "";
    struct outcome_errors errs = {0};
    const char *v;
    size_t len;
    int64_t limit = LIMIT_DEFAULT, after = 0;

    if (!api_admin_authorize(req, r, actor))
        return;
    if (query_param(req, r, "q", &v, &len, &errs) && v != NULL) {
        if (len > QUERY_MAX)
            outcome_error_add(&errs, "q", "too_long", "must be at most %d bytes", QUERY_MAX);
        else
            memcpy(q, v, len + 1);
    }
    if (query_param(req, r, "limit", &v, &len, &errs) && v != NULL) {
        limit = 0;
        for (size_t i = 0; i < len && limit <= LIMIT_MAX; i++)
            limit = v[i] >= '0' && v[i] <= '9' ? limit * 10 + (v[i] - '0') : LIMIT_MAX + 1;
        if (len == 0 || len > 3 || limit < 1 || limit > LIMIT_MAX)
            outcome_error_add(&errs, "limit", "out_of_range", "must be an integer from 1 to %d",
                              LIMIT_MAX);
    }
    if (query_param(req, r, "cursor", &v, &len, &errs) && v != NULL &&
        !cursor_parse(v, len, &after))
        outcome_error_add(&errs, "cursor", "invalid", "must be a next_cursor this API returned");
    if (errs.count > 0) {
        reply_invalid(r, &errs);
        return;
    }
    struct page p = {json_array(), 0};
    bool more = false;
    enum store_status st =
        store_users_page(req->app->users.store, after, q, limit, add_user, &p, &more);
    if (st != STORE_OK) {
        json_decref(p.users);
        errors_problem(r, outcome_from_store(st, OUTCOME_ERROR), NULL);
        return;
    }
    reply_object(r, 200,
                 json_pack("{s:o, s:o}", "users", p.users, "next_cursor",
                           more ? cursor_of(p.last) : json_null()));
}

/* ------------------------------------------------------------ creating */

/* The roles of a body's "roles" (an array of role names) into out; adds an
 * error and returns false otherwise. */
static bool roles_field(json_t *v, char out[ROLES_TEXT_MAX + 1], struct outcome_errors *errs)
{
    const char *names[ROLES_MAX + 1];
    size_t i, n = 0;
    json_t *e;

    if (!json_is_array(v)) {
        outcome_error_add(errs, "roles", "wrong_type", "must be an array of role names");
        return false;
    }
    json_array_foreach(v, i, e)
    {
        const char *name = json_string_value(e);
        if (name == NULL || !roles_name_valid(name, json_string_length(e))) {
            outcome_error_add(errs, "roles", "invalid",
                              "each must be 1 to %d characters of a-z 0-9 . _ -", ROLES_NAME_MAX);
            return false;
        }
        if (n == ROLES_MAX + 0u || i >= 64) {
            outcome_error_add(errs, "roles", "too_many", "at most %d roles", ROLES_MAX);
            return false;
        }
        names[n++] = name;
    }
    if (!roles_from_names(names, n, out)) {
        outcome_error_add(errs, "roles", "too_many", "at most %d roles", ROLES_MAX);
        return false;
    }
    return true;
}

/* Sets user id's address (the admin vouches for it: confirmed). */
static enum outcome set_email(const struct api_request *req, int64_t id, const char *email,
                              size_t len)
{
    char key[EMAILS_MAX + 1];

    emails_key(key, email, len);
    enum store_status st = store_user_email_set(req->app->users.store, NULL, id, email, key, true);
    return st == STORE_CONFLICT ? OUTCOME_CONFLICT : outcome_from_store(st, OUTCOME_NOT_FOUND);
}

static void email_taken(struct reply *r)
{
    reply_problem(r, 409, "email: another account has this address");
}

void api_admin_users_create(const struct api_request *req, struct reply *r)
{
    char actor[ACTOR_MAX + 1], roles[ROLES_TEXT_MAX + 1] = "";
    struct outcome_detail d = {0};
    const char *u = NULL, *pw = NULL, *email = NULL, *key;
    size_t ulen = 0, plen = 0, elen = 0;
    struct user user;
    json_t *o, *v;

    if (!api_admin_authorize(req, r, actor))
        return;
    if ((o = api_parse_object(req, r)) == NULL)
        return;
    json_object_foreach(o, key, v)
    {
        if (strcmp(key, "username") != 0 && strcmp(key, "password") != 0 &&
            strcmp(key, "email") != 0 && strcmp(key, "roles") != 0)
            outcome_error_add(&d.errors, "body", "unknown_field", "unknown field %.40s", key);
    }
    api_string_field(o, "username", &u, &ulen, &d.errors);
    api_string_field(o, "password", &pw, &plen, &d.errors);
    if (api_optional_string(o, "email", &email, &elen, &d.errors) &&
        emails_check(email, elen) != EMAILS_OK)
        api_email_error(&d.errors, "email", emails_check(email, elen));
    if ((v = json_object_get(o, "roles")) != NULL && !json_is_null(v))
        roles_field(v, roles, &d.errors);
    if (d.errors.count > 0) {
        json_decref(o);
        reply_invalid(r, &d.errors);
        return;
    }
    /* The insert's transaction writes the event (its details as
     * audit_admin's below). */
    json_t *held = json_pack("{s:s%, s:s}", "username", u, ulen, "roles", roles);
    audit_hold_admin(req, "admin.user_created", 0, actor, held);
    json_decref(held);
    enum outcome st = users_register(&req->app->users, u, ulen, pw, plen, &user, &d);
    if (st != OUTCOME_OK)
        audit_release();
    if (st == OUTCOME_OK && roles[0] != '\0')
        st = admin_set_roles(req->app->users.store, user.id, roles);
    if (st == OUTCOME_OK && email != NULL &&
        (st = set_email(req, user.id, email, elen)) == OUTCOME_CONFLICT) {
        /* The user is made without it; the admin sets another with PATCH. */
        audit_release();
        json_decref(o);
        email_taken(r);
        return;
    }
    json_t *details = st == OUTCOME_OK
                          ? json_pack("{s:s, s:s}", "username", user.username, "roles", roles)
                          : NULL;
    if (st == OUTCOME_OK)
        audit_admin(req, "admin.user_created", user.id, actor, details);
    json_decref(details);
    json_decref(o);
    if (st != OUTCOME_OK)
        errors_problem(r, st, &d);
    else
        reply_user(req, r, 201, user.id);
}

/* ------------------------------------------------------ one user's routes */

static void add_session(void *arg, const struct store_session_info *i)
{
    char c[32], l[32], e[32];
    unsigned amr = 0;
    json_t *methods = json_array();

    if (jwt_amr_parse(i->amr, &amr))
        for (unsigned bit = 1; bit <= JWT_AMR_ALL; bit <<= 1)
            if ((amr & bit) != 0)
                json_array_append_new(methods, json_string(jwt_amr_name(bit)));
    json_array_append_new(arg,
                          json_pack("{s:s, s:s, s:s, s:s, s:o, s:s?}", "id", i->id, "created_at",
                                    timefmt_rfc3339(c, sizeof c, i->created_at), "last_used_at",
                                    timefmt_rfc3339(l, sizeof l, i->last_used_at), "expires_at",
                                    timefmt_rfc3339(e, sizeof e, i->expires_at), "amr", methods,
                                    "client_id", i->client_id[0] != '\0' ? i->client_id : NULL));
}

void api_admin_user_get(const struct api_request *req, struct reply *r)
{
    char actor[ACTOR_MAX + 1];
    int64_t id;
    const char *rest;

    if (!api_admin_authorize(req, r, actor))
        return;
    if (!path_id(req->path, &id, &rest)) {
        errors_problem(r, OUTCOME_NOT_FOUND, NULL);
    } else if (rest[0] == '\0') {
        reply_user(req, r, 200, id);
    } else if (strcmp(rest, "/sessions") == 0) {
        json_t *list = json_array();
        struct store_admin_user u;
        enum store_status st = store_admin_user(req->app->users.store, NULL, id, &u);
        if (st == STORE_OK)
            st = store_user_sessions(req->app->users.store, id, timefmt_now(), add_session, list);
        if (st != STORE_OK) {
            json_decref(list);
            errors_problem(r, outcome_from_store(st, OUTCOME_NOT_FOUND), NULL);
        } else {
            reply_object(r, 200, json_pack("{s:o}", "sessions", list));
        }
    } else {
        errors_problem(r, OUTCOME_NOT_FOUND, NULL);
    }
}

void api_admin_user_patch(const struct api_request *req, struct reply *r)
{
    char actor[ACTOR_MAX + 1], roles[ROLES_TEXT_MAX + 1] = "";
    struct outcome_errors errs = {0};
    const char *rest, *key, *email = NULL;
    size_t elen = 0;
    int64_t id;
    json_t *o, *v, *disabled, *roles_v;

    if (!api_admin_authorize(req, r, actor))
        return;
    if (!path_id(req->path, &id, &rest) || rest[0] != '\0') {
        errors_problem(r, OUTCOME_NOT_FOUND, NULL);
        return;
    }
    if ((o = api_parse_object(req, r)) == NULL)
        return;
    json_object_foreach(o, key, v)
    {
        if (strcmp(key, "disabled") != 0 && strcmp(key, "roles") != 0 && strcmp(key, "email") != 0)
            outcome_error_add(&errs, "body", "unknown_field", "unknown field %.40s", key);
    }
    disabled = json_object_get(o, "disabled");
    if (disabled != NULL && !json_is_boolean(disabled))
        outcome_error_add(&errs, "disabled", "wrong_type", "must be true or false");
    if ((roles_v = json_object_get(o, "roles")) != NULL)
        roles_field(roles_v, roles, &errs);
    if ((v = json_object_get(o, "email")) != NULL) {
        if (!json_is_string(v))
            outcome_error_add(&errs, "email", "wrong_type", "must be a string");
        else if (emails_check((email = json_string_value(v)), (elen = json_string_length(v))) !=
                 EMAILS_OK)
            api_email_error(&errs, "email", emails_check(email, elen));
    }
    if (errs.count > 0) {
        json_decref(o);
        reply_invalid(r, &errs);
        return;
    }
    struct store_admin_user u;
    enum outcome st = outcome_from_store(store_admin_user(req->app->users.store, NULL, id, &u),
                                         OUTCOME_NOT_FOUND);
    if (st == OUTCOME_OK && roles_v != NULL) {
        st = admin_set_roles(req->app->users.store, id, roles);
        json_t *d = json_pack("{s:s, s:s}", "from", u.roles, "to", roles);
        if (st == OUTCOME_OK)
            audit_admin(req, "admin.roles_changed", id, actor, d);
        json_decref(d);
    }
    if (st == OUTCOME_OK && email != NULL &&
        (st = set_email(req, id, email, elen)) == OUTCOME_CONFLICT) {
        json_decref(o);
        email_taken(r);
        return;
    }
    if (st == OUTCOME_OK && disabled != NULL)
        st = admin_set_disabled(&req->app->sessions, id, json_is_true(disabled));
    if (st == OUTCOME_OK) {
        json_t *d = json_object();
        if (disabled != NULL)
            json_object_set(d, "disabled", disabled);
        if (email != NULL)
            json_object_set_new(d, "email", json_true());
        if (roles_v != NULL)
            json_object_set_new(d, "roles", json_string(roles));
        audit_admin(req, "admin.user_updated", id, actor, d);
        json_decref(d);
    }
    json_decref(o);
    if (st != OUTCOME_OK)
        errors_problem(r, st, NULL);
    else
        reply_user(req, r, 200, id);
}

void api_admin_user_delete(const struct api_request *req, struct reply *r)
{
    char actor[ACTOR_MAX + 1];
    const char *rest, *event = NULL;
    int64_t id;
    enum outcome st = OUTCOME_NOT_FOUND;

    if (!api_admin_authorize(req, r, actor))
        return;
    if (path_id(req->path, &id, &rest)) {
        /* Each revokes sessions through sessions_revoke_with, whose
         * transaction writes the event held here. */
        if (rest[0] == '\0') {
            audit_hold_admin(req, (event = "admin.user_deleted"), id, actor, NULL);
            st = admin_delete_user(&req->app->sessions, id);
        } else if (strcmp(rest, "/sessions") == 0) {
            audit_hold_admin(req, (event = "admin.sessions_revoked"), id, actor, NULL);
            st = admin_revoke_sessions(&req->app->sessions, id);
        } else if (strcmp(rest, "/mfa") == 0) {
            /* The sessions go too: some were opened with a factor now gone. */
            audit_hold_admin(req, (event = "admin.mfa_reset"), id, actor, NULL);
            st = admin_mfa_reset(&req->app->sessions, id);
        }
    }
    if (st == OUTCOME_OK)
        audit_admin(req, event, id, actor, NULL);
    else
        audit_release();
    if (st != OUTCOME_OK)
        errors_problem(r, st, NULL);
    else
        r->status = 204;
}

void api_admin_user_post(const struct api_request *req, struct reply *r)
{
    char actor[ACTOR_MAX + 1];
    const char *rest;
    int64_t id, mailed = 0;
    struct store_admin_user u;
    enum outcome st = OUTCOME_NOT_FOUND;

    if (!api_admin_authorize(req, r, actor))
        return;
    if (path_id(req->path, &id, &rest) && strcmp(rest, "/password-reset") == 0) {
        st = outcome_from_store(store_admin_user(req->app->users.store, NULL, id, &u),
                                OUTCOME_NOT_FOUND);
        /* Only to a confirmed address: an admin's reset must not mail a
         * link to an address nobody has shown to be the user's. */
        if (st == OUTCOME_OK && req->app->emails.mailer == NULL)
            st = OUTCOME_MAIL_OFF;
        if (st == OUTCOME_OK && (u.email[0] == '\0' || !u.email_verified))
            st = OUTCOME_NO_EMAIL;
        if (st == OUTCOME_OK)
            st = emails_reset_link(&req->app->emails, u.username, strlen(u.username), &mailed);
        if (st == OUTCOME_BAD_CREDENTIALS)
            st = OUTCOME_NOT_FOUND; /* deleted meanwhile */
    }
    if (st == OUTCOME_OK)
        audit_admin(req, "admin.password_reset", id, actor, NULL);
    if (st != OUTCOME_OK)
        errors_problem(r, st, NULL);
    else
        r->status = 202;
}
