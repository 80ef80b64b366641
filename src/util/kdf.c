#include "util/kdf.h"

#include <sodium.h>

void kdf_from_setting(unsigned char *out, size_t outlen, uint64_t id, const char context[8],
                      const char *setting, size_t len)
{
    unsigned char master[crypto_kdf_KEYBYTES];

    crypto_generichash(master, sizeof master, (const unsigned char *)setting, len, NULL, 0);
    crypto_kdf_derive_from_key(out, outlen, id, context, master);
    sodium_memzero(master, sizeof master);
}
