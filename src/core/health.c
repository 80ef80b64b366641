#include "core/health.h"

#include "store/store.h"

enum outcome health_ready(store *s)
{
    return store_ping(s) == STORE_OK ? OUTCOME_OK : OUTCOME_UNAVAILABLE;
}

void health_db(const store *s, struct health_db *out)
{
    struct store_stats st;

    store_stats(s, &st);
    *out =
        (struct health_db){.in_use = st.in_use, .unavailable = st.unavailable, .failed = st.failed};
}
