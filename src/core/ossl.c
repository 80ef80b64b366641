#define OSSL_LOADER
#include "core/ossl.h"

#include "util/dlib.h"

struct ossl_functions ossl_fn;

static const struct dlib_symbol symbols[] = {
#define OSSL_SYMBOL(f) DLIB_SYMBOL(struct ossl_functions, f)
    OSSL_FUNCTIONS(OSSL_SYMBOL)
#undef OSSL_SYMBOL
};

/* The soname of OpenSSL 3's package, libssl3. */
static struct dlib libcrypto =
    DLIB_INIT("libcrypto.so.3", "ES256 and RS256 need libcrypto.so.3 (apt-get install libssl3)",
              symbols, ossl_fn);

int ossl_load(char *err, size_t errlen)
{
    return dlib_load(&libcrypto, err, errlen);
}
