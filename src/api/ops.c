/* GET /verify (forward authentication), /healthz, /readyz, JWKS. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "api/api_internal.h"
#include "core/health.h"
#include "util/numfmt.h"

/* Seconds a verifier may cache the key set (Cache-Control). */
#define API_JWKS_MAX_AGE "300"

/* The X-Auth-Username value of name: the name itself when every byte is
 * visible ASCII other than '%' and '+', else the name percent-encoded as
 * UTF-8 (RFC 3986 §2.1) into buf. RFC 9110 §5.5 leaves no room in a field
 * value for control characters, makes leading and trailing spaces vanish,
 * and lets recipients read bytes over 0x7F as anything (obs-text, often
 * ISO-8859-1); names chosen under the rules (core/username.h) never hold
 * such a byte. '%' is encoded whenever it occurs so that decoding never
 * changes a name that was sent as it is, and '+' because form decoding
 * (Python's unquote_plus, PHP's urldecode) reads it as a space: "Bob+Smith"
 * and "Bob Smith" would arrive as one name. So every decoder, plain or
 * form, gives the name back. */
static bool header_plain(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != '%' && c != '+';
}
static const char *header_username(const char *name, char *buf, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    bool plain = true;

    for (const char *p = name; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (!header_plain(c))
            plain = false;
    }
    if (plain)
        return name;
    for (const char *p = name; *p != '\0' && n + 4 <= cap; p++) {
        unsigned char c = (unsigned char)*p;
        if (!header_plain(c)) {
            buf[n++] = '%';
            buf[n++] = hex[c >> 4];
            buf[n++] = hex[c & 0xf];
        } else {
            buf[n++] = (char)c;
        }
    }
    buf[n] = '\0';
    return buf;
}

void api_verify(const struct api_request *req, struct reply *r)
{
    char id[NUMFMT_I64_MAX], name[3 * JWT_USERNAME_MAX + 1];

    /* No database here: the route verified the token's signature and claims
     * and looked its session up in the in-memory revocation set, which is
     * the whole check and what makes this the fastest path for nginx
     * auth_request. */
    numfmt_i64(id, req->token.claims.user_id);
    r->status = 204;
    reply_header(r, "X-Auth-User-Id", id);
    reply_header(r, "X-Auth-Username",
                 header_username(req->token.claims.username, name, sizeof name));
}

void api_healthz(const struct api_request *req, struct reply *r)
{
    (void)req;
    reply_json(r, 200, strdup("{\"status\":\"ok\"}"));
}

void api_readyz(const struct api_request *req, struct reply *r)
{
    enum outcome o = health_ready(req->app->users.store);

    if (o != OUTCOME_OK) {
        errors_problem(r, o, NULL);
        return;
    }
    reply_json(r, 200, strdup("{\"status\":\"ok\"}"));
}

void api_jwks(const struct api_request *req, struct reply *r)
{
    /* The public keys of this moment (HS256: none, the key is secret). A
     * verifier caches them for max-age: a new signing key must be listed
     * (JWT_VERIFY_KEYS_DIR) that long before it signs (README, Signing
     * keys). */
    const keyset_gen *g = keyset_get(req->app->sessions.keys);
    /* And the OpenID Connect provider's key, which signs ID tokens and its
     * access tokens (core/oidc.h): one entry per kid, so a key that signs
     * both is listed once. */
    keyset *ok = req->app->oidc.keys;
    const keyset_gen *o = ok != NULL && ok != req->app->sessions.keys ? keyset_get(ok) : NULL;
    reply_json(r, 200, keyset_jwks_union(g, o));
    keyset_put(o);
    keyset_put(g);
    reply_header(r, "Cache-Control", "public, max-age=" API_JWKS_MAX_AGE);
}
