/* The service's HTML pages (API.md, "Public address and pages"): the
 * password-reset and address-confirmation pages of a mailed link, and the
 * posts of their forms. core/pages.h renders them; this file adds what
 * every page answers with (its headers, the CSRF cookie) and checks a
 * form's CSRF token before anything else reads the form. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/audit.h"
#include "api/pages.h"
#include "core/i18n.h"
#include "core/pages.h"
#include "core/templates.h"
#include "util/b64.h"
#include "util/log.h"

/* No script at all, styles from the service's own stylesheet only, forms
 * posted to the service only (and, for a page of an authorization request,
 * redirected on to its client: struct api_page), and never in a frame. The
 * pages with a passkey button add PAGES_CSP_SCRIPT: the service's own
 * script files (the passkey script; never inline, never eval), which call
 * the service's own endpoints. */
#define PAGES_CSP                                                                                  \
    "default-src 'none'; %sstyle-src 'self'; img-src 'self'; form-action 'self'%s%s; "             \
    "frame-ancestors 'none'; base-uri 'none'"
#define PAGES_CSP_SCRIPT "script-src 'self'; connect-src 'self'; "

/* The longest mailed token a page takes into its form; a longer one is no
 * link the service sent. */
#define PAGES_TOKEN_MAX 128

/* One answer of a page. */
struct page {
    const char *kind; /* "reset" or "confirm": pages/<kind>.html, title <kind>.title */
    int status;
    const char *error; /* shown above the form, plain text in the page's language; NULL: none */
    bool form;         /* the form is shown (with token in it) */
    bool done;         /* the success message is shown */
    const char *token; /* the mailed token, for the form's hidden field */
};

/* "../" once for each '/' of path after its first: the way from a page's
 * URL back to the service's root, under whatever prefix a proxy serves it. */
void api_page_base(const char *path, char *out, size_t cap)
{
    size_t n = 0;

    out[0] = '\0';
    for (const char *p = path + 1; *p != '\0' && n + 4 <= cap; p++)
        if (*p == '/') {
            memcpy(out + n, "../", 4);
            n += 3;
        }
}

/* The text of message key in lang, with vars filled in; malloc'd, or NULL
 * (a bug of the catalogue, or no memory). */
char *api_page_text(const char *lang, const char *key, const struct tmpl_var *vars, size_t nvars)
{
    size_t len;
    const char *m = i18n_message(lang, key, strlen(key), &len);
    struct tmpl_messages none = {NULL, NULL};
    struct tmpl_result res;

    if (m == NULL || tmpl_render(m, len, TMPL_TEXT, vars, nvars, &none, 0, &res) != TMPL_OK)
        return NULL;
    return res.out;
}

/* The headers of every page: the policy (form_origin, when not NULL or "",
 * added to form-action), framing and referrer rules, the
 * language, and no caching (a page's form carries its CSRF token, and the
 * mailed token; so no Vary either). With the CSRF cookie that makes five of
 * REPLY_MAX_HEADERS. */
static void page_headers(struct reply *r, const char *lang, bool script, const char *form_origin)
{
    char csp[sizeof PAGES_CSP + sizeof PAGES_CSP_SCRIPT + API_ORIGIN_MAX + 2];
    bool to = form_origin != NULL && form_origin[0] != '\0';

    snprintf(csp, sizeof csp, PAGES_CSP, script ? PAGES_CSP_SCRIPT : "", to ? " " : "",
             to ? form_origin : "");
    reply_header(r, "Content-Security-Policy", csp);
    reply_header(r, "X-Frame-Options", "DENY");
    reply_header(r, "Referrer-Policy", "no-referrer");
    reply_header(r, "Content-Language", lang);
    r->no_store = true;
}

/* Sets the CSRF cookie to value: host-only, for the whole service, never
 * read by script, and sent only with the service's own requests. */
static void csrf_cookie(const struct api_request *req, struct reply *r, const char *value)
{
    char v[PAGES_CSRF_LEN + 128];
    bool secure = req->app->cookies.secure;

    snprintf(v, sizeof v, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s",
             secure ? API_CSRF_COOKIE_SECURE : API_CSRF_COOKIE, value, secure ? "; Secure" : "");
    reply_header(r, "Set-Cookie", v);
}

/* The page's CSRF value into csrf: the browser's while it has one (a
 * second tab's form must not void the first's), else a new one, then set
 * as the cookie when set_cookie (a page with a form). */
static void page_csrf(const struct api_request *req, struct reply *r, char csrf[PAGES_CSRF_LEN + 1],
                      bool set_cookie)
{
    if (pages_csrf_valid(req->csrf_cookie)) {
        memcpy(csrf, req->csrf_cookie, PAGES_CSRF_LEN + 1);
    } else {
        pages_csrf_new(csrf);
        if (set_cookie)
            csrf_cookie(req, r, csrf);
    }
}

/* Renders v into r as an HTML page with status and the pages' headers
 * (form_origin: see page_headers); a template that fails to render (a bug,
 * or no memory) is logged and answered 500. */
static void page_render(struct reply *r, const struct pages_view *v, int status,
                        const char *form_origin)
{
    struct tmpl_result res;
    enum tmpl_status st = pages_render(v, &res);

    if (st != TMPL_OK) {
        log_error("page %s (%s): %s at byte %zu", v->name, v->lang, tmpl_status_text(st),
                  res.where);
        reply_free(r);
        errors_problem(r, OUTCOME_ERROR, NULL);
        return;
    }
    r->status = status;
    r->content_type = "text/html; charset=utf-8";
    r->body = res.out;
    r->body_len = res.len;
    page_headers(r, v->lang, v->script, form_origin);
    /* A page's 401 is its form again after a wrong password or code:
     * RFC 9110 §11.6.1 wants a challenge on every 401, and no registered
     * scheme names an HTML form; a browser ignores a scheme it does not
     * know (no dialog), and the status stays what access-log tools such as
     * fail2ban count. */
    if (status == 401)
        reply_header(r, "WWW-Authenticate", "Form");
}

static void page_reply(const struct api_request *req, struct reply *r, const char *lang,
                       const struct page *p)
{
    char name[32], title_key[32], base[32], csrf[PAGES_CSRF_LEN + 1];
    size_t tlen;

    page_csrf(req, r, csrf, p->form);
    snprintf(name, sizeof name, "pages/%s.html", p->kind);
    snprintf(title_key, sizeof title_key, "%s.title", p->kind);
    api_page_base(req->path, base, sizeof base);
    const char *title = i18n_message(lang, title_key, strlen(title_key), &tlen);
    const struct tmpl_var vars[] = {
        {"error", p->error, false},
        {"done", p->done ? "1" : NULL, false},
        {"form", p->form ? "1" : NULL, false},
        {"csrf", csrf, false},
        {"token", p->token != NULL ? p->token : "", false},
    };
    struct pages_view v = {name, lang, title, base, vars, sizeof vars / sizeof vars[0], false};
    page_render(r, &v, p->status, NULL);
    sodium_memzero(csrf, sizeof csrf);
}

void api_page_show(const struct api_request *req, struct reply *r, const struct api_page *p)
{
    char origin[API_ORIGIN_MAX + 1] = "";

    if (p->authz != NULL)
        api_authz_origin(req, p->authz, origin);
    api_page_show_to(req, r, p, origin);
}

void api_page_show_to(const struct api_request *req, struct reply *r, const struct api_page *p,
                      const char *form_origin)
{
    char name[48], title_key[48], base[32], csrf[PAGES_CSRF_LEN + 1];
    struct tmpl_var vars[API_PAGE_MAX_VARS + 3];
    const char *lang = i18n_lang(req->accept_language);
    size_t tlen, n = 0;

    page_csrf(req, r, csrf, true);
    snprintf(name, sizeof name, "pages/%s.html", p->kind);
    snprintf(title_key, sizeof title_key, "%s.title", p->kind);
    api_page_base(req->path, base, sizeof base);
    vars[n++] = (struct tmpl_var){"csrf", csrf, false};
    vars[n++] = (struct tmpl_var){"error", p->error, false};
    vars[n++] = (struct tmpl_var){"base", base, false};
    for (size_t i = 0; i < p->nvars && i < API_PAGE_MAX_VARS; i++)
        vars[n++] = p->vars[i];
    const char *title = i18n_message(lang, title_key, strlen(title_key), &tlen);
    struct pages_view v = {name, lang, title, base, vars, n, p->script};
    page_render(r, &v, p->status, form_origin);
    sodium_memzero(csrf, sizeof csrf);
}

/* A page with one of the catalogue's error messages (key). */
static void page_error(const struct api_request *req, struct reply *r, const char *lang,
                       struct page *p, const char *key)
{
    char *text = api_page_text(lang, key, NULL, 0);

    p->error = text;
    page_reply(req, r, lang, p);
    free(text);
}

/* True when t (len bytes) may be a mailed token: 1 to PAGES_TOKEN_MAX
 * base64url characters. Only its form is looked at: whether it works is
 * found out by the post, never by a GET. */
static bool token_plausible(const char *t, size_t len)
{
    return len > 0 && len <= PAGES_TOKEN_MAX && b64url_alphabet_only(t, len);
}

/* GET of a mailed link: the form with the token in it, or a page saying the
 * link is broken (400). Reads no database: a link scanner that follows the
 * link changes nothing, and learns nothing about the token either. */
static void show_link_page(const struct api_request *req, struct reply *r, const char *kind)
{
    const char *lang = i18n_lang(req->accept_language);
    const char *token = NULL;
    size_t tlen = 0;
    struct page p = {.kind = kind, .status = 200, .form = true};

    if (form_get(&req->query, "token", &token, &tlen) != FORM_FOUND ||
        !token_plausible(token, tlen)) {
        p.status = 400;
        p.form = false;
        page_error(req, r, lang, &p, "page.bad_link");
        return;
    }
    p.token = token;
    page_reply(req, r, lang, &p);
}

void api_page_reset(const struct api_request *req, struct reply *r)
{
    show_link_page(req, r, "reset");
}

void api_page_confirm(const struct api_request *req, struct reply *r)
{
    show_link_page(req, r, "confirm");
}

void api_page_style(const struct api_request *req, struct reply *r)
{
    const struct templates_file *f = templates_find("pages/style.css");

    (void)req;
    if (f == NULL) {
        reply_problem(r, 404, "not found");
        return;
    }
    r->status = 200;
    r->content_type = "text/css; charset=utf-8";
    r->static_body = f->data;
    r->static_len = f->len;
    /* It changes with the binary only; an hour keeps a page's second view
     * from asking again without holding an old one for long. */
    reply_header(r, "Cache-Control", "public, max-age=3600");
}

enum outcome api_page_form(const struct api_request *req, struct reply *r, const char *kind,
                           struct form *f, const char **token, size_t *tlen)
{
    const char *lang = i18n_lang(req->accept_language);
    const char *csrf = NULL;
    size_t clen = 0;
    struct page p = {.kind = kind, .status = 400};

    if (form_parse(req->body, req->body_len, f) != FORM_OK) {
        page_error(req, r, lang, &p, "page.bad_link");
        return OUTCOME_INVALID;
    }
    bool have_token =
        form_get(f, "token", token, tlen) == FORM_FOUND && token_plausible(*token, *tlen);
    /* The CSRF token first: a post without it reaches no core function and
     * no database. The form comes back (its mailed token read only to be
     * put back in it) with a CSRF token that matches the cookie, a new one
     * when the cookie was lost, so that the user can submit again. */
    if (form_get(f, "csrf", &csrf, &clen) != FORM_FOUND ||
        !pages_csrf_check(req->csrf_cookie, csrf, clen)) {
        p.status = 403;
        p.form = have_token;
        p.token = have_token ? *token : NULL;
        page_error(req, r, lang, &p, have_token ? "page.csrf" : "page.bad_link");
        form_free(f);
        return OUTCOME_FORBIDDEN;
    }
    if (!have_token) {
        page_error(req, r, lang, &p, "page.bad_link");
        form_free(f);
        return OUTCOME_INVALID;
    }
    return OUTCOME_OK;
}

/* The text of every broken password rule, in lang: "password.<code>" of the
 * catalogue ("password.invalid" for a code it lacks), joined by spaces. */
static char *rules_text(const struct api_request *req, const char *lang,
                        const struct outcome_errors *errs)
{
    char min[24], key[64], *out = NULL;
    size_t len = 0, n;
    const struct tmpl_var vars[] = {{"min", min, false}};

    snprintf(min, sizeof min, "%ld", req->app->users.policy->min_length);
    for (int i = 0; i < errs->count; i++) {
        snprintf(key, sizeof key, "password.%s", errs->e[i].code);
        char *one = i18n_message(lang, key, strlen(key), &n) != NULL
                        ? api_page_text(lang, key, vars, 1)
                        : api_page_text(lang, "password.invalid", NULL, 0);
        if (one == NULL)
            break;
        n = strlen(one);
        char *grown = realloc(out, len + n + 2);
        if (grown == NULL) {
            free(one);
            break;
        }
        out = grown;
        if (len > 0)
            out[len++] = ' ';
        memcpy(out + len, one, n + 1);
        len += n;
        free(one);
    }
    return out;
}

/* The page that answers a form's outcome o (kind's success, or the form
 * again with what went wrong; a bad token leaves no form to submit). */
static void page_outcome(const struct api_request *req, struct reply *r, const char *kind,
                         const char *token, enum outcome o, const struct outcome_detail *d)
{
    const char *lang = i18n_lang(req->accept_language);
    struct page p = {.kind = kind, .token = token, .form = true};

    switch (o) {
    case OUTCOME_OK:
        p.status = 200;
        p.form = false;
        p.done = true;
        page_reply(req, r, lang, &p);
        return;
    case OUTCOME_INVALID: {
        char *text = rules_text(req, lang, &d->errors);
        p.status = 422;
        p.error = text;
        page_reply(req, r, lang, &p);
        free(text);
        return;
    }
    case OUTCOME_BAD_TOKEN:
        p.status = 400;
        p.form = false;
        page_error(req, r, lang, &p, "page.bad_link");
        return;
    case OUTCOME_THROTTLED:
    case OUTCOME_OVERLOADED:
    case OUTCOME_UNAVAILABLE:
    case OUTCOME_STOPPING:
        p.status = errors_status(o);
        page_error(req, r, lang, &p, "page.busy");
        r->retry_after = d->retry_after > 0 ? d->retry_after : 1;
        return;
    default:
        p.status = errors_status(OUTCOME_ERROR);
        p.form = false;
        page_error(req, r, lang, &p, "page.error");
        return;
    }
}

enum outcome api_page_reset_submit(const struct api_request *req, struct reply *r)
{
    struct form f;
    struct outcome_detail d = {0};
    const char *token, *pw = "", *again = NULL;
    size_t tlen, plen = 0, alen = 0;
    enum outcome o = api_page_form(req, r, "reset", &f, &token, &tlen);

    if (o != OUTCOME_OK)
        return o;
    enum form_lookup lp = form_get(&f, "new_password", &pw, &plen);
    enum form_lookup la = form_get(&f, "new_password_again", &again, &alen);
    if (lp == FORM_REPEATED || la == FORM_REPEATED) {
        outcome_error_add(&d.errors, "new_password", "invalid", "sent more than once");
        o = OUTCOME_INVALID;
    } else if (lp != FORM_FOUND) {
        pw = "";
        plen = 0;
    }
    /* The second field, when the form sends it, must say the same: a typo
     * in a password nobody can see would lock the user out again. */
    if (o == OUTCOME_OK && la == FORM_FOUND &&
        (alen != plen || sodium_memcmp(again, pw, plen) != 0)) {
        const char *lang = i18n_lang(req->accept_language);
        struct page p = {.kind = "reset", .status = 422, .form = true, .token = token};
        page_error(req, r, lang, &p, "reset.mismatch");
        form_free(&f);
        return OUTCOME_INVALID;
    }
    if (o == OUTCOME_OK) {
        audit_hold_mail(req, "password.reset");
        o = emails_reset_password(&req->app->emails, token, tlen, pw, plen, &d);
        audit_mail(req, "password.reset", o);
    }
    page_outcome(req, r, "reset", token, o, &d);
    form_free(&f);
    return o;
}

enum outcome api_page_confirm_submit(const struct api_request *req, struct reply *r)
{
    struct form f;
    struct outcome_detail d = {0};
    const char *token;
    size_t tlen;
    enum outcome o = api_page_form(req, r, "confirm", &f, &token, &tlen);

    if (o != OUTCOME_OK)
        return o;
    audit_hold_mail(req, "email.confirmed");
    o = emails_confirm(&req->app->emails, token, tlen, &d);
    audit_mail(req, "email.confirmed", o);
    page_outcome(req, r, "confirm", token, o, &d);
    form_free(&f);
    return o;
}
