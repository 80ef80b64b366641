#ifndef GH_CORE_HEALTH_H
#define GH_CORE_HEALTH_H

#include <stdint.h>

#include "core/outcome.h"

/* What the operations endpoints learn of the database: GET /readyz asks
 * whether it answers, GET /metrics how its connections are used. The API
 * layer asks here, never the store. */

typedef struct store store; /* store/store.h */

/* OUTCOME_OK when the database of s answers a trivial query; any failure is
 * OUTCOME_UNAVAILABLE (a load balancer needs no more). */
enum outcome health_ready(store *s);

/* The connections of s held right now and its calls that failed since it
 * was opened, by kind (store_stats). */
struct health_db {
    uint64_t in_use;
    uint64_t unavailable; /* unreachable, timed out or overloaded */
    uint64_t failed;      /* any other error */
};

void health_db(const store *s, struct health_db *out);

#endif
