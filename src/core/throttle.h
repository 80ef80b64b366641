#ifndef GH_CORE_THROTTLE_H
#define GH_CORE_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/netaddr.h"

/* Throttling: failed logins counted per client address and per name, the
 * registrations of each address, and the hashing jobs each address holds
 * (the fair share of the hashing queue).
 *
 * Back-off: the first `free` failures cost nothing; the next one locks for
 * lockout_s seconds, and each further one doubles the lock, up to
 * lockout_max_s. A lock runs from the latest failure. Attempts refused while
 * locked are not failures (they hash nothing and tell nothing). A count is
 * forgotten once forget_s seconds pass without a failure.
 *
 * The per-address and unknown-name counters live here, in two tables of a
 * fixed size set at creation: a client cycling through a million addresses
 * or names evicts the least recently used entries (those still locked
 * last) and never grows them. Per instance. The counters of existing
 * accounts live on their database rows (store_user_login_reserve), shared by
 * every instance; throttle_account_wait reads them.
 *
 * Thread-safe: one mutex, held for a lookup of a few entries. */

struct throttle_limits {
    unsigned address_failures;      /* free failed logins per address; 0: no limit */
    unsigned account_failures;      /* free failed logins per account or name; 0: no limit */
    unsigned lockout_s;             /* the first lock */
    unsigned lockout_max_s;         /* the longest lock */
    unsigned forget_s;              /* a count is forgotten after this long without a failure */
    unsigned registrations;         /* registrations per address per window; 0: no limit */
    unsigned registration_window_s; /* that window */
    unsigned table_size;            /* entries of each table (rounded up to a multiple of 8) */
    unsigned hash_jobs;             /* queued or running hash jobs per address; 0: no limit */
    unsigned mail_requests;         /* requests that may mail, per address per window; 0: none */
    unsigned mail_window_s;         /* that window */
    unsigned authz_requests; /* authorization requests kept per address per window; 0: none */
    unsigned authz_window_s; /* that window */
};

typedef struct throttle throttle;

/* Creates the tables (calloc'd: their pages cost memory once used). NULL
 * when out of memory. */
throttle *throttle_create(const struct throttle_limits *lim);

void throttle_free(throttle *t);

const struct throttle_limits *throttle_limits_of(const throttle *t);

/* The seconds a lock lasts after the failures-th failure with free failures
 * allowed: 0 up to free, then lockout_s doubling up to lockout_max_s. */
unsigned throttle_lockout(const struct throttle_limits *lim, unsigned free, int64_t failures);

/* The seconds left (at least 1) of the lock that failures failures, the
 * latest at last_failed, put on an account at now; 0 when it may try. */
unsigned throttle_account_wait(const struct throttle_limits *lim, int64_t failures,
                               int64_t last_failed, int64_t now);

/* Login failures of an address: the wait before it may try again (0: now),
 * every attempt in progress counted as a failure. */
unsigned throttle_address_wait(throttle *t, const struct netaddr *a, int64_t now);

/* An attempt of an address, checked and reserved in one step: the wait (as
 * throttle_address_wait), or 0 when the attempt may go on and is reserved. Each 0 must be followed
 * by one throttle_address_settle, failed telling whether the attempt
 * counts as a failed login. So of concurrent attempts no more get through
 * than the limit allows one after another. */
unsigned throttle_address_reserve(throttle *t, const struct netaddr *a, int64_t now);
void throttle_address_settle(throttle *t, const struct netaddr *a, bool failed, int64_t now);

/* The same for a name no account has (name: the bytes a login gave, len
 * bytes). Keyed by a keyed hash of the name, never the name itself, with
 * the account limit, so that an unknown name is locked after as many
 * failures as an account would be. */
unsigned throttle_name_reserve(throttle *t, const char *name, size_t len, int64_t now);
void throttle_name_settle(throttle *t, const char *name, size_t len, bool failed, int64_t now);

/* Registrations of an address: the wait before its next one may start
 * (0: now), and the count of one made (one that spent a hash). */
unsigned throttle_register_wait(throttle *t, const struct netaddr *a, int64_t now);
void throttle_register_done(throttle *t, const struct netaddr *a, int64_t now);

/* A request that may send mail (POST /password/forgot, POST /email/verify,
 * PUT /me/email) from address a, checked and counted in one step: 0 when
 * it may go on (counted), else the seconds until the address's window
 * (mail_window_s from its first request) ends, nothing counted. */
unsigned throttle_mail_take(throttle *t, const struct netaddr *a, int64_t now);

/* An authorization request kept for a browser (GET|POST /authorize: each
 * one a row of oidc_requests) from address a, checked and counted as
 * throttle_mail_take. */
unsigned throttle_authz_take(throttle *t, const struct netaddr *a, int64_t now);

/* The fair share of the hashing queue: takes one of the address's
 * hash_jobs slots, or returns false when it holds them all (or the table
 * has no room: every entry of its set holds jobs). Each true must be
 * followed by one throttle_job_end. */
bool throttle_job_begin(throttle *t, const struct netaddr *a, int64_t now);
void throttle_job_end(throttle *t, const struct netaddr *a);

/* The entries in use in the address table and its capacity (for tests). */
size_t throttle_address_entries(throttle *t, size_t *capacity);

#endif
