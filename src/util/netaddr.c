#include "util/netaddr.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <string.h>

const char *netaddr_format(const struct sockaddr *sa, char *buf, size_t len)
{
    const void *addr = NULL;
    int family = 0;

    if (sa != NULL && sa->sa_family == AF_INET) {
        family = AF_INET;
        addr = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    } else if (sa != NULL && sa->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a6)) {
            family = AF_INET;
            addr = &a6->s6_addr[12]; /* the IPv4 address is the last 4 bytes */
        } else {
            family = AF_INET6;
            addr = a6;
        }
    }
    if (addr == NULL || len == 0 || inet_ntop(family, addr, buf, (socklen_t)len) == NULL) {
        if (len >= 2)
            memcpy(buf, "-", 2);
        else if (len == 1)
            buf[0] = '\0';
    }
    return buf;
}

static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out)
{
    if (sa != NULL && sa->sa_family == AF_INET) {
        memcpy(out->b, v4mapped, 12);
        memcpy(out->b + 12, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        return 0;
    }
    if (sa != NULL && sa->sa_family == AF_INET6) {
        memcpy(out->b, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        return 0;
    }
    return -1;
}

int netaddr_parse(const char *s, size_t len, struct netaddr *out)
{
    char buf[NETADDR_MAX];

    if (len == 0 || len >= sizeof buf || memchr(s, '\0', len) != NULL)
        return -1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (memchr(buf, ':', len) == NULL) {
        memcpy(out->b, v4mapped, 12);
        return inet_pton(AF_INET, buf, out->b + 12) == 1 ? 0 : -1;
    }
    return inet_pton(AF_INET6, buf, out->b) == 1 ? 0 : -1;
}

/* True when the bits of a past the first bits are all zero. */
static bool host_bits_clear(const struct netaddr *a, unsigned bits)
{
    for (unsigned i = bits; i < 128; i++)
        if (a->b[i / 8] & (0x80u >> (i % 8)))
            return false;
    return true;
}

static int parse_cidr(const char *s, size_t len, struct netaddr_cidr *out)
{
    const char *slash = memchr(s, '/', len);
    size_t alen = slash != NULL ? (size_t)(slash - s) : len;
    unsigned max, bits;

    if (netaddr_parse(s, alen, &out->addr) != 0)
        return -1;
    bool v4 = memchr(s, ':', alen) == NULL;
    max = v4 ? 32 : 128;
    bits = max;
    if (slash != NULL) {
        const char *p = slash + 1, *end = s + len;
        if (p == end || end - p > 3)
            return -1;
        bits = 0;
        for (; p < end; p++) {
            if (*p < '0' || *p > '9')
                return -1;
            bits = bits * 10 + (unsigned)(*p - '0');
        }
        if (bits > max)
            return -1;
    }
    out->bits = v4 ? 96 + bits : bits;
    return host_bits_clear(&out->addr, out->bits) ? 0 : -1;
}

int netaddr_cidrs_parse(const char *list, struct netaddr_cidr **out, size_t *n, char *err,
                        size_t errlen)
{
    size_t cap = 1;

    *out = NULL;
    *n = 0;
    for (const char *p = list; *p != '\0'; p++)
        cap += *p == ',';
    struct netaddr_cidr *v = calloc(cap, sizeof *v);
    if (v == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (const char *p = list;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        size_t len = strcspn(p, ",");
        size_t trimmed = len;
        while (trimmed > 0 && (p[trimmed - 1] == ' ' || p[trimmed - 1] == '\t'))
            trimmed--;
        if (trimmed > 0) {
            if (parse_cidr(p, trimmed, &v[*n]) != 0) {
                snprintf(err, errlen,
                         "\"%.*s\" is not an address or an address block such as 10.0.0.0/8 "
                         "(host bits must be zero)",
                         (int)(trimmed < 60 ? trimmed : 60), p);
                free(v);
                *n = 0;
                return -1;
            }
            (*n)++;
        }
        p += len;
        if (*p == '\0')
            break;
        p++;
    }
    if (*n == 0) {
        free(v);
        v = NULL;
    }
    *out = v;
    return 0;
}

bool netaddr_in_cidrs(const struct netaddr *a, const struct netaddr_cidr *cidrs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned bits = cidrs[i].bits, whole = bits / 8, rest = bits % 8;
        if (memcmp(a->b, cidrs[i].addr.b, whole) != 0)
            continue;
        if (rest == 0 ||
            ((a->b[whole] ^ cidrs[i].addr.b[whole]) & (0xffu << (8 - rest)) & 0xffu) == 0)
            return true;
    }
    return false;
}

void netaddr_client_key(struct netaddr *a)
{
    if (memcmp(a->b, v4mapped, sizeof v4mapped) != 0)
        memset(a->b + 8, 0, 8);
}

const char *netaddr_text(const struct netaddr *a, char *buf, size_t len)
{
    struct sockaddr_in6 sa = {0};

    sa.sin6_family = AF_INET6;
    memcpy(&sa.sin6_addr, a->b, 16);
    return netaddr_format((const struct sockaddr *)&sa, buf, len);
}
