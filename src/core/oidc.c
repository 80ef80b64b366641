/* The OpenID Connect provider's data (core/oidc.h): scopes, clients, the
 * browser's single sign-on, consents, logout and the janitor's purge. The
 * tokens are in oidc_tokens.c. */
#include "core/oidc.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/outcome_store.h"
#include "core/sessions_tx.h"
#include "store/store.h"
#include "util/b64.h"
#include "util/bearer.h"
#include "util/log.h"
#include "util/timefmt.h"
#include "util/utf8.h"

_Static_assert(OIDC_CLIENT_ID_MAX <= STORE_ID_MAX, "a session stores any client id");
_Static_assert(OIDC_SCOPE_MAX == STORE_SCOPE_MAX, "a session stores any scope");
_Static_assert(OIDC_SECRET_LEN == BEARER_LEN && OIDC_SSO_LEN == BEARER_LEN,
               "secrets and cookies are util/bearer tokens");

/* How long a used code is kept after it expired, so that its reuse still
 * revokes what its exchange issued (RFC 6749 §4.1.2) after the 60 s. */
#define CODE_KEEP_SECONDS 3600

/* ------------------------------------------------------------- scopes */

/* By bit of enum oidc_scope: the canonical order. */
static const char *const scope_names[] = {"openid", "profile", "email", "offline_access"};
#define NSCOPES (sizeof scope_names / sizeof scope_names[0])

/* A scope-token's characters (RFC 6749 §3.3): printable ASCII but space,
 * '"' and '\\'. */
static bool scope_token_ok(const char *t, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (t[k] < 0x21 || t[k] > 0x7e || t[k] == '"' || t[k] == '\\')
            return false;
    return n > 0;
}

static bool scope_parse(const char *text, size_t len, bool ignore_unknown, unsigned *bits)
{
    size_t i = 0;

    *bits = 0;
    if (len == 0 || len > OIDC_SCOPE_MAX)
        return false;
    /* scope-tokens separated by single spaces (RFC 6749 §3.3). */
    while (i < len) {
        size_t n = 0;
        while (i + n < len && text[i + n] != ' ')
            n++;
        unsigned bit = 0;
        for (size_t k = 0; k < NSCOPES; k++)
            if (strlen(scope_names[k]) == n && memcmp(scope_names[k], text + i, n) == 0)
                bit = 1u << k;
        if (bit == 0 && ignore_unknown && scope_token_ok(text + i, n)) {
            /* left out */
        } else if (bit == 0 || (*bits & bit) != 0) {
            *bits = 0;
            return false;
        }
        *bits |= bit;
        i += n;
        if (i < len && ++i == len) { /* a trailing space */
            *bits = 0;
            return false;
        }
    }
    return true;
}

bool oidc_scope_parse(const char *text, size_t len, unsigned *bits)
{
    return scope_parse(text, len, false, bits);
}

bool oidc_scope_parse_request(const char *text, size_t len, unsigned *bits)
{
    return scope_parse(text, len, true, bits);
}

void oidc_scope_text(unsigned bits, char text[OIDC_SCOPE_MAX + 1])
{
    size_t n = 0;

    text[0] = '\0';
    for (size_t k = 0; k < NSCOPES; k++)
        if ((bits & (1u << k)) != 0)
            n += (size_t)snprintf(text + n, OIDC_SCOPE_MAX + 1 - n, "%s%s", n > 0 ? " " : "",
                                  scope_names[k]);
}

/* ------------------------------------------------------------ clients */

void oidc_client_free(struct oidc_client *c)
{
    for (size_t i = 0; i < c->nredirect; i++)
        free(c->redirect_uris[i]);
    for (size_t i = 0; i < c->nlogout; i++)
        free(c->post_logout_uris[i]);
    c->nredirect = c->nlogout = 0;
}

/* Splits the stored lines of text into uris (malloc'd each): -1 when out
 * of memory or more than OIDC_URIS_MAX. */
static int split_uris(const char *text, char **uris, size_t *n)
{
    *n = 0;
    while (*text != '\0') {
        size_t len = strcspn(text, "\n");
        if (len > 0) {
            if (*n == OIDC_URIS_MAX || (uris[*n] = strndup(text, len)) == NULL)
                return -1;
            (*n)++;
        }
        text += len;
        if (*text == '\n')
            text++;
    }
    return 0;
}

struct client_out {
    struct oidc_client *c;
    unsigned char secret_hash[32];
};

static int take_client(void *arg, const struct store_oidc_client *row)
{
    struct client_out *o = arg;
    struct oidc_client *c = o->c;

    memset(c, 0, sizeof *c);
    snprintf(c->id, sizeof c->id, "%s", row->id);
    snprintf(c->name, sizeof c->name, "%s", row->name);
    c->confidential = row->has_secret;
    c->first_party = row->first_party;
    c->created_at = row->created_at;
    memcpy(o->secret_hash, row->secret_hash, sizeof o->secret_hash);
    if (!oidc_scope_parse(row->scopes, strlen(row->scopes), &c->scopes) && row->scopes[0] != '\0')
        log_warn("client %s: its stored scopes are not ones gatehouse knows", c->id);
    if (split_uris(row->redirect_uris, c->redirect_uris, &c->nredirect) != 0 ||
        split_uris(row->post_logout_uris, c->post_logout_uris, &c->nlogout) != 0) {
        oidc_client_free(c);
        return -1;
    }
    return 0;
}

static enum outcome client_read(store *s, const char *id, size_t len, struct oidc_client *out,
                                unsigned char secret_hash[32])
{
    char key[OIDC_CLIENT_ID_MAX + 1];
    struct client_out o = {out, {0}};

    memset(out, 0, sizeof *out);
    if (len == 0 || len > OIDC_CLIENT_ID_MAX || memchr(id, '\0', len) != NULL)
        return OUTCOME_NOT_FOUND;
    memcpy(key, id, len);
    key[len] = '\0';
    enum store_status st = store_oidc_client_get(s, key, take_client, &o);
    if (secret_hash != NULL)
        memcpy(secret_hash, o.secret_hash, 32);
    return outcome_from_store(st, OUTCOME_NOT_FOUND);
}

enum outcome oidc_client_get(store *s, const char *id, size_t len, struct oidc_client *out)
{
    return client_read(s, id, len, out, NULL);
}

static bool uri_in(char *const *uris, size_t n, const char *uri, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(uris[i]) == len && memcmp(uris[i], uri, len) == 0)
            return true;
    return false;
}

bool oidc_client_redirect_ok(const struct oidc_client *c, const char *uri, size_t len)
{
    return uri_in(c->redirect_uris, c->nredirect, uri, len);
}

bool oidc_client_logout_uri_ok(const struct oidc_client *c, const char *uri, size_t len)
{
    return uri_in(c->post_logout_uris, c->nlogout, uri, len);
}

enum outcome oidc_client_authenticate(store *s, const char *id, size_t idlen, const char *secret,
                                      size_t secretlen, struct oidc_client *out)
{
    unsigned char stored[32], given[32];

    enum outcome o = client_read(s, id, idlen, out, stored);
    if (o != OUTCOME_OK && o != OUTCOME_NOT_FOUND)
        return o;
    /* The same work whatever the refusal: a hash of what was sent and one
     * constant-time comparison, so that the time tells no one which client
     * ids exist. */
    bool known = o == OUTCOME_OK;
    if (!known)
        randombytes_buf(stored, sizeof stored);
    crypto_hash_sha256(given, (const unsigned char *)(secret != NULL ? secret : ""),
                       secret != NULL ? secretlen : 0);
    bool match = sodium_memcmp(stored, given, sizeof given) == 0;
    sodium_memzero(given, sizeof given);
    bool ok = known && (out->confidential ? secret != NULL && match : secret == NULL);
    if (!ok) {
        if (known)
            oidc_client_free(out);
        memset(out, 0, sizeof *out);
        return OUTCOME_BAD_CLIENT;
    }
    return OUTCOME_OK;
}

enum outcome oidc_enabled(store *s, bool *on)
{
    return outcome_from_store(store_oidc_clients_any(s, on), OUTCOME_ERROR);
}

/* A client id given on the command line: RFC 3986's unreserved characters,
 * which need no escaping in a URL or in client_secret_basic's form
 * encoding (RFC 6749 §2.3.1), and not digits alone: a client_credentials
 * token's sub is the client's id, a user's is the user's decimal id, and
 * the two must never be the same. */
static bool id_ok(const char *id)
{
    size_t n = strlen(id);

    return n > 0 && n <= OIDC_CLIENT_ID_MAX &&
           strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") == n &&
           strspn(id, "0123456789") != n;
}

/* An absolute URI without a fragment (RFC 6749 §3.1.2), printable ASCII
 * without spaces: a scheme, ":", and something after it. */
static bool uri_ok(const char *u)
{
    size_t n = strlen(u), scheme = strspn(u, "abcdefghijklmnopqrstuvwxyz"
                                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");

    if (n == 0 || n > OIDC_URI_MAX || scheme == 0 || u[scheme] != ':' || scheme + 1 == n ||
        !((u[0] >= 'a' && u[0] <= 'z') || (u[0] >= 'A' && u[0] <= 'Z')))
        return false;
    for (size_t i = 0; i < n; i++)
        if (u[i] <= 0x20 || u[i] >= 0x7f || u[i] == '#')
            return false;
    /* Where a browser may be sent: http or https (any case), or a native
     * application's private-use scheme, which RFC 8252 §7.1 makes a
     * reverse domain name ("com.example.app:"), so never javascript:,
     * data:, file: and their kind. */
    return (scheme == 4 && strncasecmp(u, "http", 4) == 0) ||
           (scheme == 5 && strncasecmp(u, "https", 5) == 0) || memchr(u, '.', scheme) != NULL;
}

/* What the URIs (checked) are stored as: one per line, in a new string. */
static char *join_uris(char *const *uris, size_t n)
{
    size_t total = 1;

    for (size_t i = 0; i < n; i++)
        total += strlen(uris[i]) + 1;
    char *out = malloc(total), *p = out;
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        p += snprintf(p, total - (size_t)(p - out), "%s\n", uris[i]);
    *p = '\0';
    return out;
}

/* NULL when uris are well-formed and distinct, else why not. */
static const char *uris_problem(char *const *uris, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!uri_ok(uris[i]))
            return "a redirect URI must be an absolute URI of at most 2048 printable characters, "
                   "without spaces or a fragment, of scheme http, https or a native "
                   "application's reverse domain name (com.example.app:)";
        for (size_t j = 0; j < i; j++)
            if (strcmp(uris[i], uris[j]) == 0)
                return "a redirect URI is given twice";
    }
    return NULL;
}

static bool name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > OIDC_CLIENT_NAME_MAX || utf8_count(name, n) < 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return false;
    return true;
}

enum outcome oidc_client_check(const struct oidc_client *c, const char **why)
{
    *why = NULL;
    if (!name_ok(c->name))
        *why = "the name must be 1 to 128 bytes of UTF-8 without control characters";
    else if (c->id[0] != '\0' && !id_ok(c->id))
        *why = "the id must be 1 to 64 letters, digits, '-', '.', '_' or '~', not digits alone";
    else if (c->nredirect == 0)
        *why = "at least one redirect URI is required";
    else if (c->nredirect > OIDC_URIS_MAX || c->nlogout > OIDC_URIS_MAX)
        *why = "at most 16 redirect URIs and 16 post-logout redirect URIs";
    else if (c->scopes == 0 ||
             (c->scopes & ~(unsigned)(OIDC_SCOPE_OPENID | OIDC_SCOPE_PROFILE | OIDC_SCOPE_EMAIL |
                                      OIDC_SCOPE_OFFLINE)) != 0)
        *why = "the scopes must be some of openid, profile, email and offline_access";
    else if ((*why = uris_problem(c->redirect_uris, c->nredirect)) == NULL &&
             (*why = uris_problem(c->post_logout_uris, c->nlogout)) == NULL)
        return OUTCOME_OK;
    return OUTCOME_INVALID;
}

enum outcome oidc_clients_add(store *s, struct oidc_client *c, int64_t now,
                              char secret[OIDC_SECRET_LEN + 1])
{
    struct store_oidc_client row = {0};
    char scopes[OIDC_SCOPE_MAX + 1];
    const char *why;

    secret[0] = '\0';
    if (oidc_client_check(c, &why) != OUTCOME_OK)
        return OUTCOME_INVALID;
    char *redirect = join_uris(c->redirect_uris, c->nredirect);
    char *logout = join_uris(c->post_logout_uris, c->nlogout);
    if (redirect == NULL || logout == NULL) {
        free(redirect);
        free(logout);
        return OUTCOME_ERROR;
    }
    if (c->id[0] == '\0') {
        unsigned char raw[16];
        randombytes_buf(raw, sizeof raw);
        memcpy(c->id, "gh_", 3);
        b64url_encode(c->id + 3, raw, sizeof raw);
    }
    /* The secret is shown once; only its SHA-256 is kept. 256 random bits
     * need no slow hash: no one guesses them from the hash. */
    if (c->confidential)
        bearer_new(secret, row.secret_hash);
    oidc_scope_text(c->scopes, scopes);
    row.id = c->id;
    row.name = c->name;
    row.has_secret = c->confidential;
    row.redirect_uris = redirect;
    row.post_logout_uris = logout;
    row.scopes = scopes;
    row.first_party = c->first_party;
    row.created_at = c->created_at = now;
    enum outcome o = outcome_from_store(store_oidc_client_add(s, &row), OUTCOME_ERROR);
    if (o != OUTCOME_OK)
        sodium_memzero(secret, OIDC_SECRET_LEN + 1);
    sodium_memzero(row.secret_hash, sizeof row.secret_hash);
    free(redirect);
    free(logout);
    return o;
}

struct list_ctx {
    void (*each)(const struct oidc_client *c, void *arg);
    void *arg;
};

static int list_one(void *arg, const struct store_oidc_client *row)
{
    struct list_ctx *l = arg;
    struct oidc_client c;
    struct client_out o = {&c, {0}};

    if (take_client(&o, row) != 0)
        return -1;
    l->each(&c, l->arg);
    oidc_client_free(&c);
    return 0;
}

enum outcome oidc_clients_list(store *s, void (*each)(const struct oidc_client *c, void *arg),
                               void *arg)
{
    struct list_ctx l = {each, arg};

    return outcome_from_store(store_oidc_clients_list(s, list_one, &l), OUTCOME_ERROR);
}

struct batch_ctx {
    struct sessions_batch *b;
    bool failed;
};

static void batch_one(void *arg, const char *sid)
{
    struct batch_ctx *c = arg;

    if (sessions_batch_add(c->b, sid) != 0)
        c->failed = true;
}

/* Ends tx, begun to revoke the sessions in b, where st says how far it
 * went: records each revocation and commits when st is STORE_OK, else
 * rolls back; the revocation set takes b once committed. Frees b;
 * returns the final status. */
static enum store_status finish_revocations(const struct sessions_deps *d, store_tx *tx,
                                            struct sessions_batch *b, enum store_status st)
{
    for (size_t i = 0; st == STORE_OK && i < b->count; i++)
        st = store_revocation_add(d->store, tx, b->sid[i], b->until);
    if (st == STORE_OK)
        st = store_commit(tx);
    else
        store_rollback(tx);
    if (st == STORE_OK)
        sessions_batch_apply(d, b);
    sessions_batch_free(b);
    return st;
}

enum outcome oidc_clients_delete(const struct sessions_deps *d, const char *id, size_t len)
{
    char key[OIDC_CLIENT_ID_MAX + 1];
    struct sessions_batch b = {0};
    struct batch_ctx ctx = {&b, false};
    int64_t now = timefmt_now();
    store_tx tx;

    if (len == 0 || len > OIDC_CLIENT_ID_MAX || memchr(id, '\0', len) != NULL)
        return OUTCOME_NOT_FOUND;
    memcpy(key, id, len);
    key[len] = '\0';
    b.until = sessions_revoked_until(d, now);
    enum store_status st = store_begin(d->store, &tx);
    if (st != STORE_OK)
        return outcome_from_store(st, OUTCOME_ERROR);
    /* Its consents and codes go with the row (ON DELETE CASCADE); its
     * sessions are revoked, in the same transaction, so that no refresh
     * token or access token of it outlives it. */
    st = store_oidc_client_delete(d->store, &tx, key);
    if (st == STORE_OK)
        st = store_sessions_revoke_of_client(d->store, &tx, key, now, batch_one, &ctx);
    if (st == STORE_OK && ctx.failed)
        st = STORE_ERROR;
    st = finish_revocations(d, &tx, &b, st);
    return outcome_from_store(st, OUTCOME_NOT_FOUND);
}

/* ------------------------------------------------------ single sign-on */

enum outcome oidc_sso_bind(store *s, const char *sid, char token[OIDC_SSO_LEN + 1])
{
    unsigned char hash[32];

    bearer_new(token, hash);
    enum outcome o =
        outcome_from_store(store_session_sso_bind(s, sid, hash), OUTCOME_TOKEN_INVALID);
    if (o != OUTCOME_OK)
        sodium_memzero(token, OIDC_SSO_LEN + 1);
    return o;
}

enum outcome oidc_sso_get(const struct sessions_deps *d, const char *token, size_t len, int64_t now,
                          struct oidc_sso *out)
{
    unsigned char hash[32];
    struct store_session sess;

    memset(out, 0, sizeof *out);
    if (!bearer_hash(token, len, hash))
        return OUTCOME_TOKEN_INVALID;
    enum store_status st = store_session_by_sso(d->store, hash, now, &sess, out->username);
    if (st != STORE_OK) {
        memset(out, 0, sizeof *out);
        return outcome_from_store(st, OUTCOME_TOKEN_INVALID);
    }
    /* The table says live; the set may know better a moment sooner (a
     * revocation heard from another instance is in both). */
    if (d->revoked != NULL && revset_contains(d->revoked, sess.id, strlen(sess.id), now)) {
        memset(out, 0, sizeof *out);
        return OUTCOME_TOKEN_INVALID;
    }
    if (!jwt_amr_parse(sess.amr, &out->amr)) {
        log_error("session %s: its stored amr is not one gatehouse writes", sess.id);
        memset(out, 0, sizeof *out);
        return OUTCOME_ERROR;
    }
    out->user_id = sess.user_id;
    snprintf(out->sid, sizeof out->sid, "%s", sess.id);
    out->auth_time = sess.created_at;
    return OUTCOME_OK;
}

/* ------------------------------------------------------------ consents */

static enum outcome consent_of(store *s, int64_t user_id, const char *client_id, unsigned *granted)
{
    char text[OIDC_SCOPE_MAX + 1];

    *granted = 0;
    enum store_status st = store_oidc_consent_of(s, user_id, client_id, text);
    if (st != STORE_OK)
        return outcome_from_store(st, OUTCOME_ERROR);
    if (text[0] != '\0' && !oidc_scope_parse(text, strlen(text), granted))
        *granted = 0; /* not ours: ask again */
    return OUTCOME_OK;
}

enum outcome oidc_consent_covers(store *s, int64_t user_id, const char *client_id, unsigned scopes,
                                 bool *covered)
{
    unsigned granted = 0;
    enum outcome o = consent_of(s, user_id, client_id, &granted);

    *covered = o == OUTCOME_OK && (scopes & ~granted) == 0;
    return o;
}

enum outcome oidc_consent_grant(store *s, int64_t user_id, const char *client_id, unsigned scopes,
                                int64_t now)
{
    unsigned granted = 0;
    char text[OIDC_SCOPE_MAX + 1];
    enum outcome o = consent_of(s, user_id, client_id, &granted);

    if (o != OUTCOME_OK)
        return o;
    /* The union of what was allowed: a later, smaller request is covered.
     * Two grants racing may keep one set only; its user is asked again. */
    oidc_scope_text(granted | scopes, text);
    return outcome_from_store(store_oidc_consent_put(s, user_id, client_id, text, now),
                              OUTCOME_NOT_FOUND);
}

/* -------------------------------------------------------------- logout */

enum outcome oidc_logout(const struct sessions_deps *d, const char *sid)
{
    struct sessions_batch b = {0};
    struct batch_ctx ctx = {&b, false};
    int64_t now = timefmt_now();
    store_tx tx;

    if (sid == NULL || sid[0] == '\0' || strlen(sid) > STORE_ID_MAX)
        return OUTCOME_TOKEN_INVALID;
    b.until = sessions_revoked_until(d, now);
    enum store_status st = store_begin(d->store, &tx);
    if (st != STORE_OK)
        return outcome_from_store(st, OUTCOME_ERROR);
    st = store_sessions_revoke_of_sso(d->store, &tx, sid, now, batch_one, &ctx);
    if (st == STORE_OK && ctx.failed)
        st = STORE_ERROR;
    /* The sign-in itself even when it was revoked already (purged, or by
     * another door): its tokens are refused all the same. */
    if (st == STORE_OK && b.count == 0 && sessions_batch_add(&b, sid) != 0)
        st = STORE_ERROR;
    st = finish_revocations(d, &tx, &b, st);
    return outcome_from_store(st, OUTCOME_ERROR);
}

/* --------------------------------------------------------------- purge */

void oidc_purge(store *s, int64_t now)
{
    int64_t codes = 0;

    if (store_oidc_codes_purge(s, now - CODE_KEEP_SECONDS, &codes) != STORE_OK) {
        log_warn("purging expired authorization codes failed; retrying at the next interval");
        return;
    }
    if (codes > 0)
        log_info("purged %lld expired authorization %s", (long long)codes,
                 codes == 1 ? "code" : "codes");
}
