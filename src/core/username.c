#include "core/username.h"

#include <stdbool.h>

#include "util/utf8.h"

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

bool username_storable(const char *name, size_t len)
{
    if (len == 0 || len > USERNAME_STORED_MAX || utf8_count(name, len) < 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f)
            return false;
        /* C1 controls, U+0080..U+009F, are C2 80..C2 9F in UTF-8. */
        if (c == 0xc2 && i + 1 < len && (unsigned char)name[i + 1] <= 0x9f)
            return false;
    }
    return true;
}

void username_key_any(char *key, const char *name, size_t len)
{
    size_t n = len < USERNAME_STORED_MAX ? len : USERNAME_STORED_MAX;

    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        key[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    key[n] = '\0';
}
