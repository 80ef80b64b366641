#!/usr/bin/python3
"""POST /login/mfa in one run: the second factor of a sign-in, right and wrong.

    make build/gatehouse
    /usr/bin/python3 bench/mfa.py                        # defaults below
    /usr/bin/python3 bench/mfa.py --accounts 400 --conns 16 --duration 15 --json /tmp/mfa.json

One gatehouse on a fresh SQLite file (BCRYPT_ROUNDS=4: the logins that make mfa_tokens are set-up,
not what is measured), every limit that would stop one client off (run.NO_THROTTLE). Set-up: --accounts accounts
registered, TOTP enrolled and confirmed on each (codes computed here from RFC 6238 with the
standard library, not by gatehouse), their recovery codes kept (10 each); then one POST /login per
recovery code, each answering mfa_required with a fresh mfa_token (each /login hashes a password,
so this happens before anything is timed).

  ok        every (mfa_token, recovery code of its account) pair sent once, by --conns client
            threads on keep-alive connections: requests/s over the whole batch, p50 and p99 of
            the answers (each a 200 with a new session). Recovery codes, not TOTP codes: a TOTP
            code is accepted once per account per step, so a load of right TOTP answers would
            need as many accounts as requests every 30 s; a recovery code's check is a keyed
            hash and a single-use UPDATE, a TOTP code's an HMAC-SHA-1 per step tried and a
            compare-and-set of the step: the same order of cost beside the session it opens.
            The clients are Python threads, so this figure is a floor of what gatehouse does.
  wrong     wrk -c --conns for --duration s over --wrong-tokens fresh mfa_tokens with a wrong
            TOTP code each (round-robin): every answer a 401. A token takes 5 wrong answers and
            is then spent (its later answers are the cheaper 401 of a dead token), so the
            report gives how many of the requests found their token still live.
  ceiling   the same wrk run (connections, threads, duration, bodies) against build/bench-bare,
            a bare server on the same HTTP library that answers every request with a fixed
            hello: what the HTTP layer alone can do on this machine, beside the wrong-code run.

Prints a table and, with --json, writes every figure. Standard library only (and wrk).
"""
import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import sqlite3
import statistics
import struct
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402


def totp(secret_b32, at=None, step=30, digits=6):
    """RFC 6238 with SHA-1 (RFC 4226 §5.3's truncation)."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = int((time.time() if at is None else at) // step)
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    value = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 10 ** digits
    return f"{value:0{digits}d}"


def gh_env(args):
    env = dict(os.environ)
    env.update({
        "SECRET_KEY": "bench-mfa-secret-key-0123456789-0123456789-abcdef",
        "BCRYPT_ROUNDS": "4",
        "LOG_LEVEL": "error",
    })
    env.update(run.NO_THROTTLE)
    for kv in args.gh_env:
        k, _, v = kv.partition("=")
        env[k] = v
    return env


def call(port, method, path, body=None, token=None, want=200):
    st, js, text = run.http_call(port, method, path, body, token=token, timeout=60)
    if st != want:
        raise run.BenchError(f"{method} {path}: HTTP {st} {text[:300]}")
    return js


def enrol(port, name):
    """Registers name, turns TOTP on; returns its recovery codes."""
    call(port, "POST", "/register", {"username": name, "password": run.PASSWORD})
    tok = call(port, "POST", "/login", {"username": name, "password": run.PASSWORD})["access_token"]
    secret = call(port, "POST", "/me/mfa/totp", {"password": run.PASSWORD}, token=tok)["secret"]
    # The step before now's: the server accepts it, and it is never now's.
    codes = call(port, "POST", "/me/mfa/totp/confirm", {"code": totp(secret, time.time() - 30)},
                 token=tok)["recovery_codes"]
    return secret, codes


def mfa_token(port, name):
    js = call(port, "POST", "/login", {"username": name, "password": run.PASSWORD})
    if not js.get("mfa_required"):
        raise run.BenchError(f"/login {name}: no mfa_required: {js}")
    return js["mfa_token"]


def fire(port, bodies, conns):
    """Sends each body once to POST /login/mfa from conns threads; per-request ms and the span."""
    lat, lock, errors = [], threading.Lock(), []
    it = iter(bodies)
    headers = {"Content-Type": "application/json"}

    def worker():
        c = http.client.HTTPConnection(run.HOST, port, timeout=60)
        mine = []
        while True:
            with lock:
                b = next(it, None)
            if b is None:
                break
            t0 = time.perf_counter()
            c.request("POST", "/login/mfa", b, headers)
            r = c.getresponse()
            r.read()
            mine.append((time.perf_counter() - t0) * 1000)
            if r.status != 200:
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gatehouse-bin", default=os.path.join(run.ROOT, "build", "gatehouse"))
    ap.add_argument("--port", type=int, default=18431)
    ap.add_argument("--accounts", type=int, default=200, help="accounts with TOTP on (10 recovery codes each)")
    ap.add_argument("--conns", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2, help="wrk threads")
    ap.add_argument("--duration", type=int, default=10, help="seconds of the wrong-code wrk run")
    ap.add_argument("--wrong-tokens", type=int, default=4000, help="mfa_tokens for the wrong-code run")
    ap.add_argument("--bare-bin", default=os.path.join(run.ROOT, "build", "bench-bare"))
    ap.add_argument("--gh-env", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--json")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="gh-bench-mfa-")
    db = os.path.join(tmp, "gh.db")
    cmd = [args.gatehouse_bin, "--host", run.HOST, "--port", str(args.port), "--database-url",
           f"sqlite:///{db}"]
    server = run.Server("gatehouse", cmd, gh_env(args), args.port, tmp)
    bare = run.Server("bare", [args.bare_bin, str(args.port + 1)], dict(os.environ), args.port + 1,
                      tmp, ready_path="/")
    if not os.access(args.bare_bin, os.X_OK):
        raise run.BenchError(f"no executable {args.bare_bin}; build it with: make build/bench-bare")
    res = {"accounts": args.accounts, "conns": args.conns}
    try:
        server.start()
        names = [f"mfa.{run.rand_tag()}.{i}" for i in range(args.accounts)]
        t0 = time.monotonic()
        with ThreadPoolExecutor(max_workers=4) as ex:
            enrolled = dict(zip(names, ex.map(lambda n: enrol(args.port, n), names)))
        run.log(f"{args.accounts} accounts with TOTP on in {time.monotonic() - t0:.1f} s")

        # ok: one fresh mfa_token per recovery code, made before the clock starts.
        pairs = [(n, c) for n in names for c in enrolled[n][1]]
        t0 = time.monotonic()
        with ThreadPoolExecutor(max_workers=4) as ex:
            toks = list(ex.map(lambda p: mfa_token(args.port, p[0]), pairs))
        run.log(f"{len(toks)} mfa_tokens in {time.monotonic() - t0:.1f} s")
        bodies = [json.dumps({"mfa_token": t, "recovery_code": c}) for t, (_, c) in zip(toks, pairs)]
        lat, span, errors = fire(args.port, bodies, args.conns)
        if errors:
            raise run.BenchError(f"{len(errors)} of {len(bodies)} right answers refused: {errors[:5]}")
        res["ok"] = {"requests": len(bodies), "rps": round(len(bodies) / span, 1),
                     "p50_ms": round(statistics.median(lat), 3), "p99_ms": round(pct(lat, 99), 3)}
        run.log(f"ok: {res['ok']['rps']} req/s, p50 {res['ok']['p50_ms']} ms, "
                f"p99 {res['ok']['p99_ms']} ms over {len(bodies)} sign-ins")

        # wrong: wrk over fresh tokens, each with a code its account's secret never gives now.
        with ThreadPoolExecutor(max_workers=4) as ex:
            wtoks = list(ex.map(lambda i: mfa_token(args.port, names[i % len(names)]),
                                range(args.wrong_tokens)))
        body_file = os.path.join(tmp, "wrong.jsonl")
        with open(body_file, "w") as f:
            for i, t in enumerate(wtoks):
                secret = enrolled[names[i % len(names)]][0]
                near = {totp(secret, time.time() + d) for d in (-90, -60, -30, 0, 30, 60, 90)}
                bad = next(c for c in (f"{k:06d}" for k in range(10 ** 6)) if c not in near)
                f.write(json.dumps({"mfa_token": t, "code": bad}) + "\n")
        p, wcmd = run.start_wrk(args.port, args.conns, args.duration, args.threads, 30,
                                ["post", body_file, "/login/mfa"])
        w = run.collect_wrk(p, wcmd, args.duration, 30)
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30) as c:
            wrong_live = c.execute("SELECT COALESCE(SUM(attempts), 0) FROM mfa_flows "
                                   "WHERE used_at IS NULL").fetchone()[0]
        res["wrong"] = {k: w[k] for k in ("requests", "rps", "p50_ms", "p99_ms", "wrk_cmd")}
        res["wrong"]["non_401_or_errors"] = w["errors"] - w["errors_detail"]["status"]
        res["wrong"]["answered_as_wrong_code"] = wrong_live
        run.log(f"wrong: {w['rps']} req/s, p50 {w['p50_ms']} ms, p99 {w['p99_ms']} ms; "
                f"{wrong_live} wrong codes counted on live tokens (wrk counts only the answers it "
                f"got before it stopped; the others found their token spent)")
        server.stop()

        # ceiling: the same load on the bare server of the same HTTP library.
        bare.start()
        p, bcmd = run.start_wrk(args.port + 1, args.conns, args.duration, args.threads, 30,
                                ["post", body_file, "/login/mfa"])
        b = run.collect_wrk(p, bcmd, args.duration, 30)
        res["ceiling"] = {k: b[k] for k in ("requests", "rps", "p50_ms", "p99_ms", "wrk_cmd")}
        run.log(f"ceiling (bench-bare): {b['rps']} req/s, p50 {b['p50_ms']} ms, p99 {b['p99_ms']} ms")
    finally:
        run.stop_everything([server, bare])
    print(f"| what | requests | req/s | p50 ms | p99 ms |\n|---|---|---|---|---|\n"
          f"| right recovery code (200, new session) | {res['ok']['requests']} | {res['ok']['rps']} | "
          f"{res['ok']['p50_ms']} | {res['ok']['p99_ms']} |\n"
          f"| wrong TOTP code (401; {res['wrong']['answered_as_wrong_code']} on a live token) | "
          f"{res['wrong']['requests']} | {res['wrong']['rps']} | {res['wrong']['p50_ms']} | "
          f"{res['wrong']['p99_ms']} |\n"
          f"| ceiling: bench-bare, the same wrk run | {res['ceiling']['requests']} | "
          f"{res['ceiling']['rps']} | {res['ceiling']['p50_ms']} | {res['ceiling']['p99_ms']} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    try:
        main()
    except run.BenchError as e:
        print(f"bench/mfa.py: {e}", file=sys.stderr)
        sys.exit(1)
