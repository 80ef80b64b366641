#include "util/form.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/mediatype.h"
#include "util/pct.h"
#include "util/utf8.h"

/* Decodes src[0..len) into dst, NUL-terminates it and returns the decoded
 * length in *out. dst has room for len + 1 bytes (decoding never grows). */
static enum form_status decode(const char *src, size_t len, char *dst, size_t *out)
{
    size_t n = 0;
    /* The WHATWG parser keeps a stray '%' as is; pct_decode refuses it, so
     * that a client's encoding bug is reported, not guessed at. */
    enum pct_status st = pct_decode(src, len, PCT_PLUS_SPACE | PCT_NO_NUL, dst, len, &n);

    if (st == PCT_NUL)
        return FORM_NUL;
    /* With room for len bytes PCT_NO_ROOM cannot happen: only a bad escape
     * is left. */
    if (st != PCT_OK)
        return FORM_BAD_ESCAPE;
    dst[n] = '\0';
    *out = n;
    return utf8_count(dst, n) >= 0 ? FORM_OK : FORM_BAD_UTF8;
}

enum form_status form_parse(const char *body, size_t len, struct form *f)
{
    size_t pairs = 1;

    memset(f, 0, sizeof *f);
    for (size_t i = 0; i < len; i++)
        pairs += body[i] == '&';
    /* Each segment decodes to at most its own length, plus two NULs. */
    f->buf_len = len + 2 * pairs;
    f->buf = malloc(f->buf_len);
    f->fields = calloc(pairs, sizeof *f->fields);
    if (f->buf == NULL || f->fields == NULL) {
        free(f->buf);
        free(f->fields);
        memset(f, 0, sizeof *f);
        return FORM_NOMEM;
    }

    char *out = f->buf;
    size_t i = 0;
    while (i <= len) {
        const char *seg = body + i;
        const char *amp = memchr(seg, '&', len - i);
        size_t seg_len = amp != NULL ? (size_t)(amp - seg) : len - i;
        i += seg_len + 1;
        if (seg_len == 0)
            continue;

        const char *eq = memchr(seg, '=', seg_len);
        size_t name_len = eq != NULL ? (size_t)(eq - seg) : seg_len;
        const char *val = eq != NULL ? eq + 1 : seg + seg_len;
        size_t val_len = seg_len - name_len - (eq != NULL);
        struct form_field *fld = &f->fields[f->count];
        enum form_status st;

        fld->name = out;
        st = decode(seg, name_len, out, &fld->name_len);
        if (st == FORM_OK) {
            out += fld->name_len + 1;
            fld->value = out;
            st = decode(val, val_len, out, &fld->value_len);
        }
        if (st != FORM_OK) {
            form_free(f);
            return st;
        }
        out += fld->value_len + 1;
        f->count++;
    }
    return FORM_OK;
}

void form_free(struct form *f)
{
    if (f->buf != NULL) {
        sodium_memzero(f->buf, f->buf_len);
        free(f->buf);
    }
    free(f->fields);
    memset(f, 0, sizeof *f);
}

enum form_lookup form_get(const struct form *f, const char *name, const char **value, size_t *len)
{
    size_t seen = 0;
    const struct form_field *hit = NULL;

    for (size_t i = 0; i < f->count; i++) {
        if (strcmp(f->fields[i].name, name) != 0)
            continue;
        seen++;
        hit = &f->fields[i];
    }
    if (seen > 1)
        return FORM_REPEATED;
    if (hit == NULL || hit->value_len == 0)
        return FORM_ABSENT;
    *value = hit->value;
    *len = hit->value_len;
    return FORM_FOUND;
}

bool form_content_type_ok(const char *ct)
{
    return mediatype_is(ct, "application/x-www-form-urlencoded");
}
