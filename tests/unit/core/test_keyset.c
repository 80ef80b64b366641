/* core/jwk, core/keyset: asymmetric signatures cross-checked with OpenSSL
 * (linked here, independently of the dlopen'ed copy the code uses), RFC
 * test vectors for the kid, the asymmetric JWS rules, the reload, and the
 * atomic <database>.secret file. */
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "core/jwk.h"
#include "core/jwt.h"
#include "core/keyset.h"
#include "test.h"
#include "util/b64.h"
#include "util/keyfile.h"

#define NOW ((int64_t)1700000000)

static const enum jwk_alg algs[] = {JWK_EDDSA, JWK_ES256, JWK_RS256};

/* A temporary directory for files; removed with its files by rm_dir. */
static int tmp_dir(char *dir, size_t cap)
{
    snprintf(dir, cap, "/tmp/gh-keys-XXXXXX");
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static void rm_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];

    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d != NULL)
        closedir(d);
    rmdir(dir);
}

static EVP_PKEY *openssl_key(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    EVP_PKEY *p = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);

    BIO_free(b);
    return p;
}

/* OpenSSL's verdict on a JOSE signature (ES256: r||s turned into DER). */
static int openssl_verify(EVP_PKEY *p, enum jwk_alg alg, const char *msg, const unsigned char *sig,
                          size_t siglen)
{
    unsigned char der[80], *dp = der;
    const unsigned char *in = sig;
    size_t ilen = siglen;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok;

    if (alg == JWK_ES256) {
        ECDSA_SIG *es = ECDSA_SIG_new();
        ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL));
        ilen = (size_t)i2d_ECDSA_SIG(es, &dp);
        ECDSA_SIG_free(es);
        in = der;
    }
    ok = EVP_DigestVerifyInit(ctx, NULL, alg == JWK_EDDSA ? NULL : EVP_sha256(), NULL, p) == 1 &&
         EVP_DigestVerify(ctx, in, ilen, (const unsigned char *)msg, strlen(msg)) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

/* OpenSSL's signature of msg in JOSE form into sig; its length. */
static size_t openssl_sign(EVP_PKEY *p, enum jwk_alg alg, const char *msg, unsigned char *sig)
{
    unsigned char der[1100];
    size_t dlen = sizeof der;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();

    if (EVP_DigestSignInit(ctx, NULL, alg == JWK_EDDSA ? NULL : EVP_sha256(), NULL, p) != 1 ||
        EVP_DigestSign(ctx, der, &dlen, (const unsigned char *)msg, strlen(msg)) != 1)
        dlen = 0;
    EVP_MD_CTX_free(ctx);
    if (alg != JWK_ES256) {
        memcpy(sig, der, dlen);
        return dlen;
    }
    const unsigned char *dp = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &dp, (long)dlen);
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(es, &r, &s);
    BN_bn2binpad(r, sig, 32);
    BN_bn2binpad(s, sig + 32, 32);
    ECDSA_SIG_free(es);
    return 64;
}

TEST(jwk_signatures_cross_checked_with_openssl)
{
    static const char msg[] = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0";

    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        char err[256];
        char *pem = jwk_generate_pem(algs[i], err, sizeof err);
        REQUIRE(pem != NULL);
        jwk *k = jwk_from_pem(pem, strlen(pem), true, err, sizeof err);
        EVP_PKEY *p = openssl_key(pem);
        REQUIRE(k != NULL && p != NULL);
        CHECK_EQ_INT(jwk_alg_of(k), algs[i]);
        CHECK(jwk_is_private(k));
        CHECK_EQ_INT(strlen(jwk_kid(k)), JWK_KID_LEN);

        /* Ours, checked by OpenSSL (ES256 in the r||s form, 64 bytes). */
        unsigned char sig[JWK_SIG_MAX];
        size_t n = jwk_sig_len(k);
        CHECK_EQ_INT(n, algs[i] == JWK_RS256 ? JWK_RSA_GEN / 8 : 64);
        REQUIRE(jwk_sign(k, msg, strlen(msg), sig) == 0);
        CHECK(openssl_verify(p, algs[i], msg, sig, n));
        CHECK(jwk_verify(k, msg, strlen(msg), sig, n));
        sig[n / 2] ^= 1;
        CHECK(!openssl_verify(p, algs[i], msg, sig, n));
        CHECK(!jwk_verify(k, msg, strlen(msg), sig, n));

        /* OpenSSL's, checked by ours; a message one byte off fails. */
        size_t m = openssl_sign(p, algs[i], msg, sig);
        CHECK_EQ_INT(m, n);
        CHECK(jwk_verify(k, msg, strlen(msg), sig, m));
        CHECK(!jwk_verify(k, msg, strlen(msg) - 1, sig, m));
        CHECK(!jwk_verify(k, msg, strlen(msg), sig, m - 1));

        EVP_PKEY_free(p);
        jwk_free(k);
        free(pem);
    }
}

/* RFC 8037 Appendix A.2 and A.3: the Ed25519 public key and its thumbprint. */
TEST(jwk_kid_rfc8037_vector)
{
    static const unsigned char spki_prefix[12] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                                  0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
    unsigned char der[44];
    char b64[80], pem[200], err[256];

    CHECK_EQ_INT(b64url_decode(der + 12, 32, "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", 43),
                 32);
    memcpy(der, spki_prefix, sizeof spki_prefix);
    EVP_EncodeBlock((unsigned char *)b64, der, sizeof der);
    snprintf(pem, sizeof pem, "-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n", b64);
    jwk *k = jwk_from_pem(pem, strlen(pem), false, err, sizeof err);
    REQUIRE(k != NULL);
    CHECK(!jwk_is_private(k));
    CHECK_EQ_STR(jwk_kid(k), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    json_t *j = jwk_public_json(k);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "x")),
                 "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
    CHECK_EQ_STR(json_string_value(json_object_get(j, "kty")), "OKP");
    CHECK_EQ_STR(json_string_value(json_object_get(j, "crv")), "Ed25519");
    CHECK_EQ_STR(json_string_value(json_object_get(j, "use")), "sig");
    CHECK(json_object_get(j, "d") == NULL);
    json_decref(j);
    /* A public key cannot sign, and is refused where a private one is needed. */
    unsigned char sig[64];
    CHECK(jwk_sign(k, "x", 1, sig) != 0);
    jwk_free(k);
    CHECK(jwk_from_pem(pem, strlen(pem), true, err, sizeof err) == NULL);
}

/* RFC 7638 §3.1: the RSA example key's thumbprint. */
TEST(jwk_kid_rfc7638_vector)
{
    static const char n64[] =
        "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_"
        "BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-"
        "65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"
        "bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
    unsigned char n[256];
    unsigned char e[3] = {1, 0, 1};
    char err[256];

    REQUIRE(b64url_decode(n, sizeof n, n64, strlen(n64)) == 256);
    BIGNUM *bn = BN_bin2bn(n, 256, NULL), *be = BN_bin2bn(e, 3, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    REQUIRE(bld != NULL && OSSL_PARAM_BLD_push_BN(bld, "n", bn) == 1 &&
            OSSL_PARAM_BLD_push_BN(bld, "e", be) == 1);
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
    EVP_PKEY *rsa = NULL;
    REQUIRE(ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
            EVP_PKEY_fromdata(ctx, &rsa, EVP_PKEY_PUBLIC_KEY, params) == 1);
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(b, rsa);
    char *data = NULL;
    long len = BIO_get_mem_data(b, &data);
    jwk *k = jwk_from_pem(data, (size_t)len, false, err, sizeof err);
    REQUIRE(k != NULL);
    CHECK_EQ_INT(jwk_alg_of(k), JWK_RS256);
    CHECK_EQ_STR(jwk_kid(k), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    json_t *j = jwk_public_json(k);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "n")), n64);
    CHECK_EQ_STR(json_string_value(json_object_get(j, "e")), "AQAB");
    json_decref(j);
    jwk_free(k);
    BIO_free(b);
    EVP_PKEY_free(rsa);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
}

TEST(jwk_refusals)
{
    char err[256];
    EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    BIO *b = BIO_new(BIO_s_mem());
    char *data;
    long len;

    REQUIRE(small != NULL && p384 != NULL && b != NULL);
    PEM_write_bio_PrivateKey(b, small, NULL, NULL, 0, NULL, NULL);
    len = BIO_get_mem_data(b, &data);
    CHECK(jwk_from_pem(data, (size_t)len, true, err, sizeof err) == NULL);
    CHECK(strstr(err, "2048") != NULL);
    (void)BIO_reset(b);
    PEM_write_bio_PrivateKey(b, p384, NULL, NULL, 0, NULL, NULL);
    len = BIO_get_mem_data(b, &data);
    CHECK(jwk_from_pem(data, (size_t)len, true, err, sizeof err) == NULL);
    CHECK(strstr(err, "P-256") != NULL);
    CHECK(jwk_from_pem("", 0, false, err, sizeof err) == NULL);
    CHECK(jwk_from_pem("-----BEGIN PRIVATE KEY-----\n!!\n-----END PRIVATE KEY-----\n", 58, true,
                       err, sizeof err) == NULL);
    BIO_free(b);
    EVP_PKEY_free(small);
    EVP_PKEY_free(p384);
}

/* A private key of type ("RSA", "EC") whose private parameters are a's and
 * whose public ones (names, e.g. "n") are b's, as a PEM text in out. */
static long mixed_key_pem(const char *type, EVP_PKEY *a, EVP_PKEY *b, const char *const *priv,
                          const char *const *pub, BIO *out, char **pem)
{
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    BIGNUM *bn[12] = {0};
    int nbn = 0;
    char group[64] = "";
    /* The builder keeps a pointer to an octet string until _to_param. */
    unsigned char pt[65];
    size_t ptlen = 0;
    long len = -1;

    if (EVP_PKEY_get_utf8_string_param(a, "group", group, sizeof group, NULL) == 1)
        OSSL_PARAM_BLD_push_utf8_string(bld, "group", group, 0);
    for (int half = 0; half < 2; half++) {
        for (const char *const *name = half == 0 ? priv : pub; *name != NULL; name++) {
            if (strcmp(*name, "pub") == 0) { /* an EC point: an octet string */
                EVP_PKEY_get_octet_string_param(b, "pub", pt, sizeof pt, &ptlen);
                OSSL_PARAM_BLD_push_octet_string(bld, "pub", pt, ptlen);
                continue;
            }
            EVP_PKEY_get_bn_param(half == 0 ? a : b, *name, &bn[nbn]);
            OSSL_PARAM_BLD_push_BN(bld, *name, bn[nbn++]);
        }
    }
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *mixed = NULL;
    if (ctx != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, &mixed, EVP_PKEY_KEYPAIR, params) == 1 &&
        PEM_write_bio_PrivateKey(out, mixed, NULL, NULL, 0, NULL, NULL) == 1)
        len = BIO_get_mem_data(out, pem);
    EVP_PKEY_free(mixed);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    for (int i = 0; i < nbn; i++)
        BN_free(bn[i]);
    return len;
}

/* A private key file whose public half is another key's (a damaged file)
 * is refused: it would sign tokens nobody can verify. */
TEST(jwk_refuses_halves_that_do_not_match)
{
    static const char *const rsa_priv[] = {"e",
                                           "d",
                                           "rsa-factor1",
                                           "rsa-factor2",
                                           "rsa-exponent1",
                                           "rsa-exponent2",
                                           "rsa-coefficient1",
                                           NULL};
    static const char *const rsa_pub[] = {"n", NULL};
    static const char *const ec_priv[] = {"priv", NULL};
    static const char *const ec_pub[] = {"pub", NULL};
    EVP_PKEY *r1 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    EVP_PKEY *r2 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    EVP_PKEY *e1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    EVP_PKEY *e2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    BIO *b = BIO_new(BIO_s_mem());
    char err[256], *pem;
    long len;

    REQUIRE(r1 != NULL && r2 != NULL && e1 != NULL && e2 != NULL && b != NULL);
    /* The same construction with both halves of one key is accepted. */
    REQUIRE((len = mixed_key_pem("RSA", r1, r1, rsa_priv, rsa_pub, b, &pem)) > 0);
    jwk *k = jwk_from_pem(pem, (size_t)len, true, err, sizeof err);
    CHECK(k != NULL);
    jwk_free(k);
    (void)BIO_reset(b);
    REQUIRE((len = mixed_key_pem("RSA", r1, r2, rsa_priv, rsa_pub, b, &pem)) > 0);
    CHECK(jwk_from_pem(pem, (size_t)len, true, err, sizeof err) == NULL);
    CHECK(strstr(err, "does not match its public half") != NULL);
    (void)BIO_reset(b);
    REQUIRE((len = mixed_key_pem("EC", e1, e1, ec_priv, ec_pub, b, &pem)) > 0);
    k = jwk_from_pem(pem, (size_t)len, true, err, sizeof err);
    CHECK(k != NULL);
    jwk_free(k);
    (void)BIO_reset(b);
    REQUIRE((len = mixed_key_pem("EC", e1, e2, ec_priv, ec_pub, b, &pem)) > 0);
    CHECK(jwk_from_pem(pem, (size_t)len, true, err, sizeof err) == NULL);
    CHECK(strstr(err, "does not match its public half") != NULL);
    BIO_free(b);
    EVP_PKEY_free(r1);
    EVP_PKEY_free(r2);
    EVP_PKEY_free(e1);
    EVP_PKEY_free(e2);
}

static jwk *new_key(enum jwk_alg alg)
{
    char err[256];
    char *pem = jwk_generate_pem(alg, err, sizeof err);
    jwk *k = pem != NULL ? jwk_from_pem(pem, strlen(pem), true, err, sizeof err) : NULL;

    free(pem);
    return k;
}

static const struct jwt_claims claims = {42, "alice", "s1", NOW, NOW + 600, JWT_AMR_PWD, "", ""};

TEST(jwt_asymmetric_rules)
{
    struct jwt_params params = {NULL, NULL, 0};
    struct jwt_claims out;

    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        jwk *signer = new_key(algs[i]), *other = new_key(algs[i]);
        REQUIRE(signer != NULL && other != NULL);
        char *pub_kid = strdup(jwk_kid(signer));
        jwt_key *k = jwt_key_create_asym(signer, NULL, 0, &params);
        jwt_key *o = jwt_key_create_asym(other, NULL, 0, &params);
        REQUIRE(k != NULL && o != NULL);
        CHECK_EQ_STR(jwt_key_kid(k), pub_kid);
        char *t = jwt_sign(k, &claims), *u = jwt_sign(o, &claims);
        REQUIRE(t != NULL && u != NULL);
        CHECK_EQ_INT(jwt_verify(k, t, strlen(t), NOW, &out), JWT_OK);
        CHECK_EQ_INT(out.user_id, 42);
        CHECK_EQ_STR(out.username, "alice");
        /* Another key's token: its kid is unknown here. */
        CHECK_EQ_INT(jwt_verify(k, u, strlen(u), NOW, &out), JWT_BAD_HEADER);
        /* Claims still checked. */
        CHECK_EQ_INT(jwt_verify(k, t, strlen(t), NOW + 600, &out), JWT_EXPIRED);
        /* The signature of another key under our header. */
        char *mixed = malloc(strlen(t) + strlen(u) + 1);
        const char *tsig = strrchr(t, '.'), *usig = strrchr(u, '.');
        snprintf(mixed, strlen(t) + strlen(u) + 1, "%.*s%s", (int)(tsig - t), t, usig);
        CHECK_EQ_INT(jwt_verify(k, mixed, strlen(mixed), NOW, &out), JWT_BAD_SIGNATURE);
        /* An HS256 token never reaches a signature check. */
        jwt_key *h = jwt_key_create(pub_kid, strlen(pub_kid), &params);
        char *ht = jwt_sign(h, &claims);
        CHECK_EQ_INT(jwt_verify(k, ht, strlen(ht), NOW, &out), JWT_BAD_HEADER);
        /* And an HS256 configuration refuses the asymmetric token. */
        CHECK_EQ_INT(jwt_verify(h, t, strlen(t), NOW, &out), JWT_BAD_HEADER);
        free(ht);
        jwt_key_free(h);
        free(mixed);
        free(t);
        free(u);
        free(pub_kid);
        jwt_key_free(k);
        jwt_key_free(o);
    }
}

static int write_pem(const char *path, enum jwk_alg alg, mode_t mode, char *kid)
{
    char err[256];
    char *pem = jwk_generate_pem(alg, err, sizeof err);
    jwk *k = pem != NULL ? jwk_from_pem(pem, strlen(pem), true, err, sizeof err) : NULL;
    int rc = k != NULL ? keyfile_create(path, pem, strlen(pem), err, sizeof err) : -1;

    if (rc == 0 && kid != NULL)
        snprintf(kid, JWK_KID_LEN + 1, "%s", jwk_kid(k));
    if (rc == 0 && mode != 0600)
        rc = chmod(path, mode);
    jwk_free(k);
    free(pem);
    return rc;
}

static size_t jwks_count(const keyset_gen *g)
{
    json_t *doc = json_loads(keyset_jwks(g), 0, NULL);
    size_t n = json_array_size(json_object_get(doc, "keys"));

    json_decref(doc);
    return n;
}

TEST(keyset_reload)
{
    char dir[64], sign[128], vdir[128], old[160], bad[160], kid_a[64], kid_b[64], err[512];
    struct jwt_claims out;

    REQUIRE(tmp_dir(dir, sizeof dir) == 0);
    snprintf(sign, sizeof sign, "%s/signing.pem", dir);
    snprintf(vdir, sizeof vdir, "%s/verify", dir);
    snprintf(old, sizeof old, "%s/old.pem", vdir);
    snprintf(bad, sizeof bad, "%s/bad.pem", vdir);
    REQUIRE(mkdir(vdir, 0700) == 0);
    REQUIRE(write_pem(sign, JWK_EDDSA, 0600, kid_a) == 0);
    struct keyset_config cfg = {"EdDSA", NULL, 0, sign, vdir, {NULL, NULL, 0}, NULL};
    keyset *ks = keyset_open(&cfg, err, sizeof err);
    REQUIRE(ks != NULL);
    const keyset_gen *g1 = keyset_get(ks);
    CHECK_EQ_STR(jwt_key_kid(keyset_jwt(g1)), kid_a);
    CHECK_EQ_INT(jwks_count(g1), 1);
    char *t1 = jwt_sign(keyset_jwt(g1), &claims);
    REQUIRE(t1 != NULL);

    /* Rotate: the old key moves to the directory, a new one signs. */
    REQUIRE(rename(sign, old) == 0);
    REQUIRE(write_pem(sign, JWK_EDDSA, 0600, kid_b) == 0);
    CHECK_EQ_INT(keyset_reload(ks, err, sizeof err), 0);
    /* The generation taken before stays whole until it is put back. */
    CHECK_EQ_STR(jwt_key_kid(keyset_jwt(g1)), kid_a);
    CHECK_EQ_INT(jwt_verify(keyset_jwt(g1), t1, strlen(t1), NOW, &out), JWT_OK);
    keyset_put(g1);
    const keyset_gen *g2 = keyset_get(ks);
    CHECK_EQ_STR(jwt_key_kid(keyset_jwt(g2)), kid_b);
    CHECK_EQ_INT(jwks_count(g2), 2);
    char *t2 = jwt_sign(keyset_jwt(g2), &claims);
    CHECK_EQ_INT(jwt_verify(keyset_jwt(g2), t1, strlen(t1), NOW, &out), JWT_OK);
    CHECK_EQ_INT(jwt_verify(keyset_jwt(g2), t2, strlen(t2), NOW, &out), JWT_OK);
    keyset_put(g2);

    /* A bad file: the reload fails, names it, and changes nothing. */
    REQUIRE(write_pem(bad, JWK_ES256, 0644, NULL) == 0);
    CHECK_EQ_INT(keyset_reload(ks, err, sizeof err), -1);
    CHECK(strstr(err, "bad.pem") != NULL);
    const keyset_gen *g3 = keyset_get(ks);
    CHECK(g3 == g2);
    keyset_put(g3);

    /* The old key retired: its tokens are refused. */
    unlink(bad);
    unlink(old);
    CHECK_EQ_INT(keyset_reload(ks, err, sizeof err), 0);
    const keyset_gen *g4 = keyset_get(ks);
    CHECK_EQ_INT(jwks_count(g4), 1);
    CHECK_EQ_INT(jwt_verify(keyset_jwt(g4), t1, strlen(t1), NOW, &out), JWT_BAD_HEADER);
    CHECK_EQ_INT(jwt_verify(keyset_jwt(g4), t2, strlen(t2), NOW, &out), JWT_OK);
    keyset_put(g4);

    /* A signing key of another type than ALGORITHM is refused at open. */
    cfg.algorithm = "ES256";
    CHECK(keyset_open(&cfg, err, sizeof err) == NULL);
    CHECK(strstr(err, "EdDSA") != NULL);
    free(t1);
    free(t2);
    keyset_close(ks);
    unlink(sign);
    rm_dir(vdir);
    rm_dir(dir);
}

TEST(keyset_hs256_jwks_empty)
{
    static const char secret[] = "0123456789abcdef0123456789abcdef";
    struct keyset_config cfg = {"HS256", secret, strlen(secret), NULL, NULL, {NULL, NULL, 0}, NULL};
    char err[256];
    keyset *ks = keyset_open(&cfg, err, sizeof err);

    REQUIRE(ks != NULL);
    const keyset_gen *g = keyset_get(ks);
    CHECK_EQ_STR(keyset_jwks(g), "{\"keys\":[]}");
    CHECK(jwt_key_kid(keyset_jwt(g)) == NULL);
    keyset_put(g);
    CHECK_EQ_INT(keyset_reload(ks, err, sizeof err), 0);
    keyset_close(ks);
}

struct race {
    const char *db;
    char *secret;
    size_t len;
    bool generated;
    int rc;
};

static void *race_main(void *arg)
{
    struct race *r = arg;
    char err[256];

    r->rc = keyset_secret_beside(r->db, &r->secret, &r->len, &r->generated, err, sizeof err);
    return NULL;
}

/* Eight servers starting at once on a new database agree on one key, made
 * by exactly one of them, and no temporary file stays behind. */
TEST(keyset_secret_file_race)
{
    char dir[64], db[96], path[128], err[256];
    struct race r[8];
    pthread_t th[8];
    struct stat st;

    REQUIRE(tmp_dir(dir, sizeof dir) == 0);
    snprintf(db, sizeof db, "%s/gh.db", dir);
    snprintf(path, sizeof path, "%s.secret", db);
    for (int i = 0; i < 8; i++) {
        r[i] = (struct race){.db = db};
        REQUIRE(pthread_create(&th[i], NULL, race_main, &r[i]) == 0);
    }
    int made = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ_INT(r[i].rc, 0);
        made += r[i].generated;
    }
    CHECK_EQ_INT(made, 1);
    for (int i = 0; i < 8; i++) {
        CHECK_EQ_INT(r[i].len, 64);
        if (r[i].secret != NULL && r[0].secret != NULL)
            CHECK_EQ_STR(r[i].secret, r[0].secret);
    }
    REQUIRE(stat(path, &st) == 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    CHECK_EQ_INT(st.st_size, 65);
    DIR *d = opendir(dir);
    int files = 0;
    for (struct dirent *e; d != NULL && (e = readdir(d)) != NULL;)
        files += e->d_name[0] != '.';
    closedir(d);
    CHECK_EQ_INT(files, 1);

    /* Opened to others, it is refused; an empty one (no longer made by a
     * crash, but a user may leave one) is refused with its name. */
    char *s = NULL;
    size_t n;
    bool gen;
    REQUIRE(chmod(path, 0644) == 0);
    CHECK_EQ_INT(keyset_secret_beside(db, &s, &n, &gen, err, sizeof err), -1);
    CHECK(strstr(err, "chmod") != NULL);
    REQUIRE(chmod(path, 0600) == 0 && truncate(path, 0) == 0);
    CHECK_EQ_INT(keyset_secret_beside(db, &s, &n, &gen, err, sizeof err), -1);
    CHECK(strstr(err, "empty") != NULL && strstr(err, path) != NULL);
    for (int i = 0; i < 8; i++)
        free(r[i].secret);
    rm_dir(dir);
}

TEST(keyset_read_secret_file)
{
    char dir[64], path[96], err[256], *s = NULL;
    size_t n = 0;
    FILE *f;

    REQUIRE(tmp_dir(dir, sizeof dir) == 0);
    snprintf(path, sizeof path, "%s/secret", dir);
    REQUIRE((f = fopen(path, "w")) != NULL);
    fputs("0123456789abcdef0123456789abcdef-tail\r\n", f);
    fclose(f);
    CHECK_EQ_INT(keyset_read_secret(path, &s, &n, err, sizeof err), 0);
    CHECK_EQ_STR(s, "0123456789abcdef0123456789abcdef-tail");
    CHECK_EQ_INT(n, 37);
    free(s);
    REQUIRE((f = fopen(path, "w")) != NULL);
    fputs("short-but-secret", f);
    fclose(f);
    CHECK_EQ_INT(keyset_read_secret(path, &s, &n, err, sizeof err), -1);
    CHECK(strstr(err, "32") != NULL && strstr(err, "short-but-secret") == NULL);
    REQUIRE((f = fopen(path, "w")) != NULL);
    fwrite("0123456789abcdef\0"
           "0123456789abcdef",
           1, 33, f);
    fclose(f);
    CHECK_EQ_INT(keyset_read_secret(path, &s, &n, err, sizeof err), -1);
    CHECK(strstr(err, "NUL") != NULL);
    REQUIRE(truncate(path, KEYSET_SECRET_MAX + 1) == 0);
    CHECK_EQ_INT(keyset_read_secret(path, &s, &n, err, sizeof err), -1);
    CHECK(strstr(err, "larger") != NULL);
    unlink(path);
    CHECK_EQ_INT(keyset_read_secret(path, &s, &n, err, sizeof err), -1);
    CHECK(strstr(err, path) != NULL);
    /* Neither a directory nor a FIFO (which would block a plain open). */
    CHECK_EQ_INT(keyset_read_secret(dir, &s, &n, err, sizeof err), -1);
    CHECK(strstr(err, "regular") != NULL);
    REQUIRE(mkfifo(path, 0600) == 0);
    CHECK_EQ_INT(keyset_read_secret(path, &s, &n, err, sizeof err), -1);
    CHECK(strstr(err, "regular") != NULL);
    unlink(path);
    rm_dir(dir);
}

/* The OpenID Connect provider's key beside a SQLite file: RSA 2048 made
 * once, mode 0600, then read as it is; a keyset of the file's own
 * algorithm opens it, and the JWKS of two keysets lists each kid once. */
TEST(keyset_oidc_key_beside)
{
    char dir[] = "/tmp/gh-oidckey-XXXXXX", db[64], err[256], *path = NULL, *again = NULL;
    bool generated = false;
    struct stat st;

    REQUIRE(mkdtemp(dir) != NULL);
    snprintf(db, sizeof db, "%s/gh.db", dir);
    REQUIRE(keyset_key_beside(db, &path, &generated, err, sizeof err) == 0);
    CHECK(generated);
    CHECK(strstr(path, "gh.db.oidc-key.pem") != NULL);
    REQUIRE(stat(path, &st) == 0);
    CHECK_EQ_INT(st.st_mode & 0777, 0600);
    REQUIRE(keyset_key_beside(db, &again, &generated, err, sizeof err) == 0);
    CHECK(!generated);
    struct keyset_config kc = {
        NULL, NULL, 0, path, NULL, {NULL, NULL, 0}, "the OpenID Connect key"};
    keyset *ks = keyset_open(&kc, err, sizeof err);
    REQUIRE(ks != NULL);
    const keyset_gen *g = keyset_get(ks);
    const jwk *k = jwt_key_at(keyset_jwt(g), 0);
    CHECK_EQ_INT(jwk_alg_of(k), JWK_RS256);
    CHECK_EQ_INT(jwk_sig_len(k), 256); /* 2048 bits */
    /* The union with itself, and with another keyset holding it. */
    char *one = keyset_jwks_union(g, g);
    keyset *same = keyset_open(&kc, err, sizeof err);
    REQUIRE(same != NULL);
    const keyset_gen *g2 = keyset_get(same);
    char *both = keyset_jwks_union(g, g2);
    REQUIRE(one != NULL && both != NULL);
    CHECK_EQ_STR(one, both);
    json_t *doc = json_loads(both, 0, NULL);
    CHECK(doc != NULL && json_array_size(json_object_get(doc, "keys")) == 1);
    json_decref(doc);
    free(one);
    free(both);
    keyset_put(g2);
    keyset_close(same);
    keyset_put(g);
    keyset_close(ks);
    /* A file of another kind names the setting it came from. */
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    fputs("not a key\n", f);
    fclose(f);
    CHECK(keyset_open(&kc, err, sizeof err) == NULL);
    CHECK(strstr(err, "the OpenID Connect key") != NULL);
    unlink(path);
    rmdir(dir);
    free(path);
    free(again);
}
