#define PQ_LOADER
#include "store/pq.h"

#include "util/dlib.h"

struct pq_functions pq_fn;

static const struct dlib_symbol symbols[] = {
#define PQ_SYMBOL(f) DLIB_SYMBOL(struct pq_functions, f)
    PQ_FUNCTIONS(PQ_SYMBOL)
#undef PQ_SYMBOL
};

/* The soname of libpq 15's package, libpq5. */
static struct dlib libpq =
    DLIB_INIT("libpq.so.5", "PostgreSQL needs libpq.so.5 (apt-get install libpq5)", symbols, pq_fn);

int pq_load(char *err, size_t errlen)
{
    return dlib_load(&libpq, err, errlen);
}
