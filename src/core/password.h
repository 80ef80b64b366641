#ifndef GH_CORE_PASSWORD_H
#define GH_CORE_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Password hashing (bcrypt through libxcrypt, argon2id through libsodium)
 * and the rules a new password must meet (NIST SP 800-63B: length, a list of
 * common passwords, no composition rules). */

/* The scheme new hashes are made with (PASSWORD_HASH); verification reads
 * both whatever the setting. */
enum password_scheme { PASSWORD_BCRYPT, PASSWORD_ARGON2ID };

#define PASSWORD_HASH_MAX   128  /* longest hash string we write or read */
#define PASSWORD_BCRYPT_MAX 72   /* bcrypt reads no more than 72 bytes */
#define PASSWORD_ARGON2_MAX 1024 /* our limit with argon2id */

/* Field-level rule violations, as the API reports them in 422 "errors". */
enum password_rule {
    RULE_OK = 0,
    RULE_TOO_SHORT,
    RULE_TOO_LONG,
    RULE_CONTAINS_NUL,
    RULE_EQUALS_USERNAME,
    RULE_TOO_COMMON,
    RULE_INVALID_UTF8,
    RULE_INVISIBLE, /* a default-ignorable code point, such as U+200B */
};

struct password_policy {
    enum password_scheme scheme;
    long bcrypt_rounds;
    long min_length; /* in code points */
};

/* Passwords are compared in Unicode normalisation form NFKC (NIST SP
 * 800-63B §5.1.1.2), so that "café" typed as one code point or as "e" and a
 * combining accent is one password, and a full-width "ｐａｓｓ" is "pass".
 * password_check, password_hash and password_verify normalise what they are
 * given themselves; the length rules count the normalised form. */

/* Checks the rules for a new password pw (len bytes of UTF-8, may hold NULs)
 * of user username: valid UTF-8, no NUL, no default-ignorable code point
 * (invisible: U+200B, U+00AD, U+FE0F, ...), then, normalised, the length
 * limits, not the username, not a common password. Returns the first rule
 * broken, or RULE_OK. */
enum password_rule password_check(const struct password_policy *pol, const char *username,
                                  const char *pw, size_t len);

/* Hashes the normalised pw with the policy's scheme into out
 * (PASSWORD_HASH_MAX bytes). The caller has checked the rules. Returns 0, or
 * -1 when the system cannot hash (no entropy, out of memory). */
int password_hash(const struct password_policy *pol, const char *pw, size_t len, char *out);

/* True when pw matches hash ($2a$, $2b$, $2y$ bcrypt or $argon2id$):
 * password_match is not PASSWORD_NO_MATCH. Each form is checked by a full
 * verification whatever the input, so that a refusal takes as long as a
 * mismatch: a password bcrypt cannot represent (over 72 bytes, or holding a
 * NUL) or one over PASSWORD_ARGON2_MAX for argon2id is hashed (cut to the
 * limit) and never matches, and a hash of another format is never matched
 * after a verification against the dummy hashes (password_init). */
bool password_verify(const char *pw, size_t len, const char *hash);

enum password_match {
    PASSWORD_NO_MATCH = 0,
    PASSWORD_MATCH,     /* the normalised form matched */
    PASSWORD_MATCH_RAW, /* the form as typed matched: a hash made without
                         * normalisation (imported from the original app),
                         * which the caller replaces (password_hash) */
};

/* Verifies pw against hash in its normalised form and, when that differs
 * from pw as given, in the given form too (hashes imported from the
 * original app were made without normalisation). Both are hashed whenever
 * they differ, whatever the first gives: the cost depends on the input
 * alone, never on the account. Runs a full verification whatever the input,
 * so that a refusal takes as long as a mismatch; a password bcrypt cannot
 * represent (over 72 bytes, or holding a NUL) never matches a bcrypt hash. */
enum password_match password_match(const char *pw, size_t len, const char *hash);

/* The highest costs a stored hash may have. A hash past them is refused at
 * import and never verified at login (the login fails as with a wrong
 * password), so that one login cannot hold a worker for hours. The reasons
 * for each number are in password.c. */
#define PASSWORD_BCRYPT_COST_MAX   16
#define PASSWORD_ARGON2_MEMORY_MAX (1024L * 1024L) /* KiB: 1 GiB */
#define PASSWORD_ARGON2_PASSES_MAX 10
#define PASSWORD_ARGON2_LANES_MAX  16

enum password_hash_form {
    PASSWORD_HASH_OK,        /* a format and cost password_verify reads */
    PASSWORD_HASH_UNKNOWN,   /* no format gatehouse reads */
    PASSWORD_HASH_TOO_COSTLY /* a format it reads, with a cost past the bounds */
};

/* Says whether hash is in a format password_verify reads: bcrypt ($2a$,
 * $2b$, $2y$, cost 04 to PASSWORD_BCRYPT_COST_MAX, 22 characters of salt and
 * 31 of hash) or an argon2id PHC string libsodium accepts with m, t and p
 * within the bounds above, shorter than PASSWORD_HASH_MAX. When why is not
 * NULL it receives a one-line reason for anything but PASSWORD_HASH_OK (why
 * holds whylen bytes). What an import checks, so that no account arrives
 * that nobody could log in to or whose login costs hours. */
enum password_hash_form password_hash_form(const char *hash, char *why, size_t whylen);

/* password_hash_form(hash, NULL, 0) == PASSWORD_HASH_OK. */
bool password_hash_known(const char *hash);

/* True when hash, which a password has just been verified against, is
 * weaker than what password_hash makes under pol: bcrypt of a lower cost
 * than pol's rounds, bcrypt while the scheme is argon2id, or argon2id with
 * less memory or fewer passes than ours (or another version). A stronger
 * hash is kept (a higher bcrypt cost, argon2id while the scheme is bcrypt),
 * and so is a hash this module cannot read. */
bool password_needs_rehash(const struct password_policy *pol, const char *hash);

/* Verifies pw against a dummy hash (of no known password) of each scheme
 * in use, made at the policy's cost, so that logins of unknown users take
 * as long as those of real ones, whichever scheme their hash has. Always
 * false. */
bool password_verify_dummy(const struct password_policy *pol, const char *pw, size_t len);

/* Tops up the refusal of pw against the stored hash (password_verify just
 * said false) to what password_verify_dummy costs: the dummy check of every
 * other scheme in use, and of the hash's own scheme when the hash is weaker
 * than the policy's cost. So a wrong password costs what an unknown name
 * does, after a change of BCRYPT_ROUNDS or PASSWORD_HASH too. A hash
 * stronger than the policy's is not matched (the dummies never cost more
 * than the policy: a stored cost 31 must not make every login cost it). */
void password_refused(const char *hash, const char *pw, size_t len);

/* Marks scheme as having hashes in use (found stored at start); the scheme
 * of the policy is, and so is any met at login. */
void password_scheme_in_use(enum password_scheme scheme);

/* Prepares the dummy hashes at the policy's cost; call once at start-up.
 * Returns 0 or -1. */
int password_init(const struct password_policy *pol);

/* The verifications made since start, for GET /metrics: *stored against
 * stored hashes, *dummy against the dummy hashes (an unknown name, a hash
 * nobody can read, the top-up of a weak hash's refusal). */
void password_checks(uint64_t *stored, uint64_t *dummy);

#endif
