"""The OpenID Connect provider's HTTP side but /authorize (API.md, "Single
sign-on"): discovery, POST /token's client grants (authorization_code,
refresh_token of a client's session, client_credentials) with client
authentication (client_secret_basic, client_secret_post, none for a public
client), /userinfo, /oauth/revoke (RFC 7009) and /oauth/introspect
(RFC 7662). Clients are added with `gatehouse clients add`; codes come from
the sign-in form and /authorize, driven as a browser would, redirects not
followed. Tokens are checked independently with PyJWT against the JWKS."""
import base64
import hashlib
import json
import re
import secrets
import subprocess
import time
import urllib.parse

import jwt
import pytest
import requests

from gh_helpers import (
    BINARY,
    CLI_TIMEOUT,
    PASSWORD,
    TEST_DATABASE_URL,
    assert_common_headers,
    assert_problem,
    bearer,
    db_exec,
    free_port,
    media_type,
)

FORM = "application/x-www-form-urlencoded"
TIMEOUT = 60  # seconds: hang detection only
REDIRECT = "https://rp.example.test/cb"


# ------------------------------------------------------------------ helpers
def oidc_env(port, **more):
    """A server with the provider on: PUBLIC_URL is its own address."""
    env = {"PORT": str(port), "PUBLIC_URL": f"http://127.0.0.1:{port}", "COOKIE_SECURE": "0",
           "SESSION_COOKIES": "1"}
    env.update(more)
    return env


def oidc_key(directory):
    """An RS256 key for OIDC_PRIVATE_KEY_FILE, made by openssl: PostgreSQL
    with HS256 has no key of its own to sign ID tokens with (API.md)."""
    path = directory / "oidc-key.pem"
    if not path.exists():
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", str(path)], check=True,
                       capture_output=True, timeout=CLI_TIMEOUT)
    return path


def start(make, tmp=None, **more):
    """A provider on SQLite (its key made beside the database) or, under
    scripts/with-pg.sh, on the shared PostgreSQL with a key file."""
    port = free_port()
    if TEST_DATABASE_URL:
        assert tmp is not None, "PostgreSQL needs a directory for the key"
        more.setdefault("OIDC_PRIVATE_KEY_FILE", str(oidc_key(tmp)))
        return make(env=oidc_env(port, **more), database_url=TEST_DATABASE_URL, port=port)
    return make(env=oidc_env(port, **more), port=port)


def add_client(srv, name=None, *flags, redirect=REDIRECT):
    """`gatehouse clients add` on srv's database: (client_id, client_secret
    or None)."""
    name = name or "rp-" + secrets.token_hex(4)
    args = [str(BINARY), "clients", "add", name, "--redirect-uri", redirect, *flags]
    p = subprocess.run(args, env=srv.env, cwd=srv.workdir, capture_output=True, text=True,
                       timeout=CLI_TIMEOUT)
    assert p.returncode == 0, p.stderr
    cid = re.search(r"^client_id: (\S+)$", p.stdout, re.M)
    secret = re.search(r"^client_secret: (\S+)$", p.stdout, re.M)
    assert cid, p.stdout
    return cid.group(1), secret.group(1) if secret else None


def basic(cid, secret):
    """RFC 6749 §2.3.1: each value form-encoded, then base64 of id:secret."""
    raw = f"{urllib.parse.quote_plus(cid)}:{urllib.parse.quote_plus(secret)}"
    return {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}


def post_form(srv, path, fields, headers=None):
    return requests.post(srv.url(path), data=fields, headers=headers or {}, timeout=TIMEOUT)


def token(srv, fields, headers=None):
    return post_form(srv, "/token", fields, headers)


def assert_no_store(r):
    assert r.headers.get("Cache-Control") == "no-store", r.headers
    assert r.headers.get("Pragma") == "no-cache", r.headers


def assert_oauth(r, status, error):
    """RFC 6749 §5.2: the status, JSON {"error", "error_description"}, not
    cached; a 401 names the Basic scheme."""
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text!r}"
    assert media_type(r) == "application/json", r.headers.get("Content-Type")
    body = r.json()
    assert set(body) == {"error", "error_description"}, body
    assert body["error"] == error, body
    assert re.fullmatch(r'[\x20-\x21\x23-\x5b\x5d-\x7e]+', body["error_description"]), body
    if status == 401:
        assert r.headers.get("WWW-Authenticate") == 'Basic realm="gatehouse"', r.headers
    assert_no_store(r)
    assert_common_headers(r)
    return body


def pkce():
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def jwks_keys(srv):
    r = srv.get("/.well-known/jwks.json")
    assert r.status_code == 200
    return {k["kid"]: k for k in r.json()["keys"]}


def verify(srv, tok, audience, typ):
    """The token checked with PyJWT against the served JWKS: its header's
    kid and alg, typ, signature, iss and aud. Returns the claims."""
    header = jwt.get_unverified_header(tok)
    assert header.get("typ") == typ, header
    keys = jwks_keys(srv)
    assert header["kid"] in keys, (header, list(keys))
    key = jwt.PyJWK.from_dict(keys[header["kid"]])
    return jwt.decode(tok, key.key, algorithms=[header["alg"]], audience=audience,
                      issuer=srv.env["PUBLIC_URL"], options={"require": ["exp", "iat", "sub"]})


class Agent:
    """A browser that signs in on the form and asks /authorize for codes."""

    def __init__(self, srv):
        self.srv, self.s = srv, requests.Session()

    def get(self, path, **kw):
        return self.s.get(self.srv.url(path), allow_redirects=False, timeout=TIMEOUT, **kw)

    def signin(self, username, password=PASSWORD):
        r = self.get("/signin")
        assert r.status_code == 200, r.text
        r = self.s.post(self.srv.url("/signin"),
                        data={"csrf": self.s.cookies.get("gatehouse_csrf"), "username": username,
                              "password": password},
                        headers={"Origin": "null"}, allow_redirects=False, timeout=TIMEOUT)
        assert r.status_code in (302, 303), r.text
        if "gatehouse_sso" not in self.s.cookies:
            pytest.skip("the sign-in form sets no gatehouse_sso cookie yet (h-oidcweb)")
        return r

    def code(self, cid, scope="openid", redirect=REDIRECT, challenge=None, nonce=None):
        q = {"response_type": "code", "client_id": cid, "redirect_uri": redirect,
             "scope": scope, "state": secrets.token_urlsafe(8)}
        if challenge:
            q.update(code_challenge=challenge, code_challenge_method="S256")
        if nonce:
            q["nonce"] = nonce
        r = self.get("/authorize?" + urllib.parse.urlencode(q))
        if r.status_code in (404, 405) and media_type(r) == "application/problem+json":
            pytest.skip("GET /authorize is not served yet (h-oidcweb)")
        assert r.status_code in (302, 303), (r.status_code, r.text[:300])
        loc = r.headers["Location"]
        assert loc.startswith(redirect + "?"), loc
        got = urllib.parse.parse_qs(urllib.parse.urlsplit(loc).query)
        assert got.get("state") == [q["state"]], got
        assert "code" in got, got
        return got["code"][0]


@pytest.fixture(scope="module")
def op(make_module_server, tmp_path_factory):
    """A provider with three first-party clients (two confidential, one
    public), a user signed in on the form."""
    srv = start(make_module_server, tmp_path_factory.mktemp("key"))
    conf = add_client(srv, None, "--first-party")
    other = add_client(srv, None, "--first-party")
    public = add_client(srv, None, "--first-party", "--public")
    assert conf[1] and other[1] and public[1] is None
    u = srv.new_user("oidc")
    return {"srv": srv, "conf": conf, "other": other, "public": public, "user": u}


@pytest.fixture(scope="module")
def agent(op):
    a = Agent(op["srv"])
    a.signin(op["user"]["username"])
    return a


def exchange(srv, agent, client, scope="openid", how="basic", pkce_pair=None, nonce=None):
    """A code for client and its exchange: the /token answer."""
    cid, secret = client
    verifier, challenge = pkce_pair or (None, None)
    code = agent.code(cid, scope=scope, challenge=challenge, nonce=nonce)
    fields = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    if verifier:
        fields["code_verifier"] = verifier
    headers = None
    if how == "basic":
        headers = basic(cid, secret)
    elif how == "post":
        fields.update(client_id=cid, client_secret=secret)
    else:
        fields["client_id"] = cid
    return token(srv, fields, headers)


def tokens_ok(r):
    assert r.status_code == 200, r.text
    assert media_type(r) == "application/json"
    assert_no_store(r)
    assert_common_headers(r)
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0, body
    return body


# ---------------------------------------------------------------- discovery
def test_discovery(op):
    srv = op["srv"]
    r = srv.get("/.well-known/openid-configuration")
    assert r.status_code == 200, r.text
    assert media_type(r) == "application/json"
    assert_common_headers(r)
    d = r.json()
    iss = srv.env["PUBLIC_URL"]
    assert d["issuer"] == iss
    for name, path in [("authorization_endpoint", "/authorize"), ("token_endpoint", "/token"),
                       ("userinfo_endpoint", "/userinfo"),
                       ("jwks_uri", "/.well-known/jwks.json"),
                       ("revocation_endpoint", "/oauth/revoke"),
                       ("introspection_endpoint", "/oauth/introspect"),
                       ("end_session_endpoint", "/oidc/logout")]:
        assert d[name] == iss + path, (name, d[name])
    assert d["response_types_supported"] == ["code"]
    assert d["code_challenge_methods_supported"] == ["S256"]
    assert set(d["scopes_supported"]) == {"openid", "profile", "email", "offline_access"}
    assert d["subject_types_supported"] == ["public"]
    # RS256 by default, and the JWKS has such a key.
    assert d["id_token_signing_alg_values_supported"] == ["RS256"]
    assert any(k.get("alg") == "RS256" for k in jwks_keys(srv).values())
    assert set(d["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic", "client_secret_post", "none"}
    assert set(d["grant_types_supported"]) == {
        "authorization_code", "refresh_token", "client_credentials"}
    assert d["authorization_response_iss_parameter_supported"] is True


def test_off_until_a_client_is_registered(make_server, tmp_path):
    """404 (a problem) from discovery and every OIDC endpoint while no
    client is registered; a client added on the command line counts at
    once, without a restart."""
    if TEST_DATABASE_URL:
        pytest.skip("needs a database without clients; the PostgreSQL run shares one")
    srv = start(make_server, tmp_path)
    paths = [("GET", "/.well-known/openid-configuration"), ("GET", "/userinfo"),
             ("POST", "/userinfo"), ("POST", "/oauth/revoke"), ("POST", "/oauth/introspect")]
    for method, path in paths:
        assert_problem(srv.request(method, path), 404)
    # /token's client grants find no client to authenticate.
    r = token(srv, {"grant_type": "client_credentials", "client_id": "gh_nobody",
                    "client_secret": "x"})
    assert_oauth(r, 401, "invalid_client")
    cid, secret = add_client(srv)
    r = srv.get("/.well-known/openid-configuration")
    assert r.status_code == 200, r.text
    for method, path in paths[1:]:
        assert srv.request(method, path).status_code != 404, path
    tokens_ok(token(srv, {"grant_type": "client_credentials"}, basic(cid, secret)))
    # Deleted, it authenticates no more, and with no client left the
    # provider is off again.
    p = subprocess.run([str(BINARY), "clients", "delete", cid], env=srv.env, cwd=srv.workdir,
                       capture_output=True, text=True, timeout=CLI_TIMEOUT)
    assert p.returncode == 0, p.stderr
    assert_problem(srv.get("/.well-known/openid-configuration"), 404)
    assert_problem(srv.post("/oauth/introspect", data={"token": "x"}, headers=basic(cid, secret)),
                   404)
    r = token(srv, {"grant_type": "client_credentials"}, basic(cid, secret))
    assert_oauth(r, 401, "invalid_client")


def test_off_without_public_url(make_server):
    """No PUBLIC_URL: no provider. The client grants are unsupported and the
    endpoints are 404; the password grant works as before."""
    srv = make_server()
    assert_problem(srv.get("/.well-known/openid-configuration"), 404)
    for grant in ("authorization_code", "client_credentials"):
        r = token(srv, {"grant_type": grant, "client_id": "x", "client_secret": "y"})
        assert_oauth(r, 400, "unsupported_grant_type")
    u = srv.new_user("plain")
    r = token(srv, {"grant_type": "password", "username": u["username"], "password": PASSWORD},
              headers={"Authorization": "Basic Og=="})
    assert r.status_code == 200, r.text


def test_oidc_operations_are_served(op):
    """With the provider on, every operation the document tags oidc is
    routed (test_docs checks the rest, where they answer 404 while off)."""
    srv = op["srv"]
    doc = srv.get("/openapi.json").json()
    seen = 0
    for path, item in doc["paths"].items():
        for method, o in item.items():
            if "oidc" not in o.get("tags", []):
                continue
            seen += 1
            r = srv.request(method.upper(), path.replace("{", "").replace("}", ""),
                            allow_redirects=False)
            assert r.status_code not in (404, 405), f"{method.upper()} {path}: {r.status_code}"
    assert seen >= 5


# ------------------------------------------------------ client_credentials
def test_client_credentials_basic_and_post(op):
    srv = op["srv"]
    cid, secret = op["conf"]
    for headers, fields in [(basic(cid, secret), {}),
                            (None, {"client_id": cid, "client_secret": secret})]:
        r = token(srv, {"grant_type": "client_credentials", **fields}, headers)
        body = tokens_ok(r)
        # RFC 6749 §4.4.3: no refresh token; no user, so no ID token.
        assert "refresh_token" not in body and "id_token" not in body, body
        claims = verify(srv, body["access_token"], cid, "at+jwt")
        assert claims["sub"] == cid and claims["client_id"] == cid, claims
        assert claims["jti"]


def test_client_credentials_scope(op):
    srv = op["srv"]
    cid, secret = op["conf"]
    body = tokens_ok(token(srv, {"grant_type": "client_credentials", "scope": "email"},
                           basic(cid, secret)))
    assert body["scope"] == "email"
    claims = verify(srv, body["access_token"], cid, "at+jwt")
    assert claims["scope"] == "email"
    for scope in ("openid", "offline_access", "email openid", "nonsense", "email email",
                  "x" * 300):
        r = token(srv, {"grant_type": "client_credentials", "scope": scope}, basic(cid, secret))
        assert_oauth(r, 400, "invalid_scope")


def test_client_credentials_needs_a_confidential_client(op):
    srv = op["srv"]
    r = token(srv, {"grant_type": "client_credentials", "client_id": op["public"][0]})
    assert_oauth(r, 400, "unauthorized_client")


# ----------------------------------------------------- client authentication
def test_client_authentication_refusals(op):
    """Every failed authentication is the same 401 invalid_client with a
    Basic challenge, the unknown client's included (no enumeration)."""
    srv = op["srv"]
    cid, secret = op["conf"]
    grant = {"grant_type": "client_credentials"}
    cases = [
        (basic(cid, secret + "x"), {}),
        (basic(cid, secret[:-1]), {}),
        (basic("gh_unknown", secret), {}),
        (None, {"client_id": cid, "client_secret": "wrong"}),
        (None, {"client_id": "gh_unknown", "client_secret": secret}),
        (None, {"client_id": cid}),  # a confidential client without its secret
        (None, {}),  # nobody
        (basic(op["public"][0], "s3cret"), {}),  # a public client has no secret
        ({"Authorization": "Basic Og=="}, {}),  # Swagger UI's empty pair names nobody
        ({"Authorization": "Bearer abc"}, {}),  # not a client authentication
    ]
    bodies = set()
    for headers, fields in cases:
        r = token(srv, {**grant, **fields}, headers)
        bodies.add(r.content)
        assert_oauth(r, 401, "invalid_client")
    assert len(bodies) == 1


def test_client_authentication_malformed(op):
    srv = op["srv"]
    cid, secret = op["conf"]
    grant = {"grant_type": "client_credentials"}
    too_long = "g" * 65
    cases = [
        # RFC 6749 §2.3: one method only.
        (basic(cid, secret), {"client_secret": secret}, "client_secret"),
        (basic(cid, secret), {"client_id": op["other"][0]}, "client_id"),
        ({"Authorization": "Basic"}, {}, "Basic"),
        ({"Authorization": "Basic !!!!"}, {}, "base64"),
        ({"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()}, {}, "Basic"),
        ({"Authorization": "Basic " + base64.b64encode(b"id:%zz").decode()}, {}, "form-encoded"),
        ({"Authorization": "Basic " + base64.b64encode(too_long.encode() + b":s").decode()}, {},
         "too long"),
        (None, {"client_id": too_long, "client_secret": "s"}, "client_id"),
        (None, {"client_id": cid, "client_secret": "s" * 129}, "client_secret"),
        (None, {"client_secret": secret}, "client_id"),
        ({"Authorization": "Basic " + "A" * 1025}, {}, "too long"),
    ]
    for headers, fields, mention in cases:
        r = token(srv, {**grant, **fields}, headers)
        body = assert_oauth(r, 400, "invalid_request")
        assert mention in body["error_description"], (fields, body)
    # A parameter of the client's twice.
    r = token(srv, f"grant_type=client_credentials&client_id={cid}&client_id={cid}"
                   f"&client_secret={secret}", {"Content-Type": FORM})
    assert "client_id" in assert_oauth(r, 400, "invalid_request")["error_description"]


def test_basic_values_are_form_encoded(op):
    """§2.3.1: a client whose secret holds characters form encoding
    changes still authenticates (ours are base64url, so quote_plus leaves
    them; a '%' escape of each byte must work as well)."""
    srv = op["srv"]
    cid, secret = op["conf"]
    raw = "".join(f"%{b:02X}" for b in cid.encode()) + ":" + \
        "".join(f"%{b:02X}" for b in secret.encode())
    h = {"Authorization": "Basic " + base64.b64encode(raw.encode()).decode()}
    tokens_ok(token(srv, {"grant_type": "client_credentials"}, h))
    # The scheme's name in any case (RFC 9110 §11.1).
    h = basic(cid, secret)
    h["Authorization"] = "bAsIc" + h["Authorization"][5:]
    tokens_ok(token(srv, {"grant_type": "client_credentials"}, h))
    # client_id beside Basic, when it is the same client.
    tokens_ok(token(srv, {"grant_type": "client_credentials", "client_id": cid},
                    basic(cid, secret)))


# ------------------------------------------------------ authorization_code
@pytest.mark.parametrize("how", ["basic", "post"])
def test_code_exchange_confidential(op, agent, how):
    srv = op["srv"]
    cid = op["conf"][0]
    nonce = secrets.token_urlsafe(12)
    body = tokens_ok(exchange(srv, agent, op["conf"], "openid email", how, nonce=nonce))
    assert set(body["scope"].split()) == {"openid", "email"}
    assert "refresh_token" not in body  # no offline_access
    at = verify(srv, body["access_token"], cid, "at+jwt")
    idt = verify(srv, body["id_token"], cid, "JWT")
    user_id = str(op["user"]["id"])
    assert at["sub"] == idt["sub"] == user_id
    assert at["client_id"] == cid and set(at["scope"].split()) == {"openid", "email"}
    assert idt["nonce"] == nonce
    # The ID token's sid is the browser's sign-in (what logout ends); the
    # access token's is the client's own session (what revocation ends).
    assert idt["sid"] and at["sid"]
    again = tokens_ok(exchange(srv, agent, op["conf"], "openid", how))
    assert verify(srv, again["id_token"], cid, "JWT")["sid"] == idt["sid"]
    assert verify(srv, again["access_token"], cid, "at+jwt")["sid"] != at["sid"]
    assert idt["amr"] == ["pwd"] and idt["acr"] == "1"
    assert isinstance(idt["auth_time"], int) and idt["auth_time"] <= idt["iat"]


def test_code_exchange_public_with_pkce(op, agent):
    srv = op["srv"]
    cid = op["public"][0]
    pair = pkce()
    body = tokens_ok(exchange(srv, agent, op["public"], "openid", "none", pkce_pair=pair))
    verify(srv, body["id_token"], cid, "JWT")
    # Its code is worth nothing without the verifier: the client has no
    # secret, so PKCE is all that ties the code to it.
    verifier, challenge = pkce()
    code = agent.code(cid, challenge=challenge)
    fields = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
              "client_id": cid}
    assert_oauth(token(srv, fields), 400, "invalid_grant")
    code = agent.code(cid, challenge=challenge)
    tokens_ok(token(srv, {**fields, "code": code, "code_verifier": verifier}))


def test_code_pkce_refusals(op, agent):
    srv = op["srv"]
    cid, secret = op["conf"]
    verifier, challenge = pkce()
    # The wrong verifier, and none at all, for a code with a challenge.
    for v in (pkce()[0], None):
        code = agent.code(cid, challenge=challenge)
        fields = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
        if v:
            fields["code_verifier"] = v
        assert_oauth(token(srv, fields, basic(cid, secret)), 400, "invalid_grant")
    # A malformed verifier is the request's fault (RFC 7636 §4.1).
    code = agent.code(cid, challenge=challenge)
    for bad in ("short", "a" * 129, "x" * 42 + "!"):
        r = token(srv, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                        "code_verifier": bad}, basic(cid, secret))
        assert "code_verifier" in assert_oauth(r, 400, "invalid_request")["error_description"]


def test_code_refusals(op, agent):
    """invalid_grant for a code of another client, another redirect_uri, an
    unknown one; invalid_request without code or redirect_uri."""
    srv = op["srv"]
    cid, secret = op["conf"]
    ocid, osecret = op["other"]
    code = agent.code(cid)
    base = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    assert_oauth(token(srv, base, basic(ocid, osecret)), 400, "invalid_grant")
    code = agent.code(cid)
    assert_oauth(token(srv, {**base, "code": code, "redirect_uri": REDIRECT + "/x"},
                       basic(cid, secret)), 400, "invalid_grant")
    assert_oauth(token(srv, {**base, "code": "A" * 43}, basic(cid, secret)), 400, "invalid_grant")
    assert_oauth(token(srv, {**base, "code": "x" * 5000}, basic(cid, secret)), 400,
                 "invalid_grant")
    for missing in ("code", "redirect_uri"):
        fields = {k: v for k, v in base.items() if k != missing}
        body = assert_oauth(token(srv, fields, basic(cid, secret)), 400, "invalid_request")
        assert missing in body["error_description"]


def test_code_reuse_revokes_what_it_issued(op, agent):
    """RFC 6749 §4.1.2: a code works once; its second use fails and revokes
    the tokens of the first."""
    srv = op["srv"]
    cid, secret = op["conf"]
    code = agent.code(cid, scope="openid offline_access")
    fields = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    first = tokens_ok(token(srv, fields, basic(cid, secret)))
    assert srv.get("/userinfo", headers=bearer(first["access_token"])).status_code == 200
    assert_oauth(token(srv, fields, basic(cid, secret)), 400, "invalid_grant")
    r = srv.get("/userinfo", headers=bearer(first["access_token"]))
    assert_problem(r, 401)
    r = token(srv, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
              basic(cid, secret))
    assert_oauth(r, 400, "invalid_grant")


# ------------------------------------------------------------ refresh_token
def test_refresh_rotation_and_reuse(op, agent):
    srv = op["srv"]
    cid, secret = op["conf"]
    first = tokens_ok(exchange(srv, agent, op["conf"], "openid offline_access"))
    assert first["refresh_token"]
    r = token(srv, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
              basic(cid, secret))
    second = tokens_ok(r)
    # The scope stays the one granted; a new ID token for openid.
    assert set(second["scope"].split()) == {"openid", "offline_access"}
    assert second["refresh_token"] != first["refresh_token"]
    assert verify(srv, second["id_token"], cid, "JWT")["sid"] == \
        verify(srv, first["id_token"], cid, "JWT")["sid"]
    # client_secret_post works too.
    third = tokens_ok(token(srv, {"grant_type": "refresh_token",
                                  "refresh_token": second["refresh_token"], "client_id": cid,
                                  "client_secret": secret}))
    # The rotated-out token again: theft; the whole session goes.
    r = token(srv, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
              basic(cid, secret))
    assert_oauth(r, 400, "invalid_grant")
    r = token(srv, {"grant_type": "refresh_token", "refresh_token": third["refresh_token"]},
              basic(cid, secret))
    assert_oauth(r, 400, "invalid_grant")
    assert_problem(srv.get("/userinfo", headers=bearer(third["access_token"])), 401)


def test_refresh_of_a_public_client(op, agent):
    srv = op["srv"]
    cid = op["public"][0]
    first = tokens_ok(exchange(srv, agent, op["public"], "openid offline_access", "none",
                               pkce_pair=pkce()))
    tokens_ok(token(srv, {"grant_type": "refresh_token", "refresh_token": first["refresh_token"],
                          "client_id": cid}))


def test_refresh_cross_client_refusals(op, agent):
    """A client's refresh token works for that client only: not for
    another, not without a client (POST /refresh, /token's own grant);
    gatehouse's own refresh token is no client's."""
    srv = op["srv"]
    cid, secret = op["conf"]
    ocid, osecret = op["other"]
    mine = tokens_ok(exchange(srv, agent, op["conf"], "openid offline_access"))
    rt = mine["refresh_token"]
    r = token(srv, {"grant_type": "refresh_token", "refresh_token": rt}, basic(ocid, osecret))
    assert_oauth(r, 400, "invalid_grant")
    r = token(srv, {"grant_type": "refresh_token", "refresh_token": rt})
    assert_oauth(r, 400, "invalid_grant")
    assert_problem(srv.post_json("/refresh", {"refresh_token": rt}), 401)
    # Those refusals took nothing from the owner: it still refreshes.
    tokens_ok(token(srv, {"grant_type": "refresh_token", "refresh_token": rt},
                    basic(cid, secret)))
    own = srv.login(op["user"]["username"]).json()
    r = token(srv, {"grant_type": "refresh_token", "refresh_token": own["refresh_token"]},
              basic(cid, secret))
    assert_oauth(r, 400, "invalid_grant")
    # And gatehouse's own still rotates without a client, Swagger UI's empty
    # "Basic Og==" (which names none) included.
    r = token(srv, {"grant_type": "refresh_token", "refresh_token": own["refresh_token"]})
    assert r.status_code == 200, r.text
    r = token(srv, {"grant_type": "refresh_token", "refresh_token": r.json()["refresh_token"]},
              {"Authorization": "Basic Og=="})
    assert r.status_code == 200, r.text
    assert r.json()["token_type"] == "bearer"  # gatehouse's own answer, as POST /login's


# ----------------------------------------------------------------- userinfo
def test_userinfo(op, agent):
    srv = op["srv"]
    body = tokens_ok(exchange(srv, agent, op["conf"], "openid"))
    for method in ("GET", "POST"):
        r = srv.request(method, "/userinfo", headers=bearer(body["access_token"]))
        assert r.status_code == 200, r.text
        assert media_type(r) == "application/json"
        assert_no_store(r)
        info = r.json()
        assert info == {"sub": str(op["user"]["id"]),
                        "preferred_username": op["user"]["username"]}, info


def test_userinfo_email_scope(op, agent):
    """email and email_verified with scope email only, and only when the
    account has an address."""
    srv = op["srv"]
    body = tokens_ok(exchange(srv, agent, op["conf"], "openid email"))
    info = srv.get("/userinfo", headers=bearer(body["access_token"])).json()
    # The user registered without an address: no email claim to give.
    assert info["sub"] == str(op["user"]["id"]) and "email" not in info, info
    name = "mail" + secrets.token_hex(4)
    r = srv.post_json("/register", {"username": name, "password": PASSWORD,
                                    "email": f"{name}@example.test"})
    assert r.status_code == 200, r.text
    other = Agent(srv)
    other.signin(name)
    body = tokens_ok(exchange(srv, other, op["conf"], "openid email"))
    info = srv.get("/userinfo", headers=bearer(body["access_token"])).json()
    assert info["email"] == f"{name}@example.test" and info["email_verified"] is False, info
    body = tokens_ok(exchange(srv, other, op["conf"], "openid"))
    info = srv.get("/userinfo", headers=bearer(body["access_token"])).json()
    assert "email" not in info and "email_verified" not in info, info


def test_userinfo_refusals(op):
    srv = op["srv"]
    cid, secret = op["conf"]
    r = srv.get("/userinfo")
    assert_problem(r, 401)
    assert r.headers["WWW-Authenticate"] == "Bearer"
    for tok in ("garbage", "a.b.c", "x" * 9000):
        r = srv.get("/userinfo", headers=bearer(tok))
        assert r.status_code == 401, r.text
        assert r.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    # gatehouse's own access token is not an OIDC access token.
    own = srv.login(op["user"]["username"]).json()["access_token"]
    r = srv.get("/userinfo", headers=bearer(own))
    assert_problem(r, 401)
    assert r.headers["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
    # A client_credentials token has no user and no openid scope.
    cc = tokens_ok(token(srv, {"grant_type": "client_credentials"}, basic(cid, secret)))
    r = srv.get("/userinfo", headers=bearer(cc["access_token"]))
    assert_problem(r, 403)
    assert r.headers["WWW-Authenticate"] == 'Bearer error="insufficient_scope", scope="openid"'
    # A Basic header is no token.
    assert_problem(srv.get("/userinfo", headers=basic(cid, secret)), 401)


def test_oidc_access_token_is_not_gatehouse_token(op, agent):
    """API.md: an OIDC access token is not accepted by /me, /verify or the
    other gatehouse endpoints."""
    srv = op["srv"]
    body = tokens_ok(exchange(srv, agent, op["conf"], "openid"))
    assert_problem(srv.get("/me", headers=bearer(body["access_token"])), 401)
    assert srv.get("/verify", headers=bearer(body["access_token"])).status_code == 401
    assert_problem(srv.get("/me", headers=bearer(body["id_token"])), 401)


# ------------------------------------------------------------- introspection
def introspect(srv, tok, headers=None, **fields):
    return post_form(srv, "/oauth/introspect", {"token": tok, **fields}, headers)


def test_introspect(op, agent):
    srv = op["srv"]
    cid, secret = op["conf"]
    body = tokens_ok(exchange(srv, agent, op["conf"], "openid offline_access"))
    r = introspect(srv, body["access_token"], basic(cid, secret))
    assert r.status_code == 200, r.text
    assert_no_store(r)
    info = r.json()
    assert info["active"] is True
    assert info["client_id"] == cid and info["sub"] == str(op["user"]["id"])
    assert set(info["scope"].split()) == {"openid", "offline_access"}
    assert info["iss"] == srv.env["PUBLIC_URL"] and info["exp"] > info["iat"]
    # client_secret_post as well; a hint changes nothing.
    r = introspect(srv, body["access_token"], None, client_id=cid, client_secret=secret,
                   token_type_hint="refresh_token")
    assert r.json()["active"] is True
    # A client_credentials token: sub is the client.
    cc = tokens_ok(token(srv, {"grant_type": "client_credentials"}, basic(cid, secret)))
    info = introspect(srv, cc["access_token"], basic(cid, secret)).json()
    assert info["active"] is True and info["sub"] == cid
    # Inactive, and nothing more: a refresh token, garbage, gatehouse's own
    # token, and another client's token (RFC 7662 §4).
    own = srv.login(op["user"]["username"]).json()["access_token"]
    ocid, osecret = op["other"]
    for tok, h in [(body["refresh_token"], basic(cid, secret)), ("garbage", basic(cid, secret)),
                   ("e" * 9000, basic(cid, secret)), (body["id_token"], basic(cid, secret)),
                   (own, basic(cid, secret)), (body["access_token"], basic(ocid, osecret))]:
        r = introspect(srv, tok, h)
        assert r.status_code == 200 and r.json() == {"active": False}, r.text


def test_introspect_refusals(op):
    srv = op["srv"]
    cid, secret = op["conf"]
    # Client authentication is required, and public clients have none.
    assert_oauth(introspect(srv, "x"), 401, "invalid_client")
    assert_oauth(introspect(srv, "x", None, client_id=op["public"][0]), 401, "invalid_client")
    assert_oauth(introspect(srv, "x", basic(cid, "wrong")), 401, "invalid_client")
    r = post_form(srv, "/oauth/introspect", {"token_type_hint": "access_token"},
                  basic(cid, secret))
    assert "token" in assert_oauth(r, 400, "invalid_request")["error_description"]
    r = requests.post(srv.url("/oauth/introspect"), data="token=a&token=b",
                      headers={"Content-Type": FORM, **basic(cid, secret)}, timeout=TIMEOUT)
    assert_oauth(r, 400, "invalid_request")
    r = requests.post(srv.url("/oauth/introspect"), json={"token": "x"},
                      headers=basic(cid, secret), timeout=TIMEOUT)
    assert "Content-Type" in assert_oauth(r, 400, "invalid_request")["error_description"]
    r = requests.post(srv.url("/oauth/introspect"), data="token=" + "a" * 17000,
                      headers={"Content-Type": FORM, **basic(cid, secret)}, timeout=TIMEOUT)
    assert_problem(r, 413)


# ---------------------------------------------------------------- revocation
def revoke(srv, tok, headers=None, **fields):
    return post_form(srv, "/oauth/revoke", {"token": tok, **fields}, headers)


def test_revoke_access_token(op, agent):
    srv = op["srv"]
    cid, secret = op["conf"]
    body = tokens_ok(exchange(srv, agent, op["conf"], "openid offline_access"))
    r = revoke(srv, body["access_token"], basic(cid, secret))
    assert r.status_code == 200 and r.content == b"", r.text
    assert_no_store(r)
    assert_problem(srv.get("/userinfo", headers=bearer(body["access_token"])), 401)
    assert introspect(srv, body["access_token"], basic(cid, secret)).json() == {"active": False}
    # Its session went with it.
    r = token(srv, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
              basic(cid, secret))
    assert_oauth(r, 400, "invalid_grant")


def test_revoke_refresh_token(op, agent):
    srv = op["srv"]
    cid, secret = op["conf"]
    body = tokens_ok(exchange(srv, agent, op["conf"], "openid offline_access"))
    r = revoke(srv, body["refresh_token"], None, client_id=cid, client_secret=secret,
               token_type_hint="access_token")
    assert r.status_code == 200, r.text
    r = token(srv, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
              basic(cid, secret))
    assert_oauth(r, 400, "invalid_grant")
    assert_problem(srv.get("/userinfo", headers=bearer(body["access_token"])), 401)


def test_revoke_client_credentials_token(op):
    srv = op["srv"]
    cid, secret = op["conf"]
    cc = tokens_ok(token(srv, {"grant_type": "client_credentials"}, basic(cid, secret)))
    other = tokens_ok(token(srv, {"grant_type": "client_credentials"}, basic(cid, secret)))
    assert revoke(srv, cc["access_token"], basic(cid, secret)).status_code == 200
    assert introspect(srv, cc["access_token"], basic(cid, secret)).json() == {"active": False}
    # Only that token: another of the same client stays active.
    assert introspect(srv, other["access_token"], basic(cid, secret)).json()["active"] is True


def test_revoke_another_clients_token_changes_nothing(op, agent):
    """RFC 7009 §2.2: 200, and the token of another client stays valid."""
    srv = op["srv"]
    cid, secret = op["conf"]
    ocid, osecret = op["other"]
    body = tokens_ok(exchange(srv, agent, op["conf"], "openid offline_access"))
    for tok in (body["access_token"], body["refresh_token"]):
        assert revoke(srv, tok, basic(ocid, osecret)).status_code == 200
        assert revoke(srv, tok, None, client_id=op["public"][0]).status_code == 200
    assert srv.get("/userinfo", headers=bearer(body["access_token"])).status_code == 200
    tokens_ok(token(srv, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
                    basic(cid, secret)))
    # Unknown tokens: 200 too, however long or odd.
    for tok in ("garbage", "e" * 9000, "a.b.c", body["id_token"]):
        assert revoke(srv, tok, basic(cid, secret)).status_code == 200


def test_revoke_refusals(op):
    srv = op["srv"]
    cid, secret = op["conf"]
    assert_oauth(revoke(srv, "x"), 401, "invalid_client")
    assert_oauth(revoke(srv, "x", basic(cid, "wrong")), 401, "invalid_client")
    r = post_form(srv, "/oauth/revoke", {"token_type_hint": "access_token"}, basic(cid, secret))
    assert "token" in assert_oauth(r, 400, "invalid_request")["error_description"]
    r = revoke(srv, "x", basic(cid, secret), client_secret=secret)
    assert_oauth(r, 400, "invalid_request")


def test_revocation_reaches_every_instance(make_server, tmp_path):
    """API.md: a revoked access token gets 401 at /userinfo within a second
    on every instance sharing the database (the revocation watch). Polled
    until it does; the deadline only detects a hang."""
    if not TEST_DATABASE_URL:
        pytest.skip("instances share revocations through PostgreSQL (scripts/with-pg.sh)")
    a = start(make_server, tmp_path)
    b = make_server(env={**{k: a.env[k] for k in ("PUBLIC_URL", "OIDC_PRIVATE_KEY_FILE",
                                                  "COOKIE_SECURE", "SESSION_COOKIES")}},
                    database_url=TEST_DATABASE_URL)
    cid, secret = add_client(a, None, "--first-party")
    user = a.new_user("multi")
    agent = Agent(a)
    agent.signin(user["username"])
    body = tokens_ok(exchange(a, agent, (cid, secret), "openid"))
    assert b.get("/userinfo", headers=bearer(body["access_token"])).status_code == 200
    assert revoke(a, body["access_token"], basic(cid, secret)).status_code == 200
    deadline = time.monotonic() + 10
    while b.get("/userinfo", headers=bearer(body["access_token"])).status_code != 401:
        assert time.monotonic() < deadline, "instance b still accepts the revoked token"
        time.sleep(0.05)


def test_instances_share_sign_ins_and_codes(make_server, tmp_path):
    """Instances on one PostgreSQL database, as behind a balancer, share
    the browser's sign-in and the codes: signed in on one, the other
    answers /authorize with a code at once; a code made by one is
    exchanged at the other, and only once."""
    if not TEST_DATABASE_URL:
        pytest.skip("instances share a database on PostgreSQL (scripts/with-pg.sh)")
    a = start(make_server, tmp_path)
    b = make_server(env={**{k: a.env[k] for k in ("PUBLIC_URL", "OIDC_PRIVATE_KEY_FILE",
                                                  "COOKIE_SECURE", "SESSION_COOKIES")}},
                    database_url=TEST_DATABASE_URL)
    cid, secret = add_client(a, None, "--first-party")
    user = a.new_user("shared")
    on_a, on_b = Agent(a), Agent(b)
    on_a.signin(user["username"])
    on_b.s = on_a.s  # one browser: its cookies go to both
    fields = {"grant_type": "authorization_code", "code": on_b.code(cid),
              "redirect_uri": REDIRECT}
    body = tokens_ok(token(a, fields, basic(cid, secret)))
    assert a.get("/userinfo", headers=bearer(body["access_token"])).json()["sub"] == \
        str(user["id"])
    assert_oauth(token(b, fields, basic(cid, secret)), 400, "invalid_grant")


def test_client_grants_counted_and_logged(make_server, tmp_path):
    """gatehouse_token_requests_total counts the client grants by grant and
    outcome; the audit log's "oidc.token" names the client once it
    authenticated, and never shows its secret or a token."""
    from test_metrics import scrape, value

    srv = start(make_server, tmp_path, LOG_FORMAT="json")
    cid, secret = add_client(srv)
    before = scrape(srv)
    body = tokens_ok(token(srv, {"grant_type": "client_credentials"}, basic(cid, secret)))
    assert_oauth(token(srv, {"grant_type": "client_credentials"}, basic(cid, "wrong")), 401,
                 "invalid_client")
    assert_oauth(token(srv, {"grant_type": "authorization_code", "code": "x" * 43,
                             "redirect_uri": REDIRECT}, basic(cid, secret)), 400, "invalid_grant")
    after = scrape(srv)

    def d(grant, outcome):
        return value(after, "gatehouse_token_requests_total", grant=grant, outcome=outcome) - \
            value(before, "gatehouse_token_requests_total", grant=grant, outcome=outcome)

    assert d("client_credentials", "ok") == 1
    assert d("client_credentials", "bad_client") == 1
    assert d("authorization_code", "bad_grant") == 1
    log = srv.stderr()
    events = [json.loads(line) for line in log.splitlines()
              if line.startswith("{") and '"oidc.token"' in line]
    assert [(e["grant"], e["outcome"], e.get("client_id")) for e in events] == [
        ("client_credentials", "ok", cid), ("client_credentials", "bad_client", None),
        ("authorization_code", "bad_grant", cid)], events
    assert secret not in log and body["access_token"] not in log


def test_a_disabled_user_gets_no_code_exchange_nor_refresh(op):
    """The flag alone (set behind the server's back, without the session
    revocations that disabling also makes): a code made before is refused at
    the exchange, a refresh token got before at its refresh."""
    srv = op["srv"]
    cid, secret = op["conf"]
    u = srv.new_user("oidcdis")
    a = Agent(srv)
    a.signin(u["username"])
    held = tokens_ok(exchange(srv, a, op["conf"], "openid offline_access"))
    code = a.code(cid)
    db_exec(srv, f"UPDATE users SET disabled = 1 WHERE id = {u['id']}")
    try:
        r = token(srv, {"grant_type": "authorization_code", "code": code,
                        "redirect_uri": REDIRECT}, basic(cid, secret))
        assert_oauth(r, 400, "invalid_grant")
        r = token(srv, {"grant_type": "refresh_token", "refresh_token": held["refresh_token"]},
                  basic(cid, secret))
        assert_oauth(r, 400, "invalid_grant")
    finally:
        db_exec(srv, f"UPDATE users SET disabled = 0 WHERE id = {u['id']}")
