/* POST /register, POST /login, GET /me. */
#include <string.h>

#include "api/api_internal.h"
#include "api/audit.h"
#include "util/log.h"
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

/* The optional "email" of POST /register: NULL when absent (or null);
 * errors added when it is not an acceptable address. */
static const char *read_email(json_t *o, size_t *len, struct outcome_errors *errs)
{
    const char *e;

    if (!api_optional_string(o, "email", &e, len, errs))
        return NULL;
    api_email_error(errs, "email", emails_check(e, *len));
    return e;
}

/* A new user's address (POST /register): given to the account, or, when
 * another account has it, the account keeps none and the answer is the
 * same. A failure here does not undo the registration: the user can add an
 * address with PUT /me/email. */
static void register_email(const struct api_request *req, const struct user *u, const char *e,
                           size_t elen)
{
    bool taken = false;
    enum outcome st = emails_register(&req->app->emails, u, e, elen, api_mail_lang(req), &taken);

    if (taken)
        audit_email_taken(req, u->id);
    if (st != OUTCOME_OK)
        log_error("user %lld: storing or mailing its address failed (%s)", (long long)u->id,
                  outcome_name(st));
}

void api_register(const struct api_request *req, struct reply *r)
{
    const char *u = NULL, *p = NULL, *e = NULL;
    size_t ulen = 0, plen = 0, elen = 0;
    struct outcome_detail d = {0};
    struct user user;
    json_t *o = api_parse_object(req, r);

    if (o == NULL)
        return;
    api_string_field(o, "username", &u, &ulen, &d.errors);
    api_string_field(o, "password", &p, &plen, &d.errors);
    e = read_email(o, &elen, &d.errors);
    enum outcome st = OUTCOME_INVALID;
    audit_hold_register(req, u);
    if (d.errors.count == 0)
        st = users_register(&req->app->users, u, ulen, p, plen, &user, &d);
    audit_register(req, st, u, st == OUTCOME_OK ? user.id : 0);
    if (st == OUTCOME_OK && e != NULL)
        register_email(req, &user, e, elen);
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
                                struct api_mfa_step *mfa, struct outcome_detail *d)
{
    struct user user = {0};
    struct netaddr from;
    enum outcome st;

    memset(t, 0, sizeof *t);
    memset(mfa, 0, sizeof *mfa);
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
        audit_hold_login(req, grant, u);
        st = users_login(&req->app->users, req->app->throttle, &from, u, ulen, p, plen, &user, d);
        /* Only a right password learns whether a second factor follows. */
        if (st == OUTCOME_OK)
            st = api_mfa_step_begin(req, &user, mfa);
        if (st == OUTCOME_OK) {
            users_login_done(&req->app->users, req->app->throttle, user.id);
            st = sessions_open(&req->app->sessions, &user, JWT_AMR_PWD, t);
        }
    }
    if (st == OUTCOME_BAD_CREDENTIALS && d->reason != NULL)
        audit_login_refused(req, grant, u, user.id, d->reason);
    else
        audit_login(req, grant, st, u,
                    st == OUTCOME_OK || st == OUTCOME_MFA_REQUIRED ? user.id : 0);
    return st;
}

void api_login(const struct api_request *req, struct reply *r)
{
    const char *u = NULL, *p = NULL;
    size_t ulen = 0, plen = 0;
    struct session_tokens t;
    struct api_mfa_step mfa;
    struct outcome_detail d = {0};
    json_t *o = read_credentials(req, r, &u, &ulen, &p, &plen);

    if (o == NULL)
        return;
    enum outcome st = api_password_login(req, NULL, u, ulen, p, plen, &t, &mfa, &d);
    json_decref(o);
    if (st == OUTCOME_MFA_REQUIRED) {
        /* No session and no cookies yet: the step, not to be cached. */
        reply_json(r, 200, api_mfa_step_json(&mfa));
        r->no_store = true;
        api_mfa_step_free(&mfa);
        if (r->body == NULL)
            errors_problem(r, OUTCOME_ERROR, NULL);
        return;
    }
    if (st != OUTCOME_OK) {
        errors_problem(r, st, &d);
        return;
    }
    api_tokens_reply(req, r, &t);
}

/* GET /me: the user with its address ("email": null when none). */
static char *me_json(const struct user *u, const struct emails_address *a)
{
    char when[32];
    json_t *o = json_pack(
        "{s:I, s:s, s:s, s:o, s:b}", "id", (json_int_t)u->id, "username", u->username, "created_at",
        timefmt_rfc3339(when, sizeof when, u->created_at), "email",
        a->email[0] != '\0' ? json_string(a->email) : json_null(), "email_verified", a->verified);
    char *s = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

    json_decref(o);
    return s;
}

void api_me(const struct api_request *req, struct reply *r)
{
    struct user u;
    struct emails_address a;
    /* The route verified the token (API_AUTH_*); the user may be gone since. */
    enum outcome st = users_by_token(&req->app->users, &req->token.claims, &u);

    if (st == OUTCOME_OK)
        st = emails_of_user(&req->app->emails, u.id, &a);
    if (st != OUTCOME_OK)
        errors_problem(r, st, NULL);
    else
        reply_json(r, 200, me_json(&u, &a));
}
