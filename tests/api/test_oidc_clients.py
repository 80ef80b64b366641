"""`gatehouse clients add|list|delete` (API.md, "Single sign-on") and what
the provider's start-up does with them and with its key: output exactly as
the contract says, secrets shown once and stored as hashes, every argument
limited, a client added or deleted taking effect on a running server without
a restart, a registered client refusing a start without PUBLIC_URL (and,
on PostgreSQL with HS256, without OIDC_PRIVATE_KEY_FILE), the key kept
beside a SQLite database, OIDC_PRIVATE_KEY_FILE, and the JWKS listing the
OIDC key once beside gatehouse's own."""
import base64
import hashlib
import os
import re
import signal
import sqlite3
import subprocess
import time

import jwt
import pytest
import requests

from gh_helpers import (
    BINARY,
    CLI_TIMEOUT,
    TEST_DATABASE_URL,
    assert_problem,
    free_port,
    run_gatehouse,
    sqlite_url,
)
from test_oidc_token import REDIRECT, Agent, basic, exchange, oidc_env, oidc_key, start, token

ID_RE = re.compile(r"^client_id: (gh_[A-Za-z0-9_-]{22})\n")
SECRET_RE = re.compile(r"^client_secret: ([A-Za-z0-9_-]{43})\n")
WAIT = 10.0  # seconds: hang detection only


def clients(tmp, *args, env=None):
    """`gatehouse clients ...` on the SQLite file of tmp (or the shared
    PostgreSQL database)."""
    more = {"DATABASE_URL": TEST_DATABASE_URL} if TEST_DATABASE_URL else {}
    more.update(env or {})
    return run_gatehouse(tmp, ["clients", *args], env=more)


def parse_add(p):
    """client_id and client_secret (None for a public client) of a clients
    add run, checking standard output is exactly those lines."""
    assert p.returncode == 0, p.stderr
    m = ID_RE.match(p.stdout)
    assert m, repr(p.stdout)
    rest = p.stdout[m.end():]
    if rest == "":
        return m.group(1), None
    s = SECRET_RE.fullmatch(rest)
    assert s, repr(p.stdout)
    return m.group(1), s.group(1)


def on_server(srv, *args):
    """`gatehouse clients ...` beside a running server, on its database."""
    p = subprocess.run([str(BINARY), "clients", *args], env=srv.env, cwd=srv.workdir,
                       capture_output=True, text=True, timeout=CLI_TIMEOUT)
    return p


def wait_for(check):
    """Polls check() until it is true; fails only on a hang."""
    deadline = time.monotonic() + WAIT
    while not check():
        assert time.monotonic() < deadline, "no change seen"
        time.sleep(0.05)


# ------------------------------------------------------------------ output
def test_add_prints_id_and_secret_once(tmp_path):
    conf = parse_add(clients(tmp_path, "add", "Wiki", "--redirect-uri", REDIRECT))
    assert conf[1] is not None
    pub = parse_add(clients(tmp_path, "add", "SPA", "--public", "--redirect-uri", REDIRECT))
    assert pub[1] is None
    assert conf[0] != pub[0]
    named = clients(tmp_path, "add", "Named", "--id", "grafana", "--redirect-uri", REDIRECT)
    assert named.returncode == 0, named.stderr
    assert re.fullmatch(r"client_id: grafana\nclient_secret: [A-Za-z0-9_-]{43}\n", named.stdout)
    # The secret shows nowhere again: not in the list, not in the database.
    listed = clients(tmp_path, "list")
    assert listed.returncode == 0, listed.stderr
    assert conf[1] not in listed.stdout + listed.stderr
    if not TEST_DATABASE_URL:
        db = sqlite3.connect(tmp_path / "cli.db")
        rows = db.execute("SELECT id, secret_hash FROM oidc_clients").fetchall()
        db.close()
        stored = {cid: h for cid, h in rows}
        assert stored[conf[0]] == hashlib.sha256(conf[1].encode()).digest()
        assert stored[pub[0]] is None
        assert conf[1].encode() not in (tmp_path / "cli.db").read_bytes()


def test_list_columns(tmp_path):
    if TEST_DATABASE_URL:
        pytest.skip("lists every client of the shared PostgreSQL database")
    p = clients(tmp_path, "add", "Wiki\u202egro", "--id", "b-app", "--public", "--first-party",
                "--redirect-uri", "https://b.example/cb", "--redirect-uri", "http://127.0.0.1:9/cb",
                "--post-logout-redirect-uri", "https://b.example/bye", "--scope", "openid email")
    assert p.returncode == 0, p.stderr
    p = clients(tmp_path, "add", "A", "--id", "a-app", "--redirect-uri", "https://a.example/cb")
    assert p.returncode == 0, p.stderr
    out = clients(tmp_path, "list")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split("\t") == ["client_id", "name", "type", "first_party", "scopes",
                                    "redirect_uris", "post_logout_redirect_uris", "created_at"]
    a, b = (line.split("\t") for line in lines[1:])
    assert a[:7] == ["a-app", "A", "confidential", "no", "openid profile email offline_access",
                     "https://a.example/cb", "-"]
    # A bidirectional control in a name shows escaped, as users list shows one.
    assert "\u202e" not in out.stdout
    assert b[1].startswith("Wiki") and b[1].endswith("gro") and len(b) == 8
    assert b[:1] + b[2:7] == ["b-app", "public", "yes", "openid email",
                     "https://b.example/cb http://127.0.0.1:9/cb", "https://b.example/bye"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", a[7])


@pytest.mark.parametrize("args, why", [
    ([], "at least one redirect URI"),
    (["--redirect-uri", "https://a.example/cb#frag"], "absolute URI"),
    (["--redirect-uri", "/relative"], "absolute URI"),
    (["--redirect-uri", "https://a.example/a b"], "absolute URI"),
    (["--redirect-uri", "https://a.example/" + "x" * 2031], "absolute URI"),  # 2049
    (["--redirect-uri", REDIRECT, "--redirect-uri", REDIRECT], "twice"),
    ([f"--redirect-uri=https://a.example/{i}" for i in range(17)], "at most 16"),
    (["--redirect-uri", REDIRECT, "--post-logout-redirect-uri", "nope"], "absolute URI"),
    # Nowhere a browser may be sent (RFC 8252 §7.1 names native schemes by
    # a reverse domain name).
    (["--redirect-uri", "javascript:alert(1)"], "absolute URI"),
    (["--redirect-uri", "data:text/html,x"], "absolute URI"),
    (["--redirect-uri", "file:///etc/passwd"], "absolute URI"),
    (["--redirect-uri", REDIRECT, "--post-logout-redirect-uri", "javascript:x"], "absolute URI"),
    (["--redirect-uri", REDIRECT, "--scope", "openid address"], "--scope"),
    (["--redirect-uri", REDIRECT, "--scope", "openid  email"], "--scope"),
    (["--redirect-uri", REDIRECT, "--id", "has space"], "the id"),
    (["--redirect-uri", REDIRECT, "--id", "x" * 65], "the id"),
    (["--redirect-uri", REDIRECT, "--id", ""], "--id"),
])
def test_add_refusals(tmp_path, args, why):
    p = clients(tmp_path, "add", "App", *args)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    assert why in p.stderr, p.stderr
    assert p.stdout == ""


def test_native_and_upper_case_schemes_accepted(tmp_path):
    """A native application's reverse-domain scheme (RFC 8252 §7.1) and
    an http(s) scheme in capitals are redirect URIs a browser may follow."""
    for uri in ("com.example.app:/callback", "HTTPS://a.example/cb", "Http://127.0.0.1:9/cb"):
        parse_add(clients(tmp_path, "add", "App", "--public", "--redirect-uri", uri))


def test_add_limits_at_the_edge(tmp_path):
    """The longest of each passes; one more is refused (above)."""
    uris = [f"--redirect-uri=https://a.example/{i}" for i in range(16)]
    long_uri = "https://a.example/" + "x" * 2030  # 2048
    name = "n" * 128
    p = clients(tmp_path, "add", name, *uris[:15], "--redirect-uri", long_uri, "--id", "i" * 64)
    assert p.returncode == 0, p.stderr
    p = clients(tmp_path, "add", "n" * 129, "--redirect-uri", REDIRECT)
    assert p.returncode == 2 and "name" in p.stderr, p.stderr
    p = clients(tmp_path, "add", "bad\x01name", "--redirect-uri", REDIRECT)
    assert p.returncode == 2 and "name" in p.stderr, p.stderr


def test_id_taken_and_delete(tmp_path):
    assert clients(tmp_path, "add", "A", "--id", "dup", "--redirect-uri", REDIRECT).returncode == 0
    p = clients(tmp_path, "add", "B", "--id", "dup", "--redirect-uri", REDIRECT)
    assert p.returncode == 1 and "taken" in p.stderr, p.stderr
    assert p.stdout == ""
    p = clients(tmp_path, "delete", "dup")
    assert p.returncode == 0 and p.stdout == "deleted client dup\n", (p.stdout, p.stderr)
    p = clients(tmp_path, "delete", "dup")
    assert p.returncode == 1 and "no such client" in p.stderr, p.stderr
    assert clients(tmp_path, "add", "C", "--id", "dup", "--redirect-uri", REDIRECT).returncode == 0


def test_all_digit_id_is_refused(tmp_path):
    """A client_credentials token's sub is the client's id; a user's is the
    user's decimal id: an id of digits alone could be a user's."""
    for cid in ("42", "0", "9" * 64):
        p = clients(tmp_path, "add", "D", "--id", cid, "--redirect-uri", REDIRECT)
        assert p.returncode == 2 and "digits alone" in p.stderr, (cid, p.stderr)
        assert p.stdout == ""
    p = clients(tmp_path, "add", "D", "--id", "42a", "--redirect-uri", REDIRECT)
    assert p.returncode == 0, p.stderr


def test_help(tmp_path):
    p = run_gatehouse(tmp_path, ["clients", "--help"])
    assert p.returncode == 0
    for sub in ("add", "list", "delete"):
        assert f"gatehouse clients {sub}" in p.stdout
    p = run_gatehouse(tmp_path, ["clients", "add", "--help"])
    assert p.returncode == 0
    for flag in ("--redirect-uri", "--public", "--first-party", "--post-logout-redirect-uri",
                 "--scope", "--id", "client_id: <id>", "client_secret: <secret>"):
        assert flag in p.stdout, flag
    p = run_gatehouse(tmp_path, ["--help"])
    assert "OIDC_PRIVATE_KEY_FILE" in p.stdout and "--oidc-private-key-file" in p.stdout


# ---------------------------------------------------------- a running server
def test_added_and_deleted_on_a_running_server(make_server, tmp_path):
    """The command line's changes count at the server's next request: the
    provider turns on with the first client, a new client's grant works, a
    deleted client's fails, and it turns off with the last one gone."""
    if TEST_DATABASE_URL:
        pytest.skip("needs a database without clients; the PostgreSQL run shares one")
    srv = start(make_server, tmp_path)
    assert_problem(srv.get("/.well-known/openid-configuration"), 404)
    cid, secret = parse_add(on_server(srv, "add", "Svc", "--redirect-uri", REDIRECT))
    wait_for(lambda: srv.get("/.well-known/openid-configuration").status_code == 200)
    r = token(srv, {"grant_type": "client_credentials"}, basic(cid, secret))
    assert r.status_code == 200, r.text
    keeper = parse_add(on_server(srv, "add", "Keeper", "--redirect-uri", REDIRECT))
    assert on_server(srv, "delete", cid).returncode == 0
    r = token(srv, {"grant_type": "client_credentials"}, basic(cid, secret))
    assert r.status_code == 401 and r.json()["error"] == "invalid_client", r.text
    r = token(srv, {"grant_type": "client_credentials"}, basic(*keeper))
    assert r.status_code == 200, r.text
    assert on_server(srv, "delete", keeper[0]).returncode == 0
    assert_problem(srv.get("/.well-known/openid-configuration"), 404)


def test_delete_revokes_its_users_tokens(make_server, tmp_path):
    """A user's access token of a deleted client gets 401 at /userinfo, and
    its refresh token no longer refreshes."""
    srv = start(make_server, tmp_path)
    client = parse_add(on_server(srv, "add", "Wiki", "--first-party", "--redirect-uri", REDIRECT))
    parse_add(on_server(srv, "add", "Keeper", "--redirect-uri", REDIRECT))  # the provider stays on
    u = srv.new_user("deleted-client")
    agent = Agent(srv)
    agent.signin(u["username"])
    r = exchange(srv, agent, client, scope="openid offline_access")
    assert r.status_code == 200, r.text
    body = r.json()
    auth = {"Authorization": "Bearer " + body["access_token"]}
    assert srv.get("/userinfo", headers=auth).status_code == 200
    assert on_server(srv, "delete", client[0]).returncode == 0
    wait_for(lambda: srv.get("/userinfo", headers=auth).status_code == 401)
    r = srv.get("/userinfo", headers=auth)
    assert "WWW-Authenticate" in r.headers
    # Its refresh token is refused too, even by /refresh.
    r = srv.post("/refresh", json={"refresh_token": body["refresh_token"]})
    assert r.status_code == 401, r.text


def test_client_session_refused_by_refresh(make_server, tmp_path):
    """POST /refresh (gatehouse's own sessions) refuses a client's refresh
    token, and leaves it working for its client."""
    srv = start(make_server, tmp_path)
    client = parse_add(on_server(srv, "add", "Wiki", "--first-party", "--redirect-uri", REDIRECT))
    u = srv.new_user("own-refresh")
    agent = Agent(srv)
    agent.signin(u["username"])
    body = exchange(srv, agent, client, scope="openid offline_access").json()
    rt = body["refresh_token"]
    r = srv.post("/refresh", json={"refresh_token": rt})
    assert r.status_code == 401, r.text
    r = token(srv, {"grant_type": "refresh_token", "refresh_token": rt}, basic(*client))
    assert r.status_code == 200, r.text
    # Neither the client's access token nor its ID token opens /me.
    for tok in (r.json()["access_token"], r.json()["id_token"]):
        assert srv.get("/me", headers={"Authorization": "Bearer " + tok}).status_code == 401


# ---------------------------------------------------------------- start-up
def test_client_without_public_url_refuses_to_start(make_server, tmp_path):
    if TEST_DATABASE_URL:
        pytest.skip("needs a database of its own")
    db = tmp_path / "gh.db"
    p = run_gatehouse(tmp_path, ["clients", "add", "A", "--redirect-uri", REDIRECT],
                      env={"DATABASE_URL": sqlite_url(db)})
    assert p.returncode == 0, p.stderr
    srv = make_server(db_path=db, wait=False)
    assert srv.proc.wait(timeout=WAIT) == 2
    srv.finished = True
    assert "PUBLIC_URL" in srv.stderr()
    # With PUBLIC_URL it starts.
    port = free_port()
    srv = make_server(env=oidc_env(port), db_path=db, port=port)
    assert srv.get("/.well-known/openid-configuration").status_code == 200


def test_postgres_hs256_needs_an_oidc_key(make_server, tmp_path):
    if not TEST_DATABASE_URL:
        pytest.skip("PostgreSQL only (scripts/with-pg.sh)")
    clients(tmp_path, "add", "A", "--redirect-uri", REDIRECT)
    port = free_port()
    srv = make_server(env=oidc_env(port), database_url=TEST_DATABASE_URL, port=port, wait=False)
    assert srv.proc.wait(timeout=WAIT) == 2
    srv.finished = True
    assert "OIDC_PRIVATE_KEY_FILE" in srv.stderr()


def jwks(srv):
    r = srv.get("/.well-known/jwks.json")
    assert r.status_code == 200, r.text
    return r.json()["keys"]


def test_key_made_once_beside_sqlite(make_server, tmp_path):
    if TEST_DATABASE_URL:
        pytest.skip("SQLite only")
    db = tmp_path / "gh.db"
    port = free_port()
    srv = make_server(env=oidc_env(port), db_path=db, port=port)
    path = tmp_path / "gh.db.oidc-key.pem"
    assert path.exists() and (os.stat(path).st_mode & 0o777) == 0o600
    keys = jwks(srv)
    assert len(keys) == 1 and keys[0]["kty"] == "RSA" and keys[0]["alg"] == "RS256"
    n = base64.urlsafe_b64decode(keys[0]["n"] + "==")
    assert len(n) * 8 == 2048
    srv.stop()
    port = free_port()
    again = make_server(env=oidc_env(port), db_path=db, port=port)
    assert jwks(again) == keys


def test_oidc_private_key_file_and_jwks(make_server, tmp_path):
    """OIDC_PRIVATE_KEY_FILE signs the provider's tokens beside an EdDSA
    ALGORITHM: the JWKS lists both, once each; a client's token verifies
    with the OIDC key; SIGHUP reads the file again."""
    main = tmp_path / "main.pem"
    p = run_gatehouse(tmp_path, ["keys", "generate", "--alg", "EdDSA", "--out", str(main)])
    assert p.returncode == 0, p.stderr
    oidc = oidc_key(tmp_path)
    more = {"ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY_FILE": str(main), "SECRET_KEY": None,
            "OIDC_PRIVATE_KEY_FILE": str(oidc)}
    port = free_port()
    env = oidc_env(port, **more)
    if TEST_DATABASE_URL:
        srv = make_server(env=env, database_url=TEST_DATABASE_URL, port=port)
    else:
        srv = make_server(env=env, port=port)
    keys = jwks(srv)
    assert sorted(k["alg"] for k in keys) == ["EdDSA", "RS256"]
    cid, secret = parse_add(on_server(srv, "add", "Svc", "--redirect-uri", REDIRECT))
    r = token(srv, {"grant_type": "client_credentials"}, basic(cid, secret))
    assert r.status_code == 200, r.text
    at = r.json()["access_token"]
    header = jwt.get_unverified_header(at)
    assert header["typ"] == "at+jwt" and header["alg"] == "RS256"
    rsa = next(k for k in keys if k["alg"] == "RS256")
    assert header["kid"] == rsa["kid"]
    claims = jwt.decode(at, jwt.PyJWK(rsa).key, algorithms=["RS256"], audience=cid,
                        issuer=f"http://127.0.0.1:{port}")
    assert claims["sub"] == cid and claims["client_id"] == cid
    # A new key in the file: SIGHUP lists it instead.
    os.unlink(oidc)
    oidc_key(tmp_path)
    srv.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: {k["kid"] for k in jwks(srv)} != {k["kid"] for k in keys})
    after = jwks(srv)
    assert sorted(k["alg"] for k in after) == ["EdDSA", "RS256"]
    assert next(k for k in after if k["alg"] == "EdDSA") == next(
        k for k in keys if k["alg"] == "EdDSA")


def test_shared_asymmetric_key_listed_once(make_server, tmp_path):
    """Without OIDC_PRIVATE_KEY_FILE an asymmetric ALGORITHM's key signs the
    provider's tokens too, and the JWKS lists it once."""
    main = tmp_path / "main.pem"
    p = run_gatehouse(tmp_path, ["keys", "generate", "--alg", "RS256", "--out", str(main)])
    assert p.returncode == 0, p.stderr
    port = free_port()
    env = oidc_env(port, ALGORITHM="RS256", JWT_PRIVATE_KEY_FILE=str(main), SECRET_KEY=None)
    if TEST_DATABASE_URL:
        srv = make_server(env=env, database_url=TEST_DATABASE_URL, port=port)
    else:
        srv = make_server(env=env, port=port)
    keys = jwks(srv)
    assert len(keys) == 1
    assert not (tmp_path / "gh.db.oidc-key.pem").exists()


def test_bad_oidc_key_file_refuses_to_start(tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key\n")
    bad.chmod(0o600)
    p = run_gatehouse(tmp_path, [], env={"PUBLIC_URL": "http://127.0.0.1:1",
                                         "OIDC_PRIVATE_KEY_FILE": str(bad)})
    assert p.returncode == 2, p.stderr
    assert "OIDC_PRIVATE_KEY_FILE" in p.stderr
    assert not (tmp_path / "cli.db").exists()  # refused before the database was opened


def test_oidc_key_without_public_url_is_off(make_server, tmp_path):
    """OIDC_PRIVATE_KEY_FILE alone turns nothing on: no issuer, no provider
    (404), and the JWKS lists gatehouse's own keys only (none for HS256)."""
    if TEST_DATABASE_URL:
        pytest.skip("needs a database without clients; the PostgreSQL run shares one")
    srv = make_server(env={"OIDC_PRIVATE_KEY_FILE": str(oidc_key(tmp_path))})
    assert_problem(srv.get("/.well-known/openid-configuration"), 404)
    assert_problem(srv.get("/userinfo", headers={"Authorization": "Bearer x.y.z"}), 404)
    assert jwks(srv) == []
    # A client added meanwhile changes nothing until a restart with PUBLIC_URL.
    parse_add(on_server(srv, "add", "Late", "--redirect-uri", REDIRECT))
    assert_problem(srv.get("/.well-known/openid-configuration"), 404)
    assert_problem(srv.get("/userinfo", headers={"Authorization": "Bearer x.y.z"}), 404)
