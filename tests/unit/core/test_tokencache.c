/* core/tokencache: the cache of verified access tokens. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/tokencache.h"
#include "test.h"

#define NOW ((int64_t)1700000000)

static struct jwt_claims claims_of(int64_t id, const char *name, int64_t exp)
{
    struct jwt_claims c = {.user_id = id, .iat = NOW - 5, .exp = exp};

    snprintf(c.username, sizeof c.username, "%s", name);
    snprintf(c.sid, sizeof c.sid, "sid-%lld", (long long)id);
    return c;
}

static void put(tokencache *c, const char *token, uint64_t gen, const struct jwt_claims *cl)
{
    uint8_t d[TOKENCACHE_DIGEST];

    tokencache_digest(c, token, strlen(token), d);
    tokencache_put(c, d, gen, cl);
}

static bool get(tokencache *c, const char *token, uint64_t gen, int64_t now, struct jwt_claims *out)
{
    uint8_t d[TOKENCACHE_DIGEST];

    tokencache_digest(c, token, strlen(token), d);
    return tokencache_get(c, d, gen, now, out);
}

TEST(tokencache_hit_copies_claims)
{
    tokencache *c = tokencache_create(64);
    struct jwt_claims in = claims_of(42, "Alice \xc3\xa9", NOW + 60), out;
    uint64_t hits, misses;

    in.amr = JWT_AMR_PWD | JWT_AMR_OTP;
    REQUIRE(c != NULL);
    CHECK(!get(c, "tok.a.sig", 0, NOW, &out));
    put(c, "tok.a.sig", 0, &in);
    memset(&out, 0xab, sizeof out);
    REQUIRE(get(c, "tok.a.sig", 0, NOW, &out));
    CHECK_EQ_INT(out.user_id, 42);
    CHECK_EQ_STR(out.username, "Alice \xc3\xa9");
    CHECK_EQ_STR(out.sid, "sid-42");
    CHECK_EQ_INT(out.iat, NOW - 5);
    CHECK_EQ_INT(out.exp, NOW + 60);
    CHECK_EQ_INT(out.amr, JWT_AMR_PWD | JWT_AMR_OTP);
    /* The whole token is the key: a prefix, one more byte or one byte
     * changed is another token. */
    CHECK(!get(c, "tok.a.si", 0, NOW, &out));
    CHECK(!get(c, "tok.a.sig2", 0, NOW, &out));
    CHECK(!get(c, "tok.a.siG", 0, NOW, &out));
    tokencache_counts(c, &hits, &misses);
    CHECK_EQ_INT(hits, 1);
    CHECK_EQ_INT(misses, 4);
    tokencache_free(c);
}

TEST(tokencache_carries_roles_email)
{
    tokencache *c = tokencache_create(64);
    struct jwt_claims in = claims_of(7, "bo", NOW + 60), out;

    REQUIRE(c != NULL);
    snprintf(in.roles, sizeof in.roles, "admin,ops");
    snprintf(in.email, sizeof in.email, "bo@example.com");
    put(c, "tok.r.sig", 0, &in);
    memset(&out, 0xab, sizeof out);
    REQUIRE(get(c, "tok.r.sig", 0, NOW, &out));
    CHECK_EQ_STR(out.username, "bo");
    CHECK_EQ_STR(out.roles, "admin,ops");
    CHECK_EQ_STR(out.email, "bo@example.com");
    /* None of either: read back "", not what the caller's buffer held. */
    struct jwt_claims none = claims_of(8, "cy", NOW + 60);
    put(c, "tok.n.sig", 0, &none);
    memset(&out, 0xab, sizeof out);
    REQUIRE(get(c, "tok.n.sig", 0, NOW, &out));
    CHECK_EQ_STR(out.username, "cy");
    CHECK_EQ_STR(out.roles, "");
    CHECK_EQ_STR(out.email, "");
    tokencache_free(c);
}

TEST(tokencache_expired_and_old_keys_miss)
{
    tokencache *c = tokencache_create(64);
    struct jwt_claims in = claims_of(7, "bob", NOW + 60), out;

    REQUIRE(c != NULL);
    put(c, "t1", 3, &in);
    CHECK(get(c, "t1", 3, NOW + 59, &out));
    /* At exp the token has expired (RFC 7519 §4.1.4): the full check
     * answers, with its leeway. */
    CHECK(!get(c, "t1", 3, NOW + 60, &out));
    /* Keys reloaded: verified under generation 3, not under 4. */
    CHECK(!get(c, "t1", 4, NOW, &out));
    /* Verified again under the new keys, the same token takes its entry. */
    put(c, "t1", 4, &in);
    CHECK(get(c, "t1", 4, NOW, &out));
    CHECK(!get(c, "t1", 3, NOW, &out));
    tokencache_free(c);
}

TEST(tokencache_full_set_drops_first_to_expire)
{
    /* Eight entries: one set of eight ways. */
    tokencache *c = tokencache_create(8);
    struct jwt_claims out;
    char tok[32];

    REQUIRE(c != NULL);
    CHECK_EQ_INT(tokencache_capacity(c), 8);
    for (int i = 0; i < 8; i++) {
        struct jwt_claims in = claims_of(i, "u", NOW + 100 + (i == 3 ? -50 : i));
        snprintf(tok, sizeof tok, "token-%d", i);
        put(c, tok, 0, &in);
    }
    struct jwt_claims late = claims_of(99, "late", NOW + 1000);
    put(c, "token-late", 0, &late);
    CHECK(get(c, "token-late", 0, NOW, &out));
    CHECK(!get(c, "token-3", 0, NOW, &out)); /* it expired first */
    for (int i = 0; i < 8; i++) {
        snprintf(tok, sizeof tok, "token-%d", i);
        if (i != 3)
            CHECK(get(c, tok, 0, NOW, &out));
    }
    tokencache_free(c);
}

/* Puts n tokens "<prefix>-<i>" (user i) into c, then looks each up again;
 * every hit must give its own user. Returns the hits. */
static int fill_and_count(tokencache *c, const char *prefix, int n)
{
    struct jwt_claims out;
    char tok[32];
    int found = 0;

    for (int i = 0; i < n; i++) {
        struct jwt_claims in = claims_of(i, prefix, NOW + 60);
        snprintf(tok, sizeof tok, "%s-%d", prefix, i);
        put(c, tok, 0, &in);
    }
    for (int i = 0; i < n; i++) {
        snprintf(tok, sizeof tok, "%s-%d", prefix, i);
        if (get(c, tok, 0, NOW, &out)) {
            found++;
            CHECK_EQ_INT(out.user_id, i);
        }
    }
    return found;
}

TEST(tokencache_bounded)
{
    tokencache *c = tokencache_create(100);

    REQUIRE(c != NULL);
    /* Rounded up to whole sets of eight, a power of two of them. */
    CHECK_EQ_INT(tokencache_capacity(c), 128);
    int found = fill_and_count(c, "many", 5000);
    CHECK(found > 0 && found <= 128);
    tokencache_free(c);
}

TEST(tokencache_none_and_keys)
{
    tokencache *a = tokencache_create(16), *b = tokencache_create(16);
    uint8_t da[TOKENCACHE_DIGEST], da2[TOKENCACHE_DIGEST], db[TOKENCACHE_DIGEST];
    uint64_t hits = 1, misses = 1;

    CHECK(tokencache_create(0) == NULL);
    CHECK_EQ_INT(tokencache_capacity(NULL), 0);
    tokencache_counts(NULL, &hits, &misses);
    CHECK(hits == 0 && misses == 0);
    tokencache_free(NULL);
    REQUIRE(a != NULL && b != NULL);
    /* Same token, same cache: same digest; another process's cache has
     * another key, so another digest. */
    tokencache_digest(a, "x.y.z", 5, da);
    tokencache_digest(a, "x.y.z", 5, da2);
    tokencache_digest(b, "x.y.z", 5, db);
    CHECK(memcmp(da, da2, sizeof da) == 0);
    CHECK(memcmp(da, db, sizeof da) != 0);
    tokencache_free(a);
    tokencache_free(b);
}

struct hammer {
    tokencache *c;
    int base;
    int wrong;
};

static void *hammer_run(void *arg)
{
    struct hammer *h = arg;
    struct jwt_claims out;
    char tok[32];

    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 300; i++) {
            int id = h->base + i;
            struct jwt_claims in = claims_of(id, "threads", NOW + 60 + i);
            snprintf(tok, sizeof tok, "h-%d", id);
            if (get(h->c, tok, 0, NOW, &out)) {
                if (out.user_id != id || strcmp(out.username, "threads") != 0)
                    h->wrong++;
            } else {
                put(h->c, tok, 0, &in);
            }
        }
    }
    return NULL;
}

TEST(tokencache_threads)
{
    /* Four threads share a cache too small for their tokens: every hit
     * must still give the claims of its own token. */
    tokencache *c = tokencache_create(256);
    struct hammer h[4];
    pthread_t t[4];

    REQUIRE(c != NULL);
    for (int i = 0; i < 4; i++) {
        h[i] = (struct hammer){c, i * 1000, 0};
        REQUIRE(pthread_create(&t[i], NULL, hammer_run, &h[i]) == 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ_INT(h[i].wrong, 0);
    }
    tokencache_free(c);
}

TEST(tokencache_holds_most_of_its_capacity)
{
    /* 10,000 tokens in the default 16,384 entries: each goes to the emptier
     * of its two sets, so all stay (with one set per token, 3.4% of them
     * were dropped). */
    tokencache *c = tokencache_create(16384);

    REQUIRE(c != NULL);
    CHECK(fill_and_count(c, "spread", 10000) >= 9990);
    tokencache_free(c);
}
