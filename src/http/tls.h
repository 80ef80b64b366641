#ifndef GH_HTTP_TLS_H
#define GH_HTTP_TLS_H

#include <gnutls/abstract.h>
#include <stddef.h>

#include "http/conns.h"

/* HTTPS for the HTTP server (http/server.h): the certificate chain and
 * private key of TLS_CERT_FILE and TLS_KEY_FILE as one immutable generation,
 * handed to libmicrohttpd's GnuTLS at each handshake. A reload (SIGHUP)
 * swaps in a new generation only when both files load and match; a
 * connection keeps the generation of its handshake until it closes, and
 * the last to let go frees it (as core/keyset.h does for token keys).
 *
 * libmicrohttpd's certificate callback takes no closure, so a process has
 * at most one tls at a time (the public listener's; the metrics one is
 * plain HTTP). */

typedef struct tls tls;

#define TLS_FILE_MAX  (256 * 1024) /* bytes of a certificate chain or key file */
#define TLS_CHAIN_MAX 16           /* certificates in a chain */

/* Protocols TLS 1.2 and 1.3 only, AEAD ciphers only, key exchange with
 * forward secrecy only (ECDHE in TLS 1.2; TLS 1.3 has no other), in
 * GnuTLS's priority syntax; the server's order of preference wins. */
#define TLS_PRIORITIES                                                                             \
    "SECURE128:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:"         \
    "+CHACHA20-POLY1305:-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:%SERVER_PRECEDENCE"

/* The Strict-Transport-Security value sent on every answer over TLS (RFC
 * 6797): one year, this host only (includeSubDomains would bind every
 * other service of the domain to HTTPS, which is not ours to decide). */
#define TLS_HSTS "max-age=31536000"

/* Loads the chain of cert_file (PEM, the server's certificate first; others
 * may read it, none write it) and the key of key_file (PEM, unencrypted,
 * mode 0600 or stricter: util/keyfile.h) and checks that the key is the
 * certificate's. NULL with a one-line reason naming the setting and the
 * file in err: unreadable, open to others, no certificate, not a key, the
 * key of another certificate, a tls already open. */
tls *tls_open(const char *cert_file, const char *key_file, char *err, size_t errlen);

/* Reads both files again and, when they load and match, serves the new
 * pair to new handshakes. 0; else -1 with the reason in err, and the
 * current pair stays. Thread-safe. */
int tls_reload(tls *t, char *err, size_t errlen);

/* SHA-256 of the DER of the certificate served now, as lowercase hex
 * (65 bytes with the NUL), for the log. */
void tls_fingerprint(tls *t, char out[65]);

/* Frees t; every connection that held a generation must be closed. NULL
 * ignored. */
void tls_close(tls *t);

/* libmicrohttpd's MHD_OPTION_HTTPS_CERT_CALLBACK (GnuTLS's
 * gnutls_certificate_retrieve_function2): the current pair of the open tls,
 * held by the handshake's connection (struct conn's tls_hold) until
 * tls_conn_closed. */
int tls_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                 const gnutls_pk_algorithm_t *pk_algos, int npk_algos, gnutls_pcert_st **pcert,
                 unsigned *npcert, gnutls_privkey_t *key);

/* A connection opens: its records leave as soon as they are written
 * (TCP_NODELAY). GnuTLS writes the server's TLS 1.3 flight (ServerHello to
 * Finished) in several sends; with Nagle's algorithm the later ones waited
 * for the client's delayed ACK, and a new connection's handshake took 40 ms
 * instead of 2 (measured on loopback). */
void tls_conn_started(struct MHD_Connection *mc);

/* A connection closes: lets go of the generation its handshake took. */
void tls_conn_closed(struct conn *c);

#endif
