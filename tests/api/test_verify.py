"""GET /verify (forward authentication): Bearer or `access_token` cookie,
204 with X-Auth-User-Id / X-Auth-Username, 401 otherwise."""
import time
import urllib.parse

import pytest
import requests

from gh_helpers import (assert_common_headers, assert_www_authenticate, bearer, decode_token,
                        unique_username)
from test_metrics import scrape, value


@pytest.fixture(scope="module")
def account(server):
    u = server.new_user("VerifyUser")
    u["token"] = server.token(u["username"])
    return u


def assert_verified(r, account):
    assert r.status_code == 204, r.text
    assert r.content == b""
    assert r.headers.get("X-Auth-User-Id") == str(account["id"])
    assert r.headers.get("X-Auth-Username") == account["username"]
    assert_common_headers(r)


def test_verify_bearer(server, account):
    assert_verified(server.get("/verify", headers=bearer(account["token"])), account)


def test_verify_encodes_a_plus_in_a_registered_name(server):
    # '+' is allowed when registering, and form decoding would read it as a
    # space: sent as %2B, so that every decoder gives the name back.
    name = server.new_user(username=f"{unique_username('plus')}+tag@example.com")["username"]
    r = server.verify(server.token(name))
    assert r.status_code == 204, r.text
    sent = r.headers["X-Auth-Username"]
    assert sent == name.replace("+", "%2B")
    assert urllib.parse.unquote_plus(sent) == urllib.parse.unquote(sent) == name


def test_verify_username_header_is_stored_spelling(server):
    u = server.new_user("StoredSpelling")
    token = server.token(u["username"].lower())
    r = server.verify(token)
    assert_verified(r, u)


def test_verify_cookie(server, account):
    assert_verified(server.get("/verify", cookies={"access_token": account["token"]}), account)


def test_verify_cookie_among_others(server, account):
    r = server.get("/verify", headers={
        "Cookie": f"theme=dark; access_token={account['token']}; session=abc"})
    assert_verified(r, account)


def test_verify_header_wins_over_cookie(server, account):
    r = server.get("/verify", headers=bearer(account["token"]),
                   cookies={"access_token": "not-a-token"})
    assert_verified(r, account)
    r = server.get("/verify", headers=bearer("not-a-token"),
                   cookies={"access_token": account["token"]})
    assert r.status_code == 401, r.text
    assert_www_authenticate(r, invalid_token=True)


def test_verify_without_token(server):
    r = server.get("/verify")
    assert r.status_code == 401
    assert_www_authenticate(r, invalid_token=False)
    assert "X-Auth-User-Id" not in r.headers
    assert_common_headers(r)


def test_verify_other_cookie_only(server):
    r = server.get("/verify", cookies={"token": "x", "session": "y"})
    assert r.status_code == 401
    assert_www_authenticate(r, invalid_token=False)


@pytest.mark.parametrize("value", ["not-a-token", "a.b.c", ""])
def test_verify_bad_cookie(server, value):
    r = server.get("/verify", headers={"Cookie": f"access_token={value}"})
    assert r.status_code == 401
    assert "X-Auth-User-Id" not in r.headers


def test_verify_cookie_beside_large_cookies(server, account):
    """Browsers send every cookie of the domain: ~12 KB in all is under the 16 KiB limit."""
    big = "; ".join(f"c{i}={'v' * 1000}" for i in range(12))
    r = server.get("/verify", headers={"Cookie": f"{big}; access_token={account['token']}"})
    assert_verified(r, account)


def test_verify_bad_bearer(server):
    r = server.verify("not-a-token")
    assert r.status_code == 401
    assert_www_authenticate(r, invalid_token=True)


def test_verify_401_is_problem_json(server):
    r = server.get("/verify")
    assert (r.headers.get("Content-Type") or "").startswith("application/problem+json")
    assert r.json()["status"] == 401


def test_verify_head(server, account):
    r = server.head("/verify", headers=bearer(account["token"]))
    assert r.status_code == 204
    assert r.headers.get("X-Auth-User-Id") == str(account["id"])


def test_verify_ignores_client_supplied_identity_headers(server):
    r = server.get("/verify", headers={"X-Auth-User-Id": "1", "X-Auth-Username": "admin"})
    assert r.status_code == 401


def test_verify_repeated_requests_keepalive(server, account):
    """The fast path over one keep-alive connection."""
    with requests.Session() as s:
        for _ in range(50):
            r = s.get(server.url("/verify"), headers=bearer(account["token"]), timeout=30)
            assert_verified(r, account)


# --------------------------------------------------------- the verified-token cache
def cache_counts(srv):
    """(hits, misses, capacity) of the cache of verified tokens, from GET /metrics."""
    s = scrape(srv)
    return (value(s, "gatehouse_token_cache_lookups_total", result="hit"),
            value(s, "gatehouse_token_cache_lookups_total", result="miss"),
            value(s, "gatehouse_token_cache_capacity"))


def test_token_cache_hits_and_still_sees_revocation(make_server):
    srv = make_server()
    u = srv.new_user("CacheUser")
    token = srv.token(u["username"])
    hits0, misses0, capacity = cache_counts(srv)
    assert capacity >= 16384
    for _ in range(3):
        assert_verified(srv.verify(token), u)
    hits, misses, _ = cache_counts(srv)
    assert (hits - hits0, misses - misses0) == (2, 1), "the first check misses, the others hit"
    # One changed character of the signature is another token: the full check refuses it.
    sig = token.rsplit(".", 1)[1]
    forged = token[: -len(sig)] + ("A" if sig[0] != "A" else "B") + sig[1:]
    assert srv.verify(forged).status_code == 401
    # A hit still consults the revocation set: after logout the cached token is refused.
    r = srv.post("/logout", headers=bearer(token))
    assert r.status_code == 204, r.text
    r = srv.verify(token)
    assert r.status_code == 401
    assert_www_authenticate(r, invalid_token=True)
    assert srv.me(token).status_code == 401


def test_cached_token_past_its_exp_is_refused(make_server):
    """A token verified (and so cached) while valid is refused once its exp
    has passed (JWT_LEEWAY_SECONDS=0): the cache keeps no token past its
    lifetime. Two-second tokens; the wait is for exp, not a timed check."""
    srv = make_server(env={"ACCESS_TOKEN_EXPIRE_SECONDS": "2", "JWT_LEEWAY_SECONDS": "0"})
    u = srv.new_user("ShortLived")
    token = srv.token(u["username"])
    hits0, _, _ = cache_counts(srv)
    for _ in range(2):
        assert_verified(srv.verify(token), u)
    hits, _, _ = cache_counts(srv)
    assert hits - hits0 == 1, "the second check was answered from the cache"
    exp = decode_token(token)["exp"]
    while time.time() < exp + 1.1:  # whole seconds: past exp whichever way it rounds
        time.sleep(0.2)
    for r in (srv.verify(token), srv.me(token)):
        assert r.status_code == 401, r.text
        assert_www_authenticate(r, invalid_token=True)
    assert srv.verify(token).headers.get("X-Auth-User-Id") is None


def test_token_cache_bounded_answers_stay_right(make_server):
    # Far more tokens than entries: entries are dropped, no answer changes.
    srv = make_server(env={"VERIFY_CACHE_ENTRIES": "8"})
    users = [srv.new_user(f"Bounded{i}") for i in range(3)]
    tokens = [(u, srv.token(u["username"])) for u in users for _ in range(12)]
    for _ in range(2):
        for u, t in tokens:
            assert_verified(srv.verify(t), u)
    hits, misses, capacity = cache_counts(srv)
    assert capacity == 8
    assert hits + misses == 2 * len(tokens)


def test_token_cache_off(make_server):
    srv = make_server(env={"VERIFY_CACHE_ENTRIES": "0"})
    u = srv.new_user("NoCache")
    token = srv.token(u["username"])
    for _ in range(3):
        assert_verified(srv.verify(token), u)
    assert cache_counts(srv) == (0, 0, 0)
