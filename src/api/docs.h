#ifndef GH_API_DOCS_H
#define GH_API_DOCS_H

#include <stdbool.h>
#include <stddef.h>

/* The documentation the binary carries: the OpenAPI document (web/openapi.json),
 * the Swagger UI and ReDoc pages (web/pages/) and the npm assets
 * they load (swagger-ui-dist, redoc). web/embed.mjs generates the table at
 * build time (build/gen/docs_assets.c) and the bytes come in with .incbin
 * (build/gen/docs_assets.S), so serving one is a pointer handed to the HTTP
 * layer: nothing is copied or allocated. */

struct docs_asset {
    const char *path; /* URL path, e.g. "/docs/assets/swagger-ui-dist@5.35.0/swagger-ui.css" */
    const char *content_type; /* e.g. "text/css; charset=utf-8" */
    const char *etag;         /* strong validator, quoted: a hash of the bytes */
    bool immutable;           /* versioned path: cached for a year; else revalidated */
    bool html;                /* a page: answered with a Content-Security-Policy */
    const unsigned char *data;
    size_t len;
};

extern const struct docs_asset docs_assets[];
extern const size_t docs_nassets;

/* The asset served at path, or NULL. */
const struct docs_asset *docs_find(const char *path);

#endif
