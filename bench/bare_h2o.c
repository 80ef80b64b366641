/* bench/bare_h2o.c: the bare hello of bench/bare.c on the other HTTP library
 * Debian 12 ships, libh2o-evloop 2.2.5 (h2o as a library with its own epoll
 * loop), for issue 13's "is libmicrohttpd the limit" question. Every request,
 * whatever its method and path, gets 200 with the fixed body {"status":"ok"}
 * and Content-Type application/json, HTTP/1.1 keep-alive; one event-loop
 * thread; listens on 127.0.0.1:PORT with a backlog of 1024; a connection may
 * wait 60 s for its next request, as in bare.c. Like libmicrohttpd, h2o adds
 * a Date header; it also sends Connection: keep-alive (its Server header is
 * turned off).
 *
 *   apt-get install libh2o-evloop-dev   (bench only; not needed by make test)
 *   make build/bench-bare-h2o && build/bench-bare-h2o PORT
 *
 * It stops on SIGINT or SIGTERM. */
#define H2O_USE_LIBUV 0 /* the evloop flavour: Debian's libh2o-evloop is built so */
#include <arpa/inet.h>
#include <errno.h>
#include <h2o.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char BODY[] = "{\"status\":\"ok\"}";
static const char TYPE[] = "application/json";

static volatile sig_atomic_t stop_requested;
static h2o_accept_ctx_t accept_ctx;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* The body is static and sent whole with H2O_SEND_STATE_FINAL, so h2o never
 * asks the generator for more: it needs no callbacks. */
static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    static h2o_generator_t generator = {NULL, NULL};
    h2o_iovec_t body = h2o_iovec_init(BODY, sizeof BODY - 1);

    (void)self;
    req->res.status = 200;
    req->res.reason = "OK";
    req->res.content_length = body.len;
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, TYPE,
                   sizeof TYPE - 1);
    h2o_start_response(req, &generator);
    h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
    return 0;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err != NULL)
        return;
    /* Take every connection the backlog holds now, as bare.c's
     * libmicrohttpd does on a readable listening socket. */
    for (;;) {
        h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
        if (sock == NULL)
            return;
        h2o_accept(&accept_ctx, sock);
    }
}

static int listen_on(h2o_evloop_t *loop, unsigned port)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int on = 1;
    if (fd < 0)
        return -1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0 ||
        bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 || listen(fd, 1024) != 0) {
        close(fd);
        return -1;
    }
    h2o_socket_t *sock = h2o_evloop_socket_create(loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    h2o_socket_read_start(sock, on_accept);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 2;
    }
    unsigned port = (unsigned)strtoul(argv[1], NULL, 10);
    if (port == 0 || port > 65535) {
        fprintf(stderr, "bench-bare-h2o: bad PORT\n");
        return 2;
    }

    /* No SA_RESTART: a signal ends the loop's epoll_wait early. The wait is
     * also bounded (below), so a signal that lands between the check and the
     * wait is seen within a second. */
    struct sigaction sa = {.sa_handler = on_stop_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    static h2o_globalconf_t config;
    static h2o_context_t ctx;
    h2o_config_init(&config);
    config.http1.req_timeout = 60 * 1000;         /* bare.c's 60 s connection timeout */
    config.server_name = h2o_iovec_init(NULL, 0); /* no Server header, as in bare.c */
    h2o_hostconf_t *host =
        h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), (uint16_t)port);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    h2o_handler_t *handler = h2o_create_handler(path, sizeof *handler);
    handler->on_req = on_req;

    h2o_evloop_t *loop = h2o_evloop_create();
    h2o_context_init(&ctx, loop, &config);
    accept_ctx.ctx = &ctx;
    accept_ctx.hosts = config.hosts;
    if (listen_on(loop, port) != 0) {
        fprintf(stderr, "bench-bare-h2o: cannot listen on 127.0.0.1:%u: %s\n", port,
                strerror(errno));
        return 1;
    }
    fprintf(stderr, "bench-bare-h2o: listening on 127.0.0.1:%u, 1 thread (libh2o-evloop %s)\n",
            port, H2O_VERSION);
    while (!stop_requested)
        h2o_evloop_run(loop, 1000);
    return 0;
}
