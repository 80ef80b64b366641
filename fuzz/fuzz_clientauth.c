/* api/clientauth.c: the client an OAuth request names, from its
 * Authorization header and its form body (RFC 6749 §2.3.1). Input: a mode
 * byte (bit 0: no header), then the header's value, a NUL, the form body. */
#include <sodium.h>
#include <strings.h>

#include "api/clientauth.h"
#include "fuzz/fuzz.h"
#include "util/utf8.h"

/* Percent-encodes every byte of s (n bytes) into dst: the encoding a
 * client applies before joining id and secret (§2.3.1). */
static size_t encode(char *dst, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t k = 0;

    for (size_t i = 0; i < n; i++) {
        dst[k++] = '%';
        dst[k++] = hex[(unsigned char)s[i] >> 4];
        dst[k++] = hex[(unsigned char)s[i] & 15];
    }
    return k;
}

/* The form's value of name, or NULL. */
static const char *value(const struct form *f, const char *name, size_t *len)
{
    const char *v = NULL;

    *len = 0;
    return form_get(f, name, &v, len) == FORM_FOUND ? v : NULL;
}

static void check_ok(const char *header, const struct form *f, const struct clientauth *c)
{
    size_t idlen, seclen;
    const char *id = value(f, "client_id", &idlen);
    const char *secret = value(f, "client_secret", &seclen);
    bool basic = header != NULL && strncasecmp(header, "basic", 5) == 0;

    FUZZ_CHECK(c->idlen <= OIDC_CLIENT_ID_MAX && c->secretlen <= CLIENTAUTH_SECRET_MAX);
    FUZZ_CHECK(c->id[c->idlen] == '\0' && strlen(c->id) == c->idlen);
    FUZZ_CHECK(c->secret[c->secretlen] == '\0' && strlen(c->secret) == c->secretlen);
    FUZZ_CHECK(utf8_count(c->id, c->idlen) >= 0 && utf8_count(c->secret, c->secretlen) >= 0);
    switch (c->method) {
    case CLIENTAUTH_NONE:
        FUZZ_CHECK(c->idlen == 0 && c->secretlen == 0 && id == NULL && secret == NULL);
        break;
    case CLIENTAUTH_BASIC:
        /* One method only, and a client_id beside it is the same one. */
        FUZZ_CHECK(basic && secret == NULL && c->idlen > 0);
        FUZZ_CHECK(id == NULL || (idlen == c->idlen && memcmp(id, c->id, idlen) == 0));
        break;
    case CLIENTAUTH_POST:
        FUZZ_CHECK(id != NULL && idlen == c->idlen && memcmp(id, c->id, idlen) == 0);
        FUZZ_CHECK(secret != NULL && seclen == c->secretlen &&
                   memcmp(secret, c->secret, seclen) == 0);
        break;
    case CLIENTAUTH_PUBLIC:
        FUZZ_CHECK(id != NULL && idlen == c->idlen && memcmp(id, c->id, idlen) == 0);
        FUZZ_CHECK(secret == NULL && c->secretlen == 0);
        break;
    default: FUZZ_CHECK(0);
    }
    if (c->method == CLIENTAUTH_POST || c->method == CLIENTAUTH_PUBLIC) {
        /* The body decides only when the header is not a client's. */
        struct clientauth again;
        enum clientauth_status st = clientauth_parse(NULL, f, &again, NULL);
        FUZZ_CHECK(st == CLIENTAUTH_OK && again.method == c->method);
        clientauth_wipe(&again);
    }
}

/* The values of an accepted Basic header, encoded again by the rules a
 * client follows, read back the same. */
static void check_round_trip(const struct clientauth *c)
{
    char joined[3 * (OIDC_CLIENT_ID_MAX + CLIENTAUTH_SECRET_MAX) + 2];
    size_t n = encode(joined, c->id, c->idlen);

    joined[n++] = ':';
    n += encode(joined + n, c->secret, c->secretlen);
    size_t b64len = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *header = malloc(6 + b64len);
    FUZZ_CHECK(header != NULL);
    memcpy(header, "Basic ", 6);
    sodium_bin2base64(header + 6, b64len, (const unsigned char *)joined, n,
                      sodium_base64_VARIANT_ORIGINAL);
    struct clientauth again;
    enum clientauth_status st = clientauth_parse(header, NULL, &again, NULL);
    if (strlen(header + 6) <= CLIENTAUTH_BASIC_MAX) {
        FUZZ_CHECK(st == CLIENTAUTH_OK && again.method == CLIENTAUTH_BASIC);
        FUZZ_CHECK(again.idlen == c->idlen && memcmp(again.id, c->id, c->idlen) == 0);
        FUZZ_CHECK(again.secretlen == c->secretlen &&
                   memcmp(again.secret, c->secret, c->secretlen) == 0);
    } else {
        FUZZ_CHECK(st == CLIENTAUTH_TOO_LONG);
    }
    clientauth_wipe(&again);
    free(header);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned mode = data[0];
    char *text = fuzz_strndup(data + 1, size - 1);
    size_t hlen = strlen(text);
    const char *body = hlen < size - 1 ? text + hlen + 1 : "";
    size_t blen = hlen < size - 1 ? size - 1 - hlen - 1 : 0;
    const char *header = (mode & 1) ? NULL : text;
    struct form f;
    struct clientauth c;
    const char *why = NULL;

    if (form_parse(body, blen, &f) != FORM_OK) {
        free(text);
        return 0;
    }
    enum clientauth_status st = clientauth_parse(header, &f, &c, &why);
    if (st == CLIENTAUTH_OK) {
        FUZZ_CHECK(why == NULL);
        check_ok(header, &f, &c);
        if (c.method == CLIENTAUTH_BASIC)
            check_round_trip(&c);
    } else {
        /* A refusal says why, and keeps nothing of what it read. */
        FUZZ_CHECK(st <= CLIENTAUTH_TOO_LONG && why != NULL && why[0] != '\0');
        FUZZ_CHECK(c.method == CLIENTAUTH_NONE && c.idlen == 0 && c.secretlen == 0 &&
                   c.id[0] == '\0');
    }
    clientauth_wipe(&c);
    form_free(&f);
    free(text);
    return 0;
}
