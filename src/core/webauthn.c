#include "core/webauthn.h"

#include <cbor.h>
#include <jansson.h>
#include <sodium.h>
#include <string.h>

#include "core/ossl.h"
#include "util/b64.h"

/* Limits on what a client sends. A browser's clientDataJSON is a few
 * hundred bytes; authenticator data holds at most a credential id, a COSE
 * key and a few extension outputs; an attestation object adds a packed
 * signature to it. */
#define CLIENT_DATA_MAX 4096
#define CHALLENGE_MAX   64
#define AUTH_DATA_MAX   4096
#define ATT_OBJECT_MAX  8192
#define SIG_MAX         1024 /* RSA 8192 */
#define CBOR_DEPTH_MAX  8
#define RSA_BITS_MIN    2048
#define RSA_BITS_MAX    8192

/* authenticatorData flags (§6.1). */
#define FLAG_UP 0x01
#define FLAG_UV 0x04
#define FLAG_BE 0x08
#define FLAG_BS 0x10
#define FLAG_AT 0x40
#define FLAG_ED 0x80

/* The §6.1 layout, pointing into the caller's bytes. */
struct auth_data {
    const unsigned char *rp_hash; /* 32 bytes */
    uint8_t flags;
    uint32_t sign_count;
    const unsigned char *aaguid; /* the rest: only when AT is set (§6.5.1) */
    const unsigned char *cred_id;
    size_t cred_id_len;
    const unsigned char *cose;
    size_t cose_len;
};

/* A COSE key as this module accepts it (RFC 9053 §7.1, §7.2; RFC 8230 §4). */
struct cose_key {
    int alg;
    unsigned char x[32], y[32]; /* EC2: both; OKP: x */
    unsigned char n[RSA_BITS_MAX / 8];
    size_t nlen;
    unsigned char e[4];
    size_t elen;
};

const char *webauthn_status_text(enum webauthn_status s)
{
    switch (s) {
    case WEBAUTHN_OK: return "ok";
    case WEBAUTHN_MALFORMED: return "malformed WebAuthn data";
    case WEBAUTHN_BAD_TYPE: return "wrong clientDataJSON type";
    case WEBAUTHN_BAD_CHALLENGE: return "wrong challenge";
    case WEBAUTHN_BAD_ORIGIN: return "origin not allowed";
    case WEBAUTHN_BAD_RP_ID: return "wrong relying party id hash";
    case WEBAUTHN_NO_USER_PRESENCE: return "user presence flag not set";
    case WEBAUTHN_NO_USER_VERIFIED: return "user verification required and flag not set";
    case WEBAUTHN_BAD_KEY: return "malformed or unacceptable COSE key";
    case WEBAUTHN_UNSUPPORTED_ALG: return "unsupported algorithm";
    case WEBAUTHN_BAD_ATTESTATION: return "unsupported or failed attestation";
    case WEBAUTHN_BAD_SIGNATURE: return "signature does not verify";
    case WEBAUTHN_UNAVAILABLE: return "OpenSSL (libcrypto.so.3) not available";
    case WEBAUTHN_NOMEM: return "out of memory";
    }
    return "unknown status";
}

/* ---- CBOR ---------------------------------------------------------------- */

/* The length of the one CBOR data item at the start of buf (RFC 8949 §3),
 * or -1 when it is not well-formed within len bytes or goes past this
 * module's limits: definite lengths only, no tags, no floating point or
 * simple values but false/true/null, at most CBOR_DEPTH_MAX levels. It runs
 * before cbor_load, so that libcbor never allocates for an item count that
 * the bytes cannot hold, and it finds where a COSE key inside
 * authenticatorData ends (§6.5.1 gives no length for it). */
static long cbor_item_len(const unsigned char *buf, size_t len, int depth)
{
    if (len == 0 || depth > CBOR_DEPTH_MAX)
        return -1;
    unsigned major = buf[0] >> 5, info = buf[0] & 0x1f;
    size_t pos = 1;
    uint64_t arg = info;
    if (info >= 24 && info <= 27) {
        size_t n = (size_t)1 << (info - 24);
        if (len - pos < n)
            return -1;
        for (arg = 0; n > 0; n--)
            arg = arg << 8 | buf[pos++];
    } else if (info > 27) {
        return -1; /* 28-30 reserved, 31 indefinite length */
    }
    switch (major) {
    case 0:
    case 1: return (long)pos;
    case 2:
    case 3: return arg <= len - pos ? (long)(pos + arg) : -1;
    case 4:
    case 5:
        if (arg > len - pos) /* each item takes a byte at least */
            return -1;
        for (uint64_t i = 0; i < (major == 5 ? 2 * arg : arg); i++) {
            long n = cbor_item_len(buf + pos, len - pos, depth + 1);
            if (n < 0)
                return -1;
            pos += (size_t)n;
        }
        return (long)pos;
    case 7: return info >= 20 && info <= 22 ? (long)pos : -1;
    default: return -1; /* 6: tags, which nothing in WebAuthn uses */
    }
}

/* The item that is exactly buf (len bytes), or NULL (*st says why). */
static cbor_item_t *cbor_exact(const unsigned char *buf, size_t len, enum webauthn_status *st)
{
    struct cbor_load_result res;

    if (cbor_item_len(buf, len, 0) != (long)len) {
        *st = WEBAUTHN_MALFORMED;
        return NULL;
    }
    cbor_item_t *it = cbor_load(buf, len, &res);
    if (it == NULL || res.error.code != CBOR_ERR_NONE || res.read != len) {
        *st = res.error.code == CBOR_ERR_MEMERROR ? WEBAUTHN_NOMEM : WEBAUTHN_MALFORMED;
        if (it != NULL)
            cbor_decref(&it);
        return NULL;
    }
    return it;
}

static bool cbor_text_is(const cbor_item_t *it, const char *s)
{
    size_t n = strlen(s);

    return cbor_isa_string(it) && cbor_string_is_definite(it) && cbor_string_length(it) == n &&
           memcmp(cbor_string_handle(it), s, n) == 0;
}

/* A CBOR integer that fits an int (COSE labels and values, §6.5.1). */
static bool cbor_small_int(const cbor_item_t *it, int *out)
{
    if (!cbor_isa_uint(it) && !cbor_isa_negint(it))
        return false;
    uint64_t v = cbor_get_int(it);
    if (v > 0x7fffffff)
        return false;
    *out = cbor_isa_uint(it) ? (int)v : -1 - (int)v;
    return true;
}

static bool cbor_bytes_of(const cbor_item_t *it, const unsigned char **p, size_t *n)
{
    if (!cbor_isa_bytestring(it) || !cbor_bytestring_is_definite(it))
        return false;
    *p = cbor_bytestring_handle(it);
    *n = cbor_bytestring_length(it);
    return true;
}

/* ---- COSE keys ------------------------------------------------------------ */

/* The labels a public key may carry (RFC 9052 §7.1: kty 1, kid 2, alg 3;
 * RFC 9053 §7.1-7.2 and RFC 8230 §4: -1, -2, -3). Anything else, a private
 * part (d: -4, or RSA's -3) above all, makes the key unacceptable. */
enum { L_KTY, L_KID, L_ALG, L_M1, L_M2, L_M3, L_COUNT };

static int cose_slot(int label)
{
    switch (label) {
    case 1: return L_KTY;
    case 2: return L_KID;
    case 3: return L_ALG;
    case -1: return L_M1;
    case -2: return L_M2;
    case -3: return L_M3;
    }
    return -1;
}

static bool cose_fixed(const cbor_item_t *it, unsigned char *dst, size_t n)
{
    const unsigned char *p;
    size_t len;

    if (it == NULL || !cbor_bytes_of(it, &p, &len) || len != n)
        return false;
    memcpy(dst, p, n);
    return true;
}

/* EC2 on P-256 (RFC 9053 §7.1.1: crv 1, x and y of 32 bytes; a y given
 * as a sign bit is refused) or OKP on Ed25519 (§7.2: crv 6, x of 32). */
static enum webauthn_status cose_curve(cbor_item_t *const *v, int kty, int want_kty, int want_crv,
                                       struct cose_key *k)
{
    int crv;

    if (kty != want_kty || v[L_M1] == NULL || !cbor_small_int(v[L_M1], &crv) || crv != want_crv ||
        !cose_fixed(v[L_M2], k->x, 32))
        return WEBAUTHN_BAD_KEY;
    if (want_kty == 2 ? !cose_fixed(v[L_M3], k->y, 32) : v[L_M3] != NULL)
        return WEBAUTHN_BAD_KEY;
    return WEBAUTHN_OK;
}

/* RSA (RFC 8230 §4: kty 3, n -1, e -2, big-endian without leading zeros),
 * 2048 to 8192 bits, odd modulus, odd exponent of 3 or more. */
static enum webauthn_status cose_rsa(cbor_item_t *const *v, int kty, struct cose_key *k)
{
    const unsigned char *n, *e;
    size_t nlen, elen;

    if (kty != 3 || v[L_M3] != NULL || v[L_M1] == NULL || v[L_M2] == NULL ||
        !cbor_bytes_of(v[L_M1], &n, &nlen) || !cbor_bytes_of(v[L_M2], &e, &elen))
        return WEBAUTHN_BAD_KEY;
    if (nlen == 0 || nlen > sizeof k->n || n[0] == 0 || (n[nlen - 1] & 1) == 0)
        return WEBAUTHN_BAD_KEY;
    size_t bits = (nlen - 1) * 8;
    for (unsigned c = n[0]; c != 0; c >>= 1)
        bits++;
    if (bits < RSA_BITS_MIN || bits > RSA_BITS_MAX)
        return WEBAUTHN_BAD_KEY;
    if (elen == 0 || elen > sizeof k->e || e[0] == 0 || (e[elen - 1] & 1) == 0 ||
        (elen == 1 && e[0] < 3))
        return WEBAUTHN_BAD_KEY;
    memcpy(k->n, n, nlen);
    k->nlen = nlen;
    memcpy(k->e, e, elen);
    k->elen = elen;
    return WEBAUTHN_OK;
}

/* The labels of a COSE key map into v, each at most once. */
static enum webauthn_status cose_labels(const cbor_item_t *map, cbor_item_t **v)
{
    if (!cbor_isa_map(map) || !cbor_map_is_definite(map) || cbor_map_size(map) > L_COUNT)
        return WEBAUTHN_BAD_KEY;
    struct cbor_pair *pairs = cbor_map_handle(map);
    for (size_t i = 0; i < cbor_map_size(map); i++) {
        int label, slot;
        if (!cbor_small_int(pairs[i].key, &label) || (slot = cose_slot(label)) < 0 ||
            v[slot] != NULL)
            return WEBAUTHN_BAD_KEY;
        v[slot] = pairs[i].value;
    }
    return WEBAUTHN_OK;
}

/* A credentialPublicKey (§6.5.1.1: it must carry alg) that is exactly buf. */
static enum webauthn_status cose_parse(const unsigned char *buf, size_t len, struct cose_key *k)
{
    enum webauthn_status st = WEBAUTHN_BAD_KEY;
    cbor_item_t *v[L_COUNT] = {0};
    int kty = 0, alg = 0;

    if (len > WEBAUTHN_COSE_KEY_MAX)
        return WEBAUTHN_BAD_KEY;
    cbor_item_t *map = cbor_exact(buf, len, &st);
    if (map == NULL)
        return st == WEBAUTHN_NOMEM ? st : WEBAUTHN_BAD_KEY;
    if ((st = cose_labels(map, v)) == WEBAUTHN_OK) {
        const unsigned char *kid;
        size_t kidlen;
        if (v[L_KTY] == NULL || !cbor_isa_uint(v[L_KTY]) || !cbor_small_int(v[L_KTY], &kty) ||
            v[L_ALG] == NULL || !cbor_small_int(v[L_ALG], &alg) ||
            (v[L_KID] != NULL && !cbor_bytes_of(v[L_KID], &kid, &kidlen)))
            st = WEBAUTHN_BAD_KEY;
        else if (alg == WEBAUTHN_ES256)
            st = cose_curve(v, kty, 2, 1, k);
        else if (alg == WEBAUTHN_EDDSA)
            st = cose_curve(v, kty, 1, 6, k);
        else if (alg == WEBAUTHN_RS256)
            st = cose_rsa(v, kty, k);
        else
            st = WEBAUTHN_UNSUPPORTED_ALG;
        k->alg = alg;
    }
    cbor_decref(&map);
    return st;
}

/* An OpenSSL key of an ES256 or RS256 COSE key; *st says why not. */
static EVP_PKEY *cose_pkey(const struct cose_key *k, enum webauthn_status *st)
{
    char err[160];

    if (ossl_load(err, sizeof err) != 0) {
        *st = WEBAUTHN_UNAVAILABLE;
        return NULL;
    }
    EVP_PKEY *p = k->alg == WEBAUTHN_ES256 ? ossl_p256_public(k->x, k->y)
                                           : ossl_rsa_public(k->n, k->nlen, k->e, k->elen);
    *st = p != NULL ? WEBAUTHN_OK : WEBAUTHN_BAD_KEY; /* a point off the curve */
    return p;
}

/* WEBAUTHN_OK when sig is k's signature of msg (§6.5.6 formats: ECDSA in
 * DER, Ed25519's 64 bytes, PKCS#1 v1.5 of the modulus' length); otherwise
 * bad (the caller's status for a wrong signature), BAD_KEY, UNAVAILABLE. */
static enum webauthn_status cose_verify(const struct cose_key *k, const unsigned char *msg,
                                        size_t len, const unsigned char *sig, size_t siglen,
                                        enum webauthn_status bad)
{
    enum webauthn_status st;

    if (k->alg == WEBAUTHN_EDDSA)
        return siglen == crypto_sign_BYTES && crypto_sign_verify_detached(sig, msg, len, k->x) == 0
                   ? WEBAUTHN_OK
                   : bad;
    if (k->alg == WEBAUTHN_RS256 ? siglen != k->nlen : (siglen < 8 || siglen > 72))
        return bad;
    EVP_PKEY *p = cose_pkey(k, &st);
    if (p == NULL)
        return st;
    st = ossl_verify_sha256(p, msg, len, sig, siglen) ? WEBAUTHN_OK : bad;
    EVP_PKEY_free(p);
    return st;
}

/* The checks of a key's point that registration makes once, whatever the
 * attestation: a P-256 point on the curve (OpenSSL's decoding), an Ed25519
 * point canonical, of the prime-order subgroup and not of small order
 * (libsodium's; a scalar multiplication too costly to repeat at each
 * sign-in, where crypto_sign_verify_detached still refuses small-order
 * keys). RSA needs none beyond cose_rsa's. */
static enum webauthn_status cose_usable(const struct cose_key *k)
{
    enum webauthn_status st = WEBAUTHN_OK;

    if (k->alg == WEBAUTHN_EDDSA)
        return crypto_core_ed25519_is_valid_point(k->x) == 1 ? WEBAUTHN_OK : WEBAUTHN_BAD_KEY;
    if (k->alg == WEBAUTHN_ES256) {
        EVP_PKEY *p = cose_pkey(k, &st);
        EVP_PKEY_free(p);
    }
    return st;
}

/* ---- clientDataJSON ------------------------------------------------------- */

static enum webauthn_status challenge_check(const struct webauthn_expect *e, const char *b64)
{
    unsigned char got[CHALLENGE_MAX];
    size_t n = strlen(b64);

    if (e->challenge_len == 0 || e->challenge_len > sizeof got ||
        n != b64url_encoded_len(e->challenge_len))
        return WEBAUTHN_BAD_CHALLENGE;
    long len = b64url_decode(got, sizeof got, b64, n);
    if (len != (long)e->challenge_len || sodium_memcmp(got, e->challenge, e->challenge_len) != 0)
        return WEBAUTHN_BAD_CHALLENGE;
    return WEBAUTHN_OK;
}

/* §7.1 steps 7-10 (§7.2 steps 11-14) on a parsed object, and §5.8.1: a
 * cross-origin call (crossOrigin true, or L3's topOrigin) is refused, and
 * so is Token Binding, which this server never negotiates. */
static enum webauthn_status client_data_fields(const struct webauthn_expect *e, json_t *cd)
{
    const char *type = json_string_value(json_object_get(cd, "type"));
    const char *challenge = json_string_value(json_object_get(cd, "challenge"));
    const char *origin = json_string_value(json_object_get(cd, "origin"));
    json_t *cross = json_object_get(cd, "crossOrigin");
    json_t *tb = json_object_get(cd, "tokenBinding");

    if (type == NULL || challenge == NULL || origin == NULL ||
        (cross != NULL && !json_is_boolean(cross)) || (tb != NULL && !json_is_object(tb)))
        return WEBAUTHN_MALFORMED;
    if (strcmp(type, e->type) != 0)
        return WEBAUTHN_BAD_TYPE;
    enum webauthn_status st = challenge_check(e, challenge);
    if (st != WEBAUTHN_OK)
        return st;
    bool allowed = false;
    for (size_t i = 0; i < e->norigins && !allowed; i++)
        allowed = strcmp(origin, e->origins[i]) == 0;
    if (!allowed || json_is_true(cross) || json_object_get(cd, "topOrigin") != NULL)
        return WEBAUTHN_BAD_ORIGIN;
    const char *tbs = json_string_value(json_object_get(tb, "status"));
    if (tbs != NULL && strcmp(tbs, "present") == 0)
        return WEBAUTHN_MALFORMED;
    return WEBAUTHN_OK;
}

enum webauthn_status webauthn_check_client_data(const struct webauthn_expect *e,
                                                const unsigned char *client_data, size_t cdlen)
{
    json_error_t jerr;

    if (cdlen == 0 || cdlen > CLIENT_DATA_MAX)
        return WEBAUTHN_MALFORMED;
    /* Duplicate members are refused: two "origin"s must not let the check
     * and a reader of the bytes see different values. */
    json_t *cd = json_loadb((const char *)client_data, cdlen, JSON_REJECT_DUPLICATES, &jerr);
    enum webauthn_status st = json_is_object(cd) ? client_data_fields(e, cd) : WEBAUTHN_MALFORMED;
    json_decref(cd);
    return st;
}

/* ---- authenticatorData ---------------------------------------------------- */

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* §6.1: rpIdHash 32 | flags 1 | signCount 4 | attested credential data
 * (AT: §6.5.1 aaguid 16, credentialIdLength 2, credentialId, the COSE key)
 * | extensions (ED: a CBOR map); nothing after. */
static enum webauthn_status auth_data_parse(const unsigned char *p, size_t len, struct auth_data *a)
{
    size_t pos = 37;

    memset(a, 0, sizeof *a);
    if (len < pos || len > AUTH_DATA_MAX)
        return WEBAUTHN_MALFORMED;
    a->rp_hash = p;
    a->flags = p[32];
    a->sign_count = be32(p + 33);
    if ((a->flags & FLAG_BS) != 0 && (a->flags & FLAG_BE) == 0)
        return WEBAUTHN_MALFORMED; /* backed up but not eligible (L3 §6.1) */
    if ((a->flags & FLAG_AT) != 0) {
        if (len - pos < 18)
            return WEBAUTHN_MALFORMED;
        a->aaguid = p + pos;
        a->cred_id_len = (size_t)p[pos + 16] << 8 | p[pos + 17];
        pos += 18;
        if (a->cred_id_len == 0 || a->cred_id_len > WEBAUTHN_CREDENTIAL_ID_MAX ||
            a->cred_id_len > len - pos)
            return WEBAUTHN_MALFORMED;
        a->cred_id = p + pos;
        pos += a->cred_id_len;
        long n = cbor_item_len(p + pos, len - pos, 0);
        if (n < 0)
            return WEBAUTHN_MALFORMED;
        a->cose = p + pos;
        a->cose_len = (size_t)n;
        pos += (size_t)n;
    }
    if ((a->flags & FLAG_ED) != 0) {
        long n = cbor_item_len(p + pos, len - pos, 0);
        if (n < 0 || p[pos] >> 5 != 5)
            return WEBAUTHN_MALFORMED;
        pos += (size_t)n;
    }
    return pos == len ? WEBAUTHN_OK : WEBAUTHN_MALFORMED;
}

/* §7.1 steps 13-15, §7.2 steps 15-17. */
static enum webauthn_status auth_data_check(const struct webauthn_expect *e,
                                            const struct auth_data *a)
{
    unsigned char h[crypto_hash_sha256_BYTES];

    crypto_hash_sha256(h, (const unsigned char *)e->rp_id, strlen(e->rp_id));
    if (sodium_memcmp(h, a->rp_hash, sizeof h) != 0)
        return WEBAUTHN_BAD_RP_ID;
    if ((a->flags & FLAG_UP) == 0)
        return WEBAUTHN_NO_USER_PRESENCE;
    if (e->require_uv && (a->flags & FLAG_UV) == 0)
        return WEBAUTHN_NO_USER_VERIFIED;
    return WEBAUTHN_OK;
}

/* authenticatorData || SHA-256(clientDataJSON), what both ceremonies sign
 * (§6.5.6 figure, §7.2 step 20); msg holds AUTH_DATA_MAX + 32 bytes. */
static size_t signed_bytes(unsigned char *msg, const unsigned char *ad, size_t adlen,
                           const unsigned char *cd, size_t cdlen)
{
    memcpy(msg, ad, adlen);
    crypto_hash_sha256(msg + adlen, cd, cdlen);
    return adlen + crypto_hash_sha256_BYTES;
}

/* ---- registration --------------------------------------------------------- */

/* The three members of an attestation object (§6.5.4), each once. */
struct att_object {
    const cbor_item_t *fmt, *stmt;
    const unsigned char *auth_data;
    size_t adlen;
};

static enum webauthn_status att_object_members(const cbor_item_t *map, struct att_object *o)
{
    memset(o, 0, sizeof *o);
    if (!cbor_isa_map(map) || !cbor_map_is_definite(map) || cbor_map_size(map) != 3)
        return WEBAUTHN_MALFORMED;
    const cbor_item_t *ad = NULL;
    struct cbor_pair *pairs = cbor_map_handle(map);
    for (size_t i = 0; i < 3; i++) {
        const cbor_item_t **slot = cbor_text_is(pairs[i].key, "fmt")        ? &o->fmt
                                   : cbor_text_is(pairs[i].key, "attStmt")  ? &o->stmt
                                   : cbor_text_is(pairs[i].key, "authData") ? &ad
                                                                            : NULL;
        if (slot == NULL || *slot != NULL)
            return WEBAUTHN_MALFORMED;
        *slot = pairs[i].value;
    }
    if (!cbor_isa_string(o->fmt) || !cbor_string_is_definite(o->fmt) || !cbor_isa_map(o->stmt) ||
        !cbor_map_is_definite(o->stmt) || !cbor_bytes_of(ad, &o->auth_data, &o->adlen))
        return WEBAUTHN_MALFORMED;
    return WEBAUTHN_OK;
}

/* §8.2 verification, self attestation only (step 3 of the procedure): attStmt
 * is {alg, sig}, alg is the credential's, sig verifies with the credential
 * key over authData || clientDataHash. An x5c chain (full attestation) is
 * refused: no trust anchors are configured to judge it, and the options ask
 * for attestation "none" anyway. ecdaaKeyId (L1) is refused too. */
static enum webauthn_status packed_self(const cbor_item_t *stmt, const struct cose_key *k,
                                        const unsigned char *msg, size_t mlen)
{
    const unsigned char *sig = NULL;
    size_t siglen = 0;
    int alg = 0;
    bool have_alg = false;

    if (cbor_map_size(stmt) != 2)
        return WEBAUTHN_BAD_ATTESTATION;
    struct cbor_pair *pairs = cbor_map_handle(stmt);
    for (size_t i = 0; i < 2; i++) {
        if (cbor_text_is(pairs[i].key, "alg") && !have_alg && cbor_small_int(pairs[i].value, &alg))
            have_alg = true;
        else if (cbor_text_is(pairs[i].key, "sig") && sig == NULL &&
                 cbor_bytes_of(pairs[i].value, &sig, &siglen) && sig != NULL)
            continue;
        else
            return WEBAUTHN_BAD_ATTESTATION;
    }
    if (!have_alg || sig == NULL || alg != k->alg || siglen > SIG_MAX)
        return WEBAUTHN_BAD_ATTESTATION;
    return cose_verify(k, msg, mlen, sig, siglen, WEBAUTHN_BAD_ATTESTATION);
}

/* §7.1 steps 11-19 once the object is decoded. */
static enum webauthn_status registration_checks(const struct webauthn_expect *e,
                                                const unsigned char *cd, size_t cdlen,
                                                const cbor_item_t *root,
                                                struct webauthn_credential *out)
{
    struct att_object o;
    struct auth_data a;
    struct cose_key k;
    enum webauthn_status st;

    if ((st = att_object_members(root, &o)) != WEBAUTHN_OK ||
        (st = auth_data_parse(o.auth_data, o.adlen, &a)) != WEBAUTHN_OK)
        return st;
    if ((a.flags & FLAG_AT) == 0)
        return WEBAUTHN_MALFORMED;
    if ((st = auth_data_check(e, &a)) != WEBAUTHN_OK ||
        (st = cose_parse(a.cose, a.cose_len, &k)) != WEBAUTHN_OK ||
        (st = cose_usable(&k)) != WEBAUTHN_OK)
        return st;
    if (cbor_text_is(o.fmt, "none")) {
        if (cbor_map_size(o.stmt) != 0) /* §8.7: an empty map */
            return WEBAUTHN_BAD_ATTESTATION;
    } else if (cbor_text_is(o.fmt, "packed")) {
        unsigned char msg[AUTH_DATA_MAX + crypto_hash_sha256_BYTES];
        size_t mlen = signed_bytes(msg, o.auth_data, o.adlen, cd, cdlen);
        st = packed_self(o.stmt, &k, msg, mlen);
    } else {
        return WEBAUTHN_BAD_ATTESTATION; /* no trust anchors for any other format */
    }
    if (st != WEBAUTHN_OK)
        return st;
    memcpy(out->id, a.cred_id, a.cred_id_len);
    out->id_len = a.cred_id_len;
    memcpy(out->cose_key, a.cose, a.cose_len);
    out->cose_len = a.cose_len;
    out->alg = k.alg;
    out->sign_count = a.sign_count;
    out->flags = a.flags;
    memcpy(out->aaguid, a.aaguid, sizeof out->aaguid);
    return WEBAUTHN_OK;
}

enum webauthn_status webauthn_verify_registration(const struct webauthn_expect *e,
                                                  const unsigned char *client_data, size_t cdlen,
                                                  const unsigned char *attestation_object,
                                                  size_t aolen, struct webauthn_credential *out)
{
    enum webauthn_status st = webauthn_check_client_data(e, client_data, cdlen);

    if (st != WEBAUTHN_OK)
        return st;
    if (aolen > ATT_OBJECT_MAX)
        return WEBAUTHN_MALFORMED;
    cbor_item_t *root = cbor_exact(attestation_object, aolen, &st);
    if (root == NULL)
        return st;
    st = registration_checks(e, client_data, cdlen, root, out);
    cbor_decref(&root);
    return st;
}

/* ---- authentication ------------------------------------------------------- */

enum webauthn_status webauthn_verify_assertion(const struct webauthn_expect *e,
                                               const unsigned char *cose_key, size_t cose_len,
                                               const unsigned char *client_data, size_t cdlen,
                                               const unsigned char *authenticator_data,
                                               size_t adlen, const unsigned char *signature,
                                               size_t siglen, struct webauthn_assertion *out)
{
    struct auth_data a;
    struct cose_key k;
    enum webauthn_status st;

    if ((st = webauthn_check_client_data(e, client_data, cdlen)) != WEBAUTHN_OK ||
        (st = auth_data_parse(authenticator_data, adlen, &a)) != WEBAUTHN_OK)
        return st;
    if ((a.flags & FLAG_AT) != 0) /* §6.1: only registration attests a credential */
        return WEBAUTHN_MALFORMED;
    if ((st = auth_data_check(e, &a)) != WEBAUTHN_OK ||
        (st = cose_parse(cose_key, cose_len, &k)) != WEBAUTHN_OK)
        return st;
    if (siglen == 0 || siglen > SIG_MAX)
        return WEBAUTHN_BAD_SIGNATURE;
    unsigned char msg[AUTH_DATA_MAX + crypto_hash_sha256_BYTES];
    size_t mlen = signed_bytes(msg, authenticator_data, adlen, client_data, cdlen);
    if ((st = cose_verify(&k, msg, mlen, signature, siglen, WEBAUTHN_BAD_SIGNATURE)) != WEBAUTHN_OK)
        return st;
    out->sign_count = a.sign_count;
    out->flags = a.flags;
    return WEBAUTHN_OK;
}
