/* The OpenID Connect provider's rows (core/oidc.h): clients, codes,
 * consents, and the parts of sessions a client or a browser's single
 * sign-on adds. Written once for every backend (see driver.h). */
#include <string.h>

#include "store/driver.h"
#include "util/log.h"

/* The row of an OIDC_CLIENT_GET or OIDC_CLIENTS_LIST into c (pointers into
 * the query's current row). */
static bool client_row(struct store_query *q, struct store_oidc_client *c)
{
    size_t len = 0;

    memset(c, 0, sizeof *c);
    c->id = q->s->drv->column_text(q->c, 0);
    c->name = q->s->drv->column_text(q->c, 1);
    if (!store__col_blob(q, 2, c->secret_hash, sizeof c->secret_hash, &len) ||
        (len != 0 && len != sizeof c->secret_hash))
        return false;
    c->has_secret = len == sizeof c->secret_hash;
    c->redirect_uris = q->s->drv->column_text(q->c, 3);
    c->post_logout_uris = q->s->drv->column_text(q->c, 4);
    c->scopes = q->s->drv->column_text(q->c, 5);
    c->first_party = store__col_int64(q, 6) != 0;
    c->created_at = store__col_int64(q, 7);
    return c->id != NULL && c->name != NULL && c->redirect_uris != NULL &&
           c->post_logout_uris != NULL && c->scopes != NULL;
}

enum store_status store_oidc_client_add(store *s, const struct store_oidc_client *c)
{
    struct store_query q;
    enum store_status rc = store__open(s, NULL, STMT_OIDC_CLIENT_INSERT, &q);

    if (rc != STORE_OK)
        return rc;
    store__text(&q, 1, c->id);
    store__text(&q, 2, c->name);
    /* A public client has no secret: SQL NULL. */
    store__blob(&q, 3, c->has_secret ? c->secret_hash : NULL,
                c->has_secret ? sizeof c->secret_hash : 0);
    store__text(&q, 4, c->redirect_uris);
    store__text(&q, 5, c->post_logout_uris);
    store__text(&q, 6, c->scopes);
    store__int(&q, 7, c->first_party ? 1 : 0);
    store__int(&q, 8, c->created_at);
    return store__run(&q, false);
}

static enum store_status each_client(struct store_query *q, bool need_one,
                                     int (*each)(void *arg, const struct store_oidc_client *c),
                                     void *arg)
{
    struct store_oidc_client c;
    bool row = false, seen = false;
    enum store_status rc;

    while ((rc = store__step(q, &row)) == STORE_OK && row) {
        seen = true;
        if (!client_row(q, &c)) {
            log_error("store: a client row is not one gatehouse writes");
            rc = STORE_ERROR;
            break;
        }
        if (each(arg, &c) != 0) {
            rc = STORE_ERROR;
            break;
        }
    }
    if (rc == STORE_OK && need_one && !seen)
        rc = STORE_NOT_FOUND;
    return store__close(q, rc);
}

enum store_status store_oidc_client_get(store *s, const char *id,
                                        int (*each)(void *arg, const struct store_oidc_client *c),
                                        void *arg)
{
    struct store_query q;
    enum store_status rc = store__open(s, NULL, STMT_OIDC_CLIENT_GET, &q);

    if (rc != STORE_OK)
        return rc;
    store__text(&q, 1, id);
    return each_client(&q, true, each, arg);
}

enum store_status store_oidc_clients_list(store *s,
                                          int (*each)(void *arg, const struct store_oidc_client *c),
                                          void *arg)
{
    struct store_query q;
    enum store_status rc = store__open(s, NULL, STMT_OIDC_CLIENTS_LIST, &q);

    if (rc != STORE_OK)
        return rc;
    return each_client(&q, false, each, arg);
}

enum store_status store_oidc_clients_any(store *s, bool *any)
{
    struct store_query q;
    enum store_status rc = store__open(s, NULL, STMT_OIDC_CLIENTS_ANY, &q);

    *any = false;
    if (rc != STORE_OK)
        return rc;
    rc = store__step_row(&q);
    if (rc == STORE_OK)
        *any = store__col_int64(&q, 0) > 0;
    return store__close(&q, rc);
}

enum store_status store_oidc_client_delete(store *s, store_tx *tx, const char *id)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_OIDC_CLIENT_DELETE, &q);

    if (rc != STORE_OK)
        return rc;
    store__text(&q, 1, id);
    return store__run(&q, true);
}

/* Runs an UPDATE ... RETURNING id that revokes sessions, calling each. */
static enum store_status revoke_returning(store *s, store_tx *tx, enum store_stmt stmt,
                                          const char *key, int64_t now,
                                          void (*each)(void *arg, const char *sid), void *arg)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, stmt, &q);

    if (rc != STORE_OK)
        return rc;
    store__text(&q, 1, key);
    store__int(&q, 2, now);
    return store__each_sid(&q, each, arg);
}

enum store_status store_sessions_revoke_of_client(store *s, store_tx *tx, const char *client_id,
                                                  int64_t now,
                                                  void (*each)(void *arg, const char *sid),
                                                  void *arg)
{
    return revoke_returning(s, tx, STMT_SESSIONS_REVOKE_OF_CLIENT, client_id, now, each, arg);
}

enum store_status store_sessions_revoke_of_sso(store *s, store_tx *tx, const char *sid, int64_t now,
                                               void (*each)(void *arg, const char *sid), void *arg)
{
    return revoke_returning(s, tx, STMT_SESSIONS_REVOKE_OF_SSO, sid, now, each, arg);
}

enum store_status store_session_create_client(store *s, store_tx *tx,
                                              const struct store_session *sess)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_SESSION_INSERT_CLIENT, &q);

    if (rc != STORE_OK)
        return rc;
    store__text(&q, 1, sess->id);
    store__int(&q, 2, sess->user_id);
    store__blob(&q, 3, sess->refresh_hash, sizeof sess->refresh_hash);
    store__int(&q, 4, sess->created_at);
    store__int(&q, 5, sess->expires_at);
    store__text(&q, 6, sess->amr[0] != '\0' ? sess->amr : "pwd");
    store__text(&q, 7, sess->client_id);
    store__text(&q, 8, sess->scope);
    store__int(&q, 9, sess->auth_time);
    store__text(&q, 10, sess->sso_session[0] != '\0' ? sess->sso_session : NULL);
    return store__run(&q, false);
}

enum store_status store_session_sso_bind(store *s, const char *sid, const unsigned char hash[32])
{
    struct store_query q;
    enum store_status rc = store__open(s, NULL, STMT_SESSION_SSO_BIND, &q);

    if (rc != STORE_OK)
        return rc;
    store__text(&q, 1, sid);
    store__blob(&q, 2, hash, 32);
    return store__run(&q, true);
}

enum store_status store_session_by_sso(store *s, const unsigned char hash[32], int64_t now,
                                       struct store_session *out,
                                       char username[STORE_USERNAME_MAX + 1])
{
    struct store_query q;
    enum store_status rc = store__open(s, NULL, STMT_SESSION_BY_SSO, &q);

    if (rc != STORE_OK)
        return rc;
    store__blob(&q, 1, hash, 32);
    store__int(&q, 2, now);
    rc = store__step_row(&q);
    if (rc == STORE_OK) {
        memset(out, 0, sizeof *out);
        out->user_id = store__col_int64(&q, 1);
        out->created_at = store__col_int64(&q, 2);
        if (!store__col_text(&q, 0, out->id, sizeof out->id) ||
            !store__col_text(&q, 3, out->amr, sizeof out->amr) ||
            !store__col_text(&q, 4, username, STORE_USERNAME_MAX + 1))
            rc = STORE_ERROR;
    }
    return store__close(&q, rc);
}

enum store_status store_session_by_refresh(store *s, const unsigned char hash[32],
                                           char sid[STORE_ID_MAX + 1],
                                           char client_id[STORE_ID_MAX + 1])
{
    struct store_query q;
    enum store_status rc = store__open(s, NULL, STMT_SESSION_BY_REFRESH, &q);

    if (rc != STORE_OK)
        return rc;
    store__blob(&q, 1, hash, 32);
    rc = store__step_row(&q);
    if (rc == STORE_OK && (!store__col_text(&q, 0, sid, STORE_ID_MAX + 1) ||
                           !store__col_text(&q, 1, client_id, STORE_ID_MAX + 1)))
        rc = STORE_ERROR;
    return store__close(&q, rc);
}

enum store_status store_session_client_of(store *s, store_tx *tx, const char *sid,
                                          char client_id[STORE_ID_MAX + 1])
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_SESSION_CLIENT_OF, &q);

    if (rc != STORE_OK)
        return rc;
    store__text(&q, 1, sid);
    rc = store__step_row(&q);
    if (rc == STORE_OK && !store__col_text(&q, 0, client_id, STORE_ID_MAX + 1))
        rc = STORE_ERROR;
    return store__close(&q, rc);
}

enum store_status store_oidc_code_add(store *s, const unsigned char hash[32],
                                      const struct store_oidc_code *c, int64_t now,
                                      int64_t expires_at)
{
    struct store_query q;
    enum store_status rc = store__open(s, NULL, STMT_OIDC_CODE_INSERT, &q);

    if (rc != STORE_OK)
        return rc;
    store__blob(&q, 1, hash, 32);
    store__text(&q, 2, c->client_id);
    store__int(&q, 3, c->user_id);
    store__text(&q, 4, c->sso_session);
    store__text(&q, 5, c->redirect_uri);
    store__text(&q, 6, c->scope);
    store__text(&q, 7, c->nonce[0] != '\0' ? c->nonce : NULL);
    store__text(&q, 8, c->code_challenge[0] != '\0' ? c->code_challenge : NULL);
    store__int(&q, 9, c->auth_time);
    store__text(&q, 10, c->amr);
    store__int(&q, 11, now);
    store__int(&q, 12, expires_at);
    /* A foreign key (the client or the user gone meanwhile): STORE_NOT_FOUND. */
    return store__run(&q, false);
}

enum store_status store_oidc_code_use(store *s, store_tx *tx, const unsigned char hash[32],
                                      int64_t now, struct store_oidc_code *out)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_OIDC_CODE_USE, &q);

    if (rc != STORE_OK)
        return rc;
    store__blob(&q, 1, hash, 32);
    store__int(&q, 2, now);
    rc = store__step_row(&q);
    if (rc == STORE_OK) {
        memset(out, 0, sizeof *out);
        out->user_id = store__col_int64(&q, 1);
        out->auth_time = store__col_int64(&q, 7);
        if (!store__col_text(&q, 0, out->client_id, sizeof out->client_id) ||
            !store__col_text(&q, 2, out->sso_session, sizeof out->sso_session) ||
            !store__col_text(&q, 3, out->redirect_uri, sizeof out->redirect_uri) ||
            !store__col_text(&q, 4, out->scope, sizeof out->scope) ||
            !store__col_text(&q, 5, out->nonce, sizeof out->nonce) ||
            !store__col_text(&q, 6, out->code_challenge, sizeof out->code_challenge) ||
            !store__col_text(&q, 8, out->amr, sizeof out->amr)) {
            log_error("store: a code row is not one gatehouse writes");
            rc = STORE_ERROR;
        }
    }
    return store__close(&q, rc);
}

enum store_status store_oidc_code_issued(store *s, store_tx *tx, const unsigned char hash[32],
                                         const char *sid)
{
    struct store_query q;
    enum store_status rc = store__open(s, tx, STMT_OIDC_CODE_ISSUED, &q);

    if (rc != STORE_OK)
        return rc;
    store__blob(&q, 1, hash, 32);
    store__text(&q, 2, sid);
    return store__run(&q, true);
}

enum store_status store_oidc_code_used_before(store *s, const unsigned char hash[32],
                                              char sid[STORE_ID_MAX + 1])
{
    struct store_query q;
    enum store_status rc = store__open(s, NULL, STMT_OIDC_CODE_USED_BEFORE, &q);

    if (rc != STORE_OK)
        return rc;
    store__blob(&q, 1, hash, 32);
    rc = store__step_row(&q);
    if (rc == STORE_OK && !store__col_text(&q, 0, sid, STORE_ID_MAX + 1))
        rc = STORE_ERROR;
    return store__close(&q, rc);
}

enum store_status store_oidc_codes_purge(store *s, int64_t before, int64_t *deleted)
{
    return store__purge(s, STMT_OIDC_CODES_PURGE, before, deleted);
}

enum store_status store_oidc_consent_of(store *s, int64_t user_id, const char *client_id,
                                        char scope[STORE_SCOPE_MAX + 1])
{
    struct store_query q;
    enum store_status rc = store__open(s, NULL, STMT_OIDC_CONSENT_OF, &q);

    scope[0] = '\0';
    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, user_id);
    store__text(&q, 2, client_id);
    rc = store__step_row(&q);
    if (rc == STORE_OK && !store__col_text(&q, 0, scope, STORE_SCOPE_MAX + 1))
        rc = STORE_ERROR;
    if (rc == STORE_NOT_FOUND)
        rc = STORE_OK;
    return store__close(&q, rc);
}

enum store_status store_oidc_consent_put(store *s, int64_t user_id, const char *client_id,
                                         const char *scope, int64_t now)
{
    struct store_query q;
    enum store_status rc = store__open(s, NULL, STMT_OIDC_CONSENT_PUT, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, user_id);
    store__text(&q, 2, client_id);
    store__text(&q, 3, scope);
    store__int(&q, 4, now);
    return store__run(&q, false);
}
