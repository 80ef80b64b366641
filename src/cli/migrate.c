/* gatehouse migrate: bring the database schema up to date and exit; and the
 * store opening every command that reads the database shares. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/commands.h"
#include "store/store.h"
#include "util/log.h"

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
    store *st = cli_store_open(cfg, 1, "gatehouse migrate");

    if (st == NULL)
        return EXIT_FAILURE;
    log_info("database schema is up to date");
    store_close(st);
    return EXIT_SUCCESS;
}
