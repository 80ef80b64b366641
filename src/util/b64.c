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

long b64url_decode(void *dst, size_t cap, const char *src, size_t len)
{
    size_t out = 0;
    const char *end = NULL;

    /* A length of 1 mod 4 can never be produced by an encoder. */
    if (len % 4 == 1)
        return -1;
    /* libsodium 1.0.18 reads bytes >= 0x80 as '_': check the alphabet
     * first, so that every value has exactly one spelling. */
    for (size_t i = 0; i < len; i++) {
        char c = src[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return -1;
    }
    if (sodium_base642bin(dst, cap, src, len, NULL, &out, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        return -1;
    /* libsodium stops at the first character it cannot use; all must be used. */
    if (end != src + len)
        return -1;
    return (long)out;
}
