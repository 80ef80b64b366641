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
 * named in one header, the one TRUSTED_PROXY_HEADER chooses: X-Forwarded-For
 * or Forwarded (RFC 7239: for=), each hop appending the address it received
 * from, or X-Real-IP, one address the proxy sets. Anyone can send any of
 * them, so only the chosen one is read, never another in its absence (a
 * proxy that sets X-Forwarded-For passes a client's own Forwarded through
 * untouched), and it is read right to left and believed only as far as the
 * hops are trusted: starting from the peer, while the current address is in
 * the trusted list, step to the address that hop names; the first untrusted
 * address is the client. A peer outside the list is the client itself,
 * whatever it sends. When every hop is trusted, the left-most is the
 * client; when a hop names nothing usable (a malformed or obfuscated
 * address, "unknown"), the last trusted address is. Several lines of one
 * header read as one list (for X-Real-IP, which holds one address, that
 * is unusable). */
enum forwarded_header {
    FORWARDED_X_FORWARDED_FOR, /* the default */
    FORWARDED_RFC7239,         /* Forwarded */
    FORWARDED_X_REAL_IP,
};

/* The header named name (any letter case) into *out: 0, or -1 for a name
 * that is none of the three. */
int forwarded_header_parse(const char *name, enum forwarded_header *out);

/* The header's name as it is written ("X-Forwarded-For", ...). */
const char *forwarded_header_name(enum forwarded_header h);

/* Walks list (the values of header h, comma-separated, as described
 * above) from peer and writes the client into *out. */
void forwarded_client(const struct netaddr *peer, const char *list, size_t len,
                      enum forwarded_header h, const struct netaddr_cidr *trusted, size_t ntrusted,
                      struct netaddr *out);

struct MHD_Connection;

/* The client of the request on conn whose peer is peer (NULL: none), into
 * *out as a socket address (port 0), using header h when the peer is
 * trusted. Returns out, or peer itself when nothing is trusted. */
const struct sockaddr *forwarded_resolve(struct MHD_Connection *conn, const struct sockaddr *peer,
                                         enum forwarded_header h,
                                         const struct netaddr_cidr *trusted, size_t ntrusted,
                                         struct sockaddr_storage *out);

#endif
