/* core/roles: role names and the stored form of a set of them. */
#include <stdio.h>
#include <string.h>

#include "core/roles.h"
#include "test.h"

TEST(roles_name_rules)
{
    CHECK(roles_name_valid("admin", 5));
    CHECK(roles_name_valid("a.b_c-9", 7));
    CHECK(roles_name_valid("12345678901234567890123456789012", 32));
    CHECK(!roles_name_valid("123456789012345678901234567890123", 33));
    CHECK(!roles_name_valid("", 0));
    /* Never folded: upper case is another name, refused. */
    CHECK(!roles_name_valid("Admin", 5));
    CHECK(!roles_name_valid("a b", 3));
    CHECK(!roles_name_valid("a,b", 3));
    CHECK(!roles_name_valid("a\0b", 3));
    CHECK(!roles_name_valid("\xc3\xa9", 2));
}

TEST(roles_text_form)
{
    CHECK(roles_text_valid(""));
    CHECK(roles_text_valid("admin"));
    CHECK(roles_text_valid("admin,ops"));
    CHECK(!roles_text_valid("ops,admin"));
    CHECK(!roles_text_valid("admin,admin"));
    CHECK(!roles_text_valid("admin,"));
    CHECK(!roles_text_valid(",admin"));
    CHECK(!roles_text_valid("admin,,ops"));
    CHECK(!roles_text_valid("Admin"));
    CHECK(roles_has("admin,ops", "ops"));
    CHECK(roles_has("admin,ops", "admin"));
    CHECK(!roles_has("admin,ops", "adm"));
    CHECK(!roles_has("", "admin"));
}

TEST(roles_change_and_build)
{
    char out[ROLES_TEXT_MAX + 1], set[ROLES_TEXT_MAX + 1] = "";

    CHECK(roles_change("", "ops", true, out));
    CHECK_EQ_STR(out, "ops");
    CHECK(roles_change(out, "admin", true, set));
    CHECK_EQ_STR(set, "admin,ops");
    CHECK(roles_change(set, "admin", true, out));
    CHECK_EQ_STR(out, "admin,ops");
    CHECK(roles_change(set, "admin", false, out));
    CHECK_EQ_STR(out, "ops");
    CHECK(roles_change(set, "nope", false, out));
    CHECK_EQ_STR(out, "admin,ops");
    CHECK(!roles_change(set, "Bad", true, out));
    const char *names[] = {"z", "a", "m", "a"};
    CHECK(roles_from_names(names, 4, out));
    CHECK_EQ_STR(out, "a,m,z");
    const char *bad[] = {"a", "b c"};
    CHECK(!roles_from_names(bad, 2, out));
    /* At most ROLES_MAX. */
    set[0] = '\0';
    for (int i = 0; i < ROLES_MAX; i++) {
        char n[16];
        snprintf(n, sizeof n, "r%02d", i);
        REQUIRE(roles_change(set, n, true, out));
        memcpy(set, out, sizeof set);
    }
    CHECK(roles_text_valid(set));
    CHECK(!roles_change(set, "r99", true, out));
    CHECK(roles_change(set, "r00", true, out));
}
