/* core/password and core/pwlist: the rules of a new password, hashing and
 * verification (bcrypt at cost 4 only, to keep the run fast). */
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/password.h"
#include "core/pwlist.h"
#include "test.h"

static const struct password_policy bcrypt_pol = {PASSWORD_BCRYPT, 4, 8};
static const struct password_policy argon_pol = {PASSWORD_ARGON2ID, 4, 8};

/* Generated once with passlib 1.7.4:
 * bcrypt.using(rounds=4, ident=...).hash('Correct-horse-1'). */
static const char passlib_2a[] = "$2a$04$yFtnFTjuWUA/MVuA8S452uM/YypKgseyPC9inXYCnU0YrZbsVP.gq";
static const char passlib_2b[] = "$2b$04$bIuLi3x18XvMOT3k6a6uBeP1IUuGYRTNE04KQiv7VWLc1qYVc7Gb2";
static const char passlib_2y[] = "$2y$04$9CjSLc4qEDaqXaRhepRUa.13hs204H6y/ZP/YhP2hXmqbfN4wZvhG";
/* bcrypt.using(rounds=5, ident='2b').hash('pässwörd-€'), UTF-8. */
static const char passlib_utf8[] = "$2b$05$OsF..2Y/6GRUkvaBsspQDeQ2yKcdL83cuZDB0FhOkOi/lnc3RdFvq";
/* argon2-cffi's README example (libargon2, m=64 MiB, t=3, p=4) for
 * "correct horse battery staple". */
static const char cffi_argon2id[] = "$argon2id$v=19$m=65536,t=3,p=4$MIIRqgvgQbgj220jfp0MPA$"
                                    "YfwJSVjtjSU0zzV/P3S9nnQ/USre2wvJMjfCIjrTQbg";

static enum password_rule check(const struct password_policy *pol, const char *user, const char *pw)
{
    return password_check(pol, user, pw, strlen(pw));
}

/* n copies of the NUL-terminated unit, in a new string. */
static char *repeat(const char *unit, size_t n)
{
    size_t u = strlen(unit);
    char *s = malloc(u * n + 1);

    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * u, unit, u);
    s[u * n] = '\0';
    return s;
}

/* n bytes of an ASCII password no list holds, in a new string. */
static char *ascii_pw(size_t n)
{
    static const char pattern[] = "Zq7#kP2!vW9$";
    char *s = malloc(n + 1);

    if (s == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        s[i] = pattern[i % (sizeof pattern - 1)];
    s[n] = '\0';
    return s;
}

/* password_check of n copies of unit under pol. */
static enum password_rule check_repeat(const struct password_policy *pol, const char *unit,
                                       size_t n)
{
    char *s = repeat(unit, n);
    enum password_rule r = s != NULL ? check(pol, "someone", s) : (enum password_rule) - 1;

    free(s);
    return r;
}

static enum password_rule check_ascii(const struct password_policy *pol, size_t n)
{
    char *s = ascii_pw(n);
    enum password_rule r = s != NULL ? check(pol, "someone", s) : (enum password_rule) - 1;

    free(s);
    return r;
}

TEST(password_min_length_code_points)
{
    const struct password_policy ten = {PASSWORD_BCRYPT, 4, 10};

    /* "é" is two bytes but one character. */
    CHECK_EQ_INT(check_repeat(&bcrypt_pol, "\xc3\xa9", 8), RULE_OK);
    CHECK_EQ_INT(check_repeat(&bcrypt_pol, "\xc3\xa9", 7), RULE_TOO_SHORT);
    /* Four-byte characters (U+1F600). */
    CHECK_EQ_INT(check_repeat(&bcrypt_pol, "\xf0\x9f\x98\x80", 8), RULE_OK);
    CHECK_EQ_INT(check_repeat(&bcrypt_pol, "\xf0\x9f\x98\x80", 7), RULE_TOO_SHORT);
    CHECK_EQ_INT(check_ascii(&bcrypt_pol, 8), RULE_OK);
    CHECK_EQ_INT(check_ascii(&bcrypt_pol, 7), RULE_TOO_SHORT);
    CHECK_EQ_INT(check_ascii(&bcrypt_pol, 0), RULE_TOO_SHORT);
    CHECK_EQ_INT(check_ascii(&ten, 9), RULE_TOO_SHORT);
    CHECK_EQ_INT(check_ascii(&ten, 10), RULE_OK);
}

TEST(password_bcrypt_byte_limit)
{
    /* bcrypt reads 72 bytes: more is refused, never truncated. */
    CHECK_EQ_INT(check_ascii(&bcrypt_pol, 72), RULE_OK);
    CHECK_EQ_INT(check_ascii(&bcrypt_pol, 73), RULE_TOO_LONG);
    CHECK_EQ_INT(check_ascii(&bcrypt_pol, 200), RULE_TOO_LONG);
    /* The limit is in bytes: 24 × "€" (3 bytes) is 72, 25 is 75. */
    CHECK_EQ_INT(check_repeat(&bcrypt_pol, "\xe2\x82\xac", 24), RULE_OK);
    CHECK_EQ_INT(check_repeat(&bcrypt_pol, "\xe2\x82\xac", 25), RULE_TOO_LONG);
    CHECK_EQ_INT(check_repeat(&bcrypt_pol, "\xc3\xa9", 36), RULE_OK);
    CHECK_EQ_INT(check_repeat(&bcrypt_pol, "\xc3\xa9", 37), RULE_TOO_LONG);
}

TEST(password_argon2_byte_limit)
{
    CHECK_EQ_INT(check_ascii(&argon_pol, 73), RULE_OK);
    CHECK_EQ_INT(check_ascii(&argon_pol, 1024), RULE_OK);
    CHECK_EQ_INT(check_ascii(&argon_pol, 1025), RULE_TOO_LONG);
    CHECK_EQ_INT(check_repeat(&argon_pol, "\xe2\x82\xac", 341), RULE_OK);       /* 1023 bytes */
    CHECK_EQ_INT(check_repeat(&argon_pol, "\xe2\x82\xac", 342), RULE_TOO_LONG); /* 1026 */
}

TEST(password_contains_nul)
{
    CHECK_EQ_INT(password_check(&bcrypt_pol, "someone", "Zq7#k\0P2!vW9", 12), RULE_CONTAINS_NUL);
    CHECK_EQ_INT(password_check(&bcrypt_pol, "someone", "\0Zq7#kP2!vW9", 12), RULE_CONTAINS_NUL);
    CHECK_EQ_INT(password_check(&bcrypt_pol, "someone", "Zq7#kP2!vW9\0", 12), RULE_CONTAINS_NUL);
    CHECK_EQ_INT(password_check(&argon_pol, "someone", "Zq7#k\0P2!vW9", 12), RULE_CONTAINS_NUL);
    CHECK_EQ_INT(password_check(&bcrypt_pol, "someone", "Zq7#kP2!vW9", 11), RULE_OK);
}

TEST(password_equals_username)
{
    CHECK_EQ_INT(check(&bcrypt_pol, "AliceSmith1", "AliceSmith1"), RULE_EQUALS_USERNAME);
    CHECK_EQ_INT(check(&bcrypt_pol, "AliceSmith1", "alicesmith1"), RULE_EQUALS_USERNAME);
    CHECK_EQ_INT(check(&bcrypt_pol, "AliceSmith1", "ALICESMITH1"), RULE_EQUALS_USERNAME);
    CHECK_EQ_INT(check(&argon_pol, "alice.smith@example", "Alice.Smith@Example"),
                 RULE_EQUALS_USERNAME);
    /* Containing the username, or contained in it, is allowed. */
    CHECK_EQ_INT(check(&bcrypt_pol, "AliceSmith1", "AliceSmith12"), RULE_OK);
    CHECK_EQ_INT(check(&bcrypt_pol, "AliceSmith1", "AliceSmith"), RULE_OK);
    CHECK_EQ_INT(check(&bcrypt_pol, "bob", "bobbobbob"), RULE_OK);
}

TEST(password_too_common)
{
    static const char *const common[] = {"password", "PassWord", "PASSWORD",
                                         "iloveyou", "ILoveYou", "12345678"};

    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++) {
        CHECK_EQ_INT(check(&bcrypt_pol, "someone", common[i]), RULE_TOO_COMMON);
        CHECK_EQ_INT(check(&argon_pol, "someone", common[i]), RULE_TOO_COMMON);
        CHECK(pwlist_contains(common[i], strlen(common[i])));
    }
    CHECK(!pwlist_contains("Zq7#kP2!vW9$", 12));
    CHECK(!pwlist_contains("", 0));
    /* Only the whole password counts. */
    CHECK(!pwlist_contains("password\0", 9));
    CHECK(!pwlist_contains("password ", 9));
}

TEST(password_invalid_utf8)
{
    static const char *const bad[] = {
        "\xffZq7#kP2!vW9",                 /* never a UTF-8 byte */
        "Zq7#kP2!vW9\xc3",                 /* truncated two-byte sequence */
        "Zq7#kP2!vW9\x80",                 /* lone continuation byte */
        "Zq7#k\xc3(P2!vW9",                /* lead byte without its continuation */
        "Zq7#kP2!vW9\xf0\x9f\x98",         /* truncated four-byte sequence */
        "Zq7#kP2!vW9\xf8\x88\x80\x80\x80", /* five-byte form (RFC 2279 only) */
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(check(&bcrypt_pol, "someone", bad[i]), RULE_INVALID_UTF8);
        CHECK_EQ_INT(check(&argon_pol, "someone", bad[i]), RULE_INVALID_UTF8);
    }
}

TEST(password_invalid_utf8_rfc3629)
{
    const struct password_policy *p = &bcrypt_pol;

    /* RFC 3629 §3/§4: overlong forms, UTF-16 surrogates and anything past
     * U+10FFFF are ill-formed too. */
    CHECK_EQ_INT(check(p, "someone", "Zq7#kP2!vW9\xc0\x80"), RULE_INVALID_UTF8); /* NUL */
    CHECK_EQ_INT(check(p, "someone", "Zq7#kP2!vW9\xc1\xbf"), RULE_INVALID_UTF8); /* U+007F */
    CHECK_EQ_INT(check(p, "someone", "Zq7#kP2!vW9\xe0\x80\xaf"), RULE_INVALID_UTF8);
    CHECK_EQ_INT(check(p, "someone", "Zq7#kP2!vW9\xf0\x80\x80\xaf"), RULE_INVALID_UTF8);
    CHECK_EQ_INT(check(p, "someone", "Zq7#kP2!vW9\xed\xa0\x80"), RULE_INVALID_UTF8); /* D800 */
    CHECK_EQ_INT(check(p, "someone", "Zq7#kP2!vW9\xed\xbf\xbf"), RULE_INVALID_UTF8); /* DFFF */
    CHECK_EQ_INT(check(p, "someone", "Zq7#kP2!vW9\xf4\x90\x80\x80"), RULE_INVALID_UTF8);
    CHECK_EQ_INT(check(p, "someone", "Zq7#kP2!vW9\xf5\x80\x80\x80"), RULE_INVALID_UTF8);
    CHECK_EQ_INT(check(p, "someone", "Zq7#kP2!vW9\xf7\xbf\xbf\xbf"), RULE_INVALID_UTF8);
    /* The largest code points of each length, and those next to the
     * surrogates, are fine. */
    CHECK_EQ_INT(check(p, "someone", "Zq7#kP2!vW9\xdf\xbf"), RULE_OK);
    CHECK_EQ_INT(check(p, "someone", "Zq7#kP2!vW9\xef\xbf\xbd"), RULE_OK);
    CHECK_EQ_INT(check(p, "someone", "Zq7#kP2!vW9\xed\x9f\xbf"), RULE_OK);
    CHECK_EQ_INT(check(p, "someone", "Zq7#kP2!vW9\xee\x80\x80"), RULE_OK);
    CHECK_EQ_INT(check(p, "someone", "Zq7#kP2!vW9\xf4\x8f\xbf\xbf"), RULE_OK);
}

TEST(password_pwlist_size)
{
    CHECK(pwlist_size() >= 10000);
}

TEST(password_pwlist_every_entry)
{
    /* Every line of the shipped file is found, lower- and upper-cased: the
     * binary search relies on the file's bytewise order. */
    FILE *f = fopen(TEST_SOURCE_DIR "/data/common-passwords.txt", "r");
    char line[512];
    size_t lines = 0, missing = 0, missing_upper = 0;

    REQUIRE(f != NULL);
    while (fgets(line, sizeof line, f) != NULL) {
        size_t n = strcspn(line, "\n");
        if (n == 0)
            continue;
        lines++;
        missing += !pwlist_contains(line, n);
        for (size_t i = 0; i < n; i++)
            if (line[i] >= 'a' && line[i] <= 'z')
                line[i] = (char)(line[i] - 'a' + 'A');
        missing_upper += !pwlist_contains(line, n);
    }
    fclose(f);
    CHECK_EQ_INT(lines, pwlist_size());
    CHECK_EQ_INT(missing, 0);
    CHECK_EQ_INT(missing_upper, 0);
}

TEST(password_bcrypt_hash_verify)
{
    const struct password_policy cost5 = {PASSWORD_BCRYPT, 5, 8};
    char h1[PASSWORD_HASH_MAX], h2[PASSWORD_HASH_MAX];

    REQUIRE(password_hash(&bcrypt_pol, "Correct-horse-1", 15, h1) == 0);
    CHECK(strncmp(h1, "$2b$04$", 7) == 0);
    CHECK_EQ_INT(strlen(h1), 60);
    CHECK(password_verify("Correct-horse-1", 15, h1));
    CHECK(!password_verify("Correct-horse-2", 15, h1));
    CHECK(!password_verify("correct-horse-1", 15, h1));
    CHECK(!password_verify("Correct-horse-", 14, h1));
    CHECK(!password_verify("", 0, h1));
    /* A fresh salt every time. */
    REQUIRE(password_hash(&bcrypt_pol, "Correct-horse-1", 15, h2) == 0);
    CHECK(strcmp(h1, h2) != 0);
    CHECK(password_verify("Correct-horse-1", 15, h2));
    /* The cost comes from the policy. */
    REQUIRE(password_hash(&cost5, "Correct-horse-1", 15, h2) == 0);
    CHECK(strncmp(h2, "$2b$05$", 7) == 0);
    CHECK(password_verify("Correct-horse-1", 15, h2));
}

TEST(password_bcrypt_no_truncation)
{
    char hash[PASSWORD_HASH_MAX];
    char *pw = ascii_pw(100);

    REQUIRE(pw != NULL);
    REQUIRE(password_hash(&bcrypt_pol, pw, 72, hash) == 0);
    CHECK(password_verify(pw, 72, hash));
    /* Longer passwords whose first 72 bytes are the stored password. */
    CHECK(!password_verify(pw, 73, hash));
    CHECK(!password_verify(pw, 100, hash));
    CHECK(!password_verify(pw, 71, hash));
    /* Hashing refuses what bcrypt would truncate. */
    CHECK_EQ_INT(password_hash(&bcrypt_pol, pw, 73, hash), -1);
    free(pw);
}

TEST(password_bcrypt_nul)
{
    char hash[PASSWORD_HASH_MAX];

    REQUIRE(password_hash(&bcrypt_pol, "Zq7#kP2!", 8, hash) == 0);
    CHECK(password_verify("Zq7#kP2!", 8, hash));
    /* crypt() would stop at the NUL and see "Zq7#kP2!". */
    CHECK(!password_verify("Zq7#kP2!\0xyz", 12, hash));
    CHECK(!password_verify("Zq7#kP2!\0", 9, hash));
    CHECK_EQ_INT(password_hash(&bcrypt_pol, "Zq7#\0kP2!", 9, hash), -1);
}

TEST(password_argon2id_hash_verify)
{
    char hash[PASSWORD_HASH_MAX];
    char *pw = ascii_pw(1025);

    REQUIRE(pw != NULL);
    REQUIRE(password_hash(&argon_pol, "Correct-horse-1", 15, hash) == 0);
    CHECK(strncmp(hash, "$argon2id$v=19$", 15) == 0);
    CHECK(strstr(hash, "m=19456,t=2,p=1$") != NULL);
    CHECK(password_verify("Correct-horse-1", 15, hash));
    CHECK(!password_verify("Correct-horse-2", 15, hash));
    /* No 72-byte limit: the 73rd byte matters. */
    REQUIRE(password_hash(&argon_pol, pw, 1024, hash) == 0);
    CHECK(password_verify(pw, 1024, hash));
    CHECK(!password_verify(pw, 1023, hash));
    CHECK(!password_verify(pw, 72, hash));
    CHECK(!password_verify(pw, 1025, hash));
    /* A NUL is just a byte to argon2id. */
    REQUIRE(password_hash(&argon_pol, "Zq7#\0kP2!", 9, hash) == 0);
    CHECK(password_verify("Zq7#\0kP2!", 9, hash));
    CHECK(!password_verify("Zq7#", 4, hash));
    free(pw);
}

TEST(password_foreign_bcrypt)
{
    CHECK(password_verify("Correct-horse-1", 15, passlib_2a));
    CHECK(password_verify("Correct-horse-1", 15, passlib_2b));
    CHECK(password_verify("Correct-horse-1", 15, passlib_2y));
    CHECK(!password_verify("Correct-horse-2", 15, passlib_2a));
    CHECK(!password_verify("Correct-horse-2", 15, passlib_2b));
    CHECK(!password_verify("Correct-horse-2", 15, passlib_2y));
    /* passlib hashed the NFC spelling; the NFD one is the same password in
     * NFKC, so it matches too (it did not before normalisation). */
    static const char nfc[] = "p\xc3\xa4ssw\xc3\xb6rd-\xe2\x82\xac";
    static const char nfd[] = "p\xc3\xa4sswo\xcc\x88rd-\xe2\x82\xac";
    CHECK(password_verify(nfc, strlen(nfc), passlib_utf8));
    CHECK(password_match(nfd, strlen(nfd), passlib_utf8) == PASSWORD_MATCH);
    CHECK(!password_verify("p\xc3\xa4ssword-\xe2\x82\xac", 13, passlib_utf8));
}

TEST(password_foreign_argon2id)
{
    CHECK(password_verify("correct horse battery staple", 28, cffi_argon2id));
    CHECK(!password_verify("Tr0ub4dor&3", 11, cffi_argon2id));
}

TEST(password_verify_unknown_format)
{
    char hash[PASSWORD_HASH_MAX];

    CHECK(!password_verify("Correct-horse-1", 15, ""));
    /* Never a plain-text comparison. */
    CHECK(!password_verify("Correct-horse-1", 15, "Correct-horse-1"));
    CHECK(!password_verify("$2b$04$x", 8, "$2b$04$x"));
    /* MD5-crypt and bcrypt's $2x$ are not formats we read. */
    CHECK(!password_verify("password", 8, "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/"));
    CHECK(!password_verify("Correct-horse-1", 15,
                           "$2x$04$bIuLi3x18XvMOT3k6a6uBeP1IUuGYRTNE04KQiv7VWLc1qYVc7Gb2"));
    /* Damaged bcrypt hashes. */
    CHECK(!password_verify("Correct-horse-1", 15, "$2b$04$short"));
    CHECK(!password_verify("Correct-horse-1", 15,
                           "$2b$04$bIuLi3x18XvMOT3k6a6uBeP1IUuGYRTNE04KQiv7VWLc1qYVc7Gb"));
    CHECK(!password_verify("Correct-horse-1", 15, "$2b$04$bIuLi3x18XvMOT3k6a6uBe"));
    CHECK(!password_verify("Correct-horse-1", 15,
                           "$2b$99$bIuLi3x18XvMOT3k6a6uBeP1IUuGYRTNE04KQiv7VWLc1qYVc7Gb2"));
    /* A damaged argon2id hash. */
    REQUIRE(password_hash(&argon_pol, "Correct-horse-1", 15, hash) == 0);
    hash[strlen(hash) - 3] = hash[strlen(hash) - 3] == 'A' ? 'B' : 'A';
    CHECK(!password_verify("Correct-horse-1", 15, hash));
}

TEST(password_verify_dummy)
{
    CHECK_EQ_INT(password_init(&bcrypt_pol), 0);
    CHECK(!password_verify_dummy(&bcrypt_pol, "Correct-horse-1", 15));
    CHECK(!password_verify_dummy(&bcrypt_pol, "", 0));
    CHECK(!password_verify_dummy(&bcrypt_pol, "Zq7#\0kP2!", 9));
    char *pw = ascii_pw(200);
    REQUIRE(pw != NULL);
    CHECK(!password_verify_dummy(&bcrypt_pol, pw, 200));
    free(pw);
}

TEST(password_needs_rehash)
{
    struct password_policy pol = {PASSWORD_BCRYPT, 5, 8};
    char ours[PASSWORD_HASH_MAX];

    /* bcrypt below the cost setting, whatever its variant; at or above it,
     * kept. */
    CHECK(password_needs_rehash(&pol, passlib_2a));
    CHECK(password_needs_rehash(&pol, passlib_2b));
    CHECK(password_needs_rehash(&pol, passlib_2y));
    CHECK(!password_needs_rehash(&pol, passlib_utf8)); /* cost 5 */
    pol.bcrypt_rounds = 4;
    CHECK(!password_needs_rehash(&pol, passlib_2b));
    /* argon2id is not weaker than bcrypt: a bcrypt setting keeps it. */
    CHECK(!password_needs_rehash(&pol, cffi_argon2id));
    /* Under argon2id, every bcrypt hash is upgraded, and an argon2id hash
     * with more memory and passes than ours (64 MiB, 3) is kept rather than
     * downgraded. */
    pol.scheme = PASSWORD_ARGON2ID;
    CHECK(password_needs_rehash(&pol, passlib_utf8));
    CHECK(!password_needs_rehash(&pol, cffi_argon2id));
    REQUIRE(password_hash(&argon_pol, "correct horse battery", 21, ours) == 0);
    CHECK(!password_needs_rehash(&pol, ours));
    /* Less memory, fewer passes, or another version: weaker. */
    CHECK(password_needs_rehash(&pol, "$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaA"));
    CHECK(password_needs_rehash(&pol, "$argon2id$v=19$m=19456,t=1,p=1$c2FsdHNhbHQ$aGFzaA"));
    CHECK(password_needs_rehash(&pol, "$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA"));
    CHECK(!password_needs_rehash(&pol, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA"));
    /* What cannot be read is left as it is. */
    CHECK(!password_needs_rehash(&pol, "$argon2id$v=19$m=x,t=2,p=1$c2FsdHNhbHQ$aGFzaA"));
    CHECK(!password_needs_rehash(&pol, "$argon2i$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaA"));
    pol.scheme = PASSWORD_BCRYPT;
    pol.bcrypt_rounds = 12;
    CHECK(!password_needs_rehash(&pol, "$2b$x4$abc"));
    CHECK(!password_needs_rehash(&pol, "$1$abc$def"));
    CHECK(!password_needs_rehash(&pol, ""));
}

/* "café-au-lait-9" with é as one code point (NFC) and as e + U+0301 (NFD). */
#define CAFE_NFC "caf\xc3\xa9-au-lait-9"
#define CAFE_NFD "cafe\xcc\x81-au-lait-9"

TEST(password_invisible_refused)
{
    /* U+200B zero-width space, U+00AD soft hyphen, U+2060 word joiner,
     * U+FE0F variation selector, U+3164 Hangul filler. */
    CHECK_EQ_INT(check(&bcrypt_pol, "someone", "password\xe2\x80\x8b"), RULE_INVISIBLE);
    char *eight = repeat("\xe2\x80\x8b", 8);
    REQUIRE(eight != NULL);
    CHECK_EQ_INT(check(&bcrypt_pol, "someone", eight), RULE_INVISIBLE);
    free(eight);
    CHECK_EQ_INT(check(&bcrypt_pol, "someone", "Zq7#k\xc2\xadP2!vW9"), RULE_INVISIBLE);
    CHECK_EQ_INT(check(&bcrypt_pol, "someone", "Zq7#kP2!vW9\xe2\x81\xa0"), RULE_INVISIBLE);
    CHECK_EQ_INT(check(&bcrypt_pol, "someone", "Zq7#kP2!vW9\xef\xb8\x8f"), RULE_INVISIBLE);
    CHECK_EQ_INT(check(&bcrypt_pol, "someone", "Zq7#kP2!vW9\xe3\x85\xa4"), RULE_INVISIBLE);
    /* A visible space and a visible combining accent are fine. */
    CHECK_EQ_INT(check(&bcrypt_pol, "someone", "Zq7 kP2 vW9"), RULE_OK);
    CHECK_EQ_INT(check(&bcrypt_pol, "someone", CAFE_NFD), RULE_OK);
}

TEST(password_rules_after_nfkc)
{
    /* Full-width "password" is "password" in NFKC, which the list holds. */
    CHECK_EQ_INT(check(&bcrypt_pol, "someone",
                       "\xef\xbd\x90\xef\xbd\x81\xef\xbd\x93\xef\xbd\x93\xef\xbd\x97"
                       "\xef\xbd\x8f\xef\xbd\x92\xef\xbd\x84"),
                 RULE_TOO_COMMON);
    /* U+FDFA (3 bytes) is 33 bytes in NFKC: three pass bcrypt's 72. */
    char *s = repeat("\xef\xb7\xba", 3);
    REQUIRE(s != NULL);
    CHECK_EQ_INT(check(&bcrypt_pol, "someone", s), RULE_TOO_LONG);
    CHECK_EQ_INT(check(&argon_pol, "someone", s), RULE_OK);
    free(s);
    /* Three ligatures U+FB03 are 3 code points as typed, 9 in NFKC: the
     * minimum counts the normalised form. */
    s = repeat("\xef\xac\x83", 3);
    REQUIRE(s != NULL);
    CHECK_EQ_INT(check(&bcrypt_pol, "someone", s), RULE_OK); /* 9 code points */
    free(s);
    /* Full-width username letters equal the name. */
    CHECK_EQ_INT(check(&bcrypt_pol, "AliceSmith", "\xef\xbc\xa1liceSmith"), /* U+FF21 FULLWIDTH A */
                 RULE_EQUALS_USERNAME);
    /* U+1D400 (4 bytes) is "A" in NFKC: 1024 of them are 1024 bytes, the
     * most argon2id takes; one more is too long. */
    s = repeat("\xf0\x9d\x90\x80", 1024);
    REQUIRE(s != NULL);
    CHECK_EQ_INT(check(&argon_pol, "someone", s), RULE_OK);
    free(s);
    s = repeat("\xf0\x9d\x90\x80", 1025);
    REQUIRE(s != NULL);
    CHECK_EQ_INT(check(&argon_pol, "someone", s), RULE_TOO_LONG);
    free(s);
    /* Too long to normalise at all: refused before any work. */
    s = ascii_pw(4 * PASSWORD_ARGON2_MAX + 1);
    REQUIRE(s != NULL);
    CHECK_EQ_INT(check(&argon_pol, "someone", s), RULE_TOO_LONG);
    free(s);
}

TEST(password_nfc_nfd_one_password)
{
    char hash[PASSWORD_HASH_MAX];

    REQUIRE(password_hash(&bcrypt_pol, CAFE_NFD, strlen(CAFE_NFD), hash) == 0);
    CHECK(password_match(CAFE_NFC, strlen(CAFE_NFC), hash) == PASSWORD_MATCH);
    CHECK(password_match(CAFE_NFD, strlen(CAFE_NFD), hash) == PASSWORD_MATCH);
    CHECK(password_match("cafe-au-lait-9", 14, hash) == PASSWORD_NO_MATCH);
    REQUIRE(password_hash(&argon_pol, CAFE_NFC, strlen(CAFE_NFC), hash) == 0);
    CHECK(password_verify(CAFE_NFD, strlen(CAFE_NFD), hash));
}

TEST(password_raw_hash_still_verifies)
{
    /* A hash of the decomposed form as typed, as the original app made it
     * (no normalisation): crypt directly. */
    char salt[CRYPT_GENSALT_OUTPUT_SIZE], hash[PASSWORD_HASH_MAX];
    struct crypt_data cd;
    REQUIRE(crypt_gensalt_rn("$2b$", 4, NULL, 0, salt, sizeof salt) != NULL);
    memset(&cd, 0, sizeof cd);
    const char *h = crypt_rn(CAFE_NFD, salt, &cd, (int)sizeof cd);
    REQUIRE(h != NULL && strlen(h) < sizeof hash);
    memcpy(hash, h, strlen(h) + 1);

    CHECK(password_match(CAFE_NFD, strlen(CAFE_NFD), hash) == PASSWORD_MATCH_RAW);
    CHECK(password_verify(CAFE_NFD, strlen(CAFE_NFD), hash));
    /* Typed composed, it is another password to the old hash. */
    CHECK(password_match(CAFE_NFC, strlen(CAFE_NFC), hash) == PASSWORD_NO_MATCH);
    CHECK(password_match(CAFE_NFD "x", strlen(CAFE_NFD) + 1, hash) == PASSWORD_NO_MATCH);
}

/* The costs a stored hash may have: up to the bounds it is read (and
 * verified), past them it is refused with the reason, and never matches
 * (so that a login never spends hours on it). */
TEST(password_hash_cost_bounds)
{
    static const char salt_hash[] = "abcdefghijklmnopqrstuu5Yq3DG1ng7o2Wb0zP7Pl0vK3k7Xv0W6";
    static const char argon_tail[] =
        "$c29tZXNhbHRzb21lc2FsdA$MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTI";
    char h[PASSWORD_HASH_MAX], why[160];

    snprintf(h, sizeof h, "$2b$16$%s", salt_hash);
    CHECK_EQ_INT(password_hash_form(h, why, sizeof why), PASSWORD_HASH_OK);
    snprintf(h, sizeof h, "$2b$17$%s", salt_hash);
    CHECK_EQ_INT(password_hash_form(h, why, sizeof why), PASSWORD_HASH_TOO_COSTLY);
    CHECK_EQ_STR(why, "of bcrypt cost 17, over the 16 gatehouse verifies");
    snprintf(h, sizeof h, "$2y$31$%s", salt_hash);
    CHECK_EQ_INT(password_hash_form(h, NULL, 0), PASSWORD_HASH_TOO_COSTLY);
    /* Refused at once, without the 2^31 rounds. */
    CHECK(!password_verify("anything", 8, h));
    snprintf(h, sizeof h, "$2b$32$%s", salt_hash);
    CHECK_EQ_INT(password_hash_form(h, why, sizeof why), PASSWORD_HASH_UNKNOWN);

    snprintf(h, sizeof h, "$argon2id$v=19$m=1048576,t=10,p=16%s", argon_tail);
    CHECK_EQ_INT(password_hash_form(h, why, sizeof why), PASSWORD_HASH_OK);
    snprintf(h, sizeof h, "$argon2id$v=19$m=1048577,t=2,p=1%s", argon_tail);
    CHECK_EQ_INT(password_hash_form(h, why, sizeof why), PASSWORD_HASH_TOO_COSTLY);
    CHECK_EQ_STR(why, "of argon2id memory (KiB) 1048577, over the 1048576 gatehouse verifies");
    CHECK(!password_verify("anything", 8, h));
    snprintf(h, sizeof h, "$argon2id$v=19$m=65536,t=11,p=1%s", argon_tail);
    CHECK_EQ_INT(password_hash_form(h, why, sizeof why), PASSWORD_HASH_TOO_COSTLY);
    CHECK_EQ_STR(why, "of argon2id passes 11, over the 10 gatehouse verifies");
    snprintf(h, sizeof h, "$argon2id$v=19$m=65536,t=2,p=17%s", argon_tail);
    CHECK_EQ_INT(password_hash_form(h, why, sizeof why), PASSWORD_HASH_TOO_COSTLY);
    CHECK_EQ_STR(why, "of argon2id lanes 17, over the 16 gatehouse verifies");
}
