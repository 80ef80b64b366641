#ifndef GH_HTTP_FORWARDED_H
#define GH_HTTP_FORWARDED_H

#include <stddef.h>
#include <sys/socket.h>

#include "util/netaddr.h"

/* Bytes of one forwarding header (all its lines) read; a longer one is
 * ignored (the peer is taken for the client). */
#define HTTP_FORWARDED_MAX 8192

/* The client address of a request behind proxies (TRUSTED_PROXIES).
 *
 * A proxy's peer address is the proxy's, and the client it forwards for is
 * named in Forwarded (RFC 7239: for=) or X-Forwarded-For, each hop
 * appending the address it received from. Anyone can send those headers,
 * so they are read right to left and believed only as far as the hops are
 * trusted: starting from the peer, while the current address is in the
 * trusted list, step to the address that hop names; the first untrusted
 * address is the client. A peer outside the list is the client itself,
 * whatever it sends. When every hop is trusted, the left-most is the
 * client; when a hop names nothing usable (a malformed or obfuscated
 * address, "unknown"), the last trusted address is. Forwarded wins when
 * both are present; several lines of one header read as one list. */

/* Walks list (the values of one header, comma-separated, as described
 * above; forwarded: true for RFC 7239 syntax, false for X-Forwarded-For)
 * from peer and writes the client into *out. */
void forwarded_client(const struct netaddr *peer, const char *list, size_t len, bool forwarded,
                      const struct netaddr_cidr *trusted, size_t ntrusted, struct netaddr *out);

struct MHD_Connection;

/* The client of the request on conn whose peer is peer (NULL: none), into
 * *out as a socket address (port 0), using the headers when the peer is
 * trusted. Returns out, or peer itself when nothing is trusted. */
const struct sockaddr *forwarded_resolve(struct MHD_Connection *conn, const struct sockaddr *peer,
                                         const struct netaddr_cidr *trusted, size_t ntrusted,
                                         struct sockaddr_storage *out);

#endif
