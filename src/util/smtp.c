/* SMTP through libcurl, loaded at run time (see smtp.h). */
#include "util/smtp.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Plain prototypes: the typed checks of curl_easy_setopt are macros that
 * would hide the table's members. */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>

#include "util/dlib.h"

#define CURL_FUNCTIONS(X)                                                                          \
    X(curl_global_init)                                                                            \
    X(curl_easy_init)                                                                              \
    X(curl_easy_setopt)                                                                            \
    X(curl_easy_perform)                                                                           \
    X(curl_easy_cleanup)                                                                           \
    X(curl_easy_reset)                                                                             \
    X(curl_easy_strerror)                                                                          \
    X(curl_slist_append)                                                                           \
    X(curl_slist_free_all)                                                                         \
    X(curl_version_info)

struct curl_functions {
#define CURL_MEMBER(f) __typeof__(f) *f;
    CURL_FUNCTIONS(CURL_MEMBER)
#undef CURL_MEMBER
};

static struct curl_functions curl_fn;

static const struct dlib_symbol curl_symbols[] = {
#define CURL_SYMBOL(f) DLIB_SYMBOL(struct curl_functions, f)
    CURL_FUNCTIONS(CURL_SYMBOL)
#undef CURL_SYMBOL
};

/* The soname of Debian's libcurl4 (the OpenSSL flavour). */
static struct dlib libcurl = DLIB_INIT(
    "libcurl.so.4", "mail needs libcurl.so.4 (apt-get install libcurl4)", curl_symbols, curl_fn);

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

struct smtp {
    char *url;
    char *ca_file;
    bool starttls;
    CURL *h; /* the easy handle whose connection the next send reuses; NULL: none yet */
};

/* ---- SMTP_URL ---- */

static bool is_unreserved_host_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '.';
}

/* The host part [h, end): a bracketed IPv6 address or a name/IPv4. */
static int parse_host(const char *h, const char *end, struct smtp_url *u, const char **rest,
                      char *err, size_t errlen)
{
    const char *p = h;
    size_t n;

    if (*p == '[') {
        const char *close = memchr(p, ']', (size_t)(end - p));
        struct in6_addr a6;
        n = close != NULL ? (size_t)(close - p - 1) : 0;
        if (close == NULL || n == 0 || n >= sizeof u->host) {
            snprintf(err, errlen, "SMTP_URL: a bracketed IPv6 host needs its closing ]");
            return -1;
        }
        memcpy(u->host, p + 1, n);
        u->host[n] = '\0';
        if (inet_pton(AF_INET6, u->host, &a6) != 1) {
            snprintf(err, errlen, "SMTP_URL: \"%.60s\" is not an IPv6 address", u->host);
            return -1;
        }
        u->loopback = IN6_IS_ADDR_LOOPBACK(&a6);
        *rest = close + 1;
        return 0;
    }
    while (p < end && *p != ':')
        p++;
    n = (size_t)(p - h);
    if (n == 0 || n >= sizeof u->host) {
        snprintf(err, errlen, "SMTP_URL: expected a host after the scheme");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!is_unreserved_host_char(h[i])) {
            snprintf(err, errlen, "SMTP_URL: the host may hold only letters, digits, '-' and '.'");
            return -1;
        }
    memcpy(u->host, h, n);
    u->host[n] = '\0';
    struct in_addr a4;
    if (inet_pton(AF_INET, u->host, &a4) == 1)
        u->loopback = (ntohl(a4.s_addr) >> 24) == 127;
    else
        u->loopback = strcasecmp(u->host, "localhost") == 0;
    *rest = p;
    return 0;
}

static int parse_port(const char *p, const char *end, struct smtp_url *u, char *err, size_t errlen)
{
    unsigned long v = 0;

    if (p == end)
        return 0;
    if (*p != ':' || p + 1 == end || end - p > 6) {
        snprintf(err, errlen, "SMTP_URL: expected :PORT (1-65535) after the host");
        return -1;
    }
    for (p++; p < end; p++) {
        if (*p < '0' || *p > '9') {
            snprintf(err, errlen, "SMTP_URL: expected :PORT (1-65535) after the host");
            return -1;
        }
        v = v * 10 + (unsigned long)(*p - '0');
    }
    if (v == 0 || v > 65535) {
        snprintf(err, errlen, "SMTP_URL: the port must be 1-65535, got %lu", v);
        return -1;
    }
    u->port = (unsigned)v;
    return 0;
}

int smtp_url_parse(const char *url, struct smtp_url *out, char *err, size_t errlen)
{
    struct smtp_url u = {0};
    const char *p;

    if (url == NULL || url[0] == '\0') {
        snprintf(err, errlen, "SMTP_URL: must not be empty");
        return -1;
    }
    if (strlen(url) > SMTP_URL_MAX) {
        snprintf(err, errlen, "SMTP_URL: longer than %d bytes", SMTP_URL_MAX);
        return -1;
    }
    for (p = url; *p != '\0'; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '?' || *p == '#') {
            snprintf(err, errlen,
                     "SMTP_URL: no space, control character, query or fragment is allowed");
            return -1;
        }
    if (strncasecmp(url, "smtp://", 7) == 0)
        p = url + 7;
    else if (strncasecmp(url, "smtps://", 8) == 0) {
        p = url + 8;
        u.tls = true;
    } else {
        snprintf(err, errlen, "SMTP_URL: expected smtp://[user:pass@]host[:port] or smtps://...");
        return -1;
    }
    const char *end = p + strcspn(p, "/");
    const char *at = NULL;
    for (const char *q = p; q < end; q++)
        if (*q == '@')
            at = q;
    const char *host = at != NULL ? at + 1 : p, *rest;
    if (at != NULL && at == p) {
        snprintf(err, errlen, "SMTP_URL: an empty login before '@'");
        return -1;
    }
    if (parse_host(host, end, &u, &rest, err, errlen) != 0 ||
        parse_port(rest, end, &u, err, errlen) != 0)
        return -1;
    /* The path, if any, is the domain libcurl greets with (EHLO). */
    for (const char *q = *end == '/' ? end + 1 : end; *q != '\0'; q++)
        if (!is_unreserved_host_char(*q)) {
            snprintf(err, errlen, "SMTP_URL: the path may only name the domain to greet with");
            return -1;
        }
    if (out != NULL)
        *out = u;
    return 0;
}

void smtp_url_redact(const char *url, char *buf, size_t cap)
{
    const char *scheme_end = strstr(url, "://");
    const char *auth = scheme_end != NULL ? scheme_end + 3 : url;
    const char *end = auth + strcspn(auth, "/");
    const char *at = NULL, *colon = NULL;

    for (const char *q = auth; q < end; q++)
        if (*q == '@')
            at = q;
    if (at != NULL)
        colon = memchr(auth, ':', (size_t)(at - auth));
    if (colon == NULL) {
        snprintf(buf, cap, "%s", url);
        return;
    }
    snprintf(buf, cap, "%.*s%s", (int)(colon - url), url, at);
}

/* ---- sending ---- */

static void global_init(void)
{
    global_rc = curl_fn.curl_global_init(CURL_GLOBAL_DEFAULT);
}

smtp *smtp_create(const struct smtp_options *o, char *err, size_t errlen)
{
    if (dlib_load(&libcurl, err, errlen) != 0)
        return NULL;
    pthread_once(&global_once, global_init);
    if (global_rc != CURLE_OK) {
        snprintf(err, errlen, "libcurl: curl_global_init failed: %s",
                 curl_fn.curl_easy_strerror(global_rc));
        return NULL;
    }
    const curl_version_info_data *v = curl_fn.curl_version_info(CURLVERSION_NOW);
    /* CURLOPT_PROTOCOLS_STR, set on every send, came with 7.85. */
    if (v == NULL || v->version_num < 0x075500) {
        snprintf(err, errlen, "mail needs libcurl 7.85 or later, found %s",
                 v != NULL ? v->version : "?");
        return NULL;
    }
    smtp *c = calloc(1, sizeof *c);
    if (c == NULL || (c->url = strdup(o->url)) == NULL ||
        (o->ca_file != NULL && (c->ca_file = strdup(o->ca_file)) == NULL)) {
        smtp_free(c);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->starttls = o->starttls;
    return c;
}

void smtp_hang_up(smtp *c)
{
    if (c != NULL && c->h != NULL) {
        curl_fn.curl_easy_cleanup(c->h);
        c->h = NULL;
    }
}

void smtp_free(smtp *c)
{
    if (c == NULL)
        return;
    smtp_hang_up(c);
    /* The URL may hold the password. */
    if (c->url != NULL)
        explicit_bzero(c->url, strlen(c->url));
    free(c->url);
    free(c->ca_file);
    free(c);
}

/* One send's state, for libcurl's callbacks. */
struct send_state {
    const char *msg;
    size_t len, off;
    bool (*stop)(void *arg);
    void *arg;
    char reply[200]; /* the server's last error reply (4xx, 5xx), or "" */
};

static size_t read_message(char *buf, size_t size, size_t n, void *arg)
{
    struct send_state *st = arg;
    size_t left = st->len - st->off, take = size * n < left ? size * n : left;

    memcpy(buf, st->msg + st->off, take);
    st->off += take;
    return take;
}

static int progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    struct send_state *st = arg;

    (void)dt, (void)dn, (void)ut, (void)un;
    return st->stop != NULL && st->stop(st->arg) ? 1 : 0;
}

/* Keeps the server's last error reply. Only what the server said is
 * looked at: what the client sends (AUTH carries the password) never is. */
static int debug_line(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
    struct send_state *st = arg;

    (void)h;
    if (type != CURLINFO_HEADER_IN || size < 3 || (data[0] != '4' && data[0] != '5'))
        return 0;
    while (size > 0 && (data[size - 1] == '\r' || data[size - 1] == '\n'))
        size--;
    size_t n = size < sizeof st->reply - 1 ? size : sizeof st->reply - 1;
    for (size_t i = 0; i < n; i++)
        st->reply[i] =
            (unsigned char)data[i] < 0x20 || (unsigned char)data[i] >= 0x7f ? '?' : data[i];
    st->reply[n] = '\0';
    return 0;
}

/* Every option of one send; CURLE_OK, or the first refusal. */
static CURLcode configure(CURL *h, const smtp *c, struct send_state *st, const char *from,
                          struct curl_slist *rcpt, char *errbuf)
{
    CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (rc == CURLE_OK)                                                                        \
            rc = curl_fn.curl_easy_setopt(h, opt, val);                                            \
    } while (0)
    SET(CURLOPT_ERRORBUFFER, errbuf);
    SET(CURLOPT_URL, c->url);
    SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    SET(CURLOPT_NOSIGNAL, 1L);
    /* smtp:// upgrades with STARTTLS or fails; never falls back to plain. */
    SET(CURLOPT_USE_SSL, c->starttls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    if (c->ca_file != NULL)
        SET(CURLOPT_CAINFO, c->ca_file);
    SET(CURLOPT_CONNECTTIMEOUT, (long)SMTP_CONNECT_TIMEOUT_S);
    SET(CURLOPT_MAXLIFETIME_CONN, (long)SMTP_CONNECTION_MAX_AGE_S);
    SET(CURLOPT_TIMEOUT, (long)SMTP_TOTAL_TIMEOUT_S);
    SET(CURLOPT_MAIL_FROM, from);
    SET(CURLOPT_MAIL_RCPT, rcpt);
    SET(CURLOPT_UPLOAD, 1L);
    SET(CURLOPT_READFUNCTION, read_message);
    SET(CURLOPT_READDATA, st);
    SET(CURLOPT_NOPROGRESS, 0L);
    SET(CURLOPT_XFERINFOFUNCTION, progress);
    SET(CURLOPT_XFERINFODATA, st);
    /* The debug callback is how the server's replies are seen; it is
     * called only with VERBOSE on, and prints nothing itself. */
    SET(CURLOPT_DEBUGFUNCTION, debug_line);
    SET(CURLOPT_DEBUGDATA, st);
    SET(CURLOPT_VERBOSE, 1L);
#undef SET
    return rc;
}

int smtp_send(smtp *c, const char *from, const char *to, const char *message, size_t len,
              bool (*stop)(void *arg), void *arg, char *err, size_t errlen)
{
    struct send_state st = {.msg = message, .len = len, .stop = stop, .arg = arg};
    char errbuf[CURL_ERROR_SIZE] = "", from_env[320], to_env[320];
    struct curl_slist *rcpt = NULL;
    CURL *h;
    CURLcode rc;

    snprintf(from_env, sizeof from_env, "<%s>", from);
    snprintf(to_env, sizeof to_env, "<%s>", to);
    /* The handle of the previous send keeps its connection (reset clears
     * the options only); libcurl checks it is alive before using it. */
    if (c->h != NULL)
        curl_fn.curl_easy_reset(c->h);
    else
        c->h = curl_fn.curl_easy_init();
    if ((h = c->h) == NULL || (rcpt = curl_fn.curl_slist_append(NULL, to_env)) == NULL) {
        snprintf(err, errlen, "libcurl: out of memory");
        return -1;
    }
    rc = configure(h, c, &st, from_env, rcpt, errbuf);
    if (rc == CURLE_OK)
        rc = curl_fn.curl_easy_perform(h);
    curl_fn.curl_slist_free_all(rcpt);
    if (rc == CURLE_OK)
        return 0;
    /* After a failure nothing of that connection is trusted again. */
    smtp_hang_up(c);
    snprintf(err, errlen, "%s%s%s%s", errbuf[0] != '\0' ? errbuf : curl_fn.curl_easy_strerror(rc),
             st.reply[0] != '\0' ? " (" : "", st.reply, st.reply[0] != '\0' ? ")" : "");
    return -1;
}
