"""The service's HTML pages (API.md, "Public address and pages"): the pages of
the mailed links, GET /password/reset and GET /email/confirm, their headers,
their language, their CSRF cookie, and PUBLIC_URL and COOKIE_DOMAIN, which
decide the service's own origin and the sign-in cookies' domain."""
import re
from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest

from gh_helpers import assert_common_headers, assert_problem, media_type

PAGES = ["/password/reset", "/email/confirm"]
TOKEN = "A" * 43
CSRF_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")


class Page(HTMLParser):
    """What a page holds: its forms' fields, the URLs it loads, and anything
    that would need script or inline style."""

    def __init__(self):
        super().__init__()
        self.inputs, self.forms, self.loads, self.inline = {}, [], [], []
        self.lang = None
        self.text = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        if tag in ("script", "style"):
            self.inline.append(tag)
        if tag == "form":
            self.forms.append(a)
        if tag == "input" and a.get("name"):
            self.inputs[a["name"]] = a
        if tag == "link" and a.get("href"):
            self.loads.append(a["href"])
        for name in a:
            if name.startswith("on") or name == "style":
                self.inline.append(f"{tag} {name}")

    def handle_data(self, data):
        if data.strip():
            self.text.append(data.strip())


def parse(resp):
    p = Page()
    p.feed(resp.text)
    return p


def csp(resp):
    out = {}
    for part in resp.headers["Content-Security-Policy"].split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def assert_page_headers(resp, lang="en", script=False, form_to=None):
    """What every page answers with (API.md, "Public address and pages");
    the pages with a passkey button (script) may load the service's own
    script file, and nothing else more. The pages of an OpenID Connect
    authorization request let their form's post end at the client's origin
    (form_to): browsers hold every redirect of a form's post to form-action."""
    assert_common_headers(resp)
    assert media_type(resp) == "text/html"
    assert "charset=utf-8" in resp.headers["Content-Type"].lower()
    policy = csp(resp)
    assert policy["default-src"] == ["'none'"], policy
    if script:
        assert policy["script-src"] == ["'self'"], policy
        assert policy["connect-src"] == ["'self'"], policy
    else:
        assert "script-src" not in policy, policy  # no script at all: default-src 'none'
    assert policy["style-src"] == ["'self'"], policy
    assert policy["frame-ancestors"] == ["'none'"], policy
    assert policy["form-action"] == ["'self'"] + ([form_to] if form_to else []), policy
    assert policy["base-uri"] == ["'none'"], policy
    assert not any("unsafe" in w for ws in policy.values() for w in ws), policy
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Referrer-Policy"] == "no-referrer"
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["Content-Language"] == lang
    page = parse(resp)
    assert page.lang == lang
    # No inline script: a <script> element only with a src, and no handlers.
    assert "<script>" not in resp.text and not re.search(r"<script(?![^>]*\bsrc=)", resp.text)
    assert [i for i in page.inline if i != "script"] == [], page.inline
    assert page.inline.count("script") == (1 if script else 0)
    return page


@pytest.fixture(scope="module")
def server(make_module_server):
    return make_module_server(env={"COOKIE_SECURE": "0"})


@pytest.mark.parametrize("path", PAGES)
def test_link_page_shows_form(server, path):
    r = server.get(f"{path}?token={TOKEN}")
    assert r.status_code == 200, r.text
    page = assert_page_headers(r)
    assert len(page.forms) == 1
    form = page.forms[0]
    assert form["method"] == "post"
    # The form posts to the same path, relative: never built from Host.
    assert urljoin(server.url(path), form["action"]) == server.url(path)
    assert page.inputs["token"]["type"] == "hidden"
    assert page.inputs["token"]["value"] == TOKEN
    assert page.inputs["csrf"]["type"] == "hidden"
    # The CSRF value is the cookie's: host-only, HttpOnly, SameSite=Strict.
    cookie = r.headers["Set-Cookie"]
    name, _, rest = cookie.partition("=")
    value, _, attrs = rest.partition(";")
    assert name == "gatehouse_csrf"
    assert CSRF_RE.match(value)
    assert page.inputs["csrf"]["value"] == value
    parts = [a.strip() for a in attrs.split(";")]
    assert "Path=/" in parts and "HttpOnly" in parts and "SameSite=Strict" in parts, parts
    assert not any(p.lower().startswith("domain") for p in parts), parts
    assert not any(p.lower().startswith(("max-age", "expires")) for p in parts), parts


def test_reset_page_fields(server):
    page = parse(server.get(f"/password/reset?token={TOKEN}"))
    for name in ("new_password", "new_password_again"):
        assert page.inputs[name]["type"] == "password"
        assert page.inputs[name]["autocomplete"] == "new-password"


@pytest.mark.parametrize("path", PAGES)
def test_stylesheet_is_served(server, path):
    r = server.get(f"{path}?token={TOKEN}")
    page = parse(r)
    assert len(page.loads) == 1
    css = server.get(urljoin(server.url(path), page.loads[0]).removeprefix(server.base_url))
    assert css.status_code == 200
    assert media_type(css) == "text/css"
    assert_common_headers(css)
    assert "font-family" in css.text


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("query", [
    "", "?token=", "?token=a+b", "?token=a%2Fb", "?token=" + "A" * 129,
    f"?token={TOKEN}&token={TOKEN}", "?tok=" + TOKEN,
])
def test_link_page_bad_link(server, path, query):
    r = server.get(path + query)
    assert r.status_code == 400, r.text
    page = assert_page_headers(r)
    assert page.forms == []
    assert "This link is not valid" in r.text
    assert "Set-Cookie" not in r.headers


@pytest.mark.parametrize("path", PAGES)
def test_longest_token_taken(server, path):
    r = server.get(f"{path}?token={'A' * 128}")
    assert r.status_code == 200
    assert parse(r).inputs["token"]["value"] == "A" * 128


@pytest.mark.parametrize("path", PAGES)
def test_head_of_page(server, path):
    r = server.head(f"{path}?token={TOKEN}")
    assert r.status_code == 200
    assert r.content == b""
    assert r.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("header,lang", [
    (None, "en"),
    ("ru", "ru"),
    ("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", "ru"),
    ("en-US,en;q=0.9,ru;q=0.8", "en"),
    ("de-DE, ru;q=0.5, en;q=0.4", "ru"),
    ("de-DE, fr", "en"),
    ("en;q=0, *", "ru"),
    ("ru;q=0", "en"),
    ("ru;q=bogus, en;q=0.1", "en"),
])
def test_language_by_accept_language(server, header, lang):
    headers = {"Accept-Language": header} if header is not None else {}
    for path in PAGES:
        r = server.get(f"{path}?token={TOKEN}", headers=headers)
        assert r.status_code == 200
        assert_page_headers(r, lang)
    r = server.get("/password/reset?token=" + TOKEN, headers=headers)
    want = {"en": "Set the new password", "ru": "Сменить пароль"}[lang]
    assert want in r.text
    r = server.get("/email/confirm", headers=headers)
    want = {"en": "This link is not valid", "ru": "Ссылка недействительна"}[lang]
    assert want in r.text


def test_csrf_cookie_kept(server):
    """A browser that has a CSRF cookie keeps it: a second tab's form must not
    void the first's."""
    first = server.get(f"/password/reset?token={TOKEN}")
    value = first.cookies["gatehouse_csrf"]
    again = server.get(f"/email/confirm?token={TOKEN}", cookies={"gatehouse_csrf": value})
    assert "Set-Cookie" not in again.headers
    assert parse(again).inputs["csrf"]["value"] == value
    # A cookie that is no CSRF value is replaced.
    bad = server.get(f"/email/confirm?token={TOKEN}", cookies={"gatehouse_csrf": "x"})
    fresh = bad.cookies["gatehouse_csrf"]
    assert CSRF_RE.match(fresh) and fresh != value
    assert parse(bad).inputs["csrf"]["value"] == fresh


def test_csrf_cookie_secure_name(make_server):
    srv = make_server(env={"COOKIE_SECURE": "1"})
    r = srv.get(f"/password/reset?token={TOKEN}")
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("__Host-gatehouse_csrf=")
    assert "; Secure" in cookie and "; Path=/" in cookie and "Domain" not in cookie
    value = cookie.split("=", 1)[1].split(";")[0]
    # The secure name is the one read back.
    again = srv.get(f"/email/confirm?token={TOKEN}",
                    headers={"Cookie": f"__Host-gatehouse_csrf={value}"})
    assert "Set-Cookie" not in again.headers
    assert parse(again).inputs["csrf"]["value"] == value


def test_pages_ignore_host(server):
    """Every Host is served, and none shows up in a page."""
    for headers in ({"Host": "evil.example"}, {"Host": "evil.example",
                                               "X-Forwarded-Host": "evil2.example",
                                               "Forwarded": "host=evil3.example"}):
        r = server.get(f"/password/reset?token={TOKEN}", headers=headers)
        assert r.status_code == 200
        assert "evil" not in r.text
        assert "evil" not in str(r.headers)


def test_pages_other_methods(server):
    r = server.request("PUT", "/email/confirm")
    assert_problem(r, 405)
    r = server.post("/pages/style.css")
    assert_problem(r, 405)


# ------------------------------------------------------- PUBLIC_URL, COOKIE_DOMAIN
@pytest.mark.parametrize("value,why", [
    ("auth.example.com", "expected http(s)://host"),
    ("ftp://auth.example.com", "expected http(s)://host"),
    ("https://user:pw@auth.example.com", "no user or password"),
    ("https://auth.example.com/?next=1", "no query or fragment"),
    ("https://auth.example.com#x", "no query or fragment"),
    ("https://auth.example.com:99999", "the port must be"),
    ("https://auth_example.com", "not a host name"),
    ("https://пример.рф", "xn--"),
    ("https://auth.example.com/a b", "the path"),
    ("https://auth.example.com/" + "a" * 512, "longer than 512"),
])
def test_public_url_refused(run_gatehouse, value, why):
    res = run_gatehouse(env={"PUBLIC_URL": value})
    assert res.returncode == 2, f"exit {res.returncode}; stderr:\n{res.stderr}"
    assert "PUBLIC_URL" in res.stderr and why in res.stderr, res.stderr
    res = run_gatehouse(args=["--public-url", value])
    assert res.returncode == 2, res.stderr


@pytest.mark.parametrize("domain,url,why", [
    ("example.com", None, "COOKIE_DOMAIN needs PUBLIC_URL"),
    ("other.org", "https://auth.example.com", "is not other.org nor within it"),
    ("xample.com", "https://auth.example.com", "nor within it"),
    ("com", "https://auth.example.com", "two labels or more"),
    ("127.0.0.1", "http://127.0.0.1:8000", "two labels or more"),
    ("example.com/", "https://auth.example.com", "two labels or more"),
])
def test_cookie_domain_refused(run_gatehouse, domain, url, why):
    env = {"COOKIE_DOMAIN": domain}
    if url:
        env["PUBLIC_URL"] = url
    res = run_gatehouse(env=env)
    assert res.returncode == 2, f"exit {res.returncode}; stderr:\n{res.stderr}"
    assert why in res.stderr, res.stderr


COOKIE_ENV = {"SESSION_COOKIES": "1", "COOKIE_SECURE": "1"}


def test_cookie_domain_on_session_cookies(make_server):
    srv = make_server(env={**COOKIE_ENV, "PUBLIC_URL": "https://Auth.Example.com/",
                           "COOKIE_DOMAIN": ".Example.com"})
    u = srv.new_user()
    r = srv.login(u["username"], u["password"])
    assert r.status_code == 200
    cookies = r.raw.headers.getlist("Set-Cookie")
    assert len(cookies) == 2
    for c in cookies:
        assert "; Domain=example.com;" in c, c
    # Cleared with the same Domain, or the browser would keep them.
    token = r.json()["access_token"]
    out = srv.post("/logout", headers={"Origin": "https://auth.example.com"},
                   cookies={"access_token": token})
    assert out.status_code == 204, out.text
    for c in out.raw.headers.getlist("Set-Cookie"):
        assert "; Domain=example.com;" in c and "Max-Age=0" in c, c


def test_no_cookie_domain_host_only(make_server):
    srv = make_server(env={**COOKIE_ENV, "PUBLIC_URL": "https://auth.example.com"})
    u = srv.new_user()
    r = srv.login(u["username"], u["password"])
    for c in r.raw.headers.getlist("Set-Cookie"):
        assert "Domain" not in c, c


def refused(resp):
    assert resp.status_code == 403, resp.text
    assert resp.json()["detail"] == "Origin not allowed for a request authenticated by a cookie"


def test_own_origin_from_public_url(make_server):
    """With PUBLIC_URL, the service's own origin is its origin, whatever Host
    says: the Host-built origin no longer passes, PUBLIC_URL's does."""
    srv = make_server(env={**COOKIE_ENV, "PUBLIC_URL": "https://auth.example.com:8443/base/"})
    u = srv.new_user()

    def logout(origin, host=None):
        token = srv.login(u["username"], u["password"]).json()["access_token"]
        headers = {"Origin": origin}
        if host:
            headers["Host"] = host
        return srv.post("/logout", headers=headers, cookies={"access_token": token})

    assert logout("https://auth.example.com:8443").status_code == 204
    assert logout("https://auth.example.com:8443", host="evil.example").status_code == 204
    assert logout("HTTPS://AUTH.EXAMPLE.COM:8443").status_code == 204
    for origin in ("https://auth.example.com", "https://auth.example.com:8443/base",
                   "http://auth.example.com:8443", "https://evil.example"):
        refused(logout(origin))
    # The Host-built origin passed before PUBLIC_URL took over.
    refused(logout("https://evil.example", host="evil.example"))
    refused(logout(f"https://127.0.0.1:{srv.port}"))


def test_own_origin_from_host_without_public_url(make_server):
    srv = make_server(env=COOKIE_ENV)
    u = srv.new_user()
    token = srv.login(u["username"], u["password"]).json()["access_token"]
    r = srv.post("/logout", headers={"Origin": "https://evil.example", "Host": "evil.example"},
                 cookies={"access_token": token})
    assert r.status_code == 204, r.text
