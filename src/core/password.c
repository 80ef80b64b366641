#include "core/password.h"

#include <crypt.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdio.h>
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

/* The dummy hashes a refused login is checked against (password_init):
 * one per scheme, at the policy's cost, and which schemes have hashes in
 * use (the policy's, those found stored at start, those met at login). */
static char dummy_bcrypt[PASSWORD_HASH_MAX], dummy_argon2[PASSWORD_HASH_MAX];
static long dummy_rounds;
static atomic_bool scheme_in_use[2];

/* Verifications made, against stored hashes and against the dummies
 * (password_checks): what shows that an unknown name cost a hash too. */
static atomic_uint_fast64_t checks_stored, checks_dummy;

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

/* A verification of pw against the dummy hash of scheme, which never
 * matches: nobody knows the dummies' passwords. Nothing before
 * password_init. */
static void spend_dummy(enum password_scheme scheme, const char *pw, size_t len)
{
    if ((scheme == PASSWORD_ARGON2ID && dummy_argon2[0] == '$') ||
        (scheme == PASSWORD_BCRYPT && dummy_bcrypt[0] == '$'))
        atomic_fetch_add_explicit(&checks_dummy, 1, memory_order_relaxed);
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

/* pw, in the form given, against hash. */
static bool verify_form(const char *pw, size_t len, const char *hash)
{
    /* A hash we cannot read (a row edited by hand, another system's
     * format, a bcrypt string of a cost libxcrypt refuses, an argon2id
     * string libsodium cannot parse) matches nothing, after the time a
     * real check takes: libxcrypt and libsodium would refuse it at once. */
    if (!password_hash_known(hash)) {
        spend_dummies(pw, len);
        return false;
    }
    atomic_fetch_add_explicit(&checks_stored, 1, memory_order_relaxed);
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

/* The parameters of an argon2id PHC string ($argon2id$v=19$m=KiB,t=passes,
 * p=lanes$salt$hash); false when they are not there in that order, or a
 * number is past 2^40 (far past any bound below). */
static bool argon2_params(const char *hash, long *v, long *m, long *t, long *lanes)
{
    const char *p = hash + strlen("$argon2id$");

    if (strncmp(p, "v=", 2) != 0)
        return false;
    p += 2;
    *v = read_number(&p, 1000);
    if (strncmp(p, "$m=", 3) != 0)
        return false;
    p += 3;
    *m = read_number(&p, 1L << 40);
    if (strncmp(p, ",t=", 3) != 0)
        return false;
    p += 3;
    *t = read_number(&p, 1L << 40);
    if (strncmp(p, ",p=", 3) != 0)
        return false;
    p += 3;
    *lanes = read_number(&p, 1L << 40);
    return *v >= 0 && *m >= 0 && *t >= 0 && *lanes >= 0 && *p == '$';
}

/* The bounds (password.h) are what one login may cost a worker. They are
 * generous for real deployments and stop what no deployment makes:
 * - bcrypt cost 16 is 65,536 rounds, a few seconds on one core; real
 *   deployments use 10 to 14 (passlib's default is 12). Each step doubles
 *   the time: the cost 31 the format allows is 2^15 times cost 16, days.
 * - argon2id 1 GiB is libsodium's highest preset (MEMLIMIT_SENSITIVE) and
 *   50 times OWASP's 19 MiB; a hash of more needs that much memory in a
 *   worker at every login. 10 passes at 1 GiB take some 10 s; libsodium's
 *   presets use 2 to 4. libsodium computes the lanes one after another, so
 *   p adds no time; 16 is more than any preset (RFC 9106's use 4). */
static enum password_hash_form too_costly(char *why, size_t whylen, const char *what, long have,
                                          long max)
{
    if (why != NULL)
        snprintf(why, whylen, "of %s %ld, over the %ld gatehouse verifies", what, have, max);
    return PASSWORD_HASH_TOO_COSTLY;
}

static enum password_hash_form unknown(char *why, size_t whylen)
{
    if (why != NULL)
        snprintf(why, whylen, "in no format gatehouse reads (bcrypt $2a$, $2b$, $2y$ or argon2id)");
    return PASSWORD_HASH_UNKNOWN;
}

enum password_hash_form password_hash_form(const char *hash, char *why, size_t whylen)
{
    size_t len = strlen(hash);

    if (len >= PASSWORD_HASH_MAX)
        return unknown(why, whylen);
    if (strncmp(hash, "$2a$", 4) == 0 || strncmp(hash, "$2b$", 4) == 0 ||
        strncmp(hash, "$2y$", 4) == 0) {
        int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
        if (len != 60 || hash[4] < '0' || hash[4] > '3' || hash[5] < '0' || hash[5] > '9' ||
            cost < 4 || cost > 31 || hash[6] != '$' || !bcrypt_b64(hash + 7, 53))
            return unknown(why, whylen);
        if (cost > PASSWORD_BCRYPT_COST_MAX)
            return too_costly(why, whylen, "bcrypt cost", cost, PASSWORD_BCRYPT_COST_MAX);
        return PASSWORD_HASH_OK;
    }
    /* libsodium parses the PHC string and answers -1 for one it could not
     * verify against; the limits asked about do not matter here. */
    long v, m, t, lanes;
    if (strncmp(hash, "$argon2id$", 10) != 0 ||
        crypto_pwhash_str_needs_rehash(hash, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                       crypto_pwhash_MEMLIMIT_INTERACTIVE) == -1 ||
        !argon2_params(hash, &v, &m, &t, &lanes))
        return unknown(why, whylen);
    if (m > PASSWORD_ARGON2_MEMORY_MAX)
        return too_costly(why, whylen, "argon2id memory (KiB)", m, PASSWORD_ARGON2_MEMORY_MAX);
    if (t > PASSWORD_ARGON2_PASSES_MAX)
        return too_costly(why, whylen, "argon2id passes", t, PASSWORD_ARGON2_PASSES_MAX);
    if (lanes > PASSWORD_ARGON2_LANES_MAX)
        return too_costly(why, whylen, "argon2id lanes", lanes, PASSWORD_ARGON2_LANES_MAX);
    return PASSWORD_HASH_OK;
}

bool password_hash_known(const char *hash)
{
    return password_hash_form(hash, NULL, 0) == PASSWORD_HASH_OK;
}

/* True when an argon2id PHC string is weaker than ARGON2_OPSLIMIT and
 * ARGON2_MEMLIMIT. libsodium's crypto_pwhash_str_needs_rehash says
 * "different", which would also downgrade a hash made with more memory or
 * passes than ours. */
static bool argon2_weaker(const char *hash)
{
    long v, m, t, lanes;

    if (!argon2_params(hash, &v, &m, &t, &lanes))
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

/* Calls spend(pw) for the forms password_match checks: the normalised one
 * and, when it differs, the one typed, so that a refusal spends the hashes a
 * real check of the same input spends. */
static void for_each_form(const char *pw, size_t len,
                          void (*spend)(const char *, size_t, const void *), const void *arg)
{
    struct norm n;

    if (norm_make(pw, len, &n) != 0) {
        spend(pw, len, arg);
        return;
    }
    bool same = n.len == len && memcmp(n.s, pw, len) == 0;
    spend(n.s, n.len, arg);
    if (!same)
        spend(pw, len, arg);
    norm_free(&n);
}

static void spend_all(const char *pw, size_t len, const void *arg)
{
    (void)arg;
    spend_dummies(pw, len);
}

bool password_verify_dummy(const struct password_policy *pol, const char *pw, size_t len)
{
    (void)pol;
    for_each_form(pw, len, spend_all, NULL);
    return false;
}

/* The top-up of password_refused for one form of the password: the dummy
 * of every scheme in use other than the stored hash's own, and of its own
 * when the stored hash is weaker than the policy. */
static void top_up(const char *pw, size_t len, const void *arg)
{
    const char *hash = arg;
    enum password_scheme own =
        strncmp(hash, "$argon2id$", 10) == 0 ? PASSWORD_ARGON2ID : PASSWORD_BCRYPT;

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

void password_refused(const char *hash, const char *pw, size_t len)
{
    if (strncmp(hash, "$argon2id$", 10) == 0)
        password_scheme_in_use(PASSWORD_ARGON2ID);
    else if (strncmp(hash, "$2a$", 4) == 0 || strncmp(hash, "$2b$", 4) == 0 ||
             strncmp(hash, "$2y$", 4) == 0)
        password_scheme_in_use(PASSWORD_BCRYPT);
    else
        return; /* password_match spent the dummies already */
    /* A hash past the cost bounds (or otherwise unreadable) was refused
     * after the dummies too: topping it up would make it dearer than an
     * unknown name. */
    if (!password_hash_known(hash))
        return;
    /* The forms password_match checked, so as many top-ups as checks. */
    for_each_form(pw, len, top_up, hash);
}

void password_checks(uint64_t *stored, uint64_t *dummy)
{
    *stored = atomic_load_explicit(&checks_stored, memory_order_relaxed);
    *dummy = atomic_load_explicit(&checks_dummy, memory_order_relaxed);
}
