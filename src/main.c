/* gatehouse: the command table of src/cli/commands.c does the rest. */
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
    /* jansson's allocator, before any thread starts: the claims of a token
     * are parsed without the heap (core/jwt.c). */
    jsonarena_install();
    return cli_run(&cli_gatehouse, argc, argv, stdout, stderr);
}
