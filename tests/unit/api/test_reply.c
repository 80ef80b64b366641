/* api/reply: RFC 9457 problem bodies, 422 error lists, headers. */
#include <jansson.h>
#include <string.h>

#include "api/reply.h"
#include "test.h"

TEST(reply_problem_body)
{
    struct reply r = {0};

    reply_problem(&r, 404, "x");
    CHECK_EQ_INT(r.status, 404);
    CHECK_EQ_STR(r.content_type, "application/problem+json");
    CHECK_EQ_STR(r.body, "{\"type\":\"about:blank\",\"title\":\"Not Found\",\"status\":404,"
                         "\"detail\":\"x\"}\n");
    CHECK_EQ_INT(r.body_len, r.body != NULL ? strlen(r.body) : 0);
    reply_free(&r);
    CHECK(r.body == NULL);
    CHECK_EQ_INT(r.status, 0);
}

TEST(reply_problem_escapes)
{
    struct reply r = {0};

    /* The detail is JSON text, escaped; non-ASCII stays UTF-8. */
    reply_problem(&r, 400, "a \"quoted\" \\ detail\n\xc3\xa9");
    CHECK_EQ_STR(r.body, "{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,"
                         "\"detail\":\"a \\\"quoted\\\" \\\\ detail\\n\xc3\xa9\"}\n");
    reply_free(&r);
}

TEST(reply_problem_deterministic)
{
    struct reply a = {0}, b = {0};

    /* Equal failures give byte-equal bodies. */
    reply_problem(&a, 401, "Incorrect username or password");
    reply_problem(&b, 401, "Incorrect username or password");
    REQUIRE(a.body != NULL && b.body != NULL);
    CHECK_EQ_STR(a.body, b.body);
    CHECK(strstr(a.body, "\"title\":\"Unauthorized\"") != NULL);
    reply_free(&a);
    reply_free(&b);
}

TEST(reply_problem_replaces_body)
{
    struct reply r = {0};
    char *json = strdup("{\"ok\":true}");

    REQUIRE(json != NULL);
    reply_json(&r, 200, json);
    CHECK_EQ_INT(r.status, 200);
    CHECK_EQ_STR(r.content_type, "application/json");
    /* Every JSON body ends its line. */
    CHECK_EQ_INT(r.body_len, 12);
    CHECK_EQ_STR(r.body, "{\"ok\":true}\n");
    reply_problem(&r, 503, "busy");
    CHECK_EQ_INT(r.status, 503);
    CHECK_EQ_STR(r.body, "{\"type\":\"about:blank\",\"title\":\"Service Unavailable\","
                         "\"status\":503,\"detail\":\"busy\"}\n");
    reply_problem(&r, 500, "internal error");
    CHECK_EQ_INT(r.status, 500);
    CHECK(r.body != NULL && strstr(r.body, "\"detail\":\"internal error\"") != NULL);
    reply_free(&r);
}

TEST(reply_invalid_body)
{
    struct reply r = {0};
    struct outcome_errors errs = {0};

    outcome_error_add(&errs, "password", "too_short", "must be at least %d characters", 8);
    reply_invalid(&r, &errs);
    CHECK_EQ_INT(r.status, 422);
    CHECK_EQ_STR(r.content_type, "application/problem+json");
    CHECK_EQ_STR(r.body,
                 "{\"type\":\"about:blank\",\"title\":\"Unprocessable Content\",\"status\":422,"
                 "\"detail\":\"password: must be at least 8 characters\",\"errors\":[{\"field\":"
                 "\"password\",\"code\":\"too_short\",\"message\":\"must be at least 8 "
                 "characters\"}]}\n");
    reply_free(&r);
}

TEST(reply_invalid_lists_every_error)
{
    struct reply r = {0};
    struct outcome_errors errs = {0};

    outcome_error_add(&errs, "username", "too_short", "must be at least %d characters", 3);
    outcome_error_add(&errs, "password", "too_common", "is on the list");
    outcome_error_add(&errs, "password", "ignored", "past OUTCOME_MAX_ERRORS");
    CHECK_EQ_INT(errs.count, OUTCOME_MAX_ERRORS);
    reply_invalid(&r, &errs);
    REQUIRE(r.body != NULL);
    json_t *o = json_loads(r.body, JSON_REJECT_DUPLICATES, NULL);
    REQUIRE(o != NULL);
    CHECK_EQ_INT(json_integer_value(json_object_get(o, "status")), 422);
    CHECK_EQ_STR(json_string_value(json_object_get(o, "detail")),
                 "username: must be at least 3 characters");
    json_t *list = json_object_get(o, "errors");
    CHECK_EQ_INT(json_array_size(list), 2);
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 0), "code")), "too_short");
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 1), "field")), "password");
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 1), "code")), "too_common");
    CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 1), "message")),
                 "is on the list");
    json_decref(o);
    reply_free(&r);
}

TEST(reply_headers)
{
    struct reply r = {0};
    char value[16] = "Bearer";

    reply_problem(&r, 401, "Not authenticated");
    reply_header(&r, "WWW-Authenticate", value);
    value[0] = 'X'; /* the value was copied */
    CHECK_EQ_INT(r.nheaders, 1);
    CHECK_EQ_STR(r.headers[0].name, "WWW-Authenticate");
    CHECK_EQ_STR(r.headers[0].value, "Bearer");
    for (int i = 0; i < REPLY_MAX_HEADERS + 2; i++)
        reply_header(&r, "X-Extra", "1");
    CHECK_EQ_INT(r.nheaders, REPLY_MAX_HEADERS);
    reply_free(&r);
    CHECK_EQ_INT(r.nheaders, 0);
}

TEST(reply_reason)
{
    CHECK_EQ_STR(reply_reason(200), "OK");
    CHECK_EQ_STR(reply_reason(401), "Unauthorized");
    CHECK_EQ_STR(reply_reason(404), "Not Found");
    CHECK_EQ_STR(reply_reason(405), "Method Not Allowed");
    CHECK_EQ_STR(reply_reason(409), "Conflict");
    CHECK_EQ_STR(reply_reason(413), "Content Too Large");
    CHECK_EQ_STR(reply_reason(415), "Unsupported Media Type");
    CHECK_EQ_STR(reply_reason(422), "Unprocessable Content");
    CHECK_EQ_STR(reply_reason(429), "Too Many Requests");
    CHECK_EQ_STR(reply_reason(431), "Request Header Fields Too Large");
    CHECK_EQ_STR(reply_reason(503), "Service Unavailable");
    CHECK(reply_reason(799) != NULL);
}
