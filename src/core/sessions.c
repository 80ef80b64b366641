#include "core/sessions.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/b64.h"
#include "util/timefmt.h"

void sessions_tokens_free(struct session_tokens *t)
{
    if (t->access_token != NULL) {
        sodium_memzero(t->access_token, strlen(t->access_token));
        free(t->access_token);
        t->access_token = NULL;
    }
    sodium_memzero(t->refresh_token, sizeof t->refresh_token);
}

enum outcome sessions_open(const struct sessions_deps *d, const struct user *u,
                           struct session_tokens *out)
{
    unsigned char sid_raw[16], refresh_raw[32];
    struct store_session s = {0};
    struct jwt_claims c = {0};
    int64_t now = timefmt_now();

    memset(out, 0, sizeof *out);
    randombytes_buf(sid_raw, sizeof sid_raw);
    randombytes_buf(refresh_raw, sizeof refresh_raw);
    b64url_encode(s.id, sid_raw, sizeof sid_raw);
    b64url_encode(out->refresh_token, refresh_raw, sizeof refresh_raw);
    /* Only the hash of the refresh token is stored: a copy of the database
     * does not let anyone refresh. */
    crypto_hash_sha256(s.refresh_hash, (const unsigned char *)out->refresh_token,
                       strlen(out->refresh_token));
    sodium_memzero(refresh_raw, sizeof refresh_raw);
    s.user_id = u->id;
    s.created_at = now;
    s.expires_at = now + d->refresh_ttl;
    enum store_status st = store_session_create(d->store, NULL, &s);
    if (st != STORE_OK) {
        sessions_tokens_free(out);
        return outcome_from_store(st, OUTCOME_ERROR);
    }

    c.user_id = u->id;
    snprintf(c.username, sizeof c.username, "%s", u->username);
    memcpy(c.sid, s.id, sizeof s.id < sizeof c.sid ? sizeof s.id : sizeof c.sid);
    c.iat = now;
    c.exp = now + d->access_ttl;
    out->access_token = jwt_sign(d->jwt, &c);
    if (out->access_token == NULL) {
        sessions_tokens_free(out);
        return OUTCOME_ERROR;
    }
    out->expires_in = d->access_ttl;
    return OUTCOME_OK;
}

enum outcome sessions_verify_access(const struct sessions_deps *d, const char *token, size_t len,
                                    int64_t now, struct jwt_claims *out)
{
    if (jwt_verify(d->jwt, token, len, now, out) != JWT_OK)
        return OUTCOME_TOKEN_INVALID;
    /* A revoked session's tokens stay well-signed until they expire; only
     * the revocation set tells them apart (API.md, POST /logout). */
    if (sessions_is_revoked(d, out))
        return OUTCOME_TOKEN_INVALID;
    return OUTCOME_OK;
}

bool sessions_is_revoked(const struct sessions_deps *d, const struct jwt_claims *claims)
{
    (void)d;
    (void)claims;
    return false;
}
