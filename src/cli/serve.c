/* gatehouse serve: open the store, serve until SIGTERM or SIGINT.
 *
 * Start-up is a sequence of steps, each a function that returns 0 or the
 * exit status to stop with, having logged why (log_fatal): open the keys,
 * listen, open the store, build the context, start serving; then wait for a
 * signal and stop. serve_free undoes whatever was done. */
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "cli/commands.h"
#include "cli/hostaddr.h"
#include "cli/listenfd.h"
#include "core/authzreq.h"
#include "core/flows.h"
#include "core/i18n.h"
#include "core/jwk.h"
#include "core/keyset.h"
#include "core/mail.h"
#include "core/oidc.h"
#include "core/password.h"
#include "core/revocation.h"
#include "core/rules.h"
#include "core/sessions.h"
#include "core/throttle.h"
#include "core/totp.h"
#include "http/server.h"
#include "store/pgurl.h"
#include "store/store.h"
#include "util/log.h"
#include "util/pool.h"
#include "util/stopper.h"
#include "util/timefmt.h"
#include "util/numfmt.h"

#define WHO "gatehouse"

/* Descriptors kept apart from client connections: the listening socket,
 * epoll, pipes, log and database files, beside one per database connection. */
#define FD_RESERVE 64

/* Connections the kernel queues for accept. */
#define LISTEN_BACKLOG 1024

/* The janitor: every SESSION_PURGE_INTERVAL_SECONDS, deletes the sessions
 * and revocations that have expired (sessions_purge) and the mailed tokens
 * used or expired (emails_purge) and the sign-in flows likewise
 * (flows_purge) and the OpenID Connect codes (oidc_purge) and the audit
 * events past AUDIT_RETENTION_DAYS, so that the tables and the revocation
 * set do not grow without end; at start and on each round it also resolves the password requests
 * left waiting (a crash after the answer, a full queue). */
struct janitor {
    struct stopper thread;
    const struct sessions_deps *sessions;
    const struct emails_deps *emails;
    int interval_ms;
    int64_t audit_retention_s; /* AUDIT_RETENTION_DAYS */
};

/* What serving holds, in the order the steps make it. */
struct serve {
    struct config *cfg;
    bool hs256;
    double start_time;
    keyset *keys;
    /* The OpenID Connect provider's key (core/oidc.h): NULL while it is
     * off (no PUBLIC_URL); keys itself when it shares JWT_PRIVATE_KEY_FILE
     * (oidc_keys_own false). */
    keyset *oidc_keys;
    bool oidc_keys_own;
    struct mailer *mailer;     /* NULL: mail is off */
    rules_ref *rules;          /* ACCESS_RULES_FILE's current rules (none when unset) */
    tls *tls;                  /* TLS_CERT_FILE and TLS_KEY_FILE; NULL: plain HTTP */
    int listen_fd, metrics_fd; /* -1 once handed to the HTTP server, or when none */
    bool inherited;            /* listen_fd came from systemd (cli/listenfd.h) */
    store *st;
    struct password_policy policy;
    sigset_t sigs;
    pool *hashers, *dbw;
    revset *revoked;
    tokencache *verified;
    throttle *limits;
    struct janitor janitor;
    char *origins_text;   /* WEBAUTHN_ORIGINS, split by passkeys_context */
    const char **origins; /* its origins */
    struct api_ctx app;
    http_server *srv, *msrv;
};

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

/* The audit events older than AUDIT_RETENTION_DAYS go. */
static void audit_purge(store *s, int64_t before)
{
    int64_t n = 0;

    if (store_audit_purge(s, before, &n) != STORE_OK)
        log_warn("the purge of old audit events failed; the next round tries again");
    else if (n > 0)
        log_info("%lld audit events older than AUDIT_RETENTION_DAYS deleted", (long long)n);
}

static void *janitor_main(void *arg)
{
    struct janitor *j = arg;

    if (j->emails->mailer != NULL)
        emails_resolve_pending(j->emails);
    while (!stopper_wait(&j->thread, j->interval_ms)) {
        sessions_purge(j->sessions, timefmt_now());
        emails_purge(j->emails, timefmt_now());
        flows_purge(j->emails->store, timefmt_now());
        authzreq_purge(j->emails->store, timefmt_now());
        oidc_purge(j->emails->store, timefmt_now());
        audit_purge(j->emails->store, timefmt_now() - j->audit_retention_s);
        if (j->emails->mailer != NULL)
            emails_resolve_pending(j->emails);
    }
    return NULL;
}

/* The OpenID Connect provider's own key file path (setting names it in
 * messages), whatever its algorithm. -1 having logged why. */
static int open_oidc_key(struct serve *sv, const char *path, const char *setting)
{
    char err[512] = "";
    struct keyset_config kc = {.algorithm = NULL, .setting = setting, .private_key = path};

    if ((sv->oidc_keys = keyset_open(&kc, err, sizeof err)) == NULL) {
        log_fatal(WHO, "%s", err);
        return -1;
    }
    sv->oidc_keys_own = true;
    return 0;
}

/* Step 1. The asymmetric key files are configuration: a bad one stops the
 * start (exit 2) before anything is opened. HS256's key may live beside the
 * database, so it waits for open_store. */
static int open_keys(struct serve *sv)
{
    const struct config *cfg = sv->cfg;
    char err[512] = "";
    struct keyset_config kc = {
        .algorithm = cfg->algorithm,
        .private_key = cfg->jwt_private_key_file,
        .verify_dir = cfg->jwt_verify_keys_dir,
        .params = {cfg->jwt_issuer, cfg->jwt_audience, cfg->jwt_leeway_seconds},
    };

    if (cfg->oidc_private_key_file != NULL &&
        open_oidc_key(sv, cfg->oidc_private_key_file, "OIDC_PRIVATE_KEY_FILE") != 0)
        return CLI_EXIT_USAGE;
    if (sv->hs256)
        return 0;
    if ((sv->keys = keyset_open(&kc, err, sizeof err)) == NULL) {
        log_fatal(WHO, "%s", err);
        return CLI_EXIT_USAGE;
    }
    const keyset_gen *g = keyset_get(sv->keys);
    size_t nkeys = jwt_key_count(keyset_jwt(g));
    log_info("signing access tokens with %s, kid %s (%zu verification %s)", cfg->algorithm,
             jwt_key_kid(keyset_jwt(g)), nkeys, numfmt_plural((long long)nkeys, "key", "keys"));
    keyset_put(g);
    return 0;
}

/* Logs the certificate served now (what, then its fingerprint and end of
 * validity); one expired is a warning: clients refuse it. */
static void log_tls_certificate(tls *t, const char *what)
{
    char fp[65], until[32] = "an unknown date";
    time_t not_after;

    tls_fingerprint(t, fp, &not_after);
    if (not_after != (time_t)-1)
        timefmt_rfc3339(until, sizeof until, (int64_t)not_after);
    if (not_after != (time_t)-1 && (int64_t)not_after < timefmt_now())
        log_warn("%s the certificate of SHA-256 %s, which EXPIRED at %s: clients refuse it", what,
                 fp, until);
    else
        log_info("%s the certificate of SHA-256 %s, valid until %s", what, fp, until);
}

/* Step 1a. TLS_CERT_FILE and TLS_KEY_FILE are configuration too: a file
 * that cannot be read, is open to others, or a key of another certificate
 * stops the start (exit 2), naming the setting and the file. */
static int open_tls(struct serve *sv)
{
    const struct config *cfg = sv->cfg;
    char err[1024] = "";

    if (cfg->tls_cert_file == NULL)
        return 0;
    if ((sv->tls = tls_open(cfg->tls_cert_file, cfg->tls_key_file, err, sizeof err)) == NULL) {
        log_fatal(WHO, "%s", err);
        return CLI_EXIT_USAGE;
    }
    log_tls_certificate(sv->tls, "serving HTTPS (TLS 1.2 and 1.3) with");
    /* Cookies without Secure would also go out over plain HTTP to this
     * host, e.g. to a proxy or a second listener of the same name. */
    if (!cfg->cookie_secure)
        log_warn("COOKIE_SECURE=0 with TLS: the cookies lack Secure and a browser sends them over "
                 "plain HTTP too");
    return 0;
}

/* Step 1b. With SMTP_URL, the mailer: libcurl and the mail templates,
 * which are configuration (a bad template stops the start with exit 2). */
static int open_mail(struct serve *sv)
{
    bool failed = false;

    sv->mailer = cli_mailer_open(sv->cfg, WHO, &failed);
    return failed ? CLI_EXIT_USAGE : 0;
}

/* Step 1c. ACCESS_RULES_FILE, configuration like the key files: a bad one
 * stops the start (exit 2) with its FILE:LINE. Unset: no rules and no
 * reference to them (app.rules NULL), so that /verify takes no lock for
 * them; DEFAULT_POLICY decides every request. */
static int open_rules(struct serve *sv)
{
    const struct config *cfg = sv->cfg;
    char err[512] = "";
    rules *r = NULL;

    if (cfg->access_rules_file == NULL)
        return 0;
    if ((r = rules_load(cfg->access_rules_file, err, sizeof err)) == NULL) {
        log_fatal(WHO, "ACCESS_RULES_FILE: %s", err);
        return CLI_EXIT_USAGE;
    }
    log_info("access rules: %zu loaded from %s (default policy %s)", rules_count(r),
             cfg->access_rules_file, cfg->default_policy);
    if ((sv->rules = rules_ref_new(r, cfg->access_rules_file)) == NULL) {
        log_fatal(WHO, "out of memory");
        return EXIT_FAILURE;
    }
    return 0;
}

/* Step 2. Binds the listening sockets, or takes the one systemd passed,
 * before the database is opened or created: a port in use must leave no
 * gatehouse.db and no .secret behind. */
static int listen_sockets(struct serve *sv)
{
    const struct config *cfg = sv->cfg;
    char err[512];

    int got = listenfd_inherited(&sv->listen_fd, &sv->cfg->listen_addr, &sv->cfg->listen_addrlen,
                                 err, sizeof err);
    if (got < 0) {
        log_fatal(WHO, "%s", err);
        return CLI_EXIT_USAGE;
    }
    sv->inherited = got == 1;
    if (sv->inherited)
        log_info("the listening socket came from systemd (LISTEN_FDS): HOST and PORT are ignored");
    else
        sv->listen_fd = hostaddr_listen(&cfg->listen_addr, cfg->listen_addrlen, LISTEN_BACKLOG, err,
                                        sizeof err);
    if (sv->listen_fd < 0) {
        log_fatal(WHO, "%s", err);
        return EXIT_FAILURE;
    }
    if (cfg->metrics && cfg->metrics_addrlen != 0) {
        sv->metrics_fd =
            hostaddr_listen(&cfg->metrics_addr, cfg->metrics_addrlen, 64, err, sizeof err);
        if (sv->metrics_fd < 0) {
            log_fatal(WHO, "METRICS_ADDRESS: %s", err);
            return EXIT_FAILURE;
        }
    }
    return 0;
}

/* HS256 without SECRET_KEY: the key kept beside the SQLite file. */
static int secret_beside_database(struct serve *sv)
{
    struct config *cfg = sv->cfg;
    const char *dbpath = store_sqlite_path(sv->st);
    bool generated = false;
    char err[512];

    if (dbpath == NULL) {
        log_fatal(WHO, "SECRET_KEY is required with this database");
        return CLI_EXIT_USAGE;
    }
    if (keyset_secret_beside(dbpath, &cfg->secret_key, &cfg->secret_key_len, &generated, err,
                             sizeof err) != 0) {
        log_fatal(WHO, "%s", err);
        return EXIT_FAILURE;
    }
    if (generated)
        log_info("generated a new SECRET_KEY into %s.secret", dbpath);
    return 0;
}

/* The schemes of the stored hashes, which an unknown name's dummy check
 * must cost too (after PASSWORD_HASH changed, or an import). A read of the
 * small table migration 5 keeps, whatever the number of users. */
static void note_stored_schemes(store *st)
{
    static const struct {
        const char *like, *name;
        enum password_scheme scheme;
    } schemes[] = {{"$2%", "bcrypt", PASSWORD_BCRYPT},
                   {"$argon2id$%", "argon2id", PASSWORD_ARGON2ID}};
    char list[64] = "";

    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        bool found = false;
        enum store_status rc = store_users_hash_like(st, schemes[i].like, &found);
        if (rc != STORE_OK)
            log_warn("cannot tell whether %s hashes are stored; assuming they are",
                     schemes[i].name);
        if (rc != STORE_OK || found) {
            password_scheme_in_use(schemes[i].scheme);
            size_t n = strlen(list);
            snprintf(list + n, sizeof list - n, "%s%s", n > 0 ? ", " : "", schemes[i].name);
        }
    }
    log_info("password schemes stored: %s", list[0] != '\0' ? list : "none");
}

/* The original FastAPI app's table "user" with rows, and no gatehouse user
 * yet: the operator has most likely not imported them. One line says how. */
static void hint_import(const struct config *cfg)
{
    bool waiting = false;
    char err[512];

    if (!pgurl_is_postgres(cfg->database_url))
        return;
    if (store_legacy_waiting(cfg->database_url, (unsigned)cfg->db_connect_timeout_seconds, &waiting,
                             err, sizeof err) != 0) {
        log_debug("cannot tell whether the original app's users await an import: %s", err);
        return;
    }
    if (waiting)
        log_warn("table \"user\" of the original app has users and gatehouse has none: to let "
                 "them log in, run: gatehouse users import --from-database \"$DATABASE_URL\"");
}

/* Step 3. Opens (and migrates) the store, claims it, and readies signing
 * and hashing. */
static int open_store(struct serve *sv)
{
    struct config *cfg = sv->cfg;
    char err[512] = "";

    /* By default one connection per hashing and per database worker
     * (DB_POOL_SIZE), so a worker never waits for a connection. */
    if ((sv->st = cli_store_open(cfg, (unsigned)cfg->db_pool_size, WHO)) == NULL)
        return EXIT_FAILURE;
    /* With SQLite, revocations live in this process alone: a second server
     * on the file would never hear of them. */
    if (store_claim_sole_server(sv->st, err, sizeof err) != STORE_OK) {
        log_fatal(WHO, "%s", err);
        return EXIT_FAILURE;
    }
    if (sv->hs256) {
        int rc = cfg->secret_key == NULL ? secret_beside_database(sv) : 0;
        if (rc != 0)
            return rc;
        struct keyset_config kc = {
            .algorithm = cfg->algorithm,
            .secret = cfg->secret_key,
            .secret_len = cfg->secret_key_len,
            .params = {cfg->jwt_issuer, cfg->jwt_audience, cfg->jwt_leeway_seconds},
        };
        if ((sv->keys = keyset_open(&kc, err, sizeof err)) == NULL) {
            log_fatal(WHO, "%s", err);
            return EXIT_FAILURE;
        }
    }
    sv->policy =
        (struct password_policy){cfg->password_hash, cfg->bcrypt_rounds, cfg->password_min_length};
    if (password_init(&sv->policy) != 0) {
        log_fatal(WHO, "cannot set up password hashing");
        return EXIT_FAILURE;
    }
    note_stored_schemes(sv->st);
    hint_import(cfg);
    return 0;
}

/* Step 3b. The OpenID Connect provider (API.md, "Single sign-on"): on
 * with PUBLIC_URL, its issuer. Its key: OIDC_PRIVATE_KEY_FILE (step 1),
 * else JWT_PRIVATE_KEY_FILE's keys with an asymmetric ALGORITHM, else one
 * kept beside the SQLite database; PostgreSQL with HS256 has no place to
 * keep one. A registered client that could not be served stops the start,
 * naming what is missing: better than sign-ins that fail later. */
static int open_oidc(struct serve *sv)
{
    const struct config *cfg = sv->cfg;
    bool registered = false;
    char err[512];

    if (oidc_enabled(sv->st, &registered) != OUTCOME_OK) {
        log_fatal(WHO, "cannot read the OpenID Connect clients from the database");
        return EXIT_FAILURE;
    }
    if (cfg->public_url == NULL) {
        if (!registered)
            return 0;
        log_fatal(WHO, "an OpenID Connect client is registered, and the provider needs "
                       "PUBLIC_URL (its issuer): set PUBLIC_URL, or delete the clients "
                       "(gatehouse clients delete)");
        return CLI_EXIT_USAGE;
    }
    if (sv->oidc_keys == NULL && !sv->hs256)
        sv->oidc_keys = sv->keys;
    const char *dbpath = store_sqlite_path(sv->st);
    if (sv->oidc_keys == NULL && dbpath != NULL) {
        char *path = NULL;
        bool generated = false;
        if (keyset_key_beside(dbpath, &path, &generated, err, sizeof err) != 0) {
            log_fatal(WHO, "the OpenID Connect key: %s", err);
            return EXIT_FAILURE;
        }
        if (generated)
            log_info("generated the OpenID Connect signing key (RS256) into %s", path);
        int rc = open_oidc_key(sv, path, "the OpenID Connect key");
        free(path);
        if (rc != 0)
            return EXIT_FAILURE;
    }
    if (sv->oidc_keys == NULL) {
        if (!registered) {
            log_warn("the OpenID Connect provider is off: with ALGORITHM HS256 and PostgreSQL it "
                     "needs OIDC_PRIVATE_KEY_FILE");
            return 0;
        }
        log_fatal(WHO, "an OpenID Connect client is registered, and with ALGORITHM HS256 and "
                       "PostgreSQL the provider needs OIDC_PRIVATE_KEY_FILE (an RSA key: gatehouse "
                       "keys generate --alg RS256)");
        return CLI_EXIT_USAGE;
    }
    const keyset_gen *g = keyset_get(sv->oidc_keys);
    const jwt_key *k = keyset_jwt(g);
    log_info("OpenID Connect: issuer %s, signing with %s, kid %s", cfg->public_url,
             jwk_alg_name(jwk_alg_of(jwt_key_at(k, 0))), jwt_key_kid(k));
    keyset_put(g);
    return 0;
}

/* The passkeys' part of the context (core/passkeys.h): off without an RP
 * id (cli/pubaddr.h); WEBAUTHN_ORIGINS split into its origins; the key of
 * the fake credential ids from SECRET_KEY, else MFA_ENCRYPTION_KEY, so
 * that a name's fake ids are the same on every instance and after a
 * restart (random without either: they then change at each start). */
static int passkeys_context(struct serve *sv)
{
    const struct config *cfg = sv->cfg;
    struct passkeys_deps *d = &sv->app.passkeys;
    size_t n = 1;

    *d = (struct passkeys_deps){.store = sv->st, .users = &sv->app.users, .rp_name = WHO};
    if (cfg->secret_key != NULL)
        passkeys_handle_key(d->handle_key, cfg->secret_key, cfg->secret_key_len);
    else
        passkeys_handle_key(d->handle_key, cfg->mfa_encryption_key,
                            cfg->mfa_encryption_key != NULL ? strlen(cfg->mfa_encryption_key) : 0);
    if (cfg->webauthn_rp_id == NULL || cfg->webauthn_origins == NULL)
        return 0;
    for (const char *c = cfg->webauthn_origins; *c != '\0'; c++)
        n += *c == ',';
    sv->origins_text = strdup(cfg->webauthn_origins);
    sv->origins = calloc(n, sizeof *sv->origins);
    if (sv->origins_text == NULL || sv->origins == NULL) {
        log_fatal(WHO, "out of memory");
        return EXIT_FAILURE;
    }
    char *p = sv->origins_text;
    for (size_t i = 0; i < n; i++) {
        sv->origins[i] = p;
        p += strcspn(p, ",");
        if (*p == ',')
            *p++ = '\0';
    }
    d->rp_id = cfg->webauthn_rp_id;
    d->origins = sv->origins;
    d->norigins = n;
    return 0;
}

/* The otpauth issuer: PUBLIC_URL's host (normalised by validation:
 * scheme "://" host [":" port] [path]), else "gatehouse". */
static const char *mfa_issuer(const char *url, char *buf, size_t cap)
{
    const char *h = url != NULL ? strstr(url, "://") : NULL;

    if (h == NULL)
        return "gatehouse";
    h += 3;
    size_t n = h[0] == '[' ? strcspn(h, "]") + 1 : strcspn(h, ":/");
    if (n == 0 || n >= cap || n > strlen(h))
        return "gatehouse";
    memcpy(buf, h, n);
    buf[n] = '\0';
    return buf;
}

/* TOTP and recovery codes (core/mfa.h): liboath, and the keys of the
 * secrets. Without MFA_ENCRYPTION_KEY or SECRET_KEY (an asymmetric
 * ALGORITHM) there is no key to seal them with: TOTP is off, and says so. */
static int open_mfa(struct serve *sv)
{
    const struct config *cfg = sv->cfg;
    const char *mk = cfg->mfa_encryption_key;
    char issuer[256];

    if (totp_init() != 0) {
        log_fatal(WHO, "cannot initialise liboath");
        return -1;
    }
    mfa_deps_init(&sv->app.mfa, sv->st, mk, mk != NULL ? strlen(mk) : 0, cfg->secret_key,
                  cfg->secret_key_len, mfa_issuer(cfg->public_url, issuer, sizeof issuer));
    if (!sv->app.mfa.keyed)
        log_warn("TOTP is off: set MFA_ENCRYPTION_KEY (at least 32 bytes) to let users turn it "
                 "on (ALGORITHM %s needs no SECRET_KEY to derive one from)",
                 cfg->algorithm);
    return 0;
}

/* Step 4. The threads and the shared state every request reads. */
static int build_context(struct serve *sv)
{
    const struct config *cfg = sv->cfg;

    /* From here SIGTERM and SIGINT are taken by sigwait (wait_for_signal),
     * and every thread inherits the mask. Not earlier: until now a signal
     * simply ends the process, which has acknowledged nothing yet (a
     * start-up stuck on an unreachable database must stay killable). */
    /* The pages' catalogues are part of the binary: a broken one is a
     * build's fault, found here rather than on the first page. */
    char why[300];
    if (i18n_init(why, sizeof why) != 0) {
        log_fatal(WHO, "%s", why);
        return EXIT_FAILURE;
    }
    sigemptyset(&sv->sigs);
    sigaddset(&sv->sigs, SIGTERM);
    sigaddset(&sv->sigs, SIGINT);
    sigaddset(&sv->sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sv->sigs, NULL);
    /* Hashers run at nice +5, so that the HTTP thread and quick queries come
     * first when logins saturate the CPUs. Measured under /verify at 64
     * connections plus 4 logging-in clients: nice 0 gave /verify p99 8 ms
     * and 4.7 logins/s; +5, 5.5 ms and 2.7/s; +10, 5.4 ms but 1.1/s. */
    sv->hashers = pool_create((unsigned)cfg->workers, (unsigned)cfg->queue_size, 5);
    sv->dbw = pool_create((unsigned)cfg->db_workers, (unsigned)cfg->queue_size, 0);
    if (sv->hashers == NULL || sv->dbw == NULL) {
        log_fatal(WHO, "cannot start %ld + %ld worker threads", cfg->workers, cfg->db_workers);
        return EXIT_FAILURE;
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
        .mail_requests = (unsigned)cfg->throttle_mail_requests,
        .mail_window_s = (unsigned)cfg->throttle_mail_window_seconds,
        .authz_requests = (unsigned)cfg->throttle_authz_requests,
        .authz_window_s = AUTHZREQ_TTL_SECONDS,
    };
    sv->revoked = revset_create();
    sv->verified = tokencache_create((size_t)cfg->verify_cache_entries);
    sv->limits = throttle_create(&tl);
    if (sv->revoked == NULL || (sv->verified == NULL && cfg->verify_cache_entries > 0) ||
        sv->limits == NULL) {
        log_fatal(WHO, "out of memory");
        return EXIT_FAILURE;
    }
    long refresh_ttl = cfg->refresh_token_expire_seconds != 0
                           ? cfg->refresh_token_expire_seconds
                           : cfg->refresh_token_expire_days * 86400;
    sv->app = (struct api_ctx){
        .users = {sv->st, &sv->policy},
        .sessions = {sv->st, sv->keys, config_access_ttl(cfg), refresh_ttl, cfg->jwt_leeway_seconds,
                     sv->revoked, sv->verified},
        .cookies = {cfg->session_cookies, cfg->cookie_secure, cfg->allowed_origins,
                    cfg->cookie_domain},
        .public_url = {cfg->public_url, cfg->public_origin_len},
        .metrics = {cfg->metrics, cfg->metrics_addrlen != 0, sv->hashers, sv->dbw,
                    cfg->db_pool_size, sv->start_time},
        .throttle = sv->limits,
        .emails = {sv->st, &sv->app.users, &sv->app.sessions, sv->mailer, sv->limits,
                   cfg->mail_min_interval_seconds, cfg->email_token_expire_minutes * 60,
                   cfg->reset_token_expire_minutes * 60},
        .db_jobs = sv->dbw,
    };
    sv->app.mailer = sv->mailer;
    sv->app.rules = sv->rules;
    sv->app.default_policy = (enum rules_policy)cfg->default_policy_id;
    /* Without PUBLIC_URL (no issuer) the provider is off even when
     * OIDC_PRIVATE_KEY_FILE is set: no key, as api_oidc_on reads it. */
    sv->app.oidc =
        (struct oidc_deps){&sv->app.sessions, cfg->public_url != NULL ? sv->oidc_keys : NULL,
                           cfg->public_url, config_access_ttl(cfg)};
    if (passkeys_context(sv) != 0)
        return EXIT_FAILURE;
    if (open_mfa(sv) != 0)
        return EXIT_FAILURE;
    /* The revoked sessions first, then the threads that keep them current
     * (after the signal mask: they must not take SIGTERM). */
    if (sessions_start(&sv->app.sessions) != 0) {
        log_fatal(WHO, "cannot load the revoked sessions from the database");
        return EXIT_FAILURE;
    }
    /* The outbox's sender, after the signal mask like the janitor. */
    if (sv->mailer != NULL && mail_start(sv->mailer, sv->st) != 0) {
        log_fatal(WHO, "cannot start the mail sender thread");
        return EXIT_FAILURE;
    }
    sv->janitor.sessions = &sv->app.sessions;
    sv->janitor.emails = &sv->app.emails;
    sv->janitor.interval_ms = (int)cfg->session_purge_interval_seconds * 1000;
    sv->janitor.audit_retention_s = (int64_t)cfg->audit_retention_days * 86400;
    if (stopper_start(&sv->janitor.thread, janitor_main, &sv->janitor) != 0) {
        log_fatal(WHO, "cannot start the session purge thread");
        return EXIT_FAILURE;
    }
    return 0;
}

/* Step 5. Serves on the sockets listen_sockets bound. */
static int start_http(struct serve *sv)
{
    const struct config *cfg = sv->cfg;
    char err[512] = "", where[NI_MAXHOST + 16];
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
        .trusted_proxies = cfg->trusted,
        .ntrusted_proxies = cfg->ntrusted,
        .trusted_proxy_header = (enum forwarded_header)cfg->trusted_proxy_header_id,
        .count_metrics = true,
        .addr = cfg->listen_addr,
        .addrlen = cfg->listen_addrlen,
        .has_listen_fd = true,
        .listen_fd = sv->listen_fd,
        .tls = sv->tls,
        .inherited = sv->inherited,
    };

    sv->listen_fd = -1; /* http_start takes it, whether it succeeds or not */
    sv->srv =
        http_start(&ho, api_routes, api_nroutes, &sv->app, sv->hashers, sv->dbw, err, sizeof err);
    if (sv->srv == NULL) {
        log_fatal(WHO, "%s", err);
        return EXIT_FAILURE;
    }
    /* METRICS_ADDRESS: a listener of its own, one thread, /metrics and
     * /healthz only, so that the public one need not expose them. */
    if (sv->metrics_fd >= 0) {
        struct http_options mo = {
            .host = cfg->metrics_address,
            .port = (unsigned)cfg->metrics_port,
            .threads = 1,
            .max_connections = 64,
            .addr = cfg->metrics_addr,
            .addrlen = cfg->metrics_addrlen,
            .has_listen_fd = true,
            .listen_fd = sv->metrics_fd,
        };
        sv->metrics_fd = -1;
        sv->msrv = http_start(&mo, api_metrics_routes, api_metrics_nroutes, &sv->app, sv->hashers,
                              sv->dbw, err, sizeof err);
        if (sv->msrv == NULL) {
            log_fatal(WHO, "METRICS_ADDRESS: %s", err);
            return EXIT_FAILURE;
        }
        hostaddr_format((const struct sockaddr *)&cfg->metrics_addr, cfg->metrics_addrlen, where,
                        sizeof where);
        log_info("metrics on http://%s/metrics", where);
    }
    hostaddr_format((const struct sockaddr *)&cfg->listen_addr, cfg->listen_addrlen, where,
                    sizeof where);
    log_info("listening on %s://%s (%s %s; %ld hashing + %ld database workers, database %s)",
             sv->tls != NULL ? "https" : "http", where,
             sv->inherited ? "socket from systemd, HOST ignored:" : "HOST", cfg->host, cfg->workers,
             cfg->db_workers,
             strncmp(cfg->database_url, "sqlite:", 7) == 0 ? "sqlite" : "postgresql");
    return 0;
}

/* SIGHUP's share of ACCESS_RULES_FILE: the new rules when the file is
 * valid, else the current ones stay and the log says why. A /verify under
 * way finishes with the rules it took (core/rules.h, rules_ref). */
static void reload_rules(struct serve *sv)
{
    char err[512];
    size_t n = 0;

    if (sv->cfg->access_rules_file == NULL)
        return;
    if (rules_ref_reload(sv->rules, &n, err, sizeof err) == 0)
        log_info("SIGHUP: access rules: %zu loaded from %s", n, sv->cfg->access_rules_file);
    else
        log_warn("SIGHUP: access rules not reloaded, the current ones stay: %s", err);
}

/* SIGHUP: a new certificate and key for new handshakes; connections open
 * keep theirs (http/tls.h). */
static void reload_tls(struct serve *sv)
{
    char err[1024];

    if (sv->tls == NULL)
        return;
    if (tls_reload(sv->tls, err, sizeof err) != 0) {
        log_warn("SIGHUP: the TLS certificate not reloaded, the current one stays: %s", err);
        return;
    }
    log_tls_certificate(sv->tls, "SIGHUP: the TLS certificate reloaded:");
}

/* Step 6. Until SIGTERM or SIGINT; SIGHUP reads the key files again, and
 * requests meanwhile keep the keys they started with (core/keyset.h). */
static int wait_for_signal(struct serve *sv)
{
    char err[512];
    int sig = 0;

    while (sigwait(&sv->sigs, &sig) == 0 && sig == SIGHUP) {
        if (sv->hs256)
            log_info("SIGHUP: HS256 has no key files to read again");
        else if (keyset_reload(sv->keys, err, sizeof err) == 0)
            log_info("SIGHUP: keys reloaded");
        else
            log_warn("SIGHUP: keys not reloaded, the current ones stay: %s", err);
        if (sv->oidc_keys_own && keyset_reload(sv->oidc_keys, err, sizeof err) == 0)
            log_info("SIGHUP: the OpenID Connect key reloaded");
        else if (sv->oidc_keys_own)
            log_warn("SIGHUP: the OpenID Connect key not reloaded, the current one stays: %s", err);
        reload_rules(sv);
        reload_tls(sv);
    }
    return sig;
}

/* Step 7. Stops accepting and lets in-flight requests finish, for up to
 * SHUTDOWN_GRACE_SECONDS. A request still on a worker after that (a stored
 * hash of a huge cost, a query that hangs) is abandoned: the process ends
 * here without waiting for it. Nothing is lost: every write a client was
 * told of has been committed, and the abandoned request's own transaction,
 * not committed, is rolled back by the database. */
static void stop_serving(struct serve *sv, int sig)
{
    unsigned grace_ms = (unsigned)sv->cfg->shutdown_grace_seconds * 1000;

    int64_t t0 = timefmt_monotonic_ms();

    log_info("signal %d: finishing in-flight requests", sig);
    bool done = http_stop(sv->msrv, 0) && http_stop(sv->srv, grace_ms);
    sv->msrv = sv->srv = NULL;
    /* A mail being sent may finish in what is left of the grace period;
     * past it, it is abandoned and stays queued, due at once (core/mail.h). */
    int64_t spent_ms = timefmt_monotonic_ms() - t0;
    mail_stop(sv->mailer,
              done && spent_ms < (int64_t)grace_ms ? (unsigned)((int64_t)grace_ms - spent_ms) : 0);
    if (!done) {
        log_warn("stopped after the grace period of %ld s, abandoning the work in progress",
                 sv->cfg->shutdown_grace_seconds);
        _exit(EXIT_SUCCESS);
    }
    log_info("stopped");
}

/* Undoes every step that was done, in reverse. */
static void serve_free(struct serve *sv)
{
    unsigned grace_ms = (unsigned)sv->cfg->shutdown_grace_seconds * 1000;

    if (!http_stop(sv->msrv, grace_ms) || !http_stop(sv->srv, grace_ms))
        _exit(EXIT_FAILURE); /* a job holds a connection: see stop_serving */
    stopper_stop(&sv->janitor.thread);
    pool_destroy(sv->hashers);
    pool_destroy(sv->dbw);
    /* After the workers, which may still queue a mail and wake the sender;
     * before the store, which the sender uses. */
    mail_free(sv->mailer);
    store_close(sv->st); /* stops the revocation watch, which writes to revoked */
    revset_free(sv->revoked);
    tokencache_free(sv->verified);
    throttle_free(sv->limits);
    tls_close(sv->tls); /* after the server: no handshake can start */
    keyset_close(sv->keys);
    rules_ref_free(sv->rules);
    if (sv->oidc_keys_own)
        keyset_close(sv->oidc_keys);
    sodium_memzero(sv->app.passkeys.handle_key, sizeof sv->app.passkeys.handle_key);
    free(sv->origins);
    free(sv->origins_text);
    if (sv->listen_fd >= 0)
        close(sv->listen_fd);
    if (sv->metrics_fd >= 0)
        close(sv->metrics_fd);
}

int serve_command(struct config *cfg, const struct cli_args *args)
{
    struct timespec started;
    struct serve sv = {.cfg = cfg, .listen_fd = -1, .metrics_fd = -1};
    int rc;

    /* cli_run has validated every setting, DATABASE_URL, SECRET_KEY and
     * HOST included: from here on a failure is not one of configuration,
     * but for the key files. */
    (void)args;
    clock_gettime(CLOCK_REALTIME, &started);
    sv.start_time = (double)started.tv_sec + (double)(started.tv_nsec / 1000000) / 1e3;
    sv.hs256 = strcmp(cfg->algorithm, "HS256") == 0;
    stopper_init(&sv.janitor.thread);
    signal(SIGPIPE, SIG_IGN);

    if ((rc = open_keys(&sv)) == 0 && (rc = open_tls(&sv)) == 0 && (rc = open_mail(&sv)) == 0 &&
        (rc = open_rules(&sv)) == 0 && (rc = listen_sockets(&sv)) == 0 &&
        (rc = open_store(&sv)) == 0 && (rc = open_oidc(&sv)) == 0 &&
        (rc = build_context(&sv)) == 0 && (rc = start_http(&sv)) == 0) {
        stop_serving(&sv, wait_for_signal(&sv));
        rc = EXIT_SUCCESS;
    }
    serve_free(&sv);
    return rc;
}
