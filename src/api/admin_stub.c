/* A stand-in for h-admin's admin authorization (API.md, "Administration,
 * roles and access rules") until that branch brings it: an API key with
 * role admin, or a gatehouse access token (Bearer) whose user, read now,
 * is not disabled and has role admin. Removed at the merge. */
#include <stdio.h>

#include "api/api_internal.h"
#include "core/admin.h"
#include "core/roles.h"
#include "util/timefmt.h"

bool api_admin_authorize(const struct api_request *req, struct reply *r,
                         char actor[STORE_AUDIT_ACTOR_MAX + 1])
{
    size_t len = 0;
    bool from_cookie = false;
    const char *tok = api_find_token(req->authorization, NULL, API_AUTH_BEARER, &len, &from_cookie);
    store *s = req->app->users.store;

    if (tok == NULL) {
        errors_problem(r, OUTCOME_UNAUTHENTICATED, NULL);
        return false;
    }
    if (admin_is_apikey(tok, len)) {
        struct store_apikey k;
        if (admin_apikey_find(s, tok, len, &k) != OUTCOME_OK) {
            errors_problem(r, OUTCOME_TOKEN_INVALID, NULL);
            return false;
        }
        if (!roles_has(k.roles, "admin")) {
            reply_problem(r, 403, "an administrator's key or token is needed");
            return false;
        }
        snprintf(actor, STORE_AUDIT_ACTOR_MAX + 1, "apikey:%s", k.id);
        return true;
    }
    struct jwt_claims c;
    struct store_user u;
    if (sessions_verify_access(&req->app->sessions, tok, len, timefmt_now(), &c) != OUTCOME_OK ||
        store_user_by_id(s, NULL, c.user_id, &u) != STORE_OK) {
        errors_problem(r, OUTCOME_TOKEN_INVALID, NULL);
        return false;
    }
    if (u.disabled || !roles_has(u.roles, "admin")) {
        reply_problem(r, 403, "an administrator's key or token is needed");
        return false;
    }
    snprintf(actor, STORE_AUDIT_ACTOR_MAX + 1, "user:%lld", (long long)u.id);
    return true;
}
