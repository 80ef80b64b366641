"""The OpenID Connect provider's authorization endpoint, written from the
OpenID Foundation's Basic OP test plan and its negative cases (API.md,
"Single sign-on"): nonce and state round trips, a code used twice
(refused, and what it issued revoked), a redirect URI not registered
(never redirected to), prompt=none without a sign-in (login_required),
max_age and prompt=login forcing a new sign-in, PKCE, scope without
openid, request objects; and the browser's side: the sign-in form carrying
the request, the consent page, the gatehouse_sso cookie, RP-initiated
logout. ID tokens are checked independently with PyJWT against the JWKS.

The browser is a requests session that follows no redirect by itself:
each step's answer is checked, then the next is requested by hand."""
import base64
import hashlib
import re
import secrets
import sqlite3
import subprocess
import time
from urllib.parse import parse_qs, urljoin, urlsplit

import jwt
import pytest
import requests

from gh_helpers import CLI_TIMEOUT, PASSWORD, TEST_DATABASE_URL, run_gatehouse
from test_pages import assert_page_headers, parse

ISSUER = "https://auth.example.test"
RP = "https://rp.example.test/callback"
RP_LOGOUT = "https://rp.example.test/signed-out"
RP_ORIGIN = "https://rp.example.test"  # the consent and sign-in posts' form-action
CSRF_COOKIE = "gatehouse_csrf"
SSO_COOKIE = "gatehouse_sso"
TIMEOUT = 60  # seconds: hang detection only
ENV = {"SESSION_COOKIES": "1", "COOKIE_SECURE": "0", "PUBLIC_URL": ISSUER}


@pytest.fixture(scope="module")
def srv(make_module_server, tmp_path_factory):
    """The provider on SQLite (its key made beside the database) or, under
    scripts/with-pg.sh, on PostgreSQL with an RS256 key file (with HS256
    PostgreSQL has no key of its own for ID tokens)."""
    if TEST_DATABASE_URL:
        key = tmp_path_factory.mktemp("key") / "oidc-key.pem"
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", str(key)], check=True,
                       capture_output=True, timeout=CLI_TIMEOUT)
        return make_module_server(env=dict(ENV, OIDC_PRIVATE_KEY_FILE=str(key)),
                                  database_url=TEST_DATABASE_URL)
    return make_module_server(env=ENV)


def clients_add(srv, tmp_path, *args):
    """`gatehouse clients add` against srv's database; (id, secret or None)."""
    env = {k: srv.env[k] for k in ("DATABASE_URL", "PUBLIC_URL", "OIDC_PRIVATE_KEY_FILE")
           if srv.env.get(k)}
    proc = run_gatehouse(tmp_path, ["clients", "add", *args], env=env)
    assert proc.returncode == 0, proc.stderr
    cid = re.search(r"^client_id: (\S+)$", proc.stdout, re.M).group(1)
    secret = re.search(r"^client_secret: (\S+)$", proc.stdout, re.M)
    return cid, secret and secret.group(1)


class Client:
    def __init__(self, cid, secret):
        self.id, self.secret = cid, secret


@pytest.fixture(scope="module")
def clients(srv, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("clients")
    first = Client(*clients_add(srv, tmp, "first", "--redirect-uri", RP, "--first-party",
                                "--post-logout-redirect-uri", RP_LOGOUT))
    third = Client(*clients_add(srv, tmp, "Third <App>", "--redirect-uri", RP))
    public = Client(*clients_add(srv, tmp, "spa", "--redirect-uri", RP, "--public",
                                 "--first-party"))
    return {"first": first, "third": third, "public": public}


class Browser:
    """A browser without JavaScript: cookies kept, redirects followed by
    hand, forms posted as the pages have them."""

    def __init__(self, srv):
        self.srv, self.s = srv, requests.Session()

    def get(self, path, **kw):
        return self.s.get(self.srv.url(path), allow_redirects=False, timeout=TIMEOUT, **kw)

    def post(self, path, fields, **kw):
        return self.s.post(self.srv.url(path), data=fields, headers={"Origin": "null"},
                           allow_redirects=False, timeout=TIMEOUT, **kw)

    def follow(self, resp):
        """The page a relative Location of resp leads to (from resp's URL)."""
        where = urljoin(resp.url, resp.headers["Location"])
        return self.s.get(where, allow_redirects=False, timeout=TIMEOUT)

    def signin_form(self, page_resp, username, password=PASSWORD):
        """Posts the sign-in form of page_resp with its hidden fields."""
        page = parse(page_resp)
        fields = {k: v.get("value", "") for k, v in page.inputs.items()}
        fields.update(username=username, password=password)
        action = urljoin(page_resp.url, page.forms[0]["action"])
        return self.s.post(action, data=fields, headers={"Origin": "null"},
                           allow_redirects=False, timeout=TIMEOUT)

    def authorize(self, client, **params):
        q = {"client_id": client.id, "redirect_uri": RP, "response_type": "code",
             "scope": "openid"}
        q.update(params)
        q = {k: v for k, v in q.items() if v is not None}
        return self.get("/authorize", params=q)


def at_rp(resp):
    """The parameters of a redirect to the relying party (asserting it is
    one)."""
    assert resp.status_code in (302, 303), resp.text
    loc = resp.headers["Location"]
    assert loc.startswith(RP + "?"), loc
    return {k: v[0] for k, v in parse_qs(urlsplit(loc).query, keep_blank_values=True).items()}


def pkce():
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(
        b"=").decode()
    return verifier, challenge


def signed_in_browser(srv, prefix="op"):
    """A user signed in through the form; (user, browser)."""
    u = srv.new_user(prefix)
    b = Browser(srv)
    page = b.get("/signin")
    r = b.signin_form(page, u["username"])
    assert r.status_code == 303, r.text
    assert b.s.cookies.get(SSO_COOKIE)
    return u, b


def sign_in_for(b, resp, username):
    """From /authorize's redirect to the sign-in page, through the form, to
    /authorize/resume's answer."""
    assert resp.status_code == 302, resp.text
    assert resp.headers["Location"].startswith("signin?authz="), resp.headers["Location"]
    page = b.follow(resp)
    assert page.status_code == 200
    r = b.signin_form(page, username)
    assert r.status_code == 303, r.text
    assert r.headers["Location"].startswith("authorize/resume?authz="), r.headers["Location"]
    return b.follow(r)


def token(srv, client, code, verifier=None, redirect_uri=RP, basic=True):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    auth = None
    if verifier:
        data["code_verifier"] = verifier
    if client.secret is None:
        data["client_id"] = client.id
    elif basic:
        auth = (client.id, client.secret)
    else:
        data.update(client_id=client.id, client_secret=client.secret)
    return requests.post(srv.url("/token"), data=data, auth=auth, timeout=TIMEOUT)


def id_claims(srv, client, id_token):
    """The ID token verified by PyJWT alone: its kid's key from the JWKS,
    RS256, issuer and audience."""
    header = jwt.get_unverified_header(id_token)
    jwks = requests.get(srv.url("/.well-known/jwks.json"), timeout=TIMEOUT).json()
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    assert header["alg"] == "RS256"
    pub = jwt.PyJWK(key).key
    claims = jwt.decode(id_token, pub, algorithms=["RS256"], audience=client.id, issuer=ISSUER,
                        options={"require": ["iss", "sub", "aud", "exp", "iat"]})
    # A changed byte of the signature does not verify.
    head, body, sig = id_token.split(".")
    bad = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(f"{head}.{body}.{bad}", pub, algorithms=["RS256"], audience=client.id)
    return claims


# ------------------------------------------------------------ the happy path
def test_code_flow_nonce_state_and_id_token(srv, clients):
    c = clients["first"]
    u = srv.new_user("cf")
    b = Browser(srv)
    nonce, state = secrets.token_urlsafe(16), "st ä/?&=" + secrets.token_urlsafe(8)
    r = b.authorize(c, nonce=nonce, state=state, login_hint=u["username"])
    # Not signed in: the request is kept and the sign-in form carries it.
    assert r.status_code == 302 and r.headers["Cache-Control"] == "no-store"
    page = b.follow(r)
    form = assert_page_headers(page, script=True, form_to=RP_ORIGIN)  # PUBLIC_URL: the passkey button
    assert form.inputs["username"]["value"] == u["username"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", form.inputs["authz"]["value"])
    before = int(time.time())
    r = b.signin_form(page, u["username"])
    assert r.status_code == 303
    assert b.s.cookies.get(SSO_COOKIE)
    p = at_rp(b.follow(r))
    assert p["state"] == state
    assert p["iss"] == ISSUER
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", p["code"])
    tok = token(srv, c, p["code"])
    assert tok.status_code == 200, tok.text
    body = tok.json()
    claims = id_claims(srv, c, body["id_token"])
    assert claims["nonce"] == nonce
    assert claims["sub"] == str(u["id"])
    assert claims["aud"] in (c.id, [c.id])
    assert claims["auth_time"] >= before - 1
    assert claims["amr"] == ["pwd"] and claims["acr"] == "1"
    assert claims["sid"]
    assert claims["exp"] > claims["iat"]


def test_sso_cookie_attributes(srv):
    u = srv.new_user("ck")
    b = Browser(srv)
    r = b.signin_form(b.get("/signin"), u["username"])
    cookies = r.raw.headers.getlist("Set-Cookie")
    sso = [x for x in cookies if x.startswith(SSO_COOKIE + "=")]
    assert len(sso) == 1, cookies
    attrs = [a.strip() for a in sso[0].split(";")]
    assert re.fullmatch(SSO_COOKIE + r"=[A-Za-z0-9_-]{43}", attrs[0])
    assert "HttpOnly" in attrs and "SameSite=Lax" in attrs and "Path=/" in attrs
    assert any(a.startswith("Max-Age=") and int(a[8:]) > 3600 for a in attrs)


def test_signed_in_browser_gets_a_code_without_a_password(srv, clients):
    u, b = signed_in_browser(srv, "sso")
    p = at_rp(b.authorize(clients["first"], state="s1"))
    assert p["state"] == "s1" and "code" in p
    # prompt=none too: signed in, nothing to ask.
    p = at_rp(b.authorize(clients["first"], prompt="none", state="s2"))
    assert p["state"] == "s2" and "code" in p


def test_post_authorize(srv, clients):
    u, b = signed_in_browser(srv, "pa")
    r = b.s.post(srv.url("/authorize"), data={
        "client_id": clients["first"].id, "redirect_uri": RP, "response_type": "code",
        "scope": "openid", "state": "p"}, allow_redirects=False, timeout=TIMEOUT)
    assert r.status_code == 303
    assert at_rp(r)["state"] == "p"


# --------------------------------------------------------- negative cases
def test_code_reuse_is_refused_and_revokes(srv, clients):
    c = clients["first"]
    u, b = signed_in_browser(srv, "ru")
    p = at_rp(b.authorize(c, scope="openid offline_access"))
    first = token(srv, c, p["code"])
    assert first.status_code == 200, first.text
    tokens = first.json()
    again = token(srv, c, p["code"])
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    # What the first exchange issued is revoked (RFC 6749 §4.1.2).
    ui = requests.get(srv.url("/userinfo"),
                      headers={"Authorization": f"Bearer {tokens['access_token']}"},
                      timeout=TIMEOUT)
    deadline = time.time() + 10
    while ui.status_code == 200 and time.time() < deadline:
        time.sleep(0.1)
        ui = requests.get(srv.url("/userinfo"),
                          headers={"Authorization": f"Bearer {tokens['access_token']}"},
                          timeout=TIMEOUT)
    assert ui.status_code == 401
    ref = requests.post(srv.url("/token"), data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(c.id, c.secret), timeout=TIMEOUT)
    assert ref.status_code == 400 and ref.json()["error"] == "invalid_grant"


def test_redirect_uri_mismatch_is_never_redirected(srv, clients):
    u, b = signed_in_browser(srv, "rm")
    for uri in (RP + "/", RP + "?x=1", "https://evil.example/callback", RP.upper()):
        r = b.authorize(clients["first"], redirect_uri=uri, state="s")
        assert r.status_code == 400, (uri, r.status_code)
        assert "Location" not in r.headers
        assert_page_headers(r)
    # An unknown client, and none at all.
    r = b.authorize(Client("gh_nobody", None))
    assert r.status_code == 400 and "Location" not in r.headers
    r = b.get("/authorize", params={"redirect_uri": RP, "response_type": "code",
                                    "scope": "openid"})
    assert r.status_code == 400 and "Location" not in r.headers
    r = b.get("/authorize", params=[("client_id", clients["first"].id), ("redirect_uri", RP),
                                    ("redirect_uri", RP), ("response_type", "code"),
                                    ("scope", "openid")])
    assert r.status_code == 400 and "Location" not in r.headers
    # The token endpoint wants the code's own redirect URI.
    p = at_rp(b.authorize(clients["first"]))
    r = token(srv, clients["first"], p["code"], redirect_uri=RP + "/")
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_prompt_none_without_a_sign_in(srv, clients):
    b = Browser(srv)
    p = at_rp(b.authorize(clients["first"], prompt="none", state="pn"))
    assert p["error"] == "login_required"
    assert p["state"] == "pn" and p["iss"] == ISSUER
    assert "code" not in p


def test_prompt_none_needing_consent(srv, clients):
    u, b = signed_in_browser(srv, "pc")
    p = at_rp(b.authorize(clients["third"], prompt="none", state="pc"))
    assert p["error"] == "consent_required" and p["state"] == "pc"


def test_prompt_none_with_another_value(srv, clients):
    p = at_rp(Browser(srv).authorize(clients["first"], prompt="none login", state="x"))
    assert p["error"] == "invalid_request" and p["state"] == "x"


def test_max_age_forces_a_new_sign_in(srv, clients):
    c = clients["first"]
    u, b = signed_in_browser(srv, "ma")
    p = at_rp(b.authorize(c, max_age="3600"))
    first = id_claims(srv, c, token(srv, c, p["code"]).json()["id_token"])
    # Once the clock has passed that second, max_age=0 wants a newer sign-in.
    while int(time.time()) <= first["auth_time"]:
        time.sleep(0.05)
    r = b.authorize(c, max_age="0")
    p = at_rp(sign_in_for(b, r, u["username"]))
    second = id_claims(srv, c, token(srv, c, p["code"]).json()["id_token"])
    assert second["auth_time"] > first["auth_time"]


def test_prompt_login_forces_a_new_sign_in(srv, clients):
    c = clients["first"]
    u, b = signed_in_browser(srv, "pl")
    r = b.authorize(c, prompt="login", state="pl")
    assert r.status_code == 302 and r.headers["Location"].startswith("signin?authz=")
    # Coming back without signing in again does not do.
    authz = parse_qs(urlsplit(r.headers["Location"]).query)["authz"][0]
    back = b.get("/authorize/resume", params={"authz": authz})
    assert back.status_code == 302 and back.headers["Location"].startswith("../signin?authz=")
    p = at_rp(sign_in_for(b, r, u["username"]))
    assert p["state"] == "pl" and "code" in p
    # The request is used up.
    again = b.get("/authorize/resume", params={"authz": authz})
    assert again.status_code == 400 and "Location" not in again.headers


def test_pkce(srv, clients):
    pub = clients["public"]
    u, b = signed_in_browser(srv, "pk")
    # A public client must send a challenge.
    p = at_rp(b.authorize(pub, state="np"))
    assert p["error"] == "invalid_request" and p["state"] == "np"
    # S256 only.
    verifier, challenge = pkce()
    p = at_rp(b.authorize(pub, code_challenge=challenge, code_challenge_method="plain"))
    assert p["error"] == "invalid_request"
    p = at_rp(b.authorize(pub, code_challenge=challenge))
    assert p["error"] == "invalid_request"
    # A wrong verifier, then none: invalid_grant.
    p = at_rp(b.authorize(pub, code_challenge=challenge, code_challenge_method="S256"))
    r = token(srv, pub, p["code"], verifier=pkce()[0])
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    p = at_rp(b.authorize(pub, code_challenge=challenge, code_challenge_method="S256"))
    r = token(srv, pub, p["code"])
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    # The right one.
    p = at_rp(b.authorize(pub, code_challenge=challenge, code_challenge_method="S256"))
    r = token(srv, pub, p["code"], verifier=verifier)
    assert r.status_code == 200, r.text
    id_claims(srv, pub, r.json()["id_token"])


def test_scope_without_openid_and_unknown(srv, clients):
    b = Browser(srv)
    for scope, error in (("profile", "invalid_scope"), ("openid openid", "invalid_scope"),
                         ("openid  profile", "invalid_scope"), ("groups", "invalid_scope"),
                         (None, "invalid_request")):
        p = at_rp(b.authorize(clients["first"], scope=scope, state="sc"))
        assert p["error"] == error, (scope, p)
        assert p["state"] == "sc"


def test_unknown_scope_values_are_ignored(srv, clients):
    """OIDC Core §3.1.2.1: a scope value the provider does not know is
    ignored, not refused; the token answer's scope leaves it out."""
    _, b = signed_in_browser(srv, "us")
    p = at_rp(b.authorize(clients["first"], scope="openid groups profile", state="u"))
    assert "error" not in p, p
    tok = token(srv, clients["first"], p["code"])
    assert tok.status_code == 200, tok.text
    assert tok.json()["scope"] == "openid profile"


def test_unsupported_requests(srv, clients):
    b = Browser(srv)
    cases = ({"response_type": "token"}, "unsupported_response_type"), \
        ({"response_type": "code id_token"}, "unsupported_response_type"), \
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"), \
        ({"request_uri": "https://rp.example.test/r"}, "request_uri_not_supported"), \
        ({"response_mode": "fragment"}, "invalid_request"), \
        ({"max_age": "-1"}, "invalid_request"), \
        ({"nonce": "n" * 256}, "invalid_request"), \
        ({"login_hint": "h" * 256}, "invalid_request")
    for params, error in cases:
        p = at_rp(b.authorize(clients["first"], state="us", **params))
        assert p["error"] == error, (params, p)
        assert p["state"] == "us" and p["iss"] == ISSUER and p["error_description"]


def test_repeated_parameter(srv, clients):
    r = Browser(srv).get("/authorize", params=[
        ("client_id", clients["first"].id), ("redirect_uri", RP), ("response_type", "code"),
        ("scope", "openid"), ("nonce", "a"), ("nonce", "b"), ("state", "rp")])
    p = at_rp(r)
    assert p["error"] == "invalid_request" and p["state"] == "rp"


def test_state_limit(srv, clients):
    """state up to 1024 bytes, echoed; past it refused and not echoed, by
    GET and by POST (OpenID Connect Core §3.1.2.1). A query string past the
    HTTP layer's 4096 bytes gets a 400 and no redirect: a POST carries a
    request that long."""
    b = Browser(srv)
    form = {"client_id": clients["first"].id, "redirect_uri": RP, "response_type": "code",
            "scope": "openid", "prompt": "none"}
    for send in (lambda f: b.post("/authorize", f), lambda f: b.get("/authorize", params=f)):
        p = at_rp(send(dict(form, state="s" * 1024)))
        assert p["state"] == "s" * 1024 and p["error"] == "login_required"
        p = at_rp(send(dict(form, state="s" * 1025)))
        assert p["error"] == "invalid_request" and "state" not in p
    p = at_rp(b.post("/authorize", dict(form, state="s" * 1024, nonce="n" * 255,
                                        login_hint="h" * 255, x="y" * 3000)))
    assert p["error"] == "login_required"
    r = b.get("/authorize", params=dict(form, state="s" * 1024, x="y" * 3000))
    assert r.status_code == 400 and "Location" not in r.headers


def test_client_may_ask_only_its_scopes(srv, clients, tmp_path):
    cid, secret = clients_add(srv, tmp_path, "narrow", "--redirect-uri", RP, "--first-party",
                              "--scope", "openid")
    p = at_rp(Browser(srv).authorize(Client(cid, secret), scope="openid email", state="n"))
    assert p["error"] == "invalid_scope" and p["state"] == "n"


# ----------------------------------------------------------------- consent
def consent_page(b, client, **params):
    r = b.authorize(client, **params)
    assert r.status_code == 200, r.text
    page = assert_page_headers(r, form_to=RP_ORIGIN)
    assert page.forms == [{"method": "post", "action": "authorize/consent"}]
    return r, page


def test_consent_allow_is_remembered_per_scope_set(srv, clients):
    c = clients["third"]
    u, b = signed_in_browser(srv, "co")
    r, page = consent_page(b, c, scope="openid email", state="c1")
    assert "Third &lt;App&gt;" in r.text and "<App>" not in r.text
    assert u["username"] in r.text
    assert {"csrf", "authz"} <= set(page.inputs)
    assert re.findall(r'<button type="submit" name="consent" value="(\w+)">', r.text) == \
        ["allow", "deny"]
    done = b.post("/authorize/consent", {"csrf": b.s.cookies.get(CSRF_COOKIE),
                                         "authz": page.inputs["authz"]["value"],
                                         "consent": "allow"})
    p = at_rp(done)
    assert p["state"] == "c1" and "code" in p
    # Asked once: the same set, or a smaller one, goes straight through.
    assert "code" in at_rp(b.authorize(c, scope="openid email"))
    assert "code" in at_rp(b.authorize(c, scope="openid"))
    # A wider set is asked again; so is prompt=consent.
    consent_page(b, c, scope="openid profile")
    consent_page(b, c, scope="openid", prompt="consent")


def test_upper_case_scheme_names_its_origin_in_form_action(srv, tmp_path):
    """A redirect URI registered as HTTPS://… is an https origin in the
    consent page's form-action, not the scheme-source "HTTPS:", which would
    let the form post to every https origin."""
    upper = "HTTPS://rp2.example.test/cb"
    c = Client(*clients_add(srv, tmp_path, "upper", "--redirect-uri", upper))
    u, b = signed_in_browser(srv, "up")
    r = b.authorize(c, redirect_uri=upper)
    assert r.status_code == 200, r.text
    assert_page_headers(r, form_to="https://rp2.example.test")


def test_consent_deny(srv, clients):
    u, b = signed_in_browser(srv, "cd")
    _, page = consent_page(b, clients["third"], state="cd")
    p = at_rp(b.post("/authorize/consent", {"csrf": b.s.cookies.get(CSRF_COOKIE),
                                            "authz": page.inputs["authz"]["value"],
                                            "consent": "deny"}))
    assert p["error"] == "access_denied" and p["state"] == "cd" and "code" not in p
    # Denied is not remembered as allowed.
    consent_page(b, clients["third"])


def test_consent_without_csrf_changes_nothing(srv, clients):
    u, b = signed_in_browser(srv, "cx")
    _, page = consent_page(b, clients["third"])
    authz = page.inputs["authz"]["value"]
    r = b.post("/authorize/consent", {"authz": authz, "consent": "allow"})
    assert r.status_code == 403 and "Location" not in r.headers
    r = b.post("/authorize/consent", {"csrf": "x" * 43, "authz": authz, "consent": "allow"})
    assert r.status_code == 403
    # Still asked, and the request still works.
    consent_page(b, clients["third"])
    p = at_rp(b.post("/authorize/consent", {"csrf": b.s.cookies.get(CSRF_COOKIE),
                                            "authz": authz, "consent": "allow"}))
    assert "code" in p


def test_consent_answer_used_once(srv, clients):
    u, b = signed_in_browser(srv, "c2")
    _, page = consent_page(b, clients["third"], scope="openid profile email")
    form = {"csrf": b.s.cookies.get(CSRF_COOKIE), "authz": page.inputs["authz"]["value"],
            "consent": "allow"}
    assert "code" in at_rp(b.post("/authorize/consent", form))
    r = b.post("/authorize/consent", form)
    assert r.status_code == 400 and "Location" not in r.headers


def test_consent_post_needs_the_consent_page_and_a_fresh_sign_in(srv, clients):
    """A request kept for the sign-in (prompt=login, max_age) gets no code
    from a consent answer posted by the browser's older sign-in, for a
    third-party client or a first-party one; after the sign-in, the consent
    page shown gets one."""
    u, b = signed_in_browser(srv, "cf2")
    csrf = b.s.cookies.get(CSRF_COOKIE)
    for client, extra in ((clients["third"], {"prompt": "login"}),
                          (clients["third"], {"max_age": "0"}),
                          (clients["first"], {"prompt": "login"})):
        if "max_age" in extra:
            time.sleep(1.1)  # max_age=0: the sign-in's second has passed
        r = b.authorize(client, state="cf", **extra)
        assert r.status_code == 302 and r.headers["Location"].startswith("signin?authz=")
        authz = parse_qs(urlsplit(r.headers["Location"]).query)["authz"][0]
        done = b.post("/authorize/consent", {"csrf": csrf, "authz": authz, "consent": "allow"})
        assert done.status_code == 303, done.text
        assert done.headers["Location"].startswith("../signin?authz=" + authz), \
            done.headers["Location"]
    # Signed in again, the consent page's own request answers.
    r = b.authorize(clients["third"], state="cf", prompt="login", scope="openid profile")
    authz = parse_qs(urlsplit(r.headers["Location"]).query)["authz"][0]
    shown = sign_in_for(b, r, u["username"])
    assert shown.status_code == 200, shown.text
    kept = parse(shown).inputs["authz"]["value"]
    assert kept != authz
    p = at_rp(b.post("/authorize/consent", {"csrf": b.s.cookies.get(CSRF_COOKIE),
                                            "authz": kept, "consent": "allow"}))
    assert p["state"] == "cf" and "code" in p
    # The request kept for the sign-in was used up when the page was shown.
    r = b.post("/authorize/consent", {"csrf": b.s.cookies.get(CSRF_COOKIE), "authz": authz,
                                      "consent": "allow"})
    assert r.status_code == 400 and "Location" not in r.headers


def test_unknown_request_id(srv):
    b = Browser(srv)
    for authz in ("A" * 43, "short", "A" * 44):
        r = b.get("/authorize/resume", params={"authz": authz})
        assert r.status_code == 400 and "Location" not in r.headers


# ------------------------------------------------- sign-in with a request
def test_second_factor_carries_the_request(srv, clients):
    u = srv.new_user("mf")
    tok = srv.login(u["username"]).json()["access_token"]
    auth = {"Authorization": f"Bearer {tok}"}
    import pyotp
    r = srv.post_json("/me/mfa/totp", {"password": PASSWORD}, headers=auth)
    secret = r.json()["secret"]
    r = srv.post_json("/me/mfa/totp/confirm", {"code": pyotp.TOTP(secret).now()}, headers=auth)
    recovery = r.json()["recovery_codes"][0]
    b = Browser(srv)
    r = b.authorize(clients["first"], state="mf")
    page = b.follow(r)
    mfa = b.signin_form(page, u["username"])
    assert mfa.status_code == 200, mfa.text
    forms = parse(mfa)
    assert forms.inputs["authz"]["value"] == parse(page).inputs["authz"]["value"]
    done = b.post("/signin/mfa", {"csrf": b.s.cookies.get(CSRF_COOKIE),
                                  "mfa_token": forms.inputs["mfa_token"]["value"],
                                  "recovery_code": recovery,
                                  "authz": forms.inputs["authz"]["value"]})
    assert done.status_code == 303, done.text
    assert done.headers["Location"] == "../authorize/resume?authz=" + forms.inputs["authz"][
        "value"]
    p = at_rp(b.follow(done))
    assert p["state"] == "mf"
    claims = id_claims(srv, clients["first"],
                       token(srv, clients["first"], p["code"]).json()["id_token"])
    assert claims["acr"] == "2" and "pwd" in claims["amr"]


def test_wrong_password_keeps_the_request(srv, clients):
    u = srv.new_user("wp")
    b = Browser(srv)
    page = b.follow(b.authorize(clients["first"], state="wp"))
    authz = parse(page).inputs["authz"]["value"]
    bad = b.signin_form(page, u["username"], password="wrong-" + PASSWORD)
    assert bad.status_code == 401
    assert parse(bad).inputs["authz"]["value"] == authz
    p = at_rp(b.follow(b.signin_form(bad, u["username"])))
    assert p["state"] == "wp"


def test_bad_authz_field_is_refused(srv):
    u = srv.new_user("ba")
    b = Browser(srv)
    page = b.get("/signin", params={"authz": "x"})
    assert "authz" not in parse(page).inputs
    r = b.post("/signin", {"csrf": b.s.cookies.get(CSRF_COOKIE), "username": u["username"],
                           "password": PASSWORD, "authz": "x"})
    assert r.status_code == 400
    assert not b.s.cookies.get("access_token")


# ------------------------------------------------------------------ logout
def test_signout_ends_single_sign_on(srv, clients):
    u, b = signed_in_browser(srv, "so")
    acc = b.get("/account")
    r = b.post("/signout", {"csrf": parse(acc).inputs["csrf"]["value"]})
    assert r.status_code == 200
    assert any(x.startswith(SSO_COOKIE + "=;") and "Max-Age=0" in x
               for x in r.raw.headers.getlist("Set-Cookie"))
    p = at_rp(b.authorize(clients["first"], prompt="none"))
    assert p["error"] == "login_required"


def test_stolen_sso_cookie_after_signout(srv, clients):
    u, b = signed_in_browser(srv, "st")
    value = b.s.cookies.get(SSO_COOKIE)
    acc = b.get("/account")
    assert b.post("/signout", {"csrf": parse(acc).inputs["csrf"]["value"]}).status_code == 200
    other = Browser(srv)
    other.s.cookies.set(SSO_COOKIE, value)
    p = at_rp(other.authorize(clients["first"], prompt="none"))
    assert p["error"] == "login_required"


def test_rp_initiated_logout(srv, clients):
    c = clients["first"]
    u, b = signed_in_browser(srv, "lo")
    p = at_rp(b.authorize(c, scope="openid offline_access"))
    tokens = token(srv, c, p["code"]).json()
    # An unregistered post-logout URI: a page, nobody signed out.
    r = b.get("/oidc/logout", params={"id_token_hint": tokens["id_token"],
                                      "post_logout_redirect_uri": RP, "state": "x"})
    assert r.status_code == 400 and "Location" not in r.headers
    assert "code" in at_rp(b.authorize(c, prompt="none"))
    # A hint this service did not sign.
    forged = jwt.encode({"iss": ISSUER, "aud": c.id, "sub": str(u["id"])}, "k" * 32)
    r = b.get("/oidc/logout", params={"id_token_hint": forged})
    assert r.status_code == 400
    r = b.get("/oidc/logout", params={"id_token_hint": tokens["id_token"],
                                      "post_logout_redirect_uri": RP_LOGOUT, "state": "bye"})
    assert r.status_code == 302
    assert r.headers["Location"] == RP_LOGOUT + "?state=bye"
    assert any(x.startswith(SSO_COOKIE + "=;") for x in r.raw.headers.getlist("Set-Cookie"))
    p = at_rp(b.authorize(c, prompt="none"))
    assert p["error"] == "login_required"
    # The client's refresh token went with the sign-in.
    ref = requests.post(srv.url("/token"), data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(c.id, c.secret), timeout=TIMEOUT)
    assert ref.status_code == 400


def test_logout_page_without_redirect(srv, clients):
    """Without id_token_hint nobody is signed out unasked (RP-Initiated
    Logout 1.0 §2: a link on any site could sign the user out); the page
    asks, and its form signs out."""
    u, b = signed_in_browser(srv, "lp")
    r = b.get("/oidc/logout")
    assert r.status_code == 200
    page = assert_page_headers(r)
    assert page.forms == [{"method": "post", "action": "../oidc/logout"}]
    assert set(page.inputs) == {"csrf"}
    assert b.s.cookies.get(SSO_COOKIE)
    assert "code" in at_rp(b.authorize(clients["first"], prompt="none"))
    r = b.post("/oidc/logout", {"csrf": page.inputs["csrf"]["value"]})
    assert r.status_code == 200
    assert_page_headers(r)
    assert not b.s.cookies.get(SSO_COOKIE)
    assert at_rp(b.authorize(clients["first"], prompt="none"))["error"] == "login_required"


def logout_tokens(srv, c, prefix):
    """A browser signed in and the tokens a client got through it."""
    u, b = signed_in_browser(srv, prefix)
    p = at_rp(b.authorize(c, scope="openid offline_access"))
    return b, token(srv, c, p["code"]).json()


def test_logout_hint_of_another_sign_in_asks(srv, clients):
    """A hint for another sign-in than the browser's ends neither unasked;
    the confirmation carries the checked parameters and signs out the
    browser's own, redirected as the GET would have been."""
    c = clients["first"]
    b, _ = logout_tokens(srv, c, "lh1")
    other, theirs = logout_tokens(srv, c, "lh2")
    r = b.get("/oidc/logout", params={"id_token_hint": theirs["id_token"],
                                      "post_logout_redirect_uri": RP_LOGOUT, "state": "s <1>"})
    assert r.status_code == 200 and "Location" not in r.headers
    page = assert_page_headers(r, form_to=RP_ORIGIN)
    assert page.forms == [{"method": "post", "action": "../oidc/logout"}]
    fields = {k: v.get("value", "") for k, v in page.inputs.items()}
    assert fields == {"csrf": b.s.cookies.get(CSRF_COOKIE), "client_id": c.id,
                      "post_logout_redirect_uri": RP_LOGOUT, "state": "s <1>"}
    assert "code" in at_rp(b.authorize(c, prompt="none"))
    assert "code" in at_rp(other.authorize(c, prompt="none"))
    # Without the CSRF token, or with another URI, nobody is signed out.
    r = b.post("/oidc/logout", dict(fields, csrf="x" * 43))
    assert r.status_code == 403
    r = b.post("/oidc/logout", dict(fields, post_logout_redirect_uri=RP))
    assert r.status_code == 400 and "Location" not in r.headers
    r = b.post("/oidc/logout", dict(fields, id_token_hint=theirs["id_token"]))
    assert r.status_code == 400 and "Location" not in r.headers
    assert "code" in at_rp(b.authorize(c, prompt="none"))
    r = b.post("/oidc/logout", fields)
    assert r.status_code == 303
    assert r.headers["Location"] == RP_LOGOUT + "?state=s%20%3C1%3E"
    assert at_rp(b.authorize(c, prompt="none"))["error"] == "login_required"
    assert "code" in at_rp(other.authorize(c, prompt="none"))


def test_logout_without_the_sso_cookie_ends_the_session_cookie(srv, clients):
    """A browser without the gatehouse_sso cookie (its sign-in older than
    the provider, or the cookie lost) has its access_token cookie's session
    ended, not only the cookies cleared."""
    u, b = signed_in_browser(srv, "lc")
    access = b.s.cookies.get("access_token")
    b.s.cookies.set(SSO_COOKIE, None)
    assert srv.get("/me", headers={"Authorization": f"Bearer {access}"}).status_code == 200
    page = parse(b.get("/oidc/logout"))
    r = b.post("/oidc/logout", {"csrf": page.inputs["csrf"]["value"]})
    assert r.status_code == 200
    assert any(x.startswith("access_token=;") for x in r.raw.headers.getlist("Set-Cookie"))
    assert srv.get("/me", headers={"Authorization": f"Bearer {access}"}).status_code == 401


def test_post_logout_ends_the_sso_cookie_of_another_session(srv, clients):
    """POST /logout with a bearer token of one session and the browser's
    gatehouse_sso cookie of another clears that cookie, and so ends its
    session too: left live, nothing could end it."""
    c = clients["first"]
    u, b = signed_in_browser(srv, "lx")
    sso, access = b.s.cookies.get(SSO_COOKIE), b.s.cookies.get("access_token")
    other = srv.login(u["username"]).json()["access_token"]
    r = b.s.post(srv.url("/logout"), headers={"Authorization": f"Bearer {other}"},
                 timeout=TIMEOUT)
    assert r.status_code == 204, r.text
    assert any(x.startswith(SSO_COOKIE + "=;") for x in r.raw.headers.getlist("Set-Cookie"))
    stolen = Browser(srv)
    stolen.s.cookies.set(SSO_COOKIE, sso)
    assert at_rp(stolen.authorize(c, prompt="none"))["error"] == "login_required"
    assert srv.get("/me", headers={"Authorization": f"Bearer {access}"}).status_code == 401


def test_logout_hint_without_a_sign_in_cookie_asks(srv, clients):
    """A hint followed by a browser without the sign-in's cookie (a link
    on another site) signs nobody out unasked."""
    c = clients["first"]
    b, tokens = logout_tokens(srv, c, "lh3")
    stranger = Browser(srv)
    r = stranger.get("/oidc/logout", params={"id_token_hint": tokens["id_token"]})
    assert r.status_code == 200
    assert parse(r).forms == [{"method": "post", "action": "../oidc/logout"}]
    assert "code" in at_rp(b.authorize(c, prompt="none"))


# ----------------------------------------------------- the provider off
def test_authorize_is_404_without_clients(make_server):
    s = make_server(env=ENV)
    for path in ("/authorize", "/authorize/resume", "/oidc/logout"):
        r = requests.get(s.url(path), params={"client_id": "x", "redirect_uri": RP},
                         timeout=TIMEOUT)
        assert r.status_code == 404, path
        assert r.headers["Content-Type"].startswith("application/problem+json")


def test_authorize_is_404_without_public_url(make_server):
    s = make_server(env={"SESSION_COOKIES": "1", "COOKIE_SECURE": "0"})
    r = requests.get(s.url("/authorize"), timeout=TIMEOUT)
    assert r.status_code == 404
    # And a page sign-in sets no single sign-on cookie.
    u = s.new_user("np")
    b = Browser(s)
    r = b.signin_form(b.get("/signin"), u["username"])
    assert r.status_code == 303
    assert not b.s.cookies.get(SSO_COOKIE)


def test_signin_for_the_provider_without_session_cookies(make_server, tmp_path):
    """With SESSION_COOKIES off, the form still signs a browser in for the
    provider: the gatehouse_sso cookie only, no session cookies."""
    s = make_server(env={"PUBLIC_URL": ISSUER, "COOKIE_SECURE": "0", "SESSION_COOKIES": "0"})
    c = Client(*clients_add(s, tmp_path, "nc", "--redirect-uri", RP, "--first-party"))
    u = s.new_user("nc")
    b = Browser(s)
    p = at_rp(sign_in_for(b, b.authorize(c, state="nc"), u["username"]))
    assert p["state"] == "nc" and "code" in p
    assert b.s.cookies.get(SSO_COOKIE)
    assert not b.s.cookies.get("access_token") and not b.s.cookies.get("refresh_token")


def test_kept_requests_are_limited_per_address(make_server, tmp_path):
    """Anyone may send /authorize, and each request kept for a sign-in is a
    row: past THROTTLE_AUTHZ_REQUESTS from one address, the busy page (429,
    Retry-After) and nothing kept; a browser signed in still gets its code
    (nothing kept for it)."""
    limit = 3
    s = make_server(env=dict(ENV, THROTTLE_AUTHZ_REQUESTS=str(limit)))
    c = Client(*clients_add(s, tmp_path, "th", "--redirect-uri", RP, "--first-party"))
    b = Browser(s)
    for i in range(limit):
        r = b.authorize(c, state=str(i))
        assert r.status_code == 302, (i, r.text)
        assert r.headers["Location"].startswith("signin?authz=")
    r = b.authorize(c, state="over")
    assert r.status_code == 429 and "Location" not in r.headers
    assert int(r.headers["Retry-After"]) >= 1
    assert_page_headers(r)
    r = b.post("/authorize", {"client_id": c.id, "redirect_uri": RP, "response_type": "code",
                              "scope": "openid"})
    assert r.status_code == 429
    u = s.new_user("th")
    r = b.signin_form(b.get("/signin"), u["username"])
    assert r.status_code == 303
    assert "code" in at_rp(b.authorize(c, state="in"))
    conn = sqlite3.connect(s.db_path)
    try:
        assert conn.execute("SELECT count(*) FROM oidc_requests").fetchone()[0] == limit
    finally:
        conn.close()


def test_passkey_sign_in_from_the_pages(srv, clients):
    """The sign-in page's passkey button (POST /login/passkey with the
    session cookies) signs the browser in for single sign-on too; its ID
    token says acr 2 (a passkey that verified its user)."""
    from test_passkeys import authenticator, login_options, registered
    u = srv.new_user("pk")
    auth = authenticator()
    registered(srv, srv.token(u["username"]), auth)
    b = Browser(srv)
    page = b.follow(b.authorize(clients["first"], state="pk"))
    box = re.search(r'id="passkey-signin"[^>]* data-account="([^"]+)"', page.text)
    authz = parse(page).inputs["authz"]["value"]
    assert box and box.group(1) == "authorize/resume?authz=" + authz
    opt = login_options(srv)
    r = b.s.post(srv.url("/login/passkey"), json={"flow_id": opt["flow_id"],
                                                 "credential": auth.get(opt)},
                 headers={"Origin": ISSUER}, timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    assert b.s.cookies.get(SSO_COOKIE)
    p = at_rp(b.get("/authorize/resume", params={"authz": authz}))
    assert p["state"] == "pk"
    claims = id_claims(srv, clients["first"],
                       token(srv, clients["first"], p["code"]).json()["id_token"])
    assert claims["acr"] == "2" and "hwk" in claims["amr"]


def test_pages_in_russian(srv, clients):
    u, b = signed_in_browser(srv, "ru")
    b.s.headers["Accept-Language"] = "ru"
    r = b.authorize(clients["third"])
    assert r.status_code == 200
    assert_page_headers(r, lang="ru", form_to="https://rp.example.test")
    assert "Разрешить" in r.text and "Отказать" in r.text and "Third &lt;App&gt;" in r.text
    r = b.authorize(Client("gh_nobody", None))
    assert r.status_code == 400
    assert_page_headers(r, lang="ru")
    assert "не зарегистрировано" in r.text


def test_post_logout_ends_single_sign_on(srv, clients):
    """POST /logout of the browser's session (its cookie) ends the single
    sign-on too, and the sessions clients got from it."""
    c = clients["first"]
    u, b = signed_in_browser(srv, "pl")
    p = at_rp(b.authorize(c, scope="openid offline_access"))
    tokens = token(srv, c, p["code"]).json()
    r = b.s.post(srv.url("/logout"), headers={"Origin": ISSUER}, timeout=TIMEOUT)
    assert r.status_code == 204, r.text
    assert any(x.startswith(SSO_COOKIE + "=;") and "Max-Age=0" in x
               for x in r.raw.headers.getlist("Set-Cookie"))
    assert at_rp(b.authorize(c, prompt="none"))["error"] == "login_required"
    ref = requests.post(srv.url("/token"), data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(c.id, c.secret), timeout=TIMEOUT)
    assert ref.status_code == 400 and ref.json()["error"] == "invalid_grant"


def test_signin_form_without_csrf_keeps_the_request(srv, clients):
    u = srv.new_user("cs")
    b = Browser(srv)
    page = b.follow(b.authorize(clients["first"], state="cs"))
    authz = parse(page).inputs["authz"]["value"]
    r = b.post("/signin", {"csrf": "x" * 43, "username": u["username"], "password": PASSWORD,
                           "authz": authz})
    assert r.status_code == 403
    assert not b.s.cookies.get(SSO_COOKIE)
    again = parse(r)
    assert again.inputs["authz"]["value"] == authz
    p = at_rp(b.follow(b.signin_form(r, u["username"])))
    assert p["state"] == "cs"


def test_requests_the_plan_expects_to_succeed(srv, clients):
    """OIDF Basic OP: another scope order, no nonce, unknown parameters and
    the optional ones gatehouse does not act on (display, ui_locales,
    acr_values, claims) are no errors."""
    c = clients["first"]
    u, b = signed_in_browser(srv, "ok")
    for extra in ({"scope": "email openid"}, {"foo": "bar"},
                  {"display": "page", "ui_locales": "ru en", "acr_values": "1"},
                  {"claims": '{"id_token":{"email":{"essential":true}}}'}):
        p = at_rp(b.authorize(c, state="ok", **extra))
        assert "code" in p and p["state"] == "ok", (extra, p)
