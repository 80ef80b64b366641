/* The limits checked before a hashing job is queued (see api.h). */
#include <string.h>

#include "api/api_internal.h"
#include "api/audit.h"
#include "api/pages.h"
#include "util/timefmt.h"

void api_client(const struct api_request *req, struct netaddr *out)
{
    if (netaddr_from_sockaddr(req->client, out) != 0)
        memset(out, 0, sizeof *out);
    netaddr_client_key(out);
}

/* A 429 through the error map, waiting wait seconds (at least one). */
static void throttled(struct reply *r, unsigned wait)
{
    struct outcome_detail d = {0};

    d.retry_after = wait > 0 ? wait : 1;
    errors_problem(r, OUTCOME_THROTTLED, &d);
}

bool api_admit(const struct api_route *route, const struct api_request *req, struct reply *r)
{
    throttle *t = req->app->throttle;
    struct netaddr a;
    int64_t now = timefmt_now();
    unsigned wait = 0;

    if (t == NULL || route->work != API_HASH)
        return true;
    api_client(req, &a);
    /* /token locks by address too, in users_login, once its grant is
     * known to be the password grant: a refresh hashes no password. */
    bool login = route->handle == api_login || route->handle == api_page_signin_submit;
    if (login)
        wait = throttle_address_wait(t, &a, now);
    else if (route->handle == api_register)
        wait = throttle_register_wait(t, &a, now);
    /* A job takes about one hash time; a second is the least Retry-After
     * can say. */
    if (wait == 0 && !throttle_job_begin(t, &a, now))
        wait = 1;
    if (wait == 0)
        return true;
    throttled(r, wait);
    /* Refused before its handler: the audit trail and the outcome counters
     * hear of it here. /token's grant is not known yet (its 429 shows in
     * the request counters by status only). */
    if (login || route->handle == api_register)
        audit_refused_early(req, login);
    return false;
}

void api_release(const struct api_route *route, const struct api_request *req)
{
    struct netaddr a;

    if (req->app->throttle == NULL || route->work != API_HASH)
        return;
    api_client(req, &a);
    throttle_job_end(req->app->throttle, &a);
}
