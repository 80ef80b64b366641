"""Two instances of the provider on one PostgreSQL database behind Debian's
nginx, which spreads every request over both (round robin): a browser
signs in, an application gets codes and exchanges them, and it does not
matter which instance answers which step. Each instance's answers carry
X-Request-Id with a prefix of its own, which shows both took part."""
import os
import re
import secrets
import subprocess
import time
import urllib.parse

import pytest
import requests

from gh_helpers import TEST_DATABASE_URL, free_port
from test_oidc_token import REDIRECT, add_client, basic, oidc_key

NGINX = os.environ.get("NGINX_BIN", "/usr/sbin/nginx")
TIMEOUT = 60  # seconds: hang detection only


def nginx_conf(d, port, upstreams):
    servers = "".join(f"        server 127.0.0.1:{p};\n" for p in upstreams)
    user = "user root root;\n" if os.geteuid() == 0 else ""
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (d / "tmp" / sub).mkdir(parents=True, exist_ok=True)
    (d / "nginx.conf").write_text(f"""{user}worker_processes 1;
error_log {d}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    upstream gatehouse {{
{servers}    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://gatehouse;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $remote_addr;
        }}
    }}
}}
""")


@pytest.fixture
def balanced(make_server, tmp_path):
    if not TEST_DATABASE_URL:
        pytest.skip("instances share a database on PostgreSQL (scripts/with-pg.sh)")
    port = free_port()
    env = {"PUBLIC_URL": f"http://127.0.0.1:{port}", "COOKIE_SECURE": "0",
           "SESSION_COOKIES": "1", "OIDC_PRIVATE_KEY_FILE": str(oidc_key(tmp_path)),
           "TRUSTED_PROXIES": "127.0.0.1"}
    a = make_server(env=env, database_url=TEST_DATABASE_URL)
    b = make_server(env=env, database_url=TEST_DATABASE_URL)
    nginx_conf(tmp_path, port, (a.port, b.port))
    args = [NGINX, "-p", str(tmp_path), "-e", str(tmp_path / "error.log"),
            "-c", str(tmp_path / "nginx.conf")]
    proc = subprocess.Popen(args + ["-g", f"daemon off; pid {tmp_path}/nginx.pid;"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        end = time.monotonic() + TIMEOUT
        while True:
            try:
                if requests.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert proc.poll() is None and time.monotonic() < end, "nginx did not start"
            time.sleep(0.05)
        yield a, base
    finally:
        proc.terminate()
        proc.wait(TIMEOUT)


def instance_of(resp):
    """The prefix of X-Request-Id: each instance draws its own at start."""
    return resp.headers["X-Request-Id"].rsplit("-", 1)[0]


def test_sign_in_and_codes_work_whichever_instance_answers(balanced):
    a, base = balanced
    cid, secret = add_client(a, None, "--first-party")
    user = a.new_user("lb")
    s, seen = requests.Session(), set()

    def get(path):
        r = s.get(base + path, allow_redirects=False, timeout=TIMEOUT)
        seen.add(instance_of(r))
        return r

    # The sign-in form: its CSRF cookie from one instance, the post
    # checked by whichever comes next.
    assert get("/signin").status_code == 200
    r = s.post(base + "/signin", data={"csrf": s.cookies.get("gatehouse_csrf"),
                                      "username": user["username"], "password": user["password"]},
               headers={"Origin": "null"}, allow_redirects=False, timeout=TIMEOUT)
    assert r.status_code == 303, r.text
    seen.add(instance_of(r))
    assert "gatehouse_sso" in s.cookies
    # Codes at once from the sign-in, each exchanged through nginx once.
    for _ in range(4):
        state = secrets.token_urlsafe(8)
        r = get("/authorize?" + urllib.parse.urlencode({
            "response_type": "code", "client_id": cid, "redirect_uri": REDIRECT,
            "scope": "openid", "state": state}))
        assert r.status_code in (302, 303), r.text
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(r.headers["Location"]).query)
        assert q["state"] == [state], q
        fields = {"grant_type": "authorization_code", "code": q["code"][0],
                  "redirect_uri": REDIRECT}
        ok = requests.post(base + "/token", data=fields, headers=basic(cid, secret),
                           timeout=TIMEOUT)
        assert ok.status_code == 200, ok.text
        seen.add(instance_of(ok))
        bearer = {"Authorization": "Bearer " + ok.json()["access_token"]}
        for _ in range(2):  # one answer from each instance, in turn
            info = requests.get(base + "/userinfo", headers=bearer, timeout=TIMEOUT)
            assert info.status_code == 200 and info.json()["sub"] == str(user["id"]), info.text
        # The code again: refused, whichever instance sees it, and what it
        # issued revoked everywhere (within a second on the other instance:
        # polled; the deadline only detects a hang).
        again = requests.post(base + "/token", data=fields, headers=basic(cid, secret),
                              timeout=TIMEOUT)
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
        seen.add(instance_of(again))
        refused, end = 0, time.monotonic() + TIMEOUT
        while refused < 2:
            info = requests.get(base + "/userinfo", headers=bearer, timeout=TIMEOUT)
            refused = refused + 1 if info.status_code == 401 else 0
            assert time.monotonic() < end, "an instance still accepts the revoked token"
    assert len(seen) == 2, seen
    assert all(re.fullmatch(r"[0-9a-f]{16}", p) for p in seen), seen
