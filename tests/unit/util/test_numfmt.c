/* util/numfmt: integers as text, checked against snprintf. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "test.h"
#include "util/numfmt.h"

TEST(numfmt_i64_matches_printf)
{
    const int64_t cases[] = {
        0,         1,          -1,        9,         10,        -10,       1000,
        123456789, -987654321, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, INT64_MIN + 1};
    char got[NUMFMT_I64_MAX], want[32];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = numfmt_i64(got, cases[i]);
        snprintf(want, sizeof want, "%" PRId64, cases[i]);
        CHECK_EQ_STR(got, want);
        CHECK_EQ_INT(n, strlen(want));
    }
    /* The longest fits the bound exactly. */
    CHECK_EQ_INT(numfmt_i64(got, INT64_MIN) + 1, NUMFMT_I64_MAX);
}

TEST(numfmt_hex_matches_printf)
{
    const uint64_t cases[] = {0,         1, 0xf, 0x10, 0xabcdef, 0xffffffffffff, 0x1000000000000,
                              UINT64_MAX};
    const unsigned widths[] = {0, 1, 12, 16, 40};
    char got[17], want[32];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
            unsigned width = widths[w] > 16 ? 16 : widths[w];
            size_t n = numfmt_hex(got, cases[i], widths[w]);
            snprintf(want, sizeof want, "%0*" PRIx64, (int)width, cases[i]);
            CHECK_EQ_STR(got, want);
            CHECK_EQ_INT(n, strlen(want));
        }
    }
}

TEST(numfmt_plural_after_a_count)
{
    CHECK_EQ_STR(numfmt_plural(1, "problem", "problems"), "problem");
    CHECK_EQ_STR(numfmt_plural(0, "problem", "problems"), "problems");
    CHECK_EQ_STR(numfmt_plural(2, "problem", "problems"), "problems");
    CHECK_EQ_STR(numfmt_plural(-1, "problem", "problems"), "problems");
    CHECK_EQ_STR(numfmt_plural(11, "user", "users"), "users");
}
