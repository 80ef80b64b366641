/* core/jwk.c: jwk_from_pem, the reader of JWT_PRIVATE_KEY_FILE and of every
 * file in JWT_VERIFY_KEYS_DIR. Input: a mode byte (bit 0: a private key is
 * required), then the PEM text. A refusal is one non-empty line. A key read
 * has a known algorithm, a kid of JWK_KID_LEN base64url characters that
 * reading the text again reproduces, a bounded signature length, a public
 * JWK naming the same kid and algorithm, and, when private, signatures that
 * verify, while a changed signature or message does not. */
#include <sodium.h>

#include "core/jwk.h"
#include "fuzz/fuzz.h"

static const char message[] = "header.payload";

/* The key's public JWK names its kid and algorithm, for signing. */
static void check_public_json(const jwk *k)
{
    json_t *j = jwk_public_json(k);

    FUZZ_CHECK(j != NULL);
    FUZZ_CHECK(strcmp(json_string_value(json_object_get(j, "kid")), jwk_kid(k)) == 0);
    FUZZ_CHECK(strcmp(json_string_value(json_object_get(j, "alg")), jwk_alg_name(jwk_alg_of(k))) ==
               0);
    FUZZ_CHECK(strcmp(json_string_value(json_object_get(j, "use")), "sig") == 0);
    FUZZ_CHECK(json_string_value(json_object_get(j, "kty")) != NULL);
    json_decref(j);
}

/* A private key's signature verifies; one bit off, or another message,
 * does not. A public key verifies no signature of zeros. */
static void check_signatures(const jwk *k)
{
    unsigned char sig[JWK_SIG_MAX];
    size_t n = jwk_sig_len(k), mlen = sizeof message - 1;

    if (!jwk_is_private(k)) {
        memset(sig, 0, n);
        FUZZ_CHECK(!jwk_verify(k, message, mlen, sig, n));
        return;
    }
    FUZZ_CHECK(jwk_sign(k, message, mlen, sig) == 0);
    FUZZ_CHECK(jwk_verify(k, message, mlen, sig, n));
    FUZZ_CHECK(!jwk_verify(k, message, mlen - 1, sig, n));
    FUZZ_CHECK(!jwk_verify(k, message, mlen, sig, n - 1));
    sig[n / 2] ^= 0x01;
    FUZZ_CHECK(!jwk_verify(k, message, mlen, sig, n));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    char err[256] = "";

    if (!ready) {
        FUZZ_CHECK(sodium_init() >= 0);
        ready = 1;
    }
    if (size < 1)
        return 0;
    bool need_private = data[0] & 1;
    char *pem = fuzz_strndup(data + 1, size - 1);
    jwk *k = jwk_from_pem(pem, size - 1, need_private, err, sizeof err);

    if (k == NULL) {
        FUZZ_CHECK(err[0] != '\0' && strchr(err, '\n') == NULL);
        free(pem);
        return 0;
    }
    enum jwk_alg alg = jwk_alg_of(k), again;
    FUZZ_CHECK(jwk_alg_parse(jwk_alg_name(alg), &again) == 0 && again == alg);
    FUZZ_CHECK(!need_private || jwk_is_private(k));
    const char *kid = jwk_kid(k);
    FUZZ_CHECK(strlen(kid) == JWK_KID_LEN);
    FUZZ_CHECK(strspn(kid, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
               JWK_KID_LEN);
    FUZZ_CHECK(jwk_sig_len(k) > 0 && jwk_sig_len(k) <= JWK_SIG_MAX);
    jwk *k2 = jwk_from_pem(pem, size - 1, need_private, err, sizeof err);
    FUZZ_CHECK(k2 != NULL && strcmp(jwk_kid(k2), kid) == 0);
    jwk_free(k2);
    check_public_json(k);
    check_signatures(k);
    jwk_free(k);
    free(pem);
    return 0;
}
