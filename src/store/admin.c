/* Administration: the admin API's view of users, roles, the disabled flag,
 * second factors removed by an admin, and API keys; written once for every
 * backend (see driver.h). */
#include <string.h>

#include "store/driver.h"
#include "util/log.h"

/* Reads an ADMIN_USER_COLS row into out. */
static enum store_status admin_row(struct store_query *q, struct store_admin_user *out)
{
    memset(out, 0, sizeof *out);
    out->id = store__col_int64(q, 0);
    out->email_verified = store__col_int64(q, 3) != 0;
    out->disabled = store__col_int64(q, 5) != 0;
    out->created_at = store__col_int64(q, 6);
    out->totp = store__col_int64(q, 7) != 0;
    out->passkeys = store__col_int64(q, 8);
    if (!store__col_text(q, 1, out->username, sizeof out->username) ||
        !store__col_text(q, 2, out->email, sizeof out->email) ||
        !store__col_text(q, 4, out->roles, sizeof out->roles)) {
        log_error("store: user %lld has a field longer than gatehouse stores", (long long)out->id);
        return STORE_ERROR;
    }
    return STORE_OK;
}

/* '%' + q with LIKE's wildcards and the escape '!' escaped, ASCII
 * lower-cased + '%', into pat (2 * strlen(q) + 3 bytes). */
static void like_pattern(const char *q, char *pat)
{
    char *p = pat;

    *p++ = '%';
    for (; *q != '\0'; q++) {
        char c = *q;
        if (c == '%' || c == '_' || c == '!')
            *p++ = '!';
        *p++ = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    *p++ = '%';
    *p = '\0';
}

enum store_status store_users_page(store *s, int64_t after, const char *q, int64_t limit,
                                   void (*each)(void *arg, const struct store_admin_user *u),
                                   void *arg, bool *more)
{
    struct store_query sq;
    struct store_admin_user u;
    char pat[2 * 256 + 3];
    bool row = false;
    int64_t n = 0;

    *more = false;
    if (strlen(q) > 256)
        return STORE_ERROR;
    like_pattern(q, pat);
    enum store_status rc = store__open(s, NULL, STMT_USERS_PAGE, &sq);
    if (rc != STORE_OK)
        return rc;
    store__int(&sq, 1, after);
    store__int(&sq, 2, q[0] != '\0');
    store__text(&sq, 3, pat);
    store__int(&sq, 4, limit + 1); /* one more: is there a next page? */
    while ((rc = store__step(&sq, &row)) == STORE_OK && row) {
        if (n == limit) {
            *more = true;
            break;
        }
        if ((rc = admin_row(&sq, &u)) != STORE_OK)
            break;
        each(arg, &u);
        n++;
    }
    return store__close(&sq, rc);
}

enum store_status store_admin_user(store *s, store_tx *tx, int64_t id, struct store_admin_user *out)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_ADMIN_USER, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, id);
    rc = store__step_row(&q);
    if (rc == STORE_OK)
        rc = admin_row(&q, out);
    return store__close(&q, rc);
}

enum store_status store_user_set_roles(store *s, store_tx *tx, int64_t id, const char *roles)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_USER_SET_ROLES, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, id);
    store__text(&q, 2, roles);
    return store__run(&q, true);
}

enum store_status store_user_lock(store *s, store_tx *tx, int64_t id)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_USER_LOCK, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, id);
    return store__run(&q, true);
}

enum store_status store_user_set_disabled(store *s, store_tx *tx, int64_t id, bool disabled)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_USER_SET_DISABLED, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, id);
    store__int(&q, 2, disabled ? 1 : 0);
    return store__run(&q, true);
}

static enum store_status delete_of_user(store *s, store_tx *tx, enum store_stmt stmt, int64_t id)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, stmt, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, id);
    return store__run(&q, false);
}

enum store_status store_user_mfa_clear(store *s, store_tx *tx, int64_t id)
{
    enum store_status rc = delete_of_user(s, tx, STMT_USER_TOTP_CLEAR, id);

    if (rc == STORE_OK)
        rc = delete_of_user(s, tx, STMT_USER_RECOVERY_CLEAR, id);
    if (rc == STORE_OK)
        rc = delete_of_user(s, tx, STMT_USER_PASSKEYS_CLEAR, id);
    return rc;
}

enum store_status store_apikey_create(store *s, store_tx *tx, const struct store_apikey *k,
                                      const unsigned char hash[32])
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_APIKEY_INSERT, &q);

    if (rc != STORE_OK)
        return rc;
    store__text(&q, 1, k->id);
    store__blob(&q, 2, hash, 32);
    store__text(&q, 3, k->name);
    store__text(&q, 4, k->roles);
    store__int(&q, 5, k->created_at);
    return store__run(&q, true);
}

/* Reads id, name, roles, created_at (columns 0..3) into out. */
static enum store_status key_row(struct store_query *q, struct store_apikey *out)
{
    out->created_at = store__col_int64(q, 3);
    if (!store__col_text(q, 0, out->id, sizeof out->id) ||
        !store__col_text(q, 1, out->name, sizeof out->name) ||
        !store__col_text(q, 2, out->roles, sizeof out->roles)) {
        log_error("store: an API key has a field longer than gatehouse stores");
        return STORE_ERROR;
    }
    return STORE_OK;
}

enum store_status store_apikey_use(store *s, const unsigned char hash[32], int64_t now,
                                   struct store_apikey *out)
{
    struct store_query q;
    enum store_status rc = store__open(s, NULL, STMT_APIKEY_USE, &q);

    if (rc != STORE_OK)
        return rc;
    memset(out, 0, sizeof *out);
    store__blob(&q, 1, hash, 32);
    store__int(&q, 2, now);
    rc = store__step_row(&q);
    if (rc == STORE_OK) {
        rc = key_row(&q, out);
        out->last_used_at = store__col_int64(&q, 4);
    }
    return store__close(&q, rc);
}

enum store_status
store_apikeys_list(store *s, void (*each)(void *arg, const struct store_apikey *k), void *arg)
{
    struct store_query q;
    struct store_apikey k;
    bool row = false;
    enum store_status rc = store__open(s, NULL, STMT_APIKEYS_LIST, &q);

    if (rc != STORE_OK)
        return rc;
    while ((rc = store__step(&q, &row)) == STORE_OK && row) {
        memset(&k, 0, sizeof k);
        if ((rc = key_row(&q, &k)) != STORE_OK)
            break;
        k.last_used_at = store__col_int64(&q, 4);
        k.revoked_at = store__col_int64(&q, 5);
        each(arg, &k);
    }
    return store__close(&q, rc);
}

enum store_status store_apikey_revoke(store *s, store_tx *tx, const char *id, int64_t now)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_APIKEY_REVOKE, &q);

    if (rc != STORE_OK)
        return rc;
    store__text(&q, 1, id);
    store__int(&q, 2, now);
    return store__run(&q, true);
}

enum store_status store_user_sessions(store *s, int64_t id, int64_t now,
                                      void (*each)(void *arg, const struct store_session_info *i),
                                      void *arg)
{
    struct store_query q;
    struct store_session_info i;
    bool row = false;
    enum store_status rc = store__open(s, NULL, STMT_SESSIONS_OF_USER_LIVE, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, id);
    store__int(&q, 2, now);
    while ((rc = store__step(&q, &row)) == STORE_OK && row) {
        memset(&i, 0, sizeof i);
        i.created_at = store__col_int64(&q, 1);
        i.last_used_at = store__col_int64(&q, 2);
        i.expires_at = store__col_int64(&q, 3);
        if (!store__col_text(&q, 0, i.id, sizeof i.id) ||
            !store__col_text(&q, 4, i.amr, sizeof i.amr) ||
            !store__col_text(&q, 5, i.client_id, sizeof i.client_id)) {
            log_error("store: a session of user %lld has a field longer than gatehouse stores",
                      (long long)id);
            rc = STORE_ERROR;
            break;
        }
        each(arg, &i);
    }
    return store__close(&q, rc);
}
