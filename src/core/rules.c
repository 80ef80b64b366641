#include "core/rules.h"

#include <jansson.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/keyfile.h"

/* A host pattern, lower-case. Exact: s is the host. Wildcard ("*.a.b"): s
 * is ".a.b", which must end a longer host. */
struct rules_host {
    char *s;
    uint16_t len;
    bool wild;
};

/* A glob is compiled to tokens; a prefix is its bytes. lit: the bytes before
 * the first wildcard, which every match starts with (a cheap first test). */
enum { GLOB_LIT, GLOB_ONE, GLOB_STAR, GLOB_STARSTAR };

struct rules_path {
    char *s; /* the pattern */
    uint16_t len;
    uint16_t lit;     /* bytes of s before the first wildcard (a prefix: len) */
    uint64_t w8, m8;  /* s's first min(lit, 8) bytes as one load, and their mask */
    uint64_t t8, tm8; /* a glob: the last min(tail, 8) bytes as the end of one load */
    /* A glob: */
    uint8_t *tok; /* token kinds, NULL for a prefix */
    char *tokc;   /* GLOB_LIT's byte */
    uint16_t ntok;
    uint16_t tail;  /* bytes of s after the last wildcard: what a match ends with */
    uint16_t fixed; /* bytes a match needs at least (the tokens but stars) */
    /* A glob of at most 63 tokens runs as bit-parallel shift-and: bit i of
     * a state is "the first i tokens match". adv[k]: the tokens that step
     * on byte chars[k]; one, star, starstar: the tokens of each kind. */
    uint8_t nchars;
    char *chars;
    uint64_t *adv;
    uint64_t one, star, starstar;
};

struct rules_str {
    char *s;
    uint16_t len;
    uint64_t w8; /* the first 8 bytes, zero-padded: a method compares in one */
};

struct rules_rule {
    struct rules_host *hosts;
    struct rules_path *paths;
    struct rules_str *methods;
    struct rules_str *roles;
    uint16_t nhosts, npaths, nmethods, nroles;
    bool hosts_shared; /* hosts is the previous rule's (the same list): not freed here */
    enum rules_policy policy;
};

struct rules {
    atomic_long refs; /* rules_ref's reference plus one per rules_ref_get */
    struct rules_rule *v;
    size_t n;
};

struct rules_ref {
    pthread_mutex_t lock; /* guards cur, for the copy and the swap only */
    rules *cur;
    char *path;
};

static const char *const policy_names[] = {"deny", "public", "authenticated", "two_factor"};

/* ---- errors with a line ---------------------------------------------- */

/* The line where the JSON text places rule number `rule` (0-based) of the
 * top-level array, or within it the value of `key`, or element `elem` of
 * that value. Runs on an error only, on text jansson accepted. A key
 * written with escapes is not recognised: the rule's line is given then. */
static unsigned rules_line_of(const char *t, size_t n, size_t rule, const char *key, long elem)
{
    unsigned line = 1, best = 1;
    int depth = 0;
    bool start = false, in_rule = false, in_key = false;
    size_t idx1 = 0;
    long idx3 = 0;
    size_t klen = key != NULL ? strlen(key) : 0;

    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (c == '\n') {
            line++;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r')
            continue;
        if (start) {
            start = false;
            if (depth == 1 && idx1 == rule) {
                in_rule = true;
                best = line;
                if (key == NULL)
                    return line;
            } else if (depth == 2 && in_rule && c == '"') {
                if (i + 1 + klen < n && memcmp(t + i + 1, key, klen) == 0 &&
                    t[i + 1 + klen] == '"') {
                    in_key = true;
                    best = line;
                    if (elem < 0)
                        return line;
                }
            } else if (depth == 3 && in_key && idx3 == elem) {
                return line;
            }
        }
        switch (c) {
        case '"':
            for (i++; i < n && t[i] != '"'; i++)
                if (t[i] == '\\')
                    i++;
            break;
        case '[':
        case '{':
            depth++;
            start = true;
            idx3 = 0;
            break;
        case ']':
        case '}':
            depth--;
            if (depth == 1 && in_rule)
                return best;
            break;
        case ',':
            start = true;
            if (depth == 1)
                idx1++;
            else if (depth == 2)
                in_key = false;
            else if (depth == 3)
                idx3++;
            break;
        default: break;
        }
    }
    return best;
}

struct rules_ctx {
    const char *text;
    size_t len;
    const char *name;
    char *err;
    size_t errlen;
    size_t rule;
};

/* "NAME:LINE: what" for rule c->rule, key (NULL: the rule), elem (-1: the key). */
static int rules_fail(const struct rules_ctx *c, const char *key, long elem, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int rules_fail(const struct rules_ctx *c, const char *key, long elem, const char *fmt, ...)
{
    unsigned line = rules_line_of(c->text, c->len, c->rule, key, elem);
    int k = snprintf(c->err, c->errlen, "%s:%u: rule %zu: ", c->name, line, c->rule + 1);
    if (k >= 0 && (size_t)k < c->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err + k, c->errlen - (size_t)k, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---- compiling one rule -------------------------------------------- */

static bool rules_role_ok(const char *s, size_t n)
{
    if (n < 1 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
              ch == '-'))
            return false;
    }
    return true;
}

static char rules_lower(char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

/* A host pattern: DNS labels of a-z 0-9 - _ (any case), or an IP literal
 * ("127.0.0.1", "[::1]"), optionally "*." first; no port, no empty label,
 * no trailing dot. */
static const char *rules_host_check(const char *s, size_t n)
{
    if (n == 0)
        return "a host is empty";
    bool wild = n > 2 && s[0] == '*' && s[1] == '.';
    if (wild) {
        s += 2;
        n -= 2;
    }
    if (n > 253)
        return "a host is longer than 253 bytes";
    if (s[0] == '[') {
        if (wild)
            return "an IP address has no subdomains to match with \"*.\"";
        if (n < 3 || s[n - 1] != ']')
            return "a bracketed host must be an IPv6 literal like [::1]";
        for (size_t i = 1; i + 1 < n; i++)
            if (!strchr("0123456789abcdefABCDEF:.", s[i]))
                return "a bracketed host must be an IPv6 literal like [::1]";
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = rules_lower(s[i]);
        if (ch == ':')
            return "a host has no port (the request's port is ignored)";
        if (ch == '*')
            return "a host may only start with \"*.\" (a wildcard is a whole first label)";
        if (ch == '.') {
            if (i == 0 || i + 1 == n || s[i + 1] == '.')
                return "a host has an empty label";
            continue;
        }
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
            return "a host has a byte other than letters, digits, '-', '_' and '.'";
    }
    return NULL;
}

/* A path pattern: starts with '/', printable ASCII or UTF-8 bytes, already
 * in the form paths are matched in (no "//", no "." or ".." segment, no
 * '\'), and no run of three '*'. */
static const char *rules_pattern_check(const char *s, size_t n)
{
    if (n == 0 || s[0] != '/')
        return "a path must start with '/'";
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f)
            return "a path has a control character";
        if (ch == '\\')
            return "a path has a '\\' (requests with one are denied)";
        if (ch == '*' && i + 2 < n && s[i + 1] == '*' && s[i + 2] == '*')
            return "a bad glob: '***' (use * for one segment, ** for any)";
        if (ch == '/') {
            size_t e = i + 1;
            while (e < n && s[e] != '/')
                e++;
            size_t seg = e - i - 1;
            if (e < n && seg == 0)
                return "a path has \"//\" (requests' paths are matched with repeated slashes "
                       "merged)";
            if ((seg == 1 && s[i + 1] == '.') || (seg == 2 && s[i + 1] == '.' && s[i + 2] == '.'))
                return "a path has a \".\" or \"..\" segment (requests' paths are matched with "
                       "them removed)";
        }
    }
    return NULL;
}

/* The bit-parallel tables of a glob of at most 63 tokens. Two stars are
 * never neighbours ("***" is refused), so one step of closure is enough. */
static int rules_compile_shift(struct rules_path *p)
{
    p->chars = malloc(p->ntok);
    p->adv = calloc(p->ntok, sizeof *p->adv);
    if (p->chars == NULL || p->adv == NULL)
        return -1;
    for (size_t i = 0; i < p->ntok; i++) {
        uint64_t bit = (uint64_t)1 << i;
        if (p->tok[i] == GLOB_ONE)
            p->one |= bit;
        else if (p->tok[i] == GLOB_STAR)
            p->star |= bit;
        else if (p->tok[i] == GLOB_STARSTAR)
            p->starstar |= bit;
        else {
            char *k = memchr(p->chars, p->tokc[i], p->nchars);
            if (k == NULL) {
                k = &p->chars[p->nchars++];
                *k = p->tokc[i];
            }
            p->adv[k - p->chars] |= bit;
        }
    }
    return 0;
}

static int rules_compile_path(struct rules_path *p, const char *s, size_t n)
{
    if ((p->s = malloc(n + 1)) == NULL)
        return -1;
    memcpy(p->s, s, n);
    p->s[n] = '\0';
    p->len = (uint16_t)n;
    size_t lit = strcspn(p->s, "*?");
    p->lit = (uint16_t)lit;
    uint8_t w[8] = {0}, m[8] = {0};
    for (size_t i = 0; i < lit && i < 8; i++) {
        w[i] = (uint8_t)s[i];
        m[i] = 0xff;
    }
    memcpy(&p->w8, w, 8);
    memcpy(&p->m8, m, 8);
    if (lit == n)
        return 0;
    p->tok = malloc(n);
    p->tokc = malloc(n);
    if (p->tok == NULL || p->tokc == NULL)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        p->tokc[k] = s[i];
        if (s[i] == '*' && i + 1 < n && s[i + 1] == '*') {
            p->tok[k] = GLOB_STARSTAR;
            i++;
        } else if (s[i] == '*') {
            p->tok[k] = GLOB_STAR;
        } else {
            p->tok[k] = s[i] == '?' ? GLOB_ONE : GLOB_LIT;
            p->fixed++;
        }
        k++;
    }
    p->ntok = (uint16_t)k;
    size_t t = n;
    while (t > 0 && s[t - 1] != '*' && s[t - 1] != '?')
        t--;
    p->tail = (uint16_t)(n - t);
    memset(w, 0, 8);
    memset(m, 0, 8);
    for (size_t j = 0; j < p->tail && j < 8; j++) {
        w[7 - j] = (uint8_t)s[n - 1 - j];
        m[7 - j] = 0xff;
    }
    memcpy(&p->t8, w, 8);
    memcpy(&p->tm8, m, 8);
    return k <= 63 ? rules_compile_shift(p) : 0;
}

static void rules_rule_free(struct rules_rule *r)
{
    if (r->hosts_shared) {
        r->hosts = NULL;
        r->nhosts = 0;
    }
    for (size_t i = 0; i < r->nhosts; i++)
        free(r->hosts[i].s);
    for (size_t i = 0; i < r->npaths; i++) {
        free(r->paths[i].s);
        free(r->paths[i].tok);
        free(r->paths[i].tokc);
        free(r->paths[i].chars);
        free(r->paths[i].adv);
    }
    for (size_t i = 0; i < r->nmethods; i++)
        free(r->methods[i].s);
    for (size_t i = 0; i < r->nroles; i++)
        free(r->roles[i].s);
    free(r->hosts);
    free(r->paths);
    free(r->methods);
    free(r->roles);
}

/* The list value of key in o: a non-empty array of strings of at most
 * RULES_LIST_MAX entries, each 1..max bytes. *n = 0 when absent. */
static int rules_list(const struct rules_ctx *c, json_t *o, const char *key, size_t max, size_t *n)
{
    json_t *a = json_object_get(o, key);
    *n = 0;
    if (a == NULL)
        return 0;
    if (!json_is_array(a))
        return rules_fail(c, key, -1, "\"%s\" must be an array of strings", key);
    if (json_array_size(a) == 0)
        return rules_fail(c, key, -1, "\"%s\" is empty (leave it out to match any)", key);
    if (json_array_size(a) > RULES_LIST_MAX)
        return rules_fail(c, key, RULES_LIST_MAX, "\"%s\" has more than %d entries", key,
                          RULES_LIST_MAX);
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *e = json_array_get(a, i);
        if (!json_is_string(e))
            return rules_fail(c, key, (long)i, "\"%s\" must be an array of strings", key);
        size_t len = json_string_length(e);
        if (len == 0)
            return rules_fail(c, key, (long)i, "an entry of \"%s\" is empty", key);
        if (len > max)
            return rules_fail(c, key, (long)i, "an entry of \"%s\" is longer than %zu bytes", key,
                              max);
    }
    *n = json_array_size(a);
    return 0;
}

/* The first min(n, 8) bytes of s, zero-padded, as one word. */
static uint64_t rules_word(const char *s, size_t n)
{
    uint8_t w[8] = {0};
    memcpy(w, s, n < 8 ? n : 8);
    uint64_t v;
    memcpy(&v, w, 8);
    return v;
}

static char *rules_dup_lower(const char *s, size_t n, bool lower)
{
    char *d = malloc(n + 1);
    if (d == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        d[i] = lower ? rules_lower(s[i]) : s[i];
    d[n] = '\0';
    return d;
}

static int rules_oom(const struct rules_ctx *c)
{
    snprintf(c->err, c->errlen, "%s: out of memory", c->name);
    return -1;
}

static int rules_hosts(const struct rules_ctx *c, json_t *o, struct rules_rule *r)
{
    size_t n;
    if (rules_list(c, o, "hosts", 255, &n) != 0)
        return -1;
    if (n == 0)
        return 0;
    json_t *a = json_object_get(o, "hosts");
    if ((r->hosts = calloc(n, sizeof *r->hosts)) == NULL)
        return rules_oom(c);
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        size_t len = json_string_length(json_array_get(a, i));
        const char *why = rules_host_check(s, len);
        if (why != NULL)
            return rules_fail(c, "hosts", (long)i, "%s", why);
        struct rules_host *h = &r->hosts[r->nhosts++];
        h->wild = s[0] == '*';
        if (h->wild) { /* keep ".domain" */
            s++;
            len--;
        }
        if ((h->s = rules_dup_lower(s, len, true)) == NULL)
            return rules_oom(c);
        h->len = (uint16_t)len;
    }
    return 0;
}

static int rules_paths(const struct rules_ctx *c, json_t *o, struct rules_rule *r)
{
    size_t n;
    if (rules_list(c, o, "paths", RULES_PATTERN_MAX, &n) != 0)
        return -1;
    if (n == 0)
        return 0;
    json_t *a = json_object_get(o, "paths");
    if ((r->paths = calloc(n, sizeof *r->paths)) == NULL)
        return rules_oom(c);
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        size_t len = json_string_length(json_array_get(a, i));
        const char *why = rules_pattern_check(s, len);
        if (why != NULL)
            return rules_fail(c, "paths", (long)i, "%s", why);
        if (rules_compile_path(&r->paths[r->npaths++], s, len) != 0)
            return rules_oom(c);
    }
    return 0;
}

/* methods (upper-case tokens) and roles (role names): plain strings. */
static int rules_strs(const struct rules_ctx *c, json_t *o, const char *key, struct rules_str **out,
                      uint16_t *count)
{
    bool roles = strcmp(key, "roles") == 0;
    size_t n;
    if (rules_list(c, o, key, roles ? 32 : RULES_METHOD_MAX, &n) != 0)
        return -1;
    if (n == 0)
        return 0;
    json_t *a = json_object_get(o, key);
    if ((*out = calloc(n, sizeof **out)) == NULL)
        return rules_oom(c);
    for (size_t i = 0; i < n; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        size_t len = json_string_length(json_array_get(a, i));
        if (roles && !rules_role_ok(s, len))
            return rules_fail(c, key, (long)i,
                              "a bad role name (1 to 32 bytes of a-z 0-9 . _ -): \"%.40s\"", s);
        for (size_t k = 0; !roles && k < len; k++)
            if (s[k] < 'A' || s[k] > 'Z')
                return rules_fail(c, key, (long)i,
                                  "a bad method (upper-case letters only, as \"GET\"): \"%.40s\"",
                                  s);
        struct rules_str *e = &(*out)[(*count)++];
        if ((e->s = rules_dup_lower(s, len, false)) == NULL)
            return rules_oom(c);
        e->len = (uint16_t)len;
        e->w8 = rules_word(s, len);
    }
    return 0;
}

static int rules_rule(const struct rules_ctx *c, json_t *o, struct rules_rule *r)
{
    if (!json_is_object(o))
        return rules_fail(c, NULL, -1, "a rule must be an object");
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        if (strcmp(key, "hosts") != 0 && strcmp(key, "paths") != 0 && strcmp(key, "methods") != 0 &&
            strcmp(key, "policy") != 0 && strcmp(key, "roles") != 0)
            return rules_fail(c, key, -1,
                              "unknown key \"%.40s\" (hosts, paths, methods, policy, roles)", key);
    }
    json_t *p = json_object_get(o, "policy");
    if (p == NULL)
        return rules_fail(c, NULL, -1, "no \"policy\"");
    if (!json_is_string(p) || rules_policy_parse(json_string_value(p), &r->policy) != 0)
        return rules_fail(c, "policy", -1,
                          "\"policy\" must be \"deny\", \"public\", \"authenticated\" or "
                          "\"two_factor\"");
    if (rules_hosts(c, o, r) != 0 || rules_paths(c, o, r) != 0 ||
        rules_strs(c, o, "methods", &r->methods, &r->nmethods) != 0 ||
        rules_strs(c, o, "roles", &r->roles, &r->nroles) != 0)
        return -1;
    if (r->nroles > 0 && (r->policy == RULES_PUBLIC || r->policy == RULES_DENY))
        return rules_fail(c, "roles", -1, "\"roles\" with policy \"%s\" (roles need a sign-in)",
                          rules_policy_name(r->policy));
    return 0;
}

/* ---- parse, load, free ------------------------------------------------ */

/* Rules in a row often name the same hosts: they then share one list, and
 * rules_decide compares the request's host with it once. */
static void rules_share_hosts(const struct rules_rule *prev, struct rules_rule *r)
{
    if (r->nhosts == 0 || r->nhosts != prev->nhosts)
        return;
    for (size_t i = 0; i < r->nhosts; i++)
        if (r->hosts[i].wild != prev->hosts[i].wild || r->hosts[i].len != prev->hosts[i].len ||
            memcmp(r->hosts[i].s, prev->hosts[i].s, r->hosts[i].len) != 0)
            return;
    for (size_t i = 0; i < r->nhosts; i++)
        free(r->hosts[i].s);
    free(r->hosts);
    r->hosts = prev->hosts;
    r->hosts_shared = true;
}

/* An error quotes the file (jansson's "near '...'", a key, a role): its
 * control bytes become '?', so that it stays one line of the log. */
static void rules_err_clean(char *err, size_t errlen)
{
    for (size_t i = 0; i < errlen && err[i] != '\0'; i++)
        if ((unsigned char)err[i] < 0x20 || err[i] == 0x7f)
            err[i] = '?';
}

static rules *rules_parse_text(const char *text, size_t len, const char *name, char *err,
                               size_t errlen);

rules *rules_parse(const char *text, size_t len, const char *name, char *err, size_t errlen)
{
    rules *r = rules_parse_text(text, len, name, err, errlen);
    if (r == NULL && errlen > 0)
        rules_err_clean(err, errlen);
    return r;
}

static rules *rules_parse_text(const char *text, size_t len, const char *name, char *err,
                               size_t errlen)
{
    if (len > RULES_FILE_MAX) {
        snprintf(err, errlen, "%s: larger than %d bytes", name, RULES_FILE_MAX);
        return NULL;
    }
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        snprintf(err, errlen, "%s:%d: %s", name, je.line > 0 ? je.line : 1, je.text);
        return NULL;
    }
    struct rules_ctx c = {text, len, name, err, errlen, 0};
    rules *r = calloc(1, sizeof *r);
    if (r == NULL) {
        rules_oom(&c);
        json_decref(root);
        return NULL;
    }
    atomic_init(&r->refs, 1);
    int rc = 0;
    if (!json_is_array(root)) {
        snprintf(err, errlen, "%s:1: the rules must be a JSON array of rules", name);
        rc = -1;
    } else if (json_array_size(root) > RULES_MAX) {
        c.rule = RULES_MAX;
        rc = rules_fail(&c, NULL, -1, "more than %d rules", RULES_MAX);
    } else if (json_array_size(root) > 0 &&
               (r->v = calloc(json_array_size(root), sizeof *r->v)) == NULL) {
        rc = rules_oom(&c);
    }
    for (size_t i = 0; rc == 0 && i < json_array_size(root); i++) {
        c.rule = i;
        r->n = i + 1;
        rc = rules_rule(&c, json_array_get(root, i), &r->v[i]);
        if (rc == 0 && i > 0)
            rules_share_hosts(&r->v[i - 1], &r->v[i]);
    }
    json_decref(root);
    if (rc != 0) {
        rules_free(r);
        return NULL;
    }
    return r;
}

rules *rules_load(const char *path, char *err, size_t errlen)
{
    char *buf;
    size_t len;
    if (keyfile_read(path, RULES_FILE_MAX, KEYFILE_READABLE, &buf, &len, NULL, err, errlen) != 0)
        return NULL;
    rules *r = rules_parse(buf, len, path, err, errlen);
    keyfile_free(buf);
    return r;
}

void rules_free(rules *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n; i++)
        rules_rule_free(&r->v[i]);
    free(r->v);
    free(r);
}

size_t rules_count(const rules *r)
{
    return r != NULL ? r->n : 0;
}

int rules_policy_parse(const char *s, enum rules_policy *out)
{
    for (size_t i = 0; i < sizeof policy_names / sizeof *policy_names; i++)
        if (strcmp(s, policy_names[i]) == 0) {
            *out = (enum rules_policy)i;
            return 0;
        }
    return -1;
}

const char *rules_policy_name(enum rules_policy p)
{
    return (unsigned)p < sizeof policy_names / sizeof *policy_names ? policy_names[p] : "?";
}

/* ---- the request's path ------------------------------------------------ */

static int rules_hex(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    ch = rules_lower(ch);
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    return -1;
}

/* Percent-decodes path (without its query) into out; -1 on a refused byte. */
static int rules_path_decode(const char *path, size_t len, char *out, size_t *n)
{
    size_t w = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = path[i];
        if (ch == '%') {
            int hi = i + 2 < len ? rules_hex(path[i + 1]) : -1;
            int lo = i + 2 < len ? rules_hex(path[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return -1;
            ch = (char)(hi * 16 + lo);
            i += 2;
            /* %2F would be one segment to a server that does not decode
             * it and two to one that does: no single answer is safe. */
            if (ch == '/')
                return -1;
        }
        if (ch == '\0' || ch == '\\')
            return -1;
        out[w++] = ch;
    }
    *n = w;
    return 0;
}

/* RFC 3986 section 5.2.4 on a decoded path that starts with '/', in place;
 * also merges repeated slashes (as nginx does by default), so "//admin" is
 * judged as "/admin". ".." at the root stays at the root. */
static size_t rules_path_dots(char *p, size_t n)
{
    size_t w = 0, r = 0;
    while (r < n) {
        while (r < n && p[r] == '/')
            r++;
        size_t s = r;
        while (r < n && p[r] != '/')
            r++;
        size_t seg = r - s;
        bool last = r >= n;
        if (seg == 1 && p[s] == '.') {
            if (last)
                p[w++] = '/';
        } else if (seg == 2 && p[s] == '.' && p[s + 1] == '.') {
            while (w > 0 && p[w - 1] != '/')
                w--;
            if (w > 0)
                w--;
            if (last)
                p[w++] = '/';
        } else {
            p[w++] = '/';
            memmove(p + w, p + s, seg);
            w += seg;
        }
    }
    if (w == 0)
        p[w++] = '/';
    return w;
}

int rules_path_normalize(const char *path, size_t len, char *out, size_t outcap, size_t *outlen)
{
    const char *q = memchr(path, '?', len);
    if (q != NULL)
        len = (size_t)(q - path);
    if (len == 0 || path[0] != '/' || len > RULES_PATH_MAX || outcap < len + 1)
        return -1;
    size_t n;
    if (rules_path_decode(path, len, out, &n) != 0)
        return -1;
    n = rules_path_dots(out, n);
    out[n] = '\0';
    *outlen = n;
    return 0;
}

/* ---- matching ---------------------------------------------------------- */

/* The glob's tokens against the whole of s, as an NFA: live[i] means the
 * first i tokens match what was read. No backtracking, so no pattern costs
 * more than tokens x bytes. The general form, for globs of 64 tokens or more. */
static void rules_glob_close(const struct rules_path *p, uint8_t *live)
{
    /* A star may match nothing: its state also stands at the next token. */
    for (size_t i = 0; i < p->ntok; i++)
        if (live[i] && (p->tok[i] == GLOB_STAR || p->tok[i] == GLOB_STARSTAR))
            live[i + 1] = 1;
}

static bool rules_glob_long(const struct rules_path *p, const char *s, size_t n)
{
    uint8_t a[RULES_PATTERN_MAX + 1], b[RULES_PATTERN_MAX + 1];
    uint8_t *cur = a, *next = b;
    size_t T = p->ntok;
    memset(cur, 0, T + 1);
    cur[0] = 1;
    rules_glob_close(p, cur);
    for (size_t k = 0; k < n; k++) {
        char ch = s[k];
        bool any = false;
        memset(next, 0, T + 1);
        for (size_t i = 0; i < T; i++) {
            if (!cur[i])
                continue;
            switch (p->tok[i]) {
            case GLOB_STARSTAR: next[i] = 1; break;
            case GLOB_STAR: next[i] |= ch != '/'; break;
            case GLOB_ONE: next[i + 1] |= ch != '/'; break;
            default: next[i + 1] |= p->tokc[i] == ch; break;
            }
            any = true;
        }
        if (!any)
            return false;
        rules_glob_close(p, next);
        uint8_t *t = cur;
        cur = next;
        next = t;
    }
    return cur[T] != 0;
}

/* The same NFA, one bit per state (shift-and). */
static bool rules_glob_short(const struct rules_path *p, const char *s, size_t n)
{
    uint64_t stars = p->star | p->starstar;
    uint64_t d = 1;
    d |= (d & stars) << 1;
    for (size_t k = 0; k < n; k++) {
        char ch = s[k];
        uint64_t adv = 0;
        for (size_t i = 0; i < p->nchars; i++)
            if (p->chars[i] == ch) {
                adv = p->adv[i];
                break;
            }
        if (ch != '/')
            adv |= p->one;
        d = ((d & adv) << 1) | (d & (ch == '/' ? p->starstar : stars));
        d |= (d & stars) << 1;
        if (d == 0)
            return false;
    }
    return (d >> p->ntok) & 1;
}

/* memcmp(a, b, n) == 0 for the few bytes of a pattern: a call to the
 * library's memcmp costs more than the comparison itself. */
static inline bool rules_eq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/* Whether s[0..n) ends as the glob p does (what follows its last wildcard). */
static inline bool rules_tail_eq(const struct rules_path *p, const char *s, size_t n)
{
    if (n < 8)
        return rules_eq(p->s + p->len - p->tail, s + n - p->tail, p->tail);
    uint64_t end;
    memcpy(&end, s + n - 8, 8);
    return (end & p->tm8) == p->t8 &&
           (p->tail <= 8 || rules_eq(p->s + p->len - p->tail, s + n - p->tail, p->tail - 8u));
}

/* s[0..n) is the normalised path, its buffer zero-padded to 8 bytes. */
static bool rules_path_match(const struct rules_rule *r, const char *s, size_t n)
{
    uint64_t head;
    memcpy(&head, s, 8);
    for (size_t i = 0; i < r->npaths; i++) {
        const struct rules_path *p = &r->paths[i];
        if (p->lit > n || (head & p->m8) != p->w8 ||
            (p->lit > 8 && !rules_eq(p->s + 8, s + 8, p->lit - 8u)))
            continue;
        if (p->tok == NULL)
            return true;
        if (p->fixed > n || !rules_tail_eq(p, s, n))
            continue;
        if (p->adv != NULL ? rules_glob_short(p, s, n) : rules_glob_long(p, s, n))
            return true;
    }
    return false;
}

static inline bool rules_host_match(const struct rules_rule *r, const char *h, size_t n)
{
    for (size_t i = 0; i < r->nhosts; i++) {
        const struct rules_host *e = &r->hosts[i];
        if (e->wild ? (n > e->len && rules_eq(h + n - e->len, e->s, e->len))
                    : (n == e->len && rules_eq(h, e->s, n)))
            return true;
    }
    return false;
}

/* mw: m's first 8 bytes, zero-padded (rules_word). */
static inline bool rules_method_match(const struct rules_rule *r, const char *m, size_t n,
                                      uint64_t mw)
{
    for (size_t i = 0; i < r->nmethods; i++)
        if (r->methods[i].len == n && r->methods[i].w8 == mw &&
            (n <= 8 || rules_eq(r->methods[i].s + 8, m + 8, n - 8)))
            return true;
    return false;
}

/* Whether the comma-separated list has one of the rule's roles. */
static bool rules_has_role(const struct rules_rule *r, const char *list, size_t n)
{
    for (size_t a = 0; list != NULL && a < n;) {
        size_t b = a;
        while (b < n && list[b] != ',')
            b++;
        for (size_t i = 0; i < r->nroles; i++)
            if (r->roles[i].len == b - a && memcmp(r->roles[i].s, list + a, b - a) == 0)
                return true;
        a = b + 1;
    }
    return false;
}

/* The host without its port and a trailing dot, lower-case, into buf of
 * RULES_HOST_MAX + 1 bytes; 0 when there is none worth matching. */
static size_t rules_host_key(const char *h, size_t n, char *buf)
{
    if (h == NULL)
        return 0;
    if (n > 0 && h[0] == '[') {
        const char *e = memchr(h, ']', n);
        if (e == NULL)
            return 0;
        n = (size_t)(e - h) + 1;
    } else {
        const char *colon = memchr(h, ':', n);
        if (colon != NULL)
            n = (size_t)(colon - h);
    }
    /* "example.com." is example.com (RFC 1034 section 3.1): a rule must not
     * be escaped by the absolute form. */
    if (n > 0 && h[n - 1] == '.')
        n--;
    if (n == 0 || n > RULES_HOST_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (h[i] == '\0')
            return 0;
        buf[i] = rules_lower(h[i]);
    }
    return n;
}

static enum rules_verdict rules_apply(enum rules_policy p, const struct rules_rule *r,
                                      const struct rules_subject *sub)
{
    switch (p) {
    case RULES_PUBLIC: return RULES_ALLOW;
    case RULES_AUTHENTICATED:
    case RULES_TWO_FACTOR:
        if (!sub->signed_in)
            return RULES_UNAUTHENTICATED;
        if (p == RULES_TWO_FACTOR && !sub->two_factor)
            return RULES_FORBIDDEN;
        if (r != NULL && r->nroles > 0 && !rules_has_role(r, sub->roles, sub->roles_len))
            return RULES_FORBIDDEN;
        return RULES_ALLOW;
    case RULES_DENY:
    default: return RULES_FORBIDDEN;
    }
}

enum rules_verdict rules_decide(const rules *r, enum rules_policy dflt,
                                const struct rules_request *req, const struct rules_subject *sub)
{
    char path[RULES_PATH_MAX + 1];
    char host[RULES_HOST_MAX + 1];
    size_t plen;
    memset(path, 0, 8); /* rules_path_match loads 8 bytes at once */
    if (req->path == NULL ||
        rules_path_normalize(req->path, req->path_len, path, sizeof path, &plen) != 0)
        return RULES_FORBIDDEN;
    size_t n = r != NULL ? r->n : 0;
    if (n == 0)
        return rules_apply(dflt, NULL, sub);
    size_t hlen = rules_host_key(req->host, req->host_len, host);
    const char *m = req->method != NULL ? req->method : "";
    size_t mlen = req->method != NULL ? req->method_len : 0;
    /* Methods are case-sensitive (RFC 9110 §9.1), but some applications
     * read "delete" as DELETE and a proxy (Caddy) passes it on as sent: a
     * rule about DELETE must decide it too. The rules' names are upper
     * case; the request's is compared in upper case. */
    char mup[RULES_METHOD_MAX];
    if (mlen <= sizeof mup) {
        for (size_t i = 0; i < mlen; i++)
            mup[i] = m[i] >= 'a' && m[i] <= 'z' ? (char)(m[i] - 'a' + 'A') : m[i];
        m = mup;
    }
    uint64_t mw = rules_word(m, mlen);
    const struct rules_host *seen = NULL; /* the last host list compared */
    bool seen_match = false;
    for (size_t i = 0; i < n; i++) {
        const struct rules_rule *x = &r->v[i];
        if (x->nhosts > 0) {
            /* No host (an HTTP/1.0 request without Host, which nginx
             * serves from its default server and forwards without one):
             * which of the proxy's sites it reached is unknown, so a rule
             * for that site's hosts, perhaps stricter than the default,
             * cannot be passed over. Denied. */
            if (hlen == 0)
                return RULES_FORBIDDEN;
            if (x->hosts != seen) {
                seen = x->hosts;
                seen_match = rules_host_match(x, host, hlen);
            }
            if (!seen_match)
                continue;
        }
        if (x->nmethods > 0 && !rules_method_match(x, m, mlen, mw))
            continue;
        if (x->npaths > 0 && !rules_path_match(x, path, plen))
            continue;
        return rules_apply(x->policy, x, sub);
    }
    return rules_apply(dflt, NULL, sub);
}

bool rules_names_host(const rules *r, const char *host, size_t len)
{
    char buf[RULES_HOST_MAX + 1];
    size_t n = rules_host_key(host, len, buf);
    if (r == NULL || n == 0)
        return false;
    for (size_t i = 0; i < r->n; i++)
        if (rules_host_match(&r->v[i], buf, n))
            return true;
    return false;
}

/* ---- the current rules of a server ----------------------------------- */

rules_ref *rules_ref_new(rules *r, const char *path)
{
    rules_ref *ref = calloc(1, sizeof *ref);
    if (ref == NULL || (path != NULL && (ref->path = strdup(path)) == NULL) ||
        pthread_mutex_init(&ref->lock, NULL) != 0) {
        if (ref != NULL)
            free(ref->path);
        free(ref);
        rules_free(r);
        return NULL;
    }
    ref->cur = r;
    return ref;
}

int rules_ref_reload(rules_ref *ref, size_t *count, char *err, size_t errlen)
{
    if (ref->path == NULL) {
        snprintf(err, errlen, "no ACCESS_RULES_FILE to read");
        return -1;
    }
    rules *r = rules_load(ref->path, err, errlen);
    if (r == NULL)
        return -1;
    *count = r->n;
    pthread_mutex_lock(&ref->lock);
    rules *old = ref->cur;
    ref->cur = r;
    pthread_mutex_unlock(&ref->lock);
    rules_ref_put(old);
    return 0;
}

void rules_ref_free(rules_ref *ref)
{
    if (ref == NULL)
        return;
    rules_ref_put(ref->cur);
    pthread_mutex_destroy(&ref->lock);
    free(ref->path);
    free(ref);
}

const rules *rules_ref_get(rules_ref *ref)
{
    if (ref == NULL)
        return NULL;
    pthread_mutex_lock(&ref->lock);
    rules *r = ref->cur;
    if (r != NULL)
        atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&ref->lock);
    return r;
}

void rules_ref_put(const rules *r)
{
    rules *m = (rules *)r;
    if (m != NULL && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
        rules_free(m);
}
