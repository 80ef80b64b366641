/* The mail settings and the composed mail: smtp_url_parse and
 * smtp_url_redact (SMTP_URL), mailaddr_parse_mailbox (MAIL_FROM),
 * mailaddr_valid (a recipient), and mailmsg_compose of the fields. Input:
 * the fields separated by NUL bytes: SMTP_URL, MAIL_FROM, recipient,
 * subject, text, html. The SMTP_URL is tried as is and after a known
 * login. A refusal is one line that never shows the password; a composed
 * mail has CRLF line ends only, lines of at most 998 characters (78 in the
 * headers but for an address), 7-bit bytes, and headers that are exactly
 * the ones mailmsg writes (no field can add one). */
#include "core/mailmsg.h"
#include "fuzz/fuzz.h"
#include "util/mailaddr.h"
#include "util/smtp.h"

#define MARK "Pw9xSECRETmark"

static void check_url(const char *url)
{
    struct smtp_url u;
    char err[300], shown[SMTP_URL_MAX + 64], *marked;
    size_t n = strlen(url);

    if (fuzz_contains(url, n, MARK, strlen(MARK)))
        return;
    marked = malloc(n + 64);
    FUZZ_CHECK(marked != NULL);
    snprintf(marked, n + 64, "smtp://user:%s@%s", MARK, url);
    const char *tries[] = {url, marked};
    for (int i = 0; i < 2; i++) {
        memset(err, 'x', sizeof err);
        if (smtp_url_parse(tries[i], &u, err, sizeof err) != 0) {
            FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL && strchr(err, '\n') == NULL);
            FUZZ_CHECK(strncmp(err, "SMTP_URL: ", 10) == 0);
            FUZZ_CHECK(strstr(err, MARK) == NULL);
            continue;
        }
        FUZZ_CHECK(u.host[0] != '\0' && u.port <= 65535);
        smtp_url_redact(tries[i], shown, sizeof shown);
        FUZZ_CHECK(strstr(shown, MARK) == NULL);
    }
    free(marked);
}

static void check_message(const char *msg, size_t len)
{
    static const char *const headers[] = {
        "Date: ",         "From: ",           "To: ",          "Subject: ", "Message-ID: ",
        "MIME-Version: ", "Auto-Submitted: ", "Content-Type: "};
    bool in_headers = true;
    const char *p = msg, *end = msg + len;

    while (p < end) {
        const char *crlf = strstr(p, "\r\n");
        FUZZ_CHECK(crlf != NULL && crlf - p <= 998);
        for (const char *q = p; q < crlf; q++)
            FUZZ_CHECK(*q != '\r' && *q != '\n' && (unsigned char)*q < 0x80 && *q != '\0');
        if (in_headers && crlf == p)
            in_headers = false;
        else if (in_headers) {
            bool known = *p == ' ';
            for (size_t i = 0; !known && i < sizeof headers / sizeof headers[0]; i++)
                known = strncmp(p, headers[i], strlen(headers[i])) == 0;
            FUZZ_CHECK(known);
        }
        p = crlf + 2;
    }
    FUZZ_CHECK(!in_headers);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *field[6] = {"", "", "", "", "", ""};
    size_t k = 0;
    char *copy = malloc(size + 1);
    FUZZ_CHECK(copy != NULL);
    memcpy(copy, data, size);
    copy[size] = '\0';
    field[k++] = copy;
    for (size_t i = 0; i < size && k < 6; i++)
        if (copy[i] == '\0')
            field[k++] = copy + i + 1;
    check_url(field[0]);

    char name[MAILADDR_NAME_MAX + 1], addr[MAILADDR_MAX + 1], err[300];
    if (mailaddr_parse_mailbox(field[1], name, addr, err, sizeof err) != 0) {
        FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL && strchr(err, '\n') == NULL);
        snprintf(addr, sizeof addr, "noreply@example.com");
        name[0] = '\0';
    } else
        FUZZ_CHECK(mailaddr_valid(addr) && strpbrk(name, "\r\n\"<>") == NULL);
    if (mailaddr_valid(field[2]))
        FUZZ_CHECK(strpbrk(field[2], " \r\n<>,\"") == NULL && strlen(field[2]) <= MAILADDR_MAX);

    unsigned char rnd[MAILMSG_RANDOM] = {1, 2, 3};
    struct mailmsg m = {name, addr, field[2], field[3], field[4], field[5], (int64_t)size, rnd};
    char *out = NULL;
    size_t len = 0;
    if (mailmsg_compose(&m, &out, &len, err, sizeof err) == 0) {
        FUZZ_CHECK(out != NULL && strlen(out) == len && len <= MAILMSG_MAX);
        check_message(out, len);
    } else
        FUZZ_CHECK(out == NULL);
    free(out);
    free(copy);
    return 0;
}
