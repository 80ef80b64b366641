/* http/forwarded: the client behind trusted proxies. */
#include <stdlib.h>
#include <string.h>

#include "http/forwarded.h"
#include "test.h"

#define XFF FORWARDED_X_FORWARDED_FOR
#define FWD FORWARDED_RFC7239
#define XRI FORWARDED_X_REAL_IP

/* The client that list names to a request from peer, with trusted as
 * TRUSTED_PROXIES, as text in buf. */
static const char *client(const char *peer, const char *list, enum forwarded_header h,
                          const char *trusted, char *buf, size_t len)
{
    struct netaddr p, out;
    struct netaddr_cidr *c = NULL;
    size_t n = 0;
    char err[160];

    if (netaddr_parse(peer, strlen(peer), &p) != 0 ||
        netaddr_cidrs_parse(trusted, &c, &n, err, sizeof err) != 0)
        return "bad test";
    forwarded_client(&p, list, strlen(list), h, c, n, &out);
    free(c);
    return netaddr_text(&out, buf, len);
}

TEST(forwarded_x_forwarded_for)
{
    char b[NETADDR_MAX];
    const char *lb = "127.0.0.1";

    /* A peer outside the list is the client, whatever it claims. */
    CHECK_EQ_STR(client("198.51.100.1", "203.0.113.5", XFF, lb, b, sizeof b), "198.51.100.1");
    CHECK_EQ_STR(client("127.0.0.1", "203.0.113.5", XFF, "", b, sizeof b), "127.0.0.1");
    /* A trusted peer names the client. */
    CHECK_EQ_STR(client("127.0.0.1", "203.0.113.5", XFF, lb, b, sizeof b), "203.0.113.5");
    /* The right-most untrusted address: what the client itself wrote on
     * the left counts for nothing. */
    CHECK_EQ_STR(client("127.0.0.1", "1.1.1.1, 203.0.113.5", XFF, lb, b, sizeof b), "203.0.113.5");
    CHECK_EQ_STR(client("127.0.0.1", "1.1.1.1, 203.0.113.5, 10.0.0.2", false,
                        "127.0.0.1,10.0.0.0/8", b, sizeof b),
                 "203.0.113.5");
    /* Every hop trusted: the left-most. */
    CHECK_EQ_STR(client("127.0.0.1", "10.0.0.3,10.0.0.2", XFF, "127.0.0.1,10.0.0.0/8", b, sizeof b),
                 "10.0.0.3");
    /* Garbage, or nothing: the last trusted hop stands. */
    CHECK_EQ_STR(client("127.0.0.1", "1.1.1.1, garbage", XFF, lb, b, sizeof b), "127.0.0.1");
    CHECK_EQ_STR(client("127.0.0.1", "", XFF, lb, b, sizeof b), "127.0.0.1");
    CHECK_EQ_STR(client("127.0.0.1", " , ,", XFF, lb, b, sizeof b), "127.0.0.1");
    CHECK_EQ_STR(client("127.0.0.1", "unknown", XFF, lb, b, sizeof b), "127.0.0.1");
    /* Ports and IPv6, bare or bracketed. */
    CHECK_EQ_STR(client("127.0.0.1", "203.0.113.5:4711", XFF, lb, b, sizeof b), "203.0.113.5");
    CHECK_EQ_STR(client("127.0.0.1", "2001:db8::7", XFF, lb, b, sizeof b), "2001:db8::7");
    CHECK_EQ_STR(client("127.0.0.1", "[2001:db8::7]:443", XFF, lb, b, sizeof b), "2001:db8::7");
    CHECK_EQ_STR(client("::1", "203.0.113.5", XFF, "::1", b, sizeof b), "203.0.113.5");
}

TEST(forwarded_rfc7239)
{
    char b[NETADDR_MAX];
    const char *lb = "127.0.0.1";

    CHECK_EQ_STR(client("127.0.0.1", "for=203.0.113.5", FWD, lb, b, sizeof b), "203.0.113.5");
    CHECK_EQ_STR(
        client("127.0.0.1", "For=\"[2001:db8:cafe::17]:4711\";proto=https", FWD, lb, b, sizeof b),
        "2001:db8:cafe::17");
    CHECK_EQ_STR(
        client("127.0.0.1", "proto=http;for=192.0.2.60;by=203.0.113.43", FWD, lb, b, sizeof b),
        "192.0.2.60");
    CHECK_EQ_STR(client("127.0.0.1", "for=1.1.1.1, for=198.51.100.17", FWD, lb, b, sizeof b),
                 "198.51.100.17");
    /* Obfuscated and unknown nodes, or no for=: the trusted hop stands. */
    CHECK_EQ_STR(client("127.0.0.1", "for=_hidden", FWD, lb, b, sizeof b), "127.0.0.1");
    CHECK_EQ_STR(client("127.0.0.1", "for=unknown", FWD, lb, b, sizeof b), "127.0.0.1");
    CHECK_EQ_STR(client("127.0.0.1", "proto=https", FWD, lb, b, sizeof b), "127.0.0.1");
    CHECK_EQ_STR(client("127.0.0.1", "for=\"1.2.3.4\\\"\"", FWD, lb, b, sizeof b), "127.0.0.1");
    /* A quote the client left open on the left does not swallow what the
     * trusted proxy appended on the right (XFF has no quoting at all). */
    CHECK_EQ_STR(client("127.0.0.1", "for=\"x, for=203.0.113.5", FWD, lb, b, sizeof b),
                 "203.0.113.5");
    CHECK_EQ_STR(client("127.0.0.1", "for=\"1.2.3.4\\\"\", for=203.0.113.5;ext=\"a,b\"", FWD, lb, b,
                        sizeof b),
                 "203.0.113.5");
    CHECK_EQ_STR(client("127.0.0.1", "\", 203.0.113.5", XFF, lb, b, sizeof b), "203.0.113.5");
    /* A comma inside quotes does not split elements. */
    CHECK_EQ_STR(client("127.0.0.1", "for=203.0.113.5;ext=\"a,b\"", FWD, lb, b, sizeof b),
                 "203.0.113.5");
}

TEST(forwarded_x_real_ip)
{
    char b[NETADDR_MAX];
    const char *lb = "127.0.0.1";

    CHECK_EQ_STR(client("127.0.0.1", "203.0.113.5", XRI, lb, b, sizeof b), "203.0.113.5");
    CHECK_EQ_STR(client("127.0.0.1", " 2001:db8::7 ", XRI, lb, b, sizeof b), "2001:db8::7");
    CHECK_EQ_STR(client("198.51.100.1", "203.0.113.5", XRI, lb, b, sizeof b), "198.51.100.1");
    /* One address, not a list: two lines (a client's copy passed on beside
     * the proxy's) name nobody, and the proxy stands. */
    CHECK_EQ_STR(client("127.0.0.1", "1.1.1.1,203.0.113.5", XRI, lb, b, sizeof b), "127.0.0.1");
    CHECK_EQ_STR(client("127.0.0.1", "", XRI, lb, b, sizeof b), "127.0.0.1");
    CHECK_EQ_STR(client("127.0.0.1", "unknown", XRI, lb, b, sizeof b), "127.0.0.1");
}

TEST(forwarded_header_names)
{
    enum forwarded_header h = XRI;

    CHECK_EQ_INT(forwarded_header_parse("x-forwarded-for", &h), 0);
    CHECK_EQ_INT(h, XFF);
    CHECK_EQ_INT(forwarded_header_parse("FORWARDED", &h), 0);
    CHECK_EQ_INT(h, FWD);
    CHECK_EQ_INT(forwarded_header_parse("X-Real-IP", &h), 0);
    CHECK_EQ_INT(h, XRI);
    CHECK_EQ_INT(forwarded_header_parse("X-Forwarded", &h), -1);
    CHECK_EQ_INT(forwarded_header_parse("", &h), -1);
    CHECK_EQ_STR(forwarded_header_name(FWD), "Forwarded");
    CHECK_EQ_STR(forwarded_header_name(XFF), "X-Forwarded-For");
}
