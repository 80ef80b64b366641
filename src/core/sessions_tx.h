#ifndef GH_CORE_SESSIONS_TX_H
#define GH_CORE_SESSIONS_TX_H

#include "core/sessions.h"
#include "store/store.h"
#include "util/bearer.h"

/* The parts of core/sessions.h that take a store transaction, for core's
 * own files: revoking sessions together with another write (a password
 * change, a deletion). The layers above call sessions_logout,
 * users_change_password and users_delete instead. */

/* The ids of sessions revoked inside a transaction, to be put in the
 * revocation set once it has committed (sessions_batch_apply). */
struct sessions_batch {
    size_t count, cap;
    char (*sid)[STORE_ID_MAX + 1];
    int64_t until;
};

/* Inside tx: revokes the sessions of user_id chosen by scope (sid: the
 * caller's session) and records each revocation (store_revocation_add,
 * which other instances hear of at commit). Their ids go into *batch. */
enum outcome sessions_revoke_tx(const struct sessions_deps *d, store_tx *tx, int64_t user_id,
                                const char *sid, enum sessions_scope scope,
                                struct sessions_batch *batch);

/* In one transaction: revokes the sessions of user_id chosen by scope (sid:
 * the caller's session, for SESSIONS_LOCAL and SESSIONS_OTHERS), runs
 * also(tx, arg) when not NULL (the write that goes with them: a new password
 * hash, the deletion of the user), and commits; then puts the revoked
 * sessions in the set. With also, the user's credentials count as changed
 * (store_user_credentials_changed) before anything else, so that no login
 * racing the change keeps a session. A user that is gone (STORE_NOT_FOUND)
 * is OUTCOME_TOKEN_INVALID and leaves everything as it was. */
enum outcome sessions_revoke_with(const struct sessions_deps *d, int64_t user_id, const char *sid,
                                  enum sessions_scope scope,
                                  enum store_status (*also)(store_tx *tx, void *arg), void *arg);

/* After the commit of the transaction that filled b: every id in it joins
 * the revocation set, so this instance refuses the tokens at once. */
void sessions_batch_apply(const struct sessions_deps *d, const struct sessions_batch *b);
void sessions_batch_free(struct sessions_batch *b);
/* Adds sid to b: 0, or -1 when out of memory. */
int sessions_batch_add(struct sessions_batch *b, const char *sid);

/* The rotation of a refresh token (len bytes) at now, with sessions_refresh's
 * rules: the new token into refresh_token, the session (after the
 * rotation) into *sess and its user into *u (no password hash). The
 * session must be of client_id ("": none, a login's or a browser's);
 * another's is OUTCOME_TOKEN_INVALID with nothing changed. A rotated-away
 * token presented again revokes its session (OUTCOME_TOKEN_REUSED), whoever
 * presents it. */
enum outcome sessions_rotate(const struct sessions_deps *d, const char *token, size_t len,
                             const char *client_id, int64_t now, char refresh_token[BEARER_LEN + 1],
                             struct store_session *sess, struct store_user *u);

/* How long a session revoked at now stays in the revocation set. */
int64_t sessions_revoked_until(const struct sessions_deps *d, int64_t now);

#endif
