/* The embedded documentation: the OpenAPI document describes exactly the
 * routes the server has (the documentation pages aside), and every page
 * loads only assets the binary carries. */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/docs.h"
#include "test.h"

/* Routes that serve the documentation itself, which the document need not
 * describe (API.md, "Documentation and operations"). */
static bool documentation_route(const struct api_route *r)
{
    return strcmp(r->path, "/docs") == 0 || strcmp(r->path, "/redoc") == 0 ||
           strcmp(r->path, "/docs/assets/") == 0;
}

/* True when the document's path is the route's: the same, or, for a route
 * that ends in '/' (every path under it), that path and one parameter
 * ("/me/passkeys/" is "/me/passkeys/{id}"). */
static bool path_is_route(const char *doc, const char *route)
{
    size_t n = strlen(route), m = strlen(doc);

    if (strcmp(doc, route) == 0)
        return true;
    return n > 0 && route[n - 1] == '/' && m > n + 2 && strncmp(doc, route, n) == 0 &&
           doc[n] == '{' && doc[m - 1] == '}' && strchr(doc + n, '/') == NULL;
}

/* path_is_route, or a path below the parameter's ("/admin/users/" is also
 * "/admin/users/{id}/sessions": its handler reads the rest of the path). */
static bool path_under_route(const char *doc, const char *route)
{
    size_t n = strlen(route);
    const char *close;

    if (path_is_route(doc, route))
        return true;
    if (n == 0 || route[n - 1] != '/' || strncmp(doc, route, n) != 0 || doc[n] != '{' ||
        (close = strchr(doc + n, '}')) == NULL || close[1] != '/')
        return false;
    return strchr(close + 1, '{') == NULL && close[2] != '\0';
}

/* True when some path of the document under route (path_under_route) has
 * an operation of method. */
static bool has_operation(json_t *paths, const char *route, const char *method)
{
    const char *path;
    json_t *item;

    json_object_foreach(paths, path, item)
    {
        if (path_under_route(path, route) && json_object_get(item, method) != NULL)
            return true;
    }
    return false;
}

static json_t *load_document(void)
{
    const struct docs_asset *a = docs_find("/openapi.json");
    json_error_t e;

    if (a == NULL)
        return NULL;
    return json_loadb((const char *)a->data, a->len, JSON_REJECT_DUPLICATES, &e);
}

static void lower(char *dst, size_t cap, const char *src)
{
    size_t i = 0;

    for (; src[i] != '\0' && i + 1 < cap; i++)
        dst[i] = (char)tolower((unsigned char)src[i]);
    dst[i] = '\0';
}

TEST(openapi_embedded)
{
    const struct docs_asset *a = docs_find("/openapi.json");

    REQUIRE(a != NULL);
    CHECK_EQ_STR(a->content_type, "application/json");
    CHECK(!a->immutable);
    json_t *doc = load_document();
    REQUIRE(doc != NULL);
    const char *version = json_string_value(json_object_get(doc, "openapi"));
    CHECK(version != NULL && strncmp(version, "3.1.", 4) == 0);
    json_decref(doc);
}

TEST(openapi_routes_match_operations)
{
    json_t *doc = load_document();
    REQUIRE(doc != NULL);
    json_t *paths = json_object_get(doc, "paths");
    REQUIRE(json_is_object(paths));
    size_t routed = 0, documented = 0;
    bool operated[256] = {false};

    REQUIRE(api_nroutes <= sizeof operated);

    /* Every route (but the pages) is an operation of the document ... */
    for (size_t i = 0; i < api_nroutes; i++) {
        const struct api_route *r = &api_routes[i];
        char method[16];
        if (documentation_route(r))
            continue;
        routed++;
        lower(method, sizeof method, r->method);
        if (!has_operation(paths, r->path, method)) {
            char what[160];
            snprintf(what, sizeof what, "route %s %s is not in web/openapi.json", r->method,
                     r->path);
            test_check(0, __FILE__, __LINE__, what);
        }
    }
    /* ... and every operation is a route. */
    const char *path;
    json_t *item;
    json_object_foreach(paths, path, item)
    {
        const char *m;
        json_t *op;
        json_object_foreach(item, m, op)
        {
            static const char *const verbs[] = {"get",     "put",  "post",  "delete",
                                                "options", "head", "patch", "trace"};
            bool verb = false;
            for (size_t k = 0; k < sizeof verbs / sizeof verbs[0]; k++)
                verb = verb || strcmp(m, verbs[k]) == 0;
            if (!verb)
                continue; /* "parameters", "summary", ... of the path item */
            bool found = false;
            for (size_t i = 0; i < api_nroutes && !found; i++) {
                char method[16];
                lower(method, sizeof method, api_routes[i].method);
                found = path_under_route(path, api_routes[i].path) && strcmp(method, m) == 0;
                if (found && i < sizeof operated && !operated[i]) {
                    operated[i] = true;
                    documented++; /* routes with an operation, each once */
                }
            }
            if (!found) {
                char what[160];
                snprintf(what, sizeof what, "operation %s %s has no route", m, path);
                test_check(0, __FILE__, __LINE__, what);
            }
        }
    }
    CHECK_EQ_INT(routed, documented);
    CHECK(routed >= 9);
    json_decref(doc);
}

TEST(openapi_security_schemes)
{
    json_t *doc = load_document();
    REQUIRE(doc != NULL);
    json_t *schemes = json_object_get(json_object_get(doc, "components"), "securitySchemes");
    REQUIRE(json_is_object(schemes));
    bool bearer = false, password_flow = false;
    const char *name;
    json_t *s;

    json_object_foreach(schemes, name, s)
    {
        const char *type = json_string_value(json_object_get(s, "type"));
        if (type != NULL && strcmp(type, "http") == 0)
            bearer = bearer ||
                     strcasecmp(json_string_value(json_object_get(s, "scheme")), "bearer") == 0;
        if (type != NULL && strcmp(type, "oauth2") == 0) {
            json_t *flow = json_object_get(json_object_get(s, "flows"), "password");
            const char *url = json_string_value(json_object_get(flow, "tokenUrl"));
            password_flow = url != NULL && strcmp(url, "/token") == 0;
        }
    }
    CHECK(bearer);
    CHECK(password_flow);
    json_decref(doc);
}

TEST(docs_assets_table)
{
    REQUIRE(docs_nassets > 0);
    for (size_t i = 0; i < docs_nassets; i++) {
        const struct docs_asset *a = &docs_assets[i];
        CHECK(a->path[0] == '/');
        CHECK(a->content_type != NULL && a->content_type[0] != '\0');
        CHECK(a->etag[0] == '"' && a->etag[strlen(a->etag) - 1] == '"');
        CHECK(a->len > 0);
        CHECK(docs_find(a->path) == a);
        /* Versioned (immutable) assets live under /docs/assets/; the pages
         * and the document do not, and are revalidated. */
        CHECK_EQ_INT(a->immutable, strncmp(a->path, "/docs/assets/", 13) == 0);
        CHECK_EQ_INT(a->html, strcmp(a->path, "/docs") == 0 || strcmp(a->path, "/redoc") == 0);
    }
    CHECK(docs_find("/docs") != NULL);
    CHECK(docs_find("/redoc") != NULL);
    CHECK(docs_find("/docs/assets/") == NULL);
    CHECK(docs_find("/nope") == NULL);
}

/* Every "docs/assets/..." a page refers to is in the table. */
static void check_page_refs(const char *page)
{
    const struct docs_asset *a = docs_find(page);
    char ref[256];
    int refs = 0;

    REQUIRE(a != NULL);
    const char *p = (const char *)a->data, *end = p + a->len;
    while ((p = memmem(p, (size_t)(end - p), "\"docs/assets/", 13)) != NULL) {
        const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));
        REQUIRE(q != NULL && (size_t)(q - p) < sizeof ref - 1);
        ref[0] = '/';
        memcpy(ref + 1, p + 1, (size_t)(q - p - 1));
        ref[q - p] = '\0';
        if (docs_find(ref) == NULL) {
            char what[320];
            snprintf(what, sizeof what, "%s refers to %s, which is not embedded", page, ref);
            test_check(0, __FILE__, __LINE__, what);
        }
        refs++;
        p = q + 1;
    }
    CHECK(refs >= 2);
}

TEST(docs_pages_refer_to_embedded_assets)
{
    check_page_refs("/docs");
    check_page_refs("/redoc");
}
