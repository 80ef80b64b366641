#ifndef GH_CORE_WEBAUTHN_H
#define GH_CORE_WEBAUTHN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The checks of WebAuthn Level 2 ceremonies (§7.1 registration, §7.2
 * authentication), pure: bytes in, a verdict out; no database, no clock.
 * CBOR is decoded with libcbor under strict limits, COSE keys (RFC 9053)
 * are checked strictly (ES256 on P-256, EdDSA on Ed25519, RS256 of 2048 to
 * 8192 bits), signatures verified with libsodium (Ed25519) and OpenSSL
 * (core/ossl.h: ECDSA, RSA). Attestation formats: "none", and "packed"
 * self-attestation (no x5c); anything else is refused. */

enum webauthn_alg {
    WEBAUTHN_ES256 = -7,
    WEBAUTHN_EDDSA = -8,
    WEBAUTHN_RS256 = -257,
};

enum webauthn_status {
    WEBAUTHN_OK = 0,
    WEBAUTHN_MALFORMED,        /* not the JSON, CBOR or binary layout required */
    WEBAUTHN_BAD_TYPE,         /* clientDataJSON.type is not the ceremony's */
    WEBAUTHN_BAD_CHALLENGE,    /* clientDataJSON.challenge is not the one issued */
    WEBAUTHN_BAD_ORIGIN,       /* clientDataJSON.origin is none of the allowed */
    WEBAUTHN_BAD_RP_ID,        /* authenticatorData's rpIdHash is not SHA-256(rp_id) */
    WEBAUTHN_NO_USER_PRESENCE, /* the UP flag is not set */
    WEBAUTHN_NO_USER_VERIFIED, /* UV required and not set */
    WEBAUTHN_BAD_KEY,          /* a COSE key that is malformed or not as strict as required */
    WEBAUTHN_UNSUPPORTED_ALG,  /* an algorithm other than ES256, EdDSA, RS256 */
    WEBAUTHN_BAD_ATTESTATION,  /* an unsupported format, or a packed statement that fails */
    WEBAUTHN_BAD_SIGNATURE,    /* the assertion's signature does not verify */
    WEBAUTHN_UNAVAILABLE,      /* OpenSSL could not be loaded (core/ossl.h) */
    WEBAUTHN_NOMEM,
};

#define WEBAUTHN_CREDENTIAL_ID_MAX 1023 /* §5.8.3's limit */
#define WEBAUTHN_COSE_KEY_MAX      1200 /* an RSA-8192 key with its headers */

/* What a ceremony must match. */
struct webauthn_expect {
    const char *type; /* "webauthn.create" or "webauthn.get" */
    const unsigned char *challenge;
    size_t challenge_len;
    const char *const *origins; /* exact origins accepted */
    size_t norigins;
    const char *rp_id;
    bool require_uv; /* the UV flag must be set */
};

/* A credential as registration verified it. */
struct webauthn_credential {
    unsigned char id[WEBAUTHN_CREDENTIAL_ID_MAX];
    size_t id_len;
    unsigned char cose_key[WEBAUTHN_COSE_KEY_MAX]; /* the credentialPublicKey, as sent */
    size_t cose_len;
    int alg;             /* enum webauthn_alg */
    uint32_t sign_count; /* the authenticator's counter at registration */
    uint8_t flags;       /* authenticatorData flags: bit 0 UP, 2 UV, 3 BE, 4 BS, 6 AT, 7 ED */
    unsigned char aaguid[16];
};

/* §7.1 steps 5-24 for a RegistrationResponse's clientDataJSON and
 * attestationObject (decoded bytes): the client data against e, the
 * authenticator data (rpIdHash, UP, UV when required, attested credential
 * data present), the COSE key, and the attestation statement (none, or
 * packed self-attestation signed by the credential key itself). Fills
 * *out on WEBAUTHN_OK. */
enum webauthn_status webauthn_verify_registration(const struct webauthn_expect *e,
                                                  const unsigned char *client_data, size_t cdlen,
                                                  const unsigned char *attestation_object,
                                                  size_t aolen, struct webauthn_credential *out);

/* What an assertion told besides its signature. */
struct webauthn_assertion {
    uint32_t sign_count;
    uint8_t flags;
};

/* §7.2 steps 10-21 for an AuthenticationResponse: the client data against
 * e, the authenticator data (rpIdHash, UP, UV when required), and the
 * signature over authenticatorData || SHA-256(clientDataJSON) with the
 * stored COSE key (cose_key, cose_len: as webauthn_verify_registration
 * gave it). The counter check against the stored one is the caller's. */
enum webauthn_status webauthn_verify_assertion(const struct webauthn_expect *e,
                                               const unsigned char *cose_key, size_t cose_len,
                                               const unsigned char *client_data, size_t cdlen,
                                               const unsigned char *authenticator_data,
                                               size_t adlen, const unsigned char *signature,
                                               size_t siglen, struct webauthn_assertion *out);

/* The clientDataJSON checks alone (type, challenge, origin; §7.1 steps
 * 7-10): for the fuzz target and the two functions above. */
enum webauthn_status webauthn_check_client_data(const struct webauthn_expect *e,
                                                const unsigned char *client_data, size_t cdlen);

/* A short English description of a status, for logs and test output. */
const char *webauthn_status_text(enum webauthn_status s);

#endif
