#ifndef GH_CORE_ACCOUNT_H
#define GH_CORE_ACCOUNT_H

#include <stddef.h>
#include <stdint.h>

#include "core/jwt.h"
#include "core/password.h"
#include "store/store.h"

/* Accounts and sessions: registration, login (which opens a session and
 * issues its tokens) and the lookups behind /me. Runs on worker threads. */

struct account_deps {
    store *store;
    const jwt_key *jwt;
    const struct password_policy *policy;
    long access_ttl;  /* seconds */
    long refresh_ttl; /* seconds */
};

enum account_status {
    ACCOUNT_OK = 0,
    ACCOUNT_INVALID,      /* a rule is broken: see the account_error list */
    ACCOUNT_CONFLICT,     /* the username is taken */
    ACCOUNT_UNAUTHORIZED, /* unknown user, wrong password, deleted user */
    ACCOUNT_UNAVAILABLE,  /* the database cannot be reached: retry later */
    ACCOUNT_ERROR,        /* anything else (logged) */
};

/* One broken rule of one field, as a 422 lists it. */
struct account_error {
    const char *field; /* "username" or "password" */
    const char *code;  /* "too_short", ... */
    char message[96];
};

#define ACCOUNT_MAX_ERRORS 2

struct account_errors {
    int count;
    struct account_error e[ACCOUNT_MAX_ERRORS];
};

/* Adds an error (ignored past ACCOUNT_MAX_ERRORS). message is a format. */
void account_error_add(struct account_errors *errs, const char *field, const char *code,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Tokens of a new session. access_token is malloc'd: free with
 * account_tokens_free. */
struct account_tokens {
    char *access_token;
    char refresh_token[48];
    long expires_in;
};

void account_tokens_free(struct account_tokens *t);

/* Checks the rules, hashes the password and inserts the user. On
 * ACCOUNT_INVALID, errs lists what is wrong. */
enum account_status account_register(const struct account_deps *d, const char *username,
                                     size_t ulen, const char *password, size_t plen,
                                     struct store_user *out, struct account_errors *errs);

/* Verifies the credentials (a full hash also for an unknown user), opens a
 * session and issues its tokens. */
enum account_status account_login(const struct account_deps *d, const char *username, size_t ulen,
                                  const char *password, size_t plen, struct account_tokens *out);

/* The user a verified access token names; ACCOUNT_UNAUTHORIZED when the user
 * is gone. */
enum account_status account_me(const struct account_deps *d, const struct jwt_claims *claims,
                               struct store_user *out);

#endif
