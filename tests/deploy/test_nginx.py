"""examples/nginx/gatehouse.conf, run by Debian's nginx in front of gatehouse
and an application that echoes what it receives (tests/deploy/nginx_stack.py).

    GATEHOUSE_BIN=$PWD/build/gatehouse /usr/bin/python3 -m pytest -q tests/deploy/test_nginx.py

Swagger UI's Authorize and the sign-in page in a browser, through the same
configuration: tests/browser/nginx.test.mjs.
"""
import http.client
import json
import re
import secrets
import threading

import pytest
import requests

import proxy_cases
from nginx_stack import Stack

PASSWORD = "correct-horse-battery-9"
TIMEOUT = 30


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("nginx"))
    s.start()
    yield s
    status = s.stop()
    assert status == 0, f"gatehouse exited with {status}\n{s.logs()}"


def new_user(stack):
    """A user registered with gatehouse directly (not through nginx's rate limit)."""
    name = f"ngx_{secrets.token_hex(5)}"
    r = requests.post(f"{stack.gatehouse_base}/register", json={"username": name, "password": PASSWORD},
                      timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    user_id = r.json()["id"]
    r = requests.post(f"{stack.gatehouse_base}/login", json={"username": name, "password": PASSWORD},
                      timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    return {"id": user_id, "username": name, "token": r.json()["access_token"]}


def browser_login(stack, u):
    """Logs u in through nginx as a browser does (POST /login, a session that
    keeps cookies); the access_token cookie must be the token answered.
    Returns the session and the token."""
    browser = requests.Session()
    r = browser.post(f"{stack.base}/login", json={"username": u["username"], "password": PASSWORD},
                     timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    assert browser.cookies.get("access_token") == token
    return browser, token


def get(stack, path, **kw):
    return requests.get(f"{stack.base}{path}", allow_redirects=False, timeout=TIMEOUT, **kw)


def app_headers(resp):
    """The headers the application received, names lower-cased, each with all its values."""
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"] == "application/json"
    seen = {}
    for name, value in resp.json()["headers"]:
        seen.setdefault(name.lower(), []).append(value)
    return seen


def headers_seen(stack, path, token, headers, source=None):
    """GET path through nginx with token and the given (name, value) headers, sent as they
    are (repeats and case kept); the application's echo of what reached it, names lowered."""
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=TIMEOUT,
                                      source_address=source)
    conn.putrequest("GET", path)
    conn.putheader("Authorization", f"Bearer {token}")
    for name, value in headers:
        conn.putheader(name, value)
    conn.endheaders()
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    assert resp.status == 200, body
    seen = {}
    for name, value in json.loads(body)["headers"]:
        seen.setdefault(name.lower(), []).append(value)
    return seen


def assert_gatehouse_401(resp, invalid_token):
    """gatehouse's own 401 of GET /verify, passed through nginx, not nginx's HTML page."""
    assert resp.status_code == 401
    assert resp.headers["Content-Type"] == "application/problem+json"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    body = resp.json()
    assert body["status"] == 401 and body["title"] == "Unauthorized" and body["detail"]
    challenges = resp.headers.get("WWW-Authenticate")
    expected = 'Bearer error="invalid_token"' if invalid_token else "Bearer"
    assert challenges == expected, challenges
    return body


# ----------------------------------------------------------------- allowed
def test_valid_bearer_reaches_the_application_with_the_user(stack):
    u = new_user(stack)
    r = get(stack, "/app/reports?year=2026", headers={"Authorization": f"Bearer {u['token']}"})
    seen = app_headers(r)
    assert r.json()["path"] == "/app/reports?year=2026"
    assert seen["x-auth-user-id"] == [str(u["id"])]
    assert seen["x-auth-username"] == [u["username"]]


def test_login_through_nginx_sets_the_cookie_that_verify_accepts(stack):
    u = new_user(stack)
    browser, _ = browser_login(stack, u)
    r = browser.get(f"{stack.base}/app/", headers={"Accept": "text/html"}, allow_redirects=False,
                    timeout=TIMEOUT)
    seen = app_headers(r)
    assert seen["x-auth-user-id"] == [str(u["id"])]
    assert seen["x-auth-username"] == [u["username"]]


def test_a_post_with_a_body_is_verified_and_passed_on(stack):
    u = new_user(stack)
    r = requests.post(f"{stack.base}/app/items", data=b'{"x": 1}', timeout=TIMEOUT,
                      headers={"Authorization": f"Bearer {u['token']}", "Content-Type": "application/json"})
    seen = app_headers(r)
    assert r.json()["method"] == "POST"
    assert seen["x-auth-username"] == [u["username"]]
    r = requests.post(f"{stack.base}/app/items", data=b'{"x": 1}', timeout=TIMEOUT,
                      headers={"Content-Type": "application/json"})
    assert_gatehouse_401(r, invalid_token=False)


# ----------------------------------------------------------------- refused
def test_api_client_without_or_with_a_bad_token_gets_gatehouses_401(stack):
    before = len(stack.app.seen)
    direct = requests.get(f"{stack.gatehouse_base}/verify", timeout=TIMEOUT)
    body = assert_gatehouse_401(get(stack, "/app/x"), invalid_token=False)
    assert body == direct.json()

    bad = {"Authorization": "Bearer not.a.token"}
    direct = requests.get(f"{stack.gatehouse_base}/verify", headers=bad, timeout=TIMEOUT)
    body = assert_gatehouse_401(get(stack, "/app/x", headers=bad), invalid_token=True)
    assert body == direct.json()
    # A token signed with another key.
    u = new_user(stack)
    head, claims, sig = u["token"].split(".")
    forged = f"{head}.{claims}.{sig[:-4]}AAAA"
    assert_gatehouse_401(get(stack, "/app/x", headers={"Authorization": f"Bearer {forged}"}),
                         invalid_token=True)
    assert_gatehouse_401(get(stack, "/app/x", cookies={"access_token": "garbage"}), invalid_token=True)
    assert len(stack.app.seen) == before, "a refused request reached the application"


def test_browser_without_a_token_is_sent_to_the_sign_in_page(stack):
    before = len(stack.app.seen)
    r = get(stack, "/app/page?a=1&b=2", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert r.status_code == 302
    assert r.headers["Location"].endswith("/signin?next=/app/page?a=1&b=2")
    r = get(stack, "/app/page", headers={"Accept": "text/html"}, cookies={"access_token": "expired.or.bad"})
    assert r.status_code == 302
    assert len(stack.app.seen) == before
    page = get(stack, "/signin")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert 'id="signin"' in page.text and "fetch('/login'" in page.text


# ------------------------------------------------------------ access rules
# examples/access-rules.json (nginx_stack.py gives it to gatehouse): nginx
# sends the original method and URI to /verify, gatehouse's rules decide,
# and nginx passes 401/403 on and the X-Auth-* headers to the application.
def test_rules_public_paths_and_hosts_need_no_token(stack):
    proxy_cases.check_public(stack)


def test_rules_authenticated_paths_want_a_token_after_decoding_and_dot_segments(stack):
    proxy_cases.check_authenticated(stack)


def test_rules_ops_paths_want_role_ops_else_403(stack):
    proxy_cases.check_roles(stack)


def test_rules_two_factor_paths_want_a_second_factor_else_403(stack):
    proxy_cases.check_two_factor(stack)


def test_rules_deny_answers_403_signed_in_or_not(stack):
    proxy_cases.check_deny(stack)


def test_rules_a_confirmed_email_reaches_the_application(stack):
    proxy_cases.check_email(stack)


def test_a_client_cannot_name_another_original_request(stack):
    proxy_cases.check_forged_originals(stack)


def test_a_browser_is_shown_the_403_not_sent_to_sign_in(stack):
    u = new_user(stack)
    r = get(stack, "/ops/board", headers={"Accept": "text/html", "Authorization": f"Bearer {u['token']}"})
    assert r.status_code == 403
    assert r.headers["Content-Type"] == "application/problem+json"
    r = get(stack, "/ops/board", headers={"Accept": "text/html"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/signin?next=/ops/board")


# ---------------------------------------------------------------- spoofing
def test_client_copies_of_the_auth_headers_never_reach_the_application(stack):
    u = new_user(stack)
    spoof = [("X-Auth-User-Id", "1"), ("x-auth-username", "admin"), ("X-AUTH-USER-ID", "2")]
    seen = headers_seen(stack, "/app/admin", u["token"], spoof)
    assert seen["x-auth-user-id"] == [str(u["id"])]
    assert seen["x-auth-username"] == [u["username"]]

    # Without a token, the spoofed headers get a 401 and nothing reaches the application.
    before = len(stack.app.seen)
    r = get(stack, "/app/admin", headers={"X-Auth-User-Id": "1", "X-Auth-Username": "admin"})
    assert_gatehouse_401(r, invalid_token=False)
    assert len(stack.app.seen) == before


def test_verify_is_not_reachable_from_outside(stack):
    u = new_user(stack)
    r = get(stack, "/verify", headers={"Authorization": f"Bearer {u['token']}"})
    assert r.status_code == 404


# --------------------------------------------------------------- logged out
def test_after_logout_the_token_and_the_cookie_are_refused(stack):
    u = new_user(stack)
    browser, token = browser_login(stack, u)
    cookie = browser.cookies.get("access_token")
    auth = {"Authorization": f"Bearer {token}"}
    assert get(stack, "/app/", headers=auth).status_code == 200

    r = requests.post(f"{stack.base}/logout", headers=auth, timeout=TIMEOUT)
    assert r.status_code == 204, r.text
    assert_gatehouse_401(get(stack, "/app/", headers=auth), invalid_token=True)
    # The cookie holds the same session's token: refused too, and a browser
    # goes back to the sign-in page.
    assert_gatehouse_401(get(stack, "/app/", cookies={"access_token": cookie}), invalid_token=True)
    r = get(stack, "/app/", cookies={"access_token": cookie}, headers={"Accept": "text/html"})
    assert r.status_code == 302
    # Another session of the same user is untouched.
    assert get(stack, "/app/", headers={"Authorization": f"Bearer {u['token']}"}).status_code == 200


# ---------------------------------------------------------------- public API
def test_the_public_api_paths_reach_gatehouse(stack):
    u = new_user(stack)
    auth = {"Authorization": f"Bearer {u['token']}"}

    def from_gatehouse(r):
        # gatehouse sends nosniff on every response; the echo application never does.
        assert r.headers.get("X-Content-Type-Options") == "nosniff", (r.status_code, r.text[:200])
        return r

    assert from_gatehouse(get(stack, "/me", headers=auth)).json()["username"] == u["username"]
    assert from_gatehouse(get(stack, "/users/me", headers=auth)).json()["username"] == u["username"]
    assert from_gatehouse(get(stack, "/openapi.json")).json()["openapi"].startswith("3.1")
    assert "keys" in from_gatehouse(get(stack, "/.well-known/jwks.json")).json()
    r = from_gatehouse(requests.post(f"{stack.base}/token", timeout=TIMEOUT,
                                     data={"grant_type": "password", "username": u["username"],
                                           "password": PASSWORD}))
    assert r.status_code == 200, r.text
    r = from_gatehouse(requests.post(f"{stack.base}/refresh", timeout=TIMEOUT,
                                     json={"refresh_token": r.json()["refresh_token"]}))
    assert r.status_code == 200, r.text
    r = from_gatehouse(requests.post(f"{stack.base}/register", timeout=TIMEOUT,
                                     json={"username": "x", "password": PASSWORD}))
    assert r.status_code == 422
    assert from_gatehouse(requests.put(f"{stack.base}/me/password", timeout=TIMEOUT, json={})).status_code == 401
    for page in ("/docs", "/redoc"):
        r = from_gatehouse(get(stack, page))
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
        # Everything the page loads comes through nginx too.
        assets = re.findall(r'(?:src|href)="(docs/assets/[^"]+)"', r.text)
        assert assets, f"{page} loads no assets?"
        for asset in assets:
            a = from_gatehouse(get(stack, "/" + asset))
            assert a.status_code == 200, asset


def test_limit_req_answers_429_past_the_burst(stack):
    # From 127.0.0.2, so that the other tests' address keeps its allowance.
    statuses = []
    for _ in range(20):
        conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=TIMEOUT,
                                          source_address=("127.0.0.2", 0))
        conn.request("POST", "/login", body=b"{}", headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        body = resp.read()
        statuses.append(resp.status)
        if resp.status == 429:
            assert resp.getheader("Content-Type") == "application/problem+json"
            assert json.loads(body)["status"] == 429
            assert int(resp.getheader("Retry-After")) > 0
        conn.close()
    # burst=10: the first eleven pass (gatehouse answers 422 for {}), then 429.
    assert statuses[0] == 422, statuses
    assert 429 in statuses, statuses
    assert statuses.count(422) + statuses.count(429) == len(statuses), statuses


# ------------------------------------------------------ forwarding headers
FORGED = "127.0.0.5"


@pytest.fixture(scope="module")
def strict_stack(tmp_path_factory):
    """A stack whose gatehouse locks an address out at its fourth failed
    login (THROTTLE_ADDRESS_FAILURES=2), well inside nginx's burst of ten."""
    s = Stack(tmp_path_factory.mktemp("nginx-forwarding"),
              gatehouse_env={"THROTTLE_ADDRESS_FAILURES": "2", "THROTTLE_LOCKOUT_SECONDS": "300",
                             "THROTTLE_LOCKOUT_MAX_SECONDS": "300"})
    s.start()
    yield s
    status = s.stop()
    assert status == 0, f"gatehouse exited with {status}\n{s.logs()}"


def forged_login(stack, source, username, password, path="/login"):
    """POST path through nginx from the loopback address source, with every
    forwarding header a client could forge naming FORGED."""
    conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=TIMEOUT,
                                      source_address=(source, 0))
    conn.putrequest("POST", path)
    conn.putheader("Content-Type", "application/json")
    for name, value in (("Forwarded", f'for="{FORGED}";proto=https'), ("X-Forwarded-For", FORGED),
                        ("X-Real-IP", FORGED), ("forwarded", f"for={FORGED}")):
        conn.putheader(name, value)
    body = json.dumps({"username": username, "password": password}).encode()
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp, data


def log_line(stack, request_id, event):
    """gatehouse's log line of event for request_id (waits for it to be written)."""
    path = stack.dir / "gatehouse.log"
    for _ in range(200):
        for line in path.read_text(errors="replace").splitlines():
            if f'request_id="{request_id}"' in line and event in line:
                return line
        threading.Event().wait(0.05)
    raise AssertionError(f"no {event} line for {request_id}\n{stack.logs()}")


def test_forged_forwarding_headers_choose_neither_the_throttled_nor_the_logged_client(strict_stack):
    victim = new_user(strict_stack)
    statuses = []
    for _ in range(4):
        resp, data = forged_login(strict_stack, "127.0.0.3", f"nobody_{secrets.token_hex(4)}",
                                  "wrong")
        statuses.append(resp.status)
        if resp.status == 401:
            # The audit log names the real client, never the forged one.
            line = log_line(strict_stack, resp.getheader("X-Request-Id"), "login.failed")
            assert 'client="127.0.0.3"' in line, line
            assert FORGED not in line, line
    # gatehouse's own lockout of 127.0.0.3 (not nginx's rate limit): the
    # failures counted against the sender's address, whatever it claimed.
    assert statuses == [401, 401, 401, 429], statuses
    assert json.loads(data)["detail"].startswith("too many attempts"), data
    # The address the attacker named is not locked out: its user signs in.
    resp, data = forged_login(strict_stack, FORGED, victim["username"], PASSWORD)
    assert resp.status == 200, data


def test_the_application_receives_only_the_forwarding_headers_nginx_sets(strict_stack):
    u = new_user(strict_stack)
    forged = [(name, FORGED) for name in (
        "Forwarded", "X-Forwarded-For", "X-Real-IP", "X-Forwarded-Host", "X-Forwarded-Port",
        "X-Forwarded-Server", "X-Forwarded-Prefix", "X-Forwarded-Uri", "X-Original-URL", "X-Client-IP",
        "True-Client-IP")]
    seen = headers_seen(strict_stack, "/app/whoami", u["token"],
                        forged + [("X-Forwarded-Proto", "https")], source=("127.0.0.6", 0))
    assert seen["x-forwarded-for"] == ["127.0.0.6"]
    assert seen["x-real-ip"] == ["127.0.0.6"]
    assert seen["x-forwarded-proto"] == ["http"]
    for name in ("forwarded", "x-forwarded-host", "x-forwarded-port", "x-forwarded-server",
                 "x-forwarded-prefix", "x-forwarded-uri", "x-original-url", "x-client-ip", "true-client-ip"):
        assert name not in seen, (name, seen[name])
