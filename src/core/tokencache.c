#include "core/tokencache.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define WAYS    8    /* entries per set */
#define STRIPES 1024 /* locks: sets share one by their low bits */

struct entry {
    uint64_t gen;
    int64_t user_id, iat, exp; /* exp 0: the slot is free */
    char *username;            /* malloc'd: most names are short */
    char sid[JWT_SID_MAX + 1];
};

/* The digests apart from the rest, two cache lines for the eight: a lookup
 * reads only the entry it finds. */
struct set {
    uint8_t digest[WAYS][TOKENCACHE_DIGEST];
    struct entry e[WAYS];
};

/* A lock and its counters, a cache line each: the two HTTP threads never
 * write the same line unless they look up the same stripe. */
struct stripe {
    _Alignas(64) pthread_mutex_t lock;
    atomic_uint_fast64_t hits, misses; /* written under lock, read without */
};

struct tokencache {
    uint8_t key[crypto_shorthash_siphashx24_KEYBYTES];
    size_t nsets, nstripes; /* powers of two */
    struct set *sets;
    struct stripe *stripes;
};

tokencache *tokencache_create(size_t entries)
{
    if (entries == 0)
        return NULL;
    tokencache *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->nsets = 1;
    while (c->nsets * WAYS < entries)
        c->nsets <<= 1;
    c->nstripes = c->nsets < STRIPES ? c->nsets : STRIPES;
    /* calloc, and the locks apart: the pages of sets never used stay
     * untouched, so memory grows with the tokens seen. */
    c->sets = calloc(c->nsets, sizeof *c->sets);
    c->stripes = aligned_alloc(_Alignof(struct stripe), c->nstripes * sizeof *c->stripes);
    if (c->sets == NULL || c->stripes == NULL) {
        free(c->sets);
        free(c->stripes);
        free(c);
        return NULL;
    }
    for (size_t i = 0; i < c->nstripes; i++) {
        pthread_mutex_init(&c->stripes[i].lock, NULL);
        atomic_init(&c->stripes[i].hits, 0);
        atomic_init(&c->stripes[i].misses, 0);
    }
    randombytes_buf(c->key, sizeof c->key);
    return c;
}

void tokencache_free(tokencache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->nsets; i++)
        for (int w = 0; w < WAYS; w++)
            free(c->sets[i].e[w].username);
    for (size_t i = 0; i < c->nstripes; i++)
        pthread_mutex_destroy(&c->stripes[i].lock);
    free(c->sets);
    free(c->stripes);
    sodium_memzero(c->key, sizeof c->key);
    free(c);
}

size_t tokencache_capacity(const tokencache *c)
{
    return c != NULL ? c->nsets * WAYS : 0;
}

void tokencache_digest(const tokencache *c, const char *token, size_t len,
                       uint8_t out[TOKENCACHE_DIGEST])
{
    crypto_shorthash_siphashx24(out, (const unsigned char *)token, len, c->key);
}

/* The set of digest, and the stripe that guards it. */
static struct set *set_of(tokencache *c, const uint8_t *digest, struct stripe **st)
{
    uint64_t h;

    memcpy(&h, digest, sizeof h);
    *st = &c->stripes[h & (c->nstripes - 1)];
    return &c->sets[h & (c->nsets - 1)];
}

/* The way of set s holding digest, or -1. The digest is keyed, so its
 * bytes say nothing of a token's; the comparison is constant-time all the
 * same. */
static int find(const struct set *s, const uint8_t *digest)
{
    for (int w = 0; w < WAYS; w++)
        if (sodium_memcmp(s->digest[w], digest, TOKENCACHE_DIGEST) == 0 && s->e[w].exp != 0)
            return w;
    return -1;
}

bool tokencache_get(tokencache *c, const uint8_t digest[TOKENCACHE_DIGEST], uint64_t gen,
                    int64_t now, struct jwt_claims *out)
{
    struct stripe *st;
    struct set *s = set_of(c, digest, &st);
    bool hit = false;

    pthread_mutex_lock(&st->lock);
    int w = find(s, digest);
    if (w >= 0 && s->e[w].gen == gen && now < s->e[w].exp) {
        const struct entry *e = &s->e[w];
        out->user_id = e->user_id;
        out->iat = e->iat;
        out->exp = e->exp;
        memcpy(out->sid, e->sid, sizeof out->sid);
        memcpy(out->username, e->username, strlen(e->username) + 1);
        hit = true;
    }
    atomic_fetch_add_explicit(hit ? &st->hits : &st->misses, 1, memory_order_relaxed);
    pthread_mutex_unlock(&st->lock);
    return hit;
}

void tokencache_put(tokencache *c, const uint8_t digest[TOKENCACHE_DIGEST], uint64_t gen,
                    const struct jwt_claims *claims)
{
    struct stripe *st;
    struct set *s = set_of(c, digest, &st);
    char *name = strdup(claims->username);

    if (name == NULL || claims->exp == 0) {
        free(name);
        return;
    }
    pthread_mutex_lock(&st->lock);
    /* The same token (verified again after its entry went stale), else a
     * free slot, else one verified with keys no longer current, else the
     * entry that expires first. */
    int v = find(s, digest);
    for (int w = 0; v < 0 && w < WAYS; w++)
        if (s->e[w].exp == 0)
            v = w;
    for (int w = 0; v < 0 && w < WAYS; w++)
        if (s->e[w].gen != gen)
            v = w;
    if (v < 0) {
        v = 0;
        for (int w = 1; w < WAYS; w++)
            if (s->e[w].exp < s->e[v].exp)
                v = w;
    }
    struct entry *e = &s->e[v];
    char *old = e->username;
    memcpy(s->digest[v], digest, TOKENCACHE_DIGEST);
    e->gen = gen;
    e->user_id = claims->user_id;
    e->iat = claims->iat;
    e->exp = claims->exp;
    memcpy(e->sid, claims->sid, sizeof e->sid);
    e->username = name;
    pthread_mutex_unlock(&st->lock);
    free(old);
}

void tokencache_counts(tokencache *c, uint64_t *hits, uint64_t *misses)
{
    *hits = *misses = 0;
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->nstripes; i++) {
        *hits += atomic_load_explicit(&c->stripes[i].hits, memory_order_relaxed);
        *misses += atomic_load_explicit(&c->stripes[i].misses, memory_order_relaxed);
    }
}
