/* gatehouse --version: its own version and those of the libraries it runs on,
 * asked of each library at run time where the library can say. */
#include <crypt.h>
#include <jansson.h>
#include <microhttpd.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>

#include "cli/commands.h"
#include "store/pq.h"

#ifndef GATEHOUSE_VERSION
#error "GATEHOUSE_VERSION comes from the file VERSION, through the Makefile"
#endif

void version_print(FILE *out)
{
    char err[256];

    fprintf(out, "gatehouse %s\n", GATEHOUSE_VERSION);
    fprintf(out, "libmicrohttpd %s\n", MHD_get_version());
    fprintf(out, "jansson %s\n", jansson_version_str());
    fprintf(out, "libsodium %s\n", sodium_version_string());
    fprintf(out, "SQLite %s\n", sqlite3_libversion());
    /* libxcrypt has no call that reports its version; this is the header's. */
    fprintf(out, "libxcrypt %s (the version built against; it reports none at run time)\n",
            XCRYPT_VERSION_STR);
    /* libpq is loaded only for PostgreSQL (store/pq.h); its absence is no
     * error until a PostgreSQL URL is used, so --version only says so. */
    if (pq_load(err, sizeof err) != 0) {
        fprintf(out, "libpq not loaded: %s\n", err);
        return;
    }
    /* PQlibVersion: major * 10000 + minor since PostgreSQL 10, before that
     * major * 10000 + minor * 100 + patch. */
    int v = PQlibVersion();
    if (v >= 100000)
        fprintf(out, "libpq %d.%d\n", v / 10000, v % 10000);
    else
        fprintf(out, "libpq %d.%d.%d\n", v / 10000, v / 100 % 100, v % 100);
}
