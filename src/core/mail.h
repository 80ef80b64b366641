#ifndef GH_CORE_MAIL_H
#define GH_CORE_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Mail: composes the service's messages (RFC 5322, multipart/alternative
 * text + HTML, in the language of the request that caused them) and writes
 * each into the outbox inside the caller's transaction, so a mail commits
 * with the token it carries or neither does. A sender thread started by
 * serve delivers the outbox over SMTP (util/smtp) with retries and backoff;
 * a command sends what is due with mail_send_due. */

struct mailer; /* NULL when SMTP_URL is unset: mail is off */
enum mail_kind {
    MAIL_RESET,           /* a reset link: PUBLIC_URL + /password/reset?token=T */
    MAIL_CONFIRM,         /* a confirmation link: PUBLIC_URL + /email/confirm?token=T */
    MAIL_ADDRESS_TAKEN,   /* to an address's owner: someone tried to register or move to it */
    MAIL_ADDRESS_CHANGED, /* to the old address: a change to new_email was asked */
};
struct mail_fields {
    const char *to;        /* the recipient, already validated by the caller */
    const char *username;  /* the account's name, shown in the mail */
    const char *token;     /* MAIL_RESET, MAIL_CONFIRM: the raw token; the mailer builds the link */
    const char *new_email; /* MAIL_ADDRESS_CHANGED: the address asked for */
    const char *lang;      /* "en" or "ru" (i18n_lang); NULL: "en" */
};
/* Composes the message and inserts it into the outbox inside tx, the caller's transaction:
 * the mail commits with the token it carries, or neither does. */
enum store_status mail_enqueue(struct mailer *m, store *s, store_tx *tx, enum mail_kind kind,
                               const struct mail_fields *f);
/* After the caller's commit: the sender sends now rather than at its next poll. */
void mail_wake(struct mailer *m);
/* For a command (users reset-password): sends what is due in the outbox now, once, claiming
 * rows as the sender does; the number sent, or -1 when SMTP failed (the rows stay queued). */
int mail_send_due(struct mailer *m, store *s);

/* What a mailer is made from: the settings of CONFIG_MAIL, validated. */
struct mail_config {
    const char *smtp_url;      /* SMTP_URL: holds the login, if any */
    bool starttls;             /* SMTP_STARTTLS */
    const char *ca_file;       /* SMTP_CA_FILE, or NULL */
    const char *from;          /* MAIL_FROM: "Name <addr>" or "addr" */
    const char *public_url;    /* PUBLIC_URL: the base of the links */
    const char *templates_dir; /* MAIL_TEMPLATES_DIR, or NULL */
    long retry_max_s;          /* MAIL_RETRY_MAX_SECONDS */
    long reset_minutes;        /* RESET_TOKEN_EXPIRE_MINUTES, told in the reset mail */
    long confirm_minutes;      /* EMAIL_TOKEN_EXPIRE_MINUTES, told in the confirmation mail */
};

/* Makes a mailer: loads libcurl (util/smtp.h) and the templates (the
 * built-in ones, and those of templates_dir that replace them, each read and
 * checked now). NULL with a one-line reason in err. Sends nothing until
 * mail_start (or mail_send_due). */
struct mailer *mail_create(const struct mail_config *c, char *err, size_t errlen);

/* Starts the sender thread on s: it sends what is due, then waits for the
 * next due mail, mail_wake, or 30 s at most, whichever comes first. A failed
 * send counts an attempt, keeps the error and is tried again after 1, 2,
 * 4, ... seconds, at most retry_max_s. Returns 0, or -1 when no thread can
 * be had. */
int mail_start(struct mailer *m, store *s);

/* Stops the sender: it starts no new send, and a send in progress may
 * finish for up to finish_ms (a mail the SMTP server has accepted is
 * then taken off the outbox, not sent again at the next start); past
 * that it is abandoned within about a second and its mail stays queued,
 * due at once. Safe on a mailer never started. */
void mail_stop(struct mailer *m, unsigned finish_ms);

/* Stops the sender and frees m; NULL is fine. */
void mail_free(struct mailer *m);

/* What GET /metrics shows of the outbox: mails queued (as the sender last
 * saw them; every poll, send and mail_wake looks again), mails sent and
 * failed attempts by this process since it started. */
struct mail_stats {
    uint64_t depth, sent, failed;
};

void mail_stats(struct mailer *m, struct mail_stats *out);

/* The wait, in seconds, before the next try of a mail whose attempts tries
 * failed: 1, 2, 4, 8, ... doubling, at most max_s (MAIL_RETRY_MAX_SECONDS).
 * The sender also waits as long before its next round after failures in a
 * row, so that an SMTP outage is not hammered. */
int64_t mail_retry_delay(int64_t attempts, long max_s);

#endif
