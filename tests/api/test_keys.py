"""Asymmetric signing keys (ALGORITHM EdDSA, ES256, RS256), the JWKS, rotation with
SIGHUP, `gatehouse keys generate`, SECRET_KEY_FILE, and the start-time refusals.

Keys are made by `openssl genpkey` (an independent implementation) unless the
test is about `keys generate`; tokens are checked by PyJWT's PyJWKClient, which
fetches /.well-known/jwks.json as any verifying service would.
"""
import hashlib
import hmac
import json
import os
import signal
import stat
import subprocess
import threading
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from gh_helpers import (
    BINARY,
    SECRET_KEY,
    b64url,
    b64url_json,
    bearer,
    token_parts,
)

ALGS = ["EdDSA", "ES256", "RS256"]
GENPKEY = {
    "EdDSA": ["-algorithm", "ed25519"],
    "ES256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    "RS256": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
}


def genpkey(path, alg=None, args=None, mode=0o600):
    """A private key made by the openssl command line, with `mode`."""
    subprocess.run(["openssl", "genpkey", *(args or GENPKEY[alg]), "-out", str(path)],
                   check=True, capture_output=True)
    os.chmod(path, mode)
    return Path(path)


def public_pem(path, out, mode=0o600):
    subprocess.run(["openssl", "pkey", "-in", str(path), "-pubout", "-out", str(out)],
                   check=True, capture_output=True)
    os.chmod(out, mode)
    return Path(out)


def private_key(path):
    return serialization.load_pem_private_key(Path(path).read_bytes(), password=None)


def thumbprint(jwk):
    """RFC 7638: SHA-256 of the required members, sorted, no whitespace."""
    required = {"OKP": ("crv", "kty", "x"), "EC": ("crv", "kty", "x", "y"),
                "RSA": ("e", "kty", "n")}[jwk["kty"]]
    canon = json.dumps({k: jwk[k] for k in required}, sort_keys=True, separators=(",", ":"))
    return b64url(hashlib.sha256(canon.encode()).digest())


def asym_server(make_server, tmp_path, alg, key=None, env=None):
    key = key or genpkey(tmp_path / f"{alg}.pem", alg)
    full = {"ALGORITHM": alg, "JWT_PRIVATE_KEY_FILE": str(key)}
    full.update(env or {})
    return make_server(env=full), key


def jwks(srv):
    r = srv.get("/.well-known/jwks.json")
    assert r.status_code == 200, r.text
    return r.json()["keys"]


def verify_status(srv, token):
    return srv.get("/verify", headers=bearer(token)).status_code


def wait_for(cond, what, timeout=10):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


# ------------------------------------------------------------ each algorithm
@pytest.mark.parametrize("alg", ALGS)
def test_tokens_verify_with_pyjwkclient(make_server, tmp_path, alg):
    srv, key = asym_server(make_server, tmp_path, alg)
    keys = jwks(srv)
    assert len(keys) == 1, keys
    k = keys[0]
    assert k["alg"] == alg and k["use"] == "sig"
    assert k["kid"] == thumbprint(k)
    assert {"kty": "OKP", "crv": "Ed25519"}.items() <= k.items() if alg == "EdDSA" else True
    assert {"kty": "EC", "crv": "P-256"}.items() <= k.items() if alg == "ES256" else True
    assert k["kty"] == "RSA" and k["e"] == "AQAB" if alg == "RS256" else True
    assert "d" not in k, "the JWKS must never hold a private member"
    r = srv.get("/.well-known/jwks.json")
    assert "max-age=" in r.headers.get("Cache-Control", ""), r.headers

    u = srv.new_user("k")
    token = srv.token(u["username"])
    header, _, sig = token_parts(token)
    assert header == {"alg": alg, "kid": k["kid"], "typ": "JWT"}
    if alg == "ES256":
        assert len(sig) == 64, "ES256 signatures are r||s (RFC 7518 §3.4), never DER"

    client = jwt.PyJWKClient(srv.url("/.well-known/jwks.json"))
    signing_key = client.get_signing_key_from_jwt(token)
    claims = jwt.decode(token, signing_key.key, algorithms=[alg])
    assert claims["sub"] == str(u["id"]) and claims["username"] == u["username"]
    assert verify_status(srv, token) == 204
    assert srv.me(token).status_code == 200

    # A token PyJWT signs with the same key (another implementation) is accepted too.
    forged = jwt.encode(claims, private_key(key), algorithm=alg, headers={"kid": k["kid"]})
    assert verify_status(srv, forged) == 204


@pytest.mark.parametrize("alg", ALGS)
def test_keys_generate(make_server, tmp_path, alg):
    out = tmp_path / "new.pem"
    res = subprocess.run([str(BINARY), "keys", "generate", "--alg", alg, "--out", str(out)],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    kid = res.stdout.strip()
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert list(tmp_path.iterdir()) == [out], "no temporary file left behind"
    # OpenSSL reads it, and it is of the algorithm's type.
    text = subprocess.run(["openssl", "pkey", "-in", str(out), "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout
    assert {"EdDSA": "ED25519", "ES256": "P-256", "RS256": "3072 bit"}[alg] in text, text[:200]
    srv, _ = asym_server(make_server, tmp_path, alg, key=out)
    assert [k["kid"] for k in jwks(srv)] == [kid]
    # Never over an existing file.
    before = out.read_bytes()
    again = subprocess.run([str(BINARY), "keys", "generate", "--alg", alg, "--out", str(out)],
                           capture_output=True, text=True, timeout=60)
    assert again.returncode == 1 and "exists" in again.stderr, again
    assert out.read_bytes() == before


def test_keys_generate_usage(tmp_path):
    for args in (["keys", "generate"], ["keys", "generate", "--alg", "HS256"],
                 ["keys", "generate", "--alg", "eddsa"]):
        res = subprocess.run([str(BINARY), *args], capture_output=True, text=True, timeout=30,
                             cwd=tmp_path)
        assert res.returncode == 2, (args, res)
        assert "--alg" in res.stderr
        # Without --alg the message says it is required, not that it is wrong.
        assert ("required" in res.stderr) == (len(args) == 2), (args, res.stderr)
    res = subprocess.run([str(BINARY), "keys", "generate", "--help"], capture_output=True,
                         text=True, timeout=30)
    assert res.returncode == 0 and "--out" in res.stdout and "kid" in res.stdout
    # Without --out: the key on standard output, the kid on standard error.
    res = subprocess.run([str(BINARY), "keys", "generate", "--alg", "EdDSA"], capture_output=True,
                         text=True, timeout=30, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("-----BEGIN PRIVATE KEY-----\n"), res.stdout
    assert res.stderr.startswith("kid ") and "PRIVATE" not in res.stderr
    key = serialization.load_pem_private_key(res.stdout.encode(), password=None)
    jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(key.public_key()))
    assert res.stderr.split()[1] == thumbprint(jwk)
    assert list(tmp_path.iterdir()) == []


def test_openssl_public_and_pkcs1_forms_load(make_server, tmp_path):
    """A PKCS#1 RSA key and a SEC 1 EC key (the "traditional" forms) load as
    signing keys; public keys in SubjectPublicKeyInfo form load as verifiers."""
    rsa = genpkey(tmp_path / "rsa.pem", "RS256")
    pkcs1 = tmp_path / "rsa-pkcs1.pem"
    subprocess.run(["openssl", "pkey", "-in", str(rsa), "-traditional", "-out", str(pkcs1)],
                   check=True, capture_output=True)
    os.chmod(pkcs1, 0o600)
    assert b"BEGIN RSA PRIVATE KEY" in pkcs1.read_bytes()
    vdir = tmp_path / "verify"
    vdir.mkdir()
    for alg in ALGS:
        public_pem(genpkey(tmp_path / f"other-{alg}.pem", alg), vdir / f"{alg}.pem")
    srv, _ = asym_server(make_server, tmp_path, "RS256", key=pkcs1,
                         env={"JWT_VERIFY_KEYS_DIR": str(vdir)})
    keys = jwks(srv)
    assert sorted(k["alg"] for k in keys) == sorted(ALGS + ["RS256"])
    u = srv.new_user("p1")
    assert verify_status(srv, srv.token(u["username"])) == 204


# ------------------------------------------------------------ confusion attacks
@pytest.fixture(scope="module")
def es_server(make_module_server, tmp_path_factory):
    d = tmp_path_factory.mktemp("es")
    key = genpkey(d / "es.pem", "ES256")
    srv = make_module_server(env={"ALGORITHM": "ES256", "JWT_PRIVATE_KEY_FILE": str(key)})
    u = srv.new_user("conf")
    srv.test_token = srv.token(u["username"])
    srv.test_key = key
    return srv


def test_control_pyjwt_token_accepted(es_server):
    t = es_server.test_token
    header, claims, _ = token_parts(t)
    again = jwt.encode(claims, private_key(es_server.test_key), algorithm="ES256",
                       headers={"kid": header["kid"]})
    assert verify_status(es_server, again) == 204


def test_hs256_token_refused(es_server):
    _, claims, _ = token_parts(es_server.test_token)
    # Signed with the server's SECRET_KEY (still in its environment): HS256 is
    # not an algorithm of this configuration.
    assert verify_status(es_server, jwt.encode(claims, SECRET_KEY, algorithm="HS256")) == 401


@pytest.mark.parametrize("with_kid", [True, False])
def test_hmac_with_public_key_as_secret_refused(es_server, with_kid):
    """The classic confusion: HS256 whose secret is the public key the JWKS
    (or a PEM) publishes."""
    header, claims, _ = token_parts(es_server.test_token)
    pub = private_key(es_server.test_key).public_key()
    for secret in (pub.public_bytes(serialization.Encoding.PEM,
                                    serialization.PublicFormat.SubjectPublicKeyInfo),
                   json.dumps(jwks(es_server)[0]).encode()):
        h = {"alg": "HS256", "typ": "JWT"}
        if with_kid:
            h["kid"] = header["kid"]
        signing_input = f"{b64url_json(h)}.{b64url_json(claims)}".encode()
        mac = hmac.new(secret, signing_input, hashlib.sha256).digest()
        assert verify_status(es_server, f"{signing_input.decode()}.{b64url(mac)}") == 401


def es256_sign(key_path, header, claims):
    """A token whose header says anything, validly signed by the ES256 key,
    so that only the header can make the server refuse it."""
    signing_input = f"{b64url_json(header)}.{b64url_json(claims)}".encode()
    der = private_key(key_path).sign(signing_input, ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return f"{signing_input.decode()}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


@pytest.mark.parametrize("alg", ["RS256", "EdDSA", "ES384", "es256", "none", "HS256", None])
def test_alg_disagreeing_with_key_refused(es_server, alg):
    header, claims, _ = token_parts(es_server.test_token)
    key = es_server.test_key
    # Control: the same construction with the true header is accepted.
    assert verify_status(es_server, es256_sign(key, header, claims)) == 204
    h = dict(header, alg=alg) if alg is not None else {"kid": header["kid"], "typ": "JWT"}
    assert verify_status(es_server, es256_sign(key, h, claims)) == 401


def test_unknown_or_missing_kid_refused(es_server, tmp_path):
    t = es_server.test_token
    header, claims, _ = token_parts(t)
    key = es_server.test_key
    # Signed by the server's own key, but under another kid, or none.
    assert verify_status(es_server, es256_sign(key, dict(header, kid="A" * 43), claims)) == 401
    assert verify_status(es_server, es256_sign(key, dict(header, kid=header["kid"][:-1]),
                                                claims)) == 401
    assert verify_status(es_server, es256_sign(key, {"alg": "ES256", "typ": "JWT"}, claims)) == 401
    # typ other than JWT, and extra members (ignored, as for HS256).
    assert verify_status(es_server, es256_sign(key, dict(header, typ="at+jwt"), claims)) == 401
    assert verify_status(es_server, es256_sign(key, dict(header, x5u="http://x"), claims)) == 204
    # A token signed by a key the server does not know, under that key's kid
    # and under the server's kid.
    other = genpkey(tmp_path / "other.pem", "ES256")
    for kid in ("B" * 43, header["kid"]):
        forged = jwt.encode(claims, private_key(other), algorithm="ES256", headers={"kid": kid})
        assert verify_status(es_server, forged) == 401


def test_der_signature_refused(es_server):
    t = es_server.test_token
    _, _, sig = token_parts(t)
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    h, p, _ = t.split(".")
    assert verify_status(es_server, f"{h}.{p}.{b64url(der)}") == 401


def test_crit_and_embedded_jwk_refused_or_ignored(es_server, tmp_path):
    t = es_server.test_token
    header, claims, _ = token_parts(t)
    key = es_server.test_key
    assert verify_status(es_server, es256_sign(key, dict(header, crit=["exp"]), claims)) == 401
    # A key embedded in the header is never used: signed by an attacker's key
    # that the header carries, the token is refused.
    other = genpkey(tmp_path / "o.pem", "ES256")
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private_key(other).public_key()))
    forged = jwt.encode(claims, private_key(other), algorithm="ES256",
                        headers={"kid": header["kid"], "jwk": jwk})
    assert verify_status(es_server, forged) == 401


def test_hs256_config_refuses_asymmetric_token(server, tmp_path):
    u = server.new_user("hs")
    _, claims, _ = token_parts(server.token(u["username"]))
    key = genpkey(tmp_path / "e.pem", "EdDSA")
    forged = jwt.encode(claims, private_key(key), algorithm="EdDSA", headers={"kid": "x"})
    assert verify_status(server, forged) == 401
    assert jwks(server) == []


# ------------------------------------------------------------ rotation
def test_rotation_with_sighup(make_server, tmp_path):
    vdir = tmp_path / "verify"
    vdir.mkdir()
    key = genpkey(tmp_path / "signing.pem", "EdDSA")
    srv, _ = asym_server(make_server, tmp_path, "EdDSA", key=key,
                         env={"JWT_VERIFY_KEYS_DIR": str(vdir)})
    u = srv.new_user("rot")
    old_token = srv.token(u["username"])
    old_kid = token_parts(old_token)[0]["kid"]

    # Requests keep being answered while the keys are swapped.
    stop, failures = threading.Event(), []

    def hammer():
        while not stop.is_set():
            st = verify_status(srv, old_token)
            if st != 204:
                failures.append(st)

    th = threading.Thread(target=hammer)
    th.start()
    try:
        # The old key moves to the verification directory (its public half),
        # a new one takes its place, and SIGHUP.
        public_pem(key, vdir / "old.pem")
        new_key = genpkey(tmp_path / "new.pem", "EdDSA")
        os.replace(new_key, key)
        for _ in range(3):
            srv.proc.send_signal(signal.SIGHUP)
            time.sleep(0.1)
        wait_for(lambda: len(jwks(srv)) == 2, "the JWKS lists both keys after SIGHUP")
    finally:
        stop.set()
        th.join()
    assert failures == [], f"requests failed during the reload: {failures[:5]}"

    new_token = srv.token(u["username"])
    new_kid = token_parts(new_token)[0]["kid"]
    assert new_kid != old_kid
    assert {k["kid"] for k in jwks(srv)} == {old_kid, new_kid}
    assert verify_status(srv, old_token) == 204, "tokens of the old key stay valid"
    assert verify_status(srv, new_token) == 204
    client = jwt.PyJWKClient(srv.url("/.well-known/jwks.json"), cache_keys=False)
    for t in (old_token, new_token):
        jwt.decode(t, client.get_signing_key_from_jwt(t).key, algorithms=["EdDSA"])

    # A reload that fails keeps the keys in force and says why.
    bad = vdir / "bad.pem"
    genpkey(bad, "EdDSA", mode=0o644)
    srv.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "not reloaded" in srv.stderr(), "the failed reload is logged")
    assert str(bad) in srv.stderr()
    assert {k["kid"] for k in jwks(srv)} == {old_kid, new_kid}
    assert verify_status(srv, new_token) == 204 and verify_status(srv, old_token) == 204

    # Once the old key is retired, its tokens are refused.
    bad.unlink()
    (vdir / "old.pem").unlink()
    srv.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: len(jwks(srv)) == 1, "the JWKS drops the retired key")
    assert verify_status(srv, old_token) == 401
    assert verify_status(srv, new_token) == 204


# ------------------------------------------------------------ start-time refusals
def refused(run_gatehouse, env, *words):
    res = run_gatehouse(env=env)
    assert res.returncode == 2, f"exit {res.returncode}; stderr:\n{res.stderr}"
    for w in words:
        assert w in res.stderr, (w, res.stderr)
    return res


def test_refuses_group_readable_key(run_gatehouse, tmp_path):
    key = genpkey(tmp_path / "k.pem", "EdDSA", mode=0o644)
    res = refused(run_gatehouse, {"ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY_FILE": str(key)},
                  "JWT_PRIVATE_KEY_FILE", str(key), "chmod")
    assert "PRIVATE KEY" not in res.stderr
    os.chmod(key, 0o640)
    refused(run_gatehouse, {"ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY_FILE": str(key)}, "chmod")


def test_refuses_small_rsa_key(run_gatehouse, tmp_path):
    key = genpkey(tmp_path / "k.pem", args=["-algorithm", "RSA", "-pkeyopt",
                                            "rsa_keygen_bits:1024"])
    refused(run_gatehouse, {"ALGORITHM": "RS256", "JWT_PRIVATE_KEY_FILE": str(key)},
            "2048", "1024")


@pytest.mark.parametrize("alg,made_for", [("EdDSA", "ES256"), ("ES256", "RS256"),
                                          ("RS256", "EdDSA")])
def test_refuses_key_of_another_type(run_gatehouse, tmp_path, alg, made_for):
    key = genpkey(tmp_path / "k.pem", made_for)
    refused(run_gatehouse, {"ALGORITHM": alg, "JWT_PRIVATE_KEY_FILE": str(key)},
            "JWT_PRIVATE_KEY_FILE", made_for)


def test_refuses_other_curve(run_gatehouse, tmp_path):
    key = genpkey(tmp_path / "k.pem", args=["-algorithm", "EC", "-pkeyopt",
                                            "ec_paramgen_curve:P-384"])
    refused(run_gatehouse, {"ALGORITHM": "ES256", "JWT_PRIVATE_KEY_FILE": str(key)}, "P-256")


def test_refuses_unreadable_public_or_encrypted_key(run_gatehouse, tmp_path):
    env = {"ALGORITHM": "EdDSA"}
    refused(run_gatehouse, dict(env, JWT_PRIVATE_KEY_FILE=str(tmp_path / "missing.pem")),
            "missing.pem")
    pub = public_pem(genpkey(tmp_path / "k.pem", "EdDSA"), tmp_path / "pub.pem")
    refused(run_gatehouse, dict(env, JWT_PRIVATE_KEY_FILE=str(pub)), "private key")
    enc = tmp_path / "enc.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-aes-128-cbc", "-pass",
                    "pass:secret", "-out", str(enc)], check=True, capture_output=True)
    os.chmod(enc, 0o600)
    refused(run_gatehouse, dict(env, JWT_PRIVATE_KEY_FILE=str(enc)), "enc.pem")
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(b"x" * 20000)
    os.chmod(garbage, 0o600)
    refused(run_gatehouse, dict(env, JWT_PRIVATE_KEY_FILE=str(garbage)), "larger")


def test_refuses_bad_verify_keys_dir(run_gatehouse, tmp_path):
    key = genpkey(tmp_path / "k.pem", "EdDSA")
    vdir = tmp_path / "v"
    vdir.mkdir()
    # A private key among the verification keys is still private.
    genpkey(vdir / "o.pem", "ES256", mode=0o644)
    env = {"ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY_FILE": str(key),
           "JWT_VERIFY_KEYS_DIR": str(vdir)}
    refused(run_gatehouse, env, "JWT_VERIFY_KEYS_DIR", "private key", "chmod")
    refused(run_gatehouse, dict(env, JWT_VERIFY_KEYS_DIR=str(tmp_path / "nodir")),
            "JWT_VERIFY_KEYS_DIR")


def test_public_key_readable_by_all_is_accepted(make_server, tmp_path):
    """Public keys are public: 0644 (or 0444) in JWT_VERIFY_KEYS_DIR serves,
    and the JWKS lists the key."""
    vdir = tmp_path / "v"
    vdir.mkdir(mode=0o755)
    os.chmod(vdir, 0o755)
    public_pem(genpkey(tmp_path / "o.pem", "ES256"), vdir / "o.pem", mode=0o644)
    public_pem(genpkey(tmp_path / "p.pem", "EdDSA"), vdir / "p.pem", mode=0o444)
    srv, _ = asym_server(make_server, tmp_path, "EdDSA", env={"JWT_VERIFY_KEYS_DIR": str(vdir)})
    assert len(jwks(srv)) == 3


def writable_cases(tmp_path):
    """(name, env, words) of starts that must be refused because someone
    else could plant or replace a key."""
    key = genpkey(tmp_path / "k.pem", "EdDSA")
    base = {"ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY_FILE": str(key)}
    cases = []

    vdir = tmp_path / "v666"
    vdir.mkdir()
    public_pem(genpkey(tmp_path / "a.pem", "EdDSA"), vdir / "a.pem", mode=0o666)
    cases.append(("public key 0666", dict(base, JWT_VERIFY_KEYS_DIR=str(vdir)),
                  ["JWT_VERIFY_KEYS_DIR", "a.pem", "written by other users"]))

    vdir = tmp_path / "v777"
    vdir.mkdir()
    public_pem(genpkey(tmp_path / "b.pem", "EdDSA"), vdir / "b.pem", mode=0o644)
    os.chmod(vdir, 0o777)
    cases.append(("directory 0777", dict(base, JWT_VERIFY_KEYS_DIR=str(vdir)),
                  ["JWT_VERIFY_KEYS_DIR", "v777", "written by other users"]))

    # Sticky, as /tmp: others may still add a *.pem, so a keys directory
    # must not be.
    vdir = tmp_path / "v1777"
    vdir.mkdir()
    os.chmod(vdir, 0o1777)
    cases.append(("directory 1777", dict(base, JWT_VERIFY_KEYS_DIR=str(vdir)),
                  ["JWT_VERIFY_KEYS_DIR", "v1777"]))

    vdir = tmp_path / "vg"
    vdir.mkdir()
    public_pem(genpkey(tmp_path / "c.pem", "EdDSA"), vdir / "c.pem", mode=0o664)
    cases.append(("public key group-writable", dict(base, JWT_VERIFY_KEYS_DIR=str(vdir)),
                  ["c.pem", "written by other users"]))

    kdir = tmp_path / "kd"
    kdir.mkdir()
    os.chmod(kdir, 0o777)
    private = genpkey(kdir / "k.pem", "EdDSA")
    cases.append(("private key's directory 0777", dict(base, JWT_PRIVATE_KEY_FILE=str(private)),
                  ["JWT_PRIVATE_KEY_FILE", "kd", "written by other users"]))

    sdir = tmp_path / "sd"
    sdir.mkdir()
    secret = sdir / "secret"
    secret.write_text("s" * 40)
    os.chmod(sdir, 0o777)
    cases.append(("SECRET_KEY_FILE's directory 0777",
                  {"SECRET_KEY": None, "SECRET_KEY_FILE": str(secret)},
                  ["SECRET_KEY_FILE", "sd", "written by other users"]))

    secret2 = tmp_path / "secret2"
    secret2.write_text("s" * 40)
    os.chmod(secret2, 0o646)
    cases.append(("SECRET_KEY_FILE 0646", {"SECRET_KEY": None, "SECRET_KEY_FILE": str(secret2)},
                  ["SECRET_KEY_FILE", "secret2", "written by other users"]))
    return cases


def test_refuses_keys_others_can_write(run_gatehouse, tmp_path):
    for name, env, words in writable_cases(tmp_path):
        res = run_gatehouse(env=env)
        assert res.returncode == 2, f"{name}: exit {res.returncode}; stderr:\n{res.stderr}"
        for w in words:
            assert w in res.stderr, (name, w, res.stderr)


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_refuses_keys_of_another_user(run_gatehouse, make_server, tmp_path):
    """A key file (public or private) or key directory owned by another
    non-root user is refused: that user could rewrite it at any time."""
    nobody = 65534
    key = genpkey(tmp_path / "k.pem", "EdDSA")
    base = {"ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY_FILE": str(key)}
    vdir = tmp_path / "v"
    vdir.mkdir()
    pub = public_pem(genpkey(tmp_path / "o.pem", "EdDSA"), vdir / "o.pem", mode=0o644)
    os.chown(pub, nobody, nobody)
    refused(run_gatehouse, dict(base, JWT_VERIFY_KEYS_DIR=str(vdir)), "o.pem",
            "owned by another user")
    os.chown(pub, 0, 0)
    os.chown(vdir, nobody, nobody)
    refused(run_gatehouse, dict(base, JWT_VERIFY_KEYS_DIR=str(vdir)), "owned by another user")
    os.chown(vdir, 0, 0)
    own = genpkey(tmp_path / "own.pem", "EdDSA")
    os.chown(own, nobody, nobody)
    refused(run_gatehouse, dict(base, JWT_PRIVATE_KEY_FILE=str(own)), "JWT_PRIVATE_KEY_FILE",
            "owned by another user")
    # Root's files pass, as package-installed keys are.
    srv, _ = asym_server(make_server, tmp_path, "EdDSA", key=key,
                         env={"JWT_VERIFY_KEYS_DIR": str(vdir)})
    assert len(jwks(srv)) == 2


def test_refuses_inconsistent_settings(run_gatehouse, tmp_path):
    key = genpkey(tmp_path / "k.pem", "EdDSA")
    refused(run_gatehouse, {"ALGORITHM": "EdDSA"}, "JWT_PRIVATE_KEY_FILE", "keys generate")
    refused(run_gatehouse, {"JWT_PRIVATE_KEY_FILE": str(key)}, "JWT_PRIVATE_KEY_FILE", "HS256")
    refused(run_gatehouse, {"JWT_VERIFY_KEYS_DIR": str(tmp_path)}, "JWT_VERIFY_KEYS_DIR")
    refused(run_gatehouse, {"ALGORITHM": "eddsa", "JWT_PRIVATE_KEY_FILE": str(key)}, "ALGORITHM")


def test_asymmetric_postgres_needs_no_secret_key(run_gatehouse, tmp_path):
    """With an asymmetric key, SECRET_KEY is not needed even on PostgreSQL:
    the start gets past configuration (to the unreachable database, exit 1)."""
    key = genpkey(tmp_path / "k.pem", "EdDSA")
    res = run_gatehouse(env={"ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY_FILE": str(key),
                             "SECRET_KEY": None,
                             "DATABASE_URL": "postgresql://u:pw@127.0.0.1:1/db",
                             "DB_CONNECT_TIMEOUT_SECONDS": "1"})
    assert res.returncode == 1, res.stderr
    assert "SECRET_KEY" not in res.stderr


# ------------------------------------------------------------ SECRET_KEY_FILE
def test_secret_key_file(make_server, tmp_path):
    secret = "file-secret-" + "s" * 40
    f = tmp_path / "secret"
    f.write_text(secret + "\n")
    srv = make_server(env={"SECRET_KEY": None, "SECRET_KEY_FILE": str(f)})
    u = srv.new_user("sf")
    token = srv.token(u["username"])
    assert token_parts(token)[0] == {"alg": "HS256", "typ": "JWT"}
    assert jwt.decode(token, secret, algorithms=["HS256"])["sub"] == str(u["id"])
    assert not (tmp_path / "gh.db.secret").exists()


def test_secret_key_file_refusals(run_gatehouse, tmp_path):
    env = {"SECRET_KEY": None}
    refused(run_gatehouse, dict(env, SECRET_KEY_FILE=str(tmp_path / "none")), "SECRET_KEY_FILE")
    empty = tmp_path / "empty"
    empty.write_text("\n")
    refused(run_gatehouse, dict(env, SECRET_KEY_FILE=str(empty)), "SECRET_KEY_FILE", "empty")
    short = tmp_path / "short"
    value = "Sh0rtSecretValue-not-echoed"
    short.write_text(value)
    res = refused(run_gatehouse, dict(env, SECRET_KEY_FILE=str(short)), "SECRET_KEY_FILE", "32")
    assert value not in res.stderr and value not in res.stdout
    good = tmp_path / "good"
    good.write_text("g" * 40)
    refused(run_gatehouse, {"SECRET_KEY_FILE": str(good)}, "SECRET_KEY_FILE", "not both")
    if os.geteuid() != 0:  # root reads any file
        os.chmod(good, 0)
        refused(run_gatehouse, dict(env, SECRET_KEY_FILE=str(good)), "SECRET_KEY_FILE")


def test_secret_file_leaves_no_temporary(make_server, tmp_path):
    db = tmp_path / "db" / "gh.db"
    db.parent.mkdir()
    srv = make_server(env={"SECRET_KEY": None}, db_path=db)
    assert srv.get("/healthz").status_code == 200
    names = sorted(p.name for p in db.parent.iterdir())
    assert "gh.db.secret" in names and not [n for n in names if n.endswith(".tmp")], names


# ------------------------------------------------------------ OpenSSL only when needed
def maps_libcrypto(srv):
    return "libcrypto" in Path(f"/proc/{srv.pid}/maps").read_text()


@pytest.mark.parametrize("alg", ["HS256", "EdDSA", "ES256"])
def test_openssl_loaded_only_for_its_algorithms(make_server, tmp_path, alg):
    """OpenSSL (2-3 MiB of idle RSS) is mapped only when an OpenSSL algorithm
    is configured; EdDSA's PKCS#8 key is read without it."""
    if alg == "HS256":
        srv = make_server()
    else:
        srv, _ = asym_server(make_server, tmp_path, alg)
    u = srv.new_user("ossl")
    assert verify_status(srv, srv.token(u["username"])) == 204
    assert maps_libcrypto(srv) == (alg == "ES256")


def test_sighup_with_hs256_keeps_serving(make_server):
    srv = make_server()
    u = srv.new_user("hup")
    token = srv.token(u["username"])
    srv.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "SIGHUP" in srv.stderr(), "the SIGHUP is logged")
    assert srv.running()
    assert verify_status(srv, token) == 204
    assert jwks(srv) == []
