#include <string.h>
#include <strings.h>

#include "util/fwdreq.h"

/* tchar of RFC 9110 §5.6.2. */
static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static enum fwdreq_status parse_method(const char *m, struct fwdreq *out)
{
    size_t n = strlen(m);

    if (n == 0 || n > FWDREQ_METHOD_MAX)
        return FWDREQ_BAD_METHOD;
    for (size_t i = 0; i < n; i++)
        if (!is_tchar((unsigned char)m[i]))
            return FWDREQ_BAD_METHOD;
    memcpy(out->method, m, n + 1);
    return FWDREQ_OK;
}

static enum fwdreq_status parse_scheme(const char *s, size_t n, struct fwdreq *out)
{
    if (n == 4 && strncasecmp(s, "http", 4) == 0)
        memcpy(out->scheme, "http", 5);
    else if (n == 5 && strncasecmp(s, "https", 5) == 0)
        memcpy(out->scheme, "https", 6);
    else
        return FWDREQ_BAD_SCHEME;
    return FWDREQ_OK;
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* A reg-name of letters, digits, '-', '.', '_' (RFC 3986 §3.2.2 allows
 * more, but no DNS name holds it and a rule could not name it), or an
 * IP-literal in brackets of hex digits, ':' and '.', then an optional
 * ":port" of digits, kept apart (port); the rest lower-cased into out.
 * Userinfo ('@'), spaces, controls, '%' and everything else are refused:
 * a host that one reader takes for another is how rules are bypassed. */
static enum fwdreq_status parse_host(const char *s, size_t n, struct fwdreq *out)
{
    size_t i = 0, len;

    if (n > 0 && s[0] == '[') {
        for (i = 1; i < n && s[i] != ']'; i++) {
            unsigned char c = (unsigned char)s[i];
            if (!(is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
                  c == '.'))
                return FWDREQ_BAD_HOST;
        }
        if (i == n || i == 1)
            return FWDREQ_BAD_HOST;
        i++; /* the ']' */
    } else {
        for (; i < n && s[i] != ':'; i++) {
            unsigned char c = (unsigned char)s[i];
            if (!(is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
                  c == '.' || c == '_'))
                return FWDREQ_BAD_HOST;
        }
        if (i == 0)
            return FWDREQ_BAD_HOST;
    }
    len = i;
    if (len > FWDREQ_HOST_MAX)
        return FWDREQ_BAD_HOST;
    out->port[0] = '\0';
    if (i < n) {
        if (s[i] != ':')
            return FWDREQ_BAD_HOST;
        /* RFC 3986 §3.2.3: the port may be empty. */
        for (i++; i < n; i++)
            if (!is_digit((unsigned char)s[i]) || i - len > 5)
                return FWDREQ_BAD_HOST;
        memcpy(out->port, s + len + 1, n - len - 1);
        out->port[n - len - 1] = '\0';
    }
    for (i = 0; i < len; i++) {
        char c = s[i];
        out->host[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    out->host[len] = '\0';
    return FWDREQ_OK;
}

/* An origin-form target (RFC 9112 §3.2.1): '/', then visible ASCII; no
 * fragment (a client never sends one). */
static enum fwdreq_status parse_target(const char *t, size_t n, struct fwdreq *out)
{
    if (n == 0 || t[0] != '/' || n > FWDREQ_TARGET_MAX)
        return FWDREQ_BAD_TARGET;
    out->path_len = n;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c <= 0x20 || c >= 0x7f || c == '#')
            return FWDREQ_BAD_TARGET;
        if (c == '?' && out->path_len == n)
            out->path_len = i;
    }
    out->target = t;
    out->target_len = n;
    return FWDREQ_OK;
}

/* X-Original-URL: scheme "://" authority [target] (RFC 3986 §3), the
 * target "/" when it is empty. */
enum fwdreq_status fwdreq_parse_url(const char *u, struct fwdreq *out)
{
    size_t n = strlen(u);
    const char *sep = strstr(u, "://");
    enum fwdreq_status st;

    out->port[0] = '\0';
    if (n > FWDREQ_URL_MAX)
        return FWDREQ_BAD_TARGET;
    if (sep == NULL)
        return FWDREQ_BAD_SCHEME;
    if ((st = parse_scheme(u, (size_t)(sep - u), out)) != FWDREQ_OK)
        return st;
    const char *a = sep + 3, *end = u + n, *slash = a;
    while (slash < end && *slash != '/' && *slash != '?' && *slash != '#')
        slash++;
    if ((st = parse_host(a, (size_t)(slash - a), out)) != FWDREQ_OK)
        return st;
    if (slash == end) {
        out->target = "/";
        out->target_len = out->path_len = 1;
        return FWDREQ_OK;
    }
    return parse_target(slash, (size_t)(end - slash), out);
}

enum fwdreq_status fwdreq_parse(const struct fwdreq_headers *h, bool trusted,
                                const char *own_method, const char *own_host,
                                const char *own_target, struct fwdreq *out)
{
    enum fwdreq_status st;
    const char *method = own_method, *host = own_host, *target = own_target;

    memcpy(out->scheme, "http", 5);
    out->host[0] = out->port[0] = '\0';
    if (trusted) {
        if ((h->original_url != NULL) + (h->uri != NULL) + (h->original_uri != NULL) > 1)
            return FWDREQ_AMBIGUOUS;
        if (h->method != NULL)
            method = h->method;
        if (h->original_url != NULL) {
            if ((st = parse_method(method, out)) != FWDREQ_OK)
                return st;
            return fwdreq_parse_url(h->original_url, out);
        }
        if (h->proto != NULL && (st = parse_scheme(h->proto, strlen(h->proto), out)) != FWDREQ_OK)
            return st;
        if (h->host != NULL)
            host = h->host;
        if (h->uri != NULL)
            target = h->uri;
        else if (h->original_uri != NULL)
            target = h->original_uri;
    }
    if ((st = parse_method(method, out)) != FWDREQ_OK)
        return st;
    /* No Host at all (HTTP/1.0): no host, which the first rule that names
     * hosts denies (core/rules.c). An empty one is as absent (RFC 9112
     * §3.2). */
    if (host != NULL && host[0] != '\0' && (st = parse_host(host, strlen(host), out)) != FWDREQ_OK)
        return st;
    return parse_target(target, strlen(target), out);
}

const char *fwdreq_status_text(enum fwdreq_status s)
{
    switch (s) {
    case FWDREQ_OK: return "ok";
    case FWDREQ_BAD_METHOD: return "the original request's method is malformed";
    case FWDREQ_BAD_SCHEME: return "the original request's scheme is neither http nor https";
    case FWDREQ_BAD_HOST: return "the original request's host is malformed";
    case FWDREQ_BAD_TARGET: return "the original request's path is malformed";
    case FWDREQ_AMBIGUOUS:
        return "the original request is named twice (X-Original-URL, X-Forwarded-Uri, "
               "X-Original-URI: one of them)";
    }
    return "the original request is malformed";
}
