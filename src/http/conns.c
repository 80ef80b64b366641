#include "http/conns.h"

#include <linux/tcp.h> /* tcp_info with tcpi_bytes_received; glibc's lacks it */
#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "util/timefmt.h"

/* The connections one client key holds. */
struct conn_count {
    struct conn_count *next;
    struct netaddr key;
    unsigned n;
};

/* Chains enough for a table this size to stay short; past it they grow
 * longer, but a client only ever walks its own. */
#define CONNS_MAX_BUCKETS 65536

static void *conn_sweep(void *arg);

int conns_init(struct http_conns *cs, unsigned max_connections, unsigned per_address,
               unsigned header_timeout_ms)
{
    memset(cs, 0, sizeof *cs);
    cs->header_timeout_ms = header_timeout_ms;
    cs->per_address = per_address;
    stopper_init(&cs->sweeper);
    if (per_address > 0) {
        size_t n = 64;
        while (n < max_connections && n < CONNS_MAX_BUCKETS)
            n *= 2;
        cs->buckets = calloc(n, sizeof *cs->buckets);
        if (cs->buckets == NULL)
            return -1;
        cs->nbuckets = n;
        randombytes_buf(cs->hash_key, sizeof cs->hash_key);
    }
    pthread_mutex_init(&cs->lock, NULL);
    if (stopper_start(&cs->sweeper, conn_sweep, cs) != 0) {
        pthread_mutex_destroy(&cs->lock);
        free(cs->buckets);
        return -1;
    }
    return 0;
}

void conns_destroy(struct http_conns *cs)
{
    stopper_stop(&cs->sweeper);
    pthread_mutex_destroy(&cs->lock);
    for (size_t i = 0; i < cs->nbuckets; i++) {
        while (cs->buckets[i] != NULL) {
            struct conn_count *e = cs->buckets[i];
            cs->buckets[i] = e->next;
            free(e);
        }
    }
    free(cs->buckets);
}

static struct conn_count **chain_of(const struct http_conns *cs, const struct netaddr *key)
{
    unsigned char h[crypto_shorthash_BYTES];
    uint64_t v;

    crypto_shorthash(h, key->b, sizeof key->b, cs->hash_key);
    memcpy(&v, h, sizeof v);
    return &cs->buckets[v & (cs->nbuckets - 1)];
}

/* Counts c for the client at addr, under cs->lock. Returns false when the
 * client already holds its share (or no memory is left to count it): c is
 * then not counted. */
static bool count_in(struct http_conns *cs, struct conn *c, const struct sockaddr *addr)
{
    struct netaddr key;

    if (cs->per_address == 0)
        return true;
    if (netaddr_from_sockaddr(addr, &key) != 0)
        return true; /* not an IP peer: nothing to count by */
    netaddr_client_key(&key);
    struct conn_count **chain = chain_of(cs, &key), *e = *chain;
    while (e != NULL && memcmp(e->key.b, key.b, sizeof key.b) != 0)
        e = e->next;
    if (e == NULL) {
        e = calloc(1, sizeof *e);
        if (e == NULL)
            return false;
        e->key = key;
        e->next = *chain;
        *chain = e;
    }
    if (e->n >= cs->per_address)
        return false;
    e->n++;
    c->count = e;
    return true;
}

/* Uncounts c, under cs->lock; the entry goes with its last connection. */
static void count_out(struct http_conns *cs, struct conn *c)
{
    struct conn_count *e = c->count;

    if (e == NULL || --e->n > 0)
        return;
    struct conn_count **p = chain_of(cs, &e->key);
    while (*p != e)
        p = &(*p)->next;
    *p = e->next;
    free(e);
}

static void opened(struct http_conns *cs, struct MHD_Connection *conn, void **socket_context)
{
    const union MHD_ConnectionInfo *fd =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *peer =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    struct conn *c = calloc(1, sizeof *c);

    if (fd == NULL) {
        free(c);
        return;
    }
    pthread_mutex_lock(&cs->lock);
    bool admitted = c != NULL && count_in(cs, c, peer != NULL ? peer->client_addr : NULL);
    if (admitted) {
        c->fd = fd->connect_fd;
        atomic_init(&c->phase, CONN_WAIT);
        c->next = cs->list;
        if (cs->list != NULL)
            cs->list->prev = c;
        cs->list = c;
    }
    pthread_mutex_unlock(&cs->lock);
    if (!admitted) {
        /* Over the client's share, or without memory to keep the limits:
         * closed before a byte is read, as libmicrohttpd's own limit did.
         * libmicrohttpd sees the client leave and closes it. */
        free(c);
        shutdown(fd->connect_fd, SHUT_RDWR);
        return;
    }
    *socket_context = c;
}

void conns_notify(struct http_conns *cs, struct MHD_Connection *conn, void **socket_context,
                  enum MHD_ConnectionNotificationCode code, void (*free_spare)(struct request *))
{
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        opened(cs, conn, socket_context);
        return;
    }
    /* Closed: libmicrohttpd closes the socket after this returns, so the
     * sweeper never shuts down a descriptor that was reused. */
    struct conn *c = *socket_context;
    if (c == NULL)
        return;
    pthread_mutex_lock(&cs->lock);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        cs->list = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    count_out(cs, c);
    pthread_mutex_unlock(&cs->lock);
    if (c->spare != NULL)
        free_spare(c->spare);
    free(c);
    *socket_context = NULL;
}

struct conn *conns_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci != NULL ? ci->socket_context : NULL;
}

void conn_set(struct conn *c, enum conn_phase phase, unsigned timeout_ms)
{
    if (c == NULL)
        return;
    if (phase == CONN_HEAD || phase == CONN_BODY)
        atomic_store(&c->deadline_ms, timefmt_monotonic_ms() + timeout_ms);
    atomic_store(&c->phase, phase);
}

void conn_request_ended(struct conn *c)
{
    if (c == NULL)
        return;
    atomic_fetch_add(&c->gen, 1);
    atomic_store(&c->phase, CONN_WAIT);
}

/* Bytes the kernel has received on fd in all (0 when it cannot say). */
static uint64_t bytes_received(MHD_socket fd)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;

    memset(&ti, 0, sizeof ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof ti.tcpi_bytes_received)
        return 0;
    return ti.tcpi_bytes_received;
}

/* Once a second: a connection between requests whose next request has
 * begun to arrive (the kernel counted new bytes) gets its header deadline;
 * one past its header or body deadline is shut down, which libmicrohttpd
 * sees as the client leaving and closes. A connection that sends nothing
 * is left to libmicrohttpd's idle timeout. */
static void *conn_sweep(void *arg)
{
    struct http_conns *cs = arg;

    while (!stopper_wait(&cs->sweeper, 1000)) {
        int64_t now = timefmt_monotonic_ms();
        pthread_mutex_lock(&cs->lock);
        for (struct conn *c = cs->list; c != NULL; c = c->next) {
            int phase = atomic_load(&c->phase);
            if (phase == CONN_WAIT) {
                unsigned gen = atomic_load(&c->gen);
                uint64_t rx = bytes_received(c->fd);
                if (gen != c->swept_gen) {
                    c->swept_gen = gen;
                    c->rx_base = rx;
                } else if (rx > c->rx_base) {
                    /* Unless the HTTP thread has moved on meanwhile. */
                    int expect = CONN_WAIT;
                    if (atomic_compare_exchange_strong(&c->phase, &expect, CONN_HEAD))
                        atomic_store(&c->deadline_ms, now + cs->header_timeout_ms);
                }
            } else if ((phase == CONN_HEAD || phase == CONN_BODY) &&
                       now > atomic_load(&c->deadline_ms)) {
                shutdown(c->fd, SHUT_RDWR);
                atomic_store(&c->phase, CONN_BUSY); /* once */
            }
        }
        pthread_mutex_unlock(&cs->lock);
    }
    return NULL;
}
