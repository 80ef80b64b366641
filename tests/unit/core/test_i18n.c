/* core/i18n and core/templates: the language an Accept-Language header
 * chooses, the catalogues, and the templates the binary carries. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/i18n.h"
#include "core/templates.h"
#include "test.h"

TEST(i18n_lang_default)
{
    CHECK_EQ_STR(i18n_lang(NULL), "en");
    CHECK_EQ_STR(i18n_lang(""), "en");
    CHECK_EQ_STR(i18n_lang("de, fr;q=0.9"), "en");
    CHECK_EQ_STR(i18n_lang("*"), "en");
    CHECK_EQ_STR(i18n_lang("en"), "en");
    CHECK_EQ_STR(i18n_lang("ru"), "ru");
    CHECK_EQ_STR(i18n_lang("RU-ru"), "ru");
    CHECK_EQ_STR(i18n_lang("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7"), "ru");
    CHECK_EQ_STR(i18n_lang("en-US,en;q=0.9,ru;q=0.8"), "en");
    /* "rus" and "russian" are other languages, not ru. */
    CHECK_EQ_STR(i18n_lang("rus"), "en");
    CHECK_EQ_STR(i18n_lang("ruby, en;q=0.1"), "en");
}

TEST(i18n_lang_q_values)
{
    CHECK_EQ_STR(i18n_lang("en;q=0.5, ru;q=0.6"), "ru");
    CHECK_EQ_STR(i18n_lang("en;q=0.6, ru;q=0.5"), "en");
    CHECK_EQ_STR(i18n_lang("ru;q=0.501, en;q=0.5"), "ru");
    CHECK_EQ_STR(i18n_lang("de, ru;q=0.1"), "ru");
    /* Equal weights: the one named first. */
    CHECK_EQ_STR(i18n_lang("ru, en"), "ru");
    CHECK_EQ_STR(i18n_lang("en;q=0.8, ru;q=0.8"), "en");
    CHECK_EQ_STR(i18n_lang("ru;q=0.8, en;q=0.8"), "ru");
    /* q=0 excludes; "*" stands for the languages no range names, and ranks
     * after a named one of the same weight. */
    CHECK_EQ_STR(i18n_lang("en;q=0, ru;q=0.1"), "ru");
    CHECK_EQ_STR(i18n_lang("en;q=0, *"), "ru");
    CHECK_EQ_STR(i18n_lang("ru;q=0, *"), "en");
    CHECK_EQ_STR(i18n_lang("*, ru"), "ru");
    CHECK_EQ_STR(i18n_lang("*;q=0.9, ru;q=0.5"), "en");
    CHECK_EQ_STR(i18n_lang("en;q=0, ru;q=0"), "en");
    /* The highest q of the ranges that name a language counts. */
    CHECK_EQ_STR(i18n_lang("en-GB;q=0, en;q=0.9, ru;q=0.8"), "en");
    CHECK_EQ_STR(i18n_lang("ru-RU;q=0.2, en;q=0.5, ru;q=0.7"), "ru");
    /* Whitespace as RFC 9110 allows it. */
    CHECK_EQ_STR(i18n_lang("  en ;  q=0.1 ,\tru\t; q=1.000 "), "ru");
    CHECK_EQ_STR(i18n_lang("en;Q=0.1,ru"), "ru");
}

TEST(i18n_lang_malformed_elements_skipped)
{
    /* Each malformed element is dropped; the rest still counts. */
    static const char *const ru_wins[] = {
        "en;q=2, ru;q=0.1",
        "en;q=1.5, ru;q=0.1",
        "en;q=0.1234, ru;q=0.1",
        "en;q=, ru;q=0.1",
        "en;q=.5, ru;q=0.1",
        "en;x=1, ru;q=0.1",
        "en;q=0.5x, ru;q=0.1",
        "en ru, ru;q=0.1",
        "abcdefghi, ru",
        "en-abcdefghi, ru",
        "en-, ru",
        "en--US, ru",
        "=, ;, ,,, ru",
        "1en, ru",
        "en;q=1.001, ru;q=0.1",
        "en;q=-1, ru;q=0.1",
        "en;;q=1, ru;q=0.1",
        "en;q=0.5;q=0.6, ru;q=0.1",
    };
    for (size_t i = 0; i < sizeof ru_wins / sizeof ru_wins[0]; i++) {
        const char *l = i18n_lang(ru_wins[i]);
        CHECK(strcmp(l, "ru") == 0 || (fprintf(stderr, "  input: %s\n", ru_wins[i]), 0));
    }
    CHECK_EQ_STR(i18n_lang(","), "en");
    CHECK_EQ_STR(i18n_lang(";q=1"), "en");
    CHECK_EQ_STR(i18n_lang("ru;q=1.000"), "ru");
    CHECK_EQ_STR(i18n_lang("ru;q=1."), "ru");
    CHECK_EQ_STR(i18n_lang("ru;q=0."), "en");
}

TEST(i18n_lang_long_header)
{
    /* A header at the request limit: a thousand ranges, the last one ru. */
    size_t n = 0, cap = 16 * 1024;
    char *h = malloc(cap);
    REQUIRE(h != NULL);
    for (int i = 0; i < 1000; i++)
        n += (size_t)snprintf(h + n, cap - n, "de-DE;q=0.9, ");
    snprintf(h + n, cap - n, "ru;q=0.95");
    CHECK_EQ_STR(i18n_lang(h), "ru");
    free(h);
}

/* Every key of both catalogues, each a string; the same keys in both. */
TEST(i18n_catalogues_load)
{
    char err[256] = "";
    size_t len = 0;

    CHECK_EQ_INT(i18n_init(err, sizeof err), 0);
    CHECK_EQ_STR(err, "");
    const char *m = i18n_message("ru", "reset.submit", strlen("reset.submit"), &len);
    REQUIRE(m != NULL);
    CHECK_EQ_STR(m, "Сменить пароль");
    CHECK_EQ_INT(len, strlen(m));
    m = i18n_message("en", "reset.submitX", strlen("reset.submit"), &len);
    CHECK(m != NULL && strcmp(m, "Set the new password") == 0);
    CHECK(i18n_message("de", "reset.submit", 12, &len) == NULL);
    CHECK(i18n_message(NULL, "reset.submit", 12, &len) == NULL);
    CHECK(i18n_message("en", "no.such.key", 11, &len) == NULL);

    /* The two catalogues hold the same keys (i18n_init checks it too). */
    const struct templates_file *en = templates_find("i18n/en.json");
    const struct templates_file *ru = templates_find("i18n/ru.json");
    REQUIRE(en != NULL && ru != NULL);
    json_t *e = json_loadb(en->data, en->len, JSON_REJECT_DUPLICATES, NULL);
    json_t *r = json_loadb(ru->data, ru->len, JSON_REJECT_DUPLICATES, NULL);
    REQUIRE(e != NULL && r != NULL);
    CHECK_EQ_INT(json_object_size(e), json_object_size(r));
    const char *key;
    json_t *v;
    json_object_foreach(e, key, v)
    {
        CHECK(json_object_get(r, key) != NULL);
        CHECK(json_is_string(v));
    }
    json_decref(e);
    json_decref(r);
}

TEST(i18n_messages_for_engine)
{
    struct tmpl_messages en = i18n_messages(NULL), ru = i18n_messages("ru");
    struct tmpl_messages other = i18n_messages("de");
    size_t len;

    CHECK_EQ_STR(en.get(en.ctx, "confirm.submit", 14, &len), "Confirm the address");
    CHECK_EQ_STR(other.get(other.ctx, "confirm.submit", 14, &len), "Confirm the address");
    CHECK_EQ_STR(ru.get(ru.ctx, "confirm.submit", 14, &len), "Подтвердить адрес");
}

TEST(templates_embedded)
{
    const struct templates_file *f = templates_find("pages/layout.html");

    REQUIRE(f != NULL);
    CHECK(f->len > 0);
    CHECK_EQ_INT(f->data[f->len], '\0');
    CHECK_EQ_INT(strlen(f->data), f->len);
    CHECK(strstr(f->data, "{{content}}") != NULL);
    CHECK(templates_find("pages/nope.html") == NULL);
    CHECK(templates_find("layout.html") == NULL);
    CHECK(templates_find("") == NULL);
    /* Every embedded name is a path under templates/, in order. */
    for (size_t i = 0; i < templates_nfiles; i++) {
        CHECK(strchr(templates_files[i].name, '\\') == NULL);
        CHECK(strncmp(templates_files[i].name, "templates/", 10) != 0);
        if (i > 0)
            CHECK(strcmp(templates_files[i - 1].name, templates_files[i].name) < 0);
    }
}

TEST(templates_render_in_language)
{
    const struct tmpl_var vars[] = {{"csrf", "c<sr>f", false},
                                    {"token", "tok", false},
                                    {"error", NULL, false},
                                    {"done", NULL, false},
                                    {"form", "1", false}};
    struct tmpl_result res;

    REQUIRE(templates_render("pages/reset.html", "ru", vars, 5, &res) == TMPL_OK);
    CHECK(strstr(res.out, "Сменить пароль") != NULL);
    CHECK(strstr(res.out, "value=\"c&lt;sr&gt;f\"") != NULL);
    free(res.out);
    REQUIRE(templates_render("pages/reset.html", "en", vars, 5, &res) == TMPL_OK);
    CHECK(strstr(res.out, "Set the new password") != NULL);
    free(res.out);
    CHECK_EQ_INT(templates_render("pages/nope.html", "en", vars, 5, &res), TMPL_NOT_FOUND);
    CHECK(res.out == NULL);
}
