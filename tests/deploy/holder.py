"""A process that plays systemd's part in socket activation: it binds one
listening socket, keeps it, and starts gatehouse processes that inherit it as
descriptor 3 with LISTEN_FDS=1 and LISTEN_PID set to their own pid (through
a bash wrapper that exports its pid and then execs gatehouse, as systemd sets
the variables in the child between fork and exec). And a load of /verify,
/login and /refresh that counts every answer, for tests/deploy/test_restart.py
and bench/restart.py.

The client rules of the load, which are what a careful HTTP/1.1 client (or a
proxy's upstream keep-alive) does:
- a keep-alive connection is reused until an answer says Connection: close;
- a request that fails on a REUSED connection before any byte of an answer
  arrives is sent again once on a new connection (RFC 9112 §9.3.1: the server
  closed the idle connection as the request went out) and counted in
  `stale`; a /refresh sent again after the server had taken it would get 401
  (its token rotated), so such a retry cannot hide a lost answer;
- any other failure (on a new connection, or after part of an answer) is an
  error, a connection reset counted apart in `resets`.
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("GATEHOUSE_BIN") or (REPO / "build" / "gatehouse"))
SECRET_KEY = "gatehouse-socket-test-secret-key-0123456789-abcdef"
PASSWORD = "correct-horse-battery-9"
TIMEOUT = 30.0

# The variables systemd sets; everything else of the caller's environment
# that is a gatehouse setting is left out by settings().
# (The socket may already be descriptor 3 of this process.)
WRAPPER = ('export LISTEN_PID=$$ LISTEN_FDS=1; '
           'if [ "$GH_HOLDER_FD" != 3 ]; then exec 3<&"$GH_HOLDER_FD" {GH_HOLDER_FD}<&-; fi; '
           'unset GH_HOLDER_FD; exec "$@"')


def settings(workdir, **more):
    env = {k: v for k, v in os.environ.items()
           if k in ("PATH", "LANG", "LC_ALL", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
    env.update({
        # Deliberately not where the socket is: ignored with one inherited.
        "HOST": "127.0.0.1",
        "PORT": "1",
        "DATABASE_URL": f"sqlite:///{workdir}/gh.db",
        "SECRET_KEY": SECRET_KEY,
        "BCRYPT_ROUNDS": "4",
        "THROTTLE_ADDRESS_FAILURES": "1000000",
        "THROTTLE_ACCOUNT_FAILURES": "1000000",
        "THROTTLE_REGISTRATIONS": "1000000",
        "HASH_JOBS_PER_ADDRESS": "65536",
    })
    env.update({k: str(v) for k, v in more.items()})
    return env


class Holder:
    """One listening socket on 127.0.0.1, kept for the holder's life."""

    def __init__(self, workdir, backlog=1024, **env):
        self.workdir = Path(workdir)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(backlog)
        self.port = self.sock.getsockname()[1]
        self.env = settings(self.workdir, **env)
        self.started = 0
        self.procs = []

    def start(self, fd=None):
        """Starts gatehouse serve on the held socket (or on descriptor fd of
        ours as its descriptor 3); returns the Popen, its stderr in
        proc.log_path."""
        fd = self.sock.fileno() if fd is None else fd
        self.started += 1
        log = self.workdir / f"gatehouse-{self.started}.log"
        env = dict(self.env, GH_HOLDER_FD=str(fd))
        with open(log, "wb") as err:
            proc = subprocess.Popen(["/bin/bash", "-c", WRAPPER, "gatehouse", str(BINARY), "serve"],
                                    env=env, cwd=self.workdir, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=err, pass_fds=(fd,))
        proc.log_path = log
        self.procs.append(proc)
        return proc

    def wait_log(self, proc, text, timeout=TIMEOUT):
        """Waits until proc's log holds text; fails when it exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in proc.log_path.read_text(errors="replace"):
                return
            if proc.poll() is not None:
                raise AssertionError(f"gatehouse exited ({proc.returncode}):\n"
                                     + proc.log_path.read_text(errors="replace")[-3000:])
            time.sleep(0.02)
        raise AssertionError(f"no {text!r} in gatehouse's log within {timeout}s")

    def stop(self, proc, timeout=TIMEOUT):
        """SIGTERM, as systemctl stop sends, and waits for the exit status."""
        proc.send_signal(signal.SIGTERM)
        return proc.wait(timeout=timeout)

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.sock.close()


def call(conn, method, path, body=None, headers=None):
    """One request; returns (status, headers, body bytes)."""
    hdrs = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    conn.request(method, path, body=data, headers=hdrs)
    r = conn.getresponse()
    return r.status, r.headers, r.read()


def register_and_login(port, username):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        status, _, body = call(conn, "POST", "/register", {"username": username, "password": PASSWORD})
        assert status == 200, body
        status, _, body = call(conn, "POST", "/login", {"username": username, "password": PASSWORD})
        assert status == 200, body
        return json.loads(body)
    finally:
        conn.close()


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.ok = 0
        self.stale = 0      # retried once on a new connection (see above)
        self.resets = 0     # every reset seen, retried or not
        self.errors = []    # (kind, detail)
        self.closes = 0     # answers with Connection: close
        self.latencies = []  # (monotonic end, seconds)
        self.by_status = {}
        self.processes = {}  # X-Request-Id prefix: answers

    def answer(self, status, headers, started, expected):
        now = time.monotonic()
        rid = headers.get("X-Request-Id", "")
        with self.lock:
            self.by_status[status] = self.by_status.get(status, 0) + 1
            self.latencies.append((now, now - started))
            prefix = rid.split("-")[0]
            self.processes[prefix] = self.processes.get(prefix, 0) + 1
            if (headers.get("Connection") or "").lower() == "close":
                self.closes += 1
            if status == expected:
                self.ok += 1
            else:
                self.errors.append(("status", f"{status} (expected {expected})"))

    def error(self, kind, detail):
        with self.lock:
            self.errors.append((kind, detail))

    def summary(self):
        with self.lock:
            return {"ok": self.ok, "stale": self.stale, "resets": self.resets,
                    "errors": len(self.errors), "first_errors": self.errors[:5],
                    "closes": self.closes, "by_status": dict(self.by_status),
                    "processes": len(self.processes)}


class Client:
    """One load thread's connection, under the rules of the module's doc."""

    def __init__(self, port, stats, keep_alive):
        self.port = port
        self.stats = stats
        self.keep_alive = keep_alive
        self.conn = None
        self.used = False  # the connection has carried an answer

    def _fresh(self):
        if self.conn is not None:
            self.conn.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        self.used = False

    def send(self, method, path, expected, body=None, headers=None):
        """Returns the answer's body, or None after an error (counted)."""
        if self.conn is None or not self.keep_alive:
            self._fresh()
        hdrs = dict(headers or {})
        if not self.keep_alive:
            hdrs["Connection"] = "close"
        for attempt in (1, 2):
            started = time.monotonic()
            reused = self.used
            try:
                self.conn.request(method, path, body=None if body is None else json.dumps(body).encode(),
                                  headers=dict(hdrs, **({"Content-Type": "application/json"}
                                                        if body is not None else {})))
                resp = self.conn.getresponse()
            except (ConnectionResetError, BrokenPipeError) as exc:
                # No byte of an answer yet. RemoteDisconnected (a subclass of
                # ConnectionResetError): the connection ended with no answer;
                # anything else of these: the peer reset it.
                reset = not isinstance(exc, http.client.RemoteDisconnected)
                if reset:
                    with self.stats.lock:
                        self.stats.resets += 1
                if reused and attempt == 1:
                    with self.stats.lock:
                        self.stats.stale += 1
                    self._fresh()
                    continue
                self.stats.error("reset" if reset else "closed",
                                 f"{method} {path}: {exc!r} (new connection)")
                self._fresh()
                return None
            except (OSError, http.client.HTTPException) as exc:
                self.stats.error("other", f"{method} {path}: {exc!r}")
                self._fresh()
                return None
            try:
                data = resp.read()
            except (OSError, http.client.HTTPException) as exc:
                self.stats.error("body", f"{method} {path}: {exc!r} after status {resp.status}")
                self._fresh()
                return None
            self.used = True
            self.stats.answer(resp.status, resp.headers, started, expected)
            if (resp.headers.get("Connection") or "").lower() == "close" or not self.keep_alive:
                self.conn.close()
                self.conn = None
            return data if resp.status == expected else None
        return None


class Load:
    """Threads sending /verify (keep-alive and a new connection each time),
    /login and /refresh (keep-alive and new connections) until stop()."""

    def __init__(self, port, account, users, verify_threads=2):
        self.port = port
        self.stats = Stats()
        self.done = threading.Event()
        token = account["access_token"]
        self.threads = []
        for i in range(verify_threads):
            self.threads.append(threading.Thread(target=self._verify, args=(token, i % 2 == 0)))
        for i, (name, refresh) in enumerate(users):
            self.threads.append(threading.Thread(target=self._login, args=(name, i % 2 == 0)))
            self.threads.append(threading.Thread(target=self._refresh, args=(refresh, i % 2 == 1)))

    def _verify(self, token, keep_alive):
        c = Client(self.port, self.stats, keep_alive)
        while not self.done.is_set():
            c.send("GET", "/verify", 204, headers={"Authorization": f"Bearer {token}"})

    def _login(self, name, keep_alive):
        c = Client(self.port, self.stats, keep_alive)
        while not self.done.is_set():
            c.send("POST", "/login", 200, {"username": name, "password": PASSWORD})

    def _refresh(self, refresh, keep_alive):
        c = Client(self.port, self.stats, keep_alive)
        while not self.done.is_set():
            data = c.send("POST", "/refresh", 200, {"refresh_token": refresh})
            if data is None:
                return  # counted; the chain is broken
            refresh = json.loads(data)["refresh_token"]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def answers_from(self, prefix):
        with self.stats.lock:
            return self.stats.processes.get(prefix, 0)

    def total(self):
        with self.stats.lock:
            return sum(self.stats.by_status.values())

    def stop(self):
        self.done.set()
        for t in self.threads:
            t.join(TIMEOUT)
        return self.stats.summary()


def users_for_load(port, n):
    """n users, each with a refresh token from a sign-in: [(name, refresh)]."""
    out = []
    for i in range(n):
        name = f"load{i}-{os.urandom(4).hex()}"
        out.append((name, register_and_login(port, name)["refresh_token"]))
    return out
