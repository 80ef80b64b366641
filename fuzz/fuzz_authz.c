/* core/authzreq: an authorization request's parameters, as GET /authorize
 * gets them in its query or POST /authorize in its form body (util/form.c
 * below it). Whatever the bytes, the parser answers one of its three
 * statuses; an error names a code of RFC 6749 §4.1.2.1 or OpenID Connect
 * Core §3.1.2.6; every text it keeps is within its limit; and a request it
 * takes comes back the same from the JSON it is kept as. */
#include "core/authzreq.h"
#include "fuzz/fuzz.h"

static const char *const codes[] = {
    "invalid_request",       "unsupported_response_type", "invalid_scope",
    "request_not_supported", "request_uri_not_supported",
};

static void check_text(const char *s, size_t cap)
{
    FUZZ_CHECK(memchr(s, '\0', cap) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct form f;
    struct authzreq a, b;
    struct authzreq_error err;

    if (form_parse((const char *)data, size, &f) != FORM_OK)
        return 0;
    enum authzreq_status st = authzreq_parse(&f, &a, &err);
    form_free(&f);
    FUZZ_CHECK(st == AUTHZREQ_OK || st == AUTHZREQ_NO_CLIENT || st == AUTHZREQ_ERROR);
    if (st != AUTHZREQ_OK) {
        size_t i = 0;
        FUZZ_CHECK(err.error != NULL && err.description != NULL);
        while (i < sizeof codes / sizeof codes[0] && strcmp(codes[i], err.error) != 0)
            i++;
        FUZZ_CHECK(i < sizeof codes / sizeof codes[0]);
    }
    if (st == AUTHZREQ_NO_CLIENT)
        return 0;
    check_text(a.client_id, sizeof a.client_id);
    check_text(a.redirect_uri, sizeof a.redirect_uri);
    check_text(a.state, sizeof a.state);
    FUZZ_CHECK(a.client_id[0] != '\0' && a.redirect_uri[0] != '\0');
    if (st != AUTHZREQ_OK)
        return 0;
    check_text(a.nonce, sizeof a.nonce);
    check_text(a.code_challenge, sizeof a.code_challenge);
    check_text(a.login_hint, sizeof a.login_hint);
    FUZZ_CHECK(a.login_sid[0] == '\0'); /* never from a parameter */
    FUZZ_CHECK((a.scopes & OIDC_SCOPE_OPENID) != 0);
    FUZZ_CHECK(a.code_challenge[0] == '\0' || strlen(a.code_challenge) == AUTHZREQ_CHALLENGE_LEN);
    FUZZ_CHECK((a.prompt & AUTHZREQ_PROMPT_NONE) == 0 || a.prompt == AUTHZREQ_PROMPT_NONE);
    FUZZ_CHECK(a.max_age >= -1 && a.max_age <= AUTHZREQ_MAX_AGE_MAX);

    char *text = authzreq_to_json(&a);
    FUZZ_CHECK(text != NULL);
    FUZZ_CHECK(authzreq_from_json(text, &b));
    FUZZ_CHECK(memcmp(&a, &b, sizeof a) == 0);
    free(text);
    return 0;
}
