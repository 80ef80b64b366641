#ifndef GH_CORE_PAGES_H
#define GH_CORE_PAGES_H

#include <stdbool.h>
#include <stddef.h>

#include "util/tmpl.h"

/* The service's HTML pages (API.md, "Public address and pages"): a page's
 * own template (templates/pages/<name>.html) rendered in a language and
 * put into the shared layout (templates/pages/layout.html), and the CSRF
 * tokens of their forms. The HTTP side (headers, cookies, routes) is
 * api/pages.c. */

/* CSRF: double submit. The browser holds a random value in a cookie of the
 * service's own (HttpOnly, SameSite=Strict, host-only); each form carries the
 * same value in a hidden field, and a post counts only when the two match. A
 * cross-site page can make a browser send the cookie, but can neither read
 * nor set it, so it cannot fill the field. 256 random bits, base64url. */
#define PAGES_CSRF_LEN 43

/* A new CSRF value into out (PAGES_CSRF_LEN + 1 bytes, NUL-terminated). */
void pages_csrf_new(char *out);

/* True when cookie (NULL: none) has the form of a CSRF value: exactly
 * PAGES_CSRF_LEN base64url characters. */
bool pages_csrf_valid(const char *cookie);

/* True when a post's field (flen bytes) matches its cookie: the cookie is
 * valid and the two are equal, compared in constant time. */
bool pages_csrf_check(const char *cookie, const char *field, size_t flen);

/* What a page shows. */
struct pages_view {
    const char *name;  /* the page's template, e.g. "pages/reset.html" */
    const char *lang;  /* "en" or "ru" */
    const char *title; /* the <title>, plain text */
    /* The relative path from the page's URL to the service's root ("../"
     * for /password/reset), which its stylesheet's path starts with: no
     * link of a page is built from the request's Host. */
    const char *base;
    const struct tmpl_var *vars; /* the page template's variables */
    size_t nvars;
    /* The page loads the passkey script (templates/pages/passkeys.js), the
     * one script the pages have; its policy then allows script-src 'self'. */
    bool script;
};

/* Renders v's template, then the layout around it ({{content}}, {{title}},
 * {{lang}}, {{base}}, {{script}}). The caller frees res->out. A status other than
 * TMPL_OK is a bug of a template (or no memory). */
enum tmpl_status pages_render(const struct pages_view *v, struct tmpl_result *res);

#endif
