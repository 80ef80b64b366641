#include "util/b64.h"

#include <sodium.h>

size_t b64url_encoded_len(size_t n)
{
    return sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_URLSAFE_NO_PADDING) - 1;
}

size_t b64url_encode(char *dst, const void *src, size_t n)
{
    size_t cap = b64url_encoded_len(n) + 1;

    sodium_bin2base64(dst, cap, src, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return cap - 1;
}

bool b64url_alphabet_only(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return false;
    }
    return true;
}

long b64url_decode(void *dst, size_t cap, const char *src, size_t len)
{
    size_t out = 0;
    const char *end = NULL;

    /* A length of 1 mod 4 can never be produced by an encoder. */
    if (len % 4 == 1)
        return -1;
    /* libsodium 1.0.18 reads bytes >= 0x80 as '_': check the alphabet
     * first, so that every value has exactly one spelling. */
    if (!b64url_alphabet_only(src, len))
        return -1;
    if (sodium_base642bin(dst, cap, src, len, NULL, &out, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return -1;
    /* libsodium stops at the first character it cannot use; all must be used. */
    if (end != src + len)
        return -1;
    return (long)out;
}

/* 1 + the value of each byte of the base64url alphabet; 0 for every other
 * byte (zero-initialised), so one lookup both checks and decodes. */
static const unsigned char b64url_value1[256] = {
    ['A'] = 1,  ['B'] = 2,  ['C'] = 3,  ['D'] = 4,  ['E'] = 5,  ['F'] = 6,  ['G'] = 7,  ['H'] = 8,
    ['I'] = 9,  ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
    ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
    ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['-'] = 63, ['_'] = 64};

long b64url_decode_public(void *dst, size_t cap, const char *src, size_t len)
{
    const unsigned char *in = (const unsigned char *)src;
    unsigned char *out = dst;
    size_t full = len / 4, rest = len % 4;
    size_t n = full * 3 + (rest == 0 ? 0 : rest - 1);

    if (rest == 1 || n > cap)
        return -1;
    for (size_t i = 0; i < full; i++, in += 4, out += 3) {
        unsigned a = b64url_value1[in[0]], b = b64url_value1[in[1]];
        unsigned c = b64url_value1[in[2]], d = b64url_value1[in[3]];
        if (a == 0 || b == 0 || c == 0 || d == 0)
            return -1;
        unsigned v = (a - 1) << 18 | (b - 1) << 12 | (c - 1) << 6 | (d - 1);
        out[0] = (unsigned char)(v >> 16);
        out[1] = (unsigned char)(v >> 8);
        out[2] = (unsigned char)v;
    }
    if (rest >= 2) {
        unsigned a = b64url_value1[in[0]], b = b64url_value1[in[1]];
        unsigned c = rest == 3 ? b64url_value1[in[2]] : 1;
        if (a == 0 || b == 0 || c == 0)
            return -1;
        unsigned v = (a - 1) << 18 | (b - 1) << 12 | (c - 1) << 6;
        /* The bits past the last whole byte must be zero (RFC 4648 §3.5). */
        if ((rest == 2 && (v & 0xffff) != 0) || (rest == 3 && (v & 0xff) != 0))
            return -1;
        out[0] = (unsigned char)(v >> 16);
        if (rest == 3)
            out[1] = (unsigned char)(v >> 8);
    }
    return (long)n;
}
