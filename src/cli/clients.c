/* gatehouse clients add|list|delete: the OpenID Connect provider's clients
 * (API.md, "Single sign-on"). They live in the database, so a running
 * server sees a change at its next request. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/oidc.h"
#include "core/sessions.h"
#include "util/log.h"
#include "util/timefmt.h"

/* Positions of the options in commands.c's table of clients add. */
enum { OPT_REDIRECT, OPT_PUBLIC, OPT_FIRST_PARTY, OPT_LOGOUT, OPT_SCOPE, OPT_ID };

#define ALL_SCOPES (OIDC_SCOPE_OPENID | OIDC_SCOPE_PROFILE | OIDC_SCOPE_EMAIL | OIDC_SCOPE_OFFLINE)

/* The repeated URI options of args into uris (pointers into argv; not
 * owned), -1 past OIDC_URIS_MAX. */
static int gather(const struct cli_args *args, size_t option, char **uris, size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < args->nall; i++) {
        if (args->all[i].option != option)
            continue;
        if (*n == OIDC_URIS_MAX)
            return -1;
        uris[(*n)++] = (char *)args->all[i].value;
    }
    return 0;
}

/* The --scope options' union; 0 (a usage error) for an unknown scope. */
static unsigned scopes_of(const struct cli_args *args, bool *bad)
{
    unsigned all = 0, bits;

    *bad = false;
    for (size_t i = 0; i < args->nall; i++) {
        if (args->all[i].option != OPT_SCOPE)
            continue;
        const char *v = args->all[i].value;
        if (!oidc_scope_parse(v, strlen(v), &bits)) {
            *bad = true;
            return 0;
        }
        all |= bits;
    }
    return all != 0 ? all : ALL_SCOPES;
}

/* Fills c from the command line: 0, or CLI_EXIT_USAGE having said why. */
static int client_of_args(const struct cli_args *args, struct oidc_client *c, const char *who)
{
    const char *why = NULL, *id = args->values[OPT_ID];
    bool bad = false;

    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", args->argv[0]);
    if (strlen(args->argv[0]) > OIDC_CLIENT_NAME_MAX)
        why = "the name must be 1 to 128 bytes of UTF-8 without control characters";
    else if (id != NULL && strlen(id) > OIDC_CLIENT_ID_MAX)
        why = "the id must be 1 to 64 letters, digits, '-', '.', '_' or '~', not digits alone";
    else if (id != NULL && id[0] == '\0')
        why = "--id needs a value";
    else if (gather(args, OPT_REDIRECT, c->redirect_uris, &c->nredirect) != 0 ||
             gather(args, OPT_LOGOUT, c->post_logout_uris, &c->nlogout) != 0)
        why = "at most 16 redirect URIs and 16 post-logout redirect URIs";
    if (why == NULL) {
        if (id != NULL)
            snprintf(c->id, sizeof c->id, "%s", id);
        c->confidential = args->values[OPT_PUBLIC] == NULL;
        c->first_party = args->values[OPT_FIRST_PARTY] != NULL;
        c->scopes = scopes_of(args, &bad);
        if (bad)
            why = "--scope takes scopes among openid, profile, email and offline_access, "
                  "separated by single spaces";
        else
            oidc_client_check(c, &why);
    }
    if (why != NULL) {
        fprintf(stderr, "%s: %s\n", who, why);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

int clients_add_command(struct config *cfg, const struct cli_args *args)
{
    static const char who[] = "gatehouse clients add";
    struct oidc_client c;
    char secret[OIDC_SECRET_LEN + 1] = "";
    int rc = client_of_args(args, &c, who);

    if (rc != 0)
        return rc;
    cli_say_database(cfg, "adding a client to");
    store *st = cli_store_open(cfg, 1, who);
    if (st == NULL)
        return EXIT_FAILURE;
    enum outcome o = oidc_clients_add(st, &c, timefmt_now(), secret);
    store_close(st);
    rc = EXIT_FAILURE;
    if (o == OUTCOME_OK) {
        /* Standard output holds exactly these lines (API.md), so that a
         * script reads them; the secret is never logged. */
        printf("client_id: %s\n", c.id);
        if (c.confidential)
            printf("client_secret: %s\n", secret);
        rc = fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
    } else if (o == OUTCOME_CONFLICT) {
        fprintf(stderr, "%s: the id %s is taken\n", who, c.id);
    } else {
        fprintf(stderr, "%s: failed (%s)\n", who, outcome_name(o));
    }
    sodium_memzero(secret, sizeof secret);
    return rc;
}

/* Writes the URIs separated by spaces ("-" for none). */
static void print_uris(char *const *uris, size_t n)
{
    if (n == 0)
        fputs("-", stdout);
    for (size_t i = 0; i < n; i++)
        printf("%s%s", i > 0 ? " " : "", uris[i]);
}

static void print_client(const struct oidc_client *c, void *arg)
{
    char scopes[OIDC_SCOPE_MAX + 1], t[32];
    size_t len = strlen(c->name);
    char *shown = malloc(4 * len + 1);

    (void)arg;
    oidc_scope_text(c->scopes, scopes);
    /* The name escaped as users list escapes a username: no tab, line
     * break or bidirectional control shows as itself. The URIs hold
     * printable ASCII only (oidc_client_check). */
    printf("%s\t%s\t%s\t%s\t%s\t", c->id,
           shown != NULL ? log_escape(c->name, len, shown, 4 * len + 1, false) : "?",
           c->confidential ? "confidential" : "public", c->first_party ? "yes" : "no", scopes);
    print_uris(c->redirect_uris, c->nredirect);
    fputc('\t', stdout);
    print_uris(c->post_logout_uris, c->nlogout);
    printf("\t%s\n", timefmt_rfc3339(t, sizeof t, c->created_at));
    free(shown);
}

int clients_list_command(struct config *cfg, const struct cli_args *args)
{
    store *st = cli_store_open(cfg, 1, "gatehouse clients list");

    (void)args;
    if (st == NULL)
        return EXIT_FAILURE;
    printf("client_id\tname\ttype\tfirst_party\tscopes\tredirect_uris\tpost_logout_redirect_uris"
           "\tcreated_at\n");
    enum outcome o = oidc_clients_list(st, print_client, NULL);
    store_close(st);
    if (o != OUTCOME_OK) {
        fprintf(stderr, "gatehouse clients list: failed reading the clients\n");
        return EXIT_FAILURE;
    }
    return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

int clients_delete_command(struct config *cfg, const struct cli_args *args)
{
    const char *id = args->argv[0];
    int rc = EXIT_FAILURE;

    cli_say_database(cfg, "deleting a client from");
    store *st = cli_store_open(cfg, 1, "gatehouse clients delete");
    if (st == NULL)
        return EXIT_FAILURE;
    /* No revocation set here, as users delete: the revocations are
     * recorded for as long as the servers' access tokens live. */
    struct sessions_deps sd = {st,   NULL, config_access_ttl(cfg), 0, cfg->jwt_leeway_seconds,
                               NULL, NULL};
    enum outcome o = oidc_clients_delete(&sd, id, strlen(id));
    if (o == OUTCOME_OK) {
        printf("deleted client %s\n", id);
        rc = EXIT_SUCCESS;
    } else if (o == OUTCOME_NOT_FOUND) {
        fprintf(stderr, "gatehouse clients delete: no such client\n");
    } else {
        fprintf(stderr, "gatehouse clients delete: failed (%s)\n", outcome_name(o));
    }
    store_close(st);
    return rc;
}
