#include "cli/listenfd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>

/* Only TCP: the HTTP layer knows its clients by IP address (rate limits,
 * MAX_CONNECTIONS_PER_ADDRESS, TRUSTED_PROXIES). */
static bool tcp_family(int fd, int family)
{
    return sd_is_socket_inet(fd, family, SOCK_STREAM, 1, 0) > 0;
}

int listenfd_inherited(int *fd, struct sockaddr_storage *addr, socklen_t *addrlen, char *err,
                       size_t errlen)
{
    int n = sd_listen_fds(1);

    if (n < 0) {
        snprintf(err, errlen, "LISTEN_FDS: cannot take the inherited sockets: %s", strerror(-n));
        return -1;
    }
    if (n == 0)
        return 0;
    if (n > 1) {
        snprintf(err, errlen,
                 "LISTEN_FDS: %d sockets passed, gatehouse serves one (one ListenStream= "
                 "in gatehouse.socket)",
                 n);
        return -1;
    }
    int d = SD_LISTEN_FDS_START;
    if (!tcp_family(d, AF_INET) && !tcp_family(d, AF_INET6)) {
        snprintf(err, errlen,
                 "LISTEN_FDS: descriptor %d is not a listening TCP socket (IPv4 or IPv6 "
                 "ListenStream= in gatehouse.socket)",
                 d);
        return -1;
    }
    *addrlen = sizeof *addr;
    int flags = fcntl(d, F_GETFL);
    if (getsockname(d, (struct sockaddr *)addr, addrlen) != 0 || flags < 0 ||
        fcntl(d, F_SETFL, flags | O_NONBLOCK) != 0 || fcntl(d, F_SETFD, FD_CLOEXEC) != 0) {
        snprintf(err, errlen, "LISTEN_FDS: descriptor %d: %s", d, strerror(errno));
        return -1;
    }
    *fd = d;
    return 1;
}
