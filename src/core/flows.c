#include "core/flows.h"

#include <sodium.h>
#include <string.h>

#include "core/outcome_store.h"
#include "store/store.h"
#include "util/bearer.h"
#include "util/log.h"

_Static_assert(FLOWS_TOKEN_LEN == BEARER_LEN, "a flow's token is a bearer token");
_Static_assert(FLOWS_CHALLENGE_LEN <= sizeof(((struct store_flow *)0)->challenge),
               "a stored challenge holds a flow's");

/* The kind column's values. */
static const char *kind_name(enum flows_kind kind)
{
    switch (kind) {
    case FLOWS_MFA: return "mfa";
    case FLOWS_PASSKEY_LOGIN: return "passkey_login";
    case FLOWS_PASSKEY_REGISTER: return "passkey_register";
    }
    return "";
}

enum outcome flows_begin(store *s, enum flows_kind kind, int64_t user_id,
                         int64_t credential_version, const unsigned char *challenge, int64_t now,
                         char token[FLOWS_TOKEN_LEN + 1])
{
    unsigned char hash[32];

    bearer_new(token, hash);
    enum store_status st =
        store_flow_add(s, hash, kind_name(kind), user_id, credential_version, challenge,
                       challenge != NULL ? FLOWS_CHALLENGE_LEN : 0, now, now + FLOWS_TTL_SECONDS);
    if (st != STORE_OK)
        sodium_memzero(token, FLOWS_TOKEN_LEN + 1);
    return outcome_from_store(st, OUTCOME_ERROR);
}

enum outcome flows_get(store *s, enum flows_kind kind, const char *token, size_t len, int64_t now,
                       struct flows_flow *out)
{
    unsigned char hash[32];
    struct store_flow f;

    memset(out, 0, sizeof *out);
    if (!bearer_hash(token, len, hash))
        return OUTCOME_BAD_CODE;
    enum store_status st = store_flow_get(s, hash, kind_name(kind), now, FLOWS_MAX_ATTEMPTS, &f);
    if (st != STORE_OK)
        return outcome_from_store(st, OUTCOME_BAD_CODE);
    if (f.challenge_len != 0 && f.challenge_len != FLOWS_CHALLENGE_LEN) {
        log_error("flows: a stored challenge of %zu bytes", f.challenge_len);
        return OUTCOME_ERROR;
    }
    out->kind = kind;
    out->user_id = f.user_id;
    out->credential_version = f.credential_version;
    out->has_challenge = f.challenge_len == FLOWS_CHALLENGE_LEN;
    memcpy(out->challenge, f.challenge, FLOWS_CHALLENGE_LEN);
    out->attempts = f.attempts;
    out->expires_at = f.expires_at;
    return OUTCOME_OK;
}

enum outcome flows_finish(store *s, const char *token, size_t len, int64_t now)
{
    unsigned char hash[32];

    if (!bearer_hash(token, len, hash))
        return OUTCOME_BAD_CODE;
    return outcome_from_store(store_flow_finish(s, hash, now, FLOWS_MAX_ATTEMPTS),
                              OUTCOME_BAD_CODE);
}

enum outcome flows_finish_reserved(store *s, const char *token, size_t len, int64_t now)
{
    unsigned char hash[32];

    if (!bearer_hash(token, len, hash))
        return OUTCOME_BAD_CODE;
    return outcome_from_store(store_flow_finish(s, hash, now, FLOWS_MAX_ATTEMPTS + 1),
                              OUTCOME_BAD_CODE);
}

enum outcome flows_reserve(store *s, const char *token, size_t len, int64_t now, bool *spent)
{
    unsigned char hash[32];
    int attempts = 0;

    *spent = true;
    if (!bearer_hash(token, len, hash))
        return OUTCOME_BAD_CODE;
    enum store_status st = store_flow_fail(s, hash, now, FLOWS_MAX_ATTEMPTS, &attempts);
    if (st == STORE_OK)
        *spent = attempts >= FLOWS_MAX_ATTEMPTS;
    return outcome_from_store(st, OUTCOME_BAD_CODE);
}

void flows_purge(store *s, int64_t now)
{
    int64_t deleted = 0;

    if (store_flows_purge(s, now, &deleted) != STORE_OK)
        log_error("purging used and expired sign-in flows failed");
    else if (deleted > 0)
        log_debug("purged %lld used or expired sign-in flows", (long long)deleted);
}
