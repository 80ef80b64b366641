/* core/mail: mail_enqueue writes a composed mail into the caller's
 * transaction, and refuses fields that could inject a header. */
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "core/fixture.h"
#include "core/mail.h"
#include "test.h"

static struct mailer *make_mailer(void)
{
    struct mail_config c = {
        .smtp_url = "smtp://127.0.0.1:1",
        .starttls = true,
        .from = "gatehouse <noreply@example.com>",
        .public_url = "https://auth.example.com/",
        .retry_max_s = 60,
    };
    char err[256] = "";
    struct mailer *m = mail_create(&c, err, sizeof err);

    if (m == NULL)
        test_check(0, __FILE__, __LINE__, err);
    return m;
}

/* The outbox's rows, read behind the store's back: how many, and the
 * message of the last (malloc'd). */
static int outbox_rows(const struct core_fixture *f, char **last)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int n = 0;

    *last = NULL;
    if (sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT message FROM outbox ORDER BY id", -1, &st, NULL) ==
            SQLITE_OK)
        while (sqlite3_step(st) == SQLITE_ROW) {
            free(*last);
            *last = strdup((const char *)sqlite3_column_text(st, 0));
            n++;
        }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* The decoded text/plain part of msg (malloc'd), or NULL. */
static char *text_part(const char *msg)
{
    const char *p = strstr(msg, "Content-Type: text/plain; charset=utf-8\r\n"
                                "Content-Transfer-Encoding: base64\r\n\r\n");
    const char *end = p != NULL ? strstr(p, "\r\n--=_") : NULL;
    size_t got = 0;

    if (end == NULL)
        return NULL;
    p = strstr(p, "\r\n\r\n") + 4;
    char *out = calloc(1, (size_t)(end - p) + 1);
    if (out != NULL &&
        sodium_base642bin((unsigned char *)out, (size_t)(end - p), p, (size_t)(end - p), "\r\n",
                          &got, NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(out);
        return NULL;
    }
    return out;
}

TEST(mail_enqueue_in_transaction)
{
    struct core_fixture f;
    struct mailer *m;
    store_tx tx;
    char *msg = NULL;
    struct mail_fields fields = {.to = "kim@example.org", .username = "kim", .token = "tok_-9"};

    REQUIRE(core_fixture_open(&f) == 0);
    REQUIRE((m = make_mailer()) != NULL);
    /* Rolled back with the caller's transaction: no mail. */
    REQUIRE(store_begin(f.store, &tx) == STORE_OK);
    CHECK_EQ_INT(mail_enqueue(m, f.store, &tx, MAIL_RESET, &fields), STORE_OK);
    store_rollback(&tx);
    CHECK_EQ_INT(outbox_rows(&f, &msg), 0);
    /* Committed with it. */
    REQUIRE(store_begin(f.store, &tx) == STORE_OK);
    CHECK_EQ_INT(mail_enqueue(m, f.store, &tx, MAIL_RESET, &fields), STORE_OK);
    CHECK_EQ_INT(store_commit(&tx), STORE_OK);
    CHECK_EQ_INT(outbox_rows(&f, &msg), 1);
    REQUIRE(msg != NULL);
    CHECK(strstr(msg, "\r\nTo: kim@example.org\r\n") != NULL);
    CHECK(strstr(msg, "@example.com>\r\n") != NULL); /* the Message-ID's domain: MAIL_FROM's */
    char *text = text_part(msg);
    REQUIRE(text != NULL);
    /* The link on a line of its own, PUBLIC_URL's slash not doubled. */
    CHECK(strstr(text, "\r\nhttps://auth.example.com/password/reset?token=tok_-9\r\n") != NULL);
    free(text);
    free(msg);
    /* A confirmation link. */
    CHECK_EQ_INT(mail_enqueue(m, f.store, NULL, MAIL_CONFIRM, &fields), STORE_OK);
    CHECK_EQ_INT(outbox_rows(&f, &msg), 2);
    text = text_part(msg);
    CHECK(text != NULL &&
          strstr(text, "\r\nhttps://auth.example.com/email/confirm?token=tok_-9\r\n") != NULL);
    free(text);
    free(msg);
    mail_free(m);
    core_fixture_close(&f);
}

/* The language asked for; anything but "ru" is English. */
TEST(mail_enqueue_language)
{
    struct core_fixture f;
    struct mailer *m;
    char *msg = NULL;
    struct mail_fields fields = {
        .to = "kim@example.org", .username = "kim", .token = "t", .lang = "ru"};

    REQUIRE(core_fixture_open(&f) == 0);
    REQUIRE((m = make_mailer()) != NULL);
    CHECK_EQ_INT(mail_enqueue(m, f.store, NULL, MAIL_RESET, &fields), STORE_OK);
    outbox_rows(&f, &msg);
    REQUIRE(msg != NULL);
    /* "Сброс" in the subject's encoded-word, and in the text. */
    CHECK(strstr(msg, "Subject: =?UTF-8?B?0KHQsdGA0L7RgS") != NULL);
    char *text = text_part(msg);
    CHECK(text != NULL && strstr(text, "пароль") != NULL);
    free(text);
    free(msg);
    fields.lang = "de";
    CHECK_EQ_INT(mail_enqueue(m, f.store, NULL, MAIL_RESET, &fields), STORE_OK);
    outbox_rows(&f, &msg);
    REQUIRE(msg != NULL);
    CHECK(strstr(msg, "Subject: Reset your password\r\n") != NULL);
    free(msg);
    mail_free(m);
    core_fixture_close(&f);
}

/* Any field with a CR or LF, a recipient that is not an address, a token
 * that is not base64url: refused, nothing queued. */
TEST(mail_enqueue_refuses_injection)
{
    struct core_fixture f;
    struct mailer *m;
    char *msg = NULL;
    const struct mail_fields bad[] = {
        {.to = "kim@example.org\r\nBcc: eve@example.org", .username = "kim", .token = "t"},
        {.to = "kim@example.org>,<eve@example.org", .username = "kim", .token = "t"},
        {.to = "kim@example.org", .username = "kim\r\nBcc: eve@example.org", .token = "t"},
        {.to = "kim@example.org", .username = "kim", .token = "t\r\n"},
        {.to = "kim@example.org", .username = "kim", .token = "t&next=https://evil.example"},
        {.to = "kim@example.org", .username = "kim", .token = ""},
        {.to = "kim@example.org", .username = "kim", .token = "t", .lang = "en\n"},
        {.to = "kim@example.org", .username = NULL, .token = "t"},
    };

    REQUIRE(core_fixture_open(&f) == 0);
    REQUIRE((m = make_mailer()) != NULL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ_INT(mail_enqueue(m, f.store, NULL, MAIL_RESET, &bad[i]), STORE_ERROR);
    struct mail_fields changed = {.to = "kim@example.org",
                                  .username = "kim",
                                  .new_email = "new@example.org\r\nBcc: eve@example.org"};
    CHECK_EQ_INT(mail_enqueue(m, f.store, NULL, MAIL_ADDRESS_CHANGED, &changed), STORE_ERROR);
    CHECK_EQ_INT(mail_enqueue(NULL, f.store, NULL, MAIL_RESET, &bad[0]), STORE_ERROR);
    CHECK_EQ_INT(outbox_rows(&f, &msg), 0);
    free(msg);
    mail_free(m);
    core_fixture_close(&f);
}

/* 1, 2, 4, ... seconds, capped at MAIL_RETRY_MAX_SECONDS, however many
 * attempts failed. */
TEST(mail_retry_delay)
{
    CHECK_EQ_INT(mail_retry_delay(1, 60), 1);
    CHECK_EQ_INT(mail_retry_delay(2, 60), 2);
    CHECK_EQ_INT(mail_retry_delay(3, 60), 4);
    CHECK_EQ_INT(mail_retry_delay(6, 60), 32);
    CHECK_EQ_INT(mail_retry_delay(7, 60), 60);
    CHECK_EQ_INT(mail_retry_delay(1000000000000LL, 86400), 86400);
    CHECK_EQ_INT(mail_retry_delay(5, 1), 1);
    CHECK_EQ_INT(mail_retry_delay(0, 60), 1);
}
