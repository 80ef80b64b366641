#include "util/jsonarena.h"

#include <jansson.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>

static _Thread_local struct jsonarena *current;

static void *arena_malloc(size_t n)
{
    struct jsonarena *a = current;
    size_t need = (n + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);

    if (a != NULL && need >= n && need <= a->cap - a->used) {
        void *p = a->base + a->used;
        a->used += need;
        return p;
    }
    return malloc(n);
}

/* Compared as integers: the pointer may belong to no arena at all. */
static int in_arena(const struct jsonarena *a, const void *p)
{
    uintptr_t x = (uintptr_t)p, b = (uintptr_t)a->base;
    return x >= b && x - b < a->cap;
}

static void arena_free(void *p)
{
    for (const struct jsonarena *a = current; a != NULL; a = a->outer)
        if (in_arena(a, p))
            return;
    free(p);
}

void jsonarena_install(void)
{
    json_set_alloc_funcs(arena_malloc, arena_free);
}

void jsonarena_begin(struct jsonarena *a, void *buf, size_t cap)
{
    /* The caller's buffer is aligned as max_align_t; keep every block so. */
    a->base = buf;
    a->cap = cap;
    a->used = 0;
    a->outer = current;
    current = a;
}

void jsonarena_end(struct jsonarena *a)
{
    current = a->outer;
}
