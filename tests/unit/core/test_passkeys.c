/* core/passkeys and its store functions, on each backend (store/tdb.h):
 * the credential id unique, deletion only by the owner, the counter moved
 * compare-and-set, the cloned mark, the user handle got or created once,
 * and sign-in options that do not tell which names have passkeys. The
 * ceremonies themselves are driven end to end by tests/api/test_passkeys.py
 * with a software authenticator. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/passkeys.h"
#include "core/webauthn.h"
#include "store/store.h"
#include "store/tdb.h"
#include "test.h"

static int64_t new_user(store *s, const char *name)
{
    struct store_user u;

    if (store_user_create(s, NULL, name, name, "$2b$04$h", T0, &u) != STORE_OK)
        return 0;
    return u.id;
}

static void fill(struct store_passkey *p, const char *id, int64_t user, unsigned char cred_byte,
                 size_t cred_len)
{
    memset(p, 0, sizeof *p);
    snprintf(p->id, sizeof p->id, "%s", id);
    p->user_id = user;
    memset(p->credential_id, cred_byte, cred_len);
    p->credential_id_len = cred_len;
    memset(p->public_key, 0xa5, 77);
    p->public_key_len = 77;
    p->alg = -7;
    p->sign_count = 5;
    snprintf(p->name, sizeof p->name, "key %s", id);
    p->created_at = T0;
}

static int count_each(void *arg, const struct store_passkey *p)
{
    (void)p;
    (*(int *)arg)++;
    return 0;
}

STORE_CASE(passkeys_rows, 1)
{
    struct store_passkey p, got;
    int64_t ann = new_user(s, "ann"), bob = new_user(s, "bob"), n = -1;
    int listed = 0;

    (void)t;
    REQUIRE(ann > 0 && bob > 0);
    fill(&p, "pk1", ann, 0x11, WEBAUTHN_CREDENTIAL_ID_MAX);
    CHECK_EQ_INT(store_passkey_add(s, NULL, &p), STORE_OK);
    /* The credential id is unique, whoever registers it. */
    fill(&p, "pk2", bob, 0x11, WEBAUTHN_CREDENTIAL_ID_MAX);
    CHECK_EQ_INT(store_passkey_add(s, NULL, &p), STORE_CONFLICT);
    fill(&p, "pk2", bob, 0x22, 16);
    CHECK_EQ_INT(store_passkey_add(s, NULL, &p), STORE_OK);
    /* A user that is gone has no passkeys. */
    fill(&p, "pk3", 999999, 0x33, 16);
    CHECK_EQ_INT(store_passkey_add(s, NULL, &p), STORE_NOT_FOUND);

    /* Found by its credential id, the longest one included. */
    unsigned char cred[WEBAUTHN_CREDENTIAL_ID_MAX];
    memset(cred, 0x11, sizeof cred);
    CHECK_EQ_INT(store_passkey_by_credential(s, NULL, cred, sizeof cred, &got), STORE_OK);
    CHECK_EQ_STR(got.id, "pk1");
    CHECK_EQ_INT(got.user_id, ann);
    CHECK_EQ_INT(got.public_key_len, 77);
    CHECK_EQ_INT(got.public_key[76], 0xa5);
    CHECK_EQ_INT(got.alg, -7);
    CHECK_EQ_INT(got.sign_count, 5);
    CHECK_EQ_INT(got.cloned_at, 0);
    CHECK_EQ_INT(store_passkey_by_credential(s, NULL, cred, 15, &got), STORE_NOT_FOUND);

    CHECK_EQ_INT(store_passkeys_of_user(s, NULL, ann, count_each, &listed), STORE_OK);
    CHECK_EQ_INT(listed, 1);
    CHECK_EQ_INT(store_passkeys_count(s, NULL, bob, &n), STORE_OK);
    CHECK_EQ_INT(n, 1);

    /* Another user's id is not found, and stays. */
    CHECK_EQ_INT(store_passkey_delete(s, NULL, ann, "pk2"), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_passkeys_count(s, NULL, bob, &n), STORE_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(store_passkey_delete(s, NULL, bob, "pk2"), STORE_OK);
    CHECK_EQ_INT(store_passkey_delete(s, NULL, bob, "pk2"), STORE_NOT_FOUND);
}

STORE_CASE(passkeys_counter, 1)
{
    struct store_passkey p, got;
    int64_t ann = new_user(s, "ann");

    REQUIRE(ann > 0);
    fill(&p, "pk1", ann, 0x11, 32);
    REQUIRE(store_passkey_add(s, NULL, &p) == STORE_OK);
    /* Two assertions that read counter 5: only the first moves it. */
    CHECK_EQ_INT(store_passkey_counter(s, NULL, "pk1", 5, 6, T0 + 1), STORE_OK);
    CHECK_EQ_INT(store_passkey_counter(s, NULL, "pk1", 5, 6, T0 + 1), STORE_NOT_FOUND);
    CHECK_EQ_INT(store_passkey_by_credential(s, NULL, p.credential_id, 32, &got), STORE_OK);
    CHECK_EQ_INT(got.sign_count, 6);
    CHECK_EQ_INT(tdb_int(t, "SELECT last_used_at FROM passkeys WHERE id = 'pk1'"), T0 + 1);
    /* Once marked cloned, the first mark stays and the counter moves no more. */
    CHECK_EQ_INT(store_passkey_cloned(s, NULL, "pk1", T0 + 2), STORE_OK);
    CHECK_EQ_INT(store_passkey_cloned(s, NULL, "pk1", T0 + 3), STORE_OK);
    CHECK_EQ_INT(store_passkey_by_credential(s, NULL, p.credential_id, 32, &got), STORE_OK);
    CHECK_EQ_INT(got.cloned_at, T0 + 2);
    CHECK_EQ_INT(store_passkey_counter(s, NULL, "pk1", 6, 7, T0 + 4), STORE_NOT_FOUND);
}

STORE_CASE(passkeys_user_handle, 1)
{
    unsigned char a[STORE_WEBAUTHN_HANDLE], b[STORE_WEBAUTHN_HANDLE], h1[STORE_WEBAUTHN_HANDLE],
        h2[STORE_WEBAUTHN_HANDLE];
    int64_t ann = new_user(s, "ann");

    (void)t;
    REQUIRE(ann > 0);
    memset(a, 0xaa, sizeof a);
    memset(b, 0xbb, sizeof b);
    CHECK_EQ_INT(store_user_webauthn_handle(s, NULL, ann, a, h1), STORE_OK);
    CHECK(memcmp(h1, a, sizeof a) == 0);
    /* The first one stays. */
    CHECK_EQ_INT(store_user_webauthn_handle(s, NULL, ann, b, h2), STORE_OK);
    CHECK(memcmp(h2, a, sizeof a) == 0);
    CHECK_EQ_INT(store_user_webauthn_handle(s, NULL, 999999, b, h2), STORE_NOT_FOUND);
}

/* passkeys_login_options for name, parsed. */
static json_t *login_options(const struct passkeys_deps *d, const char *name)
{
    char *json = NULL;
    enum outcome o = passkeys_login_options(d, name, name != NULL ? strlen(name) : 0, T0, &json);
    json_t *v = o == OUTCOME_OK ? json_loads(json, 0, NULL) : NULL;

    free(json);
    return v;
}

/* The allowCredentials ids of options, joined by ' '. */
static void ids_of(const json_t *opt, char *out, size_t cap)
{
    size_t i;
    json_t *c;

    out[0] = '\0';
    json_array_foreach(json_object_get(opt, "allowCredentials"), i, c)
    {
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "%s%s", n > 0 ? " " : "",
                 json_string_value(json_object_get(c, "id")));
    }
}

STORE_CASE(passkeys_login_options_alike, 1)
{
    static const char *const origins[] = {"https://auth.example.test"};
    struct passkeys_deps d = {s, NULL, "example.test", "gatehouse", origins, 1, {0}};
    struct store_passkey p;
    char a[2000], b[2000];
    int64_t ann = new_user(s, "ann");

    REQUIRE(ann > 0);
    new_user(s, "bob"); /* an account without passkeys */
    passkeys_handle_key(d.handle_key, "a secret of thirty-two bytes or more!", 37);
    fill(&p, "pk1", ann, 0x11, 32);
    REQUIRE(store_passkey_add(s, NULL, &p) == STORE_OK);

    json_t *real = login_options(&d, "Ann");
    REQUIRE(real != NULL);
    CHECK_EQ_INT(json_array_size(json_object_get(real, "allowCredentials")), 1);
    CHECK_EQ_STR(json_string_value(json_object_get(real, "userVerification")), "required");
    CHECK_EQ_STR(json_string_value(json_object_get(real, "rpId")), "example.test");
    CHECK_EQ_INT(json_string_length(json_object_get(real, "flow_id")), FLOWS_TOKEN_LEN);
    json_decref(real);

    /* A name without an account and one without passkeys: the same shape
     * as a real answer, the same ids each time, different ids per name. */
    static const char *const names[] = {"nobody", "bob", "Bob"};
    char first[3][2000];
    for (size_t i = 0; i < 3; i++) {
        json_t *o1 = login_options(&d, names[i]), *o2 = login_options(&d, names[i]);
        REQUIRE(o1 != NULL && o2 != NULL);
        size_t n = json_array_size(json_object_get(o1, "allowCredentials"));
        CHECK(n == 1 || n == 2);
        ids_of(o1, a, sizeof a);
        ids_of(o2, b, sizeof b);
        CHECK_EQ_STR(a, b);
        snprintf(first[i], sizeof first[i], "%s", a);
        /* The keys and types of a real answer, and no more. */
        CHECK_EQ_INT(json_object_size(o1), 6);
        CHECK_EQ_INT(json_string_length(json_object_get(o1, "flow_id")), FLOWS_TOKEN_LEN);
        CHECK(strcmp(json_string_value(json_object_get(o1, "challenge")),
                     json_string_value(json_object_get(o2, "challenge"))) != 0);
        json_decref(o1);
        json_decref(o2);
    }
    CHECK(strcmp(first[0], first[1]) != 0);
    CHECK_EQ_STR(first[1], first[2]); /* names match without regard to case */
    /* Another key gives other ids. */
    passkeys_handle_key(d.handle_key, "another secret of thirty-two bytes!!", 36);
    json_t *o = login_options(&d, "nobody");
    REQUIRE(o != NULL);
    ids_of(o, a, sizeof a);
    CHECK(strcmp(a, first[0]) != 0);
    json_decref(o);

    /* Username-less: no allowCredentials, and a stored flow. */
    o = login_options(&d, NULL);
    REQUIRE(o != NULL);
    CHECK(json_object_get(o, "allowCredentials") == NULL);
    json_decref(o);
    /* A flow each, as much work for every name; those of the names without
     * passkeys keep no challenge, so that no answer passes them. */
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM mfa_flows WHERE challenge IS NOT NULL"), 2);
    CHECK_EQ_INT(tdb_int(t, "SELECT COUNT(*) FROM mfa_flows WHERE challenge IS NULL"), 7);

    d.rp_id = NULL;
    char *json = NULL;
    CHECK_EQ_INT(passkeys_login_options(&d, NULL, 0, T0, &json), OUTCOME_PASSKEYS_OFF);
    CHECK(json == NULL);
}
