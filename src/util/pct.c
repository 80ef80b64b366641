#include "util/pct.h"

/* The value of one hexadecimal digit, or -1. */
static int hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

enum pct_status pct_decode(const char *src, size_t len, unsigned flags, char *dst, size_t cap,
                           size_t *out_len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];

        if (c == '%') {
            /* Both digits must lie inside src[0..len): the input need not
             * be a C string, so nothing past len is read. */
            int hi = len - i > 2 ? hex_digit((unsigned char)src[i + 1]) : -1;
            int lo = len - i > 2 ? hex_digit((unsigned char)src[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return PCT_BAD_ESCAPE;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        } else if (c == '+' && (flags & PCT_PLUS_SPACE) != 0) {
            c = ' ';
        }
        if (c == '\0' && (flags & PCT_NO_NUL) != 0)
            return PCT_NUL;
        if (n == cap)
            return PCT_NO_ROOM;
        dst[n++] = (char)c;
    }
    *out_len = n;
    return PCT_OK;
}
