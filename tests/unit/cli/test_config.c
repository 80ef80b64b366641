/* cli/config: defaults, environment, flags (a flag wins), validation. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/config.h"
#include "test.h"

#define KEY32 "0123456789abcdef0123456789abcdef"

/* Unsets every variable of the settings table, read from its own listing
 * (config_print_settings: "  NAME  --flag  default" then the help line), so
 * that a new setting is cleared too without a copy of the table here. */
static void clear_env(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    if (f == NULL)
        abort();
    config_print_settings(f, CONFIG_ALL);
    fclose(f);
    for (char *line = text; line != NULL && *line != '\0';) {
        char *next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        if (line[0] == ' ' && line[1] == ' ' && line[2] >= 'A' && line[2] <= 'Z') {
            char *name = line + 2;
            name[strcspn(name, " ")] = '\0';
            unsetenv(name);
        }
        line = next;
    }
    free(text);
}

/* config_load with argv = {"gatehouse", args...}, first = 1. */
static int load(struct config *cfg, bool *help, char *err, size_t errlen, int nargs,
                const char *const *args)
{
    char *argv[16];

    argv[0] = (char *)"gatehouse";
    for (int i = 0; i < nargs && i < 15; i++)
        argv[i + 1] = (char *)args[i];
    err[0] = '\0';
    return config_load(cfg, nargs + 1, argv, 1, help, err, errlen);
}

/* One variable set, no flags: 0 or -1, with err filled on -1. */
static int load_env(const char *name, const char *value, struct config *cfg, char *err,
                    size_t errlen)
{
    bool help;

    clear_env();
    setenv(name, value, 1);
    int rc = load(cfg, &help, err, errlen, 0, NULL);
    clear_env();
    return rc;
}

/* Expects name=value to be refused with name in the message. */
static void refuses_env(const char *name, const char *value, int line)
{
    struct config cfg;
    char err[256];
    int rc = load_env(name, value, &cfg, err, sizeof err);

    test_check_int(rc, -1, __FILE__, line, name, "-1");
    test_check(strstr(err, name) != NULL, __FILE__, line, "the variable is named in err");
    config_free(&cfg);
}

TEST(config_defaults)
{
    struct config cfg;
    char err[256];
    bool help = true;

    clear_env();
    REQUIRE(load(&cfg, &help, err, sizeof err, 0, NULL) == 0);
    CHECK(!help);
    CHECK_EQ_INT(cfg.port, 8000);
    CHECK_EQ_STR(cfg.host, "127.0.0.1");
    CHECK_EQ_INT(cfg.bcrypt_rounds, 12);
    CHECK_EQ_INT(cfg.access_token_expire_minutes, 30);
    CHECK_EQ_INT(cfg.password_min_length, 8);
    CHECK_EQ_STR(cfg.algorithm, "HS256");
    CHECK_EQ_STR(cfg.database_url, "sqlite:///gatehouse.db");
    CHECK_EQ_INT(cfg.password_hash, PASSWORD_BCRYPT);
    CHECK(cfg.secret_key == NULL);
    CHECK(cfg.jwt_issuer == NULL);
    CHECK(cfg.jwt_audience == NULL);
    CHECK_EQ_INT(cfg.jwt_leeway_seconds, 0);
    CHECK(cfg.workers >= 1);
    CHECK_EQ_INT(cfg.db_workers, 2);
    CHECK_EQ_INT(cfg.db_pool_size, cfg.workers + cfg.db_workers);
    CHECK(!cfg.access_log);
    config_free(&cfg);
    CHECK(cfg.database_url == NULL && cfg.host == NULL && cfg.algorithm == NULL);
}

TEST(config_env_overrides)
{
    struct config cfg;
    char err[256];
    bool help;

    clear_env();
    setenv("PORT", "9001", 1);
    setenv("HOST", "0.0.0.0", 1);
    setenv("BCRYPT_ROUNDS", "10", 1);
    setenv("ACCESS_TOKEN_EXPIRE_MINUTES", "5", 1);
    setenv("PASSWORD_MIN_LENGTH", "12", 1);
    setenv("DATABASE_URL", "sqlite:////var/lib/gatehouse/db.sqlite", 1);
    setenv("SECRET_KEY", KEY32, 1);
    setenv("JWT_ISSUER", "https://auth.example", 1);
    setenv("JWT_AUDIENCE", "api", 1);
    setenv("JWT_LEEWAY_SECONDS", "30", 1);
    setenv("WORKERS", "3", 1);
    setenv("DB_WORKERS", "3", 1);
    setenv("ACCESS_LOG", "1", 1);
    int rc = load(&cfg, &help, err, sizeof err, 0, NULL);
    clear_env();
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_STR(err, "");
    CHECK_EQ_INT(cfg.port, 9001);
    CHECK_EQ_STR(cfg.host, "0.0.0.0");
    CHECK_EQ_INT(cfg.bcrypt_rounds, 10);
    CHECK_EQ_INT(cfg.access_token_expire_minutes, 5);
    CHECK_EQ_INT(cfg.password_min_length, 12);
    CHECK_EQ_STR(cfg.database_url, "sqlite:////var/lib/gatehouse/db.sqlite");
    CHECK_EQ_STR(cfg.secret_key, KEY32);
    CHECK_EQ_INT(cfg.secret_key_len, 32);
    CHECK_EQ_STR(cfg.jwt_issuer, "https://auth.example");
    CHECK_EQ_STR(cfg.jwt_audience, "api");
    CHECK_EQ_INT(cfg.jwt_leeway_seconds, 30);
    CHECK_EQ_INT(cfg.workers, 3);
    CHECK_EQ_INT(cfg.db_workers, 3);
    CHECK_EQ_INT(cfg.db_pool_size, 6); /* WORKERS + DB_WORKERS */
    CHECK(cfg.access_log);
    config_free(&cfg);
    CHECK(cfg.secret_key == NULL);
}

TEST(config_empty_env_is_unset)
{
    struct config cfg;
    char err[256];

    CHECK_EQ_INT(load_env("PORT", "", &cfg, err, sizeof err), 0);
    CHECK_EQ_INT(cfg.port, 8000);
    config_free(&cfg);
}

TEST(config_flags_override_env)
{
    static const char *const args[] = {"--port", "9002", "--host", "::1", "--secret-key", KEY32};
    struct config cfg;
    char err[256];
    bool help;

    clear_env();
    setenv("PORT", "9001", 1);
    setenv("HOST", "0.0.0.0", 1);
    setenv("BCRYPT_ROUNDS", "10", 1);
    int rc = load(&cfg, &help, err, sizeof err, 6, args);
    clear_env();
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(cfg.port, 9002);
    CHECK_EQ_STR(cfg.host, "::1");
    CHECK_EQ_INT(cfg.bcrypt_rounds, 10); /* no flag: the variable stands */
    CHECK_EQ_STR(cfg.secret_key, KEY32);
    config_free(&cfg);
}

TEST(config_flag_equals_form)
{
    static const char *const args[] = {"--port=9003", "--jwt-issuer=a=b",
                                       "--password-hash=argon2id", "--database-url=sqlite:///x.db"};
    struct config cfg;
    char err[256];
    bool help;

    clear_env();
    CHECK_EQ_INT(load(&cfg, &help, err, sizeof err, 4, args), 0);
    CHECK_EQ_INT(cfg.port, 9003);
    CHECK_EQ_STR(cfg.jwt_issuer, "a=b");
    CHECK_EQ_INT(cfg.password_hash, PASSWORD_ARGON2ID);
    CHECK_EQ_STR(cfg.database_url, "sqlite:///x.db");
    config_free(&cfg);
}

TEST(config_first_arg)
{
    char *argv[] = {(char *)"gatehouse", (char *)"serve", (char *)"--port", (char *)"9004", NULL};
    struct config cfg;
    char err[256] = "";
    bool help;

    clear_env();
    CHECK_EQ_INT(config_load(&cfg, 4, argv, 2, &help, err, sizeof err), 0);
    CHECK_EQ_INT(cfg.port, 9004);
    config_free(&cfg);
    /* From 1, the subcommand is an unknown argument. */
    CHECK_EQ_INT(config_load(&cfg, 4, argv, 1, &help, err, sizeof err), -1);
    CHECK(strstr(err, "serve") != NULL);
    config_free(&cfg);
}

TEST(config_unknown_flag)
{
    static const char *const a1[] = {"--nope", "1"};
    static const char *const a2[] = {"--port9000"};
    static const char *const a3[] = {"-port", "9000"};
    struct config cfg;
    char err[256];
    bool help;

    clear_env();
    CHECK_EQ_INT(load(&cfg, &help, err, sizeof err, 2, a1), -1);
    CHECK(strstr(err, "--nope") != NULL);
    config_free(&cfg);
    CHECK_EQ_INT(load(&cfg, &help, err, sizeof err, 1, a2), -1);
    CHECK(strstr(err, "--port9000") != NULL);
    config_free(&cfg);
    CHECK_EQ_INT(load(&cfg, &help, err, sizeof err, 2, a3), -1);
    CHECK(err[0] != '\0');
    config_free(&cfg);
}

TEST(config_unknown_flag_hides_value)
{
    /* A misspelt flag's value may be a secret: the message names the flag
     * and never shows what follows its '='. */
    static const char *const a1[] = {"--secret_key=Sup3rS3cretKeyValue0123456789abcdef"};
    static const char *const a2[] = {"--database_url=postgresql://a:Sup3rS3cret@h/db"};
    struct config cfg;
    char err[256];
    bool help;

    clear_env();
    CHECK_EQ_INT(load(&cfg, &help, err, sizeof err, 1, a1), -1);
    CHECK(strstr(err, "\"--secret_key\"") != NULL);
    CHECK(strstr(err, "S3cret") == NULL);
    config_free(&cfg);
    CHECK_EQ_INT(load(&cfg, &help, err, sizeof err, 1, a2), -1);
    CHECK(strstr(err, "\"--database_url\"") != NULL);
    CHECK(strstr(err, "S3cret") == NULL);
    config_free(&cfg);
}

TEST(config_logs_and_metrics)
{
    struct config cfg;
    char err[256];
    bool help;

    clear_env();
    CHECK_EQ_INT(load(&cfg, &help, err, sizeof err, 0, NULL), 0);
    CHECK(cfg.metrics);
    CHECK(cfg.metrics_address == NULL && cfg.metrics_addrlen == 0);
    CHECK_EQ_INT(cfg.log_format_id, 0); /* text */
    CHECK_EQ_INT(cfg.log_level_id, 1);  /* info */
    config_free(&cfg);
    CHECK_EQ_INT(load_env("LOG_FORMAT", "json", &cfg, err, sizeof err), 0);
    CHECK_EQ_INT(cfg.log_format_id, 1);
    config_free(&cfg);
    CHECK_EQ_INT(load_env("LOG_LEVEL", "warn", &cfg, err, sizeof err), 0);
    CHECK_EQ_INT(cfg.log_level_id, 2);
    config_free(&cfg);
    CHECK_EQ_INT(load_env("METRICS_ADDRESS", "[::1]:9100", &cfg, err, sizeof err), 0);
    CHECK_EQ_INT(cfg.metrics_port, 9100);
    CHECK(cfg.metrics_addrlen != 0 && cfg.metrics_addr.ss_family == AF_INET6);
    config_free(&cfg);
    CHECK_EQ_INT(load_env("METRICS_ADDRESS", "127.0.0.1:9100", &cfg, err, sizeof err), 0);
    CHECK(cfg.metrics_addr.ss_family == AF_INET);
    config_free(&cfg);
    static const char *const bad[][2] = {
        {"LOG_FORMAT", "xml"},          {"LOG_LEVEL", "verbose"},
        {"METRICS", "maybe"},           {"METRICS_ADDRESS", "9100"},
        {"METRICS_ADDRESS", ":9100"},   {"METRICS_ADDRESS", "127.0.0.1:"},
        {"METRICS_ADDRESS", "h:70000"}, {"METRICS_ADDRESS", "127.0.0.1:9x"},
        {"METRICS_ADDRESS", "[]:9100"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ_INT(load_env(bad[i][0], bad[i][1], &cfg, err, sizeof err), -1);
        CHECK(strstr(err, bad[i][0]) != NULL);
        config_free(&cfg);
    }
}

TEST(config_flag_needs_value)
{
    static const char *const args[] = {"--port"};
    struct config cfg;
    char err[256];
    bool help;

    clear_env();
    CHECK_EQ_INT(load(&cfg, &help, err, sizeof err, 1, args), -1);
    CHECK(strstr(err, "--port") != NULL);
    config_free(&cfg);
}

TEST(config_bad_numbers)
{
    static const char *const flag_bad[] = {"--bcrypt-rounds", "3"};
    static const char *const flag_eq[] = {"--port=80x"};
    struct config cfg;
    char err[256];
    bool help;

    refuses_env("PORT", "abc", __LINE__);
    refuses_env("PORT", "12x", __LINE__);
    refuses_env("PORT", "0", __LINE__);
    refuses_env("PORT", "65536", __LINE__);
    refuses_env("PORT", "-1", __LINE__);
    refuses_env("PORT", "99999999999999999999999", __LINE__);
    refuses_env("PORT", "8000.5", __LINE__);
    refuses_env("BCRYPT_ROUNDS", "3", __LINE__);
    refuses_env("BCRYPT_ROUNDS", "32", __LINE__);
    refuses_env("ACCESS_TOKEN_EXPIRE_MINUTES", "0", __LINE__);
    refuses_env("PASSWORD_MIN_LENGTH", "0", __LINE__);
    refuses_env("JWT_LEEWAY_SECONDS", "-5", __LINE__);
    refuses_env("WORKERS", "lots", __LINE__);
    refuses_env("QUEUE_SIZE", "0", __LINE__);
    refuses_env("ACCESS_LOG", "maybe", __LINE__);
    refuses_env("DB_POOL_SIZE", "0", __LINE__);
    refuses_env("DB_STATEMENT_TIMEOUT_MS", "99", __LINE__);
    /* The bounds themselves are fine. */
    CHECK_EQ_INT(load_env("PORT", "65535", &cfg, err, sizeof err), 0);
    config_free(&cfg);
    CHECK_EQ_INT(load_env("BCRYPT_ROUNDS", "4", &cfg, err, sizeof err), 0);
    config_free(&cfg);
    /* A flag's bad value names the setting too. */
    clear_env();
    CHECK_EQ_INT(load(&cfg, &help, err, sizeof err, 2, flag_bad), -1);
    CHECK(strstr(err, "BCRYPT_ROUNDS") != NULL);
    config_free(&cfg);
    CHECK_EQ_INT(load(&cfg, &help, err, sizeof err, 1, flag_eq), -1);
    CHECK(strstr(err, "PORT") != NULL);
    config_free(&cfg);
}

/* SECRET_KEY_FILE: read by validation into secret_key, its line ending
 * dropped; refused when missing, empty, short (not echoed) or beside
 * SECRET_KEY. */
TEST(config_secret_key_file)
{
    char path[] = "/tmp/gh-secret-XXXXXX", err[512];
    struct config cfg;
    bool help;
    int fd = mkstemp(path);

    REQUIRE(fd >= 0);
    REQUIRE(write(fd, KEY32 "-from-a-file\n", 45) == 45);
    close(fd);
    CHECK_EQ_INT(load_env("SECRET_KEY_FILE", path, &cfg, err, sizeof err), 0);
    CHECK_EQ_STR(cfg.secret_key, KEY32 "-from-a-file");
    CHECK_EQ_INT(cfg.secret_key_len, 44);
    config_free(&cfg);
    clear_env();
    setenv("SECRET_KEY", KEY32, 1);
    setenv("SECRET_KEY_FILE", path, 1);
    CHECK_EQ_INT(load(&cfg, &help, err, sizeof err, 0, NULL), -1);
    CHECK(strstr(err, "not both") != NULL);
    config_free(&cfg);
    clear_env();
    REQUIRE(truncate(path, 20) == 0); /* 20 bytes of the key: too short */
    refuses_env("SECRET_KEY_FILE", path, __LINE__);
    CHECK_EQ_INT(load_env("SECRET_KEY_FILE", path, &cfg, err, sizeof err), -1);
    CHECK(strstr(err, "0123456789abcdef0123") == NULL);
    config_free(&cfg);
    REQUIRE(truncate(path, 0) == 0);
    CHECK_EQ_INT(load_env("SECRET_KEY_FILE", path, &cfg, err, sizeof err), -1);
    CHECK(strstr(err, "empty") != NULL);
    config_free(&cfg);
    unlink(path);
    refuses_env("SECRET_KEY_FILE", path, __LINE__);
}

/* ALGORITHM and the key settings go together. */
TEST(config_algorithm_keys)
{
    struct config cfg;
    char err[512];
    bool help;

    refuses_env("ALGORITHM", "es256", __LINE__);
    refuses_env("ALGORITHM", "none", __LINE__);
    refuses_env("ALGORITHM", "EdDSA", __LINE__);             /* no JWT_PRIVATE_KEY_FILE */
    refuses_env("JWT_PRIVATE_KEY_FILE", "/k.pem", __LINE__); /* with HS256 */
    refuses_env("JWT_VERIFY_KEYS_DIR", "/keys", __LINE__);
    clear_env();
    setenv("ALGORITHM", "ES256", 1);
    setenv("JWT_PRIVATE_KEY_FILE", "/k.pem", 1);
    setenv("DATABASE_URL", "postgresql://u@127.0.0.1/db", 1);
    /* Validation reads no key file (serving does) and, without HS256, needs
     * no SECRET_KEY even with PostgreSQL. */
    CHECK_EQ_INT(load(&cfg, &help, err, sizeof err, 0, NULL), 0);
    CHECK_EQ_STR(cfg.jwt_private_key_file, "/k.pem");
    config_free(&cfg);
    clear_env();
}

TEST(config_secret_key_length)
{
    static const char *const short_flag[] = {"--secret-key", &KEY32[1]};
    struct config cfg;
    char err[256];
    bool help;

    refuses_env("SECRET_KEY", &KEY32[1], __LINE__); /* 31 bytes */
    CHECK_EQ_INT(load_env("SECRET_KEY", KEY32, &cfg, err, sizeof err), 0);
    CHECK_EQ_INT(cfg.secret_key_len, 32);
    config_free(&cfg);
    CHECK_EQ_INT(load_env("SECRET_KEY", KEY32 KEY32, &cfg, err, sizeof err), 0);
    CHECK_EQ_INT(cfg.secret_key_len, 64);
    config_free(&cfg);
    clear_env();
    CHECK_EQ_INT(load(&cfg, &help, err, sizeof err, 2, short_flag), -1);
    CHECK(strstr(err, "SECRET_KEY") != NULL);
    config_free(&cfg);
}

TEST(config_algorithm)
{
    struct config cfg;
    char err[256];

    refuses_env("ALGORITHM", "RS256", __LINE__);
    refuses_env("ALGORITHM", "none", __LINE__);
    refuses_env("ALGORITHM", "hs256", __LINE__);
    refuses_env("ALGORITHM", "HS512", __LINE__);
    CHECK_EQ_INT(load_env("ALGORITHM", "HS256", &cfg, err, sizeof err), 0);
    CHECK_EQ_STR(cfg.algorithm, "HS256");
    config_free(&cfg);
}

TEST(config_password_hash)
{
    struct config cfg;
    char err[256];

    CHECK_EQ_INT(load_env("PASSWORD_HASH", "argon2id", &cfg, err, sizeof err), 0);
    CHECK_EQ_INT(cfg.password_hash, PASSWORD_ARGON2ID);
    config_free(&cfg);
    CHECK_EQ_INT(load_env("PASSWORD_HASH", "bcrypt", &cfg, err, sizeof err), 0);
    CHECK_EQ_INT(cfg.password_hash, PASSWORD_BCRYPT);
    config_free(&cfg);
    refuses_env("PASSWORD_HASH", "scrypt", __LINE__);
    refuses_env("PASSWORD_HASH", "argon2i", __LINE__);
    refuses_env("PASSWORD_HASH", "md5", __LINE__);
}

TEST(config_help)
{
    static const char *const a1[] = {"--help"};
    static const char *const a2[] = {"--port", "9005", "-h"};
    struct config cfg;
    char err[256];
    bool help = false;

    clear_env();
    CHECK_EQ_INT(load(&cfg, &help, err, sizeof err, 1, a1), 0);
    CHECK(help);
    config_free(&cfg);
    help = false;
    CHECK_EQ_INT(load(&cfg, &help, err, sizeof err, 3, a2), 0);
    CHECK(help);
    config_free(&cfg);
}

TEST(config_empty_host)
{
    static const char *const args[] = {"--host="};
    struct config cfg;
    char err[256];
    bool help;

    clear_env();
    CHECK_EQ_INT(load(&cfg, &help, err, sizeof err, 1, args), -1);
    CHECK(strstr(err, "HOST") != NULL);
    config_free(&cfg);
}

TEST(config_database_url)
{
    struct config cfg;
    char err[256];

    refuses_env("DATABASE_URL", "mysql://x", __LINE__);
    refuses_env("DATABASE_URL", "not a url", __LINE__);
    refuses_env("DATABASE_URL", "sqlite://", __LINE__);
    refuses_env("DATABASE_URL", "sqlite:///", __LINE__);
    refuses_env("DATABASE_URL", "sqlite:///x.db?mode=ro", __LINE__);
    CHECK_EQ_INT(load_env("DATABASE_URL", "sqlite:///rel/x.db", &cfg, err, sizeof err), 0);
    config_free(&cfg);
    CHECK_EQ_INT(load_env("DATABASE_URL", "sqlite:////abs/x.db", &cfg, err, sizeof err), 0);
    config_free(&cfg);
}

TEST(config_postgres_needs_secret_key)
{
    static const char *const with_key[] = {"--secret-key", KEY32};
    char *argv[] = {(char *)"gatehouse", NULL};
    struct config cfg;
    char err[256];
    bool help;

    /* Serving reads every group: no key, no start, and the password of the
     * URL stays out of the message. */
    CHECK_EQ_INT(
        load_env("DATABASE_URL", "postgresql://u:pw-x@127.0.0.1:1/db", &cfg, err, sizeof err), -1);
    CHECK(strstr(err, "SECRET_KEY") != NULL);
    CHECK(strstr(err, "pw-x") == NULL);
    config_free(&cfg);
    clear_env();
    setenv("DATABASE_URL", "postgresql+asyncpg://u:pw-x@127.0.0.1:1/db", 1);
    CHECK_EQ_INT(load(&cfg, &help, err, sizeof err, 2, with_key), 0);
    config_free(&cfg);
    /* A command that signs nothing (migrate) does not need one. */
    CHECK_EQ_INT(config_parse(&cfg, CONFIG_DATABASE, 1, argv, 1, &help, err, sizeof err), 0);
    config_free(&cfg);
    clear_env();
}

TEST(config_host_resolved)
{
    struct config cfg;
    char err[256];
    bool help;

    clear_env();
    REQUIRE(load(&cfg, &help, err, sizeof err, 0, NULL) == 0);
    const struct sockaddr_in *v4 = (const struct sockaddr_in *)&cfg.listen_addr;
    CHECK_EQ_INT(cfg.listen_addr.ss_family, AF_INET);
    CHECK_EQ_INT(cfg.listen_addrlen, sizeof(struct sockaddr_in));
    CHECK_EQ_INT(ntohs(v4->sin_port), 8000);
    CHECK_EQ_INT(ntohl(v4->sin_addr.s_addr), INADDR_LOOPBACK);
    config_free(&cfg);

    CHECK_EQ_INT(load_env("HOST", "::1", &cfg, err, sizeof err), 0);
    const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&cfg.listen_addr;
    CHECK_EQ_INT(cfg.listen_addr.ss_family, AF_INET6);
    CHECK_EQ_INT(cfg.listen_addrlen, sizeof(struct sockaddr_in6));
    CHECK_EQ_INT(ntohs(v6->sin6_port), 8000);
    CHECK(IN6_IS_ADDR_LOOPBACK(&v6->sin6_addr));
    config_free(&cfg);

    /* A name: localhost is 127.0.0.1 in every /etc/hosts gatehouse runs
     * with, and IPv4 is what hostaddr_pick prefers. */
    clear_env();
    setenv("HOST", "localhost", 1);
    setenv("PORT", "9011", 1);
    REQUIRE(load(&cfg, &help, err, sizeof err, 0, NULL) == 0);
    clear_env();
    CHECK_EQ_STR(cfg.host, "localhost");
    CHECK_EQ_INT(cfg.listen_addr.ss_family, AF_INET);
    CHECK_EQ_INT(ntohs(v4->sin_port), 9011);
    CHECK_EQ_INT(ntohl(v4->sin_addr.s_addr), INADDR_LOOPBACK);
    config_free(&cfg);
}

TEST(config_host_unresolvable)
{
    refuses_env("HOST", "not-a-host.invalid", __LINE__);
    refuses_env("HOST", "[::1]", __LINE__);
    refuses_env("HOST", "127.0.0.1:8000", __LINE__);
}

TEST(config_groups)
{
    static const char *const port_flag[] = {"--port", "9000"};
    static const char *const db_flag[] = {"--database-url", "sqlite:///g.db"};
    struct config cfg;
    char err[256];
    bool help;
    char *argv[4] = {(char *)"gatehouse"};

    /* The variables of groups a command does not read are not even parsed:
     * one environment configures every command. */
    clear_env();
    setenv("PORT", "abc", 1);
    setenv("HOST", "not-a-host.invalid", 1);
    setenv("SECRET_KEY", "short", 1);
    setenv("BCRYPT_ROUNDS", "99", 1);
    setenv("DATABASE_URL", "sqlite:///env.db", 1);
    err[0] = '\0';
    CHECK_EQ_INT(config_parse(&cfg, CONFIG_DATABASE, 1, argv, 1, &help, err, sizeof err), 0);
    CHECK_EQ_STR(err, "");
    CHECK_EQ_STR(cfg.database_url, "sqlite:///env.db");
    CHECK(cfg.secret_key == NULL);
    CHECK_EQ_INT(cfg.port, 8000);
    config_free(&cfg);
    /* Its own flags it takes; the flag of another group is bad usage. */
    argv[1] = (char *)db_flag[0];
    argv[2] = (char *)db_flag[1];
    CHECK_EQ_INT(config_parse(&cfg, CONFIG_DATABASE, 3, argv, 1, &help, err, sizeof err), 0);
    CHECK_EQ_STR(cfg.database_url, "sqlite:///g.db");
    config_free(&cfg);
    argv[1] = (char *)port_flag[0];
    argv[2] = (char *)port_flag[1];
    CHECK_EQ_INT(config_parse(&cfg, CONFIG_DATABASE, 3, argv, 1, &help, err, sizeof err), -1);
    CHECK(strstr(err, "--port") != NULL);
    config_free(&cfg);
    /* Serving reads them all, so the same environment stops it. */
    CHECK_EQ_INT(config_parse(&cfg, CONFIG_ALL, 1, argv, 1, &help, err, sizeof err), -1);
    config_free(&cfg);
    clear_env();
}

/* Every boolean takes 1/0, true/false, yes/no and on/off in any case, and
 * the error lists them. */
TEST(config_booleans)
{
    static const char *const yes[] = {"1", "true", "TRUE", "Yes", "on", "ON"};
    static const char *const no[] = {"0", "false", "False", "NO", "off", "Off"};
    struct config cfg;
    char err[256];

    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        CHECK_EQ_INT(load_env("ACCESS_LOG", yes[i], &cfg, err, sizeof err), 0);
        CHECK(cfg.access_log);
        config_free(&cfg);
        CHECK_EQ_INT(load_env("COOKIE_SECURE", no[i], &cfg, err, sizeof err), 0);
        CHECK(!cfg.cookie_secure);
        config_free(&cfg);
    }
    CHECK_EQ_INT(load_env("SESSION_COOKIES", "y", &cfg, err, sizeof err), -1);
    CHECK(strstr(err, "SESSION_COOKIES") != NULL);
    CHECK(strstr(err, "1/0, true/false, yes/no or on/off") != NULL);
    config_free(&cfg);
    CHECK_EQ_INT(load_env("METRICS", "enabled", &cfg, err, sizeof err), -1);
    config_free(&cfg);
}

/* TRUSTED_PROXIES is parsed once, by validation, and kept for the server. */
TEST(config_trusted_proxies_parsed)
{
    struct config cfg;
    char err[256];

    CHECK_EQ_INT(load_env("TRUSTED_PROXIES", "10.0.0.0/8, ::1", &cfg, err, sizeof err), 0);
    CHECK_EQ_INT(cfg.ntrusted, 2);
    CHECK(cfg.trusted != NULL);
    config_free(&cfg);
    CHECK(cfg.trusted == NULL && cfg.ntrusted == 0);
    CHECK_EQ_INT(load_env("TRUSTED_PROXIES", "10.0.0.0/33", &cfg, err, sizeof err), -1);
    CHECK(strstr(err, "TRUSTED_PROXIES") != NULL);
    config_free(&cfg);
}
