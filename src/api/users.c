/* POST /register, POST /login, GET /me. */
#include "api/api_internal.h"
#include "api/audit.h"
#include "util/timefmt.h"

/* Reads {"username": string, "password": string}; 400/422 into r on failure. */
static json_t *read_credentials(const struct api_request *req, struct reply *r, const char **u,
                                size_t *ulen, const char **p, size_t *plen)
{
    struct outcome_detail d = {0};
    json_t *o = api_parse_object(req, r);

    if (o == NULL)
        return NULL;
    api_string_field(o, "username", u, ulen, &d.errors);
    api_string_field(o, "password", p, plen, &d.errors);
    if (d.errors.count > 0) {
        errors_problem(r, OUTCOME_INVALID, &d);
        json_decref(o);
        return NULL;
    }
    return o;
}

void api_register(const struct api_request *req, struct reply *r)
{
    const char *u = NULL, *p = NULL;
    size_t ulen = 0, plen = 0;
    struct outcome_detail d = {0};
    struct user user;
    json_t *o = read_credentials(req, r, &u, &ulen, &p, &plen);

    if (o == NULL)
        return;
    enum outcome st = users_register(&req->app->users, u, ulen, p, plen, &user, &d);
    audit_register(req, st, u, st == OUTCOME_OK ? user.id : 0);
    json_decref(o);
    /* What spent a hash counts against the address (THROTTLE_REGISTRATIONS):
     * a registration, or one refused for a taken name. */
    if (req->app->throttle != NULL && (st == OUTCOME_OK || st == OUTCOME_CONFLICT)) {
        struct netaddr a;
        api_client(req, &a);
        throttle_register_done(req->app->throttle, &a, timefmt_now());
    }
    if (st != OUTCOME_OK)
        errors_problem(r, st, &d);
    else
        reply_json(r, 200, api_user_json(&user)); /* 200, as the original app answers */
}

enum outcome api_password_login(const struct api_request *req, const char *grant, const char *u,
                                size_t ulen, const char *p, size_t plen, struct session_tokens *t,
                                struct outcome_detail *d)
{
    struct user user = {0};
    struct netaddr from;
    enum outcome st;

    /* Login CSRF: a cross-site form posted here would set the victim's
     * cookies to the attacker's account. A browser sends Origin with every
     * cross-site POST, so the cookie rule's Origin check applies; a client
     * that sends none is no browser's form. */
    if (req->app->cookies.enabled && req->origin != NULL && !api_origin_allowed(req)) {
        st = OUTCOME_CROSS_SITE;
    } else {
        /* One answer for an unknown user and a wrong password, and the
         * same throttling, at both doors. */
        api_client(req, &from);
        st = users_login(&req->app->users, req->app->throttle, &from, u, ulen, p, plen, &user, d);
        if (st == OUTCOME_OK)
            st = sessions_open(&req->app->sessions, &user, t);
    }
    audit_login(req, grant, st, u, st == OUTCOME_OK ? user.id : 0);
    return st;
}

void api_login(const struct api_request *req, struct reply *r)
{
    const char *u = NULL, *p = NULL;
    size_t ulen = 0, plen = 0;
    struct session_tokens t;
    struct outcome_detail d = {0};
    json_t *o = read_credentials(req, r, &u, &ulen, &p, &plen);

    if (o == NULL)
        return;
    enum outcome st = api_password_login(req, NULL, u, ulen, p, plen, &t, &d);
    json_decref(o);
    if (st != OUTCOME_OK) {
        errors_problem(r, st, &d);
        return;
    }
    api_tokens_reply(req, r, &t);
}

void api_me(const struct api_request *req, struct reply *r)
{
    struct user u;
    /* The route verified the token (API_AUTH_*); the user may be gone since. */
    enum outcome st = users_by_token(&req->app->users, &req->token.claims, &u);

    if (st != OUTCOME_OK)
        errors_problem(r, st, NULL);
    else
        reply_json(r, 200, api_user_json(&u));
}
