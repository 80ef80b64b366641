/* gatehouse apikeys create|list|revoke: the keys that open the admin API
 * (API.md, "Administration, roles and access rules"). A key's text is shown
 * once, when it is made; only its SHA-256 is stored. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/admin.h"
#include "util/log.h"
#include "util/timefmt.h"

/* Positions of the options in commands.c's table of apikeys create. */
enum { OPT_ROLE, OPT_NAME };

int apikeys_create_command(struct config *cfg, const struct cli_args *args)
{
    const char *names[ROLES_MAX + 1];
    char roles[ROLES_TEXT_MAX + 1], key[ADMIN_APIKEY_LEN + 1];
    const char *name = args->values[OPT_NAME] != NULL ? args->values[OPT_NAME] : "";
    struct store_apikey k;
    size_t n = 0;

    for (size_t i = 0; i < args->nall; i++) {
        if (args->all[i].option != OPT_ROLE)
            continue;
        const char *r = args->all[i].value;
        if (!roles_name_valid(r, strlen(r))) {
            fprintf(stderr,
                    "gatehouse apikeys create: a role is 1 to %d characters of a-z 0-9 . _ -\n",
                    ROLES_NAME_MAX);
            return CLI_EXIT_USAGE;
        }
        if (n == ROLES_MAX) {
            fprintf(stderr, "gatehouse apikeys create: at most %d roles\n", ROLES_MAX);
            return CLI_EXIT_USAGE;
        }
        names[n++] = r;
    }
    if (n == 0) {
        fprintf(stderr, "gatehouse apikeys create: give at least one --role\n");
        return CLI_EXIT_USAGE;
    }
    if (strlen(name) > STORE_APIKEY_NAME_MAX) {
        fprintf(stderr, "gatehouse apikeys create: a name is at most %d bytes\n",
                STORE_APIKEY_NAME_MAX);
        return CLI_EXIT_USAGE;
    }
    if (!roles_from_names(names, n, roles)) {
        fprintf(stderr, "gatehouse apikeys create: at most %d roles\n", ROLES_MAX);
        return CLI_EXIT_USAGE;
    }
    store *st = cli_store_open(cfg, 1, "gatehouse apikeys create");
    if (st == NULL)
        return EXIT_FAILURE;
    struct cli_audit ev;
    cli_audit_hold(&ev, "admin.apikey_created", NULL);
    enum outcome o = admin_apikey_create(st, name, roles, key, &k);
    /* The key's id, name and roles, never its text. */
    if (o == OUTCOME_OK) {
        json_t *d =
            json_pack("{s:s, s:s, s:s}", "apikey_id", k.id, "name", k.name, "roles", k.roles);
        char *text = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;
        json_decref(d);
        if (text != NULL && strlen(text) < sizeof ev.details)
            memcpy(ev.details, text, strlen(text) + 1);
        free(text);
    }
    cli_audit_done(st, &ev, o == OUTCOME_OK, 0);
    store_close(st);
    if (o != OUTCOME_OK) {
        fprintf(stderr, "gatehouse apikeys create: failed (%s)\n", outcome_name(o));
        return EXIT_FAILURE;
    }
    printf("id: %s\nkey: %s\n", k.id, key);
    sodium_memzero(key, sizeof key);
    return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

static void print_key(void *arg, const struct store_apikey *k)
{
    char created[32], used[32], revoked[32];
    size_t len = strlen(k->name);
    char *shown = malloc(4 * len + 1);

    (void)arg;
    printf("%s\t%s\t%s\t%s\t%s\t%s\n", k->id,
           shown != NULL ? log_escape(k->name, len, shown, 4 * len + 1, false) : "?", k->roles,
           timefmt_rfc3339(created, sizeof created, k->created_at),
           k->last_used_at != 0 ? timefmt_rfc3339(used, sizeof used, k->last_used_at) : "-",
           k->revoked_at != 0 ? timefmt_rfc3339(revoked, sizeof revoked, k->revoked_at) : "-");
    free(shown);
}

int apikeys_list_command(struct config *cfg, const struct cli_args *args)
{
    store *st = cli_store_open(cfg, 1, "gatehouse apikeys list");

    (void)args;
    if (st == NULL)
        return EXIT_FAILURE;
    printf("id\tname\troles\tcreated_at\tlast_used_at\trevoked_at\n");
    enum store_status rc = store_apikeys_list(st, print_key, NULL);
    store_close(st);
    if (rc != STORE_OK) {
        fprintf(stderr, "gatehouse apikeys list: failed reading the keys\n");
        return EXIT_FAILURE;
    }
    return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int apikeys_revoke_command(struct config *cfg, const struct cli_args *args)
{
    const char *id = args->argv[0];
    store *st = cli_store_open(cfg, 1, "gatehouse apikeys revoke");

    if (st == NULL)
        return EXIT_FAILURE;
    struct cli_audit ev;
    cli_audit_hold(&ev, "admin.apikey_revoked", json_pack("{s:s}", "apikey_id", id));
    enum outcome o = admin_apikey_revoke(st, id);
    cli_audit_done(st, &ev, o == OUTCOME_OK, 0);
    store_close(st);
    if (o == OUTCOME_OK) {
        printf("revoked API key %s\n", id);
        return EXIT_SUCCESS;
    }
    fprintf(stderr, "gatehouse apikeys revoke: %s\n",
            o == OUTCOME_NOT_FOUND ? "no such key, or revoked already" : outcome_name(o));
    return EXIT_FAILURE;
}
