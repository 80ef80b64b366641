#include "api/audit.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/passkeys.h"

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

void audit_register(const struct api_request *req, enum outcome o, const char *username,
                    int64_t user_id)
{
    count(registrations, o);
    if (o == OUTCOME_OK) {
        struct log_field f[] = {LOG_NUM("user_id", user_id), LOG_STR("username", username)};
        emit(req, LOG_INFO, "user.registered", f, 2);
    }
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
    } else if (o == OUTCOME_MFA_REQUIRED) {
        struct log_field f[] = {LOG_NUM("user_id", user_id), LOG_STR("username", username),
                                LOG_STR("via", via)};
        emit(req, LOG_INFO, "login.mfa_required", f, 3);
    } else if (o == OUTCOME_BAD_CREDENTIALS || o == OUTCOME_THROTTLED) {
        struct log_field f[] = {LOG_STR("username", username), LOG_STR("via", via)};
        emit(req, LOG_WARN, o == OUTCOME_THROTTLED ? "login.throttled" : "login.failed", f, 2);
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
}

void audit_admin(const struct api_request *req, const char *type, int64_t user_id,
                 const char *actor, const json_t *details)
{
    char *text = details != NULL ? json_dumps(details, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    struct log_field f[] = {LOG_STR("actor", actor), LOG_STR("details", text),
                            LOG_NUM("user_id", user_id)};

    emit(req, LOG_INFO, type, f, user_id > 0 ? 3 : 2);
    free(text);
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
}

void audit_refresh(const struct api_request *req, const char *grant, enum outcome o)
{
    count(refreshes, o);
    if (grant != NULL)
        count(token_grants[1], o);
    if (o == OUTCOME_TOKEN_REUSED) {
        struct log_field f[] = {LOG_STR("via", grant != NULL ? "token" : "refresh")};
        emit(req, LOG_WARN, "refresh.reuse_detected", f, 1);
    }
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

void audit_user(const struct api_request *req, const char *event, enum outcome o, const char *scope)
{
    if (o != OUTCOME_OK)
        return;
    struct log_field f[] = {LOG_NUM("user_id", req->token.claims.user_id),
                            LOG_STR("username", req->token.claims.username),
                            LOG_STR("scope", scope)};
    emit(req, LOG_INFO, event, f, 3);
}

void audit_mail(const struct api_request *req, const char *event, enum outcome o)
{
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
    } else if (o == OUTCOME_INVALID && why != NULL) {
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
    } else if (o == OUTCOME_PASSKEY_REFUSED || o == OUTCOME_THROTTLED) {
        struct log_field f[] = {LOG_STR("via", "passkey"), LOG_STR("reason", reason)};
        emit(req, LOG_WARN, o == OUTCOME_THROTTLED ? "login.throttled" : "login.failed", f, 2);
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
