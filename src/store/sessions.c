/* Sessions: written once for every backend (see driver.h). */
#include "store/driver.h"

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
    /* A foreign-key failure (STORE_NOT_FOUND) means the user was deleted. */
    return store__close(&q, store__step(&q, &row));
}

/* Runs an UPDATE already bound; STORE_NOT_FOUND when it changed no row. */
static enum store_status update_one(struct store_query *q)
{
    bool row = false;
    enum store_status rc = store__step(q, &row);

    if (rc == STORE_OK && store__changes(q) == 0)
        rc = STORE_NOT_FOUND;
    return store__close(q, rc);
}

enum store_status store_session_rotate(store *s, store_tx *tx, const char *sid,
                                       const unsigned char old_hash[32],
                                       const unsigned char new_hash[32], int64_t now)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_SESSION_ROTATE, &q);

    if (rc != STORE_OK)
        return rc;
    store__text(&q, 1, sid);
    store__blob(&q, 2, old_hash, 32);
    store__blob(&q, 3, new_hash, 32);
    store__int(&q, 4, now);
    return update_one(&q);
}

enum store_status store_session_revoke(store *s, store_tx *tx, const char *sid, int64_t now)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_SESSION_REVOKE, &q);

    if (rc != STORE_OK)
        return rc;
    store__text(&q, 1, sid);
    store__int(&q, 2, now);
    return update_one(&q);
}
