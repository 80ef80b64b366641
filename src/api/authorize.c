/* The OpenID Connect authorization endpoint (API.md, "Single sign-on"):
 * GET|POST /authorize, and the pages a browser passes on the way, the
 * sign-in (api/signin.c carries the request's id through it), GET
 * /authorize/resume after it, the consent page and its POST
 * /authorize/consent; and RP-initiated logout, GET /oidc/logout and the
 * POST of the page where it asks.
 *
 * A request is checked in the order RFC 6749 §4.1.2.1 wants: until the
 * client and its redirect URI are known to belong together, an error is a
 * page for the user (never a redirect: an open redirector otherwise);
 * after, it goes back to the client with error, state and iss (RFC 9207).
 * A request that must wait for the user is kept in the database
 * (core/authzreq.h), so that any instance takes it up again. */
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_internal.h"
#include "api/pages.h"
#include "core/authzreq.h"
#include "core/i18n.h"
#include "core/pages.h"
#include "core/throttle.h"
#include "util/b64.h"
#include "util/log.h"
#include "util/timefmt.h"

/* A Location being built: a URI, then parameters appended to its query;
 * grown as needed (a redirect URI, state percent-encoded, a code and the
 * issuer), failed once out of memory. */
struct location {
    char *buf;
    size_t len, cap;
    bool failed;
};

static void loc_add(struct location *l, const char *s, size_t n)
{
    if (l->failed)
        return;
    if (l->len + n + 1 > l->cap) {
        size_t cap = (l->len + n + 1) * 2;
        char *grown = realloc(l->buf, cap);
        if (grown == NULL) {
            l->failed = true;
            return;
        }
        l->buf = grown;
        l->cap = cap;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
    l->buf[l->len] = '\0';
}

/* Appends "name=value" to a URI's query, value percent-encoded but for
 * RFC 3986's unreserved characters. */
static void loc_param(struct location *l, const char *name, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";

    loc_add(l, l->buf != NULL && memchr(l->buf, '?', l->len) != NULL ? "&" : "?", 1);
    loc_add(l, name, strlen(name));
    loc_add(l, "=", 1);
    for (const unsigned char *p = (const unsigned char *)value; *p != '\0'; p++) {
        char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~')
            loc_add(l, (const char *)p, 1);
        else
            loc_add(l, e, 3);
    }
}

/* A redirect to l (302, or 303 after a form post), which it frees. */
static void loc_reply(const struct api_request *req, struct reply *r, struct location *l)
{
    if (l->failed || l->buf == NULL) {
        errors_problem(r, OUTCOME_ERROR, NULL);
    } else {
        r->status = strcmp(req->method, "POST") == 0 ? 303 : 302;
        reply_header(r, "Location", l->buf);
        /* A code or the request's id rides in it. */
        r->no_store = true;
        reply_header(r, "Referrer-Policy", "no-referrer");
    }
    if (l->buf != NULL)
        sodium_memzero(l->buf, l->len);
    free(l->buf);
}

/* ------------------------------------------------------------ answers */

/* The error page: the request cannot go back to any client (unknown
 * client or redirect URI, a request id that no longer works), key says
 * why. Never a redirect. */
static void error_page(const struct api_request *req, struct reply *r, int status, const char *key)
{
    const char *lang = i18n_lang(req->accept_language);
    char *text = api_page_text(lang, key, NULL, 0);
    struct api_page p = {"authorize", status, text, NULL, 0, false, NULL};

    api_page_show(req, r, &p);
    free(text);
}

/* The page of an outcome that stops the request for now: busy (429/503
 * with Retry-After) or broken. */
static void busy_page(const struct api_request *req, struct reply *r, enum outcome o)
{
    bool busy = o == OUTCOME_THROTTLED || o == OUTCOME_OVERLOADED || o == OUTCOME_UNAVAILABLE ||
                o == OUTCOME_STOPPING;

    error_page(req, r, errors_status(busy ? o : OUTCOME_ERROR), busy ? "page.busy" : "page.error");
    if (busy)
        r->retry_after = 1;
}

/* An error back to the client (RFC 6749 §4.1.2.1, OpenID Connect Core
 * §3.1.2.6): to a redirect URI registered for it, always. */
static void error_redirect(const struct api_request *req, struct reply *r, const struct authzreq *a,
                           const char *error, const char *description)
{
    struct location l = {0};

    loc_add(&l, a->redirect_uri, strlen(a->redirect_uri));
    loc_param(&l, "error", error);
    loc_param(&l, "error_description", description);
    if (a->has_state)
        loc_param(&l, "state", a->state);
    loc_param(&l, "iss", req->app->oidc.issuer);
    loc_reply(req, r, &l);
}

/* ------------------------------------------------------------ helpers */

/* The provider answers only with PUBLIC_URL set and a client registered
 * (API.md); false: r holds the 404 problem (or the database's error). */
static bool provider_on(const struct api_request *req, struct reply *r)
{
    bool on = false;
    enum outcome o;

    if (req->app->oidc.keys == NULL || req->app->public_url.url == NULL) {
        reply_problem(r, 404, "not found");
        return false;
    }
    o = oidc_enabled(req->app->users.store, &on);
    if (o != OUTCOME_OK) {
        errors_problem(r, o, NULL);
        return false;
    }
    if (!on)
        reply_problem(r, 404, "not found");
    return on;
}

size_t api_authz_len(const char *v, size_t len)
{
    return len == AUTHZREQ_ID_LEN && b64url_alphabet_only(v, len) ? len : 0;
}

/* What of redirect URI uri a policy's form-action names (CSP Level 3,
 * source expressions): an http(s) URI's origin, RFC 6454 §4's scheme "://"
 * host [":" port], with only the characters of a host and port (a policy's
 * separators are ';' ',' and space); another scheme's scheme-source
 * ("com.example.app:", a native application's), never one that runs or
 * holds content (javascript:, data: and the like). false: none. */
static bool form_source(const char *uri, char out[API_ORIGIN_MAX + 1])
{
    static const char *const never[] = {"javascript", "data",       "vbscript", "file",
                                        "blob",       "filesystem", "about"};
    size_t n = strspn(uri, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+.-");
    const char *host, *end;

    if (n == 0 || n > 64 || uri[n] != ':' || !isalpha((unsigned char)uri[0]))
        return false;
    /* RFC 3986 §3.1: a scheme is case-insensitive; "HTTPS:" taken for
     * another scheme would be a scheme-source allowing every https origin. */
    if ((n == 4 && strncasecmp(uri, "http", 4) == 0) ||
        (n == 5 && strncasecmp(uri, "https", 5) == 0)) {
        if (strncmp(uri + n, "://", 3) != 0)
            return false;
        host = uri + n + 3;
        for (end = host; *end != '\0' && *end != '/' && *end != '?' && *end != '#'; end++)
            if (!isalnum((unsigned char)*end) && strchr(".-:[]", *end) == NULL)
                return false;
        if (end == host || (size_t)(end - uri) > API_ORIGIN_MAX)
            return false;
        memcpy(out, uri, (size_t)(end - uri));
        out[end - uri] = '\0';
        for (size_t i = 0; i < n; i++)
            out[i] = (char)tolower((unsigned char)out[i]);
        return true;
    }
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
        if (strlen(never[i]) == n && strncasecmp(uri, never[i], n) == 0)
            return false;
    memcpy(out, uri, n + 1); /* the scheme and its ':' */
    out[n + 1] = '\0';
    return true;
}

bool api_authz_origin(const struct api_request *req, const char *id, char out[API_ORIGIN_MAX + 1])
{
    struct authzreq a;
    int64_t created_at;
    size_t len = strlen(id);

    out[0] = '\0';
    if (api_authz_len(id, len) == 0 ||
        authzreq_load(req->app->users.store, id, len, timefmt_now(), &a, &created_at) != OUTCOME_OK)
        return false;
    if (form_source(a.redirect_uri, out))
        return true;
    out[0] = '\0';
    return false;
}

/* The client of a and its redirect URI, checked together. false: r holds
 * the error page (or the busy page) and c needs nothing more. */
static bool client_of(const struct api_request *req, struct reply *r, const struct authzreq *a,
                      struct oidc_client *c)
{
    enum outcome o = oidc_client_get(req->app->users.store, a->client_id, strlen(a->client_id), c);

    if (o == OUTCOME_NOT_FOUND) {
        error_page(req, r, 400, "authorize.bad_client");
        return false;
    }
    if (o != OUTCOME_OK) {
        busy_page(req, r, o);
        return false;
    }
    if (!oidc_client_redirect_ok(c, a->redirect_uri, strlen(a->redirect_uri))) {
        oidc_client_free(c);
        error_page(req, r, 400, "authorize.bad_redirect");
        return false;
    }
    return true;
}

/* The browser's sign-in (its gatehouse_sso cookie): OUTCOME_OK with *sso,
 * OUTCOME_TOKEN_INVALID when it has none that is live, or another outcome
 * when it cannot be told. */
static enum outcome signed_in(const struct api_request *req, struct oidc_sso *sso)
{
    if (req->sso_cookie == NULL)
        return OUTCOME_TOKEN_INVALID;
    return oidc_sso_get(&req->app->sessions, req->sso_cookie, strlen(req->sso_cookie),
                        timefmt_now(), sso);
}

/* The request's own answer: code, state and iss to its redirect URI. */
static void code_redirect(const struct api_request *req, struct reply *r, const struct authzreq *a,
                          const struct oidc_sso *sso)
{
    struct oidc_grant g;
    char code[OIDC_CODE_LEN + 1];
    struct location l = {0};
    enum outcome o;

    memset(&g, 0, sizeof g);
    memcpy(g.client_id, a->client_id, sizeof g.client_id);
    memcpy(g.redirect_uri, a->redirect_uri, sizeof g.redirect_uri);
    g.scopes = a->scopes;
    memcpy(g.nonce, a->nonce, sizeof g.nonce);
    memcpy(g.code_challenge, a->code_challenge, sizeof g.code_challenge);
    g.sso = *sso;
    o = oidc_code_issue(req->app->users.store, &g, timefmt_now(), code);
    if (o != OUTCOME_OK) {
        /* RFC 6749 §4.1.2.1: the client hears of it, as
         * temporarily_unavailable while the database is down. */
        bool busy = o == OUTCOME_UNAVAILABLE || o == OUTCOME_OVERLOADED || o == OUTCOME_STOPPING;
        error_redirect(req, r, a, busy ? "temporarily_unavailable" : "server_error",
                       busy ? "the service is busy; try again" : "the code could not be issued");
        return;
    }
    loc_add(&l, a->redirect_uri, strlen(a->redirect_uri));
    loc_param(&l, "code", code);
    if (a->has_state)
        loc_param(&l, "state", a->state);
    loc_param(&l, "iss", req->app->oidc.issuer);
    sodium_memzero(code, sizeof code);
    loc_reply(req, r, &l);
}

/* The consent page of request id for client c (API.md: buttons consent =
 * allow | deny). */
static void consent_page(const struct api_request *req, struct reply *r,
                         const struct oidc_client *c, const struct authzreq *a, const char *id,
                         const struct oidc_sso *sso)
{
    const struct tmpl_var vars[] = {
        {"client", c->name, false},
        {"username", sso->username, false},
        {"authz", id, false},
        {"profile", a->scopes & OIDC_SCOPE_PROFILE ? "1" : NULL, false},
        {"email", a->scopes & OIDC_SCOPE_EMAIL ? "1" : NULL, false},
        {"offline", a->scopes & OIDC_SCOPE_OFFLINE ? "1" : NULL, false},
    };
    struct api_page p = {"consent", 200, NULL, vars, sizeof vars / sizeof vars[0], false, id};

    api_page_show(req, r, &p);
}

/* A 302 to the sign-in page for request id, login_hint carried. */
static void to_signin(const struct api_request *req, struct reply *r, const struct authzreq *a,
                      const char *id)
{
    char base[32];
    struct location l = {0};

    api_page_base(req->path, base, sizeof base);
    loc_add(&l, base, strlen(base));
    loc_add(&l, "signin", 6);
    loc_param(&l, "authz", id);
    if (a->login_hint[0] != '\0')
        loc_param(&l, "login_hint", a->login_hint);
    loc_reply(req, r, &l);
}

/* Where a request stands. */
struct step {
    const struct oidc_client *c;
    struct authzreq *a;
    const char *id;     /* its id once kept; NULL: not yet */
    int64_t created_at; /* when it was kept */
};

/* A new request kept for the browser's address, counted against its
 * limit (THROTTLE_AUTHZ_REQUESTS): anyone may send them, and each is a
 * row. false: r holds the busy page (429 with Retry-After). */
static bool admitted(const struct api_request *req, struct reply *r)
{
    struct netaddr a;
    unsigned wait;

    if (req->app->throttle == NULL)
        return true;
    api_client(req, &a);
    wait = throttle_authz_take(req->app->throttle, &a, timefmt_now());
    if (wait == 0)
        return true;
    error_page(req, r, errors_status(OUTCOME_THROTTLED), "page.busy");
    r->retry_after = wait;
    return false;
}

/* Keeps s's request, once, so that the page it goes to can come back to
 * it; a request kept before keeps its time (and so its end). false: r
 * holds the busy page. */
static bool keep(const struct api_request *req, struct reply *r, struct step *s,
                 char id[AUTHZREQ_ID_LEN + 1])
{
    enum outcome o;

    if (s->id != NULL)
        return true;
    if (s->created_at == 0) {
        if (!admitted(req, r))
            return false;
        s->created_at = timefmt_now();
    }
    o = authzreq_save(req->app->users.store, s->a, s->created_at, id);
    if (o != OUTCOME_OK) {
        busy_page(req, r, o);
        return false;
    }
    s->id = id;
    return true;
}

/* Uses a kept request up before its answer goes out: false when another
 * tab answered it already (r: the error page). */
static bool use(const struct api_request *req, struct reply *r, const struct step *s)
{
    enum outcome o;

    if (s->id == NULL)
        return true;
    o = authzreq_use(req->app->users.store, s->id, strlen(s->id), timefmt_now());
    if (o == OUTCOME_OK)
        return true;
    if (o == OUTCOME_BAD_TOKEN)
        error_page(req, r, 400, "authorize.expired");
    else
        busy_page(req, r, o);
    return false;
}

/* True when sso's sign-in will do for s (OpenID Connect Core §3.1.2.1):
 * prompt=login wants one made after the request, max_age one at most that
 * old. A sign-in made after the request was kept, other than the one it
 * found then (the clock counts seconds), does for both, or a slow form
 * would send the user round again. */
static bool fresh_enough(const struct step *s, const struct oidc_sso *sso)
{
    bool after =
        s->id != NULL && strcmp(sso->sid, s->a->login_sid) != 0 && sso->auth_time >= s->created_at;

    if ((s->a->prompt & AUTHZREQ_PROMPT_LOGIN) != 0)
        return after;
    return s->a->max_age < 0 || after || timefmt_now() - sso->auth_time <= s->a->max_age;
}

/* Takes a checked request on: to the sign-in, to consent, or back to the
 * client with a code. */
static void proceed(const struct api_request *req, struct reply *r, struct step *s)
{
    const struct authzreq *a = s->a;
    struct oidc_sso sso;
    char id[AUTHZREQ_ID_LEN + 1];
    bool none = (a->prompt & AUTHZREQ_PROMPT_NONE) != 0, covered = false;
    enum outcome o = signed_in(req, &sso);

    if (o != OUTCOME_OK && o != OUTCOME_TOKEN_INVALID) {
        busy_page(req, r, o);
        return;
    }
    if (o == OUTCOME_TOKEN_INVALID || !fresh_enough(s, &sso)) {
        if (o == OUTCOME_OK && s->id == NULL)
            memcpy(s->a->login_sid, sso.sid, sizeof s->a->login_sid);
        if (none) {
            if (use(req, r, s))
                error_redirect(req, r, a, "login_required", "the user is not signed in");
        } else if (keep(req, r, s, id)) {
            to_signin(req, r, a, s->id);
        }
        return;
    }
    if (!s->c->first_party && (a->prompt & AUTHZREQ_PROMPT_CONSENT) == 0) {
        o = oidc_consent_covers(req->app->users.store, sso.user_id, a->client_id, a->scopes,
                                &covered);
        if (o != OUTCOME_OK) {
            busy_page(req, r, o);
            return;
        }
    }
    if (!s->c->first_party && !covered) {
        if (none) {
            if (use(req, r, s))
                error_redirect(req, r, a, "consent_required", "the user has not consented");
            return;
        }
        /* The consent answer counts only for a request kept for it, and
         * for this sign-in: one kept for the sign-in is used up and kept
         * anew, marked. */
        if (s->id != NULL && !use(req, r, s))
            return;
        s->id = NULL;
        memcpy(s->a->consent_sid, sso.sid, sizeof s->a->consent_sid);
        if (keep(req, r, s, id))
            consent_page(req, r, s->c, a, s->id, &sso);
        return;
    }
    if (use(req, r, s))
        code_redirect(req, r, a, &sso);
}

/* The checks that need the client (RFC 7636 §4.4.1: a public client must
 * use PKCE; the scopes it may ask for). */
static bool client_rules(const struct api_request *req, struct reply *r,
                         const struct oidc_client *c, const struct authzreq *a)
{
    if (!c->confidential && a->code_challenge[0] == '\0') {
        error_redirect(req, r, a, "invalid_request", "a public client must send code_challenge");
        return false;
    }
    if ((a->scopes & ~c->scopes) != 0) {
        error_redirect(req, r, a, "invalid_scope", "the client may not ask for this scope");
        return false;
    }
    return true;
}

/* -------------------------------------------------------------- routes */

void api_authorize(const struct api_request *req, struct reply *r)
{
    struct form body, *params = (struct form *)&req->query;
    struct authzreq a;
    struct authzreq_error err;
    struct oidc_client c;
    bool posted = strcmp(req->method, "POST") == 0;

    if (!provider_on(req, r))
        return;
    /* OpenID Connect Core §3.1.2.1: POST carries the same parameters as
     * a form body. */
    if (posted) {
        if (!api_form_body(req)) {
            reply_problem(r, 415, "Content-Type must be application/x-www-form-urlencoded");
            return;
        }
        if (form_parse(req->body, req->body_len, &body) != FORM_OK) {
            error_page(req, r, 400, "authorize.bad_request");
            return;
        }
        params = &body;
    }
    enum authzreq_status st = authzreq_parse(params, &a, &err);
    if (posted)
        form_free(&body);
    if (st == AUTHZREQ_NO_CLIENT) {
        error_page(req, r, 400, "authorize.bad_request");
        return;
    }
    if (!client_of(req, r, &a, &c))
        return;
    if (st == AUTHZREQ_ERROR)
        error_redirect(req, r, &a, err.error, err.description);
    else if (client_rules(req, r, &c, &a)) {
        struct step s = {&c, &a, NULL, 0};
        proceed(req, r, &s);
    }
    oidc_client_free(&c);
}

/* The kept request of an authz value (len bytes) and its client. false: r
 * holds the page. */
static bool kept(const struct api_request *req, struct reply *r, const char *id, size_t len,
                 struct authzreq *a, int64_t *created_at, struct oidc_client *c)
{
    enum outcome o = api_authz_len(id, len) == 0 ? OUTCOME_BAD_TOKEN
                                                 : authzreq_load(req->app->users.store, id, len,
                                                                 timefmt_now(), a, created_at);

    if (o == OUTCOME_BAD_TOKEN) {
        error_page(req, r, 400, "authorize.expired");
        return false;
    }
    if (o != OUTCOME_OK) {
        busy_page(req, r, o);
        return false;
    }
    return client_of(req, r, a, c);
}

void api_authorize_resume(const struct api_request *req, struct reply *r)
{
    const char *id = "";
    size_t len = 0;
    struct authzreq a;
    struct oidc_client c;
    int64_t created_at = 0;

    if (!provider_on(req, r))
        return;
    if (form_get(&req->query, "authz", &id, &len) != FORM_FOUND)
        len = 0;
    if (!kept(req, r, id, len, &a, &created_at, &c))
        return;
    struct step s = {&c, &a, id, created_at};
    proceed(req, r, &s);
    oidc_client_free(&c);
}

/* A page's form body parsed into f, its CSRF token checked first, as every
 * form of the pages; a body that does not parse is answered by bad (400,
 * bad_key). false: r holds the answer. */
static bool page_post(const struct api_request *req, struct reply *r, struct form *f,
                      void (*bad)(const struct api_request *, struct reply *, int, const char *),
                      const char *bad_key)
{
    const char *csrf = NULL;
    size_t clen = 0;

    if (!api_form_body(req)) {
        reply_problem(r, 415, "Content-Type must be application/x-www-form-urlencoded");
        return false;
    }
    if (form_parse(req->body, req->body_len, f) != FORM_OK) {
        bad(req, r, 400, bad_key);
        return false;
    }
    if (form_get(f, "csrf", &csrf, &clen) != FORM_FOUND ||
        !pages_csrf_check(req->csrf_cookie, csrf, clen)) {
        form_free(f);
        error_page(req, r, 403, "page.csrf");
        return false;
    }
    return true;
}

/* The consent form's fields: its CSRF token (checked first), authz and the
 * button. false: r holds the page. */
static bool consent_form(const struct api_request *req, struct reply *r, struct form *f,
                         const char **id, size_t *len, bool *allow)
{
    const char *button = NULL;
    size_t blen = 0;

    if (!page_post(req, r, f, error_page, "page.bad_form"))
        return false;
    if (form_get(f, "authz", id, len) != FORM_FOUND ||
        form_get(f, "consent", &button, &blen) != FORM_FOUND ||
        (strcmp(button, "allow") != 0 && strcmp(button, "deny") != 0)) {
        form_free(f);
        error_page(req, r, 400, "page.bad_form");
        return false;
    }
    *allow = strcmp(button, "allow") == 0;
    return true;
}

void api_authorize_consent(const struct api_request *req, struct reply *r)
{
    struct form f;
    const char *id;
    size_t len;
    bool allow;
    struct authzreq a;
    struct oidc_client c;
    struct oidc_sso sso;
    int64_t created_at = 0;

    if (!provider_on(req, r) || !consent_form(req, r, &f, &id, &len, &allow))
        return;
    if (!kept(req, r, id, len, &a, &created_at, &c)) {
        form_free(&f);
        return;
    }
    struct step s = {&c, &a, id, created_at};
    enum outcome o = signed_in(req, &sso);
    if (o != OUTCOME_OK && o != OUTCOME_TOKEN_INVALID) {
        busy_page(req, r, o);
    } else if (o == OUTCOME_TOKEN_INVALID || c.first_party || a.consent_sid[0] == '\0' ||
               strcmp(a.consent_sid, sso.sid) != 0 || !fresh_enough(&s, &sso)) {
        /* Signed out or in again meanwhile, or a request the consent page
         * was not shown for (one kept for the sign-in: prompt=login,
         * max_age), or the sign-in grew too old: the sign-in decides. */
        to_signin(req, r, &a, id);
    } else if (!allow) {
        if (use(req, r, &s))
            error_redirect(req, r, &a, "access_denied", "the user denied the request");
    } else if ((o = oidc_consent_grant(req->app->users.store, sso.user_id, a.client_id, a.scopes,
                                       timefmt_now())) != OUTCOME_OK) {
        busy_page(req, r, o);
    } else if (use(req, r, &s)) {
        code_redirect(req, r, &a, &sso);
    }
    oidc_client_free(&c);
    form_free(&f);
}

/* ------------------------------------------------------------- logout */

/* The signed-out page, or a page saying why the logout request is
 * refused. */
static void signedout(const struct api_request *req, struct reply *r, int status, const char *key)
{
    const char *lang = i18n_lang(req->accept_language);
    char *text = key != NULL ? api_page_text(lang, key, NULL, 0) : NULL;
    const struct tmpl_var vars[] = {{"done", status == 200 ? "1" : NULL, false}};
    struct api_page p = {"signedout", status, text, vars, 1, false, NULL};

    api_page_show(req, r, &p);
    free(text);
}

/* The logout request's parameters (OpenID Connect RP-Initiated Logout 1.0
 * §2), each at most once. */
struct logout_params {
    const char *hint, *uri, *state, *client_id;
    size_t hint_len, uri_len, state_len, client_len;
};

static bool logout_params(const struct form *q, struct logout_params *p)
{
    memset(p, 0, sizeof *p);
    return form_get(q, "id_token_hint", &p->hint, &p->hint_len) != FORM_REPEATED &&
           form_get(q, "post_logout_redirect_uri", &p->uri, &p->uri_len) != FORM_REPEATED &&
           form_get(q, "state", &p->state, &p->state_len) != FORM_REPEATED &&
           form_get(q, "client_id", &p->client_id, &p->client_len) != FORM_REPEATED &&
           p->hint_len <= JWT_MAX_LEN && p->uri_len <= OIDC_URI_MAX &&
           p->state_len <= OIDC_STATE_MAX && p->client_len <= OIDC_CLIENT_ID_MAX;
}

/* The client named by the hint or client_id (both: the same one), whose
 * registered post-logout URI p->uri must be (§3: never another). false: r
 * holds the page. */
static bool logout_uri_ok(const struct api_request *req, struct reply *r,
                          const struct logout_params *p, const char *hint_client)
{
    const char *id = hint_client[0] != '\0' ? hint_client : p->client_id;
    size_t len = hint_client[0] != '\0' ? strlen(hint_client) : p->client_len;
    struct oidc_client c;
    enum outcome o;

    if (id == NULL || (p->client_id != NULL && hint_client[0] != '\0' &&
                       (p->client_len != len || memcmp(p->client_id, id, len) != 0))) {
        signedout(req, r, 400, "logout.bad_uri");
        return false;
    }
    o = oidc_client_get(req->app->users.store, id, len, &c);
    if (o != OUTCOME_OK && o != OUTCOME_NOT_FOUND) {
        busy_page(req, r, o);
        return false;
    }
    bool ok = o == OUTCOME_OK && oidc_client_logout_uri_ok(&c, p->uri, p->uri_len);
    if (o == OUTCOME_OK)
        oidc_client_free(&c);
    if (!ok)
        signedout(req, r, 400, "logout.bad_uri");
    return ok;
}

/* The browser's sign-in ends, and with it what clients got from it, the
 * session cookies are cleared, and the browser goes to the signed-out page
 * or the post-logout URI. */
static void logout_end(const struct api_request *req, struct reply *r,
                       const struct logout_params *p)
{
    /* Without the sign-in's cookie, the session of the access_token
     * cookie, which is cleared too: left live, nothing could end it. */
    struct jwt_claims claims;
    const char *sid = NULL;
    if (req->cookie_token != NULL &&
        sessions_verify_access(&req->app->sessions, req->cookie_token, strlen(req->cookie_token),
                               timefmt_now(), &claims) == OUTCOME_OK)
        sid = claims.sid;
    enum outcome o = api_sso_end(req, r, sid);
    if (o != OUTCOME_OK) {
        reply_free(r);
        busy_page(req, r, o);
        return;
    }
    api_session_cookies(req, r, NULL, NULL);
    if (p->uri == NULL) {
        signedout(req, r, 200, NULL);
        return;
    }
    struct location l = {0};
    loc_add(&l, p->uri, p->uri_len);
    if (p->state != NULL)
        loc_param(&l, "state", p->state);
    loc_reply(req, r, &l);
}

/* True when the hint's sid is the browser's own sign-in (its gatehouse_sso
 * cookie's session): only then does the request end it unasked. */
static bool hint_is_this_browser(const struct api_request *req, const char *hint_sid)
{
    struct oidc_sso sso;

    return hint_sid[0] != '\0' && signed_in(req, &sso) == OUTCOME_OK &&
           strcmp(sso.sid, hint_sid) == 0;
}

/* The page asking the user to confirm the logout (OpenID Connect
 * RP-Initiated Logout 1.0 §2: without a hint, or with one for another
 * sign-in, the OP asks). Its form posts the checked parameters back to POST
 * /oidc/logout, which checks them again; client is the hint's client or
 * client_id. */
static void logout_confirm(const struct api_request *req, struct reply *r,
                           const struct logout_params *p, const char *client)
{
    const struct tmpl_var vars[] = {
        {"client_id", client[0] != '\0' ? client : NULL, false},
        {"uri", p->uri, false},
        {"state", p->state, false},
    };
    struct api_page pg = {"logout", 200, NULL, vars, sizeof vars / sizeof vars[0], false, NULL};
    char origin[API_ORIGIN_MAX + 1] = "";

    /* The post is redirected on to the post-logout URI (form-action). */
    if (p->uri != NULL && !form_source(p->uri, origin))
        origin[0] = '\0';
    api_page_show_to(req, r, &pg, origin);
}

/* The confirmation's form: its CSRF token checked first, as every form of
 * the pages; no id_token_hint (the form carries none). false: r holds the
 * page. */
static bool logout_form(const struct api_request *req, struct reply *r, struct form *f)
{
    const char *hint = NULL;
    size_t hlen = 0;

    if (!page_post(req, r, f, signedout, "logout.bad_request"))
        return false;
    if (form_get(f, "id_token_hint", &hint, &hlen) != FORM_ABSENT) {
        form_free(f);
        signedout(req, r, 400, "logout.bad_request");
        return false;
    }
    return true;
}

/* GET /oidc/logout asks unless its hint names the browser's own sign-in;
 * POST /oidc/logout is the answer of the page that asked. */
void api_oidc_logout(const struct api_request *req, struct reply *r)
{
    struct logout_params p;
    struct form body;
    const struct form *q = &req->query;
    bool posted = strcmp(req->method, "POST") == 0;
    char hint_client[OIDC_CLIENT_ID_MAX + 1] = "", hint_sid[JWT_SID_MAX + 1] = "";

    if (!provider_on(req, r))
        return;
    if (posted) {
        if (!logout_form(req, r, &body))
            return;
        q = &body;
    }
    if (!logout_params(q, &p)) {
        signedout(req, r, 400, "logout.bad_request");
    } else if (p.hint != NULL && oidc_id_token_hint(&req->app->oidc, p.hint, p.hint_len,
                                                    hint_client, hint_sid) != OUTCOME_OK) {
        signedout(req, r, 400, "logout.bad_hint");
    } else if (p.uri != NULL && !logout_uri_ok(req, r, &p, hint_client)) {
        /* r holds the page */
    } else if (!posted && !hint_is_this_browser(req, hint_sid)) {
        logout_confirm(req, r, &p,
                       hint_client[0] != '\0' ? hint_client
                       : p.client_id != NULL  ? p.client_id
                                              : "");
    } else {
        logout_end(req, r, &p);
    }
    if (posted)
        form_free(&body);
}
