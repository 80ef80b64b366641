#ifndef GH_STORE_DRIVER_H
#define GH_STORE_DRIVER_H

/* What a backend implements, and all it implements: connections in a pool,
 * transactions, prepared statements by id (statements.h), binding, stepping
 * through rows, reading columns, and the mapping of its own errors to a
 * store_status. The operations (users.c, sessions.c, migrate.c) are written
 * once above this; no SQL lives in a driver except its transaction verbs.
 * Store internals only: nothing outside src/store includes this. */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/statements.h"
#include "store/store.h"

/* A backend's database handle and one of its connections; each driver
 * defines them. */
struct store_db;
struct store_conn;

/* Which text of a migration applies (migrate.c). */
enum store_dialect { DIALECT_SQLITE, DIALECT_POSTGRES };

/* How a transaction starts. */
enum store_begin {
    BEGIN_WRITE,   /* takes the write lock up front where the backend has one */
    BEGIN_MIGRATE, /* BEGIN_WRITE, serialized with every other instance's migration */
};

struct store_driver {
    const char *name;
    enum store_dialect dialect;

    /* Opens the database named by url with room for opt->nconns connections
     * and at least one connection open, ready for migrate.c. A driver that
     * waits for its server does so here (opt->start_wait_s). */
    enum store_status (*open)(const char *url, const struct store_options *opt,
                              struct store_db **out, char *err, size_t errlen);
    /* Closes every connection and frees db. */
    void (*close)(struct store_db *db);
    /* The SQLite file, or NULL. */
    const char *(*sqlite_path)(const struct store_db *db);

    /* Takes a free connection, waiting while all are busy. STORE_UNAVAILABLE
     * (nothing held) when the server cannot be reached now. */
    enum store_status (*acquire)(struct store_db *db, struct store_conn **out);
    /* Gives c back; a statement still open on it is reset. */
    void (*release)(struct store_db *db, struct store_conn *c);

    /* Transaction verbs on a held connection. rollback never fails: a
     * connection it cannot roll back is dropped, which rolls back too. */
    enum store_status (*begin)(struct store_conn *c, enum store_begin how);
    enum store_status (*commit)(struct store_conn *c);
    void (*rollback)(struct store_conn *c);

    /* Runs sql, which has neither parameters nor results (DDL). */
    enum store_status (*exec)(struct store_conn *c, const char *sql);

    /* Starts statement id on c: no parameters bound yet. in_tx tells the
     * driver whether it may send a READ statement again on a fresh
     * connection after a break (only outside a transaction). */
    enum store_status (*start)(struct store_conn *c, enum store_stmt id, bool in_tx);
    /* Binds parameter i (1-based) of the started statement. Text and blob
     * are not copied: they must outlive the statement. */
    void (*bind_int64)(struct store_conn *c, int i, int64_t v);
    void (*bind_text)(struct store_conn *c, int i, const char *s);
    void (*bind_blob)(struct store_conn *c, int i, const void *p, size_t n);
    /* Runs the statement (first call) or moves to the next row. STORE_OK
     * with *row true while a row is there, *row false at the end; another
     * status on failure: STORE_CONFLICT (a unique key), STORE_NOT_FOUND (a
     * foreign key names a row that is gone), STORE_UNAVAILABLE (the
     * database cannot be reached or is locked), STORE_ERROR (logged). */
    enum store_status (*step)(struct store_conn *c, bool *row);
    /* Columns of the current row, 0-based. text is NULL for SQL NULL and
     * stays valid until the next step or end. */
    int64_t (*column_int64)(struct store_conn *c, int col);
    const char *(*column_text)(struct store_conn *c, int col);
    /* Copies blob column col into dst (cap bytes) and sets *len; *len 0 for
     * SQL NULL. false when the value is longer than cap. */
    bool (*column_blob)(struct store_conn *c, int col, void *dst, size_t cap, size_t *len);
    /* Rows inserted, updated or deleted by the statement just run. */
    int64_t (*changes)(struct store_conn *c);
    /* Ends the statement: resets it and forgets its bindings. */
    void (*end)(struct store_conn *c);

    /* Tells every watcher of the database payload when the transaction on
     * c commits (at once outside one). NULL for a backend that only one
     * instance uses (SQLite: a second server refuses to start). */
    enum store_status (*notify)(struct store_conn *c, const char *payload);
    /* Starts watching for notifications, or for commits of other
     * connections where the backend has no notifications (SQLite), on a
     * thread of the driver's, which close stops. */
    int (*watch)(struct store_db *db, const struct store_watch *w);
    /* Moves the source of new user ids past the largest id in users, never
     * back, after rows were inserted with ids of their own (an import that
     * keeps the original app's ids). NULL for a backend whose ids follow by
     * themselves (SQLite: AUTOINCREMENT remembers the largest id inserted,
     * whoever chose it). */
    enum store_status (*follow_ids)(struct store_conn *c);
    /* Claims the database for this process alone until close
     * (store_claim_sole_server). NULL when instances may share it. */
    enum store_status (*claim)(struct store_db *db, char *err, size_t errlen);
};

extern const struct store_driver store_sqlite_driver;
extern const struct store_driver store_pg_driver;

/* The handle behind store *. */
struct store {
    const struct store_driver *drv;
    struct store_db *db;
    /* What store_stats reports of this store: connections held right now,
     * and failed calls by kind. */
    atomic_uint_fast64_t conns_in_use;
    atomic_uint_fast64_t calls_unavailable;
    atomic_uint_fast64_t calls_failed;
};

/* A statement in progress, as the operations use it (store.c). Opening one
 * holds a connection: the transaction's, or a pool connection of its own
 * until store__close. */
struct store_query {
    store *s;
    store_tx *tx;
    struct store_conn *c;
    bool own; /* c was acquired for this statement alone */
};

/* The connection an operation runs on: tx's (refused with tx's failure once
 * it has failed), or, with tx NULL, one of the pool's. store__give hands
 * it back: it marks tx failed when rc is a failure, or releases the pool's
 * connection; it returns rc. */
enum store_status store__take(store *s, store_tx *tx, struct store_conn **c);
enum store_status store__give(store *s, store_tx *tx, struct store_conn *c, enum store_status rc);

enum store_status store__open(store *s, store_tx *tx, enum store_stmt id, struct store_query *q);
void store__int(struct store_query *q, int i, int64_t v);
void store__text(struct store_query *q, int i, const char *s);
void store__blob(struct store_query *q, int i, const void *p, size_t n);
/* One step; a failure inside a transaction marks it failed (store_commit
 * then rolls back). */
enum store_status store__step(struct store_query *q, bool *row);
int64_t store__col_int64(struct store_query *q, int col);
/* Copies text column col into dst (cap bytes, NUL-terminated); "" for NULL.
 * Returns false when it did not fit. */
bool store__col_text(struct store_query *q, int col, char *dst, size_t cap);
/* Copies blob column col into dst (cap bytes); *len: its length, 0 for
 * NULL. Returns false when it did not fit. */
bool store__col_blob(struct store_query *q, int col, void *dst, size_t cap, size_t *len);
int64_t store__changes(struct store_query *q);
/* One step of a statement that must return a row: STORE_NOT_FOUND when it
 * returns none. The query stays open for the columns. */
enum store_status store__step_row(struct store_query *q);
/* Steps and closes a statement that returns no row (an INSERT, UPDATE or
 * DELETE); STORE_NOT_FOUND when it changed none and changed_one is set. */
enum store_status store__run(struct store_query *q, bool changed_one);
/* Steps and closes a statement that deletes rows (a purge); *deleted gets
 * how many, 0 on a failure. */
enum store_status store__run_deleting(struct store_query *q, int64_t *deleted);
/* Steps and closes a statement whose rows are session ids (column 0),
 * calling each with every one (a revocation's RETURNING id). */
enum store_status store__each_sid(struct store_query *q, void (*each)(void *arg, const char *sid),
                                  void *arg);
/* Opens, runs and closes stmt, a purge whose one parameter is the time
 * before which rows go; *deleted gets how many, 0 on a failure. */
enum store_status store__purge(store *s, enum store_stmt stmt, int64_t before, int64_t *deleted);
/* Opens, runs and closes stmt, a COUNT(*) whose one parameter is id (a
 * user's rows); *count gets the number, 0 on a failure. */
enum store_status store__count(store *s, store_tx *tx, enum store_stmt stmt, int64_t id,
                               int64_t *count);
/* Ends the statement, releasing its connection when it had its own; passes
 * rc through for "return store__close(&q, rc);". */
enum store_status store__close(struct store_query *q, enum store_status rc);

/* Sends payload to the watchers of the database (store_watch), in tx when
 * given; STORE_OK at once on a backend without watchers. */
enum store_status store__notify(store *s, store_tx *tx, const char *payload);

/* Brings the schema up to date on a connection of s (migrate.c). */
enum store_status store__migrate(store *s, char *err, size_t errlen);

#endif
