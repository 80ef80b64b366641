/* store/audit.c on both backends: events written alone and inside a
 * transaction (committed or rolled back with it), read newest first with
 * filters and a keyset cursor, and purged by age. */
#include <stdio.h>
#include <string.h>

#include "store/store.h"
#include "store/tdb.h"
#include "test.h"

/* What a listing saw: ids in order, and the fields of the first row. */
struct seen {
    int n;
    int64_t id[16];
    char type[STORE_AUDIT_TYPE_MAX + 1];
    char actor[STORE_AUDIT_ACTOR_MAX + 1];
    char details[STORE_AUDIT_DETAILS_MAX + 1];
    bool has_actor, has_client;
    int64_t user_id, at;
};

static int collect(void *arg, const struct store_audit_row *r)
{
    struct seen *w = arg;

    if (w->n == 0) {
        snprintf(w->type, sizeof w->type, "%s", r->type);
        snprintf(w->actor, sizeof w->actor, "%s", r->actor);
        snprintf(w->details, sizeof w->details, "%s", r->details);
        w->has_actor = r->has_actor;
        w->has_client = r->has_client;
        w->user_id = r->user_id;
        w->at = r->at;
    }
    if (w->n < 16)
        w->id[w->n] = r->id;
    w->n++;
    return 0;
}

static struct seen list(store *s, int64_t user_id, const char *type, bool prefix, int64_t since,
                        int64_t before, int64_t limit)
{
    struct seen w = {0};
    struct store_audit_filter f = {.user_id = user_id,
                                   .type = type,
                                   .prefix = prefix,
                                   .since = since,
                                   .before = before,
                                   .limit = limit};

    if (store_audit_list(s, &f, collect, &w) != STORE_OK)
        w.n = -1;
    return w;
}

static enum store_status add(store *s, store_tx *tx, const char *type, int64_t at, int64_t user)
{
    struct store_audit_event e = {.type = type,
                                  .at = at,
                                  .user_id = user,
                                  .client = "192.0.2.1",
                                  .request_id = "r-1",
                                  .details = "{\"via\":\"login\"}"};
    return store_audit_add(s, tx, &e);
}

STORE_CASE(audit_add_list, 1)
{
    (void)t;
    CHECK_EQ_INT(add(s, NULL, "user.registered", T0, 7), STORE_OK);
    CHECK_EQ_INT(add(s, NULL, "login.succeeded", T0 + 1, 7), STORE_OK);
    CHECK_EQ_INT(add(s, NULL, "login.failed", T0 + 2, 0), STORE_OK);
    struct store_audit_event admin = {
        .type = "admin.user_updated", .at = T0 + 3, .user_id = 8, .actor = "apikey:k1"};
    CHECK_EQ_INT(store_audit_add(s, NULL, &admin), STORE_OK);

    struct seen all = list(s, 0, NULL, false, 0, 0, 50);
    CHECK_EQ_INT(all.n, 4);
    /* Newest first, and the fields as written (NULL stays NULL). */
    CHECK(all.id[0] > all.id[1] && all.id[1] > all.id[2] && all.id[2] > all.id[3]);
    CHECK_EQ_STR(all.type, "admin.user_updated");
    CHECK_EQ_STR(all.actor, "apikey:k1");
    CHECK(all.has_actor && !all.has_client);
    CHECK_EQ_STR(all.details, "{}");
    CHECK(all.user_id == 8 && all.at == T0 + 3);

    struct seen mine = list(s, 7, NULL, false, 0, 0, 50);
    CHECK_EQ_INT(mine.n, 2);
    CHECK_EQ_STR(mine.type, "login.succeeded");
    CHECK_EQ_STR(mine.details, "{\"via\":\"login\"}");
    CHECK(!mine.has_actor && mine.has_client);

    CHECK_EQ_INT(list(s, 0, "login.failed", false, 0, 0, 50).n, 1);
    CHECK_EQ_INT(list(s, 0, "login.", true, 0, 0, 50).n, 2);
    CHECK_EQ_INT(list(s, 0, "login.", false, 0, 0, 50).n, 0);
    CHECK_EQ_INT(list(s, 0, "admin.", true, 0, 0, 50).n, 1);
    CHECK_EQ_INT(list(s, 0, NULL, false, T0 + 2, 0, 50).n, 2);
    /* A user-less event has no user: user_id 0 reads back, not a match of 0. */
    CHECK_EQ_INT(list(s, 0, "login.failed", false, 0, 0, 50).user_id, 0);

    /* Pages by keyset: two, then the rest from below the last id. */
    struct seen p1 = list(s, 0, NULL, false, 0, 0, 2);
    CHECK_EQ_INT(p1.n, 2);
    CHECK_EQ_INT(add(s, NULL, "logout", T0 + 4, 7), STORE_OK); /* an insert between pages */
    struct seen p2 = list(s, 0, NULL, false, 0, p1.id[1], 2);
    CHECK_EQ_INT(p2.n, 2);
    CHECK(p2.id[0] == all.id[2] && p2.id[1] == all.id[3]);
    CHECK_EQ_INT(list(s, 0, NULL, false, 0, p2.id[1], 2).n, 0);
}

STORE_CASE(audit_in_transaction, 1)
{
    (void)t;
    store_tx tx;

    /* Rolled back with its transaction, committed with it. */
    CHECK_EQ_INT(store_begin(s, &tx), STORE_OK);
    CHECK_EQ_INT(add(s, &tx, "password.changed", T0, 3), STORE_OK);
    store_rollback(&tx);
    CHECK_EQ_INT(list(s, 0, NULL, false, 0, 0, 50).n, 0);
    CHECK_EQ_INT(store_begin(s, &tx), STORE_OK);
    CHECK_EQ_INT(add(s, &tx, "password.changed", T0, 3), STORE_OK);
    CHECK_EQ_INT(store_commit(&tx), STORE_OK);
    CHECK_EQ_INT(list(s, 0, NULL, false, 0, 0, 50).n, 1);

    /* The held event: written once by the transaction that records it, and
     * release says so; nothing held writes nothing. */
    struct store_audit_event e = {.type = "logout", .at = T0 + 1, .user_id = 3};
    store_audit_hold(&e);
    CHECK_EQ_INT(store_begin(s, &tx), STORE_OK);
    CHECK_EQ_INT(store_audit_held_add(s, &tx, 0), STORE_OK);
    CHECK_EQ_INT(store_audit_held_add(s, &tx, 0), STORE_OK);
    CHECK_EQ_INT(store_commit(&tx), STORE_OK);
    CHECK(store_audit_release());
    CHECK_EQ_INT(list(s, 0, "logout", false, 0, 0, 50).n, 1);
    CHECK_EQ_INT(store_begin(s, &tx), STORE_OK);
    CHECK_EQ_INT(store_audit_held_add(s, &tx, 0), STORE_OK);
    CHECK_EQ_INT(store_commit(&tx), STORE_OK);
    CHECK(!store_audit_release());
    CHECK_EQ_INT(list(s, 0, NULL, false, 0, 0, 50).n, 2);
}

STORE_CASE(audit_purge, 1)
{
    int64_t deleted = -1;

    CHECK_EQ_INT(add(s, NULL, "login.failed", T0 - 100, 0), STORE_OK);
    CHECK_EQ_INT(add(s, NULL, "login.failed", T0, 0), STORE_OK);
    CHECK_EQ_INT(store_audit_purge(s, T0, &deleted), STORE_OK);
    CHECK_EQ_INT(deleted, 1);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM audit_events"), 1);
    CHECK_EQ_INT(tdb_int(t, "SELECT MIN(at) FROM audit_events"), T0);
}
