#include "http/query.h"

#include <string.h>

#define STR_(x) #x
#define STR(x)  STR_(x)

/* util/form.c, not libmicrohttpd's GET arguments: libmicrohttpd decodes
 * leniently (a stray '%' or "%zz" passes as is, and a "%00" silently cuts a
 * value short), so a client's encoding bug would be guessed at, not
 * reported; form.c refuses those and invalid UTF-8, exactly as it does for
 * the body of /token, so the two decode alike. It keeps every repetition of
 * a name, so form_get can tell a repeated parameter. */
int http_query_parse(const char *q, size_t len, struct form *out, const char **detail)
{
    memset(out, 0, sizeof *out);
    if (len == 0)
        return 0;
    if (len > HTTP_MAX_QUERY_BYTES) {
        *detail = "query string exceeds " STR(HTTP_MAX_QUERY_BYTES) " bytes";
        return 400;
    }
    switch (form_parse(q, len, out)) {
    case FORM_OK: break;
    case FORM_BAD_ESCAPE: *detail = "query string: malformed percent-encoding"; return 400;
    case FORM_NUL: *detail = "query string: a parameter contains a NUL byte"; return 400;
    case FORM_BAD_UTF8: *detail = "query string: a parameter is not valid UTF-8"; return 400;
    case FORM_NOMEM: *detail = "out of memory"; return 503;
    }
    if (out->count > HTTP_MAX_QUERY_PARAMS) {
        form_free(out);
        *detail = "query string exceeds " STR(HTTP_MAX_QUERY_PARAMS) " parameters";
        return 400;
    }
    return 0;
}
