#ifndef GH_STORE_STATEMENTS_H
#define GH_STORE_STATEMENTS_H

#include <stdbool.h>

#include "store/store.h"

/* Every SQL statement of the store, once, for both backends. Parameters are
 * written $1, $2, ... as PostgreSQL numbers them; the SQLite driver reads
 * them as ?1, ?2, ... (same numbers, so a parameter may repeat). Only SQL
 * that both dialects accept belongs here: the schema's differences live in
 * the migrations (migrate.c).
 *
 * X(id, sql, kind): kind READ marks a statement that changes nothing, so the
 * PostgreSQL driver may send it again on a fresh connection when the first
 * one broke mid-way; WRITE statements are never sent twice. Each driver
 * prepares every statement once per connection. */

/* The rows of USERS_IMPORT_BATCH, STORE_IMPORT_BATCH (store.h) of them:
 * $1 is the time; then id, username, username_key and password_hash of
 * each row. */
#define STORE_IMPORT_BATCH_PARAMS (1 + 4 * STORE_IMPORT_BATCH)
#define STORE_IMPORT_BATCH_VALUES                                                                  \
    "($2, $3, $4, $5, $1, $1), ($6, $7, $8, $9, $1, $1), ($10, $11, $12, $13, $1, $1), "           \
    "($14, $15, $16, $17, $1, $1), ($18, $19, $20, $21, $1, $1), "                                 \
    "($22, $23, $24, $25, $1, $1), ($26, $27, $28, $29, $1, $1), "                                 \
    "($30, $31, $32, $33, $1, $1), ($34, $35, $36, $37, $1, $1), "                                 \
    "($38, $39, $40, $41, $1, $1), ($42, $43, $44, $45, $1, $1), "                                 \
    "($46, $47, $48, $49, $1, $1), ($50, $51, $52, $53, $1, $1), "                                 \
    "($54, $55, $56, $57, $1, $1), ($58, $59, $60, $61, $1, $1), "                                 \
    "($62, $63, $64, $65, $1, $1), ($66, $67, $68, $69, $1, $1), "                                 \
    "($70, $71, $72, $73, $1, $1), ($74, $75, $76, $77, $1, $1), "                                 \
    "($78, $79, $80, $81, $1, $1), ($82, $83, $84, $85, $1, $1), "                                 \
    "($86, $87, $88, $89, $1, $1), ($90, $91, $92, $93, $1, $1), "                                 \
    "($94, $95, $96, $97, $1, $1), ($98, $99, $100, $101, $1, $1), "                               \
    "($102, $103, $104, $105, $1, $1), ($106, $107, $108, $109, $1, $1), "                         \
    "($110, $111, $112, $113, $1, $1), ($114, $115, $116, $117, $1, $1), "                         \
    "($118, $119, $120, $121, $1, $1), ($122, $123, $124, $125, $1, $1), "                         \
    "($126, $127, $128, $129, $1, $1), ($130, $131, $132, $133, $1, $1), "                         \
    "($134, $135, $136, $137, $1, $1), ($138, $139, $140, $141, $1, $1), "                         \
    "($142, $143, $144, $145, $1, $1), ($146, $147, $148, $149, $1, $1), "                         \
    "($150, $151, $152, $153, $1, $1), ($154, $155, $156, $157, $1, $1), "                         \
    "($158, $159, $160, $161, $1, $1), ($162, $163, $164, $165, $1, $1), "                         \
    "($166, $167, $168, $169, $1, $1), ($170, $171, $172, $173, $1, $1), "                         \
    "($174, $175, $176, $177, $1, $1), ($178, $179, $180, $181, $1, $1), "                         \
    "($182, $183, $184, $185, $1, $1), ($186, $187, $188, $189, $1, $1), "                         \
    "($190, $191, $192, $193, $1, $1), ($194, $195, $196, $197, $1, $1), "                         \
    "($198, $199, $200, $201, $1, $1), ($202, $203, $204, $205, $1, $1), "                         \
    "($206, $207, $208, $209, $1, $1), ($210, $211, $212, $213, $1, $1), "                         \
    "($214, $215, $216, $217, $1, $1), ($218, $219, $220, $221, $1, $1), "                         \
    "($222, $223, $224, $225, $1, $1), ($226, $227, $228, $229, $1, $1), "                         \
    "($230, $231, $232, $233, $1, $1), ($234, $235, $236, $237, $1, $1), "                         \
    "($238, $239, $240, $241, $1, $1), ($242, $243, $244, $245, $1, $1), "                         \
    "($246, $247, $248, $249, $1, $1), ($250, $251, $252, $253, $1, $1), "                         \
    "($254, $255, $256, $257, $1, $1)"

/* The rows of USERS_CREATE_BATCH, as many: $1 is the time; then username,
 * username_key and password_hash of each row. */
#define STORE_CREATE_BATCH_VALUES                                                                  \
    "($2, $3, $4, $1, $1), ($5, $6, $7, $1, $1), ($8, $9, $10, $1, $1), "                          \
    "($11, $12, $13, $1, $1), ($14, $15, $16, $1, $1), ($17, $18, $19, $1, $1), "                  \
    "($20, $21, $22, $1, $1), ($23, $24, $25, $1, $1), ($26, $27, $28, $1, $1), "                  \
    "($29, $30, $31, $1, $1), ($32, $33, $34, $1, $1), ($35, $36, $37, $1, $1), "                  \
    "($38, $39, $40, $1, $1), ($41, $42, $43, $1, $1), ($44, $45, $46, $1, $1), "                  \
    "($47, $48, $49, $1, $1), ($50, $51, $52, $1, $1), ($53, $54, $55, $1, $1), "                  \
    "($56, $57, $58, $1, $1), ($59, $60, $61, $1, $1), ($62, $63, $64, $1, $1), "                  \
    "($65, $66, $67, $1, $1), ($68, $69, $70, $1, $1), ($71, $72, $73, $1, $1), "                  \
    "($74, $75, $76, $1, $1), ($77, $78, $79, $1, $1), ($80, $81, $82, $1, $1), "                  \
    "($83, $84, $85, $1, $1), ($86, $87, $88, $1, $1), ($89, $90, $91, $1, $1), "                  \
    "($92, $93, $94, $1, $1), ($95, $96, $97, $1, $1), ($98, $99, $100, $1, $1), "                 \
    "($101, $102, $103, $1, $1), ($104, $105, $106, $1, $1), ($107, $108, $109, $1, $1), "         \
    "($110, $111, $112, $1, $1), ($113, $114, $115, $1, $1), ($116, $117, $118, $1, $1), "         \
    "($119, $120, $121, $1, $1), ($122, $123, $124, $1, $1), ($125, $126, $127, $1, $1), "         \
    "($128, $129, $130, $1, $1), ($131, $132, $133, $1, $1), ($134, $135, $136, $1, $1), "         \
    "($137, $138, $139, $1, $1), ($140, $141, $142, $1, $1), ($143, $144, $145, $1, $1), "         \
    "($146, $147, $148, $1, $1), ($149, $150, $151, $1, $1), ($152, $153, $154, $1, $1), "         \
    "($155, $156, $157, $1, $1), ($158, $159, $160, $1, $1), ($161, $162, $163, $1, $1), "         \
    "($164, $165, $166, $1, $1), ($167, $168, $169, $1, $1), ($170, $171, $172, $1, $1), "         \
    "($173, $174, $175, $1, $1), ($176, $177, $178, $1, $1), ($179, $180, $181, $1, $1), "         \
    "($182, $183, $184, $1, $1), ($185, $186, $187, $1, $1), ($188, $189, $190, $1, $1), "         \
    "($191, $192, $193, $1, $1)"

/* The columns the admin API shows of a user (store_admin_user). */
#define ADMIN_USER_COLS                                                                            \
    "SELECT u.id, u.username, COALESCE(u.email, ''), u.email_verified, u.roles, u.disabled, "      \
    "u.created_at, (SELECT COUNT(*) FROM totp t WHERE t.user_id = u.id AND t.confirmed_at IS "     \
    "NOT NULL), (SELECT COUNT(*) FROM passkeys p WHERE p.user_id = u.id) FROM users u "

#define STORE_STATEMENTS(X)                                                                        \
    X(PING, "SELECT 1", READ)                                                                      \
    X(USER_INSERT,                                                                                 \
      "INSERT INTO users (username, username_key, password_hash, created_at, updated_at) "         \
      "VALUES ($1, $2, $3, $4, $4) RETURNING id",                                                  \
      WRITE)                                                                                       \
    X(USER_INSERT_WITH_ID,                                                                         \
      "INSERT INTO users (id, username, username_key, password_hash, created_at, updated_at) "     \
      "VALUES ($1, $2, $3, $4, $5, $5)",                                                           \
      WRITE)                                                                                       \
    X(USERS_IMPORT_BATCH,                                                                          \
      "INSERT INTO users (id, username, username_key, password_hash, created_at, updated_at) "     \
      "VALUES " STORE_IMPORT_BATCH_VALUES,                                                         \
      WRITE)                                                                                       \
    X(USERS_CREATE_BATCH,                                                                          \
      "INSERT INTO users (username, username_key, password_hash, created_at, updated_at) "         \
      "VALUES " STORE_CREATE_BATCH_VALUES,                                                         \
      WRITE)                                                                                       \
    X(USERS_KEYS, "SELECT id, username_key FROM users", READ)                                      \
    X(USERS_LIST, "SELECT id, username, created_at FROM users ORDER BY id", READ)                  \
    X(USER_BY_KEY,                                                                                 \
      "SELECT id, username, password_hash, created_at, credential_version, failed_logins, "        \
      "last_failed_at, roles, COALESCE(email, ''), email_verified, disabled FROM users WHERE "     \
      "username_key = $1",                                                                         \
      READ)                                                                                        \
    X(USER_BY_ID,                                                                                  \
      "SELECT id, username, password_hash, created_at, credential_version, failed_logins, "        \
      "last_failed_at, roles, COALESCE(email, ''), email_verified, disabled FROM users WHERE id "  \
      "= $1",                                                                                      \
      READ)                                                                                        \
    X(USERS_PAGE,                                                                                  \
      ADMIN_USER_COLS                                                                              \
      "WHERE u.id > $1 AND ($2 = 0 OR lower(u.username) LIKE $3 ESCAPE '!' "                       \
      "OR lower(COALESCE(u.email, '')) LIKE $3 ESCAPE '!') ORDER BY u.id LIMIT $4",                \
      READ)                                                                                        \
    X(ADMIN_USER, ADMIN_USER_COLS "WHERE u.id = $1", READ)                                         \
    X(SESSIONS_OF_USER_LIVE,                                                                       \
      "SELECT id, created_at, last_used_at, expires_at, amr, COALESCE(client_id, '') FROM "        \
      "sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 "                    \
      "ORDER BY created_at, id",                                                                   \
      READ)                                                                                        \
    X(USER_LOCK, "UPDATE users SET roles = roles WHERE id = $1", WRITE)                            \
    X(USER_SET_ROLES, "UPDATE users SET roles = $2 WHERE id = $1", WRITE)                          \
    X(USER_SET_DISABLED, "UPDATE users SET disabled = $2 WHERE id = $1", WRITE)                    \
    X(USER_TOTP_CLEAR, "DELETE FROM totp WHERE user_id = $1", WRITE)                               \
    X(USER_RECOVERY_CLEAR, "DELETE FROM recovery_codes WHERE user_id = $1", WRITE)                 \
    X(USER_PASSKEYS_CLEAR, "DELETE FROM passkeys WHERE user_id = $1", WRITE)                       \
    X(APIKEY_INSERT,                                                                               \
      "INSERT INTO api_keys (id, key_hash, name, roles, created_at) "                              \
      "VALUES ($1, $2, $3, $4, $5)",                                                               \
      WRITE)                                                                                       \
    X(APIKEY_USE,                                                                                  \
      "UPDATE api_keys SET last_used_at = $2 WHERE key_hash = $1 AND revoked_at IS NULL "          \
      "RETURNING id, name, roles, created_at, last_used_at",                                       \
      WRITE)                                                                                       \
    X(APIKEYS_LIST,                                                                                \
      "SELECT id, name, roles, created_at, COALESCE(last_used_at, 0), "                            \
      "COALESCE(revoked_at, 0) FROM api_keys ORDER BY created_at, id",                             \
      READ)                                                                                        \
    X(APIKEY_REVOKE, "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",   \
      WRITE)                                                                                       \
    X(USER_CREDENTIALS_CHANGED,                                                                    \
      "UPDATE users SET credential_version = credential_version + 1 WHERE id = $1", WRITE)         \
    X(USER_LOGIN, "UPDATE users SET last_login_at = $3 WHERE id = $1 AND credential_version = $2", \
      WRITE)                                                                                       \
    X(SESSION_INSERT,                                                                              \
      "INSERT INTO sessions (id, user_id, refresh_hash, generation, created_at, last_used_at, "    \
      "expires_at, amr) VALUES ($1, $2, $3, 0, $4, $4, $5, $6)",                                   \
      WRITE)                                                                                       \
    X(SESSION_ROTATE,                                                                              \
      "UPDATE sessions SET refresh_hash = $2, generation = generation + 1, last_used_at = $3 "     \
      "WHERE refresh_hash = $1 AND revoked_at IS NULL AND expires_at > $3 "                        \
      "RETURNING id, user_id, created_at, expires_at, amr, COALESCE(client_id, ''), "              \
      "COALESCE(scope, ''), COALESCE(auth_time, created_at), COALESCE(sso_session, '')",           \
      WRITE)                                                                                       \
    X(SESSION_SIGNED_IN_AT,                                                                        \
      "SELECT created_at FROM sessions WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",     \
      READ)                                                                                        \
    X(REFRESH_HISTORY_INSERT,                                                                      \
      "INSERT INTO refresh_history (refresh_hash, session_id) VALUES ($1, $2)", WRITE)             \
    X(REFRESH_HISTORY_FIND, "SELECT session_id FROM refresh_history WHERE refresh_hash = $1",      \
      READ)                                                                                        \
    X(SESSION_REVOKE, "UPDATE sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",  \
      WRITE)                                                                                       \
    X(SESSIONS_REVOKE_OF_USER,                                                                     \
      "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL "             \
      "AND id <> $3 RETURNING id",                                                                 \
      WRITE)                                                                                       \
    X(SESSIONS_PURGE,                                                                              \
      "DELETE FROM sessions WHERE (expires_at <= $1 AND last_used_at <= $2) OR revoked_at <= $2",  \
      WRITE)                                                                                       \
    X(REVOCATION_INSERT,                                                                           \
      "INSERT INTO revocations (session_id, until) VALUES ($1, $2) "                               \
      "ON CONFLICT (session_id) DO UPDATE SET until = excluded.until "                             \
      "WHERE excluded.until > revocations.until",                                                  \
      WRITE)                                                                                       \
    X(REVOCATIONS_LIVE, "SELECT session_id, until FROM revocations WHERE until > $1", READ)        \
    X(REVOCATIONS_PURGE, "DELETE FROM revocations WHERE until <= $1", WRITE)                       \
    X(OUTBOX_INSERT,                                                                               \
      "INSERT INTO outbox (recipient, message, created_at, next_attempt_at) "                      \
      "VALUES ($1, $2, $3, $3)",                                                                   \
      WRITE)                                                                                       \
    X(OUTBOX_CLAIM_PG,                                                                             \
      "UPDATE outbox SET next_attempt_at = $2, claim = $3 WHERE id = "                             \
      "(SELECT id FROM outbox WHERE next_attempt_at <= $1 ORDER BY next_attempt_at, id "           \
      "LIMIT 1 FOR UPDATE SKIP LOCKED) AND next_attempt_at <= $1 "                                 \
      "RETURNING id, recipient, message, attempts",                                                \
      WRITE)                                                                                       \
    X(OUTBOX_CLAIM_SQLITE,                                                                         \
      "UPDATE outbox SET next_attempt_at = $2, claim = $3 WHERE id = "                             \
      "(SELECT id FROM outbox WHERE next_attempt_at <= $1 ORDER BY next_attempt_at, id "           \
      "LIMIT 1) AND next_attempt_at <= $1 RETURNING id, recipient, message, attempts",             \
      WRITE)                                                                                       \
    X(OUTBOX_SENT, "DELETE FROM outbox WHERE id = $1 AND claim = $2", WRITE)                       \
    X(OUTBOX_RETRY,                                                                                \
      "UPDATE outbox SET attempts = attempts + $5, last_error = $3, next_attempt_at = $4, "        \
      "claim = NULL WHERE id = $1 AND claim = $2",                                                 \
      WRITE)                                                                                       \
    X(OUTBOX_STATE, "SELECT COUNT(*), COALESCE(MIN(next_attempt_at), 0) FROM outbox", READ)        \
    X(USER_SET_PASSWORD,                                                                           \
      "UPDATE users SET password_hash = $2, updated_at = $3, "                                     \
      "credential_version = credential_version + 1 WHERE id = $1",                                 \
      WRITE)                                                                                       \
    X(USER_REHASH, "UPDATE users SET password_hash = $2 WHERE id = $1 AND password_hash = $3",     \
      WRITE)                                                                                       \
    X(USER_DELETE, "DELETE FROM users WHERE id = $1", WRITE)                                       \
    X(USER_LOGIN_RESERVE,                                                                          \
      "UPDATE users SET failed_logins = $4, last_failed_at = $5 WHERE id = $1 "                    \
      "AND failed_logins = $2 AND COALESCE(last_failed_at, 0) = $3",                               \
      WRITE)                                                                                       \
    X(USERS_HASH_LIKE, "SELECT 1 FROM password_schemes WHERE prefix LIKE $1 LIMIT 1", READ)        \
    X(USER_LOGIN_FAILURES_RESET,                                                                   \
      "UPDATE users SET failed_logins = 0, last_failed_at = NULL WHERE id = $1", WRITE)            \
    X(USER_EMAIL_SET,                                                                              \
      "UPDATE users SET email = $2, email_key = $3, email_verified = $4 WHERE id = $1", WRITE)     \
    X(USER_EMAIL_OF,                                                                               \
      "SELECT email, email_verified, mail_requested_at, username FROM users WHERE id = $1", READ)  \
    X(USER_BY_EMAIL_KEY, "SELECT id, username, email FROM users WHERE email_key = $1", READ)       \
    X(USER_MAIL_REQUESTED,                                                                         \
      "UPDATE users SET mail_requested_at = $2 WHERE id = $1 "                                     \
      "AND COALESCE(mail_requested_at, 0) <= $3",                                                  \
      WRITE)                                                                                       \
    X(USER_EMAIL_VERIFIED_IF,                                                                      \
      "UPDATE users SET email_verified = 1 WHERE id = $1 AND email_key = $2", WRITE)               \
    X(EMAIL_TOKEN_INSERT,                                                                          \
      "INSERT INTO email_tokens (token_hash, user_id, purpose, email, created_at, expires_at) "    \
      "VALUES ($1, $2, $3, $4, $5, $6)",                                                           \
      WRITE)                                                                                       \
    X(EMAIL_TOKENS_VOID, "DELETE FROM email_tokens WHERE user_id = $1 AND purpose = $2", WRITE)    \
    X(EMAIL_TOKEN_PEEK,                                                                            \
      "SELECT user_id, email FROM email_tokens WHERE token_hash = $1 AND purpose = $2 "            \
      "AND used_at IS NULL AND expires_at > $3",                                                   \
      READ)                                                                                        \
    X(EMAIL_TOKEN_CONSUME,                                                                         \
      "UPDATE email_tokens SET used_at = $3 WHERE token_hash = $1 AND purpose = $2 "               \
      "AND used_at IS NULL AND expires_at > $3 RETURNING user_id, email",                          \
      WRITE)                                                                                       \
    X(EMAIL_TOKENS_PURGE,                                                                          \
      "DELETE FROM email_tokens WHERE expires_at <= $1 OR used_at IS NOT NULL", WRITE)             \
    X(FLOW_INSERT,                                                                                 \
      "INSERT INTO mfa_flows (id_hash, kind, user_id, credential_version, challenge, created_at, " \
      "expires_at) VALUES ($1, $2, NULLIF($3, CAST(0 AS BIGINT)), $4, $5, $6, $7)",                \
      WRITE)                                                                                       \
    X(FLOW_GET,                                                                                    \
      "SELECT COALESCE(user_id, 0), COALESCE(credential_version, 0), challenge, attempts, "        \
      "expires_at FROM mfa_flows WHERE id_hash = $1 AND kind = $2 AND used_at IS NULL "            \
      "AND expires_at > $3 AND attempts < $4",                                                     \
      READ)                                                                                        \
    X(FLOW_FINISH,                                                                                 \
      "UPDATE mfa_flows SET used_at = $2 WHERE id_hash = $1 AND used_at IS NULL "                  \
      "AND expires_at > $2 AND attempts < $3",                                                     \
      WRITE)                                                                                       \
    X(FLOW_FAIL,                                                                                   \
      "UPDATE mfa_flows SET attempts = attempts + 1 WHERE id_hash = $1 AND used_at IS NULL "       \
      "AND expires_at > $2 AND attempts < $3 RETURNING attempts",                                  \
      WRITE)                                                                                       \
    X(FLOWS_PURGE, "DELETE FROM mfa_flows WHERE expires_at <= $1 OR used_at IS NOT NULL", WRITE)   \
    X(AUTHZ_INSERT,                                                                                \
      "INSERT INTO oidc_requests (id_hash, request, created_at, expires_at) "                      \
      "VALUES ($1, $2, $3, $4)",                                                                   \
      WRITE)                                                                                       \
    X(AUTHZ_GET,                                                                                   \
      "SELECT request, created_at FROM oidc_requests WHERE id_hash = $1 AND used_at IS NULL "      \
      "AND expires_at > $2",                                                                       \
      READ)                                                                                        \
    X(AUTHZ_USE,                                                                                   \
      "UPDATE oidc_requests SET used_at = $2 WHERE id_hash = $1 AND used_at IS NULL "              \
      "AND expires_at > $2",                                                                       \
      WRITE)                                                                                       \
    X(AUTHZ_PURGE, "DELETE FROM oidc_requests WHERE expires_at <= $1 OR used_at IS NOT NULL",      \
      WRITE)                                                                                       \
    X(PASSWORD_REQUEST_INSERT,                                                                     \
      "INSERT INTO password_requests (by_email, name, lang, created_at) VALUES ($1, $2, $3, $4) "  \
      "RETURNING id",                                                                              \
      WRITE)                                                                                       \
    X(PASSWORD_REQUESTS_PENDING, "SELECT id FROM password_requests ORDER BY id LIMIT $1", READ)    \
    X(PASSWORD_REQUEST_TAKE,                                                                       \
      "DELETE FROM password_requests WHERE id = $1 RETURNING by_email, name, lang, created_at",    \
      WRITE)                                                                                       \
    X(USER_WEBAUTHN_HANDLE, "SELECT webauthn_handle FROM users WHERE id = $1", READ)               \
    X(USER_WEBAUTHN_HANDLE_SET,                                                                    \
      "UPDATE users SET webauthn_handle = $2 WHERE id = $1 AND webauthn_handle IS NULL", WRITE)    \
    X(PASSKEY_INSERT,                                                                              \
      "INSERT INTO passkeys (id, user_id, credential_id, public_key, alg, sign_count, name, "      \
      "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",                                       \
      WRITE)                                                                                       \
    X(PASSKEYS_OF_USER,                                                                            \
      "SELECT id, credential_id, name, created_at, COALESCE(last_used_at, 0), "                    \
      "COALESCE(cloned_at, 0) FROM passkeys WHERE user_id = $1 ORDER BY created_at, id",           \
      READ)                                                                                        \
    X(PASSKEYS_COUNT, "SELECT COUNT(*) FROM passkeys WHERE user_id = $1", READ)                    \
    X(PASSKEY_DELETE, "DELETE FROM passkeys WHERE user_id = $1 AND id = $2", WRITE)                \
    X(PASSKEY_BY_CREDENTIAL,                                                                       \
      "SELECT id, user_id, public_key, alg, sign_count, COALESCE(cloned_at, 0) FROM passkeys "     \
      "WHERE credential_id = $1",                                                                  \
      READ)                                                                                        \
    X(PASSKEY_COUNTER,                                                                             \
      "UPDATE passkeys SET sign_count = $3, last_used_at = $4 WHERE id = $1 AND sign_count = $2 "  \
      "AND cloned_at IS NULL",                                                                     \
      WRITE)                                                                                       \
    X(PASSKEY_CLONED, "UPDATE passkeys SET cloned_at = $2 WHERE id = $1 AND cloned_at IS NULL",    \
      WRITE)                                                                                       \
    X(TOTP_PUT,                                                                                    \
      "INSERT INTO totp (user_id, secret, created_at) VALUES ($1, $2, $3) "                        \
      "ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, "                             \
      "created_at = excluded.created_at, last_step = 0 WHERE totp.confirmed_at IS NULL",           \
      WRITE)                                                                                       \
    X(TOTP_OF, "SELECT secret, COALESCE(confirmed_at, 0), last_step FROM totp WHERE user_id = $1", \
      READ)                                                                                        \
    X(TOTP_CONFIRM,                                                                                \
      "UPDATE totp SET confirmed_at = $3, last_step = $2 WHERE user_id = $1 "                      \
      "AND confirmed_at IS NULL AND last_step < $2 AND secret = $4",                               \
      WRITE)                                                                                       \
    X(TOTP_STEP,                                                                                   \
      "UPDATE totp SET last_step = $2 WHERE user_id = $1 AND confirmed_at IS NOT NULL "            \
      "AND last_step < $2",                                                                        \
      WRITE)                                                                                       \
    X(TOTP_DELETE, "DELETE FROM totp WHERE user_id = $1 AND confirmed_at IS NOT NULL", WRITE)      \
    X(RECOVERY_CODES_DELETE, "DELETE FROM recovery_codes WHERE user_id = $1", WRITE)               \
    X(RECOVERY_CODE_INSERT, "INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)",     \
      WRITE)                                                                                       \
    X(RECOVERY_CODE_USE,                                                                           \
      "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_hash = $2 "              \
      "AND used_at IS NULL",                                                                       \
      WRITE)                                                                                       \
    X(RECOVERY_CODES_LEFT,                                                                         \
      "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL", READ)          \
    X(OIDC_CLIENT_INSERT,                                                                          \
      "INSERT INTO oidc_clients (id, name, secret_hash, redirect_uris, post_logout_uris, scopes, " \
      "first_party, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",                          \
      WRITE)                                                                                       \
    X(OIDC_CLIENT_GET,                                                                             \
      "SELECT id, name, secret_hash, redirect_uris, post_logout_uris, scopes, first_party, "       \
      "created_at FROM oidc_clients WHERE id = $1",                                                \
      READ)                                                                                        \
    X(OIDC_CLIENTS_LIST,                                                                           \
      "SELECT id, name, secret_hash, redirect_uris, post_logout_uris, scopes, first_party, "       \
      "created_at FROM oidc_clients ORDER BY id",                                                  \
      READ)                                                                                        \
    X(OIDC_CLIENTS_ANY, "SELECT COUNT(*) FROM (SELECT 1 FROM oidc_clients LIMIT 1) AS c", READ)    \
    X(OIDC_CLIENT_DELETE, "DELETE FROM oidc_clients WHERE id = $1", WRITE)                         \
    X(SESSIONS_REVOKE_OF_CLIENT,                                                                   \
      "UPDATE sessions SET revoked_at = $2 WHERE client_id = $1 AND revoked_at IS NULL "           \
      "RETURNING id",                                                                              \
      WRITE)                                                                                       \
    X(SESSIONS_REVOKE_OF_SSO,                                                                      \
      "UPDATE sessions SET revoked_at = $2 WHERE (id = $1 OR sso_session = $1) "                   \
      "AND revoked_at IS NULL RETURNING id",                                                       \
      WRITE)                                                                                       \
    X(SESSION_INSERT_CLIENT,                                                                       \
      "INSERT INTO sessions (id, user_id, refresh_hash, generation, created_at, last_used_at, "    \
      "expires_at, amr, client_id, scope, auth_time, sso_session) "                                \
      "VALUES ($1, $2, $3, 0, $4, $4, $5, $6, $7, $8, $9, $10)",                                   \
      WRITE)                                                                                       \
    X(SESSION_SSO_BIND,                                                                            \
      "UPDATE sessions SET sso_hash = $2 WHERE id = $1 AND revoked_at IS NULL "                    \
      "AND client_id IS NULL",                                                                     \
      WRITE)                                                                                       \
    X(SESSION_BY_SSO,                                                                              \
      "SELECT s.id, s.user_id, s.created_at, s.amr, u.username FROM sessions s "                   \
      "JOIN users u ON u.id = s.user_id WHERE s.sso_hash = $1 AND s.revoked_at IS NULL "           \
      "AND s.expires_at > $2",                                                                     \
      READ)                                                                                        \
    X(SESSION_BY_REFRESH,                                                                          \
      "SELECT id, COALESCE(client_id, '') FROM sessions WHERE refresh_hash = $1", READ)            \
    X(SESSION_CLIENT_OF, "SELECT COALESCE(client_id, '') FROM sessions WHERE id = $1", READ)       \
    X(OIDC_CODE_INSERT,                                                                            \
      "INSERT INTO oidc_codes (code_hash, client_id, user_id, sso_session, redirect_uri, scope, "  \
      "nonce, code_challenge, auth_time, amr, created_at, expires_at) "                            \
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",                                \
      WRITE)                                                                                       \
    X(OIDC_CODE_USE,                                                                               \
      "UPDATE oidc_codes SET used_at = $2 WHERE code_hash = $1 AND used_at IS NULL "               \
      "AND expires_at > $2 RETURNING client_id, user_id, sso_session, redirect_uri, scope, "       \
      "COALESCE(nonce, ''), COALESCE(code_challenge, ''), auth_time, amr",                         \
      WRITE)                                                                                       \
    X(OIDC_CODE_ISSUED, "UPDATE oidc_codes SET issued_session = $2 WHERE code_hash = $1", WRITE)   \
    X(OIDC_CODE_USED_BEFORE,                                                                       \
      "SELECT COALESCE(issued_session, '') FROM oidc_codes WHERE code_hash = $1 "                  \
      "AND used_at IS NOT NULL",                                                                   \
      READ)                                                                                        \
    X(OIDC_CODES_PURGE, "DELETE FROM oidc_codes WHERE expires_at <= $1", WRITE)                    \
    X(OIDC_CONSENT_OF, "SELECT scope FROM oidc_consents WHERE user_id = $1 AND client_id = $2",    \
      READ)                                                                                        \
    X(OIDC_CONSENT_PUT,                                                                            \
      "INSERT INTO oidc_consents (user_id, client_id, scope, granted_at) VALUES ($1, $2, $3, $4) " \
      "ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, "                    \
      "granted_at = excluded.granted_at",                                                          \
      WRITE)                                                                                       \
    X(AUDIT_INSERT,                                                                                \
      "INSERT INTO audit_events (type, at, user_id, actor, client, request_id, details) "          \
      "VALUES ($1, $2, NULLIF($3, CAST(0 AS BIGINT)), $4, $5, $6, $7)",                            \
      WRITE)                                                                                       \
    X(AUDIT_LIST,                                                                                  \
      "SELECT id, type, at, COALESCE(user_id, 0), actor, client, request_id, details "             \
      "FROM audit_events WHERE (CAST($1 AS BIGINT) = 0 OR user_id = $1) "                          \
      "AND (CAST($2 AS TEXT) = '' OR type = $2) "                                                  \
      "AND (CAST($3 AS TEXT) = '' OR substr(type, 1, length($3)) = $3) "                           \
      "AND at >= $4 AND (CAST($5 AS BIGINT) = 0 OR id < $5) "                                      \
      "ORDER BY id DESC LIMIT $6",                                                                 \
      READ)                                                                                        \
    X(AUDIT_PURGE, "DELETE FROM audit_events WHERE at < $1", WRITE)                                \
    X(MIGRATION_VERSION, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations", READ)          \
    X(MIGRATION_RECORD, "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",     \
      WRITE)

enum store_stmt {
#define STORE_STMT_ENUM(id, sql, kind) STMT_##id,
    STORE_STATEMENTS(STORE_STMT_ENUM)
#undef STORE_STMT_ENUM
        STMT_COUNT
};

/* A statement's text and kind, indexed by enum store_stmt. */
struct store_stmt_def {
    const char *name; /* "USER_INSERT": the log label, and the prepared statement's name */
    const char *sql;
    bool readonly;
};

extern const struct store_stmt_def store_stmts[STMT_COUNT];

#endif
