"""The PostgreSQL backend against a real PostgreSQL 15 server.

This module starts its own throwaway cluster with scripts/pg-test.sh (loopback
only, a free port, a temporary directory, removed at the end), because some
tests stop, freeze and restart it.  Each test that cares about an empty
database creates a fresh one.  Two instances on one database show that a
revoked session is refused everywhere within a second (LISTEN/NOTIFY), also
after the cluster restarts.  Without PostgreSQL's server programs the module
skips, unless GATEHOUSE_TEST_REQUIRE_PG=1 (make test sets it), then it fails.
"""
import glob
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import jwt
import pytest
import requests
from passlib.hash import bcrypt as passlib_bcrypt

from gh_helpers import (
    BINARY,
    PASSWORD,
    REPO,
    ServerPool,
    assert_problem,
    base_env,
    bearer,
    free_port,
    run_gatehouse,
    unique_username,
)

PG_SCRIPT = REPO / "scripts" / "pg-test.sh"

# Short timeouts keep the outage tests quick; the defaults are 3 s and 5000 ms.
FAST = {"DB_CONNECT_TIMEOUT_SECONDS": "1", "DB_STATEMENT_TIMEOUT_MS": "1000"}
# What a client may wait for a 503 with FAST: connect (1 s) or a statement
# deadline (1 s + 1 s), plus scheduling slack on a loaded 2-core machine.
OUTAGE_BOUND = 6.0
# The schema versions gatehouse's migrations record: one per entry of the
# table in src/store/migrate.c, each of which opens with "/* N: ".
SCHEMA_VERSIONS = ",".join(re.findall(
    r"^    /\* (\d+): ", (REPO / "src" / "store" / "migrate.c").read_text(), re.M))


class Cluster:
    """A scripts/pg-test.sh cluster: start/stop/psql."""

    def __init__(self, directory):
        self.dir = directory
        self.url = None

    def _run(self, *args, check=True, timeout=120):
        proc = subprocess.run([str(PG_SCRIPT), *args], capture_output=True, text=True,
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"pg-test.sh {args[0]} failed ({proc.returncode}):\n"
                                 f"{proc.stdout}\n{proc.stderr}")
        return proc

    def start(self):
        out = self._run("start", self.dir).stdout
        urls = [line[len("DATABASE_URL="):] for line in out.splitlines()
                if line.startswith("DATABASE_URL=")]
        assert urls, out
        self.url = urls[0]
        return self

    def stop(self):
        self._run("stop", self.dir)

    def destroy(self):
        self._run("destroy", self.dir, check=False)

    def psql(self, sql, db="gatehouse"):
        """Run sql as the superuser; returns the unaligned, tuples-only output."""
        return self._run("psql", self.dir, "-At", "-d", db, "-c", sql).stdout.strip()

    @property
    def port(self):
        return urllib.parse.urlsplit(self.url).port

    @property
    def password(self):
        return urllib.parse.unquote(urllib.parse.urlsplit(self.url).password)

    def pids(self):
        """The postmaster and every process it started."""
        master = int(Path(self.dir, "data", "postmaster.pid").read_text().split()[0])
        pids = [master]
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                fields = Path(stat).read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == master:
                pids.append(int(stat.split("/")[2]))
        return pids

    def fresh_db(self):
        """A new empty database owned by the test role; returns its URL."""
        name = "gh_" + secrets.token_hex(6)
        self.psql(f"CREATE DATABASE {name} OWNER gatehouse", db="postgres")
        parts = urllib.parse.urlsplit(self.url)
        return urllib.parse.urlunsplit(parts._replace(path="/" + name)), name


def schema_versions(pg, db):
    return pg.psql("SELECT string_agg(version::text, ',' ORDER BY version) "
                   "FROM schema_migrations", db=db)


def have_postgres():
    return any(os.access(p, os.X_OK) for p in glob.glob("/usr/lib/postgresql/*/bin/initdb"))


@pytest.fixture(scope="module")
def pg():
    if not have_postgres():
        if os.environ.get("GATEHOUSE_TEST_REQUIRE_PG") == "1":
            pytest.fail("PostgreSQL server programs not found (install postgresql-15)")
        pytest.skip("PostgreSQL server programs not found (install postgresql-15)")
    directory = tempfile.mkdtemp(prefix="gatehouse-pg-", dir="/tmp")
    cluster = Cluster(directory)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def pg_server(pg, tmp_path_factory):
    # Its own pool, so that the server stops before the cluster goes away.
    pool = ServerPool(tmp_path_factory, "test_postgres")
    url, db = pg.fresh_db()
    srv = pool.make(database_url=url, env=FAST)
    srv.db_name = db
    yield srv
    pool.close()


def no_secrets(srv, pg):
    text = srv.stderr() + srv.stdout()
    assert pg.password not in text, "the database password appears in gatehouse's output"
    assert PASSWORD not in text


def timed(fn, *args, **kw):
    t0 = time.monotonic()
    r = fn(*args, **kw)
    return r, time.monotonic() - t0


def assert_503(resp):
    body = assert_problem(resp, 503)
    retry = resp.headers.get("Retry-After")
    assert retry is not None and retry.strip().isdigit(), f"Retry-After: {retry!r}"
    return body


# ------------------------------------------------------------ the basics
def test_register_login_me_and_rows(pg, pg_server):
    name = unique_username("Pg")
    u = pg_server.new_user(username=name)
    tok = pg_server.login(name.lower())
    assert tok.status_code == 200, tok.text
    me = pg_server.me(tok.json()["access_token"])
    assert me.status_code == 200 and me.json() == dict(
        {k: u[k] for k in ("id", "username", "created_at")}, email=None, email_verified=False)
    db = pg_server.db_name
    row = pg.psql(f"SELECT id, username, username_key, password_hash FROM users "
                  f"WHERE username_key = '{name.lower()}'", db=db).split("|")
    assert row[:3] == [str(u["id"]), name, name.lower()]
    assert row[3].startswith("$2b$04$")
    sess = pg.psql(f"SELECT user_id, octet_length(refresh_hash), generation, revoked_at IS NULL "
                   f"FROM sessions WHERE user_id = {u['id']}", db=db)
    assert sess == f"{u['id']}|32|0|t"
    refresh = tok.json()["refresh_token"]
    dump = pg.psql("SELECT string_agg(s::text, ',') FROM sessions s", db=db)
    assert refresh not in dump
    assert pg_server.get("/readyz").status_code == 200
    no_secrets(pg_server, pg)


def test_username_taken_without_regard_to_case(pg_server):
    name = unique_username("Case")
    pg_server.new_user(username=name)
    assert_problem(pg_server.register(name.upper()), 409)
    assert pg_server.login(name.swapcase()).status_code == 200


def test_schema_is_versioned_and_leaves_fastapi_table_alone(pg, make_server):
    url, db = pg.fresh_db()
    # The original FastAPI application's table, with one of its users.
    pg.psql('CREATE TABLE "user" (id SERIAL PRIMARY KEY, username VARCHAR UNIQUE, '
            "hashed_password VARCHAR); INSERT INTO \"user\" (username, hashed_password) "
            "VALUES ('old', '$2b$12$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234')",
            db=db)
    srv = make_server(database_url=url)
    srv.new_user()
    assert schema_versions(pg, db) == SCHEMA_VERSIONS
    tables = pg.psql("SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables "
                     "WHERE schemaname = 'public'", db=db)
    assert tables == ("api_keys,audit_events,email_tokens,mfa_flows,oidc_clients,oidc_codes,oidc_consents,"
                      "oidc_requests,outbox,passkeys,password_requests,password_schemes,"
                      "recovery_codes,refresh_history,revocations,schema_migrations,sessions,"
                      "totp,user,users")
    assert pg.psql('SELECT count(*) FROM "user"', db=db) == "1"
    srv.stop()
    # A restart finds the schema current and changes nothing.
    srv2 = make_server(database_url=url)
    assert schema_versions(pg, db) == SCHEMA_VERSIONS
    assert srv2.get("/readyz").status_code == 200


def make_role(pg, user, password):
    q_user = '"' + user.replace('"', '""') + '"'
    q_pw = "'" + password.replace("'", "''") + "'"
    pg.psql(f"CREATE ROLE {q_user} LOGIN PASSWORD {q_pw}", db="postgres")


def test_asyncpg_url_with_encoded_credentials_and_parameters(pg, make_server):
    user = "gh user@" + secrets.token_hex(3)
    password = "p@ss:w/rd?#%&=+ é'" + secrets.token_hex(4)
    make_role(pg, user, password)
    url, db = pg.fresh_db()
    pg.psql(f'ALTER DATABASE {db} OWNER TO "{user}"', db="postgres")
    q = urllib.parse.quote
    app = "gh-asyncpg-" + secrets.token_hex(3)
    dsn = (f"postgresql+asyncpg://{q(user, safe='')}:{q(password, safe='')}@127.0.0.1:{pg.port}"
           f"/{db}?ssl=disable&application_name={app}")
    srv = make_server(database_url=dsn)
    u = srv.new_user()
    assert srv.me(srv.token(u["username"])).status_code == 200
    seen = pg.psql(f"SELECT DISTINCT usename || '/' || datname || '/' || "
                   f"coalesce(ssl::text, 'f') FROM pg_stat_activity "
                   f"LEFT JOIN pg_stat_ssl USING (pid) WHERE application_name = '{app}'",
                   db="postgres")
    assert seen == f"{user}/{db}/false"
    text = srv.stderr()
    assert password not in text and q(password, safe="") not in text


def test_asyncpg_url_with_sqlalchemy_options(pg, make_server):
    """The options the FastAPI app's URL carries: ssl= and timeout= mapped
    to libpq, the rest ignored with one warning naming them all."""
    url, db = pg.fresh_db()
    app = "gh-sqla-" + secrets.token_hex(3)
    dsn = ("postgresql+asyncpg" + url[len("postgresql"):] +
           f"?ssl=disable&timeout=2.5&prepared_statement_cache_size=0&statement_cache_size=0"
           f"&command_timeout=60&server_settings=%7B%7D&async_fallback=true&pool_size=5"
           f"&application_name={app}")
    srv = make_server(database_url=dsn)
    u = srv.new_user()
    assert srv.me(srv.token(u["username"])).status_code == 200
    assert pg.psql(f"SELECT count(*) > 0 FROM pg_stat_activity WHERE application_name = '{app}'",
                   db="postgres") == "t"
    warnings = [line for line in srv.stderr().splitlines() if "ignoring" in line]
    assert len(warnings) == 1, srv.stderr()
    listed = warnings[0].split("ignoring ", 1)[1].split(" (", 1)[0].split(", ")
    assert listed == ["prepared_statement_cache_size", "statement_cache_size", "command_timeout",
                      "server_settings", "async_fallback", "pool_size"], warnings[0]


def test_legacy_user_inserted_in_sql_logs_in_and_is_rehashed(pg, make_server):
    """A user copied from the FastAPI app (a name the rules refuse, a
    passlib hash of a lower cost) logs in; its hash is upgraded."""
    url, db = pg.fresh_db()
    srv = make_server(database_url=url, env={"BCRYPT_ROUNDS": "5"})
    old = passlib_bcrypt.using(rounds=4, ident="2a").hash("old app password")
    pg.psql("INSERT INTO users (username, username_key, password_hash, created_at, updated_at) "
            f"VALUES (U&'Zo\\00EB Smith', U&'zo\\00EB smith', '{old}', 0, 0)", db=db)
    r = srv.login("ZOë SMITH", "old app password")
    assert r.status_code == 200, r.text
    assert srv.me(r.json()["access_token"]).json()["username"] == "Zoë Smith"
    new = pg.psql("SELECT password_hash FROM users WHERE username = U&'Zo\\00EB Smith'", db=db)
    assert new.startswith("$2b$05$") and passlib_bcrypt.verify("old app password", new)
    assert srv.login("zoë smith", "old app password").status_code == 200
    assert srv.login("ZOË SMITH", "old app password").status_code == 401


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_plain_schemes_and_sslmode(pg, make_server, scheme):
    url, _ = pg.fresh_db()
    dsn = scheme + url[len("postgresql"):] + "?sslmode=disable&connect_timeout=5"
    srv = make_server(database_url=dsn)
    srv.new_user()


def test_host_list_skips_a_dead_host(pg, make_server):
    url, db = pg.fresh_db()
    dead = free_port()
    parts = urllib.parse.urlsplit(url)
    dsn = (f"postgresql://{parts.username}:{parts.password}@127.0.0.1:{dead},"
           f"127.0.0.1:{pg.port}/{db}")
    srv = make_server(database_url=dsn)
    srv.new_user()


def test_pool_size_setting(pg, make_server):
    url, db = pg.fresh_db()
    app = "gh-pool-" + secrets.token_hex(3)
    srv = make_server(database_url=url + f"?application_name={app}",
                      env={"DB_POOL_SIZE": "2", "WORKERS": "4"})
    for _ in range(3):
        srv.new_user()
    # DB_POOL_SIZE connections for the work, and one more of the revocation
    # watch, which LISTENs and so cannot be shared. The watch connects on a
    # thread of its own: until its LISTEN has run, its connection shows an
    # empty query (on a busy machine, after the registrations).
    query = (f"SELECT count(*) FILTER (WHERE query NOT LIKE 'LISTEN %'), "
             f"count(*) FILTER (WHERE query LIKE 'LISTEN %') FROM pg_stat_activity "
             f"WHERE application_name = '{app}'")
    deadline = time.monotonic() + 30
    while (n := pg.psql(query, db="postgres")) != "2|1" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert n == "2|1"
    assert re.search(r"postgresql at \S+: 2 connections$", srv.stderr(), re.M), srv.stderr()


def test_a_pool_of_one_is_logged_in_the_singular(pg, make_server):
    url, _ = pg.fresh_db()
    srv = make_server(database_url=url, env={"DB_POOL_SIZE": "1"})
    assert re.search(r"postgresql at \S+: 1 connection$", srv.stderr(), re.M), srv.stderr()


@pytest.mark.parametrize("suffix, needle", [
    ("?foo=bar", "foo"),
    ("?echo=true&statment_cache_size=0", "statment_cache_size"),
    ("?timeout=soon", "timeout"),
    ("?sslmode", "key=value"),
    ("?ssl=maybe", "ssl"),
])
def test_bad_url_parameters_exit_2(pg, tmp_path, suffix, needle):
    url, _ = pg.fresh_db()
    r = run_gatehouse(tmp_path, env={"DATABASE_URL": url + suffix})
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "DATABASE_URL" in r.stderr and needle in r.stderr, r.stderr
    assert pg.password not in r.stderr + r.stdout


@pytest.mark.parametrize("url", [
    "postgresql://gh:s3cr%zzet-pw@127.0.0.1:5432/db",
    "postgresql://gh:s3cret-pw@127.0.0.1:99999/db",
    "postgresql://gh:s3cret-pw@127.0.0.1:54x/db",
    "postgresql://gh:s3cret-pw@[::1/db",
    "postgresql://gh:s3cret-pw@host/db#frag",
    "postgresql://gh:s3cret-pw@host/d%00b",
    "postgresql+mysql://gh:s3cret-pw@host/db",
], ids=["bad-escape", "port-range", "port-text", "ipv6", "fragment", "nul", "driver"])
def test_malformed_url_exit_2_without_echoing_password(tmp_path, url):
    r = run_gatehouse(tmp_path, env={"DATABASE_URL": url})
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "DATABASE_URL" in r.stderr, r.stderr
    assert "s3cr" not in r.stderr + r.stdout, r.stderr


# ------------------------------------------------------- start-up rules
def test_secret_key_required_with_postgresql(pg, tmp_path):
    url, _ = pg.fresh_db()
    for dsn in (url, f"postgresql://gh:pw@127.0.0.1:{free_port()}/db"):
        r = run_gatehouse(tmp_path, env={"DATABASE_URL": dsn, "SECRET_KEY": None})
        assert r.returncode == 2, (r.returncode, r.stderr)
        assert "SECRET_KEY" in r.stderr and "PostgreSQL" in r.stderr, r.stderr


def test_unreachable_server_at_start_exits_1_quickly(tmp_path):
    dsn = f"postgresql://gh:hunter2-secret@127.0.0.1:{free_port()}/db"
    r, elapsed = timed(run_gatehouse, tmp_path, env={"DATABASE_URL": dsn, **FAST}, timeout=30)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert elapsed < 10, elapsed
    assert "PostgreSQL" in r.stderr and "hunter2" not in r.stderr, r.stderr


def test_wrong_password_or_database_exits_1_at_once(pg, tmp_path):
    url, db = pg.fresh_db()
    parts = urllib.parse.urlsplit(url)
    wrong_pw = url.replace(f":{parts.password}@", ":Wr0ng-pw-xyz@")
    no_db = url.replace(f"/{db}", "/no_such_db")
    for dsn, needle in ((wrong_pw, "password authentication failed"),
                        (no_db, "does not exist")):
        r, elapsed = timed(run_gatehouse, tmp_path, env={"DATABASE_URL": dsn})
        assert r.returncode == 1, (r.returncode, r.stderr)
        assert needle in r.stderr, r.stderr
        assert elapsed < 3, elapsed  # no start-up retries for a refusal
        assert "Wr0ng" not in r.stderr and pg.password not in r.stderr, r.stderr


def test_migrate_alone_needs_no_secret_key_and_is_idempotent(pg, tmp_path):
    url, db = pg.fresh_db()
    for _ in range(2):
        r = run_gatehouse(tmp_path, args=["migrate"], env={"DATABASE_URL": url,
                                                           "SECRET_KEY": None})
        assert r.returncode == 0, r.stderr
    assert schema_versions(pg, db) == SCHEMA_VERSIONS
    assert pg.psql("SELECT count(*) FROM users", db=db) == "0"


def test_concurrent_starts_on_an_empty_database(pg, make_server):
    for _ in range(3):
        url, db = pg.fresh_db()
        servers = [make_server(database_url=url, wait=False) for _ in range(3)]
        for srv in servers:
            srv.wait_ready()
        assert schema_versions(pg, db) == SCHEMA_VERSIONS
        u = servers[0].new_user()
        assert servers[1].login(u["username"]).status_code == 200
        assert_problem(servers[2].register(u["username"]), 409)


def test_concurrent_migrate_commands(pg, tmp_path):
    url, db = pg.fresh_db()
    env = base_env()
    env["DATABASE_URL"] = url
    procs = [subprocess.Popen([str(BINARY), "migrate"], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    assert schema_versions(pg, db) == SCHEMA_VERSIONS


# ------------------------------------------------------- concurrency
def test_200_racing_registrations_one_success(pg, make_server):
    url, db = pg.fresh_db()
    srv = make_server(database_url=url, env={"QUEUE_SIZE": "1024"})
    name = unique_username("race")
    variants = [name.upper() if i % 2 else name for i in range(200)]
    barrier = threading.Barrier(len(variants))
    statuses = [None] * len(variants)

    def register(i):
        with requests.Session() as session:
            barrier.wait()
            r = session.post(srv.url("/register"), timeout=60,
                             json={"username": variants[i], "password": PASSWORD})
            statuses[i] = r.status_code

    threads = [threading.Thread(target=register, args=(i,)) for i in range(len(variants))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert statuses.count(200) == 1, statuses
    assert statuses.count(409) == len(variants) - 1, statuses
    assert pg.psql(f"SELECT count(*) FROM users WHERE username_key = '{name.lower()}'",
                   db=db) == "1"


def test_kill9_loses_no_acknowledged_registration(pg, make_server):
    url, db = pg.fresh_db()
    srv = make_server(database_url=url)
    acked = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer():
        while not stop.is_set():
            name = unique_username("k9")
            try:
                r = srv.register(name, timeout=5)
            except requests.RequestException:
                return
            if r.status_code == 200:
                with lock:
                    acked.append(name)

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for t in threads:
        t.start()
    time.sleep(1.5)
    os.kill(srv.pid, signal.SIGKILL)
    srv.kill()
    stop.set()
    for t in threads:
        t.join(30)
    assert len(acked) > 5, acked
    stored = set(pg.psql("SELECT username FROM users", db=db).split("\n"))
    missing = [n for n in acked if n not in stored]
    assert not missing, f"{len(missing)} acknowledged registrations lost: {missing[:5]}"
    srv2 = make_server(database_url=url)
    for name in acked[:3] + acked[-3:]:
        assert srv2.login(name).status_code == 200


# ----------------------------------------------------------- outages
def test_statement_timeout_answers_503(pg, pg_server):
    """A statement stuck behind a lock is cancelled at DB_STATEMENT_TIMEOUT_MS."""
    locker = subprocess.Popen(
        [str(PG_SCRIPT), "psql", pg.dir, "-d", pg_server.db_name, "-c",
         "BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(4); COMMIT;"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while pg.psql("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                      "WHERE c.relname = 'users' AND l.mode = 'AccessExclusiveLock' "
                      "AND l.granted", db=pg_server.db_name) != "1":
            assert time.monotonic() < deadline, "the lock was never taken"
            time.sleep(0.05)
        r, elapsed = timed(pg_server.register, unique_username("lock"))
        assert_503(r)
        assert elapsed < OUTAGE_BOUND, elapsed
    finally:
        locker.wait(30)
    pg_server.new_user()


def test_outage_503_fast_readyz_verify_then_recovery(pg, make_server):
    url, db = pg.fresh_db()
    srv = make_server(database_url=url, env=FAST)
    u = srv.new_user()
    token = srv.token(u["username"])
    pg.stop()
    try:
        for attempt in range(2):
            r, elapsed = timed(srv.register, unique_username("down"))
            assert_503(r)
            assert elapsed < OUTAGE_BOUND, (attempt, elapsed)
            r, elapsed = timed(srv.login, u["username"])
            assert_503(r)
            assert elapsed < OUTAGE_BOUND, elapsed
            r, elapsed = timed(srv.me, token)
            assert_503(r)
            assert elapsed < OUTAGE_BOUND, elapsed
            r, elapsed = timed(srv.get, "/readyz")
            assert r.status_code == 503 and elapsed < OUTAGE_BOUND, (r.status_code, elapsed)
            v = srv.verify(token)
            assert v.status_code == 204 and v.headers["X-Auth-User-Id"] == str(u["id"])
            assert srv.get("/healthz").status_code == 200
            time.sleep(1.1)  # past the reconnect pause: the next attempt really tries
    finally:
        pg.start()
    deadline = time.monotonic() + 15
    while srv.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, "no recovery after PostgreSQL came back"
        time.sleep(0.2)
    assert srv.me(token).status_code == 200
    v = srv.new_user()
    assert srv.login(v["username"]).status_code == 200
    assert srv.running()
    no_secrets(srv, pg)


def test_silent_server_never_hangs(pg, make_server):
    """A frozen server (SIGSTOP: no answers, no refusals) costs a bounded wait."""
    url, db = pg.fresh_db()
    srv = make_server(database_url=url, env=FAST)
    u = srv.new_user()
    token = srv.token(u["username"])
    pids = pg.pids()
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        for path in ("/readyz", "/me", "/readyz"):
            r, elapsed = timed(srv.get, path, headers=bearer(token))
            assert r.status_code == 503, (path, r.status_code, r.text)
            assert elapsed < OUTAGE_BOUND, (path, elapsed)
        assert_503(srv.register(unique_username("frozen")))
        assert srv.verify(token).status_code == 204
    finally:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 15
    while srv.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, "no recovery after PostgreSQL woke up"
        time.sleep(0.2)
    assert srv.me(token).status_code == 200
    srv.new_user()


# ---------------------------------------------- sessions across instances
# API.md: a revoked session's tokens get 401 at once on the instance that
# revoked it and within one second on every other instance of the database
# (LISTEN/NOTIFY); /verify decides in memory, so it shows what B knows.
PROPAGATION = 1.0


def two_instances(pg, make_server, app_b=None):
    url, db = pg.fresh_db()
    a = make_server(database_url=url, env=FAST)
    b = make_server(database_url=url + (f"?application_name={app_b}" if app_b else ""),
                    env=FAST)
    a.db_name = b.db_name = db
    return a, b


def open_session(srv, username):
    r = srv.login(username)
    assert r.status_code == 200, r.text
    return r.json()


def accepted(srv, sess):
    v = srv.verify(sess["access_token"])
    assert v.status_code == 204, f"{srv.name}: /verify {v.status_code} {v.text}"
    m = srv.me(sess["access_token"])
    assert m.status_code == 200, f"{srv.name}: /me {m.status_code} {m.text}"


def refused_within(srv, sess, since, bound=PROPAGATION, what="the revoked session"):
    """Poll srv until /verify and /me both answer 401 for the session's access
    token; a refusal counts when its request left within `bound` seconds of
    `since` (the revoking answer's arrival). Then its refresh token: 401."""
    while True:
        sent = time.monotonic()
        v = srv.verify(sess["access_token"])
        m = srv.me(sess["access_token"]) if v.status_code == 401 else None
        if m is not None and m.status_code == 401:
            break
        assert sent - since <= bound, (
            f"{srv.name} still accepts {what} {sent - since:.2f} s after the revocation "
            f"(/verify {v.status_code}, /me {m.status_code if m is not None else '-'})")
        time.sleep(0.02)
    r = srv.post("/refresh", json={"refresh_token": sess["refresh_token"]})
    assert r.status_code == 401, f"{srv.name}: /refresh {r.status_code} {r.text}"


def wait_ready(*servers, timeout=15):
    deadline = time.monotonic() + timeout
    for srv in servers:
        while srv.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, f"{srv.name}: no recovery after the outage"
            time.sleep(0.1)


@pytest.mark.parametrize("scope", ["local", "global", "others"])
def test_logout_reaches_every_instance_within_a_second(pg, make_server, scope):
    a, b = two_instances(pg, make_server)
    u = a.new_user()
    mine, other = open_session(a, u["username"]), open_session(b, u["username"])
    for srv in (a, b):
        accepted(srv, mine)
        accepted(srv, other)
    r = a.post(f"/logout?scope={scope}", headers=bearer(mine["access_token"]))
    assert r.status_code == 204, r.text
    t0 = time.monotonic()
    ended = {"local": [mine], "global": [mine, other], "others": [other]}[scope]
    kept = [s for s in (mine, other) if s not in ended]
    for sess in ended:
        assert a.verify(sess["access_token"]).status_code == 401  # at once on A
        refused_within(b, sess, t0)
    for sess in kept:
        accepted(a, sess)
        accepted(b, sess)


def test_password_change_and_deletion_reach_every_instance(pg, make_server):
    a, b = two_instances(pg, make_server)
    u = a.new_user()
    caller, other = open_session(a, u["username"]), open_session(b, u["username"])
    accepted(b, other)
    r = a.request("PUT", "/me/password", headers=bearer(caller["access_token"]),
                  json={"current_password": PASSWORD, "new_password": "a-new-passphrase-42"})
    assert r.status_code == 204, r.text
    refused_within(b, other, time.monotonic(), what="another session after a password change")
    accepted(b, caller)
    assert b.login(u["username"], "a-new-passphrase-42").status_code == 200
    assert b.login(u["username"]).status_code == 401

    r = a.request("DELETE", "/me", headers=bearer(caller["access_token"]),
                  json={"password": "a-new-passphrase-42"})
    assert r.status_code == 204, r.text
    refused_within(b, caller, time.monotonic(), what="a deleted user's session")
    assert b.register(u["username"]).status_code == 200  # the name is free everywhere


@pytest.mark.parametrize("down", [0, 4], ids=["restart", "outage-4s"])
def test_revocation_after_a_database_restart(pg, make_server, down):
    """PostgreSQL stops and starts again, at once or after 4 s (long enough
    for reconnect attempts to back off): once both instances answer /readyz
    with 200, a logout on either reaches the other within a second."""
    a, b = two_instances(pg, make_server)
    u = a.new_user()
    s1, s2 = open_session(a, u["username"]), open_session(a, u["username"])
    accepted(b, s1)
    pg.stop()
    time.sleep(down)
    pg.start()
    wait_ready(a, b)
    accepted(b, s1)
    # Both directions, each instance having lost its connections.
    r = a.post("/logout", headers=bearer(s1["access_token"]))
    assert r.status_code == 204, r.text
    refused_within(b, s1, time.monotonic(), what="a session revoked after the restart")
    r = b.post("/logout", headers=bearer(s2["access_token"]))
    assert r.status_code == 204, r.text
    refused_within(a, s2, time.monotonic(), what="a session revoked after the restart")


def test_revocation_after_connections_are_terminated(pg, make_server):
    """B's connections, its listening one included, are cut by the server
    (a proxy or failover would do the same): B reconnects and hears again."""
    app = "gh-b-" + secrets.token_hex(3)
    a, b = two_instances(pg, make_server, app_b=app)
    u = a.new_user()
    sess = open_session(a, u["username"])
    accepted(b, sess)
    killed = pg.psql("SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM "
                     f"pg_stat_activity WHERE application_name = '{app}') t", db="postgres")
    assert int(killed) >= 1, killed
    wait_ready(b)
    r = a.post("/logout", headers=bearer(sess["access_token"]))
    assert r.status_code == 204, r.text
    refused_within(b, sess, time.monotonic())


def test_instance_started_later_knows_earlier_revocations(pg, make_server):
    url, db = pg.fresh_db()
    a = make_server(database_url=url, env=FAST)
    u = a.new_user()
    gone, kept = open_session(a, u["username"]), open_session(a, u["username"])
    assert a.post("/logout", headers=bearer(gone["access_token"])).status_code == 204
    b = make_server(database_url=url, env=FAST)
    refused_within(b, gone, time.monotonic())
    accepted(b, kept)


def test_refresh_race_across_instances(pg, make_server):
    """The same refresh token, 10 times at each of two instances at once:
    one 200 in all, and the session ends on both."""
    a, b = two_instances(pg, make_server)
    u = a.new_user()
    sess = open_session(a, u["username"])
    body = ('{"refresh_token": "%s"}' % sess["refresh_token"]).encode()
    targets = [a, b] * 10
    conns = [http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60) for srv in targets]
    for c in conns:
        c.connect()
    barrier = threading.Barrier(len(conns), timeout=60)
    statuses = [None] * len(conns)
    winner = {}

    def fire(i):
        barrier.wait()
        conns[i].request("POST", "/refresh", body=body,
                         headers={"Content-Type": "application/json"})
        resp = conns[i].getresponse()
        data = resp.read()
        statuses[i] = resp.status
        if resp.status == 200:
            winner.update(json.loads(data))

    threads = [threading.Thread(target=fire, args=(i,)) for i in range(len(conns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for c in conns:
        c.close()
    assert statuses.count(200) == 1, statuses
    assert statuses.count(401) == len(conns) - 1, statuses
    t0 = time.monotonic()
    for srv in (a, b):
        refused_within(srv, winner, t0, what="the race winner's session")
        refused_within(srv, sess, t0, what="the raced session's first token")


def test_refresh_rotation_is_a_compare_and_set(pg, make_server):
    """Two refreshes with one token, both held at the session's row until
    both wait there, then let go together. A rotation that checked the hash
    first and then updated the row would let both through (each read the
    hash before the other wrote it: PostgreSQL's reads do not wait for a row
    lock); the compare-and-set re-checks the hash when the row is free, so
    the second finds it rotated away, and the session ends. Deterministic:
    the test waits for both to be blocked before releasing them."""
    url, db = pg.fresh_db()
    srv = make_server(database_url=url, env={"DB_WORKERS": "4", "DB_POOL_SIZE": "4",
                                             "DB_STATEMENT_TIMEOUT_MS": "60000"})
    u = srv.new_user()
    sess = open_session(srv, u["username"])
    sid = jwt.decode(sess["access_token"], options={"verify_signature": False})["sid"]
    locker = subprocess.Popen(
        [str(PG_SCRIPT), "psql", pg.dir, "-d", db, "-At", "-v", "ON_ERROR_STOP=1"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    answers = [None, None]
    try:
        locker.stdin.write(f"BEGIN; SELECT id FROM sessions WHERE id = '{sid}' FOR UPDATE;\n")
        locker.stdin.flush()
        assert locker.stdout.readline().strip() == sid  # the row is locked

        def refresh(i):
            answers[i] = srv.post("/refresh", json={"refresh_token": sess["refresh_token"]},
                                  timeout=120)

        threads = [threading.Thread(target=refresh, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        waiting = ("SELECT count(*) FROM pg_stat_activity "
                   f"WHERE datname = '{db}' AND wait_event_type = 'Lock'")
        deadline = time.monotonic() + 60
        while pg.psql(waiting, db=db) != "2":
            assert time.monotonic() < deadline, "the refreshes never reached the row lock"
            time.sleep(0.05)
        locker.stdin.write("COMMIT;\n")
        locker.stdin.close()
        for t in threads:
            t.join(120)
    finally:
        if locker.stdin and not locker.stdin.closed:
            locker.stdin.close()
        locker.wait(30)
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [200, 401], [(r.status_code, r.text) for r in answers]
    loser = next(r for r in answers if r.status_code == 401)
    assert loser.json()["detail"] == "refresh token already used; its session is revoked"
    winner = next(r for r in answers if r.status_code == 200).json()
    # The reuse ended the session: the winner's new tokens too.
    t0 = time.monotonic()
    refused_within(srv, winner, t0, what="the winner's tokens")


def test_expired_sessions_are_purged(pg, make_server):
    url, db = pg.fresh_db()
    srv = make_server(database_url=url, env={"REFRESH_TOKEN_EXPIRE_SECONDS": "2",
                                             "ACCESS_TOKEN_EXPIRE_SECONDS": "2",
                                             "SESSION_PURGE_INTERVAL_SECONDS": "1"})
    u = srv.new_user()
    sess = open_session(srv, u["username"])
    r = srv.post("/refresh", json={"refresh_token": sess["refresh_token"]})
    assert r.status_code == 200, r.text
    sid = jwt.decode(sess["access_token"], options={"verify_signature": False})["sid"]
    count = f"SELECT count(*) FROM sessions WHERE id = '{sid}'"
    history = f"SELECT count(*) FROM refresh_history WHERE session_id = '{sid}'"
    assert pg.psql(count, db=db) == "1"
    assert pg.psql(history, db=db) != "0"
    deadline = time.monotonic() + 12
    while pg.psql(count, db=db) != "0":
        assert time.monotonic() < deadline, "the expired session was never purged"
        time.sleep(0.3)
    assert pg.psql(history, db=db) == "0"
    assert pg.psql(f"SELECT count(*) FROM users WHERE id = {u['id']}", db=db) == "1"
