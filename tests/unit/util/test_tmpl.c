/* util/tmpl: variables escaped for the mode, messages, sections, and the
 * limits (output size, nesting), with the position of an error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "util/tmpl.h"

/* A catalogue of three messages for the tests. */
static const char *messages(void *ctx, const char *key, size_t klen, size_t *len)
{
    static const char *const kv[][2] = {
        {"hello", "Hello, {{name}} & co"},
        {"loop", "{{@loop}}"},
        {"section", "{{#name}}x{{/name}}"},
    };
    (void)ctx;
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (strlen(kv[i][0]) == klen && memcmp(kv[i][0], key, klen) == 0) {
            *len = strlen(kv[i][1]);
            return kv[i][1];
        }
    return NULL;
}

static const struct tmpl_messages msgs = {messages, NULL};

/* Renders s in mode with one variable name=value; the output or NULL. */
static enum tmpl_status render(const char *s, enum tmpl_mode mode, const char *value,
                               struct tmpl_result *res)
{
    const struct tmpl_var vars[] = {{"name", value, false}, {"empty", "", false}};
    return tmpl_render(s, strlen(s), mode, vars, 2, &msgs, 0, res);
}

TEST(tmpl_variables_escaped_in_html)
{
    struct tmpl_result res;

    REQUIRE(render("<p title=\"{{name}}\">{{name}}</p>", TMPL_HTML, "<a href='x'>\"&\"</a>",
                   &res) == TMPL_OK);
    CHECK_EQ_STR(res.out, "<p title=\"&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;\">"
                          "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;</p>");
    CHECK_EQ_INT(res.len, strlen(res.out));
    free(res.out);
    /* Text mode inserts the value as it is. */
    REQUIRE(render("v={{name}}", TMPL_TEXT, "<b>&", &res) == TMPL_OK);
    CHECK_EQ_STR(res.out, "v=<b>&");
    free(res.out);
}

TEST(tmpl_raw_variable)
{
    const struct tmpl_var vars[] = {{"content", "<p>ok</p>", true}, {"t", "<i>", false}};
    struct tmpl_result res;
    const char *s = "<main>{{content}}{{t}}</main>";

    REQUIRE(tmpl_render(s, strlen(s), TMPL_HTML, vars, 2, NULL, 0, &res) == TMPL_OK);
    CHECK_EQ_STR(res.out, "<main><p>ok</p>&lt;i&gt;</main>");
    free(res.out);
}

TEST(tmpl_messages_hold_variables)
{
    struct tmpl_result res;

    /* The message's own text is escaped too, and so is its variable. */
    REQUIRE(render("<h1>{{@hello}}</h1>", TMPL_HTML, "<Ann>", &res) == TMPL_OK);
    CHECK_EQ_STR(res.out, "<h1>Hello, &lt;Ann&gt; &amp; co</h1>");
    free(res.out);
    REQUIRE(render("{{@hello}}", TMPL_TEXT, "<Ann>", &res) == TMPL_OK);
    CHECK_EQ_STR(res.out, "Hello, <Ann> & co");
    free(res.out);
    /* A message may not name messages (a loop) nor hold sections. */
    CHECK_EQ_INT(render("ab{{@loop}}", TMPL_TEXT, "x", &res), TMPL_SYNTAX);
    CHECK_EQ_INT(res.where, 2);
    CHECK(res.out == NULL);
    CHECK_EQ_INT(render("{{@section}}", TMPL_TEXT, "x", &res), TMPL_SYNTAX);
    CHECK_EQ_INT(render("{{@nope}}", TMPL_TEXT, "x", &res), TMPL_UNKNOWN_MESSAGE);
}

TEST(tmpl_sections)
{
    struct tmpl_result res;
    const char *s = "[{{#name}}set {{name}}{{/name}}{{^name}}unset{{/name}}"
                    "{{#empty}}E{{/empty}}{{^empty}}e{{/empty}}]";

    REQUIRE(render(s, TMPL_TEXT, "v", &res) == TMPL_OK);
    CHECK_EQ_STR(res.out, "[set ve]");
    free(res.out);
    REQUIRE(render(s, TMPL_TEXT, NULL, &res) == TMPL_OK);
    CHECK_EQ_STR(res.out, "[unsete]");
    free(res.out);
    /* Nested sections, one hidden: what it holds is still checked. */
    REQUIRE(render("{{#name}}a{{#empty}}b{{name}}{{/empty}}c{{/name}}", TMPL_TEXT, "v", &res) ==
            TMPL_OK);
    CHECK_EQ_STR(res.out, "ac");
    free(res.out);
    CHECK_EQ_INT(render("{{#empty}}{{nope}}{{/empty}}", TMPL_TEXT, "v", &res), TMPL_UNKNOWN_VAR);
    CHECK_EQ_INT(res.where, 10);
    CHECK_EQ_INT(render("{{#empty}}{{@nope}}{{/empty}}", TMPL_TEXT, "v", &res),
                 TMPL_UNKNOWN_MESSAGE);
}

TEST(tmpl_syntax_errors)
{
    static const struct {
        const char *s;
        size_t where;
    } bad[] = {
        {"ab{{", 2},
        {"ab{{name", 2},
        {"ab{{name}", 2},
        {"{{ name }}", 0},
        {"{{}}", 0},
        {"x{{#name}}open", 1},
        {"{{/name}}", 0},
        {"{{#name}}{{/empty}}", 9},
        {"{{#name}}{{#empty}}{{/name}}{{/empty}}", 19},
        {"{{na<me}}", 0},
        {"{{@}}", 0},
        {"{{!comment}}", 0},
    };
    struct tmpl_result res;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(render(bad[i].s, TMPL_TEXT, "v", &res), TMPL_SYNTAX);
        CHECK_EQ_INT(res.where, bad[i].where);
        CHECK(res.out == NULL);
    }
    /* A lone brace is text, and so is "}}". */
    REQUIRE(render("{ } }} {x}", TMPL_TEXT, "v", &res) == TMPL_OK);
    CHECK_EQ_STR(res.out, "{ } }} {x}");
    free(res.out);
    CHECK_EQ_INT(render("{{unknown}}", TMPL_TEXT, "v", &res), TMPL_UNKNOWN_VAR);
}

TEST(tmpl_name_length_limit)
{
    char s[TMPL_MAX_NAME + 8], name[TMPL_MAX_NAME + 2];
    struct tmpl_result res;

    memset(name, 'a', TMPL_MAX_NAME);
    name[TMPL_MAX_NAME] = '\0';
    const struct tmpl_var vars[] = {{name, "ok", false}};
    snprintf(s, sizeof s, "{{%s}}", name);
    REQUIRE(tmpl_render(s, strlen(s), TMPL_TEXT, vars, 1, NULL, 0, &res) == TMPL_OK);
    CHECK_EQ_STR(res.out, "ok");
    free(res.out);
    snprintf(s, sizeof s, "{{%sa}}", name);
    CHECK_EQ_INT(tmpl_render(s, strlen(s), TMPL_TEXT, vars, 1, NULL, 0, &res), TMPL_SYNTAX);
}

TEST(tmpl_nesting_limit)
{
    const struct tmpl_var vars[] = {{"a", "1", false}};
    char s[40 * (TMPL_MAX_DEPTH + 1)];
    struct tmpl_result res;
    size_t n = 0;

    for (int depth = TMPL_MAX_DEPTH; depth <= TMPL_MAX_DEPTH + 1; depth++) {
        n = 0;
        for (int i = 0; i < depth; i++)
            n += (size_t)snprintf(s + n, sizeof s - n, "{{#a}}");
        n += (size_t)snprintf(s + n, sizeof s - n, "x");
        for (int i = 0; i < depth; i++)
            n += (size_t)snprintf(s + n, sizeof s - n, "{{/a}}");
        enum tmpl_status st = tmpl_render(s, n, TMPL_TEXT, vars, 1, NULL, 0, &res);
        if (depth == TMPL_MAX_DEPTH) {
            CHECK_EQ_INT(st, TMPL_OK);
            CHECK_EQ_STR(res.out, "x");
            free(res.out);
        } else {
            CHECK_EQ_INT(st, TMPL_TOO_DEEP);
            CHECK_EQ_INT(res.where, 6 * TMPL_MAX_DEPTH);
        }
    }
}

TEST(tmpl_output_limit)
{
    struct tmpl_result res;

    /* Exactly at the limit passes; one byte more is refused, escaping
     * counted: "&" becomes five bytes. */
    REQUIRE(tmpl_render("abcd{{name}}", 12, TMPL_HTML,
                        (const struct tmpl_var[]){{"name", "&", false}}, 1, NULL, 9,
                        &res) == TMPL_OK);
    CHECK_EQ_STR(res.out, "abcd&amp;");
    free(res.out);
    CHECK_EQ_INT(tmpl_render("abcde{{name}}", 13, TMPL_HTML,
                             (const struct tmpl_var[]){{"name", "&", false}}, 1, NULL, 9, &res),
                 TMPL_TOO_LARGE);
    CHECK(res.out == NULL);
    /* The default limit holds a large render back too. */
    size_t big = TMPL_MAX_OUTPUT / 4 + 1;
    char *v = malloc(big + 1);
    REQUIRE(v != NULL);
    memset(v, '<', big);
    v[big] = '\0';
    CHECK_EQ_INT(render("{{name}}", TMPL_HTML, v, &res), TMPL_TOO_LARGE);
    REQUIRE(render("{{name}}", TMPL_TEXT, v, &res) == TMPL_OK);
    CHECK_EQ_INT(res.len, big);
    free(res.out);
    free(v);
}

TEST(tmpl_empty_and_mode_of)
{
    struct tmpl_result res;

    REQUIRE(tmpl_render("", 0, TMPL_HTML, NULL, 0, NULL, 0, &res) == TMPL_OK);
    CHECK(res.out != NULL && res.len == 0 && res.out[0] == '\0');
    free(res.out);
    CHECK_EQ_INT(tmpl_mode_of("pages/reset.html"), TMPL_HTML);
    CHECK_EQ_INT(tmpl_mode_of("mail/reset.txt"), TMPL_TEXT);
    CHECK_EQ_INT(tmpl_mode_of("html"), TMPL_TEXT);
    CHECK_EQ_STR(tmpl_status_text(TMPL_TOO_DEEP), "nested too deeply");
}
