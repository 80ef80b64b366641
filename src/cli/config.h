#ifndef GH_CLI_CONFIG_H
#define GH_CLI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/socket.h>

#include "core/password.h"
#include "util/netaddr.h"

/* Every setting of the service, from environment variables and the matching
 * command-line flags (a flag wins over the variable). */

struct config {
    char *database_url;
    char *database_url_file; /* DATABASE_URL_FILE: read into database_url */
    char *secret_key;        /* NULL until given or loaded; wiped on config_free */
    size_t secret_key_len;
    char *secret_key_file;    /* SECRET_KEY_FILE: read into secret_key by validation */
    char *mfa_encryption_key; /* MFA_ENCRYPTION_KEY; NULL: derived from secret_key */
    char *algorithm;
    char *jwt_private_key_file;  /* EdDSA, ES256, RS256: the signing key (PEM) */
    char *oidc_private_key_file; /* the OpenID Connect provider's signing key (PEM), or NULL */
    char *jwt_verify_keys_dir;   /* NULL, or more verification keys (*.pem) */
    long access_token_expire_minutes;
    long access_token_expire_seconds; /* 0 when unset: the minutes count */
    long refresh_token_expire_days;
    long refresh_token_expire_seconds; /* 0 when unset: the days count */
    char *jwt_issuer;                  /* NULL when unset */
    char *jwt_audience;                /* NULL when unset */
    long jwt_leeway_seconds;
    long verify_cache_entries;
    char *host;
    long port;
    long bcrypt_rounds;
    enum password_scheme password_hash;
    long password_min_length;
    long workers;    /* password-hashing threads */
    long db_workers; /* threads for quick database work */
    long queue_size;
    long http_threads;
    long max_connections;
    long max_connections_per_address; /* 0: no limit */
    long idle_timeout_seconds;
    long header_timeout_seconds;
    long body_timeout_seconds;
    bool access_log;
    bool session_cookies;
    bool cookie_secure;
    char *tls_cert_file; /* TLS_CERT_FILE and TLS_KEY_FILE: both, or NULL both */
    char *tls_key_file;
    char *allowed_origins; /* NULL when unset */
    long session_purge_interval_seconds;
    long shutdown_grace_seconds;
    long db_pool_size; /* 0 until validated: WORKERS + 1 */
    long db_connect_timeout_seconds;
    long db_statement_timeout_ms;
    /* Throttling (core/throttle.h) and the hashing queue's fair share. */
    long throttle_address_failures;
    long throttle_account_failures;
    long throttle_lockout_seconds;
    long throttle_lockout_max_seconds;
    long throttle_forget_seconds;
    long throttle_registrations;
    long throttle_registration_window_seconds;
    long throttle_mail_requests;
    long throttle_mail_window_seconds;
    long throttle_authz_requests;
    long throttle_table_size;
    long hash_jobs_per_address;
    char *trusted_proxies; /* NULL when unset */
    /* TRUSTED_PROXIES parsed by validation (CONFIG_SERVING); freed by
     * config_free. NULL and 0 when unset. */
    struct netaddr_cidr *trusted;
    size_t ntrusted;
    char *trusted_proxy_header;
    int trusted_proxy_header_id; /* enum forwarded_header, once validated */
    bool metrics;
    char *metrics_address; /* NULL when unset */
    char *log_format;
    char *log_level;
    int log_format_id; /* enum log_format, once validated */
    int log_level_id;  /* enum log_level, once validated */
    /* HOST and PORT resolved by validation (CONFIG_SERVING), so that a bad
     * HOST stops the command before it touches anything. */
    struct sockaddr_storage listen_addr;
    socklen_t listen_addrlen;
    /* METRICS_ADDRESS resolved likewise (addrlen 0 when unset). */
    struct sockaddr_storage metrics_addr;
    socklen_t metrics_addrlen;
    long metrics_port;
    /* Public address, pages and mail (CONFIG_MAIL). */
    char *public_url;         /* NULL when unset; normalised by validation (cli/pubaddr.h) */
    size_t public_origin_len; /* its origin's length, once validated */
    char *cookie_domain;      /* NULL when unset */
    char *webauthn_rp_id;     /* validated: given or PUBLIC_URL's host; NULL: passkeys off */
    char *webauthn_origins;   /* comma-separated; validated: given or PUBLIC_URL's origin */
    char *smtp_url;           /* NULL when unset: mail is off */
    bool smtp_starttls;
    char *smtp_ca_file;       /* NULL when unset */
    char *mail_from;          /* NULL when unset */
    char *mail_templates_dir; /* NULL when unset */
    long mail_retry_max_seconds;
    long mail_min_interval_seconds;
    long email_token_expire_minutes;
    long reset_token_expire_minutes;
};

/* The settings fall into groups; a command reads some of them (its --help
 * lists them), takes their flags, and validates their values and the checks
 * that span them. A variable of a group the command does not read is ignored:
 * one environment may configure several commands. */
enum config_group {
    CONFIG_DATABASE = 1u << 0,  /* DATABASE_URL and the PostgreSQL timeouts */
    CONFIG_TOKENS = 1u << 1,    /* SECRET_KEY and the claims of access tokens */
    CONFIG_PASSWORDS = 1u << 2, /* the scheme, cost and rules of new passwords */
    CONFIG_SERVING = 1u << 3,   /* HOST, PORT, threads, workers, limits */
    CONFIG_LOGGING = 1u << 4,   /* LOG_FORMAT, LOG_LEVEL: read by every command with settings */
    CONFIG_MAIL = 1u << 5,      /* PUBLIC_URL, the pages, SMTP and the mailed tokens */
};

#define CONFIG_ALL                                                                                 \
    (CONFIG_DATABASE | CONFIG_TOKENS | CONFIG_PASSWORDS | CONFIG_SERVING | CONFIG_LOGGING |        \
     CONFIG_MAIL)

/* Fills cfg with the defaults, then the variables and the flags in
 * argv[first..argc) of the groups given, and validates them all: ranges, the
 * DATABASE_URL form, SECRET_KEY's length and (with CONFIG_TOKENS and a
 * PostgreSQL DATABASE_URL) its presence, and HOST, which is resolved. Nothing
 * is opened or written. Returns 0; on a bad value, an unknown argument or the
 * flag of a setting outside groups writes a one-line reason to err and
 * returns -1 (the caller exits with status 2). Sets *help, and stops, at
 * --help or -h. cfg needs config_free either way. */
int config_parse(struct config *cfg, unsigned groups, int argc, char **argv, int first, bool *help,
                 char *err, size_t errlen);

/* config_parse of every group: what serving reads. */
int config_load(struct config *cfg, int argc, char **argv, int first, bool *help, char *err,
                size_t errlen);

/* The LOG_FORMAT asked for (enum log_format) by the flag --log-format in
 * argv[first..argc) or else the variable, before anything else is parsed:
 * text when neither names a valid one. */
int config_log_format_of(int argc, char **argv, int first);

/* The access token lifetime in seconds: ACCESS_TOKEN_EXPIRE_SECONDS when
 * set, else ACCESS_TOKEN_EXPIRE_MINUTES. */
long config_access_ttl(const struct config *cfg);

/* True when flag[0..len) is the flag of a setting (of any group). */
bool config_is_flag(const char *flag, size_t len);

/* The name of one group, for help headings ("Database"). */
const char *config_group_name(enum config_group group);

/* Prints the settings of the groups given, one entry each (variable, flag,
 * default, meaning), in the order of the settings table. */
void config_print_settings(FILE *out, unsigned groups);

/* The spellings a boolean setting takes, in any case, for messages and help. */
#define CONFIG_BOOL_SPELLINGS "1/0, true/false, yes/no or on/off"

/* 1 for a true spelling of CONFIG_BOOL_SPELLINGS, 0 for a false one, -1
 * for anything else. */
int config_bool_parse(const char *v);

/* Logs one warning for each variable of env (NAME=value strings, NULL-ended:
 * environ) whose name is not a setting's but close to one (an edit or two:
 * DATABSE_URL, SESSION_COOKIE, PROT), naming the setting it probably means.
 * The values are never logged. */
void config_check_environment(char **env);

/* Frees the strings of cfg, wiping the secret key. */
void config_free(struct config *cfg);

#endif
