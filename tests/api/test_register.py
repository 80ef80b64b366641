"""POST /register: success body, uniqueness, and every validation rule (422 codes)."""
import calendar
import json
import secrets
import string
import time

import pytest

from gh_helpers import (
    PASSWORD,
    RFC3339_UTC_RE,
    assert_422,
    assert_common_headers,
    assert_problem,
    media_type,
    unique_username,
)


def post_raw_json(server, path, obj):
    """Send JSON with raw UTF-8 (not \\u escapes), as many clients do."""
    return server.post(path, data=json.dumps(obj, ensure_ascii=False).encode("utf-8"),
                       headers={"Content-Type": "application/json"})


def send(server, obj, encoding):
    if encoding == "escaped":
        return server.post_json("/register", obj)
    return post_raw_json(server, "/register", obj)


# ---------------------------------------------------------------- success
def test_register_success_body(server):
    name = unique_username("Reg")
    r = server.register(name, PASSWORD)
    assert r.status_code == 200, r.text
    assert media_type(r) == "application/json"
    body = r.json()
    assert set(body) == {"id", "username", "created_at"}, body
    assert type(body["id"]) is int and body["id"] > 0
    assert body["username"] == name
    assert RFC3339_UTC_RE.match(body["created_at"]), body["created_at"]
    created = calendar.timegm(time.strptime(body["created_at"], "%Y-%m-%dT%H:%M:%SZ"))
    # Same machine: the server's clock is ours.  A generous window, not a timing assertion.
    assert abs(created - time.time()) < 300, body["created_at"]
    assert_common_headers(r)


def test_register_ids_distinct(server):
    a = server.new_user()
    b = server.new_user()
    assert a["id"] != b["id"]


def test_register_does_not_return_password_or_hash(server):
    r = server.register(unique_username(), PASSWORD)
    assert r.status_code == 200
    assert PASSWORD not in r.text
    assert "$2b$" not in r.text and "hash" not in r.text


def test_unknown_fields_ignored(server):
    name = unique_username()
    r = server.post_json("/register", {"username": name, "password": PASSWORD, "email": "x@y.z",
                                       "is_admin": True, "id": 1, "nested": {"a": [1, 2]}})
    assert r.status_code == 200, r.text
    assert r.json()["username"] == name
    assert server.login(name, PASSWORD).status_code == 200


# ------------------------------------------------------------- uniqueness
def test_duplicate_username_409(server):
    name = unique_username()
    assert server.register(name).status_code == 200
    r1 = server.register(name)
    r2 = server.register(name)
    assert_problem(r1, 409)
    assert_problem(r2, 409)
    assert r1.content == r2.content


def test_duplicate_different_password_still_409(server):
    name = unique_username()
    assert server.register(name).status_code == 200
    assert_problem(server.register(name, "a-different-password-42"), 409)


@pytest.mark.parametrize("variant", [str.lower, str.upper, str.swapcase])
def test_username_unique_case_insensitive(server, variant):
    name = unique_username("MiXeD")
    assert server.register(name).status_code == 200
    assert variant(name) != name
    assert_problem(server.register(variant(name)), 409)


def test_stored_spelling_is_the_registered_one(server):
    name = unique_username("CamelCase")
    assert server.register(name).status_code == 200
    r = server.login(name.lower())
    assert r.status_code == 200, r.text
    me = server.me(r.json()["access_token"])
    assert me.status_code == 200
    assert me.json()["username"] == name


# ------------------------------------------------------- username rules
def rand_name(length):
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


@pytest.mark.parametrize("length", [3, 64])
def test_username_length_bounds_accepted(server, length):
    name = rand_name(length)
    r = server.register(name)
    assert r.status_code == 200, r.text
    assert r.json()["username"] == name


@pytest.mark.parametrize("length,code", [(1, "too_short"), (2, "too_short"), (65, "too_long"),
                                         (200, "too_long")])
def test_username_length_bounds_refused(server, length, code):
    assert_422(server.register(rand_name(length)), "username", code)


def test_username_empty_is_too_short(server):
    assert_422(server.register(""), "username", "too_short")


def test_username_all_allowed_characters(server):
    name = "a.b_c-d@e+F9" + secrets.token_hex(3)
    r = server.register(name)
    assert r.status_code == 200, r.text
    assert r.json()["username"] == name
    assert server.login(name).status_code == 200


@pytest.mark.parametrize("bad", [" ", "/", "!", "#", "%", ":", ";", "'", '"', "\\", "<", ",",
                                 "\t", "\n", "é", "€", "😀", "\u00a0", "*", "=", "~", "$", "&", "?"])
def test_username_invalid_characters(server, bad):
    name = "ab" + bad + secrets.token_hex(3)
    assert_422(server.register(name), "username", "invalid_characters")


def test_username_with_nul_refused(server):
    # NUL is outside the username alphabet; `contains_nul` is defined for passwords.
    body = assert_problem(server.register("ab\u0000" + secrets.token_hex(3)), 422)
    pairs = {(e["field"], e["code"]) for e in body["errors"]}
    assert ("username", "invalid_characters") in pairs or ("username", "contains_nul") in pairs, body


def test_username_invalid_characters_raw_utf8(server):
    r = post_raw_json(server, "/register", {"username": "jos\u00e9" + secrets.token_hex(2),
                                            "password": PASSWORD})
    assert_422(r, "username", "invalid_characters")


# ------------------------------------------------------- password rules
@pytest.mark.parametrize("encoding", ["escaped", "raw"])
@pytest.mark.parametrize("password", [
    "a" * 72,
    "\u20ac" * 24,            # 24 x 3 bytes = 72 bytes
    "\U0001F600" * 18,        # 18 x 4 bytes = 72 bytes (a surrogate pair when escaped)
    "\u00e9" * 36,            # 36 x 2 bytes = 72 bytes
], ids=["ascii72", "euro24", "emoji18", "eacute36"])
def test_password_72_bytes_accepted(server, password, encoding):
    assert len(password.encode("utf-8")) == 72
    name = unique_username()
    r = send(server, {"username": name, "password": password}, encoding)
    assert r.status_code == 200, r.text
    assert server.login(name, password).status_code == 200


@pytest.mark.parametrize("encoding", ["escaped", "raw"])
@pytest.mark.parametrize("password", [
    "a" * 73,
    "\u20ac" * 24 + "a",      # 73 bytes
    "a" + "\u20ac" * 24,      # 73 bytes
    "\U0001F600" * 18 + "a",  # 73 bytes
    "\u00e9" * 36 + "x",      # 73 bytes
    "a" * 1000,
], ids=["ascii73", "euro24+a", "a+euro24", "emoji18+a", "eacute36+x", "ascii1000"])
def test_password_over_72_bytes_too_long(server, password, encoding):
    r = send(server, {"username": unique_username(), "password": password}, encoding)
    assert_422(r, "password", "too_long")


@pytest.mark.parametrize("encoding", ["escaped", "raw"])
@pytest.mark.parametrize("password", [
    "\u00e9" * 8,        # 8 code points, 16 bytes
    "\u20ac" * 8,        # 8 code points, 24 bytes
    "\U0001F600" * 8,    # 8 code points, 32 bytes
    "xk3#qz!w",          # 8 ASCII characters
], ids=["eacute8", "euro8", "emoji8", "ascii8"])
def test_password_min_length_in_code_points_accepted(server, password, encoding):
    name = unique_username()
    r = send(server, {"username": name, "password": password}, encoding)
    assert r.status_code == 200, r.text
    assert server.login(name, password).status_code == 200


@pytest.mark.parametrize("encoding", ["escaped", "raw"])
@pytest.mark.parametrize("password", [
    "\u00e9" * 7,        # 7 code points, 14 bytes (>= 8 bytes, yet too short)
    "\u20ac" * 7,        # 7 code points, 21 bytes
    "\U0001F600" * 7,    # 7 code points, 28 bytes
    "xk3#qz!",           # 7 ASCII characters
    "a",
    "",
], ids=["eacute7", "euro7", "emoji7", "ascii7", "one", "empty"])
def test_password_too_short(server, password, encoding):
    r = send(server, {"username": unique_username(), "password": password}, encoding)
    assert_422(r, "password", "too_short")


@pytest.mark.parametrize("password", ["abcdefgh\u0000ijk", "\u0000xk3#qz!w-long", "xk3#qz!w-long\u0000"],
                         ids=["middle", "start", "end"])
def test_password_nul_contains_nul(server, password):
    r = server.register(unique_username(), password)
    assert_422(r, "password", "contains_nul")


def test_password_equals_username(server):
    name = unique_username("SameAsPw")
    assert_422(server.register(name, name), "password", "equals_username")


@pytest.mark.parametrize("transform", [str.upper, str.lower, str.swapcase])
def test_password_equals_username_ignoring_case(server, transform):
    name = unique_username("SameAsPw")
    assert_422(server.register(name, transform(name)), "password", "equals_username")


@pytest.mark.parametrize("password", [
    "password", "PASSWORD", "PassWord", "iloveyou", "ILoveYou", "qwerty123", "QWERTY123",
    "baseball", "football", "FootBall", "12345678",
])
def test_common_passwords_refused(server, password):
    assert_422(server.register(unique_username(), password), "password", "too_common")


def test_uncommon_password_accepted(server):
    assert server.register(unique_username(), "zebra-lantern-quartz-81").status_code == 200


# ------------------------------------------------------ missing / wrong type
@pytest.mark.parametrize("body,field", [
    ({"password": PASSWORD}, "username"),
    ({"username": "someone_abc"}, "password"),
])
def test_missing_field(server, body, field):
    assert_422(server.post_json("/register", body), field, "missing")


def test_both_fields_missing(server):
    body = assert_problem(server.post_json("/register", {}), 422)
    pairs = {(e["field"], e["code"]) for e in body["errors"]}
    assert {("username", "missing"), ("password", "missing")} <= pairs, body


def test_both_fields_invalid_reports_both(server):
    body = assert_problem(server.post_json("/register", {"username": "a b", "password": "short"}),
                          422)
    pairs = {(e["field"], e["code"]) for e in body["errors"]}
    assert {("username", "invalid_characters"), ("password", "too_short")} <= pairs, body


@pytest.mark.parametrize("value", [123, 1.5, True, False, [], ["abc"], {}, {"a": "b"}],
                         ids=lambda v: type(v).__name__ + repr(v))
@pytest.mark.parametrize("field", ["username", "password"])
def test_wrong_type(server, field, value):
    body = {"username": unique_username(), "password": PASSWORD}
    body[field] = value
    assert_422(server.post_json("/register", body), field, "wrong_type")


@pytest.mark.parametrize("field", ["username", "password"])
def test_null_field(server, field):
    # null for a required string: pydantic/FastAPI call it a type error; `missing`
    # is also defensible.  Either way a 422 for that field.
    body = {"username": unique_username(), "password": PASSWORD}
    body[field] = None
    resp = assert_problem(server.post_json("/register", body), 422)
    pairs = {(e["field"], e["code"]) for e in resp["errors"]}
    assert (field, "wrong_type") in pairs or (field, "missing") in pairs, resp


# ------------------------------------------------------ 422 body shape
def test_422_detail_is_first_error(server):
    r = server.register(unique_username(), "short")
    body = assert_422(r, "password", "too_short")
    assert body["errors"][0]["field"] == "password"
    assert body["errors"][0]["code"] == "too_short"
    assert body["detail"] == "password: " + body["errors"][0]["message"]


def test_422_bodies_identical_for_identical_failures(server):
    name = unique_username()
    r1 = server.register(name, "short")
    r2 = server.register(name, "short")
    assert_422(r1, "password", "too_short")
    assert r1.content == r2.content


def test_failed_registration_creates_no_user(server):
    name = unique_username()
    assert_422(server.register(name, "short"), "password", "too_short")
    assert server.register(name, PASSWORD).status_code == 200


# ------------------------------------------------------ configured minimum
def test_password_min_length_setting(make_server):
    srv = make_server(env={"PASSWORD_MIN_LENGTH": "12"})
    assert_422(srv.register(unique_username(), "xk3#qz!w-ab"), "password", "too_short")  # 11
    assert srv.register(unique_username(), "xk3#qz!w-abc").status_code == 200           # 12
