"""Access tokens: header and claims as PyJWT sees them, and every way a forged
or broken token must be refused by /me and /verify (401, error="invalid_token").

Forged tokens start from a real token's claims (genuine sub/sid/jti) and change
one thing, so each 401 is caused by the defect under test; the `valid` control
case proves that a re-signed token is otherwise accepted.
"""
import json
import re
import time

import jwt
import pytest

from gh_helpers import (
    B64URL_RE,
    DROP,
    SECRET_KEY,
    WRONG_KEY,
    assert_problem,
    assert_www_authenticate,
    b64url,
    b64url_decode,
    b64url_json,
    bearer,
    decode_token,
    resign,
    token_parts,
)

ISSUER = "https://issuer.gatehouse.test"
AUDIENCE = "gatehouse-api-tests"


@pytest.fixture(scope="module")
def account(server):
    """A user and one of its real access tokens (module-wide)."""
    u = server.new_user("tok")
    u["token"] = server.token(u["username"])
    return u


# ------------------------------------------------------------- issued token
def test_header_exact(account):
    header, _, _ = token_parts(account["token"])
    assert header == {"alg": "HS256", "typ": "JWT"}
    assert jwt.get_unverified_header(account["token"]) == {"alg": "HS256", "typ": "JWT"}


def test_token_is_compact_base64url(account):
    parts = account["token"].split(".")
    assert len(parts) == 3
    for part in parts:
        assert B64URL_RE.match(part), part  # no padding, no +/
    assert len(token_parts(account["token"])[2]) == 32  # HMAC-SHA256


def test_claims_verified_by_pyjwt(account):
    claims = decode_token(account["token"])  # verifies signature and exp
    assert claims["sub"] == str(account["id"])
    assert isinstance(claims["sub"], str)
    assert claims["username"] == account["username"]
    for name in ("iat", "exp"):
        assert type(claims[name]) is int, claims
    assert claims["exp"] - claims["iat"] == 1800
    # Same machine, same clock; a generous window, not a timing assertion.
    assert abs(claims["iat"] - time.time()) < 300
    assert isinstance(claims["jti"], str) and re.match(r"^[A-Za-z0-9_-]{22,}$", claims["jti"])
    assert isinstance(claims["sid"], str) and claims["sid"]
    assert "iss" not in claims and "aud" not in claims  # not configured


def test_jti_entropy(server, account):
    """>= 128 random bits: 22+ base64url chars, all different."""
    jtis = {decode_token(server.token(account["username"]))["jti"] for _ in range(5)}
    assert len(jtis) == 5


def test_expire_minutes_setting(make_server):
    srv = make_server(env={"ACCESS_TOKEN_EXPIRE_MINUTES": "5"})
    u = srv.new_user()
    r = srv.login(u["username"])
    assert r.status_code == 200, r.text
    assert r.json()["expires_in"] == 300
    claims = decode_token(r.json()["access_token"])
    assert claims["exp"] - claims["iat"] == 300


# ------------------------------------------------------- forged tokens
def _tamper_payload(token):
    h, p, s = token.split(".")
    claims = json.loads(b64url_decode(p))
    claims["username"] = "admin"
    claims["sub"] = "1" if claims["sub"] != "1" else "2"
    return f"{h}.{b64url_json(claims)}.{s}"


def _tamper_signature(token):
    h, p, s = token.split(".")
    sig = bytearray(b64url_decode(s))
    sig[0] ^= 0x01  # the first byte: a change in the last char could hit padding bits only
    return f"{h}.{p}.{b64url(bytes(sig))}"


def _alg_none(token):
    _, p, _ = token.split(".")
    return f"{b64url_json({'alg': 'none', 'typ': 'JWT'})}.{p}."


def _alg_none_capitalised(token):
    _, p, _ = token.split(".")
    return f"{b64url_json({'alg': 'None', 'typ': 'JWT'})}.{p}."


def _alg_none_keeping_signature(token):
    _, p, s = token.split(".")
    return f"{b64url_json({'alg': 'none', 'typ': 'JWT'})}.{p}.{s}"


def _no_signature(token):
    h, p, _ = token.split(".")
    return f"{h}.{p}."


def _pyjwt_none(token):
    return jwt.encode(token_parts(token)[1], None, algorithm="none")


FORGERIES = {
    "alg_none": _alg_none,
    "alg_none_pyjwt": _pyjwt_none,
    "alg_None": _alg_none_capitalised,
    "alg_none_with_sig": _alg_none_keeping_signature,
    "empty_signature": _no_signature,
    "HS384": lambda t: resign(t, algorithm="HS384"),
    "HS512": lambda t: resign(t, algorithm="HS512"),
    "expired": lambda t: resign(t, iat=int(time.time()) - 3600, exp=int(time.time()) - 120),
    "expired_2s": lambda t: resign(t, exp=int(time.time()) - 2),
    "nbf_future": lambda t: resign(t, nbf=int(time.time()) + 120),
    "missing_exp": lambda t: resign(t, exp=DROP),
    "tampered_payload": _tamper_payload,
    "tampered_signature": _tamper_signature,
    "wrong_key": lambda t: resign(t, key=WRONG_KEY),
    "unknown_user": lambda t: resign(t, sub="987654321"),
    "two_parts": lambda t: ".".join(t.split(".")[:2]),
    "four_parts": lambda t: t + ".AAAA",
    "garbage": lambda t: "not.a.jwt",
    "not_base64": lambda t: "%%%." + t.split(".", 1)[1],
    "header_not_json": lambda t: b64url(b"{alg:HS256") + "." + t.split(".", 1)[1],
    "trailing_space_inside": lambda t: t[:20] + " " + t[20:],
}


@pytest.mark.parametrize("kind", sorted(FORGERIES))
def test_forged_token_refused_by_me(server, account, kind):
    token = FORGERIES[kind](account["token"])
    r = server.me(token)
    assert_problem(r, 401)
    assert_www_authenticate(r, invalid_token=True)


@pytest.mark.parametrize("kind", sorted(set(FORGERIES) - {"unknown_user"}))
def test_forged_token_refused_by_verify(server, account, kind):
    token = FORGERIES[kind](account["token"])
    r = server.verify(token)
    assert r.status_code == 401, r.text
    assert_www_authenticate(r, invalid_token=True)
    assert "X-Auth-User-Id" not in r.headers and "X-Auth-Username" not in r.headers


def test_forged_tokens_give_identical_bodies(server, account):
    forged = FORGERIES["tampered_signature"](account["token"])
    assert server.me(forged).content == server.me(forged).content
    # A bad signature is the same failure whichever way it came about.
    bodies = {server.me(FORGERIES[k](account["token"])).content
              for k in ("tampered_signature", "wrong_key")}
    assert len(bodies) == 1, bodies


@pytest.mark.parametrize("endpoint", ["/me", "/verify"])
def test_resigned_valid_token_accepted(server, account, endpoint):
    """Control: PyJWT re-signing with the right key and a fresh exp is accepted."""
    now = int(time.time())
    token = resign(account["token"], iat=now, exp=now + 600)
    r = server.get(endpoint, headers=bearer(token))
    assert r.status_code in (200, 204), r.text
    assert r.status_code == (200 if endpoint == "/me" else 204)


def test_unknown_extra_claims_accepted(server, account):
    token = resign(account["token"], scope="x", custom={"a": 1})
    assert server.me(token).status_code == 200


# --------------------------------------------------------------- leeway
def test_default_leeway_zero(server, account):
    now = int(time.time())
    assert_problem(server.me(resign(account["token"], exp=now - 2)), 401)
    assert server.me(resign(account["token"], exp=now + 60)).status_code == 200


@pytest.fixture(scope="module")
def leeway_server(make_module_server):
    return make_module_server(env={"JWT_LEEWAY_SECONDS": "30"})


@pytest.fixture(scope="module")
def leeway_account(leeway_server):
    u = leeway_server.new_user("lee")
    u["token"] = leeway_server.token(u["username"])
    return u


@pytest.mark.parametrize("endpoint", ["/me", "/verify"])
def test_leeway_accepts_recently_expired(leeway_server, leeway_account, endpoint):
    now = int(time.time())
    token = resign(leeway_account["token"], iat=now - 100, exp=now - 10)
    r = leeway_server.get(endpoint, headers=bearer(token))
    assert r.status_code == (200 if endpoint == "/me" else 204), r.text


@pytest.mark.parametrize("endpoint", ["/me", "/verify"])
def test_leeway_rejects_long_expired(leeway_server, leeway_account, endpoint):
    now = int(time.time())
    token = resign(leeway_account["token"], iat=now - 200, exp=now - 60)
    r = leeway_server.get(endpoint, headers=bearer(token))
    assert r.status_code == 401, r.text
    assert_www_authenticate(r, invalid_token=True)


def test_leeway_applies_to_nbf(leeway_server, leeway_account):
    now = int(time.time())
    assert leeway_server.me(resign(leeway_account["token"], nbf=now + 10)).status_code == 200
    r = leeway_server.me(resign(leeway_account["token"], nbf=now + 60))
    assert_problem(r, 401)
    assert_www_authenticate(r, invalid_token=True)


def test_leeway_does_not_excuse_missing_exp(leeway_server, leeway_account):
    assert_problem(leeway_server.me(resign(leeway_account["token"], exp=DROP)), 401)


# -------------------------------------------------------------- iss / aud
@pytest.fixture(scope="module")
def issuer_server(make_module_server):
    return make_module_server(env={"JWT_ISSUER": ISSUER, "JWT_AUDIENCE": AUDIENCE})


@pytest.fixture(scope="module")
def issuer_account(issuer_server):
    u = issuer_server.new_user("iss")
    u["token"] = issuer_server.token(u["username"])
    return u


def test_iss_aud_present_when_configured(issuer_account):
    claims = decode_token(issuer_account["token"], issuer=ISSUER, audience=AUDIENCE)
    assert claims["iss"] == ISSUER
    assert claims["aud"] == AUDIENCE or claims["aud"] == [AUDIENCE]
    assert claims["sub"] == str(issuer_account["id"])


@pytest.mark.parametrize("endpoint", ["/me", "/verify"])
def test_issued_token_accepted_with_iss_aud(issuer_server, issuer_account, endpoint):
    r = issuer_server.get(endpoint, headers=bearer(issuer_account["token"]))
    assert r.status_code == (200 if endpoint == "/me" else 204), r.text


ISS_AUD_FORGERIES = {
    "wrong_iss": {"iss": "https://evil.example"},
    "wrong_aud": {"aud": "someone-else"},
    "missing_iss": {"iss": DROP},
    "missing_aud": {"aud": DROP},
    "aud_list_without_ours": {"aud": ["someone-else", "another"]},
    "iss_case_changed": {"iss": ISSUER.upper()},
}


@pytest.mark.parametrize("endpoint", ["/me", "/verify"])
@pytest.mark.parametrize("kind", sorted(ISS_AUD_FORGERIES))
def test_wrong_iss_aud_refused(issuer_server, issuer_account, kind, endpoint):
    token = resign(issuer_account["token"], **ISS_AUD_FORGERIES[kind])
    r = issuer_server.get(endpoint, headers=bearer(token))
    assert r.status_code == 401, r.text
    assert_www_authenticate(r, invalid_token=True)


def test_aud_array_containing_ours_accepted(issuer_server, issuer_account):
    # RFC 7519 section 4.1.3: aud may be an array; PyJWT and jose accept this form.
    token = resign(issuer_account["token"], aud=["someone-else", AUDIENCE])
    assert issuer_server.me(token).status_code == 200


def test_secret_key_is_the_pyjwt_key(server, account):
    """Sanity: the fixed SECRET_KEY of the suite is exactly the signing key."""
    decode_token(account["token"], key=SECRET_KEY)
    with pytest.raises(jwt.InvalidSignatureError):
        decode_token(account["token"], key=WRONG_KEY)
