#include "cli/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <unistd.h>

enum kind { K_STRING, K_LONG, K_BOOL, K_SCHEME };

struct setting {
    const char *env;
    const char *flag;
    enum kind kind;
    size_t offset;
    const char *dflt; /* NULL: unset */
    long min, max;
    const char *help;
};

#define OFF(f) offsetof(struct config, f)

/* The one list of settings: parsing, defaults and --help all read it. */
static const struct setting settings[] = {
    {"DATABASE_URL", "--database-url", K_STRING, OFF(database_url), "sqlite:///gatehouse.db", 0, 0,
     "sqlite:///relative.db, sqlite:////absolute.db or "
     "postgresql://user:password@host:5432/database (also postgres://, postgresql+asyncpg://)"},
    {"SECRET_KEY", "--secret-key", K_STRING, OFF(secret_key), NULL, 0, 0,
     "HS256 signing key, at least 32 bytes; with SQLite generated into <database>.secret when "
     "unset"},
    {"ALGORITHM", "--algorithm", K_STRING, OFF(algorithm), "HS256", 0, 0,
     "JWS algorithm of access tokens (HS256)"},
    {"ACCESS_TOKEN_EXPIRE_MINUTES", "--access-token-expire-minutes", K_LONG,
     OFF(access_token_expire_minutes), "30", 1, 525600, "access token lifetime in minutes"},
    {"REFRESH_TOKEN_EXPIRE_DAYS", "--refresh-token-expire-days", K_LONG,
     OFF(refresh_token_expire_days), "30", 1, 3650, "session (refresh token) lifetime in days"},
    {"JWT_ISSUER", "--jwt-issuer", K_STRING, OFF(jwt_issuer), NULL, 0, 0,
     "iss claim issued and required (unset: none)"},
    {"JWT_AUDIENCE", "--jwt-audience", K_STRING, OFF(jwt_audience), NULL, 0, 0,
     "aud claim issued and required (unset: none)"},
    {"JWT_LEEWAY_SECONDS", "--jwt-leeway-seconds", K_LONG, OFF(jwt_leeway_seconds), "0", 0, 600,
     "clock skew allowed on exp and nbf"},
    {"HOST", "--host", K_STRING, OFF(host), "127.0.0.1", 0, 0, "IPv4 or IPv6 address to listen on"},
    {"PORT", "--port", K_LONG, OFF(port), "8000", 1, 65535, "TCP port to listen on"},
    {"BCRYPT_ROUNDS", "--bcrypt-rounds", K_LONG, OFF(bcrypt_rounds), "12", 4, 31,
     "bcrypt cost of new hashes (log2 of iterations)"},
    {"PASSWORD_HASH", "--password-hash", K_SCHEME, OFF(password_hash), "bcrypt", 0, 0,
     "scheme of new hashes: bcrypt or argon2id"},
    {"PASSWORD_MIN_LENGTH", "--password-min-length", K_LONG, OFF(password_min_length), "8", 1, 72,
     "minimum password length in Unicode code points"},
    {"WORKERS", "--workers", K_LONG, OFF(workers), NULL, 1, 256,
     "threads for password hashing and database work (default: CPU count)"},
    {"DB_WORKERS", "--db-workers", K_LONG, OFF(db_workers), "2", 1, 256,
     "threads for quick database work (/me, /readyz), apart from hashing"},
    {"QUEUE_SIZE", "--queue-size", K_LONG, OFF(queue_size), "128", 1, 65536,
     "jobs that may wait for a worker; past that: 503 + Retry-After"},
    {"HTTP_THREADS", "--http-threads", K_LONG, OFF(http_threads), "1", 1, 64,
     "HTTP event-loop threads"},
    {"MAX_CONNECTIONS", "--max-connections", K_LONG, OFF(max_connections), "4096", 1, 1000000,
     "concurrent client connections"},
    {"ACCESS_LOG", "--access-log", K_BOOL, OFF(access_log), "0", 0, 0,
     "log one line per request (1/0)"},
    {"DB_POOL_SIZE", "--db-pool-size", K_LONG, OFF(db_pool_size), NULL, 1, 1000,
     "database connections (default: WORKERS + DB_WORKERS)"},
    {"DB_CONNECT_TIMEOUT_SECONDS", "--db-connect-timeout-seconds", K_LONG,
     OFF(db_connect_timeout_seconds), "3", 1, 300,
     "PostgreSQL: wait this long for a connection; past it requests answer 503"},
    {"DB_STATEMENT_TIMEOUT_MS", "--db-statement-timeout-ms", K_LONG, OFF(db_statement_timeout_ms),
     "5000", 100, 3600000, "PostgreSQL: a statement running longer is cancelled (503)"},
};

#define NSETTINGS (sizeof settings / sizeof settings[0])

static int set_value(struct config *cfg, const struct setting *s, const char *v, char *err,
                     size_t errlen)
{
    char *base = (char *)cfg + s->offset;

    switch (s->kind) {
    case K_STRING: {
        char **dst = (char **)(void *)base;
        char *copy = strdup(v);
        if (copy == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if (*dst != NULL) {
            sodium_memzero(*dst, strlen(*dst));
            free(*dst);
        }
        *dst = copy;
        return 0;
    }
    case K_LONG: {
        char *end = NULL;
        errno = 0;
        long n = strtol(v, &end, 10);
        /* strtol would also take leading blanks and a '+'. */
        bool digits = (v[0] >= '0' && v[0] <= '9') || (v[0] == '-' && v[1] >= '0' && v[1] <= '9');
        if (!digits || errno != 0 || end == v || *end != '\0' || n < s->min || n > s->max) {
            snprintf(err, errlen, "%s: expected a whole number from %ld to %ld, got \"%.40s\"",
                     s->env, s->min, s->max, v);
            return -1;
        }
        *(long *)(void *)base = n;
        return 0;
    }
    case K_BOOL:
        if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0)
            *(bool *)(void *)base = true;
        else if (strcmp(v, "0") == 0 || strcmp(v, "false") == 0 || strcmp(v, "no") == 0)
            *(bool *)(void *)base = false;
        else {
            snprintf(err, errlen, "%s: expected 1 or 0, got \"%.40s\"", s->env, v);
            return -1;
        }
        return 0;
    case K_SCHEME:
        if (strcmp(v, "bcrypt") == 0)
            *(enum password_scheme *)(void *)base = PASSWORD_BCRYPT;
        else if (strcmp(v, "argon2id") == 0)
            *(enum password_scheme *)(void *)base = PASSWORD_ARGON2ID;
        else {
            snprintf(err, errlen, "%s: expected bcrypt or argon2id, got \"%.40s\"", s->env, v);
            return -1;
        }
        return 0;
    }
    return -1;
}

static const struct setting *find_flag(const char *arg, size_t len)
{
    for (size_t i = 0; i < NSETTINGS; i++)
        if (strlen(settings[i].flag) == len && strncmp(settings[i].flag, arg, len) == 0)
            return &settings[i];
    return NULL;
}

/* Checks that span several settings or need more than a range. */
static int validate(struct config *cfg, char *err, size_t errlen)
{
    if (strcmp(cfg->algorithm, "HS256") != 0) {
        snprintf(err, errlen, "ALGORITHM: only HS256 is supported, got \"%.40s\"", cfg->algorithm);
        return -1;
    }
    if (cfg->secret_key != NULL) {
        cfg->secret_key_len = strlen(cfg->secret_key);
        if (cfg->secret_key_len < 32) {
            snprintf(err, errlen,
                     "SECRET_KEY: must be at least 32 bytes, got %zu (try: openssl rand -hex 32)",
                     cfg->secret_key_len);
            return -1;
        }
    }
    if (cfg->host[0] == '\0') {
        snprintf(err, errlen, "HOST: must not be empty");
        return -1;
    }
    if (cfg->workers == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->workers = n > 0 ? n : 1;
    }
    if (cfg->db_pool_size == 0)
        cfg->db_pool_size = cfg->workers + cfg->db_workers;
    return 0;
}

int config_load(struct config *cfg, int argc, char **argv, int first, bool *help, char *err,
                size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    *help = false;
    for (size_t i = 0; i < NSETTINGS; i++)
        if (settings[i].dflt != NULL && set_value(cfg, &settings[i], settings[i].dflt, err, errlen))
            return -1;
    for (size_t i = 0; i < NSETTINGS; i++) {
        const char *v = getenv(settings[i].env);
        /* An empty variable counts as unset, as in most shells' "VAR= cmd". */
        if (v != NULL && v[0] != '\0' && set_value(cfg, &settings[i], v, err, errlen))
            return -1;
    }
    for (int i = first; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            *help = true;
            return 0;
        }
        const char *eq = strchr(arg, '=');
        size_t len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
        const struct setting *s = strncmp(arg, "--", 2) == 0 ? find_flag(arg, len) : NULL;
        if (s == NULL) {
            snprintf(err, errlen, "unknown argument \"%.60s\" (see --help)", arg);
            return -1;
        }
        const char *v = eq != NULL ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (v == NULL) {
            snprintf(err, errlen, "%s needs a value", s->flag);
            return -1;
        }
        if (set_value(cfg, s, v, err, errlen))
            return -1;
    }
    return validate(cfg, err, errlen);
}

void config_print_help(const char *progname)
{
    printf("Usage: %s [serve] [--flag value ...]\n"
           "       %s migrate [--flag value ...]\n"
           "       %s --help\n\n"
           "gatehouse: registers users, logs them in, issues JWT access tokens.\n\n"
           "Commands:\n"
           "  serve     serve HTTP (the default)\n"
           "  migrate   bring the database schema up to date and exit\n\n"
           "Settings (environment variable, flag, default; a flag wins over the variable):\n",
           progname, progname, progname);
    for (size_t i = 0; i < NSETTINGS; i++) {
        const struct setting *s = &settings[i];
        printf("  %-28s %-31s %s\n      %s\n", s->env, s->flag,
               s->dflt != NULL ? s->dflt : "(unset)", s->help);
    }
    printf("\nExit status: 0 success, 1 failure, 2 bad usage or configuration.\n");
}

void config_free(struct config *cfg)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        if (settings[i].kind != K_STRING)
            continue;
        char **p = (char **)(void *)((char *)cfg + settings[i].offset);
        if (*p != NULL) {
            sodium_memzero(*p, strlen(*p));
            free(*p);
            *p = NULL;
        }
    }
}
