#ifndef GH_HTTP_SERVER_H
#define GH_HTTP_SERVER_H

#include <sys/socket.h>

#include "api/api.h"
#include "http/forwarded.h"
#include "http/tls.h"
#include "util/netaddr.h"
#include "util/pool.h"

/* The HTTP layer on libmicrohttpd: connections, limits, routing,
 * problem+json errors, request ids, and the hand-off of slow handlers to the
 * worker pool (suspend the connection, run the job, resume). */

typedef struct http_server http_server;

#define HTTP_MAX_BODY    16384 /* bytes; exactly this much is accepted */
#define HTTP_MAX_HEADERS 16384 /* bytes of request headers in all */
#define HTTP_MAX_TARGET  8192  /* bytes of the request target (path and query); past it 414 */

struct http_options {
    const char *host; /* as configured, for messages */
    unsigned port;
    unsigned threads;
    unsigned max_connections;
    unsigned max_connections_per_address; /* 0: no limit; an IPv6 client counts by its /64 */
    unsigned idle_timeout_s;              /* nothing sent or received */
    unsigned header_timeout_s;            /* from a request's first byte to its last header */
    unsigned body_timeout_s;              /* from the last header to the body's end */
    bool access_log;
    /* TRUSTED_PROXIES: peers whose header trusted_proxy_header
     * (TRUSTED_PROXY_HEADER) names the client (http/forwarded.h); must
     * outlive the server. */
    const struct netaddr_cidr *trusted_proxies;
    size_t ntrusted_proxies;
    enum forwarded_header trusted_proxy_header;
    bool count_metrics;           /* count requests in GET /metrics (util/metrics.h) */
    struct sockaddr_storage addr; /* host and port, resolved by the caller */
    socklen_t addrlen;
    /* A socket already bound to addr and listening (cli/hostaddr.h), which
     * the server takes over (closes it when stopped, or when http_start
     * fails); else the server binds addr itself. */
    bool has_listen_fd;
    int listen_fd;
    /* HTTPS with this certificate and key (http/tls.h), which must outlive
     * the server; NULL: plain HTTP. */
    tls *tls;
    /* listen_fd is shared with the process that passed it (socket
     * activation), which keeps it for the next server: http_stop never
     * shuts it down, and drains open connections instead (see there). */
    bool inherited;
};

/* Starts serving the nroutes routes (matched in order; they must outlive
 * the server) with app as every request's context; slow routes go to
 * workers. Returns NULL (reason in err) when the address cannot be bound. */
http_server *http_start(const struct http_options *opt, const struct api_route *routes,
                        size_t nroutes, const struct api_ctx *app, pool *hashers, pool *db,
                        char *err, size_t errlen);

/* The longest http_stop drains the connections of an inherited socket:
 * answers carry Connection: close, and a connection still open past it (a
 * client's idle keep-alive) is closed with the daemon. */
#define HTTP_DRAIN_MS 2000

/* Stops accepting, lets in-flight requests finish (up to grace_ms), closes
 * every connection and frees s; returns true. The pool must still be
 * running. When a job on a worker (a password hash of a huge cost, a query
 * that hangs) still holds a connection after grace_ms, returns false with s
 * neither stopped nor freed: libmicrohttpd cannot close a connection a job
 * holds, so the caller ends the process instead (nothing that job does has
 * been acknowledged to its client). NULL: returns true. With an inherited
 * socket, requests on open connections are first served as usual, with
 * Connection: close, until every connection has closed (at most
 * HTTP_DRAIN_MS or grace_ms): new connections wait in the socket's queue
 * for the next server, and a client sees no error. */
bool http_stop(http_server *s, unsigned grace_ms);

#endif
