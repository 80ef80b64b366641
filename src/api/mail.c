/* The endpoints of addresses and mailed links: POST /email/verify,
 * POST /email/confirm, PUT /me/email, POST /password/forgot,
 * POST /password/reset (API.md, "Email"), and the address part of
 * POST /register. */
#include <stdlib.h>

#include "api/api_internal.h"
#include "api/pages.h"
#include "api/audit.h"
#include "core/emails.h"
#include "core/i18n.h"
#include "core/username.h"
#include "util/timefmt.h"

const char *api_mail_lang(const struct api_request *req)
{
    return i18n_lang(req->accept_language);
}

/* The per-address limit of requests that may mail (THROTTLE_MAIL_REQUESTS):
 * false with the 429 in r when the address has used its window up. */
static bool mail_admitted(const struct api_request *req, struct reply *r)
{
    struct outcome_detail d = {0};
    struct netaddr a;

    if (req->app->throttle == NULL)
        return true;
    api_client(req, &a);
    d.retry_after = throttle_mail_take(req->app->throttle, &a, timefmt_now());
    if (d.retry_after == 0)
        return true;
    errors_problem(r, OUTCOME_THROTTLED, &d);
    return false;
}

/* The 202 of a request whose mail goes out later; its body is the same
 * whatever happened, for POST /password/forgot above all. */
static void accepted(struct reply *r, const char *detail)
{
    json_t *o = json_pack("{s:s}", "detail", detail);

    reply_json(r, 202, o != NULL ? json_dumps(o, JSON_COMPACT) : NULL);
    json_decref(o);
    if (r->body == NULL)
        errors_problem(r, OUTCOME_ERROR, NULL);
}

void api_email_error(struct outcome_errors *errs, const char *field, enum emails_check c)
{
    switch (c) {
    case EMAILS_OK: break;
    case EMAILS_TOO_LONG:
        outcome_error_add(errs, field, "too_long",
                          "must be at most %d bytes, its part before the @ at most %d", EMAILS_MAX,
                          EMAILS_LOCAL_MAX);
        break;
    case EMAILS_NO_AT:
        outcome_error_add(errs, field, "invalid", "must be one address such as name@example.com");
        break;
    case EMAILS_BAD_LOCAL:
        outcome_error_add(errs, field, "invalid_local_part",
                          "the part before the @ may hold only ASCII letters, digits, "
                          "!#$%%&'*+-/=?^_`{|}~ and single dots between them");
        break;
    case EMAILS_BAD_DOMAIN:
        outcome_error_add(errs, field, "invalid_domain",
                          "the part after the @ must be a domain name with a dot, of ASCII "
                          "letters, digits and hyphens (an international name in its xn-- form)");
        break;
    }
}

void api_email_verify(const struct api_request *req, struct reply *r)
{
    struct outcome_detail d = {0};
    enum outcome st = OUTCOME_MAIL_OFF;

    if (req->app->emails.mailer != NULL) {
        if (!mail_admitted(req, r))
            return;
        st = emails_verify(&req->app->emails, &req->token.claims, api_mail_lang(req), &d);
    }
    audit_user(req, "email.verify_requested", st, NULL);
    if (st != OUTCOME_OK)
        errors_problem(r, st, &d);
    else
        accepted(r, "a confirmation link is on its way to the account's address");
}

void api_email_confirm(const struct api_request *req, struct reply *r)
{
    struct outcome_detail d = {0};
    const char *tok = NULL;
    size_t tlen = 0;

    /* The confirmation page's form (api/pages.h) answers with a page. */
    if (api_form_body(req)) {
        api_page_confirm_submit(req, r);
        return;
    }
    json_t *o = api_parse_object(req, r);
    if (o == NULL)
        return;
    if (!api_string_field(o, "token", &tok, &tlen, &d.errors)) {
        json_decref(o);
        errors_problem(r, OUTCOME_INVALID, &d);
        return;
    }
    audit_hold_mail(req, "email.confirmed");
    enum outcome st = emails_confirm(&req->app->emails, tok, tlen, &d);
    json_decref(o);
    audit_mail(req, "email.confirmed", st);
    if (st != OUTCOME_OK)
        errors_problem(r, st, &d);
    else
        r->status = 204;
}

void api_change_email(const struct api_request *req, struct reply *r)
{
    struct outcome_detail d = {0};
    const char *email = NULL, *pw = NULL;
    size_t elen = 0, plen = 0;
    bool taken = false;
    json_t *o = api_parse_object(req, r);

    if (o == NULL)
        return;
    if (api_string_field(o, "email", &email, &elen, &d.errors))
        api_email_error(&d.errors, "email", emails_check(email, elen));
    api_string_field(o, "password", &pw, &plen, &d.errors);
    enum outcome st = OUTCOME_INVALID;
    if (d.errors.count == 0) {
        st = OUTCOME_MAIL_OFF;
        /* Without mail nothing changes: no code is spent on it. */
        if (req->app->emails.mailer != NULL &&
            (!api_step_up(req, r, o) || !mail_admitted(req, r))) {
            json_decref(o);
            return;
        }
        struct netaddr from;
        api_client(req, &from);
        st = emails_change(&req->app->emails, &from, &req->token.claims, pw, plen, email, elen,
                           api_mail_lang(req), &taken, &d);
    }
    json_decref(o);
    audit_user(req, "email.change_requested", st, NULL);
    if (st != OUTCOME_OK)
        errors_problem(r, st, &d);
    else
        accepted(r, "a confirmation link is on its way to the new address");
}

/* The resolution of a POST /password/forgot, after its answer. */
struct forgot_job {
    const struct emails_deps *e;
    int64_t id;
};

static void resolve_job(void *arg)
{
    struct forgot_job *j = arg;

    emails_resolve(j->e, j->id);
    free(j);
}

/* Reads {"username"} or {"email"}, exactly one; 400/422 into r on failure. */
static json_t *read_forgot(const struct api_request *req, struct reply *r, bool *by_email,
                           const char **name, size_t *nlen)
{
    struct outcome_detail d = {0};
    json_t *o = api_parse_object(req, r);

    if (o == NULL)
        return NULL;
    *by_email = json_object_get(o, "email") != NULL && !json_is_null(json_object_get(o, "email"));
    bool by_name =
        json_object_get(o, "username") != NULL && !json_is_null(json_object_get(o, "username"));
    if (*by_email && by_name) {
        outcome_error_add(&d.errors, "email", "conflicting", "give username or email, not both");
    } else if (*by_email) {
        if (api_string_field(o, "email", name, nlen, &d.errors))
            api_email_error(&d.errors, "email", emails_check(*name, *nlen));
    } else if (api_string_field(o, "username", name, nlen, &d.errors)) {
        /* A name no account could have is refused for what it is; every
         * other name gets the same answer. */
        if (*nlen == 0 || *nlen > USERNAME_STORED_MAX)
            outcome_error_add(&d.errors, "username", *nlen == 0 ? "too_short" : "too_long",
                              "must be 1 to %d bytes", USERNAME_STORED_MAX);
    }
    if (d.errors.count > 0) {
        json_decref(o);
        errors_problem(r, OUTCOME_INVALID, &d);
        return NULL;
    }
    return o;
}

void api_password_forgot(const struct api_request *req, struct reply *r)
{
    const char *name = NULL;
    size_t nlen = 0;
    bool by_email = false;
    int64_t id = 0;
    json_t *o = read_forgot(req, r, &by_email, &name, &nlen);

    if (o == NULL)
        return;
    enum outcome st = OUTCOME_MAIL_OFF;
    if (req->app->emails.mailer != NULL) {
        if (!mail_admitted(req, r)) {
            json_decref(o);
            return;
        }
        st = emails_forgot(&req->app->emails, by_email, name, nlen, api_mail_lang(req), &id);
    }
    json_decref(o);
    audit_mail(req, "password.reset_requested", st);
    if (st != OUTCOME_OK) {
        errors_problem(r, st, NULL);
        return;
    }
    /* The request is stored: it is resolved by a database worker right
     * after this answer, or, if the queue is full or the process stops
     * first, by the next sweep (emails_resolve_pending). */
    struct forgot_job *j = malloc(sizeof *j);
    if (j != NULL) {
        *j = (struct forgot_job){&req->app->emails, id};
        if (req->app->db_jobs == NULL || pool_submit(req->app->db_jobs, resolve_job, j) != 0)
            free(j);
    }
    accepted(r, "if the account exists and has an address, a reset link is on its way");
}

void api_password_reset(const struct api_request *req, struct reply *r)
{
    struct outcome_detail d = {0};
    const char *tok = NULL, *pw = NULL;
    size_t tlen = 0, plen = 0;

    /* The reset page's form (api/pages.h) answers with a page. */
    if (api_form_body(req)) {
        api_page_reset_submit(req, r);
        return;
    }
    json_t *o = api_parse_object(req, r);
    if (o == NULL)
        return;
    api_string_field(o, "token", &tok, &tlen, &d.errors);
    api_string_field(o, "new_password", &pw, &plen, &d.errors);
    enum outcome st = OUTCOME_INVALID;
    audit_hold_mail(req, "password.reset");
    if (d.errors.count == 0)
        st = emails_reset_password(&req->app->emails, tok, tlen, pw, plen, &d);
    json_decref(o);
    audit_mail(req, "password.reset", st);
    if (st != OUTCOME_OK)
        errors_problem(r, st, &d);
    else
        r->status = 204;
}
