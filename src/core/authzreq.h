#ifndef GH_CORE_AUTHZREQ_H
#define GH_CORE_AUTHZREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/oidc.h"
#include "core/outcome.h"
#include "util/form.h"

/* An authorization request of the code flow (OpenID Connect Core §3.1.2.1,
 * RFC 6749 §4.1.1, RFC 7636 §4.3): its parameters parsed and checked
 * without the client (authzreq_parse, pure: fuzz/fuzz_authz.c drives it),
 * and, while its user signs in or consents, kept in the database by an
 * opaque id (authzreq_save, authzreq_load, authzreq_use), so that any
 * instance takes the request up again. */

#define AUTHZREQ_HINT_MAX      255 /* login_hint: the longest stored username */
#define AUTHZREQ_MAX_AGE_MAX   2147483647LL
#define AUTHZREQ_ID_LEN        43 /* util/bearer: 256 random bits */
#define AUTHZREQ_TTL_SECONDS   600
#define AUTHZREQ_CHALLENGE_LEN 43 /* base64url of a SHA-256 (RFC 7636 §4.2, S256) */

/* prompt values (OpenID Connect Core §3.1.2.1). */
enum authzreq_prompt {
    AUTHZREQ_PROMPT_NONE = 1u << 0,
    AUTHZREQ_PROMPT_LOGIN = 1u << 1,
    AUTHZREQ_PROMPT_CONSENT = 1u << 2,
};

struct authzreq {
    char client_id[OIDC_CLIENT_ID_MAX + 1];
    char redirect_uri[OIDC_URI_MAX + 1];
    unsigned scopes; /* enum oidc_scope bits; OIDC_SCOPE_OPENID always */
    bool has_state;
    char state[OIDC_STATE_MAX + 1];
    char nonce[OIDC_NONCE_MAX + 1];                  /* "" when none */
    char code_challenge[AUTHZREQ_CHALLENGE_LEN + 1]; /* "" without PKCE */
    unsigned prompt;                                 /* enum authzreq_prompt bits */
    int64_t max_age;                                 /* seconds; -1 when none */
    char login_hint[AUTHZREQ_HINT_MAX + 1];          /* "" when none */
    /* Not a parameter: the browser's sign-in (its session's sid) that the
     * request found and did not take (prompt=login, max_age), so that
     * only another one does when it comes back; "" when none. */
    char login_sid[JWT_SID_MAX + 1];
    /* Not a parameter: the sign-in (its sid) the consent page was shown
     * to; "" while it was not, and POST /authorize/consent then answers
     * nothing for it. */
    char consent_sid[JWT_SID_MAX + 1];
};

/* What authzreq_parse found. */
enum authzreq_status {
    AUTHZREQ_OK = 0,
    /* client_id or redirect_uri missing, repeated or too long: no redirect
     * URI to answer to, so the error is a page (RFC 6749 §4.1.2.1). */
    AUTHZREQ_NO_CLIENT,
    /* Another error, which goes back to redirect_uri once the caller has
     * found it registered for client_id: error (an RFC 6749 §4.1.2.1 or
     * OpenID Connect Core §3.1.2.6 code) and description. state is set
     * when it could be read. */
    AUTHZREQ_ERROR,
};

struct authzreq_error {
    const char *error;       /* static text */
    const char *description; /* static text */
};

/* Parses the parameters of a request (the query of a GET, the form of a
 * POST) into *out (overwritten). Checked here: every parameter at most once
 * (RFC 6749 §3.1), response_type "code" only, response_mode query or none,
 * no request or request_uri objects, scope known and with openid, state,
 * nonce and login_hint within their limits, code_challenge with method
 * S256 only, prompt of none, login and consent (none alone), max_age a
 * decimal number. Not checked: whether the client exists, uses that
 * redirect URI, may ask for those scopes, or needs PKCE (the caller's, with
 * the client). */
enum authzreq_status authzreq_parse(const struct form *params, struct authzreq *out,
                                    struct authzreq_error *err);

/* r as JSON text (malloc'd, NULL when out of memory), and back: false for
 * text that is not what authzreq_to_json writes. */
char *authzreq_to_json(const struct authzreq *r);
bool authzreq_from_json(const char *text, struct authzreq *out);

/* Keeps r for AUTHZREQ_TTL_SECONDS; its new id into id (only its SHA-256
 * is stored). */
enum outcome authzreq_save(store *s, const struct authzreq *r, int64_t now,
                           char id[AUTHZREQ_ID_LEN + 1]);

/* The live request of id (len bytes) and when it was made. OUTCOME_BAD_TOKEN
 * for an id of another form, unknown, used or expired. */
enum outcome authzreq_load(store *s, const char *id, size_t len, int64_t now, struct authzreq *out,
                           int64_t *created_at);

/* Uses id up: of two concurrent calls one gets OUTCOME_OK, the other (and
 * any later) OUTCOME_BAD_TOKEN. Call it before answering the client. */
enum outcome authzreq_use(store *s, const char *id, size_t len, int64_t now);

/* Deletes requests used or expired before now (the janitor). */
void authzreq_purge(store *s, int64_t now);

#endif
