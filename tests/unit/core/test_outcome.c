/* core/outcome: the outcome enum's helpers. */
#include <string.h>

#include "core/outcome.h"
#include "core/outcome_store.h"
#include "test.h"

TEST(outcome_from_store)
{
    CHECK_EQ_INT(outcome_from_store(STORE_OK, OUTCOME_ERROR), OUTCOME_OK);
    CHECK_EQ_INT(outcome_from_store(STORE_CONFLICT, OUTCOME_ERROR), OUTCOME_CONFLICT);
    CHECK_EQ_INT(outcome_from_store(STORE_UNAVAILABLE, OUTCOME_ERROR), OUTCOME_UNAVAILABLE);
    CHECK_EQ_INT(outcome_from_store(STORE_ERROR, OUTCOME_TOKEN_INVALID), OUTCOME_ERROR);
    /* A missing row means what the caller says it means. */
    CHECK_EQ_INT(outcome_from_store(STORE_NOT_FOUND, OUTCOME_TOKEN_INVALID), OUTCOME_TOKEN_INVALID);
    CHECK_EQ_INT(outcome_from_store(STORE_NOT_FOUND, OUTCOME_BAD_CREDENTIALS),
                 OUTCOME_BAD_CREDENTIALS);
}

TEST(outcome_names)
{
    /* Every outcome has its own name, so a log line says which it was. */
    for (int a = 0; a < OUTCOME_COUNT; a++) {
        CHECK(strcmp(outcome_name((enum outcome)a), "unknown") != 0);
        for (int b = a + 1; b < OUTCOME_COUNT; b++)
            CHECK(strcmp(outcome_name((enum outcome)a), outcome_name((enum outcome)b)) != 0);
    }
    CHECK_EQ_STR(outcome_name(OUTCOME_TOKEN_INVALID), "token_invalid");
    CHECK_EQ_STR(outcome_name(OUTCOME_TOKEN_EXPIRED), "token_expired");
    CHECK_EQ_STR(outcome_name((enum outcome)OUTCOME_COUNT), "unknown");
}

TEST(outcome_error_add)
{
    struct outcome_errors e = {0};

    outcome_error_add(&e, "username", "too_short", "must be at least %d characters", 3);
    outcome_error_add(&e, "password", "too_common", "is common");
    outcome_error_add(&e, "password", "dropped", "past the limit");
    CHECK_EQ_INT(e.count, OUTCOME_MAX_ERRORS);
    CHECK_EQ_STR(e.e[0].field, "username");
    CHECK_EQ_STR(e.e[0].message, "must be at least 3 characters");
    CHECK_EQ_STR(e.e[1].code, "too_common");
}
