#ifndef GH_CORE_SESSIONS_H
#define GH_CORE_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/jwt.h"
#include "core/outcome.h"
#include "core/users.h"
#include "store/store.h"

/* Sessions: one per login. Opening one stores it and issues its access and
 * refresh tokens; verifying an access token checks its signature, its claims
 * and whether its session was revoked. Rotation and revocation come with the
 * sessions issue, behind the same functions. */

struct sessions_deps {
    store *store;
    const jwt_key *jwt;
    long access_ttl;  /* seconds */
    long refresh_ttl; /* seconds */
};

/* The tokens of a new session. access_token is malloc'd; free both with
 * sessions_tokens_free, which wipes them. */
struct session_tokens {
    char *access_token;
    char refresh_token[48];
    long expires_in; /* seconds */
};

void sessions_tokens_free(struct session_tokens *t);

/* Opens a session for u, whose credentials the caller has checked, and
 * issues its tokens into *out (zeroed first; nothing to free unless
 * OUTCOME_OK). */
enum outcome sessions_open(const struct sessions_deps *d, const struct user *u,
                           struct session_tokens *out);

/* Verifies an access token of len bytes at time now: signature and claims
 * (jwt_verify), then sessions_is_revoked. Fills *out on OUTCOME_OK, else
 * OUTCOME_TOKEN_INVALID. Touches no database and allocates nothing: /verify
 * runs it on the HTTP thread. */
enum outcome sessions_verify_access(const struct sessions_deps *d, const char *token, size_t len,
                                    int64_t now, struct jwt_claims *out);

/* True when the session of verified claims has been revoked. This is the
 * hook of the in-memory revocation set (revoked session ids until their
 * tokens expire); until the sessions issue fills it in, no session is ever
 * revoked and it returns false. sessions_verify_access is its only caller,
 * so every route that needs a token passes through it. */
bool sessions_is_revoked(const struct sessions_deps *d, const struct jwt_claims *claims);

#endif
