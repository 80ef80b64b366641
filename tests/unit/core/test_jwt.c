/* core/jwt: HS256 JWS compact tokens. The forged tokens are built here byte
 * by byte (OpenSSL HMAC + b64url_encode), so each rejection test controls
 * exactly what jwt_verify sees; jwt_forge_sanity shows the forger makes
 * tokens jwt_verify accepts, so a rejection is the change under test. */
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/jwt.h"
#include "test.h"
#include "util/b64.h"

#define NOW ((int64_t)1700000000)

/* base64url of {"alg":"HS256","typ":"JWT"}. */
#define STD_HEADER     "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define STD_HEADER_B64 "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"

static const char secret[] = "0123456789abcdef0123456789abcdef";
static const char other_secret[] = "fedcba9876543210fedcba9876543210";

static jwt_key *key_with(const char *issuer, const char *audience, long leeway)
{
    struct jwt_params p = {issuer, audience, leeway};

    return jwt_key_create(secret, strlen(secret), &p);
}

/* base64url of len bytes into a new string. */
static char *b64_of(const void *data, size_t len)
{
    char *out = malloc(b64url_encoded_len(len) + 1);

    if (out != NULL)
        b64url_encode(out, data, len);
    return out;
}

/* Decodes a token segment (len characters) into a new NUL-terminated string. */
static char *unb64(const char *s, size_t len)
{
    char *out = malloc(len + 1);
    long n = out != NULL ? b64url_decode(out, len, s, len) : -1;

    if (n < 0) {
        free(out);
        return NULL;
    }
    out[n] = '\0';
    return out;
}

/* "<h64>.<p64>.<base64url(HMAC-md(key, h64.p64))>", a new string. */
static char *sign_with(const EVP_MD *md, const char *key, const char *h64, const char *p64)
{
    size_t hl = strlen(h64), pl = strlen(p64);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    char *out = malloc(hl + 1 + pl + 1 + b64url_encoded_len(sizeof mac) + 1);

    if (out == NULL)
        return NULL;
    memcpy(out, h64, hl);
    out[hl] = '.';
    memcpy(out + hl + 1, p64, pl);
    out[hl + 1 + pl] = '\0';
    if (HMAC(md, key, (int)strlen(key), (const unsigned char *)out, hl + 1 + pl, mac, &maclen) ==
        NULL) {
        free(out);
        return NULL;
    }
    out[hl + 1 + pl] = '.';
    b64url_encode(out + hl + 1 + pl + 1, mac, maclen);
    return out;
}

/* A token of header and payload JSON texts signed HS256 with secret. */
static char *forge(const char *header, const char *payload)
{
    char *h = b64_of(header, strlen(header)), *p = b64_of(payload, strlen(payload));
    char *t = h != NULL && p != NULL ? sign_with(EVP_sha256(), secret, h, p) : NULL;

    free(h);
    free(p);
    return t;
}

/* The claims jwt_sign would issue, as a JSON object to edit. */
static json_t *std_claims(void)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "sub", "42", "username", "alice", "sid",
                     "s1", "iat", (json_int_t)(NOW - 10), "exp", (json_int_t)(NOW + 600), "jti",
                     "AAAAAAAAAAAAAAAAAAAAAA");
}

/* forge() with claims as the payload; takes the reference to claims. */
static char *forge_claims(const char *header, json_t *claims)
{
    char *payload = claims != NULL ? json_dumps(claims, JSON_COMPACT) : NULL;
    char *t = payload != NULL ? forge(header, payload) : NULL;

    free(payload);
    json_decref(claims);
    return t;
}

/* std_claims() with one member set (v NULL: removed), forged and verified. */
static enum jwt_status verify_with_claim(const jwt_key *k, const char *name, json_t *v)
{
    json_t *c = std_claims();
    struct jwt_claims out;

    if (v != NULL)
        json_object_set_new(c, name, v);
    else
        json_object_del(c, name);
    char *t = forge_claims(STD_HEADER, c);
    if (t == NULL)
        return (enum jwt_status) - 1;
    enum jwt_status st = jwt_verify(k, t, strlen(t), NOW, &out);
    free(t);
    return st;
}

/* Verifies a NUL-terminated token (NULL: -1, which no check expects). */
static enum jwt_status verify_at(const jwt_key *k, const char *t, int64_t now)
{
    struct jwt_claims out;

    if (t == NULL)
        return (enum jwt_status) - 1;
    return jwt_verify(k, t, strlen(t), now, &out);
}

/* Verifies and frees. */
static enum jwt_status verify_free(const jwt_key *k, char *t)
{
    enum jwt_status st = verify_at(k, t, NOW);

    free(t);
    return st;
}

static char *sign_std(const jwt_key *k, int64_t exp)
{
    struct jwt_claims c = {.user_id = 42, .iat = NOW - 10, .exp = exp};

    snprintf(c.username, sizeof c.username, "alice");
    snprintf(c.sid, sizeof c.sid, "s1");
    return jwt_sign(k, &c);
}

/* The payload of a token as a JSON object (NULL when it is not one). */
static json_t *payload_of(const char *t)
{
    const char *d1 = strchr(t, '.');
    const char *d2 = d1 != NULL ? strchr(d1 + 1, '.') : NULL;
    char *json = d2 != NULL ? unb64(d1 + 1, (size_t)(d2 - d1 - 1)) : NULL;
    json_t *o = json != NULL ? json_loads(json, JSON_REJECT_DUPLICATES, NULL) : NULL;

    free(json);
    return o;
}

TEST(jwt_round_trip)
{
    jwt_key *k = key_with(NULL, NULL, 0);
    struct jwt_claims in = {.user_id = 123456789, .iat = NOW - 5, .exp = NOW + 1800}, out;

    REQUIRE(k != NULL);
    snprintf(in.username, sizeof in.username, "Alice.Smith+x@example");
    snprintf(in.sid, sizeof in.sid, "c2Vzc2lvbi1pZA");
    char *t = jwt_sign(k, &in);
    REQUIRE(t != NULL);
    memset(&out, 0, sizeof out);
    CHECK_EQ_INT(jwt_verify(k, t, strlen(t), NOW, &out), JWT_OK);
    CHECK_EQ_INT(out.user_id, 123456789);
    CHECK_EQ_STR(out.username, "Alice.Smith+x@example");
    CHECK_EQ_STR(out.sid, "c2Vzc2lvbi1pZA");
    CHECK_EQ_INT(out.iat, NOW - 5);
    CHECK_EQ_INT(out.exp, NOW + 1800);

    /* The payload holds the documented claims, sub as a decimal string, and
     * no iss/aud when none is configured. */
    json_t *p = payload_of(t);
    REQUIRE(p != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(p, "sub")), "123456789");
    CHECK_EQ_STR(json_string_value(json_object_get(p, "username")), "Alice.Smith+x@example");
    CHECK_EQ_STR(json_string_value(json_object_get(p, "sid")), "c2Vzc2lvbi1pZA");
    CHECK(json_is_integer(json_object_get(p, "iat")));
    CHECK_EQ_INT(json_integer_value(json_object_get(p, "exp")), NOW + 1800);
    CHECK(json_is_string(json_object_get(p, "jti")));
    CHECK(json_object_get(p, "iss") == NULL);
    CHECK(json_object_get(p, "aud") == NULL);
    json_decref(p);
    free(t);
    jwt_key_free(k);
}

TEST(jwt_round_trip_iss_aud)
{
    jwt_key *k = key_with("https://auth.example", "api", 0);
    jwt_key *plain = key_with(NULL, NULL, 0);

    REQUIRE(k != NULL && plain != NULL);
    char *t = sign_std(k, NOW + 60);
    REQUIRE(t != NULL);
    CHECK_EQ_INT(verify_at(k, t, NOW), JWT_OK);
    /* A key that requires neither ignores them. */
    CHECK_EQ_INT(verify_at(plain, t, NOW), JWT_OK);
    json_t *p = payload_of(t);
    REQUIRE(p != NULL);
    CHECK_EQ_STR(json_string_value(json_object_get(p, "iss")), "https://auth.example");
    CHECK_EQ_STR(json_string_value(json_object_get(p, "aud")), "api");
    json_decref(p);
    free(t);
    /* A token without iss/aud fails a key that requires them. */
    t = sign_std(plain, NOW + 60);
    CHECK_EQ_INT(verify_at(k, t, NOW), JWT_BAD_CLAIMS);
    free(t);
    jwt_key_free(k);
    jwt_key_free(plain);
}

TEST(jwt_header_segment)
{
    jwt_key *k = key_with(NULL, NULL, 0);
    char *want = b64_of(STD_HEADER, strlen(STD_HEADER));

    REQUIRE(k != NULL && want != NULL);
    CHECK_EQ_STR(want, STD_HEADER_B64);
    char *t = sign_std(k, NOW + 60);
    REQUIRE(t != NULL);
    const char *dot = strchr(t, '.');
    REQUIRE(dot != NULL);
    CHECK_EQ_INT(dot - t, strlen(want));
    CHECK(strncmp(t, want, strlen(want)) == 0);
    /* Three segments, the last a 32-byte MAC (43 characters). */
    const char *last = strrchr(t, '.');
    CHECK(last != dot);
    CHECK_EQ_INT(strlen(last + 1), 43);
    CHECK(strpbrk(t, "=+/ ") == NULL);
    free(t);
    free(want);
    jwt_key_free(k);
}

TEST(jwt_jti_unique)
{
    jwt_key *k = key_with(NULL, NULL, 0);

    REQUIRE(k != NULL);
    char *t1 = sign_std(k, NOW + 60), *t2 = sign_std(k, NOW + 60);
    REQUIRE(t1 != NULL && t2 != NULL);
    CHECK(strcmp(t1, t2) != 0);
    json_t *p1 = payload_of(t1), *p2 = payload_of(t2);
    REQUIRE(p1 != NULL && p2 != NULL);
    const char *j1 = json_string_value(json_object_get(p1, "jti"));
    const char *j2 = json_string_value(json_object_get(p2, "jti"));
    REQUIRE(j1 != NULL && j2 != NULL);
    CHECK(strcmp(j1, j2) != 0);
    CHECK(strlen(j1) >= 22); /* at least 128 bits in base64url */
    json_decref(p1);
    json_decref(p2);
    free(t1);
    free(t2);
    jwt_key_free(k);
}

TEST(jwt_forge_sanity)
{
    jwt_key *k = key_with(NULL, NULL, 0);
    struct jwt_claims out;

    REQUIRE(k != NULL);
    char *t = forge_claims(STD_HEADER, std_claims());
    REQUIRE(t != NULL);
    memset(&out, 0, sizeof out);
    CHECK_EQ_INT(jwt_verify(k, t, strlen(t), NOW, &out), JWT_OK);
    CHECK_EQ_INT(out.user_id, 42);
    CHECK_EQ_STR(out.username, "alice");
    CHECK_EQ_STR(out.sid, "s1");
    CHECK_EQ_INT(out.iat, NOW - 10);
    CHECK_EQ_INT(out.exp, NOW + 600);

    /* The token need not be NUL-terminated: only len bytes are read. */
    size_t len = strlen(t);
    char *buf = malloc(len + 8);
    REQUIRE(buf != NULL);
    memcpy(buf, t, len);
    memcpy(buf + len, ".junk!", 6);
    CHECK_EQ_INT(jwt_verify(k, buf, len, NOW, &out), JWT_OK);
    free(buf);
    free(t);

    /* typ is optional, and a header spelled differently is still HS256. */
    CHECK_EQ_INT(verify_free(k, forge_claims("{\"alg\":\"HS256\"}", std_claims())), JWT_OK);
    CHECK_EQ_INT(verify_free(k, forge_claims("{\"typ\":\"JWT\",\"alg\":\"HS256\"}", std_claims())),
                 JWT_OK);
    jwt_key_free(k);
}

TEST(jwt_alg_none)
{
    jwt_key *k = key_with(NULL, NULL, 0);
    static const char none[] = "{\"alg\":\"none\",\"typ\":\"JWT\"}";
    char *h = b64_of(none, strlen(none));
    json_t *c = std_claims();
    char *payload = json_dumps(c, JSON_COMPACT);
    char *p = payload != NULL ? b64_of(payload, strlen(payload)) : NULL;
    char tok[1024];

    REQUIRE(k != NULL && h != NULL && p != NULL);
    /* Unsecured JWS (RFC 7515 Appendix A.5): an empty signature. */
    snprintf(tok, sizeof tok, "%s.%s.", h, p);
    CHECK_EQ_INT(verify_at(k, tok, NOW), JWT_BAD_HEADER);
    /* With a signature, even one that is a valid HS256 MAC of the input. */
    CHECK_EQ_INT(verify_free(k, sign_with(EVP_sha256(), secret, h, p)), JWT_BAD_HEADER);
    CHECK_EQ_INT(verify_free(k, forge_claims("{\"alg\":\"None\"}", std_claims())), JWT_BAD_HEADER);
    CHECK_EQ_INT(verify_free(k, forge_claims("{\"alg\":\"NONE\"}", std_claims())), JWT_BAD_HEADER);
    free(h);
    free(p);
    free(payload);
    json_decref(c);
    jwt_key_free(k);
}

/* A token with the given header, MAC'd with md and the shared secret. */
static char *forge_md(const EVP_MD *md, const char *header)
{
    json_t *c = std_claims();
    char *payload = json_dumps(c, JSON_COMPACT);
    char *h = b64_of(header, strlen(header));
    char *p = payload != NULL ? b64_of(payload, strlen(payload)) : NULL;
    char *t = h != NULL && p != NULL ? sign_with(md, secret, h, p) : NULL;

    free(h);
    free(p);
    free(payload);
    json_decref(c);
    return t;
}

TEST(jwt_other_algorithms)
{
    jwt_key *k = key_with(NULL, NULL, 0);

    REQUIRE(k != NULL);
    CHECK_EQ_INT(verify_free(k, forge_md(EVP_sha384(), "{\"alg\":\"HS384\",\"typ\":\"JWT\"}")),
                 JWT_BAD_HEADER);
    CHECK_EQ_INT(verify_free(k, forge_md(EVP_sha512(), "{\"alg\":\"HS512\",\"typ\":\"JWT\"}")),
                 JWT_BAD_HEADER);
    /* An RS256 header over an HMAC: the key-confusion attack. */
    CHECK_EQ_INT(verify_free(k, forge_md(EVP_sha256(), "{\"alg\":\"RS256\",\"typ\":\"JWT\"}")),
                 JWT_BAD_HEADER);
    /* RFC 7515 §4.1.1: alg is case-sensitive. */
    CHECK_EQ_INT(verify_free(k, forge_md(EVP_sha256(), "{\"alg\":\"hs256\",\"typ\":\"JWT\"}")),
                 JWT_BAD_HEADER);
    CHECK_EQ_INT(verify_free(k, forge_md(EVP_sha256(), "{\"alg\":\"HS256 \",\"typ\":\"JWT\"}")),
                 JWT_BAD_HEADER);
    CHECK_EQ_INT(verify_free(k, forge_md(EVP_sha256(), "{\"alg\":\"EdDSA\",\"typ\":\"JWT\"}")),
                 JWT_BAD_HEADER);
    jwt_key_free(k);
}

TEST(jwt_header_rejections)
{
    jwt_key *k = key_with(NULL, NULL, 0);

    REQUIRE(k != NULL);
    CHECK_EQ_INT(verify_free(k, forge_claims("{\"typ\":\"JWT\"}", std_claims())), JWT_BAD_HEADER);
    CHECK_EQ_INT(verify_free(k, forge_claims("{}", std_claims())), JWT_BAD_HEADER);
    CHECK_EQ_INT(verify_free(k, forge_claims("{\"alg\":[\"HS256\"]}", std_claims())),
                 JWT_BAD_HEADER);
    CHECK_EQ_INT(verify_free(k, forge_claims("{\"alg\":\"HS256\",\"typ\":\"JWS\"}", std_claims())),
                 JWT_BAD_HEADER);
    CHECK_EQ_INT(verify_free(k, forge_claims("{\"alg\":\"HS256\",\"typ\":1}", std_claims())),
                 JWT_BAD_HEADER);
    /* Not a JSON object at all. */
    CHECK_EQ_INT(verify_free(k, forge_claims("[\"HS256\"]", std_claims())), JWT_MALFORMED);
    CHECK_EQ_INT(verify_free(k, forge_claims("{\"alg\":\"HS256\"", std_claims())), JWT_MALFORMED);
    /* Duplicate members (RFC 7515 §5.2): refused, whichever would win. */
    CHECK(verify_free(k, forge_claims("{\"alg\":\"none\",\"alg\":\"HS256\"}", std_claims())) !=
          JWT_OK);
    CHECK(verify_free(k, forge_claims("{\"alg\":\"HS256\",\"alg\":\"HS256\"}", std_claims())) !=
          JWT_OK);
    jwt_key_free(k);
}

TEST(jwt_crit_header)
{
    jwt_key *k = key_with(NULL, NULL, 0);

    REQUIRE(k != NULL);
    /* RFC 7515 §4.1.11: we understand no extension, so any crit refuses. */
    CHECK_EQ_INT(
        verify_free(k, forge_claims("{\"alg\":\"HS256\",\"typ\":\"JWT\",\"crit\":[\"exp\"]}",
                                    std_claims())),
        JWT_BAD_HEADER);
    CHECK_EQ_INT(verify_free(k, forge_claims("{\"alg\":\"HS256\",\"crit\":[\"b64\"],\"b64\":false}",
                                             std_claims())),
                 JWT_BAD_HEADER);
    CHECK_EQ_INT(verify_free(k, forge_claims("{\"alg\":\"HS256\",\"crit\":[]}", std_claims())),
                 JWT_BAD_HEADER);
    jwt_key_free(k);
}

TEST(jwt_tampered_header)
{
    jwt_key *k = key_with(NULL, NULL, 0);
    char tok[1024];

    REQUIRE(k != NULL);
    char *t = sign_std(k, NOW + 60);
    REQUIRE(t != NULL && strlen(t) < 512);
    const char *rest = strchr(t, '.');
    REQUIRE(rest != NULL);

    /* The same algorithm spelled with whitespace or with a kid: a header
     * we accept, but not the one the MAC covers. */
    static const char *const headers[] = {
        "{\"alg\": \"HS256\", \"typ\": \"JWT\"}",
        "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"1\"}",
        "{\"alg\":\"HS256\"}",
    };
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        char *h = b64_of(headers[i], strlen(headers[i]));
        REQUIRE(h != NULL);
        snprintf(tok, sizeof tok, "%s%s", h, rest);
        CHECK_EQ_INT(verify_at(k, tok, NOW), JWT_BAD_SIGNATURE);
        free(h);
    }
    /* One character of the header segment changed: never accepted. */
    size_t hlen = (size_t)(rest - t);
    for (size_t i = 0; i < hlen; i++) {
        memcpy(tok, t, strlen(t) + 1);
        tok[i] = tok[i] == 'A' ? 'B' : 'A';
        CHECK(verify_at(k, tok, NOW) != JWT_OK);
    }
    free(t);
    jwt_key_free(k);
}

TEST(jwt_tampered_payload)
{
    jwt_key *k = key_with(NULL, NULL, 0);
    char tok[1024];

    REQUIRE(k != NULL);
    char *t = sign_std(k, NOW + 60);
    REQUIRE(t != NULL && strlen(t) < 512);
    const char *sig = strrchr(t, '.');
    json_t *p = payload_of(t);
    REQUIRE(sig != NULL && p != NULL);

    /* Another user, then a later expiry, re-encoded under the old MAC. */
    json_object_set_new(p, "sub", json_string("43"));
    char *json = json_dumps(p, JSON_COMPACT);
    char *p64 = json != NULL ? b64_of(json, strlen(json)) : NULL;
    REQUIRE(p64 != NULL);
    snprintf(tok, sizeof tok, "%s.%s%s", STD_HEADER_B64, p64, sig);
    CHECK_EQ_INT(verify_at(k, tok, NOW), JWT_BAD_SIGNATURE);
    free(json);
    free(p64);

    json_object_set_new(p, "sub", json_string("42"));
    json_object_set_new(p, "exp", json_integer(NOW + 999999));
    json = json_dumps(p, JSON_COMPACT);
    p64 = json != NULL ? b64_of(json, strlen(json)) : NULL;
    REQUIRE(p64 != NULL);
    snprintf(tok, sizeof tok, "%s.%s%s", STD_HEADER_B64, p64, sig);
    CHECK_EQ_INT(verify_at(k, tok, NOW), JWT_BAD_SIGNATURE);
    free(json);
    free(p64);
    json_decref(p);
    free(t);
    jwt_key_free(k);
}

TEST(jwt_tampered_signature)
{
    jwt_key *k = key_with(NULL, NULL, 0);
    char tok[1024];

    REQUIRE(k != NULL);
    char *t = sign_std(k, NOW + 60);
    REQUIRE(t != NULL && strlen(t) < sizeof tok);
    size_t len = strlen(t), sig = (size_t)(strrchr(t, '.') + 1 - t);
    CHECK_EQ_INT(verify_at(k, t, NOW), JWT_OK);
    /* Every character of the signature, one at a time. */
    for (size_t i = sig; i < len; i++) {
        memcpy(tok, t, len + 1);
        tok[i] = tok[i] == 'A' ? 'B' : 'A';
        CHECK_EQ_INT(verify_at(k, tok, NOW), JWT_BAD_SIGNATURE);
    }
    free(t);
    jwt_key_free(k);
}

TEST(jwt_signature_alphabet)
{
    jwt_key *k = key_with(NULL, NULL, 0);
    char *t = NULL;
    char *u = NULL;

    REQUIRE(k != NULL);
    /* A signature holding '_' (about one in two does). */
    for (int i = 0; i < 200 && u == NULL; i++) {
        free(t);
        t = sign_std(k, NOW + 60);
        REQUIRE(t != NULL);
        u = strchr(strrchr(t, '.'), '_');
    }
    REQUIRE(u != NULL);
    CHECK_EQ_INT(verify_at(k, t, NOW), JWT_OK);
    /* The same signature spelled with a byte outside the alphabet is
     * another token: one token, one spelling. */
    *u = '\xff';
    CHECK(verify_at(k, t, NOW) != JWT_OK);
    *u = '\x80';
    CHECK(verify_at(k, t, NOW) != JWT_OK);
    *u = '/';
    CHECK(verify_at(k, t, NOW) != JWT_OK);
    free(t);
    jwt_key_free(k);
}

TEST(jwt_signature_length)
{
    jwt_key *k = key_with(NULL, NULL, 0);
    char tok[1024];

    REQUIRE(k != NULL);
    char *t = sign_std(k, NOW + 60);
    REQUIRE(t != NULL && strlen(t) < 900);
    size_t len = strlen(t), sig = (size_t)(strrchr(t, '.') + 1 - t);

    memcpy(tok, t, len + 1);
    tok[len - 1] = '\0'; /* 42 characters */
    CHECK_EQ_INT(verify_at(k, tok, NOW), JWT_BAD_SIGNATURE);
    snprintf(tok, sizeof tok, "%sA", t); /* 44 */
    CHECK_EQ_INT(verify_at(k, tok, NOW), JWT_BAD_SIGNATURE);
    snprintf(tok, sizeof tok, "%s=", t); /* padded */
    CHECK_EQ_INT(verify_at(k, tok, NOW), JWT_BAD_SIGNATURE);
    snprintf(tok, sizeof tok, "%s%s", t, t + sig); /* 86 */
    CHECK_EQ_INT(verify_at(k, tok, NOW), JWT_BAD_SIGNATURE);
    memcpy(tok, t, sig);
    tok[sig] = '\0'; /* empty */
    CHECK_EQ_INT(verify_at(k, tok, NOW), JWT_BAD_SIGNATURE);
    /* The first 16 bytes of the right MAC (a truncated HMAC). */
    unsigned char mac[32];
    REQUIRE(b64url_decode(mac, sizeof mac, t + sig, len - sig) == 32);
    memcpy(tok, t, sig);
    b64url_encode(tok + sig, mac, 16);
    CHECK_EQ_INT(verify_at(k, tok, NOW), JWT_BAD_SIGNATURE);
    free(t);
    jwt_key_free(k);
}

TEST(jwt_wrong_key)
{
    struct jwt_params p = {NULL, NULL, 0};
    jwt_key *k = key_with(NULL, NULL, 0);
    jwt_key *other = jwt_key_create(other_secret, strlen(other_secret), &p);
    jwt_key *prefix = jwt_key_create(secret, strlen(secret) - 1, &p);

    REQUIRE(k != NULL && other != NULL && prefix != NULL);
    char *t = sign_std(other, NOW + 60);
    CHECK_EQ_INT(verify_at(other, t, NOW), JWT_OK);
    CHECK_EQ_INT(verify_at(k, t, NOW), JWT_BAD_SIGNATURE);
    free(t);
    t = sign_std(k, NOW + 60);
    CHECK_EQ_INT(verify_at(prefix, t, NOW), JWT_BAD_SIGNATURE);
    free(t);
    jwt_key_free(k);
    jwt_key_free(other);
    jwt_key_free(prefix);
}

TEST(jwt_expired)
{
    jwt_key *k = key_with(NULL, NULL, 0);

    REQUIRE(k != NULL);
    char *t = sign_std(k, NOW - 1);
    CHECK_EQ_INT(verify_at(k, t, NOW), JWT_EXPIRED);
    free(t);
    /* RFC 7519 §4.1.4: "on or after" exp the token must not be accepted. */
    t = sign_std(k, NOW);
    CHECK_EQ_INT(verify_at(k, t, NOW), JWT_EXPIRED);
    CHECK_EQ_INT(verify_at(k, t, NOW - 1), JWT_OK);
    free(t);
    t = sign_std(k, NOW + 1);
    CHECK_EQ_INT(verify_at(k, t, NOW), JWT_OK);
    CHECK_EQ_INT(verify_at(k, t, NOW + 1), JWT_EXPIRED);
    free(t);
    jwt_key_free(k);
}

TEST(jwt_leeway)
{
    jwt_key *k = key_with(NULL, NULL, 30);

    REQUIRE(k != NULL);
    char *t = sign_std(k, NOW - 10);
    CHECK_EQ_INT(verify_at(k, t, NOW), JWT_OK);
    free(t);
    t = sign_std(k, NOW - 29);
    CHECK_EQ_INT(verify_at(k, t, NOW), JWT_OK);
    free(t);
    t = sign_std(k, NOW - 30);
    CHECK_EQ_INT(verify_at(k, t, NOW), JWT_EXPIRED);
    free(t);
    t = sign_std(k, NOW - 60);
    CHECK_EQ_INT(verify_at(k, t, NOW), JWT_EXPIRED);
    free(t);
    jwt_key_free(k);
}

TEST(jwt_nbf)
{
    jwt_key *k = key_with(NULL, NULL, 0);
    jwt_key *lk = key_with(NULL, NULL, 30);

    REQUIRE(k != NULL && lk != NULL);
    CHECK_EQ_INT(verify_with_claim(k, "nbf", json_integer(NOW + 10)), JWT_NOT_YET_VALID);
    CHECK_EQ_INT(verify_with_claim(k, "nbf", json_integer(NOW + 1)), JWT_NOT_YET_VALID);
    CHECK_EQ_INT(verify_with_claim(k, "nbf", json_integer(NOW)), JWT_OK);
    CHECK_EQ_INT(verify_with_claim(k, "nbf", json_integer(NOW - 100)), JWT_OK);
    CHECK_EQ_INT(verify_with_claim(lk, "nbf", json_integer(NOW + 10)), JWT_OK);
    CHECK_EQ_INT(verify_with_claim(lk, "nbf", json_integer(NOW + 30)), JWT_OK);
    CHECK_EQ_INT(verify_with_claim(lk, "nbf", json_integer(NOW + 60)), JWT_NOT_YET_VALID);
    /* Not a NumericDate: never valid. */
    CHECK(verify_with_claim(k, "nbf", json_string("0")) != JWT_OK);
    jwt_key_free(k);
    jwt_key_free(lk);
}

TEST(jwt_missing_exp)
{
    jwt_key *k = key_with(NULL, NULL, 0);

    REQUIRE(k != NULL);
    /* Missing is malformed, not expired: the 401 must not say "expired". */
    CHECK_EQ_INT(verify_with_claim(k, "exp", NULL), JWT_BAD_CLAIMS);
    CHECK(verify_with_claim(k, "exp", json_null()) != JWT_OK);
    CHECK(verify_with_claim(k, "exp", json_string("1700000600")) != JWT_OK);
    CHECK(verify_with_claim(k, "exp", json_true()) != JWT_OK);
    /* A NumericDate may carry a fraction (RFC 7519 §2). */
    CHECK_EQ_INT(verify_with_claim(k, "exp", json_real((double)NOW + 600.5)), JWT_OK);
    CHECK_EQ_INT(verify_with_claim(k, "exp", json_real((double)NOW - 0.5)), JWT_EXPIRED);
    jwt_key_free(k);
}

TEST(jwt_issuer)
{
    jwt_key *k = key_with("https://auth.example", NULL, 0);
    jwt_key *plain = key_with(NULL, NULL, 0);

    REQUIRE(k != NULL && plain != NULL);
    CHECK_EQ_INT(verify_with_claim(k, "iss", json_string("https://auth.example")), JWT_OK);
    CHECK_EQ_INT(verify_with_claim(k, "iss", json_string("https://evil.example")), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "iss", json_string("https://auth.example/")), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "iss", json_string("")), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "iss", json_integer(1)), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "iss", NULL), JWT_BAD_CLAIMS);
    /* Without a configured issuer, iss is not checked. */
    CHECK_EQ_INT(verify_with_claim(plain, "iss", json_string("https://evil.example")), JWT_OK);
    jwt_key_free(k);
    jwt_key_free(plain);
}

TEST(jwt_audience)
{
    jwt_key *k = key_with(NULL, "api", 0);

    REQUIRE(k != NULL);
    CHECK_EQ_INT(verify_with_claim(k, "aud", json_string("api")), JWT_OK);
    CHECK_EQ_INT(verify_with_claim(k, "aud", json_pack("[s, s]", "other", "api")), JWT_OK);
    CHECK_EQ_INT(verify_with_claim(k, "aud", json_string("other")), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "aud", json_string("API")), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "aud", json_pack("[s, s]", "x", "y")), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "aud", json_array()), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "aud", json_pack("[[s]]", "api")), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "aud", NULL), JWT_BAD_CLAIMS);
    jwt_key_free(k);
}

TEST(jwt_bad_sub)
{
    jwt_key *k = key_with(NULL, NULL, 0);
    static const char *const bad[] = {
        "abc",
        "",
        "01",
        "-1",
        "+1",
        " 42",
        "42 ",
        "4 2",
        "1e3",
        "0x2a",
        "12345678901234567890",
        "9223372036854775808", /* 2^63: past every 64-bit id */
        "9999999999999999999",
    };

    REQUIRE(k != NULL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(verify_with_claim(k, "sub", json_string(bad[i])), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "sub", json_integer(5)), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "sub", json_real(5.0)), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "sub", json_null()), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "sub", NULL), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "sub", json_string("7")), JWT_OK);
    CHECK_EQ_INT(verify_with_claim(k, "sub", json_string("999999999999999999")), JWT_OK);
    jwt_key_free(k);
}

/* Every id a 64-bit column holds goes into sub and comes back: 10^18 and
 * 2^63 - 1 have 19 digits. */
TEST(jwt_sub_takes_every_64_bit_id)
{
    jwt_key *k = key_with(NULL, NULL, 0);
    static const int64_t ids[] = {1, INT64_C(999999999999999999), INT64_C(1000000000000000000),
                                  INT64_C(9000000000000000000), INT64_MAX};

    REQUIRE(k != NULL);
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        struct jwt_claims in = {.user_id = ids[i], .iat = NOW - 5, .exp = NOW + 600}, out;
        snprintf(in.username, sizeof in.username, "big");
        snprintf(in.sid, sizeof in.sid, "s1");
        char *t = jwt_sign(k, &in);
        REQUIRE(t != NULL);
        memset(&out, 0, sizeof out);
        CHECK_EQ_INT(jwt_verify(k, t, strlen(t), NOW, &out), JWT_OK);
        CHECK(out.user_id == ids[i]);
        free(t);
    }
    jwt_key_free(k);
}

TEST(jwt_embedded_nul)
{
    jwt_key *k = key_with(NULL, NULL, 0);

    REQUIRE(k != NULL);
    /* "1\u00002" is not a decimal string and must never be read as user 1;
     * "al\u0000ce" must not become "al". (jansson refuses \u0000 unless
     * asked, so today these are JWT_MALFORMED.) */
    CHECK(verify_with_claim(k, "sub", json_stringn("1\0002", 3)) != JWT_OK);
    CHECK(verify_with_claim(k, "username", json_stringn("al\0ce", 5)) != JWT_OK);
    CHECK(verify_with_claim(k, "sid", json_stringn("s\0", 2)) != JWT_OK);
    jwt_key_free(k);
}

TEST(jwt_bad_username_sid)
{
    jwt_key *k = key_with(NULL, NULL, 0);
    char long_name[JWT_USERNAME_MAX + 2];

    REQUIRE(k != NULL);
    memset(long_name, 'a', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0'; /* 65 characters */
    CHECK_EQ_INT(verify_with_claim(k, "username", json_string(long_name)), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "username", json_string(long_name + 1)), JWT_OK);
    CHECK_EQ_INT(verify_with_claim(k, "username", json_string("")), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "username", json_integer(1)), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "username", NULL), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "sid", json_string(long_name)), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "sid", json_string("")), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "sid", NULL), JWT_BAD_CLAIMS);
    jwt_key_free(k);
}

TEST(jwt_segment_count)
{
    jwt_key *k = key_with(NULL, NULL, 0);
    char tok[1024];

    REQUIRE(k != NULL);
    char *t = sign_std(k, NOW + 60);
    REQUIRE(t != NULL && strlen(t) < 900);
    const char *sig = strrchr(t, '.');

    /* Two segments: the header and payload only. */
    memcpy(tok, t, (size_t)(sig - t));
    tok[sig - t] = '\0';
    CHECK_EQ_INT(verify_at(k, tok, NOW), JWT_MALFORMED);
    /* Four: a valid token plus one more part, empty or not. */
    snprintf(tok, sizeof tok, "%s.", t);
    CHECK_EQ_INT(verify_at(k, tok, NOW), JWT_MALFORMED);
    snprintf(tok, sizeof tok, "%s%s", t, sig);
    CHECK_EQ_INT(verify_at(k, tok, NOW), JWT_MALFORMED);
    CHECK_EQ_INT(verify_at(k, "abc", NOW), JWT_MALFORMED);
    CHECK_EQ_INT(verify_at(k, "..", NOW), JWT_MALFORMED);
    CHECK_EQ_INT(verify_at(k, "...", NOW), JWT_MALFORMED);
    free(t);
    jwt_key_free(k);
}

TEST(jwt_empty_token)
{
    jwt_key *k = key_with(NULL, NULL, 0);
    struct jwt_claims out;

    REQUIRE(k != NULL);
    CHECK_EQ_INT(jwt_verify(k, "", 0, NOW, &out), JWT_MALFORMED);
    /* len, not the NUL, decides: a token counted as empty is empty. */
    CHECK_EQ_INT(jwt_verify(k, STD_HEADER_B64 ".e30.", 0, NOW, &out), JWT_MALFORMED);
    jwt_key_free(k);
}

/* A valid token of exactly target characters (padding a claim). */
static char *token_of_length(size_t target)
{
    for (size_t pad = 0; pad < JWT_MAX_LEN; pad++) {
        json_t *c = std_claims();
        char *filler = malloc(pad + 1);
        if (filler == NULL) {
            json_decref(c);
            return NULL;
        }
        memset(filler, 'x', pad);
        filler[pad] = '\0';
        json_object_set_new(c, "pad", json_string(filler));
        free(filler);
        char *t = forge_claims(STD_HEADER, c);
        if (t == NULL || strlen(t) == target)
            return t;
        size_t len = strlen(t);
        free(t);
        if (len > target)
            return NULL;
    }
    return NULL;
}

TEST(jwt_max_len)
{
    jwt_key *k = key_with(NULL, NULL, 0);

    REQUIRE(k != NULL);
    char *t = token_of_length(JWT_MAX_LEN);
    REQUIRE(t != NULL);
    CHECK_EQ_INT(strlen(t), JWT_MAX_LEN);
    CHECK_EQ_INT(verify_at(k, t, NOW), JWT_OK);
    free(t);
    t = token_of_length(JWT_MAX_LEN + 1);
    REQUIRE(t != NULL);
    CHECK_EQ_INT(strlen(t), JWT_MAX_LEN + 1);
    CHECK_EQ_INT(verify_at(k, t, NOW), JWT_MALFORMED);
    free(t);
    jwt_key_free(k);
}

TEST(jwt_padded_segment)
{
    jwt_key *k = key_with(NULL, NULL, 0);
    char p64[1024];

    REQUIRE(k != NULL);
    /* A payload whose length is not a multiple of 3, padded the way
     * standard base64 would, and correctly MAC'd. */
    json_t *c = std_claims();
    json_object_set_new(c, "pad", json_string(""));
    char *json = json_dumps(c, JSON_COMPACT);
    REQUIRE(json != NULL);
    size_t n = strlen(json);
    if (n % 3 == 0) { /* make it 1 mod 3: two '=' */
        json_object_set_new(c, "pad", json_string("x"));
        free(json);
        json = json_dumps(c, JSON_COMPACT);
        REQUIRE(json != NULL);
        n = strlen(json);
    }
    REQUIRE(n % 3 != 0 && b64url_encoded_len(n) + 3 < sizeof p64);
    size_t e = b64url_encode(p64, json, n);
    memcpy(p64 + e, n % 3 == 1 ? "==" : "=", n % 3 == 1 ? 3 : 2);
    char *t = sign_with(EVP_sha256(), secret, STD_HEADER_B64, p64);
    CHECK_EQ_INT(verify_free(k, t), JWT_MALFORMED);
    /* Without the padding the same payload is fine. */
    p64[e] = '\0';
    CHECK_EQ_INT(verify_free(k, sign_with(EVP_sha256(), secret, STD_HEADER_B64, p64)), JWT_OK);
    free(json);
    json_decref(c);

    /* A padded header: 35 bytes of JSON, one '='. */
    static const char hdr[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"k\":\"a\"}";
    char h64[64];
    CHECK_EQ_INT(strlen(hdr) % 3, 2);
    e = b64url_encode(h64, hdr, strlen(hdr));
    json_t *c2 = std_claims();
    char *json2 = json_dumps(c2, JSON_COMPACT);
    REQUIRE(json2 != NULL);
    b64url_encode(p64, json2, strlen(json2));
    CHECK_EQ_INT(verify_free(k, sign_with(EVP_sha256(), secret, h64, p64)), JWT_OK);
    memcpy(h64 + e, "=", 2);
    CHECK_EQ_INT(verify_free(k, sign_with(EVP_sha256(), secret, h64, p64)), JWT_MALFORMED);
    free(json2);
    json_decref(c2);
    jwt_key_free(k);
}

TEST(jwt_standard_alphabet_segment)
{
    jwt_key *k = key_with(NULL, NULL, 0);
    char p64[1024];

    REQUIRE(k != NULL);
    /* "???" and "~~~" encode to '_' and '-' in base64url, '/' and '+' in
     * standard base64. */
    json_t *c = std_claims();
    json_object_set_new(c, "x", json_string("???~~~>>>"));
    char *json = json_dumps(c, JSON_COMPACT);
    REQUIRE(json != NULL && b64url_encoded_len(strlen(json)) < sizeof p64);
    b64url_encode(p64, json, strlen(json));
    REQUIRE(strpbrk(p64, "-_") != NULL);
    CHECK_EQ_INT(verify_free(k, sign_with(EVP_sha256(), secret, STD_HEADER_B64, p64)), JWT_OK);
    for (char *q = p64; *q != '\0'; q++)
        *q = *q == '-' ? '+' : *q == '_' ? '/' : *q;
    CHECK_EQ_INT(verify_free(k, sign_with(EVP_sha256(), secret, STD_HEADER_B64, p64)),
                 JWT_MALFORMED);
    free(json);
    json_decref(c);
    jwt_key_free(k);
}

TEST(jwt_duplicate_keys)
{
    jwt_key *k = key_with(NULL, NULL, 0);

    REQUIRE(k != NULL);
    /* Which sub would win is parser-dependent: refused outright. */
    CHECK_EQ_INT(verify_free(k, forge(STD_HEADER, "{\"sub\":\"42\",\"sub\":\"43\",\"username\":"
                                                  "\"alice\",\"sid\":\"s1\",\"exp\":1700000600}")),
                 JWT_MALFORMED);
    CHECK_EQ_INT(verify_free(k, forge(STD_HEADER, "{\"sub\":\"42\",\"username\":\"alice\",\"sid\":"
                                                  "\"s1\",\"exp\":1700000600,\"exp\":1}")),
                 JWT_MALFORMED);
    /* The same payload without the duplicate is accepted. */
    CHECK_EQ_INT(verify_free(k, forge(STD_HEADER, "{\"sub\":\"42\",\"username\":\"alice\",\"sid\":"
                                                  "\"s1\",\"exp\":1700000600}")),
                 JWT_OK);
    jwt_key_free(k);
}

TEST(jwt_payload_not_object)
{
    jwt_key *k = key_with(NULL, NULL, 0);
    static const char *const bad[] = {"[]", "\"x\"", "42", "null", "{", "{}x", "", "{\"a\":1}{}"};

    REQUIRE(k != NULL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(verify_free(k, forge(STD_HEADER, bad[i])), JWT_MALFORMED);
    /* An object without claims is well-formed but has no exp. */
    CHECK_EQ_INT(verify_free(k, forge(STD_HEADER, "{}")), JWT_BAD_CLAIMS);
    jwt_key_free(k);
}

/* The amr claim of a token signed with claims amr, as compact JSON
 * (NULL when absent). */
static char *signed_amr(const jwt_key *k, unsigned amr, unsigned *parsed)
{
    struct jwt_claims c = {.user_id = 7, .iat = NOW - 1, .exp = NOW + 60, .amr = amr}, out;
    char *t, *s = NULL;

    snprintf(c.username, sizeof c.username, "amy");
    snprintf(c.sid, sizeof c.sid, "s2");
    t = jwt_sign(k, &c);
    if (t == NULL)
        return NULL;
    json_t *p = payload_of(t);
    json_t *a = p != NULL ? json_object_get(p, "amr") : NULL;
    if (a != NULL)
        s = json_dumps(a, JSON_COMPACT | JSON_ENCODE_ANY);
    *parsed = 0;
    if (jwt_verify(k, t, strlen(t), NOW, &out) == JWT_OK)
        *parsed = out.amr;
    json_decref(p);
    free(t);
    return s;
}

static void amr_is(const jwt_key *k, unsigned amr, const char *want, int line)
{
    unsigned parsed = 0;
    char *got = signed_amr(k, amr, &parsed);

    test_check_str(got, want, __FILE__, line, "amr signed", want);
    test_check_int(parsed, amr, __FILE__, line, "amr parsed", "amr signed");
    free(got);
}

TEST(jwt_amr_signed_in_order)
{
    jwt_key *k = key_with(NULL, NULL, 0);
    unsigned parsed = 0;

    REQUIRE(k != NULL);
    /* RFC 8176 §2, in the contract's order (API.md, "Second factors"). */
    amr_is(k, JWT_AMR_PWD, "[\"pwd\"]", __LINE__);
    amr_is(k, JWT_AMR_PWD | JWT_AMR_OTP, "[\"pwd\",\"otp\"]", __LINE__);
    amr_is(k, JWT_AMR_PWD | JWT_AMR_HWK, "[\"pwd\",\"hwk\"]", __LINE__);
    amr_is(k, JWT_AMR_HWK | JWT_AMR_USER, "[\"hwk\",\"user\"]", __LINE__);
    /* A caller that names no method signed in with a password. */
    char *s = signed_amr(k, 0, &parsed);
    CHECK_EQ_STR(s, "[\"pwd\"]");
    CHECK_EQ_INT(parsed, JWT_AMR_PWD);
    free(s);
    jwt_key_free(k);
}

TEST(jwt_amr_parsed)
{
    jwt_key *k = key_with(NULL, NULL, 0);
    struct jwt_claims out;
    json_t *c;
    char *t;

    REQUIRE(k != NULL);
    /* Absent: a token issued before amr was signed, after a password. */
    t = forge_claims(STD_HEADER, std_claims());
    REQUIRE(t != NULL);
    memset(&out, 0, sizeof out);
    CHECK_EQ_INT(jwt_verify(k, t, strlen(t), NOW, &out), JWT_OK);
    CHECK_EQ_INT(out.amr, JWT_AMR_PWD);
    free(t);
    /* Any order of the values we issue. */
    c = std_claims();
    json_object_set_new(c, "amr", json_pack("[s, s]", "otp", "pwd"));
    t = forge_claims(STD_HEADER, c);
    REQUIRE(t != NULL);
    CHECK_EQ_INT(jwt_verify(k, t, strlen(t), NOW, &out), JWT_OK);
    CHECK_EQ_INT(out.amr, JWT_AMR_PWD | JWT_AMR_OTP);
    free(t);
    /* A value we never issue, or a malformed claim, refuses the token. */
    CHECK_EQ_INT(verify_with_claim(k, "amr", json_pack("[s]", "mfa")), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "amr", json_pack("[s, s]", "pwd", "sms")), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "amr", json_pack("[s]", "PWD")), JWT_BAD_CLAIMS);
    /* A NUL inside a value: the payload's parser refuses it first. */
    CHECK_EQ_INT(verify_with_claim(k, "amr", json_pack("[s#]", "pwd\0", 4)), JWT_MALFORMED);
    CHECK_EQ_INT(verify_with_claim(k, "amr", json_string("pwd")), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "amr", json_array()), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "amr", json_pack("[s, s]", "pwd", "pwd")), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "amr", json_pack("[i]", 1)), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "amr", json_pack("[[s]]", "pwd")), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "amr", json_null()), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(
                     k, "amr", json_pack("[s, s, s, s, s]", "pwd", "otp", "hwk", "user", "pwd")),
                 JWT_BAD_CLAIMS);
    CHECK_EQ_INT(
        verify_with_claim(k, "amr", json_pack("[s, s, s, s]", "pwd", "otp", "hwk", "user")),
        JWT_OK);
    jwt_key_free(k);
}

TEST(jwt_amr_text)
{
    char text[JWT_AMR_TEXT_MAX + 1];
    unsigned amr = 0;

    jwt_amr_text(JWT_AMR_ALL, text);
    CHECK_EQ_STR(text, "pwd otp hwk user");
    CHECK_EQ_INT(strlen(text), JWT_AMR_TEXT_MAX);
    jwt_amr_text(JWT_AMR_HWK | JWT_AMR_USER, text);
    CHECK_EQ_STR(text, "hwk user");
    jwt_amr_text(0, text);
    CHECK_EQ_STR(text, "");
    CHECK(jwt_amr_parse("pwd", &amr));
    CHECK_EQ_INT(amr, JWT_AMR_PWD);
    CHECK(jwt_amr_parse("pwd otp", &amr));
    CHECK_EQ_INT(amr, JWT_AMR_PWD | JWT_AMR_OTP);
    CHECK(jwt_amr_parse("hwk user", &amr));
    CHECK_EQ_INT(amr, JWT_AMR_HWK | JWT_AMR_USER);
    CHECK(!jwt_amr_parse("", &amr));
    CHECK(!jwt_amr_parse(" pwd", &amr));
    CHECK(!jwt_amr_parse("pwd ", &amr));
    CHECK(!jwt_amr_parse("pwd  otp", &amr));
    CHECK(!jwt_amr_parse("pwd pwd", &amr));
    CHECK(!jwt_amr_parse("pwd,otp", &amr));
    CHECK(!jwt_amr_parse("mfa", &amr));
    CHECK_EQ_STR(jwt_amr_name(JWT_AMR_OTP), "otp");
    CHECK(jwt_amr_name(JWT_AMR_PWD | JWT_AMR_OTP) == NULL);
    CHECK(jwt_amr_name(1u << 4) == NULL);
}

TEST(jwt_roles_email_round_trip)
{
    jwt_key *k = key_with(NULL, NULL, 0);
    struct jwt_claims c = {.user_id = 9, .iat = NOW - 1, .exp = NOW + 60}, out;

    REQUIRE(k != NULL);
    snprintf(c.username, sizeof c.username, "ops");
    snprintf(c.sid, sizeof c.sid, "s9");
    /* None: neither claim is signed, both read back "". */
    char *t = jwt_sign(k, &c);
    REQUIRE(t != NULL);
    json_t *p = payload_of(t);
    REQUIRE(p != NULL);
    CHECK(json_object_get(p, "roles") == NULL);
    CHECK(json_object_get(p, "email") == NULL);
    json_decref(p);
    memset(&out, 0xab, sizeof out);
    CHECK_EQ_INT(jwt_verify(k, t, strlen(t), NOW, &out), JWT_OK);
    CHECK_EQ_STR(out.roles, "");
    CHECK_EQ_STR(out.email, "");
    free(t);
    /* Some: a sorted JSON array and a string. */
    snprintf(c.roles, sizeof c.roles, "admin,ops.team,x_y-z");
    snprintf(c.email, sizeof c.email, "ops@example.com");
    t = jwt_sign(k, &c);
    REQUIRE(t != NULL);
    p = payload_of(t);
    REQUIRE(p != NULL);
    char *roles = json_dumps(json_object_get(p, "roles"), JSON_COMPACT | JSON_ENCODE_ANY);
    CHECK_EQ_STR(roles, "[\"admin\",\"ops.team\",\"x_y-z\"]");
    CHECK_EQ_STR(json_string_value(json_object_get(p, "email")), "ops@example.com");
    free(roles);
    json_decref(p);
    CHECK_EQ_INT(jwt_verify(k, t, strlen(t), NOW, &out), JWT_OK);
    CHECK_EQ_STR(out.roles, "admin,ops.team,x_y-z");
    CHECK_EQ_STR(out.email, "ops@example.com");
    free(t);
    /* The longest set: 16 names of 32 bytes. */
    char *q = c.roles;
    for (int i = 0; i < 16; i++)
        q += snprintf(q, c.roles + sizeof c.roles - q, "%s%c%031d", i > 0 ? "," : "", 'a' + i, 0);
    t = jwt_sign(k, &c);
    REQUIRE(t != NULL);
    CHECK_EQ_INT(jwt_verify(k, t, strlen(t), NOW, &out), JWT_OK);
    CHECK_EQ_INT(strlen(out.roles), 16 * 33 - 1);
    CHECK_EQ_STR(out.roles, c.roles);
    free(t);
    jwt_key_free(k);
}

TEST(jwt_roles_email_parsed)
{
    jwt_key *k = key_with(NULL, NULL, 0);
    char long_name[40], long_email[300];

    REQUIRE(k != NULL);
    memset(long_name, 'a', 33);
    long_name[33] = '\0';
    memset(long_email, 'e', 255);
    long_email[255] = '\0';
    CHECK_EQ_INT(verify_with_claim(k, "roles", json_pack("[s, s]", "a", "b")), JWT_OK);
    CHECK_EQ_INT(verify_with_claim(k, "roles", json_array()), JWT_OK);
    /* Not an array of role names in ascending order: refused. */
    CHECK_EQ_INT(verify_with_claim(k, "roles", json_string("admin")), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "roles", json_pack("[s]", "Admin")), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "roles", json_pack("[s]", "a,b")), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "roles", json_pack("[s]", "")), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "roles", json_pack("[s]", long_name)), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "roles", json_pack("[s, s]", "b", "a")), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "roles", json_pack("[s, s]", "a", "a")), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "roles", json_pack("[i]", 1)), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "roles", json_null()), JWT_BAD_CLAIMS);
    json_t *many = json_array();
    for (int i = 0; i < 17; i++) {
        char n[16];
        snprintf(n, sizeof n, "r%02d", i);
        json_array_append_new(many, json_string(n));
    }
    CHECK_EQ_INT(verify_with_claim(k, "roles", many), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "email", json_string("a@b.example")), JWT_OK);
    CHECK_EQ_INT(verify_with_claim(k, "email", json_string("")), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "email", json_string(long_email)), JWT_BAD_CLAIMS);
    CHECK_EQ_INT(verify_with_claim(k, "email", json_integer(1)), JWT_BAD_CLAIMS);
    jwt_key_free(k);
}
