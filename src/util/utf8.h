#ifndef GH_UTIL_UTF8_H
#define GH_UTIL_UTF8_H

#include <stddef.h>

/* UTF-8 as RFC 3629 defines it: one to four bytes per code point, each code
 * point in its shortest form, no UTF-16 surrogates (U+D800..U+DFFF) and
 * nothing past U+10FFFF. Everything else (overlong forms, the five- and
 * six-byte forms of RFC 2279, the bytes C0, C1 and F5..FF, stray continuation
 * bytes, a sequence cut short) is ill-formed. */

/* Counts the code points of the len bytes at s. A NUL byte is a code point
 * like any other (U+0000): callers that refuse NUL check for it themselves.
 * Reads only s[0..len) and keeps nothing. Returns the count (at most len), or
 * -1 when the bytes are not well-formed UTF-8. */
long utf8_count(const char *s, size_t len);

#endif
