#ifndef GH_CORE_IMPORT_H
#define GH_CORE_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store; /* store/store.h */

/* Importing users with the password hashes another system made (the
 * original FastAPI app's passlib bcrypt, or argon2id): every row is checked
 * before any is written, and all are written in one transaction, so an
 * import is whole or nothing unless told to leave the bad rows out. The
 * rules of a new name do not apply: a name only has to be storable
 * (username_storable), since the users keep the names they have. */

/* The highest id an import keeps. Registrations take ids past the highest
 * one, so an id near 2^63 - 1 would leave none (every registration would
 * fail); this leaves 2^63 - 1 - 9 * 10^18, about 2.2 * 10^17. */
#define IMPORT_ID_MAX INT64_C(9000000000000000000)

/* One user to import. where is the row's place in its source (a line of a
 * file, or the id of a database row), for the reports. */
struct import_row {
    long where;
    int64_t id; /* the id to keep, or 0 for a new one */
    char *username;
    size_t ulen; /* bytes; the name may hold a NUL, which is refused */
    char *hash;
    char *refused; /* why the source refused the row already, or NULL */
};

/* The rows of one import; owns its strings. */
struct import_set {
    struct import_row *rows;
    size_t count, cap;
};

/* Appends a row, copying username (ulen bytes) and hash (NULL: none).
 * Returns 0, or -1 out of memory. */
int import_set_add(struct import_set *set, long where, int64_t id, const char *username,
                   size_t ulen, const char *hash);

/* Marks the last row added as refused by its source (a malformed record),
 * copying why. Returns 0, or -1 out of memory. */
int import_set_refuse_last(struct import_set *set, const char *why);

/* Frees the rows, wiping the hashes first. */
void import_set_free(struct import_set *set);

struct import_options {
    bool skip_existing; /* skip a row imported already (same name and id) */
    bool skip_invalid;  /* import the other rows when some are refused */
    bool new_ids;       /* give a row whose id another user has a new id */
};

struct import_report {
    /* Called once for every refused row, in the order of the rows, with a
     * one-line reason (several joined by "; "; the name, when shown, is
     * quoted with its bytes escaped). */
    void (*problem)(void *arg, const struct import_row *row, const char *why);
    /* Called for each row given a new id (new_ids), when the import
     * commits; may be NULL. */
    void (*new_id)(void *arg, const struct import_row *row, int64_t id);
    void *arg;
    const char *unit; /* what where counts, in reports of two rows ("line") */
    size_t problems;  /* rows refused */
    size_t imported, skipped, renumbered;
};

enum import_result {
    IMPORT_OK,          /* every row imported, or skipped as asked */
    IMPORT_INVALID,     /* rows were reported; nothing was written */
    IMPORT_UNAVAILABLE, /* the database could not be reached; nothing written */
    IMPORT_ERROR,       /* anything else (logged); nothing written */
};

/* Checks every row of set (a storable name, a known hash format within the
 * cost bounds, an id from 1 to IMPORT_ID_MAX, no name or id twice in the
 * set), then, in one transaction, that no name or id is taken in s, and
 * inserts them, moving the id source past the ids kept. Options:
 * skip_existing skips a row whose name is taken by the user of its id (a
 * row without an id: by anyone; with new_ids: also by a user whose hash is
 * the row's, the row imported earlier under a new id); new_ids inserts a
 * row whose id another user has with a new id instead of refusing it;
 * skip_invalid inserts the other rows when rows are refused (IMPORT_OK then,
 * with rep->problems rows refused). Reports go to rep. */
enum import_result import_run(store *s, const struct import_set *set,
                              const struct import_options *opt, int64_t now,
                              struct import_report *rep);

#endif
