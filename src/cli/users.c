/* gatehouse users import|add|delete|list: the accounts, from the command
 * line, beside a running server (none of them claims the database). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/import.h"
#include "util/log.h"
#include "core/password.h"
#include "core/sessions.h"
#include "core/users.h"
#include "util/csv.h"
#include "store/store.h"
#include "util/timefmt.h"

/* Positions of the options in commands.c's table of users import. */
enum { OPT_SKIP_EXISTING, OPT_FROM_DATABASE };

/* ---------------------------------------------------------------- import */

/* Reads all of f into a malloc'd, NUL-terminated buffer; NULL on failure. */
static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);

    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (ferror(f)) {
            free(buf);
            return NULL;
        }
        if (feof(f))
            break;
        char *p = realloc(buf, cap * 2);
        if (p == NULL)
            free(buf);
        buf = p;
        cap *= 2;
    }
    if (buf != NULL) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

struct import_ctx {
    const char *source; /* "FILE: line" or "table \"user\": id" */
    struct import_set set;
};

static void print_problem(void *arg, const struct import_row *row, const char *why)
{
    const struct import_ctx *ctx = arg;

    fprintf(stderr, "gatehouse users import: %s %ld: %s\n", ctx->source, row->where, why);
}

/* Parses the CSV in buf into ctx->set. Returns the number of malformed
 * records (each reported), or -1 out of memory. */
static long parse_csv(char *buf, size_t len, struct import_ctx *ctx)
{
    struct csv_reader rd;
    struct csv_field fields[3];
    size_t n;
    long start, bad = 0;
    bool saw_header = false;
    enum csv_status cs;

    csv_init(&rd, buf, len);
    while ((cs = csv_next(&rd, fields, 3, &n, &start)) == CSV_RECORD) {
        if (n == 1 && fields[0].len == 0)
            continue; /* an empty line: a trailing one is common */
        if (!saw_header) {
            if (n != 2 || fields[0].len != 8 || memcmp(fields[0].s, "username", 8) != 0 ||
                fields[1].len != 13 || memcmp(fields[1].s, "password_hash", 13) != 0) {
                fprintf(stderr,
                        "gatehouse users import: %s %ld: the header must be "
                        "\"username,password_hash\"\n",
                        ctx->source, start);
                return bad + 1;
            }
            saw_header = true;
            continue;
        }
        if (n != 2) {
            fprintf(stderr,
                    "gatehouse users import: %s %ld: expected 2 fields (username,password_hash), "
                    "found %zu\n",
                    ctx->source, start, n);
            bad++;
            continue;
        }
        /* The field ends where a separator or break was: the reader is done
         * with that byte. A hash holds no NUL, so strlen finds its end; the
         * name keeps its length, so that a NUL in it is refused rather than
         * cut off. */
        char *hash = fields[1].s;
        hash[fields[1].len] = '\0';
        if (memchr(hash, '\0', fields[1].len) != NULL)
            hash[0] = '\0';
        if (import_set_add(&ctx->set, start, 0, fields[0].s, fields[0].len, hash) != 0)
            return -1;
    }
    if (cs == CSV_UNTERMINATED) {
        fprintf(stderr, "gatehouse users import: %s %ld: a quoted field never ends\n", ctx->source,
                start);
        return bad + 1;
    }
    if (!saw_header) {
        fprintf(stderr,
                "gatehouse users import: %s 1: the file is empty; the header must be "
                "\"username,password_hash\"\n",
                ctx->source);
        return 1;
    }
    return bad;
}

static int add_legacy(void *arg, int64_t id, const char *username, size_t ulen, const char *hash)
{
    struct import_ctx *ctx = arg;

    return import_set_add(&ctx->set, (long)id, id, username, ulen, hash);
}

int users_import_command(struct config *cfg, const struct cli_args *args)
{
    const char *from_db = args->values[OPT_FROM_DATABASE];
    bool skip = args->values[OPT_SKIP_EXISTING] != NULL;
    char source[600], err[512] = "";
    struct import_ctx ctx = {.source = source};
    char *buf = NULL;
    int rc = EXIT_FAILURE;
    store *st = NULL;

    if ((from_db == NULL) == (args->argc == 0)) {
        fprintf(stderr, "gatehouse users import: give either FILE or --from-database URL (see "
                        "gatehouse users import --help)\n");
        return CLI_EXIT_USAGE;
    }
    if (from_db != NULL) {
        snprintf(source, sizeof source, "table \"user\": id");
        if (store_legacy_users(from_db, (unsigned)cfg->db_connect_timeout_seconds, add_legacy, &ctx,
                               err, sizeof err) != 0) {
            /* pgurl's reasons name the setting it usually checks. */
            const char *why = strncmp(err, "DATABASE_URL: ", 14) == 0 ? err + 14 : err;
            fprintf(stderr, "gatehouse users import: --from-database: %s\n", why);
            goto done;
        }
    } else {
        const char *path = args->argv[0];
        FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
        size_t len = 0;
        snprintf(source, sizeof source, "%.500s: line", strcmp(path, "-") == 0 ? "-" : path);
        if (f == NULL) {
            fprintf(stderr, "gatehouse users import: cannot open %s\n", path);
            goto done;
        }
        buf = read_all(f, &len);
        if (f != stdin)
            fclose(f);
        if (buf == NULL) {
            fprintf(stderr, "gatehouse users import: cannot read %s\n", path);
            goto done;
        }
        long bad = parse_csv(buf, len, &ctx);
        if (bad != 0) {
            if (bad < 0)
                fprintf(stderr, "gatehouse users import: out of memory\n");
            else
                fprintf(stderr, "gatehouse users import: nothing was imported\n");
            goto done;
        }
    }
    st = cli_store_open(cfg, 1, "gatehouse users import");
    if (st == NULL)
        goto done;
    struct import_report rep = {
        .problem = print_problem,
        .arg = &ctx,
        .unit = from_db != NULL ? "id" : "line",
    };
    switch (import_run(st, &ctx.set, skip, timefmt_now(), &rep)) {
    case IMPORT_OK:
        printf("imported %zu users, skipped %zu that existed\n", rep.imported, rep.skipped);
        log_event(LOG_INFO, "users.imported",
                  (struct log_field[]){LOG_NUM("imported", rep.imported),
                                       LOG_NUM("skipped", rep.skipped),
                                       LOG_STR("source", from_db != NULL ? "database" : "csv")},
                  3);
        rc = EXIT_SUCCESS;
        break;
    case IMPORT_INVALID:
        fprintf(stderr, "gatehouse users import: %zu problems; nothing was imported\n",
                rep.problems);
        break;
    case IMPORT_UNAVAILABLE:
        fprintf(stderr, "gatehouse users import: the database cannot be reached; nothing was "
                        "imported\n");
        break;
    case IMPORT_ERROR:
        fprintf(stderr, "gatehouse users import: failed; nothing was imported\n");
        break;
    }
done:
    store_close(st);
    import_set_free(&ctx.set);
    if (buf != NULL) {
        sodium_memzero(buf, strlen(buf));
        free(buf);
    }
    return rc;
}

/* ------------------------------------------------------------------- add */

int users_add_command(struct config *cfg, const struct cli_args *args)
{
    const char *name = args->argv[0];
    struct password_policy policy = {cfg->password_hash, cfg->bcrypt_rounds,
                                     cfg->password_min_length};
    char pw[PASSWORD_ARGON2_MAX + 3];
    struct outcome_detail detail = {0};
    struct user u;
    int rc = EXIT_FAILURE;

    /* One line: the password, without its line break. A longer line than
     * any password allowed is refused whole rather than cut. */
    if (fgets(pw, sizeof pw, stdin) == NULL) {
        fprintf(stderr, "gatehouse users add: expected the password on standard input\n");
        return EXIT_FAILURE;
    }
    size_t plen = strlen(pw);
    if (plen > 0 && pw[plen - 1] == '\n')
        pw[--plen] = '\0';
    else if (!feof(stdin)) {
        fprintf(stderr, "gatehouse users add: password: must be at most %d bytes of UTF-8\n",
                PASSWORD_ARGON2_MAX);
        sodium_memzero(pw, sizeof pw);
        return EXIT_FAILURE;
    }
    if (plen > 0 && pw[plen - 1] == '\r')
        pw[--plen] = '\0';
    store *st = cli_store_open(cfg, 1, "gatehouse users add");
    if (st != NULL) {
        struct users_deps d = {st, &policy};
        enum outcome o = users_register(&d, name, strlen(name), pw, plen, &u, &detail);
        if (o == OUTCOME_OK) {
            printf("added user %lld: %s\n", (long long)u.id, u.username);
            rc = EXIT_SUCCESS;
        } else if (o == OUTCOME_INVALID) {
            /* The messages of /register's 422, field by field. */
            for (int i = 0; i < detail.errors.count; i++)
                fprintf(stderr, "gatehouse users add: %s: %s\n", detail.errors.e[i].field,
                        detail.errors.e[i].message);
        } else if (o == OUTCOME_CONFLICT) {
            fprintf(stderr, "gatehouse users add: the username is taken\n");
        } else {
            fprintf(stderr, "gatehouse users add: failed (%s)\n", outcome_name(o));
        }
    }
    sodium_memzero(pw, sizeof pw);
    store_close(st);
    return rc;
}

/* ---------------------------------------------------------------- delete */

int users_delete_command(struct config *cfg, const struct cli_args *args)
{
    const char *name = args->argv[0];
    int64_t id = 0;
    int rc = EXIT_FAILURE;
    store *st = cli_store_open(cfg, 1, "gatehouse users delete");

    if (st == NULL)
        return EXIT_FAILURE;
    struct users_deps d = {st, NULL};
    /* No revocation set: this process serves nothing. The revocations are
     * recorded in the database (and, on PostgreSQL, announced to running
     * servers) for as long as the servers' access tokens live, which is why
     * the command reads the token settings. */
    struct sessions_deps sd = {
        st, NULL, cfg->access_token_expire_minutes * 60, 0, cfg->jwt_leeway_seconds, NULL, NULL};
    enum outcome o = users_remove(&d, &sd, name, strlen(name), &id);
    if (o == OUTCOME_OK) {
        printf("deleted user %lld: %s\n", (long long)id, name);
        rc = EXIT_SUCCESS;
    } else if (o == OUTCOME_BAD_CREDENTIALS) {
        fprintf(stderr, "gatehouse users delete: no such user\n");
    } else {
        fprintf(stderr, "gatehouse users delete: failed (%s)\n", outcome_name(o));
    }
    store_close(st);
    return rc;
}

/* ------------------------------------------------------------------ list */

static void print_user(void *arg, int64_t id, const char *username, int64_t created_at)
{
    char t[32];
    size_t len = strlen(username);
    char *shown = malloc(4 * len + 1);

    (void)arg;
    /* Escaped as a log line is (util/log.h): a name holding U+2028 or a
     * bidirectional control, which the rules let an imported name keep,
     * must neither break a row nor show another order on a terminal; and a
     * tab then separates the columns unambiguously. */
    printf("%lld\t%s\t%s\n", (long long)id,
           shown != NULL ? log_escape(username, len, shown, 4 * len + 1, false) : "?",
           timefmt_rfc3339(t, sizeof t, created_at));
    free(shown);
}

int users_list_command(struct config *cfg, const struct cli_args *args)
{
    store *st = cli_store_open(cfg, 1, "gatehouse users list");

    (void)args;
    if (st == NULL)
        return EXIT_FAILURE;
    printf("id\tusername\tcreated_at\n");
    enum store_status rc = store_users_list(st, print_user, NULL);
    store_close(st);
    if (rc != STORE_OK) {
        fprintf(stderr, "gatehouse users list: failed reading the users\n");
        return EXIT_FAILURE;
    }
    return fflush(stdout) == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
