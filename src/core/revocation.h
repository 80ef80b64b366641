#ifndef GH_CORE_REVOCATION_H
#define GH_CORE_REVOCATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The revoked sessions, in memory: what /verify and every bearer route check
 * without a database round trip. A session id stays in the set until the
 * last access token of its session would have expired anyway; then it is
 * purged. Lookups take a shared lock and never allocate; additions and
 * purges take the exclusive lock. Thread-safe. */

typedef struct revset revset;

#define REVSET_SID_MAX 64 /* longest session id kept; longer ones are refused */

/* An empty set, or NULL when out of memory. */
revset *revset_create(void);
void revset_free(revset *r);

/* Adds session sid (len bytes), revoked until until (Unix seconds); a sid
 * already there keeps the later of the two times. Returns 0, or -1 when sid
 * is empty or longer than REVSET_SID_MAX, or memory ran out. */
int revset_add(revset *r, const char *sid, size_t len, int64_t until);

/* True when sid is in the set and its time has not passed at now. */
bool revset_contains(revset *r, const char *sid, size_t len, int64_t now);

/* Drops every entry whose time has passed at now; returns how many. */
size_t revset_purge(revset *r, int64_t now);

/* The number of entries (expired ones not yet purged included). */
size_t revset_count(revset *r);

/* The sessions added since the set was made (a session added twice counts
 * once while it stays in the set), this instance's revocations and those
 * heard from other instances alike. */
uint64_t revset_added(revset *r);

#endif
