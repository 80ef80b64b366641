/* The audit trail: written once for every backend (see driver.h). */
#include <stddef.h>

#include "store/driver.h"

enum store_status store_audit_add(store *s, store_tx *tx, const struct store_audit_event *e)
{
    struct store_query q;
    bool row = false;
    enum store_status rc = store__open(s, tx, STMT_AUDIT_INSERT, &q);

    if (rc != STORE_OK)
        return rc;
    store__text(&q, 1, e->type);
    store__int(&q, 2, e->at);
    store__int(&q, 3, e->user_id > 0 ? e->user_id : 0);
    store__text(&q, 4, e->actor);
    store__text(&q, 5, e->client);
    store__text(&q, 6, e->request_id);
    store__text(&q, 7, e->details != NULL ? e->details : "{}");
    return store__close(&q, store__step(&q, &row));
}

static const char *col_or_empty(struct store_query *q, int col, bool *present)
{
    const char *v = q->s->drv->column_text(q->c, col);

    if (present != NULL)
        *present = v != NULL;
    return v != NULL ? v : "";
}

enum store_status store_audit_list(store *s, const struct store_audit_filter *f,
                                   int (*each)(void *arg, const struct store_audit_row *r),
                                   void *arg)
{
    struct store_query q;
    bool row = false;
    const char *type = f->type != NULL ? f->type : "";
    enum store_status rc = store__open(s, NULL, STMT_AUDIT_LIST, &q);

    if (rc != STORE_OK)
        return rc;
    store__int(&q, 1, f->user_id);
    store__text(&q, 2, f->prefix ? "" : type);
    store__text(&q, 3, f->prefix ? type : "");
    store__int(&q, 4, f->since);
    store__int(&q, 5, f->before);
    store__int(&q, 6, f->limit);
    while ((rc = store__step(&q, &row)) == STORE_OK && row) {
        struct store_audit_row r = {.id = store__col_int64(&q, 0),
                                    .at = store__col_int64(&q, 2),
                                    .user_id = store__col_int64(&q, 3)};
        /* Each column is read after the integers: a text pointer stays
         * valid until the next step. */
        r.type = col_or_empty(&q, 1, NULL);
        r.actor = col_or_empty(&q, 4, &r.has_actor);
        r.client = col_or_empty(&q, 5, &r.has_client);
        r.request_id = col_or_empty(&q, 6, NULL);
        r.details = col_or_empty(&q, 7, NULL);
        if (each(arg, &r) != 0) {
            rc = STORE_ERROR;
            break;
        }
    }
    return store__close(&q, rc);
}

enum store_status store_audit_purge(store *s, int64_t before, int64_t *deleted)
{
    return store__purge(s, STMT_AUDIT_PURGE, before, deleted);
}

/* The event held by this thread's operation, and whether a transaction
 * wrote it. */
static _Thread_local struct store_audit_event *held;
static _Thread_local bool held_written;

void store_audit_hold(struct store_audit_event *e)
{
    held = e;
    held_written = false;
}

enum store_status store_audit_held_add(store *s, store_tx *tx, int64_t user_id)
{
    if (held == NULL || held_written)
        return STORE_OK;
    if (held->user_id <= 0)
        held->user_id = user_id;
    enum store_status rc = store_audit_add(s, tx, held);
    held_written = rc == STORE_OK;
    return rc;
}

bool store_audit_release(void)
{
    bool written = held != NULL && held_written;

    held = NULL;
    held_written = false;
    return written;
}
