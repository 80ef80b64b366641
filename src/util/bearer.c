#include "util/bearer.h"

#include <sodium.h>

void bearer_new(char tok[BEARER_LEN + 1], unsigned char hash[32])
{
    unsigned char raw[32];

    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(tok, BEARER_LEN + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    crypto_hash_sha256(hash, (const unsigned char *)tok, BEARER_LEN);
}

bool bearer_hash(const char *t, size_t len, unsigned char hash[32])
{
    unsigned char raw[33];
    size_t n = 0;
    const char *end = NULL;

    if (t == NULL || len != BEARER_LEN ||
        sodium_base642bin(raw, sizeof raw, t, len, NULL, &n, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        n != 32 || end != t + len)
        return false;
    sodium_memzero(raw, sizeof raw);
    crypto_hash_sha256(hash, (const unsigned char *)t, len);
    return true;
}
