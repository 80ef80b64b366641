/* api/clientauth: the client an OAuth request names (RFC 6749 §2.3). */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "api/clientauth.h"
#include "test.h"

/* Parses header and body; *st the status. The form is freed here. */
static struct clientauth parse(const char *header, const char *body, enum clientauth_status *st,
                               const char **why)
{
    struct form f;
    struct clientauth c;

    if (form_parse(body, strlen(body), &f) != FORM_OK) {
        memset(&c, 0, sizeof c);
        *st = (enum clientauth_status) - 1;
        return c;
    }
    *st = clientauth_parse(header, &f, &c, why);
    form_free(&f);
    return c;
}

TEST(clientauth_basic)
{
    enum clientauth_status st;
    const char *why = "x";
    /* "gh_abc:s3cret" */
    struct clientauth c = parse("Basic Z2hfYWJjOnMzY3JldA==", "grant_type=x", &st, &why);

    CHECK_EQ_INT(st, CLIENTAUTH_OK);
    CHECK(why == NULL);
    CHECK_EQ_INT(c.method, CLIENTAUTH_BASIC);
    CHECK_EQ_STR(c.id, "gh_abc");
    CHECK_EQ_INT(c.idlen, 6);
    CHECK_EQ_STR(c.secret, "s3cret");
    CHECK_EQ_INT(c.secretlen, 6);
    /* The scheme in any case, spaces around the credentials. */
    c = parse("bASIC   Z2hfYWJjOnMzY3JldA==  ", "", &st, NULL);
    CHECK_EQ_INT(st, CLIENTAUTH_OK);
    CHECK_EQ_STR(c.secret, "s3cret");
    /* §2.3.1: each value form-encoded before joining: "my%20id:s%3A%2Bx". */
    c = parse("Basic bXklMjBpZDpzJTNBJTJCeA==", "", &st, NULL);
    CHECK_EQ_INT(st, CLIENTAUTH_OK);
    CHECK_EQ_STR(c.id, "my id");
    CHECK_EQ_STR(c.secret, "s:+x");
    /* A client_id beside it is allowed when it is the same client. */
    c = parse("Basic Z2hfYWJjOnMzY3JldA==", "client_id=gh_abc", &st, NULL);
    CHECK_EQ_INT(st, CLIENTAUTH_OK);
    CHECK_EQ_INT(c.method, CLIENTAUTH_BASIC);
    /* An empty secret: a public client's Basic ("gh_pub:"). */
    c = parse("Basic Z2hfcHViOg==", "", &st, NULL);
    CHECK_EQ_INT(st, CLIENTAUTH_OK);
    CHECK_EQ_INT(c.secretlen, 0);
    clientauth_wipe(&c);
    CHECK_EQ_INT(c.idlen, 0);
}

TEST(clientauth_body)
{
    enum clientauth_status st;
    struct clientauth c = parse(NULL, "client_id=gh_abc&client_secret=s3cret", &st, NULL);

    CHECK_EQ_INT(st, CLIENTAUTH_OK);
    CHECK_EQ_INT(c.method, CLIENTAUTH_POST);
    CHECK_EQ_STR(c.id, "gh_abc");
    CHECK_EQ_STR(c.secret, "s3cret");
    c = parse(NULL, "client_id=gh_pub", &st, NULL);
    CHECK_EQ_INT(st, CLIENTAUTH_OK);
    CHECK_EQ_INT(c.method, CLIENTAUTH_PUBLIC);
    CHECK_EQ_INT(c.secretlen, 0);
    c = parse(NULL, "grant_type=password", &st, NULL);
    CHECK_EQ_INT(st, CLIENTAUTH_OK);
    CHECK_EQ_INT(c.method, CLIENTAUTH_NONE);
    /* Another scheme is no client authentication: the body decides. */
    c = parse("Bearer abc", "client_id=gh_abc&client_secret=s3cret", &st, NULL);
    CHECK_EQ_INT(st, CLIENTAUTH_OK);
    CHECK_EQ_INT(c.method, CLIENTAUTH_POST);
    c = parse("Basically", "client_id=gh_pub", &st, NULL);
    CHECK_EQ_INT(st, CLIENTAUTH_OK);
    CHECK_EQ_INT(c.method, CLIENTAUTH_PUBLIC);
    /* Swagger UI's "Basic Og==" (":") names no client. */
    c = parse("Basic Og==", "grant_type=password", &st, NULL);
    CHECK_EQ_INT(st, CLIENTAUTH_OK);
    CHECK_EQ_INT(c.method, CLIENTAUTH_NONE);
    c = parse("Basic Og==", "client_id=gh_pub", &st, NULL);
    CHECK_EQ_INT(st, CLIENTAUTH_OK);
    CHECK_EQ_INT(c.method, CLIENTAUTH_PUBLIC);
}

/* Each refusal, with its status and a reason. */
TEST(clientauth_refusals)
{
    static const struct {
        const char *header, *body;
        enum clientauth_status st;
    } cases[] = {
        /* §2.3: one method only. */
        {"Basic Z2hfYWJjOnMzY3JldA==", "client_secret=s3cret", CLIENTAUTH_TWO_METHODS},
        {"Basic Z2hfYWJjOnMzY3JldA==", "client_id=gh_other", CLIENTAUTH_MISMATCH},
        {NULL, "client_id=a&client_id=a&client_secret=s", CLIENTAUTH_REPEATED},
        {NULL, "client_id=a&client_secret=s&client_secret=s", CLIENTAUTH_REPEATED},
        {NULL, "client_secret=s3cret", CLIENTAUTH_MALFORMED},
        {"Basic", "", CLIENTAUTH_MALFORMED},
        {"Basic   ", "", CLIENTAUTH_MALFORMED},
        {"Basic Z2hf YWJj", "", CLIENTAUTH_MALFORMED},
        {"Basic !!!!", "", CLIENTAUTH_MALFORMED},
        /* base64url is not Basic's alphabet; padding is required. */
        {"Basic Z2hfYWJjOnMzY3JldA", "", CLIENTAUTH_MALFORMED},
        {"Basic bm9jb2xvbg==", "", CLIENTAUTH_MALFORMED}, /* "nocolon" */
        {"Basic OnNlY3JldA==", "", CLIENTAUTH_MALFORMED}, /* ":secret" */
        {"Basic aWQ6JTAw", "", CLIENTAUTH_MALFORMED},     /* "id:%00" */
        {"Basic aWQ6JQ==", "", CLIENTAUTH_MALFORMED},     /* "id:%" */
        {"Basic aWQ6JUZG", "", CLIENTAUTH_MALFORMED},     /* "id:%FF", not UTF-8 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum clientauth_status st;
        const char *why = NULL;
        struct clientauth c = parse(cases[i].header, cases[i].body, &st, &why);
        if (st != cases[i].st)
            fprintf(stderr, "case %zu: %s | %s\n", i, cases[i].header ? cases[i].header : "-",
                    cases[i].body);
        CHECK_EQ_INT(st, cases[i].st);
        CHECK(why != NULL && why[0] != '\0');
        /* Nothing read is kept. */
        CHECK_EQ_INT(c.method, CLIENTAUTH_NONE);
        CHECK_EQ_INT(c.idlen, 0);
        CHECK_EQ_INT(c.secretlen, 0);
    }
}

/* Every value has its limit, and one byte past it is refused. */
TEST(clientauth_limits)
{
    char id[OIDC_CLIENT_ID_MAX + 2], secret[CLIENTAUTH_SECRET_MAX + 2];
    char body[512];
    enum clientauth_status st;
    struct clientauth c;

    memset(id, 'i', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    memset(secret, 's', sizeof secret - 1);
    secret[sizeof secret - 1] = '\0';
    /* At the limits. */
    snprintf(body, sizeof body, "client_id=%.*s&client_secret=%.*s", OIDC_CLIENT_ID_MAX, id,
             CLIENTAUTH_SECRET_MAX, secret);
    c = parse(NULL, body, &st, NULL);
    CHECK_EQ_INT(st, CLIENTAUTH_OK);
    CHECK_EQ_INT(c.idlen, OIDC_CLIENT_ID_MAX);
    CHECK_EQ_INT(c.secretlen, CLIENTAUTH_SECRET_MAX);
    /* One past each. */
    snprintf(body, sizeof body, "client_id=%s&client_secret=s", id);
    c = parse(NULL, body, &st, NULL);
    CHECK_EQ_INT(st, CLIENTAUTH_TOO_LONG);
    snprintf(body, sizeof body, "client_id=i&client_secret=%s", secret);
    c = parse(NULL, body, &st, NULL);
    CHECK_EQ_INT(st, CLIENTAUTH_TOO_LONG);
    snprintf(body, sizeof body, "client_id=%s", id);
    c = parse(NULL, body, &st, NULL);
    CHECK_EQ_INT(st, CLIENTAUTH_TOO_LONG);

    /* The same through Basic: id and secret at the limits, then past. */
    char joined[sizeof id + sizeof secret + 1], header[1100];
    size_t b64 = sodium_base64_ENCODED_LEN(sizeof joined, sodium_base64_VARIANT_ORIGINAL);
    REQUIRE(6 + b64 <= sizeof header);
    int n = snprintf(joined, sizeof joined, "%.*s:%.*s", OIDC_CLIENT_ID_MAX, id,
                     CLIENTAUTH_SECRET_MAX, secret);
    memcpy(header, "Basic ", 6);
    sodium_bin2base64(header + 6, sizeof header - 6, (const unsigned char *)joined, (size_t)n,
                      sodium_base64_VARIANT_ORIGINAL);
    c = parse(header, "", &st, NULL);
    CHECK_EQ_INT(st, CLIENTAUTH_OK);
    CHECK_EQ_INT(c.idlen, OIDC_CLIENT_ID_MAX);
    CHECK_EQ_INT(c.secretlen, CLIENTAUTH_SECRET_MAX);
    n = snprintf(joined, sizeof joined, "%s:s", id);
    sodium_bin2base64(header + 6, sizeof header - 6, (const unsigned char *)joined, (size_t)n,
                      sodium_base64_VARIANT_ORIGINAL);
    c = parse(header, "", &st, NULL);
    CHECK_EQ_INT(st, CLIENTAUTH_TOO_LONG);
    n = snprintf(joined, sizeof joined, "i:%s", secret);
    sodium_bin2base64(header + 6, sizeof header - 6, (const unsigned char *)joined, (size_t)n,
                      sodium_base64_VARIANT_ORIGINAL);
    c = parse(header, "", &st, NULL);
    CHECK_EQ_INT(st, CLIENTAUTH_TOO_LONG);

    /* The credentials themselves: CLIENTAUTH_BASIC_MAX characters, then one more. */
    memset(header + 6, 'A', CLIENTAUTH_BASIC_MAX + 1);
    header[6 + CLIENTAUTH_BASIC_MAX + 1] = '\0';
    c = parse(header, "", &st, NULL);
    CHECK_EQ_INT(st, CLIENTAUTH_TOO_LONG);
    header[6 + CLIENTAUTH_BASIC_MAX] = '\0';
    c = parse(header, "", &st, NULL);
    /* 1024 'A's are base64 of zeros without a ':': read, then refused. */
    CHECK_EQ_INT(st, CLIENTAUTH_MALFORMED);
}
