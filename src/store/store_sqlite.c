/* The embedded default backend: SQLite in WAL mode with synchronous=FULL, so
 * an acknowledged write survives a crash or kill -9. A small pool holds one
 * connection per worker; each connection keeps its prepared statements. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store_impl.h"
#include "util/log.h"
#include "util/timefmt.h"

enum stmt_id {
    ST_PING,
    ST_USER_INSERT,
    ST_USER_BY_KEY,
    ST_USER_BY_ID,
    ST_SESSION_INSERT,
    ST_COUNT,
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_PING] = "SELECT 1",
    [ST_USER_INSERT] = "INSERT INTO users (username, username_key, password_hash, created_at, "
                       "updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
    [ST_USER_BY_KEY] = "SELECT id, username, password_hash, created_at FROM users "
                       "WHERE username_key = ?1",
    [ST_USER_BY_ID] = "SELECT id, username, password_hash, created_at FROM users WHERE id = ?1",
    [ST_SESSION_INSERT] =
        "INSERT INTO sessions (id, user_id, refresh_hash, generation, "
        "created_at, last_used_at, expires_at) VALUES (?1, ?2, ?3, 0, ?4, ?4, ?5)",
};

/* Versioned migrations: entry i brings the schema to version i + 1. Applied
 * in order, each in the transaction that records it; never edited once
 * released, only appended to. */
static const char *const migrations[] = {
    /* 1: users and sessions. AUTOINCREMENT keeps ids of deleted users from
     * ever being reused, so an old token can never name a new user. */
    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  username TEXT NOT NULL,"
    "  username_key TEXT NOT NULL,"
    "  password_hash TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX users_username_key ON users (username_key);"
    "CREATE TABLE sessions ("
    "  id TEXT PRIMARY KEY,"
    "  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    "  refresh_hash BLOB NOT NULL,"
    "  generation INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  last_used_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  revoked_at INTEGER);"
    "CREATE UNIQUE INDEX sessions_refresh_hash ON sessions (refresh_hash);"
    "CREATE INDEX sessions_user_id ON sessions (user_id);",
};

#define NMIGRATIONS (sizeof migrations / sizeof migrations[0])

struct conn {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    bool busy;
};

struct sqlite_store {
    struct store base;
    char *path;
    pthread_mutex_t lock;
    pthread_cond_t freed;
    unsigned nconns;
    struct conn *conns;
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

static int exec_simple(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);

    if (rc != SQLITE_OK) {
        log_error("sqlite: %s", msg != NULL ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
    }
    return rc;
}

static int open_conn(const char *path, struct conn *c, char *err, size_t errlen)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &c->db, flags, NULL);

    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "DATABASE_URL: cannot open %s: %s", path,
                 c->db != NULL ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
        return -1;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, 5000);
    /* WAL lets readers run beside the writer; FULL syncs the WAL on every
     * commit, so an acknowledged registration survives power loss. */
    if (exec_simple(c->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                           "PRAGMA foreign_keys=ON;") != SQLITE_OK) {
        snprintf(err, errlen, "DATABASE_URL: cannot configure %s: %s", path, sqlite3_errmsg(c->db));
        return -1;
    }
    return 0;
}

static int prepare_conn(struct conn *c, char *err, size_t errlen)
{
    for (int i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(c->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &c->st[i],
                               NULL) != SQLITE_OK) {
            snprintf(err, errlen, "sqlite: preparing statement %d: %s", i, sqlite3_errmsg(c->db));
            return -1;
        }
    }
    return 0;
}

/* Applies the migrations newer than the database's version. BEGIN IMMEDIATE
 * takes the write lock first, so two processes starting at once serialize. */
static int migrate(sqlite3 *db, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    long version = 0;

    if (exec_simple(db, "BEGIN IMMEDIATE") != SQLITE_OK)
        goto fail;
    if (exec_simple(db, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                        "version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)") != SQLITE_OK)
        goto rollback;
    if (sqlite3_prepare_v2(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", -1, &st,
                           NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        goto rollback;
    version = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    st = NULL;
    if (version > (long)NMIGRATIONS) {
        snprintf(err, errlen,
                 "database schema version %ld is newer than this gatehouse knows (%zu); "
                 "upgrade gatehouse",
                 version, NMIGRATIONS);
        exec_simple(db, "ROLLBACK");
        return -1;
    }
    for (size_t i = (size_t)version; i < NMIGRATIONS; i++) {
        if (exec_simple(db, migrations[i]) != SQLITE_OK)
            goto rollback;
        if (sqlite3_prepare_v2(db, "INSERT INTO schema_migrations VALUES (?1, ?2)", -1, &st,
                               NULL) != SQLITE_OK)
            goto rollback;
        sqlite3_bind_int64(st, 1, (sqlite3_int64)(i + 1));
        sqlite3_bind_int64(st, 2, timefmt_now());
        if (sqlite3_step(st) != SQLITE_DONE)
            goto rollback;
        sqlite3_finalize(st);
        st = NULL;
        log_info("database schema migrated to version %zu", i + 1);
    }
    if (exec_simple(db, "COMMIT") != SQLITE_OK)
        goto rollback;
    return 0;
rollback:
    snprintf(err, errlen, "migrating the database: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    exec_simple(db, "ROLLBACK");
    return -1;
fail:
    snprintf(err, errlen, "migrating the database: %s", sqlite3_errmsg(db));
    return -1;
}

static struct conn *acquire(struct sqlite_store *s)
{
    pthread_mutex_lock(&s->lock);
    for (;;) {
        for (unsigned i = 0; i < s->nconns; i++) {
            if (!s->conns[i].busy) {
                s->conns[i].busy = true;
                pthread_mutex_unlock(&s->lock);
                return &s->conns[i];
            }
        }
        pthread_cond_wait(&s->freed, &s->lock);
    }
}

static void release(struct sqlite_store *s, struct conn *c, sqlite3_stmt *st)
{
    if (st != NULL) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    pthread_mutex_lock(&s->lock);
    c->busy = false;
    pthread_cond_signal(&s->freed);
    pthread_mutex_unlock(&s->lock);
}

static void sq_close(store *base)
{
    struct sqlite_store *s = (struct sqlite_store *)base;

    for (unsigned i = 0; i < s->nconns; i++) {
        for (int j = 0; j < ST_COUNT; j++)
            sqlite3_finalize(s->conns[i].st[j]);
        sqlite3_close(s->conns[i].db);
    }
    pthread_cond_destroy(&s->freed);
    pthread_mutex_destroy(&s->lock);
    free(s->conns);
    free(s->path);
    free(s);
}

static const char *sq_path(const store *base)
{
    return ((const struct sqlite_store *)base)->path;
}

static enum store_status sq_ping(store *base)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    struct conn *c = acquire(s);
    sqlite3_stmt *st = c->st[ST_PING];
    enum store_status rc = map_rc(c->db, sqlite3_step(st), "ping");

    release(s, c, st);
    return rc;
}

static void read_user(sqlite3_stmt *st, struct store_user *out)
{
    const unsigned char *name = sqlite3_column_text(st, 1);
    const unsigned char *hash = sqlite3_column_text(st, 2);

    out->id = sqlite3_column_int64(st, 0);
    snprintf(out->username, sizeof out->username, "%s", name != NULL ? (const char *)name : "");
    snprintf(out->password_hash, sizeof out->password_hash, "%s",
             hash != NULL ? (const char *)hash : "");
    out->created_at = sqlite3_column_int64(st, 3);
}

static enum store_status sq_user_create(store *base, const char *username, const char *key,
                                        const char *hash, int64_t now, struct store_user *out)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    struct conn *c = acquire(s);
    sqlite3_stmt *st = c->st[ST_USER_INSERT];

    sqlite3_bind_text(st, 1, username, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, now);
    enum store_status rc = map_rc(c->db, sqlite3_step(st), "user insert");
    if (rc == STORE_OK) {
        out->id = sqlite3_last_insert_rowid(c->db);
        snprintf(out->username, sizeof out->username, "%s", username);
        snprintf(out->password_hash, sizeof out->password_hash, "%s", hash);
        out->created_at = now;
    }
    release(s, c, st);
    return rc;
}

static enum store_status user_query(struct sqlite_store *s, enum stmt_id id, const char *key,
                                    int64_t num, struct store_user *out)
{
    struct conn *c = acquire(s);
    sqlite3_stmt *st = c->st[id];

    if (key != NULL)
        sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(st, 1, num);
    int step = sqlite3_step(st);
    enum store_status rc;
    if (step == SQLITE_ROW) {
        read_user(st, out);
        rc = STORE_OK;
    } else if (step == SQLITE_DONE) {
        rc = STORE_NOT_FOUND;
    } else {
        rc = map_rc(c->db, step, "user lookup");
    }
    release(s, c, st);
    return rc;
}

static enum store_status sq_user_by_key(store *base, const char *key, struct store_user *out)
{
    return user_query((struct sqlite_store *)base, ST_USER_BY_KEY, key, 0, out);
}

static enum store_status sq_user_by_id(store *base, int64_t id, struct store_user *out)
{
    return user_query((struct sqlite_store *)base, ST_USER_BY_ID, NULL, id, out);
}

static enum store_status sq_session_create(store *base, const struct store_session *sess)
{
    struct sqlite_store *s = (struct sqlite_store *)base;
    struct conn *c = acquire(s);
    sqlite3_stmt *st = c->st[ST_SESSION_INSERT];

    sqlite3_bind_text(st, 1, sess->id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, sess->user_id);
    sqlite3_bind_blob(st, 3, sess->refresh_hash, sizeof sess->refresh_hash, SQLITE_STATIC);
    sqlite3_bind_int64(st, 4, sess->created_at);
    sqlite3_bind_int64(st, 5, sess->expires_at);
    int step = sqlite3_step(st);
    /* A foreign-key failure means the user was deleted meanwhile: an
     * expected outcome, not an error to log. */
    enum store_status rc = step == SQLITE_CONSTRAINT_FOREIGNKEY
                               ? STORE_NOT_FOUND
                               : map_rc(c->db, step, "session insert");
    release(s, c, st);
    return rc;
}

static const struct store_ops sqlite_ops = {
    .close = sq_close,
    .sqlite_path = sq_path,
    .ping = sq_ping,
    .user_create = sq_user_create,
    .user_by_key = sq_user_by_key,
    .user_by_id = sq_user_by_id,
    .session_create = sq_session_create,
};

enum store_status store_sqlite_open(const char *url, unsigned nconns, store **out, char *err,
                                    size_t errlen)
{
    struct sqlite_store *s = calloc(1, sizeof *s);

    *out = NULL;
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return STORE_ERROR;
    }
    s->base.ops = &sqlite_ops;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->freed, NULL);
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
    for (unsigned i = 0; i < nconns; i++) {
        if (open_conn(s->path, &s->conns[i], err, errlen) != 0)
            goto fail;
        if (i == 0 && migrate(s->conns[0].db, err, errlen) != 0)
            goto fail;
        if (prepare_conn(&s->conns[i], err, errlen) != 0)
            goto fail;
    }
    *out = &s->base;
    return STORE_OK;
fail:
    sq_close(&s->base);
    return STORE_ERROR;
}
