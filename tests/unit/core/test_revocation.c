/* core/revocation: the in-memory set of revoked sessions. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/revocation.h"
#include "test.h"

#define NOW ((int64_t)1700000000)

static bool has(revset *r, const char *sid, int64_t now)
{
    return revset_contains(r, sid, strlen(sid), now);
}

static int add(revset *r, const char *sid, int64_t until)
{
    return revset_add(r, sid, strlen(sid), until);
}

TEST(revocation_add_contains)
{
    revset *r = revset_create();

    REQUIRE(r != NULL);
    CHECK(!has(r, "sid-a", NOW));
    CHECK_EQ_INT(add(r, "sid-a", NOW + 60), 0);
    CHECK(has(r, "sid-a", NOW));
    CHECK(has(r, "sid-a", NOW + 59));
    /* Once its tokens have expired anyway, the entry no longer matters. */
    CHECK(!has(r, "sid-a", NOW + 60));
    /* Exact match only: no prefixes, no case folding. */
    CHECK(!has(r, "sid-", NOW));
    CHECK(!has(r, "sid-ab", NOW));
    CHECK(!has(r, "SID-A", NOW));
    CHECK(!revset_contains(r, "sid-a", 0, NOW));
    CHECK_EQ_INT(revset_count(r), 1);
    revset_free(r);
}

TEST(revocation_keeps_later_time)
{
    revset *r = revset_create();

    REQUIRE(r != NULL);
    CHECK_EQ_INT(add(r, "s", NOW + 100), 0);
    CHECK_EQ_INT(add(r, "s", NOW + 10), 0);
    CHECK(has(r, "s", NOW + 50));
    CHECK_EQ_INT(add(r, "s", NOW + 200), 0);
    CHECK(has(r, "s", NOW + 150));
    CHECK_EQ_INT(revset_count(r), 1);
    revset_free(r);
}

TEST(revocation_limits)
{
    char sid[REVSET_SID_MAX + 2];
    revset *r = revset_create();

    REQUIRE(r != NULL);
    memset(sid, 'x', sizeof sid);
    CHECK_EQ_INT(revset_add(r, sid, REVSET_SID_MAX, NOW + 1), 0);
    CHECK(revset_contains(r, sid, REVSET_SID_MAX, NOW));
    CHECK_EQ_INT(revset_add(r, sid, REVSET_SID_MAX + 1, NOW + 1), -1);
    CHECK(!revset_contains(r, sid, REVSET_SID_MAX + 1, NOW));
    CHECK_EQ_INT(revset_add(r, sid, 0, NOW + 1), -1);
    CHECK_EQ_INT(revset_add(r, "y", 1, 0), -1);
    CHECK_EQ_INT(revset_count(r), 1);
    revset_free(r);
}

TEST(revocation_many_and_purge)
{
    enum { N = 10000 };
    char sid[32];
    revset *r = revset_create();
    int found = 0, wrong = 0;

    REQUIRE(r != NULL);
    /* Half expire at NOW + 10, half at NOW + 1000. */
    for (int i = 0; i < N; i++) {
        snprintf(sid, sizeof sid, "session-%d", i);
        CHECK_EQ_INT(add(r, sid, i % 2 == 0 ? NOW + 10 : NOW + 1000), 0);
    }
    CHECK_EQ_INT(revset_count(r), N);
    for (int i = 0; i < N; i++) {
        snprintf(sid, sizeof sid, "session-%d", i);
        found += has(r, sid, NOW);
        snprintf(sid, sizeof sid, "other-%d", i);
        wrong += has(r, sid, NOW);
    }
    CHECK_EQ_INT(found, N);
    CHECK_EQ_INT(wrong, 0);
    CHECK_EQ_INT(revset_purge(r, NOW + 5), 0);
    CHECK_EQ_INT(revset_purge(r, NOW + 10), N / 2);
    CHECK_EQ_INT(revset_count(r), N / 2);
    found = 0;
    for (int i = 0; i < N; i++) {
        snprintf(sid, sizeof sid, "session-%d", i);
        found += has(r, sid, NOW + 10) == (i % 2 == 1);
    }
    CHECK_EQ_INT(found, N);
    CHECK_EQ_INT(revset_purge(r, NOW + 1000), N / 2);
    CHECK_EQ_INT(revset_count(r), 0);
    CHECK(!has(r, "session-1", NOW));
    /* Still usable after shrinking to nothing. */
    CHECK_EQ_INT(add(r, "again", NOW + 5), 0);
    CHECK(has(r, "again", NOW));
    revset_free(r);
}

struct reader {
    revset *r;
    int hits, misses;
};

static void *read_loop(void *arg)
{
    struct reader *rd = arg;

    for (int i = 0; i < 20000; i++) {
        rd->hits += has(rd->r, "always", NOW);
        rd->misses += !has(rd->r, "never", NOW);
    }
    return NULL;
}

TEST(revocation_concurrent)
{
    enum { NREADERS = 3 };
    struct reader rd[NREADERS];
    pthread_t th[NREADERS];
    char sid[32];
    revset *r = revset_create();

    REQUIRE(r != NULL);
    REQUIRE(add(r, "always", NOW + 100) == 0);
    for (int i = 0; i < NREADERS; i++) {
        rd[i] = (struct reader){r, 0, 0};
        CHECK_EQ_INT(pthread_create(&th[i], NULL, read_loop, &rd[i]), 0);
    }
    /* The writer grows and purges the table under the readers' feet. */
    for (int i = 0; i < 5000; i++) {
        snprintf(sid, sizeof sid, "w-%d", i);
        add(r, sid, NOW + 1);
        if (i % 1000 == 999)
            revset_purge(r, NOW + 1);
    }
    for (int i = 0; i < NREADERS; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(rd[i].hits, 20000);
        CHECK_EQ_INT(rd[i].misses, 20000);
    }
    revset_free(r);
}
