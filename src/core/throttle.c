#include "core/throttle.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Each key may sit in one of WAYS entries of its set, chosen by a keyed
 * hash (SipHash-2-4, libsodium's crypto_shorthash) with a key drawn at
 * start: a client cannot pick addresses or names that land in one set. */
#define WAYS 8

struct entry {
    unsigned char key[16];
    bool used;
    uint32_t failures;
    uint32_t registrations;
    uint32_t jobs;
    uint32_t pending; /* attempts reserved and not yet settled */
    int64_t last_failed;
    int64_t window_start; /* of the registrations counted */
    uint32_t mails;       /* mail-sending requests in the window from mail_window_start */
    int64_t mail_window_start;
    uint32_t authz; /* authorization requests kept in the window from authz_window_start */
    int64_t authz_window_start;
    int64_t last_used; /* for eviction */
};

struct table {
    struct entry *e;
    size_t nsets;
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
};

struct throttle {
    pthread_mutex_t mu;
    struct throttle_limits lim;
    struct table addrs, names;
    unsigned char name_key[crypto_generichash_KEYBYTES];
};

static int table_init(struct table *tb, unsigned size)
{
    tb->nsets = size / WAYS + (size % WAYS != 0);
    if (tb->nsets == 0)
        tb->nsets = 1;
    tb->e = calloc(tb->nsets * WAYS, sizeof *tb->e);
    crypto_shorthash_keygen(tb->hash_key);
    return tb->e != NULL ? 0 : -1;
}

throttle *throttle_create(const struct throttle_limits *lim)
{
    throttle *t = calloc(1, sizeof *t);

    if (t == NULL)
        return NULL;
    t->lim = *lim;
    crypto_generichash_keygen(t->name_key);
    if (pthread_mutex_init(&t->mu, NULL) != 0) {
        free(t);
        return NULL;
    }
    if (table_init(&t->addrs, lim->table_size) != 0 ||
        table_init(&t->names, lim->table_size) != 0) {
        throttle_free(t);
        return NULL;
    }
    return t;
}

void throttle_free(throttle *t)
{
    if (t == NULL)
        return;
    free(t->addrs.e);
    free(t->names.e);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

const struct throttle_limits *throttle_limits_of(const throttle *t)
{
    return &t->lim;
}

unsigned throttle_lockout(const struct throttle_limits *lim, unsigned free_failures,
                          int64_t failures)
{
    if (free_failures == 0 || failures <= (int64_t)free_failures)
        return 0;
    int64_t doublings = failures - free_failures - 1;
    uint64_t s = lim->lockout_s;
    for (int64_t i = 0; i < doublings && s < lim->lockout_max_s; i++)
        s *= 2;
    return s < lim->lockout_max_s ? (unsigned)s : lim->lockout_max_s;
}

/* The wait at now after failures failures, the latest at last_failed, with
 * free_failures free; a count older than forget_s counts for nothing. */
static unsigned wait_after(const struct throttle_limits *lim, unsigned free_failures,
                           int64_t failures, int64_t last_failed, int64_t now)
{
    if (failures <= 0 || now - last_failed >= (int64_t)lim->forget_s)
        return 0;
    int64_t until = last_failed + throttle_lockout(lim, free_failures, failures);
    return until > now ? (unsigned)(until - now) : 0;
}

unsigned throttle_account_wait(const struct throttle_limits *lim, int64_t failures,
                               int64_t last_failed, int64_t now)
{
    return wait_after(lim, lim->account_failures, failures, last_failed, now);
}

/* The wait of e at now under the limit free_failures: its attempts in
 * progress count as failures made now, so that a new attempt waits as it
 * would if they had all failed already. */
static unsigned entry_wait(const struct throttle_limits *lim, unsigned free_failures,
                           const struct entry *e, int64_t now)
{
    if (e->pending == 0)
        return wait_after(lim, free_failures, e->failures, e->last_failed, now);
    int64_t failures = now - e->last_failed >= (int64_t)lim->forget_s ? 0 : e->failures;
    return wait_after(lim, free_failures, failures + e->pending, now, now);
}

/* True when e is locked at now by the limit free_failures. */
static bool locked(const struct throttle_limits *lim, unsigned free_failures, const struct entry *e,
                   int64_t now)
{
    return entry_wait(lim, free_failures, e, now) > 0;
}

/* The entry of key, or NULL. With create, a missing one is made, evicting
 * the least recently used entry of the set that holds no job and no
 * reserved attempt, preferring those not locked; NULL only when every entry
 * of the set holds some. */
static struct entry *find(throttle *t, struct table *tb, unsigned free_failures,
                          const unsigned char key[16], int64_t now, bool create)
{
    unsigned char h[crypto_shorthash_BYTES];
    uint64_t v = 0;

    crypto_shorthash(h, key, 16, tb->hash_key);
    memcpy(&v, h, sizeof v);
    struct entry *set = &tb->e[(v % tb->nsets) * WAYS], *victim = NULL;
    for (int i = 0; i < WAYS; i++)
        if (set[i].used && memcmp(set[i].key, key, 16) == 0)
            return &set[i];
    if (!create)
        return NULL;
    bool victim_locked = true;
    for (int i = 0; i < WAYS; i++) {
        struct entry *e = &set[i];
        if (!e->used) {
            victim = e;
            break;
        }
        if (e->jobs > 0 || e->pending > 0)
            continue;
        bool l = locked(&t->lim, free_failures, e, now);
        if (victim == NULL || (victim_locked && !l) ||
            (victim_locked == l && e->last_used < victim->last_used)) {
            victim = e;
            victim_locked = l;
        }
    }
    if (victim == NULL)
        return NULL;
    memset(victim, 0, sizeof *victim);
    memcpy(victim->key, key, 16);
    victim->used = true;
    victim->last_used = now;
    return victim;
}

static unsigned table_wait(throttle *t, struct table *tb, unsigned free_failures,
                           const unsigned char key[16], int64_t now)
{
    if (free_failures == 0)
        return 0;
    pthread_mutex_lock(&t->mu);
    struct entry *e = find(t, tb, free_failures, key, now, false);
    unsigned w = e != NULL ? entry_wait(&t->lim, free_failures, e, now) : 0;
    pthread_mutex_unlock(&t->mu);
    return w;
}

/* Counts one failure of e at now. Caller holds the mutex. */
static void count_failure(const struct throttle_limits *lim, struct entry *e, int64_t now)
{
    if (now - e->last_failed >= (int64_t)lim->forget_s)
        e->failures = 0;
    if (e->failures < UINT32_MAX)
        e->failures++;
    e->last_failed = now;
    e->last_used = now;
}

/* The check and the reservation under one lock: of concurrent attempts,
 * only as many as the limit allows find no wait. A set whose every entry
 * is held has no room to count one more: that waits a second. */
static unsigned table_reserve(throttle *t, struct table *tb, unsigned free_failures,
                              const unsigned char key[16], int64_t now)
{
    if (free_failures == 0)
        return 0;
    pthread_mutex_lock(&t->mu);
    struct entry *e = find(t, tb, free_failures, key, now, true);
    unsigned w = e != NULL ? entry_wait(&t->lim, free_failures, e, now) : 1;
    if (w == 0) {
        e->pending++;
        e->last_used = now;
    }
    pthread_mutex_unlock(&t->mu);
    return w;
}

static void table_settle(throttle *t, struct table *tb, unsigned free_failures,
                         const unsigned char key[16], bool failed, int64_t now)
{
    if (free_failures == 0)
        return;
    pthread_mutex_lock(&t->mu);
    /* An entry holding a reservation is never evicted, so it is still
     * there. */
    struct entry *e = find(t, tb, free_failures, key, now, false);
    if (e != NULL && e->pending > 0) {
        e->pending--;
        if (failed)
            count_failure(&t->lim, e, now);
    }
    pthread_mutex_unlock(&t->mu);
}

unsigned throttle_address_wait(throttle *t, const struct netaddr *a, int64_t now)
{
    return table_wait(t, &t->addrs, t->lim.address_failures, a->b, now);
}

unsigned throttle_address_reserve(throttle *t, const struct netaddr *a, int64_t now)
{
    return table_reserve(t, &t->addrs, t->lim.address_failures, a->b, now);
}

void throttle_address_settle(throttle *t, const struct netaddr *a, bool failed, int64_t now)
{
    table_settle(t, &t->addrs, t->lim.address_failures, a->b, failed, now);
}

static void name_key(const throttle *t, const char *name, size_t len, unsigned char key[16])
{
    crypto_generichash(key, 16, (const unsigned char *)name, len, t->name_key, sizeof t->name_key);
}

unsigned throttle_name_reserve(throttle *t, const char *name, size_t len, int64_t now)
{
    unsigned char key[16];

    name_key(t, name, len, key);
    return table_reserve(t, &t->names, t->lim.account_failures, key, now);
}

void throttle_name_settle(throttle *t, const char *name, size_t len, bool failed, int64_t now)
{
    unsigned char key[16];

    name_key(t, name, len, key);
    table_settle(t, &t->names, t->lim.account_failures, key, failed, now);
}

/* A fixed window of window_s seconds from *start, counting in *count:
 * starts a new one from now, counting 0, when the last one is over. */
static void roll_window(int64_t *start, uint32_t *count, unsigned window_s, int64_t now)
{
    if (now - *start >= (int64_t)window_s) {
        *start = now;
        *count = 0;
    }
}

unsigned throttle_register_wait(throttle *t, const struct netaddr *a, int64_t now)
{
    unsigned w = 0;

    if (t->lim.registrations == 0)
        return 0;
    pthread_mutex_lock(&t->mu);
    struct entry *e = find(t, &t->addrs, t->lim.address_failures, a->b, now, false);
    if (e != NULL) {
        roll_window(&e->window_start, &e->registrations, t->lim.registration_window_s, now);
        if (e->registrations >= t->lim.registrations)
            w = (unsigned)(e->window_start + t->lim.registration_window_s - now);
    }
    pthread_mutex_unlock(&t->mu);
    return w;
}

void throttle_register_done(throttle *t, const struct netaddr *a, int64_t now)
{
    if (t->lim.registrations == 0)
        return;
    pthread_mutex_lock(&t->mu);
    struct entry *e = find(t, &t->addrs, t->lim.address_failures, a->b, now, true);
    if (e != NULL) {
        roll_window(&e->window_start, &e->registrations, t->lim.registration_window_s, now);
        if (e->registrations < UINT32_MAX)
            e->registrations++;
        e->last_used = now;
    }
    pthread_mutex_unlock(&t->mu);
}

/* One window's count of an address (of its mails or its kept authorization
 * requests), checked and counted in one step, as throttle_mail_take. */
static unsigned window_take(throttle *t, const struct netaddr *a, int64_t now, unsigned limit,
                            unsigned window_s, bool authz)
{
    unsigned w = 0;

    pthread_mutex_lock(&t->mu);
    struct entry *e = find(t, &t->addrs, t->lim.address_failures, a->b, now, true);
    /* No room (every entry of the set busy): let it through, as a
     * registration would be. */
    if (e != NULL) {
        int64_t *start = authz ? &e->authz_window_start : &e->mail_window_start;
        uint32_t *count = authz ? &e->authz : &e->mails;
        roll_window(start, count, window_s, now);
        if (*count >= limit) {
            w = (unsigned)(*start + window_s - now);
        } else {
            (*count)++;
            e->last_used = now;
        }
    }
    pthread_mutex_unlock(&t->mu);
    return w;
}

unsigned throttle_authz_take(throttle *t, const struct netaddr *a, int64_t now)
{
    if (t->lim.authz_requests == 0)
        return 0;
    return window_take(t, a, now, t->lim.authz_requests, t->lim.authz_window_s, true);
}

unsigned throttle_mail_take(throttle *t, const struct netaddr *a, int64_t now)
{
    if (t->lim.mail_requests == 0)
        return 0;
    return window_take(t, a, now, t->lim.mail_requests, t->lim.mail_window_s, false);
}

bool throttle_job_begin(throttle *t, const struct netaddr *a, int64_t now)
{
    bool ok = false;

    if (t->lim.hash_jobs == 0)
        return true;
    pthread_mutex_lock(&t->mu);
    struct entry *e = find(t, &t->addrs, t->lim.address_failures, a->b, now, true);
    if (e != NULL && e->jobs < t->lim.hash_jobs) {
        e->jobs++;
        e->last_used = now;
        ok = true;
    }
    pthread_mutex_unlock(&t->mu);
    return ok;
}

void throttle_job_end(throttle *t, const struct netaddr *a)
{
    if (t->lim.hash_jobs == 0)
        return;
    pthread_mutex_lock(&t->mu);
    /* An entry holding jobs is never evicted, so it is still there. */
    struct entry *e = find(t, &t->addrs, t->lim.address_failures, a->b, 0, false);
    if (e != NULL && e->jobs > 0)
        e->jobs--;
    pthread_mutex_unlock(&t->mu);
}

size_t throttle_address_entries(throttle *t, size_t *capacity)
{
    size_t n = 0;

    pthread_mutex_lock(&t->mu);
    for (size_t i = 0; i < t->addrs.nsets * WAYS; i++)
        n += t->addrs.e[i].used;
    *capacity = t->addrs.nsets * WAYS;
    pthread_mutex_unlock(&t->mu);
    return n;
}
