/* core/webauthn: registration and assertion checks against vectors that
 * tests/api/softauthn.py made (webauthn_vectors.py writes the header), so
 * the C is held to an independent implementation of the authenticator:
 * each algorithm's accepted ceremony, and each refusal with the one cause
 * it names. The layout and limit cases cut or grow those bytes here. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/webauthn.h"
#include "test.h"
#include "webauthn_cases.h"

static const char *const origins[] = {"https://other.example.org", VEC_ORIGIN};

static struct webauthn_expect expect_of(const char *type, bool require_uv)
{
    bool reg = strcmp(type, "webauthn.create") == 0;
    struct webauthn_expect e = {
        .type = type,
        .challenge = reg ? vec_reg_challenge : vec_get_challenge,
        .challenge_len = reg ? sizeof vec_reg_challenge : sizeof vec_get_challenge,
        .origins = origins,
        .norigins = 2,
        .rp_id = VEC_RP_ID,
        .require_uv = require_uv,
    };
    return e;
}

static enum webauthn_status reg_run(const struct reg_vector *v, const unsigned char *ao,
                                    size_t aolen, struct webauthn_credential *out)
{
    struct webauthn_expect e = expect_of("webauthn.create", v->require_uv);

    return webauthn_verify_registration(&e, v->cd, v->cdlen, ao, aolen, out);
}

static enum webauthn_status get_run(const struct get_vector *v, const unsigned char *key,
                                    size_t keylen, const unsigned char *ad, size_t adlen,
                                    const unsigned char *sig, size_t siglen)
{
    struct webauthn_expect e = expect_of("webauthn.get", v->require_uv);
    struct webauthn_assertion out;

    return webauthn_verify_assertion(&e, key, keylen, v->cd, v->cdlen, ad, adlen, sig, siglen,
                                     &out);
}

/* Every registration vector gets the status softauthn's knob stands for. */
TEST(webauthn_registration_vectors)
{
    for (size_t i = 0; i < sizeof reg_vectors / sizeof reg_vectors[0]; i++) {
        const struct reg_vector *v = &reg_vectors[i];
        struct webauthn_credential out;
        enum webauthn_status st = reg_run(v, v->ao, v->aolen, &out);
        if (st != v->want)
            fprintf(stderr, "registration vector %s: %s, expected %s\n", v->name,
                    webauthn_status_text(st), webauthn_status_text(v->want));
        CHECK_EQ_INT(st, v->want);
    }
}

/* The credential registration reports is softauthn's: its id, its COSE
 * key byte for byte, its algorithm and counter. */
TEST(webauthn_registration_credential)
{
    static const struct {
        const char *vector;
        const unsigned char *id, *cose;
        size_t idlen, coselen;
        int alg;
    } want[] = {
        {"none_ES256", cred_ES256_id, cred_ES256_cose, sizeof cred_ES256_id, sizeof cred_ES256_cose,
         WEBAUTHN_ES256},
        {"none_EdDSA", cred_EdDSA_id, cred_EdDSA_cose, sizeof cred_EdDSA_id, sizeof cred_EdDSA_cose,
         WEBAUTHN_EDDSA},
        {"none_RS256", cred_RS256_id, cred_RS256_cose, sizeof cred_RS256_id, sizeof cred_RS256_cose,
         WEBAUTHN_RS256},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const struct reg_vector *v = reg_named(want[i].vector);
        struct webauthn_credential out;
        REQUIRE(v != NULL);
        CHECK_EQ_INT(reg_run(v, v->ao, v->aolen, &out), WEBAUTHN_OK);
        CHECK_EQ_INT(out.id_len, want[i].idlen);
        CHECK(out.id_len == want[i].idlen && memcmp(out.id, want[i].id, out.id_len) == 0);
        CHECK_EQ_INT(out.cose_len, want[i].coselen);
        CHECK(out.cose_len == want[i].coselen &&
              memcmp(out.cose_key, want[i].cose, out.cose_len) == 0);
        CHECK_EQ_INT(out.alg, want[i].alg);
        CHECK_EQ_INT(out.sign_count, 7);
        CHECK_EQ_INT(out.flags, 0x45); /* UP, UV, AT */
    }
}

TEST(webauthn_assertion_vectors)
{
    for (size_t i = 0; i < sizeof get_vectors / sizeof get_vectors[0]; i++) {
        const struct get_vector *v = &get_vectors[i];
        enum webauthn_status st = get_run(v, v->key, v->keylen, v->ad, v->adlen, v->sig, v->siglen);
        if (st != v->want)
            fprintf(stderr, "assertion vector %s: %s, expected %s\n", v->name,
                    webauthn_status_text(st), webauthn_status_text(v->want));
        CHECK_EQ_INT(st, v->want);
    }
}

/* The counter and flags the assertion carried come back to the caller. */
TEST(webauthn_assertion_counter)
{
    const char *names[] = {"ok_ES256", "ok_EdDSA", "ok_RS256"};

    for (size_t i = 0; i < 3; i++) {
        const struct get_vector *v = get_named(names[i]);
        struct webauthn_expect e = expect_of("webauthn.get", true);
        struct webauthn_assertion out = {0, 0};
        REQUIRE(v != NULL);
        CHECK_EQ_INT(webauthn_verify_assertion(&e, v->key, v->keylen, v->cd, v->cdlen, v->ad,
                                               v->adlen, v->sig, v->siglen, &out),
                     WEBAUTHN_OK);
        CHECK_EQ_INT(out.sign_count, 8);
        CHECK_EQ_INT(out.flags, 0x05);
    }
}

/* A signature verifies only with its own message: the ceremonies' type
 * checks aside, a registration's client data under an assertion's
 * authenticator data is a wrong signature, as is one of another algorithm
 * under the same key. */
TEST(webauthn_assertion_signature_binding)
{
    const struct get_vector *es = get_named("ok_ES256"), *ed = get_named("ok_EdDSA"),
                            *rs = get_named("ok_RS256");

    REQUIRE(es != NULL && ed != NULL && rs != NULL);
    CHECK_EQ_INT(get_run(es, es->key, es->keylen, es->ad, es->adlen, ed->sig, ed->siglen),
                 WEBAUTHN_BAD_SIGNATURE);
    CHECK_EQ_INT(get_run(ed, ed->key, ed->keylen, ed->ad, ed->adlen, es->sig, es->siglen),
                 WEBAUTHN_BAD_SIGNATURE);
    CHECK_EQ_INT(get_run(rs, rs->key, rs->keylen, rs->ad, rs->adlen, rs->sig, rs->siglen - 1),
                 WEBAUTHN_BAD_SIGNATURE);
    CHECK_EQ_INT(get_run(es, es->key, es->keylen, es->ad, es->adlen, es->sig, 0),
                 WEBAUTHN_BAD_SIGNATURE);
    CHECK_EQ_INT(get_run(ed, ed->key, ed->keylen, ed->ad, ed->adlen, rs->sig, rs->siglen),
                 WEBAUTHN_BAD_SIGNATURE);
}

/* Every proper prefix of an attestation object, and the object with a byte
 * more, is refused; nothing reads past the given length (the ASan suite
 * runs this too). */
TEST(webauthn_registration_truncated_and_trailing)
{
    const char *names[] = {"none_ES256", "packed_EdDSA", "packed_RS256"};

    for (size_t k = 0; k < 3; k++) {
        const struct reg_vector *v = reg_named(names[k]);
        REQUIRE(v != NULL);
        unsigned char *copy = malloc(v->aolen + 1);
        REQUIRE(copy != NULL);
        memcpy(copy, v->ao, v->aolen);
        struct webauthn_credential out;
        for (size_t n = 0; n < v->aolen; n++) {
            enum webauthn_status st = reg_run(v, copy, n, &out);
            if (st != WEBAUTHN_MALFORMED)
                fprintf(stderr, "%s cut to %zu bytes: %s\n", v->name, n, webauthn_status_text(st));
            CHECK_EQ_INT(st, WEBAUTHN_MALFORMED);
        }
        copy[v->aolen] = 0x00;
        CHECK_EQ_INT(reg_run(v, copy, v->aolen + 1, &out), WEBAUTHN_MALFORMED);
        free(copy);
    }
}

TEST(webauthn_assertion_truncated)
{
    const struct get_vector *v = get_named("ok_EdDSA");
    const struct get_vector *r = get_named("ok_RS256");

    REQUIRE(v != NULL && r != NULL);
    for (size_t n = 0; n < v->adlen; n++)
        CHECK_EQ_INT(get_run(v, v->key, v->keylen, v->ad, n, v->sig, v->siglen),
                     WEBAUTHN_MALFORMED);
    for (size_t n = 0; n < v->keylen; n++)
        CHECK_EQ_INT(get_run(v, v->key, n, v->ad, v->adlen, v->sig, v->siglen), WEBAUTHN_BAD_KEY);
    for (size_t n = 0; n < r->keylen; n += 7)
        CHECK_EQ_INT(get_run(r, r->key, n, r->ad, r->adlen, r->sig, r->siglen), WEBAUTHN_BAD_KEY);
    /* A key with a byte after it is not the key registration stored. */
    unsigned char key[WEBAUTHN_COSE_KEY_MAX + 1];
    memcpy(key, v->key, v->keylen);
    key[v->keylen] = 0x00;
    CHECK_EQ_INT(get_run(v, key, v->keylen + 1, v->ad, v->adlen, v->sig, v->siglen),
                 WEBAUTHN_BAD_KEY);
    for (size_t n = 0; n < v->siglen; n++)
        CHECK_EQ_INT(get_run(v, v->key, v->keylen, v->ad, v->adlen, v->sig, n),
                     WEBAUTHN_BAD_SIGNATURE);
}

static enum webauthn_status cd_check(const char *json, bool reg)
{
    struct webauthn_expect e = expect_of(reg ? "webauthn.create" : "webauthn.get", false);

    return webauthn_check_client_data(&e, (const unsigned char *)json, strlen(json));
}

/* The challenge of vec_get_challenge (bytes 100..131) in base64url. */
#define GET_B64 "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1-f4CBgoM"

TEST(webauthn_client_data)
{
    static const char ok[] =
        "{\"type\":\"webauthn.get\",\"challenge\":\"" GET_B64 "\",\"origin\":\"" VEC_ORIGIN "\"}";

    CHECK_EQ_INT(cd_check(ok, false), WEBAUTHN_OK);
    CHECK_EQ_INT(cd_check(ok, true), WEBAUTHN_BAD_TYPE);
    CHECK_EQ_INT(cd_check("{\"type\":\"webauthn.get\",\"challenge\":\"" GET_B64
                          "\",\"origin\":\"" VEC_ORIGIN "\",\"crossOrigin\":false,"
                          "\"other_keys_can_be_added_here\":\"x\"}",
                          false),
                 WEBAUTHN_OK);
    CHECK_EQ_INT(cd_check("[]", false), WEBAUTHN_MALFORMED);
    CHECK_EQ_INT(cd_check("{\"type\":\"webauthn.get\",\"challenge\":\"" GET_B64 "\"", false),
                 WEBAUTHN_MALFORMED);
    CHECK_EQ_INT(cd_check("{\"challenge\":\"" GET_B64 "\",\"origin\":\"" VEC_ORIGIN "\"}", false),
                 WEBAUTHN_MALFORMED);
    CHECK_EQ_INT(cd_check("{\"type\":\"webauthn.get\",\"challenge\":42,\"origin\":\"" VEC_ORIGIN
                          "\"}",
                          false),
                 WEBAUTHN_MALFORMED);
    /* Two origins: the check must not read one and a logger the other. */
    CHECK_EQ_INT(cd_check("{\"type\":\"webauthn.get\",\"challenge\":\"" GET_B64
                          "\",\"origin\":\"" VEC_ORIGIN "\",\"origin\":\"https://evil.example\"}",
                          false),
                 WEBAUTHN_MALFORMED);
    CHECK_EQ_INT(cd_check("{\"type\":\"webauthn.get\",\"challenge\":\"" GET_B64
                          "\",\"origin\":\"" VEC_ORIGIN "\",\"crossOrigin\":\"false\"}",
                          false),
                 WEBAUTHN_MALFORMED);
    CHECK_EQ_INT(cd_check("{\"type\":\"webauthn.get\",\"challenge\":\"" GET_B64
                          "\",\"origin\":\"" VEC_ORIGIN "\",\"crossOrigin\":true}",
                          false),
                 WEBAUTHN_BAD_ORIGIN);
    CHECK_EQ_INT(cd_check("{\"type\":\"webauthn.get\",\"challenge\":\"" GET_B64
                          "\",\"origin\":\"" VEC_ORIGIN "\",\"topOrigin\":\"" VEC_ORIGIN "\"}",
                          false),
                 WEBAUTHN_BAD_ORIGIN);
    CHECK_EQ_INT(cd_check("{\"type\":\"webauthn.get\",\"challenge\":\"" GET_B64
                          "\",\"origin\":\"" VEC_ORIGIN "\",\"tokenBinding\":{\"status\":"
                          "\"present\",\"id\":\"AAAA\"}}",
                          false),
                 WEBAUTHN_MALFORMED);
    CHECK_EQ_INT(cd_check("{\"type\":\"webauthn.get\",\"challenge\":\"" GET_B64
                          "\",\"origin\":\"" VEC_ORIGIN "\",\"tokenBinding\":{\"status\":"
                          "\"supported\"}}",
                          false),
                 WEBAUTHN_OK);
    /* The challenge: a character more or less, padding, another alphabet. */
    CHECK_EQ_INT(cd_check("{\"type\":\"webauthn.get\",\"challenge\":\"" GET_B64
                          "A\",\"origin\":\"" VEC_ORIGIN "\"}",
                          false),
                 WEBAUTHN_BAD_CHALLENGE);
    CHECK_EQ_INT(cd_check("{\"type\":\"webauthn.get\",\"challenge\":\"ZGVmZ2hpamtsbW5vcHFyc3R1"
                          "dnd4eXp7fH1+f4CBgoM\",\"origin\":\"" VEC_ORIGIN "\"}",
                          false),
                 WEBAUTHN_BAD_CHALLENGE);
    CHECK_EQ_INT(cd_check("{\"type\":\"webauthn.get\",\"challenge\":\"\",\"origin\":\"" VEC_ORIGIN
                          "\"}",
                          false),
                 WEBAUTHN_BAD_CHALLENGE);
    /* Origins compare exactly: no trailing slash, case or port games. */
    CHECK_EQ_INT(cd_check("{\"type\":\"webauthn.get\",\"challenge\":\"" GET_B64
                          "\",\"origin\":\"" VEC_ORIGIN "/\"}",
                          false),
                 WEBAUTHN_BAD_ORIGIN);
    CHECK_EQ_INT(cd_check("{\"type\":\"webauthn.get\",\"challenge\":\"" GET_B64
                          "\",\"origin\":\"https://EXAMPLE.org\"}",
                          false),
                 WEBAUTHN_BAD_ORIGIN);
    CHECK_EQ_INT(cd_check("{\"type\":\"webauthn.get\",\"challenge\":\"" GET_B64
                          "\",\"origin\":\"https://other.example.org\"}",
                          false),
                 WEBAUTHN_OK);
}

/* An empty expected challenge never matches, even an empty one sent. */
TEST(webauthn_client_data_empty_challenge)
{
    static const char cd[] =
        "{\"type\":\"webauthn.get\",\"challenge\":\"\",\"origin\":\"" VEC_ORIGIN "\"}";
    struct webauthn_expect e = expect_of("webauthn.get", false);

    e.challenge_len = 0;
    CHECK_EQ_INT(webauthn_check_client_data(&e, (const unsigned char *)cd, strlen(cd)),
                 WEBAUTHN_BAD_CHALLENGE);
}

/* clientDataJSON of 4096 bytes is read, of 4097 refused before parsing. */
TEST(webauthn_client_data_limit)
{
    static const char head[] =
        "{\"type\":\"webauthn.get\",\"challenge\":\"" GET_B64 "\",\"origin\":\"" VEC_ORIGIN "\"";
    char buf[4098];
    struct webauthn_expect e = expect_of("webauthn.get", false);

    for (size_t total = 4096; total <= 4097; total++) {
        memcpy(buf, head, sizeof head - 1);
        memset(buf + sizeof head - 1, ' ', total - sizeof head);
        buf[total - 1] = '}';
        CHECK_EQ_INT(webauthn_check_client_data(&e, (const unsigned char *)buf, total),
                     total == 4096 ? WEBAUTHN_OK : WEBAUTHN_MALFORMED);
    }
    CHECK_EQ_INT(webauthn_check_client_data(&e, (const unsigned char *)buf, 0), WEBAUTHN_MALFORMED);
}

/* CBOR the module refuses before libcbor allocates anything for it: a map
 * that claims 2^64-1 entries, indefinite lengths, tags, floats, nesting
 * past the limit, and an object over the size limit. */
TEST(webauthn_cbor_limits)
{
    const struct reg_vector *v = reg_named("none_ES256");
    struct webauthn_credential out;
    static const unsigned char huge_map[] = {0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const unsigned char huge_bytes[] = {0x5b, 0x00, 0x00, 0x00, 0x01,
                                               0x00, 0x00, 0x00, 0x00};
    static const unsigned char indefinite[] = {0xbf, 0x63, 'f', 'm', 't', 0x64,
                                               'n',  'o',  'n', 'e', 0xff};
    static const unsigned char tagged[] = {0xd8, 0x18, 0xa0};
    static const unsigned char half[] = {0xf9, 0x3c, 0x00};
    unsigned char deep[64];

    REQUIRE(v != NULL);
    CHECK_EQ_INT(reg_run(v, huge_map, sizeof huge_map, &out), WEBAUTHN_MALFORMED);
    CHECK_EQ_INT(reg_run(v, huge_bytes, sizeof huge_bytes, &out), WEBAUTHN_MALFORMED);
    CHECK_EQ_INT(reg_run(v, indefinite, sizeof indefinite, &out), WEBAUTHN_MALFORMED);
    CHECK_EQ_INT(reg_run(v, tagged, sizeof tagged, &out), WEBAUTHN_MALFORMED);
    CHECK_EQ_INT(reg_run(v, half, sizeof half, &out), WEBAUTHN_MALFORMED);
    memset(deep, 0x81, sizeof deep - 1); /* arrays of one array of ... */
    deep[sizeof deep - 1] = 0x80;
    CHECK_EQ_INT(reg_run(v, deep, sizeof deep, &out), WEBAUTHN_MALFORMED);
    unsigned char *big = calloc(1, 8193);
    REQUIRE(big != NULL);
    big[0] = 0x5a; /* a byte string of 8188 bytes: well formed, too long */
    big[3] = 0x1f;
    big[4] = 0xfc;
    CHECK_EQ_INT(reg_run(v, big, 8192, &out), WEBAUTHN_MALFORMED);
    CHECK_EQ_INT(reg_run(v, big, 8193, &out), WEBAUTHN_MALFORMED);
    free(big);
}

/* The attestation object's shape: exactly fmt, attStmt and authData, each
 * of its type. Built here from the vector's authenticator data. */
TEST(webauthn_attestation_object_shape)
{
    const struct reg_vector *v = reg_named("none_EdDSA");
    struct webauthn_credential out;
    unsigned char ao[600];

    REQUIRE(v != NULL);
    /* The vector is {"fmt": "none", "attStmt": {}, "authData": h'...'} in
     * canonical order: a3, 63 "fmt" at 1, 64 "none" at 5, 67 "attStmt" at
     * 10, a0 at 18, 68 "authData" at 19, 58 len at 28, the bytes at 30. */
    REQUIRE(v->aolen < sizeof ao && v->ao[0] == 0xa3 && v->ao[19] == 0x68 && v->ao[28] == 0x58);
    memcpy(ao, v->ao, v->aolen);
    CHECK_EQ_INT(reg_run(v, ao, v->aolen, &out), WEBAUTHN_OK);
    ao[0] = 0xa4; /* one member more than present */
    CHECK_EQ_INT(reg_run(v, ao, v->aolen, &out), WEBAUTHN_MALFORMED);
    memcpy(ao, v->ao, v->aolen);
    ao[2] = 'F'; /* "Fmt" */
    CHECK_EQ_INT(reg_run(v, ao, v->aolen, &out), WEBAUTHN_MALFORMED);
    memcpy(ao, v->ao, v->aolen);
    ao[11] = 'A'; /* "AttStmt" */
    CHECK_EQ_INT(reg_run(v, ao, v->aolen, &out), WEBAUTHN_MALFORMED);
    memcpy(ao, v->ao, v->aolen);
    ao[18] = 0x80; /* attStmt an array */
    CHECK_EQ_INT(reg_run(v, ao, v->aolen, &out), WEBAUTHN_MALFORMED);
    memcpy(ao, v->ao, v->aolen);
    ao[28] = 0x78; /* authData a text string */
    CHECK_EQ_INT(reg_run(v, ao, v->aolen, &out), WEBAUTHN_MALFORMED);
    memcpy(ao, v->ao, v->aolen);
    ao[6] = 'N'; /* fmt "None" */
    CHECK_EQ_INT(reg_run(v, ao, v->aolen, &out), WEBAUTHN_BAD_ATTESTATION);
    memcpy(ao, v->ao, v->aolen);
    ao[30 + 32] &= (unsigned char)~0x40; /* AT cleared: no credential */
    CHECK_EQ_INT(reg_run(v, ao, v->aolen, &out), WEBAUTHN_MALFORMED);
}

TEST(webauthn_status_texts)
{
    for (int s = WEBAUTHN_OK; s <= WEBAUTHN_NOMEM; s++)
        CHECK(strcmp(webauthn_status_text((enum webauthn_status)s), "unknown status") != 0);
}

/* A stored COSE key of 1200 bytes (WEBAUTHN_COSE_KEY_MAX) is read, one of
 * 1201 refused: the ES256 key of the vector with a kid that pads it. */
TEST(webauthn_cose_key_limit)
{
    const struct get_vector *v = get_named("ok_ES256");
    unsigned char key[WEBAUTHN_COSE_KEY_MAX + 1];

    REQUIRE(v != NULL && v->key[0] == 0xa5 && v->keylen == 77);
    for (size_t total = WEBAUTHN_COSE_KEY_MAX; total <= WEBAUTHN_COSE_KEY_MAX + 1; total++) {
        size_t kidlen = total - 81;
        key[0] = 0xa6; /* the five members, and kid (2) as a byte string */
        memcpy(key + 1, v->key + 1, v->keylen - 1);
        key[77] = 0x02;
        key[78] = 0x59;
        key[79] = (unsigned char)(kidlen >> 8);
        key[80] = (unsigned char)kidlen;
        memset(key + 81, 'k', kidlen);
        CHECK_EQ_INT(get_run(v, key, total, v->ad, v->adlen, v->sig, v->siglen),
                     total == WEBAUTHN_COSE_KEY_MAX ? WEBAUTHN_OK : WEBAUTHN_BAD_KEY);
    }
}

/* Authenticator data of 4096 bytes is parsed (then its signature, made for
 * other bytes, fails), of 4097 refused as too long: extensions {"x": h'...'}
 * padding it. */
TEST(webauthn_auth_data_limit)
{
    const struct get_vector *v = get_named("ok_ES256");
    unsigned char ad[4097];

    REQUIRE(v != NULL && v->adlen == 37);
    for (size_t total = 4096; total <= 4097; total++) {
        size_t blen = total - 37 - 6; /* a1 61 'x' 59 hi lo */
        memcpy(ad, v->ad, 37);
        ad[32] |= 0x80; /* ED */
        ad[37] = 0xa1;
        ad[38] = 0x61;
        ad[39] = 'x';
        ad[40] = 0x59;
        ad[41] = (unsigned char)(blen >> 8);
        ad[42] = (unsigned char)blen;
        memset(ad + 43, 0, blen);
        CHECK_EQ_INT(get_run(v, v->key, v->keylen, ad, total, v->sig, v->siglen),
                     total == 4096 ? WEBAUTHN_BAD_SIGNATURE : WEBAUTHN_MALFORMED);
    }
}
