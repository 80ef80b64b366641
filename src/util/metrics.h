#ifndef GH_UTIL_METRICS_H
#define GH_UTIL_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Counters for GET /metrics and the writer of the Prometheus text format
 * (version 0.0.4). Counting is lock-free: relaxed C11 atomics in fixed
 * arrays, no allocation, so the request path (/verify above all) pays a few
 * atomic adds. Only a scrape builds text. */

/* A growing text buffer; failed is set (and the text dropped) when memory
 * runs out. Zero-initialise it; free data with free(). */
struct metrics_buf {
    char *data;
    size_t len, cap;
    bool failed;
};

/* "# HELP name help" and "# TYPE name type" (counter, gauge, histogram). */
void metrics_family(struct metrics_buf *b, const char *name, const char *type, const char *help);

/* One sample: name{k1="v1",...} value. labels holds key, value pairs and
 * ends with a NULL key (NULL labels: none). Label values are escaped as the
 * format asks: backslash, double quote and line feed as \\, \" and \n. */
void metrics_sample(struct metrics_buf *b, const char *name, const char *const *labels,
                    double value);

/* Latency histograms: the number of buckets (their upper bounds, in
 * seconds, are in metrics.c), +Inf not counted. */
#define METRICS_NBUCKETS 14

/* Counts per bucket (not cumulative; the last one is +Inf) and the sum in
 * microseconds. Zero-initialise. */
struct metrics_histogram {
    atomic_uint_fast64_t bucket[METRICS_NBUCKETS + 1];
    atomic_uint_fast64_t sum_us;
};

void metrics_observe(struct metrics_histogram *h, uint64_t us);

/* name_bucket{...,le="..."} (cumulative, +Inf last), name_sum (seconds) and
 * name_count, with the labels given (as metrics_sample's). */
void metrics_histogram_write(struct metrics_buf *b, const char *name, const char *const *labels,
                             const struct metrics_histogram *h);

/* Microseconds on the monotonic clock. */
uint64_t metrics_now_us(void);

/* HTTP requests by route and status, and latency by route. Each route is
 * named once at start-up, before requests run (method and path template:
 * static strings); a request counts under its route's index, or -1 for a
 * request that matched no route (a route past METRICS_MAX_ROUTES counts
 * there too), so that the labels stay a fixed, small set whatever paths
 * clients send. */
#define METRICS_MAX_ROUTES 48

void metrics_http_route(size_t i, const char *method, const char *path);
void metrics_http_observe(int route, int status, uint64_t us);
void metrics_http_write(struct metrics_buf *b);

#endif
