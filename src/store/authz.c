/* Authorization requests waiting for their user (oidc_requests): written
 * once for every backend (see driver.h). */
#include "store/driver.h"
#include "util/log.h"

enum store_status store_authz_add(store *s, const unsigned char hash[32], const char *request,
                                  int64_t now, int64_t expires_at)
{
    struct store_query q;
    enum store_status rc = store__open(s, NULL, STMT_AUTHZ_INSERT, &q);

    if (rc != STORE_OK)
        return rc;
    store__blob(&q, 1, hash, 32);
    store__text(&q, 2, request);
    store__int(&q, 3, now);
    store__int(&q, 4, expires_at);
    return store__run(&q, false);
}

enum store_status store_authz_get(store *s, const unsigned char hash[32], int64_t now,
                                  char *request, size_t cap, int64_t *created_at)
{
    struct store_query q;
    enum store_status rc = store__open(s, NULL, STMT_AUTHZ_GET, &q);

    if (rc != STORE_OK)
        return rc;
    store__blob(&q, 1, hash, 32);
    store__int(&q, 2, now);
    rc = store__step_row(&q);
    if (rc == STORE_OK) {
        if (!store__col_text(&q, 0, request, cap)) {
            log_error("store: a stored authorization request is longer than gatehouse writes");
            rc = STORE_ERROR;
        }
        *created_at = store__col_int64(&q, 1);
    }
    return store__close(&q, rc);
}

enum store_status store_authz_use(store *s, const unsigned char hash[32], int64_t now)
{
    struct store_query q;
    enum store_status rc = store__open(s, NULL, STMT_AUTHZ_USE, &q);

    if (rc != STORE_OK)
        return rc;
    store__blob(&q, 1, hash, 32);
    store__int(&q, 2, now);
    return store__run(&q, true);
}

enum store_status store_authz_purge(store *s, int64_t now, int64_t *deleted)
{
    return store__purge(s, STMT_AUTHZ_PURGE, now, deleted);
}
