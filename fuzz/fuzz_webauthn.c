/* core/webauthn.c, the CBOR side: the attestation object, the
 * authenticator data and the COSE key. The first byte chooses:
 * - even: webauthn_verify_registration of the rest as the
 *   attestationObject, under a fixed clientDataJSON and expectation;
 * - odd: webauthn_verify_assertion of the rest split into a COSE key and
 *   authenticator data (each after a 2-byte big-endian length) and the
 *   signature (what remains), under a fixed clientDataJSON.
 * The seeds (fuzz/webauthn_seeds.py) are softauthn.py's answers to these
 * client data, so accepted ceremonies are in the corpus from the start.
 *
 * Invariants: the status is one of the enum's; a registration accepted
 * holds a credential id and a COSE key taken from the input, within their
 * limits, with UP and AT set, and that key is one the assertion check takes
 * (a wrong signature under it is BAD_SIGNATURE, never BAD_KEY); an
 * assertion accepted is bound to its bytes: the counter is the one in the
 * authenticator data, the rpIdHash is SHA-256 of the RP id, and one bit
 * changed in the signature or the authenticator data's counter is refused. */
#include <sodium.h>

#include "core/webauthn.h"
#include "fuzz/fuzz.h"

#define RP_ID  "example.org"
#define ORIGIN "https://example.org"

/* The challenges are bytes 0..31 and 100..131 (base64url below). */
static const char reg_cd[] = "{\"type\":\"webauthn.create\",\"challenge\":"
                             "\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\",\"origin\":\"" ORIGIN
                             "\",\"crossOrigin\":false}";
static const char get_cd[] = "{\"type\":\"webauthn.get\",\"challenge\":"
                             "\"ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1-f4CBgoM\",\"origin\":\"" ORIGIN
                             "\",\"crossOrigin\":false}";
static unsigned char reg_challenge[32], get_challenge[32];
static const char *const origins[] = {ORIGIN};

static struct webauthn_expect expect(const char *type, const unsigned char *challenge)
{
    struct webauthn_expect e = {type, challenge, 32, origins, 1, RP_ID, false};
    return e;
}

static void registration(const uint8_t *ao, size_t len)
{
    struct webauthn_expect e = expect("webauthn.create", reg_challenge);
    struct webauthn_credential c;
    enum webauthn_status st = webauthn_verify_registration(&e, (const unsigned char *)reg_cd,
                                                           sizeof reg_cd - 1, ao, len, &c);

    FUZZ_CHECK((unsigned)st <= WEBAUTHN_NOMEM);
    if (st != WEBAUTHN_OK)
        return;
    FUZZ_CHECK(c.id_len >= 1 && c.id_len <= WEBAUTHN_CREDENTIAL_ID_MAX);
    FUZZ_CHECK(c.cose_len >= 1 && c.cose_len <= WEBAUTHN_COSE_KEY_MAX);
    FUZZ_CHECK(fuzz_contains((const char *)ao, len, (const char *)c.id, c.id_len));
    FUZZ_CHECK(fuzz_contains((const char *)ao, len, (const char *)c.cose_key, c.cose_len));
    FUZZ_CHECK(c.alg == WEBAUTHN_ES256 || c.alg == WEBAUTHN_EDDSA || c.alg == WEBAUTHN_RS256);
    FUZZ_CHECK((c.flags & 0x41) == 0x41);

    /* The key registration took is one an assertion takes. */
    unsigned char ad[37] = {0};
    unsigned char sig[64] = {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01};
    struct webauthn_expect g = expect("webauthn.get", get_challenge);
    struct webauthn_assertion a;
    crypto_hash_sha256(ad, (const unsigned char *)RP_ID, strlen(RP_ID));
    ad[32] = 0x01;
    st = webauthn_verify_assertion(&g, c.cose_key, c.cose_len, (const unsigned char *)get_cd,
                                   sizeof get_cd - 1, ad, sizeof ad, sig,
                                   c.alg == WEBAUTHN_EDDSA ? 64 : 8, &a);
    FUZZ_CHECK(st == WEBAUTHN_BAD_SIGNATURE || st == WEBAUTHN_UNAVAILABLE);
}

static enum webauthn_status assert_once(const uint8_t *key, size_t klen, const uint8_t *ad,
                                        size_t adlen, const uint8_t *sig, size_t siglen,
                                        struct webauthn_assertion *out)
{
    struct webauthn_expect e = expect("webauthn.get", get_challenge);

    return webauthn_verify_assertion(&e, key, klen, (const unsigned char *)get_cd,
                                     sizeof get_cd - 1, ad, adlen, sig, siglen, out);
}

static void assertion(const uint8_t *data, size_t len)
{
    if (len < 2)
        return;
    size_t klen = (size_t)data[0] << 8 | data[1];
    if (len - 2 < klen + 2)
        return;
    const uint8_t *key = data + 2;
    size_t adlen = (size_t)data[2 + klen] << 8 | data[3 + klen];
    if (len - 4 - klen < adlen)
        return;
    /* Copies, so that ASan sees a read past each part. */
    uint8_t *k = malloc(klen + 1), *ad = malloc(adlen + 1);
    size_t siglen = len - 4 - klen - adlen;
    uint8_t *sig = malloc(siglen + 1);
    FUZZ_CHECK(k != NULL && ad != NULL && sig != NULL);
    memcpy(k, key, klen);
    memcpy(ad, data + 4 + klen, adlen);
    memcpy(sig, data + 4 + klen + adlen, siglen);

    struct webauthn_assertion out;
    enum webauthn_status st = assert_once(k, klen, ad, adlen, sig, siglen, &out);
    FUZZ_CHECK((unsigned)st <= WEBAUTHN_NOMEM);
    if (st == WEBAUTHN_OK) {
        unsigned char h[32];
        crypto_hash_sha256(h, (const unsigned char *)RP_ID, strlen(RP_ID));
        FUZZ_CHECK(adlen >= 37 && memcmp(ad, h, 32) == 0 && (ad[32] & 0x01) != 0);
        FUZZ_CHECK(out.flags == ad[32]);
        FUZZ_CHECK(out.sign_count == ((uint32_t)ad[33] << 24 | (uint32_t)ad[34] << 16 |
                                      (uint32_t)ad[35] << 8 | ad[36]));
        FUZZ_CHECK(siglen > 0);
        sig[siglen - 1] ^= 0x01;
        FUZZ_CHECK(assert_once(k, klen, ad, adlen, sig, siglen, &out) == WEBAUTHN_BAD_SIGNATURE);
        sig[siglen - 1] ^= 0x01;
        ad[36] ^= 0x01;
        FUZZ_CHECK(assert_once(k, klen, ad, adlen, sig, siglen, &out) == WEBAUTHN_BAD_SIGNATURE);
    }
    free(k);
    free(ad);
    free(sig);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (reg_challenge[31] == 0) {
        FUZZ_CHECK(sodium_init() >= 0);
        for (int i = 0; i < 32; i++) {
            reg_challenge[i] = (unsigned char)i;
            get_challenge[i] = (unsigned char)(100 + i);
        }
    }
    if (size < 1)
        return 0;
    if ((data[0] & 1) == 0) {
        uint8_t *ao = malloc(size > 1 ? size - 1 : 1); /* exactly its length, for ASan */
        FUZZ_CHECK(ao != NULL);
        memcpy(ao, data + 1, size - 1);
        registration(ao, size - 1);
        free(ao);
    } else {
        assertion(data + 1, size - 1);
    }
    return 0;
}
