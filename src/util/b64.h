#ifndef GH_UTIL_B64_H
#define GH_UTIL_B64_H

#include <stdbool.h>
#include <stddef.h>

/* Base64url without padding (RFC 4648 §5, as JWS requires in RFC 7515 §2). */

/* The encoded length of n bytes, without the terminating NUL. */
size_t b64url_encoded_len(size_t n);

/* True when each of the len characters of s is in the base64url alphabet
 * (A-Z a-z 0-9 - _); true for len 0. Checks the form only: the length, and
 * the trailing bits a decoder refuses, are the caller's to check. Stops at
 * the first character outside the alphabet. */
bool b64url_alphabet_only(const char *s, size_t len);

/* Encodes n bytes of src into dst, which must hold b64url_encoded_len(n) + 1
 * bytes; dst is NUL-terminated. Returns the encoded length. */
size_t b64url_encode(char *dst, const void *src, size_t n);

/* Decodes exactly len characters of src into dst (capacity cap). Strict:
 * padding, whitespace, characters outside the alphabet and non-zero trailing
 * bits are all refused. Returns the decoded length, or -1 on any error. */
long b64url_decode(void *dst, size_t cap, const char *src, size_t len);

/* The same decoding, exactly as strict, by table lookup: its time depends on
 * the bytes it reads. For what is public anyway, such as a JWS header or
 * payload; a secret (a refresh token, a key) goes through b64url_decode. */
long b64url_decode_public(void *dst, size_t cap, const char *src, size_t len);

#endif
