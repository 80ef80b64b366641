#include "core/passkeys.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/outcome_store.h"
#include "core/webauthn.h"
#include "store/store.h"
#include "util/b64.h"
#include "util/kdf.h"
#include "util/log.h"
#include "util/timefmt.h"
#include "util/utf8.h"

#define PUBLIC_ID_BYTES 16                /* a passkey's id: base64url of 16 random bytes */
#define FAKE_IDS_MAX    2                 /* fake credential ids of a name: 1 or 2 */
#define B64_LEN(n)      (((n)*4 + 2) / 3) /* b64url_encoded_len, as a constant */

/* The binary members of a response, decoded. */
struct response {
    unsigned char raw_id[WEBAUTHN_CREDENTIAL_ID_MAX];
    size_t raw_len;
    unsigned char client_data[PASSKEYS_CLIENT_DATA_MAX];
    size_t cdlen;
    unsigned char attestation[PASSKEYS_ATTESTATION_MAX]; /* registration */
    size_t aolen;
    unsigned char auth_data[PASSKEYS_AUTH_DATA_MAX]; /* assertion */
    size_t adlen;
    unsigned char signature[PASSKEYS_SIGNATURE_MAX];
    size_t siglen;
    unsigned char user_handle[PASSKEYS_USER_HANDLE_MAX];
    size_t hlen; /* 0: none sent (or null) */
};

void passkeys_handle_key(unsigned char key[32], const char *secret, size_t slen)
{
    if (secret == NULL)
        randombytes_buf(key, 32);
    else
        kdf_from_setting(key, 32, 1, "ghpkfake", secret, slen);
}

/* ---- reading a response ------------------------------------------------- */

/* What is wrong with a response that cannot be read: the member (a static
 * string, "response.signature"), what (static), and the limit it passed
 * (0: none). Never a secret: the log shows it. */
struct flaw {
    const char *member;
    const char *what;
    size_t limit;
};

static bool flawed(struct flaw *f, const char *member, const char *what, size_t limit)
{
    *f = (struct flaw){member, what, limit};
    return false;
}

/* Decodes the base64url string member name of o (a JSON object; label
 * names it in a flaw) into dst (cap bytes): false when it is missing, not
 * a string, not base64url, or longer than cap decoded. */
static bool member_b64(const json_t *o, const char *name, const char *label, unsigned char *dst,
                       size_t cap, size_t *len, struct flaw *f)
{
    json_t *v = json_object_get(o, name);

    if (v == NULL || !json_is_string(v))
        return flawed(f, label, "missing or not a string", 0);
    size_t n = json_string_length(v);
    if (n > b64url_encoded_len(cap))
        return flawed(f, label, "longer than this server accepts", cap);
    long got = b64url_decode_public(dst, cap, json_string_value(v), n);
    if (got < 0)
        return flawed(f, label, "not base64url (RFC 4648 §5, without padding)", 0);
    *len = (size_t)got;
    return true;
}

/* The members both ceremonies' responses have: rawId (or id), type,
 * response.clientDataJSON; response is set to the inner object. */
static bool read_common(const json_t *cred, struct response *r, const json_t **response,
                        struct flaw *f)
{
    const json_t *type = json_object_get(cred, "type");
    const char *idname = json_object_get(cred, "rawId") != NULL ? "rawId" : "id";

    if (!json_is_object(cred))
        return flawed(f, "credential", "not an object", 0);
    if (type != NULL &&
        !(json_is_string(type) && strcmp(json_string_value(type), "public-key") == 0))
        return flawed(f, "type", "not \"public-key\"", 0);
    if (!member_b64(cred, idname, idname, r->raw_id, sizeof r->raw_id, &r->raw_len, f))
        return false;
    if (r->raw_len == 0)
        return flawed(f, idname, "empty", 0);
    *response = json_object_get(cred, "response");
    if (!json_is_object(*response))
        return flawed(f, "response", "missing or not an object", 0);
    return member_b64(*response, "clientDataJSON", "response.clientDataJSON", r->client_data,
                      sizeof r->client_data, &r->cdlen, f);
}

static bool read_registration(const json_t *cred, struct response *r, struct flaw *f)
{
    const json_t *resp = NULL;

    return read_common(cred, r, &resp, f) &&
           member_b64(resp, "attestationObject", "response.attestationObject", r->attestation,
                      sizeof r->attestation, &r->aolen, f);
}

static bool read_assertion(const json_t *cred, struct response *r, struct flaw *f)
{
    const json_t *resp = NULL;

    if (!read_common(cred, r, &resp, f) ||
        !member_b64(resp, "authenticatorData", "response.authenticatorData", r->auth_data,
                    sizeof r->auth_data, &r->adlen, f) ||
        !member_b64(resp, "signature", "response.signature", r->signature, sizeof r->signature,
                    &r->siglen, f))
        return false;
    r->hlen = 0;
    const json_t *h = json_object_get(resp, "userHandle");
    if (h == NULL || json_is_null(h))
        return true;
    return member_b64(resp, "userHandle", "response.userHandle", r->user_handle,
                      sizeof r->user_handle, &r->hlen, f);
}

/* The challenge clientDataJSON names, as sent (base64url), into out: the
 * registration's flow token. */
static bool client_challenge(const struct response *r, char out[FLOWS_TOKEN_LEN + 1])
{
    json_t *cd = json_loadb((const char *)r->client_data, r->cdlen, JSON_REJECT_DUPLICATES, NULL);
    json_t *c = json_object_get(cd, "challenge");
    bool ok = json_is_string(c) && json_string_length(c) == FLOWS_TOKEN_LEN;

    if (ok)
        memcpy(out, json_string_value(c), FLOWS_TOKEN_LEN + 1);
    json_decref(cd);
    return ok;
}

/* ---- JSON of the options ------------------------------------------------ */

static json_t *b64_string(const unsigned char *p, size_t n)
{
    char buf[B64_LEN(WEBAUTHN_CREDENTIAL_ID_MAX) + 1];

    if (n > WEBAUTHN_CREDENTIAL_ID_MAX)
        return NULL;
    b64url_encode(buf, p, n);
    return json_string(buf);
}

/* PublicKeyCredentialDescriptorJSON (§5.10.3). */
static json_t *descriptor(const unsigned char *id, size_t len)
{
    return json_pack("{s:s, s:o*}", "type", "public-key", "id", b64_string(id, len));
}

static int add_descriptor(void *arg, const struct store_passkey *p)
{
    json_t *d = descriptor(p->credential_id, p->credential_id_len);

    return d != NULL && json_array_append_new(arg, d) == 0 ? 0 : -1;
}

/* The descriptors of user_id's passkeys. */
static enum outcome descriptors_of(const struct passkeys_deps *d, int64_t user_id, json_t **out)
{
    *out = json_array();
    if (*out == NULL)
        return OUTCOME_ERROR;
    enum store_status st = store_passkeys_of_user(d->store, NULL, user_id, add_descriptor, *out);
    if (st != STORE_OK) {
        json_decref(*out);
        *out = NULL;
    }
    return outcome_from_store(st, OUTCOME_ERROR);
}

static char *dump(json_t *o)
{
    char *s = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;

    json_decref(o);
    return s;
}

/* ---- registration --------------------------------------------------------- */

enum outcome passkeys_register_options(const struct passkeys_deps *d, const struct user *u,
                                       int64_t now, char **json)
{
    unsigned char fresh[STORE_WEBAUTHN_HANDLE], handle[STORE_WEBAUTHN_HANDLE];
    char token[FLOWS_TOKEN_LEN + 1];
    json_t *exclude = NULL;

    *json = NULL;
    if (d->rp_id == NULL)
        return OUTCOME_PASSKEYS_OFF;
    randombytes_buf(fresh, sizeof fresh);
    enum outcome o = outcome_from_store(
        store_user_webauthn_handle(d->store, NULL, u->id, fresh, handle), OUTCOME_TOKEN_INVALID);
    if (o == OUTCOME_OK)
        o = descriptors_of(d, u->id, &exclude);
    /* The flow's token is the challenge (passkeys.h): 32 random bytes. */
    if (o == OUTCOME_OK)
        o = flows_begin(d->store, FLOWS_PASSKEY_REGISTER, u->id, u->credential_version, NULL, now,
                        token);
    if (o != OUTCOME_OK) {
        json_decref(exclude);
        return o;
    }
    json_t *opt = json_pack(
        "{s:{s:s, s:s}, s:{s:o*, s:s, s:s}, s:s, s:[{s:s, s:i}, {s:s, s:i}, {s:s, s:i}], s:i, s:o, "
        "s:{s:s, s:b, s:s}, s:s}",
        "rp", "id", d->rp_id, "name", d->rp_name != NULL ? d->rp_name : "gatehouse", "user", "id",
        b64_string(handle, sizeof handle), "name", u->username, "displayName", u->username,
        "challenge", token, "pubKeyCredParams", "type", "public-key", "alg", WEBAUTHN_EDDSA, "type",
        "public-key", "alg", WEBAUTHN_ES256, "type", "public-key", "alg", WEBAUTHN_RS256, "timeout",
        PASSKEYS_TIMEOUT_MS, "excludeCredentials", exclude, "authenticatorSelection", "residentKey",
        "preferred", "requireResidentKey", 0, "userVerification", "preferred", "attestation",
        "none");
    sodium_memzero(token, sizeof token);
    *json = dump(opt);
    return *json != NULL ? OUTCOME_OK : OUTCOME_ERROR;
}

/* A name as given: NULL or absent takes the default; otherwise 1 to
 * PASSKEYS_NAME_MAX characters without control characters. */
static bool name_ok(const char *name, struct outcome_errors *errs)
{
    size_t n = name != NULL ? strlen(name) : 0;
    long chars = name != NULL ? utf8_count(name, n) : 1;
    bool control = false;

    for (size_t i = 0; name != NULL && i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        /* C0 and DEL; C1 is U+0080..U+009F, 0xC2 0x80..0x9F in UTF-8. */
        control = control || c < 0x20 || c == 0x7f ||
                  (c == 0xc2 && i + 1 < n && (unsigned char)name[i + 1] < 0xa0);
    }
    if (chars < 1 || chars > PASSKEYS_NAME_MAX || n > STORE_PASSKEY_NAME_MAX) {
        outcome_error_add(errs, "name", chars < 1 ? "too_short" : "too_long",
                          "must be 1 to %d characters", PASSKEYS_NAME_MAX);
        return false;
    }
    if (control) {
        outcome_error_add(errs, "name", "invalid", "must not hold control characters");
        return false;
    }
    return true;
}

/* The 422 of a response that does not verify. */
static enum outcome refused_registration(struct outcome_detail *detail, const char *code,
                                         const char *why)
{
    outcome_error_add(&detail->errors, "credential", code, "%s", why);
    return OUTCOME_INVALID;
}

/* Uses up the registration flow the response's challenge names; it must be
 * user_id's. */
static enum outcome take_register_flow(const struct passkeys_deps *d, int64_t user_id,
                                       const struct response *r, int64_t now,
                                       unsigned char challenge[FLOWS_CHALLENGE_LEN],
                                       struct outcome_detail *detail)
{
    char token[FLOWS_TOKEN_LEN + 1];
    struct flows_flow flow;
    static const char stale[] = "the challenge is not one this server issued to this account, "
                                "or it was used or has expired";

    if (!client_challenge(r, token) || b64url_decode(challenge, FLOWS_CHALLENGE_LEN, token,
                                                     FLOWS_TOKEN_LEN) != FLOWS_CHALLENGE_LEN)
        return refused_registration(detail, "bad_challenge", stale);
    enum outcome o =
        flows_get(d->store, FLOWS_PASSKEY_REGISTER, token, FLOWS_TOKEN_LEN, now, &flow);
    if (o == OUTCOME_OK)
        o = flows_finish(d->store, token, FLOWS_TOKEN_LEN, now);
    sodium_memzero(token, sizeof token);
    if (o == OUTCOME_BAD_CODE || (o == OUTCOME_OK && flow.user_id != user_id))
        return refused_registration(detail, "bad_challenge", stale);
    return o;
}

static const char *status_code(enum webauthn_status s)
{
    switch (s) {
    case WEBAUTHN_BAD_TYPE: return "bad_type";
    case WEBAUTHN_BAD_CHALLENGE: return "bad_challenge";
    case WEBAUTHN_BAD_ORIGIN: return "bad_origin";
    case WEBAUTHN_BAD_RP_ID: return "bad_rp_id";
    case WEBAUTHN_NO_USER_PRESENCE: return "no_user_presence";
    case WEBAUTHN_NO_USER_VERIFIED: return "no_user_verification";
    case WEBAUTHN_BAD_KEY: return "bad_key";
    case WEBAUTHN_UNSUPPORTED_ALG: return "unsupported_alg";
    case WEBAUTHN_BAD_ATTESTATION: return "bad_attestation";
    case WEBAUTHN_BAD_SIGNATURE: return "bad_signature";
    default: return "malformed";
    }
}

/* Stores cred for user_id; *json the answer. */
/* Ends tx after the write st: with the audit event its caller holds, if
 * any, committed together (store_audit_hold), or rolled back. */
static enum store_status commit_with_event(store *s, store_tx *tx, enum store_status st,
                                           int64_t user_id)
{
    if (st == STORE_OK)
        st = store_audit_held_add(s, tx, user_id);
    if (st == STORE_OK)
        return store_commit(tx);
    store_rollback(tx);
    return st;
}

static enum outcome store_credential(const struct passkeys_deps *d, int64_t user_id,
                                     const struct webauthn_credential *cred, const char *name,
                                     int64_t now, char **json, struct outcome_detail *detail)
{
    struct store_passkey *p = calloc(1, sizeof *p);
    unsigned char rnd[PUBLIC_ID_BYTES];
    char when[32];

    if (p == NULL)
        return OUTCOME_ERROR;
    randombytes_buf(rnd, sizeof rnd);
    b64url_encode(p->id, rnd, sizeof rnd);
    p->user_id = user_id;
    memcpy(p->credential_id, cred->id, cred->id_len);
    p->credential_id_len = cred->id_len;
    memcpy(p->public_key, cred->cose_key, cred->cose_len);
    p->public_key_len = cred->cose_len;
    p->alg = cred->alg;
    p->sign_count = cred->sign_count;
    snprintf(p->name, sizeof p->name, "%s", name != NULL ? name : PASSKEYS_DEFAULT_NAME);
    p->created_at = now;
    store_tx tx;
    enum store_status st = store_begin(d->store, &tx);
    if (st == STORE_OK)
        st = commit_with_event(d->store, &tx, store_passkey_add(d->store, &tx, p), user_id);
    enum outcome o = outcome_from_store(st, OUTCOME_TOKEN_INVALID);
    if (st == STORE_CONFLICT)
        o = refused_registration(detail, "registered",
                                 "this credential is registered already (the authenticator "
                                 "should have refused it: excludeCredentials)");
    if (o == OUTCOME_OK) {
        *json = dump(json_pack("{s:s, s:s, s:s}", "id", p->id, "name", p->name, "created_at",
                               timefmt_rfc3339(when, sizeof when, now)));
        if (*json == NULL)
            o = OUTCOME_ERROR;
    }
    free(p);
    return o;
}

enum outcome passkeys_register(const struct passkeys_deps *d, int64_t user_id,
                               const json_t *response, const char *name, int64_t now, char **json,
                               struct outcome_detail *detail)
{
    unsigned char challenge[FLOWS_CHALLENGE_LEN];
    struct flaw f = {0};

    *json = NULL;
    if (d->rp_id == NULL)
        return OUTCOME_PASSKEYS_OFF;
    if (!name_ok(name, &detail->errors))
        return OUTCOME_INVALID;
    struct response *r = malloc(sizeof *r);
    struct webauthn_credential *cred = malloc(sizeof *cred);
    enum outcome o = OUTCOME_ERROR;
    if (r == NULL || cred == NULL)
        goto out;
    if (!read_registration(response, r, &f)) {
        if (f.limit > 0)
            outcome_error_add(&detail->errors, "credential", "too_long",
                              "%s: longer than this server accepts (%zu bytes decoded)", f.member,
                              f.limit);
        else
            outcome_error_add(&detail->errors, "credential", "malformed", "%s: %s", f.member,
                              f.what);
        o = OUTCOME_INVALID;
        goto out;
    }
    o = take_register_flow(d, user_id, r, now, challenge, detail);
    if (o != OUTCOME_OK)
        goto out;
    struct webauthn_expect e = {
        "webauthn.create", challenge, sizeof challenge, d->origins, d->norigins, d->rp_id, false};
    enum webauthn_status ws =
        webauthn_verify_registration(&e, r->client_data, r->cdlen, r->attestation, r->aolen, cred);
    if (ws == WEBAUTHN_NOMEM || ws == WEBAUTHN_UNAVAILABLE) {
        log_error("passkeys: registration not checked: %s", webauthn_status_text(ws));
        o = OUTCOME_ERROR;
    } else if (ws != WEBAUTHN_OK) {
        o = refused_registration(detail, status_code(ws), webauthn_status_text(ws));
    } else if (cred->id_len != r->raw_len || memcmp(cred->id, r->raw_id, r->raw_len) != 0) {
        o = refused_registration(detail, "malformed",
                                 "rawId is not the credential id of the authenticator data");
    } else {
        o = store_credential(d, user_id, cred, name, now, json, detail);
    }
out:
    free(r);
    free(cred);
    return o;
}

/* ---- list and delete -------------------------------------------------------- */

static int add_listed(void *arg, const struct store_passkey *p)
{
    char made[32], used[32];
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s?, s:b}", "id", p->id, "name", p->name, "created_at",
                  timefmt_rfc3339(made, sizeof made, p->created_at), "last_used_at",
                  p->last_used_at != 0 ? timefmt_rfc3339(used, sizeof used, p->last_used_at) : NULL,
                  "cloned", p->cloned_at != 0);

    return o != NULL && json_array_append_new(arg, o) == 0 ? 0 : -1;
}

enum outcome passkeys_list(const struct passkeys_deps *d, int64_t user_id, char **json)
{
    *json = NULL;
    if (d->rp_id == NULL)
        return OUTCOME_PASSKEYS_OFF;
    json_t *a = json_array();
    if (a == NULL)
        return OUTCOME_ERROR;
    enum store_status st = store_passkeys_of_user(d->store, NULL, user_id, add_listed, a);
    if (st != STORE_OK) {
        json_decref(a);
        return outcome_from_store(st, OUTCOME_ERROR);
    }
    *json = dump(a);
    return *json != NULL ? OUTCOME_OK : OUTCOME_ERROR;
}

enum outcome passkeys_delete(const struct passkeys_deps *d, int64_t user_id, const char *id)
{
    if (d->rp_id == NULL)
        return OUTCOME_PASSKEYS_OFF;
    if (strlen(id) > STORE_PASSKEY_ID_MAX)
        return OUTCOME_NOT_FOUND;
    store_tx tx;
    enum store_status st = store_begin(d->store, &tx);
    if (st == STORE_OK)
        st = commit_with_event(d->store, &tx, store_passkey_delete(d->store, &tx, user_id, id),
                               user_id);
    return outcome_from_store(st, OUTCOME_NOT_FOUND);
}

/* ---- sign-in ------------------------------------------------------------------ */

/* The fake credential ids of a name that has no passkeys (no account, or
 * an account without any): one or two, 16 to 64 bytes, each a keyed hash
 * of the name's key, so that the same name always gets the same ids and
 * nobody without handle_key can tell them from real ones. */
static json_t *fake_descriptors(const struct passkeys_deps *d, const char *key, size_t klen)
{
    unsigned char seed[crypto_generichash_BYTES], id[64];
    json_t *a = json_array();

    crypto_generichash(seed, sizeof seed, (const unsigned char *)key, klen, d->handle_key,
                       sizeof d->handle_key);
    int n = 1 + (seed[0] & 1);
    for (int i = 0; a != NULL && i < n && i < FAKE_IDS_MAX; i++) {
        size_t len = 16u * (1u + (seed[1 + i] & 3u));
        unsigned char in[sizeof seed + 1];
        memcpy(in, seed, sizeof seed);
        in[sizeof seed] = (unsigned char)i;
        crypto_generichash(id, len, in, sizeof in, d->handle_key, sizeof d->handle_key);
        if (json_array_append_new(a, descriptor(id, len)) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    return a;
}

/* The allowCredentials of a sign-in with a username, and the flow's user
 * (0: none: the flow is not stored, and every answer to it is refused). */
static enum outcome allowed_for_name(const struct passkeys_deps *d, const char *username,
                                     size_t ulen, json_t **allow, int64_t *user_id)
{
    char key[USERNAME_STORED_MAX + 1];
    struct store_user su;
    int64_t n = 0;

    *allow = NULL;
    *user_id = 0;
    /* A name no account can have (the caller has checked its length) is
     * keyed as it is, and looked up nowhere. */
    enum store_status st = STORE_NOT_FOUND;
    size_t klen = ulen < USERNAME_STORED_MAX ? ulen : USERNAME_STORED_MAX;
    if (username_storable(username, ulen)) {
        username_key_any(key, username, ulen);
        klen = strlen(key);
        st = store_user_by_key(d->store, NULL, key, &su);
        sodium_memzero(su.password_hash, sizeof su.password_hash);
    } else {
        memcpy(key, username, klen);
    }
    if (st == STORE_OK)
        st = store_passkeys_count(d->store, NULL, su.id, &n);
    if (st != STORE_OK && st != STORE_NOT_FOUND)
        return outcome_from_store(st, OUTCOME_ERROR);
    if (st == STORE_OK && n > 0) {
        *user_id = su.id;
        return descriptors_of(d, su.id, allow);
    }
    *allow = fake_descriptors(d, key, klen);
    return *allow != NULL ? OUTCOME_OK : OUTCOME_ERROR;
}

enum outcome passkeys_login_options(const struct passkeys_deps *d, const char *username,
                                    size_t ulen, int64_t now, char **json)
{
    unsigned char challenge[FLOWS_CHALLENGE_LEN];
    char token[FLOWS_TOKEN_LEN + 1];
    json_t *allow = NULL;
    int64_t user_id = 0;
    enum outcome o = OUTCOME_OK;

    *json = NULL;
    if (d->rp_id == NULL)
        return OUTCOME_PASSKEYS_OFF;
    randombytes_buf(challenge, sizeof challenge);
    if (username != NULL)
        o = allowed_for_name(d, username, ulen, &allow, &user_id);
    if (o != OUTCOME_OK)
        return o;
    /* A name without passkeys gets a flow stored as any other (the same
     * work, the same form) but without its challenge: whatever answers it
     * is refused (passkeys_login), as it would be at the account's own
     * flow. A flow of no user must not be one any passkey can answer. */
    bool fake = username != NULL && user_id == 0;
    o = flows_begin(d->store, FLOWS_PASSKEY_LOGIN, user_id, 0, fake ? NULL : challenge, now, token);
    if (o != OUTCOME_OK) {
        json_decref(allow);
        return o;
    }
    char cbuf[B64_LEN(FLOWS_CHALLENGE_LEN) + 1];
    b64url_encode(cbuf, challenge, sizeof challenge);
    /* Username-less: no allowCredentials at all (§5.5: the authenticator
     * offers its discoverable credentials). */
    json_t *opt = json_pack("{s:s, s:i, s:s}", "challenge", cbuf, "timeout", PASSKEYS_TIMEOUT_MS,
                            "rpId", d->rp_id);
    if (opt != NULL && allow != NULL && json_object_set_new(opt, "allowCredentials", allow) != 0)
        json_object_clear(opt);
    if (opt != NULL &&
        (json_object_set_new(opt, "userVerification", json_string("required")) != 0 ||
         json_object_set_new(opt, "flow_id", json_string(token)) != 0)) {
        json_decref(opt);
        opt = NULL;
    }
    sodium_memzero(token, sizeof token);
    *json = dump(opt);
    return *json != NULL ? OUTCOME_OK : OUTCOME_ERROR;
}

/* What an assertion is checked against. */
struct assertion_check {
    int64_t user_id; /* the passkey must be this user's; 0: anyone's */
    const unsigned char *challenge;
    bool require_uv;
};

/* Checks the counter of passkey p against the assertion's (§6.1.1): one
 * that does not move on while either is nonzero marks p cloned. Records
 * the use, compare-and-set, so that of two assertions carrying one counter
 * only one passes. */
static enum outcome check_counter(const struct passkeys_deps *d, const struct store_passkey *p,
                                  uint32_t next, int64_t now, const char **reason)
{
    int64_t stored = p->sign_count;

    if ((stored != 0 || next != 0) && (int64_t)next <= stored) {
        enum store_status st = store_passkey_cloned(d->store, NULL, p->id, now);
        log_warn("passkey %s of user %lld: its signature counter went from %lld to %lu: marked "
                 "as possibly cloned and refused%s",
                 p->id, (long long)p->user_id, (long long)stored, (unsigned long)next,
                 st == STORE_OK ? "" : " (the mark could not be stored)");
        *reason = PASSKEYS_REASON_CLONED;
        return OUTCOME_PASSKEY_REFUSED;
    }
    enum store_status st = store_passkey_counter(d->store, NULL, p->id, stored, next, now);
    if (st == STORE_NOT_FOUND) {
        *reason = "another assertion of this passkey came first";
        return OUTCOME_PASSKEY_REFUSED;
    }
    return outcome_from_store(st, OUTCOME_PASSKEY_REFUSED);
}

/* The user handle sent must be the owner's (§7.2 step 6). */
static enum outcome check_handle(const struct passkeys_deps *d, const struct response *r,
                                 int64_t owner, const char **reason)
{
    unsigned char fresh[STORE_WEBAUTHN_HANDLE], handle[STORE_WEBAUTHN_HANDLE];

    if (r->hlen == 0)
        return OUTCOME_OK;
    randombytes_buf(fresh, sizeof fresh);
    enum store_status st = store_user_webauthn_handle(d->store, NULL, owner, fresh, handle);
    if (st != STORE_OK && st != STORE_NOT_FOUND)
        return outcome_from_store(st, OUTCOME_PASSKEY_REFUSED);
    if (st == STORE_NOT_FOUND || r->hlen != sizeof handle ||
        sodium_memcmp(handle, r->user_handle, sizeof handle) != 0) {
        *reason = "userHandle is not the passkey owner's";
        return OUTCOME_PASSKEY_REFUSED;
    }
    return OUTCOME_OK;
}

/* §7.2 around webauthn_verify_assertion: the stored credential, its owner,
 * the signature, the counter. *owner receives the passkey's user. */
static enum outcome check_assertion(const struct passkeys_deps *d, const json_t *credential,
                                    const struct assertion_check *c, int64_t now, int64_t *owner,
                                    const char **reason)
{
    struct response *r = malloc(sizeof *r);
    struct store_passkey *p = malloc(sizeof *p);
    struct webauthn_assertion a;
    enum outcome o = OUTCOME_PASSKEY_REFUSED;

    if (r == NULL || p == NULL) {
        o = OUTCOME_ERROR;
        goto out;
    }
    struct flaw f = {0};
    if (!read_assertion(credential, r, &f)) {
        *reason = f.limit > 0 ? "a member is longer than this server accepts"
                              : "the credential is not an AuthenticationResponseJSON";
        goto out;
    }
    enum store_status st = store_passkey_by_credential(d->store, NULL, r->raw_id, r->raw_len, p);
    if (st == STORE_NOT_FOUND) {
        *reason = "unknown credential";
        goto out;
    }
    if (st != STORE_OK) {
        o = outcome_from_store(st, OUTCOME_ERROR);
        goto out;
    }
    *owner = p->user_id;
    if (c->user_id != 0 && p->user_id != c->user_id) {
        *reason = "the passkey is not the account's";
        goto out;
    }
    if (p->cloned_at != 0) {
        *reason = "the passkey is marked as possibly cloned";
        goto out;
    }
    o = check_handle(d, r, p->user_id, reason);
    if (o != OUTCOME_OK)
        goto out;
    struct webauthn_expect e = {"webauthn.get", c->challenge, FLOWS_CHALLENGE_LEN, d->origins,
                                d->norigins,    d->rp_id,     c->require_uv};
    enum webauthn_status ws =
        webauthn_verify_assertion(&e, p->public_key, p->public_key_len, r->client_data, r->cdlen,
                                  r->auth_data, r->adlen, r->signature, r->siglen, &a);
    if (ws == WEBAUTHN_NOMEM || ws == WEBAUTHN_UNAVAILABLE) {
        log_error("passkeys: assertion not checked: %s", webauthn_status_text(ws));
        o = OUTCOME_ERROR;
    } else if (ws != WEBAUTHN_OK) {
        *reason = webauthn_status_text(ws);
        o = OUTCOME_PASSKEY_REFUSED;
    } else {
        o = check_counter(d, p, a.sign_count, now, reason);
    }
out:
    free(r);
    free(p);
    return o;
}

/* The user a passkey sign-in opens a session for. */
static enum outcome user_of(const struct passkeys_deps *d, int64_t id, struct user *out)
{
    struct store_user su;
    enum store_status st = store_user_by_id(d->store, NULL, id, &su);

    sodium_memzero(su.password_hash, sizeof su.password_hash);
    if (st != STORE_OK)
        return outcome_from_store(st, OUTCOME_PASSKEY_REFUSED);
    memset(out, 0, sizeof *out);
    out->id = su.id;
    memcpy(out->username, su.username, sizeof out->username);
    out->created_at = su.created_at;
    out->credential_version = su.credential_version;
    return OUTCOME_OK;
}

enum outcome passkeys_login(const struct passkeys_deps *d, const char *flow_id, size_t flen,
                            const json_t *credential, int64_t now, struct user *out,
                            const char **reason)
{
    struct flows_flow flow;
    int64_t owner = 0;

    *reason = NULL;
    if (d->rp_id == NULL)
        return OUTCOME_PASSKEYS_OFF;
    enum outcome o = flows_get(d->store, FLOWS_PASSKEY_LOGIN, flow_id, flen, now, &flow);
    /* Used up before anything else is looked at, whatever the verdict:
     * one answer per challenge. */
    if (o == OUTCOME_OK)
        o = flows_finish(d->store, flow_id, flen, now);
    /* The flow of a name without passkeys has none (passkeys_login_options). */
    if (o == OUTCOME_OK && !flow.has_challenge)
        o = OUTCOME_BAD_CODE;
    if (o == OUTCOME_BAD_CODE) {
        *reason = "flow_id unknown, used or expired";
        return OUTCOME_PASSKEY_REFUSED;
    }
    if (o != OUTCOME_OK)
        return o;
    struct assertion_check c = {flow.user_id, flow.challenge, true};
    o = check_assertion(d, credential, &c, now, &owner, reason);
    if (o == OUTCOME_OK)
        o = user_of(d, owner, out);
    if (o == OUTCOME_PASSKEY_REFUSED && *reason == NULL)
        *reason = "the account is gone";
    return o;
}

json_t *passkeys_mfa_options(const struct passkeys_deps *d, int64_t user_id,
                             const unsigned char challenge[FLOWS_CHALLENGE_LEN])
{
    char cbuf[B64_LEN(FLOWS_CHALLENGE_LEN) + 1];
    json_t *allow = NULL;

    if (d->rp_id == NULL || descriptors_of(d, user_id, &allow) != OUTCOME_OK)
        return NULL;
    b64url_encode(cbuf, challenge, FLOWS_CHALLENGE_LEN);
    /* The password was the first factor: the key's presence is the second
     * (API.md: amr "pwd hwk"), its user need not be verified again. */
    return json_pack("{s:s, s:i, s:s, s:o, s:s}", "challenge", cbuf, "timeout", PASSKEYS_TIMEOUT_MS,
                     "rpId", d->rp_id, "allowCredentials", allow, "userVerification",
                     "discouraged");
}

enum outcome passkeys_check_for_user(const struct passkeys_deps *d, int64_t user_id,
                                     const unsigned char challenge[FLOWS_CHALLENGE_LEN],
                                     const json_t *credential, int64_t now)
{
    struct assertion_check c = {user_id, challenge, false};
    const char *reason = NULL;
    int64_t owner = 0;

    if (d->rp_id == NULL || user_id == 0)
        return OUTCOME_PASSKEY_REFUSED;
    enum outcome o = check_assertion(d, credential, &c, now, &owner, &reason);
    if (o == OUTCOME_PASSKEY_REFUSED)
        log_info("passkey as second factor of user %lld refused: %s", (long long)user_id,
                 reason != NULL ? reason : "refused");
    return o;
}
