/* gatehouse migrate: bring the database schema up to date and exit. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/commands.h"
#include "store/store.h"
#include "util/log.h"

int migrate_command(struct config *cfg, const struct cli_args *args)
{
    char err[512] = "";
    store *st = NULL;

    (void)args;
    /* Opening a store migrates it (under a lock, so servers starting at the
     * same time wait for it); one connection is all that takes. */
    struct store_options so = {
        .nconns = 1,
        .connect_timeout_s = (unsigned)cfg->db_connect_timeout_seconds,
        .statement_timeout_ms = (unsigned)cfg->db_statement_timeout_ms,
    };
    if (store_open(cfg->database_url, &so, &st, err, sizeof err) != STORE_OK) {
        fprintf(stderr, "gatehouse migrate: %s\n", err);
        return EXIT_FAILURE;
    }
    log_info("database schema is up to date");
    store_close(st);
    return EXIT_SUCCESS;
}
