#include "util/csv.h"

#include <string.h>

void csv_init(struct csv_reader *r, char *buf, size_t len)
{
    static const char bom[] = "\xef\xbb\xbf";

    r->buf = buf;
    r->len = len;
    r->pos = len >= 3 && memcmp(buf, bom, 3) == 0 ? 3 : 0;
    r->line = 1;
}

/* One field starting at r->pos, unquoted in place into *out. Returns 0, or
 * -1 for a quoted field that never ends. On return r->pos is at the
 * separator, the line break or the end. */
static int read_field(struct csv_reader *r, struct csv_field *out)
{
    char *buf = r->buf;
    size_t len = r->len, i = r->pos, w = r->pos;

    if (i < len && buf[i] == '"') {
        for (i++;; i++) {
            if (i >= len)
                return -1;
            if (buf[i] == '"') {
                if (i + 1 < len && buf[i + 1] == '"') {
                    buf[w++] = '"';
                    i++;
                    continue;
                }
                i++;
                break;
            }
            if (buf[i] == '\n')
                r->line++;
            buf[w++] = buf[i];
        }
    } else {
        /* buf[len] is a NUL, so looking one byte past a '\r' is safe. */
        while (i < len && buf[i] != ',' && buf[i] != '\n' &&
               !(buf[i] == '\r' && buf[i + 1] == '\n'))
            buf[w++] = buf[i++];
    }
    out->s = buf + r->pos;
    out->len = w - r->pos;
    r->pos = i;
    return 0;
}

enum csv_status csv_next(struct csv_reader *r, struct csv_field *fields, size_t max, size_t *n,
                         long *line)
{
    *n = 0;
    *line = r->line;
    if (r->pos >= r->len)
        return CSV_END;
    for (;;) {
        struct csv_field f;
        if (read_field(r, &f) != 0) {
            r->pos = r->len;
            return CSV_UNTERMINATED;
        }
        if (*n < max)
            fields[*n] = f;
        (*n)++;
        if (r->pos < r->len && r->buf[r->pos] == ',') {
            r->pos++;
            continue;
        }
        break;
    }
    if (r->pos < r->len && r->buf[r->pos] == '\r')
        r->pos++;
    if (r->pos < r->len && r->buf[r->pos] == '\n') {
        r->pos++;
        r->line++;
    }
    return CSV_RECORD;
}

size_t csv_quote(const char *s, size_t len, char *out, size_t cap)
{
    size_t need = 2, w = 0;

    for (size_t i = 0; i < len; i++)
        need += s[i] == '"' ? 2 : 1;
    if (need > cap)
        return need;
    out[w++] = '"';
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            out[w++] = '"';
        out[w++] = s[i];
    }
    out[w] = '"';
    return need;
}
