"""The `detail` of two refusals that say why (README, issue 10): an expired
access token's 401 and a body with a duplicate key's 400. Equal failures
still give equal bodies."""
import time

from gh_helpers import DROP, WRONG_KEY, assert_problem, assert_www_authenticate, bearer, resign

EXPIRED = "Could not validate credentials: the token has expired"
INVALID = "Could not validate credentials"
DUPLICATE = "request body is not valid JSON: a key appears twice"
NOT_JSON = "request body is not valid JSON"


def post_bytes_raw(server, path, data):
    return server.post(path, data=data, headers={"Content-Type": "application/json"})


def test_expired_token_says_it_expired(server, user):
    token = server.token(user["username"])
    now = int(time.time())
    old = resign(token, iat=now - 4000, exp=now - 60)
    older = resign(token, iat=now - 9000, exp=now - 3600)
    bodies = []
    for t in (old, older):
        for path in ("/me", "/verify"):
            r = server.get(path, headers=bearer(t))
            body = assert_problem(r, 401)
            assert body["detail"] == EXPIRED, body
            assert_www_authenticate(r, invalid_token=True)
            assert r.headers["WWW-Authenticate"] == \
                'Bearer error="invalid_token", error_description="The access token expired"'
            bodies.append(r.content)
    # The /verify body and the /me body of any expired token are one.
    assert len(set(bodies)) == 1


def test_only_a_well_signed_token_is_told_expired(server, user):
    now = int(time.time())
    token = server.token(user["username"])
    # Expired and signed with another key: just invalid (no oracle for forgers).
    forged = resign(token, key=WRONG_KEY, iat=now - 4000, exp=now - 60)
    assert assert_problem(server.me(forged), 401)["detail"] == INVALID
    # Without exp at all: invalid, not expired.
    assert assert_problem(server.me(resign(token, exp=DROP)), 401)["detail"] == INVALID
    # A live token of a logged-out session: invalid.
    live = server.token(user["username"])
    assert server.post("/logout", headers=bearer(live)).status_code == 204
    r = server.me(live)
    assert assert_problem(r, 401)["detail"] == INVALID
    assert r.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_duplicate_key_says_so(server):
    pw = b"correct-horse-battery-9"
    for path in ("/register", "/login"):
        for body in (b'{"username": "abcd1", "username": "abcd2", "password": "' + pw + b'"}',
                     b'{"x": 1, "x": 1, "username": "abcd1", "password": "' + pw + b'"}'):
            r = post_bytes_raw(server, path, body)
            assert assert_problem(r, 400)["detail"] == DUPLICATE, r.text
    # Other malformed JSON keeps its detail.
    r = post_bytes_raw(server, "/register", b'{"username": "abcd1",')
    assert assert_problem(r, 400)["detail"] == NOT_JSON
