#ifndef GH_CORE_IMPORT_H
#define GH_CORE_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct store store; /* store/store.h */

/* Importing users with the password hashes another system made (the
 * original FastAPI app's passlib bcrypt, or argon2id): every row is checked
 * before any is written, and all are written in one transaction, so an
 * import is whole or nothing. The rules of a new name do not apply: a name
 * only has to be storable (username_storable), since the users keep the
 * names they have. */

/* One user to import. where is the row's place in its source (a line of a
 * file, or the id of a database row), for the reports. */
struct import_row {
    long where;
    int64_t id; /* the id to keep, or 0 for a new one */
    char *username;
    size_t ulen; /* bytes; the name may hold a NUL, which is refused */
    char *hash;
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

/* Frees the rows, wiping the hashes first. */
void import_set_free(struct import_set *set);

struct import_report {
    /* Called once for every row that stops the import, with a one-line
     * reason (the name, when shown, is quoted with its bytes escaped). */
    void (*problem)(void *arg, const struct import_row *row, const char *why);
    void *arg;
    const char *unit; /* what where counts, in reports of two rows ("line") */
    size_t problems, imported, skipped;
};

enum import_result {
    IMPORT_OK,          /* every row imported, or skipped as asked */
    IMPORT_INVALID,     /* rows were reported; nothing was written */
    IMPORT_UNAVAILABLE, /* the database could not be reached; nothing written */
    IMPORT_ERROR,       /* anything else (logged); nothing written */
};

/* Checks every row of set (a storable name, a known hash format, no name or
 * id twice in the set), then, in one transaction, that no name or id is
 * taken in s, and inserts them all, moving the id source past the ids kept.
 * With skip_existing, a row whose name is taken is skipped instead (its id,
 * when it keeps one, must then be that user's or free). Reports go to rep. */
enum import_result import_run(store *s, const struct import_set *set, bool skip_existing,
                              int64_t now, struct import_report *rep);

#endif
