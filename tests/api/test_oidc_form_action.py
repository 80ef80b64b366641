"""The form-action of the pages of an OpenID Connect authorization request.

A browser holds every redirect a form's post leads through to the page's
form-action (CSP Level 3), and the sign-in, second-factor and consent forms
of an authorization request end, two redirects later, at the client's
redirect URI. With form-action 'self' alone Chromium stopped at
/authorize/resume and no sign-in through the form reached a client
(tests/browser/oidc_client.test.mjs and apache.test.mjs show it in a real
browser). These pages name the client in form-action, and only it: the
origin of an http(s) redirect URI, the scheme of a native application's,
nothing for a scheme that runs or holds content."""
import re
import subprocess
from urllib.parse import urljoin

import pytest
import requests

from gh_helpers import CLI_TIMEOUT, TEST_DATABASE_URL, run_gatehouse
from test_pages import csp, parse

ISSUER = "https://auth.example.test"
ENV = {"COOKIE_SECURE": "0", "PUBLIC_URL": ISSUER}
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"  # RFC 7636 appendix B
TIMEOUT = 60  # seconds: hang detection only


@pytest.fixture(scope="module")
def srv(make_module_server, tmp_path_factory):
    """The provider on SQLite (its key made beside the database) or, under
    scripts/with-pg.sh, on PostgreSQL with an RS256 key file (PostgreSQL
    with HS256 has no OIDC key of its own)."""
    if TEST_DATABASE_URL:
        key = tmp_path_factory.mktemp("oidc-key") / "oidc.pem"
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", str(key)], check=True,
                       capture_output=True, timeout=CLI_TIMEOUT)
        return make_module_server(env=dict(ENV, OIDC_PRIVATE_KEY_FILE=str(key)),
                                  database_url=TEST_DATABASE_URL)
    return make_module_server(env=ENV)


def add(srv, tmp_path, uri):
    """`gatehouse clients add` of a public client (PKCE) that asks for
    consent, of redirect URI uri, against srv's database."""
    env = {k: srv.env[k] for k in ("DATABASE_URL", "PUBLIC_URL", "OIDC_PRIVATE_KEY_FILE")
           if srv.env.get(k)}
    return run_gatehouse(tmp_path, ["clients", "add", "app", "--public", "--redirect-uri", uri],
                         env=env)


def client_for(srv, tmp_path, uri):
    proc = add(srv, tmp_path, uri)
    assert proc.returncode == 0, proc.stderr
    return re.search(r"^client_id: (\S+)$", proc.stdout, re.M).group(1)


def signin_page(srv, s, cid, uri):
    """GET /authorize without a sign-in, then the sign-in page it sends to."""
    r = s.get(srv.url("/authorize"), allow_redirects=False, timeout=TIMEOUT, params={
        "response_type": "code", "client_id": cid, "redirect_uri": uri, "scope": "openid",
        "state": "s", "code_challenge": CHALLENGE, "code_challenge_method": "S256"})
    assert r.status_code == 302, r.text
    page = s.get(urljoin(srv.url("/authorize"), r.headers["Location"]), allow_redirects=False,
                 timeout=TIMEOUT)
    assert page.status_code == 200
    return page


@pytest.mark.parametrize("uri, source", [
    ("https://rp.example.test/callback", "https://rp.example.test"),
    ("http://127.0.0.1:8123/cb?x=1", "http://127.0.0.1:8123"),
    ("https://[::1]:9443/cb", "https://[::1]:9443"),
    ("com.example.app:/oauth2redirect", "com.example.app:"),
])
def test_signin_and_consent_name_the_client_in_form_action(srv, tmp_path, uri, source):
    cid = client_for(srv, tmp_path, uri)
    user = srv.new_user("fa")
    s = requests.Session()
    page = signin_page(srv, s, cid, uri)
    assert csp(page)["form-action"] == ["'self'", source]
    form = parse(page).inputs
    r = s.post(srv.url("/signin"), allow_redirects=False, timeout=TIMEOUT, headers={"Origin": "null"},
               data={"csrf": form["csrf"]["value"], "authz": form["authz"]["value"],
                     "username": user["username"], "password": user["password"]})
    assert r.status_code == 303, r.text
    consent = s.get(urljoin(srv.url("/signin"), r.headers["Location"]), allow_redirects=False,
                    timeout=TIMEOUT)
    assert consent.status_code == 200 and 'name="consent"' in consent.text
    assert csp(consent)["form-action"] == ["'self'", source]


@pytest.mark.parametrize("uri", ["javascript:alert(1)//", "data:text/html,x"])
def test_a_scheme_that_runs_or_holds_content_is_never_named(srv, tmp_path, uri):
    """Such a redirect URI is the registration's to refuse; if one is
    registered, the pages still name nothing but the service."""
    proc = add(srv, tmp_path, uri)
    if proc.returncode != 0:
        return  # refused at registration: nothing to show
    cid = re.search(r"^client_id: (\S+)$", proc.stdout, re.M).group(1)
    page = signin_page(srv, requests.Session(), cid, uri)
    assert csp(page)["form-action"] == ["'self'"]


def test_a_signin_page_of_no_request_names_only_the_service(srv):
    r = requests.get(srv.url("/signin"), params={"authz": "A" * 43}, timeout=TIMEOUT)
    assert csp(r)["form-action"] == ["'self'"]
