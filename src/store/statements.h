#ifndef GH_STORE_STATEMENTS_H
#define GH_STORE_STATEMENTS_H

#include <stdbool.h>

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
    X(USERS_LIST, "SELECT id, username, created_at FROM users ORDER BY id", READ)                  \
    X(USER_BY_KEY,                                                                                 \
      "SELECT id, username, password_hash, created_at, credential_version, failed_logins, "        \
      "last_failed_at FROM users WHERE username_key = $1",                                         \
      READ)                                                                                        \
    X(USER_BY_ID,                                                                                  \
      "SELECT id, username, password_hash, created_at, credential_version, failed_logins, "        \
      "last_failed_at FROM users WHERE id = $1",                                                   \
      READ)                                                                                        \
    X(USER_CREDENTIALS_CHANGED,                                                                    \
      "UPDATE users SET credential_version = credential_version + 1 WHERE id = $1", WRITE)         \
    X(USER_LOGIN, "UPDATE users SET last_login_at = $3 WHERE id = $1 AND credential_version = $2", \
      WRITE)                                                                                       \
    X(SESSION_INSERT,                                                                              \
      "INSERT INTO sessions (id, user_id, refresh_hash, generation, created_at, last_used_at, "    \
      "expires_at) VALUES ($1, $2, $3, 0, $4, $4, $5)",                                            \
      WRITE)                                                                                       \
    X(SESSION_ROTATE,                                                                              \
      "UPDATE sessions SET refresh_hash = $2, generation = generation + 1, last_used_at = $3 "     \
      "WHERE refresh_hash = $1 AND revoked_at IS NULL AND expires_at > $3 "                        \
      "RETURNING id, user_id, created_at, expires_at",                                             \
      WRITE)                                                                                       \
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
    X(SESSIONS_PURGE, "DELETE FROM sessions WHERE expires_at <= $1 OR revoked_at <= $2", WRITE)    \
    X(REVOCATION_INSERT,                                                                           \
      "INSERT INTO revocations (session_id, until) VALUES ($1, $2) "                               \
      "ON CONFLICT (session_id) DO UPDATE SET until = excluded.until "                             \
      "WHERE excluded.until > revocations.until",                                                  \
      WRITE)                                                                                       \
    X(REVOCATIONS_LIVE, "SELECT session_id, until FROM revocations WHERE until > $1", READ)        \
    X(REVOCATIONS_PURGE, "DELETE FROM revocations WHERE until <= $1", WRITE)                       \
    X(USER_SET_PASSWORD,                                                                           \
      "UPDATE users SET password_hash = $2, updated_at = $3, "                                     \
      "credential_version = credential_version + 1 WHERE id = $1",                                 \
      WRITE)                                                                                       \
    X(USER_REHASH, "UPDATE users SET password_hash = $2 WHERE id = $1 AND password_hash = $3",     \
      WRITE)                                                                                       \
    X(USER_DELETE, "DELETE FROM users WHERE id = $1", WRITE)                                       \
    X(USER_LOGIN_FAILED,                                                                           \
      "UPDATE users SET failed_logins = CASE WHEN last_failed_at IS NULL OR last_failed_at <= $3 " \
      "THEN 1 ELSE failed_logins + 1 END, last_failed_at = $2 WHERE id = $1 "                      \
      "RETURNING failed_logins",                                                                   \
      WRITE)                                                                                       \
    X(USERS_HASH_LIKE, "SELECT 1 FROM password_schemes WHERE prefix LIKE $1 LIMIT 1", READ)        \
    X(USER_LOGIN_FAILURES_RESET,                                                                   \
      "UPDATE users SET failed_logins = 0, last_failed_at = NULL WHERE id = $1", WRITE)            \
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
