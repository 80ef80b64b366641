/* store/admin.c on both backends: the admin API's pages of users (keyset,
 * q matching username or address without regard to ASCII case, LIKE's
 * wildcards taken literally), roles and the disabled flag as user rows
 * read them, and API keys found only by their hash and never once revoked. */
#include <stdio.h>
#include <string.h>

#include "store/store.h"
#include "store/tdb.h"
#include "test.h"

struct ids {
    int n;
    int64_t id[16];
};

static void add_id(void *arg, const struct store_admin_user *u)
{
    struct ids *x = arg;

    if (x->n < 16)
        x->id[x->n++] = u->id;
}

STORE_CASE(admin_users_page, 1)
{
    struct store_user u[5];
    char name[16];
    struct ids got = {0};
    bool more = false;

    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof name, "user%d", i);
        REQUIRE(store_user_create(s, NULL, name, name, "$2b$04$h", T0, &u[i]) == STORE_OK);
    }
    CHECK_EQ_INT(store_users_page(s, 0, "", 2, add_id, &got, &more), STORE_OK);
    CHECK_EQ_INT(got.n, 2);
    CHECK(more);
    CHECK_EQ_INT(got.id[0], u[0].id);
    CHECK_EQ_INT(got.id[1], u[1].id);
    got.n = 0;
    CHECK_EQ_INT(store_users_page(s, u[3].id, "", 2, add_id, &got, &more), STORE_OK);
    CHECK_EQ_INT(got.n, 1);
    CHECK(!more);
    CHECK_EQ_INT(got.id[0], u[4].id);
    /* q: the name or the address, ASCII case ignored; % and _ literal. */
    REQUIRE(store_user_email_set(s, NULL, u[2].id, "Zed_X@Example.com", "zed_x@example.com",
                                 true) == STORE_OK);
    got.n = 0;
    CHECK_EQ_INT(store_users_page(s, 0, "ZED_x", 10, add_id, &got, &more), STORE_OK);
    CHECK_EQ_INT(got.n, 1);
    CHECK_EQ_INT(got.id[0], u[2].id);
    got.n = 0;
    CHECK_EQ_INT(store_users_page(s, 0, "USER3", 10, add_id, &got, &more), STORE_OK);
    CHECK_EQ_INT(got.n, 1);
    got.n = 0;
    CHECK_EQ_INT(store_users_page(s, 0, "user%", 10, add_id, &got, &more), STORE_OK);
    CHECK_EQ_INT(got.n, 0);
    got.n = 0;
    CHECK_EQ_INT(store_users_page(s, 0, "zed!x", 10, add_id, &got, &more), STORE_OK);
    CHECK_EQ_INT(got.n, 0);
    /* Roles and the flag, as the admin view and a user row read them. */
    CHECK_EQ_INT(store_user_set_roles(s, NULL, u[1].id, "admin,ops"), STORE_OK);
    CHECK_EQ_INT(store_user_set_disabled(s, NULL, u[1].id, true), STORE_OK);
    CHECK_EQ_INT(store_user_set_roles(s, NULL, u[4].id + 100, "x"), STORE_NOT_FOUND);
    struct store_admin_user a;
    CHECK_EQ_INT(store_admin_user(s, NULL, u[1].id, &a), STORE_OK);
    CHECK_EQ_STR(a.roles, "admin,ops");
    CHECK(a.disabled && !a.totp && a.passkeys == 0);
    struct store_user r;
    CHECK_EQ_INT(store_user_by_id(s, NULL, u[1].id, &r), STORE_OK);
    CHECK_EQ_STR(r.roles, "admin,ops");
    CHECK(r.disabled);
    CHECK_EQ_INT(store_user_by_id(s, NULL, u[2].id, &r), STORE_OK);
    CHECK_EQ_STR(r.email, "Zed_X@Example.com");
    CHECK(r.email_verified && !r.disabled);
    CHECK_EQ_INT(store_admin_user(s, NULL, u[4].id + 100, &a), STORE_NOT_FOUND);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM users WHERE disabled = 1"), 1);
}

static void count_key(void *arg, const struct store_apikey *k)
{
    int *n = arg;

    (void)k;
    (*n)++;
}

STORE_CASE(admin_apikeys, 1)
{
    struct store_apikey k = {.created_at = T0}, out;
    unsigned char hash[32], other[32];
    int n = 0;

    memset(hash, 7, sizeof hash);
    memset(other, 8, sizeof other);
    snprintf(k.id, sizeof k.id, "ak_test");
    snprintf(k.name, sizeof k.name, "ci");
    snprintf(k.roles, sizeof k.roles, "admin");
    CHECK_EQ_INT(store_apikey_create(s, NULL, &k, hash), STORE_OK);
    CHECK_EQ_INT(store_apikey_use(s, hash, T0 + 5, &out), STORE_OK);
    CHECK_EQ_STR(out.id, "ak_test");
    CHECK_EQ_STR(out.roles, "admin");
    CHECK_EQ_INT(out.last_used_at, T0 + 5);
    CHECK_EQ_INT(store_apikey_use(s, other, T0 + 5, &out), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_apikeys_list(s, count_key, &n), STORE_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(store_apikey_revoke(s, NULL, "ak_test", T0 + 6), STORE_OK);
    CHECK_EQ_INT(store_apikey_revoke(s, NULL, "ak_test", T0 + 7), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_apikey_use(s, hash, T0 + 8, &out), STORE_NOT_FOUND);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NOT NULL"), 1);
}
