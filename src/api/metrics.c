/* GET /metrics: the Prometheus text format (version 0.0.4). */
#include <stdlib.h>

#include "api/api_internal.h"
#include "api/audit.h"
#include "core/health.h"
#include "core/mail.h"
#include "core/password.h"
#include "core/revocation.h"
#include "util/metrics.h"

#ifndef GATEHOUSE_VERSION
#define GATEHOUSE_VERSION "unknown"
#endif

/* The hashing and the database queue. */
static void write_queues(struct metrics_buf *b, const struct api_metrics *m)
{
    struct pool_stats st[2];
    const char *names[2] = {"hash", "db"};
    pool *pools[2] = {m->hashers, m->db};
    int n = 0;

    for (int i = 0; i < 2; i++) {
        if (pools[i] == NULL)
            continue;
        pool_stats(pools[i], &st[n]);
        names[n++] = names[i];
    }
#define QUEUE_FAMILY(name, type, help, expr)                                                       \
    do {                                                                                           \
        metrics_family(b, name, type, help);                                                       \
        for (int i = 0; i < n; i++) {                                                              \
            const char *labels[] = {"queue", names[i], NULL};                                      \
            metrics_sample(b, name, labels, (double)(expr));                                       \
        }                                                                                          \
    } while (0)
    QUEUE_FAMILY("gatehouse_queue_depth", "gauge", "Jobs waiting for a worker.", st[i].queued);
    QUEUE_FAMILY("gatehouse_queue_running", "gauge", "Jobs on a worker right now.", st[i].running);
    QUEUE_FAMILY("gatehouse_queue_capacity", "gauge", "Jobs that may wait (QUEUE_SIZE).",
                 st[i].capacity);
    QUEUE_FAMILY("gatehouse_queue_workers", "gauge", "Worker threads.", st[i].threads);
    QUEUE_FAMILY("gatehouse_queue_rejected_total", "counter",
                 "Jobs refused at once because the queue was full (answered 503).", st[i].rejected);
#undef QUEUE_FAMILY
    metrics_family(b, "gatehouse_queue_wait_seconds", "histogram",
                   "Time a job waited in the queue for a worker.");
    for (int i = 0; i < n; i++) {
        const char *labels[] = {"queue", names[i], NULL};
        metrics_histogram_write(b, "gatehouse_queue_wait_seconds", labels, st[i].wait);
    }
}

static void write_store(struct metrics_buf *b, const struct api_ctx *app)
{
    const struct api_metrics *m = &app->metrics;
    struct health_db st;

    health_db(app->users.store, &st);
    metrics_family(b, "gatehouse_db_connections", "gauge",
                   "Database connections of the pool (DB_POOL_SIZE) by state.");
    const char *in_use[] = {"state", "in_use", NULL};
    const char *idle[] = {"state", "idle", NULL};
    double size = (double)m->db_pool_size, used = (double)st.in_use;
    metrics_sample(b, "gatehouse_db_connections", in_use, used);
    metrics_sample(b, "gatehouse_db_connections", idle, size > used ? size - used : 0);
    metrics_family(b, "gatehouse_db_errors_total", "counter",
                   "Database calls that failed: unavailable (unreachable, timed out, "
                   "overloaded) or error (anything else).");
    const char *unavailable[] = {"kind", "unavailable", NULL};
    const char *error[] = {"kind", "error", NULL};
    metrics_sample(b, "gatehouse_db_errors_total", unavailable, (double)st.unavailable);
    metrics_sample(b, "gatehouse_db_errors_total", error, (double)st.failed);
}

static void write_revocations(struct metrics_buf *b, revset *r)
{
    metrics_family(b, "gatehouse_revocations_total", "counter",
                   "Sessions added to the revocation set: logouts, password changes, refresh "
                   "reuse, deletions, here and (PostgreSQL) on other instances.");
    metrics_sample(b, "gatehouse_revocations_total", NULL, r != NULL ? (double)revset_added(r) : 0);
    metrics_family(b, "gatehouse_revoked_sessions", "gauge",
                   "Sessions in the revocation set (until their last token expires).");
    metrics_sample(b, "gatehouse_revoked_sessions", NULL, r != NULL ? (double)revset_count(r) : 0);
}

static void write_password_checks(struct metrics_buf *b)
{
    uint64_t stored, dummy;

    password_checks(&stored, &dummy);
    metrics_family(b, "gatehouse_password_checks_total", "counter",
                   "Password verifications, each a full hash: against a stored hash, or "
                   "against a dummy (an unknown name costs what a real check does).");
    const char *s[] = {"against", "stored", NULL}, *d[] = {"against", "dummy", NULL};
    metrics_sample(b, "gatehouse_password_checks_total", s, (double)stored);
    metrics_sample(b, "gatehouse_password_checks_total", d, (double)dummy);
}

static void write_token_cache(struct metrics_buf *b, tokencache *c)
{
    uint64_t hits, misses;

    tokencache_counts(c, &hits, &misses);
    metrics_family(b, "gatehouse_token_cache_lookups_total", "counter",
                   "Access tokens looked up in the cache of verified tokens "
                   "(VERIFY_CACHE_ENTRIES), by result: a miss checks the signature.");
    const char *hit[] = {"result", "hit", NULL}, *miss[] = {"result", "miss", NULL};
    metrics_sample(b, "gatehouse_token_cache_lookups_total", hit, (double)hits);
    metrics_sample(b, "gatehouse_token_cache_lookups_total", miss, (double)misses);
    metrics_family(b, "gatehouse_token_cache_capacity", "gauge",
                   "Entries the cache of verified tokens holds at most (0: no cache).");
    metrics_sample(b, "gatehouse_token_cache_capacity", NULL, (double)tokencache_capacity(c));
}

/* The outbox (core/mail.h); zeros when mail is off. */
static void write_mail(struct metrics_buf *b, struct mailer *m)
{
    struct mail_stats st;

    mail_stats(m, &st);
    metrics_family(b, "gatehouse_mail_outbox_depth", "gauge",
                   "Mails queued in the outbox, waiting to be sent or tried again (as the "
                   "sender last counted them).");
    metrics_sample(b, "gatehouse_mail_outbox_depth", NULL, (double)st.depth);
    metrics_family(b, "gatehouse_mail_sent_total", "counter",
                   "Mails the SMTP server accepted from this instance.");
    metrics_sample(b, "gatehouse_mail_sent_total", NULL, (double)st.sent);
    metrics_family(b, "gatehouse_mail_failed_attempts_total", "counter",
                   "Attempts to send a mail that failed (each is tried again later).");
    metrics_sample(b, "gatehouse_mail_failed_attempts_total", NULL, (double)st.failed);
}

/* Writes every family; NULL when memory ran out. */
static char *metrics_text(const struct api_ctx *app, size_t *len)
{
    struct metrics_buf b = {0};
    const struct api_metrics *m = &app->metrics;

    metrics_family(&b, "gatehouse_build_info", "gauge", "The version of gatehouse serving.");
    const char *build[] = {"version", GATEHOUSE_VERSION, NULL};
    metrics_sample(&b, "gatehouse_build_info", build, 1);
    metrics_family(&b, "process_start_time_seconds", "gauge",
                   "Start time of the process since the Unix epoch in seconds.");
    metrics_sample(&b, "process_start_time_seconds", NULL, m->start_time);
    metrics_http_write(&b);
    audit_metrics_write(&b);
    write_queues(&b, m);
    write_store(&b, app);
    write_revocations(&b, app->sessions.revoked);
    write_password_checks(&b);
    write_token_cache(&b, app->sessions.verified);
    write_mail(&b, app->mailer);
    if (b.failed)
        return NULL;
    *len = b.len;
    return b.data;
}

static void serve(const struct api_request *req, struct reply *r)
{
    size_t len = 0;
    char *text = metrics_text(req->app, &len);

    if (text == NULL) {
        errors_problem(r, OUTCOME_ERROR, NULL);
        return;
    }
    r->status = 200;
    r->content_type = "text/plain; version=0.0.4; charset=utf-8";
    r->body = text;
    r->body_len = len;
    r->no_store = true;
}

void api_metrics(const struct api_request *req, struct reply *r)
{
    const struct api_metrics *m = &req->app->metrics;

    if (!m->enabled || m->own_address) {
        reply_problem(r, 404, "not found");
        return;
    }
    serve(req, r);
}

/* The METRICS_ADDRESS listener serves the metrics whatever the main one
 * does. */
static void metrics_own_address(const struct api_request *req, struct reply *r)
{
    serve(req, r);
}

const struct api_route api_metrics_routes[] = {
    {"/metrics", "GET", API_BODY_NONE, API_INLINE, API_AUTH_NONE, metrics_own_address},
    {"/healthz", "GET", API_BODY_NONE, API_INLINE, API_AUTH_NONE, api_healthz},
};

const size_t api_metrics_nroutes = sizeof api_metrics_routes / sizeof api_metrics_routes[0];
