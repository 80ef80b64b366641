/* The second factor of a sign-in (API.md, "Second factors"): the step a
 * right password leads to, and POST /login/mfa, which finishes it. */
#include <sodium.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/audit.h"
#include "core/flows.h"
#include "util/timefmt.h"

void api_mfa_step_free(struct api_mfa_step *m)
{
    sodium_memzero(m->token, sizeof m->token);
    json_decref(m->webauthn);
    m->webauthn = NULL;
    m->methods = 0;
}

enum outcome api_mfa_step_begin(const struct api_request *req, const struct user *u,
                                struct api_mfa_step *mfa)
{
    const struct api_ctx *app = req->app;
    unsigned char challenge[FLOWS_CHALLENGE_LEN];
    unsigned methods = 0;
    enum outcome st = mfa_methods(&app->mfa, u->id, &methods);

    memset(mfa, 0, sizeof *mfa);
    if (st != OUTCOME_OK || methods == 0)
        return st;
    /* With passkeys off (no PUBLIC_URL) none can answer the challenge. */
    bool webauthn = (methods & MFA_WEBAUTHN) != 0 && app->passkeys.rp_id != NULL;
    if (webauthn)
        randombytes_buf(challenge, sizeof challenge);
    st = flows_begin(app->users.store, FLOWS_MFA, u->id, u->credential_version,
                     webauthn ? challenge : NULL, timefmt_now(), mfa->token);
    if (st == OUTCOME_OK && webauthn &&
        (mfa->webauthn = passkeys_mfa_options(&app->passkeys, u->id, challenge)) == NULL)
        st = OUTCOME_ERROR;
    if (st != OUTCOME_OK) {
        api_mfa_step_free(mfa);
        return st;
    }
    mfa->methods = webauthn ? methods : methods & ~(unsigned)MFA_WEBAUTHN;
    return OUTCOME_MFA_REQUIRED;
}

char *api_mfa_step_json(const struct api_mfa_step *m)
{
    json_t *methods = json_array();
    json_t *o = json_pack("{s:b, s:s, s:o, s:i}", "mfa_required", 1, "mfa_token", m->token,
                          "methods", methods, "expires_in", FLOWS_TTL_SECONDS);
    char *s = NULL;

    /* The contract's order: totp, recovery_code, webauthn. */
    if (o != NULL && (((m->methods & MFA_TOTP) != 0 &&
                       json_array_append_new(methods, json_string("totp")) != 0) ||
                      ((m->methods & MFA_RECOVERY) != 0 &&
                       json_array_append_new(methods, json_string("recovery_code")) != 0) ||
                      ((m->methods & MFA_WEBAUTHN) != 0 &&
                       json_array_append_new(methods, json_string("webauthn")) != 0) ||
                      (m->webauthn != NULL && json_object_set(o, "webauthn", m->webauthn) != 0)))
        goto done;
    if (o != NULL)
        s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
done:
    json_decref(o);
    return s;
}

/* ---- POST /login/mfa ------------------------------------------------------ */

/* The factor a request gives, checked against its flow (users_code_attempt
 * calls check_factor under the account's throttle). */
struct factor {
    const struct api_ctx *app;
    const struct flows_flow *f;
    const char *tok; /* the mfa_token */
    size_t tlen;
    const char *code, *recovery;
    size_t clen, rlen;
    const json_t *webauthn;
    int64_t now;
};

static enum outcome check_factor(void *arg)
{
    const struct factor *x = arg;
    const struct api_ctx *app = x->app;
    int64_t uid = x->f->user_id;
    bool spent;
    /* The answer counts against the token before it is checked, so that
     * concurrent answers get no more checks than FLOWS_MAX_ATTEMPTS
     * between them; a token that ended meanwhile answers as a wrong code. */
    enum outcome o = flows_reserve(app->users.store, x->tok, x->tlen, x->now, &spent);

    if (o != OUTCOME_OK)
        return o;
    if (x->code != NULL)
        return mfa_check_code(&app->mfa, uid, x->code, x->clen, x->now);
    if (x->recovery != NULL)
        return mfa_use_recovery_code(&app->mfa, uid, x->recovery, x->rlen, x->now);
    /* A flow begun while passkeys were off has no challenge to answer. */
    if (!x->f->has_challenge || app->passkeys.rp_id == NULL)
        return OUTCOME_PASSKEY_REFUSED;
    return passkeys_check_for_user(&app->passkeys, uid, x->f->challenge, x->webauthn, x->now);
}

static enum audit_mfa_result result_of(enum outcome o)
{
    switch (o) {
    case OUTCOME_OK: return AUDIT_MFA_OK;
    case OUTCOME_BAD_CODE:
    case OUTCOME_PASSKEY_REFUSED: return AUDIT_MFA_WRONG;
    case OUTCOME_THROTTLED: return AUDIT_MFA_THROTTLED;
    default: return AUDIT_MFA_ERROR;
    }
}

/* The factor was right: the flow used up (exactly one of concurrent right
 * answers gets past it), the sign-in complete, the session opened with the
 * credentials of the password step. */
static enum outcome open_session(const struct api_request *req, const struct flows_flow *f,
                                 const char *tok, size_t tlen, bool passkey,
                                 struct session_tokens *t, enum audit_mfa_result *result)
{
    const struct api_ctx *app = req->app;
    struct jwt_claims who = {.user_id = f->user_id};
    struct user u;
    enum outcome st = flows_finish_reserved(app->users.store, tok, tlen, timefmt_now());

    if (st == OUTCOME_OK) {
        users_login_done(&app->users, app->throttle, f->user_id);
        st = users_by_token(&app->users, &who, &u);
    }
    if (st == OUTCOME_OK) {
        /* A password change since the password step refuses it. */
        u.credential_version = f->credential_version;
        st = sessions_open(&app->sessions, &u,
                           passkey ? JWT_AMR_PWD | JWT_AMR_HWK : JWT_AMR_PWD | JWT_AMR_OTP, t);
    }
    /* The flow was used or spent meanwhile, the user is gone, or the
     * password changed: the mfa_token no longer leads anywhere. */
    if (st == OUTCOME_BAD_CODE || st == OUTCOME_TOKEN_INVALID || st == OUTCOME_BAD_CREDENTIALS) {
        *result = AUDIT_MFA_EXPIRED;
        return OUTCOME_BAD_CODE;
    }
    *result = result_of(st);
    return st;
}

enum outcome api_mfa_login(const struct api_request *req, const char *mfa_token, size_t tlen,
                           const char *code, size_t clen, const char *recovery, size_t rlen,
                           const json_t *webauthn, struct session_tokens *t,
                           struct outcome_detail *d)
{
    const struct api_ctx *app = req->app;
    enum audit_mfa_method method = code != NULL       ? AUDIT_MFA_TOTP
                                   : recovery != NULL ? AUDIT_MFA_RECOVERY_CODE
                                                      : AUDIT_MFA_WEBAUTHN;
    enum audit_mfa_result result = AUDIT_MFA_EXPIRED;
    struct flows_flow f;
    struct netaddr from;

    memset(t, 0, sizeof *t);
    /* It sets cookies as a login does: the same Origin check. */
    if (app->cookies.enabled && req->origin != NULL && !api_origin_allowed(req)) {
        audit_login_mfa(req, method, AUDIT_MFA_ERROR, 0);
        return OUTCOME_CROSS_SITE;
    }
    enum outcome st = flows_get(app->users.store, FLOWS_MFA, mfa_token, tlen, timefmt_now(), &f);
    if (st != OUTCOME_OK) {
        audit_login_mfa(req, method, st == OUTCOME_BAD_CODE ? AUDIT_MFA_EXPIRED : AUDIT_MFA_ERROR,
                        0);
        return st;
    }
    struct factor x = {app,      &f,   mfa_token, tlen,     code,
                       recovery, clen, rlen,      webauthn, timefmt_now()};
    api_client(req, &from);
    st = users_code_attempt(&app->users, app->throttle, &from, f.user_id, check_factor, &x, d);
    if (st == OUTCOME_OK) {
        audit_hold_login_mfa(req, method);
        st = open_session(req, &f, mfa_token, tlen, webauthn != NULL, t, &result);
    } else if (st == OUTCOME_TOKEN_INVALID) { /* the user is gone */
        result = AUDIT_MFA_EXPIRED;
        st = OUTCOME_BAD_CODE;
    } else {
        result = result_of(st);
    }
    audit_login_mfa(req, method, result, f.user_id);
    return st;
}

/* Reads the optional string member name of o into *s (NULL when absent or
 * null), at most max bytes; errors added for another type, an empty
 * string, or a longer one. */
static void optional_string(json_t *o, const char *name, size_t max, const char **s, size_t *len,
                            struct outcome_errors *errs)
{
    if (!api_optional_string(o, name, s, len, errs))
        return;
    if (*len == 0)
        outcome_error_add(errs, name, "too_short", "must not be empty");
    else if (*len > max)
        outcome_error_add(errs, name, "too_long", "at most %zu characters", max);
    else
        return;
    *s = NULL;
    *len = 0;
}

/* True when o has member name, other than null. */
static bool present(json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);

    return v != NULL && !json_is_null(v);
}

/* The mfa_token's limit: a longer one is no token of ours (422), a shorter
 * or otherwise malformed one an unknown token (401). */
#define MFA_TOKEN_FIELD_MAX 64

void api_login_mfa(const struct api_request *req, struct reply *r)
{
    struct outcome_detail d = {0};
    const char *tok = NULL, *code = NULL, *recovery = NULL;
    size_t tlen = 0, clen = 0, rlen = 0;
    struct session_tokens t;
    json_t *o = api_parse_object(req, r);

    if (o == NULL)
        return;
    if (api_string_field(o, "mfa_token", &tok, &tlen, &d.errors) && tlen > MFA_TOKEN_FIELD_MAX)
        outcome_error_add(&d.errors, "mfa_token", "too_long", "at most %d characters",
                          MFA_TOKEN_FIELD_MAX);
    optional_string(o, "code", MFA_CODE_MAX, &code, &clen, &d.errors);
    optional_string(o, "recovery_code", MFA_RECOVERY_CODE_MAX, &recovery, &rlen, &d.errors);
    json_t *webauthn = json_object_get(o, "webauthn");
    if (json_is_null(webauthn))
        webauthn = NULL;
    if (webauthn != NULL && !json_is_object(webauthn))
        outcome_error_add(&d.errors, "webauthn", "wrong_type", "must be an object");
    int given = present(o, "code") + present(o, "recovery_code") + (webauthn != NULL);
    if (given != 1)
        outcome_error_add(&d.errors, given == 0 ? "code" : "webauthn", "one_of",
                          "exactly one of code, recovery_code and webauthn");
    enum outcome st = OUTCOME_INVALID;
    if (d.errors.count == 0)
        st = api_mfa_login(req, tok, tlen, code, clen, recovery, rlen, webauthn, &t, &d);
    json_decref(o);
    if (st != OUTCOME_OK) {
        errors_problem(r, st, &d);
        r->no_store = true;
        return;
    }
    /* The second-factor page's passkey button, as POST /login/passkey. */
    if (req->app->cookies.enabled)
        api_sso_begin(req, r, t.access_token);
    api_tokens_reply(req, r, &t);
}
