/* core/username: 3–64 characters of A–Z a–z 0–9 . _ - @ +, keyed in lower case. */
#include <stdbool.h>
#include <string.h>

#include "core/username.h"
#include "test.h"

static enum username_rule check(const char *name)
{
    return username_check(name, strlen(name));
}

TEST(username_lengths)
{
    char name[USERNAME_MAX + 2];

    CHECK_EQ_INT(check(""), USERNAME_TOO_SHORT);
    CHECK_EQ_INT(check("a"), USERNAME_TOO_SHORT);
    CHECK_EQ_INT(check("ab"), USERNAME_TOO_SHORT);
    CHECK_EQ_INT(check("abc"), USERNAME_OK);
    memset(name, 'x', sizeof name);
    CHECK_EQ_INT(username_check(name, 64), USERNAME_OK);
    CHECK_EQ_INT(username_check(name, 65), USERNAME_TOO_LONG);
    CHECK_EQ_INT(username_check(name, 63), USERNAME_OK);
}

TEST(username_allowed_chars)
{
    char name[4] = "ab?";

    CHECK_EQ_INT(check("a.b_c-d@e+f"), USERNAME_OK);
    CHECK_EQ_INT(check("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), USERNAME_OK);
    CHECK_EQ_INT(check("abcdefghijklmnopqrstuvwxyz"), USERNAME_OK);
    CHECK_EQ_INT(check("0123456789"), USERNAME_OK);
    CHECK_EQ_INT(check("..."), USERNAME_OK);
    CHECK_EQ_INT(check("+@-"), USERNAME_OK);
    /* Every byte: allowed exactly when it is in the documented set. */
    for (int c = 0; c < 256; c++) {
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-' || c == '@' || c == '+';
        name[2] = (char)c;
        CHECK_EQ_INT(username_check(name, 3), ok ? USERNAME_OK : USERNAME_BAD_CHAR);
    }
}

TEST(username_rejects)
{
    CHECK_EQ_INT(check("al ice"), USERNAME_BAD_CHAR);
    CHECK_EQ_INT(check(" alice"), USERNAME_BAD_CHAR);
    CHECK_EQ_INT(check("alice "), USERNAME_BAD_CHAR);
    CHECK_EQ_INT(username_check("al\0ice", 6), USERNAME_BAD_CHAR);
    CHECK_EQ_INT(username_check("alice\0", 6), USERNAME_BAD_CHAR);
    CHECK_EQ_INT(check("jos\xc3\xa9"), USERNAME_BAD_CHAR);
    /* A two-byte character in a two-character name is a bad character,
     * not a three-byte name. */
    CHECK_EQ_INT(check("a\xc3\xa9"), USERNAME_BAD_CHAR);
    CHECK_EQ_INT(check("al/ce"), USERNAME_BAD_CHAR);
    CHECK_EQ_INT(check("al:ce"), USERNAME_BAD_CHAR);
    CHECK_EQ_INT(check("alice\n"), USERNAME_BAD_CHAR);
}

TEST(username_key_lowercases)
{
    char key[USERNAME_MAX + 2];
    char name[USERNAME_MAX + 1];

    username_key_any(key, "Alice.Smith+X@Example-1_Z", 25);
    CHECK_EQ_STR(key, "alice.smith+x@example-1_z");
    username_key_any(key, "alice", 5);
    CHECK_EQ_STR(key, "alice");
    username_key_any(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 36);
    CHECK_EQ_STR(key, "abcdefghijklmnopqrstuvwxyz0123456789");
    /* The longest name fills the key exactly. */
    memset(name, 'Q', USERNAME_MAX);
    name[USERNAME_MAX] = '\0';
    memset(key, '#', sizeof key);
    username_key_any(key, name, USERNAME_MAX);
    CHECK_EQ_INT(strlen(key), USERNAME_MAX);
    CHECK_EQ_INT(strspn(key, "q"), USERNAME_MAX);
    CHECK_EQ_INT(key[USERNAME_MAX + 1], '#');
}

TEST(username_storable)
{
    char long_name[USERNAME_STORED_MAX + 2];

    /* What the original app could store, and login and import accept. */
    CHECK(username_storable("Bob Smith", 9));
    CHECK(username_storable("zo\xc3\xab", 4)); /* zoë */
    CHECK(username_storable("ab", 2));
    CHECK(username_storable("x", 1));
    CHECK(username_storable("\xe5\xb1\xb1\xe7\x94\xb0", 6)); /* 山田 */
    memset(long_name, 'a', sizeof long_name);
    CHECK(username_storable(long_name, USERNAME_STORED_MAX));
    CHECK(!username_storable(long_name, USERNAME_STORED_MAX + 1));
    CHECK(!username_storable("", 0));
    /* Control characters, NUL, DEL and C1 (U+0085 is C2 85). */
    CHECK(!username_storable("a\tb", 3));
    CHECK(!username_storable("a\nb", 3));
    CHECK(!username_storable("a\0b", 3));
    CHECK(!username_storable("a\x7f", 2));
    CHECK(!username_storable("a\xc2\x85", 3));
    CHECK(username_storable("a\xc2\xa0", 3)); /* U+00A0 is no control */
    /* Ill-formed UTF-8. */
    CHECK(!username_storable("\xc3", 1));
    CHECK(!username_storable("\xc0\xaf", 2));
    CHECK(!username_storable("\xed\xa0\x80", 3));
}

TEST(username_key_any)
{
    char key[USERNAME_STORED_MAX + 1];

    username_key_any(key, "Bob Smith", 9);
    CHECK_EQ_STR(key, "bob smith");
    /* Only ASCII folds: Zoë and zoë differ, ZOË and zoë too. */
    username_key_any(key, "Zo\xc3\xab", 4);
    CHECK_EQ_STR(key, "zo\xc3\xab");
    username_key_any(key, "ZO\xc3\x8b", 4);
    CHECK_EQ_STR(key, "zo\xc3\x8b");
    /* A name the rules allow folds as a whole. */
    username_key_any(key, "Alice.B", 7);
    CHECK_EQ_STR(key, "alice.b");
}
