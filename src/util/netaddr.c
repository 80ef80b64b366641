#include "util/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

const char *netaddr_format(const struct sockaddr *sa, char *buf, size_t len)
{
    const void *addr = NULL;
    int family = 0;

    if (sa != NULL && sa->sa_family == AF_INET) {
        family = AF_INET;
        addr = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    } else if (sa != NULL && sa->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a6)) {
            family = AF_INET;
            addr = &a6->s6_addr[12]; /* the IPv4 address is the last 4 bytes */
        } else {
            family = AF_INET6;
            addr = a6;
        }
    }
    if (addr == NULL || len == 0 || inet_ntop(family, addr, buf, (socklen_t)len) == NULL) {
        if (len >= 2)
            memcpy(buf, "-", 2);
        else if (len == 1)
            buf[0] = '\0';
    }
    return buf;
}
