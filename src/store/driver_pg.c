/* The PostgreSQL driver on libpq. A small pool holds one connection per
 * worker; each prepares a statement the first time it runs it. Every wait on the network has a
 * deadline of our own (connects, statements), so a server that is down or
 * silent makes calls answer STORE_UNAVAILABLE within seconds instead of
 * hanging a worker. A connection found broken is dropped and reopened
 * lazily by the next call; while the server stays unreachable, calls fail at
 * once for a second after each failed attempt instead of each paying a
 * connect timeout. The pool mutex is never held across network I/O. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/pq.h"

#include "store/pgurl.h"
#include "store/driver.h"
#include "util/log.h"
#include "util/stopper.h"
#include "util/numfmt.h"
#include "util/timefmt.h"

#define DEFAULT_CONNECT_TIMEOUT_S    3
#define DEFAULT_STATEMENT_TIMEOUT_MS 5000
#define RETRY_INTERVAL_MS            1000
/* Migrations may wait for another instance's: allow them a minute. */
#define MIGRATE_TIMEOUT_MS 60000
/* "gatehous" in ASCII: the advisory lock that serializes migrations of
 * every gatehouse instance on one database. */
#define MIGRATE_LOCK_KEY "7449363237540164979"
/* The channel revocations travel on between instances (store_watch). */
#define CHANNEL "gatehouse_revocations"
/* A lost watch connection is tried again after this long, then longer, but
 * never more than 400 ms apart: once the server is back, other instances'
 * revocations must reach this one within a second (API.md, POST /logout),
 * and an attempt on a server that is down costs one refused connect. */
#define WATCH_RETRY_MIN_MS 100
#define WATCH_RETRY_MAX_MS 400

/* The most parameters a statement of statements.h binds: an import's
 * batch (about 10 KiB of the connection's struct). */
#define MAX_PARAMS STORE_IMPORT_BATCH_PARAMS

struct store_conn {
    struct store_db *db;
    PGconn *pg;     /* NULL while disconnected; touched only by the holder */
    bool busy;      /* under the pool lock */
    bool connected; /* under the pool lock: pg != NULL when last released */
    bool prepared[STMT_COUNT];
    /* The started statement. */
    enum store_stmt id;
    bool in_tx;
    int nparams; /* the highest parameter bound */
    const char *vals[MAX_PARAMS];
    int lens[MAX_PARAMS];
    int fmts[MAX_PARAMS];
    char nums[MAX_PARAMS][24]; /* integers travel as text */
    PGresult *res;             /* its result once run, else NULL */
    int row;                   /* the next row of res to hand out */
};

struct store_db {
    struct pgurl url; /* libpq keywords, with our timeouts added */
    char where[384];  /* host:port/dbname for log lines; no user, no password */
    int connect_timeout_ms;
    int statement_deadline_ms; /* the statement timeout plus a margin for the answer */
    pthread_mutex_t lock;
    pthread_cond_t freed;
    int64_t retry_at_ms; /* while down: no new connection attempt before this */
    bool down;           /* the last connection attempt failed */
    bool connecting;     /* while down, one thread probes; the others fail fast */
    unsigned nconns;
    struct store_conn *conns;
    /* The watch: a thread with a connection of its own that LISTENs. */
    struct store_watch watch;
    struct stopper watcher;
};

/* libpq messages end in a newline and may span lines: one line for the log. */
static void one_line(char *dst, size_t cap, const char *msg)
{
    size_t j = 0;

    for (size_t i = 0; msg != NULL && msg[i] != '\0' && j + 1 < cap; i++) {
        bool space = msg[i] == '\n' || msg[i] == '\r' || msg[i] == '\t' || msg[i] == ' ';
        if (!space)
            dst[j++] = msg[i];
        else if (j > 0 && dst[j - 1] != ' ')
            dst[j++] = ' ';
    }
    while (j > 0 && dst[j - 1] == ' ')
        j--;
    dst[j] = '\0';
}

/* Waits until pg's socket is readable (or writable). Returns 1 when ready,
 * 0 at the deadline, -1 on an error. */
static int wait_socket(PGconn *pg, bool for_write, int64_t deadline)
{
    struct pollfd pfd = {.fd = PQsocket(pg), .events = for_write ? POLLOUT : POLLIN};

    if (pfd.fd < 0)
        return -1;
    for (;;) {
        int64_t left = deadline - timefmt_monotonic_ms();
        if (left <= 0)
            return 0;
        int n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
        if (n > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            return -1;
    }
}

static bool result_ok(const PGresult *r)
{
    ExecStatusType st = r != NULL ? PQresultStatus(r) : PGRES_FATAL_ERROR;

    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* Reads every result of the query just sent, until the deadline. Returns the
 * first failed result, else the last one (caller PQclears), or NULL when the
 * connection broke or the deadline passed: the connection is then unusable. */
static PGresult *collect(PGconn *pg, int64_t deadline)
{
    PGresult *keep = NULL;

    for (;;) {
        while (PQisBusy(pg)) {
            if (wait_socket(pg, false, deadline) <= 0 || !PQconsumeInput(pg)) {
                PQclear(keep);
                return NULL;
            }
        }
        PGresult *r = PQgetResult(pg);
        if (r == NULL)
            break;
        if (keep != NULL && !result_ok(keep)) {
            PQclear(r);
        } else {
            PQclear(keep);
            keep = r;
        }
        if (PQstatus(pg) != CONNECTION_OK)
            break;
    }
    return keep;
}

/* Sends one simple query (possibly several statements) and collects it. */
static PGresult *exec_simple(PGconn *pg, const char *sql, int64_t deadline)
{
    if (!PQsendQuery(pg, sql))
        return NULL;
    return collect(pg, deadline);
}

static const char *sqlstate(const PGresult *r)
{
    const char *code = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

    return code != NULL ? code : "";
}

/* Server messages of severity WARNING and above go to our log; NOTICEs
 * ("relation already exists, skipping") do not. */
static void on_notice(void *arg, const PGresult *r)
{
    (void)arg;
    const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);

    if (sev != NULL && strcmp(sev, "WARNING") == 0)
        log_warn("postgresql: %s", msg != NULL ? msg : "warning");
}

/* Opens a connection within the connect timeout, without blocking past it
 * (libpq's own connect_timeout rounds up to 2 s and is per host). */
/* True when retrying a failed connection cannot help: the server answered
 * and refused the credentials, the role or the database. libpq 15 gives no
 * SQLSTATE here, so this reads its (usually English) message; a miss only
 * costs the start-up retries. */
static bool refused_for_good(PGconn *pg, const char *msg)
{
    static const char *const marks[] = {"password authentication failed", "does not exist",
                                        "no pg_hba.conf entry", "no password supplied"};

    if (PQconnectionNeedsPassword(pg))
        return true;
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
        if (strstr(msg, marks[i]) != NULL)
            return true;
    return false;
}

/* Sets *hopeless (when not NULL) on a failure that retrying cannot mend. */
static PGconn *connect_pg(struct store_db *s, char *err, size_t errlen, bool *hopeless)
{
    PGconn *pg =
        PQconnectStartParams((const char *const *)s->url.keys, (const char *const *)s->url.vals, 0);
    int64_t deadline = timefmt_monotonic_ms() + s->connect_timeout_ms;
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;

    if (pg == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    while (PQstatus(pg) != CONNECTION_BAD && st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
        int w = wait_socket(pg, st == PGRES_POLLING_WRITING, deadline);
        if (w == 0) {
            snprintf(err, errlen, "no answer within %d ms", s->connect_timeout_ms);
            PQfinish(pg);
            return NULL;
        }
        if (w < 0)
            break;
        st = PQconnectPoll(pg);
    }
    if (PQstatus(pg) != CONNECTION_OK) {
        one_line(err, errlen, PQerrorMessage(pg));
        if (err[0] == '\0')
            snprintf(err, errlen, "connection failed");
        if (hopeless != NULL)
            *hopeless = refused_for_good(pg, err);
        PQfinish(pg);
        return NULL;
    }
    PQsetNoticeReceiver(pg, on_notice, NULL);
    return pg;
}

static void mark_down(struct store_db *s, const char *why)
{
    pthread_mutex_lock(&s->lock);
    bool was_down = s->down;
    s->down = true;
    s->connecting = false;
    s->retry_at_ms = timefmt_monotonic_ms() + RETRY_INTERVAL_MS;
    pthread_mutex_unlock(&s->lock);
    if (!was_down)
        log_warn("postgresql at %s is unavailable: %s", s->where, why);
}

static void mark_up(struct store_db *s)
{
    pthread_mutex_lock(&s->lock);
    bool was_down = s->down;
    s->down = false;
    s->connecting = false;
    pthread_mutex_unlock(&s->lock);
    if (was_down)
        log_info("postgresql at %s is reachable again", s->where);
}

/* Closes c's connection; its prepared statements go with it. */
static void drop(struct store_conn *c)
{
    PQfinish(c->pg);
    c->pg = NULL;
    memset(c->prepared, 0, sizeof c->prepared);
}

/* Makes sure the held connection c is open. A server that restarted, failed
 * over or closed an idle connection has said so on the socket by now:
 * reading it costs no round trip. While the server is down, one caller
 * probes it at most once a second and the others fail at once. */
static enum store_status ensure_open(struct store_db *s, struct store_conn *c)
{
    if (c->pg != NULL && (PQstatus(c->pg) != CONNECTION_OK || !PQconsumeInput(c->pg) ||
                          PQstatus(c->pg) != CONNECTION_OK || PQisBusy(c->pg)))
        drop(c);
    if (c->pg != NULL) {
        PGnotify *n;
        while ((n = PQnotifies(c->pg)) != NULL)
            PQfreemem(n);
        return STORE_OK;
    }
    pthread_mutex_lock(&s->lock);
    bool try_now = !s->down || (!s->connecting && timefmt_monotonic_ms() >= s->retry_at_ms);
    if (try_now && s->down)
        s->connecting = true;
    pthread_mutex_unlock(&s->lock);
    if (!try_now)
        return STORE_UNAVAILABLE;
    char why[256];
    c->pg = connect_pg(s, why, sizeof why, NULL);
    if (c->pg == NULL) {
        mark_down(s, why);
        return STORE_UNAVAILABLE;
    }
    mark_up(s);
    return STORE_OK;
}

/* Opens c's connection again at once, whether or not the server was marked
 * down: a connection that broke under a statement says little about the
 * server, and one attempt tells. */
static enum store_status reopen(struct store_conn *c)
{
    char why[256];

    drop(c);
    c->pg = connect_pg(c->db, why, sizeof why, NULL);
    if (c->pg == NULL) {
        mark_down(c->db, why);
        return STORE_UNAVAILABLE;
    }
    mark_up(c->db);
    return STORE_OK;
}

static void pg_release(struct store_db *s, struct store_conn *c)
{
    PQclear(c->res);
    c->res = NULL;
    pthread_mutex_lock(&s->lock);
    c->busy = false;
    c->connected = c->pg != NULL;
    pthread_cond_signal(&s->freed);
    pthread_mutex_unlock(&s->lock);
}

/* Takes a free connection, preferring an open one, and makes sure it is
 * usable. */
static enum store_status pg_acquire(struct store_db *s, struct store_conn **out)
{
    struct store_conn *c = NULL;

    pthread_mutex_lock(&s->lock);
    while (c == NULL) {
        for (unsigned i = 0; i < s->nconns; i++) {
            struct store_conn *x = &s->conns[i];
            if (!x->busy && (c == NULL || (x->connected && !c->connected)))
                c = x;
        }
        if (c == NULL)
            pthread_cond_wait(&s->freed, &s->lock);
    }
    c->busy = true;
    pthread_mutex_unlock(&s->lock);

    enum store_status rc = ensure_open(s, c);
    if (rc != STORE_OK) {
        pg_release(s, c);
        return rc;
    }
    *out = c;
    return STORE_OK;
}

/* Maps a failed result to a status, dropping the connection when it is no
 * longer trustworthy. Logs neither parameters nor the URL. */
static enum store_status classify(struct store_conn *c, PGresult *r, const char *what)
{
    struct store_db *s = c->db;
    const char *code = sqlstate(r);

    if (r == NULL || PQstatus(c->pg) != CONNECTION_OK) {
        char why[256];
        /* A server that does not answer is down for everyone until a probe
         * says otherwise. A connection that broke says only that this one
         * is gone (one opened before a restart, say): the next connection
         * attempt tells about the server, and marking it down here would
         * refuse, for a second, requests a new connection would serve. */
        bool silent = PQstatus(c->pg) == CONNECTION_OK;
        if (silent)
            snprintf(why, sizeof why, "%s: no answer within %d ms", what, s->statement_deadline_ms);
        else
            one_line(why, sizeof why, PQerrorMessage(c->pg));
        drop(c);
        if (silent)
            mark_down(s, why);
        else
            log_warn("postgresql: %s: connection lost: %s", what,
                     why[0] != '\0' ? why : "no reason given");
        return STORE_UNAVAILABLE;
    }
    if (strcmp(code, "23505") == 0)
        return STORE_CONFLICT;
    /* A foreign key names a row that is gone (a user deleted meanwhile). */
    if (strcmp(code, "23503") == 0)
        return STORE_NOT_FOUND;
    /* Connection trouble (08), shutdown or recovery (57P0x), a statement
     * timeout (57014), too many connections or other resource limits (53),
     * lock and serialization conflicts, and a read-only server after a
     * failover (25006): all worth a retry later, on a fresh connection
     * where the connection itself may be at fault. */
    bool conn_level =
        strncmp(code, "08", 2) == 0 || strncmp(code, "57P0", 4) == 0 || strcmp(code, "25006") == 0;
    if (conn_level || strcmp(code, "57014") == 0 || strncmp(code, "53", 2) == 0 ||
        strcmp(code, "40001") == 0 || strcmp(code, "40P01") == 0 || strcmp(code, "55P03") == 0) {
        log_warn("postgresql: %s: %s (SQLSTATE %s)", what,
                 PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY), code);
        if (conn_level)
            drop(c);
        return STORE_UNAVAILABLE;
    }
    /* Data exceptions (22) quote the offending value: log the code alone. */
    log_error("postgresql: %s: %s (SQLSTATE %s)", what,
              strncmp(code, "22", 2) == 0 ? "invalid value"
                                          : PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY),
              code);
    return STORE_ERROR;
}

/* Runs sql (no parameters) on c until deadline; STORE_OK or classified. */
static enum store_status exec_until(struct store_conn *c, const char *sql, const char *what,
                                    int64_t deadline, PGresult **keep)
{
    if (c->pg == NULL)
        return STORE_UNAVAILABLE;
    PGresult *r = exec_simple(c->pg, sql, deadline);
    enum store_status rc = result_ok(r) ? STORE_OK : classify(c, r, what);

    if (keep != NULL && rc == STORE_OK)
        *keep = r;
    else
        PQclear(r);
    return rc;
}

static enum store_status pg_exec(struct store_conn *c, const char *sql)
{
    return exec_until(c, sql, "exec", timefmt_monotonic_ms() + c->db->statement_deadline_ms, NULL);
}

/* Migrations may wait for another instance's behind a transaction-scoped
 * advisory lock, so they get a minute. */
static enum store_status pg_begin(struct store_conn *c, enum store_begin how)
{
    if (how == BEGIN_MIGRATE)
        return exec_until(c,
                          "BEGIN; SET LOCAL statement_timeout = 60000;"
                          "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK_KEY ")",
                          "begin migration",
                          timefmt_monotonic_ms() + MIGRATE_TIMEOUT_MS + c->db->connect_timeout_ms,
                          NULL);
    enum store_status rc = exec_until(c, "BEGIN", "begin",
                                      timefmt_monotonic_ms() + c->db->statement_deadline_ms, NULL);
    /* A connection that broke under BEGIN ran nothing of the transaction:
     * one more try on a new one, as a read gets. */
    if (rc == STORE_UNAVAILABLE && c->pg == NULL && reopen(c) == STORE_OK)
        rc = exec_until(c, "BEGIN", "begin", timefmt_monotonic_ms() + c->db->statement_deadline_ms,
                        NULL);
    return rc;
}

static enum store_status pg_commit(struct store_conn *c)
{
    PGresult *r = NULL;
    enum store_status rc = exec_until(c, "COMMIT", "commit",
                                      timefmt_monotonic_ms() + c->db->statement_deadline_ms, &r);

    /* COMMIT of a transaction the server had aborted answers ROLLBACK. */
    if (rc == STORE_OK && strcmp(PQcmdStatus(r), "COMMIT") != 0) {
        log_error("postgresql: commit: the server rolled the transaction back");
        rc = STORE_ERROR;
    }
    PQclear(r);
    return rc;
}

static void pg_end(struct store_conn *c)
{
    PQclear(c->res);
    c->res = NULL;
    c->nparams = 0;
}

static void pg_rollback(struct store_conn *c)
{
    pg_end(c);
    if (c->pg == NULL)
        return;
    /* A connection that cannot roll back is closed, which rolls back. */
    PGresult *r =
        exec_simple(c->pg, "ROLLBACK", timefmt_monotonic_ms() + c->db->connect_timeout_ms);
    if (!result_ok(r))
        drop(c);
    PQclear(r);
}

static enum store_status pg_start(struct store_conn *c, enum store_stmt id, bool in_tx)
{
    pg_end(c);
    if (c->pg == NULL)
        return STORE_UNAVAILABLE; /* broke earlier in this transaction */
    c->id = id;
    c->in_tx = in_tx;
    c->row = 0;
    return STORE_OK;
}

static void bind(struct store_conn *c, int i, const char *v, int len, int fmt)
{
    if (i < 1 || i > MAX_PARAMS)
        return; /* caught in pg_step: the statement then lacks a parameter */
    c->vals[i - 1] = v;
    c->lens[i - 1] = len;
    c->fmts[i - 1] = fmt;
    if (i > c->nparams)
        c->nparams = i;
}

static void pg_bind_int64(struct store_conn *c, int i, int64_t v)
{
    if (i >= 1 && i <= MAX_PARAMS) {
        snprintf(c->nums[i - 1], sizeof c->nums[i - 1], "%lld", (long long)v);
        bind(c, i, c->nums[i - 1], 0, 0);
    }
}

static void pg_bind_text(struct store_conn *c, int i, const char *s)
{
    bind(c, i, s, 0, 0);
}

/* Blobs travel in binary, everything else as text. */
static void pg_bind_blob(struct store_conn *c, int i, const void *p, size_t n)
{
    bind(c, i, p, (int)n, 1);
}

/* Prepares the started statement on c's connection, once per connection. */
static PGresult *prepare(struct store_conn *c, int64_t deadline)
{
    const struct store_stmt_def *d = &store_stmts[c->id];

    if (!PQsendPrepare(c->pg, d->name, d->sql, 0, NULL))
        return NULL;
    PGresult *r = collect(c->pg, deadline);
    if (result_ok(r))
        c->prepared[c->id] = true;
    return r;
}

/* Sends the started statement and collects its result. A statement that
 * never left, and a READ outside a transaction, are sent once more on a
 * fresh connection when the connection broke (the server restarted, say);
 * a silent server is not asked twice: the caller has waited enough. */
static enum store_status run(struct store_conn *c)
{
    const struct store_stmt_def *d = &store_stmts[c->id];

    for (int attempt = 0;; attempt++) {
        int64_t deadline = timefmt_monotonic_ms() + c->db->statement_deadline_ms;
        PGresult *r = NULL;
        bool sent = false;
        if (!c->prepared[c->id]) {
            r = prepare(c, deadline);
            if (result_ok(r)) {
                PQclear(r);
                r = NULL;
            } else {
                sent = r != NULL;
                goto failed;
            }
        }
        sent = PQsendQueryPrepared(c->pg, d->name, c->nparams, c->vals, c->lens, c->fmts, 0) != 0;
        if (sent)
            r = collect(c->pg, deadline);
        if (result_ok(r)) {
            c->res = r;
            return STORE_OK;
        }
    failed:;
        enum store_status rc = classify(c, r, d->name);
        /* classify drops a connection that broke or that the server ended
         * (57P01 and the like): nothing ran on it. */
        bool broken = c->pg == NULL;
        PQclear(r);
        if (broken && attempt == 0 && !c->in_tx && (!sent || d->readonly) && reopen(c) == STORE_OK)
            continue;
        return rc;
    }
}

static enum store_status pg_step(struct store_conn *c, bool *row)
{
    *row = false;
    if (c->res == NULL) {
        if (c->pg == NULL)
            return STORE_UNAVAILABLE;
        enum store_status rc = run(c);
        if (rc != STORE_OK)
            return rc;
    } else {
        c->row++;
    }
    *row = c->row < PQntuples(c->res);
    return STORE_OK;
}

static int64_t pg_column_int64(struct store_conn *c, int col)
{
    return strtoll(PQgetvalue(c->res, c->row, col), NULL, 10);
}

static const char *pg_column_text(struct store_conn *c, int col)
{
    return PQgetisnull(c->res, c->row, col) ? NULL : PQgetvalue(c->res, c->row, col);
}

static int hexval(char h)
{
    if (h >= '0' && h <= '9')
        return h - '0';
    if (h >= 'a' && h <= 'f')
        return h - 'a' + 10;
    if (h >= 'A' && h <= 'F')
        return h - 'A' + 10;
    return -1;
}

/* Results come as text, where a bytea is "\\x" and two hex digits a byte
 * (bytea_output 'hex', the default since PostgreSQL 9.0). */
static bool pg_column_blob(struct store_conn *c, int col, void *dst, size_t cap, size_t *len)
{
    const char *v = PQgetisnull(c->res, c->row, col) ? "" : PQgetvalue(c->res, c->row, col);
    size_t n = strlen(v);
    unsigned char *out = dst;

    *len = 0;
    if (n == 0)
        return true;
    if (n < 2 || v[0] != '\\' || v[1] != 'x' || (n - 2) % 2 != 0 || (n - 2) / 2 > cap)
        return false;
    for (size_t i = 0; i < (n - 2) / 2; i++) {
        int hi = hexval(v[2 + 2 * i]), lo = hexval(v[3 + 2 * i]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    *len = (n - 2) / 2;
    return true;
}

static int64_t pg_changes(struct store_conn *c)
{
    return c->res != NULL ? strtoll(PQcmdTuples(c->res), NULL, 10) : 0;
}

static void pg_close(struct store_db *s)
{
    stopper_stop(&s->watcher);
    for (unsigned i = 0; s->conns != NULL && i < s->nconns; i++) {
        PQclear(s->conns[i].res);
        PQfinish(s->conns[i].pg);
    }
    pthread_cond_destroy(&s->freed);
    pthread_mutex_destroy(&s->lock);
    pgurl_free(&s->url);
    free(s->conns);
    free(s);
}

static const char *pg_sqlite_path(const struct store_db *s)
{
    (void)s;
    return NULL;
}

/* Our additions to the URL's keywords: the URL's own values win, except
 * that our statement timeout is appended to any options it gives. */
static int add_keywords(struct store_db *s, const struct store_options *opt)
{
    unsigned stmt_ms =
        opt->statement_timeout_ms != 0 ? opt->statement_timeout_ms : DEFAULT_STATEMENT_TIMEOUT_MS;
    char buf[512];
    const char *user_opts = pgurl_get(&s->url, "options");

    if ((size_t)snprintf(buf, sizeof buf, "%.400s%s-c statement_timeout=%u",
                         user_opts != NULL ? user_opts : "", user_opts != NULL ? " " : "",
                         stmt_ms) >= sizeof buf)
        return -1;
    if (pgurl_set(&s->url, "options", buf) != 0)
        return -1;
    /* libpq's own connect timeout backs ours up on every host of a list. */
    snprintf(buf, sizeof buf, "%d", (s->connect_timeout_ms + 999) / 1000);
    static const char *const defaults[][2] = {
        {"application_name", "gatehouse"},
        /* Keepalives notice a server host that vanished without a word. */
        {"keepalives", "1"},
        {"keepalives_idle", "10"},
        {"keepalives_interval", "3"},
        {"keepalives_count", "3"},
        {"client_encoding", "UTF8"},
    };
    if (pgurl_get(&s->url, "connect_timeout") == NULL &&
        pgurl_set(&s->url, "connect_timeout", buf) != 0)
        return -1;
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        if (pgurl_get(&s->url, defaults[i][0]) == NULL &&
            pgurl_set(&s->url, defaults[i][0], defaults[i][1]) != 0)
            return -1;
    return 0;
}

static enum store_status pg_notify(struct store_conn *c, const char *payload)
{
    const char *vals[1] = {payload};

    if (c->pg == NULL)
        return STORE_UNAVAILABLE;
    pg_end(c);
    /* pg_notify delivers at commit, and not at all on rollback. */
    if (!PQsendQueryParams(c->pg, "SELECT pg_notify('" CHANNEL "', $1)", 1, NULL, vals, NULL, NULL,
                           0))
        return classify(c, NULL, "notify");
    PGresult *r = collect(c->pg, timefmt_monotonic_ms() + c->db->statement_deadline_ms);
    enum store_status rc = result_ok(r) ? STORE_OK : classify(c, r, "notify");
    PQclear(r);
    return rc;
}

/* Moves the identity of users.id past the largest id there, never back: a
 * sequence that has handed out more (users since deleted) keeps its place,
 * so that no id is ever given twice. setval marks the value as used, so the
 * next registration gets the one after it. */
static enum store_status pg_follow_ids(struct store_conn *c)
{
    pg_end(c);
    return exec_until(c,
                      "SELECT setval(x.s, x.m) FROM (SELECT pg_get_serial_sequence('users', 'id')"
                      "::regclass AS s, (SELECT MAX(id) FROM users) AS m) AS x "
                      "WHERE x.m > COALESCE(pg_sequence_last_value(x.s), 0)",
                      "follow ids", timefmt_monotonic_ms() + c->db->statement_deadline_ms, NULL);
}

/* Hands every notification that has arrived to the watcher. A payload is
 * "<until> <sid>" (store_revocation_add); anything else is ignored. */
static void deliver(struct store_db *s, PGconn *pg)
{
    PGnotify *n;

    while ((n = PQnotifies(pg)) != NULL) {
        char *end = NULL;
        long long until = strtoll(n->extra, &end, 10);
        if (end != n->extra && *end == ' ' && end[1] != '\0' && until > 0)
            s->watch.revoked(s->watch.arg, end + 1, (int64_t)until);
        PQfreemem(n);
    }
}

/* The watcher: connect, LISTEN, tell the store's user it may reload, then
 * pass notifications on until the connection breaks or close says stop. */
static void *watch_main(void *arg)
{
    struct store_db *s = arg;
    int pause_ms = WATCH_RETRY_MIN_MS;
    char why[256];

    while (!stopper_wait(&s->watcher, 0)) {
        PGconn *pg = connect_pg(s, why, sizeof why, NULL);
        PGresult *r = pg != NULL ? exec_simple(pg, "LISTEN " CHANNEL,
                                               timefmt_monotonic_ms() + s->statement_deadline_ms)
                                 : NULL;
        bool listening = result_ok(r);
        PQclear(r);
        if (!listening) {
            PQfinish(pg);
            if (stopper_wait(&s->watcher, pause_ms))
                break;
            pause_ms = pause_ms * 2 < WATCH_RETRY_MAX_MS ? pause_ms * 2 : WATCH_RETRY_MAX_MS;
            continue;
        }
        pause_ms = WATCH_RETRY_MIN_MS;
        /* Listening from here on, so reloading now misses nothing. */
        s->watch.connected(s->watch.arg);
        for (;;) {
            struct pollfd p[2] = {{.fd = PQsocket(pg), .events = POLLIN},
                                  {.fd = stopper_fd(&s->watcher), .events = POLLIN}};
            if (poll(p, 2, -1) < 0 && errno != EINTR)
                break;
            if (p[1].revents != 0)
                break;
            if (p[0].revents != 0 && (!PQconsumeInput(pg) || PQstatus(pg) != CONNECTION_OK))
                break;
            deliver(s, pg);
        }
        deliver(s, pg);
        PQfinish(pg);
        if (stopper_wait(&s->watcher, 0))
            break;
        log_warn("postgresql at %s: the revocation watch connection was lost; reconnecting",
                 s->where);
    }
    return NULL;
}

static int pg_watch(struct store_db *s, const struct store_watch *w)
{
    if (s->watcher.running)
        return -1;
    s->watch = *w;
    return stopper_start(&s->watcher, watch_main, s);
}

/* Connects the first connection, retrying an unreachable server until
 * start_wait_s has passed. */
static enum store_status first_connection(struct store_db *s, const struct store_options *opt,
                                          char *err, size_t errlen)
{
    unsigned wait_s =
        opt->start_wait_s != 0 ? opt->start_wait_s : 3 * (unsigned)(s->connect_timeout_ms / 1000);
    int64_t deadline = timefmt_monotonic_ms() + (int64_t)wait_s * 1000;
    int pause_ms = 250;
    char why[256];
    bool hopeless = false;
    PGconn *pg;

    while ((pg = connect_pg(s, why, sizeof why, &hopeless)) == NULL) {
        int64_t left = deadline - timefmt_monotonic_ms();
        if (hopeless) {
            snprintf(err, errlen, "cannot connect to PostgreSQL at %s: %s", s->where, why);
            return STORE_ERROR;
        }
        if (left <= 0) {
            snprintf(err, errlen, "cannot connect to PostgreSQL at %s within %u s: %s", s->where,
                     wait_s, why);
            return STORE_UNAVAILABLE;
        }
        if (pause_ms == 250)
            log_warn("postgresql at %s: %s; retrying for up to %u s", s->where, why, wait_s);
        int ms = pause_ms < left ? pause_ms : (int)left;
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        pause_ms = pause_ms < 1000 ? pause_ms * 2 : 1000;
    }
    s->conns[0].pg = pg;
    s->conns[0].connected = true;
    return STORE_OK;
}

static enum store_status pg_open(const char *url, const struct store_options *opt,
                                 struct store_db **out, char *err, size_t errlen)
{
    static const struct store_options none;
    struct store_db *s = calloc(1, sizeof *s);
    enum store_status rc = STORE_ERROR;

    *out = NULL;
    if (opt == NULL)
        opt = &none;
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return STORE_ERROR;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->freed, NULL);
    stopper_init(&s->watcher);
    s->nconns = opt->nconns != 0 ? opt->nconns : 1;
    s->conns = calloc(s->nconns, sizeof *s->conns);
    if (s->conns == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (unsigned i = 0; i < s->nconns; i++)
        s->conns[i].db = s;
    if (pq_load(err, errlen) != 0 || pgurl_parse(url, &s->url, err, errlen) != 0)
        goto fail;
    /* Said once, here, where the store opens: the settings check parses the
     * URL too, and a warning there would be a second line. */
    if (s->url.ignored[0] != '\0')
        log_warn("DATABASE_URL: ignoring %s (SQLAlchemy and asyncpg options libpq has no "
                 "equivalent of; gatehouse's own settings apply)",
                 s->url.ignored);
    unsigned ct = opt->connect_timeout_s != 0 ? opt->connect_timeout_s : DEFAULT_CONNECT_TIMEOUT_S;
    unsigned st =
        opt->statement_timeout_ms != 0 ? opt->statement_timeout_ms : DEFAULT_STATEMENT_TIMEOUT_MS;
    /* A connect_timeout in the URL wins over DB_CONNECT_TIMEOUT_SECONDS. */
    const char *uct = pgurl_get(&s->url, "connect_timeout");
    char *end = NULL;
    long v = uct != NULL ? strtol(uct, &end, 10) : 0;
    if (uct != NULL && end != uct && *end == '\0' && v > 0 && v <= 3600)
        ct = (unsigned)v;
    s->connect_timeout_ms = (int)ct * 1000;
    /* The server cancels a statement at its timeout and says so; past this
     * margin we stop waiting for a server that says nothing at all. */
    s->statement_deadline_ms = (int)st + s->connect_timeout_ms;
    if (add_keywords(s, opt) != 0) {
        snprintf(err, errlen, "DATABASE_URL: the options parameter is too long");
        goto fail;
    }
    pgurl_describe(&s->url, s->where, sizeof s->where);
    rc = first_connection(s, opt, err, errlen);
    if (rc != STORE_OK)
        goto fail;
    /* The rest of the pool connects now when it can, else on first use. */
    for (unsigned i = 1; i < s->nconns; i++) {
        char why[256];
        s->conns[i].pg = connect_pg(s, why, sizeof why, NULL);
        s->conns[i].connected = s->conns[i].pg != NULL;
        if (s->conns[i].pg == NULL) {
            log_warn("postgresql at %s: connection %u of %u: %s", s->where, i + 1, s->nconns, why);
            break;
        }
    }
    log_info("postgresql at %s: %u %s", s->where, s->nconns,
             numfmt_plural(s->nconns, "connection", "connections"));
    *out = s;
    return STORE_OK;
fail:
    pg_close(s);
    return rc;
}

const struct store_driver store_pg_driver = {
    .name = "postgresql",
    .dialect = DIALECT_POSTGRES,
    .open = pg_open,
    .close = pg_close,
    .sqlite_path = pg_sqlite_path,
    .acquire = pg_acquire,
    .release = pg_release,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .exec = pg_exec,
    .start = pg_start,
    .bind_int64 = pg_bind_int64,
    .bind_text = pg_bind_text,
    .bind_blob = pg_bind_blob,
    .step = pg_step,
    .column_int64 = pg_column_int64,
    .column_text = pg_column_text,
    .column_blob = pg_column_blob,
    .changes = pg_changes,
    .end = pg_end,
    .notify = pg_notify,
    .follow_ids = pg_follow_ids,
    .watch = pg_watch,
};
