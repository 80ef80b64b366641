#ifndef GH_CORE_KEYSET_H
#define GH_CORE_KEYSET_H

#include <stdbool.h>
#include <stddef.h>

#include "core/jwt.h"

/* The keys of access tokens: the signing key, the verification keys and
 * the HS256 secret, as one immutable generation (a jwt_key and the JWKS
 * document of its public keys). A reload (SIGHUP) reads the key files again
 * and swaps in a new generation only when every file loads; a request that
 * holds the old generation finishes with it, and the last to let go frees
 * it. Also the secret files: SECRET_KEY_FILE and <database>.secret. */

#define KEYSET_MAX_KEYS   32   /* verification keys in JWT_VERIFY_KEYS_DIR */
#define KEYSET_SECRET_MAX 4096 /* bytes of a secret file */

struct keyset_config {
    const char *algorithm;    /* "HS256", "EdDSA", "ES256" or "RS256"; NULL: private_key's own */
    const char *secret;       /* HS256: the secret (len bytes) */
    size_t secret_len;        /* at least 32 bytes is the caller's rule */
    const char *private_key;  /* others: JWT_PRIVATE_KEY_FILE */
    const char *verify_dir;   /* others: JWT_VERIFY_KEYS_DIR, or NULL */
    struct jwt_params params; /* strings copied */
    const char *setting;      /* the key file's setting in messages; NULL: JWT_PRIVATE_KEY_FILE */
};

typedef struct keyset keyset;
typedef struct keyset_gen keyset_gen;

/* Loads the keys cfg names (every string is copied). NULL with a one-line
 * reason in err: a key file unreadable, open to other users, too large, of
 * another type than ALGORITHM, an RSA key under 2048 bits, ... */
keyset *keyset_open(const struct keyset_config *cfg, char *err, size_t errlen);

/* A keyset of one fixed key (tests, tools): takes ownership of k. NULL when
 * out of memory (k is freed). */
keyset *keyset_wrap(jwt_key *k);

/* Reads the key files again and, when all load, makes them current.
 * Returns 0; on failure -1 with the reason in err, and the current keys
 * stay. HS256's secret does not change. */
int keyset_reload(keyset *ks, char *err, size_t errlen);

/* Frees ks; every generation taken must have been put back. NULL ignored. */
void keyset_close(keyset *ks);

/* The current generation, held until keyset_put: no allocation, a mutex
 * held for a pointer copy. Thread-safe. */
const keyset_gen *keyset_get(keyset *ks);
void keyset_put(const keyset_gen *g);

/* The number of the current generation (0 at start, one more at each
 * reload), without a lock: what a cache of verified tokens compares with
 * the number of the generation that verified them (keyset_gen_number). */
uint64_t keyset_generation(keyset *ks);
uint64_t keyset_gen_number(const keyset_gen *g);

const jwt_key *keyset_jwt(const keyset_gen *g);
/* The JWKS document ({"keys": [...]}, RFC 7517): NUL-terminated JSON. */
const char *keyset_jwks(const keyset_gen *g);

/* The JWKS of a and b together (b NULL: a's alone), one entry per kid: a
 * new string the caller frees, NULL when out of memory. */
char *keyset_jwks_union(const keyset_gen *a, const keyset_gen *b);

/* Reads a secret from a file (SECRET_KEY_FILE: any read mode, as container
 * runtimes mount secrets; but neither it nor its directory writable by
 * others, and it of this user or root), without its trailing line ending, into a new
 * malloc'd string *out of *len bytes. -1 with a reason that names the path
 * but never shows the content: unreadable, empty, a NUL byte, shorter than
 * 32 bytes. */
int keyset_read_secret(const char *path, char **out, size_t *len, char *err, size_t errlen);

/* The secret kept in <dbpath>.secret, generated (256 random bits as hex,
 * mode 0600) when the file is absent. The file appears atomically with its
 * whole content (util/keyfile), so a crash leaves no empty key behind and
 * two servers starting at once agree on one. It must be mode 0600. Returns
 * as keyset_read_secret; *generated tells whether this call made it. */
int keyset_secret_beside(const char *dbpath, char **out, size_t *len, bool *generated, char *err,
                         size_t errlen);

/* The OpenID Connect provider's key kept beside a SQLite database,
 * <dbpath>.oidc-key.pem: generated when absent (RS256, RSA of 2048 bits,
 * mode 0600, atomically as keyset_secret_beside), so that every start signs
 * with the same key. Its path, malloc'd, into *path; *generated tells
 * whether this call made it. -1 with a reason in err. */
int keyset_key_beside(const char *dbpath, char **path, bool *generated, char *err, size_t errlen);

#endif
