/* core/totp: codes from liboath checked against RFC 6238's own vectors,
 * the window of steps, the base32 and the otpauth URI. */
#include <stdlib.h>
#include <string.h>

#include "core/totp.h"
#include "test.h"

static const unsigned char rfc_key[] = "12345678901234567890"; /* RFC 6238 appendix B, SHA-1 */

TEST(totp_rfc6238_sha1_vectors)
{
    /* Appendix B gives 8 digits; 6 digits are their last 6 (the same
     * truncated value modulo 10^6). */
    static const struct {
        int64_t t;
        const char *code8;
    } v[] = {{59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
             {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"}};
    char out[TOTP_DIGITS + 1];

    REQUIRE(totp_init() == 0);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        CHECK_EQ_INT(totp_code(rfc_key, 20, v[i].t / TOTP_PERIOD, out), 0);
        CHECK_EQ_STR(out, v[i].code8 + 2);
    }
}

TEST(totp_match_window_and_replay)
{
    char before[TOTP_DIGITS + 1], at[TOTP_DIGITS + 1], after[TOTP_DIGITS + 1], far[TOTP_DIGITS + 1];
    const int64_t now = 1111111111, step = now / TOTP_PERIOD;

    REQUIRE(totp_code(rfc_key, 20, step - 1, before) == 0);
    REQUIRE(totp_code(rfc_key, 20, step, at) == 0);
    REQUIRE(totp_code(rfc_key, 20, step + 1, after) == 0);
    REQUIRE(totp_code(rfc_key, 20, step + 2, far) == 0);
    CHECK_EQ_INT(totp_match(rfc_key, 20, at, 6, now, 0), step);
    CHECK_EQ_INT(totp_match(rfc_key, 20, before, 6, now, 0), step - 1);
    CHECK_EQ_INT(totp_match(rfc_key, 20, after, 6, now, 0), step + 1);
    CHECK_EQ_INT(totp_match(rfc_key, 20, far, 6, now, 0), -1);
    /* Only steps after the last one accepted: the same step and earlier
     * ones are refused. */
    CHECK_EQ_INT(totp_match(rfc_key, 20, at, 6, now, step), -1);
    CHECK_EQ_INT(totp_match(rfc_key, 20, before, 6, now, step), -1);
    CHECK_EQ_INT(totp_match(rfc_key, 20, after, 6, now, step), step + 1);
    CHECK_EQ_INT(totp_match(rfc_key, 20, at, 6, now, step - 1), step);
    /* A prefix, a longer string or another secret is no match. */
    CHECK_EQ_INT(totp_match(rfc_key, 20, at, 5, now, 0), -1);
    char longer[8];
    memcpy(longer, at, 6);
    memcpy(longer + 6, "0", 2);
    CHECK_EQ_INT(totp_match(rfc_key, 20, longer, 7, now, 0), -1);
    CHECK_EQ_INT(totp_match((const unsigned char *)"12345678901234567891", 20, at, 6, now, 0), -1);
}

TEST(totp_base32_unpadded)
{
    char out[TOTP_BASE32_MAX + 1];
    unsigned char secret[TOTP_SECRET_LEN];

    /* RFC 4648 §10: "foobar" is "MZXW6YTBOI======". */
    CHECK_EQ_INT(totp_base32((const unsigned char *)"foobar", 6, out), 0);
    CHECK_EQ_STR(out, "MZXW6YTBOI");
    CHECK_EQ_INT(totp_base32(rfc_key, 20, out), 0);
    CHECK_EQ_STR(out, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    totp_secret_new(secret);
    CHECK_EQ_INT(totp_base32(secret, sizeof secret, out), 0);
    CHECK_EQ_INT(strlen(out), 32);
    CHECK_EQ_INT(strspn(out, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), 32);
}

TEST(totp_uri_key_uri_format)
{
    char *u = totp_uri("Ex Co:1", "a@b/c", "MZXW6YTBOI");

    REQUIRE(u != NULL);
    CHECK_EQ_STR(u, "otpauth://totp/Ex%20Co%3A1:a%40b%2Fc?secret=MZXW6YTBOI&issuer=Ex%20Co%3A1"
                    "&algorithm=SHA1&digits=6&period=30");
    free(u);
    u = totp_uri("auth.example.org", "alice_1-x.y~z", "AB");
    REQUIRE(u != NULL);
    CHECK_EQ_STR(u, "otpauth://totp/auth.example.org:alice_1-x.y~z?secret=AB&issuer=auth.example."
                    "org&algorithm=SHA1&digits=6&period=30");
    free(u);
}
