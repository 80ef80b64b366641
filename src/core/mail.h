#ifndef GH_CORE_MAIL_H
#define GH_CORE_MAIL_H

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

#endif
