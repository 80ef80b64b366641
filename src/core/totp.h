#ifndef GH_CORE_TOTP_H
#define GH_CORE_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Time-based one-time passwords (RFC 6238) as authenticator apps make
 * them by default: HMAC-SHA-1, 6 digits, 30-second steps counted from the
 * Unix epoch. The codes come from liboath; the comparison is ours, in
 * constant time (liboath's validate functions compare with strcmp). */

#define TOTP_DIGITS     6
#define TOTP_PERIOD     30
#define TOTP_SECRET_LEN 20 /* 160 bits: the HMAC-SHA-1 key length RFC 4226 §4 recommends */
#define TOTP_BASE32_MAX 32 /* the base32 of TOTP_SECRET_LEN bytes, no padding */

/* Initialises liboath; once, at start-up, before any thread uses it.
 * Returns 0, or -1 (logged) when the library refuses. */
int totp_init(void);

/* A new random secret. */
void totp_secret_new(unsigned char secret[TOTP_SECRET_LEN]);

/* The RFC 4648 base32 of secret (len bytes, at most TOTP_SECRET_LEN), as
 * authenticator apps take it: upper case, no '=' padding. Returns 0, -1
 * on failure. */
int totp_base32(const unsigned char *secret, size_t len, char out[TOTP_BASE32_MAX + 1]);

/* The code of time step `step` (a Unix time divided by TOTP_PERIOD) for
 * secret (len bytes). Returns 0, -1 when liboath fails (logged). */
int totp_code(const unsigned char *secret, size_t len, int64_t step, char out[TOTP_DIGITS + 1]);

/* The step of now, and the latest step that code (clen bytes) is right
 * for among the steps before, at and after it (clock drift of a phone),
 * all three compared every time, in constant time. Only steps after
 * `after` count (a step accepted before is never accepted again, nor one
 * earlier). Returns the step, or -1 when none matches. */
int64_t totp_match(const unsigned char *secret, size_t len, const char *code, size_t clen,
                   int64_t now, int64_t after);

/* The otpauth URI of the Key Uri Format an authenticator app scans:
 * otpauth://totp/ISSUER:ACCOUNT?secret=B32&issuer=ISSUER&algorithm=SHA1&
 * digits=6&period=30, issuer and account percent-encoded (every byte but
 * RFC 3986's unreserved ones). malloc'd; NULL when out of memory. */
char *totp_uri(const char *issuer, const char *account, const char *base32);

#endif
