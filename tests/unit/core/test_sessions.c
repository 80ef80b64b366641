/* core/sessions: opening a session issues tokens that verify; what does
 * not verify is OUTCOME_TOKEN_INVALID. */
#include <sqlite3.h>
#include <stdio.h>
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
    REQUIRE(sessions_open(&f.sessions, &u, JWT_AMR_PWD, &t) == OUTCOME_OK);
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
    CHECK(!sessions_is_revoked(&f.sessions, &c, timefmt_now()));
    /* Every login is a session of its own. */
    REQUIRE(sessions_open(&f.sessions, &u, JWT_AMR_PWD, &t2) == OUTCOME_OK);
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
    REQUIRE(sessions_open(&f.sessions, &u, JWT_AMR_PWD, &t) == OUTCOME_OK);
    size_t n = strlen(t.access_token);
    int64_t now = timefmt_now();
    /* Past its lifetime. */
    CHECK_EQ_INT(
        sessions_verify_access(&f.sessions, t.access_token, n, now + f.sessions.access_ttl + 5, &c),
        OUTCOME_TOKEN_EXPIRED);
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

/* Verifies an access token now; OUTCOME_OK or the refusal. */
static enum outcome verify(struct core_fixture *f, const char *token, struct jwt_claims *c)
{
    return sessions_verify_access(&f->sessions, token, strlen(token), timefmt_now(), c);
}

static enum outcome refresh(struct core_fixture *f, const char *token, struct session_tokens *t)
{
    return sessions_refresh(&f->sessions, token, strlen(token), t);
}

TEST(sessions_refresh_rotates)
{
    struct core_fixture f;
    struct session_tokens t, t2, t3;
    struct jwt_claims c, c2;
    struct user u;

    REQUIRE(core_fixture_open(&f) == 0);
    REQUIRE(user_in(&f, &u) == 0);
    REQUIRE(sessions_open(&f.sessions, &u, JWT_AMR_PWD, &t) == OUTCOME_OK);
    REQUIRE(verify(&f, t.access_token, &c) == OUTCOME_OK);
    REQUIRE(refresh(&f, t.refresh_token, &t2) == OUTCOME_OK);
    CHECK(strcmp(t2.refresh_token, t.refresh_token) != 0);
    REQUIRE(verify(&f, t2.access_token, &c2) == OUTCOME_OK);
    CHECK_EQ_STR(c2.sid, c.sid); /* the same session */
    CHECK_EQ_INT(c2.user_id, u.id);
    CHECK_EQ_STR(c2.username, "erin");
    /* The newest refresh token works, once more. */
    CHECK_EQ_INT(refresh(&f, t2.refresh_token, &t3), OUTCOME_OK);
    sessions_tokens_free(&t3);
    /* Malformed or unknown tokens never reach a revocation. */
    CHECK_EQ_INT(refresh(&f, "", &t3), OUTCOME_TOKEN_INVALID);
    CHECK_EQ_INT(refresh(&f, "short", &t3), OUTCOME_TOKEN_INVALID);
    CHECK_EQ_INT(refresh(&f, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", &t3),
                 OUTCOME_TOKEN_INVALID);
    CHECK(t3.access_token == NULL);
    CHECK_EQ_INT(verify(&f, t.access_token, &c), OUTCOME_OK);
    sessions_tokens_free(&t);
    sessions_tokens_free(&t2);
    core_fixture_close(&f);
}

TEST(sessions_refresh_reuse_revokes)
{
    struct core_fixture f;
    struct session_tokens t, t2, t3, other;
    struct jwt_claims c;
    struct user u;

    REQUIRE(core_fixture_open(&f) == 0);
    REQUIRE(user_in(&f, &u) == 0);
    REQUIRE(sessions_open(&f.sessions, &u, JWT_AMR_PWD, &t) == OUTCOME_OK);
    REQUIRE(sessions_open(&f.sessions, &u, JWT_AMR_PWD, &other) == OUTCOME_OK);
    REQUIRE(refresh(&f, t.refresh_token, &t2) == OUTCOME_OK);
    /* The first token again: a copy was used, the session ends. */
    CHECK_EQ_INT(refresh(&f, t.refresh_token, &t3), OUTCOME_TOKEN_REUSED);
    CHECK_EQ_INT(verify(&f, t.access_token, &c), OUTCOME_TOKEN_INVALID);
    CHECK_EQ_INT(verify(&f, t2.access_token, &c), OUTCOME_TOKEN_INVALID);
    CHECK_EQ_INT(refresh(&f, t2.refresh_token, &t3), OUTCOME_TOKEN_INVALID);
    /* Another session of the same user is untouched. */
    CHECK_EQ_INT(verify(&f, other.access_token, &c), OUTCOME_OK);
    CHECK_EQ_INT(refresh(&f, other.refresh_token, &t3), OUTCOME_OK);
    sessions_tokens_free(&t3);
    sessions_tokens_free(&t);
    sessions_tokens_free(&t2);
    sessions_tokens_free(&other);
    core_fixture_close(&f);
}

TEST(sessions_logout_scopes)
{
    struct core_fixture f;
    struct session_tokens a, b, cc, t;
    struct jwt_claims ca, cb, x;
    struct user u;

    REQUIRE(core_fixture_open(&f) == 0);
    REQUIRE(user_in(&f, &u) == 0);
    REQUIRE(sessions_open(&f.sessions, &u, JWT_AMR_PWD, &a) == OUTCOME_OK);
    REQUIRE(sessions_open(&f.sessions, &u, JWT_AMR_PWD, &b) == OUTCOME_OK);
    REQUIRE(sessions_open(&f.sessions, &u, JWT_AMR_PWD, &cc) == OUTCOME_OK);
    REQUIRE(verify(&f, a.access_token, &ca) == OUTCOME_OK);
    REQUIRE(verify(&f, b.access_token, &cb) == OUTCOME_OK);

    CHECK_EQ_INT(sessions_logout(&f.sessions, &ca, SESSIONS_LOCAL), OUTCOME_OK);
    CHECK_EQ_INT(verify(&f, a.access_token, &x), OUTCOME_TOKEN_INVALID);
    CHECK_EQ_INT(refresh(&f, a.refresh_token, &t), OUTCOME_TOKEN_INVALID);
    CHECK_EQ_INT(verify(&f, b.access_token, &x), OUTCOME_OK);

    CHECK_EQ_INT(sessions_logout(&f.sessions, &cb, SESSIONS_OTHERS), OUTCOME_OK);
    CHECK_EQ_INT(verify(&f, b.access_token, &x), OUTCOME_OK);
    CHECK_EQ_INT(verify(&f, cc.access_token, &x), OUTCOME_TOKEN_INVALID);
    CHECK_EQ_INT(refresh(&f, cc.refresh_token, &t), OUTCOME_TOKEN_INVALID);

    CHECK_EQ_INT(sessions_logout(&f.sessions, &cb, SESSIONS_GLOBAL), OUTCOME_OK);
    CHECK_EQ_INT(verify(&f, b.access_token, &x), OUTCOME_TOKEN_INVALID);
    CHECK_EQ_INT(refresh(&f, b.refresh_token, &t), OUTCOME_TOKEN_INVALID);
    CHECK_EQ_INT(revset_count(f.revoked), 3);
    sessions_tokens_free(&a);
    sessions_tokens_free(&b);
    sessions_tokens_free(&cc);
    core_fixture_close(&f);
}

/* What a fresh instance on the same database knows: the revocations
 * recorded, loaded by sessions_start. */
TEST(sessions_start_loads_revocations)
{
    struct core_fixture f;
    struct session_tokens a;
    struct jwt_claims ca, x;
    struct user u;

    REQUIRE(core_fixture_open(&f) == 0);
    REQUIRE(user_in(&f, &u) == 0);
    REQUIRE(sessions_open(&f.sessions, &u, JWT_AMR_PWD, &a) == OUTCOME_OK);
    REQUIRE(verify(&f, a.access_token, &ca) == OUTCOME_OK);
    REQUIRE(sessions_logout(&f.sessions, &ca, SESSIONS_LOCAL) == OUTCOME_OK);
    /* A second set, as another process would have. */
    revset *fresh = revset_create();
    REQUIRE(fresh != NULL);
    struct sessions_deps d2 = f.sessions;
    d2.revoked = fresh;
    CHECK_EQ_INT(
        sessions_verify_access(&d2, a.access_token, strlen(a.access_token), timefmt_now(), &x),
        OUTCOME_OK);
    CHECK_EQ_INT(sessions_start(&d2), 0);
    CHECK_EQ_INT(
        sessions_verify_access(&d2, a.access_token, strlen(a.access_token), timefmt_now(), &x),
        OUTCOME_TOKEN_INVALID);
    /* Purging at a time when every token has expired empties both. */
    sessions_purge(&d2, timefmt_now() + f.sessions.access_ttl + 2);
    CHECK_EQ_INT(revset_count(fresh), 0);
    store_close(f.store); /* before the set the watch would write to */
    f.store = NULL;
    revset_free(fresh);
    sessions_tokens_free(&a);
    core_fixture_close(&f);
}

TEST(sessions_password_change_and_delete)
{
    struct core_fixture f;
    struct session_tokens a, b, t;
    struct jwt_claims ca, x;
    struct outcome_detail d = {0};
    struct user u, v;
    const char *old_pw = "correct horse battery", *new_pw = "tremendous purple giraffe";

    REQUIRE(core_fixture_open(&f) == 0);
    REQUIRE(user_in(&f, &u) == 0);
    REQUIRE(sessions_open(&f.sessions, &u, JWT_AMR_PWD, &a) == OUTCOME_OK);
    REQUIRE(sessions_open(&f.sessions, &u, JWT_AMR_PWD, &b) == OUTCOME_OK);
    REQUIRE(verify(&f, a.access_token, &ca) == OUTCOME_OK);

    CHECK_EQ_INT(users_change_password(&f.users, NULL, NULL, &f.sessions, &ca, "wrong password", 14,
                                       new_pw, strlen(new_pw), &d),
                 OUTCOME_BAD_CREDENTIALS);
    CHECK_EQ_INT(users_change_password(&f.users, NULL, NULL, &f.sessions, &ca, old_pw,
                                       strlen(old_pw), "short", 5, &d),
                 OUTCOME_INVALID);
    CHECK_EQ_STR(d.errors.e[0].field, "new_password");
    CHECK_EQ_STR(d.errors.e[0].code, "too_short");
    CHECK_EQ_INT(verify(&f, b.access_token, &x), OUTCOME_OK); /* nothing changed yet */
    memset(&d, 0, sizeof d);
    CHECK_EQ_INT(users_change_password(&f.users, NULL, NULL, &f.sessions, &ca, old_pw,
                                       strlen(old_pw), new_pw, strlen(new_pw), &d),
                 OUTCOME_OK);
    CHECK_EQ_INT(verify(&f, a.access_token, &x), OUTCOME_OK);
    CHECK_EQ_INT(verify(&f, b.access_token, &x), OUTCOME_TOKEN_INVALID);
    CHECK_EQ_INT(refresh(&f, b.refresh_token, &t), OUTCOME_TOKEN_INVALID);
    CHECK_EQ_INT(users_check_credentials(&f.users, "erin", 4, old_pw, strlen(old_pw), &v),
                 OUTCOME_BAD_CREDENTIALS);
    CHECK_EQ_INT(users_check_credentials(&f.users, "erin", 4, new_pw, strlen(new_pw), &v),
                 OUTCOME_OK);

    CHECK_EQ_INT(users_delete(&f.users, NULL, NULL, &f.sessions, &ca, old_pw, strlen(old_pw), &d),
                 OUTCOME_BAD_CREDENTIALS);
    CHECK_EQ_INT(users_delete(&f.users, NULL, NULL, &f.sessions, &ca, new_pw, strlen(new_pw), &d),
                 OUTCOME_OK);
    CHECK_EQ_INT(verify(&f, a.access_token, &x), OUTCOME_TOKEN_INVALID);
    CHECK_EQ_INT(refresh(&f, a.refresh_token, &t), OUTCOME_TOKEN_INVALID);
    CHECK_EQ_INT(users_check_credentials(&f.users, "erin", 4, new_pw, strlen(new_pw), &v),
                 OUTCOME_BAD_CREDENTIALS);
    /* The name is free again. */
    CHECK_EQ_INT(user_in(&f, &v), 0);
    CHECK(v.id > u.id);
    sessions_tokens_free(&a);
    sessions_tokens_free(&b);
    core_fixture_close(&f);
}

/* sessions.amr of the only session, read behind the store's back. */
static void stored_amr(const struct core_fixture *f, char *out, size_t cap)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;

    out[0] = '\0';
    if (sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT amr FROM sessions", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

TEST(sessions_amr_signed_stored_and_kept)
{
    struct core_fixture f;
    struct session_tokens t, t2;
    struct jwt_claims c;
    struct user u;
    char amr[64];

    REQUIRE(core_fixture_open(&f) == 0);
    REQUIRE(user_in(&f, &u) == 0);
    /* A sign-in by no known method is a bug of the caller's. */
    CHECK_EQ_INT(sessions_open(&f.sessions, &u, 0, &t), OUTCOME_ERROR);
    CHECK_EQ_INT(sessions_open(&f.sessions, &u, 1u << 4, &t), OUTCOME_ERROR);
    CHECK(t.access_token == NULL);
    REQUIRE(sessions_open(&f.sessions, &u, JWT_AMR_PWD | JWT_AMR_OTP, &t) == OUTCOME_OK);
    stored_amr(&f, amr, sizeof amr);
    CHECK_EQ_STR(amr, "pwd otp");
    /* Verified in full, then from the cache of verified tokens. */
    REQUIRE(verify(&f, t.access_token, &c) == OUTCOME_OK);
    CHECK_EQ_INT(c.amr, JWT_AMR_PWD | JWT_AMR_OTP);
    memset(&c, 0, sizeof c);
    REQUIRE(verify(&f, t.access_token, &c) == OUTCOME_OK);
    CHECK_EQ_INT(c.amr, JWT_AMR_PWD | JWT_AMR_OTP);
    /* A refresh proves no factor again: the session keeps its amr. */
    REQUIRE(refresh(&f, t.refresh_token, &t2) == OUTCOME_OK);
    REQUIRE(verify(&f, t2.access_token, &c) == OUTCOME_OK);
    CHECK_EQ_INT(c.amr, JWT_AMR_PWD | JWT_AMR_OTP);
    stored_amr(&f, amr, sizeof amr);
    CHECK_EQ_STR(amr, "pwd otp");
    sessions_tokens_free(&t);
    sessions_tokens_free(&t2);
    core_fixture_close(&f);
}
