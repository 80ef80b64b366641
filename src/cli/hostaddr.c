#include "cli/hostaddr.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

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
