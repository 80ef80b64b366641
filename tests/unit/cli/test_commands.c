/* cli/commands: finding the row argv names, help per command, options and
 * arguments, and nothing run unless the whole command line is valid. The
 * table here has the shape the later commands take (users import FILE with
 * its own options); the last tests use gatehouse's own table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "test.h"

/* What the last body run saw. */
static struct {
    const char *name; /* NULL: no body ran */
    int argc;
    const char *argv[4];
    const char *values[2];
    long port;
    char database_url[64];
} ran;

static int record(const char *name, struct config *cfg, const struct cli_args *args)
{
    ran.name = name;
    ran.argc = args->argc;
    for (int i = 0; i < args->argc && i < 4; i++)
        ran.argv[i] = args->argv[i];
    ran.values[0] = args->values[0];
    ran.values[1] = args->values[1];
    ran.port = cfg->port;
    snprintf(ran.database_url, sizeof ran.database_url, "%s", cfg->database_url);
    return 7; /* not 0, 1 or 2, so that the test sees it passed through */
}

static int run_serve(struct config *cfg, const struct cli_args *args)
{
    return record("serve", cfg, args);
}

static int run_migrate(struct config *cfg, const struct cli_args *args)
{
    return record("migrate", cfg, args);
}

static int run_import(struct config *cfg, const struct cli_args *args)
{
    return record("users import", cfg, args);
}

static int run_add(struct config *cfg, const struct cli_args *args)
{
    return record("users add", cfg, args);
}

static void fake_version(FILE *out)
{
    fputs("fake 1.2.3\n", out);
}

static const struct cli_option import_options[] = {
    {"--skip-existing", NULL, "leave existing usernames alone"},
    {"--from-database", "URL", "read the users of another database"},
    {0},
};

static const struct cli_command users[] = {
    {"import", "FILE", "import users", "Imports users from FILE.", CONFIG_DATABASE, 0, 1,
     import_options, run_import, NULL},
    {"add", "USERNAME", "add a user", "Adds USERNAME.", CONFIG_DATABASE | CONFIG_PASSWORDS, 1, 1,
     NULL, run_add, NULL},
    {0},
};

static const struct cli_command commands[] = {
    {"serve", NULL, "serve", "Serves.", CONFIG_ALL, 0, 0, NULL, run_serve, NULL},
    {"migrate", NULL, "migrate", "Migrates.", CONFIG_DATABASE, 0, 0, NULL, run_migrate, NULL},
    {"users", NULL, "manage users", "Manages users.", 0, 0, 0, NULL, NULL, users},
    {0},
};

static const struct cli_program prog = {"fake", "A fake program.", commands, "serve", fake_version};

/* Output of one cli_run. */
struct outcome {
    int rc;
    char *out, *err; /* malloc'd */
};

/* Runs p with argv = {"fake", args..., NULL} in a clean environment. */
static struct outcome run_with(const struct cli_program *p, int nargs, const char *const *args)
{
    char *argv[16];
    struct outcome o = {0};
    size_t outlen = 0, errlen = 0;

    argv[0] = (char *)"fake";
    for (int i = 0; i < nargs && i < 14; i++)
        argv[i + 1] = (char *)args[i];
    argv[nargs + 1] = NULL;
    memset(&ran, 0, sizeof ran);
    FILE *out = open_memstream(&o.out, &outlen);
    FILE *err = open_memstream(&o.err, &errlen);
    if (out == NULL || err == NULL) {
        o.rc = -1;
        return o;
    }
    o.rc = cli_run(p, nargs + 1, argv, out, err);
    fclose(out);
    fclose(err);
    return o;
}

static void outcome_free(struct outcome *o)
{
    free(o->out);
    free(o->err);
}

static void clean_env(void)
{
    static const char *const vars[] = {"DATABASE_URL", "SECRET_KEY",    "HOST",
                                       "PORT",         "BCRYPT_ROUNDS", "WORKERS"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
}

#define RUN(...)                                                                                   \
    run_with(&prog, (int)(sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *)),      \
             (const char *const[]){__VA_ARGS__})

/* Expects bad usage: status 2, a message naming what, no body run. */
static void refuses(struct outcome o, const char *what, int line)
{
    test_check_int(o.rc, CLI_EXIT_USAGE, __FILE__, line, "rc", "CLI_EXIT_USAGE");
    test_check(o.err != NULL && strstr(o.err, what) != NULL, __FILE__, line,
               "the message names the problem");
    test_check(ran.name == NULL, __FILE__, line, "no body ran");
    test_check(o.out != NULL && o.out[0] == '\0', __FILE__, line, "nothing on out");
    outcome_free(&o);
}

TEST(cli_default_command)
{
    clean_env();
    struct outcome o = RUN("--port", "9100", "--database-url=sqlite:///d.db");
    CHECK_EQ_INT(o.rc, 7);
    CHECK_EQ_STR(ran.name, "serve");
    CHECK_EQ_INT(ran.port, 9100);
    CHECK_EQ_STR(ran.database_url, "sqlite:///d.db");
    CHECK_EQ_INT(ran.argc, 0);
    outcome_free(&o);
    o = run_with(&prog, 0, NULL);
    CHECK_EQ_INT(o.rc, 7);
    CHECK_EQ_STR(ran.name, "serve");
    outcome_free(&o);
}

TEST(cli_named_command)
{
    clean_env();
    struct outcome o = RUN("migrate", "--database-url", "sqlite:///m.db");
    CHECK_EQ_INT(o.rc, 7);
    CHECK_EQ_STR(ran.name, "migrate");
    CHECK_EQ_STR(ran.database_url, "sqlite:///m.db");
    outcome_free(&o);
    o = RUN("serve");
    CHECK_EQ_INT(o.rc, 7);
    CHECK_EQ_STR(ran.name, "serve");
    outcome_free(&o);
}

TEST(cli_subcommand_options_and_arguments)
{
    clean_env();
    struct outcome o = RUN("users", "import", "--skip-existing", "--from-database=postgres://x/y",
                           "--database-url", "sqlite:///u.db", "users.csv");
    CHECK_EQ_INT(o.rc, 7);
    CHECK_EQ_STR(ran.name, "users import");
    REQUIRE(ran.argc == 1);
    CHECK_EQ_STR(ran.argv[0], "users.csv");
    CHECK_EQ_STR(ran.values[0], "");
    CHECK_EQ_STR(ran.values[1], "postgres://x/y");
    CHECK_EQ_STR(ran.database_url, "sqlite:///u.db");
    outcome_free(&o);
    /* An option's value may follow it; absent options stay NULL. */
    o = RUN("users", "import", "--from-database", "postgres://x/z");
    CHECK_EQ_INT(o.rc, 7);
    CHECK(ran.values[0] == NULL);
    CHECK_EQ_STR(ran.values[1], "postgres://x/z");
    CHECK_EQ_INT(ran.argc, 0);
    outcome_free(&o);
    /* "-" is an argument (standard input), and after "--" everything is,
     * --help included: a username may look like a flag. */
    o = RUN("users", "add", "-");
    CHECK_EQ_INT(o.rc, 7);
    CHECK_EQ_STR(ran.argv[0], "-");
    outcome_free(&o);
    o = RUN("users", "add", "--bcrypt-rounds", "5", "--", "--help");
    CHECK_EQ_INT(o.rc, 7);
    CHECK_EQ_STR(ran.name, "users add");
    REQUIRE(ran.argc == 1);
    CHECK_EQ_STR(ran.argv[0], "--help");
    outcome_free(&o);
}

TEST(cli_bad_usage)
{
    clean_env();
    refuses(RUN("nope"), "\"nope\"", __LINE__);
    refuses(RUN("users", "nope"), "\"nope\"", __LINE__);
    refuses(RUN("users"), "import add", __LINE__); /* a group needs a subcommand */
    refuses(RUN("users", "--database-url", "sqlite:///x.db"), "import add", __LINE__);
    refuses(RUN("--nope"), "--nope", __LINE__);
    refuses(RUN("--nope", "1"), "--nope", __LINE__); /* not "1", taken for an argument */
    refuses(RUN("-Z"), "-Z", __LINE__);
    refuses(RUN("migrate", "--port", "9000"), "--port", __LINE__);
    refuses(RUN("migrate", "extra"), "\"extra\"", __LINE__);
    refuses(RUN("--port", "9000", "serve"), "\"serve\"", __LINE__);
    refuses(RUN("users", "add"), "USERNAME", __LINE__);
    refuses(RUN("users", "add", "a", "b"), "USERNAME", __LINE__);
    refuses(RUN("users", "import", "--skip-existing=1"), "--skip-existing", __LINE__);
    refuses(RUN("users", "import", "--from-database"), "--from-database", __LINE__);
    refuses(RUN("serve", "--port"), "--port", __LINE__);
    refuses(RUN("--version", "extra"), "--version", __LINE__);
    /* The value of a misspelt flag is never echoed: it may be a secret. */
    struct outcome o = RUN("serve", "--secret_key=Sup3rS3cretValue");
    CHECK(o.err != NULL && strstr(o.err, "\"--secret_key\"") != NULL);
    CHECK(o.err != NULL && strstr(o.err, "Sup3rS3cret") == NULL);
    refuses(o, "--secret_key", __LINE__);
}

TEST(cli_bad_setting_runs_nothing)
{
    clean_env();
    setenv("PORT", "0", 1);
    refuses(RUN("serve"), "PORT", __LINE__);
    /* migrate reads no PORT: the same environment runs it. */
    struct outcome o = RUN("migrate");
    CHECK_EQ_INT(o.rc, 7);
    outcome_free(&o);
    clean_env();
    setenv("HOST", "not-a-host.invalid", 1);
    refuses(run_with(&prog, 0, NULL), "HOST", __LINE__);
    clean_env();
    setenv("DATABASE_URL", "postgresql://u:p@127.0.0.1:1/db", 1);
    refuses(RUN("serve"), "SECRET_KEY", __LINE__);
    o = RUN("migrate");
    CHECK_EQ_INT(o.rc, 7);
    outcome_free(&o);
    clean_env();
    setenv("BCRYPT_ROUNDS", "3", 1);
    refuses(RUN("users", "add", "alice"), "BCRYPT_ROUNDS", __LINE__);
    clean_env();
}

TEST(cli_help_per_command)
{
    clean_env();
    /* Help needs no valid configuration. */
    setenv("PORT", "x", 1);
    struct outcome o = RUN("users", "import", "--help");
    CHECK_EQ_INT(o.rc, 0);
    CHECK(ran.name == NULL);
    REQUIRE(o.out != NULL);
    CHECK(strstr(o.out, "Usage: fake users import") != NULL);
    CHECK(strstr(o.out, "FILE") != NULL);
    CHECK(strstr(o.out, "Imports users from FILE.") != NULL);
    CHECK(strstr(o.out, "--from-database URL") != NULL);
    CHECK(strstr(o.out, "--skip-existing") != NULL);
    CHECK(strstr(o.out, "DATABASE_URL") != NULL);
    CHECK(strstr(o.out, "--port") == NULL);
    CHECK(strstr(o.out, "BCRYPT_ROUNDS") == NULL);
    CHECK_EQ_STR(o.err, "");
    outcome_free(&o);
    o = RUN("users", "add", "-h", "alice");
    CHECK_EQ_INT(o.rc, 0);
    CHECK(strstr(o.out, "Usage: fake users add") != NULL);
    CHECK(strstr(o.out, "BCRYPT_ROUNDS") != NULL);
    CHECK(strstr(o.out, "SECRET_KEY") == NULL);
    outcome_free(&o);
    o = RUN("users", "--help");
    CHECK_EQ_INT(o.rc, 0);
    CHECK(strstr(o.out, "Manages users.") != NULL);
    CHECK(strstr(o.out, "fake users import") != NULL);
    CHECK(strstr(o.out, "fake users add") != NULL);
    outcome_free(&o);
    o = RUN("migrate", "--database-url", "x", "--help");
    CHECK_EQ_INT(o.rc, 0);
    CHECK(strstr(o.out, "Migrates.") != NULL);
    CHECK(strstr(o.out, "DB_STATEMENT_TIMEOUT_MS") != NULL);
    CHECK(strstr(o.out, "HOST") == NULL);
    outcome_free(&o);
    clean_env();
}

TEST(cli_help_global)
{
    clean_env();
    struct outcome o = RUN("--help");
    CHECK_EQ_INT(o.rc, 0);
    REQUIRE(o.out != NULL);
    CHECK(strstr(o.out, "A fake program.") != NULL);
    CHECK(strstr(o.out, "serve") != NULL);
    CHECK(strstr(o.out, "migrate") != NULL);
    CHECK(strstr(o.out, "users import") != NULL);
    CHECK(strstr(o.out, "users add") != NULL);
    CHECK(strstr(o.out, "--version") != NULL);
    CHECK(strstr(o.out, "Database (read by: serve, migrate, users import, users add):") != NULL);
    CHECK(strstr(o.out, "Serving (read by: serve):") != NULL);
    outcome_free(&o);
    /* Flags but no command: still the global help, as "gatehouse --help". */
    o = RUN("--port", "1", "-h");
    CHECK_EQ_INT(o.rc, 0);
    CHECK(strstr(o.out, "A fake program.") != NULL);
    outcome_free(&o);
}

TEST(cli_version)
{
    struct outcome o = RUN("--version");
    CHECK_EQ_INT(o.rc, 0);
    CHECK_EQ_STR(o.out, "fake 1.2.3\n");
    CHECK(ran.name == NULL);
    outcome_free(&o);
}

TEST(cli_gatehouse_table)
{
    static const char *const version[] = {"--version"};
    static const char *const migrate_help[] = {"migrate", "--help"};
    static const char *const serve_help[] = {"serve", "--help"};

    clean_env();
    struct outcome o = run_with(&cli_gatehouse, 1, version);
    CHECK_EQ_INT(o.rc, 0);
    REQUIRE(o.out != NULL);
    CHECK(strncmp(o.out, "gatehouse " GATEHOUSE_VERSION "\n", strlen(GATEHOUSE_VERSION) + 11) == 0);
    CHECK(strstr(o.out, "libmicrohttpd ") != NULL);
    CHECK(strstr(o.out, "jansson ") != NULL);
    CHECK(strstr(o.out, "libsodium ") != NULL);
    CHECK(strstr(o.out, "SQLite ") != NULL);
    CHECK(strstr(o.out, "libxcrypt ") != NULL);
    CHECK(strstr(o.out, "libpq") != NULL);
    outcome_free(&o);
    o = run_with(&cli_gatehouse, 2, migrate_help);
    CHECK_EQ_INT(o.rc, 0);
    CHECK(strstr(o.out, "Usage: gatehouse migrate") != NULL);
    CHECK(strstr(o.out, "DATABASE_URL") != NULL);
    CHECK(strstr(o.out, "--secret-key") == NULL);
    CHECK(strstr(o.out, "--port") == NULL);
    outcome_free(&o);
    o = run_with(&cli_gatehouse, 2, serve_help);
    CHECK_EQ_INT(o.rc, 0);
    CHECK(strstr(o.out, "Usage: gatehouse serve") != NULL);
    CHECK(strstr(o.out, "SECRET_KEY") != NULL);
    CHECK(strstr(o.out, "--port") != NULL);
    CHECK(strstr(o.out, "HOST") != NULL);
    outcome_free(&o);
}
