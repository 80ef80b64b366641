/* core/authzreq: the parser of authorization requests (OpenID Connect
 * Core §3.1.2.1, RFC 6749 §4.1.1, RFC 7636 §4.3), their JSON round trip,
 * and their keeping on each backend (store/tdb.h): stored by the hash of
 * their id, single use under any number of callers, expiry, the purge. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/authzreq.h"
#include "store/store.h"
#include "store/tdb.h"
#include "test.h"

#define CHALLENGE "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
#define BASE      "client_id=app&redirect_uri=https%3A%2F%2Frp.example%2Fcb&response_type=code"

/* Parses query into *a; the status, and the error code into *error. */
static enum authzreq_status parse(const char *query, struct authzreq *a, const char **error)
{
    struct form f;
    struct authzreq_error err;
    enum authzreq_status st;

    if (form_parse(query, strlen(query), &f) != FORM_OK)
        return (enum authzreq_status) - 1;
    st = authzreq_parse(&f, a, &err);
    *error = err.error;
    form_free(&f);
    return st;
}

/* The error code of BASE with more appended ("" when it parses). */
static const char *error_of(const char *more)
{
    char q[8192];
    struct authzreq a;
    const char *error = NULL;

    snprintf(q, sizeof q, "%s%s", BASE, more);
    if (parse(q, &a, &error) == AUTHZREQ_OK)
        return "";
    return error != NULL ? error : "?";
}

TEST(authzreq_parse_full)
{
    struct authzreq a;
    const char *error = NULL;

    REQUIRE(parse(BASE "&scope=openid+email+offline_access&state=s%20t&nonce=n-1"
                       "&code_challenge=" CHALLENGE "&code_challenge_method=S256"
                       "&prompt=login+consent&max_age=300&login_hint=ann",
                  &a, &error) == AUTHZREQ_OK);
    CHECK_EQ_STR(a.client_id, "app");
    CHECK_EQ_STR(a.redirect_uri, "https://rp.example/cb");
    CHECK_EQ_INT(a.scopes, OIDC_SCOPE_OPENID | OIDC_SCOPE_EMAIL | OIDC_SCOPE_OFFLINE);
    CHECK(a.has_state);
    CHECK_EQ_STR(a.state, "s t");
    CHECK_EQ_STR(a.nonce, "n-1");
    CHECK_EQ_STR(a.code_challenge, CHALLENGE);
    CHECK_EQ_INT(a.prompt, AUTHZREQ_PROMPT_LOGIN | AUTHZREQ_PROMPT_CONSENT);
    CHECK_EQ_INT(a.max_age, 300);
    CHECK_EQ_STR(a.login_hint, "ann");

    /* The least: no state, nonce, PKCE, prompt or max_age. */
    REQUIRE(parse(BASE "&scope=openid", &a, &error) == AUTHZREQ_OK);
    CHECK(!a.has_state);
    CHECK_EQ_STR(a.nonce, "");
    CHECK_EQ_STR(a.code_challenge, "");
    CHECK_EQ_INT(a.prompt, 0);
    CHECK_EQ_INT(a.max_age, -1);
}

/* Without a client and its redirect URI nothing can go back: a page. */
TEST(authzreq_parse_no_client)
{
    struct authzreq a;
    const char *error = NULL;
    char q[4200];

    CHECK_EQ_INT(
        parse("redirect_uri=https%3A%2F%2Frp%2Fcb&scope=openid&response_type=code", &a, &error),
        AUTHZREQ_NO_CLIENT);
    CHECK_EQ_INT(parse("client_id=app&scope=openid&response_type=code", &a, &error),
                 AUTHZREQ_NO_CLIENT);
    CHECK_EQ_INT(parse(BASE "&client_id=other&scope=openid", &a, &error), AUTHZREQ_NO_CLIENT);
    CHECK_EQ_INT(parse(BASE "&redirect_uri=https%3A%2F%2Fevil%2Fcb&scope=openid", &a, &error),
                 AUTHZREQ_NO_CLIENT);
    /* Past their limits. */
    snprintf(q, sizeof q, "client_id=%065d&redirect_uri=x&response_type=code&scope=openid", 0);
    CHECK_EQ_INT(parse(q, &a, &error), AUTHZREQ_NO_CLIENT);
    snprintf(q, sizeof q, "client_id=a&redirect_uri=%02049d&response_type=code&scope=openid", 0);
    CHECK_EQ_INT(parse(q, &a, &error), AUTHZREQ_NO_CLIENT);
    snprintf(q, sizeof q, "client_id=%064d&redirect_uri=%02048d&response_type=code&scope=openid", 0,
             0);
    CHECK_EQ_INT(parse(q, &a, &error), AUTHZREQ_OK);
}

/* "&scope=openid&name=" and n letters, into out (1200 bytes). */
static const char *long_param(const char *name, size_t n, char *out)
{
    int w = snprintf(out, 1200, "&scope=openid&%s=", name);

    memset(out + w, 'a', n);
    out[w + (int)n] = '\0';
    return out;
}

TEST(authzreq_parse_errors)
{
    char big[1200];

    CHECK_EQ_STR(error_of("&scope=openid"), "");
    /* Every parameter at most once (RFC 6749 §3.1), unknown ones too. */
    CHECK_EQ_STR(error_of("&scope=openid&scope=openid"), "invalid_request");
    CHECK_EQ_STR(error_of("&scope=openid&nonce=a&nonce=b"), "invalid_request");
    CHECK_EQ_STR(error_of("&scope=openid&x=1&x="), "invalid_request");
    CHECK_EQ_STR(error_of("&scope=openid&response_type=code"), "invalid_request");
    /* Request objects: their own error codes (OpenID Connect Core §6). */
    CHECK_EQ_STR(error_of("&scope=openid&request=eyJ"), "request_not_supported");
    CHECK_EQ_STR(error_of("&scope=openid&request_uri=https%3A%2F%2Fx"),
                 "request_uri_not_supported");
    /* response_type code only; response_mode query only. */
    CHECK_EQ_STR(error_of("&scope=openid&response_mode=fragment"), "invalid_request");
    CHECK_EQ_STR(error_of("&scope=openid&response_mode=query"), "");
    /* scope: present, well-formed, with openid; a value not known is
     * ignored (OIDC Core §3.1.2.1), a malformed one is not. */
    CHECK_EQ_STR(error_of(""), "invalid_request");
    CHECK_EQ_STR(error_of("&scope=email"), "invalid_scope");
    CHECK_EQ_STR(error_of("&scope=openid+admin"), "");
    CHECK_EQ_STR(error_of("&scope=admin"), "invalid_scope");
    CHECK_EQ_STR(error_of("&scope=openid+a%22b"), "invalid_scope");
    CHECK_EQ_STR(error_of("&scope=openid+a%5Cb"), "invalid_scope");
    CHECK_EQ_STR(error_of("&scope=openid++email"), "invalid_scope");
    CHECK_EQ_STR(error_of("&scope=openid+openid"), "invalid_scope");
    /* PKCE: S256 only, 43 characters of base64url. */
    CHECK_EQ_STR(error_of("&scope=openid&code_challenge=" CHALLENGE), "invalid_request");
    CHECK_EQ_STR(error_of("&scope=openid&code_challenge=" CHALLENGE "&code_challenge_method=plain"),
                 "invalid_request");
    CHECK_EQ_STR(error_of("&scope=openid&code_challenge_method=S256"), "invalid_request");
    CHECK_EQ_STR(error_of("&scope=openid&code_challenge=" CHALLENGE "A&code_challenge_method=S256"),
                 "invalid_request");
    CHECK_EQ_STR(
        error_of("&scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw%2BcM"
                 "&code_challenge_method=S256"),
        "invalid_request");
    /* prompt: none alone; each value once; known values only. */
    CHECK_EQ_STR(error_of("&scope=openid&prompt=none"), "");
    CHECK_EQ_STR(error_of("&scope=openid&prompt=none+login"), "invalid_request");
    CHECK_EQ_STR(error_of("&scope=openid&prompt=login+login"), "invalid_request");
    CHECK_EQ_STR(error_of("&scope=openid&prompt=select_account"), "invalid_request");
    CHECK_EQ_STR(error_of("&scope=openid&prompt=login+"), "invalid_request");
    CHECK_EQ_STR(error_of("&scope=openid&prompt=+login"), "invalid_request");
    /* max_age: seconds, 0 included, within its limit. */
    CHECK_EQ_STR(error_of("&scope=openid&max_age=0"), "");
    CHECK_EQ_STR(error_of("&scope=openid&max_age=2147483647"), "");
    CHECK_EQ_STR(error_of("&scope=openid&max_age=2147483648"), "invalid_request");
    CHECK_EQ_STR(error_of("&scope=openid&max_age=-1"), "invalid_request");
    CHECK_EQ_STR(error_of("&scope=openid&max_age=1e3"), "invalid_request");
    /* state 1024, nonce and login_hint 255 bytes at most. */
    CHECK_EQ_STR(error_of(long_param("state", 1024, big)), "");
    CHECK_EQ_STR(error_of(long_param("state", 1025, big)), "invalid_request");
    CHECK_EQ_STR(error_of(long_param("nonce", 255, big)), "");
    CHECK_EQ_STR(error_of(long_param("nonce", 256, big)), "invalid_request");
    CHECK_EQ_STR(error_of(long_param("login_hint", 255, big)), "");
    CHECK_EQ_STR(error_of(long_param("login_hint", 256, big)), "invalid_request");
}

/* response_type: missing and other values have their own codes; state is
 * kept for the error's redirect when it could be read. */
TEST(authzreq_parse_response_type_and_state)
{
    struct authzreq a;
    const char *error = NULL;

    CHECK_EQ_INT(parse("client_id=a&redirect_uri=b&scope=openid&state=xyz", &a, &error),
                 AUTHZREQ_ERROR);
    CHECK_EQ_STR(error, "invalid_request");
    CHECK(a.has_state);
    CHECK_EQ_STR(a.state, "xyz");
    CHECK_EQ_INT(
        parse("client_id=a&redirect_uri=b&scope=openid&response_type=token&state=s", &a, &error),
        AUTHZREQ_ERROR);
    CHECK_EQ_STR(error, "unsupported_response_type");
    CHECK_EQ_INT(
        parse("client_id=a&redirect_uri=b&scope=openid&response_type=code+id_token", &a, &error),
        AUTHZREQ_ERROR);
    CHECK_EQ_STR(error, "unsupported_response_type");
    /* A repeated state is not echoed. */
    CHECK_EQ_INT(parse(BASE "&scope=openid&state=a&state=b", &a, &error), AUTHZREQ_ERROR);
    CHECK(!a.has_state);
}

TEST(authzreq_json_round_trip)
{
    struct authzreq a, b;
    const char *error = NULL;

    REQUIRE(parse(BASE "&scope=openid+profile&state=%22%5C%01%D0%B9&nonce=n"
                       "&code_challenge=" CHALLENGE "&code_challenge_method=S256&prompt=consent"
                       "&max_age=0&login_hint=%3Cann%3E",
                  &a, &error) == AUTHZREQ_OK);
    CHECK_EQ_STR(a.login_sid, "");
    CHECK_EQ_STR(a.consent_sid, "");
    memcpy(a.login_sid, "sid-1", 6);
    memcpy(a.consent_sid, "sid-2", 6);
    char *text = authzreq_to_json(&a);
    REQUIRE(text != NULL);
    REQUIRE(authzreq_from_json(text, &b));
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    free(text);
    /* Without state, it stays without. */
    REQUIRE(parse(BASE "&scope=openid", &a, &error) == AUTHZREQ_OK);
    text = authzreq_to_json(&a);
    REQUIRE(text != NULL);
    REQUIRE(authzreq_from_json(text, &b));
    CHECK(!b.has_state);
    CHECK_EQ_INT(b.max_age, -1);
    free(text);
    CHECK(!authzreq_from_json("{}", &b));
    CHECK(!authzreq_from_json("[1]", &b));
    CHECK(!authzreq_from_json("not json", &b));
}

/* Rows of oidc_requests. */
static long long rows(const struct tdb *t)
{
    return tdb_int(t, "SELECT COUNT(*) FROM oidc_requests");
}

STORE_CASE(authzreq_keep_and_use, 1)
{
    struct authzreq a, b;
    const char *error = NULL;
    char id[AUTHZREQ_ID_LEN + 1], bad[AUTHZREQ_ID_LEN + 1];
    int64_t created = 0;

    REQUIRE(parse(BASE "&scope=openid&state=st", &a, &error) == AUTHZREQ_OK);
    CHECK_EQ_INT(authzreq_save(s, &a, T0, id), OUTCOME_OK);
    CHECK_EQ_INT(strlen(id), AUTHZREQ_ID_LEN);
    CHECK_EQ_INT(rows(t), 1);
    /* Only its SHA-256 is stored. */
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM oidc_requests WHERE length(id_hash) = 32"), 1);
    CHECK_EQ_INT(authzreq_load(s, id, AUTHZREQ_ID_LEN, T0 + 1, &b, &created), OUTCOME_OK);
    CHECK_EQ_INT(created, T0);
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    /* Another id, or one of another form, finds nothing. */
    memcpy(bad, id, sizeof bad);
    bad[0] = id[0] == 'A' ? 'B' : 'A';
    CHECK_EQ_INT(authzreq_load(s, bad, AUTHZREQ_ID_LEN, T0, &b, &created), OUTCOME_BAD_TOKEN);
    CHECK_EQ_INT(authzreq_load(s, id, AUTHZREQ_ID_LEN - 1, T0, &b, &created), OUTCOME_BAD_TOKEN);
    CHECK_EQ_INT(authzreq_use(s, bad, AUTHZREQ_ID_LEN, T0), OUTCOME_BAD_TOKEN);
    /* Ten minutes. */
    CHECK_EQ_INT(authzreq_load(s, id, AUTHZREQ_ID_LEN, T0 + AUTHZREQ_TTL_SECONDS, &b, &created),
                 OUTCOME_BAD_TOKEN);
    CHECK_EQ_INT(authzreq_use(s, id, AUTHZREQ_ID_LEN, T0 + AUTHZREQ_TTL_SECONDS),
                 OUTCOME_BAD_TOKEN);
    /* Once. */
    CHECK_EQ_INT(authzreq_use(s, id, AUTHZREQ_ID_LEN, T0 + 2), OUTCOME_OK);
    CHECK_EQ_INT(authzreq_use(s, id, AUTHZREQ_ID_LEN, T0 + 2), OUTCOME_BAD_TOKEN);
    CHECK_EQ_INT(authzreq_load(s, id, AUTHZREQ_ID_LEN, T0 + 2, &b, &created), OUTCOME_BAD_TOKEN);
}

STORE_CASE(authzreq_purge, 1)
{
    struct authzreq a;
    const char *error = NULL;
    char used[AUTHZREQ_ID_LEN + 1], old[AUTHZREQ_ID_LEN + 1], live[AUTHZREQ_ID_LEN + 1];
    int64_t created;

    REQUIRE(parse(BASE "&scope=openid", &a, &error) == AUTHZREQ_OK);
    REQUIRE(authzreq_save(s, &a, T0, used) == OUTCOME_OK);
    REQUIRE(authzreq_save(s, &a, T0 - AUTHZREQ_TTL_SECONDS, old) == OUTCOME_OK);
    REQUIRE(authzreq_save(s, &a, T0, live) == OUTCOME_OK);
    REQUIRE(authzreq_use(s, used, AUTHZREQ_ID_LEN, T0) == OUTCOME_OK);
    authzreq_purge(s, T0);
    CHECK_EQ_INT(rows(t), 1);
    CHECK_EQ_INT(authzreq_load(s, live, AUTHZREQ_ID_LEN, T0, &a, &created), OUTCOME_OK);
}
