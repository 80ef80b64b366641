/* The WebAuthn vectors softauthn.py made (webauthn_vectors.h) with the
 * shape of a case and its lookup by name: one definition for the unit tests
 * (test_webauthn.c) and the bench (bench/webauthn.c). */
#ifndef GATEHOUSE_TESTS_WEBAUTHN_CASES_H
#define GATEHOUSE_TESTS_WEBAUTHN_CASES_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "core/webauthn.h"

/* A registration: clientDataJSON and attestation object, and the status
 * webauthn_verify_registration must give them. */
struct reg_vector {
    const char *name;
    const unsigned char *cd;
    size_t cdlen;
    const unsigned char *ao;
    size_t aolen;
    bool require_uv;
    enum webauthn_status want;
};

/* An assertion: the stored COSE key, clientDataJSON, authenticator data and
 * signature, and the status webauthn_verify_assertion must give them. */
struct get_vector {
    const char *name;
    const unsigned char *key;
    size_t keylen;
    const unsigned char *cd;
    size_t cdlen;
    const unsigned char *ad;
    size_t adlen;
    const unsigned char *sig;
    size_t siglen;
    bool require_uv;
    enum webauthn_status want;
};

#include "webauthn_vectors.h"

/* The registration case called name, or NULL. */
static inline const struct reg_vector *reg_named(const char *name)
{
    for (size_t i = 0; i < sizeof reg_vectors / sizeof reg_vectors[0]; i++)
        if (strcmp(reg_vectors[i].name, name) == 0)
            return &reg_vectors[i];
    return NULL;
}

/* The assertion case called name, or NULL. */
static inline const struct get_vector *get_named(const char *name)
{
    for (size_t i = 0; i < sizeof get_vectors / sizeof get_vectors[0]; i++)
        if (strcmp(get_vectors[i].name, name) == 0)
            return &get_vectors[i];
    return NULL;
}

#endif
