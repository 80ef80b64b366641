/* store/store_sqlite: users, sessions and migrations on a temporary file. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"
#include "test.h"

#define T0 ((int64_t)1700000000)

/* A fresh directory under /tmp and the URL of a database in it. */
struct tmpdb {
    char dir[64];
    char path[128];
    char url[160];
};

static int tmpdb_make(struct tmpdb *t)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/gh-unit-XXXXXX");
    if (mkdtemp(t->dir) == NULL)
        return -1;
    snprintf(t->path, sizeof t->path, "%s/test.db", t->dir);
    snprintf(t->url, sizeof t->url, "sqlite:///%s", t->path); /* four slashes */
    return 0;
}

static void tmpdb_remove(struct tmpdb *t)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char p[160];

    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(p, sizeof p, "%s%s", t->path, suffixes[i]);
        unlink(p);
    }
    rmdir(t->dir);
}

/* One integer from a query run straight on the file; -1 on error. */
static long long query_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long v = -1;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static int exec_on(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);

    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

static void url_path_is(const char *url, const char *want, int line)
{
    char *got = store_sqlite_url_path(url);

    test_check_str(got, want, __FILE__, line, url, want != NULL ? want : "NULL");
    free(got);
}

TEST(store_url_path)
{
    url_path_is("sqlite:///rel.db", "rel.db", __LINE__);
    url_path_is("sqlite:///./data/rel.db", "./data/rel.db", __LINE__);
    url_path_is("sqlite:////abs/x.db", "/abs/x.db", __LINE__);
    url_path_is("sqlite:///gatehouse.db", "gatehouse.db", __LINE__);
    url_path_is("sqlite://", NULL, __LINE__);
    url_path_is("sqlite:///", NULL, __LINE__);
    url_path_is("sqlite:////", NULL, __LINE__);
    url_path_is("sqlite://host/x.db", NULL, __LINE__);
    url_path_is("sqlite:rel.db", NULL, __LINE__);
    url_path_is("mysql://user@host/db", NULL, __LINE__);
    url_path_is("postgresql://user:pass@host:5432/db", NULL, __LINE__);
    url_path_is("", NULL, __LINE__);
}

TEST(store_open_bad_urls)
{
    store *s = (store *)&s; /* not NULL, to see it cleared */
    char err[256];

    err[0] = '\0';
    CHECK_EQ_INT(store_open("mysql://user@host/db", 1, &s, err, sizeof err), STORE_ERROR);
    CHECK(err[0] != '\0');
    err[0] = '\0';
    CHECK_EQ_INT(store_open("sqlite://", 1, &s, err, sizeof err), STORE_ERROR);
    CHECK(s == NULL);
    CHECK(strstr(err, "DATABASE_URL") != NULL);
    err[0] = '\0';
    CHECK_EQ_INT(store_open("sqlite:////nonexistent-gh-dir/sub/x.db", 1, &s, err, sizeof err),
                 STORE_ERROR);
    CHECK(s == NULL);
    CHECK(strstr(err, "/nonexistent-gh-dir/sub/x.db") != NULL);
}

TEST(store_users)
{
    struct tmpdb t;
    struct store_user u, v;
    store *s = NULL;
    char err[256] = "";

    REQUIRE(tmpdb_make(&t) == 0);
    CHECK_EQ_INT(store_open(t.url, 2, &s, err, sizeof err), STORE_OK);
    if (s == NULL) {
        tmpdb_remove(&t);
        REQUIRE(s != NULL);
    }
    CHECK_EQ_STR(store_sqlite_path(s), t.path);
    CHECK_EQ_INT(store_ping(s), STORE_OK);

    memset(&u, 0, sizeof u);
    CHECK_EQ_INT(store_user_create(s, "Alice", "alice", "$2b$04$hash", T0, &u), STORE_OK);
    CHECK(u.id > 0);
    CHECK_EQ_STR(u.username, "Alice");
    CHECK_EQ_STR(u.password_hash, "$2b$04$hash");
    CHECK_EQ_INT(u.created_at, T0);
    /* The unique key decides, whatever the spelling. */
    CHECK_EQ_INT(store_user_create(s, "ALICE", "alice", "$2b$04$other", T0 + 1, &v),
                 STORE_CONFLICT);
    CHECK_EQ_INT(store_user_create(s, "alice", "alice", "$2b$04$other", T0 + 1, &v),
                 STORE_CONFLICT);

    memset(&v, 0, sizeof v);
    CHECK_EQ_INT(store_user_by_key(s, "alice", &v), STORE_OK);
    CHECK_EQ_INT(v.id, u.id);
    CHECK_EQ_STR(v.username, "Alice"); /* the registered spelling */
    CHECK_EQ_STR(v.password_hash, "$2b$04$hash");
    CHECK_EQ_INT(v.created_at, T0);
    memset(&v, 0, sizeof v);
    CHECK_EQ_INT(store_user_by_id(s, u.id, &v), STORE_OK);
    CHECK_EQ_STR(v.username, "Alice");
    CHECK_EQ_INT(store_user_by_key(s, "Alice", &v), STORE_NOT_FOUND); /* keys are lower case */
    CHECK_EQ_INT(store_user_by_key(s, "bob", &v), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_user_by_id(s, u.id + 1000, &v), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_user_by_id(s, 0, &v), STORE_NOT_FOUND);

    struct store_user b;
    CHECK_EQ_INT(store_user_create(s, "bob", "bob", "$argon2id$x", T0 + 2, &b), STORE_OK);
    CHECK(b.id > u.id);
    CHECK_EQ_INT(query_int(t.path, "SELECT COUNT(*) FROM users"), 2);
    store_close(s);
    tmpdb_remove(&t);
}

TEST(store_sessions)
{
    struct tmpdb t;
    struct store_user u;
    struct store_session sess;
    store *s = NULL;
    char err[256] = "";

    REQUIRE(tmpdb_make(&t) == 0);
    CHECK_EQ_INT(store_open(t.url, 1, &s, err, sizeof err), STORE_OK);
    if (s == NULL) {
        tmpdb_remove(&t);
        REQUIRE(s != NULL);
    }
    REQUIRE(store_user_create(s, "carol", "carol", "$2b$04$h", T0, &u) == STORE_OK);
    memset(&sess, 0, sizeof sess);
    snprintf(sess.id, sizeof sess.id, "sid-1");
    sess.user_id = u.id;
    memset(sess.refresh_hash, 0x11, sizeof sess.refresh_hash);
    sess.created_at = T0;
    sess.expires_at = T0 + 86400;
    CHECK_EQ_INT(store_session_create(s, &sess), STORE_OK);
    CHECK_EQ_INT(query_int(t.path, "SELECT COUNT(*) FROM sessions WHERE id = 'sid-1'"), 1);
    CHECK_EQ_INT(query_int(t.path, "SELECT expires_at FROM sessions WHERE id = 'sid-1'"),
                 T0 + 86400);
    CHECK_EQ_INT(query_int(t.path, "SELECT length(refresh_hash) FROM sessions"), 32);
    /* The same id, or the same refresh hash, again. */
    memset(sess.refresh_hash, 0x22, sizeof sess.refresh_hash);
    CHECK_EQ_INT(store_session_create(s, &sess), STORE_CONFLICT);
    snprintf(sess.id, sizeof sess.id, "sid-2");
    memset(sess.refresh_hash, 0x11, sizeof sess.refresh_hash);
    CHECK_EQ_INT(store_session_create(s, &sess), STORE_CONFLICT);
    /* A user that does not exist (deleted meanwhile). */
    memset(sess.refresh_hash, 0x33, sizeof sess.refresh_hash);
    sess.user_id = u.id + 1000;
    CHECK_EQ_INT(store_session_create(s, &sess), STORE_NOT_FOUND);
    CHECK_EQ_INT(query_int(t.path, "SELECT COUNT(*) FROM sessions"), 1);
    store_close(s);
    tmpdb_remove(&t);
}

TEST(store_reopen)
{
    struct tmpdb t;
    struct store_user u, v;
    store *s = NULL;
    char err[256] = "";

    REQUIRE(tmpdb_make(&t) == 0);
    CHECK_EQ_INT(store_open(t.url, 1, &s, err, sizeof err), STORE_OK);
    if (s == NULL) {
        tmpdb_remove(&t);
        REQUIRE(s != NULL);
    }
    CHECK_EQ_INT(store_user_create(s, "dave", "dave", "$2b$04$h", T0, &u), STORE_OK);
    store_close(s);
    s = NULL;
    /* Migrations run again and change nothing. */
    CHECK_EQ_INT(store_open(t.url, 2, &s, err, sizeof err), STORE_OK);
    if (s != NULL) {
        CHECK_EQ_INT(store_user_by_key(s, "dave", &v), STORE_OK);
        CHECK_EQ_INT(v.id, u.id);
        CHECK_EQ_INT(store_user_create(s, "Dave", "dave", "$2b$04$h", T0, &v), STORE_CONFLICT);
        CHECK_EQ_INT(store_user_create(s, "erin", "erin", "$2b$04$h", T0, &v), STORE_OK);
        CHECK(v.id > u.id);
        store_close(s);
    }
    CHECK_EQ_INT(query_int(t.path, "SELECT COUNT(*) FROM schema_migrations"), 1);
    CHECK_EQ_INT(query_int(t.path, "SELECT MAX(version) FROM schema_migrations"), 1);
    CHECK_EQ_INT(query_int(t.path, "PRAGMA journal_mode = WAL") >= 0, 1);
    tmpdb_remove(&t);
}

TEST(store_newer_schema)
{
    struct tmpdb t;
    store *s = NULL;
    char err[256] = "";

    REQUIRE(tmpdb_make(&t) == 0);
    CHECK_EQ_INT(store_open(t.url, 1, &s, err, sizeof err), STORE_OK);
    store_close(s);
    s = NULL;
    /* A database migrated by a newer gatehouse is left alone. */
    CHECK_EQ_INT(exec_on(t.path, "INSERT INTO schema_migrations VALUES (99, 0)"), SQLITE_OK);
    CHECK_EQ_INT(store_open(t.url, 1, &s, err, sizeof err), STORE_ERROR);
    CHECK(s == NULL);
    CHECK(strstr(err, "99") != NULL);
    CHECK_EQ_INT(query_int(t.path, "SELECT COUNT(*) FROM schema_migrations"), 2);
    tmpdb_remove(&t);
}

struct inserter {
    store *s;
    int base, n, ok;
};

static void *insert_users(void *arg)
{
    struct inserter *w = arg;
    struct store_user u;
    char name[32];

    for (int i = 0; i < w->n; i++) {
        snprintf(name, sizeof name, "user%d", w->base + i);
        w->ok += store_user_create(w->s, name, name, "$2b$04$h", T0, &u) == STORE_OK;
    }
    return NULL;
}

TEST(store_concurrent_inserts)
{
    enum { NTHREADS = 4, PER = 25 };
    struct tmpdb t;
    struct inserter w[NTHREADS];
    pthread_t th[NTHREADS];
    store *s = NULL;
    char err[256] = "";
    int ok = 0;

    REQUIRE(tmpdb_make(&t) == 0);
    CHECK_EQ_INT(store_open(t.url, 2, &s, err, sizeof err), STORE_OK);
    if (s == NULL) {
        tmpdb_remove(&t);
        REQUIRE(s != NULL);
    }
    /* More threads than connections: callers wait for a free one. */
    for (int i = 0; i < NTHREADS; i++) {
        w[i] = (struct inserter){s, i * PER, PER, 0};
        CHECK_EQ_INT(pthread_create(&th[i], NULL, insert_users, &w[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        ok += w[i].ok;
    }
    CHECK_EQ_INT(ok, NTHREADS * PER);
    store_close(s);
    CHECK_EQ_INT(query_int(t.path, "SELECT COUNT(DISTINCT id) FROM users"), NTHREADS * PER);
    tmpdb_remove(&t);
}
