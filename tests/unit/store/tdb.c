/* The test databases of tdb.h. */
#include "store/tdb.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/pq.h"

/* 0: ready; 1: PostgreSQL is not configured (the test is skipped, or
 * failed when GATEHOUSE_TEST_REQUIRE_PG=1); -1: an error, reported. */
int tdb_make(struct tdb *t, enum backend b, int line)
{
    static unsigned counter;

    memset(t, 0, sizeof *t);
    t->b = b;
    if (b == SQLITE) {
        snprintf(t->dir, sizeof t->dir, "/tmp/gh-unit-XXXXXX");
        if (mkdtemp(t->dir) == NULL)
            return -1;
        snprintf(t->path, sizeof t->path, "%s/test.db", t->dir);
        snprintf(t->url, sizeof t->url, "sqlite:///%s", t->path); /* four slashes */
        return 0;
    }
    const char *base = getenv("GATEHOUSE_TEST_DATABASE_URL");
    const char *require = getenv("GATEHOUSE_TEST_REQUIRE_PG");
    char err[256];
    if (base == NULL || base[0] == '\0') {
        if (require != NULL && strcmp(require, "1") == 0)
            test_check(0, __FILE__, line,
                       "GATEHOUSE_TEST_DATABASE_URL is set (PostgreSQL, required by "
                       "GATEHOUSE_TEST_REQUIRE_PG=1)");
        else
            test_skip(__FILE__, line, "no PostgreSQL: GATEHOUSE_TEST_DATABASE_URL is not set");
        return 1;
    }
    if (pq_load(err, sizeof err) != 0) {
        test_check(0, __FILE__, line, err);
        return -1;
    }
    snprintf(t->schema, sizeof t->schema, "gh_unit_%ld_%u", (long)getpid(), ++counter);
    PGconn *pg = PQconnectdb(base);
    char sql[128];
    snprintf(sql, sizeof sql, "CREATE SCHEMA %s", t->schema);
    PGresult *r = PQstatus(pg) == CONNECTION_OK ? PQexec(pg, sql) : NULL;
    int ok = r != NULL && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    PQfinish(pg);
    if (!ok) {
        test_check(0, __FILE__, line, "CREATE SCHEMA on the test cluster");
        return -1;
    }
    /* Everything the store creates lands in the schema: libpq's options
     * parameter sets search_path for every connection. */
    snprintf(t->url, sizeof t->url, "%s%coptions=-csearch_path%%3D%s", base,
             strchr(base, '?') != NULL ? '&' : '?', t->schema);
    return 0;
}

void tdb_remove(struct tdb *t)
{
    if (t->b == SQLITE) {
        static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
        char p[160];
        for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
            snprintf(p, sizeof p, "%s%s", t->path, suffixes[i]);
            unlink(p);
        }
        rmdir(t->dir);
        return;
    }
    PGconn *pg = PQconnectdb(getenv("GATEHOUSE_TEST_DATABASE_URL"));
    char sql[128];
    snprintf(sql, sizeof sql, "SET client_min_messages = warning; DROP SCHEMA %s CASCADE",
             t->schema);
    PQclear(PQexec(pg, sql));
    PQfinish(pg);
}

/* One integer from a query run straight on the database; -1 on error. */
long long tdb_int(const struct tdb *t, const char *sql)
{
    long long v = -1;

    if (t->b == SQLITE) {
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        if (sqlite3_open_v2(t->path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
            sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
        return v;
    }
    PGconn *pg = PQconnectdb(t->url);
    PGresult *r = PQexec(pg, sql);
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        v = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    PQfinish(pg);
    return v;
}

/* Runs sql straight on the database; 0 on success. */
int tdb_exec(const struct tdb *t, const char *sql)
{
    if (t->b == SQLITE) {
        sqlite3 *db = NULL;
        int rc = sqlite3_open_v2(t->path, &db, SQLITE_OPEN_READWRITE, NULL);
        /* Foreign keys are per connection in SQLite, as in the store's. */
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(db, "PRAGMA foreign_keys=ON", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
        sqlite3_close(db);
        return rc == SQLITE_OK ? 0 : -1;
    }
    PGconn *pg = PQconnectdb(t->url);
    PGresult *r = PQexec(pg, sql);
    ExecStatusType st = PQresultStatus(r);
    PQclear(r);
    PQfinish(pg);
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
}

store *tdb_open(const struct tdb *t, unsigned nconns, int line)
{
    struct store_options opt = {.nconns = nconns};
    char err[256] = "";
    store *s = NULL;

    if (store_open(t->url, &opt, &s, err, sizeof err) != STORE_OK)
        test_check(0, __FILE__, line, err);
    return s;
}
