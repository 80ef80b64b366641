/* util/form: strict application/x-www-form-urlencoded parsing (RFC 6749
 * §3.2's rules are form_get's). */
#include <string.h>

#include "test.h"
#include "util/form.h"

static enum form_status parse(const char *body, struct form *f)
{
    return form_parse(body, strlen(body), f);
}

TEST(form_pairs)
{
    struct form f;

    REQUIRE(parse("grant_type=password&username=alice&password=s3cret", &f) == FORM_OK);
    CHECK_EQ_INT(f.count, 3);
    CHECK_EQ_STR(f.fields[0].name, "grant_type");
    CHECK_EQ_STR(f.fields[0].value, "password");
    CHECK_EQ_STR(f.fields[1].name, "username");
    CHECK_EQ_STR(f.fields[1].value, "alice");
    CHECK_EQ_STR(f.fields[2].name, "password");
    CHECK_EQ_STR(f.fields[2].value, "s3cret");
    CHECK_EQ_INT(f.fields[2].value_len, 6);
    form_free(&f);
    CHECK(f.buf == NULL && f.fields == NULL && f.count == 0);
}

TEST(form_decoding)
{
    struct form f;

    /* '+' is a space; %XX a byte, either case of hex; a literal '=' after
     * the first belongs to the value. */
    REQUIRE(parse("a+b=c+d%20e&p%41ss=%c3%A4%2B%25%26%3D&k=v=w", &f) == FORM_OK);
    CHECK_EQ_INT(f.count, 3);
    CHECK_EQ_STR(f.fields[0].name, "a b");
    CHECK_EQ_STR(f.fields[0].value, "c d e");
    CHECK_EQ_STR(f.fields[1].name, "pAss");
    CHECK_EQ_STR(f.fields[1].value, "\xc3\xa4+%&=");
    CHECK_EQ_INT(f.fields[1].value_len, 6);
    CHECK_EQ_STR(f.fields[2].value, "v=w");
    form_free(&f);
}

TEST(form_empty_parts)
{
    struct form f;

    REQUIRE(parse("", &f) == FORM_OK);
    CHECK_EQ_INT(f.count, 0);
    form_free(&f);
    REQUIRE(parse("&&&", &f) == FORM_OK);
    CHECK_EQ_INT(f.count, 0);
    form_free(&f);
    /* Empty segments are skipped; a name without '=' has an empty value, and
     * so does "name="; "=value" has an empty name. */
    REQUIRE(parse("&a&&b=&=c&", &f) == FORM_OK);
    CHECK_EQ_INT(f.count, 3);
    CHECK_EQ_STR(f.fields[0].name, "a");
    CHECK_EQ_STR(f.fields[0].value, "");
    CHECK_EQ_STR(f.fields[1].name, "b");
    CHECK_EQ_STR(f.fields[1].value, "");
    CHECK_EQ_STR(f.fields[2].name, "");
    CHECK_EQ_STR(f.fields[2].value, "c");
    form_free(&f);
}

TEST(form_bad_escapes)
{
    static const char *const bad[] = {"a=%", "a=%4", "a=%zz", "a=%g0", "a=%0g", "%=1", "a=1%"};
    struct form f;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(parse(bad[i], &f), FORM_BAD_ESCAPE);
        CHECK(f.buf == NULL && f.fields == NULL);
    }
}

TEST(form_nul)
{
    struct form f;

    CHECK_EQ_INT(parse("a=x%00y", &f), FORM_NUL);
    CHECK_EQ_INT(parse("a%00=1", &f), FORM_NUL);
    CHECK_EQ_INT(form_parse("a=x\0y", 5, &f), FORM_NUL);
}

TEST(form_utf8)
{
    static const char *const bad[] = {
        "a=%FF",          /* never valid */
        "a=%C0%AF",       /* overlong '/' */
        "a=%E0%80%AF",    /* overlong, three bytes */
        "a=%ED%A0%80",    /* a UTF-16 surrogate */
        "a=%F4%90%80%80", /* past U+10FFFF */
        "a=%E2%82",       /* cut short */
        "a=%80",          /* a lone continuation byte */
        "%FF=1",          /* names too */
    };
    struct form f;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(parse(bad[i], &f), FORM_BAD_UTF8);
    /* A raw (unescaped) non-ASCII byte is checked the same way. */
    CHECK_EQ_INT(parse("a=\xff", &f), FORM_BAD_UTF8);
    REQUIRE(parse("a=%F0%9F%98%80&b=\xc3\xa4&c=%EF%BF%BD", &f) == FORM_OK);
    CHECK_EQ_STR(f.fields[0].value, "\xf0\x9f\x98\x80");
    CHECK_EQ_STR(f.fields[1].value, "\xc3\xa4");
    form_free(&f);
}

TEST(form_get_rules)
{
    struct form f;
    const char *v = NULL;
    size_t len = 0;

    REQUIRE(parse("one=1&empty=&twice=a&twice=b&blank&again=&again=x", &f) == FORM_OK);
    CHECK_EQ_INT(form_get(&f, "one", &v, &len), FORM_FOUND);
    CHECK_EQ_STR(v, "1");
    CHECK_EQ_INT(len, 1);
    /* RFC 6749 §3.2: a parameter without a value counts as omitted ... */
    CHECK_EQ_INT(form_get(&f, "empty", &v, &len), FORM_ABSENT);
    CHECK_EQ_INT(form_get(&f, "blank", &v, &len), FORM_ABSENT);
    CHECK_EQ_INT(form_get(&f, "missing", &v, &len), FORM_ABSENT);
    /* ... and none may be included more than once, empty or not. */
    CHECK_EQ_INT(form_get(&f, "twice", &v, &len), FORM_REPEATED);
    CHECK_EQ_INT(form_get(&f, "again", &v, &len), FORM_REPEATED);
    /* Names match exactly. */
    CHECK_EQ_INT(form_get(&f, "ONE", &v, &len), FORM_ABSENT);
    CHECK_EQ_INT(form_get(&f, "on", &v, &len), FORM_ABSENT);
    form_free(&f);
}

TEST(form_content_type)
{
    CHECK(form_content_type_ok("application/x-www-form-urlencoded"));
    CHECK(form_content_type_ok("Application/X-WWW-Form-URLEncoded"));
    CHECK(form_content_type_ok("application/x-www-form-urlencoded; charset=UTF-8"));
    CHECK(form_content_type_ok("application/x-www-form-urlencoded;charset=\"utf-8\""));
    CHECK(form_content_type_ok("application/x-www-form-urlencoded "));
    CHECK(!form_content_type_ok(NULL));
    CHECK(!form_content_type_ok(""));
    CHECK(!form_content_type_ok("application/json"));
    CHECK(!form_content_type_ok("application/x-www-form-urlencodedx"));
    CHECK(!form_content_type_ok("application/x-www-form-urlencoded; charset=latin-1"));
    CHECK(!form_content_type_ok("multipart/form-data; boundary=x"));
}
