#ifndef GH_HTTP_QUERY_H
#define GH_HTTP_QUERY_H

#include <stddef.h>

#include "util/form.h"

/* The query string of a request, read as the API handlers see it. */

/* At most this many parameters and bytes (as sent, before decoding); past
 * either, 400. The largest query served is an OpenID Connect authorization
 * request, which a relying party sends by redirecting the browser: a dozen
 * parameters, a redirect URI and a state of its choosing, percent-encoded
 * (OIDC Core §3.1.2.1); 4 KiB leaves it room while keeping the parse of a
 * hostile query short. */
#define HTTP_MAX_QUERY_PARAMS 32
#define HTTP_MAX_QUERY_BYTES  4096

/* Parses the raw query string q (len bytes, what follows the '?') into
 * *out, which the caller frees with form_free. Returns 0, or the status to
 * refuse the request with (400: malformed or over the limits above; 503: out
 * of memory) and its problem detail in *detail; *out is then empty. */
int http_query_parse(const char *q, size_t len, struct form *out, const char **detail);

#endif
