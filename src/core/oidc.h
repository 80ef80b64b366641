#ifndef GH_CORE_OIDC_H
#define GH_CORE_OIDC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/keyset.h"
#include "core/outcome.h"
#include "core/sessions.h"

typedef struct store store; /* store/store.h */

/* gatehouse as an OpenID Connect provider (API.md, "Single sign-on"): the
 * registered clients, the single sign-on session of a browser (the
 * gatehouse_sso cookie), consents, authorization codes, and the tokens a
 * client gets: ID tokens and RFC 9068 access tokens signed with the OIDC
 * key, refresh tokens that are the existing sessions' (rotation and reuse
 * detection included). Everything is in the database, so that any
 * instance finishes what another began and a client added or deleted on
 * the command line takes effect at once. The HTTP side (api/oidc.c,
 * api/authorize.c) parses, checks the client, and answers; it holds no SQL
 * and no cryptography. */

#define OIDC_CLIENT_ID_MAX    64 /* "gh_" and base64url of 16 random bytes, or a name given */
#define OIDC_CLIENT_NAME_MAX  128
#define OIDC_URI_MAX          2048 /* a redirect URI */
#define OIDC_URIS_MAX         16   /* redirect URIs of a client */
#define OIDC_SCOPE_MAX        256  /* a scope parameter */
#define OIDC_NONCE_MAX        255
#define OIDC_STATE_MAX        1024
#define OIDC_SECRET_LEN       43 /* base64url of 32 random bytes (util/bearer) */
#define OIDC_CODE_LEN         43
#define OIDC_SSO_LEN          43
#define OIDC_CODE_TTL_SECONDS 60

/* The scopes the provider knows (discovery's scopes_supported). */
enum oidc_scope {
    OIDC_SCOPE_OPENID = 1u << 0,
    OIDC_SCOPE_PROFILE = 1u << 1,
    OIDC_SCOPE_EMAIL = 1u << 2,
    OIDC_SCOPE_OFFLINE = 1u << 3, /* offline_access: a refresh token */
};

/* A scope parameter (space-separated, RFC 6749 §3.3) into bits: false for
 * an unknown scope, an empty one, a repeated one or malformed text. */
bool oidc_scope_parse(const char *text, size_t len, unsigned *bits);
/* The same for the scope of an authorization request, except that a
 * well-formed value the provider does not know is left out rather than
 * refused: OIDC Core §3.1.2.1 says such values SHOULD be ignored, and
 * relying parties send their own ("groups", "roles"). */
bool oidc_scope_parse_request(const char *text, size_t len, unsigned *bits);
/* bits as the canonical text ("openid profile email offline_access", in
 * that order), "" for 0. */
void oidc_scope_text(unsigned bits, char text[OIDC_SCOPE_MAX + 1]);

/* A registered client. */
struct oidc_client {
    char id[OIDC_CLIENT_ID_MAX + 1];
    char name[OIDC_CLIENT_NAME_MAX + 1];
    bool confidential; /* has a secret: client_secret_basic or client_secret_post */
    bool first_party;  /* no consent asked */
    unsigned scopes;   /* enum oidc_scope bits it may ask for */
    size_t nredirect, nlogout;
    char *redirect_uris[OIDC_URIS_MAX];    /* malloc'd */
    char *post_logout_uris[OIDC_URIS_MAX]; /* malloc'd */
    int64_t created_at;
};

void oidc_client_free(struct oidc_client *c);

/* The client of id (len bytes). OUTCOME_NOT_FOUND when there is none (a
 * client deleted a moment ago included), OUTCOME_UNAVAILABLE when the
 * database cannot be reached. */
enum outcome oidc_client_get(store *s, const char *id, size_t len, struct oidc_client *out);

/* True when uri (len bytes) is one of c's redirect URIs (or, for
 * oidc_client_logout_uri_ok, its post-logout redirect URIs), byte for
 * byte. */
bool oidc_client_redirect_ok(const struct oidc_client *c, const char *uri, size_t len);
bool oidc_client_logout_uri_ok(const struct oidc_client *c, const char *uri, size_t len);

/* Client authentication (RFC 6749 §2.3.1): the client of id and secret,
 * the secret compared in constant time with the stored hash. Every
 * refusal, an unknown client included, is OUTCOME_BAD_CLIENT, at the same
 * cost. A public client authenticates with no secret (secret NULL) and
 * fails with one; a confidential client fails without. */
enum outcome oidc_client_authenticate(store *s, const char *id, size_t idlen, const char *secret,
                                      size_t secretlen, struct oidc_client *out);

/* True when at least one client is registered: discovery and the OIDC
 * endpoints answer 404 until then (API.md). */
enum outcome oidc_enabled(store *s, bool *on);

/* OUTCOME_OK when c's fields may be registered; else OUTCOME_INVALID with
 * the reason in *why (a static string): a name of 1 to OIDC_CLIENT_NAME_MAX
 * bytes of UTF-8 without control characters; an id (when given) of 1 to
 * OIDC_CLIENT_ID_MAX RFC 3986 unreserved characters; 1 to OIDC_URIS_MAX
 * redirect URIs and at most OIDC_URIS_MAX post-logout ones, each absolute,
 * printable ASCII without spaces or fragment, at most OIDC_URI_MAX, none
 * twice; known scopes, at least one. */
enum outcome oidc_client_check(const struct oidc_client *c, const char **why);

/* `gatehouse clients add`: c's fields (id empty: one is made), the secret
 * of a confidential client written into secret (NUL-terminated; shown once,
 * only its hash stored). OUTCOME_CONFLICT when the id is taken,
 * OUTCOME_INVALID when oidc_client_check refuses c. */
enum outcome oidc_clients_add(store *s, struct oidc_client *c, int64_t now,
                              char secret[OIDC_SECRET_LEN + 1]);
/* Calls each(c, arg) for every client, ordered by id. */
enum outcome oidc_clients_list(store *s, void (*each)(const struct oidc_client *c, void *arg),
                               void *arg);
/* Deletes a client, its consents and codes, and revokes its sessions.
 * OUTCOME_NOT_FOUND when there is none. */
enum outcome oidc_clients_delete(const struct sessions_deps *d, const char *id, size_t len);

/* What the OIDC side needs besides the store: the sessions (refresh
 * tokens, the revocation set), the OIDC signing keys (RS256 unless the
 * configured asymmetric key is another) and the issuer (PUBLIC_URL). */
struct oidc_deps {
    const struct sessions_deps *sessions;
    keyset *keys;       /* signs ID and access tokens; its JWKS is served */
    const char *issuer; /* PUBLIC_URL */
    long access_ttl;    /* seconds, ACCESS_TOKEN_EXPIRE_MINUTES */
};

/* The browser's sign-in as the gatehouse_sso cookie carries it: the
 * session a page sign-in opened (POST /signin, /signin/mfa, a passkey
 * sign-in with cookies). */
struct oidc_sso {
    int64_t user_id;
    char username[JWT_USERNAME_MAX + 1];
    char sid[JWT_SID_MAX + 1];
    int64_t auth_time; /* when that session signed in */
    unsigned amr;      /* enum jwt_amr bits */
};

/* Binds a new SSO cookie value to the session sid (just opened), written
 * into token. */
enum outcome oidc_sso_bind(store *s, const char *sid, char token[OIDC_SSO_LEN + 1]);
/* The live (not revoked, not expired) session of an SSO cookie value.
 * OUTCOME_TOKEN_INVALID for any other. */
enum outcome oidc_sso_get(const struct sessions_deps *d, const char *token, size_t len, int64_t now,
                          struct oidc_sso *out);

/* Consent (API.md): a client not marked first-party asks once per scope
 * set; a set covered by what was granted before is not asked again. */
enum outcome oidc_consent_covers(store *s, int64_t user_id, const char *client_id, unsigned scopes,
                                 bool *covered);
enum outcome oidc_consent_grant(store *s, int64_t user_id, const char *client_id, unsigned scopes,
                                int64_t now);

/* What an authorization code stands for. */
struct oidc_grant {
    char client_id[OIDC_CLIENT_ID_MAX + 1];
    char redirect_uri[OIDC_URI_MAX + 1];
    unsigned scopes;
    char nonce[OIDC_NONCE_MAX + 1]; /* "" when none was sent */
    char code_challenge[44];        /* S256: base64url of 32 bytes; "" without PKCE */
    struct oidc_sso sso;            /* whose sign-in */
};

/* Stores a code for g (single use, OIDC_CODE_TTL_SECONDS), written into
 * code. */
enum outcome oidc_code_issue(store *s, const struct oidc_grant *g, int64_t now,
                             char code[OIDC_CODE_LEN + 1]);

/* The tokens of a token response. Every string malloc'd (NULL when not
 * issued); free with oidc_tokens_free, which wipes them. */
struct oidc_tokens {
    char *access_token;  /* RFC 9068: typ at+jwt, aud and client_id = the client, scope */
    char *id_token;      /* scope openid: iss, sub, aud, azp, exp, iat, auth_time, nonce, amr,
                            acr, sid (the browser's sign-in, which /oidc/logout ends; the
                            access token's sid is the client's session), and the claims of
                            the scopes; never "username" */
    char *refresh_token; /* scope offline_access; a session of the sessions table */
    char scope[OIDC_SCOPE_MAX + 1];
    long expires_in;
};

void oidc_tokens_free(struct oidc_tokens *t);

/* grant_type=authorization_code for the authenticated client c:
 * redirect_uri must be the code's, code_verifier must match its S256
 * challenge (and must be absent without one). OUTCOME_BAD_GRANT for any
 * refusal; a code used before also revokes what its first exchange
 * issued (RFC 6749 §4.1.2). */
enum outcome oidc_code_redeem(const struct oidc_deps *d, const struct oidc_client *c,
                              const char *code, size_t len, const char *redirect_uri, size_t urilen,
                              const char *verifier, size_t verlen, int64_t now,
                              struct oidc_tokens *out);

/* grant_type=refresh_token of a token issued to c: rotation and reuse
 * detection as sessions_refresh; a new access token and, for scope openid,
 * a new ID token. OUTCOME_BAD_GRANT for a token of another client or none. */
enum outcome oidc_refresh(const struct oidc_deps *d, const struct oidc_client *c, const char *token,
                          size_t len, struct oidc_tokens *out);

/* grant_type=client_credentials for a confidential c: an access token whose
 * sub is its id, for scopes (0: none), and no ID or refresh token.
 * OUTCOME_BAD_CLIENT for a public c (RFC 6749 §4.4), OUTCOME_INVALID for a
 * scope c is not registered for (invalid_scope). */
enum outcome oidc_client_credentials(const struct oidc_deps *d, const struct oidc_client *c,
                                     unsigned scopes, int64_t now, struct oidc_tokens *out);

/* A verified OIDC access token (/userinfo, /oauth/introspect). */
struct oidc_access {
    char client_id[OIDC_CLIENT_ID_MAX + 1];
    char sub[JWT_USERNAME_MAX + 1]; /* the user's id, or a client's id */
    int64_t user_id;                /* 0 for a client_credentials token */
    char sid[JWT_SID_MAX + 1];
    unsigned scopes;
    int64_t iat, exp;
};

/* Signature, typ at+jwt, iss, exp, and the revocation set. OUTCOME_TOKEN_INVALID
 * (or OUTCOME_TOKEN_EXPIRED) otherwise. No database. */
enum outcome oidc_verify_access(const struct oidc_deps *d, const char *token, size_t len,
                                int64_t now, struct oidc_access *out);

/* RFC 7009 for client c: an access or refresh token of c is revoked (a
 * refresh token's whole session; an access token's session, or its jti for
 * client_credentials); anything else, another client's tokens included,
 * is OUTCOME_OK and changes nothing (§2.2). */
enum outcome oidc_revoke(const struct oidc_deps *d, const struct oidc_client *c, const char *token,
                         size_t len, int64_t now);

/* The users' claims of /userinfo and ID tokens: preferred_username, and
 * email and email_verified when the user has an address. */
struct oidc_userinfo {
    char username[JWT_USERNAME_MAX + 1];
    char email[321]; /* "" when none */
    bool email_verified;
};
enum outcome oidc_userinfo(store *s, int64_t user_id, struct oidc_userinfo *out);

/* Ends the SSO session sid (RP-initiated logout and /signout), and the
 * sessions of clients that began from it. */
enum outcome oidc_logout(const struct sessions_deps *d, const char *sid);

/* The user and session an ID token (id_token_hint of /oidc/logout) names,
 * verified with the OIDC keys but not its exp (OIDC RP-Initiated Logout
 * §2). OUTCOME_TOKEN_INVALID when it does not verify. */
enum outcome oidc_id_token_hint(const struct oidc_deps *d, const char *token, size_t len,
                                char client_id[OIDC_CLIENT_ID_MAX + 1], char sid[JWT_SID_MAX + 1]);

/* Deletes the codes that expired an hour or more before now (the
 * janitor): a used code is kept that long, so that its reuse still revokes
 * what its exchange issued. */
void oidc_purge(store *s, int64_t now);

#endif
