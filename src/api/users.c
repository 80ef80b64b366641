/* POST /register, POST /login, GET /me. */
#include <stdio.h>

#include "api/api_internal.h"

/* Reads {"username": string, "password": string}; 400/422 into r on failure. */
static json_t *read_credentials(const struct api_request *req, struct reply *r, const char **u,
                                size_t *ulen, const char **p, size_t *plen)
{
    struct account_errors errs = {0};
    json_t *o = api_parse_object(req, r);

    if (o == NULL)
        return NULL;
    api_string_field(o, "username", u, ulen, &errs);
    api_string_field(o, "password", p, plen, &errs);
    if (errs.count > 0) {
        reply_invalid(r, &errs);
        json_decref(o);
        return NULL;
    }
    return o;
}

void api_register(const struct api_request *req, struct reply *r)
{
    const char *u = NULL, *p = NULL;
    size_t ulen = 0, plen = 0;
    struct account_errors errs = {0};
    struct store_user user;
    json_t *o = read_credentials(req, r, &u, &ulen, &p, &plen);

    if (o == NULL)
        return;
    enum account_status st = account_register(&req->app->deps, u, ulen, p, plen, &user, &errs);
    json_decref(o);
    if (st == ACCOUNT_OK)
        reply_json(r, 200, api_user_json(&user)); /* 200, as the original app answers */
    else if (st == ACCOUNT_INVALID)
        reply_invalid(r, &errs);
    else
        api_account_failure(r, st);
}

void api_login(const struct api_request *req, struct reply *r)
{
    const char *u = NULL, *p = NULL;
    size_t ulen = 0, plen = 0;
    struct account_tokens t;
    json_t *o = read_credentials(req, r, &u, &ulen, &p, &plen);

    if (o == NULL)
        return;
    enum account_status st = account_login(&req->app->deps, u, ulen, p, plen, &t);
    json_decref(o);
    if (st != ACCOUNT_OK) {
        api_account_failure(r, st);
        return;
    }
    api_tokens_reply(r, &t);
}

void api_me(const struct api_request *req, struct reply *r)
{
    struct jwt_claims c;
    struct store_user u;

    if (!api_authenticate(req, &c, r))
        return;
    enum account_status st = account_me(&req->app->deps, &c, &u);
    if (st == ACCOUNT_UNAUTHORIZED) {
        reply_problem(r, 401, "Could not validate credentials");
        reply_header(r, "WWW-Authenticate", "Bearer error=\"invalid_token\"");
    } else if (st != ACCOUNT_OK) {
        api_account_failure(r, st);
    } else {
        reply_json(r, 200, api_user_json(&u));
    }
}
