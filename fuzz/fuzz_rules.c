/* core/rules: the access rules file and the decision on it. Input: a rules
 * file; its last line is also a request path (and its first 16 bytes a
 * host) to decide on. An input starting with '~' is instead "~PATTERN\nPATH":
 * the rule {"paths": [PATTERN], "policy": "deny"} must deny exactly the
 * normalised paths a plain backtracking matcher says PATTERN matches.
 * Checked: an error is one line "fuzz.json:LINE: ..."; a normalised path
 * starts with '/', has no "//", "." or ".." segment, and is its own
 * normalisation; a refused path is denied whatever the rules say. */
#include "core/rules.h"
#include "fuzz/fuzz.h"

#include <jansson.h>

static const struct rules_subject subjects[] = {
    {false, false, NULL, 0},
    {true, false, "", 0},
    {true, true, "admin,ops", 9},
};

/* The reference: * any bytes but '/', ** any bytes, ? one byte but '/'. */
static int ref_glob(const char *p, const char *s)
{
    if (*p == '\0')
        return *s == '\0';
    if (p[0] == '*' && p[1] == '*') {
        for (const char *t = s;; t++) {
            if (ref_glob(p + 2, t))
                return 1;
            if (*t == '\0')
                return 0;
        }
    }
    if (*p == '*') {
        for (const char *t = s;; t++) {
            if (ref_glob(p + 1, t))
                return 1;
            if (*t == '\0' || *t == '/')
                return 0;
        }
    }
    if (*s == '\0' || (*p == '?' ? *s == '/' : *p != *s))
        return 0;
    return ref_glob(p + 1, s + 1);
}

static void check_normal(const char *path, size_t len)
{
    char out[RULES_PATH_MAX + 1], again[RULES_PATH_MAX + 1];
    size_t n, m;
    if (rules_path_normalize(path, len, out, sizeof out, &n) != 0)
        return;
    FUZZ_CHECK(n >= 1 && out[0] == '/' && strlen(out) == n);
    FUZZ_CHECK(strstr(out, "//") == NULL);
    FUZZ_CHECK(strstr(out, "/./") == NULL && strstr(out, "/../") == NULL);
    FUZZ_CHECK(!(n >= 2 && strcmp(out + n - 2, "/.") == 0));
    FUZZ_CHECK(!(n >= 3 && strcmp(out + n - 3, "/..") == 0));
    /* What decodes to '%' or '?' reads differently a second time. */
    if (memchr(out, '%', n) == NULL && memchr(out, '?', n) == NULL) {
        FUZZ_CHECK(rules_path_normalize(out, n, again, sizeof again, &m) == 0);
        FUZZ_CHECK(m == n && memcmp(out, again, n) == 0);
    }
}

static void fuzz_file(const char *text, size_t size)
{
    char err[512];
    rules *r = rules_parse(text, size, "fuzz.json", err, sizeof err);
    const char *nl = memrchr(text, '\n', size);
    const char *path = nl != NULL ? nl + 1 : text;
    size_t plen = size - (size_t)(path - text);
    check_normal(path, plen);
    if (r == NULL) {
        FUZZ_CHECK(strncmp(err, "fuzz.json:", 10) == 0);
        FUZZ_CHECK(strchr(err, '\n') == NULL);
        return;
    }
    char norm[RULES_PATH_MAX + 1];
    size_t n;
    bool refused = rules_path_normalize(path, plen, norm, sizeof norm, &n) != 0;
    struct rules_request q = {text, size < 16 ? size : 16, path, plen, "GET", 3};
    for (size_t i = 0; i < sizeof subjects / sizeof *subjects; i++) {
        enum rules_verdict v = rules_decide(r, RULES_PUBLIC, &q, &subjects[i]);
        FUZZ_CHECK(v == RULES_ALLOW || v == RULES_UNAUTHENTICATED || v == RULES_FORBIDDEN);
        if (refused)
            FUZZ_CHECK(v == RULES_FORBIDDEN);
    }
    (void)rules_names_host(r, text, size < 64 ? size : 64);
    rules_free(r);
}

static void fuzz_glob(const char *text, size_t size)
{
    const char *nl = memchr(text, '\n', size);
    if (nl == NULL || nl - text > 24 || size - (size_t)(nl - text) > 80)
        return;
    char pat[32];
    size_t plen = (size_t)(nl - text);
    memcpy(pat, text, plen);
    pat[plen] = '\0';
    json_t *doc = json_pack("[{s:[s#],s:s}]", "paths", pat, (int)plen, "policy", "deny");
    if (doc == NULL)
        return;
    char *js = json_dumps(doc, 0);
    json_decref(doc);
    FUZZ_CHECK(js != NULL);
    char err[512];
    rules *r = rules_parse(js, strlen(js), "fuzz.json", err, sizeof err);
    free(js);
    if (r == NULL)
        return;
    const char *path = nl + 1;
    size_t len = size - plen - 1;
    char norm[RULES_PATH_MAX + 1];
    size_t n;
    struct rules_request q = {"h", 1, path, len, "GET", 3};
    enum rules_verdict v = rules_decide(r, RULES_PUBLIC, &q, &subjects[1]);
    if (rules_path_normalize(path, len, norm, sizeof norm, &n) != 0) {
        FUZZ_CHECK(v == RULES_FORBIDDEN);
    } else if (memchr(norm, '\0', n) == NULL) {
        bool glob = strpbrk(pat, "*?") != NULL;
        bool want = glob ? ref_glob(pat, norm) : (n >= plen && memcmp(norm, pat, plen) == 0);
        FUZZ_CHECK(v == (want ? RULES_FORBIDDEN : RULES_ALLOW));
    }
    rules_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 0 && data[0] == '~')
        fuzz_glob((const char *)data + 1, size - 1);
    else
        fuzz_file((const char *)data, size);
    return 0;
}
