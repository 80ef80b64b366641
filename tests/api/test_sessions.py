"""Sessions that really end (issue #8): refresh rotation with race-free reuse
detection on POST /refresh and the refresh grant of POST /token, POST /logout
and its scopes, PUT /me/password, DELETE /me, browser cookies with the Origin
check, the 405s, the purge timer, the new settings, and SQLite's one-server
rule.

The module runs on SQLite, and on PostgreSQL under scripts/with-pg.sh: the
servers a test starts itself (`start`) then use GATEHOUSE_TEST_DATABASE_URL
too. Revocation is checked at once on the instance that revoked, never after
a sleep. Cross-instance revocation (LISTEN/NOTIFY) is in test_postgres.py,
which runs a cluster of its own.
"""
import http.client
import json
import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from gh_helpers import (
    ERROR_CODES,
    START_TIMEOUT,
    TEST_DATABASE_URL,
    TITLES,
    RawResponse,
    allow_set,
    assert_common_headers,
    assert_problem,
    assert_token_headers,
    assert_www_authenticate,
    bearer,
    check_sanitizers,
    decode_token,
    media_type,
    sqlite_url,
    unique_username,
)

HANG = 120  # seconds: hang detection only

ALLOWED = "https://app.example.com"
ALLOWED_2 = "http://localhost:3000"
FOREIGN = "https://evil.example"

INVALID_DETAIL = "Could not validate credentials"
REUSE_DETAIL = "refresh token already used; its session is revoked"
ORIGIN_DETAIL = "Origin not allowed for a request authenticated by a cookie"
CREDENTIALS_DETAIL = "Incorrect username or password"
GRANT_INVALID = "refresh_token: invalid, expired or revoked"
GRANT_REUSED = "refresh_token: already used; its session is revoked"
GRANT_MISSING = "refresh_token: missing"

ACCESS_TTL = 1800            # ACCESS_TOKEN_EXPIRE_MINUTES default, in seconds
REFRESH_TTL = 30 * 86400     # REFRESH_TOKEN_EXPIRE_DAYS default, in seconds

sqlite_only = pytest.mark.skipif(
    TEST_DATABASE_URL is not None,
    reason="SQLite's one-server rule; it runs in the SQLite pass of the suite")


# ------------------------------------------------------------------ servers
def start(make_server, env=None, db_path=None, **kw):
    """A server of this test's own on the backend of this run: a SQLite file
    (`db_path`, else a fresh one), or under scripts/with-pg.sh the PostgreSQL
    database of GATEHOUSE_TEST_DATABASE_URL (`db_path` is then ignored, so a
    restart on the same `db_path` is a restart on the same database)."""
    if TEST_DATABASE_URL:
        return make_server(env=env, database_url=TEST_DATABASE_URL, **kw)
    return make_server(env=env, db_path=db_path, **kw)


COOKIE_ENV = {"SESSION_COOKIES": "1", "ALLOWED_ORIGINS": f"{ALLOWED},{ALLOWED_2}"}


@pytest.fixture(scope="module")
def cookie_server(make_module_server):
    kw = {"database_url": TEST_DATABASE_URL} if TEST_DATABASE_URL else {}
    return make_module_server(env=COOKIE_ENV, **kw)


# ----------------------------------------------------------------- requests
def login(srv, user, password=None):
    """Log in; returns the body with the access token's claims under "claims"."""
    r = srv.login(user["username"], password or user["password"])
    assert r.status_code == 200, f"login: {r.status_code} {r.text}"
    body = r.json()
    body["claims"] = decode_token(body["access_token"])
    return body


def refresh(srv, token, **kw):
    return srv.post_json("/refresh", {"refresh_token": token}, **kw)


def grant(srv, token):
    return srv.post("/token", data={"grant_type": "refresh_token", "refresh_token": token})


def logout(srv, access, scope=None, **kw):
    path = "/logout" if scope is None else f"/logout?scope={scope}"
    headers = dict(kw.pop("headers", {}))
    if access is not None:
        headers.update(bearer(access))
    return srv.post(path, headers=headers, **kw)


def change_password(srv, access, current, new, **kw):
    headers = dict(kw.pop("headers", {}))
    if access is not None:
        headers.update(bearer(access))
    body = kw.pop("json", {"current_password": current, "new_password": new})
    return srv.request("PUT", "/me/password", json=body, headers=headers, **kw)


def delete_me(srv, access, password, **kw):
    headers = dict(kw.pop("headers", {}))
    if access is not None:
        headers.update(bearer(access))
    body = kw.pop("json", {"password": password})
    return srv.request("DELETE", "/me", json=body, headers=headers, **kw)


def fire_together(targets, method, path, body, headers):
    """Send one request per target (a server) at the same moment: every
    connection is opened first, then a barrier releases all the sends."""
    conns = [http.client.HTTPConnection("127.0.0.1", srv.port, timeout=HANG) for srv in targets]
    for c in conns:
        c.connect()
    barrier = threading.Barrier(len(conns), timeout=HANG)

    def run(i):
        barrier.wait()
        conns[i].request(method, path, body=body, headers=headers)
        resp = conns[i].getresponse()
        return RawResponse(resp.status, resp.reason, resp.headers, resp.read())

    try:
        with ThreadPoolExecutor(max_workers=len(conns)) as ex:
            return list(ex.map(run, range(len(conns))))
    finally:
        for c in conns:
            c.close()


# --------------------------------------------------------------- assertions
def problem(resp, status, detail=None):
    """An RFC 9457 problem of `status` whose errors may name any field (the
    helper of gh_helpers knows register's fields only). Returns the body."""
    if status not in (403, 422):
        body = assert_problem(resp, status)
    else:
        assert resp.status_code == status, \
            f"expected {status}, got {resp.status_code}: {resp.text[:500]!r}"
        assert media_type(resp) == "application/problem+json", resp.headers.get("Content-Type")
        body = json.loads(resp.content)
        titles = TITLES.get(status, {"Forbidden"})
        assert body.get("type") == "about:blank" and body.get("title") in titles, body
        assert body.get("status") == status and type(body["status"]) is int, body
        assert isinstance(body.get("detail"), str) and body["detail"], body
        if status == 422:
            errors = body.get("errors")
            assert isinstance(errors, list) and errors, body
            for e in errors:
                assert isinstance(e, dict), body
                for key in ("field", "code", "message"):
                    assert isinstance(e.get(key), str) and e[key], body
            assert body["detail"] == f"{errors[0]['field']}: {errors[0]['message']}", body
        assert_common_headers(resp)
    if detail is not None:
        assert body["detail"] == detail, body
    return body


def field_error(resp, field, code):
    body = problem(resp, 422)
    pairs = [(e["field"], e["code"]) for e in body["errors"]]
    assert (field, code) in pairs, f"expected {field}/{code} among {pairs}: {body}"
    return body


def refused_refresh(resp, detail=INVALID_DETAIL):
    """401 of /refresh: problem+json, `detail`, Bearer error="invalid_token"."""
    problem(resp, 401, detail)
    assert_www_authenticate(resp, invalid_token=True)


def grant_error(resp, error, description):
    """RFC 6749 §5.2 from /token: 400 JSON, not cached."""
    assert resp.status_code == 400, f"expected 400, got {resp.status_code}: {resp.text!r}"
    assert media_type(resp) == "application/json", resp.headers.get("Content-Type")
    assert resp.json() == {"error": error, "error_description": description}
    assert_token_headers(resp)
    assert_common_headers(resp)


def tokens_body(resp, user, access_ttl=ACCESS_TTL):
    """A 200 with the body of /login for `user` (its access token living
    `access_ttl` seconds); returns it with "claims"."""
    assert resp.status_code == 200, f"expected 200, got {resp.status_code}: {resp.text!r}"
    assert media_type(resp) == "application/json"
    body = resp.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}, body
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == access_ttl and type(body["expires_in"]) is int, body
    assert isinstance(body["refresh_token"], str) and body["refresh_token"], body
    assert body["refresh_token"] != body["access_token"]
    assert_token_headers(resp)
    assert_common_headers(resp)
    body["claims"] = decode_token(body["access_token"])
    assert body["claims"]["sub"] == str(user["id"])
    assert body["claims"]["username"] == user["username"]
    return body


def access_works(srv, access, user):
    me = srv.me(access)
    assert me.status_code == 200, f"/me: {me.status_code} {me.text}"
    assert me.json()["id"] == user["id"]
    v = srv.verify(access)
    assert v.status_code == 204, f"/verify: {v.status_code} {v.text}"
    assert v.headers.get("X-Auth-User-Id") == str(user["id"])


def access_refused(srv, access, what="access token"):
    """The token gets 401 on /me and /verify, now (no waiting)."""
    for path in ("/me", "/verify"):
        r = srv.get(path, headers=bearer(access))
        assert r.status_code == 401, f"{what} on {path}: {r.status_code} {r.text}"
        assert_www_authenticate(r, invalid_token=True)
        assert "X-Auth-User-Id" not in r.headers


def refresh_refused(srv, token):
    """A revoked (never rotated) refresh token: 401 on /refresh, invalid_grant on
    /token. Neither call rotates anything, so both can be asked."""
    refused_refresh(refresh(srv, token), INVALID_DETAIL)
    grant_error(grant(srv, token), "invalid_grant", GRANT_INVALID)


def session_ended(srv, sess, what="session"):
    """Every token of a session `login` returned: access 401, refresh 401."""
    access_refused(srv, sess["access_token"], what)
    refresh_refused(srv, sess["refresh_token"])


def session_alive(srv, sess, user):
    """The access token works and the refresh token rotates (which consumes
    it: the session's tokens in `sess` are replaced by the new ones)."""
    access_works(srv, sess["access_token"], user)
    new = tokens_body(refresh(srv, sess["refresh_token"]), user)
    assert new["claims"]["sid"] == sess["claims"]["sid"]
    sess.update(new)


def no_content(resp):
    assert resp.status_code == 204, f"expected 204, got {resp.status_code}: {resp.text!r}"
    assert resp.content == b""
    assert_common_headers(resp)


# ================================================================ /refresh
def test_refresh_rotates_within_the_session(server, user):
    sess = login(server, user)
    r = refresh(server, sess["refresh_token"])
    new = tokens_body(r, user)
    assert new["refresh_token"] != sess["refresh_token"]
    assert new["access_token"] != sess["access_token"]
    assert new["claims"]["sid"] == sess["claims"]["sid"]
    assert new["claims"]["jti"] != sess["claims"]["jti"]
    assert new["claims"]["exp"] - new["claims"]["iat"] == ACCESS_TTL
    access_works(server, new["access_token"], user)
    # The new refresh token rotates again, in the same session.
    newer = tokens_body(refresh(server, new["refresh_token"]), user)
    assert newer["claims"]["sid"] == sess["claims"]["sid"]
    assert len({sess["refresh_token"], new["refresh_token"], newer["refresh_token"]}) == 3


def test_refresh_sessions_are_independent(server, user):
    a, b = login(server, user), login(server, user)
    assert a["claims"]["sid"] != b["claims"]["sid"]
    ra = tokens_body(refresh(server, a["refresh_token"]), user)
    rb = tokens_body(refresh(server, b["refresh_token"]), user)
    assert ra["claims"]["sid"] == a["claims"]["sid"]
    assert rb["claims"]["sid"] == b["claims"]["sid"]


def test_reused_refresh_token_revokes_the_session(server, user):
    sess = login(server, user)
    other = login(server, user)  # another session of the same user
    new = tokens_body(refresh(server, sess["refresh_token"]), user)
    r = refresh(server, sess["refresh_token"])  # the rotated token again: theft
    refused_refresh(r, REUSE_DETAIL)
    # Every token of the session: the first access token, the newest access
    # token and the newest refresh token, which was never used.
    access_refused(server, sess["access_token"], "the first access token")
    session_ended(server, new, "the newest tokens")
    # The user's other session is untouched.
    session_alive(server, other, user)


def test_reuse_of_an_older_generation_revokes(server, user):
    sess = login(server, user)
    chain = [sess]
    for _ in range(3):
        chain.append(tokens_body(refresh(server, chain[-1]["refresh_token"]), user))
    refused_refresh(refresh(server, chain[1]["refresh_token"]), REUSE_DETAIL)
    session_ended(server, chain[-1])
    for old in chain[:-1]:
        access_refused(server, old["access_token"])


def test_refresh_401_bodies_identical(server, user):
    a = refresh(server, "no-such-refresh-token")
    b = refresh(server, "no-such-refresh-token-either")
    refused_refresh(a)
    refused_refresh(b)
    assert a.content == b.content


@pytest.mark.parametrize("token", [
    "",
    "not-a-token",
    "A" * 43,
    "x" * 2000,
    "refresh token with spaces",
    "\u00e9t\u00e9-\U0001F600",
], ids=["empty", "garbage", "unknown-43", "long", "spaces", "non-ascii"])
def test_refresh_malformed_or_unknown(server, token):
    refused_refresh(refresh(server, token))


def test_refresh_with_an_access_token(server, user):
    sess = login(server, user)
    refused_refresh(refresh(server, sess["access_token"]))
    session_alive(server, sess, user)


def test_refresh_token_of_ended_session_by_logout(server, user):
    sess = login(server, user)
    no_content(logout(server, sess["access_token"]))
    refresh_refused(server, sess["refresh_token"])


def test_refresh_expired(make_server):
    # REFRESH_TOKEN_EXPIRE_SECONDS wins over REFRESH_TOKEN_EXPIRE_DAYS.
    srv = start(make_server, env={"REFRESH_TOKEN_EXPIRE_SECONDS": "2",
                                  "REFRESH_TOKEN_EXPIRE_DAYS": "1"})
    u = srv.new_user()
    sess = login(srv, u)
    fresh = tokens_body(refresh(srv, sess["refresh_token"]), u)  # within the 2 s
    time.sleep(3.2)
    refused_refresh(refresh(srv, fresh["refresh_token"]))
    grant_error(grant(srv, fresh["refresh_token"]), "invalid_grant", GRANT_INVALID)
    # An expired session's refresh token is refused; logging in again works.
    assert srv.login(u["username"]).status_code == 200


def test_refresh_body_rules(server, user):
    sess = login(server, user)
    bad_json = server.post("/refresh", data=b'{"refresh_token": ',
                           headers={"Content-Type": "application/json"})
    problem(bad_json, 400)
    not_object = server.post("/refresh", data=json.dumps([sess["refresh_token"]]),
                             headers={"Content-Type": "application/json"})
    problem(not_object, 400)
    wrong_type = server.post("/refresh", data=b"refresh_token=x",
                             headers={"Content-Type": "text/plain"})
    problem(wrong_type, 415)
    field_error(server.post_json("/refresh", {}), "refresh_token", "missing")
    field_error(server.post_json("/refresh", {"token": sess["refresh_token"]}),
                "refresh_token", "missing")
    for value in (123, True, [sess["refresh_token"]], {"t": sess["refresh_token"]}):
        field_error(server.post_json("/refresh", {"refresh_token": value}),
                    "refresh_token", "wrong_type")
    body = problem(server.post_json("/refresh", {"refresh_token": None}), 422)
    assert {(e["field"], e["code"]) for e in body["errors"]} & {
        ("refresh_token", "wrong_type"), ("refresh_token", "missing")}, body
    # None of these rotated anything: the token still works, once.
    new = tokens_body(refresh(server, sess["refresh_token"]), user)
    assert new["claims"]["sid"] == sess["claims"]["sid"]


def test_refresh_ignores_unknown_fields(server, user):
    sess = login(server, user)
    r = server.post_json("/refresh", {"refresh_token": sess["refresh_token"], "x": 1})
    tokens_body(r, user)


def test_refresh_answers_while_hashing_queue_is_full(make_server, tmp_path):
    """/refresh and /logout hash no password: they answer while slow password
    hashes (one worker, cost 14, about a second each) wait in the queue."""
    db = tmp_path / "busy.db"
    prep = start(make_server, db_path=db)
    u = prep.new_user()
    sessions = [login(prep, u) for _ in range(2)]
    prep.stop()

    env = {"WORKERS": "1", "QUEUE_SIZE": "16", "BCRYPT_ROUNDS": "14"}
    srv = start(make_server, env=env, db_path=db)
    n = 4
    results = [None] * n

    def fire(i):
        results[i] = srv.login(unique_username("ghost"), timeout=HANG)

    threads = [threading.Thread(target=fire, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    time.sleep(0.3)  # let the logins reach the queue
    r = refresh(srv, sessions[0]["refresh_token"], timeout=HANG)
    out = logout(srv, sessions[1]["access_token"], timeout=HANG)
    pending = sum(1 for x in results if x is None)
    for t in threads:
        t.join(HANG)
    tokens_body(r, u)
    no_content(out)
    assert pending > 0, "the logins finished before /refresh and /logout answered"
    assert all(x is not None and x.status_code == 401 for x in results)


# ------------------------------------------------------------ the race
def _race(targets, path, body, headers):
    results = fire_together(targets, "POST", path, body, headers)
    return results, [r.status_code for r in results]


@pytest.mark.parametrize("round_", range(3))
def test_refresh_race_20_threads_one_winner(server, round_):
    u = server.new_user("race")
    sess = login(server, u)
    other = login(server, u)
    body = json.dumps({"refresh_token": sess["refresh_token"]}).encode()
    results, statuses = _race([server] * 20, "/refresh", body,
                              {"Content-Type": "application/json"})
    assert statuses.count(200) == 1, statuses
    assert statuses.count(401) == 19, statuses
    winner = tokens_body(next(r for r in results if r.status_code == 200), u)
    assert winner["claims"]["sid"] == sess["claims"]["sid"]
    for r in results:
        if r.status_code == 401:
            # Each loser presented a token the winner had rotated: a replay.
            refused_refresh(r, REUSE_DETAIL)
    # Afterwards the whole session is revoked: its newest refresh token (the
    # winner's, never used) and its access tokens, old and new.
    access_refused(server, sess["access_token"], "the access token before the race")
    session_ended(server, winner, "the winner's tokens")
    session_alive(server, other, u)


def test_token_grant_race_20_threads_one_winner(server):
    u = server.new_user("grace")
    sess = login(server, u)
    body = f"grant_type=refresh_token&refresh_token={sess['refresh_token']}".encode()
    results, statuses = _race([server] * 20, "/token", body,
                              {"Content-Type": "application/x-www-form-urlencoded"})
    assert statuses.count(200) == 1, statuses
    assert statuses.count(400) == 19, statuses
    winner = tokens_body(next(r for r in results if r.status_code == 200), u)
    for r in results:
        if r.status_code == 400:
            grant_error(r, "invalid_grant", GRANT_REUSED)
    access_refused(server, sess["access_token"])
    session_ended(server, winner)


def test_mixed_race_refresh_and_token(server):
    """/refresh and /token swap the same token: 10 requests to each, released
    together, one winner in all."""
    u = server.new_user("mix")
    sess = login(server, u)
    tok = sess["refresh_token"]
    conns = [http.client.HTTPConnection("127.0.0.1", server.port, timeout=HANG)
             for _ in range(20)]
    for c in conns:
        c.connect()
    barrier = threading.Barrier(20, timeout=HANG)

    def run(i):
        if i % 2:
            path, body, ctype = ("/token", f"grant_type=refresh_token&refresh_token={tok}",
                                 "application/x-www-form-urlencoded")
        else:
            path, body, ctype = ("/refresh", json.dumps({"refresh_token": tok}),
                                 "application/json")
        barrier.wait()
        conns[i].request("POST", path, body=body.encode(), headers={"Content-Type": ctype})
        resp = conns[i].getresponse()
        return RawResponse(resp.status, resp.reason, resp.headers, resp.read())

    try:
        with ThreadPoolExecutor(max_workers=20) as ex:
            results = list(ex.map(run, range(20)))
    finally:
        for c in conns:
            c.close()
    statuses = [r.status_code for r in results]
    assert statuses.count(200) == 1, statuses
    for i, r in enumerate(results):
        if r.status_code == 200:
            winner = tokens_body(r, u)
        elif i % 2:
            grant_error(r, "invalid_grant", GRANT_REUSED)
        else:
            refused_refresh(r, REUSE_DETAIL)
    access_refused(server, sess["access_token"])
    session_ended(server, winner)


# ============================================================== /token grant
def test_token_refresh_grant(server, user):
    sess = login(server, user)
    r = grant(server, sess["refresh_token"])
    new = tokens_body(r, user)
    assert new["claims"]["sid"] == sess["claims"]["sid"]
    assert new["refresh_token"] != sess["refresh_token"]
    access_works(server, new["access_token"], user)
    # /refresh takes what /token issued, and the other way round.
    newer = tokens_body(refresh(server, new["refresh_token"]), user)
    tokens_body(grant(server, newer["refresh_token"]), user)


def test_token_refresh_grant_reuse(server, user):
    sess = login(server, user)
    new = tokens_body(grant(server, sess["refresh_token"]), user)
    grant_error(grant(server, sess["refresh_token"]), "invalid_grant", GRANT_REUSED)
    session_ended(server, new)


def test_token_grant_reuse_of_a_token_rotated_by_refresh(server, user):
    sess = login(server, user)
    new = tokens_body(refresh(server, sess["refresh_token"]), user)
    grant_error(grant(server, sess["refresh_token"]), "invalid_grant", GRANT_REUSED)
    session_ended(server, new)


@pytest.mark.parametrize("token", ["not-a-token", "A" * 43])
def test_token_refresh_grant_invalid(server, token):
    grant_error(grant(server, token), "invalid_grant", GRANT_INVALID)


@pytest.mark.parametrize("body", ["grant_type=refresh_token",
                                  "grant_type=refresh_token&refresh_token="])
def test_token_refresh_grant_missing(server, body):
    r = server.post("/token", data=body.encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    grant_error(r, "invalid_request", GRANT_MISSING)


# ================================================================= /logout
def test_logout_default_is_local(server, user):
    a, b = login(server, user), login(server, user)
    no_content(logout(server, a["access_token"]))
    session_ended(server, a)
    session_alive(server, b, user)


def test_logout_local(server, user):
    a, b = login(server, user), login(server, user)
    a2 = tokens_body(refresh(server, a["refresh_token"]), user)
    no_content(logout(server, a2["access_token"], "local"))
    access_refused(server, a["access_token"], "the session's older access token")
    session_ended(server, a2)
    session_alive(server, b, user)


def test_logout_others(server, user):
    keep, x, y = login(server, user), login(server, user), login(server, user)
    stranger = server.new_user()
    theirs = login(server, stranger)
    no_content(logout(server, keep["access_token"], "others"))
    session_ended(server, x)
    session_ended(server, y)
    session_alive(server, keep, user)
    session_alive(server, theirs, stranger)


def test_logout_global(server, user):
    a, b, c = login(server, user), login(server, user), login(server, user)
    stranger = server.new_user()
    theirs = login(server, stranger)
    no_content(logout(server, b["access_token"], "global"))
    for s in (a, b, c):
        session_ended(server, s)
    session_alive(server, theirs, stranger)
    # Logging in again opens a new, working session.
    session_alive(server, login(server, user), user)


@pytest.mark.parametrize("scope", ["", "all", "LOCAL", "Global", "local,global", "global%20",
                                   "others2"])
def test_logout_invalid_scope(server, user, scope):
    sess = login(server, user)
    r = logout(server, sess["access_token"], scope)
    body = field_error(r, "scope", "invalid")
    assert [e["field"] for e in body["errors"]] == ["scope"], body
    # Nothing was revoked.
    session_alive(server, sess, user)


def test_logout_invalid_scope_bodies_identical(server, user):
    sess = login(server, user)
    a = logout(server, sess["access_token"], "bogus")
    b = logout(server, sess["access_token"], "bogus")
    problem(a, 422)
    assert a.content == b.content


def test_logout_without_token(server):
    r = server.post("/logout")
    problem(r, 401)
    assert_www_authenticate(r, invalid_token=False)


@pytest.mark.parametrize("value", ["Bearer not-a-token", "Bearer a.b.c"])
def test_logout_bad_token(server, value):
    r = server.post("/logout", headers={"Authorization": value})
    problem(r, 401)
    assert_www_authenticate(r, invalid_token=True)


def test_logout_twice(server, user):
    sess = login(server, user)
    no_content(logout(server, sess["access_token"]))
    r = logout(server, sess["access_token"])
    problem(r, 401)
    assert_www_authenticate(r, invalid_token=True)


def test_revocation_survives_restart(make_server, tmp_path):
    """The revoked sessions are kept: a restarted server still refuses them."""
    db = tmp_path / "restart.db"
    first = start(make_server, db_path=db)
    u = first.new_user()
    gone, kept = login(first, u), login(first, u)
    no_content(logout(first, gone["access_token"]))
    first.stop()
    second = start(make_server, db_path=db)
    session_ended(second, gone)
    session_alive(second, kept, u)


# ============================================================ /me/password
NEW_PASSWORD = "a-brand-new-passphrase-7"


def test_change_password(server):
    u = server.new_user()
    caller, other, other2 = login(server, u), login(server, u), login(server, u)
    stranger = server.new_user()
    theirs = login(server, stranger)
    no_content(change_password(server, caller["access_token"], u["password"], NEW_PASSWORD))
    # Every other session of the user is revoked; the calling one stays.
    session_ended(server, other)
    session_ended(server, other2)
    session_alive(server, caller, u)
    session_alive(server, theirs, stranger)
    # The new password logs in, the old one no longer does.
    assert server.login(u["username"], NEW_PASSWORD).status_code == 200
    problem(server.login(u["username"], u["password"]), 401)
    r = server.post("/token", data={"grant_type": "password", "username": u["username"],
                                    "password": NEW_PASSWORD})
    tokens_body(r, u)


def test_change_password_wrong_current(server):
    u = server.new_user()
    caller, other = login(server, u), login(server, u)
    r = change_password(server, caller["access_token"], "not-the-password-1", NEW_PASSWORD)
    problem(r, 401, CREDENTIALS_DETAIL)
    assert_www_authenticate(r, invalid_token=False)
    # Nothing changed.
    session_alive(server, caller, u)
    session_alive(server, other, u)
    assert server.login(u["username"]).status_code == 200
    assert server.login(u["username"], NEW_PASSWORD).status_code == 401


def _too_long():
    return "\u20ac" * 24 + "x"  # 73 bytes of UTF-8 (bcrypt's limit is 72)


@pytest.mark.parametrize("new, code", [
    ("short", "too_short"),
    (None, "too_long"),
    ("password", "too_common"),
    ("USERNAME", "equals_username"),
    ("abcdefgh\u0000xyz", "contains_nul"),
], ids=["too_short", "too_long", "too_common", "equals_username", "contains_nul"])
def test_change_password_new_breaks_a_rule(server, new, code):
    u = server.new_user()
    if new is None:
        new = _too_long()
    elif new == "USERNAME":
        new = u["username"]
    caller, other = login(server, u), login(server, u)
    body = field_error(change_password(server, caller["access_token"], u["password"], new),
                       "new_password", code)
    assert code in ERROR_CODES and body["errors"][0]["field"] == "new_password", body
    session_alive(server, other, u)
    assert server.login(u["username"]).status_code == 200


def test_change_password_min_length_setting(make_server):
    srv = start(make_server, env={"PASSWORD_MIN_LENGTH": "12"})
    u = srv.new_user(password="twelve-chars-ok")
    sess = login(srv, u)
    field_error(change_password(srv, sess["access_token"], u["password"], "xk3#qz!w-ab"),
                "new_password", "too_short")  # 11
    no_content(change_password(srv, sess["access_token"], u["password"], "xk3#qz!w-abc"))


def test_change_password_fields(server, user):
    sess = login(server, user)
    tok = sess["access_token"]
    field_error(change_password(server, tok, None, None, json={"new_password": NEW_PASSWORD}),
                "current_password", "missing")
    field_error(change_password(server, tok, None, None,
                                json={"current_password": user["password"]}),
                "new_password", "missing")
    body = problem(change_password(server, tok, None, None, json={}), 422)
    assert {e["field"] for e in body["errors"]} <= {"current_password", "new_password"}, body
    assert {e["code"] for e in body["errors"]} == {"missing"}, body
    field_error(change_password(server, tok, None, None,
                                json={"current_password": 5, "new_password": NEW_PASSWORD}),
                "current_password", "wrong_type")
    field_error(change_password(server, tok, None, None,
                                json={"current_password": user["password"],
                                      "new_password": ["x"]}),
                "new_password", "wrong_type")
    r = server.request("PUT", "/me/password", data=b"{", headers={
        **bearer(tok), "Content-Type": "application/json"})
    problem(r, 400)
    r = server.request("PUT", "/me/password", data=b"x", headers={
        **bearer(tok), "Content-Type": "text/plain"})
    problem(r, 415)
    # None of these changed the password.
    assert server.login(user["username"]).status_code == 200


def test_change_password_needs_a_valid_token(server, user):
    r = change_password(server, None, user["password"], NEW_PASSWORD)
    problem(r, 401)
    assert_www_authenticate(r, invalid_token=False)
    sess = login(server, user)
    no_content(logout(server, sess["access_token"]))
    r = change_password(server, sess["access_token"], user["password"], NEW_PASSWORD)
    problem(r, 401)
    assert_www_authenticate(r, invalid_token=True)
    assert server.login(user["username"]).status_code == 200


def logins_racing(srv, username, password, action, n=16, step=0.04):
    """action() on one thread while n logins with `password` start every
    `step` seconds on others, so that some verify the password before action
    commits and open their session after it. Returns action's response and
    the logins' responses."""
    box, logins, lock = {}, [], threading.Lock()

    def act():
        box["r"] = action()

    def one(delay):
        time.sleep(delay)
        r = srv.login(username, password, timeout=HANG)
        with lock:
            logins.append(r)

    threads = [threading.Thread(target=act)]
    threads += [threading.Thread(target=one, args=(i * step,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(HANG)
    assert len(logins) == n and "r" in box, "a request never got an answer"
    return box["r"], logins


RACE_ENV = {"BCRYPT_ROUNDS": "12", "WORKERS": "4", "QUEUE_SIZE": "64"}


def test_password_change_racing_logins_with_the_old_password(make_server):
    """No session opened with the old password outlives the change, not even
    one whose login checked the password just before the change committed."""
    srv = start(make_server, env=RACE_ENV)
    u = srv.new_user()
    caller = login(srv, u)
    r, logins = logins_racing(srv, u["username"], u["password"], lambda: change_password(
        srv, caller["access_token"], u["password"], NEW_PASSWORD, timeout=HANG))
    no_content(r)
    survivors = []
    for x in logins:
        assert x.status_code in (200, 401), (x.status_code, x.text)
        if x.status_code == 200 and srv.verify(x.json()["access_token"]).status_code != 401:
            survivors.append(x.json())
    assert not survivors, (f"{len(survivors)} of {len(logins)} logins with the old password "
                           "kept a working session after the password change")
    assert srv.login(u["username"]).status_code == 401
    session_alive(srv, caller, u)


# ============================================================== DELETE /me
def test_delete_me(server):
    u = server.new_user("Del")
    caller, other = login(server, u), login(server, u)
    rotated = tokens_body(refresh(server, other["refresh_token"]), u)
    stranger = server.new_user()
    theirs = login(server, stranger)
    no_content(delete_me(server, caller["access_token"], u["password"]))
    # Every token of the user: 401 at once.
    session_ended(server, caller)
    session_ended(server, rotated)
    access_refused(server, other["access_token"])
    problem(server.login(u["username"]), 401)
    session_alive(server, theirs, stranger)
    # The name is free again, without regard to case; the new account is new.
    again = server.register(u["username"].upper(), "another-fine-password-3")
    assert again.status_code == 200, again.text
    assert again.json()["id"] > u["id"]
    fresh = server.login(u["username"], "another-fine-password-3")
    assert fresh.status_code == 200
    assert decode_token(fresh.json()["access_token"])["sub"] == str(again.json()["id"])
    access_refused(server, caller["access_token"], "the deleted account's token")


def test_delete_me_racing_logins(make_server):
    """Logins that race the deletion of their account get 401 (or 200 for a
    session that the deletion then ends), never an error of the server."""
    srv = start(make_server, env=RACE_ENV)
    u = srv.new_user()
    caller = login(srv, u)
    r, logins = logins_racing(srv, u["username"], u["password"], lambda: delete_me(
        srv, caller["access_token"], u["password"], timeout=HANG))
    no_content(r)
    statuses = [x.status_code for x in logins]
    assert set(statuses) <= {200, 401}, statuses
    for x in logins:
        if x.status_code == 200:
            access_refused(srv, x.json()["access_token"], "a racing login's token")
        else:
            problem(x, 401, CREDENTIALS_DETAIL)


def test_delete_me_rows_gone(server):
    u = server.new_user()
    sess = login(server, u)
    tokens_body(refresh(server, sess["refresh_token"]), u)
    if server.db_path is None:
        pytest.skip("rows are read from the SQLite file")
    no_content(delete_me(server, sess["access_token"], u["password"]))
    assert server.query("SELECT count(*) FROM users WHERE id = ?", (u["id"],)) == [(0,)]
    assert server.query("SELECT count(*) FROM sessions WHERE user_id = ?", (u["id"],)) == [(0,)]
    assert server.query("SELECT count(*) FROM refresh_history WHERE session_id = ?",
                        (sess["claims"]["sid"],)) == [(0,)]


def test_delete_me_wrong_password(server):
    u = server.new_user()
    sess = login(server, u)
    r = delete_me(server, sess["access_token"], "not-the-password-1")
    problem(r, 401, CREDENTIALS_DETAIL)
    assert_www_authenticate(r, invalid_token=False)
    session_alive(server, sess, u)
    assert server.login(u["username"]).status_code == 200


def test_delete_me_fields(server, user):
    sess = login(server, user)
    tok = sess["access_token"]
    field_error(delete_me(server, tok, None, json={}), "password", "missing")
    field_error(delete_me(server, tok, None, json={"pass": user["password"]}),
                "password", "missing")
    field_error(delete_me(server, tok, None, json={"password": 12345678}), "password",
                "wrong_type")
    problem(server.request("DELETE", "/me", data=b"[", headers={
        **bearer(tok), "Content-Type": "application/json"}), 400)
    problem(server.request("DELETE", "/me", data=b"password=x", headers={
        **bearer(tok), "Content-Type": "application/x-www-form-urlencoded"}), 415)
    session_alive(server, sess, user)


def test_delete_me_needs_a_valid_token(server, user):
    r = delete_me(server, None, user["password"])
    problem(r, 401)
    assert_www_authenticate(r, invalid_token=False)
    sess = login(server, user)
    no_content(logout(server, sess["access_token"]))
    r = delete_me(server, sess["access_token"], user["password"])
    problem(r, 401)
    assert_www_authenticate(r, invalid_token=True)
    assert server.login(user["username"]).status_code == 200


# ================================================================== 405s
@pytest.mark.parametrize("method, path, allowed", [
    ("PATCH", "/me", {"GET", "HEAD", "DELETE"}),
    ("PUT", "/me", {"GET", "HEAD", "DELETE"}),
    ("GET", "/refresh", {"POST"}),
    ("PUT", "/refresh", {"POST"}),
    ("GET", "/logout", {"POST"}),
    ("DELETE", "/logout", {"POST"}),
    ("POST", "/me/password", {"PUT"}),
    ("GET", "/me/password", {"PUT"}),
])
def test_wrong_method(server, method, path, allowed):
    r = server.request(method, path)
    problem(r, 405)
    assert allow_set(r) == allowed


# =============================================================== cookies
def set_cookies(resp):
    """Each Set-Cookie of a response as name -> (value, attributes, line);
    attribute names lower-cased (RFC 6265 §5.2), valueless ones True."""
    lines = resp.raw.headers.getlist("Set-Cookie")
    out = {}
    for line in lines:
        first, *rest = line.split(";")
        name, eq, value = first.strip().partition("=")
        assert eq, line
        attrs = {}
        for part in rest:
            key, eq, val = part.strip().partition("=")
            key = key.lower()
            assert key not in attrs, f"attribute {key} twice: {line}"
            attrs[key] = val if eq else True
        assert name not in out, f"cookie {name} set twice: {lines}"
        out[name] = (value, attrs, line)
    return out


def cookie_attrs(path, max_age, samesite, secure=True):
    want = {"path": path, "max-age": str(max_age), "httponly": True, "samesite": samesite}
    if secure:
        want["secure"] = True
    return want


def assert_token_cookies(resp, body, secure=True, refresh_ttl=REFRESH_TTL, slack=0):
    """Both cookies, exactly as the decisions say; the refresh cookie's
    Max-Age may be up to `slack` seconds under the full lifetime (a rotation
    may count from the session's start)."""
    cookies = set_cookies(resp)
    assert set(cookies) == {"access_token", "refresh_token"}, list(cookies)
    value, attrs, line = cookies["access_token"]
    assert value == body["access_token"], line
    assert attrs == cookie_attrs("/", body["expires_in"], "Lax", secure), line
    value, attrs, line = cookies["refresh_token"]
    assert value == body["refresh_token"], line
    max_age = attrs.get("max-age")
    assert max_age is not None and max_age.isdigit(), line
    assert refresh_ttl - slack <= int(max_age) <= refresh_ttl, line
    assert attrs == cookie_attrs("/refresh", max_age, "Strict", secure), line


def assert_cleared_cookies(resp, secure=True):
    cookies = set_cookies(resp)
    assert set(cookies) == {"access_token", "refresh_token"}, list(cookies)
    value, attrs, line = cookies["access_token"]
    assert value == "" and attrs == cookie_attrs("/", 0, "Lax", secure), line
    value, attrs, line = cookies["refresh_token"]
    assert value == "" and attrs == cookie_attrs("/refresh", 0, "Strict", secure), line


def no_set_cookie(resp, what):
    assert resp.raw.headers.getlist("Set-Cookie") == [], f"{what}: {resp.headers}"


def test_login_sets_cookies(cookie_server):
    u = cookie_server.new_user()
    r = cookie_server.login(u["username"])
    assert_token_cookies(r, tokens_body(r, u))


def test_token_endpoint_sets_cookies(cookie_server):
    u = cookie_server.new_user()
    r = cookie_server.post("/token", data={"grant_type": "password", "username": u["username"],
                                           "password": u["password"]})
    body = tokens_body(r, u)
    assert_token_cookies(r, body)
    r = grant(cookie_server, body["refresh_token"])
    assert_token_cookies(r, tokens_body(r, u), slack=5)


def test_refresh_sets_cookies(cookie_server):
    u = cookie_server.new_user()
    sess = login(cookie_server, u)
    r = refresh(cookie_server, sess["refresh_token"])
    assert_token_cookies(r, tokens_body(r, u), slack=5)


def test_no_cookies_on_failed_login(cookie_server):
    u = cookie_server.new_user()
    r = cookie_server.login(u["username"], "wrong-password-1")
    problem(r, 401)
    no_set_cookie(r, "a failed login")


def test_refresh_from_cookie(cookie_server):
    u = cookie_server.new_user()
    sess = login(cookie_server, u)
    r = cookie_server.post_json("/refresh", {}, headers={"Origin": ALLOWED},
                                cookies={"refresh_token": sess["refresh_token"]})
    body = tokens_body(r, u)
    assert body["claims"]["sid"] == sess["claims"]["sid"]
    assert_token_cookies(r, body, slack=5)
    # The cookie's token was rotated like any other: presented again, it is a replay.
    again = cookie_server.post_json("/refresh", {}, headers={"Origin": ALLOWED_2},
                                    cookies={"refresh_token": sess["refresh_token"]})
    refused_refresh(again, REUSE_DETAIL)
    session_ended(cookie_server, body)


def test_refresh_body_token_wins_over_cookie(cookie_server):
    u = cookie_server.new_user()
    a, b = login(cookie_server, u), login(cookie_server, u)
    # A token in the body is no cookie: no Origin needed.
    r = cookie_server.post_json("/refresh", {"refresh_token": a["refresh_token"]},
                                cookies={"refresh_token": b["refresh_token"]})
    assert tokens_body(r, u)["claims"]["sid"] == a["claims"]["sid"]
    session_alive(cookie_server, b, u)  # b's refresh token was not used


def test_refresh_without_field_or_cookie(cookie_server):
    field_error(cookie_server.post_json("/refresh", {}, headers={"Origin": ALLOWED}),
                "refresh_token", "missing")


@pytest.mark.parametrize("origin", [
    None,
    FOREIGN,
    "https://app.example.com.evil.example",
    "http://app.example.com",
    "https://app.example.com:8443",
    "https://app.example.com/",
    "null",
    "",
], ids=["missing", "foreign", "suffix", "scheme", "port", "slash", "null", "empty"])
def test_refresh_cookie_origin_refused(cookie_server, origin):
    u = cookie_server.new_user()
    sess = login(cookie_server, u)
    headers = {} if origin is None else {"Origin": origin}
    r = cookie_server.post_json("/refresh", {}, headers=headers,
                                cookies={"refresh_token": sess["refresh_token"]})
    problem(r, 403, ORIGIN_DETAIL)
    no_set_cookie(r, "a refused refresh")
    # Nothing changed: the token was not rotated (no replay afterwards).
    r = cookie_server.post_json("/refresh", {}, headers={"Origin": ALLOWED},
                                cookies={"refresh_token": sess["refresh_token"]})
    tokens_body(r, u)


def test_referer_is_no_origin(cookie_server):
    u = cookie_server.new_user()
    sess = login(cookie_server, u)
    r = cookie_server.post("/logout", headers={"Referer": ALLOWED + "/settings"},
                           cookies={"access_token": sess["access_token"]})
    problem(r, 403, ORIGIN_DETAIL)
    session_alive(cookie_server, sess, u)


def test_logout_by_cookie(cookie_server):
    u = cookie_server.new_user()
    sess, other = login(cookie_server, u), login(cookie_server, u)
    r = cookie_server.post("/logout", headers={"Origin": ALLOWED},
                           cookies={"access_token": sess["access_token"]})
    no_content(r)
    assert_cleared_cookies(r)
    session_ended(cookie_server, sess)
    session_alive(cookie_server, other, u)
    # The cookie itself is refused from now on, /verify included.
    v = cookie_server.get("/verify", cookies={"access_token": sess["access_token"]})
    assert v.status_code == 401, v.text


def test_logout_by_cookie_second_allowed_origin_and_scope(cookie_server):
    u = cookie_server.new_user()
    sess, other = login(cookie_server, u), login(cookie_server, u)
    r = cookie_server.post("/logout?scope=others", headers={"Origin": ALLOWED_2},
                           cookies={"access_token": sess["access_token"]})
    no_content(r)
    session_ended(cookie_server, other)
    access_works(cookie_server, sess["access_token"], u)


@pytest.mark.parametrize("origin", [None, FOREIGN, "https://app.example.com.evil.example"],
                         ids=["missing", "foreign", "suffix"])
def test_logout_by_cookie_origin_refused(cookie_server, origin):
    u = cookie_server.new_user()
    sess = login(cookie_server, u)
    headers = {} if origin is None else {"Origin": origin}
    r = cookie_server.post("/logout?scope=global", headers=headers,
                           cookies={"access_token": sess["access_token"]})
    problem(r, 403, ORIGIN_DETAIL)
    no_set_cookie(r, "a refused logout")
    session_alive(cookie_server, sess, u)


def test_logout_by_bearer_clears_cookies_and_ignores_origin(cookie_server):
    u = cookie_server.new_user()
    a, b = login(cookie_server, u), login(cookie_server, u)
    # The Bearer header is not subject to the Origin rule, and wins over the cookie.
    r = cookie_server.post("/logout", headers={**bearer(a["access_token"]), "Origin": FOREIGN},
                           cookies={"access_token": b["access_token"]})
    no_content(r)
    assert_cleared_cookies(r)
    session_ended(cookie_server, a)
    session_alive(cookie_server, b, u)


def test_logout_others_keeps_the_cookies(cookie_server):
    """scope=others keeps this session, so its cookies stay. (The decisions
    say "/logout clears both"; the server clears them for local and global
    only, which README and openapi.json describe.)"""
    u = cookie_server.new_user()
    keep, other = login(cookie_server, u), login(cookie_server, u)
    r = cookie_server.post("/logout?scope=others", headers={"Origin": ALLOWED},
                           cookies={"access_token": keep["access_token"]})
    no_content(r)
    no_set_cookie(r, "/logout?scope=others")
    session_ended(cookie_server, other)
    session_alive(cookie_server, keep, u)
    r = logout(cookie_server, keep["access_token"], "global")
    no_content(r)
    assert_cleared_cookies(r)


def test_delete_me_clears_the_cookies(cookie_server):
    u = cookie_server.new_user()
    sess = login(cookie_server, u)
    r = delete_me(cookie_server, sess["access_token"], u["password"])
    no_content(r)
    assert_cleared_cookies(r)


def test_change_password_by_cookie(cookie_server):
    u = cookie_server.new_user()
    sess, other = login(cookie_server, u), login(cookie_server, u)
    body = {"current_password": u["password"], "new_password": NEW_PASSWORD}
    for origin in (None, FOREIGN):
        headers = {} if origin is None else {"Origin": origin}
        r = cookie_server.request("PUT", "/me/password", json=body, headers=headers,
                                  cookies={"access_token": sess["access_token"]})
        problem(r, 403, ORIGIN_DETAIL)
    # Nothing changed: the old password logs in, the other session lives.
    assert cookie_server.login(u["username"]).status_code == 200
    session_alive(cookie_server, other, u)
    r = cookie_server.request("PUT", "/me/password", json=body, headers={"Origin": ALLOWED},
                              cookies={"access_token": sess["access_token"]})
    no_content(r)
    session_ended(cookie_server, other)
    assert cookie_server.login(u["username"], NEW_PASSWORD).status_code == 200
    assert cookie_server.login(u["username"]).status_code == 401


def test_change_password_by_bearer_ignores_origin(cookie_server):
    u = cookie_server.new_user()
    sess = login(cookie_server, u)
    r = change_password(cookie_server, sess["access_token"], u["password"], NEW_PASSWORD,
                        headers={"Origin": FOREIGN})
    no_content(r)
    assert cookie_server.login(u["username"], NEW_PASSWORD).status_code == 200


def test_delete_me_by_cookie(cookie_server):
    u = cookie_server.new_user()
    sess = login(cookie_server, u)
    for origin in (None, FOREIGN):
        headers = {} if origin is None else {"Origin": origin}
        r = cookie_server.request("DELETE", "/me", json={"password": u["password"]},
                                  headers=headers, cookies={"access_token": sess["access_token"]})
        problem(r, 403, ORIGIN_DETAIL)
    access_works(cookie_server, sess["access_token"], u)
    assert cookie_server.login(u["username"]).status_code == 200
    r = cookie_server.request("DELETE", "/me", json={"password": u["password"]},
                              headers={"Origin": ALLOWED},
                              cookies={"access_token": sess["access_token"]})
    no_content(r)
    access_refused(cookie_server, sess["access_token"])
    problem(cookie_server.login(u["username"]), 401)


def test_delete_me_by_bearer_ignores_origin(cookie_server):
    u = cookie_server.new_user()
    sess = login(cookie_server, u)
    r = delete_me(cookie_server, sess["access_token"], u["password"],
                  headers={"Origin": FOREIGN})
    no_content(r)
    problem(cookie_server.login(u["username"]), 401)


def test_reads_by_cookie_need_no_origin(cookie_server):
    u = cookie_server.new_user()
    sess = login(cookie_server, u)
    me = cookie_server.get("/me", headers={"Origin": FOREIGN},
                           cookies={"access_token": sess["access_token"]})
    assert me.status_code == 200 and me.json()["id"] == u["id"], me.text
    v = cookie_server.get("/verify", cookies={"access_token": sess["access_token"]})
    assert v.status_code == 204, v.text


CROSS_SITE_DETAIL = "Origin not allowed for a sign-in that sets cookies"


@pytest.mark.parametrize("origin", [FOREIGN, "null", "https://app.example.com.evil.example"],
                         ids=["foreign", "null", "suffix"])
def test_cross_site_sign_in_refused(cookie_server, origin):
    """Login CSRF: a cross-site form posted to /login or /token would set
    the victim's cookies to the attacker's account. Its Origin is checked
    as a cookie-authenticated change's is: 403, no cookie, no session."""
    u = cookie_server.new_user()
    r = cookie_server.post_json("/login", {"username": u["username"], "password": u["password"]},
                                headers={"Origin": origin})
    problem(r, 403, CROSS_SITE_DETAIL)
    no_set_cookie(r, "a cross-site /login")
    r = cookie_server.post("/token", headers={"Origin": origin},
                           data={"grant_type": "password", "username": u["username"],
                                 "password": u["password"]})
    problem(r, 403, CROSS_SITE_DETAIL)
    assert r.headers.get("Cache-Control") == "no-store"
    no_set_cookie(r, "a cross-site /token")


def test_sign_in_from_allowed_own_or_no_origin(cookie_server):
    """An allowed origin, the service's own (https:// and its Host: the
    /docs page) and a client that sends no Origin (no browser form) sign in
    and get their cookies."""
    u = cookie_server.new_user()
    own = f"https://127.0.0.1:{cookie_server.port}"
    for headers in ({"Origin": ALLOWED}, {"Origin": own}, {}):
        r = cookie_server.login(u["username"], headers=headers)
        assert_token_cookies(r, tokens_body(r, u))


def test_sign_in_any_origin_without_cookies(server):
    """Without SESSION_COOKIES no sign-in sets a cookie: no Origin rule."""
    u = server.new_user()
    r = server.login(u["username"], headers={"Origin": FOREIGN})
    tokens_body(r, u)
    no_set_cookie(r, "a login without SESSION_COOKIES")


def test_own_origin_passes_the_cookie_rule(cookie_server):
    """The service's own origin (the /docs page's) may log out by cookie,
    whatever ALLOWED_ORIGINS says: "https://" and the request's Host, as
    COOKIE_SECURE=1 says the service is reached over HTTPS. The same host
    over plain HTTP, or another port, is not the same origin."""
    u = cookie_server.new_user()
    host = f"127.0.0.1:{cookie_server.port}"
    for origin in (f"http://{host}", f"https://127.0.0.1:{cookie_server.port + 1}"):
        sess = login(cookie_server, u)
        r = cookie_server.post("/logout", headers={"Origin": origin},
                               cookies={"access_token": sess["access_token"]})
        problem(r, 403, ORIGIN_DETAIL)
    sess = login(cookie_server, u)
    r = cookie_server.post("/logout", headers={"Origin": f"https://{host}"},
                           cookies={"access_token": sess["access_token"]})
    no_content(r)
    assert_cleared_cookies(r)
    access_refused(cookie_server, sess["access_token"])


def test_own_origin_over_plain_http_with_cookie_secure_0(make_server):
    srv = start(make_server, env={"SESSION_COOKIES": "1", "COOKIE_SECURE": "0"})
    u = srv.new_user()
    sess = login(srv, u)
    r = srv.post("/logout", headers={"Origin": f"http://127.0.0.1:{srv.port}"},
                 cookies={"access_token": sess["access_token"]})
    no_content(r)
    assert_cleared_cookies(r, secure=False)


def test_cookie_secure_0(make_server):
    srv = start(make_server, env={**COOKIE_ENV, "COOKIE_SECURE": "0"})
    u = srv.new_user()
    r = srv.login(u["username"])
    body = tokens_body(r, u)
    assert_token_cookies(r, body, secure=False)
    r = refresh(srv, body["refresh_token"])
    body = tokens_body(r, u)
    assert_token_cookies(r, body, secure=False, slack=5)
    r = logout(srv, body["access_token"])
    no_content(r)
    assert_cleared_cookies(r, secure=False)


def test_refresh_cookie_lifetime_settings(make_server):
    srv = start(make_server, env={**COOKIE_ENV, "REFRESH_TOKEN_EXPIRE_DAYS": "5"})
    u = srv.new_user()
    r = srv.login(u["username"])
    assert_token_cookies(r, tokens_body(r, u), refresh_ttl=5 * 86400)
    srv2 = start(make_server, env={**COOKIE_ENV, "REFRESH_TOKEN_EXPIRE_DAYS": "5",
                                   "REFRESH_TOKEN_EXPIRE_SECONDS": "120",
                                   "ACCESS_TOKEN_EXPIRE_MINUTES": "7"})
    r = srv2.login(srv2.new_user()["username"])
    body = r.json()
    assert r.status_code == 200 and body["expires_in"] == 420, body
    cookies = set_cookies(r)
    assert cookies["refresh_token"][1]["max-age"] == "120", cookies
    assert cookies["access_token"][1]["max-age"] == "420", cookies


def test_no_cookies_without_session_cookies(server):
    """SESSION_COOKIES defaults to 0: no Set-Cookie, ever."""
    u = server.new_user()
    r = server.login(u["username"])
    no_set_cookie(r, "/login")
    sess = r.json()
    r = server.post("/token", data={"grant_type": "password", "username": u["username"],
                                    "password": u["password"]})
    no_set_cookie(r, "/token password grant")
    r = grant(server, r.json()["refresh_token"])
    no_set_cookie(r, "/token refresh grant")
    r = refresh(server, sess["refresh_token"])
    no_set_cookie(r, "/refresh")
    sess = r.json()
    r = change_password(server, sess["access_token"], u["password"], NEW_PASSWORD)
    no_content(r)
    no_set_cookie(r, "PUT /me/password")
    r = logout(server, sess["access_token"])
    no_content(r)
    no_set_cookie(r, "/logout")
    sess = login(server, u, NEW_PASSWORD)
    r = delete_me(server, sess["access_token"], NEW_PASSWORD)
    no_content(r)
    no_set_cookie(r, "DELETE /me")


def test_cookie_logout_refused_without_allowed_origins(server, user):
    """ALLOWED_ORIGINS is empty by default: no Origin is allowed."""
    sess = login(server, user)
    for origin in (ALLOWED, "http://127.0.0.1:%d" % server.port):
        r = server.post("/logout", headers={"Origin": origin},
                        cookies={"access_token": sess["access_token"]})
        problem(r, 403, ORIGIN_DETAIL)
    session_alive(server, sess, user)


# =============================================================== settings
NEW_SETTINGS = ("SESSION_COOKIES", "COOKIE_SECURE", "ALLOWED_ORIGINS",
                "REFRESH_TOKEN_EXPIRE_SECONDS", "SESSION_PURGE_INTERVAL_SECONDS")


def flag(setting):
    return "--" + setting.lower().replace("_", "-")


@pytest.mark.parametrize("setting, value", [
    ("SESSION_COOKIES", "2"),
    ("SESSION_COOKIES", "yes please"),
    ("COOKIE_SECURE", "x"),
    ("REFRESH_TOKEN_EXPIRE_SECONDS", "abc"),
    ("REFRESH_TOKEN_EXPIRE_SECONDS", "-1"),
    ("SESSION_PURGE_INTERVAL_SECONDS", "abc"),
    ("SESSION_PURGE_INTERVAL_SECONDS", "-1"),
])
def test_bad_session_setting_exits_2(run_gatehouse, setting, value):
    for how in ("env", "flag"):
        if how == "env":
            res = run_gatehouse(env={setting: value})
        else:
            res = run_gatehouse(args=[flag(setting), value])
        assert res.returncode == 2, (how, res.returncode, res.stderr)
        assert setting in res.stderr or flag(setting) in res.stderr, (how, res.stderr)


def test_session_settings_as_flags(make_server):
    """Each new setting is also a flag."""
    srv = start(make_server, args=[
        "--session-cookies", "1", "--cookie-secure", "0", "--allowed-origins", ALLOWED,
        "--refresh-token-expire-seconds", "2", "--session-purge-interval-seconds", "1",
        "--access-token-expire-seconds", "2"])
    u = srv.new_user()
    r = srv.login(u["username"])
    body = tokens_body(r, u, access_ttl=2)
    assert_token_cookies(r, body, secure=False, refresh_ttl=2)
    r = srv.post("/logout", headers={"Origin": ALLOWED},
                 cookies={"access_token": body["access_token"]})
    no_content(r)
    assert_cleared_cookies(r, secure=False)
    if srv.db_path is not None:
        sess = login(srv, u)
        sid = sess["claims"]["sid"]
        deadline = time.monotonic() + 12
        while srv.query("SELECT count(*) FROM sessions WHERE id = ?", (sid,)) != [(0,)]:
            assert time.monotonic() < deadline, "the expired session was never purged"
            time.sleep(0.2)


# ================================================================= purge
def test_access_tokens_of_expired_sessions_are_revoked(make_server):
    """A session may end before its access tokens do (here it lives 1 s,
    its access tokens 30 minutes). Once it has expired, and the purge timer
    has run several times, a global logout, a password change and an
    account deletion from a new session still revoke the old access token:
    the purge keeps a session while its last access token is valid."""
    srv = start(make_server, env={"REFRESH_TOKEN_EXPIRE_SECONDS": "1",
                                  "SESSION_PURGE_INTERVAL_SECONDS": "1"})
    users = [srv.new_user() for _ in range(3)]
    old = [login(srv, u) for u in users]
    # The sessions expire, and the purge timer (every second) gets several
    # rounds at them.
    time.sleep(4.5)
    for s, u in zip(old, users):
        # Expired (a refresh of an expired session revokes nothing), yet
        # its access token is good.
        refused_refresh(refresh(srv, s["refresh_token"]), INVALID_DETAIL)
        access_works(srv, s["access_token"], u)
    logged_out, changed, deleted = users
    no_content(logout(srv, login(srv, logged_out)["access_token"], scope="global"))
    no_content(change_password(srv, login(srv, changed)["access_token"], changed["password"],
                               NEW_PASSWORD))
    no_content(delete_me(srv, login(srv, deleted)["access_token"], deleted["password"]))
    for s, what in zip(old, ("after logout all", "after a password change", "after deletion")):
        access_refused(srv, s["access_token"], what=f"an expired session's token {what}")


def test_expired_sessions_are_purged(make_server):
    # Its access tokens live 2 s: the row goes once they have expired too.
    srv = start(make_server, env={"REFRESH_TOKEN_EXPIRE_SECONDS": "2",
                                  "ACCESS_TOKEN_EXPIRE_SECONDS": "2",
                                  "SESSION_PURGE_INTERVAL_SECONDS": "1"})
    if srv.db_path is None:
        pytest.skip("rows are read from the SQLite file; on PostgreSQL see test_postgres.py")
    u = srv.new_user()
    sess = login(srv, u)
    sid = sess["claims"]["sid"]
    # Leaves a refresh_history row.
    tokens_body(refresh(srv, sess["refresh_token"]), u, access_ttl=2)
    assert srv.query("SELECT count(*) FROM sessions WHERE id = ?", (sid,)) == [(1,)]
    assert srv.query("SELECT count(*) FROM refresh_history WHERE session_id = ?",
                     (sid,)) != [(0,)]
    deadline = time.monotonic() + 12
    while srv.query("SELECT count(*) FROM sessions WHERE id = ?", (sid,)) != [(0,)]:
        assert time.monotonic() < deadline, "the expired session was never purged"
        time.sleep(0.2)
    assert srv.query("SELECT count(*) FROM refresh_history WHERE session_id = ?",
                     (sid,)) == [(0,)]
    # The user stays; only the session went.
    assert srv.query("SELECT count(*) FROM users WHERE id = ?", (u["id"],)) == [(1,)]


@pytest.mark.skipif(os.environ.get("GATEHOUSE_ASAN") == "1",
                    reason="a minute of waiting; the plain run has it, and the purge path runs "
                           "under ASan in test_expired_sessions_are_purged")
def test_revoked_sessions_are_purged_after_an_access_token_lifetime(make_server):
    """A revoked session's row stays while its access tokens could still be
    presented (ACCESS_TOKEN_EXPIRE_MINUTES=1), then goes. About 65 s."""
    srv = start(make_server, env={"ACCESS_TOKEN_EXPIRE_MINUTES": "1",
                                  "SESSION_PURGE_INTERVAL_SECONDS": "1"})
    if srv.db_path is None:
        pytest.skip("rows are read from the SQLite file; on PostgreSQL see test_postgres.py")
    u = srv.new_user()
    gone, kept = login(srv, u), login(srv, u)
    no_content(logout(srv, gone["access_token"]))
    revoked_at = time.monotonic()
    count = "SELECT count(*) FROM sessions WHERE id = ?"
    time.sleep(3)  # several purge rounds
    rows = srv.query("SELECT revoked_at FROM sessions WHERE id = ?", (gone["claims"]["sid"],))
    assert len(rows) == 1 and rows[0][0] is not None, \
        f"a session revoked 3 s ago is gone before its access tokens expired: {rows}"
    access_refused(srv, gone["access_token"])
    deadline = revoked_at + 60 + 10
    while srv.query(count, (gone["claims"]["sid"],)) != [(0,)]:
        assert time.monotonic() < deadline, "the revoked session was never purged"
        time.sleep(0.5)
    assert time.monotonic() - revoked_at > 59, "purged before an access-token lifetime"
    assert srv.query(count, (kept["claims"]["sid"],)) == [(1,)]
    access_refused(srv, gone["access_token"])


# ==================================================== SQLite: one server
def _second(make_server, first, **kw):
    """Start another `serve` on first's file; wait for it to exit."""
    srv = make_server(wait=False, **kw)
    try:
        rc = srv.proc.wait(START_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail("a second server on the same SQLite file kept running: "
                    f"{srv.stderr()[-2000:]}")
    srv.finished = True  # its exit status is asserted here, not on teardown
    return srv, rc


@sqlite_only
@pytest.mark.parametrize("spelling", ["same", "relative", "symlink"])
def test_second_server_on_the_same_file_refuses(make_server, tmp_path, spelling):
    db = tmp_path / "one.db"
    first = make_server(db_path=db, workdir=tmp_path)
    u = first.new_user()
    if spelling == "same":
        second, rc = _second(make_server, first, db_path=db)
    elif spelling == "relative":
        second, rc = _second(make_server, first, workdir=tmp_path,
                             env={"DATABASE_URL": "sqlite:///one.db"})
    else:
        link = tmp_path / "link"
        link.mkdir()
        os.symlink(db, link / "alias.db")
        second, rc = _second(make_server, first,
                             env={"DATABASE_URL": "sqlite:///" + str(link / "alias.db")})
    err = second.stderr()
    check_sanitizers(err, "second gatehouse")
    assert rc == 1, (rc, err)
    assert "another gatehouse process" in err, err
    # The first server never noticed.
    assert first.running()
    sess = login(first, u)
    session_alive(first, sess, u)


@sqlite_only
def test_migrate_beside_a_running_server(make_server, run_gatehouse, tmp_path):
    db = tmp_path / "beside.db"
    srv = make_server(db_path=db)
    u = srv.new_user()
    sess = login(srv, u)
    for _ in range(2):
        res = run_gatehouse(args=["migrate"], env={"DATABASE_URL": sqlite_url(db),
                                                   "SECRET_KEY": None})
        assert res.returncode == 0, res.stderr
    session_alive(srv, sess, u)
    srv.new_user()


@sqlite_only
def test_kill_9_leaves_no_lock(make_server, run_gatehouse, tmp_path):
    db = tmp_path / "killed.db"
    srv = make_server(db_path=db)
    u = srv.new_user()
    sess = login(srv, u)
    for round_ in range(2):
        # Keep it busy writing (each login opens a session) when it dies.
        stop = threading.Event()

        def writer(s=srv):
            while not stop.is_set():
                try:
                    s.login(u["username"], timeout=5)
                except requests.RequestException:
                    return

        threads = [threading.Thread(target=writer, daemon=True) for _ in range(3)]
        for t in threads:
            t.start()
        time.sleep(0.5)
        srv.kill()
        stop.set()
        for t in threads:
            t.join(HANG)
        res = run_gatehouse(args=["migrate"], env={"DATABASE_URL": sqlite_url(db),
                                                   "SECRET_KEY": None})
        assert res.returncode == 0, (round_, res.stderr)
        srv = make_server(db_path=db)  # starts: no lock left behind
        session_alive(srv, sess, u)
        assert srv.login(u["username"]).status_code == 200


@sqlite_only
def test_separate_files_serve_side_by_side(make_server, tmp_path):
    a = make_server(db_path=tmp_path / "a.db")
    b = make_server(db_path=tmp_path / "b.db")
    a.new_user()
    b.new_user()
