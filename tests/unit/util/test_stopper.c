/* util/stopper: a thread told to stop while it waits. */
#include <stdatomic.h>
#include <time.h>

#include "test.h"
#include "util/stopper.h"

struct ticker {
    struct stopper s;
    atomic_int ticks;
};

static void *tick(void *arg)
{
    struct ticker *t = arg;

    while (!stopper_wait(&t->s, 10))
        atomic_fetch_add(&t->ticks, 1);
    return NULL;
}

static void *wait_long(void *arg)
{
    struct ticker *t = arg;

    /* An hour, unless told to stop. */
    while (!stopper_wait(&t->s, 3600 * 1000))
        atomic_fetch_add(&t->ticks, 1);
    return NULL;
}

TEST(stopper_runs_and_stops)
{
    struct ticker t = {.ticks = 0};
    struct timespec pause = {0, 100 * 1000 * 1000};

    stopper_init(&t.s);
    REQUIRE(stopper_start(&t.s, tick, &t) == 0);
    /* It runs: wait for its first ticks (five seconds at most). */
    for (int i = 0; i < 50 && atomic_load(&t.ticks) < 2; i++)
        nanosleep(&pause, NULL);
    stopper_stop(&t.s);
    int seen = atomic_load(&t.ticks);
    CHECK(seen > 0);
    /* Joined: nothing ticks after stopper_stop returned. */
    nanosleep(&pause, NULL);
    CHECK_EQ_INT(atomic_load(&t.ticks), seen);
    CHECK(!t.s.running);
    stopper_stop(&t.s); /* twice is harmless */
}

TEST(stopper_wakes_a_long_wait)
{
    struct ticker t = {.ticks = 0};

    stopper_init(&t.s);
    REQUIRE(stopper_start(&t.s, wait_long, &t) == 0);
    /* Returns at once, not after the hour: the wait sees the stop. */
    stopper_stop(&t.s);
    CHECK_EQ_INT(atomic_load(&t.ticks), 0);
}

TEST(stopper_never_started)
{
    struct stopper s;

    stopper_init(&s);
    CHECK(!s.running);
    stopper_stop(&s);
    CHECK(!s.running);
}
