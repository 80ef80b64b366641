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
#include <openssl/pem.h>
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
    X(EVP_PKEY_Q_keygen)                                                                           \
    X(EVP_PKEY_free)                                                                               \
    X(EVP_PKEY_get_base_id)                                                                        \
    X(EVP_PKEY_get_bits)                                                                           \
    X(EVP_PKEY_get_bn_param)                                                                       \
    X(EVP_PKEY_get_raw_private_key)                                                                \
    X(EVP_PKEY_get_raw_public_key)                                                                 \
    X(EVP_PKEY_get_utf8_string_param)                                                              \
    X(EVP_sha256)                                                                                  \
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

#ifndef OSSL_LOADER
#define BIO_ctrl                       ossl_fn.BIO_ctrl
#define BIO_free                       ossl_fn.BIO_free
#define BIO_new                        ossl_fn.BIO_new
#define BIO_new_mem_buf                ossl_fn.BIO_new_mem_buf
#define BIO_s_mem                      ossl_fn.BIO_s_mem
#define BN_bin2bn                      ossl_fn.BN_bin2bn
#define BN_bn2binpad                   ossl_fn.BN_bn2binpad
#define BN_free                        ossl_fn.BN_free
#define BN_num_bits                    ossl_fn.BN_num_bits
#define ECDSA_SIG_free                 ossl_fn.ECDSA_SIG_free
#define ECDSA_SIG_get0                 ossl_fn.ECDSA_SIG_get0
#define ECDSA_SIG_new                  ossl_fn.ECDSA_SIG_new
#define ECDSA_SIG_set0                 ossl_fn.ECDSA_SIG_set0
#define ERR_clear_error                ossl_fn.ERR_clear_error
#define EVP_DigestSign                 ossl_fn.EVP_DigestSign
#define EVP_DigestSignInit             ossl_fn.EVP_DigestSignInit
#define EVP_DigestVerify               ossl_fn.EVP_DigestVerify
#define EVP_DigestVerifyInit           ossl_fn.EVP_DigestVerifyInit
#define EVP_MD_CTX_free                ossl_fn.EVP_MD_CTX_free
#define EVP_MD_CTX_new                 ossl_fn.EVP_MD_CTX_new
#define EVP_PKEY_Q_keygen              ossl_fn.EVP_PKEY_Q_keygen
#define EVP_PKEY_free                  ossl_fn.EVP_PKEY_free
#define EVP_PKEY_get_base_id           ossl_fn.EVP_PKEY_get_base_id
#define EVP_PKEY_get_bits              ossl_fn.EVP_PKEY_get_bits
#define EVP_PKEY_get_bn_param          ossl_fn.EVP_PKEY_get_bn_param
#define EVP_PKEY_get_raw_private_key   ossl_fn.EVP_PKEY_get_raw_private_key
#define EVP_PKEY_get_raw_public_key    ossl_fn.EVP_PKEY_get_raw_public_key
#define EVP_PKEY_get_utf8_string_param ossl_fn.EVP_PKEY_get_utf8_string_param
#define EVP_sha256                     ossl_fn.EVP_sha256
#define PEM_read_bio_PUBKEY            ossl_fn.PEM_read_bio_PUBKEY
#define PEM_read_bio_PrivateKey        ossl_fn.PEM_read_bio_PrivateKey
#define PEM_write_bio_PrivateKey       ossl_fn.PEM_write_bio_PrivateKey
#define d2i_ECDSA_SIG                  ossl_fn.d2i_ECDSA_SIG
#define i2d_ECDSA_SIG                  ossl_fn.i2d_ECDSA_SIG
#endif

#endif
