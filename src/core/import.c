#include "core/import.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/password.h"
#include "core/username.h"
#include "store/store.h"
#include "util/log.h"

int import_set_add(struct import_set *set, long where, int64_t id, const char *username,
                   size_t ulen, const char *hash)
{
    if (set->count == set->cap) {
        size_t cap = set->cap != 0 ? set->cap * 2 : 64;
        void *p = realloc(set->rows, cap * sizeof *set->rows);
        if (p == NULL)
            return -1;
        set->rows = p;
        set->cap = cap;
    }
    struct import_row *r = &set->rows[set->count];
    r->where = where;
    r->id = id;
    r->ulen = ulen;
    r->username = malloc(ulen + 1);
    r->hash = strdup(hash != NULL ? hash : "");
    if (r->username == NULL || r->hash == NULL) {
        free(r->username);
        free(r->hash);
        return -1;
    }
    memcpy(r->username, username, ulen);
    r->username[ulen] = '\0';
    r->refused = NULL;
    set->count++;
    return 0;
}

int import_set_refuse_last(struct import_set *set, const char *why)
{
    struct import_row *r = &set->rows[set->count - 1];

    free(r->refused);
    r->refused = strdup(why);
    return r->refused != NULL ? 0 : -1;
}

void import_set_free(struct import_set *set)
{
    for (size_t i = 0; i < set->count; i++) {
        sodium_memzero(set->rows[i].hash, strlen(set->rows[i].hash));
        free(set->rows[i].hash);
        free(set->rows[i].username);
        free(set->rows[i].refused);
    }
    free(set->rows);
    memset(set, 0, sizeof *set);
}

/* Writes name into out as a quoted string a terminal shows safely: bytes
 * outside printable ASCII as \xNN, at most about 80 bytes of the name. */
static void quote(char *out, size_t cap, const char *name, size_t len)
{
    size_t n = 0;

    if (cap < 8)
        return;
    out[n++] = '"';
    for (size_t i = 0; i < len && n + 8 < cap; i++) {
        unsigned char c = (unsigned char)name[i];
        if (i >= 80) {
            n += (size_t)snprintf(out + n, cap - n, "...");
            break;
        }
        if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
            n += (size_t)snprintf(out + n, cap - n, "\\x%02x", c);
        else
            out[n++] = (char)c;
    }
    out[n++] = '"';
    out[n] = '\0';
}

/* What becomes of each row of an import. */
enum action { INSERT_KEEP_ID, INSERT_NEW_ID, SKIP };

/* One import in progress: the rows, their keys, and what the checks found. */
struct run {
    const struct import_set *set;
    char (*keys)[USERNAME_STORED_MAX + 1];
    char **why;          /* why[i]: the reasons row i is refused, or NULL */
    enum action *action; /* for the rows not refused */
    int64_t *given;      /* the id a renumbered row received */
    struct import_report *rep;
};

/* The reason of a row whose reasons could not be kept. */
static char out_of_memory[] = "out of memory";

/* Adds a reason to refuse row i: the reasons of one row are joined, so that
 * it is reported once, in its place. */
__attribute__((format(printf, 3, 4))) static void refuse(struct run *run, size_t i, const char *fmt,
                                                         ...)
{
    char why[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    char *old = run->why[i];
    size_t n = (old != NULL ? strlen(old) + 2 : 0) + strlen(why) + 1;
    char *p = malloc(n);
    if (old == NULL)
        run->rep->problems++;
    if (p == NULL) {
        /* The row stays refused, with the reasons it has. */
        if (old == NULL)
            run->why[i] = out_of_memory;
        return;
    }
    snprintf(p, n, "%s%s%s", old != NULL ? old : "", old != NULL ? "; " : "", why);
    if (old != out_of_memory)
        free(old);
    run->why[i] = p;
}

/* Reports the refused rows, in the order of the rows. */
static void report_refused(const struct run *run)
{
    for (size_t i = 0; i < run->set->count; i++)
        if (run->why[i] != NULL)
            run->rep->problem(run->rep->arg, &run->set->rows[i], run->why[i]);
}

/* Row order sorted by key (rows without a key last), ties by position. */
static int by_key(const void *a, const void *b, void *arg)
{
    const char(*keys)[USERNAME_STORED_MAX + 1] = arg;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int ei = keys[i][0] == '\0', ej = keys[j][0] == '\0';
    int c = ei != ej ? ei - ej : strcmp(keys[i], keys[j]);

    return c != 0 ? c : (i > j) - (i < j);
}

/* Row order sorted by id (rows without one last), ties by position. */
static int by_id(const void *a, const void *b, void *arg)
{
    const struct import_row *rows = arg;
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int64_t x = rows[i].id, y = rows[j].id;
    int ei = x == 0, ej = y == 0;
    int c = ei != ej ? ei - ej : (x > y) - (x < y);

    return c != 0 ? c : (i > j) - (i < j);
}

/* Fills first[i] with the earliest row of order's group of row i (rows that
 * compare equal under same, consecutive in order), or i itself when the row
 * has nothing to share (blank says which). */
static void group_first(const size_t *order, size_t n, size_t *first,
                        bool (*same)(size_t, size_t, const void *),
                        bool (*blank)(size_t, const void *), const void *arg)
{
    for (size_t k = 0; k < n;) {
        size_t g = k;
        for (; k < n && (k == g || same(order[g], order[k], arg)); k++)
            first[order[k]] = blank(order[g], arg) ? order[k] : order[g];
    }
}

static bool same_key_of(size_t i, size_t j, const void *arg)
{
    const char(*keys)[USERNAME_STORED_MAX + 1] = arg;
    return strcmp(keys[i], keys[j]) == 0;
}

static bool blank_key(size_t i, const void *arg)
{
    const char(*keys)[USERNAME_STORED_MAX + 1] = arg;
    return keys[i][0] == '\0';
}

static bool same_id_of(size_t i, size_t j, const void *arg)
{
    const struct import_row *rows = arg;
    return rows[i].id == rows[j].id;
}

static bool blank_id(size_t i, const void *arg)
{
    const struct import_row *rows = arg;
    return rows[i].id == 0;
}

/* same_key[i], same_id[i]: the earliest row with row i's key, and with its
 * id (i itself when none is earlier, or the row has no key or id). 0, or -1
 * out of memory. */
static int earliest_same(const struct import_set *set, char (*keys)[USERNAME_STORED_MAX + 1],
                         size_t *same_key, size_t *same_id)
{
    size_t n = set->count, *order = malloc((n > 0 ? n : 1) * sizeof *order);

    if (order == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    qsort_r(order, n, sizeof *order, by_key, keys);
    group_first(order, n, same_key, same_key_of, blank_key, keys);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    qsort_r(order, n, sizeof *order, by_id, set->rows);
    group_first(order, n, same_id, same_id_of, blank_id, set->rows);
    free(order);
    return 0;
}

/* The checks of row i alone. */
static void check_row(struct run *run, size_t i)
{
    const struct import_row *r = &run->set->rows[i];
    char q[400], why[160];

    quote(q, sizeof q, r->username, r->ulen);
    run->keys[i][0] = '\0';
    if (r->refused != NULL) {
        refuse(run, i, "%s", r->refused);
        return;
    }
    if (r->ulen == 0) {
        refuse(run, i, "the username is empty");
    } else if (r->ulen > USERNAME_STORED_MAX) {
        refuse(run, i, "the username %s is longer than 255 bytes", q);
    } else if (!username_storable(r->username, r->ulen)) {
        refuse(run, i, "the username %s is not UTF-8 without control characters", q);
    } else {
        username_key_any(run->keys[i], r->username, r->ulen);
    }
    if (password_hash_form(r->hash, why, sizeof why) != PASSWORD_HASH_OK)
        refuse(run, i, "the password hash of %s is %s", q, why);
    if (r->id < 0)
        refuse(run, i, "the id of %s is not a positive number", q);
    else if (r->id > IMPORT_ID_MAX)
        refuse(run, i,
               "the id %lld of %s leaves no room for new users (gatehouse keeps ids up to %lld)",
               (long long)r->id, q, (long long)IMPORT_ID_MAX);
}

/* The checks that need no database: each row alone, then the keys and ids
 * the rows share. */
static void check_rows(struct run *run)
{
    const struct import_set *set = run->set;
    char q[400];

    for (size_t i = 0; i < set->count; i++)
        check_row(run, i);
    /* For each row, the earliest row with the same key and the earliest with
     * the same id, found by sorting: a million rows take a second (comparing
     * each row with every earlier one was still running after 8 minutes). */
    if (set->count == 0)
        return;
    size_t *same_key = malloc(set->count * sizeof *same_key);
    size_t *same_id = malloc(set->count * sizeof *same_id);
    if (same_key == NULL || same_id == NULL ||
        earliest_same(set, run->keys, same_key, same_id) != 0) {
        free(same_key);
        free(same_id);
        refuse(run, 0, "out of memory while checking %zu rows for duplicates", set->count);
        return;
    }
    for (size_t i = 0; i < set->count; i++) {
        const struct import_row *r = &set->rows[i];
        size_t jk = same_key[i], ji = same_id[i];
        /* The clash with the earlier row; the name's when both are there. */
        if (jk != i && jk <= ji) {
            quote(q, sizeof q, r->username, r->ulen);
            refuse(run, i, "the username %s is the same account as that of %s %ld", q,
                   run->rep->unit, set->rows[jk].where);
        } else if (ji != i) {
            refuse(run, i, "the id %lld appears twice (also at %s %ld)", (long long)r->id,
                   run->rep->unit, set->rows[ji].where);
        }
    }
    free(same_key);
    free(same_id);
}

/* The users of the table an import checks its rows against, read in one
 * statement: a query per row made a PostgreSQL import crawl. */
struct taken {
    struct taken_key {
        char *key;
        int64_t id;
    } * keys;
    int64_t *ids;
    size_t count, cap;
};

static int taken_add(void *arg, int64_t id, const char *key)
{
    struct taken *t = arg;

    if (t->count == t->cap) {
        size_t cap = t->cap != 0 ? t->cap * 2 : 256;
        struct taken_key *k = realloc(t->keys, cap * sizeof *k);
        if (k != NULL)
            t->keys = k;
        int64_t *ids = realloc(t->ids, cap * sizeof *ids);
        if (ids != NULL)
            t->ids = ids;
        if (k == NULL || ids == NULL)
            return -1;
        t->cap = cap;
    }
    t->keys[t->count].key = strdup(key);
    if (t->keys[t->count].key == NULL)
        return -1;
    t->keys[t->count].id = id;
    t->ids[t->count++] = id;
    return 0;
}

static void taken_free(struct taken *t)
{
    for (size_t i = 0; i < t->count; i++)
        free(t->keys[i].key);
    free(t->keys);
    free(t->ids);
    memset(t, 0, sizeof *t);
}

static int key_order(const void *a, const void *b)
{
    return strcmp(((const struct taken_key *)a)->key, ((const struct taken_key *)b)->key);
}

static int id_order(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Reads the keys and ids of s's users inside tx, sorted for lookups. */
static enum store_status taken_read(store *s, store_tx *tx, struct taken *t)
{
    enum store_status st = store_users_keys(s, tx, taken_add, t);

    if (st == STORE_OK && t->count > 0) {
        qsort(t->keys, t->count, sizeof *t->keys, key_order);
        qsort(t->ids, t->count, sizeof *t->ids, id_order);
    }
    return st;
}

/* The id of the user with key, or 0 when nobody has it. */
static int64_t taken_key(const struct taken *t, const char *key)
{
    struct taken_key k = {(char *)key, 0};
    const struct taken_key *f =
        t->count > 0 ? bsearch(&k, t->keys, t->count, sizeof *t->keys, key_order) : NULL;
    return f != NULL ? f->id : 0;
}

static bool taken_id(const struct taken *t, int64_t id)
{
    return t->count > 0 && bsearch(&id, t->ids, t->count, sizeof *t->ids, id_order) != NULL;
}

/* The row's name is taken by the user of id have: skipped when that is the
 * row imported before, refused otherwise. same_hash: that user's hash is
 * the row's. */
static void name_taken(struct run *run, size_t i, int64_t have, bool same_hash,
                       const struct import_options *opt, const char *q)
{
    const struct import_row *r = &run->set->rows[i];
    /* The same account: the same id, or none to compare; under new_ids the
     * row may have been given another id, and then it kept its hash. */
    bool same = r->id == 0 || have == r->id || (opt->new_ids && same_hash);

    if (same && opt->skip_existing)
        run->action[i] = SKIP;
    else if (same)
        refuse(run, i, "the username %s exists already (--skip-existing skips such rows)", q);
    else
        refuse(run, i,
               "the username %s exists already, as the user of id %lld: another person, who "
               "needs a new name",
               q, (long long)have);
}

/* Inside tx: what becomes of row i (run->action, or refused), by the users
 * in t. A row that clashes is looked up in full, for its report. Returns
 * STORE_OK, or another status when the database failed. */
static enum store_status check_taken(struct run *run, store *s, store_tx *tx, size_t i,
                                     const struct taken *t, const struct import_options *opt)
{
    const struct import_row *r = &run->set->rows[i];
    struct store_user u;
    char q[400];
    enum store_status st = STORE_OK;

    run->action[i] = r->id != 0 ? INSERT_KEEP_ID : INSERT_NEW_ID;
    int64_t have = taken_key(t, run->keys[i]);
    if (have != 0) {
        bool same_hash = false;
        /* The hash only when it decides: re-running an import of many rows
         * reads no row one by one. */
        if (opt->new_ids && r->id != 0 && have != r->id) {
            st = store_user_by_key(s, tx, run->keys[i], &u);
            same_hash = st == STORE_OK && strcmp(u.password_hash, r->hash) == 0;
            sodium_memzero(u.password_hash, sizeof u.password_hash);
        }
        quote(q, sizeof q, r->username, r->ulen);
        if (st == STORE_OK)
            name_taken(run, i, have, same_hash, opt, q);
        return st;
    }
    if (r->id == 0 || !taken_id(t, r->id))
        return STORE_OK;
    if (opt->new_ids) {
        run->action[i] = INSERT_NEW_ID;
        return STORE_OK;
    }
    st = store_user_by_id(s, tx, r->id, &u);
    sodium_memzero(u.password_hash, sizeof u.password_hash);
    if (st == STORE_OK) {
        char other[400];
        quote(q, sizeof q, r->username, r->ulen);
        quote(other, sizeof other, u.username, strlen(u.username));
        refuse(run, i,
               "the id %lld of %s belongs to another user already (%s); --new-ids imports such "
               "a row with a new id",
               (long long)r->id, q, other);
    }
    return st;
}

static enum import_result from_store(enum store_status st)
{
    return st == STORE_UNAVAILABLE ? IMPORT_UNAVAILABLE : IMPORT_ERROR;
}

/* The statement that inserts a full batch: store_users_import_batch or
 * store_users_create_batch. */
typedef enum store_status (*batch_insert)(store *s, store_tx *tx,
                                          const struct store_import_user *users, int64_t now);

/* Adds row to batch, which holds *n rows; when that fills it, inserts them
 * all and counts them imported if they went in, and empties the batch. */
static enum store_status batch_add(struct run *run, store *s, store_tx *tx, int64_t now,
                                   batch_insert insert, struct store_import_user *batch, size_t *n,
                                   struct store_import_user row)
{
    enum store_status st = STORE_OK;

    batch[(*n)++] = row;
    if (*n == STORE_IMPORT_BATCH) {
        st = insert(s, tx, batch, now);
        run->rep->imported += st == STORE_OK ? *n : 0;
        *n = 0;
    }
    return st;
}

/* Inserts the rows not refused or skipped that keep their ids, a batch at
 * a time, the last few one by one. */
static enum store_status insert_kept(struct run *run, store *s, store_tx *tx, int64_t now)
{
    struct store_import_user batch[STORE_IMPORT_BATCH];
    size_t n = 0;
    enum store_status st = STORE_OK;

    for (size_t i = 0; st == STORE_OK && i < run->set->count; i++) {
        const struct import_row *r = &run->set->rows[i];
        if (run->why[i] != NULL || run->action[i] != INSERT_KEEP_ID)
            continue;
        st = batch_add(run, s, tx, now, store_users_import_batch, batch, &n,
                       (struct store_import_user){r->id, r->username, run->keys[i], r->hash});
    }
    for (size_t k = 0; st == STORE_OK && k < n; k++) {
        const struct store_import_user *b = &batch[k];
        st = store_user_import(s, tx, b->id, b->username, b->username_key, b->password_hash, now);
        run->rep->imported += st == STORE_OK;
    }
    return st;
}

/* Inserts the rows not refused or skipped that take a new id: after the
 * kept ids, so that a new id (past the highest) never takes one of them.
 * The rows without an id go a batch at a time (their ids are not
 * reported), those given another id one by one, for its report. */
static enum store_status insert_new(struct run *run, store *s, store_tx *tx, int64_t now)
{
    struct store_import_user batch[STORE_IMPORT_BATCH];
    size_t n = 0;
    enum store_status st = STORE_OK;

    for (size_t i = 0; st == STORE_OK && i < run->set->count; i++) {
        const struct import_row *r = &run->set->rows[i];
        struct store_user u;
        if (run->why[i] != NULL || run->action[i] != INSERT_NEW_ID)
            continue;
        if (r->id == 0) {
            st = batch_add(run, s, tx, now, store_users_create_batch, batch, &n,
                           (struct store_import_user){0, r->username, run->keys[i], r->hash});
            continue;
        }
        st = store_user_create(s, tx, r->username, run->keys[i], r->hash, now, &u);
        sodium_memzero(u.password_hash, sizeof u.password_hash);
        run->given[i] = u.id;
        run->rep->imported += st == STORE_OK;
    }
    for (size_t k = 0; st == STORE_OK && k < n; k++) {
        struct store_user u;
        st = store_user_create(s, tx, batch[k].username, batch[k].username_key,
                               batch[k].password_hash, now, &u);
        sodium_memzero(u.password_hash, sizeof u.password_hash);
        run->rep->imported += st == STORE_OK;
    }
    return st;
}

/* The checks against the table and the inserts, in one transaction. */
static enum import_result write_rows(struct run *run, store *s, const struct import_options *opt,
                                     int64_t now)
{
    store_tx tx;
    /* The transaction takes the write lock up front on SQLite, so that what
     * was checked still holds when written. On PostgreSQL a registration
     * racing the import can still take a name: its insert then fails, and
     * with it the whole import. */
    enum store_status st = store_begin(s, &tx);

    if (st != STORE_OK)
        return from_store(st);
    struct taken t = {0};
    st = taken_read(s, &tx, &t);
    for (size_t i = 0; st == STORE_OK && i < run->set->count; i++)
        if (run->why[i] == NULL)
            st = check_taken(run, s, &tx, i, &t, opt);
    taken_free(&t);
    if (st == STORE_OK && run->rep->problems > 0 && !opt->skip_invalid) {
        store_rollback(&tx);
        return IMPORT_INVALID;
    }
    if (st == STORE_OK)
        st = insert_kept(run, s, &tx, now);
    if (st == STORE_OK)
        st = store_users_follow_ids(s, &tx);
    if (st == STORE_OK)
        st = insert_new(run, s, &tx, now);
    if (st == STORE_OK)
        st = store_audit_held_add(s, &tx, 0);
    if (st == STORE_OK)
        st = store_commit(&tx);
    else
        store_rollback(&tx);
    if (st == STORE_CONFLICT) {
        log_error("a user was registered with a name or id of the import while it ran; "
                  "nothing was imported, try again");
        return IMPORT_ERROR;
    }
    return st == STORE_OK ? IMPORT_OK : from_store(st);
}

/* After the commit: the skipped rows counted, the renumbered ones told. */
static void report_written(const struct run *run)
{
    struct import_report *rep = run->rep;

    for (size_t i = 0; i < run->set->count; i++) {
        if (run->why[i] != NULL)
            continue;
        if (run->action[i] == SKIP) {
            rep->skipped++;
        } else if (run->action[i] == INSERT_NEW_ID && run->set->rows[i].id != 0) {
            rep->renumbered++;
            if (rep->new_id != NULL)
                rep->new_id(rep->arg, &run->set->rows[i], run->given[i]);
        }
    }
}

enum import_result import_run(store *s, const struct import_set *set,
                              const struct import_options *opt, int64_t now,
                              struct import_report *rep)
{
    size_t n = set->count + 1;
    struct run run = {
        .set = set,
        .keys = calloc(n, sizeof *run.keys),
        .why = calloc(n, sizeof *run.why),
        .action = calloc(n, sizeof *run.action),
        .given = calloc(n, sizeof *run.given),
        .rep = rep,
    };
    enum import_result res = IMPORT_ERROR;

    rep->problems = rep->imported = rep->skipped = rep->renumbered = 0;
    if (run.keys != NULL && run.why != NULL && run.action != NULL && run.given != NULL) {
        check_rows(&run);
        if (rep->problems > 0 && !opt->skip_invalid)
            res = IMPORT_INVALID;
        else
            res = write_rows(&run, s, opt, now);
        if (res != IMPORT_OK)
            rep->imported = 0;
        else
            report_written(&run);
        report_refused(&run);
    }
    for (size_t i = 0; run.why != NULL && i < set->count; i++)
        if (run.why[i] != out_of_memory)
            free(run.why[i]);
    free(run.keys);
    free(run.why);
    free(run.action);
    free(run.given);
    return res;
}
