#ifndef GH_CORE_USERS_H
#define GH_CORE_USERS_H

#include <stddef.h>
#include <stdint.h>

#include "core/jwt.h"
#include "core/outcome.h"
#include "core/password.h"
#include "core/throttle.h"
#include "core/username.h"

typedef struct store store; /* store/store.h */

/* Users: registration, the credential check of a login, and the lookup
 * behind /me. Runs on worker threads (it hashes and queries). */

struct users_deps {
    store *store;
    const struct password_policy *policy;
};

/* A user as it leaves core: never the password hash, which stays inside
 * users.c and is wiped there. */
struct user {
    int64_t id;
    char username[USERNAME_STORED_MAX + 1];
    int64_t created_at; /* Unix seconds */
    /* The password changes the credentials were checked at: a login opens
     * its session only while it still holds (sessions_open). */
    int64_t credential_version;
};

/* Checks the rules, hashes the password and inserts the user. On
 * OUTCOME_INVALID, detail->errors lists what is wrong; OUTCOME_CONFLICT when
 * the name is taken. */
enum outcome users_register(const struct users_deps *d, const char *username, size_t ulen,
                            const char *password, size_t plen, struct user *out,
                            struct outcome_detail *detail);

/* Verifies a login's credentials and fills *out with the user. An unknown
 * user costs a full password hash too, and gives the same
 * OUTCOME_BAD_CREDENTIALS as a wrong password; so does a wrong password
 * against a stored hash weaker than the policy's (it is topped up with a
 * hash at the policy's cost), so that the time tells nothing. */
enum outcome users_check_credentials(const struct users_deps *d, const char *username, size_t ulen,
                                     const char *password, size_t plen, struct user *out);

/* A login (POST /login, the password grant of POST /token) from the client
 * at from: users_check_credentials under throttling (core/throttle.h).
 * OUTCOME_THROTTLED, with detail->retry_after, while the address, the
 * account or (for a name no account has) the name is locked: then no
 * password is hashed, and the right password is refused too. A failure is
 * counted against the address and the account (on its row, shared by every
 * instance) or the unknown name. Each counter is checked and the attempt
 * reserved on it in one step before the hash, so concurrent attempts get
 * no more tries than the limits allow one after another. A success stays
 * counted on the account until the sign-in is complete: the caller calls
 * users_login_done then, at once, or after the second factor (an account
 * whose password is known must not win back its free failures for the
 * codes by logging in again). t NULL: no throttling. */
enum outcome users_login(const struct users_deps *d, throttle *t, const struct netaddr *from,
                         const char *username, size_t ulen, const char *password, size_t plen,
                         struct user *out, struct outcome_detail *detail);

/* A sign-in of user_id is complete: forgets the account's failures (not
 * the address's: one good account must not clear the way for guesses at
 * others). */
void users_login_done(const struct users_deps *d, throttle *t, int64_t user_id);

/* The user a verified access token names. OUTCOME_TOKEN_INVALID when the
 * user is gone: the token then names nobody, like a revoked one. */
enum outcome users_by_token(const struct users_deps *d, const struct jwt_claims *claims,
                            struct user *out);

struct sessions_deps;

/* PUT /me/password from the client at from: checks current against the
 * user of claims (OUTCOME_BAD_CREDENTIALS when wrong), throttled by t as a
 * login of that account is (users_login: OUTCOME_THROTTLED with
 * detail->retry_after while locked, a wrong password counted as a failed
 * login), the rules against next (OUTCOME_INVALID, errors under
 * "new_password"), then stores next's hash and revokes every other session
 * of the user in one transaction. */
enum outcome users_change_password(const struct users_deps *d, throttle *t,
                                   const struct netaddr *from, const struct sessions_deps *sd,
                                   const struct jwt_claims *claims, const char *current,
                                   size_t clen, const char *next, size_t nlen,
                                   struct outcome_detail *detail);

/* The password check of a change the account's owner makes with its token
 * (PUT /me/email): as PUT /me/password checks current, throttled by t as a
 * login of that account from the address from. OUTCOME_OK with *out
 * filled; OUTCOME_BAD_CREDENTIALS, OUTCOME_THROTTLED (detail->retry_after),
 * OUTCOME_TOKEN_INVALID when the user is gone. */
enum outcome users_recheck(const struct users_deps *d, throttle *t, const struct netaddr *from,
                           const struct jwt_claims *claims, const char *password, size_t plen,
                           struct user *out, struct outcome_detail *detail);

/* gatehouse users delete: deletes the user named username (ulen bytes,
 * looked up as a login looks it up), revoking and recording every session
 * of it in the same transaction, as DELETE /me does; *id receives its id.
 * OUTCOME_BAD_CREDENTIALS when there is no such user. */
enum outcome users_remove(const struct users_deps *d, const struct sessions_deps *sd,
                          const char *username, size_t ulen, int64_t *id);

/* gatehouse users reset-password: sets the password of the user named
 * username (looked up as a login looks it up) to next, under the rules of a
 * new password (OUTCOME_INVALID, errors under "password"), and revokes every
 * session of the user in the same transaction; *id receives its id.
 * OUTCOME_BAD_CREDENTIALS when there is no such user. */
enum outcome users_reset_password(const struct users_deps *d, const struct sessions_deps *sd,
                                  const char *username, size_t ulen, const char *next, size_t nlen,
                                  int64_t *id, struct outcome_detail *detail);

/* DELETE /me from the client at from: checks password
 * (OUTCOME_BAD_CREDENTIALS when wrong), throttled as users_change_password
 * is, then revokes every session of the user and deletes it in one
 * transaction; the username is free again. */
enum outcome users_delete(const struct users_deps *d, throttle *t, const struct netaddr *from,
                          const struct sessions_deps *sd, const struct jwt_claims *claims,
                          const char *password, size_t plen, struct outcome_detail *detail);

/* A second-factor check of the account user_id (a code of a step-up or of
 * the sign-in step) from the client at from, throttled by t as a login of
 * that account is: OUTCOME_THROTTLED, with detail->retry_after, while the
 * address or the account is locked (check is not called); else check(arg)
 * runs, its OUTCOME_BAD_CODE (or OUTCOME_PASSKEY_REFUSED) counted as a
 * failed login of the account and the address; OUTCOME_OK counts nothing
 * and forgets nothing (a right password does, and users_login_done once a
 * sign-in is complete). A code is a password's equal here: a stolen token must
 * not buy unlimited guesses at it. Check a change's code before its
 * password: a right password forgets the account's failures, which would
 * let a caller who has it guess codes forever. t NULL: check alone. */
enum outcome users_code_attempt(const struct users_deps *d, throttle *t, const struct netaddr *from,
                                int64_t user_id, enum outcome (*check)(void *arg), void *arg,
                                struct outcome_detail *detail);

#endif
