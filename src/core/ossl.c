#define OSSL_LOADER
#include "core/ossl.h"

#include <string.h>

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

/* This file sees the table itself (OSSL_LOADER), hence ossl_fn. below. */
static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = bld != NULL ? ossl_fn.OSSL_PARAM_BLD_to_param(bld) : NULL;
    EVP_PKEY_CTX *ctx =
        params != NULL ? ossl_fn.EVP_PKEY_CTX_new_from_name(NULL, type, NULL) : NULL;
    EVP_PKEY *p = NULL;

    if (ctx == NULL || ossl_fn.EVP_PKEY_fromdata_init(ctx) != 1 ||
        ossl_fn.EVP_PKEY_fromdata(ctx, &p, EVP_PKEY_PUBLIC_KEY, params) != 1)
        p = NULL;
    ossl_fn.EVP_PKEY_CTX_free(ctx);
    ossl_fn.OSSL_PARAM_free(params);
    ossl_fn.OSSL_PARAM_BLD_free(bld);
    ossl_fn.ERR_clear_error();
    return p;
}

EVP_PKEY *ossl_p256_public(const unsigned char *x, const unsigned char *y)
{
    unsigned char point[65];
    OSSL_PARAM_BLD *bld = ossl_fn.OSSL_PARAM_BLD_new();

    /* SEC 1 §2.3.3, uncompressed: 0x04 || x || y. Decoding it checks that
     * the point is on the curve. */
    point[0] = 0x04;
    memcpy(point + 1, x, 32);
    memcpy(point + 33, y, 32);
    if (bld != NULL &&
        (ossl_fn.OSSL_PARAM_BLD_push_utf8_string(bld, "group", "prime256v1", 0) != 1 ||
         ossl_fn.OSSL_PARAM_BLD_push_octet_string(bld, "pub", point, sizeof point) != 1)) {
        ossl_fn.OSSL_PARAM_BLD_free(bld);
        return NULL;
    }
    return from_params("EC", bld);
}

EVP_PKEY *ossl_rsa_public(const unsigned char *n, size_t nlen, const unsigned char *e, size_t elen)
{
    OSSL_PARAM_BLD *bld = ossl_fn.OSSL_PARAM_BLD_new();
    BIGNUM *bn = ossl_fn.BN_bin2bn(n, (int)nlen, NULL), *be = ossl_fn.BN_bin2bn(e, (int)elen, NULL);
    EVP_PKEY *p = NULL;

    if (bld != NULL && bn != NULL && be != NULL &&
        ossl_fn.OSSL_PARAM_BLD_push_BN(bld, "n", bn) == 1 &&
        ossl_fn.OSSL_PARAM_BLD_push_BN(bld, "e", be) == 1) {
        p = from_params("RSA", bld); /* to_param copied the numbers */
        bld = NULL;
    }
    ossl_fn.OSSL_PARAM_BLD_free(bld);
    ossl_fn.BN_free(bn);
    ossl_fn.BN_free(be);
    return p;
}

bool ossl_verify_sha256(EVP_PKEY *p, const void *msg, size_t len, const unsigned char *sig,
                        size_t siglen)
{
    EVP_MD_CTX *ctx = ossl_fn.EVP_MD_CTX_new();
    bool ok = ctx != NULL &&
              ossl_fn.EVP_DigestVerifyInit(ctx, NULL, ossl_fn.EVP_sha256(), NULL, p) == 1 &&
              ossl_fn.EVP_DigestVerify(ctx, sig, siglen, msg, len) == 1;

    ossl_fn.EVP_MD_CTX_free(ctx);
    ossl_fn.ERR_clear_error();
    return ok;
}
