"""Passkeys (API.md, "Passkeys"), end to end: a real gatehouse, a real
database (PostgreSQL too under scripts/with-pg.sh), and the ceremonies
answered by a software authenticator written independently of the server's
C (tests/api/softauthn.py: cbor2 and python3-cryptography). Tokens are
checked with PyJWT."""
import concurrent.futures
import hashlib
import json
import os
import re
import struct

import cbor2
import pytest

from gh_helpers import (
    TEST_DATABASE_URL,
    assert_invalid,
    assert_problem,
    bearer,
    db_exec,
    decode_token,
    unique_username,
)
from softauthn import SoftAuthenticator, b64u, unb64u

PUBLIC_URL = "https://auth.example.test"
RP_ID = "auth.example.test"
ALGS = ["ES256", "EdDSA", "RS256"]


def passkey_env(**more):
    env = {"PUBLIC_URL": PUBLIC_URL}
    env.update(more)
    return env


@pytest.fixture(scope="module")
def srv(make_module_server):
    if TEST_DATABASE_URL:
        return make_module_server(env=passkey_env(), database_url=TEST_DATABASE_URL)
    return make_module_server(env=passkey_env())


def authenticator(alg="ES256", **kw):
    kw.setdefault("rp_id", RP_ID)
    kw.setdefault("origin", PUBLIC_URL)
    return SoftAuthenticator(alg=alg, **kw)


def account(srv):
    """A new user and its (password) access token."""
    u = srv.new_user(prefix="pk")
    return u["username"], srv.token(u["username"])


def creation_options(srv, token):
    r = srv.post("/me/passkeys/options", headers=bearer(token))
    assert r.status_code == 200, r.text
    assert "no-store" in r.headers.get("Cache-Control", "")
    return r.json()


def add_passkey(srv, token, auth, name=None, **kw):
    """Registers a passkey of auth; returns the answer."""
    body = auth.create(creation_options(srv, token), **kw)
    if name is not None:
        body["name"] = name
    return srv.post_json("/me/passkeys", body, headers=bearer(token))


def registered(srv, token, auth, **kw):
    r = add_passkey(srv, token, auth, **kw)
    assert r.status_code == 201, r.text
    return r.json()


def login_options(srv, username=None):
    r = srv.post_json("/login/passkey/options", {} if username is None else {"username": username})
    assert r.status_code == 200, r.text
    assert "no-store" in r.headers.get("Cache-Control", "")
    return r.json()


def passkey_login(srv, auth, username=None, options=None, **kw):
    opt = options or login_options(srv, username)
    cred = auth.get(opt, **kw)
    return srv.post_json("/login/passkey", {"flow_id": opt["flow_id"], "credential": cred})


def refused(resp):
    body = assert_problem(resp, 401)
    assert body["detail"] == "passkey: not accepted", body
    return body


# ------------------------------------------------------------ registration
def test_creation_options_shape(srv):
    name, token = account(srv)
    opt = creation_options(srv, token)
    assert opt["rp"] == {"id": RP_ID, "name": "gatehouse"}
    assert opt["user"]["name"] == name and opt["user"]["displayName"] == name
    assert len(unb64u(opt["user"]["id"])) == 32
    assert len(unb64u(opt["challenge"])) == 32
    assert [p["alg"] for p in opt["pubKeyCredParams"]] == [-8, -7, -257]
    assert all(p["type"] == "public-key" for p in opt["pubKeyCredParams"])
    assert opt["timeout"] == 300000
    assert opt["excludeCredentials"] == []
    assert opt["authenticatorSelection"]["residentKey"] == "preferred"
    assert opt["authenticatorSelection"]["userVerification"] == "preferred"
    assert opt["attestation"] == "none"
    # The user handle is the account's: the same each time; a new challenge.
    again = creation_options(srv, token)
    assert again["user"]["id"] == opt["user"]["id"]
    assert again["challenge"] != opt["challenge"]
    other = creation_options(srv, account(srv)[1])
    assert other["user"]["id"] != opt["user"]["id"]


@pytest.mark.parametrize("alg", ALGS)
@pytest.mark.parametrize("fmt", ["none", "packed"])
def test_register_and_sign_in_without_username(srv, alg, fmt):
    name, token = account(srv)
    auth = authenticator(alg)
    pk = registered(srv, token, auth, fmt=fmt)
    assert set(pk) == {"id", "name", "created_at"}
    assert pk["name"] == "Passkey"
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", pk["id"]), pk
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", pk["created_at"])
    opt = login_options(srv)
    assert "allowCredentials" not in opt
    assert opt["userVerification"] == "required" and opt["rpId"] == RP_ID
    r = passkey_login(srv, auth, options=opt)
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert set(tokens) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert "no-store" in r.headers["Cache-Control"]
    me = srv.me(tokens["access_token"])
    assert me.status_code == 200 and me.json()["username"] == name
    claims = decode_token(tokens["access_token"])
    assert claims["username"] == name
    assert claims["amr"] == ["hwk", "user"], claims
    # A refresh keeps the session's amr.
    r = srv.post_json("/refresh", {"refresh_token": tokens["refresh_token"]})
    assert r.status_code == 200, r.text
    assert decode_token(r.json()["access_token"])["amr"] == ["hwk", "user"]


def test_sign_in_with_username(srv):
    name, token = account(srv)
    auth = authenticator("ES256")
    registered(srv, token, auth, resident=False)
    opt = login_options(srv, name.upper())
    ids = [c["id"] for c in opt["allowCredentials"]]
    assert ids == [b64u(cid) for cid in auth.credentials]
    assert all(c["type"] == "public-key" for c in opt["allowCredentials"])
    r = passkey_login(srv, auth, options=opt)  # no userHandle: not discoverable
    assert r.status_code == 200, r.text
    assert srv.me(r.json()["access_token"]).json()["username"] == name


def test_named_flow_refuses_another_accounts_passkey(srv):
    name, token = account(srv)
    registered(srv, token, authenticator())
    other = authenticator()
    registered(srv, account(srv)[1], other)
    opt = login_options(srv, name)
    refused(passkey_login(srv, other, options=opt, credential_id=next(iter(other.credentials))))


def test_exclude_credentials_and_list(srv):
    name, token = account(srv)
    a, b = authenticator("ES256"), authenticator("EdDSA")
    first = registered(srv, token, a, name="Laptop")
    second = registered(srv, token, b, name="Телефон ключ")
    opt = creation_options(srv, token)
    assert sorted(d["id"] for d in opt["excludeCredentials"]) == sorted(
        b64u(c) for c in list(a.credentials) + list(b.credentials))
    r = srv.get("/me/passkeys", headers=bearer(token))
    assert r.status_code == 200 and "no-store" in r.headers["Cache-Control"]
    listed = r.json()  # oldest first; the two were made within one second
    assert {p["id"]: p["name"] for p in listed} == {first["id"]: "Laptop",
                                                    second["id"]: "Телефон ключ"}
    assert all(p["last_used_at"] is None and p["cloned"] is False for p in listed)
    passkey_login(srv, a)
    used = {p["id"]: p for p in srv.get("/me/passkeys", headers=bearer(token)).json()}
    assert used[first["id"]]["last_used_at"] is not None
    assert used[second["id"]]["last_used_at"] is None
    # Another account sees only its own.
    assert srv.get("/me/passkeys", headers=bearer(account(srv)[1])).json() == []


def register_refused(srv, field, code, kw=None, edit=None, token=None, auth=None):
    token = token or account(srv)[1]
    auth = auth or authenticator()
    body = auth.create(creation_options(srv, token), **(kw or {}))
    if edit:
        edit(body)
    r = srv.post_json("/me/passkeys", body, headers=bearer(token))
    assert_invalid(r, field, code)
    # Nothing was stored.
    assert srv.get("/me/passkeys", headers=bearer(token)).json() == []
    return r


def test_register_wrong_origin(srv):
    register_refused(srv, "credential", "bad_origin", {"origin": "https://evil.example.test"})


def test_register_wrong_rp_id(srv):
    register_refused(srv, "credential", "bad_rp_id", {"rp_id": "example.test"})


def test_register_wrong_challenge(srv):
    register_refused(srv, "credential", "bad_challenge", {"challenge": os.urandom(32)})
    register_refused(srv, "credential", "bad_challenge", {"challenge": "not-a-challenge"})


def test_register_wrong_type(srv):
    register_refused(srv, "credential", "bad_type", {"type": "webauthn.get"})


def test_register_replayed_challenge(srv):
    _, token = account(srv)
    auth = authenticator()
    opt = creation_options(srv, token)
    assert srv.post_json("/me/passkeys", auth.create(opt), headers=bearer(token)).status_code == 201
    r = srv.post_json("/me/passkeys", authenticator().create(opt), headers=bearer(token))
    assert_invalid(r, "credential", "bad_challenge")


def test_register_challenge_used_even_when_refused(srv):
    _, token = account(srv)
    auth = authenticator()
    opt = creation_options(srv, token)
    r = srv.post_json("/me/passkeys", auth.create(opt, origin="https://evil.test"),
                      headers=bearer(token))
    assert_invalid(r, "credential", "bad_origin")
    r = srv.post_json("/me/passkeys", authenticator().create(opt), headers=bearer(token))
    assert_invalid(r, "credential", "bad_challenge")


def test_register_another_accounts_challenge(srv):
    _, mine = account(srv)
    _, theirs = account(srv)
    body = authenticator().create(creation_options(srv, theirs))
    assert_invalid(srv.post_json("/me/passkeys", body, headers=bearer(mine)),
               "credential", "bad_challenge")


def test_register_bad_attestation(srv):
    register_refused(srv, "credential", "bad_attestation", {"fmt": "fido-u2f"})
    register_refused(srv, "credential", "bad_attestation",
                     {"fmt": "packed", "tamper_signature": True})


def test_register_no_user_presence(srv):
    register_refused(srv, "credential", "no_user_presence", {"up": False})


def test_register_without_user_verification_is_accepted(srv):
    """A security key that cannot verify its user still registers (a second
    factor); it cannot sign in without a password (below)."""
    _, token = account(srv)
    auth = authenticator(uv=False)
    registered(srv, token, auth)
    refused(passkey_login(srv, auth))


def test_register_raw_id_not_the_credentials(srv):
    register_refused(srv, "credential", "malformed",
                     edit=lambda b: b.update(rawId=b64u(os.urandom(32)), id=None))


def test_register_twice_the_same_credential(srv):
    """The same credential again, on a fresh challenge (an authenticator that
    ignored excludeCredentials), by its owner or by another account."""
    _, token = account(srv)
    auth = authenticator()
    first = registered(srv, token, auth)
    del first
    cred = next(iter(auth.credentials.values()))
    for t in (token, account(srv)[1]):
        r = srv.post_json("/me/passkeys", reregister(cred, creation_options(srv, t)),
                          headers=bearer(t))
        assert_invalid(r, "credential", "registered")
    assert len(srv.get("/me/passkeys", headers=bearer(token)).json()) == 1


def reregister(cred, opt):
    """A registration response ("none") for an existing credential: its id
    and key, on the challenge of opt."""
    client_data = json.dumps({"type": "webauthn.create", "challenge": opt["challenge"],
                              "origin": PUBLIC_URL, "crossOrigin": False},
                             separators=(",", ":")).encode()
    attested = bytes(16) + struct.pack(">H", len(cred.id)) + cred.id + cred.cose_key
    auth_data = (hashlib.sha256(RP_ID.encode()).digest() + bytes([0x45])
                 + struct.pack(">I", 0) + attested)
    att = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data}, canonical=True)
    return {"id": b64u(cred.id), "rawId": b64u(cred.id), "type": "public-key",
            "response": {"clientDataJSON": b64u(client_data), "attestationObject": b64u(att)}}


@pytest.mark.parametrize("name,code", [("x" * 65, "too_long"), ("ж" * 65, "too_long"),
                                       ("", "too_short"), ("a\tb", "invalid"),
                                       ("a\u0085b", "invalid"), ("a\u0000b", "invalid"),
                                       (17, "wrong_type")])
def test_register_bad_name(srv, name, code):
    _, token = account(srv)
    body = authenticator().create(creation_options(srv, token))
    body["name"] = name
    assert_invalid(srv.post_json("/me/passkeys", body, headers=bearer(token)), "name", code)


def test_register_longest_name(srv):
    _, token = account(srv)
    assert registered(srv, token, authenticator(), name="ж" * 64)["name"] == "ж" * 64


@pytest.mark.parametrize("member,size", [("clientDataJSON", 4097), ("attestationObject", 8193),
                                         ("rawId", 1024)])
def test_register_limits(srv, member, size):
    def edit(body):
        if member == "rawId":
            body["rawId"] = b64u(os.urandom(size))
        else:
            body["response"][member] = b64u(os.urandom(size))
    r = register_refused(srv, "credential", "too_long", edit=edit)
    limit = {"clientDataJSON": 4096, "attestationObject": 8192, "rawId": 1023}[member]
    assert r.json()["detail"] == (f"credential: {'rawId' if member == 'rawId' else 'response.' + member}"
                                  f": longer than this server accepts ({limit} bytes decoded)")


@pytest.mark.parametrize("edit,detail", [
    (lambda b: b.pop("response"), "response: missing or not an object"),
    (lambda b: b["response"].pop("attestationObject"),
     "response.attestationObject: missing or not a string"),
    (lambda b: b["response"].update(clientDataJSON="not base64url!"),
     "response.clientDataJSON: not base64url (RFC 4648 §5, without padding)"),
    (lambda b: b.update(type="password"), 'type: not "public-key"'),
    (lambda b: b.update(rawId=""), "rawId: empty"),
    (lambda b: b["response"].update(clientDataJSON=b64u(b"{not json")),
     "the challenge is not one this server issued to this account, or it was used or has "
     "expired"),
], ids=["no response", "no attestation", "not base64url", "type", "empty id", "client data"])
def test_register_malformed(srv, edit, detail):
    _, token = account(srv)
    b = authenticator().create(creation_options(srv, token))
    edit(b)
    body = assert_problem(srv.post_json("/me/passkeys", b, headers=bearer(token)),
                          422, fields=None, codes=None)
    assert body["detail"] == "credential: " + detail, body


# ----------------------------------------------------------------- sign-in
@pytest.fixture
def holder(srv):
    """An account with an ES256 passkey: (username, token, authenticator)."""
    name, token = account(srv)
    auth = authenticator()
    registered(srv, token, auth)
    return name, token, auth


def test_sign_in_wrong_origin(srv, holder):
    refused(passkey_login(srv, holder[2], origin="https://evil.example.test"))


def test_sign_in_wrong_rp_id(srv, holder):
    refused(passkey_login(srv, holder[2], rp_id="example.test"))


def test_sign_in_wrong_challenge(srv, holder):
    refused(passkey_login(srv, holder[2], challenge=os.urandom(32)))


def test_sign_in_bad_signature(srv, holder):
    refused(passkey_login(srv, holder[2], tamper_signature=True))


def test_sign_in_without_user_verification(srv, holder):
    refused(passkey_login(srv, holder[2], uv=False))


def test_sign_in_replayed_flow(srv, holder):
    opt = login_options(srv)
    assert passkey_login(srv, holder[2], options=opt).status_code == 200
    refused(passkey_login(srv, holder[2], options=opt))


def test_sign_in_flow_used_even_when_refused(srv, holder):
    opt = login_options(srv)
    refused(passkey_login(srv, holder[2], options=opt, tamper_signature=True))
    refused(passkey_login(srv, holder[2], options=opt))


def test_sign_in_unknown_or_foreign_flow(srv, holder):
    opt = login_options(srv)
    opt["flow_id"] = b64u(os.urandom(32))
    refused(passkey_login(srv, holder[2], options=opt))
    # A registration's token is no sign-in flow.
    reg = creation_options(srv, holder[1])
    opt = login_options(srv)
    opt["flow_id"] = reg["challenge"]
    refused(passkey_login(srv, holder[2], options=opt))
    opt["flow_id"] = "x"
    refused(passkey_login(srv, holder[2], options=opt))


def test_sign_in_unknown_credential(srv):
    stranger = authenticator()
    stranger.create({"rp": {"id": RP_ID}, "user": {"id": b64u(os.urandom(32))},
                     "challenge": b64u(os.urandom(32)),
                     "authenticatorSelection": {"residentKey": "required"}})
    refused(passkey_login(srv, stranger))


def test_sign_in_user_handle_not_the_owners(srv, holder):
    opt = login_options(srv)
    cred = holder[2].get(opt)
    cred["response"]["userHandle"] = b64u(os.urandom(32))
    refused(srv.post_json("/login/passkey", {"flow_id": opt["flow_id"], "credential": cred}))


def test_counter_regression_marks_cloned(srv, holder):
    name, token, auth = holder
    assert passkey_login(srv, auth).status_code == 200  # counter 1
    assert passkey_login(srv, auth, counter=5).status_code == 200
    refused(passkey_login(srv, auth, counter=5))  # not moved on: a clone
    listed = srv.get("/me/passkeys", headers=bearer(token)).json()
    assert listed[0]["cloned"] is True
    # A cloned passkey stays refused, whatever its counter.
    refused(passkey_login(srv, auth, counter=100))
    assert srv.stderr_shows("passkey.cloned")
    assert srv.stderr_shows("marked as possibly cloned")
    # Still a factor the account has, though refused: the password alone
    # opens no session (else a key in doubt would switch the factor off).
    r = srv.login(name)
    assert r.status_code == 200 and r.json().get("mfa_required") is True, r.text
    assert "access_token" not in r.json()


def test_counter_zero_stays_accepted(srv):
    """An authenticator that keeps no counter (0 each time) is no clone."""
    _, token = account(srv)
    auth = authenticator(counter_step=0)
    registered(srv, token, auth)
    for _ in range(3):
        assert passkey_login(srv, auth).status_code == 200


def test_two_assertions_with_one_counter(srv, holder):
    """Two assertions carrying the same counter, at once: one passes."""
    auth = holder[2]
    opts = [login_options(srv) for _ in range(2)]
    bodies = [{"flow_id": o["flow_id"], "credential": auth.get(o, counter=7)} for o in opts]
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        codes = sorted(r.status_code for r in
                       ex.map(lambda b: srv.post_json("/login/passkey", b), bodies))
    assert codes == [200, 401], codes


@pytest.mark.parametrize("member,size", [("clientDataJSON", 4097), ("authenticatorData", 1025),
                                         ("signature", 1025), ("userHandle", 65)])
def test_sign_in_limits(srv, holder, member, size):
    opt = login_options(srv)
    cred = holder[2].get(opt)
    cred["response"][member] = b64u(os.urandom(size))
    refused(srv.post_json("/login/passkey", {"flow_id": opt["flow_id"], "credential": cred}))


def test_sign_in_long_credential_id(srv, holder):
    opt = login_options(srv)
    cred = holder[2].get(opt)
    cred["rawId"] = cred["id"] = b64u(os.urandom(1024))
    refused(srv.post_json("/login/passkey", {"flow_id": opt["flow_id"], "credential": cred}))


@pytest.mark.parametrize("body,field", [({}, "flow_id"), ({"flow_id": "x"}, "credential"),
                                        ({"flow_id": 1, "credential": {}}, "flow_id"),
                                        ({"flow_id": "x", "credential": []}, "credential")])
def test_sign_in_request_shape(srv, body, field):
    body = assert_problem(srv.post_json("/login/passkey", body), 422, fields=None, codes=None)
    assert field in [e["field"] for e in body["errors"]]


@pytest.mark.parametrize("cred", [{}, {"rawId": "AA"}, {"rawId": "AA", "response": {}},
                                  {"rawId": "!!", "response": {"clientDataJSON": "e30"}}])
def test_sign_in_malformed_credential(srv, cred):
    opt = login_options(srv)
    refused(srv.post_json("/login/passkey", {"flow_id": opt["flow_id"], "credential": cred}))


def test_refusals_logged_without_secrets(srv, holder):
    opt = login_options(srv)
    refused(passkey_login(srv, holder[2], options=opt, tamper_signature=True))
    assert srv.stderr_shows("login.failed")
    assert opt["flow_id"] not in srv.stderr()
    assert srv.stderr_shows("passkey.added")


# ------------------------------------------------ the second factor step
def password_step(srv, name):
    r = srv.login(name)
    assert r.status_code == 200, r.text
    step = r.json()
    assert step["mfa_required"] is True and "access_token" not in step, step
    return step


def test_passkey_as_second_factor(srv):
    """A registered passkey turns the second factor on: the password leads to
    the step, and the passkey's presence finishes it (amr pwd hwk)."""
    name, token = account(srv)
    auth = authenticator("EdDSA", uv=False)  # a security key that verifies no user
    registered(srv, token, auth)
    step = password_step(srv, name)
    assert "webauthn" in step["methods"], step
    opt = step["webauthn"]
    assert [c["id"] for c in opt["allowCredentials"]] == [b64u(c) for c in auth.credentials]
    assert opt["rpId"] == RP_ID and opt["userVerification"] == "discouraged"
    assert len(unb64u(opt["challenge"])) == 32
    r = srv.post_json("/login/mfa", {"mfa_token": step["mfa_token"], "webauthn": auth.get(opt)})
    assert r.status_code == 200, r.text
    claims = decode_token(r.json()["access_token"])
    assert claims["amr"] == ["pwd", "hwk"], claims
    assert claims["username"] == name


@pytest.mark.parametrize("kw", [{"tamper_signature": True}, {"origin": "https://evil.test"},
                                {"rp_id": "example.test"}, {"challenge": os.urandom(32)},
                                {"up": False}])
def test_passkey_second_factor_refused(srv, kw):
    name, token = account(srv)
    auth = authenticator()
    registered(srv, token, auth)
    step = password_step(srv, name)
    r = srv.post_json("/login/mfa", {"mfa_token": step["mfa_token"],
                                     "webauthn": auth.get(step["webauthn"], **kw)})
    assert_problem(r, 401)
    assert "access_token" not in r.text


def test_another_accounts_passkey_is_no_second_factor(srv):
    name, token = account(srv)
    registered(srv, token, authenticator())
    other = authenticator()
    registered(srv, account(srv)[1], other)
    step = password_step(srv, name)
    cred = other.get(step["webauthn"], credential_id=next(iter(other.credentials)))
    r = srv.post_json("/login/mfa", {"mfa_token": step["mfa_token"], "webauthn": cred})
    assert_problem(r, 401)


# ----------------------------------------------------------- enumeration
def test_options_of_names_alike(srv):
    """A name without an account, an account without passkeys, and one with
    a passkey: options of the same shape; the fake ids the same each time."""
    with_key, token = account(srv)
    registered(srv, token, authenticator())
    without, _ = account(srv)
    nobody = unique_username("nobody")
    answers = {n: login_options(srv, n) for n in (with_key, without, nobody)}
    for n, opt in answers.items():
        assert sorted(opt) == ["allowCredentials", "challenge", "flow_id", "rpId", "timeout",
                               "userVerification"], (n, opt)
        assert 1 <= len(opt["allowCredentials"]) <= 2
        for c in opt["allowCredentials"]:
            assert sorted(c) == ["id", "type"] and c["type"] == "public-key"
            assert 16 <= len(unb64u(c["id"])) <= 64
        assert len(opt["flow_id"]) == 43 and len(unb64u(opt["challenge"])) == 32
    for n in (without, nobody):
        again = login_options(srv, n)
        assert again["allowCredentials"] == answers[n]["allowCredentials"]
        assert again["challenge"] != answers[n]["challenge"]
    assert answers[without]["allowCredentials"] != answers[nobody]["allowCredentials"]


def test_flows_of_names_without_passkeys_refuse_every_answer(srv):
    """Had the flow of a name without passkeys taken any passkey, answering
    it with one's own would tell such names from those with passkeys (whose
    flow takes only theirs)."""
    _, token = account(srv)
    mine = authenticator()
    registered(srv, token, mine)
    without, _ = account(srv)
    for name in (without, unique_username("nobody")):
        opt = login_options(srv, name)
        cred = mine.get({"rpId": RP_ID, "challenge": opt["challenge"]})
        refused(srv.post_json("/login/passkey", {"flow_id": opt["flow_id"], "credential": cred}))


def test_fake_ids_survive_a_restart(make_server, tmp_path):
    db = tmp_path / "pk.db"
    first = make_server(env=passkey_env(), db_path=db)
    a = login_options(first, "nobody-here")["allowCredentials"]
    first.stop()
    second = make_server(env=passkey_env(), db_path=db)
    assert login_options(second, "nobody-here")["allowCredentials"] == a


@pytest.mark.parametrize("body", [{"username": ""}, {"username": "x" * 256},
                                  {"username": 5}])
def test_login_options_bad_username(srv, body):
    assert_problem(srv.post_json("/login/passkey/options", body), 422, fields=None, codes=None)


def test_login_options_odd_name_answered_alike(srv):
    opt = login_options(srv, "no\u0001such name")
    assert 1 <= len(opt["allowCredentials"]) <= 2


# ------------------------------------------------------------------ delete
def test_delete_needs_the_step_up(srv, holder):
    name, pw_token, auth = holder
    pk = srv.get("/me/passkeys", headers=bearer(pw_token)).json()[0]
    # A password's token: the passkey is a second factor, the delete needs it.
    r = srv.request("DELETE", f"/me/passkeys/{pk['id']}", json={}, headers=bearer(pw_token))
    assert r.status_code == 403, r.text
    # A token of a passkey sign-in just now (amr hwk).
    hwk = passkey_login(srv, auth).json()["access_token"]
    # With no body at all, as a DELETE is usually sent: read as {}.
    r = srv.request("DELETE", f"/me/passkeys/{pk['id']}", headers=bearer(hwk))
    assert r.status_code == 204, r.text
    assert srv.get("/me/passkeys", headers=bearer(hwk)).json() == []
    refused(passkey_login(srv, auth))
    assert srv.stderr_shows("passkey.removed")


def test_step_up_counts_from_the_passkey_sign_in_not_a_refresh(srv, holder):
    """A passkey sign-in stands in for the step-up for 5 minutes from the
    sign-in: a refresh renews the token's iat and keeps its amr, but shows no
    factor again, so it must not renew the step-up."""
    name, pw_token, auth = holder
    pk = srv.get("/me/passkeys", headers=bearer(pw_token)).json()[0]
    tokens = passkey_login(srv, auth).json()
    sid = decode_token(tokens["access_token"])["sid"]
    db_exec(srv, f"UPDATE sessions SET created_at = created_at - 600 WHERE id = '{sid}'")
    fresh = srv.post_json("/refresh", {"refresh_token": tokens["refresh_token"]}).json()
    claims = decode_token(fresh["access_token"])
    assert claims["amr"] == ["hwk", "user"] and claims["sid"] == sid
    r = srv.request("DELETE", f"/me/passkeys/{pk['id']}", headers=bearer(fresh["access_token"]))
    assert r.status_code == 403, r.text
    assert len(srv.get("/me/passkeys", headers=bearer(pw_token)).json()) == 1


def test_delete_another_users_passkey(srv, holder):
    pk = srv.get("/me/passkeys", headers=bearer(holder[1])).json()[0]
    _, other = account(srv)  # no second factor: no step-up needed
    r = srv.request("DELETE", f"/me/passkeys/{pk['id']}", json={}, headers=bearer(other))
    assert_problem(r, 404)
    for bad in ("nope", "x" * 40, "a/b", ""):
        assert_problem(srv.request("DELETE", f"/me/passkeys/{bad}", json={},
                                   headers=bearer(other)), 404)
    assert len(srv.get("/me/passkeys", headers=bearer(holder[1])).json()) == 1


def test_routes_need_a_token(srv):
    for method, path in [("POST", "/me/passkeys/options"), ("POST", "/me/passkeys"),
                         ("GET", "/me/passkeys"), ("DELETE", "/me/passkeys/x")]:
        r = srv.request(method, path, json={})
        assert_problem(r, 401)


# ------------------------------------------------------- settings, off
def test_off_without_public_url(make_server):
    srv = make_server(env={"PUBLIC_URL": None})
    _, token = account(srv)
    for method, path, body, auth in [
            ("POST", "/me/passkeys/options", None, True), ("POST", "/me/passkeys", {}, True),
            ("GET", "/me/passkeys", None, True), ("DELETE", "/me/passkeys/x", {}, True),
            ("POST", "/login/passkey/options", {}, False),
            ("POST", "/login/passkey", {"flow_id": "x", "credential": {}}, False)]:
        r = srv.request(method, path, json=body, headers=bearer(token) if auth else {})
        body = assert_problem(r, 501)
        assert "PUBLIC_URL" in body["detail"], (path, body)


def test_off_with_an_ip_public_url(make_server):
    srv = make_server(env={"PUBLIC_URL": "http://127.0.0.1:8000"})
    assert_problem(srv.post_json("/login/passkey/options", {}), 501)


def test_rp_id_and_origins_settings(make_server):
    srv = make_server(env=passkey_env(WEBAUTHN_RP_ID="Example.TEST",
                                      WEBAUTHN_ORIGINS="https://app.example.test:8443,"
                                                       + PUBLIC_URL))
    _, token = account(srv)
    auth = authenticator(rp_id="example.test", origin="https://app.example.test:8443")
    opt = creation_options(srv, token)
    assert opt["rp"]["id"] == "example.test"
    assert srv.post_json("/me/passkeys", auth.create(opt), headers=bearer(token)).status_code == 201
    assert passkey_login(srv, auth).status_code == 200
    auth.origin = PUBLIC_URL
    assert passkey_login(srv, auth).status_code == 200
    # PUBLIC_URL's origin is not accepted by default once WEBAUTHN_ORIGINS is set.
    srv2 = make_server(env=passkey_env(WEBAUTHN_RP_ID="example.test",
                                       WEBAUTHN_ORIGINS="https://app.example.test"))
    _, token2 = account(srv2)
    r = srv2.post_json("/me/passkeys", authenticator(rp_id="example.test").create(
        creation_options(srv2, token2)), headers=bearer(token2))
    assert_invalid(r, "credential", "bad_origin")


@pytest.mark.parametrize("env,names", [
    ({"WEBAUTHN_RP_ID": "example.org"}, "WEBAUTHN_RP_ID"),
    ({"WEBAUTHN_RP_ID": "xauth.example.test"}, "WEBAUTHN_RP_ID"),
    ({"WEBAUTHN_RP_ID": "test.example.test"}, "WEBAUTHN_RP_ID"),
    ({"WEBAUTHN_RP_ID": "127.0.0.1"}, "WEBAUTHN_RP_ID"),
    ({"WEBAUTHN_RP_ID": "exa mple.test"}, "WEBAUTHN_RP_ID"),
    ({"WEBAUTHN_ORIGINS": "https://evil.test"}, "WEBAUTHN_ORIGINS"),
    ({"WEBAUTHN_ORIGINS": "https://auth.example.test/"}, "WEBAUTHN_ORIGINS"),
    ({"WEBAUTHN_ORIGINS": "https://AUTH.example.test"}, "WEBAUTHN_ORIGINS"),
    ({"WEBAUTHN_ORIGINS": "https://auth.example.test:443"}, "WEBAUTHN_ORIGINS"),
    ({"WEBAUTHN_ORIGINS": "https://auth.example.test, https://a.auth.example.test"},
     "WEBAUTHN_ORIGINS"),
    ({"WEBAUTHN_ORIGINS": "https://auth.example.test,"}, "WEBAUTHN_ORIGINS"),
    ({"WEBAUTHN_ORIGINS": "auth.example.test"}, "WEBAUTHN_ORIGINS"),
    ({"PUBLIC_URL": None, "WEBAUTHN_RP_ID": "example.test"}, "WEBAUTHN_RP_ID"),
    ({"PUBLIC_URL": None, "WEBAUTHN_ORIGINS": PUBLIC_URL}, "WEBAUTHN_ORIGINS"),
    ({"PUBLIC_URL": "http://127.0.0.1:8000", "WEBAUTHN_RP_ID": "example.test"},
     "WEBAUTHN_RP_ID"),
    ({"PUBLIC_URL": "http://127.0.0.1:8000", "WEBAUTHN_ORIGINS": "http://127.0.0.1:8000"},
     "WEBAUTHN_ORIGINS"),
], ids=lambda v: json.dumps(v)[:40] if isinstance(v, dict) else v)
def test_bad_webauthn_settings_exit_2(run_gatehouse, env, names):
    full = passkey_env()
    full.update(env)
    res = run_gatehouse(env=full)
    assert res.returncode == 2, f"exit {res.returncode}; stderr:\n{res.stderr}"
    assert names in res.stderr, res.stderr


# ----------------------------------------------------------- throttling
def test_refusals_count_on_the_address(make_server):
    srv = make_server(env=passkey_env(THROTTLE_ADDRESS_FAILURES="2"))
    _, token = account(srv)
    auth = authenticator()
    registered(srv, token, auth)
    for _ in range(3):  # two free failures, the third locks
        refused(passkey_login(srv, auth, tamper_signature=True))
    r = passkey_login(srv, auth, tamper_signature=True)
    assert_problem(r, 429)
    assert int(r.headers["Retry-After"]) >= 1


def test_metrics_count_passkey_sign_ins(make_server):
    srv = make_server(env=passkey_env(METRICS="1"))
    _, token = account(srv)
    auth = authenticator()
    registered(srv, token, auth)
    assert passkey_login(srv, auth).status_code == 200
    refused(passkey_login(srv, auth, tamper_signature=True))
    text = srv.get("/metrics").text
    assert re.search(r'^gatehouse_passkey_logins_total\{outcome="ok"\} 1$', text, re.M), text
    assert re.search(r'^gatehouse_passkey_logins_total\{outcome="passkey_refused"\} 1$', text,
                     re.M)


def test_account_routes_take_the_cookie(make_server):
    """The account page posts from the browser with the session cookie: the
    service's own Origin passes, a foreign one is refused."""
    srv = make_server(env=passkey_env(SESSION_COOKIES="1", COOKIE_SECURE="0"))
    _, token = account(srv)
    cookie = {"Cookie": f"access_token={token}"}
    r = srv.post("/me/passkeys/options", headers=dict(cookie, Origin="https://evil.example"))
    assert_problem(r, 403)
    r = srv.post("/me/passkeys/options", headers=dict(cookie, Origin=PUBLIC_URL))
    assert r.status_code == 200, r.text
    body = authenticator().create(r.json())
    r = srv.post_json("/me/passkeys", body, headers=dict(cookie, Origin=PUBLIC_URL))
    assert r.status_code == 201, r.text
    assert len(srv.get("/me/passkeys", headers=cookie).json()) == 1


def test_cookies_set_by_a_passkey_sign_in(make_server):
    srv = make_server(env=passkey_env(SESSION_COOKIES="1", COOKIE_SECURE="0"))
    _, token = account(srv)
    auth = authenticator()
    registered(srv, token, auth)
    r = passkey_login(srv, auth)
    assert r.status_code == 200
    cookies = r.headers.get("Set-Cookie", "")
    assert "access_token=" in cookies and "refresh_token=" in cookies
    # A cross-site page cannot sign the browser in (login CSRF).
    opt = login_options(srv)
    r = srv.post_json("/login/passkey", {"flow_id": opt["flow_id"], "credential": auth.get(opt)},
                      headers={"Origin": "https://evil.example"})
    assert_problem(r, 403)


def test_a_disabled_user_is_refused_as_any_passkey(srv):
    """Disabled (the flag set behind the server's back): the passkey that
    verifies is answered as one that does not, and the log says why."""
    name, token = account(srv)
    auth = authenticator("ES256")
    registered(srv, token, auth)
    uid = srv.me(token).json()["id"]
    db_exec(srv, f"UPDATE users SET disabled = 1 WHERE id = {uid}")
    try:
        refused(passkey_login(srv, auth, name))
        assert 'reason="disabled"' in srv.stderr()
    finally:
        db_exec(srv, f"UPDATE users SET disabled = 0 WHERE id = {uid}")
    assert passkey_login(srv, auth, name).status_code == 200
