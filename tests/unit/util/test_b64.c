/* util/b64: base64url without padding, strict decoding (RFC 4648 §5, §10). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "test.h"
#include "util/b64.h"

/* Decodes a NUL-terminated string into a 64-byte buffer. */
static long decode(const char *s, unsigned char *out)
{
    return b64url_decode(out, 64, s, strlen(s));
}

TEST(b64_rfc4648_vectors)
{
    /* RFC 4648 §10; none of them holds '+' or '/', so base64url only drops
     * the padding. */
    static const struct {
        const char *plain, *encoded;
    } v[] = {
        {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},          {"foo", "Zm9v"},
        {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"},
    };
    char enc[32];
    unsigned char dec[64];

    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t n = strlen(v[i].plain);
        CHECK_EQ_INT(b64url_encoded_len(n), strlen(v[i].encoded));
        CHECK_EQ_INT(b64url_encode(enc, v[i].plain, n), strlen(v[i].encoded));
        CHECK_EQ_STR(enc, v[i].encoded);
        CHECK_EQ_INT(decode(v[i].encoded, dec), n);
        CHECK(memcmp(dec, v[i].plain, n) == 0);
    }
}

TEST(b64_url_alphabet)
{
    /* Standard base64 "+//+" and "+/8=": the URL alphabet uses - and _. */
    static const unsigned char raw[] = {0xfb, 0xff, 0xfe};
    char enc[8];
    unsigned char dec[64];

    b64url_encode(enc, raw, 3);
    CHECK_EQ_STR(enc, "-__-");
    b64url_encode(enc, raw, 2);
    CHECK_EQ_STR(enc, "-_8");
    CHECK_EQ_INT(decode("-__-", dec), 3);
    CHECK(memcmp(dec, raw, 3) == 0);
    CHECK_EQ_INT(decode("-_8", dec), 2);
    CHECK(memcmp(dec, raw, 2) == 0);
}

TEST(b64_round_trip_lengths)
{
    unsigned char raw[64], dec[64];
    char enc[96];

    for (size_t n = 0; n <= 64; n++) {
        for (size_t i = 0; i < n; i++)
            raw[i] = (unsigned char)(i * 37 + n * 11 + 0xf0);
        size_t len = b64url_encode(enc, raw, n);
        CHECK_EQ_INT(len, (4 * n + 2) / 3); /* no padding */
        CHECK_EQ_INT(len, b64url_encoded_len(n));
        CHECK_EQ_INT(strlen(enc), len);
        CHECK(strpbrk(enc, "=+/") == NULL);
        CHECK_EQ_INT(b64url_decode(dec, sizeof dec, enc, len), n);
        CHECK(memcmp(dec, raw, n) == 0);
        /* The exact capacity is enough. */
        CHECK_EQ_INT(b64url_decode(dec, n, enc, len), n);
    }
}

TEST(b64_rejects_padding)
{
    unsigned char dec[64];

    CHECK_EQ_INT(decode("Zg==", dec), -1);
    CHECK_EQ_INT(decode("Zg=", dec), -1);
    CHECK_EQ_INT(decode("Zm8=", dec), -1);
    CHECK_EQ_INT(decode("Zm9vYg==", dec), -1);
    CHECK_EQ_INT(decode("====", dec), -1);
    CHECK_EQ_INT(decode("Zm9v====", dec), -1);
}

TEST(b64_rejects_foreign_chars)
{
    unsigned char dec[64];

    /* The standard alphabet's + and /. */
    CHECK_EQ_INT(decode("+/8", dec), -1);
    CHECK_EQ_INT(decode("+//+", dec), -1);
    CHECK_EQ_INT(decode("Zm9v+A", dec), -1);
    CHECK_EQ_INT(decode("Zm9v/A", dec), -1);
    CHECK_EQ_INT(decode("Zm9!", dec), -1);
    CHECK_EQ_INT(decode("Zm9\x80", dec), -1);
    CHECK_EQ_INT(decode("Zm.v", dec), -1);
    /* Bytes past ASCII are not base64url either. */
    CHECK_EQ_INT(decode("Zm9\xff", dec), -1);
    CHECK_EQ_INT(decode("\xc3\xa9Zm", dec), -1);
    /* A NUL inside the counted length. */
    CHECK_EQ_INT(b64url_decode(dec, sizeof dec, "Zm9v\0A", 6), -1);
}

TEST(b64_rejects_whitespace)
{
    unsigned char dec[64];

    CHECK_EQ_INT(decode("Zm 9v", dec), -1);
    CHECK_EQ_INT(decode(" Zm9v", dec), -1);
    CHECK_EQ_INT(decode("Zm9v ", dec), -1);
    CHECK_EQ_INT(decode("Zm9v\n", dec), -1);
    CHECK_EQ_INT(decode("Zm9v\r\nYmFy", dec), -1);
    CHECK_EQ_INT(decode("Zm\t9v", dec), -1);
}

TEST(b64_rejects_bad_length)
{
    unsigned char dec[64];

    /* 1 mod 4 characters carry 6 bits: never a whole byte. */
    CHECK_EQ_INT(decode("Z", dec), -1);
    CHECK_EQ_INT(decode("Zm9vY", dec), -1);
    CHECK_EQ_INT(decode("Zm9vYmFyZ", dec), -1);
    /* Only the first len characters are read. */
    CHECK_EQ_INT(b64url_decode(dec, sizeof dec, "Zm9vYmFy", 4), 3);
    CHECK(memcmp(dec, "foo", 3) == 0);
    CHECK_EQ_INT(b64url_decode(dec, sizeof dec, "Zm9vYmFy", 5), -1);
    CHECK_EQ_INT(b64url_decode(dec, sizeof dec, "", 0), 0);
}

TEST(b64_rejects_trailing_bits)
{
    unsigned char dec[64];

    /* One byte 'A' is "QQ"; "QR".."QZ" differ only in bits past the byte. */
    CHECK_EQ_INT(decode("QQ", dec), 1);
    CHECK_EQ_INT(dec[0], 'A');
    CHECK_EQ_INT(decode("QR", dec), -1);
    CHECK_EQ_INT(decode("QS", dec), -1);
    CHECK_EQ_INT(decode("QZ", dec), -1);
    /* Two bytes "fo" are "Zm8"; "Zm9" sets a bit past them. */
    CHECK_EQ_INT(decode("Zm8", dec), 2);
    CHECK_EQ_INT(decode("Zm9", dec), -1);
    CHECK_EQ_INT(decode("Zm-", dec), -1);
}

TEST(b64_capacity)
{
    unsigned char dec[8];

    memset(dec, 0xaa, sizeof dec);
    CHECK_EQ_INT(b64url_decode(dec, 5, "Zm9vYmFy", 8), -1);
    CHECK_EQ_INT(dec[5], 0xaa); /* nothing written past the capacity */
    CHECK_EQ_INT(b64url_decode(dec, 0, "Zg", 2), -1);
    CHECK_EQ_INT(b64url_decode(dec, 6, "Zm9vYmFy", 8), 6);
    CHECK(memcmp(dec, "foobar", 6) == 0);
}

TEST(b64_alphabet_every_byte)
{
    /* "Zm9" + one byte: accepted exactly when the byte is in the alphabet. */
    char src[4] = {'Z', 'm', '9', 0};
    unsigned char dec[8];
    int refused_in = 0, accepted_out = 0, first_out = -1;

    for (int c = 0; c < 256; c++) {
        bool in = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        src[3] = (char)c;
        long n = b64url_decode(dec, sizeof dec, src, 4);
        if (in && n != 3)
            refused_in++;
        if (!in && n != -1 && accepted_out++ == 0)
            first_out = c;
    }
    CHECK_EQ_INT(refused_in, 0);
    CHECK_EQ_INT(accepted_out, 0);
    CHECK_EQ_INT(first_out, -1); /* the first byte wrongly accepted */
}

TEST(b64_alphabet_only_every_byte)
{
    /* "ab" + one byte + "-_": accepted exactly when the byte is in the
     * alphabet, and the check reads len characters, no more. */
    char src[6] = {'a', 'b', 0, '-', '_', 0};
    int wrong = 0, first_wrong = -1;

    for (int c = 0; c < 256; c++) {
        bool in = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        src[2] = (char)c;
        if (b64url_alphabet_only(src, 5) != in && wrong++ == 0)
            first_wrong = c;
    }
    CHECK_EQ_INT(wrong, 0);
    CHECK_EQ_INT(first_wrong, -1); /* the first byte judged wrongly */
    CHECK(b64url_alphabet_only("", 0));
    CHECK(b64url_alphabet_only("AZaz09-_", 8));
    CHECK(!b64url_alphabet_only("AZaz09+/", 8));
    CHECK(!b64url_alphabet_only("Zm9v=", 5));
    CHECK(b64url_alphabet_only("Zm9v=", 4)); /* only len characters count */
}

/* Both decoders give the same verdict and the same bytes for a string. */
static bool decoders_agree(const char *s, size_t len, size_t cap)
{
    unsigned char a[64], b[64];
    long na = b64url_decode(a, cap, s, len), nb = b64url_decode_public(b, cap, s, len);

    return na == nb && (na <= 0 || memcmp(a, b, (size_t)na) == 0);
}

TEST(b64_public_decoder_agrees)
{
    /* Every string of up to three characters from the alphabet and its
     * neighbours (padding, the standard alphabet, whitespace, NUL, bytes past
     * ASCII, the JWS separator), then longer mostly-valid strings. */
    static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                              "=+/ .\n\x80\xff";
    const size_t k = sizeof set; /* the NUL at the end is one of them */
    char s[40];

    for (size_t i = 0; i < k; i++)
        for (size_t j = 0; j < k; j++)
            for (size_t l = 0; l < k; l++) {
                s[0] = set[i], s[1] = set[j], s[2] = set[l];
                CHECK(decoders_agree(s, 1, 64) && decoders_agree(s, 2, 64) &&
                      decoders_agree(s, 3, 64));
            }
    uint32_t x = 12345;
    for (int round = 0; round < 20000; round++) {
        size_t len = 4 + round % 36;
        for (size_t i = 0; i < len; i++) {
            x = x * 1103515245u + 12345u;
            /* one character in 64 from outside the alphabet */
            s[i] = set[(x >> 16) % ((x >> 8) % 64 == 0 ? k : 64)];
        }
        CHECK(decoders_agree(s, len, 64));
        CHECK(decoders_agree(s, len, (len * 3) / 4 - 1)); /* one byte short of room */
    }
    /* The vectors of the tests above. */
    static const char *const v[] = {"Zg", "Zm8", "Zm9v", "Zm9vYmFy", "-__-",   "-_8",       "Zg==",
                                    "QR", "Zm9", "Zm-",  "Zm9vY",    "Zm9v\n", "\xc3\xa9Zm"};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        CHECK(decoders_agree(v[i], strlen(v[i]), 64));
}
