/* The original FastAPI app's users, read straight from its PostgreSQL
 * database for an import: one read-only transaction on a connection of its
 * own, outside the store (the app's database need not be gatehouse's). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pgurl.h"
#include "store/pq.h"
#include "store/store.h"

/* Copies a libpq message into err as one line. */
static void one_line_error(char *err, size_t errlen, const char *what, const char *msg)
{
    snprintf(err, errlen, "%s: %s", what, msg);
    for (char *p = err; *p != '\0'; p++)
        if (*p == '\n' || *p == '\r')
            *p = *(p + 1) == '\0' ? '\0' : ' ';
}

/* Connects to the app's database at url, with connect_timeout_s unless the
 * URL sets its own and app as application_name: only when the URL names
 * none, or always when app_over_url. NULL with err set when it cannot; the
 * caller PQfinish()es the connection. */
static PGconn *legacy_connect(const char *url, unsigned connect_timeout_s, const char *app,
                              bool app_over_url, char *err, size_t errlen)
{
    struct pgurl u = {0};
    char timeout[16];

    if (pq_load(err, errlen) != 0)
        return NULL;
    if (pgurl_parse(url, &u, err, errlen) != 0) {
        pgurl_free(&u);
        return NULL;
    }
    snprintf(timeout, sizeof timeout, "%u", connect_timeout_s);
    if ((pgurl_get(&u, "connect_timeout") == NULL &&
         pgurl_set(&u, "connect_timeout", timeout) != 0) ||
        ((app_over_url || pgurl_get(&u, "application_name") == NULL) &&
         pgurl_set(&u, "application_name", app) != 0)) {
        snprintf(err, errlen, "out of memory");
        pgurl_free(&u);
        return NULL;
    }
    PGconn *pg = PQconnectdbParams((const char *const *)u.keys, (const char *const *)u.vals, 0);
    pgurl_free(&u);
    if (pg == NULL || PQstatus(pg) != CONNECTION_OK) {
        one_line_error(err, errlen, "cannot connect",
                       pg != NULL ? PQerrorMessage(pg) : "out of memory");
        PQfinish(pg);
        return NULL;
    }
    return pg;
}

int store_legacy_users(const char *url, unsigned connect_timeout_s,
                       int (*each)(void *arg, int64_t id, const char *username, size_t ulen,
                                   const char *hash),
                       void *arg, char *err, size_t errlen)
{
    int rc = -1;
    PGconn *pg =
        legacy_connect(url, connect_timeout_s, "gatehouse users import", false, err, errlen);

    if (pg == NULL)
        return -1;
    /* READ ONLY: the server itself refuses any write, whatever happens
     * here. The rows come in id order so that reports follow the table. */
    PGresult *r = PQexec(pg, "BEGIN READ ONLY");
    if (PQresultStatus(r) == PGRES_COMMAND_OK) {
        PQclear(r);
        r = PQexec(pg, "SELECT id, username, hashed_password FROM \"user\" ORDER BY id");
    }
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        one_line_error(err, errlen, "reading table \"user\"", PQerrorMessage(pg));
    } else {
        rc = 0;
        for (int i = 0; rc == 0 && i < PQntuples(r); i++) {
            char *end = NULL;
            const char *idtext = PQgetisnull(r, i, 0) ? "" : PQgetvalue(r, i, 0);
            errno = 0;
            long long id = strtoll(idtext, &end, 10);
            const char *name = PQgetisnull(r, i, 1) ? "" : PQgetvalue(r, i, 1);
            if (idtext[0] == '\0' || *end != '\0' || errno != 0) {
                snprintf(err, errlen, "table \"user\": row %d has no numeric id", i + 1);
                rc = -1;
                break;
            }
            if (each(arg, id, name, strlen(name),
                     PQgetisnull(r, i, 2) ? NULL : PQgetvalue(r, i, 2)) != 0) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
            }
        }
    }
    PQclear(r);
    PQfinish(pg);
    return rc;
}

/* Runs sql on pg; true when it gave one row whose first column is "t". */
static bool query_true(PGconn *pg, const char *sql, bool *ok)
{
    PGresult *r = PQexec(pg, sql);
    bool t = false;

    *ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (*ok)
        t = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return t;
}

int store_legacy_waiting(const char *url, unsigned connect_timeout_s, bool *waiting, char *err,
                         size_t errlen)
{
    bool ok = false;

    *waiting = false;
    PGconn *pg = legacy_connect(url, connect_timeout_s, "gatehouse", true, err, errlen);
    if (pg == NULL)
        return -1;
    /* Two statements: the second names "user", which must exist for it to
     * parse. EXISTS stops at the first row: constant time. */
    if (query_true(pg, "SELECT to_regclass('\"user\"') IS NOT NULL", &ok) && ok)
        *waiting = query_true(pg,
                              "SELECT EXISTS (SELECT 1 FROM \"user\") AND "
                              "NOT EXISTS (SELECT 1 FROM users)",
                              &ok);
    if (!ok)
        one_line_error(err, errlen, "looking for table \"user\"", PQerrorMessage(pg));
    PQfinish(pg);
    return ok ? 0 : -1;
}
