/* gatehouse users import|add|delete|reset-password|list|roles|disable|enable:
 * the accounts, from the command line, beside a running server (none of them claims the
 * database). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/admin.h"
#include "core/emails.h"
#include "core/import.h"
#include "core/mail.h"
#include "util/log.h"
#include "core/password.h"
#include "core/sessions.h"
#include "core/users.h"
#include "util/csv.h"
#include "store/store.h"
#include "util/timefmt.h"
#include "util/numfmt.h"

/* Positions of the options in commands.c's table of users import. */
enum { OPT_SKIP_EXISTING, OPT_FROM_DATABASE, OPT_SKIP_INVALID, OPT_REJECTS, OPT_NEW_IDS };

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
    FILE *rejects;       /* --rejects, or NULL */
    bool rejects_failed; /* a write to it failed */
};

/* Writes s[0..len) as one CSV field (RFC 4180): quoted when it holds a
 * separator, a quote, a line break or another control byte, and otherwise
 * as it is. The bytes are kept exactly, so that the file imports again;
 * cells starting with = + - @ are not defused (a spreadsheet may run them
 * as formulas: the README says to edit the file as text). */
static void csv_field(FILE *f, const char *s, size_t len)
{
    bool quote = false;

    for (size_t i = 0; i < len && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || (unsigned char)s[i] < 0x20 || s[i] == 0x7f;
    if (!quote) {
        fwrite(s, 1, len, f);
        return;
    }
    fputc('"', f);
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"')
            fputc('"', f);
        fputc(s[i], f);
    }
    fputc('"', f);
}

static void write_reject(struct import_ctx *ctx, const struct import_row *row, const char *why)
{
    char where[640];

    if (row->id != 0)
        fprintf(ctx->rejects, "%lld,", (long long)row->id);
    else
        fputc(',', ctx->rejects);
    csv_field(ctx->rejects, row->username, row->ulen);
    fputc(',', ctx->rejects);
    csv_field(ctx->rejects, row->hash, strlen(row->hash));
    fputc(',', ctx->rejects);
    int n = snprintf(where, sizeof where, "%s %ld: %s", ctx->source, row->where, why);
    csv_field(ctx->rejects, where, n > 0 && (size_t)n < sizeof where ? (size_t)n : strlen(where));
    if (fputs("\r\n", ctx->rejects) == EOF)
        ctx->rejects_failed = true;
}

static void print_problem(void *arg, const struct import_row *row, const char *why)
{
    struct import_ctx *ctx = arg;

    fprintf(stderr, "gatehouse users import: %s %ld: %s\n", ctx->source, row->where, why);
    if (ctx->rejects != NULL)
        write_reject(ctx, row, why);
}

static void print_new_id(void *arg, const struct import_row *row, int64_t id)
{
    const struct import_ctx *ctx = arg;

    printf("%s %ld: the id %lld was another user's; imported with the id %lld\n", ctx->source,
           row->where, (long long)row->id, (long long)id);
}

/* The columns of a CSV file: where each is, or -1. */
struct columns {
    int id, username, hash, reason, count;
};

/* Reads the header: username and password_hash, and optionally id and
 * reason (a rejects file), each once, in any order. */
static bool read_header(const struct csv_field *f, size_t n, struct columns *c)
{
    static const char *const names[] = {"id", "username", "password_hash", "reason"};
    int *slot[] = {&c->id, &c->username, &c->hash, &c->reason};

    *c = (struct columns){-1, -1, -1, -1, (int)n};
    for (size_t i = 0; i < n; i++) {
        size_t k = 0;
        while (k < 4 && !(f[i].len == strlen(names[k]) && memcmp(f[i].s, names[k], f[i].len) == 0))
            k++;
        if (k == 4 || *slot[k] >= 0)
            return false;
        *slot[k] = (int)i;
    }
    return c->username >= 0 && c->hash >= 0;
}

/* The id field: empty (0, a new id) or a decimal number that fits in 64
 * bits; false otherwise. */
static bool read_id(const struct csv_field *f, int64_t *id)
{
    *id = 0;
    for (size_t i = 0; i < f->len; i++) {
        int d = f->s[i] - '0';
        if (d < 0 || d > 9 || *id > (INT64_MAX - d) / 10)
            return false;
        *id = *id * 10 + d;
    }
    return true;
}

/* Adds the record of fields (n of them) at line start to ctx->set; a
 * malformed one as a refused row. Returns 0, or -1 out of memory. */
static int add_record(struct import_ctx *ctx, const struct columns *c, struct csv_field *fields,
                      size_t n, long start)
{
    char why[160] = "";
    int64_t id = 0;

    if ((int)n != c->count) {
        snprintf(why, sizeof why, "expected %d fields as in the header, found %zu", c->count, n);
        n = 0; /* the fields cannot be told apart */
    } else if (c->id >= 0 && !read_id(&fields[c->id], &id)) {
        snprintf(why, sizeof why, "the id is not a number from 1 to %lld",
                 (long long)IMPORT_ID_MAX);
    }
    const struct csv_field *name = n > 0 ? &fields[c->username] : NULL;
    struct csv_field *hf = n > 0 ? &fields[c->hash] : NULL;
    /* The field ends where a separator or break was: the reader is done with
     * that byte. A hash holds no NUL, so strlen finds its end; the name keeps
     * its length, so that a NUL in it is refused rather than cut off. */
    if (hf != NULL) {
        hf->s[hf->len] = '\0';
        if (memchr(hf->s, '\0', hf->len) != NULL)
            hf->s[0] = '\0';
    }
    if (import_set_add(&ctx->set, start, id, name != NULL ? name->s : "",
                       name != NULL ? name->len : 0, hf != NULL ? hf->s : "") != 0)
        return -1;
    return why[0] != '\0' ? import_set_refuse_last(&ctx->set, why) : 0;
}

/* Parses the CSV in buf into ctx->set. Returns the number of errors that
 * stop the import (a bad header, an unterminated quote; each reported), or
 * -1 out of memory. */
static long parse_csv(char *buf, size_t len, struct import_ctx *ctx)
{
    struct csv_reader rd;
    struct csv_field fields[8];
    struct columns cols;
    size_t n;
    long start;
    bool saw_header = false;
    enum csv_status cs;

    csv_init(&rd, buf, len);
    while ((cs = csv_next(&rd, fields, 8, &n, &start)) == CSV_RECORD) {
        if (n == 1 && fields[0].len == 0)
            continue; /* an empty line: a trailing one is common */
        if (!saw_header) {
            if (!read_header(fields, n, &cols)) {
                fprintf(stderr,
                        "gatehouse users import: %s %ld: the header must be "
                        "\"username,password_hash\" (an \"id\" and a \"reason\" column may be "
                        "added)\n",
                        ctx->source, start);
                return 1;
            }
            saw_header = true;
            continue;
        }
        if (add_record(ctx, &cols, fields, n, start) != 0)
            return -1;
    }
    if (cs == CSV_UNTERMINATED) {
        fprintf(stderr, "gatehouse users import: %s %ld: a quoted field never ends\n", ctx->source,
                start);
        return 1;
    }
    if (!saw_header) {
        fprintf(stderr,
                "gatehouse users import: %s 1: the file is empty; the header must be "
                "\"username,password_hash\"\n",
                ctx->source);
        return 1;
    }
    return 0;
}

static int add_legacy(void *arg, int64_t id, const char *username, size_t ulen, const char *hash)
{
    struct import_ctx *ctx = arg;

    return import_set_add(&ctx->set, (long)id, id, username, ulen, hash);
}

/* Reads the rows of FILE, or of the table --from-database names. */
static int read_rows(struct config *cfg, const struct cli_args *args, struct import_ctx *ctx,
                     char *source, size_t cap, char **buf)
{
    const char *from_db = args->values[OPT_FROM_DATABASE];
    char err[512] = "";

    if (from_db != NULL) {
        snprintf(source, cap, "table \"user\": id");
        if (store_legacy_users(from_db, (unsigned)cfg->db_connect_timeout_seconds, add_legacy, ctx,
                               err, sizeof err) != 0) {
            /* pgurl's reasons name the setting it usually checks. */
            const char *why = strncmp(err, "DATABASE_URL: ", 14) == 0 ? err + 14 : err;
            fprintf(stderr, "gatehouse users import: --from-database: %s\n", why);
            return -1;
        }
        return 0;
    }
    const char *path = args->argv[0];
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    size_t len = 0;
    snprintf(source, cap, "%.500s: line", strcmp(path, "-") == 0 ? "-" : path);
    if (f == NULL) {
        fprintf(stderr, "gatehouse users import: cannot open %s\n", path);
        return -1;
    }
    *buf = read_all(f, &len);
    if (f != stdin)
        fclose(f);
    if (*buf == NULL) {
        fprintf(stderr, "gatehouse users import: cannot read %s\n", path);
        return -1;
    }
    long bad = parse_csv(*buf, len, ctx);
    if (bad < 0)
        fprintf(stderr, "gatehouse users import: out of memory\n");
    else if (bad > 0)
        fprintf(stderr, "gatehouse users import: nothing was imported\n");
    return bad != 0 ? -1 : 0;
}

/* Opens --rejects FILE for writing, with its header. */
static int open_rejects(const char *path, struct import_ctx *ctx)
{
    ctx->rejects = fopen(path, "wb");
    if (ctx->rejects == NULL) {
        fprintf(stderr, "gatehouse users import: --rejects: cannot create %s\n", path);
        return -1;
    }
    fputs("id,username,password_hash,reason\r\n", ctx->rejects);
    return 0;
}

/* The last words of an import, by its result. */
static int conclude(enum import_result res, const struct import_report *rep,
                    const struct import_ctx *ctx, const char *rejects, bool from_db)
{
    if (res == IMPORT_OK) {
        printf("imported %zu %s, skipped %zu that existed", rep->imported,
               numfmt_plural((long long)rep->imported, "user", "users"), rep->skipped);
        if (rep->renumbered > 0)
            printf(", %zu with a new id", rep->renumbered);
        if (rep->problems > 0)
            printf(", refused %zu %s%s%s", rep->problems,
                   numfmt_plural((long long)rep->problems, "row", "rows"),
                   rejects != NULL ? " (written to " : "", rejects != NULL ? rejects : "");
        printf("%s\n", rep->problems > 0 && rejects != NULL ? ")" : "");
        log_event(LOG_INFO, "users.imported",
                  (struct log_field[]){LOG_NUM("imported", rep->imported),
                                       LOG_NUM("skipped", rep->skipped),
                                       LOG_NUM("refused", rep->problems),
                                       LOG_STR("source", from_db ? "database" : "csv")},
                  4);
        return EXIT_SUCCESS;
    }
    if (res == IMPORT_INVALID)
        fprintf(stderr,
                "gatehouse users import: %zu %s refused; nothing was imported. Correct them, or "
                "import the other rows with --skip-invalid (--rejects FILE writes the refused "
                "rows to a CSV to correct and import)\n",
                rep->problems, numfmt_plural((long long)rep->problems, "row", "rows"));
    else if (res == IMPORT_UNAVAILABLE)
        fprintf(stderr, "gatehouse users import: the database cannot be reached; nothing was "
                        "imported\n");
    else
        fprintf(stderr, "gatehouse users import: failed; nothing was imported\n");
    (void)ctx;
    return EXIT_FAILURE;
}

int users_import_command(struct config *cfg, const struct cli_args *args)
{
    const char *from_db = args->values[OPT_FROM_DATABASE];
    const char *rejects = args->values[OPT_REJECTS];
    struct import_options opt = {
        .skip_existing = args->values[OPT_SKIP_EXISTING] != NULL,
        .skip_invalid = args->values[OPT_SKIP_INVALID] != NULL,
        .new_ids = args->values[OPT_NEW_IDS] != NULL,
    };
    char source[600];
    struct import_ctx ctx = {.source = source};
    char *buf = NULL;
    int rc = EXIT_FAILURE;
    store *st = NULL;

    if ((from_db == NULL) == (args->argc == 0)) {
        fprintf(stderr, "gatehouse users import: give either FILE or --from-database URL (see "
                        "gatehouse users import --help)\n");
        return CLI_EXIT_USAGE;
    }
    cli_say_database(cfg, "importing users into");
    if (read_rows(cfg, args, &ctx, source, sizeof source, &buf) != 0 ||
        (rejects != NULL && open_rejects(rejects, &ctx) != 0))
        goto done;
    st = cli_store_open(cfg, 1, "gatehouse users import");
    if (st == NULL)
        goto done;
    struct import_report rep = {
        .problem = print_problem,
        .new_id = print_new_id,
        .arg = &ctx,
        .unit = from_db != NULL ? "id" : "line",
    };
    struct cli_audit ev;
    cli_audit_hold(&ev, "users.imported",
                   json_pack("{s:s, s:I}", "source", from_db != NULL ? "database" : "csv", "rows",
                             (json_int_t)ctx.set.count));
    enum import_result res = import_run(st, &ctx.set, &opt, timefmt_now(), &rep);
    cli_audit_done(st, &ev, res == IMPORT_OK, 0);
    if (ctx.rejects != NULL && (fflush(ctx.rejects) != 0 || ctx.rejects_failed)) {
        fprintf(stderr, "gatehouse users import: --rejects: writing %s failed\n", rejects);
        ctx.rejects_failed = true;
    }
    rc = conclude(res, &rep, &ctx, rejects, from_db != NULL);
    if (ctx.rejects_failed)
        rc = EXIT_FAILURE;
done:
    if (ctx.rejects != NULL)
        fclose(ctx.rejects);
    store_close(st);
    import_set_free(&ctx.set);
    if (buf != NULL) {
        sodium_memzero(buf, strlen(buf));
        free(buf);
    }
    return rc;
}

/* ------------------------------------------------------------------- add */

/* Reads one line of standard input into pw (cap bytes): the password,
 * without its line break. A longer line than any password allowed is
 * refused whole rather than cut. Returns its length, or -1 (reported as
 * who). */
static long read_password(char *pw, size_t cap, const char *who)
{
    if (fgets(pw, (int)cap, stdin) == NULL) {
        fprintf(stderr, "%s: expected the password on standard input\n", who);
        return -1;
    }
    size_t plen = strlen(pw);
    if (plen > 0 && pw[plen - 1] == '\n') {
        pw[--plen] = '\0';
    } else if (!feof(stdin)) {
        fprintf(stderr, "%s: password: must be at most %d bytes of UTF-8\n", who,
                PASSWORD_ARGON2_MAX);
        sodium_memzero(pw, cap);
        return -1;
    }
    if (plen > 0 && pw[plen - 1] == '\r')
        pw[--plen] = '\0';
    return (long)plen;
}

/* The messages of /register's 422, field by field. */
static void print_errors(const struct outcome_detail *detail, const char *who)
{
    for (int i = 0; i < detail->errors.count; i++)
        fprintf(stderr, "%s: %s: %s\n", who, detail->errors.e[i].field,
                detail->errors.e[i].message);
}

int users_add_command(struct config *cfg, const struct cli_args *args)
{
    const char *name = args->argv[0];
    struct password_policy policy = {cfg->password_hash, cfg->bcrypt_rounds,
                                     cfg->password_min_length};
    char pw[PASSWORD_ARGON2_MAX + 3];
    struct outcome_detail detail = {0};
    struct user u;
    int rc = EXIT_FAILURE;

    cli_say_database(cfg, "adding a user to");
    long plen = read_password(pw, sizeof pw, "gatehouse users add");
    if (plen < 0)
        return EXIT_FAILURE;
    store *st = cli_store_open(cfg, 1, "gatehouse users add");
    if (st != NULL) {
        struct users_deps d = {st, &policy};
        struct cli_audit ev;
        cli_audit_hold(&ev, "admin.user_created", json_pack("{s:s}", "username", name));
        enum outcome o = users_register(&d, name, strlen(name), pw, (size_t)plen, &u, &detail);
        cli_audit_done(st, &ev, o == OUTCOME_OK, o == OUTCOME_OK ? u.id : 0);
        if (o == OUTCOME_OK) {
            printf("added user %lld: %s\n", (long long)u.id, u.username);
            rc = EXIT_SUCCESS;
        } else if (o == OUTCOME_INVALID) {
            print_errors(&detail, "gatehouse users add");
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
    store *st;

    cli_say_database(cfg, "deleting a user from");
    st = cli_store_open(cfg, 1, "gatehouse users delete");
    if (st == NULL)
        return EXIT_FAILURE;
    struct users_deps d = {st, NULL};
    /* No revocation set: this process serves nothing. The revocations are
     * recorded in the database (and, on PostgreSQL, announced to running
     * servers) for as long as the servers' access tokens live, which is why
     * the command reads the token settings. */
    struct sessions_deps sd = {st,   NULL, config_access_ttl(cfg), 0, cfg->jwt_leeway_seconds,
                               NULL, NULL};
    struct cli_audit ev;
    cli_audit_hold(&ev, "admin.user_deleted", json_pack("{s:s}", "username", name));
    enum outcome o = users_remove(&d, &sd, name, strlen(name), &id);
    cli_audit_done(st, &ev, o == OUTCOME_OK, id);
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

/* -------------------------------------------------------- reset-password */

/* Sends what reset_link queued, now: a server may not be running. */
static int send_now(struct mailer *m, store *st, const char *who)
{
    int sent = mail_send_due(m, st);

    if (sent >= 0) {
        printf("mailed a password reset link\n");
        return EXIT_SUCCESS;
    }
    fprintf(stderr,
            "%s: the reset link is queued, but sending it failed now (see the log); a running "
            "gatehouse serve sends it when the SMTP server takes it\n",
            who);
    return EXIT_FAILURE;
}

/* Without --stdin: a reset link to the user's address, queued in the outbox
 * like the server's own mail, then sent at once. */
static int reset_link(struct config *cfg, const char *name, const char *who)
{
    struct password_policy policy = {cfg->password_hash, cfg->bcrypt_rounds,
                                     cfg->password_min_length};
    bool failed = false;
    int64_t id = 0;
    int rc = EXIT_FAILURE;

    if (cfg->smtp_url == NULL) {
        fprintf(stderr,
                "%s: mail is not configured: set SMTP_URL, PUBLIC_URL and MAIL_FROM to mail a "
                "reset link, or give --stdin to set the password\n",
                who);
        return CLI_EXIT_USAGE;
    }
    cli_say_database(cfg, "mailing a reset link from");
    store *st = cli_store_open(cfg, 1, who);
    if (st == NULL)
        return EXIT_FAILURE;
    struct mailer *m = cli_mailer_open(cfg, who, &failed);
    if (m == NULL) {
        store_close(st);
        return CLI_EXIT_USAGE;
    }
    struct users_deps d = {st, &policy};
    struct emails_deps e = {st,
                            &d,
                            NULL,
                            m,
                            NULL,
                            cfg->mail_min_interval_seconds,
                            cfg->email_token_expire_minutes * 60,
                            cfg->reset_token_expire_minutes * 60};
    enum outcome o = emails_reset_link(&e, name, strlen(name), &id);
    if (o == OUTCOME_OK) {
        log_event(LOG_INFO, "password.reset_mailed", (struct log_field[]){LOG_NUM("user_id", id)},
                  1);
        rc = send_now(m, st, who);
    } else if (o == OUTCOME_BAD_CREDENTIALS) {
        fprintf(stderr, "%s: no such user\n", who);
    } else if (o == OUTCOME_NO_EMAIL) {
        fprintf(stderr,
                "%s: the user has no address to mail; give --stdin to set the password instead\n",
                who);
        rc = CLI_EXIT_USAGE;
    } else {
        fprintf(stderr, "%s: failed (%s)\n", who, outcome_name(o));
    }
    mail_free(m);
    store_close(st);
    return rc;
}

int users_reset_password_command(struct config *cfg, const struct cli_args *args)
{
    static const char who[] = "gatehouse users reset-password";
    const char *name = args->argv[0];
    struct password_policy policy = {cfg->password_hash, cfg->bcrypt_rounds,
                                     cfg->password_min_length};
    char pw[PASSWORD_ARGON2_MAX + 3];
    struct outcome_detail detail = {0};
    int64_t id = 0;
    int rc = EXIT_FAILURE;

    if (args->values[0] == NULL)
        return reset_link(cfg, name, who);
    cli_say_database(cfg, "setting a password in");
    long plen = read_password(pw, sizeof pw, who);
    if (plen < 0)
        return EXIT_FAILURE;
    store *st = cli_store_open(cfg, 1, who);
    if (st != NULL) {
        struct users_deps d = {st, &policy};
        /* As users delete: the revocations are recorded for as long as the
         * servers' access tokens live. */
        struct sessions_deps sd = {
            st,   NULL, cfg->access_token_expire_minutes * 60, 0, cfg->jwt_leeway_seconds,
            NULL, NULL};
        enum outcome o =
            users_reset_password(&d, &sd, name, strlen(name), pw, (size_t)plen, &id, &detail);
        if (o == OUTCOME_OK) {
            printf("set the password of user %lld and revoked its sessions\n", (long long)id);
            log_event(LOG_INFO, "user.password_reset", (struct log_field[]){LOG_NUM("user_id", id)},
                      1);
            rc = EXIT_SUCCESS;
        } else if (o == OUTCOME_INVALID) {
            print_errors(&detail, who);
        } else if (o == OUTCOME_BAD_CREDENTIALS) {
            fprintf(stderr, "%s: no such user\n", who);
        } else {
            fprintf(stderr, "%s: failed (%s)\n", who, outcome_name(o));
        }
    }
    sodium_memzero(pw, sizeof pw);
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

/* ------------------------------------------------- roles, disable, enable */

int users_roles_command(struct config *cfg, const struct cli_args *args)
{
    const char *name = args->argv[0], *verb = args->argv[1], *role = args->argv[2];
    char roles[ROLES_TEXT_MAX + 1];
    int64_t id = 0;
    int rc = EXIT_FAILURE;

    bool add = strcmp(verb, "add") == 0;
    if (!add && strcmp(verb, "remove") != 0) {
        fprintf(stderr, "gatehouse users roles: say add or remove, not \"%s\"\n", verb);
        return CLI_EXIT_USAGE;
    }
    /* Never folded: "Admin" is refused, not made "admin". */
    if (!roles_name_valid(role, strlen(role))) {
        fprintf(stderr, "gatehouse users roles: a role is 1 to %d characters of a-z 0-9 . _ -\n",
                ROLES_NAME_MAX);
        return CLI_EXIT_USAGE;
    }
    store *st = cli_store_open(cfg, 1, "gatehouse users roles");
    if (st == NULL)
        return EXIT_FAILURE;
    enum outcome o = admin_user_by_name(st, name, &id);
    struct cli_audit ev;
    cli_audit_hold(&ev, "admin.roles_changed",
                   json_pack("{s:s, s:s}", add ? "added" : "removed", role, "username", name));
    if (o == OUTCOME_OK)
        o = admin_change_role(st, id, role, add, roles);
    cli_audit_done(st, &ev, o == OUTCOME_OK, id);
    if (o == OUTCOME_OK) {
        printf("user %lld: roles %s\n", (long long)id, roles[0] != '\0' ? roles : "(none)");
        rc = EXIT_SUCCESS;
    } else if (o == OUTCOME_NOT_FOUND) {
        fprintf(stderr, "gatehouse users roles: no such user\n");
    } else if (o == OUTCOME_INVALID) {
        fprintf(stderr, "gatehouse users roles: a user has at most %d roles\n", ROLES_MAX);
        rc = CLI_EXIT_USAGE;
    } else {
        fprintf(stderr, "gatehouse users roles: failed (%s)\n", outcome_name(o));
    }
    store_close(st);
    return rc;
}

static int set_disabled(struct config *cfg, const struct cli_args *args, bool disabled,
                        const char *who)
{
    const char *name = args->argv[0];
    int64_t id = 0;
    int rc = EXIT_FAILURE;

    cli_say_database(cfg, disabled ? "disabling a user in" : "enabling a user in");
    store *st = cli_store_open(cfg, 1, who);
    if (st == NULL)
        return EXIT_FAILURE;
    /* As users delete: no revocation set here, the revocations are recorded
     * for as long as the servers' access tokens live. */
    struct sessions_deps sd = {st,   NULL, config_access_ttl(cfg), 0, cfg->jwt_leeway_seconds,
                               NULL, NULL};
    enum outcome o = admin_user_by_name(st, name, &id);
    struct cli_audit ev;
    cli_audit_hold(&ev, "admin.user_updated",
                   json_pack("{s:b, s:s}", "disabled", disabled, "username", name));
    if (o == OUTCOME_OK)
        o = admin_set_disabled(&sd, id, disabled);
    cli_audit_done(st, &ev, o == OUTCOME_OK, id);
    if (o == OUTCOME_OK) {
        printf("%s user %lld: %s\n", disabled ? "disabled" : "enabled", (long long)id, name);
        rc = EXIT_SUCCESS;
    } else if (o == OUTCOME_NOT_FOUND) {
        fprintf(stderr, "%s: no such user\n", who);
    } else {
        fprintf(stderr, "%s: failed (%s)\n", who, outcome_name(o));
    }
    store_close(st);
    return rc;
}

int users_disable_command(struct config *cfg, const struct cli_args *args)
{
    return set_disabled(cfg, args, true, "gatehouse users disable");
}

int users_enable_command(struct config *cfg, const struct cli_args *args)
{
    return set_disabled(cfg, args, false, "gatehouse users enable");
}
