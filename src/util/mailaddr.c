/* Mail addresses (mailaddr.h). */
#include "util/mailaddr.h"

#include <stdio.h>
#include <string.h>

#include "util/utf8.h"

/* RFC 5322 §3.2.3 atext. */
static bool is_atext(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", ch) != NULL);
}

static bool is_ldh(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-';
}

static bool local_valid(const char *s, size_t n)
{
    if (n == 0 || n > MAILADDR_LOCAL_MAX || s[0] == '.' || s[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.' ? s[i + 1] == '.' : !is_atext(s[i]))
            return false;
    }
    return true;
}

static bool domain_valid(const char *s, size_t n)
{
    size_t label = 0;

    if (n == 0)
        return false;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            if (label == 0 || label > 63 || s[i - 1] == '-' || s[i - label] == '-')
                return false;
            label = 0;
        } else if (is_ldh(s[i]))
            label++;
        else
            return false;
    }
    return true;
}

bool mailaddr_valid(const char *addr)
{
    size_t n = addr != NULL ? strlen(addr) : 0;
    const char *at = n > 0 ? strchr(addr, '@') : NULL;

    if (at == NULL || n > MAILADDR_MAX || strchr(at + 1, '@') != NULL)
        return false;
    return local_valid(addr, (size_t)(at - addr)) &&
           domain_valid(at + 1, n - (size_t)(at - addr) - 1);
}

const char *mailaddr_domain(const char *addr)
{
    const char *at = strchr(addr, '@');
    return at != NULL ? at + 1 : addr;
}

static void trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t'))
        (*e)--;
}

static int parse_name(const char *s, const char *e, char name[MAILADDR_NAME_MAX + 1], char *err,
                      size_t errlen)
{
    trim(&s, &e);
    if (e - s >= 2 && s[0] == '"' && e[-1] == '"')
        s++, e--;
    size_t n = (size_t)(e - s);
    if (n > MAILADDR_NAME_MAX) {
        snprintf(err, errlen, "the name is longer than %d bytes", MAILADDR_NAME_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || strchr("\"\\<>", s[i]) != NULL) {
            snprintf(err, errlen,
                     "the name may not hold control characters, '\"', '\\', '<' or "
                     "'>'");
            return -1;
        }
    if (utf8_count(s, n) < 0) {
        snprintf(err, errlen, "the name is not UTF-8");
        return -1;
    }
    memcpy(name, s, n);
    name[n] = '\0';
    return 0;
}

int mailaddr_parse_mailbox(const char *s, char name[MAILADDR_NAME_MAX + 1],
                           char addr[MAILADDR_MAX + 1], char *err, size_t errlen)
{
    const char *lt = strrchr(s, '<'), *a = s, *ae = s + strlen(s);

    name[0] = '\0';
    if (lt != NULL) {
        const char *gt = strchr(lt, '>');
        const char *tail = gt != NULL ? gt + 1 : NULL;
        while (tail != NULL && (*tail == ' ' || *tail == '\t'))
            tail++;
        if (gt == NULL || *tail != '\0') {
            snprintf(err, errlen, "expected \"Name <address>\" or an address alone");
            return -1;
        }
        if (parse_name(s, lt, name, err, errlen) != 0)
            return -1;
        a = lt + 1;
        ae = gt;
    } else
        trim(&a, &ae);
    size_t n = (size_t)(ae - a);
    if (n > MAILADDR_MAX) {
        snprintf(err, errlen, "the address is longer than %d bytes", MAILADDR_MAX);
        return -1;
    }
    memcpy(addr, a, n);
    addr[n] = '\0';
    if (!mailaddr_valid(addr)) {
        snprintf(err, errlen,
                 "the address is not of the form local@domain (ASCII letters, "
                 "digits and !#$%%&'*+-/=?^_`{|}~ before the @, a domain after)");
        return -1;
    }
    return 0;
}
