/* core/webauthn.c: webauthn_check_client_data, the clientDataJSON checks
 * (§7.1 steps 7-10, §7.2 steps 11-14), with a fixed expectation: type
 * "webauthn.get", a 32-byte challenge, two allowed origins.
 *
 * Invariants: the status is OK or one of the client-data refusals (never
 * a key, signature or CBOR status); accepted bytes are at most 4096, a JSON
 * object (read again with jansson here) whose type, challenge (base64url of
 * the expected bytes) and origin (one of the list) are the expected ones,
 * without crossOrigin true or a topOrigin; and the same bytes under another
 * type, another challenge, or an origin list without theirs are refused
 * with exactly that cause. */
#include <jansson.h>
#include <stdbool.h>

#include "core/webauthn.h"
#include "fuzz/fuzz.h"

#define CHALLENGE_B64 "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1-f4CBgoM"

static unsigned char challenge[32];
static const char *const origins[] = {"https://example.org", "https://login.example.org:8443"};

static enum webauthn_status check(const char *type, const unsigned char *ch, size_t chlen,
                                  const char *const *list, size_t n, const uint8_t *data,
                                  size_t size)
{
    struct webauthn_expect e = {type, ch, chlen, list, n, "example.org", false};

    return webauthn_check_client_data(&e, data, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (challenge[31] == 0)
        for (int i = 0; i < 32; i++)
            challenge[i] = (unsigned char)(100 + i);
    uint8_t *copy = malloc(size > 0 ? size : 1); /* exactly size bytes, for ASan */
    FUZZ_CHECK(copy != NULL);
    if (size > 0)
        memcpy(copy, data, size);

    enum webauthn_status st = check("webauthn.get", challenge, 32, origins, 2, copy, size);
    FUZZ_CHECK(st == WEBAUTHN_OK || st == WEBAUTHN_MALFORMED || st == WEBAUTHN_BAD_TYPE ||
               st == WEBAUTHN_BAD_CHALLENGE || st == WEBAUTHN_BAD_ORIGIN);
    if (st == WEBAUTHN_OK) {
        FUZZ_CHECK(size <= 4096);
        json_t *o = json_loadb((const char *)copy, size, 0, NULL);
        FUZZ_CHECK(json_is_object(o));
        FUZZ_CHECK(strcmp(json_string_value(json_object_get(o, "type")), "webauthn.get") == 0);
        FUZZ_CHECK(strcmp(json_string_value(json_object_get(o, "challenge")), CHALLENGE_B64) == 0);
        const char *origin = json_string_value(json_object_get(o, "origin"));
        FUZZ_CHECK(strcmp(origin, origins[0]) == 0 || strcmp(origin, origins[1]) == 0);
        bool first = strcmp(origin, origins[0]) == 0; /* origin dies with o */
        FUZZ_CHECK(!json_is_true(json_object_get(o, "crossOrigin")));
        FUZZ_CHECK(json_object_get(o, "topOrigin") == NULL);
        json_decref(o);

        unsigned char other[32];
        memcpy(other, challenge, 32);
        other[31] ^= 0x80;
        FUZZ_CHECK(check("webauthn.create", challenge, 32, origins, 2, copy, size) ==
                   WEBAUTHN_BAD_TYPE);
        FUZZ_CHECK(check("webauthn.get", other, 32, origins, 2, copy, size) ==
                   WEBAUTHN_BAD_CHALLENGE);
        FUZZ_CHECK(check("webauthn.get", challenge, 31, origins, 2, copy, size) ==
                   WEBAUTHN_BAD_CHALLENGE);
        FUZZ_CHECK(check("webauthn.get", challenge, 32, first ? origins + 1 : origins, 1, copy,
                         size) == WEBAUTHN_BAD_ORIGIN);
    }
    free(copy);
    return 0;
}
