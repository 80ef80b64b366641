/* util/fwdreq.c: the original request from a forward-authentication
 * proxy's headers. The input is split at NUL bytes into the six headers
 * (X-Forwarded-Method, -Proto, -Host, -Uri, X-Original-URL, X-Original-URI;
 * a part that is "-" alone is absent). Checks what the access rules and
 * the sign-in's return rely on: an accepted request has a token for a
 * method, http or https, a host of lower-case letters, digits and ".-_" (or
 * a bracketed literal) with no port, userinfo or space, and a target that
 * starts with '/' and holds visible ASCII only; an untrusted peer's headers
 * change nothing. */
#include "fuzz/fuzz.h"
#include "util/fwdreq.h"

static void check(const struct fwdreq *f)
{
    size_t n = strlen(f->host);

    FUZZ_CHECK(strlen(f->method) > 0 && strlen(f->method) <= FWDREQ_METHOD_MAX);
    FUZZ_CHECK(strcmp(f->scheme, "http") == 0 || strcmp(f->scheme, "https") == 0);
    FUZZ_CHECK(n <= FWDREQ_HOST_MAX);
    for (size_t i = 0; i < n; i++) {
        char c = f->host[i];
        FUZZ_CHECK(!(c >= 'A' && c <= 'Z') && c != '@' && c > ' ' && c < 0x7f && c != '/');
        FUZZ_CHECK(c != ':' || f->host[0] == '[');
    }
    FUZZ_CHECK(strlen(f->port) <= 5 && strspn(f->port, "0123456789") == strlen(f->port));
    FUZZ_CHECK(f->target_len >= 1 && f->target_len <= FWDREQ_TARGET_MAX);
    FUZZ_CHECK(f->target[0] == '/' && f->path_len <= f->target_len);
    for (size_t i = 0; i < f->target_len; i++)
        FUZZ_CHECK(f->target[i] > ' ' && f->target[i] < 0x7f && f->target[i] != '#');
    FUZZ_CHECK(memchr(f->target, '?', f->path_len) == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size), *p = s, *end = s + size;
    const char *part[6] = {0};
    struct fwdreq f;

    for (size_t i = 0; i < 6 && p <= end; i++) {
        part[i] = strcmp(p, "-") == 0 ? NULL : p;
        p += strlen(p) + 1;
    }
    struct fwdreq_headers h = {part[0], part[1], part[2], part[3], part[4], part[5]};
    if (fwdreq_parse(&h, true, "GET", "own.example", "/verify", &f) == FWDREQ_OK)
        check(&f);
    /* Read alone (the sign-in page checks rd so), an X-Original-URL keeps
     * the same invariants. */
    if (part[4] != NULL && fwdreq_parse_url(part[4], &f) == FWDREQ_OK) {
        f.method[0] = 'G', f.method[1] = '\0';
        check(&f);
    }
    /* Untrusted: the request itself, whatever the headers. */
    FUZZ_CHECK(fwdreq_parse(&h, false, "GET", "own.example", "/verify", &f) == FWDREQ_OK);
    FUZZ_CHECK(strcmp(f.host, "own.example") == 0 && f.target_len == 7);
    free(s);
    return 0;
}
