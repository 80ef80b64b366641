/* http/forwarded.c: the client a trusted proxy names in X-Forwarded-For,
 * Forwarded or X-Real-IP (TRUSTED_PROXIES). The first byte chooses the
 * header; the rest is its value, every line joined, as a request carries
 * it. Checks what makes the walk safe to believe: an untrusted peer, or no
 * trusted proxy, is the client whatever the header says; one header gives
 * one answer; and a client that writes anything on the left of a list
 * cannot change the client a trusted proxy appends on its right (for
 * X-Forwarded-For and Forwarded, whose proxies append). */
#include "fuzz/fuzz.h"
#include "http/forwarded.h"

static struct netaddr_cidr *trusted;
static size_t ntrusted;

static void setup(void)
{
    char err[160];

    if (trusted == NULL && netaddr_cidrs_parse("127.0.0.1, 10.0.0.0/8, 2001:db8::/32", &trusted,
                                               &ntrusted, err, sizeof err) != 0)
        abort();
}

static struct netaddr addr(const char *text)
{
    struct netaddr a;

    if (netaddr_parse(text, strlen(text), &a) != 0)
        abort();
    return a;
}

static int same(const struct netaddr *a, const struct netaddr *b)
{
    return memcmp(a->b, b->b, sizeof a->b) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    setup();
    enum forwarded_header h = (enum forwarded_header)(data[0] % 3);
    const char *list = (const char *)data + 1;
    size_t len = size - 1;
    struct netaddr proxy = addr("127.0.0.1"), stranger = addr("198.51.100.1"), out, again;

    /* An untrusted peer, or no trusted list: the peer. */
    forwarded_client(&stranger, list, len, h, trusted, ntrusted, &out);
    FUZZ_CHECK(same(&out, &stranger));
    forwarded_client(&proxy, list, len, h, NULL, 0, &out);
    FUZZ_CHECK(same(&out, &proxy));

    /* From the trusted proxy: the same answer every time. */
    forwarded_client(&proxy, list, len, h, trusted, ntrusted, &out);
    forwarded_client(&proxy, list, len, h, trusted, ntrusted, &again);
    FUZZ_CHECK(same(&out, &again));

    /* A proxy that appends names the client on the right: whatever the
     * client wrote on the left (the input), the appended address wins. */
    if (h == FORWARDED_X_REAL_IP)
        return 0;
    static const char xff[] = ", 203.0.113.5", fwd[] = ", for=\"203.0.113.5:4711\";proto=https";
    const char *tail = h == FORWARDED_RFC7239 ? fwd : xff;
    size_t tlen = strlen(tail);
    char *joined = malloc(len + tlen);
    FUZZ_CHECK(joined != NULL);
    memcpy(joined, list, len);
    memcpy(joined + len, tail, tlen);
    forwarded_client(&proxy, joined, len + tlen, h, trusted, ntrusted, &out);
    struct netaddr want = addr("203.0.113.5");
    FUZZ_CHECK(same(&out, &want));
    free(joined);
    return 0;
}
