/* core/mfa: sealed secrets, recovery codes as typed, and the second
 * factors of an account on each backend (store/tdb.h): enrolment,
 * confirmation, replay, single-use codes under a race, the methods, the
 * step-up; and the throttle of codes (users_code_attempt). */
#include <liboath/oath.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fixture.h"
#include "core/mfa.h"
#include "core/totp.h"
#include "store/store.h"
#include "store/tdb.h"
#include "test.h"

static const char mfa_key[] = "an MFA_ENCRYPTION_KEY of at least 32 bytes";

TEST(mfa_seal_round_trip_and_tamper)
{
    unsigned char key[32], other[32], secret[TOTP_SECRET_LEN], sealed[128], out[64];
    size_t slen = 0, olen = 0;

    randombytes_buf(key, sizeof key);
    randombytes_buf(other, sizeof other);
    randombytes_buf(secret, sizeof secret);
    REQUIRE(mfa_seal(key, secret, sizeof secret, sealed, sizeof sealed, &slen) == 0);
    CHECK_EQ_INT(slen, 24 + 16 + TOTP_SECRET_LEN);
    CHECK(memmem(sealed, slen, secret, sizeof secret) == NULL);
    CHECK_EQ_INT(mfa_open(key, sealed, slen, out, sizeof out, &olen), 0);
    CHECK_EQ_INT(olen, sizeof secret);
    CHECK(memcmp(out, secret, sizeof secret) == 0);
    /* Two seals of one secret differ (a random nonce each). */
    unsigned char again[128];
    size_t alen = 0;
    REQUIRE(mfa_seal(key, secret, sizeof secret, again, sizeof again, &alen) == 0);
    CHECK(memcmp(again, sealed, slen) != 0);
    /* Any byte changed, nonce included, and it does not open. */
    int opened = 0;
    for (size_t i = 0; i < slen; i++) {
        sealed[i] ^= 0x01;
        opened += mfa_open(key, sealed, slen, out, sizeof out, &olen) == 0;
        sealed[i] ^= 0x01;
    }
    CHECK_EQ_INT(opened, 0);
    CHECK_EQ_INT(mfa_open(other, sealed, slen, out, sizeof out, &olen), -1);
    CHECK_EQ_INT(mfa_open(key, sealed, slen - 1, out, sizeof out, &olen), -1);
    CHECK_EQ_INT(mfa_open(key, sealed, 39, out, sizeof out, &olen), -1);
    CHECK_EQ_INT(mfa_open(key, sealed, slen, out, sizeof secret - 1, &olen), -1);
    CHECK_EQ_INT(mfa_seal(key, secret, sizeof secret, again, slen - 1, &alen), -1);
}

TEST(mfa_recovery_normalise)
{
    char out[MFA_RECOVERY_CODE_MAX + 1];

    CHECK(mfa_recovery_normalise("abcd-efgh-jkmn", 14, out));
    CHECK_EQ_STR(out, "abcdefghjkmn");
    CHECK(mfa_recovery_normalise(" ABCD EFGH-jkMN ", 16, out));
    CHECK_EQ_STR(out, "abcdefghjkmn");
    CHECK(mfa_recovery_normalise("abcdefghjkmn", 12, out));
    CHECK(mfa_recovery_normalise("2345-6789-pqrs", 14, out));
    /* The look-alikes are not in the alphabet; nor is anything else. */
    static const char *const bad[] = {"abcd-efgh-jkm",         "abcd-efgh-jkmnp",
                                      "abcd-efgh-jkmo",        "abcd-efgh-jkml",
                                      "abcd-efgh-jkmi",        "abcd-efgh-jkm0",
                                      "abcd-efgh-jkm1",        "abcd_efgh_jkmn",
                                      "abcd-efgh-jkm\xc3\xa9", "",
                                      "------------"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(!mfa_recovery_normalise(bad[i], strlen(bad[i]), out));
    CHECK(!mfa_recovery_normalise("abcd\0efghjkmn", 13, out));
    /* Past MFA_RECOVERY_CODE_MAX, refused without a look. */
    char longer[64];
    memset(longer, ' ', sizeof longer);
    memcpy(longer, "abcdefghjkmn", 12);
    CHECK(mfa_recovery_normalise(longer, MFA_RECOVERY_CODE_MAX, out));
    CHECK(!mfa_recovery_normalise(longer, MFA_RECOVERY_CODE_MAX + 1, out));
}

TEST(mfa_keys_derived)
{
    struct mfa_deps a, b, c, none;

    mfa_deps_init(&a, NULL, mfa_key, strlen(mfa_key), NULL, 0, NULL);
    mfa_deps_init(&b, NULL, mfa_key, strlen(mfa_key), "a SECRET_KEY of at least 32 bytes!", 34,
                  "auth.example.org");
    mfa_deps_init(&c, NULL, NULL, 0, "a SECRET_KEY of at least 32 bytes!", 34, "");
    mfa_deps_init(&none, NULL, NULL, 0, NULL, 0, NULL);
    CHECK(a.keyed && b.keyed && c.keyed && !none.keyed);
    /* MFA_ENCRYPTION_KEY wins over SECRET_KEY; each key differs from the
     * other and from the setting. */
    CHECK(memcmp(a.key, b.key, 32) == 0);
    CHECK(memcmp(a.key, c.key, 32) != 0);
    CHECK(memcmp(a.key, a.code_key, 32) != 0);
    CHECK(memcmp(a.key, mfa_key, 32) != 0);
    CHECK_EQ_STR(a.issuer, "gatehouse");
    CHECK_EQ_STR(b.issuer, "auth.example.org");
    CHECK_EQ_STR(c.issuer, "gatehouse");
}

static int64_t new_user(store *s, const char *name)
{
    struct store_user u;

    if (store_user_create(s, NULL, name, name, "$2b$04$h", T0, &u) != STORE_OK)
        return 0;
    return u.id;
}

/* The raw secret of a setup (base32, no padding). */
static void secret_of(const struct mfa_setup *m, unsigned char out[TOTP_SECRET_LEN])
{
    char *raw = NULL;
    size_t n = 0;

    if (oath_base32_decode(m->secret, strlen(m->secret), &raw, &n) == OATH_OK &&
        n == TOTP_SECRET_LEN)
        memcpy(out, raw, n);
    free(raw);
}

static void code_at(const unsigned char *secret, int64_t t, char out[TOTP_DIGITS + 1])
{
    totp_code(secret, TOTP_SECRET_LEN, t / TOTP_PERIOD, out);
}

/* TOTP set up for u at now and confirmed with the code of now (into c):
 * its secret and recovery codes come back; the outcome is the confirm's,
 * OUTCOME_ERROR when the setup failed. */
static enum outcome enrolled(const struct mfa_deps *d, const struct user *u, int64_t now,
                             unsigned char secret[TOTP_SECRET_LEN], char c[TOTP_DIGITS + 1],
                             char codes[MFA_RECOVERY_CODES][MFA_RECOVERY_CODE_MAX + 1])
{
    struct mfa_setup m;

    if (mfa_totp_begin(d, u, now, &m) != OUTCOME_OK)
        return OUTCOME_ERROR;
    secret_of(&m, secret);
    mfa_setup_free(&m);
    code_at(secret, now, c);
    return mfa_totp_confirm(d, u->id, c, 6, now, codes);
}

STORE_CASE(mfa_totp_lifecycle, 1)
{
    struct mfa_deps d;
    struct mfa_setup m;
    struct user u = {.id = new_user(s, "ann"), .username = "ann"};
    unsigned char secret[TOTP_SECRET_LEN];
    char codes[MFA_RECOVERY_CODES][MFA_RECOVERY_CODE_MAX + 1], c[TOTP_DIGITS + 1];
    unsigned methods = 99;
    const int64_t now = T0 + 15;

    REQUIRE(u.id > 0 && totp_init() == 0);
    mfa_deps_init(&d, s, mfa_key, strlen(mfa_key), NULL, 0, "ex.org");
    CHECK_EQ_INT(mfa_methods(&d, u.id, &methods), OUTCOME_OK);
    CHECK_EQ_INT(methods, 0);
    CHECK_EQ_INT(mfa_totp_confirm(&d, u.id, "123456", 6, now, codes), OUTCOME_NOT_FOUND);
    REQUIRE(mfa_totp_begin(&d, &u, now, &m) == OUTCOME_OK);
    CHECK(strncmp(m.otpauth_uri, "otpauth://totp/ex.org:ann?secret=", 33) == 0);
    CHECK(strncmp(m.qr_svg, "<svg ", 5) == 0);
    secret_of(&m, secret);
    mfa_setup_free(&m);
    /* Pending: no second factor yet, and its codes are no step-up. */
    CHECK_EQ_INT(mfa_methods(&d, u.id, &methods), OUTCOME_OK);
    CHECK_EQ_INT(methods, 0);
    code_at(secret, now, c);
    CHECK_EQ_INT(mfa_check_code(&d, u.id, c, 6, now), OUTCOME_BAD_CODE);
    CHECK_EQ_INT(mfa_totp_confirm(&d, u.id, "000000x", 7, now, codes), OUTCOME_INVALID);
    CHECK_EQ_INT(mfa_totp_confirm(&d, u.id, c, 6, now, codes), OUTCOME_OK);
    CHECK_EQ_INT(mfa_methods(&d, u.id, &methods), OUTCOME_OK);
    CHECK_EQ_INT(methods, MFA_TOTP | MFA_RECOVERY);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM recovery_codes WHERE length(code_hash) = 32"),
                 MFA_RECOVERY_CODES);
    /* On: no second enrolment; the code just used is spent. */
    CHECK_EQ_INT(mfa_totp_begin(&d, &u, now, &m), OUTCOME_CONFLICT);
    CHECK_EQ_INT(mfa_check_code(&d, u.id, c, 6, now), OUTCOME_BAD_CODE);
    code_at(secret, now + 30, c);
    CHECK_EQ_INT(mfa_check_code(&d, u.id, c, 6, now), OUTCOME_OK);
    CHECK_EQ_INT(mfa_check_code(&d, u.id, c, 6, now + 30), OUTCOME_BAD_CODE);
    /* Recovery codes: once each, typed any way. */
    char typed[MFA_RECOVERY_CODE_MAX + 1];
    snprintf(typed, sizeof typed, "%s", codes[3]);
    for (char *p = typed; *p != '\0'; p++)
        *p = *p == '-' ? ' ' : (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    CHECK_EQ_INT(mfa_use_recovery_code(&d, u.id, typed, strlen(typed), now), OUTCOME_OK);
    CHECK_EQ_INT(mfa_use_recovery_code(&d, u.id, codes[3], strlen(codes[3]), now),
                 OUTCOME_BAD_CODE);
    CHECK_EQ_INT(mfa_use_recovery_code(&d, u.id, "2345-6789-abcd", 14, now), OUTCOME_BAD_CODE);
    /* Another account's code is not this one's. */
    int64_t bob = new_user(s, "bob");
    CHECK_EQ_INT(mfa_use_recovery_code(&d, bob, codes[4], strlen(codes[4]), now), OUTCOME_BAD_CODE);
    /* A new set voids the old one. */
    char fresh[MFA_RECOVERY_CODES][MFA_RECOVERY_CODE_MAX + 1];
    CHECK_EQ_INT(mfa_recovery_regenerate(&d, u.id, fresh), OUTCOME_OK);
    CHECK_EQ_INT(mfa_use_recovery_code(&d, u.id, codes[5], strlen(codes[5]), now),
                 OUTCOME_BAD_CODE);
    CHECK_EQ_INT(mfa_use_recovery_code(&d, u.id, fresh[5], strlen(fresh[5]), now), OUTCOME_OK);
    CHECK_EQ_INT(mfa_recovery_regenerate(&d, bob, fresh), OUTCOME_NOT_FOUND);
    /* Off: the secret and the codes go. */
    CHECK_EQ_INT(mfa_totp_disable(&d, u.id), OUTCOME_OK);
    CHECK_EQ_INT(mfa_totp_disable(&d, u.id), OUTCOME_NOT_FOUND);
    CHECK_EQ_INT(mfa_methods(&d, u.id, &methods), OUTCOME_OK);
    CHECK_EQ_INT(methods, 0);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM totp") + tdb_int(t, "SELECT COUNT(*) FROM "
                                                                      "recovery_codes"),
                 0);
}

STORE_CASE(mfa_other_key_refused, 1)
{
    struct mfa_deps d, other;
    struct mfa_setup m;
    struct user u = {.id = new_user(s, "ann"), .username = "ann"};
    unsigned char secret[TOTP_SECRET_LEN];
    char codes[MFA_RECOVERY_CODES][MFA_RECOVERY_CODE_MAX + 1], c[TOTP_DIGITS + 1];

    REQUIRE(u.id > 0);
    (void)t;
    mfa_deps_init(&d, s, mfa_key, strlen(mfa_key), NULL, 0, NULL);
    mfa_deps_init(&other, s, NULL, 0, "another key of at least thirty-two bytes", 40, NULL);
    REQUIRE(mfa_totp_begin(&d, &u, T0, &m) == OUTCOME_OK);
    secret_of(&m, secret);
    mfa_setup_free(&m);
    code_at(secret, T0, c);
    /* A secret sealed under another key is an error of the server (the
     * operator changed the key), not a wrong code. */
    CHECK_EQ_INT(mfa_totp_confirm(&other, u.id, c, 6, T0, codes), OUTCOME_ERROR);
    CHECK_EQ_INT(mfa_totp_confirm(&d, u.id, c, 6, T0, codes), OUTCOME_OK);
    /* Recovery codes hashed under another key are no codes there. */
    CHECK_EQ_INT(mfa_use_recovery_code(&other, u.id, codes[0], strlen(codes[0]), T0),
                 OUTCOME_BAD_CODE);
    CHECK_EQ_INT(mfa_use_recovery_code(&d, u.id, codes[0], strlen(codes[0]), T0), OUTCOME_OK);
    /* No key: no enrolment, no new codes. */
    struct mfa_deps none;
    mfa_deps_init(&none, s, NULL, 0, NULL, 0, NULL);
    CHECK_EQ_INT(mfa_totp_begin(&none, &u, T0, &m), OUTCOME_MFA_OFF);
    CHECK_EQ_INT(mfa_recovery_regenerate(&none, u.id, codes), OUTCOME_MFA_OFF);
}

STORE_CASE(mfa_methods_and_step_up, 1)
{
    struct mfa_deps d;
    struct user u = {.id = new_user(s, "ann"), .username = "ann"};
    unsigned char secret[TOTP_SECRET_LEN];
    char codes[MFA_RECOVERY_CODES][MFA_RECOVERY_CODE_MAX + 1], c[TOTP_DIGITS + 1], sql[300];
    unsigned methods = 0;
    const int64_t now = T0 + 1000;
    struct jwt_claims cl = {.user_id = u.id, .iat = now - 10, .amr = JWT_AMR_PWD};

    REQUIRE(u.id > 0);
    mfa_deps_init(&d, s, mfa_key, strlen(mfa_key), NULL, 0, NULL);
    /* No second factor: the step-up lets the change go on. */
    CHECK_EQ_INT(mfa_step_up(&d, &cl, NULL, 0, NULL, 0, now), OUTCOME_OK);
    /* A passkey is a second factor. */
    snprintf(sql, sizeof sql,
             "INSERT INTO passkeys (id, user_id, credential_id, public_key, alg, name, "
             "created_at) VALUES ('pk1', %lld, %s, %s, -7, 'key', 1)",
             (long long)u.id, t->b == SQLITE ? "X'01'" : "'\\x01'::bytea",
             t->b == SQLITE ? "X'02'" : "'\\x02'::bytea");
    REQUIRE(tdb_exec(t, sql) == 0);
    CHECK_EQ_INT(mfa_methods(&d, u.id, &methods), OUTCOME_OK);
    CHECK_EQ_INT(methods, MFA_WEBAUTHN);
    CHECK_EQ_INT(mfa_step_up(&d, &cl, NULL, 0, NULL, 0, now), OUTCOME_MFA_REQUIRED);
    /* A token of a session that signed in with a passkey within 300 s
     * stands in for a code; the session's sign-in counts, not the token's
     * iat, which a refresh renews. */
    struct store_session sess = {.id = "stepup-sid",
                                 .user_id = u.id,
                                 .created_at = now - 300,
                                 .expires_at = now + 3600,
                                 .amr = "hwk user"};
    REQUIRE(store_session_create(s, NULL, &sess) == STORE_OK);
    snprintf(cl.sid, sizeof cl.sid, "%s", sess.id);
    cl.amr = JWT_AMR_HWK | JWT_AMR_USER;
    cl.iat = now - 300;
    CHECK_EQ_INT(mfa_step_up(&d, &cl, NULL, 0, NULL, 0, now), OUTCOME_OK);
    cl.iat = now - 301;
    CHECK_EQ_INT(mfa_step_up(&d, &cl, NULL, 0, NULL, 0, now), OUTCOME_MFA_REQUIRED);
    cl.iat = now; /* refreshed just now, signed in 301 s ago */
    CHECK_EQ_INT(tdb_exec(t, "UPDATE sessions SET created_at = created_at - 1"), 0);
    CHECK_EQ_INT(mfa_step_up(&d, &cl, NULL, 0, NULL, 0, now), OUTCOME_MFA_REQUIRED);
    /* A revoked session stands in for nothing. */
    CHECK_EQ_INT(tdb_exec(t, "UPDATE sessions SET created_at = created_at + 1, revoked_at = 1"), 0);
    CHECK_EQ_INT(mfa_step_up(&d, &cl, NULL, 0, NULL, 0, now), OUTCOME_MFA_REQUIRED);
    CHECK_EQ_INT(tdb_exec(t, "UPDATE sessions SET revoked_at = NULL"), 0);
    CHECK_EQ_INT(mfa_step_up(&d, &cl, NULL, 0, NULL, 0, now), OUTCOME_OK);
    cl.amr = JWT_AMR_PWD;
    /* Marked as possibly cloned, it is refused at sign-in but still a
     * factor the account has: the password alone must not pass now. */
    CHECK_EQ_INT(tdb_exec(t, "UPDATE passkeys SET cloned_at = 5"), 0);
    CHECK_EQ_INT(mfa_methods(&d, u.id, &methods), OUTCOME_OK);
    CHECK_EQ_INT(methods, MFA_WEBAUTHN);
    CHECK_EQ_INT(mfa_step_up(&d, &cl, NULL, 0, NULL, 0, now), OUTCOME_MFA_REQUIRED);
    CHECK_EQ_INT(tdb_exec(t, "DELETE FROM passkeys"), 0);
    /* TOTP on: a code, right or wrong, or a recovery code. */
    REQUIRE(enrolled(&d, &u, now, secret, c, codes) == OUTCOME_OK);
    CHECK_EQ_INT(mfa_step_up(&d, &cl, NULL, 0, NULL, 0, now), OUTCOME_MFA_REQUIRED);
    CHECK_EQ_INT(mfa_step_up(&d, &cl, c, 6, NULL, 0, now), OUTCOME_BAD_CODE); /* replayed */
    code_at(secret, now - 30, c);
    CHECK_EQ_INT(mfa_step_up(&d, &cl, c, 6, NULL, 0, now), OUTCOME_BAD_CODE); /* earlier */
    code_at(secret, now + 30, c);
    CHECK_EQ_INT(mfa_step_up(&d, &cl, "12345678901234567", 17, NULL, 0, now), OUTCOME_BAD_CODE);
    CHECK_EQ_INT(mfa_step_up(&d, &cl, c, 6, NULL, 0, now), OUTCOME_OK);
    CHECK_EQ_INT(mfa_step_up(&d, &cl, NULL, 0, codes[9], strlen(codes[9]), now), OUTCOME_OK);
    CHECK_EQ_INT(mfa_step_up(&d, &cl, NULL, 0, codes[9], strlen(codes[9]), now), OUTCOME_BAD_CODE);
}

struct race {
    struct mfa_deps *d;
    int64_t user_id;
    const char *code;
    int ok;
};

static void *use_code(void *arg)
{
    struct race *r = arg;

    r->ok = mfa_use_recovery_code(r->d, r->user_id, r->code, strlen(r->code), T0) == OUTCOME_OK;
    return NULL;
}

STORE_CASE(mfa_recovery_code_race, 4)
{
    struct mfa_deps d;
    struct user u = {.id = new_user(s, "ann"), .username = "ann"};
    unsigned char secret[TOTP_SECRET_LEN];
    char codes[MFA_RECOVERY_CODES][MFA_RECOVERY_CODE_MAX + 1], c[TOTP_DIGITS + 1];
    pthread_t th[4];
    struct race r[4];

    REQUIRE(u.id > 0);
    (void)t;
    mfa_deps_init(&d, s, mfa_key, strlen(mfa_key), NULL, 0, NULL);
    REQUIRE(enrolled(&d, &u, T0, secret, c, codes) == OUTCOME_OK);
    for (int round = 0; round < 5; round++) {
        int ok = 0;
        for (int i = 0; i < 4; i++) {
            r[i] = (struct race){&d, u.id, codes[round], 0};
            pthread_create(&th[i], NULL, use_code, &r[i]);
        }
        for (int i = 0; i < 4; i++) {
            pthread_join(th[i], NULL);
            ok += r[i].ok;
        }
        CHECK_EQ_INT(ok, 1);
    }
}

static enum outcome answer(void *arg)
{
    return *(enum outcome *)arg;
}

TEST(users_code_attempt_counts_wrong_codes)
{
    struct core_fixture f;
    struct outcome_detail d = {0};
    struct store_user su;
    struct netaddr a = {{0}};
    throttle *th = throttle_create(&core_fixture_account_limits);
    enum outcome ok = OUTCOME_OK, bad = OUTCOME_BAD_CODE;

    a.b[15] = 1;
    REQUIRE(th != NULL);
    REQUIRE(core_fixture_open(&f) == 0);
    REQUIRE(store_user_create(f.store, NULL, "carol", "carol", "$2b$04$h", T0, &su) == STORE_OK);
    /* Right codes, more than the free failures: nothing counted. */
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(users_code_attempt(&f.users, th, &a, su.id, answer, &ok, &d), OUTCOME_OK);
    REQUIRE(store_user_by_id(f.store, NULL, su.id, &su) == STORE_OK);
    CHECK_EQ_INT(su.failed_logins, 0);
    /* Wrong ones count as failed logins: two free, the third locks. */
    CHECK_EQ_INT(users_code_attempt(&f.users, th, &a, su.id, answer, &bad, &d), OUTCOME_BAD_CODE);
    CHECK_EQ_INT(users_code_attempt(&f.users, th, &a, su.id, answer, &ok, &d), OUTCOME_OK);
    CHECK_EQ_INT(users_code_attempt(&f.users, th, &a, su.id, answer, &bad, &d), OUTCOME_BAD_CODE);
    CHECK_EQ_INT(users_code_attempt(&f.users, th, &a, su.id, answer, &bad, &d), OUTCOME_BAD_CODE);
    d.retry_after = 0;
    CHECK_EQ_INT(users_code_attempt(&f.users, th, &a, su.id, answer, &ok, &d), OUTCOME_THROTTLED);
    CHECK(d.retry_after >= 59 && d.retry_after <= 60);
    /* The lock is the account's: a password login is refused too. */
    struct user out;
    CHECK_EQ_INT(users_login(&f.users, th, &a, "carol", 5, "whatever1", 9, &out, &d),
                 OUTCOME_THROTTLED);
    /* Without throttling, the check alone. */
    CHECK_EQ_INT(users_code_attempt(&f.users, NULL, &a, su.id, answer, &ok, &d), OUTCOME_OK);
    CHECK_EQ_INT(users_code_attempt(&f.users, th, &a, su.id + 1000, answer, &ok, &d),
                 OUTCOME_TOKEN_INVALID);
    core_fixture_close(&f);
    throttle_free(th);
}

/* A confirmation turns on the secret its code was checked against, not one
 * a concurrent enrolment put in its place meanwhile, which no code has
 * proven the user holds. */
STORE_CASE(mfa_confirm_binds_the_secret_read, 1)
{
    static const unsigned char a[] = "sealed secret a", b[] = "sealed secret b";
    int64_t id = new_user(s, "cy");

    (void)t;
    REQUIRE(id > 0);
    REQUIRE(store_totp_put(s, NULL, id, a, sizeof a, T0) == STORE_OK);
    REQUIRE(store_totp_put(s, NULL, id, b, sizeof b, T0 + 1) == STORE_OK);
    CHECK_EQ_INT(store_totp_confirm(s, NULL, id, a, sizeof a, 5, T0 + 2), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_totp_confirm(s, NULL, id, b, sizeof b, 5, T0 + 2), STORE_OK);
}
