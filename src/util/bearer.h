#ifndef GH_UTIL_BEARER_H
#define GH_UTIL_BEARER_H

#include <stdbool.h>
#include <stddef.h>

/* Bearer tokens kept only as their hash: 256 random bits in base64url
 * without padding (RFC 4648 §5), stored as the SHA-256 of that text, so a
 * copy of the database holds no token that works. Refresh tokens
 * (core/sessions), the mailed tokens (core/emails) and the second-factor
 * flows' tokens (core/flows) are these. */

#define BEARER_LEN 43 /* base64url of 32 bytes, unpadded */

/* A new token into tok (NUL-terminated) and its SHA-256 into hash. */
void bearer_new(char tok[BEARER_LEN + 1], unsigned char hash[32]);

/* The SHA-256 of a token as a client sent it (len characters of t, no NUL
 * needed) into hash. false, with hash untouched, for anything that is not
 * of bearer_new's form (BEARER_LEN characters of base64url of 32 bytes, the
 * unused bits zero): such a token needs no query to be refused. */
bool bearer_hash(const char *t, size_t len, unsigned char hash[32]);

#endif
