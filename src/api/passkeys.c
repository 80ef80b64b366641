/* The endpoints of passkeys (API.md, "Passkeys"): POST /me/passkeys/options,
 * POST /me/passkeys, GET /me/passkeys, DELETE /me/passkeys/{id},
 * POST /login/passkey/options, POST /login/passkey. */
#include <string.h>

#include "api/api_internal.h"
#include "store/store.h"
#include "api/audit.h"
#include "util/timefmt.h"

#define ITEM_PREFIX "/me/passkeys/"

/* A 200 of JSON that holds a token (a challenge, a flow_id): not cached. */
static void reply_fresh(struct reply *r, int status, char *json)
{
    reply_json(r, status, json);
    r->no_store = true;
    if (r->body == NULL)
        errors_problem(r, OUTCOME_ERROR, NULL);
}

void api_passkeys_options(const struct api_request *req, struct reply *r)
{
    const struct passkeys_deps *d = &req->app->passkeys;
    struct user u;
    char *json = NULL;
    enum outcome st = OUTCOME_PASSKEYS_OFF;

    if (d->rp_id != NULL)
        st = users_by_token(&req->app->users, &req->token.claims, &u);
    if (st == OUTCOME_OK)
        st = passkeys_register_options(d, &u, timefmt_now(), &json);
    if (st != OUTCOME_OK)
        errors_problem(r, st, NULL);
    else
        reply_fresh(r, 200, json);
}

/* The optional "name" of POST /me/passkeys: NULL when absent or null;
 * false with an error when it is not a string or holds a NUL. */
static bool read_name(json_t *o, const char **name, struct outcome_errors *errs)
{
    int before = errs->count;
    size_t len;

    if (api_optional_string(o, "name", name, &len, errs) && strlen(*name) != len) {
        outcome_error_add(errs, "name", "invalid", "must not hold control characters");
        *name = NULL;
    }
    return errs->count == before;
}

void api_passkeys_add(const struct api_request *req, struct reply *r)
{
    struct outcome_detail d = {0};
    const char *name = NULL;
    char *json = NULL;
    json_t *o = api_parse_object(req, r);

    if (o == NULL)
        return;
    enum outcome st = OUTCOME_INVALID;
    audit_hold_user(req, "passkey.added", NULL);
    if (read_name(o, &name, &d.errors))
        st = passkeys_register(&req->app->passkeys, req->token.claims.user_id, o, name,
                               timefmt_now(), &json, &d);
    audit_passkey(req, "passkey.added", st, d.errors.count > 0 ? d.errors.e[0].code : NULL);
    json_decref(o);
    if (st != OUTCOME_OK)
        errors_problem(r, st, &d);
    else
        reply_fresh(r, 201, json);
}

void api_passkeys_list(const struct api_request *req, struct reply *r)
{
    char *json = NULL;
    enum outcome st = passkeys_list(&req->app->passkeys, req->token.claims.user_id, &json);

    if (st != OUTCOME_OK)
        errors_problem(r, st, NULL);
    else
        reply_fresh(r, 200, json);
}

void api_passkeys_delete(const struct api_request *req, struct reply *r)
{
    const char *id = req->path + strlen(ITEM_PREFIX);
    json_t *o = NULL;
    enum outcome st = OUTCOME_PASSKEYS_OFF;

    if (req->app->passkeys.rp_id != NULL) {
        /* {} or {"code"} / {"recovery_code"}: the step-up (API.md). */
        if ((o = api_parse_object(req, r)) == NULL)
            return;
        if (!api_step_up(req, r, o)) {
            json_decref(o);
            return;
        }
        audit_hold_user(req, "passkey.removed", NULL);
        st = id[0] == '\0' || strchr(id, '/') != NULL
                 ? OUTCOME_NOT_FOUND
                 : passkeys_delete(&req->app->passkeys, req->token.claims.user_id, id);
    }
    json_decref(o);
    audit_passkey(req, "passkey.removed", st, NULL);
    if (st != OUTCOME_OK)
        errors_problem(r, st, NULL);
    else
        r->status = 204;
}

void api_login_passkey_options(const struct api_request *req, struct reply *r)
{
    struct outcome_detail d = {0};
    const char *name = NULL;
    size_t nlen = 0;
    char *json = NULL;
    json_t *o = api_parse_object(req, r);

    if (o == NULL)
        return;
    if (api_optional_string(o, "username", &name, &nlen, &d.errors) &&
        (nlen == 0 || nlen > USERNAME_STORED_MAX))
        /* A name no account could have is refused for what it is; every
         * other name gets options of the same shape. */
        outcome_error_add(&d.errors, "username", nlen == 0 ? "too_short" : "too_long",
                          "must be 1 to %d bytes", USERNAME_STORED_MAX);
    enum outcome st = OUTCOME_INVALID;
    if (d.errors.count == 0)
        st = passkeys_login_options(&req->app->passkeys, name, nlen, timefmt_now(), &json);
    json_decref(o);
    if (st != OUTCOME_OK)
        errors_problem(r, st, &d);
    else
        reply_fresh(r, 200, json);
}

/* {"flow_id": string, "credential": object}; 400/422 into r on failure. */
static json_t *read_login(const struct api_request *req, struct reply *r, const char **flow,
                          size_t *flen, json_t **cred)
{
    struct outcome_detail d = {0};
    json_t *o = api_parse_object(req, r);

    if (o == NULL)
        return NULL;
    api_string_field(o, "flow_id", flow, flen, &d.errors);
    *cred = json_object_get(o, "credential");
    if (*cred == NULL || json_is_null(*cred))
        outcome_error_add(&d.errors, "credential", "missing", "field required");
    else if (!json_is_object(*cred))
        outcome_error_add(&d.errors, "credential", "wrong_type",
                          "must be an object (AuthenticationResponseJSON)");
    if (d.errors.count > 0) {
        json_decref(o);
        errors_problem(r, OUTCOME_INVALID, &d);
        return NULL;
    }
    return o;
}

/* passkeys_login under the client address's throttle: a refused passkey
 * counts as a failed login of the address (core/throttle.h). */
static enum outcome throttled_login(const struct api_request *req, const char *flow, size_t flen,
                                    const json_t *cred, struct user *u, const char **reason,
                                    struct outcome_detail *d)
{
    throttle *t = req->app->throttle;
    struct netaddr from;
    int64_t now = timefmt_now();

    api_client(req, &from);
    if (t != NULL && (d->retry_after = throttle_address_reserve(t, &from, now)) != 0)
        return OUTCOME_THROTTLED;
    enum outcome st = passkeys_login(&req->app->passkeys, flow, flen, cred, now, u, reason);
    if (t != NULL)
        throttle_address_settle(t, &from, st == OUTCOME_PASSKEY_REFUSED, timefmt_now());
    return st;
}

void api_login_passkey(const struct api_request *req, struct reply *r)
{
    struct outcome_detail d = {0};
    struct session_tokens t;
    struct user u = {0};
    const char *flow = NULL, *reason = NULL;
    size_t flen = 0;
    json_t *cred = NULL;
    json_t *o = read_login(req, r, &flow, &flen, &cred);

    if (o == NULL)
        return;
    enum outcome st = OUTCOME_PASSKEYS_OFF;
    /* Login CSRF, as at POST /login (api_password_login). */
    if (req->app->passkeys.rp_id == NULL)
        st = OUTCOME_PASSKEYS_OFF;
    else if (req->app->cookies.enabled && req->origin != NULL && !api_origin_allowed(req))
        st = OUTCOME_CROSS_SITE;
    else
        st = throttled_login(req, flow, flen, cred, &u, &reason, &d);
    if (st == OUTCOME_OK) {
        audit_hold_passkey_login(req, u.username);
        st = sessions_open(&req->app->sessions, &u, JWT_AMR_HWK | JWT_AMR_USER, &t);
        /* A disabled user (or one whose password changed meanwhile) is
         * answered as any passkey that does not verify: nothing more. */
        if (st == OUTCOME_BAD_CREDENTIALS) {
            struct store_admin_user now;
            st = OUTCOME_PASSKEY_REFUSED;
            reason = store_admin_user(req->app->users.store, NULL, u.id, &now) == STORE_OK &&
                             now.disabled
                         ? "disabled"
                         : "credentials_changed";
        }
    }
    json_decref(o);
    audit_passkey_login(req, st, u.username, u.id, reason);
    if (st != OUTCOME_OK) {
        errors_problem(r, st, &d);
        return;
    }
    /* The sign-in page's passkey button: a browser signed in with the
     * session cookies is signed in for single sign-on too (api/sso.c). */
    if (req->app->cookies.enabled)
        api_sso_begin(req, r, t.access_token);
    api_tokens_reply(req, r, &t);
}
