#ifndef GH_HTTP_CONNS_H
#define GH_HTTP_CONNS_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "util/netaddr.h"
#include "util/stopper.h"

/* The connections of one HTTP server: their read deadlines, and how many
 * each client holds (MAX_CONNECTIONS_PER_ADDRESS). libmicrohttpd's own
 * timeout is an idle one, so a client that sends a byte every few seconds
 * would hold a connection for ever without the deadlines; and its own
 * per-address limit counts each IPv6 address apart, so that one /64 could
 * fill every slot. */

/* What a connection is doing, for the read deadlines. */
enum conn_phase {
    CONN_WAIT, /* between requests, nothing of the next one seen yet */
    CONN_HEAD, /* reading a request line and headers */
    CONN_BODY, /* reading a body */
    CONN_BUSY, /* the request is in; running or answering */
};

struct request;
struct conn_count;

/* One open connection; its socket context in libmicrohttpd. */
struct conn {
    struct conn *prev, *next; /* http_conns.list, under lock */
    MHD_socket fd;
    struct conn_count *count; /* its client's entry; NULL when not counted */
    _Atomic int phase;
    _Atomic int64_t deadline_ms; /* CONN_HEAD, CONN_BODY: monotonic */
    atomic_uint gen;             /* counts the requests ended */
    unsigned swept_gen;          /* the sweeper's own, like rx_base */
    uint64_t rx_base;            /* bytes received when the wait began */
    /* The object of the connection's last request, for its next one; only
     * the connection's own thread touches it (http/server.c owns it, and
     * it holds nothing but its own block when kept here). */
    struct request *spare;
    /* The certificate and key its TLS handshake took (http/tls.h), held
     * until it closes; NULL over plain HTTP. Its own thread only. */
    void *tls_hold;
};

struct http_conns {
    pthread_mutex_t lock;
    struct conn *list;
    struct stopper sweeper;
    unsigned header_timeout_ms;
    unsigned per_address; /* 0: no limit */
    /* Connections per client key (netaddr_client_key), chained, in a
     * table placed by a keyed hash so that no client can crowd one chain. */
    struct conn_count **buckets;
    size_t nbuckets; /* a power of two */
    unsigned char hash_key[16];
};

/* Readies cs for connections from at most per_address clients of one key
 * (0: any number) among up to max_connections, with header_timeout_ms for
 * a request's line and headers, and starts the deadline thread. Returns 0,
 * or -1 without memory or a thread. */
int conns_init(struct http_conns *cs, unsigned max_connections, unsigned per_address,
               unsigned header_timeout_ms);

/* Stops the deadline thread and frees cs; every connection must be closed. */
void conns_destroy(struct http_conns *cs);

/* MHD_OPTION_NOTIFY_CONNECTION's work, cls being cs: a new connection is
 * counted and tracked (one past its client's limit, or one that finds no
 * memory, is shut down at once, which libmicrohttpd sees as the client
 * leaving); a closed one is forgotten (free_spare frees its spare). */
void conns_notify(struct http_conns *cs, struct MHD_Connection *conn, void **socket_context,
                  enum MHD_ConnectionNotificationCode code, void (*free_spare)(struct request *));

/* The tracked connection of conn, or NULL. */
struct conn *conns_of(struct MHD_Connection *conn);

/* Starts a read deadline of timeout_ms (CONN_HEAD, CONN_BODY) or ends it;
 * c may be NULL. */
void conn_set(struct conn *c, enum conn_phase phase, unsigned timeout_ms);

/* A request on c has ended: the connection waits for its next one. */
void conn_request_ended(struct conn *c);

#endif
