#ifndef GH_UTIL_JSONARENA_H
#define GH_UTIL_JSONARENA_H

#include <stddef.h>

/* A bump allocator for jansson on one thread, so that a short-lived parse
 * (the claims of a token on /verify) allocates nothing from the heap:
 *
 *     _Alignas(max_align_t) unsigned char buf[4096];
 *     struct jsonarena a;
 *     jsonarena_begin(&a, buf, sizeof buf);
 *     json_t *o = json_loadb(...);  ... json_decref(o);
 *     jsonarena_end(&a);
 *
 * Every value made between begin and end must be released before end: its
 * memory is buf. What does not fit comes from malloc as usual, and freeing
 * memory of buf does nothing. Other threads, and this one outside begin/end,
 * use malloc and free unchanged. */

struct jsonarena {
    unsigned char *base;
    size_t cap, used;
    struct jsonarena *outer;
};

/* Makes jansson allocate through the arena of the calling thread, if any.
 * Once, before any thread but the first starts (main does). Without it the
 * arenas are simply unused. */
void jsonarena_install(void);

void jsonarena_begin(struct jsonarena *a, void *buf, size_t cap);
void jsonarena_end(struct jsonarena *a);

#endif
