#ifndef GH_STORE_PGURL_H
#define GH_STORE_PGURL_H

/* PostgreSQL URLs in the forms SQLAlchemy users write, turned into libpq
 * connection keywords. Owned by the PostgreSQL driver (driver_pg.c); the
 * settings check (cli/config.c) calls pgurl_parse to refuse a bad DATABASE_URL
 * before anything connects.
 *
 *   postgresql://[user[:password]@][host][:port][/dbname][?key=value&...]
 *   postgres://...  postgresql+asyncpg://...  (also +psycopg2, +psycopg)
 *
 * user, password, host, dbname and query values are percent-decoded. host
 * may be a bracketed IPv6 address, a comma-separated list of host[:port], or
 * (percent-encoded) a Unix-socket directory. Query keys are libpq keywords
 * (sslmode, sslrootcert, application_name, connect_timeout, options,
 * target_session_attrs, ...); asyncpg's ssl=... is taken as sslmode and its
 * timeout=SECONDS (the connect timeout, a number) as connect_timeout, rounded
 * up. The other options of SQLAlchemy's engine and asyncpg that the
 * FastAPI app's URLs carry (prepared_statement_cache_size, command_timeout,
 * server_settings, pool_size, echo, ...) have no libpq
 * equivalent and are ignored, listed in struct pgurl's ignored for one
 * warning. Any other key libpq does not know is refused, so that a typo
 * (sslmod=require) never passes silently, and so is an '@' after the host (an
 * unencoded '/' or '?' in a password; %40 is an '@' in a database name or
 * query value). No error message ever holds the password. */

#include <stdbool.h>
#include <stddef.h>

struct pgurl {
    size_t n;    /* keyword count */
    size_t cap;  /* room in keys/vals, not counting the NULL terminators */
    char **keys; /* NULL-terminated, as PQconnectdbParams wants */
    char **vals; /* NULL-terminated; the password is wiped by pgurl_free */
    /* The SQLAlchemy and asyncpg options that were ignored, comma-separated
     * in the order given ("" when none), for the driver's one warning. */
    char ignored[256];
};

/* True when url names a PostgreSQL database by its scheme, well formed or not. */
bool pgurl_is_postgres(const char *url);

/* Parses url into out (which the caller frees with pgurl_free, also after a
 * failure). Returns 0, or -1 with a one-line reason, starting with
 * "DATABASE_URL: ", in err. */
int pgurl_parse(const char *url, struct pgurl *out, char *err, size_t errlen);

/* The value of keyword key, or NULL. */
const char *pgurl_get(const struct pgurl *u, const char *key);

/* Sets key to val, replacing an earlier value. Returns 0, or -1 out of memory. */
int pgurl_set(struct pgurl *u, const char *key, const char *val);

/* Writes "host:port/dbname" (defaults shown as libpq would pick them, no
 * user or password) into buf for log lines. Returns buf. */
char *pgurl_describe(const struct pgurl *u, char *buf, size_t cap);

/* Frees the keywords of u, wiping the values first. */
void pgurl_free(struct pgurl *u);

#endif
