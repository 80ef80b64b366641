"""Connection limits: connections per client address, and the header, body
and idle deadlines that keep idle or slowly-sending connections (slowloris)
from taking the server from everyone else. Every 127/8 address reaches the
loopback interface, so one test process is many clients."""
import itertools
import json
import resource
import socket
import threading
import time

import pytest

from gh_helpers import assert_problem, flag_name

# A generous bound for a request that shows the effect (not a benchmark).
PROMPT = 2.0


@pytest.fixture(autouse=True, scope="module")
def enough_descriptors():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 4096)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < 1400:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} is too low for 1,000 connections")
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def connect(port, source="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    return s


def closed_by_server(s, wait=0.0):
    """True when the server has closed s (EOF or reset) within `wait` seconds."""
    s.settimeout(max(wait, 0.01))
    try:
        return s.recv(65536) == b"" or closed_by_server(s, wait)
    except socket.timeout:
        return False
    except OSError:
        return True


def timed_get(port, path, source, headers=()):
    """One request on a fresh connection from `source`; (status, seconds)."""
    started = time.monotonic()
    s = connect(port, source)
    try:
        head = f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers)
        s.sendall((head + "\r\n").encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    return int(data.split(b" ", 2)[1]), time.monotonic() - started


# ------------------------------------------------------------ per address
def test_per_address_limit(make_server):
    # Addresses nothing else here uses (the fixtures' own requests come from
    # 127.0.0.1 and might still be counted).
    one, other = "127.0.3.1", "127.0.3.2"
    srv = make_server(env={"MAX_CONNECTIONS_PER_ADDRESS": "5"})
    held = [connect(srv.port, one) for _ in range(5)]
    time.sleep(0.2)
    for s in held:
        assert not closed_by_server(s)
    # The sixth from the same address is closed without an answer.
    extra = connect(srv.port, one)
    try:
        extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    except OSError:
        pass
    assert closed_by_server(extra, 3), "the sixth connection from one address was served"
    extra.close()
    # Another address still gets in.
    assert timed_get(srv.port, "/healthz", other)[0] == 200
    # A slot freed on the first address is taken again.
    held.pop().close()
    time.sleep(0.3)
    assert timed_get(srv.port, "/healthz", one)[0] == 200
    for s in held:
        s.close()


def test_per_address_limit_zero_is_unlimited(make_server):
    srv = make_server(env={"MAX_CONNECTIONS_PER_ADDRESS": "0"})
    held = [connect(srv.port) for _ in range(300)]
    assert timed_get(srv.port, "/healthz", "127.0.0.1")[0] == 200
    for s in held:
        s.close()


# ---------------------------------------------------------------- deadlines
def dribble(s, chunks, limit=12):
    """Sends chunks one at a time, waiting up to 0.5 s after each for the
    server to close, until it does or limit seconds have passed; closes s.
    Returns (closed by the server, seconds taken)."""
    started = time.monotonic()
    closed = False
    for chunk in chunks:
        if time.monotonic() - started > limit:
            break
        try:
            s.sendall(chunk)
        except OSError:
            closed = True
            break
        if closed_by_server(s, 0.5):
            closed = True
            break
    took = time.monotonic() - started
    s.close()
    return closed, took


def test_byte_dribbling_headers_are_cut_off(make_server):
    """A byte a second keeps libmicrohttpd's idle timer from expiring; the
    header deadline still closes the connection."""
    srv = make_server(env={"IDLE_TIMEOUT_SECONDS": "3", "HEADER_TIMEOUT_SECONDS": "2"})
    s = connect(srv.port)
    head = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100
    closed, took = dribble(s, (bytes([b]) for b in head))
    assert closed, "a dribbling client kept its connection for 12 s"
    assert took < 6, f"closed only after {took:.1f}s"


def test_slow_body_is_cut_off(make_server):
    srv = make_server(env={"IDLE_TIMEOUT_SECONDS": "30", "BODY_TIMEOUT_SECONDS": "2"})
    s = connect(srv.port)
    s.sendall(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 500\r\n\r\n{")
    closed, took = dribble(s, itertools.repeat(b" "))
    assert closed and took < 6, (closed, took)


def test_idle_keepalive_connection_is_not_cut_by_the_header_deadline(make_server):
    """Between requests a connection that sends nothing has the idle timeout,
    not the header deadline: a proxy's idle keep-alive pool stays up."""
    srv = make_server(env={"IDLE_TIMEOUT_SECONDS": "30", "HEADER_TIMEOUT_SECONDS": "1"})
    s = connect(srv.port)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert s.recv(65536).startswith(b"HTTP/1.1 200")
    time.sleep(3.5)
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    assert s.recv(65536).startswith(b"HTTP/1.1 200")
    s.close()


def test_idle_timeout(make_server):
    srv = make_server(env={"IDLE_TIMEOUT_SECONDS": "2"})
    s = connect(srv.port)
    assert not closed_by_server(s, 1.0)
    assert closed_by_server(s, 5.0)
    s.close()


# ---------------------------------------------------------------- slowloris
class Dribbler(threading.Thread):
    """Sends one byte on each of its sockets every half second."""

    def __init__(self, socks, payload):
        super().__init__(daemon=True)
        self.socks = list(socks)
        self.payload = payload
        self.stop = threading.Event()
        self.closed = 0

    def run(self):
        i = 0
        while not self.stop.is_set() and self.socks:
            alive = []
            for s in self.socks:
                try:
                    s.send(self.payload[i % len(self.payload):i % len(self.payload) + 1])
                    alive.append(s)
                except OSError:
                    self.closed += 1
                    s.close()
            self.socks = alive
            i += 1
            self.stop.wait(0.5)


def test_slowloris_does_not_starve_others(make_server):
    """1,000 connections from 20 addresses: idle ones, half-sent headers,
    half-sent bodies and byte-dribblers. Another address's /healthz and
    /verify still answer promptly, and the slow senders are cut off."""
    srv = make_server(env={"HEADER_TIMEOUT_SECONDS": "3", "BODY_TIMEOUT_SECONDS": "3"})
    user = srv.new_user("Loris")
    r = srv.post("/login", data=json.dumps({"username": user["username"],
                                            "password": user["password"]}),
                 headers={"Content-Type": "application/json"})
    token = r.json()["access_token"]
    sources = [f"127.0.9.{i}" for i in range(1, 21)]
    socks = {"idle": [], "headers": [], "body": [], "dribble": []}
    kinds = list(socks)
    for n in range(1000):
        kind = kinds[n % 4]
        s = connect(srv.port, sources[n % len(sources)])
        if kind == "headers":
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Partial: ")
        elif kind == "body":
            s.sendall(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 1000\r\n\r\n{\"username\":")
        elif kind == "dribble":
            s.sendall(b"G")
        socks[kind].append(s)
    dribbler = Dribbler(socks["dribble"], b"ET /healthz HTTP/1.1\r\nX-Slow: " + b"a" * 1000)
    dribbler.start()
    try:
        for _ in range(3):
            status, took = timed_get(srv.port, "/healthz", "127.0.0.2")
            assert status == 200 and took < PROMPT, (status, took)
            status, took = timed_get(srv.port, "/verify", "127.0.0.2",
                                     headers=[("Authorization", f"Bearer {token}")])
            assert status == 204 and took < PROMPT, (status, took)
            time.sleep(0.5)
        # Past the deadlines (3 s, checked once a second) the slow senders
        # are gone; the idle ones are left to the idle timeout (60 s).
        time.sleep(4)
        for kind in ("headers", "body"):
            still = sum(not closed_by_server(s, 0.01) for s in socks[kind])
            assert still == 0, f"{still} connections with {kind} half-sent still open"
        assert dribbler.closed == 250 or not dribbler.socks, \
            f"{len(dribbler.socks)} dribblers still connected"
        assert sum(closed_by_server(s, 0.01) for s in socks["idle"]) == 0
        status, took = timed_get(srv.port, "/healthz", "127.0.0.2")
        assert status == 200 and took < PROMPT
    finally:
        dribbler.stop.set()
        dribbler.join(5)
        for group in socks.values():
            for s in group:
                s.close()


# ------------------------------------------------------------ oversize heads
def many_headers(total, each=40):
    """Header lines of `each` bytes (with CRLF) adding up to about `total`."""
    n = total // each
    return b"".join(b"X-H%05d: " % i + b"v" * (each - 12) + b"\r\n" for i in range(n))


OVERSIZE = {
    "one_header_17k": b"X-Big: " + b"a" * 17_000 + b"\r\n",
    "one_header_40k": b"X-Big: " + b"a" * 40_000 + b"\r\n",
    "cookie_20k": b"Cookie: a=" + b"b" * 20_000 + b"\r\n",
    "many_headers_17k": many_headers(17_000),
    "many_headers_24k": many_headers(24_000, 80),
}


@pytest.mark.parametrize("case", sorted(OVERSIZE))
@pytest.mark.parametrize("path", ["/healthz", "/verify", "/nowhere"])
def test_oversize_headers_get_the_project_431(server, case, path):
    r = server.raw(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" + OVERSIZE[case]
                   + b"\r\n")
    body = assert_problem(r, 431)
    assert body["detail"] == "request headers exceed 16384 bytes"


def test_oversize_headers_with_a_body(server):
    r = server.raw(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                   b"Content-Length: 2\r\n" + OVERSIZE["one_header_40k"] + b"\r\n{}")
    assert_problem(r, 431)


@pytest.mark.parametrize("extra", [8_200, 30_000])
def test_long_request_target_gets_414(server, extra):
    for target in (b"/healthz?" + b"a" * extra, b"/" + b"p" * extra):
        r = server.raw(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        body = assert_problem(r, 414)
        assert body["detail"] == "request target exceeds 8192 bytes"


def test_request_target_at_the_limit_is_routed(server):
    r = server.raw(b"GET /" + b"p" * 8191 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert_problem(r, 404)


def test_headers_just_under_the_limit_pass(server):
    r = server.raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many_headers(16_000) + b"\r\n")
    assert r.status_code == 200


@pytest.mark.parametrize("head", [b"X-Big: " + b"a" * 60_000 + b"\r\n",
                                  b"".join(b"a%d:b\r\n" % i for i in range(1000))])
def test_past_libmicrohttpd_pool_still_431(server, head):
    """Past libmicrohttpd's 48 KiB connection pool it answers by itself (no
    hook in 0.9.75): still 431 and a closed connection, but its own HTML body
    without nosniff or X-Request-Id (README, Limits)."""
    r = server.raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + head + b"\r\n")
    assert r.status_code == 431
    assert r.headers.get("Connection", "").lower() == "close"


def test_descriptor_limit_raised_for_max_connections(make_server):
    """Started with a soft RLIMIT_NOFILE of 1024, the server raises it so that
    MAX_CONNECTIONS (4096) fits beside the database and the rest."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 4096 + 64 + 8:
        pytest.skip(f"hard RLIMIT_NOFILE {hard}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
    try:
        srv = make_server(env={"DB_POOL_SIZE": "8"})
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    with open(f"/proc/{srv.pid}/limits") as f:
        line = next(x for x in f.read().splitlines() if x.startswith("Max open files"))
    assert int(line.split()[3]) >= 4096 + 64 + 8, line


@pytest.mark.parametrize("setting,value", [
    ("MAX_CONNECTIONS_PER_ADDRESS", "-1"), ("MAX_CONNECTIONS_PER_ADDRESS", "x"),
    ("IDLE_TIMEOUT_SECONDS", "0"), ("IDLE_TIMEOUT_SECONDS", "3601"),
    ("HEADER_TIMEOUT_SECONDS", "0"), ("HEADER_TIMEOUT_SECONDS", "601"),
    ("BODY_TIMEOUT_SECONDS", "0"), ("BODY_TIMEOUT_SECONDS", "1s"),
])
def test_limit_settings_validated(run_gatehouse, setting, value):
    res = run_gatehouse(env={setting: value})
    assert res.returncode == 2, res.stderr
    assert setting in res.stderr or flag_name(setting) in res.stderr, res.stderr
