#include "core/account.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/username.h"
#include "util/b64.h"
#include "util/log.h"
#include "util/timefmt.h"

void account_error_add(struct account_errors *errs, const char *field, const char *code,
                       const char *fmt, ...)
{
    va_list ap;

    if (errs->count >= ACCOUNT_MAX_ERRORS)
        return;
    struct account_error *e = &errs->e[errs->count++];
    e->field = field;
    e->code = code;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

void account_tokens_free(struct account_tokens *t)
{
    if (t->access_token != NULL) {
        sodium_memzero(t->access_token, strlen(t->access_token));
        free(t->access_token);
        t->access_token = NULL;
    }
    sodium_memzero(t->refresh_token, sizeof t->refresh_token);
}

static enum account_status from_store(enum store_status st)
{
    switch (st) {
    case STORE_OK: return ACCOUNT_OK;
    case STORE_NOT_FOUND: return ACCOUNT_UNAUTHORIZED;
    case STORE_CONFLICT: return ACCOUNT_CONFLICT;
    case STORE_UNAVAILABLE: return ACCOUNT_UNAVAILABLE;
    case STORE_ERROR: return ACCOUNT_ERROR;
    }
    return ACCOUNT_ERROR;
}

static void check_username(const char *u, size_t len, struct account_errors *errs)
{
    switch (username_check(u, len)) {
    case USERNAME_OK: break;
    case USERNAME_TOO_SHORT:
        account_error_add(errs, "username", "too_short", "must be at least %d characters",
                          USERNAME_MIN);
        break;
    case USERNAME_TOO_LONG:
        account_error_add(errs, "username", "too_long", "must be at most %d characters",
                          USERNAME_MAX);
        break;
    case USERNAME_BAD_CHAR:
        account_error_add(errs, "username", "invalid_characters",
                          "may contain only A-Z a-z 0-9 . _ - @ +");
        break;
    }
}

static void check_password(const struct password_policy *pol, const char *u, const char *pw,
                           size_t len, struct account_errors *errs)
{
    switch (password_check(pol, u, pw, len)) {
    case RULE_OK: break;
    case RULE_TOO_SHORT:
        account_error_add(errs, "password", "too_short", "must be at least %ld characters",
                          pol->min_length);
        break;
    case RULE_TOO_LONG:
        account_error_add(errs, "password", "too_long", "must be at most %d bytes of UTF-8",
                          pol->scheme == PASSWORD_BCRYPT ? PASSWORD_BCRYPT_MAX
                                                         : PASSWORD_ARGON2_MAX);
        break;
    case RULE_CONTAINS_NUL:
        account_error_add(errs, "password", "contains_nul", "must not contain NUL characters");
        break;
    case RULE_EQUALS_USERNAME:
        account_error_add(errs, "password", "equals_username",
                          "must not be the same as the username");
        break;
    case RULE_TOO_COMMON:
        account_error_add(errs, "password", "too_common",
                          "is on the list of commonly used passwords; choose another");
        break;
    case RULE_INVALID_UTF8:
        account_error_add(errs, "password", "invalid_characters", "must be valid UTF-8");
        break;
    }
}

enum account_status account_register(const struct account_deps *d, const char *username,
                                     size_t ulen, const char *password, size_t plen,
                                     struct store_user *out, struct account_errors *errs)
{
    char key[USERNAME_MAX + 1], hash[PASSWORD_HASH_MAX];

    check_username(username, ulen, errs);
    /* username is NUL-free when valid; an invalid one only feeds the
     * equals-username comparison, which is length-bounded. */
    check_password(d->policy, errs->count == 0 ? username : "", password, plen, errs);
    if (errs->count > 0)
        return ACCOUNT_INVALID;
    username_key(key, username);
    if (password_hash(d->policy, password, plen, hash) != 0) {
        log_error("password hashing failed");
        return ACCOUNT_ERROR;
    }
    enum store_status st =
        store_user_create(d->store, NULL, username, key, hash, timefmt_now(), out);
    sodium_memzero(hash, sizeof hash);
    return from_store(st);
}

/* Opens a session for user and issues its tokens. */
static enum account_status open_session(const struct account_deps *d, const struct store_user *u,
                                        struct account_tokens *out)
{
    unsigned char sid_raw[16], refresh_raw[32];
    struct store_session s = {0};
    struct jwt_claims c = {0};
    int64_t now = timefmt_now();

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
    if (st != STORE_OK)
        return from_store(st);

    c.user_id = u->id;
    snprintf(c.username, sizeof c.username, "%s", u->username);
    memcpy(c.sid, s.id, sizeof s.id < sizeof c.sid ? sizeof s.id : sizeof c.sid);
    c.iat = now;
    c.exp = now + d->access_ttl;
    out->access_token = jwt_sign(d->jwt, &c);
    if (out->access_token == NULL)
        return ACCOUNT_ERROR;
    out->expires_in = d->access_ttl;
    return ACCOUNT_OK;
}

enum account_status account_login(const struct account_deps *d, const char *username, size_t ulen,
                                  const char *password, size_t plen, struct account_tokens *out)
{
    struct store_user u;
    char key[USERNAME_MAX + 1];

    memset(out, 0, sizeof *out);
    if (username_check(username, ulen) != USERNAME_OK) {
        /* No such user can exist; spend the same time as a real check. */
        password_verify_dummy(d->policy, password, plen);
        return ACCOUNT_UNAUTHORIZED;
    }
    username_key(key, username);
    enum store_status st = store_user_by_key(d->store, NULL, key, &u);
    if (st == STORE_NOT_FOUND) {
        password_verify_dummy(d->policy, password, plen);
        return ACCOUNT_UNAUTHORIZED;
    }
    if (st != STORE_OK)
        return from_store(st);
    bool ok = password_verify(password, plen, u.password_hash);
    sodium_memzero(u.password_hash, sizeof u.password_hash);
    if (!ok)
        return ACCOUNT_UNAUTHORIZED;
    enum account_status rc = open_session(d, &u, out);
    if (rc != ACCOUNT_OK)
        account_tokens_free(out);
    return rc;
}

enum account_status account_me(const struct account_deps *d, const struct jwt_claims *claims,
                               struct store_user *out)
{
    enum account_status rc = from_store(store_user_by_id(d->store, NULL, claims->user_id, out));

    if (rc == ACCOUNT_OK)
        sodium_memzero(out->password_hash, sizeof out->password_hash);
    return rc;
}
