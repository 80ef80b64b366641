"""Shared helpers for the gatehouse black-box API tests.

The fixtures in conftest.py are built from these; test modules import the
plain helpers (`from gh_helpers import ...`).  Everything here talks to the
real binary over HTTP (requests, http.client or a bare socket) and, where a
test needs it, reads the SQLite file read-only.
"""
import base64
import http.client
import itertools
import json
import os
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import jwt
import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
BINARY = Path(os.environ.get("GATEHOUSE_BIN") or (REPO / "build" / "gatehouse"))

# A fixed key of more than 40 bytes; tests that check key generation unset it.
SECRET_KEY = "gatehouse-api-tests-fixed-secret-key-0123456789-abcdef"
WRONG_KEY = "another-secret-key-of-enough-length-0123456789-xyz"

# When set, the default (module-scoped) server uses this database instead of a
# temporary SQLite file.  Tests that open the SQLite file skip in that case.
TEST_DATABASE_URL = os.environ.get("GATEHOUSE_TEST_DATABASE_URL") or None

# Timeouts only detect hangs; nothing asserts on elapsed time.
START_TIMEOUT = float(os.environ.get("GATEHOUSE_TEST_START_TIMEOUT", "10"))
REQUEST_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0
CLI_TIMEOUT = 10.0

# A password that breaks no rule (not common, 8..72 bytes).
PASSWORD = "correct-horse-battery-9"

def _settings_table():
    """The variable names of the settings table in src/cli/config.c, in its
    order: the one list of settings, read rather than copied, so that a new
    setting reaches every test that enumerates them."""
    source = (REPO / "src" / "cli" / "config.c").read_text()
    table = source.split("static const struct setting settings[] = {", 1)[1].split("\n};", 1)[0]
    # clang-format may put the flag on the next line.
    names = tuple(re.findall(r'^    \{"([A-Z][A-Z0-9_]*)",\s*"--[a-z0-9-]+",', table, re.M))
    assert len(names) >= 50 and len(set(names)) == len(names), names
    return names


# Every setting; each is an environment variable and a flag.
SETTINGS = _settings_table()

# Every test client is 127.0.0.1, so the default limits of throttling (a few
# failed logins, 20 registrations an hour, 4 hashing jobs per address) would
# stop the suite itself.  Test servers get limits no test reaches;
# tests/api/test_throttle.py sets its own (None restores the default).
THROTTLE_TEST_LIMITS = {
    "THROTTLE_ADDRESS_FAILURES": "1000000",
    "THROTTLE_ACCOUNT_FAILURES": "1000000",
    "THROTTLE_REGISTRATIONS": "1000000",
    "HASH_JOBS_PER_ADDRESS": "65536",
    "THROTTLE_AUTHZ_REQUESTS": "1000000",
}

SANITIZER_MARKERS = (
    "AddressSanitizer",
    "LeakSanitizer",
    "ThreadSanitizer",
    "MemorySanitizer",
    "runtime error:",  # UBSan
)

# Accepted `title` values: the HTTP reason phrase (older and RFC 9110 names).
TITLES = {
    400: {"Bad Request"},
    401: {"Unauthorized"},
    403: {"Forbidden"},
    404: {"Not Found"},
    405: {"Method Not Allowed"},
    409: {"Conflict"},
    413: {"Payload Too Large", "Content Too Large", "Request Entity Too Large"},
    414: {"URI Too Long"},
    415: {"Unsupported Media Type"},
    422: {"Unprocessable Entity", "Unprocessable Content"},
    429: {"Too Many Requests"},
    431: {"Request Header Fields Too Large"},
    501: {"Not Implemented"},
    503: {"Service Unavailable"},
}

ERROR_CODES = {
    "missing",
    "wrong_type",
    "too_short",
    "too_long",
    "invalid_characters",
    "invisible_characters",
    "contains_nul",
    "equals_username",
    "too_common",
}

REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
RFC3339_UTC_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
B64URL_RE = re.compile(r"^[A-Za-z0-9_-]+$")


def flag_name(setting):
    """DATABASE_URL -> --database-url."""
    return "--" + setting.lower().replace("_", "-")


# --------------------------------------------------------------------- names
_counter = itertools.count(1)


def ascii_key(name):
    """The key gatehouse looks a name up by: ASCII letters lower-cased,
    every other character as it is."""
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in name)


def insert_user(db_path, name, password_hash):
    """Inserts a user into a live server's SQLite file, as `users import`
    would; returns its id."""
    now = int(time.time())
    conn = sqlite3.connect(str(db_path), timeout=10)
    try:
        with conn:
            cur = conn.execute(
                "INSERT INTO users (username, username_key, password_hash, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?)",
                (name, ascii_key(name), password_hash, now, now))
        return cur.lastrowid
    finally:
        conn.close()


def stored_hash_by_id(db_path, user_id):
    """The password hash stored for user_id in a SQLite file (read-only)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute("SELECT password_hash FROM users WHERE id = ?",
                            (user_id,)).fetchone()[0]
    finally:
        conn.close()


def unique_username(prefix="u"):
    """A fresh, valid username (3..64 chars of A-Za-z0-9._-@+)."""
    return f"{prefix}{next(_counter)}_{secrets.token_hex(5)}"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------ sanitizer check
def sanitizer_report(text):
    """The sanitizer marker found in a process's stderr, or None."""
    for marker in SANITIZER_MARKERS:
        if marker in text:
            return marker
    return None


def check_sanitizers(text, what):
    marker = sanitizer_report(text)
    if marker:
        pytest.fail(f"{what}: sanitizer report ({marker!r}) on stderr:\n{text[-20000:]}")


def base_env():
    """The test process's environment minus every gatehouse setting, so a stray
    PORT or DATABASE_URL in the caller's shell cannot leak into a server."""
    env = dict(os.environ)
    for name in SETTINGS:
        env.pop(name, None)
    return env


def apply_overrides(env, overrides):
    """Apply `overrides` to `env`; a value of None unsets the variable."""
    for key, value in (overrides or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = str(value)
    return env


# The address the mail tests' links are built on (PUBLIC_URL).
MAIL_PUBLIC_URL = "https://auth.example.test"


def mail_env(sink, ca=None, **more):
    """The settings that send a server's mail to sink (a mailsink.MailSink,
    or anything with its url): STARTTLS verified against ca (a ThrowawayCA)
    when given, else plain SMTP, which loopback allows; links on
    MAIL_PUBLIC_URL; the mail throttle out of the way. more is added last
    (a setting in it wins)."""
    env = {
        "SMTP_URL": sink.url,
        "PUBLIC_URL": MAIL_PUBLIC_URL,
        "MAIL_FROM": "gatehouse <noreply@example.test>",
        "THROTTLE_MAIL_REQUESTS": "1000000",
    }
    if ca is not None:
        env["SMTP_CA_FILE"] = str(ca.cert_file)
    else:
        env["SMTP_STARTTLS"] = "off"
    env.update(more)
    return env


def db_exec(server, sql):
    """Runs sql on the server's database behind its back, either backend."""
    if server.db_path is not None:
        conn = sqlite3.connect(server.db_path, timeout=10)
        try:
            conn.execute(sql)
            conn.commit()
        finally:
            conn.close()
        return
    subprocess.run(["psql", "-X", "-q", server.env["DATABASE_URL"], "-c", sql], check=True,
                   capture_output=True, text=True)


def sqlite_url(path):
    """sqlite:////abs/path.db for an absolute path."""
    return "sqlite:///" + str(Path(path).resolve())


def require_binary():
    if not (BINARY.is_file() and os.access(BINARY, os.X_OK)):
        pytest.fail(f"gatehouse binary not found or not executable at {BINARY} "
                    "(build it or set GATEHOUSE_BIN)")


# -------------------------------------------------------------- raw requests
class RawResponse:
    """A response read off a bare socket, shaped like requests.Response for the
    attributes the assertion helpers use."""

    def __init__(self, status, reason, headers, body):
        self.status_code = status
        self.reason = reason
        self.headers = headers  # http.client.HTTPMessage: case-insensitive .get()
        self.content = body
        self.text = body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.content)

    def __repr__(self):
        return f"<RawResponse {self.status_code} {self.text[:200]!r}>"


def build_request(method, path, headers=(), body=None, chunked=False):
    """Bytes of an HTTP/1.1 request.  Adds Host and Connection: close, and
    Content-Length (unless chunked or already given) when there is a body."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    names = {name.lower() for name, _ in headers}
    for name, value in headers:
        lines.append(f"{name}: {value}")
    if body is not None and chunked:
        lines.append("Transfer-Encoding: chunked")
    elif body is not None and "content-length" not in names:
        lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    if body is None:
        return head
    if chunked:
        out = bytearray(head)
        step = 1000
        for i in range(0, len(body), step):
            piece = body[i:i + step]
            out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
        out += b"0\r\n\r\n"
        return bytes(out)
    return head + body


def raw_request(port, data, method="GET", timeout=REQUEST_TIMEOUT):
    """Send raw bytes and parse one response.  A server that answers early
    (413, 431) may stop reading; a failed send is then ignored and the answer
    is read anyway."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        resp = http.client.HTTPResponse(sock, method=method)
        try:
            resp.begin()
            body = resp.read()
        except ConnectionResetError as exc:
            raise AssertionError(f"server reset the connection instead of answering: {exc!r}")
        return RawResponse(resp.status, resp.reason, resp.headers, body)
    finally:
        sock.close()


# ------------------------------------------------------------------- server
class ServerExited(Exception):
    def __init__(self, returncode, stderr):
        super().__init__(f"gatehouse exited with status {returncode} before it was ready")
        self.returncode = returncode
        self.stderr = stderr


class Server:
    """One gatehouse process.  Use through the `make_server` fixtures, which
    stop it on teardown and check its exit status and stderr."""

    def __init__(self, workdir, env, args, port, db_path, name):
        self.workdir = Path(workdir)
        self.env = env
        self.args = list(args)
        self.port = port
        self.db_path = Path(db_path) if db_path else None  # None: not a SQLite file we know
        self.name = name
        self.proc = None
        self.finished = False  # exit status already checked (stop) or irrelevant (kill)
        self.stderr_checked = False  # sanitizer check already done by stop()
        self.stdout_path = self.workdir / f"{name}.stdout"
        self.stderr_path = self.workdir / f"{name}.stderr"

    # ------------------------------------------------------------ process
    def start(self):
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [str(BINARY), *self.args],
                cwd=self.workdir,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
        return self

    @property
    def pid(self):
        return self.proc.pid

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr(self):
        try:
            return self.stderr_path.read_text("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def stderr_shows(self, text, timeout=10.0):
        """Whether `text` appears on stderr within `timeout` seconds: a line
        logged right after the server started answering may come after the
        first answer."""
        deadline = time.monotonic() + timeout
        while text not in self.stderr():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def stdout(self):
        try:
            return self.stdout_path.read_text("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def wait_ready(self, timeout=START_TIMEOUT):
        """Poll GET /healthz until 200.  Raises ServerExited if the process dies."""
        deadline = time.monotonic() + timeout
        while True:
            rc = self.proc.poll()
            if rc is not None:
                raise ServerExited(rc, self.stderr())
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                conn.request("GET", "/healthz")
                resp = conn.getresponse()
                resp.read()
                if resp.status == 200:
                    return self
            except (OSError, http.client.HTTPException):
                pass
            finally:
                conn.close()
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"gatehouse did not answer GET /healthz with 200 within {timeout}s "
                            f"on port {self.port}; stderr:\n{self.stderr()[-5000:]}")
            time.sleep(0.02)

    def stop(self, sig=signal.SIGTERM, expect=0):
        """Send `sig`, wait for the exit, assert its status (unless expect is
        None) and a clean stderr.  Returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.finished = True
                pytest.fail(f"gatehouse did not exit within {STOP_TIMEOUT}s after "
                            f"{signal.Signals(sig).name}; stderr:\n{self.stderr()[-5000:]}")
        self.finished = True
        rc = self.proc.returncode
        self.stderr_checked = True
        check_sanitizers(self.stderr(), f"gatehouse ({self.name})")
        if expect is not None:
            assert rc == expect, (f"gatehouse exited with status {rc}, expected {expect}; "
                                  f"stderr:\n{self.stderr()[-5000:]}")
        return rc

    def kill(self):
        """SIGKILL (no exit status check; stderr is still checked on teardown)."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.finished = True

    def teardown_problems(self):
        """Called by the pool on teardown: a list of failure messages."""
        problems = []
        if self.proc is None:
            return problems
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                problems.append(f"{self.name}: did not exit within {STOP_TIMEOUT}s after SIGTERM")
            else:
                if self.proc.returncode != 0:
                    problems.append(f"{self.name}: exit status {self.proc.returncode} after "
                                    f"SIGTERM, expected 0")
        elif not self.finished:
            problems.append(f"{self.name}: exited on its own during the test with status "
                            f"{self.proc.returncode}")
        self.finished = True
        text = self.stderr()
        marker = None if self.stderr_checked else sanitizer_report(text)
        if marker:
            problems.append(f"{self.name}: sanitizer report ({marker!r})")
        if problems:
            problems[-1] += f"\n--- stderr of {self.name} ---\n{text[-20000:]}"
        return problems

    # --------------------------------------------------------------- HTTP
    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def url(self, path):
        return self.base_url + path

    def request(self, method, path, **kw):
        kw.setdefault("timeout", REQUEST_TIMEOUT)
        return requests.request(method, self.url(path), **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def head(self, path, **kw):
        return self.request("HEAD", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def post_json(self, path, obj, **kw):
        return self.request("POST", path, json=obj, **kw)

    def raw(self, data, method="GET", timeout=REQUEST_TIMEOUT):
        return raw_request(self.port, data, method=method, timeout=timeout)

    def register(self, username, password=PASSWORD, **kw):
        return self.post_json("/register", {"username": username, "password": password}, **kw)

    def login(self, username, password=PASSWORD, **kw):
        return self.post_json("/login", {"username": username, "password": password}, **kw)

    def new_user(self, prefix="u", password=PASSWORD, username=None):
        """Register a fresh user; returns the registration body plus `password`."""
        username = username or unique_username(prefix)
        r = self.register(username, password)
        assert r.status_code == 200, f"register {username!r}: {r.status_code} {r.text}"
        user = r.json()
        user["password"] = password
        return user

    def token(self, username, password=PASSWORD):
        """Log in and return the access token."""
        r = self.login(username, password)
        assert r.status_code == 200, f"login {username!r}: {r.status_code} {r.text}"
        return r.json()["access_token"]

    def me(self, token, **kw):
        return self.get("/me", headers=bearer(token), **kw)

    def verify(self, token, **kw):
        return self.get("/verify", headers=bearer(token), **kw)

    # ------------------------------------------------------------- SQLite
    def sqlite(self):
        """A read-only connection to the server's SQLite file (skips the test
        when the server does not run on a SQLite file this suite created)."""
        if self.db_path is None:
            pytest.skip("the server does not use a SQLite file (GATEHOUSE_TEST_DATABASE_URL)")
        return sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=10)

    def query(self, sql, params=()):
        conn = self.sqlite()
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def stored_hash(self, username):
        rows = self.query("SELECT password_hash FROM users WHERE username_key = ?",
                          (username.lower(),))
        assert len(rows) == 1, f"expected one users row for {username!r}, got {rows}"
        return rows[0][0]


class ServerPool:
    """Starts servers for one fixture scope and checks them all on teardown."""

    def __init__(self, tmp_path_factory, label):
        self.tmp_path_factory = tmp_path_factory
        self.label = label
        self.servers = []

    def make(self, env=None, args=(), db_path=None, database_url=None, port=None,
             workdir=None, wait=True):
        """Start gatehouse and wait for /healthz.

        Defaults: HOST=127.0.0.1, PORT=<free port>, DATABASE_URL=sqlite:////<tmp>/gh.db,
        SECRET_KEY=<fixed>, BCRYPT_ROUNDS=4, throttling limits out of reach
        (THROTTLE_TEST_LIMITS).  `env` overrides them (None unsets).
        `db_path` reuses a SQLite file (restarts); `database_url` uses another
        database (db_path then stays None unless given).  `port` is the port to
        connect to when the caller chooses it through env or args.
        """
        require_binary()
        env = dict(env or {})
        workdir = Path(workdir) if workdir else self.tmp_path_factory.mktemp("gh")
        if database_url is None and "DATABASE_URL" not in env:
            db_path = Path(db_path) if db_path else workdir / "gh.db"
            database_url = sqlite_url(db_path)
        auto_port = port is None and "PORT" not in env and "--port" not in args
        if port is None and "PORT" in env and env["PORT"] is not None and "--port" not in args:
            port = int(env["PORT"])
        for attempt in range(3):
            chosen = free_port() if auto_port else port
            full = base_env()
            full.update({
                "HOST": "127.0.0.1",
                "PORT": str(chosen),
                "SECRET_KEY": SECRET_KEY,
                "BCRYPT_ROUNDS": "4",
            })
            full.update(THROTTLE_TEST_LIMITS)
            if database_url is not None:
                full["DATABASE_URL"] = database_url
            apply_overrides(full, env)
            name = f"{self.label}-{len(self.servers) + 1}"
            srv = Server(workdir, full, args, chosen, db_path, name)
            self.servers.append(srv)
            srv.start()
            if not wait:
                return srv
            try:
                return srv.wait_ready()
            except ServerExited as exc:
                srv.finished = srv.stderr_checked = True
                check_sanitizers(exc.stderr, f"gatehouse ({name})")
                in_use = "in use" in exc.stderr.lower() or "eaddrinuse" in exc.stderr.lower()
                if auto_port and in_use and attempt < 2:
                    continue
                pytest.fail(f"gatehouse exited with status {exc.returncode} during start-up "
                            f"(env overrides {env}, args {list(args)}); stderr:\n{exc.stderr[-5000:]}")
        raise AssertionError("unreachable")

    def close(self):
        problems = []
        for srv in self.servers:
            problems.extend(srv.teardown_problems())
        self.servers = []
        if problems:
            pytest.fail("\n\n".join(problems), pytrace=False)


def run_gatehouse(tmp_dir, args=(), env=None, timeout=CLI_TIMEOUT, defaults=True):
    """Run the binary to completion (for --help and configuration errors) and
    return the CompletedProcess (text).  With `defaults`, the same defaults as a
    test server are set first (free PORT, temp SQLite, fixed SECRET_KEY,
    BCRYPT_ROUNDS=4), so that a setting the binary wrongly accepts starts a
    harmless server, which is stopped and reported."""
    require_binary()
    full = base_env()
    if defaults:
        full.update({
            "HOST": "127.0.0.1",
            "PORT": str(free_port()),
            "DATABASE_URL": sqlite_url(Path(tmp_dir) / "cli.db"),
            "SECRET_KEY": SECRET_KEY,
            "BCRYPT_ROUNDS": "4",
        })
    apply_overrides(full, env)
    proc = subprocess.Popen([str(BINARY), *args], cwd=tmp_dir, env=full,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        pytest.fail(f"gatehouse {list(args)} with env {env} did not exit within {timeout}s "
                    f"(it is probably serving); stderr:\n{err.decode('utf-8', 'replace')[-5000:]}")
    result = subprocess.CompletedProcess(proc.args, proc.returncode,
                                         out.decode("utf-8", "replace"),
                                         err.decode("utf-8", "replace"))
    check_sanitizers(result.stderr, f"gatehouse {list(args)}")
    return result


# ------------------------------------------------------------ assertions
def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def media_type(resp):
    return (resp.headers.get("Content-Type") or "").split(";")[0].strip().lower()


def assert_common_headers(resp, request_id=None):
    """nosniff and X-Request-Id on every response."""
    nosniff = resp.headers.get("X-Content-Type-Options")
    assert nosniff is not None and nosniff.strip().lower() == "nosniff", \
        f"X-Content-Type-Options: {nosniff!r} on {resp.status_code}"
    rid = resp.headers.get("X-Request-Id")
    assert rid, f"no X-Request-Id on {resp.status_code}"
    if request_id is not None:
        assert rid == request_id, f"X-Request-Id {rid!r}, expected echo of {request_id!r}"
    return rid


# The members the account endpoints' 422s name (/register, /login, ...):
# assert_problem holds a 422 to them and to ERROR_CODES unless told other.
ACCOUNT_FIELDS = ("username", "password")


def _named(value, allowed):
    """value is one of allowed, or with allowed None any non-empty string."""
    if allowed is None:
        return isinstance(value, str) and value != ""
    return value in allowed


def assert_problem(resp, status, fields=ACCOUNT_FIELDS, codes=ERROR_CODES):
    """An RFC 9457 problem of `status`, the spec's shape.  A 422's errors
    each name one of `fields` with one of `codes`; None for either takes any
    non-empty string (the second-factor endpoints, whose members and codes
    are their own).  Returns the body."""
    assert resp.status_code == status, \
        f"expected {status}, got {resp.status_code}: {resp.text[:500]!r}"
    assert media_type(resp) == "application/problem+json", \
        f"Content-Type {resp.headers.get('Content-Type')!r} on {status}"
    body = json.loads(resp.content)
    assert isinstance(body, dict), body
    assert body.get("type") == "about:blank", body
    assert body.get("title") in TITLES[status], body
    assert body.get("status") == status and type(body.get("status")) is int, body
    assert isinstance(body.get("detail"), str) and body["detail"], body
    if status == 422:
        errors = body.get("errors")
        assert isinstance(errors, list) and errors, body
        for e in errors:
            assert isinstance(e, dict), body
            assert _named(e.get("field"), fields), body
            assert _named(e.get("code"), codes), body
            assert isinstance(e.get("message"), str) and e["message"], body
        first = errors[0]
        assert body["detail"] == f"{first['field']}: {first['message']}", body
    assert_common_headers(resp)
    return body


def assert_422(resp, field, code, fields=ACCOUNT_FIELDS, codes=ERROR_CODES):
    """A 422 (assert_problem with fields and codes) whose errors include
    field with code.  Returns the body."""
    body = assert_problem(resp, 422, fields, codes)
    pairs = [(e["field"], e["code"]) for e in body["errors"]]
    assert (field, code) in pairs, f"expected {field}/{code} among {pairs}: {body}"
    return body


def assert_invalid(resp, field, code):
    """assert_422 on an endpoint whose members and codes are its own (the
    second factors' and passkeys'), not the account endpoints'."""
    return assert_422(resp, field, code, fields=None, codes=None)


def assert_www_authenticate(resp, invalid_token):
    """`Bearer`, with error="invalid_token" exactly when a token was sent."""
    value = resp.headers.get("WWW-Authenticate")
    assert value is not None, f"no WWW-Authenticate on {resp.status_code}"
    assert re.match(r"^Bearer(\s|$)", value), f"WWW-Authenticate: {value!r}"
    has_error = re.search(r'error\s*=\s*"invalid_token"', value) is not None
    if invalid_token:
        assert has_error, f"WWW-Authenticate lacks error=\"invalid_token\": {value!r}"
    else:
        assert "error=" not in value, f"no token was sent, yet: {value!r}"


def assert_token_headers(resp):
    cc = resp.headers.get("Cache-Control") or ""
    assert "no-store" in [p.strip().lower() for p in cc.split(",")], f"Cache-Control: {cc!r}"
    pragma = resp.headers.get("Pragma") or ""
    assert pragma.strip().lower() == "no-cache", f"Pragma: {pragma!r}"


def allow_set(resp):
    value = resp.headers.get("Allow")
    assert value is not None, f"no Allow header on {resp.status_code}"
    return {m.strip().upper() for m in value.split(",") if m.strip()}


# ------------------------------------------------------------------- JWTs
def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_json(obj):
    return b64url(json.dumps(obj, separators=(",", ":")).encode())


def token_parts(token):
    """(header dict, payload dict, signature bytes) without verification."""
    h, p, s = token.split(".")
    return json.loads(b64url_decode(h)), json.loads(b64url_decode(p)), b64url_decode(s)


def decode_token(token, key=SECRET_KEY, **kw):
    """Verify with PyJWT (an independent implementation)."""
    return jwt.decode(token, key, algorithms=["HS256"], **kw)


DROP = object()


def resign(token, key=SECRET_KEY, algorithm="HS256", headers=None, **changes):
    """Re-sign a real token's claims with PyJWT after `changes` (DROP removes
    a claim).  Starting from a real token keeps sub/sid/jti genuine, so the
    only defect of a forged token is the one the test introduces."""
    claims = dict(token_parts(token)[1])
    for name, value in changes.items():
        if value is DROP:
            claims.pop(name, None)
        else:
            claims[name] = value
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)
