#ifndef GH_UTIL_TIMEFMT_H
#define GH_UTIL_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* Writes t (Unix seconds) as RFC 3339 UTC with second precision, e.g.
 * "2026-11-24T19:00:00Z", into buf (at least 21 bytes). Returns buf. */
char *timefmt_rfc3339(char *buf, size_t cap, int64_t t);

/* The current Unix time in seconds. */
int64_t timefmt_now(void);

/* Milliseconds of CLOCK_MONOTONIC: for deadlines and waits, which a change
 * of the wall clock must not move. */
int64_t timefmt_monotonic_ms(void);

#endif
