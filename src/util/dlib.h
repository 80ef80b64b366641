#ifndef GH_UTIL_DLIB_H
#define GH_UTIL_DLIB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/* A shared library loaded with dlopen the first time it is needed, with a
 * table of its functions: what keeps libpq (store/pq.h) and OpenSSL's
 * libcrypto (core/ossl.h) out of the processes that never use them. The
 * caller declares the table, a struct of typed function pointers, and
 * names each member once (DLIB_SYMBOL); dlib_load fills it. */

/* One function of the table: its name in the library and its member. */
struct dlib_symbol {
    const char *name;
    size_t offset; /* offsetof(table type, member) */
};

#define DLIB_SYMBOL(type, f) {#f, offsetof(type, f)},

struct dlib {
    const char *soname;  /* "libpq.so.5": a package's soname, never a development link */
    const char *missing; /* the reason given when it cannot be opened, e.g.
                            "PostgreSQL needs libpq.so.5 (apt-get install libpq5)" */
    const struct dlib_symbol *symbols;
    size_t nsymbols;
    void *table; /* filled by dlib_load; all zero unless it succeeds */
    size_t table_size;
    /* The loader's own state. */
    pthread_mutex_t lock;
    bool tried;
    char error[256];
};

#define DLIB_INIT(soname, missing, symbols, table)                                                 \
    {                                                                                              \
        (soname), (missing), (symbols), sizeof(symbols) / sizeof((symbols)[0]), &(table),          \
            sizeof(table), PTHREAD_MUTEX_INITIALIZER, false, ""                                    \
    }

/* Opens l->soname and fills l->table with every symbol, once (later calls
 * return the first result); thread-safe. Returns 0, or -1 with a one-line
 * reason in err: l->missing and dlerror's text when the library cannot be
 * opened, the name of the first function it lacks otherwise. The library
 * stays loaded until the process ends. */
int dlib_load(struct dlib *l, char *err, size_t errlen);

#endif
