/* util/form.c (and util/pct.c, util/utf8.c, util/mediatype.c below it): an
 * application/x-www-form-urlencoded body as POST /token receives it. Every
 * decoded name and value is NUL-terminated valid UTF-8 without a NUL, and
 * encoding the fields again and parsing that gives the same fields. */
#include "fuzz/fuzz.h"
#include "util/form.h"
#include "util/utf8.h"

/* Percent-encodes s[0..len) into out (room for 3 * len bytes). */
static size_t encode(const char *s, size_t len, char *out)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t w = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '*') {
            out[w++] = (char)c;
        } else if (c == ' ') {
            out[w++] = '+';
        } else {
            out[w++] = '%';
            out[w++] = hex[c >> 4];
            out[w++] = hex[c & 15];
        }
    }
    return w;
}

static void check_field(const char *s, size_t len)
{
    FUZZ_CHECK(s[len] == '\0');
    FUZZ_CHECK(memchr(s, '\0', len) == NULL);
    FUZZ_CHECK(utf8_count(s, len) >= 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct form f, g;
    char *ct = fuzz_strndup(data, size);

    /* The same bytes as a Content-Type header value. */
    (void)form_content_type_ok(ct);
    free(ct);
    if (form_parse((const char *)data, size, &f) != FORM_OK)
        return 0;

    char *again = malloc(3 * size + 2 * f.count + 1);
    size_t w = 0;
    FUZZ_CHECK(again != NULL);
    for (size_t i = 0; i < f.count; i++) {
        const struct form_field *x = &f.fields[i];
        check_field(x->name, x->name_len);
        check_field(x->value, x->value_len);
        if (i > 0)
            again[w++] = '&';
        w += encode(x->name, x->name_len, again + w);
        again[w++] = '=';
        w += encode(x->value, x->value_len, again + w);
    }
    FUZZ_CHECK(form_parse(again, w, &g) == FORM_OK);
    FUZZ_CHECK(g.count == f.count);
    for (size_t i = 0; i < f.count; i++) {
        FUZZ_CHECK(g.fields[i].name_len == f.fields[i].name_len);
        FUZZ_CHECK(memcmp(g.fields[i].name, f.fields[i].name, f.fields[i].name_len) == 0);
        FUZZ_CHECK(g.fields[i].value_len == f.fields[i].value_len);
        FUZZ_CHECK(memcmp(g.fields[i].value, f.fields[i].value, f.fields[i].value_len) == 0);
    }
    /* form_get agrees with the fields: found means exactly one, non-empty.
     * The first 16 names only: each lookup is linear. */
    for (size_t i = 0; i < f.count && i < 16; i++) {
        const char *v = NULL;
        size_t vlen = 0, seen = 0;
        for (size_t k = 0; k < f.count; k++)
            seen += strcmp(f.fields[k].name, f.fields[i].name) == 0;
        enum form_lookup l = form_get(&f, f.fields[i].name, &v, &vlen);
        if (seen > 1)
            FUZZ_CHECK(l == FORM_REPEATED);
        else if (f.fields[i].value_len == 0)
            FUZZ_CHECK(l == FORM_ABSENT);
        else
            FUZZ_CHECK(l == FORM_FOUND && v == f.fields[i].value && vlen == f.fields[i].value_len);
    }
    form_free(&g);
    form_free(&f);
    free(again);
    return 0;
}
