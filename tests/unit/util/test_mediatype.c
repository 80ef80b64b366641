/* util/mediatype: Content-Type matching (RFC 9110 §8.3.1: type, subtype and
 * parameter names without regard to case; a charset, if any, must be
 * UTF-8). */
#include "test.h"
#include "util/mediatype.h"

#define JSON "application/json"

TEST(mediatype_exact_and_case)
{
    CHECK(mediatype_is(JSON, JSON));
    CHECK(mediatype_is("Application/JSON", JSON));
    CHECK(mediatype_is("APPLICATION/JSON", JSON));
    CHECK(mediatype_is("application/x-www-form-urlencoded", "application/x-www-form-urlencoded"));
    CHECK(mediatype_is("Application/X-WWW-Form-URLEncoded", "application/x-www-form-urlencoded"));
}

TEST(mediatype_absent_or_other)
{
    CHECK(!mediatype_is(NULL, JSON));
    CHECK(!mediatype_is("", JSON));
    CHECK(!mediatype_is("text/plain", JSON));
    CHECK(!mediatype_is("text/json", JSON));
    CHECK(!mediatype_is("application", JSON));
    CHECK(!mediatype_is("application/", JSON));
    CHECK(!mediatype_is("json", JSON));
    CHECK(!mediatype_is("multipart/form-data; boundary=x", JSON));
}

TEST(mediatype_prefixes)
{
    /* The whole subtype must match, not a prefix of it, nor the other way
     * round. */
    CHECK(!mediatype_is("application/jsonx", JSON));
    CHECK(!mediatype_is("application/json-patch+json", JSON));
    CHECK(!mediatype_is("application/json/x", JSON));
    CHECK(!mediatype_is("application/json,text/plain", JSON));
    CHECK(!mediatype_is("application/jso", JSON));
    CHECK(!mediatype_is("application/x-www-form-urlencodedx", "application/x-www-form-urlencoded"));
}

TEST(mediatype_whitespace)
{
    /* Whitespace may end the value and may come before a ';'. */
    CHECK(mediatype_is(JSON " ", JSON));
    CHECK(mediatype_is(JSON "\t", JSON));
    CHECK(mediatype_is(JSON " ; charset=utf-8", JSON));
    CHECK(mediatype_is(JSON ";  charset=utf-8", JSON));
    /* It may not split the type: "application / json" is not a media type. */
    CHECK(!mediatype_is("application /json", JSON));
    CHECK(!mediatype_is("application/ json", JSON));
    CHECK(!mediatype_is(JSON " x", JSON));
}

TEST(mediatype_parameters)
{
    /* Parameters other than charset are allowed and ignored. */
    CHECK(mediatype_is(JSON ";", JSON));
    CHECK(mediatype_is(JSON "; boundary=x", JSON));
    CHECK(mediatype_is(JSON "; profile=\"https://example.com/p\"", JSON));
    CHECK(mediatype_is(JSON "; a=1; b=2", JSON));
}

TEST(mediatype_charset)
{
    /* UTF-8 in any case, quoted or not, first or after other parameters. */
    CHECK(mediatype_is(JSON "; charset=utf-8", JSON));
    CHECK(mediatype_is(JSON ";charset=UTF-8", JSON));
    CHECK(mediatype_is(JSON "; charset=Utf-8", JSON));
    CHECK(mediatype_is(JSON "; CHARSET=UTF-8", JSON));
    CHECK(mediatype_is(JSON "; charset=\"utf-8\"", JSON));
    CHECK(mediatype_is(JSON "; a=1; charset=utf-8", JSON));
    CHECK(mediatype_is(JSON "; charset=utf-8; a=1", JSON));
    CHECK(mediatype_is(JSON "; charset=utf-8 ; a=1", JSON));
    /* Any other charset is refused, including look-alikes of UTF-8. */
    CHECK(!mediatype_is(JSON "; charset=latin-1", JSON));
    CHECK(!mediatype_is(JSON "; charset=iso-8859-1", JSON));
    CHECK(!mediatype_is(JSON "; charset=utf-16", JSON));
    CHECK(!mediatype_is(JSON "; charset=utf8", JSON));
    CHECK(!mediatype_is(JSON "; charset=utf-8x", JSON));
    CHECK(!mediatype_is(JSON "; charset=utf-88", JSON));
    CHECK(!mediatype_is(JSON "; charset=\"utf-16\"", JSON));
    CHECK(!mediatype_is(JSON "; charset=", JSON));
    CHECK(!mediatype_is(JSON "; a=1; charset=latin-1", JSON));
}

TEST(mediatype_charset_is_a_parameter)
{
    /* Only a parameter named charset counts: not a longer name that ends
     * in "charset", and not "charset=" inside another parameter's quoted
     * value. */
    CHECK(mediatype_is(JSON "; mycharset=latin-1", JSON));
    CHECK(mediatype_is(JSON "; x=\"charset=latin-1\"", JSON));
    CHECK(!mediatype_is(JSON "; x=\"a;charset=utf-8\"; charset=latin-1", JSON));
    CHECK(!mediatype_is(JSON "; x-charset=utf-8; charset=latin-1", JSON));
    /* Every charset parameter must be UTF-8. */
    CHECK(!mediatype_is(JSON "; charset=utf-8; charset=latin-1", JSON));
    CHECK(mediatype_is(JSON "; charset=utf-8; charset=\"UTF-8\"", JSON));
    /* A quoted value may escape any character (RFC 9110 §5.6.4). */
    CHECK(mediatype_is(JSON "; charset=\"utf\\-8\"", JSON));
    CHECK(!mediatype_is(JSON "; charset=\"utf-8\\\"\"", JSON));
    /* A tab is whitespace as much as a space is. */
    CHECK(mediatype_is(JSON "; charset=utf-8\t", JSON));
    CHECK(mediatype_is(JSON ";\tcharset=utf-8", JSON));
}

TEST(mediatype_malformed_parameters)
{
    /* RFC 9110 §5.6.6: a parameter is token "=" (token / quoted-string). */
    CHECK(!mediatype_is(JSON "; charset", JSON));
    CHECK(!mediatype_is(JSON "; foo", JSON));
    CHECK(!mediatype_is(JSON "; =utf-8", JSON));
    CHECK(!mediatype_is(JSON "; a=", JSON));
    CHECK(!mediatype_is(JSON "; a b=1", JSON));
    CHECK(!mediatype_is(JSON "; a = 1", JSON));
    CHECK(!mediatype_is(JSON "; a=\"unterminated", JSON));
    CHECK(!mediatype_is(JSON "; a=\"x\"y", JSON));
    CHECK(!mediatype_is(JSON "; a=1 b", JSON));
    CHECK(!mediatype_is(JSON "; a=\"\x01\"", JSON));
    /* An empty parameter between semicolons is allowed by the grammar. */
    CHECK(mediatype_is(JSON ";; charset=utf-8;", JSON));
}
