"""What test_nginx.py and test_caddy.py share: users of every kind made on
the stack's gatehouse (plain, with role ops, with a second factor, with a
confirmed email) and the access rules' cases of examples/access-rules.json,
each sent through the proxy as a raw request (http.client: the path goes
as written, dot segments and escapes included).

A stack here is anything with gatehouse_base, bin, db_path and port (the
proxy's loopback port): nginx_stack.Stack and caddy_stack.Stack.
"""
import http.client
import json
import os
import secrets
import sqlite3
import subprocess
import time

import pyotp
import requests

PASSWORD = "correct-horse-battery-9"
TIMEOUT = 30


def login(stack, username):
    r = requests.post(f"{stack.gatehouse_base}/login", json={"username": username, "password": PASSWORD},
                      timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    return r.json()


def new_user(stack, prefix="px"):
    """A user registered with gatehouse directly (no proxy's rate limit), signed in."""
    name = f"{prefix}_{secrets.token_hex(5)}"
    r = requests.post(f"{stack.gatehouse_base}/register", json={"username": name, "password": PASSWORD},
                      timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    return {"id": r.json()["id"], "username": name, "token": login(stack, name)["access_token"]}


def cli(stack, *args):
    """`gatehouse ARGS` on the stack's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEHOUSE_", "PG"))}
    env["DATABASE_URL"] = f"sqlite:///{stack.db_path}"
    return subprocess.run([stack.bin, *args], env=env, capture_output=True, text=True, timeout=TIMEOUT)


def with_role(stack, role):
    """A user holding role (given by `gatehouse users roles`), signed in after it."""
    u = new_user(stack, role)
    r = cli(stack, "users", "roles", u["username"], "add", role)
    assert r.returncode == 0, r.stderr
    u["token"] = login(stack, u["username"])["access_token"]
    return u


def with_email(stack):
    """A user with a confirmed email address (set in the database), signed in after it."""
    u = new_user(stack, "mail")
    u["email"] = f"{u['username']}@example.org"
    conn = sqlite3.connect(stack.db_path, timeout=10)
    try:
        conn.execute("UPDATE users SET email = ?, email_key = ?, email_verified = 1 WHERE id = ?",
                     (u["email"], u["email"].lower(), u["id"]))
        conn.commit()
    finally:
        conn.close()
    u["token"] = login(stack, u["username"])["access_token"]
    return u


def away_from_edge():
    """Waits until the clock is at least 3 s from either edge of a 30 s TOTP
    step (a wait, not a timed assertion)."""
    while not 3 <= time.time() % 30 <= 26:
        time.sleep(0.5)


def with_totp(stack):
    """A user with TOTP on; u["mfa_token"] is the access token of a full
    sign-in (password and code)."""
    u = new_user(stack, "totp")
    auth = {"Authorization": f"Bearer {u['token']}"}
    r = requests.post(f"{stack.gatehouse_base}/me/mfa/totp", json={"password": PASSWORD}, headers=auth,
                      timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    totp = pyotp.TOTP(r.json()["secret"])
    away_from_edge()
    r = requests.post(f"{stack.gatehouse_base}/me/mfa/totp/confirm", json={"code": totp.at(time.time() - 30)},
                      headers=auth, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    r = requests.post(f"{stack.gatehouse_base}/login", json={"username": u["username"], "password": PASSWORD},
                      timeout=TIMEOUT)
    assert r.status_code == 200 and r.json().get("mfa_required") is True, r.text
    away_from_edge()
    r = requests.post(f"{stack.gatehouse_base}/login/mfa",
                      json={"mfa_token": r.json()["mfa_token"], "code": totp.now()}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    u["mfa_token"] = r.json()["access_token"]
    return u


def send(stack, method, path, token=None, host=None, headers=()):
    """method path through the proxy, sent as written; (status, headers, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=TIMEOUT)
    conn.putrequest(method, path, skip_host=host is not None)
    if host is not None:
        conn.putheader("Host", host)
    if token is not None:
        conn.putheader("Authorization", f"Bearer {token}")
    for name, value in headers:
        conn.putheader(name, value)
    conn.putheader("Content-Length", "0")
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body


def at_app(stack, method, path, token=None, **kw):
    """The request reached the application: the X-Auth-* headers it got, names lowered."""
    before = len(stack.app.seen)
    status, _, body = send(stack, method, path, token, **kw)
    assert status == 200, (method, path, status, body[:300])
    assert len(stack.app.seen) == before + 1
    seen = {}
    for name, value in json.loads(body)["headers"]:
        if name.lower().startswith("x-auth-"):
            seen.setdefault(name.lower(), []).append(value)
    return seen


def refused(stack, status, method, path, token=None, **kw):
    """The proxy answered status with gatehouse's problem+json, and the
    application saw nothing."""
    before = len(stack.app.seen)
    got, headers, body = send(stack, method, path, token, **kw)
    assert got == status, (method, path, got, body[:300])
    assert headers["content-type"] == "application/problem+json", headers
    assert json.loads(body)["status"] == status
    if status == 401:
        assert headers["www-authenticate"].startswith("Bearer"), headers
    assert len(stack.app.seen) == before, "a refused request reached the application"
    return headers


# ------------------------------------------------------------ the cases
def check_public(stack):
    # No token: allowed, and no X-Auth-* at all reaches the application,
    # even the client's own copies.
    assert at_app(stack, "GET", "/public/index.html", headers=[("X-Auth-User-Id", "1")]) == {}
    assert at_app(stack, "GET", "/favicon.ico") == {}
    # With a token: the user is named.
    u = new_user(stack)
    seen = at_app(stack, "GET", "/public/index.html", u["token"])
    assert seen["x-auth-user-id"] == [str(u["id"])]
    assert seen["x-auth-username"] == [u["username"]]
    # The rule names GET and HEAD only: a POST falls to DEFAULT_POLICY.
    refused(stack, 401, "POST", "/public/form")
    # A host rule: any path of status.example.com is public.
    assert at_app(stack, "GET", "/ops/anything", host="status.example.com") == {}
    assert at_app(stack, "GET", "/ops/anything", host="STATUS.example.com:8443") == {}


def check_authenticated(stack):
    refused(stack, 401, "GET", "/app/page")
    u = new_user(stack)
    seen = at_app(stack, "GET", "/app/page?x=1", u["token"])
    assert seen["x-auth-user-id"] == [str(u["id"])]
    assert seen["x-auth-username"] == [u["username"]]
    assert "x-auth-roles" not in seen and "x-auth-email" not in seen
    assert seen["x-auth-amr"] == ["pwd"]
    # A dot segment or an escape does not climb out of /public/ past the rules.
    refused(stack, 401, "GET", "/public/%2E%2E/ops/board")
    refused(stack, 401, "GET", "/public/%2e%2e/app/page")


def check_roles(stack):
    refused(stack, 401, "GET", "/ops/board")
    plain = new_user(stack)
    refused(stack, 403, "GET", "/ops/board", plain["token"])
    ops = with_role(stack, "ops")
    seen = at_app(stack, "GET", "/ops/board", ops["token"])
    assert seen["x-auth-username"] == [ops["username"]]
    assert seen["x-auth-roles"] == ["ops"]
    # Client copies of the headers are replaced, never added to.
    seen = at_app(stack, "GET", "/ops/board", ops["token"],
                  headers=[("X-Auth-Roles", "admin"), ("x-auth-user-id", "1"), ("X-Auth-Amr", "hwk")])
    assert seen["x-auth-roles"] == ["ops"]
    assert seen["x-auth-user-id"] == [str(ops["id"])]
    assert seen["x-auth-amr"] == ["pwd"]


def check_two_factor(stack):
    refused(stack, 401, "GET", "/secure/vault")
    # Signed in with a password only: 403.
    plain = new_user(stack)
    refused(stack, 403, "GET", "/secure/vault", plain["token"])
    u = with_totp(stack)
    seen = at_app(stack, "GET", "/secure/vault", u["mfa_token"])
    assert "otp" in seen["x-auth-amr"][0].split(","), seen
    # The glob: * within one segment, ** across them.
    refused(stack, 403, "GET", "/app/reports/export/2026/q1.csv", plain["token"])
    at_app(stack, "GET", "/app/reports/export/2026/q1.csv", u["mfa_token"])
    # /app/reports/export.csv is no match (* needs a segment): default policy.
    at_app(stack, "GET", "/app/reports/export.csv", plain["token"])


def check_deny(stack):
    refused(stack, 403, "GET", "/internal/metrics")
    ops = with_role(stack, "ops")
    refused(stack, 403, "GET", "/internal/metrics", ops["token"])


def check_email(stack):
    u = with_email(stack)
    seen = at_app(stack, "GET", "/app/me", u["token"])
    assert seen["x-auth-email"] == [u["email"]]


# Every header a client could send to name another original request than
# its own: each must be replaced or dropped by the proxy, or /verify would
# judge the forged request (a public path, a public host) instead.
FORGED_ORIGINALS = [
    ("X-Forwarded-Uri", "/public/x"),
    ("X-Original-URL", "http://status.example.com/public/x"),
    ("X-Original-URI", "/public/x"),
    ("X-Forwarded-Host", "status.example.com"),
    ("X-Forwarded-Method", "GET"),
]


def check_forged_originals(stack):
    u = new_user(stack)
    for name, value in FORGED_ORIGINALS:
        method = "POST" if name == "X-Forwarded-Method" else "GET"
        accept = ("Accept", "application/json")
        refused(stack, 403, method, "/internal/metrics", headers=[(name, value), accept])
        refused(stack, 401, method, "/ops/board", headers=[(name, value), accept])
        refused(stack, 403, method, "/ops/board", u["token"], headers=[(name, value), accept])
    # All of them at once.
    refused(stack, 403, "GET", "/internal/metrics", headers=FORGED_ORIGINALS)
