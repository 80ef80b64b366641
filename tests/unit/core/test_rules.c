/* core/rules: the access rules of /verify: parsing with FILE:LINE errors,
 * first match wins, hosts, paths (prefixes and globs), methods, policies,
 * roles, the path's normalisation, the limits, the SIGHUP reference. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/rules.h"
#include "test.h"

static const struct rules_subject anon = {false, false, NULL, 0};
static const struct rules_subject user = {true, false, "", 0};
static const struct rules_subject user2fa = {true, true, "", 0};
static const struct rules_subject ops = {true, false, "dev,ops", 7};
static const struct rules_subject ops2fa = {true, true, "dev,ops", 7};

static rules *parse(const char *text)
{
    char err[512] = "";
    rules *r = rules_parse(text, strlen(text), "t.json", err, sizeof err);
    if (r == NULL)
        fprintf(stderr, "unexpected: %s\n", err);
    return r;
}

/* The error of text, "" when it parses. */
static const char *parse_err(const char *text)
{
    static char err[512];
    err[0] = '\0';
    rules *r = rules_parse(text, strlen(text), "t.json", err, sizeof err);
    if (r != NULL) {
        rules_free(r);
        return "";
    }
    return err;
}

/* Whether the error of text starts with want ("t.json:LINE: ..."). */
static int err_starts(const char *text, const char *want)
{
    const char *e = parse_err(text);
    if (strncmp(e, want, strlen(want)) != 0) {
        fprintf(stderr, "error \"%s\", want a start \"%s\"\n", e, want);
        return 0;
    }
    return 1;
}

static enum rules_verdict decide_as(const rules *r, enum rules_policy dflt, const char *host,
                                    const char *method, const char *path,
                                    const struct rules_subject *s)
{
    struct rules_request q = {host,   host ? strlen(host) : 0,    path, strlen(path),
                              method, method ? strlen(method) : 0};
    return rules_decide(r, dflt, &q, s);
}

static enum rules_verdict decide(const rules *r, const char *host, const char *path,
                                 const struct rules_subject *s)
{
    return decide_as(r, RULES_AUTHENTICATED, host, "GET", path, s);
}

static const char *norm(const char *path)
{
    static char out[RULES_PATH_MAX + 1];
    size_t n;
    if (rules_path_normalize(path, strlen(path), out, sizeof out, &n) != 0)
        return "REFUSED";
    return out;
}

TEST(rules_default_policy)
{
    rules *r = parse("[]");
    REQUIRE(r != NULL);
    CHECK_EQ_INT(rules_count(r), 0);
    CHECK_EQ_INT(decide(r, "a.test", "/", &anon), RULES_UNAUTHENTICATED);
    CHECK_EQ_INT(decide(r, "a.test", "/", &user), RULES_ALLOW);
    CHECK_EQ_INT(decide(NULL, "a.test", "/", &user), RULES_ALLOW);
    CHECK_EQ_INT(decide_as(NULL, RULES_DENY, "a", "GET", "/", &user), RULES_FORBIDDEN);
    CHECK_EQ_INT(decide_as(NULL, RULES_DENY, "a", "GET", "/", &anon), RULES_FORBIDDEN);
    CHECK_EQ_INT(decide_as(NULL, RULES_PUBLIC, "a", "GET", "/", &anon), RULES_ALLOW);
    CHECK_EQ_INT(decide_as(NULL, RULES_TWO_FACTOR, "a", "GET", "/", &anon), RULES_UNAUTHENTICATED);
    CHECK_EQ_INT(decide_as(NULL, RULES_TWO_FACTOR, "a", "GET", "/", &user), RULES_FORBIDDEN);
    CHECK_EQ_INT(decide_as(NULL, RULES_TWO_FACTOR, "a", "GET", "/", &user2fa), RULES_ALLOW);
    rules_free(r);
}

TEST(rules_policies)
{
    rules *r = parse("[{\"paths\": [\"/deny/\"], \"policy\": \"deny\"},"
                     " {\"paths\": [\"/pub/\"], \"policy\": \"public\"},"
                     " {\"paths\": [\"/auth/\"], \"policy\": \"authenticated\"},"
                     " {\"paths\": [\"/2fa/\"], \"policy\": \"two_factor\"}]");
    REQUIRE(r != NULL);
    CHECK_EQ_INT(rules_count(r), 4);
    CHECK_EQ_INT(decide(r, "h", "/deny/x", &anon), RULES_FORBIDDEN);
    CHECK_EQ_INT(decide(r, "h", "/deny/x", &user2fa), RULES_FORBIDDEN);
    CHECK_EQ_INT(decide(r, "h", "/pub/x", &anon), RULES_ALLOW);
    CHECK_EQ_INT(decide(r, "h", "/pub/x", &user), RULES_ALLOW);
    CHECK_EQ_INT(decide(r, "h", "/auth/x", &anon), RULES_UNAUTHENTICATED);
    CHECK_EQ_INT(decide(r, "h", "/auth/x", &user), RULES_ALLOW);
    CHECK_EQ_INT(decide(r, "h", "/2fa/x", &anon), RULES_UNAUTHENTICATED);
    CHECK_EQ_INT(decide(r, "h", "/2fa/x", &user), RULES_FORBIDDEN);
    CHECK_EQ_INT(decide(r, "h", "/2fa/x", &user2fa), RULES_ALLOW);
    /* No rule matches: the default. */
    CHECK_EQ_INT(decide_as(r, RULES_PUBLIC, "h", "GET", "/other", &anon), RULES_ALLOW);
    CHECK_EQ_INT(decide_as(r, RULES_DENY, "h", "GET", "/other", &user), RULES_FORBIDDEN);
    rules_free(r);
}

TEST(rules_first_match_wins)
{
    rules *r = parse("[{\"paths\": [\"/a/\"], \"policy\": \"public\"},"
                     " {\"paths\": [\"/a/b/\"], \"policy\": \"deny\"},"
                     " {\"policy\": \"deny\"}]");
    REQUIRE(r != NULL);
    CHECK_EQ_INT(decide(r, "h", "/a/b/c", &anon), RULES_ALLOW);
    CHECK_EQ_INT(decide(r, "h", "/b", &user), RULES_FORBIDDEN);
    rules_free(r);
    r = parse("[{\"paths\": [\"/a/b/\"], \"policy\": \"deny\"},"
              " {\"paths\": [\"/a/\"], \"policy\": \"public\"}]");
    REQUIRE(r != NULL);
    CHECK_EQ_INT(decide(r, "h", "/a/b/c", &anon), RULES_FORBIDDEN);
    CHECK_EQ_INT(decide(r, "h", "/a/c", &anon), RULES_ALLOW);
    rules_free(r);
}

TEST(rules_hosts)
{
    rules *r = parse("[{\"hosts\": [\"App.Example.com\"], \"policy\": \"public\"},"
                     " {\"hosts\": [\"*.Internal.test\"], \"policy\": \"deny\"},"
                     " {\"hosts\": [\"[::1]\", \"127.0.0.1\"], \"policy\": \"public\"}]");
    REQUIRE(r != NULL);
    /* Case and port do not count; nor does the absolute form's dot. */
    CHECK_EQ_INT(decide(r, "app.example.com", "/", &anon), RULES_ALLOW);
    CHECK_EQ_INT(decide(r, "APP.EXAMPLE.COM:8443", "/", &anon), RULES_ALLOW);
    CHECK_EQ_INT(decide(r, "app.example.com.", "/", &anon), RULES_ALLOW);
    CHECK_EQ_INT(decide(r, "xapp.example.com", "/", &anon), RULES_UNAUTHENTICATED);
    CHECK_EQ_INT(decide(r, "app.example.com.evil", "/", &anon), RULES_UNAUTHENTICATED);
    /* No host: the proxy's site is unknown, and a host's rule may be
     * stricter than what follows it (nginx serves a request without Host
     * from its default server). */
    CHECK_EQ_INT(decide(r, NULL, "/", &anon), RULES_FORBIDDEN);
    CHECK_EQ_INT(decide(r, "", "/", &user), RULES_FORBIDDEN);
    /* A wildcard: any subdomain at any depth, never the domain itself. */
    CHECK_EQ_INT(decide(r, "a.internal.test", "/", &user), RULES_FORBIDDEN);
    CHECK_EQ_INT(decide(r, "b.a.INTERNAL.test:80", "/", &user), RULES_FORBIDDEN);
    CHECK_EQ_INT(decide(r, "internal.test", "/", &user), RULES_ALLOW);
    CHECK_EQ_INT(decide(r, "evilinternal.test", "/", &user), RULES_ALLOW);
    /* IP literals, with and without a port. */
    CHECK_EQ_INT(decide(r, "[::1]:8080", "/", &anon), RULES_ALLOW);
    CHECK_EQ_INT(decide(r, "[::1]", "/", &anon), RULES_ALLOW);
    CHECK_EQ_INT(decide(r, "127.0.0.1:80", "/", &anon), RULES_ALLOW);
    CHECK_EQ_INT(decide(r, "127.0.0.2", "/", &anon), RULES_UNAUTHENTICATED);
    /* A NUL inside the host matches nothing. */
    struct rules_request q = {"app.example.com\0x", 17, "/", 1, "GET", 3};
    CHECK_EQ_INT(rules_decide(r, RULES_AUTHENTICATED, &q, &anon), RULES_FORBIDDEN);
    rules_free(r);
}

TEST(rules_names_host)
{
    rules *r = parse("[{\"hosts\": [\"app.example.com\"], \"policy\": \"public\"},"
                     " {\"hosts\": [\"*.corp.test\"], \"policy\": \"deny\"},"
                     " {\"paths\": [\"/x/\"], \"policy\": \"deny\"}]");
    REQUIRE(r != NULL);
    CHECK(rules_names_host(r, "app.example.com", 15));
    CHECK(rules_names_host(r, "APP.example.com:443", 19));
    CHECK(rules_names_host(r, "wiki.corp.test", 14));
    CHECK(!rules_names_host(r, "corp.test", 9));
    CHECK(!rules_names_host(r, "example.com", 11));
    CHECK(!rules_names_host(r, "evil.test", 9));
    CHECK(!rules_names_host(r, "", 0));
    CHECK(!rules_names_host(NULL, "app.example.com", 15));
    rules_free(r);
}

TEST(rules_paths_prefix)
{
    rules *r = parse("[{\"paths\": [\"/api/\", \"/exact\"], \"policy\": \"public\"}]");
    REQUIRE(r != NULL);
    CHECK_EQ_INT(decide(r, "h", "/api/", &anon), RULES_ALLOW);
    CHECK_EQ_INT(decide(r, "h", "/api/v1/x?y=1", &anon), RULES_ALLOW);
    CHECK_EQ_INT(decide(r, "h", "/api", &anon), RULES_UNAUTHENTICATED);
    CHECK_EQ_INT(decide(r, "h", "/apix", &anon), RULES_UNAUTHENTICATED);
    CHECK_EQ_INT(decide(r, "h", "/exact", &anon), RULES_ALLOW);
    CHECK_EQ_INT(decide(r, "h", "/exactly", &anon), RULES_ALLOW); /* a prefix */
    CHECK_EQ_INT(decide(r, "h", "/Api/", &anon), RULES_UNAUTHENTICATED);
    rules_free(r);
}

TEST(rules_paths_glob)
{
    rules *r = parse("[{\"paths\": [\"/u/*/profile\"], \"policy\": \"public\"},"
                     " {\"paths\": [\"/files/**.pdf\"], \"policy\": \"deny\"},"
                     " {\"paths\": [\"/v?/x\"], \"policy\": \"public\"},"
                     " {\"paths\": [\"/s/*\"], \"policy\": \"two_factor\"}]");
    REQUIRE(r != NULL);
    /* * matches within one segment, also nothing. */
    CHECK_EQ_INT(decide(r, "h", "/u/alice/profile", &anon), RULES_ALLOW);
    CHECK_EQ_INT(decide(r, "h", "/u//profile", &anon), RULES_UNAUTHENTICATED); /* "/u/profile" */
    CHECK_EQ_INT(decide(r, "h", "/u/a/b/profile", &anon), RULES_UNAUTHENTICATED);
    CHECK_EQ_INT(decide(r, "h", "/u/alice/profile/x", &anon), RULES_UNAUTHENTICATED);
    /* ** crosses segments. */
    CHECK_EQ_INT(decide(r, "h", "/files/a.pdf", &user), RULES_FORBIDDEN);
    CHECK_EQ_INT(decide(r, "h", "/files/a/b/c.pdf", &user), RULES_FORBIDDEN);
    CHECK_EQ_INT(decide(r, "h", "/files/a/b/c.pdfx", &user), RULES_ALLOW);
    CHECK_EQ_INT(decide(r, "h", "/files/a.PDF", &user), RULES_ALLOW);
    /* ? is one byte, not '/'. */
    CHECK_EQ_INT(decide(r, "h", "/v1/x", &anon), RULES_ALLOW);
    CHECK_EQ_INT(decide(r, "h", "/v12/x", &anon), RULES_UNAUTHENTICATED);
    CHECK_EQ_INT(decide(r, "h", "/v//x", &anon), RULES_UNAUTHENTICATED);
    CHECK_EQ_INT(decide(r, "h", "/s/", &user), RULES_FORBIDDEN);
    CHECK_EQ_INT(decide(r, "h", "/s/a", &user), RULES_FORBIDDEN);
    CHECK_EQ_INT(decide(r, "h", "/s/a/b", &user), RULES_ALLOW);
    rules_free(r);
    /* The end of a glob is compared first: short paths, long ends, an end
     * that differs in its first or in its last bytes. */
    r = parse("[{\"paths\": [\"/a/?\", \"/d/*/long-suffix-here.html\"], \"policy\": \"deny\"}]");
    REQUIRE(r != NULL);
    CHECK_EQ_INT(decide(r, "h", "/a/b", &user), RULES_FORBIDDEN);
    CHECK_EQ_INT(decide(r, "h", "/a/", &user), RULES_ALLOW);
    CHECK_EQ_INT(decide(r, "h", "/a/bc", &user), RULES_ALLOW);
    CHECK_EQ_INT(decide(r, "h", "/d/x/long-suffix-here.html", &user), RULES_FORBIDDEN);
    CHECK_EQ_INT(decide(r, "h", "/d//long-suffix-here.html", &user),
                 RULES_ALLOW); /* "/d/long..." */
    CHECK_EQ_INT(decide(r, "h", "/d/x/Long-suffix-here.html", &user), RULES_ALLOW);
    CHECK_EQ_INT(decide(r, "h", "/d/x/long-suffix-here.htmx", &user), RULES_ALLOW);
    CHECK_EQ_INT(decide(r, "h", "/d/x/y/long-suffix-here.html", &user), RULES_ALLOW);
    rules_free(r);
    /* Many stars cost no backtracking: a long path against them ends. */
    r = parse("[{\"paths\": [\"/**a**a**a**a**a**a**a**a**b\"], \"policy\": \"deny\"}]");
    REQUIRE(r != NULL);
    char path[4001];
    path[0] = '/';
    memset(path + 1, 'a', sizeof path - 2);
    path[sizeof path - 1] = '\0';
    CHECK_EQ_INT(decide(r, "h", path, &user), RULES_ALLOW);
    path[sizeof path - 2] = 'b';
    CHECK_EQ_INT(decide(r, "h", path, &user), RULES_FORBIDDEN);
    rules_free(r);
}

TEST(rules_methods)
{
    rules *r = parse("[{\"methods\": [\"GET\", \"HEAD\"], \"paths\": [\"/r/\"], "
                     "\"policy\": \"public\"}]");
    REQUIRE(r != NULL);
    CHECK_EQ_INT(decide_as(r, RULES_AUTHENTICATED, "h", "GET", "/r/x", &anon), RULES_ALLOW);
    CHECK_EQ_INT(decide_as(r, RULES_AUTHENTICATED, "h", "HEAD", "/r/x", &anon), RULES_ALLOW);
    CHECK_EQ_INT(decide_as(r, RULES_AUTHENTICATED, "h", "POST", "/r/x", &anon),
                 RULES_UNAUTHENTICATED);
    CHECK_EQ_INT(decide_as(r, RULES_AUTHENTICATED, "h", "get", "/r/x", &anon), RULES_ALLOW);
    CHECK_EQ_INT(decide_as(r, RULES_AUTHENTICATED, "h", "pOsT", "/r/x", &anon),
                 RULES_UNAUTHENTICATED);
    CHECK_EQ_INT(decide_as(r, RULES_AUTHENTICATED, "h", "GETX", "/r/x", &anon),
                 RULES_UNAUTHENTICATED);
    CHECK_EQ_INT(decide_as(r, RULES_AUTHENTICATED, "h", NULL, "/r/x", &anon),
                 RULES_UNAUTHENTICATED);
    rules_free(r);
    /* Names longer than 8 bytes compare whole. */
    r = parse("[{\"methods\": [\"MKCALENDAR\", \"PROPFIND\"], \"policy\": \"deny\"}]");
    REQUIRE(r != NULL);
    CHECK_EQ_INT(decide_as(r, RULES_PUBLIC, "h", "MKCALENDAR", "/", &anon), RULES_FORBIDDEN);
    CHECK_EQ_INT(decide_as(r, RULES_PUBLIC, "h", "MKCALENDAX", "/", &anon), RULES_ALLOW);
    CHECK_EQ_INT(decide_as(r, RULES_PUBLIC, "h", "MKCALEND", "/", &anon), RULES_ALLOW);
    CHECK_EQ_INT(decide_as(r, RULES_PUBLIC, "h", "PROPFIND", "/", &anon), RULES_FORBIDDEN);
    /* In any case: an application that reads "propfind" as PROPFIND is
     * denied it too. */
    CHECK_EQ_INT(decide_as(r, RULES_PUBLIC, "h", "propfind", "/", &anon), RULES_FORBIDDEN);
    CHECK_EQ_INT(decide_as(r, RULES_PUBLIC, "h", "MkCalendar", "/", &anon), RULES_FORBIDDEN);
    struct rules_request q = {"h", 1, "/", 1, "PROPFIND\0", 9};
    CHECK_EQ_INT(rules_decide(r, RULES_PUBLIC, &q, &anon), RULES_ALLOW);
    rules_free(r);
}

TEST(rules_roles)
{
    rules *r =
        parse("[{\"paths\": [\"/ops/\"], \"roles\": [\"ops\", \"admin\"], "
              "\"policy\": \"authenticated\"},"
              " {\"paths\": [\"/sec/\"], \"roles\": [\"ops\"], \"policy\": \"two_factor\"},"
              " {\"paths\": [\"/dev/\"], \"roles\": [\"de\"], \"policy\": \"authenticated\"}]");
    REQUIRE(r != NULL);
    CHECK_EQ_INT(decide(r, "h", "/ops/x", &anon), RULES_UNAUTHENTICATED);
    CHECK_EQ_INT(decide(r, "h", "/ops/x", &user), RULES_FORBIDDEN);
    CHECK_EQ_INT(decide(r, "h", "/ops/x", &ops), RULES_ALLOW);
    struct rules_subject admin = {true, false, "admin", 5};
    CHECK_EQ_INT(decide(r, "h", "/ops/x", &admin), RULES_ALLOW);
    struct rules_subject opsx = {true, false, "opsx,xops", 9};
    CHECK_EQ_INT(decide(r, "h", "/ops/x", &opsx), RULES_FORBIDDEN);
    CHECK_EQ_INT(decide(r, "h", "/sec/x", &anon), RULES_UNAUTHENTICATED);
    CHECK_EQ_INT(decide(r, "h", "/sec/x", &ops), RULES_FORBIDDEN);
    CHECK_EQ_INT(decide(r, "h", "/sec/x", &user2fa), RULES_FORBIDDEN);
    CHECK_EQ_INT(decide(r, "h", "/sec/x", &ops2fa), RULES_ALLOW);
    /* "de" is not a prefix of "dev": whole names only. */
    CHECK_EQ_INT(decide(r, "h", "/dev/x", &ops), RULES_FORBIDDEN);
    rules_free(r);
}

TEST(rules_absent_field_is_any)
{
    rules *r = parse("[{\"hosts\": [\"a.test\"], \"policy\": \"deny\"},"
                     " {\"methods\": [\"DELETE\"], \"policy\": \"deny\"},"
                     " {\"paths\": [\"/\"], \"policy\": \"public\"}]");
    REQUIRE(r != NULL);
    CHECK_EQ_INT(decide_as(r, RULES_AUTHENTICATED, "a.test", "POST", "/any/x", &anon),
                 RULES_FORBIDDEN);
    CHECK_EQ_INT(decide_as(r, RULES_AUTHENTICATED, "b.test", "DELETE", "/x", &anon),
                 RULES_FORBIDDEN);
    CHECK_EQ_INT(decide_as(r, RULES_AUTHENTICATED, "b.test", "PUT", "/x", &anon), RULES_ALLOW);
    /* Without a host, a.test's deny is not passed over for the public rule. */
    CHECK_EQ_INT(decide_as(r, RULES_AUTHENTICATED, NULL, "GET", "/x", &anon), RULES_FORBIDDEN);
    rules_free(r);
}

TEST(rules_path_normalisation)
{
    CHECK_EQ_STR(norm("/"), "/");
    CHECK_EQ_STR(norm("/a/b?x=/../admin"), "/a/b");
    CHECK_EQ_STR(norm("/a/../admin"), "/admin");
    CHECK_EQ_STR(norm("/a/%2e%2e/admin"), "/admin");
    CHECK_EQ_STR(norm("/a/%2E./admin/"), "/admin/");
    CHECK_EQ_STR(norm("/a/./b/."), "/a/b/");
    CHECK_EQ_STR(norm("/a/b/.."), "/a/");
    CHECK_EQ_STR(norm("/.."), "/");
    CHECK_EQ_STR(norm("/../../a"), "/a");
    CHECK_EQ_STR(norm("//admin"), "/admin");
    CHECK_EQ_STR(norm("/a//b///c/"), "/a/b/c/");
    CHECK_EQ_STR(norm("/%61dmin"), "/admin");
    CHECK_EQ_STR(norm("/a%3Fb"), "/a?b");
    CHECK_EQ_STR(norm("/a%25"), "/a%");
    CHECK_EQ_STR(norm("/.well-known/x"), "/.well-known/x");
    CHECK_EQ_STR(norm("/a/...b"), "/a/...b");
    CHECK_EQ_STR(norm("/?q"), "/");
    /* Refused: judged deny. */
    CHECK_EQ_STR(norm(""), "REFUSED");
    CHECK_EQ_STR(norm("?x"), "REFUSED");
    CHECK_EQ_STR(norm("admin"), "REFUSED");
    CHECK_EQ_STR(norm("*"), "REFUSED");
    CHECK_EQ_STR(norm("http://h/admin"), "REFUSED");
    CHECK_EQ_STR(norm("/a%2Fb"), "REFUSED");
    CHECK_EQ_STR(norm("/a%2fb"), "REFUSED");
    CHECK_EQ_STR(norm("/a%00"), "REFUSED");
    CHECK_EQ_STR(norm("/a%5Cb"), "REFUSED");
    CHECK_EQ_STR(norm("/a\\b"), "REFUSED");
    CHECK_EQ_STR(norm("/a%"), "REFUSED");
    CHECK_EQ_STR(norm("/a%4"), "REFUSED");
    CHECK_EQ_STR(norm("/a%G1"), "REFUSED");
    char raw[] = "/a\0b";
    char out[16];
    size_t n;
    CHECK_EQ_INT(rules_path_normalize(raw, 4, out, sizeof out, &n), -1);
    /* A bad escape after the query does not count. */
    CHECK_EQ_STR(norm("/a?%zz"), "/a");
}

TEST(rules_refused_path_is_denied)
{
    /* Even where everything is public, a refused path is 403. */
    rules *r = parse("[{\"policy\": \"public\"}]");
    REQUIRE(r != NULL);
    CHECK_EQ_INT(decide(r, "h", "/a/b", &anon), RULES_ALLOW);
    CHECK_EQ_INT(decide(r, "h", "/a%2Fb", &anon), RULES_FORBIDDEN);
    CHECK_EQ_INT(decide(r, "h", "/a%zz", &user), RULES_FORBIDDEN);
    CHECK_EQ_INT(decide(r, "h", "x", &user), RULES_FORBIDDEN);
    CHECK_EQ_INT(decide_as(NULL, RULES_PUBLIC, "h", "GET", "/%00", &anon), RULES_FORBIDDEN);
    rules_free(r);
    /* The normalised path meets the rules: no way around /admin/. */
    r = parse("[{\"paths\": [\"/admin/\"], \"policy\": \"deny\"}, {\"policy\": \"public\"}]");
    REQUIRE(r != NULL);
    const char *around[] = {"/admin/",   "/x/../admin/",      "/%61dmin/", "//admin/",
                            "/./admin/", "/x/%2e%2e/admin/y", "/admin/?",  "/admin/."};
    for (size_t i = 0; i < sizeof around / sizeof *around; i++)
        CHECK_EQ_INT(decide(r, "h", around[i], &user), RULES_FORBIDDEN);
    CHECK_EQ_INT(decide(r, "h", "/admin", &user), RULES_ALLOW); /* not under /admin/ */
    rules_free(r);
}

TEST(rules_path_too_long)
{
    rules *r = parse("[{\"policy\": \"public\"}]");
    REQUIRE(r != NULL);
    char *p = malloc(RULES_PATH_MAX + 2);
    REQUIRE(p != NULL);
    memset(p, 'a', RULES_PATH_MAX + 1);
    p[0] = '/';
    p[RULES_PATH_MAX] = '\0';
    CHECK_EQ_INT(decide(r, "h", p, &anon), RULES_ALLOW);
    p[RULES_PATH_MAX] = 'a';
    p[RULES_PATH_MAX + 1] = '\0';
    CHECK_EQ_INT(decide(r, "h", p, &anon), RULES_FORBIDDEN);
    free(p);
    rules_free(r);
}

TEST(rules_syntax_errors)
{
    CHECK(err_starts("[\n{\"policy\": \"public\"\n", "t.json:3: "));
    CHECK(err_starts("", "t.json:1: "));
    CHECK(err_starts("[\n{\"policy\": \"public\",\n \"policy\": \"deny\"}]", "t.json:3: "));
    CHECK(err_starts("{\"policy\": \"public\"}", "t.json:1: the rules must be a JSON array"));
    CHECK(err_starts("[{\"paths\": [\"/a\\u0000b\"], \"policy\": \"deny\"}]", "t.json:1: "));
}

TEST(rules_semantic_errors_have_lines)
{
    CHECK(err_starts("[\n  {\"policy\": \"public\"},\n  {\"policy\": \"maybe\"}\n]",
                     "t.json:3: rule 2: \"policy\" must be"));
    CHECK(err_starts("[\n {\n  \"paths\": [\"/\"],\n  \"polcy\": \"deny\"\n }\n]",
                     "t.json:4: rule 1: unknown key \"polcy\""));
    CHECK(err_starts("[\n {\n  \"paths\": [\"/\"]\n }\n]", "t.json:2: rule 1: no \"policy\""));
    CHECK(err_starts("[\n {\"policy\": 3}]", "t.json:2: rule 1: \"policy\" must be"));
    CHECK(err_starts("[\n {\"policy\": \"deny\",\n  \"roles\": [\n   \"ops\",\n   \"Ops\"]}]",
                     "t.json:5: rule 1: a bad role name"));
    CHECK(err_starts("[{\"policy\": \"public\",\n \"roles\": [\"ops\"]}]",
                     "t.json:2: rule 1: \"roles\" with policy \"public\""));
    CHECK(err_starts("[{\"policy\": \"deny\",\n \"roles\": [\"ops\"]}]",
                     "t.json:2: rule 1: \"roles\" with policy \"deny\""));
    CHECK(err_starts("[{\"policy\": \"deny\",\n \"hosts\": []}]",
                     "t.json:2: rule 1: \"hosts\" is empty"));
    CHECK(err_starts("[{\"policy\": \"deny\",\n \"methods\": \"GET\"}]",
                     "t.json:2: rule 1: \"methods\" must be an array"));
    CHECK(err_starts("[{\"policy\": \"deny\", \"methods\": [\n\"GET\",\n\"get\"]}]",
                     "t.json:3: rule 1: a bad method"));
    CHECK(err_starts("[{\"policy\": \"deny\", \"paths\": [\n\"/a/\",\n\"/a/***\"]}]",
                     "t.json:3: rule 1: a bad glob"));
    CHECK(err_starts("[{\"policy\": \"deny\", \"paths\": [\n\"a/\"]}]",
                     "t.json:2: rule 1: a path must start"));
    CHECK(err_starts("[{\"policy\": \"deny\", \"paths\": [\n\"/a/../b\"]}]",
                     "t.json:2: rule 1: a path has a \".\""));
    CHECK(err_starts("[{\"policy\": \"deny\", \"paths\": [\n\"/a//b\"]}]",
                     "t.json:2: rule 1: a path has \"//\""));
    CHECK(err_starts("[{\"policy\": \"deny\", \"paths\": [\n\"/a\\\\b\"]}]",
                     "t.json:2: rule 1: a path has a '\\'"));
    CHECK(err_starts("[{\"policy\": \"deny\", \"paths\": [\n\"/a\\tb\"]}]",
                     "t.json:2: rule 1: a path has a control"));
    CHECK(err_starts("[{\"policy\": \"deny\", \"paths\": [\"\"]}]",
                     "t.json:1: rule 1: an entry of \"paths\" is empty"));
    CHECK(err_starts("[{\"policy\": \"deny\", \"paths\": [\n7]}]",
                     "t.json:2: rule 1: \"paths\" must be an array of strings"));
    CHECK(err_starts("[\n\"deny\"]", "t.json:2: rule 1: a rule must be an object"));
    CHECK(err_starts("[{\"policy\": \"deny\", \"hosts\": [\n\"a.b:80\"]}]",
                     "t.json:2: rule 1: a host has no port"));
    CHECK(err_starts("[{\"policy\": \"deny\", \"hosts\": [\n\"a.*.b\"]}]",
                     "t.json:2: rule 1: a host may only start"));
    CHECK(err_starts("[{\"policy\": \"deny\", \"hosts\": [\n\"*\"]}]",
                     "t.json:2: rule 1: a host may only start"));
    CHECK(err_starts("[{\"policy\": \"deny\", \"hosts\": [\n\"a..b\"]}]",
                     "t.json:2: rule 1: a host has an empty label"));
    CHECK(err_starts("[{\"policy\": \"deny\", \"hosts\": [\n\"a.b.\"]}]",
                     "t.json:2: rule 1: a host has an empty label"));
    CHECK(err_starts("[{\"policy\": \"deny\", \"hosts\": [\n\"a/b\"]}]",
                     "t.json:2: rule 1: a host has a byte"));
    CHECK(err_starts("[{\"policy\": \"deny\", \"hosts\": [\n\"[zz]\"]}]",
                     "t.json:2: rule 1: a bracketed host"));
    CHECK(err_starts("[{\"policy\": \"deny\", \"hosts\": [\n\"*.[::1]\"]}]",
                     "t.json:2: rule 1: an IP address has no subdomains"));
    /* A key that contains the name of another is not mistaken for it. */
    CHECK(err_starts("[{\"policyx\": 1,\n \"policy\": \"deny\"}]",
                     "t.json:1: rule 1: unknown key \"policyx\""));
    /* Strings with brackets and commas do not confuse the line finder. */
    CHECK(err_starts("[{\"paths\": [\"/[,{\"], \"policy\": \"deny\"},\n"
                     " {\"paths\": [\"/\\\"],\"], \"policy\": \"deny\"},\n"
                     " {\"policy\": \"nope\"}]",
                     "t.json:3: rule 3: \"policy\" must be"));
}

/* A list of count copies of item (a JSON value) as "[item,item,...]". */
static char *json_list(const char *item, size_t count)
{
    size_t il = strlen(item);
    char *s = malloc(count * (il + 2) + 3);
    size_t w = 0;
    if (s == NULL)
        abort();
    s[w++] = '[';
    for (size_t i = 0; i < count; i++) {
        if (i > 0)
            s[w++] = '\n';
        memcpy(s + w, item, il);
        w += il;
        if (i + 1 < count)
            s[w++] = ',';
    }
    s[w++] = ']';
    s[w] = '\0';
    return s;
}

TEST(rules_limits)
{
    char want[64];
    /* RULES_MAX rules, one per line; one more is refused on its line. */
    char *s = json_list("{\"policy\":\"deny\"}", RULES_MAX);
    rules *r = parse(s);
    CHECK(r != NULL);
    CHECK_EQ_INT(rules_count(r), RULES_MAX);
    rules_free(r);
    free(s);
    s = json_list("{\"policy\":\"deny\"}", RULES_MAX + 1);
    snprintf(want, sizeof want, "t.json:%d: rule %d: more than %d rules", RULES_MAX + 1,
             RULES_MAX + 1, RULES_MAX);
    CHECK(err_starts(s, want));
    free(s);

    /* RULES_LIST_MAX entries in a list. */
    char *l = json_list("\"GET\"", RULES_LIST_MAX);
    s = malloc(strlen(l) + 64);
    snprintf(s, strlen(l) + 64, "[{\"policy\":\"deny\",\"methods\":%s}]", l);
    CHECK(strcmp(parse_err(s), "") == 0);
    free(s);
    free(l);
    l = json_list("\"GET\"", RULES_LIST_MAX + 1);
    s = malloc(strlen(l) + 64);
    snprintf(s, strlen(l) + 64, "[{\"policy\":\"deny\",\"methods\":%s}]", l);
    snprintf(want, sizeof want, "t.json:%d: rule 1: \"methods\" has more than", RULES_LIST_MAX + 1);
    CHECK(err_starts(s, want));
    free(s);
    free(l);

    /* A pattern of RULES_PATTERN_MAX bytes; one more. */
    s = malloc(RULES_PATTERN_MAX + 64);
    char *pat = malloc(RULES_PATTERN_MAX + 2);
    REQUIRE(s != NULL && pat != NULL);
    memset(pat, 'p', RULES_PATTERN_MAX + 1);
    pat[0] = '/';
    pat[RULES_PATTERN_MAX] = '\0';
    snprintf(s, RULES_PATTERN_MAX + 64, "[{\"policy\":\"deny\",\"paths\":[\"%s\"]}]", pat);
    CHECK(strcmp(parse_err(s), "") == 0);
    pat[RULES_PATTERN_MAX] = 'p';
    pat[RULES_PATTERN_MAX + 1] = '\0';
    snprintf(s, RULES_PATTERN_MAX + 64, "[{\"policy\":\"deny\",\"paths\":[\"%s\"]}]", pat);
    CHECK(err_starts(s, "t.json:1: rule 1: an entry of \"paths\" is longer than"));
    /* A host over 253 bytes; a method over RULES_METHOD_MAX; a role over 32. */
    memset(pat, 'h', 254);
    pat[254] = '\0';
    snprintf(s, RULES_PATTERN_MAX + 64, "[{\"policy\":\"deny\",\"hosts\":[\"%s\"]}]", pat);
    CHECK(err_starts(s, "t.json:1: rule 1: a host is longer than 253"));
    pat[253] = '\0';
    snprintf(s, RULES_PATTERN_MAX + 64, "[{\"policy\":\"deny\",\"hosts\":[\"%s\"]}]", pat);
    CHECK(strcmp(parse_err(s), "") == 0);
    char m[RULES_METHOD_MAX + 2];
    memset(m, 'M', RULES_METHOD_MAX + 1);
    m[RULES_METHOD_MAX + 1] = '\0';
    snprintf(s, RULES_PATTERN_MAX + 64, "[{\"policy\":\"deny\",\"methods\":[\"%s\"]}]", m);
    CHECK(err_starts(s, "t.json:1: rule 1: an entry of \"methods\" is longer than"));
    m[RULES_METHOD_MAX] = '\0';
    snprintf(s, RULES_PATTERN_MAX + 64, "[{\"policy\":\"deny\",\"methods\":[\"%s\"]}]", m);
    CHECK(strcmp(parse_err(s), "") == 0);
    memset(m, 'r', 33);
    m[33] = '\0';
    snprintf(s, RULES_PATTERN_MAX + 64, "[{\"policy\":\"authenticated\",\"roles\":[\"%s\"]}]", m);
    CHECK(err_starts(s, "t.json:1: rule 1: an entry of \"roles\" is longer than"));
    m[32] = '\0';
    snprintf(s, RULES_PATTERN_MAX + 64, "[{\"policy\":\"authenticated\",\"roles\":[\"%s\"]}]", m);
    CHECK(strcmp(parse_err(s), "") == 0);
    free(pat);
    free(s);

    /* The file's size: RULES_FILE_MAX bytes of spaces around [] parse; one more does not. */
    s = malloc(RULES_FILE_MAX + 1);
    memset(s, ' ', RULES_FILE_MAX + 1);
    s[0] = '[';
    s[1] = ']';
    char err[256];
    r = rules_parse(s, RULES_FILE_MAX, "t.json", err, sizeof err);
    CHECK(r != NULL);
    rules_free(r);
    r = rules_parse(s, RULES_FILE_MAX + 1, "t.json", err, sizeof err);
    CHECK(r == NULL);
    CHECK(strstr(err, "t.json: larger than") == err);
    free(s);
}

TEST(rules_policy_names)
{
    enum rules_policy p;
    CHECK_EQ_INT(rules_policy_parse("deny", &p), 0);
    CHECK_EQ_INT(p, RULES_DENY);
    CHECK_EQ_INT(rules_policy_parse("two_factor", &p), 0);
    CHECK_EQ_INT(p, RULES_TWO_FACTOR);
    CHECK_EQ_INT(rules_policy_parse("Deny", &p), -1);
    CHECK_EQ_INT(rules_policy_parse("", &p), -1);
    CHECK_EQ_STR(rules_policy_name(RULES_AUTHENTICATED), "authenticated");
}

static int write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fputs(text, f);
    fclose(f);
    return chmod(path, mode);
}

TEST(rules_load_and_reload)
{
    char dir[] = "/tmp/gh-rules-XXXXXX";
    REQUIRE(mkdtemp(dir) != NULL);
    char path[64], err[512];
    snprintf(path, sizeof path, "%s/rules.json", dir);

    CHECK(rules_load(path, err, sizeof err) == NULL); /* absent */
    CHECK(strstr(err, path) != NULL);
    REQUIRE(write_file(path, "[\n{\"paths\": [\"/a/\"], \"policy\": \"public\"}]", 0644) == 0);
    rules *r = rules_load(path, err, sizeof err);
    REQUIRE(r != NULL);
    rules_ref *ref = rules_ref_new(r, path);
    REQUIRE(ref != NULL);

    const rules *held = rules_ref_get(ref);
    CHECK_EQ_INT(decide(held, "h", "/a/x", &anon), RULES_ALLOW);

    /* A bad new file: the old rules stay, the error names FILE:LINE. */
    REQUIRE(write_file(path, "[\n{\"paths\": [\"/a/\"], \"policy\": \"nope\"}]", 0644) == 0);
    size_t count = 99;
    CHECK_EQ_INT(rules_ref_reload(ref, &count, err, sizeof err), -1);
    char want[128];
    snprintf(want, sizeof want, "%s:2: rule 1: \"policy\"", path);
    CHECK(strncmp(err, want, strlen(want)) == 0);
    const rules *now = rules_ref_get(ref);
    CHECK(now == held);
    rules_ref_put(now);

    /* A good one: current from now on; the held rules live until put. */
    REQUIRE(write_file(path,
                       "[{\"paths\": [\"/a/\"], \"policy\": \"deny\"}, {\"policy\": \"deny\"}]",
                       0644) == 0);
    CHECK_EQ_INT(rules_ref_reload(ref, &count, err, sizeof err), 0);
    CHECK_EQ_INT(count, 2);
    now = rules_ref_get(ref);
    CHECK_EQ_INT(decide(now, "h", "/a/x", &anon), RULES_FORBIDDEN);
    CHECK_EQ_INT(decide(held, "h", "/a/x", &anon), RULES_ALLOW);
    rules_ref_put(now);
    rules_ref_put(held);

    /* A file others may write is refused: it decides who gets in. */
    REQUIRE(write_file(path, "[]", 0666) == 0);
    CHECK(rules_load(path, err, sizeof err) == NULL);
    CHECK_EQ_INT(rules_ref_reload(ref, &count, err, sizeof err), -1);

    rules_ref_free(ref);
    unlink(path);
    rmdir(dir);

    /* No file: no rules, nothing to reload. */
    ref = rules_ref_new(NULL, NULL);
    REQUIRE(ref != NULL);
    CHECK(rules_ref_get(ref) == NULL);
    CHECK_EQ_INT(rules_ref_reload(ref, &count, err, sizeof err), -1);
    rules_ref_free(ref);
}

TEST(rules_errors_are_one_line)
{
    /* jansson's message quotes the text, a key may hold a line break: the
     * error is one line of the log whatever the file holds. */
    const char *e = parse_err("\"  [\\\n\n  [");
    CHECK(e[0] != '\0' && strchr(e, '\n') == NULL);
    e = parse_err("[{\"a\\nb\\u001b\": 1, \"policy\": \"deny\"}]");
    CHECK(strstr(e, "unknown key \"a?b?\"") != NULL);
}
