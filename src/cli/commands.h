#ifndef GH_CLI_COMMANDS_H
#define GH_CLI_COMMANDS_H

/* The command line: one table of commands, each a row with its usage, its
 * help, the groups of settings it reads, its own options and positional
 * arguments, and either a body or a table of subcommands. cli_run finds the
 * row argv names, answers --help for it, validates every setting the row
 * reads and only then runs the body, so a bad command line or setting never
 * leaves a trace (exit status 2). */

#include <jansson.h>
#include <stdio.h>

#include "cli/config.h"
#include "store/store.h"

#define CLI_EXIT_USAGE  2 /* bad usage or configuration */
#define CLI_MAX_OPTIONS 8 /* options of one command, apart from the settings */

/* An option of one command that is not a setting (e.g. --skip-existing). */
struct cli_option {
    const char *flag;  /* "--skip-existing" */
    const char *value; /* the value's name in help ("URL"), or NULL for a switch */
    const char *help;
};

/* What the command line gave a command besides its settings. argv points
 * into the program's argv. */
struct cli_args {
    int argc; /* positional arguments, in order */
    char **argv;
    /* values[i] belongs to options[i]: its value, "" for a switch given, or
     * NULL when absent. */
    const char *values[CLI_MAX_OPTIONS];
    /* Every option given, in order, repeated ones included (values keeps
     * the last): what an option that may be given more than once reads
     * (clients add --redirect-uri). */
    size_t nall;
    struct cli_value {
        size_t option; /* the index in options */
        const char *value;
    } * all;
};

struct cli_command {
    const char *name;
    const char *args;    /* positional arguments for the usage line ("FILE"), or NULL */
    const char *summary; /* one line for the list of commands */
    const char *help;    /* what it does, for its own --help */
    unsigned settings;   /* the groups of settings it reads (enum config_group) */
    int min_args, max_args;
    const struct cli_option *options; /* NULL, or ends with a NULL flag */
    /* Runs the command once its settings are valid; returns the exit status.
     * NULL for a command that only holds subcommands. */
    int (*run)(struct config *cfg, const struct cli_args *args);
    const struct cli_command *subcommands; /* NULL, or ends with a NULL name */
};

struct cli_program {
    const char *name;                   /* in usage lines and messages */
    const char *about;                  /* one paragraph for the global help */
    const struct cli_command *commands; /* ends with a NULL name */
    const char *default_command;        /* what runs when argv names no command */
    void (*version)(FILE *out);         /* prints --version */
};

/* gatehouse itself: serve (the default), migrate and users. */
extern const struct cli_program cli_gatehouse;

/* Runs the command argv names (argv[0] is the program's path). "--help" or
 * "-h" anywhere before "--" prints the help of the command named (the global
 * help when none is) to out; "--version" as the only argument prints the
 * versions to out. Usage and configuration errors go to errout as one line
 * and return CLI_EXIT_USAGE; otherwise returns the command's exit status. */
int cli_run(const struct cli_program *prog, int argc, char **argv, FILE *out, FILE *errout);

/* Opens (and migrates) the store of DATABASE_URL with nconns connections
 * and the PostgreSQL timeouts of cfg; on failure writes "who: reason" to
 * standard error and returns NULL. What every command that reads the
 * database starts with (migrate.c). */
store *cli_store_open(const struct config *cfg, unsigned nconns, const char *who);

/* The mailer of cfg's mail settings (core/mail.h), for serve and the
 * commands that mail: NULL with *failed false when SMTP_URL is unset (mail
 * is off); NULL with *failed true, having logged why (log_fatal, who), when
 * it cannot be made (libcurl missing, a bad template). */
struct mailer; /* core/mail.h */
struct mailer *cli_mailer_open(const struct config *cfg, const char *who, bool *failed);

/* Logs "<doing> the SQLite database /path" or "<doing> the PostgreSQL
 * database host:port/dbname" (never a user or password) for DATABASE_URL,
 * noting when it is the default: the first line of every command that
 * writes, so that nobody writes to a database unawares (migrate.c). */
void cli_say_database(const struct config *cfg, const char *doing);

/* Command bodies, one file each. */
int serve_command(struct config *cfg, const struct cli_args *args);        /* serve.c */
int migrate_command(struct config *cfg, const struct cli_args *args);      /* migrate.c */
void version_print(FILE *out);                                             /* version.c */
int users_import_command(struct config *cfg, const struct cli_args *args); /* users.c */
int users_add_command(struct config *cfg, const struct cli_args *args);
int users_delete_command(struct config *cfg, const struct cli_args *args);
int users_list_command(struct config *cfg, const struct cli_args *args);
int users_reset_password_command(struct config *cfg, const struct cli_args *args);
int users_roles_command(struct config *cfg, const struct cli_args *args);
int users_disable_command(struct config *cfg, const struct cli_args *args);
int users_enable_command(struct config *cfg, const struct cli_args *args);

int apikeys_create_command(struct config *cfg, const struct cli_args *args); /* apikeys.c */
int apikeys_list_command(struct config *cfg, const struct cli_args *args);
int apikeys_revoke_command(struct config *cfg, const struct cli_args *args);
int keys_generate_command(struct config *cfg, const struct cli_args *args); /* keys.c */
int clients_add_command(struct config *cfg, const struct cli_args *args);   /* clients.c */
int clients_list_command(struct config *cfg, const struct cli_args *args);
int clients_delete_command(struct config *cfg, const struct cli_args *args);

/* An audit event of a command (actor "cli", cli/audit.c): cli_audit_hold
 * before the core call that makes the change (details, consumed, may be
 * NULL; never a password, key or hash), cli_audit_done after it with
 * whether it succeeded and the user it concerned (0: none or known
 * already). Core writes the event inside the change's transaction where it
 * has one (store_audit_held_add); otherwise it is written alone here. */
struct cli_audit {
    struct store_audit_event e;
    char details[STORE_AUDIT_DETAILS_MAX + 1];
};
void cli_audit_hold(struct cli_audit *a, const char *type, json_t *details);
void cli_audit_done(store *st, struct cli_audit *a, bool ok, int64_t user_id);

#endif
