#include "core/keyset.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/jwk.h"
#include "util/keyfile.h"

struct keyset_gen {
    atomic_long refs; /* the keyset's own reference, plus one per keyset_get */
    uint64_t number;  /* 0 at start, one more at each reload */
    jwt_key *jwt;
    char *jwks;
};

struct keyset {
    pthread_mutex_t lock; /* guards cur, for the copy and the swap only */
    keyset_gen *cur;
    atomic_uint_fast64_t generation; /* cur->number, read without the lock */
    /* What a reload reads again. */
    bool hs256;
    bool any_alg; /* the key file's own algorithm (the OIDC key) */
    enum jwk_alg alg;
    char *setting;
    char *private_key, *verify_dir;
    char *issuer, *audience;
    long leeway;
};

static void gen_free(keyset_gen *g)
{
    if (g == NULL)
        return;
    jwt_key_free(g->jwt);
    free(g->jwks);
    free(g);
}

/* A generation around jwt (taken, freed on failure) with its JWKS. */
static keyset_gen *gen_new(jwt_key *jwt)
{
    keyset_gen *g = calloc(1, sizeof *g);
    json_t *keys = json_array(), *doc = json_pack("{s:o}", "keys", keys);

    if (g == NULL || keys == NULL || doc == NULL) {
        json_decref(doc);
        free(g);
        jwt_key_free(jwt);
        return NULL;
    }
    atomic_init(&g->refs, 1);
    g->jwt = jwt;
    for (size_t i = 0; i < jwt_key_count(jwt); i++)
        if (json_array_append_new(keys, jwk_public_json(jwt_key_at(jwt, i))) != 0)
            goto fail;
    if ((g->jwks = json_dumps(doc, JSON_COMPACT)) == NULL)
        goto fail;
    json_decref(doc);
    return g;
fail:
    json_decref(doc);
    gen_free(g);
    return NULL;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.pem file of dir (hidden ones skipped), each a private or public
 * key, into keys[] (*n of them). */
static int load_dir(const char *dir, jwk **keys, size_t *n, char *err, size_t errlen)
{
    char *names[KEYSET_MAX_KEYS + 1];
    size_t count = 0;
    int rc = -1;
    DIR *d = opendir(dir);
    struct dirent *e;

    *n = 0;
    if (d == NULL) {
        snprintf(err, errlen, "JWT_VERIFY_KEYS_DIR: cannot read %.300s: %s", dir, strerror(errno));
        return -1;
    }
    /* Every *.pem here is trusted: no one else may add one. */
    char unsafe[512];
    if (keyfile_check_dir(dir, false, unsafe, sizeof unsafe) != 0) {
        snprintf(err, errlen, "JWT_VERIFY_KEYS_DIR: %s", unsafe);
        closedir(d);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !ends_with(e->d_name, ".pem"))
            continue;
        if (count == KEYSET_MAX_KEYS) {
            snprintf(err, errlen, "JWT_VERIFY_KEYS_DIR: more than %d keys in %.300s",
                     KEYSET_MAX_KEYS, dir);
            goto done;
        }
        if ((names[count] = strdup(e->d_name)) == NULL) {
            snprintf(err, errlen, "out of memory");
            goto done;
        }
        count++;
    }
    qsort(names, count, sizeof names[0], by_name);
    for (size_t i = 0; i < count; i++) {
        char path[4096], why[512];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= sizeof path) {
            snprintf(err, errlen, "JWT_VERIFY_KEYS_DIR: path too long");
            goto done;
        }
        if ((keys[*n] = jwk_load_file(path, false, why, sizeof why)) == NULL) {
            snprintf(err, errlen, "JWT_VERIFY_KEYS_DIR: %s", why);
            goto done;
        }
        (*n)++;
    }
    rc = 0;
done:
    closedir(d);
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    if (rc != 0) {
        for (size_t i = 0; i < *n; i++)
            jwk_free(keys[i]);
        *n = 0;
    }
    return rc;
}

/* A generation from the key files ks names. */
static keyset_gen *load_asym(const keyset *ks, char *err, size_t errlen)
{
    jwk *verifiers[KEYSET_MAX_KEYS];
    size_t n = 0;
    char why[512];
    jwk *signer = NULL;

    if (keyfile_check_parent(ks->private_key, why, sizeof why) == 0)
        signer = jwk_load_file(ks->private_key, true, why, sizeof why);
    if (signer == NULL) {
        snprintf(err, errlen, "%s: %s", ks->setting, why);
        return NULL;
    }
    if (!ks->any_alg && jwk_alg_of(signer) != ks->alg) {
        snprintf(err, errlen, "%s: %.300s holds a key for %s, not for ALGORITHM %s", ks->setting,
                 ks->private_key, jwk_alg_name(jwk_alg_of(signer)), jwk_alg_name(ks->alg));
        jwk_free(signer);
        return NULL;
    }
    if (ks->verify_dir != NULL && load_dir(ks->verify_dir, verifiers, &n, err, errlen) != 0) {
        jwk_free(signer);
        return NULL;
    }
    struct jwt_params p = {ks->issuer, ks->audience, ks->leeway};
    jwt_key *jwt = jwt_key_create_asym(signer, verifiers, n, &p);
    keyset_gen *g = jwt != NULL ? gen_new(jwt) : NULL;
    if (g == NULL)
        snprintf(err, errlen, "out of memory");
    return g;
}

static keyset *keyset_new(void)
{
    keyset *ks = calloc(1, sizeof *ks);

    if (ks != NULL && pthread_mutex_init(&ks->lock, NULL) != 0) {
        free(ks);
        return NULL;
    }
    if (ks != NULL)
        atomic_init(&ks->generation, 0);
    return ks;
}

static int dup_opt(char **dst, const char *src)
{
    return src == NULL || (*dst = strdup(src)) != NULL ? 0 : -1;
}

keyset *keyset_open(const struct keyset_config *cfg, char *err, size_t errlen)
{
    keyset *ks = keyset_new();

    if (ks == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ks->any_alg = cfg->algorithm == NULL;
    ks->hs256 = !ks->any_alg && strcmp(cfg->algorithm, "HS256") == 0;
    if (!ks->hs256 && !ks->any_alg && jwk_alg_parse(cfg->algorithm, &ks->alg) != 0) {
        snprintf(err, errlen, "ALGORITHM: expected HS256, EdDSA, ES256 or RS256");
        goto fail;
    }
    if (dup_opt(&ks->setting, cfg->setting != NULL ? cfg->setting : "JWT_PRIVATE_KEY_FILE") != 0 ||
        dup_opt(&ks->private_key, cfg->private_key) != 0 ||
        dup_opt(&ks->verify_dir, cfg->verify_dir) != 0 ||
        dup_opt(&ks->issuer, cfg->params.issuer) != 0 ||
        dup_opt(&ks->audience, cfg->params.audience) != 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    ks->leeway = cfg->params.leeway_seconds;
    if (ks->hs256) {
        jwt_key *jwt = jwt_key_create(cfg->secret, cfg->secret_len, &cfg->params);
        ks->cur = jwt != NULL ? gen_new(jwt) : NULL;
        if (ks->cur == NULL)
            snprintf(err, errlen, "out of memory");
    } else if (ks->private_key == NULL) {
        snprintf(err, errlen, "ALGORITHM %s needs %s", cfg->algorithm != NULL ? cfg->algorithm : "",
                 ks->setting);
    } else {
        ks->cur = load_asym(ks, err, errlen);
    }
    if (ks->cur != NULL)
        return ks;
fail:
    keyset_close(ks);
    return NULL;
}

keyset *keyset_wrap(jwt_key *k)
{
    keyset *ks = keyset_new();

    if (ks == NULL || (ks->cur = gen_new(k)) == NULL) {
        if (ks == NULL)
            jwt_key_free(k);
        keyset_close(ks);
        return NULL;
    }
    ks->hs256 = jwt_key_count(k) == 0;
    return ks;
}

int keyset_reload(keyset *ks, char *err, size_t errlen)
{
    if (ks->hs256 || ks->private_key == NULL)
        return 0; /* nothing to read again */
    keyset_gen *g = load_asym(ks, err, errlen);
    if (g == NULL)
        return -1;
    pthread_mutex_lock(&ks->lock);
    keyset_gen *old = ks->cur;
    g->number = old->number + 1;
    ks->cur = g;
    atomic_store_explicit(&ks->generation, g->number, memory_order_release);
    pthread_mutex_unlock(&ks->lock);
    keyset_put(old);
    return 0;
}

void keyset_close(keyset *ks)
{
    if (ks == NULL)
        return;
    if (ks->cur != NULL)
        keyset_put(ks->cur);
    pthread_mutex_destroy(&ks->lock);
    free(ks->setting);
    free(ks->private_key);
    free(ks->verify_dir);
    free(ks->issuer);
    free(ks->audience);
    free(ks);
}

const keyset_gen *keyset_get(keyset *ks)
{
    pthread_mutex_lock(&ks->lock);
    keyset_gen *g = ks->cur;
    atomic_fetch_add_explicit(&g->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&ks->lock);
    return g;
}

uint64_t keyset_generation(keyset *ks)
{
    return atomic_load_explicit(&ks->generation, memory_order_acquire);
}

uint64_t keyset_gen_number(const keyset_gen *g)
{
    return g->number;
}

void keyset_put(const keyset_gen *g)
{
    keyset_gen *m = (keyset_gen *)g;

    if (m != NULL && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
        gen_free(m);
}

const jwt_key *keyset_jwt(const keyset_gen *g)
{
    return g->jwt;
}

const char *keyset_jwks(const keyset_gen *g)
{
    return g->jwks;
}

/* Appends to keys every key of g's jwt whose kid is not there yet. */
static int add_public_keys(json_t *keys, const keyset_gen *g)
{
    const jwt_key *k = g->jwt;

    for (size_t i = 0; i < jwt_key_count(k); i++) {
        const char *kid = jwk_kid(jwt_key_at(k, i));
        bool seen = false;
        size_t j;
        json_t *e;
        json_array_foreach(keys, j, e)
        {
            const char *other = json_string_value(json_object_get(e, "kid"));
            seen = seen || (other != NULL && strcmp(other, kid) == 0);
        }
        if (!seen && json_array_append_new(keys, jwk_public_json(jwt_key_at(k, i))) != 0)
            return -1;
    }
    return 0;
}

char *keyset_jwks_union(const keyset_gen *a, const keyset_gen *b)
{
    if (b == NULL || b == a)
        return strdup(a->jwks);
    json_t *keys = json_array(), *doc = json_pack("{s:o}", "keys", keys);
    char *out = NULL;

    if (doc != NULL && add_public_keys(keys, a) == 0 && add_public_keys(keys, b) == 0)
        out = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    return out;
}

/* The secret of a file's content: without its trailing line ending; at
 * least 32 bytes, no NUL. */
static int take_secret(const char *path, char *buf, size_t n, char **out, size_t *len, char *err,
                       size_t errlen)
{
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    if (n == 0) {
        snprintf(err, errlen, "%.300s is empty", path);
        return -1;
    }
    if (memchr(buf, '\0', n) != NULL) {
        snprintf(err, errlen, "%.300s holds a NUL byte", path);
        return -1;
    }
    if (n < 32) {
        snprintf(err, errlen, "%.300s: the key must be at least 32 bytes, it has %zu", path, n);
        return -1;
    }
    if ((*out = malloc(n + 1)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(*out, buf, n);
    (*out)[n] = '\0';
    *len = n;
    return 0;
}

int keyset_read_secret(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
    char *buf;
    size_t n;

    *out = NULL;
    /* Any read mode, as container runtimes mount secrets; but no one else
     * may write the file or its directory (util/keyfile.h). */
    if (keyfile_check_parent(path, err, errlen) != 0 ||
        keyfile_read(path, KEYSET_SECRET_MAX, KEYFILE_READABLE, &buf, &n, NULL, err, errlen) != 0)
        return -1;
    int rc = take_secret(path, buf, n, out, len, err, errlen);
    keyfile_free(buf);
    return rc;
}

int keyset_secret_beside(const char *dbpath, char **out, size_t *len, bool *generated, char *err,
                         size_t errlen)
{
    char path[4096], *buf;
    size_t n;
    struct stat st;

    *out = NULL;
    *generated = false;
    if ((size_t)snprintf(path, sizeof path, "%s.secret", dbpath) >= sizeof path) {
        snprintf(err, errlen, "DATABASE_URL: path too long");
        return -1;
    }
    if (stat(path, &st) != 0 && errno == ENOENT) {
        unsigned char raw[32];
        char hex[65];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
        hex[64] = '\n';
        int rc = keyfile_create(path, hex, sizeof hex, err, errlen);
        sodium_memzero(hex, sizeof hex);
        sodium_memzero(raw, sizeof raw);
        if (rc < 0)
            return -1;
        *generated = rc == 0; /* 1: another process made it first; read its key */
    }
    if (keyfile_read(path, KEYSET_SECRET_MAX, KEYFILE_PRIVATE, &buf, &n, NULL, err, errlen) != 0)
        return -1;
    int rc = take_secret(path, buf, n, out, len, err, errlen);
    keyfile_free(buf);
    return rc;
}

int keyset_key_beside(const char *dbpath, char **path, bool *generated, char *err, size_t errlen)
{
    char buf[4096];
    struct stat st;

    *path = NULL;
    *generated = false;
    if ((size_t)snprintf(buf, sizeof buf, "%s.oidc-key.pem", dbpath) >= sizeof buf) {
        snprintf(err, errlen, "DATABASE_URL: path too long");
        return -1;
    }
    if (stat(buf, &st) != 0 && errno == ENOENT) {
        /* RS256 with 2048 bits: what every relying party verifies, and the
         * cheapest RSA signature NIST still allows (SP 800-57). */
        char *pem = jwk_generate_pem_bits(JWK_RS256, 2048, err, errlen);
        if (pem == NULL)
            return -1;
        size_t len = strlen(pem);
        int rc = keyfile_create(buf, pem, len, err, errlen);
        sodium_memzero(pem, len);
        free(pem);
        if (rc < 0)
            return -1;
        *generated = rc == 0; /* 1: another process made it first */
    }
    if ((*path = strdup(buf)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}
