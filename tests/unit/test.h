#ifndef GH_TESTS_UNIT_TEST_H
#define GH_TESTS_UNIT_TEST_H

/* A tiny test harness in the spirit of libuv's test/test-list.h. TEST(name)
 * defines void test_name(void); test_list.h names every test once and this
 * header declares them all, so a test missing from the list fails the build
 * (-Wmissing-prototypes) and a listed test that does not exist fails the link.
 *
 * A failed check prints one line (file:line, test, expression, values) and
 * the test goes on: one run shows every failure. REQUIRE returns from the
 * test instead, for the checks the rest of the test cannot do without (a
 * pointer that must not be NULL).
 *
 * A test that cannot run here (it needs a PostgreSQL server and none is
 * configured) calls SKIP with the reason: the runner prints the reason and
 * counts the test as skipped, never as passed. */

#include <stddef.h>

#include "test_list.h"

/* The root of the source tree, which the Makefile compiles in (UNITFL):
 * a test opens its data files under it, so that the runner works from any
 * directory. */
#ifndef TEST_SOURCE_DIR
#error "build the unit tests with -DTEST_SOURCE_DIR (the Makefile's UNITFL)"
#endif

#define TEST(name) void test_##name(void)

#define TEST_DECLARE(name) void test_##name(void);
TEST_LIST(TEST_DECLARE)
#undef TEST_DECLARE

/* Records one check; returns ok. expr is the source text of the check. */
int test_check(int ok, const char *file, int line, const char *expr);

/* Records an integer equality check; prints both values on failure. */
int test_check_int(long long a, long long b, const char *file, int line, const char *ea,
                   const char *eb);

/* Records a string equality check (NULL equals only NULL). */
int test_check_str(const char *a, const char *b, const char *file, int line, const char *ea,
                   const char *eb);

/* Marks the running test skipped, with a one-line reason; a failed check
 * of the same test still makes it fail. */
void test_skip(const char *file, int line, const char *why);

#define CHECK(cond) ((void)test_check((cond) ? 1 : 0, __FILE__, __LINE__, #cond))

#define CHECK_EQ_INT(a, b)                                                                         \
    ((void)test_check_int((long long)(a), (long long)(b), __FILE__, __LINE__, #a, #b))

#define CHECK_EQ_STR(a, b) ((void)test_check_str((a), (b), __FILE__, __LINE__, #a, #b))

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!test_check((cond) ? 1 : 0, __FILE__, __LINE__, #cond))                                \
            return;                                                                                \
    } while (0)

#define SKIP(why)                                                                                  \
    do {                                                                                           \
        test_skip(__FILE__, __LINE__, (why));                                                      \
        return;                                                                                    \
    } while (0)

#endif
