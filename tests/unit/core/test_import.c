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

TEST(import_reports_each_duplicate_against_the_earliest_row)
{
    struct core_fixture f;
    struct import_set set = {0};
    struct collected c = {0};
    struct import_report rep = {.problem = collect, .arg = &c, .unit = "line"};
    char name[32];

    CHECK(core_fixture_open(&f) == 0);
    /* 20,000 rows; "Dup.A" comes back twice (as DUP.a: the same account) and
     * the id 7 twice, late in the set, where a scan of the rows before each
     * one would have to pass thousands. */
    for (long i = 0; i < 20000; i++) {
        snprintf(name, sizeof name, "user%05ld", i);
        CHECK(import_set_add(&set, i + 2, i + 1, name, strlen(name), HASH) == 0);
    }
    CHECK(import_set_add(&set, 20002, 0, "Dup.A", 5, HASH) == 0);
    CHECK(import_set_add(&set, 20003, 0, "dup.a", 5, HASH) == 0);
    CHECK(import_set_add(&set, 20004, 7, "fresh", 5, HASH) == 0);
    CHECK(import_set_add(&set, 20005, 0, "DUP.a", 5, HASH) == 0);
    /* The name of line 3 (user00001) and the id of line 5 (id 4) at once:
     * the clash with the earlier line, the name's, is the one reported. */
    CHECK(import_set_add(&set, 20006, 4, "user00001", 9, HASH) == 0);
    CHECK_EQ_INT(import_run(f.store, &set, false, timefmt_now(), &rep), IMPORT_INVALID);
    CHECK_EQ_INT(c.n, 4);
    CHECK_EQ_STR(c.lines[0],
                 "20003: the username \"dup.a\" is the same account as that of line 20002");
    CHECK_EQ_STR(c.lines[1], "20004: the id 7 appears twice (also at line 8)");
    CHECK_EQ_STR(c.lines[2],
                 "20005: the username \"DUP.a\" is the same account as that of line 20002");
    CHECK_EQ_STR(c.lines[3],
                 "20006: the username \"user00001\" is the same account as that of line 3");
    CHECK_EQ_INT(c.n, rep.problems);
    import_set_free(&set);
    core_fixture_close(&f);
}
