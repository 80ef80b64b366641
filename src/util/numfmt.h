#ifndef GH_UTIL_NUMFMT_H
#define GH_UTIL_NUMFMT_H

#include <stddef.h>
#include <stdint.h>

/* Integers as text without printf: what a header of every response needs
 * (the request id, /verify's user id), where snprintf's format parsing was
 * a measurable part of a request (bench/RESULTS.md). */

#define NUMFMT_I64_MAX 21 /* "-9223372036854775808" and its NUL */

/* Writes v in decimal and a NUL into out (at least NUMFMT_I64_MAX bytes);
 * returns the length. */
size_t numfmt_i64(char *out, int64_t v);

/* Writes v in lower-case hexadecimal, zero-padded to at least width digits
 * (at most 16), and a NUL into out (at least 17 bytes); returns the length. */
size_t numfmt_hex(char *out, uint64_t v, unsigned width);

/* one when n is 1, else many: the noun after a count in a message ("1
 * connection", "2 connections", "0 problems"). */
const char *numfmt_plural(long long n, const char *one, const char *many);

#endif
