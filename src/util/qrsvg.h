#ifndef GH_UTIL_QRSVG_H
#define GH_UTIL_QRSVG_H

#include <stddef.h>

/* A text as a QR code in SVG (ISO/IEC 18004 through libqrencode's
 * QRcode_encodeString with the 8-bit hint, error correction level M), for an otpauth URI that an
 * authenticator app scans off the screen. The image is one <svg> element:
 * a white background, one <path> of the dark modules, the 4-module quiet
 * zone the standard asks for (§6.3.8), a viewBox in modules and
 * shape-rendering="crispEdges"; no script, no style sheet, no external
 * reference, so a page can put it inline under a strict CSP. */

/* The longest text taken: well within what a version 40 symbol holds at
 * level M in byte mode (2331 bytes). */
#define QRSVG_TEXT_MAX 2048

/* The SVG of text (len bytes, no NUL inside), malloc'd and NUL-terminated
 * (the caller frees it), its length in *out_len when out_len is not NULL.
 * NULL when text is longer than QRSVG_TEXT_MAX, holds a NUL, or memory
 * runs out. */
char *qrsvg_render(const char *text, size_t len, size_t *out_len);

#endif
