/* core/users: registration, the login credential check, the /me lookup,
 * over a real SQLite store. */
#include <string.h>

#include "fixture.h"
#include "test.h"

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
