"""Writes the seeds of fuzz/corpus/webauthn and fuzz/corpus/clientdata from
tests/api/softauthn.py, for the client data and expectations that
fuzz_webauthn.c and fuzz_clientdata.c fix. Each file is named by the SHA-1
of its bytes, as in the other corpora. Run from the repository's root:

    /usr/bin/python3 fuzz/webauthn_seeds.py
"""
import hashlib
import json
import struct
import sys
from pathlib import Path

import cbor2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "api"))
from softauthn import ALGS, SoftAuthenticator, b64u, unb64u  # noqa: E402

ORIGIN = "https://example.org"
REG_CD = ('{"type":"webauthn.create","challenge":"%s","origin":"%s","crossOrigin":false}'
          % (b64u(bytes(range(32))), ORIGIN)).encode()
GET_CD = ('{"type":"webauthn.get","challenge":"%s","origin":"%s","crossOrigin":false}'
          % (b64u(bytes(range(100, 132))), ORIGIN)).encode()
CREATE = {"challenge": b64u(bytes(range(32))), "rp": {"id": "example.org", "name": "x"},
          "user": {"id": b64u(b"fuzz-user"), "name": "f", "displayName": "f"},
          "pubKeyCredParams": [{"type": "public-key", "alg": a} for a in ALGS.values()]}
GET = {"challenge": b64u(bytes(range(100, 132))), "rpId": "example.org"}


def put(target, data):
    d = ROOT / "fuzz" / "corpus" / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def assertion_input(key, resp):
    r = resp["response"]
    ad = unb64u(r["authenticatorData"])
    return (b"\x01" + struct.pack(">H", len(key)) + key + struct.pack(">H", len(ad)) + ad
            + unb64u(r["signature"]))


for alg in ALGS:
    a = SoftAuthenticator(alg=alg, rp_id="example.org", origin=ORIGIN)
    for kw in ({"fmt": "none"}, {"fmt": "packed"}, {"fmt": "packed", "extensions": {"credProtect": 1}},
               {"fmt": "packed", "tamper_signature": True}, {"fmt": "fido-u2f"}):
        resp = a.create(CREATE, client_data=REG_CD, **kw)
        put("webauthn", b"\x00" + unb64u(resp["response"]["attestationObject"]))
    cred = next(iter(a.credentials.values()))
    put("webauthn", assertion_input(cred.cose_key, a.get(GET, cred.id, client_data=GET_CD)))
    put("webauthn", assertion_input(cred.cose_key, a.get(
        GET, cred.id, client_data=GET_CD, be=True, bs=True, extensions={"appid": True})))
    put("webauthn", assertion_input(cred.cose_key, a.get(GET, cred.id, client_data=GET_CD,
                                                         tamper_signature=True)))

base = {"type": "webauthn.get", "challenge": b64u(bytes(range(100, 132))), "origin": ORIGIN}
put("clientdata", GET_CD)
put("clientdata", REG_CD)
for extra in ({"crossOrigin": True}, {"topOrigin": ORIGIN}, {"origin": "https://login.example.org:8443"},
              {"tokenBinding": {"status": "present", "id": "AAAA"}}, {"tokenBinding": {"status": "supported"}},
              {"other_keys_can_be_added_here": "do not compare clientDataJSON against a template"},
              {"origin": ORIGIN + "/"}, {"challenge": b64u(bytes(range(100, 132))) + "="}):
    put("clientdata", json.dumps(dict(base, **extra), separators=(",", ":")).encode())
put("clientdata", b'{"type":"webauthn.get","type":"webauthn.get","challenge":"%s","origin":"%s"}'
    % (base["challenge"].encode(), ORIGIN.encode()))
put("clientdata", b'{"type":"webauthn\\u002eget","challenge":"%s","origin":"https:\\/\\/example.org"}'
    % base["challenge"].encode())
put("clientdata", b'{"type":"webauthn.get","challenge":"%s","origin":"https://example.org\\u0000x"}'
    % base["challenge"].encode())
