#include "http/forwarded.h"

#include <microhttpd.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

/* Trims blanks (SP, HTAB) around s[0..*len). */
static const char *trim(const char *s, size_t *len)
{
    while (*len > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        (*len)--;
    }
    while (*len > 0 && (s[*len - 1] == ' ' || s[*len - 1] == '\t'))
        (*len)--;
    return s;
}

/* A node as both headers write it: an IPv4 address, optionally with
 * ":port"; an IPv6 address in brackets, optionally with ":port"; or (X-
 * Forwarded-For) a bare IPv6 address. 0, or -1 for anything else. */
static int parse_node(const char *s, size_t len, struct netaddr *out)
{
    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (close == NULL)
            return -1;
        size_t rest = len - (size_t)(close - s) - 1;
        if (rest > 0 && close[1] != ':')
            return -1;
        return netaddr_parse(s + 1, (size_t)(close - s - 1), out);
    }
    const char *colon = memchr(s, ':', len);
    if (colon != NULL && memchr(colon + 1, ':', len - (size_t)(colon - s) - 1) == NULL)
        len = (size_t)(colon - s); /* IPv4 with a port */
    return netaddr_parse(s, len, out);
}

/* The node of one element of Forwarded: the value of its for= parameter,
 * a token or a quoted string (RFC 7239 §4). */
static int parse_forwarded_element(const char *s, size_t len, struct netaddr *out)
{
    while (len > 0) {
        size_t n = 0;
        bool quoted = false;
        for (; n < len && (quoted || s[n] != ';'); n++)
            if (s[n] == '"')
                quoted = !quoted;
        size_t plen = n;
        const char *p = trim(s, &plen);
        if (plen > 4 && strncasecmp(p, "for=", 4) == 0) {
            p += 4;
            plen -= 4;
            if (plen >= 2 && p[0] == '"' && p[plen - 1] == '"') {
                p++;
                plen -= 2;
            }
            if (memchr(p, '"', plen) != NULL || memchr(p, '\\', plen) != NULL)
                return -1;
            return parse_node(p, plen, out);
        }
        s += n < len ? n + 1 : n;
        len -= n < len ? n + 1 : n;
    }
    return -1;
}

/* The start of the last element of s[0..len): after the last comma, which
 * in Forwarded (quoted) must lie outside a quoted string. Scanned from the
 * right, so that the elements a trusted proxy appended are found whatever
 * the client wrote on their left: a quote the client left open would
 * otherwise swallow every comma after it (found by fuzz/fuzz_forwarded.c).
 * X-Forwarded-For has no quoted strings, so there a quote is a byte. */
static size_t last_element(const char *s, size_t len, bool quoted_strings)
{
    bool quoted = false;

    for (size_t i = len; i > 0; i--) {
        if (s[i - 1] == '"' && quoted_strings)
            quoted = !quoted;
        else if (s[i - 1] == ',' && !quoted)
            return i;
    }
    return 0;
}

static const char *const header_names[] = {
    [FORWARDED_X_FORWARDED_FOR] = "X-Forwarded-For",
    [FORWARDED_RFC7239] = "Forwarded",
    [FORWARDED_X_REAL_IP] = "X-Real-IP",
};

int forwarded_header_parse(const char *name, enum forwarded_header *out)
{
    for (size_t i = 0; i < sizeof header_names / sizeof header_names[0]; i++) {
        if (strcasecmp(name, header_names[i]) == 0) {
            *out = (enum forwarded_header)i;
            return 0;
        }
    }
    return -1;
}

const char *forwarded_header_name(enum forwarded_header h)
{
    return (unsigned)h < sizeof header_names / sizeof header_names[0] ? header_names[h] : "?";
}

/* The one address of X-Real-IP: no list, so a second line (joined with a
 * comma) makes it unusable rather than a choice between two. */
static int parse_single(const char *s, size_t len, struct netaddr *out)
{
    s = trim(s, &len);
    return memchr(s, ',', len) != NULL ? -1 : parse_node(s, len, out);
}

void forwarded_client(const struct netaddr *peer, const char *list, size_t len,
                      enum forwarded_header h, const struct netaddr_cidr *trusted, size_t ntrusted,
                      struct netaddr *out)
{
    *out = *peer;
    if (h == FORWARDED_X_REAL_IP) {
        struct netaddr one;
        if (netaddr_in_cidrs(out, trusted, ntrusted) && parse_single(list, len, &one) == 0)
            *out = one;
        return;
    }
    while (netaddr_in_cidrs(out, trusted, ntrusted)) {
        /* Skip empty elements (", ,") as list syntax allows (RFC 9110 §5.6.1). */
        size_t elen;
        const char *e;
        do {
            if (len == 0)
                return; /* every hop trusted: the left-most is the client */
            size_t start = last_element(list, len, h == FORWARDED_RFC7239);
            e = list + start;
            elen = len - start;
            len = start > 0 ? start - 1 : 0;
            e = trim(e, &elen);
        } while (elen == 0);
        struct netaddr next;
        int rc = h == FORWARDED_RFC7239 ? parse_forwarded_element(e, elen, &next)
                                        : parse_node(e, elen, &next);
        if (rc != 0)
            return; /* nothing usable: the last trusted hop stands */
        *out = next;
    }
}

struct collect {
    const char *name;
    char buf[HTTP_FORWARDED_MAX];
    size_t len;
    bool overflow;
};

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    struct collect *c = cls;

    (void)kind;
    if (strcasecmp(key, c->name) != 0 || value == NULL)
        return MHD_YES;
    size_t n = strlen(value);
    if (c->len + n + 1 >= sizeof c->buf) {
        c->overflow = true;
        return MHD_NO;
    }
    if (c->len > 0)
        c->buf[c->len++] = ',';
    memcpy(c->buf + c->len, value, n);
    c->len += n;
    return MHD_YES;
}

static void to_sockaddr(const struct netaddr *a, struct sockaddr_storage *out)
{
    static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    memset(out, 0, sizeof *out);
    if (memcmp(a->b, v4mapped, 12) == 0) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)out;
        s4->sin_family = AF_INET;
        memcpy(&s4->sin_addr, a->b + 12, 4);
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)out;
        s6->sin6_family = AF_INET6;
        memcpy(&s6->sin6_addr, a->b, 16);
    }
}

const struct sockaddr *forwarded_resolve(struct MHD_Connection *conn, const struct sockaddr *peer,
                                         enum forwarded_header h,
                                         const struct netaddr_cidr *trusted, size_t ntrusted,
                                         struct sockaddr_storage *out)
{
    struct netaddr p, client;
    struct collect c;

    if (ntrusted == 0 || netaddr_from_sockaddr(peer, &p) != 0 ||
        !netaddr_in_cidrs(&p, trusted, ntrusted))
        return peer;
    /* Set field by field: an initializer would zero the whole buffer, on
     * every request, trusted proxy or not. */
    c.name = forwarded_header_name(h);
    c.len = 0;
    c.overflow = false;
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, &c);
    /* Past the bound, only the last lines could be read right to left;
     * the hop itself is all that is known for sure. */
    if (c.overflow)
        c.len = 0;
    forwarded_client(&p, c.buf, c.len, h, trusted, ntrusted, &client);
    to_sockaddr(&client, out);
    return (const struct sockaddr *)out;
}
