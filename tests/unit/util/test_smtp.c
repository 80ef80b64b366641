/* util/smtp's SMTP_URL checks and util/mailaddr. Sending is tested against
 * real servers (tests/api/test_mail.py). */
#include <string.h>

#include "test.h"
#include "util/mailaddr.h"
#include "util/smtp.h"

static void url_ok(const char *url, bool tls, bool loopback, const char *host, unsigned port,
                   int line)
{
    struct smtp_url u;
    char err[200] = "";

    if (!test_check(smtp_url_parse(url, &u, err, sizeof err) == 0, __FILE__, line, url))
        return;
    test_check(u.tls == tls, __FILE__, line, "tls");
    test_check(u.loopback == loopback, __FILE__, line, "loopback");
    test_check_str(u.host, host, __FILE__, line, "host", host);
    test_check_int(u.port, port, __FILE__, line, "port", "want");
}

static void url_bad(const char *url, const char *why, int line)
{
    char err[200] = "";

    test_check(smtp_url_parse(url, NULL, err, sizeof err) == -1, __FILE__, line, url);
    test_check(strstr(err, why) != NULL, __FILE__, line, why);
    /* A reason never shows the password. */
    test_check(strstr(err, "s3cret") == NULL, __FILE__, line, "no password in the reason");
}

TEST(smtp_url_forms)
{
    url_ok("smtp://127.0.0.1:2525", false, true, "127.0.0.1", 2525, __LINE__);
    url_ok("smtp://127.8.9.10", false, true, "127.8.9.10", 0, __LINE__);
    url_ok("smtp://localhost", false, true, "localhost", 0, __LINE__);
    url_ok("smtp://LocalHost:25/", false, true, "LocalHost", 25, __LINE__);
    url_ok("smtp://[::1]:25", false, true, "::1", 25, __LINE__);
    url_ok("smtp://[2001:db8::1]", false, false, "2001:db8::1", 0, __LINE__);
    url_ok("smtps://user:s3cret@mail.example.com:465", true, false, "mail.example.com", 465,
           __LINE__);
    url_ok("smtp://u%40x:p%3Aw@mail.example.com/client.example.com", false, false,
           "mail.example.com", 0, __LINE__);
    url_ok("SMTP://mail.example.com:587", false, false, "mail.example.com", 587, __LINE__);
    /* Not loopback, whatever they look like. */
    url_ok("smtp://128.0.0.1", false, false, "128.0.0.1", 0, __LINE__);
    url_ok("smtp://localhost.example.com", false, false, "localhost.example.com", 0, __LINE__);
    url_ok("smtp://[::ffff:127.0.0.1]", false, false, "::ffff:127.0.0.1", 0, __LINE__);
}

TEST(smtp_url_refused)
{
    url_bad("", "empty", __LINE__);
    url_bad("http://mail.example.com", "smtp://", __LINE__);
    url_bad("smtp:/mail.example.com", "smtp://", __LINE__);
    url_bad("smtp://", "host", __LINE__);
    url_bad("smtp://user:s3cret@", "host", __LINE__);
    url_bad("smtp://:25", "host", __LINE__);
    url_bad("smtp://@mail.example.com", "login", __LINE__);
    url_bad("smtp://mail.example.com:0", "1-65535", __LINE__);
    url_bad("smtp://mail.example.com:65536", "1-65535", __LINE__);
    url_bad("smtp://mail.example.com:2x", "PORT", __LINE__);
    url_bad("smtp://mail.example.com:", "PORT", __LINE__);
    url_bad("smtp://mail.example.com:1234567", "PORT", __LINE__);
    url_bad("smtp://mail_host", "letters", __LINE__);
    url_bad("smtp://[::1", "]", __LINE__);
    url_bad("smtp://[zz::1]", "IPv6", __LINE__);
    url_bad("smtp://mail.example.com?x=1", "query", __LINE__);
    url_bad("smtp://mail.example.com#f", "query", __LINE__);
    url_bad("smtp://mail.example.com/a b", "space", __LINE__);
    url_bad("smtp://mail.example.com\r\n", "control", __LINE__);
    url_bad("smtp://user:s3cret@mail.example.com/x/y", "path", __LINE__);
    char longer[SMTP_URL_MAX + 16] = "smtp://";
    memset(longer + 7, 'a', SMTP_URL_MAX);
    url_bad(longer, "longer", __LINE__);
}

TEST(smtp_url_redact)
{
    char buf[200];

    smtp_url_redact("smtp://user:s3cret@mail.example.com:587", buf, sizeof buf);
    CHECK_EQ_STR(buf, "smtp://user@mail.example.com:587");
    smtp_url_redact("smtps://a:b:c@d@mail.example.com/x", buf, sizeof buf);
    CHECK_EQ_STR(buf, "smtps://a@mail.example.com/x");
    smtp_url_redact("smtp://user@mail.example.com", buf, sizeof buf);
    CHECK_EQ_STR(buf, "smtp://user@mail.example.com");
    smtp_url_redact("smtp://mail.example.com:25", buf, sizeof buf);
    CHECK_EQ_STR(buf, "smtp://mail.example.com:25");
}

TEST(mailaddr_valid)
{
    CHECK(mailaddr_valid("kim@example.org"));
    CHECK(mailaddr_valid("a.b+tag@mail.example.org"));
    CHECK(mailaddr_valid("!#$%&'*+-/=?^_`{|}~@x.example"));
    CHECK(mailaddr_valid("kim@localhost"));
    CHECK(!mailaddr_valid(""));
    CHECK(!mailaddr_valid("kim"));
    CHECK(!mailaddr_valid("@example.org"));
    CHECK(!mailaddr_valid("kim@"));
    CHECK(!mailaddr_valid("kim@@example.org"));
    CHECK(!mailaddr_valid("k@m@example.org"));
    CHECK(!mailaddr_valid(".kim@example.org"));
    CHECK(!mailaddr_valid("kim.@example.org"));
    CHECK(!mailaddr_valid("k..im@example.org"));
    CHECK(!mailaddr_valid("\"kim\"@example.org"));
    CHECK(!mailaddr_valid("kim@[127.0.0.1]"));
    CHECK(!mailaddr_valid("kim@-example.org"));
    CHECK(!mailaddr_valid("kim@example-.org"));
    CHECK(!mailaddr_valid("kim@example..org"));
    CHECK(!mailaddr_valid("kim@example.org."));
    CHECK(!mailaddr_valid("kim@exa mple.org"));
    CHECK(!mailaddr_valid("kim@example.org\r\nBcc: x@y.z"));
    CHECK(!mailaddr_valid("kim@example.org>"));
    CHECK(!mailaddr_valid("kím@example.org"));
    char local[80];
    memset(local, 'a', 65);
    memcpy(local + 65, "@x.org", 7);
    CHECK(!mailaddr_valid(local));
    local[1] = '@';
    local[2] = '\0';
    CHECK(!mailaddr_valid(local));
    char label[100] = "a@";
    memset(label + 2, 'b', 64);
    label[66] = '\0';
    CHECK(!mailaddr_valid(label));
    label[65] = '\0';
    CHECK(mailaddr_valid(label));
}

TEST(mailaddr_mailbox)
{
    char name[MAILADDR_NAME_MAX + 1], addr[MAILADDR_MAX + 1], err[200];

    CHECK_EQ_INT(mailaddr_parse_mailbox("noreply@example.com", name, addr, err, sizeof err), 0);
    CHECK_EQ_STR(name, "");
    CHECK_EQ_STR(addr, "noreply@example.com");
    CHECK_EQ_INT(
        mailaddr_parse_mailbox("gatehouse <noreply@example.com>", name, addr, err, sizeof err), 0);
    CHECK_EQ_STR(name, "gatehouse");
    CHECK_EQ_STR(addr, "noreply@example.com");
    CHECK_EQ_INT(mailaddr_parse_mailbox("  \"Гейтхаус, вход\"  <noreply@example.com> ", name, addr,
                                        err, sizeof err),
                 0);
    CHECK_EQ_STR(name, "Гейтхаус, вход");
    CHECK_EQ_INT(mailaddr_parse_mailbox("x <noreply@example.com", name, addr, err, sizeof err), -1);
    CHECK_EQ_INT(mailaddr_parse_mailbox("x <a@b.c> y", name, addr, err, sizeof err), -1);
    CHECK_EQ_INT(mailaddr_parse_mailbox("x\r\nBcc: y <a@b.c>", name, addr, err, sizeof err), -1);
    CHECK_EQ_INT(mailaddr_parse_mailbox("a \"b\" c <a@b.c>", name, addr, err, sizeof err), -1);
    CHECK_EQ_INT(mailaddr_parse_mailbox("\xff <a@b.c>", name, addr, err, sizeof err), -1);
    CHECK_EQ_INT(mailaddr_parse_mailbox("x <not-an-address>", name, addr, err, sizeof err), -1);
    CHECK(strstr(err, "local@domain") != NULL);
    CHECK_EQ_INT(mailaddr_parse_mailbox("", name, addr, err, sizeof err), -1);
}
