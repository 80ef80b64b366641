#include "core/password.h"

#include <crypt.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/pwlist.h"
#include "util/utf8.h"

/* OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane (libsodium's lane
 * count is fixed at 1). */
#define ARGON2_OPSLIMIT 2
#define ARGON2_MEMLIMIT (19u * 1024u * 1024u)
/* The Argon2 version libsodium writes (v=19, that is 0x13, Argon2 1.3). */
#define ARGON2_VERSION_NUMBER 19

/* The dummy hashes a refused login is checked against (password_init):
 * one per scheme, at the policy's cost, and which schemes have hashes in
 * use (the policy's, those found stored at start, those met at login). */
static char dummy_bcrypt[PASSWORD_HASH_MAX], dummy_argon2[PASSWORD_HASH_MAX];
static long dummy_rounds;
static atomic_bool scheme_in_use[2];

enum password_rule password_check(const struct password_policy *pol, const char *username,
                                  const char *pw, size_t len)
{
    /* JSON input was validated by the parser; other callers (the command
     * line) rely on this check. */
    long cps = utf8_count(pw, len);
    size_t max = pol->scheme == PASSWORD_BCRYPT ? PASSWORD_BCRYPT_MAX : PASSWORD_ARGON2_MAX;

    if (cps < 0)
        return RULE_INVALID_UTF8;
    if (memchr(pw, '\0', len) != NULL)
        return RULE_CONTAINS_NUL;
    if (cps < pol->min_length)
        return RULE_TOO_SHORT;
    /* Refused, never truncated: bcrypt would silently ignore byte 73 on. */
    if (len > max)
        return RULE_TOO_LONG;
    if (strlen(username) == len && strncasecmp(username, pw, len) == 0)
        return RULE_EQUALS_USERNAME;
    if (pwlist_contains(pw, len))
        return RULE_TOO_COMMON;
    return RULE_OK;
}

static int bcrypt_hash(long rounds, const char *pw, char *out)
{
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data *cd;
    int rc = -1;

    if (crypt_gensalt_rn("$2b$", (unsigned long)rounds, NULL, 0, salt, sizeof salt) == NULL)
        return -1;
    cd = calloc(1, sizeof *cd);
    if (cd == NULL)
        return -1;
    const char *h = crypt_rn(pw, salt, cd, (int)sizeof *cd);
    if (h != NULL && h[0] == '$' && strlen(h) < PASSWORD_HASH_MAX) {
        memcpy(out, h, strlen(h) + 1);
        rc = 0;
    }
    sodium_memzero(cd, sizeof *cd);
    free(cd);
    return rc;
}

int password_hash(const struct password_policy *pol, const char *pw, size_t len, char *out)
{
    if (pol->scheme == PASSWORD_ARGON2ID) {
        if (crypto_pwhash_STRBYTES > PASSWORD_HASH_MAX)
            return -1;
        return crypto_pwhash_str_alg(out, pw, len, ARGON2_OPSLIMIT, ARGON2_MEMLIMIT,
                                     crypto_pwhash_ALG_ARGON2ID13);
    }
    /* crypt() reads a C string: the rules guarantee no NUL and <= 72 bytes. */
    char buf[PASSWORD_BCRYPT_MAX + 1];
    if (len > PASSWORD_BCRYPT_MAX || memchr(pw, '\0', len) != NULL)
        return -1;
    memcpy(buf, pw, len);
    buf[len] = '\0';
    int rc = bcrypt_hash(pol->bcrypt_rounds, buf, out);
    sodium_memzero(buf, sizeof buf);
    return rc;
}

static bool bcrypt_verify(const char *pw, size_t len, const char *hash)
{
    char buf[PASSWORD_BCRYPT_MAX + 1];
    struct crypt_data *cd = calloc(1, sizeof *cd);
    bool representable = len <= PASSWORD_BCRYPT_MAX && memchr(pw, '\0', len) == NULL;
    bool ok = false;

    if (cd == NULL)
        return false;
    /* An unrepresentable password is still hashed (its first 72 bytes) so
     * that the refusal costs what a mismatch costs, then never matches. */
    size_t n = len > PASSWORD_BCRYPT_MAX ? PASSWORD_BCRYPT_MAX : len;
    memcpy(buf, pw, n);
    buf[n] = '\0';
    const char *h = crypt_rn(buf, hash, cd, (int)sizeof *cd);
    if (h != NULL && h[0] == '$') {
        size_t hl = strlen(h);
        ok = hl == strlen(hash) && sodium_memcmp(h, hash, hl) == 0 && representable;
    }
    sodium_memzero(buf, sizeof buf);
    sodium_memzero(cd, sizeof *cd);
    free(cd);
    return ok;
}

/* A verification of pw against the dummy hash of scheme, which never
 * matches: nobody knows the dummies' passwords. Nothing before
 * password_init. */
static void spend_dummy(enum password_scheme scheme, const char *pw, size_t len)
{
    if (scheme == PASSWORD_ARGON2ID && dummy_argon2[0] == '$') {
        if (crypto_pwhash_str_verify(dummy_argon2, pw,
                                     len > PASSWORD_ARGON2_MAX ? PASSWORD_ARGON2_MAX : len) == 0)
            return;
    } else if (scheme == PASSWORD_BCRYPT && dummy_bcrypt[0] == '$')
        (void)bcrypt_verify(pw, len, dummy_bcrypt);
}

/* The dummy check of every scheme in use: what an unknown name costs. */
static void spend_dummies(const char *pw, size_t len)
{
    for (int s = PASSWORD_BCRYPT; s <= PASSWORD_ARGON2ID; s++)
        if (atomic_load(&scheme_in_use[s]))
            spend_dummy((enum password_scheme)s, pw, len);
}

bool password_verify(const char *pw, size_t len, const char *hash)
{
    /* A hash we cannot read (a row edited by hand, another system's
     * format, a bcrypt string of a cost libxcrypt refuses, an argon2id
     * string libsodium cannot parse) matches nothing, after the time a
     * real check takes: libxcrypt and libsodium would refuse it at once. */
    if (!password_hash_known(hash)) {
        spend_dummies(pw, len);
        return false;
    }
    if (strncmp(hash, "$argon2id$", 10) == 0) {
        /* Over the limit: its first PASSWORD_ARGON2_MAX bytes are hashed
         * all the same, so that the refusal costs what a mismatch costs,
         * and it never matches. */
        bool fits = len <= PASSWORD_ARGON2_MAX;
        bool ok = crypto_pwhash_str_verify(hash, pw, fits ? len : PASSWORD_ARGON2_MAX) == 0 && fits;
        return ok;
    }
    if (strncmp(hash, "$2a$", 4) == 0 || strncmp(hash, "$2b$", 4) == 0 ||
        strncmp(hash, "$2y$", 4) == 0)
        return bcrypt_verify(pw, len, hash);
    return false;
}

/* bcrypt's own base64 alphabet. */
static bool bcrypt_b64(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\0' ||
            strchr("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", s[i]) ==
                NULL)
            return false;
    return true;
}

bool password_hash_known(const char *hash)
{
    size_t len = strlen(hash);

    if (len >= PASSWORD_HASH_MAX)
        return false;
    if (strncmp(hash, "$2a$", 4) == 0 || strncmp(hash, "$2b$", 4) == 0 ||
        strncmp(hash, "$2y$", 4) == 0) {
        int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
        return len == 60 && hash[4] >= '0' && hash[4] <= '3' && hash[5] >= '0' && hash[5] <= '9' &&
               cost >= 4 && cost <= 31 && hash[6] == '$' && bcrypt_b64(hash + 7, 53);
    }
    /* libsodium parses the PHC string and answers -1 for one it could not
     * verify against; the limits asked about do not matter here. */
    return strncmp(hash, "$argon2id$", 10) == 0 &&
           crypto_pwhash_str_needs_rehash(hash, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != -1;
}

/* Reads the decimal number at *p up to a non-digit, advancing *p; -1 when
 * there is no digit or it exceeds max. */
static long read_number(const char **p, long max)
{
    long v = 0;

    if (**p < '0' || **p > '9')
        return -1;
    for (; **p >= '0' && **p <= '9'; (*p)++) {
        v = v * 10 + (**p - '0');
        if (v > max)
            return -1;
    }
    return v;
}

/* True when an argon2id PHC string ($argon2id$v=19$m=KiB,t=passes,p=lanes$
 * salt$hash) is weaker than ARGON2_OPSLIMIT and ARGON2_MEMLIMIT. libsodium's
 * crypto_pwhash_str_needs_rehash says "different", which would also
 * downgrade a hash made with more memory or passes than ours. */
static bool argon2_weaker(const char *hash)
{
    const char *p = hash + strlen("$argon2id$");
    long v, m, t;

    if (strncmp(p, "v=", 2) != 0)
        return false;
    p += 2;
    v = read_number(&p, 1000);
    if (strncmp(p, "$m=", 3) != 0)
        return false;
    p += 3;
    m = read_number(&p, 1L << 30);
    if (strncmp(p, ",t=", 3) != 0)
        return false;
    p += 3;
    t = read_number(&p, 1L << 30);
    if (v < 0 || m < 0 || t < 0)
        return false;
    return v != ARGON2_VERSION_NUMBER || m < (long)(ARGON2_MEMLIMIT / 1024u) || t < ARGON2_OPSLIMIT;
}

bool password_needs_rehash(const struct password_policy *pol, const char *hash)
{
    if (strncmp(hash, "$argon2id$", 10) == 0)
        return pol->scheme == PASSWORD_ARGON2ID && argon2_weaker(hash);
    if (strncmp(hash, "$2a$", 4) != 0 && strncmp(hash, "$2b$", 4) != 0 &&
        strncmp(hash, "$2y$", 4) != 0)
        return false;
    if (pol->scheme == PASSWORD_ARGON2ID)
        return true;
    /* The cost is two decimal digits ($2b$05$...), the log2 of the rounds. */
    const char *p = hash + 4;
    long cost = read_number(&p, 31);
    return cost >= 0 && *p == '$' && cost < pol->bcrypt_rounds;
}

/* A PHC or modular-crypt string of random bytes: the parameters are real,
 * the hash part nobody's. */
static void random_b64(char *out, size_t outlen, size_t nbytes, int variant)
{
    unsigned char raw[32];

    randombytes_buf(raw, nbytes);
    sodium_bin2base64(out, outlen, raw, nbytes, variant);
}

int password_init(const struct password_policy *pol)
{
    char salt[32], hash[48];

    pwlist_size(); /* build the list's index before serving */
    /* Only the parameters and salt of a dummy matter: verification hashes
     * the candidate with them, then compares. A random salt and a hash
     * part nobody can match make valid strings without spending a hash at
     * start-up (bcrypt cost 31 would never start). */
    static const char fake[] = "Xp2Mw7Kq9Zr4Tn6Vb8Ld3Hf5Jc1Gs0E";
    if (crypt_gensalt_rn("$2b$", (unsigned long)pol->bcrypt_rounds, NULL, 0, dummy_bcrypt,
                         sizeof dummy_bcrypt - (sizeof fake - 1)) == NULL)
        return -1;
    memcpy(dummy_bcrypt + strlen(dummy_bcrypt), fake, sizeof fake);
    random_b64(salt, sizeof salt, 16, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    random_b64(hash, sizeof hash, 32, sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    snprintf(dummy_argon2, sizeof dummy_argon2, "$argon2id$v=%d$m=%u,t=%d,p=1$%s$%s",
             ARGON2_VERSION_NUMBER, ARGON2_MEMLIMIT / 1024u, ARGON2_OPSLIMIT, salt, hash);
    if (!password_hash_known(dummy_argon2))
        return -1;
    dummy_rounds = pol->bcrypt_rounds;
    atomic_store(&scheme_in_use[PASSWORD_BCRYPT], pol->scheme == PASSWORD_BCRYPT);
    atomic_store(&scheme_in_use[PASSWORD_ARGON2ID], pol->scheme == PASSWORD_ARGON2ID);
    return 0;
}

void password_scheme_in_use(enum password_scheme scheme)
{
    atomic_store(&scheme_in_use[scheme], true);
}

bool password_verify_dummy(const struct password_policy *pol, const char *pw, size_t len)
{
    (void)pol;
    spend_dummies(pw, len);
    return false;
}

void password_refused(const char *hash, const char *pw, size_t len)
{
    enum password_scheme own;

    if (strncmp(hash, "$argon2id$", 10) == 0)
        own = PASSWORD_ARGON2ID;
    else if (strncmp(hash, "$2a$", 4) == 0 || strncmp(hash, "$2b$", 4) == 0 ||
             strncmp(hash, "$2y$", 4) == 0)
        own = PASSWORD_BCRYPT;
    else
        return; /* password_verify spent the dummies already */
    password_scheme_in_use(own);
    for (int s = PASSWORD_BCRYPT; s <= PASSWORD_ARGON2ID; s++) {
        if (!atomic_load(&scheme_in_use[s]))
            continue;
        bool weaker = false;
        if (s == (int)own && own == PASSWORD_BCRYPT) {
            const char *p = hash + 4;
            long cost = read_number(&p, 31);
            weaker = cost >= 0 && cost < dummy_rounds;
        } else if (s == (int)own) {
            weaker = argon2_weaker(hash);
        }
        if (s != (int)own || weaker)
            spend_dummy((enum password_scheme)s, pw, len);
    }
}
