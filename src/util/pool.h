#ifndef GH_UTIL_POOL_H
#define GH_UTIL_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "util/metrics.h"

/* A fixed set of worker threads fed by a bounded FIFO queue. Slow work
 * (password hashing, database calls) runs here so that the HTTP threads
 * never block on it. */

typedef struct pool pool;
typedef void (*pool_fn)(void *arg);

/* Starts nthreads workers with room for queue_cap waiting jobs; each worker
 * raises its nice value by niceness (0: unchanged), so that CPU-bound jobs
 * yield to the HTTP threads. Returns NULL when memory or threads cannot be
 * had. */
pool *pool_create(unsigned nthreads, unsigned queue_cap, int niceness);

/* Queues fn(arg). Returns 0, or -1 at once when the queue is full or the pool
 * is stopping: the caller answers 503 instead of waiting. */
int pool_submit(pool *p, pool_fn fn, void *arg);

/* What GET /metrics shows of a pool. */
struct pool_stats {
    unsigned queued, running; /* right now */
    unsigned capacity;        /* jobs that may wait */
    unsigned threads;
    uint64_t rejected; /* submissions refused (queue full or stopping) since start */
    const struct metrics_histogram *wait; /* time from submission to a worker taking the job */
};

void pool_stats(pool *p, struct pool_stats *out);

/* Runs every queued job to completion, then joins and frees the workers. */
void pool_destroy(pool *p);

#endif
