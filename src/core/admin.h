#ifndef GH_CORE_ADMIN_H
#define GH_CORE_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/outcome.h"
#include "core/roles.h"
#include "core/sessions.h"
#include "store/store.h"

/* Administration (API.md, "Administration, roles and access rules"): what
 * the admin API and the command line do to a user by id, and API keys.
 * Every change that ends a user's access (disabling, removing the second
 * factors, deleting) revokes the sessions in the same transaction through
 * sessions_revoke_with, so every instance refuses their tokens within a
 * second (the revocations table and its watch). */

/* The id of the user a login by username would find: OUTCOME_NOT_FOUND
 * when there is none. */
enum outcome admin_user_by_name(store *s, const char *username, int64_t *id);

/* Disables user id (every session revoked with it; enabling brings none
 * back) or enables it. OUTCOME_NOT_FOUND for an unknown user. */
enum outcome admin_set_disabled(const struct sessions_deps *sd, int64_t id, bool disabled);

/* Sets user id's roles to the stored form roles (roles_text_valid). */
enum outcome admin_set_roles(store *s, int64_t id, const char *roles);

/* Adds (add) or removes role of user id, in one transaction; the set as it
 * is then into out. OUTCOME_INVALID for a bad name or a 17th role. */
enum outcome admin_change_role(store *s, int64_t id, const char *role, bool add,
                               char out[ROLES_TEXT_MAX + 1]);

/* Revokes every session of user id. */
enum outcome admin_revoke_sessions(const struct sessions_deps *sd, int64_t id);

/* Removes user id's TOTP secret, recovery codes and passkeys, and revokes
 * every session of it (a session opened with a factor now gone). */
enum outcome admin_mfa_reset(const struct sessions_deps *sd, int64_t id);

/* Deletes user id and revokes every session of it. */
enum outcome admin_delete_user(const struct sessions_deps *sd, int64_t id);

/* An API key's text: "ghk_" and base64url of 32 random bytes. */
#define ADMIN_APIKEY_PREFIX "ghk_"
#define ADMIN_APIKEY_LEN    (4 + 43)
#define ADMIN_APIKEY_ID_LEN 16 /* "ak_" and base64url of 9 random bytes, and some room */

/* Makes a key acting with roles (stored form, at least one) named name,
 * stored as the SHA-256 of its text; the text into key (shown once) and
 * its id into *out. */
enum outcome admin_apikey_create(store *s, const char *name, const char *roles,
                                 char key[ADMIN_APIKEY_LEN + 1], struct store_apikey *out);

/* The key whose text is token (len bytes), not revoked: looked up by the
 * SHA-256 of the text (no comparison of secrets to time), its use
 * recorded. OUTCOME_TOKEN_INVALID for anything else. */
enum outcome admin_apikey_find(store *s, const char *token, size_t len, struct store_apikey *out);

/* True when token (len bytes) has the form of an API key's text. */
bool admin_is_apikey(const char *token, size_t len);

/* Revokes key id: OUTCOME_NOT_FOUND when unknown or revoked already. */
enum outcome admin_apikey_revoke(store *s, const char *id);

#endif
