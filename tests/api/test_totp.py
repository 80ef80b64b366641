"""TOTP and recovery codes (API.md, "TOTP and recovery codes"): enrolment,
confirmation, the step-up of DELETE /me/mfa/totp and POST /me/mfa/recovery-codes.

Codes come from two implementations that are not gatehouse's: oathtool (the
command line of oath-toolkit) and pyotp. The server's clock decides the
step, so a test that depends on which step "now" is waits until the clock is
a few seconds away from a step's edge first (a wait, not a timed assertion).
"""
import base64
import json
import re
import subprocess
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET

import pyotp

from gh_helpers import PASSWORD, assert_invalid, assert_problem, bearer

SVG_NS = "{http://www.w3.org/2000/svg}"
CODE_RE = re.compile(r"^[2-9a-hjkmnp-z]{4}-[2-9a-hjkmnp-z]{4}-[2-9a-hjkmnp-z]{4}$")
LOCK_LONG = {"THROTTLE_LOCKOUT_SECONDS": "300", "THROTTLE_LOCKOUT_MAX_SECONDS": "300"}


# ------------------------------------------------------------------ helpers
def away_from_edge():
    """Waits until the clock is at least 2 s past the start of its 30 s step
    and 8 s before its end, so that the step a code was made for is the
    server's too for the few requests that follow (slow builds included)."""
    while not 2 <= time.time() % 30 <= 22:
        time.sleep(0.5)


def oathtool(secret, at=None):
    args = ["oathtool", "--totp", "-b", secret]
    if at is not None:
        args += ["--now", time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at))]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def token_of(server, user):
    return server.token(user["username"], user["password"])


def enrol(server, tok, password=PASSWORD):
    r = server.post_json("/me/mfa/totp", {"password": password}, headers=bearer(tok))
    assert r.status_code == 200, r.text
    assert "no-store" in r.headers.get("Cache-Control", ""), r.headers
    return r.json()


def confirm(server, tok, code):
    return server.post_json("/me/mfa/totp/confirm", {"code": code}, headers=bearer(tok))


def regenerate(server, tok, **body):
    body.setdefault("password", PASSWORD)
    return server.post_json("/me/mfa/recovery-codes", body, headers=bearer(tok))


def disable(server, tok, **body):
    body.setdefault("password", PASSWORD)
    return server.request("DELETE", "/me/mfa/totp", json=body, headers=bearer(tok))


def wrong_code(secret):
    """A code none of the three steps around now has."""
    t = pyotp.TOTP(secret)
    now = time.time()
    taken = {t.at(now + d) for d in (-60, -30, 0, 30, 60)}
    return next(c for c in (f"{i:06d}" for i in range(1000000)) if c not in taken)


def with_totp(server, user):
    """user's token, its TOTP on (confirmed with the code of now), the secret
    and the first recovery codes."""
    tok = token_of(server, user)
    secret = enrol(server, tok)["secret"]
    away_from_edge()
    r = confirm(server, tok, pyotp.TOTP(secret).now())
    assert r.status_code == 200, r.text
    return tok, secret, r.json()["recovery_codes"]


# ------------------------------------------------------------------ enrolment
def test_enrol_gives_secret_uri_and_qr(server, user):
    tok = token_of(server, user)
    s = enrol(server, tok)
    assert re.fullmatch(r"[A-Z2-7]{32}", s["secret"]), s["secret"]
    assert len(base64.b32decode(s["secret"])) == 20
    # The Key Uri Format, read by pyotp and by hand.
    t = pyotp.parse_uri(s["otpauth_uri"])
    assert isinstance(t, pyotp.TOTP)
    assert t.secret == s["secret"] and t.digits == 6 and t.interval == 30
    assert t.issuer == "gatehouse" and t.name == user["username"]
    u = urllib.parse.urlsplit(s["otpauth_uri"])
    assert (u.scheme, u.netloc) == ("otpauth", "totp")
    assert urllib.parse.unquote(u.path) == f"/gatehouse:{user['username']}"
    q = urllib.parse.parse_qs(u.query, strict_parsing=True)
    assert q == {"secret": [s["secret"]], "issuer": ["gatehouse"], "algorithm": ["SHA1"],
                 "digits": ["6"], "period": ["30"]}
    assert "=" not in q["secret"][0]


def test_qr_is_plain_svg(server, user):
    svg = enrol(server, token_of(server, user))["qr_svg"]
    assert svg.startswith("<svg ") and svg.endswith("</svg>")
    low = svg.lower()
    for bad in ("<script", "href", "javascript:", "url(", "<style", "<foreignobject", "<image"):
        assert bad not in low, bad
    root = ET.fromstring(svg)
    assert root.tag == SVG_NS + "svg"
    assert root.get("shape-rendering") == "crispEdges"
    tags = [e.tag for e in root.iter()]
    assert tags.count(SVG_NS + "path") == 1, tags
    assert set(tags) <= {SVG_NS + t for t in ("svg", "rect", "path")}, tags
    for e in root.iter():
        assert not [a for a in e.attrib if a.lower().startswith("on")], e.attrib
    # A square viewBox in modules: a QR symbol (21 + 4k modules) and the
    # 4-module quiet zone on each side.
    x, y, w, h = (int(v) for v in root.get("viewBox").split())
    assert (x, y) == (0, 0) and w == h and (w - 8 - 21) % 4 == 0 and w - 8 <= 177


def test_issuer_is_public_url_host(make_server):
    srv = make_server(env={"PUBLIC_URL": "https://auth.example.test:8443"})
    u = srv.new_user()
    s = enrol(srv, token_of(srv, u))
    t = pyotp.parse_uri(s["otpauth_uri"])
    assert t.issuer == "auth.example.test" and t.name == u["username"]


def test_enrol_needs_the_password(server, user):
    tok = token_of(server, user)
    r = server.post_json("/me/mfa/totp", {"password": "not the password"}, headers=bearer(tok))
    assert_problem(r, 401)
    assert_invalid(server.post_json("/me/mfa/totp", {}, headers=bearer(tok)), "password", "missing")
    assert_problem(server.post_json("/me/mfa/totp", {"password": PASSWORD}), 401)


# ------------------------------------------------------------------ confirmation
def test_confirm_with_oathtool(server, user):
    tok = token_of(server, user)
    secret = enrol(server, tok)["secret"]
    away_from_edge()
    r = confirm(server, tok, oathtool(secret))
    assert r.status_code == 200, r.text
    assert "no-store" in r.headers.get("Cache-Control", "")
    codes = r.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(CODE_RE.match(c) for c in codes), codes
    # On now: a second enrolment is refused until it is turned off.
    assert_problem(server.post_json("/me/mfa/totp", {"password": PASSWORD}, headers=bearer(tok)), 409)


def test_confirm_with_pyotp(server, user):
    tok = token_of(server, user)
    secret = enrol(server, tok)["secret"]
    away_from_edge()
    # pyotp and oathtool agree on the code of now (two implementations).
    assert pyotp.TOTP(secret).now() == oathtool(secret)
    r = confirm(server, tok, pyotp.TOTP(secret).now())
    assert r.status_code == 200, r.text


def test_wrong_code_is_422_and_nothing_changes(server, user):
    tok = token_of(server, user)
    secret = enrol(server, tok)["secret"]
    away_from_edge()
    assert_invalid(confirm(server, tok, wrong_code(secret)), "code", "wrong_code")
    # TOTP stayed off: the account has no second factor to regenerate for.
    assert_problem(regenerate(server, tok), 404)
    assert confirm(server, tok, pyotp.TOTP(secret).now()).status_code == 200


def test_a_new_enrolment_replaces_the_pending_secret(server, user):
    tok = token_of(server, user)
    first = enrol(server, tok)["secret"]
    second = enrol(server, tok)["secret"]
    assert first != second
    away_from_edge()
    assert_invalid(confirm(server, tok, pyotp.TOTP(first).now()), "code", "wrong_code")
    assert confirm(server, tok, pyotp.TOTP(second).now()).status_code == 200


def test_confirm_without_enrolment_is_404(server, user):
    assert_problem(confirm(server, token_of(server, user), "123456"), 404)


# ------------------------------------------------------------------ steps and replay
def test_replayed_code_refused(server, user):
    tok = token_of(server, user)
    secret = enrol(server, tok)["secret"]
    away_from_edge()
    code = pyotp.TOTP(secret).now()
    assert confirm(server, tok, code).status_code == 200
    # The same code again, at once (its window is still open): refused.
    assert_problem(regenerate(server, tok, code=code), 401)
    # The next step's code is accepted once; then neither it nor the
    # earlier one.
    later = pyotp.TOTP(secret).at(time.time() + 30)
    assert regenerate(server, tok, code=later).status_code == 200
    assert_problem(regenerate(server, tok, code=later), 401)
    assert_problem(regenerate(server, tok, code=code), 401)


def test_steps_before_and_after_accepted(server, user):
    tok = token_of(server, user)
    secret = enrol(server, tok)["secret"]
    t = pyotp.TOTP(secret)
    away_from_edge()
    now = time.time()
    # The step before confirms, then now's and the next step's work in turn.
    assert confirm(server, tok, t.at(now - 30)).status_code == 200
    assert regenerate(server, tok, code=t.at(now)).status_code == 200
    assert regenerate(server, tok, code=oathtool(secret, now + 30)).status_code == 200
    # Two steps ahead is outside the window.
    assert_problem(regenerate(server, tok, code=t.at(now + 60)), 401)


def test_concurrent_uses_of_one_code_one_passes(server, user):
    tok, secret, _ = with_totp(server, user)
    code = pyotp.TOTP(secret).at(time.time() + 30)
    results = []

    def use():
        results.append(regenerate(server, tok, code=code).status_code)

    threads = [threading.Thread(target=use) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(results) == [200, 401, 401, 401], results


# ------------------------------------------------------------------ storage
def stored_bytes(server):
    """Everything the database holds of the TOTP and recovery-code tables,
    as bytes: the SQLite file (and its WAL) whole, or PostgreSQL's rows."""
    if server.db_path is not None:
        out = b""
        for suffix in ("", "-wal"):
            try:
                with open(str(server.db_path) + suffix, "rb") as f:
                    out += f.read()
            except FileNotFoundError:
                pass
        return out
    url = server.env["DATABASE_URL"]
    sql = ("SELECT encode(secret, 'hex') FROM totp UNION ALL "
           "SELECT encode(code_hash, 'hex') FROM recovery_codes")
    rows = subprocess.run(["psql", "-X", "-At", url, "-c", sql], check=True,
                          capture_output=True, text=True).stdout.split()
    assert rows, "no rows read from PostgreSQL"
    return b"".join(bytes.fromhex(r) for r in rows)


def test_secrets_and_codes_not_stored_in_clear(server, user):
    tok, secret, codes = with_totp(server, user)
    raw = base64.b32decode(secret)
    data = stored_bytes(server)
    assert secret.encode() not in data and secret.lower().encode() not in data
    assert raw not in data
    assert raw.hex().encode() not in data
    for c in codes:
        for form in (c, c.replace("-", ""), c.upper(), c.replace("-", "").upper()):
            assert form.encode() not in data, form


def db_rows(server, sql):
    """Rows of sql (integers only) on the server's database, either backend."""
    if server.db_path is not None:
        return server.query(sql)
    out = subprocess.run(["psql", "-X", "-At", "-F", " ", server.env["DATABASE_URL"], "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return [tuple(int(v) for v in line.split()) for line in out.splitlines()]


def test_sealed_secret_row(server, user):
    with_totp(server, user)
    uid = int(user["id"])
    rows = db_rows(server, f"SELECT length(secret), confirmed_at, last_step FROM totp "
                           f"WHERE user_id = {uid}")
    assert len(rows) == 1
    sealed, confirmed_at, last_step = rows[0]
    # nonce (24) + MAC (16) + 20 secret bytes.
    assert sealed == 60 and confirmed_at > 0
    assert last_step in (int(time.time()) // 30 + d for d in (-1, 0, 1))
    hashes = db_rows(server, f"SELECT length(code_hash) FROM recovery_codes WHERE user_id = {uid}")
    assert sorted(hashes) == [(32,)] * 10


# ------------------------------------------------------------------ recovery codes
def test_recovery_codes_single_use_and_normalised(server, user):
    tok, secret, codes = with_totp(server, user)
    # A code is used by the step-up even when the password then fails.
    assert_problem(disable(server, tok, password="not the password", recovery_code=codes[0]), 401)
    body = assert_problem(disable(server, tok, recovery_code=codes[0]), 401)
    assert body["detail"] == "code: invalid, used or expired"
    # Another of the set, typed in capitals with spaces for dashes.
    typed = codes[1].upper().replace("-", " ")
    assert disable(server, tok, recovery_code=typed).status_code == 204
    # TOTP is off: the codes went with it.
    assert_problem(regenerate(server, tok), 404)


def test_regenerate_voids_the_old_set(server, user):
    tok, secret, old = with_totp(server, user)
    r = regenerate(server, tok, recovery_code=old[0])
    assert r.status_code == 200, r.text
    assert "no-store" in r.headers.get("Cache-Control", "")
    new = r.json()["recovery_codes"]
    assert len(new) == 10 and len(set(new)) == 10 and not set(new) & set(old)
    for c in old[1:4]:
        assert_problem(disable(server, tok, recovery_code=c), 401)
    assert disable(server, tok, recovery_code=new[5]).status_code == 204


# ------------------------------------------------------------------ step-up errors
def test_step_up_errors(server, user):
    tok, secret, codes = with_totp(server, user)
    body = assert_problem(disable(server, tok), 403)
    assert body["detail"] == "a second factor is required"
    assert_problem(regenerate(server, tok), 403)
    assert_problem(disable(server, tok, code=wrong_code(secret)), 401)
    assert_problem(disable(server, tok, recovery_code="aaaa-bbbb-cccc"), 401)
    assert_invalid(disable(server, tok, code=123456), "code", "wrong_type")
    assert_invalid(disable(server, tok, recovery_code=["x"]), "recovery_code", "wrong_type")
    assert_invalid(disable(server, tok, code="123456", recovery_code=codes[0]), "recovery_code",
            "conflicting")
    assert_invalid(disable(server, tok, code=pyotp.TOTP(secret).now()[:5] + "x"), "code",
            "invalid_characters")
    assert_invalid(disable(server, tok, code="1" * 17), "code", "too_long")
    assert_invalid(disable(server, tok, code=""), "code", "empty")
    assert_invalid(disable(server, tok, recovery_code="a" * 33), "recovery_code", "too_long")
    assert_invalid(disable(server, tok, code="123456", password=None), "password", "missing")
    # The right code still works after all that: nothing was used up.
    later = pyotp.TOTP(secret).at(time.time() + 30)
    assert disable(server, tok, code=later).status_code == 204


def test_confirm_limits(server, user):
    tok = token_of(server, user)
    enrol(server, tok)
    assert_invalid(confirm(server, tok, "1" * 17), "code", "too_long")
    assert_invalid(confirm(server, tok, "12 456"), "code", "invalid_characters")
    assert_invalid(confirm(server, tok, "１２３"), "code", "invalid_characters")
    assert_invalid(confirm(server, tok, "１２３４５６"), "code", "too_long")  # 18 bytes
    assert_invalid(confirm(server, tok, ""), "code", "empty")
    assert_invalid(confirm(server, tok, 123456), "code", "wrong_type")
    assert_invalid(server.post_json("/me/mfa/totp/confirm", {}, headers=bearer(tok)), "code", "missing")


def test_wrong_codes_throttled(make_server):
    srv = make_server(env={"THROTTLE_ACCOUNT_FAILURES": "3", **LOCK_LONG})
    u = srv.new_user()
    tok, secret, codes = with_totp(srv, u)
    statuses = [disable(srv, tok, code=wrong_code(secret)).status_code for _ in range(5)]
    assert statuses[:4] == [401, 401, 401, 401] and statuses[4] == 429, statuses
    # Locked: the right code, a recovery code and the password all get 429.
    r = disable(srv, tok, code=pyotp.TOTP(secret).at(time.time() + 30))
    assert_problem(r, 429)
    assert re.fullmatch(r"\d+", r.headers.get("Retry-After", "")), r.headers
    assert_problem(disable(srv, tok, recovery_code=codes[0]), 429)
    assert_problem(srv.login(u["username"], u["password"]), 429)


def test_enrolment_with_totp_on_forgets_no_failures(make_server):
    """A new enrolment while TOTP is on is refused before its password is
    looked at: a right password forgets the account's failed logins, which
    would let a caller with the password but no code wipe the count of its
    wrong step-up codes between guesses, as often as it liked."""
    srv = make_server(env={"THROTTLE_ACCOUNT_FAILURES": "3", **LOCK_LONG})
    u = srv.new_user()
    tok, secret, _ = with_totp(srv, u)
    for _ in range(2):
        assert_problem(disable(srv, tok, code=wrong_code(secret)), 401)
    r = srv.post_json("/me/mfa/totp", {"password": PASSWORD}, headers=bearer(tok))
    assert_problem(r, 409)
    statuses = [disable(srv, tok, code=wrong_code(secret)).status_code for _ in range(3)]
    assert statuses == [401, 401, 429], statuses


# ------------------------------------------------------------------ keys
def test_no_key_is_501(make_server, tmp_path):
    key = tmp_path / "ed.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "ED25519", "-out", str(key)],
                   check=True, capture_output=True)
    key.chmod(0o600)
    env = {"ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY_FILE": str(key), "SECRET_KEY": None}
    srv = make_server(env=env)
    assert srv.stderr_shows("MFA_ENCRYPTION_KEY")
    u = srv.new_user()
    r = srv.post_json("/me/mfa/totp", {"password": PASSWORD}, headers=bearer(token_of(srv, u)))
    body = assert_problem(r, 501)
    assert "MFA_ENCRYPTION_KEY" in body["detail"]
    # With MFA_ENCRYPTION_KEY it works.
    srv2 = make_server(env={**env, "MFA_ENCRYPTION_KEY": "k" * 32})
    u2 = srv2.new_user()
    tok = token_of(srv2, u2)
    secret = enrol(srv2, tok)["secret"]
    away_from_edge()
    assert confirm(srv2, tok, pyotp.TOTP(secret).now()).status_code == 200


def test_short_mfa_key_refused(run_gatehouse):
    res = run_gatehouse(env={"MFA_ENCRYPTION_KEY": "x" * 31})
    assert res.returncode == 2, (res.returncode, res.stderr)
    assert "MFA_ENCRYPTION_KEY: must be at least 32 bytes, got 31" in res.stderr


def test_secret_key_change_keeps_mfa_key_secrets(make_server, tmp_path):
    """With MFA_ENCRYPTION_KEY, the secrets survive a new SECRET_KEY."""
    db = tmp_path / "gh.db"
    env = {"MFA_ENCRYPTION_KEY": "m" * 40}
    srv = make_server(env=env, db_path=db)
    u = srv.new_user()
    tok, secret, codes = with_totp(srv, u)
    srv.stop()
    srv2 = make_server(env={**env, "SECRET_KEY": "s" * 40}, db_path=db)
    r = srv2.login(u["username"], u["password"])
    assert r.status_code == 200, r.text
    later = pyotp.TOTP(secret).at(time.time() + 30)
    if "mfa_token" in r.json():
        # The sign-in's second step (API.md), where it is served: the code
        # opens under MFA_ENCRYPTION_KEY there too.
        r = srv2.post_json("/login/mfa", {"mfa_token": r.json()["mfa_token"], "code": later})
        assert r.status_code == 200, r.text
        tok2 = r.json()["access_token"]
        assert regenerate(srv2, tok2, recovery_code=codes[0]).status_code == 200
    else:
        tok2 = r.json()["access_token"]
        assert regenerate(srv2, tok2, code=later).status_code == 200
    assert json.loads(srv2.me(tok2).text)["username"] == u["username"]


# ------------------------------------------------------------------ browsers and logs
def test_cookie_requests_need_an_allowed_origin(make_server):
    """The account page posts these with the session cookie: the Origin
    check of cookie-authenticated changes applies to each of them."""
    allowed = "https://app.example.test"
    srv = make_server(env={"SESSION_COOKIES": "1", "ALLOWED_ORIGINS": allowed})
    u = srv.new_user()
    r = srv.login(u["username"], u["password"])
    assert r.status_code == 200, r.text
    jar = {"access_token": r.json()["access_token"]}
    for origin in (None, "https://evil.example.test"):
        headers = {} if origin is None else {"Origin": origin}
        for method, path, body in (("POST", "/me/mfa/totp", {"password": PASSWORD}),
                                   ("POST", "/me/mfa/totp/confirm", {"code": "123456"}),
                                   ("DELETE", "/me/mfa/totp", {"password": PASSWORD}),
                                   ("POST", "/me/mfa/recovery-codes", {"password": PASSWORD})):
            r = srv.request(method, path, json=body, headers=headers, cookies=jar)
            assert_problem(r, 403)
    r = srv.post_json("/me/mfa/totp", {"password": PASSWORD}, headers={"Origin": allowed},
                      cookies=jar)
    assert r.status_code == 200, r.text
    secret = r.json()["secret"]
    away_from_edge()
    r = srv.post_json("/me/mfa/totp/confirm", {"code": pyotp.TOTP(secret).now()},
                      headers={"Origin": allowed}, cookies=jar)
    assert r.status_code == 200, r.text


def test_audit_events_without_secrets(make_server):
    srv = make_server()
    u = srv.new_user()
    tok, secret, codes = with_totp(srv, u)
    assert_problem(disable(srv, tok, code=wrong_code(secret)), 401)
    r = regenerate(srv, tok, recovery_code=codes[0])
    assert r.status_code == 200, r.text
    new = r.json()["recovery_codes"]
    assert disable(srv, tok, recovery_code=new[0]).status_code == 204
    for event in ("mfa.totp_enrolment_started", "mfa.totp_enabled", "mfa.step_up_failed",
                  "mfa.recovery_codes_regenerated", "mfa.totp_disabled"):
        assert srv.stderr_shows(event), event
    log = srv.stderr() + srv.stdout()
    assert secret not in log and secret.lower() not in log
    for c in codes + new:
        assert c not in log and c.replace("-", "") not in log, c


def test_wrong_confirmation_codes_throttled(make_server):
    srv = make_server(env={"THROTTLE_ACCOUNT_FAILURES": "3", **LOCK_LONG})
    u = srv.new_user()
    tok = token_of(srv, u)
    secret = enrol(srv, tok)["secret"]
    away_from_edge()
    for _ in range(4):
        assert_invalid(confirm(srv, tok, wrong_code(secret)), "code", "wrong_code")
    r = confirm(srv, tok, pyotp.TOTP(secret).now())
    assert_problem(r, 429)
    assert re.fullmatch(r"\d+", r.headers.get("Retry-After", "")), r.headers
