"""The forms of the mailed links' pages, end to end: a real gatehouse with mail
sent to a loopback SMTP server (tests/api/mailsink.py), the link's page read
as a browser reads it, its form posted with and without its CSRF token
(API.md, "Public address and pages": a GET never consumes a token; a form
posted without its CSRF token changes nothing; the service's own forms are
checked by their CSRF token, not by Origin)."""
import re
from urllib.parse import urlsplit

import pytest
import requests

from gh_helpers import MAIL_PUBLIC_URL as PUBLIC_URL
from gh_helpers import PASSWORD, TEST_DATABASE_URL, mail_env, unique_username
from mailsink import MailSink
from test_pages import assert_page_headers, parse

NEW_PASSWORD = "a-brand-new-passphrase-7"
CSRF_COOKIE = "gatehouse_csrf"
TIMEOUT = 60  # seconds: hang detection only


@pytest.fixture(scope="module")
def sink():
    with MailSink() as s:
        yield s


@pytest.fixture(scope="module")
def srv(make_module_server, sink):
    # COOKIE_SECURE off: plain HTTP here, the cookie without __Host-.
    env = mail_env(sink, MAIL_MIN_INTERVAL_SECONDS="0", COOKIE_SECURE="0")
    if TEST_DATABASE_URL:
        return make_module_server(env=env, database_url=TEST_DATABASE_URL)
    return make_module_server(env=env)


def address():
    return f"{unique_username('p')}@example.test".lower()


def new_account(srv, sink):
    """A user with an address, its confirmation mail already in."""
    email = address()
    name = unique_username("pg")
    r = srv.post_json("/register", {"username": name, "password": PASSWORD, "email": email})
    assert r.status_code == 200, r.text
    return name, email


def mailed_token(sink, email, path, count=1):
    found = sink.wait_for(lambda m: email in m.rcpt_tos and f"{path}?token=" in m.part(
        "text/plain"), count=count, timeout=TIMEOUT)
    msg = found if count == 1 else found[-1]
    return msg.link(path), msg.token(path)


def reset_link(srv, sink, name, email, count=1):
    r = srv.post_json("/password/forgot", {"username": name})
    assert r.status_code == 202, r.text
    return mailed_token(sink, email, "/password/reset", count)


class Browser:
    """A requests session that opens a mailed link on the test server (the
    link's host is PUBLIC_URL's, which the test cannot reach) and posts the
    page's form as a browser would."""

    def __init__(self, srv, lang=None):
        self.srv, self.s = srv, requests.Session()
        if lang:
            self.s.headers["Accept-Language"] = lang

    def open(self, link):
        parts = urlsplit(link)
        assert f"{parts.scheme}://{parts.netloc}" == PUBLIC_URL
        r = self.s.get(self.srv.url(f"{parts.path}?{parts.query}"), timeout=TIMEOUT)
        return r, parse(r)

    def post(self, path, fields, **kw):
        return self.s.post(self.srv.url(path), data=fields, timeout=TIMEOUT, **kw)


def form_fields(page):
    return {name: a.get("value", "") for name, a in page.inputs.items()}


def can_log_in(srv, name, password):
    return srv.login(name, password).status_code == 200


@pytest.mark.parametrize("lang,done,title", [
    ("en", "Your password has been changed", "Choose a new password"),
    ("ru", "Пароль изменён", "Выберите новый пароль"),
])
def test_reset_by_page(srv, sink, lang, done, title):
    name, email = new_account(srv, sink)
    session = srv.login(name).json()
    link, token = reset_link(srv, sink, name, email)
    b = Browser(srv, lang)
    r, page = b.open(link)
    assert r.status_code == 200
    assert_page_headers(r, lang)
    assert title in r.text
    fields = form_fields(page)
    assert fields["token"] == token and fields["csrf"] == b.s.cookies[CSRF_COOKIE]
    fields.update(new_password=NEW_PASSWORD, new_password_again=NEW_PASSWORD)
    # A browser on a no-referrer page posts with Origin: null; the CSRF
    # token decides.
    r = b.post("/password/reset", fields, headers={"Origin": "null"})
    assert r.status_code == 200, r.text
    assert_page_headers(r, lang)
    assert done in r.text
    assert parse(r).forms == []
    assert can_log_in(srv, name, NEW_PASSWORD) and not can_log_in(srv, name, PASSWORD)
    assert srv.me(session["access_token"]).status_code == 401  # every session revoked
    # The link works once.
    again, _ = b.open(link)
    assert again.status_code == 200  # the GET cannot tell
    r = b.post("/password/reset", fields)
    assert r.status_code == 400
    assert_page_headers(r, lang)
    assert parse(r).forms == []


def test_get_never_consumes_the_token(srv, sink):
    """A link scanner that opens the link (GET, HEAD, any number of times)
    leaves it working, and so does a page opened in another browser."""
    name, email = new_account(srv, sink)
    link, token = reset_link(srv, sink, name, email)
    for _ in range(3):
        r, _ = Browser(srv).open(link)
        assert r.status_code == 200
    parts = urlsplit(link)
    assert requests.head(srv.url(f"{parts.path}?{parts.query}"), timeout=TIMEOUT).status_code == 200
    if not TEST_DATABASE_URL:
        rows = srv.query("SELECT used_at FROM email_tokens WHERE purpose = 'reset'")
        assert rows and all(row[0] is None for row in rows[-1:])
    r = srv.post_json("/password/reset", {"token": token, "new_password": NEW_PASSWORD})
    assert r.status_code == 204, r.text


@pytest.mark.parametrize("case", ["no field", "empty field", "wrong field", "no cookie",
                                  "bad cookie", "field of another cookie", "repeated field"])
def test_reset_without_csrf_changes_nothing(srv, sink, case):
    name, email = new_account(srv, sink)
    link, token = reset_link(srv, sink, name, email)
    b = Browser(srv)
    r, page = b.open(link)
    fields = form_fields(page)
    fields.update(new_password=NEW_PASSWORD, new_password_again=NEW_PASSWORD)
    cookie = b.s.cookies[CSRF_COOKIE]
    other, _ = Browser(srv).open(link)
    if case == "no field":
        del fields["csrf"]
    elif case == "empty field":
        fields["csrf"] = ""
    elif case == "wrong field":
        fields["csrf"] = ("B" if cookie[0] == "A" else "A") + cookie[1:]
    elif case == "no cookie":
        b.s.cookies.clear()
    elif case == "bad cookie":
        domain = next(c.domain for c in b.s.cookies)
        b.s.cookies.clear()
        b.s.cookies.set(CSRF_COOKIE, "x", domain=domain, path="/")
        fields["csrf"] = "x"
    elif case == "field of another cookie":
        fields["csrf"] = other.cookies[CSRF_COOKIE]
    elif case == "repeated field":
        fields = list(fields.items()) + [("csrf", cookie)]
    r = b.post("/password/reset", fields)
    assert r.status_code == 403, r.text
    assert_page_headers(r)
    assert "This form has expired" in r.text
    # The form again, with a CSRF token that now matches the cookie.
    again = parse(r)
    assert len(again.forms) == 1
    assert form_fields(again)["token"] == token
    assert form_fields(again)["csrf"] == b.s.cookies[CSRF_COOKIE]
    # Nothing changed: the old password works, the token still does.
    assert can_log_in(srv, name, PASSWORD) and not can_log_in(srv, name, NEW_PASSWORD)
    fields = form_fields(again)
    fields.update(new_password=NEW_PASSWORD, new_password_again=NEW_PASSWORD)
    r = b.post("/password/reset", fields)
    assert r.status_code == 200, r.text
    assert can_log_in(srv, name, NEW_PASSWORD)


def test_reset_passwords_differ(srv, sink):
    name, email = new_account(srv, sink)
    link, token = reset_link(srv, sink, name, email)
    b = Browser(srv, "ru")
    _, page = b.open(link)
    fields = form_fields(page)
    fields.update(new_password=NEW_PASSWORD, new_password_again=NEW_PASSWORD + "x")
    r = b.post("/password/reset", fields)
    assert r.status_code == 422
    assert_page_headers(r, "ru")
    assert "Пароли не совпадают" in r.text
    assert form_fields(parse(r))["token"] == token
    assert can_log_in(srv, name, PASSWORD)
    fields["new_password_again"] = NEW_PASSWORD
    assert b.post("/password/reset", fields).status_code == 200


@pytest.mark.parametrize("lang,password,text", [
    ("en", "short", "The password is too short: it must be at least 8 characters."),
    ("ru", "short", "Пароль слишком короткий: нужно не меньше 8 символов."),
    ("en", "password", "This password is too common"),
    ("ru", "", "Пароль слишком короткий"),
])
def test_reset_password_rules_in_the_page(srv, sink, lang, password, text):
    name, email = new_account(srv, sink)
    link, token = reset_link(srv, sink, name, email)
    b = Browser(srv, lang)
    _, page = b.open(link)
    fields = form_fields(page)
    fields.update(new_password=password, new_password_again=password)
    r = b.post("/password/reset", fields)
    assert r.status_code == 422, r.text
    assert_page_headers(r, lang)
    assert text in r.text
    assert form_fields(parse(r))["token"] == token
    # The rules keep the token.
    fields.update(new_password=NEW_PASSWORD, new_password_again=NEW_PASSWORD)
    assert b.post("/password/reset", fields).status_code == 200


@pytest.mark.parametrize("token", ["A" * 43, "", "A" * 129, "a b"])
def test_reset_bad_token_page(srv, token):
    b = Browser(srv)
    _, page = b.open(f"{PUBLIC_URL}/password/reset?token={'A' * 43}")
    fields = form_fields(page)
    fields.update(token=token, new_password=NEW_PASSWORD, new_password_again=NEW_PASSWORD)
    r = b.post("/password/reset", fields)
    assert r.status_code == 400
    assert_page_headers(r)
    assert "This link is not valid" in r.text
    assert parse(r).forms == []


def test_malformed_form_body(srv):
    b = Browser(srv)
    b.open(f"{PUBLIC_URL}/email/confirm?token={'A' * 43}")
    r = b.post("/email/confirm", "token=%zz&csrf=" + b.s.cookies[CSRF_COOKIE],
               headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 400
    assert_page_headers(r)


@pytest.mark.parametrize("path", ["/password/reset", "/email/confirm"])
def test_other_content_types_415(srv, path):
    r = srv.post(path, data="token=x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    assert r.json()["detail"] == ("Content-Type must be application/json or "
                                  "application/x-www-form-urlencoded")
    # JSON stays JSON (h-flows' answers).
    r = srv.post_json(path, {"token": "A" * 43, "new_password": NEW_PASSWORD})
    assert r.status_code == 400
    assert r.headers["Content-Type"].startswith("application/problem+json")


def verified(srv, name):
    r = srv.me(srv.token(name))
    assert r.status_code == 200, r.text
    return r.json()["email_verified"]


@pytest.mark.parametrize("lang,button,done", [
    ("en", "Confirm the address", "Your address has been confirmed."),
    ("ru", "Подтвердить адрес", "Адрес подтверждён."),
])
def test_confirm_by_page(srv, sink, lang, button, done):
    name, email = new_account(srv, sink)
    link, token = mailed_token(sink, email, "/email/confirm")
    b = Browser(srv, lang)
    for _ in range(2):
        r, page = b.open(link)
        assert r.status_code == 200
        assert_page_headers(r, lang)
        assert button in r.text
    assert verified(srv, name) is False  # the GETs changed nothing
    assert page.forms[0]["method"] == "post"
    r = b.post("/email/confirm", form_fields(page), headers={"Origin": "null"})
    assert r.status_code == 200, r.text
    assert_page_headers(r, lang)
    assert done in r.text
    assert verified(srv, name) is True
    r = b.post("/email/confirm", form_fields(page))
    assert r.status_code == 400
    assert parse(r).forms == []


def test_confirm_without_csrf_changes_nothing(srv, sink):
    name, email = new_account(srv, sink)
    link, token = mailed_token(sink, email, "/email/confirm")
    b = Browser(srv)
    _, page = b.open(link)
    fields = form_fields(page)
    del fields["csrf"]
    r = b.post("/email/confirm", fields)
    assert r.status_code == 403
    assert verified(srv, name) is False
    # A cross-site post: the browser sends the cookie, the attacker cannot
    # know its value.
    r = b.post("/email/confirm", {"token": token, "csrf": "A" * 43},
               headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    assert verified(srv, name) is False
    r = b.post("/email/confirm", form_fields(parse(r)))
    assert r.status_code == 200
    assert verified(srv, name) is True


def test_mailed_links_from_public_url_whatever_host(srv, sink):
    """Links are built from PUBLIC_URL only: the Host and forwarded headers of
    the request that caused the mail change nothing."""
    name, email = new_account(srv, sink)
    r = srv.post_json("/password/forgot", {"username": name},
                      headers={"Host": "evil.example", "X-Forwarded-Host": "evil2.example",
                               "Forwarded": "host=evil3.example;proto=http",
                               "X-Forwarded-Proto": "http"})
    assert r.status_code == 202
    link, token = mailed_token(sink, email, "/password/reset")
    assert link == f"{PUBLIC_URL}/password/reset?token={token}"
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
