#include "core/password.h"

#include <crypt.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "core/pwlist.h"
#include "util/utf8.h"

/* OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane (libsodium's lane
 * count is fixed at 1). */
#define ARGON2_OPSLIMIT 2
#define ARGON2_MEMLIMIT (19u * 1024u * 1024u)
/* The Argon2 version libsodium writes (v=19, that is 0x13, Argon2 1.3). */
#define ARGON2_VERSION_NUMBER 19

static char dummy_hash[PASSWORD_HASH_MAX];

/* Longest input normalised. NFKC shrinks text to a quarter at most (a
 * four-byte mathematical letter such as U+1D400 becomes one ASCII byte; no
 * character maps to nothing), so a longer password is too long after
 * normalisation too; the bound keeps the work and memory of normalising what
 * a client sends small. */
#define NORM_INPUT_MAX (4 * PASSWORD_ARGON2_MAX)

/* A password in NFKC. Short ones fit in small; libunistring allocates the
 * others. Either way the bytes are wiped by norm_free. */
struct norm {
    char *s;
    size_t len;
    char small[256];
};

/* Normalises pw[0..len) (valid UTF-8, at most NORM_INPUT_MAX bytes) into n.
 * Returns 0, or -1 (invalid UTF-8, out of memory) with nothing to free. */
static int norm_make(const char *pw, size_t len, struct norm *n)
{
    size_t out = sizeof n->small;
    uint8_t *r;

    if (len > NORM_INPUT_MAX || utf8_count(pw, len) < 0)
        return -1;
    r = u8_normalize(UNINORM_NFKC, (const uint8_t *)pw, len, (uint8_t *)n->small, &out);
    if (r == NULL)
        return -1;
    n->s = (char *)r;
    n->len = out;
    return 0;
}

static void norm_free(struct norm *n)
{
    sodium_memzero(n->s, n->len);
    if (n->s != n->small)
        free(n->s);
    sodium_memzero(n->small, sizeof n->small);
}

/* True when the UTF-8 s[0..len) holds a default-ignorable code point
 * (Unicode's DerivedCoreProperties: zero-width spaces and joiners, soft
 * hyphen, variation selectors, ...): characters that show as nothing, so
 * that a password made of them, or with one added, cannot be typed again
 * from what the user sees. */
static bool has_invisible(const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s, *end = p + len;

    while (p < end) {
        ucs4_t c;
        int n = u8_mbtouc(&c, p, (size_t)(end - p));
        if (uc_is_property_default_ignorable_code_point(c))
            return true;
        p += n > 0 ? n : 1;
    }
    return false;
}

enum password_rule password_check(const struct password_policy *pol, const char *username,
                                  const char *pw, size_t len)
{
    /* JSON input was validated by the parser; other callers (the command
     * line) rely on this check. */
    long cps = utf8_count(pw, len);
    size_t max = pol->scheme == PASSWORD_BCRYPT ? PASSWORD_BCRYPT_MAX : PASSWORD_ARGON2_MAX;
    struct norm n;
    enum password_rule rule = RULE_OK;

    if (cps < 0)
        return RULE_INVALID_UTF8;
    if (memchr(pw, '\0', len) != NULL)
        return RULE_CONTAINS_NUL;
    if (len > NORM_INPUT_MAX)
        return RULE_TOO_LONG;
    if (norm_make(pw, len, &n) != 0)
        return RULE_TOO_LONG; /* out of memory: valid UTF-8 of a bounded length */
    cps = utf8_count(n.s, n.len);
    if (has_invisible(pw, len) || has_invisible(n.s, n.len))
        rule = RULE_INVISIBLE;
    else if (cps < pol->min_length)
        rule = RULE_TOO_SHORT;
    /* Refused, never truncated: bcrypt would silently ignore byte 73 on. */
    else if (n.len > max)
        rule = RULE_TOO_LONG;
    else if (strlen(username) == n.len && strncasecmp(username, n.s, n.len) == 0)
        rule = RULE_EQUALS_USERNAME;
    else if (pwlist_contains(n.s, n.len))
        rule = RULE_TOO_COMMON;
    norm_free(&n);
    return rule;
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

static int hash_normalised(const struct password_policy *pol, const char *pw, size_t len, char *out)
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

int password_hash(const struct password_policy *pol, const char *pw, size_t len, char *out)
{
    struct norm n;

    if (norm_make(pw, len, &n) != 0)
        return -1;
    int rc = hash_normalised(pol, n.s, n.len, out);
    norm_free(&n);
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

static bool verify_form(const char *pw, size_t len, const char *hash)
{
    if (strncmp(hash, "$argon2id$", 10) == 0)
        return len <= PASSWORD_ARGON2_MAX && crypto_pwhash_str_verify(hash, pw, len) == 0;
    if (strncmp(hash, "$2a$", 4) == 0 || strncmp(hash, "$2b$", 4) == 0 ||
        strncmp(hash, "$2y$", 4) == 0)
        return bcrypt_verify(pw, len, hash);
    return false;
}

enum password_match password_match(const char *pw, size_t len, const char *hash)
{
    struct norm n;

    /* Not valid UTF-8, or too long to normalise: no normal form exists, and
     * no password of that length passes the rules; only as given can it
     * match (an imported hash), and it is then kept as it is. */
    if (norm_make(pw, len, &n) != 0)
        return verify_form(pw, len, hash) ? PASSWORD_MATCH : PASSWORD_NO_MATCH;
    bool same = n.len == len && memcmp(n.s, pw, len) == 0;
    bool ok = verify_form(n.s, n.len, hash);
    /* Both forms whenever they differ, so that the time depends on what
     * was typed only, never on which form the account's hash is of. */
    bool raw_ok = !same && verify_form(pw, len, hash);
    norm_free(&n);
    return ok ? PASSWORD_MATCH : raw_ok ? PASSWORD_MATCH_RAW : PASSWORD_NO_MATCH;
}

bool password_verify(const char *pw, size_t len, const char *hash)
{
    return password_match(pw, len, hash) != PASSWORD_NO_MATCH;
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

int password_init(const struct password_policy *pol)
{
    unsigned char raw[24];
    char pw[33];
    int rc;

    pwlist_size(); /* build the list's index before serving */
    if (pol->scheme == PASSWORD_BCRYPT) {
        /* Only the cost and salt of the dummy matter: verification hashes
         * the candidate with them, then compares. A random salt and a
         * hash part nobody can match make a valid $2b$ string without
         * spending 2^cost rounds at start-up (cost 31 would never start). */
        static const char fake[] = "Xp2Mw7Kq9Zr4Tn6Vb8Ld3Hf5Jc1Gs0E";
        if (crypt_gensalt_rn("$2b$", (unsigned long)pol->bcrypt_rounds, NULL, 0, dummy_hash,
                             sizeof dummy_hash - (sizeof fake - 1)) == NULL)
            return -1;
        memcpy(dummy_hash + strlen(dummy_hash), fake, sizeof fake);
        return 0;
    }
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(pw, sizeof pw, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    rc = password_hash(pol, pw, strlen(pw), dummy_hash);
    sodium_memzero(pw, sizeof pw);
    return rc;
}

bool password_verify_dummy(const struct password_policy *pol, const char *pw, size_t len)
{
    (void)pol;
    (void)password_verify(pw, len, dummy_hash);
    return false;
}
