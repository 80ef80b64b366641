#!/usr/bin/python3
"""Instructions per GET /verify, counted by valgrind's callgrind: repeatable whatever else the
machine is doing, so an A/B of two builds holds on a busy machine where req/s would not.

    /usr/bin/python3 bench/callgrind_verify.py [--bin build/gatehouse] [--alg HS256|EdDSA|ES256|RS256]
                                               [--tokens 1|N] [--bare] [--rules FILE]
                                               [--env NAME=VALUE]... [--header "Name: value"]...

The server runs under callgrind twice, serving --small and then --large requests on one keep-alive
connection after the same start-up (register, login); the difference of the two totals divided by
the difference of the counts is the cost of one request, start-up and shutdown cancelled out.
--tokens N sends N distinct valid tokens round-robin (HS256: minted with the run's SECRET_KEY),
--rules FILE serves with ACCESS_RULES_FILE=FILE (the /verify request itself is judged: no proxy),
--bare measures build/bench-bare instead (the same request; it answers 200 with a fixed body).
--env adds a setting of the server (ACCESS_RULES_FILE=...), --header a header of every GET /verify
(the original request's X-Forwarded-*: bench/verify_rules.py).
Note that callgrind counts each iteration of `rep stosb` as an instruction: libmicrohttpd's zeroing
of its 48 KiB connection pool, about 1 µs of real time, shows as ~74k of each request's count.
"""
import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fastpath  # noqa: E402  (token minting)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET = "gatehouse-bench-fixed-secret-key-0123456789"
PASSWORD = "Callgrind-user-pass-77!"


def wait_ready(port, path):
    for _ in range(600):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("GET", path)
            c.getresponse().read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("callgrind_verify: the server did not answer")


def one_run(a, n, tmp):
    out = os.path.join(tmp, f"callgrind.{n}.out")
    env = dict(os.environ, SECRET_KEY=SECRET, BCRYPT_ROUNDS="4")
    env.update(kv.split("=", 1) for kv in a.env)
    if a.bare:
        cmd = [os.path.join(ROOT, "build", "bench-bare"), str(a.port)]
    else:
        db = os.path.join(tmp, f"gh{n}.db")
        cmd = [a.bin, "--port", str(a.port), "--host", "127.0.0.1", "--database-url", f"sqlite:///{db}"]
        if a.alg != "HS256":
            env.update(ALGORITHM=a.alg, JWT_PRIVATE_KEY_FILE=a.keyfile)
        if a.rules:
            env.update(ACCESS_RULES_FILE=os.path.abspath(a.rules))
    p = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *cmd], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(a.port, "/healthz")
        c = http.client.HTTPConnection("127.0.0.1", a.port, timeout=120)
        tokens = ["x" * 250]
        if not a.bare:
            body = json.dumps({"username": "callgrind.user", "password": PASSWORD})
            hdr = {"Content-Type": "application/json"}
            c.request("POST", "/register", body, hdr)
            c.getresponse().read()
            c.request("POST", "/login", body, hdr)
            tokens = [json.loads(c.getresponse().read())["access_token"]]
            if a.tokens > 1:
                tokens = fastpath.mint_tokens(tokens[0], SECRET, a.tokens)
        want = 200 if a.bare else 204
        extra = dict(h.split(":", 1) for h in a.header)
        extra = {k.strip(): v.strip() for k, v in extra.items()}
        for i in range(n):
            c.request("GET", "/verify", headers={"Authorization": "Bearer " + tokens[i % len(tokens)], **extra})
            r = c.getresponse()
            r.read()
            if r.status != want:
                raise SystemExit(f"callgrind_verify: GET /verify answered {r.status}")
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=120)
    with open(out) as f:
        for ln in f:
            if ln.startswith(("summary:", "totals:")):
                return int(ln.split()[1])
    raise SystemExit("callgrind_verify: no totals in " + out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "gatehouse"))
    ap.add_argument("--alg", default="HS256", choices=["HS256", "EdDSA", "ES256", "RS256"])
    ap.add_argument("--tokens", type=int, default=1)
    ap.add_argument("--bare", action="store_true")
    ap.add_argument("--rules", metavar="FILE", help="ACCESS_RULES_FILE for the server")
    ap.add_argument("--small", type=int, default=200)
    ap.add_argument("--large", type=int, default=1200)
    ap.add_argument("--port", type=int, default=18790)
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--header", action="append", default=[], metavar="NAME: VALUE")
    ap.add_argument("--keep", metavar="DIR", help="keep the callgrind outputs here (for callgrind_annotate)")
    a = ap.parse_args()
    if a.tokens > 1 and a.alg != "HS256":
        ap.error("--tokens N mints HS256 tokens only")
    tmp = a.keep or tempfile.mkdtemp(prefix="gh-callgrind-")
    os.makedirs(tmp, exist_ok=True)
    if a.alg != "HS256" and not a.bare:
        a.keyfile = os.path.join(tmp, "signing.pem")
        subprocess.run([a.bin, "keys", "generate", "--alg", a.alg, "--out", a.keyfile], check=True,
                       capture_output=True)
    small, large = one_run(a, a.small, tmp), one_run(a, a.large, tmp)
    what = "bench-bare" if a.bare else f"{os.path.relpath(a.bin, ROOT)} {a.alg}, {a.tokens} token(s)"
    if a.rules and not a.bare:
        what += f", rules {a.rules}"
    print(f"{(large - small) / (a.large - a.small):,.0f} instructions per request ({what})")
    if not a.keep:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
