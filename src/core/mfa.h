#ifndef GH_CORE_MFA_H
#define GH_CORE_MFA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/jwt.h"
#include "core/outcome.h"
#include "core/users.h"

typedef struct store store; /* store/store.h */

/* Second factors an account has, and the checks of their codes (API.md,
 * "Second factors"): TOTP (RFC 6238: SHA-1, 6 digits, 30 s, codes from
 * liboath) whose secret is stored encrypted (libsodium secretbox under a
 * key derived from MFA_ENCRYPTION_KEY, else SECRET_KEY), and ten recovery
 * codes stored as hashes. Runs on worker threads. */

struct mfa_deps {
    store *store;
    /* false when neither MFA_ENCRYPTION_KEY nor SECRET_KEY is set (an
     * asymmetric ALGORITHM needs no SECRET_KEY): nothing can be sealed, so
     * enrolment and new recovery codes answer OUTCOME_MFA_OFF. */
    bool keyed;
    unsigned char key[32];      /* the secretbox key of TOTP secrets */
    unsigned char code_key[32]; /* the key of recovery codes' hashes (a dump alone is no oracle) */
    char issuer[256];           /* the otpauth issuer: PUBLIC_URL's host, else "gatehouse" */
};

/* What an account has on (bits). */
enum mfa_method {
    MFA_TOTP = 1u << 0,     /* a confirmed TOTP secret */
    MFA_RECOVERY = 1u << 1, /* unused recovery codes */
    MFA_WEBAUTHN = 1u << 2, /* a passkey */
};

#define MFA_RECOVERY_CODES    10
#define MFA_RECOVERY_CODE_MAX 32 /* the longest recovery code, NUL excluded */
#define MFA_CODE_MAX          16 /* longer codes are wrong without a look */

/* Derives d->key and d->code_key from mfa_key (mlen bytes, at least 32)
 * or, when mfa_key is NULL, from secret (slen bytes), with libsodium's KDF
 * and a context of its own, so that the keys sign nothing else. Both NULL:
 * d->keyed is false. issuer NULL or "": "gatehouse". */
void mfa_deps_init(struct mfa_deps *d, store *s, const char *mfa_key, size_t mlen,
                   const char *secret, size_t slen, const char *issuer);

/* A new TOTP secret for u, pending until confirmed (a pending one before
 * it is replaced). Fills *out; free with mfa_setup_free. OUTCOME_CONFLICT
 * when u has a confirmed one, OUTCOME_MFA_OFF when d is not keyed. */
struct mfa_setup {
    char secret[64];   /* base32, no padding */
    char *otpauth_uri; /* otpauth://totp/<issuer>:<username>?secret=...&issuer=... */
    char *qr_svg;      /* the URI as a QR code, an <svg> element */
};
enum outcome mfa_totp_begin(const struct mfa_deps *d, const struct user *u, int64_t now,
                            struct mfa_setup *out);
void mfa_setup_free(struct mfa_setup *s);

/* Confirms the pending secret of user_id with code: the second factor is
 * on, and a new set of recovery codes is written into codes (the old set
 * is void). OUTCOME_INVALID for a wrong code, OUTCOME_NOT_FOUND when
 * nothing is pending. */
enum outcome mfa_totp_confirm(const struct mfa_deps *d, int64_t user_id, const char *code,
                              size_t clen, int64_t now,
                              char codes[MFA_RECOVERY_CODES][MFA_RECOVERY_CODE_MAX + 1]);

/* Turns TOTP off for user_id (its secret and recovery codes go; the
 * caller has checked the step-up). OUTCOME_NOT_FOUND when it was off. */
enum outcome mfa_totp_disable(const struct mfa_deps *d, int64_t user_id);

/* A new set of recovery codes for user_id into codes; the old set is void.
 * OUTCOME_NOT_FOUND when the account has no second factor, OUTCOME_MFA_OFF
 * when d is not keyed. */
enum outcome mfa_recovery_regenerate(const struct mfa_deps *d, int64_t user_id,
                                     char codes[MFA_RECOVERY_CODES][MFA_RECOVERY_CODE_MAX + 1]);

/* The MFA_* bits of what user_id has on; 0: no second factor. */
enum outcome mfa_methods(const struct mfa_deps *d, int64_t user_id, unsigned *methods);

/* Checks a TOTP code of user_id at now: the steps before and after count,
 * compared in constant time; an accepted step is stored, so a code (and
 * any earlier step) is accepted once. OUTCOME_BAD_CODE for a wrong or
 * replayed code or when TOTP is off. */
enum outcome mfa_check_code(const struct mfa_deps *d, int64_t user_id, const char *code,
                            size_t clen, int64_t now);

/* Uses a recovery code of user_id: OUTCOME_OK once per code, then
 * OUTCOME_BAD_CODE (also for a wrong one). */
enum outcome mfa_use_recovery_code(const struct mfa_deps *d, int64_t user_id, const char *code,
                                   size_t clen, int64_t now);

/* The step-up of a change by the owner of claims (PUT /me/password,
 * DELETE /me, PUT /me/email, turning a factor off): OUTCOME_OK when the
 * account has no second factor, or code (a TOTP code) or recovery (a
 * recovery code) is right, or claims' amr holds JWT_AMR_HWK and its
 * session signed in (with a passkey) at most 300 s before now, which a
 * refresh does not renew; OUTCOME_MFA_REQUIRED when it has one and
 * neither is given (code and recovery NULL); OUTCOME_BAD_CODE when the one
 * given is wrong. */
enum outcome mfa_step_up(const struct mfa_deps *d, const struct jwt_claims *claims,
                         const char *code, size_t clen, const char *recovery, size_t rlen,
                         int64_t now);

/* The pieces behind the above, for the unit tests. mfa_seal writes a
 * random nonce and secret's secretbox under key into out (cap bytes; the
 * length in *out_len); mfa_open checks and opens it into out. Both return
 * 0, or -1 (too long, or a sealed secret that another key made or that was
 * altered). */
int mfa_seal(const unsigned char key[32], const unsigned char *secret, size_t len,
             unsigned char *out, size_t cap, size_t *out_len);
int mfa_open(const unsigned char key[32], const unsigned char *sealed, size_t len,
             unsigned char *out, size_t cap, size_t *out_len);

/* A recovery code as typed (len bytes) as it is hashed: lower case, the
 * dashes and spaces dropped. false when it cannot be one (too long, a
 * character outside the alphabet, the wrong number of them). */
bool mfa_recovery_normalise(const char *code, size_t len, char out[MFA_RECOVERY_CODE_MAX + 1]);

#endif
