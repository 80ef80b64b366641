#include "api/api_internal.h"
#include "api/pages.h"

/* Every route, with the token it needs: a route that reads a user's data is
 * marked here, and the HTTP layer verifies the token before the handler
 * runs (api_authenticate). tests/unit/api/test_routes.c holds this table to
 * the OpenAPI document's security requirements. */
const struct api_route api_routes[] = {
    /* First: the HTTP layer searches the table in order, and nginx asks
     * /verify on every request of every protected page. Its token is
     * optional: an access rule may make a page public, and the handler
     * answers the 401 itself where one is needed. */
    {"/verify", "GET", API_BODY_NONE, API_INLINE, API_AUTH_OPTIONAL, api_verify},
    {"/register", "POST", API_BODY_JSON, API_HASH, API_AUTH_NONE, api_register},
    {"/login", "POST", API_BODY_JSON, API_HASH, API_AUTH_NONE, api_login},
    /* A code's check hashes no password: the database workers. */
    {"/login/mfa", "POST", API_BODY_JSON, API_DB, API_AUTH_NONE, api_login_mfa},
    {"/me", "GET", API_BODY_NONE, API_DB, API_AUTH_BEARER_OR_COOKIE, api_me},
    {"/me", "DELETE", API_BODY_JSON, API_HASH, API_AUTH_BEARER_OR_COOKIE, api_delete_me},
    /* The FastAPI tutorial's path, which the original app served: the same
     * handler and token as GET /me. */
    {"/users/me", "GET", API_BODY_NONE, API_DB, API_AUTH_BEARER_OR_COOKIE, api_me},
    {"/me/password", "PUT", API_BODY_JSON, API_HASH, API_AUTH_BEARER_OR_COOKIE,
     api_change_password},
    {"/me/email", "PUT", API_BODY_JSON, API_HASH, API_AUTH_BEARER_OR_COOKIE, api_change_email},
    /* TOTP and recovery codes: the account page posts them from the
     * browser with the session cookie (the Origin check applies). Those
     * that check a password hash on the hashing workers. */
    {"/me/mfa/totp", "POST", API_BODY_JSON, API_HASH, API_AUTH_BEARER_OR_COOKIE,
     api_mfa_totp_begin},
    {"/me/mfa/totp/confirm", "POST", API_BODY_JSON, API_DB, API_AUTH_BEARER_OR_COOKIE,
     api_mfa_totp_confirm},
    {"/me/mfa/totp", "DELETE", API_BODY_JSON, API_HASH, API_AUTH_BEARER_OR_COOKIE,
     api_mfa_totp_disable},
    {"/me/mfa/recovery-codes", "POST", API_BODY_JSON, API_HASH, API_AUTH_BEARER_OR_COOKIE,
     api_mfa_recovery_codes},
    {"/email/verify", "POST", API_BODY_NONE, API_DB, API_AUTH_BEARER_OR_COOKIE, api_email_verify},
    {"/email/confirm", "POST", API_BODY_JSON_OR_FORM, API_DB, API_AUTH_NONE, api_email_confirm},
    {"/password/forgot", "POST", API_BODY_JSON, API_DB, API_AUTH_NONE, api_password_forgot},
    /* A hash of the new password: the hashing workers. */
    {"/password/reset", "POST", API_BODY_JSON_OR_FORM, API_HASH, API_AUTH_NONE, api_password_reset},
    {"/refresh", "POST", API_BODY_JSON, API_DB, API_AUTH_NONE, api_refresh},
    {"/logout", "POST", API_BODY_NONE, API_DB, API_AUTH_BEARER_OR_COOKIE, api_logout},
    /* Passkeys: the account page posts to /me/passkeys* from the browser
     * with the session cookie. The exact path before the one under it. */
    {"/me/passkeys/options", "POST", API_BODY_NONE, API_DB, API_AUTH_BEARER_OR_COOKIE,
     api_passkeys_options},
    {"/me/passkeys", "POST", API_BODY_JSON, API_DB, API_AUTH_BEARER_OR_COOKIE, api_passkeys_add},
    {"/me/passkeys", "GET", API_BODY_NONE, API_DB, API_AUTH_BEARER_OR_COOKIE, api_passkeys_list},
    {"/me/passkeys/", "DELETE", API_BODY_JSON, API_DB, API_AUTH_BEARER_OR_COOKIE,
     api_passkeys_delete},
    {"/login/passkey/options", "POST", API_BODY_JSON, API_DB, API_AUTH_NONE,
     api_login_passkey_options},
    {"/login/passkey", "POST", API_BODY_JSON, API_DB, API_AUTH_NONE, api_login_passkey},
    /* The admin API (api/admin.c): an API key or an admin's Bearer token,
     * read by the handlers (API_AUTH_HANDLER), which check the user's
     * current roles in the database. The paths under /admin/users/ name a
     * user by id; their handlers read the rest of the path. */
    {"/admin/users", "GET", API_BODY_NONE, API_DB, API_AUTH_HANDLER, api_admin_users_list},
    {"/admin/users", "POST", API_BODY_JSON, API_HASH, API_AUTH_HANDLER, api_admin_users_create},
    {"/admin/users/", "GET", API_BODY_NONE, API_DB, API_AUTH_HANDLER, api_admin_user_get},
    {"/admin/users/", "PATCH", API_BODY_JSON, API_DB, API_AUTH_HANDLER, api_admin_user_patch},
    {"/admin/users/", "DELETE", API_BODY_NONE, API_DB, API_AUTH_HANDLER, api_admin_user_delete},
    {"/admin/users/", "POST", API_BODY_NONE, API_DB, API_AUTH_HANDLER, api_admin_user_post},
    {"/admin/audit", "GET", API_BODY_NONE, API_DB, API_AUTH_HANDLER, api_admin_audit},
    {"/healthz", "GET", API_BODY_NONE, API_INLINE, API_AUTH_NONE, api_healthz},
    {"/metrics", "GET", API_BODY_NONE, API_INLINE, API_AUTH_NONE, api_metrics},
    {"/readyz", "GET", API_BODY_NONE, API_DB, API_AUTH_NONE, api_readyz},
    {"/.well-known/jwks.json", "GET", API_BODY_NONE, API_INLINE, API_AUTH_NONE, api_jwks},
    /* The client authentication of the OAuth endpoints and the OIDC
     * access token of /userinfo are read by their handlers
     * (API_AUTH_HANDLER): neither is one of the service's own tokens. */
    {"/token", "POST", API_BODY_FORM, API_HASH, API_AUTH_HANDLER, api_token},
    {"/.well-known/openid-configuration", "GET", API_BODY_NONE, API_DB, API_AUTH_NONE,
     api_oidc_discovery},
    {"/userinfo", "GET", API_BODY_NONE, API_DB, API_AUTH_HANDLER, api_userinfo},
    {"/userinfo", "POST", API_BODY_NONE, API_DB, API_AUTH_HANDLER, api_userinfo},
    {"/oauth/revoke", "POST", API_BODY_FORM, API_DB, API_AUTH_HANDLER, api_oauth_revoke},
    {"/oauth/introspect", "POST", API_BODY_FORM, API_DB, API_AUTH_HANDLER, api_oauth_introspect},
    {"/openapi.json", "GET", API_BODY_NONE, API_INLINE, API_AUTH_NONE, api_docs},
    {"/docs", "GET", API_BODY_NONE, API_INLINE, API_AUTH_NONE, api_docs},
    {"/redoc", "GET", API_BODY_NONE, API_INLINE, API_AUTH_NONE, api_docs},
    {"/docs/assets/", "GET", API_BODY_NONE, API_INLINE, API_AUTH_NONE, api_docs},
    /* The pages of mailed links run on a database worker although they
     * read no database: rendering one is more work than the HTTP thread
     * should do, and a worker's route reads Accept-Language and the CSRF
     * cookie (api.h). */
    {"/password/reset", "GET", API_BODY_NONE, API_DB, API_AUTH_NONE, api_page_reset},
    {"/email/confirm", "GET", API_BODY_NONE, API_DB, API_AUTH_NONE, api_page_confirm},
    {"/pages/style.css", "GET", API_BODY_NONE, API_INLINE, API_AUTH_NONE, api_page_style},
    {"/pages/passkeys.js", "GET", API_BODY_NONE, API_INLINE, API_AUTH_NONE, api_page_script},
    /* The sign-in pages (api/signin.c). The form post of /signin hashes a
     * password as POST /login does, on the hashing workers, admitted by the
     * same limits (api_admit). The account's pages take the cookie only,
     * and check their forms' CSRF token instead of Origin (API_AUTH_PAGE). */
    {"/signin", "GET", API_BODY_NONE, API_DB, API_AUTH_NONE, api_page_signin},
    {"/signin", "POST", API_BODY_FORM, API_HASH, API_AUTH_NONE, api_page_signin_submit},
    {"/signin/mfa", "POST", API_BODY_FORM, API_DB, API_AUTH_NONE, api_page_mfa_submit},
    {"/account", "GET", API_BODY_NONE, API_DB, API_AUTH_PAGE, api_page_account},
    {"/signout", "POST", API_BODY_FORM, API_DB, API_AUTH_PAGE, api_page_signout},
    /* The password of TOTP enrolment is hashed: the hashing workers. */
    {"/account/totp", "POST", API_BODY_FORM, API_HASH, API_AUTH_PAGE, api_page_totp_begin},
    {"/account/totp/confirm", "POST", API_BODY_FORM, API_DB, API_AUTH_PAGE, api_page_totp_confirm},
    /* The OpenID Connect provider's browser side (api/authorize.c): its
     * pages read the gatehouse_sso cookie, not a token (API_AUTH_NONE). */
    {"/authorize", "GET", API_BODY_NONE, API_DB, API_AUTH_NONE, api_authorize},
    {"/authorize", "POST", API_BODY_FORM, API_DB, API_AUTH_NONE, api_authorize},
    {"/authorize/resume", "GET", API_BODY_NONE, API_DB, API_AUTH_NONE, api_authorize_resume},
    {"/authorize/consent", "POST", API_BODY_FORM, API_DB, API_AUTH_NONE, api_authorize_consent},
    {"/oidc/logout", "GET", API_BODY_NONE, API_DB, API_AUTH_NONE, api_oidc_logout},
    {"/oidc/logout", "POST", API_BODY_FORM, API_DB, API_AUTH_NONE, api_oidc_logout},
};

const size_t api_nroutes = sizeof api_routes / sizeof api_routes[0];
