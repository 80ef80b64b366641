#include "api/reply.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void reply_free(struct reply *r)
{
    if (r->body != NULL) {
        sodium_memzero(r->body, r->body_len);
        free(r->body);
    }
    /* Header values may be cookies that carry tokens. */
    for (int i = 0; i < r->nheaders; i++) {
        sodium_memzero(r->headers[i].value, strlen(r->headers[i].value));
        free(r->headers[i].value);
    }
    memset(r, 0, sizeof *r);
}

/* Ends the malloc'd JSON text s with a line feed, as a file or a terminal
 * expects (curl's output then ends its line). Returns the text, or NULL
 * (s freed) without memory or for a NULL s. */
static char *end_line(char *s, size_t *len)
{
    *len = 0;
    if (s == NULL)
        return NULL;
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (t == NULL) {
        sodium_memzero(s, n);
        free(s);
        return NULL;
    }
    t[n] = '\n';
    t[n + 1] = '\0';
    *len = n + 1;
    return t;
}

void reply_json(struct reply *r, int status, char *json)
{
    r->status = status;
    r->content_type = "application/json";
    r->body = end_line(json, &r->body_len);
}

const char *reply_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Error";
    }
}

static void set_problem(struct reply *r, int status, json_t *o)
{
    char *body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

    json_decref(o);
    if (r->body != NULL) {
        /* Replace only the body; headers set so far stay. */
        sodium_memzero(r->body, r->body_len);
        free(r->body);
    }
    r->static_body = NULL;
    r->static_len = 0;
    r->status = status;
    r->content_type = "application/problem+json";
    r->body = end_line(body, &r->body_len);
}

static json_t *problem_object(int status, const char *detail)
{
    return json_pack("{s:s, s:s, s:i, s:s}", "type", "about:blank", "title", reply_reason(status),
                     "status", status, "detail", detail);
}

void reply_problem(struct reply *r, int status, const char *detail)
{
    set_problem(r, status, problem_object(status, detail));
}

void reply_invalid(struct reply *r, const struct outcome_errors *errs)
{
    char detail[160];
    json_t *list = json_array();

    snprintf(detail, sizeof detail, "%s: %s", errs->e[0].field, errs->e[0].message);
    for (int i = 0; i < errs->count; i++)
        json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "field", errs->e[i].field, "code",
                                              errs->e[i].code, "message", errs->e[i].message));
    json_t *o = problem_object(422, detail);
    json_object_set_new(o, "errors", list);
    set_problem(r, 422, o);
}

void reply_header(struct reply *r, const char *name, const char *value)
{
    if (r->nheaders >= REPLY_MAX_HEADERS)
        return;
    char *v = strdup(value);
    if (v == NULL)
        return;
    r->headers[r->nheaders].name = name;
    r->headers[r->nheaders].value = v;
    r->nheaders++;
}
