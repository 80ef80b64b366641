/* store: the same cases on SQLite (a temporary file) and on PostgreSQL (a
 * schema of its own on the cluster GATEHOUSE_TEST_DATABASE_URL names, which
 * scripts/with-pg.sh starts). Without that URL the PostgreSQL cases are
 * skipped (the runner counts them so), unless GATEHOUSE_TEST_REQUIRE_PG=1
 * (make test) makes them fail. Each case checks the database behind the store's back, with a
 * connection of its own. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/pq.h"
#include "store/store.h"
#include "store/tdb.h"
#include "test.h"

static void url_path_is(const char *url, const char *want, int line)
{
    char *got = store_sqlite_url_path(url);

    test_check_str(got, want, __FILE__, line, url, want != NULL ? want : "NULL");
    free(got);
}

TEST(store_url_path)
{
    url_path_is("sqlite:///rel.db", "rel.db", __LINE__);
    url_path_is("sqlite:///./data/rel.db", "./data/rel.db", __LINE__);
    url_path_is("sqlite:////abs/x.db", "/abs/x.db", __LINE__);
    url_path_is("sqlite:///gatehouse.db", "gatehouse.db", __LINE__);
    url_path_is("sqlite://", NULL, __LINE__);
    url_path_is("sqlite:///", NULL, __LINE__);
    url_path_is("sqlite:////", NULL, __LINE__);
    url_path_is("sqlite://host/x.db", NULL, __LINE__);
    url_path_is("sqlite:rel.db", NULL, __LINE__);
    url_path_is("mysql://user@host/db", NULL, __LINE__);
    url_path_is("postgresql://user:pass@host:5432/db", NULL, __LINE__);
    url_path_is("", NULL, __LINE__);
}

TEST(store_open_bad_urls)
{
    store *s = (store *)&s; /* not NULL, to see it cleared */
    char err[256];

    err[0] = '\0';
    CHECK_EQ_INT(store_open("mysql://user@host/db", NULL, &s, err, sizeof err), STORE_ERROR);
    CHECK(err[0] != '\0');
    err[0] = '\0';
    CHECK_EQ_INT(store_open("sqlite://", NULL, &s, err, sizeof err), STORE_ERROR);
    CHECK(s == NULL);
    CHECK(strstr(err, "DATABASE_URL") != NULL);
    err[0] = '\0';
    CHECK_EQ_INT(store_open("sqlite:////nonexistent-gh-dir/sub/x.db", NULL, &s, err, sizeof err),
                 STORE_ERROR);
    CHECK(s == NULL);
    CHECK(strstr(err, "/nonexistent-gh-dir/sub/x.db") != NULL);
}

STORE_CASE(users, 2)
{
    struct store_user u, v;

    CHECK_EQ_INT(store_ping(s), STORE_OK);
    if (t->b == SQLITE)
        CHECK_EQ_STR(store_sqlite_path(s), t->path);
    else
        CHECK(store_sqlite_path(s) == NULL);

    memset(&u, 0, sizeof u);
    CHECK_EQ_INT(store_user_create(s, NULL, "Alice", "alice", "$2b$04$hash", T0, &u), STORE_OK);
    CHECK(u.id > 0);
    CHECK_EQ_STR(u.username, "Alice");
    CHECK_EQ_STR(u.password_hash, "$2b$04$hash");
    CHECK_EQ_INT(u.created_at, T0);
    /* The unique key decides, whatever the spelling. */
    CHECK_EQ_INT(store_user_create(s, NULL, "ALICE", "alice", "$2b$04$other", T0 + 1, &v),
                 STORE_CONFLICT);
    CHECK_EQ_INT(store_user_create(s, NULL, "alice", "alice", "$2b$04$other", T0 + 1, &v),
                 STORE_CONFLICT);

    memset(&v, 0, sizeof v);
    CHECK_EQ_INT(store_user_by_key(s, NULL, "alice", &v), STORE_OK);
    CHECK_EQ_INT(v.id, u.id);
    CHECK_EQ_STR(v.username, "Alice"); /* the registered spelling */
    CHECK_EQ_STR(v.password_hash, "$2b$04$hash");
    CHECK_EQ_INT(v.created_at, T0);
    memset(&v, 0, sizeof v);
    CHECK_EQ_INT(store_user_by_id(s, NULL, u.id, &v), STORE_OK);
    CHECK_EQ_STR(v.username, "Alice");
    CHECK_EQ_INT(store_user_by_key(s, NULL, "Alice", &v), STORE_NOT_FOUND); /* keys are lower */
    CHECK_EQ_INT(store_user_by_key(s, NULL, "bob", &v), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_user_by_id(s, NULL, u.id + 1000, &v), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_user_by_id(s, NULL, 0, &v), STORE_NOT_FOUND);

    struct store_user b;
    CHECK_EQ_INT(store_user_create(s, NULL, "bob", "bob", "$argon2id$x", T0 + 2, &b), STORE_OK);
    CHECK(b.id > u.id);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM users"), 2);
    /* A conflict spends an id on neither backend's behalf that could ever be
     * handed out twice: ids only grow. */
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(DISTINCT id) FROM users"), 2);
}

STORE_CASE(user_fields_too_long, 1)
{
    struct store_user v;
    char sql[1024];

    /* A row written by someone else that does not fit our buffers is
     * refused, never truncated; the longest name that fits is read whole. */
    snprintf(sql, sizeof sql,
             "INSERT INTO users (username, username_key, password_hash, created_at, updated_at) "
             "VALUES ('%0256d', 'long', 'h', 0, 0), ('%0255d', 'fits', 'h', 0, 0)",
             0, 0);
    REQUIRE(tdb_exec(t, sql) == 0);
    CHECK_EQ_INT(store_user_by_key(s, NULL, "long", &v), STORE_ERROR);
    CHECK_EQ_INT(store_user_by_key(s, NULL, "fits", &v), STORE_OK);
    CHECK_EQ_INT(strlen(v.username), STORE_USERNAME_MAX);
}

static void make_session(struct store_session *sess, const char *id, int64_t user_id, int fill)
{
    memset(sess, 0, sizeof *sess);
    snprintf(sess->id, sizeof sess->id, "%s", id);
    sess->user_id = user_id;
    memset(sess->refresh_hash, fill, sizeof sess->refresh_hash);
    sess->created_at = T0;
    sess->expires_at = T0 + 86400;
}

STORE_CASE(sessions, 1)
{
    struct store_user u;
    struct store_session sess;

    REQUIRE(store_user_create(s, NULL, "carol", "carol", "$2b$04$h", T0, &u) == STORE_OK);
    make_session(&sess, "sid-1", u.id, 0x11);
    CHECK_EQ_INT(store_session_create(s, NULL, &sess), STORE_OK);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM sessions WHERE id = 'sid-1'"), 1);
    CHECK_EQ_INT(tdb_int(t, "SELECT expires_at FROM sessions WHERE id = 'sid-1'"), T0 + 86400);
    CHECK_EQ_INT(tdb_int(t, t->b == SQLITE ? "SELECT length(refresh_hash) FROM sessions"
                                           : "SELECT octet_length(refresh_hash) FROM sessions"),
                 32);
    CHECK_EQ_INT(tdb_int(t, "SELECT generation FROM sessions WHERE id = 'sid-1'"), 0);
    /* The same id, or the same refresh hash, again. */
    make_session(&sess, "sid-1", u.id, 0x22);
    CHECK_EQ_INT(store_session_create(s, NULL, &sess), STORE_CONFLICT);
    make_session(&sess, "sid-2", u.id, 0x11);
    CHECK_EQ_INT(store_session_create(s, NULL, &sess), STORE_CONFLICT);
    /* A user that does not exist (deleted meanwhile). */
    make_session(&sess, "sid-3", u.id + 1000, 0x33);
    CHECK_EQ_INT(store_session_create(s, NULL, &sess), STORE_NOT_FOUND);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM sessions"), 1);
    /* Deleting the user takes its sessions along. */
    REQUIRE(tdb_exec(t, "DELETE FROM users WHERE username_key = 'carol'") == 0);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM sessions"), 0);
}

STORE_CASE(session_rotate_and_revoke, 1)
{
    struct store_user u;
    struct store_session sess, got;
    unsigned char h1[32], h2[32], h3[32], h4[32];
    char sid[STORE_ID_MAX + 1];

    memset(h1, 0x11, sizeof h1);
    memset(h2, 0x22, sizeof h2);
    memset(h3, 0x33, sizeof h3);
    memset(h4, 0x44, sizeof h4);
    REQUIRE(store_user_create(s, NULL, "dora", "dora", "$2b$04$h", T0, &u) == STORE_OK);
    make_session(&sess, "sid-r", u.id, 0x11);
    REQUIRE(store_session_create(s, NULL, &sess) == STORE_OK);

    memset(&got, 0, sizeof got);
    CHECK_EQ_INT(store_session_rotate(s, NULL, h1, h2, T0 + 10, &got), STORE_OK);
    CHECK_EQ_STR(got.id, "sid-r");
    CHECK_EQ_INT(got.user_id, u.id);
    CHECK_EQ_INT(got.created_at, T0);
    CHECK_EQ_INT(got.expires_at, T0 + 86400);
    CHECK(memcmp(got.refresh_hash, h2, 32) == 0);
    CHECK_EQ_INT(tdb_int(t, "SELECT generation FROM sessions WHERE id = 'sid-r'"), 1);
    CHECK_EQ_INT(tdb_int(t, "SELECT last_used_at FROM sessions WHERE id = 'sid-r'"), T0 + 10);
    /* The old hash no longer rotates, and is known as rotated away; the
     * current one and an unknown one are not. */
    CHECK_EQ_INT(store_session_rotate(s, NULL, h1, h3, T0 + 11, &got), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_session_by_rotated(s, NULL, h1, sid), STORE_OK);
    CHECK_EQ_STR(sid, "sid-r");
    CHECK_EQ_INT(store_session_by_rotated(s, NULL, h2, sid), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_session_by_rotated(s, NULL, h4, sid), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_session_rotate(s, NULL, h2, h3, T0 + 12, &got), STORE_OK);
    CHECK_EQ_INT(tdb_int(t, "SELECT generation FROM sessions WHERE id = 'sid-r'"), 2);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM refresh_history"), 2);
    /* An expired session does not rotate. */
    CHECK_EQ_INT(store_session_rotate(s, NULL, h3, h1, T0 + 86400, &got), STORE_NOT_FOUND);
    CHECK_EQ_INT(tdb_int(t, "SELECT generation FROM sessions WHERE id = 'sid-r'"), 2);

    CHECK_EQ_INT(store_session_revoke(s, NULL, "sid-r", T0 + 20), STORE_OK);
    CHECK_EQ_INT(tdb_int(t, "SELECT revoked_at FROM sessions WHERE id = 'sid-r'"), T0 + 20);
    CHECK_EQ_INT(store_session_revoke(s, NULL, "sid-r", T0 + 21), STORE_NOT_FOUND);
    CHECK_EQ_INT(tdb_int(t, "SELECT revoked_at FROM sessions WHERE id = 'sid-r'"), T0 + 20);
    /* A revoked session never rotates again. */
    CHECK_EQ_INT(store_session_rotate(s, NULL, h3, h4, T0 + 22, &got), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_session_revoke(s, NULL, "sid-none", T0 + 23), STORE_NOT_FOUND);
}

struct sids {
    int n;
    char id[8][STORE_ID_MAX + 1];
};

static void collect_sid(void *arg, const char *sid)
{
    struct sids *l = arg;

    if (l->n < 8)
        snprintf(l->id[l->n++], sizeof l->id[0], "%s", sid);
}

STORE_CASE(sessions_of_user, 1)
{
    struct store_user u, v;
    struct store_session sess;
    struct sids l = {0};

    REQUIRE(store_user_create(s, NULL, "olga", "olga", "$2b$04$h", T0, &u) == STORE_OK);
    REQUIRE(store_user_create(s, NULL, "pete", "pete", "$2b$04$h", T0, &v) == STORE_OK);
    make_session(&sess, "o-1", u.id, 1);
    REQUIRE(store_session_create(s, NULL, &sess) == STORE_OK);
    make_session(&sess, "o-2", u.id, 2);
    REQUIRE(store_session_create(s, NULL, &sess) == STORE_OK);
    make_session(&sess, "o-3", u.id, 3);
    REQUIRE(store_session_create(s, NULL, &sess) == STORE_OK);
    make_session(&sess, "p-1", v.id, 4);
    REQUIRE(store_session_create(s, NULL, &sess) == STORE_OK);
    REQUIRE(store_session_revoke(s, NULL, "o-3", T0 + 1) == STORE_OK);

    /* "others": every live session of the user but one. */
    CHECK_EQ_INT(store_sessions_revoke_of_user(s, NULL, u.id, "o-1", T0 + 5, collect_sid, &l),
                 STORE_OK);
    CHECK_EQ_INT(l.n, 1);
    CHECK_EQ_STR(l.id[0], "o-2");
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL"), 2);
    /* "global": all of them; those revoked already are not named again. */
    l.n = 0;
    CHECK_EQ_INT(store_sessions_revoke_of_user(s, NULL, u.id, NULL, T0 + 6, collect_sid, &l),
                 STORE_OK);
    CHECK_EQ_INT(l.n, 1);
    CHECK_EQ_STR(l.id[0], "o-1");
    CHECK_EQ_INT(tdb_int(t, "SELECT revoked_at FROM sessions WHERE id = 'o-3'"), T0 + 1);
    /* Another user's session is untouched. */
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM sessions WHERE revoked_at IS NULL"), 1);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM sessions WHERE id = 'p-1' AND "
                            "revoked_at IS NULL"),
                 1);
}

STORE_CASE(sessions_purge, 1)
{
    struct store_user u;
    struct store_session sess, got;
    unsigned char h1[32], h9[32];
    int64_t deleted = -1;

    memset(h1, 1, sizeof h1);
    memset(h9, 9, sizeof h9);
    REQUIRE(store_user_create(s, NULL, "quin", "quin", "$2b$04$h", T0, &u) == STORE_OK);
    make_session(&sess, "live", u.id, 1); /* expires T0 + 86400 */
    REQUIRE(store_session_create(s, NULL, &sess) == STORE_OK);
    REQUIRE(store_session_rotate(s, NULL, h1, h9, T0 + 1, &got) == STORE_OK);
    make_session(&sess, "expired", u.id, 2);
    sess.expires_at = T0 + 100;
    REQUIRE(store_session_create(s, NULL, &sess) == STORE_OK);
    make_session(&sess, "revoked-long-ago", u.id, 3);
    REQUIRE(store_session_create(s, NULL, &sess) == STORE_OK);
    REQUIRE(store_session_revoke(s, NULL, "revoked-long-ago", T0 + 50) == STORE_OK);
    make_session(&sess, "revoked-lately", u.id, 4);
    REQUIRE(store_session_create(s, NULL, &sess) == STORE_OK);
    REQUIRE(store_session_revoke(s, NULL, "revoked-lately", T0 + 150) == STORE_OK);
    /* Expired, but refreshed at T0 + 120: that access token may still be
     * valid, and a logout must still find the session to revoke it. */
    make_session(&sess, "expired-token-live", u.id, 5);
    sess.expires_at = T0 + 150;
    REQUIRE(store_session_create(s, NULL, &sess) == STORE_OK);
    memset(h1, 5, sizeof h1);
    memset(h9, 6, sizeof h9);
    REQUIRE(store_session_rotate(s, NULL, h1, h9, T0 + 120, &got) == STORE_OK);

    CHECK_EQ_INT(store_sessions_purge(s, T0 + 200, T0 + 100, &deleted), STORE_OK);
    CHECK_EQ_INT(deleted, 2);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM sessions WHERE id IN ('live', "
                            "'revoked-lately', 'expired-token-live')"),
                 3);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM sessions"), 3);
    /* Everything goes once the live one expires; its history with it. */
    CHECK_EQ_INT(store_sessions_purge(s, T0 + 86400, T0 + 150, &deleted), STORE_OK);
    CHECK_EQ_INT(deleted, 3);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM sessions"), 0);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM refresh_history"), 0);
}

struct revs {
    int n;
    char sid[8][STORE_ID_MAX + 1];
    int64_t until[8];
};

static void collect_rev(void *arg, const char *sid, int64_t until)
{
    struct revs *l = arg;

    if (l->n < 8) {
        snprintf(l->sid[l->n], sizeof l->sid[0], "%s", sid);
        l->until[l->n++] = until;
    }
}

STORE_CASE(revocations, 1)
{
    struct revs l = {0};
    int64_t deleted = -1;
    store_tx tx;

    CHECK_EQ_INT(store_revocation_add(s, NULL, "gone-soon", T0 + 10), STORE_OK);
    CHECK_EQ_INT(store_revocation_add(s, NULL, "stays", T0 + 100), STORE_OK);
    /* Again: the later time wins, an earlier one changes nothing. */
    CHECK_EQ_INT(store_revocation_add(s, NULL, "stays", T0 + 200), STORE_OK);
    CHECK_EQ_INT(store_revocation_add(s, NULL, "stays", T0 + 50), STORE_OK);
    /* Rolled back with its transaction. */
    REQUIRE(store_begin(s, &tx) == STORE_OK);
    CHECK_EQ_INT(store_revocation_add(s, &tx, "never", T0 + 100), STORE_OK);
    store_rollback(&tx);

    CHECK_EQ_INT(store_revocations_live(s, T0 + 20, collect_rev, &l), STORE_OK);
    CHECK_EQ_INT(l.n, 1);
    CHECK_EQ_STR(l.sid[0], "stays");
    CHECK_EQ_INT(l.until[0], T0 + 200);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM revocations"), 2);
    CHECK_EQ_INT(store_revocations_purge(s, T0 + 20, &deleted), STORE_OK);
    CHECK_EQ_INT(deleted, 1);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM revocations"), 1);
}

/* The outbox: queued in the caller's transaction; a claim leases the due
 * row first due to one sender, which deletes it once sent or puts it back
 * with its error, only while its claim holds the row. */
STORE_CASE(outbox, 1)
{
    struct store_outbox_row row;
    bool found = false;
    int64_t depth = -1, next_at = -1;
    store_tx tx;

    /* Rolled back with the transaction that queued it. */
    REQUIRE(store_begin(s, &tx) == STORE_OK);
    CHECK_EQ_INT(store_outbox_add(s, &tx, "never@example.org", "rolled back", T0), STORE_OK);
    store_rollback(&tx);
    CHECK_EQ_INT(store_outbox_state(s, &depth, &next_at), STORE_OK);
    CHECK_EQ_INT(depth, 0);
    CHECK_EQ_INT(next_at, 0);
    CHECK_EQ_INT(store_outbox_claim(s, T0, T0 + 120, "c1", &row, &found), STORE_OK);
    CHECK(!found);

    REQUIRE(store_begin(s, &tx) == STORE_OK);
    CHECK_EQ_INT(store_outbox_add(s, &tx, "kim@example.org", "first\r\nmail", T0), STORE_OK);
    CHECK_EQ_INT(store_outbox_add(s, &tx, "lee@example.org", "second", T0 + 1), STORE_OK);
    CHECK_EQ_INT(store_commit(&tx), STORE_OK);
    CHECK_EQ_INT(store_outbox_state(s, &depth, &next_at), STORE_OK);
    CHECK_EQ_INT(depth, 2);
    CHECK_EQ_INT(next_at, T0);

    /* The first due, leased to c1 until T0 + 120. */
    CHECK_EQ_INT(store_outbox_claim(s, T0 + 5, T0 + 120, "c1", &row, &found), STORE_OK);
    REQUIRE(found);
    CHECK_EQ_STR(row.recipient, "kim@example.org");
    CHECK_EQ_STR(row.message, "first\r\nmail");
    CHECK_EQ_INT(row.attempts, 0);
    int64_t first = row.id;
    free(row.message);
    /* The next claim gets the other row, and then nothing. */
    CHECK_EQ_INT(store_outbox_claim(s, T0 + 5, T0 + 120, "c2", &row, &found), STORE_OK);
    REQUIRE(found);
    CHECK_EQ_STR(row.recipient, "lee@example.org");
    int64_t second = row.id;
    free(row.message);
    CHECK_EQ_INT(store_outbox_claim(s, T0 + 6, T0 + 120, "c3", &row, &found), STORE_OK);
    CHECK(!found);

    /* Only the holder of the claim may finish it. */
    CHECK_EQ_INT(store_outbox_sent(s, first, "c2"), STORE_OK);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM outbox"), 2);
    CHECK_EQ_INT(store_outbox_sent(s, first, "c1"), STORE_OK);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM outbox"), 1);

    /* A failure: counted, its error kept, due again at the time given. */
    CHECK_EQ_INT(store_outbox_retry(s, second, "c1", T0 + 50, "wrong claim", true), STORE_OK);
    CHECK_EQ_INT(tdb_int(t, "SELECT attempts FROM outbox"), 0);
    CHECK_EQ_INT(store_outbox_retry(s, second, "c2", T0 + 50, "451 try later", true), STORE_OK);
    CHECK_EQ_INT(tdb_int(t, "SELECT attempts FROM outbox"), 1);
    CHECK_EQ_INT(tdb_int(t, "SELECT next_attempt_at FROM outbox"), T0 + 50);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM outbox WHERE last_error = '451 try later' "
                            "AND claim IS NULL"),
                 1);
    CHECK_EQ_INT(store_outbox_claim(s, T0 + 49, T0 + 169, "c4", &row, &found), STORE_OK);
    CHECK(!found);
    CHECK_EQ_INT(store_outbox_claim(s, T0 + 50, T0 + 170, "c4", &row, &found), STORE_OK);
    REQUIRE(found);
    CHECK_EQ_INT(row.attempts, 1);
    free(row.message);
    /* A sender that stops puts it back without counting an attempt. */
    CHECK_EQ_INT(store_outbox_retry(s, second, "c4", T0 + 51, "stopped", false), STORE_OK);
    CHECK_EQ_INT(tdb_int(t, "SELECT attempts FROM outbox"), 1);

    /* A sender that died holding a claim: the row is due again once the
     * lease ends, and the dead sender's claim no longer finishes it. */
    CHECK_EQ_INT(store_outbox_claim(s, T0 + 60, T0 + 180, "dead", &row, &found), STORE_OK);
    REQUIRE(found);
    free(row.message);
    CHECK_EQ_INT(store_outbox_claim(s, T0 + 179, T0 + 299, "c5", &row, &found), STORE_OK);
    CHECK(!found);
    CHECK_EQ_INT(store_outbox_claim(s, T0 + 180, T0 + 300, "c5", &row, &found), STORE_OK);
    REQUIRE(found);
    free(row.message);
    CHECK_EQ_INT(store_outbox_sent(s, second, "dead"), STORE_OK);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM outbox"), 1);
    CHECK_EQ_INT(store_outbox_sent(s, second, "c5"), STORE_OK);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM outbox"), 0);
}

#define OUTBOX_ROWS     200
#define OUTBOX_CLAIMERS 4

struct claimer {
    store *s;
    int n;
    int64_t ids[OUTBOX_ROWS];
    enum store_status failed;
};

static void *claim_all(void *arg)
{
    struct claimer *c = arg;
    struct store_outbox_row row;
    bool found = true;
    char claim[32];

    snprintf(claim, sizeof claim, "claimer-%p", (void *)c);
    while (found && c->n < OUTBOX_ROWS) {
        enum store_status rc = store_outbox_claim(c->s, T0, T0 + 120, claim, &row, &found);
        if (rc == STORE_UNAVAILABLE) { /* SQLite busy past its timeout: ask again */
            found = true;
            continue;
        }
        if (rc != STORE_OK) {
            c->failed = rc;
            return NULL;
        }
        if (found) {
            c->ids[c->n++] = row.id;
            free(row.message);
        }
    }
    return NULL;
}

/* Senders of several processes (each store here is one, with its own
 * connections) draining one outbox at once: every mail is claimed by
 * exactly one of them. */
STORE_CASE(outbox_claim_concurrent, 1)
{
    struct claimer c[OUTBOX_CLAIMERS];
    pthread_t th[OUTBOX_CLAIMERS];
    unsigned char seen[OUTBOX_ROWS + 1] = {0};
    store_tx tx;

    REQUIRE(store_begin(s, &tx) == STORE_OK);
    for (int i = 0; i < OUTBOX_ROWS; i++)
        store_outbox_add(s, &tx, "kim@example.org", "m", T0 - i % 7);
    REQUIRE(store_commit(&tx) == STORE_OK);
    memset(c, 0, sizeof c);
    for (int i = 0; i < OUTBOX_CLAIMERS; i++)
        REQUIRE((c[i].s = tdb_open(t, 2, __LINE__)) != NULL);
    for (int i = 0; i < OUTBOX_CLAIMERS; i++)
        pthread_create(&th[i], NULL, claim_all, &c[i]);
    int total = 0;
    for (int i = 0; i < OUTBOX_CLAIMERS; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(c[i].failed, STORE_OK);
        for (int k = 0; k < c[i].n; k++) {
            int64_t id = c[i].ids[k];
            if (id >= 1 && id <= OUTBOX_ROWS) {
                CHECK_EQ_INT(seen[id], 0);
                seen[id] = 1;
            }
        }
        total += c[i].n;
        store_close(c[i].s);
    }
    CHECK_EQ_INT(total, OUTBOX_ROWS);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM outbox WHERE claim IS NULL"), 0);
}

struct listed {
    int count;
    int64_t ids[8];
    char names[8][16];
};

static void list_one(void *arg, int64_t id, const char *username, int64_t created_at)
{
    struct listed *l = arg;

    (void)created_at;
    if (l->count < 8) {
        l->ids[l->count] = id;
        snprintf(l->names[l->count], sizeof l->names[0], "%s", username);
    }
    l->count++;
}

STORE_CASE(user_import, 1)
{
    struct store_user u;
    struct listed l = {0};
    store_tx tx;

    (void)t; /* the store's own reads suffice here */
    /* A registered user, then imports with ids of their own around it. */
    REQUIRE(store_user_create(s, NULL, "first", "first", "$2b$04$a", T0, &u) == STORE_OK);
    REQUIRE(store_begin(s, &tx) == STORE_OK);
    CHECK_EQ_INT(store_user_import(s, &tx, 500, "Bob Smith", "bob smith", "$2y$04$b", T0),
                 STORE_OK);
    CHECK_EQ_INT(store_user_import(s, &tx, 7, "zo\xc3\xab", "zo\xc3\xab", "$2a$04$c", T0),
                 STORE_OK);
    CHECK_EQ_INT(store_users_follow_ids(s, &tx), STORE_OK);
    CHECK_EQ_INT(store_commit(&tx), STORE_OK);
    CHECK_EQ_INT(store_user_by_id(s, NULL, 500, &u), STORE_OK);
    CHECK_EQ_STR(u.username, "Bob Smith");
    CHECK_EQ_STR(u.password_hash, "$2y$04$b");
    /* A taken id and a taken key are both conflicts. */
    CHECK_EQ_INT(store_user_import(s, NULL, 7, "other", "other", "$2b$04$d", T0), STORE_CONFLICT);
    CHECK_EQ_INT(store_user_import(s, NULL, 9, "BOB SMITH", "bob smith", "$2b$04$d", T0),
                 STORE_CONFLICT);
    /* The next registration gets an id past every imported one. */
    CHECK_EQ_INT(store_user_create(s, NULL, "later", "later", "$2b$04$e", T0, &u), STORE_OK);
    CHECK_EQ_INT(u.id, 501);
    /* Following again never moves the ids back, even past deleted users. */
    CHECK_EQ_INT(store_user_delete(s, NULL, 501), STORE_OK);
    CHECK_EQ_INT(store_user_delete(s, NULL, 500), STORE_OK);
    CHECK_EQ_INT(store_users_follow_ids(s, NULL), STORE_OK);
    CHECK_EQ_INT(store_user_create(s, NULL, "again", "again", "$2b$04$f", T0, &u), STORE_OK);
    CHECK_EQ_INT(u.id, 502);

    CHECK_EQ_INT(store_users_list(s, list_one, &l), STORE_OK);
    REQUIRE(l.count == 3);
    CHECK_EQ_INT(l.ids[0], 1);
    CHECK_EQ_STR(l.names[0], "first");
    CHECK_EQ_INT(l.ids[1], 7);
    CHECK_EQ_STR(l.names[1], "zo\xc3\xab");
    CHECK_EQ_INT(l.ids[2], 502);
    CHECK_EQ_STR(l.names[2], "again");
}

STORE_CASE(user_password_and_delete, 1)
{
    struct store_user u, v;
    struct store_session sess;

    REQUIRE(store_user_create(s, NULL, "rita", "rita", "$2b$04$old", T0, &u) == STORE_OK);
    make_session(&sess, "rita-1", u.id, 7);
    REQUIRE(store_session_create(s, NULL, &sess) == STORE_OK);
    CHECK_EQ_INT(u.credential_version, 0);
    CHECK_EQ_INT(store_user_login(s, NULL, u.id, 0, T0 + 1), STORE_OK);
    CHECK_EQ_INT(tdb_int(t, "SELECT last_login_at FROM users"), T0 + 1);
    CHECK_EQ_INT(store_user_set_password(s, NULL, u.id, "$2b$04$new", T0 + 5), STORE_OK);
    CHECK_EQ_INT(store_user_by_id(s, NULL, u.id, &v), STORE_OK);
    CHECK_EQ_STR(v.password_hash, "$2b$04$new");
    /* A password change moves the version on: a login checked before it
     * no longer counts. */
    CHECK_EQ_INT(v.credential_version, 1);
    CHECK_EQ_INT(store_user_login(s, NULL, u.id, 0, T0 + 6), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_user_login(s, NULL, u.id, 1, T0 + 6), STORE_OK);
    CHECK_EQ_INT(store_user_login(s, NULL, u.id + 99, 0, T0 + 6), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_user_credentials_changed(s, NULL, u.id), STORE_OK);
    CHECK_EQ_INT(store_user_login(s, NULL, u.id, 1, T0 + 7), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_user_login(s, NULL, u.id, 2, T0 + 7), STORE_OK);
    CHECK_EQ_INT(store_user_credentials_changed(s, NULL, u.id + 99), STORE_NOT_FOUND);
    CHECK_EQ_INT(tdb_int(t, "SELECT updated_at FROM users"), T0 + 5);
    CHECK_EQ_INT(store_user_set_password(s, NULL, u.id + 99, "$2b$04$x", T0), STORE_NOT_FOUND);

    CHECK_EQ_INT(store_user_delete(s, NULL, u.id), STORE_OK);
    CHECK_EQ_INT(store_user_by_id(s, NULL, u.id, &v), STORE_NOT_FOUND);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM sessions"), 0);
    CHECK_EQ_INT(store_user_delete(s, NULL, u.id), STORE_NOT_FOUND);
    /* The name is free again; the id is not reused. */
    CHECK_EQ_INT(store_user_create(s, NULL, "Rita", "rita", "$2b$04$h", T0, &v), STORE_OK);
    CHECK(v.id > u.id);
}

STORE_CASE(user_rehash, 1)
{
    struct store_user u, v;

    REQUIRE(store_user_create(s, NULL, "sven", "sven", "$2b$04$weak", T0, &u) == STORE_OK);
    CHECK_EQ_INT(store_user_rehash(s, NULL, u.id, "$2b$04$weak", "$2b$05$strong"), STORE_OK);
    CHECK_EQ_INT(store_user_by_id(s, NULL, u.id, &v), STORE_OK);
    CHECK_EQ_STR(v.password_hash, "$2b$05$strong");
    /* Not a password change: logins checked before it still count, and
     * the row's updated_at stays. */
    CHECK_EQ_INT(v.credential_version, 0);
    CHECK_EQ_INT(tdb_int(t, "SELECT updated_at FROM users"), T0);
    /* Compare-and-set: once the hash is another (here a password change
     * that came first), the upgrade of the old one changes nothing. */
    CHECK_EQ_INT(store_user_set_password(s, NULL, u.id, "$2b$04$changed", T0 + 1), STORE_OK);
    CHECK_EQ_INT(store_user_rehash(s, NULL, u.id, "$2b$05$strong", "$2b$06$late"), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_user_by_id(s, NULL, u.id, &v), STORE_OK);
    CHECK_EQ_STR(v.password_hash, "$2b$04$changed");
    CHECK_EQ_INT(v.credential_version, 1);
    CHECK_EQ_INT(store_user_rehash(s, NULL, u.id + 99, "$2b$04$changed", "$2b$06$x"),
                 STORE_NOT_FOUND);
}

STORE_CASE(user_login_failures, 1)
{
    struct store_user u, v;

    (void)t;
    REQUIRE(store_user_create(s, NULL, "tess", "tess", "$2b$04$h", T0, &u) == STORE_OK);
    CHECK_EQ_INT(u.failed_logins, 0);
    CHECK_EQ_INT(store_user_login_reserve(s, NULL, u.id, 0, 0, 1, T0 + 1), STORE_OK);
    CHECK_EQ_INT(store_user_login_reserve(s, NULL, u.id, 1, T0 + 1, 2, T0 + 2), STORE_OK);
    CHECK_EQ_INT(store_user_by_key(s, NULL, "tess", &v), STORE_OK);
    CHECK_EQ_INT(v.failed_logins, 2);
    CHECK_EQ_INT(v.last_failed_at, T0 + 2);
    /* A count read before the last change no longer holds: nothing is
     * written, the caller reads again. */
    CHECK_EQ_INT(store_user_login_reserve(s, NULL, u.id, 1, T0 + 1, 2, T0 + 3), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_user_login_reserve(s, NULL, u.id, 2, T0 + 1, 3, T0 + 3), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_user_by_id(s, NULL, u.id, &v), STORE_OK);
    CHECK_EQ_INT(v.failed_logins, 2);
    CHECK_EQ_INT(v.last_failed_at, T0 + 2);
    CHECK_EQ_INT(store_user_login_failures_reset(s, NULL, u.id), STORE_OK);
    CHECK_EQ_INT(store_user_by_id(s, NULL, u.id, &v), STORE_OK);
    CHECK_EQ_INT(v.failed_logins, 0);
    CHECK_EQ_INT(v.last_failed_at, 0);
    CHECK_EQ_INT(store_user_login_reserve(s, NULL, u.id + 99, 0, 0, 1, T0), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_user_login_failures_reset(s, NULL, u.id + 99), STORE_NOT_FOUND);
}

STORE_CASE(users_hash_like, 1)
{
    struct store_user u;
    bool found = true;

    (void)t;
    CHECK_EQ_INT(store_users_hash_like(s, "$2%", &found), STORE_OK);
    CHECK(!found);
    REQUIRE(store_user_create(s, NULL, "vic", "vic", "$2b$04$h", T0, &u) == STORE_OK);
    CHECK_EQ_INT(store_users_hash_like(s, "$2%", &found), STORE_OK);
    CHECK(found);
    CHECK_EQ_INT(store_users_hash_like(s, "$argon2id$%", &found), STORE_OK);
    CHECK(!found);
    REQUIRE(store_user_create(s, NULL, "wes", "wes", "$argon2id$v=19$x", T0, &u) == STORE_OK);
    CHECK_EQ_INT(store_users_hash_like(s, "$argon2id$%", &found), STORE_OK);
    CHECK(found);
}

/* Failed logins counted from several connections at once (instances on one
 * database) are all counted: each reserves against the count it read, and
 * reads again when another counted first. */
struct fail_many {
    store *s;
    int64_t id;
};

static void *fail_many_run(void *arg)
{
    struct fail_many *f = arg;
    struct store_user v;

    for (int i = 0, tries = 0; i < 25 && tries < 100000; tries++) {
        if (store_user_by_id(f->s, NULL, f->id, &v) == STORE_OK &&
            store_user_login_reserve(f->s, NULL, f->id, v.failed_logins, v.last_failed_at,
                                     v.failed_logins + 1, T0 + 1) == STORE_OK)
            i++;
    }
    return NULL;
}

STORE_CASE(user_login_failures_concurrent, 4)
{
    struct store_user u, v;
    pthread_t th[4];
    struct fail_many f;

    (void)t;
    REQUIRE(store_user_create(s, NULL, "uma", "uma", "$2b$04$h", T0, &u) == STORE_OK);
    f = (struct fail_many){s, u.id};
    for (int i = 0; i < 4; i++)
        REQUIRE(pthread_create(&th[i], NULL, fail_many_run, &f) == 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    CHECK_EQ_INT(store_user_by_id(s, NULL, u.id, &v), STORE_OK);
    CHECK_EQ_INT(v.failed_logins, 100);
}

STORE_CASE(tx_commit, 1)
{
    struct store_user a, b;
    store_tx tx;

    REQUIRE(store_begin(s, &tx) == STORE_OK);
    CHECK_EQ_INT(store_user_create(s, &tx, "erin", "erin", "$2b$04$h", T0, &a), STORE_OK);
    CHECK_EQ_INT(store_user_create(s, &tx, "finn", "finn", "$2b$04$h", T0, &b), STORE_OK);
    /* A read inside the transaction sees its own writes. */
    struct store_user v;
    CHECK_EQ_INT(store_user_by_key(s, &tx, "erin", &v), STORE_OK);
    CHECK_EQ_INT(v.id, a.id);
    /* Outside it, another connection does not see them yet (SQLite: the
     * writer holds the lock, so look from a separate connection). */
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM users"), 0);
    CHECK_EQ_INT(store_commit(&tx), STORE_OK);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM users"), 2);

    /* An explicit rollback leaves nothing behind. */
    REQUIRE(store_begin(s, &tx) == STORE_OK);
    CHECK_EQ_INT(store_user_create(s, &tx, "gail", "gail", "$2b$04$h", T0, &a), STORE_OK);
    store_rollback(&tx);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM users"), 2);
    CHECK_EQ_INT(store_user_by_key(s, NULL, "gail", &v), STORE_NOT_FOUND);
    /* The single connection went back to the pool each time. */
    CHECK_EQ_INT(store_ping(s), STORE_OK);
}

STORE_CASE(tx_fails_half_way, 1)
{
    struct store_user a, b, v;
    struct store_session sess;
    store_tx tx;

    REQUIRE(store_user_create(s, NULL, "hank", "hank", "$2b$04$h", T0, &a) == STORE_OK);
    REQUIRE(store_begin(s, &tx) == STORE_OK);
    CHECK_EQ_INT(store_user_create(s, &tx, "ivy", "ivy", "$2b$04$h", T0, &b), STORE_OK);
    make_session(&sess, "sid-ivy", b.id, 0x44);
    CHECK_EQ_INT(store_session_create(s, &tx, &sess), STORE_OK);
    /* Half-way: a write the unique index refuses. */
    CHECK_EQ_INT(store_user_create(s, &tx, "Hank", "hank", "$2b$04$h", T0, &v), STORE_CONFLICT);
    /* From then on the transaction runs nothing more... */
    CHECK_EQ_INT(store_user_create(s, &tx, "jack", "jack", "$2b$04$h", T0, &v), STORE_CONFLICT);
    /* ...and its commit rolls everything back, reporting the failure. */
    CHECK_EQ_INT(store_commit(&tx), STORE_CONFLICT);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM users"), 1);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM sessions"), 0);
    CHECK_EQ_INT(store_user_by_key(s, NULL, "ivy", &v), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_user_by_key(s, NULL, "jack", &v), STORE_NOT_FOUND);
    /* The connection is clean for the next caller. */
    CHECK_EQ_INT(store_user_create(s, NULL, "ivy", "ivy", "$2b$04$h", T0, &b), STORE_OK);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM users"), 2);
}

STORE_CASE(reopen, 1)
{
    struct store_user u, v;
    char err[256] = "";
    struct store_options opt = {.nconns = 2};
    store *again = NULL;

    CHECK_EQ_INT(store_user_create(s, NULL, "dave", "dave", "$2b$04$h", T0, &u), STORE_OK);
    /* Migrations run again and change nothing. */
    CHECK_EQ_INT(store_open(t->url, &opt, &again, err, sizeof err), STORE_OK);
    if (again != NULL) {
        CHECK_EQ_INT(store_user_by_key(again, NULL, "dave", &v), STORE_OK);
        CHECK_EQ_INT(v.id, u.id);
        CHECK_EQ_INT(store_user_create(again, NULL, "Dave", "dave", "$2b$04$h", T0, &v),
                     STORE_CONFLICT);
        CHECK_EQ_INT(store_user_create(again, NULL, "erin", "erin", "$2b$04$h", T0, &v), STORE_OK);
        CHECK(v.id > u.id);
        store_close(again);
    }
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM schema_migrations"), STORE_SCHEMA_VERSION);
    CHECK_EQ_INT(tdb_int(t, "SELECT MAX(version) FROM schema_migrations"), STORE_SCHEMA_VERSION);
    if (t->b == SQLITE)
        CHECK_EQ_INT(tdb_int(t, "PRAGMA journal_mode = WAL") >= 0, 1);
}

STORE_CASE(newer_schema, 1)
{
    char err[256] = "";
    store *again = (store *)&again;

    /* A database migrated by a newer gatehouse is left alone. */
    CHECK_EQ_INT(tdb_exec(t, "INSERT INTO schema_migrations VALUES (99, 0)"), 0);
    CHECK_EQ_INT(store_open(t->url, NULL, &again, err, sizeof err), STORE_ERROR);
    CHECK(again == NULL);
    CHECK(strstr(err, "99") != NULL);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM schema_migrations"), STORE_SCHEMA_VERSION + 1);
    /* The store already open keeps working. */
    CHECK_EQ_INT(store_ping(s), STORE_OK);
}

struct inserter {
    store *s;
    int base, n, ok;
};

static void *insert_users(void *arg)
{
    struct inserter *w = arg;
    struct store_user u;
    char name[32];

    for (int i = 0; i < w->n; i++) {
        snprintf(name, sizeof name, "user%d", w->base + i);
        w->ok += store_user_create(w->s, NULL, name, name, "$2b$04$h", T0, &u) == STORE_OK;
    }
    return NULL;
}

STORE_CASE(concurrent_inserts, 2)
{
    enum { NTHREADS = 4, PER = 25 };
    struct inserter w[NTHREADS];
    pthread_t th[NTHREADS];
    int ok = 0;

    /* More threads than connections: callers wait for a free one. */
    for (int i = 0; i < NTHREADS; i++) {
        w[i] = (struct inserter){s, i * PER, PER, 0};
        CHECK_EQ_INT(pthread_create(&th[i], NULL, insert_users, &w[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        ok += w[i].ok;
    }
    CHECK_EQ_INT(ok, NTHREADS * PER);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(DISTINCT id) FROM users"), NTHREADS * PER);
}

/* One contender of a race: a transaction of two writes, or a rotation. */
struct contender {
    store *s;
    pthread_barrier_t *start;
    int n;
    int64_t user_id;
    enum store_status rc;
};

static void *register_with_session(void *arg)
{
    struct contender *c = arg;
    struct store_user u;
    struct store_session sess;
    char sid[32];
    store_tx tx;

    pthread_barrier_wait(c->start);
    c->rc = store_begin(c->s, &tx);
    if (c->rc != STORE_OK)
        return NULL;
    c->rc = store_user_create(c->s, &tx, "Zed", "zed", "$2b$04$h", T0, &u);
    snprintf(sid, sizeof sid, "sid-zed-%d", c->n);
    make_session(&sess, sid, u.id, c->n);
    if (c->rc == STORE_OK)
        c->rc = store_session_create(c->s, &tx, &sess);
    enum store_status done = store_commit(&tx);
    if (c->rc == STORE_OK)
        c->rc = done;
    return NULL;
}

STORE_CASE(concurrent_conflicting_transactions, 4)
{
    enum { N = 8 };
    struct contender c[N];
    pthread_t th[N];
    pthread_barrier_t start;
    int won = 0, conflicts = 0;

    pthread_barrier_init(&start, NULL, N);
    for (int i = 0; i < N; i++) {
        c[i] = (struct contender){.s = s, .start = &start, .n = i + 1};
        CHECK_EQ_INT(pthread_create(&th[i], NULL, register_with_session, &c[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        won += c[i].rc == STORE_OK;
        conflicts += c[i].rc == STORE_CONFLICT;
    }
    pthread_barrier_destroy(&start);
    /* Exactly one registration commits, with its session; every other one
     * sees the conflict and leaves nothing behind. */
    CHECK_EQ_INT(won, 1);
    CHECK_EQ_INT(conflicts, N - 1);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM users"), 1);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM sessions"), 1);
}

static void *rotate_once(void *arg)
{
    struct contender *c = arg;
    unsigned char old_hash[32], new_hash[32];

    memset(old_hash, 0x55, sizeof old_hash);
    memset(new_hash, 0x60 + c->n, sizeof new_hash);
    pthread_barrier_wait(c->start);
    struct store_session got;
    c->rc = store_session_rotate(c->s, NULL, old_hash, new_hash, T0 + 1, &got);
    return NULL;
}

STORE_CASE(rotation_race, 4)
{
    enum { N = 20 };
    struct contender c[N];
    pthread_t th[N];
    pthread_barrier_t start;
    struct store_user u;
    struct store_session sess;
    int won = 0, lost = 0;

    REQUIRE(store_user_create(s, NULL, "race", "race", "$2b$04$h", T0, &u) == STORE_OK);
    make_session(&sess, "sid-race", u.id, 0x55);
    REQUIRE(store_session_create(s, NULL, &sess) == STORE_OK);
    pthread_barrier_init(&start, NULL, N);
    for (int i = 0; i < N; i++) {
        c[i] = (struct contender){.s = s, .start = &start, .n = i + 1};
        CHECK_EQ_INT(pthread_create(&th[i], NULL, rotate_once, &c[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        won += c[i].rc == STORE_OK;
        lost += c[i].rc == STORE_NOT_FOUND;
    }
    pthread_barrier_destroy(&start);
    /* The compare-and-set lets exactly one of twenty identical refreshes
     * through. */
    CHECK_EQ_INT(won, 1);
    CHECK_EQ_INT(lost, N - 1);
    CHECK_EQ_INT(tdb_int(t, "SELECT generation FROM sessions WHERE id = 'sid-race'"), 1);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM refresh_history"), 1);
}

/* PostgreSQL only: connections the server ends (a restart, a failover, an
 * administrator's pg_terminate_backend) are replaced without the caller
 * seeing more than the one transaction that was on them. */
TEST(store_pg_connection_terminated)
{
    struct tdb t;
    struct store_user u, v;
    store_tx tx;
    static const char kill_ours[] = "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                    "WHERE application_name = 'gatehouse' AND pid <> "
                                    "pg_backend_pid() AND datname = current_database()";

    if (tdb_make(&t, PG, __LINE__) != 0)
        return;
    store *s = tdb_open(&t, 1, __LINE__);
    if (s == NULL) {
        tdb_remove(&t);
        REQUIRE(s != NULL);
    }
    CHECK_EQ_INT(store_user_create(s, NULL, "kim", "kim", "$2b$04$h", T0, &u), STORE_OK);
    CHECK(tdb_int(&t, kill_ours) >= 1);
    /* A read and a write on the next call both work: the dead connection
     * is noticed and opened again. */
    CHECK_EQ_INT(store_user_by_key(s, NULL, "kim", &v), STORE_OK);
    CHECK_EQ_INT(store_user_create(s, NULL, "lee", "lee", "$2b$04$h", T0, &v), STORE_OK);

    /* Inside a transaction the loss is the transaction's failure. */
    REQUIRE(store_begin(s, &tx) == STORE_OK);
    CHECK_EQ_INT(store_user_create(s, &tx, "max", "max", "$2b$04$h", T0, &v), STORE_OK);
    CHECK(tdb_int(&t, kill_ours) >= 1);
    CHECK(store_user_create(s, &tx, "ned", "ned", "$2b$04$h", T0, &v) != STORE_OK);
    CHECK(store_commit(&tx) != STORE_OK);
    CHECK_EQ_INT(tdb_int(&t, "SELECT COUNT(*) FROM users WHERE username IN ('max', 'ned')"), 0);
    /* The store recovers within a second (it waits that long before it
     * tries a server it saw fail). */
    enum store_status rc = STORE_UNAVAILABLE;
    for (int i = 0; i < 30 && rc != STORE_OK; i++) {
        rc = store_user_by_key(s, NULL, "lee", &v);
        if (rc != STORE_OK)
            usleep(100 * 1000);
    }
    CHECK_EQ_INT(rc, STORE_OK);
    store_close(s);
    tdb_remove(&t);
}

/* What a watcher heard, under a lock: the watch calls from its own thread. */
struct heard {
    pthread_mutex_t lock;
    int connected;
    int n;
    char sid[8][STORE_ID_MAX + 1];
    int64_t until[8];
};

static void heard_connected(void *arg)
{
    struct heard *h = arg;

    pthread_mutex_lock(&h->lock);
    h->connected++;
    pthread_mutex_unlock(&h->lock);
}

static void heard_revoked(void *arg, const char *sid, int64_t until)
{
    struct heard *h = arg;

    pthread_mutex_lock(&h->lock);
    if (h->n < 8) {
        snprintf(h->sid[h->n], sizeof h->sid[0], "%s", sid);
        h->until[h->n++] = until;
    }
    pthread_mutex_unlock(&h->lock);
}

/* Waits up to five seconds for *counter to reach want. */
static int wait_for(struct heard *h, const int *counter, int want)
{
    for (int i = 0; i < 100; i++) {
        pthread_mutex_lock(&h->lock);
        int v = *counter;
        pthread_mutex_unlock(&h->lock);
        if (v >= want)
            return v;
        usleep(50 * 1000);
    }
    return -1;
}

/* PostgreSQL only: a revocation recorded by one instance reaches another
 * through LISTEN/NOTIFY, once committed, and the watch reconnects by
 * itself after its connection is ended. */
TEST(store_pg_watch)
{
    struct tdb t;
    struct heard h = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct store_watch w = {heard_revoked, heard_connected, &h};
    store_tx tx;

    if (tdb_make(&t, PG, __LINE__) != 0)
        return;
    store *a = tdb_open(&t, 1, __LINE__);
    store *b = tdb_open(&t, 1, __LINE__);
    if (a == NULL || b == NULL)
        goto out;
    CHECK_EQ_INT(store_watch(b, &w), 0);
    CHECK_EQ_INT(wait_for(&h, &h.connected, 1), 1);

    CHECK_EQ_INT(store_revocation_add(a, NULL, "sid-one", T0 + 60), STORE_OK);
    CHECK_EQ_INT(wait_for(&h, &h.n, 1), 1);
    CHECK_EQ_STR(h.sid[0], "sid-one");
    CHECK_EQ_INT(h.until[0], T0 + 60);
    /* Inside a transaction: heard at commit, never after a rollback. */
    REQUIRE(store_begin(a, &tx) == STORE_OK);
    CHECK_EQ_INT(store_revocation_add(a, &tx, "sid-rolled-back", T0 + 60), STORE_OK);
    store_rollback(&tx);
    REQUIRE(store_begin(a, &tx) == STORE_OK);
    CHECK_EQ_INT(store_revocation_add(a, &tx, "sid-two", T0 + 70), STORE_OK);
    CHECK_EQ_INT(store_commit(&tx), STORE_OK);
    CHECK_EQ_INT(wait_for(&h, &h.n, 2), 2);
    CHECK_EQ_STR(h.sid[1], "sid-two");

    /* The server ends every gatehouse connection; the watch comes back and
     * says so (its user then reloads what it missed). */
    CHECK(tdb_int(&t, "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity "
                      "WHERE application_name = 'gatehouse' AND pid <> pg_backend_pid()") >= 1);
    CHECK_EQ_INT(wait_for(&h, &h.connected, 2), 2);
    enum store_status rc = STORE_UNAVAILABLE;
    for (int i = 0; i < 30 && rc != STORE_OK; i++) {
        rc = store_revocation_add(a, NULL, "sid-three", T0 + 80);
        if (rc != STORE_OK)
            usleep(100 * 1000);
    }
    CHECK_EQ_INT(rc, STORE_OK);
    CHECK_EQ_INT(wait_for(&h, &h.n, 3), 3);
    CHECK_EQ_STR(h.sid[2], "sid-three");
    CHECK_EQ_INT(h.n, 3);
out:
    store_close(a);
    store_close(b); /* stops the watch */
    tdb_remove(&t);
}

/* SQLite: no notifications; the watch looks at the file and says
 * "reload" once another connection (another process) has committed. */
TEST(store_sqlite_watch_sees_other_writers)
{
    struct tdb t;
    struct heard h = {.lock = PTHREAD_MUTEX_INITIALIZER};
    struct store_watch w = {heard_revoked, heard_connected, &h};

    REQUIRE(tdb_make(&t, SQLITE, __LINE__) == 0);
    store *s = tdb_open(&t, 1, __LINE__);
    if (s != NULL) {
        CHECK_EQ_INT(store_watch(s, &w), 0);
        /* Nothing written: no reload, however long it looks. Then a write
         * from elsewhere. */
        usleep(700 * 1000);
        CHECK_EQ_INT(h.connected, 0);
        CHECK_EQ_INT(tdb_exec(&t, "INSERT INTO revocations VALUES ('from-the-cli', 99)"), 0);
        CHECK(wait_for(&h, &h.connected, 1) >= 1);
        /* SQLite names no revocation itself: the caller reloads. */
        CHECK_EQ_INT(h.n, 0);
        store_close(s); /* stops the watch */
    }
    tdb_remove(&t);
}

/* SQLite: one server per database file; the claim goes with the store,
 * and a PostgreSQL store never refuses one. */
STORE_CASE(claim_sole_server, 1)
{
    char err[512] = "";
    store *other = tdb_open(t, 1, __LINE__);

    REQUIRE(other != NULL);
    CHECK_EQ_INT(store_claim_sole_server(s, err, sizeof err), STORE_OK);
    CHECK_EQ_INT(store_claim_sole_server(s, err, sizeof err), STORE_OK); /* again: no-op */
    if (t->b == SQLITE) {
        CHECK_EQ_INT(store_claim_sole_server(other, err, sizeof err), STORE_CONFLICT);
        CHECK(strstr(err, t->path) != NULL);
        CHECK(strstr(err, "another gatehouse process") != NULL);
    } else {
        CHECK_EQ_INT(store_claim_sole_server(other, err, sizeof err), STORE_OK);
    }
    /* A store that does not claim still reads and writes beside it. */
    struct store_user u;
    CHECK_EQ_INT(store_user_create(other, NULL, "side", "side", "$2b$04$h", T0, &u), STORE_OK);
    store_close(other);
    other = tdb_open(t, 1, __LINE__);
    REQUIRE(other != NULL);
    if (t->b == SQLITE)
        CHECK_EQ_INT(store_claim_sole_server(other, err, sizeof err), STORE_CONFLICT);
    store_close(other);
}

TEST(store_claim_released_on_close)
{
    struct tdb t;
    char err[512] = "";

    REQUIRE(tdb_make(&t, SQLITE, __LINE__) == 0);
    store *a = tdb_open(&t, 1, __LINE__);
    store *b = tdb_open(&t, 1, __LINE__);
    if (a != NULL && b != NULL) {
        CHECK_EQ_INT(store_claim_sole_server(a, err, sizeof err), STORE_OK);
        CHECK_EQ_INT(store_claim_sole_server(b, err, sizeof err), STORE_CONFLICT);
        store_close(a);
        a = NULL;
        CHECK_EQ_INT(store_claim_sole_server(b, err, sizeof err), STORE_OK);
        /* SQLite's own locks survived the claim's descriptor. */
        struct store_user u;
        CHECK_EQ_INT(store_user_create(b, NULL, "after", "after", "$2b$04$h", T0, &u), STORE_OK);
    }
    store_close(a);
    store_close(b);
    tdb_remove(&t);
}

/* Each store counts its own connections and failed calls (GET /metrics
 * shows the server's): another store in the same process changes nothing. */
TEST(store_stats_per_store)
{
    struct tdb ta, tb;
    struct store_stats sa, sb;
    struct store_user u;
    store_tx tx;

    REQUIRE(tdb_make(&ta, SQLITE, __LINE__) == 0);
    REQUIRE(tdb_make(&tb, SQLITE, __LINE__) == 0);
    store *a = tdb_open(&ta, 1, __LINE__);
    store *b = tdb_open(&tb, 1, __LINE__);
    if (a != NULL && b != NULL) {
        REQUIRE(store_begin(a, &tx) == STORE_OK);
        store_stats(a, &sa);
        store_stats(b, &sb);
        CHECK_EQ_INT(sa.in_use, 1);
        CHECK_EQ_INT(sb.in_use, 0);
        store_rollback(&tx);
        store_stats(a, &sa);
        CHECK_EQ_INT(sa.in_use, 0);
        /* A call that fails on b (its table is gone) counts on b only. */
        CHECK_EQ_INT(tdb_exec(&tb, "ALTER TABLE users RENAME TO users_gone"), 0);
        CHECK_EQ_INT(store_user_by_key(b, NULL, "kim", &u), STORE_ERROR);
        store_stats(a, &sa);
        store_stats(b, &sb);
        CHECK_EQ_INT(sb.failed, 1);
        CHECK_EQ_INT(sb.unavailable, 0);
        CHECK_EQ_INT(sa.failed, 0);
        CHECK_EQ_INT(sa.unavailable, 0);
    }
    store_close(a);
    store_close(b);
    tdb_remove(&ta);
    tdb_remove(&tb);
}

/* ---- addresses and mailed tokens (store/emails.c) ---- */

STORE_CASE(user_email, 1)
{
    struct store_user a, b;
    struct store_email e;

    REQUIRE(store_user_create(s, NULL, "ann", "ann", "$2b$04$h", T0, &a) == STORE_OK);
    REQUIRE(store_user_create(s, NULL, "bob", "bob", "$2b$04$h", T0, &b) == STORE_OK);
    CHECK_EQ_INT(store_user_email(s, NULL, a.id, &e), STORE_OK);
    CHECK_EQ_STR(e.email, "");
    CHECK(!e.verified);
    CHECK_EQ_INT(store_user_email_set(s, NULL, a.id, "Ann@Example.org", "ann@example.org", false),
                 STORE_OK);
    /* The unique index decides, on the key: another spelling is taken. */
    CHECK_EQ_INT(store_user_email_set(s, NULL, b.id, "ANN@example.org", "ann@example.org", false),
                 STORE_CONFLICT);
    CHECK_EQ_INT(store_user_by_email_key(s, NULL, "ann@example.org", &e), STORE_OK);
    CHECK_EQ_INT(e.user_id, a.id);
    CHECK_EQ_STR(e.email, "Ann@Example.org");
    CHECK_EQ_STR(e.username, "ann");
    CHECK_EQ_INT(store_user_by_email_key(s, NULL, "nobody@example.org", &e), STORE_NOT_FOUND);
    /* Accounts without an address do not collide (NULL repeats). */
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM users WHERE email_key IS NULL"), 1);
    CHECK_EQ_INT(store_user_email_verified_if(s, NULL, a.id, "other@example.org"), STORE_OK);
    CHECK_EQ_INT(store_user_email(s, NULL, a.id, &e), STORE_OK);
    CHECK(!e.verified);
    CHECK_EQ_INT(store_user_email_verified_if(s, NULL, a.id, "ann@example.org"), STORE_OK);
    CHECK_EQ_INT(store_user_email(s, NULL, a.id, &e), STORE_OK);
    CHECK(e.verified);
    /* The per-account window: one request per interval, from the request. */
    CHECK_EQ_INT(store_user_mail_requested(s, NULL, a.id, T0, T0 - 60), STORE_OK);
    CHECK_EQ_INT(store_user_mail_requested(s, NULL, a.id, T0 + 59, T0 - 1), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_user_mail_requested(s, NULL, a.id, T0 + 60, T0), STORE_OK);
    CHECK_EQ_INT(store_user_email(s, NULL, a.id, &e), STORE_OK);
    CHECK_EQ_INT(e.mail_requested_at, T0 + 60);
    CHECK_EQ_INT(store_user_email_set(s, NULL, 999999, "x@example.org", "x@example.org", false),
                 STORE_NOT_FOUND);
}

static void hash_of(unsigned char h[32], int n)
{
    memset(h, 0x10 + n, 32);
}

STORE_CASE(email_tokens, 1)
{
    struct store_user a;
    unsigned char h1[32], h2[32], h3[32];
    char email[STORE_EMAIL_MAX + 1];
    int64_t uid = 0, n = 0;

    hash_of(h1, 1);
    hash_of(h2, 2);
    hash_of(h3, 3);
    REQUIRE(store_user_create(s, NULL, "ann", "ann", "$2b$04$h", T0, &a) == STORE_OK);
    CHECK_EQ_INT(
        store_email_token_add(s, NULL, h1, a.id, STORE_TOKEN_RESET, "a@example.org", T0, T0 + 60),
        STORE_OK);
    /* A look does not use it; a token of another purpose is not it. */
    CHECK_EQ_INT(store_email_token_peek(s, NULL, h1, STORE_TOKEN_RESET, T0 + 1, &uid, email),
                 STORE_OK);
    CHECK_EQ_INT(uid, a.id);
    CHECK_EQ_STR(email, "a@example.org");
    CHECK_EQ_INT(store_email_token_use(s, NULL, h1, STORE_TOKEN_CONFIRM, T0 + 1, &uid, email),
                 STORE_NOT_FOUND);
    /* Single use. */
    CHECK_EQ_INT(store_email_token_use(s, NULL, h1, STORE_TOKEN_RESET, T0 + 1, &uid, email),
                 STORE_OK);
    CHECK_EQ_INT(store_email_token_use(s, NULL, h1, STORE_TOKEN_RESET, T0 + 2, &uid, email),
                 STORE_NOT_FOUND);
    CHECK_EQ_INT(store_email_token_peek(s, NULL, h1, STORE_TOKEN_RESET, T0 + 2, &uid, email),
                 STORE_NOT_FOUND);
    /* Expiry: live until expires_at, not at it. */
    CHECK_EQ_INT(
        store_email_token_add(s, NULL, h2, a.id, STORE_TOKEN_RESET, "a@example.org", T0, T0 + 60),
        STORE_OK);
    CHECK_EQ_INT(store_email_token_use(s, NULL, h2, STORE_TOKEN_RESET, T0 + 60, &uid, email),
                 STORE_NOT_FOUND);
    CHECK_EQ_INT(store_email_token_use(s, NULL, h2, STORE_TOKEN_RESET, T0 + 59, &uid, email),
                 STORE_OK);
    /* Voiding: the account's tokens of that purpose go, others stay. */
    CHECK_EQ_INT(
        store_email_token_add(s, NULL, h3, a.id, STORE_TOKEN_CONFIRM, "a@example.org", T0, T0 + 60),
        STORE_OK);
    hash_of(h2, 4);
    CHECK_EQ_INT(
        store_email_token_add(s, NULL, h2, a.id, STORE_TOKEN_RESET, "a@example.org", T0, T0 + 60),
        STORE_OK);
    CHECK_EQ_INT(store_email_tokens_void(s, NULL, a.id, STORE_TOKEN_RESET), STORE_OK);
    CHECK_EQ_INT(store_email_token_use(s, NULL, h2, STORE_TOKEN_RESET, T0 + 1, &uid, email),
                 STORE_NOT_FOUND);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM email_tokens"), 1);
    /* The purge takes the used and the expired. */
    hash_of(h1, 5);
    CHECK_EQ_INT(
        store_email_token_add(s, NULL, h1, a.id, STORE_TOKEN_RESET, "a@example.org", T0, T0 + 10),
        STORE_OK);
    CHECK_EQ_INT(store_email_tokens_purge(s, T0 + 10, &n), STORE_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(store_email_token_use(s, NULL, h3, STORE_TOKEN_CONFIRM, T0 + 1, &uid, email),
                 STORE_OK);
    CHECK_EQ_INT(store_email_tokens_purge(s, T0 + 1, &n), STORE_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM email_tokens"), 0);
    /* Deleting the user deletes its tokens. */
    CHECK_EQ_INT(
        store_email_token_add(s, NULL, h3, a.id, STORE_TOKEN_RESET, "a@example.org", T0, T0 + 60),
        STORE_OK);
    CHECK_EQ_INT(store_user_delete(s, NULL, a.id), STORE_OK);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM email_tokens"), 0);
}

static void *use_token_once(void *arg)
{
    struct contender *c = arg;
    unsigned char h[32];
    char email[STORE_EMAIL_MAX + 1];
    int64_t uid = 0;

    hash_of(h, 9);
    pthread_barrier_wait(c->start);
    c->rc = store_email_token_use(c->s, NULL, h, STORE_TOKEN_RESET, T0 + 1, &uid, email);
    return NULL;
}

STORE_CASE(email_token_race, 4)
{
    enum { N = 20 };
    struct contender c[N];
    pthread_t th[N];
    pthread_barrier_t start;
    struct store_user u;
    unsigned char h[32];
    int won = 0, lost = 0;

    hash_of(h, 9);
    REQUIRE(store_user_create(s, NULL, "race", "race", "$2b$04$h", T0, &u) == STORE_OK);
    REQUIRE(store_email_token_add(s, NULL, h, u.id, STORE_TOKEN_RESET, "r@example.org", T0,
                                  T0 + 60) == STORE_OK);
    pthread_barrier_init(&start, NULL, N);
    for (int i = 0; i < N; i++) {
        c[i] = (struct contender){.s = s, .start = &start, .n = i + 1};
        CHECK_EQ_INT(pthread_create(&th[i], NULL, use_token_once, &c[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        won += c[i].rc == STORE_OK;
        lost += c[i].rc == STORE_NOT_FOUND;
    }
    pthread_barrier_destroy(&start);
    /* One statement decides: exactly one of twenty uses of a token wins. */
    CHECK_EQ_INT(won, 1);
    CHECK_EQ_INT(lost, N - 1);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM email_tokens WHERE used_at IS NOT NULL"), 1);
}

STORE_CASE(password_requests, 1)
{
    struct store_password_request r;
    int64_t id1 = 0, id2 = 0, ids[4];
    size_t n = 0;
    store_tx tx;

    (void)t;
    CHECK_EQ_INT(store_password_request_add(s, NULL, false, "ann", "en", T0, &id1), STORE_OK);
    CHECK_EQ_INT(store_password_request_add(s, NULL, true, "a@example.org", "ru", T0 + 1, &id2),
                 STORE_OK);
    CHECK(id2 > id1);
    CHECK_EQ_INT(store_password_requests_pending(s, ids, 4, &n), STORE_OK);
    CHECK_EQ_INT((long long)n, 2);
    CHECK_EQ_INT(ids[0], id1);
    REQUIRE(store_begin(s, &tx) == STORE_OK);
    CHECK_EQ_INT(store_password_request_take(s, &tx, id2, &r), STORE_OK);
    CHECK(r.by_email);
    CHECK_EQ_STR(r.name, "a@example.org");
    CHECK_EQ_STR(r.lang, "ru");
    CHECK_EQ_INT(r.created_at, T0 + 1);
    CHECK_EQ_INT(store_commit(&tx), STORE_OK);
    /* Taken once: a second worker finds nothing. */
    REQUIRE(store_begin(s, &tx) == STORE_OK);
    CHECK_EQ_INT(store_password_request_take(s, &tx, id2, &r), STORE_NOT_FOUND);
    store_rollback(&tx);
    CHECK_EQ_INT(store_password_requests_pending(s, ids, 4, &n), STORE_OK);
    CHECK_EQ_INT((long long)n, 1);
}

STORE_CASE(session_amr, 1)
{
    struct store_user u;
    struct store_session sess, got;
    unsigned char h2[32];

    REQUIRE(store_user_create(s, NULL, "amr", "amr", "$2b$04$h", T0, &u) == STORE_OK);
    /* No amr given: the column's default, a password. */
    make_session(&sess, "sid-pwd", u.id, 0x21);
    CHECK_EQ_INT(store_session_create(s, NULL, &sess), STORE_OK);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM sessions WHERE amr = 'pwd'"), 1);
    make_session(&sess, "sid-otp", u.id, 0x22);
    snprintf(sess.amr, sizeof sess.amr, "pwd otp");
    CHECK_EQ_INT(store_session_create(s, NULL, &sess), STORE_OK);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM sessions WHERE amr = 'pwd otp'"), 1);
    /* A rotation returns it. */
    memset(h2, 0x23, sizeof h2);
    CHECK_EQ_INT(store_session_rotate(s, NULL, sess.refresh_hash, h2, T0 + 1, &got), STORE_OK);
    CHECK_EQ_STR(got.id, "sid-otp");
    CHECK_EQ_STR(got.amr, "pwd otp");
}
