#include "cli/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/hostaddr.h"
#include "cli/pubaddr.h"
#include "core/jwk.h"
#include "core/keyset.h"
#include "core/password.h"
#include "http/forwarded.h"
#include "store/pgurl.h"
#include "util/log.h"
#include "store/store.h"
#include "util/mailaddr.h"
#include "util/netaddr.h"
#include "util/smtp.h"

enum kind { K_STRING, K_LONG, K_BOOL, K_SCHEME };

struct setting {
    const char *env;
    const char *flag;
    enum kind kind;
    enum config_group group;
    size_t offset;
    const char *dflt; /* NULL: unset */
    long min, max;
    const char *help;
};

#define OFF(f) offsetof(struct config, f)

/* The one list of settings: parsing, defaults and --help all read it. */
static const struct setting settings[] = {
    {"DATABASE_URL", "--database-url", K_STRING, CONFIG_DATABASE, OFF(database_url),
     "sqlite:///gatehouse.db", 0, 0,
     "sqlite:///relative.db, sqlite:////absolute.db or "
     "postgresql://user:password@host:5432/database (also postgres://, postgresql+asyncpg://)"},
    {"DATABASE_URL_FILE", "--database-url-file", K_STRING, CONFIG_DATABASE, OFF(database_url_file),
     NULL, 0, 0,
     "a file holding DATABASE_URL (one line), so that the password shows neither in the "
     "environment nor in ps; not with DATABASE_URL"},
    {"SECRET_KEY", "--secret-key", K_STRING, CONFIG_TOKENS, OFF(secret_key), NULL, 0, 0,
     "HS256 signing key, at least 32 bytes; with SQLite generated into <database>.secret when "
     "unset"},
    {"SECRET_KEY_FILE", "--secret-key-file", K_STRING, CONFIG_TOKENS, OFF(secret_key_file), NULL, 0,
     0, "a file holding SECRET_KEY (its trailing line ending dropped), instead of SECRET_KEY"},
    {"MFA_ENCRYPTION_KEY", "--mfa-encryption-key", K_STRING, CONFIG_TOKENS, OFF(mfa_encryption_key),
     NULL, 0, 0,
     "at least 32 bytes: the key TOTP secrets are encrypted with in the database (unset: one "
     "derived from SECRET_KEY)"},
    {"ALGORITHM", "--algorithm", K_STRING, CONFIG_TOKENS, OFF(algorithm), "HS256", 0, 0,
     "JWS algorithm of access tokens: HS256 (SECRET_KEY), or EdDSA, ES256, RS256 "
     "(JWT_PRIVATE_KEY_FILE)"},
    {"JWT_PRIVATE_KEY_FILE", "--jwt-private-key-file", K_STRING, CONFIG_TOKENS,
     OFF(jwt_private_key_file), NULL, 0, 0,
     "PEM private key that signs access tokens (EdDSA: Ed25519, ES256: EC P-256, RS256: RSA of "
     "2048+ bits); mode 0600; SIGHUP reads it again"},
    {"OIDC_PRIVATE_KEY_FILE", "--oidc-private-key-file", K_STRING, CONFIG_TOKENS,
     OFF(oidc_private_key_file), NULL, 0, 0,
     "PEM private key that signs the OpenID Connect provider's ID and access tokens (RS256: "
     "RSA of 2048+ bits, or Ed25519, EC P-256); mode 0600; SIGHUP reads it again (unset: "
     "JWT_PRIVATE_KEY_FILE with an asymmetric ALGORITHM, else an RSA key made once beside the "
     "SQLite database)"},
    {"JWT_VERIFY_KEYS_DIR", "--jwt-verify-keys-dir", K_STRING, CONFIG_TOKENS,
     OFF(jwt_verify_keys_dir), NULL, 0, 0,
     "directory of more *.pem keys (public or private, mode 0600) whose tokens are accepted "
     "and which /.well-known/jwks.json lists; SIGHUP reads it again"},
    {"ACCESS_TOKEN_EXPIRE_MINUTES", "--access-token-expire-minutes", K_LONG, CONFIG_TOKENS,
     OFF(access_token_expire_minutes), "30", 1, 525600, "access token lifetime in minutes"},
    {"ACCESS_TOKEN_EXPIRE_SECONDS", "--access-token-expire-seconds", K_LONG, CONFIG_TOKENS,
     OFF(access_token_expire_seconds), NULL, 1, 31536000,
     "access token lifetime in seconds; when set, wins over ACCESS_TOKEN_EXPIRE_MINUTES"},
    {"REFRESH_TOKEN_EXPIRE_DAYS", "--refresh-token-expire-days", K_LONG, CONFIG_TOKENS,
     OFF(refresh_token_expire_days), "30", 1, 3650, "session (refresh token) lifetime in days"},
    {"REFRESH_TOKEN_EXPIRE_SECONDS", "--refresh-token-expire-seconds", K_LONG, CONFIG_TOKENS,
     OFF(refresh_token_expire_seconds), NULL, 1, 315360000,
     "session lifetime in seconds; when set, wins over REFRESH_TOKEN_EXPIRE_DAYS"},
    {"JWT_ISSUER", "--jwt-issuer", K_STRING, CONFIG_TOKENS, OFF(jwt_issuer), NULL, 0, 0,
     "iss claim issued and required (unset: none)"},
    {"JWT_AUDIENCE", "--jwt-audience", K_STRING, CONFIG_TOKENS, OFF(jwt_audience), NULL, 0, 0,
     "aud claim issued and required (unset: none)"},
    {"JWT_LEEWAY_SECONDS", "--jwt-leeway-seconds", K_LONG, CONFIG_TOKENS, OFF(jwt_leeway_seconds),
     "0", 0, 600, "clock skew allowed on exp and nbf"},
    {"VERIFY_CACHE_ENTRIES", "--verify-cache-entries", K_LONG, CONFIG_TOKENS,
     OFF(verify_cache_entries), "16384", 0, 16777216,
     "access tokens remembered as verified, so that a token seen before skips its signature "
     "check (revocation is checked on every request); about 160 bytes each when full; 0: none"},
    {"HOST", "--host", K_STRING, CONFIG_SERVING, OFF(host), "127.0.0.1", 0, 0,
     "IPv4 or IPv6 address, or a host name, to listen on; a name is resolved at start to its "
     "first IPv4 address, else its first IPv6 one (localhost: 127.0.0.1, even where it also "
     "names ::1); ignored when systemd passes the listening socket (gatehouse.socket)"},
    {"PORT", "--port", K_LONG, CONFIG_SERVING, OFF(port), "8000", 1, 65535,
     "TCP port to listen on; ignored when systemd passes the listening socket"},
    {"BCRYPT_ROUNDS", "--bcrypt-rounds", K_LONG, CONFIG_PASSWORDS, OFF(bcrypt_rounds), "12", 4,
     PASSWORD_BCRYPT_COST_MAX, "bcrypt cost of new hashes (log2 of iterations)"},
    {"PASSWORD_HASH", "--password-hash", K_SCHEME, CONFIG_PASSWORDS, OFF(password_hash), "bcrypt",
     0, 0, "scheme of new hashes: bcrypt or argon2id"},
    {"PASSWORD_MIN_LENGTH", "--password-min-length", K_LONG, CONFIG_PASSWORDS,
     OFF(password_min_length), "8", 1, 72, "minimum password length in Unicode code points"},
    {"WORKERS", "--workers", K_LONG, CONFIG_SERVING, OFF(workers), NULL, 1, 256,
     "threads for password hashing and database work (default: CPU count)"},
    {"DB_WORKERS", "--db-workers", K_LONG, CONFIG_SERVING, OFF(db_workers), "2", 1, 256,
     "threads for quick database work (/me, /readyz), apart from hashing"},
    {"QUEUE_SIZE", "--queue-size", K_LONG, CONFIG_SERVING, OFF(queue_size), "128", 1, 65536,
     "jobs that may wait for a worker; past that: 503 + Retry-After"},
    {"HTTP_THREADS", "--http-threads", K_LONG, CONFIG_SERVING, OFF(http_threads), "1", 1, 64,
     "HTTP event-loop threads"},
    {"MAX_CONNECTIONS", "--max-connections", K_LONG, CONFIG_SERVING, OFF(max_connections), "4096",
     1, 1000000, "concurrent client connections"},
    {"MAX_CONNECTIONS_PER_ADDRESS", "--max-connections-per-address", K_LONG, CONFIG_SERVING,
     OFF(max_connections_per_address), "256", 0, 1000000,
     "concurrent connections from one client address, an IPv6 client counting by its /64 (0: "
     "no limit); behind a proxy, every connection comes from the proxy"},
    {"IDLE_TIMEOUT_SECONDS", "--idle-timeout-seconds", K_LONG, CONFIG_SERVING,
     OFF(idle_timeout_seconds), "60", 1, 3600,
     "a connection that sends and receives nothing this long is closed"},
    {"HEADER_TIMEOUT_SECONDS", "--header-timeout-seconds", K_LONG, CONFIG_SERVING,
     OFF(header_timeout_seconds), "10", 1, 600,
     "a request's line and headers must arrive within this long of its first byte, else the "
     "connection is closed"},
    {"BODY_TIMEOUT_SECONDS", "--body-timeout-seconds", K_LONG, CONFIG_SERVING,
     OFF(body_timeout_seconds), "10", 1, 600,
     "a request's body must arrive within this long of its headers, else the connection is "
     "closed"},
    {"ACCESS_LOG", "--access-log", K_BOOL, CONFIG_SERVING, OFF(access_log), "0", 0, 0,
     "log one line per request"},
    {"SESSION_COOKIES", "--session-cookies", K_BOOL, CONFIG_SERVING, OFF(session_cookies), "0", 0,
     0, "also hand out the tokens as HttpOnly cookies (/login, /token, /refresh)"},
    {"COOKIE_SECURE", "--cookie-secure", K_BOOL, CONFIG_SERVING, OFF(cookie_secure), "1", 0, 0,
     "mark the cookies Secure (HTTPS only); 0 only for plain-HTTP development"},
    {"TLS_CERT_FILE", "--tls-cert-file", K_STRING, CONFIG_SERVING, OFF(tls_cert_file), NULL, 0, 0,
     "PEM certificate chain (the server's first) to serve HTTPS with, TLS 1.2 and 1.3 only; "
     "with TLS_KEY_FILE; read again on SIGHUP (unset: plain HTTP)"},
    {"TLS_KEY_FILE", "--tls-key-file", K_STRING, CONFIG_SERVING, OFF(tls_key_file), NULL, 0, 0,
     "PEM private key of TLS_CERT_FILE's certificate, mode 0600 or stricter; read again on "
     "SIGHUP"},
    {"ALLOWED_ORIGINS", "--allowed-origins", K_STRING, CONFIG_SERVING, OFF(allowed_origins), NULL,
     0, 0,
     "comma-separated origins (https://app.example.com) whose cookie-authenticated POST, PUT "
     "and DELETE requests are accepted (unset: none)"},
    {"SHUTDOWN_GRACE_SECONDS", "--shutdown-grace-seconds", K_LONG, CONFIG_SERVING,
     OFF(shutdown_grace_seconds), "30", 0, 3600,
     "after SIGTERM or SIGINT, how long requests in progress may take to finish; work still "
     "running then (a hash of a huge imported cost) is abandoned and the process exits"},
    {"SESSION_PURGE_INTERVAL_SECONDS", "--session-purge-interval-seconds", K_LONG, CONFIG_SERVING,
     OFF(session_purge_interval_seconds), "600", 1, 86400,
     "how often expired sessions and revocations, and used or expired mailed tokens, are "
     "deleted (and password requests left waiting are resolved)"},
    {"DB_POOL_SIZE", "--db-pool-size", K_LONG, CONFIG_SERVING, OFF(db_pool_size), NULL, 1, 1000,
     "database connections (default: WORKERS + DB_WORKERS)"},
    {"METRICS", "--metrics", K_BOOL, CONFIG_SERVING, OFF(metrics), "1", 0, 0,
     "serve GET /metrics (Prometheus text format); 0: 404"},
    {"METRICS_ADDRESS", "--metrics-address", K_STRING, CONFIG_SERVING, OFF(metrics_address), NULL,
     0, 0,
     "host:port ([::1]:9100 for IPv6) of a second listener that serves only /metrics and "
     "/healthz; /metrics on the main listener is then 404 (unset: served there)"},
    {"LOG_FORMAT", "--log-format", K_STRING, CONFIG_LOGGING, OFF(log_format), "text", 0, 0,
     "text, or json: one JSON object per line on standard error"},
    {"LOG_LEVEL", "--log-level", K_STRING, CONFIG_LOGGING, OFF(log_level), "info", 0, 0,
     "lowest level logged: debug, info, warn or error"},
    {"DB_CONNECT_TIMEOUT_SECONDS", "--db-connect-timeout-seconds", K_LONG, CONFIG_DATABASE,
     OFF(db_connect_timeout_seconds), "3", 1, 300,
     "PostgreSQL: wait this long for a connection; past it requests answer 503"},
    {"DB_STATEMENT_TIMEOUT_MS", "--db-statement-timeout-ms", K_LONG, CONFIG_DATABASE,
     OFF(db_statement_timeout_ms), "5000", 100, 3600000,
     "PostgreSQL: a statement running longer is cancelled (503)"},
    {"THROTTLE_ADDRESS_FAILURES", "--throttle-address-failures", K_LONG, CONFIG_SERVING,
     OFF(throttle_address_failures), "20", 0, 1000000,
     "failed logins a client address may make before it is locked out (0: no limit)"},
    {"THROTTLE_ACCOUNT_FAILURES", "--throttle-account-failures", K_LONG, CONFIG_SERVING,
     OFF(throttle_account_failures), "5", 0, 1000000,
     "failed logins of one account (or unknown name) before it is locked out (0: no limit)"},
    {"THROTTLE_LOCKOUT_SECONDS", "--throttle-lockout-seconds", K_LONG, CONFIG_SERVING,
     OFF(throttle_lockout_seconds), "1", 1, 86400,
     "the first lockout; each further failure doubles it"},
    {"THROTTLE_LOCKOUT_MAX_SECONDS", "--throttle-lockout-max-seconds", K_LONG, CONFIG_SERVING,
     OFF(throttle_lockout_max_seconds), "900", 1, 86400, "the longest lockout"},
    {"THROTTLE_FORGET_SECONDS", "--throttle-forget-seconds", K_LONG, CONFIG_SERVING,
     OFF(throttle_forget_seconds), "86400", 1, 31536000,
     "failed logins are forgotten after this long without one (at least the longest lockout)"},
    {"THROTTLE_REGISTRATIONS", "--throttle-registrations", K_LONG, CONFIG_SERVING,
     OFF(throttle_registrations), "20", 0, 1000000,
     "registrations per client address per window (0: no limit)"},
    {"THROTTLE_REGISTRATION_WINDOW_SECONDS", "--throttle-registration-window-seconds", K_LONG,
     CONFIG_SERVING, OFF(throttle_registration_window_seconds), "3600", 1, 604800,
     "the window of THROTTLE_REGISTRATIONS"},
    {"THROTTLE_MAIL_REQUESTS", "--throttle-mail-requests", K_LONG, CONFIG_SERVING,
     OFF(throttle_mail_requests), "10", 0, 1000000,
     "requests that may send mail (POST /password/forgot, POST /email/verify, PUT /me/email) "
     "per client address per window; more answer 429 (0: no limit)"},
    {"THROTTLE_MAIL_WINDOW_SECONDS", "--throttle-mail-window-seconds", K_LONG, CONFIG_SERVING,
     OFF(throttle_mail_window_seconds), "3600", 1, 604800, "the window of THROTTLE_MAIL_REQUESTS"},
    {"THROTTLE_AUTHZ_REQUESTS", "--throttle-authz-requests", K_LONG, CONFIG_SERVING,
     OFF(throttle_authz_requests), "300", 0, 1000000,
     "authorization requests kept for a sign-in or consent (GET|POST /authorize) per client "
     "address per 10 minutes, the life of one; more answer 429 (0: no limit)"},
    {"THROTTLE_TABLE_SIZE", "--throttle-table-size", K_LONG, CONFIG_SERVING,
     OFF(throttle_table_size), "16384", 8, 16777216,
     "client addresses (and unknown names) whose counters are kept in memory; the least "
     "recently used are forgotten past it"},
    {"HASH_JOBS_PER_ADDRESS", "--hash-jobs-per-address", K_LONG, CONFIG_SERVING,
     OFF(hash_jobs_per_address), "4", 0, 65536,
     "password-hashing jobs one client address may have queued or running; past it 429 "
     "(0: no limit)"},
    {"TRUSTED_PROXIES", "--trusted-proxies", K_STRING, CONFIG_SERVING, OFF(trusted_proxies), NULL,
     0, 0,
     "comma-separated addresses or CIDR blocks of proxies whose TRUSTED_PROXY_HEADER names "
     "the client (unset: none)"},
    {"TRUSTED_PROXY_HEADER", "--trusted-proxy-header", K_STRING, CONFIG_SERVING,
     OFF(trusted_proxy_header), "X-Forwarded-For", 0, 0,
     "the one header in which TRUSTED_PROXIES name the client: X-Forwarded-For, Forwarded "
     "(RFC 7239) or X-Real-IP; the others are never read"},
    {"PUBLIC_URL", "--public-url", K_STRING, CONFIG_MAIL, OFF(public_url), NULL, 0, 0,
     "the address browsers reach the service at, http(s)://host[:port][/path] "
     "(https://auth.example.com): the base of every mailed link and the service's own origin; "
     "mail needs it"},
    {"COOKIE_DOMAIN", "--cookie-domain", K_STRING, CONFIG_MAIL, OFF(cookie_domain), NULL, 0, 0,
     "the Domain of the sign-in cookies, so that sibling subdomains share one sign-in; "
     "PUBLIC_URL's host must be within it (unset: the host only)"},
    {"WEBAUTHN_RP_ID", "--webauthn-rp-id", K_STRING, CONFIG_MAIL, OFF(webauthn_rp_id), NULL, 0, 0,
     "the WebAuthn relying party id of passkeys, a domain name that PUBLIC_URL's host is or is "
     "within (unset: PUBLIC_URL's host; passkeys are off when that is an IP address, and "
     "without PUBLIC_URL)"},
    {"WEBAUTHN_ORIGINS", "--webauthn-origins", K_STRING, CONFIG_MAIL, OFF(webauthn_origins), NULL,
     0, 0,
     "comma-separated origins whose passkey ceremonies are accepted, each exactly as browsers "
     "send it (scheme://host[:port], lower case, no default port) and its host within "
     "WEBAUTHN_RP_ID (unset: PUBLIC_URL's origin)"},
    {"SMTP_URL", "--smtp-url", K_STRING, CONFIG_MAIL, OFF(smtp_url), NULL, 0, 0,
     "smtp://[user:pass@]host[:port] (STARTTLS) or smtps://... (TLS from the first byte) "
     "(unset: mail is off, and the endpoints that send it answer 501)"},
    {"SMTP_STARTTLS", "--smtp-starttls", K_BOOL, CONFIG_MAIL, OFF(smtp_starttls), "1", 0, 0,
     "require STARTTLS on smtp://; off is allowed only for a loopback host"},
    {"SMTP_CA_FILE", "--smtp-ca-file", K_STRING, CONFIG_MAIL, OFF(smtp_ca_file), NULL, 0, 0,
     "PEM file of the CA that signed the SMTP server's certificate (unset: the system's)"},
    {"MAIL_FROM", "--mail-from", K_STRING, CONFIG_MAIL, OFF(mail_from), NULL, 0, 0,
     "the sender of every mail (gatehouse <noreply@example.com>); required with SMTP_URL"},
    {"MAIL_TEMPLATES_DIR", "--mail-templates-dir", K_STRING, CONFIG_MAIL, OFF(mail_templates_dir),
     NULL, 0, 0,
     "a directory of mail templates that replace the built-in ones of the same name, read and "
     "checked at start: reset, confirm, address-taken and address-changed, each as "
     "NAME.subject.txt, NAME.txt and NAME.html, in en/ or ru/ for one language only; "
     "{{username}}, {{link}}, {{new_email}}, {{minutes}}, {{lang}} and {{@key}} catalogue "
     "messages (README, Email)"},
    {"MAIL_RETRY_MAX_SECONDS", "--mail-retry-max-seconds", K_LONG, CONFIG_MAIL,
     OFF(mail_retry_max_seconds), "60", 1, 86400,
     "the longest wait between two tries to send a mail: a failed one is tried again after 1, "
     "2, 4, ... seconds, at most this long, until the SMTP server takes it"},
    {"MAIL_MIN_INTERVAL_SECONDS", "--mail-min-interval-seconds", K_LONG, CONFIG_MAIL,
     OFF(mail_min_interval_seconds), "60", 0, 86400,
     "at most one reset or confirmation mail per account this often (0: no limit)"},
    {"EMAIL_TOKEN_EXPIRE_MINUTES", "--email-token-expire-minutes", K_LONG, CONFIG_MAIL,
     OFF(email_token_expire_minutes), "60", 1, 10080,
     "how long an address confirmation link works"},
    {"RESET_TOKEN_EXPIRE_MINUTES", "--reset-token-expire-minutes", K_LONG, CONFIG_MAIL,
     OFF(reset_token_expire_minutes), "30", 1, 1440, "how long a password reset link works"},
};

#define NSETTINGS (sizeof settings / sizeof settings[0])

/* The spellings of a boolean, true then false at each index. */
static const char *const bool_words[][2] = {
    {"1", "0"}, {"true", "false"}, {"yes", "no"}, {"on", "off"}};

int config_bool_parse(const char *v)
{
    for (size_t i = 0; i < sizeof bool_words / sizeof bool_words[0]; i++) {
        if (strcasecmp(v, bool_words[i][0]) == 0)
            return 1;
        if (strcasecmp(v, bool_words[i][1]) == 0)
            return 0;
    }
    return -1;
}

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
    case K_BOOL: {
        int b = config_bool_parse(v);
        if (b < 0) {
            snprintf(err, errlen, "%s: expected %s, got \"%.40s\"", s->env, CONFIG_BOOL_SPELLINGS,
                     v);
            return -1;
        }
        *(bool *)(void *)base = b == 1;
        return 0;
    }
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

long config_access_ttl(const struct config *cfg)
{
    return cfg->access_token_expire_seconds != 0 ? cfg->access_token_expire_seconds
                                                 : cfg->access_token_expire_minutes * 60;
}

bool config_is_flag(const char *flag, size_t len)
{
    return find_flag(flag, len) != NULL;
}

/* Longest DATABASE_URL_FILE read: far more than any URL. */
#define URL_FILE_MAX 8192

/* Reads DATABASE_URL from the file at path (the container-secrets
 * convention): one line, its line break dropped. The contents are never
 * quoted in a message; the path is. Returns 0, or -1 with a reason in err. */
static int read_url_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
    char buf[URL_FILE_MAX + 2];
    FILE *f = fopen(path, "re");
    size_t n;

    if (f == NULL) {
        snprintf(err, errlen, "DATABASE_URL_FILE: cannot read %.200s: %s", path, strerror(errno));
        return -1;
    }
    n = fread(buf, 1, sizeof buf - 1, f);
    bool failed = ferror(f) != 0;
    fclose(f);
    buf[n] = '\0';
    if (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    if (n > 0 && buf[n - 1] == '\r')
        buf[--n] = '\0';
    int rc = -1;
    if (failed)
        snprintf(err, errlen, "DATABASE_URL_FILE: cannot read %.200s", path);
    else if (n > URL_FILE_MAX)
        snprintf(err, errlen, "DATABASE_URL_FILE: %.200s is longer than %d bytes", path,
                 URL_FILE_MAX);
    else if (n == 0)
        snprintf(err, errlen, "DATABASE_URL_FILE: %.200s is empty", path);
    else if (strlen(buf) != n || strchr(buf, '\n') != NULL)
        snprintf(err, errlen, "DATABASE_URL_FILE: %.200s must hold the URL on one line", path);
    else
        rc = 0;
    if (rc == 0) {
        char *copy = strdup(buf);
        if (copy == NULL) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
        } else {
            sodium_memzero(cfg->database_url, strlen(cfg->database_url));
            free(cfg->database_url);
            cfg->database_url = copy;
        }
    }
    sodium_memzero(buf, sizeof buf);
    return rc;
}

/* Refuses a DATABASE_URL we cannot serve before anything is opened. */
static int check_database_url(const char *url, char *err, size_t errlen)
{
    if (strncmp(url, "sqlite:", 7) == 0) {
        char *p = store_sqlite_url_path(url);
        if (p == NULL) {
            snprintf(err, errlen,
                     "DATABASE_URL: expected sqlite:///relative.db or sqlite:////absolute.db");
            return -1;
        }
        free(p);
        return 0;
    }
    if (pgurl_is_postgres(url)) {
        struct pgurl u;
        int rc = pgurl_parse(url, &u, err, errlen);
        pgurl_free(&u);
        return rc;
    }
    snprintf(err, errlen,
             "DATABASE_URL: unsupported database; expected sqlite:///FILE or "
             "postgresql://user:password@host:5432/database");
    return -1;
}

/* Checks that span several settings or need more than a range. A setting of
 * a group the command does not read holds its default, which passes. */
/* ALLOWED_ORIGINS: each entry an origin as a browser serializes it in the
 * Origin header (RFC 6454 §6.1): scheme "://" host [":" port], lower case,
 * no path, no trailing slash. An entry a browser could never send would
 * silently match nothing, so it is refused here. */
/* TRUSTED_PROXY_HEADER names one of the headers http/forwarded.c reads. */
static int check_proxy_header(struct config *cfg, char *err, size_t errlen)
{
    enum forwarded_header h;

    if (forwarded_header_parse(cfg->trusted_proxy_header, &h) != 0) {
        snprintf(err, errlen,
                 "TRUSTED_PROXY_HEADER: \"%.60s\" is none of X-Forwarded-For, Forwarded, "
                 "X-Real-IP",
                 cfg->trusted_proxy_header);
        return -1;
    }
    cfg->trusted_proxy_header_id = (int)h;
    return 0;
}

static int origins_check(const char *list, char *err, size_t errlen)
{
    const char *p = list;

    for (;;) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, ", ");
        const char *after = strncmp(p, "https://", 8) == 0  ? p + 8
                            : strncmp(p, "http://", 7) == 0 ? p + 7
                                                            : NULL;
        bool ok = after != NULL && after < p + n;
        for (const char *c = after; ok && c < p + n; c++)
            ok = (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '.' || *c == '-' ||
                 *c == ':' || *c == '[' || *c == ']';
        if (!ok) {
            snprintf(err, errlen,
                     "ALLOWED_ORIGINS: \"%.*s\" is not an origin such as https://app.example.com "
                     "(lower case, no path)",
                     (int)(n < 80 ? n : 80), p);
            return -1;
        }
        p += n;
        while (*p == ' ')
            p++;
        if (*p == '\0')
            return 0;
        p++; /* the comma */
    }
}

/* METRICS_ADDRESS: host:port, the host of an IPv6 address in brackets. */
static int metrics_address_check(struct config *cfg, char *err, size_t errlen)
{
    const char *a = cfg->metrics_address;
    const char *colon = strrchr(a, ':');
    char host[256];
    char *end = NULL;

    if (colon == NULL || colon == a || colon[1] == '\0') {
        snprintf(err, errlen, "METRICS_ADDRESS: expected host:port, e.g. 127.0.0.1:9100");
        return -1;
    }
    size_t hlen = (size_t)(colon - a);
    if (a[0] == '[' && hlen >= 2 && a[hlen - 1] == ']') {
        a++;
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= sizeof host) {
        snprintf(err, errlen, "METRICS_ADDRESS: expected host:port, e.g. 127.0.0.1:9100");
        return -1;
    }
    memcpy(host, a, hlen);
    host[hlen] = '\0';
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (colon[1] < '0' || colon[1] > '9' || errno != 0 || *end != '\0' || port < 1 ||
        port > 65535) {
        snprintf(err, errlen, "METRICS_ADDRESS: the port must be a number from 1 to 65535");
        return -1;
    }
    if (hostaddr_resolve(host, (unsigned)port, &cfg->metrics_addr, &cfg->metrics_addrlen, err,
                         errlen) != 0) {
        snprintf(err, errlen, "METRICS_ADDRESS: \"%.60s\" is no address to listen on", host);
        return -1;
    }
    cfg->metrics_port = port;
    return 0;
}

/* A readable directory or file, for the mail settings. */
static int check_readable(const char *name, const char *path, bool dir, char *err, size_t errlen)
{
    struct stat st;

    if (stat(path, &st) != 0 || access(path, dir ? R_OK | X_OK : R_OK) != 0) {
        snprintf(err, errlen, "%s: cannot read %.200s: %s", name, path, strerror(errno));
        return -1;
    }
    if (dir ? !S_ISDIR(st.st_mode) : S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: %.200s is %s", name, path,
                 dir ? "not a directory" : "a directory");
        return -1;
    }
    return 0;
}

/* The mail settings (CONFIG_MAIL) that span more than one value: SMTP_URL's
 * form, the loopback rule of SMTP_STARTTLS=off, and what mail needs beside
 * SMTP_URL. PUBLIC_URL's own form is checked with the pages' settings; mail
 * only needs it set. */
static int mail_settings_check(const struct config *cfg, char *err, size_t errlen)
{
    struct smtp_url u;
    char name[MAILADDR_NAME_MAX + 1], addr[MAILADDR_MAX + 1], why[200];

    if (cfg->smtp_url == NULL)
        return 0;
    if (smtp_url_parse(cfg->smtp_url, &u, err, errlen) != 0)
        return -1;
    if (!cfg->smtp_starttls && !u.tls && !u.loopback) {
        snprintf(err, errlen,
                 "SMTP_STARTTLS=off sends mail and the SMTP login in clear text, which is "
                 "allowed only to a loopback host (localhost, 127.0.0.0/8, ::1), not to %.100s",
                 u.host);
        return -1;
    }
    if (cfg->mail_from == NULL) {
        snprintf(err, errlen,
                 "MAIL_FROM is required with SMTP_URL (e.g. \"gatehouse "
                 "<noreply@example.com>\")");
        return -1;
    }
    if (mailaddr_parse_mailbox(cfg->mail_from, name, addr, why, sizeof why) != 0) {
        snprintf(err, errlen, "MAIL_FROM: %s", why);
        return -1;
    }
    if (cfg->public_url == NULL) {
        snprintf(err, errlen,
                 "PUBLIC_URL is required with SMTP_URL: it is the base of the "
                 "links mailed");
        return -1;
    }
    if (cfg->smtp_ca_file != NULL &&
        check_readable("SMTP_CA_FILE", cfg->smtp_ca_file, false, err, errlen) != 0)
        return -1;
    if (cfg->mail_templates_dir != NULL &&
        check_readable("MAIL_TEMPLATES_DIR", cfg->mail_templates_dir, true, err, errlen) != 0)
        return -1;
    return 0;
}

/* MFA_ENCRYPTION_KEY: as long as SECRET_KEY must be, so that the key of
 * TOTP secrets is no easier to guess than the signing key. */
static int mfa_key_check(const struct config *cfg, char *err, size_t errlen)
{
    size_t n = cfg->mfa_encryption_key != NULL ? strlen(cfg->mfa_encryption_key) : 32;

    if (n < 32) {
        snprintf(err, errlen,
                 "MFA_ENCRYPTION_KEY: must be at least 32 bytes, got %zu (try: openssl rand -hex "
                 "32)",
                 n);
        return -1;
    }
    return 0;
}

/* PUBLIC_URL, COOKIE_DOMAIN, WEBAUTHN_RP_ID and WEBAUTHN_ORIGINS
 * (cli/pubaddr.h), normalised in place, the last two defaulted. */
static int public_address_check(struct config *cfg, char *err, size_t errlen)
{
    if (cfg->public_url != NULL &&
        pubaddr_check_url(cfg->public_url, &cfg->public_origin_len, err, errlen) != 0)
        return -1;
    if (cfg->cookie_domain != NULL &&
        pubaddr_check_domain(cfg->cookie_domain, cfg->public_url, cfg->public_origin_len, err,
                             errlen) != 0)
        return -1;
    return pubaddr_check_webauthn(&cfg->webauthn_rp_id, &cfg->webauthn_origins, cfg->public_url,
                                  cfg->public_origin_len, err, errlen);
}

static int validate(struct config *cfg, unsigned groups, char *err, size_t errlen)
{
    if (groups & CONFIG_LOGGING) {
        int f = log_format_parse(cfg->log_format), l = log_level_parse(cfg->log_level);
        if (f < 0) {
            snprintf(err, errlen, "LOG_FORMAT: expected text or json, got \"%.40s\"",
                     cfg->log_format);
            return -1;
        }
        if (l < 0) {
            snprintf(err, errlen, "LOG_LEVEL: expected debug, info, warn or error, got \"%.40s\"",
                     cfg->log_level);
            return -1;
        }
        cfg->log_format_id = f;
        cfg->log_level_id = l;
    }
    enum jwk_alg alg;
    bool hs256 = strcmp(cfg->algorithm, "HS256") == 0;
    if (!hs256 && jwk_alg_parse(cfg->algorithm, &alg) != 0) {
        snprintf(err, errlen, "ALGORITHM: expected HS256, EdDSA, ES256 or RS256, got \"%.40s\"",
                 cfg->algorithm);
        return -1;
    }
    if (hs256 && (cfg->jwt_private_key_file != NULL || cfg->jwt_verify_keys_dir != NULL)) {
        snprintf(err, errlen, "%s needs ALGORITHM EdDSA, ES256 or RS256 (ALGORITHM is HS256)",
                 cfg->jwt_private_key_file != NULL ? "JWT_PRIVATE_KEY_FILE"
                                                   : "JWT_VERIFY_KEYS_DIR");
        return -1;
    }
    if (!hs256 && (groups & CONFIG_TOKENS) && cfg->jwt_private_key_file == NULL) {
        snprintf(err, errlen,
                 "ALGORITHM %s needs JWT_PRIVATE_KEY_FILE (make one: gatehouse keys generate "
                 "--alg %s --out FILE)",
                 cfg->algorithm, cfg->algorithm);
        return -1;
    }
    if (cfg->secret_key_file != NULL) {
        if (cfg->secret_key != NULL) {
            snprintf(err, errlen, "set SECRET_KEY or SECRET_KEY_FILE, not both");
            return -1;
        }
        char why[400];
        if (keyset_read_secret(cfg->secret_key_file, &cfg->secret_key, &cfg->secret_key_len, why,
                               sizeof why) != 0) {
            snprintf(err, errlen, "SECRET_KEY_FILE: %s", why);
            return -1;
        }
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
    if ((groups & CONFIG_TOKENS) && mfa_key_check(cfg, err, errlen) != 0)
        return -1;
    if ((groups & CONFIG_DATABASE) && check_database_url(cfg->database_url, err, errlen) != 0)
        return -1;
    /* Every instance on one PostgreSQL must sign with the same key, so none
     * may invent its own (API.md, Configuration). */
    if ((groups & CONFIG_TOKENS) && (groups & CONFIG_DATABASE) && cfg->secret_key == NULL &&
        hs256 && pgurl_is_postgres(cfg->database_url)) {
        snprintf(err, errlen,
                 "SECRET_KEY is required with PostgreSQL (at least 32 bytes; try: openssl rand "
                 "-hex 32)");
        return -1;
    }
    if ((groups & CONFIG_SERVING) && cfg->allowed_origins != NULL &&
        origins_check(cfg->allowed_origins, err, errlen) != 0)
        return -1;
    if ((groups & CONFIG_SERVING) && cfg->trusted_proxies != NULL) {
        char why[160];
        if (netaddr_cidrs_parse(cfg->trusted_proxies, &cfg->trusted, &cfg->ntrusted, why,
                                sizeof why) != 0) {
            snprintf(err, errlen, "TRUSTED_PROXIES: %s", why);
            return -1;
        }
    }
    if ((groups & CONFIG_SERVING) && check_proxy_header(cfg, err, errlen) != 0)
        return -1;
    if ((groups & CONFIG_SERVING) &&
        cfg->throttle_lockout_max_seconds < cfg->throttle_lockout_seconds) {
        snprintf(err, errlen,
                 "THROTTLE_LOCKOUT_MAX_SECONDS (%ld) must be at least THROTTLE_LOCKOUT_SECONDS "
                 "(%ld)",
                 cfg->throttle_lockout_max_seconds, cfg->throttle_lockout_seconds);
        return -1;
    }
    if ((groups & CONFIG_SERVING) &&
        cfg->throttle_forget_seconds < cfg->throttle_lockout_max_seconds) {
        snprintf(err, errlen,
                 "THROTTLE_FORGET_SECONDS (%ld) must be at least THROTTLE_LOCKOUT_MAX_SECONDS "
                 "(%ld)",
                 cfg->throttle_forget_seconds, cfg->throttle_lockout_max_seconds);
        return -1;
    }
    if (groups & CONFIG_SERVING) {
        if (cfg->host[0] == '\0') {
            snprintf(err, errlen, "HOST: must not be empty");
            return -1;
        }
        if (hostaddr_resolve(cfg->host, (unsigned)cfg->port, &cfg->listen_addr,
                             &cfg->listen_addrlen, err, errlen) != 0)
            return -1;
        if (cfg->metrics_address != NULL && metrics_address_check(cfg, err, errlen) != 0)
            return -1;
        if ((cfg->tls_cert_file == NULL) != (cfg->tls_key_file == NULL)) {
            snprintf(err, errlen, "%s needs %s: set both to serve HTTPS, or neither",
                     cfg->tls_cert_file != NULL ? "TLS_CERT_FILE" : "TLS_KEY_FILE",
                     cfg->tls_cert_file != NULL ? "TLS_KEY_FILE" : "TLS_CERT_FILE");
            return -1;
        }
    }
    if ((groups & CONFIG_MAIL) && public_address_check(cfg, err, errlen) != 0)
        return -1;
    if ((groups & CONFIG_MAIL) && mail_settings_check(cfg, err, errlen) != 0)
        return -1;
    if (cfg->workers == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->workers = n > 0 ? n : 1;
    }
    if (cfg->db_pool_size == 0)
        cfg->db_pool_size = cfg->workers + cfg->db_workers;
    return 0;
}

int config_log_format_of(int argc, char **argv, int first)
{
    static const char flag[] = "--log-format";
    const char *v = getenv("LOG_FORMAT");

    for (int i = first; i < argc; i++) {
        if (strncmp(argv[i], flag, sizeof flag - 1) != 0)
            continue;
        if (argv[i][sizeof flag - 1] == '=')
            v = argv[i] + sizeof flag;
        else if (argv[i][sizeof flag - 1] == '\0' && i + 1 < argc)
            v = argv[i + 1];
    }
    int f = v != NULL ? log_format_parse(v) : -1;
    return f >= 0 ? f : LOG_FORMAT_TEXT;
}

int config_parse(struct config *cfg, unsigned groups, int argc, char **argv, int first, bool *help,
                 char *err, size_t errlen)
{
    bool url_given = false; /* DATABASE_URL set, by variable or flag */

    memset(cfg, 0, sizeof *cfg);
    *help = false;
    /* Every command that reads settings logs, so all read these. */
    if (groups != 0) {
        groups |= CONFIG_LOGGING;
        /* Before anything else, so that the error of any other setting is
         * written in the format asked for. */
        cfg->log_format_id = config_log_format_of(argc, argv, first);
    }
    for (size_t i = 0; i < NSETTINGS; i++)
        if (settings[i].dflt != NULL && set_value(cfg, &settings[i], settings[i].dflt, err, errlen))
            return -1;
    for (size_t i = 0; i < NSETTINGS; i++) {
        if ((settings[i].group & groups) == 0)
            continue;
        const char *v = getenv(settings[i].env);
        /* An empty variable counts as unset, as in most shells' "VAR= cmd". */
        if (v != NULL && v[0] != '\0' && set_value(cfg, &settings[i], v, err, errlen))
            return -1;
        url_given |= v != NULL && v[0] != '\0' && settings[i].offset == OFF(database_url);
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
            /* The name only: the value of a misspelt --secret-key is a secret. */
            snprintf(err, errlen, "unknown argument \"%.*s\" (see --help)",
                     (int)(len < 60 ? len : 60), arg);
            return -1;
        }
        if ((s->group & groups) == 0) {
            snprintf(err, errlen, "%s (%s) is not a setting of this command (see its --help)",
                     s->flag, s->env);
            return -1;
        }
        const char *v = eq != NULL ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (v == NULL) {
            snprintf(err, errlen, "%s needs a value", s->flag);
            return -1;
        }
        if (set_value(cfg, s, v, err, errlen))
            return -1;
        url_given |= s->offset == OFF(database_url);
    }
    if (cfg->database_url_file != NULL) {
        if (url_given) {
            snprintf(err, errlen, "give DATABASE_URL or DATABASE_URL_FILE, not both");
            return -1;
        }
        if (read_url_file(cfg, cfg->database_url_file, err, errlen) != 0)
            return -1;
    }
    return validate(cfg, groups, err, errlen);
}

int config_load(struct config *cfg, int argc, char **argv, int first, bool *help, char *err,
                size_t errlen)
{
    return config_parse(cfg, CONFIG_ALL, argc, argv, first, help, err, errlen);
}

const char *config_group_name(enum config_group group)
{
    switch (group) {
    case CONFIG_DATABASE: return "Database";
    case CONFIG_TOKENS: return "Tokens";
    case CONFIG_PASSWORDS: return "Passwords";
    case CONFIG_SERVING: return "Serving";
    case CONFIG_LOGGING: return "Logging";
    case CONFIG_MAIL: return "Public address and mail";
    }
    return "?";
}

void config_print_settings(FILE *out, unsigned groups)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        const struct setting *s = &settings[i];
        if ((s->group & groups) == 0)
            continue;
        fprintf(out, "  %-28s %-31s %s\n      %s%s%s%s\n", s->env, s->flag,
                s->dflt != NULL ? s->dflt : "(unset)", s->help, s->kind == K_BOOL ? " (" : "",
                s->kind == K_BOOL ? CONFIG_BOOL_SPELLINGS : "", s->kind == K_BOOL ? ")" : "");
    }
}

void config_free(struct config *cfg)
{
    free(cfg->trusted);
    cfg->trusted = NULL;
    cfg->ntrusted = 0;
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

/* Longest variable name compared with the settings'; a longer one is no
 * typo of any of them. */
#define NAME_MAX_COMPARED 64

/* The optimal string alignment distance of a and b (ASCII letters compared
 * without case): insertions, deletions, substitutions and the swap of two
 * neighbours count one each, so PROT is one from PORT. Both at most
 * NAME_MAX_COMPARED bytes. */
static size_t name_distance(const char *a, size_t n, const char *b, size_t m)
{
    size_t d[NAME_MAX_COMPARED + 1][NAME_MAX_COMPARED + 1];

    for (size_t i = 0; i <= n; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= m; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= n; i++) {
        for (size_t j = 1; j <= m; j++) {
            size_t cost = toupper((unsigned char)a[i - 1]) != toupper((unsigned char)b[j - 1]);
            size_t best = d[i - 1][j - 1] + cost;
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 &&
                toupper((unsigned char)a[i - 1]) == toupper((unsigned char)b[j - 2]) &&
                toupper((unsigned char)a[i - 2]) == toupper((unsigned char)b[j - 1]) &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[n][m];
}

/* The setting whose variable name is close enough to name[0..n) to be what
 * it meant, or NULL. Close: one edit for names of up to six characters, two
 * for longer ones, so that a short name (PORT) is not matched by every other
 * short variable (PGPORT, HOME and PATH are two or more away from anything
 * here). A name that is a setting's exactly is no typo. */
static const struct setting *typo_of(const char *name, size_t n)
{
    /* Variables of other programs that a setting's name is close to:
     * OpenSSL's CA bundle (libcurl, Python) is two edits from TLS_CERT_FILE
     * and set on many hosts. */
    static const char *const foreign[] = {"SSL_CERT_FILE"};
    const struct setting *best = NULL;
    size_t best_d = SIZE_MAX;

    if (n == 0 || n > NAME_MAX_COMPARED)
        return NULL;
    for (size_t i = 0; i < sizeof foreign / sizeof foreign[0]; i++)
        if (strlen(foreign[i]) == n && strncmp(foreign[i], name, n) == 0)
            return NULL;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)name[i]) && name[i] != '_')
            return NULL;
    for (size_t i = 0; i < NSETTINGS; i++) {
        const char *env = settings[i].env;
        size_t m = strlen(env);
        if (m == n && strncmp(env, name, n) == 0)
            return NULL;
        size_t d = name_distance(name, n, env, m);
        size_t allowed = (n < m ? n : m) <= 6 ? 1 : 2;
        if (d <= allowed && d < best_d) {
            best = &settings[i];
            best_d = d;
        }
    }
    return best;
}

void config_check_environment(char **env)
{
    for (char **e = env; e != NULL && *e != NULL; e++) {
        const char *eq = strchr(*e, '=');
        size_t n = eq != NULL ? (size_t)(eq - *e) : strlen(*e);
        const struct setting *s = typo_of(*e, n);
        if (s != NULL)
            log_warn("environment variable %.*s is not a setting; did you mean %s?", (int)n, *e,
                     s->env);
    }
}
