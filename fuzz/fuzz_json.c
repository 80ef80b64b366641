/* api/common.c: the JSON body of POST /register and /login as the handlers
 * read it (api_parse_object, api_string_field), then the rules a username
 * and a new password are held to. What parses is an object that survives a
 * dump and a reload unchanged; the strings handed on are valid UTF-8 of the
 * length given; a client's body never gets anything but 400 or a parse. */
#include <sodium.h>
#include <uninorm.h>

#include "api/api_internal.h"
#include "core/password.h"
#include "core/username.h"
#include "fuzz/fuzz.h"
#include "util/utf8.h"

#define FLAGS (JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        FUZZ_CHECK(sodium_init() >= 0);
        ready = 1;
    }
    char *body = fuzz_strndup(data, size);
    struct api_request req = {.body = body, .body_len = size, .method = "POST"};
    struct reply r = {0};
    json_t *o = api_parse_object(&req, &r);

    if (o == NULL) {
        FUZZ_CHECK(r.status == 400 && r.body != NULL);
        reply_free(&r);
        free(body);
        return 0;
    }
    FUZZ_CHECK(json_is_object(o));
    char *dump = json_dumps(o, JSON_COMPACT);
    FUZZ_CHECK(dump != NULL);
    json_t *back = json_loads(dump, FLAGS, NULL);
    FUZZ_CHECK(back != NULL && json_equal(o, back));
    json_decref(back);
    free(dump);

    struct outcome_errors errs = {0};
    const char *u = NULL, *p = NULL;
    size_t ulen = 0, plen = 0;
    bool have_u = api_string_field(o, "username", &u, &ulen, &errs);
    bool have_p = api_string_field(o, "password", &p, &plen, &errs);
    if (have_u) {
        FUZZ_CHECK(utf8_count(u, ulen) >= 0 && u[ulen] == '\0');
        if (username_check(u, ulen) == USERNAME_OK)
            FUZZ_CHECK(username_storable(u, ulen));
    }
    if (have_p) {
        FUZZ_CHECK(utf8_count(p, plen) >= 0 && p[plen] == '\0');
        struct password_policy pol = {PASSWORD_BCRYPT, 4, 8};
        enum password_rule rule = password_check(&pol, have_u ? u : "", p, plen);
        if (rule == RULE_OK)
            FUZZ_CHECK(plen > 0 && memchr(p, '\0', plen) == NULL);
        /* NFKC is idempotent: the normalised password breaks the same rule
         * as the one typed, unless that rule was about the typed form
         * (invisible characters, the length bound before normalising). */
        size_t nlen = 0;
        uint8_t *n = u8_normalize(UNINORM_NFKC, (const uint8_t *)p, plen, NULL, &nlen);
        FUZZ_CHECK(n != NULL || plen == 0);
        if (n != NULL && rule != RULE_INVISIBLE && rule != RULE_TOO_LONG &&
            rule != RULE_CONTAINS_NUL)
            FUZZ_CHECK(password_check(&pol, have_u ? u : "", (const char *)n, nlen) == rule);
        free(n);
    }
    FUZZ_CHECK(errs.count == (!have_u) + (!have_p));
    json_decref(o);
    free(body);
    return 0;
}
