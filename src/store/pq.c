#define PQ_LOADER
#include "store/pq.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct pq_functions pq_fn;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_error[256];

static void load(void)
{
    /* The soname of libpq 15's package, libpq5; never a development link. */
    void *h = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);

    if (h == NULL) {
        snprintf(load_error, sizeof load_error,
                 "PostgreSQL needs libpq.so.5 (apt-get install libpq5): %s", dlerror());
        return;
    }
    /* POSIX guarantees that a function pointer survives the round trip
     * through the void * dlsym returns. */
#define PQ_LOAD(f)                                                                                 \
    {                                                                                              \
        void *p = dlsym(h, #f);                                                                    \
        if (p == NULL) {                                                                           \
            snprintf(load_error, sizeof load_error, "libpq.so.5 has no %s", #f);                   \
            memset(&pq_fn, 0, sizeof pq_fn);                                                       \
            return;                                                                                \
        }                                                                                          \
        memcpy(&pq_fn.f, &p, sizeof p);                                                            \
    }
    PQ_FUNCTIONS(PQ_LOAD)
#undef PQ_LOAD
}

int pq_load(char *err, size_t errlen)
{
    pthread_once(&once, load);
    if (load_error[0] != '\0') {
        snprintf(err, errlen, "%s", load_error);
        return -1;
    }
    return 0;
}
