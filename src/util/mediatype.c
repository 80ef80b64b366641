#include "util/mediatype.h"

#include <string.h>
#include <strings.h>

/* A token character (RFC 9110 §5.6.2). Spelled out rather than taken from
 * <ctype.h>, whose answers depend on the locale. */
static bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

static const char *skip_ows(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

/* Reads the parameter value at *p, a token or a quoted-string (RFC 9110
 * §5.6.4, with its backslash escapes), and moves *p past it. Returns 1 when
 * the value equals want (lower case) without regard to case, 0 when it
 * differs, -1 when it is malformed. */
static int value_equals(const char **p, const char *want)
{
    const unsigned char *s = (const unsigned char *)*p;
    size_t i = 0;
    bool same = true;

    if (*s == '"') {
        for (s++; *s != '"'; s++) {
            if (*s == '\\')
                s++;
            /* Control characters other than a tab are not allowed, quoted
             * or escaped; the NUL check also catches a missing '"'. */
            if ((*s < 0x20 && *s != '\t') || *s == 0x7f)
                return -1;
            same = same && want[i] != '\0' && lower(*s) == (unsigned char)want[i];
            i++;
        }
        s++;
    } else {
        if (!is_tchar(*s))
            return -1;
        for (; is_tchar(*s); s++) {
            same = same && want[i] != '\0' && lower(*s) == (unsigned char)want[i];
            i++;
        }
    }
    *p = (const char *)s;
    return same && i == strlen(want);
}

bool mediatype_is(const char *ct, const char *want)
{
    size_t n = strlen(want);

    if (ct == NULL || strncasecmp(ct, want, n) != 0)
        return false;
    /* RFC 9110 §5.6.6: parameters = *( OWS ";" OWS [ parameter ] ), and
     * parameter = token "=" ( token / quoted-string ). Each is parsed as a
     * whole, so that "charset=" inside another parameter's name or quoted
     * value is not taken for the charset. */
    const char *p = skip_ows(ct + n);
    while (*p != '\0') {
        if (*p != ';')
            return false;
        p = skip_ows(p + 1);
        if (*p == '\0' || *p == ';')
            continue;
        const char *name = p;
        while (is_tchar((unsigned char)*p))
            p++;
        size_t name_len = (size_t)(p - name);
        if (name_len == 0 || *p != '=')
            return false;
        p++;
        bool charset = name_len == 7 && strncasecmp(name, "charset", 7) == 0;
        int eq = value_equals(&p, "utf-8");
        if (eq < 0 || (charset && eq == 0))
            return false;
        p = skip_ows(p);
    }
    return true;
}
