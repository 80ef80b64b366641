"""examples/caddy/Caddyfile, run by Debian's Caddy (2.6) in front of gatehouse
with examples/access-rules.json and an application that echoes what it
receives (tests/deploy/caddy_stack.py): forward_auth to /verify?rd=1.

    GATEHOUSE_BIN=$PWD/build/gatehouse /usr/bin/python3 -m pytest -q tests/deploy/test_caddy.py

The browser's round trip through the sign-in page: tests/browser/caddy.test.mjs.
"""
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

import proxy_cases
from caddy_stack import Stack
from proxy_cases import TIMEOUT, new_user, refused, send

HTML = "text/html,application/xhtml+xml,*/*;q=0.8"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("caddy"))
    s.start()
    yield s
    status = s.stop()
    assert status == 0, f"gatehouse exited with {status}\n{s.logs()}"


# ------------------------------------------------------------ access rules
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


# ------------------------------------------------------------------ rd=1
def test_an_unsigned_browser_is_redirected_to_sign_in_with_the_original_url(stack):
    before = len(stack.app.seen)
    status, headers, _ = send(stack, "GET", "/app/page?a=1&b=x%20y", headers=[("Accept", HTML)])
    assert status == 302, headers
    location = urlsplit(headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{stack.base}/signin"
    assert parse_qs(location.query) == {"rd": [f"{stack.base}/app/page?a=1&b=x%20y"]}
    # The sign-in page it names is served, through Caddy.
    r = requests.get(headers["location"], timeout=TIMEOUT, allow_redirects=False)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert len(stack.app.seen) == before


def test_api_clients_get_401_and_signed_in_browsers_403_not_a_redirect(stack):
    refused(stack, 401, "GET", "/app/page", headers=[("Accept", "application/json")])
    u = new_user(stack)
    refused(stack, 403, "GET", "/ops/board", u["token"], headers=[("Accept", HTML)])
    refused(stack, 403, "GET", "/internal/x", headers=[("Accept", HTML)])


def test_a_cookie_from_signing_in_through_caddy_reaches_the_application(stack):
    u = new_user(stack)
    browser = requests.Session()
    r = browser.post(f"{stack.base}/login", json={"username": u["username"], "password": proxy_cases.PASSWORD},
                     timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert browser.cookies.get("access_token")
    r = browser.get(f"{stack.base}/app/page", headers={"Accept": HTML}, allow_redirects=False, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    seen = {name.lower(): value for name, value in r.json()["headers"]}
    assert seen["x-auth-username"] == u["username"]


def test_verify_itself_is_not_exposed_through_caddy(stack):
    # /verify is no path of @gatehouse: it is the application's, behind the rules.
    before = len(stack.app.seen)
    status, _, body = send(stack, "GET", "/verify")
    assert status == 401, body
    assert json.loads(body)["status"] == 401
    assert len(stack.app.seen) == before


# ------------------------------------------------------------- the README
README = Path(__file__).resolve().parents[2] / "README.md"
EXAMPLES = README.parent / "examples"


def access_rules_section():
    text = README.read_text()
    start = text.index("\n## Access rules\n")
    return text[start:text.index("\n## ", start + 1)]


def test_the_readme_shows_the_example_files_the_proxy_tests_run():
    section = access_rules_section()
    (rules,) = re.findall(r"^```json\n(.*?)^```$", section, re.M | re.S)
    assert rules == (EXAMPLES / "access-rules.json").read_text()
    (caddy,) = re.findall(r"^```caddy\n(.*?)^```$", section, re.M | re.S)
    conf = (EXAMPLES / "caddy" / "Caddyfile").read_text()
    assert caddy == conf[conf.index("\n{\n") + 1:]
    nginx = re.findall(r"^```nginx\n(.*?)^```$", section, re.M | re.S)
    assert len(nginx) == 2
    conf = (EXAMPLES / "nginx" / "gatehouse.conf").read_text()
    for block in nginx:
        assert block in conf, block


def test_the_readme_traefik_configuration_copies_the_headers_caddy_copies():
    section = access_rules_section()
    (yaml,) = re.findall(r"^```yaml\n(.*?)^```$", section, re.M | re.S)
    assert 'address: "http://gatehouse:8000/verify?rd=1"' in yaml
    assert "trustForwardHeader: true" in yaml
    # Only the token and Accept of the client's own headers go to /verify.
    assert re.findall(r"^          - (\S+)$", yaml.split("authResponseHeaders:")[0], re.M) == [
        "Authorization", "Cookie", "Accept"]
    traefik = re.findall(r"^          - (X-Auth-\S+)$", yaml.split("authResponseHeaders:")[1], re.M)
    caddy = re.search(r"copy_headers (.*)", (EXAMPLES / "caddy" / "Caddyfile").read_text()).group(1).split()
    assert traefik == caddy == ["X-Auth-User-Id", "X-Auth-Username", "X-Auth-Roles", "X-Auth-Email",
                                "X-Auth-Amr"]
