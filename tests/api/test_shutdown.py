"""SIGTERM while clients keep their connections busy: the process exits 0
(libmicrohttpd aborts when stopped with a connection still suspended on a
worker), requests that arrive after the signal get 503 with Connection:
close, and a client that holds a half-sent body does not hold the exit."""
import http.client
import json
import re
import signal
import socket
import threading
import time

import pytest
from gh_helpers import PASSWORD, RawResponse, assert_problem

ROUNDS = 10
CLIENTS = 8


def hammer(port, username, stop, seen):
    """Logs in over and over on keep-alive connections until told to stop
    or the server goes away."""
    body = json.dumps({"username": username, "password": PASSWORD})
    conn = None
    while not stop.is_set():
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("POST", "/login", body=body, headers={"Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            seen.append((r.status, r.getheader("Connection", "")))
            if r.will_close:
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException):
            if conn is not None:
                conn.close()
            conn = None
            time.sleep(0.005)
    if conn is not None:
        conn.close()


def test_sigterm_under_keepalive_logins_exits_cleanly(make_server):
    for round_ in range(ROUNDS):
        # Odd rounds with two event-loop threads (libmicrohttpd's thread pool).
        srv = make_server(env={"WORKERS": "2", "DB_WORKERS": "1",
                               "HTTP_THREADS": str(1 + round_ % 2)})
        # One account per client: logins of one account in progress at once
        # count against its free failures (README, Throttling), and this
        # test is about stopping, not about throttling.
        users = [srv.new_user(f"Stop{i}") for i in range(CLIENTS)]
        stop, seen = threading.Event(), []
        threads = [threading.Thread(target=hammer, args=(srv.port, u["username"], stop, seen))
                   for u in users]
        for t in threads:
            t.start()
        time.sleep(0.3 + 0.05 * round_)
        srv.proc.send_signal(signal.SIGTERM)
        try:
            rc = srv.proc.wait(15)
        finally:
            stop.set()
            for t in threads:
                t.join(10)
        stderr = srv.stderr()
        assert "suspended connections" not in stderr, stderr[-3000:]
        assert rc == 0, f"round {round_}: exit status {rc}; stderr:\n{stderr[-3000:]}"
        srv.stop()  # checks the sanitizers' output
        assert any(status == 200 for status, _ in seen), seen[:20]
        for status, connection in seen:
            assert status in (200, 503), seen
            if status == 503:
                assert connection.lower() == "close", seen


def docs_bundle(srv):
    page = srv.get("/docs").text
    paths = re.findall(r'docs/assets/[^"\']*swagger-ui-bundle\.js', page)
    assert paths, page[:500]
    return "/" + paths[0]


def slow_reader(srv):
    """A connection that has sent pipelined requests for a megabyte or so
    each, more than the kernel buffers of a connection hold, and reads
    nothing: it keeps a response being written."""
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect(("127.0.0.1", srv.port))
    slow.sendall(f"GET {docs_bundle(srv)} HTTP/1.1\r\nHost: x\r\n\r\n".encode() * 8)
    return slow


def test_requests_after_sigterm_get_503_and_close(make_server):
    srv = make_server()
    # A slow reader keeps the server in its grace period: responses it
    # does not read until the end of the test.
    slow = slow_reader(srv)
    # A keep-alive client that has been served once.
    keep = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    keep.request("GET", "/healthz")
    first = keep.getresponse()
    first.read()
    assert first.status == 200 and not first.will_close
    time.sleep(0.3)

    srv.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert srv.running(), "the server did not wait for the slow reader"
    keep.request("GET", "/healthz")
    r = keep.getresponse()
    body = r.read()
    assert r.status == 503, body
    assert r.getheader("Connection", "").lower() == "close"
    assert r.will_close
    assert b"shutting down" in body
    # Through the error map, as every 503: a problem that says when to
    # come back.
    assert r.getheader("Content-Type") == "application/problem+json"
    assert r.getheader("Retry-After") == "1"
    keep.close()
    # A new connection is refused at once, not left in the listening
    # socket's queue for the grace period: a client or balancer tries
    # another instance without waiting.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", srv.port), timeout=5).close()

    # The slow reader gets its whole answer, then the server exits 0.
    slow.settimeout(10)
    got = 0
    while True:
        chunk = slow.recv(1 << 20)
        if not chunk:
            break
        got += len(chunk)
    slow.close()
    assert got > 500_000
    assert srv.proc.wait(15) == 0
    srv.stop()


def test_half_sent_body_does_not_hold_the_exit(make_server):
    srv = make_server()
    held = socket.create_connection(("127.0.0.1", srv.port))
    held.sendall(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 200\r\n\r\n{\"username\":")
    time.sleep(0.3)
    started = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    rc = srv.proc.wait(25)
    took = time.monotonic() - started
    held.close()
    assert rc == 0
    # The grace period is 30 s; a few seconds is the generous bound.
    assert took < 5, f"exit took {took:.1f}s"
    srv.stop()


def test_half_sent_headers_do_not_hold_the_exit(make_server):
    srv = make_server()
    held = socket.create_connection(("127.0.0.1", srv.port))
    held.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    time.sleep(0.3)
    started = time.monotonic()
    srv.proc.send_signal(signal.SIGTERM)
    rc = srv.proc.wait(25)
    held.close()
    assert rc == 0 and time.monotonic() - started < 5
    srv.stop()


def test_503_while_stopping_is_a_problem(make_server):
    """The 503 of a stopping server is the project's problem+json."""
    srv = make_server()
    slow = slow_reader(srv)
    keep = socket.create_connection(("127.0.0.1", srv.port))
    time.sleep(0.3)
    srv.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    keep.sendall(b"GET /me HTTP/1.1\r\nHost: x\r\n\r\n")
    resp = http.client.HTTPResponse(keep)
    resp.begin()
    r = RawResponse(resp.status, resp.reason, resp.headers, resp.read())
    assert_problem(r, 503)
    keep.close()
    slow.close()
    assert srv.proc.wait(15) == 0
    srv.stop()


def hashing_jobs_running(srv):
    text = srv.get("/metrics").text
    m = re.search(r'^gatehouse_queue_running\{queue="hash[^"]*"\} (\d+)', text, re.M)
    assert m, text[:2000]
    return int(m.group(1))


def test_sigterm_abandons_a_hash_in_progress(make_server, tmp_path):
    """A registration hashing at bcrypt cost 16, the highest BCRYPT_ROUNDS
    takes (seconds of work), holds a worker; SIGTERM ends the process after
    SHUTDOWN_GRACE_SECONDS instead of joining the hash, and every write
    acknowledged before stays."""
    db = tmp_path / "slow.db"
    fast = make_server(db_path=db)
    kept = fast.new_user("kept")
    fast.stop()

    srv = make_server(db_path=db, env={"BCRYPT_ROUNDS": "16", "SHUTDOWN_GRACE_SECONDS": "1",
                                       "WORKERS": "1"})
    answers = []

    def register():
        try:
            answers.append(srv.register("never-done-1").status_code)
        except Exception as exc:  # the connection is dropped when the process ends
            answers.append(type(exc).__name__)

    th = threading.Thread(target=register, daemon=True)
    th.start()
    deadline = time.monotonic() + 10
    while hashing_jobs_running(srv) == 0:
        assert time.monotonic() < deadline, "the registration never reached a hashing worker"
        time.sleep(0.02)
    srv.stop()  # waits up to STOP_TIMEOUT (20 s): before, it never exited
    th.join(10)
    assert answers and answers[0] != 201, answers
    assert "abandoning" in srv.stderr(), srv.stderr()[-2000:]

    again = make_server(db_path=db)
    assert again.login(kept["username"]).status_code == 200
    assert again.login("never-done-1").status_code == 401
