/* api/throttle: the client address throttling keys, and the checks made
 * before a hashing job is queued. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "api/api.h"
#include "test.h"

static void key_of(const char *text, struct netaddr *out)
{
    struct sockaddr_storage ss = {0};
    struct api_request req = {0};

    if (strchr(text, ':') != NULL) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)&ss;
        s6->sin6_family = AF_INET6;
        inet_pton(AF_INET6, text, &s6->sin6_addr);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)&ss;
        s4->sin_family = AF_INET;
        inet_pton(AF_INET, text, &s4->sin_addr);
    }
    req.client = (const struct sockaddr *)&ss;
    api_client(&req, out);
}

static bool same_key(const char *a, const char *b)
{
    struct netaddr x, y;

    key_of(a, &x);
    key_of(b, &y);
    return memcmp(&x, &y, sizeof x) == 0;
}

TEST(api_client_keys)
{
    struct netaddr k;
    struct api_request none = {0};
    char buf[NETADDR_MAX];

    /* IPv4: each address its own; the IPv4-mapped form is the same one. */
    CHECK(!same_key("192.0.2.1", "192.0.2.2"));
    CHECK(same_key("192.0.2.1", "::ffff:192.0.2.1"));
    key_of("192.0.2.1", &k);
    CHECK_EQ_STR(netaddr_text(&k, buf, sizeof buf), "192.0.2.1");
    /* IPv6: by /64, so that one subscriber's 2^64 addresses are one
     * client. */
    CHECK(same_key("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"));
    CHECK(!same_key("2001:db8:1:2::1", "2001:db8:1:3::1"));
    key_of("2001:db8:1:2:aaaa::1", &k);
    CHECK_EQ_STR(netaddr_text(&k, buf, sizeof buf), "2001:db8:1:2::");
    /* No address: one key, all zeros. */
    api_client(&none, &k);
    CHECK_EQ_STR(netaddr_text(&k, buf, sizeof buf), "::");
}
