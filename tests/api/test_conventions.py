"""HTTP conventions: problem+json errors, nosniff and X-Request-Id on every
response, request-id echo rules, 400/404/405/413/415/431, byte-identical error
bodies, chunked bodies."""
import json
import uuid

import pytest
import requests

from gh_helpers import (
    PASSWORD,
    REQUEST_ID_RE,
    allow_set,
    assert_common_headers,
    assert_problem,
    bearer,
    build_request,
    unique_username,
)

LIMIT = 16384


@pytest.fixture(scope="module")
def account(server):
    u = server.new_user("conv")
    u["token"] = server.token(u["username"])
    return u


def reg_body(username=None, password=PASSWORD):
    return json.dumps({"username": username or unique_username(), "password": password}).encode()


def padded_field_body(size, username=None):
    """Valid JSON of exactly `size` bytes, padded with an unknown field."""
    base = {"username": username or unique_username(), "password": PASSWORD, "pad": ""}
    raw = json.dumps(base, separators=(",", ":")).encode()
    base["pad"] = "x" * (size - len(raw))
    out = json.dumps(base, separators=(",", ":")).encode()
    assert len(out) == size
    return out


def padded_space_body(size, username=None):
    """Valid JSON of exactly `size` bytes, padded with trailing whitespace."""
    raw = reg_body(username)
    out = raw + b" " * (size - len(raw))
    assert len(out) == size
    return out


def post_bytes(server, path, data, content_type="application/json", **kw):
    headers = dict(kw.pop("headers", {}))
    if content_type is not None:
        headers["Content-Type"] = content_type
    return server.post(path, data=data, headers=headers, **kw)


# ------------------------------------------- nosniff + X-Request-Id everywhere
def _healthz(server, account, rid):
    return server.get("/healthz", headers=rid)


def _head(server, account, rid):
    return server.head("/healthz", headers=rid)


def _register(server, account, rid):
    return post_bytes(server, "/register", reg_body(), headers=rid)


def _login(server, account, rid):
    return server.login(account["username"], headers=rid)


def _verify204(server, account, rid):
    return server.get("/verify", headers={**rid, **bearer(account["token"])})


def _verify401(server, account, rid):
    return server.get("/verify", headers=rid)


def _me401(server, account, rid):
    return server.get("/me", headers=rid)


def _login401(server, account, rid):
    return server.login(account["username"], "wrong-password-123", headers=rid)


def _e400(server, account, rid):
    return post_bytes(server, "/register", b"{not json", headers=rid)


def _e404(server, account, rid):
    return server.get("/no/such/path", headers=rid)


def _e405(server, account, rid):
    return server.get("/login", headers=rid)


def _e409(server, account, rid):
    return server.register(account["username"], headers=rid)


def _e413(server, account, rid):
    return post_bytes(server, "/register", padded_field_body(LIMIT + 1), headers=rid)


def _e415(server, account, rid):
    return post_bytes(server, "/register", reg_body(), "text/plain", headers=rid)


def _e422(server, account, rid):
    return server.register(unique_username(), "short", headers=rid)


def _jwks(server, account, rid):
    return server.get("/.well-known/jwks.json", headers=rid)


RESPONSES = {
    "200_healthz": (_healthz, 200),
    "200_head": (_head, 200),
    "200_register": (_register, 200),
    "200_login": (_login, 200),
    "200_jwks": (_jwks, 200),
    "204_verify": (_verify204, 204),
    "401_verify": (_verify401, 401),
    "401_me": (_me401, 401),
    "401_login": (_login401, 401),
    "400": (_e400, 400),
    "404": (_e404, 404),
    "405": (_e405, 405),
    "409": (_e409, 409),
    "413": (_e413, 413),
    "415": (_e415, 415),
    "422": (_e422, 422),
}


@pytest.mark.parametrize("case", sorted(RESPONSES))
def test_common_headers_and_request_id_echo(server, account, case):
    fn, status = RESPONSES[case]
    rid = "test-" + uuid.uuid4().hex
    r = fn(server, account, {"X-Request-Id": rid})
    assert r.status_code == status, r.text
    assert_common_headers(r, request_id=rid)


@pytest.mark.parametrize("case", sorted(RESPONSES))
def test_common_headers_generated_request_id(server, account, case):
    fn, status = RESPONSES[case]
    r1 = fn(server, account, {})
    r2 = fn(server, account, {})
    assert r1.status_code == status, r1.text
    rid1 = assert_common_headers(r1)
    rid2 = assert_common_headers(r2)
    assert REQUEST_ID_RE.match(rid1), rid1
    assert rid1 != rid2


def test_431_has_common_headers(server):
    r = server.raw(build_request("GET", "/healthz", [("X-Request-Id", "abc"),
                                                     ("X-Big", "a" * 17000)]))
    assert r.status_code == 431
    assert_common_headers(r)


@pytest.mark.parametrize("rid", ["a", "abc", "A" * 128, "a.b_c-D9", "0", "...", "---", "___",
                                 str(uuid.uuid4()), "ABCxyz019"])
def test_valid_request_id_echoed(server, rid):
    r = server.get("/healthz", headers={"X-Request-Id": rid})
    assert r.headers.get("X-Request-Id") == rid


@pytest.mark.parametrize("rid", ["A" * 129, "a" * 500, "has space", "a/b", "a:b", "a;b", "a,b",
                                 "a+b", "a@b", "{x}", "a=b", "a\tb", "caf\u00e9", "a%2Fb",
                                 "<script>"])
def test_invalid_request_id_replaced(server, rid):
    r1 = server.get("/healthz", headers={"X-Request-Id": rid})
    r2 = server.get("/healthz", headers={"X-Request-Id": rid})
    got1 = r1.headers.get("X-Request-Id")
    got2 = r2.headers.get("X-Request-Id")
    assert got1 and got1 != rid, got1
    assert REQUEST_ID_RE.match(got1), got1
    assert got1 != got2, "generated request ids must differ per request"


def test_empty_request_id_replaced(server):
    r = server.raw(build_request("GET", "/healthz", [("X-Request-Id", "")]))
    assert r.status_code == 200
    rid = r.headers.get("X-Request-Id")
    assert rid and REQUEST_ID_RE.match(rid), rid


def test_request_id_not_in_error_body(server):
    r = server.get("/no/such/path", headers={"X-Request-Id": "unique-marker-4711"})
    assert r.status_code == 404
    assert b"unique-marker-4711" not in r.content


# --------------------------------------------------------------------- 413
@pytest.mark.parametrize("make", [padded_field_body, padded_space_body], ids=["field", "space"])
def test_body_of_exactly_16384_bytes_accepted(server, make):
    name = unique_username("big")
    r = post_bytes(server, "/register", make(LIMIT, name))
    assert r.status_code == 200, r.text
    assert r.json()["username"] == name


@pytest.mark.parametrize("make", [padded_field_body, padded_space_body], ids=["field", "space"])
@pytest.mark.parametrize("path", ["/register", "/login"])
def test_body_of_16385_bytes_413(server, make, path):
    r = post_bytes(server, path, make(LIMIT + 1))
    assert_problem(r, 413)


def test_much_larger_body_413(server):
    assert_problem(post_bytes(server, "/register", padded_field_body(200000)), 413)


def test_413_bodies_identical(server):
    body = padded_field_body(LIMIT + 1, "same_name_413")
    r1 = post_bytes(server, "/register", body)
    r2 = post_bytes(server, "/register", body)
    assert r1.status_code == 413 and r1.content == r2.content


def test_413_for_large_declared_length_partially_sent(server):
    """Content-Length far over the limit: the server must answer 413 once the
    limit is crossed (it must not wait for the whole declared body)."""
    head = build_request("POST", "/register", [("Content-Type", "application/json"),
                                               ("Content-Length", "10000000")], b"")
    partial = b'{"username":"abc","pad":"' + b"x" * 20000
    r = server.raw(head + partial, method="POST")
    assert_problem(r, 413)


def test_chunked_body_accepted(server):
    name = unique_username("chunk")
    r = server.raw(build_request("POST", "/register", [("Content-Type", "application/json")],
                                 reg_body(name), chunked=True), method="POST")
    assert r.status_code == 200, r.text
    assert r.json()["username"] == name


def test_chunked_body_of_exactly_16384_bytes_accepted(server):
    r = server.raw(build_request("POST", "/register", [("Content-Type", "application/json")],
                                 padded_field_body(LIMIT), chunked=True), method="POST")
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("size", [LIMIT + 1, 40000])
def test_chunked_body_too_large_413(server, size):
    r = server.raw(build_request("POST", "/register", [("Content-Type", "application/json")],
                                 padded_field_body(size), chunked=True), method="POST")
    assert_problem(r, 413)


def test_expect_100_continue(server):
    """curl sends Expect: 100-continue for bodies over 1 KiB."""
    name = unique_username("expect")
    r = server.raw(build_request("POST", "/register", [("Content-Type", "application/json"),
                                                       ("Expect", "100-continue")],
                                 padded_field_body(2000, name)), method="POST")
    assert r.status_code == 200, r.text
    assert r.json()["username"] == name


# --------------------------------------------------------------------- 431
def test_single_huge_header_431(server):
    r = server.raw(build_request("GET", "/healthz", [("X-Big", "a" * 17000)]))
    assert_problem(r, 431)


def test_many_headers_431(server):
    headers = [(f"X-Small-{i}", "b" * 450) for i in range(40)]  # ~19 KiB in all
    r = server.raw(build_request("GET", "/healthz", headers))
    assert_problem(r, 431)


def test_huge_header_on_post_431(server):
    r = server.raw(build_request("POST", "/login", [("Content-Type", "application/json"),
                                                    ("Cookie", "c=" + "z" * 17000)],
                                 reg_body()), method="POST")
    assert_problem(r, 431)


def test_huge_cookie_header_431(server):
    r = server.raw(build_request("GET", "/verify", [("Cookie", "c=" + "z" * 17000)]))
    assert_problem(r, 431)


def test_large_but_allowed_headers(server):
    r = server.raw(build_request("GET", "/healthz", [("X-Big", "a" * 12000)]))
    assert r.status_code == 200
    r = server.raw(build_request("GET", "/healthz",
                                 [(f"X-Small-{i}", "b" * 400) for i in range(25)]))
    assert r.status_code == 200


def test_server_fine_after_431(server):
    server.raw(build_request("GET", "/healthz", [("X-Big", "a" * 17000)]))
    assert server.get("/healthz").status_code == 200


# --------------------------------------------------------------------- 415
BAD_TYPES = [
    None,
    "text/plain",
    "text/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "application/xml",
    "application/jsonx",
    "application/json-patch",
    "application",
    "json",
    "application/json; charset=latin-1",
    "application/json; charset=iso-8859-1",
    "application/json; charset=utf-16",
]


@pytest.mark.parametrize("ctype", BAD_TYPES, ids=lambda c: repr(c))
@pytest.mark.parametrize("path", ["/register", "/login"])
def test_unsupported_media_type_415(server, path, ctype):
    r = post_bytes(server, path, reg_body(), content_type=ctype)
    assert_problem(r, 415)


@pytest.mark.parametrize("ctype", [
    "application/json",
    "application/json; charset=utf-8",
    "application/json;charset=UTF-8",
    "application/json; charset=Utf-8",
    "Application/JSON",
    "APPLICATION/JSON; CHARSET=UTF-8",
])
def test_json_media_type_variants_accepted(server, ctype):
    name = unique_username()
    r = post_bytes(server, "/register", reg_body(name), content_type=ctype)
    assert r.status_code == 200, r.text


def test_delete_without_a_body_reads_as_empty_object(server, account):
    """A DELETE sent with no body at all (no Content-Type, no Content-Length or
    0) is read as {}: the route then names what is missing (422), where a
    body it cannot read is still a 415."""
    h = bearer(account["token"])
    for extra in ({}, {"Content-Length": "0"}):
        r = server.raw(build_request("DELETE", "/me", list(h.items()) + list(extra.items())),
                       method="DELETE")
        assert r.status_code == 422, r.text
        assert "password" in r.text
    # A body without its Content-Type, plain or chunked: unreadable, 415.
    body = json.dumps({"password": PASSWORD}).encode()
    r = server.raw(build_request("DELETE", "/me", list(h.items()), body=body), method="DELETE")
    assert r.status_code == 415, r.text
    r = server.raw(build_request("DELETE", "/me", list(h.items()), body=body, chunked=True),
                   method="DELETE")
    assert r.status_code == 415, r.text
    # A POST with no body at all stays a 415.
    assert post_bytes(server, "/login", b"", content_type=None).status_code == 415
    assert server.get("/me", headers=h).status_code == 200


def test_415_bodies_identical(server):
    body = reg_body("same_name_415")
    r1 = post_bytes(server, "/register", body, content_type="text/plain")
    r2 = post_bytes(server, "/register", body, content_type="text/plain")
    assert r1.status_code == 415 and r1.content == r2.content


# --------------------------------------------------------------------- 400
PW = PASSWORD.encode()
MALFORMED = {
    "truncated": b'{"username": "abc", "password": ',
    "not_json": b"not json",
    "unquoted_keys": b'{username: "abcd", password: "x"}',
    "single_quotes": b"{'username': 'abcd', 'password': 'xxxxxxxxx'}",
    "trailing_comma": b'{"username": "abcd", "password": "' + PW + b'",}',
    "trailing_garbage": b'{"username": "abcd", "password": "' + PW + b'"} x',
    "two_objects": b'{"username": "abcd", "password": "' + PW + b'"}{}',
    "comment": b'{"username": "abcd", "password": "' + PW + b'"} // c',
    "raw_control_char": b'{"username": "ab\x01cd", "password": "' + PW + b'"}',
    "raw_nul_byte": b'{"username": "abcd", "password": "abc\x00defghijk"}',
    "nan": b'{"username": "abcd", "password": NaN}',
    "bad_escape": b'{"username": "\\x41bcd", "password": "' + PW + b'"}',
    "short_unicode_escape": b'{"username": "\\u12", "password": "' + PW + b'"}',
    "whitespace_only": b"   ",
    "top_array_empty": b"[]",
    "top_array_object": b'[{"username": "abcd", "password": "' + PW + b'"}]',
    "top_string": b'"abcd"',
    "top_number": b"42",
    "top_null": b"null",
    "top_true": b"true",
    "dup_username": b'{"username": "abcd1", "username": "abcd2", "password": "' + PW + b'"}',
    "dup_password": b'{"username": "abcd1", "password": "' + PW + b'", "password": "x"}',
    "dup_same_value": b'{"username": "abcd1", "username": "abcd1", "password": "' + PW + b'"}',
    "dup_unknown": b'{"x": 1, "x": 2, "username": "abcd1", "password": "' + PW + b'"}',
    "dup_nested": b'{"extra": {"a": 1, "a": 2}, "username": "abcd1", "password": "' + PW + b'"}',
    "utf8_invalid_byte": b'{"username": "ab\xffcd", "password": "' + PW + b'"}',
    "utf8_bad_continuation": b'{"username": "abcd", "password": "\xc3\x28xxxxxxxxxx"}',
    "utf8_overlong": b'{"username": "ab\xc0\xafcd", "password": "' + PW + b'"}',
    "utf8_surrogate": b'{"username": "abcd", "password": "xxxxxxxx\xed\xa0\x80"}',
    "utf8_truncated": b'{"username": "abcd", "password": "xxxxxxxx\xe2\x82"}',
    "utf8_in_key": b'{"user\xfename": "abcd", "password": "' + PW + b'"}',
    "utf8_outside_string": b'{\xff"username": "abcd", "password": "' + PW + b'"}',
    "latin1_body": '{"username": "jos\u00e9", "password": "correct-horse-battery-9"}'.encode("latin-1"),
}


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_malformed_body_400_register(server, kind):
    assert_problem(post_bytes(server, "/register", MALFORMED[kind]), 400)


@pytest.mark.parametrize("kind", ["truncated", "top_array_object", "dup_username",
                                  "utf8_invalid_byte", "top_null", "raw_nul_byte"])
def test_malformed_body_400_login(server, kind):
    assert_problem(post_bytes(server, "/login", MALFORMED[kind]), 400)


def test_empty_body(server):
    # Not JSON at all, so 400 by the spec; FastAPI answers a missing body with 422.
    r = post_bytes(server, "/register", b"")
    assert r.status_code in (400, 422), r.text
    assert_problem(r, r.status_code)


def test_deeply_nested_json_does_not_crash(server):
    depth = 8000
    body = b'{"username": "abcd", "password": "' + PW + b'", "a": ' + b"[" * depth + b"]" * depth + b"}"
    assert len(body) <= LIMIT
    r = post_bytes(server, "/register", body)
    # Nothing in the contract pins a nesting limit: a refusal (400) or acceptance
    # of the ignored field (then 200/422 for the rest) are both fine; a crash is not.
    assert r.status_code in (200, 400, 422), r.text
    assert server.get("/healthz").status_code == 200


def test_400_bodies_identical(server):
    r1 = post_bytes(server, "/register", MALFORMED["truncated"])
    r2 = post_bytes(server, "/register", MALFORMED["truncated"])
    assert r1.status_code == 400 and r1.content == r2.content


# --------------------------------------------------------------------- 404
@pytest.mark.parametrize("method,path", [
    ("GET", "/no/such/path"),
    ("GET", "/registerx"),
    ("GET", "/api/register"),
    ("POST", "/nope"),
    ("POST", "/REGISTER"),
    ("GET", "/.well-known/other.json"),
    ("DELETE", "/nothing-here"),
])
def test_unknown_path_404(server, method, path):
    r = server.request(method, path, json={"username": "abcd", "password": PASSWORD})
    assert_problem(r, 404)


def test_404_bodies_identical(server):
    assert server.get("/nope-1").content == server.get("/nope-1").content


def test_query_string_does_not_change_route(server):
    assert server.get("/healthz?x=1&y=2").status_code == 200
    name = unique_username()
    r = post_bytes(server, "/register?next=/home", reg_body(name))
    assert r.status_code == 200, r.text


# --------------------------------------------------------------------- 405
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
@pytest.mark.parametrize("path", ["/register", "/login"])
def test_wrong_method_on_post_routes(server, path, method):
    r = server.request(method, path)
    assert_problem(r, 405)
    allowed = allow_set(r)
    assert "POST" in allowed and method not in allowed, allowed


def test_head_on_post_route_405(server):
    r = server.head("/login")
    assert r.status_code == 405
    assert "POST" in allow_set(r)
    assert_common_headers(r)


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_wrong_method_on_verify(server, method):
    r = server.request(method, "/verify")
    assert r.status_code == 405
    allowed = allow_set(r)
    assert {"GET", "HEAD"} <= allowed and method not in allowed, allowed


def test_405_bodies_identical(server):
    assert server.get("/login").content == server.get("/login").content


# -------------------------------------------------- error body contents
def test_error_bodies_hold_no_volatile_data(server):
    """Identical failures, separated by other traffic, give byte-equal bodies."""
    samples = []
    for _ in range(2):
        samples.append([
            post_bytes(server, "/register", b"[]").content,
            server.get("/login").content,
            server.get("/nope").content,
            server.login("nobody_at_all_1", "wrong-password-1").content,
            server.register("ab", PASSWORD).content,
        ])
        server.new_user()
    assert samples[0] == samples[1]


def test_keepalive_session_mixed_requests(server, account):
    with requests.Session() as s:
        for _ in range(5):
            assert s.get(server.url("/healthz"), timeout=30).status_code == 200
            assert s.get(server.url("/me"), headers=bearer(account["token"]),
                         timeout=30).status_code == 200
            assert s.get(server.url("/nope"), timeout=30).status_code == 404
            r = s.post(server.url("/login"), json={"username": account["username"],
                                                    "password": PASSWORD}, timeout=30)
            assert r.status_code == 200


def test_json_bodies_end_with_a_line_feed(server):
    """A JSON answer, a problem and an OAuth error each end their line (a
    terminal showing curl's output, a file it writes)."""
    answers = [server.get("/healthz"), server.get("/.well-known/jwks.json"), server.get("/nope"),
               server.post("/token", data={"grant_type": "nope"}),
               server.post_json("/register", {"username": "x", "password": "y"})]
    for r in answers:
        assert r.content.endswith(b"}\n") and r.content.count(b"\n") == 1, (r.url, r.content)
        assert r.json()
