#include "core/emails.h"

#include <sodium.h>
#include <string.h>

#include "core/mail.h"
#include "core/outcome_store.h"
#include "core/sessions.h"
#include "core/username.h"
#include "core/users_tx.h"
#include "store/store.h"
#include "util/bearer.h"
#include "util/log.h"
#include "util/timefmt.h"

_Static_assert(EMAILS_MAX == STORE_EMAIL_MAX, "an address is a stored address");
_Static_assert(EMAILS_TOKEN_LEN == BEARER_LEN, "a mailed token is a bearer token");

/* ---- addresses ---------------------------------------------------------- */

/* RFC 5322 §3.2.3 atext. */
static bool atext(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* A dot-atom: atoms of atext joined by single dots. */
static bool dot_atom(const char *s, size_t len)
{
    if (len == 0 || s[0] == '.' || s[len - 1] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.') {
            if (s[i + 1] == '.')
                return false;
        } else if (!atext((unsigned char)s[i])) {
            return false;
        }
    }
    return true;
}

static bool ldh(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

/* A host name of RFC 1035 §2.3.1 labels (LDH, 1..63 bytes, no hyphen at
 * either end), at least two of them, the last not all digits (which would
 * read as an IPv4 address). */
static bool domain(const char *s, size_t len)
{
    size_t labels = 0, start = 0;
    bool digits_only = true;

    if (len == 0 || len > 255)
        return false;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.') {
            if (!ldh((unsigned char)s[i]))
                return false;
            continue;
        }
        size_t n = i - start;
        if (n == 0 || n > 63 || s[start] == '-' || s[i - 1] == '-')
            return false;
        digits_only = true;
        for (size_t j = start; j < i; j++)
            if (s[j] < '0' || s[j] > '9')
                digits_only = false;
        labels++;
        start = i + 1;
    }
    return labels >= 2 && !digits_only;
}

enum emails_check emails_check(const char *addr, size_t len)
{
    const char *at = len > 0 ? memchr(addr, '@', len) : NULL;

    if (len > EMAILS_MAX)
        return EMAILS_TOO_LONG;
    if (at == NULL || at == addr || at == addr + len - 1 ||
        memchr(at + 1, '@', len - (size_t)(at - addr) - 1) != NULL)
        return EMAILS_NO_AT;
    size_t local = (size_t)(at - addr);
    if (local > EMAILS_LOCAL_MAX)
        return EMAILS_TOO_LONG;
    if (!dot_atom(addr, local))
        return EMAILS_BAD_LOCAL;
    if (!domain(at + 1, len - local - 1))
        return EMAILS_BAD_DOMAIN;
    return EMAILS_OK;
}

void emails_key(char *key, const char *addr, size_t len)
{
    size_t n = len < EMAILS_MAX ? len : EMAILS_MAX;

    /* Only ASCII is ever valid, so ASCII folding is the whole of case:
     * RFC 5321 lets a local part be case-sensitive, but no mailbox provider
     * makes two that differ only by case, and users type either. */
    for (size_t i = 0; i < n; i++) {
        char c = addr[i];
        key[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    key[n] = '\0';
}

/* ---- tokens --------------------------------------------------------------- */

static const char *lang_of(const char *lang)
{
    return lang != NULL && strcmp(lang, "ru") == 0 ? "ru" : "en";
}

/* Inside tx: a new token of purpose for user id, mailed to email (the
 * message in the outbox, in the same transaction); a reset first voids the
 * account's older reset tokens. */
static enum store_status mail_token(const struct emails_deps *e, store_tx *tx, int64_t id,
                                    const char *username, const char *email, const char *purpose,
                                    const char *lang, int64_t now)
{
    bool reset = strcmp(purpose, STORE_TOKEN_RESET) == 0;
    char tok[EMAILS_TOKEN_LEN + 1];
    unsigned char hash[32];
    enum store_status st = STORE_OK;

    if (reset)
        st = store_email_tokens_void(e->store, tx, id, STORE_TOKEN_RESET);
    if (st != STORE_OK)
        return st;
    bearer_new(tok, hash);
    st = store_email_token_add(e->store, tx, hash, id, purpose, email, now,
                               now + (reset ? e->reset_ttl_s : e->confirm_ttl_s));
    if (st == STORE_OK) {
        struct mail_fields f = {
            .to = email, .username = username, .token = tok, .lang = lang_of(lang)};
        st = mail_enqueue(e->mailer, e->store, tx, reset ? MAIL_RESET : MAIL_CONFIRM, &f);
    }
    sodium_memzero(tok, sizeof tok);
    return st;
}

/* Commits tx (or rolls it back after a failure st) and wakes the sender. */
static enum outcome finish(const struct emails_deps *e, store_tx *tx, enum store_status st,
                           enum outcome not_found)
{
    if (st == STORE_OK)
        st = store_commit(tx);
    else
        store_rollback(tx);
    if (st == STORE_OK && e->mailer != NULL)
        mail_wake(e->mailer);
    return outcome_from_store(st, not_found);
}

/* A notice without a token (MAIL_ADDRESS_TAKEN, MAIL_ADDRESS_CHANGED) in a
 * transaction of its own. */
static enum outcome notice(const struct emails_deps *e, enum mail_kind kind,
                           const struct mail_fields *f)
{
    store_tx tx;
    enum store_status st = store_begin(e->store, &tx);

    if (st != STORE_OK)
        return outcome_from_store(st, OUTCOME_ERROR);
    return finish(e, &tx, mail_enqueue(e->mailer, e->store, &tx, kind, f), OUTCOME_ERROR);
}

/* To the owner of the address key names: someone tried to take it. */
static enum outcome notice_taken(const struct emails_deps *e, const char *key, const char *lang)
{
    struct store_email owner;
    enum store_status st = store_user_by_email_key(e->store, NULL, key, &owner);

    if (st == STORE_NOT_FOUND) /* its owner let go of it meanwhile */
        return OUTCOME_OK;
    if (st != STORE_OK)
        return outcome_from_store(st, OUTCOME_ERROR);
    struct mail_fields f = {.to = owner.email, .username = owner.username, .lang = lang_of(lang)};
    return notice(e, MAIL_ADDRESS_TAKEN, &f);
}

/* ---- the flows ------------------------------------------------------------ */

enum outcome emails_of_user(const struct emails_deps *e, int64_t id, struct emails_address *out)
{
    struct store_email se;
    enum store_status st = store_user_email(e->store, NULL, id, &se);

    memset(out, 0, sizeof *out);
    if (st == STORE_OK) {
        memcpy(out->email, se.email, sizeof out->email);
        out->verified = se.verified && se.email[0] != '\0';
    }
    return outcome_from_store(st, OUTCOME_TOKEN_INVALID);
}

enum outcome emails_register(const struct emails_deps *e, const struct user *u, const char *email,
                             size_t elen, const char *lang, bool *taken)
{
    char addr[EMAILS_MAX + 1], key[EMAILS_MAX + 1];
    store_tx tx;

    *taken = false;
    if (elen > EMAILS_MAX)
        return OUTCOME_ERROR; /* the caller checked it */
    memcpy(addr, email, elen);
    addr[elen] = '\0';
    emails_key(key, email, elen);
    enum store_status st = store_begin(e->store, &tx);
    if (st != STORE_OK)
        return outcome_from_store(st, OUTCOME_ERROR);
    /* The unique index decides: of two registrations with one address, one
     * gets it and the other's owner is told. */
    st = store_user_email_set(e->store, &tx, u->id, addr, key, false);
    if (st == STORE_CONFLICT) {
        store_rollback(&tx);
        *taken = true;
        return e->mailer != NULL ? notice_taken(e, key, lang) : OUTCOME_OK;
    }
    if (st == STORE_OK && e->mailer != NULL)
        st = mail_token(e, &tx, u->id, u->username, addr, STORE_TOKEN_CONFIRM, lang, timefmt_now());
    return finish(e, &tx, st, OUTCOME_ERROR);
}

/* Opens the account's mail window (MAIL_MIN_INTERVAL_SECONDS) for a request
 * made at `at`: STORE_NOT_FOUND when a mail of the window was asked for
 * already. 0 is no limit: every request mails. Compared, a request that
 * waited behind a later one of the same account (forgot requests are
 * resolved by several workers) found the window moved past its own time
 * and mailed nothing. */
static enum store_status window_open(const struct emails_deps *e, store_tx *tx, int64_t user_id,
                                     int64_t at)
{
    if (e->min_interval_s == 0)
        return STORE_OK;
    return store_user_mail_requested(e->store, tx, user_id, at, at - e->min_interval_s);
}

enum outcome emails_verify(const struct emails_deps *e, const struct jwt_claims *claims,
                           const char *lang, struct outcome_detail *d)
{
    struct store_email se;
    int64_t now = timefmt_now();
    store_tx tx;

    if (e->mailer == NULL)
        return OUTCOME_MAIL_OFF;
    enum store_status st = store_user_email(e->store, NULL, claims->user_id, &se);
    if (st != STORE_OK)
        return outcome_from_store(st, OUTCOME_TOKEN_INVALID);
    if (se.email[0] == '\0')
        return OUTCOME_NO_EMAIL;
    if ((st = store_begin(e->store, &tx)) != STORE_OK)
        return outcome_from_store(st, OUTCOME_ERROR);
    /* The account's window, compare-and-set: of concurrent requests one
     * mails, the others are told when to try again. */
    st = window_open(e, &tx, se.user_id, now);
    if (st == STORE_NOT_FOUND) {
        store_rollback(&tx);
        int64_t left = se.mail_requested_at + e->min_interval_s - now;
        d->retry_after = left > 0 ? (unsigned)left : 1;
        return OUTCOME_THROTTLED;
    }
    if (st == STORE_OK)
        st = mail_token(e, &tx, se.user_id, se.username, se.email, STORE_TOKEN_CONFIRM, lang, now);
    return finish(e, &tx, st, OUTCOME_TOKEN_INVALID);
}

enum outcome emails_change(const struct emails_deps *e, const struct netaddr *from,
                           const struct jwt_claims *claims, const char *password, size_t plen,
                           const char *email, size_t elen, const char *lang, bool *taken,
                           struct outcome_detail *d)
{
    char addr[EMAILS_MAX + 1], key[EMAILS_MAX + 1];
    struct store_email me, owner;
    struct user u;
    store_tx tx;

    *taken = false;
    if (e->mailer == NULL)
        return OUTCOME_MAIL_OFF;
    if (elen > EMAILS_MAX)
        return OUTCOME_ERROR; /* the caller checked it */
    enum outcome o = users_recheck(e->users, e->throttle, from, claims, password, plen, &u, d);
    if (o != OUTCOME_OK)
        return o;
    memcpy(addr, email, elen);
    addr[elen] = '\0';
    emails_key(key, email, elen);
    enum store_status st = store_user_email(e->store, NULL, u.id, &me);
    if (st != STORE_OK)
        return outcome_from_store(st, OUTCOME_TOKEN_INVALID);
    /* Which mail the new address gets; the unique index decides again when
     * the link is used (emails_confirm). */
    st = store_user_by_email_key(e->store, NULL, key, &owner);
    if (st != STORE_OK && st != STORE_NOT_FOUND)
        return outcome_from_store(st, OUTCOME_ERROR);
    *taken = st == STORE_OK && owner.user_id != u.id;
    if ((st = store_begin(e->store, &tx)) != STORE_OK)
        return outcome_from_store(st, OUTCOME_ERROR);
    struct mail_fields f = {.to = owner.email, .username = owner.username, .lang = lang_of(lang)};
    if (*taken)
        st = mail_enqueue(e->mailer, e->store, &tx, MAIL_ADDRESS_TAKEN, &f);
    else
        st = mail_token(e, &tx, u.id, u.username, addr, STORE_TOKEN_CONFIRM, lang, timefmt_now());
    /* The old address hears of it either way: the requester learns nothing
     * from which mails its own mailbox gets. */
    char old_key[EMAILS_MAX + 1];
    emails_key(old_key, me.email, strlen(me.email));
    if (st == STORE_OK && me.email[0] != '\0' && strcmp(old_key, key) != 0) {
        struct mail_fields c = {
            .to = me.email, .username = u.username, .new_email = addr, .lang = lang_of(lang)};
        st = mail_enqueue(e->mailer, e->store, &tx, MAIL_ADDRESS_CHANGED, &c);
    }
    return finish(e, &tx, st, OUTCOME_TOKEN_INVALID);
}

enum outcome emails_forgot(const struct emails_deps *e, bool by_email, const char *name,
                           size_t nlen, const char *lang, int64_t *request_id)
{
    char copy[STORE_USERNAME_MAX + 1];

    if (e->mailer == NULL)
        return OUTCOME_MAIL_OFF;
    if (nlen > STORE_USERNAME_MAX)
        return OUTCOME_ERROR; /* the caller checked it */
    memcpy(copy, name, nlen);
    copy[nlen] = '\0';
    /* One insert and one commit whatever the account: nothing here reads
     * the users, so the time of the answer tells nothing (emails_resolve
     * does the rest after it). */
    enum store_status st = store_password_request_add(e->store, NULL, by_email, copy, lang_of(lang),
                                                      timefmt_now(), request_id);
    return outcome_from_store(st, OUTCOME_ERROR);
}

/* The account a password request names, into *who (its address "" when
 * none): STORE_NOT_FOUND when nobody has that name or address. */
static enum store_status request_account(const struct emails_deps *e, store_tx *tx,
                                         const struct store_password_request *r,
                                         struct store_email *who)
{
    char key[STORE_USERNAME_MAX + 1];
    size_t len = strlen(r->name);

    if (r->by_email) {
        if (emails_check(r->name, len) != EMAILS_OK)
            return STORE_NOT_FOUND;
        emails_key(key, r->name, len);
        return store_user_by_email_key(e->store, tx, key, who);
    }
    if (!username_storable(r->name, len))
        return STORE_NOT_FOUND;
    struct store_user su = {0};
    username_key_any(key, r->name, len);
    enum store_status st = store_user_by_key(e->store, tx, key, &su);
    sodium_memzero(su.password_hash, sizeof su.password_hash);
    if (st != STORE_OK)
        return st;
    return store_user_email(e->store, tx, su.id, who);
}

/* Resolves a taken request inside tx: a reset link to the account's address
 * unless it has none or mailed within MAIL_MIN_INTERVAL_SECONDS of the
 * request (counted from the request, not from now). */
static enum store_status resolve_in(const struct emails_deps *e, store_tx *tx,
                                    const struct store_password_request *r, int64_t *user_id)
{
    struct store_email who;
    enum store_status st = request_account(e, tx, r, &who);

    if (st == STORE_NOT_FOUND || (st == STORE_OK && who.email[0] == '\0'))
        return STORE_OK;
    if (st != STORE_OK)
        return st;
    st = window_open(e, tx, who.user_id, r->created_at);
    if (st == STORE_NOT_FOUND)
        return STORE_OK; /* too soon: the request is spent, no mail */
    if (st == STORE_OK)
        st = mail_token(e, tx, who.user_id, who.username, who.email, STORE_TOKEN_RESET, r->lang,
                        timefmt_now());
    if (st == STORE_OK)
        *user_id = who.user_id;
    return st;
}

/* Deletes request id alone (its resolution failed for good). */
static void drop_request(const struct emails_deps *e, int64_t request_id)
{
    struct store_password_request r;
    store_tx tx;

    if (store_begin(e->store, &tx) != STORE_OK)
        return;
    enum store_status st = store_password_request_take(e->store, &tx, request_id, &r);
    sodium_memzero(r.name, sizeof r.name);
    if (st == STORE_OK)
        store_commit(&tx);
    else
        store_rollback(&tx);
}

enum outcome emails_resolve(const struct emails_deps *e, int64_t request_id)
{
    struct store_password_request r;
    int64_t user_id = 0;
    store_tx tx;
    enum store_status st = store_begin(e->store, &tx);

    if (st != STORE_OK)
        return outcome_from_store(st, OUTCOME_ERROR);
    /* Taking the row is the claim: of two workers (or instances) one
     * deletes it and goes on, the other finds nothing. The lookup, the
     * token and its mail commit with the deletion, or none of them. */
    st = store_password_request_take(e->store, &tx, request_id, &r);
    if (st == STORE_NOT_FOUND) {
        store_rollback(&tx);
        return OUTCOME_OK;
    }
    if (st == STORE_OK)
        st = resolve_in(e, &tx, &r, &user_id);
    sodium_memzero(r.name, sizeof r.name);
    enum outcome o = finish(e, &tx, st, OUTCOME_ERROR);
    if (o == OUTCOME_OK && user_id != 0) {
        struct log_field f[] = {LOG_NUM("user_id", user_id)};
        log_event(LOG_INFO, "password.reset_mailed", f, 1);
    } else if (o == OUTCOME_UNAVAILABLE) {
        log_error("password request %lld: the database is unavailable; the request waits for "
                  "the next sweep",
                  (long long)request_id);
    } else if (o != OUTCOME_OK) {
        /* Not a passing outage: trying again would fail again at every
         * sweep, so the request goes, unanswered by mail. */
        log_error("password request %lld: resolving it failed (%s); it is dropped",
                  (long long)request_id, outcome_name(o));
        drop_request(e, request_id);
    }
    return o;
}

size_t emails_resolve_pending(const struct emails_deps *e)
{
    int64_t ids[64];
    size_t n = 0, done = 0;

    do {
        if (store_password_requests_pending(e->store, ids, 64, &n) != STORE_OK)
            break;
        for (size_t i = 0; i < n; i++) {
            enum outcome o = emails_resolve(e, ids[i]);
            if (o == OUTCOME_UNAVAILABLE)
                return done; /* the database is away: the next sweep retries */
            done += o == OUTCOME_OK;
        }
    } while (n == 64);
    return done;
}

void emails_purge(const struct emails_deps *e, int64_t now)
{
    int64_t deleted = 0;

    if (store_email_tokens_purge(e->store, now, &deleted) != STORE_OK)
        log_error("purging used and expired mailed tokens failed");
    else if (deleted > 0)
        log_debug("purged %lld used or expired mailed tokens", (long long)deleted);
}

/* ---- using a token ---------------------------------------------------------- */

struct use_reset {
    const struct emails_deps *e;
    const unsigned char *hash;
    int64_t user_id;
};

/* Inside the reset's transaction: the compare-and-set that makes the token
 * single-use (a lost race rolls the new password back), and the address the
 * link went to counts as confirmed. */
static enum store_status use_reset(store_tx *tx, void *arg)
{
    struct use_reset *u = arg;
    char email[EMAILS_MAX + 1], key[EMAILS_MAX + 1];
    int64_t id = 0;
    enum store_status st = store_email_token_use(u->e->store, tx, u->hash, STORE_TOKEN_RESET,
                                                 timefmt_now(), &id, email);

    if (st == STORE_OK && id != u->user_id)
        st = STORE_NOT_FOUND; /* cannot happen: a token has one user */
    if (st == STORE_OK) {
        emails_key(key, email, strlen(email));
        st = store_user_email_verified_if(u->e->store, tx, id, key);
    }
    if (st == STORE_OK)
        st = store_email_tokens_void(u->e->store, tx, id, STORE_TOKEN_RESET);
    return st;
}

enum outcome emails_reset_password(const struct emails_deps *e, const char *token, size_t tlen,
                                   const char *password, size_t plen, struct outcome_detail *d)
{
    unsigned char hash[32];
    char email[EMAILS_MAX + 1];
    int64_t id = 0;

    if (!bearer_hash(token, tlen, hash))
        return OUTCOME_BAD_TOKEN;
    /* A look first, so that a broken password rule leaves the token for a
     * second try; the use itself is the compare-and-set in use_reset. */
    enum store_status st =
        store_email_token_peek(e->store, NULL, hash, STORE_TOKEN_RESET, timefmt_now(), &id, email);
    if (st == STORE_NOT_FOUND)
        return OUTCOME_BAD_TOKEN;
    if (st != STORE_OK)
        return outcome_from_store(st, OUTCOME_ERROR);
    struct use_reset u = {e, hash, id};
    enum outcome o =
        users_set_password_with(e->users, e->sessions, id, password, plen, use_reset, &u, d);
    /* TOKEN_INVALID: the token was used meanwhile, or its user is gone. */
    return o == OUTCOME_TOKEN_INVALID ? OUTCOME_BAD_TOKEN : o;
}

enum outcome emails_confirm(const struct emails_deps *e, const char *token, size_t tlen,
                            struct outcome_detail *d)
{
    unsigned char hash[32];
    char email[EMAILS_MAX + 1], key[EMAILS_MAX + 1];
    int64_t id = 0;
    store_tx tx;

    (void)d;
    if (!bearer_hash(token, tlen, hash))
        return OUTCOME_BAD_TOKEN;
    enum store_status st = store_begin(e->store, &tx);
    if (st != STORE_OK)
        return outcome_from_store(st, OUTCOME_ERROR);
    st = store_email_token_use(e->store, &tx, hash, STORE_TOKEN_CONFIRM, timefmt_now(), &id, email);
    if (st == STORE_OK) {
        /* The unique index decides once more: an address another account
         * confirmed since the link was sent is not taken from it. */
        emails_key(key, email, strlen(email));
        st = store_user_email_set(e->store, &tx, id, email, key, true);
    }
    /* The other links to confirm an address of this account are void: the
     * account has the address it confirmed last. */
    if (st == STORE_OK)
        st = store_email_tokens_void(e->store, &tx, id, STORE_TOKEN_CONFIRM);
    if (st == STORE_OK)
        st = store_audit_held_add(e->store, &tx, id);
    if (st == STORE_OK)
        return outcome_from_store(store_commit(&tx), OUTCOME_ERROR);
    store_rollback(&tx);
    return st == STORE_NOT_FOUND || st == STORE_CONFLICT ? OUTCOME_BAD_TOKEN
                                                         : outcome_from_store(st, OUTCOME_ERROR);
}

enum outcome emails_reset_link(const struct emails_deps *e, const char *username, size_t ulen,
                               int64_t *id)
{
    char key[USERNAME_STORED_MAX + 1];
    struct store_user su = {0};
    struct store_email who;
    store_tx tx;

    if (e->mailer == NULL)
        return OUTCOME_MAIL_OFF;
    if (!username_storable(username, ulen))
        return OUTCOME_BAD_CREDENTIALS;
    username_key_any(key, username, ulen);
    enum store_status st = store_user_by_key(e->store, NULL, key, &su);
    sodium_memzero(su.password_hash, sizeof su.password_hash);
    if (st == STORE_OK)
        st = store_user_email(e->store, NULL, su.id, &who);
    if (st != STORE_OK)
        return outcome_from_store(st, OUTCOME_BAD_CREDENTIALS);
    if (who.email[0] == '\0')
        return OUTCOME_NO_EMAIL;
    if ((st = store_begin(e->store, &tx)) != STORE_OK)
        return outcome_from_store(st, OUTCOME_ERROR);
    st = mail_token(e, &tx, su.id, who.username, who.email, STORE_TOKEN_RESET, "en", timefmt_now());
    enum outcome o = finish(e, &tx, st, OUTCOME_BAD_CREDENTIALS);
    if (o == OUTCOME_OK)
        *id = su.id;
    return o;
}
