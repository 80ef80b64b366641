/* util/utf8: RFC 3629 validation and code-point counting, at every boundary
 * the RFC draws, and against an independent decoder over whole byte ranges. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "test.h"
#include "util/utf8.h"

/* Counts s as a C string. */
static long count(const char *s)
{
    return utf8_count(s, strlen(s));
}

/* The rules as RFC 3629 §3 words them, checked on decoded values instead of
 * byte ranges: a lead byte and its continuation bytes give a value, which
 * must need exactly that many bytes, must not be a surrogate and must not
 * pass U+10FFFF. Returns the sequence's length, or 0 when it is ill-formed
 * (or cut short by len). */
static size_t reference_seq(const unsigned char *s, size_t len)
{
    static const uint32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
    size_t n;
    uint32_t cp;

    if (s[0] < 0x80)
        return 1;
    if ((s[0] & 0xe0) == 0xc0) {
        n = 2;
        cp = s[0] & 0x1fu;
    } else if ((s[0] & 0xf0) == 0xe0) {
        n = 3;
        cp = s[0] & 0x0fu;
    } else if ((s[0] & 0xf8) == 0xf0) {
        n = 4;
        cp = s[0] & 0x07u;
    } else {
        return 0;
    }
    if (n > len)
        return 0;
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[k] & 0x3fu);
    }
    if (cp < min_for_len[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

/* The reference's answer for a whole buffer: the code-point count, or -1. */
static long reference_count(const unsigned char *s, size_t len)
{
    long n = 0;

    for (size_t i = 0; i < len; n++) {
        size_t k = reference_seq(s + i, len - i);
        if (k == 0)
            return -1;
        i += k;
    }
    return n;
}

TEST(utf8_counts_code_points)
{
    CHECK_EQ_INT(utf8_count("", 0), 0);
    CHECK_EQ_INT(count("abc"), 3);
    /* One code point of each length: a, U+00E4, U+20AC, U+1F600. */
    CHECK_EQ_INT(count("a\xc3\xa4\xe2\x82\xac\xf0\x9f\x98\x80"), 4);
    /* NUL is U+0000, a code point like any other. */
    CHECK_EQ_INT(utf8_count("a\0b", 3), 3);
    /* Only len bytes are read: here they end inside a sequence. */
    CHECK_EQ_INT(utf8_count("\xc3\xa4", 1), -1);
    CHECK_EQ_INT(utf8_count("\xc3\xa4xyz", 2), 1);
}

TEST(utf8_single_bytes)
{
    /* Alone, 00..7F are code points and 80..FF never are: continuation
     * bytes, C0/C1 (overlong leads), F5..FF, and leads without their
     * continuation bytes. */
    for (unsigned b = 0; b <= 0xff; b++) {
        char c = (char)b;
        CHECK_EQ_INT(utf8_count(&c, 1), b < 0x80 ? 1 : -1);
    }
}

TEST(utf8_overlong_forms)
{
    static const char *const bad[] = {
        "\xc0\x80",                 /* U+0000 in two bytes */
        "\xc0\xaf",                 /* '/' in two bytes, the classic path trick */
        "\xc1\xbf",                 /* U+007F, the largest two-byte overlong */
        "\xe0\x80\x80",             /* U+0000 in three bytes */
        "\xe0\x80\xaf",             /* '/' in three bytes */
        "\xe0\x9f\xbf",             /* U+07FF, the largest three-byte overlong */
        "\xf0\x80\x80\x80",         /* U+0000 in four bytes */
        "\xf0\x80\x80\xaf",         /* '/' in four bytes */
        "\xf0\x8f\xbf\xbf",         /* U+FFFF, the largest four-byte overlong */
        "\xf8\x88\x80\x80\x80",     /* RFC 2279's five-byte form */
        "\xfc\x84\x80\x80\x80\x80", /* RFC 2279's six-byte form */
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(count(bad[i]), -1);
    /* The smallest code point of each length is fine. */
    CHECK_EQ_INT(count("\xc2\x80"), 1);
    CHECK_EQ_INT(count("\xe0\xa0\x80"), 1);
    CHECK_EQ_INT(count("\xf0\x90\x80\x80"), 1);
}

TEST(utf8_surrogates)
{
    /* U+D800..U+DFFF are UTF-16's surrogates, never characters (RFC 3629
     * §3). Every one of them is refused. */
    unsigned accepted = 0;
    for (unsigned cp = 0xd800; cp <= 0xdfff; cp++) {
        char s[3] = {(char)(0xe0 | cp >> 12), (char)(0x80 | (cp >> 6 & 0x3f)),
                     (char)(0x80 | (cp & 0x3f))};
        accepted += utf8_count(s, 3) != -1;
    }
    CHECK_EQ_INT(accepted, 0);
    /* A surrogate pair written as two three-byte sequences (CESU-8). */
    CHECK_EQ_INT(count("\xed\xa0\xbd\xed\xb8\x80"), -1);
    /* Their neighbours are ordinary code points. */
    CHECK_EQ_INT(count("\xed\x9f\xbf"), 1); /* U+D7FF */
    CHECK_EQ_INT(count("\xee\x80\x80"), 1); /* U+E000 */
}

TEST(utf8_upper_limit)
{
    CHECK_EQ_INT(count("\xf4\x8f\xbf\xbf"), 1);  /* U+10FFFF, the last */
    CHECK_EQ_INT(count("\xf4\x90\x80\x80"), -1); /* U+110000 */
    CHECK_EQ_INT(count("\xf4\xbf\xbf\xbf"), -1); /* U+13FFFF */
    CHECK_EQ_INT(count("\xf5\x80\x80\x80"), -1); /* U+140000 */
    CHECK_EQ_INT(count("\xf7\xbf\xbf\xbf"), -1); /* U+1FFFFF */
    CHECK_EQ_INT(count("\xef\xbf\xbf"), 1);      /* U+FFFF is well-formed */
}

TEST(utf8_truncated)
{
    /* Every proper prefix of a multi-byte sequence is refused: at the end
     * of the input, and followed by ASCII or by the start of another
     * sequence. */
    static const char *const whole[] = {"\xc3\xa4", "\xe2\x82\xac", "\xf0\x9f\x98\x80",
                                        "\xf4\x8f\xbf\xbf"};

    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++) {
        size_t n = strlen(whole[i]);
        CHECK_EQ_INT(utf8_count(whole[i], n), 1);
        for (size_t cut = 1; cut < n; cut++) {
            char buf[8];
            memcpy(buf, whole[i], cut);
            CHECK_EQ_INT(utf8_count(buf, cut), -1);
            buf[cut] = 'A';
            CHECK_EQ_INT(utf8_count(buf, cut + 1), -1);
            memcpy(buf + cut, "\xc3\xa4", 2);
            CHECK_EQ_INT(utf8_count(buf, cut + 2), -1);
        }
    }
}

TEST(utf8_stray_continuation)
{
    CHECK_EQ_INT(count("\x80"), -1);
    CHECK_EQ_INT(count("\xbf"), -1);
    CHECK_EQ_INT(count("a\x80z"), -1);
    /* One continuation byte too many after a complete sequence. */
    CHECK_EQ_INT(count("\xc3\xa4\x80"), -1);
    CHECK_EQ_INT(count("\xe2\x82\xac\xac"), -1);
    CHECK_EQ_INT(count("\xf0\x9f\x98\x80\x80"), -1);
    /* Inside a sequence only continuation bytes may follow the lead byte:
     * ASCII or another lead byte there is refused. */
    CHECK_EQ_INT(count("\xe2\x41\xac"), -1);
    CHECK_EQ_INT(count("\xe2\x82\xc3"), -1);
    CHECK_EQ_INT(count("\xf0\x9f\x98\xf0"), -1);
}

/* Compares utf8_count with the reference on s[0..len); reports the first
 * disagreement only, so that one bug does not print millions of lines. */
static bool agrees(const unsigned char *s, size_t len, bool *reported)
{
    long got = utf8_count((const char *)s, len), want = reference_count(s, len);

    if (got != want && !*reported) {
        *reported = true;
        printf("utf8 input:");
        for (size_t i = 0; i < len; i++)
            printf(" %02x", s[i]);
        printf("\n");
        CHECK_EQ_INT(got, want);
    }
    return got == want;
}

TEST(utf8_matches_reference)
{
    static const unsigned char tails[][2] = {
        {0x80, 0x80}, {0xbf, 0xbf}, {0x80, 0xbf}, {0x41, 0x80}};
    unsigned char s[4];
    bool reported = false;

    /* Every input of one, two and three bytes, and every four-byte lead and
     * second byte with extreme continuation bytes (and one ASCII byte): the
     * byte-range implementation and the value-based reference agree. */
    for (unsigned a = 0; a <= 0xff; a++) {
        s[0] = (unsigned char)a;
        agrees(s, 1, &reported);
        for (unsigned b = 0; b <= 0xff; b++) {
            s[1] = (unsigned char)b;
            agrees(s, 2, &reported);
            for (unsigned c = 0; c <= 0xff; c++) {
                s[2] = (unsigned char)c;
                agrees(s, 3, &reported);
            }
            for (size_t k = 0; a >= 0xf0 && k < sizeof tails / sizeof tails[0]; k++) {
                s[2] = tails[k][0];
                s[3] = tails[k][1];
                agrees(s, 4, &reported);
            }
        }
    }
}
