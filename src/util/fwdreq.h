#ifndef GH_UTIL_FWDREQ_H
#define GH_UTIL_FWDREQ_H

#include <stdbool.h>
#include <stddef.h>

/* The original request that a forward-authentication proxy asks /verify
 * about (nginx auth_request, Caddy forward_auth, Traefik ForwardAuth),
 * read from the headers the proxy sets. Pure: the caller looks the headers
 * up (http/server.c) and says whether the peer is one of TRUSTED_PROXIES;
 * only then are they believed, otherwise the request judged is the /verify
 * request itself (its method, Host and path), whatever it carries.
 *
 * Where each part comes from, first present wins:
 *   method: X-Forwarded-Method, the request's own;
 *   scheme, host and path: X-Original-URL (a whole absolute URL) alone;
 *   else scheme: X-Forwarded-Proto, "http";
 *        host:   X-Forwarded-Host, Host;
 *        path:   X-Forwarded-Uri or X-Original-URI, the request's own.
 * The request names its target one way: two of X-Original-URL,
 * X-Forwarded-Uri and X-Original-URI at once are refused
 * (FWDREQ_AMBIGUOUS). A proxy sets the one it uses; a second one came from
 * the client through a proxy that does not drop it, and believing either
 * would let a client choose the request the rules judge.
 * Nothing is decoded here: the path is kept as sent (the access rules
 * percent-decode it and remove dot segments, core/rules.h). */

#define FWDREQ_METHOD_MAX 32   /* bytes of a method (a token, RFC 9110 §9.1) */
#define FWDREQ_HOST_MAX   253  /* bytes of a host name without its port (RFC 1035 §2.3.4) */
#define FWDREQ_TARGET_MAX 8192 /* bytes of the path with its query, as HTTP_MAX_TARGET */
#define FWDREQ_URL_MAX    8704 /* bytes of X-Original-URL: scheme, host, port and target */

/* The headers as received (NULL: absent). */
struct fwdreq_headers {
    const char *method;       /* X-Forwarded-Method */
    const char *proto;        /* X-Forwarded-Proto */
    const char *host;         /* X-Forwarded-Host */
    const char *uri;          /* X-Forwarded-Uri */
    const char *original_url; /* X-Original-URL */
    const char *original_uri; /* X-Original-URI */
};

struct fwdreq {
    char method[FWDREQ_METHOD_MAX + 1];
    char scheme[6];                 /* "http" or "https" */
    char host[FWDREQ_HOST_MAX + 3]; /* lower case, without a port; "" when none was sent */
    char port[6];                   /* the port's digits as sent, "" when none */
    /* The request target (origin-form: path, then '?' and the query when
     * there is one) as sent, pointing into the input; path_len is the
     * path's part of it. */
    const char *target;
    size_t target_len, path_len;
};

enum fwdreq_status {
    FWDREQ_OK = 0,
    FWDREQ_BAD_METHOD, /* not a token, or longer than FWDREQ_METHOD_MAX */
    FWDREQ_BAD_SCHEME, /* neither http nor https */
    FWDREQ_BAD_HOST,   /* userinfo, a character a host cannot hold, or too long */
    FWDREQ_BAD_TARGET, /* not starting with '/', a space or control byte, a fragment, too long */
    FWDREQ_AMBIGUOUS,  /* more than one of X-Original-URL, X-Forwarded-Uri, X-Original-URI */
};

/* Reads the original request into *out: from h when trusted, else from
 * own_method, own_host (the Host header, or NULL) and own_target (the
 * /verify request's path). *out points into the inputs, which must
 * outlive it. On an error *out is unspecified. */
enum fwdreq_status fwdreq_parse(const struct fwdreq_headers *h, bool trusted,
                                const char *own_method, const char *own_host,
                                const char *own_target, struct fwdreq *out);

/* Reads an absolute URL as X-Original-URL is read (scheme http or https,
 * "://", a host as above with an optional port, then an origin-form
 * target or nothing, which is "/") into *out's scheme, host, port and
 * target; the method is left alone. What the sign-in page checks the
 * address it returns to (rd) with: no userinfo, no backslash, no '%' or
 * anything else in the host that one URL parser reads otherwise than
 * another. */
enum fwdreq_status fwdreq_parse_url(const char *url, struct fwdreq *out);

/* The name of the header an error was found in, for the answer. */
const char *fwdreq_status_text(enum fwdreq_status s);

#endif
