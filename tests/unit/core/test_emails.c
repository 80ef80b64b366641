/* core/emails: the accepted subset of RFC 5322 addr-spec (emails_check) and
 * the key an address is unique by (emails_key). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/emails.h"
#include "test.h"

static enum emails_check check(const char *a)
{
    return emails_check(a, strlen(a));
}

TEST(emails_accepts)
{
    CHECK_EQ_INT(check("a@example.org"), EMAILS_OK);
    CHECK_EQ_INT(check("first.last+tag@mail.example.co.uk"), EMAILS_OK);
    CHECK_EQ_INT(check("x!#$%&'*+-/=?^_`{|}~y@example.org"), EMAILS_OK);
    CHECK_EQ_INT(check("UPPER@EXAMPLE.ORG"), EMAILS_OK);
    CHECK_EQ_INT(check("a@xn--80ak6aa92e.com"), EMAILS_OK); /* an IDN in its A-label form */
    CHECK_EQ_INT(check("a@a-b.c1"), EMAILS_OK);
    CHECK_EQ_INT(check("a@123.example"), EMAILS_OK);
}

TEST(emails_refuses_shape)
{
    CHECK_EQ_INT(check(""), EMAILS_NO_AT);
    CHECK_EQ_INT(check("plain"), EMAILS_NO_AT);
    CHECK_EQ_INT(check("@example.org"), EMAILS_NO_AT);
    CHECK_EQ_INT(check("a@"), EMAILS_NO_AT);
    CHECK_EQ_INT(check("a@b@example.org"), EMAILS_NO_AT);
    CHECK_EQ_INT(check(".a@example.org"), EMAILS_BAD_LOCAL);
    CHECK_EQ_INT(check("a.@example.org"), EMAILS_BAD_LOCAL);
    CHECK_EQ_INT(check("a..b@example.org"), EMAILS_BAD_LOCAL);
    CHECK_EQ_INT(check("\"quoted\"@example.org"), EMAILS_BAD_LOCAL);
    CHECK_EQ_INT(check("a b@example.org"), EMAILS_BAD_LOCAL);
    CHECK_EQ_INT(check("a(comment)@example.org"), EMAILS_BAD_LOCAL);
    CHECK_EQ_INT(check("\xc3\xa9@example.org"), EMAILS_BAD_LOCAL); /* non-ASCII: no SMTPUTF8 */
    CHECK_EQ_INT(check("a@localhost"), EMAILS_BAD_DOMAIN);         /* no dot */
    CHECK_EQ_INT(check("a@[127.0.0.1]"), EMAILS_BAD_DOMAIN);       /* no address literals */
    CHECK_EQ_INT(check("a@127.0.0.1"), EMAILS_BAD_DOMAIN);         /* all-digit last label */
    CHECK_EQ_INT(check("a@example..org"), EMAILS_BAD_DOMAIN);
    CHECK_EQ_INT(check("a@.example.org"), EMAILS_BAD_DOMAIN);
    CHECK_EQ_INT(check("a@example.org."), EMAILS_BAD_DOMAIN);
    CHECK_EQ_INT(check("a@-example.org"), EMAILS_BAD_DOMAIN);
    CHECK_EQ_INT(check("a@example-.org"), EMAILS_BAD_DOMAIN);
    CHECK_EQ_INT(check("a@exa_mple.org"), EMAILS_BAD_DOMAIN);
    CHECK_EQ_INT(check("a@ex ample.org"), EMAILS_BAD_DOMAIN);
    CHECK_EQ_INT(check("a@\xd0\xbf\xd1\x80.org"), EMAILS_BAD_DOMAIN); /* a U-label */
}

TEST(emails_refuses_controls)
{
    char a[32];

    /* Every control byte and DEL, in either part, and a NUL inside the
     * given length (a C string would have hidden it). */
    for (int c = 0; c < 0x20; c++) {
        int n = snprintf(a, sizeof a, "a%cb@example.org", c);
        a[1] = (char)c;
        CHECK(emails_check(a, (size_t)n) != EMAILS_OK);
        n = snprintf(a, sizeof a, "ab@exa%cmple.org", c);
        a[6] = (char)c;
        CHECK(emails_check(a, (size_t)n) != EMAILS_OK);
    }
    CHECK(check("a\x7f@example.org") != EMAILS_OK);
    CHECK(emails_check("a@example.org\0x", 15) != EMAILS_OK);
}

TEST(emails_lengths)
{
    char a[EMAILS_MAX + 64];
    char label[64];

    /* The local part: 64 bytes at most (RFC 5321 §4.5.3.1.1). */
    memset(a, 'l', 64);
    memcpy(a + 64, "@example.org", 13);
    CHECK_EQ_INT(check(a), EMAILS_OK);
    memset(a, 'l', 65);
    memcpy(a + 65, "@example.org", 13);
    CHECK_EQ_INT(check(a), EMAILS_TOO_LONG);
    /* A label: 63 bytes at most (RFC 1035 §2.3.4). */
    memset(label, 'd', 63);
    label[63] = '\0';
    snprintf(a, sizeof a, "a@%s.org", label);
    CHECK_EQ_INT(check(a), EMAILS_OK);
    snprintf(a, sizeof a, "a@d%s.org", label);
    CHECK_EQ_INT(check(a), EMAILS_BAD_DOMAIN);
    /* The whole: 254 bytes at most (RFC 5321 §4.5.3.1.3's path less <>). */
    memset(a, 0, sizeof a);
    memset(a, 'l', 64);
    a[64] = '@';
    size_t n = 65;
    while (n + 63 < EMAILS_MAX) { /* labels of 60 'd' and a dot */
        memset(a + n, 'd', 60);
        a[n + 60] = '.';
        n += 61;
    }
    while (n < EMAILS_MAX)
        a[n++] = 'o';
    CHECK_EQ_INT((long long)strlen(a), EMAILS_MAX);
    CHECK_EQ_INT(check(a), EMAILS_OK);
    a[n++] = 'o';
    CHECK_EQ_INT(check(a), EMAILS_TOO_LONG);
}

TEST(emails_key_folds_ascii)
{
    char key[EMAILS_MAX + 1];

    emails_key(key, "Ann.Lee+X@Example.ORG", 21);
    CHECK_EQ_STR(key, "ann.lee+x@example.org");
    emails_key(key, "a@b.cd", 6);
    CHECK_EQ_STR(key, "a@b.cd");
}
