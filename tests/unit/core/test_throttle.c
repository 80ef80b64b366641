/* core/throttle: back-off, the bounded tables, the hashing-queue share. */
#include <string.h>

#include "core/throttle.h"
#include "test.h"

static const struct throttle_limits lim = {
    .address_failures = 3,
    .account_failures = 2,
    .lockout_s = 10,
    .lockout_max_s = 60,
    .forget_s = 3600,
    .registrations = 2,
    .registration_window_s = 100,
    .table_size = 64,
    .hash_jobs = 2,
    .mail_requests = 2,
    .mail_window_s = 100,
};

/* One failed attempt of a (reserved and settled), which must be allowed. */
static void address_fails(throttle *t, const struct netaddr *a, int64_t now)
{
    CHECK_EQ_INT(throttle_address_reserve(t, a, now), 0);
    throttle_address_settle(t, a, true, now);
}

static void name_fails(throttle *t, const char *name, int64_t now)
{
    CHECK_EQ_INT(throttle_name_reserve(t, name, strlen(name), now), 0);
    throttle_name_settle(t, name, strlen(name), true, now);
}

static struct netaddr addr(unsigned n)
{
    struct netaddr a = {{0}};

    a.b[10] = a.b[11] = 0xff;
    a.b[12] = 127;
    a.b[13] = (unsigned char)(n >> 16);
    a.b[14] = (unsigned char)(n >> 8);
    a.b[15] = (unsigned char)n;
    return a;
}

TEST(throttle_lockout_doubles)
{
    CHECK_EQ_INT(throttle_lockout(&lim, 2, 0), 0);
    CHECK_EQ_INT(throttle_lockout(&lim, 2, 2), 0);
    CHECK_EQ_INT(throttle_lockout(&lim, 2, 3), 10);
    CHECK_EQ_INT(throttle_lockout(&lim, 2, 4), 20);
    CHECK_EQ_INT(throttle_lockout(&lim, 2, 5), 40);
    CHECK_EQ_INT(throttle_lockout(&lim, 2, 6), 60);
    CHECK_EQ_INT(throttle_lockout(&lim, 2, 1000000000), 60);
    CHECK_EQ_INT(throttle_lockout(&lim, 0, 1000), 0); /* no limit */
    /* The account's wait runs from its latest failure. */
    CHECK_EQ_INT(throttle_account_wait(&lim, 2, 1000, 1000), 0);
    CHECK_EQ_INT(throttle_account_wait(&lim, 3, 1000, 1000), 10);
    CHECK_EQ_INT(throttle_account_wait(&lim, 3, 1000, 1007), 3);
    CHECK_EQ_INT(throttle_account_wait(&lim, 3, 1000, 1010), 0);
    CHECK_EQ_INT(throttle_account_wait(&lim, 4, 1000, 1010), 10);
    /* Forgotten after forget_s without a failure. */
    CHECK_EQ_INT(throttle_account_wait(&lim, 100, 1000, 1000 + 3600), 0);
}

TEST(throttle_address_and_names)
{
    throttle *t = throttle_create(&lim);
    struct netaddr a = addr(1), b = addr(2);

    REQUIRE(t != NULL);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ_INT(throttle_address_wait(t, &a, 100), 0);
        address_fails(t, &a, 100);
    }
    CHECK_EQ_INT(throttle_address_wait(t, &a, 100), 0); /* three free failures */
    address_fails(t, &a, 100);
    CHECK_EQ_INT(throttle_address_wait(t, &a, 100), 10);
    CHECK_EQ_INT(throttle_address_reserve(t, &a, 105), 5); /* locked: nothing reserved */
    CHECK_EQ_INT(throttle_address_wait(t, &b, 100), 0);    /* per address */
    CHECK_EQ_INT(throttle_address_wait(t, &a, 110), 0);
    address_fails(t, &a, 110);
    CHECK_EQ_INT(throttle_address_wait(t, &a, 110), 20);
    /* A long quiet forgets the count. */
    address_fails(t, &a, 110 + 3600);
    CHECK_EQ_INT(throttle_address_wait(t, &a, 110 + 3600), 0);

    /* Unknown names: the account limit, by name, byte for byte. */
    name_fails(t, "ghost", 100);
    name_fails(t, "ghost", 100);
    name_fails(t, "ghost", 100);
    CHECK_EQ_INT(throttle_name_reserve(t, "ghost", 5, 100), 10);
    CHECK_EQ_INT(throttle_name_reserve(t, "ghosT", 5, 100), 0);
    throttle_name_settle(t, "ghosT", 5, false, 100);
    throttle_free(t);
}

TEST(throttle_reserve_counts_attempts_in_progress)
{
    throttle *t = throttle_create(&lim);
    struct netaddr a = addr(1), b = addr(2);

    REQUIRE(t != NULL);
    /* Four attempts at once (three free failures, the fourth would lock):
     * each reserved attempt counts as a failure made now, so the fifth
     * waits the lock that four failures would put on, before any settles. */
    for (int i = 0; i < 4; i++)
        CHECK_EQ_INT(throttle_address_reserve(t, &a, 100), 0);
    CHECK_EQ_INT(throttle_address_reserve(t, &a, 100), 10);
    CHECK_EQ_INT(throttle_address_wait(t, &a, 100), 10);
    /* Settled as successes, they count nothing: the address may try. */
    for (int i = 0; i < 4; i++)
        throttle_address_settle(t, &a, false, 101);
    CHECK_EQ_INT(throttle_address_wait(t, &a, 101), 0);
    /* Settled as failures, they count: four failures lock. */
    for (int i = 0; i < 4; i++)
        CHECK_EQ_INT(throttle_address_reserve(t, &b, 100), 0);
    for (int i = 0; i < 4; i++)
        throttle_address_settle(t, &b, true, 102);
    CHECK_EQ_INT(throttle_address_wait(t, &b, 102), 10);
    CHECK_EQ_INT(throttle_address_reserve(t, &b, 102), 10);
    /* Unknown names alike, with the account limit (two free). */
    for (int i = 0; i < 3; i++)
        CHECK_EQ_INT(throttle_name_reserve(t, "ghost", 5, 100), 0);
    CHECK_EQ_INT(throttle_name_reserve(t, "ghost", 5, 100), 10);
    for (int i = 0; i < 3; i++)
        throttle_name_settle(t, "ghost", 5, true, 100);
    CHECK_EQ_INT(throttle_name_reserve(t, "ghost", 5, 100), 10);
    throttle_free(t);
}

TEST(throttle_registrations)
{
    throttle *t = throttle_create(&lim);
    struct netaddr a = addr(1), b = addr(2);

    REQUIRE(t != NULL);
    CHECK_EQ_INT(throttle_register_wait(t, &a, 1000), 0);
    throttle_register_done(t, &a, 1000);
    throttle_register_done(t, &a, 1040);
    CHECK_EQ_INT(throttle_register_wait(t, &a, 1050), 50);
    CHECK_EQ_INT(throttle_register_wait(t, &b, 1050), 0);
    CHECK_EQ_INT(throttle_register_wait(t, &a, 1100), 0); /* a new window */
    throttle_free(t);
}

/* Requests that may mail: checked and counted in one step, per address,
 * in a window from the first; a refused one counts nothing. */
TEST(throttle_mail_requests)
{
    throttle *t = throttle_create(&lim);
    struct netaddr a = addr(1), b = addr(2);

    REQUIRE(t != NULL);
    CHECK_EQ_INT(throttle_mail_take(t, &a, 1000), 0);
    CHECK_EQ_INT(throttle_mail_take(t, &a, 1040), 0);
    CHECK_EQ_INT(throttle_mail_take(t, &a, 1050), 50);
    CHECK_EQ_INT(throttle_mail_take(t, &a, 1099), 1);
    CHECK_EQ_INT(throttle_mail_take(t, &b, 1050), 0);
    CHECK_EQ_INT(throttle_mail_take(t, &a, 1100), 0); /* a new window */
    throttle_free(t);
    struct throttle_limits off = lim;
    off.mail_requests = 0;
    REQUIRE((t = throttle_create(&off)) != NULL);
    for (int i = 0; i < 100; i++)
        CHECK_EQ_INT(throttle_mail_take(t, &a, 1000), 0);
    throttle_free(t);
}

TEST(throttle_hash_jobs)
{
    throttle *t = throttle_create(&lim);
    struct netaddr a = addr(1), b = addr(2);

    REQUIRE(t != NULL);
    CHECK(throttle_job_begin(t, &a, 1));
    CHECK(throttle_job_begin(t, &a, 1));
    CHECK(!throttle_job_begin(t, &a, 1));
    CHECK(throttle_job_begin(t, &b, 1));
    throttle_job_end(t, &a);
    CHECK(throttle_job_begin(t, &a, 1));
    /* A flood of other addresses never evicts an entry holding jobs: its
     * count would be lost, and its jobs freed for nothing. */
    for (unsigned i = 100; i < 20000; i++) {
        struct netaddr other = addr(i);
        (void)throttle_job_begin(t, &other, 2);
    }
    CHECK(!throttle_job_begin(t, &a, 3));
    throttle_job_end(t, &a);
    throttle_job_end(t, &a);
    CHECK(throttle_job_begin(t, &a, 3));
    throttle_free(t);
}

TEST(throttle_table_bounded)
{
    throttle *t = throttle_create(&lim);
    struct netaddr locked = addr(1);
    size_t cap = 0;

    REQUIRE(t != NULL);
    for (int i = 0; i < 4; i++)
        address_fails(t, &locked, 100);
    CHECK_EQ_INT(throttle_address_wait(t, &locked, 100), 10);
    /* A hundred thousand addresses with one failure each: the table keeps
     * its size, and the locked entry, evicted last, stays locked. */
    for (unsigned i = 2; i < 100000; i++) {
        struct netaddr a = addr(i);
        address_fails(t, &a, 101 + i / 20000);
    }
    CHECK_EQ_INT(throttle_address_entries(t, &cap), 64);
    CHECK_EQ_INT(cap, 64);
    CHECK(throttle_address_wait(t, &locked, 106) > 0);
    throttle_free(t);
}
