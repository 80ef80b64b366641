/* core/flows: the pending steps of sign-ins, on each backend (store/tdb.h):
 * tokens stored by their hash, kinds kept apart, expiry, the attempt limit,
 * single use under a race, the purge. */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/flows.h"
#include "store/store.h"
#include "store/tdb.h"
#include "test.h"

static int64_t new_user(store *s, const char *name)
{
    struct store_user u;

    if (store_user_create(s, NULL, name, name, "$2b$04$h", T0, &u) != STORE_OK)
        return 0;
    return u.id;
}

/* Rows of mfa_flows whose id_hash is the SHA-256 of token. */
static long long rows_of(const struct tdb *t, const char *token)
{
    unsigned char h[32];
    char hex[65], sql[200];

    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    if (t->b == SQLITE)
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM mfa_flows WHERE id_hash = X'%s'", hex);
    else
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM mfa_flows WHERE id_hash = '\\x%s'::bytea",
                 hex);
    return tdb_int(t, sql);
}

STORE_CASE(flows_begin_get, 1)
{
    char tok[FLOWS_TOKEN_LEN + 1], tok2[FLOWS_TOKEN_LEN + 1];
    unsigned char ch[FLOWS_CHALLENGE_LEN];
    struct flows_flow f;
    int64_t uid = new_user(s, "ann");

    REQUIRE(uid > 0);
    CHECK_EQ_INT(flows_begin(s, FLOWS_MFA, uid, 3, NULL, T0, tok), OUTCOME_OK);
    CHECK_EQ_INT(strlen(tok), FLOWS_TOKEN_LEN);
    CHECK_EQ_INT(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                 FLOWS_TOKEN_LEN);
    /* Only its SHA-256 is stored. */
    CHECK_EQ_INT(rows_of(t, tok), 1);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM mfa_flows WHERE length(id_hash) = 32"), 1);
    CHECK_EQ_INT(flows_get(s, FLOWS_MFA, tok, strlen(tok), T0 + 1, &f), OUTCOME_OK);
    CHECK_EQ_INT(f.kind, FLOWS_MFA);
    CHECK_EQ_INT(f.user_id, uid);
    CHECK_EQ_INT(f.credential_version, 3);
    CHECK(!f.has_challenge);
    CHECK_EQ_INT(f.attempts, 0);
    CHECK_EQ_INT(f.expires_at, T0 + FLOWS_TTL_SECONDS);
    /* Kinds are kept apart. */
    CHECK_EQ_INT(flows_get(s, FLOWS_PASSKEY_LOGIN, tok, strlen(tok), T0 + 1, &f), OUTCOME_BAD_CODE);
    /* A challenge, and no user yet (a username-less passkey sign-in). */
    for (size_t i = 0; i < sizeof ch; i++)
        ch[i] = (unsigned char)(0xa0 + i);
    CHECK_EQ_INT(flows_begin(s, FLOWS_PASSKEY_LOGIN, 0, 0, ch, T0, tok2), OUTCOME_OK);
    CHECK(strcmp(tok, tok2) != 0);
    CHECK_EQ_INT(flows_get(s, FLOWS_PASSKEY_LOGIN, tok2, strlen(tok2), T0 + 1, &f), OUTCOME_OK);
    CHECK_EQ_INT(f.user_id, 0);
    CHECK(f.has_challenge);
    CHECK(memcmp(f.challenge, ch, sizeof ch) == 0);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM mfa_flows WHERE user_id IS NULL"), 1);
    /* Expiry: live until expires_at, not at it. */
    CHECK_EQ_INT(flows_get(s, FLOWS_MFA, tok, strlen(tok), T0 + FLOWS_TTL_SECONDS - 1, &f),
                 OUTCOME_OK);
    CHECK_EQ_INT(flows_get(s, FLOWS_MFA, tok, strlen(tok), T0 + FLOWS_TTL_SECONDS, &f),
                 OUTCOME_BAD_CODE);
    CHECK_EQ_INT(flows_finish(s, tok, strlen(tok), T0 + FLOWS_TTL_SECONDS), OUTCOME_BAD_CODE);
    /* Deleting the user ends its flows. */
    CHECK_EQ_INT(store_user_delete(s, NULL, uid), STORE_OK);
    CHECK_EQ_INT(rows_of(t, tok), 0);
}

STORE_CASE(flows_malformed_tokens, 1)
{
    char tok[FLOWS_TOKEN_LEN + 1], bad[FLOWS_TOKEN_LEN + 2];
    struct flows_flow f;
    bool spent = false;
    int64_t uid = new_user(s, "bob");

    REQUIRE(uid > 0);
    REQUIRE(flows_begin(s, FLOWS_MFA, uid, 1, NULL, T0, tok) == OUTCOME_OK);
    /* Too short, too long, a foreign character, padding, the unused low
     * bits set: refused before any query, as an unknown token is. */
    CHECK_EQ_INT(flows_get(s, FLOWS_MFA, tok, FLOWS_TOKEN_LEN - 1, T0, &f), OUTCOME_BAD_CODE);
    memcpy(bad, tok, FLOWS_TOKEN_LEN);
    bad[FLOWS_TOKEN_LEN] = 'A';
    bad[FLOWS_TOKEN_LEN + 1] = '\0';
    CHECK_EQ_INT(flows_get(s, FLOWS_MFA, bad, FLOWS_TOKEN_LEN + 1, T0, &f), OUTCOME_BAD_CODE);
    memcpy(bad, tok, FLOWS_TOKEN_LEN + 1);
    bad[5] = '+';
    CHECK_EQ_INT(flows_get(s, FLOWS_MFA, bad, FLOWS_TOKEN_LEN, T0, &f), OUTCOME_BAD_CODE);
    bad[5] = tok[5];
    bad[FLOWS_TOKEN_LEN - 1] = '=';
    CHECK_EQ_INT(flows_get(s, FLOWS_MFA, bad, FLOWS_TOKEN_LEN, T0, &f), OUTCOME_BAD_CODE);
    /* The last character carries 2 bits of the hash and 4 unused ones. */
    bad[FLOWS_TOKEN_LEN - 1] = tok[FLOWS_TOKEN_LEN - 1] == 'B' ? 'C' : 'B';
    CHECK_EQ_INT(flows_get(s, FLOWS_MFA, bad, FLOWS_TOKEN_LEN, T0, &f), OUTCOME_BAD_CODE);
    CHECK_EQ_INT(flows_get(s, FLOWS_MFA, NULL, 0, T0, &f), OUTCOME_BAD_CODE);
    CHECK_EQ_INT(flows_finish(s, "", 0, T0), OUTCOME_BAD_CODE);
    CHECK_EQ_INT(flows_reserve(s, "x", 1, T0, &spent), OUTCOME_BAD_CODE);
    CHECK(spent);
    /* An unknown well-formed token. */
    memcpy(bad, tok, FLOWS_TOKEN_LEN + 1);
    bad[0] = tok[0] == 'A' ? 'B' : 'A';
    CHECK_EQ_INT(flows_get(s, FLOWS_MFA, bad, FLOWS_TOKEN_LEN, T0, &f), OUTCOME_BAD_CODE);
    /* The real one is untouched by all that. */
    CHECK_EQ_INT(flows_get(s, FLOWS_MFA, tok, FLOWS_TOKEN_LEN, T0, &f), OUTCOME_OK);
    CHECK_EQ_INT(f.attempts, 0);
    CHECK_EQ_INT(tdb_int(t, "SELECT attempts FROM mfa_flows"), 0);
}

STORE_CASE(flows_single_use, 1)
{
    char tok[FLOWS_TOKEN_LEN + 1];
    struct flows_flow f;
    bool spent = false;
    int64_t uid = new_user(s, "cat");

    REQUIRE(uid > 0);
    REQUIRE(flows_begin(s, FLOWS_MFA, uid, 1, NULL, T0, tok) == OUTCOME_OK);
    CHECK_EQ_INT(flows_finish(s, tok, FLOWS_TOKEN_LEN, T0 + 1), OUTCOME_OK);
    CHECK_EQ_INT(flows_finish(s, tok, FLOWS_TOKEN_LEN, T0 + 1), OUTCOME_BAD_CODE);
    CHECK_EQ_INT(flows_get(s, FLOWS_MFA, tok, FLOWS_TOKEN_LEN, T0 + 1, &f), OUTCOME_BAD_CODE);
    CHECK_EQ_INT(flows_reserve(s, tok, FLOWS_TOKEN_LEN, T0 + 1, &spent), OUTCOME_BAD_CODE);
    CHECK(spent);
    CHECK_EQ_INT(tdb_int(t, "SELECT used_at FROM mfa_flows"), T0 + 1);
}

STORE_CASE(flows_attempts, 1)
{
    char tok[FLOWS_TOKEN_LEN + 1];
    struct flows_flow f;
    bool spent = true;
    int64_t uid = new_user(s, "dan");

    REQUIRE(uid > 0);
    REQUIRE(flows_begin(s, FLOWS_MFA, uid, 1, NULL, T0, tok) == OUTCOME_OK);
    for (int i = 1; i < FLOWS_MAX_ATTEMPTS; i++) {
        CHECK_EQ_INT(flows_reserve(s, tok, FLOWS_TOKEN_LEN, T0 + 1, &spent), OUTCOME_OK);
        CHECK(!spent);
        CHECK_EQ_INT(flows_get(s, FLOWS_MFA, tok, FLOWS_TOKEN_LEN, T0 + 1, &f), OUTCOME_OK);
        CHECK_EQ_INT(f.attempts, i);
    }
    /* The last wrong answer ends it: the right one then comes too late. */
    CHECK_EQ_INT(flows_reserve(s, tok, FLOWS_TOKEN_LEN, T0 + 1, &spent), OUTCOME_OK);
    CHECK(spent);
    CHECK_EQ_INT(flows_get(s, FLOWS_MFA, tok, FLOWS_TOKEN_LEN, T0 + 1, &f), OUTCOME_BAD_CODE);
    CHECK_EQ_INT(flows_finish(s, tok, FLOWS_TOKEN_LEN, T0 + 1), OUTCOME_BAD_CODE);
    CHECK_EQ_INT(flows_reserve(s, tok, FLOWS_TOKEN_LEN, T0 + 1, &spent), OUTCOME_BAD_CODE);
    CHECK(spent);
    CHECK_EQ_INT(tdb_int(t, "SELECT attempts FROM mfa_flows"), FLOWS_MAX_ATTEMPTS);
    CHECK_EQ_INT(flows_finish_reserved(s, tok, FLOWS_TOKEN_LEN, T0 + 1), OUTCOME_OK);
    CHECK_EQ_INT(flows_finish_reserved(s, tok, FLOWS_TOKEN_LEN, T0 + 1), OUTCOME_BAD_CODE);
}

struct finisher {
    store *s;
    const char *tok;
    pthread_barrier_t *start;
    enum outcome rc;
};

static void *finish_once(void *arg)
{
    struct finisher *f = arg;

    pthread_barrier_wait(f->start);
    f->rc = flows_finish(f->s, f->tok, FLOWS_TOKEN_LEN, T0 + 1);
    return NULL;
}

STORE_CASE(flows_finish_race, 4)
{
    enum { N = 20 };
    struct finisher c[N];
    pthread_t th[N];
    pthread_barrier_t start;
    char tok[FLOWS_TOKEN_LEN + 1];
    int won = 0, lost = 0;
    int64_t uid = new_user(s, "eve");

    (void)t;
    REQUIRE(uid > 0);
    REQUIRE(flows_begin(s, FLOWS_MFA, uid, 1, NULL, T0, tok) == OUTCOME_OK);
    pthread_barrier_init(&start, NULL, N);
    for (int i = 0; i < N; i++) {
        c[i] = (struct finisher){.s = s, .tok = tok, .start = &start};
        CHECK_EQ_INT(pthread_create(&th[i], NULL, finish_once, &c[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        won += c[i].rc == OUTCOME_OK;
        lost += c[i].rc == OUTCOME_BAD_CODE;
    }
    pthread_barrier_destroy(&start);
    CHECK_EQ_INT(won, 1);
    CHECK_EQ_INT(lost, N - 1);
}

STORE_CASE(flows_purge, 1)
{
    char live[FLOWS_TOKEN_LEN + 1], used[FLOWS_TOKEN_LEN + 1], old[FLOWS_TOKEN_LEN + 1];
    struct flows_flow f;
    int64_t uid = new_user(s, "fay");

    REQUIRE(uid > 0);
    REQUIRE(flows_begin(s, FLOWS_MFA, uid, 1, NULL, T0, old) == OUTCOME_OK);
    REQUIRE(flows_begin(s, FLOWS_MFA, uid, 1, NULL, T0 + 100, used) == OUTCOME_OK);
    REQUIRE(flows_begin(s, FLOWS_MFA, uid, 1, NULL, T0 + 100, live) == OUTCOME_OK);
    REQUIRE(flows_finish(s, used, FLOWS_TOKEN_LEN, T0 + 101) == OUTCOME_OK);
    flows_purge(s, T0 + FLOWS_TTL_SECONDS);
    CHECK_EQ_INT(rows_of(t, old), 0);
    CHECK_EQ_INT(rows_of(t, used), 0);
    CHECK_EQ_INT(rows_of(t, live), 1);
    CHECK_EQ_INT(flows_get(s, FLOWS_MFA, live, FLOWS_TOKEN_LEN, T0 + FLOWS_TTL_SECONDS, &f),
                 OUTCOME_OK);
}
