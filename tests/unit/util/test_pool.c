/* util/pool: worker threads over a bounded queue that refuses, never waits. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "test.h"
#include "util/pool.h"

static void count_job(void *arg)
{
    atomic_fetch_add((atomic_int *)arg, 1);
}

/* A job that holds its worker until released. */
struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool started, released;
    atomic_int ran;
};

static void gate_init(struct gate *g)
{
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->cond, NULL);
    g->started = false;
    g->released = false;
    atomic_init(&g->ran, 0);
}

static void gate_destroy(struct gate *g)
{
    pthread_cond_destroy(&g->cond);
    pthread_mutex_destroy(&g->lock);
}

static void gate_job(void *arg)
{
    struct gate *g = arg;

    pthread_mutex_lock(&g->lock);
    g->started = true;
    pthread_cond_broadcast(&g->cond);
    while (!g->released)
        pthread_cond_wait(&g->cond, &g->lock);
    pthread_mutex_unlock(&g->lock);
    atomic_fetch_add(&g->ran, 1);
}

static void gate_wait_started(struct gate *g)
{
    pthread_mutex_lock(&g->lock);
    while (!g->started)
        pthread_cond_wait(&g->cond, &g->lock);
    pthread_mutex_unlock(&g->lock);
}

static void gate_release(struct gate *g)
{
    pthread_mutex_lock(&g->lock);
    g->released = true;
    pthread_cond_broadcast(&g->cond);
    pthread_mutex_unlock(&g->lock);
}

/* The jobs queued or running right now, as GET /metrics sees them. */
static unsigned pending(pool *p)
{
    struct pool_stats st;

    pool_stats(p, &st);
    return st.queued + st.running;
}

TEST(pool_runs_all_jobs)
{
    enum { NJOBS = 2000 };
    atomic_int counter;
    int submitted = 0;
    pool *p = pool_create(4, 16, 0);

    REQUIRE(p != NULL);
    atomic_init(&counter, 0);
    /* The queue is smaller than the work: retry what it refuses. */
    while (submitted < NJOBS) {
        if (pool_submit(p, count_job, &counter) == 0)
            submitted++;
        else
            sched_yield();
    }
    pool_destroy(p);
    CHECK_EQ_INT(atomic_load(&counter), NJOBS);
}

TEST(pool_submit_full_queue)
{
    struct gate g;
    atomic_int counter;
    pool *p = pool_create(1, 1, 0);

    REQUIRE(p != NULL);
    gate_init(&g);
    atomic_init(&counter, 0);
    CHECK_EQ_INT(pool_submit(p, gate_job, &g), 0);
    gate_wait_started(&g); /* the only worker is busy, the queue empty */
    CHECK_EQ_INT(pending(p), 1);
    CHECK_EQ_INT(pool_submit(p, count_job, &counter), 0);
    CHECK_EQ_INT(pending(p), 2);
    /* Full: refused at once, not queued, not waited for. */
    CHECK_EQ_INT(pool_submit(p, count_job, &counter), -1);
    CHECK_EQ_INT(pool_submit(p, count_job, &counter), -1);
    CHECK_EQ_INT(pending(p), 2);
    gate_release(&g);
    pool_destroy(p);
    CHECK_EQ_INT(atomic_load(&g.ran), 1);
    CHECK_EQ_INT(atomic_load(&counter), 1);
    gate_destroy(&g);
}

/* Releases the gate a little after pool_destroy has started waiting. */
static void *release_later(void *arg)
{
    struct timespec ts = {0, 50 * 1000 * 1000};

    nanosleep(&ts, NULL);
    gate_release(arg);
    return NULL;
}

TEST(pool_destroy_drains)
{
    enum { QUEUED = 8 };
    struct gate g;
    atomic_int counter;
    pthread_t t;
    pool *p = pool_create(1, QUEUED, 0);

    REQUIRE(p != NULL);
    gate_init(&g);
    atomic_init(&counter, 0);
    CHECK_EQ_INT(pool_submit(p, gate_job, &g), 0);
    gate_wait_started(&g);
    for (int i = 0; i < QUEUED; i++)
        CHECK_EQ_INT(pool_submit(p, count_job, &counter), 0);
    CHECK_EQ_INT(pool_submit(p, count_job, &counter), -1);
    CHECK_EQ_INT(pending(p), QUEUED + 1);
    /* Every job is still queued behind the gate when pool_destroy begins. */
    REQUIRE(pthread_create(&t, NULL, release_later, &g) == 0);
    pool_destroy(p);
    pthread_join(t, NULL);
    CHECK_EQ_INT(atomic_load(&g.ran), 1);
    CHECK_EQ_INT(atomic_load(&counter), QUEUED);
    gate_destroy(&g);
}

TEST(pool_create_rejects_zero)
{
    CHECK(pool_create(0, 4, 0) == NULL);
    CHECK(pool_create(2, 0, 0) == NULL);
    pool_destroy(NULL);
}
