/* cli/pubaddr: PUBLIC_URL and COOKIE_DOMAIN, checked and normalised. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/pubaddr.h"
#include "test.h"

/* Checks url; the normalised form and its origin's length, or NULL. */
static const char *url_ok(const char *in, char *buf, size_t cap, size_t *olen)
{
    char err[300];

    snprintf(buf, cap, "%s", in);
    return pubaddr_check_url(buf, olen, err, sizeof err) == 0 ? buf : NULL;
}

TEST(pubaddr_url_forms)
{
    static const char *const cases[][3] = {
        /* given, normalised, origin */
        {"https://auth.example.com", "https://auth.example.com", "https://auth.example.com"},
        {"https://auth.example.com/", "https://auth.example.com", "https://auth.example.com"},
        {"HTTPS://Auth.Example.COM:8443/", "https://auth.example.com:8443",
         "https://auth.example.com:8443"},
        {"https://auth.example.com:443", "https://auth.example.com", "https://auth.example.com"},
        {"http://auth.example.com:80/x", "http://auth.example.com/x", "http://auth.example.com"},
        {"http://auth.example.com:443", "http://auth.example.com:443",
         "http://auth.example.com:443"},
        {"http://127.0.0.1:8000", "http://127.0.0.1:8000", "http://127.0.0.1:8000"},
        {"http://[::1]:8000/", "http://[::1]:8000", "http://[::1]:8000"},
        {"https://[2001:DB8::1]", "https://[2001:db8::1]", "https://[2001:db8::1]"},
        {"http://localhost:8000", "http://localhost:8000", "http://localhost:8000"},
        {"https://example.com/auth/Pre%2Dfix//", "https://example.com/auth/Pre%2Dfix",
         "https://example.com"},
        {"https://xn--80ak6aa92e.com", "https://xn--80ak6aa92e.com", "https://xn--80ak6aa92e.com"},
    };
    char buf[PUBADDR_URL_MAX + 1];
    size_t olen = 0;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = url_ok(cases[i][0], buf, sizeof buf, &olen);
        CHECK_EQ_STR(got, cases[i][1]);
        if (got != NULL) {
            CHECK_EQ_INT(olen, strlen(cases[i][2]));
            CHECK(strncmp(got, cases[i][2], olen) == 0);
        }
    }
}

TEST(pubaddr_url_refused)
{
    static const char *const bad[] = {
        "",
        "auth.example.com",
        "ftp://auth.example.com",
        "https:/auth.example.com",
        "https://",
        "https:///path",
        "https://user:pw@auth.example.com",
        "https://auth.example.com?x=1",
        "https://auth.example.com/#top",
        "https://auth.example.com:0",
        "https://auth.example.com:65536",
        "https://auth.example.com:",
        "https://auth.example.com:+80",
        "https://auth.example.com:8a",
        "https://auth..example.com",
        "https://.example.com",
        "https://example.com.",
        "https://-x.example.com",
        "https://x_y.example.com",
        "https://ex ample.com",
        "https://пример.рф",
        "https://1.2.3",
        "https://256.1.1.1",
        "https://[::g]",
        "https://[::1",
        "https://example.com/a b",
        "https://example.com/<script>",
        "https://example.com/%zz",
        "https://example.com/%4",
        "https://example.com\\evil.com",
    };
    char buf[PUBADDR_URL_MAX + 1], err[300];
    size_t olen;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(buf, sizeof buf, "%s", bad[i]);
        err[0] = '\0';
        int rc = pubaddr_check_url(buf, &olen, err, sizeof err);
        CHECK(rc == -1 || (fprintf(stderr, "  accepted: %s\n", bad[i]), 0));
        CHECK(strncmp(err, "PUBLIC_URL", 10) == 0);
    }
}

TEST(pubaddr_url_length_limit)
{
    char buf[PUBADDR_URL_MAX + 2], err[300];
    size_t olen;
    const char *head = "https://example.com/";

    memset(buf, 'a', sizeof buf - 1);
    buf[sizeof buf - 1] = '\0';
    memcpy(buf, head, strlen(head));
    buf[PUBADDR_URL_MAX] = '\0'; /* exactly the limit */
    CHECK_EQ_INT(pubaddr_check_url(buf, &olen, err, sizeof err), 0);
    memset(buf, 'a', sizeof buf - 1);
    memcpy(buf, head, strlen(head));
    buf[PUBADDR_URL_MAX + 1] = '\0'; /* one past it */
    CHECK_EQ_INT(pubaddr_check_url(buf, &olen, err, sizeof err), -1);
    CHECK(strstr(err, "longer than 512") != NULL);
}

static int domain_check(const char *domain, const char *url, char *out, size_t cap)
{
    char u[PUBADDR_URL_MAX + 1], err[300];
    size_t olen = 0;

    snprintf(out, cap, "%s", domain);
    if (url != NULL) {
        snprintf(u, sizeof u, "%s", url);
        if (pubaddr_check_url(u, &olen, err, sizeof err) != 0)
            return -2;
    }
    return pubaddr_check_domain(out, url != NULL ? u : NULL, olen, err, sizeof err);
}

TEST(pubaddr_cookie_domain)
{
    char d[300];

    CHECK_EQ_INT(domain_check("example.com", "https://auth.example.com", d, sizeof d), 0);
    CHECK_EQ_STR(d, "example.com");
    CHECK_EQ_INT(domain_check(".Example.COM", "https://auth.example.com:8443/x", d, sizeof d), 0);
    CHECK_EQ_STR(d, "example.com");
    CHECK_EQ_INT(domain_check("auth.example.com", "https://auth.example.com", d, sizeof d), 0);
    CHECK_EQ_INT(domain_check("a.b.example.com", "https://x.a.b.example.com", d, sizeof d), 0);
    /* The host must be the domain or within it, label by label. */
    CHECK_EQ_INT(domain_check("example.com", "https://auth.badexample.com", d, sizeof d), -1);
    CHECK_EQ_INT(domain_check("example.com", "https://example.com.evil.org", d, sizeof d), -1);
    CHECK_EQ_INT(domain_check("sub.example.com", "https://example.com", d, sizeof d), -1);
    CHECK_EQ_INT(domain_check("other.org", "https://auth.example.com", d, sizeof d), -1);
    /* Not one label, not an address, not without PUBLIC_URL. */
    CHECK_EQ_INT(domain_check("com", "https://example.com", d, sizeof d), -1);
    CHECK_EQ_INT(domain_check("localhost", "http://localhost:8000", d, sizeof d), -1);
    CHECK_EQ_INT(domain_check("0.0.1", "http://127.0.0.1", d, sizeof d), -1);
    CHECK_EQ_INT(domain_check("127.0.0.1", "http://127.0.0.1", d, sizeof d), -1);
    CHECK_EQ_INT(domain_check("example.com", "http://[::1]", d, sizeof d), -1);
    CHECK_EQ_INT(domain_check("example.com", NULL, d, sizeof d), -1);
    CHECK_EQ_INT(domain_check("", "https://example.com", d, sizeof d), -1);
    CHECK_EQ_INT(domain_check("exa mple.com", "https://example.com", d, sizeof d), -1);
    CHECK_EQ_INT(domain_check("example.com/", "https://example.com", d, sizeof d), -1);
    CHECK_EQ_INT(domain_check("..example.com", "https://example.com", d, sizeof d), -1);
}

/* WEBAUTHN_RP_ID and WEBAUTHN_ORIGINS: given ones checked and lower-cased,
 * defaults from PUBLIC_URL, off when its host is an IP address. */
static int webauthn(const char *url, const char *rp, const char *origins, char **rp_out,
                    char **origins_out)
{
    char buf[PUBADDR_URL_MAX + 1], err[300];
    size_t olen = 0;

    *rp_out = rp != NULL ? strdup(rp) : NULL;
    *origins_out = origins != NULL ? strdup(origins) : NULL;
    if (url != NULL) {
        snprintf(buf, sizeof buf, "%s", url);
        if (pubaddr_check_url(buf, &olen, err, sizeof err) != 0)
            return -2;
    }
    return pubaddr_check_webauthn(rp_out, origins_out, url != NULL ? buf : NULL, olen, err,
                                  sizeof err);
}

TEST(pubaddr_webauthn)
{
    static const char *const cases[][5] = {
        /* PUBLIC_URL, RP id, origins given; RP id, origins after */
        {"https://auth.example.com/x", NULL, NULL, "auth.example.com", "https://auth.example.com"},
        {"https://auth.example.com:8443", "Example.COM", NULL, "example.com",
         "https://auth.example.com:8443"},
        {"https://auth.example.com", "example.com", "https://app.example.com,https://example.com",
         "example.com", "https://app.example.com,https://example.com"},
        {"http://localhost:8000", NULL, NULL, "localhost", "http://localhost:8000"},
        {"http://127.0.0.1:8000", NULL, NULL, NULL, NULL},
        {"http://[::1]:8000", NULL, NULL, NULL, NULL},
        {NULL, NULL, NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *rp = NULL, *origins = NULL;
        CHECK_EQ_INT(webauthn(cases[i][0], cases[i][1], cases[i][2], &rp, &origins), 0);
        CHECK_EQ_STR(rp, cases[i][3]);
        CHECK_EQ_STR(origins, cases[i][4]);
        free(rp);
        free(origins);
    }
    static const char *const bad[][3] = {
        {"https://auth.example.com", "example.org", NULL},
        {"https://auth.example.com", "uth.example.com", NULL},
        {"https://auth.example.com", "sub.auth.example.com", NULL},
        {"https://auth.example.com", "127.0.0.1", NULL},
        {"https://auth.example.com", "", NULL},
        {"https://auth.example.com", "example.com.", NULL},
        {"https://auth.example.com", NULL, "https://evil.com"},
        {"https://auth.example.com", NULL, "https://auth.example.com/"},
        {"https://auth.example.com", NULL, "https://Auth.example.com"},
        {"https://auth.example.com", NULL, "https://auth.example.com:443"},
        {"https://auth.example.com", NULL, "https://auth.example.com,"},
        {"https://auth.example.com", NULL, "https://auth.example.com, https://auth.example.com"},
        {"https://auth.example.com", NULL, "https://xauth.example.com"},
        {"http://127.0.0.1:8000", "example.com", NULL},
        {"http://127.0.0.1:8000", NULL, "http://127.0.0.1:8000"},
        {NULL, "example.com", NULL},
        {NULL, NULL, "https://auth.example.com"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *rp = NULL, *origins = NULL;
        int rc = webauthn(bad[i][0], bad[i][1], bad[i][2], &rp, &origins);
        if (rc != -1) {
            char what[200];
            snprintf(what, sizeof what, "accepted: %s %s %s", bad[i][0] ? bad[i][0] : "-",
                     bad[i][1] ? bad[i][1] : "-", bad[i][2] ? bad[i][2] : "-");
            test_check(0, __FILE__, __LINE__, what);
        }
        free(rp);
        free(origins);
    }
}
