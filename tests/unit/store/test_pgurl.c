/* store/pgurl: PostgreSQL URLs to libpq keywords. Every form the parser
 * accepts and every one it refuses, with the rule that no error message and
 * no description ever holds the password. Query keys are checked against the
 * keywords libpq itself reports (PQconndefaults), so libpq is loaded here. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "store/pgurl.h"
#include "store/pq.h"
#include "test.h"

#define PREFIX "DATABASE_URL: "

/* Parses url, expecting success; the caller frees u. */
static bool parses(const char *url, struct pgurl *u)
{
    char err[256] = "";
    int rc = pgurl_parse(url, u, err, sizeof err);

    if (rc != 0)
        printf("pgurl_parse(\"%s\"): %s\n", url, err);
    return rc == 0;
}

/* Parses url, expecting a refusal: returns true when it was refused with an
 * error that starts with PREFIX and contains want. Frees what was parsed. */
static bool refused(const char *url, const char *want)
{
    struct pgurl u;
    char err[256] = "";
    int rc = pgurl_parse(url, &u, err, sizeof err);

    pgurl_free(&u);
    if (rc == 0 || strncmp(err, PREFIX, strlen(PREFIX)) != 0 || strstr(err, want) == NULL) {
        printf("pgurl_parse(\"%s\") = %d: \"%s\", wanted \"%s\"\n", url, rc, err, want);
        return false;
    }
    return true;
}

/* The keyword count of u, checked against the NULL terminators
 * PQconnectdbParams relies on. */
static size_t nkeys(const struct pgurl *u)
{
    CHECK(u->n == 0 || (u->keys[u->n] == NULL && u->vals[u->n] == NULL));
    return u->n;
}

TEST(pgurl_is_postgres)
{
    CHECK(pgurl_is_postgres("postgresql://h/db"));
    CHECK(pgurl_is_postgres("postgres://h/db"));
    CHECK(pgurl_is_postgres("postgresql+asyncpg://h/db"));
    /* By the scheme alone, so that a malformed PostgreSQL URL gets
     * pgurl_parse's message rather than "unsupported database". */
    CHECK(pgurl_is_postgres("postgresql:h"));
    CHECK(pgurl_is_postgres("postgres:"));
    CHECK(pgurl_is_postgres("postgresql+foo://h"));
    CHECK(!pgurl_is_postgres("sqlite:///gatehouse.db"));
    CHECK(!pgurl_is_postgres("postgre://h"));
    CHECK(!pgurl_is_postgres("mysql://h/db"));
    CHECK(!pgurl_is_postgres(""));
}

TEST(pgurl_schemes)
{
    static const char *const ok[] = {
        "postgresql://h/db",          "postgres://h/db",           "postgresql+asyncpg://h/db",
        "postgresql+psycopg2://h/db", "postgresql+psycopg://h/db",
    };
    static const char *const bad[] = {
        "postgresql:/h/db",
        "postgresql:h",
        "postgres:",
        "postgresql+foo://h/db",
        "mysql://h/db",
        "sqlite:///x.db",
        "",
        "postgresql//h/db",
        " postgresql://h",
        "POSTGRESQL://h/db",
        "postgresql+asyncpg:/h",
    };

    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        struct pgurl u;
        CHECK(parses(ok[i], &u));
        CHECK_EQ_STR(pgurl_get(&u, "host"), "h");
        CHECK_EQ_STR(pgurl_get(&u, "dbname"), "db");
        CHECK_EQ_INT(nkeys(&u), 2);
        pgurl_free(&u);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(refused(bad[i], "expected postgresql://user:password@host:port/database"));
}

TEST(pgurl_every_part)
{
    struct pgurl u;

    REQUIRE(parses("postgresql://alice:s3cret@db.example.com:6543/gate", &u));
    CHECK_EQ_INT(nkeys(&u), 5);
    CHECK_EQ_STR(pgurl_get(&u, "user"), "alice");
    CHECK_EQ_STR(pgurl_get(&u, "password"), "s3cret");
    CHECK_EQ_STR(pgurl_get(&u, "host"), "db.example.com");
    CHECK_EQ_STR(pgurl_get(&u, "port"), "6543");
    CHECK_EQ_STR(pgurl_get(&u, "dbname"), "gate");
    CHECK(pgurl_get(&u, "sslmode") == NULL);
    pgurl_free(&u);
    CHECK(u.n == 0 && u.keys == NULL && u.vals == NULL);
}

TEST(pgurl_empty_parts)
{
    struct pgurl u;

    /* Every part may be left out: libpq then takes PGHOST, PGUSER, ... or
     * its defaults, the Unix socket first. An empty part sets nothing. */
    REQUIRE(parses("postgresql://", &u));
    CHECK_EQ_INT(nkeys(&u), 0);
    pgurl_free(&u);
    REQUIRE(parses("postgresql:///gate", &u));
    CHECK_EQ_INT(nkeys(&u), 1);
    CHECK_EQ_STR(pgurl_get(&u, "dbname"), "gate");
    pgurl_free(&u);
    REQUIRE(parses("postgresql://h/", &u));
    CHECK_EQ_INT(nkeys(&u), 1);
    CHECK(pgurl_get(&u, "dbname") == NULL);
    pgurl_free(&u);
    REQUIRE(parses("postgresql://@h", &u));
    CHECK_EQ_INT(nkeys(&u), 1);
    CHECK(pgurl_get(&u, "user") == NULL);
    pgurl_free(&u);
    REQUIRE(parses("postgresql://alice@h", &u));
    CHECK_EQ_STR(pgurl_get(&u, "user"), "alice");
    CHECK(pgurl_get(&u, "password") == NULL);
    pgurl_free(&u);
    /* A ':' with nothing after it is an empty password, which is set. */
    REQUIRE(parses("postgresql://alice:@h", &u));
    CHECK_EQ_STR(pgurl_get(&u, "password"), "");
    pgurl_free(&u);
    REQUIRE(parses("postgresql://:pw@h", &u));
    CHECK(pgurl_get(&u, "user") == NULL);
    CHECK_EQ_STR(pgurl_get(&u, "password"), "pw");
    pgurl_free(&u);
    /* A port without a host: the default host on another port. */
    REQUIRE(parses("postgresql://:5433/gate", &u));
    CHECK(pgurl_get(&u, "host") == NULL);
    CHECK_EQ_STR(pgurl_get(&u, "port"), "5433");
    pgurl_free(&u);
    /* An empty query, and empty query segments. */
    REQUIRE(parses("postgresql://h/db?", &u));
    CHECK_EQ_INT(nkeys(&u), 2);
    pgurl_free(&u);
    REQUIRE(parses("postgresql://h/db?&&sslmode=require&", &u));
    CHECK_EQ_INT(nkeys(&u), 3);
    CHECK_EQ_STR(pgurl_get(&u, "sslmode"), "require");
    pgurl_free(&u);
    /* A query straight after the host. */
    REQUIRE(parses("postgresql://h?sslmode=disable", &u));
    CHECK_EQ_STR(pgurl_get(&u, "host"), "h");
    CHECK(pgurl_get(&u, "dbname") == NULL);
    pgurl_free(&u);
}

TEST(pgurl_percent_decoding)
{
    struct pgurl u;

    REQUIRE(parses("postgresql://al%40ice%3A:p%40ss%3Aw%2Fo%3Frd%23%25@db%2Dhost/my%20db", &u));
    CHECK_EQ_STR(pgurl_get(&u, "user"), "al@ice:");
    CHECK_EQ_STR(pgurl_get(&u, "password"), "p@ss:w/o?rd#%");
    CHECK_EQ_STR(pgurl_get(&u, "host"), "db-host");
    CHECK_EQ_STR(pgurl_get(&u, "dbname"), "my db");
    pgurl_free(&u);
    /* URL encoding, not form encoding: '+' stays a '+'. Non-ASCII bytes
     * pass through. */
    REQUIRE(parses("postgresql://a+b:c+d@h/e+f%C3%A4", &u));
    CHECK_EQ_STR(pgurl_get(&u, "user"), "a+b");
    CHECK_EQ_STR(pgurl_get(&u, "password"), "c+d");
    CHECK_EQ_STR(pgurl_get(&u, "dbname"), "e+f\xc3\xa4");
    pgurl_free(&u);
    /* A Unix-socket directory is a percent-encoded host. */
    REQUIRE(parses("postgresql://%2Fvar%2Frun%2Fpostgresql/gate", &u));
    CHECK_EQ_STR(pgurl_get(&u, "host"), "/var/run/postgresql");
    pgurl_free(&u);
    /* Query keys and values are decoded too. */
    REQUIRE(parses("postgresql://h/db?%73slmode=require&application_name=my%20app%26co", &u));
    CHECK_EQ_STR(pgurl_get(&u, "sslmode"), "require");
    CHECK_EQ_STR(pgurl_get(&u, "application_name"), "my app&co");
    pgurl_free(&u);
}

TEST(pgurl_bad_percent_encoding)
{
    CHECK(refused("postgresql://al%zzice@h/db", "bad percent-encoding in the user name"));
    CHECK(refused("postgresql://alice:pw%4@h/db", "bad percent-encoding in the password"));
    CHECK(refused("postgresql://alice:pw%@h/db", "bad percent-encoding in the password"));
    CHECK(refused("postgresql://h%g1/db", "bad percent-encoding in the host"));
    CHECK(refused("postgresql://h/d%b", "bad percent-encoding in the database name"));
    CHECK(refused("postgresql://h/db%", "bad percent-encoding in the database name"));
    CHECK(refused("postgresql://h/db?application_name=%zz", "bad percent-encoding in a query"));
    CHECK(refused("postgresql://h/db?%zz=1", "bad percent-encoding in a query"));
    /* libpq's strings end at a NUL, so an encoded NUL is refused anywhere. */
    CHECK(refused("postgresql://al%00ice@h/db", "bad percent-encoding in the user name"));
    CHECK(refused("postgresql://alice:p%00w@h/db", "bad percent-encoding in the password"));
    CHECK(refused("postgresql://h%00/db", "bad percent-encoding in the host"));
    CHECK(refused("postgresql://h/d%00b", "bad percent-encoding in the database name"));
    CHECK(refused("postgresql://h/db?application_name=%00", "bad percent-encoding in a query"));
    /* A comma separates hosts for libpq, so it cannot hide in one. */
    CHECK(refused("postgresql://h%2Cevil/db", "bad percent-encoding in the host"));
}

TEST(pgurl_at_in_password)
{
    struct pgurl u;

    /* The last '@' before the path ends the user information, so an
     * unencoded '@' (or ':') in a password still means what was meant. */
    REQUIRE(parses("postgresql://alice:p@ss:w@rd@h:5433/db", &u));
    CHECK_EQ_STR(pgurl_get(&u, "user"), "alice");
    CHECK_EQ_STR(pgurl_get(&u, "password"), "p@ss:w@rd");
    CHECK_EQ_STR(pgurl_get(&u, "host"), "h");
    CHECK_EQ_STR(pgurl_get(&u, "port"), "5433");
    pgurl_free(&u);
}

TEST(pgurl_at_after_host)
{
    struct pgurl u;

    /* An '@' in the path or the query is refused, with the remedy in the
     * message; %40 there is an '@'. */
    CHECK(refused("postgresql://alice:2024/pw@h/db", "percent-encode '/', '?' and '@'"));
    CHECK(refused("postgresql://alice:2024?pw=1@h/db", "'@' after the host"));
    CHECK(refused("postgresql://h/db@x", "'@' after the host"));
    CHECK(refused("postgresql://h/db?application_name=a@b", "'@' after the host"));
    REQUIRE(parses("postgresql://h/db%40x?application_name=a%40b", &u));
    CHECK_EQ_STR(pgurl_get(&u, "dbname"), "db@x");
    CHECK_EQ_STR(pgurl_get(&u, "application_name"), "a@b");
    pgurl_free(&u);
}

TEST(pgurl_fragment)
{
    struct pgurl u;

    /* An unencoded '#' would start a fragment and cut the password short;
     * it is refused with the fix in the message, and %23 is a '#'. */
    CHECK(refused("postgresql://alice:pa#ss@h/db", "percent-encode # in a password as %23"));
    CHECK(refused("postgresql://h/db#frag", "fragment"));
    CHECK(refused("postgresql://h/db?sslmode=require#x", "fragment"));
    REQUIRE(parses("postgresql://alice:pa%23ss@h/db", &u));
    CHECK_EQ_STR(pgurl_get(&u, "password"), "pa#ss");
    pgurl_free(&u);
}

TEST(pgurl_ipv6)
{
    struct pgurl u;

    REQUIRE(parses("postgresql://[::1]:5433/db", &u));
    CHECK_EQ_STR(pgurl_get(&u, "host"), "::1");
    CHECK_EQ_STR(pgurl_get(&u, "port"), "5433");
    pgurl_free(&u);
    REQUIRE(parses("postgresql://alice:pw@[2001:db8::1]/db", &u));
    CHECK_EQ_STR(pgurl_get(&u, "host"), "2001:db8::1");
    CHECK(pgurl_get(&u, "port") == NULL);
    CHECK_EQ_STR(pgurl_get(&u, "password"), "pw");
    pgurl_free(&u);
    /* A zone id's '%' is written %25 (RFC 6874). */
    REQUIRE(parses("postgresql://[fe80::1%25eth0]:5432", &u));
    CHECK_EQ_STR(pgurl_get(&u, "host"), "fe80::1%eth0");
    pgurl_free(&u);
    CHECK(refused("postgresql://[::1/db", "bad [IPv6] host"));
    CHECK(refused("postgresql://[]/db", "bad [IPv6] host"));
    CHECK(refused("postgresql://[]:5432/db", "bad [IPv6] host"));
    CHECK(refused("postgresql://[::1]x/db", "unexpected text after the [IPv6] host"));
    CHECK(refused("postgresql://[::1]5432/db", "unexpected text after the [IPv6] host"));
    CHECK(refused("postgresql://[::1]:/db", "port must be a number from 1 to 65535"));
    CHECK(refused("postgresql://[::1]:0/db", "port must be a number from 1 to 65535"));
}

TEST(pgurl_ports)
{
    static const char *const good[] = {"1", "5432", "65535", "00080"};
    static const char *const bad[] = {"",   "0",  "65536", "99999", "123456", "abc",
                                      "-1", "+1", "54 32", "5432x", "0x10",   "٣"};
    char url[64];
    struct pgurl u;

    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(url, sizeof url, "postgresql://h:%s/db", good[i]);
        REQUIRE(parses(url, &u));
        CHECK_EQ_STR(pgurl_get(&u, "port"), good[i]);
        pgurl_free(&u);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(url, sizeof url, "postgresql://h:%s/db", bad[i]);
        CHECK(refused(url, "the port must be a number from 1 to 65535"));
    }
    /* A second colon makes the port "2:3". */
    CHECK(refused("postgresql://h:2:3/db", "the port must be a number"));
}

TEST(pgurl_host_lists)
{
    struct pgurl u;

    /* libpq takes parallel host and port lists; a host without a port
     * leaves its place in the port list empty (the default). */
    REQUIRE(parses("postgresql://h1:5432,h2,[::1]:5434/db", &u));
    CHECK_EQ_STR(pgurl_get(&u, "host"), "h1,h2,::1");
    CHECK_EQ_STR(pgurl_get(&u, "port"), "5432,,5434");
    pgurl_free(&u);
    REQUIRE(parses("postgresql://h1,h2/db", &u));
    CHECK_EQ_STR(pgurl_get(&u, "host"), "h1,h2");
    CHECK(pgurl_get(&u, "port") == NULL);
    pgurl_free(&u);
    CHECK(refused("postgresql://h1,h2:99999/db", "port must be a number"));
    CHECK(refused("postgresql://h1,[::1/db", "bad [IPv6] host"));
}

TEST(pgurl_every_libpq_keyword)
{
    char err[256] = "";
    char url[160];
    size_t tried = 0;

    REQUIRE(pq_load(err, sizeof err) == 0);
    PQconninfoOption *opts = PQconndefaults();
    REQUIRE(opts != NULL);
    /* Each keyword libpq reports is taken as a query key and kept as is. */
    for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
        struct pgurl u;
        snprintf(url, sizeof url, "postgresql://h/db?%s=v%%2Cw", o->keyword);
        if (!parses(url, &u)) {
            CHECK(!"a libpq keyword was refused");
        } else {
            CHECK_EQ_STR(pgurl_get(&u, o->keyword), "v,w");
        }
        pgurl_free(&u);
        tried++;
    }
    PQconninfoFree(opts);
    /* libpq 15 has several dozen; a handful would mean a broken lookup. */
    CHECK(tried >= 20);
}

TEST(pgurl_query_parameters)
{
    struct pgurl u;

    REQUIRE(parses("postgresql://h/db?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem"
                   "&application_name=gatehouse&connect_timeout=5&target_session_attrs=read-write"
                   "&options=-c%20statement_timeout%3D5s",
                   &u));
    CHECK_EQ_STR(pgurl_get(&u, "sslmode"), "verify-full");
    CHECK_EQ_STR(pgurl_get(&u, "sslrootcert"), "/etc/ca.pem");
    CHECK_EQ_STR(pgurl_get(&u, "application_name"), "gatehouse");
    CHECK_EQ_STR(pgurl_get(&u, "connect_timeout"), "5");
    CHECK_EQ_STR(pgurl_get(&u, "target_session_attrs"), "read-write");
    CHECK_EQ_STR(pgurl_get(&u, "options"), "-c statement_timeout=5s");
    pgurl_free(&u);
    /* A repeated key: the last value wins, as in libpq's own URIs. */
    REQUIRE(parses("postgresql://h/db?sslmode=disable&sslmode=require", &u));
    CHECK_EQ_STR(pgurl_get(&u, "sslmode"), "require");
    CHECK_EQ_INT(nkeys(&u), 3);
    pgurl_free(&u);
    /* A value may contain '='; an empty value is kept. */
    REQUIRE(parses("postgresql://h/db?options=-c%20a=b&application_name=", &u));
    CHECK_EQ_STR(pgurl_get(&u, "options"), "-c a=b");
    CHECK_EQ_STR(pgurl_get(&u, "application_name"), "");
    pgurl_free(&u);
}

TEST(pgurl_unknown_parameters)
{
    /* A key that is neither libpq's nor a known SQLAlchemy or asyncpg
     * option is refused: a misspelt one would silently weaken a setting
     * (sslmod=require), and so would a wrong case. */
    CHECK(refused("postgresql://h/db?sslmod=require", "unknown parameter \"sslmod\""));
    CHECK(refused("postgresql://h/db?SSLMODE=require", "unknown parameter \"SSLMODE\""));
    CHECK(refused("postgresql://h/db?Prepared_Statement_Cache_Size=0",
                  "unknown parameter \"Prepared_Statement_Cache_Size\""));
    CHECK(refused("postgresql://h/db?statement_cache=0", "unknown parameter \"statement_cache\""));
    CHECK(refused("postgresql://h/db?sslmode=require&foo=1", "unknown parameter \"foo\""));
    CHECK(refused("postgresql://h/db?echo=1&foo=1", "unknown parameter \"foo\""));
    /* A password in the user information does not hide the name. */
    CHECK(refused("postgresql://a:pw@h/db?sslmod=require", "unknown parameter \"sslmod\""));
    /* One among the parameters does: the name may be the rest of it. */
    CHECK(refused("postgresql://h/db?password=a&b=c", "unknown parameter (its name is not shown"));
    CHECK(refused("postgresql://h/db?pass%77ord=a&b=c", "unknown parameter (its name is not"));
    /* Found by fuzz/fuzz_pgurl.c: a decoded line break in an unknown key
     * was quoted into the one-line reason, forging a second log line. */
    CHECK(refused("postgresql://h/db?a%0aERROR%20forged=1", "its name holds a control"));
    CHECK(refused("postgresql://h/db?a\nb=1", "its name holds a control"));
    CHECK(refused("postgresql://h/db?%c3%a9=1", "non-ASCII"));
    CHECK(refused("postgresql://h/db?sslmode", "query parameters must be key=value"));
    CHECK(refused("postgresql://h/db?=require", "query parameters must be key=value"));
    CHECK(refused("postgresql://h/db?sslmode=require&b", "query parameters must be key=value"));
}

TEST(pgurl_sqlalchemy_asyncpg_options_ignored)
{
    struct pgurl u;

    /* The options the FastAPI app's URLs carry, with no libpq equivalent:
     * accepted, kept away from libpq (which would refuse to connect), and
     * listed once each, in order, for the warning. */
    REQUIRE(parses("postgresql+asyncpg://h/db?prepared_statement_cache_size=0"
                   "&statement_cache_size=0&sslmode=require&command_timeout=30"
                   "&server_settings=%7B%7D&max_cached_statement_lifetime=0"
                   "&max_cacheable_statement_size=0&async_fallback=true&echo=true"
                   "&pool_size=5&statement_cache_size=10",
                   &u));
    CHECK_EQ_STR(u.ignored, "prepared_statement_cache_size, statement_cache_size, "
                            "command_timeout, server_settings, max_cached_statement_lifetime, "
                            "max_cacheable_statement_size, async_fallback, echo, pool_size");
    CHECK_EQ_INT(nkeys(&u), 3); /* host, dbname, sslmode */
    CHECK_EQ_STR(pgurl_get(&u, "sslmode"), "require");
    CHECK(pgurl_get(&u, "statement_cache_size") == NULL);
    CHECK(pgurl_get(&u, "command_timeout") == NULL);
    pgurl_free(&u);
    /* A name is ignored whole, never by its prefix. */
    CHECK(refused("postgresql://h/db?echo_=1", "unknown parameter \"echo_\""));
    /* "echo" and "echo_pool" are two names, each listed. */
    REQUIRE(parses("postgresql://h/db?echo_pool=1&echo=1&echo_pool=2", &u));
    CHECK_EQ_STR(u.ignored, "echo_pool, echo");
    pgurl_free(&u);
    /* None ignored: nothing to warn about. */
    REQUIRE(parses("postgresql://h/db?sslmode=require", &u));
    CHECK_EQ_STR(u.ignored, "");
    pgurl_free(&u);
}

TEST(pgurl_asyncpg_timeout)
{
    static const char *const bad[] = {"", "0", "-1", "abc", "1e9", "10s", " 5", "nan", "inf"};
    char url[96];
    struct pgurl u;

    /* asyncpg's timeout is its connect timeout in seconds, a float:
     * libpq's connect_timeout, rounded up to whole seconds. */
    REQUIRE(parses("postgresql+asyncpg://h/db?timeout=10", &u));
    CHECK_EQ_STR(pgurl_get(&u, "connect_timeout"), "10");
    CHECK(pgurl_get(&u, "timeout") == NULL);
    pgurl_free(&u);
    REQUIRE(parses("postgresql+asyncpg://h/db?timeout=2.5", &u));
    CHECK_EQ_STR(pgurl_get(&u, "connect_timeout"), "3");
    pgurl_free(&u);
    REQUIRE(parses("postgresql+asyncpg://h/db?timeout=0.1", &u));
    CHECK_EQ_STR(pgurl_get(&u, "connect_timeout"), "1");
    pgurl_free(&u);
    /* timeout and connect_timeout are one setting: the later one wins. */
    REQUIRE(parses("postgresql://h/db?timeout=7&connect_timeout=4", &u));
    CHECK_EQ_STR(pgurl_get(&u, "connect_timeout"), "4");
    pgurl_free(&u);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(url, sizeof url, "postgresql+asyncpg://h/db?timeout=%s", bad[i]);
        CHECK(refused(url, "timeout must be a positive number of seconds"));
    }
}

TEST(pgurl_asyncpg_ssl)
{
    static const char *const same[] = {"disable", "allow",     "prefer",
                                       "require", "verify-ca", "verify-full"};
    static const char *const bad[] = {"", "yes", "TRUE", "Require", "verify_full", "1"};
    char url[96];
    struct pgurl u;

    /* asyncpg spells sslmode "ssl" and also takes true and false. */
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        snprintf(url, sizeof url, "postgresql+asyncpg://h/db?ssl=%s", same[i]);
        REQUIRE(parses(url, &u));
        CHECK_EQ_STR(pgurl_get(&u, "sslmode"), same[i]);
        CHECK(pgurl_get(&u, "ssl") == NULL);
        pgurl_free(&u);
    }
    REQUIRE(parses("postgresql+asyncpg://h/db?ssl=true", &u));
    CHECK_EQ_STR(pgurl_get(&u, "sslmode"), "require");
    pgurl_free(&u);
    REQUIRE(parses("postgresql+asyncpg://h/db?ssl=false", &u));
    CHECK_EQ_STR(pgurl_get(&u, "sslmode"), "disable");
    pgurl_free(&u);
    /* ssl and sslmode are one setting: the later one wins. */
    REQUIRE(parses("postgresql://h/db?ssl=require&sslmode=verify-full", &u));
    CHECK_EQ_STR(pgurl_get(&u, "sslmode"), "verify-full");
    pgurl_free(&u);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(url, sizeof url, "postgresql+asyncpg://h/db?ssl=%s", bad[i]);
        CHECK(
            refused(url, "ssl must be disable, allow, prefer, require, verify-ca or verify-full"));
    }
}

TEST(pgurl_never_shows_password)
{
    /* Whatever the URL, well-formed or not: when it is refused the message
     * names the part at fault, and when it parses the description (for log
     * lines) names the server; neither holds the password or a piece of it. */
    static const char *const urls[] = {
        "postgresql://alice:Sup3rS3cret@h/db",
        "postgresql://alice:Sup3r%2FS3cret@h/db",
        "postgresql://Sup3rS3cret:Sup3rS3cret@h:5432/db?application_name=x",
        "postgresql://alice:Sup3rS3cret@h:99999/db",
        "postgresql://alice:Sup3rS3cret@[::1/db",
        "postgresql://alice:Sup3rS3cret%zz@h/db",
        "postgresql://alice:Sup3r%00S3cret@h/db",
        "postgresql://alice:Sup3rS3cret@h/db%zz",
        "postgresql://alice:Sup3rS3cret@h/db?bogus=1",
        "postgresql://alice:Sup3rS3cret@h/db?ssl=Sup3rS3cret",
        "postgresql://alice:Sup3rS3cret@h/db?application_name=%zz",
        "postgresqlx://alice:Sup3rS3cret@h/db",
        /* Unencoded '#', '/' and '?' in the password end the user
         * information early, so the rest of the password lands in another
         * part of the URL. */
        "postgresql://alice:Sup3r#S3cret@h/db",
        "postgresql://alice:Sup3r/S3cret@h/db",
        "postgresql://alice:Sup3r?S3cret@h/db",
        "postgresql://alice:Sup3r?S3cret=1@h/db",
        /* ... and when the password starts with digits, its first part
         * passes for a port. */
        "postgresql://alice:2024/Sup3rS3cret@h/db",
        "postgresql://alice:2024?Sup3rS3cret=1@h/db",
        "postgresql://alice:2024?sslmode=Sup3rS3cret@h/db",
        /* A password given as a query parameter, holding an unencoded '&'
         * or '?&': its rest passes for another parameter's name. */
        "postgresql://alice@h/db?password=pw&Sup3rS3cret=1",
        "postgresql://alice@h/db?password=pw?x&Sup3rS3cret",
        "postgresql://alice@h/db?sslmode=require&password=p?w&S3cret=x&Sup3r=y",
    };
    char err[256], buf[256];

    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        struct pgurl u;
        const char *shown = buf;
        err[0] = '\0';
        if (pgurl_parse(urls[i], &u, err, sizeof err) == 0) {
            pgurl_describe(&u, buf, sizeof buf);
        } else {
            CHECK(err[0] != '\0');
            shown = err;
        }
        pgurl_free(&u);
        if (strstr(shown, "Sup3r") != NULL || strstr(shown, "S3cret") != NULL) {
            printf("URL: %s\n", urls[i]);
            CHECK_EQ_STR(shown, "(something without the password)");
        }
    }
}

TEST(pgurl_describe)
{
    char buf[256];
    struct pgurl u;

    REQUIRE(parses("postgresql://alice:s3cret@db.example.com:6543/gate?sslmode=require", &u));
    CHECK_EQ_STR(pgurl_describe(&u, buf, sizeof buf), "db.example.com:6543/gate");
    CHECK(strstr(buf, "alice") == NULL && strstr(buf, "s3cret") == NULL);
    pgurl_free(&u);
    /* What libpq will pick where the URL says nothing. */
    REQUIRE(parses("postgresql://alice:s3cret@", &u));
    CHECK_EQ_STR(pgurl_describe(&u, buf, sizeof buf), "(local socket):5432/(default)");
    pgurl_free(&u);
    REQUIRE(parses("postgresql://%2Ftmp:5433/gate", &u));
    CHECK_EQ_STR(pgurl_describe(&u, buf, sizeof buf), "/tmp:5433/gate");
    pgurl_free(&u);
    REQUIRE(parses("postgresql://h1:5432,h2/db", &u));
    CHECK_EQ_STR(pgurl_describe(&u, buf, sizeof buf), "h1,h2:5432,/db");
    pgurl_free(&u);
    /* The buffer's size is respected, and the result is a C string. */
    REQUIRE(parses("postgresql://db.example.com/gate", &u));
    char small[8];
    CHECK(pgurl_describe(&u, small, sizeof small) == small);
    CHECK_EQ_STR(small, "db.exam");
    pgurl_free(&u);
}

TEST(pgurl_set_get_free)
{
    struct pgurl u;
    char key[16];

    REQUIRE(parses("postgresql://h/db", &u));
    CHECK(pgurl_get(&u, "nosuch") == NULL);
    CHECK_EQ_INT(pgurl_set(&u, "host", "other"), 0);
    CHECK_EQ_STR(pgurl_get(&u, "host"), "other");
    CHECK_EQ_INT(nkeys(&u), 2);
    /* Growing past the first allocation keeps the lists terminated. */
    for (int i = 0; i < 40; i++) {
        snprintf(key, sizeof key, "k%d", i);
        CHECK_EQ_INT(pgurl_set(&u, key, key), 0);
    }
    CHECK_EQ_INT(nkeys(&u), 42);
    CHECK_EQ_STR(pgurl_get(&u, "k39"), "k39");
    CHECK_EQ_STR(pgurl_get(&u, "dbname"), "db");
    pgurl_free(&u);
    CHECK(u.n == 0 && u.keys == NULL && u.vals == NULL);
    /* pgurl_free is safe on what a failed parse left, and twice. */
    char err[128];
    CHECK_EQ_INT(pgurl_parse("postgresql://alice:pw@h:0/db", &u, err, sizeof err), -1);
    pgurl_free(&u);
    pgurl_free(&u);
}
