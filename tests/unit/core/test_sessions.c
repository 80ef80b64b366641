/* core/sessions: opening a session issues tokens that verify; what does
 * not verify is OUTCOME_TOKEN_INVALID. */
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "test.h"
#include "util/timefmt.h"

static int user_in(struct core_fixture *f, struct user *u)
{
    struct outcome_detail d = {0};
    const char *pw = "correct horse battery";

    return users_register(&f->users, "erin", 4, pw, strlen(pw), u, &d) == OUTCOME_OK ? 0 : -1;
}

TEST(sessions_open_and_verify)
{
    struct core_fixture f;
    struct session_tokens t, t2;
    struct jwt_claims c, c2;
    struct user u;

    REQUIRE(core_fixture_open(&f) == 0);
    REQUIRE(user_in(&f, &u) == 0);
    REQUIRE(sessions_open(&f.sessions, &u, &t) == OUTCOME_OK);
    REQUIRE(t.access_token != NULL);
    CHECK_EQ_INT(t.expires_in, f.sessions.access_ttl);
    CHECK_EQ_INT(strlen(t.refresh_token), 43); /* 256 bits in base64url */
    CHECK_EQ_INT(sessions_verify_access(&f.sessions, t.access_token, strlen(t.access_token),
                                        timefmt_now(), &c),
                 OUTCOME_OK);
    CHECK_EQ_INT(c.user_id, u.id);
    CHECK_EQ_STR(c.username, "erin");
    CHECK(c.sid[0] != '\0');
    CHECK_EQ_INT(c.exp - c.iat, f.sessions.access_ttl);
    CHECK(!sessions_is_revoked(&f.sessions, &c));
    /* Every login is a session of its own. */
    REQUIRE(sessions_open(&f.sessions, &u, &t2) == OUTCOME_OK);
    REQUIRE(sessions_verify_access(&f.sessions, t2.access_token, strlen(t2.access_token),
                                   timefmt_now(), &c2) == OUTCOME_OK);
    CHECK(strcmp(c.sid, c2.sid) != 0);
    CHECK(strcmp(t.refresh_token, t2.refresh_token) != 0);
    sessions_tokens_free(&t);
    CHECK(t.access_token == NULL);
    CHECK_EQ_INT(t.refresh_token[0], 0); /* wiped */
    sessions_tokens_free(&t2);
    core_fixture_close(&f);
}

TEST(sessions_verify_refusals)
{
    struct core_fixture f;
    struct session_tokens t;
    struct jwt_claims c;
    struct user u;

    REQUIRE(core_fixture_open(&f) == 0);
    REQUIRE(user_in(&f, &u) == 0);
    REQUIRE(sessions_open(&f.sessions, &u, &t) == OUTCOME_OK);
    size_t n = strlen(t.access_token);
    int64_t now = timefmt_now();
    /* Past its lifetime. */
    CHECK_EQ_INT(
        sessions_verify_access(&f.sessions, t.access_token, n, now + f.sessions.access_ttl + 5, &c),
        OUTCOME_TOKEN_INVALID);
    /* Cut short, or with one character of its signature changed. */
    CHECK_EQ_INT(sessions_verify_access(&f.sessions, t.access_token, n - 1, now, &c),
                 OUTCOME_TOKEN_INVALID);
    t.access_token[n - 2] = t.access_token[n - 2] == 'A' ? 'B' : 'A';
    CHECK_EQ_INT(sessions_verify_access(&f.sessions, t.access_token, n, now, &c),
                 OUTCOME_TOKEN_INVALID);
    CHECK_EQ_INT(sessions_verify_access(&f.sessions, "", 0, now, &c), OUTCOME_TOKEN_INVALID);
    sessions_tokens_free(&t);
    core_fixture_close(&f);
}
