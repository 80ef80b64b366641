/* core/mailmsg: the composed mail, byte for byte where it matters. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mailmsg.h"
#include "test.h"

static const unsigned char rnd[MAILMSG_RANDOM] = {
    0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
    16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
};

static struct mailmsg base(void)
{
    return (struct mailmsg){
        .from_name = "gatehouse",
        .from_addr = "noreply@example.com",
        .to = "kim@example.org",
        .subject = "Reset your password",
        .text = "Hello kim\n\nhttps://auth.example.com/password/reset?token=abc_-9\n",
        .html = "<p>Hello kim</p>\n",
        .date = 1796661380, /* Mon, 07 Dec 2026 16:36:20 UTC */
        .rnd = rnd,
    };
}

TEST(mailmsg_bytes)
{
    struct mailmsg m = base();
    char *out = NULL, err[200] = "";
    size_t len = 0;
    static const char want[] =
        "Date: Mon, 07 Dec 2026 16:36:20 +0000\r\n"
        "From: gatehouse <noreply@example.com>\r\n"
        "To: kim@example.org\r\n"
        "Subject: Reset your password\r\n"
        "Message-ID: <000102030405060708090a0b0c0d0e0f@example.com>\r\n"
        "MIME-Version: 1.0\r\n"
        "Auto-Submitted: auto-generated\r\n"
        "Content-Type: multipart/alternative;\r\n"
        " boundary=\"=_101112131415161718191a1b1c1d1e1f\"\r\n"
        "\r\n"
        "--=_101112131415161718191a1b1c1d1e1f\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n"
        /* "Hello kim\r\n\r\nhttps://auth.example.com/password/reset?token=abc_-9\r\n":
         * the link on a line of its own, lines ending CRLF. */
        "SGVsbG8ga2ltDQoNCmh0dHBzOi8vYXV0aC5leGFtcGxlLmNvbS9wYXNzd29yZC9yZXNldD90b2tl\r\n"
        "bj1hYmNfLTkNCg==\r\n"
        "--=_101112131415161718191a1b1c1d1e1f\r\n"
        "Content-Type: text/html; charset=utf-8\r\n"
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n"
        "PHA+SGVsbG8ga2ltPC9wPg0K\r\n"
        "--=_101112131415161718191a1b1c1d1e1f--\r\n";

    REQUIRE(mailmsg_compose(&m, &out, &len, err, sizeof err) == 0);
    CHECK_EQ_STR(out, want);
    CHECK_EQ_INT(len, strlen(want));
    free(out);
}

/* Every line ends CRLF and has at most 78 characters before it. */
static void check_lines(const char *msg, int line)
{
    const char *p = msg;

    while (*p != '\0') {
        const char *crlf = strstr(p, "\r\n");
        if (!test_check(crlf != NULL, __FILE__, line, "every line ends with CRLF"))
            return;
        test_check(memchr(p, '\n', (size_t)(crlf - p)) == NULL, __FILE__, line, "no bare LF");
        test_check(crlf - p <= 78, __FILE__, line, "a line of at most 78 characters");
        p = crlf + 2;
    }
}

/* The text of a header's encoded-words, decoded and joined. */
static void decode_words(const char *msg, const char *header, char *out, size_t cap)
{
    const char *p = strstr(msg, header);
    size_t n = 0;

    out[0] = '\0';
    if (p == NULL)
        return;
    p += strlen(header);
    while ((p = strstr(p, "=?UTF-8?B?")) != NULL) {
        const char *end = strstr(p + 10, "?=");
        size_t got = 0;
        if (end == NULL ||
            sodium_base642bin((unsigned char *)out + n, cap - n - 1, p + 10, (size_t)(end - p - 10),
                              NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
            return;
        test_check(end + 2 - p <= 75, __FILE__, __LINE__, "an encoded-word of at most 75");
        n += got;
        out[n] = '\0';
        p = end + 2;
        /* The next word continues the header only after CRLF SP. */
        if (strncmp(p, "\r\n =?", 5) != 0)
            break;
    }
}

TEST(mailmsg_rfc2047_subject_and_name)
{
    struct mailmsg m = base();
    char *out = NULL, err[200] = "", got[512];
    size_t len = 0;
    const char *subject = "Сброс пароля для учётной записи gatehouse — очень длинная тема письма";

    m.subject = subject;
    m.from_name = "Гейтхаус";
    REQUIRE(mailmsg_compose(&m, &out, &len, err, sizeof err) == 0);
    check_lines(out, __LINE__);
    /* Folded into several words, no character cut between two. */
    CHECK(strstr(out,
                 "Subject: =?UTF-8?B?0KHQsdGA0L7RgSDQv9Cw0YDQvtC70Y8g0LTQu9GPINGD0YfRkdGC?=\r\n"
                 " =?UTF-8?B?") != NULL);
    decode_words(out, "\r\nSubject: ", got, sizeof got);
    CHECK_EQ_STR(got, subject);
    decode_words(out, "\r\nFrom: ", got, sizeof got);
    CHECK_EQ_STR(got, "Гейтхаус");
    CHECK(strstr(out, "From: =?UTF-8?B?0JPQtdC50YLRhdCw0YPRgQ==?=\r\n <noreply@example.com>\r\n") !=
          NULL);
    free(out);
}

/* ASCII that reads like an encoded-word, or that is too long for one
 * line, is encoded too; a name with specials is quoted. */
TEST(mailmsg_ascii_headers)
{
    struct mailmsg m = base();
    char *out = NULL, err[200] = "", got[512];
    size_t len = 0;

    m.subject = "=?UTF-8?B?aGk=?= is not a word here";
    m.from_name = "gatehouse (auth)";
    REQUIRE(mailmsg_compose(&m, &out, &len, err, sizeof err) == 0);
    decode_words(out, "\r\nSubject: ", got, sizeof got);
    CHECK_EQ_STR(got, "=?UTF-8?B?aGk=?= is not a word here");
    CHECK(strstr(out, "\r\nFrom: \"gatehouse (auth)\" <noreply@example.com>\r\n") != NULL);
    free(out);
    m.subject = "A subject of plain ASCII words that is much too long for one line of 78 chars";
    REQUIRE(mailmsg_compose(&m, &out, &len, err, sizeof err) == 0);
    check_lines(out, __LINE__);
    decode_words(out, "\r\nSubject: ", got, sizeof got);
    CHECK_EQ_STR(got, m.subject);
    free(out);
}

/* A CR or LF in the subject or the name cannot start a header: refused. So
 * is an address that could, and text that is not UTF-8. */
TEST(mailmsg_refuses_injection)
{
    static const char *const subjects[] = {"hi\r\nBcc: x@example.com", "hi\nX: y", "hi\rX", "a\tb"};
    char *out = (char *)"unset", err[200] = "";
    size_t len = 1;

    for (size_t i = 0; i < sizeof subjects / sizeof subjects[0]; i++) {
        struct mailmsg m = base();
        m.subject = subjects[i];
        CHECK_EQ_INT(mailmsg_compose(&m, &out, &len, err, sizeof err), -1);
        CHECK(out == NULL);
        m = base();
        m.from_name = subjects[i];
        CHECK_EQ_INT(mailmsg_compose(&m, &out, &len, err, sizeof err), -1);
    }
    struct mailmsg m = base();
    m.to = "kim@example.org\r\nBcc: eve@example.org";
    CHECK_EQ_INT(mailmsg_compose(&m, &out, &len, err, sizeof err), -1);
    m = base();
    m.to = "kim@example.org>, <eve@example.org";
    CHECK_EQ_INT(mailmsg_compose(&m, &out, &len, err, sizeof err), -1);
    m = base();
    m.text = "\xff\xfe";
    CHECK_EQ_INT(mailmsg_compose(&m, &out, &len, err, sizeof err), -1);
    CHECK(strstr(err, "UTF-8") != NULL);
}

/* A part larger than the limit is refused, not cut. */
TEST(mailmsg_size_limit)
{
    struct mailmsg m = base();
    char *big = malloc(MAILMSG_MAX), *out = NULL, err[200] = "";
    size_t len = 0;

    REQUIRE(big != NULL);
    memset(big, 'a', MAILMSG_MAX - 1);
    big[MAILMSG_MAX - 1] = '\0';
    m.text = big;
    CHECK_EQ_INT(mailmsg_compose(&m, &out, &len, err, sizeof err), -1);
    CHECK(out == NULL);
    CHECK(strstr(err, "larger") != NULL);
    free(big);
}

/* Two mails never share a Message-ID or boundary: both come from the
 * caller's randomness, all of it used. */
TEST(mailmsg_ids_from_randomness)
{
    struct mailmsg m = base();
    unsigned char other[MAILMSG_RANDOM];
    char *a = NULL, *b = NULL, err[200] = "";
    size_t len = 0;

    memcpy(other, rnd, sizeof other);
    other[15] ^= 1;
    other[31] ^= 1;
    REQUIRE(mailmsg_compose(&m, &a, &len, err, sizeof err) == 0);
    m.rnd = other;
    REQUIRE(mailmsg_compose(&m, &b, &len, err, sizeof err) == 0);
    CHECK(strstr(b, "Message-ID: <000102030405060708090a0b0c0d0e0e@example.com>") != NULL);
    CHECK(strstr(b, "boundary=\"=_101112131415161718191a1b1c1d1e1e\"") != NULL);
    CHECK(strcmp(a, b) != 0);
    free(a);
    free(b);
}
