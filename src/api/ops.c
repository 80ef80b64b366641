/* GET /verify (forward authentication), /healthz, /readyz, JWKS. */
#include <stdio.h>
#include <string.h>

#include "api/api_internal.h"

void api_verify(const struct api_request *req, struct reply *r)
{
    struct jwt_claims c;
    char id[24];

    /* No database here: a valid signature and claims are the whole check,
     * which is what makes this the fastest path for nginx auth_request. */
    if (!api_authenticate(req, &c, r))
        return;
    snprintf(id, sizeof id, "%lld", (long long)c.user_id);
    r->status = 204;
    reply_header(r, "X-Auth-User-Id", id);
    reply_header(r, "X-Auth-Username", c.username);
}

void api_healthz(const struct api_request *req, struct reply *r)
{
    (void)req;
    reply_json(r, 200, strdup("{\"status\":\"ok\"}"));
}

void api_readyz(const struct api_request *req, struct reply *r)
{
    if (store_ping(req->app->deps.store) != STORE_OK) {
        reply_problem(r, 503, "the database is unavailable");
        r->retry_after = 1;
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
