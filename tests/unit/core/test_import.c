/* core/import: the checks of a set before anything is written. */
#include <stdio.h>
#include <string.h>

#include "core/import.h"
#include "fixture.h"
#include "test.h"
#include "util/timefmt.h"

#define HASH "$2b$04$abcdefghijklmnopqrstuu5Yq3DG1ng7o2Wb0zP7Pl0vK3k7Xv0W6"

struct collected {
    char lines[8][160];
    size_t n;
};

static void collect(void *arg, const struct import_row *row, const char *why)
{
    struct collected *c = arg;

    if (c->n < sizeof c->lines / sizeof c->lines[0])
        snprintf(c->lines[c->n++], sizeof c->lines[0], "%ld: %s", row->where, why);
}

/* What every test here starts with: a store, an empty set, and a report
 * that collects the reasons a row is refused; unit names a row's place. */
struct import_test {
    struct core_fixture f;
    struct import_set set;
    struct collected c;
    struct import_report rep;
    struct import_options opt;
};

static int import_test_open(struct import_test *t, const char *unit)
{
    *t = (struct import_test){.rep = {.problem = collect, .arg = &t->c, .unit = unit}};
    return core_fixture_open(&t->f);
}

/* Imports the set with the options, now. */
static enum import_result import_test_run(struct import_test *t)
{
    return import_run(t->f.store, &t->set, &t->opt, timefmt_now(), &t->rep);
}

static void import_test_close(struct import_test *t)
{
    import_set_free(&t->set);
    core_fixture_close(&t->f);
}

TEST(import_reports_each_duplicate_against_the_earliest_row)
{
    struct import_test t;
    char name[32];

    CHECK(import_test_open(&t, "line") == 0);
    /* 20,000 rows; "Dup.A" comes back twice (as DUP.a: the same account) and
     * the id 7 twice, late in the set, where a scan of the rows before each
     * one would have to pass thousands. */
    for (long i = 0; i < 20000; i++) {
        snprintf(name, sizeof name, "user%05ld", i);
        CHECK(import_set_add(&t.set, i + 2, i + 1, name, strlen(name), HASH) == 0);
    }
    CHECK(import_set_add(&t.set, 20002, 0, "Dup.A", 5, HASH) == 0);
    CHECK(import_set_add(&t.set, 20003, 0, "dup.a", 5, HASH) == 0);
    CHECK(import_set_add(&t.set, 20004, 7, "fresh", 5, HASH) == 0);
    CHECK(import_set_add(&t.set, 20005, 0, "DUP.a", 5, HASH) == 0);
    /* The name of line 3 (user00001) and the id of line 5 (id 4) at once:
     * the clash with the earlier line, the name's, is the one reported. */
    CHECK(import_set_add(&t.set, 20006, 4, "user00001", 9, HASH) == 0);
    CHECK_EQ_INT(import_test_run(&t), IMPORT_INVALID);
    CHECK_EQ_INT(t.c.n, 4);
    CHECK_EQ_STR(t.c.lines[0],
                 "20003: the username \"dup.a\" is the same account as that of line 20002");
    CHECK_EQ_STR(t.c.lines[1], "20004: the id 7 appears twice (also at line 8)");
    CHECK_EQ_STR(t.c.lines[2],
                 "20005: the username \"DUP.a\" is the same account as that of line 20002");
    CHECK_EQ_STR(t.c.lines[3],
                 "20006: the username \"user00001\" is the same account as that of line 3");
    CHECK_EQ_INT(t.c.n, t.rep.problems);
    import_test_close(&t);
}

/* The reasons come in the order of the rows, whichever check found them
 * (one row alone, or against an earlier row), each row once; with
 * skip_invalid the other rows are written. */
TEST(import_reports_rows_in_order_and_skips_invalid)
{
    struct import_test t;

    CHECK(import_test_open(&t, "line") == 0);
    CHECK(import_set_add(&t.set, 2, 0, "alice", 5, HASH) == 0);
    CHECK(import_set_add(&t.set, 3, 0, "ALICE", 5, HASH) == 0);
    CHECK(import_set_add(&t.set, 4, 0, "bob", 3, "md5$x") == 0);
    CHECK(import_set_add(&t.set, 5, INT64_C(9000000000000000001), "carol", 5, HASH) == 0);
    CHECK(import_set_add(&t.set, 6, INT64_C(9000000000000000000), "dave", 4, HASH) == 0);
    CHECK_EQ_INT(import_test_run(&t), IMPORT_INVALID);
    CHECK_EQ_INT(t.c.n, 3);
    CHECK_EQ_INT(t.rep.problems, 3);
    CHECK_EQ_STR(t.c.lines[0], "3: the username \"ALICE\" is the same account as that of line 2");
    CHECK(strncmp(t.c.lines[1], "4: the password hash of \"bob\" is in no format", 45) == 0);
    CHECK(strstr(t.c.lines[2], "5: the id 9000000000000000001 of \"carol\" leaves no room") ==
          t.c.lines[2]);

    memset(&t.c, 0, sizeof t.c);
    t.opt.skip_invalid = true;
    CHECK_EQ_INT(import_test_run(&t), IMPORT_OK);
    CHECK_EQ_INT(t.rep.problems, 3);
    CHECK_EQ_INT(t.rep.imported, 2);
    struct store_user u;
    CHECK_EQ_INT(store_user_by_id(t.f.store, NULL, INT64_C(9000000000000000000), &u), STORE_OK);
    import_test_close(&t);
}

/* A bcrypt cost or argon2id parameter past the bounds refuses the row. */
TEST(import_refuses_costly_hashes)
{
    struct import_test t;

    CHECK(import_test_open(&t, "line") == 0);
    CHECK(import_set_add(&t.set, 2, 0, "a", 1,
                         "$2b$17$abcdefghijklmnopqrstuu5Yq3DG1ng7o2Wb0zP7Pl0vK3k7Xv0W6") == 0);
    CHECK(import_set_add(&t.set, 3, 0, "b", 1,
                         "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
                         "MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI") == 0);
    CHECK_EQ_INT(import_test_run(&t), IMPORT_INVALID);
    CHECK_EQ_INT(t.c.n, 2);
    CHECK(strstr(t.c.lines[0], "bcrypt cost 17, over the 16") != NULL);
    CHECK(strstr(t.c.lines[1], "argon2id memory (KiB) 4194304, over the 1048576") != NULL);
    import_test_close(&t);
}

/* Rows that keep their ids go in batches of STORE_IMPORT_BATCH and the rest
 * one by one: 150 rows are two batches and 22 single rows, every one kept. */
TEST(import_writes_kept_ids_in_batches)
{
    struct import_test t;
    char name[32];

    CHECK(import_test_open(&t, "id") == 0);
    for (long i = 0; i < 150; i++) {
        snprintf(name, sizeof name, "batch%03ld", i);
        CHECK(import_set_add(&t.set, 3 * i + 7, 3 * i + 7, name, strlen(name), HASH) == 0);
    }
    CHECK_EQ_INT(import_test_run(&t), IMPORT_OK);
    CHECK_EQ_INT(t.rep.imported, 150);
    for (long i = 0; i < 150; i += 37) {
        struct store_user u;
        snprintf(name, sizeof name, "batch%03ld", i);
        CHECK_EQ_INT(store_user_by_id(t.f.store, NULL, 3 * i + 7, &u), STORE_OK);
        CHECK_EQ_STR(u.username, name);
    }
    /* Again, skipping what exists: nothing twice. */
    t.opt.skip_existing = true;
    CHECK_EQ_INT(import_test_run(&t), IMPORT_OK);
    CHECK_EQ_INT(t.rep.imported, 0);
    CHECK_EQ_INT(t.rep.skipped, 150);
    import_test_close(&t);
}

/* Rows without an id go in batches too: 150 rows, every name there once,
 * and a registration after them gets a fresh id. */
TEST(import_writes_new_ids_in_batches)
{
    struct import_test t;
    struct store_user u;
    char name[32], key[32];

    CHECK(import_test_open(&t, "line") == 0);
    for (long i = 0; i < 150; i++) {
        snprintf(name, sizeof name, "Fresh%03ld", i);
        CHECK(import_set_add(&t.set, i + 2, 0, name, strlen(name), HASH) == 0);
    }
    CHECK_EQ_INT(import_test_run(&t), IMPORT_OK);
    CHECK_EQ_INT(t.rep.imported, 150);
    for (long i = 0; i < 150; i += 29) {
        snprintf(key, sizeof key, "fresh%03ld", i);
        CHECK_EQ_INT(store_user_by_key(t.f.store, NULL, key, &u), STORE_OK);
        CHECK(u.id >= 1 && u.id <= 150);
    }
    CHECK_EQ_INT(store_user_create(t.f.store, NULL, "later", "later", HASH, 0, &u), STORE_OK);
    CHECK_EQ_INT(u.id, 151);
    import_test_close(&t);
}
