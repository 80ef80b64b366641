/* The SQLite driver: the embedded default backend, in WAL mode with
 * synchronous=FULL, so an acknowledged write survives a crash or kill -9. A
 * small pool holds one connection per worker; each connection prepares a
 * statement the first time it runs it and keeps it. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <unistd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/driver.h"
#include "util/log.h"
#include "util/stopper.h"

#define BUSY_TIMEOUT_MS 5000

struct store_conn {
    sqlite3 *db;
    sqlite3_stmt *st[STMT_COUNT]; /* prepared on first use */
    sqlite3_stmt *cur;            /* the started statement, or NULL */
    enum store_stmt cur_id;
    bool busy; /* under the pool lock */
};

/* The watch's own connection and the data_version it last saw (sq_watch). */
struct sq_watcher {
    sqlite3 *db;
    sqlite3_stmt *version;
    sqlite3_int64 seen;
};

struct store_db {
    char *path;
    /* The watch (sq_watch): a thread with a connection of its own. */
    struct store_watch watch;
    struct stopper watcher;
    struct sq_watcher *watcher_state;
    int claim_fd; /* holds the flock of store_claim_sole_server, or -1 */
    pthread_mutex_t lock;
    pthread_cond_t freed;
    unsigned nconns;
    struct store_conn *conns;
};

static enum store_status map_rc(sqlite3 *db, int rc, const char *what)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW: return STORE_OK;
    case SQLITE_CONSTRAINT:
        if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            return STORE_CONFLICT;
        /* A foreign key names a row that is gone (a user deleted meanwhile):
         * an expected outcome, not an error to log. */
        if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
            return STORE_NOT_FOUND;
        break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
        log_warn("sqlite: %s: %s", what, db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        return STORE_UNAVAILABLE;
    default: break;
    }
    log_error("sqlite: %s: %s", what, db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    return STORE_ERROR;
}

static enum store_status sq_exec(struct store_conn *c, const char *sql)
{
    return map_rc(c->db, sqlite3_exec(c->db, sql, NULL, NULL, NULL), "exec");
}

/* Creates the database file, if it does not exist yet, readable by its
 * owner only: it holds the password hashes. SQLite would create it 0644
 * (less the umask), and changing the umask around sqlite3_open_v2 would
 * change it for every thread of the process. The -wal and -shm files SQLite
 * creates later take the database file's mode. An existing file keeps its
 * mode; any error is left for sqlite3_open_v2 to report. */
static void create_private(const char *path)
{
    if (strcmp(path, ":memory:") == 0)
        return;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
}

static int open_conn(const char *path, struct store_conn *c, char *err, size_t errlen)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &c->db, flags, NULL);

    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "DATABASE_URL: cannot open %s: %s", path,
                 c->db != NULL ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        return -1;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, BUSY_TIMEOUT_MS);
    /* WAL lets readers run beside the writer; FULL syncs the WAL on every
     * commit, so an acknowledged registration survives power loss. */
    if (sqlite3_exec(c->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                     "PRAGMA foreign_keys=ON;",
                     NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "DATABASE_URL: cannot configure %s: %s", path, sqlite3_errmsg(c->db));
        return -1;
    }
    return 0;
}

/* statements.h writes parameters as PostgreSQL does ($1); SQLite reads the
 * same numbers as ?1. No statement has a '$' inside a string literal. */
static int translate(const char *sql, char *out, size_t cap)
{
    size_t n = strlen(sql);

    if (n >= cap)
        return -1;
    for (size_t i = 0; i <= n; i++)
        out[i] = sql[i] == '$' ? '?' : sql[i];
    return 0;
}

static enum store_status sq_start(struct store_conn *c, enum store_stmt id, bool in_tx)
{
    char sql[4096]; /* USERS_IMPORT_BATCH, the longest, is about 2.5 KiB */

    (void)in_tx;
    if (c->st[id] == NULL) {
        if (translate(store_stmts[id].sql, sql, sizeof sql) != 0) {
            log_error("sqlite: statement %s is too long", store_stmts[id].name);
            return STORE_ERROR;
        }
        int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->st[id], NULL);
        if (rc != SQLITE_OK)
            return map_rc(c->db, rc, store_stmts[id].name);
    }
    c->cur = c->st[id];
    c->cur_id = id;
    return STORE_OK;
}

static void sq_bind_int64(struct store_conn *c, int i, int64_t v)
{
    sqlite3_bind_int64(c->cur, i, v);
}

static void sq_bind_text(struct store_conn *c, int i, const char *s)
{
    sqlite3_bind_text(c->cur, i, s, -1, SQLITE_STATIC);
}

static void sq_bind_blob(struct store_conn *c, int i, const void *p, size_t n)
{
    sqlite3_bind_blob64(c->cur, i, p, n, SQLITE_STATIC);
}

static enum store_status sq_step(struct store_conn *c, bool *row)
{
    int rc = sqlite3_step(c->cur);

    *row = rc == SQLITE_ROW;
    if (rc == SQLITE_ROW || rc == SQLITE_DONE)
        return STORE_OK;
    return map_rc(c->db, rc, store_stmts[c->cur_id].name);
}

static int64_t sq_column_int64(struct store_conn *c, int col)
{
    return sqlite3_column_int64(c->cur, col);
}

static const char *sq_column_text(struct store_conn *c, int col)
{
    return (const char *)sqlite3_column_text(c->cur, col);
}

static bool sq_column_blob(struct store_conn *c, int col, void *dst, size_t cap, size_t *len)
{
    const void *p = sqlite3_column_blob(c->cur, col);
    int n = sqlite3_column_bytes(c->cur, col);

    *len = 0;
    if (p == NULL || n <= 0)
        return true;
    if ((size_t)n > cap)
        return false;
    memcpy(dst, p, (size_t)n);
    *len = (size_t)n;
    return true;
}

static int64_t sq_changes(struct store_conn *c)
{
    return sqlite3_changes64(c->db);
}

static void sq_end(struct store_conn *c)
{
    if (c->cur != NULL) {
        sqlite3_reset(c->cur);
        sqlite3_clear_bindings(c->cur);
        c->cur = NULL;
    }
}

/* BEGIN IMMEDIATE takes the write lock at once: two writers wait for each
 * other (busy_timeout) instead of one failing when it upgrades a read lock,
 * and two processes migrating at once serialize. */
static enum store_status sq_begin(struct store_conn *c, enum store_begin how)
{
    (void)how;
    return sq_exec(c, "BEGIN IMMEDIATE");
}

static enum store_status sq_commit(struct store_conn *c)
{
    enum store_status rc = sq_exec(c, "COMMIT");

    /* A failed COMMIT (SQLITE_BUSY, an I/O error) leaves the transaction
     * open: end it, so the connection goes back to the pool clean. */
    if (rc != STORE_OK && !sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static void sq_rollback(struct store_conn *c)
{
    sq_end(c);
    if (!sqlite3_get_autocommit(c->db))
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

static enum store_status sq_acquire(struct store_db *s, struct store_conn **out)
{
    pthread_mutex_lock(&s->lock);
    for (;;) {
        for (unsigned i = 0; i < s->nconns; i++) {
            if (!s->conns[i].busy) {
                s->conns[i].busy = true;
                pthread_mutex_unlock(&s->lock);
                *out = &s->conns[i];
                return STORE_OK;
            }
        }
        pthread_cond_wait(&s->freed, &s->lock);
    }
}

static void sq_release(struct store_db *s, struct store_conn *c)
{
    sq_end(c);
    pthread_mutex_lock(&s->lock);
    c->busy = false;
    pthread_cond_signal(&s->freed);
    pthread_mutex_unlock(&s->lock);
}

static void sq_close(struct store_db *s)
{
    stopper_stop(&s->watcher);
    if (s->watcher_state != NULL) {
        sqlite3_finalize(s->watcher_state->version);
        sqlite3_close(s->watcher_state->db);
        free(s->watcher_state);
    }
    for (unsigned i = 0; s->conns != NULL && i < s->nconns; i++) {
        for (int j = 0; j < STMT_COUNT; j++)
            sqlite3_finalize(s->conns[i].st[j]);
        sqlite3_close(s->conns[i].db);
    }
    /* After every SQLite connection: closing a descriptor of the file
     * would drop the POSIX locks SQLite holds through its own. */
    if (s->claim_fd >= 0)
        close(s->claim_fd);
    pthread_cond_destroy(&s->freed);
    pthread_mutex_destroy(&s->lock);
    free(s->conns);
    free(s->path);
    free(s);
}

/* An flock on the database file itself: no file of its own to leave
 * behind, and on Linux it is independent of the fcntl locks SQLite takes
 * on the same file. The kernel drops it when the process dies, kill -9
 * included. */
static enum store_status sq_claim(struct store_db *s, char *err, size_t errlen)
{
    if (s->claim_fd >= 0)
        return STORE_OK;
    int fd = open(s->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", s->path, strerror(errno));
        return STORE_ERROR;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK) {
            snprintf(err, errlen,
                     "%s is served by another gatehouse process already; with SQLite only one "
                     "server may use a database (its logouts could not reach a second one). "
                     "Use PostgreSQL to run several instances",
                     s->path);
            return STORE_CONFLICT;
        }
        snprintf(err, errlen, "cannot lock %s: %s", s->path, strerror(e));
        return STORE_ERROR;
    }
    s->claim_fd = fd;
    return STORE_OK;
}

static const char *sq_path(const struct store_db *s)
{
    return s->path;
}

static enum store_status sq_open(const char *url, const struct store_options *opt,
                                 struct store_db **out, char *err, size_t errlen)
{
    struct store_db *s = calloc(1, sizeof *s);
    unsigned nconns = opt != NULL && opt->nconns != 0 ? opt->nconns : 1;

    *out = NULL;
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return STORE_ERROR;
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->freed, NULL);
    s->claim_fd = -1;
    stopper_init(&s->watcher);
    s->path = store_sqlite_url_path(url);
    if (s->path == NULL) {
        snprintf(err, errlen,
                 "DATABASE_URL: expected sqlite:///relative.db or sqlite:////absolute.db");
        goto fail;
    }
    s->conns = calloc(nconns, sizeof *s->conns);
    if (s->conns == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    s->nconns = nconns;
    create_private(s->path);
    for (unsigned i = 0; i < nconns; i++)
        if (open_conn(s->path, &s->conns[i], err, errlen) != 0)
            goto fail;
    *out = s;
    return STORE_OK;
fail:
    sq_close(s);
    return STORE_ERROR;
}

/* How often the watcher looks at the file: a revocation written by another
 * process (gatehouse users delete) is heard within this. */
#define WATCH_INTERVAL_MS 500

/* The watcher. SQLite has no NOTIFY; PRAGMA data_version, read on a
 * connection of the watcher's own, changes whenever any other connection
 * (another process, or this one's pool) has committed since the last
 * read: then the caller is told to reload (watch.connected). A read costs
 * no I/O while nothing changed. */
static sqlite3_int64 data_version(sqlite3_stmt *st)
{
    sqlite3_int64 v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;

    sqlite3_reset(st);
    return v;
}

static void *watch_main(void *arg)
{
    struct store_db *s = arg;
    struct sq_watcher *w = s->watcher_state;

    while (!stopper_wait(&s->watcher, WATCH_INTERVAL_MS)) {
        sqlite3_int64 v = data_version(w->version);
        if (v >= 0 && v != w->seen) {
            w->seen = v;
            s->watch.connected(s->watch.arg);
        }
    }
    return NULL;
}

/* The first reading is taken here, before this returns: a commit made
 * after store_watch returned is always seen as a change. */
static int sq_watch(struct store_db *s, const struct store_watch *w)
{
    struct sq_watcher *x;

    if (s->watcher.running || (x = calloc(1, sizeof *x)) == NULL)
        return -1;
    s->watcher_state = x;
    if (sqlite3_open_v2(s->path, &x->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(x->db, "PRAGMA data_version", -1, &x->version, NULL) != SQLITE_OK ||
        (x->seen = data_version(x->version)) < 0) {
        log_error("sqlite: the revocation watch cannot read %s: %s", s->path,
                  x->db != NULL ? sqlite3_errmsg(x->db) : "out of memory");
        return -1;
    }
    s->watch = *w;
    return stopper_start(&s->watcher, watch_main, s);
}

const struct store_driver store_sqlite_driver = {
    .name = "sqlite",
    .dialect = DIALECT_SQLITE,
    .open = sq_open,
    .close = sq_close,
    .sqlite_path = sq_path,
    .acquire = sq_acquire,
    .release = sq_release,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .exec = sq_exec,
    .start = sq_start,
    .bind_int64 = sq_bind_int64,
    .bind_text = sq_bind_text,
    .bind_blob = sq_bind_blob,
    .step = sq_step,
    .column_int64 = sq_column_int64,
    .column_text = sq_column_text,
    .column_blob = sq_column_blob,
    .changes = sq_changes,
    .end = sq_end,
    .claim = sq_claim,
    .watch = sq_watch,
};
