#include "util/metrics.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void metrics_append(struct metrics_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Latency histograms, in seconds: the upper bounds of the buckets. */
static const double metrics_bucket_bounds[METRICS_NBUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

static bool reserve(struct metrics_buf *b, size_t more)
{
    if (b->failed)
        return false;
    if (b->len + more + 1 <= b->cap)
        return true;
    size_t cap = b->cap != 0 ? b->cap : 4096;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (p == NULL) {
        free(b->data);
        *b = (struct metrics_buf){.failed = true};
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

static void metrics_append(struct metrics_buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];

    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n))
        return;
    if ((size_t)n < sizeof small) {
        memcpy(b->data + b->len, small, (size_t)n + 1);
    } else {
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

void metrics_family(struct metrics_buf *b, const char *name, const char *type, const char *help)
{
    metrics_append(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void append_escaped(struct metrics_buf *b, const char *v)
{
    size_t n = strlen(v);

    if (!reserve(b, 2 * n))
        return;
    for (; *v != '\0'; v++) {
        if (*v == '\\' || *v == '"') {
            b->data[b->len++] = '\\';
            b->data[b->len++] = *v;
        } else if (*v == '\n') {
            b->data[b->len++] = '\\';
            b->data[b->len++] = 'n';
        } else {
            b->data[b->len++] = *v;
        }
    }
    b->data[b->len] = '\0';
}

static void append_labels(struct metrics_buf *b, const char *const *labels, const char *le)
{
    bool any = false;

    for (size_t i = 0; labels != NULL && labels[i] != NULL; i += 2) {
        metrics_append(b, "%s%s=\"", any ? "," : "{", labels[i]);
        append_escaped(b, labels[i + 1]);
        metrics_append(b, "\"");
        any = true;
    }
    if (le != NULL) {
        metrics_append(b, "%sle=\"%s\"", any ? "," : "{", le);
        any = true;
    }
    if (any)
        metrics_append(b, "}");
}

/* Whole numbers without a fraction or exponent; others in the fewest
 * digits (15, else 17) that read back as the same double. */
static void append_value(struct metrics_buf *b, double v)
{
    char s[40];

    if (v == (double)(int64_t)v && v < 9e15 && v > -9e15) {
        metrics_append(b, " %lld\n", (long long)v);
        return;
    }
    snprintf(s, sizeof s, "%.15g", v);
    if (strtod(s, NULL) != v)
        snprintf(s, sizeof s, "%.17g", v);
    metrics_append(b, " %s\n", s);
}

void metrics_sample(struct metrics_buf *b, const char *name, const char *const *labels,
                    double value)
{
    metrics_append(b, "%s", name);
    append_labels(b, labels, NULL);
    append_value(b, value);
}

void metrics_observe(struct metrics_histogram *h, uint64_t us)
{
    size_t i = 0;
    double s = (double)us / 1e6;

    while (i < METRICS_NBUCKETS && s > metrics_bucket_bounds[i])
        i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
}

void metrics_histogram_write(struct metrics_buf *b, const char *name, const char *const *labels,
                             const struct metrics_histogram *h)
{
    uint64_t total = 0;

    for (size_t i = 0; i <= METRICS_NBUCKETS; i++) {
        char le[32];
        total += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
        if (i < METRICS_NBUCKETS)
            snprintf(le, sizeof le, "%g", metrics_bucket_bounds[i]);
        else
            snprintf(le, sizeof le, "+Inf");
        metrics_append(b, "%s_bucket", name);
        append_labels(b, labels, le);
        append_value(b, (double)total);
    }
    metrics_append(b, "%s_sum", name);
    append_labels(b, labels, NULL);
    append_value(b, (double)atomic_load_explicit(&h->sum_us, memory_order_relaxed) / 1e6);
    metrics_append(b, "%s_count", name);
    append_labels(b, labels, NULL);
    append_value(b, (double)total);
}

uint64_t metrics_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ------------------------------------------------------------------ HTTP */

#define STATUS_MIN 100
#define STATUS_N   500                      /* 100..599 */
#define ROUTES_N   (METRICS_MAX_ROUTES + 1) /* the last one: no route matched */

/* Zero until counted; a scrape reads every slot (ROUTES_N x STATUS_N loads,
 * a few microseconds), and writes only those that are not zero. */
static atomic_uint_fast64_t http_requests[ROUTES_N][STATUS_N];
static struct metrics_histogram http_latency[ROUTES_N];
static const char *route_methods[METRICS_MAX_ROUTES];
static const char *route_paths[METRICS_MAX_ROUTES];
static size_t nroutes;

void metrics_http_route(size_t i, const char *method, const char *path)
{
    if (i >= METRICS_MAX_ROUTES)
        return;
    route_methods[i] = method;
    route_paths[i] = path;
    if (i >= nroutes)
        nroutes = i + 1;
}

void metrics_http_observe(int route, int status, uint64_t us)
{
    size_t r = route >= 0 && (size_t)route < nroutes ? (size_t)route : METRICS_MAX_ROUTES;

    if (status >= STATUS_MIN && status < STATUS_MIN + STATUS_N)
        atomic_fetch_add_explicit(&http_requests[r][status - STATUS_MIN], 1, memory_order_relaxed);
    metrics_observe(&http_latency[r], us);
}

static void route_labels(size_t r, const char **labels)
{
    labels[0] = "method";
    labels[1] = r < nroutes ? route_methods[r] : "other";
    labels[2] = "route";
    labels[3] = r < nroutes ? route_paths[r] : "unmatched";
}

void metrics_http_write(struct metrics_buf *b)
{
    metrics_family(b, "gatehouse_http_requests_total", "counter",
                   "HTTP requests answered, by route template and status.");
    for (size_t r = 0; r < ROUTES_N; r++) {
        if (r >= nroutes && r != METRICS_MAX_ROUTES)
            continue;
        for (int s = 0; s < STATUS_N; s++) {
            uint64_t n = atomic_load_explicit(&http_requests[r][s], memory_order_relaxed);
            if (n == 0)
                continue;
            char code[16];
            const char *labels[7];
            route_labels(r, labels);
            snprintf(code, sizeof code, "%d", s + STATUS_MIN);
            labels[4] = "status";
            labels[5] = code;
            labels[6] = NULL;
            metrics_sample(b, "gatehouse_http_requests_total", labels, (double)n);
        }
    }
    metrics_family(b, "gatehouse_http_request_duration_seconds", "histogram",
                   "Time from the request's headers to its completion, by route template.");
    for (size_t r = 0; r < ROUTES_N; r++) {
        if (r >= nroutes && r != METRICS_MAX_ROUTES)
            continue;
        const char *labels[5];
        route_labels(r, labels);
        labels[4] = NULL;
        metrics_histogram_write(b, "gatehouse_http_request_duration_seconds", labels,
                                &http_latency[r]);
    }
}
