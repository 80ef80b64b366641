#ifndef GH_CORE_OUTCOME_H
#define GH_CORE_OUTCOME_H

/* How a core operation ended. Every core function that a client's request
 * can make fail returns one of these, and src/api/errors.c maps each to
 * exactly one HTTP status; a handler never picks a status of its own. */
enum outcome {
    OUTCOME_OK = 0,
    OUTCOME_INVALID,         /* a rule is broken: see outcome_detail.errors (422) */
    OUTCOME_CONFLICT,        /* the username is taken (409) */
    OUTCOME_BAD_CREDENTIALS, /* unknown user or wrong password (401) */
    OUTCOME_UNAUTHENTICATED, /* a route needs a token and none was sent (401) */
    OUTCOME_TOKEN_INVALID,   /* a token is malformed, badly signed, revoked, or
                                its user is gone (401) */
    OUTCOME_TOKEN_REUSED,    /* a rotated refresh token came back: its session is revoked (401) */
    OUTCOME_FORBIDDEN,       /* a cookie-authenticated change from a foreign Origin (403) */
    OUTCOME_THROTTLED,       /* a throttling limit, or the client's share of the hashing
                                queue: see outcome_detail.retry_after (429) */
    OUTCOME_OVERLOADED,      /* the hashing queue is full: retry soon (503) */
    OUTCOME_UNAVAILABLE,     /* the database cannot be reached: retry later (503) */
    OUTCOME_TOKEN_EXPIRED,   /* a well-signed access token past its exp (401, detail says so) */
    OUTCOME_CROSS_SITE,      /* a sign-in that would set cookies from a foreign Origin (403) */
    OUTCOME_STOPPING,        /* the server is shutting down: retry soon, here or elsewhere (503) */
    OUTCOME_BAD_TOKEN,       /* a mailed token is malformed, unknown, used or expired (400) */
    OUTCOME_NO_EMAIL,        /* the account has no address to mail (409) */
    OUTCOME_MAIL_OFF,        /* mail is not configured (SMTP_URL unset) (501) */
    OUTCOME_MFA_REQUIRED,    /* the account has a second factor: its step comes next, or a
                              * change needs its code (403 mfa_required) */
    OUTCOME_BAD_CODE,        /* a wrong, replayed or used one-time or recovery code, or an
                              * mfa_token that is unknown, used, expired or spent (401) */
    OUTCOME_PASSKEY_REFUSED, /* a passkey sign-in that does not verify: signature, challenge,
                              * origin, flow_id, unknown or cloned credential (401) */
    OUTCOME_NOT_FOUND,       /* the caller has no such item (a passkey id) (404) */
    OUTCOME_PASSKEYS_OFF,    /* passkeys are off: PUBLIC_URL is unset, or its host is an IP
                              * address and WEBAUTHN_RP_ID is unset (501) */
    OUTCOME_MFA_OFF,         /* TOTP needs a key to seal secrets: MFA_ENCRYPTION_KEY or
                              * SECRET_KEY (501) */
    OUTCOME_BAD_GRANT,       /* an authorization code or refresh token of OIDC that does not
                              * work: unknown, used, expired, another client's, a redirect_uri
                              * or PKCE verifier that does not match (400 invalid_grant) */
    OUTCOME_BAD_CLIENT,      /* client authentication failed: unknown client, wrong or missing
                              * secret (401 invalid_client) */
    OUTCOME_NOT_ADMIN,       /* a valid token or API key without the role admin, or an admin's
                              * token without the second factor the admin has (403) */
    OUTCOME_ERROR,           /* anything else; logged where it happened (500) */
    /* New outcomes go above ERROR: OUTCOME_COUNT sizes the error map. */
};

#define OUTCOME_COUNT (OUTCOME_ERROR + 1)

/* One broken rule of one field, as a 422 lists it. */
struct outcome_error {
    const char *field; /* "username", "password", ...: a static string */
    const char *code;  /* "too_short", ...: a static string */
    char message[96];
};

#define OUTCOME_MAX_ERRORS 2

struct outcome_errors {
    int count;
    struct outcome_error e[OUTCOME_MAX_ERRORS];
};

/* What travels with an outcome besides its code: the broken rules of
 * OUTCOME_INVALID, the wait of OUTCOME_THROTTLED or OUTCOME_OVERLOADED.
 * Zero-initialise it; a core function fills only what its outcome needs. */
struct outcome_detail {
    struct outcome_errors errors;
    unsigned retry_after; /* seconds; 0 lets the error map choose */
    /* Why a sign-in was refused when the audit trail says more than the
     * client is told ("disabled"); a static string, NULL otherwise. */
    const char *reason;
};

/* Adds an error (ignored past OUTCOME_MAX_ERRORS). message is a format. */
void outcome_error_add(struct outcome_errors *errs, const char *field, const char *code,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The enumerator's name without its prefix, e.g. "token_invalid", for logs
 * and test messages; "unknown" for a value outside the enum. */
const char *outcome_name(enum outcome o);

#endif
