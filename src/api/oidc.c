/* GET /.well-known/openid-configuration (OpenID Connect Discovery 1.0) and
 * GET|POST /userinfo (OpenID Connect Core 1.0 §5.3). */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "api/api_internal.h"
#include "core/jwk.h"
#include "util/timefmt.h"

/* issuer followed by path, as a JSON string. */
static json_t *endpoint(const char *issuer, const char *path)
{
    char url[1024];
    int n = snprintf(url, sizeof url, "%s%s", issuer, path);

    return n > 0 && (size_t)n < sizeof url ? json_string(url) : NULL;
}

/* The algorithm the OIDC key signs with (RS256 unless another asymmetric
 * key was configured for it). */
static const char *signing_alg(keyset *keys)
{
    const keyset_gen *g = keyset_get(keys);
    const jwt_key *k = keyset_jwt(g);
    const char *alg = jwt_key_count(k) > 0 ? jwk_alg_name(jwk_alg_of(jwt_key_at(k, 0))) : "RS256";

    keyset_put(g);
    return alg;
}

static json_t *strings(const char *const *v, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

#define STRINGS(v) strings(v, sizeof v / sizeof v[0])

static json_t *discovery(const struct api_ctx *app)
{
    static const char *const responses[] = {"code"};
    static const char *const modes[] = {"query"};
    static const char *const grants[] = {"authorization_code", "refresh_token",
                                         "client_credentials"};
    static const char *const subjects[] = {"public"};
    static const char *const auth[] = {"client_secret_basic", "client_secret_post", "none"};
    static const char *const secret_auth[] = {"client_secret_basic", "client_secret_post"};
    static const char *const pkce[] = {"S256"};
    static const char *const scopes[] = {"openid", "profile", "email", "offline_access"};
    static const char *const claims[] = {"sub",
                                         "iss",
                                         "aud",
                                         "exp",
                                         "iat",
                                         "auth_time",
                                         "nonce",
                                         "amr",
                                         "acr",
                                         "sid",
                                         "preferred_username",
                                         "email",
                                         "email_verified"};
    static const char *const prompts[] = {"none", "login", "consent"};
    static const char *const acrs[] = {"1", "2"};
    const char *iss = app->oidc.issuer;
    const char *alg = signing_alg(app->oidc.keys);

    return json_pack(
        "{s:s, s:o*, s:o*, s:o*, s:o*, s:o*, s:o*, s:o*, s:o*, s:o*, s:o*, s:o*, s:[s], s:o*, "
        "s:o*, s:o*, s:o*, s:o*, s:o*, s:o*, s:o*, s:b, s:b, s:b, s:b, s:b}",
        "issuer", iss, "authorization_endpoint", endpoint(iss, "/authorize"), "token_endpoint",
        endpoint(iss, "/token"), "userinfo_endpoint", endpoint(iss, "/userinfo"), "jwks_uri",
        endpoint(iss, "/.well-known/jwks.json"), "revocation_endpoint",
        endpoint(iss, "/oauth/revoke"), "introspection_endpoint",
        endpoint(iss, "/oauth/introspect"), "end_session_endpoint", endpoint(iss, "/oidc/logout"),
        "response_types_supported", STRINGS(responses), "response_modes_supported", STRINGS(modes),
        "grant_types_supported", STRINGS(grants), "subject_types_supported", STRINGS(subjects),
        "id_token_signing_alg_values_supported", alg, "token_endpoint_auth_methods_supported",
        STRINGS(auth), "revocation_endpoint_auth_methods_supported", STRINGS(auth),
        "introspection_endpoint_auth_methods_supported", STRINGS(secret_auth),
        "code_challenge_methods_supported", STRINGS(pkce), "scopes_supported", STRINGS(scopes),
        "claims_supported", STRINGS(claims), "prompt_values_supported", STRINGS(prompts),
        "acr_values_supported", STRINGS(acrs),
        /* RFC 9207: the authorization response carries iss. */
        "authorization_response_iss_parameter_supported", 1, "request_parameter_supported", 0,
        "request_uri_parameter_supported", 0, "claims_parameter_supported", 0,
        "require_request_uri_registration", 0);
}

void api_oidc_discovery(const struct api_request *req, struct reply *r)
{
    if (!api_oidc_on(req, r))
        return;
    json_t *o = discovery(req->app);
    api_oauth_object(r, o);
}

/* RFC 6750 §3.1: a token without the scope the resource needs. */
static void insufficient_scope(struct reply *r)
{
    reply_problem(r, 403, "the access token lacks the scope openid");
    reply_header(r, "WWW-Authenticate", "Bearer error=\"insufficient_scope\", scope=\"openid\"");
}

static void userinfo_reply(struct reply *r, const struct oidc_access *a,
                           const struct oidc_userinfo *u)
{
    json_t *o = json_pack("{s:s, s:s}", "sub", a->sub, "preferred_username", u->username);

    /* Core §5.4: scope email asks for email and email_verified. */
    if (o != NULL && (a->scopes & OIDC_SCOPE_EMAIL) && u->email[0] != '\0') {
        json_object_set_new(o, "email", json_string(u->email));
        json_object_set_new(o, "email_verified", json_boolean(u->email_verified));
    }
    api_oauth_object(r, o);
}

void api_userinfo(const struct api_request *req, struct reply *r)
{
    struct oidc_access a;
    struct oidc_userinfo u;
    size_t len = 0;
    bool from_cookie;

    /* The claims are the user's: no cache keeps them. */
    r->no_store = true;
    if (!api_oidc_on(req, r))
        return;
    /* The OIDC access token in Authorization only (RFC 6750 §2.1): never
     * a cookie, and never one of gatehouse's own tokens, which
     * oidc_verify_access refuses by their typ. */
    const char *tok = api_find_token(req->authorization, NULL, API_AUTH_BEARER, &len, &from_cookie);
    if (tok == NULL) {
        errors_problem(r, OUTCOME_UNAUTHENTICATED, NULL);
        return;
    }
    enum outcome st = oidc_verify_access(&req->app->oidc, tok, len, timefmt_now(), &a);
    if (st != OUTCOME_OK) {
        errors_problem(r, st, NULL);
        return;
    }
    /* A client_credentials token has no user, and never scope openid. */
    if (!(a.scopes & OIDC_SCOPE_OPENID) || a.user_id <= 0) {
        insufficient_scope(r);
        return;
    }
    st = oidc_userinfo(req->app->oidc.sessions->store, a.user_id, &u);
    if (st == OUTCOME_OK)
        userinfo_reply(r, &a, &u);
    else
        /* The user is gone: the token stands for no one any more. */
        errors_problem(r, st == OUTCOME_NOT_FOUND ? OUTCOME_TOKEN_INVALID : st, NULL);
    sodium_memzero(&u, sizeof u);
}
