#include "core/i18n.h"

#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/templates.h"

/* The supported languages, the default first. */
static const char *const langs[] = {"en", "ru"};
#define NLANGS (sizeof langs / sizeof langs[0])

/* The catalogues, parsed once and kept for the process's life: they are
 * read-only after the parse, so lookups from every thread need no lock. */
static json_t *catalogues[NLANGS];
static char load_error[256];
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

/* One element of an Accept-Language list: a language range and its weight
 * in thousandths. */
struct range {
    const char *tag;
    size_t len;
    int q;
};

static bool alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool alnum(char c)
{
    return alpha(c) || (c >= '0' && c <= '9');
}

static const char *skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), RFC 9110
 * §12.4.2; -1 when malformed. *p moves past it. */
static int parse_q(const char **p)
{
    const char *s = *p;
    int q;

    if (*s != '0' && *s != '1')
        return -1;
    q = (*s++ - '0') * 1000;
    if (*s == '.') {
        s++;
        for (int scale = 100, n = 0; n < 3 && *s >= '0' && *s <= '9'; n++, scale /= 10)
            q += (*s++ - '0') * scale;
    }
    if (q > 1000 || (*s >= '0' && *s <= '9'))
        return -1;
    *p = s;
    return q;
}

/* language-range = (1*8ALPHA *("-" 1*8alphanum)) / "*" (RFC 4647 §2.1). */
static const char *parse_range(const char *p, struct range *r)
{
    const char *s = p;

    if (*s == '*') {
        s++;
    } else {
        size_t n = 0;
        while (alpha(*s) && n < 8)
            s++, n++;
        if (n == 0)
            return NULL;
        while (*s == '-') {
            const char *sub = ++s;
            while (alnum(*s) && s - sub < 8)
                s++;
            if (s == sub)
                return NULL;
        }
        if (alnum(*s))
            return NULL; /* a subtag longer than 8 */
    }
    r->tag = p;
    r->len = (size_t)(s - p);
    return s;
}

/* Parses the element at *p (up to the next ',' or the end) into r, and
 * moves *p past its comma. Returns false for a malformed element, which
 * the caller skips. Parameters other than q are not allowed (RFC 9110
 * defines none). */
static bool next_element(const char **p, struct range *r)
{
    const char *s = parse_range(skip_ows(*p), r);
    bool ok = s != NULL;

    r->q = 1000;
    if (ok) {
        s = skip_ows(s);
        if (*s == ';') {
            s = skip_ows(s + 1);
            ok = (s[0] == 'q' || s[0] == 'Q') && s[1] == '=';
            if (ok) {
                s += 2;
                r->q = parse_q(&s);
                ok = r->q >= 0;
                s = skip_ows(s);
            }
        }
        ok = ok && (*s == ',' || *s == '\0');
    }
    const char *comma = strchr(*p, ',');
    *p = comma != NULL ? comma + 1 : *p + strlen(*p);
    return ok;
}

/* True when range names lang itself or a subtag of it ("ru", "ru-RU"). */
static bool range_names(const struct range *r, const char *lang)
{
    size_t n = strlen(lang);

    return r->len >= n && strncasecmp(r->tag, lang, n) == 0 && (r->len == n || r->tag[n] == '-');
}

const char *i18n_lang(const char *accept_language)
{
    int q[NLANGS], pos[NLANGS];
    int star_q = -1, n = 0;
    struct range r;

    for (size_t i = 0; i < NLANGS; i++)
        q[i] = -1, pos[i] = 0;
    for (const char *p = accept_language; p != NULL && *p != '\0'; n++) {
        if (!next_element(&p, &r))
            continue;
        if (r.len == 1 && r.tag[0] == '*') {
            if (r.q > star_q)
                star_q = r.q;
            continue;
        }
        for (size_t i = 0; i < NLANGS; i++)
            if (range_names(&r, langs[i]) && r.q > q[i])
                q[i] = r.q, pos[i] = n;
    }
    /* "*" stands for every language no range names, and ranks after the
     * named ones at an equal q; among its own, the default comes first. */
    size_t best = 0;
    int best_q = 0, best_pos = 0;
    for (size_t i = 0; i < NLANGS; i++) {
        int qi = q[i] >= 0 ? q[i] : star_q, pi = q[i] >= 0 ? pos[i] : INT_MAX;
        if (qi > best_q || (qi == best_q && qi > 0 && pi < best_pos)) {
            best = i;
            best_q = qi;
            best_pos = pi;
        }
    }
    return langs[best];
}

/* Parses one catalogue: an object whose every value is a string. */
static json_t *load_catalogue(const char *lang, char *err, size_t errlen)
{
    char name[32];
    json_error_t e;

    snprintf(name, sizeof name, "i18n/%s.json", lang);
    const struct templates_file *f = templates_find(name);
    if (f == NULL) {
        snprintf(err, errlen, "templates/%s is not in the binary", name);
        return NULL;
    }
    json_t *o = json_loadb(f->data, f->len, JSON_REJECT_DUPLICATES, &e);
    if (o == NULL || !json_is_object(o)) {
        snprintf(err, errlen, "templates/%s: not a JSON object (line %d: %s)", name, e.line,
                 o == NULL ? e.text : "");
        json_decref(o);
        return NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v)
    {
        if (!json_is_string(v)) {
            snprintf(err, errlen, "templates/%s: \"%.60s\" is not a string", name, key);
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

/* Every key of a is in b. */
static bool same_keys(json_t *a, json_t *b, const char **missing)
{
    const char *key;
    json_t *v;

    json_object_foreach(a, key, v)
    {
        if (json_object_get(b, key) == NULL) {
            *missing = key;
            return false;
        }
    }
    return true;
}

static void load(void)
{
    json_t *c[NLANGS] = {0};
    const char *missing = NULL;

    for (size_t i = 0; i < NLANGS; i++)
        if ((c[i] = load_catalogue(langs[i], load_error, sizeof load_error)) == NULL)
            goto fail;
    for (size_t i = 1; i < NLANGS; i++) {
        if (!same_keys(c[0], c[i], &missing) || !same_keys(c[i], c[0], &missing)) {
            snprintf(load_error, sizeof load_error,
                     "templates/i18n: \"%.60s\" is in one catalogue and not in the other", missing);
            goto fail;
        }
    }
    memcpy(catalogues, c, sizeof c);
    return;
fail:
    for (size_t i = 0; i < NLANGS; i++)
        json_decref(c[i]);
}

int i18n_init(char *err, size_t errlen)
{
    pthread_once(&load_once, load);
    if (catalogues[0] == NULL) {
        snprintf(err, errlen, "%s", load_error);
        return -1;
    }
    return 0;
}

const char *i18n_message(const char *lang, const char *key, size_t klen, size_t *len)
{
    pthread_once(&load_once, load);
    for (size_t i = 0; i < NLANGS; i++) {
        if (lang == NULL || strcmp(lang, langs[i]) != 0 || catalogues[i] == NULL)
            continue;
        json_t *v = json_object_getn(catalogues[i], key, klen);
        if (v == NULL)
            return NULL;
        *len = json_string_length(v);
        return json_string_value(v);
    }
    return NULL;
}

static const char *engine_message(void *ctx, const char *key, size_t klen, size_t *len)
{
    return i18n_message(ctx, key, klen, len);
}

struct tmpl_messages i18n_messages(const char *lang)
{
    const char *l = I18N_DEFAULT;

    for (size_t i = 0; lang != NULL && i < NLANGS; i++)
        if (strcmp(lang, langs[i]) == 0)
            l = langs[i];
    return (struct tmpl_messages){engine_message, (void *)(uintptr_t)l};
}
