#ifndef GH_UTIL_FORM_H
#define GH_UTIL_FORM_H

#include <stdbool.h>
#include <stddef.h>

/* Strict application/x-www-form-urlencoded bodies (the WHATWG URL standard's
 * form encoding, as RFC 6749 §4.3.2 and appendix B use it): name=value pairs
 * joined by '&', '+' for a space, %XX for any byte. */

enum form_status {
    FORM_OK = 0,
    FORM_BAD_ESCAPE, /* '%' not followed by two hex digits */
    FORM_NUL,        /* a name or value decodes to a NUL byte */
    FORM_BAD_UTF8,   /* a name or value is not valid UTF-8 */
    FORM_NOMEM,
};

struct form_field {
    const char *name; /* NUL-terminated, inside the form's buffer */
    size_t name_len;
    const char *value; /* NUL-terminated; "" for "name" or "name=" */
    size_t value_len;
};

/* A parsed form. Owns one buffer that holds every decoded name and value;
 * free it with form_free, which wipes it (values hold passwords). */
struct form {
    struct form_field *fields;
    size_t count;
    char *buf;
    size_t buf_len;
};

/* Parses len bytes of body into f (every field of f is overwritten). Empty
 * segments ("a=1&&b=2", a trailing '&') are skipped, as the WHATWG parser
 * does. Repeated names are kept: form_get tells them apart. On an error f
 * holds nothing and needs no form_free. */
enum form_status form_parse(const char *body, size_t len, struct form *f);

/* Frees and wipes what form_parse allocated. */
void form_free(struct form *f);

enum form_lookup {
    FORM_ABSENT = 0, /* not there, or there only with an empty value (RFC 6749 §3.2) */
    FORM_FOUND,      /* exactly once: *value and *len are set */
    FORM_REPEATED,   /* more than once, empty values included */
};

/* Looks name up. RFC 6749 §3.2: a parameter without a value counts as
 * omitted, and no parameter may appear more than once. */
enum form_lookup form_get(const struct form *f, const char *name, const char **value, size_t *len);

/* True when a Content-Type header value is application/x-www-form-urlencoded,
 * with parameters allowed but no charset other than UTF-8. NULL is false. */
bool form_content_type_ok(const char *ct);

#endif
