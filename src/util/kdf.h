#ifndef GH_UTIL_KDF_H
#define GH_UTIL_KDF_H

#include <stddef.h>
#include <stdint.h>

/* Keys derived from a setting (SECRET_KEY, MFA_ENCRYPTION_KEY) with
 * libsodium's KDF (BLAKE2b): each use has a context of its own, so no two
 * uses of one setting share a key. */

/* Derives subkey id of context (exactly 8 characters) from the len bytes
 * of setting into out (16 to 64 bytes). The setting may be of any length:
 * its unkeyed BLAKE2b hash is the KDF's master key, which must be exactly
 * crypto_kdf_KEYBYTES; the master is wiped. */
void kdf_from_setting(unsigned char *out, size_t outlen, uint64_t id, const char context[8],
                      const char *setting, size_t len);

#endif
