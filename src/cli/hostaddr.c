#include "cli/hostaddr.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int hostaddr_resolve(const char *host, unsigned port, struct sockaddr_storage *out,
                     socklen_t *outlen, char *err, size_t errlen)
{
    struct addrinfo hints, *list = NULL;
    char service[16];

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    /* No AI_ADDRCONFIG: it ignores loopback addresses when it decides which
     * families the machine has, so on a host whose only network is the
     * loopback it would drop 127.0.0.1 from localhost. */
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    snprintf(service, sizeof service, "%u", port);
    int rc = getaddrinfo(host, service, &hints, &list);
    if (rc != 0) {
        snprintf(err, errlen, "HOST: cannot resolve \"%.60s\": %s", host,
                 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
        return -1;
    }
    const struct addrinfo *ai = hostaddr_pick(list);
    if (ai == NULL || ai->ai_addrlen > sizeof *out) {
        snprintf(err, errlen, "HOST: \"%.60s\" has no IPv4 or IPv6 address", host);
        freeaddrinfo(list);
        return -1;
    }
    memset(out, 0, sizeof *out);
    memcpy(out, ai->ai_addr, ai->ai_addrlen);
    *outlen = ai->ai_addrlen;
    freeaddrinfo(list);
    return 0;
}

const struct addrinfo *hostaddr_pick(const struct addrinfo *list)
{
    const struct addrinfo *v6 = NULL;

    for (const struct addrinfo *ai = list; ai != NULL; ai = ai->ai_next) {
        if (ai->ai_family == AF_INET && ai->ai_addr != NULL)
            return ai;
        if (ai->ai_family == AF_INET6 && ai->ai_addr != NULL && v6 == NULL)
            v6 = ai;
    }
    return v6;
}

char *hostaddr_format(const struct sockaddr *addr, socklen_t len, char *buf, size_t cap)
{
    char host[NI_MAXHOST], port[NI_MAXSERV];

    if (getnameinfo(addr, len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(buf, cap, "?");
        return buf;
    }
    if (addr->sa_family == AF_INET6)
        snprintf(buf, cap, "[%s]:%s", host, port);
    else
        snprintf(buf, cap, "%s:%s", host, port);
    return buf;
}

int hostaddr_listen(const struct sockaddr_storage *addr, socklen_t len, int backlog, char *err,
                    size_t errlen)
{
    char where[NI_MAXHOST + 16];
    const struct sockaddr *sa = (const struct sockaddr *)addr;
    int one = 1;
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

    hostaddr_format(sa, len, where, sizeof where);
    if (fd < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", where, strerror(errno));
        return -1;
    }
    /* As libmicrohttpd does for the sockets it makes: a restart need not
     * wait for the old connections' TIME_WAIT; an IPv6 address is that
     * address only, not also every IPv4 one. */
    bool ok = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
              (sa->sa_family != AF_INET6 ||
               setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) == 0) &&
              bind(fd, sa, len) == 0 && listen(fd, backlog) == 0;
    if (!ok) {
        snprintf(err, errlen, "cannot listen on %s: %s", where, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}
