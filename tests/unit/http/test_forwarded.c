/* http/forwarded: the client behind trusted proxies. */
#include <stdlib.h>
#include <string.h>

#include "http/forwarded.h"
#include "test.h"

/* The client that list names to a request from peer, with trusted as
 * TRUSTED_PROXIES, as text in buf. */
static const char *client(const char *peer, const char *list, bool fwd, const char *trusted,
                          char *buf, size_t len)
{
    struct netaddr p, out;
    struct netaddr_cidr *c = NULL;
    size_t n = 0;
    char err[160];

    if (netaddr_parse(peer, strlen(peer), &p) != 0 ||
        netaddr_cidrs_parse(trusted, &c, &n, err, sizeof err) != 0)
        return "bad test";
    forwarded_client(&p, list, strlen(list), fwd, c, n, &out);
    free(c);
    return netaddr_text(&out, buf, len);
}

TEST(forwarded_x_forwarded_for)
{
    char b[NETADDR_MAX];
    const char *lb = "127.0.0.1";

    /* A peer outside the list is the client, whatever it claims. */
    CHECK_EQ_STR(client("198.51.100.1", "203.0.113.5", false, lb, b, sizeof b), "198.51.100.1");
    CHECK_EQ_STR(client("127.0.0.1", "203.0.113.5", false, "", b, sizeof b), "127.0.0.1");
    /* A trusted peer names the client. */
    CHECK_EQ_STR(client("127.0.0.1", "203.0.113.5", false, lb, b, sizeof b), "203.0.113.5");
    /* The right-most untrusted address: what the client itself wrote on
     * the left counts for nothing. */
    CHECK_EQ_STR(client("127.0.0.1", "1.1.1.1, 203.0.113.5", false, lb, b, sizeof b),
                 "203.0.113.5");
    CHECK_EQ_STR(client("127.0.0.1", "1.1.1.1, 203.0.113.5, 10.0.0.2", false,
                        "127.0.0.1,10.0.0.0/8", b, sizeof b),
                 "203.0.113.5");
    /* Every hop trusted: the left-most. */
    CHECK_EQ_STR(
        client("127.0.0.1", "10.0.0.3,10.0.0.2", false, "127.0.0.1,10.0.0.0/8", b, sizeof b),
        "10.0.0.3");
    /* Garbage, or nothing: the last trusted hop stands. */
    CHECK_EQ_STR(client("127.0.0.1", "1.1.1.1, garbage", false, lb, b, sizeof b), "127.0.0.1");
    CHECK_EQ_STR(client("127.0.0.1", "", false, lb, b, sizeof b), "127.0.0.1");
    CHECK_EQ_STR(client("127.0.0.1", " , ,", false, lb, b, sizeof b), "127.0.0.1");
    CHECK_EQ_STR(client("127.0.0.1", "unknown", false, lb, b, sizeof b), "127.0.0.1");
    /* Ports and IPv6, bare or bracketed. */
    CHECK_EQ_STR(client("127.0.0.1", "203.0.113.5:4711", false, lb, b, sizeof b), "203.0.113.5");
    CHECK_EQ_STR(client("127.0.0.1", "2001:db8::7", false, lb, b, sizeof b), "2001:db8::7");
    CHECK_EQ_STR(client("127.0.0.1", "[2001:db8::7]:443", false, lb, b, sizeof b), "2001:db8::7");
    CHECK_EQ_STR(client("::1", "203.0.113.5", false, "::1", b, sizeof b), "203.0.113.5");
}

TEST(forwarded_rfc7239)
{
    char b[NETADDR_MAX];
    const char *lb = "127.0.0.1";

    CHECK_EQ_STR(client("127.0.0.1", "for=203.0.113.5", true, lb, b, sizeof b), "203.0.113.5");
    CHECK_EQ_STR(
        client("127.0.0.1", "For=\"[2001:db8:cafe::17]:4711\";proto=https", true, lb, b, sizeof b),
        "2001:db8:cafe::17");
    CHECK_EQ_STR(
        client("127.0.0.1", "proto=http;for=192.0.2.60;by=203.0.113.43", true, lb, b, sizeof b),
        "192.0.2.60");
    CHECK_EQ_STR(client("127.0.0.1", "for=1.1.1.1, for=198.51.100.17", true, lb, b, sizeof b),
                 "198.51.100.17");
    /* Obfuscated and unknown nodes, or no for=: the trusted hop stands. */
    CHECK_EQ_STR(client("127.0.0.1", "for=_hidden", true, lb, b, sizeof b), "127.0.0.1");
    CHECK_EQ_STR(client("127.0.0.1", "for=unknown", true, lb, b, sizeof b), "127.0.0.1");
    CHECK_EQ_STR(client("127.0.0.1", "proto=https", true, lb, b, sizeof b), "127.0.0.1");
    CHECK_EQ_STR(client("127.0.0.1", "for=\"1.2.3.4\\\"\"", true, lb, b, sizeof b), "127.0.0.1");
    /* A comma inside quotes does not split elements. */
    CHECK_EQ_STR(client("127.0.0.1", "for=203.0.113.5;ext=\"a,b\"", true, lb, b, sizeof b),
                 "203.0.113.5");
}
