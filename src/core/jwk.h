#ifndef GH_CORE_JWK_H
#define GH_CORE_JWK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* One asymmetric signing or verification key of a JWS algorithm: EdDSA
 * (Ed25519, through libsodium), ES256 (P-256) or RS256 (RSA PKCS#1 v1.5),
 * the last two through OpenSSL 3, loaded only when such a key is used
 * (core/ossl.h). A key is immutable once made, so threads share it freely.
 *
 * Ed25519 keys in the forms OpenSSL and most tools write (a 48-byte PKCS#8
 * "PRIVATE KEY", a 44-byte SubjectPublicKeyInfo "PUBLIC KEY") are read
 * without OpenSSL: their DER is a fixed prefix and the 32 key bytes. Any
 * other form goes to OpenSSL for parsing only. */

enum jwk_alg { JWK_EDDSA, JWK_ES256, JWK_RS256 };

typedef struct jwk jwk;

#define JWK_KID_LEN  43   /* base64url of the SHA-256 thumbprint (RFC 7638) */
#define JWK_SIG_MAX  1024 /* the longest signature: RSA 8192 */
#define JWK_FILE_MAX 16384
#define JWK_RSA_MIN  2048
#define JWK_RSA_MAX  8192
#define JWK_RSA_GEN  3072 /* the size gatehouse keys generate makes */

/* "EdDSA", "ES256", "RS256" (case-sensitive, as RFC 7518 names them) into
 * *out; -1 for anything else. */
int jwk_alg_parse(const char *name, enum jwk_alg *out);
const char *jwk_alg_name(enum jwk_alg alg);

/* Parses the first key of a PEM text: a private key (PKCS#8, or PKCS#1 /
 * SEC 1) or, unless need_private, a public one (SubjectPublicKeyInfo).
 * Refuses encrypted keys, curves other than P-256 and Ed25519, RSA outside
 * JWK_RSA_MIN..JWK_RSA_MAX bits, and other key types. NULL with a reason in
 * err (never key material). */
jwk *jwk_from_pem(const char *pem, size_t len, bool need_private, char *err, size_t errlen);

/* jwk_from_pem of a file, read with util/keyfile's checks: at most
 * JWK_FILE_MAX bytes, of this user or root, writable by no one else; a
 * private key (need_private or not) readable by no one else either, a
 * public key by anyone. */
jwk *jwk_load_file(const char *path, bool need_private, char *err, size_t errlen);

void jwk_free(jwk *k); /* wipes the private half; NULL is ignored */

enum jwk_alg jwk_alg_of(const jwk *k);
const char *jwk_kid(const jwk *k); /* NUL-terminated, JWK_KID_LEN characters */
bool jwk_is_private(const jwk *k);
size_t jwk_sig_len(const jwk *k); /* the exact signature length of this key */

/* Signs msg into sig (jwk_sig_len bytes; ES256 as r||s, RFC 7518 §3.4).
 * 0, or -1 when the key has no private half or the library fails. */
int jwk_sign(const jwk *k, const void *msg, size_t len, unsigned char *sig);

/* True when sig (siglen bytes) is k's signature of msg. */
bool jwk_verify(const jwk *k, const void *msg, size_t len, const unsigned char *sig, size_t siglen);

/* The public key as a JWK (RFC 7517; RFC 8037 for Ed25519) with kid, alg
 * and use "sig": a new reference, NULL when out of memory. */
json_t *jwk_public_json(const jwk *k);

/* A new private key of alg as an unencrypted PKCS#8 PEM text, malloc'd and
 * NUL-terminated (wipe it before freeing). NULL with a reason in err. */
char *jwk_generate_pem(enum jwk_alg alg, char *err, size_t errlen);
/* The same with an RSA key of rsa_bits (JWK_RSA_MIN..JWK_RSA_MAX) for RS256. */
char *jwk_generate_pem_bits(enum jwk_alg alg, unsigned rsa_bits, char *err, size_t errlen);

#endif
