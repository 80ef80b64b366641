#include "http/server.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/audit.h"
#include "api/errors.h"
#include "http/conns.h"
#include "http/forwarded.h"
#include "http/framing.h"
#include "http/query.h"
#include "util/log.h"
#include "util/mediatype.h"
#include "util/metrics.h"
#include "util/netaddr.h"
#include "util/numfmt.h"
#include "util/stopper.h"

#define REQUEST_ID_MAX 128

#define STR_(x) #x
#define STR(x)  STR_(x)

struct http_server {
    struct MHD_Daemon *d;
    const struct api_route *routes;
    size_t nroutes;
    const struct api_ctx *app;
    pool *hashers; /* API_HASH routes */
    pool *db;      /* API_DB routes */
    bool access_log;
    const struct netaddr_cidr *trusted; /* TRUSTED_PROXIES */
    size_t ntrusted;
    enum forwarded_header trusted_header; /* TRUSTED_PROXY_HEADER */
    bool count;                           /* requests count in GET /metrics */
    bool tls;                             /* HTTPS: every answer carries HSTS */
    atomic_uint_fast64_t in_flight;
    atomic_uint_fast64_t busy;      /* requests fully read and not yet ended */
    atomic_uint_fast64_t suspended; /* connections handed to a worker */
    atomic_bool stopping;
    bool inherited;       /* the listening socket is shared (server.h) */
    atomic_bool draining; /* stopping an inherited socket's server: answers close */
    unsigned header_timeout_ms, body_timeout_ms;
    struct http_conns conns;
    atomic_uint_fast64_t next_id;
    char id_prefix[17]; /* random per process, so ids differ across restarts */
};

enum req_state { REQ_READING, REQ_RUNNING, REQ_DONE };

struct request {
    http_server *srv;
    struct MHD_Connection *conn;   /* NULL until the access handler first runs */
    const struct api_route *route; /* NULL: answer err_reply */
    struct api_request api;
    struct reply reply;
    _Atomic enum req_state state;
    char request_id[REQUEST_ID_MAX + 1];
    char *body;
    size_t body_len;
    bool too_large;
    bool decided;  /* reply is final before any handler runs */
    bool close;    /* answer at once and close the connection */
    bool counted;  /* in srv->busy */
    bool sent;     /* the reply is queued */
    bool observed; /* counted in GET /metrics (observe) */
    /* A query string that cannot be served: the status and detail of the
     * problem, decided once the route is known (0: the query is fine). */
    int query_status;
    const char *query_detail;
    uint64_t start_us; /* monotonic, when the headers were in */
    bool target_too_long;
    /* The path ends in '/' (not "/" alone): it may be a known route's with
     * a trailing slash (redirect_slash), which needs the query as sent:
     * malloc'd, NULL without one. */
    bool trailing_slash;
    char *raw_query;
    struct sockaddr_storage client; /* the client behind trusted proxies */
    bool admitted;                  /* holds a hashing slot (api_admit) */
};

static const char *request_header(const struct api_request *req, const char *name)
{
    const struct request *rq =
        (const struct request *)(const void *)((const char *)req - offsetof(struct request, api));

    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

static bool valid_request_id(const char *s)
{
    size_t n = 0;

    for (; s[n] != '\0'; n++) {
        char c = s[n];
        if (n >= REQUEST_ID_MAX || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                     (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return n > 0;
}

static void set_request_id(struct request *rq)
{
    const char *given = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "X-Request-Id");

    if (given != NULL && valid_request_id(given)) {
        memcpy(rq->request_id, given, strlen(given) + 1);
        return;
    }
    /* "<prefix>-<counter in 12 or more hex digits>", without printf: this
     * runs for every request. */
    uint64_t n = atomic_fetch_add(&rq->srv->next_id, 1);
    size_t p = strlen(rq->srv->id_prefix);
    memcpy(rq->request_id, rq->srv->id_prefix, p);
    rq->request_id[p] = '-';
    numfmt_hex(rq->request_id + p + 1, n, 12);
}

/* Content-Type must be application/json; parameters may follow, but a
 * charset other than UTF-8 is refused (RFC 8259 §8.1). */
/* A DELETE that sends no body at all (no Content-Type, no Content-Length
 * or 0, not chunked), as most clients send one: its JSON route reads it as
 * {} (api_parse_object), so that a member it may carry (a step-up's code)
 * is only needed when it is needed. */
static bool bodiless_delete(struct MHD_Connection *conn, const char *method, const char *ct,
                            const char *cl)
{
    return strcmp(method, "DELETE") == 0 && ct == NULL && (cl == NULL || strcmp(cl, "0") == 0) &&
           MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) ==
               NULL;
}

static bool json_content_type(const char *ct)
{
    return mediatype_is(ct, "application/json");
}

/* A route's path matches exactly; one that ends in '/' matches every path
 * under it (see api.h). */
static bool route_matches(const struct api_route *r, const char *path)
{
    size_t n = strlen(r->path);

    if (n > 0 && r->path[n - 1] == '/')
        return strncmp(r->path, path, n) == 0;
    return strcmp(r->path, path) == 0;
}

/* Finds the route for path and method. Sets *path_known when some route
 * has the path, so that the caller can tell 404 from 405. HEAD is served
 * as GET (libmicrohttpd drops the body). */
static const struct api_route *find_route(const http_server *srv, const char *path,
                                          const char *method, bool *path_known)
{
    *path_known = false;
    for (size_t i = 0; i < srv->nroutes; i++) {
        const struct api_route *r = &srv->routes[i];
        if (!route_matches(r, path))
            continue;
        *path_known = true;
        if (strcmp(r->method, method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0))
            return r;
    }
    return NULL;
}

static void method_not_allowed(struct request *rq)
{
    char allow[64] = "";
    size_t n = 0;

    for (size_t i = 0; i < rq->srv->nroutes; i++) {
        const struct api_route *r = &rq->srv->routes[i];
        if (!route_matches(r, rq->api.path))
            continue;
        n += (size_t)snprintf(allow + n, sizeof allow - n, "%s%s%s", n > 0 ? ", " : "", r->method,
                              strcmp(r->method, "GET") == 0 ? ", HEAD" : "");
        if (n >= sizeof allow)
            break;
    }
    reply_problem(&rq->reply, 405, "method not allowed");
    reply_header(&rq->reply, "Allow", allow);
}

static void decide(struct request *rq, int status, const char *detail)
{
    reply_problem(&rq->reply, status, detail);
    rq->decided = true;
}

/* Refuses the request at once, before any body, and closes the connection. */
static void decide_close(struct request *rq, int status, const char *detail)
{
    decide(rq, status, detail);
    rq->close = true;
}

/* A known route's path with a trailing slash ("/login/", "/me//") is sent
 * to the route, as the FastAPI app did (Starlette's redirect_slashes): 307,
 * which keeps the method and the body (RFC 9110 §15.4.8), so a client that
 * posted to /login/ logs in all the same, with the query as sent. The
 * Location is relative (RFC 9110 §10.2.2): building an absolute one would
 * take the scheme and host from headers a client or a proxy chose. Returns
 * false when no route has the path without its slashes. */
static bool redirect_slash(struct request *rq)
{
    const char *path = rq->api.path;
    size_t n = strlen(path);

    if (!rq->trailing_slash)
        return false;
    while (n > 0 && path[n - 1] == '/')
        n--;
    for (size_t i = 0; n > 0 && i < rq->srv->nroutes; i++) {
        const char *r = rq->srv->routes[i].path;
        if (strlen(r) != n || memcmp(r, path, n) != 0)
            continue;
        if (rq->query_status == 503) {
            decide(rq, 503, rq->query_detail); /* the query could not be kept */
            return true;
        }
        char location[HTTP_MAX_TARGET + 2];
        snprintf(location, sizeof location, "%s%s%s", r, rq->raw_query != NULL ? "?" : "",
                 rq->raw_query != NULL ? rq->raw_query : "");
        rq->reply.status = 307;
        reply_header(&rq->reply, "Location", location);
        rq->decided = true;
        return true;
    }
    return false;
}

/* The checks that need only the request line and headers. */
static void check_head(struct request *rq)
{
    bool known;
    struct framing f;

    if (rq->target_too_long) {
        decide(rq, 414, "request target exceeds " STR(HTTP_MAX_TARGET) " bytes");
        return;
    }
    framing_read(rq->conn, &f);
    if (f.bytes > HTTP_MAX_HEADERS) {
        decide(rq, 431, "request headers exceed 16384 bytes");
        return;
    }
    const char *framing = framing_problem(&f);
    if (framing != NULL) {
        decide_close(rq, 400, framing);
        return;
    }
    rq->route = find_route(rq->srv, rq->api.path, rq->api.method, &known);
    if (rq->route == NULL) {
        if (known) {
            method_not_allowed(rq);
            rq->decided = true;
        } else if (!redirect_slash(rq)) {
            decide(rq, 404, "not found");
        }
        return;
    }
    if (rq->route->body != API_BODY_NONE) {
        const char *cl =
            MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        const char *ct =
            MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (framing_too_large(cl, HTTP_MAX_BODY)) {
            decide(rq, 413, "request body exceeds 16384 bytes");
            return;
        }
        /* A form route checks the content type itself (see api.h). */
        if (rq->route->body == API_BODY_JSON && !json_content_type(ct) &&
            !bodiless_delete(rq->conn, rq->api.method, ct, cl)) {
            decide(rq, 415, "Content-Type must be application/json");
            return;
        }
        if (rq->route->body == API_BODY_JSON_OR_FORM && !json_content_type(ct) &&
            !form_content_type_ok(ct)) {
            decide(rq, 415,
                   "Content-Type must be application/json or application/x-www-form-urlencoded");
            return;
        }
        rq->api.content_type = ct;
    }
    if (rq->query_status != 0) {
        decide(rq, rq->query_status, rq->query_detail);
        return;
    }
    rq->api.if_none_match =
        MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    /* What the cookie rules of a state-changing request read (api.h); a
     * GET, /verify above all, never looks them up. */
    if (api_changes_state(&rq->api)) {
        rq->api.origin = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Origin");
        rq->api.host = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
        rq->api.refresh_cookie =
            MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, "refresh_token");
    }
    /* What a page or a mail is rendered with (api.h): looked up for the
     * routes that run on a worker only, never for /verify. */
    if (rq->route->work != API_INLINE) {
        rq->api.accept_language =
            MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Accept-Language");
        rq->api.csrf_cookie = MHD_lookup_connection_value(
            rq->conn, MHD_COOKIE_KIND,
            rq->srv->app->cookies.secure ? API_CSRF_COOKIE_SECURE : API_CSRF_COOKIE);
        rq->api.sso_cookie = MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, API_SSO_COOKIE);
        /* A route without authentication may still end the browser's
         * session (/oidc/logout without the sign-in cookie). */
        if (rq->route->auth == API_AUTH_NONE)
            rq->api.cookie_token =
                MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, "access_token");
    }
    /* The token is verified once, for every route that needs one, before
     * the handler runs, which then finds req->token filled. An inline route
     * verifies it here; a route that goes to a worker verifies it there
     * (run_job): the HTTP thread serves every connection, and a signature
     * check on it for each /me cost 10-15% of /me's throughput (measured). */
    if (rq->route->auth != API_AUTH_NONE) {
        rq->api.authorization =
            MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
        /* The cookie counts only without an Authorization header
         * (api_find_token): not looked up when there is one. */
        if (((rq->route->auth == API_AUTH_BEARER_OR_COOKIE ||
              rq->route->auth == API_AUTH_OPTIONAL) &&
             rq->api.authorization == NULL) ||
            rq->route->auth == API_AUTH_PAGE)
            rq->api.cookie_token =
                MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, "access_token");
        if (rq->route->work == API_INLINE && !api_authenticate(rq->route, &rq->api, &rq->reply))
            rq->decided = true;
    }
}

static void free_body(struct request *rq)
{
    if (rq->body != NULL) {
        /* The body holds passwords. */
        sodium_memzero(rq->body, rq->body_len);
        free(rq->body);
        rq->body = NULL;
    }
}

static void append_body(struct request *rq, const char *data, size_t len)
{
    if (rq->too_large || rq->decided)
        return;
    if (rq->body_len + len > HTTP_MAX_BODY) {
        rq->too_large = true;
        free_body(rq);
        rq->body_len = 0;
        decide(rq, 413, "request body exceeds 16384 bytes");
        return;
    }
    if (rq->body == NULL) {
        rq->body = malloc(HTTP_MAX_BODY + 1);
        if (rq->body == NULL) {
            decide(rq, 503, "out of memory");
            return;
        }
    }
    memcpy(rq->body + rq->body_len, data, len);
    rq->body_len += len;
}

/* Returns false when a header of the handler's own could not be added
 * (libmicrohttpd refuses an empty value and any CR or LF, and fails without
 * memory): the answer would then say less than the handler meant. */
static bool add_common_headers(struct MHD_Response *resp, const struct request *rq)
{
    const struct reply *r = &rq->reply;
    bool all = true;

    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Request-Id", rq->request_id);
    if (rq->srv->tls)
        MHD_add_response_header(resp, "Strict-Transport-Security", TLS_HSTS);
    if (r->content_type != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    if (r->no_store) {
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_PRAGMA, "no-cache");
    }
    if (r->retry_after > 0) {
        char v[16];
        snprintf(v, sizeof v, "%u", r->retry_after);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, v);
    }
    if (rq->close || atomic_load(&rq->srv->stopping) || atomic_load(&rq->srv->draining))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    for (int i = 0; i < r->nheaders; i++)
        if (MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value) != MHD_YES)
            all = false;
    return all;
}

/* Counts the request once for GET /metrics, by route (never by raw path),
 * with its status and its duration so far: when its answer is queued, the
 * time the server took to answer it, whatever the client then takes to
 * read it; else when it ends unanswered. */
static void observe(struct request *rq)
{
    http_server *srv = rq->srv;

    if (!srv->count || rq->observed)
        return;
    rq->observed = true;
    metrics_http_observe(rq->route != NULL ? (int)(rq->route - srv->routes) : -1, rq->reply.status,
                         metrics_now_us() - rq->start_us);
}

static void free_body_cb(void *p)
{
    free(p);
}

static enum MHD_Result send_reply(struct request *rq)
{
    struct reply *r = &rq->reply;
    struct MHD_Response *resp;

    if (rq->sent)
        return MHD_YES;
    rq->sent = true;
    if (!rq->counted) {
        rq->counted = true;
        atomic_fetch_add(&rq->srv->busy, 1);
    }
    if (r->status == 0)
        errors_problem(r, OUTCOME_ERROR, NULL);
    /* The response takes the body; MHD frees it when sent. Tokens in it are
     * short-lived copies: the originals were wiped by the handler. Static
     * bytes (the embedded documentation) are sent from where they lie. */
    if (r->static_body != NULL)
        resp = MHD_create_response_from_buffer(r->static_len, (void *)(uintptr_t)r->static_body,
                                               MHD_RESPMEM_PERSISTENT);
    else
        resp =
            MHD_create_response_from_buffer_with_free_callback(r->body_len, r->body, free_body_cb);
    if (resp == NULL)
        return MHD_NO;
    r->body = NULL;
    r->body_len = 0;
    if (!add_common_headers(resp, rq) && r->status < 300) {
        /* Fail closed: a /verify without its X-Auth-Username must not pass
         * as a success (a proxy would let the request through unnamed). */
        MHD_destroy_response(resp);
        rq->sent = false;
        reply_free(r);
        memset(r, 0, sizeof *r);
        errors_problem(r,
                       rq->route != NULL && rq->route->auth != API_AUTH_NONE
                           ? OUTCOME_UNAUTHENTICATED
                           : OUTCOME_ERROR,
                       NULL);
        return send_reply(rq);
    }
    /* Counted before the answer is queued, so that a client that has it
     * finds it counted by any scrape that follows. */
    observe(rq);
    enum MHD_Result ok = MHD_queue_response(rq->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static void run_job(void *arg)
{
    struct request *rq = arg;
    http_server *srv = rq->srv; /* rq may be freed once resumed */

    /* Routes that run here have their token verified here (check_head). */
    if (rq->route->auth == API_AUTH_NONE || api_authenticate(rq->route, &rq->api, &rq->reply))
        rq->route->handle(&rq->api, &rq->reply);
    /* An audit event a handler held for its transaction and did not end
     * (api/audit.h) must not be written by the next request this worker
     * runs: the hold ends with the request, whatever the handler did. */
    audit_release();
    if (rq->admitted)
        api_release(rq->route, &rq->api);
    atomic_store(&rq->state, REQ_DONE);
    /* Resuming publishes the reply to the HTTP thread (MHD takes a lock). */
    MHD_resume_connection(rq->conn);
    /* After the call: the daemon must outlive it (http_stop). */
    atomic_fetch_sub(&srv->suspended, 1);
}

static void free_spare(struct request *rq)
{
    free(rq);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    http_server *srv = cls;

    if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context != NULL)
        tls_conn_closed(*socket_context);
    if (code == MHD_CONNECTION_NOTIFY_STARTED && srv->tls)
        tls_conn_started(conn);
    conns_notify(&srv->conns, conn, socket_context, code, free_spare);
}

/* libmicrohttpd calls this with the request line's target before it splits
 * off and decodes the query in place; it is the one moment the raw query
 * can be seen. The request object is made here (libmicrohttpd then hands it
 * to on_request as *con_cls, and to on_completed, which frees it, even when
 * the request never gets that far). A keep-alive connection reuses the
 * object of its last request (struct conn's spare): the object is over a
 * kilobyte, past malloc's small-chunk bins, and its calloc and free were a
 * measurable part of what /verify adds to libmicrohttpd's own work. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    http_server *srv = cls;
    struct conn *c = conns_of(conn);
    struct request *rq;
    const char *q = strchr(uri, '?');

    if (c != NULL && c->spare != NULL) {
        rq = c->spare;
        c->spare = NULL;
        memset(rq, 0, sizeof *rq);
    } else {
        rq = calloc(1, sizeof *rq);
    }
    /* The request line is in: its headers have until the deadline, if the
     * sweeper has not started it already. */
    if (c != NULL && atomic_load(&c->phase) == CONN_WAIT)
        conn_set(c, CONN_HEAD, srv->header_timeout_ms);
    if (rq == NULL)
        return NULL;
    rq->srv = srv;
    if (strlen(uri) > HTTP_MAX_TARGET) {
        rq->target_too_long = true;
        return rq;
    }
    if (q != NULL)
        rq->query_status =
            http_query_parse(q + 1, strlen(q + 1), &rq->api.query, &rq->query_detail);
    /* Kept only for a path that may be redirected: a copy on every request
     * would cost /verify for nothing. */
    size_t plen = q != NULL ? (size_t)(q - uri) : strlen(uri);
    if (plen > 1 && uri[plen - 1] == '/') {
        rq->trailing_slash = true;
        if (q != NULL && (rq->raw_query = strdup(q + 1)) == NULL && rq->query_status == 0) {
            rq->query_status = 503;
            rq->query_detail = "out of memory";
        }
    }
    return rq;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    http_server *srv = cls;
    struct request *rq = *con_cls;

    (void)version;
    if (rq == NULL)
        return MHD_NO; /* on_uri found no memory for it */
    if (rq->conn == NULL) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        rq->conn = conn;
        rq->api.app = srv->app;
        rq->api.path = url;
        rq->api.method = method;
        rq->api.client =
            forwarded_resolve(conn, ci != NULL ? ci->client_addr : NULL, srv->trusted_header,
                              srv->trusted, srv->ntrusted, &rq->client);
        /* forwarded_resolve answers with its own buffer for a trusted
         * peer only. */
        rq->api.proxied = rq->api.client == (const struct sockaddr *)&rq->client;
        rq->api.header = request_header;
        rq->api.request_id = rq->request_id;
        rq->start_us = metrics_now_us();
        /* In flight from here: a client still sending its headers does
         * not hold up a shutdown. */
        atomic_fetch_add(&srv->in_flight, 1);
        set_request_id(rq);
        if (atomic_load(&srv->stopping)) {
            errors_problem(&rq->reply, OUTCOME_STOPPING, NULL);
            rq->decided = rq->close = true;
        } else {
            check_head(rq);
        }
        /* A refused request with a body is answered now, before the body is
         * read (libmicrohttpd then closes the connection). Otherwise the
         * answer waits for the next call: answering on the first one would
         * make libmicrohttpd close a keep-alive connection for nothing. */
        bool body = framing_has_body(conn), now = rq->decided && (body || rq->close);
        conn_set(conns_of(conn), body && !now ? CONN_BODY : CONN_BUSY, srv->body_timeout_ms);
        if (now)
            return send_reply(rq);
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        append_body(rq, upload_data, *upload_data_size);
        *upload_data_size = 0;
        /* Past the limit the rest is read and dropped: libmicrohttpd takes
         * no answer in the middle of a body. */
        return MHD_YES;
    }
    if (atomic_load(&rq->state) == REQ_DONE)
        return send_reply(rq);
    if (atomic_load(&rq->state) == REQ_RUNNING)
        return MHD_YES;

    /* The whole request is here. */
    conn_set(conns_of(conn), CONN_BUSY, 0);
    if (!rq->counted) {
        rq->counted = true;
        atomic_fetch_add(&srv->busy, 1);
    }
    if (rq->decided)
        return send_reply(rq);
    if (rq->route->body != API_BODY_NONE) {
        if (rq->body == NULL) {
            rq->body = malloc(1);
            if (rq->body == NULL)
                return MHD_NO;
        }
        rq->body[rq->body_len] = '\0';
        rq->api.body = rq->body;
        rq->api.body_len = rq->body_len;
    }
    if (rq->route->work == API_INLINE) {
        rq->route->handle(&rq->api, &rq->reply);
        return send_reply(rq);
    }
    /* Throttling and the client's share of the hashing queue: a 429 now
     * costs no slot and no hash. */
    if (rq->route->work == API_HASH) {
        if (!api_admit(rq->route, &rq->api, &rq->reply))
            return send_reply(rq);
        rq->admitted = true;
    }
    /* Counted before stopping is read, as http_stop sets stopping before
     * reading the count: either it waits for this one or this one sees it
     * stopping and never suspends. */
    atomic_fetch_add(&srv->suspended, 1);
    if (atomic_load(&srv->stopping)) {
        atomic_fetch_sub(&srv->suspended, 1);
        if (rq->admitted)
            api_release(rq->route, &rq->api);
        reply_free(&rq->reply);
        memset(&rq->reply, 0, sizeof rq->reply);
        errors_problem(&rq->reply, OUTCOME_STOPPING, NULL);
        return send_reply(rq);
    }
    /* Suspend before queueing: the worker may finish and resume at once. */
    atomic_store(&rq->state, REQ_RUNNING);
    MHD_suspend_connection(conn);
    if (pool_submit(rq->route->work == API_HASH ? srv->hashers : srv->db, run_job, rq) != 0) {
        if (rq->admitted)
            api_release(rq->route, &rq->api);
        errors_problem(&rq->reply, OUTCOME_OVERLOADED, NULL);
        atomic_store(&rq->state, REQ_DONE);
        MHD_resume_connection(conn);
        atomic_fetch_sub(&srv->suspended, 1);
    }
    return MHD_YES;
}

/* Writes the request's access log line (its duration runs to the end of
 * the response), and counts a request never answered for GET /metrics. The method and path are the
 * client's: the log escapes them (util/log.h), so that no byte of theirs can forge a line. */
static void request_done(http_server *srv, struct request *rq, bool completed)
{
    uint64_t us = metrics_now_us() - rq->start_us;
    char client[NETADDR_MAX];

    observe(rq); /* one that was never answered */
    if (!srv->access_log || !log_enabled(LOG_INFO))
        return;
    struct log_field f[] = {
        LOG_STR("request_id", rq->request_id),
        LOG_STR("client", rq->api.client != NULL
                              ? netaddr_format(rq->api.client, client, sizeof client)
                              : NULL),
        LOG_STR("method", rq->api.method),
        LOG_STR("route", rq->route != NULL ? rq->route->path : NULL),
        LOG_STR("path", rq->api.path),
        LOG_NUM("status", rq->reply.status),
        LOG_NUM("duration_ms", (double)(us / 10) / 100.0),
        LOG_STR("aborted", completed ? NULL : "true"),
    };
    log_event(LOG_INFO, "access", f, sizeof f / sizeof f[0]);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    http_server *srv = cls;
    struct request *rq = *con_cls;
    struct conn *c = conns_of(conn);

    /* The connection waits for its next request. */
    conn_request_ended(c);
    if (rq == NULL)
        return;
    /* A request libmicrohttpd refused before its headers were complete
     * never reached on_request: not in flight, nothing to log, only memory
     * to free. */
    bool started = rq->conn != NULL;
    if (started)
        request_done(srv, rq, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
    free_body(rq);
    form_free(&rq->api.query);
    free(rq->raw_query);
    reply_free(&rq->reply);
    if (rq->counted)
        atomic_fetch_sub(&srv->busy, 1);
    if (c != NULL && c->spare == NULL)
        c->spare = rq;
    else
        free(rq);
    *con_cls = NULL;
    if (started)
        atomic_fetch_sub(&srv->in_flight, 1);
}

/* libmicrohttpd calls this with one of its own printf formats and the
 * arguments in ap. The attribute states that contract, so that handing fmt to
 * vsnprintf is not taken for a format built at run time (-Wformat-nonliteral);
 * only libmicrohttpd calls this, through a pointer, so no call site of ours
 * is checked against it. */
__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];

    (void)cls;
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_warn("http: %s", msg);
}

/* HTTPS (opt->tls): GnuTLS asks tls_retrieve for the pair at each
 * handshake, so that a reload reaches new handshakes only; the priorities
 * are TLS_PRIORITIES. Fills the first two of opts' spare MHD_OPTION_END
 * entries and returns the flag to add. */
static unsigned tls_options(const struct http_options *opt, struct MHD_OptionItem *opts)
{
    if (opt->tls == NULL)
        return 0;
    while (opts->option != MHD_OPTION_END)
        opts++;
    opts[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)tls_retrieve};
    opts[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES};
    return MHD_USE_TLS;
}

http_server *http_start(const struct http_options *opt, const struct api_route *routes,
                        size_t nroutes, const struct api_ctx *app, pool *hashers, pool *db,
                        char *err, size_t errlen)
{
    struct sockaddr_storage addr = opt->addr; /* libmicrohttpd takes a mutable pointer */
    struct sockaddr *sa = (struct sockaddr *)&addr;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG;
    unsigned char rnd[8];

    if (opt->addrlen == 0 || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)) {
        snprintf(err, errlen, "HOST: no IPv4 or IPv6 address to listen on for \"%.60s\"",
                 opt->host);
        if (opt->has_listen_fd)
            close(opt->listen_fd);
        return NULL;
    }
    if (sa->sa_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* A pool of event-loop threads polls with poll(2), not epoll: in
     * libmicrohttpd 0.9.75 MHD_quiesce_daemon marks each worker quiesced
     * and then removes the listening socket from the worker's epoll set,
     * while the worker, seeing the mark, removes it too; the worker
     * tolerates the ENOENT of losing that race, MHD_quiesce_daemon does not
     * and aborts the process (daemon.c, "Failed to remove listen FD from
     * epoll set"), which a SIGTERM under load met in make test. With poll
     * it signals each worker through its inter-thread channel instead. One
     * thread (the default) keeps epoll: its quiesce tolerates the race. */
    if (opt->threads > 1)
        flags = (flags & ~(unsigned)MHD_USE_EPOLL) | MHD_USE_POLL;

    http_server *s = calloc(1, sizeof *s);
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        if (opt->has_listen_fd)
            close(opt->listen_fd);
        return NULL;
    }
    s->routes = routes;
    s->nroutes = nroutes;
    s->app = app;
    s->hashers = hashers;
    s->db = db;
    s->access_log = opt->access_log;
    s->trusted = opt->trusted_proxies;
    s->ntrusted = opt->ntrusted_proxies;
    s->trusted_header = opt->trusted_proxy_header;
    s->count = opt->count_metrics;
    s->tls = opt->tls != NULL;
    s->inherited = opt->inherited;
    for (size_t i = 0; s->count && i < nroutes; i++)
        metrics_http_route(i, routes[i].method, routes[i].path);
    s->header_timeout_ms = opt->header_timeout_s * 1000;
    s->body_timeout_ms = opt->body_timeout_s * 1000;
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(s->id_prefix, sizeof s->id_prefix, rnd, sizeof rnd);

    struct MHD_OptionItem opts[] = {
        /* The logger comes first so that it sees every message. */
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, s},
        {opt->has_listen_fd ? MHD_OPTION_LISTEN_SOCKET : MHD_OPTION_SOCK_ADDR,
         opt->has_listen_fd ? (intptr_t)opt->listen_fd : 0, opt->has_listen_fd ? NULL : sa},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, s},
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)opt->max_connections, NULL},
        /* Room for 16 KiB of headers, the request line, libmicrohttpd's
         * copy of a Cookie header while it parses it, and the response
         * headers: 48 KiB (32 KiB refused a legal 15 KiB cookie). Anything
         * larger is refused (431) by libmicrohttpd itself. libmicrohttpd
         * zeroes the whole pool for every request on a connection, so a
         * larger pool costs throughput (64 KiB: 11% of CPU on /verify). */
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)(48 * 1024), NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)opt->idle_timeout_s, NULL},
        {MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, s},
        {opt->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, (intptr_t)opt->threads,
         NULL},
        {MHD_OPTION_END, 0, NULL},
        {MHD_OPTION_END, 0, NULL}, /* spare: tls_options */
        {MHD_OPTION_END, 0, NULL},
    };
    flags |= tls_options(opt, opts);
    /* Before the daemon: its first connection is counted there. */
    if (conns_init(&s->conns, opt->max_connections, opt->max_connections_per_address,
                   opt->header_timeout_s * 1000) != 0) {
        snprintf(err, errlen, "cannot start the connection deadline thread");
        if (opt->has_listen_fd)
            close(opt->listen_fd);
        free(s);
        return NULL;
    }
    s->d = MHD_start_daemon(flags, (uint16_t)opt->port, NULL, NULL, on_request, s, MHD_OPTION_ARRAY,
                            opts, MHD_OPTION_END);
    if (s->d == NULL) {
        snprintf(err, errlen, "cannot listen on %s:%u (address in use or not permitted)", opt->host,
                 opt->port);
        if (opt->has_listen_fd)
            close(opt->listen_fd);
        conns_destroy(&s->conns);
        free(s);
        return NULL;
    }
    return s;
}

static unsigned open_connections(http_server *s)
{
    const union MHD_DaemonInfo *i = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

    return i != NULL ? i->num_connections : 0;
}

/* Stopping with a socket shared with the next server (socket activation):
 * its queue already holds the connections no one accepts now, so requests
 * on open connections are served as usual, each answer closing its
 * connection, until none is open or limit_ms has passed. Closing a
 * keep-alive connection between requests instead would race the client's
 * next request on it, which would then meet a closed connection (RFC 9112
 * §9.3.1: retried only when idempotent). Returns the milliseconds spent. */
static unsigned drain(http_server *s, unsigned limit_ms)
{
    unsigned waited = 0;

    atomic_store(&s->draining, true);
    for (; open_connections(s) > 0 && waited < limit_ms; waited += 10)
        usleep(10 * 1000);
    return waited;
}

bool http_stop(http_server *s, unsigned grace_ms)
{
    if (s == NULL)
        return true;
    /* The listening socket stops listening at once (a new connection is
     * refused, not left waiting in the backlog for the grace period), but
     * its descriptor is closed only after MHD_stop_daemon: the daemon's
     * thread may still be removing it from its epoll set after
     * MHD_quiesce_daemon returns, and libmicrohttpd aborts the process if
     * that removal finds the descriptor closed (EBADF). A socket shared
     * with another process (socket activation) must not be shut down. */
    MHD_socket listen_fd = MHD_quiesce_daemon(s->d);
    unsigned waited = 0;
    if (s->inherited)
        waited = drain(s, grace_ms < HTTP_DRAIN_MS ? grace_ms : HTTP_DRAIN_MS);
    else if (listen_fd != MHD_INVALID_SOCKET)
        (void)shutdown(listen_fd, SHUT_RDWR);
    /* From here a request that arrives on an open connection is answered
     * 503 with Connection: close, and none is handed to a worker. */
    atomic_store(&s->stopping, true);
    /* Requests fully read, those on workers included, finish and answer. A
     * client still sending its headers or body is not waited for: its
     * connection is closed with the daemon. */
    for (; atomic_load(&s->busy) > 0 && waited < grace_ms; waited += 10)
        usleep(10 * 1000);
    uint_fast64_t unanswered = atomic_load(&s->busy);
    if (unanswered > 0)
        log_warn("stopping with %" PRIuFAST64 " %s unanswered", unanswered,
                 numfmt_plural((long long)unanswered, "request", "requests"));
    /* libmicrohttpd aborts the process when stopped with a connection still
     * suspended; a job on a worker resumes its connection when done, and the
     * daemon must outlive that call. A job is one hash or a few queries, but
     * a stored hash of a huge cost could run for days: past the grace
     * period the caller abandons it (see server.h). */
    for (; atomic_load(&s->suspended) > 0 && waited < grace_ms; waited += 10)
        usleep(10 * 1000);
    uint_fast64_t left = atomic_load(&s->suspended);
    if (left > 0) {
        log_warn("abandoning %" PRIuFAST64 " %s still on workers after the grace period", left,
                 numfmt_plural((long long)left, "request", "requests"));
        return false;
    }
    MHD_stop_daemon(s->d);
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);
    conns_destroy(&s->conns);
    free(s);
    return true;
}
