/* util/fwdreq: the original request behind a forward-authentication proxy. */
#include <string.h>

#include "util/fwdreq.h"
#include "test.h"

/* The original request of headers h from a trusted peer (or not), with the
 * /verify request's own GET, Host and path. */
static enum fwdreq_status parse(const struct fwdreq_headers *h, bool trusted, struct fwdreq *out)
{
    return fwdreq_parse(h, trusted, "GET", "auth.example.com:8080", "/verify", out);
}

static char target_buf[FWDREQ_TARGET_MAX + 2];
static const char *target(const struct fwdreq *f)
{
    memcpy(target_buf, f->target, f->target_len);
    target_buf[f->target_len] = '\0';
    return target_buf;
}

TEST(fwdreq_forwarded_headers)
{
    struct fwdreq f;
    struct fwdreq_headers h = {
        .method = "POST", .proto = "HTTPS", .host = "App.Example.COM:8443", .uri = "/api/x?y=1"};

    CHECK_EQ_INT(parse(&h, true, &f), FWDREQ_OK);
    CHECK_EQ_STR(f.method, "POST");
    CHECK_EQ_STR(f.scheme, "https");
    CHECK_EQ_STR(f.host, "app.example.com");
    CHECK_EQ_STR(f.port, "8443");
    CHECK_EQ_STR(target(&f), "/api/x?y=1");
    CHECK_EQ_INT((long)f.path_len, 6);
    /* X-Original-URI when there is no X-Forwarded-Uri; Host when no
     * X-Forwarded-Host; http and the request's method by default. */
    struct fwdreq_headers o = {.original_uri = "/admin/"};
    CHECK_EQ_INT(parse(&o, true, &f), FWDREQ_OK);
    CHECK_EQ_STR(f.method, "GET");
    CHECK_EQ_STR(f.scheme, "http");
    CHECK_EQ_STR(f.host, "auth.example.com");
    CHECK_EQ_STR(target(&f), "/admin/");
    /* The target named twice: one of them is a client's, so neither is
     * believed, whichever pair it is. */
    struct fwdreq_headers both = {.uri = "/a", .original_uri = "/b"};
    CHECK_EQ_INT(parse(&both, true, &f), FWDREQ_AMBIGUOUS);
    struct fwdreq_headers url_uri = {.original_url = "http://a.example/a", .uri = "/b"};
    CHECK_EQ_INT(parse(&url_uri, true, &f), FWDREQ_AMBIGUOUS);
    struct fwdreq_headers url_orig = {.original_url = "http://a.example/a", .original_uri = "/b"};
    CHECK_EQ_INT(parse(&url_orig, true, &f), FWDREQ_AMBIGUOUS);
    /* From a peer that is not trusted they are ignored, ambiguous or not. */
    CHECK_EQ_INT(parse(&both, false, &f), FWDREQ_OK);
    CHECK_EQ_STR(target(&f), "/verify");
}

TEST(fwdreq_original_url)
{
    struct fwdreq f;
    struct fwdreq_headers h = {.original_url = "https://Docs.Example.com:443/x/y?q#",
                               .host = "ignored.example.com"};

    /* A fragment is never sent by a client. */
    CHECK_EQ_INT(parse(&h, true, &f), FWDREQ_BAD_TARGET);
    h.original_url = "https://Docs.Example.com:443/x/y?q";
    CHECK_EQ_INT(parse(&h, true, &f), FWDREQ_OK);
    CHECK_EQ_STR(f.scheme, "https");
    CHECK_EQ_STR(f.host, "docs.example.com");
    CHECK_EQ_STR(target(&f), "/x/y?q");
    CHECK_EQ_INT((long)f.path_len, 4);
    h.original_url = "http://[2001:DB8::1]:80";
    CHECK_EQ_INT(parse(&h, true, &f), FWDREQ_OK);
    CHECK_EQ_STR(f.host, "[2001:db8::1]");
    CHECK_EQ_STR(f.port, "80");
    CHECK_EQ_STR(target(&f), "/");
    h.original_url = "http://a.example?x=1";
    CHECK_EQ_INT(parse(&h, true, &f), FWDREQ_BAD_TARGET);
    /* Userinfo, another scheme, no scheme. */
    const char *bad[] = {"https://good.example@evil.example/",
                         "ftp://a.example/",
                         "//a.example/",
                         "a.example/x",
                         "https:///x",
                         "javascript://x/%0a"};
    const enum fwdreq_status why[] = {FWDREQ_BAD_HOST,   FWDREQ_BAD_SCHEME, FWDREQ_BAD_SCHEME,
                                      FWDREQ_BAD_SCHEME, FWDREQ_BAD_HOST,   FWDREQ_BAD_SCHEME};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        h.original_url = bad[i];
        CHECK_EQ_INT(parse(&h, true, &f), why[i]);
    }
}

TEST(fwdreq_untrusted_peer)
{
    struct fwdreq f;
    struct fwdreq_headers h = {.method = "DELETE",
                               .proto = "https",
                               .host = "admin.example.com",
                               .uri = "/admin",
                               .original_url = "https://admin.example.com/admin"};

    /* Ignored, malformed or not: the /verify request itself. */
    CHECK_EQ_INT(parse(&h, false, &f), FWDREQ_OK);
    CHECK_EQ_STR(f.method, "GET");
    CHECK_EQ_STR(f.scheme, "http");
    CHECK_EQ_STR(f.host, "auth.example.com");
    CHECK_EQ_STR(target(&f), "/verify");
    h.host = "bad host";
    CHECK_EQ_INT(parse(&h, false, &f), FWDREQ_OK);
    /* No Host at all: no host. */
    CHECK_EQ_INT(fwdreq_parse(&h, false, "GET", NULL, "/verify", &f), FWDREQ_OK);
    CHECK_EQ_STR(f.host, "");
}

TEST(fwdreq_malformed)
{
    struct fwdreq f;
    struct fwdreq_headers h = {0};
    static char longhost[FWDREQ_HOST_MAX + 2], longtarget[FWDREQ_TARGET_MAX + 2];

    const char *hosts[] = {"a b.example",
                           "a\tb",
                           "good@evil.example",
                           "a.example:80x",
                           "a.example:123456",
                           "[::1",
                           "[]",
                           ":80",
                           "a%2eb",
                           "a.example/x",
                           "\xc3\xa9.example",
                           "a\\b.example"};
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        h.host = hosts[i];
        CHECK_EQ_INT(parse(&h, true, &f), FWDREQ_BAD_HOST);
    }
    memset(longhost, 'a', FWDREQ_HOST_MAX);
    h.host = longhost;
    CHECK_EQ_INT(parse(&h, true, &f), FWDREQ_OK);
    longhost[FWDREQ_HOST_MAX] = 'a';
    CHECK_EQ_INT(parse(&h, true, &f), FWDREQ_BAD_HOST);
    h.host = "a.example:";
    CHECK_EQ_INT(parse(&h, true, &f), FWDREQ_OK);
    CHECK_EQ_STR(f.host, "a.example");
    CHECK_EQ_STR(f.port, "");

    h.host = NULL;
    const char *targets[] = {"", "x", "/a b", "/a\x01", "/a#b", "/\xc3\xa9", "*"};
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        h.uri = targets[i];
        CHECK_EQ_INT(parse(&h, true, &f), FWDREQ_BAD_TARGET);
    }
    memset(longtarget, 'a', FWDREQ_TARGET_MAX);
    longtarget[0] = '/';
    h.uri = longtarget;
    CHECK_EQ_INT(parse(&h, true, &f), FWDREQ_OK);
    longtarget[FWDREQ_TARGET_MAX] = 'a';
    CHECK_EQ_INT(parse(&h, true, &f), FWDREQ_BAD_TARGET);

    h.uri = NULL;
    const char *methods[] = {"", "GE T", "G\x01", "(GET)", "GETGETGETGETGETGETGETGETGETGETGET"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        h.method = methods[i];
        CHECK_EQ_INT(parse(&h, true, &f), FWDREQ_BAD_METHOD);
    }
    h.method = NULL;
    const char *protos[] = {"", "ftp", "https,http", "http "};
    for (size_t i = 0; i < sizeof protos / sizeof protos[0]; i++) {
        h.proto = protos[i];
        CHECK_EQ_INT(parse(&h, true, &f), FWDREQ_BAD_SCHEME);
    }
    CHECK(strlen(fwdreq_status_text(FWDREQ_BAD_HOST)) > 0);
}
