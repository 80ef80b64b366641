#ifndef GH_API_API_INTERNAL_H
#define GH_API_API_INTERNAL_H

/* Shared by the handler files of src/api only. */

#include <jansson.h>

#include "api/api.h"
#include "api/errors.h"
#include "core/flows.h"

void api_register(const struct api_request *req, struct reply *r);
void api_login(const struct api_request *req, struct reply *r);
void api_me(const struct api_request *req, struct reply *r);
void api_verify(const struct api_request *req, struct reply *r);
void api_healthz(const struct api_request *req, struct reply *r);
void api_readyz(const struct api_request *req, struct reply *r);
void api_jwks(const struct api_request *req, struct reply *r);
void api_metrics(const struct api_request *req, struct reply *r);
void api_token(const struct api_request *req, struct reply *r);
void api_refresh(const struct api_request *req, struct reply *r);
void api_logout(const struct api_request *req, struct reply *r);
void api_change_password(const struct api_request *req, struct reply *r);
void api_delete_me(const struct api_request *req, struct reply *r);
/* api/login_mfa.c: POST /login/mfa, the second factor of a sign-in. */
void api_login_mfa(const struct api_request *req, struct reply *r);
/* api/mail.c: addresses and mailed links (API.md, "Email"). */
void api_email_verify(const struct api_request *req, struct reply *r);
void api_email_confirm(const struct api_request *req, struct reply *r);
void api_change_email(const struct api_request *req, struct reply *r);
void api_password_forgot(const struct api_request *req, struct reply *r);
void api_password_reset(const struct api_request *req, struct reply *r);

/* api/passkeys.c: passkeys (API.md, "Passkeys"). */
void api_passkeys_options(const struct api_request *req, struct reply *r);
void api_passkeys_add(const struct api_request *req, struct reply *r);
void api_passkeys_list(const struct api_request *req, struct reply *r);
void api_passkeys_delete(const struct api_request *req, struct reply *r);
void api_login_passkey_options(const struct api_request *req, struct reply *r);
void api_login_passkey(const struct api_request *req, struct reply *r);

/* The admin API (api/admin.c). */
void api_admin_users_list(const struct api_request *req, struct reply *r);
void api_admin_users_create(const struct api_request *req, struct reply *r);
void api_admin_user_get(const struct api_request *req, struct reply *r);
void api_admin_user_patch(const struct api_request *req, struct reply *r);
void api_admin_user_delete(const struct api_request *req, struct reply *r);
void api_admin_user_post(const struct api_request *req, struct reply *r);

/* api/oidc.c and api/oauth.c: the OpenID Connect provider's endpoints
 * (API.md, "Single sign-on") but /authorize and /oidc/logout. */
void api_oidc_discovery(const struct api_request *req, struct reply *r);
void api_userinfo(const struct api_request *req, struct reply *r);

/* GET /admin/audit (api/admin_audit.c): the audit trail, for an admin. */
void api_admin_audit(const struct api_request *req, struct reply *r);

/* The admin authorization every /admin route runs on its worker first
 * (api/admin.c): true with the actor ("user:<id>", "apikey:<id>") when the
 * caller may act as an admin; otherwise r holds the 401 or 403. */
#define API_ADMIN_ACTOR_MAX (7 + 64) /* "apikey:" and STORE_ID_MAX */
bool api_admin_authorize(const struct api_request *req, struct reply *r,
                         char actor[API_ADMIN_ACTOR_MAX + 1]);
void api_oauth_revoke(const struct api_request *req, struct reply *r);
void api_oauth_introspect(const struct api_request *req, struct reply *r);

/* True when the OpenID Connect provider serves: PUBLIC_URL is set and a
 * client is registered (read per request: a client added on the command
 * line counts at once). Otherwise r holds the 404 problem (503 when the
 * database cannot say). */
bool api_oidc_on(const struct api_request *req, struct reply *r);

/* Parses the form body of an OAuth endpoint into f (form_free it when
 * true); false with the RFC 6749 §5.2 invalid_request in r for another
 * content type or a malformed body. */
bool api_oauth_form(const struct api_request *req, struct form *f, struct reply *r);

/* True, with the invalid_request in r, when one of names[0..n) appears
 * twice in f (RFC 6749 §3.2). */
bool api_oauth_repeated(const struct form *f, const char *const *names, size_t n, struct reply *r);

/* Fetches a required parameter of f; false with the invalid_request in r
 * when it is missing or empty (§3.2 counts that as missing). */
bool api_oauth_required(const struct form *f, struct reply *r, const char *name, const char **v,
                        size_t *len);

/* The client of an OAuth request, authenticated (RFC 6749 §2.3:
 * client_secret_basic, client_secret_post, or client_id alone for a public
 * client; api/clientauth.h reads them): OUTCOME_OK with *out filled (free
 * it with oidc_client_free). need_secret refuses public clients.
 * Otherwise r holds the answer: OUTCOME_INVALID, invalid_request (400),
 * for a malformed or doubled authentication; OUTCOME_BAD_CLIENT,
 * invalid_client (401, WWW-Authenticate: Basic), for none or a wrong one;
 * OUTCOME_UNAVAILABLE (503) when the database cannot say. */
enum outcome api_oauth_client(const struct api_request *req, const struct form *f, bool need_secret,
                              struct oidc_client *out, struct reply *r);

/* A 200 with o as its JSON body (NULL: a failure to build it); takes o.
 * A 500 problem when o is NULL or does not serialise. */
void api_oauth_object(struct reply *r, json_t *o);

/* The 200 of a token request that core/oidc answered (RFC 6749 §5.1, OIDC
 * Core §3.1.3.3): access_token, token_type, expires_in, and refresh_token,
 * id_token and scope when issued; not to be cached; frees and wipes t. */
void api_oidc_tokens_reply(struct reply *r, struct oidc_tokens *t);

/* The language of the mail a request causes: its Accept-Language's
 * (core/i18n.h), "en" by default. */
const char *api_mail_lang(const struct api_request *req);

/* Adds the 422 error of an address refused as c says under field (nothing
 * for EMAILS_OK). */
void api_email_error(struct outcome_errors *errs, const char *field, enum emails_check c);

/* True when an If-None-Match value (inm) lists etag, or is "*" (RFC 9110
 * §13.1.2, compared weakly): the asset has not changed, a 304 answers. */
bool api_etag_listed(const char *inm, const char *etag);

/* Every documentation path: /openapi.json, /docs, /redoc, /docs/assets/. */
void api_docs(const struct api_request *req, struct reply *r);

/* The access token of a request, or NULL: from authorization (the
 * Authorization header, or NULL), else, with API_AUTH_BEARER_OR_COOKIE, from
 * cookie (the access_token cookie, or NULL). Points into one of the two, with
 * its length in *len; *from_cookie tells which. Reads nothing else, so that
 * fuzz/ can drive it without a request. */
const char *api_find_token(const char *authorization, const char *cookie, enum api_auth auth,
                           size_t *len, bool *from_cookie);

/* The second-factor step a right password leads to (API.md, "Second
 * factors"): the mfa_token, what the account may answer it with, and, when
 * that includes a passkey, the options of the WebAuthn request. */
struct api_mfa_step {
    char token[FLOWS_TOKEN_LEN + 1];
    unsigned methods; /* MFA_* bits */
    json_t *webauthn; /* PublicKeyCredentialRequestOptionsJSON, or NULL */
};

/* Wipes the token and frees the options. */
void api_mfa_step_free(struct api_mfa_step *m);

/* The body of POST /login's answer to a right password of an account with
 * a second factor: {"mfa_required": true, "mfa_token", "methods",
 * "expires_in"} and "webauthn" when it has passkeys. NULL when out of
 * memory. */
char *api_mfa_step_json(const struct api_mfa_step *m);

/* The password login behind both doors, POST /login (grant NULL) and the
 * password grant of POST /token (grant "password"): the Origin check of a
 * sign-in that sets cookies (OUTCOME_CROSS_SITE), the throttled credential
 * check (users_login), then, for an account without a second factor, the
 * new session's tokens into *t (free them with api_tokens_reply or
 * sessions_tokens_free on OUTCOME_OK only), and the audit. An account with
 * a second factor gets no session: OUTCOME_MFA_REQUIRED with the step it
 * must take into *mfa (free it with api_mfa_step_free on that outcome
 * only), looked up only after a right password, so that a wrong one
 * answers in the same time whatever the account. The caller answers in its
 * own format. */
enum outcome api_password_login(const struct api_request *req, const char *grant, const char *u,
                                size_t ulen, const char *p, size_t plen, struct session_tokens *t,
                                struct api_mfa_step *mfa, struct outcome_detail *d);

/* The second factor of a sign-in, behind both doors (POST /login/mfa and
 * the pages' form): exactly one of code (a TOTP code), recovery (a recovery
 * code) and webauthn (an AuthenticationResponseJSON) is given, the others
 * NULL. The mfa_token must be live (else OUTCOME_BAD_CODE); the account's
 * throttle comes first (OUTCOME_THROTTLED); a wrong answer counts against
 * the token (its FLOWS_MAX_ATTEMPTS-th ends it) and as a failed login of
 * the account (OUTCOME_BAD_CODE, or OUTCOME_PASSKEY_REFUSED); a right one
 * uses the token up and opens the session, unless the password changed
 * since the token was issued (OUTCOME_BAD_CODE), with its tokens into *t
 * as api_password_login does. Counted and audited by method and outcome. */
enum outcome api_mfa_login(const struct api_request *req, const char *mfa_token, size_t tlen,
                           const char *code, size_t clen, const char *recovery, size_t rlen,
                           const json_t *webauthn, struct session_tokens *t,
                           struct outcome_detail *d);

/* Inside api_password_login, after a right password of u: OUTCOME_OK when
 * u has no second factor, else OUTCOME_MFA_REQUIRED with a new FLOWS_MFA
 * flow (with a WebAuthn challenge when u has passkeys) into *mfa. */
enum outcome api_mfa_step_begin(const struct api_request *req, const struct user *u,
                                struct api_mfa_step *mfa);

/* The checks before a TOTP enrolment by the caller of req (POST
 * /me/mfa/totp and the account page's form): OUTCOME_CONFLICT when TOTP is
 * on already, told before the password is looked at (a right password
 * forgets the account's failed logins, so a caller with the password but
 * no code could otherwise wipe the count its wrong step-up codes built, as
 * often as it liked); then the password, as users_recheck checks it (*u
 * filled on OUTCOME_OK). */
enum outcome api_totp_begin_check(const struct api_request *req, const char *pw, size_t plen,
                                  struct user *u, struct outcome_detail *d);

/* The TOTP confirmation of the caller of req (POST /me/mfa/totp/confirm
 * and the account page's form) with code, clen bytes, checked for form by
 * the caller: OUTCOME_OK with TOTP on and codes filled (wipe them once
 * shown); OUTCOME_BAD_CODE for a wrong code, counted as a failed login of
 * the account and the address (users_code_attempt: a stolen token must not
 * buy the guesses that would turn the factor on and hand out its codes);
 * OUTCOME_THROTTLED with d->retry_after; OUTCOME_NOT_FOUND when nothing is
 * pending. */
enum outcome api_totp_confirm(const struct api_request *req, const char *code, size_t clen,
                              char codes[MFA_RECOVERY_CODES][MFA_RECOVERY_CODE_MAX + 1],
                              struct outcome_detail *d);

/* Parses the body as a JSON object (400 into r on failure). */
json_t *api_parse_object(const struct api_request *req, struct reply *r);

/* Fetches a required string member; adds a "missing"/"wrong_type" error. */
bool api_string_field(json_t *o, const char *name, const char **s, size_t *len,
                      struct outcome_errors *errs);

/* Fetches an optional string member: true with *s and *len when it is a
 * string; false with *s NULL and *len 0 when it is absent or null, or, with
 * a "wrong_type" error added, of another type. */
bool api_optional_string(json_t *o, const char *name, const char **s, size_t *len,
                         struct outcome_errors *errs);

/* A 200 with {"access_token","token_type","expires_in","refresh_token"},
 * not to be cached, and the session cookies when SESSION_COOKIES is on;
 * frees and wipes t. */
void api_tokens_reply(const struct api_request *req, struct reply *r, struct session_tokens *t);

/* Sets the access_token and refresh_token cookies when SESSION_COOKIES is
 * on; NULL values clear them (Max-Age=0). */
void api_session_cookies(const struct api_request *req, struct reply *r, const char *access,
                         const char *refresh);

/* api/sso.c: the gatehouse_sso cookie (API.md, "Single sign-on"). True
 * when the OpenID Connect provider is on (PUBLIC_URL set). */
bool api_sso_on(const struct api_request *req);
/* Sets the cookie to value (NULL: clears it, Max-Age=0). */
void api_sso_cookie(const struct api_request *req, struct reply *r, const char *value);
/* After a page sign-in whose session's access token is access_token: binds
 * a new cookie value to that session and sets it. A failure is logged and
 * leaves the browser without single sign-on (the sign-in stands). */
void api_sso_begin(const struct api_request *req, struct reply *r, const char *access_token);
/* Ends the browser's single sign-on: oidc_logout of the cookie's session
 * (of sid, or nothing when NULL, without a live cookie), and clears a
 * cookie the browser sent. Nothing while the provider is off. */
enum outcome api_sso_end(const struct api_request *req, struct reply *r, const char *sid);

/* api/authorize.c: the OpenID Connect authorization endpoint and what the
 * browser goes through for it (API.md, "Single sign-on"). */
void api_authorize(const struct api_request *req, struct reply *r);
void api_authorize_resume(const struct api_request *req, struct reply *r);
void api_authorize_consent(const struct api_request *req, struct reply *r);
/* GET /oidc/logout, and POST /oidc/logout from the page it asks with. */
void api_oidc_logout(const struct api_request *req, struct reply *r);
/* The length of a page's authz value (an authorization request's id,
 * AUTHZREQ_ID_LEN base64url characters) or 0 when v is none. */
size_t api_authz_len(const char *v, size_t len);
/* The source expression of a page's form-action for the redirect URI of
 * the live authorization request id: its origin ("https://host[:port]"),
 * or for another scheme its scheme ("com.example.app:"). false (out "")
 * when there is none, or the URI has none a policy can name. */
#define API_ORIGIN_MAX 300
bool api_authz_origin(const struct api_request *req, const char *id, char out[API_ORIGIN_MAX + 1]);

/* The user as JSON {"id","username","created_at"}. */
char *api_user_json(const struct user *u);

/* api/mfa.c: TOTP and recovery codes (API.md, "TOTP and recovery codes"). */
void api_mfa_totp_begin(const struct api_request *req, struct reply *r);
void api_mfa_totp_confirm(const struct api_request *req, struct reply *r);
void api_mfa_totp_disable(const struct api_request *req, struct reply *r);
void api_mfa_recovery_codes(const struct api_request *req, struct reply *r);

/* The step-up of a change the owner of req's token makes (API.md, "Second
 * factors"): reads the optional string members "code" (a TOTP code: 1 to
 * MFA_CODE_MAX digits) and "recovery_code" of body, at most one of them
 * (another type, length or form: 422 into r), and checks them with
 * mfa_step_up against req->token.claims, a given code counted on the
 * throttle as a login of the account (users_code_attempt: a wrong one is a
 * failed login). Returns true when the change may go on: the account has
 * no second factor, or the code is right, or the token shows a passkey
 * used within 5 minutes. Otherwise r holds the answer: 403 (a second
 * factor is required) when neither was given, 401 for a wrong, replayed or
 * used code, 429 with Retry-After while the account or the address is
 * locked, 503 when the database is down. Call it before the change's
 * password check: a right password forgets the account's failures. */
bool api_step_up(const struct api_request *req, struct reply *r, json_t *body);

#endif
