/* core/pages: the CSRF values of the pages' forms, and a page rendered in
 * its layout. */
#include <stdlib.h>
#include <string.h>

#include "core/pages.h"
#include "test.h"

TEST(pages_csrf_values)
{
    char a[PAGES_CSRF_LEN + 1], b[PAGES_CSRF_LEN + 1];

    pages_csrf_new(a);
    pages_csrf_new(b);
    CHECK_EQ_INT(strlen(a), PAGES_CSRF_LEN);
    CHECK(pages_csrf_valid(a));
    CHECK(strcmp(a, b) != 0);
    CHECK(!pages_csrf_valid(NULL));
    CHECK(!pages_csrf_valid(""));
    /* One character short, one too many, one outside base64url. */
    char c[PAGES_CSRF_LEN + 2];
    memcpy(c, a, sizeof a);
    c[PAGES_CSRF_LEN - 1] = '\0';
    CHECK(!pages_csrf_valid(c));
    memcpy(c, a, sizeof a);
    c[PAGES_CSRF_LEN] = 'x';
    c[PAGES_CSRF_LEN + 1] = '\0';
    CHECK(!pages_csrf_valid(c));
    memcpy(c, a, sizeof a);
    c[5] = '+';
    CHECK(!pages_csrf_valid(c));
}

TEST(pages_csrf_check)
{
    char a[PAGES_CSRF_LEN + 1], b[PAGES_CSRF_LEN + 1];

    pages_csrf_new(a);
    memcpy(b, a, sizeof a);
    CHECK(pages_csrf_check(a, b, PAGES_CSRF_LEN));
    /* No field, no cookie, a field of another length or one byte off. */
    CHECK(!pages_csrf_check(a, NULL, 0));
    CHECK(!pages_csrf_check(NULL, b, PAGES_CSRF_LEN));
    CHECK(!pages_csrf_check(a, b, PAGES_CSRF_LEN - 1));
    CHECK(!pages_csrf_check(a, "", 0));
    b[PAGES_CSRF_LEN - 1] = b[PAGES_CSRF_LEN - 1] == 'A' ? 'B' : 'A';
    CHECK(!pages_csrf_check(a, b, PAGES_CSRF_LEN));
    /* A cookie that is no CSRF value matches nothing, itself included: an
     * attacker who could plant "x" in both would gain nothing. */
    CHECK(!pages_csrf_check("x", "x", 1));
    CHECK(!pages_csrf_check("", "", 0));
}

TEST(pages_render_layout)
{
    const struct tmpl_var vars[] = {{"csrf", "CSRF", false},
                                    {"token", "\"><script>alert(1)</script>", false},
                                    {"error", NULL, false},
                                    {"done", NULL, false},
                                    {"form", "1", false}};
    struct pages_view v = {"pages/reset.html", "ru", "<Заголовок>", "../", vars, 5, false};
    struct tmpl_result res;

    REQUIRE(pages_render(&v, &res) == TMPL_OK);
    CHECK(strncmp(res.out, "<!DOCTYPE html>", 15) == 0);
    CHECK(strstr(res.out, "<html lang=\"ru\">") != NULL);
    CHECK(strstr(res.out, "<title>&lt;Заголовок&gt; · gatehouse</title>") != NULL);
    CHECK(strstr(res.out, "href=\"../pages/style.css\"") != NULL);
    CHECK(strstr(res.out, "<form method=\"post\" action=\"reset\">") != NULL);
    CHECK(strstr(res.out, "&quot;&gt;&lt;script&gt;") != NULL);
    CHECK(strstr(res.out, "<script") == NULL);
    CHECK(strstr(res.out, " style=") == NULL);
    free(res.out);
    v.name = "pages/missing.html";
    CHECK_EQ_INT(pages_render(&v, &res), TMPL_NOT_FOUND);
}

/* Every page renders in both languages, with and without its form, error
 * and success parts: a key missing from a catalogue, or a variable a
 * template names and the code does not give, fails here. */
TEST(pages_every_page_renders)
{
    static const char *const pages[] = {"pages/reset.html", "pages/confirm.html"};
    static const char *const langs[] = {"en", "ru"};

    for (size_t p = 0; p < 2; p++)
        for (size_t l = 0; l < 2; l++)
            for (int shape = 0; shape < 4; shape++) {
                const struct tmpl_var vars[] = {{"csrf", "c", false},
                                                {"token", "t", false},
                                                {"error", shape & 1 ? "E" : NULL, false},
                                                {"done", shape == 2 ? "1" : NULL, false},
                                                {"form", shape & 1 ? "1" : NULL, false}};
                struct pages_view v = {pages[p], langs[l], "T", "", vars, 5, false};
                struct tmpl_result res;
                CHECK_EQ_INT(pages_render(&v, &res), TMPL_OK);
                free(res.out);
            }
}

/* The sign-in pages (api/signin.c) render in both languages with every
 * part on and off; only a page with the passkey script loads it, by a
 * file of the service's own, and no page holds inline script or style. */
TEST(pages_signin_pages_render)
{
    static const char *const pages[] = {
        "pages/signin.html", "pages/mfa.html",       "pages/account.html",
        "pages/totp.html",   "pages/recovery.html",  "pages/signedout.html",
        "pages/item.html",   "pages/authorize.html", "pages/consent.html"};
    static const char *const langs[] = {"en", "ru"};

    for (size_t p = 0; p < sizeof pages / sizeof pages[0]; p++)
        for (size_t l = 0; l < 2; l++)
            for (int on = 0; on < 2; on++) {
                const char *v = on ? "1" : NULL;
                const struct tmpl_var vars[] = {
                    {"csrf", "c", false},
                    {"error", on ? "<E>" : NULL, false},
                    {"base", "../", false},
                    {"username", "<u>", false},
                    {"passkeys", v, false},
                    {"passkey_list", on ? "<li>k</li>" : NULL, true},
                    {"totp_on", v, false},
                    {"done", v, false},
                    {"mfa_token", "t", false},
                    {"totp", v, false},
                    {"recovery", v, false},
                    {"webauthn", on ? "{\"a\":\"<\"}" : NULL, false},
                    {"qr_svg", on ? "<svg></svg>" : NULL, true},
                    {"secret", "S", false},
                    {"confirm", v, false},
                    {"codes", "<li>x</li>", true},
                    {"text", "<t>", false},
                    {"authz", on ? "<a>" : NULL, false},
                    {"rd", on ? "<r>" : NULL, false},
                    {"client", "<c>", false},
                    {"profile", v, false},
                    {"email", v, false},
                    {"offline", v, false},
                };
                struct pages_view view = {
                    pages[p], langs[l], "T", "../", vars, sizeof vars / sizeof vars[0], on};
                struct tmpl_result res;
                REQUIRE(pages_render(&view, &res) == TMPL_OK);
                const char *script = strstr(res.out, "<script");
                CHECK(on ? script != NULL : script == NULL);
                if (script != NULL) {
                    CHECK(strncmp(script, "<script src=\"../pages/passkeys.js\" defer></script>",
                                  50) == 0);
                    CHECK(strstr(script + 1, "<script") == NULL);
                }
                CHECK(strstr(res.out, "<u>") == NULL);
                CHECK(strstr(res.out, "<E>") == NULL);
                CHECK(strstr(res.out, "<a>") == NULL);
                CHECK(strstr(res.out, "<c>") == NULL);
                CHECK(strstr(res.out, "{\"a\"") == NULL); /* JSON escaped into an attribute */
                CHECK(strstr(res.out, " style=") == NULL);
                CHECK(strstr(res.out, " onclick=") == NULL);
                free(res.out);
            }
}
