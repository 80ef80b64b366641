/* The store above its drivers: opening by URL, transactions, and the
 * statement helpers every operation uses (store__*). */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/driver.h"
#include "store/pgurl.h"
#include "util/log.h"

/* Counts a failure of a call on s (store_stats); returns rc. */
static enum store_status count_status(store *s, enum store_status rc)
{
    if (rc == STORE_UNAVAILABLE)
        atomic_fetch_add_explicit(&s->calls_unavailable, 1, memory_order_relaxed);
    else if (rc == STORE_ERROR)
        atomic_fetch_add_explicit(&s->calls_failed, 1, memory_order_relaxed);
    return rc;
}

static enum store_status conn_acquire(store *s, struct store_conn **c)
{
    enum store_status rc = s->drv->acquire(s->db, c);

    if (rc == STORE_OK)
        atomic_fetch_add_explicit(&s->conns_in_use, 1, memory_order_relaxed);
    return count_status(s, rc);
}

/* counted: the connection was taken by conn_acquire (the migration takes
 * its own from the driver). */
static void conn_release(store *s, struct store_conn *c, bool counted)
{
    s->drv->release(s->db, c);
    if (counted)
        atomic_fetch_sub_explicit(&s->conns_in_use, 1, memory_order_relaxed);
}

void store_stats(const store *s, struct store_stats *out)
{
    out->in_use = atomic_load_explicit(&s->conns_in_use, memory_order_relaxed);
    out->unavailable = atomic_load_explicit(&s->calls_unavailable, memory_order_relaxed);
    out->failed = atomic_load_explicit(&s->calls_failed, memory_order_relaxed);
}

#define STMT_KIND_READ           true
#define STMT_KIND_WRITE          false
#define STMT_DEF(id, text, kind) [STMT_##id] = {#id, text, STMT_KIND_##kind},
const struct store_stmt_def store_stmts[STMT_COUNT] = {STORE_STATEMENTS(STMT_DEF)};
#undef STMT_DEF

char *store_sqlite_url_path(const char *url)
{
    static const char prefix[] = "sqlite:///";

    if (strncmp(url, prefix, sizeof prefix - 1) != 0)
        return NULL;
    /* sqlite:///rel.db is relative; sqlite:////abs.db keeps its leading slash. */
    const char *path = url + sizeof prefix - 1;
    if (path[0] == '\0' || strchr(path, '?') != NULL || strchr(path, '#') != NULL)
        return NULL;
    if (strcmp(path, "/") == 0)
        return NULL;
    return strdup(path);
}

enum store_status store_open(const char *url, const struct store_options *opt, store **out,
                             char *err, size_t errlen)
{
    const struct store_driver *drv;

    *out = NULL;
    if (strncmp(url, "sqlite:", 7) == 0) {
        drv = &store_sqlite_driver;
    } else if (pgurl_is_postgres(url)) {
        drv = &store_pg_driver;
    } else {
        snprintf(err, errlen,
                 "DATABASE_URL: unsupported scheme; expected sqlite:///relative.db, "
                 "sqlite:////absolute.db or postgresql://user:password@host:5432/database");
        return STORE_ERROR;
    }
    store *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return STORE_ERROR;
    }
    s->drv = drv;
    enum store_status rc = drv->open(url, opt, &s->db, err, errlen);
    if (rc == STORE_OK)
        rc = store__migrate(s, err, errlen);
    if (rc != STORE_OK) {
        store_close(s);
        return rc;
    }
    *out = s;
    return STORE_OK;
}

void store_close(store *s)
{
    if (s == NULL)
        return;
    if (s->db != NULL)
        s->drv->close(s->db);
    free(s);
}

const char *store_sqlite_path(const store *s)
{
    return s->drv->sqlite_path(s->db);
}

enum store_status store_begin(store *s, store_tx *tx)
{
    *tx = (store_tx){.s = s};
    enum store_status rc = conn_acquire(s, &tx->c);

    if (rc != STORE_OK)
        return rc;
    tx->counted = true;
    rc = s->drv->begin(tx->c, BEGIN_WRITE);
    if (rc != STORE_OK) {
        conn_release(s, tx->c, true);
        tx->c = NULL;
    }
    return rc;
}

enum store_status store_commit(store_tx *tx)
{
    const struct store_driver *drv = tx->s->drv;
    enum store_status rc = tx->failed;

    if (rc == STORE_OK)
        rc = drv->commit(tx->c);
    else
        drv->rollback(tx->c);
    conn_release(tx->s, tx->c, tx->counted);
    tx->c = NULL;
    return count_status(tx->s, rc);
}

void store_rollback(store_tx *tx)
{
    if (tx->c == NULL)
        return;
    tx->s->drv->rollback(tx->c);
    conn_release(tx->s, tx->c, tx->counted);
    tx->c = NULL;
}

enum store_status store__take(store *s, store_tx *tx, struct store_conn **c)
{
    if (tx == NULL)
        return conn_acquire(s, c);
    /* A failed transaction runs nothing more; commit will roll it back. */
    if (tx->failed != STORE_OK)
        return tx->failed;
    *c = tx->c;
    return STORE_OK;
}

enum store_status store__give(store *s, store_tx *tx, struct store_conn *c, enum store_status rc)
{
    if (tx == NULL)
        conn_release(s, c, true);
    else if (rc != STORE_OK && tx->failed == STORE_OK)
        tx->failed = rc;
    return count_status(s, rc);
}

enum store_status store__open(store *s, store_tx *tx, enum store_stmt id, struct store_query *q)
{
    *q = (struct store_query){.s = s, .tx = tx};
    enum store_status rc = store__take(s, tx, &q->c);

    if (rc != STORE_OK)
        return rc;
    q->own = tx == NULL;
    rc = s->drv->start(q->c, id, tx != NULL);
    if (rc != STORE_OK) {
        store__give(s, tx, q->c, rc);
        q->c = NULL;
    }
    return rc;
}

void store__int(struct store_query *q, int i, int64_t v)
{
    q->s->drv->bind_int64(q->c, i, v);
}

void store__text(struct store_query *q, int i, const char *v)
{
    q->s->drv->bind_text(q->c, i, v);
}

void store__blob(struct store_query *q, int i, const void *p, size_t n)
{
    q->s->drv->bind_blob(q->c, i, p, n);
}

enum store_status store__step(struct store_query *q, bool *row)
{
    enum store_status rc = q->s->drv->step(q->c, row);

    if (rc != STORE_OK && q->tx != NULL && q->tx->failed == STORE_OK)
        q->tx->failed = rc;
    return rc;
}

int64_t store__col_int64(struct store_query *q, int col)
{
    return q->s->drv->column_int64(q->c, col);
}

bool store__col_text(struct store_query *q, int col, char *dst, size_t cap)
{
    const char *v = q->s->drv->column_text(q->c, col);
    size_t n = v != NULL ? strlen(v) : 0;

    if (n >= cap) {
        dst[0] = '\0';
        return false;
    }
    memcpy(dst, v != NULL ? v : "", n + 1);
    return true;
}

bool store__col_blob(struct store_query *q, int col, void *dst, size_t cap, size_t *len)
{
    return q->s->drv->column_blob(q->c, col, dst, cap, len);
}

int64_t store__changes(struct store_query *q)
{
    return q->s->drv->changes(q->c);
}

enum store_status store__step_row(struct store_query *q)
{
    bool row = false;
    enum store_status rc = store__step(q, &row);

    return rc == STORE_OK && !row ? STORE_NOT_FOUND : rc;
}

enum store_status store__run(struct store_query *q, bool changed_one)
{
    bool row = false;
    enum store_status rc = store__step(q, &row);

    if (rc == STORE_OK && changed_one && store__changes(q) == 0)
        rc = STORE_NOT_FOUND;
    return store__close(q, rc);
}

enum store_status store__run_deleting(struct store_query *q, int64_t *deleted)
{
    bool row = false;
    enum store_status rc = store__step(q, &row);

    *deleted = rc == STORE_OK ? store__changes(q) : 0;
    return store__close(q, rc);
}

enum store_status store__each_sid(struct store_query *q, void (*each)(void *arg, const char *sid),
                                  void *arg)
{
    char sid[STORE_ID_MAX + 1];
    bool row = false;
    enum store_status rc;

    while ((rc = store__step(q, &row)) == STORE_OK && row)
        if (store__col_text(q, 0, sid, sizeof sid))
            each(arg, sid);
    return store__close(q, rc);
}

enum store_status store__purge(store *s, enum store_stmt stmt, int64_t before, int64_t *deleted)
{
    struct store_query q;
    enum store_status rc = store__open(s, NULL, stmt, &q);

    *deleted = 0;
    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, before);
    return store__run_deleting(&q, deleted);
}

enum store_status store__count(store *s, store_tx *tx, enum store_stmt stmt, int64_t id,
                               int64_t *count)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, stmt, &q);

    *count = 0;
    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, id);
    rc = store__step_row(&q);
    if (rc == STORE_OK)
        *count = store__col_int64(&q, 0);
    return store__close(&q, rc);
}

enum store_status store__close(struct store_query *q, enum store_status rc)
{
    if (q->c == NULL)
        return rc;
    q->s->drv->end(q->c);
    if (q->own)
        conn_release(q->s, q->c, true);
    q->c = NULL;
    return count_status(q->s, rc);
}

enum store_status store_ping(store *s)
{
    struct store_query q;
    bool row = false;
    enum store_status rc = store__open(s, NULL, STMT_PING, &q);

    if (rc == STORE_OK)
        rc = store__step(&q, &row);
    return store__close(&q, rc);
}

enum store_status store__notify(store *s, store_tx *tx, const char *payload)
{
    struct store_conn *c;

    if (s->drv->notify == NULL)
        return STORE_OK;
    enum store_status rc = store__take(s, tx, &c);
    return rc != STORE_OK ? rc : store__give(s, tx, c, s->drv->notify(c, payload));
}

int store_watch(store *s, const struct store_watch *w)
{
    return s->drv->watch != NULL ? s->drv->watch(s->db, w) : 0;
}

enum store_status store_claim_sole_server(store *s, char *err, size_t errlen)
{
    return s->drv->claim != NULL ? s->drv->claim(s->db, err, errlen) : STORE_OK;
}
