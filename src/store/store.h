#ifndef GH_STORE_STORE_H
#define GH_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The storage interface: users, sessions and the schema, over SQLite or
 * PostgreSQL (one driver each, driver.h). Every function is safe to call from
 * any worker thread and returns a store_status; nothing here knows HTTP.
 *
 * Operations take a transaction, or NULL to run alone (on a connection of
 * their own, committed at once). A transaction holds one connection from
 * store_begin until store_commit or store_rollback. */

typedef struct store store;

enum store_status {
    STORE_OK = 0,
    STORE_NOT_FOUND,   /* no such row (or a foreign key names one that is gone) */
    STORE_CONFLICT,    /* a unique index refused the row (username taken) */
    STORE_UNAVAILABLE, /* the database cannot be reached or is locked: retry later */
    STORE_ERROR,       /* anything else; logged where it happened */
};

#define STORE_USERNAME_MAX 255 /* USERNAME_STORED_MAX */
#define STORE_HASH_MAX     128
#define STORE_ID_MAX       64

#define STORE_ROLES_MAX 527 /* ROLES_TEXT_MAX */
#define STORE_EMAIL_MAX 254 /* EMAILS_MAX */

struct store_user {
    int64_t id;
    char username[STORE_USERNAME_MAX + 1];
    char password_hash[STORE_HASH_MAX];
    int64_t created_at;              /* Unix seconds */
    int64_t credential_version;      /* password changes so far (store_user_login) */
    int64_t failed_logins;           /* failed logins counted (store_user_login_reserve) */
    int64_t last_failed_at;          /* Unix seconds of the latest; 0: none */
    char roles[STORE_ROLES_MAX + 1]; /* core/roles.h's stored form */
    char email[STORE_EMAIL_MAX + 1]; /* "" none */
    bool email_verified;
    bool disabled;
};

#define STORE_AMR_MAX   32
#define STORE_SCOPE_MAX 256 /* OIDC_SCOPE_MAX */

struct store_session {
    char id[STORE_ID_MAX + 1]; /* the token's sid */
    int64_t user_id;
    unsigned char refresh_hash[32]; /* SHA-256 of the refresh token */
    int64_t created_at, expires_at;
    /* How the user signed in: RFC 8176 values, space-separated ("pwd",
     * "pwd otp"...), kept by every refresh; "" inserts "pwd". */
    char amr[STORE_AMR_MAX + 1];
    /* A session an OpenID Connect client got from a code (store_session_create_client;
     * "" and 0 for any other): the client, its scope, when its user signed in, and the
     * browser's sign-in it began from. Filled by store_session_rotate. */
    char client_id[STORE_ID_MAX + 1];
    char scope[STORE_SCOPE_MAX + 1];
    int64_t auth_time;
    char sso_session[STORE_ID_MAX + 1];
};

/* How a store connects; a zero field takes the default in brackets. */
struct store_options {
    unsigned nconns;               /* connections in the pool [1] */
    unsigned connect_timeout_s;    /* PostgreSQL: wait for one connection [3] */
    unsigned statement_timeout_ms; /* PostgreSQL: the server cancels a longer statement [5000] */
    unsigned start_wait_s;         /* PostgreSQL: retry an unreachable server [3 × connect] */
};

/* Opens the store named by url (see the README's DATABASE_URL forms) and
 * brings its schema up to date; err receives a one-line reason on failure. A
 * PostgreSQL store connects before it returns (STORE_UNAVAILABLE when the
 * server stayed unreachable for start_wait_s); afterwards a lost server makes
 * calls answer STORE_UNAVAILABLE within about connect_timeout_s +
 * statement_timeout_ms, and the pool reconnects by itself once it is back. */
enum store_status store_open(const char *url, const struct store_options *opt, store **out,
                             char *err, size_t errlen);

/* Closes every connection and frees s. No transaction may be open. */
void store_close(store *s);

/* What GET /metrics shows of the database: connections of s held right
 * now, and calls on s that failed since store_open, because the database
 * could not be reached (or timed out) or for another reason. Each store
 * counts its own. */
struct store_stats {
    uint64_t in_use;
    uint64_t unavailable;
    uint64_t failed;
};

void store_stats(const store *s, struct store_stats *out);

/* The file a SQLite store lives in (for the generated secret key beside it),
 * or NULL for a server database. */
const char *store_sqlite_path(const store *s);

/* Parses a sqlite:/// URL into a file path (malloc'd, caller frees).
 * Returns NULL when url is not a SQLite URL or is malformed. */
char *store_sqlite_url_path(const char *url);

/* A transaction: the caller's, on its stack; members are the store's. */
typedef struct store_tx {
    store *s;
    struct store_conn *c;
    enum store_status failed; /* the first failure inside it, or STORE_OK */
    bool counted;             /* its connection counts as in use (store_stats) */
} store_tx;

/* Takes a connection and begins a transaction that takes the write lock up
 * front (SQLite: BEGIN IMMEDIATE), so two conflicting transactions wait for
 * each other instead of failing half-way. */
enum store_status store_begin(store *s, store_tx *tx);

/* Commits and releases tx. After any failed operation inside tx this rolls
 * back instead and returns that first failure: a transaction is all or
 * nothing on both backends (PostgreSQL refuses further statements anyway). */
enum store_status store_commit(store_tx *tx);

/* Rolls back and releases tx. */
void store_rollback(store_tx *tx);

/* STORE_OK when the database answers a trivial query. */
enum store_status store_ping(store *s);

/* Inserts a user; the unique index on username_key decides duplicates
 * (STORE_CONFLICT), never a prior read. Fills out->id and created_at. */
enum store_status store_user_create(store *s, store_tx *tx, const char *username,
                                    const char *username_key, const char *password_hash,
                                    int64_t now, struct store_user *out);

/* Inserts a user with the id it had elsewhere (an import keeping the
 * original app's ids). STORE_CONFLICT when the id or the username_key is
 * taken. Ids given here are not yet known to the source of new ids on every
 * backend: call store_users_follow_ids in the same transaction after the
 * last one. */
enum store_status store_user_import(store *s, store_tx *tx, int64_t id, const char *username,
                                    const char *username_key, const char *password_hash,
                                    int64_t now);

/* users import writes the rows that keep their ids this many at a time,
 * one statement each: one round trip per row made a PostgreSQL import of a
 * few hundred thousand rows take a minute. */
#define STORE_IMPORT_BATCH 64

/* A user to insert with store_users_import_batch. */
struct store_import_user {
    int64_t id;
    const char *username, *username_key, *password_hash;
};

/* Inserts STORE_IMPORT_BATCH users as store_user_import
 * does, in one statement: the same conflicts, fewer round trips. */
enum store_status store_users_import_batch(store *s, store_tx *tx,
                                           const struct store_import_user *users, int64_t now);

/* Inserts STORE_IMPORT_BATCH users as store_user_create does, in one
 * statement, ignoring each user's id (the new ids are not reported). */
enum store_status store_users_create_batch(store *s, store_tx *tx,
                                           const struct store_import_user *users, int64_t now);

/* Calls each(arg, id, username_key) for every user, in no order, inside tx
 * (what an import checks its rows against in one read). each returns 0, or
 * -1 to stop with STORE_ERROR (out of memory). */
enum store_status store_users_keys(store *s, store_tx *tx,
                                   int (*each)(void *arg, int64_t id, const char *username_key),
                                   void *arg);

/* Moves the source of new user ids past the largest id stored, never back,
 * so that a registration after an import gets a fresh id (PostgreSQL: the
 * identity's sequence; SQLite's AUTOINCREMENT follows by itself). */
enum store_status store_users_follow_ids(store *s, store_tx *tx);

/* Calls each(arg, id, username, created_at) for every user, by id. The
 * username is valid during the call only; no hash leaves this function. */
enum store_status store_users_list(store *s,
                                   void (*each)(void *arg, int64_t id, const char *username,
                                                int64_t created_at),
                                   void *arg);

/* Looks a user up by lower-cased username. */
enum store_status store_user_by_key(store *s, store_tx *tx, const char *username_key,
                                    struct store_user *out);

/* Administration (API.md, "Administration, roles and access rules"). */

/* What the admin API shows of a user. */
struct store_admin_user {
    int64_t id;
    char username[STORE_USERNAME_MAX + 1];
    char email[STORE_EMAIL_MAX + 1];
    bool email_verified, disabled, totp;
    char roles[STORE_ROLES_MAX + 1];
    int64_t passkeys, created_at;
};

/* Up to limit users with id > after, by id ascending, whose username or
 * address holds q (ASCII case ignored; "" any), each passed to each.
 * *more: whether another user matched past the last given. */
enum store_status store_users_page(store *s, int64_t after, const char *q, int64_t limit,
                                   void (*each)(void *arg, const struct store_admin_user *u),
                                   void *arg, bool *more);

/* One user as the admin API shows it. */
enum store_status store_admin_user(store *s, store_tx *tx, int64_t id,
                                   struct store_admin_user *out);

/* Sets user id's roles (stored form) or disabled flag; STORE_NOT_FOUND
 * when there is no such user. */
enum store_status store_user_set_roles(store *s, store_tx *tx, int64_t id, const char *roles);
enum store_status store_user_set_disabled(store *s, store_tx *tx, int64_t id, bool disabled);

/* Takes user id's row for the rest of tx (changes nothing):
 * STORE_NOT_FOUND when there is no such user. */
enum store_status store_user_lock(store *s, store_tx *tx, int64_t id);

/* Removes user id's TOTP secret, recovery codes and passkeys. */
enum store_status store_user_mfa_clear(store *s, store_tx *tx, int64_t id);

/* A session as the admin API lists it. */
struct store_session_info {
    char id[STORE_ID_MAX + 1];
    int64_t created_at, last_used_at, expires_at;
    char amr[STORE_AMR_MAX + 1];
    char client_id[STORE_ID_MAX + 1]; /* "": a sign-in's, not an OpenID Connect client's */
};

/* The sessions of user id neither revoked nor expired at now, oldest first. */
enum store_status store_user_sessions(store *s, int64_t id, int64_t now,
                                      void (*each)(void *arg, const struct store_session_info *i),
                                      void *arg);

#define STORE_APIKEY_NAME_MAX 128

/* An API key (api_keys): never its text, only the SHA-256 of it. */
struct store_apikey {
    char id[STORE_ID_MAX + 1];
    char name[STORE_APIKEY_NAME_MAX + 1];
    char roles[STORE_ROLES_MAX + 1];
    int64_t created_at, last_used_at, revoked_at; /* 0: never */
};

enum store_status store_apikey_create(store *s, store_tx *tx, const struct store_apikey *k,
                                      const unsigned char hash[32]);
/* The key whose text hashes to hash, not revoked; records its use at now. */
enum store_status store_apikey_use(store *s, const unsigned char hash[32], int64_t now,
                                   struct store_apikey *out);
/* Every key, oldest first. */
enum store_status
store_apikeys_list(store *s, void (*each)(void *arg, const struct store_apikey *k), void *arg);
/* Marks key id revoked at now; STORE_NOT_FOUND when unknown or revoked already. */
enum store_status store_apikey_revoke(store *s, store_tx *tx, const char *id, int64_t now);

/* Looks a user up by id. */
enum store_status store_user_by_id(store *s, store_tx *tx, int64_t id, struct store_user *out);

/* Records a login at now of user id, whose password was checked at
 * credential_version: STORE_NOT_FOUND when the user is gone or has changed
 * its password since. Inside the transaction that opens the session, this
 * UPDATE holds the user's row, so a concurrent password change or deletion
 * is ordered wholly before or wholly after the new session. */
enum store_status store_user_login(store *s, store_tx *tx, int64_t id, int64_t credential_version,
                                   int64_t now);

/* Moves user id's credential_version on, so that every login that checked
 * the password before and has not opened its session yet is refused
 * (store_user_login). Run first in a transaction that revokes the user's
 * sessions: it holds the user's row from then on, so that no login can
 * open a session between the revocations and the commit. STORE_NOT_FOUND
 * when the user is gone. */
enum store_status store_user_credentials_changed(store *s, store_tx *tx, int64_t id);

/* Inserts a session row (one per login). STORE_NOT_FOUND when the user was
 * deleted meanwhile. */
enum store_status store_session_create(store *s, store_tx *tx, const struct store_session *sess);

/* Rotates a refresh token, compare-and-set: when old_hash is the current
 * refresh hash of a live session (not revoked, not expired at now), it is
 * replaced by new_hash and remembered as rotated away (see
 * store_session_by_rotated), and out receives the session (its
 * refresh_hash is new_hash). STORE_NOT_FOUND otherwise. Two concurrent
 * calls with the same old_hash: exactly one gets STORE_OK. Atomic: with tx
 * NULL it runs in a transaction of its own. */
enum store_status store_session_rotate(store *s, store_tx *tx, const unsigned char old_hash[32],
                                       const unsigned char new_hash[32], int64_t now,
                                       struct store_session *out);

/* The id of the session that hash was rotated away from: the token was
 * refreshed already and is being presented again. STORE_NOT_FOUND when it
 * never was a rotated-away token (unknown, or some session's current one). */
enum store_status store_session_by_rotated(store *s, store_tx *tx, const unsigned char hash[32],
                                           char sid[STORE_ID_MAX + 1]);

/* Marks a session revoked at now. STORE_NOT_FOUND when there is no such
 * session or it was revoked already. */
enum store_status store_session_revoke(store *s, store_tx *tx, const char *sid, int64_t now);

/* When the live session sid of user_id began (its sign-in; a refresh does
 * not move it) into *at. STORE_NOT_FOUND when there is no such session,
 * or it is revoked. */
enum store_status store_session_signed_in_at(store *s, const char *sid, int64_t user_id,
                                             int64_t *at);

/* Marks every live session of user_id revoked at now, except the one named
 * except (NULL: none), and calls each(arg, sid) for each one revoked. */
enum store_status store_sessions_revoke_of_user(store *s, store_tx *tx, int64_t user_id,
                                                const char *except, int64_t now,
                                                void (*each)(void *arg, const char *sid),
                                                void *arg);

/* Deletes the sessions no access token can still name: those revoked at or
 * before tokens_before, and those expired at now whose last access token was
 * issued (last_used_at) at or before tokens_before. Their rotated-away
 * tokens go with them; *deleted receives how many. */
enum store_status store_sessions_purge(store *s, int64_t now, int64_t tokens_before,
                                       int64_t *deleted);

/* Records that session sid is revoked until until (when its last access
 * token expires) and, on PostgreSQL, tells every instance watching
 * (store_watch) once tx commits. Recording it again keeps the later time. */
enum store_status store_revocation_add(store *s, store_tx *tx, const char *sid, int64_t until);

/* Calls each(arg, sid, until) for every revocation still in force at now. */
enum store_status store_revocations_live(store *s, int64_t now,
                                         void (*each)(void *arg, const char *sid, int64_t until),
                                         void *arg);

/* Deletes the revocations no longer in force at now; *deleted: how many. */
enum store_status store_revocations_purge(store *s, int64_t now, int64_t *deleted);

/* The outbox (core/mail.h): composed mails waiting to be sent. A sender
 * claims a due row for a while (a lease, claim_until), sends it outside any
 * transaction, then deletes it or puts it back for later, each only while
 * its claim token still holds the row. */
struct store_outbox_row {
    int64_t id;
    char recipient[256];
    char *message; /* malloc'd; the caller frees it */
    int64_t attempts;
};

/* Queues message for recipient in tx (with the token the message carries),
 * due at once. */
enum store_status store_outbox_add(store *s, store_tx *tx, const char *recipient,
                                   const char *message, int64_t now);

/* Claims the row due first at now (next_attempt_at <= now) for this sender
 * alone until claim_until, under the token claim, in one statement that
 * commits at once: PostgreSQL skips rows another instance is claiming (FOR
 * UPDATE SKIP LOCKED), SQLite's write lock makes the claim a
 * compare-and-set between processes. *found false when nothing is due. */
enum store_status store_outbox_claim(store *s, int64_t now, int64_t claim_until, const char *claim,
                                     struct store_outbox_row *out, bool *found);

/* Deletes a sent row, if claim still holds it. */
enum store_status store_outbox_sent(store *s, int64_t id, const char *claim);

/* Puts a claimed row back, due at next_at, with error as its last error and
 * one more attempt counted when counted; if claim still holds it. */
enum store_status store_outbox_retry(store *s, int64_t id, const char *claim, int64_t next_at,
                                     const char *error, bool counted);

/* The rows queued, and the earliest next_attempt_at among them (0: none). */
enum store_status store_outbox_state(store *s, int64_t *depth, int64_t *next_at);

/* Replaces a user's password hash. STORE_NOT_FOUND when the user is gone. */
enum store_status store_user_set_password(store *s, store_tx *tx, int64_t id,
                                          const char *password_hash, int64_t now);

/* Replaces a user's password hash old_hash by new_hash of the same
 * password (a stronger hash made at login), compare-and-set: STORE_NOT_FOUND
 * when the user is gone or its hash is no longer old_hash (a password change
 * came first and wins). Unlike store_user_set_password it keeps
 * credential_version and updated_at: the password is the same, so sessions
 * and logins in progress stay valid. */
enum store_status store_user_rehash(store *s, store_tx *tx, int64_t id, const char *old_hash,
                                    const char *new_hash);

/* Counts a login attempt of user id as failed before its password is
 * checked, as a compare-and-set: only while the row still holds
 * seen_failures failures, the latest at seen_last (0: none), as the caller
 * read them, does the count become failures and the latest failure now. So
 * of concurrent attempts (on one instance or several) each sees the count
 * the one before it left, and no more pass the lockout than it allows.
 * STORE_NOT_FOUND when the row changed meanwhile (read it again) or the
 * user is gone. */
enum store_status store_user_login_reserve(store *s, store_tx *tx, int64_t id,
                                           int64_t seen_failures, int64_t seen_last,
                                           int64_t failures, int64_t now);

/* Sets *found to whether some stored password hash's scheme (its text up
 * to the second '$', "$2b$") matches the SQL LIKE pattern (e.g. "$2%":
 * bcrypt): the schemes in use, which the dummy check of unknown names must
 * cost (core/password.h). Reads the small table of the schemes ever stored
 * (migration 5 keeps it), not the users: its cost does not grow with them. */
enum store_status store_users_hash_like(store *s, const char *pattern, bool *found);

/* Forgets the failed logins of user id (after a successful one).
 * STORE_NOT_FOUND when the user is gone. */
enum store_status store_user_login_failures_reset(store *s, store_tx *tx, int64_t id);

/* Deletes a user and, by cascade, its sessions. STORE_NOT_FOUND when gone. */
enum store_status store_user_delete(store *s, store_tx *tx, int64_t id);

/* Addresses and mailed tokens (store/emails.c). */

#define STORE_EMAIL_MAX 254 /* EMAILS_MAX */

/* Sets user id's address (email; key, its lower-cased form; NULL both: none)
 * and whether it is confirmed. The unique index on email_key decides a
 * taken address (STORE_CONFLICT), never a prior read. STORE_NOT_FOUND when
 * the user is gone. */
enum store_status store_user_email_set(store *s, store_tx *tx, int64_t id, const char *email,
                                       const char *key, bool verified);

/* A user's address as stored ("" when none). */
struct store_email {
    int64_t user_id;
    char username[STORE_USERNAME_MAX + 1];
    char email[STORE_EMAIL_MAX + 1];
    bool verified;
    int64_t mail_requested_at; /* 0: never */
};

/* The address of user id. */
enum store_status store_user_email(store *s, store_tx *tx, int64_t id, struct store_email *out);

/* The user whose address has key key (lower-cased); fills user_id,
 * username and email. */
enum store_status store_user_by_email_key(store *s, store_tx *tx, const char *key,
                                          struct store_email *out);

/* The per-account mail limit, compare-and-set: records now as user id's
 * latest mailed request when the one before was at or before not_after
 * (now - MAIL_MIN_INTERVAL_SECONDS) or there was none; STORE_NOT_FOUND
 * otherwise (too soon) or when the user is gone. Of concurrent requests
 * exactly one wins a window. */
enum store_status store_user_mail_requested(store *s, store_tx *tx, int64_t id, int64_t now,
                                            int64_t not_after);

/* Marks user id's address confirmed when its key is still key (a reset
 * link mailed to it was used). STORE_OK whether or not it was. */
enum store_status store_user_email_verified_if(store *s, store_tx *tx, int64_t id, const char *key);

/* What a mailed token is for: the purpose column's values. */
#define STORE_TOKEN_CONFIRM "confirm"
#define STORE_TOKEN_RESET   "reset"

/* Inserts a token by its SHA-256 (the token itself is never stored) for
 * user id, purpose (STORE_TOKEN_*), the address it was mailed to. */
enum store_status store_email_token_add(store *s, store_tx *tx, const unsigned char hash[32],
                                        int64_t user_id, const char *purpose, const char *email,
                                        int64_t now, int64_t expires_at);

/* Deletes every token of user id for purpose: a new reset link voids the
 * older ones, a confirmed address the other confirmation links. */
enum store_status store_email_tokens_void(store *s, store_tx *tx, int64_t user_id,
                                          const char *purpose);

/* The user and address of the live token hash of purpose at now (unused,
 * not expired), without using it: STORE_NOT_FOUND when there is none.
 * email receives STORE_EMAIL_MAX + 1 bytes. */
enum store_status store_email_token_peek(store *s, store_tx *tx, const unsigned char hash[32],
                                         const char *purpose, int64_t now, int64_t *user_id,
                                         char *email);

/* Uses the live token hash of purpose at now, compare-and-set in one
 * statement: of concurrent uses exactly one gets STORE_OK (with its user and
 * address), the others STORE_NOT_FOUND, as do an unknown, used or expired
 * token. */
enum store_status store_email_token_use(store *s, store_tx *tx, const unsigned char hash[32],
                                        const char *purpose, int64_t now, int64_t *user_id,
                                        char *email);

/* Deletes the tokens used, or expired at now; *deleted: how many. */
enum store_status store_email_tokens_purge(store *s, int64_t now, int64_t *deleted);

/* A pending step of a sign-in or enrolment (table mfa_flows, core/flows.h),
 * found by the SHA-256 of its token; kind is core's name for it. */
struct store_flow {
    int64_t user_id; /* 0: none */
    int64_t credential_version;
    unsigned char challenge[32];
    size_t challenge_len; /* 0: none */
    int attempts;
    int64_t expires_at;
};

/* Inserts a flow by the hash of its token; user_id 0 stores NULL (no user
 * yet), challenge NULL stores none. */
enum store_status store_flow_add(store *s, const unsigned char hash[32], const char *kind,
                                 int64_t user_id, int64_t credential_version,
                                 const unsigned char *challenge, size_t challenge_len, int64_t now,
                                 int64_t expires_at);

/* The live flow hash of kind at now: unused, not expired, fewer than
 * max_attempts wrong answers; STORE_NOT_FOUND otherwise. */
enum store_status store_flow_get(store *s, const unsigned char hash[32], const char *kind,
                                 int64_t now, int max_attempts, struct store_flow *out);

/* Marks the live flow hash used, compare-and-set in one statement: of
 * concurrent calls exactly one gets STORE_OK, the others STORE_NOT_FOUND, as
 * does a flow no longer live. */
enum store_status store_flow_finish(store *s, const unsigned char hash[32], int64_t now,
                                    int max_attempts);

/* Counts a wrong answer against the live flow hash; *attempts: the count
 * after it. STORE_NOT_FOUND when the flow is no longer live. */
enum store_status store_flow_fail(store *s, const unsigned char hash[32], int64_t now,
                                  int max_attempts, int *attempts);

/* Deletes the flows used, or expired at now; *deleted: how many. */
enum store_status store_flows_purge(store *s, int64_t now, int64_t *deleted);

/* An authorization request kept while its user signs in or consents
 * (table oidc_requests, core/authzreq.h), found by the SHA-256 of its id;
 * request is core's text of it. */
enum store_status store_authz_add(store *s, const unsigned char hash[32], const char *request,
                                  int64_t now, int64_t expires_at);

/* The live (unused, unexpired) request of hash into request (cap bytes,
 * NUL-terminated) and its *created_at; STORE_NOT_FOUND otherwise,
 * STORE_ERROR for a text longer than cap. */
enum store_status store_authz_get(store *s, const unsigned char hash[32], int64_t now,
                                  char *request, size_t cap, int64_t *created_at);

/* Marks the live request hash used, compare-and-set: of concurrent calls
 * exactly one gets STORE_OK, the others STORE_NOT_FOUND. */
enum store_status store_authz_use(store *s, const unsigned char hash[32], int64_t now);

/* Deletes the requests used, or expired at now; *deleted: how many. */
enum store_status store_authz_purge(store *s, int64_t now, int64_t *deleted);

/* A POST /password/forgot waiting to be resolved. */
struct store_password_request {
    int64_t id;
    bool by_email; /* name is an address, else a username */
    char name[STORE_USERNAME_MAX + 1];
    char lang[8];
    int64_t created_at;
};

/* Records a request; *id receives its id. */
enum store_status store_password_request_add(store *s, store_tx *tx, bool by_email,
                                             const char *name, const char *lang, int64_t now,
                                             int64_t *id);

/* Takes (deletes and returns) request id inside tx: STORE_NOT_FOUND when
 * another worker or instance took it first. */
enum store_status store_password_request_take(store *s, store_tx *tx, int64_t id,
                                              struct store_password_request *out);

/* The ids of up to max waiting requests, oldest first, into ids; *n: how
 * many. */
enum store_status store_password_requests_pending(store *s, int64_t *ids, size_t max, size_t *n);

/* Passkeys (table passkeys; core/passkeys.h). */
#define STORE_PASSKEY_ID_MAX    32   /* the public id: base64url of 16 bytes is 22 */
#define STORE_PASSKEY_NAME_MAX  256  /* bytes of a name, NUL excluded */
#define STORE_CREDENTIAL_ID_MAX 1023 /* WebAuthn §5.8.3 */
#define STORE_COSE_KEY_MAX      1200 /* WEBAUTHN_COSE_KEY_MAX */
#define STORE_WEBAUTHN_HANDLE   32   /* bytes of a user handle */

struct store_passkey {
    char id[STORE_PASSKEY_ID_MAX + 1];
    int64_t user_id;
    unsigned char credential_id[STORE_CREDENTIAL_ID_MAX];
    size_t credential_id_len;
    unsigned char public_key[STORE_COSE_KEY_MAX]; /* the COSE key as registered */
    size_t public_key_len;
    int alg;
    int64_t sign_count;
    char name[STORE_PASSKEY_NAME_MAX + 1];
    int64_t created_at, last_used_at, cloned_at; /* 0: never */
};

/* The user handle of user id's passkeys (STORE_WEBAUTHN_HANDLE bytes):
 * the stored one, or fresh (32 bytes from the caller, random) when it has
 * none yet; of concurrent callers all get the one stored first.
 * STORE_NOT_FOUND when the user is gone. */
enum store_status store_user_webauthn_handle(store *s, store_tx *tx, int64_t id,
                                             const unsigned char fresh[STORE_WEBAUTHN_HANDLE],
                                             unsigned char out[STORE_WEBAUTHN_HANDLE]);

/* Inserts p (all but last_used_at and cloned_at). STORE_CONFLICT when its
 * credential id (or id) is stored already; STORE_NOT_FOUND when the user
 * is gone. */
enum store_status store_passkey_add(store *s, store_tx *tx, const struct store_passkey *p);

/* Calls each(arg, p) for every passkey of user_id, oldest first; p holds
 * everything but public_key, alg and sign_count and is valid during the
 * call only. each returns 0, or -1 to stop with STORE_ERROR. */
enum store_status store_passkeys_of_user(store *s, store_tx *tx, int64_t user_id,
                                         int (*each)(void *arg, const struct store_passkey *p),
                                         void *arg);

/* How many passkeys user_id has (cloned ones included). */
enum store_status store_passkeys_count(store *s, store_tx *tx, int64_t user_id, int64_t *n);

/* Deletes user_id's passkey id: STORE_NOT_FOUND when user_id has none of
 * that id (another user's included). */
enum store_status store_passkey_delete(store *s, store_tx *tx, int64_t user_id, const char *id);

/* The passkey whose credential id is cred (len bytes): all but name,
 * created_at and last_used_at. STORE_NOT_FOUND when none. */
enum store_status store_passkey_by_credential(store *s, store_tx *tx, const unsigned char *cred,
                                              size_t len, struct store_passkey *out);

/* Moves passkey id's signature counter from old to new and records a use
 * at now, compare-and-set: STORE_NOT_FOUND when its counter is no longer
 * old (a concurrent assertion came first), it is marked cloned, or it is
 * gone. */
enum store_status store_passkey_counter(store *s, store_tx *tx, const char *id, int64_t old,
                                        int64_t next, int64_t now);

/* Marks passkey id possibly cloned at now (its counter went backwards);
 * the first mark stays. */
enum store_status store_passkey_cloned(store *s, store_tx *tx, const char *id, int64_t now);

/* Reads the original FastAPI app's table "user" (id, username,
 * hashed_password) from the PostgreSQL database url names (any form
 * DATABASE_URL takes, postgresql+asyncpg:// included), in one read-only
 * transaction, and calls each(arg, id, username, ulen, hash) for every row
 * by id (hash NULL for SQL NULL; both valid during the call only). each
 * returns 0, or -1 to stop (out of memory). Returns 0, or -1 with a
 * one-line reason in err, which never shows the password. */
int store_legacy_users(const char *url, unsigned connect_timeout_s,
                       int (*each)(void *arg, int64_t id, const char *username, size_t ulen,
                                   const char *hash),
                       void *arg, char *err, size_t errlen);

/* The schema version a store is at once opened: the number of migrations
 * (store/migrate.c checks it at compile time). */
#define STORE_SCHEMA_VERSION 9

/* Sets *waiting when the PostgreSQL database url names holds the original
 * app's table "user" with rows while gatehouse's users is empty: users that
 * were most likely never imported. On a connection of its own, reading two
 * EXISTS, so its cost does not grow with either table. Returns 0, or -1
 * with a one-line reason in err (never the password). */
int store_legacy_waiting(const char *url, unsigned connect_timeout_s, bool *waiting, char *err,
                         size_t errlen);

/* Claims a database that only one server may use (SQLite: no other
 * instance would hear of its revocations) for this process until
 * store_close. The claim is a lock the kernel drops when the process ends,
 * however it ends. STORE_CONFLICT, with a reason in err, when another
 * process holds it; STORE_OK at once for a database servers share
 * (PostgreSQL). Commands that do not serve do not claim, so they work
 * beside a running server. */
enum store_status store_claim_sole_server(store *s, char *err, size_t errlen);

/* What a watcher of a shared database is told (store_watch). */
struct store_watch {
    /* Another instance (or this one) revoked sid until until. */
    void (*revoked)(void *arg, const char *sid, int64_t until);
    /* The watch (re)connected, or (SQLite) the database changed: what was
     * announced meanwhile may be missed, so reload what matters
     * (store_revocations_live). */
    void (*connected)(void *arg);
    void *arg;
};

/* Starts watching for revocations on a thread of the store's. On
 * PostgreSQL a dedicated connection LISTENs (w->revoked for each) and
 * reconnects by itself (w->connected after each connection). SQLite has no
 * notifications: the thread looks at the file twice a second and calls
 * w->connected when another connection has committed since (a command such
 * as gatehouse users delete run beside the server), so the caller reloads.
 * Returns 0, or -1 when the thread cannot be started. Stops at store_close,
 * before which w's callbacks must stay valid. */
int store_watch(store *s, const struct store_watch *w);

/* ---- second factors (migration 7): totp, recovery_codes (store/mfa.c) --- */

#define STORE_TOTP_SECRET_MAX 128 /* the sealed secret: nonce, MAC and key (core/mfa.c) */

/* A user's TOTP secret as stored (sealed by core), pending while
 * confirmed_at is 0, with the last time step accepted. */
struct store_totp {
    unsigned char secret[STORE_TOTP_SECRET_MAX];
    size_t secret_len;
    int64_t confirmed_at; /* 0: pending */
    int64_t last_step;
};

/* Stores secret (len bytes) as user_id's pending TOTP secret, replacing a
 * pending one (its last step back to 0). STORE_NOT_FOUND, nothing changed,
 * when user_id has a confirmed one (or is gone). */
enum store_status store_totp_put(store *s, store_tx *tx, int64_t user_id,
                                 const unsigned char *secret, size_t len, int64_t now);

/* user_id's secret; STORE_NOT_FOUND when it has none. */
enum store_status store_totp_of(store *s, store_tx *tx, int64_t user_id, struct store_totp *out);

/* Confirms user_id's pending secret, the sealed secret[0..len) as read,
 * with the step its code matched: STORE_NOT_FOUND when nothing is pending,
 * the pending secret is another (a concurrent enrolment replaced it), or
 * step is not after the stored one (a concurrent confirmation won). */
enum store_status store_totp_confirm(store *s, store_tx *tx, int64_t user_id,
                                     const unsigned char *secret, size_t len, int64_t step,
                                     int64_t now);

/* Records step as the last one accepted of user_id's confirmed secret,
 * compare-and-set: STORE_NOT_FOUND when the stored step is not before it
 * (a replay, or a concurrent use of the same code) or TOTP is off. */
enum store_status store_totp_step(store *s, store_tx *tx, int64_t user_id, int64_t step);

/* Deletes user_id's confirmed secret; STORE_NOT_FOUND when it had none. */
enum store_status store_totp_delete(store *s, store_tx *tx, int64_t user_id);

/* Deletes every recovery code of user_id, used or not. */
enum store_status store_recovery_codes_delete(store *s, store_tx *tx, int64_t user_id);

/* Adds a recovery code of user_id by its hash (32 bytes). */
enum store_status store_recovery_code_add(store *s, store_tx *tx, int64_t user_id,
                                          const unsigned char hash[32]);

/* Uses user_id's unused code whose hash is hash, in one compare-and-set:
 * of concurrent uses exactly one gets STORE_OK; STORE_NOT_FOUND for the
 * others, a used code and an unknown one. */
enum store_status store_recovery_code_use(store *s, store_tx *tx, int64_t user_id,
                                          const unsigned char hash[32], int64_t now);

/* How many unused recovery codes user_id has. */
enum store_status store_recovery_codes_left(store *s, store_tx *tx, int64_t user_id,
                                            int64_t *count);

/* ---- the OpenID Connect provider (migration 8; store/oidc.c) ---- */

/* A row of oidc_clients as read: every string valid during the callback
 * only. The URIs are one per line. */
struct store_oidc_client {
    const char *id, *name;
    unsigned char secret_hash[32];
    bool has_secret; /* a confidential client */
    const char *redirect_uris, *post_logout_uris;
    const char *scopes; /* canonical scope text */
    bool first_party;
    int64_t created_at;
};

/* Inserts c; STORE_CONFLICT when its id is taken. */
enum store_status store_oidc_client_add(store *s, const struct store_oidc_client *c);

/* Calls each(arg, c) with the client of id (STORE_NOT_FOUND: none), or
 * with every client by id. each returns 0, or -1 to stop with STORE_ERROR. */
enum store_status store_oidc_client_get(store *s, const char *id,
                                        int (*each)(void *arg, const struct store_oidc_client *c),
                                        void *arg);
enum store_status store_oidc_clients_list(store *s,
                                          int (*each)(void *arg, const struct store_oidc_client *c),
                                          void *arg);

/* *any: whether at least one client is registered (one indexed row read). */
enum store_status store_oidc_clients_any(store *s, bool *any);

/* Deletes client id (its codes and consents go with it: ON DELETE
 * CASCADE). STORE_NOT_FOUND when there is none. */
enum store_status store_oidc_client_delete(store *s, store_tx *tx, const char *id);

/* Marks revoked at now every live session of client_id (each(arg, sid)
 * for each), or every live session sid and those begun from it
 * (sso_session = sid), sid itself included. */
enum store_status store_sessions_revoke_of_client(store *s, store_tx *tx, const char *client_id,
                                                  int64_t now,
                                                  void (*each)(void *arg, const char *sid),
                                                  void *arg);
enum store_status store_sessions_revoke_of_sso(store *s, store_tx *tx, const char *sid, int64_t now,
                                               void (*each)(void *arg, const char *sid), void *arg);

/* Inserts sess, a session of client sess->client_id with its scope,
 * auth_time and sso_session. STORE_NOT_FOUND when the user is gone. */
enum store_status store_session_create_client(store *s, store_tx *tx,
                                              const struct store_session *sess);

/* Binds the SHA-256 of a gatehouse_sso cookie to the live browser session
 * sid (not a client's): STORE_NOT_FOUND when there is no such session. */
enum store_status store_session_sso_bind(store *s, const char *sid, const unsigned char hash[32]);

/* The live (not revoked, not expired at now) session whose cookie hash is
 * hash, with its user's name: STORE_NOT_FOUND otherwise. Fills id,
 * user_id, created_at and amr of out. */
enum store_status store_session_by_sso(store *s, const unsigned char hash[32], int64_t now,
                                       struct store_session *out,
                                       char username[STORE_USERNAME_MAX + 1]);

/* The session whose current refresh hash is hash (revoked or not), and its
 * client ("" for none). STORE_NOT_FOUND otherwise. */
enum store_status store_session_by_refresh(store *s, const unsigned char hash[32],
                                           char sid[STORE_ID_MAX + 1],
                                           char client_id[STORE_ID_MAX + 1]);

/* The client of session sid ("" for none); STORE_NOT_FOUND: no session. */
enum store_status store_session_client_of(store *s, store_tx *tx, const char *sid,
                                          char client_id[STORE_ID_MAX + 1]);

/* An authorization code by the SHA-256 of its text. Strings are NUL-terminated. */
struct store_oidc_code {
    char client_id[STORE_ID_MAX + 1];
    int64_t user_id;
    char sso_session[STORE_ID_MAX + 1];
    char redirect_uri[2049];
    char scope[STORE_SCOPE_MAX + 1];
    char nonce[256];         /* "" for none */
    char code_challenge[64]; /* "" for none */
    int64_t auth_time;
    char amr[STORE_AMR_MAX + 1];
};

/* Inserts code hash for c, made at now and live until expires_at. */
enum store_status store_oidc_code_add(store *s, const unsigned char hash[32],
                                      const struct store_oidc_code *c, int64_t now,
                                      int64_t expires_at);

/* Uses the live code hash (unused, not expired at now), compare-and-set:
 * of concurrent uses exactly one gets STORE_OK and the code; the others,
 * a used, expired or unknown code, STORE_NOT_FOUND. */
enum store_status store_oidc_code_use(store *s, store_tx *tx, const unsigned char hash[32],
                                      int64_t now, struct store_oidc_code *out);

/* Records the session the exchange of code hash opened. */
enum store_status store_oidc_code_issued(store *s, store_tx *tx, const unsigned char hash[32],
                                         const char *sid);

/* The session the first exchange of the used code hash opened ("" when
 * none was); STORE_NOT_FOUND when the code was never used (or is gone). */
enum store_status store_oidc_code_used_before(store *s, const unsigned char hash[32],
                                              char sid[STORE_ID_MAX + 1]);

/* Deletes the codes expired at or before before; *deleted: how many. */
enum store_status store_oidc_codes_purge(store *s, int64_t before, int64_t *deleted);

/* The scope text user_id allowed client_id ("" when none), and replaces it. */
enum store_status store_oidc_consent_of(store *s, int64_t user_id, const char *client_id,
                                        char scope[STORE_SCOPE_MAX + 1]);
enum store_status store_oidc_consent_put(store *s, int64_t user_id, const char *client_id,
                                         const char *scope, int64_t now);

/* ---- the audit trail (migration 9's audit_events; store/audit.c) ---- */

#define STORE_AUDIT_TYPE_MAX    64
#define STORE_AUDIT_ACTOR_MAX   80
#define STORE_AUDIT_CLIENT_MAX  64 /* NETADDR_MAX */
#define STORE_AUDIT_REQUEST_MAX 64
#define STORE_AUDIT_DETAILS_MAX 2048

/* An event to record. Strings NULL store SQL NULL; user_id 0 stores none;
 * details is the event's other fields as a JSON object's text (NULL: "{}"),
 * never a password, token, hash or secret. */
struct store_audit_event {
    const char *type;
    int64_t at; /* Unix seconds */
    int64_t user_id;
    const char *actor, *client, *request_id, *details;
};

/* Inserts e inside tx (the transaction of what it records), or alone with
 * tx NULL. */
enum store_status store_audit_add(store *s, store_tx *tx, const struct store_audit_event *e);

/* Which events store_audit_list reads: user_id 0 any user; type "" any, or
 * exactly it (prefix false) or every type that begins with it (prefix true);
 * at or after since; below id before (0: from the newest); limit of them. */
struct store_audit_filter {
    int64_t user_id;
    const char *type;
    bool prefix;
    int64_t since;
    int64_t before;
    int64_t limit;
};

/* A row as read: the strings ("" for SQL NULL) are valid during the
 * callback only. */
struct store_audit_row {
    int64_t id, at, user_id; /* user_id 0: none */
    const char *type, *actor, *client, *request_id, *details;
    bool has_actor, has_client;
};

/* Calls each(arg, r) for the events f selects, newest (largest id) first.
 * each returns 0, or -1 to stop with STORE_ERROR. */
enum store_status store_audit_list(store *s, const struct store_audit_filter *f,
                                   int (*each)(void *arg, const struct store_audit_row *r),
                                   void *arg);

/* Deletes the events recorded before before; *deleted: how many. */
enum store_status store_audit_purge(store *s, int64_t before, int64_t *deleted);

/* The event of the operation this thread is running, held for the
 * transaction that records it: the layer that knows the event (api/audit.c,
 * the CLI) holds it around its call into core, and core's transaction that
 * makes the change calls store_audit_held_add just before its commit, so the
 * event commits or rolls back with it. The caller keeps e alive until
 * store_audit_release, which tells whether a transaction wrote it (else the
 * caller writes it alone once the operation succeeded). One at a time per
 * thread; nothing is held unless a caller holds it. */
void store_audit_hold(struct store_audit_event *e);
/* Writes the held event inside tx (once; STORE_OK when none is held), with
 * user_id as its user when it has none yet (a registration's new id). */
enum store_status store_audit_held_add(store *s, store_tx *tx, int64_t user_id);
bool store_audit_release(void);

#endif
