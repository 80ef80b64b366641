#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "util/timefmt.h"

/* Length of the JSON number (RFC 8259 §6) at s, or 0 when none starts
 * there. */
static size_t json_number_len(const char *s, size_t n)
{
    size_t i = 0, d;

    if (i < n && s[i] == '-')
        i++;
    if (i < n && s[i] == '0')
        i++;
    else if (i < n && s[i] >= '1' && s[i] <= '9')
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    else
        return 0;
    if (i < n && s[i] == '.') {
        for (d = ++i; i < n && s[i] >= '0' && s[i] <= '9';)
            i++;
        if (i == d)
            return 0;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        for (d = i; i < n && s[i] >= '0' && s[i] <= '9';)
            i++;
        if (i == d)
            return 0;
    }
    return i;
}

/* A copy of the body with every number outside strings written as 0 and
 * spaces to its length, for a body that jansson refused only because a
 * number overflowed (a 400-digit integer, 1e999999): no field of any request
 * is a number, so the value is never read, and a number where a string is
 * due stays the type error it is. Anything else malformed is left as it is,
 * for the second parse to refuse. */
static json_t *parse_without_numbers(const char *body, size_t len, size_t flags)
{
    char *c = malloc(len + 1);
    bool in_string = false;

    if (c == NULL)
        return NULL;
    memcpy(c, body, len);
    c[len] = '\0';
    for (size_t i = 0; i < len; i++) {
        if (in_string) {
            if (c[i] == '\\')
                i++;
            else if (c[i] == '"')
                in_string = false;
            continue;
        }
        if (c[i] == '"') {
            in_string = true;
            continue;
        }
        size_t n = json_number_len(c + i, len - i);
        if (n > 0) {
            c[i] = '0';
            memset(c + i + 1, ' ', n - 1);
            i += n - 1;
        }
    }
    json_error_t e;
    json_t *o = json_loadb(c, len, flags, &e);
    sodium_memzero(c, len); /* the body holds passwords */
    free(c);
    return o;
}

json_t *api_parse_object(const struct api_request *req, struct reply *r)
{
    json_error_t e;
    /* Strict: duplicate keys are refused (which one would win is
     * ambiguous), invalid UTF-8 too. NULs inside strings are let through so
     * the password rules can name them (a 422, not a parse error). */
    const size_t flags = JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL;
    /* The one body without a Content-Type the HTTP layer lets through: a
     * DELETE that sends none (http/server.c). */
    if (req->content_type == NULL && req->body_len == 0)
        return json_object();
    json_t *o = json_loadb(req->body, req->body_len, flags, &e);

    if (o == NULL && json_error_code(&e) == json_error_numeric_overflow)
        o = parse_without_numbers(req->body, req->body_len, flags);

    if (o == NULL) {
        /* The key is not named: equal failures keep equal bodies. */
        reply_problem(r, 400,
                      json_error_code(&e) == json_error_duplicate_key
                          ? "request body is not valid JSON: a key appears twice"
                          : "request body is not valid JSON");
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
                      struct outcome_errors *errs)
{
    json_t *v = json_object_get(o, name);

    if (v == NULL || json_is_null(v)) {
        outcome_error_add(errs, name, "missing", "field required");
        return false;
    }
    if (!json_is_string(v)) {
        outcome_error_add(errs, name, "wrong_type", "must be a string");
        return false;
    }
    *s = json_string_value(v);
    *len = json_string_length(v);
    return true;
}

bool api_optional_string(json_t *o, const char *name, const char **s, size_t *len,
                         struct outcome_errors *errs)
{
    json_t *v = json_object_get(o, name);

    *s = NULL;
    *len = 0;
    if (v == NULL || json_is_null(v))
        return false;
    return api_string_field(o, name, s, len, errs);
}

char *api_user_json(const struct user *u)
{
    char when[32];
    json_t *o = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)u->id, "username", u->username,
                          "created_at", timefmt_rfc3339(when, sizeof when, u->created_at));
    char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

    json_decref(o);
    return s;
}

/* Sets the two session cookies (API.md, browser sessions); value NULL
 * clears them. The refresh token only ever travels to /refresh, and only
 * from the site itself (SameSite=Strict); the access token goes with
 * top-level navigations too (Lax), as a login redirect needs. */
void api_session_cookies(const struct api_request *req, struct reply *r, const char *access,
                         const char *refresh)
{
    const struct api_cookies *c = &req->app->cookies;
    const struct sessions_deps *d = &req->app->sessions;
    const char *secure = c->secure ? "; Secure" : "";
    /* COOKIE_DOMAIN shares the sign-in with sibling subdomains; a cookie is
     * cleared with the Domain it was set with. */
    char domain[300] = "";
    char v[JWT_MAX_LEN + 160 + sizeof domain];

    if (!c->enabled)
        return;
    if (c->domain != NULL)
        snprintf(domain, sizeof domain, "; Domain=%s", c->domain);
    snprintf(v, sizeof v, "access_token=%s; Path=/%s; Max-Age=%ld; HttpOnly%s; SameSite=Lax",
             access != NULL ? access : "", domain, access != NULL ? d->access_ttl : 0L, secure);
    reply_header(r, "Set-Cookie", v);
    snprintf(v, sizeof v,
             "refresh_token=%s; Path=/refresh%s; Max-Age=%ld; HttpOnly%s; SameSite=Strict",
             refresh != NULL ? refresh : "", domain, refresh != NULL ? d->refresh_ttl : 0L, secure);
    reply_header(r, "Set-Cookie", v);
    sodium_memzero(v, sizeof v);
}

void api_tokens_reply(const struct api_request *req, struct reply *r, struct session_tokens *t)
{
    json_t *body =
        json_pack("{s:s, s:s, s:i, s:s}", "access_token", t->access_token, "token_type", "bearer",
                  "expires_in", (int)t->expires_in, "refresh_token", t->refresh_token);

    reply_json(r, 200, body != NULL ? json_dumps(body, JSON_COMPACT) : NULL);
    r->no_store = true;
    json_decref(body);
    api_session_cookies(req, r, t->access_token, t->refresh_token);
    sessions_tokens_free(t);
}
