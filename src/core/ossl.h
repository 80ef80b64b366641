#ifndef GH_CORE_OSSL_H
#define GH_CORE_OSSL_H

/* OpenSSL 3's libcrypto, loaded at run time with dlopen the first time an
 * ES256 or RS256 key (or a PEM file only OpenSSL can read) is used, as
 * store/pq.h loads libpq. Linking it would start OpenSSL in every process,
 * HS256 and EdDSA ones included (2-3 MiB of idle RSS, measured for the
 * HMAC that now comes from libsodium). Include this header instead of the
 * OpenSSL headers' functions: the names below then call through the loaded
 * table. */

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <stdbool.h>
#include <stddef.h>

#define OSSL_FUNCTIONS(X)                                                                          \
    X(BIO_ctrl)                                                                                    \
    X(BIO_free)                                                                                    \
    X(BIO_new)                                                                                     \
    X(BIO_new_mem_buf)                                                                             \
    X(BIO_s_mem)                                                                                   \
    X(BN_bin2bn)                                                                                   \
    X(BN_bn2binpad)                                                                                \
    X(BN_free)                                                                                     \
    X(BN_num_bits)                                                                                 \
    X(ECDSA_SIG_free)                                                                              \
    X(ECDSA_SIG_get0)                                                                              \
    X(ECDSA_SIG_new)                                                                               \
    X(ECDSA_SIG_set0)                                                                              \
    X(ERR_clear_error)                                                                             \
    X(EVP_DigestSign)                                                                              \
    X(EVP_DigestSignInit)                                                                          \
    X(EVP_DigestVerify)                                                                            \
    X(EVP_DigestVerifyInit)                                                                        \
    X(EVP_MD_CTX_free)                                                                             \
    X(EVP_MD_CTX_new)                                                                              \
    X(EVP_PKEY_CTX_free)                                                                           \
    X(EVP_PKEY_CTX_new_from_name)                                                                  \
    X(EVP_PKEY_Q_keygen)                                                                           \
    X(EVP_PKEY_free)                                                                               \
    X(EVP_PKEY_fromdata)                                                                           \
    X(EVP_PKEY_fromdata_init)                                                                      \
    X(EVP_PKEY_get_base_id)                                                                        \
    X(EVP_PKEY_get_bits)                                                                           \
    X(EVP_PKEY_get_bn_param)                                                                       \
    X(EVP_PKEY_get_raw_private_key)                                                                \
    X(EVP_PKEY_get_raw_public_key)                                                                 \
    X(EVP_PKEY_get_utf8_string_param)                                                              \
    X(EVP_sha256)                                                                                  \
    X(OSSL_PARAM_BLD_free)                                                                         \
    X(OSSL_PARAM_BLD_new)                                                                          \
    X(OSSL_PARAM_BLD_push_BN)                                                                      \
    X(OSSL_PARAM_BLD_push_octet_string)                                                            \
    X(OSSL_PARAM_BLD_push_utf8_string)                                                             \
    X(OSSL_PARAM_BLD_to_param)                                                                     \
    X(OSSL_PARAM_free)                                                                             \
    X(PEM_read_bio_PUBKEY)                                                                         \
    X(PEM_read_bio_PrivateKey)                                                                     \
    X(PEM_write_bio_PrivateKey)                                                                    \
    X(d2i_ECDSA_SIG)                                                                               \
    X(i2d_ECDSA_SIG)

struct ossl_functions {
#define OSSL_MEMBER(f) __typeof__(f) *f;
    OSSL_FUNCTIONS(OSSL_MEMBER)
#undef OSSL_MEMBER
};

extern struct ossl_functions ossl_fn;

/* Loads libcrypto.so.3 and every function above, once (util/dlib.h);
 * thread-safe. Returns 0, or -1 with a one-line reason (install libssl3) in
 * err. */
int ossl_load(char *err, size_t errlen);

/* The public keys that arrive as numbers rather than PEM (COSE keys of
 * WebAuthn, RFC 9053 §7.1 and RFC 8230 §4), for a loaded library: a P-256
 * key from the big-endian affine coordinates x and y (32 bytes each; NULL
 * when the point is not on the curve), an RSA key from the big-endian
 * modulus n and exponent e. The caller frees the key (EVP_PKEY_free). */
EVP_PKEY *ossl_p256_public(const unsigned char *x, const unsigned char *y);
EVP_PKEY *ossl_rsa_public(const unsigned char *n, size_t nlen, const unsigned char *e, size_t elen);

/* True when sig (siglen bytes) is p's SHA-256 signature of msg: ECDSA with
 * a DER signature (RFC 3279 §2.2.3), or RSASSA-PKCS1-v1_5. */
bool ossl_verify_sha256(EVP_PKEY *p, const void *msg, size_t len, const unsigned char *sig,
                        size_t siglen);

#ifndef OSSL_LOADER
#define BIO_ctrl                         ossl_fn.BIO_ctrl
#define BIO_free                         ossl_fn.BIO_free
#define BIO_new                          ossl_fn.BIO_new
#define BIO_new_mem_buf                  ossl_fn.BIO_new_mem_buf
#define BIO_s_mem                        ossl_fn.BIO_s_mem
#define BN_bin2bn                        ossl_fn.BN_bin2bn
#define BN_bn2binpad                     ossl_fn.BN_bn2binpad
#define BN_free                          ossl_fn.BN_free
#define BN_num_bits                      ossl_fn.BN_num_bits
#define ECDSA_SIG_free                   ossl_fn.ECDSA_SIG_free
#define ECDSA_SIG_get0                   ossl_fn.ECDSA_SIG_get0
#define ECDSA_SIG_new                    ossl_fn.ECDSA_SIG_new
#define ECDSA_SIG_set0                   ossl_fn.ECDSA_SIG_set0
#define ERR_clear_error                  ossl_fn.ERR_clear_error
#define EVP_DigestSign                   ossl_fn.EVP_DigestSign
#define EVP_DigestSignInit               ossl_fn.EVP_DigestSignInit
#define EVP_DigestVerify                 ossl_fn.EVP_DigestVerify
#define EVP_DigestVerifyInit             ossl_fn.EVP_DigestVerifyInit
#define EVP_MD_CTX_free                  ossl_fn.EVP_MD_CTX_free
#define EVP_MD_CTX_new                   ossl_fn.EVP_MD_CTX_new
#define EVP_PKEY_CTX_free                ossl_fn.EVP_PKEY_CTX_free
#define EVP_PKEY_CTX_new_from_name       ossl_fn.EVP_PKEY_CTX_new_from_name
#define EVP_PKEY_Q_keygen                ossl_fn.EVP_PKEY_Q_keygen
#define EVP_PKEY_free                    ossl_fn.EVP_PKEY_free
#define EVP_PKEY_fromdata                ossl_fn.EVP_PKEY_fromdata
#define EVP_PKEY_fromdata_init           ossl_fn.EVP_PKEY_fromdata_init
#define EVP_PKEY_get_base_id             ossl_fn.EVP_PKEY_get_base_id
#define EVP_PKEY_get_bits                ossl_fn.EVP_PKEY_get_bits
#define EVP_PKEY_get_bn_param            ossl_fn.EVP_PKEY_get_bn_param
#define EVP_PKEY_get_raw_private_key     ossl_fn.EVP_PKEY_get_raw_private_key
#define EVP_PKEY_get_raw_public_key      ossl_fn.EVP_PKEY_get_raw_public_key
#define EVP_PKEY_get_utf8_string_param   ossl_fn.EVP_PKEY_get_utf8_string_param
#define EVP_sha256                       ossl_fn.EVP_sha256
#define OSSL_PARAM_BLD_free              ossl_fn.OSSL_PARAM_BLD_free
#define OSSL_PARAM_BLD_new               ossl_fn.OSSL_PARAM_BLD_new
#define OSSL_PARAM_BLD_push_BN           ossl_fn.OSSL_PARAM_BLD_push_BN
#define OSSL_PARAM_BLD_push_octet_string ossl_fn.OSSL_PARAM_BLD_push_octet_string
#define OSSL_PARAM_BLD_push_utf8_string  ossl_fn.OSSL_PARAM_BLD_push_utf8_string
#define OSSL_PARAM_BLD_to_param          ossl_fn.OSSL_PARAM_BLD_to_param
#define OSSL_PARAM_free                  ossl_fn.OSSL_PARAM_free
#define PEM_read_bio_PUBKEY              ossl_fn.PEM_read_bio_PUBKEY
#define PEM_read_bio_PrivateKey          ossl_fn.PEM_read_bio_PrivateKey
#define PEM_write_bio_PrivateKey         ossl_fn.PEM_write_bio_PrivateKey
#define d2i_ECDSA_SIG                    ossl_fn.d2i_ECDSA_SIG
#define i2d_ECDSA_SIG                    ossl_fn.i2d_ECDSA_SIG
#endif

#endif
