/* Runs every test of test_list.h, or those whose name contains argv[1].
 * Prints one line per failed check and per skipped test, and ends with
 * "N passed, N failed, N skipped" (tests, not checks); exits 1 when any test
 * failed or no test matched. A skipped test is one that could not run here
 * (test.h, SKIP): it neither passes nor fails. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "test.h"

struct test_entry {
    const char *name;
    void (*fn)(void);
};

#define TEST_ENTRY(name) {#name, test_##name},
static const struct test_entry tests[] = {TEST_LIST(TEST_ENTRY)};
#undef TEST_ENTRY

static const char *current;  /* the name of the running test */
static int current_failures; /* failed checks of the running test */
static int current_skipped;  /* the running test called test_skip */

static void report(const char *file, int line, const char *what)
{
    current_failures++;
    printf("%s:%d: %s: %s\n", file, line, current, what);
    fflush(stdout);
}

void test_skip(const char *file, int line, const char *why)
{
    current_skipped = 1;
    printf("%s:%d: %s: SKIP: %s\n", file, line, current, why);
    fflush(stdout);
}

int test_check(int ok, const char *file, int line, const char *expr)
{
    char what[512];

    if (!ok) {
        snprintf(what, sizeof what, "CHECK(%s) failed", expr);
        report(file, line, what);
    }
    return ok;
}

int test_check_int(long long a, long long b, const char *file, int line, const char *ea,
                   const char *eb)
{
    char what[512];

    if (a == b)
        return 1;
    snprintf(what, sizeof what, "CHECK_EQ_INT(%s, %s) failed: %lld != %lld", ea, eb, a, b);
    report(file, line, what);
    return 0;
}

int test_check_str(const char *a, const char *b, const char *file, int line, const char *ea,
                   const char *eb)
{
    char what[1024];

    if ((a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0))
        return 1;
    snprintf(what, sizeof what, "CHECK_EQ_STR(%s, %s) failed: \"%.300s\" != \"%.300s\"", ea, eb,
             a != NULL ? a : "(null)", b != NULL ? b : "(null)");
    report(file, line, what);
    return 0;
}

int main(int argc, char **argv)
{
    const char *filter = argc > 1 ? argv[1] : NULL;
    int passed = 0, failed = 0, skipped = 0;

    if (sodium_init() < 0) {
        printf("sodium_init failed\n");
        return 1;
    }
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (filter != NULL && strstr(tests[i].name, filter) == NULL)
            continue;
        current = tests[i].name;
        current_failures = 0;
        current_skipped = 0;
        tests[i].fn();
        if (current_failures > 0)
            failed++;
        else if (current_skipped)
            skipped++;
        else
            passed++;
    }
    if (passed + failed + skipped == 0)
        printf("no test matches \"%s\"\n", filter != NULL ? filter : "");
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed > 0 || passed + failed + skipped == 0 ? 1 : 0;
}
