"""Debian's Caddy (2.6) with examples/caddy/Caddyfile, in front of gatehouse
and of the echoing application of nginx_stack.py, all on loopback and free
ports.

The configuration is the shipped file with three replacements and nothing
else (each must match its count exactly, so a changed file fails loudly):
    reverse_proxy 127.0.0.1:8000, forward_auth 127.0.0.1:8000
                           -> gatehouse's port
    reverse_proxy 127.0.0.1:9000 -> the application's port
    :8080 {                -> :<free port> {  bind 127.0.0.1 (loopback only)
Caddy runs in the foreground with HOME and its XDG directories in a scratch
directory (it writes its autosave and data there); the file keeps its
admin endpoint off.

gatehouse runs as under nginx (nginx_stack.py: SESSION_COOKIES=1,
COOKIE_SECURE=0, TRUSTED_PROXIES=127.0.0.1, examples/access-rules.json) with
PUBLIC_URL set to Caddy's address, where its sign-in page is.

Used by tests/deploy/test_caddy.py (in process) and by
tests/browser/caddy.test.mjs, which runs this file: it prints one JSON line
({"base": ..., "gatehouse": ..., "app": ...}) once everything answers, and
stops everything when its standard input closes or it gets SIGTERM.
"""
import os
import signal
import subprocess
import sys
from pathlib import Path

import nginx_stack
from nginx_stack import REPO, free_port

CONF = REPO / "examples" / "caddy" / "Caddyfile"
CADDY = os.environ.get("CADDY_BIN", "/usr/bin/caddy")


def render_conf(gatehouse_port, app_port, listen_port):
    text = CONF.read_text()
    for old, new, count in (
        ("reverse_proxy 127.0.0.1:8000\n", f"reverse_proxy 127.0.0.1:{gatehouse_port}\n", 1),
        ("forward_auth 127.0.0.1:8000 {", f"forward_auth 127.0.0.1:{gatehouse_port} {{", 1),
        ("reverse_proxy 127.0.0.1:9000\n", f"reverse_proxy 127.0.0.1:{app_port}\n", 1),
        ("\n:8080 {\n", f"\n:{listen_port} {{\n\tbind 127.0.0.1\n", 1),
    ):
        n = text.count(old)
        if n != count:
            raise AssertionError(f"{CONF}: {old!r} occurs {n} times, the test replaces it {count}")
        text = text.replace(old, new)
    return text


class Stack(nginx_stack.Stack):
    """The nginx stack's application and gatehouse, with Caddy for nginx."""

    def start(self):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.extra_env = {"PUBLIC_URL": self.base, **self.extra_env}
        try:
            self._start_app()
            self._start_gatehouse()
            self._start_caddy()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_caddy(self):
        d = self.dir
        (d / "Caddyfile").write_text(render_conf(self.gatehouse_port, self.app_port, self.port))
        env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
        env.update(HOME=str(d), XDG_CONFIG_HOME=str(d / "config"), XDG_DATA_HOME=str(d / "data"))
        self.caddy_log = open(d / "caddy.log", "wb")
        self.nginx = subprocess.Popen(
            [CADDY, "run", "--config", str(d / "Caddyfile"), "--adapter", "caddyfile"],
            env=env, cwd=d, stdin=subprocess.DEVNULL, stdout=self.caddy_log, stderr=subprocess.STDOUT,
        )
        nginx_stack._wait("caddy", lambda: nginx_stack._connects(self.port), self.nginx)
        self.gatehouse_base = f"http://127.0.0.1:{self.gatehouse_port}"

    def stop(self):
        # nginx_stack.Stack.stop sends SIGQUIT to self.nginx; Caddy stops on SIGTERM.
        caddy, self.nginx = self.nginx, None
        if caddy is not None and caddy.poll() is None:
            caddy.send_signal(signal.SIGTERM)
            try:
                caddy.wait(10)
            except subprocess.TimeoutExpired:
                caddy.kill()
                caddy.wait()
        if caddy is not None:
            self.caddy_log.close()
        return super().stop()

    def logs(self):
        out = [super().logs()]
        p = self.dir / "caddy.log"
        if p.exists():
            out.append(f"--- caddy.log\n{p.read_text(errors='replace')[-4000:]}")
        return "\n".join(out)


def main():
    return nginx_stack.serve(lambda work: Stack(Path(work)), "caddy")


if __name__ == "__main__":
    sys.exit(main())
