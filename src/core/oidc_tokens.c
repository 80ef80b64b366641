/* The OpenID Connect provider's tokens (core/oidc.h): authorization codes
 * and their exchange, refresh, client_credentials, ID tokens and RFC 9068
 * access tokens signed with the OIDC key, their verification, revocation
 * (RFC 7009) and the user's claims. */
#include "core/oidc.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/outcome_store.h"
#include "core/sessions_tx.h"
#include "store/store.h"
#include "util/b64.h"
#include "util/bearer.h"
#include "util/log.h"
#include "util/timefmt.h"

#define AT_TYP "at+jwt" /* RFC 9068 §2.1 */
#define ID_TYP "JWT"

/* A PKCE code_verifier: 43 to 128 unreserved characters (RFC 7636 §4.1). */
#define VERIFIER_MIN 43
#define VERIFIER_MAX 128

void oidc_tokens_free(struct oidc_tokens *t)
{
    char **all[] = {&t->access_token, &t->id_token, &t->refresh_token};

    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (*all[i] != NULL) {
            sodium_memzero(*all[i], strlen(*all[i]));
            free(*all[i]);
            *all[i] = NULL;
        }
    }
}

/* --------------------------------------------------------------- codes */

enum outcome oidc_code_issue(store *s, const struct oidc_grant *g, int64_t now,
                             char code[OIDC_CODE_LEN + 1])
{
    struct store_oidc_code c = {0};
    unsigned char hash[32];

    code[0] = '\0';
    snprintf(c.client_id, sizeof c.client_id, "%s", g->client_id);
    c.user_id = g->sso.user_id;
    snprintf(c.sso_session, sizeof c.sso_session, "%s", g->sso.sid);
    snprintf(c.redirect_uri, sizeof c.redirect_uri, "%s", g->redirect_uri);
    oidc_scope_text(g->scopes, c.scope);
    snprintf(c.nonce, sizeof c.nonce, "%s", g->nonce);
    snprintf(c.code_challenge, sizeof c.code_challenge, "%s", g->code_challenge);
    c.auth_time = g->sso.auth_time;
    jwt_amr_text(g->sso.amr != 0 ? g->sso.amr : JWT_AMR_PWD, c.amr);
    bearer_new(code, hash);
    enum outcome o = outcome_from_store(
        store_oidc_code_add(s, hash, &c, now, now + OIDC_CODE_TTL_SECONDS), OUTCOME_NOT_FOUND);
    if (o != OUTCOME_OK)
        sodium_memzero(code, OIDC_CODE_LEN + 1);
    return o;
}

/* ------------------------------------------------------------- claims */

/* acr (OIDC Core §2): "2" after two factors (a password and a one-time
 * code or a security key), or a passkey that verified its user (something
 * held and something known or being); "1" after one. */
static const char *acr_of(unsigned amr)
{
    bool two = ((amr & JWT_AMR_PWD) && (amr & (JWT_AMR_OTP | JWT_AMR_HWK))) ||
               ((amr & JWT_AMR_HWK) && (amr & JWT_AMR_USER));
    return two ? "2" : "1";
}

static json_t *amr_json(unsigned amr)
{
    json_t *a = json_array();

    for (unsigned bit = 1; a != NULL && bit <= JWT_AMR_ALL; bit <<= 1)
        if ((amr & bit) != 0 && json_array_append_new(a, json_string(jwt_amr_name(bit))) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static void random_jti(char jti[32])
{
    unsigned char raw[16];

    randombytes_buf(raw, sizeof raw);
    b64url_encode(jti, raw, sizeof raw);
}

/* Signs claims with the OIDC key under typ; NULL on failure. Takes claims. */
static char *sign(const struct oidc_deps *d, const char *typ, json_t *claims)
{
    char *out = NULL;

    if (claims != NULL) {
        const keyset_gen *g = keyset_get(d->keys);
        out = jwt_sign_json(keyset_jwt(g), typ, claims);
        keyset_put(g);
        json_decref(claims);
    }
    return out;
}

/* What a token is issued for. */
struct issue {
    const struct oidc_client *client;
    int64_t user_id;     /* 0: the client itself (client_credentials) */
    const char *sid;     /* the client's session ("" for client_credentials) */
    const char *sso_sid; /* the browser's sign-in, the ID token's sid */
    unsigned scopes, amr;
    int64_t auth_time, now;
    const char *nonce; /* "" or NULL: none */
};

/* RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti, and scope; sid
 * ties it to its session, which revocation ends. */
static char *access_token(const struct oidc_deps *d, const struct issue *is)
{
    char sub[24], jti[32], scope[OIDC_SCOPE_MAX + 1];

    random_jti(jti);
    oidc_scope_text(is->scopes, scope);
    if (is->user_id != 0)
        snprintf(sub, sizeof sub, "%lld", (long long)is->user_id);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "iss", d->issuer, "sub",
                          is->user_id != 0 ? sub : is->client->id, "aud", is->client->id,
                          "client_id", is->client->id, "iat", (json_int_t)is->now, "exp",
                          (json_int_t)(is->now + d->access_ttl), "jti", jti);
    if (o != NULL && scope[0] != '\0' && json_object_set_new(o, "scope", json_string(scope)) != 0)
        goto fail;
    if (o != NULL && is->sid[0] != '\0' && json_object_set_new(o, "sid", json_string(is->sid)) != 0)
        goto fail;
    if (o != NULL && is->user_id != 0 &&
        json_object_set_new(o, "auth_time", json_integer(is->auth_time)) != 0)
        goto fail;
    return sign(d, AT_TYP, o);
fail:
    json_decref(o);
    return NULL;
}

/* OIDC Core §2 and §5.4. Never a "username" claim: gatehouse's own
 * tokens require one, so an ID token is never taken for one of them
 * (core/jwt.h). */
static char *id_token(const struct oidc_deps *d, const struct issue *is)
{
    char sub[24];
    struct oidc_userinfo ui;

    enum outcome o = oidc_userinfo(d->sessions->store, is->user_id, &ui);
    if (o != OUTCOME_OK)
        return NULL;
    snprintf(sub, sizeof sub, "%lld", (long long)is->user_id);
    json_t *c = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:s, s:s}", "iss", d->issuer,
                          "sub", sub, "aud", is->client->id, "azp", is->client->id, "iat",
                          (json_int_t)is->now, "exp", (json_int_t)(is->now + d->access_ttl),
                          "auth_time", (json_int_t)is->auth_time, "amr", amr_json(is->amr), "acr",
                          acr_of(is->amr), "sid", is->sso_sid);
    bool ok = c != NULL;
    if (ok && is->nonce != NULL && is->nonce[0] != '\0')
        ok = json_object_set_new(c, "nonce", json_string(is->nonce)) == 0;
    if (ok && (is->scopes & OIDC_SCOPE_PROFILE) != 0)
        ok = json_object_set_new(c, "preferred_username", json_string(ui.username)) == 0;
    if (ok && (is->scopes & OIDC_SCOPE_EMAIL) != 0 && ui.email[0] != '\0')
        ok = json_object_set_new(c, "email", json_string(ui.email)) == 0 &&
             json_object_set_new(c, "email_verified", json_boolean(ui.email_verified)) == 0;
    if (!ok) {
        json_decref(c);
        return NULL;
    }
    return sign(d, ID_TYP, c);
}

/* The access token and, for scope openid, the ID token of is into out. */
static enum outcome issue_tokens(const struct oidc_deps *d, const struct issue *is,
                                 struct oidc_tokens *out)
{
    out->access_token = access_token(d, is);
    if (out->access_token == NULL)
        return OUTCOME_ERROR;
    if (is->user_id != 0 && (is->scopes & OIDC_SCOPE_OPENID) != 0 &&
        (out->id_token = id_token(d, is)) == NULL)
        return OUTCOME_ERROR;
    oidc_scope_text(is->scopes, out->scope);
    out->expires_in = d->access_ttl;
    return OUTCOME_OK;
}

/* ------------------------------------------------------------ exchange */

/* RFC 7636 §4.6: BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge,
 * compared in constant time. */
static bool pkce_ok(const char *challenge, const char *verifier, size_t len)
{
    unsigned char digest[32];
    char want[44];

    if (len < VERIFIER_MIN || len > VERIFIER_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if (verifier[i] == '\0' ||
            strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~",
                   verifier[i]) == NULL)
            return false;
    crypto_hash_sha256(digest, (const unsigned char *)verifier, len);
    b64url_encode(want, digest, sizeof digest);
    return strlen(challenge) == 43 && sodium_memcmp(want, challenge, 43) == 0;
}

/* The session a reused code's first exchange opened is revoked (RFC 6749
 * §4.1.2): whoever holds the code now may have stolen it. */
static void revoke_reused_code(const struct oidc_deps *d, const unsigned char hash[32])
{
    char sid[STORE_ID_MAX + 1];

    if (store_oidc_code_used_before(d->sessions->store, hash, sid) != STORE_OK || sid[0] == '\0')
        return;
    if (sessions_revoke_with(d->sessions, 0, sid, SESSIONS_LOCAL, NULL, NULL) == OUTCOME_OK)
        log_warn("session %s: its authorization code was used twice; the session is revoked", sid);
}

/* The code's checks against the exchange: its client, its redirect_uri,
 * PKCE (required of a public client). */
static bool code_matches(const struct store_oidc_code *code, const struct oidc_client *c,
                         const char *redirect_uri, size_t urilen, const char *verifier,
                         size_t verlen)
{
    if (strcmp(code->client_id, c->id) != 0 || strlen(code->redirect_uri) != urilen ||
        (urilen > 0 && memcmp(code->redirect_uri, redirect_uri, urilen) != 0))
        return false;
    if (code->code_challenge[0] == '\0')
        return c->confidential && (verifier == NULL || verlen == 0);
    return verifier != NULL && pkce_ok(code->code_challenge, verifier, verlen);
}

/* Opens the client's session of a code inside tx into sess; the refresh
 * token (offline_access) into refresh. */
static enum store_status open_session(const struct oidc_deps *d, store_tx *tx,
                                      const struct store_oidc_code *code, int64_t now,
                                      unsigned scopes, struct store_session *sess,
                                      char refresh[BEARER_LEN + 1])
{
    unsigned char sid_raw[16];

    memset(sess, 0, sizeof *sess);
    randombytes_buf(sid_raw, sizeof sid_raw);
    b64url_encode(sess->id, sid_raw, sizeof sid_raw);
    sess->user_id = code->user_id;
    sess->created_at = now;
    /* Without offline_access no refresh token leaves: the row is there for
     * its sid (revocation, logout) and holds the hash of a token no one
     * has, for as long as the access token lives. */
    bearer_new(refresh, sess->refresh_hash);
    if ((scopes & OIDC_SCOPE_OFFLINE) != 0) {
        sess->expires_at = now + d->sessions->refresh_ttl;
    } else {
        sodium_memzero(refresh, BEARER_LEN + 1);
        sess->expires_at = now + d->access_ttl;
    }
    snprintf(sess->amr, sizeof sess->amr, "%s", code->amr);
    snprintf(sess->client_id, sizeof sess->client_id, "%s", code->client_id);
    snprintf(sess->scope, sizeof sess->scope, "%s", code->scope);
    sess->auth_time = code->auth_time;
    snprintf(sess->sso_session, sizeof sess->sso_session, "%s", code->sso_session);
    /* A user disabled since the code was made gets no session: the row
     * held, as a sign-in's (sessions_open), so that a disabling orders
     * wholly before or after this. */
    struct store_user u = {0};
    enum store_status st = store_user_lock(d->sessions->store, tx, code->user_id);
    if (st == STORE_OK)
        st = store_user_by_id(d->sessions->store, tx, code->user_id, &u);
    sodium_memzero(u.password_hash, sizeof u.password_hash);
    if (st == STORE_OK && u.disabled)
        st = STORE_NOT_FOUND;
    if (st != STORE_OK)
        return st;
    return store_session_create_client(d->sessions->store, tx, sess);
}

/* Uses the code and, when it matches, opens its session, in one
 * transaction: a code that does not match is used up all the same. */
static enum outcome redeem_tx(const struct oidc_deps *d, const struct oidc_client *c,
                              const unsigned char hash[32], const char *redirect_uri, size_t urilen,
                              const char *verifier, size_t verlen, int64_t now,
                              struct store_oidc_code *code, struct store_session *sess,
                              char refresh[BEARER_LEN + 1])
{
    store_tx tx;
    unsigned scopes = 0;
    enum store_status st = store_begin(d->sessions->store, &tx);

    if (st != STORE_OK)
        return outcome_from_store(st, OUTCOME_ERROR);
    st = store_oidc_code_use(d->sessions->store, &tx, hash, now, code);
    if (st != STORE_OK) {
        store_rollback(&tx);
        if (st == STORE_NOT_FOUND)
            revoke_reused_code(d, hash);
        return outcome_from_store(st, OUTCOME_BAD_GRANT);
    }
    bool ok = code_matches(code, c, redirect_uri, urilen, verifier, verlen) &&
              oidc_scope_parse(code->scope, strlen(code->scope), &scopes);
    if (ok) {
        st = open_session(d, &tx, code, now, scopes, sess, refresh);
        if (st == STORE_OK)
            st = store_oidc_code_issued(d->sessions->store, &tx, hash, sess->id);
    }
    if (st == STORE_OK)
        st = store_commit(&tx);
    else
        store_rollback(&tx);
    if (st != STORE_OK)
        return outcome_from_store(st, OUTCOME_BAD_GRANT);
    return ok ? OUTCOME_OK : OUTCOME_BAD_GRANT;
}

enum outcome oidc_code_redeem(const struct oidc_deps *d, const struct oidc_client *c,
                              const char *code, size_t len, const char *redirect_uri, size_t urilen,
                              const char *verifier, size_t verlen, int64_t now,
                              struct oidc_tokens *out)
{
    unsigned char hash[32];
    struct store_oidc_code row;
    struct store_session sess;
    char refresh[BEARER_LEN + 1] = "";
    unsigned scopes = 0, amr = 0;
    int64_t signed_in = 0;

    memset(out, 0, sizeof *out);
    if (!bearer_hash(code, len, hash) || (redirect_uri == NULL && urilen != 0))
        return OUTCOME_BAD_GRANT;
    enum outcome o = redeem_tx(d, c, hash, redirect_uri != NULL ? redirect_uri : "", urilen,
                               verifier, verlen, now, &row, &sess, refresh);
    if (o != OUTCOME_OK)
        return o;
    oidc_scope_parse(row.scope, strlen(row.scope), &scopes);
    /* A sign-in that ended after the code was issued (a logout within its
     * 60 s) takes the new session with it. */
    enum store_status st =
        store_session_signed_in_at(d->sessions->store, row.sso_session, row.user_id, &signed_in);
    if (st == STORE_NOT_FOUND || !jwt_amr_parse(row.amr, &amr)) {
        sessions_revoke_with(d->sessions, 0, sess.id, SESSIONS_LOCAL, NULL, NULL);
        sodium_memzero(refresh, sizeof refresh);
        return OUTCOME_BAD_GRANT;
    }
    if (st != STORE_OK) {
        sodium_memzero(refresh, sizeof refresh);
        return outcome_from_store(st, OUTCOME_ERROR);
    }
    struct issue is = {c,   row.user_id,   sess.id, row.sso_session, scopes,
                       amr, row.auth_time, now,     row.nonce};
    o = issue_tokens(d, &is, out);
    if (o == OUTCOME_OK && refresh[0] != '\0' && (out->refresh_token = strdup(refresh)) == NULL)
        o = OUTCOME_ERROR;
    sodium_memzero(refresh, sizeof refresh);
    if (o != OUTCOME_OK)
        oidc_tokens_free(out);
    return o;
}

enum outcome oidc_refresh(const struct oidc_deps *d, const struct oidc_client *c, const char *token,
                          size_t len, struct oidc_tokens *out)
{
    struct store_session sess;
    struct store_user u;
    char refresh[BEARER_LEN + 1];
    unsigned scopes = 0, amr = 0;
    int64_t now = timefmt_now();

    memset(out, 0, sizeof *out);
    enum outcome o = sessions_rotate(d->sessions, token, len, c->id, now, refresh, &sess, &u);
    if (o == OUTCOME_TOKEN_INVALID || o == OUTCOME_TOKEN_REUSED)
        o = OUTCOME_BAD_GRANT;
    if (o == OUTCOME_OK && (!oidc_scope_parse(sess.scope, strlen(sess.scope), &scopes) ||
                            !jwt_amr_parse(sess.amr, &amr))) {
        log_error("session %s: its stored scope or amr is not one gatehouse writes", sess.id);
        o = OUTCOME_ERROR;
    }
    if (o == OUTCOME_OK) {
        /* The scope stays as granted (RFC 6749 §6); a refreshed ID token
         * carries no nonce (OIDC Core §12.2). */
        struct issue is = {
            c,      u.id, sess.id,        sess.sso_session[0] != '\0' ? sess.sso_session : sess.id,
            scopes, amr,  sess.auth_time, now,
            NULL};
        o = issue_tokens(d, &is, out);
    }
    if (o == OUTCOME_OK && (out->refresh_token = strdup(refresh)) == NULL)
        o = OUTCOME_ERROR;
    sodium_memzero(refresh, sizeof refresh);
    if (o != OUTCOME_OK)
        oidc_tokens_free(out);
    return o;
}

enum outcome oidc_client_credentials(const struct oidc_deps *d, const struct oidc_client *c,
                                     unsigned scopes, int64_t now, struct oidc_tokens *out)
{
    memset(out, 0, sizeof *out);
    /* RFC 6749 §4.4: confidential clients only. A scope the client was not
     * registered for is OUTCOME_INVALID (invalid_scope, §5.2). */
    if (!c->confidential)
        return OUTCOME_BAD_CLIENT;
    if ((scopes & ~c->scopes) != 0)
        return OUTCOME_INVALID;
    struct issue is = {c, 0, "", "", scopes, 0, now, now, NULL};
    enum outcome o = issue_tokens(d, &is, out);
    if (o != OUTCOME_OK)
        oidc_tokens_free(out);
    return o;
}

/* -------------------------------------------------------- verification */

static bool copy_claim(json_t *o, const char *name, char *dst, size_t cap, bool required)
{
    json_t *v = json_object_get(o, name);
    const char *s = json_string_value(v);
    size_t n = s != NULL ? json_string_length(v) : 0;

    dst[0] = '\0';
    if (v == NULL)
        return !required;
    if (s == NULL || n == 0 || n >= cap || memchr(s, '\0', n) != NULL)
        return false;
    memcpy(dst, s, n + 1);
    return true;
}

/* A user id in decimal, as sub carries it. */
static bool parse_id(const char *s, int64_t *id)
{
    size_t n = strlen(s);

    *id = 0;
    if (n == 0 || n > 19 || s[0] == '0')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || *id > (INT64_MAX - (s[i] - '0')) / 10)
            return false;
        *id = *id * 10 + (s[i] - '0');
    }
    return true;
}

/* Signature, header and iss of a token of typ from the OIDC keys; its
 * claims into *claims. */
static enum outcome verify_signed(const struct oidc_deps *d, const char *typ, const char *token,
                                  size_t len, json_t **claims)
{
    const keyset_gen *g = keyset_get(d->keys);
    enum jwt_status st = jwt_verify_json(keyset_jwt(g), typ, token, len, claims);

    keyset_put(g);
    if (st != JWT_OK)
        return OUTCOME_TOKEN_INVALID;
    const char *iss = json_string_value(json_object_get(*claims, "iss"));
    if (iss == NULL || strcmp(iss, d->issuer) != 0) {
        json_decref(*claims);
        *claims = NULL;
        return OUTCOME_TOKEN_INVALID;
    }
    return OUTCOME_OK;
}

/* The claims of an access token into out, and its jti; no time check. */
static bool access_claims(json_t *o, struct oidc_access *out, char jti[64])
{
    json_t *iat = json_object_get(o, "iat"), *exp = json_object_get(o, "exp");
    char scope[OIDC_SCOPE_MAX + 1];

    memset(out, 0, sizeof *out);
    if (!json_is_integer(iat) || !json_is_integer(exp) ||
        !copy_claim(o, "client_id", out->client_id, sizeof out->client_id, true) ||
        !copy_claim(o, "sub", out->sub, sizeof out->sub, true) ||
        !copy_claim(o, "sid", out->sid, sizeof out->sid, false) ||
        !copy_claim(o, "jti", jti, 64, true) || !copy_claim(o, "scope", scope, sizeof scope, false))
        return false;
    const char *aud = json_string_value(json_object_get(o, "aud"));
    if (aud == NULL || strcmp(aud, out->client_id) != 0)
        return false;
    if (scope[0] != '\0' && !oidc_scope_parse(scope, strlen(scope), &out->scopes))
        return false;
    out->iat = (int64_t)json_integer_value(iat);
    out->exp = (int64_t)json_integer_value(exp);
    /* A user's token names its session; a client's own (client_credentials)
     * has none, and its sub is its client_id. */
    if (out->sid[0] != '\0')
        return parse_id(out->sub, &out->user_id);
    return strcmp(out->sub, out->client_id) == 0;
}

/* The key of the revocation set an access token is revoked under: its
 * session's, or its own jti without one. */
static const char *revocation_key(const struct oidc_access *a, const char *jti)
{
    return a->sid[0] != '\0' ? a->sid : jti;
}

enum outcome oidc_verify_access(const struct oidc_deps *d, const char *token, size_t len,
                                int64_t now, struct oidc_access *out)
{
    json_t *claims = NULL;
    char jti[64];

    memset(out, 0, sizeof *out);
    if (d->keys == NULL)
        return OUTCOME_TOKEN_INVALID;
    enum outcome o = verify_signed(d, AT_TYP, token, len, &claims);
    if (o != OUTCOME_OK)
        return o;
    bool ok = access_claims(claims, out, jti);
    json_decref(claims);
    long leeway = d->sessions != NULL ? d->sessions->leeway : 0;
    if (ok && out->exp <= now - leeway)
        o = OUTCOME_TOKEN_EXPIRED;
    else if (!ok)
        o = OUTCOME_TOKEN_INVALID;
    else if (d->sessions != NULL && d->sessions->revoked != NULL) {
        const char *key = revocation_key(out, jti);
        if (revset_contains(d->sessions->revoked, key, strlen(key), now))
            o = OUTCOME_TOKEN_INVALID;
    }
    if (o != OUTCOME_OK)
        memset(out, 0, sizeof *out);
    return o;
}

/* Revokes a client_credentials token by its jti until it expires, here and
 * (through the revocations table) on every instance. */
static enum outcome revoke_jti(const struct oidc_deps *d, const char *jti, int64_t exp)
{
    int64_t until = exp + d->sessions->leeway + 1;
    enum store_status st = store_revocation_add(d->sessions->store, NULL, jti, until);

    if (st == STORE_OK && d->sessions->revoked != NULL)
        revset_add(d->sessions->revoked, jti, strlen(jti), until);
    return outcome_from_store(st, OUTCOME_ERROR);
}

static enum outcome revoke_session(const struct oidc_deps *d, const char *sid)
{
    enum outcome o = sessions_revoke_with(d->sessions, 0, sid, SESSIONS_LOCAL, NULL, NULL);

    return o == OUTCOME_TOKEN_INVALID ? OUTCOME_OK : o;
}

enum outcome oidc_revoke(const struct oidc_deps *d, const struct oidc_client *c, const char *token,
                         size_t len, int64_t now)
{
    unsigned char hash[32];
    char sid[STORE_ID_MAX + 1], owner[STORE_ID_MAX + 1];

    (void)now;
    if (token == NULL || len == 0)
        return OUTCOME_OK;
    if (bearer_hash(token, len, hash)) {
        /* A refresh token: its whole session, when it is c's. */
        enum store_status st = store_session_by_refresh(d->sessions->store, hash, sid, owner);
        if (st == STORE_NOT_FOUND || (st == STORE_OK && strcmp(owner, c->id) != 0))
            return OUTCOME_OK;
        if (st != STORE_OK)
            return outcome_from_store(st, OUTCOME_ERROR);
        return revoke_session(d, sid);
    }
    json_t *claims = NULL;
    struct oidc_access a;
    char jti[64];
    if (d->keys == NULL || verify_signed(d, AT_TYP, token, len, &claims) != OUTCOME_OK)
        return OUTCOME_OK; /* §2.2: an invalid token is no error */
    bool ok = access_claims(claims, &a, jti);
    json_decref(claims);
    if (!ok || strcmp(a.client_id, c->id) != 0)
        return OUTCOME_OK;
    return a.sid[0] != '\0' ? revoke_session(d, a.sid) : revoke_jti(d, jti, a.exp);
}

enum outcome oidc_userinfo(store *s, int64_t user_id, struct oidc_userinfo *out)
{
    struct store_user u;
    struct store_email e;

    memset(out, 0, sizeof *out);
    enum store_status st = store_user_by_id(s, NULL, user_id, &u);
    sodium_memzero(u.password_hash, sizeof u.password_hash);
    if (st == STORE_OK)
        st = store_user_email(s, NULL, user_id, &e);
    if (st != STORE_OK)
        return outcome_from_store(st, OUTCOME_TOKEN_INVALID);
    snprintf(out->username, sizeof out->username, "%s", u.username);
    snprintf(out->email, sizeof out->email, "%s", e.email);
    out->email_verified = out->email[0] != '\0' && e.verified;
    return OUTCOME_OK;
}

enum outcome oidc_id_token_hint(const struct oidc_deps *d, const char *token, size_t len,
                                char client_id[OIDC_CLIENT_ID_MAX + 1], char sid[JWT_SID_MAX + 1])
{
    json_t *claims = NULL;
    char sub[32];

    client_id[0] = sid[0] = '\0';
    if (d->keys == NULL || verify_signed(d, ID_TYP, token, len, &claims) != OUTCOME_OK)
        return OUTCOME_TOKEN_INVALID;
    /* Ours and an ID token: aud a client, a sid, a sub, and no "username"
     * (gatehouse's own access tokens have one and may share the key). */
    bool ok = json_object_get(claims, "username") == NULL &&
              copy_claim(claims, "aud", client_id, OIDC_CLIENT_ID_MAX + 1, true) &&
              copy_claim(claims, "sid", sid, JWT_SID_MAX + 1, true) &&
              copy_claim(claims, "sub", sub, sizeof sub, true);
    json_decref(claims);
    if (!ok) {
        client_id[0] = sid[0] = '\0';
        return OUTCOME_TOKEN_INVALID;
    }
    return OUTCOME_OK;
}
