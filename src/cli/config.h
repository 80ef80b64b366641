#ifndef GH_CLI_CONFIG_H
#define GH_CLI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "core/password.h"

/* Every setting of the service, from environment variables and the matching
 * command-line flags (a flag wins over the variable). */

struct config {
    char *database_url;
    char *secret_key; /* NULL until given or loaded; wiped on config_free */
    size_t secret_key_len;
    char *algorithm;
    long access_token_expire_minutes;
    long refresh_token_expire_days;
    char *jwt_issuer;   /* NULL when unset */
    char *jwt_audience; /* NULL when unset */
    long jwt_leeway_seconds;
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
    bool access_log;
    long db_pool_size; /* 0 until validated: WORKERS + 1 */
    long db_connect_timeout_seconds;
    long db_statement_timeout_ms;
};

/* Fills cfg from the environment and argv[first..argc). Returns 0; on a bad
 * value or unknown flag writes a one-line reason to err and returns -1 (the
 * caller exits with status 2). Sets *help when --help was given. */
int config_load(struct config *cfg, int argc, char **argv, int first, bool *help, char *err,
                size_t errlen);

/* Prints the settings table for --help. */
void config_print_help(const char *progname);

/* Frees the strings of cfg, wiping the secret key. */
void config_free(struct config *cfg);

#endif
