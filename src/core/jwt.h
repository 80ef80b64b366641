#ifndef GH_CORE_JWT_H
#define GH_CORE_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* Access tokens: JWS compact serialization (RFC 7515) of JWT claims
 * (RFC 7519), HS256 with a shared secret, or EdDSA, ES256 and RS256 with
 * asymmetric keys (core/jwk.h). One serialization, the configured
 * algorithm(s) only, claims validated in one place (jwt_verify). */

typedef struct jwt_key jwt_key;
typedef struct jwk jwk;

struct jwt_params {
    const char *issuer;   /* NULL: no iss issued, none required */
    const char *audience; /* NULL: no aud issued, none required */
    long leeway_seconds;  /* allowed clock skew on exp and nbf */
};

#define JWT_USERNAME_MAX 255 /* a stored name, USERNAME_STORED_MAX */
#define JWT_SID_MAX      64
#define JWT_MAX_LEN      8192 /* longest token we read; longer is malformed */
#define JWT_ROLES_MAX    527  /* ROLES_TEXT_MAX: 16 names of 32 bytes joined by ',' */
#define JWT_EMAIL_MAX    254  /* EMAILS_MAX */

/* The authentication methods of a session (RFC 8176 "amr" values), a set
 * of bits: ["pwd"] after a password only, ["pwd", "otp"] after a password
 * and a one-time or recovery code, ["pwd", "hwk"] after a password and a
 * security key, ["hwk", "user"] after a passkey that verified its user
 * (API.md, "Second factors"). */
enum jwt_amr {
    JWT_AMR_PWD = 1u << 0,
    JWT_AMR_OTP = 1u << 1,
    JWT_AMR_HWK = 1u << 2,
    JWT_AMR_USER = 1u << 3,
};

#define JWT_AMR_ALL      (JWT_AMR_PWD | JWT_AMR_OTP | JWT_AMR_HWK | JWT_AMR_USER)
#define JWT_AMR_TEXT_MAX 16 /* "pwd otp hwk user" */

/* The RFC 8176 value of one bit of enum jwt_amr; NULL for anything else.
 * Bits are written in the order of the enum, the contract's: pwd, otp,
 * hwk, user. */
const char *jwt_amr_name(unsigned bit);

/* amr as the space-separated values a session stores (sessions.amr) into
 * text; "" for 0. */
void jwt_amr_text(unsigned amr, char text[JWT_AMR_TEXT_MAX + 1]);

/* The bits of stored text (jwt_amr_text's form, each value once): false
 * for anything else. */
bool jwt_amr_parse(const char *text, unsigned *amr);

struct jwt_claims {
    int64_t user_id; /* sub, a decimal string on the wire */
    char username[JWT_USERNAME_MAX + 1];
    char sid[JWT_SID_MAX + 1];
    int64_t iat, exp;
    unsigned
        amr; /* enum jwt_amr bits; a token without "amr" (issued before it) reads JWT_AMR_PWD */
    /* The user's roles when signed in or refreshed (core/roles.h's stored
     * form: sorted names joined by ',', "" none), the claim "roles" (a
     * JSON array, sorted) when there are any; and the user's confirmed
     * address, the claim "email" when there is one ("" none). */
    char roles[JWT_ROLES_MAX + 1];
    char email[JWT_EMAIL_MAX + 1];
};

enum jwt_status {
    JWT_OK = 0,
    JWT_MALFORMED,     /* not three base64url parts of JSON objects */
    JWT_BAD_HEADER,    /* another algorithm, crit, or a header we do not issue */
    JWT_BAD_SIGNATURE, /* the MAC does not match */
    JWT_EXPIRED,       /* exp in the past (beyond leeway) */
    JWT_NOT_YET_VALID, /* nbf in the future (beyond leeway) */
    JWT_BAD_CLAIMS,    /* iss/aud mismatch, exp/sub/username/sid missing or malformed, an
                          amr that is not an array of values we issue, roles that are not an
                          array of role names in ascending order, an email that is not a
                          string of 1 to JWT_EMAIL_MAX bytes */
};

/* Makes a signing and verification key from secret (copied; at least 32
 * bytes is the caller's rule). params' strings are copied too. NULL when out
 * of memory. */
jwt_key *jwt_key_create(const void *secret, size_t len, const struct jwt_params *params);

/* Makes a key of an asymmetric configuration: signer (NULL: verification
 * only) signs, with the header {"alg":...,"kid":...,"typ":"JWT"}; signer
 * and verifiers[0..n) verify tokens whose header names one of them by kid
 * with that key's algorithm; an HS256 token is never accepted. Takes
 * ownership of every key given, even on failure (a verifier with the kid of
 * one before it is freed at once); sets verifiers[i] to NULL. NULL when out
 * of memory or when no key is given. */
jwt_key *jwt_key_create_asym(jwk *signer, jwk **verifiers, size_t n,
                             const struct jwt_params *params);

/* The asymmetric keys of k (0 for HS256), the signer first when there is
 * one, and the kid of the signer (NULL for HS256 or verification only). */
size_t jwt_key_count(const jwt_key *k);
const jwk *jwt_key_at(const jwt_key *k, size_t i);
const char *jwt_key_kid(const jwt_key *k);

void jwt_key_free(jwt_key *k);

/* Signs claims (iat and exp as given; a random jti is added) into a new
 * NUL-terminated string the caller frees. NULL when out of memory. */
char *jwt_sign(const jwt_key *k, const struct jwt_claims *claims);

/* Verifies token (len bytes, need not be NUL-terminated) at time now: exact
 * algorithm (HS256 with a secret; with asymmetric keys the kid's key and its
 * algorithm), constant-time MAC comparison or the signature check, then exp
 * (required), nbf, iss, aud with the key's leeway. Fills *out on JWT_OK. A
 * fuzz target calls it with any bytes. */
enum jwt_status jwt_verify(const jwt_key *k, const char *token, size_t len, int64_t now,
                           struct jwt_claims *out);

/* Tokens of other claims (the OpenID Connect provider's ID tokens and RFC
 * 9068 access tokens, core/oidc.h), signed with k's asymmetric signer.
 * They never pass jwt_verify: an access token's typ is "at+jwt", and an ID
 * token carries no "username" (check_claims requires one), so neither
 * opens gatehouse's own endpoints even when both share a key. */

/* Signs the JSON object claims (kept by the caller; nothing is added)
 * under the header {"alg":...,"kid":...,"typ":typ} into a new
 * NUL-terminated string the caller frees. NULL when k has no asymmetric
 * signer (HS256, verification only) or out of memory. */
char *jwt_sign_json(const jwt_key *k, const char *typ, const json_t *claims);

/* Verifies token's signature with the key its kid names, that key's alg,
 * typ exactly as given and no crit, and returns its claims (a new
 * reference the caller releases) in *out; checks no claim. JWT_BAD_HEADER
 * for any other header (an HS256 token included), JWT_BAD_SIGNATURE,
 * JWT_MALFORMED as jwt_verify. */
enum jwt_status jwt_verify_json(const jwt_key *k, const char *typ, const char *token, size_t len,
                                json_t **out);

#endif
