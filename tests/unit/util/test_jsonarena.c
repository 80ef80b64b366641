/* util/jsonarena: jansson's values on a caller's buffer, malloc past it. */
#include <jansson.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "test.h"
#include "util/jsonarena.h"

static int inside(const void *p, const unsigned char *buf, size_t cap)
{
    uintptr_t x = (uintptr_t)p, b = (uintptr_t)buf;
    return x >= b && x - b < cap;
}

TEST(jsonarena_parses_on_the_buffer)
{
    _Alignas(max_align_t) unsigned char buf[4096];
    struct jsonarena a;

    jsonarena_install();
    jsonarena_begin(&a, buf, sizeof buf);
    json_t *o = json_loads("{\"sub\":\"42\",\"username\":\"alice\",\"exp\":1700000000,"
                           "\"aud\":[\"a\",\"b\"]}",
                           JSON_REJECT_DUPLICATES, NULL);
    CHECK(o != NULL);
    CHECK(inside(o, buf, sizeof buf));
    CHECK(a.used > 0 && a.used <= sizeof buf);
    CHECK(a.used % alignof(max_align_t) == 0);
    CHECK_EQ_STR(json_string_value(json_object_get(o, "username")), "alice");
    CHECK(inside(json_string_value(json_object_get(o, "username")), buf, sizeof buf));
    CHECK_EQ_INT(json_integer_value(json_object_get(o, "exp")), 1700000000);
    json_decref(o); /* frees into the arena: nothing */
    jsonarena_end(&a);

    /* Outside an arena, the heap as always (ASan checks these frees). */
    o = json_loads("{\"x\":[1,2,3]}", 0, NULL);
    CHECK(o != NULL && !inside(o, buf, sizeof buf));
    json_decref(o);
}

TEST(jsonarena_spills_to_malloc)
{
    _Alignas(max_align_t) unsigned char buf[256];
    struct jsonarena a;
    char big[3000];

    /* A value that cannot fit comes from malloc and goes back to free. */
    memset(big, 'x', sizeof big);
    big[0] = '"';
    big[sizeof big - 2] = '"';
    big[sizeof big - 1] = '\0';
    jsonarena_install();
    jsonarena_begin(&a, buf, sizeof buf);
    json_t *s = json_loads(big, JSON_DECODE_ANY, NULL);
    CHECK(s != NULL);
    CHECK_EQ_INT(json_string_length(s), sizeof big - 3);
    CHECK(!inside(json_string_value(s), buf, sizeof buf));
    CHECK(a.used <= sizeof buf);
    json_decref(s);
    jsonarena_end(&a);
}

TEST(jsonarena_nests)
{
    _Alignas(max_align_t) unsigned char outer_buf[1024], inner_buf[1024];
    struct jsonarena outer, inner;

    jsonarena_install();
    jsonarena_begin(&outer, outer_buf, sizeof outer_buf);
    json_t *o = json_loads("{\"a\":1}", 0, NULL);
    jsonarena_begin(&inner, inner_buf, sizeof inner_buf);
    json_t *i = json_loads("{\"b\":2}", 0, NULL);
    CHECK(inside(o, outer_buf, sizeof outer_buf) && inside(i, inner_buf, sizeof inner_buf));
    /* A value of the outer arena released while the inner one is current. */
    json_decref(o);
    json_decref(i);
    jsonarena_end(&inner);
    jsonarena_end(&outer);
}
