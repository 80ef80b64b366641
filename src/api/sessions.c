/* POST /refresh, POST /logout, PUT /me/password, DELETE /me. */
#include <string.h>

#include "api/api_internal.h"
#include "api/audit.h"

void api_refresh(const struct api_request *req, struct reply *r)
{
    struct outcome_detail d = {0};
    struct session_tokens t;
    const char *tok = NULL;
    size_t len = 0;
    json_t *o = api_parse_object(req, r);

    if (o == NULL)
        return;
    json_t *v = json_object_get(o, "refresh_token");
    if ((v == NULL || json_is_null(v)) && req->app->cookies.enabled &&
        req->refresh_cookie != NULL && req->refresh_cookie[0] != '\0') {
        /* The browser's way: the SameSite=Strict cookie, and, as for every
         * change made on a cookie's strength, an Origin of our own. */
        if (!api_origin_allowed(req)) {
            json_decref(o);
            errors_problem(r, OUTCOME_FORBIDDEN, NULL);
            return;
        }
        tok = req->refresh_cookie;
        len = strlen(tok);
    } else if (!api_string_field(o, "refresh_token", &tok, &len, &d.errors)) {
        json_decref(o);
        errors_problem(r, OUTCOME_INVALID, &d);
        return;
    }
    audit_hold_refresh(req, NULL);
    enum outcome st = sessions_refresh(&req->app->sessions, tok, len, &t);
    audit_refresh(req, NULL, st);
    json_decref(o);
    if (st != OUTCOME_OK) {
        errors_problem(r, st, NULL);
        return;
    }
    api_tokens_reply(req, r, &t);
}

void api_logout(const struct api_request *req, struct reply *r)
{
    struct outcome_detail d = {0};
    enum sessions_scope scope = SESSIONS_LOCAL;
    const char *v = NULL;
    size_t len = 0;

    switch (form_get(&req->query, "scope", &v, &len)) {
    case FORM_ABSENT:
        /* form_get counts "scope=" as absent (RFC 6749's rule); here an
         * empty scope is refused, not taken for the default. */
        for (size_t i = 0; i < req->query.count; i++)
            if (strcmp(req->query.fields[i].name, "scope") == 0)
                v = "";
        break;
    case FORM_FOUND: break;
    case FORM_REPEATED: v = ""; break;
    }
    if (v != NULL && strcmp(v, "local") == 0)
        scope = SESSIONS_LOCAL;
    else if (v != NULL && strcmp(v, "global") == 0)
        scope = SESSIONS_GLOBAL;
    else if (v != NULL && strcmp(v, "others") == 0)
        scope = SESSIONS_OTHERS;
    else if (v != NULL) {
        outcome_error_add(&d.errors, "scope", "invalid", "must be local, global or others");
        errors_problem(r, OUTCOME_INVALID, &d);
        return;
    }
    audit_hold_user(req, "logout", v != NULL ? v : "local");
    enum outcome st = sessions_logout(&req->app->sessions, &req->token.claims, scope);
    audit_user(req, "logout", st, v != NULL ? v : "local");
    if (st != OUTCOME_OK) {
        errors_problem(r, st, NULL);
        return;
    }
    r->status = 204;
    /* The browser forgets a session it has just ended here (not those
     * ended elsewhere by scope=others). */
    if (scope == SESSIONS_OTHERS)
        return;
    api_session_cookies(req, r, NULL, NULL);
    /* Ending the browser's sign-in ends its single sign-on too, and what
     * clients got from it (API.md, "Single sign-on"); and the browser's
     * gatehouse_sso cookie, cleared here, ends with its own session, which
     * need not be the token's: left live, nothing could end it. */
    if (api_sso_on(req)) {
        st = oidc_logout(&req->app->sessions, req->token.claims.sid);
        if (st == OUTCOME_OK)
            st = api_sso_end(req, r, NULL);
        if (st != OUTCOME_OK) {
            reply_free(r);
            errors_problem(r, st, NULL);
            return;
        }
    }
}

/* Fetches two required string fields of the JSON body; the 400/422 into r
 * (and NULL) on failure. */
static json_t *read_two(const struct api_request *req, struct reply *r, const char *n1,
                        const char **v1, size_t *l1, const char *n2, const char **v2, size_t *l2)
{
    struct outcome_detail d = {0};
    json_t *o = api_parse_object(req, r);

    if (o == NULL)
        return NULL;
    api_string_field(o, n1, v1, l1, &d.errors);
    if (n2 != NULL)
        api_string_field(o, n2, v2, l2, &d.errors);
    if (d.errors.count > 0) {
        json_decref(o);
        errors_problem(r, OUTCOME_INVALID, &d);
        return NULL;
    }
    return o;
}

void api_change_password(const struct api_request *req, struct reply *r)
{
    struct outcome_detail d = {0};
    struct netaddr from;
    const char *cur = NULL, *next = NULL;
    size_t clen = 0, nlen = 0;
    json_t *o = read_two(req, r, "current_password", &cur, &clen, "new_password", &next, &nlen);

    if (o == NULL)
        return;
    /* The second factor first: a right password forgets the account's
     * failures (api_step_up). */
    if (!api_step_up(req, r, o)) {
        json_decref(o);
        return;
    }
    api_client(req, &from);
    audit_hold_user(req, "password.changed", NULL);
    enum outcome st =
        users_change_password(&req->app->users, req->app->throttle, &from, &req->app->sessions,
                              &req->token.claims, cur, clen, next, nlen, &d);
    audit_user(req, "password.changed", st, NULL);
    json_decref(o);
    if (st != OUTCOME_OK)
        errors_problem(r, st, &d);
    else
        r->status = 204;
}

void api_delete_me(const struct api_request *req, struct reply *r)
{
    struct outcome_detail d = {0};
    struct netaddr from;
    const char *pw = NULL;
    size_t plen = 0;
    json_t *o = read_two(req, r, "password", &pw, &plen, NULL, NULL, NULL);

    if (o == NULL)
        return;
    if (!api_step_up(req, r, o)) {
        json_decref(o);
        return;
    }
    api_client(req, &from);
    audit_hold_user(req, "account.deleted", NULL);
    enum outcome st = users_delete(&req->app->users, req->app->throttle, &from, &req->app->sessions,
                                   &req->token.claims, pw, plen, &d);
    audit_user(req, "account.deleted", st, NULL);
    json_decref(o);
    if (st != OUTCOME_OK) {
        errors_problem(r, st, &d);
        return;
    }
    r->status = 204;
    api_session_cookies(req, r, NULL, NULL);
}
