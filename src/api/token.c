/* POST /token: the OAuth 2.0 token endpoint (RFC 6749). */
#include <stdio.h>
#include <string.h>

#include "api/api_internal.h"
#include "util/form.h"

/* An error of the grant in the form of RFC 6749 §5.2. Always 400 here:
 * invalid_client (401) needs clients, and gatehouse has none. */
static void oauth_error(struct reply *r, const char *error, const char *description)
{
    json_t *o = json_pack("{s:s, s:s}", "error", error, "error_description", description);

    reply_json(r, 400, o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL);
    json_decref(o);
    if (r->body == NULL)
        reply_problem(r, 500, "internal error");
}

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
    oauth_error(r, "invalid_request", desc);
    return false;
}

static void password_grant(const struct api_request *req, const struct form *f, struct reply *r)
{
    const char *u = NULL, *p = NULL;
    size_t ulen = 0, plen = 0;
    struct account_tokens t;

    if (!required(f, r, "username", &u, &ulen) || !required(f, r, "password", &p, &plen))
        return;
    enum account_status st = account_login(&req->app->deps, u, ulen, p, plen, &t);
    if (st == ACCOUNT_UNAUTHORIZED) {
        /* One answer for an unknown user and a wrong password, as /login. */
        oauth_error(r, "invalid_grant", "Incorrect username or password");
        return;
    }
    if (st != ACCOUNT_OK) {
        api_account_failure(r, st);
        return;
    }
    /* The body of /login, which RFC 6749 §5.1 also describes. */
    api_tokens_reply(r, &t);
}

void api_token(const struct api_request *req, struct reply *r)
{
    struct form f;
    const char *grant = NULL, *v;
    size_t glen = 0, vlen;

    if (!form_content_type_ok(req->content_type)) {
        oauth_error(r, "invalid_request", "Content-Type must be application/x-www-form-urlencoded");
        goto out;
    }
    switch (form_parse(req->body, req->body_len, &f)) {
    case FORM_OK: break;
    case FORM_BAD_ESCAPE:
        oauth_error(r, "invalid_request", "request body: malformed percent-encoding");
        goto out;
    case FORM_NUL:
        oauth_error(r, "invalid_request", "request body: a parameter contains a NUL byte");
        goto out;
    case FORM_BAD_UTF8:
        oauth_error(r, "invalid_request", "request body: a parameter is not valid UTF-8");
        goto out;
    case FORM_NOMEM: reply_problem(r, 500, "internal error"); goto out;
    }
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (form_get(&f, known[i], &v, &vlen) == FORM_REPEATED) {
            char desc[64];
            snprintf(desc, sizeof desc, "%s: repeated", known[i]);
            oauth_error(r, "invalid_request", desc);
            goto done;
        }
    }
    if (!required(&f, r, "grant_type", &grant, &glen))
        goto done;
    if (strcmp(grant, "password") == 0)
        password_grant(req, &f, r);
    else if (strcmp(grant, "refresh_token") == 0)
        /* Sessions (refresh, rotation, revocation) arrive in a later release. */
        oauth_error(r, "unsupported_grant_type", "grant_type: refresh_token is not supported yet");
    else
        oauth_error(r, "unsupported_grant_type", "grant_type: only password is supported");
done:
    form_free(&f);
out:
    /* RFC 6749 §5.1: every answer of the token endpoint, errors included,
     * must not be cached. */
    r->no_store = true;
}
