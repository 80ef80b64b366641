#ifndef GH_CORE_PASSKEYS_H
#define GH_CORE_PASSKEYS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/flows.h"
#include "core/outcome.h"
#include "core/users.h"

typedef struct store store; /* store/store.h */

/* Passkeys (API.md, "Passkeys"): the ceremonies of WebAuthn around
 * core/webauthn.h's checks, the credentials stored (table passkeys), their
 * challenges kept as flows (core/flows.h). The JSON forms are WebAuthn
 * Level 3's (toJSON: binary as base64url). Runs on worker threads. */

struct passkeys_deps {
    store *store;
    const struct users_deps *users;
    const char *rp_id;          /* WEBAUTHN_RP_ID, else PUBLIC_URL's host; NULL: passkeys off */
    const char *rp_name;        /* shown by authenticators: "gatehouse" */
    const char *const *origins; /* WEBAUTHN_ORIGINS, else PUBLIC_URL's origin */
    size_t norigins;
    unsigned char handle_key[32]; /* keys the fake credential ids of unknown names */
};

/* Limits of what a client sends (decoded bytes); past them a registration
 * is refused (422) and a sign-in too (401). */
#define PASSKEYS_CLIENT_DATA_MAX 4096 /* clientDataJSON */
#define PASSKEYS_ATTESTATION_MAX 8192 /* attestationObject */
#define PASSKEYS_AUTH_DATA_MAX   1024 /* an assertion's authenticatorData */
#define PASSKEYS_SIGNATURE_MAX   1024 /* an RSA-8192 signature */
#define PASSKEYS_USER_HANDLE_MAX 64   /* WebAuthn §5.4.3 */
#define PASSKEYS_NAME_MAX        64   /* characters of a passkey's name */
#define PASSKEYS_TIMEOUT_MS      300000
#define PASSKEYS_DEFAULT_NAME    "Passkey"

/* The reason passkeys_login gives when the counter went backwards (the
 * audit writes "passkey.cloned" on it). */
#define PASSKEYS_REASON_CLONED "the signature counter went backwards: marked as possibly cloned"

/* Derives handle_key from secret (slen bytes: SECRET_KEY, else
 * MFA_ENCRYPTION_KEY) with libsodium's KDF and a context of its own, so
 * that the fake credential ids of a name stay the same across restarts and
 * instances; secret NULL: random (they change at each start). */
void passkeys_handle_key(unsigned char key[32], const char *secret, size_t slen);

/* POST /me/passkeys/options: PublicKeyCredentialCreationOptionsJSON for u
 * (ES256, EdDSA, RS256; resident key preferred; attestation "none"; its
 * passkeys excluded); *json malloc'd. The challenge is the token of a new
 * FLOWS_PASSKEY_REGISTER flow of u (its 32 bytes, base64url-decoded), so
 * that the response, which carries the challenge in its clientDataJSON,
 * finds its flow without an id of its own (the contract has none).
 * OUTCOME_PASSKEYS_OFF when passkeys are off (rp_id NULL), as every
 * function below that answers an endpoint. */
enum outcome passkeys_register_options(const struct passkeys_deps *d, const struct user *u,
                                       int64_t now, char **json);

/* POST /me/passkeys: verifies response (RegistrationResponseJSON) against
 * the registration flow its clientDataJSON's challenge names, which must be
 * live and user_id's (used up whatever the verdict), and stores the
 * credential named name (NULL: a default name). *json
 * ({"id","name","created_at"}) malloc'd on OUTCOME_OK. OUTCOME_INVALID with
 * detail->errors for a wrong challenge, origin, RP id hash, a bad
 * attestation or key, an input past its limit, a name longer than
 * PASSKEYS_NAME_MAX characters or with control characters, and a
 * credential id registered already (code "registered": 409's detail is the
 * username's). The user's presence is required, its verification not: a
 * security key that cannot verify its user still serves as a second factor
 * (passkeys_check_for_user), and passkeys_login requires the verification
 * at each sign-in. */
enum outcome passkeys_register(const struct passkeys_deps *d, int64_t user_id,
                               const json_t *response, const char *name, int64_t now, char **json,
                               struct outcome_detail *detail);

/* GET /me/passkeys: [{"id","name","created_at","last_used_at","cloned"}]. */
enum outcome passkeys_list(const struct passkeys_deps *d, int64_t user_id, char **json);

/* DELETE /me/passkeys/{id}: OUTCOME_NOT_FOUND when user_id has no passkey
 * id (another user's included). The caller has checked the step-up. */
enum outcome passkeys_delete(const struct passkeys_deps *d, int64_t user_id, const char *id);

/* POST /login/passkey/options: PublicKeyCredentialRequestOptionsJSON plus
 * "flow_id" (a new FLOWS_PASSKEY_LOGIN flow). username NULL: discoverable
 * (no allowCredentials); else that account's credentials, or for a name no
 * account has, or one without passkeys, one or two fake ones derived from
 * handle_key and the name (the same each time) and a flow stored without
 * its challenge, which no answer passes, so that the answer tells nothing. */
enum outcome passkeys_login_options(const struct passkeys_deps *d, const char *username,
                                    size_t ulen, int64_t now, char **json);

/* POST /login/passkey: verifies credential (AuthenticationResponseJSON)
 * against the flow flow_id (used up whatever the verdict) with user
 * verification required, checks the signature counter (one that goes
 * backwards marks the passkey cloned and refuses it) and fills *out with
 * its user. OUTCOME_PASSKEY_REFUSED for anything that does not verify, with
 * *reason (a static string, never a secret) saying why, for the log. */
enum outcome passkeys_login(const struct passkeys_deps *d, const char *flow_id, size_t flen,
                            const json_t *credential, int64_t now, struct user *out,
                            const char **reason);

/* The second-factor step (POST /login): PublicKeyCredentialRequestOptionsJSON
 * for user_id's passkeys with challenge (the FLOWS_MFA flow's), as a new
 * JSON object (NULL when out of memory, passkeys are off or the store
 * fails). */
json_t *passkeys_mfa_options(const struct passkeys_deps *d, int64_t user_id,
                             const unsigned char challenge[FLOWS_CHALLENGE_LEN]);

/* POST /login/mfa with "webauthn": verifies credential against challenge
 * as one of user_id's passkeys (user presence only: the password was the
 * first factor), counter checked as passkeys_login does.
 * OUTCOME_PASSKEY_REFUSED when it does not verify. */
enum outcome passkeys_check_for_user(const struct passkeys_deps *d, int64_t user_id,
                                     const unsigned char challenge[FLOWS_CHALLENGE_LEN],
                                     const json_t *credential, int64_t now);

#endif
