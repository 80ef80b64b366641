/* The words of each mail (mailtext.h): the templates under templates/mail/,
 * built into the binary, rendered with the template engine (util/tmpl.h)
 * and the message catalogue of the mail's language (core/i18n.h). */
#include "core/mailtext.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/i18n.h"
#include "core/templates.h"
#include "util/tmpl.h"

#define NLANGS 2
#define NKINDS 4
#define NPARTS 3
/* A template read from MAIL_TEMPLATES_DIR, and what each part may render
 * to: a subject fits a header of RFC 2047 words comfortably, and two bodies
 * at their limit, each line end made CRLF and in base64, fit MAILMSG_MAX. */
#define FILE_MAX    (64 * 1024)
#define SUBJECT_MAX 400
#define BODY_MAX    (64 * 1024)

static const char *const langs[NLANGS] = {"en", "ru"};
static const char *const kinds[NKINDS] = {
    [MAIL_RESET] = "reset",
    [MAIL_CONFIRM] = "confirm",
    [MAIL_ADDRESS_TAKEN] = "address-taken",
    [MAIL_ADDRESS_CHANGED] = "address-changed",
};
enum part { PART_SUBJECT, PART_TEXT, PART_HTML };
static const char *const suffixes[NPARTS] = {".subject.txt", ".txt", ".html"};

const char mailtext_names_help[] =
    "reset, confirm, address-taken, address-changed, each as NAME.subject.txt, NAME.txt and "
    "NAME.html; in en/ or ru/ for one language only";

struct mailtext {
    const char *text[NLANGS][NKINDS][NPARTS];
    size_t len[NLANGS][NKINDS][NPARTS];
    char *own[NLANGS][NKINDS][NPARTS]; /* read from the directory, or NULL */
    long minutes[NKINDS];              /* how long the link works; 0: no link */
};

/* ---- reading MAIL_TEMPLATES_DIR ---- */

/* Reads path into *out when it exists (malloc'd); *out NULL when it does
 * not. */
static int read_file(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    struct stat st;

    *out = NULL;
    if (f == NULL) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot read %.200s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > FILE_MAX) {
        snprintf(err, errlen, "%.200s: not a regular file of at most %d bytes", path, FILE_MAX);
        fclose(f);
        return -1;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t n = buf != NULL ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    if (buf == NULL || n != (size_t)st.st_size) {
        snprintf(err, errlen, "cannot read %.200s", path);
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    if (strlen(buf) != n) {
        snprintf(err, errlen, "%.200s: holds a NUL byte", path);
        free(buf);
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}

static bool known_name(const char *name)
{
    char want[64];

    for (size_t k = 0; k < NKINDS; k++)
        for (size_t p = 0; p < NPARTS; p++) {
            snprintf(want, sizeof want, "%s%s", kinds[k], suffixes[p]);
            if (strcmp(name, want) == 0)
                return true;
        }
    return false;
}

/* Every file of dir (and of its en/ and ru/ when sub is false) must be a
 * template's: a misspelt name would otherwise be ignored without a word. */
static int check_names(const char *dir, bool sub, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int rc = 0;

    if (d == NULL) {
        if (sub && errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot read %.200s: %s", dir, strerror(errno));
        return -1;
    }
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        bool lang_dir = !sub && (strcmp(e->d_name, "en") == 0 || strcmp(e->d_name, "ru") == 0);
        if (lang_dir || known_name(e->d_name))
            continue;
        snprintf(err, errlen, "%.200s/%.60s is not a mail template (the names: %s)", dir, e->d_name,
                 mailtext_names_help);
        rc = -1;
    }
    closedir(d);
    return rc;
}

/* The template of lang, kind and part: dir/lang/name, else dir/name, else
 * the built-in one. */
static int load_one(struct mailtext *t, const char *dir, size_t l, size_t k, size_t p, char *err,
                    size_t errlen)
{
    char name[64], path[4096];
    size_t len = 0;

    snprintf(name, sizeof name, "%s%s", kinds[k], suffixes[p]);
    if (dir != NULL) {
        snprintf(path, sizeof path, "%s/%s/%s", dir, langs[l], name);
        if (read_file(path, &t->own[l][k][p], &len, err, errlen) != 0)
            return -1;
        if (t->own[l][k][p] == NULL) {
            snprintf(path, sizeof path, "%s/%s", dir, name);
            if (read_file(path, &t->own[l][k][p], &len, err, errlen) != 0)
                return -1;
        }
        if (t->own[l][k][p] != NULL) {
            t->text[l][k][p] = t->own[l][k][p];
            t->len[l][k][p] = len;
            return 0;
        }
    }
    snprintf(path, sizeof path, "mail/%s", name);
    const struct templates_file *f = templates_find(path);
    if (f == NULL) {
        snprintf(err, errlen, "the built-in template %s is missing", path);
        return -1;
    }
    t->text[l][k][p] = f->data;
    t->len[l][k][p] = f->len;
    return 0;
}

/* ---- rendering ---- */

static void trim_end(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        s[--n] = '\0';
}

static int render_part(const struct mailtext *t, size_t l, size_t k, enum part p,
                       const struct mailtext_vars *v, char **out, char *err, size_t errlen)
{
    char minutes[24];
    struct tmpl_result res = {0};
    struct tmpl_messages msgs = i18n_messages(langs[l]);

    snprintf(minutes, sizeof minutes, "%ld", t->minutes[k]);
    const struct tmpl_var vars[] = {
        {"username", v->username, false},   {"link", v->link, false},
        {"new_email", v->new_email, false}, {"lang", langs[l], false},
        {"minutes", minutes, false},
    };
    enum tmpl_status rc = tmpl_render(
        t->text[l][k][p], t->len[l][k][p], p == PART_HTML ? TMPL_HTML : TMPL_TEXT, vars,
        sizeof vars / sizeof vars[0], &msgs, p == PART_SUBJECT ? SUBJECT_MAX : BODY_MAX, &res);
    if (rc != TMPL_OK) {
        snprintf(err, errlen, "%s/%s%s: %s at byte %zu", langs[l], kinds[k], suffixes[p],
                 tmpl_status_text(rc), res.where);
        return -1;
    }
    *out = res.out;
    if (p == PART_SUBJECT) {
        trim_end(*out);
        bool control = false;
        for (const char *c = *out; *c != '\0'; c++)
            control = control || (unsigned char)*c < 0x20 || *c == 0x7f;
        if (control || (*out)[0] == '\0') {
            snprintf(err, errlen,
                     "%s/%s%s: a subject is one line without control characters, not empty",
                     langs[l], kinds[k], suffixes[p]);
            free(*out);
            *out = NULL;
            return -1;
        }
    }
    return 0;
}

static int render(const struct mailtext *t, size_t l, size_t k, const struct mailtext_vars *v,
                  struct mailtext_out *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (render_part(t, l, k, PART_SUBJECT, v, &out->subject, err, errlen) != 0 ||
        render_part(t, l, k, PART_TEXT, v, &out->text, err, errlen) != 0 ||
        render_part(t, l, k, PART_HTML, v, &out->html, err, errlen) != 0) {
        mailtext_out_free(out);
        return -1;
    }
    return 0;
}

/* Whether text holds link on a line of its own. */
static bool link_on_own_line(const char *text, const char *link)
{
    size_t n = strlen(link);

    for (const char *p = strstr(text, link); p != NULL; p = strstr(p + 1, link))
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0' || p[n] == '\r'))
            return true;
    return false;
}

/* Renders every template once with the longest values a mail can carry: a
 * stored username of 255 '&' (five bytes each in HTML), an address of 254
 * bytes, the longest token. A template that cannot render, or could pass
 * its limit, or a link mail whose text lacks the link on a line of its own,
 * stops the start instead of failing the request that mails. */
static int check_all(const struct mailtext *t, const char *public_url, char *err, size_t errlen)
{
    char user[256], addr[255], link[MAILTEXT_LINK_MAX];
    int rc = 0;

    memset(user, '&', sizeof user - 1);
    user[sizeof user - 1] = '\0';
    memset(addr, 'a', sizeof addr - 1);
    memset(addr, '&', 64);
    addr[64] = '@';
    addr[128] = addr[192] = '.';
    addr[sizeof addr - 1] = '\0';
    int n = snprintf(link, sizeof link, "%s/password/reset?token=", public_url);
    if (n < 0 || (size_t)n + 129 > sizeof link) {
        snprintf(err, errlen, "PUBLIC_URL is too long for a mailed link");
        return -1;
    }
    memset(link + n, 'A', 128);
    link[n + 128] = '\0';
    struct mailtext_vars v = {user, link, addr, NULL};
    for (size_t l = 0; rc == 0 && l < NLANGS; l++)
        for (size_t k = 0; rc == 0 && k < NKINDS; k++) {
            struct mailtext_out o;
            if (render(t, l, k, &v, &o, err, errlen) != 0)
                return -1;
            if ((k == MAIL_RESET || k == MAIL_CONFIRM) && !link_on_own_line(o.text, link)) {
                snprintf(err, errlen,
                         "%s/%s.txt: the link ({{link}}) must stand on a line of its own", langs[l],
                         kinds[k]);
                rc = -1;
            }
            mailtext_out_free(&o);
        }
    return rc;
}

struct mailtext *mailtext_load(const char *dir, const char *public_url, long reset_minutes,
                               long confirm_minutes, char *err, size_t errlen)
{
    char why[400];
    struct mailtext *t = calloc(1, sizeof *t);

    if (t == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->minutes[MAIL_RESET] = reset_minutes;
    t->minutes[MAIL_CONFIRM] = confirm_minutes;
    if (i18n_init(why, sizeof why) != 0) {
        snprintf(err, errlen, "the message catalogues: %s", why);
        goto fail;
    }
    if (dir != NULL) {
        char sub[4096];
        if (check_names(dir, false, err, errlen) != 0)
            goto fail;
        for (size_t l = 0; l < NLANGS; l++) {
            snprintf(sub, sizeof sub, "%s/%s", dir, langs[l]);
            if (check_names(sub, true, err, errlen) != 0)
                goto fail;
        }
    }
    for (size_t l = 0; l < NLANGS; l++)
        for (size_t k = 0; k < NKINDS; k++)
            for (size_t p = 0; p < NPARTS; p++)
                if (load_one(t, dir, l, k, p, err, errlen) != 0)
                    goto fail;
    if (check_all(t, public_url, err, errlen) != 0)
        goto fail;
    return t;
fail:
    mailtext_free(t);
    return NULL;
}

void mailtext_free(struct mailtext *t)
{
    if (t == NULL)
        return;
    for (size_t l = 0; l < NLANGS; l++)
        for (size_t k = 0; k < NKINDS; k++)
            for (size_t p = 0; p < NPARTS; p++)
                free(t->own[l][k][p]);
    free(t);
}

int mailtext_render(const struct mailtext *t, enum mail_kind kind, const struct mailtext_vars *v,
                    struct mailtext_out *out, char *err, size_t errlen)
{
    size_t l = v->lang != NULL && strcmp(v->lang, "ru") == 0 ? 1 : 0;

    return render(t, l, (size_t)kind, v, out, err, errlen);
}

void mailtext_out_free(struct mailtext_out *o)
{
    free(o->subject);
    free(o->text);
    free(o->html);
    memset(o, 0, sizeof *o);
}
