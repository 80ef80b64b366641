#include "core/sessions.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/outcome_store.h"
#include "core/sessions_tx.h"
#include "util/b64.h"
#include "util/bearer.h"
#include "util/log.h"
#include "util/numfmt.h"
#include "util/timefmt.h"

_Static_assert(JWT_AMR_TEXT_MAX <= STORE_AMR_MAX, "a session stores any amr");

void sessions_tokens_free(struct session_tokens *t)
{
    if (t->access_token != NULL) {
        sodium_memzero(t->access_token, strlen(t->access_token));
        free(t->access_token);
        t->access_token = NULL;
    }
    sodium_memzero(t->refresh_token, sizeof t->refresh_token);
}

/* Refresh tokens are bearer tokens (util/bearer.h): only their SHA-256 is
 * stored, so a copy of the database lets no one refresh. */
_Static_assert(sizeof((struct session_tokens *)0)->refresh_token > BEARER_LEN,
               "a refresh token fits its buffer");

/* Signs the access token of session sid for user u as read now (its roles,
 * its address when confirmed), signed in by the methods amr, into out. */
static enum outcome issue_access(const struct sessions_deps *d, const struct store_user *u,
                                 const char *sid, unsigned amr, int64_t now,
                                 struct session_tokens *out)
{
    struct jwt_claims c = {0};

    c.user_id = u->id;
    c.amr = amr;
    snprintf(c.username, sizeof c.username, "%s", u->username);
    snprintf(c.roles, sizeof c.roles, "%s", u->roles);
    if (u->email_verified)
        snprintf(c.email, sizeof c.email, "%s", u->email);
    snprintf(c.sid, sizeof c.sid, "%s", sid);
    c.iat = now;
    c.exp = now + d->access_ttl;
    const keyset_gen *g = keyset_get(d->keys);
    out->access_token = jwt_sign(keyset_jwt(g), &c);
    keyset_put(g);
    if (out->access_token == NULL)
        return OUTCOME_ERROR;
    out->expires_in = d->access_ttl;
    return OUTCOME_OK;
}

enum outcome sessions_open(const struct sessions_deps *d, const struct user *u, unsigned amr,
                           struct session_tokens *out)
{
    unsigned char sid_raw[16];
    struct store_session s = {0};
    int64_t now = timefmt_now();

    memset(out, 0, sizeof *out);
    if (amr == 0 || (amr & ~(unsigned)JWT_AMR_ALL) != 0) {
        log_error("sessions: a sign-in by no known method (amr %#x)", amr);
        return OUTCOME_ERROR;
    }
    jwt_amr_text(amr, s.amr);
    randombytes_buf(sid_raw, sizeof sid_raw);
    b64url_encode(s.id, sid_raw, sizeof sid_raw);
    bearer_new(out->refresh_token, s.refresh_hash);
    s.user_id = u->id;
    s.created_at = now;
    s.expires_at = now + d->refresh_ttl;
    /* The credentials must still be those checked: a password change or a
     * deletion that committed since refuses the login, as a wrong password
     * would (store_user_login). */
    store_tx tx;
    struct store_user su = {0};
    enum store_status st = store_begin(d->store, &tx);
    if (st == STORE_OK) {
        st = store_user_login(d->store, &tx, u->id, u->credential_version, now);
        /* The row as it is now, held by the UPDATE above: its roles go into
         * the token, and a user disabled since the check is refused as a
         * wrong password would be. */
        if (st == STORE_OK)
            st = store_user_by_id(d->store, &tx, u->id, &su);
        sodium_memzero(su.password_hash, sizeof su.password_hash);
        if (st == STORE_OK && su.disabled)
            st = STORE_NOT_FOUND;
        if (st == STORE_OK)
            st = store_session_create(d->store, &tx, &s);
        /* The sign-in's audit event, when its caller holds one, commits
         * with the session. */
        if (st == STORE_OK)
            st = store_audit_held_add(d->store, &tx, u->id);
        if (st == STORE_OK)
            st = store_commit(&tx);
        else
            store_rollback(&tx);
    }
    enum outcome o = st == STORE_OK ? issue_access(d, &su, s.id, amr, now, out)
                                    : outcome_from_store(st, OUTCOME_BAD_CREDENTIALS);
    if (o != OUTCOME_OK)
        sessions_tokens_free(out);
    return o;
}

/* How long a session revoked now stays in the revocation set: until every
 * access token issued before now has expired, leeway included. */
static int64_t revoked_until(const struct sessions_deps *d, int64_t now)
{
    return now + d->access_ttl + d->leeway + 1;
}

int64_t sessions_revoked_until(const struct sessions_deps *d, int64_t now)
{
    return revoked_until(d, now);
}

static int batch_add(struct sessions_batch *b, const char *sid)
{
    if (b->count == b->cap) {
        size_t cap = b->cap != 0 ? b->cap * 2 : 8;
        void *p = realloc(b->sid, cap * sizeof *b->sid);
        if (p == NULL)
            return -1;
        b->sid = p;
        b->cap = cap;
    }
    snprintf(b->sid[b->count++], sizeof b->sid[0], "%s", sid);
    return 0;
}

int sessions_batch_add(struct sessions_batch *b, const char *sid)
{
    return batch_add(b, sid);
}

void sessions_batch_free(struct sessions_batch *b)
{
    free(b->sid);
    memset(b, 0, sizeof *b);
}

void sessions_batch_apply(const struct sessions_deps *d, const struct sessions_batch *b)
{
    for (size_t i = 0; d->revoked != NULL && i < b->count; i++)
        revset_add(d->revoked, b->sid[i], strlen(b->sid[i]), b->until);
}

struct collect {
    struct sessions_batch *batch;
    int failed;
};

static void collect_sid(void *arg, const char *sid)
{
    struct collect *c = arg;

    if (batch_add(c->batch, sid) != 0)
        c->failed = 1;
}

enum outcome sessions_revoke_tx(const struct sessions_deps *d, store_tx *tx, int64_t user_id,
                                const char *sid, enum sessions_scope scope,
                                struct sessions_batch *batch)
{
    int64_t now = timefmt_now();
    struct collect c = {batch, 0};
    enum store_status st = STORE_OK;

    batch->until = revoked_until(d, now);
    if (scope == SESSIONS_LOCAL) {
        /* Already revoked, or purged: its tokens are refused all the same
         * once the revocation is recorded. */
        st = store_session_revoke(d->store, tx, sid, now);
        if (st == STORE_NOT_FOUND)
            st = STORE_OK;
        if (st == STORE_OK && batch_add(batch, sid) != 0)
            c.failed = 1;
    } else {
        st = store_sessions_revoke_of_user(
            d->store, tx, user_id, scope == SESSIONS_OTHERS ? sid : NULL, now, collect_sid, &c);
    }
    if (c.failed)
        return OUTCOME_ERROR;
    for (size_t i = 0; st == STORE_OK && i < batch->count; i++)
        st = store_revocation_add(d->store, tx, batch->sid[i], batch->until);
    return outcome_from_store(st, OUTCOME_ERROR);
}

enum outcome sessions_revoke_with(const struct sessions_deps *d, int64_t user_id, const char *sid,
                                  enum sessions_scope scope,
                                  enum store_status (*also)(store_tx *tx, void *arg), void *arg)
{
    struct sessions_batch batch = {0};
    store_tx tx;
    enum store_status st = store_begin(d->store, &tx);

    if (st != STORE_OK)
        return outcome_from_store(st, OUTCOME_ERROR);
    /* A change of credentials first takes the user's row: a login that
     * checked the old password then waits for this commit and is refused,
     * or has committed its session already and the revocations below see
     * it. Revoking first would miss a session committed in between. */
    enum outcome o =
        also != NULL ? outcome_from_store(store_user_credentials_changed(d->store, &tx, user_id),
                                          OUTCOME_TOKEN_INVALID)
                     : OUTCOME_OK;
    if (o == OUTCOME_OK)
        o = sessions_revoke_tx(d, &tx, user_id, sid, scope, &batch);
    if (o == OUTCOME_OK && also != NULL)
        o = outcome_from_store(also(&tx, arg), OUTCOME_TOKEN_INVALID);
    /* The event held for it (logout, password change, deletion...). */
    if (o == OUTCOME_OK)
        o = outcome_from_store(store_audit_held_add(d->store, &tx, user_id), OUTCOME_ERROR);
    if (o == OUTCOME_OK)
        o = outcome_from_store(store_commit(&tx), OUTCOME_ERROR);
    else
        store_rollback(&tx);
    if (o == OUTCOME_OK)
        sessions_batch_apply(d, &batch);
    sessions_batch_free(&batch);
    return o;
}

enum outcome sessions_logout(const struct sessions_deps *d, const struct jwt_claims *claims,
                             enum sessions_scope scope)
{
    return sessions_revoke_with(d, claims->user_id, claims->sid, scope, NULL, NULL);
}

/* The rotated-away token hash came back: revoke its whole session. */
static enum outcome revoke_reused(const struct sessions_deps *d, store_tx *tx, const char *sid)
{
    struct sessions_batch batch = {0};
    enum outcome o = sessions_revoke_tx(d, tx, 0, sid, SESSIONS_LOCAL, &batch);

    if (o == OUTCOME_OK)
        o = outcome_from_store(store_audit_held_add(d->store, tx, 0), OUTCOME_ERROR);
    if (o == OUTCOME_OK)
        o = outcome_from_store(store_commit(tx), OUTCOME_ERROR);
    else
        store_rollback(tx);
    if (o == OUTCOME_OK) {
        sessions_batch_apply(d, &batch);
        log_warn("session %s: a refresh token was used twice; the session is revoked", sid);
        o = OUTCOME_TOKEN_REUSED;
    }
    sessions_batch_free(&batch);
    return o;
}

enum outcome sessions_rotate(const struct sessions_deps *d, const char *token, size_t len,
                             const char *client_id, int64_t now, char refresh_token[BEARER_LEN + 1],
                             struct store_session *sess, struct store_user *u)
{
    unsigned char old_hash[32], new_hash[32];
    char sid[STORE_ID_MAX + 1];
    store_tx tx;

    /* Anything not of a refresh token's form needs no query to be refused. */
    if (!bearer_hash(token, len, old_hash))
        return OUTCOME_TOKEN_INVALID;
    bearer_new(refresh_token, new_hash);
    enum store_status st = store_begin(d->store, &tx);
    if (st != STORE_OK)
        return outcome_from_store(st, OUTCOME_ERROR);
    /* The compare-and-set decides: of two refreshes with one token, the
     * second finds the hash rotated away and takes the reuse path. */
    st = store_session_rotate(d->store, &tx, old_hash, new_hash, now, sess);
    if (st == STORE_NOT_FOUND) {
        st = store_session_by_rotated(d->store, &tx, old_hash, sid);
        if (st == STORE_OK)
            return revoke_reused(d, &tx, sid);
        store_rollback(&tx);
        return outcome_from_store(st, OUTCOME_TOKEN_INVALID);
    }
    /* A session a client of the OpenID Connect provider got is refreshed
     * by that client only (oidc_refresh), and a browser's or an API
     * login's never by a client: the rotation is rolled back. */
    if (st == STORE_OK && strcmp(sess->client_id, client_id) != 0) {
        store_rollback(&tx);
        return OUTCOME_TOKEN_INVALID;
    }
    if (st == STORE_OK)
        st = store_user_by_id(d->store, &tx, sess->user_id, u);
    /* Disabling revokes every session; this refuses one that raced it. */
    if (st == STORE_OK && u->disabled)
        st = STORE_NOT_FOUND;
    if (st == STORE_OK)
        st = store_commit(&tx);
    else
        store_rollback(&tx);
    sodium_memzero(u->password_hash, sizeof u->password_hash);
    return outcome_from_store(st, OUTCOME_TOKEN_INVALID);
}

enum outcome sessions_refresh(const struct sessions_deps *d, const char *token, size_t len,
                              struct session_tokens *out)
{
    struct store_session sess;
    struct store_user u;
    int64_t now = timefmt_now();

    memset(out, 0, sizeof *out);
    enum outcome o = sessions_rotate(d, token, len, "", now, out->refresh_token, &sess, &u);
    /* The session keeps how it began: a refresh proves no factor again. */
    unsigned amr = 0;
    if (o == OUTCOME_OK && !jwt_amr_parse(sess.amr, &amr)) {
        log_error("session %s: its stored amr is not one gatehouse writes", sess.id);
        o = OUTCOME_ERROR;
    }
    if (o == OUTCOME_OK)
        o = issue_access(d, &u, sess.id, amr, now, out);
    if (o != OUTCOME_OK)
        sessions_tokens_free(out);
    return o;
}

enum outcome sessions_verify_access(const struct sessions_deps *d, const char *token, size_t len,
                                    int64_t now, struct jwt_claims *out)
{
    uint8_t digest[TOKENCACHE_DIGEST];
    bool cached = false;

    if (d->verified != NULL) {
        tokencache_digest(d->verified, token, len, digest);
        cached = tokencache_get(d->verified, digest, keyset_generation(d->keys), now, out);
    }
    if (!cached) {
        /* The keys as they are now; a reload meanwhile frees them only
         * after keyset_put. */
        const keyset_gen *g = keyset_get(d->keys);
        enum jwt_status st = jwt_verify(keyset_jwt(g), token, len, now, out);
        uint64_t gen = keyset_gen_number(g);
        keyset_put(g);
        if (st == JWT_EXPIRED)
            return OUTCOME_TOKEN_EXPIRED;
        if (st != JWT_OK)
            return OUTCOME_TOKEN_INVALID;
        if (d->verified != NULL)
            tokencache_put(d->verified, digest, gen, out);
    }
    /* A revoked session's tokens stay well-signed until they expire; only
     * the revocation set tells them apart (API.md, POST /logout). */
    if (sessions_is_revoked(d, out, now))
        return OUTCOME_TOKEN_INVALID;
    return OUTCOME_OK;
}

bool sessions_is_revoked(const struct sessions_deps *d, const struct jwt_claims *claims,
                         int64_t now)
{
    return d->revoked != NULL && revset_contains(d->revoked, claims->sid, strlen(claims->sid), now);
}

static void on_revoked(void *arg, const char *sid, int64_t until)
{
    const struct sessions_deps *d = arg;

    revset_add(d->revoked, sid, strlen(sid), until);
}

/* Loads every revocation still in force; the watch calls it again after a
 * reconnect, for what was announced while it was away. */
static void reload(void *arg)
{
    const struct sessions_deps *d = arg;

    if (store_revocations_live(d->store, timefmt_now(), on_revoked, arg) != STORE_OK)
        log_warn("could not reload revoked sessions; retrying at the next reconnect");
}

int sessions_start(const struct sessions_deps *d)
{
    struct store_watch w = {on_revoked, reload, (void *)d};

    if (d->revoked == NULL)
        return -1;
    /* Watch first, then load: whatever is recorded after the load is heard
     * of, and what came in between is loaded twice, which changes nothing. */
    if (store_watch(d->store, &w) != 0)
        return -1;
    return store_revocations_live(d->store, timefmt_now(), on_revoked, (void *)d) == STORE_OK ? 0
                                                                                              : -1;
}

void sessions_purge(const struct sessions_deps *d, int64_t now)
{
    int64_t sessions = 0, revocations = 0;
    size_t in_memory = d->revoked != NULL ? revset_purge(d->revoked, now) : 0;

    /* A session revoked longer ago than an access token lives has no token
     * left that could be used, and its refresh tokens were refused all
     * along: its row (and its rotated-away hashes) can go. An expired one
     * stays until its last access token has expired too: a logout, a
     * password change or a deletion must still find it to revoke that
     * token (a session may live shorter than an access token). */
    if (store_sessions_purge(d->store, now, now - d->access_ttl - d->leeway, &sessions) !=
            STORE_OK ||
        store_revocations_purge(d->store, now, &revocations) != STORE_OK) {
        log_warn("purging expired sessions failed; retrying at the next interval");
        return;
    }
    if (sessions > 0 || revocations > 0 || in_memory > 0)
        log_info("purged %lld expired %s and %lld expired %s (%zu in memory)", (long long)sessions,
                 numfmt_plural(sessions, "session", "sessions"), (long long)revocations,
                 numfmt_plural(revocations, "revocation", "revocations"), in_memory);
}
