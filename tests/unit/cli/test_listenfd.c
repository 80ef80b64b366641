/* cli/listenfd: the socket systemd passes (LISTEN_FDS, LISTEN_PID): one
 * listening TCP socket is taken, anything else refused with a reason. Each
 * case runs in a child process, whose descriptor 3 and environment it may
 * set as systemd would. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/listenfd.h"
#include "test.h"

enum passed { NONE, TCP_LISTENING, TCP_BOUND, UDP, UNIX_LISTENING, FILE_FD, TWO_TCP, OTHER_PID };

static int tcp_socket(bool listening, unsigned short *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        (listening && listen(fd, 8) != 0) || getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        _exit(90);
    *port = ntohs(a.sin_port);
    return fd;
}

static int unix_socket(void)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    /* An abstract address: nothing left behind in the file system. */
    snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "gh-listenfd-%ld", (long)getpid());
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 8) != 0)
        _exit(90);
    return fd;
}

/* In the child: sets descriptor 3 (and 4) and the variables, then checks
 * listenfd_inherited's answer. Exits 0 when it is the expected one. */
static void child(enum passed what, int want, const char *reason)
{
    unsigned short port = 0, port2;
    int fd = -1, n = 1;

    switch (what) {
    case NONE: break;
    case TCP_LISTENING:
    case OTHER_PID: fd = tcp_socket(true, &port); break;
    case TCP_BOUND: fd = tcp_socket(false, &port); break;
    case UDP: fd = socket(AF_INET, SOCK_DGRAM, 0); break;
    case UNIX_LISTENING: fd = unix_socket(); break;
    case FILE_FD: fd = open("/dev/null", O_RDONLY); break;
    case TWO_TCP:
        fd = tcp_socket(true, &port);
        if (dup2(tcp_socket(true, &port2), 4) != 4)
            _exit(90);
        n = 2;
        break;
    }
    if (what != NONE) {
        char v[32];
        if (fd < 0 || (fd != 3 && dup2(fd, 3) != 3))
            _exit(90);
        snprintf(v, sizeof v, "%d", n);
        setenv("LISTEN_FDS", v, 1);
        snprintf(v, sizeof v, "%ld", what == OTHER_PID ? (long)getppid() : (long)getpid());
        setenv("LISTEN_PID", v, 1);
    }

    int got = -2;
    struct sockaddr_storage addr;
    socklen_t len = 0;
    char err[256] = "";
    int rc = listenfd_inherited(&got, &addr, &len, err, sizeof err);
    if (rc != want)
        _exit(10);
    if (getenv("LISTEN_FDS") != NULL || getenv("LISTEN_PID") != NULL)
        _exit(11); /* a child of ours must not take them */
    if (rc == 1) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&addr;
        if (got != 3 || in->sin_family != AF_INET || ntohs(in->sin_port) != port)
            _exit(12);
        if ((fcntl(3, F_GETFL) & O_NONBLOCK) == 0 || (fcntl(3, F_GETFD) & FD_CLOEXEC) == 0)
            _exit(13);
    }
    if (rc == -1 && strstr(err, reason) == NULL)
        _exit(14);
    _exit(0);
}

static int run(enum passed what, int want, const char *reason)
{
    int status = -1;
    pid_t pid = fork();

    if (pid == 0)
        child(what, want, reason);
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

TEST(listenfd_takes_one_listening_tcp_socket)
{
    CHECK_EQ_INT(run(NONE, 0, NULL), 0);
    CHECK_EQ_INT(run(TCP_LISTENING, 1, NULL), 0);
    /* Variables meant for another process: none passed to this one. */
    CHECK_EQ_INT(run(OTHER_PID, 0, NULL), 0);
}

TEST(listenfd_refuses_anything_else)
{
    CHECK_EQ_INT(run(TWO_TCP, -1, "LISTEN_FDS: 2 sockets passed, gatehouse serves one"), 0);
    CHECK_EQ_INT(run(TCP_BOUND, -1, "descriptor 3 is not a listening TCP socket"), 0);
    CHECK_EQ_INT(run(UDP, -1, "descriptor 3 is not a listening TCP socket"), 0);
    CHECK_EQ_INT(run(UNIX_LISTENING, -1, "descriptor 3 is not a listening TCP socket"), 0);
    CHECK_EQ_INT(run(FILE_FD, -1, "descriptor 3 is not a listening TCP socket"), 0);
}
