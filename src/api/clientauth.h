#ifndef GH_API_CLIENTAUTH_H
#define GH_API_CLIENTAUTH_H

#include <stddef.h>

#include "core/oidc.h"
#include "util/form.h"

/* Who a request to an OAuth endpoint (POST /token, /oauth/revoke,
 * /oauth/introspect) says its client is, read from the Authorization
 * header and the form body, and nothing else: whether the client exists
 * and the secret is right is core/oidc's (oidc_client_authenticate). Pure,
 * so that fuzz/fuzz_clientauth.c drives it with any bytes. */

#define CLIENTAUTH_SECRET_MAX 128 /* bytes of a secret; ours are OIDC_SECRET_LEN */
/* Characters of the Basic credentials (base64 of both values, each
 * percent-encoded at worst): longer cannot be a client of ours. */
#define CLIENTAUTH_BASIC_MAX 1024

enum clientauth_method {
    CLIENTAUTH_NONE,   /* no client named: no client_id, no Basic header but the empty
                          pair ":" (what Swagger UI sends by default) */
    CLIENTAUTH_BASIC,  /* client_secret_basic (RFC 6749 §2.3.1) */
    CLIENTAUTH_POST,   /* client_secret_post: client_id and client_secret in the body */
    CLIENTAUTH_PUBLIC, /* client_id alone: a public client ("none") */
};

enum clientauth_status {
    CLIENTAUTH_OK = 0,
    CLIENTAUTH_MALFORMED,   /* Basic credentials that are not base64 of id ":" secret, each
                               form-encoded UTF-8; an empty id; client_secret without client_id */
    CLIENTAUTH_TWO_METHODS, /* Basic and client_secret at once (§2.3: one method only) */
    CLIENTAUTH_MISMATCH,    /* a client_id in the body that is not the header's */
    CLIENTAUTH_REPEATED,    /* client_id or client_secret twice (§3.2) */
    CLIENTAUTH_TOO_LONG,    /* an id past OIDC_CLIENT_ID_MAX, a secret past CLIENTAUTH_SECRET_MAX,
                               Basic credentials past CLIENTAUTH_BASIC_MAX */
};

/* What the request says. id and secret are NUL-terminated copies (a
 * secret may hold any UTF-8 but NUL); secretlen 0 for none. Wipe it with
 * clientauth_wipe. */
struct clientauth {
    enum clientauth_method method;
    char id[OIDC_CLIENT_ID_MAX + 1];
    size_t idlen;
    char secret[CLIENTAUTH_SECRET_MAX + 1];
    size_t secretlen;
};

/* Reads the client of a request: authorization is its Authorization header
 * (NULL: none; a scheme other than Basic is no client authentication and
 * is left to the endpoint), f its parsed form body. On CLIENTAUTH_OK *out
 * holds the method and the values; otherwise *out holds nothing
 * (wiped) and *why a short description for the invalid_request answer
 * (a static string). */
enum clientauth_status clientauth_parse(const char *authorization, const struct form *f,
                                        struct clientauth *out, const char **why);

/* Wipes the secret (and the rest). */
void clientauth_wipe(struct clientauth *c);

#endif
