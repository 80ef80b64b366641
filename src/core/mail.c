/* The mailer: composes mails into the outbox and sends the outbox (mail.h). */
#include "core/mail.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/mailmsg.h"
#include "core/mailtext.h"
#include "util/b64.h"
#include "util/log.h"
#include "util/mailaddr.h"
#include "util/smtp.h"
#include "util/stopper.h"
#include "util/timefmt.h"

/* The sender looks at the outbox at least this often, for mail queued by
 * another process (a command, another instance) that could not wake it. */
#define POLL_MAX_S 30
/* How long a claim holds a mail: past the longest send (util/smtp.h), so
 * that only a sender that died mid-send lets another send it again. */
#define CLAIM_S (2 * SMTP_TOTAL_TIMEOUT_S)
/* After the database failed, the sender waits this long before it asks
 * again. */
#define DB_RETRY_S 5
/* A token in a link: base64url, at most this long. */
#define TOKEN_MAX 128

struct mailer {
    smtp *smtp;
    struct mailtext *text;
    char from_name[MAILADDR_NAME_MAX + 1];
    char from_addr[MAILADDR_MAX + 1];
    char *public_url; /* without a trailing '/' */
    long retry_max_s;
    /* The sender thread, once started. */
    store *st;
    struct stopper sender;
    int wake[2]; /* a pipe: a byte in it wakes the sender */
    int consecutive_failures;
    /* Set by mail_stop before it tells the sender to stop: until then
     * (CLOCK_MONOTONIC, ms) a send in progress may finish. */
    atomic_int_fast64_t abort_at_ms;
    atomic_uint_fast64_t depth, sent, failed;
};

/* ---- composing ---- */

static bool no_control(const char *s)
{
    for (; s != NULL && *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

static bool token_ok(const char *t)
{
    size_t n = t != NULL ? strlen(t) : 0;

    return n > 0 && n <= TOKEN_MAX && b64url_alphabet_only(t, n);
}

/* The link a kind carries into link (cap bytes), or "" for a notice. */
static int build_link(const struct mailer *m, enum mail_kind kind, const struct mail_fields *f,
                      char *link, size_t cap, char *err, size_t errlen)
{
    const char *path = kind == MAIL_RESET     ? "/password/reset"
                       : kind == MAIL_CONFIRM ? "/email/confirm"
                                              : NULL;

    link[0] = '\0';
    if (path == NULL)
        return 0;
    if (!token_ok(f->token)) {
        snprintf(err, errlen, "the token is not base64url of 1-%d characters", TOKEN_MAX);
        return -1;
    }
    snprintf(link, cap, "%s%s?token=%s", m->public_url, path, f->token);
    return 0;
}

/* Every field is checked here again, whatever the caller did: a CR or LF
 * in any of them could add a header or end the message. */
static int check_fields(enum mail_kind kind, const struct mail_fields *f, char *err, size_t errlen)
{
    if ((unsigned)kind > MAIL_ADDRESS_CHANGED) {
        snprintf(err, errlen, "an unknown kind of mail (%d)", (int)kind);
        return -1;
    }
    if (f->to == NULL || !mailaddr_valid(f->to)) {
        snprintf(err, errlen, "the recipient is not a valid address");
        return -1;
    }
    if (f->username == NULL || !no_control(f->username) || !no_control(f->new_email) ||
        !no_control(f->token) || !no_control(f->lang)) {
        snprintf(err, errlen, "a field is missing or holds a control character");
        return -1;
    }
    if (kind == MAIL_ADDRESS_CHANGED && (f->new_email == NULL || !mailaddr_valid(f->new_email))) {
        snprintf(err, errlen, "the new address is not a valid address");
        return -1;
    }
    return 0;
}

/* Composes the mail of kind for f at now with fresh randomness; *msg is
 * malloc'd. */
static int compose(const struct mailer *m, enum mail_kind kind, const struct mail_fields *f,
                   int64_t now, char **msg, size_t *len, char *err, size_t errlen)
{
    char link[MAILTEXT_LINK_MAX];
    unsigned char rnd[MAILMSG_RANDOM];
    struct mailtext_out words;
    const char *lang = f->lang != NULL && strcmp(f->lang, "ru") == 0 ? "ru" : "en";

    if (check_fields(kind, f, err, errlen) != 0 ||
        build_link(m, kind, f, link, sizeof link, err, errlen) != 0)
        return -1;
    struct mailtext_vars v = {f->username, link, f->new_email != NULL ? f->new_email : "", lang};
    if (mailtext_render(m->text, kind, &v, &words, err, errlen) != 0)
        return -1;
    randombytes_buf(rnd, sizeof rnd);
    struct mailmsg mm = {
        .from_name = m->from_name,
        .from_addr = m->from_addr,
        .to = f->to,
        .subject = words.subject,
        .text = words.text,
        .html = words.html,
        .date = now,
        .rnd = rnd,
    };
    int rc = mailmsg_compose(&mm, msg, len, err, errlen);
    mailtext_out_free(&words);
    return rc;
}

enum store_status mail_enqueue(struct mailer *m, store *s, store_tx *tx, enum mail_kind kind,
                               const struct mail_fields *f)
{
    char err[256];
    char *msg = NULL;
    size_t len = 0;
    int64_t now = timefmt_now();

    if (m == NULL) {
        log_error("mail_enqueue: mail is off (SMTP_URL is unset)");
        return STORE_ERROR;
    }
    if (compose(m, kind, f, now, &msg, &len, err, sizeof err) != 0) {
        log_error("mail not queued: %s", err);
        return STORE_ERROR;
    }
    enum store_status rc = store_outbox_add(s, tx, f->to, msg, now);
    sodium_memzero(msg, len); /* it holds a live token */
    free(msg);
    return rc;
}

/* ---- sending ---- */

int64_t mail_retry_delay(int64_t attempts, long max_s)
{
    int64_t d = 1;

    for (int64_t i = 1; i < attempts && d < max_s; i++)
        d *= 2;
    return d < max_s ? d : max_s;
}

/* True once mail_stop was called; always false in a command, which never
 * starts the sender (its stopper's descriptor is -1). */
static bool sender_stopping(struct mailer *m)
{
    return stopper_wait(&m->sender, 0);
}

/* Whether a send in progress gives up: once stopping and past the time
 * mail_stop left it. Cutting every send short at a stop made a mail that
 * the server had just accepted go out again after the restart. */
static bool send_abandoned(void *arg)
{
    struct mailer *m = arg;
    return sender_stopping(m) && timefmt_monotonic_ms() >= atomic_load(&m->abort_at_ms);
}

/* Claims one due mail on s and sends it. 1: sent; 0: nothing was due; -1:
 * the send failed (the mail is queued again for later); -2: the database
 * failed. */
static int send_one(struct mailer *m, store *s)
{
    struct store_outbox_row row;
    unsigned char raw[16];
    char claim[33], err[512];
    bool found = false;
    int64_t now = timefmt_now();

    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(claim, sizeof claim, raw, sizeof raw);
    if (store_outbox_claim(s, now, now + CLAIM_S, claim, &row, &found) != STORE_OK)
        return -2;
    if (!found)
        return 0;
    int rc = smtp_send(m->smtp, m->from_addr, row.recipient, row.message, strlen(row.message),
                       send_abandoned, m, err, sizeof err);
    sodium_memzero(row.message, strlen(row.message));
    free(row.message);
    if (rc == 0) {
        atomic_fetch_add(&m->sent, 1);
        log_info("mail %lld sent (attempt %lld)", (long long)row.id, (long long)row.attempts + 1);
        return store_outbox_sent(s, row.id, claim) == STORE_OK ? 1 : -2;
    }
    bool stopped = send_abandoned(m);
    int64_t wait = stopped ? 0 : mail_retry_delay(row.attempts + 1, m->retry_max_s);
    if (stopped)
        log_info("mail %lld: sending abandoned to stop; it stays queued", (long long)row.id);
    else {
        atomic_fetch_add(&m->failed, 1);
        log_warn("mail %lld: attempt %lld failed, next in %lld s: %s", (long long)row.id,
                 (long long)row.attempts + 1, (long long)wait, err);
    }
    if (store_outbox_retry(s, row.id, claim, timefmt_now() + wait, stopped ? "stopped" : err,
                           !stopped) != STORE_OK)
        return -2;
    return -1;
}

int mail_send_due(struct mailer *m, store *s)
{
    int n = 0, rc;

    if (m == NULL)
        return 0;
    while ((rc = send_one(m, s)) == 1)
        n++;
    smtp_hang_up(m->smtp);
    return rc < 0 ? -1 : n;
}

void mail_wake(struct mailer *m)
{
    /* The pipe lives from mail_create to mail_free, so a worker that wakes
     * a sender already stopped writes into it harmlessly; nonblocking: a
     * full pipe already holds a wake-up. */
    if (m == NULL)
        return;
    ssize_t w = write(m->wake[1], "w", 1);
    (void)w;
}

/* One round: sends what is due; returns how long to wait, in ms. */
static int sender_round(struct mailer *m)
{
    int rc;
    int64_t depth = 0, next_at = 0;

    while ((rc = send_one(m, m->st)) == 1 && !sender_stopping(m))
        m->consecutive_failures = 0;
    if (store_outbox_state(m->st, &depth, &next_at) == STORE_OK)
        atomic_store(&m->depth, (uint_fast64_t)depth);
    if (rc == -2)
        return DB_RETRY_S * 1000;
    int64_t wait_s = POLL_MAX_S;
    if (rc == -1) {
        /* The server failed: the next due mail waits too, as long as the
         * failures in a row say, so that an outage is not hammered. */
        m->consecutive_failures++;
        wait_s = mail_retry_delay(m->consecutive_failures, m->retry_max_s);
    } else if (depth > 0) {
        m->consecutive_failures = 0;
        int64_t until = next_at - timefmt_now();
        wait_s = until < 0 ? 0 : until;
    }
    if (wait_s > POLL_MAX_S)
        wait_s = POLL_MAX_S;
    return (int)wait_s * 1000;
}

static void *sender_main(void *arg)
{
    struct mailer *m = arg;
    char drain[64];

    for (;;) {
        int ms = sender_round(m);
        struct pollfd p[2] = {{stopper_fd(&m->sender), POLLIN, 0}, {m->wake[0], POLLIN, 0}};
        int n = poll(p, 2, ms);
        if (n < 0 && errno != EINTR)
            break;
        if (p[0].revents != 0)
            break;
        /* A whole wait without a wake-up: the connection kept open for
         * the next mail has waited long enough. */
        if (n == 0)
            smtp_hang_up(m->smtp);
        while (read(m->wake[0], drain, sizeof drain) > 0)
            ;
    }
    return NULL;
}

int mail_start(struct mailer *m, store *s)
{
    m->st = s;
    return stopper_start(&m->sender, sender_main, m);
}

void mail_stop(struct mailer *m, unsigned finish_ms)
{
    if (m == NULL)
        return;
    atomic_store(&m->abort_at_ms, timefmt_monotonic_ms() + (int64_t)finish_ms);
    stopper_stop(&m->sender);
}

void mail_stats(struct mailer *m, struct mail_stats *out)
{
    memset(out, 0, sizeof *out);
    if (m == NULL)
        return;
    out->depth = atomic_load(&m->depth);
    out->sent = atomic_load(&m->sent);
    out->failed = atomic_load(&m->failed);
}

/* ---- making one ---- */

struct mailer *mail_create(const struct mail_config *c, char *err, size_t errlen)
{
    struct mailer *m = calloc(1, sizeof *m);
    char why[400];

    if (m == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    stopper_init(&m->sender);
    if (pipe2(m->wake, O_NONBLOCK | O_CLOEXEC) != 0) {
        snprintf(err, errlen, "cannot make a pipe: %s", strerror(errno));
        free(m);
        return NULL;
    }
    m->retry_max_s = c->retry_max_s > 0 ? c->retry_max_s : 60;
    if (mailaddr_parse_mailbox(c->from, m->from_name, m->from_addr, why, sizeof why) != 0) {
        snprintf(err, errlen, "MAIL_FROM: %s", why);
        goto fail;
    }
    size_t n = strlen(c->public_url);
    while (n > 0 && c->public_url[n - 1] == '/')
        n--;
    if ((m->public_url = strndup(c->public_url, n)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if ((m->text = mailtext_load(c->templates_dir, m->public_url, c->reset_minutes,
                                 c->confirm_minutes, why, sizeof why)) == NULL) {
        snprintf(err, errlen, "MAIL_TEMPLATES_DIR: %s", why);
        goto fail;
    }
    struct smtp_options so = {c->smtp_url, c->starttls, c->ca_file};
    if ((m->smtp = smtp_create(&so, err, errlen)) == NULL)
        goto fail;
    return m;
fail:
    mail_free(m);
    return NULL;
}

void mail_free(struct mailer *m)
{
    if (m == NULL)
        return;
    mail_stop(m, 0);
    close(m->wake[0]);
    close(m->wake[1]);
    smtp_free(m->smtp);
    mailtext_free(m->text);
    free(m->public_url);
    free(m);
}
