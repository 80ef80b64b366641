/* util/qrsvg: the SVG of a QR code. No decoder: the path is read back into
 * a module matrix and compared with libqrencode's own, and the markup is
 * held to what a strict CSP page may inline. */
#include <qrencode.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "util/qrsvg.h"

#define URI                                                                                        \
    "otpauth://totp/gatehouse:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=gatehouse"

static size_t count(const char *s, const char *what)
{
    size_t n = 0;

    for (const char *p = strstr(s, what); p != NULL; p = strstr(p + 1, what))
        n++;
    return n;
}

/* Reads the number after the literal lit at *p, moving *p past it; -1 when
 * the text is not there. */
static long number_after(const char **p, const char *lit)
{
    size_t n = strlen(lit);
    char *end;

    if (strncmp(*p, lit, n) != 0 || **p == '\0' || (*p)[n] < '0' || (*p)[n] > '9')
        return -1;
    long v = strtol(*p + n, &end, 10);
    *p = end;
    return v;
}

/* Paints the runs "Mx yhnv1h-nz" of the path d (up to its closing quote)
 * into m (side x side); false on anything else. */
static bool paint(const char *d, unsigned char *m, int side)
{
    while (*d != '"') {
        long x = number_after(&d, "M"), y = number_after(&d, " "), n = number_after(&d, "h"),
             n2 = number_after(&d, "v1h-");
        if (x < 0 || y < 0 || n < 1 || n != n2 || *d != 'z' || x + n > side || y >= side)
            return false;
        d++;
        for (long i = 0; i < n; i++)
            m[y * side + x + i]++;
    }
    return true;
}

TEST(qrsvg_modules_match_the_symbol)
{
    size_t len = 0;
    char *svg = qrsvg_render(URI, strlen(URI), &len);
    QRcode *qr = QRcode_encodeString(URI, 0, QR_ECLEVEL_M, QR_MODE_8, 1);

    REQUIRE(svg != NULL && qr != NULL);
    CHECK_EQ_INT(len, strlen(svg));
    CHECK(strncmp(svg, "<svg ", 5) == 0);
    CHECK(strcmp(svg + len - 6, "</svg>") == 0);
    CHECK_EQ_INT(count(svg, "<path"), 1);
    CHECK_EQ_INT(count(svg, "<"), 4); /* svg, rect, path, /svg */
    CHECK(strstr(svg, "shape-rendering=\"crispEdges\"") != NULL);
    static const char *const banned[] = {"script", "href", "url(", "style", " on", "javascript"};
    for (size_t i = 0; i < sizeof banned / sizeof banned[0]; i++)
        CHECK(strstr(svg, banned[i]) == NULL);
    /* The quiet zone: four light modules around the symbol. */
    int side = qr->width + 8;
    char want[64];
    snprintf(want, sizeof want, "viewBox=\"0 0 %d %d\"", side, side);
    CHECK(strstr(svg, want) != NULL);
    unsigned char *m = calloc((size_t)side * (size_t)side, 1);
    const char *d = strstr(svg, " d=\"");
    REQUIRE(m != NULL && d != NULL);
    CHECK(paint(d + 4, m, side));
    int wrong = 0;
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++) {
            bool inside = x >= 4 && y >= 4 && x < side - 4 && y < side - 4;
            int dark = inside ? qr->data[(y - 4) * qr->width + (x - 4)] & 1 : 0;
            wrong += m[y * side + x] != dark; /* each dark module painted once */
        }
    CHECK_EQ_INT(wrong, 0);
    free(m);
    QRcode_free(qr);
    free(svg);
}

TEST(qrsvg_limits)
{
    char *big = malloc(QRSVG_TEXT_MAX + 2);
    size_t len = 0;

    REQUIRE(big != NULL);
    memset(big, 'a', QRSVG_TEXT_MAX + 1);
    big[QRSVG_TEXT_MAX + 1] = '\0';
    /* The longest text fits a symbol (version 40 at most), and its SVG
     * stays within a bound of the module count. */
    char *svg = qrsvg_render(big, QRSVG_TEXT_MAX, &len);
    REQUIRE(svg != NULL);
    CHECK(len < (size_t)177 * 177 * 12 + 512);
    free(svg);
    /* One byte more, or a NUL inside: refused, never truncated. */
    CHECK(qrsvg_render(big, QRSVG_TEXT_MAX + 1, NULL) == NULL);
    CHECK(qrsvg_render("ab\0cd", 5, NULL) == NULL);
    free(big);
    /* A short text gives the smallest symbol: 21 modules and the zone. */
    svg = qrsvg_render("x", 1, NULL);
    REQUIRE(svg != NULL);
    CHECK(strstr(svg, "viewBox=\"0 0 29 29\"") != NULL);
    free(svg);
}
