#include "util/pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "util/metrics.h"

struct job {
    pool_fn fn;
    void *arg;
    uint64_t queued_us; /* when it was queued, for the wait histogram */
};

struct pool {
    pthread_mutex_t lock;
    pthread_cond_t nonempty;
    struct job *ring;
    unsigned cap, head, count, running;
    bool stopping;
    unsigned nthreads;
    int niceness;
    pthread_t *threads;
    /* For GET /metrics; counted without the lock. */
    atomic_uint_fast64_t rejected;
    struct metrics_histogram wait;
};

static void *pool_worker(void *arg)
{
    pool *p = arg;

    /* On Linux the nice value belongs to the thread (setpriority on its
     * tid); failing to lower our own priority changes nothing else. */
    if (p->niceness != 0)
        (void)setpriority(PRIO_PROCESS, (id_t)gettid(), p->niceness);
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (p->count == 0 && !p->stopping)
            pthread_cond_wait(&p->nonempty, &p->lock);
        if (p->count == 0)
            break; /* stopping and drained */
        struct job j = p->ring[p->head];
        p->head = (p->head + 1) % p->cap;
        p->count--;
        p->running++;
        pthread_mutex_unlock(&p->lock);
        metrics_observe(&p->wait, metrics_now_us() - j.queued_us);
        j.fn(j.arg);
        pthread_mutex_lock(&p->lock);
        p->running--;
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

pool *pool_create(unsigned nthreads, unsigned queue_cap, int niceness)
{
    pool *p = calloc(1, sizeof *p);

    if (p == NULL || nthreads == 0 || queue_cap == 0)
        goto fail;
    p->cap = queue_cap;
    p->niceness = niceness;
    p->ring = calloc(queue_cap, sizeof *p->ring);
    p->threads = calloc(nthreads, sizeof *p->threads);
    if (p->ring == NULL || p->threads == NULL)
        goto fail;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->nonempty, NULL);
    for (; p->nthreads < nthreads; p->nthreads++) {
        if (pthread_create(&p->threads[p->nthreads], NULL, pool_worker, p) != 0) {
            pool_destroy(p);
            return NULL;
        }
    }
    return p;
fail:
    if (p != NULL) {
        free(p->ring);
        free(p->threads);
        free(p);
    }
    return NULL;
}

int pool_submit(pool *p, pool_fn fn, void *arg)
{
    int rc = -1;
    uint64_t now = metrics_now_us();

    pthread_mutex_lock(&p->lock);
    if (!p->stopping && p->count < p->cap) {
        p->ring[(p->head + p->count) % p->cap] = (struct job){fn, arg, now};
        p->count++;
        pthread_cond_signal(&p->nonempty);
        rc = 0;
    }
    pthread_mutex_unlock(&p->lock);
    if (rc != 0)
        atomic_fetch_add_explicit(&p->rejected, 1, memory_order_relaxed);
    return rc;
}

void pool_stats(pool *p, struct pool_stats *out)
{
    pthread_mutex_lock(&p->lock);
    out->queued = p->count;
    out->running = p->running;
    out->capacity = p->cap;
    out->threads = p->nthreads;
    pthread_mutex_unlock(&p->lock);
    out->rejected = atomic_load_explicit(&p->rejected, memory_order_relaxed);
    out->wait = &p->wait;
}

void pool_destroy(pool *p)
{
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->nonempty);
    pthread_mutex_unlock(&p->lock);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->nonempty);
    pthread_mutex_destroy(&p->lock);
    free(p->ring);
    free(p->threads);
    free(p);
}
