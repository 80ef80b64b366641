#ifndef GH_CLI_PUBADDR_H
#define GH_CLI_PUBADDR_H

#include <stddef.h>

/* PUBLIC_URL and COOKIE_DOMAIN (API.md, "Public address and pages"): checked
 * and put in the one spelling the service compares and builds links with.
 * Both work in place on a string of the configuration, which only shrinks. */

#define PUBADDR_URL_MAX 512 /* bytes of PUBLIC_URL as given */

/* Checks url, "http" or "https" "://" host [":" port] [path], and normalises
 * it: scheme and host in lower case, the scheme's default port (80, 443)
 * dropped, trailing '/' of the path dropped (so that url + "/password/reset"
 * is a link). The host is a DNS name of letter-digit-hyphen labels (an IDN in
 * its xn-- form), an IPv4 address or an IPv6 one in brackets; the port 1 to
 * 65535; the path, when there is one (a service behind a proxy under a
 * prefix), of RFC 3986 path characters. No user information, query or
 * fragment. On success *origin_len is the length of the origin,
 * scheme://host[:port], that url begins with, and 0 is returned; otherwise -1
 * with a one-line reason naming PUBLIC_URL in err. */
int pubaddr_check_url(char *url, size_t *origin_len, char *err, size_t errlen);

/* Checks domain, COOKIE_DOMAIN, against url (a checked PUBLIC_URL, NULL when
 * unset) and normalises it: lower case, one leading '.' dropped (RFC 6265
 * §5.2.3 ignores it). It must be a DNS name of two labels or more (not an IP
 * address), and PUBLIC_URL's host must be that name or within it
 * ("auth.example.com" within "example.com"): a browser would refuse to set a
 * cookie for any other domain. 0, or -1 with a reason in err. */
int pubaddr_check_domain(char *domain, const char *url, size_t origin_len, char *err,
                         size_t errlen);

/* WEBAUTHN_RP_ID and WEBAUTHN_ORIGINS (API.md, "Passkeys") against url (a
 * checked PUBLIC_URL, NULL when unset), with their defaults: *rp_id
 * (malloc'd, or NULL when unset) is lower-cased; it must be a DNS name,
 * not an IP address, that PUBLIC_URL's host is or lies within (WebAuthn
 * §5.1.3: an RP id is the origin's effective domain or a registrable
 * suffix of it). Unset, it becomes PUBLIC_URL's host, or stays NULL
 * (passkeys off) when that host is an IP address. *origins, unset, becomes
 * PUBLIC_URL's origin when passkeys are on; set, each of its
 * comma-separated origins must be http(s)://host[:port] spelled as
 * browsers send it (lower case, no default port, no path: an origin is
 * compared byte for byte), and its host rp_id or within it. Neither may be
 * set without PUBLIC_URL, nor WEBAUTHN_ORIGINS without an RP id. 0, or -1
 * with a reason naming the setting in err (*rp_id and *origins are then
 * as given or defaulted). */
int pubaddr_check_webauthn(char **rp_id, char **origins, const char *url, size_t origin_len,
                           char *err, size_t errlen);

#endif
