#ifndef GH_API_PAGES_H
#define GH_API_PAGES_H

#include "api/api.h"
#include "util/form.h"
#include "util/tmpl.h"

/* The handlers of the service's pages (api/pages.c) and what the form posts
 * of its pages share. Every page answers with a strict
 * Content-Security-Policy (no script but the passkey script file on the
 * pages with a passkey button, the service's own stylesheet only,
 * frame-ancestors 'none'), X-Frame-Options: DENY, Referrer-Policy:
 * no-referrer, Cache-Control: no-store and its Content-Language; a page
 * with a form sets the CSRF cookie (API_CSRF_COOKIE) when the browser has
 * none. */

/* GET /password/reset?token=T and GET /email/confirm?token=T: the form of a
 * mailed link, in the language of Accept-Language. The token is put into
 * the form as it is, never looked up: 200 when it has the form of one, a
 * 400 page without a form otherwise. */
void api_page_reset(const struct api_request *req, struct reply *r);
void api_page_confirm(const struct api_request *req, struct reply *r);

/* GET /pages/style.css: the pages' stylesheet. */
void api_page_style(const struct api_request *req, struct reply *r);

/* The start of a page's form post (kind "reset" or "confirm"): parses the
 * body into f and checks its CSRF token against the cookie, then its token
 * field. OUTCOME_OK: f holds the form (form_free it), *token the mailed
 * token. Otherwise r holds the answer page (403 for a missing or wrong
 * CSRF token, with the form again; 400 for a body or token that cannot be
 * read) and f needs nothing more. */
enum outcome api_page_form(const struct api_request *req, struct reply *r, const char *kind,
                           struct form *f, const char **token, size_t *tlen);

/* The form posts of the two pages, which POST /password/reset and POST
 * /email/confirm hand a form body to (their JSON stays theirs): the CSRF
 * check (api_page_form), then emails_reset_password or emails_confirm, and
 * the page of the result: 200 with the success, 422 with the form again and
 * the broken rules (or the two passwords differing: new_password_again,
 * when sent, must equal new_password; then nothing is called), 400 for a
 * bad, used or expired token, 429/503 with the form again. Returns the
 * outcome (OUTCOME_FORBIDDEN for a CSRF refusal). */
enum outcome api_page_reset_submit(const struct api_request *req, struct reply *r);
enum outcome api_page_confirm_submit(const struct api_request *req, struct reply *r);

/* "../" once for each '/' of path after its first, into out (cap bytes):
 * the way from a page's URL back to the service's root, under whatever
 * prefix a proxy serves it; the start of its links and redirects. */
void api_page_base(const char *path, char *out, size_t cap);

/* The text of catalogue message key in lang, vars filled in; malloc'd, or
 * NULL (a bug of the catalogue, or no memory). */
char *api_page_text(const char *lang, const char *key, const struct tmpl_var *vars, size_t nvars);

/* One page of the sign-in pages (api/signin.c), rendered in the language of
 * Accept-Language with the headers of every page. Its template gets p's
 * variables and three more: csrf (the browser's CSRF value, the cookie set
 * when it has none), error and base (api_page_base). */
#define API_PAGE_MAX_VARS 16
struct api_page {
    const char *kind; /* templates/pages/<kind>.html; its title is "<kind>.title" */
    int status;
    const char *error; /* shown above the form, plain text; NULL: none */
    const struct tmpl_var *vars;
    size_t nvars; /* at most API_PAGE_MAX_VARS */
    /* The page loads the passkey script: its policy allows script-src and
     * connect-src 'self', and nothing else more. */
    bool script;
    /* The authorization request the page's form continues (api/authorize.c),
     * or NULL: the origin of its redirect URI joins form-action, because
     * browsers hold every redirect a form's post leads through to
     * form-action (CSP Level 3, "form-action"), and this post ends at the client. */
    const char *authz;
};
void api_page_show(const struct api_request *req, struct reply *r, const struct api_page *p);
/* The same, the page's form posted to the service and redirected on to
 * form_origin (a CSP source expression, "" for none), which joins
 * form-action. */
void api_page_show_to(const struct api_request *req, struct reply *r, const struct api_page *p,
                      const char *form_origin);

/* The sign-in pages (api/signin.c): GET and POST /signin, POST
 * /signin/mfa, GET /account, POST /account/totp, POST
 * /account/totp/confirm, POST /signout, and GET /pages/passkeys.js. */
void api_page_signin(const struct api_request *req, struct reply *r);
void api_page_signin_submit(const struct api_request *req, struct reply *r);
void api_page_account(const struct api_request *req, struct reply *r);
void api_page_mfa_submit(const struct api_request *req, struct reply *r);
void api_page_signout(const struct api_request *req, struct reply *r);
void api_page_totp_begin(const struct api_request *req, struct reply *r);
void api_page_totp_confirm(const struct api_request *req, struct reply *r);
void api_page_script(const struct api_request *req, struct reply *r);

#endif
