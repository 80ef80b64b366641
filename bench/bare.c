/* bench/bare.c: the ceiling for gatehouse's fast path. A libmicrohttpd
 * server with gatehouse's daemon flags and connection options
 * (src/http/server.c: one internal epoll thread unless THREADS says more,
 * suspend/resume allowed, a 48 KiB connection pool, 60 s idle timeout,
 * backlog 1024) that answers every request with a fixed JSON body, queued on
 * the second access-handler call as gatehouse does. Whatever gatehouse's
 * /verify does on top of this is the cost of gatehouse.
 *
 *   make bench-bare && build/bench-bare PORT [THREADS]
 *
 * It stops on SIGINT or SIGTERM. */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char BODY[] = "{\"status\":\"ok\"}";

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    static int first_call_marker;
    struct MHD_Response *r = cls;

    (void)url;
    (void)method;
    (void)version;
    (void)upload_data;
    if (*con_cls == NULL) {
        *con_cls = &first_call_marker;
        return MHD_YES;
    }
    /* A body is read and dropped, as a handler that reads its JSON would
     * read it; the answer goes once it has all come (libmicrohttpd refuses
     * one queued while upload data is pending). */
    if (*upload_data_size != 0) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    return MHD_queue_response(conn, MHD_HTTP_OK, r);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s PORT [THREADS]\n", argv[0]);
        return 2;
    }
    unsigned port = (unsigned)strtoul(argv[1], NULL, 10);
    unsigned threads = argc == 3 ? (unsigned)strtoul(argv[2], NULL, 10) : 1;
    if (port == 0 || port > 65535 || threads == 0 || threads > 64) {
        fprintf(stderr, "bench-bare: bad PORT or THREADS\n");
        return 2;
    }

    struct MHD_Response *r =
        MHD_create_response_from_buffer(sizeof BODY - 1, (void *)BODY, MHD_RESPMEM_PERSISTENT);
    if (r == NULL || MHD_add_response_header(r, "Content-Type", "application/json") == MHD_NO)
        return 1;

    /* Blocked before libmicrohttpd's threads start, which inherit the mask,
     * so that only sigwait below takes them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_CONNECTION_LIMIT, 4096, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)(48 * 1024), NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, 60, NULL},
        {MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL},
        {threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, (intptr_t)threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d =
        MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, r, MHD_OPTION_SOCK_ADDR,
                         (struct sockaddr *)&sin, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (d == NULL) {
        fprintf(stderr, "bench-bare: cannot listen on 127.0.0.1:%u\n", port);
        return 1;
    }
    fprintf(stderr, "bench-bare: listening on 127.0.0.1:%u, %u thread(s)\n", port, threads);
    int sig;
    sigwait(&stop, &sig);
    MHD_stop_daemon(d);
    MHD_destroy_response(r);
    return 0;
}
