/* cli/config.c: the settings as flags, through the same parsing and
 * validation as the environment (set_value, then validate: ranges, the
 * DATABASE_URL forms, ALLOWED_ORIGINS, SECRET_KEY's length). Input: lines,
 * each one argument ("--port=80", or a flag and its value on two lines).
 * Left out: HOST (resolving a name would query DNS; a fixed 127.0.0.1 is
 * used) and the *_FILE settings (a path could name a FIFO). A refusal is one
 * line; an accepted configuration is within the table's ranges. */
#include <stdbool.h>
#include <stdlib.h>

#include "cli/config.h"
#include "fuzz/fuzz.h"

#define MAX_ARGS 32

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        /* Only the flags count: no variable of the caller's shell. */
        FUZZ_CHECK(clearenv() == 0);
        ready = true;
    }
    char *text = fuzz_strndup(data, size);
    char *argv[MAX_ARGS + 4];
    int argc = 0;

    argv[argc++] = "gatehouse";
    argv[argc++] = "--host=127.0.0.1";
    for (char *line = text; line != NULL && argc < MAX_ARGS;) {
        char *nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        if (strncmp(line, "--host", 6) != 0 && strstr(line, "-file") == NULL)
            argv[argc++] = line;
        (void)config_is_flag(line, strcspn(line, "="));
        line = nl != NULL ? nl + 1 : NULL;
    }
    argv[argc] = NULL;

    struct config cfg;
    bool help = false;
    char err[512];
    memset(err, 'x', sizeof err);
    int rc = config_load(&cfg, argc, argv, 1, &help, err, sizeof err);
    if (rc != 0) {
        FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL && err[0] != '\0');
        FUZZ_CHECK(strchr(err, '\n') == NULL);
    } else if (!help) {
        FUZZ_CHECK(cfg.port >= 1 && cfg.port <= 65535);
        FUZZ_CHECK(cfg.bcrypt_rounds >= 4 && cfg.bcrypt_rounds <= 31);
        FUZZ_CHECK(cfg.password_min_length >= 1 && cfg.password_min_length <= 72);
        FUZZ_CHECK(cfg.workers >= 1 && cfg.db_pool_size >= 1);
        FUZZ_CHECK(cfg.database_url != NULL && cfg.algorithm != NULL);
        FUZZ_CHECK(cfg.secret_key == NULL || cfg.secret_key_len >= 32);
        /* PUBLIC_URL normalised: http(s)://, its origin a prefix ending
         * where the path starts, no '/' at the end; a COOKIE_DOMAIN only
         * with it. */
        if (cfg.public_url != NULL) {
            const char *u = cfg.public_url;
            size_t n = strlen(u), o = cfg.public_origin_len;
            FUZZ_CHECK(strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0);
            FUZZ_CHECK(o > 7 && o <= n && (u[o] == '\0' || u[o] == '/') && u[n - 1] != '/');
        }
        FUZZ_CHECK(cfg.cookie_domain == NULL || cfg.public_url != NULL);
    }
    config_free(&cfg);
    free(text);
    return 0;
}
