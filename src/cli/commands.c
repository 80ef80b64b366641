#include "cli/commands.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"

/* The options of users import, in the order users.c numbers them. */
static const struct cli_option import_options[] = {
    {"--skip-existing", NULL,
     "skip a row imported before (its name taken by the user of its id) instead of failing"},
    {"--from-database", "URL",
     "read the original app's table \"user\" from this PostgreSQL database instead of FILE"},
    {"--skip-invalid", NULL, "import the other rows when some are refused"},
    {"--rejects", "FILE", "write the refused rows to FILE, a CSV with their reasons to import"},
    {"--new-ids", NULL, "give a row whose id another user has a new id instead of refusing it"},
    {0},
};

/* The options of users reset-password. */
static const struct cli_option reset_password_options[] = {
    {"--stdin", NULL,
     "read the new password from standard input (its first line); without it, mail a reset link"},
    {0},
};

static const struct cli_command users_commands[] = {
    {"import", "[FILE]", "import users with their password hashes (CSV, or the original app)",
     "Imports users with the password hashes another system made, so that they log in\n"
     "with their old passwords. FILE (\"-\": standard input) is CSV (RFC 4180) with\n"
     "the header \"username,password_hash\"; an \"id\" column keeps the ids given (an\n"
     "empty one: a new id), and a \"reason\" column is ignored. --from-database URL\n"
     "reads the table \"user\" (id, username, hashed_password) of the original\n"
     "FastAPI app's PostgreSQL database instead (its postgresql+asyncpg:// URL works),\n"
     "read-only, and keeps the ids: new registrations get ids past them.\n\n"
     "Hashes: bcrypt $2a$, $2b$, $2y$ (cost up to 16) and argon2id PHC strings (up to\n"
     "1 GiB, 10 passes, 16 lanes). A username needs only be 1-255 bytes of UTF-8\n"
     "without control characters: the rules of a new name do not apply. Ids: 1 to\n"
     "9000000000000000000. Every row is checked first, then all are written in one\n"
     "transaction: a bad row (an unusable name, hash or id, a name or id twice, a\n"
     "name or id taken) imports nothing, and each is reported with its line (its id\n"
     "with --from-database), exit status 1. With --skip-invalid the other rows are\n"
     "imported (exit status 0); --rejects FILE writes the refused rows with a reason\n"
     "column, a CSV to correct and import. The first line names the database written\n"
     "to. It works while a server runs on the same database.",
     CONFIG_DATABASE, 0, 1, import_options, users_import_command, NULL},
    {"add", "USERNAME", "add a user; the password is read from standard input",
     "Adds a user. The password is the first line of standard input. The rules of\n"
     "/register apply to the name and the password, with its messages; a broken rule\n"
     "or a taken name exits 1.",
     CONFIG_DATABASE | CONFIG_PASSWORDS, 1, 1, NULL, users_add_command, NULL},
    {"delete", "USERNAME", "delete a user and revoke its sessions",
     "Deletes a user (the name as a login matches it) and revokes every session of it,\n"
     "recording the revocations until the last access token would expire, so it reads\n"
     "the token settings; give it the servers' ACCESS_TOKEN_EXPIRE_MINUTES and\n"
     "JWT_LEEWAY_SECONDS. A running server refuses the sessions' tokens within a\n"
     "second (PostgreSQL: it is notified; SQLite: it looks at the file twice a\n"
     "second). An unknown user exits 1.",
     CONFIG_DATABASE | CONFIG_TOKENS, 1, 1, NULL, users_delete_command, NULL},
    {"reset-password", "USERNAME [--stdin]",
     "mail a user a password reset link, or set the password read from standard input",
     "Without --stdin, mails a password reset link to the user's address (the name\n"
     "as a login matches it), as POST /password/forgot would, but at once and\n"
     "without its per-account limit: the link is queued in the outbox, then this\n"
     "command sends what is due itself, so that it arrives with no server running\n"
     "(a running server's sender would also send it within 30 s). It needs mail:\n"
     "SMTP_URL, PUBLIC_URL and MAIL_FROM. Mail off or a user without an address\n"
     "exits 2; an unknown user, or an SMTP server that refused the mail now (it\n"
     "stays queued), exits 1.\n"
     "With --stdin, sets the password of the user to the first line of standard\n"
     "input (so that it shows neither in ps nor in the shell's history), under the\n"
     "rules of /register, and revokes every session of the user, as users delete\n"
     "does, so it reads the token settings too. A broken rule or an unknown user\n"
     "exits 1.",
     CONFIG_DATABASE | CONFIG_PASSWORDS | CONFIG_TOKENS | CONFIG_MAIL, 1, 1, reset_password_options,
     users_reset_password_command, NULL},
    {"list", NULL, "list the users: id, username, creation time (never hashes)",
     "Prints one line per user, by id: id, username and creation time (RFC 3339),\n"
     "separated by tabs, after a header line. Password hashes are never shown.",
     CONFIG_DATABASE, 0, 0, NULL, users_list_command, NULL},
    {"roles", "USERNAME add|remove ROLE", "give a user a role, or take it away",
     "Adds ROLE to the roles of a user (the name as a login matches it), or removes\n"
     "it, and prints the roles the user has then. A role is 1 to 32 characters of\n"
     "a-z 0-9 . _ - (anything else is refused, not folded: exit 2); a user has at\n"
     "most 16. Access tokens carry the roles from the user's next sign-in or refresh;\n"
     "the admin API reads them from the database at every request. An unknown user\n"
     "exits 1.",
     CONFIG_DATABASE, 3, 3, NULL, users_roles_command, NULL},
    {"disable", "USERNAME", "disable a user: no sign-in, every session revoked",
     "Disables a user (the name as a login matches it): every sign-in is refused as a\n"
     "wrong password is, and every session is revoked in the same transaction,\n"
     "recording the revocations until the last access token would expire, so it\n"
     "reads the token settings (give it the servers' ACCESS_TOKEN_EXPIRE_MINUTES and\n"
     "JWT_LEEWAY_SECONDS). A running server refuses the user's tokens within a\n"
     "second. An unknown user exits 1.",
     CONFIG_DATABASE | CONFIG_TOKENS, 1, 1, NULL, users_disable_command, NULL},
    {"enable", "USERNAME", "enable a disabled user again",
     "Lets a disabled user sign in again. The sessions revoked when it was disabled\n"
     "stay revoked. An unknown user exits 1.",
     CONFIG_DATABASE, 1, 1, NULL, users_enable_command, NULL},
    {0},
};

/* The options of keys generate, in the order keys.c numbers them. */
static const struct cli_option keys_generate_options[] = {
    {"--alg", "ALG", "EdDSA (Ed25519), ES256 (EC P-256) or RS256 (RSA 3072 bits); required"},
    {"--out", "FILE", "write the key to FILE (mode 0600; an existing FILE is never replaced)"},
    {0},
};

static const struct cli_command keys_commands[] = {
    {"generate", NULL, "make a new private key for JWT_PRIVATE_KEY_FILE and print its kid",
     "Makes a new private key (unencrypted PKCS#8 PEM) for ALGORITHM EdDSA, ES256 or\n"
     "RS256. With --out FILE the key is written to FILE with mode 0600, all at once\n"
     "(a temporary file linked into place), and its kid (RFC 7638 thumbprint, as in\n"
     "the tokens' header and /.well-known/jwks.json) is printed; an existing FILE is\n"
     "left alone (exit 1). Without --out the key goes to standard output and the\n"
     "kid to standard error.",
     0, 0, 0, keys_generate_options, keys_generate_command, NULL},
    {0},
};

/* The options of clients add, in the order clients.c numbers them. */
static const struct cli_option clients_add_options[] = {
    {"--redirect-uri", "URI", "a redirect URI, matched exactly; required, up to 16 (repeat it)"},
    {"--public", NULL, "a public client (no secret; it must use PKCE S256)"},
    {"--first-party", NULL, "its users are never asked for consent"},
    {"--post-logout-redirect-uri", "URI", "where /oidc/logout may send back to (repeat it)"},
    {"--scope", "SCOPES",
     "the scopes it may ask for, of openid profile email offline_access (all by default)"},
    {"--id", "ID", "its client_id, not digits alone (default: gh_ and 22 random characters)"},
    {0},
};

static const struct cli_command clients_commands[] = {
    {"add", "NAME", "register an OpenID Connect client and print its id (and secret)",
     "Registers a client of the OpenID Connect provider under NAME (what the consent\n"
     "page shows) and prints \"client_id: <id>\" and, for a confidential client,\n"
     "\"client_secret: <secret>\", each on a line of its own. The secret is shown\n"
     "this once: only its SHA-256 is stored. Redirect URIs are absolute, without a\n"
     "fragment, at most 2048 characters, compared byte for byte at /authorize.\n"
     "--scope takes a space-separated list (it may be repeated). A running server\n"
     "serves the client at once; the provider needs PUBLIC_URL, and a server started\n"
     "with a client registered and no PUBLIC_URL refuses to start. A bad argument\n"
     "exits 2, an id taken exits 1.",
     CONFIG_DATABASE, 1, 1, clients_add_options, clients_add_command, NULL},
    {"list", NULL, "list the clients (never their secrets)",
     "Prints one line per client, by id, after a header line, separated by tabs:\n"
     "client_id, name, type (confidential or public), first-party (yes or no),\n"
     "scopes, redirect URIs (separated by spaces), post-logout redirect URIs and the\n"
     "creation time (RFC 3339). Secrets are never shown: only their hashes are kept.",
     CONFIG_DATABASE, 0, 0, NULL, clients_list_command, NULL},
    {"delete", "ID", "delete a client, its consents and codes, and revoke its sessions",
     "Deletes the client ID with its users' consents and its authorization codes, and\n"
     "revokes every session it holds (refresh tokens, and access tokens at /userinfo\n"
     "within a second on a running server), recording the revocations until the last\n"
     "access token would expire, so it reads the token settings; give it the\n"
     "servers' ACCESS_TOKEN_EXPIRE_MINUTES and JWT_LEEWAY_SECONDS. An unknown\n"
     "client exits 1.",
     CONFIG_DATABASE | CONFIG_TOKENS, 1, 1, NULL, clients_delete_command, NULL},
    {0},
};

/* The options of apikeys create, in the order apikeys.c numbers them. */
static const struct cli_option apikeys_create_options[] = {
    {"--role", "ROLE", "a role the key acts with (admin opens the admin API); required, repeat it"},
    {"--name", "NAME", "a name to tell the key by in the list (up to 128 bytes)"},
    {0},
};

static const struct cli_command apikeys_commands[] = {
    {"create", NULL, "make an API key for the admin API and print it once",
     "Makes an API key and prints \"id: <id>\" and \"key: ghk_<43 characters>\", each\n"
     "on a line of its own. The key is shown this once: only its SHA-256 is stored.\n"
     "Send it as \"Authorization: Bearer ghk_...\"; only /admin/ routes accept it, and\n"
     "they need the role admin. A bad role (1 to 32 characters of a-z 0-9 . _ -) or\n"
     "none exits 2.",
     CONFIG_DATABASE, 0, 0, apikeys_create_options, apikeys_create_command, NULL},
    {"list", NULL, "list the API keys (never the keys themselves)",
     "Prints one line per key, oldest first, after a header line, separated by tabs:\n"
     "id, name, roles (comma-separated), created_at, last_used_at and revoked_at\n"
     "(RFC 3339; \"-\" for never).",
     CONFIG_DATABASE, 0, 0, NULL, apikeys_list_command, NULL},
    {"revoke", "ID", "revoke an API key",
     "Revokes the key ID at once: a running server refuses it from its next request.\n"
     "An unknown or already revoked key exits 1.",
     CONFIG_DATABASE, 1, 1, NULL, apikeys_revoke_command, NULL},
    {0},
};

/* The commands of gatehouse. A new command is one row here (a group of
 * subcommands is a row whose subcommands table holds the rows) and one body
 * in its own file. */
static const struct cli_command gatehouse_commands[] = {
    {"serve", NULL, "serve HTTP until SIGTERM or SIGINT (the default)",
     "Serves the HTTP API; \"gatehouse\" alone does the same. First it binds PORT\n"
     "(a port in use exits 1 with nothing created), then brings the database schema\n"
     "up to date and, with SQLite and no SECRET_KEY, reads the key kept in\n"
     "<database>.secret (generating it the first time). SIGTERM or SIGINT stops\n"
     "accepting, lets in-flight requests finish for up to SHUTDOWN_GRACE_SECONDS\n"
     "(work still running then is abandoned), and exits 0. SIGHUP reads\n"
     "JWT_PRIVATE_KEY_FILE, JWT_VERIFY_KEYS_DIR and OIDC_PRIVATE_KEY_FILE again; when\n"
     "one fails to load, the keys in force stay and the log says why. With\n"
     "PUBLIC_URL the OpenID Connect provider serves the clients of gatehouse clients\n"
     "add; its key is OIDC_PRIVATE_KEY_FILE, else JWT_PRIVATE_KEY_FILE with an\n"
     "asymmetric ALGORITHM, else (SQLite) an RSA key made once in\n"
     "<database>.oidc-key.pem. A registered client without PUBLIC_URL, or on\n"
     "PostgreSQL with HS256 and no OIDC_PRIVATE_KEY_FILE, refuses the start (exit 2).",
     CONFIG_ALL, 0, 0, NULL, serve_command, NULL},
    {"migrate", NULL, "bring the database schema up to date and exit",
     "Brings the database schema up to date and exits. Serving does this too, so a\n"
     "deployment may run it first but need not. It needs no SECRET_KEY.",
     CONFIG_DATABASE, 0, 0, NULL, migrate_command, NULL},
    {"users", NULL, "manage users",
     "Imports, adds, deletes and lists users, resets passwords, gives roles, and\n"
     "disables and enables users.",
     0, 0, 0, NULL, NULL, users_commands},
    {"apikeys", NULL, "manage the admin API's keys", "Creates, lists and revokes API keys.", 0, 0,
     0, NULL, NULL, apikeys_commands},
    {"keys", NULL, "manage signing keys", "Generates signing keys.", 0, 0, 0, NULL, NULL,
     keys_commands},
    {"clients", NULL, "manage the OpenID Connect provider's clients",
     "Adds, lists and deletes the clients (relying parties) of the OpenID Connect\n"
     "provider.",
     0, 0, 0, NULL, NULL, clients_commands},
    {0},
};

const struct cli_program cli_gatehouse = {
    .name = "gatehouse",
    .about = "gatehouse registers users, logs them in and issues JWT access tokens.",
    .commands = gatehouse_commands,
    .default_command = "serve",
    .version = version_print,
};

static const enum config_group all_groups[] = {CONFIG_DATABASE, CONFIG_TOKENS,  CONFIG_PASSWORDS,
                                               CONFIG_SERVING,  CONFIG_LOGGING, CONFIG_MAIL};

#define NGROUPS (sizeof all_groups / sizeof all_groups[0])

static const char exit_status_help[] =
    "Exit status: 0 success, 1 failure, 2 bad usage or configuration.\n";

static const char settings_heading[] =
    "Settings (environment variable, flag, default; a flag wins over the variable):\n";

/* An argument that starts an option; a lone "-" is an argument (standard
 * input, for the commands that read a file). */
static bool is_option(const char *arg)
{
    return arg[0] == '-' && arg[1] != '\0';
}

static const struct cli_command *find_command(const struct cli_command *table, const char *name)
{
    for (const struct cli_command *c = table; c != NULL && c->name != NULL; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static const struct cli_option *find_option(const struct cli_command *cmd, const char *arg,
                                            size_t len, size_t *index)
{
    for (size_t i = 0; cmd->options != NULL && cmd->options[i].flag != NULL; i++) {
        if (strlen(cmd->options[i].flag) == len && strncmp(cmd->options[i].flag, arg, len) == 0) {
            *index = i;
            return &cmd->options[i];
        }
    }
    return NULL;
}

/* Appends " word" to the path of a command (path holds cap bytes). */
static void path_append(char *path, size_t cap, const char *word)
{
    size_t n = strlen(path);
    if (n < cap)
        snprintf(path + n, cap - n, " %s", word);
}

static bool wants_help(int argc, char **argv, int first)
{
    for (int i = first; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return false;
}

/* The longest name print_command_list shows for table under prefix. */
static int command_width(const struct cli_command *table, const char *prefix)
{
    int w = 0;

    for (const struct cli_command *c = table; c->name != NULL; c++) {
        char name[64];
        int n =
            snprintf(name, sizeof name, "%s%s%s", prefix, prefix[0] != '\0' ? " " : "", c->name);
        if (c->subcommands != NULL)
            n = command_width(c->subcommands, name);
        w = n > w ? n : w;
    }
    return w;
}

/* Prints the commands of table, subcommands under their group's name, in
 * a column of width characters and two spaces. */
static void print_commands(FILE *out, const struct cli_command *table, const char *prefix,
                           int width)
{
    for (const struct cli_command *c = table; c->name != NULL; c++) {
        char name[64];
        snprintf(name, sizeof name, "%s%s%s", prefix, prefix[0] != '\0' ? " " : "", c->name);
        if (c->subcommands != NULL) {
            print_commands(out, c->subcommands, name, width);
            continue;
        }
        fprintf(out, "  %-*s  %s\n", width, name, c->summary);
    }
}

static void print_command_list(FILE *out, const struct cli_command *table, const char *prefix)
{
    print_commands(out, table, prefix, command_width(table, prefix));
}

/* Appends to list (cap bytes) the names of the commands of table that read
 * group, as "serve, migrate". */
static void readers_of(enum config_group group, const struct cli_command *table, const char *prefix,
                       char *list, size_t cap)
{
    for (const struct cli_command *c = table; c->name != NULL; c++) {
        char name[64];
        snprintf(name, sizeof name, "%s%s%s", prefix, prefix[0] != '\0' ? " " : "", c->name);
        if (c->subcommands != NULL) {
            readers_of(group, c->subcommands, name, list, cap);
            continue;
        }
        if ((c->settings & group) == 0 && !(group == CONFIG_LOGGING && c->settings != 0))
            continue;
        size_t n = strlen(list);
        if (n < cap)
            snprintf(list + n, cap - n, "%s%s", n > 0 ? ", " : "", name);
    }
}

static void print_settings(FILE *out, const struct cli_program *prog, unsigned groups)
{
    fputs(settings_heading, out);
    for (size_t g = 0; g < NGROUPS; g++) {
        if ((groups & all_groups[g]) == 0)
            continue;
        if (prog != NULL) {
            char readers[256] = "";
            readers_of(all_groups[g], prog->commands, "", readers, sizeof readers);
            fprintf(out, " %s (read by: %s):\n", config_group_name(all_groups[g]),
                    readers[0] != '\0' ? readers : "none");
        } else {
            fprintf(out, " %s:\n", config_group_name(all_groups[g]));
        }
        config_print_settings(out, all_groups[g]);
    }
}

/* The usage lines after the first start with "or:", as GNU tools' do: the
 * man page's generator (help2man, Makefile) takes such lines into the
 * SYNOPSIS, one per line, where indented ones would be run together into
 * the DESCRIPTION. */
static void print_global_help(const struct cli_program *prog, FILE *out)
{
    fprintf(out,
            "Usage: %s [<command> [<subcommand>]] [--flag value ...] [<arguments>]\n"
            "   or: %s [<command> [<subcommand>]] --help\n"
            "   or: %s --version\n\n"
            "%s\n\n"
            "Commands (\"%s <command> --help\" describes one):\n",
            prog->name, prog->name, prog->name, prog->about, prog->name);
    print_command_list(out, prog->commands, "");
    fprintf(out, "Without a command, %s runs \"%s\".\n\n", prog->name, prog->default_command);
    print_settings(out, prog, CONFIG_ALL);
    fprintf(out,
            "A command takes the flags of the groups it reads and ignores the variables of\n"
            "the others.\n\n"
            "%s",
            exit_status_help);
}

static void print_command_help(const char *path, const struct cli_command *cmd, FILE *out)
{
    if (cmd->subcommands != NULL) {
        fprintf(out,
                "Usage: %s <subcommand> ...\n\n%s\n\nSubcommands (\"%s <subcommand> --help\" "
                "describes one):\n",
                path, cmd->help, path);
        print_command_list(out, cmd->subcommands, path);
        fprintf(out, "\n%s", exit_status_help);
        return;
    }
    fprintf(out, "Usage: %s%s%s%s%s\n\n%s\n", path, cmd->settings != 0 ? " [--flag value ...]" : "",
            cmd->options != NULL ? " [options]" : "", cmd->args != NULL ? " " : "",
            cmd->args != NULL ? cmd->args : "", cmd->help);
    if (cmd->options != NULL) {
        fputs("\nOptions:\n", out);
        for (const struct cli_option *o = cmd->options; o->flag != NULL; o++) {
            char flag[64];
            snprintf(flag, sizeof flag, "%s%s%s", o->flag, o->value != NULL ? " " : "",
                     o->value != NULL ? o->value : "");
            fprintf(out, "  %-28s %s\n", flag, o->help);
        }
    }
    if (cmd->settings != 0) {
        fputc('\n', out);
        print_settings(out, NULL, cmd->settings | CONFIG_LOGGING);
    }
    fprintf(out, "\n%s", exit_status_help);
}

/* Splits argv[first..argc) into the command's options (into args->values),
 * the flags of settings with their values (into flags, for config_parse,
 * which refuses those of groups the command does not read) and the
 * positional arguments (into args->argv). After "--" every argument is
 * positional. Returns 0, or -1 with a reason in err (an unknown option). */
static int split_args(const struct cli_command *cmd, int argc, char **argv, int first,
                      struct cli_args *args, char **flags, int *nflags, char *err, size_t errlen)
{
    bool positional_only = false;

    for (int i = first; i < argc; i++) {
        char *arg = argv[i];
        if (positional_only || !is_option(arg)) {
            args->argv[args->argc++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            positional_only = true;
            continue;
        }
        const char *eq = strchr(arg, '=');
        size_t len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
        size_t index = 0;
        const struct cli_option *opt = find_option(cmd, arg, len, &index);
        if (opt != NULL && index < CLI_MAX_OPTIONS) {
            if (opt->value == NULL && eq != NULL) {
                snprintf(err, errlen, "%s takes no value", opt->flag);
                return -1;
            }
            if (opt->value == NULL) {
                args->values[index] = "";
            } else if (eq != NULL) {
                args->values[index] = eq + 1;
            } else if (i + 1 < argc) {
                args->values[index] = argv[++i];
            } else {
                snprintf(err, errlen, "%s needs a value (%s)", opt->flag, opt->value);
                return -1;
            }
            args->all[args->nall++] = (struct cli_value){index, args->values[index]};
            continue;
        }
        if (!config_is_flag(arg, len)) {
            /* The name only: the value of a misspelt --secret-key is a secret. */
            snprintf(err, errlen, "unknown argument \"%.*s\"", (int)(len < 60 ? len : 60), arg);
            return -1;
        }
        flags[(*nflags)++] = arg;
        /* A setting's flag takes the next argument as its value unless it
         * carries one after "=". */
        if (eq == NULL && i + 1 < argc)
            flags[(*nflags)++] = argv[++i];
    }
    return 0;
}

/* Where errors go: errout as plain lines, or with json (LOG_FORMAT=json
 * in the environment or on the command line) as log lines. */
struct cli_errors {
    FILE *errout;
    bool json;
};

static int usage_error(const struct cli_program *prog, const struct cli_errors *e, const char *path,
                       const char *msg)
{
    if (e->json) {
        log_configure(LOG_FORMAT_JSON, LOG_ERROR);
        log_fatal(path, "%s (see %s --help)", msg, prog->name);
    } else {
        fprintf(e->errout, "%s: %s (see %s --help)\n", path, msg, prog->name);
    }
    return CLI_EXIT_USAGE;
}

/* Parses and validates the settings and arguments of cmd, then runs it. */
static int run_command(const struct cli_program *prog, const char *path,
                       const struct cli_command *cmd, int argc, char **argv, int first,
                       const struct cli_errors *e)
{
    char err[512] = "";
    struct config cfg;
    struct cli_args args;
    bool help = false;
    int nflags = 0, rc;
    /* Both hold at most every argument; argc is small. */
    char **flags = calloc((size_t)argc + 1, sizeof *flags);
    char **positional = calloc((size_t)argc + 1, sizeof *positional);
    struct cli_value *all = calloc((size_t)argc + 1, sizeof *all);

    if (flags == NULL || positional == NULL || all == NULL) {
        free(flags);
        free(positional);
        free(all);
        fprintf(e->errout, "%s: out of memory\n", path);
        return EXIT_FAILURE;
    }
    memset(&args, 0, sizeof args);
    args.argv = positional;
    args.all = all;
    if (split_args(cmd, argc, argv, first, &args, flags, &nflags, err, sizeof err) != 0) {
        rc = usage_error(prog, e, path, err);
        goto done;
    }
    if (args.argc < cmd->min_args || args.argc > cmd->max_args) {
        if (args.argc > cmd->max_args && cmd->max_args == 0)
            snprintf(err, sizeof err, "unexpected argument \"%.60s\"", args.argv[0]);
        else
            snprintf(err, sizeof err, "expected %s", cmd->args != NULL ? cmd->args : "no argument");
        rc = usage_error(prog, e, path, err);
        goto done;
    }
    if (config_parse(&cfg, cmd->settings, nflags, flags, 0, &help, err, sizeof err) != 0) {
        /* In the LOG_FORMAT asked for, when it was readable: a log shipper
         * must see why the process never started. */
        if (cfg.log_format_id == LOG_FORMAT_JSON) {
            log_configure(LOG_FORMAT_JSON, LOG_ERROR);
            log_fatal(path, "%s", err);
        } else {
            fprintf(e->errout, "%s: %s\n", path, err);
        }
        config_free(&cfg);
        rc = CLI_EXIT_USAGE;
        goto done;
    }
    log_configure((enum log_format)cfg.log_format_id, (enum log_level)cfg.log_level_id);
    if (cmd->settings != 0)
        config_check_environment(environ);
    rc = cmd->run(&cfg, &args);
    config_free(&cfg);
done:
    free(flags);
    free(positional);
    free(all);
    return rc;
}

int cli_run(const struct cli_program *prog, int argc, char **argv, FILE *out, FILE *errout)
{
    const struct cli_command *cmd = NULL; /* the command argv names, if any */
    char path[128];
    int i = 1;

    struct cli_errors errs = {errout, config_log_format_of(argc, argv, 1) == LOG_FORMAT_JSON};
    const struct cli_errors *e = &errs;

    snprintf(path, sizeof path, "%s", prog->name);
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        if (argc > 2)
            return usage_error(prog, e, path, "--version takes no arguments");
        prog->version(out);
        return EXIT_SUCCESS;
    }
    if (i < argc && !is_option(argv[i])) {
        cmd = find_command(prog->commands, argv[i]);
        if (cmd == NULL) {
            char msg[128];
            snprintf(msg, sizeof msg, "unknown command \"%.60s\"", argv[i]);
            return usage_error(prog, e, path, msg);
        }
        path_append(path, sizeof path, argv[i++]);
        while (cmd->subcommands != NULL && i < argc && !is_option(argv[i])) {
            const struct cli_command *sub = find_command(cmd->subcommands, argv[i]);
            if (sub == NULL) {
                char msg[128];
                snprintf(msg, sizeof msg, "unknown subcommand \"%.60s\"", argv[i]);
                return usage_error(prog, e, path, msg);
            }
            cmd = sub;
            path_append(path, sizeof path, argv[i++]);
        }
    }
    if (wants_help(argc, argv, i)) {
        if (cmd == NULL)
            print_global_help(prog, out);
        else
            print_command_help(path, cmd, out);
        return EXIT_SUCCESS;
    }
    if (cmd == NULL) {
        cmd = find_command(prog->commands, prog->default_command);
        if (cmd == NULL)
            return usage_error(prog, e, path, "no command given");
    }
    if (cmd->run == NULL) {
        char msg[256] = "expected a subcommand:";
        for (const struct cli_command *c = cmd->subcommands; c->name != NULL; c++)
            path_append(msg, sizeof msg, c->name);
        return usage_error(prog, e, path, msg);
    }
    return run_command(prog, path, cmd, argc, argv, i, e);
}
