#ifndef GH_UTIL_MAILADDR_H
#define GH_UTIL_MAILADDR_H

#include <stdbool.h>
#include <stddef.h>

/* Mail addresses as the mailer writes them into envelopes and headers. */

#define MAILADDR_MAX       254 /* RFC 5321 §4.5.3.1.3, less the angle brackets */
#define MAILADDR_LOCAL_MAX 64
#define MAILADDR_NAME_MAX  128 /* a display name, in bytes of UTF-8 */

/* True when addr is an ASCII addr-spec gatehouse sends to: local@domain,
 * the local part a dot-atom (RFC 5322 §3.2.3) of at most 64 bytes, the
 * domain LDH labels of 1-63 bytes joined by dots, the whole at most
 * MAILADDR_MAX. No quoted string, comment, address literal, space or
 * control character: nothing that could end a header or an SMTP command. */
bool mailaddr_valid(const char *addr);

/* Parses a mailbox as MAIL_FROM takes it: "addr", "Name <addr>" or
 * "\"Name\" <addr>". The name is UTF-8 without control characters, '"',
 * '\\', '<' or '>', at most MAILADDR_NAME_MAX bytes, trimmed; name gets ""
 * when there is none. Returns 0, or -1 with a one-line reason in err. */
int mailaddr_parse_mailbox(const char *s, char name[MAILADDR_NAME_MAX + 1],
                           char addr[MAILADDR_MAX + 1], char *err, size_t errlen);

/* The domain of a valid addr (the text after its '@'). */
const char *mailaddr_domain(const char *addr);

#endif
