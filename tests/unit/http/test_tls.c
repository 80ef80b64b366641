/* http: the TLS certificate and key (http/tls.h): loading, the pair
 * check, and a reload that keeps the current pair when the new one fails. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/tls.h"
#include "test.h"

/* Two self-signed P-256 certificates and their keys (openssl req -x509,
 * valid until 2125); FP_* the SHA-256 of each certificate's DER. */
static const char CERT_A[] = "-----BEGIN CERTIFICATE-----\n"
                             "MIIBjjCCATOgAwIBAgIUWvKKS4dbvoI6eWAMmguhwVEXlmkwCgYIKoZIzj0EAwIw\n"
                             "GzEZMBcGA1UEAwwQZ2F0ZWhvdXNlLXVuaXQtYTAgFw0yNjEyMDgwMjAzMzdaGA8y\n"
                             "MTI2MTExNDAyMDMzN1owGzEZMBcGA1UEAwwQZ2F0ZWhvdXNlLXVuaXQtYTBZMBMG\n"
                             "ByqGSM49AgEGCCqGSM49AwEHA0IABJy04jxM1Rnkd0XyPsg5P6i+jzPSaydl8QQU\n"
                             "TXjItlhUqsPg4q14AI4b3IB6lcnZZIzo3rUwpgPhKOwg95kWAV+jUzBRMB0GA1Ud\n"
                             "DgQWBBQIMvYEv/YpugZH0gkqvFCU7Y/r2zAfBgNVHSMEGDAWgBQIMvYEv/YpugZH\n"
                             "0gkqvFCU7Y/r2zAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0kAMEYCIQDW\n"
                             "pVfPIFqLso70iBaAbFKC9EwZEt9tKtQFF/4N4msHdQIhAOja9DJC5LxaYwYfvKCl\n"
                             "wmhtQj9G625ofkPMvWqAuQyD\n"
                             "-----END CERTIFICATE-----\n";
static const char KEY_A[] = "-----BEGIN PRIVATE KEY-----\n"
                            "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgH/+UC3b/ZLNF97u1\n"
                            "b7T/izAS6MVr/xAPaw5NRB+hv9mhRANCAASctOI8TNUZ5HdF8j7IOT+ovo8z0msn\n"
                            "ZfEEFE14yLZYVKrD4OKteACOG9yAepXJ2WSM6N61MKYD4SjsIPeZFgFf\n"
                            "-----END PRIVATE KEY-----\n";
static const char CERT_B[] = "-----BEGIN CERTIFICATE-----\n"
                             "MIIBjDCCATOgAwIBAgIUWMbzU5nVGWOqSmd9D01KBXkYGDcwCgYIKoZIzj0EAwIw\n"
                             "GzEZMBcGA1UEAwwQZ2F0ZWhvdXNlLXVuaXQtYjAgFw0yNjEyMDgwMjAzMzdaGA8y\n"
                             "MTI2MTExNDAyMDMzN1owGzEZMBcGA1UEAwwQZ2F0ZWhvdXNlLXVuaXQtYjBZMBMG\n"
                             "ByqGSM49AgEGCCqGSM49AwEHA0IABInt7kqx/5KymWS9rhO2MFp48apH7EOp6E8h\n"
                             "IbKnAtTEt4bZG+DdktwzX40ljPEeJkxDuM+sRjqO3+xPbuhLWAmjUzBRMB0GA1Ud\n"
                             "DgQWBBQQmKzeek8HUxaKRuWyI8E0mvEA3zAfBgNVHSMEGDAWgBQQmKzeek8HUxaK\n"
                             "RuWyI8E0mvEA3zAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQCIGtu\n"
                             "yobSk/RvL1dQUFDV9m4DTbGWfosxEnLYhXA7/avpAiAO/Z8Bi3wtBUwaDF96VTob\n"
                             "8YB6u3+fKKo1eFE4xxHuvQ==\n"
                             "-----END CERTIFICATE-----\n";
static const char KEY_B[] = "-----BEGIN PRIVATE KEY-----\n"
                            "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSTreRssHhd4MQn0n\n"
                            "yEL2ReXRuqEYU3Rjk57JNqflwtyhRANCAASJ7e5Ksf+Ssplkva4TtjBaePGqR+xD\n"
                            "qehPISGypwLUxLeG2Rvg3ZLcM1+NJYzxHiZMQ7jPrEY6jt/sT27oS1gJ\n"
                            "-----END PRIVATE KEY-----\n";
#define FP_A "f2105ce281c0a5c4b1f694fc21bb56c42864dfc9c782b05f0f8dcc14bc3718d7"
#define FP_B "9b5ac3ab66528640f33c6acfd510cfe2212fdcf40750a8ba6019b44745651cc5"

struct files {
    char dir[64], cert[128], key[128];
};

static void put(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");

    REQUIRE(f != NULL);
    fputs(text, f);
    fclose(f);
    REQUIRE(chmod(path, mode) == 0);
}

static void files_init(struct files *fs, const char *cert, const char *key)
{
    snprintf(fs->dir, sizeof fs->dir, "/tmp/gh-tls-XXXXXX");
    REQUIRE(mkdtemp(fs->dir) != NULL);
    snprintf(fs->cert, sizeof fs->cert, "%s/cert.pem", fs->dir);
    snprintf(fs->key, sizeof fs->key, "%s/key.pem", fs->dir);
    put(fs->cert, cert, 0644);
    put(fs->key, key, 0600);
}

static void files_free(struct files *fs)
{
    unlink(fs->cert);
    unlink(fs->key);
    rmdir(fs->dir);
}

TEST(tls_open_checks_the_pair)
{
    struct files fs;
    char err[1024] = "", fp[65];
    time_t until;

    files_init(&fs, CERT_A, KEY_B);
    CHECK(tls_open(fs.cert, fs.key, err, sizeof err) == NULL);
    CHECK(strstr(err, "is not the private key of the certificate") != NULL);
    CHECK(strstr(err, fs.cert) != NULL && strstr(err, fs.key) != NULL);

    put(fs.key, KEY_A, 0640);
    CHECK(tls_open(fs.cert, fs.key, err, sizeof err) == NULL);
    CHECK(strstr(err, "TLS_KEY_FILE: ") != NULL && strstr(err, "chmod 600") != NULL);

    put(fs.key, CERT_A, 0600);
    CHECK(tls_open(fs.cert, fs.key, err, sizeof err) == NULL);
    CHECK(strstr(err, "TLS_KEY_FILE: ") != NULL &&
          strstr(err, "no usable PEM private key") != NULL);

    put(fs.key, KEY_A, 0600);
    put(fs.cert, KEY_A, 0644);
    CHECK(tls_open(fs.cert, fs.key, err, sizeof err) == NULL);
    CHECK(strstr(err, "TLS_CERT_FILE: ") != NULL &&
          strstr(err, "no usable PEM certificate") != NULL);

    put(fs.cert, CERT_A, 0644);
    tls *t = tls_open(fs.cert, fs.key, err, sizeof err);
    REQUIRE(t != NULL);
    tls_fingerprint(t, fp, &until);
    CHECK_EQ_STR(fp, FP_A);
    CHECK(until > (time_t)4000000000);
    /* One at a time: libmicrohttpd's callback has no closure. */
    CHECK(tls_open(fs.cert, fs.key, err, sizeof err) == NULL);
    CHECK(strstr(err, "open already") != NULL);
    tls_close(t);
    files_free(&fs);
}

TEST(tls_reload_swaps_only_a_good_pair)
{
    struct files fs;
    char err[1024] = "", fp[65];
    time_t until;

    files_init(&fs, CERT_A, KEY_A);
    tls *t = tls_open(fs.cert, fs.key, err, sizeof err);
    REQUIRE(t != NULL);

    put(fs.cert, CERT_B, 0644);
    CHECK(tls_reload(t, err, sizeof err) == -1); /* B's certificate, A's key */
    CHECK(strstr(err, "is not the private key of the certificate") != NULL);
    tls_fingerprint(t, fp, &until);
    CHECK_EQ_STR(fp, FP_A);

    put(fs.key, KEY_B, 0600);
    CHECK(tls_reload(t, err, sizeof err) == 0);
    tls_fingerprint(t, fp, &until);
    CHECK_EQ_STR(fp, FP_B);

    unlink(fs.key);
    CHECK(tls_reload(t, err, sizeof err) == -1);
    CHECK(strstr(err, "TLS_KEY_FILE: cannot read") != NULL);
    tls_fingerprint(t, fp, &until);
    CHECK_EQ_STR(fp, FP_B);
    tls_close(t);
    files_free(&fs);
}
