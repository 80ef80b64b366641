/* gatehouse: the command table of src/cli/commands.c does the rest. */
#include <malloc.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/commands.h"
#include "util/jsonarena.h"

int main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "gatehouse: libsodium failed to initialise\n");
        return EXIT_FAILURE;
    }
    /* A fixed mmap threshold: every block of 128 KiB or more (the
     * revocation and token-cache tables) gets a mapping of its own, given
     * back when freed. glibc's default raises the threshold to the size of
     * each such block freed, after which the revocation set's rebuilt tables
     * came from a thread arena that kept two of them (a 35-minute soak: 59
     * MiB of RSS where one table gave 39; bench/RESULTS.md, "Soak"). */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    /* jansson's allocator, before any thread starts: the claims of a token
     * are parsed without the heap (core/jwt.c). */
    jsonarena_install();
    return cli_run(&cli_gatehouse, argc, argv, stdout, stderr);
}
