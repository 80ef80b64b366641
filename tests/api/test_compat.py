"""Clients of the original FastAPI application keep working unchanged.

The requests below are the ones the seed app's clients send (the bench smoke
client in ../shared/bench/bench.py and the usual `requests` scripts).
"""
import http.client
import json

import requests

from gh_helpers import unique_username

SEED_PASSWORD = "Correct-horse-1"


def seed_request(server, method, path, body=None, token=None):
    """Exactly what the bench's smoke client sends (http.client, JSON body)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        headers = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        text = r.read().decode("utf-8", "replace")
        try:
            js = json.loads(text)
        except ValueError:
            js = None
        return r.status, js, text
    finally:
        conn.close()


def test_seed_client_http_client(server):
    u = "smoke_" + unique_username("s")
    st, js, text = seed_request(server, "POST", "/register", {"username": u, "password": SEED_PASSWORD})
    assert st == 200, text
    assert isinstance(js.get("id"), int) and js.get("username") == u

    st, _, text = seed_request(server, "POST", "/register", {"username": u, "password": SEED_PASSWORD})
    assert 400 <= st < 500, text

    st, js, text = seed_request(server, "POST", "/login", {"username": u, "password": SEED_PASSWORD})
    assert st == 200, text
    assert isinstance(js["access_token"], str)
    assert js["token_type"] == "bearer"

    st, me, text = seed_request(server, "GET", "/me", token=js["access_token"])
    assert st == 200 and me["username"] == u and "id" in me, text

    st, js, text = seed_request(server, "POST", "/login", {"username": u, "password": SEED_PASSWORD + "x"})
    assert st == 401 and isinstance(js["detail"], str), text
    st, _, _ = seed_request(server, "POST", "/login", {"username": "nouser_" + u, "password": SEED_PASSWORD})
    assert st == 401
    st, _, _ = seed_request(server, "GET", "/me")
    assert st == 401
    st, _, _ = seed_request(server, "GET", "/me", token="not.a.jwt")
    assert st == 401


def test_seed_client_requests(server):
    base = server.base_url
    u = unique_username("req")
    r = requests.post(f"{base}/register", json={"username": u, "password": SEED_PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["username"] == u
    r = requests.post(f"{base}/login", json={"username": u, "password": SEED_PASSWORD}, timeout=30)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    headers = {"Authorization": f"{body['token_type'].capitalize()} {body['access_token']}"}
    assert requests.get(f"{base}/me", headers=headers, timeout=30).status_code == 200
    # FastAPI clients read `detail` on errors.
    r = requests.post(f"{base}/register", json={"username": u, "password": SEED_PASSWORD}, timeout=30)
    assert isinstance(r.json()["detail"], str)


def test_trailing_slash_of_a_route_is_a_307_to_it(server):
    """FastAPI (Starlette's redirect_slashes) answered a known path with a
    trailing slash by 307 to the path without it, whatever the method; a
    client that follows it (requests does, keeping method and body for a
    307) gets the route's answer."""
    name = unique_username("slash")
    for method, path, want in (("POST", "/register/", "/register"), ("POST", "/login/", "/login"),
                               ("GET", "/me//", "/me"), ("GET", "/users/me/?x=1", "/users/me?x=1"),
                               ("DELETE", "/me/", "/me"), ("GET", "/healthz/", "/healthz")):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        conn.request(method, path, body=b"{}", headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        assert r.read() == b""
        conn.close()
        assert (r.status, r.getheader("Location")) == (307, want), (method, path)
    # Followed, as the old app's clients did.
    body = {"username": name, "password": SEED_PASSWORD}
    r = requests.post(server.url("/register/"), json=body, timeout=30)
    assert r.status_code == 200 and r.history[0].status_code == 307, r.text
    r = requests.post(server.url("/login/"), json=body, timeout=30)
    assert r.status_code == 200 and r.json()["access_token"], r.text
    # Only a known route's path: anything else stays 404, and "/" too.
    for path in ("/nope/", "/", "//", "/registerx/"):
        assert requests.get(server.url(path), allow_redirects=False,
                            timeout=30).status_code == 404, path
