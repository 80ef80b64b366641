#ifndef GH_STORE_STORE_H
#define GH_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

/* The storage interface. One implementation per backend (store_sqlite.c,
 * store_pg.c); every function is safe to call from any worker thread.
 * Functions return a store_status; nothing here knows about HTTP. */

typedef struct store store;

enum store_status {
    STORE_OK = 0,
    STORE_NOT_FOUND,   /* no such row */
    STORE_CONFLICT,    /* a unique index refused the row (username taken) */
    STORE_UNAVAILABLE, /* the database cannot be reached or is locked: retry later */
    STORE_ERROR,       /* anything else; logged where it happened */
};

#define STORE_USERNAME_MAX 64
#define STORE_HASH_MAX     128
#define STORE_ID_MAX       64

struct store_user {
    int64_t id;
    char username[STORE_USERNAME_MAX + 1];
    char password_hash[STORE_HASH_MAX];
    int64_t created_at; /* Unix seconds */
};

struct store_session {
    char id[STORE_ID_MAX + 1]; /* the token's sid */
    int64_t user_id;
    unsigned char refresh_hash[32]; /* SHA-256 of the refresh token */
    int64_t created_at, expires_at;
};

/* The backend of a URL, or NULL when the scheme is not one we serve. */
struct store_backend {
    const char *name;
    /* Opens the database of url with room for nconns concurrent users. */
    enum store_status (*open)(const char *url, unsigned nconns, store **out, char *err,
                              size_t errlen);
};

/* Opens the store named by url (see the README's DATABASE_URL forms) and
 * brings its schema up to date. err receives a one-line reason on failure. */
enum store_status store_open(const char *url, unsigned nconns, store **out, char *err,
                             size_t errlen);

/* How a store connects; a zero field takes the default in brackets. */
struct store_options {
    unsigned nconns;               /* connections in the pool [1] */
    unsigned connect_timeout_s;    /* PostgreSQL: wait for one connection [3] */
    unsigned statement_timeout_ms; /* PostgreSQL: the server cancels a longer statement [5000] */
    unsigned start_wait_s;         /* PostgreSQL: retry an unreachable server [3 × connect] */
};

/* store_open with options. A PostgreSQL store connects and migrates before it
 * returns (STORE_UNAVAILABLE when the server stayed unreachable for
 * start_wait_s); afterwards a lost server makes calls answer STORE_UNAVAILABLE
 * within about connect_timeout_s + statement_timeout_ms, and the pool
 * reconnects by itself once the server is back. */
enum store_status store_open_with(const char *url, const struct store_options *opt, store **out,
                                  char *err, size_t errlen);

/* Closes every connection and frees s. */
void store_close(store *s);

/* The file a SQLite store lives in (for the generated secret key beside it),
 * or NULL for a server database. */
const char *store_sqlite_path(const store *s);

/* STORE_OK when the database answers a trivial query. */
enum store_status store_ping(store *s);

/* Inserts a user; the unique index on username_key decides duplicates
 * (STORE_CONFLICT), never a prior read. Fills out->id and created_at. */
enum store_status store_user_create(store *s, const char *username, const char *username_key,
                                    const char *password_hash, int64_t now, struct store_user *out);

/* Looks a user up by lower-cased username. */
enum store_status store_user_by_key(store *s, const char *username_key, struct store_user *out);

/* Looks a user up by id. */
enum store_status store_user_by_id(store *s, int64_t id, struct store_user *out);

/* Inserts a session row (one per login). */
enum store_status store_session_create(store *s, const struct store_session *sess);

/* Parses a sqlite:/// URL into a file path (malloc'd, caller frees).
 * Returns NULL when url is not a SQLite URL or is malformed. */
char *store_sqlite_url_path(const char *url);

#endif
