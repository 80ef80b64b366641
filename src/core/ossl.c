#define OSSL_LOADER
#include "core/ossl.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

struct ossl_functions ossl_fn;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_error[256];
static atomic_int loaded;

static void load(void)
{
    /* The soname of OpenSSL 3's package, libssl3; never a development link. */
    void *h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);

    if (h == NULL) {
        snprintf(load_error, sizeof load_error,
                 "ES256 and RS256 need libcrypto.so.3 (apt-get install libssl3): %s", dlerror());
        return;
    }
    /* POSIX guarantees that a function pointer survives the round trip
     * through the void * dlsym returns. */
#define OSSL_LOAD(f)                                                                               \
    {                                                                                              \
        void *p = dlsym(h, #f);                                                                    \
        if (p == NULL) {                                                                           \
            snprintf(load_error, sizeof load_error, "libcrypto.so.3 has no %s", #f);               \
            memset(&ossl_fn, 0, sizeof ossl_fn);                                                   \
            return;                                                                                \
        }                                                                                          \
        memcpy(&ossl_fn.f, &p, sizeof p);                                                          \
    }
    OSSL_FUNCTIONS(OSSL_LOAD)
#undef OSSL_LOAD
    atomic_store(&loaded, 1);
}

int ossl_load(char *err, size_t errlen)
{
    pthread_once(&once, load);
    if (load_error[0] != '\0') {
        snprintf(err, errlen, "%s", load_error);
        return -1;
    }
    return 0;
}

int ossl_loaded(void)
{
    return atomic_load(&loaded);
}
