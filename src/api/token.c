/* POST /token: the OAuth 2.0 token endpoint (RFC 6749). */
#include <stdio.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/audit.h"
#include "util/form.h"

/* The parameters this endpoint reads. RFC 6749 §3.2: none may appear twice.
 * scope, client_id and client_secret are read only for that check: there
 * are no scopes and no registered clients (a public client's password
 * grant, §2.1), so they are ignored, as is an Authorization header. Other
 * parameters are ignored unread (§3.2). */
static const char *const known[] = {"grant_type", "username",  "password",     "refresh_token",
                                    "scope",      "client_id", "client_secret"};

/* Fetches a required parameter; the invalid_request into r when it is
 * missing (or empty, which §3.2 counts as missing). */
static bool required(const struct form *f, struct reply *r, const char *name, const char **v,
                     size_t *len)
{
    char desc[64];

    if (form_get(f, name, v, len) == FORM_FOUND)
        return true;
    snprintf(desc, sizeof desc, "%s: missing", name);
    errors_oauth_request(r, "invalid_request", desc);
    return false;
}

/* §6: a refresh token for a new access token and a new refresh token. */
static void refresh_grant(const struct api_request *req, const struct form *f, struct reply *r)
{
    const char *tok = NULL;
    size_t len = 0;
    struct session_tokens t;

    if (!required(f, r, "refresh_token", &tok, &len))
        return;
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
    const char *grant = NULL, *v;
    size_t glen = 0, vlen;

    if (!form_content_type_ok(req->content_type)) {
        errors_oauth_request(r, "invalid_request",
                             "Content-Type must be application/x-www-form-urlencoded");
        goto out;
    }
    switch (form_parse(req->body, req->body_len, &f)) {
    case FORM_OK: break;
    case FORM_BAD_ESCAPE:
        errors_oauth_request(r, "invalid_request", "request body: malformed percent-encoding");
        goto out;
    case FORM_NUL:
        errors_oauth_request(r, "invalid_request", "request body: a parameter contains a NUL byte");
        goto out;
    case FORM_BAD_UTF8:
        errors_oauth_request(r, "invalid_request", "request body: a parameter is not valid UTF-8");
        goto out;
    case FORM_NOMEM: errors_problem(r, OUTCOME_ERROR, NULL); goto out;
    }
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (form_get(&f, known[i], &v, &vlen) == FORM_REPEATED) {
            char desc[64];
            snprintf(desc, sizeof desc, "%s: repeated", known[i]);
            errors_oauth_request(r, "invalid_request", desc);
            goto done;
        }
    }
    if (!required(&f, r, "grant_type", &grant, &glen))
        goto done;
    if (strcmp(grant, "password") == 0)
        password_grant(req, &f, r);
    else if (strcmp(grant, "refresh_token") == 0)
        refresh_grant(req, &f, r);
    else
        errors_oauth_request(r, "unsupported_grant_type", "grant_type: password or refresh_token");
done:
    form_free(&f);
out:
    /* RFC 6749 §5.1: every answer of the token endpoint, errors included,
     * must not be cached. */
    r->no_store = true;
}
