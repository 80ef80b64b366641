"""A relying party nobody here wrote: Debian's python3-authlib as a
confidential client of the provider, once with client_secret_basic and once
with client_secret_post (API.md, "Single sign-on"). It finds the endpoints
by discovery, runs the authorization code flow with PKCE (the browser's
part driven by tests/api/test_oidc_token.py's Agent), validates the ID
token itself (authlib.jose, CodeIDToken: signature against the JWKS, iss,
aud, nonce, exp), calls /userinfo, refreshes, introspects, revokes, and
takes a client_credentials token."""
import os
import secrets

import pytest
import requests

from test_oidc_token import REDIRECT, Agent, add_client, start

authlib = pytest.importorskip("authlib")
from authlib.integrations.requests_client import OAuth2Session  # noqa: E402
from authlib.jose import JsonWebKey, jwt as authlib_jwt  # noqa: E402
from authlib.integrations.base_client import OAuthError  # noqa: E402
from authlib.oidc.core import CodeIDToken  # noqa: E402

TIMEOUT = 60  # seconds: hang detection only
METHODS = ["client_secret_basic", "client_secret_post"]

# The provider runs on plain-HTTP loopback in the tests.
os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture(scope="module")
def provider(make_module_server, tmp_path_factory):
    srv = start(make_module_server, tmp_path_factory.mktemp("key"))
    client = add_client(srv, "authlib-rp", "--first-party")
    assert client[1], "a confidential client has a secret"
    user = srv.new_user("authlib")
    agent = Agent(srv)
    agent.signin(user["username"])
    meta = requests.get(srv.url("/.well-known/openid-configuration"), timeout=TIMEOUT).json()
    jwks = requests.get(meta["jwks_uri"], timeout=TIMEOUT).json()
    return {"srv": srv, "client": client, "user": user, "agent": agent, "meta": meta,
            "jwks": JsonWebKey.import_key_set(jwks)}


def session(p, method, scope="openid email offline_access"):
    cid, secret = p["client"]
    return OAuth2Session(cid, secret, scope=scope, redirect_uri=REDIRECT,
                         token_endpoint_auth_method=method, revocation_endpoint_auth_method=method,
                         code_challenge_method="S256")


def authorize(p, s, nonce):
    """authlib builds the authorization URL; the signed-in browser opens it
    and brings back the redirect, which authlib reads."""
    verifier = secrets.token_urlsafe(48)
    uri, state = s.create_authorization_url(p["meta"]["authorization_endpoint"],
                                            code_verifier=verifier, nonce=nonce)
    r = p["agent"].s.get(uri, allow_redirects=False, timeout=TIMEOUT)
    if r.status_code == 404:
        pytest.skip("GET /authorize is not served yet (h-oidcweb)")
    assert r.status_code in (302, 303), r.text[:300]
    location = r.headers["Location"]
    assert location.startswith(REDIRECT + "?"), location
    return location, state, verifier


def id_claims(p, id_token, nonce):
    """The ID token validated by authlib (OIDC Core §3.1.3.7)."""
    cid = p["client"][0]
    claims = authlib_jwt.decode(
        id_token, p["jwks"], claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "values": [p["meta"]["issuer"]]}},
        claims_params={"nonce": nonce, "client_id": cid})
    claims.validate()
    return claims


@pytest.mark.parametrize("method", METHODS)
def test_code_flow(provider, method):
    p = provider
    s = session(p, method)
    nonce = secrets.token_urlsafe(12)
    location, state, verifier = authorize(p, s, nonce)
    tok = s.fetch_token(p["meta"]["token_endpoint"], authorization_response=location,
                        state=state, code_verifier=verifier)
    assert tok["token_type"] == "Bearer" and tok["refresh_token"] and tok["id_token"]
    claims = id_claims(p, tok["id_token"], nonce)
    assert claims["sub"] == str(p["user"]["id"])
    assert claims["aud"] == p["client"][0]
    # userinfo with the token authlib holds.
    r = s.get(p["meta"]["userinfo_endpoint"], timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.json()["sub"] == claims["sub"]
    assert r.json()["preferred_username"] == p["user"]["username"]


@pytest.mark.parametrize("method", METHODS)
def test_refresh_introspect_revoke(provider, method):
    p = provider
    meta = p["meta"]
    s = session(p, method)
    nonce = secrets.token_urlsafe(12)
    location, state, verifier = authorize(p, s, nonce)
    first = s.fetch_token(meta["token_endpoint"], authorization_response=location, state=state,
                          code_verifier=verifier)
    second = s.refresh_token(meta["token_endpoint"], refresh_token=first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    # A refreshed ID token is still one of this client, and of the same
    # sign-in; it carries no nonce (OIDC Core §12.2 leaves it out).
    assert id_claims(p, second["id_token"], None)["sid"] == \
        id_claims(p, first["id_token"], nonce)["sid"]
    r = s.introspect_token(meta["introspection_endpoint"], token=second["access_token"])
    assert r.status_code == 200, r.text
    assert r.json()["active"] is True and r.json()["client_id"] == p["client"][0]
    r = s.revoke_token(meta["revocation_endpoint"], token=second["refresh_token"],
                       token_type_hint="refresh_token")
    assert r.status_code == 200, r.text
    with pytest.raises(OAuthError) as e:
        s.refresh_token(meta["token_endpoint"], refresh_token=second["refresh_token"])
    assert e.value.error == "invalid_grant"
    r = s.introspect_token(meta["introspection_endpoint"], token=second["access_token"])
    assert r.json() == {"active": False}


@pytest.mark.parametrize("method", METHODS)
def test_client_credentials(provider, method):
    p = provider
    s = session(p, method, scope="profile")
    tok = s.fetch_token(p["meta"]["token_endpoint"], grant_type="client_credentials")
    assert tok["scope"] == "profile" and "refresh_token" not in tok and "id_token" not in tok
    r = s.introspect_token(p["meta"]["introspection_endpoint"], token=tok["access_token"])
    assert r.json()["sub"] == p["client"][0]


@pytest.mark.parametrize("method", METHODS)
def test_wrong_secret(provider, method):
    p = provider
    cid, secret = p["client"]
    s = OAuth2Session(cid, secret + "x", token_endpoint_auth_method=method)
    with pytest.raises(OAuthError) as e:
        s.fetch_token(p["meta"]["token_endpoint"], grant_type="client_credentials")
    assert e.value.error == "invalid_client"
