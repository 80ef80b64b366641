#include "core/jwk.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ossl.h"
#include "util/b64.h"
#include "util/keyfile.h"

/* base64url of the longest value (an RSA 8192 modulus), with its NUL. */
#define B64_VALUE_MAX ((JWK_RSA_MAX / 8 * 4 + 2) / 3 + 1)

struct jwk {
    enum jwk_alg alg;
    bool priv;
    char kid[JWK_KID_LEN + 1];
    size_t siglen;
    unsigned char ed_pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char ed_sk[crypto_sign_SECRETKEYBYTES];
    EVP_PKEY *pkey; /* ES256 and RS256 */
    json_t *pub;    /* the public members of the JWK (kty, crv, x, y or n, e) */
};

/* DER of Ed25519 keys (RFC 8410): a PKCS#8 v1 PrivateKeyInfo holding the
 * 32-byte seed, and a SubjectPublicKeyInfo holding the 32-byte key. */
static const unsigned char ed_pkcs8_prefix[16] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
                                                  0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};
static const unsigned char ed_spki_prefix[12] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                                 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

int jwk_alg_parse(const char *name, enum jwk_alg *out)
{
    if (strcmp(name, "EdDSA") == 0)
        *out = JWK_EDDSA;
    else if (strcmp(name, "ES256") == 0)
        *out = JWK_ES256;
    else if (strcmp(name, "RS256") == 0)
        *out = JWK_RS256;
    else
        return -1;
    return 0;
}

const char *jwk_alg_name(enum jwk_alg alg)
{
    switch (alg) {
    case JWK_EDDSA: return "EdDSA";
    case JWK_ES256: return "ES256";
    case JWK_RS256: return "RS256";
    }
    return "?";
}

static jwk *jwk_new(void)
{
    jwk *k = sodium_malloc(sizeof *k);

    if (k != NULL)
        memset(k, 0, sizeof *k);
    return k;
}

void jwk_free(jwk *k)
{
    if (k == NULL)
        return;
    if (k->pkey != NULL)
        EVP_PKEY_free(k->pkey);
    json_decref(k->pub);
    sodium_free(k); /* wipes ed_sk */
}

enum jwk_alg jwk_alg_of(const jwk *k)
{
    return k->alg;
}

const char *jwk_kid(const jwk *k)
{
    return k->kid;
}

bool jwk_is_private(const jwk *k)
{
    return k->priv;
}

size_t jwk_sig_len(const jwk *k)
{
    return k->siglen;
}

/* base64url of n bytes as a new JSON string. */
static json_t *b64_json(const unsigned char *p, size_t n)
{
    char buf[B64_VALUE_MAX];

    if (n > JWK_RSA_MAX / 8)
        return NULL;
    b64url_encode(buf, p, n);
    return json_string(buf);
}

/* The RFC 7638 thumbprint: SHA-256 of the required members in
 * lexicographic order, without whitespace (our values need no escaping). */
static int set_kid(jwk *k)
{
    const char *kty = json_string_value(json_object_get(k->pub, "kty"));
    char canon[2 * B64_VALUE_MAX + 96];
    unsigned char h[crypto_hash_sha256_BYTES];
    int n;

    if (k->alg == JWK_RS256)
        n = snprintf(canon, sizeof canon, "{\"e\":\"%s\",\"kty\":\"%s\",\"n\":\"%s\"}",
                     json_string_value(json_object_get(k->pub, "e")), kty,
                     json_string_value(json_object_get(k->pub, "n")));
    else if (k->alg == JWK_ES256)
        n = snprintf(canon, sizeof canon,
                     "{\"crv\":\"P-256\",\"kty\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}", kty,
                     json_string_value(json_object_get(k->pub, "x")),
                     json_string_value(json_object_get(k->pub, "y")));
    else
        n = snprintf(canon, sizeof canon, "{\"crv\":\"Ed25519\",\"kty\":\"%s\",\"x\":\"%s\"}", kty,
                     json_string_value(json_object_get(k->pub, "x")));
    if (n < 0 || (size_t)n >= sizeof canon)
        return -1;
    crypto_hash_sha256(h, (const unsigned char *)canon, (unsigned long long)n);
    b64url_encode(k->kid, h, sizeof h);
    return 0;
}

static jwk *ed25519_key(const unsigned char *seed, const unsigned char *pk, char *err,
                        size_t errlen)
{
    jwk *k = jwk_new();

    if (k == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    k->alg = JWK_EDDSA;
    k->siglen = crypto_sign_BYTES;
    if (seed != NULL) {
        crypto_sign_seed_keypair(k->ed_pk, k->ed_sk, seed);
        k->priv = true;
    } else {
        memcpy(k->ed_pk, pk, sizeof k->ed_pk);
    }
    k->pub = json_pack("{s:s, s:s, s:o}", "kty", "OKP", "crv", "Ed25519", "x",
                       b64_json(k->ed_pk, sizeof k->ed_pk));
    if (k->pub == NULL || set_kid(k) != 0) {
        jwk_free(k);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return k;
}

/* The body of the first PEM block labelled label, base64-decoded into der
 * (capacity cap). Returns the length, or -1 when there is none that fits. */
static long pem_block(const char *pem, size_t len, const char *label, unsigned char *der,
                      size_t cap)
{
    char begin[64], end[64];
    size_t dlen = 0;

    snprintf(begin, sizeof begin, "-----BEGIN %s-----", label);
    snprintf(end, sizeof end, "-----END %s-----", label);
    const char *b = memmem(pem, len, begin, strlen(begin));
    if (b == NULL)
        return -1;
    b += strlen(begin);
    const char *e = memmem(b, len - (size_t)(b - pem), end, strlen(end));
    if (e == NULL)
        return -1;
    if (sodium_base642bin(der, cap, b, (size_t)(e - b), " \t\r\n", &dlen, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return -1;
    return (long)dlen;
}

/* An Ed25519 key in its fixed DER forms, or NULL (*done false) when the
 * text holds something else. */
static jwk *ed25519_fixed(const char *pem, size_t len, bool need_private, bool *done, char *err,
                          size_t errlen)
{
    unsigned char der[64];
    long n = pem_block(pem, len, "PRIVATE KEY", der, sizeof der);
    jwk *k = NULL;

    *done = false;
    if (n == 48 && memcmp(der, ed_pkcs8_prefix, sizeof ed_pkcs8_prefix) == 0) {
        *done = true;
        k = ed25519_key(der + 16, NULL, err, errlen);
    } else if (!need_private && (n = pem_block(pem, len, "PUBLIC KEY", der, sizeof der)) == 44 &&
               memcmp(der, ed_spki_prefix, sizeof ed_spki_prefix) == 0) {
        *done = true;
        k = ed25519_key(NULL, der + 12, err, errlen);
    }
    sodium_memzero(der, sizeof der);
    return k;
}

/* A passphrase callback that refuses: an encrypted key fails to load
 * instead of OpenSSL prompting on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

static json_t *bn_param(EVP_PKEY *p, const char *name, size_t pad)
{
    BIGNUM *bn = NULL;
    unsigned char buf[JWK_RSA_MAX / 8];
    json_t *v = NULL;

    if (EVP_PKEY_get_bn_param(p, name, &bn) != 1)
        return NULL;
    size_t n = pad != 0 ? pad : (size_t)(BN_num_bits(bn) + 7) / 8;
    if (n <= sizeof buf && BN_bn2binpad(bn, buf, (int)n) == (int)n)
        v = b64_json(buf, n);
    BN_free(bn);
    return v;
}

static jwk *openssl_key(const char *pem, size_t len, bool need_private, char *err, size_t errlen)
{
    if (ossl_load(err, errlen) != 0)
        return NULL;
    if (len > JWK_FILE_MAX) {
        snprintf(err, errlen, "the key is larger than %d bytes", JWK_FILE_MAX);
        return NULL;
    }
    bool priv = true;
    BIO *b = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *p = b != NULL ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL) : NULL;
    BIO_free(b);
    if (p == NULL && !need_private && memmem(pem, len, "PRIVATE KEY-----", 16) == NULL) {
        priv = false;
        b = BIO_new_mem_buf(pem, (int)len);
        p = b != NULL ? PEM_read_bio_PUBKEY(b, NULL, no_passphrase, NULL) : NULL;
        BIO_free(b);
    }
    ERR_clear_error();
    if (p == NULL) {
        snprintf(err, errlen,
                 need_private ? "no unencrypted private key in PEM form (BEGIN PRIVATE KEY)"
                              : "no unencrypted private or public key in PEM form");
        return NULL;
    }
    jwk *k = NULL;
    int type = EVP_PKEY_get_base_id(p);
    if (type == EVP_PKEY_ED25519) {
        unsigned char raw[32];
        size_t rlen = sizeof raw;
        if (priv ? EVP_PKEY_get_raw_private_key(p, raw, &rlen) == 1
                 : EVP_PKEY_get_raw_public_key(p, raw, &rlen) == 1)
            k = rlen == 32 ? ed25519_key(priv ? raw : NULL, raw, err, errlen) : NULL;
        else
            snprintf(err, errlen, "cannot read the Ed25519 key");
        sodium_memzero(raw, sizeof raw);
        EVP_PKEY_free(p);
        return k;
    }
    if (type == EVP_PKEY_EC) {
        char group[64] = "";
        if (EVP_PKEY_get_utf8_string_param(p, "group", group, sizeof group, NULL) != 1 ||
            strcmp(group, "prime256v1") != 0) {
            snprintf(err, errlen, "an EC key must be on P-256 for ES256, not %.40s",
                     group[0] != '\0' ? group : "an unnamed curve");
            EVP_PKEY_free(p);
            return NULL;
        }
    } else if (type == EVP_PKEY_RSA) {
        int bits = EVP_PKEY_get_bits(p);
        if (bits < JWK_RSA_MIN || bits > JWK_RSA_MAX) {
            snprintf(err, errlen, "an RSA key must have %d to %d bits, this one has %d",
                     JWK_RSA_MIN, JWK_RSA_MAX, bits);
            EVP_PKEY_free(p);
            return NULL;
        }
    } else {
        snprintf(err, errlen, "unsupported key type: expected Ed25519, EC P-256 or RSA");
        EVP_PKEY_free(p);
        return NULL;
    }
    if ((k = jwk_new()) == NULL) {
        EVP_PKEY_free(p);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    k->pkey = p;
    k->priv = priv;
    if (type == EVP_PKEY_EC) {
        k->alg = JWK_ES256;
        k->siglen = 64;
        k->pub = json_pack("{s:s, s:s, s:o*, s:o*}", "kty", "EC", "crv", "P-256", "x",
                           bn_param(p, "qx", 32), "y", bn_param(p, "qy", 32));
    } else {
        k->alg = JWK_RS256;
        k->siglen = (size_t)(EVP_PKEY_get_bits(p) + 7) / 8;
        k->pub = json_pack("{s:s, s:o*, s:o*}", "kty", "RSA", "n", bn_param(p, "n", 0), "e",
                           bn_param(p, "e", 0));
    }
    ERR_clear_error();
    if (k->pub == NULL || json_object_size(k->pub) != (type == EVP_PKEY_EC ? 4u : 3u) ||
        set_kid(k) != 0) {
        snprintf(err, errlen, "cannot read the public half of the key");
        jwk_free(k);
        return NULL;
    }
    return k;
}

/* True when k's public half verifies what its private half signs. A file
 * can hold halves that do not belong together (an RSA modulus or an EC
 * point that is not the private key's, after damage or a bad edit), which
 * OpenSSL reads without complaint: such a key would sign tokens that nobody,
 * this server included, can verify. */
static bool halves_match(const jwk *k)
{
    static const char probe[] = "gatehouse: do the halves of this key match?";
    unsigned char sig[JWK_SIG_MAX];

    return jwk_sign(k, probe, sizeof probe - 1, sig) == 0 &&
           jwk_verify(k, probe, sizeof probe - 1, sig, k->siglen);
}

jwk *jwk_from_pem(const char *pem, size_t len, bool need_private, char *err, size_t errlen)
{
    bool done;
    jwk *k = ed25519_fixed(pem, len, need_private, &done, err, errlen);

    if (!done)
        k = openssl_key(pem, len, need_private, err, errlen);
    if (k != NULL && k->priv && !halves_match(k)) {
        snprintf(err, errlen, "the private key does not match its public half (a damaged key?)");
        jwk_free(k);
        return NULL;
    }
    return k;
}

jwk *jwk_load_file(const char *path, bool need_private, char *err, size_t errlen)
{
    char *buf, why[200];
    size_t len;

    unsigned mode = 0;

    /* A public key may be readable by all; no key file may be writable by
     * others, who could plant a key of theirs (util/keyfile.h). */
    if (keyfile_read(path, JWK_FILE_MAX, need_private ? KEYFILE_PRIVATE : KEYFILE_READABLE, &buf,
                     &len, &mode, err, errlen) != 0)
        return NULL;
    jwk *k = jwk_from_pem(buf, len, need_private, why, sizeof why);
    keyfile_free(buf);
    if (k == NULL) {
        snprintf(err, errlen, "%.300s: %s", path, why);
        return NULL;
    }
    if (jwk_is_private(k) && (mode & 077) != 0) {
        snprintf(err, errlen,
                 "%.300s holds a private key and is open to other users (mode %04o); chmod 600 "
                 "it",
                 path, mode);
        jwk_free(k);
        return NULL;
    }
    return k;
}

/* ECDSA signatures travel as r||s, 32 bytes each (RFC 7518 §3.4); OpenSSL
 * reads and writes DER. */
static int der_to_jose(const unsigned char *der, size_t dlen, unsigned char *sig)
{
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
    const BIGNUM *r, *s;
    int rc = -1;

    if (es == NULL)
        return -1;
    ECDSA_SIG_get0(es, &r, &s);
    if (BN_bn2binpad(r, sig, 32) == 32 && BN_bn2binpad(s, sig + 32, 32) == 32)
        rc = 0;
    ECDSA_SIG_free(es);
    return rc;
}

static long jose_to_der(const unsigned char *sig, unsigned char *der, size_t cap)
{
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
    long n = -1;

    if (es == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return -1;
    }
    int need = i2d_ECDSA_SIG(es, NULL);
    if (need > 0 && (size_t)need <= cap) {
        unsigned char *p = der;
        n = i2d_ECDSA_SIG(es, &p);
    }
    ECDSA_SIG_free(es); /* frees r and s */
    return n;
}

int jwk_sign(const jwk *k, const void *msg, size_t len, unsigned char *sig)
{
    if (!k->priv)
        return -1;
    if (k->alg == JWK_EDDSA)
        return crypto_sign_detached(sig, NULL, msg, len, k->ed_sk);
    unsigned char der[80];
    unsigned char *out = k->alg == JWK_ES256 ? der : sig;
    size_t olen = k->alg == JWK_ES256 ? sizeof der : k->siglen;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int rc = -1;
    if (ctx != NULL && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
        EVP_DigestSign(ctx, out, &olen, msg, len) == 1)
        rc = k->alg == JWK_ES256 ? der_to_jose(der, olen, sig) : (olen == k->siglen ? 0 : -1);
    EVP_MD_CTX_free(ctx);
    ERR_clear_error();
    return rc;
}

bool jwk_verify(const jwk *k, const void *msg, size_t len, const unsigned char *sig, size_t siglen)
{
    if (siglen != k->siglen)
        return false;
    if (k->alg == JWK_EDDSA)
        return crypto_sign_verify_detached(sig, msg, len, k->ed_pk) == 0;
    unsigned char der[80];
    const unsigned char *in = sig;
    size_t ilen = siglen;
    if (k->alg == JWK_ES256) {
        long n = jose_to_der(sig, der, sizeof der);
        if (n <= 0)
            return false;
        in = der;
        ilen = (size_t)n;
    }
    return ossl_verify_sha256(k->pkey, msg, len, in, ilen);
}

json_t *jwk_public_json(const jwk *k)
{
    json_t *o = json_deep_copy(k->pub);

    if (o == NULL || json_object_set_new(o, "kid", json_string(k->kid)) != 0 ||
        json_object_set_new(o, "alg", json_string(jwk_alg_name(k->alg))) != 0 ||
        json_object_set_new(o, "use", json_string("sig")) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* PEM armour around der: base64 in lines of 64 characters. */
static char *pem_armour(const unsigned char *der, size_t dlen)
{
    size_t b64len = sodium_base64_encoded_len(dlen, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64len);
    size_t cap = b64len + b64len / 64 + 80;
    char *out = malloc(cap);

    if (b64 == NULL || out == NULL) {
        free(b64);
        free(out);
        return NULL;
    }
    sodium_bin2base64(b64, b64len, der, dlen, sodium_base64_VARIANT_ORIGINAL);
    size_t n = (size_t)snprintf(out, cap, "-----BEGIN PRIVATE KEY-----\n");
    for (size_t i = 0, blen = strlen(b64); i < blen; i += 64)
        n += (size_t)snprintf(out + n, cap - n, "%.64s\n", b64 + i);
    snprintf(out + n, cap - n, "-----END PRIVATE KEY-----\n");
    sodium_memzero(b64, b64len);
    free(b64);
    return out;
}

char *jwk_generate_pem(enum jwk_alg alg, char *err, size_t errlen)
{
    return jwk_generate_pem_bits(alg, JWK_RSA_GEN, err, errlen);
}

char *jwk_generate_pem_bits(enum jwk_alg alg, unsigned rsa_bits, char *err, size_t errlen)
{
    if (alg == JWK_EDDSA) {
        unsigned char der[48];
        memcpy(der, ed_pkcs8_prefix, sizeof ed_pkcs8_prefix);
        randombytes_buf(der + 16, 32);
        char *pem = pem_armour(der, sizeof der);
        sodium_memzero(der, sizeof der);
        if (pem == NULL)
            snprintf(err, errlen, "out of memory");
        return pem;
    }
    if (ossl_load(err, errlen) != 0)
        return NULL;
    EVP_PKEY *p = alg == JWK_ES256 ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256")
                                   : EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)rsa_bits);
    BIO *b = p != NULL ? BIO_new(BIO_s_mem()) : NULL;
    char *pem = NULL;
    if (b != NULL && PEM_write_bio_PrivateKey(b, p, NULL, NULL, 0, NULL, NULL) == 1) {
        char *data = NULL;
        long n = BIO_ctrl(b, BIO_CTRL_INFO, 0, &data);
        if (n > 0 && data != NULL && (pem = malloc((size_t)n + 1)) != NULL) {
            memcpy(pem, data, (size_t)n);
            pem[n] = '\0';
        }
    }
    if (pem == NULL)
        snprintf(err, errlen, "OpenSSL could not generate the key");
    BIO_free(b); /* a memory BIO clears its buffer when freed */
    EVP_PKEY_free(p);
    ERR_clear_error();
    return pem;
}
