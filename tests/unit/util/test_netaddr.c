/* util/netaddr: client addresses as text. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/un.h>

#include "test.h"
#include "util/netaddr.h"

static const char *v4(const char *text, char *buf, size_t len)
{
    struct sockaddr_in a = {0};

    a.sin_family = AF_INET;
    a.sin_port = htons(8000);
    inet_pton(AF_INET, text, &a.sin_addr);
    return netaddr_format((const struct sockaddr *)&a, buf, len);
}

static const char *v6(const char *text, char *buf, size_t len)
{
    struct sockaddr_in6 a = {0};

    a.sin6_family = AF_INET6;
    a.sin6_port = htons(8000);
    inet_pton(AF_INET6, text, &a.sin6_addr);
    return netaddr_format((const struct sockaddr *)&a, buf, len);
}

TEST(netaddr_format)
{
    char buf[NETADDR_MAX];

    CHECK_EQ_STR(v4("192.0.2.7", buf, sizeof buf), "192.0.2.7");
    CHECK(v4("192.0.2.7", buf, sizeof buf) == buf);
    /* RFC 5952: lower case, the longest run of zeros compressed. */
    CHECK_EQ_STR(v6("2001:DB8:0:0:0:0:0:1", buf, sizeof buf), "2001:db8::1");
    CHECK_EQ_STR(v6("::1", buf, sizeof buf), "::1");
    CHECK_EQ_STR(v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", buf, sizeof buf),
                 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    /* A dual-stack socket's IPv4 peer is the IPv4 client it is. */
    CHECK_EQ_STR(v6("::ffff:198.51.100.9", buf, sizeof buf), "198.51.100.9");
}

TEST(netaddr_format_unusable)
{
    char buf[NETADDR_MAX], small[8];
    struct sockaddr_un un = {0};

    un.sun_family = AF_UNIX;
    CHECK_EQ_STR(netaddr_format(NULL, buf, sizeof buf), "-");
    CHECK_EQ_STR(netaddr_format((const struct sockaddr *)&un, buf, sizeof buf), "-");
    CHECK_EQ_STR(v4("203.0.113.255", small, sizeof small), "-");
    CHECK_EQ_STR(v4("203.0.113.255", small, 1), "");
}
