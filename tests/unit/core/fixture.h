#ifndef GH_TESTS_UNIT_CORE_FIXTURE_H
#define GH_TESTS_UNIT_CORE_FIXTURE_H

/* A store on a fresh SQLite file and the dependencies of users and
 * sessions over it, for the core tests. bcrypt at cost 4 keeps them quick. */

#include "core/sessions.h"
#include "core/throttle.h"
#include "core/users.h"
#include "store/store.h"

struct core_fixture {
    char dir[64];
    char path[128];
    store *store;
    jwt_key *jwt; /* owned by keys */
    keyset *keys;
    struct password_policy policy;
    struct users_deps users;
    struct sessions_deps sessions;
    revset *revoked;
    tokencache *verified;
};

/* Throttle limits that lock an account out after two failed logins (60 s,
 * at most 600) and leave the address's limit out of reach: for the tests of
 * what counts as a failure. */
extern const struct throttle_limits core_fixture_account_limits;

/* Returns 0, or -1 when the database or the key cannot be made. */
int core_fixture_open(struct core_fixture *f);

/* Closes the store and removes its files. */
void core_fixture_close(struct core_fixture *f);

#endif
