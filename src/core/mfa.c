#include "core/mfa.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/outcome_store.h"
#include "core/totp.h"
#include "store/store.h"
#include "util/kdf.h"
#include "util/log.h"
#include "util/qrsvg.h"

/* libsodium's KDF context of these keys: eight bytes of their own, so
 * that no key derived from SECRET_KEY elsewhere is one of them. */
#define KDF_CONTEXT   "gh-mfa__"
#define SUBKEY_SECRET 1 /* d->key: TOTP secrets */
#define SUBKEY_CODES  2 /* d->code_key: recovery code hashes */

/* A sealed secret: nonce, then secretbox (MAC and ciphertext). */
#define SEALED_LEN (crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + TOTP_SECRET_LEN)
_Static_assert(SEALED_LEN <= STORE_TOTP_SECRET_MAX, "a sealed secret fits its column");

/* Recovery codes: RECOVERY_CHARS characters of an alphabet without the
 * look-alikes 0/o, 1/l/i (31 symbols: 12 of them hold 59 bits), shown in
 * groups of RECOVERY_GROUP joined by '-'. */
#define RECOVERY_CHARS 12
#define RECOVERY_GROUP 4
static const char recovery_alphabet[] = "23456789abcdefghjkmnpqrstuvwxyz";
_Static_assert(RECOVERY_CHARS + RECOVERY_CHARS / RECOVERY_GROUP - 1 <= MFA_RECOVERY_CODE_MAX,
               "a shown recovery code fits MFA_RECOVERY_CODE_MAX");

/* How long a token whose amr holds hwk stands in for a code (API.md). */
#define HWK_FRESH_SECONDS 300

void mfa_deps_init(struct mfa_deps *d, store *s, const char *mfa_key, size_t mlen,
                   const char *secret, size_t slen, const char *issuer)
{
    const char *from = mfa_key != NULL ? mfa_key : secret;
    size_t flen = mfa_key != NULL ? mlen : slen;

    memset(d, 0, sizeof *d);
    d->store = s;
    snprintf(d->issuer, sizeof d->issuer, "%s",
             issuer != NULL && issuer[0] != '\0' ? issuer : "gatehouse");
    if (from == NULL)
        return;
    kdf_from_setting(d->key, sizeof d->key, SUBKEY_SECRET, KDF_CONTEXT, from, flen);
    kdf_from_setting(d->code_key, sizeof d->code_key, SUBKEY_CODES, KDF_CONTEXT, from, flen);
    d->keyed = true;
}

int mfa_seal(const unsigned char key[32], const unsigned char *secret, size_t len,
             unsigned char *out, size_t cap, size_t *out_len)
{
    size_t n = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + len;

    if (n > cap)
        return -1;
    randombytes_buf(out, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES, secret, len, out, key);
    *out_len = n;
    return 0;
}

int mfa_open(const unsigned char key[32], const unsigned char *sealed, size_t len,
             unsigned char *out, size_t cap, size_t *out_len)
{
    const size_t over = crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES;

    if (len < over || len - over > cap)
        return -1;
    if (crypto_secretbox_open_easy(out, sealed + crypto_secretbox_NONCEBYTES,
                                   len - crypto_secretbox_NONCEBYTES, sealed, key) != 0)
        return -1;
    *out_len = len - over;
    return 0;
}

bool mfa_recovery_normalise(const char *code, size_t len, char out[MFA_RECOVERY_CODE_MAX + 1])
{
    size_t n = 0;

    if (len > MFA_RECOVERY_CODE_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = code[i];
        if (c == '-' || c == ' ')
            continue;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c == '\0' || strchr(recovery_alphabet, c) == NULL)
            return false;
        out[n++] = c;
    }
    out[n] = '\0';
    return n == RECOVERY_CHARS;
}

/* The keyed hash a recovery code (normalised) is stored as. */
static void recovery_hash(const struct mfa_deps *d, const char *norm, unsigned char hash[32])
{
    crypto_generichash(hash, 32, (const unsigned char *)norm, strlen(norm), d->code_key,
                       sizeof d->code_key);
}

/* A new code as shown: groups of RECOVERY_GROUP characters joined by '-'. */
static void recovery_new(char out[MFA_RECOVERY_CODE_MAX + 1])
{
    size_t n = 0;

    for (int i = 0; i < RECOVERY_CHARS; i++) {
        if (i > 0 && i % RECOVERY_GROUP == 0)
            out[n++] = '-';
        out[n++] = recovery_alphabet[randombytes_uniform(sizeof recovery_alphabet - 1)];
    }
    out[n] = '\0';
}

/* Replaces user_id's recovery codes, in tx, with a new set written into
 * codes. */
static enum store_status recovery_replace(const struct mfa_deps *d, store_tx *tx, int64_t user_id,
                                          char codes[MFA_RECOVERY_CODES][MFA_RECOVERY_CODE_MAX + 1])
{
    enum store_status st = store_recovery_codes_delete(d->store, tx, user_id);
    char norm[MFA_RECOVERY_CODE_MAX + 1];
    unsigned char hash[32];

    for (int i = 0; i < MFA_RECOVERY_CODES && st == STORE_OK; i++) {
        /* A repeat within the set (one chance in about 10^16) is drawn
         * again rather than refused by the primary key. */
        bool again;
        do {
            recovery_new(codes[i]);
            again = false;
            for (int j = 0; j < i; j++)
                again = again || strcmp(codes[i], codes[j]) == 0;
        } while (again);
        mfa_recovery_normalise(codes[i], strlen(codes[i]), norm);
        recovery_hash(d, norm, hash);
        st = store_recovery_code_add(d->store, tx, user_id, hash);
    }
    sodium_memzero(norm, sizeof norm);
    return st;
}

/* Commits tx after st (rolls back on a failure); the outcome. */
static enum outcome finish(store_tx *tx, enum store_status st, enum outcome not_found)
{
    if (st != STORE_OK) {
        store_rollback(tx);
        return outcome_from_store(st, not_found);
    }
    return outcome_from_store(store_commit(tx), not_found);
}

/* user_id's TOTP secret, opened: OUTCOME_NOT_FOUND when it has none (or
 * it is pending and confirmed is wanted, or confirmed and pending is). */
static enum outcome secret_of(const struct mfa_deps *d, int64_t user_id, bool confirmed,
                              unsigned char secret[TOTP_SECRET_LEN], struct store_totp *t)
{
    size_t len = 0;
    enum store_status st = store_totp_of(d->store, NULL, user_id, t);

    if (st != STORE_OK)
        return outcome_from_store(st, OUTCOME_NOT_FOUND);
    if ((t->confirmed_at != 0) != confirmed)
        return OUTCOME_NOT_FOUND;
    if (!d->keyed ||
        mfa_open(d->key, t->secret, t->secret_len, secret, TOTP_SECRET_LEN, &len) != 0 ||
        len != TOTP_SECRET_LEN) {
        /* Another key sealed it (SECRET_KEY or MFA_ENCRYPTION_KEY changed),
         * or the row was altered: the operator must know, the user cannot
         * fix it. */
        log_error("user %lld: the stored TOTP secret does not open with this key "
                  "(MFA_ENCRYPTION_KEY or SECRET_KEY changed?)",
                  (long long)user_id);
        return OUTCOME_ERROR;
    }
    return OUTCOME_OK;
}

enum outcome mfa_totp_begin(const struct mfa_deps *d, const struct user *u, int64_t now,
                            struct mfa_setup *out)
{
    unsigned char secret[TOTP_SECRET_LEN], sealed[SEALED_LEN];
    size_t slen = 0;

    memset(out, 0, sizeof *out);
    if (!d->keyed)
        return OUTCOME_MFA_OFF;
    totp_secret_new(secret);
    enum outcome o = OUTCOME_ERROR;
    if (mfa_seal(d->key, secret, sizeof secret, sealed, sizeof sealed, &slen) == 0 &&
        totp_base32(secret, sizeof secret, out->secret) == 0) {
        enum store_status st = store_totp_put(d->store, NULL, u->id, sealed, slen, now);
        o = outcome_from_store(st, OUTCOME_CONFLICT);
    }
    sodium_memzero(secret, sizeof secret);
    if (o == OUTCOME_OK) {
        out->otpauth_uri = totp_uri(d->issuer, u->username, out->secret);
        if (out->otpauth_uri != NULL)
            out->qr_svg = qrsvg_render(out->otpauth_uri, strlen(out->otpauth_uri), NULL);
        if (out->qr_svg == NULL) {
            log_error("user %lld: the otpauth URI or its QR code could not be made",
                      (long long)u->id);
            o = OUTCOME_ERROR;
        }
    }
    if (o != OUTCOME_OK)
        mfa_setup_free(out);
    return o;
}

static void free_wiped(char *s)
{
    if (s != NULL) {
        sodium_memzero(s, strlen(s));
        free(s);
    }
}

void mfa_setup_free(struct mfa_setup *s)
{
    sodium_memzero(s->secret, sizeof s->secret);
    free_wiped(s->otpauth_uri);
    free_wiped(s->qr_svg);
    s->otpauth_uri = NULL;
    s->qr_svg = NULL;
}

enum outcome mfa_totp_confirm(const struct mfa_deps *d, int64_t user_id, const char *code,
                              size_t clen, int64_t now,
                              char codes[MFA_RECOVERY_CODES][MFA_RECOVERY_CODE_MAX + 1])
{
    unsigned char secret[TOTP_SECRET_LEN];
    struct store_totp t;
    enum outcome o = secret_of(d, user_id, false, secret, &t);

    if (o != OUTCOME_OK)
        return o;
    int64_t step =
        clen <= MFA_CODE_MAX ? totp_match(secret, sizeof secret, code, clen, now, t.last_step) : -1;
    sodium_memzero(secret, sizeof secret);
    if (step < 0)
        return OUTCOME_INVALID;
    store_tx tx;
    enum store_status st = store_begin(d->store, &tx);
    if (st != STORE_OK)
        return outcome_from_store(st, OUTCOME_ERROR);
    /* The secret goes on and the codes are written together: a second
     * factor is never on without its way back. */
    /* The secret checked, not one a concurrent enrolment put in its place
     * meanwhile, which no code has proven the user holds. */
    st = store_totp_confirm(d->store, &tx, user_id, t.secret, t.secret_len, step, now);
    if (st == STORE_OK)
        st = recovery_replace(d, &tx, user_id, codes);
    if (st == STORE_OK)
        st = store_audit_held_add(d->store, &tx, user_id);
    o = finish(&tx, st, OUTCOME_NOT_FOUND);
    if (o != OUTCOME_OK)
        sodium_memzero(codes, sizeof(char[MFA_RECOVERY_CODES][MFA_RECOVERY_CODE_MAX + 1]));
    return o;
}

enum outcome mfa_totp_disable(const struct mfa_deps *d, int64_t user_id)
{
    store_tx tx;
    enum store_status st = store_begin(d->store, &tx);

    if (st != STORE_OK)
        return outcome_from_store(st, OUTCOME_ERROR);
    st = store_totp_delete(d->store, &tx, user_id);
    if (st == STORE_OK)
        st = store_recovery_codes_delete(d->store, &tx, user_id);
    if (st == STORE_OK)
        st = store_audit_held_add(d->store, &tx, user_id);
    return finish(&tx, st, OUTCOME_NOT_FOUND);
}

enum outcome mfa_recovery_regenerate(const struct mfa_deps *d, int64_t user_id,
                                     char codes[MFA_RECOVERY_CODES][MFA_RECOVERY_CODE_MAX + 1])
{
    unsigned methods = 0;
    enum outcome o = mfa_methods(d, user_id, &methods);

    if (o != OUTCOME_OK)
        return o;
    if ((methods & (MFA_TOTP | MFA_WEBAUTHN)) == 0)
        return OUTCOME_NOT_FOUND;
    if (!d->keyed)
        return OUTCOME_MFA_OFF;
    store_tx tx;
    enum store_status st = store_begin(d->store, &tx);
    if (st != STORE_OK)
        return outcome_from_store(st, OUTCOME_ERROR);
    o = finish(&tx, recovery_replace(d, &tx, user_id, codes), OUTCOME_NOT_FOUND);
    if (o != OUTCOME_OK)
        sodium_memzero(codes, sizeof(char[MFA_RECOVERY_CODES][MFA_RECOVERY_CODE_MAX + 1]));
    return o;
}

enum outcome mfa_methods(const struct mfa_deps *d, int64_t user_id, unsigned *methods)
{
    struct store_totp t;
    int64_t left = 0, passkeys = 0;
    enum store_status st = store_totp_of(d->store, NULL, user_id, &t);

    *methods = 0;
    if (st == STORE_OK && t.confirmed_at != 0)
        *methods |= MFA_TOTP;
    sodium_memzero(&t, sizeof t);
    if (st == STORE_NOT_FOUND)
        st = STORE_OK;
    if (st == STORE_OK)
        st = store_recovery_codes_left(d->store, NULL, user_id, &left);
    if (st == STORE_OK)
        /* A passkey marked as possibly cloned is refused at sign-in, but
         * still a factor the account has: were it not, the password alone
         * would open such an account just when its key is in doubt. */
        st = store_passkeys_count(d->store, NULL, user_id, &passkeys);
    if (st != STORE_OK) {
        *methods = 0;
        return outcome_from_store(st, OUTCOME_ERROR);
    }
    if (left > 0)
        *methods |= MFA_RECOVERY;
    if (passkeys > 0)
        *methods |= MFA_WEBAUTHN;
    return OUTCOME_OK;
}

enum outcome mfa_check_code(const struct mfa_deps *d, int64_t user_id, const char *code,
                            size_t clen, int64_t now)
{
    unsigned char secret[TOTP_SECRET_LEN];
    struct store_totp t;

    if (clen > MFA_CODE_MAX)
        return OUTCOME_BAD_CODE;
    enum outcome o = secret_of(d, user_id, true, secret, &t);
    if (o == OUTCOME_NOT_FOUND)
        return OUTCOME_BAD_CODE;
    if (o != OUTCOME_OK)
        return o;
    int64_t step = totp_match(secret, sizeof secret, code, clen, now, t.last_step);
    sodium_memzero(secret, sizeof secret);
    if (step < 0)
        return OUTCOME_BAD_CODE;
    /* Compare-and-set on the step: of two requests with one code, one
     * wins; the other finds the step taken, as a replay does. */
    return outcome_from_store(store_totp_step(d->store, NULL, user_id, step), OUTCOME_BAD_CODE);
}

enum outcome mfa_use_recovery_code(const struct mfa_deps *d, int64_t user_id, const char *code,
                                   size_t clen, int64_t now)
{
    char norm[MFA_RECOVERY_CODE_MAX + 1];
    unsigned char hash[32];

    if (!d->keyed || !mfa_recovery_normalise(code, clen, norm))
        return OUTCOME_BAD_CODE;
    recovery_hash(d, norm, hash);
    sodium_memzero(norm, sizeof norm);
    /* One UPDATE ... WHERE used_at IS NULL: of two concurrent uses, one
     * passes. */
    return outcome_from_store(store_recovery_code_use(d->store, NULL, user_id, hash, now),
                              OUTCOME_BAD_CODE);
}

enum outcome mfa_step_up(const struct mfa_deps *d, const struct jwt_claims *claims,
                         const char *code, size_t clen, const char *recovery, size_t rlen,
                         int64_t now)
{
    unsigned methods = 0;
    enum outcome o = mfa_methods(d, claims->user_id, &methods);

    if (o != OUTCOME_OK)
        return o;
    if (methods == 0)
        return OUTCOME_OK;
    /* A passkey used within the last minutes is a second factor the user
     * has just shown (API.md, "Passkeys"): the sign-in of the token's
     * session, not the token's iat, which a refresh renews without any
     * factor shown again. */
    if ((claims->amr & JWT_AMR_HWK) != 0 && claims->iat >= now - HWK_FRESH_SECONDS) {
        int64_t at = 0;
        enum store_status st =
            store_session_signed_in_at(d->store, claims->sid, claims->user_id, &at);
        if (st != STORE_OK && st != STORE_NOT_FOUND)
            return outcome_from_store(st, OUTCOME_ERROR);
        if (st == STORE_OK && at >= now - HWK_FRESH_SECONDS)
            return OUTCOME_OK;
    }
    if (code != NULL)
        return mfa_check_code(d, claims->user_id, code, clen, now);
    if (recovery != NULL)
        return mfa_use_recovery_code(d, claims->user_id, recovery, rlen, now);
    return OUTCOME_MFA_REQUIRED;
}
