#include "core/roles.h"

#include <stdlib.h>
#include <string.h>

bool roles_name_valid(const char *name, size_t len)
{
    if (len == 0 || len > ROLES_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* The next name of text from *p: its start and length; false at the end. */
static bool next_name(const char **p, const char **name, size_t *len)
{
    if (**p == '\0')
        return false;
    *name = *p;
    const char *comma = strchr(*p, ',');
    *len = comma != NULL ? (size_t)(comma - *p) : strlen(*p);
    *p += *len + (comma != NULL);
    return true;
}

/* strcmp of two names of given lengths (no NULs in them). */
static int name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    return c != 0 ? c : (alen > blen) - (alen < blen);
}

bool roles_text_valid(const char *text)
{
    const char *p = text, *name, *prev = NULL;
    size_t len, prevlen = 0, n = 0;

    if (strlen(text) > ROLES_TEXT_MAX)
        return false;
    while (next_name(&p, &name, &len)) {
        if (!roles_name_valid(name, len) || ++n > ROLES_MAX ||
            (prev != NULL && name_cmp(prev, prevlen, name, len) >= 0))
            return false;
        prev = name;
        prevlen = len;
    }
    /* A trailing ',' leaves p at the end after an empty last name. */
    return text[0] == '\0' || text[strlen(text) - 1] != ',';
}

bool roles_has(const char *text, const char *name)
{
    const char *p = text, *n;
    size_t len, want = strlen(name);

    while (next_name(&p, &n, &len))
        if (len == want && memcmp(n, name, len) == 0)
            return true;
    return false;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool roles_from_names(const char *const *names, size_t n, char out[ROLES_TEXT_MAX + 1])
{
    const char *sorted[ROLES_MAX + 1];
    size_t m = 0;

    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        if (!roles_name_valid(names[i], strlen(names[i])))
            return false;
        bool dup = false;
        for (size_t j = 0; j < m && !dup; j++)
            dup = strcmp(sorted[j], names[i]) == 0;
        if (dup)
            continue;
        if (m == ROLES_MAX)
            return false;
        sorted[m++] = names[i];
    }
    qsort(sorted, m, sizeof sorted[0], cmp_names);
    size_t off = 0;
    for (size_t i = 0; i < m; i++) {
        size_t len = strlen(sorted[i]);
        if (i > 0)
            out[off++] = ',';
        memcpy(out + off, sorted[i], len);
        off += len;
    }
    out[off] = '\0';
    return true;
}

bool roles_change(const char *text, const char *name, bool add, char out[ROLES_TEXT_MAX + 1])
{
    char copy[ROLES_TEXT_MAX + 1];
    const char *names[ROLES_MAX + 1];
    const char *p = copy, *n;
    size_t len, count = 0;

    if (!roles_name_valid(name, strlen(name)) || !roles_text_valid(text))
        return false;
    memcpy(copy, text, strlen(text) + 1);
    while (next_name(&p, &n, &len)) {
        copy[n - copy + len] = '\0';
        if (!add && strcmp(n, name) == 0)
            continue;
        names[count++] = n;
    }
    if (add)
        names[count++] = name;
    return roles_from_names(names, count, out);
}
