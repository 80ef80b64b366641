"""POST /token: the OAuth 2.0 password grant (RFC 6749 §4.3) on a strictly
parsed application/x-www-form-urlencoded body, every grant error in the form
of §5.2, HTTP-level failures (405, 413) as problem+json like everywhere."""
import json
import re

import pytest

from gh_helpers import (
    PASSWORD,
    allow_set,
    assert_common_headers,
    assert_problem,
    assert_token_headers,
    build_request,
    decode_token,
    media_type,
    unique_username,
)

FORM = "application/x-www-form-urlencoded"


def post_token(server, body, content_type=FORM, headers=None):
    h = dict(headers or {})
    if content_type is not None:
        h["Content-Type"] = content_type
    data = body.encode() if isinstance(body, str) else body
    return server.post("/token", data=data, headers=h)


def password_form(username, password=PASSWORD, **extra):
    # requests encodes a dict as application/x-www-form-urlencoded.
    return {"grant_type": "password", "username": username, "password": password, **extra}


def assert_oauth_error(resp, error):
    """RFC 6749 §5.2: 400, JSON {"error", "error_description"}, not cached."""
    assert resp.status_code == 400, f"expected 400, got {resp.status_code}: {resp.text!r}"
    assert media_type(resp) == "application/json", resp.headers.get("Content-Type")
    body = json.loads(resp.content)
    assert set(body) == {"error", "error_description"}, body
    assert body["error"] == error, body
    # §5.2: error_description is printable ASCII without '"' and '\'.
    assert re.fullmatch(r'[\x20-\x21\x23-\x5b\x5d-\x7e]+', body["error_description"]), body
    assert_token_headers(resp)
    assert_common_headers(resp)
    return body


def test_password_grant_success(server, user):
    r = server.post("/token", data=password_form(user["username"]))
    assert r.status_code == 200, r.text
    assert media_type(r) == "application/json"
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}, body
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 1800 and type(body["expires_in"]) is int
    assert body["refresh_token"] and body["refresh_token"] != body["access_token"]
    assert_token_headers(r)
    assert_common_headers(r)
    assert decode_token(body["access_token"])["sub"] == str(user["id"])
    me = server.me(body["access_token"])
    assert me.status_code == 200 and me.json()["username"] == user["username"]


def test_same_body_shape_as_login(server, user):
    via_token = server.post("/token", data=password_form(user["username"])).json()
    via_login = server.login(user["username"]).json()
    assert set(via_token) == set(via_login)
    assert via_token["token_type"] == via_login["token_type"]
    assert via_token["expires_in"] == via_login["expires_in"]


def test_username_matches_without_case(server, user):
    r = server.post("/token", data=password_form(user["username"].upper()))
    assert r.status_code == 200, r.text


def test_percent_and_plus_decoding(server):
    password = "späce & plus+% = ok?"
    u = server.new_user("enc", password=password)
    # '+' is a space, %XX any byte (UTF-8 here), in names and values alike.
    body = ("grant_type=password&username=" + u["username"] +
            "&pass%77ord=sp%C3%A4ce+%26+plus%2B%25+%3D+ok%3F")
    r = post_token(server, body)
    assert r.status_code == 200, r.text
    # The lower-case hex digits are as good.
    r = post_token(server, body.replace("%C3%A4", "%c3%a4"))
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("content_type", [
    FORM + "; charset=UTF-8",
    FORM + ";charset=utf-8",
    "Application/X-WWW-Form-Urlencoded",
])
def test_content_type_variants_accepted(server, user, content_type):
    r = post_token(server, f"grant_type=password&username={user['username']}&password={PASSWORD}",
                   content_type=content_type)
    assert r.status_code == 200, r.text


def test_ignored_parameters_and_client_authentication(server, user):
    # Swagger UI sends client credentials as "Authorization: Basic base64(':')"
    # by default; scope, client_id, client_secret and unknown parameters are
    # ignored (no clients, no scopes; RFC 6749 §3.2 for unknown ones), and an
    # unknown parameter may even repeat.
    form = password_form(user["username"], scope="read write", client_id="swagger",
                         client_secret="s3cret", foo="1")
    body = "&".join(f"{k}={v}" for k, v in form.items()).replace(" ", "+") + "&foo=2"
    r = post_token(server, body, headers={"Authorization": "Basic Og=="})
    assert r.status_code == 200, r.text


def test_empty_segments_skipped(server, user):
    r = post_token(server, f"&grant_type=password&&username={user['username']}"
                           f"&password={PASSWORD}&")
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("content_type", [
    None,
    "application/json",
    "text/plain",
    "multipart/form-data; boundary=x",
    FORM + "; charset=latin-1",
    FORM + "x",
])
def test_wrong_content_type(server, user, content_type):
    body = f"grant_type=password&username={user['username']}&password={PASSWORD}"
    if content_type == "application/json":
        body = json.dumps(password_form(user["username"]))
    r = post_token(server, body, content_type=content_type)
    err = assert_oauth_error(r, "invalid_request")
    assert "Content-Type" in err["error_description"]


def test_wrong_content_type_without_body(server):
    r = server.post("/token")
    assert_oauth_error(r, "invalid_request")


@pytest.mark.parametrize("body, mentions", [
    ("", "grant_type"),
    ("username=a&password=b", "grant_type"),
    ("grant_type=&username=a&password=b", "grant_type"),
    ("grant_type=password&password=b", "username"),
    ("grant_type=password&username=a", "password"),
    ("grant_type=password&username=a&password=", "password"),
    ("grant_type=password&username=&password=b", "username"),
])
def test_missing_parameter(server, body, mentions):
    err = assert_oauth_error(post_token(server, body), "invalid_request")
    assert mentions in err["error_description"], err


@pytest.mark.parametrize("name", ["grant_type", "username", "password", "scope", "client_id"])
def test_repeated_parameter(server, user, name):
    form = password_form(user["username"], scope="x", client_id="y")
    body = "&".join(f"{k}={v}" for k, v in form.items()) + f"&{name}={form[name]}"
    err = assert_oauth_error(post_token(server, body), "invalid_request")
    assert name in err["error_description"], err


def test_repeated_parameter_with_empty_value(server, user):
    body = f"grant_type=password&username={user['username']}&password=&password={PASSWORD}"
    assert_oauth_error(post_token(server, body), "invalid_request")


@pytest.mark.parametrize("password", [
    "%zz-password",   # not hex
    "password%4",     # cut short
    "password%",      # bare
    "pass%00word",    # NUL
    "pass%FFword",    # not UTF-8
    "pass%C0%AFword",  # overlong UTF-8
    "pass%ED%A0%80word",  # a surrogate
])
def test_malformed_encoding(server, user, password):
    body = f"grant_type=password&username={user['username']}&password={password}"
    assert_oauth_error(post_token(server, body), "invalid_request")


def test_wrong_password_and_unknown_user_same_answer(server, user):
    wrong = post_token(server, f"grant_type=password&username={user['username']}&password=nope-nope")
    unknown = post_token(server, f"grant_type=password&username={unique_username('ghost')}"
                                 f"&password={PASSWORD}")
    assert_oauth_error(wrong, "invalid_grant")
    assert_oauth_error(unknown, "invalid_grant")
    assert wrong.content == unknown.content


def test_password_over_72_bytes_is_invalid_grant(server, user):
    r = server.post("/token", data=password_form(user["username"], PASSWORD + "x" * 80))
    assert_oauth_error(r, "invalid_grant")


@pytest.mark.parametrize("grant", ["client_credentials", "authorization_code", "PASSWORD", "x"])
def test_unsupported_grant_type(server, user, grant):
    r = server.post("/token", data=password_form(user["username"]) | {"grant_type": grant})
    assert_oauth_error(r, "unsupported_grant_type")


def test_refresh_token_grant_rotates(server, user):
    """RFC 6749 §6: a new access token and a new refresh token; the old one is spent."""
    refresh = server.login(user["username"]).json()["refresh_token"]
    r = server.post("/token", data={"grant_type": "refresh_token", "refresh_token": refresh})
    assert r.status_code == 200, r.text
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert body["token_type"] == "bearer" and body["refresh_token"] != refresh
    assert server.get("/me", headers={"Authorization": f"Bearer {body['access_token']}"}) \
        .status_code == 200
    again = server.post("/token", data={"grant_type": "refresh_token", "refresh_token": refresh})
    assert_oauth_error(again, "invalid_grant")
    missing = server.post("/token", data={"grant_type": "refresh_token"})
    assert_oauth_error(missing, "invalid_request")


def test_errors_are_deterministic(server):
    a = post_token(server, "grant_type=foo")
    b = post_token(server, "grant_type=foo")
    assert a.content == b.content
    assert a.headers["X-Request-Id"] != b.headers["X-Request-Id"]


def test_body_limit(server, user):
    base = f"grant_type=password&username={user['username']}&password={PASSWORD}&pad="
    exact = base + "x" * (16384 - len(base))
    assert len(exact) == 16384
    assert post_token(server, exact).status_code == 200
    r = post_token(server, exact + "x")
    assert_problem(r, 413)


def test_body_limit_chunked(server, user):
    body = b"grant_type=password&pad=" + b"x" * 17000
    req = build_request("POST", "/token", headers=[("Content-Type", FORM)], body=body,
                        chunked=True)
    assert_problem(server.raw(req, method="POST"), 413)


def test_chunked_body(server, user):
    body = f"grant_type=password&username={user['username']}&password={PASSWORD}".encode()
    req = build_request("POST", "/token", headers=[("Content-Type", FORM)], body=body,
                        chunked=True)
    r = server.raw(req, method="POST")
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_methods(server, method):
    r = server.request(method, "/token")
    assert_problem(r, 405)
    assert allow_set(r) == {"POST"}
