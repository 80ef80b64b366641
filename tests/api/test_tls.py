"""HTTPS without a proxy (issue 23): TLS_CERT_FILE and TLS_KEY_FILE, TLS 1.2
and 1.3 only with AEAD ciphers and forward secrecy, Strict-Transport-Security
on every answer, the pair read again on SIGHUP for new handshakes while open
connections keep theirs, and a wrong pair or an exposed key refused at start.

The certificates are made here with Debian's openssl; the clients are curl,
openssl s_client and Python's ssl module."""

import hashlib
import http.client
import os
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

import pytest
import requests

from gh_helpers import free_port, unique_username

HSTS = "max-age=31536000"
TIMEOUT = 30


# ---------------------------------------------------------------- certificates
def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


class TestCA:
    """A throwaway CA that signs certificates for localhost and 127.0.0.1."""

    __test__ = False

    def __init__(self, directory):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.cert = self.dir / "ca.pem"
        self.key = self.dir / "ca.key"
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                 "-nodes", "-keyout", self.key, "-out", self.cert, "-days", "2",
                 "-subj", "/CN=gatehouse TLS test CA",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=self.dir)
        self.serial = 1000

    def issue(self, name, key="rsa:2048"):
        """A certificate and its key (mode 0600) as name.pem and name.key;
        returns (cert path, key path, serial)."""
        self.serial += 1
        cert, keyfile = self.dir / f"{name}.pem", self.dir / f"{name}.key"
        csr, ext = self.dir / f"{name}.csr", self.dir / f"{name}.ext"
        ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                       "basicConstraints=critical,CA:FALSE\n"
                       "extendedKeyUsage=serverAuth\n")
        newkey = ["-newkey", key] if key.startswith("rsa") else \
            ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        _openssl("req", "-new", *newkey, "-nodes", "-keyout", keyfile, "-out", csr,
                 "-subj", "/CN=localhost", cwd=self.dir)
        _openssl("x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key,
                 "-set_serial", str(self.serial), "-days", "2", "-extfile", ext, "-out", cert,
                 cwd=self.dir)
        os.chmod(keyfile, 0o600)
        return cert, keyfile, self.serial


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return TestCA(tmp_path_factory.mktemp("tls-ca"))


def der_fingerprint(pem_path):
    der = ssl.PEM_cert_to_DER_cert(Path(pem_path).read_text())
    return hashlib.sha256(der).hexdigest()


# ---------------------------------------------------------------- the server
def wait_https(srv, ca_file):
    """GET /healthz over HTTPS until 200 (gh_helpers' wait_ready speaks plain
    HTTP); fails when the process exits."""
    deadline = time.monotonic() + 60
    while True:
        rc = srv.proc.poll()
        if rc is not None:
            pytest.fail(f"gatehouse exited with {rc} during start-up:\n{srv.stderr()[-5000:]}")
        try:
            r = requests.get(f"https://127.0.0.1:{srv.port}/healthz", verify=str(ca_file),
                             timeout=5)
            if r.status_code == 200:
                return srv
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"no HTTPS answer from gatehouse:\n{srv.stderr()[-5000:]}")
        time.sleep(0.05)


def https_server(make_server, ca, cert, key, **env):
    srv = make_server(env={"TLS_CERT_FILE": str(cert), "TLS_KEY_FILE": str(key), **env},
                      wait=False)
    return wait_https(srv, ca.cert)


@pytest.fixture(scope="module")
def pair(ca):
    return ca.issue("server")


@pytest.fixture(scope="module")
def tls_server(make_module_server, ca, pair):
    cert, key, _ = pair
    return https_server(make_module_server, ca, cert, key)


def s_client(port, *args, ca=None):
    """openssl s_client's output (both streams) for a handshake with args; it
    sends nothing and closes at once."""
    cmd = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost",
           *args]
    if ca is not None:
        cmd += ["-CAfile", str(ca)]
    res = subprocess.run(cmd, input="", capture_output=True, text=True, timeout=TIMEOUT)
    return res.stdout + res.stderr


def negotiated(output):
    """(protocol, cipher) of an s_client run, or None when no handshake."""
    for line in output.splitlines():
        if line.startswith("New, ") and "Cipher is" in line:
            proto, cipher = line[len("New, "):].split(", Cipher is ")
            return None if cipher.strip() == "(NONE)" else (proto.strip(), cipher.strip())
    return None


# ---------------------------------------------------------------- protocols
@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_curl_tls12_and_tls13_are_accepted(tls_server, ca, version):
    res = subprocess.run(
        ["curl", "-sS", "-D", "-", "-o", "/dev/null", "--cacert", str(ca.cert),
         f"--tlsv{version}", "--tls-max", version, "-w", "%{http_code}\n",
         f"https://localhost:{tls_server.port}/healthz"],
        capture_output=True, text=True, timeout=TIMEOUT)
    assert res.returncode == 0, res.stderr
    assert res.stdout.rstrip().endswith("200"), res.stdout
    assert f"strict-transport-security: {HSTS}" in res.stdout.lower(), res.stdout
    out = s_client(tls_server.port, f"-tls{version.replace('.', '_')}", ca=ca.cert)
    assert negotiated(out) is not None and negotiated(out)[0] == f"TLSv{version}", out
    assert "Verify return code: 0 (ok)" in out, out


@pytest.mark.parametrize("flag", ["-tls1", "-tls1_1"])
def test_tls10_and_tls11_are_refused(tls_server, ca, flag):
    # Debian's openssl disables TLS 1.0 and 1.1 at its default security
    # level; SECLEVEL=0 turns them back on in the client, so that the
    # ClientHello is really sent and the refusal is the server's.
    out = s_client(tls_server.port, flag, "-cipher", "DEFAULT@SECLEVEL=0", ca=ca.cert)
    assert "no protocols available" not in out, out
    assert negotiated(out) is None, out
    # The same client settings with TLS 1.2 do get a handshake.
    out = s_client(tls_server.port, "-tls1_2", "-cipher", "DEFAULT@SECLEVEL=0", ca=ca.cert)
    assert negotiated(out) is not None, out


@pytest.mark.parametrize("cipher", [
    "AES128-GCM-SHA256",          # RSA key exchange: no forward secrecy
    "AES256-SHA256",              # RSA key exchange and CBC
    "ECDHE-RSA-AES128-SHA",       # CBC with SHA-1
    "ECDHE-RSA-AES256-SHA384",    # CBC
    "DHE-RSA-AES128-GCM-SHA256",  # finite-field DHE: not offered
])
def test_weak_tls12_ciphers_are_refused(tls_server, ca, cipher):
    out = s_client(tls_server.port, "-tls1_2", "-cipher", f"{cipher}@SECLEVEL=0", ca=ca.cert)
    assert "no cipher match" not in out, out  # the client offered it
    assert negotiated(out) is None, out


@pytest.mark.parametrize("cipher", ["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384",
                                    "ECDHE-RSA-CHACHA20-POLY1305"])
def test_aead_ciphers_with_ecdhe_are_accepted(tls_server, ca, cipher):
    out = s_client(tls_server.port, "-tls1_2", "-cipher", cipher, ca=ca.cert)
    assert negotiated(out) == ("TLSv1.2", cipher), out


def test_plain_http_on_the_tls_port_gets_no_answer(tls_server):
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=TIMEOUT) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        data = s.recv(4096)
    assert b"HTTP/1.1 200" not in data


# ---------------------------------------------------------------- answers
def test_hsts_on_every_answer(tls_server, ca):
    base = f"https://127.0.0.1:{tls_server.port}"
    answers = [
        requests.get(base + "/healthz", verify=str(ca.cert), timeout=TIMEOUT),
        requests.get(base + "/no-such-route", verify=str(ca.cert), timeout=TIMEOUT),
        requests.get(base + "/me", verify=str(ca.cert), timeout=TIMEOUT),
        requests.post(base + "/login", data="{", headers={"Content-Type": "application/json"},
                      verify=str(ca.cert), timeout=TIMEOUT),
    ]
    assert [r.status_code for r in answers] == [200, 404, 401, 400]
    for r in answers:
        assert r.headers.get("Strict-Transport-Security") == HSTS, (r.status_code, r.headers)


def test_no_hsts_over_plain_http(server):
    r = server.get("/healthz")
    assert r.status_code == 200
    assert "Strict-Transport-Security" not in r.headers


def test_register_login_and_me_over_tls(tls_server, ca):
    base = f"https://localhost:{tls_server.port}"
    name = unique_username("tls")
    # One keep-alive session; verify on each call, since a session's own
    # verify loses to REQUESTS_CA_BUNDLE in the environment.
    kw = {"verify": str(ca.cert), "timeout": TIMEOUT}
    with requests.Session() as s:
        r = s.post(base + "/register", json={"username": name, "password": "correct horse 1"},
                   **kw)
        assert r.status_code == 200, r.text
        r = s.post(base + "/login", json={"username": name, "password": "correct horse 1"}, **kw)
        assert r.status_code == 200, r.text
        token = r.json()["access_token"]
        r = s.get(base + "/me", headers={"Authorization": f"Bearer {token}"}, **kw)
        assert r.status_code == 200 and r.json()["username"] == name, r.text
        r = s.get(base + "/verify", headers={"Authorization": f"Bearer {token}"}, **kw)
        assert r.status_code == 204, r.text


def test_cookies_stay_secure_with_tls(make_server, ca, pair):
    cert, key, _ = pair
    srv = https_server(make_server, ca, cert, key, SESSION_COOKIES="1")
    name = unique_username("tlsc")
    base = f"https://localhost:{srv.port}"
    r = requests.post(base + "/register", json={"username": name, "password": "correct horse 1"},
                      verify=str(ca.cert), timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    r = requests.post(base + "/login", json={"username": name, "password": "correct horse 1"},
                      verify=str(ca.cert), timeout=TIMEOUT)
    assert r.status_code == 200, r.text
    cookies = r.raw.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in c for c in cookies), cookies


def test_cookie_secure_off_with_tls_is_warned_about(make_server, ca, pair):
    cert, key, _ = pair
    srv = https_server(make_server, ca, cert, key, COOKIE_SECURE="0")
    assert srv.stderr_shows("COOKIE_SECURE=0 with TLS"), srv.stderr()


def test_metrics_listener_stays_plain_http(make_server, ca, pair):
    cert, key, _ = pair
    mport = free_port()
    srv = https_server(make_server, ca, cert, key, METRICS_ADDRESS=f"127.0.0.1:{mport}")
    r = requests.get(f"http://127.0.0.1:{mport}/metrics", timeout=TIMEOUT)
    assert r.status_code == 200 and "gatehouse_" in r.text
    assert "Strict-Transport-Security" not in r.headers
    r = requests.get(f"https://127.0.0.1:{srv.port}/metrics", verify=str(ca.cert), timeout=TIMEOUT)
    assert r.status_code == 404


# ---------------------------------------------------------------- reload
def served_fingerprint(port, ca_file):
    ctx = ssl.create_default_context(cafile=str(ca_file))
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()


def test_sighup_serves_a_new_certificate_and_keeps_open_connections(make_server, tmp_path, ca):
    live_cert, live_key = tmp_path / "live.pem", tmp_path / "live.key"
    first_cert, first_key, _ = ca.issue("reload-1")
    second_cert, second_key, _ = ca.issue("reload-2", key="ec")
    live_cert.write_bytes(first_cert.read_bytes())
    live_key.write_bytes(first_key.read_bytes())
    os.chmod(live_key, 0o600)
    srv = https_server(make_server, ca, live_cert, live_key)
    assert served_fingerprint(srv.port, ca.cert) == der_fingerprint(first_cert)

    # A keep-alive connection opened before the reload.
    ctx = ssl.create_default_context(cafile=str(ca.cert))
    old = http.client.HTTPSConnection("localhost", srv.port, context=ctx, timeout=TIMEOUT)
    old.request("GET", "/healthz")
    assert old.getresponse().read() == b'{"status":"ok"}\n'
    old_fp = hashlib.sha256(old.sock.getpeercert(binary_form=True)).hexdigest()
    assert old_fp == der_fingerprint(first_cert)

    # The new pair replaces the files (key first: a handshake in between
    # would not matter, the reload reads both at SIGHUP).
    for src, dst in ((second_key, live_key), (second_cert, live_cert)):
        tmp = dst.with_suffix(".new")
        tmp.write_bytes(src.read_bytes())
        os.chmod(tmp, 0o600)
        os.replace(tmp, dst)
    os.kill(srv.pid, signal.SIGHUP)
    assert srv.stderr_shows("SIGHUP: the TLS certificate reloaded"), srv.stderr()
    assert served_fingerprint(srv.port, ca.cert) == der_fingerprint(second_cert)

    # The old connection is the same socket and still answers.
    sock_before = old.sock
    for _ in range(3):
        old.request("GET", "/healthz")
        r = old.getresponse()
        assert r.status == 200 and r.read() == b'{"status":"ok"}\n'
    assert old.sock is sock_before
    assert hashlib.sha256(old.sock.getpeercert(binary_form=True)).hexdigest() == old_fp
    old.close()

    # A bad new pair (the first certificate with the second key) is refused
    # and the second pair stays.
    live_cert.write_bytes(first_cert.read_bytes())
    os.kill(srv.pid, signal.SIGHUP)
    assert srv.stderr_shows("the TLS certificate not reloaded, the current one stays"), \
        srv.stderr()
    assert "is not the private key of the certificate" in srv.stderr()
    assert served_fingerprint(srv.port, ca.cert) == der_fingerprint(second_cert)


# ---------------------------------------------------------------- refused at start
def test_mismatched_pair_is_refused_at_start(run_gatehouse, ca):
    cert, _, _ = ca.issue("mismatch-a")
    _, other_key, _ = ca.issue("mismatch-b")
    res = run_gatehouse(env={"TLS_CERT_FILE": str(cert), "TLS_KEY_FILE": str(other_key)})
    assert res.returncode == 2, res.stderr
    assert str(cert) in res.stderr and str(other_key) in res.stderr, res.stderr
    assert "is not the private key of the certificate" in res.stderr, res.stderr


def test_key_readable_by_others_is_refused(run_gatehouse, ca, tmp_path):
    cert, key, _ = ca.issue("exposed")
    os.chmod(key, 0o644)
    res = run_gatehouse(env={"TLS_CERT_FILE": str(cert), "TLS_KEY_FILE": str(key)})
    assert res.returncode == 2, res.stderr
    assert "TLS_KEY_FILE" in res.stderr and str(key) in res.stderr, res.stderr
    assert "0644" in res.stderr and "chmod 600" in res.stderr, res.stderr
    assert "-----BEGIN" not in res.stderr


@pytest.mark.parametrize("given,missing", [("TLS_CERT_FILE", "TLS_KEY_FILE"),
                                           ("TLS_KEY_FILE", "TLS_CERT_FILE")])
def test_one_file_without_the_other_is_refused(run_gatehouse, pair, given, missing):
    cert, key, _ = pair
    res = run_gatehouse(env={given: str(cert if given == "TLS_CERT_FILE" else key)})
    assert res.returncode == 2, res.stderr
    assert f"{given} needs {missing}" in res.stderr, res.stderr


@pytest.mark.parametrize("what", ["missing", "garbage", "key-as-cert", "cert-as-key"])
def test_unreadable_or_malformed_files_are_refused(run_gatehouse, pair, tmp_path, what):
    cert, key, _ = pair
    bad = tmp_path / "bad.pem"
    if what == "garbage":
        bad.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    elif what == "key-as-cert":
        bad.write_bytes(key.read_bytes())
    elif what == "cert-as-key":
        bad.write_bytes(cert.read_bytes())
    if bad.exists():
        os.chmod(bad, 0o600)
    env = {"TLS_CERT_FILE": str(cert), "TLS_KEY_FILE": str(key)}
    setting = "TLS_KEY_FILE" if what == "cert-as-key" else "TLS_CERT_FILE"
    env[setting] = str(bad)
    res = run_gatehouse(env=env)
    assert res.returncode == 2, res.stderr
    assert f"{setting}: " in res.stderr and str(bad) in res.stderr, res.stderr
    assert "not base64" not in res.stderr and "PRIVATE KEY-----" not in res.stderr
