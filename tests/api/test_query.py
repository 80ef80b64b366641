"""The query string: percent-decoded strictly, bounded in size and count.
A malformed query or one past the limits is a 400 problem on every route;
a well-formed one that a route does not read changes nothing."""
import pytest

from gh_helpers import assert_problem, bearer, build_request

MAX_PARAMS = 32     # HTTP_MAX_QUERY_PARAMS
MAX_BYTES = 4096    # HTTP_MAX_QUERY_BYTES, counted as sent


def get_raw(server, target, headers=()):
    # requests would re-quote a stray '%'; these bytes must reach the server as written.
    return server.raw(build_request("GET", target, headers))


@pytest.mark.parametrize("query, detail", [
    ("a=%zz", "query string: malformed percent-encoding"),
    ("a=%4", "query string: malformed percent-encoding"),
    ("a=%", "query string: malformed percent-encoding"),
    ("a=%00", "query string: a parameter contains a NUL byte"),
    ("a=%ff", "query string: a parameter is not valid UTF-8"),
    ("%C0%AF=x", "query string: a parameter is not valid UTF-8"),
])
def test_malformed_query_400(server, query, detail):
    body = assert_problem(get_raw(server, "/healthz?" + query), 400)
    assert body["detail"] == detail


def test_param_count_limit(server):
    at_limit = "&".join(f"p{i}=1" for i in range(MAX_PARAMS))
    assert server.get("/healthz?" + at_limit).status_code == 200
    body = assert_problem(server.get("/healthz?" + at_limit + "&one=more"), 400)
    assert body["detail"] == f"query string exceeds {MAX_PARAMS} parameters"
    # Empty segments are not parameters.
    assert server.get("/healthz?a=1" + "&" * 40 + "b=2").status_code == 200


def test_length_limit(server):
    at_limit = "a=" + "x" * (MAX_BYTES - 2)
    assert server.get("/healthz?" + at_limit).status_code == 200
    body = assert_problem(server.get("/healthz?" + at_limit + "x"), 400)
    assert body["detail"] == f"query string exceeds {MAX_BYTES} bytes"
    # Counted as sent: escapes count three bytes each, though they decode to one.
    escaped = "a=" + "%41" * ((MAX_BYTES - 2) // 3 + 1)
    assert_problem(get_raw(server, "/healthz?" + escaped), 400)


def test_query_refused_before_token_is_checked(server, user):
    token = server.token(user["username"])
    assert server.get("/verify?x=1", headers=bearer(token)).status_code == 204
    r = get_raw(server, "/verify?x=%zz", [("Authorization", f"Bearer {token}")])
    assert_problem(r, 400)
    # An unknown path stays a 404 whatever its query.
    assert_problem(get_raw(server, "/nope?x=%zz"), 404)


def test_malformed_query_bodies_identical(server):
    assert get_raw(server, "/healthz?%zz").content == get_raw(server, "/readyz?q=%zz").content


def test_query_on_worker_routes(server):
    # The query is parsed before the request reaches a worker, and freed with it.
    r = server.post("/login?x=%25zz", json={"username": "a", "password": "b"})
    assert r.status_code == 401, r.text
    r = server.raw(build_request("POST", "/login?x=%zz", [("Content-Type", "application/json")],
                                 b'{"username":"a","password":"b"}'))
    assert_problem(r, 400)
