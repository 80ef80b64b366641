/* api/errors: every core outcome has one status, one body and the headers
 * its status needs; /token's outcomes take the RFC 6749 §5.2 form. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/errors.h"
#include "test.h"

/* The value of header name in r, or NULL. */
static const char *header(const struct reply *r, const char *name)
{
    for (int i = 0; i < r->nheaders; i++)
        if (strcmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

static struct outcome_detail one_rule(void)
{
    struct outcome_detail d = {0};

    outcome_error_add(&d.errors, "password", "too_short", "must be at least %d characters", 8);
    return d;
}

/* What a client of today's endpoints sees, byte for byte. */
struct expected {
    enum outcome o;
    int status;
    const char *body;
    const char *www_authenticate;
    unsigned retry_after;
};

#define PROBLEM(title, status, detail)                                                             \
    "{\"type\":\"about:blank\",\"title\":\"" title "\",\"status\":" #status                        \
    ",\"detail\":\"" detail "\"}\n"

static const struct expected expected[] = {
    {OUTCOME_INVALID, 422,
     "{\"type\":\"about:blank\",\"title\":\"Unprocessable Content\",\"status\":422,"
     "\"detail\":\"password: must be at least 8 characters\",\"errors\":[{\"field\":"
     "\"password\",\"code\":\"too_short\",\"message\":\"must be at least 8 characters\"}]}\n",
     NULL, 0},
    {OUTCOME_CONFLICT, 409, PROBLEM("Conflict", 409, "username: already registered"), NULL, 0},
    {OUTCOME_BAD_CREDENTIALS, 401, PROBLEM("Unauthorized", 401, "Incorrect username or password"),
     "Bearer", 0},
    {OUTCOME_UNAUTHENTICATED, 401, PROBLEM("Unauthorized", 401, "Not authenticated"), "Bearer", 0},
    {OUTCOME_TOKEN_INVALID, 401, PROBLEM("Unauthorized", 401, "Could not validate credentials"),
     "Bearer error=\"invalid_token\"", 0},
    {OUTCOME_TOKEN_REUSED, 401,
     PROBLEM("Unauthorized", 401, "refresh token already used; its session is revoked"),
     "Bearer error=\"invalid_token\"", 0},
    {OUTCOME_FORBIDDEN, 403,
     PROBLEM("Forbidden", 403, "Origin not allowed for a request authenticated by a cookie"), NULL,
     0},
    {OUTCOME_THROTTLED, 429, PROBLEM("Too Many Requests", 429, "too many attempts; retry later"),
     NULL, 1},
    {OUTCOME_OVERLOADED, 503,
     PROBLEM("Service Unavailable", 503, "the server is busy; retry later"), NULL, 1},
    {OUTCOME_UNAVAILABLE, 503,
     PROBLEM("Service Unavailable", 503, "the database is unavailable; retry later"), NULL, 1},
    {OUTCOME_TOKEN_EXPIRED, 401,
     PROBLEM("Unauthorized", 401, "Could not validate credentials: the token has expired"),
     "Bearer error=\"invalid_token\", error_description=\"The access token expired\"", 0},
    {OUTCOME_CROSS_SITE, 403,
     PROBLEM("Forbidden", 403, "Origin not allowed for a sign-in that sets cookies"), NULL, 0},
    {OUTCOME_STOPPING, 503, PROBLEM("Service Unavailable", 503, "the server is shutting down"),
     NULL, 1},
    {OUTCOME_BAD_TOKEN, 400, PROBLEM("Bad Request", 400, "token: invalid, used or expired"), NULL,
     0},
    {OUTCOME_NO_EMAIL, 409, PROBLEM("Conflict", 409, "email: the account has no address"), NULL, 0},
    {OUTCOME_MAIL_OFF, 501,
     PROBLEM("Not Implemented", 501, "mail is not configured on this server (SMTP_URL)"), NULL, 0},
    {OUTCOME_MFA_REQUIRED, 403, PROBLEM("Forbidden", 403, "a second factor is required"), NULL, 0},
    {OUTCOME_BAD_CODE, 401, PROBLEM("Unauthorized", 401, "code: invalid, used or expired"),
     "Bearer", 0},
    {OUTCOME_PASSKEY_REFUSED, 401, PROBLEM("Unauthorized", 401, "passkey: not accepted"), "Bearer",
     0},
    {OUTCOME_NOT_FOUND, 404, PROBLEM("Not Found", 404, "Not Found"), NULL, 0},
    {OUTCOME_PASSKEYS_OFF, 501,
     PROBLEM("Not Implemented", 501,
             "passkeys are not configured on this server (they need PUBLIC_URL, and "
             "WEBAUTHN_RP_ID when its host is an IP address)"),
     NULL, 0},
    {OUTCOME_MFA_OFF, 501,
     PROBLEM("Not Implemented", 501,
             "TOTP is not available on this server: it needs MFA_ENCRYPTION_KEY (or SECRET_KEY) "
             "to encrypt secrets"),
     NULL, 0},
    {OUTCOME_BAD_GRANT, 400, PROBLEM("Bad Request", 400, "the grant is invalid, used or expired"),
     NULL, 0},
    {OUTCOME_BAD_CLIENT, 401, PROBLEM("Unauthorized", 401, "client authentication failed"),
     "Basic realm=\"gatehouse\"", 0},
    {OUTCOME_NOT_ADMIN, 403,
     PROBLEM("Forbidden", 403,
             "the admin role is needed, with the second factor when the admin has one"),
     NULL, 0},
    {OUTCOME_ERROR, 500, PROBLEM("Internal Server Error", 500, "internal error"), NULL, 0},
};

TEST(errors_problem_each_outcome)
{
    bool seen[OUTCOME_COUNT] = {false};

    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        const struct expected *e = &expected[i];
        struct outcome_detail d = one_rule();
        struct reply r = {0};

        errors_problem(&r, e->o, &d);
        if (r.status != e->status || r.body == NULL || strcmp(r.body, e->body) != 0) {
            char what[600];
            snprintf(what, sizeof what, "%s: %d %s", outcome_name(e->o), r.status,
                     r.body != NULL ? r.body : "(no body)");
            test_check(0, __FILE__, __LINE__, what);
        }
        CHECK_EQ_INT(errors_status(e->o), e->status);
        CHECK_EQ_STR(r.content_type, "application/problem+json");
        CHECK_EQ_STR(header(&r, "WWW-Authenticate"), e->www_authenticate);
        CHECK_EQ_INT(r.retry_after, e->retry_after);
        CHECK(!r.no_store);
        seen[e->o] = true;
        reply_free(&r);
    }
    /* The table above names every outcome but OK. */
    for (int o = OUTCOME_OK + 1; o < OUTCOME_COUNT; o++)
        CHECK(seen[o]);
}

/* Properties every outcome's answer has, whatever its text: this is what
 * fails when an outcome is added to core without a line in the map. */
TEST(errors_problem_every_outcome_complete)
{
    for (int o = OUTCOME_OK + 1; o < OUTCOME_COUNT; o++) {
        struct outcome_detail d = one_rule();
        struct reply r = {0};

        errors_problem(&r, (enum outcome)o, &d);
        REQUIRE(r.body != NULL);
        CHECK(r.status >= 400 && r.status <= 599);
        CHECK_EQ_INT(r.status, errors_status((enum outcome)o));
        json_t *body = json_loads(r.body, JSON_REJECT_DUPLICATES, NULL);
        REQUIRE(body != NULL);
        CHECK_EQ_INT(json_integer_value(json_object_get(body, "status")), r.status);
        CHECK_EQ_STR(json_string_value(json_object_get(body, "title")), reply_reason(r.status));
        const char *detail = json_string_value(json_object_get(body, "detail"));
        CHECK(detail != NULL && detail[0] != '\0');
        /* RFC 9110 §15.5.2: a 401 says how to authenticate. API.md: 429 and
         * 503 say when to come back. */
        CHECK_EQ_INT(header(&r, "WWW-Authenticate") != NULL, r.status == 401);
        CHECK_EQ_INT(r.retry_after > 0, r.status == 429 || r.status == 503);
        json_decref(body);
        reply_free(&r);
    }
}

TEST(errors_problem_retry_after)
{
    struct outcome_detail d = {0};
    struct reply r = {0};

    /* The throttle says how long; the map only supplies a default. */
    d.retry_after = 17;
    errors_problem(&r, OUTCOME_THROTTLED, &d);
    CHECK_EQ_INT(r.status, 429);
    CHECK_EQ_INT(r.retry_after, 17);
    reply_free(&r);
    errors_problem(&r, OUTCOME_THROTTLED, NULL);
    CHECK_EQ_INT(r.retry_after, 1);
    reply_free(&r);
    d.retry_after = 5;
    errors_problem(&r, OUTCOME_OVERLOADED, &d);
    CHECK_EQ_INT(r.status, 503);
    CHECK_EQ_INT(r.retry_after, 5);
    reply_free(&r);
    /* No Retry-After where the status has none, whatever the detail says. */
    errors_problem(&r, OUTCOME_TOKEN_INVALID, &d);
    CHECK_EQ_INT(r.retry_after, 0);
    reply_free(&r);
}

TEST(errors_problem_misuse_is_500)
{
    struct outcome_detail none = {0};
    struct reply r = {0};

    /* OK is no error, and a 422 needs a rule to name: either is a bug. */
    errors_problem(&r, OUTCOME_OK, NULL);
    CHECK_EQ_INT(r.status, 500);
    reply_free(&r);
    errors_problem(&r, OUTCOME_INVALID, &none);
    CHECK_EQ_INT(r.status, 500);
    reply_free(&r);
    errors_problem(&r, OUTCOME_INVALID, NULL);
    CHECK_EQ_INT(r.status, 500);
    reply_free(&r);
    errors_problem(&r, (enum outcome)(OUTCOME_COUNT + 3), NULL);
    CHECK_EQ_INT(r.status, 500);
    reply_free(&r);
}

TEST(errors_problem_replaces_earlier_answer)
{
    struct reply r = {0};

    reply_json(&r, 200, strdup("{\"ok\":true}"));
    errors_problem(&r, OUTCOME_CONFLICT, NULL);
    CHECK_EQ_INT(r.status, 409);
    CHECK_EQ_STR(r.body, PROBLEM("Conflict", 409, "username: already registered"));
    reply_free(&r);
}

static void check_oauth(enum outcome o, const struct outcome_detail *d, const char *body, int line)
{
    struct reply r = {0};

    errors_oauth(&r, o, d);
    test_check_int(r.status, 400, __FILE__, line, outcome_name(o), "400");
    test_check_str(r.content_type, "application/json", __FILE__, line, outcome_name(o),
                   "application/json");
    test_check_str(r.body, body, __FILE__, line, outcome_name(o), body);
    reply_free(&r);
}

TEST(errors_oauth_grant_errors)
{
    struct outcome_detail d = one_rule();

    check_oauth(OUTCOME_BAD_CREDENTIALS, NULL,
                "{\"error\":\"invalid_grant\",\"error_description\":"
                "\"Incorrect username or password\"}\n",
                __LINE__);
    check_oauth(OUTCOME_TOKEN_INVALID, NULL,
                "{\"error\":\"invalid_grant\",\"error_description\":"
                "\"refresh_token: invalid, expired or revoked\"}\n",
                __LINE__);
    check_oauth(OUTCOME_TOKEN_EXPIRED, NULL,
                "{\"error\":\"invalid_grant\",\"error_description\":"
                "\"refresh_token: invalid, expired or revoked\"}\n",
                __LINE__);
    check_oauth(OUTCOME_TOKEN_REUSED, NULL,
                "{\"error\":\"invalid_grant\",\"error_description\":"
                "\"refresh_token: already used; its session is revoked\"}\n",
                __LINE__);
    check_oauth(OUTCOME_BAD_GRANT, NULL,
                "{\"error\":\"invalid_grant\",\"error_description\":"
                "\"the grant is invalid, used or expired\"}\n",
                __LINE__);
    check_oauth(OUTCOME_INVALID, &d,
                "{\"error\":\"invalid_request\",\"error_description\":"
                "\"password: must be at least 8 characters\"}\n",
                __LINE__);
}

TEST(errors_oauth_service_conditions_as_problems)
{
    struct outcome_detail d = {0};

    /* §5.2 has no code for these: they are answered as on every endpoint. */
    d.retry_after = 9;
    for (int o = OUTCOME_OK + 1; o < OUTCOME_COUNT; o++) {
        struct reply oauth = {0}, problem = {0};
        if (o == OUTCOME_INVALID || o == OUTCOME_BAD_CREDENTIALS || o == OUTCOME_TOKEN_INVALID ||
            o == OUTCOME_TOKEN_REUSED || o == OUTCOME_TOKEN_EXPIRED || o == OUTCOME_BAD_GRANT ||
            o == OUTCOME_BAD_CLIENT)
            continue;
        errors_oauth(&oauth, (enum outcome)o, &d);
        errors_problem(&problem, (enum outcome)o, &d);
        CHECK_EQ_INT(oauth.status, problem.status);
        CHECK_EQ_STR(oauth.content_type, "application/problem+json");
        CHECK_EQ_STR(oauth.body, problem.body);
        CHECK_EQ_INT(oauth.retry_after, problem.retry_after);
        reply_free(&oauth);
        reply_free(&problem);
    }
    struct reply r = {0};
    errors_oauth(&r, OUTCOME_UNAVAILABLE, NULL);
    CHECK_EQ_INT(r.status, 503);
    CHECK_EQ_INT(r.retry_after, 1);
    reply_free(&r);
    /* An INVALID without a rule is a bug here too. */
    errors_oauth(&r, OUTCOME_INVALID, NULL);
    CHECK_EQ_INT(r.status, 500);
    reply_free(&r);
}

TEST(errors_oauth_request_body)
{
    struct reply r = {0};

    errors_oauth_request(&r, "unsupported_grant_type", "grant_type: only \"password\"");
    CHECK_EQ_INT(r.status, 400);
    CHECK_EQ_STR(r.content_type, "application/json");
    CHECK_EQ_STR(r.body, "{\"error\":\"unsupported_grant_type\",\"error_description\":"
                         "\"grant_type: only \\\"password\\\"\"}\n");
    CHECK_EQ_INT(r.nheaders, 0);
    reply_free(&r);
}
