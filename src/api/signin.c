/* The sign-in pages (API.md, "Public address and pages"): the sign-in form,
 * the second-factor step, a small account page (TOTP enrolment, passkeys),
 * sign-out, and the passkey script. The form posts are the JSON endpoints'
 * own code paths behind another door: POST /signin is api_password_login,
 * as POST /login is, so its throttling, its place in the hashing queue and
 * its one answer for an unknown user and a wrong password are theirs.
 *
 * The pages sign a browser in with the session cookies, which are
 * SESSION_COOKIES' to hand out: with it off, every page of sign-in answers
 * 501 saying so, as mail and passkeys do when off (the JSON endpoints
 * would not set the cookies the passkey script relies on either), unless
 * the OpenID Connect provider is on: then the form signs the browser in
 * for it alone (the gatehouse_sso cookie, api/sso.c). */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/audit.h"
#include "api/pages.h"
#include "core/authzreq.h"
#include "core/i18n.h"
#include "core/flows.h"
#include "core/mfa.h"
#include "core/passkeys.h"
#include "core/pages.h"
#include "core/templates.h"
#include "util/fwdreq.h"
#include "util/log.h"
#include "util/timefmt.h"

/* The longest login_hint put into the form: the longest stored username;
 * a longer one names no account and is left out. */
#define SIGNIN_HINT_MAX 255

/* What the sign-in page shows. */
struct signin_view {
    int status;
    const char *error_key; /* a catalogue key, or NULL */
    const char *username;  /* pre-filled, or NULL */
    const char *authz; /* the authorization request it signs in for (api/authorize.c), or NULL */
    const char *rd;    /* the address it returns to (rd_allowed checked it), or NULL */
};

static bool passkeys_on(const struct api_request *req)
{
    return req->app->passkeys.rp_id != NULL;
}

/* The sign-in form works with SESSION_COOKIES, and for the OpenID Connect
 * provider (PUBLIC_URL) without it: a browser it signs in then holds only
 * the gatehouse_sso cookie, which is what /authorize asks for. */
static bool signin_on(const struct api_request *req)
{
    return req->app->cookies.enabled || api_sso_on(req);
}

static void signedout_page(const struct api_request *req, struct reply *r, int status,
                           const char *key)
{
    const char *lang = i18n_lang(req->accept_language);
    char *text = key != NULL ? api_page_text(lang, key, NULL, 0) : NULL;
    const struct tmpl_var vars[] = {{"done", status == 200 ? "1" : NULL, false}};
    struct api_page p = {"signedout", status, text, vars, 1, false, NULL};

    api_page_show(req, r, &p);
    free(text);
}

/* The page saying browser sign-in is off (SESSION_COOKIES=0). */
static void signin_off(const struct api_request *req, struct reply *r)
{
    signedout_page(req, r, 501, "signin.off");
}

/* The address a sign-in returns to (rd: the original URL that /verify?rd=1
 * sent the browser here with), v of len bytes: allowed only when it is an
 * http or https URL, read strictly (util/fwdreq.h: no userinfo, no
 * backslash or escape in the host), whose host is PUBLIC_URL's or one the
 * access rules name (rules_names_host). Anything else is dropped and the
 * sign-in goes where it goes without one: a sign-in page that sends a
 * browser wherever a link said would be an open redirect. The origin of
 * an allowed one into origin (NULL: not wanted) for the page's
 * form-action, which browsers hold a form's redirects to. */
static bool rd_allowed(const struct api_request *req, const char *v, size_t len,
                       char origin[API_ORIGIN_MAX + 1])
{
    struct fwdreq u, pub;
    bool ok;

    if (v == NULL || len == 0 || len > FWDREQ_URL_MAX || strlen(v) != len ||
        fwdreq_parse_url(v, &u) != FWDREQ_OK)
        return false;
    ok = req->app->public_url.url != NULL &&
         fwdreq_parse_url(req->app->public_url.url, &pub) == FWDREQ_OK &&
         strcmp(pub.host, u.host) == 0;
    if (!ok) {
        const rules *rs = rules_ref_get(req->app->rules);
        ok = rules_names_host(rs, u.host, strlen(u.host));
        rules_ref_put(rs);
    }
    if (ok && origin != NULL)
        snprintf(origin, API_ORIGIN_MAX + 1, "%s://%s%s%s", u.scheme, u.host,
                 u.port[0] != '\0' ? ":" : "", u.port);
    return ok;
}

/* The rd parameter of f (a query or a form post): NULL when absent or not
 * allowed; false when sent twice. */
static bool rd_param(const struct api_request *req, const struct form *f, const char **rd)
{
    const char *v;
    size_t len;
    enum form_lookup l = form_get(f, "rd", &v, &len);

    *rd = l == FORM_FOUND && rd_allowed(req, v, len, NULL) ? v : NULL;
    return l != FORM_REPEATED;
}

/* Shows p, whose form returns to rd (or NULL) once signed in: its origin
 * joins form-action, as an authorization request's client does. */
static void show_page(const struct api_request *req, struct reply *r, const struct api_page *p,
                      const char *rd)
{
    char origin[API_ORIGIN_MAX + 1] = "";

    if (p->authz == NULL && rd != NULL && rd_allowed(req, rd, strlen(rd), origin))
        api_page_show_to(req, r, p, origin);
    else
        api_page_show(req, r, p);
}

static void signin_page(const struct api_request *req, struct reply *r, const struct signin_view *v)
{
    const char *lang = i18n_lang(req->accept_language);
    char *text = v->error_key != NULL ? api_page_text(lang, v->error_key, NULL, 0) : NULL;
    const struct tmpl_var vars[] = {
        {"username", v->username != NULL ? v->username : "", false},
        {"passkeys", passkeys_on(req) ? "1" : NULL, false},
        {"authz", v->authz, false},
        /* An authorization request's sign-in goes back to it alone. */
        {"rd", v->authz == NULL ? v->rd : NULL, false},
    };
    struct api_page p = {"signin", v->status, text, vars, 4, passkeys_on(req), v->authz};

    show_page(req, r, &p, v->authz == NULL ? v->rd : NULL);
    free(text);
}

/* The page of an outcome that leaves the form as it was: the service busy
 * (429/503 with Retry-After) or broken. */
static void signin_busy(const struct api_request *req, struct reply *r, enum outcome o,
                        const struct outcome_detail *d, const char *username)
{
    bool busy = o == OUTCOME_THROTTLED || o == OUTCOME_OVERLOADED || o == OUTCOME_UNAVAILABLE ||
                o == OUTCOME_STOPPING;
    struct signin_view v = {errors_status(busy ? o : OUTCOME_ERROR),
                            busy ? "page.busy" : "page.error", username, NULL, NULL};

    signin_page(req, r, &v);
    if (busy)
        r->retry_after = d->retry_after > 0 ? d->retry_after : 1;
}

void api_page_signin(const struct api_request *req, struct reply *r)
{
    const char *hint = NULL, *authz = NULL;
    size_t hlen = 0, alen = 0;
    struct signin_view v = {200, NULL, NULL, NULL, NULL};

    if (!signin_on(req)) {
        signin_off(req, r);
        return;
    }
    /* OpenID Connect Core §3.1.2.1: a hint, which the form only shows. */
    if (form_get(&req->query, "login_hint", &hint, &hlen) == FORM_FOUND && hlen <= SIGNIN_HINT_MAX)
        v.username = hint;
    /* The authorization request the sign-in is for: carried in the form,
     * looked up only after a right password (api/authorize.c). */
    if (form_get(&req->query, "authz", &authz, &alen) == FORM_FOUND && api_authz_len(authz, alen))
        v.authz = authz;
    /* Where a forward-authenticated page sent the browser from
     * (/verify?rd=1): carried in the form, followed once signed in. */
    (void)rd_param(req, &req->query, &v.rd);
    signin_page(req, r, &v);
}

/* A 303 to page (a path from the service's root), from wherever under
 * base the request was. */
static void see_other(const struct api_request *req, struct reply *r, const char *page)
{
    char base[32], where[64];

    api_page_base(req->path, base, sizeof base);
    snprintf(where, sizeof where, "%s%s", base, page);
    r->status = 303;
    reply_header(r, "Location", where);
}

/* A 303 to the account page. */
static void to_account(const struct api_request *req, struct reply *r)
{
    see_other(req, r, "account");
    r->no_store = true;
}

/* A 303 to GET /authorize/resume of the authorization request authz
 * (api_authz_len checked it). */
static void to_resume(const struct api_request *req, struct reply *r, const char *authz)
{
    char base[32], where[32 + 32 + AUTHZREQ_ID_LEN];

    api_page_base(req->path, base, sizeof base);
    snprintf(where, sizeof where, "%sauthorize/resume?authz=%s", base, authz);
    r->status = 303;
    reply_header(r, "Location", where);
    r->no_store = true;
}

/* The session of a sign-in into cookies, the single sign-on cookie bound
 * to it, and on to the authorization request it was for (authz), else to
 * the address it returns to (rd, rd_allowed checked it), else to the
 * account page. */
static void signed_in(const struct api_request *req, struct reply *r, struct session_tokens *t,
                      const char *authz, const char *rd)
{
    if (authz != NULL) {
        to_resume(req, r, authz);
    } else if (rd != NULL) {
        r->status = 303;
        reply_header(r, "Location", rd);
        r->no_store = true;
    } else {
        to_account(req, r);
    }
    api_session_cookies(req, r, t->access_token, t->refresh_token);
    api_sso_begin(req, r, t->access_token);
    sessions_tokens_free(t);
}

static void signin_again(const struct api_request *req, struct reply *r, int status,
                         const char *key)
{
    struct signin_view v = {status, key, NULL, NULL, NULL};

    signin_page(req, r, &v);
}

/* Parses a page's form post and checks its CSRF token first. false: r
 * holds the answer (the 501 page while session cookies are off, 400 for a
 * body that is no form, 403 for a missing or wrong token: nothing else was
 * read) and f needs nothing more. */
static bool page_form(const struct api_request *req, struct reply *r, struct form *f,
                      void (*again)(const struct api_request *, struct reply *, int, const char *))
{
    const char *csrf = NULL;
    size_t clen = 0;

    if (!signin_on(req)) {
        signin_off(req, r);
        return false;
    }
    /* The HTTP layer leaves a form route's content type to it (api.h). */
    if (!api_form_body(req)) {
        reply_problem(r, 415, "Content-Type must be application/x-www-form-urlencoded");
        return false;
    }
    if (form_parse(req->body, req->body_len, f) != FORM_OK) {
        again(req, r, 400, "page.bad_form");
        return false;
    }
    if (form_get(f, "csrf", &csrf, &clen) != FORM_FOUND ||
        !pages_csrf_check(req->csrf_cookie, csrf, clen)) {
        const char *authz = NULL, *rd = NULL;
        size_t alen = 0;
        /* The sign-in form again keeps the authorization request it was
         * for (its id read only to be put back), or a lost CSRF cookie
         * would also lose the client's sign-in; so too the address it
         * returns to. */
        bool has_authz =
            form_get(f, "authz", &authz, &alen) == FORM_FOUND && api_authz_len(authz, alen) != 0;
        if (again == signin_again && (has_authz || (rd_param(req, f, &rd) && rd != NULL))) {
            struct signin_view v = {403, "page.csrf", NULL, has_authz ? authz : NULL, rd};
            signin_page(req, r, &v);
        } else {
            again(req, r, 403, "page.csrf");
        }
        form_free(f);
        return false;
    }
    return true;
}

/* A field of a form post, "" when absent; false when sent twice. */
static bool field(const struct form *f, const char *name, const char **v, size_t *len)
{
    enum form_lookup l = form_get(f, name, v, len);

    if (l == FORM_FOUND)
        return true;
    *v = "";
    *len = 0;
    return l == FORM_ABSENT;
}

/* The form's authz field: NULL when absent, false when sent twice or not
 * of the form of a request's id. */
static bool authz_field(const struct form *f, const char **authz)
{
    const char *v;
    size_t len;

    *authz = NULL;
    if (!field(f, "authz", &v, &len))
        return false;
    if (len == 0)
        return true;
    *authz = v;
    return api_authz_len(v, len) != 0;
}

/* The second-factor page of step m: a form for a TOTP code, one for a
 * recovery code, and the passkey button with the request options of the
 * step's challenge in a data- attribute (HTML-escaped JSON: the page has
 * no inline script), each only when the account has that method. */
static void mfa_page(const struct api_request *req, struct reply *r, int status,
                     const char *error_key, const struct api_mfa_step *m, const char *authz,
                     const char *rd)
{
    const char *lang = i18n_lang(req->accept_language);
    char *error = error_key != NULL ? api_page_text(lang, error_key, NULL, 0) : NULL;
    char *options = m->webauthn != NULL ? json_dumps(m->webauthn, JSON_COMPACT) : NULL;
    bool webauthn = options != NULL && (m->methods & MFA_WEBAUTHN) != 0;
    const struct tmpl_var vars[] = {
        {"mfa_token", m->token, false},
        {"totp", m->methods & MFA_TOTP ? "1" : NULL, false},
        {"recovery", m->methods & MFA_RECOVERY ? "1" : NULL, false},
        {"webauthn", webauthn ? options : NULL, false},
        {"authz", authz, false},
        {"rd", authz == NULL ? rd : NULL, false},
    };
    struct api_page p = {"mfa", status, error, vars, 6, webauthn, authz};

    show_page(req, r, &p, authz == NULL ? rd : NULL);
    free(options);
    free(error);
}

/* The step of the live mfa_token tok again (after a wrong answer): its
 * user's methods now, and its challenge's options. false when the token
 * is no longer live (used, spent or expired), or on another failure (o). */
static enum outcome mfa_step_again(const struct api_request *req, const char *tok, size_t tlen,
                                   struct api_mfa_step *m)
{
    const struct api_ctx *app = req->app;
    struct flows_flow f;
    enum outcome o = flows_get(app->users.store, FLOWS_MFA, tok, tlen, timefmt_now(), &f);

    memset(m, 0, sizeof *m);
    if (o == OUTCOME_OK)
        o = mfa_methods(&app->mfa, f.user_id, &m->methods);
    if (o != OUTCOME_OK)
        return o;
    memcpy(m->token, tok, tlen); /* flows_get took it: at most FLOWS_TOKEN_LEN */
    m->token[tlen] = '\0';
    if ((m->methods & MFA_WEBAUTHN) != 0 && f.has_challenge && passkeys_on(req))
        m->webauthn = passkeys_mfa_options(&app->passkeys, f.user_id, f.challenge);
    if (m->webauthn == NULL)
        m->methods &= ~(unsigned)MFA_WEBAUTHN;
    return OUTCOME_OK;
}

void api_page_signin_submit(const struct api_request *req, struct reply *r)
{
    struct form f;
    const char *u, *p, *authz, *rd;
    size_t ulen, plen;
    struct session_tokens t;
    struct api_mfa_step mfa;
    struct outcome_detail d = {0};

    if (!page_form(req, r, &f, signin_again))
        return;
    if (!field(&f, "username", &u, &ulen) || !field(&f, "password", &p, &plen) ||
        !authz_field(&f, &authz) || !rd_param(req, &f, &rd)) {
        signin_again(req, r, 400, "page.bad_form");
        form_free(&f);
        return;
    }
    /* The form's CSRF token, checked above, is what the Origin check of a
     * cookie-setting sign-in stands in for elsewhere: a browser posting
     * this no-referrer page's form sends "Origin: null" (API.md). */
    struct api_request same = *req;
    same.origin = NULL;
    enum outcome o = api_password_login(&same, NULL, u, ulen, p, plen, &t, &mfa, &d);
    switch (o) {
    case OUTCOME_OK: signed_in(req, r, &t, authz, rd); break;
    case OUTCOME_MFA_REQUIRED:
        mfa_page(req, r, 200, NULL, &mfa, authz, rd);
        api_mfa_step_free(&mfa);
        break;
    case OUTCOME_BAD_CREDENTIALS:
    case OUTCOME_INVALID: {
        /* One message for an unknown user and a wrong password. */
        struct signin_view v = {401, "signin.failed", u, authz, rd};
        signin_page(req, r, &v);
        break;
    }
    default: signin_busy(req, r, o, &d, u); break;
    }
    form_free(&f);
}

/* POST /signin/mfa: the second-factor page's forms, either with a TOTP
 * code or with a recovery code (the passkey button posts its JSON to POST
 * /login/mfa itself). */
void api_page_mfa_submit(const struct api_request *req, struct reply *r)
{
    struct form f;
    const char *tok, *code, *recovery, *authz, *rd;
    size_t tlen, clen, rlen;
    struct session_tokens t;
    struct api_mfa_step m;
    struct outcome_detail d = {0};

    if (!page_form(req, r, &f, signin_again))
        return;
    /* Exactly one answer; an empty field counts as none (form_get). */
    if (!field(&f, "mfa_token", &tok, &tlen) || tlen == 0 || tlen > FLOWS_TOKEN_LEN ||
        !field(&f, "code", &code, &clen) || !field(&f, "recovery_code", &recovery, &rlen) ||
        (clen > 0) == (rlen > 0) || !authz_field(&f, &authz) || !rd_param(req, &f, &rd)) {
        form_free(&f);
        signin_again(req, r, 400, "page.bad_form");
        return;
    }
    /* Past their limits, codes are wrong without a look, and, as POST
     * /login/mfa's 422, without counting (core/mfa.h). */
    enum outcome o = OUTCOME_INVALID;
    if (clen <= MFA_CODE_MAX && rlen <= MFA_RECOVERY_CODE_MAX) {
        /* The CSRF token stands in for Origin, as on /signin. */
        struct api_request same = *req;
        same.origin = NULL;
        o = api_mfa_login(&same, tok, tlen, clen > 0 ? code : NULL, clen,
                          rlen > 0 ? recovery : NULL, rlen, NULL, &t, &d);
    }
    switch (o) {
    case OUTCOME_OK:
        signed_in(req, r, &t, authz, rd);
        form_free(&f);
        return;
    case OUTCOME_BAD_CODE:
    case OUTCOME_INVALID: break;
    default:
        form_free(&f);
        signin_busy(req, r, o, &d, NULL);
        return;
    }
    /* Wrong: the step again while its token (in f) lives, else sign in
     * again. */
    int status = o == OUTCOME_INVALID ? 422 : 401;
    o = mfa_step_again(req, tok, tlen, &m);
    if (o == OUTCOME_OK) {
        mfa_page(req, r, status, "mfa.failed", &m, authz, rd);
        api_mfa_step_free(&m);
    } else if (o == OUTCOME_BAD_CODE) {
        struct signin_view v = {401, "mfa.expired", NULL, authz, rd};
        signin_page(req, r, &v);
    } else {
        signin_busy(req, r, o, &d, NULL);
    }
    form_free(&f);
}

/* ------------------------------------------------------------- account */

/* The passkeys of user_id as the items of a list (pages/item.html, each
 * name escaped) into *out, malloc'd; NULL when it has none. */
static enum outcome passkey_items(const struct api_request *req, const char *lang, int64_t user_id,
                                  char **out)
{
    char *json = NULL, *list = NULL;
    size_t len = 0, i;
    json_t *a, *k;
    enum outcome o = passkeys_list(&req->app->passkeys, user_id, &json);

    *out = NULL;
    if (o != OUTCOME_OK)
        return o;
    a = json_loads(json, 0, NULL);
    free(json);
    if (!json_is_array(a)) {
        json_decref(a);
        return OUTCOME_ERROR;
    }
    json_array_foreach(a, i, k)
    {
        const struct tmpl_var item[] = {
            {"text", json_string_value(json_object_get(k, "name")), false}};
        struct tmpl_result res;
        char *grown = NULL;
        if (templates_render("pages/item.html", lang, item, 1, &res) == TMPL_OK)
            grown = realloc(list, len + res.len + 1);
        if (grown == NULL) {
            free(res.out);
            o = OUTCOME_ERROR;
            break;
        }
        list = grown;
        memcpy(list + len, res.out, res.len + 1);
        len += res.len;
        free(res.out);
    }
    json_decref(a);
    if (o != OUTCOME_OK)
        free(list);
    else
        *out = list;
    return o;
}

/* The account page of u: status, and the error of a form of it (a
 * catalogue key; NULL: none). */
static void account_page(const struct api_request *req, struct reply *r, const struct user *u,
                         int status, const char *error_key)
{
    const char *lang = i18n_lang(req->accept_language);
    unsigned methods = 0;
    enum outcome o = mfa_methods(&req->app->mfa, u->id, &methods);

    if (o != OUTCOME_OK) {
        struct outcome_detail d = {0};
        signin_busy(req, r, o, &d, NULL);
        return;
    }
    char *list = NULL;
    if (passkeys_on(req) && (o = passkey_items(req, lang, u->id, &list)) != OUTCOME_OK) {
        struct outcome_detail d = {0};
        signin_busy(req, r, o, &d, NULL);
        return;
    }
    char *error = error_key != NULL ? api_page_text(lang, error_key, NULL, 0) : NULL;
    const struct tmpl_var vars[] = {
        {"username", u->username, false},
        {"passkeys", passkeys_on(req) ? "1" : NULL, false},
        {"passkey_list", list, true},
        {"totp_on", methods & MFA_TOTP ? "1" : NULL, false},
    };
    struct api_page p = {"account", status, error, vars, 4, passkeys_on(req), NULL};

    api_page_show(req, r, &p);
    free(error);
    free(list);
}

/* A 303 to the sign-in page. */
static void to_signin(const struct api_request *req, struct reply *r)
{
    see_other(req, r, "signin");
}

/* The user of the page's cookie; false when there is none (r then holds
 * the redirect to the sign-in page, or the error page). */
static bool page_user(const struct api_request *req, struct reply *r, struct user *u)
{
    if (!req->token.present) {
        to_signin(req, r);
        return false;
    }
    enum outcome o = users_by_token(&req->app->users, &req->token.claims, u);
    if (o == OUTCOME_TOKEN_INVALID) {
        to_signin(req, r);
        return false;
    }
    if (o != OUTCOME_OK) {
        struct outcome_detail d = {0};
        signin_busy(req, r, o, &d, NULL);
        return false;
    }
    return true;
}

void api_page_account(const struct api_request *req, struct reply *r)
{
    struct user u = {0};

    if (!req->app->cookies.enabled) {
        signin_off(req, r);
        return;
    }
    if (page_user(req, r, &u))
        account_page(req, r, &u, 200, NULL);
}

/* The form post of a page that needs a signed-in browser: the CSRF check,
 * then its user. false: r holds the answer (f needs nothing more). */
static bool account_form(const struct api_request *req, struct reply *r, struct form *f,
                         struct user *u)
{
    if (!page_form(req, r, f, signedout_page))
        return false;
    if (!page_user(req, r, u)) {
        form_free(f);
        return false;
    }
    return true;
}

/* The TOTP page: the QR code and the secret of setup (NULL: not shown), the
 * confirm form, and an error (a catalogue key, NULL: none). */
static void totp_page(const struct api_request *req, struct reply *r, int status,
                      const struct mfa_setup *setup, const char *error_key)
{
    const char *lang = i18n_lang(req->accept_language);
    char *error = error_key != NULL ? api_page_text(lang, error_key, NULL, 0) : NULL;
    /* The SVG is libqrencode's modules drawn by util/qrsvg: markup of the
     * service's own, holding nothing a client chose. */
    const struct tmpl_var vars[] = {
        {"qr_svg", setup != NULL ? setup->qr_svg : NULL, true},
        {"secret", setup != NULL ? setup->secret : NULL, false},
        {"confirm", "1", false},
    };
    struct api_page p = {"totp", status, error, vars, 3, false, NULL};

    api_page_show(req, r, &p);
    free(error);
}

void api_page_totp_begin(const struct api_request *req, struct reply *r)
{
    struct form f;
    struct user u = {0}, checked = {0};
    struct outcome_detail d = {0};
    struct mfa_setup setup = {0};
    const char *pw;
    size_t plen;

    if (!account_form(req, r, &f, &u))
        return;
    enum outcome o = OUTCOME_INVALID;
    if (field(&f, "password", &pw, &plen))
        o = api_totp_begin_check(req, pw, plen, &checked, &d);
    form_free(&f);
    if (o == OUTCOME_OK)
        o = mfa_totp_begin(&req->app->mfa, &checked, timefmt_now(), &setup);
    audit_user(req, "mfa.totp_enrolment_started", o, NULL);
    switch (o) {
    case OUTCOME_OK:
        totp_page(req, r, 200, &setup, NULL);
        mfa_setup_free(&setup);
        break;
    case OUTCOME_BAD_CREDENTIALS: account_page(req, r, &u, 401, "totp.password_wrong"); break;
    case OUTCOME_INVALID: account_page(req, r, &u, 400, "page.bad_form"); break;
    case OUTCOME_CONFLICT: account_page(req, r, &u, 409, "totp.already"); break;
    case OUTCOME_TOKEN_INVALID: to_signin(req, r); break;
    default: signin_busy(req, r, o, &d, NULL); break;
    }
}

/* The recovery codes, shown once: each an item of the list, escaped. */
static void recovery_page(const struct api_request *req, struct reply *r,
                          char codes[MFA_RECOVERY_CODES][MFA_RECOVERY_CODE_MAX + 1])
{
    const char *lang = i18n_lang(req->accept_language);
    char list[MFA_RECOVERY_CODES * (MFA_RECOVERY_CODE_MAX + 16)];
    size_t n = 0;

    list[0] = '\0';
    for (int i = 0; i < MFA_RECOVERY_CODES; i++) {
        const struct tmpl_var item[] = {{"text", codes[i], false}};
        struct tmpl_result res;
        if (templates_render("pages/item.html", lang, item, 1, &res) != TMPL_OK ||
            n + res.len >= sizeof list) {
            free(res.out);
            sodium_memzero(list, sizeof list);
            reply_free(r);
            errors_problem(r, OUTCOME_ERROR, NULL);
            return;
        }
        memcpy(list + n, res.out, res.len + 1);
        n += res.len;
        sodium_memzero(res.out, res.len);
        free(res.out);
    }
    const struct tmpl_var vars[] = {{"codes", list, true}};
    struct api_page p = {"recovery", 200, NULL, vars, 1, false, NULL};
    api_page_show(req, r, &p);
    sodium_memzero(list, sizeof list);
}

void api_page_totp_confirm(const struct api_request *req, struct reply *r)
{
    struct form f;
    struct user u = {0};
    const char *code;
    size_t clen;
    char codes[MFA_RECOVERY_CODES][MFA_RECOVERY_CODE_MAX + 1];

    if (!account_form(req, r, &f, &u))
        return;
    enum outcome o = OUTCOME_INVALID;
    struct outcome_detail d = {0};
    /* A code past MFA_CODE_MAX is wrong without a look (core/mfa.h). */
    if (field(&f, "code", &code, &clen) && clen > 0 && clen <= MFA_CODE_MAX)
        o = api_totp_confirm(req, code, clen, codes, &d);
    form_free(&f);
    audit_user(req, "mfa.totp_enabled", o, NULL);
    switch (o) {
    case OUTCOME_OK:
        recovery_page(req, r, codes);
        sodium_memzero(codes, sizeof codes);
        break;
    case OUTCOME_INVALID:
    case OUTCOME_BAD_CODE: totp_page(req, r, 422, NULL, "totp.wrong"); break;
    case OUTCOME_NOT_FOUND: account_page(req, r, &u, 409, "totp.none"); break;
    default: signin_busy(req, r, o, &d, NULL); break;
    }
}

/* ------------------------------------------------------------ sign-out */

void api_page_signout(const struct api_request *req, struct reply *r)
{
    struct form f;
    enum outcome o = OUTCOME_OK;

    if (!page_form(req, r, &f, signedout_page))
        return;
    form_free(&f);
    /* A browser whose cookie has gone stale is signed out already. */
    if (req->token.present) {
        o = sessions_logout(&req->app->sessions, &req->token.claims, SESSIONS_LOCAL);
        audit_user(req, "logout", o, "local");
    }
    /* The single sign-on ends with it, and what clients got from it. */
    if (o == OUTCOME_OK)
        o = api_sso_end(req, r, req->token.present ? req->token.claims.sid : NULL);
    if (o != OUTCOME_OK) {
        reply_free(r);
        signedout_page(req, r, errors_status(o), "page.busy");
        if (r->status == 503)
            r->retry_after = 1; /* a 503 says when to come back, as every 503 does */
        return;
    }
    signedout_page(req, r, 200, NULL);
    api_session_cookies(req, r, NULL, NULL);
}

/* -------------------------------------------------------------- script */

static char script_etag[48];
static pthread_once_t script_once = PTHREAD_ONCE_INIT;

/* The script's ETag: a hash of its bytes, which change with the binary. */
static void script_etag_init(void)
{
    const struct templates_file *f = templates_find("pages/passkeys.js");
    unsigned char h[16];
    char hex[33];

    if (f == NULL)
        return;
    crypto_generichash(h, sizeof h, (const unsigned char *)f->data, f->len, NULL, 0);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(script_etag, sizeof script_etag, "\"%s\"", hex);
}

void api_page_script(const struct api_request *req, struct reply *r)
{
    const struct templates_file *f = templates_find("pages/passkeys.js");

    pthread_once(&script_once, script_etag_init);
    if (f == NULL) {
        reply_problem(r, 404, "not found");
        return;
    }
    /* As the stylesheet: an hour, then revalidated by its ETag. */
    reply_header(r, "Cache-Control", "public, max-age=3600");
    reply_header(r, "ETag", script_etag);
    if (req->if_none_match != NULL && api_etag_listed(req->if_none_match, script_etag)) {
        r->status = 304;
        return;
    }
    r->status = 200;
    r->content_type = "text/javascript; charset=utf-8";
    r->static_body = f->data;
    r->static_len = f->len;
}
