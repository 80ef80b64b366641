"""The second factor of a sign-in (API.md, "Second factors"): POST /login's
mfa_required, /token's 403, POST /login/mfa with a TOTP code or a recovery
code, the limits of an mfa_token, the account's throttle, amr in the tokens
(checked with PyJWT), and the step-up of PUT /me/password, DELETE /me and
PUT /me/email.

Codes come from pyotp, not from gatehouse. The server's clock decides the
step, so a test that depends on which step "now" is waits until the clock is
a few seconds away from a step's edge first (a wait, not a timed assertion).
"""
import re
import threading
import time

import pyotp
import pytest

from gh_helpers import (MAIL_PUBLIC_URL, PASSWORD, TEST_DATABASE_URL, assert_invalid, assert_problem,
                        bearer, db_exec, decode_token, media_type)
from softauthn import SoftAuthenticator

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
COOKIE_ENV = {"SESSION_COOKIES": "1", "COOKIE_SECURE": "0"}


# ------------------------------------------------------------------ helpers
def away_from_edge():
    """Waits until the clock is at least 3 s from either edge of its 30 s
    step, so that the step a code was made for is the server's too."""
    while not 3 <= time.time() % 30 <= 26:
        time.sleep(0.5)


def own_server(make_server, env=None):
    """A server of the test's own, on the backend of the suite."""
    if TEST_DATABASE_URL:
        return make_server(env=env, database_url=TEST_DATABASE_URL)
    return make_server(env=env)


def wrong_code(secret):
    """A code none of the steps around now has."""
    t = pyotp.TOTP(secret)
    now = time.time()
    taken = {t.at(now + d) for d in (-60, -30, 0, 30, 60)}
    return next(c for c in (f"{i:06d}" for i in range(1000000)) if c not in taken)


def with_totp(server, user=None):
    """A user with TOTP on: (user, secret, recovery codes). The code that
    confirmed it is of the step before now, so that now's is still
    unused."""
    user = user or server.new_user("mfa")
    tok = server.token(user["username"], user["password"])
    r = server.post_json("/me/mfa/totp", {"password": user["password"]}, headers=bearer(tok))
    assert r.status_code == 200, r.text
    secret = r.json()["secret"]
    away_from_edge()
    r = server.post_json("/me/mfa/totp/confirm",
                         {"code": pyotp.TOTP(secret).at(time.time() - 30)}, headers=bearer(tok))
    assert r.status_code == 200, r.text
    return user, secret, r.json()["recovery_codes"]


def mfa_token(server, user):
    r = server.login(user["username"], user["password"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body.get("mfa_required") is True, body
    return body["mfa_token"]


def login_mfa(server, token, **answer):
    return server.post_json("/login/mfa", {"mfa_token": token, **answer})


def amr_of(access_token):
    return decode_token(access_token)["amr"]


def signed_in(server, user, secret):
    """A full sign-in with the code of now: the 200's body."""
    away_from_edge()
    r = login_mfa(server, mfa_token(server, user), code=pyotp.TOTP(secret).now())
    assert r.status_code == 200, r.text
    return r.json()


# ------------------------------------------------------------------ the step
def test_login_answers_mfa_required(server):
    user, _, _ = with_totp(server)
    r = server.login(user["username"], user["password"])
    assert r.status_code == 200, r.text
    assert media_type(r) == "application/json"
    assert "no-store" in r.headers.get("Cache-Control", ""), r.headers
    body = r.json()
    assert set(body) == {"mfa_required", "mfa_token", "methods", "expires_in"}, body
    assert body["mfa_required"] is True and body["expires_in"] == 300
    assert body["methods"] == ["totp", "recovery_code"]
    assert TOKEN_RE.match(body["mfa_token"]), body
    # A new token for each login; only its hash is stored.
    other = mfa_token(server, user)
    assert other != body["mfa_token"]
    if server.db_path is not None:
        rows = server.query("SELECT id_hash, kind, user_id FROM mfa_flows WHERE user_id = ?",
                            (user["id"],))
        assert len(rows) == 2 and all(len(h) == 32 and k == "mfa" for h, k, _ in rows), rows
        data = open(server.db_path, "rb").read()
        assert body["mfa_token"].encode() not in data


def test_wrong_password_answers_as_before(server):
    user, _, _ = with_totp(server)
    r = server.login(user["username"], "not-the-password-1")
    assert_problem(r, 401)
    assert r.json()["detail"] == "Incorrect username or password"


def test_token_grant_403_with_mfa_token(server):
    user, secret, _ = with_totp(server)
    r = server.post("/token", data={"grant_type": "password", "username": user["username"],
                                    "password": user["password"]})
    assert r.status_code == 403, r.text
    assert media_type(r) == "application/json"
    assert "no-store" in r.headers.get("Cache-Control", ""), r.headers
    body = r.json()
    assert body["error"] == "mfa_required" and body["error_description"], body
    assert TOKEN_RE.match(body["mfa_token"]) and "access_token" not in body
    # The mfa_token of /token works at /login/mfa as /login's does.
    away_from_edge()
    r = login_mfa(server, body["mfa_token"], code=pyotp.TOTP(secret).now())
    assert r.status_code == 200, r.text


def test_code_gives_tokens_with_amr_otp_and_refresh_keeps_it(server):
    user, secret, _ = with_totp(server)
    body = signed_in(server, user, secret)
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}, body
    claims = decode_token(body["access_token"])  # PyJWT checks the signature
    assert claims["amr"] == ["pwd", "otp"]
    assert claims["sub"] == str(user["id"])
    assert server.me(body["access_token"]).status_code == 200
    assert server.verify(body["access_token"]).status_code == 204
    # Refreshing proves no factor again: the session keeps its amr.
    r = server.post_json("/refresh", {"refresh_token": body["refresh_token"]})
    assert r.status_code == 200, r.text
    assert amr_of(r.json()["access_token"]) == ["pwd", "otp"]
    r = server.post("/token", data={"grant_type": "refresh_token",
                                    "refresh_token": r.json()["refresh_token"]})
    assert r.status_code == 200, r.text
    assert amr_of(r.json()["access_token"]) == ["pwd", "otp"]
    if server.db_path is not None:
        assert server.query("SELECT DISTINCT amr FROM sessions WHERE user_id = ?",
                            (user["id"],)) == [("pwd",), ("pwd otp",)]


def test_account_without_second_factor_unchanged(server, user):
    r = server.login(user["username"], user["password"])
    assert r.status_code == 200, r.text
    assert "mfa_required" not in r.json()
    assert amr_of(r.json()["access_token"]) == ["pwd"]
    r = server.post("/token", data={"grant_type": "password", "username": user["username"],
                                    "password": user["password"]})
    assert r.status_code == 200 and amr_of(r.json()["access_token"]) == ["pwd"], r.text


def test_recovery_code_works_once(server):
    user, _, codes = with_totp(server)
    r = login_mfa(server, mfa_token(server, user), recovery_code=codes[0])
    assert r.status_code == 200, r.text
    assert amr_of(r.json()["access_token"]) == ["pwd", "otp"]
    r = login_mfa(server, mfa_token(server, user), recovery_code=codes[0])
    assert assert_problem(r, 401)["detail"] == "code: invalid, used or expired"
    # Another of the set still works.
    r = login_mfa(server, mfa_token(server, user), recovery_code=codes[1])
    assert r.status_code == 200, r.text


def test_mfa_token_single_use(server):
    user, secret, codes = with_totp(server)
    tok = mfa_token(server, user)
    r = login_mfa(server, tok, recovery_code=codes[0])
    assert r.status_code == 200, r.text
    r = login_mfa(server, tok, recovery_code=codes[1])
    assert_problem(r, 401)


def test_concurrent_right_answers_one_session(server):
    """Two right recovery codes at once with one mfa_token: one session."""
    user, _, codes = with_totp(server)
    tok = mfa_token(server, user)
    results = []
    barrier = threading.Barrier(4)

    def go(code):
        barrier.wait()
        results.append(login_mfa(server, tok, recovery_code=code).status_code)

    threads = [threading.Thread(target=go, args=(c,)) for c in codes[:4]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 401, 401, 401], results


def test_replayed_code_refused(server):
    user, secret, _ = with_totp(server)
    away_from_edge()
    code = pyotp.TOTP(secret).now()
    r = login_mfa(server, mfa_token(server, user), code=code)
    assert r.status_code == 200, r.text
    r = login_mfa(server, mfa_token(server, user), code=code)
    assert_problem(r, 401)


def test_five_wrong_codes_end_the_mfa_token(server):
    user, secret, _ = with_totp(server)
    tok = mfa_token(server, user)
    bad = wrong_code(secret)
    for _ in range(5):
        r = login_mfa(server, tok, code=bad)
        assert assert_problem(r, 401)["detail"] == "code: invalid, used or expired"
        assert "no-store" in r.headers.get("Cache-Control", "")
    away_from_edge()
    r = login_mfa(server, tok, code=pyotp.TOTP(secret).now())
    assert_problem(r, 401)
    # A new mfa_token is not affected, and the right code works there.
    away_from_edge()
    r = login_mfa(server, mfa_token(server, user), code=pyotp.TOTP(secret).now())
    assert r.status_code == 200, r.text


def test_four_wrong_then_right(server):
    user, secret, _ = with_totp(server)
    tok = mfa_token(server, user)
    bad = wrong_code(secret)
    for _ in range(4):
        assert_problem(login_mfa(server, tok, code=bad), 401)
    away_from_edge()
    r = login_mfa(server, tok, code=pyotp.TOTP(secret).now())
    assert r.status_code == 200, r.text


def test_expired_mfa_token(server):
    """Expiry without waiting 300 s: the flow's expires_at moved into the
    past behind the server's back."""
    user, secret, codes = with_totp(server)
    tok = mfa_token(server, user)
    db_exec(server, f"UPDATE mfa_flows SET expires_at = expires_at - 300 "
                    f"WHERE user_id = {int(user['id'])}")
    r = login_mfa(server, tok, recovery_code=codes[0])
    assert_problem(r, 401)
    # The code was not spent on it.
    r = login_mfa(server, mfa_token(server, user), recovery_code=codes[0])
    assert r.status_code == 200, r.text


def test_unknown_and_malformed_tokens(server):
    user, secret, codes = with_totp(server)
    for tok in ("A" * 43, "x", "A" * 42 + "=", "A" * 42 + "B"):
        assert_problem(login_mfa(server, tok, recovery_code=codes[0]), 401)
    # None spent the code.
    r = login_mfa(server, mfa_token(server, user), recovery_code=codes[0])
    assert r.status_code == 200, r.text


def test_password_change_since_refuses_the_mfa_token(server):
    user, secret, codes = with_totp(server)
    tok = mfa_token(server, user)
    session = signed_in(server, user, secret)
    new_password = PASSWORD + "-new"
    r = server.request("PUT", "/me/password",
                       json={"current_password": user["password"], "new_password": new_password,
                             "recovery_code": codes[1]},
                       headers=bearer(session["access_token"]))
    assert r.status_code == 204, r.text
    r = login_mfa(server, tok, recovery_code=codes[0])
    assert_problem(r, 401)


def test_limits(server):
    user, secret, codes = with_totp(server)
    tok = mfa_token(server, user)
    assert_invalid(login_mfa(server, tok), "code", "one_of")
    assert_invalid(login_mfa(server, tok, code="123456", recovery_code=codes[0]), "webauthn", "one_of")
    assert_invalid(login_mfa(server, tok, code="1" * 17), "code", "too_long")
    assert_invalid(login_mfa(server, tok, code=""), "code", "too_short")
    assert_invalid(login_mfa(server, tok, code=123456), "code", "wrong_type")
    assert_invalid(login_mfa(server, tok, recovery_code="a" * 33), "recovery_code", "too_long")
    assert_invalid(login_mfa(server, tok, webauthn="x"), "webauthn", "wrong_type")
    assert_invalid(server.post_json("/login/mfa", {"code": "123456"}), "mfa_token", "missing")
    assert_invalid(server.post_json("/login/mfa", {"mfa_token": "A" * 65, "code": "123456"}),
            "mfa_token", "too_long")
    assert_invalid(server.post_json("/login/mfa", {"mfa_token": 5, "code": "123456"}),
            "mfa_token", "wrong_type")
    assert_problem(server.post("/login/mfa", data="{", headers={"Content-Type": "application/json"}),
            400)
    # At the limits, an answer (401), not a 422: a code of 16 digits, a
    # recovery code of 32 characters, a token of 64.
    assert_problem(login_mfa(server, tok, code="1" * 16), 401)
    assert_problem(login_mfa(server, tok, recovery_code="a" * 32), 401)
    assert_problem(server.post_json("/login/mfa", {"mfa_token": "A" * 64, "code": "1"}), 401)
    # None of the 422s counted against the token: 2 wrong answers so far.
    for _ in range(3):
        assert_problem(login_mfa(server, tok, code=wrong_code(secret)), 401)
    assert_problem(login_mfa(server, tok, recovery_code=codes[0]), 401)


def test_wrong_codes_lock_the_account(make_server):
    """Wrong codes are failed logins of the account: locked (429), the
    right password and the right code refused too until the lock ends."""
    srv = own_server(make_server, {"THROTTLE_ACCOUNT_FAILURES": "3",
                                   "THROTTLE_LOCKOUT_SECONDS": "300",
                                   "THROTTLE_LOCKOUT_MAX_SECONDS": "300"})
    user, secret, codes = with_totp(srv)
    # A complete sign-in forgets the count.
    r = login_mfa(srv, mfa_token(srv, user), recovery_code=codes[0])
    assert r.status_code == 200, r.text
    tok = mfa_token(srv, user)  # counted until the second factor
    bad = wrong_code(secret)
    # The password counted one; two more are free, the next locks.
    statuses = [login_mfa(srv, tok, code=bad).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429], statuses
    r = login_mfa(srv, tok, recovery_code=codes[1])
    assert assert_problem(r, 429) and int(r.headers["Retry-After"]) > 0
    r = srv.login(user["username"], user["password"])
    assert assert_problem(r, 429) and int(r.headers["Retry-After"]) > 0
    # Logging in again and again does not win back free guesses.
    other, _, _ = with_totp(srv)
    statuses = [srv.login(other["username"], other["password"]).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 200, 429], statuses


def test_cookies_only_with_the_session(make_server):
    srv = own_server(make_server, COOKIE_ENV)
    user, _, codes = with_totp(srv)
    r = srv.login(user["username"], user["password"])
    assert r.status_code == 200 and r.json()["mfa_required"] is True, r.text
    assert "Set-Cookie" not in r.headers, r.headers
    r = login_mfa(srv, r.json()["mfa_token"], recovery_code=codes[0])
    assert r.status_code == 200, r.text
    cookies = r.headers.get("Set-Cookie", "")
    assert "access_token=" in cookies and "refresh_token=" in cookies, r.headers
    # A cross-site form cannot finish a sign-in into the victim's browser.
    r = srv.post_json("/login/mfa", {"mfa_token": mfa_token(srv, user),
                                     "recovery_code": codes[1]},
                      headers={"Origin": "https://evil.example"})
    assert_problem(r, 403)


def test_metrics_and_audit(make_server):
    srv = own_server(make_server)
    user, secret, codes = with_totp(srv)
    tok = mfa_token(srv, user)
    bad = wrong_code(secret)
    assert_problem(login_mfa(srv, tok, code=bad), 401)
    assert login_mfa(srv, tok, recovery_code=codes[0]).status_code == 200
    assert_problem(login_mfa(srv, "A" * 43, code=bad), 401)
    text = srv.get("/metrics").text
    assert "# TYPE gatehouse_mfa_attempts_total counter" in text

    def sample(method, outcome):
        m = re.search(r'^gatehouse_mfa_attempts_total\{method="%s",outcome="%s"\} (\d+)$'
                      % (method, outcome), text, re.M)
        assert m, (method, outcome)
        return int(m.group(1))

    assert sample("totp", "wrong") == 1
    assert sample("recovery_code", "ok") == 1
    assert sample("totp", "expired") == 1
    assert sample("webauthn", "ok") == 0
    assert re.search(r'^gatehouse_logins_total\{outcome="mfa_required"\} [1-9]', text, re.M)
    log = srv.stderr()
    assert "login.mfa_required" in log
    events = [line for line in log.splitlines() if "login.mfa" in line and "required" not in line]
    assert len(events) == 3, events
    assert any("recovery_code" in e and "ok" in e for e in events), events
    # Never a code.
    for secret_text in (bad, codes[0], codes[0].replace("-", "")):
        assert not re.search(r"\b%s\b" % re.escape(secret_text), log), secret_text
    assert tok not in log


# ------------------------------------------------------------------ step-up
def step_up_cases(server, user, secret, codes):
    """(method, path, body) of each change that needs the second factor."""
    return [
        ("PUT", "/me/password", {"current_password": user["password"],
                                 "new_password": user["password"] + "-2"}),
        ("PUT", "/me/email", {"email": f"{user['username']}@example.org",
                              "password": user["password"]}),
        ("DELETE", "/me", {"password": user["password"]}),
    ]


@pytest.mark.parametrize("which", ["password", "email", "delete"])
def test_step_up(make_server, which, tmp_path):
    env = None
    if which == "email":
        # PUT /me/email needs mail; an SMTP server that is never reached is
        # enough: the change answers 202 once the mail is queued.
        env = {"SMTP_URL": "smtp://127.0.0.1:9", "SMTP_STARTTLS": "off",
               "MAIL_FROM": "gatehouse <noreply@example.test>", "PUBLIC_URL": MAIL_PUBLIC_URL,
               "THROTTLE_MAIL_REQUESTS": "1000000"}
    srv = own_server(make_server, env)
    user, secret, codes = with_totp(srv)
    session = signed_in(srv, user, secret)
    method, path, body = {c[1]: c for c in step_up_cases(srv, user, secret, codes)}[
        {"password": "/me/password", "email": "/me/email", "delete": "/me"}[which]]
    auth = bearer(session["access_token"])
    r = srv.request(method, path, json=body, headers=auth)
    assert assert_problem(r, 403)["detail"] == "a second factor is required"
    r = srv.request(method, path, json={**body, "code": wrong_code(secret)}, headers=auth)
    assert assert_problem(r, 401)["detail"] == "code: invalid, used or expired"
    # A wrong password with a right code is still a wrong password.
    r = srv.request(method, path, json={**body, "recovery_code": codes[0],
                                        **({"current_password": "wrong-password-1"}
                                           if which == "password" else
                                           {"password": "wrong-password-1"})}, headers=auth)
    assert_problem(r, 401)
    # The step after now's: now's signed in, and a code is accepted once.
    r = srv.request(method, path, json={**body, "code": pyotp.TOTP(secret).at(time.time() + 30)},
                    headers=auth)
    assert r.status_code in (202, 204), r.text


# ------------------------------------------------------------------ a passkey
PASSKEY_URL = "https://auth.example.test"


def test_passkey_as_second_factor(make_server):
    srv = own_server(make_server, {"PUBLIC_URL": PASSKEY_URL})
    user = srv.new_user("pk2")
    tok = srv.token(user["username"], user["password"])
    auth = SoftAuthenticator(alg="ES256", rp_id="auth.example.test", origin=PASSKEY_URL)
    r = srv.post("/me/passkeys/options", headers=bearer(tok))
    assert r.status_code == 200, r.text
    r = srv.post_json("/me/passkeys", auth.create(r.json()), headers=bearer(tok))
    assert r.status_code == 201, r.text
    # The password now leads to the passkey, whose options come along.
    r = srv.login(user["username"], user["password"])
    assert r.status_code == 200, r.text
    step = r.json()
    assert step["mfa_required"] is True and step["methods"] == ["webauthn"], step
    assert step["webauthn"]["rpId"] == "auth.example.test"
    assert len(step["webauthn"]["allowCredentials"]) == 1, step
    # An assertion of another challenge, a bad signature, a code: refused,
    # each a wrong answer.
    other = srv.login(user["username"], user["password"]).json()
    r = login_mfa(srv, step["mfa_token"], webauthn=auth.get(other["webauthn"]))
    assert assert_problem(r, 401)["detail"] == "passkey: not accepted"
    r = login_mfa(srv, step["mfa_token"], webauthn=auth.get(step["webauthn"],
                                                           tamper_signature=True))
    assert_problem(r, 401)
    assert_problem(login_mfa(srv, step["mfa_token"], code="123456"), 401)
    r = login_mfa(srv, step["mfa_token"], webauthn=auth.get(step["webauthn"]))
    assert r.status_code == 200, r.text
    assert amr_of(r.json()["access_token"]) == ["pwd", "hwk"]
    # Used once.
    r = login_mfa(srv, step["mfa_token"], webauthn=auth.get(step["webauthn"]))
    assert_problem(r, 401)
