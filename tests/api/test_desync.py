"""Request desync (RFC 9112 §6.1, §6.3): a request whose body could end in
two places is refused with 400 and its connection closed, so that what was
sent after it is never read as a request of its own."""
import http.client
import io
import socket
import time

import pytest

from gh_helpers import RawResponse, assert_problem

SMUGGLED = b"GET /healthz?smuggled=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def exchange(port, data, wait=5.0):
    """Sends data on one connection and reads until the server closes it.
    Returns (bytes read, whether the server closed within `wait` seconds)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=wait)
    out = b""
    closed = False
    try:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            out += chunk
    finally:
        sock.close()
    return out, closed


class _Stream(io.BytesIO):
    def close(self):
        pass  # http.client closes it after each response; the next reads on


class _Sock:
    """One stream that every response parsed from it reads on from."""

    def __init__(self, data):
        self.f = _Stream(data)

    def makefile(self, mode):
        return self.f


def responses(data):
    """Every response in data, in order (http.client parses each)."""
    sock, out = _Sock(data), []
    while sock.f.tell() < len(data):
        resp = http.client.HTTPResponse(sock)
        resp.begin()
        body = resp.read()
        out.append(RawResponse(resp.status, resp.reason, resp.headers, body))
    return out


def login_head(*headers):
    lines = ["POST /login HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
             *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


BODY = b'{"username":"nobody-here","password":"x"}'

CASES = {
    # The first Content-Length covers a short body; libmicrohttpd took the
    # first and read the rest as a new request.
    "two_lengths": login_head(f"Content-Length: {len(BODY)}",
                              f"Content-Length: {len(BODY) + len(SMUGGLED)}") + BODY + SMUGGLED,
    "two_lengths_reversed": login_head(f"Content-Length: {len(BODY) + len(SMUGGLED)}",
                                       f"Content-Length: {len(BODY)}") + BODY + SMUGGLED,
    "same_length_twice": login_head(f"Content-Length: {len(BODY)}",
                                    f"Content-Length: {len(BODY)}") + BODY + SMUGGLED,
    "length_and_chunked": login_head(f"Content-Length: {len(BODY) + 5 + len(SMUGGLED)}",
                                     "Transfer-Encoding: chunked")
    + f"{len(BODY):x}\r\n".encode() + BODY + b"\r\n0\r\n\r\n" + SMUGGLED,
    "chunked_and_length": login_head("Transfer-Encoding: chunked", "Content-Length: 0")
    + f"{len(BODY):x}\r\n".encode() + BODY + b"\r\n0\r\n\r\n" + SMUGGLED,
    "get_with_length_and_chunked": b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + SMUGGLED,
    "other_coding": login_head("Transfer-Encoding: gzip") + BODY + SMUGGLED,
    "chunked_not_last": login_head("Transfer-Encoding: chunked, gzip") + BODY + SMUGGLED,
    "chunked_twice": login_head("Transfer-Encoding: chunked", "Transfer-Encoding: chunked")
    + b"0\r\n\r\n" + SMUGGLED,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_ambiguous_framing_refused_and_closed(server, case):
    data, closed = exchange(server.port, CASES[case])
    assert closed, f"connection left open after {data[:300]!r}"
    got = responses(data)
    assert len(got) == 1, [r.status_code for r in got]
    r = got[0]
    assert_problem(r, 400)
    assert r.headers.get("Connection", "").lower() == "close"
    assert b"smuggled" not in data and b'"status":"ok"' not in data


def test_pipelined_requests_control(server):
    """Control: the same bytes with one honest Content-Length are two
    requests, both answered, so the test above can tell."""
    data, _ = exchange(server.port, login_head(f"Content-Length: {len(BODY)}") + BODY + SMUGGLED,
                       wait=2.0)
    got = responses(data)
    assert [r.status_code for r in got] == [401, 200], data[:500]


def test_chunked_alone_still_accepted(server):
    data, _ = exchange(server.port, login_head("Transfer-Encoding: chunked", "Connection: close")
                       + f"{len(BODY):x}\r\n".encode() + BODY + b"\r\n0\r\n\r\n")
    got = responses(data)
    assert [r.status_code for r in got] == [401]
