#include "core/username.h"

#include <stdbool.h>

static bool allowed(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == '@' || c == '+';
}

enum username_rule username_check(const char *name, size_t len)
{
    /* Every allowed character is one byte, so bytes are characters here; a
     * multi-byte character is refused as a bad character, not miscounted. */
    for (size_t i = 0; i < len; i++)
        if (!allowed((unsigned char)name[i]))
            return USERNAME_BAD_CHAR;
    if (len < USERNAME_MIN)
        return USERNAME_TOO_SHORT;
    if (len > USERNAME_MAX)
        return USERNAME_TOO_LONG;
    return USERNAME_OK;
}

void username_key(char *key, const char *name)
{
    size_t i = 0;

    for (; name[i] != '\0' && i < USERNAME_MAX; i++) {
        char c = name[i];
        key[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    key[i] = '\0';
}
