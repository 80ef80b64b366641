/* bench/webauthn.c: the cost of a passkey sign-in's signature check,
 * microseconds per webauthn_verify_assertion (core/webauthn.h), for ES256,
 * EdDSA and RS256 (2048-bit), on the assertions of the unit tests' vectors
 * (tests/unit/core/webauthn_vectors.h, written by softauthn.py). Each call
 * does the whole check: clientDataJSON parsed, authenticator data, the
 * stored COSE key decoded and, for ES256 and RS256, made into an OpenSSL
 * key, and the signature verified.
 *
 *   make build/bench-webauthn && build/bench-webauthn [ROUNDS]
 *
 * Prints one line per algorithm: the median of ROUNDS (default 9) rounds of
 * about 0.2 s each, with the fastest and slowest round. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/webauthn.h"
#include "webauthn_cases.h"

#define ROUNDS_MAX 99

static const char *const origins[] = {VEC_ORIGIN};

static double now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void verify(const struct get_vector *v)
{
    struct webauthn_expect e = {
        "webauthn.get", vec_get_challenge, sizeof vec_get_challenge, origins, 1, VEC_RP_ID, true};
    struct webauthn_assertion out;
    enum webauthn_status st = webauthn_verify_assertion(&e, v->key, v->keylen, v->cd, v->cdlen,
                                                        v->ad, v->adlen, v->sig, v->siglen, &out);

    if (st != WEBAUTHN_OK) {
        fprintf(stderr, "%s: %s\n", v->name, webauthn_status_text(st));
        exit(1);
    }
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* µs per verify of n calls. */
static double round_of(const struct get_vector *v, long n)
{
    double t0 = now_us();

    for (long i = 0; i < n; i++)
        verify(v);
    return (now_us() - t0) / (double)n;
}

static void bench(const char *label, const char *vector, int rounds)
{
    const struct get_vector *v = get_named(vector);
    double us[ROUNDS_MAX];

    if (v == NULL) {
        fprintf(stderr, "no vector %s\n", vector);
        exit(1);
    }
    /* Warm up (OpenSSL is loaded on first use), then size a round to
     * about 0.2 s. */
    round_of(v, 20);
    double per = round_of(v, 20);
    long n = (long)(200000.0 / per) + 1;
    for (int r = 0; r < rounds; r++)
        us[r] = round_of(v, n);
    qsort(us, (size_t)rounds, sizeof us[0], by_value);
    printf("%-6s %9.1f us/verify (median of %d rounds of %ld; %.1f .. %.1f)\n", label,
           us[rounds / 2], rounds, n, us[0], us[rounds - 1]);
}

int main(int argc, char **argv)
{
    char *end = NULL;
    long rounds = argc > 1 ? strtol(argv[1], &end, 10) : 9;

    if (argc > 2 || (end != NULL && *end != '\0') || rounds < 1 || rounds > ROUNDS_MAX) {
        fprintf(stderr, "usage: %s [ROUNDS, 1 to %d]\n", argv[0], ROUNDS_MAX);
        return 2;
    }
    bench("ES256", "ok_ES256", (int)rounds);
    bench("EdDSA", "ok_EdDSA", (int)rounds);
    bench("RS256", "ok_RS256", (int)rounds);
    return 0;
}
