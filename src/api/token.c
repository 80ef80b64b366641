/* POST /token: the OAuth 2.0 token endpoint (RFC 6749): gatehouse's own
 * grants (password, refresh_token) and, with the OpenID Connect provider
 * on, a client's (authorization_code, refresh_token, client_credentials). */
#include <stdio.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/audit.h"
#include "api/clientauth.h"
#include "util/form.h"
#include "util/timefmt.h"

/* The parameters this endpoint reads. RFC 6749 §3.2: none may appear twice.
 * The password grant reads neither scopes nor a client (a public client's
 * password grant, §2.1), so it ignores scope, client_id, client_secret and
 * an Authorization header. Other parameters are ignored unread (§3.2). */
static const char *const known[] = {
    "grant_type", "username",      "password", "refresh_token", "scope",
    "client_id",  "client_secret", "code",     "redirect_uri",  "code_verifier"};

static bool required(const struct form *f, struct reply *r, const char *name, const char **v,
                     size_t *len)
{
    return api_oauth_required(f, r, name, v, len);
}

/* True when the request names a client (RFC 6749 §2.3): then a refresh
 * token is one of that client's (oidc_refresh), not one of gatehouse's own
 * sessions. Swagger UI's empty "Basic Og==" names none. */
static bool names_client(const struct api_request *req, const struct form *f)
{
    struct clientauth ca;
    bool named = clientauth_parse(req->authorization, f, &ca, NULL) != CLIENTAUTH_OK ||
                 ca.method != CLIENTAUTH_NONE;

    clientauth_wipe(&ca);
    return named;
}

/* §6 for a client's session: the client authenticates, and the token
 * must be its own (core/oidc.h). The scope stays the one granted: a
 * narrower one is not offered. */
static void client_refresh_grant(const struct api_request *req, const struct form *f,
                                 struct reply *r)
{
    const char *tok = NULL;
    size_t len = 0;
    struct oidc_client c;
    struct oidc_tokens t = {0};

    if (api_oauth_client(req, f, false, &c, r) != OUTCOME_OK)
        return;
    if (required(f, r, "refresh_token", &tok, &len)) {
        audit_hold_refresh(req, "refresh_token");
        enum outcome st = oidc_refresh(&req->app->oidc, &c, tok, len, &t);
        audit_refresh(req, "refresh_token", st);
        if (st == OUTCOME_OK)
            api_oidc_tokens_reply(r, &t);
        else
            errors_oauth(r, st, NULL);
    }
    oidc_client_free(&c);
}

/* RFC 7636 §4.1: 43 to 128 characters of the unreserved set. */
static bool verifier_ok(const char *v, size_t len)
{
    if (len < 43 || len > 128)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = v[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '.' || ch == '_' || ch == '~'))
            return false;
    }
    return true;
}

/* §4.1.3: a code for tokens, by the client it was issued to. */
static void code_grant(const struct api_request *req, const struct form *f, struct reply *r)
{
    const char *code = NULL, *uri = NULL, *ver = NULL;
    size_t clen = 0, ulen = 0, vlen = 0;
    struct oidc_client c;
    struct oidc_tokens t = {0};
    enum outcome st = api_oauth_client(req, f, false, &c, r);

    if (st != OUTCOME_OK) {
        audit_client_grant(req, AUDIT_GRANT_CODE, NULL, st);
        return;
    }
    st = OUTCOME_INVALID;
    /* redirect_uri is required: OpenID Connect always sends one with the
     * authorization request (Core §3.1.2.1), and §4.1.3 wants it back. */
    if (!required(f, r, "code", &code, &clen) || !required(f, r, "redirect_uri", &uri, &ulen))
        goto out;
    if (form_get(f, "code_verifier", &ver, &vlen) == FORM_FOUND && !verifier_ok(ver, vlen)) {
        errors_oauth_request(r, "invalid_request",
                             "code_verifier: 43 to 128 characters of A-Z a-z 0-9 - . _ ~");
        goto out;
    }
    st = oidc_code_redeem(&req->app->oidc, &c, code, clen, uri, ulen, ver, ver != NULL ? vlen : 0,
                          timefmt_now(), &t);
    if (st == OUTCOME_OK)
        api_oidc_tokens_reply(r, &t);
    else
        errors_oauth(r, st, NULL);
out:
    audit_client_grant(req, AUDIT_GRANT_CODE, c.id, st);
    oidc_client_free(&c);
}

/* The scopes a client_credentials token may have: those the client may ask
 * for, but openid and offline_access, which stand for a user (OIDC Core
 * §3.1.2.1) and a refresh token (RFC 6749 §4.4.3: none for this grant). */
static bool credentials_scope(const struct form *f, const struct oidc_client *c, unsigned *bits,
                              struct reply *r)
{
    const char *s = NULL;
    size_t len = 0;

    *bits = 0;
    if (form_get(f, "scope", &s, &len) != FORM_FOUND)
        return true;
    if (len > OIDC_SCOPE_MAX || !oidc_scope_parse(s, len, bits)) {
        errors_oauth_request(r, "invalid_scope", "scope: unknown, repeated or malformed");
        return false;
    }
    if (*bits & (OIDC_SCOPE_OPENID | OIDC_SCOPE_OFFLINE)) {
        errors_oauth_request(
            r, "invalid_scope",
            "scope: openid and offline_access need a user, not client_credentials");
        return false;
    }
    if ((*bits & ~c->scopes) != 0) {
        errors_oauth_request(r, "invalid_scope", "scope: not one the client may ask for");
        return false;
    }
    return true;
}

/* §4.4: a confidential client's token of its own. */
static void credentials_grant(const struct api_request *req, const struct form *f, struct reply *r)
{
    struct oidc_client c;
    struct oidc_tokens t = {0};
    unsigned scopes;
    enum outcome st = api_oauth_client(req, f, false, &c, r);

    if (st != OUTCOME_OK) {
        audit_client_grant(req, AUDIT_GRANT_CLIENT_CREDENTIALS, NULL, st);
        return;
    }
    /* §4.4: "MUST only be used by confidential clients". */
    if (!c.confidential) {
        errors_oauth_request(r, "unauthorized_client",
                             "grant_type: client_credentials needs a confidential client");
        st = OUTCOME_INVALID;
    } else if (!credentials_scope(f, &c, &scopes, r)) {
        st = OUTCOME_INVALID;
    } else {
        st = oidc_client_credentials(&req->app->oidc, &c, scopes, timefmt_now(), &t);
        if (st == OUTCOME_OK)
            api_oidc_tokens_reply(r, &t);
        else
            errors_oauth(r, st, NULL);
    }
    audit_client_grant(req, AUDIT_GRANT_CLIENT_CREDENTIALS, c.id, st);
    oidc_client_free(&c);
}

/* §6: a refresh token for a new access token and a new refresh token. */
static void refresh_grant(const struct api_request *req, const struct form *f, struct reply *r)
{
    const char *tok = NULL;
    size_t len = 0;
    struct session_tokens t;

    if (req->app->oidc.keys != NULL && names_client(req, f)) {
        client_refresh_grant(req, f, r);
        return;
    }
    if (!required(f, r, "refresh_token", &tok, &len))
        return;
    audit_hold_refresh(req, "refresh_token");
    enum outcome st = sessions_refresh(&req->app->sessions, tok, len, &t);
    audit_refresh(req, "refresh_token", st);
    if (st != OUTCOME_OK) {
        errors_oauth(r, st, NULL);
        return;
    }
    api_tokens_reply(req, r, &t);
}

/* A right password of an account with a second factor: no tokens from
 * the grant; the 403 carries the mfa_token for POST /login/mfa (API.md,
 * "Second factors"). */
static void mfa_required(struct reply *r, const struct api_mfa_step *mfa)
{
    json_t *o = json_pack("{s:s, s:s, s:s}", "error", "mfa_required", "error_description",
                          "a second factor is required: POST /login/mfa with the mfa_token",
                          "mfa_token", mfa->token);

    reply_json(r, 403, o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL);
    json_decref(o);
    if (r->body == NULL)
        errors_problem(r, OUTCOME_ERROR, NULL);
}

static void password_grant(const struct api_request *req, const struct form *f, struct reply *r)
{
    const char *u = NULL, *p = NULL;
    size_t ulen = 0, plen = 0;
    struct session_tokens t;
    struct api_mfa_step mfa;
    struct outcome_detail d = {0};

    if (!required(f, r, "username", &u, &ulen) || !required(f, r, "password", &p, &plen))
        return;
    enum outcome st = api_password_login(req, "password", u, ulen, p, plen, &t, &mfa, &d);
    if (st == OUTCOME_MFA_REQUIRED) {
        mfa_required(r, &mfa);
        api_mfa_step_free(&mfa);
        return;
    }
    if (st != OUTCOME_OK) {
        /* A 429 or 403 is a condition of the service, not an error of the
         * grant: answered as on every endpoint (api/errors.h). */
        errors_oauth(r, st, &d);
        return;
    }
    /* The body of /login, which RFC 6749 §5.1 also describes. */
    api_tokens_reply(req, r, &t);
}

void api_token(const struct api_request *req, struct reply *r)
{
    struct form f;
    const char *grant = NULL;
    size_t glen = 0;
    bool oidc = req->app->oidc.keys != NULL;

    /* RFC 6749 §5.1: every answer of the token endpoint, errors included,
     * must not be cached. */
    r->no_store = true;
    if (!api_oauth_form(req, &f, r))
        return;
    if (api_oauth_repeated(&f, known, sizeof known / sizeof known[0], r) ||
        !required(&f, r, "grant_type", &grant, &glen))
        goto done;
    if (strcmp(grant, "password") == 0)
        password_grant(req, &f, r);
    else if (strcmp(grant, "refresh_token") == 0)
        refresh_grant(req, &f, r);
    else if (oidc && strcmp(grant, "authorization_code") == 0)
        code_grant(req, &f, r);
    else if (oidc && strcmp(grant, "client_credentials") == 0)
        credentials_grant(req, &f, r);
    else
        errors_oauth_request(r, "unsupported_grant_type",
                             oidc ? "grant_type: password, refresh_token, authorization_code or "
                                    "client_credentials"
                                  : "grant_type: password or refresh_token");
done:
    form_free(&f);
}
