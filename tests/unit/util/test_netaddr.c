/* util/netaddr: client addresses as text. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
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

static bool parsed(const char *text, struct netaddr *a)
{
    return netaddr_parse(text, strlen(text), a) == 0;
}

TEST(netaddr_client_key)
{
    struct netaddr a;
    char buf[NETADDR_MAX];

    /* An IPv6 client is its /64; an IPv4 one, mapped or not, its address. */
    CHECK(parsed("2001:db8:1:2:aaaa:bbbb:cccc:dddd", &a));
    netaddr_client_key(&a);
    CHECK_EQ_STR(netaddr_text(&a, buf, sizeof buf), "2001:db8:1:2::");
    CHECK(parsed("192.0.2.7", &a));
    netaddr_client_key(&a);
    CHECK_EQ_STR(netaddr_text(&a, buf, sizeof buf), "192.0.2.7");
    CHECK(parsed("::ffff:192.0.2.8", &a));
    netaddr_client_key(&a);
    CHECK_EQ_STR(netaddr_text(&a, buf, sizeof buf), "192.0.2.8");
}

TEST(netaddr_parse_and_cidrs)
{
    struct netaddr a;
    struct netaddr_cidr *c = NULL;
    size_t n = 0;
    char err[160], buf[NETADDR_MAX];

    CHECK(parsed("192.0.2.7", &a));
    CHECK_EQ_STR(netaddr_text(&a, buf, sizeof buf), "192.0.2.7");
    CHECK(parsed("2001:db8::1", &a));
    CHECK_EQ_STR(netaddr_text(&a, buf, sizeof buf), "2001:db8::1");
    /* An IPv4-mapped IPv6 address is the IPv4 client it is. */
    CHECK(parsed("::ffff:192.0.2.7", &a));
    CHECK_EQ_STR(netaddr_text(&a, buf, sizeof buf), "192.0.2.7");
    CHECK(!parsed("", &a));
    CHECK(!parsed("192.0.2", &a));
    CHECK(!parsed("192.0.2.7:80", &a));
    CHECK(!parsed("[::1]", &a));
    CHECK(!parsed("localhost", &a));
    CHECK(!parsed("192.0.2.7 ", &a));
    CHECK(!parsed("unknown", &a));
    CHECK(netaddr_parse("192.0.2.7\0x", 11, &a) != 0);

    REQUIRE(netaddr_cidrs_parse(" 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,", &c, &n, err,
                                sizeof err) == 0);
    CHECK_EQ_INT(n, 3);
    CHECK(parsed("10.200.3.4", &a) && netaddr_in_cidrs(&a, c, n));
    CHECK(parsed("11.0.0.1", &a) && !netaddr_in_cidrs(&a, c, n));
    CHECK(parsed("192.0.2.7", &a) && netaddr_in_cidrs(&a, c, n));
    CHECK(parsed("192.0.2.8", &a) && !netaddr_in_cidrs(&a, c, n));
    CHECK(parsed("2001:db8:ffff::1", &a) && netaddr_in_cidrs(&a, c, n));
    CHECK(parsed("2001:db9::1", &a) && !netaddr_in_cidrs(&a, c, n));
    /* An IPv4 block does not swallow IPv6 addresses, nor the reverse. */
    CHECK(parsed("::a00:1", &a) && !netaddr_in_cidrs(&a, c, n));
    free(c);

    REQUIRE(netaddr_cidrs_parse("0.0.0.0/0", &c, &n, err, sizeof err) == 0);
    CHECK(parsed("203.0.113.9", &a) && netaddr_in_cidrs(&a, c, n));
    CHECK(parsed("2001:db8::1", &a) && !netaddr_in_cidrs(&a, c, n));
    free(c);
    REQUIRE(netaddr_cidrs_parse("127.0.0.0/31", &c, &n, err, sizeof err) == 0);
    CHECK(parsed("127.0.0.1", &a) && netaddr_in_cidrs(&a, c, n));
    CHECK(parsed("127.0.0.2", &a) && !netaddr_in_cidrs(&a, c, n));
    free(c);

    REQUIRE(netaddr_cidrs_parse("", &c, &n, err, sizeof err) == 0);
    CHECK(c == NULL && n == 0);
    const char *bad[] = {"10.0.0.1/8", "10.0.0.0/33",  "::/129",       "10.0.0.0/",
                         "10.0.0.0/x", "host.example", "10.0.0.0/8/8", "10.0.0.0/0008"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        CHECK(netaddr_cidrs_parse(bad[i], &c, &n, err, sizeof err) == -1);
        CHECK(c == NULL && strstr(err, bad[i]) != NULL);
    }
}
