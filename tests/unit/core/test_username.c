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

    username_key(key, "Alice.Smith+X@Example-1_Z");
    CHECK_EQ_STR(key, "alice.smith+x@example-1_z");
    username_key(key, "alice");
    CHECK_EQ_STR(key, "alice");
    username_key(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
    CHECK_EQ_STR(key, "abcdefghijklmnopqrstuvwxyz0123456789");
    /* The longest name fills the key exactly. */
    memset(name, 'Q', USERNAME_MAX);
    name[USERNAME_MAX] = '\0';
    memset(key, '#', sizeof key);
    username_key(key, name);
    CHECK_EQ_INT(strlen(key), USERNAME_MAX);
    CHECK_EQ_INT(strspn(key, "q"), USERNAME_MAX);
    CHECK_EQ_INT(key[USERNAME_MAX + 1], '#');
}
