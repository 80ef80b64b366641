#include "util/mediatype.h"

#include <string.h>
#include <strings.h>

bool mediatype_is(const char *ct, const char *want)
{
    size_t n = strlen(want);

    if (ct == NULL || strncasecmp(ct, want, n) != 0)
        return false;
    const char *p = ct + n;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0')
        return true;
    if (*p != ';')
        return false;
    const char *cs = strcasestr(p, "charset=");
    if (cs == NULL)
        return true;
    cs += 8;
    if (*cs == '"')
        cs++;
    return strncasecmp(cs, "utf-8", 5) == 0 &&
           (cs[5] == '\0' || cs[5] == '"' || cs[5] == ';' || cs[5] == ' ');
}
