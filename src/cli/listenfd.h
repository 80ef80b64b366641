#ifndef GH_CLI_LISTENFD_H
#define GH_CLI_LISTENFD_H

/* Socket activation (sd_listen_fds(3)): the listening socket systemd (a
 * gatehouse.socket unit, or systemd-socket-activate) holds and passes as
 * descriptor 3 with LISTEN_FDS=1 and LISTEN_PID. The holder keeps it open
 * across restarts, so connections that arrive while no gatehouse runs wait
 * in its queue for the next one. */

#include <stddef.h>
#include <sys/socket.h>

/* Takes the inherited socket, if any (LISTEN_FDS and LISTEN_PID are unset,
 * so that no child inherits them). Returns 1 with the descriptor in *fd
 * (close-on-exec, non-blocking) and its address in addr and *addrlen; 0
 * when none was passed; -1 with a one-line reason in err when what was
 * passed cannot be served: more than one descriptor, or one that is not a
 * listening TCP socket (IPv4 or IPv6). */
int listenfd_inherited(int *fd, struct sockaddr_storage *addr, socklen_t *addrlen, char *err,
                       size_t errlen);

#endif
