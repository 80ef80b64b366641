#include "api/audit.h"

#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/passkeys.h"
#include "store/store.h"
#include "util/timefmt.h"

#include "util/log.h"
#include "util/metrics.h"
#include "util/netaddr.h"

/* Outcome counters, indexed by enum outcome. */
static atomic_uint_fast64_t registrations[OUTCOME_COUNT];
static atomic_uint_fast64_t logins[OUTCOME_COUNT];
static atomic_uint_fast64_t refreshes[OUTCOME_COUNT];
static atomic_uint_fast64_t passkey_logins[OUTCOME_COUNT];
/* POST /token by grant: 0 password, 1 refresh_token, then the client
 * grants by enum audit_grant. */
static atomic_uint_fast64_t token_grants[2 + AUDIT_GRANTS][OUTCOME_COUNT];
static const char *const client_grant_names[AUDIT_GRANTS] = {"authorization_code",
                                                             "client_credentials"};
/* POST /login/mfa by method and result. */
static atomic_uint_fast64_t mfa_attempts[AUDIT_MFA_METHODS][AUDIT_MFA_RESULTS];
static const char *const mfa_method_names[AUDIT_MFA_METHODS] = {"totp", "recovery_code",
                                                                "webauthn"};
static const char *const mfa_result_names[AUDIT_MFA_RESULTS] = {"ok", "wrong", "expired",
                                                                "throttled", "error"};

static void count(atomic_uint_fast64_t *counters, enum outcome o)
{
    if ((unsigned)o < OUTCOME_COUNT)
        atomic_fetch_add_explicit(&counters[o], 1, memory_order_relaxed);
}

/* The fields every audit line carries, then up to four more. */
static void emit(const struct api_request *req, enum log_level level, const char *event,
                 const struct log_field *more, size_t nmore)
{
    struct log_field f[8];
    char client[NETADDR_MAX];
    size_t n = 0;

    if (!log_enabled(level))
        return;
    f[n++] = LOG_STR("request_id", req->request_id);
    f[n++] = LOG_STR(
        "client", req->client != NULL ? netaddr_format(req->client, client, sizeof client) : NULL);
    for (size_t i = 0; i < nmore && n < sizeof f / sizeof f[0]; i++)
        f[n++] = more[i];
    log_event(level, event, f, n);
}

/* ---- the trail in the database (audit_events) ---- */

/* An event's row with room for its texts. */
struct row {
    struct store_audit_event e;
    char type[STORE_AUDIT_TYPE_MAX + 1];
    char actor[STORE_AUDIT_ACTOR_MAX + 1];
    char client[NETADDR_MAX];
    char details[STORE_AUDIT_DETAILS_MAX + 1];
};

/* The event the request on this worker thread holds for the transaction
 * that records it (store_audit_hold): one request at a time per thread. */
static _Thread_local struct row held;

/* Fills r; details (may be NULL) is consumed. */
static void row_fill(struct row *r, const struct api_request *req, const char *type,
                     int64_t user_id, const char *actor, json_t *details)
{
    char *text = details != NULL ? json_dumps(details, JSON_COMPACT) : NULL;

    json_decref(details);
    memset(&r->e, 0, sizeof r->e);
    snprintf(r->type, sizeof r->type, "%s", type);
    snprintf(r->actor, sizeof r->actor, "%s", actor != NULL ? actor : "");
    /* Details are a few short fields; one that would not fit is dropped
     * whole rather than stored cut. */
    if (text == NULL || strlen(text) >= sizeof r->details)
        snprintf(r->details, sizeof r->details, "{}");
    else
        memcpy(r->details, text, strlen(text) + 1);
    free(text);
    r->e.type = r->type;
    r->e.at = timefmt_now();
    r->e.user_id = user_id;
    r->e.actor = actor != NULL ? r->actor : NULL;
    r->e.client =
        req->client != NULL ? netaddr_format(req->client, r->client, sizeof r->client) : NULL;
    r->e.request_id = req->request_id;
    r->e.details = r->details;
}

static void hold(const struct api_request *req, const char *type, json_t *details)
{
    row_fill(&held, req, type, 0, NULL, details);
    store_audit_hold(&held.e);
}

/* Records event type of req: done already when the transaction of what it
 * records wrote the held event; otherwise written alone now. A failure is
 * logged, never the request's: the log line has the event anyway. */
static void record(const struct api_request *req, const char *type, int64_t user_id,
                   const char *actor, json_t *details)
{
    if (store_audit_release() && strcmp(held.type, type) == 0) {
        json_decref(details);
        return;
    }
    struct row r;
    row_fill(&r, req, type, user_id, actor, details);
    enum store_status st = store_audit_add(req->app->users.store, NULL, &r.e);
    if (st != STORE_OK)
        log_error("audit: event %s was not recorded in the database (status %d)", type, (int)st);
}

/* The operation failed or recorded nothing: what it held goes. */
static void drop(void)
{
    store_audit_release();
}

void audit_release(void)
{
    drop();
}

/* {"username": u, "via": via}, without the members that are NULL. */
static json_t *name_via(const char *username, const char *via)
{
    json_t *o = json_object();

    if (o != NULL && username != NULL)
        json_object_set_new(o, "username", json_string(username));
    if (o != NULL && via != NULL)
        json_object_set_new(o, "via", json_string(via));
    return o;
}

void audit_register(const struct api_request *req, enum outcome o, const char *username,
                    int64_t user_id)
{
    count(registrations, o);
    if (o == OUTCOME_OK) {
        struct log_field f[] = {LOG_NUM("user_id", user_id), LOG_STR("username", username)};
        emit(req, LOG_INFO, "user.registered", f, 2);
        record(req, "user.registered", user_id, NULL, name_via(username, NULL));
    } else {
        drop();
    }
}

void audit_hold_register(const struct api_request *req, const char *username)
{
    hold(req, "user.registered", name_via(username, NULL));
}

void audit_login(const struct api_request *req, const char *grant, enum outcome o,
                 const char *username, int64_t user_id)
{
    count(logins, o);
    if (grant != NULL)
        count(token_grants[0], o);
    const char *via = grant != NULL ? "token" : "login";
    if (o == OUTCOME_OK) {
        struct log_field f[] = {LOG_NUM("user_id", user_id), LOG_STR("username", username),
                                LOG_STR("via", via)};
        emit(req, LOG_INFO, "login.succeeded", f, 3);
        record(req, "login.succeeded", user_id, NULL, name_via(username, via));
        return;
    }
    drop();
    if (o == OUTCOME_MFA_REQUIRED) {
        struct log_field f[] = {LOG_NUM("user_id", user_id), LOG_STR("username", username),
                                LOG_STR("via", via)};
        emit(req, LOG_INFO, "login.mfa_required", f, 3);
    } else if (o == OUTCOME_BAD_CREDENTIALS || o == OUTCOME_THROTTLED) {
        const char *event = o == OUTCOME_THROTTLED ? "login.throttled" : "login.failed";
        struct log_field f[] = {LOG_STR("username", username), LOG_STR("via", via)};
        emit(req, LOG_WARN, event, f, 2);
        /* On a worker, after the hash or the account's lock: a row costs
         * no more than the attempt did. (A client refused on the HTTP
         * thread before any work is only logged: audit_refused_early.) */
        record(req, event, 0, NULL, name_via(username, via));
    }
}

void audit_hold_login(const struct api_request *req, const char *grant, const char *username)
{
    hold(req, "login.succeeded", name_via(username, grant != NULL ? "token" : "login"));
}

void audit_hold_passkey_login(const struct api_request *req, const char *username)
{
    hold(req, "login.succeeded", name_via(username, "passkey"));
}

void audit_refused_early(const struct api_request *req, bool login)
{
    if (login) {
        count(logins, OUTCOME_THROTTLED);
        struct log_field f[] = {LOG_STR("username", NULL), LOG_STR("via", "login")};
        emit(req, LOG_WARN, "login.throttled", f, 2);
    } else {
        count(registrations, OUTCOME_THROTTLED);
    }
}

void audit_login_refused(const struct api_request *req, const char *grant, const char *username,
                         int64_t user_id, const char *reason)
{
    count(logins, OUTCOME_BAD_CREDENTIALS);
    if (grant != NULL)
        count(token_grants[0], OUTCOME_BAD_CREDENTIALS);
    struct log_field f[] = {LOG_STR("username", username),
                            LOG_STR("via", grant != NULL ? "token" : "login"),
                            LOG_NUM("user_id", user_id), LOG_STR("reason", reason)};
    emit(req, LOG_WARN, "login.failed", f, 4);
    json_t *d = name_via(username, grant != NULL ? "token" : "login");
    json_object_set_new(d, "reason", json_string(reason));
    record(req, "login.failed", user_id, NULL, d);
}

void audit_admin(const struct api_request *req, const char *type, int64_t user_id,
                 const char *actor, const json_t *details)
{
    char *text = details != NULL ? json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    struct log_field f[] = {LOG_STR("actor", actor), LOG_STR("details", text),
                            LOG_NUM("user_id", user_id)};

    emit(req, LOG_INFO, type, f, user_id > 0 ? 3 : 2);
    free(text);
    record(req, type, user_id, actor, details != NULL ? json_deep_copy(details) : NULL);
}

void audit_hold_admin(const struct api_request *req, const char *type, int64_t user_id,
                      const char *actor, const json_t *details)
{
    row_fill(&held, req, type, user_id, actor, details != NULL ? json_deep_copy(details) : NULL);
    store_audit_hold(&held.e);
}

void audit_login_mfa(const struct api_request *req, enum audit_mfa_method method,
                     enum audit_mfa_result result, int64_t user_id)
{
    if ((unsigned)method >= AUDIT_MFA_METHODS || (unsigned)result >= AUDIT_MFA_RESULTS)
        return;
    atomic_fetch_add_explicit(&mfa_attempts[method][result], 1, memory_order_relaxed);
    struct log_field f[] = {LOG_STR("method", mfa_method_names[method]),
                            LOG_STR("outcome", mfa_result_names[result]),
                            LOG_NUM("user_id", user_id)};
    emit(req, result == AUDIT_MFA_OK ? LOG_INFO : LOG_WARN, "login.mfa", f, user_id > 0 ? 3 : 2);
    /* In the trail, a sign-in that ends with its second factor is a
     * login that succeeded (via mfa), a wrong factor one that failed. */
    if (result == AUDIT_MFA_OK || result == AUDIT_MFA_WRONG || result == AUDIT_MFA_THROTTLED) {
        json_t *d = name_via(NULL, "mfa");
        json_object_set_new(d, "method", json_string(mfa_method_names[method]));
        record(req,
               result == AUDIT_MFA_OK      ? "login.succeeded"
               : result == AUDIT_MFA_WRONG ? "login.failed"
                                           : "login.throttled",
               user_id, NULL, d);
    } else {
        drop();
    }
}

void audit_hold_login_mfa(const struct api_request *req, enum audit_mfa_method method)
{
    json_t *d = name_via(NULL, "mfa");

    if ((unsigned)method < AUDIT_MFA_METHODS)
        json_object_set_new(d, "method", json_string(mfa_method_names[method]));
    hold(req, "login.succeeded", d);
}

void audit_refresh(const struct api_request *req, const char *grant, enum outcome o)
{
    count(refreshes, o);
    if (grant != NULL)
        count(token_grants[1], o);
    if (o == OUTCOME_TOKEN_REUSED) {
        const char *via = grant != NULL ? "token" : "refresh";
        struct log_field f[] = {LOG_STR("via", via)};
        emit(req, LOG_WARN, "refresh.reuse_detected", f, 1);
        record(req, "refresh.reuse_detected", 0, NULL, name_via(NULL, via));
    } else {
        drop();
    }
}

void audit_hold_refresh(const struct api_request *req, const char *grant)
{
    /* Every refresh holds it and almost none writes it: no JSON built. */
    row_fill(&held, req, "refresh.reuse_detected", 0, NULL, NULL);
    snprintf(held.details, sizeof held.details, "{\"via\":\"%s\"}",
             grant != NULL ? "token" : "refresh");
    store_audit_hold(&held.e);
}

void audit_client_grant(const struct api_request *req, enum audit_grant g, const char *client_id,
                        enum outcome o)
{
    if ((unsigned)g >= AUDIT_GRANTS)
        return;
    count(token_grants[2 + g], o);
    struct log_field f[] = {LOG_STR("grant", client_grant_names[g]),
                            LOG_STR("outcome", outcome_name(o)), LOG_STR("client_id", client_id)};
    emit(req, o == OUTCOME_OK ? LOG_INFO : LOG_WARN, "oidc.token", f, client_id != NULL ? 3 : 2);
}

/* The trail's type of a user's event, and its details (username, scope,
 * method); NULL for an event the trail does not keep (API.md's list). */
static const char *user_event(const struct api_request *req, const char *event, const char *scope,
                              json_t **details)
{
    static const char *const kept[][3] = {
        {"logout", "logout", NULL},
        {"password.changed", "password.changed", NULL},
        {"account.deleted", "account.deleted", NULL},
        {"mfa.totp_enabled", "mfa.enabled", "totp"},
        {"mfa.totp_disabled", "mfa.disabled", "totp"},
        {"passkey.added", "passkey.added", "webauthn"},
        {"passkey.removed", "passkey.removed", "webauthn"},
    };
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
        if (strcmp(kept[i][0], event) == 0) {
            json_t *d = name_via(req->token.claims.username, NULL);
            if (scope != NULL)
                json_object_set_new(d, "scope", json_string(scope));
            if (kept[i][2] != NULL)
                json_object_set_new(d, "method", json_string(kept[i][2]));
            *details = d;
            return kept[i][1];
        }
    *details = NULL;
    return NULL;
}

void audit_user(const struct api_request *req, const char *event, enum outcome o, const char *scope)
{
    json_t *d = NULL;
    const char *type = o == OUTCOME_OK ? user_event(req, event, scope, &d) : NULL;

    if (type != NULL)
        record(req, type, req->token.claims.user_id, NULL, d);
    else
        drop();
    if (o != OUTCOME_OK)
        return;
    struct log_field f[] = {LOG_NUM("user_id", req->token.claims.user_id),
                            LOG_STR("username", req->token.claims.username),
                            LOG_STR("scope", scope)};
    emit(req, LOG_INFO, event, f, 3);
}

void audit_hold_user(const struct api_request *req, const char *event, const char *scope)
{
    json_t *d = NULL;
    const char *type = user_event(req, event, scope, &d);

    if (type != NULL)
        hold(req, type, d);
}

/* The mailed-link events the trail keeps. */
static bool mail_kept(const char *event)
{
    return strcmp(event, "password.reset") == 0 || strcmp(event, "email.confirmed") == 0;
}

void audit_hold_mail(const struct api_request *req, const char *event)
{
    if (mail_kept(event))
        hold(req, event, NULL);
}

void audit_mail(const struct api_request *req, const char *event, enum outcome o)
{
    if (o == OUTCOME_OK && mail_kept(event))
        record(req, event, 0, NULL, NULL);
    else
        drop();
    if (o == OUTCOME_OK) {
        emit(req, LOG_INFO, event, NULL, 0);
    } else if (o == OUTCOME_BAD_TOKEN) {
        struct log_field f[] = {LOG_STR("via", event)};
        emit(req, LOG_WARN, "email.bad_token", f, 1);
    }
}

void audit_email_taken(const struct api_request *req, int64_t user_id)
{
    struct log_field f[] = {LOG_NUM("user_id", user_id)};

    emit(req, LOG_INFO, "email.taken", f, 1);
}

void audit_passkey(const struct api_request *req, const char *event, enum outcome o,
                   const char *why)
{
    if (o == OUTCOME_OK) {
        audit_user(req, event, o, NULL);
        return;
    }
    drop();
    if (o == OUTCOME_INVALID && why != NULL) {
        struct log_field f[] = {LOG_NUM("user_id", req->token.claims.user_id),
                                LOG_STR("reason", why)};
        emit(req, LOG_INFO, "passkey.refused", f, 2);
    }
}

void audit_passkey_login(const struct api_request *req, enum outcome o, const char *username,
                         int64_t user_id, const char *reason)
{
    count(passkey_logins, o);
    if (o == OUTCOME_OK) {
        struct log_field f[] = {LOG_NUM("user_id", user_id), LOG_STR("username", username),
                                LOG_STR("via", "passkey")};
        emit(req, LOG_INFO, "login.succeeded", f, 3);
        record(req, "login.succeeded", user_id, NULL, name_via(username, "passkey"));
    } else if (o == OUTCOME_PASSKEY_REFUSED || o == OUTCOME_THROTTLED) {
        const char *event = o == OUTCOME_THROTTLED ? "login.throttled" : "login.failed";
        struct log_field f[] = {LOG_STR("via", "passkey"), LOG_STR("reason", reason)};
        emit(req, LOG_WARN, event, f, 2);
        json_t *d = name_via(NULL, "passkey");
        if (reason != NULL)
            json_object_set_new(d, "reason", json_string(reason));
        record(req, event, 0, NULL, d);
    } else {
        drop();
    }
    if (reason != NULL && strcmp(reason, PASSKEYS_REASON_CLONED) == 0) {
        struct log_field f[] = {LOG_STR("via", "passkey")};
        emit(req, LOG_WARN, "passkey.cloned", f, 1);
    }
}

void audit_step_up(const struct api_request *req, enum outcome o)
{
    if (o != OUTCOME_BAD_CODE && o != OUTCOME_THROTTLED)
        return;
    struct log_field f[] = {LOG_NUM("user_id", req->token.claims.user_id),
                            LOG_STR("username", req->token.claims.username)};
    emit(req, LOG_WARN, o == OUTCOME_BAD_CODE ? "mfa.step_up_failed" : "mfa.step_up_throttled", f,
         2);
}

static void write_outcomes(struct metrics_buf *b, const char *name, const char *help,
                           atomic_uint_fast64_t *counters, const char *grant)
{
    if (help != NULL)
        metrics_family(b, name, "counter", help);
    for (int o = 0; o < OUTCOME_COUNT; o++) {
        const char *labels[] = {"outcome", outcome_name((enum outcome)o), "grant", grant, NULL};
        if (grant == NULL)
            labels[2] = NULL;
        metrics_sample(b, name, labels,
                       (double)atomic_load_explicit(&counters[o], memory_order_relaxed));
    }
}

void audit_metrics_write(struct metrics_buf *b)
{
    write_outcomes(b, "gatehouse_registrations_total", "Registrations (POST /register) by outcome.",
                   registrations, NULL);
    write_outcomes(b, "gatehouse_logins_total",
                   "Password logins (POST /login and the password grant of POST /token) by "
                   "outcome; throttled counts the logins refused by throttling. Requests "
                   "refused by a full queue never start: see gatehouse_queue_rejected_total.",
                   logins, NULL);
    write_outcomes(b, "gatehouse_refreshes_total",
                   "Refreshes (POST /refresh and the refresh_token grant of POST /token) by "
                   "outcome; token_reused counts the reuses detected.",
                   refreshes, NULL);
    write_outcomes(b, "gatehouse_passkey_logins_total",
                   "Passkey sign-ins (POST /login/passkey) by outcome; passkey_refused counts "
                   "the assertions refused, throttled those refused by throttling.",
                   passkey_logins, NULL);
    write_outcomes(b, "gatehouse_token_requests_total",
                   "POST /token requests that reached a grant, by grant and outcome.",
                   token_grants[0], "password");
    write_outcomes(b, "gatehouse_token_requests_total", NULL, token_grants[1], "refresh_token");
    for (int g = 0; g < AUDIT_GRANTS; g++)
        write_outcomes(b, "gatehouse_token_requests_total", NULL, token_grants[2 + g],
                       client_grant_names[g]);
    metrics_family(b, "gatehouse_mfa_attempts_total", "counter",
                   "Second factors of sign-ins (POST /login/mfa) by method and outcome: ok, "
                   "wrong, expired (the mfa_token is unknown, used, expired or spent), "
                   "throttled, error.");
    for (int m = 0; m < AUDIT_MFA_METHODS; m++)
        for (int r = 0; r < AUDIT_MFA_RESULTS; r++) {
            const char *labels[] = {"method", mfa_method_names[m], "outcome", mfa_result_names[r],
                                    NULL};
            metrics_sample(b, "gatehouse_mfa_attempts_total", labels,
                           (double)atomic_load_explicit(&mfa_attempts[m][r], memory_order_relaxed));
        }
}
