#include "core/pages.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/templates.h"
#include "util/b64.h"

void pages_csrf_new(char *out)
{
    unsigned char raw[32];

    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, PAGES_CSRF_LEN + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

bool pages_csrf_valid(const char *cookie)
{
    /* strnlen reads no further than a shorter cookie's NUL. */
    return cookie != NULL && strnlen(cookie, PAGES_CSRF_LEN + 1) == PAGES_CSRF_LEN &&
           b64url_alphabet_only(cookie, PAGES_CSRF_LEN);
}

bool pages_csrf_check(const char *cookie, const char *field, size_t flen)
{
    /* The lengths are public (every valid value has the same); the bytes
     * are compared without an early exit. */
    return pages_csrf_valid(cookie) && field != NULL && flen == PAGES_CSRF_LEN &&
           sodium_memcmp(cookie, field, PAGES_CSRF_LEN) == 0;
}

enum tmpl_status pages_render(const struct pages_view *v, struct tmpl_result *res)
{
    struct tmpl_result body;
    enum tmpl_status st = templates_render(v->name, v->lang, v->vars, v->nvars, &body);

    if (st != TMPL_OK) {
        *res = body;
        return st;
    }
    const struct tmpl_var layout[] = {
        {"content", body.out, true},
        {"title", v->title, false},
        {"lang", v->lang, false},
        {"base", v->base, false},
        {"script", v->script ? "1" : NULL, false},
    };
    st = templates_render("pages/layout.html", v->lang, layout, sizeof layout / sizeof layout[0],
                          res);
    /* The body holds the form's CSRF value and the mailed token. */
    sodium_memzero(body.out, body.len);
    free(body.out);
    return st;
}
