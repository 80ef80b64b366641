#include "util/numfmt.h"

#include <string.h>

size_t numfmt_i64(char *out, int64_t v)
{
    char tmp[NUMFMT_I64_MAX];
    size_t n = 0, len = 0;
    /* The magnitude as unsigned: -INT64_MIN does not fit an int64_t. */
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        out[len++] = '-';
    while (n > 0)
        out[len++] = tmp[--n];
    out[len] = '\0';
    return len;
}

size_t numfmt_hex(char *out, uint64_t v, unsigned width)
{
    static const char hex[] = "0123456789abcdef";
    unsigned n = 1;

    if (width > 16)
        width = 16;
    while (n < 16 && (v >> (4 * n)) != 0)
        n++;
    if (n < width)
        n = width;
    for (unsigned i = 0; i < n; i++)
        out[i] = hex[(v >> (4 * (n - 1 - i))) & 0xf];
    out[n] = '\0';
    return n;
}

const char *numfmt_plural(long long n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}
