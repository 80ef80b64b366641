/* The checks a route declares, run before its handler (see api.h). */
#include <string.h>
#include <strings.h>

#include "api/api_internal.h"
#include "util/timefmt.h"

/* The token of the request, or NULL: "Authorization: Bearer <token>" (the
 * scheme is case-insensitive, RFC 9110 §11.1), else, when the route takes
 * it, the access_token cookie. An Authorization header of another scheme
 * counts as no token at all: it is not a bearer credential, and falling back
 * to the cookie would let an ambient credential stand in for the one the
 * client chose to send. */
const char *api_find_token(const char *authorization, const char *cookie, enum api_auth auth,
                           size_t *len, bool *from_cookie)
{
    const char *a = authorization;

    *from_cookie = false;
    if (auth == API_AUTH_PAGE)
        a = NULL; /* a page is opened by a browser, which sends the cookie only */
    if (a != NULL) {
        if (strncasecmp(a, "Bearer ", 7) != 0)
            return NULL;
        a += 7;
        while (*a == ' ')
            a++;
        *len = strlen(a);
        while (*len > 0 && a[*len - 1] == ' ')
            (*len)--;
        return *len > 0 ? a : NULL;
    }
    if ((auth == API_AUTH_BEARER_OR_COOKIE || auth == API_AUTH_PAGE || auth == API_AUTH_OPTIONAL) &&
        cookie != NULL && cookie[0] != '\0') {
        *len = strlen(cookie);
        *from_cookie = true;
        return cookie;
    }
    return NULL;
}

bool api_authenticate(const struct api_route *route, struct api_request *req, struct reply *r)
{
    size_t len = 0;
    bool from_cookie;
    const char *tok;

    if (route->auth == API_AUTH_NONE || route->auth == API_AUTH_HANDLER)
        return true;
    tok = api_find_token(req->authorization, req->cookie_token, route->auth, &len, &from_cookie);
    req->token.present = false;
    if (route->auth == API_AUTH_PAGE) {
        /* The page decides what a missing or stale cookie gets, and its
         * form's CSRF token stands in for the Origin check (api.h). */
        req->token.present =
            tok != NULL && sessions_verify_access(&req->app->sessions, tok, len, timefmt_now(),
                                                  &req->token.claims) == OUTCOME_OK;
        req->token.from_cookie = req->token.present;
        return true;
    }
    if (route->auth == API_AUTH_OPTIONAL) {
        /* A GET only (/verify): no Origin check. The claims go straight
         * into the request, as below. */
        req->token.absent = tok == NULL ? OUTCOME_UNAUTHENTICATED
                                        : sessions_verify_access(&req->app->sessions, tok, len,
                                                                 timefmt_now(), &req->token.claims);
        req->token.present = req->token.absent == OUTCOME_OK;
        req->token.from_cookie = from_cookie;
        return true;
    }
    if (tok == NULL) {
        errors_problem(r, OUTCOME_UNAUTHENTICATED, NULL);
        return false;
    }
    /* The claims go straight into the request: no copy on /verify. */
    enum outcome o =
        sessions_verify_access(&req->app->sessions, tok, len, timefmt_now(), &req->token.claims);
    if (o != OUTCOME_OK) {
        errors_problem(r, o, NULL);
        return false;
    }
    req->token.from_cookie = from_cookie;
    req->token.present = true;
    /* A GET changes nothing, so a cross-site page embedding it gains
     * nothing; anything else needs its Origin checked. */
    if (from_cookie && api_changes_state(req) && !api_origin_allowed(req)) {
        errors_problem(r, OUTCOME_FORBIDDEN, NULL);
        return false;
    }
    return true;
}

bool api_changes_state(const struct api_request *req)
{
    return strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0;
}

bool api_own_origin(const struct api_request *req, const char *origin, size_t len)
{
    const struct api_public *pub = &req->app->public_url;
    const char *scheme = req->app->cookies.secure ? "https://" : "http://";
    size_t slen = strlen(scheme);

    /* A configured public address decides alone: the Host a client sends
     * is then never trusted for it (API.md, "Public address and pages"). */
    if (pub->url != NULL)
        return len == pub->origin_len && strncasecmp(origin, pub->url, len) == 0;
    if (req->host == NULL || req->host[0] == '\0' || len <= slen ||
        strncmp(origin, scheme, slen) != 0)
        return false;
    /* Host names are case-insensitive (RFC 9110 §4.2.3); a browser sends
     * both in lower case, but a client may not. */
    return strlen(req->host) == len - slen &&
           strncasecmp(origin + slen, req->host, len - slen) == 0;
}

bool api_form_body(const struct api_request *req)
{
    return form_content_type_ok(req->content_type);
}

bool api_origin_allowed(const struct api_request *req)
{
    const char *list = req->app->cookies.origins, *o = req->origin;

    if (o == NULL || o[0] == '\0')
        return false;
    size_t olen = strlen(o);
    if (api_own_origin(req, o, olen))
        return true;
    if (list == NULL)
        return false;
    for (const char *p = list; *p != '\0';) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ", ");
        if (n > 0 && n == olen && memcmp(p, o, n) == 0)
            return true;
        p += n;
    }
    return false;
}
