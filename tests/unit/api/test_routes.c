/* api/routes and api/auth: which routes need a token, and the check the HTTP
 * layer runs before their handlers. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/docs.h"
#include "test.h"
#include "util/timefmt.h"

/* The document's operation of a route: its path, or for a route that ends
 * in '/' (every path under it) that path and one parameter
 * ("/me/passkeys/" is "/me/passkeys/{id}"). */
static json_t *operation_of(json_t *paths, const struct api_route *r, const char *method)
{
    size_t n = strlen(r->path);
    const char *path;
    json_t *item;

    if (n == 0 || r->path[n - 1] != '/')
        return json_object_get(json_object_get(paths, r->path), method);
    json_object_foreach(paths, path, item)
    {
        size_t m = strlen(path);
        if (m > n + 2 && strncmp(path, r->path, n) == 0 && path[n] == '{' && path[m - 1] == '}' &&
            strchr(path + n, '/') == NULL)
            return json_object_get(item, method);
    }
    return NULL;
}

static const struct api_route *route_of(const char *method, const char *path)
{
    for (size_t i = 0; i < api_nroutes; i++)
        if (strcmp(api_routes[i].method, method) == 0 && strcmp(api_routes[i].path, path) == 0)
            return &api_routes[i];
    return NULL;
}

TEST(routes_user_data_needs_auth)
{
    /* The routes that answer with a user's data (API.md): a handler that
     * ran without a verified token would serve anyone. */
    static const char *const paths[] = {"/me", "/users/me"};

    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        const struct api_route *r = route_of("GET", paths[i]);
        REQUIRE(r != NULL);
        /* Today each takes the access_token cookie as well as the header. */
        CHECK_EQ_INT(r->auth, API_AUTH_BEARER_OR_COOKIE);
    }
    /* /verify reads the same token, but runs without one too: the access
     * rules decide (a public rule needs none), and its handler answers 401
     * where they need one (tests/api/test_access_rules.py). */
    CHECK_EQ_INT(route_of("GET", "/verify")->auth, API_AUTH_OPTIONAL);
    /* /users/me is the FastAPI tutorial's name of /me: one handler. */
    CHECK(route_of("GET", "/users/me")->handle == route_of("GET", "/me")->handle);
    /* The routes that hand out tokens cannot need one. */
    CHECK_EQ_INT(route_of("POST", "/login")->auth, API_AUTH_NONE);
    /* /token reads a client's authentication (RFC 6749 §2.3), never a
     * token: its handler does (API_AUTH_HANDLER). */
    CHECK_EQ_INT(route_of("POST", "/token")->auth, API_AUTH_HANDLER);
    CHECK_EQ_INT(route_of("POST", "/register")->auth, API_AUTH_NONE);
}

/* Every documented operation with a security requirement needs a token,
 * and every route that needs one documents it; a route takes the cookie
 * exactly where the document offers it. */
TEST(routes_auth_matches_openapi)
{
    const struct docs_asset *a = docs_find("/openapi.json");
    REQUIRE(a != NULL);
    json_t *doc = json_loadb((const char *)a->data, a->len, 0, NULL);
    REQUIRE(doc != NULL);
    json_t *paths = json_object_get(doc, "paths");
    int checked = 0;

    for (size_t i = 0; i < api_nroutes; i++) {
        const struct api_route *r = &api_routes[i];
        char method[16];
        size_t k = 0;
        for (; r->method[k] != '\0' && k + 1 < sizeof method; k++)
            method[k] = (char)(r->method[k] | 0x20); /* ASCII lower case */
        method[k] = '\0';
        json_t *op = operation_of(paths, r, method);
        if (op == NULL)
            continue; /* the documentation pages; test_openapi checks the rest */
        checked++;
        json_t *sec = json_object_get(op, "security");
        bool needs = json_array_size(sec) > 0;
        bool cookie = false;
        size_t j;
        json_t *req;
        json_array_foreach(sec, j, req) cookie =
            cookie || json_object_get(req, "AccessTokenCookie");
        if (needs != (r->auth != API_AUTH_NONE)) {
            char what[160];
            snprintf(what, sizeof what, "%s %s: the document %s a token, the route %s", r->method,
                     r->path, needs ? "requires" : "does not require",
                     r->auth != API_AUTH_NONE ? "does" : "does not");
            test_check(0, __FILE__, __LINE__, what);
        }
        /* Both ways: a route that reads the cookie says so. */
        CHECK_EQ_INT(cookie, r->auth == API_AUTH_BEARER_OR_COOKIE || r->auth == API_AUTH_PAGE ||
                                 r->auth == API_AUTH_OPTIONAL);
    }
    CHECK(checked >= 9);
    json_decref(doc);
}

/* The passkeys' routes: the account's take the cookie too (its page posts
 * to them from the browser); the sign-in's take no token. */
TEST(routes_passkeys_auth)
{
    static const char *const mine[][2] = {{"POST", "/me/passkeys/options"},
                                          {"POST", "/me/passkeys"},
                                          {"GET", "/me/passkeys"},
                                          {"DELETE", "/me/passkeys/"}};

    for (size_t i = 0; i < sizeof mine / sizeof mine[0]; i++) {
        const struct api_route *r = route_of(mine[i][0], mine[i][1]);
        REQUIRE(r != NULL);
        CHECK_EQ_INT(r->auth, API_AUTH_BEARER_OR_COOKIE);
    }
    CHECK_EQ_INT(route_of("POST", "/login/passkey/options")->auth, API_AUTH_NONE);
    CHECK_EQ_INT(route_of("POST", "/login/passkey")->auth, API_AUTH_NONE);
}

TEST(routes_unique)
{
    for (size_t i = 0; i < api_nroutes; i++)
        for (size_t k = i + 1; k < api_nroutes; k++)
            CHECK(strcmp(api_routes[i].path, api_routes[k].path) != 0 ||
                  strcmp(api_routes[i].method, api_routes[k].method) != 0);
}

/* ------------------------------------------------------- api_authenticate */

static const char secret[] = "0123456789abcdef0123456789abcdef-test";

struct auth_case {
    jwt_key *key; /* owned by keys */
    keyset *keys;
    struct api_ctx app;
    char *good; /* a valid token of user 42 */
    char *expired;
};

static int auth_setup(struct auth_case *c)
{
    struct jwt_params p = {NULL, NULL, 0};
    struct jwt_claims cl = {0};
    int64_t now = timefmt_now();

    memset(c, 0, sizeof *c);
    c->key = jwt_key_create(secret, strlen(secret), &p);
    if (c->key == NULL)
        return -1;
    c->app.sessions.keys = c->keys = keyset_wrap(c->key);
    if (c->keys == NULL)
        return -1;
    cl.user_id = 42;
    snprintf(cl.username, sizeof cl.username, "alice");
    snprintf(cl.sid, sizeof cl.sid, "s1");
    cl.iat = now;
    cl.exp = now + 600;
    c->good = jwt_sign(c->key, &cl);
    cl.iat = now - 1200;
    cl.exp = now - 600;
    c->expired = jwt_sign(c->key, &cl);
    return c->good != NULL && c->expired != NULL ? 0 : -1;
}

static void auth_teardown(struct auth_case *c)
{
    free(c->good);
    free(c->expired);
    keyset_close(c->keys); /* frees c->key */
}

/* Runs api_authenticate on a route with the given auth and headers. */
static bool run_auth(const struct auth_case *c, enum api_auth auth, const char *authorization,
                     const char *cookie, struct api_request *req, struct reply *r)
{
    const struct api_route route = {"/x", "GET", API_BODY_NONE, API_INLINE, auth, NULL};

    memset(req, 0, sizeof *req);
    memset(r, 0, sizeof *r);
    req->app = &c->app;
    req->method = "GET";
    req->authorization = authorization;
    req->cookie_token = cookie;
    return api_authenticate(&route, req, r);
}

/* The same for a state-changing method, with an Origin header. */
static bool run_auth_change(struct auth_case *c, const char *method, const char *authorization,
                            const char *cookie, const char *origin, struct api_request *req,
                            struct reply *r)
{
    const struct api_route route = {
        "/x", method, API_BODY_NONE, API_INLINE, API_AUTH_BEARER_OR_COOKIE, NULL};

    memset(req, 0, sizeof *req);
    memset(r, 0, sizeof *r);
    req->app = &c->app;
    req->method = method;
    req->authorization = authorization;
    req->cookie_token = cookie;
    req->origin = origin;
    return api_authenticate(&route, req, r);
}

static const char *www_authenticate(const struct reply *r)
{
    for (int i = 0; i < r->nheaders; i++)
        if (strcmp(r->headers[i].name, "WWW-Authenticate") == 0)
            return r->headers[i].value;
    return NULL;
}

#define NOT_AUTHENTICATED                                                                          \
    "{\"type\":\"about:blank\",\"title\":\"Unauthorized\",\"status\":401,\"detail\":"              \
    "\"Not authenticated\"}\n"
#define NOT_VALID                                                                                  \
    "{\"type\":\"about:blank\",\"title\":\"Unauthorized\",\"status\":401,\"detail\":"              \
    "\"Could not validate credentials\"}\n"

/* A refusal as /me and /verify answer it: without a token, no error code
 * (RFC 6750 §3.1); with a bad one, invalid_token. */
static void refused(bool ok, struct reply *r, bool token_sent, int line)
{
    test_check(!ok, __FILE__, line, "refused");
    test_check_int(r->status, 401, __FILE__, line, "status", "401");
    test_check_str(r->body, token_sent ? NOT_VALID : NOT_AUTHENTICATED, __FILE__, line, "body",
                   "expected body");
    test_check_str(www_authenticate(r), token_sent ? "Bearer error=\"invalid_token\"" : "Bearer",
                   __FILE__, line, "WWW-Authenticate", "expected challenge");
    reply_free(r);
}

/* An expired token's 401 says so, in detail and in the challenge. */
static void refused_expired(bool ok, struct reply *r, int line)
{
    test_check(!ok, __FILE__, line, "refused");
    test_check_int(r->status, 401, __FILE__, line, "status", "401");
    test_check_str(r->body,
                   "{\"type\":\"about:blank\",\"title\":\"Unauthorized\",\"status\":401,"
                   "\"detail\":\"Could not validate credentials: the token has expired\"}\n",
                   __FILE__, line, "body", "expected body");
    test_check_str(www_authenticate(r),
                   "Bearer error=\"invalid_token\", error_description=\"The access token expired\"",
                   __FILE__, line, "WWW-Authenticate", "expected challenge");
    reply_free(r);
}

TEST(auth_none_reads_nothing)
{
    struct auth_case c;
    struct api_request req;
    struct reply r;

    REQUIRE(auth_setup(&c) == 0);
    CHECK(run_auth(&c, API_AUTH_NONE, "Bearer nonsense", NULL, &req, &r));
    CHECK_EQ_INT(r.status, 0);
    CHECK_EQ_INT(req.token.claims.user_id, 0);
    auth_teardown(&c);
}

TEST(auth_bearer_header)
{
    struct auth_case c;
    struct api_request req;
    struct reply r;
    char h[1024];

    REQUIRE(auth_setup(&c) == 0);
    snprintf(h, sizeof h, "Bearer %s", c.good);
    CHECK(run_auth(&c, API_AUTH_BEARER, h, NULL, &req, &r));
    CHECK_EQ_INT(r.status, 0);
    CHECK_EQ_INT(req.token.claims.user_id, 42);
    CHECK_EQ_STR(req.token.claims.username, "alice");
    CHECK_EQ_STR(req.token.claims.sid, "s1");
    CHECK(!req.token.from_cookie);
    /* The scheme is case-insensitive (RFC 9110 §11.1); spaces around the
     * token are not part of it. */
    snprintf(h, sizeof h, "bEARER   %s  ", c.good);
    CHECK(run_auth(&c, API_AUTH_BEARER_OR_COOKIE, h, NULL, &req, &r));
    CHECK_EQ_INT(req.token.claims.user_id, 42);
    auth_teardown(&c);
}

TEST(auth_bearer_refusals)
{
    struct auth_case c;
    struct api_request req;
    struct reply r;
    char h[1024];
    bool ok;

    REQUIRE(auth_setup(&c) == 0);
    ok = run_auth(&c, API_AUTH_BEARER, NULL, NULL, &req, &r);
    refused(ok, &r, false, __LINE__);
    ok = run_auth(&c, API_AUTH_BEARER, "Basic YWxpY2U6cHc=", NULL, &req, &r);
    refused(ok, &r, false, __LINE__);
    ok = run_auth(&c, API_AUTH_BEARER, "Bearer    ", NULL, &req, &r);
    refused(ok, &r, false, __LINE__);
    ok = run_auth(&c, API_AUTH_BEARER, "Bearer not.a.token", NULL, &req, &r);
    refused(ok, &r, true, __LINE__);
    snprintf(h, sizeof h, "Bearer %s", c.expired);
    ok = run_auth(&c, API_AUTH_BEARER, h, NULL, &req, &r);
    refused_expired(ok, &r, __LINE__);
    /* A route that takes only the header ignores the cookie. */
    ok = run_auth(&c, API_AUTH_BEARER, NULL, c.good, &req, &r);
    refused(ok, &r, false, __LINE__);
    auth_teardown(&c);
}

TEST(auth_cookie)
{
    struct auth_case c;
    struct api_request req;
    struct reply r;
    char h[1024];
    bool ok;

    REQUIRE(auth_setup(&c) == 0);
    CHECK(run_auth(&c, API_AUTH_BEARER_OR_COOKIE, NULL, c.good, &req, &r));
    CHECK_EQ_INT(req.token.claims.user_id, 42);
    CHECK(req.token.from_cookie); /* what the Origin check will look at */
    ok = run_auth(&c, API_AUTH_BEARER_OR_COOKIE, NULL, "", &req, &r);
    refused(ok, &r, false, __LINE__);
    ok = run_auth(&c, API_AUTH_BEARER_OR_COOKIE, NULL, c.expired, &req, &r);
    refused_expired(ok, &r, __LINE__);
    /* The header decides alone when present: a bad one is not rescued by a
     * good cookie, and a good one wins over a bad cookie. */
    ok = run_auth(&c, API_AUTH_BEARER_OR_COOKIE, "Bearer x.y.z", c.good, &req, &r);
    refused(ok, &r, true, __LINE__);
    ok = run_auth(&c, API_AUTH_BEARER_OR_COOKIE, "Basic YWxpY2U6cHc=", c.good, &req, &r);
    refused(ok, &r, false, __LINE__);
    snprintf(h, sizeof h, "Bearer %s", c.good);
    CHECK(run_auth(&c, API_AUTH_BEARER_OR_COOKIE, h, "garbage", &req, &r));
    CHECK(!req.token.from_cookie);
    auth_teardown(&c);
}

/* A change made on the strength of the cookie alone needs an Origin from
 * ALLOWED_ORIGINS, exactly; the header's token needs none. */
TEST(auth_cookie_origin_check)
{
    struct auth_case c;
    struct api_request req;
    struct reply r;
    char h[1024];
    static const char *const methods[] = {"POST", "PUT", "DELETE"};

    REQUIRE(auth_setup(&c) == 0);
    c.app.cookies.origins = "https://app.example.com, http://localhost:3000";
    snprintf(h, sizeof h, "Bearer %s", c.good);
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        const char *m = methods[i];
        CHECK(run_auth_change(&c, m, NULL, c.good, "https://app.example.com", &req, &r));
        CHECK(run_auth_change(&c, m, NULL, c.good, "http://localhost:3000", &req, &r));
        static const char *const refused_origins[] = {
            "https://evil.example.com",
            "https://app.example.com.evil.com",
            "https://app.example.co",
            "http://app.example.com",
            "https://APP.example.com",
            "null",
            "",
            NULL,
        };
        for (size_t j = 0; j < sizeof refused_origins / sizeof refused_origins[0]; j++) {
            CHECK(!run_auth_change(&c, m, NULL, c.good, refused_origins[j], &req, &r));
            CHECK_EQ_INT(r.status, 403);
            reply_free(&r);
        }
        /* A bearer header is no ambient credential: no Origin needed. */
        CHECK(run_auth_change(&c, m, h, NULL, NULL, &req, &r));
        CHECK(run_auth_change(&c, m, h, NULL, "https://evil.example.com", &req, &r));
    }
    /* With no ALLOWED_ORIGINS, no cookie-authenticated change at all. */
    c.app.cookies.origins = NULL;
    CHECK(!run_auth_change(&c, "POST", NULL, c.good, "https://app.example.com", &req, &r));
    CHECK_EQ_INT(r.status, 403);
    reply_free(&r);
    /* A GET is never refused for its Origin. */
    CHECK(run_auth(&c, API_AUTH_BEARER_OR_COOKIE, NULL, c.good, &req, &r));
    auth_teardown(&c);
}

/* API_AUTH_PAGE: the cookie only, verified when sent; whatever comes, the
 * handler runs and decides (a redirect to the sign-in page), and a form
 * post with the cookie needs no Origin (its CSRF token is checked). */
TEST(auth_page_cookie)
{
    struct auth_case c;
    struct api_request req;
    struct reply r;
    const struct api_route post = {"/x", "POST", API_BODY_FORM, API_DB, API_AUTH_PAGE, NULL};

    REQUIRE(auth_setup(&c) == 0);
    CHECK(run_auth(&c, API_AUTH_PAGE, NULL, c.good, &req, &r));
    CHECK(req.token.present && req.token.from_cookie);
    CHECK_EQ_INT(req.token.claims.user_id, 42);
    CHECK_EQ_INT(r.status, 0);
    /* None, a bad one, an expired one: no token, and no answer yet. */
    const char *bad[] = {NULL, "", "not.a.token", c.expired};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(run_auth(&c, API_AUTH_PAGE, NULL, bad[i], &req, &r));
        CHECK(!req.token.present);
        CHECK_EQ_INT(r.status, 0);
        CHECK_EQ_INT(r.nheaders, 0);
    }
    /* A bearer token is not the browser's cookie. */
    char h[1024];
    snprintf(h, sizeof h, "Bearer %s", c.good);
    CHECK(run_auth(&c, API_AUTH_PAGE, h, NULL, &req, &r));
    CHECK(!req.token.present);
    /* A post with the cookie and "Origin: null" (a no-referrer page's
     * form), or none: the handler runs. */
    const char *origins[] = {"null", NULL, "https://evil.example"};
    for (size_t i = 0; i < 3; i++) {
        memset(&req, 0, sizeof req);
        memset(&r, 0, sizeof r);
        req.app = &c.app;
        req.method = "POST";
        req.cookie_token = c.good;
        req.origin = origins[i];
        CHECK(api_authenticate(&post, &req, &r));
        CHECK(req.token.present);
        CHECK_EQ_INT(r.status, 0);
    }
    auth_teardown(&c);
}

/* API_AUTH_HANDLER: api_authenticate lets the request through without
 * verifying anything as one of the service's own tokens (the handler
 * authenticates a client or an OIDC access token), and never takes the
 * cookie: a good gatehouse token, as header or cookie, makes no token
 * present. */
TEST(auth_handler_reads_the_header_only)
{
    struct auth_case c;
    struct api_request req;
    struct reply r;
    char h[1024];

    REQUIRE(auth_setup(&c) == 0);
    snprintf(h, sizeof h, "Bearer %s", c.good);
    const char *headers[] = {NULL, h, "Basic Z2hfYWJjOnMzY3JldA==", "Bearer not.a.token"};
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        CHECK(run_auth(&c, API_AUTH_HANDLER, headers[i], c.good, &req, &r));
        CHECK(!req.token.present);
        CHECK_EQ_INT(req.token.claims.user_id, 0);
        CHECK_EQ_INT(r.status, 0);
        CHECK_EQ_INT(r.nheaders, 0);
    }
    auth_teardown(&c);
}

/* The OpenID Connect provider's routes: those that authenticate a client
 * or an OIDC access token read the header themselves; discovery needs
 * nothing. */
TEST(routes_oidc_auth)
{
    static const struct {
        const char *method, *path;
    } handler[] = {{"POST", "/token"},
                   {"GET", "/userinfo"},
                   {"POST", "/userinfo"},
                   {"POST", "/oauth/revoke"},
                   {"POST", "/oauth/introspect"}};

    for (size_t i = 0; i < sizeof handler / sizeof handler[0]; i++) {
        const struct api_route *r = route_of(handler[i].method, handler[i].path);
        REQUIRE(r != NULL);
        CHECK_EQ_INT(r->auth, API_AUTH_HANDLER);
        CHECK(r->work != API_INLINE); /* they read the database */
    }
    const struct api_route *d = route_of("GET", "/.well-known/openid-configuration");
    REQUIRE(d != NULL);
    CHECK_EQ_INT(d->auth, API_AUTH_NONE);
}

/* The admin API reads the Authorization header itself (an API key is not
 * one of the service's tokens, and the cookie must never reach it), on a
 * worker: it reads the user's current roles from the database. */
TEST(routes_admin_auth)
{
    static const struct {
        const char *method, *path;
    } admin[] = {{"GET", "/admin/users"},    {"POST", "/admin/users"},    {"GET", "/admin/users/"},
                 {"PATCH", "/admin/users/"}, {"DELETE", "/admin/users/"}, {"POST", "/admin/users/"},
                 {"GET", "/admin/audit"}};

    for (size_t i = 0; i < sizeof admin / sizeof admin[0]; i++) {
        const struct api_route *r = route_of(admin[i].method, admin[i].path);
        REQUIRE(r != NULL);
        CHECK_EQ_INT(r->auth, API_AUTH_HANDLER);
        CHECK(r->work != API_INLINE);
    }
    /* A new password is hashed: the hashing workers. */
    CHECK_EQ_INT(route_of("POST", "/admin/users")->work, API_HASH);
}
