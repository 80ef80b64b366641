/* gatehouse serve: open the store, serve until SIGTERM or SIGINT. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "cli/commands.h"
#include "cli/hostaddr.h"
#include "core/keyset.h"
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

/* Descriptors kept apart from client connections: the listening socket,
 * epoll, pipes, log and database files, beside one per database connection. */
#define FD_RESERVE 64

/* MAX_CONNECTIONS, within the descriptors the process may open. The soft
 * limit is raised to the hard one first (the soft one is often 1024, the
 * hard one far more); when even that is short, fewer connections are taken
 * and the log says so, rather than accept() failing with EMFILE. */
static unsigned connection_limit(const struct config *cfg)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)cfg->max_connections + FD_RESERVE + (rlim_t)cfg->db_pool_size;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return (unsigned)cfg->max_connections;
    if (rl.rlim_cur < want && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur >= want)
        return (unsigned)cfg->max_connections;
    rlim_t fit = rl.rlim_cur > FD_RESERVE + (rlim_t)cfg->db_pool_size + 16
                     ? rl.rlim_cur - FD_RESERVE - (rlim_t)cfg->db_pool_size
                     : 16;
    log_warn("MAX_CONNECTIONS %ld: only %llu descriptors may be open (RLIMIT_NOFILE); taking %llu "
             "connections",
             cfg->max_connections, (unsigned long long)rl.rlim_cur, (unsigned long long)fit);
    return (unsigned)fit;
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
    keyset *keys = NULL;
    pool *hashers = NULL, *dbw = NULL;
    http_server *srv = NULL, *msrv = NULL;
    int rc = EXIT_FAILURE;
    sigset_t sigs;
    char where[NI_MAXHOST + 16];
    revset *revoked = NULL;
    tokencache *verified = NULL;
    struct janitor janitor = {0};
    throttle *limits = NULL;
    struct netaddr_cidr *trusted = NULL;
    size_t ntrusted = 0;

    stopper_init(&janitor.thread);
    struct timespec started;
    clock_gettime(CLOCK_REALTIME, &started);
    double start_time = (double)started.tv_sec + (double)(started.tv_nsec / 1000000) / 1e3;

    /* cli_run has validated every setting, DATABASE_URL, SECRET_KEY and
     * HOST included: from here on a failure is not one of configuration. */
    (void)args;
    signal(SIGPIPE, SIG_IGN);

    struct keyset_config kc = {
        .algorithm = cfg->algorithm,
        .private_key = cfg->jwt_private_key_file,
        .verify_dir = cfg->jwt_verify_keys_dir,
        .params = {cfg->jwt_issuer, cfg->jwt_audience, cfg->jwt_leeway_seconds},
    };
    bool hs256 = strcmp(cfg->algorithm, "HS256") == 0;
    /* Key files are configuration: a bad one stops the start (exit 2)
     * before the database is touched. */
    if (!hs256 && (keys = keyset_open(&kc, err, sizeof err)) == NULL) {
        fprintf(stderr, "gatehouse: %s\n", err);
        return CLI_EXIT_USAGE;
    }

    /* By default one connection per hashing and per database worker
     * (DB_POOL_SIZE), so a worker never waits for a connection. */
    st = cli_store_open(cfg, (unsigned)cfg->db_pool_size, "gatehouse");
    if (st == NULL)
        goto done;
    /* With SQLite, revocations live in this process alone: a second server
     * on the file would never hear of them. */
    if (store_claim_sole_server(st, err, sizeof err) != STORE_OK) {
        fprintf(stderr, "gatehouse: %s\n", err);
        goto done;
    }
    if (hs256 && cfg->secret_key == NULL) {
        const char *dbpath = store_sqlite_path(st);
        bool generated = false;
        if (dbpath == NULL) {
            fprintf(stderr, "gatehouse: SECRET_KEY is required with this database\n");
            rc = CLI_EXIT_USAGE;
            goto done;
        }
        if (keyset_secret_beside(dbpath, &cfg->secret_key, &cfg->secret_key_len, &generated, err,
                                 sizeof err) != 0) {
            fprintf(stderr, "gatehouse: %s\n", err);
            goto done;
        }
        if (generated)
            log_info("generated a new SECRET_KEY into %s.secret", dbpath);
    }
    if (hs256) {
        kc.secret = cfg->secret_key;
        kc.secret_len = cfg->secret_key_len;
        keys = keyset_open(&kc, err, sizeof err);
    }
    if (keys != NULL && !hs256) {
        const keyset_gen *g = keyset_get(keys);
        log_info("signing access tokens with %s, kid %s (%zu verification keys)", cfg->algorithm,
                 jwt_key_kid(keyset_jwt(g)), jwt_key_count(keyset_jwt(g)));
        keyset_put(g);
    }
    struct password_policy policy = {cfg->password_hash, cfg->bcrypt_rounds,
                                     cfg->password_min_length};
    if (keys == NULL || password_init(&policy) != 0) {
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
    sigaddset(&sigs, SIGHUP);
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
    verified = tokencache_create((size_t)cfg->verify_cache_entries);
    if (revoked == NULL || (verified == NULL && cfg->verify_cache_entries > 0)) {
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
        .sessions = {st, keys, cfg->access_token_expire_minutes * 60, refresh_ttl,
                     cfg->jwt_leeway_seconds, revoked, verified},
        .cookies = {cfg->session_cookies, cfg->cookie_secure, cfg->allowed_origins},
        .metrics = {cfg->metrics, cfg->metrics_addrlen != 0, hashers, dbw, cfg->db_pool_size,
                    start_time},
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
        .max_connections = connection_limit(cfg),
        .max_connections_per_address = (unsigned)cfg->max_connections_per_address,
        .idle_timeout_s = (unsigned)cfg->idle_timeout_seconds,
        .header_timeout_s = (unsigned)cfg->header_timeout_seconds,
        .body_timeout_s = (unsigned)cfg->body_timeout_seconds,
        .access_log = cfg->access_log,
        .trusted_proxies = trusted,
        .ntrusted_proxies = ntrusted,
        .trusted_proxy_header = (enum forwarded_header)cfg->trusted_proxy_header_id,
        .count_metrics = true,
        .addr = cfg->listen_addr,
        .addrlen = cfg->listen_addrlen,
    };
    srv = http_start(&ho, api_routes, api_nroutes, &app, hashers, dbw, err, sizeof err);
    if (srv == NULL) {
        fprintf(stderr, "gatehouse: %s\n", err);
        goto done;
    }
    /* METRICS_ADDRESS: a listener of its own, one thread, /metrics and
     * /healthz only, so that the public one need not expose them. */
    if (cfg->metrics && cfg->metrics_addrlen != 0) {
        struct http_options mo = {
            .host = cfg->metrics_address,
            .port = (unsigned)cfg->metrics_port,
            .threads = 1,
            .max_connections = 64,
            .addr = cfg->metrics_addr,
            .addrlen = cfg->metrics_addrlen,
        };
        hostaddr_format((const struct sockaddr *)&cfg->metrics_addr, cfg->metrics_addrlen, where,
                        sizeof where);
        msrv = http_start(&mo, api_metrics_routes, api_metrics_nroutes, &app, hashers, dbw, err,
                          sizeof err);
        if (msrv == NULL) {
            fprintf(stderr, "gatehouse: METRICS_ADDRESS: %s\n", err);
            goto done;
        }
        log_info("metrics on http://%s/metrics", where);
    }
    hostaddr_format((const struct sockaddr *)&cfg->listen_addr, cfg->listen_addrlen, where,
                    sizeof where);
    log_info("listening on http://%s (HOST %s; %ld hashing + %ld database workers, database %s)",
             where, cfg->host, cfg->workers, cfg->db_workers,
             strncmp(cfg->database_url, "sqlite:", 7) == 0 ? "sqlite" : "postgresql");

    int sig = 0;
    /* SIGHUP reads the key files again; requests meanwhile keep the keys
     * they started with (core/keyset.h). */
    while (sigwait(&sigs, &sig) == 0 && sig == SIGHUP) {
        if (hs256)
            log_info("SIGHUP: HS256 has no key files to read again");
        else if (keyset_reload(keys, err, sizeof err) == 0)
            log_info("SIGHUP: keys reloaded");
        else
            log_warn("SIGHUP: keys not reloaded, the current ones stay: %s", err);
    }
    log_info("signal %d: finishing in-flight requests", sig);
    http_stop(msrv, 0);
    msrv = NULL;
    http_stop(srv, SHUTDOWN_GRACE_MS);
    srv = NULL;
    log_info("stopped");
    rc = EXIT_SUCCESS;
done:
    http_stop(msrv, 0);
    http_stop(srv, 0);
    stopper_stop(&janitor.thread);
    pool_destroy(hashers);
    pool_destroy(dbw);
    store_close(st); /* stops the revocation watch, which writes to revoked */
    revset_free(revoked);
    tokencache_free(verified);
    throttle_free(limits);
    free(trusted);
    keyset_close(keys);
    return rc;
}
