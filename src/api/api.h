#ifndef GH_API_API_H
#define GH_API_API_H

#include <stdbool.h>
#include <stddef.h>

#include "api/reply.h"
#include "cli/config.h"
#include "core/account.h"
#include "core/jwt.h"

/* The endpoint handlers and the routing table the HTTP layer serves. A
 * handler parses and validates its input, calls core, and maps the outcome
 * to a status and body; it holds no SQL and no cryptography. */

/* What every handler may use; read-only while serving. */
struct api_ctx {
    const struct config *cfg;
    struct account_deps deps;
    const jwt_key *jwt;
};

/* One request as the HTTP layer hands it over. Strings stay valid until the
 * request completes. */
struct api_request {
    const struct api_ctx *app;
    const char *path;          /* the request path, e.g. "/docs/assets/x.js" */
    const char *authorization; /* the Authorization header, or NULL */
    const char *cookie_token;  /* the access_token cookie, or NULL */
    const char *content_type;  /* the Content-Type header (body routes only), or NULL */
    const char *if_none_match; /* the If-None-Match header, or NULL */
    const char *body;          /* the whole body, NUL-terminated */
    size_t body_len;
};

/* What the HTTP layer checks before the handler runs. A JSON route gets a
 * 415 problem for another content type; a form route checks its content type
 * itself (OAuth 2.0 answers errors in its own format). Both get the 413. */
enum api_body { API_BODY_NONE, API_BODY_JSON, API_BODY_FORM };

/* Where a handler runs. Inline handlers must never block; the two pools keep
 * quick database reads from queueing behind password hashes. */
enum api_work {
    API_INLINE, /* on the HTTP thread: no database, no hashing */
    API_DB,     /* on a database worker: quick queries only */
    API_HASH,   /* on a hashing worker: a password hash (and its queries) */
};

/* A route's path matches exactly, except one that ends in '/': it matches
 * every path under it, and its handler reads req->path. */
struct api_route {
    const char *path;
    const char *method;
    enum api_body body;
    enum api_work work; /* where the handler runs */
    void (*handle)(const struct api_request *req, struct reply *r);
};

extern const struct api_route api_routes[];
extern const size_t api_nroutes;

#endif
