/* core/oidc: clients, the browser's sign-in, codes and their exchange,
 * refresh, client_credentials, verification, revocation and logout, on a
 * real SQLite database (the store's statements run on PostgreSQL too in
 * tests/unit/store/test_store.c). The OIDC key is Ed25519 here: any
 * asymmetric key signs, and RSA key generation would slow every case. */
#include <jansson.h>
#include <sqlite3.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jwk.h"
#include "core/oidc.h"
#include "fixture.h"
#include "test.h"
#include "util/b64.h"
#include "util/timefmt.h"

#define ISSUER "https://auth.example.com"

struct oidc_fixture {
    struct core_fixture f;
    keyset *keys;
    struct oidc_deps d;
    struct user u;
    char sso_sid[JWT_SID_MAX + 1];
    struct oidc_sso sso;
};

static int oidc_fixture_open(struct oidc_fixture *o)
{
    char err[256];
    struct jwt_params p = {NULL, NULL, 0};
    struct outcome_detail det = {0};
    struct session_tokens t;
    const char *pw = "correct horse battery";

    memset(o, 0, sizeof *o);
    if (core_fixture_open(&o->f) != 0)
        return -1;
    char *pem = jwk_generate_pem(JWK_EDDSA, err, sizeof err);
    jwk *k = pem != NULL ? jwk_from_pem(pem, strlen(pem), true, err, sizeof err) : NULL;
    free(pem);
    jwt_key *jk = k != NULL ? jwt_key_create_asym(k, NULL, 0, &p) : NULL;
    if (jk == NULL || (o->keys = keyset_wrap(jk)) == NULL)
        return -1;
    o->d = (struct oidc_deps){&o->f.sessions, o->keys, ISSUER, 600};
    if (users_register(&o->f.users, "erin", 4, pw, strlen(pw), &o->u, &det) != OUTCOME_OK)
        return -1;
    /* The browser's sign-in: a session the pages opened, with its cookie. */
    if (sessions_open(&o->f.sessions, &o->u, JWT_AMR_PWD | JWT_AMR_OTP, &t) != OUTCOME_OK)
        return -1;
    struct jwt_claims c;
    enum outcome v = sessions_verify_access(&o->f.sessions, t.access_token, strlen(t.access_token),
                                            timefmt_now(), &c);
    sessions_tokens_free(&t);
    if (v != OUTCOME_OK)
        return -1;
    snprintf(o->sso_sid, sizeof o->sso_sid, "%s", c.sid);
    return 0;
}

static void oidc_fixture_close(struct oidc_fixture *o)
{
    keyset_close(o->keys);
    core_fixture_close(&o->f);
}

/* Registers a client of id with one redirect URI. */
static void add_client(struct oidc_fixture *o, const char *id, bool confidential,
                       char secret[OIDC_SECRET_LEN + 1], struct oidc_client *out)
{
    struct oidc_client c = {0};
    char *uri = "https://app.example/cb";

    snprintf(c.id, sizeof c.id, "%s", id);
    snprintf(c.name, sizeof c.name, "App %s", id);
    c.confidential = confidential;
    c.scopes = OIDC_SCOPE_OPENID | OIDC_SCOPE_PROFILE | OIDC_SCOPE_EMAIL | OIDC_SCOPE_OFFLINE;
    c.nredirect = 1;
    c.redirect_uris[0] = uri;
    REQUIRE(oidc_clients_add(o->f.store, &c, timefmt_now(), secret) == OUTCOME_OK);
    if (id[0] == '\0') /* one was made: gh_ and base64url of 16 bytes */
        CHECK(strncmp(c.id, "gh_", 3) == 0 && strlen(c.id) == 25);
    REQUIRE(oidc_client_get(o->f.store, c.id, strlen(c.id), out) == OUTCOME_OK);
}

/* A PKCE pair: verifier and its S256 challenge. */
static void pkce(char verifier[64], char challenge[44])
{
    unsigned char raw[32], digest[32];

    randombytes_buf(raw, sizeof raw);
    b64url_encode(verifier, raw, sizeof raw);
    crypto_hash_sha256(digest, (const unsigned char *)verifier, strlen(verifier));
    b64url_encode(challenge, digest, sizeof digest);
}

/* A code for client c after the browser's sign-in, for scopes. */
static void code_for(struct oidc_fixture *o, const struct oidc_client *c, unsigned scopes,
                     const char *challenge, int64_t now, char code[OIDC_CODE_LEN + 1])
{
    struct oidc_grant g = {0};
    char cookie[OIDC_SSO_LEN + 1];

    REQUIRE(oidc_sso_bind(o->f.store, o->sso_sid, cookie) == OUTCOME_OK);
    REQUIRE(oidc_sso_get(&o->f.sessions, cookie, strlen(cookie), timefmt_now(), &g.sso) ==
            OUTCOME_OK);
    snprintf(g.client_id, sizeof g.client_id, "%s", c->id);
    snprintf(g.redirect_uri, sizeof g.redirect_uri, "%s", c->redirect_uris[0]);
    g.scopes = scopes;
    snprintf(g.nonce, sizeof g.nonce, "n-0S6_WzA2Mj");
    snprintf(g.code_challenge, sizeof g.code_challenge, "%s", challenge != NULL ? challenge : "");
    REQUIRE(oidc_code_issue(o->f.store, &g, now, code) == OUTCOME_OK);
    CHECK_EQ_INT(strlen(code), OIDC_CODE_LEN);
}

static enum outcome redeem(struct oidc_fixture *o, const struct oidc_client *c, const char *code,
                           const char *verifier, struct oidc_tokens *t)
{
    const char *uri = c->redirect_uris[0];

    return oidc_code_redeem(&o->d, c, code, strlen(code), uri, strlen(uri), verifier,
                            verifier != NULL ? strlen(verifier) : 0, timefmt_now(), t);
}

/* The claims of an ID token, verified with the OIDC key; NULL if not. */
static json_t *id_claims(struct oidc_fixture *o, const char *token)
{
    json_t *claims = NULL;
    const keyset_gen *g = keyset_get(o->keys);
    enum jwt_status st = jwt_verify_json(keyset_jwt(g), "JWT", token, strlen(token), &claims);

    keyset_put(g);
    return st == JWT_OK ? claims : NULL;
}

TEST(oidc_scope_parse_and_text)
{
    unsigned bits = 0;
    char text[OIDC_SCOPE_MAX + 1];

    CHECK(oidc_scope_parse("openid", 6, &bits) && bits == OIDC_SCOPE_OPENID);
    CHECK(oidc_scope_parse("offline_access email openid profile", 35, &bits));
    oidc_scope_text(bits, text);
    CHECK_EQ_STR(text, "openid profile email offline_access");
    oidc_scope_text(0, text);
    CHECK_EQ_STR(text, "");
    static const char *const bad[] = {"",        "openid ",       " openid", "openid  email",
                                      "address", "openid openid", "OPENID",  "openid\temail",
                                      "opeNid",  "openid,email",  "openid\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(!oidc_scope_parse(bad[i], strlen(bad[i]), &bits));
        CHECK_EQ_INT(bits, 0);
    }
    /* A NUL inside is no scope either, and the length is the limit. */
    CHECK(!oidc_scope_parse("openid\0email", 12, &bits));
    char longer[OIDC_SCOPE_MAX + 8];
    memset(longer, 'a', sizeof longer);
    CHECK(!oidc_scope_parse(longer, sizeof longer, &bits));
}

TEST(oidc_clients_add_get_authenticate)
{
    struct oidc_fixture o;
    struct oidc_client c, a, p;
    char secret[OIDC_SECRET_LEN + 1], none[OIDC_SECRET_LEN + 1];
    bool on = true;

    REQUIRE(oidc_fixture_open(&o) == 0);
    REQUIRE(oidc_enabled(o.f.store, &on) == OUTCOME_OK);
    CHECK(!on);
    add_client(&o, "", true, secret, &c); /* id empty: one is made */
    oidc_client_free(&c);
    REQUIRE(oidc_enabled(o.f.store, &on) == OUTCOME_OK);
    CHECK(on);
    add_client(&o, "conf", true, secret, &c);
    CHECK_EQ_INT(strlen(secret), OIDC_SECRET_LEN);
    CHECK(c.confidential && !c.first_party);
    CHECK_EQ_STR(c.name, "App conf");
    CHECK(oidc_client_redirect_ok(&c, "https://app.example/cb", 22));
    CHECK(!oidc_client_redirect_ok(&c, "https://app.example/cb/", 23));
    CHECK(!oidc_client_redirect_ok(&c, "https://app.example/c", 21));
    CHECK(!oidc_client_logout_uri_ok(&c, "https://app.example/cb", 22));
    /* The secret is never stored, only its hash. */
    char sql[256];
    snprintf(sql, sizeof sql, "%s", secret);
    CHECK(strstr(sql, "conf") == NULL);
    CHECK_EQ_INT(oidc_client_authenticate(o.f.store, "conf", 4, secret, strlen(secret), &a),
                 OUTCOME_OK);
    CHECK_EQ_STR(a.id, "conf");
    oidc_client_free(&a);
    secret[0] ^= 1;
    CHECK_EQ_INT(oidc_client_authenticate(o.f.store, "conf", 4, secret, strlen(secret), &a),
                 OUTCOME_BAD_CLIENT);
    CHECK_EQ_INT(a.nredirect, 0);
    secret[0] ^= 1;
    CHECK_EQ_INT(oidc_client_authenticate(o.f.store, "conf", 4, NULL, 0, &a), OUTCOME_BAD_CLIENT);
    CHECK_EQ_INT(oidc_client_authenticate(o.f.store, "nope", 4, secret, strlen(secret), &a),
                 OUTCOME_BAD_CLIENT);
    CHECK_EQ_INT(oidc_client_authenticate(o.f.store, "nope", 4, NULL, 0, &a), OUTCOME_BAD_CLIENT);
    /* A public client: no secret, and one sent is refused. */
    add_client(&o, "pub", false, none, &p);
    CHECK_EQ_STR(none, "");
    CHECK(!p.confidential);
    CHECK_EQ_INT(oidc_client_authenticate(o.f.store, "pub", 3, NULL, 0, &a), OUTCOME_OK);
    oidc_client_free(&a);
    CHECK_EQ_INT(oidc_client_authenticate(o.f.store, "pub", 3, secret, strlen(secret), &a),
                 OUTCOME_BAD_CLIENT);
    /* The id taken; fields refused. */
    struct oidc_client dup = {0};
    char *uri = "https://x.example/cb", *frag = "https://x.example/cb#f", *rel = "/cb";
    snprintf(dup.id, sizeof dup.id, "conf");
    snprintf(dup.name, sizeof dup.name, "again");
    dup.scopes = OIDC_SCOPE_OPENID;
    dup.nredirect = 1;
    dup.redirect_uris[0] = uri;
    CHECK_EQ_INT(oidc_clients_add(o.f.store, &dup, timefmt_now(), none), OUTCOME_CONFLICT);
    const char *why = NULL;
    dup.redirect_uris[0] = frag;
    CHECK_EQ_INT(oidc_client_check(&dup, &why), OUTCOME_INVALID);
    CHECK(why != NULL);
    CHECK_EQ_INT(oidc_clients_add(o.f.store, &dup, timefmt_now(), none), OUTCOME_INVALID);
    dup.redirect_uris[0] = rel;
    CHECK_EQ_INT(oidc_client_check(&dup, &why), OUTCOME_INVALID);
    dup.redirect_uris[0] = uri;
    snprintf(dup.id, sizeof dup.id, "bad id");
    CHECK_EQ_INT(oidc_client_check(&dup, &why), OUTCOME_INVALID);
    snprintf(dup.id, sizeof dup.id, "ok");
    dup.nredirect = 0;
    CHECK_EQ_INT(oidc_client_check(&dup, &why), OUTCOME_INVALID);
    CHECK_EQ_INT(oidc_client_get(o.f.store, "nope", 4, &a), OUTCOME_NOT_FOUND);
    CHECK_EQ_INT(oidc_client_get(o.f.store, "", 0, &a), OUTCOME_NOT_FOUND);
    oidc_client_free(&c);
    oidc_client_free(&p);
    oidc_fixture_close(&o);
}

TEST(oidc_code_exchange_issues_tokens)
{
    struct oidc_fixture o;
    struct oidc_client c;
    struct oidc_tokens t;
    struct oidc_access a;
    struct jwt_claims own;
    char secret[OIDC_SECRET_LEN + 1], code[OIDC_CODE_LEN + 1], verifier[64], challenge[44];
    unsigned all = OIDC_SCOPE_OPENID | OIDC_SCOPE_PROFILE | OIDC_SCOPE_EMAIL | OIDC_SCOPE_OFFLINE;

    REQUIRE(oidc_fixture_open(&o) == 0);
    add_client(&o, "conf", true, secret, &c);
    pkce(verifier, challenge);
    code_for(&o, &c, all, challenge, timefmt_now(), code);
    REQUIRE(redeem(&o, &c, code, verifier, &t) == OUTCOME_OK);
    REQUIRE(t.access_token != NULL && t.id_token != NULL && t.refresh_token != NULL);
    CHECK_EQ_STR(t.scope, "openid profile email offline_access");
    CHECK_EQ_INT(t.expires_in, 600);
    /* The access token: RFC 9068's claims, verified without a database. */
    REQUIRE(oidc_verify_access(&o.d, t.access_token, strlen(t.access_token), timefmt_now(), &a) ==
            OUTCOME_OK);
    CHECK_EQ_STR(a.client_id, "conf");
    CHECK_EQ_INT(a.user_id, o.u.id);
    CHECK_EQ_INT(a.scopes, all);
    CHECK(a.sid[0] != '\0' && strcmp(a.sid, o.sso_sid) != 0);
    CHECK_EQ_INT(a.exp - a.iat, 600);
    /* Neither token opens gatehouse's own endpoints, even under the key
     * that signed them. */
    struct sessions_deps shared = o.f.sessions;
    shared.keys = o.keys;
    shared.verified = NULL;
    CHECK_EQ_INT(sessions_verify_access(&shared, t.access_token, strlen(t.access_token),
                                        timefmt_now(), &own),
                 OUTCOME_TOKEN_INVALID);
    CHECK_EQ_INT(
        sessions_verify_access(&shared, t.id_token, strlen(t.id_token), timefmt_now(), &own),
        OUTCOME_TOKEN_INVALID);
    /* The ID token (OIDC Core §2). */
    json_t *idc = id_claims(&o, t.id_token);
    REQUIRE(idc != NULL);
    char sub[24];
    snprintf(sub, sizeof sub, "%lld", (long long)o.u.id);
    CHECK_EQ_STR(json_string_value(json_object_get(idc, "iss")), ISSUER);
    CHECK_EQ_STR(json_string_value(json_object_get(idc, "sub")), sub);
    CHECK_EQ_STR(json_string_value(json_object_get(idc, "aud")), "conf");
    CHECK_EQ_STR(json_string_value(json_object_get(idc, "nonce")), "n-0S6_WzA2Mj");
    CHECK_EQ_STR(json_string_value(json_object_get(idc, "sid")), o.sso_sid);
    CHECK_EQ_STR(json_string_value(json_object_get(idc, "acr")), "2"); /* pwd and otp */
    CHECK_EQ_STR(json_string_value(json_object_get(idc, "preferred_username")), "erin");
    CHECK(json_is_integer(json_object_get(idc, "auth_time")));
    CHECK_EQ_INT(json_array_size(json_object_get(idc, "amr")), 2);
    CHECK(json_object_get(idc, "username") == NULL);
    CHECK(json_object_get(idc, "email") == NULL); /* erin has no address */
    json_decref(idc);
    /* The access token is not an ID token, nor the other way round. */
    CHECK(id_claims(&o, t.access_token) == NULL);
    CHECK_EQ_INT(oidc_verify_access(&o.d, t.id_token, strlen(t.id_token), timefmt_now(), &a),
                 OUTCOME_TOKEN_INVALID);
    /* id_token_hint names the client and the browser's sign-in. */
    char hint_client[OIDC_CLIENT_ID_MAX + 1], hint_sid[JWT_SID_MAX + 1];
    CHECK_EQ_INT(oidc_id_token_hint(&o.d, t.id_token, strlen(t.id_token), hint_client, hint_sid),
                 OUTCOME_OK);
    CHECK_EQ_STR(hint_client, "conf");
    CHECK_EQ_STR(hint_sid, o.sso_sid);
    CHECK_EQ_INT(
        oidc_id_token_hint(&o.d, t.access_token, strlen(t.access_token), hint_client, hint_sid),
        OUTCOME_TOKEN_INVALID);
    /* gatehouse's own access token, were it signed with the same key (an
     * asymmetric ALGORITHM's key signs both): typ JWT and all, but it names
     * a username, which no ID token has. */
    json_t *mine =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "iss", ISSUER, "sub", sub, "aud", "conf", "sid",
                  o.sso_sid, "username", "erin", "exp", (json_int_t)timefmt_now() + 60);
    const keyset_gen *g = keyset_get(o.keys);
    char *own_token = jwt_sign_json(keyset_jwt(g), "JWT", mine);
    keyset_put(g);
    json_decref(mine);
    REQUIRE(own_token != NULL);
    CHECK_EQ_INT(oidc_id_token_hint(&o.d, own_token, strlen(own_token), hint_client, hint_sid),
                 OUTCOME_TOKEN_INVALID);
    free(own_token);
    t.id_token[strlen(t.id_token) - 3] ^= 1;
    CHECK_EQ_INT(oidc_id_token_hint(&o.d, t.id_token, strlen(t.id_token), hint_client, hint_sid),
                 OUTCOME_TOKEN_INVALID);
    /* Another issuer's tokens are not ours. */
    struct oidc_deps other = o.d;
    other.issuer = "https://other.example";
    CHECK_EQ_INT(
        oidc_verify_access(&other, t.access_token, strlen(t.access_token), timefmt_now(), &a),
        OUTCOME_TOKEN_INVALID);
    /* Expired past its exp. */
    CHECK_EQ_INT(
        oidc_verify_access(&o.d, t.access_token, strlen(t.access_token), timefmt_now() + 601, &a),
        OUTCOME_TOKEN_EXPIRED);
    oidc_tokens_free(&t);
    CHECK(t.access_token == NULL && t.id_token == NULL && t.refresh_token == NULL);
    oidc_client_free(&c);
    oidc_fixture_close(&o);
}

TEST(oidc_code_refusals_and_reuse)
{
    struct oidc_fixture o;
    struct oidc_client c, pub, other;
    struct oidc_tokens t, t2;
    struct oidc_access a;
    char secret[OIDC_SECRET_LEN + 1], s2[OIDC_SECRET_LEN + 1], code[OIDC_CODE_LEN + 1];
    char verifier[64], challenge[44], v2[64], c2[44];
    unsigned scopes = OIDC_SCOPE_OPENID;

    REQUIRE(oidc_fixture_open(&o) == 0);
    add_client(&o, "conf", true, secret, &c);
    add_client(&o, "other", true, s2, &other);
    add_client(&o, "pub", false, s2, &pub);
    pkce(verifier, challenge);
    pkce(v2, c2);
    /* A wrong verifier uses the code up. */
    code_for(&o, &c, scopes, challenge, timefmt_now(), code);
    CHECK_EQ_INT(redeem(&o, &c, code, v2, &t), OUTCOME_BAD_GRANT);
    CHECK_EQ_INT(redeem(&o, &c, code, verifier, &t), OUTCOME_BAD_GRANT);
    /* No verifier for a code with a challenge; a verifier for one without. */
    code_for(&o, &c, scopes, challenge, timefmt_now(), code);
    CHECK_EQ_INT(redeem(&o, &c, code, NULL, &t), OUTCOME_BAD_GRANT);
    code_for(&o, &c, scopes, NULL, timefmt_now(), code);
    CHECK_EQ_INT(redeem(&o, &c, code, verifier, &t), OUTCOME_BAD_GRANT);
    /* A public client's code without PKCE never exchanges. */
    code_for(&o, &pub, scopes, NULL, timefmt_now(), code);
    CHECK_EQ_INT(redeem(&o, &pub, code, NULL, &t), OUTCOME_BAD_GRANT);
    /* Another client's code; another redirect_uri. */
    code_for(&o, &c, scopes, NULL, timefmt_now(), code);
    CHECK_EQ_INT(redeem(&o, &other, code, NULL, &t), OUTCOME_BAD_GRANT);
    code_for(&o, &c, scopes, NULL, timefmt_now(), code);
    CHECK_EQ_INT(oidc_code_redeem(&o.d, &c, code, strlen(code), "https://app.example/cb2", 23, NULL,
                                  0, timefmt_now(), &t),
                 OUTCOME_BAD_GRANT);
    /* Expired after OIDC_CODE_TTL_SECONDS. */
    code_for(&o, &c, scopes, NULL, timefmt_now() - OIDC_CODE_TTL_SECONDS - 1, code);
    CHECK_EQ_INT(redeem(&o, &c, code, NULL, &t), OUTCOME_BAD_GRANT);
    /* Malformed codes need no query. */
    CHECK_EQ_INT(redeem(&o, &c, "short", NULL, &t), OUTCOME_BAD_GRANT);
    CHECK(t.access_token == NULL);
    /* Used twice: the second fails and revokes what the first issued. */
    code_for(&o, &c, scopes, challenge, timefmt_now(), code);
    REQUIRE(redeem(&o, &c, code, verifier, &t) == OUTCOME_OK);
    CHECK(t.refresh_token == NULL); /* no offline_access */
    CHECK(t.id_token != NULL);
    REQUIRE(oidc_verify_access(&o.d, t.access_token, strlen(t.access_token), timefmt_now(), &a) ==
            OUTCOME_OK);
    CHECK_EQ_INT(redeem(&o, &c, code, verifier, &t2), OUTCOME_BAD_GRANT);
    CHECK_EQ_INT(
        oidc_verify_access(&o.d, t.access_token, strlen(t.access_token), timefmt_now(), &a),
        OUTCOME_TOKEN_INVALID);
    oidc_tokens_free(&t);
    oidc_client_free(&c);
    oidc_client_free(&other);
    oidc_client_free(&pub);
    oidc_fixture_close(&o);
}

TEST(oidc_refresh_rotates_for_its_client_only)
{
    struct oidc_fixture o;
    struct oidc_client c, other;
    struct oidc_tokens t, t2, t3;
    struct session_tokens st;
    struct oidc_access a;
    char secret[OIDC_SECRET_LEN + 1], s2[OIDC_SECRET_LEN + 1], code[OIDC_CODE_LEN + 1];
    unsigned scopes = OIDC_SCOPE_OPENID | OIDC_SCOPE_OFFLINE;

    REQUIRE(oidc_fixture_open(&o) == 0);
    add_client(&o, "conf", true, secret, &c);
    add_client(&o, "other", true, s2, &other);
    code_for(&o, &c, scopes, NULL, timefmt_now(), code);
    REQUIRE(redeem(&o, &c, code, NULL, &t) == OUTCOME_OK);
    REQUIRE(t.refresh_token != NULL);
    const char *rt = t.refresh_token;
    /* Another client, and POST /refresh (no client): refused, and the token
     * still works for its own client afterwards (nothing rotated). */
    CHECK_EQ_INT(oidc_refresh(&o.d, &other, rt, strlen(rt), &t2), OUTCOME_BAD_GRANT);
    CHECK_EQ_INT(sessions_refresh(&o.f.sessions, rt, strlen(rt), &st), OUTCOME_TOKEN_INVALID);
    REQUIRE(oidc_refresh(&o.d, &c, rt, strlen(rt), &t2) == OUTCOME_OK);
    REQUIRE(t2.refresh_token != NULL && t2.id_token != NULL && t2.access_token != NULL);
    CHECK(strcmp(t2.refresh_token, rt) != 0);
    CHECK_EQ_STR(t2.scope, "openid offline_access");
    json_t *idc = id_claims(&o, t2.id_token);
    REQUIRE(idc != NULL);
    CHECK(json_object_get(idc, "nonce") == NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(idc, "sid")), o.sso_sid);
    json_decref(idc);
    /* A browser's refresh token is no client's. */
    REQUIRE(sessions_open(&o.f.sessions, &o.u, JWT_AMR_PWD, &st) == OUTCOME_OK);
    CHECK_EQ_INT(oidc_refresh(&o.d, &c, st.refresh_token, strlen(st.refresh_token), &t3),
                 OUTCOME_BAD_GRANT);
    sessions_tokens_free(&st);
    /* The rotated-away token again: refused, and the session is revoked. */
    CHECK_EQ_INT(oidc_refresh(&o.d, &c, rt, strlen(rt), &t3), OUTCOME_BAD_GRANT);
    CHECK_EQ_INT(
        oidc_verify_access(&o.d, t2.access_token, strlen(t2.access_token), timefmt_now(), &a),
        OUTCOME_TOKEN_INVALID);
    CHECK_EQ_INT(oidc_refresh(&o.d, &c, t2.refresh_token, strlen(t2.refresh_token), &t3),
                 OUTCOME_BAD_GRANT);
    oidc_tokens_free(&t);
    oidc_tokens_free(&t2);
    oidc_client_free(&c);
    oidc_client_free(&other);
    oidc_fixture_close(&o);
}

TEST(oidc_client_credentials_and_revoke)
{
    struct oidc_fixture o;
    struct oidc_client c, other, pub;
    struct oidc_tokens t, u;
    struct oidc_access a;
    char secret[OIDC_SECRET_LEN + 1], s2[OIDC_SECRET_LEN + 1], code[OIDC_CODE_LEN + 1];

    REQUIRE(oidc_fixture_open(&o) == 0);
    add_client(&o, "svc", true, secret, &c);
    add_client(&o, "other", true, s2, &other);
    add_client(&o, "pub", false, s2, &pub);
    REQUIRE(oidc_client_credentials(&o.d, &c, 0, timefmt_now(), &t) == OUTCOME_OK);
    CHECK(t.id_token == NULL && t.refresh_token == NULL);
    CHECK_EQ_STR(t.scope, "");
    REQUIRE(oidc_verify_access(&o.d, t.access_token, strlen(t.access_token), timefmt_now(), &a) ==
            OUTCOME_OK);
    CHECK_EQ_STR(a.sub, "svc");
    CHECK_EQ_STR(a.client_id, "svc");
    CHECK_EQ_INT(a.user_id, 0);
    CHECK_EQ_STR(a.sid, "");
    CHECK_EQ_INT(oidc_client_credentials(&o.d, &pub, 0, timefmt_now(), &u), OUTCOME_BAD_CLIENT);
    /* RFC 7009 §2.2: another client's token, or none of ours, is OK and
     * changes nothing. */
    CHECK_EQ_INT(oidc_revoke(&o.d, &other, t.access_token, strlen(t.access_token), timefmt_now()),
                 OUTCOME_OK);
    CHECK_EQ_INT(
        oidc_verify_access(&o.d, t.access_token, strlen(t.access_token), timefmt_now(), &a),
        OUTCOME_OK);
    CHECK_EQ_INT(oidc_revoke(&o.d, &c, "garbage", 7, timefmt_now()), OUTCOME_OK);
    CHECK_EQ_INT(oidc_revoke(&o.d, &c, t.access_token, strlen(t.access_token), timefmt_now()),
                 OUTCOME_OK);
    CHECK_EQ_INT(
        oidc_verify_access(&o.d, t.access_token, strlen(t.access_token), timefmt_now(), &a),
        OUTCOME_TOKEN_INVALID);
    oidc_tokens_free(&t);
    /* A refresh token revoked: its session, access tokens included. */
    code_for(&o, &c, OIDC_SCOPE_OPENID | OIDC_SCOPE_OFFLINE, NULL, timefmt_now(), code);
    REQUIRE(redeem(&o, &c, code, NULL, &t) == OUTCOME_OK);
    CHECK_EQ_INT(oidc_revoke(&o.d, &other, t.refresh_token, strlen(t.refresh_token), timefmt_now()),
                 OUTCOME_OK);
    CHECK_EQ_INT(
        oidc_verify_access(&o.d, t.access_token, strlen(t.access_token), timefmt_now(), &a),
        OUTCOME_OK);
    CHECK_EQ_INT(oidc_revoke(&o.d, &c, t.refresh_token, strlen(t.refresh_token), timefmt_now()),
                 OUTCOME_OK);
    CHECK_EQ_INT(
        oidc_verify_access(&o.d, t.access_token, strlen(t.access_token), timefmt_now(), &a),
        OUTCOME_TOKEN_INVALID);
    CHECK_EQ_INT(oidc_refresh(&o.d, &c, t.refresh_token, strlen(t.refresh_token), &u),
                 OUTCOME_BAD_GRANT);
    oidc_tokens_free(&t);
    oidc_client_free(&c);
    oidc_client_free(&other);
    oidc_client_free(&pub);
    oidc_fixture_close(&o);
}

TEST(oidc_logout_and_delete_end_client_sessions)
{
    struct oidc_fixture o;
    struct oidc_client c;
    struct oidc_tokens t, u;
    struct oidc_access a;
    struct oidc_sso sso;
    char secret[OIDC_SECRET_LEN + 1], code[OIDC_CODE_LEN + 1], cookie[OIDC_SSO_LEN + 1];
    unsigned scopes = OIDC_SCOPE_OPENID | OIDC_SCOPE_OFFLINE;

    REQUIRE(oidc_fixture_open(&o) == 0);
    add_client(&o, "conf", true, secret, &c);
    code_for(&o, &c, scopes, NULL, timefmt_now(), code);
    REQUIRE(redeem(&o, &c, code, NULL, &t) == OUTCOME_OK);
    REQUIRE(oidc_sso_bind(o.f.store, o.sso_sid, cookie) == OUTCOME_OK);
    CHECK_EQ_INT(oidc_sso_get(&o.f.sessions, cookie, strlen(cookie), timefmt_now(), &sso),
                 OUTCOME_OK);
    CHECK_EQ_INT(sso.user_id, o.u.id);
    CHECK_EQ_STR(sso.username, "erin");
    CHECK_EQ_INT(sso.amr, JWT_AMR_PWD | JWT_AMR_OTP);
    CHECK_EQ_INT(oidc_sso_get(&o.f.sessions, "x", 1, timefmt_now(), &sso), OUTCOME_TOKEN_INVALID);
    REQUIRE(oidc_logout(&o.f.sessions, o.sso_sid) == OUTCOME_OK);
    CHECK_EQ_INT(oidc_sso_get(&o.f.sessions, cookie, strlen(cookie), timefmt_now(), &sso),
                 OUTCOME_TOKEN_INVALID);
    CHECK_EQ_INT(
        oidc_verify_access(&o.d, t.access_token, strlen(t.access_token), timefmt_now(), &a),
        OUTCOME_TOKEN_INVALID);
    CHECK_EQ_INT(oidc_refresh(&o.d, &c, t.refresh_token, strlen(t.refresh_token), &u),
                 OUTCOME_BAD_GRANT);
    /* A code issued before the logout no longer exchanges. */
    oidc_tokens_free(&t);
    oidc_client_free(&c);
    oidc_fixture_close(&o);

    /* Deleting the client: its sessions end, its consents go. */
    REQUIRE(oidc_fixture_open(&o) == 0);
    add_client(&o, "conf", true, secret, &c);
    code_for(&o, &c, scopes, NULL, timefmt_now(), code);
    REQUIRE(redeem(&o, &c, code, NULL, &t) == OUTCOME_OK);
    REQUIRE(oidc_consent_grant(o.f.store, o.u.id, "conf", OIDC_SCOPE_OPENID, timefmt_now()) ==
            OUTCOME_OK);
    CHECK_EQ_INT(oidc_clients_delete(&o.f.sessions, "conf", 4), OUTCOME_OK);
    CHECK_EQ_INT(oidc_clients_delete(&o.f.sessions, "conf", 4), OUTCOME_NOT_FOUND);
    CHECK_EQ_INT(
        oidc_verify_access(&o.d, t.access_token, strlen(t.access_token), timefmt_now(), &a),
        OUTCOME_TOKEN_INVALID);
    CHECK_EQ_INT(oidc_refresh(&o.d, &c, t.refresh_token, strlen(t.refresh_token), &u),
                 OUTCOME_BAD_GRANT);
    bool covered = true;
    REQUIRE(oidc_consent_covers(o.f.store, o.u.id, "conf", OIDC_SCOPE_OPENID, &covered) ==
            OUTCOME_OK);
    CHECK(!covered);
    struct oidc_client gone;
    CHECK_EQ_INT(oidc_client_get(o.f.store, "conf", 4, &gone), OUTCOME_NOT_FOUND);
    oidc_tokens_free(&t);
    oidc_client_free(&c);
    oidc_fixture_close(&o);
}

TEST(oidc_logout_before_exchange)
{
    struct oidc_fixture o;
    struct oidc_client c;
    struct oidc_tokens t;
    char secret[OIDC_SECRET_LEN + 1], code[OIDC_CODE_LEN + 1];

    REQUIRE(oidc_fixture_open(&o) == 0);
    add_client(&o, "conf", true, secret, &c);
    code_for(&o, &c, OIDC_SCOPE_OPENID, NULL, timefmt_now(), code);
    REQUIRE(oidc_logout(&o.f.sessions, o.sso_sid) == OUTCOME_OK);
    CHECK_EQ_INT(redeem(&o, &c, code, NULL, &t), OUTCOME_BAD_GRANT);
    CHECK(t.access_token == NULL);
    oidc_client_free(&c);
    oidc_fixture_close(&o);
}

TEST(oidc_consents_union)
{
    struct oidc_fixture o;
    struct oidc_client c;
    char secret[OIDC_SECRET_LEN + 1];
    bool covered = true;
    unsigned op = OIDC_SCOPE_OPENID | OIDC_SCOPE_PROFILE;

    REQUIRE(oidc_fixture_open(&o) == 0);
    add_client(&o, "conf", true, secret, &c);
    REQUIRE(oidc_consent_covers(o.f.store, o.u.id, "conf", OIDC_SCOPE_OPENID, &covered) ==
            OUTCOME_OK);
    CHECK(!covered);
    REQUIRE(oidc_consent_grant(o.f.store, o.u.id, "conf", op, timefmt_now()) == OUTCOME_OK);
    REQUIRE(oidc_consent_covers(o.f.store, o.u.id, "conf", OIDC_SCOPE_OPENID, &covered) ==
            OUTCOME_OK);
    CHECK(covered);
    REQUIRE(oidc_consent_covers(o.f.store, o.u.id, "conf", op | OIDC_SCOPE_EMAIL, &covered) ==
            OUTCOME_OK);
    CHECK(!covered);
    REQUIRE(oidc_consent_grant(o.f.store, o.u.id, "conf", OIDC_SCOPE_EMAIL, timefmt_now()) ==
            OUTCOME_OK);
    REQUIRE(oidc_consent_covers(o.f.store, o.u.id, "conf", op | OIDC_SCOPE_EMAIL, &covered) ==
            OUTCOME_OK);
    CHECK(covered);
    /* Per client. */
    REQUIRE(oidc_consent_covers(o.f.store, o.u.id, "else", OIDC_SCOPE_OPENID, &covered) ==
            OUTCOME_OK);
    CHECK(!covered);
    oidc_client_free(&c);
    oidc_fixture_close(&o);
}

TEST(oidc_userinfo_and_acr)
{
    struct oidc_fixture o;
    struct oidc_userinfo ui;

    REQUIRE(oidc_fixture_open(&o) == 0);
    REQUIRE(oidc_userinfo(o.f.store, o.u.id, &ui) == OUTCOME_OK);
    CHECK_EQ_STR(ui.username, "erin");
    CHECK_EQ_STR(ui.email, "");
    CHECK(!ui.email_verified);
    CHECK_EQ_INT(oidc_userinfo(o.f.store, o.u.id + 100, &ui), OUTCOME_TOKEN_INVALID);
    oidc_fixture_close(&o);
}

/* One integer of the fixture's database, read behind the store's back;
 * -1 on error. */
static long long db_int(const struct core_fixture *f, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long v = -1;

    if (sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

TEST(oidc_secrets_stored_as_hashes)
{
    struct oidc_fixture o;
    struct oidc_client c;
    char secret[OIDC_SECRET_LEN + 1], code[OIDC_CODE_LEN + 1], sql[200];

    REQUIRE(oidc_fixture_open(&o) == 0);
    add_client(&o, "conf", true, secret, &c);
    code_for(&o, &c, OIDC_SCOPE_OPENID, NULL, timefmt_now(), code);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM oidc_clients WHERE instr(secret_hash, '%s')",
             secret);
    CHECK_EQ_INT(db_int(&o.f, sql), 0);
    CHECK_EQ_INT(db_int(&o.f, "SELECT length(secret_hash) FROM oidc_clients"), 32);
    snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM oidc_codes WHERE instr(code_hash, '%s')", code);
    CHECK_EQ_INT(db_int(&o.f, sql), 0);
    CHECK_EQ_INT(db_int(&o.f, "SELECT length(code_hash) FROM oidc_codes"), 32);
    oidc_client_free(&c);
    oidc_fixture_close(&o);
}

TEST(oidc_purge_keeps_recent_codes)
{
    struct oidc_fixture o;
    struct oidc_client c;
    char secret[OIDC_SECRET_LEN + 1], code[OIDC_CODE_LEN + 1];

    REQUIRE(oidc_fixture_open(&o) == 0);
    add_client(&o, "conf", true, secret, &c);
    code_for(&o, &c, OIDC_SCOPE_OPENID, NULL, timefmt_now() - 60, code);
    code_for(&o, &c, OIDC_SCOPE_OPENID, NULL, timefmt_now() - 7200, code);
    CHECK_EQ_INT(db_int(&o.f, "SELECT COUNT(*) FROM oidc_codes"), 2);
    /* The one expired an hour ago goes; the one expired a moment ago stays,
     * so that its reuse would still revoke what it issued. */
    oidc_purge(o.f.store, timefmt_now());
    CHECK_EQ_INT(db_int(&o.f, "SELECT COUNT(*) FROM oidc_codes"), 1);
    oidc_client_free(&c);
    oidc_fixture_close(&o);
}

/* header.payload of the JSON texts, signed with key: a token forged with
 * the right key but a header of the test's choosing. */
static char *forge_typed(const jwk *key, const char *header, const char *payload)
{
    size_t hl = strlen(header), pl = strlen(payload);
    char *out = malloc(2 * (hl + pl) + 2 * JWK_SIG_MAX + 8);
    unsigned char sig[JWK_SIG_MAX];

    if (out == NULL)
        return NULL;
    size_t n = b64url_encode(out, header, hl);
    out[n++] = '.';
    n += b64url_encode(out + n, payload, pl);
    if (jwk_sign(key, out, n, sig) != 0) {
        free(out);
        return NULL;
    }
    out[n++] = '.';
    n += b64url_encode(out + n, sig, jwk_sig_len(key));
    out[n] = '\0';
    return out;
}

TEST(jwt_typed_tokens)
{
    struct oidc_fixture o;
    json_t *claims = json_pack("{s:s}", "sub", "1"), *got = NULL;
    char header[256];
    /* Headers signed by the right key but not ours: crit, another alg,
     * none, no typ, an unknown kid, typ in another case. The kid goes
     * between the two halves. */
    static const char *const bad[][2] = {
        {"{\"alg\":\"EdDSA\",\"kid\":\"", "\",\"typ\":\"at+jwt\",\"crit\":[\"exp\"]}"},
        {"{\"alg\":\"RS256\",\"kid\":\"", "\",\"typ\":\"at+jwt\"}"},
        {"{\"alg\":\"none\",\"kid\":\"", "\",\"typ\":\"at+jwt\"}"},
        {"{\"alg\":\"EdDSA\",\"kid\":\"", "\"}"},
        {"{\"alg\":\"EdDSA\",\"kid\":\"", "x\",\"typ\":\"at+jwt\"}"},
        {"{\"alg\":\"EdDSA\",\"kid\":\"", "\",\"typ\":\"AT+JWT\"}"},
    };

    REQUIRE(oidc_fixture_open(&o) == 0);
    const keyset_gen *g = keyset_get(o.keys);
    const jwt_key *k = keyset_jwt(g);
    const jwk *key = jwt_key_at(k, 0);
    char *t = jwt_sign_json(k, "at+jwt", claims);
    REQUIRE(t != NULL);
    CHECK_EQ_INT(jwt_verify_json(k, "at+jwt", t, strlen(t), &got), JWT_OK);
    CHECK(got != NULL && strcmp(json_string_value(json_object_get(got, "sub")), "1") == 0);
    json_decref(got);
    /* Another typ, or a changed byte. */
    CHECK_EQ_INT(jwt_verify_json(k, "JWT", t, strlen(t), &got), JWT_BAD_HEADER);
    CHECK(got == NULL);
    t[strlen(t) - 60] ^= 1;
    CHECK(jwt_verify_json(k, "at+jwt", t, strlen(t), &got) != JWT_OK);
    CHECK(got == NULL);
    free(t);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(header, sizeof header, "%s%s%s", bad[i][0], jwk_kid(key), bad[i][1]);
        char *f = forge_typed(key, header, "{\"sub\":\"1\"}");
        REQUIRE(f != NULL);
        CHECK_EQ_INT(jwt_verify_json(k, "at+jwt", f, strlen(f), &got), JWT_BAD_HEADER);
        CHECK(got == NULL);
        free(f);
    }
    /* The same forgery with our header verifies: the refusals above are
     * the header's. */
    snprintf(header, sizeof header, "%s%s%s", bad[1][0], jwk_kid(key), bad[1][1]);
    memcpy(header + 8, "EdDSA", 5);
    char *f = forge_typed(key, header, "{\"sub\":\"1\"}");
    REQUIRE(f != NULL);
    CHECK_EQ_INT(jwt_verify_json(k, "at+jwt", f, strlen(f), &got), JWT_OK);
    json_decref(got);
    free(f);
    keyset_put(g);
    /* An HS256 key signs and verifies no typed token. */
    CHECK(jwt_sign_json(o.f.jwt, "at+jwt", claims) == NULL);
    CHECK_EQ_INT(jwt_verify_json(o.f.jwt, "at+jwt", "a.b.c", 5, &got), JWT_BAD_HEADER);
    CHECK_EQ_INT(jwt_verify_json(o.f.jwt, "at+jwt", "abc", 3, &got), JWT_MALFORMED);
    json_decref(claims);
    oidc_fixture_close(&o);
}
