"""Writes webauthn_vectors.h, the WebAuthn vectors of test_webauthn.c, made by
tests/api/softauthn.py (Python's cryptography and cbor2): the C is checked
against an implementation of the authenticator side that shares no code
with it. Keys and ECDSA nonces are random, so each run writes other bytes
that mean the same. Regenerate with

    /usr/bin/python3 tests/unit/core/webauthn_vectors.py >tests/unit/core/webauthn_vectors.h &&
        clang-format -i tests/unit/core/webauthn_vectors.h
"""
import hashlib
import sys
from pathlib import Path

import cbor2

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "api"))
from softauthn import ALGS, SoftAuthenticator, b64u, cose_key, new_key, unb64u  # noqa: E402

RP_ID = "example.org"
ORIGIN = "https://example.org"
REG_CHALLENGE = bytes(range(32))
GET_CHALLENGE = bytes(range(100, 132))

CREATE = {
    "challenge": b64u(REG_CHALLENGE),
    "rp": {"id": RP_ID, "name": "Example"},
    "user": {"id": b64u(b"user-handle-0001"), "name": "alice", "displayName": "Alice"},
    "pubKeyCredParams": [{"type": "public-key", "alg": a} for a in ALGS.values()],
    "authenticatorSelection": {"residentKey": "discouraged", "userVerification": "preferred"},
    "attestation": "none",
}
GET = {"challenge": b64u(GET_CHALLENGE), "rpId": RP_ID, "userVerification": "preferred"}

out = []


def carray(name, data):
    body = ", ".join("0x%02x" % b for b in data)
    out.append("static const unsigned char %s[%d] = {%s};" % (name, max(len(data), 1), body))


def cstr(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


regs, gets = [], []


def reg_case(name, resp, want, require_uv=False, keep=None):
    r = resp["response"]
    carray("reg_%s_cd" % name, unb64u(r["clientDataJSON"]))
    carray("reg_%s_ao" % name, unb64u(r["attestationObject"]))
    regs.append((name, want, require_uv))


def get_case(name, cose, resp, want, require_uv=False):
    r = resp["response"]
    carray("get_%s_key" % name, cose)
    carray("get_%s_cd" % name, unb64u(r["clientDataJSON"]))
    carray("get_%s_ad" % name, unb64u(r["authenticatorData"]))
    carray("get_%s_sig" % name, unb64u(r["signature"]))
    gets.append((name, want, require_uv))


def cose_map(d):
    return cbor2.dumps(d, canonical=True)


auths = {}
for alg in ALGS:
    a = SoftAuthenticator(alg=alg, rp_id=RP_ID, origin=ORIGIN, counter_step=1)
    auths[alg] = a
    resp = a.create(CREATE, counter=7)
    reg_case("none_" + alg, resp, "WEBAUTHN_OK", require_uv=True)
    cred = a.credentials[unb64u(resp["id"])]
    # What registration must report for this credential.
    carray("cred_%s_id" % alg, cred.id)
    carray("cred_%s_cose" % alg, cred.cose_key)
    reg_case("packed_" + alg, a.create(CREATE, fmt="packed"), "WEBAUTHN_OK", require_uv=True)
    get_case("ok_" + alg, cred.cose_key, a.get(GET, cred.id, counter=8), "WEBAUTHN_OK",
             require_uv=True)
    get_case("badsig_" + alg, cred.cose_key, a.get(GET, cred.id, tamper_signature=True),
             "WEBAUTHN_BAD_SIGNATURE")
    reg_case("packed_badsig_" + alg, a.create(CREATE, fmt="packed", tamper_signature=True),
             "WEBAUTHN_BAD_ATTESTATION")

es = auths["ES256"]
es_cred = next(iter(es.credentials.values()))
other_key = cose_key("ES256", new_key("ES256"))

# Registration refusals, one cause each.
reg_case("type", es.create(CREATE, type="webauthn.get"), "WEBAUTHN_BAD_TYPE")
reg_case("challenge", es.create(CREATE, challenge=bytes(32)), "WEBAUTHN_BAD_CHALLENGE")
reg_case("challenge_short", es.create(CREATE, challenge=REG_CHALLENGE[:31]),
         "WEBAUTHN_BAD_CHALLENGE")
reg_case("challenge_padded", es.create(CREATE, challenge=b64u(REG_CHALLENGE) + "="),
         "WEBAUTHN_BAD_CHALLENGE")
reg_case("origin", es.create(CREATE, origin="https://evil.example"), "WEBAUTHN_BAD_ORIGIN")
reg_case("origin_prefix", es.create(CREATE, origin=ORIGIN + ".evil"), "WEBAUTHN_BAD_ORIGIN")
reg_case("cross_origin", es.create(CREATE, cross_origin=True), "WEBAUTHN_BAD_ORIGIN")
reg_case("rp_id", es.create(CREATE, rp_id="evil.example"), "WEBAUTHN_BAD_RP_ID")
reg_case("no_up", es.create(CREATE, up=False), "WEBAUTHN_NO_USER_PRESENCE")
reg_case("no_uv", es.create(CREATE, uv=False), "WEBAUTHN_NO_USER_VERIFIED", require_uv=True)
reg_case("no_uv_allowed", es.create(CREATE, uv=False), "WEBAUTHN_OK")
reg_case("trailing", es.create(CREATE, auth_data_suffix=b"\x00"), "WEBAUTHN_MALFORMED")
reg_case("cred_id_max", es.create(CREATE, credential_id=b"\x01" * 1023), "WEBAUTHN_OK")
reg_case("cred_id_too_long", es.create(CREATE, credential_id=b"\x02" * 1024), "WEBAUTHN_MALFORMED")
reg_case("cred_id_empty", es.create(CREATE, credential_id=b""), "WEBAUTHN_MALFORMED")
reg_case("extensions_not_map", es.create(CREATE, extensions=[1]), "WEBAUTHN_MALFORMED")
reg_case("extensions", es.create(CREATE, extensions={"credProtect": 2}), "WEBAUTHN_OK")
reg_case("fmt_u2f", es.create(CREATE, fmt="fido-u2f"), "WEBAUTHN_BAD_ATTESTATION")
reg_case("none_stmt", es.create(CREATE, att_stmt={"alg": -7}), "WEBAUTHN_BAD_ATTESTATION")
reg_case("packed_x5c", es.create(CREATE, fmt="packed", att_stmt={
    "alg": -7, "sig": b"\x30\x06\x02\x01\x01\x02\x01\x01", "x5c": [b"\x30\x00"]}),
    "WEBAUTHN_BAD_ATTESTATION")
reg_case("packed_alg", es.create(CREATE, fmt="packed", att_stmt={"alg": -8, "sig": bytes(64)}),
         "WEBAUTHN_BAD_ATTESTATION")
# Keys: off the curve, contradicting their alg, with a private part, too
# small, of an algorithm not supported.
x = es_cred.private_key.public_key().public_numbers().x.to_bytes(32, "big")
y = es_cred.private_key.public_key().public_numbers().y.to_bytes(32, "big")
bad_y = y[:-1] + bytes([y[-1] ^ 1])
reg_case("key_off_curve", es.create(CREATE, cose_key=cose_map({1: 2, 3: -7, -1: 1, -2: x, -3: bad_y})),
         "WEBAUTHN_BAD_KEY")
reg_case("key_kty", es.create(CREATE, cose_key=cose_map({1: 1, 3: -7, -1: 1, -2: x, -3: y})),
         "WEBAUTHN_BAD_KEY")
reg_case("key_crv", es.create(CREATE, cose_key=cose_map({1: 2, 3: -7, -1: 2, -2: x, -3: y})),
         "WEBAUTHN_BAD_KEY")
reg_case("key_private", es.create(CREATE, cose_key=cose_map(
    {1: 2, 3: -7, -1: 1, -2: x, -3: y, -4: bytes(32)})), "WEBAUTHN_BAD_KEY")
reg_case("key_no_alg", es.create(CREATE, cose_key=cose_map({1: 2, -1: 1, -2: x, -3: y})),
         "WEBAUTHN_BAD_KEY")
reg_case("key_y_bool", es.create(CREATE, cose_key=cose_map({1: 2, 3: -7, -1: 1, -2: x, -3: True})),
         "WEBAUTHN_BAD_KEY")
reg_case("key_es384", es.create(CREATE, cose_key=cose_map({1: 2, 3: -35, -1: 2, -2: x, -3: y})),
         "WEBAUTHN_UNSUPPORTED_ALG")
small = new_key("RS256", 1024).public_key().public_numbers()
reg_case("key_rsa1024", es.create(CREATE, cose_key=cose_map(
    {1: 3, 3: -257, -1: small.n.to_bytes(128, "big"), -2: b"\x01\x00\x01"})), "WEBAUTHN_BAD_KEY")
big = new_key("RS256", 2048).public_key().public_numbers()
reg_case("key_rsa_private", es.create(CREATE, cose_key=cose_map(
    {1: 3, 3: -257, -1: big.n.to_bytes(256, "big"), -2: b"\x01\x00\x01", -3: b"\x01"})),
    "WEBAUTHN_BAD_KEY")
reg_case("key_rsa_even_e", es.create(CREATE, cose_key=cose_map(
    {1: 3, 3: -257, -1: big.n.to_bytes(256, "big"), -2: b"\x01\x00\x00"})), "WEBAUTHN_BAD_KEY")
reg_case("key_rsa_zero_pad", es.create(CREATE, cose_key=cose_map(
    {1: 3, 3: -257, -1: b"\x00" + big.n.to_bytes(256, "big"), -2: b"\x01\x00\x01"})),
    "WEBAUTHN_BAD_KEY")
reg_case("key_rsa_ok", es.create(CREATE, cose_key=cose_map(
    {1: 3, 3: -257, -1: big.n.to_bytes(256, "big"), -2: b"\x01\x00\x01"})), "WEBAUTHN_OK")
reg_case("key_ed_small_order", es.create(CREATE, cose_key=cose_map(
    {1: 1, 3: -8, -1: 6, -2: bytes([1] + [0] * 31)})), "WEBAUTHN_BAD_KEY")

# Assertion refusals.
cose = es_cred.cose_key
get_case("type", cose, es.get(GET, es_cred.id, type="webauthn.create"), "WEBAUTHN_BAD_TYPE")
get_case("challenge", cose, es.get(GET, es_cred.id, challenge=REG_CHALLENGE), "WEBAUTHN_BAD_CHALLENGE")
get_case("origin", cose, es.get(GET, es_cred.id, origin="http://example.org"), "WEBAUTHN_BAD_ORIGIN")
get_case("rp_id", cose, es.get(GET, es_cred.id, rp_id="example.com"), "WEBAUTHN_BAD_RP_ID")
get_case("no_up", cose, es.get(GET, es_cred.id, up=False), "WEBAUTHN_NO_USER_PRESENCE")
get_case("no_uv", cose, es.get(GET, es_cred.id, uv=False), "WEBAUTHN_NO_USER_VERIFIED",
         require_uv=True)
get_case("no_uv_allowed", cose, es.get(GET, es_cred.id, uv=False), "WEBAUTHN_OK")
get_case("other_key", other_key, es.get(GET, es_cred.id), "WEBAUTHN_BAD_SIGNATURE")
get_case("trailing", cose, es.get(GET, es_cred.id, auth_data_suffix=b"\x00"), "WEBAUTHN_MALFORMED")
get_case("extensions", cose, es.get(GET, es_cred.id, extensions={"appid": False}), "WEBAUTHN_OK")
get_case("bs_without_be", cose, es.get(GET, es_cred.id, bs=True), "WEBAUTHN_MALFORMED")
get_case("backup", cose, es.get(GET, es_cred.id, be=True, bs=True), "WEBAUTHN_OK")
get_case("unsupported_key", cose_map({1: 2, 3: -35, -1: 2, -2: x, -3: y}), es.get(GET, es_cred.id),
         "WEBAUTHN_UNSUPPORTED_ALG")

print("/* Generated by tests/unit/core/webauthn_vectors.py from tests/api/softauthn.py; do not")
print(" * edit. Regenerate with")
print(" *     /usr/bin/python3 tests/unit/core/webauthn_vectors.py >tests/unit/core/webauthn_vectors.h &&")
print(" *         clang-format -i tests/unit/core/webauthn_vectors.h")
print(" */")
print("#define VEC_RP_ID %s" % cstr(RP_ID))
print("#define VEC_ORIGIN %s" % cstr(ORIGIN))
carray("vec_reg_challenge", REG_CHALLENGE)
carray("vec_get_challenge", GET_CHALLENGE)
print("\n".join(out))
print("#define VEC(a) a, sizeof a")
print("static const struct reg_vector reg_vectors[] = {")
for name, want, uv in regs:
    print("    {%s, VEC(reg_%s_cd), VEC(reg_%s_ao), %s, %s}," % (
        cstr(name), name, name, "true" if uv else "false", want))
print("};")
print("static const struct get_vector get_vectors[] = {")
for name, want, uv in gets:
    print("    {%s, VEC(get_%s_key), VEC(get_%s_cd), VEC(get_%s_ad), VEC(get_%s_sig), %s, %s}," % (
        cstr(name), name, name, name, name, "true" if uv else "false", want))
print("};")
