/* util/pct: percent-decoding into a caller's buffer. */
#include <stdio.h>
#include <string.h>

#include "test.h"
#include "util/pct.h"

/* Decodes the C string src with flags into out and NUL-terminates it for
 * the checks (the callers leave one byte spare); returns the status. *n is
 * left at 99 when pct_decode did not set it. */
static enum pct_status decode(const char *src, unsigned flags, char *out, size_t cap, size_t *n)
{
    *n = 99;
    enum pct_status st = pct_decode(src, strlen(src), flags, out, cap, n);
    if (st == PCT_OK)
        out[*n] = '\0';
    return st;
}

TEST(pct_plain_and_escapes)
{
    char out[64];
    size_t n;

    CHECK_EQ_INT(decode("", 0, out, sizeof out - 1, &n), PCT_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(decode("abc-._~/:", 0, out, sizeof out - 1, &n), PCT_OK);
    CHECK_EQ_STR(out, "abc-._~/:");
    /* Either case of hex digit, and an escaped '%' is not escaped again. */
    CHECK_EQ_INT(decode("%41%62%2f%2F%252F%7e", 0, out, sizeof out - 1, &n), PCT_OK);
    CHECK_EQ_STR(out, "Ab//%2F~");
    CHECK_EQ_INT(n, 8);
    /* Bytes outside ASCII, raw or escaped, are copied as they are: UTF-8
     * is the caller's concern (util/utf8.h). */
    CHECK_EQ_INT(decode("\xff%C3%a4%80", 0, out, sizeof out - 1, &n), PCT_OK);
    CHECK_EQ_STR(out, "\xff\xc3\xa4\x80");
}

TEST(pct_plus)
{
    char out[64];
    size_t n;

    /* '+' is a space only in form encoding; %2B is always a '+'. */
    CHECK_EQ_INT(decode("a+b%2Bc", 0, out, sizeof out - 1, &n), PCT_OK);
    CHECK_EQ_STR(out, "a+b+c");
    CHECK_EQ_INT(decode("a+b%2Bc++", PCT_PLUS_SPACE, out, sizeof out - 1, &n), PCT_OK);
    CHECK_EQ_STR(out, "a b+c  ");
    CHECK_EQ_INT(decode("%20+", PCT_PLUS_SPACE, out, sizeof out - 1, &n), PCT_OK);
    CHECK_EQ_STR(out, "  ");
}

TEST(pct_bad_escapes)
{
    static const char *const bad[] = {"%",    "%4",  "%zz", "%g0", "%0g", "a%",       "a%4",
                                      "%%41", "%-1", "% 1", "%+1", "%1 ", "%\xc3\xa4"};
    char out[64];
    size_t n;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(decode(bad[i], 0, out, sizeof out - 1, &n), PCT_BAD_ESCAPE);
        CHECK_EQ_INT(decode(bad[i], PCT_PLUS_SPACE | PCT_NO_NUL, out, sizeof out - 1, &n),
                     PCT_BAD_ESCAPE);
        CHECK_EQ_INT(n, 99); /* not set on an error */
    }
}

TEST(pct_reads_only_len)
{
    char out[8];
    size_t n = 99;

    /* The digits after len do not count, even when they are there. */
    CHECK_EQ_INT(pct_decode("%41", 2, 0, out, sizeof out, &n), PCT_BAD_ESCAPE);
    CHECK_EQ_INT(pct_decode("%41", 1, 0, out, sizeof out, &n), PCT_BAD_ESCAPE);
    CHECK_EQ_INT(pct_decode("ab%41", 2, 0, out, sizeof out, &n), PCT_OK);
    CHECK_EQ_INT(n, 2);
    /* The input need not be NUL-terminated. */
    const char raw[3] = {'%', '4', '1'};
    CHECK_EQ_INT(pct_decode(raw, sizeof raw, 0, out, sizeof out, &n), PCT_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(out[0], 'A');
}

TEST(pct_nul)
{
    char out[64];
    size_t n = 99;

    /* Without PCT_NO_NUL a NUL is an ordinary byte, raw or escaped. */
    CHECK_EQ_INT(pct_decode("a%00b\0c", 7, 0, out, sizeof out, &n), PCT_OK);
    CHECK_EQ_INT(n, 5);
    CHECK(memcmp(out, "a\0b\0c", 5) == 0);
    /* With it, either kind is refused. */
    CHECK_EQ_INT(pct_decode("a%00b", 5, PCT_NO_NUL, out, sizeof out, &n), PCT_NUL);
    CHECK_EQ_INT(pct_decode("ab\0c", 4, PCT_NO_NUL, out, sizeof out, &n), PCT_NUL);
    /* The first error in the input decides. */
    CHECK_EQ_INT(pct_decode("%00%zz", 6, PCT_NO_NUL, out, sizeof out, &n), PCT_NUL);
    CHECK_EQ_INT(pct_decode("%zz%00", 6, PCT_NO_NUL, out, sizeof out, &n), PCT_BAD_ESCAPE);
    CHECK_EQ_INT(pct_decode("\0%zz", 4, PCT_NO_NUL, out, sizeof out, &n), PCT_NUL);
}

TEST(pct_capacity)
{
    char out[8];
    size_t n = 99;

    /* The output's length counts, not the input's. */
    memset(out, '#', sizeof out);
    CHECK_EQ_INT(pct_decode("%41%42%43", 9, 0, out, 3, &n), PCT_OK);
    CHECK_EQ_INT(n, 3);
    CHECK(memcmp(out, "ABC#", 4) == 0); /* nothing written past the output */
    memset(out, '#', sizeof out);
    n = 99;
    CHECK_EQ_INT(pct_decode("%41%42%43", 9, 0, out, 2, &n), PCT_NO_ROOM);
    CHECK_EQ_INT(n, 99);
    CHECK_EQ_INT(out[2], '#'); /* cap is respected even on the error */
    CHECK_EQ_INT(pct_decode("", 0, 0, out, 0, &n), PCT_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(pct_decode("a", 1, 0, out, 0, &n), PCT_NO_ROOM);
}

TEST(pct_every_byte)
{
    char enc[256 * 3 + 1], out[256];
    size_t n = 0;

    /* Each byte value escaped, upper-case then lower-case hex: the decoded
     * bytes are the byte values themselves, in order. */
    for (int lower = 0; lower <= 1; lower++) {
        for (unsigned b = 0; b < 256; b++)
            snprintf(enc + 3 * b, 4, lower ? "%%%02x" : "%%%02X", b);
        REQUIRE(pct_decode(enc, 3 * 256, 0, out, sizeof out, &n) == PCT_OK);
        CHECK_EQ_INT(n, 256);
        size_t wrong = 0;
        for (unsigned b = 0; b < 256; b++)
            wrong += (unsigned char)out[b] != b;
        CHECK_EQ_INT(wrong, 0);
    }
}
