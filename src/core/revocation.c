/* An open-addressing hash set (linear probing, at most half full) of
 * session ids, keyed with SipHash under a random key so that no one can
 * choose ids that collide. Entries are removed only by purge, which
 * rebuilds the table: probing never meets a hole left by a removal. */
#include "core/revocation.h"

#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define MIN_CAP 64

struct entry {
    int64_t until; /* 0: a free slot */
    unsigned char len;
    char sid[REVSET_SID_MAX];
};

struct revset {
    pthread_rwlock_t lock;
    unsigned char key[crypto_shorthash_KEYBYTES];
    struct entry *slots;
    size_t cap;                 /* a power of two */
    atomic_size_t count;        /* read without the lock by the empty-set fast path */
    atomic_uint_fast64_t added; /* sessions ever added (GET /metrics) */
};

static size_t slot_of(const revset *r, const char *sid, size_t len)
{
    unsigned char h[crypto_shorthash_BYTES];
    uint64_t v;

    crypto_shorthash(h, (const unsigned char *)sid, len, r->key);
    memcpy(&v, h, sizeof v);
    return (size_t)v & (r->cap - 1);
}

/* The slot holding sid, or the free slot where it would go. */
static struct entry *find(const revset *r, const char *sid, size_t len)
{
    for (size_t i = slot_of(r, sid, len);; i = (i + 1) & (r->cap - 1)) {
        struct entry *e = &r->slots[i];
        if (e->until == 0 || (e->len == len && memcmp(e->sid, sid, len) == 0))
            return e;
    }
}

revset *revset_create(void)
{
    revset *r = calloc(1, sizeof *r);

    if (r == NULL)
        return NULL;
    r->slots = calloc(MIN_CAP, sizeof *r->slots);
    if (r->slots == NULL) {
        free(r);
        return NULL;
    }
    r->cap = MIN_CAP;
    crypto_shorthash_keygen(r->key);
    pthread_rwlock_init(&r->lock, NULL);
    return r;
}

void revset_free(revset *r)
{
    if (r == NULL)
        return;
    pthread_rwlock_destroy(&r->lock);
    free(r->slots);
    free(r);
}

/* Moves every entry still live at now (all when now is 0) into a table of
 * cap slots. Caller holds the exclusive lock. */
static int rebuild(revset *r, size_t cap, int64_t now)
{
    struct entry *old = r->slots;
    size_t old_cap = r->cap, n = 0;

    r->slots = calloc(cap, sizeof *r->slots);
    if (r->slots == NULL) {
        r->slots = old;
        return -1;
    }
    r->cap = cap;
    for (size_t i = 0; i < old_cap; i++) {
        if (old[i].until == 0 || (now != 0 && old[i].until <= now))
            continue;
        *find(r, old[i].sid, old[i].len) = old[i];
        n++;
    }
    free(old);
    atomic_store(&r->count, n);
    return 0;
}

int revset_add(revset *r, const char *sid, size_t len, int64_t until)
{
    int rc = 0;

    if (len == 0 || len > REVSET_SID_MAX || until <= 0)
        return -1;
    pthread_rwlock_wrlock(&r->lock);
    if ((atomic_load(&r->count) + 1) * 2 > r->cap)
        rc = rebuild(r, r->cap * 2, 0);
    if (rc == 0) {
        struct entry *e = find(r, sid, len);
        if (e->until == 0) {
            e->len = (unsigned char)len;
            memcpy(e->sid, sid, len);
            atomic_fetch_add(&r->count, 1);
            atomic_fetch_add_explicit(&r->added, 1, memory_order_relaxed);
        }
        if (until > e->until)
            e->until = until;
    }
    pthread_rwlock_unlock(&r->lock);
    return rc;
}

bool revset_contains(revset *r, const char *sid, size_t len, int64_t now)
{
    /* Most of the time nothing is revoked: no lock, no hash. */
    if (atomic_load(&r->count) == 0 || len == 0 || len > REVSET_SID_MAX)
        return false;
    pthread_rwlock_rdlock(&r->lock);
    const struct entry *e = find(r, sid, len);
    bool hit = e->until != 0 && e->until > now;
    pthread_rwlock_unlock(&r->lock);
    return hit;
}

size_t revset_purge(revset *r, int64_t now)
{
    pthread_rwlock_wrlock(&r->lock);
    size_t before = atomic_load(&r->count), cap = r->cap;
    size_t live = 0;
    for (size_t i = 0; i < r->cap; i++)
        live += r->slots[i].until > now;
    /* Shrink with the set, but never below MIN_CAP or past half full. */
    while (cap > MIN_CAP && live * 4 < cap)
        cap /= 2;
    if (live != before)
        rebuild(r, cap, now); /* on failure the old table stays, unpurged */
    size_t after = atomic_load(&r->count);
    pthread_rwlock_unlock(&r->lock);
    return before - after;
}

size_t revset_count(revset *r)
{
    return atomic_load(&r->count);
}

uint64_t revset_added(revset *r)
{
    return atomic_load_explicit(&r->added, memory_order_relaxed);
}
