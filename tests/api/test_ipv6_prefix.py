"""One IPv6 client is its /64: MAX_CONNECTIONS_PER_ADDRESS and the
per-address login throttle count the prefix, not each address in it.

Loopback has one IPv6 address (::1), so these tests run gatehouse and their
clients in a network namespace of their own (`ip netns`), whose loopback
holds addresses of two /64s (documentation prefixes, RFC 3849): the server
at 2001:db8:64::1, clients at ::a, ::b and ::c of the same /64, and one
client of another /64 (tests/api/netns.py). Without root or `ip`, the tests
are skipped with the reason.
"""
import contextlib
import http.client
import json
import socket
import time

import pytest

from gh_helpers import PASSWORD, unique_username
from netns import namespace

PREFIX = "2001:db8:64::"
SERVER = PREFIX + "1"
SAME_64 = [PREFIX + "a", PREFIX + "b", PREFIX + "c"]
OTHER_64 = "2001:db8:65::a"
PORT = 8000  # the namespace is new: nothing else listens in it
WAIT = 15.0  # seconds for gatehouse to start, or to see a closed connection


@pytest.fixture(scope="module")
def netns():
    """A namespace whose loopback holds the addresses above."""
    with namespace() as ns:
        for addr in [SERVER, *SAME_64, OTHER_64]:
            ns.ip("addr", "add", f"{addr}/64", "dev", "lo", "nodad")
        yield ns


def connect(source):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(WAIT)
    s.connect((SERVER, PORT))
    return s


def request(s, method="GET", path="/healthz", body=None):
    """One keep-alive request on s; the status, or None when the server
    closed the connection without an answer."""
    head = f"{method} {path} HTTP/1.1\r\nHost: [{SERVER}]:{PORT}\r\n"
    data = b""
    if body is not None:
        data = json.dumps(body).encode()
        head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
    try:
        s.sendall((head + "\r\n").encode() + data)
        resp = http.client.HTTPResponse(s)
        resp.begin()
        resp.read()
        return resp.status
    except (OSError, http.client.HTTPException):
        return None


def start(make_server, env):
    """gatehouse on [SERVER]:PORT in the current namespace, once it answers."""
    srv = make_server(env={"HOST": SERVER, "PORT": str(PORT), **env}, wait=False)
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        assert srv.proc.poll() is None, srv.stderr()
        # From the other /64, so that the /64 under test starts with no
        # connection, whenever the server sees this one close.
        with contextlib.suppress(OSError):
            s = connect(OTHER_64)
            status = request(s)
            s.close()
            if status == 200:
                return srv
        time.sleep(0.05)
    pytest.fail(f"gatehouse did not answer on [{SERVER}]:{PORT}:\n{srv.stderr()}")


def test_connections_per_address_count_the_64(make_server, netns):
    with netns.inside():
        start(make_server, {"MAX_CONNECTIONS_PER_ADDRESS": "3"})
        # Three connections from three addresses of one /64, each served
        # once, so that the server has surely counted it.
        held = [connect(a) for a in SAME_64]
        assert [request(s) for s in held] == [200, 200, 200]
        # A fourth from that /64 is closed without an answer, from any of
        # its addresses.
        extra = connect(SAME_64[0])
        assert request(extra) is None, "a fourth connection from one /64 was served"
        extra.close()
        # Another /64 is another client.
        other = connect(OTHER_64)
        assert request(other) == 200
        other.close()
        # A slot freed in the /64 is taken again, once the server has seen
        # the close (retried until then, within WAIT).
        held.pop().close()
        deadline = time.monotonic() + WAIT
        while True:
            again = connect(SAME_64[2])
            status = request(again)
            again.close()
            if status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert status == 200
        for s in held:
            s.close()


def test_login_throttle_counts_the_64(make_server, netns):
    env = {"THROTTLE_ADDRESS_FAILURES": "2", "THROTTLE_ACCOUNT_FAILURES": "0",
           "THROTTLE_LOCKOUT_SECONDS": "300", "THROTTLE_LOCKOUT_MAX_SECONDS": "300"}

    def fail(source):
        s = connect(source)
        status = request(s, "POST", "/login",
                         {"username": unique_username("v6"), "password": "wrong"})
        s.close()
        return status

    with netns.inside():
        start(make_server, env)
        # Failures from three addresses of one /64 add up: the fourth,
        # from any address of it, finds the /64 locked out.
        assert [fail(a) for a in SAME_64] == [401, 401, 401]
        assert [fail(a) for a in SAME_64] == [429, 429, 429]
        # Another /64 is not.
        assert fail(OTHER_64) == 401
        # Nor is a right password from it refused.
        s = connect(OTHER_64)
        name = unique_username("v6ok")
        assert request(s, "POST", "/register", {"username": name, "password": PASSWORD}) == 200
        assert request(s, "POST", "/login", {"username": name, "password": PASSWORD}) == 200
        s.close()
