#ifndef GH_CORE_RULES_H
#define GH_CORE_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The access rules of /verify (ACCESS_RULES_FILE): an ordered JSON array of
 * rules, each
 *   {"hosts": [...], "paths": [...], "methods": [...],
 *    "policy": "deny"|"public"|"authenticated"|"two_factor", "roles": [...]}
 * where every field but policy may be absent (absent = any). The first rule
 * whose hosts, paths and methods all match the request decides; when none
 * does, the default policy (DEFAULT_POLICY) decides.
 *
 * - hosts: "app.example.com" (exact) or "*.example.com" (any subdomain, at
 *   any depth, but not example.com itself); compared without regard to case
 *   and without the request's port.
 * - paths: "/api/" is a prefix (matches /api/ and everything below; "/api"
 *   also matches /apix: write the slash). A pattern with * or ? is a glob
 *   matched against the whole path: ? is one byte other than '/', * any run
 *   of bytes without '/', ** any run of bytes.
 * - methods: upper-case names ("GET", "POST", ...); the request's method
 *   is compared in upper case ("delete" is DELETE: some applications read
 *   it so).
 * - policy: "deny" (403, signed in or not), "public" (allowed, signed in or
 *   not), "authenticated" (401 unless signed in), "two_factor" (401 unless
 *   signed in; 403 when signed in without a second factor, as the contract's
 *   403 is "signed in but not allowed").
 * - roles: the subject must hold one of them (else 403), in addition to the
 *   policy's own condition (so roles with "public" or "deny" is an error).
 *
 * The request's path is judged as sent (undecoded, with its query): the
 * query is dropped, %XX escapes decoded, repeated slashes merged (as nginx
 * does: "//admin" is "/admin") and dot segments removed (RFC 3986 section
 * 5.2.4; a ".." at the root stays there, "/../a" is "/a"; "%2e%2e" is a dot
 * segment too). A path that cannot be judged that way is refused, and a
 * refused path is always denied (403): not starting with '/' (nor "*"), a
 * bad escape (% not followed by two hex digits), a NUL (raw or %00), %2F
 * ("/a%2Fb" is one segment to a server that does not decode it and two to
 * one that does: no single answer is safe), a '\' raw or as %5C (a
 * separator to some servers), or longer than RULES_PATH_MAX before decoding.
 *
 * A rules object is immutable after parsing: rules_decide and
 * rules_names_host are thread-safe and allocate nothing. */

#define RULES_FILE_MAX    (1024 * 1024) /* bytes of a rules file */
#define RULES_MAX         10000         /* rules in a file */
#define RULES_LIST_MAX    256           /* entries in one hosts/paths/methods/roles list */
#define RULES_PATTERN_MAX 1024          /* bytes of a host or path pattern */
#define RULES_METHOD_MAX  32            /* bytes of a method name */
#define RULES_PATH_MAX    8192          /* bytes of a request path, as sent */
#define RULES_HOST_MAX    255           /* bytes of a request host (without port) */

enum rules_policy {
    RULES_DENY,
    RULES_PUBLIC,
    RULES_AUTHENTICATED,
    RULES_TWO_FACTOR,
};

enum rules_verdict {
    RULES_ALLOW,           /* 204 */
    RULES_UNAUTHENTICATED, /* 401: not signed in where the policy needs it */
    RULES_FORBIDDEN,       /* 403: deny, a role lacking, a refused path */
};

/* The original request. host may carry a port (":8443", also after an IPv6
 * literal "[::1]:8443"); path is the request target as sent (undecoded, may
 * carry "?query"); method as sent. Lengths in bytes; NUL bytes inside are
 * refused (no match for host and method, deny for a path). */
struct rules_request {
    const char *host;
    size_t host_len;
    const char *path;
    size_t path_len;
    const char *method;
    size_t method_len;
};

/* Who asks. roles: the names joined by ',' ("" or NULL: none), as the
 * roles claim carries them. two_factor: amr has otp or hwk. */
struct rules_subject {
    bool signed_in;
    bool two_factor;
    const char *roles;
    size_t roles_len;
};

typedef struct rules rules;

/* Parses a rules file's text (len bytes, need not be NUL-terminated). NULL
 * with "NAME:LINE: what" in err on a syntax error (jansson's line) or a
 * semantic one (the line of the offending rule or value): not an array, an
 * unknown key, a missing or unknown policy, roles with "public", a bad role
 * name, an empty list, a bad glob, a bad host pattern, a bad method, too
 * many rules or entries, a pattern too long, a file over RULES_FILE_MAX. An
 * empty array is valid (no rules: the default decides). */
rules *rules_parse(const char *text, size_t len, const char *name, char *err, size_t errlen);

/* Reads and parses the file at path (errors name the path as NAME). */
rules *rules_load(const char *path, char *err, size_t errlen);

/* NULL ignored. */
void rules_free(rules *r);

/* The number of rules in r (0 for NULL). */
size_t rules_count(const rules *r);

/* "deny", "public", "authenticated", "two_factor" -> *out; -1 otherwise. */
int rules_policy_parse(const char *s, enum rules_policy *out);
const char *rules_policy_name(enum rules_policy p);

/* The verdict on req for sub. r NULL: no rules (dflt decides). */
enum rules_verdict rules_decide(const rules *r, enum rules_policy dflt,
                                const struct rules_request *req, const struct rules_subject *sub);

/* Whether host (len bytes, optionally with a port) is one r's rules name:
 * equal to an exact hosts entry, or under a "*.domain" entry. What the sign-
 * in page's rd= return may go to. False for r NULL. */
bool rules_names_host(const rules *r, const char *host, size_t len);

/* The path as rules match it (see above) into out (outcap bytes, at least
 * len + 1 is always enough), NUL-terminated; its length in *outlen.
 * Returns 0, or -1 when the path is refused. */
int rules_path_normalize(const char *path, size_t len, char *out, size_t outcap, size_t *outlen);

/* The current rules of a server, swapped by a reload (SIGHUP): the same
 * pattern as core/keyset.h. A request takes the current rules with
 * rules_ref_get and gives them back with rules_ref_put; the last holder of
 * replaced rules frees them. */
typedef struct rules_ref rules_ref;

/* Takes ownership of r (NULL: no rules). path: the file a reload reads
 * again (NULL: nothing to reload). NULL when out of memory (r freed). */
rules_ref *rules_ref_new(rules *r, const char *path);

/* Reads the file again; when it parses, its rules become current and *count
 * tells how many. -1 with the reason in err and the current rules stay. */
int rules_ref_reload(rules_ref *ref, size_t *count, char *err, size_t errlen);

/* Frees ref; every rules taken must have been put back. NULL ignored. */
void rules_ref_free(rules_ref *ref);

/* The current rules (may be NULL: none), held until rules_ref_put: no
 * allocation, a mutex held for a pointer copy. Thread-safe. ref NULL: NULL. */
const rules *rules_ref_get(rules_ref *ref);
void rules_ref_put(const rules *r);

#endif
