#ifndef GH_HTTP_FRAMING_H
#define GH_HTTP_FRAMING_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

/* Where a request's body ends (RFC 9112 §6), read from its headers before
 * any byte of the body. */

/* What one pass over the request's headers finds: their size as they
 * stood on the wire, and how the request says where its body ends. */
struct framing {
    size_t bytes;
    unsigned content_lengths, transfer_encodings;
    const char *content_length, *transfer_encoding;
    bool lengths_differ;
};

/* Fills *f from the headers of the request on conn. */
void framing_read(struct MHD_Connection *conn, struct framing *f);

/* A request whose body's end could be read two ways is refused, and its
 * connection closed (RFC 9112 §6.1, §6.3): what follows it on the
 * connection cannot be told apart from its body. Returns the problem's
 * detail (static), or NULL when the framing is unambiguous. */
const char *framing_problem(const struct framing *f);

/* True when the request on conn announces a body (chunked, or a
 * Content-Length other than 0). */
bool framing_has_body(struct MHD_Connection *conn);

/* True when the Content-Length value cl (NULL: none) announces more than
 * max bytes. */
bool framing_too_large(const char *cl, unsigned long max);

#endif
