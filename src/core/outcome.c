#include "core/outcome.h"
#include "core/outcome_store.h"

#include <stdarg.h>
#include <stdio.h>

void outcome_error_add(struct outcome_errors *errs, const char *field, const char *code,
                       const char *fmt, ...)
{
    va_list ap;

    if (errs->count >= OUTCOME_MAX_ERRORS)
        return;
    struct outcome_error *e = &errs->e[errs->count++];
    e->field = field;
    e->code = code;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

enum outcome outcome_from_store(enum store_status st, enum outcome not_found)
{
    switch (st) {
    case STORE_OK: return OUTCOME_OK;
    case STORE_NOT_FOUND: return not_found;
    case STORE_CONFLICT: return OUTCOME_CONFLICT;
    case STORE_UNAVAILABLE: return OUTCOME_UNAVAILABLE;
    case STORE_ERROR: return OUTCOME_ERROR;
    }
    return OUTCOME_ERROR;
}

const char *outcome_name(enum outcome o)
{
    switch (o) {
    case OUTCOME_OK: return "ok";
    case OUTCOME_INVALID: return "invalid";
    case OUTCOME_CONFLICT: return "conflict";
    case OUTCOME_BAD_CREDENTIALS: return "bad_credentials";
    case OUTCOME_UNAUTHENTICATED: return "unauthenticated";
    case OUTCOME_TOKEN_INVALID: return "token_invalid";
    case OUTCOME_TOKEN_REUSED: return "token_reused";
    case OUTCOME_FORBIDDEN: return "forbidden";
    case OUTCOME_THROTTLED: return "throttled";
    case OUTCOME_OVERLOADED: return "overloaded";
    case OUTCOME_UNAVAILABLE: return "unavailable";
    case OUTCOME_TOKEN_EXPIRED: return "token_expired";
    case OUTCOME_CROSS_SITE: return "cross_site";
    case OUTCOME_STOPPING: return "stopping";
    case OUTCOME_BAD_TOKEN: return "bad_token";
    case OUTCOME_NO_EMAIL: return "no_email";
    case OUTCOME_MAIL_OFF: return "mail_off";
    case OUTCOME_MFA_OFF: return "mfa_off";
    case OUTCOME_MFA_REQUIRED: return "mfa_required";
    case OUTCOME_BAD_CODE: return "bad_code";
    case OUTCOME_PASSKEY_REFUSED: return "passkey_refused";
    case OUTCOME_NOT_FOUND: return "not_found";
    case OUTCOME_PASSKEYS_OFF: return "passkeys_off";
    case OUTCOME_BAD_GRANT: return "bad_grant";
    case OUTCOME_BAD_CLIENT: return "bad_client";
    case OUTCOME_NOT_ADMIN: return "not_admin";
    case OUTCOME_ERROR: return "error";
    }
    return "unknown";
}
