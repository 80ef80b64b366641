#include "core/import.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/password.h"
#include "core/username.h"
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
    /* Quadratic, but an import is a one-off of a few thousand rows at most
     * compared with hashing, and it names both rows of every clash. */
    for (size_t i = 0; i < set->count; i++) {
        for (size_t j = 0; j < i; j++) {
            char why[512];
            const struct import_row *r = &set->rows[i];
            if (keys[i][0] != '\0' && strcmp(keys[i], keys[j]) == 0) {
                quote(q, sizeof q, r->username, r->ulen);
                snprintf(why, sizeof why, "the username %s is the same account as that of %s %ld",
                         q, rep->unit, set->rows[j].where);
                rep->problems++;
                rep->problem(rep->arg, r, why);
                break;
            }
            if (r->id != 0 && r->id == set->rows[j].id) {
                snprintf(why, sizeof why, "the id %lld appears twice (also at %s %ld)",
                         (long long)r->id, rep->unit, set->rows[j].where);
                rep->problems++;
                rep->problem(rep->arg, r, why);
                break;
            }
        }
    }
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
