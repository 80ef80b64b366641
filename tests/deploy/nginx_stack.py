"""Debian's nginx with examples/nginx/gatehouse.conf, in front of gatehouse
and of a tiny application, all on loopback and free ports.

The configuration is the shipped file with four replacements and nothing
else (each must match exactly once, so a changed file fails loudly):
    server 127.0.0.1:8000;   -> gatehouse's port
    server 127.0.0.1:9000;   -> the application's port
    listen 8080;             -> listen 127.0.0.1:<free port>;
    /etc/nginx/gatehouse/signin.html -> examples/nginx/signin.html here
A main nginx.conf of our own includes it inside `http {}`, as Debian's
/etc/nginx/nginx.conf includes conf.d/*.conf, with the pid file, logs and
temporary directories in a scratch directory. As root, the workers run as
root too (`user root root;`), so that they can read the repository.

gatehouse runs with SESSION_COOKIES=1 and COOKIE_SECURE=0 (plain HTTP on
loopback) on a temporary SQLite database, with the access rules of
examples/access-rules.json (paths the rules do not name stay
DEFAULT_POLICY's: authenticated). The application answers every
request 200 with JSON: its method, path and the headers it received, as
a list of [name, value] pairs, and records it.

Used by tests/deploy/test_nginx.py (in process) and by
tests/browser/nginx.test.mjs, which runs this file: it prints one JSON line
({"base": "http://127.0.0.1:PORT", "gatehouse": ..., "app": ...}) once
everything answers, and stops everything when its standard input closes or
it gets SIGTERM.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "examples" / "nginx" / "gatehouse.conf"
SIGNIN = REPO / "examples" / "nginx" / "signin.html"
RULES = REPO / "examples" / "access-rules.json"
NGINX = os.environ.get("NGINX_BIN", "/usr/sbin/nginx")
SECRET_KEY = "gatehouse-nginx-test-secret-key-0123456789-abcdef"
START_TIMEOUT = 15.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def render_conf(gatehouse_port, app_port, listen_port, signin_path):
    text = CONF.read_text()
    for old, new in (
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{gatehouse_port};"),
        ("server 127.0.0.1:9000;", f"server 127.0.0.1:{app_port};"),
        ("listen 8080;", f"listen 127.0.0.1:{listen_port};"),
        ("/etc/nginx/gatehouse/signin.html", str(signin_path)),
    ):
        n = text.count(old)
        if n != 1:
            raise AssertionError(f"{CONF}: {old!r} occurs {n} times, the test replaces exactly one")
        text = text.replace(old, new)
    return text


class _EchoHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        seen = {"method": self.command, "path": self.path, "headers": list(self.headers.items())}
        self.server.seen.append(seen)
        body = json.dumps(seen, indent=1).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer

    def log_message(self, *args):
        pass


def _wait(what, probe, proc=None, timeout=START_TIMEOUT):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode}")
        try:
            if probe():
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not start within {timeout} s")


def _connects(port):
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


def _healthy(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
        return r.status == 200


class Stack:
    def __init__(self, workdir, gatehouse_bin=None, gatehouse_env=None):
        self.dir = Path(workdir)
        self.bin = gatehouse_bin or os.environ.get("GATEHOUSE_BIN") or str(REPO / "build" / "gatehouse")
        self.extra_env = gatehouse_env or {}
        self.gatehouse = self.nginx = self.app = None

    # ------------------------------------------------------------ start
    def start(self):
        try:
            self._start_app()
            self._start_gatehouse()
            self._start_nginx()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_app(self):
        self.app = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
        self.app.seen = []
        self.app.daemon_threads = True
        self.app_port = self.app.server_address[1]
        threading.Thread(target=self.app.serve_forever, daemon=True).start()

    def _start_gatehouse(self):
        self.gatehouse_port = free_port()
        self.db_path = self.dir / "gatehouse.db"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GATEHOUSE_", "PG"))}
        env.update(
            HOST="127.0.0.1",
            PORT=str(self.gatehouse_port),
            DATABASE_URL=f"sqlite:///{self.db_path}",
            SECRET_KEY=SECRET_KEY,
            BCRYPT_ROUNDS="4",
            SESSION_COOKIES="1",
            COOKIE_SECURE="0",
            # As the README advises behind nginx: the clients nginx names in
            # X-Forwarded-For are the ones throttling counts, and /verify
            # believes the original request nginx names.
            TRUSTED_PROXIES="127.0.0.1",
            ACCESS_RULES_FILE=str(RULES),
        )
        env.update(self.extra_env)
        self.gatehouse_log = open(self.dir / "gatehouse.log", "wb")
        self.gatehouse = subprocess.Popen(
            [self.bin], env=env, stdin=subprocess.DEVNULL, stdout=self.gatehouse_log, stderr=subprocess.STDOUT
        )
        _wait("gatehouse", lambda: _healthy(self.gatehouse_port), self.gatehouse)

    def _start_nginx(self):
        self.port = free_port()
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.dir / "tmp" / sub).mkdir(parents=True, exist_ok=True)
        (self.dir / "gatehouse.conf").write_text(
            render_conf(self.gatehouse_port, self.app_port, self.port, SIGNIN)
        )
        d = self.dir
        user = "user root root;\n" if os.geteuid() == 0 else ""
        (d / "nginx.conf").write_text(
            f"""{user}worker_processes 1;
error_log {d}/error.log info;
events {{ worker_connections 256; }}
http {{
    access_log {d}/access.log;
    default_type application/octet-stream;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    include {d}/gatehouse.conf;
}}
"""
        )
        args = [NGINX, "-p", str(d), "-e", str(d / "error.log"), "-c", str(d / "nginx.conf")]
        check = subprocess.run(args + ["-t"], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"nginx -t refused the configuration:\n{check.stderr}")
        self.nginx = subprocess.Popen(
            args + ["-g", f"daemon off; pid {d}/nginx.pid;"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        _wait("nginx", lambda: _connects(self.port), self.nginx)
        self.base = f"http://127.0.0.1:{self.port}"
        self.gatehouse_base = f"http://127.0.0.1:{self.gatehouse_port}"

    # ------------------------------------------------------------- stop
    def stop(self):
        """Stops what runs; returns gatehouse's exit status (None if never started)."""
        status = None
        if self.nginx is not None and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)
            try:
                self.nginx.wait(10)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait()
        if self.gatehouse is not None:
            if self.gatehouse.poll() is None:
                self.gatehouse.send_signal(signal.SIGTERM)
                try:
                    self.gatehouse.wait(20)
                except subprocess.TimeoutExpired:
                    self.gatehouse.kill()
                    self.gatehouse.wait()
            status = self.gatehouse.returncode
            self.gatehouse_log.close()
        if self.app is not None:
            self.app.shutdown()
            self.app.server_close()
        return status

    def logs(self):
        out = []
        for name in ("error.log", "gatehouse.log"):
            p = self.dir / name
            if p.exists():
                out.append(f"--- {name}\n{p.read_text(errors='replace')[-4000:]}")
        return "\n".join(out)


def serve(make_stack, name):
    """Runs a stack made by make_stack(work directory) until SIGTERM or the
    end of standard input, after printing its addresses as one JSON line:
    what the browser tests start (python3 tests/deploy/NAME_stack.py)."""
    work = tempfile.mkdtemp(prefix=f"gatehouse-{name}-")
    stack = make_stack(work)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        stack.start()
        print(json.dumps({"base": stack.base, "gatehouse": stack.gatehouse_base,
                          "app": f"http://127.0.0.1:{stack.app_port}"}), flush=True)
        threading.Thread(target=lambda: (sys.stdin.read(), stopping.set()), daemon=True).start()
        stopping.wait()
    except Exception as e:
        print(f"{name}_stack: {e}\n{stack.logs()}", file=sys.stderr)
        return 1
    finally:
        status = stack.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0 if status == 0 else 1


def main():
    return serve(Stack, "nginx")


if __name__ == "__main__":
    sys.exit(main())
