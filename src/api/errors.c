#include "api/errors.h"

#include <jansson.h>
#include <stdio.h>

/* How each outcome is answered. The details are the bodies clients already
 * see (the 401 texts are FastAPI's), so they stay byte-for-byte. */
struct answer {
    int status;
    const char *detail;
    const char *www_authenticate; /* every 401 says how to authenticate */
    unsigned retry_after;         /* the default wait; 0: no Retry-After */
    const char *oauth_error;      /* RFC 6749 §5.2 code; NULL: not an error of the grant */
    const char *oauth_description;
};

#define INVALID_TOKEN "Bearer error=\"invalid_token\""

static const struct answer answers[OUTCOME_COUNT] = {
    [OUTCOME_OK] = {500, "internal error", NULL, 0, NULL, NULL},
    /* The detail of a 422 is its first error (reply_invalid). */
    [OUTCOME_INVALID] = {422, NULL, NULL, 0, "invalid_request", NULL},
    [OUTCOME_CONFLICT] = {409, "username: already registered", NULL, 0, NULL, NULL},
    [OUTCOME_BAD_CREDENTIALS] = {401, "Incorrect username or password", "Bearer", 0,
                                 "invalid_grant", "Incorrect username or password"},
    /* RFC 6750 §3.1: no error code when no credentials were sent. */
    [OUTCOME_UNAUTHENTICATED] = {401, "Not authenticated", "Bearer", 0, NULL, NULL},
    [OUTCOME_TOKEN_INVALID] = {401, "Could not validate credentials", INVALID_TOKEN, 0,
                               "invalid_grant", "refresh_token: invalid, expired or revoked"},
    /* §5.2 has one code for every bad refresh token; the description says
     * which, since the owner must log in again. */
    [OUTCOME_TOKEN_REUSED] = {401, "refresh token already used; its session is revoked",
                              INVALID_TOKEN, 0, "invalid_grant",
                              "refresh_token: already used; its session is revoked"},
    [OUTCOME_FORBIDDEN] = {403, "Origin not allowed for a request authenticated by a cookie", NULL,
                           0, NULL, NULL},
    [OUTCOME_THROTTLED] = {429, "too many attempts; retry later", NULL, 1, NULL, NULL},
    [OUTCOME_OVERLOADED] = {503, "the server is busy; retry later", NULL, 1, NULL, NULL},
    [OUTCOME_UNAVAILABLE] = {503, "the database is unavailable; retry later", NULL, 1, NULL, NULL},
    /* FastAPI's text, and why: the client may refresh rather than log in
     * again. The error_description is RFC 6750 §3's own example. Only a
     * well-signed token can be told expired, so this reveals nothing to a
     * forger. Refresh tokens never expire this way (their session is gone:
     * TOKEN_INVALID), so the grant's fields are TOKEN_INVALID's. */
    [OUTCOME_TOKEN_EXPIRED] = {401, "Could not validate credentials: the token has expired",
                               INVALID_TOKEN ", error_description=\"The access token expired\"", 0,
                               "invalid_grant", "refresh_token: invalid, expired or revoked"},
    /* Login CSRF: a cross-site form would sign the victim's browser in to
     * the attacker's account. Answered as a condition of the service on
     * /token too, like the 403 of the cookie rules. */
    [OUTCOME_CROSS_SITE] = {403, "Origin not allowed for a sign-in that sets cookies", NULL, 0,
                            NULL, NULL},
    /* What an instance answers between SIGTERM and its exit, so that a
     * client (or a proxy) tries again, by then on an instance that runs. */
    [OUTCOME_STOPPING] = {503, "the server is shutting down", NULL, 1, NULL, NULL},
    /* One answer for every mailed token that does not work: which of
     * unknown, used or expired it was would help nobody but a guesser. */
    [OUTCOME_BAD_TOKEN] = {400, "token: invalid, used or expired", NULL, 0, NULL, NULL},
    [OUTCOME_NO_EMAIL] = {409, "email: the account has no address", NULL, 0, NULL, NULL},
    [OUTCOME_MAIL_OFF] = {501, "mail is not configured on this server (SMTP_URL)", NULL, 0, NULL,
                          NULL},
    /* The password grant answers it with a body of its own, which carries
     * the mfa_token (api/token.c; API.md, "Second factors"). */
    [OUTCOME_MFA_REQUIRED] = {403, "a second factor is required", NULL, 0, NULL, NULL},
    /* One answer for every code that does not work: which of wrong, used or
     * replayed it was would help nobody but a guesser. */
    [OUTCOME_BAD_CODE] = {401, "code: invalid, used or expired", "Bearer", 0, NULL, NULL},
    [OUTCOME_PASSKEY_REFUSED] = {401, "passkey: not accepted", "Bearer", 0, NULL, NULL},
    [OUTCOME_NOT_FOUND] = {404, "Not Found", NULL, 0, NULL, NULL},
    [OUTCOME_PASSKEYS_OFF] = {501,
                              "passkeys are not configured on this server (they need PUBLIC_URL, "
                              "and WEBAUTHN_RP_ID when its host is an IP address)",
                              NULL, 0, NULL, NULL},
    [OUTCOME_MFA_OFF] = {501,
                         "TOTP is not available on this server: it needs MFA_ENCRYPTION_KEY "
                         "(or SECRET_KEY) to encrypt secrets",
                         NULL, 0, NULL, NULL},
    /* OAuth's own answers (RFC 6749 §5.2); the problem forms are for the
     * error map's completeness. */
    [OUTCOME_BAD_GRANT] = {400, "the grant is invalid, used or expired", NULL, 0, "invalid_grant",
                           "the grant is invalid, used or expired"},
    [OUTCOME_NOT_ADMIN] = {403,
                           "the admin role is needed, with the second factor when the admin has "
                           "one",
                           NULL, 0, NULL, NULL},
    [OUTCOME_BAD_CLIENT] = {401, "client authentication failed", "Basic realm=\"gatehouse\"", 0,
                            "invalid_client", "client authentication failed"},
    [OUTCOME_ERROR] = {500, "internal error", NULL, 0, NULL, NULL},
};

static const struct answer *answer_of(enum outcome o)
{
    return (unsigned)o < OUTCOME_COUNT ? &answers[o] : &answers[OUTCOME_ERROR];
}

int errors_status(enum outcome o)
{
    return answer_of(o)->status;
}

void errors_problem(struct reply *r, enum outcome o, const struct outcome_detail *detail)
{
    const struct answer *a = answer_of(o);

    if (o == OUTCOME_INVALID) {
        if (detail != NULL && detail->errors.count > 0) {
            reply_invalid(r, &detail->errors);
            return;
        }
        /* A 422 without a rule to name would be a bug of the caller. */
        a = answer_of(OUTCOME_ERROR);
    }
    reply_problem(r, a->status, a->detail);
    if (a->www_authenticate != NULL)
        reply_header(r, "WWW-Authenticate", a->www_authenticate);
    if (a->retry_after > 0)
        r->retry_after =
            detail != NULL && detail->retry_after > 0 ? detail->retry_after : a->retry_after;
}

void errors_oauth_request(struct reply *r, const char *error, const char *description)
{
    json_t *o = json_pack("{s:s, s:s}", "error", error, "error_description", description);

    reply_json(r, 400, o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL);
    json_decref(o);
    if (r->body == NULL)
        errors_problem(r, OUTCOME_ERROR, NULL);
}

void errors_oauth(struct reply *r, enum outcome o, const struct outcome_detail *detail)
{
    const struct answer *a = answer_of(o);
    char desc[160];

    if (a->oauth_error == NULL) {
        errors_problem(r, o, detail);
        return;
    }
    if (o == OUTCOME_INVALID) {
        if (detail == NULL || detail->errors.count == 0) {
            errors_problem(r, OUTCOME_ERROR, NULL);
            return;
        }
        /* As the detail of a 422: the first broken rule. */
        snprintf(desc, sizeof desc, "%s: %s", detail->errors.e[0].field,
                 detail->errors.e[0].message);
        errors_oauth_request(r, a->oauth_error, desc);
        return;
    }
    errors_oauth_request(r, a->oauth_error, a->oauth_description);
    /* §5.2: a failed client authentication may be a 401 naming the scheme
     * a client authenticates with. */
    if (o == OUTCOME_BAD_CLIENT && r->status == 400) {
        r->status = a->status;
        reply_header(r, "WWW-Authenticate", a->www_authenticate);
    }
}
