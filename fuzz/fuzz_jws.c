/* core/jwt.c: jwt_verify with a fixed HS256 key. Input: a mode byte, then
 * either a whole token (even modes), or a header and a payload separated by
 * a newline (odd modes), which the target encodes and signs with the key, so
 * that the header and claims checks behind the MAC are reached too. A token
 * that verifies has well-formed claims, and signing those claims again gives
 * a token that verifies to the same claims. */
#include <sodium.h>

#include "core/jwt.h"
#include "fuzz/fuzz.h"

#define NOW 1700000000

static const char secret[] = "fuzz-secret-key-of-32-bytes-or-more!";
static jwt_key *keys[2];

/* b64url of data[0..len) appended at out + *w. */
static void put_b64(char *out, size_t *w, const void *data, size_t len)
{
    sodium_bin2base64(out + *w,
                      sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                      data, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    *w += strlen(out + *w);
}

/* "b64(header).b64(payload).b64(HMAC)" of text split at its first newline. */
static char *sign(const char *text, size_t len, size_t *outlen)
{
    const char *nl = memchr(text, '\n', len);
    size_t hlen = nl != NULL ? (size_t)(nl - text) : len;
    const char *p = nl != NULL ? nl + 1 : "";
    size_t plen = nl != NULL ? len - hlen - 1 : 0;
    char *out = malloc(2 * len + 128);
    size_t w = 0;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];

    FUZZ_CHECK(out != NULL);
    put_b64(out, &w, text, hlen);
    out[w++] = '.';
    put_b64(out, &w, p, plen);
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)out, w);
    crypto_auth_hmacsha256_final(&st, mac);
    out[w++] = '.';
    put_b64(out, &w, mac, sizeof mac);
    *outlen = w;
    return out;
}

/* The keys live in sodium_malloc'd memory, which LeakSanitizer does not
 * scan: freed before its check at exit, so that it sees no leak. */
static void free_keys(void)
{
    jwt_key_free(keys[0]);
    jwt_key_free(keys[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (keys[0] == NULL) {
        struct jwt_params plain = {NULL, NULL, 0};
        struct jwt_params named = {"https://issuer.example", "gatehouse-api", 30};
        FUZZ_CHECK(sodium_init() >= 0);
        keys[0] = jwt_key_create(secret, strlen(secret), &plain);
        keys[1] = jwt_key_create(secret, strlen(secret), &named);
        FUZZ_CHECK(keys[0] != NULL && keys[1] != NULL);
        atexit(free_keys);
    }
    if (size < 1)
        return 0;
    const jwt_key *k = keys[(data[0] >> 1) & 1];
    char *tok;
    size_t len;
    if (data[0] & 1) {
        tok = sign((const char *)data + 1, size - 1, &len);
    } else {
        tok = fuzz_strndup(data + 1, size - 1);
        len = size - 1;
    }

    struct jwt_claims c, again;
    enum jwt_status st = jwt_verify(k, tok, len, NOW, &c);
    FUZZ_CHECK((unsigned)st <= JWT_BAD_CLAIMS); /* one of the enum's values */
    if (st == JWT_OK) {
        FUZZ_CHECK(len <= JWT_MAX_LEN);
        FUZZ_CHECK(memchr(c.username, '\0', sizeof c.username) != NULL && c.username[0] != '\0');
        FUZZ_CHECK(memchr(c.sid, '\0', sizeof c.sid) != NULL && c.sid[0] != '\0');
        FUZZ_CHECK(c.exp >= NOW - 30);
        FUZZ_CHECK(c.amr != 0 && (c.amr & ~(unsigned)JWT_AMR_ALL) == 0);
        char *t2 = jwt_sign(k, &c);
        FUZZ_CHECK(t2 != NULL);
        FUZZ_CHECK(jwt_verify(k, t2, strlen(t2), NOW, &again) == JWT_OK);
        FUZZ_CHECK(again.user_id == c.user_id && again.iat == c.iat && again.exp == c.exp);
        FUZZ_CHECK(strcmp(again.username, c.username) == 0 && strcmp(again.sid, c.sid) == 0);
        FUZZ_CHECK(again.amr == c.amr); /* re-signed as parsed */
        free(t2);
    }
    /* The typed tokens' path (the OpenID Connect provider's, core/oidc.h)
     * with the same bytes: an HS256 key verifies none of them, whatever
     * the header says, and nothing is returned then. */
    json_t *claims = NULL;
    enum jwt_status ts = jwt_verify_json(k, "at+jwt", tok, len, &claims);
    FUZZ_CHECK(ts != JWT_OK && claims == NULL);
    free(tok);
    return 0;
}
