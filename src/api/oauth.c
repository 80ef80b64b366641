/* What the OAuth endpoints share (the form body, the client's
 * authentication, the token answer), and two of them: POST /oauth/revoke
 * (RFC 7009) and POST /oauth/introspect (RFC 7662). */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/clientauth.h"
#include "util/timefmt.h"

bool api_oauth_form(const struct api_request *req, struct form *f, struct reply *r)
{
    if (!form_content_type_ok(req->content_type)) {
        errors_oauth_request(r, "invalid_request",
                             "Content-Type must be application/x-www-form-urlencoded");
        return false;
    }
    switch (form_parse(req->body, req->body_len, f)) {
    case FORM_OK: return true;
    case FORM_BAD_ESCAPE:
        errors_oauth_request(r, "invalid_request", "request body: malformed percent-encoding");
        return false;
    case FORM_NUL:
        errors_oauth_request(r, "invalid_request", "request body: a parameter contains a NUL byte");
        return false;
    case FORM_BAD_UTF8:
        errors_oauth_request(r, "invalid_request", "request body: a parameter is not valid UTF-8");
        return false;
    case FORM_NOMEM:
    default: errors_problem(r, OUTCOME_ERROR, NULL); return false;
    }
}

bool api_oauth_repeated(const struct form *f, const char *const *names, size_t n, struct reply *r)
{
    const char *v;
    size_t vlen;

    for (size_t i = 0; i < n; i++) {
        if (form_get(f, names[i], &v, &vlen) == FORM_REPEATED) {
            char desc[64];
            snprintf(desc, sizeof desc, "%s: repeated", names[i]);
            errors_oauth_request(r, "invalid_request", desc);
            return true;
        }
    }
    return false;
}

bool api_oauth_required(const struct form *f, struct reply *r, const char *name, const char **v,
                        size_t *len)
{
    char desc[64];

    if (form_get(f, name, v, len) == FORM_FOUND)
        return true;
    snprintf(desc, sizeof desc, "%s: missing", name);
    errors_oauth_request(r, "invalid_request", desc);
    return false;
}

enum outcome api_oauth_client(const struct api_request *req, const struct form *f, bool need_secret,
                              struct oidc_client *out, struct reply *r)
{
    struct clientauth ca;
    const char *why = NULL;
    enum outcome st;

    if (clientauth_parse(req->authorization, f, &ca, &why) != CLIENTAUTH_OK) {
        errors_oauth_request(r, "invalid_request", why);
        return OUTCOME_INVALID;
    }
    if (ca.method == CLIENTAUTH_NONE) {
        /* §5.2: no client authentication at all is invalid_client too. */
        errors_oauth(r, OUTCOME_BAD_CLIENT, NULL);
        return OUTCOME_BAD_CLIENT;
    }
    /* A public client names itself and shows no secret ("Basic" with an
     * empty secret too); core tells a confidential one that showed none. */
    const char *secret = ca.secretlen > 0 ? ca.secret : NULL;
    st = oidc_client_authenticate(req->app->oidc.sessions->store, ca.id, ca.idlen, secret,
                                  ca.secretlen, out);
    clientauth_wipe(&ca);
    if (st == OUTCOME_OK && need_secret && !out->confidential) {
        oidc_client_free(out);
        st = OUTCOME_BAD_CLIENT;
    }
    if (st != OUTCOME_OK)
        errors_oauth(r, st, NULL);
    return st;
}

bool api_oidc_on(const struct api_request *req, struct reply *r)
{
    bool on = false;
    enum outcome st;

    if (req->app->oidc.keys == NULL) {
        errors_problem(r, OUTCOME_NOT_FOUND, NULL);
        return false;
    }
    /* Read for each request: a client added on the command line takes
     * effect at once (API.md). */
    st = oidc_enabled(req->app->oidc.sessions->store, &on);
    if (st != OUTCOME_OK || !on) {
        errors_problem(r, st != OUTCOME_OK ? st : OUTCOME_NOT_FOUND, NULL);
        return false;
    }
    return true;
}

void api_oauth_object(struct reply *r, json_t *o)
{
    reply_json(r, 200, o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL);
    json_decref(o);
    if (r->body == NULL)
        errors_problem(r, OUTCOME_ERROR, NULL);
}

void api_oidc_tokens_reply(struct reply *r, struct oidc_tokens *t)
{
    json_t *o = json_pack("{s:s, s:s, s:I}", "access_token", t->access_token, "token_type",
                          "Bearer", "expires_in", (json_int_t)t->expires_in);

    if (o != NULL && t->refresh_token != NULL)
        json_object_set_new(o, "refresh_token", json_string(t->refresh_token));
    if (o != NULL && t->id_token != NULL)
        json_object_set_new(o, "id_token", json_string(t->id_token));
    /* RFC 6749 §5.1: scope, which a client_credentials token may lack. */
    if (o != NULL && t->scope[0] != '\0')
        json_object_set_new(o, "scope", json_string(t->scope));
    api_oauth_object(r, o);
    oidc_tokens_free(t);
    r->no_store = true;
}

/* The parameters of /oauth/revoke and /oauth/introspect, none of which may
 * appear twice (RFC 6749 §3.2, which RFC 7009 §2.1 and RFC 7662 §2.1 build
 * on). */
static const char *const token_params[] = {"token", "token_type_hint", "client_id",
                                           "client_secret"};

/* Parses the body, authenticates the client and reads the token of a
 * revocation or introspection request into *tok; r holds the answer when
 * false. f needs form_free only when true. */
static bool token_request(const struct api_request *req, struct form *f, bool need_secret,
                          struct oidc_client *c, const char **tok, size_t *len, struct reply *r)
{
    if (!api_oauth_form(req, f, r))
        return false;
    /* token_type_hint is only a hint (RFC 7009 §2.1): every kind of token
     * is looked up whatever it says. */
    if (api_oauth_repeated(f, token_params, sizeof token_params / sizeof token_params[0], r) ||
        api_oauth_client(req, f, need_secret, c, r) != OUTCOME_OK) {
        form_free(f);
        return false;
    }
    if (!api_oauth_required(f, r, "token", tok, len)) {
        oidc_client_free(c);
        form_free(f);
        return false;
    }
    return true;
}

void api_oauth_revoke(const struct api_request *req, struct reply *r)
{
    struct form f;
    struct oidc_client c;
    const char *tok = NULL;
    size_t len = 0;

    r->no_store = true;
    if (!api_oidc_on(req, r) || !token_request(req, &f, false, &c, &tok, &len, r))
        return;
    enum outcome st = oidc_revoke(&req->app->oidc, &c, tok, len, timefmt_now());
    /* §2.2: 200 whether or not the token was valid, known or the
     * client's: that tells a caller nothing about other clients' tokens. */
    if (st == OUTCOME_OK)
        r->status = 200; /* no body */
    else
        errors_oauth(r, st, NULL);
    oidc_client_free(&c);
    form_free(&f);
}

/* RFC 7662 §2.2: an active token's metadata. */
static void introspection(const struct api_request *req, struct reply *r,
                          const struct oidc_access *a)
{
    char scope[OIDC_SCOPE_MAX + 1];

    oidc_scope_text(a->scopes, scope);
    json_t *o = json_pack("{s:b, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "active", 1, "scope",
                          scope, "client_id", a->client_id, "sub", a->sub, "aud", a->client_id,
                          "iss", req->app->oidc.issuer, "iat", (json_int_t)a->iat, "exp",
                          (json_int_t)a->exp, "token_type", "Bearer");

    api_oauth_object(r, o);
}

void api_oauth_introspect(const struct api_request *req, struct reply *r)
{
    struct form f;
    struct oidc_client c;
    struct oidc_access a;
    const char *tok = NULL;
    size_t len = 0;

    r->no_store = true;
    /* §2.1: the caller must be authorized to ask; here, a confidential
     * client that authenticates. */
    if (!api_oidc_on(req, r) || !token_request(req, &f, true, &c, &tok, &len, r))
        return;
    enum outcome st = oidc_verify_access(&req->app->oidc, tok, len, timefmt_now(), &a);
    /* §2.2: anything else is inactive, and says no more: a refresh token,
     * an expired, revoked or forged one, and another client's, whose
     * metadata is not this client's to read (§4). */
    if (st == OUTCOME_OK && strcmp(a.client_id, c.id) == 0)
        introspection(req, r, &a);
    else
        reply_json(r, 200, strdup("{\"active\":false}"));
    sodium_memzero(&a, sizeof a);
    oidc_client_free(&c);
    form_free(&f);
}
