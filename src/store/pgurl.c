/* PostgreSQL URLs to libpq keywords. We parse the URL ourselves instead of
 * handing it to libpq because libpq knows neither postgresql+asyncpg:// nor
 * asyncpg's ssl= parameter, and because our error messages must never echo
 * the password (libpq's sometimes quote the whole string). */
#include "store/pgurl.h"

#include "store/pq.h"
#include "util/pct.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const schemes[] = {
    "postgresql://",          "postgres://",           "postgresql+asyncpg://",
    "postgresql+psycopg2://", "postgresql+psycopg://",
};

#define NSCHEMES (sizeof schemes / sizeof schemes[0])

static size_t scheme_len(const char *url)
{
    for (size_t i = 0; i < NSCHEMES; i++) {
        size_t n = strlen(schemes[i]);
        if (strncmp(url, schemes[i], n) == 0)
            return n;
    }
    return 0;
}

bool pgurl_is_postgres(const char *url)
{
    return strncmp(url, "postgresql:", 11) == 0 || strncmp(url, "postgres:", 9) == 0 ||
           strncmp(url, "postgresql+", 11) == 0;
}

static void wipe_free(char *p)
{
    if (p != NULL) {
        explicit_bzero(p, strlen(p));
        free(p);
    }
}

void pgurl_free(struct pgurl *u)
{
    for (size_t i = 0; i < u->n; i++) {
        free(u->keys[i]);
        wipe_free(u->vals[i]);
    }
    free(u->keys);
    free(u->vals);
    memset(u, 0, sizeof *u);
}

const char *pgurl_get(const struct pgurl *u, const char *key)
{
    for (size_t i = 0; i < u->n; i++)
        if (strcmp(u->keys[i], key) == 0)
            return u->vals[i];
    return NULL;
}

int pgurl_set(struct pgurl *u, const char *key, const char *val)
{
    char *v = strdup(val);

    if (v == NULL)
        return -1;
    for (size_t i = 0; i < u->n; i++) {
        if (strcmp(u->keys[i], key) == 0) {
            wipe_free(u->vals[i]);
            u->vals[i] = v;
            return 0;
        }
    }
    if (u->n == u->cap) {
        size_t cap = u->cap != 0 ? u->cap * 2 : 8;
        char **k = realloc(u->keys, (cap + 1) * sizeof *k);
        if (k != NULL)
            u->keys = k;
        char **vs = k != NULL ? realloc(u->vals, (cap + 1) * sizeof *vs) : NULL;
        if (vs == NULL) {
            wipe_free(v);
            return -1;
        }
        u->vals = vs;
        u->cap = cap;
    }
    u->keys[u->n] = strdup(key);
    if (u->keys[u->n] == NULL) {
        wipe_free(v);
        return -1;
    }
    u->vals[u->n] = v;
    u->n++;
    u->keys[u->n] = NULL;
    u->vals[u->n] = NULL;
    return 0;
}

/* Decodes %XX escapes of s[0..len) into a new string. Returns NULL on a bad
 * escape, an encoded NUL (libpq strings end there) or no memory. */
static char *decode_dup(const char *s, size_t len)
{
    char *out = malloc(len + 1);
    size_t n = 0;

    if (out == NULL)
        return NULL;
    if (pct_decode(s, len, PCT_NO_NUL, out, len, &n) != PCT_OK) {
        explicit_bzero(out, len);
        free(out);
        return NULL;
    }
    out[n] = '\0';
    return out;
}

/* Decodes s[0..len) and sets it as key. what names the part in errors. */
static int set_decoded(struct pgurl *u, const char *key, const char *s, size_t len,
                       const char *what, char *err, size_t errlen)
{
    char *v = decode_dup(s, len);

    if (v == NULL) {
        snprintf(err, errlen, "DATABASE_URL: bad percent-encoding in the %s", what);
        return -1;
    }
    int rc = pgurl_set(u, key, v);
    wipe_free(v);
    if (rc != 0)
        snprintf(err, errlen, "out of memory");
    return rc;
}

static bool valid_port(const char *s, size_t len)
{
    long n = 0;

    if (len == 0 || len > 5)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        n = n * 10 + (s[i] - '0');
    }
    return n >= 1 && n <= 65535;
}

/* Appends s[0..len) to a growing buffer. */
static int append(char **buf, size_t *blen, const char *s, size_t len)
{
    char *b = realloc(*buf, *blen + len + 1);

    if (b == NULL)
        return -1;
    memcpy(b + *blen, s, len);
    *blen += len;
    b[*blen] = '\0';
    *buf = b;
    return 0;
}

/* host[:port], [v6][:port] or a comma-separated list of them. */
static int parse_hosts(struct pgurl *u, const char *s, size_t len, char *err, size_t errlen)
{
    char *hosts = NULL, *ports = NULL;
    size_t hlen = 0, plen = 0;
    bool any_port = false;
    int rc = -1;

    if (len == 0)
        return 0; /* libpq's default: the Unix socket, or PGHOST */
    const char *end = s + len;
    for (const char *p = s; p <= end;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *e = comma != NULL ? comma : end;
        const char *h = p, *he, *port = NULL;
        if (*h == '[') {
            const char *rb = memchr(h, ']', (size_t)(e - h));
            if (rb == NULL || rb == h + 1) {
                snprintf(err, errlen, "DATABASE_URL: bad [IPv6] host");
                goto out;
            }
            h++;
            he = rb;
            if (rb + 1 < e) {
                if (rb[1] != ':') {
                    snprintf(err, errlen, "DATABASE_URL: unexpected text after the [IPv6] host");
                    goto out;
                }
                port = rb + 2;
            }
        } else {
            const char *colon = memchr(h, ':', (size_t)(e - h));
            he = colon != NULL ? colon : e;
            port = colon != NULL ? colon + 1 : NULL;
        }
        if (port != NULL && !valid_port(port, (size_t)(e - port))) {
            snprintf(err, errlen, "DATABASE_URL: the port must be a number from 1 to 65535");
            goto out;
        }
        char *dh = decode_dup(h, (size_t)(he - h));
        if (dh == NULL || strchr(dh, ',') != NULL) {
            free(dh);
            snprintf(err, errlen, "DATABASE_URL: bad percent-encoding in the host");
            goto out;
        }
        /* One port per host (empty: the default), as libpq wants lists. */
        const char *sep = p != s ? "," : "";
        int bad = append(&hosts, &hlen, sep, strlen(sep)) != 0 ||
                  append(&hosts, &hlen, dh, strlen(dh)) != 0 ||
                  append(&ports, &plen, sep, strlen(sep)) != 0 ||
                  (port != NULL && append(&ports, &plen, port, (size_t)(e - port)) != 0);
        free(dh);
        if (bad) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        any_port |= port != NULL;
        p = e + 1;
    }
    if (hlen > 0 && pgurl_set(u, "host", hosts) != 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (any_port && pgurl_set(u, "port", ports) != 0) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    rc = 0;
out:
    free(hosts);
    free(ports);
    return rc;
}

/* True when libpq knows key as a connection keyword. */
static bool libpq_knows(const PQconninfoOption *opts, const char *key)
{
    for (const PQconninfoOption *o = opts; o != NULL && o->keyword != NULL; o++)
        if (strcmp(o->keyword, key) == 0)
            return true;
    return false;
}

/* asyncpg spells sslmode "ssl" and also takes true/false. */
static const char *asyncpg_ssl(const char *v)
{
    static const char *const modes[] = {"disable", "allow",     "prefer",
                                        "require", "verify-ca", "verify-full"};

    if (strcmp(v, "true") == 0)
        return "require";
    if (strcmp(v, "false") == 0)
        return "disable";
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(v, modes[i]) == 0)
            return v;
    return NULL;
}

/* True when key is an option of SQLAlchemy's engine or asyncpg's connect
 * that gatehouse accepts in a URL and ignores: libpq has no equivalent. */
static bool pgurl_ignored(const char *key)
{
    /* asyncpg's connect() (statement caches, its per-operation timeout, its
     * way to pass server settings, direct TLS) and SQLAlchemy's (its async
     * fallback, logging and pool options, which old URLs sometimes carry).
     * gatehouse prepares its statements once per connection and has its
     * own timeouts and pool (DB_STATEMENT_TIMEOUT_MS, DB_POOL_SIZE). */
    static const char *const keys[] = {
        "prepared_statement_cache_size",
        "statement_cache_size",
        "max_cached_statement_lifetime",
        "max_cacheable_statement_size",
        "command_timeout",
        "server_settings",
        "direct_tls",
        "async_fallback",
        "echo",
        "echo_pool",
        "future",
        "pool_size",
        "max_overflow",
        "pool_timeout",
        "pool_recycle",
        "pool_pre_ping",
        "pool_use_lifo",
    };

    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(key, keys[i]) == 0)
            return true;
    return false;
}

/* Adds key to u->ignored once. The list is for a log line: one longer than
 * the buffer ends in "...". */
static void note_ignored(struct pgurl *u, const char *key)
{
    size_t have = strlen(u->ignored), klen = strlen(key);

    for (const char *p = u->ignored; (p = strstr(p, key)) != NULL; p += klen)
        if ((p == u->ignored || p[-1] == ' ') && (p[klen] == ',' || p[klen] == '\0'))
            return;
    if (have + klen + 2 + 4 >= sizeof u->ignored) {
        if (have + 4 < sizeof u->ignored && strstr(u->ignored, "...") == NULL)
            snprintf(u->ignored + have, sizeof u->ignored - have, ", ...");
        return;
    }
    snprintf(u->ignored + have, sizeof u->ignored - have, "%s%s", have > 0 ? ", " : "", key);
}

/* asyncpg's timeout: the seconds a connection may take, a float (60 when
 * absent). libpq's connect_timeout counts whole seconds, so it is rounded
 * up; NULL unless v is a positive number of at most a day. */
static const char *asyncpg_timeout(const char *v, char *buf, size_t cap)
{
    char *end = NULL;
    double d;

    if (*v < '0' || *v > '9')
        return NULL;
    d = strtod(v, &end);
    if (end == v || *end != '\0' || !(d > 0) || d > 86400)
        return NULL;
    long secs = (long)d;
    if ((double)secs < d)
        secs++;
    snprintf(buf, cap, "%ld", secs);
    return buf;
}

/* True when the query q may hold a password: a "password" parameter, or
 * a name written with percent-encoding (which could spell it). */
static bool query_has_password(const char *q)
{
    for (;;) {
        size_t len = strcspn(q, "&");
        size_t klen = strcspn(q, "=&");
        if ((klen == 8 && strncmp(q, "password", 8) == 0) || memchr(q, '%', klen) != NULL)
            return true;
        if (q[len] == '\0')
            return false;
        q += len + 1;
    }
}

/* True when s is printable ASCII: what an error message may quote. */
static bool printable(const char *s)
{
    for (; *s != '\0'; s++)
        if (*s < 0x20 || *s > 0x7e)
            return false;
    return true;
}

static int parse_query(struct pgurl *u, const char *q, char *err, size_t errlen)
{
    PQconninfoOption *opts;
    int rc = -1;
    /* With a password among the parameters, an unknown name is not shown:
     * an unencoded '&' in that password makes its rest pass for a
     * parameter, name and all, and the message would show that part of it.
     * (A password in the user information cannot spill into the query: an
     * unencoded '?' in it leaves an '@' after the host, refused above.) */
    bool hide_names = query_has_password(q);

    if (pq_load(err, errlen) != 0)
        return -1;
    opts = PQconndefaults();
    if (opts == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    while (*q != '\0') {
        const char *amp = strchr(q, '&');
        size_t len = amp != NULL ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', len);
        if (len == 0) {
            q += amp != NULL ? 1 : 0;
            continue;
        }
        if (eq == NULL || eq == q) {
            snprintf(err, errlen, "DATABASE_URL: query parameters must be key=value");
            goto out;
        }
        char *key = decode_dup(q, (size_t)(eq - q));
        char *val = decode_dup(eq + 1, (size_t)(q + len - eq - 1));
        if (key == NULL || val == NULL) {
            free(key);
            wipe_free(val);
            snprintf(err, errlen, "DATABASE_URL: bad percent-encoding in a query parameter");
            goto out;
        }
        int bad = 0;
        if (strcmp(key, "ssl") == 0) {
            const char *mode = asyncpg_ssl(val);
            if (mode == NULL) {
                snprintf(err, errlen,
                         "DATABASE_URL: ssl must be disable, allow, prefer, require, verify-ca "
                         "or verify-full");
                bad = 1;
            } else if (pgurl_set(u, "sslmode", mode) != 0) {
                snprintf(err, errlen, "out of memory");
                bad = 1;
            }
        } else if (strcmp(key, "timeout") == 0) {
            char buf[24];
            const char *secs = asyncpg_timeout(val, buf, sizeof buf);
            if (secs == NULL) {
                snprintf(err, errlen,
                         "DATABASE_URL: timeout must be a positive number of seconds "
                         "(asyncpg's connect timeout)");
                bad = 1;
            } else if (pgurl_set(u, "connect_timeout", secs) != 0) {
                snprintf(err, errlen, "out of memory");
                bad = 1;
            }
        } else if (pgurl_ignored(key)) {
            note_ignored(u, key);
        } else if (!libpq_knows(opts, key) && !printable(key)) {
            /* Quoted, a decoded %0a would end the log line early and
             * forge the next one. */
            snprintf(err, errlen,
                     "DATABASE_URL: unknown parameter (its name holds a control or non-ASCII "
                     "character)");
            bad = 1;
        } else if (!libpq_knows(opts, key) && hide_names) {
            snprintf(err, errlen,
                     "DATABASE_URL: unknown parameter (its name is not shown, as it may be part "
                     "of the password: percent-encode '&' in a password as %%26)");
            bad = 1;
        } else if (!libpq_knows(opts, key)) {
            snprintf(err, errlen,
                     "DATABASE_URL: unknown parameter \"%.40s\" (libpq connection keywords "
                     "such as sslmode, application_name, connect_timeout, and the SQLAlchemy "
                     "and asyncpg options the README lists)",
                     key);
            bad = 1;
        } else if (pgurl_set(u, key, val) != 0) {
            snprintf(err, errlen, "out of memory");
            bad = 1;
        }
        free(key);
        wipe_free(val);
        if (bad)
            goto out;
        q += len + (amp != NULL ? 1 : 0);
    }
    rc = 0;
out:
    PQconninfoFree(opts);
    return rc;
}

int pgurl_parse(const char *url, struct pgurl *out, char *err, size_t errlen)
{
    size_t sl = scheme_len(url);

    memset(out, 0, sizeof *out);
    if (sl == 0) {
        snprintf(err, errlen,
                 "DATABASE_URL: expected postgresql://user:password@host:port/database "
                 "(also postgres:// or postgresql+asyncpg://)");
        return -1;
    }
    const char *rest = url + sl;
    if (strchr(rest, '#') != NULL) {
        snprintf(err, errlen,
                 "DATABASE_URL: a URL fragment (#...) is not allowed; "
                 "percent-encode # in a password as %%23");
        return -1;
    }
    const char *query = strchr(rest, '?');
    const char *qend = query != NULL ? query : rest + strlen(rest);
    const char *slash = memchr(rest, '/', (size_t)(qend - rest));
    const char *aend = slash != NULL ? slash : qend;

    /* An '@' after the host nearly always ends user information whose
     * password holds an unencoded '/' or '?': the password's first part
     * would pass for a port (when it is a number), the rest for the
     * database name or the query, and so end up in log lines and error
     * messages. The rare '@' that belongs to a database name or a query
     * value is written %40. */
    if (strchr(aend, '@') != NULL) {
        snprintf(err, errlen,
                 "DATABASE_URL: '@' after the host; percent-encode '/', '?' and '@' in the "
                 "user name and password (%%2F, %%3F, %%40)");
        return -1;
    }
    /* The last '@' of the authority ends the user information, so that an
     * unencoded '@' in a password still parses as the user meant. */
    const char *at = NULL;
    for (const char *p = rest; p < aend; p++)
        if (*p == '@')
            at = p;
    const char *host = rest;
    if (at != NULL) {
        const char *colon = memchr(rest, ':', (size_t)(at - rest));
        const char *uend = colon != NULL ? colon : at;
        if (uend > rest &&
            set_decoded(out, "user", rest, (size_t)(uend - rest), "user name", err, errlen) != 0)
            return -1;
        if (colon != NULL && set_decoded(out, "password", colon + 1, (size_t)(at - colon - 1),
                                         "password", err, errlen) != 0)
            return -1;
        host = at + 1;
    }
    if (parse_hosts(out, host, (size_t)(aend - host), err, errlen) != 0)
        return -1;
    if (slash != NULL && qend > slash + 1 &&
        set_decoded(out, "dbname", slash + 1, (size_t)(qend - slash - 1), "database name", err,
                    errlen) != 0)
        return -1;
    if (query != NULL && parse_query(out, query + 1, err, errlen) != 0)
        return -1;
    return 0;
}

char *pgurl_describe(const struct pgurl *u, char *buf, size_t cap)
{
    const char *host = pgurl_get(u, "host");
    const char *port = pgurl_get(u, "port");
    const char *db = pgurl_get(u, "dbname");

    snprintf(buf, cap, "%.200s:%.40s/%.100s", host != NULL ? host : "(local socket)",
             port != NULL ? port : "5432", db != NULL ? db : "(default)");
    return buf;
}
