"""The admin API, roles, disabled users and API keys (API.md, "Administration,
roles and access rules").

Keys are made with `gatehouse apikeys create` and roles given with
`gatehouse users roles`, both beside the running server on its database, as
an operator would. On PostgreSQL every module shares one database: the keys
this module made are deleted when it ends, and every listing is narrowed
with `q` to the users of one test.
"""
import time
import urllib.parse

import pyotp
import pytest

from gh_helpers import (PASSWORD, TEST_DATABASE_URL, assert_problem, bearer, db_exec,
                        decode_token, run_gatehouse, unique_username)
from test_mfa_login import login_mfa, mfa_token, with_totp, away_from_edge

ROUTES = [
    ("GET", "/admin/users"),
    ("POST", "/admin/users"),
    ("GET", "/admin/users/1"),
    ("PATCH", "/admin/users/1"),
    ("DELETE", "/admin/users/1"),
    ("GET", "/admin/users/1/sessions"),
    ("DELETE", "/admin/users/1/sessions"),
    ("POST", "/admin/users/1/password-reset"),
    ("DELETE", "/admin/users/1/mfa"),
]


@pytest.fixture(scope="module", autouse=True)
def keys_go_when_done(server):
    """The API keys of this module go when it ends (one database on PostgreSQL)."""
    yield
    db_exec(server, "DELETE FROM api_keys")


def cli(server, tmp_path, *args):
    return run_gatehouse(tmp_path, list(args), env={"DATABASE_URL": server.env["DATABASE_URL"]})


def new_key(server, tmp_path, *roles):
    args = ["apikeys", "create", "--name", "test"]
    for r in roles:
        args += ["--role", r]
    p = cli(server, tmp_path, *args)
    assert p.returncode == 0, p.stderr
    lines = dict(line.split(": ", 1) for line in p.stdout.splitlines())
    assert lines["key"].startswith("ghk_") and len(lines["key"]) == 47, p.stdout
    return lines["id"], lines["key"]


def give_role(server, tmp_path, username, role, verb="add"):
    p = cli(server, tmp_path, "users", "roles", username, verb, role)
    assert p.returncode == 0, p.stderr
    return p.stdout


def admin_user(server, tmp_path):
    """A user with the role admin and its access token (password only)."""
    user = server.new_user("adm")
    give_role(server, tmp_path, user["username"], "admin")
    return user, server.token(user["username"])


def call(server, method, path, key=None, body=None):
    headers = bearer(key) if key else {}
    if body is None and (method == "PATCH" or (method, path) == ("POST", "/admin/users")):
        body = {}  # a JSON route checks its Content-Type before anything
    if body is not None:
        return server.request(method, path, headers=headers, json=body)
    return server.request(method, path, headers=headers)


# ------------------------------------------------------------ authorization
@pytest.mark.parametrize("method,path", ROUTES)
def test_no_token_is_401(server, method, path):
    r = call(server, method, path)
    assert_problem(r, 401)
    assert r.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("method,path", ROUTES)
def test_a_user_without_the_role_is_403(server, method, path):
    user = server.new_user("plain")
    r = call(server, method, path, server.token(user["username"]))
    assert_problem(r, 403)


@pytest.mark.parametrize("method,path", ROUTES)
def test_a_key_without_the_role_is_403(server, tmp_path, method, path):
    _, key = new_key(server, tmp_path, "ops")
    assert_problem(call(server, method, path, key), 403)


def test_api_key_works_and_revoked_key_is_401(server, tmp_path):
    kid, key = new_key(server, tmp_path, "admin")
    assert call(server, "GET", "/admin/users?limit=1", key).status_code == 200
    listed = cli(server, tmp_path, "apikeys", "list")
    assert listed.returncode == 0
    assert kid in listed.stdout and key not in listed.stdout
    row = next(line for line in listed.stdout.splitlines() if line.startswith(kid))
    assert row.split("\t")[4] != "-"  # last used
    p = cli(server, tmp_path, "apikeys", "revoke", kid)
    assert p.returncode == 0, p.stderr
    r = call(server, "GET", "/admin/users", key)
    assert_problem(r, 401)
    assert r.headers["WWW-Authenticate"].startswith("Bearer error=")
    assert cli(server, tmp_path, "apikeys", "revoke", kid).returncode == 1
    # A key's look-alike: unknown, and one character off.
    assert_problem(call(server, "GET", "/admin/users", "ghk_" + "A" * 43), 401)
    assert_problem(call(server, "GET", "/admin/users", key[:-1]), 401)


def test_apikeys_create_refuses_bad_roles(server, tmp_path):
    for args in (["--role", "Admin"], ["--role", "a b"], ["--role", "x" * 33], []):
        p = cli(server, tmp_path, "apikeys", "create", *args)
        assert p.returncode == 2, (args, p.stdout, p.stderr)
        assert "key:" not in p.stdout


def test_an_admin_token_works_and_the_role_counts_as_it_is_now(server, tmp_path):
    user, tok = admin_user(server, tmp_path)
    r = call(server, "GET", f"/admin/users/{user['id']}", tok)
    assert r.status_code == 200, r.text
    assert r.json()["roles"] == ["admin"]
    assert r.headers["Cache-Control"] == "no-store"
    # The role taken away: the same token is refused at once.
    give_role(server, tmp_path, user["username"], "admin", "remove")
    assert_problem(call(server, "GET", "/admin/users", tok), 403)


def test_the_cookie_does_not_open_the_admin_api(server, tmp_path):
    _, tok = admin_user(server, tmp_path)
    r = server.get("/admin/users", headers={"Cookie": f"access_token={tok}"})
    assert_problem(r, 401)


def test_an_admin_with_totp_needs_a_token_that_shows_it(server, tmp_path):
    user, tok = admin_user(server, tmp_path)
    assert call(server, "GET", "/admin/users?limit=1", tok).status_code == 200
    user, secret, _ = with_totp(server, user)
    # The password-only token from before TOTP was on: not enough now.
    assert_problem(call(server, "GET", "/admin/users?limit=1", tok), 403)
    away_from_edge()
    r = login_mfa(server, mfa_token(server, user), code=pyotp.TOTP(secret).now())
    assert r.status_code == 200, r.text
    otp_tok = r.json()["access_token"]
    assert decode_token(otp_tok)["amr"] == ["pwd", "otp"]
    assert call(server, "GET", "/admin/users?limit=1", otp_tok).status_code == 200


# ------------------------------------------------------------------- roles
def test_tokens_carry_roles_and_confirmed_email(server, tmp_path):
    _, key = new_key(server, tmp_path, "admin")
    name = unique_username("rl")
    r = call(server, "POST", "/admin/users", key,
             {"username": name, "password": PASSWORD, "email": f"{name}@example.com",
              "roles": ["ops", "dev"]})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["roles"] == ["dev", "ops"] and created["email_verified"] is True
    login = server.login(name).json()
    claims = decode_token(login["access_token"])
    assert claims["roles"] == ["dev", "ops"]
    assert claims["email"] == f"{name}@example.com"
    # A change reaches tokens at the next refresh.
    out = give_role(server, tmp_path, name, "dev", "remove")
    assert out.strip().endswith("roles ops")
    r = server.post_json("/refresh", {"refresh_token": login["refresh_token"]})
    assert r.status_code == 200, r.text
    assert decode_token(r.json()["access_token"])["roles"] == ["ops"]
    # No roles, no address: neither claim.
    plain = server.new_user("noroles")
    claims = decode_token(server.token(plain["username"]))
    assert "roles" not in claims and "email" not in claims


def test_users_roles_cli_refuses_bad_names(server, tmp_path):
    user = server.new_user("badrole")
    for role in ("Admin", "a b", "x" * 33, "", "a,b"):
        p = cli(server, tmp_path, "users", "roles", user["username"], "add", role)
        assert p.returncode == 2, (role, p.stderr)
    assert cli(server, tmp_path, "users", "roles", user["username"], "grant", "x").returncode == 2
    assert cli(server, tmp_path, "users", "roles", "nobody-" + user["username"], "add",
               "x").returncode == 1
    for i in range(16):
        give_role(server, tmp_path, user["username"], f"r{i:02d}")
    assert cli(server, tmp_path, "users", "roles", user["username"], "add", "r99").returncode == 2


@pytest.mark.parametrize("roles", [["Admin"], ["a b"], ["x" * 33], [""], "admin", [1],
                                   [f"r{i}" for i in range(17)]])
def test_bad_roles_are_422(server, tmp_path, roles):
    _, key = new_key(server, tmp_path, "admin")
    user = server.new_user("r422")
    r = call(server, "PATCH", f"/admin/users/{user['id']}", key, {"roles": roles})
    assert_problem(r, 422, fields=None, codes=None)
    r = call(server, "POST", "/admin/users", key,
             {"username": unique_username("r422"), "password": PASSWORD, "roles": roles})
    assert_problem(r, 422, fields=None, codes=None)
    assert call(server, "GET", f"/admin/users/{user['id']}", key).json()["roles"] == []


# ----------------------------------------------------------- the user routes
def test_user_routes(server, tmp_path):
    kid, key = new_key(server, tmp_path, "admin")
    name = unique_username("rt")
    r = call(server, "POST", "/admin/users", key, {"username": name, "password": PASSWORD})
    assert r.status_code == 201, r.text
    u = r.json()
    assert set(u) == {"id", "username", "email", "email_verified", "roles", "disabled", "mfa",
                      "created_at"}
    assert u["mfa"] == {"totp": False, "passkeys": 0} and u["email"] is None
    uid = u["id"]
    # The rules of a new password, a taken name.
    r = call(server, "POST", "/admin/users", key, {"username": unique_username("rt"),
                                                   "password": "short"})
    assert_problem(r, 422)
    assert call(server, "POST", "/admin/users", key,
                {"username": name.upper(), "password": PASSWORD}).status_code == 409
    assert_problem(call(server, "POST", "/admin/users", key,
                        {"username": unique_username("rt"), "password": PASSWORD, "x": 1}),
                   422, fields=None, codes=None)
    # Sessions: listed, revoked.
    login = server.login(name).json()
    r = call(server, "GET", f"/admin/users/{uid}/sessions", key)
    assert r.status_code == 200
    sessions = r.json()["sessions"]
    assert len(sessions) == 1 and sessions[0]["amr"] == ["pwd"]
    assert sessions[0]["id"] == decode_token(login["access_token"])["sid"]
    assert call(server, "DELETE", f"/admin/users/{uid}/sessions", key).status_code == 204
    assert server.me(login["access_token"]).status_code == 401
    assert call(server, "GET", f"/admin/users/{uid}/sessions", key).json() == {"sessions": []}
    # PATCH: the email, an unknown field.
    r = call(server, "PATCH", f"/admin/users/{uid}", key, {"email": f"{name}@example.org"})
    assert r.status_code == 200 and r.json()["email"] == f"{name}@example.org"
    assert_problem(call(server, "PATCH", f"/admin/users/{uid}", key, {"name": "x"}), 422,
                   fields=None, codes=None)
    assert_problem(call(server, "PATCH", f"/admin/users/{uid}", key, {"disabled": "yes"}), 422,
                   fields=None, codes=None)
    # Mail is off on this server.
    assert_problem(call(server, "POST", f"/admin/users/{uid}/password-reset", key), 501)
    # MFA reset: the second factor goes, and the sessions with it.
    user, secret, _ = with_totp(server, {"username": name, "password": PASSWORD})
    assert call(server, "GET", f"/admin/users/{uid}", key).json()["mfa"]["totp"] is True
    assert call(server, "DELETE", f"/admin/users/{uid}/mfa", key).status_code == 204
    assert call(server, "GET", f"/admin/users/{uid}", key).json()["mfa"]["totp"] is False
    r = server.login(name)
    assert r.status_code == 200 and "access_token" in r.json(), r.text
    # Delete.
    tok = r.json()["access_token"]
    assert call(server, "DELETE", f"/admin/users/{uid}", key).status_code == 204
    assert server.me(tok).status_code == 401
    assert_problem(call(server, "GET", f"/admin/users/{uid}", key), 404)
    assert_problem(call(server, "DELETE", f"/admin/users/{uid}", key), 404)
    # Every action is in the log with its actor.
    log = server.stderr()
    for event in ("admin.user_created", "admin.sessions_revoked", "admin.user_updated",
                  "admin.mfa_reset", "admin.user_deleted"):
        assert event in log, event
    assert f'actor="apikey:{kid}"' in log
    assert PASSWORD not in log and key not in log


@pytest.mark.parametrize("path", ["/admin/users/abc", "/admin/users/0", "/admin/users/01",
                                  "/admin/users/-1", "/admin/users/1x",
                                  "/admin/users/99999999999999999999",
                                  "/admin/users/9223372036854775807", "/admin/users/1/nope",
                                  "/admin/users/1/sessions/x", "/admin/users/"])
def test_ids_that_name_no_user_are_404(server, tmp_path, path):
    _, key = new_key(server, tmp_path, "admin")
    for method in ("GET", "DELETE"):
        assert_problem(call(server, method, path, key), 404)
    assert_problem(call(server, "PATCH", path, key, {}), 404)


# -------------------------------------------------------------- the listing
def list_all(server, key, q, limit, between=None):
    seen, cursor = [], None
    while True:
        url = f"/admin/users?q={urllib.parse.quote(q)}&limit={limit}"
        if cursor:
            url += "&cursor=" + urllib.parse.quote(cursor)
        r = call(server, "GET", url, key)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["users"]) <= limit
        seen += [u["id"] for u in page["users"]]
        cursor = page["next_cursor"]
        if between:
            between()
        if cursor is None:
            return seen


def test_pagination_is_stable_under_inserts(server, tmp_path):
    _, key = new_key(server, tmp_path, "admin")
    tag = unique_username("pg").lower()
    before = [server.new_user(username=f"{tag}-{i:02d}")["id"] for i in range(11)]
    extra = iter(range(100))

    def insert():
        server.new_user(username=f"{tag}-new{next(extra):02d}")

    seen = list_all(server, key, tag, 3, between=insert)
    assert len(seen) == len(set(seen)), "a user was seen twice"
    assert seen == sorted(seen)
    assert set(before) <= set(seen), "a user that existed was skipped"
    # Without inserts, every page size lists the same users.
    everyone = list_all(server, key, tag, 500)
    assert list_all(server, key, tag.upper(), 1) == everyone
    assert set(seen) <= set(everyone)


def test_q_matches_username_or_email(server, tmp_path):
    _, key = new_key(server, tmp_path, "admin")
    tag = unique_username("qq").lower()
    a = call(server, "POST", "/admin/users", key,
             {"username": f"{tag}a", "password": PASSWORD}).json()
    b = call(server, "POST", "/admin/users", key,
             {"username": unique_username("zz"), "password": PASSWORD,
              "email": f"{tag}@Example.com"}).json()
    assert list_all(server, key, tag, 50) == [a["id"], b["id"]]
    # LIKE's wildcards are plain characters here.
    assert list_all(server, key, tag[:3] + "%", 50) == []


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=-1", "limit=abc", "limit=",
                                   "limit=1&limit=2", "cursor=garbage!", "cursor=",
                                   "cursor=MA", "cursor=" + "A" * 40, "q=" + "x" * 257])
def test_bad_list_parameters_are_422(server, tmp_path, query):
    _, key = new_key(server, tmp_path, "admin")
    r = call(server, "GET", "/admin/users?" + query, key)
    if query in ("limit=", "cursor="):
        # An empty value counts as omitted (RFC 6749 §3.2, as every query here).
        assert r.status_code == 200
        return
    assert_problem(r, 422, fields=None, codes=None)


def test_limit_bounds_are_accepted(server, tmp_path):
    _, key = new_key(server, tmp_path, "admin")
    for limit in (1, 500):
        r = call(server, "GET", f"/admin/users?limit={limit}", key)
        assert r.status_code == 200 and len(r.json()["users"]) <= limit


# ----------------------------------------------------------- disabled users
def test_a_disabled_user_is_refused_everywhere(server, tmp_path):
    _, key = new_key(server, tmp_path, "admin")
    user = server.new_user("dis")
    login = server.login(user["username"]).json()
    tok = login["access_token"]
    wrong = server.login(user["username"], "not-the-password-1")
    r = call(server, "PATCH", f"/admin/users/{user['id']}", key, {"disabled": True})
    assert r.status_code == 200 and r.json()["disabled"] is True
    # Tokens: refused at once.
    assert server.verify(tok).status_code == 401
    assert server.me(tok).status_code == 401
    assert server.post_json("/refresh", {"refresh_token": login["refresh_token"]}).status_code == 401
    # Sign-in: answered exactly as a wrong password.
    r = server.login(user["username"])
    assert (r.status_code, r.text) == (wrong.status_code, wrong.text)
    form = {"grant_type": "password", "username": user["username"]}
    r = server.post("/token", data={**form, "password": PASSWORD})
    w = server.post("/token", data={**form, "password": "not-the-password-1"})
    assert r.status_code == 400 or r.status_code == 401
    assert (r.status_code, r.text) == (w.status_code, w.text)
    assert 'reason="disabled"' in server.stderr()
    # Enabled again: it signs in, and the old token stays refused.
    r = call(server, "PATCH", f"/admin/users/{user['id']}", key, {"disabled": False})
    assert r.json()["disabled"] is False
    assert server.login(user["username"]).status_code == 200
    assert server.me(tok).status_code == 401


def test_users_disable_and_enable_cli(server, tmp_path):
    user = server.new_user("cdis")
    tok = server.token(user["username"])
    p = cli(server, tmp_path, "users", "disable", user["username"])
    assert p.returncode == 0, p.stderr
    # The CLI's revocation reaches the server through the database.
    for _ in range(200):
        if server.me(tok).status_code == 401:
            break
        time.sleep(0.05)
    assert server.me(tok).status_code == 401
    assert server.login(user["username"]).status_code == 401
    assert cli(server, tmp_path, "users", "enable", user["username"]).returncode == 0
    assert server.login(user["username"]).status_code == 200
    assert cli(server, tmp_path, "users", "disable", "nobody-" + user["username"]).returncode == 1


def test_disabling_on_one_instance_refuses_on_the_other(make_server, tmp_path):
    """Two instances on one PostgreSQL database (SQLite serves one instance
    only): the revocations of the disabling are notified to the other."""
    if not TEST_DATABASE_URL:
        pytest.skip("several instances need PostgreSQL (make api-pg runs this)")
    a = make_server(database_url=TEST_DATABASE_URL)
    b = make_server(database_url=TEST_DATABASE_URL)
    _, key = new_key(a, tmp_path, "admin")
    try:
        user = a.new_user("two")
        tok = b.token(user["username"])
        assert a.me(tok).status_code == 200 and b.me(tok).status_code == 200
        r = call(a, "PATCH", f"/admin/users/{user['id']}", key, {"disabled": True})
        assert r.status_code == 200
        assert a.me(tok).status_code == 401
        # Within a second on the other (a timeout here only detects a hang).
        deadline = time.monotonic() + 10
        while b.me(tok).status_code != 401 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert b.me(tok).status_code == 401
        assert b.verify(tok).status_code == 401
        assert b.login(user["username"]).status_code == 401
    finally:
        db_exec(a, "DELETE FROM api_keys")


def test_a_disabled_user_is_refused_by_the_sign_in_page(make_server, tmp_path):
    import requests
    env = {"SESSION_COOKIES": "1", "COOKIE_SECURE": "0"}
    server = make_server(env=env, database_url=TEST_DATABASE_URL) if TEST_DATABASE_URL \
        else make_server(env=env)
    user = server.new_user("pgdis")
    p = cli(server, tmp_path, "users", "disable", user["username"])
    assert p.returncode == 0, p.stderr

    def post(password):
        s = requests.Session()
        assert s.get(server.url("/signin"), timeout=30).status_code == 200
        r = s.post(server.url("/signin"), data={"csrf": s.cookies.get("gatehouse_csrf"),
                                                "username": user["username"],
                                                "password": password},
                   headers={"Origin": "null"}, allow_redirects=False, timeout=30)
        return r, s

    right, s = post(PASSWORD)
    wrong, _ = post("not-the-password-1")
    assert right.status_code == wrong.status_code == 401
    assert "access_token" not in s.cookies and "gatehouse_sso" not in s.cookies
    assert cli(server, tmp_path, "users", "enable", user["username"]).returncode == 0
    ok, _ = post(PASSWORD)
    assert ok.status_code in (302, 303), ok.status_code
