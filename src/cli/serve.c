/* gatehouse serve: open the store, serve until SIGTERM or SIGINT. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "cli/commands.h"
#include "cli/hostaddr.h"
#include "core/jwt.h"
#include "core/password.h"
#include "core/revocation.h"
#include "core/sessions.h"
#include "core/throttle.h"
#include "http/server.h"
#include "store/store.h"
#include "util/log.h"
#include "util/pool.h"
#include "util/stopper.h"
#include "util/timefmt.h"

#define SHUTDOWN_GRACE_MS 30000

/* Reads the key file beside a SQLite database, creating it (0600, 256 random
 * bits as hex) when absent. O_EXCL makes two instances starting at once agree
 * on one key. Returns 0, or -1 with a reason in err. */
static int load_secret_file(struct config *cfg, const char *dbpath, char *err, size_t errlen)
{
    char path[4096], buf[256];
    unsigned char raw[32];
    int fd;

    if ((size_t)snprintf(path, sizeof path, "%s.secret", dbpath) >= sizeof path) {
        snprintf(err, errlen, "DATABASE_URL: path too long");
        return -1;
    }
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        char hex[65];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
        hex[64] = '\n';
        bool ok = write(fd, hex, sizeof hex) == (ssize_t)sizeof hex && fsync(fd) == 0;
        sodium_memzero(hex, sizeof hex);
        sodium_memzero(raw, sizeof raw);
        close(fd);
        if (!ok) {
            unlink(path);
            snprintf(err, errlen, "cannot write %.300s: %s", path, strerror(errno));
            return -1;
        }
        log_info("generated a new SECRET_KEY into %s", path);
    } else if (errno != EEXIST) {
        snprintf(err, errlen, "cannot create %.300s: %s", path, strerror(errno));
        return -1;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "cannot read %.300s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if ((st.st_mode & 077) != 0) {
        close(fd);
        snprintf(err, errlen, "%.300s is readable by other users; chmod 600 it", path);
        return -1;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    if (n < 32) {
        snprintf(err, errlen, "%.300s: the key must be at least 32 bytes", path);
        return -1;
    }
    buf[n] = '\0';
    cfg->secret_key = strdup(buf);
    cfg->secret_key_len = (size_t)n;
    sodium_memzero(buf, sizeof buf);
    return cfg->secret_key != NULL ? 0 : -1;
}

/* The janitor: every SESSION_PURGE_INTERVAL_SECONDS, deletes the sessions
 * and revocations that have expired (sessions_purge), so that the tables
 * and the revocation set do not grow without end. */
struct janitor {
    struct stopper thread;
    const struct sessions_deps *sessions;
    int interval_ms;
};

static void *janitor_main(void *arg)
{
    struct janitor *j = arg;

    while (!stopper_wait(&j->thread, j->interval_ms))
        sessions_purge(j->sessions, timefmt_now());
    return NULL;
}

int serve_command(struct config *cfg, const struct cli_args *args)
{
    char err[512] = "";
    store *st = NULL;
    jwt_key *jwt = NULL;
    pool *hashers = NULL, *dbw = NULL;
    http_server *srv = NULL;
    int rc = EXIT_FAILURE;
    sigset_t sigs;
    char where[NI_MAXHOST + 16];
    revset *revoked = NULL;
    struct janitor janitor = {0};
    throttle *limits = NULL;
    struct netaddr_cidr *trusted = NULL;
    size_t ntrusted = 0;

    stopper_init(&janitor.thread);

    /* cli_run has validated every setting, DATABASE_URL, SECRET_KEY and
     * HOST included: from here on a failure is not one of configuration. */
    (void)args;
    signal(SIGPIPE, SIG_IGN);

    /* By default one connection per hashing and per database worker
     * (DB_POOL_SIZE), so a worker never waits for a connection. */
    st = cli_store_open(cfg, (unsigned)cfg->db_pool_size, "gatehouse");
    if (st == NULL)
        return EXIT_FAILURE;
    /* With SQLite, revocations live in this process alone: a second server
     * on the file would never hear of them. */
    if (store_claim_sole_server(st, err, sizeof err) != STORE_OK) {
        fprintf(stderr, "gatehouse: %s\n", err);
        goto done;
    }
    if (cfg->secret_key == NULL) {
        const char *dbpath = store_sqlite_path(st);
        if (dbpath == NULL) {
            fprintf(stderr, "gatehouse: SECRET_KEY is required with this database\n");
            rc = CLI_EXIT_USAGE;
            goto done;
        }
        if (load_secret_file(cfg, dbpath, err, sizeof err) != 0) {
            fprintf(stderr, "gatehouse: %s\n", err);
            goto done;
        }
    }
    struct jwt_params jp = {cfg->jwt_issuer, cfg->jwt_audience, cfg->jwt_leeway_seconds};
    jwt = jwt_key_create(cfg->secret_key, cfg->secret_key_len, &jp);
    struct password_policy policy = {cfg->password_hash, cfg->bcrypt_rounds,
                                     cfg->password_min_length};
    if (jwt == NULL || password_init(&policy) != 0) {
        fprintf(stderr, "gatehouse: cannot set up signing or hashing\n");
        goto done;
    }
    /* The schemes of the stored hashes, which an unknown name's dummy check
     * must cost too (after PASSWORD_HASH changed, or an import). */
    static const struct {
        const char *like;
        enum password_scheme scheme;
    } schemes[] = {{"$2%", PASSWORD_BCRYPT}, {"$argon2id$%", PASSWORD_ARGON2ID}};
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        bool found = false;
        enum store_status found_rc = store_users_hash_like(st, schemes[i].like, &found);
        if (found_rc != STORE_OK)
            log_warn("cannot tell whether %s hashes are stored; assuming they are",
                     schemes[i].scheme == PASSWORD_BCRYPT ? "bcrypt" : "argon2id");
        if (found_rc != STORE_OK || found)
            password_scheme_in_use(schemes[i].scheme);
    }
    /* From here SIGTERM and SIGINT are taken by sigwait below, and every
     * thread inherits the mask. Not earlier: until now a signal simply ends
     * the process, which has acknowledged nothing yet (a start-up stuck on
     * an unreachable database must stay killable). */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    /* Hashers run at nice +5, so that the HTTP thread and quick queries come
     * first when logins saturate the CPUs. Measured under /verify at 64
     * connections plus 4 logging-in clients: nice 0 gave /verify p99 8 ms
     * and 4.7 logins/s; +5, 5.5 ms and 2.7/s; +10, 5.4 ms but 1.1/s. */
    hashers = pool_create((unsigned)cfg->workers, (unsigned)cfg->queue_size, 5);
    dbw = pool_create((unsigned)cfg->db_workers, (unsigned)cfg->queue_size, 0);
    if (hashers == NULL || dbw == NULL) {
        fprintf(stderr, "gatehouse: cannot start %ld + %ld worker threads\n", cfg->workers,
                cfg->db_workers);
        goto done;
    }
    revoked = revset_create();
    if (revoked == NULL) {
        fprintf(stderr, "gatehouse: out of memory\n");
        goto done;
    }
    struct throttle_limits tl = {
        .address_failures = (unsigned)cfg->throttle_address_failures,
        .account_failures = (unsigned)cfg->throttle_account_failures,
        .lockout_s = (unsigned)cfg->throttle_lockout_seconds,
        .lockout_max_s = (unsigned)cfg->throttle_lockout_max_seconds,
        .forget_s = (unsigned)cfg->throttle_forget_seconds,
        .registrations = (unsigned)cfg->throttle_registrations,
        .registration_window_s = (unsigned)cfg->throttle_registration_window_seconds,
        .table_size = (unsigned)cfg->throttle_table_size,
        .hash_jobs = (unsigned)cfg->hash_jobs_per_address,
    };
    limits = throttle_create(&tl);
    /* Validated by config_parse; parsed again here for the server. */
    if (limits == NULL ||
        (cfg->trusted_proxies != NULL &&
         netaddr_cidrs_parse(cfg->trusted_proxies, &trusted, &ntrusted, err, sizeof err) != 0)) {
        fprintf(stderr, "gatehouse: out of memory\n");
        goto done;
    }
    long refresh_ttl = cfg->refresh_token_expire_seconds != 0
                           ? cfg->refresh_token_expire_seconds
                           : cfg->refresh_token_expire_days * 86400;
    struct api_ctx app = {
        .users = {st, &policy},
        .sessions = {st, jwt, cfg->access_token_expire_minutes * 60, refresh_ttl,
                     cfg->jwt_leeway_seconds, revoked},
        .cookies = {cfg->session_cookies, cfg->cookie_secure, cfg->allowed_origins},
        .throttle = limits,
    };
    /* The revoked sessions first, then the threads that keep them current
     * (after the signal mask: they must not take SIGTERM). */
    if (sessions_start(&app.sessions) != 0) {
        fprintf(stderr, "gatehouse: cannot load the revoked sessions from the database\n");
        goto done;
    }
    janitor.sessions = &app.sessions;
    janitor.interval_ms = (int)cfg->session_purge_interval_seconds * 1000;
    if (stopper_start(&janitor.thread, janitor_main, &janitor) != 0) {
        fprintf(stderr, "gatehouse: cannot start the session purge thread\n");
        goto done;
    }
    struct http_options ho = {
        .host = cfg->host,
        .port = (unsigned)cfg->port,
        .threads = (unsigned)cfg->http_threads,
        .max_connections = (unsigned)cfg->max_connections,
        .access_log = cfg->access_log,
        .trusted_proxies = trusted,
        .ntrusted_proxies = ntrusted,
        .addr = cfg->listen_addr,
        .addrlen = cfg->listen_addrlen,
    };
    srv = http_start(&ho, api_routes, api_nroutes, &app, hashers, dbw, err, sizeof err);
    if (srv == NULL) {
        fprintf(stderr, "gatehouse: %s\n", err);
        goto done;
    }
    hostaddr_format((const struct sockaddr *)&cfg->listen_addr, cfg->listen_addrlen, where,
                    sizeof where);
    log_info("listening on http://%s (HOST %s; %ld hashing + %ld database workers, database %s)",
             where, cfg->host, cfg->workers, cfg->db_workers,
             strncmp(cfg->database_url, "sqlite:", 7) == 0 ? "sqlite" : "postgresql");

    int sig = 0;
    sigwait(&sigs, &sig);
    log_info("signal %d: finishing in-flight requests", sig);
    http_stop(srv, SHUTDOWN_GRACE_MS);
    srv = NULL;
    log_info("stopped");
    rc = EXIT_SUCCESS;
done:
    http_stop(srv, 0);
    stopper_stop(&janitor.thread);
    pool_destroy(hashers);
    pool_destroy(dbw);
    store_close(st); /* stops the revocation watch, which writes to revoked */
    revset_free(revoked);
    throttle_free(limits);
    free(trusted);
    jwt_key_free(jwt);
    return rc;
}
