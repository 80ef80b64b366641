#include <string.h>
#include <strings.h>

#include "api/api_internal.h"
#include "util/timefmt.h"

json_t *api_parse_object(const struct api_request *req, struct reply *r)
{
    json_error_t e;
    /* Strict: duplicate keys are refused (which one would win is
     * ambiguous), invalid UTF-8 too. NULs inside strings are let through so
     * the password rules can name them (a 422, not a parse error). */
    json_t *o = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &e);

    if (o == NULL) {
        reply_problem(r, 400, "request body is not valid JSON");
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        reply_problem(r, 400, "request body must be a JSON object");
        return NULL;
    }
    return o;
}

bool api_string_field(json_t *o, const char *name, const char **s, size_t *len,
                      struct account_errors *errs)
{
    json_t *v = json_object_get(o, name);

    if (v == NULL || json_is_null(v)) {
        account_error_add(errs, name, "missing", "field required");
        return false;
    }
    if (!json_is_string(v)) {
        account_error_add(errs, name, "wrong_type", "must be a string");
        return false;
    }
    *s = json_string_value(v);
    *len = json_string_length(v);
    return true;
}

void api_account_failure(struct reply *r, enum account_status st)
{
    switch (st) {
    case ACCOUNT_CONFLICT: reply_problem(r, 409, "username: already registered"); return;
    case ACCOUNT_UNAUTHORIZED:
        reply_problem(r, 401, "Incorrect username or password");
        reply_header(r, "WWW-Authenticate", "Bearer");
        return;
    case ACCOUNT_UNAVAILABLE:
        reply_problem(r, 503, "the database is unavailable; retry later");
        r->retry_after = 1;
        return;
    case ACCOUNT_OK:
    case ACCOUNT_INVALID:
    case ACCOUNT_ERROR: break;
    }
    reply_problem(r, 500, "internal error");
}

/* The token of the request, or NULL: "Authorization: Bearer <token>" (the
 * scheme is case-insensitive, RFC 9110 §11.1), else the access_token cookie. */
static const char *find_token(const struct api_request *req, size_t *len)
{
    const char *a = req->authorization;

    if (a != NULL) {
        if (strncasecmp(a, "Bearer ", 7) != 0)
            return NULL;
        a += 7;
        while (*a == ' ')
            a++;
        *len = strlen(a);
        while (*len > 0 && a[*len - 1] == ' ')
            (*len)--;
        return *len > 0 ? a : NULL;
    }
    if (req->cookie_token != NULL && req->cookie_token[0] != '\0') {
        *len = strlen(req->cookie_token);
        return req->cookie_token;
    }
    return NULL;
}

bool api_authenticate(const struct api_request *req, struct jwt_claims *claims, struct reply *r)
{
    size_t len = 0;
    const char *tok = find_token(req, &len);

    if (tok == NULL) {
        /* RFC 6750 §3.1: no error code when no bearer credentials were sent. */
        reply_problem(r, 401, "Not authenticated");
        reply_header(r, "WWW-Authenticate", "Bearer");
        return false;
    }
    if (jwt_verify(req->app->jwt, tok, len, timefmt_now(), claims) != JWT_OK) {
        reply_problem(r, 401, "Could not validate credentials");
        reply_header(r, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
        return false;
    }
    return true;
}

char *api_user_json(const struct store_user *u)
{
    char when[32];
    json_t *o = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)u->id, "username", u->username,
                          "created_at", timefmt_rfc3339(when, sizeof when, u->created_at));
    char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

    json_decref(o);
    return s;
}

void api_tokens_reply(struct reply *r, struct account_tokens *t)
{
    json_t *body =
        json_pack("{s:s, s:s, s:i, s:s}", "access_token", t->access_token, "token_type", "bearer",
                  "expires_in", (int)t->expires_in, "refresh_token", t->refresh_token);

    reply_json(r, 200, body != NULL ? json_dumps(body, JSON_COMPACT) : NULL);
    r->no_store = true;
    json_decref(body);
    account_tokens_free(t);
}
