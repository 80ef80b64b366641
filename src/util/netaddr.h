#ifndef GH_UTIL_NETADDR_H
#define GH_UTIL_NETADDR_H

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

#endif
