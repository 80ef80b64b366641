#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char secret[] = "core-fixture-secret-0123456789abcdef";

const struct throttle_limits core_fixture_account_limits = {
    .address_failures = 100,
    .account_failures = 2,
    .lockout_s = 60,
    .lockout_max_s = 600,
    .forget_s = 3600,
    .table_size = 64,
};

int core_fixture_open(struct core_fixture *f)
{
    struct jwt_params p = {NULL, NULL, 0};
    char url[160], err[256];

    memset(f, 0, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/gh-unit-XXXXXX");
    if (mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->path, sizeof f->path, "%s/core.db", f->dir);
    snprintf(url, sizeof url, "sqlite:///%s", f->path);
    if (store_open(url, NULL, &f->store, err, sizeof err) != STORE_OK) {
        printf("core fixture: %s\n", err);
        return -1;
    }
    f->jwt = jwt_key_create(secret, strlen(secret), &p);
    f->policy = (struct password_policy){PASSWORD_BCRYPT, 4, 8};
    if (f->jwt == NULL || (f->keys = keyset_wrap(f->jwt)) == NULL || password_init(&f->policy) != 0)
        return -1;
    f->users = (struct users_deps){f->store, &f->policy};
    f->revoked = revset_create();
    /* With a cache of verified tokens, as served: every check of a token
     * seen before goes through it. */
    f->verified = tokencache_create(64);
    if (f->revoked == NULL || f->verified == NULL)
        return -1;
    f->sessions = (struct sessions_deps){f->store, f->keys, 600, 86400, 0, f->revoked, f->verified};
    return 0;
}

void core_fixture_close(struct core_fixture *f)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char p[160];

    store_close(f->store);
    keyset_close(f->keys); /* frees f->jwt */
    revset_free(f->revoked);
    tokencache_free(f->verified);
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(p, sizeof p, "%s%s", f->path, suffixes[i]);
        unlink(p);
    }
    rmdir(f->dir);
}
