#ifndef GH_CORE_FLOWS_H
#define GH_CORE_FLOWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/outcome.h"

typedef struct store store; /* store/store.h */

/* The pending steps of a sign-in or an enrolment (table mfa_flows): the
 * mfa_token a password login hands out when the account has a second
 * factor, the flow_id of a passkey sign-in, and a passkey registration's
 * challenge. Each is an opaque token of 256 random bits of which only the
 * SHA-256 is stored, lives FLOWS_TTL_SECONDS, is used at most once, and
 * ends after FLOWS_MAX_ATTEMPTS wrong answers. Kept in the database, so
 * that any instance finishes what another began. */

enum flows_kind {
    FLOWS_MFA,              /* after a right password: the second-factor step */
    FLOWS_PASSKEY_LOGIN,    /* POST /login/passkey/options .. POST /login/passkey */
    FLOWS_PASSKEY_REGISTER, /* POST /me/passkeys/options .. POST /me/passkeys */
};

#define FLOWS_TOKEN_LEN     43 /* base64url of 32 bytes, no padding */
#define FLOWS_CHALLENGE_LEN 32
#define FLOWS_TTL_SECONDS   300
#define FLOWS_MAX_ATTEMPTS  5

struct flows_flow {
    enum flows_kind kind;
    int64_t user_id;            /* 0: none yet (a username-less passkey sign-in) */
    int64_t credential_version; /* the user's when the flow began (sessions_open checks it) */
    bool has_challenge;
    unsigned char challenge[FLOWS_CHALLENGE_LEN]; /* the WebAuthn challenge, when it has one */
    int attempts;                                 /* wrong answers so far */
    int64_t expires_at;
};

/* Stores a new flow of kind for user_id (0: none) at now, with challenge
 * (FLOWS_CHALLENGE_LEN bytes; NULL: none), and writes its token,
 * NUL-terminated, into token. */
enum outcome flows_begin(store *s, enum flows_kind kind, int64_t user_id,
                         int64_t credential_version, const unsigned char *challenge, int64_t now,
                         char token[FLOWS_TOKEN_LEN + 1]);

/* The live flow of kind whose token is token (len bytes): not expired, not
 * used, fewer than FLOWS_MAX_ATTEMPTS wrong answers. OUTCOME_BAD_CODE for
 * any other (a malformed, unknown, used, expired or spent token, or one of
 * another kind), OUTCOME_UNAVAILABLE when the database cannot be reached. */
enum outcome flows_get(store *s, enum flows_kind kind, const char *token, size_t len, int64_t now,
                       struct flows_flow *out);

/* Uses the flow up: OUTCOME_OK for exactly one caller however many race
 * (the row is marked used where it was not), OUTCOME_BAD_CODE for the
 * others and for a flow no longer live. */
enum outcome flows_finish(store *s, const char *token, size_t len, int64_t now);

/* Counts an answer against the flow before it is checked, as if it were
 * wrong: concurrent answers then get no more checks between them than
 * FLOWS_MAX_ATTEMPTS, the limit of answers given one after another. The
 * FLOWS_MAX_ATTEMPTS-th ends the flow (*spent) unless it was right
 * (flows_finish_reserved). OUTCOME_BAD_CODE, nothing counted, for a flow no
 * longer live. */
enum outcome flows_reserve(store *s, const char *token, size_t len, int64_t now, bool *spent);

/* flows_finish for the right answer of a flows_reserve: its own
 * reservation, the last allowed one included, does not hold it back. */
enum outcome flows_finish_reserved(store *s, const char *token, size_t len, int64_t now);

/* Deletes flows used, or expired before now (the janitor). */
void flows_purge(store *s, int64_t now);

#endif
