#ifndef GH_UTIL_SMTP_H
#define GH_UTIL_SMTP_H

#include <stdbool.h>
#include <stddef.h>

/* An SMTP client over libcurl, which is loaded with dlopen the first time a
 * client is made (util/dlib.h): linking it would load OpenSSL and the rest of
 * libcurl's dependencies into every process, mail or not. A client is used
 * by one thread at a time, the one that sends (the outbox's sender, or a
 * command), never by an HTTP thread: a send waits on the network for up to
 * SMTP_TOTAL_TIMEOUT_S. It keeps its connection open between sends (up to
 * SMTP_CONNECTION_MAX_AGE_S), so that a full outbox does not pay a TCP and
 * TLS handshake per mail. */

/* How long a send may take: to connect (TCP and TLS), and in all. The
 * outbox's claim on a mail outlasts the whole (core/mail.c). */
#define SMTP_CONNECT_TIMEOUT_S 10
#define SMTP_TOTAL_TIMEOUT_S   60
/* A connection is not used again for a mail after this long open. */
#define SMTP_CONNECTION_MAX_AGE_S 60

/* The longest SMTP_URL taken. */
#define SMTP_URL_MAX 1024

/* What SMTP_URL names, once checked. */
struct smtp_url {
    bool tls;      /* smtps://: TLS from the first byte */
    bool loopback; /* the host is localhost, 127.0.0.0/8 or ::1 */
    char host[256];
    unsigned port; /* 0: the scheme's (25, 465) */
};

/* Checks url's form: smtp:// or smtps://, an optional user[:password]@, a
 * host (a name, an IPv4 address or a bracketed IPv6 one), an optional port
 * 1-65535, and at most a path naming the domain to greet with; no query,
 * fragment, space or control character. Fills *out when given. Returns 0,
 * or -1 with a one-line reason in err that never shows the password. */
int smtp_url_parse(const char *url, struct smtp_url *out, char *err, size_t errlen);

/* Writes url without its password (smtp://user@host:port) into buf, for
 * logs. */
void smtp_url_redact(const char *url, char *buf, size_t cap);

/* A client: the server and how to reach it. */
struct smtp_options {
    const char *url;     /* checked by smtp_url_parse; holds the login, if any */
    bool starttls;       /* smtp://: require STARTTLS (off: plain, loopback only) */
    const char *ca_file; /* PEM CA bundle to trust instead of the system's; NULL */
};

typedef struct smtp smtp;

/* Loads libcurl (once per process) and makes a client; copies o's strings.
 * NULL with a one-line reason in err when libcurl is missing or too old. */
smtp *smtp_create(const struct smtp_options *o, char *err, size_t errlen);

void smtp_free(smtp *c);

/* Sends message[0..len) (RFC 5322, CRLF line ends) from envelope address
 * from to envelope address to, over the connection of the previous send
 * when it is still open and young enough, else a new one: TLS verified
 * (certificate and host name) unless STARTTLS is off, the login of the URL.
 * stop(arg), when given, is asked about once a second; true aborts the send.
 * Returns 0 once the server accepted the mail, or -1 with a one-line reason
 * in err: libcurl's, and the server's last error reply when there was one
 * ("RCPT failed: 451 (451 4.3.0 try again later)"); never the password. */
int smtp_send(smtp *c, const char *from, const char *to, const char *message, size_t len,
              bool (*stop)(void *arg), void *arg, char *err, size_t errlen);

/* Closes the connection kept open, if any (a sender with nothing to send). */
void smtp_hang_up(smtp *c);

#endif
