/* GET /verify (forward authentication), /healthz, /readyz, JWKS. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "api/api_internal.h"
#include "core/health.h"
#include "util/fwdreq.h"
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

/* The amr bits as X-Auth-Amr sends them: comma-separated as X-Auth-Roles
 * is (RFC 9110 §5.6.1 lists), in core/jwt.h's order. Written here rather
 * than by jwt_amr_text, whose snprintf per value cost /verify 800
 * instructions (callgrind). */
static const char *header_amr(unsigned amr, char out[JWT_AMR_TEXT_MAX + 1])
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {
        {JWT_AMR_PWD, "pwd"}, {JWT_AMR_OTP, "otp"}, {JWT_AMR_HWK, "hwk"}, {JWT_AMR_USER, "user"}};
    size_t n = 0;

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if ((amr & names[i].bit) == 0)
            continue;
        if (n > 0)
            out[n++] = ',';
        for (const char *p = names[i].name; *p != '\0'; p++)
            out[n++] = *p;
    }
    out[n] = '\0';
    return out;
}

/* The 204 of a request allowed with a token: who the user is, for the
 * application behind the proxy. */
static void verify_allow(const struct api_request *req, struct reply *r)
{
    const struct jwt_claims *c = &req->token.claims;
    char id[NUMFMT_I64_MAX], name[3 * JWT_USERNAME_MAX + 1], amr[JWT_AMR_TEXT_MAX + 1];
    char email[3 * JWT_EMAIL_MAX + 1];

    numfmt_i64(id, c->user_id);
    r->status = 204;
    reply_header(r, "X-Auth-User-Id", id);
    reply_header(r, "X-Auth-Username", header_username(c->username, name, sizeof name));
    /* When the user has roles (libmicrohttpd sends no empty header);
     * role names are plain ASCII (core/roles.h). */
    if (c->roles[0] != '\0')
        reply_header(r, "X-Auth-Roles", c->roles);
    /* A confirmed address only; encoded as the username is. */
    if (c->email[0] != '\0')
        reply_header(r, "X-Auth-Email", header_username(c->email, email, sizeof email));
    reply_header(r, "X-Auth-Amr", header_amr(c->amr, amr));
}

/* True for GET /verify?rd=1 from a browser: a proxy that cannot redirect
 * itself (Caddy, Traefik) asks for the sign-in page's redirect instead of
 * a 401. Only a browser can follow it to a page: it asks for HTML (RFC
 * 9110 §12.5.1), which it does for every navigation, while an API client
 * behind the same proxy wants the 401 it can act on. The proxy passes the
 * client's Accept on (the examples do). */
static bool verify_wants_redirect(const struct api_request *req)
{
    const char *v, *accept;
    size_t n;

    if (req->query.count == 0 || form_get(&req->query, "rd", &v, &n) != FORM_FOUND || n != 1 ||
        v[0] != '1')
        return false;
    accept = req->header(req, "Accept");
    return accept != NULL && strstr(accept, "text/html") != NULL;
}

/* Percent-encodes n bytes of s into out (room for 3n + 1), keeping RFC
 * 3986's unreserved characters (§2.3) only, so that the whole URL is one
 * query value. */
static size_t pct_encode(const char *s, size_t n, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            out[k++] = (char)c;
        } else {
            out[k++] = '%';
            out[k++] = hex[c >> 4];
            out[k++] = hex[c & 0xf];
        }
    }
    out[k] = '\0';
    return k;
}

/* The 302 to PUBLIC_URL's sign-in page carrying the original URL (rd),
 * which the page follows back once signed in when the rules name its host
 * (api/signin.c). False when it cannot be built: no PUBLIC_URL, or no host
 * to come back to. */
static bool verify_redirect(const struct api_request *req, const struct fwdreq *f, struct reply *r)
{
    const char *pub = req->app->public_url.url;
    /* scheme "://" host ":" port target */
    enum { URL_MAX = 8 + FWDREQ_HOST_MAX + 2 + 6 + FWDREQ_TARGET_MAX };
    static _Thread_local char url[URL_MAX + 1], loc[3 * URL_MAX + 256];

    if (pub == NULL || f->host[0] == '\0')
        return false;
    int n = snprintf(url, sizeof url, "%s://%s%s%s%.*s", f->scheme, f->host,
                     f->port[0] != '\0' ? ":" : "", f->port, (int)f->target_len, f->target);
    size_t plen = strlen(pub);
    if (n < 0 || (size_t)n >= sizeof url || plen + 12 + 3 * (size_t)n >= sizeof loc)
        return false;
    memcpy(loc, pub, plen);
    memcpy(loc + plen, "/signin?rd=", 11);
    pct_encode(url, (size_t)n, loc + plen + 11);
    r->status = 302;
    reply_header(r, "Location", loc);
    reply_header(r, "Cache-Control", "no-store");
    return true;
}

/* The original request, judged by the access rules (API.md, "Access
 * rules"): read from the forwarded headers (only a trusted proxy's), then
 * rules_decide. */
static void verify_rules(const struct api_request *req, const rules *rs, struct reply *r)
{
    struct fwdreq_headers h = {0};
    struct fwdreq f;

    if (req->proxied) {
        h.method = req->header(req, "X-Forwarded-Method");
        h.proto = req->header(req, "X-Forwarded-Proto");
        h.host = req->header(req, "X-Forwarded-Host");
        h.uri = req->header(req, "X-Forwarded-Uri");
        h.original_url = req->header(req, "X-Original-URL");
        h.original_uri = req->header(req, "X-Original-URI");
    }
    enum fwdreq_status st =
        fwdreq_parse(&h, req->proxied, req->method, req->header(req, "Host"), req->path, &f);
    if (st != FWDREQ_OK) {
        /* Judged as a path the rules refuse is: denied, whoever asks, and
         * never a 400, which nginx's auth_request would turn into a 500. */
        reply_problem(r, 403, fwdreq_status_text(st));
        return;
    }
    const struct jwt_claims *c = &req->token.claims;
    struct rules_request rq = {f.host,       strlen(f.host), f.target,
                               f.target_len, f.method,       strlen(f.method)};
    struct rules_subject sub = {
        req->token.present, req->token.present && (c->amr & (JWT_AMR_OTP | JWT_AMR_HWK)) != 0,
        req->token.present ? c->roles : "", req->token.present ? strlen(c->roles) : 0};
    switch (rules_decide(rs, req->app->default_policy, &rq, &sub)) {
    case RULES_ALLOW:
        if (req->token.present)
            verify_allow(req, r);
        else
            r->status = 204; /* public: nobody to name */
        return;
    case RULES_UNAUTHENTICATED:
        if (verify_wants_redirect(req) && verify_redirect(req, &f, r))
            return;
        errors_problem(r, req->token.present ? OUTCOME_UNAUTHENTICATED : req->token.absent, NULL);
        return;
    case RULES_FORBIDDEN: break;
    }
    reply_problem(r, 403, "the access rules do not allow this request");
}

void api_verify(const struct api_request *req, struct reply *r)
{
    /* No database here, and in the common case (a token, no rules) no
     * allocation: the route verified the token's signature and claims and
     * looked its session up in the in-memory revocation set, which is the
     * whole check and what makes this the fastest path for nginx
     * auth_request. */
    const rules *rs = rules_ref_get(req->app->rules);

    if (rs == NULL && req->app->default_policy == RULES_AUTHENTICATED &&
        (req->token.present || !verify_wants_redirect(req))) {
        if (req->token.present)
            verify_allow(req, r);
        else
            errors_problem(r, req->token.absent, NULL);
    } else {
        verify_rules(req, rs, r);
    }
    rules_ref_put(rs);
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
