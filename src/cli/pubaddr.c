#include "cli/pubaddr.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A DNS name (lower case already) of 1..253 bytes: labels of 1..63 letters,
 * digits and '-', no '-' at either end, separated by single dots. Sets
 * *labels to their count and *numeric when the last is all digits (an
 * IPv4 address, or something that would be taken for one). */
static bool dns_name(const char *s, size_t n, int *labels, bool *numeric)
{
    size_t start = 0;

    *labels = 0;
    if (n == 0 || n > 253)
        return false;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') {
            char c = s[i];
            if (!((c >= 'a' && c <= 'z') || digit(c) || c == '-'))
                return false;
            continue;
        }
        size_t len = i - start;
        if (len == 0 || len > 63 || s[start] == '-' || s[i - 1] == '-')
            return false;
        *numeric = true;
        for (size_t k = start; k < i; k++)
            *numeric = *numeric && digit(s[k]);
        (*labels)++;
        start = i + 1;
    }
    return true;
}

/* The host of a URL's authority, s[0..n): a DNS name, an IPv4 address, or
 * an IPv6 address in brackets. */
static bool host_ok(const char *s, size_t n)
{
    char buf[64];
    int labels;
    bool numeric;

    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        struct in6_addr a6;
        if (n - 2 >= sizeof buf)
            return false;
        memcpy(buf, s + 1, n - 2);
        buf[n - 2] = '\0';
        return inet_pton(AF_INET6, buf, &a6) == 1;
    }
    if (!dns_name(s, n, &labels, &numeric))
        return false;
    if (!numeric)
        return true;
    struct in_addr a4;
    if (n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return inet_pton(AF_INET, buf, &a4) == 1;
}

static bool hex(char c)
{
    return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* RFC 3986 pchar and '/': unreserved, pct-encoded, sub-delims, ':', '@'. */
static bool path_ok(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            if (i + 2 >= n || !hex(s[i + 1]) || !hex(s[i + 2]))
                return false;
            i += 2;
            continue;
        }
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || digit(c) ||
              (c != '\0' && strchr("-._~!$&'()*+,;=:@/", c) != NULL)))
            return false;
    }
    return true;
}

#define URL_FORM "expected http(s)://host[:port][/path], e.g. https://auth.example.com"

int pubaddr_check_url(char *url, size_t *origin_len, char *err, size_t errlen)
{
    size_t n = strlen(url);

    if (n > PUBADDR_URL_MAX) {
        snprintf(err, errlen, "PUBLIC_URL: longer than %d bytes", PUBADDR_URL_MAX);
        return -1;
    }
    for (size_t i = 0; i < n && url[i] != ':'; i++)
        url[i] = lower(url[i]);
    const char *dflt = strncmp(url, "https://", 8) == 0  ? "443"
                       : strncmp(url, "http://", 7) == 0 ? "80"
                                                         : NULL;
    if (dflt == NULL) {
        snprintf(err, errlen, "PUBLIC_URL: \"%.60s\": " URL_FORM, url);
        return -1;
    }
    char *host = url + (dflt[0] == '4' ? 8 : 7);
    size_t alen = strcspn(host, "/?#");
    char *rest = host + alen;
    if (memchr(host, '@', alen) != NULL) {
        snprintf(err, errlen, "PUBLIC_URL: no user or password in the address: " URL_FORM);
        return -1;
    }
    if (strpbrk(rest, "?#") != NULL) {
        snprintf(err, errlen, "PUBLIC_URL: no query or fragment: " URL_FORM);
        return -1;
    }
    /* The port follows the last ':' outside an IPv6 address's brackets. */
    char *rb = memchr(host, ']', alen);
    char *colon = NULL;
    for (char *c = rb != NULL ? rb : host; c < rest; c++)
        if (*c == ':')
            colon = c;
    size_t hlen = colon != NULL ? (size_t)(colon - host) : alen;
    for (size_t i = 0; i < hlen; i++)
        host[i] = lower(host[i]);
    if (!host_ok(host, hlen)) {
        snprintf(err, errlen,
                 "PUBLIC_URL: \"%.*s\" is not a host name or IP address (an international name "
                 "in its xn-- form)",
                 (int)(hlen < 80 ? hlen : 80), host);
        return -1;
    }
    if (colon != NULL) {
        size_t plen = (size_t)(rest - colon - 1);
        long port = 0;
        bool ok = plen >= 1 && plen <= 5;
        for (size_t i = 0; ok && i < plen; i++) {
            ok = digit(colon[1 + i]);
            port = port * 10 + (colon[1 + i] - '0');
        }
        if (!ok || port < 1 || port > 65535) {
            snprintf(err, errlen, "PUBLIC_URL: the port must be a number from 1 to 65535");
            return -1;
        }
        /* The default port is not part of the origin a browser sends. */
        if (plen == strlen(dflt) && memcmp(colon + 1, dflt, plen) == 0) {
            memmove(colon, rest, strlen(rest) + 1);
            rest = colon;
        }
    }
    size_t rlen = strlen(rest);
    if (!path_ok(rest, rlen)) {
        snprintf(err, errlen, "PUBLIC_URL: the path \"%.60s\" holds characters a URL path cannot",
                 rest);
        return -1;
    }
    while (rlen > 0 && rest[rlen - 1] == '/')
        rest[--rlen] = '\0';
    *origin_len = (size_t)(rest - url);
    return 0;
}

/* The host of a checked URL: its start and length (an IPv6 one with its
 * brackets). */
static const char *url_host(const char *url, size_t origin_len, size_t *hlen)
{
    const char *host = strstr(url, "://") + 3;
    const char *end = url + origin_len;
    const char *rb = host[0] == '[' ? memchr(host, ']', (size_t)(end - host)) : NULL;
    const char *colon =
        memchr(rb != NULL ? rb : host, ':', (size_t)(end - (rb != NULL ? rb : host)));

    *hlen = (size_t)((colon != NULL ? colon : end) - host);
    return host;
}

/* True when host (hlen bytes) is domain (n bytes) or lies within it. */
static bool within(const char *host, size_t hlen, const char *domain, size_t n)
{
    return (hlen == n || (hlen > n && host[hlen - n - 1] == '.')) &&
           memcmp(host + hlen - n, domain, n) == 0;
}

/* An RP id: a DNS name that is no IP address. */
static bool rp_id_form(const char *s, size_t n)
{
    int labels;
    bool numeric = false;

    return dns_name(s, n, &labels, &numeric) && !numeric;
}

/* One origin of WEBAUTHN_ORIGINS, o[0..n), against rp_id. */
static int origin_check(const char *o, size_t n, const char *rp_id, char *err, size_t errlen)
{
    char buf[PUBADDR_URL_MAX + 1], why[200];
    size_t olen = 0, hlen = 0;

    if (n == 0 || n > PUBADDR_URL_MAX) {
        snprintf(err, errlen, "WEBAUTHN_ORIGINS: an origin is empty or longer than %d bytes",
                 PUBADDR_URL_MAX);
        return -1;
    }
    memcpy(buf, o, n);
    buf[n] = '\0';
    if (pubaddr_check_url(buf, &olen, why, sizeof why) != 0 || olen != n ||
        memcmp(buf, o, n) != 0) {
        snprintf(err, errlen,
                 "WEBAUTHN_ORIGINS: \"%.*s\" is not an origin as a browser sends it: "
                 "http(s)://host[:port] in lower case, without the default port or a path",
                 (int)(n < 80 ? n : 80), o);
        return -1;
    }
    const char *host = url_host(buf, olen, &hlen);
    if (!within(host, hlen, rp_id, strlen(rp_id))) {
        snprintf(err, errlen,
                 "WEBAUTHN_ORIGINS: the host of \"%.*s\" is not WEBAUTHN_RP_ID (%.80s) nor "
                 "within it (a browser would refuse the ceremony)",
                 (int)(n < 80 ? n : 80), o, rp_id);
        return -1;
    }
    return 0;
}

static char *copy(const char *s, size_t n)
{
    char *c = malloc(n + 1);

    if (c != NULL) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

int pubaddr_check_webauthn(char **rp_id, char **origins, const char *url, size_t origin_len,
                           char *err, size_t errlen)
{
    size_t hlen = 0;

    if (url == NULL) {
        if (*rp_id != NULL || *origins != NULL) {
            snprintf(err, errlen, "%s needs PUBLIC_URL (passkeys are off without it)",
                     *rp_id != NULL ? "WEBAUTHN_RP_ID" : "WEBAUTHN_ORIGINS");
            return -1;
        }
        return 0;
    }
    const char *host = url_host(url, origin_len, &hlen);
    if (*rp_id == NULL && rp_id_form(host, hlen) && (*rp_id = copy(host, hlen)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (*rp_id == NULL) {
        if (*origins != NULL) {
            snprintf(err, errlen,
                     "WEBAUTHN_ORIGINS needs WEBAUTHN_RP_ID when PUBLIC_URL's host is an IP "
                     "address (an RP id is a domain name)");
            return -1;
        }
        return 0; /* passkeys off: an IP address cannot be an RP id */
    }
    char *id = *rp_id;
    size_t n = strlen(id);
    for (size_t i = 0; i < n; i++)
        id[i] = lower(id[i]);
    if (!rp_id_form(id, n)) {
        snprintf(err, errlen,
                 "WEBAUTHN_RP_ID: \"%.60s\" is not a domain name such as example.com (an IP "
                 "address cannot be an RP id)",
                 id);
        return -1;
    }
    if (!within(host, hlen, id, n)) {
        snprintf(err, errlen,
                 "WEBAUTHN_RP_ID: PUBLIC_URL's host \"%.*s\" is not %.60s nor within it (a "
                 "browser would refuse it)",
                 (int)(hlen < 80 ? hlen : 80), host, id);
        return -1;
    }
    if (*origins == NULL) {
        if ((*origins = copy(url, origin_len)) == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        return 0;
    }
    for (const char *p = *origins;;) {
        size_t len = strcspn(p, ",");
        if (origin_check(p, len, id, err, errlen) != 0)
            return -1;
        if (p[len] == '\0')
            return 0;
        p += len + 1;
    }
}

int pubaddr_check_domain(char *domain, const char *url, size_t origin_len, char *err, size_t errlen)
{
    int labels;
    bool numeric = false;

    if (domain[0] == '.')
        memmove(domain, domain + 1, strlen(domain));
    size_t n = strlen(domain);
    for (size_t i = 0; i < n; i++)
        domain[i] = lower(domain[i]);
    if (!dns_name(domain, n, &labels, &numeric) || labels < 2 || numeric) {
        snprintf(err, errlen,
                 "COOKIE_DOMAIN: \"%.60s\" is not a domain name of two labels or more, such as "
                 "example.com",
                 domain);
        return -1;
    }
    if (url == NULL) {
        snprintf(err, errlen, "COOKIE_DOMAIN needs PUBLIC_URL, whose host must be within it");
        return -1;
    }
    const char *host = strstr(url, "://") + 3;
    size_t hlen = strcspn(host, ":/");
    if (host + hlen > url + origin_len || host[0] == '[')
        hlen = 0;
    bool within = hlen == n || (hlen > n && host[hlen - n - 1] == '.');
    if (hlen < n || !within || memcmp(host + hlen - n, domain, n) != 0) {
        snprintf(err, errlen,
                 "COOKIE_DOMAIN: PUBLIC_URL's host \"%.*s\" is not %s nor within it (a browser "
                 "would refuse the cookies)",
                 (int)(hlen < 80 ? hlen : 80), host, domain);
        return -1;
    }
    return 0;
}
