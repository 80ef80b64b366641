#ifndef GH_STORE_STORE_IMPL_H
#define GH_STORE_STORE_IMPL_H

/* What a backend provides: store.c calls through this table. Backends only. */

#include "store/store.h"

struct store_ops {
    void (*close)(store *s);
    const char *(*sqlite_path)(const store *s);
    enum store_status (*ping)(store *s);
    enum store_status (*user_create)(store *s, const char *username, const char *key,
                                     const char *hash, int64_t now, struct store_user *out);
    enum store_status (*user_by_key)(store *s, const char *key, struct store_user *out);
    enum store_status (*user_by_id)(store *s, int64_t id, struct store_user *out);
    enum store_status (*session_create)(store *s, const struct store_session *sess);
};

/* Every backend's handle starts with this. */
struct store {
    const struct store_ops *ops;
};

enum store_status store_sqlite_open(const char *url, unsigned nconns, store **out, char *err,
                                    size_t errlen);
enum store_status store_pg_open(const char *url, const struct store_options *opt, store **out,
                                char *err, size_t errlen);

#endif
