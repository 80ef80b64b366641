/* http: the query string as the request context carries it. */
#include <stdio.h>
#include <string.h>

#include "http/query.h"
#include "test.h"

static int parse(const char *q, struct form *f, const char **detail)
{
    *detail = NULL;
    return http_query_parse(q, strlen(q), f, detail);
}

TEST(query_parse_decodes)
{
    struct form f;
    const char *d, *v;
    size_t n;

    CHECK_EQ_INT(parse("", &f, &d), 0);
    CHECK_EQ_INT(f.count, 0);
    CHECK_EQ_INT(form_get(&f, "scope", &v, &n), FORM_ABSENT);
    form_free(&f);

    CHECK_EQ_INT(parse("scope=local&next=%2Fhome+page&x", &f, &d), 0);
    CHECK_EQ_INT(f.count, 3);
    REQUIRE(form_get(&f, "scope", &v, &n) == FORM_FOUND);
    CHECK_EQ_STR(v, "local");
    REQUIRE(form_get(&f, "next", &v, &n) == FORM_FOUND);
    CHECK_EQ_STR(v, "/home page");
    CHECK_EQ_INT(n, 10);
    /* "x" alone and "scope=" count as absent, as RFC 6749 §3.2 has it. */
    CHECK_EQ_INT(form_get(&f, "x", &v, &n), FORM_ABSENT);
    form_free(&f);

    CHECK_EQ_INT(parse("n%C3%A4me=v%C3%A4lue", &f, &d), 0);
    REQUIRE(form_get(&f, "n\xc3\xa4me", &v, &n) == FORM_FOUND);
    CHECK_EQ_STR(v, "v\xc3\xa4lue");
    form_free(&f);
}

TEST(query_parse_repeated_keys)
{
    struct form f;
    const char *d, *v;
    size_t n;

    /* A handler must be able to refuse "scope=local&scope=global" rather
     * than pick one of them. */
    CHECK_EQ_INT(parse("scope=local&scope=global", &f, &d), 0);
    CHECK_EQ_INT(form_get(&f, "scope", &v, &n), FORM_REPEATED);
    form_free(&f);
    CHECK_EQ_INT(parse("scope=&scope=global", &f, &d), 0);
    CHECK_EQ_INT(form_get(&f, "scope", &v, &n), FORM_REPEATED);
    form_free(&f);
}

TEST(query_parse_malformed)
{
    static const struct {
        const char *q;
        const char *detail;
    } bad[] = {
        {"a=%zz", "query string: malformed percent-encoding"},
        {"a=%4", "query string: malformed percent-encoding"},
        {"%=1", "query string: malformed percent-encoding"},
        {"a=%00", "query string: a parameter contains a NUL byte"},
        {"a=%ff", "query string: a parameter is not valid UTF-8"},
        {"a=%C0%AF", "query string: a parameter is not valid UTF-8"},
        {"%ED%A0%80=1", "query string: a parameter is not valid UTF-8"},
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct form f;
        const char *d;
        CHECK_EQ_INT(parse(bad[i].q, &f, &d), 400);
        CHECK_EQ_STR(d, bad[i].detail);
        /* Nothing to free after a refusal. */
        CHECK(f.count == 0 && f.buf == NULL && f.fields == NULL);
    }
}

TEST(query_parse_param_limit)
{
    char q[HTTP_MAX_QUERY_BYTES + 1], want[64];
    size_t len = 0;
    struct form f;
    const char *d;

    /* Exactly the limit is served ... */
    for (int i = 0; i < HTTP_MAX_QUERY_PARAMS; i++)
        len += (size_t)snprintf(q + len, sizeof q - len, "%sp%d=1", i > 0 ? "&" : "", i);
    CHECK_EQ_INT(http_query_parse(q, len, &f, &d), 0);
    CHECK_EQ_INT(f.count, HTTP_MAX_QUERY_PARAMS);
    form_free(&f);
    /* ... empty segments are not parameters ... */
    char sparse[64];
    int sl = snprintf(sparse, sizeof sparse, "a=1&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&b=2");
    CHECK_EQ_INT(http_query_parse(sparse, (size_t)sl, &f, &d), 0);
    CHECK_EQ_INT(f.count, 2);
    form_free(&f);
    /* ... and one more parameter is refused. */
    len += (size_t)snprintf(q + len, sizeof q - len, "&last=1");
    CHECK_EQ_INT(http_query_parse(q, len, &f, &d), 400);
    snprintf(want, sizeof want, "query string exceeds %d parameters", HTTP_MAX_QUERY_PARAMS);
    CHECK_EQ_STR(d, want);
    CHECK(f.count == 0 && f.buf == NULL);
}

TEST(query_parse_length_limit)
{
    char q[HTTP_MAX_QUERY_BYTES + 2], want[64];
    struct form f;
    const char *d;

    memset(q, 'x', sizeof q);
    q[0] = 'a';
    q[1] = '=';
    /* The limit counts the bytes as sent: exactly the limit is served. */
    CHECK_EQ_INT(http_query_parse(q, HTTP_MAX_QUERY_BYTES, &f, &d), 0);
    CHECK_EQ_INT(f.count, 1);
    form_free(&f);
    CHECK_EQ_INT(http_query_parse(q, HTTP_MAX_QUERY_BYTES + 1, &f, &d), 400);
    snprintf(want, sizeof want, "query string exceeds %d bytes", HTTP_MAX_QUERY_BYTES);
    CHECK_EQ_STR(d, want);
    CHECK(f.count == 0 && f.buf == NULL);
}
