#include "util/utf8.h"

/* Works on the byte ranges of RFC 3629 §4 ("UTF8-octets") rather than on
 * decoded values: the lead byte fixes the length and the range allowed for
 * the second byte, and that one range is what rules out the overlong forms
 * (E0 80..9F, F0 80..8F), the surrogates (ED A0..BF) and the code points past
 * U+10FFFF (F4 90..BF). Every later byte is a plain continuation byte. */
long utf8_count(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    long count = 0;
    size_t i = 0;

    while (i < len) {
        unsigned char c = p[i];
        size_t n;                           /* bytes in this sequence */
        unsigned char lo = 0x80, hi = 0xbf; /* the second byte's range */

        if (c <= 0x7f) {
            n = 1;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 2;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 3;
            if (c == 0xe0)
                lo = 0xa0;
            else if (c == 0xed)
                hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 4;
            if (c == 0xf0)
                lo = 0x90;
            else if (c == 0xf4)
                hi = 0x8f;
        } else {
            /* 80..BF continue a sequence, C0 and C1 could only start an
             * overlong one, and F5..FF start nothing in RFC 3629. */
            return -1;
        }
        if (n > len - i)
            return -1;
        if (n > 1 && (p[i + 1] < lo || p[i + 1] > hi))
            return -1;
        for (size_t k = 2; k < n; k++)
            if (p[i + k] < 0x80 || p[i + k] > 0xbf)
                return -1;
        i += n;
        count++;
    }
    return count;
}
