"""GET /verify judging the original request by the access rules (API.md,
"Administration, roles and access rules"): the servers run with
ACCESS_RULES_FILE and TRUSTED_PROXIES=127.0.0.1/32, and the tests send the
headers a proxy would (X-Forwarded-*, X-Original-URL, X-Original-URI)
themselves. Then ?rd=1 and the sign-in page's return to the original URL,
with the open-redirect attempts it must refuse."""
import json
import re
import urllib.parse

import pyotp
import pytest
import requests

from gh_helpers import (PASSWORD, TEST_DATABASE_URL, assert_common_headers, assert_problem,
                        assert_www_authenticate, bearer, run_gatehouse)
from test_signin_pages import CSRF_COOKIE, TIMEOUT
from test_mfa_login import away_from_edge, with_totp

PUBLIC_URL = "http://auth.example.test"
RULES = [
    {"hosts": ["open.example.test"], "policy": "public"},
    {"hosts": ["*.wild.example.test"], "policy": "public"},
    {"hosts": ["closed.example.test"], "policy": "deny"},
    {"paths": ["/public/"], "policy": "public"},
    {"paths": ["/files/*.txt"], "policy": "public"},
    {"paths": ["/admin/"], "policy": "deny"},
    {"paths": ["/ops/"], "roles": ["ops"], "policy": "authenticated"},
    {"paths": ["/secure/"], "policy": "two_factor"},
    {"methods": ["DELETE"], "policy": "deny"},
    {"hosts": ["api.example.test"], "methods": ["GET"], "policy": "public"},
]
APP = "app.example.test"


def rules_env(tmp_path_factory, rules=RULES, **more):
    path = tmp_path_factory.mktemp("rules") / "rules.json"
    path.write_text(json.dumps(rules, indent=1))
    env = {"ACCESS_RULES_FILE": str(path), "TRUSTED_PROXIES": "127.0.0.1/32",
           "SESSION_COOKIES": "1", "COOKIE_SECURE": "0", "PUBLIC_URL": PUBLIC_URL}
    env.update(more)
    return env


def start(make_module_server, env):
    if TEST_DATABASE_URL:
        return make_module_server(env=env, database_url=TEST_DATABASE_URL)
    return make_module_server(env=env)


@pytest.fixture(scope="module")
def srv(make_module_server, tmp_path_factory):
    return start(make_module_server, rules_env(tmp_path_factory))


@pytest.fixture(scope="module")
def alice(srv):
    u = srv.new_user("RulesUser")
    u["token"] = srv.token(u["username"])
    return u


@pytest.fixture(scope="module")
def ops(srv, tmp_path_factory):
    u = srv.new_user("RulesOps")
    # Roles are read at every sign-in (the token made after carries them).
    for role in ("ops", "audit"):
        p = run_gatehouse(tmp_path_factory.mktemp("cli"), ["users", "roles", u["username"], "add",
                                                           role],
                          env={"DATABASE_URL": srv.env["DATABASE_URL"]})
        assert p.returncode == 0, p.stderr
    u["token"] = srv.token(u["username"])
    return u


# What a browser sends when it navigates: ?rd=1 redirects only such a request.
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def browser(headers):
    return dict(headers, **HTML)


def fwd(method="GET", proto="https", host=APP, uri="/"):
    h = {"X-Forwarded-Method": method, "X-Forwarded-Proto": proto, "X-Forwarded-Host": host,
         "X-Forwarded-Uri": uri}
    return {k: v for k, v in h.items() if v is not None}


def verify(srv, token=None, headers=None, path="/verify", cookie=None):
    h = dict(headers or {})
    if token:
        h.update(bearer(token))
    return srv.get(path, headers=h, cookies=cookie, allow_redirects=False)


def assert_allowed(r, user=None):
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert_common_headers(r)
    if user is None:
        assert not [k for k in r.headers if k.lower().startswith("x-auth-")], r.headers
    else:
        assert r.headers["X-Auth-User-Id"] == str(user["id"])
        assert r.headers["X-Auth-Username"] == user["username"]


def assert_401(r, invalid_token=False):
    assert_problem(r, 401)
    assert_www_authenticate(r, invalid_token)


# ------------------------------------------------------------- policies
def test_authenticated_by_default(srv, alice):
    assert_401(verify(srv, headers=fwd(uri="/anything")))
    r = verify(srv, alice["token"], fwd(uri="/anything"))
    assert_allowed(r, alice)
    assert "X-Auth-Roles" not in r.headers
    assert r.headers["X-Auth-Amr"] == "pwd"
    assert "X-Auth-Email" not in r.headers
    # The cookie, as before.
    assert_allowed(verify(srv, headers=fwd(uri="/x"), cookie={"access_token": alice["token"]}),
                   alice)


def test_public_needs_no_token(srv, alice):
    assert_allowed(verify(srv, headers=fwd(uri="/public/page?x=1")))
    # With one the user is named all the same.
    assert_allowed(verify(srv, alice["token"], fwd(uri="/public/page")), alice)
    # An invalid, expired or revoked token counts as none: allowed where
    # anyone is, the usual 401 elsewhere.
    assert_allowed(verify(srv, "not.a.token", fwd(uri="/public/")))
    assert_401(verify(srv, "not.a.token", fwd(uri="/private")), invalid_token=True)


def test_revoked_token_counts_as_none(srv):
    u = srv.new_user("RulesRevoked")
    tok = srv.token(u["username"])
    assert srv.post("/logout", headers=bearer(tok)).status_code == 204
    assert_allowed(verify(srv, tok, fwd(uri="/public/")))
    assert_401(verify(srv, tok, fwd(uri="/private")), invalid_token=True)


def test_deny_whoever_asks(srv, alice, ops):
    for tok in (None, alice["token"], ops["token"]):
        r = verify(srv, tok, fwd(uri="/admin/users"))
        assert_problem(r, 403)
        assert "X-Auth-User-Id" not in r.headers
        assert_problem(verify(srv, tok, fwd(host="closed.example.test", uri="/public/")), 403)


def test_roles(srv, alice, ops):
    assert_401(verify(srv, headers=fwd(uri="/ops/")))
    assert_problem(verify(srv, alice["token"], fwd(uri="/ops/deploy")), 403)
    r = verify(srv, ops["token"], fwd(uri="/ops/deploy"))
    assert_allowed(r, ops)
    assert r.headers["X-Auth-Roles"] == "audit,ops"


def test_two_factor(srv, alice):
    assert_401(verify(srv, headers=fwd(uri="/secure/")))
    # Signed in with a password alone: not enough.
    assert_problem(verify(srv, alice["token"], fwd(uri="/secure/")), 403)
    u, secret, _ = with_totp(srv, srv.new_user("RulesTotp"))
    away_from_edge()
    step = srv.login(u["username"]).json()
    r = srv.post_json("/login/mfa", {"mfa_token": step["mfa_token"],
                                     "code": pyotp.TOTP(secret).now()})
    assert r.status_code == 200, r.text
    r = verify(srv, r.json()["access_token"], fwd(uri="/secure/x"))
    assert_allowed(r, u)
    assert r.headers["X-Auth-Amr"] == "pwd,otp"


def test_methods(srv, alice):
    assert_allowed(verify(srv, alice["token"], fwd(method="POST", uri="/x")), alice)
    assert_problem(verify(srv, alice["token"], fwd(method="DELETE", uri="/x")), 403)
    # A rule for GET only on this host: public for GET, not for POST.
    assert_allowed(verify(srv, headers=fwd(host="api.example.test", uri="/v1")))
    assert_401(verify(srv, headers=fwd(method="POST", host="api.example.test", uri="/v1")))
    # The method is compared in upper case: "get" is GET and "delete" is
    # DELETE, as an application that reads methods so would serve them.
    assert_allowed(verify(srv, headers=fwd(method="get", host="api.example.test", uri="/v1")))
    assert_problem(verify(srv, alice["token"], fwd(method="delete", uri="/x")), 403)


def test_hosts_and_wildcards(srv):
    assert_allowed(verify(srv, headers=fwd(host="open.example.test", uri="/any")))
    # Case and port do not matter.
    assert_allowed(verify(srv, headers=fwd(host="OPEN.Example.TEST:8443", uri="/any")))
    assert_allowed(verify(srv, headers=fwd(host="a.wild.example.test", uri="/any")))
    assert_allowed(verify(srv, headers=fwd(host="b.a.wild.example.test", uri="/any")))
    # Not the domain itself, nor a look-alike.
    assert_401(verify(srv, headers=fwd(host="wild.example.test", uri="/any")))
    assert_401(verify(srv, headers=fwd(host="evilwild.example.test", uri="/any")))
    assert_401(verify(srv, headers=fwd(host="open.example.test.evil", uri="/any")))


def test_globs(srv):
    assert_allowed(verify(srv, headers=fwd(uri="/files/a.txt")))
    assert_401(verify(srv, headers=fwd(uri="/files/sub/a.txt")))
    assert_401(verify(srv, headers=fwd(uri="/files/a.txt.exe")))


@pytest.mark.parametrize("uri", [
    "/public/../admin/x",
    "/public/%2e%2e/admin/x",
    "/public/%2E%2E/admin/x",
    "/public/.%2e/admin/x",
    "/public/./../admin/x",
    "//admin/x",
    "/./admin/x",
    "/%61dmin/x",
    "/public%2f..%2fadmin/x",
    "/public/..%2fadmin/x",
    "/public/..%5cadmin/x",
    "/admin%00/x",
    "/public/%zz",
    "/../admin/x",
])
def test_path_normalisation_bypass(srv, alice, uri):
    # Each is /admin/ to some server behind the proxy, or not a path the
    # rules can judge: denied, never the public rule's 204.
    assert_problem(verify(srv, alice["token"], fwd(uri=uri)), 403)
    assert_problem(verify(srv, headers=fwd(uri=uri)), 403)


def test_public_prefix_is_not_a_string_prefix(srv):
    assert_401(verify(srv, headers=fwd(uri="/publicity")))
    assert_401(verify(srv, headers=fwd(uri="/public")))


def test_original_url_and_uri(srv, alice):
    assert_allowed(verify(srv, headers={"X-Original-URL": "https://open.example.test/x"}))
    assert_problem(verify(srv, alice["token"],
                          {"X-Original-URL": f"https://{APP}:8443/admin/?q=1"}), 403)
    # X-Original-URL alone decides scheme, host and path.
    assert_problem(verify(srv, headers={"X-Original-URL": f"http://{APP}/admin/",
                                        "X-Forwarded-Uri": "/public/",
                                        "X-Forwarded-Host": "open.example.test"}), 403)
    # X-Original-URI (nginx): the host from X-Forwarded-Host, else Host.
    assert_allowed(verify(srv, headers={"X-Original-URI": "/public/a"}))
    assert_allowed(verify(srv, headers={"X-Original-URI": "/a",
                                        "X-Forwarded-Host": "open.example.test"}))
    assert_allowed(verify(srv, headers={"X-Original-URI": "/a", "Host": "open.example.test"}))
    assert_problem(verify(srv, headers={"X-Original-URI": "/admin/"}), 403)
    # X-Forwarded-Uri wins over X-Original-URI.
    assert_problem(verify(srv, headers={"X-Forwarded-Uri": "/admin/",
                                        "X-Original-URI": "/public/"}), 403)


@pytest.mark.parametrize("headers", [
    {"X-Forwarded-Host": "a b.example.test"},
    {"X-Forwarded-Host": "good.example.test@evil.example.test"},
    {"X-Forwarded-Host": "a.example.test:99999999"},
    {"X-Forwarded-Host": "a%2eexample.test"},
    {"X-Forwarded-Host": "x" * 254},
    {"X-Forwarded-Proto": "ftp"},
    {"X-Forwarded-Method": "G(E)T"},
    {"X-Forwarded-Method": "G" * 33},
    {"X-Forwarded-Uri": "public/"},
    {"X-Forwarded-Uri": "/" + "a" * 8192},
    {"X-Original-URL": "https://good.example.test@open.example.test/"},
    {"X-Original-URL": "javascript://open.example.test/%0aalert(1)"},
    {"X-Original-URL": "//open.example.test/"},
    {"X-Original-URL": "https://open.example.test/#x"},
    {"X-Original-URL": "https://open.example.test" + "/a" * 4400},
])
def test_malformed_or_past_limits_is_denied(srv, alice, headers):
    for tok in (None, alice["token"]):
        r = verify(srv, tok, headers)
        assert_problem(r, 403)
        assert "original request" in r.json()["detail"]


def test_limits_at_their_bounds_pass(srv, alice):
    assert_allowed(verify(srv, alice["token"], fwd(host="x" * 253, uri="/" + "a" * 8191)), alice)
    assert_allowed(verify(srv, alice["token"], fwd(method="G" * 32)), alice)


# ---------------------------------------------------- untrusted peers
def test_headers_of_an_untrusted_peer_are_ignored(make_module_server, tmp_path_factory):
    s = start(make_module_server,
              rules_env(tmp_path_factory, TRUSTED_PROXIES="10.0.0.0/8"))
    u = s.new_user("RulesUntrusted")
    tok = s.token(u["username"])
    # Judged as the /verify request itself: its Host (127.0.0.1:port), GET,
    # /verify: the default, authenticated.
    for h in (fwd(uri="/public/"), fwd(host="open.example.test"),
              {"X-Original-URL": "https://open.example.test/"},
              {"X-Original-URI": "/public/"}):
        assert_401(verify(s, headers=h))
    for h in (fwd(uri="/admin/"), fwd(method="DELETE"), fwd(host="closed.example.test"),
              {"X-Original-URL": f"https://{APP}/admin/"}, {"X-Forwarded-Host": "a b"}):
        assert_allowed(verify(s, tok, h), u)
    # Its own Host is believed: it is the request judged.
    assert_allowed(verify(s, headers={"Host": "open.example.test"}))
    # rd=1 from there builds the URL of /verify itself.
    r = verify(s, headers=HTML, path="/verify?rd=1")
    assert r.status_code == 302
    assert parse_rd(r) == f"http://127.0.0.1:{s.port}/verify"


def test_no_rules_file_is_as_before(make_module_server, tmp_path_factory):
    s = start(make_module_server, {"TRUSTED_PROXIES": "127.0.0.1/32"})
    u = s.new_user("RulesNone")
    tok = s.token(u["username"])
    assert_401(verify(s, headers=fwd(uri="/public/")))
    assert_allowed(verify(s, tok, fwd(uri="/admin/", method="DELETE")), u)
    # Without PUBLIC_URL rd=1 has nowhere to send the browser: the 401.
    assert_401(verify(s, headers=browser(fwd()), path="/verify?rd=1"))


# ----------------------------------------------------------------- rd=1
def parse_rd(r):
    loc = urllib.parse.urlsplit(r.headers["Location"])
    assert f"{loc.scheme}://{loc.netloc}" == PUBLIC_URL or loc.netloc.startswith("127.0.0.1")
    assert loc.path.endswith("/signin")
    q = urllib.parse.parse_qs(loc.query)
    assert list(q) == ["rd"]
    return q["rd"][0]


def test_rd_redirects_the_unsigned_to_the_signin_page(srv, alice):
    r = verify(srv, headers=browser(fwd(uri="/docs/a?x=1&y=%2F")), path="/verify?rd=1")
    assert r.status_code == 302, r.text
    assert r.headers["Location"] == (
        PUBLIC_URL + "/signin?rd=" + urllib.parse.quote(f"https://{APP}/docs/a?x=1&y=%2F",
                                                        safe=""))
    assert parse_rd(r) == f"https://{APP}/docs/a?x=1&y=%2F"
    assert_common_headers(r)
    # The port is kept; X-Original-URL too.
    r = verify(srv, headers=browser(fwd(proto="http", host="App.Example.Test:8080", uri="/")),
               path="/verify?rd=1")
    assert parse_rd(r) == "http://app.example.test:8080/"
    r = verify(srv, headers=browser({"X-Original-URL": f"https://{APP}/secure/"}),
               path="/verify?rd=1")
    assert parse_rd(r) == f"https://{APP}/secure/"
    # Allowed stays allowed; signed in but refused stays 403; deny stays 403.
    assert_allowed(verify(srv, alice["token"], fwd(uri="/x"), path="/verify?rd=1"), alice)
    assert_allowed(verify(srv, headers=fwd(uri="/public/"), path="/verify?rd=1"))
    assert_problem(verify(srv, alice["token"], fwd(uri="/ops/"), path="/verify?rd=1"), 403)
    assert_problem(verify(srv, headers=fwd(uri="/admin/"), path="/verify?rd=1"), 403)
    # Only rd=1 asks for it.
    assert_401(verify(srv, headers=browser(fwd(uri="/x")), path="/verify?rd=0"))
    assert_401(verify(srv, headers=browser(fwd(uri="/x")), path="/verify"))
    # And only from a browser: an API client behind the same proxy (no
    # Accept, or one without HTML) gets the 401 it can act on.
    assert_401(verify(srv, headers=fwd(uri="/x"), path="/verify?rd=1"))
    assert_401(verify(srv, headers=dict(fwd(uri="/x"), Accept="application/json"),
                      path="/verify?rd=1"))
    assert_401(verify(srv, headers=dict(fwd(uri="/x"), Accept="*/*"), path="/verify?rd=1"))


def test_the_original_request_named_twice_is_denied(srv, alice):
    """A proxy sets the one header it names the original request with; a
    second one is a client's that the proxy passed on, so neither is
    believed: 403, even for a signed-in user and a public path."""
    twice = [dict(fwd(uri="/public/"), **{"X-Original-URL": f"https://{APP}/public/"}),
             dict(fwd(uri="/public/"), **{"X-Original-URI": "/public/"}),
             {"X-Original-URI": "/public/", "X-Original-URL": f"https://{APP}/public/"}]
    for h in twice:
        assert_problem(verify(srv, headers=h), 403)
        assert_problem(verify(srv, alice["token"], h), 403)
    # Each alone is believed.
    for h in (fwd(uri="/public/"), {"X-Original-URI": "/public/", "Host": APP},
              {"X-Original-URL": f"https://{APP}/public/"}):
        assert_allowed(verify(srv, headers=h))


class Browser:
    def __init__(self, srv):
        self.srv, self.s = srv, requests.Session()

    def get(self, path):
        return self.s.get(self.srv.url(path), allow_redirects=False, timeout=TIMEOUT)

    def post(self, path, fields):
        return self.s.post(self.srv.url(path), data=fields, headers={"Origin": "null"},
                           allow_redirects=False, timeout=TIMEOUT)

    def signin_form(self, rd):
        r = self.get("/signin?rd=" + urllib.parse.quote(rd, safe=""))
        assert r.status_code == 200, r.text
        return r

    def signin(self, user, rd, extra=None):
        page = self.signin_form(rd)
        fields = {"csrf": self.s.cookies.get(CSRF_COOKIE), "username": user["username"],
                  "password": PASSWORD, "rd": rd}
        fields.update(extra or {})
        return page, self.post("/signin", fields)


def hidden_rd(page):
    m = re.search(r'<input type="hidden" name="rd" value="([^"]*)">', page.text)
    return m and m.group(1).replace("&amp;", "&")


@pytest.mark.parametrize("rd", [
    "https://open.example.test/page?x=1&y=2",
    "http://open.example.test:8080/",
    "https://b.a.wild.example.test/secure/",
    "https://closed.example.test/",  # named by a rule, even a deny
    PUBLIC_URL + "/account",
    "https://auth.example.test/x",  # PUBLIC_URL's host, any scheme and port
])
def test_signin_returns_to_rd(srv, rd):
    b = Browser(srv)
    u = srv.new_user("RulesRd")
    page, r = b.signin(u, rd)
    assert hidden_rd(page) == rd
    # The form may be posted back to that origin's redirect (form-action).
    origin = "{0.scheme}://{0.netloc}".format(urllib.parse.urlsplit(rd))
    assert origin in page.headers["Content-Security-Policy"]
    assert r.status_code == 303, r.text
    assert r.headers["Location"] == rd
    assert "no-store" in r.headers.get("Cache-Control", "")
    assert "access_token" in r.cookies


@pytest.mark.parametrize("rd", [
    f"https://{APP}/",  # a host no rule names
    "https://evil.example/",
    "//evil.example/",
    "///evil.example/",
    "https:evil.example",
    "https:/evil.example",
    "https://open.example.test@evil.example/",
    "https://evil.example\\@open.example.test/",
    "https://open.example.test\\.evil.example/",
    "https:\\\\evil.example/",
    "https://evil.example%2F@open.example.test/",
    "https://evil.example%2eopen.example.test/",
    "https://open.example.test%2F.evil.example/",
    "https%3A%2F%2Fevil.example%2F",
    "javascript:alert(1)//open.example.test/",
    "javascript://open.example.test/%0aalert(1)",
    "data:text/html,<script>alert(1)</script>",
    "ftp://open.example.test/",
    "https://evil.example/https://open.example.test/",
    "https://wild.example.test/",
    "https://open.example.test.evil.example/",
    "https://open.example.test:99999999/",
    " https://evil.example/",
    "https://open.example.test/\r\nLocation: https://evil.example/",
    "/account",
    "https://open.example.test/#frag",
])
def test_signin_refuses_open_redirects(srv, rd):
    b = Browser(srv)
    u = srv.new_user("RulesEvil")
    page, r = b.signin(u, rd)
    assert hidden_rd(page) is None
    assert "evil" not in page.headers["Content-Security-Policy"]
    assert r.status_code == 303, r.text
    assert r.headers["Location"] == "account"


def test_rd_past_its_limit_is_dropped(srv):
    b = Browser(srv)
    u = srv.new_user("RulesLong")
    b.signin_form("https://open.example.test/")
    # The path and query: at most 8192 bytes, as a request target.
    for n, where in ((8192, None), (8193, "account")):
        rd = "https://open.example.test/" + "a" * (n - 1)
        r = b.post("/signin", {"csrf": b.s.cookies.get(CSRF_COOKIE), "username": u["username"],
                               "password": PASSWORD, "rd": rd})
        assert r.status_code == 303, r.text
        assert r.headers["Location"] == (where or rd)


def test_lost_csrf_cookie_keeps_rd(srv):
    b = Browser(srv)
    u = srv.new_user("RulesCsrf")
    rd = "https://open.example.test/kept"
    b.signin_form(rd)
    r = b.post("/signin", {"csrf": "wrong", "username": u["username"], "password": PASSWORD,
                           "rd": rd})
    assert r.status_code == 403
    assert hidden_rd(r) == rd
    r = b.post("/signin", {"csrf": "wrong", "username": u["username"], "password": PASSWORD,
                           "rd": "https://evil.example/"})
    assert r.status_code == 403
    assert hidden_rd(r) is None


def test_rd_sent_twice_is_a_bad_form(srv):
    b = Browser(srv)
    u = srv.new_user("RulesTwice")
    b.signin_form("https://open.example.test/")
    r = b.s.post(srv.url("/signin"), headers={"Origin": "null"}, allow_redirects=False,
                 data=[("csrf", b.s.cookies.get(CSRF_COOKIE)), ("username", u["username"]),
                       ("password", PASSWORD), ("rd", "https://open.example.test/"),
                       ("rd", "https://evil.example/")], timeout=TIMEOUT)
    assert r.status_code == 400


def test_wrong_password_keeps_rd(srv):
    b = Browser(srv)
    u = srv.new_user("RulesWrong")
    rd = "https://open.example.test/after"
    _, r = b.signin(u, rd, {"password": "wrong password"})
    assert r.status_code == 401
    assert hidden_rd(r) == rd


def test_second_factor_returns_to_rd(srv):
    u, secret, _ = with_totp(srv, srv.new_user("RulesRdTotp"))
    b = Browser(srv)
    rd = "https://a.wild.example.test/secure/?q=1"
    _, r = b.signin(u, rd)
    assert r.status_code == 200, r.text
    assert hidden_rd(r) == rd
    assert 'data-account="https://a.wild.example.test/secure/?q=1"' in r.text.replace("&amp;", "&") \
        or "passkey-mfa" not in r.text
    tok = re.search(r'name="mfa_token" value="([^"]+)"', r.text).group(1)
    away_from_edge()
    r = b.post("/signin/mfa", {"csrf": b.s.cookies.get(CSRF_COOKIE), "mfa_token": tok,
                               "code": pyotp.TOTP(secret).now(), "rd": rd})
    assert r.status_code == 303, r.text
    assert r.headers["Location"] == rd


def test_passkey_button_returns_to_rd(make_module_server, tmp_path_factory):
    # With passkeys on (PUBLIC_URL), the sign-in page's button goes where
    # the form would once the passkey signs in.
    s = start(make_module_server, rules_env(tmp_path_factory))
    b = Browser(s)
    rd = "https://open.example.test/p"
    page = b.signin_form(rd)
    if "passkey-signin" not in page.text:
        pytest.skip("passkeys off")
    assert f'data-account="{rd}"' in page.text
    page = b.signin_form("https://evil.example/")
    assert 'data-account="account"' in page.text
