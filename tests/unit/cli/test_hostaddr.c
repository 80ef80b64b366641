/* cli/hostaddr: which address of HOST gatehouse listens on, and its format. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "cli/hostaddr.h"
#include "test.h"

/* One entry of a hand-made getaddrinfo list. */
static void entry(struct addrinfo *ai, struct sockaddr_storage *ss, int family, const char *text,
                  struct addrinfo *next)
{
    memset(ai, 0, sizeof *ai);
    memset(ss, 0, sizeof *ss);
    ss->ss_family = (sa_family_t)family;
    if (family == AF_INET)
        inet_pton(AF_INET, text, &((struct sockaddr_in *)ss)->sin_addr);
    else if (family == AF_INET6)
        inet_pton(AF_INET6, text, &((struct sockaddr_in6 *)ss)->sin6_addr);
    ai->ai_family = family;
    ai->ai_socktype = SOCK_STREAM;
    ai->ai_addr = (struct sockaddr *)ss;
    ai->ai_addrlen = family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    ai->ai_next = next;
}

TEST(hostaddr_pick_prefers_ipv4)
{
    struct addrinfo a, b, c;
    struct sockaddr_storage sa, sb, sc;

    /* localhost as most resolvers order it: ::1 before 127.0.0.1. */
    entry(&b, &sb, AF_INET, "127.0.0.1", NULL);
    entry(&a, &sa, AF_INET6, "::1", &b);
    CHECK(hostaddr_pick(&a) == &b);
    /* The first IPv4 address, not a later one. */
    entry(&c, &sc, AF_INET, "127.0.0.2", NULL);
    entry(&b, &sb, AF_INET, "127.0.0.1", &c);
    CHECK(hostaddr_pick(&a) == &b);
    /* Only IPv6: the first of those. */
    entry(&b, &sb, AF_INET6, "::2", NULL);
    entry(&a, &sa, AF_INET6, "::1", &b);
    CHECK(hostaddr_pick(&a) == &a);
    /* Neither family: nothing to listen on. */
    entry(&a, &sa, AF_UNIX, "", NULL);
    CHECK(hostaddr_pick(&a) == NULL);
    CHECK(hostaddr_pick(NULL) == NULL);
}

TEST(hostaddr_resolve_numeric)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    char err[256] = "";

    REQUIRE(hostaddr_resolve("0.0.0.0", 8123, &ss, &len, err, sizeof err) == 0);
    const struct sockaddr_in *v4 = (const struct sockaddr_in *)&ss;
    CHECK_EQ_INT(ss.ss_family, AF_INET);
    CHECK_EQ_INT(len, sizeof(struct sockaddr_in));
    CHECK_EQ_INT(ntohs(v4->sin_port), 8123);
    CHECK_EQ_INT(ntohl(v4->sin_addr.s_addr), INADDR_ANY);
    REQUIRE(hostaddr_resolve("::", 65535, &ss, &len, err, sizeof err) == 0);
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&ss;
    CHECK_EQ_INT(ss.ss_family, AF_INET6);
    CHECK_EQ_INT(len, sizeof(struct sockaddr_in6));
    CHECK_EQ_INT(ntohs(v6->sin6_port), 65535);
    CHECK(IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr));
}

TEST(hostaddr_resolve_names)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    char err[256] = "";

    REQUIRE(hostaddr_resolve("localhost", 8000, &ss, &len, err, sizeof err) == 0);
    CHECK_EQ_INT(ss.ss_family, AF_INET);
    CHECK_EQ_INT(ntohl(((const struct sockaddr_in *)&ss)->sin_addr.s_addr), INADDR_LOOPBACK);
    /* .invalid never resolves (RFC 6761 section 6.4). */
    CHECK_EQ_INT(hostaddr_resolve("not-a-host.invalid", 8000, &ss, &len, err, sizeof err), -1);
    CHECK(strstr(err, "HOST") != NULL);
    CHECK(strstr(err, "not-a-host.invalid") != NULL);
}

TEST(hostaddr_format)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    char err[256] = "", buf[80];

    REQUIRE(hostaddr_resolve("127.0.0.1", 8000, &ss, &len, err, sizeof err) == 0);
    CHECK_EQ_STR(hostaddr_format((struct sockaddr *)&ss, len, buf, sizeof buf), "127.0.0.1:8000");
    REQUIRE(hostaddr_resolve("::1", 9000, &ss, &len, err, sizeof err) == 0);
    CHECK_EQ_STR(hostaddr_format((struct sockaddr *)&ss, len, buf, sizeof buf), "[::1]:9000");
    /* A buffer too small truncates rather than overflows. */
    CHECK_EQ_STR(hostaddr_format((struct sockaddr *)&ss, len, buf, 4), "[::");
}
