#include "api/api_internal.h"

const struct api_route api_routes[] = {
    {"/register", "POST", API_BODY_JSON, true, api_register},
    {"/login", "POST", API_BODY_JSON, true, api_login},
    {"/me", "GET", API_BODY_NONE, true, api_me},
    {"/verify", "GET", API_BODY_NONE, false, api_verify},
    {"/healthz", "GET", API_BODY_NONE, false, api_healthz},
    {"/readyz", "GET", API_BODY_NONE, true, api_readyz},
    {"/.well-known/jwks.json", "GET", API_BODY_NONE, false, api_jwks},
    {"/token", "POST", API_BODY_FORM, true, api_token},
    {"/openapi.json", "GET", API_BODY_NONE, false, api_docs},
    {"/docs", "GET", API_BODY_NONE, false, api_docs},
    {"/redoc", "GET", API_BODY_NONE, false, api_docs},
    {"/docs/assets/", "GET", API_BODY_NONE, false, api_docs},
};

const size_t api_nroutes = sizeof api_routes / sizeof api_routes[0];
