"""GET /me: the caller's account, and the 401 rules of RFC 6750."""
import pytest

from gh_helpers import (
    assert_common_headers,
    assert_problem,
    assert_www_authenticate,
    media_type,
)


def test_me_returns_account(server, user):
    token = server.token(user["username"])
    r = server.me(token)
    assert r.status_code == 200, r.text
    assert media_type(r) == "application/json"
    # Contract v2 adds the address (API.md, "Email"): none at registration here.
    assert r.json() == {"id": user["id"], "username": user["username"],
                        "created_at": user["created_at"], "email": None, "email_verified": False}
    assert_common_headers(r)


def test_me_after_case_insensitive_login(server):
    u = server.new_user("MeCase")
    r = server.me(server.token(u["username"].upper()))
    assert r.status_code == 200
    assert r.json()["username"] == u["username"]
    assert r.json()["id"] == u["id"]


def test_me_token_of_each_user(server):
    a, b = server.new_user(), server.new_user()
    assert server.me(server.token(a["username"])).json()["id"] == a["id"]
    assert server.me(server.token(b["username"])).json()["id"] == b["id"]


def test_me_without_token(server):
    r = server.get("/me")
    assert_problem(r, 401)
    assert_www_authenticate(r, invalid_token=False)


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Digest x=1", "Token abc"])
def test_me_other_scheme(server, value):
    r = server.get("/me", headers={"Authorization": value})
    assert_problem(r, 401)
    assert_www_authenticate(r, invalid_token=False)


@pytest.mark.parametrize("value", ["Bearer", "Bearer ", "Bearer not-a-token", "Bearer a.b.c",
                                   "Bearer a.b", "Bearer ..", "Bearer x y z"])
def test_me_malformed_bearer(server, value):
    r = server.get("/me", headers={"Authorization": value})
    assert_problem(r, 401)
    if value.strip() == "Bearer":
        # A scheme without credentials: whether a token "was sent" is moot.
        assert (r.headers.get("WWW-Authenticate") or "").startswith("Bearer"), r.headers
    else:
        assert_www_authenticate(r, invalid_token=True)


def test_me_bearer_scheme_case_insensitive(server, user):
    # RFC 9110 section 11.1: the auth scheme is case-insensitive (FastAPI accepts it too).
    token = server.token(user["username"])
    for scheme in ("bearer", "BEARER"):
        r = server.get("/me", headers={"Authorization": f"{scheme} {token}"})
        assert r.status_code == 200, (scheme, r.text)


def test_me_401_bodies_identical(server):
    a = server.get("/me", headers={"Authorization": "Bearer not-a-token"})
    b = server.get("/me", headers={"Authorization": "Bearer not-a-token"})
    assert a.status_code == 401 and a.content == b.content
    c = server.get("/me")
    d = server.get("/me")
    assert c.content == d.content


def test_me_head(server, user):
    token = server.token(user["username"])
    r = server.head("/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200
    assert r.content == b""


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_me_wrong_method(server, method):
    r = server.request(method, "/me", json={})
    assert_problem(r, 405)
    allowed = {m.strip().upper() for m in r.headers["Allow"].split(",")}
    assert {"GET", "HEAD"} <= allowed, allowed
    assert method not in allowed
