#include "core/jwt.h"

#include <jansson.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/b64.h"

#define MAC_LEN     32
#define MAC_B64_LEN 43

/* base64url of {"alg":"HS256","typ":"JWT"}, the one header we issue. */
static const char std_header[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

/* HMAC-SHA256 comes from libsodium rather than OpenSSL: the keyed state is
 * a plain struct that each use copies (no allocation, thread-safe), and not
 * loading OpenSSL's providers keeps 2-3 MiB off the idle RSS (measured). */
struct jwt_key {
    crypto_auth_hmacsha256_state keyed; /* pre-keyed template, never updated */
    char *issuer, *audience;
    long leeway;
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

void jwt_key_free(jwt_key *k)
{
    if (k == NULL)
        return;
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

char *jwt_sign(const jwt_key *k, const struct jwt_claims *claims)
{
    unsigned char jti_raw[16], sig[MAC_LEN];
    char jti[32], sub[24];
    char *payload = NULL, *out = NULL;
    json_t *o = NULL;

    randombytes_buf(jti_raw, sizeof jti_raw);
    b64url_encode(jti, jti_raw, sizeof jti_raw);
    snprintf(sub, sizeof sub, "%lld", (long long)claims->user_id);
    o = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s}", "sub", sub, "username", claims->username, "iat",
                  (json_int_t)claims->iat, "exp", (json_int_t)claims->exp, "jti", jti, "sid",
                  claims->sid);
    if (o == NULL)
        return NULL;
    if ((k->issuer != NULL && json_object_set_new(o, "iss", json_string(k->issuer)) != 0) ||
        (k->audience != NULL && json_object_set_new(o, "aud", json_string(k->audience)) != 0))
        goto done;
    payload = json_dumps(o, JSON_COMPACT);
    if (payload == NULL)
        goto done;

    size_t hlen = sizeof std_header - 1, plen = strlen(payload);
    size_t pb64 = b64url_encoded_len(plen);
    size_t total = hlen + 1 + pb64 + 1 + MAC_B64_LEN;
    out = malloc(total + 1);
    if (out == NULL)
        goto done;
    memcpy(out, std_header, hlen);
    out[hlen] = '.';
    b64url_encode(out + hlen + 1, payload, plen);
    mac(k, out, hlen + 1 + pb64, sig);
    out[hlen + 1 + pb64] = '.';
    b64url_encode(out + hlen + 1 + pb64 + 1, sig, sizeof sig);
done:
    free(payload);
    json_decref(o);
    return out;
}

/* Decodes one base64url segment holding a JSON object. NULL on any error. */
static json_t *decode_segment(const char *s, size_t len)
{
    char buf[JWT_MAX_LEN];
    long n = b64url_decode(buf, sizeof buf, s, len);

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

    const char *sub = json_string_value(json_object_get(o, "sub"));
    if (sub == NULL || sub[0] == '\0' || strlen(sub) > 18 || sub[0] == '0')
        return JWT_BAD_CLAIMS;
    int64_t id = 0;
    for (const char *p = sub; *p != '\0'; p++) {
        if (*p < '0' || *p > '9')
            return JWT_BAD_CLAIMS;
        id = id * 10 + (*p - '0');
    }
    out->user_id = id;
    if (!copy_string(json_object_get(o, "username"), out->username, sizeof out->username) ||
        !copy_string(json_object_get(o, "sid"), out->sid, sizeof out->sid))
        return JWT_BAD_CLAIMS;
    out->exp = exp;
    if (!numeric_date(json_object_get(o, "iat"), &out->iat))
        out->iat = 0;
    return JWT_OK;
}

enum jwt_status jwt_verify(const jwt_key *k, const char *token, size_t len, int64_t now,
                           struct jwt_claims *out)
{
    unsigned char want[MAC_LEN], got[MAC_LEN];

    if (len == 0 || len > JWT_MAX_LEN)
        return JWT_MALFORMED;
    const char *d1 = memchr(token, '.', len);
    const char *d2 = d1 != NULL ? memchr(d1 + 1, '.', len - (size_t)(d1 + 1 - token)) : NULL;
    if (d2 == NULL || memchr(d2 + 1, '.', len - (size_t)(d2 + 1 - token)) != NULL)
        return JWT_MALFORMED;
    size_t hlen = (size_t)(d1 - token), plen = (size_t)(d2 - d1 - 1);
    size_t slen = len - (size_t)(d2 + 1 - token);

    /* The algorithm is pinned before any cryptography: "none" and other
     * algorithms never reach the MAC. */
    enum jwt_status st = check_header(token, hlen);
    if (st != JWT_OK)
        return st;
    if (slen != MAC_B64_LEN || b64url_decode(got, sizeof got, d2 + 1, slen) != MAC_LEN)
        return JWT_BAD_SIGNATURE;
    mac(k, token, (size_t)(d2 - token), want);
    if (sodium_memcmp(want, got, MAC_LEN) != 0)
        return JWT_BAD_SIGNATURE;

    json_t *claims = decode_segment(d1 + 1, plen);
    if (claims == NULL)
        return JWT_MALFORMED;
    st = check_claims(k, claims, now, out);
    json_decref(claims);
    return st;
}

const char *jwt_status_str(enum jwt_status st)
{
    switch (st) {
    case JWT_OK: return "ok";
    case JWT_MALFORMED: return "malformed";
    case JWT_BAD_HEADER: return "bad header";
    case JWT_BAD_SIGNATURE: return "bad signature";
    case JWT_EXPIRED: return "expired";
    case JWT_NOT_YET_VALID: return "not yet valid";
    case JWT_BAD_CLAIMS: return "bad claims";
    }
    return "unknown";
}
