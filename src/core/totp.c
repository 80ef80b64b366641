#include "core/totp.h"

#include <liboath/oath.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

int totp_init(void)
{
    int rc = oath_init();

    if (rc != OATH_OK) {
        log_error("liboath: %s", oath_strerror(rc));
        return -1;
    }
    return 0;
}

void totp_secret_new(unsigned char secret[TOTP_SECRET_LEN])
{
    randombytes_buf(secret, TOTP_SECRET_LEN);
}

int totp_base32(const unsigned char *secret, size_t len, char out[TOTP_BASE32_MAX + 1])
{
    char *b32 = NULL;
    size_t n = 0;

    if (len > TOTP_SECRET_LEN || oath_base32_encode((const char *)secret, len, &b32, &n) != OATH_OK)
        return -1;
    /* The Key Uri Format leaves the padding out, and apps differ on
     * whether they take it. */
    while (n > 0 && b32[n - 1] == '=')
        n--;
    int rc = -1;
    if (n <= TOTP_BASE32_MAX) {
        memcpy(out, b32, n);
        out[n] = '\0';
        rc = 0;
    }
    sodium_memzero(b32, strlen(b32));
    free(b32);
    return rc;
}

int totp_code(const unsigned char *secret, size_t len, int64_t step, char out[TOTP_DIGITS + 1])
{
    /* liboath takes a time: the start of the step gives that step. */
    int rc = oath_totp_generate((const char *)secret, len, (time_t)(step * TOTP_PERIOD),
                                TOTP_PERIOD, OATH_TOTP_DEFAULT_START_TIME, TOTP_DIGITS, out);

    if (rc != OATH_OK) {
        log_error("liboath: %s", oath_strerror(rc));
        return -1;
    }
    return 0;
}

int64_t totp_match(const unsigned char *secret, size_t len, const char *code, size_t clen,
                   int64_t now, int64_t after)
{
    char want[TOTP_DIGITS + 1];
    int64_t step = now / TOTP_PERIOD, found = -1;

    /* A code of the wrong length is wrong; its length is no secret. The
     * three steps are generated and compared whatever the input, so the
     * time tells nothing about which one matched. */
    bool length_ok = clen == TOTP_DIGITS;
    for (int64_t s = step - 1; s <= step + 1; s++) {
        if (totp_code(secret, len, s, want) != 0)
            continue;
        bool same = length_ok && sodium_memcmp(want, code, TOTP_DIGITS) == 0;
        if (same && s > after)
            found = s;
    }
    sodium_memzero(want, sizeof want);
    return found;
}

/* Appends s percent-encoded: every byte but the unreserved ones of RFC
 * 3986 §2.3, so that ':' in an issuer or account cannot split the label. */
static size_t pct_encode(char *dst, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            dst[n++] = (char)*p;
        } else {
            dst[n++] = '%';
            dst[n++] = hex[*p >> 4];
            dst[n++] = hex[*p & 15];
        }
    }
    return n;
}

static size_t put(char *dst, const char *s)
{
    size_t n = strlen(s);

    memcpy(dst, s, n);
    return n;
}

char *totp_uri(const char *issuer, const char *account, const char *base32)
{
    size_t cap = 3 * (2 * strlen(issuer) + strlen(account)) + strlen(base32) + 128;
    char *u = malloc(cap);

    if (u == NULL)
        return NULL;
    /* Key Uri Format: the issuer prefixes the label and is repeated as a
     * parameter (apps that read only one of the two agree). */
    size_t n = put(u, "otpauth://totp/");
    n += pct_encode(u + n, issuer);
    n += put(u + n, ":");
    n += pct_encode(u + n, account);
    n += put(u + n, "?secret=");
    n += put(u + n, base32);
    n += put(u + n, "&issuer=");
    n += pct_encode(u + n, issuer);
    n += put(u + n, "&algorithm=SHA1&digits=6&period=30");
    u[n] = '\0';
    return u;
}
