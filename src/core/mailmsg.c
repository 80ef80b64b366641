/* Composing a mail (mailmsg.h). */
#include "core/mailmsg.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/mailaddr.h"
#include "util/utf8.h"

#define LINE_MAX_CHARS 78 /* RFC 5322 §2.1.1: SHOULD not pass 78 */
#define B64_LINE       76 /* RFC 2045 §6.8 */
/* Bytes of UTF-8 per encoded-word: 39 bytes are 52 base64 characters, and
 * "=?UTF-8?B?" + 52 + "?=" is 64, which fits after "Subject: " on the first
 * line and after the folding space on the next (RFC 2047 §2: at most 75). */
#define WORD_BYTES 39

/* A growing buffer; failed sticks after the first failure. */
struct buf {
    char *p;
    size_t len, cap;
    bool failed;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > MAILMSG_MAX) {
        b->failed = true;
        return;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap != 0 ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (p == NULL) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void putf(struct buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp)
        b->failed = true;
    else
        put(b, tmp, (size_t)n);
}

/* The length of the longest prefix of s[0..n) of at most max bytes that
 * ends on a UTF-8 character boundary. */
static size_t utf8_prefix(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    size_t k = max;
    while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
        k--;
    return k;
}

/* RFC 2047 encoded-words of s, each on a line of its own after the first
 * (CRLF SP between them). */
static void put_encoded_words(struct buf *b, const char *s)
{
    size_t n = strlen(s);
    bool first = true;

    while (n > 0) {
        size_t k = utf8_prefix(s, n, WORD_BYTES);
        char b64[sodium_base64_ENCODED_LEN(WORD_BYTES, sodium_base64_VARIANT_ORIGINAL)];
        sodium_bin2base64(b64, sizeof b64, (const unsigned char *)s, k,
                          sodium_base64_VARIANT_ORIGINAL);
        if (!first)
            puts_(b, "\r\n ");
        putf(b, "=?UTF-8?B?%s?=", b64);
        first = false;
        s += k;
        n -= k;
    }
}

static bool plain_ascii(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}

/* A header's value as is when it is printable ASCII, holds nothing that
 * reads as an encoded-word, and fits on its line; else encoded-words. */
static void put_text_header(struct buf *b, const char *name, const char *value)
{
    putf(b, "%s: ", name);
    if (plain_ascii(value) && strstr(value, "=?") == NULL &&
        strlen(name) + 2 + strlen(value) <= LINE_MAX_CHARS)
        puts_(b, value);
    else
        put_encoded_words(b, value);
    puts_(b, "\r\n");
}

static bool is_atext_or_space(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch != '\0' && strchr(" !#$%&'*+-/=?^_`{|}~", ch) != NULL);
}

/* From: a phrase of atoms as is, other ASCII quoted (the name holds no '"'
 * or '\\': util/mailaddr.h), anything else encoded-words. */
static void put_from(struct buf *b, const char *name, const char *addr)
{
    bool atoms = true;

    if (name[0] == '\0') {
        putf(b, "From: %s\r\n", addr);
        return;
    }
    for (const char *p = name; *p != '\0'; p++)
        atoms = atoms && is_atext_or_space(*p);
    size_t line = strlen("From: ") + strlen(name) + 2 + strlen(addr) + 2;
    if (plain_ascii(name) && strstr(name, "=?") == NULL && line <= LINE_MAX_CHARS) {
        putf(b, atoms ? "From: %s <%s>\r\n" : "From: \"%s\" <%s>\r\n", name, addr);
        return;
    }
    puts_(b, "From: ");
    put_encoded_words(b, name);
    putf(b, "\r\n <%s>\r\n", addr);
}

/* RFC 5322 §3.3, in UTC, with English names whatever the locale. */
static void put_date(struct buf *b, int64_t when)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)when;
    struct tm tm;

    gmtime_r(&t, &tm);
    putf(b, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday], tm.tm_mday,
         months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void put_hex(struct buf *b, const unsigned char *p, size_t n)
{
    char hex[2 * 16 + 1];

    sodium_bin2hex(hex, sizeof hex, p, n);
    puts_(b, hex);
}

/* text with every line end made CRLF, in base64 lines of 76. */
static void put_part_body(struct buf *b, const char *text)
{
    struct buf crlf = {0};
    unsigned char *src;
    size_t n;

    for (const char *p = text; *p != '\0'; p++) {
        if (*p == '\n' && (p == text || p[-1] != '\r'))
            put(&crlf, "\r", 1);
        put(&crlf, p, 1);
    }
    if (crlf.failed) {
        b->failed = true;
        free(crlf.p);
        return;
    }
    src = (unsigned char *)(crlf.p != NULL ? crlf.p : "");
    n = crlf.len;
    /* 57 bytes make one line of 76 characters. */
    for (size_t off = 0; off < n; off += 57) {
        size_t k = n - off < 57 ? n - off : 57;
        char line[B64_LINE + 1];
        sodium_bin2base64(line, sizeof line, src + off, k, sodium_base64_VARIANT_ORIGINAL);
        puts_(b, line);
        puts_(b, "\r\n");
    }
    free(crlf.p);
}

static void put_part(struct buf *b, const char *boundary, const char *type, const char *text)
{
    putf(b, "--%s\r\n", boundary);
    putf(b, "Content-Type: %s; charset=utf-8\r\n", type);
    puts_(b, "Content-Transfer-Encoding: base64\r\n\r\n");
    put_part_body(b, text);
}

static int check(const struct mailmsg *m, char *err, size_t errlen)
{
    if (!mailaddr_valid(m->from_addr) || !mailaddr_valid(m->to)) {
        snprintf(err, errlen, "%s is not a valid address",
                 mailaddr_valid(m->to) ? "the sender" : "the recipient");
        return -1;
    }
    const char *fields[] = {m->from_name, m->subject};
    for (size_t i = 0; i < 2; i++) {
        for (const char *p = fields[i]; *p != '\0'; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f) {
                snprintf(err, errlen, "a control character in the %s",
                         i == 0 ? "sender's name" : "subject");
                return -1;
            }
    }
    const char *texts[] = {m->from_name, m->subject, m->text, m->html};
    for (size_t i = 0; i < 4; i++)
        if (utf8_count(texts[i], strlen(texts[i])) < 0) {
            snprintf(err, errlen, "text that is not UTF-8");
            return -1;
        }
    return 0;
}

int mailmsg_compose(const struct mailmsg *m, char **out, size_t *len, char *err, size_t errlen)
{
    struct buf b = {0};
    char boundary[3 + 2 * 16 + 1] = "=_";

    *out = NULL;
    *len = 0;
    if (check(m, err, errlen) != 0)
        return -1;
    /* "=_" cannot occur in base64, so the boundary never occurs in a part. */
    sodium_bin2hex(boundary + 2, sizeof boundary - 2, m->rnd + 16, 16);
    put_date(&b, m->date);
    put_from(&b, m->from_name, m->from_addr);
    putf(&b, "To: %s\r\n", m->to);
    put_text_header(&b, "Subject", m->subject);
    puts_(&b, "Message-ID: <");
    put_hex(&b, m->rnd, 16);
    putf(&b, "@%s>\r\n", mailaddr_domain(m->from_addr));
    puts_(&b, "MIME-Version: 1.0\r\n");
    /* RFC 3834: no auto-reply to a mail that a machine sent. */
    puts_(&b, "Auto-Submitted: auto-generated\r\n");
    putf(&b, "Content-Type: multipart/alternative;\r\n boundary=\"%s\"\r\n\r\n", boundary);
    put_part(&b, boundary, "text/plain", m->text);
    put_part(&b, boundary, "text/html", m->html);
    putf(&b, "--%s--\r\n", boundary);
    if (b.failed) {
        free(b.p);
        snprintf(err, errlen, "the message is larger than %d bytes (or memory ran out)",
                 MAILMSG_MAX);
        return -1;
    }
    *out = b.p;
    *len = b.len;
    return 0;
}
