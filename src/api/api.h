#ifndef GH_API_API_H
#define GH_API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "api/reply.h"
#include "core/emails.h"
#include "core/jwt.h"
#include "core/mfa.h"
#include "core/oidc.h"
#include "core/passkeys.h"
#include "core/rules.h"
#include "core/sessions.h"
#include "core/throttle.h"
#include "core/users.h"
#include "util/form.h"
#include "util/pool.h"

/* The endpoint handlers and the routing table the HTTP layer serves. A
 * handler parses and validates its input, calls core, and answers through
 * the error map (api/errors.h); it holds no SQL and no cryptography. */

/* Browser sessions (API.md): the tokens also as cookies, and the origins
 * whose cookie-authenticated changes are accepted. */
struct api_cookies {
    bool enabled;        /* SESSION_COOKIES */
    bool secure;         /* COOKIE_SECURE: the Secure attribute */
    const char *origins; /* ALLOWED_ORIGINS, comma-separated; NULL: none */
    const char *domain;  /* COOKIE_DOMAIN: the session cookies' Domain; NULL: host-only */
};

/* The address browsers reach the service at (PUBLIC_URL, validated by the
 * configuration: lower-case scheme and host, no default port, no trailing
 * '/'). Its first origin_len bytes are its origin ("https://host[:port]"),
 * the service's own for the Origin check (api_own_origin); links are the
 * whole url and a path. url NULL: unset. */
struct api_public {
    const char *url;
    size_t origin_len;
};

/* The cookie that the CSRF token of every form of the service's pages is
 * checked against (api/pages.c). With COOKIE_SECURE its name has the
 * __Host- prefix, so that no sibling subdomain, nor plain HTTP, can set it
 * (RFC 6265bis §4.1.3.2); without (plain-HTTP development) browsers refuse
 * that prefix. */
#define API_CSRF_COOKIE        "gatehouse_csrf"
#define API_CSRF_COOKIE_SECURE "__Host-gatehouse_csrf"

/* The browser's single sign-on cookie (API.md, "Single sign-on"): an
 * opaque value bound to the session of a page sign-in (oidc_sso_bind),
 * which /authorize finds the signed-in user by. */
#define API_SSO_COOKIE "gatehouse_sso"

/* What GET /metrics reads besides the counters (api/metrics.c). */
struct api_metrics {
    bool enabled;     /* METRICS; off: /metrics is 404 */
    bool own_address; /* METRICS_ADDRESS: served there only, 404 on the main listener */
    pool *hashers, *db;
    long db_pool_size;
    double start_time; /* process_start_time_seconds */
};

struct mailer; /* core/mail.h */

/* What every handler may use; read-only while serving. */
struct api_ctx {
    struct mailer *mailer; /* core/mail.h; NULL: mail is off (SMTP_URL unset) */
    struct users_deps users;
    struct sessions_deps sessions;
    struct api_cookies cookies;
    struct api_public public_url; /* PUBLIC_URL */
    struct api_metrics metrics;
    throttle *throttle;        /* login, registration and hashing-queue limits (core/throttle.h) */
    struct emails_deps emails; /* addresses and mailed links; emails.mailer NULL: mail is off */
    struct mfa_deps mfa;       /* TOTP and recovery codes (core/mfa.h) */
    struct passkeys_deps passkeys; /* passkeys.rp_id NULL: passkeys are off (no PUBLIC_URL) */
    /* The OpenID Connect provider (core/oidc.h); oidc.keys NULL: off (no
     * PUBLIC_URL). On, it still answers 404 until a client is registered
     * (oidc_enabled). */
    struct oidc_deps oidc;
    /* The database workers: a POST /password/forgot is resolved there right
     * after its answer (core/emails.h). NULL: by the janitor's sweep only. */
    pool *db_jobs;
    /* The access rules of /verify (core/rules.h): a request takes the
     * current ones with rules_ref_get and puts them back when done, as a
     * SIGHUP may swap them meanwhile. rules_ref_get NULL: no rules, and
     * default_policy (DEFAULT_POLICY) decides. NULL ref: the same. */
    rules_ref *rules;
    enum rules_policy default_policy;
};

/* The verified access token of a request whose route needs one. */
struct api_token {
    struct jwt_claims claims;
    /* The token came from the access_token cookie, not from Authorization:
     * a browser sends it by itself, so a state-changing request so
     * authenticated needs its Origin checked (API.md, browser sessions). */
    bool from_cookie;
    /* API_AUTH_PAGE and API_AUTH_OPTIONAL: a token was sent and verified
     * (claims are set). The other modes run the handler only with one. */
    bool present;
    /* API_AUTH_OPTIONAL without one: why (OUTCOME_UNAUTHENTICATED when
     * none was sent, else what its check said), for the 401 the handler
     * answers when it needs a token after all. */
    enum outcome absent;
};

/* One request as the HTTP layer hands it over. Everything stays valid until
 * the request completes. */
struct api_request {
    const struct api_ctx *app;
    const char *path;       /* the request path, e.g. "/docs/assets/x.js" */
    const char *method;     /* "GET", "POST", ... */
    const char *request_id; /* X-Request-Id of the answer, for log lines */
    /* The client's address (NULL if it has none): the peer's, or, when the
     * peer is one of TRUSTED_PROXIES, the client they name
     * (http/forwarded.h). What throttling counts and the logs show;
     * util/netaddr.h formats it when someone needs the text. */
    const struct sockaddr *client;
    /* The query string, percent-decoded and checked as a form body is
     * (util/form.h): form_get tells a repeated parameter from a single one.
     * Empty (count 0) when the request has none. The HTTP layer has refused
     * a malformed or oversized one (http/query.h). */
    struct form query;
    const char *authorization; /* the Authorization header (routes with auth), or NULL */
    const char *cookie_token;  /* the access_token cookie (routes that take it, and worker routes
                                  without authentication), or NULL */
    /* Read for requests that may change state (not GET or HEAD) only: */
    const char *origin;         /* the Origin header, or NULL */
    const char *host;           /* the Host header, or NULL */
    const char *refresh_cookie; /* the refresh_token cookie, or NULL */
    const char *content_type;   /* the Content-Type header (body routes only), or NULL */
    const char *if_none_match;  /* the If-None-Match header, or NULL */
    /* Read for routes that run on a worker (API_DB, API_HASH) only: the
     * routes that render a page or cause a mail. Inline routes, /verify
     * above all, never look them up. */
    const char *accept_language; /* the Accept-Language header, or NULL */
    const char *csrf_cookie;     /* the CSRF cookie of the pages' forms, or NULL */
    const char *sso_cookie;      /* the gatehouse_sso cookie (API_SSO_COOKIE), or NULL */
    const char *body;            /* the whole body, NUL-terminated */
    size_t body_len;
    struct api_token token; /* verified before the handler runs (routes with auth) */
    /* The peer is one of TRUSTED_PROXIES: what it says of the request it
     * forwards may be believed (/verify, util/fwdreq.h). */
    bool proxied;
    /* Any request header by name (the first of that name), or NULL; looked
     * up on demand, so that /verify reads the forwarded request's headers
     * only when access rules need them. */
    const char *(*header)(const struct api_request *req, const char *name);
};

/* What the HTTP layer checks before the handler runs. A JSON route gets a
 * 415 problem for another content type; a form route checks its content type
 * itself (OAuth 2.0 answers errors in its own format). Both get the 413. */
enum api_body {
    API_BODY_NONE,
    API_BODY_JSON,
    API_BODY_FORM,
    /* JSON, or the form of one of the service's pages
     * (application/x-www-form-urlencoded, with its CSRF token): anything else
     * is a 415 problem. The handler tells them apart (api_form_body). */
    API_BODY_JSON_OR_FORM,
};

/* Where a handler runs. Inline handlers must never block; the two pools keep
 * quick database reads from queueing behind password hashes. */
enum api_work {
    API_INLINE, /* on the HTTP thread: no database, no hashing */
    API_DB,     /* on a database worker: quick queries only */
    API_HASH,   /* on a hashing worker: a password hash (and its queries) */
};

/* The access token a route needs. The token is verified (and its session
 * checked against the revocation set) by api_authenticate before the
 * handler runs, which then finds it in req->token; a handler never verifies
 * a token itself. */
enum api_auth {
    API_AUTH_NONE,             /* no token is read */
    API_AUTH_BEARER,           /* Authorization: Bearer <token> */
    API_AUTH_BEARER_OR_COOKIE, /* that, else the access_token cookie */
    /* The access_token cookie of the service's own pages (never
     * Authorization): verified when sent, and req->token.present says
     * whether it was; without one that verifies, the handler answers (a
     * redirect to the sign-in page), not the error map. A state change is
     * checked by its form's CSRF token, which the handler checks before
     * anything else, not by Origin: a browser posting the form of a
     * no-referrer page sends "Origin: null" (API.md). */
    API_AUTH_PAGE,
    /* The Authorization header is read for the handler, which
     * authenticates the caller itself through core/oidc: the client of
     * the OAuth endpoints (RFC 6749 §2.3, api/clientauth.h), or the OIDC
     * access token of /userinfo (RFC 9068), which is not one of the
     * service's own tokens. api_authenticate lets every request through. */
    API_AUTH_HANDLER,
    /* As API_AUTH_BEARER_OR_COOKIE, but the handler runs without a token
     * too: req->token.present says whether one verified, and
     * req->token.absent why not (an invalid, expired or revoked token
     * counts as none). /verify, whose access rules may let anyone in, and
     * which answers the 401 itself when they do not. */
    API_AUTH_OPTIONAL,
};

/* A route's path matches exactly, except one that ends in '/': it matches
 * every path under it, and its handler reads req->path. */
struct api_route {
    const char *path;
    const char *method;
    enum api_body body;
    enum api_work work; /* where the handler runs */
    enum api_auth auth;
    void (*handle)(const struct api_request *req, struct reply *r);
};

extern const struct api_route api_routes[];
extern const size_t api_nroutes;

/* The routes of the METRICS_ADDRESS listener: /metrics and /healthz. */
extern const struct api_route api_metrics_routes[];
extern const size_t api_metrics_nroutes;

/* Runs the checks route declares that precede its handler: with API_AUTH_*
 * it finds the token (an Authorization header, if present, decides alone;
 * the cookie counts only for API_AUTH_BEARER_OR_COOKIE) and verifies it into
 * req->token. Returns true when the handler may run; otherwise r holds the
 * answer (401 from the error map). Allocates nothing on success: /verify
 * passes here on every call. The Origin check of state-changing requests
 * authenticated by the cookie belongs here too, after the token, so that
 * no handler can forget it either. */
bool api_authenticate(const struct api_route *route, struct api_request *req, struct reply *r);

/* The limits checked on the HTTP thread before a route's job is queued for
 * a hashing worker (API_HASH): the client's share of the hashing queue
 * (HASH_JOBS_PER_ADDRESS) and, for /login and /register, a lock of the
 * client's address, so that a throttled client costs no queue slot and no
 * hash. Returns true when the job may be queued; it then holds a slot that
 * api_release gives back once the job has run (or could not be queued).
 * Otherwise r holds the 429. */
bool api_admit(const struct api_route *route, const struct api_request *req, struct reply *r);
void api_release(const struct api_route *route, const struct api_request *req);

/* The client address of req as throttling keys it: an IPv4 address, an
 * IPv6 one's /64 prefix (the rest zero), all zeros when it has none. */
void api_client(const struct api_request *req, struct netaddr *out);

/* True for a method that may change state (anything but GET and HEAD): the
 * requests whose cookie authentication needs its Origin checked. */
bool api_changes_state(const struct api_request *req);

/* True when req's body is a form (application/x-www-form-urlencoded): on
 * an API_BODY_JSON_OR_FORM route, the post of one of the service's pages. */
bool api_form_body(const struct api_request *req);

/* True when req may change state on the strength of a cookie alone: its
 * Origin header is one of ALLOWED_ORIGINS, exactly, or the service's own
 * origin (api_own_origin). A browser sends cookies with a cross-site form's
 * POST too; the Origin it also sends is what tells such a request from the
 * application's own (a missing one is refused). */
bool api_origin_allowed(const struct api_request *req);

/* True when origin (len bytes) is the service's own, as the browser showing
 * its pages (/docs) names it: PUBLIC_URL's origin when it is set; else
 * "https://" and the request's Host, or "http://" with COOKIE_SECURE=0
 * (plain-HTTP development). The one place that decides it. */
bool api_own_origin(const struct api_request *req, const char *origin, size_t len);

#endif
