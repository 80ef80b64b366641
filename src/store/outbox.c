/* The outbox: composed mails waiting for the sender (core/mail.c), written
 * once for both backends (see driver.h).
 *
 * A claim is a lease, not a lock held while sending: the claim statement
 * moves next_attempt_at to claim_until and writes a random claim token, and
 * commits at once, so no transaction (and, on SQLite, no write lock) stays
 * open across the SMTP conversation. Another sender skips the row until the
 * lease ends; the sender that holds it deletes it once sent, or puts it back
 * with its error, both only while its token is still the row's. A sender
 * that dies mid-send leaves the row leased: it becomes due again when the
 * lease ends, and is sent again. So a mail is sent at least once, and twice
 * only when a sender died (or its database write failed) after the SMTP
 * server had taken it. */
#include <stdlib.h>
#include <string.h>

#include "store/driver.h"

enum store_status store_outbox_add(store *s, store_tx *tx, const char *recipient,
                                   const char *message, int64_t now)
{
    struct store_query q;
    bool row = false;
    enum store_status rc = store__open(s, tx, STMT_OUTBOX_INSERT, &q);

    if (rc != STORE_OK)
        return rc;
    store__text(&q, 1, recipient);
    store__text(&q, 2, message);
    store__int(&q, 3, now);
    return store__close(&q, store__step(&q, &row));
}

/* The claimed row's columns into out; STORE_ERROR when they do not fit. */
static enum store_status read_row(struct store_query *q, struct store_outbox_row *out)
{
    const char *msg = q->s->drv->column_text(q->c, 2);

    out->id = store__col_int64(q, 0);
    out->attempts = store__col_int64(q, 3);
    if (!store__col_text(q, 1, out->recipient, sizeof out->recipient) || msg == NULL ||
        (out->message = strdup(msg)) == NULL)
        return STORE_ERROR;
    return STORE_OK;
}

enum store_status store_outbox_claim(store *s, int64_t now, int64_t claim_until, const char *claim,
                                     struct store_outbox_row *out, bool *found)
{
    struct store_query q;
    bool row = false;
    enum store_stmt id =
        s->drv->dialect == DIALECT_POSTGRES ? STMT_OUTBOX_CLAIM_PG : STMT_OUTBOX_CLAIM_SQLITE;
    enum store_status rc = store__open(s, NULL, id, &q);

    *found = false;
    memset(out, 0, sizeof *out);
    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, now);
    store__int(&q, 2, claim_until);
    store__text(&q, 3, claim);
    rc = store__step(&q, &row);
    if (rc == STORE_OK && row) {
        rc = read_row(&q, out);
        /* Step to the end, so that the claim commits. */
        bool more = false;
        if (rc == STORE_OK)
            rc = store__step(&q, &more);
        *found = rc == STORE_OK;
    }
    if (!*found) {
        free(out->message);
        out->message = NULL;
    }
    return store__close(&q, rc);
}

enum store_status store_outbox_sent(store *s, int64_t id, const char *claim)
{
    struct store_query q;
    bool row = false;
    enum store_status rc = store__open(s, NULL, STMT_OUTBOX_SENT, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, id);
    store__text(&q, 2, claim);
    return store__close(&q, store__step(&q, &row));
}

enum store_status store_outbox_retry(store *s, int64_t id, const char *claim, int64_t next_at,
                                     const char *error, bool counted)
{
    struct store_query q;
    bool row = false;
    enum store_status rc = store__open(s, NULL, STMT_OUTBOX_RETRY, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, id);
    store__text(&q, 2, claim);
    store__text(&q, 3, error);
    store__int(&q, 4, next_at);
    store__int(&q, 5, counted ? 1 : 0);
    return store__close(&q, store__step(&q, &row));
}

enum store_status store_outbox_state(store *s, int64_t *depth, int64_t *next_at)
{
    struct store_query q;
    bool row = false;
    enum store_status rc = store__open(s, NULL, STMT_OUTBOX_STATE, &q);

    *depth = 0;
    *next_at = 0;
    if (rc != STORE_OK)
        return rc;
    rc = store__step(&q, &row);
    if (rc == STORE_OK && row) {
        *depth = store__col_int64(&q, 0);
        *next_at = store__col_int64(&q, 1);
    }
    return store__close(&q, rc);
}
