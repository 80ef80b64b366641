#ifndef GH_FUZZ_FUZZ_H
#define GH_FUZZ_FUZZ_H

/* Shared by the libFuzzer targets of fuzz/: each file defines
 * LLVMFuzzerTestOneInput for one parser and checks what must hold of its
 * result, not only that it returns. */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A broken invariant: say which, then abort so that libFuzzer keeps the
 * input as a crash. Not assert(): the targets build without NDEBUG games. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A NUL-terminated copy of data (the parsers read C strings); never NULL. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);

    if (s == NULL)
        abort();
    if (size > 0)
        memcpy(s, data, size);
    s[size] = '\0';
    return s;
}

/* True when needle[0..nlen) occurs in hay[0..hlen). */
static inline int fuzz_contains(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
    return nlen <= hlen && memmem(hay, hlen, needle, nlen) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
