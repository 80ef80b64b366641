#include "http/tls.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/keyfile.h"

/* One certificate chain and its key, immutable once made. */
struct tls_gen {
    atomic_long refs; /* the tls's own reference while current, plus one per connection */
    gnutls_pcert_st chain[TLS_CHAIN_MAX];
    unsigned nchain;
    gnutls_privkey_t key;
    char fingerprint[65]; /* SHA-256 of chain[0]'s DER, hex */
};

struct tls {
    char *cert_file, *key_file;
    pthread_mutex_t lock; /* guards cur, for the copy and the swap only */
    struct tls_gen *cur;
};

/* The callback has no closure (see tls.h): the one open tls. */
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;
static tls *open_tls;

static void gen_free(struct tls_gen *g)
{
    for (unsigned i = 0; i < g->nchain; i++)
        gnutls_pcert_deinit(&g->chain[i]);
    if (g->key != NULL)
        gnutls_privkey_deinit(g->key);
    free(g);
}

static void gen_put(struct tls_gen *g)
{
    if (g != NULL && atomic_fetch_sub_explicit(&g->refs, 1, memory_order_acq_rel) == 1)
        gen_free(g);
}

static int load_chain(struct tls_gen *g, const char *path, char *err, size_t errlen)
{
    char *pem, why[400];
    size_t len;

    if (keyfile_read(path, TLS_FILE_MAX, KEYFILE_READABLE, &pem, &len, NULL, why, sizeof why) !=
        0) {
        snprintf(err, errlen, "TLS_CERT_FILE: %s", why);
        return -1;
    }
    gnutls_datum_t d = {(unsigned char *)pem, (unsigned)len};
    unsigned n = TLS_CHAIN_MAX;
    /* FAIL_IF_UNSORTED: a chain whose certificates do not each sign the
     * one before would be sent as is and refused by every client. */
    int rc = gnutls_pcert_list_import_x509_raw(g->chain, &n, &d, GNUTLS_X509_FMT_PEM,
                                               GNUTLS_X509_CRT_LIST_FAIL_IF_UNSORTED);
    keyfile_free(pem);
    if (rc < 0 || n == 0) {
        snprintf(err, errlen,
                 "TLS_CERT_FILE: %.300s holds no usable PEM certificate chain (the server's "
                 "certificate first, at most %d): %s",
                 path, TLS_CHAIN_MAX, rc < 0 ? gnutls_strerror(rc) : "none found");
        return -1;
    }
    g->nchain = n;
    unsigned char sha[32];
    size_t shalen = sizeof sha;
    if (gnutls_fingerprint(GNUTLS_DIG_SHA256, &g->chain[0].cert, sha, &shalen) < 0) {
        snprintf(err, errlen, "TLS_CERT_FILE: %.300s: cannot hash the certificate", path);
        return -1;
    }
    sodium_bin2hex(g->fingerprint, sizeof g->fingerprint, sha, shalen);
    return 0;
}

static int load_key(struct tls_gen *g, const char *path, char *err, size_t errlen)
{
    char *pem, why[400];
    size_t len;

    if (keyfile_read(path, TLS_FILE_MAX, KEYFILE_PRIVATE, &pem, &len, NULL, why, sizeof why) != 0) {
        snprintf(err, errlen, "TLS_KEY_FILE: %s", why);
        return -1;
    }
    gnutls_datum_t d = {(unsigned char *)pem, (unsigned)len};
    int rc = gnutls_privkey_init(&g->key);
    if (rc >= 0)
        rc = gnutls_privkey_import_x509_raw(g->key, &d, GNUTLS_X509_FMT_PEM, NULL, 0);
    keyfile_free(pem);
    if (rc < 0) {
        snprintf(err, errlen,
                 "TLS_KEY_FILE: %.300s holds no usable PEM private key (an unencrypted PKCS#8, "
                 "RSA or EC key): %s",
                 path, gnutls_strerror(rc));
        return -1;
    }
    return 0;
}

/* The key is the certificate's when their public keys have the same id. */
static int check_pair(const struct tls_gen *g, const char *cert_file, const char *key_file,
                      char *err, size_t errlen)
{
    unsigned char a[64], b[64];
    size_t alen = sizeof a, blen = sizeof b;
    gnutls_pubkey_t pub;
    int rc = gnutls_pubkey_init(&pub);

    if (rc >= 0)
        rc = gnutls_pubkey_import_privkey(pub, g->key, 0, 0);
    if (rc >= 0)
        rc = gnutls_pubkey_get_key_id(pub, GNUTLS_KEYID_USE_SHA256, a, &alen);
    if (rc >= 0)
        rc = gnutls_pubkey_get_key_id(g->chain[0].pubkey, GNUTLS_KEYID_USE_SHA256, b, &blen);
    gnutls_pubkey_deinit(pub);
    if (rc < 0) {
        snprintf(err, errlen, "TLS_KEY_FILE: %.300s: cannot read its public key: %s", key_file,
                 gnutls_strerror(rc));
        return -1;
    }
    if (alen != blen || sodium_memcmp(a, b, alen) != 0) {
        snprintf(err, errlen,
                 "TLS_KEY_FILE %.300s is not the private key of the certificate in TLS_CERT_FILE "
                 "%.300s (the first one in the file)",
                 key_file, cert_file);
        return -1;
    }
    return 0;
}

static struct tls_gen *gen_load(const tls *t, char *err, size_t errlen)
{
    struct tls_gen *g = calloc(1, sizeof *g);

    if (g == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    atomic_init(&g->refs, 1);
    if (load_chain(g, t->cert_file, err, errlen) != 0 ||
        load_key(g, t->key_file, err, errlen) != 0 ||
        check_pair(g, t->cert_file, t->key_file, err, errlen) != 0) {
        gen_free(g);
        return NULL;
    }
    return g;
}

tls *tls_open(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES ||
        MHD_is_feature_supported(MHD_FEATURE_HTTPS_CERT_CALLBACK) != MHD_YES) {
        snprintf(err, errlen,
                 "TLS_CERT_FILE: this libmicrohttpd was built without TLS (GnuTLS) or its "
                 "certificate callback");
        return NULL;
    }
    tls *t = calloc(1, sizeof *t);
    if (t == NULL || (t->cert_file = strdup(cert_file)) == NULL ||
        (t->key_file = strdup(key_file)) == NULL) {
        snprintf(err, errlen, "out of memory");
        if (t != NULL) {
            free(t->cert_file);
            free(t);
        }
        return NULL;
    }
    pthread_mutex_init(&t->lock, NULL);
    if ((t->cur = gen_load(t, err, errlen)) == NULL) {
        tls_close(t);
        return NULL;
    }
    pthread_mutex_lock(&open_lock);
    bool taken = open_tls != NULL;
    if (!taken)
        open_tls = t;
    pthread_mutex_unlock(&open_lock);
    if (taken) {
        snprintf(err, errlen, "TLS_CERT_FILE: a TLS listener is open already");
        tls_close(t);
        return NULL;
    }
    return t;
}

int tls_reload(tls *t, char *err, size_t errlen)
{
    struct tls_gen *g = gen_load(t, err, errlen);

    if (g == NULL)
        return -1;
    pthread_mutex_lock(&t->lock);
    struct tls_gen *old = t->cur;
    t->cur = g;
    pthread_mutex_unlock(&t->lock);
    gen_put(old); /* freed now, or by the last connection that holds it */
    return 0;
}

void tls_fingerprint(tls *t, char out[65])
{
    pthread_mutex_lock(&t->lock);
    memcpy(out, t->cur->fingerprint, sizeof t->cur->fingerprint);
    pthread_mutex_unlock(&t->lock);
}

void tls_close(tls *t)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&open_lock);
    if (open_tls == t)
        open_tls = NULL;
    pthread_mutex_unlock(&open_lock);
    gen_put(t->cur);
    pthread_mutex_destroy(&t->lock);
    free(t->cert_file);
    free(t->key_file);
    free(t);
}

int tls_retrieve(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                 const gnutls_pk_algorithm_t *pk_algos, int npk_algos, gnutls_pcert_st **pcert,
                 unsigned *npcert, gnutls_privkey_t *key)
{
    (void)req_ca_dn, (void)nreqs, (void)pk_algos, (void)npk_algos;
    /* libmicrohttpd makes the connection the session's pointer, and
     * announces the connection (its struct conn) before any handshake. */
    struct MHD_Connection *mc = gnutls_session_get_ptr(session);
    struct conn *c = mc != NULL ? conns_of(mc) : NULL;
    tls *t = open_tls; /* set before the daemon starts, cleared after it stops */

    if (c == NULL || t == NULL)
        return -1; /* the handshake fails: no pair could be held for it */
    pthread_mutex_lock(&t->lock);
    struct tls_gen *g = t->cur;
    atomic_fetch_add_explicit(&g->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&t->lock);
    /* GnuTLS neither copies nor frees what this returns (retrieve_function2)
     * and may read it until the session ends: the connection holds it. A
     * second handshake on the connection (TLS 1.2 renegotiation) lets go of
     * the first one's pair. */
    gen_put(c->tls_hold);
    c->tls_hold = g;
    *pcert = g->chain;
    *npcert = g->nchain;
    *key = g->key;
    return 0;
}

void tls_conn_started(struct MHD_Connection *mc)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
    int on = 1;

    if (ci != NULL)
        (void)setsockopt(ci->connect_fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

void tls_conn_closed(struct conn *c)
{
    if (c == NULL || c->tls_hold == NULL)
        return;
    gen_put(c->tls_hold);
    c->tls_hold = NULL;
}
