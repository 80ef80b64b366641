"""Configuration: environment variables and flags, exit status 2 on bad values,
--help, flags over env, SECRET_KEY generation, database paths."""
import json
import os
import socket
import stat
from pathlib import Path

import jwt
import pytest

from gh_helpers import (
    PASSWORD,
    SECRET_KEY,
    SETTINGS,
    assert_422,
    decode_token,
    flag_name,
    free_port,
    sqlite_url,
    unique_username,
)


def names_setting(stderr, setting):
    return setting in stderr or flag_name(setting) in stderr


# ------------------------------------------------------------ bad values
BAD_SETTINGS = [
    ("SECRET_KEY", "k" * 31),
    ("SECRET_KEY", "short"),
    ("BCRYPT_ROUNDS", "3"),
    ("BCRYPT_ROUNDS", "32"),
    ("BCRYPT_ROUNDS", "abc"),
    ("BCRYPT_ROUNDS", "12abc"),
    ("BCRYPT_ROUNDS", "-1"),
    ("BCRYPT_ROUNDS", "4.5"),
    ("PORT", "0"),
    ("PORT", "70000"),
    ("PORT", "65536"),
    ("PORT", "x"),
    ("PORT", "-1"),
    ("PORT", "80x"),
    ("ALGORITHM", "RS256"),
    ("ALGORITHM", "none"),
    ("ALGORITHM", "HS384"),
    ("ALGORITHM", "HS512"),
    ("ACCESS_TOKEN_EXPIRE_MINUTES", "abc"),
    ("ACCESS_TOKEN_EXPIRE_MINUTES", "-5"),
    ("REFRESH_TOKEN_EXPIRE_DAYS", "abc"),
    ("REFRESH_TOKEN_EXPIRE_DAYS", "-1"),
    ("JWT_LEEWAY_SECONDS", "abc"),
    ("JWT_LEEWAY_SECONDS", "-1"),
    ("VERIFY_CACHE_ENTRIES", "abc"),
    ("VERIFY_CACHE_ENTRIES", "-1"),
    ("VERIFY_CACHE_ENTRIES", "16777217"),
    ("PASSWORD_HASH", "md5"),
    ("PASSWORD_HASH", "argon2i"),
    ("PASSWORD_HASH", "scrypt"),
    ("PASSWORD_MIN_LENGTH", "abc"),
    ("PASSWORD_MIN_LENGTH", "-1"),
    ("WORKERS", "abc"),
    ("WORKERS", "-1"),
    ("QUEUE_SIZE", "abc"),
    ("QUEUE_SIZE", "-1"),
    ("HTTP_THREADS", "abc"),
    ("HTTP_THREADS", "-1"),
    ("DATABASE_URL", "mysql://x"),
    ("DATABASE_URL", "not a url"),
    ("LOG_FORMAT", "xml"),
    ("LOG_LEVEL", "verbose"),
    ("METRICS", "maybe"),
    ("METRICS_ADDRESS", "9100"),
    ("METRICS_ADDRESS", "127.0.0.1:0"),
]


@pytest.mark.parametrize("setting,value", BAD_SETTINGS, ids=lambda v: str(v)[:20])
def test_bad_setting_exits_2(run_gatehouse, setting, value):
    res = run_gatehouse(env={setting: value})
    assert res.returncode == 2, f"exit {res.returncode}; stderr:\n{res.stderr}"
    assert names_setting(res.stderr, setting), f"stderr does not name {setting}:\n{res.stderr}"


@pytest.mark.parametrize("setting,value", [("PORT", "70000"), ("BCRYPT_ROUNDS", "3"),
                                           ("SECRET_KEY", "k" * 31), ("ALGORITHM", "RS256")])
def test_bad_flag_value_exits_2(run_gatehouse, setting, value):
    res = run_gatehouse(args=[flag_name(setting), value])
    assert res.returncode == 2, f"exit {res.returncode}; stderr:\n{res.stderr}"
    assert names_setting(res.stderr, setting), res.stderr


def test_short_secret_key_message(run_gatehouse):
    res = run_gatehouse(env={"SECRET_KEY": "s" * 31})
    assert res.returncode == 2
    assert "SECRET_KEY" in res.stderr, res.stderr


def test_secret_key_is_not_echoed_in_error(run_gatehouse):
    secret = "Sup3rSecretValue-31-bytes-long!"
    assert len(secret) == 31
    res = run_gatehouse(env={"SECRET_KEY": secret})
    assert res.returncode == 2
    assert secret not in res.stderr and secret not in res.stdout


def test_postgres_url_without_secret_key_exits_2(run_gatehouse):
    # With PostgreSQL, SECRET_KEY is required: refused before connecting.
    for url in ("postgresql://u:pw-x@127.0.0.1:1/db", "postgresql+asyncpg://u:pw-x@127.0.0.1:1/db"):
        res = run_gatehouse(env={"DATABASE_URL": url, "SECRET_KEY": None})
        assert res.returncode == 2, f"{url}: exit {res.returncode}; stderr:\n{res.stderr}"
        assert "SECRET_KEY" in res.stderr, res.stderr
        assert "pw-x" not in res.stderr, "the password of the URL should not be printed"


def test_unreachable_postgres_at_start_exits_1(run_gatehouse):
    # Port 1 refuses at once; start-up retries for a bounded time, then exits 1.
    url = "postgresql+asyncpg://u:pw-x@127.0.0.1:1/db"
    res = run_gatehouse(env={"DATABASE_URL": url, "DB_CONNECT_TIMEOUT_SECONDS": "1"}, timeout=30)
    assert res.returncode == 1, f"exit {res.returncode}; stderr:\n{res.stderr}"
    assert "PostgreSQL" in res.stderr, res.stderr
    assert "pw-x" not in res.stderr, "the password of the URL should not be printed"


def test_sigterm_during_slow_start_ends_the_process(tmp_path):
    # A listener that accepts TCP but never speaks PostgreSQL: start-up waits
    # for the database. SIGTERM must still end the process then, not be held
    # back until serving begins.
    import signal
    import socket
    import subprocess
    import time

    from gh_helpers import BINARY, base_env

    mute = socket.socket()
    mute.bind(("127.0.0.1", 0))
    mute.listen(16)
    env = base_env()
    env.update({"DATABASE_URL": f"postgresql://u:p@127.0.0.1:{mute.getsockname()[1]}/db",
                "SECRET_KEY": SECRET_KEY, "DB_CONNECT_TIMEOUT_SECONDS": "20"})
    proc = subprocess.Popen([str(BINARY)], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        time.sleep(1.0)
        assert proc.poll() is None, "gatehouse should still be waiting for the database"
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)  # hang detection only; the connect timeout is 20 s
        assert proc.returncode != 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
        mute.close()


# ---------------------------------------------------------------- command line
def test_help_lists_every_setting(run_gatehouse):
    res = run_gatehouse(args=["--help"])
    assert res.returncode == 0, res.stderr
    missing = [s for s in SETTINGS if s not in res.stdout]
    assert not missing, f"--help lacks {missing}:\n{res.stdout}"
    missing_flags = [flag_name(s) for s in SETTINGS if flag_name(s) not in res.stdout]
    assert not missing_flags, f"--help lacks flags {missing_flags}:\n{res.stdout}"


def test_help_needs_no_configuration(run_gatehouse):
    res = run_gatehouse(args=["--help"], env={"SECRET_KEY": "short", "PORT": "x"})
    assert res.returncode == 0, res.stderr
    assert "SECRET_KEY" in res.stdout


@pytest.mark.parametrize("args", [["--no-such-flag"], ["--port"], ["--bcrypt-rounds"],
                                  ["no-such-command"], ["-Z"]],
                         ids=lambda a: " ".join(a))
def test_bad_usage_exits_2(run_gatehouse, args):
    res = run_gatehouse(args=args)
    assert res.returncode == 2, f"exit {res.returncode}; stderr:\n{res.stderr}"
    assert res.stderr.strip()


def test_flags_override_env(make_server, tmp_path):
    env_port, flag_port = free_port(), free_port()
    flag_key = "flag-secret-key-" + "f" * 32
    flag_db = tmp_path / "flag.db"
    env_db = tmp_path / "env.db"
    srv = make_server(
        env={"PORT": str(env_port), "BCRYPT_ROUNDS": "4", "SECRET_KEY": SECRET_KEY,
             "DATABASE_URL": sqlite_url(env_db), "ACCESS_TOKEN_EXPIRE_MINUTES": "30"},
        args=["--port", str(flag_port), "--bcrypt-rounds", "5", "--secret-key", flag_key,
              "--database-url", sqlite_url(flag_db), "--access-token-expire-minutes", "7"],
        port=flag_port, db_path=flag_db)
    u = srv.new_user()
    token = srv.token(u["username"])
    claims = decode_token(token, key=flag_key)
    assert claims["exp"] - claims["iat"] == 420
    with pytest.raises(jwt.InvalidSignatureError):
        decode_token(token, key=SECRET_KEY)
    assert srv.stored_hash(u["username"]).startswith("$2b$05$")
    assert flag_db.exists()
    assert not env_db.exists(), "the DATABASE_URL of the environment was opened too"


def test_every_setting_as_flag(make_server, tmp_path):
    port = free_port()
    db = tmp_path / "flags.db"
    unset = {name: None for name in ("HOST", "PORT", "DATABASE_URL", "SECRET_KEY",
                                     "BCRYPT_ROUNDS")}
    srv = make_server(env=unset, port=port, db_path=db, args=[
        "--host", "127.0.0.1",
        "--port", str(port),
        "--database-url", sqlite_url(db),
        "--secret-key", SECRET_KEY,
        "--algorithm", "HS256",
        "--access-token-expire-minutes", "7",
        "--refresh-token-expire-days", "3",
        "--jwt-issuer", "https://flags.test",
        "--jwt-audience", "flag-aud",
        "--jwt-leeway-seconds", "5",
        "--bcrypt-rounds", "4",
        "--password-hash", "bcrypt",
        "--password-min-length", "10",
        "--workers", "2",
        "--queue-size", "16",
        "--http-threads", "1",
    ])
    assert_422(srv.register(unique_username(), "xk3#qz!w-"), "password", "too_short")  # 9
    u = srv.new_user(password="xk3#qz!w-a")  # 10
    claims = decode_token(srv.token(u["username"], "xk3#qz!w-a"), issuer="https://flags.test",
                          audience="flag-aud")
    assert claims["exp"] - claims["iat"] == 420
    assert srv.stored_hash(u["username"]).startswith("$2b$04$")


@pytest.mark.parametrize("setting,value", [("BCRYPT_ROUNDS", "16"), ("ALGORITHM", "HS256"),
                                           ("PASSWORD_HASH", "bcrypt"),
                                           ("PASSWORD_HASH", "argon2id"),
                                           ("WORKERS", "1"), ("QUEUE_SIZE", "1"),
                                           ("JWT_LEEWAY_SECONDS", "0")])
def test_boundary_settings_accepted(make_server, setting, value):
    srv = make_server(env={setting: value})
    assert srv.get("/healthz").status_code == 200


def test_secret_key_of_32_bytes_accepted(make_server):
    key = "k" * 32
    srv = make_server(env={"SECRET_KEY": key})
    u = srv.new_user()
    decode_token(srv.token(u["username"]), key=key)


def test_default_host_is_loopback(make_server):
    srv = make_server(env={"HOST": None})
    assert srv.get("/healthz").status_code == 200


# ------------------------------------------------------------ SECRET_KEY file
def test_generated_secret_key_file(make_server, tmp_path):
    db = tmp_path / "gen.db"
    secret_file = Path(str(db) + ".secret")
    first = make_server(db_path=db, env={"SECRET_KEY": None})
    assert secret_file.is_file(), list(tmp_path.iterdir())
    mode = stat.S_IMODE(os.stat(secret_file).st_mode)
    assert mode == 0o600, oct(mode)
    content = secret_file.read_bytes()
    assert len(content) >= 32, content

    u = first.new_user()
    token = first.token(u["username"])
    assert first.me(token).status_code == 200
    with pytest.raises(jwt.InvalidSignatureError):
        decode_token(token, key=SECRET_KEY)  # signed with the generated key, not ours
    first.stop()

    second = make_server(db_path=db, env={"SECRET_KEY": None})
    assert secret_file.read_bytes() == content, "the key file must be reused, not rewritten"
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    r = second.me(token)
    assert r.status_code == 200, "a token issued before the restart must stay valid"
    assert r.json()["id"] == u["id"]
    second.stop()

    # An explicit SECRET_KEY wins over the file: the old token no longer verifies.
    third = make_server(db_path=db)
    assert third.me(token).status_code == 401
    assert secret_file.read_bytes() == content


def test_generated_secret_keys_differ_per_database(make_server, tmp_path):
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    make_server(db_path=a, env={"SECRET_KEY": None})
    make_server(db_path=b, env={"SECRET_KEY": None})
    ka = Path(str(a) + ".secret").read_bytes()
    kb = Path(str(b) + ".secret").read_bytes()
    assert ka and kb and ka != kb


def test_token_survives_restart_with_fixed_key(make_server, tmp_path):
    db = tmp_path / "restart.db"
    first = make_server(db_path=db)
    u = first.new_user()
    token = first.token(u["username"])
    first.stop()
    second = make_server(db_path=db)
    assert second.me(token).status_code == 200
    assert second.login(u["username"], PASSWORD).status_code == 200


# ------------------------------------------------------------ database paths
def test_default_database_url_in_working_directory(make_server, tmp_path):
    srv = make_server(env={"DATABASE_URL": None}, workdir=tmp_path,
                      db_path=tmp_path / "gatehouse.db")
    u = srv.new_user()
    assert (tmp_path / "gatehouse.db").is_file(), list(tmp_path.iterdir())
    assert srv.stored_hash(u["username"]).startswith("$2b$04$")


def test_relative_sqlite_url(make_server, tmp_path):
    (tmp_path / "sub").mkdir()
    srv = make_server(env={"DATABASE_URL": "sqlite:///sub/rel.db"}, workdir=tmp_path,
                      db_path=tmp_path / "sub" / "rel.db")
    u = srv.new_user()
    assert (tmp_path / "sub" / "rel.db").is_file(), list((tmp_path / "sub").iterdir())
    assert srv.stored_hash(u["username"]).startswith("$2b$04$")


def test_absolute_sqlite_url(make_server, tmp_path):
    db = tmp_path / "abs" / "x.db"
    db.parent.mkdir()
    srv = make_server(db_path=db)
    assert srv.env["DATABASE_URL"] == "sqlite:///" + str(db) and str(db).startswith("/")
    srv.new_user()
    assert db.is_file()


# ------------------------------------------------- validation before side effects
def ipv6_loopback():
    import socket

    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def healthz_at(host, port):
    """Polls GET /healthz at host:port until 200 (the helpers dial 127.0.0.1)."""
    import http.client
    import time

    from gh_helpers import START_TIMEOUT

    deadline = time.monotonic() + START_TIMEOUT  # hang detection only
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection(host, port, timeout=2)
        try:
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return True
        except OSError:
            time.sleep(0.02)
        finally:
            conn.close()
    return False


def test_host_name_is_resolved(make_server):
    # A name is resolved at start; of its addresses gatehouse listens on the
    # first IPv4 one, so localhost answers at 127.0.0.1 (where the helpers
    # connect) whether or not the resolver also names ::1.
    import socket

    srv = make_server(env={"HOST": "localhost"})
    assert srv.get("/healthz").status_code == 200
    u = srv.new_user()
    assert srv.me(srv.token(u["username"])).status_code == 200
    assert srv.stderr_shows(f"listening on http://127.0.0.1:{srv.port} (HOST localhost"), \
        srv.stderr()
    if not ipv6_loopback():
        pytest.skip("no IPv6 loopback here")
    # One address only: nothing of ours listens on ::1.
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
        assert probe.connect_ex(("::1", srv.port)) != 0


def test_ipv6_host_serves(make_server):
    if not ipv6_loopback():
        pytest.skip("no IPv6 loopback here")
    srv = make_server(env={"HOST": "::1"}, wait=False)
    assert healthz_at("::1", srv.port), srv.stderr()
    assert srv.stderr_shows(f"listening on http://[::1]:{srv.port}"), srv.stderr()


# Every configuration error exits 2 before the database is opened, the key
# file written or a socket bound: the working directory (which holds the
# default SQLite database) and the database's directory stay empty.
NO_SIDE_EFFECT_FAILURES = [
    ("unresolvable HOST", {"HOST": "not-a-host"}, [], "HOST"),
    ("HOST with a port", {"HOST": "127.0.0.1:80"}, [], "HOST"),
    ("bad DATABASE_URL", {"DATABASE_URL": "mysql://x"}, [], "DATABASE_URL"),
    ("malformed sqlite URL", {"DATABASE_URL": "sqlite:///db?x=1"}, [], "DATABASE_URL"),
    ("short SECRET_KEY", {"SECRET_KEY": "s" * 31}, [], "SECRET_KEY"),
    ("PostgreSQL without SECRET_KEY",
     {"DATABASE_URL": "postgresql://u:pw-x@127.0.0.1:1/db", "SECRET_KEY": None}, [],
     "SECRET_KEY"),
    ("bad PORT", {"PORT": "0"}, [], "PORT"),
    ("bad flag value", {}, ["--bcrypt-rounds", "3"], "BCRYPT_ROUNDS"),
    ("unknown flag", {}, ["--no-such-flag", "1"], "--no-such-flag"),
    ("unknown command", {}, ["no-such-command"], "no-such-command"),
    ("flag migrate does not read", {}, ["migrate", "--port", "9000"], "--port"),
    ("unknown flag of migrate", {}, ["migrate", "--no-such-flag"], "--no-such-flag"),
    ("migrate with a bad DATABASE_URL", {"DATABASE_URL": "mysql://x"}, ["migrate"],
     "DATABASE_URL"),
    ("argument to serve", {}, ["serve", "extra"], "extra"),
    ("argument to --version", {}, ["--version", "extra"], "--version"),
]


@pytest.mark.parametrize("what,env,args,named", NO_SIDE_EFFECT_FAILURES,
                         ids=[f[0] for f in NO_SIDE_EFFECT_FAILURES])
def test_configuration_error_exits_2_and_creates_nothing(run_gatehouse, tmp_path, what, env, args,
                                                         named):
    # No SECRET_KEY by default here, so that a server that got as far as the
    # key file would write one; the default database is in the working
    # directory, so that it would appear there.
    full = {"SECRET_KEY": None, "DATABASE_URL": None}
    full.update(env)
    res = run_gatehouse(args=args, env=full)
    assert res.returncode == 2, f"{what}: exit {res.returncode}; stderr:\n{res.stderr}"
    assert named in res.stderr, f"{what}: stderr does not name {named}:\n{res.stderr}"
    assert "pw-x" not in res.stderr
    assert list(tmp_path.iterdir()) == [], f"{what}: files were created"


def test_unresolvable_host_leaves_the_database_directory_empty(run_gatehouse, tmp_path):
    dbdir = tmp_path / "data"
    dbdir.mkdir()
    res = run_gatehouse(env={"HOST": "not-a-host", "SECRET_KEY": None,
                             "DATABASE_URL": sqlite_url(dbdir / "gh.db")})
    assert res.returncode == 2, res.stderr
    assert "HOST" in res.stderr and "not-a-host" in res.stderr, res.stderr
    assert list(dbdir.iterdir()) == [], "no db, no .secret, no -wal"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


# ------------------------------------------------------ per-command help, --version
def test_migrate_help(run_gatehouse, tmp_path):
    # Help needs no valid configuration and touches nothing.
    res = run_gatehouse(args=["migrate", "--help"], env={"PORT": "x", "DATABASE_URL": None})
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("Usage: gatehouse migrate"), res.stdout
    for setting in ("DATABASE_URL", "DB_CONNECT_TIMEOUT_SECONDS", "DB_STATEMENT_TIMEOUT_MS"):
        assert flag_name(setting) in res.stdout, f"{setting} missing:\n{res.stdout}"
    # migrate signs nothing and listens nowhere: those settings are not its.
    for setting in ("SECRET_KEY", "HOST", "PORT", "BCRYPT_ROUNDS"):
        assert flag_name(setting) not in res.stdout, f"{setting} listed:\n{res.stdout}"
    assert res.stdout != run_gatehouse(args=["--help"]).stdout
    assert list(tmp_path.iterdir()) == []


def test_serve_help(run_gatehouse, tmp_path):
    res = run_gatehouse(args=["serve", "--help"], env={"SECRET_KEY": "short",
                                                       "DATABASE_URL": None})
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("Usage: gatehouse serve"), res.stdout
    missing = [s for s in SETTINGS if s not in res.stdout or flag_name(s) not in res.stdout]
    assert not missing, f"serve --help lacks {missing}:\n{res.stdout}"
    assert "SIGTERM" in res.stdout
    assert list(tmp_path.iterdir()) == []


def test_global_help_lists_commands(run_gatehouse):
    res = run_gatehouse(args=["--help"])
    assert res.returncode == 0, res.stderr
    assert "  serve " in res.stdout and "  migrate " in res.stdout, res.stdout
    assert "--version" in res.stdout
    # How a HOST name becomes the one address gatehouse listens on.
    assert "first IPv4 address" in res.stdout, res.stdout


def test_version_names_each_library(run_gatehouse, tmp_path):
    import re
    import sqlite3

    from gh_helpers import REPO

    res = run_gatehouse(args=["--version"], env={"PORT": "x"})
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    version = (REPO / "VERSION").read_text().strip()
    assert lines[0] == f"gatehouse {version}", res.stdout
    by_name = {line.split(" ", 1)[0]: line.split(" ", 1)[1] for line in lines[1:]}
    for lib in ("libmicrohttpd", "jansson", "libsodium", "SQLite", "libxcrypt", "libpq"):
        assert lib in by_name, f"{lib} missing:\n{res.stdout}"
    for lib in ("libmicrohttpd", "jansson", "libsodium", "SQLite", "libxcrypt"):
        assert re.match(r"\d+\.\d+(\.\d+)?( |$)", by_name[lib]), res.stdout
    # The library Python's sqlite3 module runs on is the system's, as ours is.
    assert by_name["SQLite"] == sqlite3.sqlite_version
    assert re.fullmatch(r"\d+\.\d+|not loaded: .+", by_name["libpq"]), res.stdout
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------ typos, booleans, port clash
@pytest.mark.parametrize("typo,meant", [("DATABSE_URL", "DATABASE_URL"),
                                        ("SESSION_COOKIE", "SESSION_COOKIES"),
                                        ("ACCES_LOG", "ACCESS_LOG"), ("PROT", "PORT"),
                                        ("secret_key", "SECRET_KEY"),
                                        ("JWT_ISUER", "JWT_ISSUER")])
def test_misspelt_variable_is_warned_about(run_gatehouse, typo, meant):
    res = run_gatehouse(args=["migrate"], env={typo: "value-never-shown-1"})
    assert res.returncode == 0, res.stderr
    lines = [line for line in res.stderr.splitlines() if typo in line]
    assert len(lines) == 1, res.stderr
    assert meant in lines[0] and "warn" in lines[0], lines
    assert "value-never-shown-1" not in res.stderr


def test_unrelated_variables_are_not_warned_about(run_gatehouse):
    env = {name: "1" for name in ("PATH_X", "HOME", "PGPORT", "PGHOST", "HOSTNAME", "LANG",
                                  "USER", "SHELL", "TERM", "LOGNAME", "GATEHOUSE_BIN",
                                  "MAKELEVEL", "PYTHONPATH", "TZ", "PWD", "SSL_CERT_FILE",
                                  "SSL_CERT_DIR")}
    env["PATH"] = os.environ["PATH"]
    res = run_gatehouse(args=["migrate"], env=env)
    assert res.returncode == 0, res.stderr
    assert "did you mean" not in res.stderr, res.stderr


@pytest.mark.parametrize("value,on", [("1", True), ("true", True), ("Yes", True), ("ON", True),
                                      ("0", False), ("FALSE", False), ("no", False),
                                      ("Off", False)])
def test_boolean_spellings(make_server, value, on):
    srv = make_server(env={"METRICS": value})
    assert srv.get("/metrics").status_code == (200 if on else 404)


@pytest.mark.parametrize("value", ["y", "enabled", "2", "truee", " 1"])
def test_bad_boolean_lists_the_spellings(run_gatehouse, value):
    res = run_gatehouse(env={"ACCESS_LOG": value})
    assert res.returncode == 2, res.stderr
    assert "ACCESS_LOG" in res.stderr
    assert "1/0, true/false, yes/no or on/off" in res.stderr, res.stderr


def test_port_in_use_creates_nothing(run_gatehouse, tmp_path):
    """A PORT another process holds stops the start (exit 1) before the
    database or its .secret is created."""
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        res = run_gatehouse(env={"PORT": str(taken.getsockname()[1]), "SECRET_KEY": None,
                                 "DATABASE_URL": None})
    finally:
        taken.close()
    assert res.returncode == 1, res.stderr
    assert "cannot listen" in res.stderr and "in use" in res.stderr, res.stderr
    assert list(tmp_path.iterdir()) == [], "no gatehouse.db, no .secret"


def test_metrics_address_in_use_creates_nothing(run_gatehouse, tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        res = run_gatehouse(env={"METRICS_ADDRESS": f"127.0.0.1:{taken.getsockname()[1]}",
                                 "SECRET_KEY": None, "DATABASE_URL": None})
    finally:
        taken.close()
    assert res.returncode == 1, res.stderr
    assert "METRICS_ADDRESS" in res.stderr and "in use" in res.stderr, res.stderr
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------ LOG_FORMAT=json to the end
def assert_all_json(stderr, reason):
    lines = stderr.splitlines()
    assert lines, "nothing on stderr"
    objs = [json.loads(line) for line in lines]  # every line, or this raises
    fatal = [o for o in objs if o.get("fatal")]
    assert len(fatal) == 1 and fatal[0]["level"] == "error", objs
    assert reason in fatal[0]["msg"], fatal[0]
    return fatal[0]


def test_fatal_start_errors_are_json(run_gatehouse, tmp_path):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        res = run_gatehouse(env={"LOG_FORMAT": "json", "PORT": str(taken.getsockname()[1])})
    finally:
        taken.close()
    assert res.returncode == 1
    assert_all_json(res.stderr, "cannot listen")

    res = run_gatehouse(env={"LOG_FORMAT": "json", "DB_CONNECT_TIMEOUT_SECONDS": "1",
                             "DATABASE_URL": "postgresql://u:pw-x@127.0.0.1:1/db"})
    assert res.returncode == 1
    fatal = assert_all_json(res.stderr, "PostgreSQL")
    assert "pw-x" not in res.stderr, fatal

    res = run_gatehouse(env={"LOG_FORMAT": "json", "SECRET_KEY": "s" * 31})
    assert res.returncode == 2
    assert_all_json(res.stderr, "SECRET_KEY: must be at least 32 bytes")

    # The flag counts as well as the variable, wherever it stands.
    res = run_gatehouse(args=["--port", "0", "--log-format", "json"])
    assert res.returncode == 2
    assert_all_json(res.stderr, "PORT")

    res = run_gatehouse(args=["migrate", "--log-format=json"],
                        env={"DATABASE_URL": "mysql://x"})
    assert res.returncode == 2
    assert_all_json(res.stderr, "DATABASE_URL")

    # A malformed command line too.
    res = run_gatehouse(args=["--no-such-flag"], env={"LOG_FORMAT": "json"})
    assert res.returncode == 2
    assert_all_json(res.stderr, "--no-such-flag")
    res = run_gatehouse(args=["no-such-command", "--log-format=json"])
    assert res.returncode == 2
    assert_all_json(res.stderr, "no-such-command")

    key = tmp_path / "k.pem"
    key.write_text("not a key")
    os.chmod(key, 0o666)
    res = run_gatehouse(env={"LOG_FORMAT": "json", "ALGORITHM": "EdDSA",
                             "JWT_PRIVATE_KEY_FILE": str(key)})
    assert res.returncode == 2
    assert_all_json(res.stderr, "JWT_PRIVATE_KEY_FILE")

    # The warning about a misspelt variable before it is JSON too.
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        res = run_gatehouse(env={"LOG_FORMAT": "json", "PROT": "1",
                                 "PORT": str(taken.getsockname()[1])})
    finally:
        taken.close()
    assert res.returncode == 1
    assert_all_json(res.stderr, "cannot listen")
    assert any(json.loads(line).get("level") == "warn" and "PROT" in line
               for line in res.stderr.splitlines()), res.stderr


def test_fatal_errors_stay_plain_in_text(run_gatehouse):
    res = run_gatehouse(env={"SECRET_KEY": "s" * 31})
    assert res.returncode == 2
    assert res.stderr.startswith("gatehouse: SECRET_KEY: must be at least 32 bytes"), res.stderr
