#ifndef GH_CORE_EMAILS_H
#define GH_CORE_EMAILS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/jwt.h"
#include "core/outcome.h"
#include "core/throttle.h"
#include "core/users.h"

/* Email addresses of accounts and the mailed tokens: confirmation of an
 * address, password reset by mail, and the notices that go with them
 * (API.md, "Email"). Tokens are 256 random bits in base64url (43
 * characters), stored only as their SHA-256, single-use by one
 * compare-and-set statement, and expiring. Runs on worker threads. */

struct mailer;        /* core/mail.h: NULL when SMTP_URL is unset (mail is off) */
struct sessions_deps; /* core/sessions.h */
typedef struct store store;

/* An address: at most EMAILS_MAX bytes (RFC 5321 §4.5.3.1.3 path limit less
 * the angle brackets), a local part of at most 64, a domain of at most 255. */
#define EMAILS_MAX       254
#define EMAILS_LOCAL_MAX 64
#define EMAILS_TOKEN_LEN 43 /* base64url of 32 bytes, unpadded */

struct emails_deps {
    store *store;
    const struct users_deps *users;
    const struct sessions_deps *sessions;
    struct mailer *mailer; /* NULL: mail is off, the mailing endpoints answer 501 */
    throttle *throttle;    /* the per-address mail limit (throttle_mail_*); NULL: none */
    long min_interval_s;   /* MAIL_MIN_INTERVAL_SECONDS: mails per account */
    long confirm_ttl_s;    /* EMAIL_TOKEN_EXPIRE_MINUTES * 60 */
    long reset_ttl_s;      /* RESET_TOKEN_EXPIRE_MINUTES * 60 */
};

/* Why an address is refused (emails_check). */
enum emails_check {
    EMAILS_OK = 0,
    EMAILS_TOO_LONG,   /* over EMAILS_MAX, or a part over its limit */
    EMAILS_NO_AT,      /* not exactly one '@' with text on both sides */
    EMAILS_BAD_LOCAL,  /* the local part is not a dot-atom of the allowed characters */
    EMAILS_BAD_DOMAIN, /* the domain is not a dotted name of LDH labels */
};

/* Checks addr (len bytes, not NUL-terminated) against the subset of RFC 5322
 * addr-spec gatehouse accepts: local@domain, one '@'; the local part a
 * dot-atom (RFC 5322 §3.2.3 atext: ASCII letters, digits and
 * !#$%&'*+-/=?^_`{|}~, dots between atoms, none leading, trailing or
 * doubled) of 1..64 bytes; no quoted strings, comments or address
 * literals; the domain 1..255 bytes of at least two labels separated by
 * dots, each 1..63 of letters, digits and '-', not starting or ending with
 * '-' (RFC 1035 §2.3.1; a domain without a dot, such as "localhost", is
 * refused), the last label not all digits; the whole at most EMAILS_MAX.
 * Non-ASCII (internationalised addresses, IDN) is refused: a user with an
 * IDN domain gives its A-label (xn--) form. Pure. */
enum emails_check emails_check(const char *addr, size_t len);

/* The key an address is unique by: addr (valid) with ASCII letters
 * lower-cased, into key (EMAILS_MAX + 1 bytes), NUL-terminated. */
void emails_key(char *key, const char *addr, size_t len);

/* The account's address as GET /me shows it; email is "" when none. */
struct emails_address {
    char email[EMAILS_MAX + 1];
    bool verified;
};

/* The address of user id, into *out. OUTCOME_TOKEN_INVALID when the user
 * is gone. */
enum outcome emails_of_user(const struct emails_deps *e, int64_t id, struct emails_address *out);

/* POST /register's "email" (valid, checked by the caller): gives the new
 * user u the address, unconfirmed, unless another account has it (the
 * unique index decides); then its owner is sent MAIL_ADDRESS_TAKEN instead,
 * and u keeps no address. With mail on, a free address is sent a
 * confirmation link. lang: the mail's language (NULL: "en"). *taken tells
 * which happened (for the audit only: never for the client). */
enum outcome emails_register(const struct emails_deps *e, const struct user *u, const char *email,
                             size_t elen, const char *lang, bool *taken);

/* POST /email/verify: mails a confirmation link for the account's address.
 * OUTCOME_MAIL_OFF without mail, OUTCOME_NO_EMAIL without an address,
 * OUTCOME_THROTTLED (detail->retry_after) within MAIL_MIN_INTERVAL_SECONDS
 * of the account's last mailed request, OUTCOME_TOKEN_INVALID when the user
 * is gone. */
enum outcome emails_verify(const struct emails_deps *e, const struct jwt_claims *claims,
                           const char *lang, struct outcome_detail *d);

/* PUT /me/email: password checked as PUT /me/password checks it (throttled
 * as a login of the account from the address from), then a confirmation
 * link to the new address (valid, checked by the caller) and
 * MAIL_ADDRESS_CHANGED to the old one, if any; when another account has the
 * new address, its owner gets MAIL_ADDRESS_TAKEN instead of the link. The
 * address changes only when the link is confirmed. *taken as in
 * emails_register. */
enum outcome emails_change(const struct emails_deps *e, const struct netaddr *from,
                           const struct jwt_claims *claims, const char *password, size_t plen,
                           const char *email, size_t elen, const char *lang, bool *taken,
                           struct outcome_detail *d);

/* POST /password/forgot: records the request (by_email: name is an
 * address, else a username; nlen at most 255) and its id into *request_id,
 * in one insert whatever the account, so that the answer's time tells
 * nothing; emails_resolve does the rest after the answer. OUTCOME_MAIL_OFF
 * without mail. */
enum outcome emails_forgot(const struct emails_deps *e, bool by_email, const char *name,
                           size_t nlen, const char *lang, int64_t *request_id);

/* Resolves a recorded request in one transaction: takes (deletes) it, and
 * when it names an account with an address whose per-account window
 * (MAIL_MIN_INTERVAL_SECONDS, counted from the request) is open, voids the
 * account's older reset tokens and queues a reset link. A request another
 * worker took is OUTCOME_OK with nothing done. OUTCOME_UNAVAILABLE leaves
 * the request for emails_resolve_pending; any other failure, which would
 * recur, drops it (logged). */
enum outcome emails_resolve(const struct emails_deps *e, int64_t request_id);

/* Resolves every request left waiting (a crash between the answer and its
 * resolution, a full queue): at start and on the janitor's round. Returns
 * how many it resolved; stops when the database is unavailable. */
size_t emails_resolve_pending(const struct emails_deps *e);

/* Deletes the mailed tokens used, or expired at now (the janitor's round). */
void emails_purge(const struct emails_deps *e, int64_t now);

/* POST /password/reset: consumes a live reset token, sets the new password (the rules apply:
 * OUTCOME_INVALID with the errors), revokes every session, marks the address confirmed.
 * A bad, used or expired token: OUTCOME_BAD_TOKEN (a new outcome: 400). */
enum outcome emails_reset_password(const struct emails_deps *e, const char *token, size_t tlen,
                                   const char *password, size_t plen, struct outcome_detail *d);

/* POST /email/confirm: consumes a live confirmation token; the address it names becomes the
 * account's, confirmed. OUTCOME_BAD_TOKEN otherwise. */
enum outcome emails_confirm(const struct emails_deps *e, const char *token, size_t tlen,
                            struct outcome_detail *d);

/* gatehouse users reset-password USERNAME (without --stdin): queues a reset
 * link to the account's address in the outbox (not throttled: an
 * operator asks). OUTCOME_BAD_CREDENTIALS for no such user,
 * OUTCOME_NO_EMAIL when it has no address, OUTCOME_MAIL_OFF without mail. */
enum outcome emails_reset_link(const struct emails_deps *e, const char *username, size_t ulen,
                               int64_t *id);

#endif
