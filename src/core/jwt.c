#include "core/jwt.h"
#include "core/roles.h"

#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jwk.h"
#include "util/b64.h"
#include "util/jsonarena.h"

#define MAC_LEN     32
#define MAC_B64_LEN 43

/* base64url of {"alg":"HS256","typ":"JWT"}, the one header we issue. */
static const char std_header[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/* HMAC-SHA256 comes from libsodium rather than OpenSSL: the keyed state is
 * a plain struct that each use copies (no allocation, thread-safe), and not
 * loading OpenSSL's providers keeps 2-3 MiB off the idle RSS (measured). */
/* An asymmetric key with the header segment tokens signed by it carry. */
struct jwt_vkey {
    jwk *key;
    char *header; /* base64url of {"alg":...,"kid":...,"typ":"JWT"} */
    size_t header_len;
};

struct jwt_key {
    crypto_auth_hmacsha256_state keyed; /* pre-keyed template, never updated */
    char *issuer, *audience;
    long leeway;
    /* Asymmetric configurations: keys[0] signs when signer is set; every
     * key verifies. nkeys 0: HS256 with keyed. */
    bool signer;
    size_t nkeys;
    struct jwt_vkey *keys;
};

jwt_key *jwt_key_create(const void *secret, size_t len, const struct jwt_params *params)
{
    jwt_key *k = sodium_malloc(sizeof *k);

    if (k == NULL)
        return NULL;
    memset(k, 0, sizeof *k);
    crypto_auth_hmacsha256_init(&k->keyed, secret, len);
    if (params->issuer != NULL && (k->issuer = strdup(params->issuer)) == NULL)
        goto fail;
    if (params->audience != NULL && (k->audience = strdup(params->audience)) == NULL)
        goto fail;
    k->leeway = params->leeway_seconds;
    return k;
fail:
    jwt_key_free(k);
    return NULL;
}

static int add_vkey(jwt_key *k, jwk *key)
{
    struct jwt_vkey *v = &k->keys[k->nkeys];
    char hdr[128];
    int n = snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\"}",
                     jwk_alg_name(jwk_alg_of(key)), jwk_kid(key));

    if (n < 0 || (size_t)n >= sizeof hdr)
        return -1;
    v->header = malloc(b64url_encoded_len((size_t)n) + 1);
    if (v->header == NULL)
        return -1;
    v->header_len = b64url_encode(v->header, hdr, (size_t)n);
    v->key = key;
    k->nkeys++;
    return 0;
}

jwt_key *jwt_key_create_asym(jwk *signer, jwk **verifiers, size_t n,
                             const struct jwt_params *params)
{
    jwt_key *k = jwt_key_create("", 0, params);
    size_t i = 0;

    if (k == NULL || (k->keys = calloc(n + 1, sizeof *k->keys)) == NULL)
        goto fail;
    if (signer != NULL) {
        if (add_vkey(k, signer) != 0)
            goto fail;
        k->signer = true;
        signer = NULL;
    }
    for (; i < n; i++) {
        bool dup = false;
        for (size_t j = 0; j < k->nkeys; j++)
            dup = dup || strcmp(jwk_kid(k->keys[j].key), jwk_kid(verifiers[i])) == 0;
        if (dup)
            jwk_free(verifiers[i]);
        else if (add_vkey(k, verifiers[i]) != 0)
            goto fail;
        verifiers[i] = NULL;
    }
    if (k->nkeys == 0) /* never an HS256 key with an empty secret */
        goto fail;
    return k;
fail:
    jwk_free(signer);
    for (; i < n; i++)
        jwk_free(verifiers[i]);
    jwt_key_free(k);
    return NULL;
}

size_t jwt_key_count(const jwt_key *k)
{
    return k->nkeys;
}

const jwk *jwt_key_at(const jwt_key *k, size_t i)
{
    return i < k->nkeys ? k->keys[i].key : NULL;
}

const char *jwt_key_kid(const jwt_key *k)
{
    return k->signer ? jwk_kid(k->keys[0].key) : NULL;
}

void jwt_key_free(jwt_key *k)
{
    if (k == NULL)
        return;
    for (size_t i = 0; i < k->nkeys; i++) {
        jwk_free(k->keys[i].key);
        free(k->keys[i].header);
    }
    free(k->keys);
    free(k->issuer);
    free(k->audience);
    sodium_free(k); /* wipes the keyed state */
}

/* HMAC-SHA256 of data into out[MAC_LEN]. */
static void mac(const jwt_key *k, const char *data, size_t len, unsigned char *out)
{
    crypto_auth_hmacsha256_state st = k->keyed;

    crypto_auth_hmacsha256_update(&st, (const unsigned char *)data, len);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

/* RFC 8176 §2 values, by bit of enum jwt_amr. */
static const char *const amr_names[] = {"pwd", "otp", "hwk", "user"};
#define AMR_COUNT (sizeof amr_names / sizeof amr_names[0])

_Static_assert(JWT_AMR_ALL == (1u << AMR_COUNT) - 1, "a name for every amr bit");

const char *jwt_amr_name(unsigned bit)
{
    for (size_t i = 0; i < AMR_COUNT; i++)
        if (bit == 1u << i)
            return amr_names[i];
    return NULL;
}

/* The bit of value (len bytes), 0 for one we never issue. */
static unsigned amr_bit(const char *value, size_t len)
{
    for (size_t i = 0; i < AMR_COUNT; i++)
        if (strlen(amr_names[i]) == len && memcmp(amr_names[i], value, len) == 0)
            return 1u << i;
    return 0;
}

void jwt_amr_text(unsigned amr, char text[JWT_AMR_TEXT_MAX + 1])
{
    size_t n = 0;

    text[0] = '\0';
    for (size_t i = 0; i < AMR_COUNT; i++) {
        if ((amr & (1u << i)) == 0)
            continue;
        n += (size_t)snprintf(text + n, JWT_AMR_TEXT_MAX + 1 - n, "%s%s", n > 0 ? " " : "",
                              amr_names[i]);
    }
}

bool jwt_amr_parse(const char *text, unsigned *amr)
{
    const char *p = text;

    *amr = 0;
    while (*p != '\0') {
        size_t len = strcspn(p, " ");
        unsigned bit = amr_bit(p, len);
        if (bit == 0 || (*amr & bit) != 0)
            return false;
        *amr |= bit;
        p += len;
        if (*p == ' ' && *++p == '\0')
            return false; /* a trailing space */
    }
    return *amr != 0;
}

/* The "amr" claim of a token: its values in the order of the bits (no
 * bit, as from a caller that named none: a password). */
static json_t *amr_array(unsigned amr)
{
    json_t *a = json_array();

    if (amr == 0)
        amr = JWT_AMR_PWD;
    for (size_t i = 0; a != NULL && i < AMR_COUNT; i++)
        if ((amr & (1u << i)) != 0 && json_array_append_new(a, json_string(amr_names[i])) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* A token's "amr": an array of 1 to 4 distinct values that we issue, in
 * any order. A value we never issue (RFC 8176 lists others: "mfa", "sms",
 * "face"...) or a malformed claim refuses the token (JWT_BAD_CLAIMS): a
 * service that trusts our amr must never read an unknown method as a known
 * one, or as the password alone. */
static bool amr_claim(json_t *v, unsigned *amr)
{
    size_t i;
    json_t *e;

    *amr = 0;
    if (!json_is_array(v) || json_array_size(v) == 0 || json_array_size(v) > AMR_COUNT)
        return false;
    json_array_foreach(v, i, e)
    {
        unsigned bit = json_is_string(e) ? amr_bit(json_string_value(e), json_string_length(e)) : 0;
        if (bit == 0 || (*amr & bit) != 0)
            return false;
        *amr |= bit;
    }
    return true;
}

/* The "roles" claim: the names of the stored form, in its order (sorted). */
static json_t *roles_array(const char *text)
{
    json_t *a = json_array();
    const char *p = text;

    while (a != NULL && *p != '\0') {
        const char *comma = strchr(p, ',');
        size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
        if (json_array_append_new(a, json_stringn(p, len)) != 0) {
            json_decref(a);
            return NULL;
        }
        p += len + (comma != NULL);
    }
    return a;
}

/* A token's "roles" into the stored form: an array of at most ROLES_MAX
 * role names, strictly ascending (as jwt_sign writes them). A service
 * that trusts our roles must never read a name we would not issue. */
static bool roles_claim(json_t *v, char out[JWT_ROLES_MAX + 1])
{
    size_t i, off = 0;
    json_t *e;
    const char *prev = NULL;

    if (!json_is_array(v) || json_array_size(v) > ROLES_MAX)
        return false;
    json_array_foreach(v, i, e)
    {
        const char *name = json_string_value(e);
        size_t len = name != NULL ? json_string_length(e) : 0;
        if (name == NULL || !roles_name_valid(name, len) ||
            (prev != NULL && strcmp(prev, name) >= 0))
            return false;
        if (i > 0)
            out[off++] = ',';
        memcpy(out + off, name, len);
        off += len;
        prev = name;
    }
    out[off] = '\0';
    return true;
}

char *jwt_sign(const jwt_key *k, const struct jwt_claims *claims)
{
    unsigned char jti_raw[16], sig[JWK_SIG_MAX];
    char jti[32], sub[24];
    char *payload = NULL, *out = NULL;
    json_t *o = NULL;

    randombytes_buf(jti_raw, sizeof jti_raw);
    b64url_encode(jti, jti_raw, sizeof jti_raw);
    snprintf(sub, sizeof sub, "%lld", (long long)claims->user_id);
    o = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:o}", "sub", sub, "username", claims->username,
                  "iat", (json_int_t)claims->iat, "exp", (json_int_t)claims->exp, "jti", jti, "sid",
                  claims->sid, "amr", amr_array(claims->amr));
    if (o == NULL)
        return NULL;
    if ((claims->roles[0] != '\0' &&
         json_object_set_new(o, "roles", roles_array(claims->roles)) != 0) ||
        (claims->email[0] != '\0' &&
         json_object_set_new(o, "email", json_string(claims->email)) != 0))
        goto done;
    if ((k->issuer != NULL && json_object_set_new(o, "iss", json_string(k->issuer)) != 0) ||
        (k->audience != NULL && json_object_set_new(o, "aud", json_string(k->audience)) != 0))
        goto done;
    payload = json_dumps(o, JSON_COMPACT);
    if (payload == NULL)
        goto done;

    const char *header = std_header;
    size_t hlen = sizeof std_header - 1, plen = strlen(payload), siglen = MAC_LEN;
    if (k->nkeys > 0 && !k->signer)
        goto done; /* verification keys only */
    if (k->signer) {
        header = k->keys[0].header;
        hlen = k->keys[0].header_len;
        siglen = jwk_sig_len(k->keys[0].key);
    }
    size_t pb64 = b64url_encoded_len(plen);
    size_t total = hlen + 1 + pb64 + 1 + b64url_encoded_len(siglen);
    out = malloc(total + 1);
    if (out == NULL)
        goto done;
    memcpy(out, header, hlen);
    out[hlen] = '.';
    b64url_encode(out + hlen + 1, payload, plen);
    if (k->signer) {
        if (jwk_sign(k->keys[0].key, out, hlen + 1 + pb64, sig) != 0) {
            free(out);
            out = NULL;
            goto done;
        }
    } else {
        mac(k, out, hlen + 1 + pb64, sig);
    }
    out[hlen + 1 + pb64] = '.';
    b64url_encode(out + hlen + 1 + pb64 + 1, sig, siglen);
done:
    free(payload);
    json_decref(o);
    return out;
}

/* Decodes one base64url segment holding a JSON object. NULL on any error.
 * The header and the payload are no secret (anyone holding the token reads
 * them), so the table decoder serves: the constant-time one cost a tenth of
 * the instructions of a /verify. */
static json_t *decode_segment(const char *s, size_t len)
{
    char buf[JWT_MAX_LEN];
    long n = b64url_decode_public(buf, sizeof buf, s, len);

    if (n <= 0)
        return NULL;
    json_t *o = json_loadb(buf, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
    if (o != NULL && !json_is_object(o)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* Accepts only what we issue: alg HS256 (RFC 7515 §4.1.1 is case-sensitive),
 * typ JWT when present, no crit (RFC 7515 §4.1.11: we understand no
 * extensions). Other members such as kid are ignored. */
static enum jwt_status check_header(const char *h, size_t len)
{
    if (len == sizeof std_header - 1 && memcmp(h, std_header, len) == 0)
        return JWT_OK;
    json_t *o = decode_segment(h, len);
    if (o == NULL)
        return JWT_MALFORMED;
    const char *alg = json_string_value(json_object_get(o, "alg"));
    json_t *typ = json_object_get(o, "typ");
    bool ok = alg != NULL && strcmp(alg, "HS256") == 0 && json_object_get(o, "crit") == NULL &&
              (typ == NULL || (json_is_string(typ) && strcmp(json_string_value(typ), "JWT") == 0));
    json_decref(o);
    return ok ? JWT_OK : JWT_BAD_HEADER;
}

/* The key of an asymmetric token: the header must name it by kid, with
 * the algorithm of that key (RFC 7515 §4.1.1, case-sensitive), typ JWT when
 * present and no crit. An HS256 token, or any alg the key does not have,
 * never reaches a signature check: an HMAC made with a public key as the
 * secret is refused here. Tokens we issued match a stored header exactly,
 * which spares the JSON parse. */
static const struct jwt_vkey *find_vkey(const jwt_key *k, const char *h, size_t len,
                                        enum jwt_status *st)
{
    for (size_t i = 0; i < k->nkeys; i++)
        if (k->keys[i].header_len == len && memcmp(k->keys[i].header, h, len) == 0)
            return &k->keys[i];
    json_t *o = decode_segment(h, len);
    if (o == NULL) {
        *st = JWT_MALFORMED;
        return NULL;
    }
    const struct jwt_vkey *found = NULL;
    const char *alg = json_string_value(json_object_get(o, "alg"));
    json_t *kid = json_object_get(o, "kid");
    json_t *typ = json_object_get(o, "typ");
    bool ok = alg != NULL && json_is_string(kid) && json_object_get(o, "crit") == NULL &&
              (typ == NULL || (json_is_string(typ) && strcmp(json_string_value(typ), "JWT") == 0));
    for (size_t i = 0; ok && found == NULL && i < k->nkeys; i++) {
        const jwk *key = k->keys[i].key;
        if (json_string_length(kid) == JWK_KID_LEN &&
            memcmp(json_string_value(kid), jwk_kid(key), JWK_KID_LEN) == 0 &&
            strcmp(alg, jwk_alg_name(jwk_alg_of(key))) == 0)
            found = &k->keys[i];
    }
    json_decref(o);
    *st = JWT_BAD_HEADER;
    return found;
}

/* A NumericDate (RFC 7519 §2): a JSON number; fractions are truncated. */
static bool numeric_date(json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return true;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (d < -9.2e18 || d > 9.2e18)
            return false;
        *out = (int64_t)d;
        return true;
    }
    return false;
}

static bool audience_matches(json_t *aud, const char *want)
{
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), want) == 0;
    if (json_is_array(aud)) {
        size_t i;
        json_t *v;
        json_array_foreach(aud, i, v) if (json_is_string(v) &&
                                          strcmp(json_string_value(v), want) == 0) return true;
    }
    return false;
}

static bool copy_string(json_t *v, char *dst, size_t cap)
{
    const char *s = json_string_value(v);
    size_t n = s != NULL ? json_string_length(v) : 0;

    if (s == NULL || n == 0 || n >= cap || memchr(s, '\0', n) != NULL)
        return false;
    memcpy(dst, s, n + 1);
    return true;
}

static enum jwt_status check_claims(const jwt_key *k, json_t *o, int64_t now,
                                    struct jwt_claims *out)
{
    int64_t exp, nbf;
    json_t *v;

    if (!numeric_date(json_object_get(o, "exp"), &exp))
        return JWT_BAD_CLAIMS;  /* a token without exp never expires: refused */
    if (exp <= now - k->leeway) /* RFC 7519 §4.1.4: on or after exp; cannot overflow */
        return JWT_EXPIRED;
    if ((v = json_object_get(o, "nbf")) != NULL &&
        (!numeric_date(v, &nbf) || now + k->leeway < nbf))
        return JWT_NOT_YET_VALID;
    if (k->issuer != NULL) {
        const char *iss = json_string_value(json_object_get(o, "iss"));
        if (iss == NULL || strcmp(iss, k->issuer) != 0)
            return JWT_BAD_CLAIMS;
    }
    if (k->audience != NULL && !audience_matches(json_object_get(o, "aud"), k->audience))
        return JWT_BAD_CLAIMS;

    /* sub: a user id, 1 to 2^63 - 1 in decimal without a leading zero (every
     * id an imported table's BIGINT can hold, as jwt_sign writes it). */
    const char *sub = json_string_value(json_object_get(o, "sub"));
    if (sub == NULL || sub[0] == '\0' || strlen(sub) > 19 || sub[0] == '0')
        return JWT_BAD_CLAIMS;
    int64_t id = 0;
    for (const char *p = sub; *p != '\0'; p++) {
        if (*p < '0' || *p > '9' || id > (INT64_MAX - (*p - '0')) / 10)
            return JWT_BAD_CLAIMS;
        id = id * 10 + (*p - '0');
    }
    out->user_id = id;
    if (!copy_string(json_object_get(o, "username"), out->username, sizeof out->username) ||
        !copy_string(json_object_get(o, "sid"), out->sid, sizeof out->sid))
        return JWT_BAD_CLAIMS;
    /* A token issued before amr was signed had only passwords behind it. */
    if ((v = json_object_get(o, "amr")) == NULL)
        out->amr = JWT_AMR_PWD;
    else if (!amr_claim(v, &out->amr))
        return JWT_BAD_CLAIMS;
    if ((v = json_object_get(o, "roles")) == NULL)
        out->roles[0] = '\0';
    else if (!roles_claim(v, out->roles))
        return JWT_BAD_CLAIMS;
    if ((v = json_object_get(o, "email")) == NULL)
        out->email[0] = '\0';
    else if (!copy_string(v, out->email, sizeof out->email))
        return JWT_BAD_CLAIMS;
    out->exp = exp;
    if (!numeric_date(json_object_get(o, "iat"), &out->iat))
        out->iat = 0;
    return JWT_OK;
}

static enum jwt_status check_token_claims(const jwt_key *k, const char *p, size_t plen, int64_t now,
                                          struct jwt_claims *out)
{
    /* The parsed claims live on this stack (the claims of our tokens take
     * about 1 KiB of jansson's values); a larger payload spills to malloc. */
    _Alignas(max_align_t) unsigned char mem[4096];
    struct jsonarena arena;
    enum jwt_status st = JWT_MALFORMED;

    jsonarena_begin(&arena, mem, sizeof mem);
    json_t *claims = decode_segment(p, plen);
    if (claims != NULL) {
        st = check_claims(k, claims, now, out);
        json_decref(claims);
    }
    jsonarena_end(&arena);
    return st;
}

/* A compact token's three segments: header token[0, hlen), payload
 * (payload, plen), signature (sig, slen); the signed input is
 * token[0, signed_len). */
struct segments {
    size_t hlen;
    const char *payload;
    size_t plen;
    const char *sig;
    size_t slen;
    size_t signed_len;
};

/* Splits token at its two dots; false when it is empty, too long or has
 * other than exactly two. */
static bool split_segments(const char *token, size_t len, struct segments *seg)
{
    if (len == 0 || len > JWT_MAX_LEN)
        return false;
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 != NULL ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (d2 == NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) != NULL)
        return false;
    seg->hlen = (size_t)(d1 - token);
    seg->payload = d1 + 1;
    seg->plen = (size_t)(d2 - d1 - 1);
    seg->sig = d2 + 1;
    seg->slen = len - (size_t)(d2 + 1 - token);
    seg->signed_len = (size_t)(d2 - token);
    return true;
}

/* Whether seg's signature is key's over the signed input. */
static bool jwk_signature_ok(const jwk *key, const char *token, const struct segments *seg)
{
    unsigned char sig[JWK_SIG_MAX];
    size_t siglen = jwk_sig_len(key);

    return seg->slen == b64url_encoded_len(siglen) &&
           b64url_decode(sig, sizeof sig, seg->sig, seg->slen) == (long)siglen &&
           jwk_verify(key, token, seg->signed_len, sig, siglen);
}

enum jwt_status jwt_verify(const jwt_key *k, const char *token, size_t len, int64_t now,
                           struct jwt_claims *out)
{
    unsigned char want[MAC_LEN], got[MAC_LEN];

    struct segments seg;
    if (!split_segments(token, len, &seg))
        return JWT_MALFORMED;

    enum jwt_status st;
    if (k->nkeys > 0) {
        const struct jwt_vkey *v = find_vkey(k, token, seg.hlen, &st);
        if (v == NULL)
            return st;
        if (!jwk_signature_ok(v->key, token, &seg))
            return JWT_BAD_SIGNATURE;
        return check_token_claims(k, seg.payload, seg.plen, now, out);
    }
    /* The algorithm is pinned before any cryptography: "none" and other
     * algorithms never reach the MAC. */
    st = check_header(token, seg.hlen);
    if (st != JWT_OK)
        return st;
    if (seg.slen != MAC_B64_LEN || b64url_decode(got, sizeof got, seg.sig, seg.slen) != MAC_LEN)
        return JWT_BAD_SIGNATURE;
    mac(k, token, seg.signed_len, want);
    if (sodium_memcmp(want, got, MAC_LEN) != 0)
        return JWT_BAD_SIGNATURE;

    return check_token_claims(k, seg.payload, seg.plen, now, out);
}

/* The header segment of typ for key (base64url into out, cap bytes);
 * its length, 0 when it does not fit. */
static size_t typed_header(const jwk *key, const char *typ, char *out, size_t cap)
{
    char hdr[160];
    int n = snprintf(hdr, sizeof hdr, "{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"%s\"}",
                     jwk_alg_name(jwk_alg_of(key)), jwk_kid(key), typ);

    if (n < 0 || (size_t)n >= sizeof hdr || b64url_encoded_len((size_t)n) >= cap)
        return 0;
    return b64url_encode(out, hdr, (size_t)n);
}

char *jwt_sign_json(const jwt_key *k, const char *typ, const json_t *claims)
{
    char header[256];
    unsigned char sig[JWK_SIG_MAX];

    if (!k->signer || strlen(typ) > 16)
        return NULL;
    const jwk *key = k->keys[0].key;
    size_t hlen = typed_header(key, typ, header, sizeof header);
    char *payload = json_dumps(claims, JSON_COMPACT);
    if (hlen == 0 || payload == NULL) {
        free(payload);
        return NULL;
    }
    size_t plen = strlen(payload), pb64 = b64url_encoded_len(plen), siglen = jwk_sig_len(key);
    char *out = malloc(hlen + 1 + pb64 + 1 + b64url_encoded_len(siglen) + 1);
    if (out != NULL) {
        memcpy(out, header, hlen);
        out[hlen] = '.';
        b64url_encode(out + hlen + 1, payload, plen);
        if (jwk_sign(key, out, hlen + 1 + pb64, sig) != 0) {
            free(out);
            out = NULL;
        } else {
            out[hlen + 1 + pb64] = '.';
            b64url_encode(out + hlen + 1 + pb64 + 1, sig, siglen);
        }
    }
    free(payload);
    return out;
}

/* The key a typed token's header names: kid, that key's alg, typ exactly,
 * no crit (RFC 7515 §4.1.11). */
static const jwk *typed_key(const jwt_key *k, const char *typ, const char *h, size_t len)
{
    json_t *o = decode_segment(h, len);
    const jwk *found = NULL;

    if (o == NULL)
        return NULL;
    const char *alg = json_string_value(json_object_get(o, "alg"));
    json_t *kid = json_object_get(o, "kid"), *t = json_object_get(o, "typ");
    bool ok = alg != NULL && json_is_string(kid) && json_string_length(kid) == JWK_KID_LEN &&
              json_is_string(t) && strcmp(json_string_value(t), typ) == 0 &&
              json_object_get(o, "crit") == NULL;
    for (size_t i = 0; ok && found == NULL && i < k->nkeys; i++) {
        const jwk *key = k->keys[i].key;
        if (memcmp(json_string_value(kid), jwk_kid(key), JWK_KID_LEN) == 0 &&
            strcmp(alg, jwk_alg_name(jwk_alg_of(key))) == 0)
            found = key;
    }
    json_decref(o);
    return found;
}

enum jwt_status jwt_verify_json(const jwt_key *k, const char *typ, const char *token, size_t len,
                                json_t **out)
{
    struct segments seg;

    *out = NULL;
    if (!split_segments(token, len, &seg))
        return JWT_MALFORMED;
    const jwk *key = typed_key(k, typ, token, seg.hlen);
    if (key == NULL)
        return JWT_BAD_HEADER;
    if (!jwk_signature_ok(key, token, &seg))
        return JWT_BAD_SIGNATURE;
    *out = decode_segment(seg.payload, seg.plen);
    return *out != NULL ? JWT_OK : JWT_MALFORMED;
}
