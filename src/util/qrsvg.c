#include "util/qrsvg.h"

#include <qrencode.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUIET 4 /* modules of light margin on each side (ISO/IEC 18004 §6.3.8) */

/* A growing string; a write that fails leaves ok false and the rest are
 * skipped. */
struct buf {
    char *p;
    size_t len, cap;
    int ok;
};

static void put(struct buf *b, const char *text)
{
    size_t n = strlen(text);

    if (!b->ok || b->len + n + 1 > b->cap) {
        b->ok = 0;
        return;
    }
    memcpy(b->p + b->len, text, n + 1);
    b->len += n;
}

static void put_int(struct buf *b, int v)
{
    char tmp[16];

    snprintf(tmp, sizeof tmp, "%d", v);
    put(b, tmp);
}

/* The dark modules of row y as runs: "Mx yhnv1h-nz" each, so that the
 * path is a few bytes per run rather than per module. */
static void row_runs(struct buf *b, const QRcode *qr, int y)
{
    const unsigned char *row = qr->data + (size_t)y * (size_t)qr->width;

    for (int x = 0; x < qr->width;) {
        if ((row[x] & 1) == 0) { /* bit 0: dark (qrencode.h) */
            x++;
            continue;
        }
        int start = x;
        while (x < qr->width && (row[x] & 1) != 0)
            x++;
        put(b, "M");
        put_int(b, start + QUIET);
        put(b, " ");
        put_int(b, y + QUIET);
        put(b, "h");
        put_int(b, x - start);
        put(b, "v1h-");
        put_int(b, x - start);
        put(b, "z");
    }
}

char *qrsvg_render(const char *text, size_t len, size_t *out_len)
{
    if (len > QRSVG_TEXT_MAX || memchr(text, '\0', len) != NULL)
        return NULL;
    char *s = malloc(len + 1);
    if (s == NULL)
        return NULL;
    memcpy(s, text, len);
    s[len] = '\0';
    /* The 8-bit hint, case-sensitive: an otpauth URI mixes cases, which
     * the alphanumeric mode alone cannot hold (libqrencode still codes
     * runs of digits compactly). Version 0: the smallest that fits. */
    QRcode *qr = QRcode_encodeString(s, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    free(s);
    if (qr == NULL)
        return NULL;
    int side = qr->width + 2 * QUIET;
    /* At worst every other module of a row starts a run: about 20 bytes
     * per run, plus the frame. */
    struct buf b = {NULL, 0, (size_t)qr->width * (size_t)qr->width * 12 + 512, 1};
    b.p = malloc(b.cap);
    if (b.p == NULL) {
        QRcode_free(qr);
        return NULL;
    }
    put(&b, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ");
    put_int(&b, side);
    put(&b, " ");
    put_int(&b, side);
    put(&b, "\" width=\"");
    put_int(&b, side * 4);
    put(&b, "\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR code\">");
    put(&b, "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path fill=\"#000\" d=\"");
    for (int y = 0; y < qr->width; y++)
        row_runs(&b, qr, y);
    put(&b, "\"/></svg>");
    QRcode_free(qr);
    if (!b.ok) {
        free(b.p);
        return NULL;
    }
    if (out_len != NULL)
        *out_len = b.len;
    return b.p;
}
