/* gatehouse keys generate: a new private key for the asymmetric algorithms
 * (README, Signing keys). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "core/jwk.h"
#include "util/keyfile.h"

/* Positions of the options in commands.c's table of keys generate. */
enum { OPT_ALG, OPT_OUT };

int keys_generate_command(struct config *cfg, const struct cli_args *args)
{
    const char *name = args->values[OPT_ALG], *out = args->values[OPT_OUT];
    enum jwk_alg alg;
    char err[512];

    (void)cfg;
    if (name == NULL) {
        fprintf(stderr, "gatehouse keys generate: --alg is required: EdDSA, ES256 or RS256\n");
        return CLI_EXIT_USAGE;
    }
    if (jwk_alg_parse(name, &alg) != 0) {
        fprintf(stderr, "gatehouse keys generate: --alg must be EdDSA, ES256 or RS256\n");
        return CLI_EXIT_USAGE;
    }
    if (out != NULL && out[0] == '\0') {
        fprintf(stderr, "gatehouse keys generate: --out needs a file name\n");
        return CLI_EXIT_USAGE;
    }
    char *pem = jwk_generate_pem(alg, err, sizeof err);
    if (pem == NULL) {
        fprintf(stderr, "gatehouse keys generate: %s\n", err);
        return EXIT_FAILURE;
    }
    size_t len = strlen(pem);
    /* The kid as the server will compute it, from the text it will read. */
    jwk *k = jwk_from_pem(pem, len, true, err, sizeof err);
    int rc = EXIT_FAILURE;
    if (k == NULL) {
        fprintf(stderr, "gatehouse keys generate: %s\n", err);
    } else if (out == NULL) {
        /* Standard output is the key; the kid goes to standard error. */
        if (fwrite(pem, 1, len, stdout) == len && fflush(stdout) == 0) {
            fprintf(stderr, "kid %s\n", jwk_kid(k));
            rc = EXIT_SUCCESS;
        }
    } else {
        int w = keyfile_create(out, pem, len, err, sizeof err);
        if (w == 1)
            fprintf(stderr, "gatehouse keys generate: %s exists; it is not overwritten\n", out);
        else if (w < 0)
            fprintf(stderr, "gatehouse keys generate: %s\n", err);
        else {
            printf("%s\n", jwk_kid(k));
            rc = EXIT_SUCCESS;
        }
    }
    jwk_free(k);
    sodium_memzero(pem, len);
    free(pem);
    return rc;
}
