/* gatehouse migrate: bring the database schema up to date and exit; and the
 * store opening every command that reads the database shares. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/commands.h"
#include "store/pgurl.h"
#include "store/store.h"
#include "util/log.h"

/* The default of DATABASE_URL (config.c's table), to say when it is used. */
static const char default_url[] = "sqlite:///gatehouse.db";

void cli_say_database(const struct config *cfg, const char *doing)
{
    const char *url = cfg->database_url;
    const char *dflt =
        strcmp(url, default_url) == 0 ? " (DATABASE_URL is not set: the default)" : "";
    char *path = store_sqlite_url_path(url);

    if (path != NULL) {
        char cwd[4096];
        bool relative = path[0] != '/' && getcwd(cwd, sizeof cwd) != NULL;
        /* A warning when nothing chose the file, so that LOG_LEVEL=warn
         * still shows it. */
        if (dflt[0] != '\0')
            log_warn("%s the SQLite database %s%s%s%s", doing, relative ? cwd : "",
                     relative ? "/" : "", path, dflt);
        else
            log_info("%s the SQLite database %s%s%s", doing, relative ? cwd : "",
                     relative ? "/" : "", path);
        free(path);
        return;
    }
    /* host:port/dbname only: never the user or password. */
    struct pgurl u = {0};
    char where[512] = "";
    char err[256];
    if (pgurl_parse(url, &u, err, sizeof err) == 0)
        pgurl_describe(&u, where, sizeof where);
    pgurl_free(&u);
    log_info("%s the PostgreSQL database %s", doing, where[0] != '\0' ? where : "(unparsable URL)");
}

store *cli_store_open(const struct config *cfg, unsigned nconns, const char *who)
{
    char err[512] = "";
    store *st = NULL;
    struct store_options so = {
        .nconns = nconns,
        .connect_timeout_s = (unsigned)cfg->db_connect_timeout_seconds,
        .statement_timeout_ms = (unsigned)cfg->db_statement_timeout_ms,
    };

    if (store_open(cfg->database_url, &so, &st, err, sizeof err) != STORE_OK) {
        log_fatal(who, "%s", err);
        return NULL;
    }
    return st;
}

int migrate_command(struct config *cfg, const struct cli_args *args)
{
    (void)args;
    /* Opening a store migrates it (under a lock, so servers starting at the
     * same time wait for it); one connection is all that takes. */
    store *st;

    cli_say_database(cfg, "migrating");
    st = cli_store_open(cfg, 1, "gatehouse migrate");
    if (st == NULL)
        return EXIT_FAILURE;
    log_info("database schema is up to date");
    store_close(st);
    return EXIT_SUCCESS;
}
