#include "http/framing.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static enum MHD_Result add_framing(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
    struct framing *f = cls;

    (void)kind;
    if (value == NULL)
        value = "";
    /* "Name: value\r\n" */
    f->bytes += strlen(key) + 2 + strlen(value) + 2;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
        if (f->content_lengths++ > 0 && strcmp(value, f->content_length) != 0)
            f->lengths_differ = true;
        f->content_length = value;
    } else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
        f->transfer_encodings++;
        f->transfer_encoding = value;
    }
    return MHD_YES;
}

void framing_read(struct MHD_Connection *conn, struct framing *f)
{
    memset(f, 0, sizeof *f);
    MHD_get_connection_values(conn, MHD_HEADER_KIND, add_framing, f);
}

/* libmicrohttpd takes the first of two Content-Length headers, and
 * Transfer-Encoding over Content-Length, so a proxy in front that reads a
 * request the other way would see a request of ours as part of a body, or
 * the end of a body as a request. A repeated, identical Content-Length is
 * refused too: RFC 9112 allows either, and no client of ours sends one. */
const char *framing_problem(const struct framing *f)
{
    if (f->transfer_encodings > 0 && f->content_lengths > 0)
        return "Transfer-Encoding and Content-Length together";
    if (f->content_lengths > 1)
        return f->lengths_differ ? "Content-Length given twice, with different values"
                                 : "Content-Length given twice";
    /* Only chunked is read (libmicrohttpd would read any other coding to
     * the end of the connection). */
    if (f->transfer_encodings > 1 ||
        (f->transfer_encodings == 1 && strcasecmp(f->transfer_encoding, "chunked") != 0))
        return "Transfer-Encoding other than chunked";
    return NULL;
}

/* libmicrohttpd has already refused a Content-Length that is not a
 * number; past five digits, any is over the largest limit we use. */
bool framing_too_large(const char *cl, unsigned long max)
{
    if (cl == NULL)
        return false;
    while (*cl == '0')
        cl++;
    return strlen(cl) > 5 || strtoul(cl, NULL, 10) > max;
}

bool framing_has_body(struct MHD_Connection *conn)
{
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    const char *te =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);

    return te != NULL || (cl != NULL && strspn(cl, "0") != strlen(cl));
}
