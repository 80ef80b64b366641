#ifndef GH_API_AUDIT_H
#define GH_API_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "api/api.h"
#include "core/outcome.h"

/* The audit trail and the outcome counters of GET /metrics, fed from the
 * handlers where an outcome is known: each call counts it and, for the
 * outcomes that are events (a login that failed, a session revoked...),
 * writes one log line naming the event, the request id, the client address
 * and the user where known. Never a password, token or hash. */

/* POST /register: the outcome; username as sent (NULL when unreadable). */
void audit_register(const struct api_request *req, enum outcome o, const char *username,
                    int64_t user_id);

/* A password login (POST /login, or /token's password grant when grant is
 * "password"; NULL for /login): "login.succeeded", "login.failed",
 * "login.throttled", or "login.mfa_required" (a right password; the second
 * factor comes next). */
void audit_login(const struct api_request *req, const char *grant, enum outcome o,
                 const char *username, int64_t user_id);

/* A password login refused for reason (a static string: "disabled") although
 * the password was right: counted and written as audit_login's
 * "login.failed", with the user and the reason. The client was answered as
 * for a wrong password. */
void audit_login_refused(const struct api_request *req, const char *grant, const char *username,
                         int64_t user_id, const char *reason);

/* An administrator's action (API.md, "Administration, roles and access
 * rules"): type "admin.<verb>", the user acted on (0: none), the actor
 * ("user:<id>", "apikey:<id>"), and details, a JSON object of the event's
 * other fields (borrowed; NULL: none). Never a password, key or token. */
void audit_admin(const struct api_request *req, const char *type, int64_t user_id,
                 const char *actor, const json_t *details);

/* The second factor of a sign-in (POST /login/mfa), as
 * gatehouse_mfa_attempts_total labels it. */
enum audit_mfa_method {
    AUDIT_MFA_TOTP,
    AUDIT_MFA_RECOVERY_CODE,
    AUDIT_MFA_WEBAUTHN,
    AUDIT_MFA_METHODS
};
enum audit_mfa_result {
    AUDIT_MFA_OK,        /* right: the session is open */
    AUDIT_MFA_WRONG,     /* a wrong code, or a passkey that did not verify */
    AUDIT_MFA_EXPIRED,   /* the mfa_token is unknown, used, expired or spent, or the
                            password changed since */
    AUDIT_MFA_THROTTLED, /* the account or the address is locked */
    AUDIT_MFA_ERROR,     /* the database, or anything else */
    AUDIT_MFA_RESULTS
};

/* Counts a second factor by method and result and writes "login.mfa"
 * (method, outcome, the user when known). Never the code. */
void audit_login_mfa(const struct api_request *req, enum audit_mfa_method method,
                     enum audit_mfa_result result, int64_t user_id);

/* A refresh (POST /refresh, or /token's refresh_token grant when grant is
 * given): counted; "refresh.reuse_detected" when a rotated token came back. */
void audit_refresh(const struct api_request *req, const char *grant, enum outcome o);

/* The grants of POST /token that a registered client uses (the
 * refresh_token grant of a client counts with audit_refresh). */
enum audit_grant {
    AUDIT_GRANT_CODE,               /* authorization_code */
    AUDIT_GRANT_CLIENT_CREDENTIALS, /* client_credentials */
    AUDIT_GRANTS
};

/* A client's grant: counted by grant and outcome
 * (gatehouse_token_requests_total), and written as "oidc.token" with the
 * grant and the client's id once it authenticated (client_id NULL before:
 * a name nobody proved is not logged); at warn when it failed. Never a
 * secret, a code or a token. */
void audit_client_grant(const struct api_request *req, enum audit_grant g, const char *client_id,
                        enum outcome o);

/* An event of the user the request's token names, written when o is
 * OUTCOME_OK: "logout" (with scope), "password.changed", "account.deleted".
 * scope may be NULL. */
void audit_user(const struct api_request *req, const char *event, enum outcome o,
                const char *scope);

/* An event of the mailed-link endpoints, written when o is OUTCOME_OK
 * ("password.reset_requested", "password.reset", "email.confirmed"), and
 * "email.bad_token" when a token was refused; never the token. */
void audit_mail(const struct api_request *req, const char *event, enum outcome o);

/* POST /register's address: "email.taken" when another account has it
 * (the client is told nothing; the owner gets a notice). */
void audit_email_taken(const struct api_request *req, int64_t user_id);

/* A passkey of the token's user: event ("passkey.added", "passkey.removed")
 * written when o is OUTCOME_OK; a registration refused (OUTCOME_INVALID) as
 * "passkey.refused" with why, the code of the rule it broke. */
void audit_passkey(const struct api_request *req, const char *event, enum outcome o,
                   const char *why);

/* A passkey sign-in (POST /login/passkey), counted by outcome:
 * "login.succeeded" (via passkey), "login.failed" with reason (never a
 * secret), "login.throttled"; and "passkey.cloned" when reason is
 * PASSKEYS_REASON_CLONED. */
void audit_passkey_login(const struct api_request *req, enum outcome o, const char *username,
                         int64_t user_id, const char *reason);

/* The counters above in the Prometheus text format (util/metrics.h). */
struct metrics_buf;
void audit_metrics_write(struct metrics_buf *b);

/* A step-up's code (api_step_up), when one was refused:
 * "mfa.step_up_failed" for a wrong one, "mfa.step_up_throttled" while
 * locked; never the code. */
void audit_step_up(const struct api_request *req, enum outcome o);

/* ---- the trail in the database ----
 * Each function above that writes an event the trail keeps (API.md's list:
 * user.registered, login.succeeded, login.failed, login.throttled,
 * refresh.reuse_detected, logout, password.changed, password.reset,
 * email.confirmed, account.deleted, mfa.enabled, mfa.disabled,
 * passkey.added, passkey.removed) also records it as a row of
 * audit_events. A handler that calls audit_hold_* right before the core
 * operation has it written inside that operation's transaction (core calls
 * store_audit_held_add before its commit), so the row commits or rolls back
 * with the change; without a hold, or for an operation with no transaction,
 * the row is written alone once the outcome is known. The matching audit_*
 * call after the operation ends the hold, whatever the outcome: nothing
 * may run between the two that returns without it. */
void audit_hold_register(const struct api_request *req, const char *username);
void audit_hold_login(const struct api_request *req, const char *grant, const char *username);
void audit_hold_login_mfa(const struct api_request *req, enum audit_mfa_method method);
void audit_hold_passkey_login(const struct api_request *req, const char *username);
void audit_hold_refresh(const struct api_request *req, const char *grant);
void audit_hold_user(const struct api_request *req, const char *event, const char *scope);
void audit_hold_mail(const struct api_request *req, const char *event);
/* audit_admin's event held for the transaction of the admin action (those
 * that revoke sessions run it through sessions_revoke_with, which writes
 * it); audit_admin after the action ends the hold. */
void audit_hold_admin(const struct api_request *req, const char *type, int64_t user_id,
                      const char *actor, const json_t *details);

/* Ends a hold without recording (the operation failed, and no audit_*
 * call follows it). */
void audit_release(void);

/* A login or registration refused on the HTTP thread before any work (the
 * address's lock, a full hashing queue): counted and logged
 * ("login.throttled"), not written to the database, which that thread never
 * waits for and which a flood of refusals must not cost. */
void audit_refused_early(const struct api_request *req, bool login);

#endif
