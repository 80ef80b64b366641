#ifndef GH_CLI_HOSTADDR_H
#define GH_CLI_HOSTADDR_H

/* The address to listen on, from HOST (an IP address or a host name) and
 * PORT. Resolved while the settings are validated, so that a HOST that names
 * nothing stops the program before it opens the database. */

#include <netdb.h>
#include <stddef.h>
#include <sys/socket.h>

/* Resolves host with port into out and *outlen. A name with several
 * addresses gives the one hostaddr_pick chooses. Returns 0, or -1 with a
 * one-line reason naming HOST in err. */
int hostaddr_resolve(const char *host, unsigned port, struct sockaddr_storage *out,
                     socklen_t *outlen, char *err, size_t errlen);

/* The entry of list to listen on: the first IPv4 address, else the first IPv6
 * address, else NULL. gatehouse listens on one address; preferring IPv4 makes
 * HOST=localhost (127.0.0.1 and ::1) reachable at 127.0.0.1, the default
 * HOST, while a client that dials the name tries each of its addresses in
 * turn. getaddrinfo's own order (RFC 6724) would often put ::1 first. */
const struct addrinfo *hostaddr_pick(const struct addrinfo *list);

/* Writes addr as "127.0.0.1:8000" or "[::1]:8000" into buf (cap bytes) and
 * returns buf; "?" when getnameinfo cannot format it. */
char *hostaddr_format(const struct sockaddr *addr, socklen_t len, char *buf, size_t cap);

/* A socket bound to addr and listening (backlog connections may wait),
 * close-on-exec and non-blocking, for the HTTP server to take over. Made
 * before anything else is opened, so that a port in use stops the start
 * with nothing created. Returns the descriptor, or -1 with "cannot listen
 * on ADDRESS: reason" in err. */
int hostaddr_listen(const struct sockaddr_storage *addr, socklen_t len, int backlog, char *err,
                    size_t errlen);

#endif
