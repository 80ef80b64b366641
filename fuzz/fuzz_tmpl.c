/* util/tmpl.c (the template engine of the pages and mails) and core/i18n.c's
 * i18n_lang (the Accept-Language header). The input is rendered as a
 * template in both modes with fixed variables and messages whose values
 * hold markup, and read as an Accept-Language value. */
#include "core/i18n.h"
#include "fuzz/fuzz.h"
#include "util/tmpl.h"

#define LIMIT 4096

/* How many times needle occurs in hay (overlaps counted). */
static size_t fuzz_count(const void *hay, size_t hlen, const char *needle, size_t nlen)
{
    const char *h = hay;
    size_t n = 0;

    for (size_t i = 0; i + nlen <= hlen; i++)
        n += memcmp(h + i, needle, nlen) == 0;
    return n;
}

static const char *messages(void *ctx, const char *key, size_t klen, size_t *len)
{
    static const char *const kv[][2] = {
        {"m", "<m {{v}} {{n}}"},
        {"loop", "{{@loop}}"},
        {"sec", "{{#v}}x{{/v}}"},
    };
    (void)ctx;
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (strlen(kv[i][0]) == klen && memcmp(kv[i][0], key, klen) == 0) {
            *len = strlen(kv[i][1]);
            return kv[i][1];
        }
    return NULL;
}

static const struct tmpl_var vars[] = {
    {"v", "<v\"'&>", false},
    {"e", "", false},
    {"n", NULL, false},
    {"raw", "<raw>", true},
};

static enum tmpl_status render(const uint8_t *data, size_t size, enum tmpl_mode mode,
                               struct tmpl_result *res)
{
    const struct tmpl_messages msgs = {messages, NULL};
    enum tmpl_status st = tmpl_render((const char *)data, size, mode, vars,
                                      sizeof vars / sizeof vars[0], &msgs, LIMIT, res);

    if (st == TMPL_OK) {
        FUZZ_CHECK(res->out != NULL);
        FUZZ_CHECK(res->len <= LIMIT);
        FUZZ_CHECK(res->out[res->len] == '\0');
    } else {
        FUZZ_CHECK(res->out == NULL);
        FUZZ_CHECK(res->where <= size);
    }
    return st;
}

static void check_language(const uint8_t *data, size_t size)
{
    char *s = fuzz_strndup(data, size);
    const char *l = i18n_lang(s);

    FUZZ_CHECK(strcmp(l, "en") == 0 || strcmp(l, "ru") == 0);
    /* Russian is chosen only when a range names it, or "*" stands for it. */
    if (strcmp(l, "ru") == 0)
        FUZZ_CHECK(strcasestr(s, "ru") != NULL || strchr(s, '*') != NULL);
    /* A first element "ru" of weight 1 wins whatever follows. */
    char *first = malloc(size + 16);
    FUZZ_CHECK(first != NULL);
    memcpy(first, "ru;q=1, ", 8);
    memcpy(first + 8, s, strlen(s) + 1);
    FUZZ_CHECK(strcmp(i18n_lang(first), "ru") == 0);
    free(first);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tmpl_result html, text;
    enum tmpl_status sh = render(data, size, TMPL_HTML, &html);
    enum tmpl_status st = render(data, size, TMPL_TEXT, &text);

    /* Escaping only grows the output: what renders as HTML renders as text,
     * and a template's faults are the same in both. */
    if (sh == TMPL_OK)
        FUZZ_CHECK(st == TMPL_OK && text.len <= html.len);
    if (sh != TMPL_OK && sh != TMPL_TOO_LARGE)
        FUZZ_CHECK(st == sh && text.where == html.where);
    /* No value or message can open a tag or leave an attribute in HTML:
     * every '<', '>', '"' and '\'' of the output comes from the template's
     * own text or from the one raw variable (a section is shown at most
     * once, so no byte of the template is written twice). Counted, not
     * searched: "<{{e}}v" writes "<v" from text around an empty value. */
    if (sh == TMPL_OK) {
        size_t raws = fuzz_count(data, size, "{{raw}}", 7);
        FUZZ_CHECK(fuzz_count(html.out, html.len, "<", 1) <= fuzz_count(data, size, "<", 1) + raws);
        FUZZ_CHECK(fuzz_count(html.out, html.len, ">", 1) <= fuzz_count(data, size, ">", 1) + raws);
        FUZZ_CHECK(fuzz_count(html.out, html.len, "\"", 1) <= fuzz_count(data, size, "\"", 1));
        FUZZ_CHECK(fuzz_count(html.out, html.len, "'", 1) <= fuzz_count(data, size, "'", 1));
    }
    free(html.out);
    free(text.out);
    check_language(data, size);
    return 0;
}
