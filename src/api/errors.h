#ifndef GH_API_ERRORS_H
#define GH_API_ERRORS_H

#include "api/reply.h"
#include "core/outcome.h"

/* The one error map: a core outcome becomes exactly one status, one body and
 * the headers that status needs (WWW-Authenticate on every 401, RFC 9110
 * §15.5.2; Retry-After on 429 and 503). Handlers and the HTTP layer answer
 * every outcome through it, so equal failures give byte-equal answers
 * wherever they happen. Failures of the request itself (malformed JSON, a
 * wrong content type, an unknown path) are not outcomes of core and are
 * answered with reply_problem where they are found. */

/* Sets r to the RFC 9457 problem+json answer of o. detail may be NULL: it
 * supplies the rules of OUTCOME_INVALID (which need at least one) and the
 * wait of OUTCOME_THROTTLED and OUTCOME_OVERLOADED (0 keeps the default of
 * one second). OUTCOME_OK is not an error: it gives a 500, as a bug would. */
void errors_problem(struct reply *r, enum outcome o, const struct outcome_detail *detail);

/* The status errors_problem answers o with. */
int errors_status(enum outcome o);

/* The answer of the OAuth endpoints (/token, /oauth/revoke,
 * /oauth/introspect). Outcomes that are errors of the grant or the client
 * (bad credentials, a bad or reused refresh token, a bad code, invalid
 * parameters, a failed client authentication) take the RFC 6749 §5.2 form:
 * 400, but invalid_client, 401 with WWW-Authenticate: Basic. The others (throttled, overloaded,
 * unavailable, internal) are conditions of the service, not of the grant:
 * §5.2 has no code for them, so they are answered as on every endpoint. */
void errors_oauth(struct reply *r, enum outcome o, const struct outcome_detail *detail);

/* A §5.2 answer for a fault in the request itself, which core never sees:
 * error is "invalid_request" or "unsupported_grant_type". 400. */
void errors_oauth_request(struct reply *r, const char *error, const char *description);

#endif
