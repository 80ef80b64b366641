"""The sign-in pages without a browser (API.md, "Public address and pages"):
GET and POST /signin, the second-factor page, the account page with TOTP
enrolment, sign-out, and the passkey script's file. The form posts are read
and sent as a browser would: the CSRF cookie and field, no Origin but
"null" (a no-referrer page's form), redirects not followed, so that each
step's answer is checked."""
import hashlib
import re

import pytest
import requests

from gh_helpers import (
    PASSWORD,
    TEST_DATABASE_URL,
    media_type,
    unique_username,
)
from test_pages import assert_page_headers, parse

CSRF_COOKIE = "gatehouse_csrf"
TIMEOUT = 60  # seconds: hang detection only
COOKIES = {"SESSION_COOKIES": "1", "COOKIE_SECURE": "0"}


def env(**more):
    out = dict(COOKIES)
    out.update(more)
    return out


@pytest.fixture(scope="module")
def srv(make_module_server):
    if TEST_DATABASE_URL:
        return make_module_server(env=env(), database_url=TEST_DATABASE_URL)
    return make_module_server(env=env())


class Browser:
    """A requests session posting the pages' forms as a browser does."""

    def __init__(self, srv, lang=None):
        self.srv, self.s = srv, requests.Session()
        if lang:
            self.s.headers["Accept-Language"] = lang

    def get(self, path, **kw):
        return self.s.get(self.srv.url(path), allow_redirects=False, timeout=TIMEOUT, **kw)

    def post(self, path, fields, origin="null", headers=None, **kw):
        headers = dict(headers or {})
        if origin:
            headers["Origin"] = origin
        return self.s.post(self.srv.url(path), data=fields, headers=headers,
                           allow_redirects=False, timeout=TIMEOUT, **kw)

    def csrf(self):
        return self.s.cookies.get(CSRF_COOKIE)

    def signin(self, username, password=PASSWORD):
        r = self.get("/signin")
        assert r.status_code == 200, r.text
        return self.post("/signin", {"csrf": self.csrf(), "username": username,
                                     "password": password})


def error_text(resp):
    m = re.search(r'<p class="error" role="alert">([^<]*)</p>', resp.text)
    return m and m.group(1)


# ---------------------------------------------------------------- /signin
def test_signin_page_headers_and_form(srv):
    b = Browser(srv)
    r = b.get("/signin")
    assert r.status_code == 200
    page = assert_page_headers(r)
    assert set(page.inputs) == {"csrf", "username", "password"}
    assert page.inputs["password"]["type"] == "password"
    assert page.inputs["username"]["value"] == ""
    assert page.forms == [{"method": "post", "action": "signin"}]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", page.inputs["csrf"]["value"])
    assert page.inputs["csrf"]["value"] == b.csrf()
    assert "HttpOnly" in r.headers["Set-Cookie"] and "SameSite=Strict" in r.headers["Set-Cookie"]


def test_signin_page_in_russian(srv):
    r = Browser(srv, lang="ru").get("/signin")
    assert_page_headers(r, lang="ru")
    assert "Имя пользователя" in r.text and "Пароль" in r.text


def test_login_hint_prefills_escaped(srv):
    hint = "<b>al\"ice'&"
    r = Browser(srv).get("/signin", params={"login_hint": hint})
    page = assert_page_headers(r)
    assert page.inputs["username"]["value"] == hint
    assert "<b>" not in r.text
    assert 'value="&lt;b&gt;al&quot;ice&#39;&amp;"' in r.text or "&lt;b&gt;" in r.text


def test_login_hint_past_its_limit_is_left_out(srv):
    b = Browser(srv)
    assert parse(b.get("/signin", params={"login_hint": "a" * 255})).inputs["username"][
        "value"] == "a" * 255
    r = b.get("/signin", params={"login_hint": "a" * 256})
    assert r.status_code == 200
    assert parse(r).inputs["username"]["value"] == ""


def test_signin_sets_cookies_and_goes_to_account(srv):
    u = srv.new_user("sp")
    b = Browser(srv)
    r = b.signin(u["username"])
    assert r.status_code == 303, r.text
    assert r.headers["Location"] == "account"
    assert r.headers["Cache-Control"] == "no-store"
    assert b.s.cookies.get("access_token")
    assert b.s.cookies.get("refresh_token")
    # The cookie is an access token of the user, as /login's.
    me = requests.get(srv.url("/me"), headers={
        "Authorization": f"Bearer {b.s.cookies.get('access_token')}"}, timeout=TIMEOUT)
    assert me.json()["username"] == u["username"]
    acc = b.get("/account")
    assert acc.status_code == 200
    page = assert_page_headers(acc)
    assert u["username"] in page.text
    assert page.inputs["csrf"]["value"] == b.csrf()


def test_account_without_cookie_goes_to_signin(srv):
    r = Browser(srv).get("/account")
    assert r.status_code == 303
    assert r.headers["Location"] == "signin"
    assert "access_token" not in r.headers.get("Set-Cookie", "")


def test_account_with_a_bad_cookie_goes_to_signin(srv):
    b = Browser(srv)
    b.s.cookies.set("access_token", "not.a.token")
    r = b.get("/account")
    assert r.status_code == 303 and r.headers["Location"] == "signin"


def test_account_ignores_authorization_header(srv):
    """The page reads the browser's cookie only, never a bearer token."""
    u = srv.new_user("sb")
    tok = srv.login(u["username"]).json()["access_token"]
    r = Browser(srv).get("/account", headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == 303


def test_wrong_password_and_unknown_user_answer_alike(srv):
    u = srv.new_user("sw")
    b = Browser(srv)
    wrong = b.signin(u["username"], "not-the-password-1")
    unknown = b.signin(unique_username("nobody"), "not-the-password-1")
    for r in (wrong, unknown):
        assert r.status_code == 401
        # RFC 9110 §11.6.1: a challenge on every 401; the page's form is it.
        assert r.headers.get("WWW-Authenticate") == "Form"
        assert_page_headers(r)
        assert "access_token" not in r.headers.get("Set-Cookie", "")
    assert error_text(wrong) == error_text(unknown) == "The username or the password is wrong."
    # The form comes again, the name kept, the password not.
    page = parse(wrong)
    assert page.inputs["username"]["value"] == u["username"]
    assert "value" not in page.inputs["password"]
    # Apart from the name typed in, the two pages are the same bytes.
    assert wrong.text.replace(u["username"], "N") == unknown.text.replace(
        parse(unknown).inputs["username"]["value"], "N")


@pytest.mark.parametrize("csrf", [None, "", "A" * 43, "short"])
def test_signin_without_its_csrf_token_changes_nothing(make_server, csrf):
    srv = make_server(env=env(THROTTLE_ACCOUNT_FAILURES="1", THROTTLE_LOCKOUT_SECONDS="300",
                              THROTTLE_LOCKOUT_MAX_SECONDS="300"))
    u = srv.new_user("sc")
    b = Browser(srv)
    b.get("/signin")
    fields = {"username": u["username"], "password": PASSWORD}
    if csrf is not None:
        fields["csrf"] = csrf
    for _ in range(3):
        r = b.post("/signin", fields)
        assert r.status_code == 403
        assert_page_headers(r)
        assert "access_token" not in r.headers.get("Set-Cookie", "")
        assert error_text(r) == "This form has expired. Please submit it again."
        # The form again, with the token that the cookie holds.
        assert parse(r).inputs["csrf"]["value"] == b.csrf()
    # Nothing was counted: wrong passwords sent without the token would
    # have locked the account (one failure allowed), the right one works.
    for _ in range(4):
        assert b.post("/signin", {"username": u["username"],
                                  "password": "wrong-one-1"}).status_code == 403
    assert srv.login(u["username"]).status_code == 200


def test_signin_form_counts_on_the_login_throttle(make_server):
    """One code path, two doors: failures through the form lock /login."""
    srv = make_server(env=env(THROTTLE_ACCOUNT_FAILURES="2", THROTTLE_LOCKOUT_SECONDS="300",
                              THROTTLE_LOCKOUT_MAX_SECONDS="300"))
    u = srv.new_user("st")
    b = Browser(srv)
    # Two failures allowed, the third counted, then locked (as /login).
    codes = [b.signin(u["username"], "wrong-password-x").status_code for _ in range(4)]
    assert codes == [401, 401, 401, 429], codes
    r = b.signin(u["username"])
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) >= 1
    assert_page_headers(r)
    assert srv.login(u["username"]).status_code == 429


def test_signin_form_address_lock_before_the_hash(make_server):
    """The address lock of /login (api_admit) stops the form too."""
    srv = make_server(env=env(THROTTLE_ADDRESS_FAILURES="2", THROTTLE_LOCKOUT_SECONDS="300",
                              THROTTLE_LOCKOUT_MAX_SECONDS="300"))
    b = Browser(srv)
    codes = [b.signin(unique_username("spray"), "wrong-password-x").status_code
             for _ in range(5)]
    assert codes == [401, 401, 401, 429, 429], codes
    assert srv.login(srv.new_user("sl")["username"]).status_code == 429


def test_signin_form_limits(srv):
    u = srv.new_user("sm")
    b = Browser(srv)
    b.get("/signin")
    # A field sent twice: the form cannot be read.
    r = b.s.post(srv.url("/signin"), data=[("csrf", b.csrf()), ("username", u["username"]),
                                           ("username", "x"), ("password", PASSWORD)],
                 allow_redirects=False, timeout=TIMEOUT)
    assert r.status_code == 400
    assert_page_headers(r)
    # Not a form at all.
    r = b.s.post(srv.url("/signin"), json={"username": u["username"]}, timeout=TIMEOUT)
    assert r.status_code == 415
    # A malformed escape.
    r = b.s.post(srv.url("/signin"), data="csrf=%zz",
                 headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=TIMEOUT)
    assert r.status_code == 400
    # A password past the hashing limit: refused as a wrong one, no 500.
    r = b.signin(u["username"], "p" * 5000)
    assert r.status_code in (401, 413), r.status_code


def test_signin_form_with_its_own_origin(srv):
    """The form is checked by its CSRF token, not by Origin: with the token,
    a browser's real origin signs in as "null" does (the other tests)."""
    u = srv.new_user("so")
    b = Browser(srv)
    b.get("/signin")
    r = b.post("/signin", {"csrf": b.csrf(), "username": u["username"], "password": PASSWORD},
               origin=srv.base_url)
    assert r.status_code == 303


# ------------------------------------------------------------- sign-out
def test_signout_ends_the_session(srv):
    u = srv.new_user("so")
    b = Browser(srv)
    assert b.signin(u["username"]).status_code == 303
    token = b.s.cookies.get("access_token")
    r = b.post("/signout", {"csrf": b.csrf()})
    assert r.status_code == 200
    assert_page_headers(r)
    assert "You have signed out." in r.text
    cookies = r.headers["Set-Cookie"]
    assert "access_token=;" in cookies and "Max-Age=0" in cookies
    assert requests.get(srv.url("/me"), headers={"Authorization": f"Bearer {token}"},
                        timeout=TIMEOUT).status_code == 401
    assert b.get("/account").status_code == 303


def test_signout_without_csrf_changes_nothing(srv):
    u = srv.new_user("sx")
    b = Browser(srv)
    assert b.signin(u["username"]).status_code == 303
    token = b.s.cookies.get("access_token")
    r = b.post("/signout", {"scope": "local"})
    assert r.status_code == 403
    assert requests.get(srv.url("/me"), headers={"Authorization": f"Bearer {token}"},
                        timeout=TIMEOUT).status_code == 200
    assert b.get("/account").status_code == 200


def test_signin_off_without_session_cookies(make_server):
    srv = make_server(env={"COOKIE_SECURE": "0"})
    b = Browser(srv)
    for r in (b.get("/signin"), b.get("/account"),
              b.post("/signin", {"username": "a", "password": "b"})):
        assert r.status_code == 501
        assert "SESSION_COOKIES" in r.text
        assert "access_token" not in r.headers.get("Set-Cookie", "")


# -------------------------------------------------------------- script
def test_passkey_script_is_served_with_an_etag(srv):
    r = requests.get(srv.url("/pages/passkeys.js"), timeout=TIMEOUT)
    assert r.status_code == 200
    assert media_type(r) == "text/javascript"
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "public, max-age=3600"
    etag = r.headers["ETag"]
    assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
    assert "navigator.credentials.get" in r.text and "navigator.credentials.create" in r.text
    assert etag.strip('"') == hashlib.blake2b(r.content, digest_size=16).hexdigest()
    again = requests.get(srv.url("/pages/passkeys.js"), headers={"If-None-Match": etag},
                         timeout=TIMEOUT)
    assert again.status_code == 304 and again.content == b""


# ------------------------------------------------------ TOTP enrolment
def signed_in(srv, prefix):
    u = srv.new_user(prefix)
    b = Browser(srv)
    assert b.signin(u["username"]).status_code == 303
    return u, b


def enrol_totp(srv, b):
    """The account page's TOTP form, then its confirm form with a code of
    pyotp's; returns (secret, recovery codes page)."""
    import pyotp
    page = parse(b.get("/account"))
    assert "password" in page.inputs
    r = b.post("/account/totp", {"csrf": b.csrf(), "password": PASSWORD})
    assert r.status_code == 200, r.text
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', r.text).group(1)
    code = pyotp.TOTP(secret).now()
    done = b.post("/account/totp/confirm", {"csrf": b.csrf(), "code": code})
    assert done.status_code == 200, done.text
    return secret, done


def recovery_codes(resp):
    block = re.search(r'<ul class="codes" id="recovery-codes">(.*?)</ul>', resp.text, re.S)
    return re.findall(r"<li>([^<]+)</li>", block.group(1))


def test_totp_enrolment_shows_qr_secret_and_recovery_codes(srv):
    import pyotp
    u, b = signed_in(srv, "te")
    acc = b.get("/account")
    assert "Add an authenticator app" in acc.text
    r = b.post("/account/totp", {"csrf": b.csrf(), "password": PASSWORD})
    assert r.status_code == 200
    page = assert_page_headers(r)  # no-store: the page shows the secret
    assert re.search(r'<div class="qr"><svg xmlns="http://www.w3.org/2000/svg"[^>]*>', r.text)
    assert "<path" in r.text and "</svg></div>" in r.text
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', r.text).group(1)
    assert len(secret) >= 16
    assert set(page.inputs) == {"csrf", "code"}
    # A wrong code: 422, the form again, TOTP still off.
    wrong = b.post("/account/totp/confirm", {"csrf": b.csrf(), "code": "000000"
                                             if pyotp.TOTP(secret).now() != "000000" else "111111"})
    assert wrong.status_code == 422
    assert_page_headers(wrong)
    assert "code" in parse(wrong).inputs
    assert "Add an authenticator app" in b.get("/account").text
    done = b.post("/account/totp/confirm", {"csrf": b.csrf(), "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    assert_page_headers(done)
    codes = recovery_codes(done)
    assert len(codes) == 10 and len(set(codes)) == 10, codes
    acc = b.get("/account")
    assert "Codes from an authenticator app are on." in acc.text
    assert "password" not in parse(acc).inputs
    # Once on, a second enrolment is refused.
    again = b.post("/account/totp", {"csrf": b.csrf(), "password": PASSWORD})
    assert again.status_code == 409


def test_totp_confirm_form_wrong_codes_throttled(make_server):
    """The page's confirmation is POST /me/mfa/totp/confirm behind another
    door: its wrong codes count as failed logins, and a locked account gets
    429 even for the right code."""
    import time
    import pyotp
    srv = make_server(env=env(THROTTLE_ACCOUNT_FAILURES="3", THROTTLE_LOCKOUT_SECONDS="300",
                              THROTTLE_LOCKOUT_MAX_SECONDS="300"))
    u, b = signed_in(srv, "tw")
    r = b.post("/account/totp", {"csrf": b.csrf(), "password": PASSWORD})
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', r.text).group(1)
    totp = pyotp.TOTP(secret)
    near = {totp.at(time.time() + d) for d in (-60, -30, 0, 30, 60)}
    wrong = next(c for c in (f"{i:06d}" for i in range(1000000)) if c not in near)
    statuses = [b.post("/account/totp/confirm", {"csrf": b.csrf(), "code": wrong}).status_code
                for _ in range(4)]
    assert statuses[:3] == [422, 422, 422], statuses
    r = b.post("/account/totp/confirm", {"csrf": b.csrf(), "code": totp.now()})
    assert r.status_code == 429, r.status_code
    assert "Add an authenticator app" in b.get("/account").text


def test_totp_enrolment_needs_the_password(srv):
    u, b = signed_in(srv, "tp")
    r = b.post("/account/totp", {"csrf": b.csrf(), "password": "not-the-password"})
    assert r.status_code == 401
    assert_page_headers(r)
    assert error_text(r) == "The password is wrong."
    assert "<svg" not in r.text


def test_totp_forms_need_their_csrf_token_and_a_signed_in_browser(srv):
    u, b = signed_in(srv, "tc")
    r = b.post("/account/totp", {"password": PASSWORD})
    assert r.status_code == 403 and "<svg" not in r.text
    r = b.post("/account/totp", {"csrf": "A" * 43, "password": PASSWORD})
    assert r.status_code == 403 and "<svg" not in r.text
    assert b.post("/account/totp/confirm", {"code": "123456"}).status_code == 403
    # Without the session cookie: to the sign-in page, nothing started.
    anon = Browser(srv)
    anon.get("/signin")
    r = anon.post("/account/totp", {"csrf": anon.csrf(), "password": PASSWORD})
    assert r.status_code == 303 and r.headers["Location"] == "../signin"
    # A bearer token is not the browser's cookie.
    tok = srv.login(u["username"]).json()["access_token"]
    r = anon.post("/account/totp", {"csrf": anon.csrf(), "password": PASSWORD},
                  headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == 303


def test_totp_confirm_limits(srv):
    u, b = signed_in(srv, "tl")
    assert b.post("/account/totp", {"csrf": b.csrf(), "password": PASSWORD}).status_code == 200
    for code in ("", "1" * 17, "12345a"):
        r = b.post("/account/totp/confirm", {"csrf": b.csrf(), "code": code})
        assert r.status_code == 422, (code, r.status_code)
    # Nothing pending: said so.
    u2, b2 = signed_in(srv, "tn")
    r = b2.post("/account/totp/confirm", {"csrf": b2.csrf(), "code": "123456"})
    assert r.status_code == 409


# ------------------------------------------------- the second-factor page
def totp_on(srv, username):
    """TOTP turned on through the JSON API; returns (secret, recovery codes)
    and the step of the code used, so that a later code is not a replay."""
    import pyotp
    tok = srv.login(username).json()["access_token"]
    auth = {"Authorization": f"Bearer {tok}"}
    r = srv.post_json("/me/mfa/totp", {"password": PASSWORD}, headers=auth)
    assert r.status_code == 200, r.text
    secret = r.json()["secret"]
    r = srv.post_json("/me/mfa/totp/confirm", {"code": pyotp.TOTP(secret).now()}, headers=auth)
    assert r.status_code == 200, r.text
    return secret, r.json()["recovery_codes"]


def next_code(secret):
    """A code of the step after the one just used (±1 step is accepted;
    the step used at enrolment is not accepted again)."""
    import pyotp
    import time
    return pyotp.TOTP(secret).at(time.time() + 30)


def mfa_page(srv, username):
    b = Browser(srv)
    r = b.signin(username)
    assert r.status_code == 200, r.text
    assert "access_token" not in r.headers.get("Set-Cookie", "")
    return b, r


def test_second_factor_page_with_totp(srv):
    u = srv.new_user("mt")
    secret, _ = totp_on(srv, u["username"])
    b, r = mfa_page(srv, u["username"])
    page = assert_page_headers(r)
    assert set(page.inputs) == {"csrf", "mfa_token", "code", "recovery_code"}
    assert page.inputs["code"]["autocomplete"] == "one-time-code"
    assert [f["action"] for f in page.forms] == ["signin/mfa", "signin/mfa"]
    assert "passkey-mfa" not in r.text  # no passkey: no button, no script
    done = b.post("/signin/mfa", {"csrf": b.csrf(), "mfa_token": page.inputs["mfa_token"]["value"],
                                  "code": next_code(secret)})
    assert done.status_code == 303, done.text
    assert done.headers["Location"] == "../account"
    acc = b.get("/account")
    assert acc.status_code == 200 and u["username"] in acc.text
    # The session is one of a password and a code.
    import jwt
    claims = jwt.decode(b.s.cookies.get("access_token"), options={"verify_signature": False})
    assert claims["amr"] == ["pwd", "otp"]


def test_second_factor_page_with_a_recovery_code(srv):
    u = srv.new_user("mr")
    _, codes = totp_on(srv, u["username"])
    b, r = mfa_page(srv, u["username"])
    token = parse(r).inputs["mfa_token"]["value"]
    done = b.post("/signin/mfa", {"csrf": b.csrf(), "mfa_token": token, "recovery_code": codes[0]})
    assert done.status_code == 303
    assert b.get("/account").status_code == 200
    # Used once: a second sign-in with it fails.
    b2, r2 = mfa_page(srv, u["username"])
    again = b2.post("/signin/mfa", {"csrf": b2.csrf(), "recovery_code": codes[0],
                                    "mfa_token": parse(r2).inputs["mfa_token"]["value"]})
    assert again.status_code == 401


def test_wrong_codes_show_the_step_again_until_the_fifth(srv):
    u = srv.new_user("mw")
    secret, _ = totp_on(srv, u["username"])
    b, r = mfa_page(srv, u["username"])
    token = parse(r).inputs["mfa_token"]["value"]
    wrong = "000000" if next_code(secret) != "000000" else "111111"
    for i in range(4):
        r = b.post("/signin/mfa", {"csrf": b.csrf(), "mfa_token": token, "code": wrong})
        assert r.status_code == 401, (i, r.status_code)
        page = assert_page_headers(r)
        assert error_text(r) == "The code is wrong. Try again."
        assert page.inputs["mfa_token"]["value"] == token
    # The fifth ends the token: the sign-in form again, saying why.
    r = b.post("/signin/mfa", {"csrf": b.csrf(), "mfa_token": token, "code": wrong})
    assert r.status_code == 401
    assert "password" in parse(r).inputs and "mfa_token" not in parse(r).inputs
    assert "too many wrong codes" in error_text(r)
    r = b.post("/signin/mfa", {"csrf": b.csrf(), "mfa_token": token, "code": next_code(secret)})
    assert r.status_code == 401 and "access_token" not in r.headers.get("Set-Cookie", "")


def test_second_factor_form_needs_its_csrf_token(srv):
    u = srv.new_user("mc")
    secret, _ = totp_on(srv, u["username"])
    b, r = mfa_page(srv, u["username"])
    token = parse(r).inputs["mfa_token"]["value"]
    for csrf in (None, "A" * 43):
        fields = {"mfa_token": token, "code": next_code(secret)}
        if csrf:
            fields["csrf"] = csrf
        r = b.post("/signin/mfa", fields)
        assert r.status_code == 403
        assert "access_token" not in r.headers.get("Set-Cookie", "")
    # Nothing was used or counted: the token and the code still work.
    r = b.post("/signin/mfa", {"csrf": b.csrf(), "mfa_token": token, "code": next_code(secret)})
    assert r.status_code == 303


def test_second_factor_form_limits(srv):
    u = srv.new_user("ml")
    secret, _ = totp_on(srv, u["username"])
    b, r = mfa_page(srv, u["username"])
    token = parse(r).inputs["mfa_token"]["value"]
    # Both answers, or none: the form cannot be read.
    for extra in ({"code": "123456", "recovery_code": "abc"}, {}):
        r = b.post("/signin/mfa", {"csrf": b.csrf(), "mfa_token": token, **extra})
        assert r.status_code == 400
    # No token, or one past its length.
    assert b.post("/signin/mfa", {"csrf": b.csrf(), "code": "123456"}).status_code == 400
    assert b.post("/signin/mfa", {"csrf": b.csrf(), "mfa_token": "A" * 44,
                                  "code": "123456"}).status_code == 400
    # Codes past their limits: 422, the step again, not counted.
    for field, value in (("code", "1" * 17), ("recovery_code", "x" * 33)):
        r = b.post("/signin/mfa", {"csrf": b.csrf(), "mfa_token": token, field: value})
        assert r.status_code == 422
        assert parse(r).inputs["mfa_token"]["value"] == token
    r = b.post("/signin/mfa", {"csrf": b.csrf(), "mfa_token": token, "code": next_code(secret)})
    assert r.status_code == 303


# --------------------------------------------------- pages with passkeys
PK_PUBLIC_URL = "https://auth.example.test"


@pytest.fixture(scope="module")
def pk_srv(make_module_server):
    e = env(PUBLIC_URL=PK_PUBLIC_URL)
    if TEST_DATABASE_URL:
        return make_module_server(env=e, database_url=TEST_DATABASE_URL)
    return make_module_server(env=e)


def test_signin_page_has_the_passkey_button_and_its_script(pk_srv):
    r = Browser(pk_srv).get("/signin")
    assert_page_headers(r, script=True)
    assert '<script src="pages/passkeys.js" defer></script>' in r.text
    assert 'id="passkey-signin"' in r.text and 'data-base=""' in r.text


def test_second_factor_page_carries_the_passkey_options(pk_srv):
    """The options of the step's challenge reach the script as an escaped
    data- attribute; answered by a software authenticator through POST
    /login/mfa, as the script does, they sign the browser in."""
    import html
    import json
    from softauthn import SoftAuthenticator
    u = pk_srv.new_user("mp")
    tok = pk_srv.login(u["username"]).json()["access_token"]
    auth = SoftAuthenticator(rp_id="auth.example.test", origin=PK_PUBLIC_URL)
    opts = pk_srv.post("/me/passkeys/options", headers={"Authorization": f"Bearer {tok}"})
    assert opts.status_code == 200, opts.text
    r = pk_srv.post_json("/me/passkeys", auth.create(opts.json()),
                         headers={"Authorization": f"Bearer {tok}"})
    assert r.status_code == 201, r.text
    b, r = mfa_page(pk_srv, u["username"])
    assert_page_headers(r, script=True)
    page = parse(r)
    assert "code" not in page.inputs  # no TOTP: no code form
    m = re.search(r'<div class="passkey" id="passkey-mfa" data-base="" '
                  r'data-account="account" data-mfa-token="([A-Za-z0-9_-]+)" '
                  r'data-options="([^"]*)" hidden>', r.text)
    assert m, r.text
    assert "&quot;" in m.group(2) and '"' not in m.group(2)
    options = json.loads(html.unescape(m.group(2)))
    assert options["challenge"] and options["allowCredentials"]
    answer = b.s.post(pk_srv.url("/login/mfa"), json={"mfa_token": m.group(1),
                                                       "webauthn": auth.get(options)},
                      headers={"Origin": PK_PUBLIC_URL}, timeout=TIMEOUT)
    assert answer.status_code == 200, answer.text
    assert b.get("/account").status_code == 200
