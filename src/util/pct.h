#ifndef GH_UTIL_PCT_H
#define GH_UTIL_PCT_H

#include <stddef.h>

/* Percent-decoding (RFC 3986 §2.1): "%" and two hexadecimal digits, in
 * either case, stand for one byte. Used for URLs (store/pgurl.c) and for
 * application/x-www-form-urlencoded bodies (util/form.c), which also write a
 * space as '+'. */

enum pct_status {
    PCT_OK = 0,
    PCT_BAD_ESCAPE, /* a '%' not followed by two hexadecimal digits */
    PCT_NUL,        /* a NUL byte, raw or as %00, under PCT_NO_NUL */
    PCT_NO_ROOM,    /* the output does not fit in cap bytes */
};

/* Flags for pct_decode. */
#define PCT_PLUS_SPACE 0x1u /* '+' decodes to a space (form encoding) */
#define PCT_NO_NUL     0x2u /* refuse a NUL byte, raw or encoded */

/* Decodes the len bytes at src into dst, which has room for cap bytes, and
 * sets *out_len to the number of bytes written. No NUL terminator is
 * written: a caller that wants a C string leaves one byte spare and adds it.
 * The output is never longer than the input, so cap >= len always suffices.
 * A stray '%' is refused, not kept, so that an encoding mistake is reported
 * rather than guessed at. Decoding stops at the first error (the earliest
 * one in src decides the status); dst then holds a partial result, which
 * the caller wipes if the input was secret. src and dst must not overlap.
 * Returns PCT_OK or the error; *out_len is set only on PCT_OK. */
enum pct_status pct_decode(const char *src, size_t len, unsigned flags, char *dst, size_t cap,
                           size_t *out_len);

#endif
