/* GET /verify (forward authentication), /healthz, /readyz, JWKS. */
#include <stdio.h>
#include <string.h>

#include "api/api_internal.h"

void api_verify(const struct api_request *req, struct reply *r)
{
    char id[24];

    /* No database here: the route verified the token's signature and claims
     * and looked its session up in the in-memory revocation set, which is
     * the whole check and what makes this the fastest path for nginx
     * auth_request. */
    snprintf(id, sizeof id, "%lld", (long long)req->token.claims.user_id);
    r->status = 204;
    reply_header(r, "X-Auth-User-Id", id);
    reply_header(r, "X-Auth-Username", req->token.claims.username);
}

void api_healthz(const struct api_request *req, struct reply *r)
{
    (void)req;
    reply_json(r, 200, strdup("{\"status\":\"ok\"}"));
}

void api_readyz(const struct api_request *req, struct reply *r)
{
    /* Any failure to answer is "not ready": a load balancer needs no more. */
    if (store_ping(req->app->users.store) != STORE_OK) {
        errors_problem(r, OUTCOME_UNAVAILABLE, NULL);
        return;
    }
    reply_json(r, 200, strdup("{\"status\":\"ok\"}"));
}

void api_jwks(const struct api_request *req, struct reply *r)
{
    (void)req;
    /* HS256 keys are secret: there is nothing public to publish. */
    reply_json(r, 200, strdup("{\"keys\":[]}"));
}
