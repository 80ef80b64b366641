/* Revocations: the record every instance loads its revocation set from,
 * written once for every backend (see driver.h). */
#include <stdio.h>

#include "store/driver.h"

enum store_status store_revocation_add(store *s, store_tx *tx, const char *sid, int64_t until)
{
    struct store_query q;
    bool row = false;
    char payload[STORE_ID_MAX + 24];
    enum store_status rc = store__open(s, tx, STMT_REVOCATION_INSERT, &q);

    if (rc != STORE_OK)
        return rc;
    store__text(&q, 1, sid);
    store__int(&q, 2, until);
    rc = store__close(&q, store__step(&q, &row));
    /* "<until> <sid>": what store_watch's listeners parse. */
    snprintf(payload, sizeof payload, "%lld %s", (long long)until, sid);
    if (rc == STORE_OK)
        rc = store__notify(s, tx, payload);
    return rc;
}

enum store_status store_revocations_live(store *s, int64_t now,
                                         void (*each)(void *arg, const char *sid, int64_t until),
                                         void *arg)
{
    struct store_query q;
    char sid[STORE_ID_MAX + 1];
    bool row = false;
    enum store_status rc = store__open(s, NULL, STMT_REVOCATIONS_LIVE, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, now);
    while ((rc = store__step(&q, &row)) == STORE_OK && row)
        if (store__col_text(&q, 0, sid, sizeof sid))
            each(arg, sid, store__col_int64(&q, 1));
    return store__close(&q, rc);
}

enum store_status store_revocations_purge(store *s, int64_t now, int64_t *deleted)
{
    struct store_query q;
    enum store_status rc = store__open(s, NULL, STMT_REVOCATIONS_PURGE, &q);

    *deleted = 0;
    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, now);
    return store__run_deleting(&q, deleted);
}
