/* core/users: registration, the login credential check, the /me lookup,
 * over a real SQLite store. */
#include <stdio.h>
#include <string.h>

#include "core/username.h"
#include "fixture.h"
#include "test.h"
#include "util/timefmt.h"

static enum outcome reg(struct core_fixture *f, const char *u, const char *p, struct user *out,
                        struct outcome_detail *d)
{
    return users_register(&f->users, u, strlen(u), p, strlen(p), out, d);
}

static enum outcome check(struct core_fixture *f, const char *u, const char *p, struct user *out)
{
    return users_check_credentials(&f->users, u, strlen(u), p, strlen(p), out);
}

TEST(users_register)
{
    struct core_fixture f;
    struct outcome_detail d = {0};
    struct user u, again;

    REQUIRE(core_fixture_open(&f) == 0);
    CHECK_EQ_INT(reg(&f, "Alice", "correct horse battery", &u, &d), OUTCOME_OK);
    CHECK(u.id > 0);
    CHECK_EQ_STR(u.username, "Alice");
    CHECK(u.created_at > 0);
    CHECK_EQ_INT(d.errors.count, 0);
    /* Unique without regard to case. */
    CHECK_EQ_INT(reg(&f, "alice", "another good passphrase", &again, &d), OUTCOME_CONFLICT);
    core_fixture_close(&f);
}

TEST(users_register_rules)
{
    struct core_fixture f;
    struct outcome_detail d = {0};
    struct user u;

    REQUIRE(core_fixture_open(&f) == 0);
    CHECK_EQ_INT(reg(&f, "bob", "short", &u, &d), OUTCOME_INVALID);
    REQUIRE(d.errors.count == 1);
    CHECK_EQ_STR(d.errors.e[0].field, "password");
    CHECK_EQ_STR(d.errors.e[0].code, "too_short");
    memset(&d, 0, sizeof d);
    /* Both fields are reported at once. */
    CHECK_EQ_INT(reg(&f, "b", "password", &u, &d), OUTCOME_INVALID);
    REQUIRE(d.errors.count == 2);
    CHECK_EQ_STR(d.errors.e[0].field, "username");
    CHECK_EQ_STR(d.errors.e[1].code, "too_common");
    core_fixture_close(&f);
}

TEST(users_check_credentials)
{
    struct core_fixture f;
    struct outcome_detail d = {0};
    struct user u, got;

    REQUIRE(core_fixture_open(&f) == 0);
    REQUIRE(reg(&f, "Carol", "correct horse battery", &u, &d) == OUTCOME_OK);
    CHECK_EQ_INT(check(&f, "CAROL", "correct horse battery", &got), OUTCOME_OK);
    CHECK_EQ_INT(got.id, u.id);
    CHECK_EQ_STR(got.username, "Carol"); /* the spelling registered */
    CHECK_EQ_INT(got.created_at, u.created_at);
    /* One outcome for a wrong password, an unknown user and a name that
     * cannot exist. */
    CHECK_EQ_INT(check(&f, "carol", "correct horse battery!", &got), OUTCOME_BAD_CREDENTIALS);
    CHECK_EQ_INT(check(&f, "nobody", "correct horse battery", &got), OUTCOME_BAD_CREDENTIALS);
    CHECK_EQ_INT(check(&f, "x", "correct horse battery", &got), OUTCOME_BAD_CREDENTIALS);
    core_fixture_close(&f);
}

TEST(users_by_token)
{
    struct core_fixture f;
    struct outcome_detail d = {0};
    struct jwt_claims c = {0};
    struct user u, got;

    REQUIRE(core_fixture_open(&f) == 0);
    REQUIRE(reg(&f, "dave", "correct horse battery", &u, &d) == OUTCOME_OK);
    c.user_id = u.id;
    CHECK_EQ_INT(users_by_token(&f.users, &c, &got), OUTCOME_OK);
    CHECK_EQ_INT(got.id, u.id);
    CHECK_EQ_STR(got.username, "dave");
    /* A token whose user is gone names nobody: it is invalid, not a 404. */
    c.user_id = u.id + 1000;
    CHECK_EQ_INT(users_by_token(&f.users, &c, &got), OUTCOME_TOKEN_INVALID);
    core_fixture_close(&f);
}

/* Inserts a user the way an import does: any storable name, its key from
 * username_key_any, and a hash made elsewhere (here at the fixture's cost). */
static int64_t legacy_user(struct core_fixture *f, const char *name, const char *pw)
{
    char key[USERNAME_STORED_MAX + 1], hash[PASSWORD_HASH_MAX];
    struct store_user su;

    if (!username_storable(name, strlen(name)) ||
        password_hash(&f->policy, pw, strlen(pw), hash) != 0)
        return -1;
    username_key_any(key, name, strlen(name));
    if (store_user_create(f->store, NULL, name, key, hash, timefmt_now(), &su) != STORE_OK)
        return -1;
    return su.id;
}

/* The stored hash of user id, for the rehash checks. */
static void stored_hash(struct core_fixture *f, int64_t id, char *out, size_t cap)
{
    struct store_user su;

    out[0] = '\0';
    if (store_user_by_id(f->store, NULL, id, &su) == STORE_OK)
        snprintf(out, cap, "%s", su.password_hash);
}

TEST(users_legacy_names)
{
    struct core_fixture f;
    struct user got;
    const char *pw = "old app password";
    int64_t bob, zoe, ab;

    REQUIRE(core_fixture_open(&f) == 0);
    bob = legacy_user(&f, "Bob Smith", pw);
    zoe = legacy_user(&f, "Zo\xc3\xab", pw); /* "Zoë" */
    ab = legacy_user(&f, "ab", pw);
    REQUIRE(bob > 0 && zoe > 0 && ab > 0);
    /* Names the rules of a new name refuse still log in: the rules apply
     * when a name is chosen. ASCII letters match without regard to case. */
    CHECK_EQ_INT(check(&f, "Bob Smith", pw, &got), OUTCOME_OK);
    CHECK_EQ_INT(got.id, bob);
    CHECK_EQ_STR(got.username, "Bob Smith");
    CHECK_EQ_INT(check(&f, "bob smith", pw, &got), OUTCOME_OK);
    CHECK_EQ_INT(got.id, bob);
    CHECK_EQ_INT(check(&f, "AB", pw, &got), OUTCOME_OK);
    CHECK_EQ_INT(got.id, ab);
    CHECK_EQ_INT(check(&f, "zo\xc3\xab", pw, &got), OUTCOME_OK);
    CHECK_EQ_INT(got.id, zoe);
    CHECK_EQ_STR(got.username, "Zo\xc3\xab");
    /* Other letters match only as spelled: "ZOË" is another name. */
    CHECK_EQ_INT(check(&f, "ZO\xc3\x8b", pw, &got), OUTCOME_BAD_CREDENTIALS);
    /* A wrong password, a name no one has and a name no one can have
     * (control characters, invalid UTF-8, empty, too long) give the same
     * outcome. */
    CHECK_EQ_INT(check(&f, "Bob Smith", "old app passwort", &got), OUTCOME_BAD_CREDENTIALS);
    CHECK_EQ_INT(check(&f, "Bob  Smith", pw, &got), OUTCOME_BAD_CREDENTIALS);
    CHECK_EQ_INT(check(&f, "Bob\tSmith", pw, &got), OUTCOME_BAD_CREDENTIALS);
    CHECK_EQ_INT(check(&f, "Zo\xeb", pw, &got), OUTCOME_BAD_CREDENTIALS);
    CHECK_EQ_INT(check(&f, "", pw, &got), OUTCOME_BAD_CREDENTIALS);
    char longname[USERNAME_STORED_MAX + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    CHECK_EQ_INT(check(&f, longname, pw, &got), OUTCOME_BAD_CREDENTIALS);
    /* A name taken by a legacy user is taken for registration too: the
     * key registration computes is the one the import stored. */
    struct outcome_detail d = {0};
    struct user u;
    CHECK_EQ_INT(reg(&f, "AB", "correct horse battery", &u, &d), OUTCOME_INVALID); /* too short */
    legacy_user(&f, "Carol.Legacy", pw);
    memset(&d, 0, sizeof d);
    CHECK_EQ_INT(reg(&f, "carol.LEGACY", "correct horse battery", &u, &d), OUTCOME_CONFLICT);
    core_fixture_close(&f);
}

TEST(users_legacy_name_password_rules)
{
    struct core_fixture f;
    struct outcome_detail d = {0};
    struct session_tokens t;
    struct jwt_claims c;
    struct user got;
    const char *pw = "old app password";

    REQUIRE(core_fixture_open(&f) == 0);
    REQUIRE(legacy_user(&f, "Bob Smith", pw) > 0);
    REQUIRE(check(&f, "bob smith", pw, &got) == OUTCOME_OK);
    REQUIRE(sessions_open(&f.sessions, &got, JWT_AMR_PWD, &t) == OUTCOME_OK);
    REQUIRE(sessions_verify_access(&f.sessions, t.access_token, strlen(t.access_token),
                                   timefmt_now(), &c) == OUTCOME_OK);
    CHECK_EQ_STR(c.username, "Bob Smith");
    /* The equals-username rule compares with the stored name, spaces and
     * all, without regard to ASCII case. */
    CHECK_EQ_INT(users_change_password(&f.users, NULL, NULL, &f.sessions, &c, pw, strlen(pw),
                                       "BOB SMITH", 9, &d),
                 OUTCOME_INVALID);
    REQUIRE(d.errors.count == 1);
    CHECK_EQ_STR(d.errors.e[0].code, "equals_username");
    memset(&d, 0, sizeof d);
    CHECK_EQ_INT(users_change_password(&f.users, NULL, NULL, &f.sessions, &c, pw, strlen(pw),
                                       "tremendous purple giraffe", 25, &d),
                 OUTCOME_OK);
    CHECK_EQ_INT(check(&f, "Bob Smith", "tremendous purple giraffe", &got), OUTCOME_OK);
    CHECK_EQ_INT(
        users_delete(&f.users, NULL, NULL, &f.sessions, &c, "tremendous purple giraffe", 25, &d),
        OUTCOME_OK);
    CHECK_EQ_INT(check(&f, "Bob Smith", "tremendous purple giraffe", &got),
                 OUTCOME_BAD_CREDENTIALS);
    sessions_tokens_free(&t);
    core_fixture_close(&f);
}

TEST(users_rehash_at_login)
{
    struct core_fixture f;
    struct user got;
    char h[PASSWORD_HASH_MAX];
    const char *pw = "old app password";
    int64_t id;

    REQUIRE(core_fixture_open(&f) == 0);
    id = legacy_user(&f, "rehash me", pw); /* bcrypt at cost 4 */
    REQUIRE(id > 0);
    stored_hash(&f, id, h, sizeof h);
    CHECK(strncmp(h, "$2b$04$", 7) == 0);
    /* At the same cost, nothing changes. */
    CHECK_EQ_INT(check(&f, "rehash me", pw, &got), OUTCOME_OK);
    char before[PASSWORD_HASH_MAX];
    stored_hash(&f, id, before, sizeof before);
    CHECK_EQ_STR(before, h);
    /* A wrong password upgrades nothing. */
    f.policy.bcrypt_rounds = 5;
    CHECK_EQ_INT(check(&f, "rehash me", "wrong password", &got), OUTCOME_BAD_CREDENTIALS);
    stored_hash(&f, id, h, sizeof h);
    CHECK_EQ_STR(h, before);
    /* A higher cost setting upgrades the hash at the next login, which
     * succeeds; the password is the same, so the credential version (and
     * with it every session) stays. */
    CHECK_EQ_INT(check(&f, "rehash me", pw, &got), OUTCOME_OK);
    CHECK_EQ_INT(got.credential_version, 0);
    stored_hash(&f, id, h, sizeof h);
    CHECK(strncmp(h, "$2b$05$", 7) == 0);
    CHECK_EQ_INT(check(&f, "rehash me", pw, &got), OUTCOME_OK);
    CHECK_EQ_INT(got.credential_version, 0);
    /* Switching the scheme to argon2id upgrades bcrypt hashes; going back
     * to bcrypt keeps the argon2id one. */
    f.policy.scheme = PASSWORD_ARGON2ID;
    CHECK_EQ_INT(check(&f, "rehash me", pw, &got), OUTCOME_OK);
    stored_hash(&f, id, h, sizeof h);
    CHECK(strncmp(h, "$argon2id$", 10) == 0);
    f.policy.scheme = PASSWORD_BCRYPT;
    CHECK_EQ_INT(check(&f, "rehash me", pw, &got), OUTCOME_OK);
    stored_hash(&f, id, before, sizeof before);
    CHECK_EQ_STR(before, h);
    core_fixture_close(&f);
}

static enum outcome login(struct core_fixture *f, throttle *t, const struct netaddr *from,
                          const char *u, const char *p, struct outcome_detail *d)
{
    struct user out;

    memset(d, 0, sizeof *d);
    enum outcome o = users_login(&f->users, t, from, u, strlen(u), p, strlen(p), &out, d);
    /* A sign-in without a second factor is complete at once. */
    if (o == OUTCOME_OK)
        users_login_done(&f->users, t, out.id);
    return o;
}

TEST(users_login_throttled)
{
    struct core_fixture f;
    struct outcome_detail d = {0};
    struct user u;
    struct netaddr a = {{0}}, b = {{0}};
    throttle *t = throttle_create(&core_fixture_account_limits);

    a.b[15] = 1;
    b.b[15] = 2;
    REQUIRE(t != NULL);
    REQUIRE(core_fixture_open(&f) == 0);
    REQUIRE(reg(&f, "carol", "correct horse battery", &u, &d) == OUTCOME_OK);
    /* Two free failures, the third locks; from any address. */
    CHECK_EQ_INT(login(&f, t, &a, "carol", "wrong one", &d), OUTCOME_BAD_CREDENTIALS);
    CHECK_EQ_INT(login(&f, t, &b, "carol", "wrong two", &d), OUTCOME_BAD_CREDENTIALS);
    CHECK_EQ_INT(login(&f, t, &a, "carol", "wrong three", &d), OUTCOME_BAD_CREDENTIALS);
    /* Locked: the right password is refused too, with the wait. */
    CHECK_EQ_INT(login(&f, t, &b, "Carol", "correct horse battery", &d), OUTCOME_THROTTLED);
    CHECK(d.retry_after >= 59 && d.retry_after <= 60);
    /* The lock is on the row: another instance (another table) sees it. */
    throttle *other = throttle_create(&core_fixture_account_limits);
    REQUIRE(other != NULL);
    CHECK_EQ_INT(login(&f, other, &a, "carol", "correct horse battery", &d), OUTCOME_THROTTLED);
    throttle_free(other);
    /* Without throttling (the command line), the check is the plain one. */
    CHECK_EQ_INT(check(&f, "carol", "correct horse battery", &u), OUTCOME_OK);

    /* An unknown name is locked after as many failures. */
    CHECK_EQ_INT(login(&f, t, &a, "nobody", "x1", &d), OUTCOME_BAD_CREDENTIALS);
    CHECK_EQ_INT(login(&f, t, &a, "nobody", "x2", &d), OUTCOME_BAD_CREDENTIALS);
    CHECK_EQ_INT(login(&f, t, &a, "nobody", "x3", &d), OUTCOME_BAD_CREDENTIALS);
    CHECK_EQ_INT(login(&f, t, &a, "nobody", "x4", &d), OUTCOME_THROTTLED);

    /* A success forgets the account's failures. */
    REQUIRE(reg(&f, "dave", "correct horse battery", &u, &d) == OUTCOME_OK);
    CHECK_EQ_INT(login(&f, t, &a, "dave", "wrong one", &d), OUTCOME_BAD_CREDENTIALS);
    CHECK_EQ_INT(login(&f, t, &a, "dave", "wrong two", &d), OUTCOME_BAD_CREDENTIALS);
    CHECK_EQ_INT(login(&f, t, &a, "dave", "correct horse battery", &d), OUTCOME_OK);
    CHECK_EQ_INT(login(&f, t, &a, "dave", "wrong one", &d), OUTCOME_BAD_CREDENTIALS);
    CHECK_EQ_INT(login(&f, t, &a, "dave", "wrong two", &d), OUTCOME_BAD_CREDENTIALS);
    CHECK_EQ_INT(login(&f, t, &a, "dave", "correct horse battery", &d), OUTCOME_OK);
    core_fixture_close(&f);
    throttle_free(t);
}

static enum outcome right_code(void *arg)
{
    (void)arg;
    return OUTCOME_OK;
}

static enum outcome wrong_code(void *arg)
{
    (void)arg;
    return OUTCOME_BAD_CODE;
}

/* An account with a second factor: the right password stays counted until
 * the sign-in is complete (users_login_done), and wrong codes count as
 * failed logins, so that knowing the password buys no more guesses at the
 * codes than at it. */
TEST(users_login_pending_until_done)
{
    struct core_fixture f;
    struct outcome_detail d = {0};
    struct user u, got;
    struct netaddr a = {{0}};
    throttle *t = throttle_create(&core_fixture_account_limits);
    const char *pw = "correct horse battery";

    a.b[15] = 1;
    REQUIRE(t != NULL);
    REQUIRE(core_fixture_open(&f) == 0);
    REQUIRE(reg(&f, "fred", pw, &u, &d) == OUTCOME_OK);
    /* Right password, right code, done: the count is forgotten. */
    for (int i = 0; i < 3; i++) {
        REQUIRE(users_login(&f.users, t, &a, "fred", 4, pw, strlen(pw), &got, &d) == OUTCOME_OK);
        REQUIRE(users_code_attempt(&f.users, t, &a, u.id, right_code, NULL, &d) == OUTCOME_OK);
        users_login_done(&f.users, t, u.id);
    }
    /* Right password, wrong codes: counted, then locked, the right
     * password refused too. */
    REQUIRE(users_login(&f.users, t, &a, "fred", 4, pw, strlen(pw), &got, &d) == OUTCOME_OK);
    CHECK_EQ_INT(users_code_attempt(&f.users, t, &a, u.id, wrong_code, NULL, &d), OUTCOME_BAD_CODE);
    CHECK_EQ_INT(users_code_attempt(&f.users, t, &a, u.id, wrong_code, NULL, &d), OUTCOME_BAD_CODE);
    CHECK_EQ_INT(users_code_attempt(&f.users, t, &a, u.id, right_code, NULL, &d),
                 OUTCOME_THROTTLED);
    CHECK(d.retry_after >= 59 && d.retry_after <= 60);
    CHECK_EQ_INT(login(&f, t, &a, "fred", pw, &d), OUTCOME_THROTTLED);
    /* Logging in again without finishing does not win the free failures
     * back. */
    REQUIRE(reg(&f, "gina", pw, &u, &d) == OUTCOME_OK);
    for (int i = 0; i < 3; i++)
        REQUIRE(users_login(&f.users, t, &a, "gina", 4, pw, strlen(pw), &got, &d) == OUTCOME_OK);
    CHECK_EQ_INT(users_login(&f.users, t, &a, "gina", 4, pw, strlen(pw), &got, &d),
                 OUTCOME_THROTTLED);
    core_fixture_close(&f);
    throttle_free(t);
}

static int count_event(void *arg, const struct store_audit_row *r)
{
    (void)r;
    (*(long long *)arg)++;
    return 0;
}

/* How many audit events of type (of user_id; 0: any) f's database holds. */
static long long events_of(struct core_fixture *f, const char *type, int64_t user_id)
{
    long long n = 0;
    struct store_audit_filter flt = {.user_id = user_id, .type = type, .limit = 100};

    return store_audit_list(f->store, &flt, count_event, &n) == STORE_OK ? n : -1;
}

/* An event held around a change is written by the change's transaction,
 * with the new user's id, and only when the change commits: a refused
 * registration or deletion leaves none (store_audit_hold). */
TEST(users_changes_write_the_held_event_in_their_transaction)
{
    struct core_fixture f;
    struct outcome_detail d = {0};
    struct user u, again;
    struct store_audit_event e = {.type = "user.registered", .at = 1, .client = "192.0.2.7"};
    int64_t id = 0;

    REQUIRE(core_fixture_open(&f) == 0);
    store_audit_hold(&e);
    CHECK_EQ_INT(reg(&f, "Carol", "correct horse battery", &u, &d), OUTCOME_OK);
    CHECK(store_audit_release());
    CHECK_EQ_INT(events_of(&f, "user.registered", u.id), 1);

    e = (struct store_audit_event){.type = "user.registered", .at = 2};
    store_audit_hold(&e);
    CHECK_EQ_INT(reg(&f, "carol", "another good passphrase", &again, &d), OUTCOME_CONFLICT);
    CHECK(!store_audit_release());
    CHECK_EQ_INT(events_of(&f, "user.registered", 0), 1);

    /* A deletion's event goes with the sessions' revocations and the row. */
    e = (struct store_audit_event){.type = "admin.user_deleted", .at = 3, .actor = "cli"};
    store_audit_hold(&e);
    CHECK_EQ_INT(users_remove(&f.users, &f.sessions, "nobody", 6, &id), OUTCOME_BAD_CREDENTIALS);
    CHECK(!store_audit_release());
    store_audit_hold(&e);
    CHECK_EQ_INT(users_remove(&f.users, &f.sessions, "Carol", 5, &id), OUTCOME_OK);
    CHECK(store_audit_release());
    CHECK_EQ_INT(events_of(&f, "admin.user_deleted", u.id), 1);
    /* Nothing held: a change writes no event. */
    CHECK_EQ_INT(reg(&f, "Dave", "correct horse battery", &u, &d), OUTCOME_OK);
    CHECK_EQ_INT(events_of(&f, NULL, 0), 2);
    core_fixture_close(&f);
}
