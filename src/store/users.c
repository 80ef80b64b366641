/* Users: written once for every backend (see driver.h). */
#include <stdio.h>
#include <string.h>

#include "store/driver.h"
#include "util/log.h"

enum store_status store_user_create(store *s, store_tx *tx, const char *username,
                                    const char *username_key, const char *password_hash,
                                    int64_t now, struct store_user *out)
{
    struct store_query q;
    bool row = false;
    enum store_status rc = store__open(s, tx, STMT_USER_INSERT, &q);

    if (rc != STORE_OK)
        return rc;
    store__text(&q, 1, username);
    store__text(&q, 2, username_key);
    store__text(&q, 3, password_hash);
    store__int(&q, 4, now);
    rc = store__step(&q, &row);
    if (rc == STORE_OK && !row) {
        log_error("store: user insert returned no id");
        rc = STORE_ERROR;
    }
    if (rc == STORE_OK) {
        out->id = store__col_int64(&q, 0);
        snprintf(out->username, sizeof out->username, "%s", username);
        snprintf(out->password_hash, sizeof out->password_hash, "%s", password_hash);
        out->created_at = now;
        out->credential_version = 0;
        out->failed_logins = 0;
        out->last_failed_at = 0;
    }
    return store__close(&q, rc);
}

enum store_status store_user_import(store *s, store_tx *tx, int64_t id, const char *username,
                                    const char *username_key, const char *password_hash,
                                    int64_t now)
{
    struct store_query q;
    bool row = false;
    enum store_status rc = store__open(s, tx, STMT_USER_INSERT_WITH_ID, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, id);
    store__text(&q, 2, username);
    store__text(&q, 3, username_key);
    store__text(&q, 4, password_hash);
    store__int(&q, 5, now);
    return store__close(&q, store__step(&q, &row));
}

enum store_status store_users_import_batch(store *s, store_tx *tx,
                                           const struct store_import_user *users, int64_t now)
{
    struct store_query q;
    bool row = false;
    enum store_status rc = store__open(s, tx, STMT_USERS_IMPORT_BATCH, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, now);
    for (int i = 0; i < STORE_IMPORT_BATCH; i++) {
        store__int(&q, 2 + 4 * i, users[i].id);
        store__text(&q, 3 + 4 * i, users[i].username);
        store__text(&q, 4 + 4 * i, users[i].username_key);
        store__text(&q, 5 + 4 * i, users[i].password_hash);
    }
    return store__close(&q, store__step(&q, &row));
}

enum store_status store_users_create_batch(store *s, store_tx *tx,
                                           const struct store_import_user *users, int64_t now)
{
    struct store_query q;
    bool row = false;
    enum store_status rc = store__open(s, tx, STMT_USERS_CREATE_BATCH, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, now);
    for (int i = 0; i < STORE_IMPORT_BATCH; i++) {
        store__text(&q, 2 + 3 * i, users[i].username);
        store__text(&q, 3 + 3 * i, users[i].username_key);
        store__text(&q, 4 + 3 * i, users[i].password_hash);
    }
    return store__close(&q, store__step(&q, &row));
}

enum store_status store_users_keys(store *s, store_tx *tx,
                                   int (*each)(void *arg, int64_t id, const char *username_key),
                                   void *arg)
{
    struct store_query q;
    char key[STORE_USERNAME_MAX + 1];
    bool row = false;
    enum store_status rc = store__open(s, tx, STMT_USERS_KEYS, &q);

    if (rc != STORE_OK)
        return rc;
    while ((rc = store__step(&q, &row)) == STORE_OK && row) {
        int64_t id = store__col_int64(&q, 0);
        /* As in user_row: a key that does not fit was not written by us. */
        if (!store__col_text(&q, 1, key, sizeof key)) {
            log_error("store: user %lld has a username longer than gatehouse stores",
                      (long long)id);
            rc = STORE_ERROR;
            break;
        }
        if (each(arg, id, key) != 0) {
            rc = STORE_ERROR;
            break;
        }
    }
    return store__close(&q, rc);
}

enum store_status store_users_follow_ids(store *s, store_tx *tx)
{
    struct store_conn *c;

    if (s->drv->follow_ids == NULL)
        return STORE_OK;
    enum store_status rc = store__take(s, tx, &c);
    return rc != STORE_OK ? rc : store__give(s, tx, c, s->drv->follow_ids(c));
}

enum store_status store_users_list(store *s,
                                   void (*each)(void *arg, int64_t id, const char *username,
                                                int64_t created_at),
                                   void *arg)
{
    struct store_query q;
    char name[STORE_USERNAME_MAX + 1];
    bool row = false;
    enum store_status rc = store__open(s, NULL, STMT_USERS_LIST, &q);

    if (rc != STORE_OK)
        return rc;
    while ((rc = store__step(&q, &row)) == STORE_OK && row) {
        int64_t id = store__col_int64(&q, 0);
        /* As in user_row: a name that does not fit was not written by us. */
        if (!store__col_text(&q, 1, name, sizeof name)) {
            log_error("store: user %lld has a username longer than gatehouse stores",
                      (long long)id);
            rc = STORE_ERROR;
            break;
        }
        each(arg, id, name, store__col_int64(&q, 2));
    }
    return store__close(&q, rc);
}

/* Reads the row of a user query into out. */
static enum store_status user_row(struct store_query *q, struct store_user *out)
{
    bool row = false;
    enum store_status rc = store__step(q, &row);

    if (rc != STORE_OK)
        return rc;
    if (!row)
        return STORE_NOT_FOUND;
    out->id = store__col_int64(q, 0);
    out->created_at = store__col_int64(q, 3);
    out->credential_version = store__col_int64(q, 4);
    out->failed_logins = store__col_int64(q, 5);
    out->last_failed_at = store__col_int64(q, 6); /* NULL reads as 0 */
    /* A row that does not fit was not written by us: refuse it rather than
     * hand a truncated name or hash upwards. */
    out->email_verified = store__col_int64(q, 9) != 0;
    out->disabled = store__col_int64(q, 10) != 0;
    if (!store__col_text(q, 1, out->username, sizeof out->username) ||
        !store__col_text(q, 2, out->password_hash, sizeof out->password_hash) ||
        !store__col_text(q, 7, out->roles, sizeof out->roles) ||
        !store__col_text(q, 8, out->email, sizeof out->email)) {
        log_error("store: user %lld has a username or hash longer than gatehouse stores",
                  (long long)out->id);
        return STORE_ERROR;
    }
    return STORE_OK;
}

enum store_status store_user_by_key(store *s, store_tx *tx, const char *username_key,
                                    struct store_user *out)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_USER_BY_KEY, &q);

    if (rc != STORE_OK)
        return rc;
    store__text(&q, 1, username_key);
    return store__close(&q, user_row(&q, out));
}

enum store_status store_user_by_id(store *s, store_tx *tx, int64_t id, struct store_user *out)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_USER_BY_ID, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, id);
    return store__close(&q, user_row(&q, out));
}

enum store_status store_user_set_password(store *s, store_tx *tx, int64_t id,
                                          const char *password_hash, int64_t now)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_USER_SET_PASSWORD, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, id);
    store__text(&q, 2, password_hash);
    store__int(&q, 3, now);
    return store__run(&q, true);
}

enum store_status store_user_rehash(store *s, store_tx *tx, int64_t id, const char *old_hash,
                                    const char *new_hash)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_USER_REHASH, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, id);
    store__text(&q, 2, new_hash);
    store__text(&q, 3, old_hash);
    return store__run(&q, true);
}

enum store_status store_user_delete(store *s, store_tx *tx, int64_t id)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_USER_DELETE, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, id);
    return store__run(&q, true);
}

enum store_status store_user_login(store *s, store_tx *tx, int64_t id, int64_t credential_version,
                                   int64_t now)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_USER_LOGIN, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, id);
    store__int(&q, 2, credential_version);
    store__int(&q, 3, now);
    return store__run(&q, true);
}

enum store_status store_user_credentials_changed(store *s, store_tx *tx, int64_t id)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_USER_CREDENTIALS_CHANGED, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, id);
    return store__run(&q, true);
}

enum store_status store_user_login_reserve(store *s, store_tx *tx, int64_t id,
                                           int64_t seen_failures, int64_t seen_last,
                                           int64_t failures, int64_t now)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_USER_LOGIN_RESERVE, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, id);
    store__int(&q, 2, seen_failures);
    store__int(&q, 3, seen_last);
    store__int(&q, 4, failures);
    store__int(&q, 5, now);
    return store__run(&q, true);
}

enum store_status store_user_login_failures_reset(store *s, store_tx *tx, int64_t id)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_USER_LOGIN_FAILURES_RESET, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, id);
    return store__run(&q, true);
}

enum store_status store_users_hash_like(store *s, const char *pattern, bool *found)
{
    struct store_query q;
    enum store_status rc = store__open(s, NULL, STMT_USERS_HASH_LIKE, &q);

    if (rc != STORE_OK)
        return rc;
    store__text(&q, 1, pattern);
    *found = false;
    return store__close(&q, store__step(&q, found));
}
