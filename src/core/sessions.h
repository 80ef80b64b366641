#ifndef GH_CORE_SESSIONS_H
#define GH_CORE_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/jwt.h"
#include "core/keyset.h"
#include "core/outcome.h"
#include "core/revocation.h"
#include "core/tokencache.h"
#include "core/users.h"

typedef struct store store; /* store/store.h */

/* Sessions: one per login. Opening one stores it and issues its access and
 * refresh tokens; a refresh rotates the refresh token (and a rotated one
 * presented again revokes the session); logout, a password change and an
 * account deletion revoke sessions. A revoked session's access tokens stay
 * well-signed until they expire, so every check of an access token also
 * asks the in-memory revocation set, which holds each revoked session until
 * then: filled at start from the database, by this instance's revocations
 * at once, and by other instances' through the store's watch. */

struct sessions_deps {
    store *store;
    keyset *keys;         /* signs and verifies access tokens; NULL: issues none */
    long access_ttl;      /* seconds */
    long refresh_ttl;     /* seconds */
    long leeway;          /* seconds of clock skew jwt_verify allows past exp */
    revset *revoked;      /* the revocation set; NULL: nothing is ever revoked */
    tokencache *verified; /* tokens verified before; NULL: every token in full */
};

/* Which sessions a logout ends (API.md, POST /logout). */
enum sessions_scope {
    SESSIONS_LOCAL,  /* the caller's */
    SESSIONS_GLOBAL, /* every session of the user */
    SESSIONS_OTHERS, /* every session of the user but the caller's */
};

/* The tokens of a new session. access_token is malloc'd; free both with
 * sessions_tokens_free, which wipes them. */
struct session_tokens {
    char *access_token;
    char refresh_token[48];
    long expires_in; /* seconds */
};

void sessions_tokens_free(struct session_tokens *t);

/* Opens a session for u, whose credentials the caller has checked by the
 * methods amr (enum jwt_amr bits), and issues its tokens into *out (zeroed
 * first; nothing to free unless OUTCOME_OK). OUTCOME_BAD_CREDENTIALS when u's password was changed,
 * or u deleted, since the check (u->credential_version). */
enum outcome sessions_open(const struct sessions_deps *d, const struct user *u, unsigned amr,
                           struct session_tokens *out);

/* Verifies an access token of len bytes at time now: signature and claims
 * (jwt_verify) unless the token is in d->verified under the current keys,
 * then sessions_is_revoked, always. Fills *out on OUTCOME_OK, else
 * OUTCOME_TOKEN_EXPIRED for a well-signed token past its exp and
 * OUTCOME_TOKEN_INVALID for any other refusal. Touches no database, and
 * allocates only to remember a token it has just verified in full (the
 * name in the cache entry): /verify runs it on the HTTP thread. */
enum outcome sessions_verify_access(const struct sessions_deps *d, const char *token, size_t len,
                                    int64_t now, struct jwt_claims *out);

/* True when the session of verified claims has been revoked (the in-memory
 * set: no database). sessions_verify_access is its only caller, so every
 * route that needs a token passes through it. */
bool sessions_is_revoked(const struct sessions_deps *d, const struct jwt_claims *claims,
                         int64_t now);

/* Rotates a refresh token (len bytes) into a new one and a new access token
 * of the same session, into *out. OUTCOME_TOKEN_INVALID for a malformed,
 * unknown, expired or revoked token; OUTCOME_TOKEN_REUSED for one rotated
 * already, whose whole session is revoked then (a stolen copy was used:
 * RFC 9700 §4.14.2). Of two concurrent refreshes with one token exactly one
 * succeeds, and the other revokes the session. A session an OpenID Connect
 * client got (core/oidc.h) is OUTCOME_TOKEN_INVALID here, left as it was:
 * its client refreshes it (oidc_refresh). */
enum outcome sessions_refresh(const struct sessions_deps *d, const char *token, size_t len,
                              struct session_tokens *out);

/* Ends sessions of claims' user chosen by scope, everywhere. */
enum outcome sessions_logout(const struct sessions_deps *d, const struct jwt_claims *claims,
                             enum sessions_scope scope);

/* Fills the revocation set from the database and, on PostgreSQL, keeps it
 * in step with every other instance (store_watch). Call once at start,
 * before serving. Returns 0, or -1 when the set could not be loaded. */
int sessions_start(const struct sessions_deps *d);

/* Deletes what has expired: sessions past their lifetime whose last access
 * token has expired too, sessions revoked longer ago than an access token
 * lives, and revocations no longer in force, in the database and in the
 * set. Logs what it removed. */
void sessions_purge(const struct sessions_deps *d, int64_t now);

#endif
