#include "core/users.h"
#include "core/users_tx.h"

#include <sodium.h>
#include <string.h>

#include "core/outcome_store.h"
#include "core/sessions.h"
#include "core/sessions_tx.h"
#include "core/username.h"
#include "util/log.h"
#include "store/store.h"
#include "util/timefmt.h"

/* struct user's name is a stored name (core/users.h). */
_Static_assert(USERNAME_STORED_MAX == STORE_USERNAME_MAX, "a user's name is a stored name");

static void check_username(const char *u, size_t len, struct outcome_errors *errs)
{
    switch (username_check(u, len)) {
    case USERNAME_OK: break;
    case USERNAME_TOO_SHORT:
        outcome_error_add(errs, "username", "too_short", "must be at least %d characters",
                          USERNAME_MIN);
        break;
    case USERNAME_TOO_LONG:
        outcome_error_add(errs, "username", "too_long", "must be at most %d characters",
                          USERNAME_MAX);
        break;
    case USERNAME_BAD_CHAR:
        outcome_error_add(errs, "username", "invalid_characters",
                          "may contain only A-Z a-z 0-9 . _ - @ +");
        break;
    }
}

/* The rules of a new password, reported under field ("password" at
 * registration, "new_password" on a change). */
static void check_password(const struct password_policy *pol, const char *field, const char *u,
                           const char *pw, size_t len, struct outcome_errors *errs)
{
    switch (password_check(pol, u, pw, len)) {
    case RULE_OK: break;
    case RULE_TOO_SHORT:
        outcome_error_add(errs, field, "too_short", "must be at least %ld characters",
                          pol->min_length);
        break;
    case RULE_TOO_LONG:
        outcome_error_add(errs, field, "too_long", "must be at most %d bytes of UTF-8",
                          pol->scheme == PASSWORD_BCRYPT ? PASSWORD_BCRYPT_MAX
                                                         : PASSWORD_ARGON2_MAX);
        break;
    case RULE_CONTAINS_NUL:
        outcome_error_add(errs, field, "contains_nul", "must not contain NUL characters");
        break;
    case RULE_EQUALS_USERNAME:
        outcome_error_add(errs, field, "equals_username", "must not be the same as the username");
        break;
    case RULE_TOO_COMMON:
        outcome_error_add(errs, field, "too_common",
                          "is on the list of commonly used passwords; choose another");
        break;
    case RULE_INVALID_UTF8:
        outcome_error_add(errs, field, "invalid_characters", "must be valid UTF-8");
        break;
    case RULE_INVISIBLE:
        outcome_error_add(errs, field, "invisible_characters",
                          "must not contain invisible characters (such as U+200B)");
        break;
    }
}

/* Copies what may leave core and wipes the hash, so that no caller has to
 * remember to. Called on every path once the store has been asked: a failed
 * call may have filled su partly. *out is meaningful only on OUTCOME_OK. */
static void take_user(struct store_user *su, struct user *out)
{
    out->id = su->id;
    memcpy(out->username, su->username, sizeof out->username);
    out->created_at = su->created_at;
    out->credential_version = su->credential_version;
    sodium_memzero(su->password_hash, sizeof su->password_hash);
}

enum outcome users_register(const struct users_deps *d, const char *username, size_t ulen,
                            const char *password, size_t plen, struct user *out,
                            struct outcome_detail *detail)
{
    char key[USERNAME_STORED_MAX + 1], hash[PASSWORD_HASH_MAX];
    struct outcome_errors *errs = &detail->errors;
    struct store_user su = {0};

    check_username(username, ulen, errs);
    /* username is NUL-free when valid; an invalid one only feeds the
     * equals-username comparison, which is length-bounded. */
    check_password(d->policy, "password", errs->count == 0 ? username : "", password, plen, errs);
    if (errs->count > 0)
        return OUTCOME_INVALID;
    /* The one key function of every name, chosen or stored, so that the
     * name registered here is the one a login and an import look up. */
    username_key_any(key, username, ulen);
    if (password_hash(d->policy, password, plen, hash) != 0) {
        log_error("password hashing failed");
        return OUTCOME_ERROR;
    }
    /* The insert and its audit event (when the caller holds one) commit
     * together. */
    store_tx tx;
    enum store_status st = store_begin(d->store, &tx);
    if (st == STORE_OK) {
        st = store_user_create(d->store, &tx, username, key, hash, timefmt_now(), &su);
        if (st == STORE_OK)
            st = store_audit_held_add(d->store, &tx, su.id);
        if (st == STORE_OK)
            st = store_commit(&tx);
        else
            store_rollback(&tx);
    }
    sodium_memzero(hash, sizeof hash);
    take_user(&su, out);
    return outcome_from_store(st, OUTCOME_ERROR);
}

/* Replaces su's hash, which password just verified against, with one made
 * at the current setting when it is weaker (password_needs_rehash) or of the
 * password as typed rather than normalised (raw, core/password.h). Never
 * fails the login: the old hash still works, so a failure is logged and the
 * next login tries again. */
static void rehash(const struct users_deps *d, const struct store_user *su, const char *password,
                   size_t plen, bool raw)
{
    char hash[PASSWORD_HASH_MAX];

    if (!raw && !password_needs_rehash(d->policy, su->password_hash))
        return;
    if (password_hash(d->policy, password, plen, hash) != 0) {
        log_error("user %lld: rehashing the password failed", (long long)su->id);
        return;
    }
    /* Compare-and-set on the hash just verified: a password change that
     * committed meanwhile wins, and its hash is never overwritten by the
     * old password's. The credential version stays: the password is the
     * same, so no session has reason to end. */
    enum store_status st = store_user_rehash(d->store, NULL, su->id, su->password_hash, hash);
    sodium_memzero(hash, sizeof hash);
    if (st == STORE_OK)
        log_info("user %lld: password hash upgraded to the current setting", (long long)su->id);
    else if (st != STORE_NOT_FOUND)
        log_error("user %lld: storing the upgraded password hash failed", (long long)su->id);
}

/* Logs why a stored hash can never match (password_match refused it after
 * the dummy checks): the client only sees the 401 of a wrong password, which
 * tells nothing about the account, so the operator learns it here. */
static void unreadable_hash(const struct store_user *su)
{
    char why[160];

    if (password_hash_form(su->password_hash, why, sizeof why) != PASSWORD_HASH_OK)
        log_warn("user %lld: the stored password hash is %s, so no password logs in; set a new "
                 "one with gatehouse users reset-password",
                 (long long)su->id, why);
}

/* One attempt at a password, throttled by t (NULL: not at all) for the
 * client at from. Every counter it touches reserves the attempt before the
 * hash and settles it after, in one step with its check: of concurrent
 * attempts no more get through than the limits allow one after another. */
struct attempt {
    const struct users_deps *d;
    throttle *t;
    const struct netaddr *from;
    int64_t now;
    bool address; /* holds a reservation of the address */
    /* A sign-in with a step after the password: its success stays counted
     * on the account until users_login_done. */
    bool pending;
};

/* The address first: a locked one costs no query either. */
static enum outcome attempt_begin(struct attempt *a, struct outcome_detail *detail)
{
    unsigned wait;

    if (a->t == NULL)
        return OUTCOME_OK;
    if ((wait = throttle_address_reserve(a->t, a->from, a->now)) > 0) {
        detail->retry_after = wait;
        return OUTCOME_THROTTLED;
    }
    a->address = true;
    return OUTCOME_OK;
}

/* Settles the address: a wrong password counts against it; a success does
 * not forget its failures (one good account must not clear the way for
 * guesses at others). */
static void attempt_end(struct attempt *a, enum outcome o)
{
    if (a->address)
        throttle_address_settle(a->t, a->from,
                                o == OUTCOME_BAD_CREDENTIALS || o == OUTCOME_BAD_CODE ||
                                    o == OUTCOME_PASSKEY_REFUSED,
                                a->now);
}

/* Reserves the attempt on su's row (read by the caller): counts it as a
 * failure before the hash, against the count su holds, reading the row
 * again when another attempt counted first. *wait > 0: locked, nothing
 * counted. STORE_NOT_FOUND when the user is gone. */
static enum store_status account_reserve(struct attempt *a, struct store_user *su, unsigned *wait)
{
    const struct throttle_limits *lim = throttle_limits_of(a->t);
    enum store_status st = STORE_OK;

    *wait = 0;
    if (lim->account_failures == 0)
        return STORE_OK;
    /* Each round that loses the compare-and-set lost to an attempt that
     * counted; a bound keeps a stuck row from holding a worker. */
    for (int round = 0; round < 1000; round++) {
        *wait = throttle_account_wait(lim, su->failed_logins, su->last_failed_at, a->now);
        if (*wait > 0)
            return STORE_OK;
        bool forgotten =
            su->last_failed_at == 0 || a->now - su->last_failed_at >= (int64_t)lim->forget_s;
        int64_t n = forgotten ? 1 : su->failed_logins + 1;
        st = store_user_login_reserve(a->d->store, NULL, su->id, su->failed_logins,
                                      su->last_failed_at, n, a->now);
        if (st == STORE_OK) {
            su->failed_logins = n;
            su->last_failed_at = a->now;
            return STORE_OK;
        }
        if (st != STORE_NOT_FOUND)
            return st;
        sodium_memzero(su->password_hash, sizeof su->password_hash);
        if ((st = store_user_by_id(a->d->store, NULL, su->id, su)) != STORE_OK)
            return st;
    }
    return STORE_UNAVAILABLE;
}

/* Checks password against the user su (read by the caller) under a's
 * throttling: OUTCOME_THROTTLED while the account is locked (no hash
 * spent), else the check, counted on its row as a failure unless it
 * succeeds. gone: the outcome when the user was deleted meanwhile. */
static enum outcome account_check(struct attempt *a, struct store_user *su, const char *password,
                                  size_t plen, enum outcome gone, struct outcome_detail *detail)
{
    unsigned wait = 0;

    if (a->t != NULL) {
        enum store_status st = account_reserve(a, su, &wait);
        if (st != STORE_OK)
            return outcome_from_store(st, gone);
        if (wait > 0) {
            detail->retry_after = wait;
            return OUTCOME_THROTTLED;
        }
    }
    enum password_match m = password_match(password, plen, su->password_hash);
    if (m == PASSWORD_NO_MATCH) {
        /* A hash weaker than the policy's (made at a lower cost, or with
         * bcrypt before argon2id) is quicker to refuse than an unknown
         * name, which costs the dummy of every scheme in use: top it up,
         * so that a wrong password never tells that the name exists. */
        password_refused(su->password_hash, password, plen);
        unreadable_hash(su);
        return OUTCOME_BAD_CREDENTIALS;
    }
    rehash(a->d, su, password, plen, m == PASSWORD_MATCH_RAW);
    if (a->t != NULL && !a->pending && su->failed_logins > 0 &&
        store_user_login_failures_reset(a->d->store, NULL, su->id) == STORE_UNAVAILABLE)
        log_error("user %lld: forgetting its failed logins failed", (long long)su->id);
    return OUTCOME_OK;
}

enum outcome users_code_attempt(const struct users_deps *d, throttle *t, const struct netaddr *from,
                                int64_t user_id, enum outcome (*check)(void *arg), void *arg,
                                struct outcome_detail *detail)
{
    struct attempt a = {d, t, from, timefmt_now(), false, false};
    struct store_user su = {0};
    unsigned wait = 0;
    enum outcome o = attempt_begin(&a, detail);

    if (o != OUTCOME_OK)
        return o;
    enum store_status st = store_user_by_id(d->store, NULL, user_id, &su);
    sodium_memzero(su.password_hash, sizeof su.password_hash);
    int64_t failed = su.failed_logins, last = su.last_failed_at;
    /* The attempt is counted on the row before the check, as a password's
     * is (account_reserve), so concurrent guesses get no more tries. */
    if (st == STORE_OK && t != NULL)
        st = account_reserve(&a, &su, &wait);
    sodium_memzero(su.password_hash, sizeof su.password_hash);
    if (st != STORE_OK) {
        o = outcome_from_store(st, OUTCOME_TOKEN_INVALID);
    } else if (wait > 0) {
        detail->retry_after = wait;
        o = OUTCOME_THROTTLED;
    } else {
        o = check(arg);
        /* A right code gives its reservation back and no more: unlike a
         * right password it forgets no failures, or a caller who has the
         * code (a phone) but not the password would clear the count of
         * its guesses at the password each time. Compare-and-set: when
         * another attempt counted meanwhile, the count stays one higher. */
        if (o == OUTCOME_OK && t != NULL && su.last_failed_at == a.now &&
            (su.failed_logins != failed || su.last_failed_at != last) &&
            store_user_login_reserve(d->store, NULL, su.id, su.failed_logins, su.last_failed_at,
                                     failed, last) == STORE_UNAVAILABLE)
            log_error("user %lld: giving back a code's reservation failed", (long long)su.id);
    }
    attempt_end(&a, o);
    return o;
}

/* A name nobody has is throttled as an account would be, so that a 429
 * does not tell the names that exist from those that do not (per
 * instance: see the README), and spends the time of a real check. */
static enum outcome unknown_name(struct attempt *a, const char *name, size_t nlen,
                                 const char *password, size_t plen, struct outcome_detail *detail)
{
    unsigned wait;

    if (a->t != NULL && (wait = throttle_name_reserve(a->t, name, nlen, a->now)) > 0) {
        detail->retry_after = wait;
        return OUTCOME_THROTTLED;
    }
    password_verify_dummy(a->d->policy, password, plen);
    if (a->t != NULL)
        throttle_name_settle(a->t, name, nlen, true, a->now);
    return OUTCOME_BAD_CREDENTIALS;
}

/* The credential check of a login, throttled when t is not NULL (see
 * users_login). */
static enum outcome check_login(const struct users_deps *d, throttle *t, const struct netaddr *from,
                                const char *username, size_t ulen, const char *password,
                                size_t plen, bool pending, struct user *out,
                                struct outcome_detail *detail)
{
    struct attempt a = {d, t, from, timefmt_now(), false, pending};
    struct store_user su = {0};
    char key[USERNAME_STORED_MAX + 1];
    enum outcome o = attempt_begin(&a, detail);

    if (o != OUTCOME_OK)
        return o;
    /* Any name the original app could have stored logs in, not only those
     * the rules of a new name allow (core/username.h). */
    enum store_status st = STORE_NOT_FOUND;
    /* The name as an account is keyed (ASCII case folded), so that an
     * unknown name's spellings share one counter as an account's do. */
    const char *name = username;
    size_t nlen = ulen;
    if (username_storable(username, ulen)) {
        username_key_any(key, username, ulen);
        st = store_user_by_key(d->store, NULL, key, &su);
        name = key;
        nlen = strlen(key);
    }
    if (st == STORE_NOT_FOUND)
        o = unknown_name(&a, name, nlen, password, plen, detail);
    else if (st == STORE_OK)
        o = account_check(&a, &su, password, plen, OUTCOME_BAD_CREDENTIALS, detail);
    else
        o = outcome_from_store(st, OUTCOME_ERROR);
    /* A disabled user learns nothing more than a wrong password tells, not
     * even that the password was right (no second factor's step): the
     * check cost the same, and the answer is the same. */
    if (o == OUTCOME_OK && su.disabled) {
        o = OUTCOME_BAD_CREDENTIALS;
        detail->reason = "disabled";
    }
    take_user(&su, out);
    attempt_end(&a, o);
    return o;
}

enum outcome users_check_credentials(const struct users_deps *d, const char *username, size_t ulen,
                                     const char *password, size_t plen, struct user *out)
{
    struct outcome_detail detail = {0};

    return check_login(d, NULL, NULL, username, ulen, password, plen, false, out, &detail);
}

enum outcome users_login(const struct users_deps *d, throttle *t, const struct netaddr *from,
                         const char *username, size_t ulen, const char *password, size_t plen,
                         struct user *out, struct outcome_detail *detail)
{
    return check_login(d, t, from, username, ulen, password, plen, true, out, detail);
}

void users_login_done(const struct users_deps *d, throttle *t, int64_t user_id)
{
    if (t == NULL || throttle_limits_of(t)->account_failures == 0)
        return;
    if (store_user_login_failures_reset(d->store, NULL, user_id) == STORE_UNAVAILABLE)
        log_error("user %lld: forgetting its failed logins failed", (long long)user_id);
}

enum outcome users_by_token(const struct users_deps *d, const struct jwt_claims *claims,
                            struct user *out)
{
    struct store_user su = {0};
    enum store_status st = store_user_by_id(d->store, NULL, claims->user_id, &su);

    take_user(&su, out);
    return outcome_from_store(st, OUTCOME_TOKEN_INVALID);
}

/* The user behind claims with the password checked, throttled as a login
 * of that account from the address from (t NULL: not at all): OUTCOME_OK
 * with *su filled (the caller wipes its hash), OUTCOME_TOKEN_INVALID when
 * the user is gone, OUTCOME_BAD_CREDENTIALS for a wrong password (counted
 * as a failed login), OUTCOME_THROTTLED while locked. A stolen access token
 * must not buy unlimited guesses at the password. */
static enum outcome recheck(const struct users_deps *d, throttle *t, const struct netaddr *from,
                            const struct jwt_claims *claims, const char *password, size_t plen,
                            struct store_user *su, struct outcome_detail *detail)
{
    struct attempt a = {d, t, from, timefmt_now(), false, false};
    enum outcome o = attempt_begin(&a, detail);

    if (o != OUTCOME_OK)
        return o;
    enum store_status st = store_user_by_id(d->store, NULL, claims->user_id, su);
    o = st == STORE_OK ? account_check(&a, su, password, plen, OUTCOME_TOKEN_INVALID, detail)
                       : outcome_from_store(st, OUTCOME_TOKEN_INVALID);
    attempt_end(&a, o);
    return o;
}

struct set_password {
    store *store;
    int64_t id;
    const char *hash;
    enum store_status (*also)(store_tx *tx, void *arg); /* NULL: nothing more */
    void *also_arg;
};

static enum store_status set_password(store_tx *tx, void *arg)
{
    struct set_password *p = arg;
    enum store_status st = STORE_OK;

    /* The other write first: a reset token that is used up already ends
     * the transaction before the password changes. */
    if (p->also != NULL)
        st = p->also(tx, p->also_arg);
    if (st == STORE_OK)
        st = store_user_set_password(p->store, tx, p->id, p->hash, timefmt_now());
    return st;
}

/* Sets next as su's password, the rules applied (their errors under
 * field): the new hash and the revocation of the user's sessions of scope
 * (all but sid for SESSIONS_OTHERS) commit together, so that whoever held
 * a session with the old password loses it. */
static enum outcome replace_password_with(const struct users_deps *d,
                                          const struct sessions_deps *sd,
                                          const struct store_user *su, const char *field,
                                          const char *next, size_t nlen, const char *sid,
                                          enum sessions_scope scope,
                                          enum store_status (*also)(store_tx *tx, void *arg),
                                          void *also_arg, struct outcome_detail *detail)
{
    char hash[PASSWORD_HASH_MAX];

    check_password(d->policy, field, su->username, next, nlen, &detail->errors);
    if (detail->errors.count > 0)
        return OUTCOME_INVALID;
    if (password_hash(d->policy, next, nlen, hash) != 0) {
        log_error("password hashing failed");
        return OUTCOME_ERROR;
    }
    struct set_password p = {d->store, su->id, hash, also, also_arg};
    enum outcome o = sessions_revoke_with(sd, su->id, sid, scope, set_password, &p);
    sodium_memzero(hash, sizeof hash);
    return o;
}

static enum outcome replace_password(const struct users_deps *d, const struct sessions_deps *sd,
                                     const struct store_user *su, const char *field,
                                     const char *next, size_t nlen, const char *sid,
                                     enum sessions_scope scope, struct outcome_detail *detail)
{
    return replace_password_with(d, sd, su, field, next, nlen, sid, scope, NULL, NULL, detail);
}

enum outcome users_recheck(const struct users_deps *d, throttle *t, const struct netaddr *from,
                           const struct jwt_claims *claims, const char *password, size_t plen,
                           struct user *out, struct outcome_detail *detail)
{
    struct store_user su = {0};
    enum outcome o = recheck(d, t, from, claims, password, plen, &su, detail);

    take_user(&su, out);
    return o;
}

enum outcome users_set_password_with(const struct users_deps *d, const struct sessions_deps *sd,
                                     int64_t id, const char *next, size_t nlen,
                                     enum store_status (*also)(store_tx *tx, void *arg),
                                     void *also_arg, struct outcome_detail *detail)
{
    struct store_user su = {0};
    enum store_status st = store_user_by_id(d->store, NULL, id, &su);

    sodium_memzero(su.password_hash, sizeof su.password_hash);
    if (st != STORE_OK)
        return outcome_from_store(st, OUTCOME_TOKEN_INVALID);
    return replace_password_with(d, sd, &su, "new_password", next, nlen, NULL, SESSIONS_GLOBAL,
                                 also, also_arg, detail);
}

enum outcome users_change_password(const struct users_deps *d, throttle *t,
                                   const struct netaddr *from, const struct sessions_deps *sd,
                                   const struct jwt_claims *claims, const char *current,
                                   size_t clen, const char *next, size_t nlen,
                                   struct outcome_detail *detail)
{
    struct store_user su = {0};
    enum outcome o = recheck(d, t, from, claims, current, clen, &su, detail);

    sodium_memzero(su.password_hash, sizeof su.password_hash);
    if (o != OUTCOME_OK)
        return o;
    /* Every other session ends: a thief holding one loses it with the old
     * password. */
    return replace_password(d, sd, &su, "new_password", next, nlen, claims->sid, SESSIONS_OTHERS,
                            detail);
}

struct delete_user {
    store *store;
    int64_t id;
};

static enum store_status delete_user(store_tx *tx, void *arg)
{
    struct delete_user *p = arg;

    return store_user_delete(p->store, tx, p->id);
}

enum outcome users_delete(const struct users_deps *d, throttle *t, const struct netaddr *from,
                          const struct sessions_deps *sd, const struct jwt_claims *claims,
                          const char *password, size_t plen, struct outcome_detail *detail)
{
    struct store_user su = {0};
    enum outcome o = recheck(d, t, from, claims, password, plen, &su, detail);

    sodium_memzero(su.password_hash, sizeof su.password_hash);
    if (o != OUTCOME_OK)
        return o;
    /* Every session is revoked (and recorded, so that other instances and
     * restarts refuse their tokens) in the transaction that deletes the
     * user; the cascade then removes the session rows. */
    struct delete_user p = {d->store, su.id};
    return sessions_revoke_with(sd, claims->user_id, claims->sid, SESSIONS_GLOBAL, delete_user, &p);
}

/* Finds the user an operator names, under any name the store can hold;
 * OUTCOME_BAD_CREDENTIALS when there is none. The hash is wiped at once:
 * an operator's command replaces or deletes it, never checks it. */
static enum outcome operator_find(const struct users_deps *d, const char *username, size_t ulen,
                                  struct store_user *su)
{
    char key[USERNAME_STORED_MAX + 1];

    if (!username_storable(username, ulen))
        return OUTCOME_BAD_CREDENTIALS;
    username_key_any(key, username, ulen);
    enum store_status st = store_user_by_key(d->store, NULL, key, su);
    sodium_memzero(su->password_hash, sizeof su->password_hash);
    return outcome_from_store(st, OUTCOME_BAD_CREDENTIALS);
}

enum outcome users_remove(const struct users_deps *d, const struct sessions_deps *sd,
                          const char *username, size_t ulen, int64_t *id)
{
    struct store_user su = {0};
    enum outcome o = operator_find(d, username, ulen, &su);

    if (o != OUTCOME_OK)
        return o;
    /* As DELETE /me: the user's row first, then its sessions revoked and
     * the user deleted, in one transaction, so that a login racing the
     * deletion either opens its session before (and sees it revoked) or
     * finds no user. */
    struct delete_user p = {d->store, su.id};
    o = sessions_revoke_with(sd, su.id, NULL, SESSIONS_GLOBAL, delete_user, &p);
    if (o == OUTCOME_TOKEN_INVALID)
        return OUTCOME_BAD_CREDENTIALS; /* deleted meanwhile */
    if (o == OUTCOME_OK)
        *id = su.id;
    return o;
}

enum outcome users_reset_password(const struct users_deps *d, const struct sessions_deps *sd,
                                  const char *username, size_t ulen, const char *next, size_t nlen,
                                  int64_t *id, struct outcome_detail *detail)
{
    struct store_user su = {0};
    enum outcome o = operator_find(d, username, ulen, &su);

    if (o != OUTCOME_OK)
        return o;
    /* As PUT /me/password, but every session ends: the operator resets a
     * password because someone else may know the old one. */
    o = replace_password(d, sd, &su, "password", next, nlen, NULL, SESSIONS_GLOBAL, detail);
    if (o == OUTCOME_TOKEN_INVALID)
        return OUTCOME_BAD_CREDENTIALS; /* deleted meanwhile */
    if (o == OUTCOME_OK)
        *id = su.id;
    return o;
}
