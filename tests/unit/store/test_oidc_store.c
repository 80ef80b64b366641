/* store/oidc.c on both backends: clients, codes used once, consents, and
 * the sessions a client or a browser's single sign-on adds. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "tdb.h"
#include "test.h"

static int count_client(void *arg, const struct store_oidc_client *c)
{
    int *n = arg;

    (*n)++;
    return c->id != NULL && c->redirect_uris != NULL ? 0 : -1;
}

struct seen {
    char id[65], name[129], uris[256], scopes[64];
    bool has_secret, first_party;
    unsigned char hash[32];
};

static int keep_client(void *arg, const struct store_oidc_client *c)
{
    struct seen *s = arg;

    snprintf(s->id, sizeof s->id, "%s", c->id);
    snprintf(s->name, sizeof s->name, "%s", c->name);
    snprintf(s->uris, sizeof s->uris, "%s", c->redirect_uris);
    snprintf(s->scopes, sizeof s->scopes, "%s", c->scopes);
    s->has_secret = c->has_secret;
    s->first_party = c->first_party;
    memcpy(s->hash, c->secret_hash, 32);
    return 0;
}

static void add(store *s, const char *id, bool secret, enum store_status want)
{
    struct store_oidc_client c = {0};

    c.id = id;
    c.name = "App";
    c.has_secret = secret;
    memset(c.secret_hash, 0x5a, sizeof c.secret_hash);
    c.redirect_uris = "https://a.example/cb\nhttps://b.example/cb\n";
    c.post_logout_uris = "";
    c.scopes = "openid profile";
    c.first_party = !secret;
    c.created_at = T0;
    CHECK_EQ_INT(store_oidc_client_add(s, &c), want);
}

STORE_CASE(oidc_clients, 1)
{
    bool any = true;
    int n = 0;
    struct seen got = {0};

    CHECK_EQ_INT(store_oidc_clients_any(s, &any), STORE_OK);
    CHECK(!any);
    add(s, "conf", true, STORE_OK);
    add(s, "pub", false, STORE_OK);
    add(s, "conf", false, STORE_CONFLICT);
    CHECK_EQ_INT(store_oidc_clients_any(s, &any), STORE_OK);
    CHECK(any);
    CHECK_EQ_INT(store_oidc_clients_list(s, count_client, &n), STORE_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(store_oidc_client_get(s, "conf", keep_client, &got), STORE_OK);
    CHECK_EQ_STR(got.id, "conf");
    CHECK_EQ_STR(got.uris, "https://a.example/cb\nhttps://b.example/cb\n");
    CHECK_EQ_STR(got.scopes, "openid profile");
    CHECK(got.has_secret && !got.first_party);
    CHECK_EQ_INT(got.hash[31], 0x5a);
    /* A public client's secret is SQL NULL. */
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM oidc_clients WHERE secret_hash IS NULL"), 1);
    CHECK_EQ_INT(store_oidc_client_get(s, "pub", keep_client, &got), STORE_OK);
    CHECK(!got.has_secret && got.first_party);
    CHECK_EQ_INT(store_oidc_client_get(s, "none", keep_client, &got), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_oidc_client_delete(s, NULL, "pub"), STORE_OK);
    CHECK_EQ_INT(store_oidc_client_delete(s, NULL, "pub"), STORE_NOT_FOUND);
    n = 0;
    CHECK_EQ_INT(store_oidc_clients_list(s, count_client, &n), STORE_OK);
    CHECK_EQ_INT(n, 1);
}

static void make_code(struct store_oidc_code *c, int64_t user_id)
{
    memset(c, 0, sizeof *c);
    snprintf(c->client_id, sizeof c->client_id, "conf");
    c->user_id = user_id;
    snprintf(c->sso_session, sizeof c->sso_session, "browser");
    snprintf(c->redirect_uri, sizeof c->redirect_uri, "https://a.example/cb");
    snprintf(c->scope, sizeof c->scope, "openid");
    snprintf(c->amr, sizeof c->amr, "pwd otp");
    c->auth_time = T0 - 5;
}

STORE_CASE(oidc_codes_used_once, 1)
{
    struct store_user u;
    struct store_oidc_code c, got;
    unsigned char h1[32], h2[32];
    char sid[STORE_ID_MAX + 1];
    int64_t purged = 0;

    memset(h1, 1, sizeof h1);
    memset(h2, 2, sizeof h2);
    REQUIRE(store_user_create(s, NULL, "erin", "erin", "$2b$04$h", T0, &u) == STORE_OK);
    (void)t;
    add(s, "conf", true, STORE_OK);
    make_code(&c, u.id);
    CHECK_EQ_INT(store_oidc_code_add(s, h1, &c, T0, T0 + 60), STORE_OK);
    snprintf(c.nonce, sizeof c.nonce, "abc");
    snprintf(c.code_challenge, sizeof c.code_challenge,
             "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    CHECK_EQ_INT(store_oidc_code_add(s, h2, &c, T0, T0 + 60), STORE_OK);
    /* A code of an unknown client: the foreign key refuses it. */
    snprintf(c.client_id, sizeof c.client_id, "nobody");
    CHECK_EQ_INT(store_oidc_code_add(s, h1, &c, T0, T0 + 60) != STORE_OK, 1);
    CHECK_EQ_INT(store_oidc_code_used_before(s, h1, sid), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_oidc_code_use(s, NULL, h1, T0 + 1, &got), STORE_OK);
    CHECK_EQ_STR(got.client_id, "conf");
    CHECK_EQ_INT(got.user_id, u.id);
    CHECK_EQ_STR(got.sso_session, "browser");
    CHECK_EQ_STR(got.redirect_uri, "https://a.example/cb");
    CHECK_EQ_STR(got.nonce, "");
    CHECK_EQ_STR(got.code_challenge, "");
    CHECK_EQ_STR(got.amr, "pwd otp");
    CHECK_EQ_INT(got.auth_time, T0 - 5);
    CHECK_EQ_INT(store_oidc_code_use(s, NULL, h1, T0 + 2, &got), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_oidc_code_used_before(s, h1, sid), STORE_OK);
    CHECK_EQ_STR(sid, "");
    CHECK_EQ_INT(store_oidc_code_issued(s, NULL, h1, "client-sid"), STORE_OK);
    CHECK_EQ_INT(store_oidc_code_used_before(s, h1, sid), STORE_OK);
    CHECK_EQ_STR(sid, "client-sid");
    /* Expired: not used. */
    CHECK_EQ_INT(store_oidc_code_use(s, NULL, h2, T0 + 60, &got), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_oidc_code_use(s, NULL, h2, T0 + 59, &got), STORE_OK);
    CHECK_EQ_STR(got.nonce, "abc");
    CHECK_EQ_STR(got.code_challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    CHECK_EQ_INT(store_oidc_codes_purge(s, T0 + 59, &purged), STORE_OK);
    CHECK_EQ_INT(purged, 0);
    CHECK_EQ_INT(store_oidc_codes_purge(s, T0 + 60, &purged), STORE_OK);
    CHECK_EQ_INT(purged, 2);
}

static void collect(void *arg, const char *sid)
{
    char *all = arg;
    size_t n = strlen(all);

    snprintf(all + n, 256 - n, "%s;", sid);
}

STORE_CASE(oidc_sessions, 1)
{
    struct store_user u;
    struct store_session browser, client, got;
    unsigned char sso[32], h[32];
    char name[STORE_USERNAME_MAX + 1], sid[STORE_ID_MAX + 1], owner[STORE_ID_MAX + 1];
    char all[256] = "";

    REQUIRE(store_user_create(s, NULL, "erin", "erin", "$2b$04$h", T0, &u) == STORE_OK);
    (void)t;
    add(s, "conf", true, STORE_OK);
    memset(&browser, 0, sizeof browser);
    snprintf(browser.id, sizeof browser.id, "browser");
    browser.user_id = u.id;
    memset(browser.refresh_hash, 0x11, 32);
    browser.created_at = T0;
    browser.expires_at = T0 + 1000;
    REQUIRE(store_session_create(s, NULL, &browser) == STORE_OK);
    memset(sso, 0x33, sizeof sso);
    CHECK_EQ_INT(store_session_sso_bind(s, "browser", sso), STORE_OK);
    CHECK_EQ_INT(store_session_sso_bind(s, "nobody", sso), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_session_by_sso(s, sso, T0 + 1, &got, name), STORE_OK);
    CHECK_EQ_STR(got.id, "browser");
    CHECK_EQ_STR(name, "erin");
    CHECK_EQ_STR(got.amr, "pwd");
    CHECK_EQ_INT(got.created_at, T0);
    CHECK_EQ_INT(store_session_by_sso(s, sso, T0 + 1000, &got, name), STORE_NOT_FOUND);
    /* A client's session from a code, begun from the browser's. */
    client = browser;
    snprintf(client.id, sizeof client.id, "client");
    memset(client.refresh_hash, 0x22, 32);
    snprintf(client.client_id, sizeof client.client_id, "conf");
    snprintf(client.scope, sizeof client.scope, "openid offline_access");
    client.auth_time = T0 - 7;
    snprintf(client.sso_session, sizeof client.sso_session, "browser");
    CHECK_EQ_INT(store_session_create_client(s, NULL, &client), STORE_OK);
    CHECK_EQ_INT(store_session_sso_bind(s, "client", sso), STORE_NOT_FOUND); /* not a browser's */
    CHECK_EQ_INT(store_session_by_refresh(s, client.refresh_hash, sid, owner), STORE_OK);
    CHECK_EQ_STR(sid, "client");
    CHECK_EQ_STR(owner, "conf");
    CHECK_EQ_INT(store_session_by_refresh(s, browser.refresh_hash, sid, owner), STORE_OK);
    CHECK_EQ_STR(owner, "");
    CHECK_EQ_INT(store_session_client_of(s, NULL, "client", owner), STORE_OK);
    CHECK_EQ_STR(owner, "conf");
    /* The rotation returns what a client's session carries. */
    memset(h, 0x44, sizeof h);
    CHECK_EQ_INT(store_session_rotate(s, NULL, client.refresh_hash, h, T0 + 2, &got), STORE_OK);
    CHECK_EQ_STR(got.client_id, "conf");
    CHECK_EQ_STR(got.scope, "openid offline_access");
    CHECK_EQ_INT(got.auth_time, T0 - 7);
    CHECK_EQ_STR(got.sso_session, "browser");
    memset(h, 0x55, sizeof h);
    CHECK_EQ_INT(store_session_rotate(s, NULL, browser.refresh_hash, h, T0 + 2, &got), STORE_OK);
    CHECK_EQ_STR(got.client_id, "");
    CHECK_EQ_INT(got.auth_time, T0);
    /* Logout of the browser's sign-in ends the client's too. */
    CHECK_EQ_INT(store_sessions_revoke_of_sso(s, NULL, "browser", T0 + 3, collect, all), STORE_OK);
    CHECK(strstr(all, "browser;") != NULL && strstr(all, "client;") != NULL);
    CHECK_EQ_INT(store_session_by_sso(s, sso, T0 + 4, &got, name), STORE_NOT_FOUND);
    /* Revoking a client's sessions. */
    client.id[0] = 'k';
    memset(client.refresh_hash, 0x66, 32);
    CHECK_EQ_INT(store_session_create_client(s, NULL, &client), STORE_OK);
    all[0] = '\0';
    CHECK_EQ_INT(store_sessions_revoke_of_client(s, NULL, "conf", T0 + 5, collect, all), STORE_OK);
    CHECK_EQ_STR(all, "klient;");
}

STORE_CASE(oidc_consents, 1)
{
    struct store_user u;
    char scope[STORE_SCOPE_MAX + 1];

    REQUIRE(store_user_create(s, NULL, "erin", "erin", "$2b$04$h", T0, &u) == STORE_OK);
    add(s, "conf", true, STORE_OK);
    CHECK_EQ_INT(store_oidc_consent_of(s, u.id, "conf", scope), STORE_OK);
    CHECK_EQ_STR(scope, "");
    CHECK_EQ_INT(store_oidc_consent_put(s, u.id, "conf", "openid", T0), STORE_OK);
    CHECK_EQ_INT(store_oidc_consent_put(s, u.id, "conf", "openid email", T0 + 1), STORE_OK);
    CHECK_EQ_INT(store_oidc_consent_of(s, u.id, "conf", scope), STORE_OK);
    CHECK_EQ_STR(scope, "openid email");
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM oidc_consents"), 1);
    /* They go with their client. */
    CHECK_EQ_INT(store_oidc_client_delete(s, NULL, "conf"), STORE_OK);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM oidc_consents"), 0);
}

struct code_contender {
    store *s;
    pthread_barrier_t *start;
    const unsigned char *hash;
    enum store_status rc;
};

static void *use_once(void *arg)
{
    struct code_contender *c = arg;
    struct store_oidc_code got;

    pthread_barrier_wait(c->start);
    c->rc = store_oidc_code_use(c->s, NULL, c->hash, T0 + 1, &got);
    return NULL;
}

STORE_CASE(oidc_code_race, 4)
{
    enum { N = 16 };
    struct code_contender c[N];
    pthread_t th[N];
    pthread_barrier_t start;
    struct store_user u;
    struct store_oidc_code code;
    unsigned char hash[32];
    int won = 0, lost = 0;

    memset(hash, 7, sizeof hash);
    REQUIRE(store_user_create(s, NULL, "race", "race", "$2b$04$h", T0, &u) == STORE_OK);
    add(s, "conf", true, STORE_OK);
    make_code(&code, u.id);
    REQUIRE(store_oidc_code_add(s, hash, &code, T0, T0 + 60) == STORE_OK);
    pthread_barrier_init(&start, NULL, N);
    for (int i = 0; i < N; i++) {
        c[i] = (struct code_contender){s, &start, hash, STORE_ERROR};
        CHECK_EQ_INT(pthread_create(&th[i], NULL, use_once, &c[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        won += c[i].rc == STORE_OK;
        lost += c[i].rc == STORE_NOT_FOUND;
    }
    pthread_barrier_destroy(&start);
    /* One code, sixteen exchanges at once: exactly one gets it. */
    CHECK_EQ_INT(won, 1);
    CHECK_EQ_INT(lost, N - 1);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM oidc_codes WHERE used_at IS NOT NULL"), 1);
}
