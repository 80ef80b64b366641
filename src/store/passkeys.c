/* Passkeys and the users' WebAuthn handles: written once for every backend
 * (see driver.h). */
#include <string.h>

#include "store/driver.h"
#include "util/log.h"

/* The handle of user id into out (has: whether it has one). */
static enum store_status handle_of(store *s, store_tx *tx, int64_t id,
                                   unsigned char out[STORE_WEBAUTHN_HANDLE], bool *has)
{
    struct store_query q;
    size_t len = 0;
    enum store_status rc = store__open(s, tx, STMT_USER_WEBAUTHN_HANDLE, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, id);
    rc = store__step_row(&q);
    if (rc == STORE_OK && !store__col_blob(&q, 0, out, STORE_WEBAUTHN_HANDLE, &len)) {
        log_error("store: a stored WebAuthn user handle is longer than gatehouse writes");
        rc = STORE_ERROR;
    }
    *has = rc == STORE_OK && len == STORE_WEBAUTHN_HANDLE;
    if (rc == STORE_OK && len != 0 && len != STORE_WEBAUTHN_HANDLE) {
        log_error("store: a stored WebAuthn user handle is not %d bytes", STORE_WEBAUTHN_HANDLE);
        rc = STORE_ERROR;
    }
    return store__close(&q, rc);
}

enum store_status store_user_webauthn_handle(store *s, store_tx *tx, int64_t id,
                                             const unsigned char fresh[STORE_WEBAUTHN_HANDLE],
                                             unsigned char out[STORE_WEBAUTHN_HANDLE])
{
    struct store_query q;
    bool has = false;
    enum store_status rc = handle_of(s, tx, id, out, &has);

    if (rc != STORE_OK || has)
        return rc;
    /* Set only where none is: of two first passkeys registered at once,
     * the second finds the first's handle below. */
    rc = store__open(s, tx, STMT_USER_WEBAUTHN_HANDLE_SET, &q);
    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, id);
    store__blob(&q, 2, fresh, STORE_WEBAUTHN_HANDLE);
    rc = store__run(&q, false);
    if (rc != STORE_OK)
        return rc;
    rc = handle_of(s, tx, id, out, &has);
    return rc == STORE_OK && !has ? STORE_NOT_FOUND : rc;
}

enum store_status store_passkey_add(store *s, store_tx *tx, const struct store_passkey *p)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_PASSKEY_INSERT, &q);

    if (rc != STORE_OK)
        return rc;
    store__text(&q, 1, p->id);
    store__int(&q, 2, p->user_id);
    store__blob(&q, 3, p->credential_id, p->credential_id_len);
    store__blob(&q, 4, p->public_key, p->public_key_len);
    store__int(&q, 5, p->alg);
    store__int(&q, 6, p->sign_count);
    store__text(&q, 7, p->name);
    store__int(&q, 8, p->created_at);
    return store__run(&q, false);
}

enum store_status store_passkeys_of_user(store *s, store_tx *tx, int64_t user_id,
                                         int (*each)(void *arg, const struct store_passkey *p),
                                         void *arg)
{
    struct store_query q;
    struct store_passkey p;
    bool row = false;
    enum store_status rc = store__open(s, tx, STMT_PASSKEYS_OF_USER, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, user_id);
    while ((rc = store__step(&q, &row)) == STORE_OK && row) {
        memset(&p, 0, sizeof p);
        p.user_id = user_id;
        if (!store__col_text(&q, 0, p.id, sizeof p.id) ||
            !store__col_blob(&q, 1, p.credential_id, sizeof p.credential_id,
                             &p.credential_id_len) ||
            !store__col_text(&q, 2, p.name, sizeof p.name)) {
            log_error("store: a stored passkey is larger than gatehouse writes");
            rc = STORE_ERROR;
            break;
        }
        p.created_at = store__col_int64(&q, 3);
        p.last_used_at = store__col_int64(&q, 4);
        p.cloned_at = store__col_int64(&q, 5);
        if (each(arg, &p) != 0) {
            rc = STORE_ERROR;
            break;
        }
    }
    return store__close(&q, rc);
}

enum store_status store_passkeys_count(store *s, store_tx *tx, int64_t user_id, int64_t *n)
{
    return store__count(s, tx, STMT_PASSKEYS_COUNT, user_id, n);
}

enum store_status store_passkey_delete(store *s, store_tx *tx, int64_t user_id, const char *id)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_PASSKEY_DELETE, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, user_id);
    store__text(&q, 2, id);
    return store__run(&q, true);
}

enum store_status store_passkey_by_credential(store *s, store_tx *tx, const unsigned char *cred,
                                              size_t len, struct store_passkey *out)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_PASSKEY_BY_CREDENTIAL, &q);

    if (rc != STORE_OK)
        return rc;
    store__blob(&q, 1, cred, len);
    memset(out, 0, sizeof *out);
    rc = store__step_row(&q);
    if (rc == STORE_OK) {
        if (!store__col_text(&q, 0, out->id, sizeof out->id) ||
            !store__col_blob(&q, 2, out->public_key, sizeof out->public_key,
                             &out->public_key_len)) {
            log_error("store: a stored passkey is larger than gatehouse writes");
            rc = STORE_ERROR;
        }
        out->user_id = store__col_int64(&q, 1);
        out->alg = (int)store__col_int64(&q, 3);
        out->sign_count = store__col_int64(&q, 4);
        out->cloned_at = store__col_int64(&q, 5);
        if (len <= sizeof out->credential_id) {
            memcpy(out->credential_id, cred, len);
            out->credential_id_len = len;
        }
    }
    return store__close(&q, rc);
}

enum store_status store_passkey_counter(store *s, store_tx *tx, const char *id, int64_t old,
                                        int64_t next, int64_t now)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_PASSKEY_COUNTER, &q);

    if (rc != STORE_OK)
        return rc;
    store__text(&q, 1, id);
    store__int(&q, 2, old);
    store__int(&q, 3, next);
    store__int(&q, 4, now);
    return store__run(&q, true);
}

enum store_status store_passkey_cloned(store *s, store_tx *tx, const char *id, int64_t now)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_PASSKEY_CLONED, &q);

    if (rc != STORE_OK)
        return rc;
    store__text(&q, 1, id);
    store__int(&q, 2, now);
    return store__run(&q, false);
}
