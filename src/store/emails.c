/* Addresses, mailed tokens and password requests: written once for every
 * backend (see driver.h). */
#include <string.h>

#include "store/driver.h"
#include "util/log.h"

enum store_status store_user_email_set(store *s, store_tx *tx, int64_t id, const char *email,
                                       const char *key, bool verified)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_USER_EMAIL_SET, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, id);
    store__text(&q, 2, email);
    store__text(&q, 3, key);
    store__int(&q, 4, verified ? 1 : 0);
    return store__run(&q, true);
}

/* Copies text column col into dst (cap bytes); a value that does not fit
 * was not written by gatehouse. */
static enum store_status text_col(struct store_query *q, int col, char *dst, size_t cap)
{
    if (store__col_text(q, col, dst, cap))
        return STORE_OK;
    log_error("store: a stored address or name is longer than gatehouse writes");
    return STORE_ERROR;
}

enum store_status store_user_email(store *s, store_tx *tx, int64_t id, struct store_email *out)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_USER_EMAIL_OF, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, id);
    memset(out, 0, sizeof *out);
    rc = store__step_row(&q);
    if (rc == STORE_OK) {
        out->user_id = id;
        rc = text_col(&q, 0, out->email, sizeof out->email);
        out->verified = store__col_int64(&q, 1) != 0;
        out->mail_requested_at = store__col_int64(&q, 2);
        if (rc == STORE_OK)
            rc = text_col(&q, 3, out->username, sizeof out->username);
    }
    return store__close(&q, rc);
}

enum store_status store_user_by_email_key(store *s, store_tx *tx, const char *key,
                                          struct store_email *out)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_USER_BY_EMAIL_KEY, &q);

    if (rc != STORE_OK)
        return rc;
    store__text(&q, 1, key);
    memset(out, 0, sizeof *out);
    rc = store__step_row(&q);
    if (rc == STORE_OK) {
        out->user_id = store__col_int64(&q, 0);
        rc = text_col(&q, 1, out->username, sizeof out->username);
        if (rc == STORE_OK)
            rc = text_col(&q, 2, out->email, sizeof out->email);
    }
    return store__close(&q, rc);
}

enum store_status store_user_mail_requested(store *s, store_tx *tx, int64_t id, int64_t now,
                                            int64_t not_after)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_USER_MAIL_REQUESTED, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, id);
    store__int(&q, 2, now);
    store__int(&q, 3, not_after);
    return store__run(&q, true);
}

enum store_status store_user_email_verified_if(store *s, store_tx *tx, int64_t id, const char *key)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_USER_EMAIL_VERIFIED_IF, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, id);
    store__text(&q, 2, key);
    return store__run(&q, false);
}

enum store_status store_email_token_add(store *s, store_tx *tx, const unsigned char hash[32],
                                        int64_t user_id, const char *purpose, const char *email,
                                        int64_t now, int64_t expires_at)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_EMAIL_TOKEN_INSERT, &q);

    if (rc != STORE_OK)
        return rc;
    store__blob(&q, 1, hash, 32);
    store__int(&q, 2, user_id);
    store__text(&q, 3, purpose);
    store__text(&q, 4, email);
    store__int(&q, 5, now);
    store__int(&q, 6, expires_at);
    return store__run(&q, false);
}

enum store_status store_email_tokens_void(store *s, store_tx *tx, int64_t user_id,
                                          const char *purpose)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_EMAIL_TOKENS_VOID, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, user_id);
    store__text(&q, 2, purpose);
    return store__run(&q, false);
}

/* PEEK and CONSUME: the same parameters, the same row. */
static enum store_status token_row(store *s, store_tx *tx, enum store_stmt stmt,
                                   const unsigned char hash[32], const char *purpose, int64_t now,
                                   int64_t *user_id, char *email)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, stmt, &q);

    if (rc != STORE_OK)
        return rc;
    store__blob(&q, 1, hash, 32);
    store__text(&q, 2, purpose);
    store__int(&q, 3, now);
    rc = store__step_row(&q);
    if (rc == STORE_OK) {
        *user_id = store__col_int64(&q, 0);
        rc = text_col(&q, 1, email, STORE_EMAIL_MAX + 1);
    }
    return store__close(&q, rc);
}

enum store_status store_email_token_peek(store *s, store_tx *tx, const unsigned char hash[32],
                                         const char *purpose, int64_t now, int64_t *user_id,
                                         char *email)
{
    return token_row(s, tx, STMT_EMAIL_TOKEN_PEEK, hash, purpose, now, user_id, email);
}

enum store_status store_email_token_use(store *s, store_tx *tx, const unsigned char hash[32],
                                        const char *purpose, int64_t now, int64_t *user_id,
                                        char *email)
{
    return token_row(s, tx, STMT_EMAIL_TOKEN_CONSUME, hash, purpose, now, user_id, email);
}

enum store_status store_email_tokens_purge(store *s, int64_t now, int64_t *deleted)
{
    struct store_query q;
    enum store_status rc = store__open(s, NULL, STMT_EMAIL_TOKENS_PURGE, &q);

    *deleted = 0;
    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, now);
    return store__run_deleting(&q, deleted);
}

enum store_status store_password_request_add(store *s, store_tx *tx, bool by_email,
                                             const char *name, const char *lang, int64_t now,
                                             int64_t *id)
{
    struct store_query q;
    bool row = false;
    enum store_status rc = store__open(s, tx, STMT_PASSWORD_REQUEST_INSERT, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, by_email ? 1 : 0);
    store__text(&q, 2, name);
    store__text(&q, 3, lang);
    store__int(&q, 4, now);
    rc = store__step(&q, &row);
    if (rc == STORE_OK && !row) {
        log_error("store: a password request insert returned no id");
        rc = STORE_ERROR;
    }
    if (rc == STORE_OK)
        *id = store__col_int64(&q, 0);
    return store__close(&q, rc);
}

enum store_status store_password_request_take(store *s, store_tx *tx, int64_t id,
                                              struct store_password_request *out)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_PASSWORD_REQUEST_TAKE, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, id);
    memset(out, 0, sizeof *out);
    rc = store__step_row(&q);
    if (rc == STORE_OK) {
        out->id = id;
        out->by_email = store__col_int64(&q, 0) != 0;
        rc = text_col(&q, 1, out->name, sizeof out->name);
        if (rc == STORE_OK)
            rc = text_col(&q, 2, out->lang, sizeof out->lang);
        out->created_at = store__col_int64(&q, 3);
    }
    return store__close(&q, rc);
}

enum store_status store_password_requests_pending(store *s, int64_t *ids, size_t max, size_t *n)
{
    struct store_query q;
    bool row = false;
    enum store_status rc = store__open(s, NULL, STMT_PASSWORD_REQUESTS_PENDING, &q);

    *n = 0;
    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, (int64_t)max);
    while ((rc = store__step(&q, &row)) == STORE_OK && row && *n < max)
        ids[(*n)++] = store__col_int64(&q, 0);
    return store__close(&q, rc);
}
