#include "core/pwlist.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

extern const char gh_pwlist_data[];
extern const char gh_pwlist_end[];

struct entry {
    const char *s;
    size_t len;
};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static struct entry *entries;
static size_t nentries;

static void build_index(void)
{
    size_t n = 0;

    for (const char *p = gh_pwlist_data; p < gh_pwlist_end; p++)
        n += *p == '\n';
    entries = calloc(n + 1, sizeof *entries);
    if (entries == NULL)
        abort(); /* start-up only: pwlist_size() is called before serving */
    for (const char *p = gh_pwlist_data; p < gh_pwlist_end;) {
        const char *nl = memchr(p, '\n', (size_t)(gh_pwlist_end - p));
        const char *end = nl != NULL ? nl : gh_pwlist_end;
        if (end > p)
            entries[nentries++] = (struct entry){p, (size_t)(end - p)};
        p = end + 1;
    }
}

/* Bytewise order, shorter first on a common prefix: the order of LC_ALL=C sort. */
static int cmp(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->s, y->s, n);

    if (c != 0)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

bool pwlist_contains(const char *pw, size_t len)
{
    char low[256];

    pthread_once(&once, build_index);
    if (len == 0 || len > sizeof low)
        return false; /* no entry is that long */
    for (size_t i = 0; i < len; i++) {
        char c = pw[i];
        low[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    struct entry key = {low, len};
    return bsearch(&key, entries, nentries, sizeof *entries, cmp) != NULL;
}

size_t pwlist_size(void)
{
    pthread_once(&once, build_index);
    return nentries;
}
