/* store/pgurl.c: DATABASE_URL in the forms SQLAlchemy users write. Input:
 * a mode byte, then the URL, or (odd mode bytes) what follows a known
 * password in "postgresql://fuzz:<password>@". No error message and no
 * description for the log may hold the password; a parsed URL has its
 * keywords NULL-terminated, and a password. */
#include "fuzz/fuzz.h"
#include "store/pgurl.h"

#define MARK "Pw9xSECRETmark"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* libFuzzer learns MARK from the strstr below and may write it into the
     * rest; only an input without it tells a leak. */
    bool marked =
        (data[0] & 1) && !fuzz_contains((const char *)data + 1, size - 1, MARK, strlen(MARK));
    const char *prefix = marked ? "postgresql://fuzz:" MARK "@" : "";
    size_t plen = strlen(prefix);
    char *url = malloc(plen + size);
    struct pgurl u;
    char err[512], desc[512];

    FUZZ_CHECK(url != NULL);
    memcpy(url, prefix, plen);
    memcpy(url + plen, data + 1, size - 1);
    url[plen + size - 1] = '\0';
    (void)pgurl_is_postgres(url);
    memset(err, 'x', sizeof err);
    int rc = pgurl_parse(url, &u, err, sizeof err);
    if (rc != 0) {
        FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL);
        FUZZ_CHECK(strncmp(err, "DATABASE_URL: ", 14) == 0);
        FUZZ_CHECK(strchr(err, '\n') == NULL);
        if (marked)
            FUZZ_CHECK(strstr(err, MARK) == NULL);
    } else {
        /* "postgresql://" alone names every default: no keyword at all. */
        FUZZ_CHECK(u.n <= u.cap && (u.keys == NULL) == (u.cap == 0));
        FUZZ_CHECK(u.keys == NULL || (u.keys[u.n] == NULL && u.vals[u.n] == NULL));
        for (size_t i = 0; i < u.n; i++) {
            FUZZ_CHECK(u.keys[i] != NULL && u.vals[i] != NULL);
            FUZZ_CHECK(pgurl_get(&u, u.keys[i]) != NULL);
        }
        FUZZ_CHECK(memchr(u.ignored, '\0', sizeof u.ignored) != NULL);
        pgurl_describe(&u, desc, sizeof desc);
        FUZZ_CHECK(memchr(desc, '\0', sizeof desc) != NULL);
        if (marked) {
            const char *pw = pgurl_get(&u, "password");
            /* The userinfo's, or a later ?password= (which libpq lets win). */
            FUZZ_CHECK(pw != NULL);
            FUZZ_CHECK(strstr(desc, MARK) == NULL);
        }
    }
    pgurl_free(&u);
    free(url);
    return 0;
}
