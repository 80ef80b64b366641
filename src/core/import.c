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
    set->count++;
    return 0;
}

void import_set_free(struct import_set *set)
{
    for (size_t i = 0; i < set->count; i++) {
        sodium_memzero(set->rows[i].hash, strlen(set->rows[i].hash));
        free(set->rows[i].hash);
        free(set->rows[i].username);
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

__attribute__((format(printf, 3, 4))) static void
report(struct import_report *rep, const struct import_row *row, const char *fmt, ...)
{
    char why[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    rep->problems++;
    rep->problem(rep->arg, row, why);
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

/* The checks that need no database: each row alone, then the keys and ids
 * the rows share. keys receives each row's key (USERNAME_STORED_MAX + 1
 * bytes each). */
static void check_rows(const struct import_set *set, char (*keys)[USERNAME_STORED_MAX + 1],
                       struct import_report *rep)
{
    char q[400];

    for (size_t i = 0; i < set->count; i++) {
        const struct import_row *r = &set->rows[i];
        quote(q, sizeof q, r->username, r->ulen);
        keys[i][0] = '\0';
        if (r->ulen == 0) {
            report(rep, r, "the username is empty");
        } else if (r->ulen > USERNAME_STORED_MAX) {
            report(rep, r, "the username %s is longer than 255 bytes", q);
        } else if (!username_storable(r->username, r->ulen)) {
            report(rep, r, "the username %s is not UTF-8 without control characters", q);
        } else {
            username_key_any(keys[i], r->username, r->ulen);
        }
        if (!password_hash_known(r->hash))
            report(rep, r,
                   "the password hash of %s is in no format gatehouse reads (bcrypt $2a$, $2b$, "
                   "$2y$ or argon2id)",
                   q);
        if (r->id < 0)
            report(rep, r, "the id of %s is not a positive number", q);
    }
    /* For each row, the earliest row with the same key and the earliest with
     * the same id, found by sorting: a million rows take a second (comparing
     * each row with every earlier one was still running after 8 minutes). */
    if (set->count == 0)
        return;
    size_t *same_key = malloc(set->count * sizeof *same_key);
    size_t *same_id = malloc(set->count * sizeof *same_id);
    if (same_key == NULL || same_id == NULL || earliest_same(set, keys, same_key, same_id) != 0) {
        free(same_key);
        free(same_id);
        report(rep, &set->rows[0], "out of memory while checking %zu rows for duplicates",
               set->count);
        return;
    }
    for (size_t i = 0; i < set->count; i++) {
        const struct import_row *r = &set->rows[i];
        size_t jk = same_key[i], ji = same_id[i];
        /* The clash with the earlier row; the name's when both are there. */
        if (jk != i && jk <= ji) {
            quote(q, sizeof q, r->username, r->ulen);
            report(rep, r, "the username %s is the same account as that of %s %ld", q, rep->unit,
                   set->rows[jk].where);
        } else if (ji != i) {
            report(rep, r, "the id %lld appears twice (also at %s %ld)", (long long)r->id,
                   rep->unit, set->rows[ji].where);
        }
    }
    free(same_key);
    free(same_id);
}

/* Inside tx: whether row i can be inserted. Returns STORE_OK and sets *skip
 * or reports a problem; another status when the database failed. */
static enum store_status check_taken(store *s, store_tx *tx, const struct import_row *r,
                                     const char *key, bool skip_existing, bool *skip,
                                     struct import_report *rep)
{
    struct store_user u;
    char q[400];
    enum store_status st = store_user_by_key(s, tx, key, &u);

    *skip = false;
    quote(q, sizeof q, r->username, r->ulen);
    if (st == STORE_OK) {
        sodium_memzero(u.password_hash, sizeof u.password_hash);
        if (!skip_existing) {
            report(rep, r, "the username %s exists already (--skip-existing skips such rows)", q);
            return STORE_OK;
        }
        if (r->id != 0 && u.id != r->id) {
            report(rep, r, "the username %s exists already, with another id", q);
            return STORE_OK;
        }
        *skip = true;
        return STORE_OK;
    }
    if (st != STORE_NOT_FOUND)
        return st;
    if (r->id == 0)
        return STORE_OK;
    st = store_user_by_id(s, tx, r->id, &u);
    sodium_memzero(u.password_hash, sizeof u.password_hash);
    if (st == STORE_OK) {
        char why[512];
        snprintf(why, sizeof why, "the id %lld of %s belongs to another user already",
                 (long long)r->id, q);
        rep->problems++;
        rep->problem(rep->arg, r, why);
        return STORE_OK;
    }
    return st == STORE_NOT_FOUND ? STORE_OK : st;
}

static enum import_result from_store(enum store_status st)
{
    return st == STORE_UNAVAILABLE ? IMPORT_UNAVAILABLE : IMPORT_ERROR;
}

enum import_result import_run(store *s, const struct import_set *set, bool skip_existing,
                              int64_t now, struct import_report *rep)
{
    char(*keys)[USERNAME_STORED_MAX + 1] = calloc(set->count + 1, sizeof *keys);
    bool *skip = calloc(set->count + 1, sizeof *skip);
    enum import_result res = IMPORT_OK;
    enum store_status st = STORE_OK;
    store_tx tx;

    rep->problems = rep->imported = rep->skipped = 0;
    if (keys == NULL || skip == NULL) {
        free(keys);
        free(skip);
        return IMPORT_ERROR;
    }
    check_rows(set, keys, rep);
    if (rep->problems > 0) {
        res = IMPORT_INVALID;
        goto done;
    }
    /* The checks against the table and the inserts share one transaction,
     * which takes the write lock up front on SQLite, so that what was
     * checked still holds when written. On PostgreSQL a registration racing
     * the import can still take a name: its insert then fails, and with it
     * the whole import. */
    st = store_begin(s, &tx);
    if (st != STORE_OK) {
        res = from_store(st);
        goto done;
    }
    for (size_t i = 0; st == STORE_OK && i < set->count; i++)
        st = check_taken(s, &tx, &set->rows[i], keys[i], skip_existing, &skip[i], rep);
    if (st == STORE_OK && rep->problems > 0) {
        store_rollback(&tx);
        res = IMPORT_INVALID;
        goto done;
    }
    bool kept_ids = false;
    for (size_t i = 0; st == STORE_OK && i < set->count; i++) {
        const struct import_row *r = &set->rows[i];
        struct store_user u;
        if (skip[i]) {
            rep->skipped++;
            continue;
        }
        if (r->id != 0) {
            st = store_user_import(s, &tx, r->id, r->username, keys[i], r->hash, now);
            kept_ids = true;
        } else {
            st = store_user_create(s, &tx, r->username, keys[i], r->hash, now, &u);
            sodium_memzero(u.password_hash, sizeof u.password_hash);
        }
        if (st == STORE_OK)
            rep->imported++;
    }
    if (st == STORE_OK && kept_ids)
        st = store_users_follow_ids(s, &tx);
    if (st == STORE_OK) {
        st = store_commit(&tx);
    } else {
        store_rollback(&tx);
    }
    if (st != STORE_OK) {
        rep->imported = rep->skipped = 0;
        if (st == STORE_CONFLICT) {
            log_error("a user was registered with a name or id of the import while it ran; "
                      "nothing was imported, try again");
            res = IMPORT_ERROR;
        } else {
            res = from_store(st);
        }
    }
done:
    free(keys);
    free(skip);
    return res;
}
