#ifndef GH_TESTS_UNIT_STORE_TDB_H
#define GH_TESTS_UNIT_STORE_TDB_H

/* A fresh database of each backend for the tests that run on both: SQLite
 * (a temporary file) and PostgreSQL (a schema of its own on the cluster
 * GATEHOUSE_TEST_DATABASE_URL names, which scripts/with-pg.sh starts).
 * Without that URL the PostgreSQL cases are skipped (the runner counts them
 * so), unless GATEHOUSE_TEST_REQUIRE_PG=1 (make test) makes them fail. */

#include <stdint.h>

#include "store/store.h"
#include "test.h"

#define T0 ((int64_t)1700000000)

enum backend { SQLITE, PG };

/* A fresh, empty database of one backend. */
struct tdb {
    enum backend b;
    char dir[64];
    char path[128];
    char schema[64];
    char url[1024];
};

/* 0: ready; 1: PostgreSQL is not configured (the test is skipped, or
 * failed when GATEHOUSE_TEST_REQUIRE_PG=1); -1: an error, reported. */
int tdb_make(struct tdb *t, enum backend b, int line);

/* Removes the file or drops the schema. */
void tdb_remove(struct tdb *t);

/* One integer from a query run straight on the database; -1 on error. */
long long tdb_int(const struct tdb *t, const char *sql);

/* Runs sql straight on the database; 0 on success. */
int tdb_exec(const struct tdb *t, const char *sql);

/* A store of nconns connections on t; NULL (a failed check) on error. */
store *tdb_open(const struct tdb *t, unsigned nconns, int line);

/* Defines test_store_<name>_sqlite and _pg, each running
 * case_<name>(t, s) on a fresh database of its backend with a store of
 * nconns connections. */
#define STORE_CASE(name, nconns)                                                                   \
    static void case_##name(struct tdb *t, store *s);                                              \
    static void run_##name(enum backend b)                                                         \
    {                                                                                              \
        struct tdb t;                                                                              \
        int made = tdb_make(&t, b, __LINE__);                                                      \
        if (made != 0)                                                                             \
            return;                                                                                \
        store *s = tdb_open(&t, nconns, __LINE__);                                                 \
        if (s != NULL) {                                                                           \
            case_##name(&t, s);                                                                    \
            store_close(s);                                                                        \
        }                                                                                          \
        tdb_remove(&t);                                                                            \
    }                                                                                              \
    TEST(store_##name##_sqlite)                                                                    \
    {                                                                                              \
        run_##name(SQLITE);                                                                        \
    }                                                                                              \
    TEST(store_##name##_pg)                                                                        \
    {                                                                                              \
        run_##name(PG);                                                                            \
    }                                                                                              \
    static void case_##name(struct tdb *t, store *s)

#endif
