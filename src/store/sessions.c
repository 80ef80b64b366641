/* Sessions: written once for every backend (see driver.h). */
#include <string.h>

#include "store/driver.h"
#include "util/log.h"

enum store_status store_session_create(store *s, store_tx *tx, const struct store_session *sess)
{
    struct store_query q;
    bool row = false;
    enum store_status rc = store__open(s, tx, STMT_SESSION_INSERT, &q);

    if (rc != STORE_OK)
        return rc;
    store__text(&q, 1, sess->id);
    store__int(&q, 2, sess->user_id);
    store__blob(&q, 3, sess->refresh_hash, sizeof sess->refresh_hash);
    store__int(&q, 4, sess->created_at);
    store__int(&q, 5, sess->expires_at);
    store__text(&q, 6, sess->amr[0] != '\0' ? sess->amr : "pwd");
    /* A foreign-key failure (STORE_NOT_FOUND) means the user was deleted. */
    return store__close(&q, store__step(&q, &row));
}

/* The compare-and-set itself; fills out from the row it changed. */
static enum store_status swap_hash(store *s, store_tx *tx, const unsigned char old_hash[32],
                                   const unsigned char new_hash[32], int64_t now,
                                   struct store_session *out)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_SESSION_ROTATE, &q);

    if (rc != STORE_OK)
        return rc;
    store__blob(&q, 1, old_hash, 32);
    store__blob(&q, 2, new_hash, 32);
    store__int(&q, 3, now);
    rc = store__step_row(&q);
    if (rc == STORE_OK) {
        memset(out, 0, sizeof *out);
        if (!store__col_text(&q, 0, out->id, sizeof out->id)) {
            log_error("store: a session id is longer than gatehouse writes");
            rc = STORE_ERROR;
        }
        out->user_id = store__col_int64(&q, 1);
        out->created_at = store__col_int64(&q, 2);
        out->expires_at = store__col_int64(&q, 3);
        if (!store__col_text(&q, 4, out->amr, sizeof out->amr) ||
            !store__col_text(&q, 5, out->client_id, sizeof out->client_id) ||
            !store__col_text(&q, 6, out->scope, sizeof out->scope) ||
            !store__col_text(&q, 8, out->sso_session, sizeof out->sso_session)) {
            log_error("store: a session's amr, client or scope is longer than gatehouse writes");
            rc = STORE_ERROR;
        }
        out->auth_time = store__col_int64(&q, 7);
        memcpy(out->refresh_hash, new_hash, 32);
    }
    return store__close(&q, rc);
}

enum store_status store_session_signed_in_at(store *s, const char *sid, int64_t user_id,
                                             int64_t *at)
{
    struct store_query q;
    enum store_status rc = store__open(s, NULL, STMT_SESSION_SIGNED_IN_AT, &q);

    if (rc != STORE_OK)
        return rc;
    store__text(&q, 1, sid);
    store__int(&q, 2, user_id);
    rc = store__step_row(&q);
    if (rc == STORE_OK)
        *at = store__col_int64(&q, 0);
    return store__close(&q, rc);
}

static enum store_status remember_rotated(store *s, store_tx *tx, const unsigned char hash[32],
                                          const char *sid)
{
    struct store_query q;
    bool row = false;
    enum store_status rc = store__open(s, tx, STMT_REFRESH_HISTORY_INSERT, &q);

    if (rc != STORE_OK)
        return rc;
    store__blob(&q, 1, hash, 32);
    store__text(&q, 2, sid);
    return store__close(&q, store__step(&q, &row));
}

enum store_status store_session_rotate(store *s, store_tx *tx, const unsigned char old_hash[32],
                                       const unsigned char new_hash[32], int64_t now,
                                       struct store_session *out)
{
    store_tx own;
    enum store_status rc;

    if (tx == NULL) {
        rc = store_begin(s, &own);
        if (rc != STORE_OK)
            return rc;
    }
    store_tx *t = tx != NULL ? tx : &own;
    rc = swap_hash(s, t, old_hash, new_hash, now, out);
    if (rc == STORE_OK)
        rc = remember_rotated(s, t, old_hash, out->id);
    if (tx != NULL)
        return rc;
    if (rc != STORE_OK) {
        store_rollback(&own);
        return rc;
    }
    return store_commit(&own);
}

enum store_status store_session_by_rotated(store *s, store_tx *tx, const unsigned char hash[32],
                                           char sid[STORE_ID_MAX + 1])
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_REFRESH_HISTORY_FIND, &q);

    if (rc != STORE_OK)
        return rc;
    store__blob(&q, 1, hash, 32);
    rc = store__step_row(&q);
    if (rc == STORE_OK && !store__col_text(&q, 0, sid, STORE_ID_MAX + 1))
        rc = STORE_ERROR;
    return store__close(&q, rc);
}

enum store_status store_session_revoke(store *s, store_tx *tx, const char *sid, int64_t now)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_SESSION_REVOKE, &q);

    if (rc != STORE_OK)
        return rc;
    store__text(&q, 1, sid);
    store__int(&q, 2, now);
    return store__run(&q, true);
}

enum store_status store_sessions_revoke_of_user(store *s, store_tx *tx, int64_t user_id,
                                                const char *except, int64_t now,
                                                void (*each)(void *arg, const char *sid), void *arg)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_SESSIONS_REVOKE_OF_USER, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, user_id);
    store__int(&q, 2, now);
    store__text(&q, 3, except != NULL ? except : "");
    return store__each_sid(&q, each, arg);
}

enum store_status store_sessions_purge(store *s, int64_t now, int64_t tokens_before,
                                       int64_t *deleted)
{
    struct store_query q;
    enum store_status rc = store__open(s, NULL, STMT_SESSIONS_PURGE, &q);

    *deleted = 0;
    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, now);
    store__int(&q, 2, tokens_before);
    return store__run_deleting(&q, deleted);
}
