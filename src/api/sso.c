/* The browser's single sign-on cookie (API.md, "Single sign-on"): set by
 * every page sign-in, bound to that sign-in's session (oidc_sso_bind), so
 * that /authorize knows the browser's user without a password; cleared and
 * ended by the ways out (/signout, POST /logout, /oidc/logout). */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "api/api_internal.h"
#include "util/log.h"
#include "util/timefmt.h"

bool api_sso_on(const struct api_request *req)
{
    return req->app->oidc.keys != NULL;
}

void api_sso_cookie(const struct api_request *req, struct reply *r, const char *value)
{
    const struct api_cookies *c = &req->app->cookies;
    char domain[300] = "", v[OIDC_SSO_LEN + sizeof domain + 128];

    /* COOKIE_DOMAIN shares it with sibling subdomains, as the session
     * cookies; it is cleared with the Domain it was set with. Lax: the
     * browser sends it when a relying party's link or redirect brings it
     * to /authorize, never with a cross-site subrequest or POST. */
    if (c->domain != NULL)
        snprintf(domain, sizeof domain, "; Domain=%s", c->domain);
    snprintf(v, sizeof v, "%s=%s; Path=/%s; Max-Age=%ld; HttpOnly%s; SameSite=Lax", API_SSO_COOKIE,
             value != NULL ? value : "", domain,
             value != NULL ? req->app->sessions.refresh_ttl : 0L, c->secure ? "; Secure" : "");
    reply_header(r, "Set-Cookie", v);
    sodium_memzero(v, sizeof v);
}

void api_sso_begin(const struct api_request *req, struct reply *r, const char *access_token)
{
    struct jwt_claims claims;
    char token[OIDC_SSO_LEN + 1];
    enum outcome o;

    if (!api_sso_on(req))
        return;
    /* The session's id is in its access token, just signed here. */
    o = sessions_verify_access(&req->app->sessions, access_token, strlen(access_token),
                               timefmt_now(), &claims);
    if (o == OUTCOME_OK)
        o = oidc_sso_bind(req->app->users.store, claims.sid, token);
    if (o != OUTCOME_OK) {
        /* The sign-in stands; only the next application asks again. */
        log_error("%s: the single sign-on cookie could not be bound (%s)", req->request_id,
                  outcome_name(o));
        return;
    }
    api_sso_cookie(req, r, token);
    sodium_memzero(token, sizeof token);
}

enum outcome api_sso_end(const struct api_request *req, struct reply *r, const char *sid)
{
    struct oidc_sso sso;
    enum outcome o = OUTCOME_OK;

    if (!api_sso_on(req))
        return OUTCOME_OK;
    if (req->sso_cookie != NULL &&
        oidc_sso_get(&req->app->sessions, req->sso_cookie, strlen(req->sso_cookie), timefmt_now(),
                     &sso) == OUTCOME_OK)
        sid = sso.sid;
    if (sid != NULL && sid[0] != '\0')
        o = oidc_logout(&req->app->sessions, sid);
    if (req->sso_cookie != NULL)
        api_sso_cookie(req, r, NULL);
    return o;
}
