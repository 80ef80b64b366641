/* The pending steps of sign-ins and enrolments (mfa_flows): written once
 * for every backend (see driver.h). */
#include "store/driver.h"
#include "util/log.h"

enum store_status store_flow_add(store *s, const unsigned char hash[32], const char *kind,
                                 int64_t user_id, int64_t credential_version,
                                 const unsigned char *challenge, size_t challenge_len, int64_t now,
                                 int64_t expires_at)
{
    struct store_query q;
    enum store_status rc = store__open(s, NULL, STMT_FLOW_INSERT, &q);

    if (rc != STORE_OK)
        return rc;
    store__blob(&q, 1, hash, 32);
    store__text(&q, 2, kind);
    store__int(&q, 3, user_id);
    store__int(&q, 4, credential_version);
    /* A NULL pointer binds SQL NULL in both drivers. */
    store__blob(&q, 5, challenge, challenge != NULL ? challenge_len : 0);
    store__int(&q, 6, now);
    store__int(&q, 7, expires_at);
    return store__run(&q, false);
}

enum store_status store_flow_get(store *s, const unsigned char hash[32], const char *kind,
                                 int64_t now, int max_attempts, struct store_flow *out)
{
    struct store_query q;
    enum store_status rc = store__open(s, NULL, STMT_FLOW_GET, &q);

    if (rc != STORE_OK)
        return rc;
    store__blob(&q, 1, hash, 32);
    store__text(&q, 2, kind);
    store__int(&q, 3, now);
    store__int(&q, 4, max_attempts);
    *out = (struct store_flow){0};
    rc = store__step_row(&q);
    if (rc == STORE_OK) {
        out->user_id = store__col_int64(&q, 0);
        out->credential_version = store__col_int64(&q, 1);
        if (!store__col_blob(&q, 2, out->challenge, sizeof out->challenge, &out->challenge_len)) {
            log_error("store: a stored challenge is longer than gatehouse writes");
            rc = STORE_ERROR;
        }
        out->attempts = (int)store__col_int64(&q, 3);
        out->expires_at = store__col_int64(&q, 4);
    }
    return store__close(&q, rc);
}

enum store_status store_flow_finish(store *s, const unsigned char hash[32], int64_t now,
                                    int max_attempts)
{
    struct store_query q;
    enum store_status rc = store__open(s, NULL, STMT_FLOW_FINISH, &q);

    if (rc != STORE_OK)
        return rc;
    store__blob(&q, 1, hash, 32);
    store__int(&q, 2, now);
    store__int(&q, 3, max_attempts);
    return store__run(&q, true);
}

enum store_status store_flow_fail(store *s, const unsigned char hash[32], int64_t now,
                                  int max_attempts, int *attempts)
{
    struct store_query q;
    enum store_status rc = store__open(s, NULL, STMT_FLOW_FAIL, &q);

    *attempts = 0;
    if (rc != STORE_OK)
        return rc;
    store__blob(&q, 1, hash, 32);
    store__int(&q, 2, now);
    store__int(&q, 3, max_attempts);
    rc = store__step_row(&q);
    if (rc == STORE_OK)
        *attempts = (int)store__col_int64(&q, 0);
    return store__close(&q, rc);
}

enum store_status store_flows_purge(store *s, int64_t now, int64_t *deleted)
{
    struct store_query q;
    enum store_status rc = store__open(s, NULL, STMT_FLOWS_PURGE, &q);

    *deleted = 0;
    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, now);
    return store__run_deleting(&q, deleted);
}
