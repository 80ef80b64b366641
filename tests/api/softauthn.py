"""A software WebAuthn authenticator (and the client part of a browser) for tests.

Written from WebAuthn Level 2 (§5.1.3 create, §5.1.4 get, §6.1 authenticator
data, §6.5 attestation, §8.2 packed, §8.7 none) and COSE (RFC 9052/9053 key
parameters, RFC 8812 RS256), independently of gatehouse's C: the server's
checks are cross-checked against it.

    auth = SoftAuthenticator(alg="ES256", rp_id="localhost",
                             origin="http://localhost:8080")
    reg = auth.create(options)        # options: PublicKeyCredentialCreationOptionsJSON
    res = auth.get(request_options)   # options: PublicKeyCredentialRequestOptionsJSON

Options are the dicts of WebAuthn Level 3's toJSON form (binary fields in
base64url); a wrapping {"publicKey": {...}} is accepted too. Answers are
RegistrationResponseJSON and AuthenticationResponseJSON dicts.

The authenticator keeps its credentials (client-side discoverable ones with
the user handle) and one signature counter per credential, which each
assertion raises by `counter_step` (0: a passkey provider that keeps it at 0).

Knobs for negative tests, per call (keyword arguments of create and get):
  origin=, rp_id= (the rpIdHash is SHA-256 of this id instead),
  challenge= (bytes, or a str put verbatim), type=, cross_origin=,
  client_data= (raw clientDataJSON bytes), counter= (the counter this
  response carries, and keeps), up=False, uv=False, be=/bs= (backup flags),
  tamper_signature=True (one bit of the signature flipped),
  extensions= (a dict: CBOR extension outputs, ED flag set),
  auth_data_suffix= (bytes appended to authenticatorData),
  and for create: fmt="none" | "packed" (self-attestation) | any other
  string (an empty attStmt, or att_stmt=), att_stmt= (a dict, verbatim),
  cose_key= (bytes: the credentialPublicKey sent instead of the real one),
  credential_id= (bytes: the new credential's id instead of 32 random bytes),
  resident= (default: the options' residentKey/requireResidentKey).
"""
import base64
import hashlib
import json
import os
import struct

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

# COSE algorithm identifiers (RFC 9053 §2.1, §2.2; RFC 8812 §2).
ALGS = {"ES256": -7, "EdDSA": -8, "RS256": -257}

# authenticatorData flags (§6.1).
UP, UV, BE, BS, AT, ED = 0x01, 0x04, 0x08, 0x10, 0x40, 0x80


def b64u(data):
    """base64url without padding (§5.10.1's encoding of binary fields)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64u(text):
    """The inverse of b64u; padding is tolerated."""
    text = text.rstrip("=")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_bytes(n):
    return n.to_bytes((n.bit_length() + 7) // 8, "big")


def new_key(alg, rsa_bits=2048):
    """A fresh private key for one of ALGS."""
    if alg == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    if alg == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits)
    raise ValueError("unsupported alg %r" % alg)


def cose_key(alg, private_key):
    """The COSE_Key of the public half (RFC 9052 §7, RFC 9053 §7.1, §7.2;
    RFC 8230 §4 for RSA), CTAP2 canonical CBOR (keys 1, 3, -1, -2, -3)."""
    pub = private_key.public_key()
    if alg == "ES256":
        nums = pub.public_numbers()
        key = {1: 2, 3: -7, -1: 1, -2: nums.x.to_bytes(32, "big"), -3: nums.y.to_bytes(32, "big")}
    elif alg == "EdDSA":
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        key = {1: 1, 3: -8, -1: 6, -2: raw}
    elif alg == "RS256":
        nums = pub.public_numbers()
        key = {1: 3, 3: -257, -1: _int_bytes(nums.n), -2: _int_bytes(nums.e)}
    else:
        raise ValueError("unsupported alg %r" % alg)
    return cbor2.dumps(key, canonical=True)


def sign(alg, private_key, data):
    """ES256: ECDSA P-256 SHA-256, DER (§6.5.6 / RFC 9053 §2.1 as WebAuthn
    carries it); EdDSA: Ed25519, 64 bytes; RS256: RSASSA-PKCS1-v1_5 SHA-256."""
    if alg == "ES256":
        return private_key.sign(data, ec.ECDSA(hashes.SHA256()))
    if alg == "EdDSA":
        return private_key.sign(data)
    if alg == "RS256":
        return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    raise ValueError("unsupported alg %r" % alg)


class Credential:
    """One credential source (§6.2.1 public key credential source)."""

    def __init__(self, cred_id, alg, private_key, rp_id, user_handle, resident):
        self.id = cred_id
        self.alg = alg
        self.private_key = private_key
        self.rp_id = rp_id
        self.user_handle = user_handle
        self.resident = resident
        self.counter = 0

    @property
    def cose_key(self):
        return cose_key(self.alg, self.private_key)


class SoftAuthenticator:
    def __init__(self, alg="ES256", rp_id="localhost", origin="http://localhost", uv=True,
                 aaguid=bytes(16), counter_step=1, rsa_bits=2048, attachment="platform"):
        if alg not in ALGS:
            raise ValueError("alg must be one of %s" % ", ".join(ALGS))
        self.alg = alg
        self.rp_id = rp_id
        self.origin = origin
        self.uv = uv
        self.aaguid = aaguid
        self.counter_step = counter_step
        self.rsa_bits = rsa_bits
        self.attachment = attachment
        self.credentials = {}  # credential id (bytes) -> Credential

    # -- the client part (§5.8.1 CollectedClientData) --------------------------

    def _client_data(self, kind, options, kw):
        if "client_data" in kw:
            return kw["client_data"]
        challenge = kw.get("challenge", unb64u(options["challenge"]))
        data = {
            "type": kw.get("type", kind),
            "challenge": challenge if isinstance(challenge, str) else b64u(challenge),
            "origin": kw.get("origin", self.origin),
            "crossOrigin": kw.get("cross_origin", False),
        }
        return json.dumps(data, separators=(",", ":")).encode()

    # -- the authenticator part ----------------------------------------------

    def _auth_data(self, rp_id, flags, counter, attested=b"", kw=None):
        """§6.1: rpIdHash 32 | flags 1 | signCount 4 (big-endian) |
        attestedCredentialData (AT) | extensions (ED) — then any suffix a test asks for."""
        kw = kw or {}
        rp_hash = hashlib.sha256(kw.get("rp_id", rp_id).encode()).digest()
        if kw.get("up", True):
            flags |= UP
        if kw.get("uv", self.uv):
            flags |= UV
        if kw.get("be"):
            flags |= BE
        if kw.get("bs"):
            flags |= BS
        ext = b""
        if kw.get("extensions") is not None:
            flags |= ED
            ext = cbor2.dumps(kw["extensions"], canonical=True)
        if attested:
            flags |= AT
        return (rp_hash + bytes([flags]) + struct.pack(">I", counter) + attested + ext
                + kw.get("auth_data_suffix", b""))

    @staticmethod
    def _unwrap(options):
        return options.get("publicKey", options)

    def create(self, options, **kw):
        """navigator.credentials.create() (§5.1.3) with authenticatorMakeCredential
        (§6.3.2): a new credential; returns RegistrationResponseJSON."""
        options = self._unwrap(options)
        params = [p.get("alg") for p in options.get("pubKeyCredParams", [])]
        wanted = ALGS[self.alg]
        if params and wanted not in params:
            raise ValueError("the options do not offer %s (%s)" % (self.alg, params))
        rp_id = options.get("rp", {}).get("id") or self.rp_id
        for d in options.get("excludeCredentials", []):
            cid = unb64u(d["id"])
            if cid in self.credentials and self.credentials[cid].rp_id == rp_id:
                raise ValueError("InvalidStateError: a credential of excludeCredentials is here")
        sel = options.get("authenticatorSelection", {})
        resident = kw.get("resident", sel.get("requireResidentKey", False)
                          or sel.get("residentKey") in ("required", "preferred"))
        user_handle = unb64u(options["user"]["id"])
        if resident:  # §6.3.2 step 7: a new discoverable credential replaces the old one
            for cid in [c.id for c in self.credentials.values()
                        if c.resident and c.rp_id == rp_id and c.user_handle == user_handle]:
                del self.credentials[cid]

        cred = Credential(kw.get("credential_id", os.urandom(32)), self.alg, new_key(self.alg, self.rsa_bits), rp_id,
                          user_handle, resident)
        if "counter" in kw:
            cred.counter = kw["counter"]
        self.credentials[cred.id] = cred

        cose = kw.get("cose_key", cred.cose_key)
        attested = self.aaguid + struct.pack(">H", len(cred.id)) + cred.id + cose  # §6.5.1
        auth_data = self._auth_data(rp_id, 0, cred.counter, attested, kw)
        client_data = self._client_data("webauthn.create", options, kw)

        fmt = kw.get("fmt", "none")
        if "att_stmt" in kw:
            att_stmt = kw["att_stmt"]
        elif fmt == "packed":  # §8.2 self attestation: alg and sig, no x5c
            sig = sign(self.alg, cred.private_key,
                       auth_data + hashlib.sha256(client_data).digest())
            if kw.get("tamper_signature"):
                sig = _flip(sig)
            att_stmt = {"alg": ALGS[self.alg], "sig": sig}
        else:
            att_stmt = {}
        att_obj = cbor2.dumps({"fmt": fmt, "attStmt": att_stmt, "authData": auth_data},
                              canonical=True)

        spki = cred.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return {
            "id": b64u(cred.id),
            "rawId": b64u(cred.id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64u(client_data),
                "attestationObject": b64u(att_obj),
                "authenticatorData": b64u(auth_data),
                "transports": ["internal"],
                "publicKey": b64u(spki),
                "publicKeyAlgorithm": ALGS[self.alg],
            },
            "clientExtensionResults": {"credProps": {"rk": bool(resident)}},
            "authenticatorAttachment": self.attachment,
        }

    def get(self, options, credential_id=None, **kw):
        """navigator.credentials.get() (§5.1.4) with authenticatorGetAssertion
        (§6.3.3): an assertion of one credential; returns
        AuthenticationResponseJSON. credential_id (bytes or base64url) picks
        the credential; otherwise the first of allowCredentials held here, or,
        when that list is empty, the newest discoverable credential of the RP."""
        options = self._unwrap(options)
        rp_id = options.get("rpId") or self.rp_id
        cred = self._pick(options, rp_id, credential_id)
        cred.counter = kw["counter"] if "counter" in kw else cred.counter + self.counter_step
        auth_data = self._auth_data(rp_id, 0, cred.counter, b"", kw)
        client_data = self._client_data("webauthn.get", options, kw)
        sig = sign(cred.alg, cred.private_key, auth_data + hashlib.sha256(client_data).digest())
        if kw.get("tamper_signature"):
            sig = _flip(sig)
        return {
            "id": b64u(cred.id),
            "rawId": b64u(cred.id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64u(client_data),
                "authenticatorData": b64u(auth_data),
                "signature": b64u(sig),
                "userHandle": b64u(cred.user_handle) if cred.resident else None,
            },
            "clientExtensionResults": {},
            "authenticatorAttachment": self.attachment,
        }

    def _pick(self, options, rp_id, credential_id):
        if credential_id is not None:
            cid = credential_id if isinstance(credential_id, bytes) else unb64u(credential_id)
            if cid not in self.credentials:
                raise LookupError("no such credential here")
            return self.credentials[cid]
        allow = [unb64u(d["id"]) for d in options.get("allowCredentials", [])]
        if allow:
            for cid in allow:
                c = self.credentials.get(cid)
                if c is not None and c.rp_id == rp_id:
                    return c
            raise LookupError("NotAllowedError: none of allowCredentials is here")
        found = [c for c in self.credentials.values() if c.resident and c.rp_id == rp_id]
        if not found:
            raise LookupError("NotAllowedError: no discoverable credential for %s" % rp_id)
        return found[-1]


def _flip(sig):
    """The signature with one bit of its last byte flipped."""
    return sig[:-1] + bytes([sig[-1] ^ 0x01])
