#ifndef GH_CORE_MAILMSG_H
#define GH_CORE_MAILMSG_H

#include <stddef.h>
#include <stdint.h>

/* One mail as RFC 5322 and MIME (RFC 2045-2047) want it: the headers
 * (Date, From, To, Subject, Message-ID, MIME-Version, Auto-Submitted), then
 * a multipart/alternative body of a text/plain and a text/html part, both
 * UTF-8 in base64 (lines of 76), CRLF line ends throughout. A non-ASCII or
 * long Subject or display name becomes RFC 2047 encoded-words (UTF-8, B),
 * folded so that no line passes 78 characters. Pure: the time and the
 * randomness come from the caller, so a test can check every byte. */

#define MAILMSG_RANDOM 32 /* bytes of randomness: 16 name the Message-ID, 16 the boundary */
#define MAILMSG_MAX    (512 * 1024) /* the largest message composed */

struct mailmsg {
    const char *from_name; /* display name (UTF-8) or "" */
    const char *from_addr; /* a valid address (util/mailaddr.h); its domain ends the Message-ID */
    const char *to;        /* a valid address */
    const char *subject;   /* UTF-8, no control character */
    const char *text;      /* UTF-8; LF or CRLF line ends */
    const char *html;      /* UTF-8; LF or CRLF line ends */
    int64_t date;          /* Unix seconds */
    const unsigned char *rnd; /* MAILMSG_RANDOM bytes */
};

/* Composes m into *out (malloc'd, NUL-terminated; *len without the NUL).
 * Returns 0, or -1 with a one-line reason in err: an address that is not
 * valid, a control character (CR, LF, ...) in the subject or a name, text
 * that is not UTF-8, a message past MAILMSG_MAX, or no memory. */
int mailmsg_compose(const struct mailmsg *m, char **out, size_t *len, char *err, size_t errlen);

#endif
