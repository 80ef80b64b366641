"""Socket activation: gatehouse serves the listening socket systemd passes
(LISTEN_FDS, sd_listen_fds), run here by systemd's own systemd-socket-activate
and by a holder process that plays systemd (tests/deploy/holder.py); it
refuses to start on anything but one listening TCP socket, and at SIGTERM it
leaves the socket to its holder, draining its open connections with answers
that close them.

    GATEHOUSE_BIN=$PWD/build/gatehouse /usr/bin/python3 -m pytest -q tests/deploy/test_socket.py
"""
import http.client
import os
import shutil
import signal
import socket
import subprocess
import time

import pytest

import holder
from holder import TIMEOUT, Holder

ACTIVATE = shutil.which("systemd-socket-activate") or "/usr/bin/systemd-socket-activate"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def activate(tmp_path, listen, *extra, env=None):
    """systemd-socket-activate listening on each of listen, execing
    gatehouse serve at the first connection; every setting passed with -E
    (it passes no other variable)."""
    settings = holder.settings(tmp_path, **(env or {}))
    args = [ACTIVATE, *extra]
    for addr in listen:
        args += ["-l", addr]
    for name, value in settings.items():
        args += ["-E", f"{name}={value}"]
    log = open(tmp_path / "activate.log", "wb")
    proc = subprocess.Popen([*args, str(holder.BINARY), "serve"], cwd=tmp_path,
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    proc.log_path = tmp_path / "activate.log"
    return proc


def wait_listening(proc, port):
    """systemd-socket-activate has bound the port (it says so on stderr)."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if "Listening on" in proc.log_path.read_text(errors="replace"):
            return
        assert proc.poll() is None, proc.log_path.read_text(errors="replace")
        time.sleep(0.02)
    raise AssertionError("systemd-socket-activate did not listen")


def exit_status(proc):
    try:
        return proc.wait(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()


def get(port, path="/healthz", conn=None):
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    c.request("GET", path)
    r = c.getresponse()
    r.read()
    if conn is None:
        c.close()
    return r


@pytest.fixture
def binary():
    if not holder.BINARY.exists():
        pytest.fail(f"no gatehouse binary at {holder.BINARY} (make build/gatehouse)")
    if not os.path.exists(ACTIVATE):
        pytest.fail("systemd-socket-activate is missing (Debian's systemd package)")
    return holder.BINARY


def test_systemd_socket_activate_serves_and_host_port_are_ignored(binary, tmp_path):
    port, other = free_port(), free_port()
    proc = activate(tmp_path, [f"127.0.0.1:{port}"], env={"PORT": other})
    try:
        wait_listening(proc, port)
        # The first connection makes systemd-socket-activate exec
        # gatehouse, which finds it waiting in the socket's queue.
        r = get(port)
        assert r.status == 200
        log = proc.log_path.read_text(errors="replace")
        assert "the listening socket came from systemd (LISTEN_FDS): HOST and PORT are ignored" in log
        assert f"listening on http://127.0.0.1:{port} (socket from systemd" in log
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", other), timeout=TIMEOUT)
        proc.send_signal(signal.SIGTERM)
        assert exit_status(proc) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize("listen,extra,trigger,message", [
    (2, (), "tcp", "LISTEN_FDS: 2 sockets passed, gatehouse serves one"),
    (1, ("--datagram",), "udp", "LISTEN_FDS: descriptor 3 is not a listening TCP socket"),
    ("unix", (), "unix", "LISTEN_FDS: descriptor 3 is not a listening TCP socket"),
], ids=["two-sockets", "datagram", "unix"])
def test_anything_but_one_listening_tcp_socket_is_refused(binary, tmp_path, listen, extra, trigger,
                                                          message):
    if listen == "unix":
        addrs = [str(tmp_path / "gh.sock")]
    else:
        addrs = [f"127.0.0.1:{free_port()}" for _ in range(listen)]
    proc = activate(tmp_path, addrs, *extra)
    try:
        wait_listening(proc, None)
        if trigger == "tcp":
            host, port = addrs[0].rsplit(":", 1)
            s = socket.create_connection((host, int(port)), timeout=TIMEOUT)
        elif trigger == "udp":
            host, port = addrs[0].rsplit(":", 1)
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.sendto(b"x", (host, int(port)))
        else:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(addrs[0])
        with s:
            assert exit_status(proc) == 2
        log = proc.log_path.read_text(errors="replace")
        assert message in log, log
        assert not (tmp_path / "gh.db").exists()  # refused before the database
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_descriptor_that_is_no_socket_is_refused(binary, tmp_path):
    h = Holder(tmp_path)
    fd = os.open(os.devnull, os.O_RDONLY)
    try:
        proc = h.start(fd=fd)
        assert proc.wait(timeout=TIMEOUT) == 2
        log = proc.log_path.read_text(errors="replace")
        assert "LISTEN_FDS: descriptor 3 is not a listening TCP socket" in log, log
    finally:
        os.close(fd)
        h.close()


def test_sigterm_leaves_the_socket_to_its_holder(binary, tmp_path):
    """The socket stays open and listening after gatehouse stops: a client
    that connects while none runs waits in its queue and is answered by the
    next process. (Shut down at SIGTERM, it would refuse the connection.)"""
    h = Holder(tmp_path)
    try:
        first = h.start()
        h.wait_log(first, "listening on")
        before = get(h.port).headers["X-Request-Id"].split("-")[0]
        assert h.stop(first) == 0
        # Nobody serves the socket now: the connection is queued by the kernel.
        waiting = http.client.HTTPConnection("127.0.0.1", h.port, timeout=TIMEOUT)
        waiting.connect()
        waiting.request("GET", "/healthz")
        second = h.start()
        r = waiting.getresponse()
        r.read()
        assert r.status == 200
        assert r.headers["X-Request-Id"].split("-")[0] != before  # another process
        waiting.close()
        assert h.stop(second) == 0
    finally:
        h.close()


def test_open_connections_drain_with_connection_close(binary, tmp_path):
    """At SIGTERM a keep-alive connection's requests are still answered as
    usual, each answer from then on with Connection: close (not 503), so the
    client moves to a new connection, which the next process takes."""
    h = Holder(tmp_path)
    try:
        proc = h.start()
        h.wait_log(proc, "listening on")
        conn = http.client.HTTPConnection("127.0.0.1", h.port, timeout=TIMEOUT)
        r = get(h.port, conn=conn)
        assert r.status == 200 and r.headers.get("Connection") is None
        proc.send_signal(signal.SIGTERM)
        statuses = []
        while True:
            r = get(h.port, conn=conn)
            statuses.append(r.status)
            if (r.headers.get("Connection") or "").lower() == "close":
                break
        assert set(statuses) == {200}, statuses
        conn.close()
        assert proc.wait(timeout=TIMEOUT) == 0
        assert "unanswered" not in proc.log_path.read_text(errors="replace")
    finally:
        h.close()


def readme_example():
    """The README's systemd-socket-activate example ("Upgrading without
    downtime"): the sh block under its marker."""
    lines = (holder.REPO / "README.md").read_text().splitlines()
    start = lines.index("<!-- readme-test: skip (run by tests/deploy/test_socket.py) -->")
    assert lines[start + 1] == "```sh"
    end = lines.index("```", start + 2)
    return lines[start + 2:end]


def test_the_readme_example_runs(binary, tmp_path):
    block = readme_example()
    port = free_port()
    script = "\n".join(line.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
                       .replace("./build/gatehouse", str(binary)) for line in block)
    expected = [line[2:] for line in block if line.startswith("# ")]
    # A session of its own: on a failure the background job is killed with
    # the shell (it would hold the output pipes open).
    p = subprocess.Popen(["bash", "-c", "set -euo pipefail\n" + script], cwd=tmp_path,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={"PATH": os.environ["PATH"]}, start_new_session=True)
    try:
        out, err = p.communicate(timeout=TIMEOUT)
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()
    log = tmp_path / "gatehouse.log"
    assert p.returncode == 0, out + err + (log.read_text() if log.exists() else "")
    assert out.splitlines() == expected
