#ifndef GH_CORE_TOKENCACHE_H
#define GH_CORE_TOKENCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/jwt.h"

/* Access tokens already verified, by a keyed digest of the whole token: the
 * signature check and the claims parse of a token seen before are skipped,
 * and its claims copied out instead. What a hit still needs is the caller's:
 * the revocation set is consulted on every request, cached or not.
 *
 * An entry counts only while its token has not expired (no leeway: a token
 * in its grace period takes the full check, which knows the leeway) and
 * while the keys it was verified with are current (gen, keyset_generation):
 * a key reload makes every entry a miss. The table is fixed at creation:
 * sets of eight entries, two candidate sets per token (the emptier takes
 * it); when both are full the entry that expires first is dropped. The digest is
 * SipHash-2-4 with 128 bits of output (libsodium's siphashx24), keyed with
 * a random key of the process: no token is kept in memory, and without the
 * key no one can make a token of theirs land on another's entry (a PRF
 * collision, 2^128 work; BLAKE2b-256 cost 2,100 more instructions per
 * request). Thread-safe: sets share 1,024 mutexes. */

typedef struct tokencache tokencache;

#define TOKENCACHE_DIGEST 16 /* crypto_shorthash_siphashx24_BYTES */

/* A cache of about entries tokens (rounded up to a power of two), or NULL
 * when entries is 0 (no cache) or memory ran out. */
tokencache *tokencache_create(size_t entries);
void tokencache_free(tokencache *c);

/* The entries the cache holds at most (0 for NULL). */
size_t tokencache_capacity(const tokencache *c);

/* The digest by which token (len bytes) is cached. */
void tokencache_digest(const tokencache *c, const char *token, size_t len,
                       uint8_t out[TOKENCACHE_DIGEST]);

/* True, with the token's claims in *out, when digest is cached under key
 * generation gen and its exp is after now. Allocates nothing. */
bool tokencache_get(tokencache *c, const uint8_t digest[TOKENCACHE_DIGEST], uint64_t gen,
                    int64_t now, struct jwt_claims *out);

/* Caches the claims of a token that passed jwt_verify with the keys of
 * generation gen. Out of memory, nothing is cached. */
void tokencache_put(tokencache *c, const uint8_t digest[TOKENCACHE_DIGEST], uint64_t gen,
                    const struct jwt_claims *claims);

/* Hits and misses since creation (for GET /metrics). */
void tokencache_counts(tokencache *c, uint64_t *hits, uint64_t *misses);

#endif
