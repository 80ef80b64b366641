#include "util/dlib.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* The first and only attempt; l->lock is held. */
static void load(struct dlib *l)
{
    void *h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);

    if (h == NULL) {
        snprintf(l->error, sizeof l->error, "%s: %s", l->missing, dlerror());
        return;
    }
    for (size_t i = 0; i < l->nsymbols; i++) {
        void *p = dlsym(h, l->symbols[i].name);
        if (p == NULL) {
            snprintf(l->error, sizeof l->error, "%s has no %s", l->soname, l->symbols[i].name);
            memset(l->table, 0, l->table_size);
            return;
        }
        /* POSIX guarantees that a function pointer survives the round trip
         * through the void * dlsym returns. */
        memcpy((char *)l->table + l->symbols[i].offset, &p, sizeof p);
    }
}

int dlib_load(struct dlib *l, char *err, size_t errlen)
{
    pthread_mutex_lock(&l->lock);
    if (!l->tried) {
        l->tried = true;
        load(l);
    }
    int rc = l->error[0] != '\0' ? -1 : 0;
    if (rc != 0)
        snprintf(err, errlen, "%s", l->error);
    pthread_mutex_unlock(&l->lock);
    return rc;
}
