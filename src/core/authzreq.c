/* Authorization requests of the code flow: the parser (pure) and their
 * keeping while the user signs in or consents (core/authzreq.h). */
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/authzreq.h"
#include "core/outcome_store.h"
#include "store/store.h"
#include "util/b64.h"
#include "util/bearer.h"
#include "util/log.h"

/* More parameters than any request needs: the checks below look at each
 * pair of them, so the count has a limit. */
#define AUTHZREQ_PARAMS_MAX 64

/* The longest stored request: every text at its limit, each byte escaped
 * by JSON as \u00XX. */
#define AUTHZREQ_TEXT_MAX                                                                          \
    (6 * (OIDC_CLIENT_ID_MAX + OIDC_URI_MAX + OIDC_STATE_MAX + OIDC_NONCE_MAX +                    \
          AUTHZREQ_CHALLENGE_LEN + AUTHZREQ_HINT_MAX) +                                            \
     512)

static enum authzreq_status fail(struct authzreq_error *err, const char *error,
                                 const char *description)
{
    err->error = error;
    err->description = description;
    return AUTHZREQ_ERROR;
}

/* Copies a parameter of len bytes into dst (cap bytes, room for the NUL). */
static void copy(char *dst, size_t cap, const char *v, size_t len)
{
    size_t n = len < cap - 1 ? len : cap - 1;

    memcpy(dst, v, n);
    dst[n] = '\0';
}

/* A parameter that is required and at most max bytes: false when it is
 * missing, repeated or longer. */
static bool required(const struct form *f, const char *name, size_t max, char *dst, size_t cap)
{
    const char *v;
    size_t len;

    if (form_get(f, name, &v, &len) != FORM_FOUND || len > max)
        return false;
    copy(dst, cap, v, len);
    return true;
}

/* True when some parameter name appears twice (RFC 6749 §3.1: "MUST NOT
 * be included more than once"), an empty one included. */
static bool repeated_any(const struct form *f)
{
    for (size_t i = 0; i < f->count; i++)
        for (size_t k = i + 1; k < f->count; k++)
            if (f->fields[i].name_len == f->fields[k].name_len &&
                memcmp(f->fields[i].name, f->fields[k].name, f->fields[i].name_len) == 0)
                return true;
    return false;
}

/* True when name was sent, with a value or not. */
static bool sent(const struct form *f, const char *name)
{
    for (size_t i = 0; i < f->count; i++)
        if (strcmp(f->fields[i].name, name) == 0)
            return true;
    return false;
}

/* prompt (OpenID Connect Core §3.1.2.1): space-separated, each value once;
 * "none" with any other is an error. */
static bool parse_prompt(const char *v, size_t len, unsigned *bits)
{
    static const struct {
        const char *name;
        unsigned bit;
    } known[] = {{"none", AUTHZREQ_PROMPT_NONE},
                 {"login", AUTHZREQ_PROMPT_LOGIN},
                 {"consent", AUTHZREQ_PROMPT_CONSENT}};
    size_t i = 0;

    *bits = 0;
    while (i < len) {
        size_t start = i, k;
        while (i < len && v[i] != ' ')
            i++;
        for (k = 0; k < sizeof known / sizeof known[0]; k++)
            if (strlen(known[k].name) == i - start &&
                memcmp(known[k].name, v + start, i - start) == 0)
                break;
        if (k == sizeof known / sizeof known[0] || (*bits & known[k].bit) != 0)
            return false;
        *bits |= known[k].bit;
        if (i < len && ++i == len)
            return false; /* a trailing space */
    }
    return *bits != 0 && ((*bits & AUTHZREQ_PROMPT_NONE) == 0 || *bits == AUTHZREQ_PROMPT_NONE);
}

/* max_age: a decimal number of seconds, no sign, at most
 * AUTHZREQ_MAX_AGE_MAX. */
static bool parse_max_age(const char *v, size_t len, int64_t *out)
{
    int64_t n = 0;

    if (len == 0 || len > 10)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        n = n * 10 + (v[i] - '0');
    }
    if (n > AUTHZREQ_MAX_AGE_MAX)
        return false;
    *out = n;
    return true;
}

/* state: echoed back unchanged, so at most OIDC_STATE_MAX bytes. */
static enum authzreq_status parse_state(const struct form *f, struct authzreq *out,
                                        struct authzreq_error *err)
{
    const char *v;
    size_t len;
    enum form_lookup l = form_get(f, "state", &v, &len);

    if (l == FORM_REPEATED)
        return fail(err, "invalid_request", "state is sent more than once");
    if (l == FORM_FOUND && len > OIDC_STATE_MAX)
        return fail(err, "invalid_request", "state is longer than 1024 bytes");
    if (l == FORM_FOUND) {
        copy(out->state, sizeof out->state, v, len);
        out->has_state = true;
    }
    return AUTHZREQ_OK;
}

/* response_type, response_mode and the request objects (OpenID Connect
 * Core §6: not supported, said so with its own error codes). */
static enum authzreq_status parse_kind(const struct form *f, struct authzreq_error *err)
{
    const char *v;
    size_t len;

    if (sent(f, "request"))
        return fail(err, "request_not_supported", "request objects are not supported");
    if (sent(f, "request_uri"))
        return fail(err, "request_uri_not_supported", "request_uri is not supported");
    if (form_get(f, "response_type", &v, &len) != FORM_FOUND)
        return fail(err, "invalid_request", "response_type is missing");
    if (strcmp(v, "code") != 0)
        return fail(err, "unsupported_response_type", "response_type must be code");
    if (form_get(f, "response_mode", &v, &len) == FORM_FOUND && strcmp(v, "query") != 0)
        return fail(err, "invalid_request", "response_mode must be query");
    return AUTHZREQ_OK;
}

static enum authzreq_status parse_scope(const struct form *f, struct authzreq *out,
                                        struct authzreq_error *err)
{
    const char *v;
    size_t len;

    if (form_get(f, "scope", &v, &len) != FORM_FOUND)
        return fail(err, "invalid_request", "scope is missing");
    if (len > OIDC_SCOPE_MAX || !oidc_scope_parse_request(v, len, &out->scopes))
        return fail(err, "invalid_scope", "scope is malformed or holds a repeated value");
    if ((out->scopes & OIDC_SCOPE_OPENID) == 0)
        return fail(err, "invalid_scope", "scope must include openid");
    return AUTHZREQ_OK;
}

/* RFC 7636 §4.3: S256 only; a challenge without a method would be
 * "plain", which is not supported. */
static enum authzreq_status parse_pkce(const struct form *f, struct authzreq *out,
                                       struct authzreq_error *err)
{
    const char *c = NULL, *m = NULL;
    size_t clen = 0, mlen = 0;
    bool has_c = form_get(f, "code_challenge", &c, &clen) == FORM_FOUND;
    bool has_m = form_get(f, "code_challenge_method", &m, &mlen) == FORM_FOUND;

    if (!has_c && !has_m)
        return AUTHZREQ_OK;
    if (!has_m || strcmp(m, "S256") != 0)
        return fail(err, "invalid_request", "code_challenge_method must be S256");
    if (!has_c)
        return fail(err, "invalid_request", "code_challenge is missing");
    if (clen != AUTHZREQ_CHALLENGE_LEN || !b64url_alphabet_only(c, clen))
        return fail(err, "invalid_request", "code_challenge must be 43 characters of base64url");
    copy(out->code_challenge, sizeof out->code_challenge, c, clen);
    return AUTHZREQ_OK;
}

/* nonce, prompt, max_age and login_hint. */
static enum authzreq_status parse_extras(const struct form *f, struct authzreq *out,
                                         struct authzreq_error *err)
{
    const char *v;
    size_t len;

    if (form_get(f, "nonce", &v, &len) == FORM_FOUND) {
        if (len > OIDC_NONCE_MAX)
            return fail(err, "invalid_request", "nonce is longer than 255 bytes");
        copy(out->nonce, sizeof out->nonce, v, len);
    }
    if (form_get(f, "prompt", &v, &len) == FORM_FOUND && !parse_prompt(v, len, &out->prompt))
        return fail(err, "invalid_request",
                    "prompt must be none, or login and consent, each at most once");
    if (form_get(f, "max_age", &v, &len) == FORM_FOUND && !parse_max_age(v, len, &out->max_age))
        return fail(err, "invalid_request", "max_age must be a number of seconds");
    if (form_get(f, "login_hint", &v, &len) == FORM_FOUND) {
        if (len > AUTHZREQ_HINT_MAX)
            return fail(err, "invalid_request", "login_hint is longer than 255 bytes");
        copy(out->login_hint, sizeof out->login_hint, v, len);
    }
    return AUTHZREQ_OK;
}

enum authzreq_status authzreq_parse(const struct form *params, struct authzreq *out,
                                    struct authzreq_error *err)
{
    enum authzreq_status st;

    memset(out, 0, sizeof *out);
    out->max_age = -1;
    err->error = NULL;
    err->description = NULL;
    /* Without a client and its redirect URI there is nobody to answer to. */
    if (!required(params, "client_id", OIDC_CLIENT_ID_MAX, out->client_id, sizeof out->client_id) ||
        !required(params, "redirect_uri", OIDC_URI_MAX, out->redirect_uri,
                  sizeof out->redirect_uri)) {
        err->error = "invalid_request";
        err->description = "client_id or redirect_uri is missing, repeated or too long";
        return AUTHZREQ_NO_CLIENT;
    }
    if ((st = parse_state(params, out, err)) != AUTHZREQ_OK)
        return st;
    if (params->count > AUTHZREQ_PARAMS_MAX)
        return fail(err, "invalid_request", "too many parameters");
    if (repeated_any(params))
        return fail(err, "invalid_request", "a parameter is sent more than once");
    if ((st = parse_kind(params, err)) != AUTHZREQ_OK ||
        (st = parse_scope(params, out, err)) != AUTHZREQ_OK ||
        (st = parse_pkce(params, out, err)) != AUTHZREQ_OK ||
        (st = parse_extras(params, out, err)) != AUTHZREQ_OK)
        return st;
    return AUTHZREQ_OK;
}

/* ------------------------------------------------------------ as JSON */

char *authzreq_to_json(const struct authzreq *r)
{
    json_t *o = json_pack("{s:s, s:s, s:I, s:s*, s:s, s:s, s:I, s:I, s:s, s:s, s:s}", "client_id",
                          r->client_id, "redirect_uri", r->redirect_uri, "scopes",
                          (json_int_t)r->scopes, "state", r->has_state ? r->state : NULL, "nonce",
                          r->nonce, "code_challenge", r->code_challenge, "prompt",
                          (json_int_t)r->prompt, "max_age", (json_int_t)r->max_age, "login_hint",
                          r->login_hint, "login_sid", r->login_sid, "consent_sid", r->consent_sid);
    char *text = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;

    json_decref(o);
    return text;
}

/* The string member name of o into dst (cap bytes); false when it is
 * missing, no string, or longer than fits. */
static bool member(const json_t *o, const char *name, char *dst, size_t cap)
{
    const json_t *v = json_object_get(o, name);

    if (!json_is_string(v) || json_string_length(v) >= cap ||
        strlen(json_string_value(v)) != json_string_length(v))
        return false;
    memcpy(dst, json_string_value(v), json_string_length(v) + 1);
    return true;
}

bool authzreq_from_json(const char *text, struct authzreq *out)
{
    json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    json_t *st = json_object_get(o, "state");
    json_int_t scopes = json_integer_value(json_object_get(o, "scopes"));
    json_int_t prompt = json_integer_value(json_object_get(o, "prompt"));
    json_int_t max_age = json_integer_value(json_object_get(o, "max_age"));
    bool ok;

    memset(out, 0, sizeof *out);
    ok = json_is_object(o) && member(o, "client_id", out->client_id, sizeof out->client_id) &&
         member(o, "redirect_uri", out->redirect_uri, sizeof out->redirect_uri) &&
         member(o, "nonce", out->nonce, sizeof out->nonce) &&
         member(o, "code_challenge", out->code_challenge, sizeof out->code_challenge) &&
         member(o, "login_hint", out->login_hint, sizeof out->login_hint) &&
         member(o, "login_sid", out->login_sid, sizeof out->login_sid) &&
         member(o, "consent_sid", out->consent_sid, sizeof out->consent_sid) &&
         (st == NULL || member(o, "state", out->state, sizeof out->state)) && scopes >= 0 &&
         scopes <= 0xff && prompt >= 0 && prompt <= 7 && max_age >= -1 &&
         max_age <= AUTHZREQ_MAX_AGE_MAX;
    out->has_state = st != NULL;
    out->scopes = (unsigned)scopes;
    out->prompt = (unsigned)prompt;
    out->max_age = max_age;
    json_decref(o);
    return ok;
}

/* ---------------------------------------------------------- the store */

enum outcome authzreq_save(store *s, const struct authzreq *r, int64_t now,
                           char id[AUTHZREQ_ID_LEN + 1])
{
    unsigned char hash[32];
    char *text = authzreq_to_json(r);
    enum store_status st;

    if (text == NULL)
        return OUTCOME_ERROR;
    bearer_new(id, hash);
    st = store_authz_add(s, hash, text, now, now + AUTHZREQ_TTL_SECONDS);
    free(text);
    return outcome_from_store(st, OUTCOME_ERROR);
}

enum outcome authzreq_load(store *s, const char *id, size_t len, int64_t now, struct authzreq *out,
                           int64_t *created_at)
{
    unsigned char hash[32];
    char *text;
    enum store_status st;
    enum outcome o;

    if (!bearer_hash(id, len, hash))
        return OUTCOME_BAD_TOKEN;
    text = malloc(AUTHZREQ_TEXT_MAX);
    if (text == NULL)
        return OUTCOME_ERROR;
    st = store_authz_get(s, hash, now, text, AUTHZREQ_TEXT_MAX, created_at);
    o = outcome_from_store(st, OUTCOME_BAD_TOKEN);
    if (o == OUTCOME_OK && !authzreq_from_json(text, out)) {
        log_error("a stored authorization request cannot be read");
        o = OUTCOME_ERROR;
    }
    free(text);
    return o;
}

enum outcome authzreq_use(store *s, const char *id, size_t len, int64_t now)
{
    unsigned char hash[32];

    if (!bearer_hash(id, len, hash))
        return OUTCOME_BAD_TOKEN;
    return outcome_from_store(store_authz_use(s, hash, now), OUTCOME_BAD_TOKEN);
}

void authzreq_purge(store *s, int64_t now)
{
    int64_t deleted = 0;

    if (store_authz_purge(s, now, &deleted) != STORE_OK)
        log_error("purging used and expired authorization requests failed");
    else if (deleted > 0)
        log_debug("purged %lld used or expired authorization requests", (long long)deleted);
}
