/* Second factors: TOTP secrets and recovery codes (migration 7), written
 * once for every backend (see driver.h). */
#include <string.h>

#include "store/driver.h"
#include "util/log.h"

/* A statement whose parameters are user_id alone, run for its rows
 * changed (changed_one: STORE_NOT_FOUND when none). */
static enum store_status by_user(store *s, store_tx *tx, enum store_stmt stmt, int64_t user_id,
                                 bool changed_one)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, stmt, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, user_id);
    return store__run(&q, changed_one);
}

enum store_status store_totp_put(store *s, store_tx *tx, int64_t user_id,
                                 const unsigned char *secret, size_t len, int64_t now)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_TOTP_PUT, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, user_id);
    store__blob(&q, 2, secret, len);
    store__int(&q, 3, now);
    return store__run(&q, true);
}

enum store_status store_totp_of(store *s, store_tx *tx, int64_t user_id, struct store_totp *out)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_TOTP_OF, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, user_id);
    memset(out, 0, sizeof *out);
    rc = store__step_row(&q);
    if (rc == STORE_OK) {
        if (!store__col_blob(&q, 0, out->secret, sizeof out->secret, &out->secret_len)) {
            log_error("store: a stored TOTP secret is longer than gatehouse writes");
            rc = STORE_ERROR;
        }
        out->confirmed_at = store__col_int64(&q, 1);
        out->last_step = store__col_int64(&q, 2);
    }
    return store__close(&q, rc);
}

enum store_status store_totp_confirm(store *s, store_tx *tx, int64_t user_id,
                                     const unsigned char *secret, size_t len, int64_t step,
                                     int64_t now)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_TOTP_CONFIRM, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, user_id);
    store__int(&q, 2, step);
    store__int(&q, 3, now);
    store__blob(&q, 4, secret, len);
    return store__run(&q, true);
}

enum store_status store_totp_step(store *s, store_tx *tx, int64_t user_id, int64_t step)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_TOTP_STEP, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, user_id);
    store__int(&q, 2, step);
    return store__run(&q, true);
}

enum store_status store_totp_delete(store *s, store_tx *tx, int64_t user_id)
{
    return by_user(s, tx, STMT_TOTP_DELETE, user_id, true);
}

enum store_status store_recovery_codes_delete(store *s, store_tx *tx, int64_t user_id)
{
    return by_user(s, tx, STMT_RECOVERY_CODES_DELETE, user_id, false);
}

enum store_status store_recovery_code_add(store *s, store_tx *tx, int64_t user_id,
                                          const unsigned char hash[32])
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_RECOVERY_CODE_INSERT, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, user_id);
    store__blob(&q, 2, hash, 32);
    return store__run(&q, false);
}

enum store_status store_recovery_code_use(store *s, store_tx *tx, int64_t user_id,
                                          const unsigned char hash[32], int64_t now)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_RECOVERY_CODE_USE, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, user_id);
    store__blob(&q, 2, hash, 32);
    store__int(&q, 3, now);
    return store__run(&q, true);
}

enum store_status store_recovery_codes_left(store *s, store_tx *tx, int64_t user_id, int64_t *count)
{
    return store__count(s, tx, STMT_RECOVERY_CODES_LEFT, user_id, count);
}
