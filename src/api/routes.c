#include "api/api_internal.h"

const struct api_route api_routes[] = {
    {"/register", "POST", API_BODY_JSON, API_HASH, api_register},
    {"/login", "POST", API_BODY_JSON, API_HASH, api_login},
    {"/me", "GET", API_BODY_NONE, API_DB, api_me},
    {"/verify", "GET", API_BODY_NONE, API_INLINE, api_verify},
    {"/healthz", "GET", API_BODY_NONE, API_INLINE, api_healthz},
    {"/readyz", "GET", API_BODY_NONE, API_DB, api_readyz},
    {"/.well-known/jwks.json", "GET", API_BODY_NONE, API_INLINE, api_jwks},
    {"/token", "POST", API_BODY_FORM, API_HASH, api_token},
    {"/openapi.json", "GET", API_BODY_NONE, API_INLINE, api_docs},
    {"/docs", "GET", API_BODY_NONE, API_INLINE, api_docs},
    {"/redoc", "GET", API_BODY_NONE, API_INLINE, api_docs},
    {"/docs/assets/", "GET", API_BODY_NONE, API_INLINE, api_docs},
};

const size_t api_nroutes = sizeof api_routes / sizeof api_routes[0];
