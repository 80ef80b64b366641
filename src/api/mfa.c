/* TOTP and recovery codes (API.md, "TOTP and recovery codes"), and the
 * step-up of the changes that need a second factor. */
#include <sodium.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/audit.h"
#include "util/timefmt.h"

/* The limits of a TOTP code as sent: 1 to MFA_CODE_MAX digits. A wrong
 * number of digits within them is a wrong code (401 or 422 by the
 * endpoint), not malformed input. */
static void check_code(const char *name, const char *c, size_t len, struct outcome_errors *errs)
{
    if (len == 0) {
        outcome_error_add(errs, name, "empty", "must not be empty");
        return;
    }
    if (len > MFA_CODE_MAX) {
        outcome_error_add(errs, name, "too_long", "must be at most %d digits", MFA_CODE_MAX);
        return;
    }
    for (size_t i = 0; i < len; i++) {
        if (c[i] < '0' || c[i] > '9') {
            outcome_error_add(errs, name, "invalid_characters", "must be digits only");
            return;
        }
    }
}

static void check_recovery(const char *r, size_t len, struct outcome_errors *errs)
{
    (void)r;
    if (len == 0)
        outcome_error_add(errs, "recovery_code", "empty", "must not be empty");
    else if (len > MFA_RECOVERY_CODE_MAX)
        outcome_error_add(errs, "recovery_code", "too_long", "must be at most %d characters",
                          MFA_RECOVERY_CODE_MAX);
}

struct step_up {
    const struct mfa_deps *mfa;
    const struct jwt_claims *claims;
    const char *code, *recovery;
    size_t clen, rlen;
    int64_t now;
};

static enum outcome step_up_check(void *arg)
{
    const struct step_up *s = arg;

    return mfa_step_up(s->mfa, s->claims, s->code, s->clen, s->recovery, s->rlen, s->now);
}

bool api_step_up(const struct api_request *req, struct reply *r, json_t *body)
{
    struct outcome_detail d = {0};
    struct step_up s = {&req->app->mfa, &req->token.claims, NULL, NULL, 0, 0, timefmt_now()};

    api_optional_string(body, "code", &s.code, &s.clen, &d.errors);
    api_optional_string(body, "recovery_code", &s.recovery, &s.rlen, &d.errors);
    if (s.code != NULL)
        check_code("code", s.code, s.clen, &d.errors);
    if (s.recovery != NULL)
        check_recovery(s.recovery, s.rlen, &d.errors);
    if (s.code != NULL && s.recovery != NULL)
        outcome_error_add(&d.errors, "recovery_code", "conflicting",
                          "give code or recovery_code, not both");
    if (d.errors.count > 0) {
        errors_problem(r, OUTCOME_INVALID, &d);
        return false;
    }
    enum outcome o;
    if (s.code == NULL && s.recovery == NULL) {
        /* Nothing to guess at: no count. */
        o = step_up_check(&s);
    } else {
        struct netaddr from;
        api_client(req, &from);
        o = users_code_attempt(&req->app->users, req->app->throttle, &from,
                               req->token.claims.user_id, step_up_check, &s, &d);
    }
    audit_step_up(req, o);
    if (o == OUTCOME_OK)
        return true;
    errors_problem(r, o, &d);
    return false;
}

/* The password of a change, checked as PUT /me/email checks it (throttled
 * as a login of the account); *u filled on OUTCOME_OK. */
static enum outcome recheck(const struct api_request *req, const char *pw, size_t plen,
                            struct user *u, struct outcome_detail *d)
{
    struct netaddr from;

    api_client(req, &from);
    return users_recheck(&req->app->users, req->app->throttle, &from, &req->token.claims, pw, plen,
                         u, d);
}

/* 200 {"recovery_codes": [...]}, not to be cached; wipes codes. */
static void codes_reply(struct reply *r, char codes[MFA_RECOVERY_CODES][MFA_RECOVERY_CODE_MAX + 1])
{
    json_t *a = json_array();

    for (int i = 0; i < MFA_RECOVERY_CODES && a != NULL; i++)
        json_array_append_new(a, json_string(codes[i]));
    sodium_memzero(codes, sizeof(char[MFA_RECOVERY_CODES][MFA_RECOVERY_CODE_MAX + 1]));
    json_t *o = a != NULL ? json_pack("{s:o}", "recovery_codes", a) : NULL;
    char *s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (s == NULL) {
        errors_problem(r, OUTCOME_ERROR, NULL);
        return;
    }
    reply_json(r, 200, s);
    r->no_store = true;
}

enum outcome api_totp_begin_check(const struct api_request *req, const char *pw, size_t plen,
                                  struct user *u, struct outcome_detail *d)
{
    unsigned methods = 0;
    enum outcome o = mfa_methods(&req->app->mfa, req->token.claims.user_id, &methods);

    if (o != OUTCOME_OK)
        return o;
    if ((methods & MFA_TOTP) != 0)
        return OUTCOME_CONFLICT;
    return recheck(req, pw, plen, u, d);
}

/* POST /me/mfa/totp {"password"}: a new pending secret. */
void api_mfa_totp_begin(const struct api_request *req, struct reply *r)
{
    struct outcome_detail d = {0};
    const char *pw = NULL;
    size_t plen = 0;
    struct user u;
    struct mfa_setup setup = {0};
    json_t *o = api_parse_object(req, r);

    if (o == NULL)
        return;
    enum outcome st = OUTCOME_INVALID;
    if (api_string_field(o, "password", &pw, &plen, &d.errors))
        st = api_totp_begin_check(req, pw, plen, &u, &d);
    json_decref(o);
    if (st == OUTCOME_OK)
        st = mfa_totp_begin(&req->app->mfa, &u, timefmt_now(), &setup);
    audit_user(req, "mfa.totp_enrolment_started", st, NULL);
    if (st == OUTCOME_CONFLICT) {
        /* The map's 409 speaks of usernames. */
        reply_problem(r, errors_status(st), "totp: already on; turn it off first");
        return;
    }
    if (st != OUTCOME_OK) {
        errors_problem(r, st, &d);
        return;
    }
    json_t *j = json_pack("{s:s, s:s, s:s}", "secret", setup.secret, "otpauth_uri",
                          setup.otpauth_uri, "qr_svg", setup.qr_svg);
    char *s = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    mfa_setup_free(&setup);
    if (s == NULL) {
        errors_problem(r, OUTCOME_ERROR, NULL);
        return;
    }
    reply_json(r, 200, s);
    r->no_store = true;
}

struct confirm {
    const struct api_request *req;
    const char *code;
    size_t clen;
    char (*codes)[MFA_RECOVERY_CODE_MAX + 1];
};

/* A wrong code is a wrong code to the throttle (users_code_attempt), and
 * a 422 to the client (API.md). */
static enum outcome confirm_check(void *arg)
{
    struct confirm *c = arg;
    enum outcome o = mfa_totp_confirm(&c->req->app->mfa, c->req->token.claims.user_id, c->code,
                                      c->clen, timefmt_now(), c->codes);

    return o == OUTCOME_INVALID ? OUTCOME_BAD_CODE : o;
}

enum outcome api_totp_confirm(const struct api_request *req, const char *code, size_t clen,
                              char codes[MFA_RECOVERY_CODES][MFA_RECOVERY_CODE_MAX + 1],
                              struct outcome_detail *d)
{
    struct confirm c = {req, code, clen, codes};
    struct netaddr from;

    api_client(req, &from);
    return users_code_attempt(&req->app->users, req->app->throttle, &from,
                              req->token.claims.user_id, confirm_check, &c, d);
}

/* POST /me/mfa/totp/confirm {"code"}: TOTP on, and its recovery codes. */
void api_mfa_totp_confirm(const struct api_request *req, struct reply *r)
{
    struct outcome_detail d = {0};
    char codes[MFA_RECOVERY_CODES][MFA_RECOVERY_CODE_MAX + 1];
    const char *code = NULL;
    size_t clen = 0;
    json_t *o = api_parse_object(req, r);

    if (o == NULL)
        return;
    if (api_string_field(o, "code", &code, &clen, &d.errors))
        check_code("code", code, clen, &d.errors);
    enum outcome st = OUTCOME_INVALID;
    audit_hold_user(req, "mfa.totp_enabled", NULL);
    if (d.errors.count == 0) {
        st = api_totp_confirm(req, code, clen, codes, &d);
        if (st == OUTCOME_BAD_CODE) {
            st = OUTCOME_INVALID;
            outcome_error_add(&d.errors, "code", "wrong_code",
                              "does not match the secret (check the device's clock)");
        }
    }
    json_decref(o);
    audit_user(req, "mfa.totp_enabled", st, NULL);
    if (st != OUTCOME_OK) {
        errors_problem(r, st, &d);
        return;
    }
    codes_reply(r, codes);
}

/* Reads {"password", "code" | "recovery_code"} of a change that needs
 * the step-up, and checks both, the code first (users_code_attempt says
 * why). *u filled when true; otherwise r holds the answer. */
static bool guarded(const struct api_request *req, struct reply *r, struct user *u)
{
    struct outcome_detail d = {0};
    const char *pw = NULL;
    size_t plen = 0;
    json_t *o = api_parse_object(req, r);

    if (o == NULL)
        return false;
    if (!api_string_field(o, "password", &pw, &plen, &d.errors)) {
        errors_problem(r, OUTCOME_INVALID, &d);
        json_decref(o);
        return false;
    }
    bool ok = api_step_up(req, r, o);
    if (ok) {
        enum outcome st = recheck(req, pw, plen, u, &d);
        if (st != OUTCOME_OK) {
            errors_problem(r, st, &d);
            ok = false;
        }
    }
    json_decref(o);
    return ok;
}

/* DELETE /me/mfa/totp {"password", "code" | "recovery_code"}: TOTP off. */
void api_mfa_totp_disable(const struct api_request *req, struct reply *r)
{
    struct user u;

    if (!guarded(req, r, &u))
        return;
    audit_hold_user(req, "mfa.totp_disabled", NULL);
    enum outcome st = mfa_totp_disable(&req->app->mfa, u.id);
    audit_user(req, "mfa.totp_disabled", st, NULL);
    if (st != OUTCOME_OK) {
        errors_problem(r, st, NULL);
        return;
    }
    r->status = 204;
}

/* POST /me/mfa/recovery-codes {"password", "code" | "recovery_code"}: a
 * new set; the old one is void. */
void api_mfa_recovery_codes(const struct api_request *req, struct reply *r)
{
    struct user u;
    char codes[MFA_RECOVERY_CODES][MFA_RECOVERY_CODE_MAX + 1];

    if (!guarded(req, r, &u))
        return;
    enum outcome st = mfa_recovery_regenerate(&req->app->mfa, u.id, codes);
    audit_user(req, "mfa.recovery_codes_regenerated", st, NULL);
    if (st != OUTCOME_OK) {
        errors_problem(r, st, NULL);
        return;
    }
    codes_reply(r, codes);
}
