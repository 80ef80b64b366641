/* GET /openapi.json, /docs, /redoc and /docs/assets/...: the documentation
 * built into the binary (see docs.h). */
#include "api/docs.h"

#include <string.h>

#include "api/api_internal.h"

/* What the pages need, and nothing else: their own scripts (no inline
 * script anywhere), inline styles (Swagger UI and ReDoc set style
 * attributes, and ReDoc's styled-components injects <style> elements), the
 * data: images of Swagger UI's stylesheet, and fetch() of /openapi.json and
 * /token. Nothing from another origin: the documentation works offline. */
#define PAGE_CSP                                                                                   \
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "                    \
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; "                 \
    "form-action 'self'; frame-ancestors 'none'"

static const char docs_csp[] = PAGE_CSP;
/* ReDoc also runs its search index in a worker it makes from a blob: URL. */
static const char redoc_csp[] = PAGE_CSP "; worker-src blob:";

const struct docs_asset *docs_find(const char *path)
{
    for (size_t i = 0; i < docs_nassets; i++)
        if (strcmp(docs_assets[i].path, path) == 0)
            return &docs_assets[i];
    return NULL;
}

/* True when the If-None-Match value lists etag, or is "*" (RFC 9110
 * §13.1.2, which compares weakly: a W/ prefix is ignored). */
bool api_etag_listed(const char *inm, const char *etag)
{
    size_t elen = strlen(etag);
    const char *p = inm;

    while (*p != '\0') {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0)
            p += 2;
        size_t n = strcspn(p, ", \t");
        if (n == elen && strncmp(p, etag, n) == 0)
            return true;
        p += n;
    }
    return false;
}

void api_docs(const struct api_request *req, struct reply *r)
{
    const struct docs_asset *a = docs_find(req->path);

    if (a == NULL) {
        reply_problem(r, 404, "not found");
        return;
    }
    /* Versioned paths never change their bytes; the pages and the document
     * change with the binary, so caches revalidate them (304 by ETag). */
    reply_header(r, "Cache-Control",
                 a->immutable ? "public, max-age=31536000, immutable" : "no-cache");
    reply_header(r, "ETag", a->etag);
    if (a->html) {
        reply_header(r, "Content-Security-Policy",
                     strcmp(a->path, "/redoc") == 0 ? redoc_csp : docs_csp);
        reply_header(r, "Referrer-Policy", "no-referrer");
    }
    if (req->if_none_match != NULL && api_etag_listed(req->if_none_match, a->etag)) {
        r->status = 304;
        return;
    }
    r->status = 200;
    r->content_type = a->content_type;
    r->static_body = a->data;
    r->static_len = a->len;
}
