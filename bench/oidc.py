#!/usr/bin/python3
"""POST /token as an OpenID Connect provider in one run: code exchanges and client_credentials.

    make build/gatehouse build/bench-bare
    /usr/bin/python3 bench/oidc.py                        # defaults below
    /usr/bin/python3 bench/oidc.py --codes 4000 --conns 16 --duration 15 --json /tmp/oidc.json

One gatehouse as a provider (PUBLIC_URL set, its RS256 key made beside a fresh SQLite file,
BCRYPT_ROUNDS=4, every limit that would stop one client off: run.NO_THROTTLE), one confidential
first-party client added with `gatehouse clients add` (client_secret_post, so that every request
of a run is a plain form), one account signed in once through the hosted form (GET /signin for
its CSRF token, POST /signin), whose gatehouse_sso cookie then makes each GET /authorize answer
at once with a code (no password, no consent).

  code      --codes codes made by GET /authorize beforehand (4 threads, not timed), then each
            exchanged once (grant_type=authorization_code: the code checked and spent, a session
            opened, an RS256 access token and an RS256 ID token signed) by --conns Python client
            threads on keep-alive connections: exchanges/s over the whole batch, p50, p99. A
            code lives 60 s, so the batch is made and spent within that (the run says how long
            the making took, and refuses a batch that would not fit). The clients are Python
            threads, so this figure is a floor of what gatehouse does; "code ceiling" is the
            same batch by the same threads against the bare server.
  cc        wrk -c --conns for --duration s of grant_type=client_credentials (one RS256 access
            token each, no session, no database write), every answer a 200.
  ceiling   the same wrk run (connections, threads, duration, bodies) against build/bench-bare,
            a bare server on the same HTTP library that answers every request with a fixed
            hello: what the HTTP layer alone can do on this machine.

Beside Keycloak's published sizing (120 client-credential grants/s per vCPU), the issue's goal
is at least ten times that per core: the table gives cc grants/s per core of this machine.
Prints a table and, with --json, writes every figure. Standard library only (and wrk).
"""
import argparse
import html.parser
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402

CLIENT_ID = "bench"
REDIRECT = "http://127.0.0.1/callback"
KEYCLOAK_CC_PER_VCPU = 120  # Keycloak's sizing guide: client-credential grants/s per vCPU
CODE_TTL = 60               # seconds a code lives (API.md)


def gh_env(args, port, db):
    env = dict(os.environ)
    env.update({
        "SECRET_KEY": "bench-oidc-secret-key-0123456789-0123456789-abcdef",
        "BCRYPT_ROUNDS": "4",
        "LOG_LEVEL": "error",
        "PUBLIC_URL": f"http://{run.HOST}:{port}",
        "COOKIE_SECURE": "0",
        "DATABASE_URL": f"sqlite:///{db}",
    })
    env.update(run.NO_THROTTLE)
    for kv in args.gh_env:
        k, _, v = kv.partition("=")
        env[k] = v
    return env


def add_client(args, env):
    """`gatehouse clients add`; returns the secret it printed."""
    out = subprocess.run([args.gatehouse_bin, "clients", "add", "bench", "--id", CLIENT_ID,
                          "--redirect-uri", REDIRECT, "--first-party"],
                         env=env, capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise run.BenchError(f"gatehouse clients add: exit {out.returncode}: {out.stderr[-500:]}")
    for line in out.stdout.splitlines():
        if line.startswith("client_secret: "):
            return line[len("client_secret: "):]
    raise run.BenchError(f"gatehouse clients add printed no client_secret: {out.stdout!r}")


def wait_enabled(port, max_wait=10.0):
    """Discovery answers 404 until the running server sees the client (within 1 s)."""
    end = time.monotonic() + max_wait
    while True:
        st, _, _ = run.http_call(port, "GET", "/.well-known/openid-configuration")
        if st == 200:
            return
        if time.monotonic() > end:
            raise run.BenchError(f"discovery still answers {st}")
        time.sleep(0.1)


class _Inputs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.inputs = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            self.inputs[a["name"]] = a.get("value") or ""


def cookies_of(resp):
    return {v.split("=", 1)[0]: v.split(";", 1)[0].split("=", 1)[1]
            for k, v in resp.getheaders() if k.lower() == "set-cookie"}


def sign_in(port, name):
    """The hosted form as a browser fills it; returns the gatehouse_sso cookie."""
    c = http.client.HTTPConnection(run.HOST, port, timeout=60)
    c.request("GET", "/signin")
    r = c.getresponse()
    p = _Inputs()
    p.feed(r.read().decode())
    jar = cookies_of(r)
    form = dict(p.inputs, username=name, password=run.PASSWORD)
    c.request("POST", "/signin", urllib.parse.urlencode(form),
              {"Content-Type": "application/x-www-form-urlencoded",
               "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())})
    r = c.getresponse()
    r.read()
    c.close()
    sso = cookies_of(r).get("gatehouse_sso")
    if not sso:
        raise run.BenchError(f"POST /signin: HTTP {r.status} and no gatehouse_sso cookie")
    return sso


AUTHORIZE = "/authorize?" + urllib.parse.urlencode({
    "response_type": "code", "client_id": CLIENT_ID, "redirect_uri": REDIRECT,
    "scope": "openid profile", "state": "bench"})


def make_codes(port, sso, n):
    def some(k):
        c = http.client.HTTPConnection(run.HOST, port, timeout=60)
        got = []
        for _ in range(k):
            c.request("GET", AUTHORIZE, headers={"Cookie": f"gatehouse_sso={sso}"})
            r = c.getresponse()
            r.read()
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(r.getheader("Location") or "").query)
            if r.status not in (302, 303) or "code" not in q:
                raise run.BenchError(f"GET /authorize: HTTP {r.status} {r.getheader('Location')}")
            got.append(q["code"][0])
        c.close()
        return got

    with ThreadPoolExecutor(max_workers=4) as ex:
        return [code for part in ex.map(some, [n // 4 + (i < n % 4) for i in range(4)])
                for code in part]


def fire(port, bodies, conns, want=200):
    """Sends each form body once to POST /token from conns threads; per-request ms and the span."""
    lat, lock, errors = [], threading.Lock(), []
    it = iter(bodies)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    def worker():
        c = http.client.HTTPConnection(run.HOST, port, timeout=60)
        mine = []
        while True:
            with lock:
                b = next(it, None)
            if b is None:
                break
            t0 = time.perf_counter()
            c.request("POST", "/token", b, headers)
            r = c.getresponse()
            r.read()
            mine.append((time.perf_counter() - t0) * 1000)
            if want is not None and r.status != want:
                errors.append(r.status)
        c.close()
        with lock:
            lat.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(conns)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return lat, time.monotonic() - t0, errors


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def batch_figures(lat, span):
    return {"requests": len(lat), "rps": round(len(lat) / span, 1),
            "p50_ms": round(statistics.median(lat), 3), "p99_ms": round(pct(lat, 99), 3)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gatehouse-bin", default=os.path.join(run.ROOT, "build", "gatehouse"))
    ap.add_argument("--port", type=int, default=18441)
    ap.add_argument("--codes", type=int, default=3000, help="codes made, then exchanged once each")
    ap.add_argument("--conns", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2, help="wrk threads")
    ap.add_argument("--duration", type=int, default=10, help="seconds of the client_credentials run")
    ap.add_argument("--bare-bin", default=os.path.join(run.ROOT, "build", "bench-bare"))
    ap.add_argument("--gh-env", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--json")
    args = ap.parse_args()

    if not os.access(args.bare_bin, os.X_OK):
        raise run.BenchError(f"no executable {args.bare_bin}; build it with: make build/bench-bare")
    tmp = tempfile.mkdtemp(prefix="gh-bench-oidc-")
    db = os.path.join(tmp, "gh.db")
    env = gh_env(args, args.port, db)
    cmd = [args.gatehouse_bin, "--host", run.HOST, "--port", str(args.port)]
    server = run.Server("gatehouse", cmd, env, args.port, tmp)
    bare = run.Server("bare", [args.bare_bin, str(args.port + 1)], dict(os.environ), args.port + 1,
                      tmp, ready_path="/")
    res = {"codes": args.codes, "conns": args.conns, "cores": run.cores()}
    try:
        server.start()
        secret = add_client(args, env)
        wait_enabled(args.port)
        name = f"oidc.{run.rand_tag()}"
        st, _, text = run.http_call(args.port, "POST", "/register",
                                    {"username": name, "password": run.PASSWORD})
        if st != 200:
            raise run.BenchError(f"POST /register: HTTP {st} {text[:300]}")
        sso = sign_in(args.port, name)

        # code: a batch made, then spent within the codes' 60 s.
        t0 = time.monotonic()
        codes = make_codes(args.port, sso, args.codes)
        made = time.monotonic() - t0
        run.log(f"{len(codes)} codes from GET /authorize in {made:.1f} s")
        if made > CODE_TTL / 2:
            raise run.BenchError(f"making {args.codes} codes took {made:.1f} s, too close to their "
                                 f"{CODE_TTL} s; run again with fewer --codes")
        auth = {"client_id": CLIENT_ID, "client_secret": secret}
        bodies = [urllib.parse.urlencode({"grant_type": "authorization_code", "code": c,
                                          "redirect_uri": REDIRECT, **auth}) for c in codes]
        lat, span, errors = fire(args.port, bodies, args.conns)
        if errors:
            raise run.BenchError(f"{len(errors)} of {len(bodies)} exchanges refused: {errors[:5]}")
        res["code"] = batch_figures(lat, span)
        res["code"]["making_s"] = round(made, 2)
        run.log(f"code: {res['code']['rps']} exchanges/s, p50 {res['code']['p50_ms']} ms, "
                f"p99 {res['code']['p99_ms']} ms over {len(bodies)} codes")

        # cc: wrk over one body (a client_credentials request is the same every time).
        body_file = os.path.join(tmp, "cc.form")
        with open(body_file, "w") as f:
            f.write(urllib.parse.urlencode({"grant_type": "client_credentials", **auth}) + "\n")
        p, wcmd = run.start_wrk(args.port, args.conns, args.duration, args.threads, 30,
                                ["form", body_file, "/token"])
        w = run.collect_wrk(p, wcmd, args.duration, 30)
        if w["errors"]:
            raise run.BenchError(f"client_credentials: {w['errors']} errors: {w['errors_detail']}")
        res["cc"] = {k: w[k] for k in ("requests", "rps", "p50_ms", "p99_ms", "wrk_cmd")}
        res["cc"]["per_core"] = round(w["rps"] / res["cores"], 1)
        res["cc"]["vs_keycloak_per_core"] = round(res["cc"]["per_core"] / KEYCLOAK_CC_PER_VCPU, 1)
        run.log(f"cc: {w['rps']} grants/s ({res['cc']['per_core']} per core, "
                f"{res['cc']['vs_keycloak_per_core']}x Keycloak's {KEYCLOAK_CC_PER_VCPU}/vCPU), "
                f"p50 {w['p50_ms']} ms, p99 {w['p99_ms']} ms")
        server.stop()

        # ceiling: the same loads on the bare server of the same HTTP library.
        bare.start()
        p, bcmd = run.start_wrk(args.port + 1, args.conns, args.duration, args.threads, 30,
                                ["form", body_file, "/token"])
        b = run.collect_wrk(p, bcmd, args.duration, 30)
        res["ceiling"] = {k: b[k] for k in ("requests", "rps", "p50_ms", "p99_ms", "wrk_cmd")}
        lat, span, _ = fire(args.port + 1, bodies, args.conns, want=None)
        res["code_ceiling"] = batch_figures(lat, span)
        run.log(f"ceiling (bench-bare): wrk {b['rps']} req/s; the code batch's threads "
                f"{res['code_ceiling']['rps']} req/s")
    finally:
        run.stop_everything([server, bare])
    c, cc, ce, cc_ceil = res["code"], res["cc"], res["ceiling"], res["code_ceiling"]
    print("| what | requests | req/s | p50 ms | p99 ms |\n|---|---|---|---|---|\n"
          f"| authorization_code exchange (code spent, session, access + ID token) | "
          f"{c['requests']} | {c['rps']} | {c['p50_ms']} | {c['p99_ms']} |\n"
          f"| code ceiling: the same batch and threads against bench-bare | {cc_ceil['requests']} | "
          f"{cc_ceil['rps']} | {cc_ceil['p50_ms']} | {cc_ceil['p99_ms']} |\n"
          f"| client_credentials grant ({cc['per_core']}/s per core of {res['cores']}; "
          f"{cc['vs_keycloak_per_core']}x Keycloak's {KEYCLOAK_CC_PER_VCPU}/vCPU) | "
          f"{cc['requests']} | {cc['rps']} | {cc['p50_ms']} | {cc['p99_ms']} |\n"
          f"| ceiling: bench-bare, the same wrk run | {ce['requests']} | {ce['rps']} | "
          f"{ce['p50_ms']} | {ce['p99_ms']} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    try:
        main()
    except run.BenchError as e:
        print(f"bench/oidc.py: {e}", file=sys.stderr)
        sys.exit(1)
