"""POST /login: token response, case-insensitive names, identical 401s, no
registration rules at login, sessions rows."""
import sqlite3

import pytest
from passlib.hash import bcrypt as passlib_bcrypt

from gh_helpers import (
    PASSWORD,
    assert_422,
    assert_common_headers,
    assert_problem,
    assert_token_headers,
    assert_www_authenticate,
    decode_token,
    media_type,
    unique_username,
)


def test_login_success_body_and_headers(server, user):
    r = server.login(user["username"], PASSWORD)
    assert r.status_code == 200, r.text
    assert media_type(r) == "application/json"
    body = r.json()
    assert {"access_token", "token_type", "expires_in", "refresh_token"} <= set(body), body
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 1800 and type(body["expires_in"]) is int
    assert isinstance(body["access_token"], str) and body["access_token"].count(".") == 2
    assert isinstance(body["refresh_token"], str) and len(body["refresh_token"]) >= 22
    assert body["refresh_token"] != body["access_token"]
    assert_token_headers(r)
    assert_common_headers(r)
    claims = decode_token(body["access_token"])
    assert claims["sub"] == str(user["id"])


@pytest.mark.parametrize("variant", [str.lower, str.upper, str.swapcase])
def test_login_case_insensitive(server, variant):
    u = server.new_user("CaSe")
    r = server.login(variant(u["username"]), PASSWORD)
    assert r.status_code == 200, r.text
    claims = decode_token(r.json()["access_token"])
    assert claims["sub"] == str(u["id"])
    assert claims["username"] == u["username"]  # the stored spelling


def test_login_password_is_case_sensitive(server, user):
    r = server.login(user["username"], PASSWORD.upper())
    assert_problem(r, 401)


def test_wrong_password_and_unknown_user_identical(server, user):
    wrong = server.login(user["username"], "not-the-password-1")
    unknown = server.login(unique_username("ghost"), "not-the-password-1")
    for r in (wrong, unknown):
        assert_problem(r, 401)
        assert_www_authenticate(r, invalid_token=False)
    assert wrong.content == unknown.content
    again = server.login(user["username"], "not-the-password-1")
    assert again.content == wrong.content


def test_401_has_no_token_and_detail_string(server, user):
    r = server.login(user["username"], "not-the-password-1")
    body = assert_problem(r, 401)
    assert "access_token" not in body
    assert isinstance(body["detail"], str)


def test_password_over_72_bytes_is_401_not_422(server):
    # bcrypt only sees 72 bytes; a longer password must never match (no truncation).
    password = "k" * 72
    u = server.new_user(password=password)
    assert server.login(u["username"], password).status_code == 200
    for longer in (password + "x", password + "k", password + "\u20ac"):
        r = server.login(u["username"], longer)
        assert_problem(r, 401)
        assert_www_authenticate(r, invalid_token=False)


def test_long_password_for_unknown_user_is_401(server):
    assert_problem(server.login(unique_username("ghost"), "x" * 500), 401)


@pytest.mark.parametrize("username,password", [
    ("ab", "short"),                 # too short name and password
    ("has space", "password"),       # invalid characters, common password
    ("x" * 100, "p" * 7),            # too long name
    ("same_as_pw_1", "same_as_pw_1"),
    ("nul_user_1", "abc\u0000defghij"),
    ("jos\u00e9", "\u00e9" * 3),
])
def test_login_applies_no_registration_rules(server, username, password):
    r = server.login(username, password)
    assert_problem(r, 401)
    assert_www_authenticate(r, invalid_token=False)


def test_login_unknown_fields_ignored(server, user):
    r = server.post_json("/login", {"username": user["username"], "password": PASSWORD,
                                    "grant_type": "password", "scope": "x", "remember": True})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("body,field", [
    ({"password": PASSWORD}, "username"),
    ({"username": "someone_abc"}, "password"),
])
def test_login_missing_field_422(server, body, field):
    assert_422(server.post_json("/login", body), field, "missing")


@pytest.mark.parametrize("value", [123, True, [], {}, 1.5], ids=repr)
@pytest.mark.parametrize("field", ["username", "password"])
def test_login_wrong_type_422(server, field, value):
    body = {"username": "someone_abc", "password": PASSWORD}
    body[field] = value
    assert_422(server.post_json("/login", body), field, "wrong_type")


def test_jti_sid_refresh_distinct_per_login(server, user):
    bodies = [server.login(user["username"]).json() for _ in range(4)]
    claims = [decode_token(b["access_token"]) for b in bodies]
    jtis = [c["jti"] for c in claims]
    sids = [c["sid"] for c in claims]
    refresh = [b["refresh_token"] for b in bodies]
    assert len(set(jtis)) == 4, jtis
    assert len(set(sids)) == 4, sids
    assert len(set(refresh)) == 4
    assert len({b["access_token"] for b in bodies}) == 4


def test_sessions_row_per_login(server, user):
    sids = [decode_token(server.token(user["username"]))["sid"] for _ in range(3)]
    rows = server.query("SELECT id, user_id FROM sessions WHERE user_id = ?", (user["id"],))
    assert sorted(str(r[0]) for r in rows) == sorted(sids), (rows, sids)


def test_failed_login_creates_no_session(server, user):
    server.login(user["username"], "not-the-password-1")
    rows = server.query("SELECT id FROM sessions WHERE user_id = ?", (user["id"],))
    assert rows == []


def test_passlib_bcrypt_hash_interop(make_server):
    """A $2b$ hash written by passlib (what the original app stored) logs in."""
    srv = make_server()
    u = srv.new_user()
    new_password = "passlib-made-password-7"
    conn = sqlite3.connect(str(srv.db_path), timeout=10)
    try:
        with conn:
            conn.execute("UPDATE users SET password_hash = ? WHERE id = ?",
                         (passlib_bcrypt.using(rounds=4).hash(new_password), u["id"]))
    finally:
        conn.close()
    assert srv.login(u["username"], new_password).status_code == 200
    assert_problem(srv.login(u["username"], PASSWORD), 401)


def test_legacy_password_predating_rules_logs_in(make_server, tmp_path):
    """A password set under a laxer PASSWORD_MIN_LENGTH still logs in later."""
    db = tmp_path / "legacy.db"
    first = make_server(db_path=db, env={"PASSWORD_MIN_LENGTH": "4"})
    name = unique_username("legacy")
    assert first.register(name, "xq7!z").status_code == 200
    first.stop()
    second = make_server(db_path=db)
    assert_422(second.register(unique_username(), "xq7!z"), "password", "too_short")
    assert second.login(name, "xq7!z").status_code == 200

