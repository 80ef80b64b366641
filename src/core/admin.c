#include "core/admin.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/outcome_store.h"
#include "core/sessions_tx.h"
#include "core/username.h"
#include "util/b64.h"
#include "util/timefmt.h"

enum outcome admin_user_by_name(store *s, const char *username, int64_t *id)
{
    char key[USERNAME_STORED_MAX + 1];
    struct store_user su = {0};
    size_t len = strlen(username);

    if (!username_storable(username, len))
        return OUTCOME_NOT_FOUND;
    username_key_any(key, username, len);
    enum store_status st = store_user_by_key(s, NULL, key, &su);
    sodium_memzero(su.password_hash, sizeof su.password_hash);
    *id = su.id;
    return outcome_from_store(st, OUTCOME_NOT_FOUND);
}

struct user_write {
    store *store;
    int64_t id;
};

static enum store_status disable(store_tx *tx, void *arg)
{
    struct user_write *w = arg;

    return store_user_set_disabled(w->store, tx, w->id, true);
}

static enum store_status clear_mfa(store_tx *tx, void *arg)
{
    struct user_write *w = arg;

    return store_user_mfa_clear(w->store, tx, w->id);
}

static enum store_status delete_user(store_tx *tx, void *arg)
{
    struct user_write *w = arg;

    return store_user_delete(w->store, tx, w->id);
}

static enum store_status nothing(store_tx *tx, void *arg)
{
    (void)tx;
    (void)arg;
    return STORE_OK;
}

/* Revokes every session of user id with write, in one transaction that
 * first takes the user's row (a login racing it opens its session before,
 * and sees it revoked, or is refused). An unknown user: OUTCOME_NOT_FOUND. */
static enum outcome revoke_all_with(const struct sessions_deps *sd, int64_t id,
                                    enum store_status (*write)(store_tx *tx, void *arg))
{
    struct user_write w = {sd->store, id};
    enum outcome o = sessions_revoke_with(sd, id, NULL, SESSIONS_GLOBAL, write, &w);

    return o == OUTCOME_TOKEN_INVALID ? OUTCOME_NOT_FOUND : o;
}

enum outcome admin_set_disabled(const struct sessions_deps *sd, int64_t id, bool disabled)
{
    if (disabled)
        return revoke_all_with(sd, id, disable);
    return outcome_from_store(store_user_set_disabled(sd->store, NULL, id, false),
                              OUTCOME_NOT_FOUND);
}

enum outcome admin_set_roles(store *s, int64_t id, const char *roles)
{
    if (!roles_text_valid(roles))
        return OUTCOME_INVALID;
    return outcome_from_store(store_user_set_roles(s, NULL, id, roles), OUTCOME_NOT_FOUND);
}

enum outcome admin_change_role(store *s, int64_t id, const char *role, bool add,
                               char out[ROLES_TEXT_MAX + 1])
{
    struct store_user su = {0};
    store_tx tx;

    if (!roles_name_valid(role, strlen(role)))
        return OUTCOME_INVALID;
    enum store_status st = store_begin(s, &tx);
    if (st != STORE_OK)
        return outcome_from_store(st, OUTCOME_ERROR);
    /* Taking the row first orders two changes of one user's roles. */
    st = store_user_lock(s, &tx, id);
    if (st == STORE_OK)
        st = store_user_by_id(s, &tx, id, &su);
    sodium_memzero(su.password_hash, sizeof su.password_hash);
    enum outcome o = outcome_from_store(st, OUTCOME_NOT_FOUND);
    if (o == OUTCOME_OK && !roles_change(su.roles, role, add, out))
        o = OUTCOME_INVALID;
    if (o == OUTCOME_OK)
        o = outcome_from_store(store_user_set_roles(s, &tx, id, out), OUTCOME_NOT_FOUND);
    /* The audit event its caller holds (store_audit_hold) commits with it. */
    if (o == OUTCOME_OK)
        o = outcome_from_store(store_audit_held_add(s, &tx, id), OUTCOME_ERROR);
    if (o == OUTCOME_OK)
        o = outcome_from_store(store_commit(&tx), OUTCOME_ERROR);
    else
        store_rollback(&tx);
    return o;
}

enum outcome admin_revoke_sessions(const struct sessions_deps *sd, int64_t id)
{
    return revoke_all_with(sd, id, nothing);
}

enum outcome admin_mfa_reset(const struct sessions_deps *sd, int64_t id)
{
    return revoke_all_with(sd, id, clear_mfa);
}

enum outcome admin_delete_user(const struct sessions_deps *sd, int64_t id)
{
    return revoke_all_with(sd, id, delete_user);
}

bool admin_is_apikey(const char *token, size_t len)
{
    return len == ADMIN_APIKEY_LEN && memcmp(token, ADMIN_APIKEY_PREFIX, 4) == 0;
}

enum outcome admin_apikey_create(store *s, const char *name, const char *roles,
                                 char key[ADMIN_APIKEY_LEN + 1], struct store_apikey *out)
{
    unsigned char raw[32], id_raw[9], hash[32];

    if (!roles_text_valid(roles) || roles[0] == '\0' || strlen(name) > STORE_APIKEY_NAME_MAX)
        return OUTCOME_INVALID;
    memset(out, 0, sizeof *out);
    randombytes_buf(raw, sizeof raw);
    memcpy(key, ADMIN_APIKEY_PREFIX, 4);
    b64url_encode(key + 4, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    crypto_hash_sha256(hash, (const unsigned char *)key, ADMIN_APIKEY_LEN);
    randombytes_buf(id_raw, sizeof id_raw);
    memcpy(out->id, "ak_", 3);
    b64url_encode(out->id + 3, id_raw, sizeof id_raw);
    snprintf(out->name, sizeof out->name, "%s", name);
    snprintf(out->roles, sizeof out->roles, "%s", roles);
    out->created_at = timefmt_now();
    enum outcome o = outcome_from_store(store_apikey_create(s, NULL, out, hash), OUTCOME_ERROR);
    if (o != OUTCOME_OK)
        sodium_memzero(key, ADMIN_APIKEY_LEN + 1);
    return o;
}

enum outcome admin_apikey_find(store *s, const char *token, size_t len, struct store_apikey *out)
{
    unsigned char hash[32];

    if (!admin_is_apikey(token, len))
        return OUTCOME_TOKEN_INVALID;
    crypto_hash_sha256(hash, (const unsigned char *)token, len);
    return outcome_from_store(store_apikey_use(s, hash, timefmt_now(), out), OUTCOME_TOKEN_INVALID);
}

enum outcome admin_apikey_revoke(store *s, const char *id)
{
    return outcome_from_store(store_apikey_revoke(s, NULL, id, timefmt_now()), OUTCOME_NOT_FOUND);
}
