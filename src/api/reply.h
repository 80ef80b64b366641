#ifndef GH_API_REPLY_H
#define GH_API_REPLY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/outcome.h"

/* A response under construction: what a handler decides, before the HTTP
 * layer turns it into bytes on the wire. Owns its body and header values. */

#define REPLY_MAX_HEADERS 8

struct reply {
    int status;
    const char *content_type; /* static string; NULL with no body */
    char *body;               /* malloc'd, may be NULL */
    size_t body_len;
    /* Instead of body: bytes that outlive every request (the embedded
     * documentation), sent without a copy. Not owned. */
    const void *static_body;
    size_t static_len;
    bool no_store;        /* Cache-Control: no-store, Pragma: no-cache */
    unsigned retry_after; /* seconds; 0: no Retry-After */
    int nheaders;
    struct {
        const char *name; /* static */
        char *value;      /* malloc'd */
    } headers[REPLY_MAX_HEADERS];
};

/* Frees what r owns and wipes the body (it may hold tokens). */
void reply_free(struct reply *r);

/* Sets a 200-style JSON body: takes ownership of the NUL-terminated json
 * (NULL: none), which is sent with a line feed added. Every JSON body, the
 * problems below too, ends with one. */
void reply_json(struct reply *r, int status, char *json);

/* Sets an RFC 9457 problem+json error with the status's reason phrase as
 * title. The body depends only on status and detail, so equal failures give
 * byte-equal bodies. */
void reply_problem(struct reply *r, int status, const char *detail);

/* A 422 listing every broken rule; detail is "<field>: <message>" of the first. */
void reply_invalid(struct reply *r, const struct outcome_errors *errs);

/* Adds a header (value copied). Ignored past REPLY_MAX_HEADERS. */
void reply_header(struct reply *r, const char *name, const char *value);

/* The reason phrase of an HTTP status, e.g. "Not Found". */
const char *reply_reason(int status);

#endif
