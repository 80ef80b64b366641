/* The client a request to an OAuth endpoint names (api/clientauth.h). */
#include "api/clientauth.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

#include "util/pct.h"
#include "util/utf8.h"

/* Decodes one form-encoded value of the Basic credentials (RFC 6749
 * §2.3.1: the id and the secret are each application/x-www-form-urlencoded
 * before they are joined) into dst, cap bytes and a NUL. */
static enum clientauth_status decode_value(const char *src, size_t len, char *dst, size_t cap,
                                           size_t *out_len, const char **why)
{
    switch (pct_decode(src, len, PCT_PLUS_SPACE | PCT_NO_NUL, dst, cap, out_len)) {
    case PCT_OK: break;
    case PCT_NO_ROOM: *why = "client credentials: too long"; return CLIENTAUTH_TOO_LONG;
    case PCT_BAD_ESCAPE:
    case PCT_NUL:
    default:
        *why = "Authorization: Basic credentials are not form-encoded";
        return CLIENTAUTH_MALFORMED;
    }
    dst[*out_len] = '\0';
    if (utf8_count(dst, *out_len) < 0) {
        *why = "Authorization: Basic credentials are not UTF-8";
        return CLIENTAUTH_MALFORMED;
    }
    return CLIENTAUTH_OK;
}

/* The credentials of "Basic <base64>" (RFC 7617 §2): base64 with padding
 * of id ":" secret. */
static enum clientauth_status basic(const char *cred, size_t len, struct clientauth *out,
                                    const char **why)
{
    unsigned char bin[CLIENTAUTH_BASIC_MAX / 4 * 3 + 3];
    size_t binlen = 0;
    const char *end = NULL;
    enum clientauth_status st;

    if (len == 0 || memchr(cred, ' ', len) != NULL) {
        *why = "Authorization: Basic without its credentials";
        return CLIENTAUTH_MALFORMED;
    }
    if (len > CLIENTAUTH_BASIC_MAX) {
        *why = "Authorization: Basic credentials too long";
        return CLIENTAUTH_TOO_LONG;
    }
    if (sodium_base642bin(bin, sizeof bin, cred, len, NULL, &binlen, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != cred + len) {
        sodium_memzero(bin, sizeof bin);
        *why = "Authorization: Basic credentials are not base64";
        return CLIENTAUTH_MALFORMED;
    }
    const char *text = (const char *)bin;
    const char *colon = memchr(text, ':', binlen);
    if (binlen == 1 && colon != NULL) {
        /* ":" (Swagger UI sends "Basic Og==" by default) names no client. */
        sodium_memzero(bin, sizeof bin);
        out->method = CLIENTAUTH_NONE;
        return CLIENTAUTH_OK;
    }
    if (colon == NULL || colon == text) {
        sodium_memzero(bin, sizeof bin);
        *why = "Authorization: Basic credentials are not client_id:client_secret";
        return CLIENTAUTH_MALFORMED;
    }
    size_t idl = (size_t)(colon - text);
    st = decode_value(text, idl, out->id, OIDC_CLIENT_ID_MAX, &out->idlen, why);
    if (st == CLIENTAUTH_OK)
        st = decode_value(colon + 1, binlen - idl - 1, out->secret, CLIENTAUTH_SECRET_MAX,
                          &out->secretlen, why);
    if (st == CLIENTAUTH_OK && out->idlen == 0) {
        *why = "Authorization: Basic credentials without a client_id";
        st = CLIENTAUTH_MALFORMED;
    }
    sodium_memzero(bin, sizeof bin);
    out->method = CLIENTAUTH_BASIC;
    return st;
}

/* The Basic credentials of an Authorization header, or NULL with *len 0
 * when it uses another scheme (the scheme's name is case-insensitive, RFC
 * 9110 §11.1). */
static const char *basic_credentials(const char *a, size_t *len)
{
    *len = 0;
    if (a == NULL || strncasecmp(a, "Basic", 5) != 0 || (a[5] != ' ' && a[5] != '\0'))
        return NULL;
    a += 5;
    while (*a == ' ')
        a++;
    *len = strlen(a);
    while (*len > 0 && a[*len - 1] == ' ')
        (*len)--;
    return a;
}

/* One of the body's parameters: absent (0), once (1), or the status of a
 * repeated one. */
static enum clientauth_status body_value(const struct form *f, const char *name, const char **v,
                                         size_t *len, const char **why)
{
    *v = NULL;
    *len = 0;
    if (f != NULL && form_get(f, name, v, len) == FORM_REPEATED) {
        *why = strcmp(name, "client_id") == 0 ? "client_id: repeated" : "client_secret: repeated";
        return CLIENTAUTH_REPEATED;
    }
    return CLIENTAUTH_OK;
}

static enum clientauth_status parse(const char *authorization, const struct form *f,
                                    struct clientauth *out, const char **why)
{
    const char *id, *secret, *cred;
    size_t idlen, secretlen, credlen;
    enum clientauth_status st;

    if ((st = body_value(f, "client_id", &id, &idlen, why)) != CLIENTAUTH_OK ||
        (st = body_value(f, "client_secret", &secret, &secretlen, why)) != CLIENTAUTH_OK)
        return st;
    cred = basic_credentials(authorization, &credlen);
    if (cred != NULL) {
        if (secret != NULL) {
            *why = "client authentication: Authorization: Basic and client_secret at once";
            return CLIENTAUTH_TWO_METHODS;
        }
        if ((st = basic(cred, credlen, out, why)) != CLIENTAUTH_OK)
            return st;
        if (out->method == CLIENTAUTH_NONE)
            goto body; /* the empty pair: the body decides */
        /* §4.1.3 has the client send client_id when it does not
         * authenticate; one that does may repeat it, but only its own. */
        if (id != NULL && (idlen != out->idlen || memcmp(id, out->id, idlen) != 0)) {
            *why = "client_id: not the client of the Authorization header";
            return CLIENTAUTH_MISMATCH;
        }
        return CLIENTAUTH_OK;
    }
body:
    if (id == NULL) {
        if (secret != NULL) {
            *why = "client_secret: sent without client_id";
            return CLIENTAUTH_MALFORMED;
        }
        out->method = CLIENTAUTH_NONE;
        return CLIENTAUTH_OK;
    }
    if (idlen > OIDC_CLIENT_ID_MAX) {
        *why = "client_id: too long";
        return CLIENTAUTH_TOO_LONG;
    }
    if (secret != NULL && secretlen > CLIENTAUTH_SECRET_MAX) {
        *why = "client_secret: too long";
        return CLIENTAUTH_TOO_LONG;
    }
    memcpy(out->id, id, idlen);
    out->id[idlen] = '\0';
    out->idlen = idlen;
    if (secret == NULL) {
        out->method = CLIENTAUTH_PUBLIC;
        return CLIENTAUTH_OK;
    }
    memcpy(out->secret, secret, secretlen);
    out->secret[secretlen] = '\0';
    out->secretlen = secretlen;
    out->method = CLIENTAUTH_POST;
    return CLIENTAUTH_OK;
}

enum clientauth_status clientauth_parse(const char *authorization, const struct form *f,
                                        struct clientauth *out, const char **why)
{
    const char *ignored;

    if (why == NULL)
        why = &ignored;
    *why = NULL;
    memset(out, 0, sizeof *out);
    enum clientauth_status st = parse(authorization, f, out, why);
    if (st != CLIENTAUTH_OK)
        clientauth_wipe(out);
    return st;
}

void clientauth_wipe(struct clientauth *c)
{
    sodium_memzero(c, sizeof *c);
    c->method = CLIENTAUTH_NONE;
}
