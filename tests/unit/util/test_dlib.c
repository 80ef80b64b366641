/* util/dlib: loading a shared library's functions once, by name. */
#include <string.h>

#include "test.h"
#include "util/dlib.h"

struct libc_functions {
    size_t (*strlen)(const char *);
    int (*abs)(int);
};

struct bad_functions {
    size_t (*strlen)(const char *);
    void (*gatehouse_no_such_function)(void);
};

TEST(dlib_loads_every_function_once)
{
    static struct libc_functions fn;
    static const struct dlib_symbol symbols[] = {DLIB_SYMBOL(struct libc_functions, strlen)
                                                     DLIB_SYMBOL(struct libc_functions, abs)};
    static struct dlib libc = DLIB_INIT("libc.so.6", "test needs libc.so.6", symbols, fn);
    char err[256] = "";

    CHECK(fn.strlen == NULL);
    REQUIRE(dlib_load(&libc, err, sizeof err) == 0);
    REQUIRE(fn.strlen != NULL && fn.abs != NULL);
    CHECK_EQ_INT(fn.strlen("gatehouse"), 9);
    CHECK_EQ_INT(fn.abs(-7), 7);
    CHECK_EQ_STR(err, "");
    CHECK_EQ_INT(dlib_load(&libc, err, sizeof err), 0); /* again: no-op */
}

TEST(dlib_reports_what_is_missing)
{
    static struct bad_functions bad;
    static const struct dlib_symbol bad_symbols[] = {
        DLIB_SYMBOL(struct bad_functions, strlen)
            DLIB_SYMBOL(struct bad_functions, gatehouse_no_such_function)};
    static struct dlib lacking = DLIB_INIT("libc.so.6", "unused", bad_symbols, bad);
    static struct libc_functions none;
    static const struct dlib_symbol symbols[] = {DLIB_SYMBOL(struct libc_functions, strlen)};
    static struct dlib absent = DLIB_INIT("libgatehouse-absent.so.9",
                                          "this needs libgatehouse-absent.so.9 (apt-get install "
                                          "nothing)",
                                          symbols, none);
    char err[256] = "";

    CHECK_EQ_INT(dlib_load(&lacking, err, sizeof err), -1);
    CHECK_EQ_STR(err, "libc.so.6 has no gatehouse_no_such_function");
    /* Nothing half-filled stays behind. */
    CHECK(bad.strlen == NULL);
    err[0] = '\0';
    CHECK_EQ_INT(dlib_load(&lacking, err, sizeof err), -1); /* the first result, again */
    CHECK_EQ_STR(err, "libc.so.6 has no gatehouse_no_such_function");
    CHECK_EQ_INT(dlib_load(&absent, err, sizeof err), -1);
    CHECK(strncmp(err, "this needs libgatehouse-absent.so.9 (apt-get install nothing): ", 63) == 0);
    CHECK(strchr(err, '\n') == NULL);
    CHECK(none.strlen == NULL);
}
