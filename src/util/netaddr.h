#ifndef GH_UTIL_NETADDR_H
#define GH_UTIL_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Client addresses as text, made only when someone asks (a log line, a
 * throttling key), never on every request. */

/* Enough for any IPv6 text form and its NUL (INET6_ADDRSTRLEN). */
#define NETADDR_MAX 46

/* Writes the address of sa without its port into buf (len bytes; at least
 * NETADDR_MAX holds any): IPv4 in dotted form, IPv6 in the RFC 5952 form
 * inet_ntop gives, and an IPv4-mapped IPv6 address (a dual-stack socket's
 * IPv4 peer) as the IPv4 address it is, so that one client has one text.
 * Returns buf, which holds "-" (cut to fit) for a NULL sa, another family,
 * or a buf too small for the address. */
const char *netaddr_format(const struct sockaddr *sa, char *buf, size_t len);

/* An IPv4 or IPv6 address as 16 bytes, IPv4 as its IPv4-mapped IPv6 form
 * (::ffff:a.b.c.d), so that one client has one key whichever socket family
 * it came through. What throttling counts by and TRUSTED_PROXIES matches. */
struct netaddr {
    unsigned char b[16];
};

/* An address block: the addresses whose first bits bits equal addr's
 * (bits counts in the 128-bit form: an IPv4 /24 is 96 + 24). */
struct netaddr_cidr {
    struct netaddr addr;
    unsigned bits;
};

/* The address of sa (AF_INET or AF_INET6) into *out. Returns 0, or -1 for
 * NULL or another family. */
int netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *out);

/* Parses the text of one address, len bytes (IPv4 dotted quad or IPv6 in
 * any form inet_pton reads), into *out. Returns 0, or -1 when it is not an
 * address (a name, a port, brackets, trailing bytes). */
int netaddr_parse(const char *s, size_t len, struct netaddr *out);

/* Parses a comma-separated list of addresses or blocks ("10.0.0.0/8,
 * ::1, 192.0.2.7"; blanks around items ignored; an address alone is a /32
 * or /128) into a malloc'd array *out of *n (NULL and 0 for an empty list).
 * Host bits set below the prefix are refused, as a likely typo. Returns 0,
 * or -1 with the offending item named in err. */
int netaddr_cidrs_parse(const char *list, struct netaddr_cidr **out, size_t *n, char *err,
                        size_t errlen);

/* True when a lies in one of the n blocks. */
bool netaddr_in_cidrs(const struct netaddr *a, const struct netaddr_cidr *cidrs, size_t n);

/* Makes *a the key that counts one client: an IPv4 address as it is, an
 * IPv6 address cut to its /64 (the rest zero). A subscriber is given at
 * least a /64 (RFC 6177), so one who counted as 2^64 clients would pass
 * every per-address limit. Throttling and MAX_CONNECTIONS_PER_ADDRESS count
 * by this key. */
void netaddr_client_key(struct netaddr *a);

/* Writes *a as text (IPv4-mapped as dotted IPv4) into buf; returns buf.
 * The server logs addresses from their sockaddr (netaddr_format); this is
 * how the tests read the struct netaddr that parsing and the throttles'
 * /64 keys produce. */
const char *netaddr_text(const struct netaddr *a, char *buf, size_t len);

#endif
