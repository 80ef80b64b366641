/* bench/rules.c: the cost of one rules_decide (core/rules.h) with 100 rules,
 * for instruction counts under callgrind (make bench-rules):
 *
 *   build/bench-rules SCENARIO N    decides N times, prints the verdict
 *
 * Run it twice with two N and divide the difference of the totals by the
 * difference of N: start-up and parsing cancel out. The scenarios, each a
 * miss of all 100 rules (the worst case: every rule is looked at) then the
 * default policy:
 *   hosts  100 rules, each for another host (a deployment of many sites)
 *   paths  100 rules on the request's host, half path prefixes, half globs
 *          whose literal start differs from the path's
 *   globs  100 glob rules on the request's host whose literal start and end
 *          the path shares, so each glob runs (the path misses in its
 *          third segment) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rules.h"

static char *rules_text(const char *scenario)
{
    size_t cap = 64 * 1024, w = 0;
    char *s = malloc(cap);
    if (s == NULL)
        exit(2);
    w += (size_t)snprintf(s + w, cap - w, "[");
    for (int i = 0; i < 100; i++) {
        const char *sep = i > 0 ? ",\n" : "\n";
        if (strcmp(scenario, "hosts") == 0)
            w += (size_t)snprintf(
                s + w, cap - w,
                "%s{\"hosts\": [\"site%d.example.com\"], \"paths\": [\"/admin/\"], "
                "\"policy\": \"two_factor\", \"roles\": [\"admin\"]}",
                sep, i);
        else if (strcmp(scenario, "paths") == 0)
            w += (size_t)snprintf(s + w, cap - w,
                                  i % 2 == 0 ? "%s{\"hosts\": [\"app.example.com\"], \"paths\": "
                                               "[\"/section%d/\"], \"policy\": \"public\"}"
                                             : "%s{\"hosts\": [\"app.example.com\"], \"paths\": "
                                               "[\"/files%d/**.pdf\"], \"policy\": \"deny\"}",
                                  sep, i);
        else
            w += (size_t)snprintf(s + w, cap - w,
                                  "%s{\"hosts\": [\"app.example.com\"], \"paths\": "
                                  "[\"/app/*/x%d/item\"], \"methods\": [\"GET\"], "
                                  "\"policy\": \"deny\"}",
                                  sep, i);
    }
    snprintf(s + w, cap - w, "\n]");
    return s;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench-rules hosts|paths|globs N\n");
        return 2;
    }
    char err[256];
    char *text = rules_text(argv[1]);
    rules *r = rules_parse(text, strlen(text), "bench", err, sizeof err);
    free(text);
    if (r == NULL) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    long n = strtol(argv[2], NULL, 10);
    static const char host[] = "app.example.com:443";
    static const char path[] = "/app/catalogue/item?id=42";
    struct rules_request q = {host, sizeof host - 1, path, sizeof path - 1, "GET", 3};
    struct rules_subject sub = {true, false, "dev,ops", 7};
    int allowed = 0;
    for (long i = 0; i < n; i++)
        allowed += rules_decide(r, RULES_AUTHENTICATED, &q, &sub) == RULES_ALLOW;
    printf("%s: %d of %ld allowed\n", argv[1], allowed, n);
    rules_free(r);
    return 0;
}
