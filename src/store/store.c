#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/pgurl.h"
#include "store/store_impl.h"

char *store_sqlite_url_path(const char *url)
{
    static const char prefix[] = "sqlite:///";

    if (strncmp(url, prefix, sizeof prefix - 1) != 0)
        return NULL;
    /* sqlite:///rel.db is relative; sqlite:////abs.db keeps its leading slash. */
    const char *path = url + sizeof prefix - 1;
    if (path[0] == '\0' || strchr(path, '?') != NULL || strchr(path, '#') != NULL)
        return NULL;
    if (strcmp(path, "/") == 0)
        return NULL;
    return strdup(path);
}

enum store_status store_open(const char *url, unsigned nconns, store **out, char *err,
                             size_t errlen)
{
    struct store_options opt = {.nconns = nconns};

    return store_open_with(url, &opt, out, err, errlen);
}

enum store_status store_open_with(const char *url, const struct store_options *opt, store **out,
                                  char *err, size_t errlen)
{
    unsigned nconns = opt->nconns != 0 ? opt->nconns : 1;

    *out = NULL;
    if (strncmp(url, "sqlite:", 7) == 0)
        return store_sqlite_open(url, nconns, out, err, errlen);
    if (pgurl_is_postgres(url))
        return store_pg_open(url, opt, out, err, errlen);
    snprintf(err, errlen,
             "DATABASE_URL: unsupported scheme; expected sqlite:///relative.db, "
             "sqlite:////absolute.db or postgresql://user:password@host:5432/database");
    return STORE_ERROR;
}

void store_close(store *s)
{
    if (s != NULL)
        s->ops->close(s);
}

const char *store_sqlite_path(const store *s)
{
    return s->ops->sqlite_path(s);
}

enum store_status store_ping(store *s)
{
    return s->ops->ping(s);
}

enum store_status store_user_create(store *s, const char *username, const char *username_key,
                                    const char *password_hash, int64_t now, struct store_user *out)
{
    return s->ops->user_create(s, username, username_key, password_hash, now, out);
}

enum store_status store_user_by_key(store *s, const char *username_key, struct store_user *out)
{
    return s->ops->user_by_key(s, username_key, out);
}

enum store_status store_user_by_id(store *s, int64_t id, struct store_user *out)
{
    return s->ops->user_by_id(s, id, out);
}

enum store_status store_session_create(store *s, const struct store_session *sess)
{
    return s->ops->session_create(s, sess);
}
