/* The command line's audit events (actor "cli"), as api/audit.c records
 * the server's: held for the transaction of the change, else written alone
 * once it succeeded. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "util/log.h"
#include "util/timefmt.h"

void cli_audit_hold(struct cli_audit *a, const char *type, json_t *details)
{
    char *text = details != NULL ? json_dumps(details, JSON_COMPACT) : NULL;

    json_decref(details);
    memset(a, 0, sizeof *a);
    if (text == NULL || strlen(text) >= sizeof a->details)
        snprintf(a->details, sizeof a->details, "{}");
    else
        memcpy(a->details, text, strlen(text) + 1);
    free(text);
    a->e.type = type;
    a->e.at = timefmt_now();
    a->e.actor = "cli";
    a->e.details = a->details;
    store_audit_hold(&a->e);
}

void cli_audit_done(store *st, struct cli_audit *a, bool ok, int64_t user_id)
{
    bool written = store_audit_release();

    if (!ok || written)
        return;
    if (a->e.user_id <= 0)
        a->e.user_id = user_id;
    if (store_audit_add(st, NULL, &a->e) != STORE_OK)
        log_error("audit: event %s was not recorded in the database", a->e.type);
}
