#!/usr/bin/python3
"""The fast path against its ceiling, in one run: GET /verify on gatehouse against the bare
libmicrohttpd server of bench/bare.c (same daemon settings), both at the same connection count.

    make build/gatehouse build/bench-bare
    /usr/bin/python3 bench/fastpath.py [--duration 15] [--conns 64] [--tokens 10000] [--rounds 2] [--h2o]
    /usr/bin/python3 bench/fastpath.py --baseline /tmp/gh-base/build/gatehouse --no-bare --rounds 5

Loads, each after a warm-up, alternating bare and gatehouse for --rounds rounds:
  bare-1      bench-bare, the same request as verify-1 (it ignores the header)
  h2o-1       with --h2o: bench-bare-h2o (bench/bare_h2o.c, the same hello on libh2o-evloop), the
              same request; also h2o-N after bare-N. Its ratio is to bare of the same round
  verify-1    gatehouse GET /verify with one token (one user's page loads)
  bare-N      bench-bare, round-robin over the N token requests
  verify-N    gatehouse GET /verify round-robin over N distinct valid tokens (many users), so
              that no per-token cache can hide the cold path
  base-1, base-N  with --baseline PATH: the same two loads on another gatehouse binary (an older
              build), in the same round: the report gives verify ÷ base per round and its median
              over the rounds. Odd rounds run base before gatehouse, even rounds after, so that a
              drift of the machine over the run does not favour one. --no-bare leaves out bare-*.
The N tokens are minted here with the run's fixed SECRET_KEY, as gatehouse would mint them (the
header and claims of a real token from /login, with a fresh sub, username, jti and sid each).
Prints a markdown table (req/s, p50, p99, server CPU, peak RSS, ratio to bare) and writes the
full results as JSON (--json). Stdlib only; wrk with bench/gatehouse.lua.
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import shutil
import secrets
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the harness's process, wrk and sampling helpers)

BARE = os.path.join(run.ROOT, "build", "bench-bare")
BARE_H2O = os.path.join(run.ROOT, "build", "bench-bare-h2o")


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64u_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def mint_tokens(model, secret, n):
    """n tokens shaped like the real token `model`, signed with HS256 and `secret`."""
    head, payload, _ = model.split(".")
    claims = json.loads(b64u_dec(payload))
    out = []
    for i in range(n):
        c = dict(claims)
        c["sub"] = str(1000000 + i)
        c["username"] = f"bench.user.{i}"
        c["jti"] = secrets.token_hex(16)
        c["sid"] = secrets.token_hex(16)
        body = b64u(json.dumps(c, separators=(",", ":")).encode())
        mac = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
        out.append(f"{head}.{body}.{b64u(mac)}")
    return out


def measure(server, args, sargs):
    """Warm-up, then one recorded wrk load; the row with server CPU and peak RSS."""
    pids = server.pids()
    if not pids:
        raise run.BenchError(f"{server.name} is not running:\n{server.log_tail()}")
    run.wait_server_idle(pids)
    p, cmd = run.start_wrk(server.port, args.conns, args.warmup, args.wrk_threads, 30, sargs)
    run.collect_wrk(p, cmd, args.warmup, 30)
    other = run.wait_quiet(pids, args.max_other_cpu, args.quiet_wait)
    smp = run.Sampler(pids)
    smp.start()
    try:
        p, cmd = run.start_wrk(server.port, args.conns, args.duration, args.wrk_threads, 30, sargs)
        o = run.collect_wrk(p, cmd, args.duration, 30)
    finally:
        res = smp.finish()
    return {**o, **res, "other_cpu_pct_before": other, "cmd": cmd}


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=int, default=15, help="seconds per recorded load (15)")
    ap.add_argument("--warmup", type=int, default=3, help="unrecorded seconds before each load (3)")
    ap.add_argument("--conns", type=int, default=64, help="connections (64)")
    ap.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (2)")
    ap.add_argument("--tokens", type=int, default=10000, help="distinct tokens for the -N loads (10000)")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds of all loads (2)")
    ap.add_argument("--port", type=int, default=8012, help="port of both servers, one at a time")
    ap.add_argument("--gatehouse-bin", default=os.path.join(run.ROOT, "build", "gatehouse"))
    ap.add_argument("--gh-env", action="append", default=[], metavar="K=V",
                    help="extra environment for gatehouse (repeatable), e.g. ALGORITHM=EdDSA")
    ap.add_argument("--max-other-cpu", type=float, default=25.0)
    ap.add_argument("--quiet-wait", type=float, default=60.0)
    ap.add_argument("--h2o", action="store_true",
                    help="also the bare hello on libh2o-evloop (build/bench-bare-h2o) after each bare load")
    ap.add_argument("--baseline", default=None, metavar="PATH",
                    help="another gatehouse binary measured in the same rounds (base-1, base-N), e.g. a build "
                         "of the commit before a change")
    ap.add_argument("--no-bare", action="store_true", help="leave out the bare server's loads")
    ap.add_argument("--json", default="/tmp/gh-fastpath.json")
    args = ap.parse_args(argv)
    if args.no_bare and args.h2o:
        ap.error("--h2o compares with the bare loads: not with --no-bare")

    for b in ([] if args.no_bare else [BARE]) + [args.gatehouse_bin] + ([args.baseline] if args.baseline else []):
        if not os.access(b, os.X_OK):
            raise run.BenchError(f"no executable {b}; build it with: make build/gatehouse build/bench-bare")
    if args.h2o and not os.access(BARE_H2O, os.X_OK):
        raise run.BenchError(f"no executable {BARE_H2O}; build it with: make build/bench-bare-h2o "
                             "(needs apt-get install libh2o-evloop-dev)")
    tmp = tempfile.mkdtemp(prefix="gh-fastpath-")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "PORT", "HOST")}
    env.update(run.NO_THROTTLE)
    env.update({"SECRET_KEY": run.GH_SECRET, "BCRYPT_ROUNDS": "4"})
    for kv in args.gh_env:
        k, _, v = kv.partition("=")
        env[k] = v
    gh = run.Server("gatehouse", [args.gatehouse_bin, "--port", str(args.port), "--host", run.HOST,
                                  "--database-url", f"sqlite:///{os.path.join(tmp, 'gh.db')}"],
                    env, args.port, tmp)
    base = None
    if args.baseline:
        base = run.Server("base", [args.baseline, "--port", str(args.port), "--host", run.HOST,
                                   "--database-url", f"sqlite:///{os.path.join(tmp, 'base.db')}"],
                          env, args.port, tmp)
    bare = run.Server("bare", [BARE, str(args.port)], dict(os.environ), args.port, tmp, ready_path="/")
    h2o = run.Server("h2o", [BARE_H2O, str(args.port)], dict(os.environ), args.port, tmp, ready_path="/")

    # One user and a real token; then the N minted ones, checked on gatehouse before use.
    gh.start()
    try:
        st, _, text = run.http_call(args.port, "POST", "/register",
                                    {"username": "bench.fast", "password": run.PASSWORD})
        if st != 200:
            raise run.BenchError(f"register: HTTP {st} {text[:200]}")
        token = run.login_token(args.port, "bench.fast")
        run.check_get(args.port, "/verify", token, 204)
        many = []
        if args.tokens > 0:
            if "ALGORITHM" in env and env["ALGORITHM"] != "HS256":
                raise run.BenchError("--tokens needs HS256 (it mints with SECRET_KEY); use --tokens 0")
            many = mint_tokens(token, run.GH_SECRET, args.tokens)
            for t in (many[0], many[-1], many[len(many) // 2]):
                run.check_get(args.port, "/verify", t, 204)
    finally:
        gh.stop()
    if base is not None:  # the same tokens must pass the baseline build (same key, same checks)
        base.start()
        try:
            for t in [token] + many[:1] + many[-1:]:
                run.check_get(args.port, "/verify", t, 204)
        finally:
            base.stop()
    tokens_file = os.path.join(tmp, "tokens.txt")
    with open(tokens_file, "w") as f:
        f.write("\n".join(many) + "\n")

    loads = [("bare-1", bare, ["get", token, "/verify"]), ("h2o-1", h2o, ["get", token, "/verify"]),
             ("base-1", base, ["get", token, "/verify"]), ("verify-1", gh, ["get", token, "/verify"])]
    if many:
        loads += [(f"bare-{len(many)}", bare, ["tokens", tokens_file, "/verify"]),
                  (f"h2o-{len(many)}", h2o, ["tokens", tokens_file, "/verify"]),
                  (f"base-{len(many)}", base, ["tokens", tokens_file, "/verify"]),
                  (f"verify-{len(many)}", gh, ["tokens", tokens_file, "/verify"])]
    if not args.h2o:
        loads = [ld for ld in loads if ld[1] is not h2o]
    if args.no_bare:
        loads = [ld for ld in loads if ld[1] is not bare]
    loads = [ld for ld in loads if ld[1] is not None]
    rows = []
    for rnd in range(1, args.rounds + 1):
        order = list(loads)
        if rnd % 2 == 0:  # base after gatehouse in even rounds
            for i in range(len(order) - 1):
                if order[i][1] is base and order[i + 1][1] is gh:
                    order[i], order[i + 1] = order[i + 1], order[i]
        for label, server, sargs in order:
            server.start()
            try:
                r = measure(server, args, sargs)
            finally:
                server.stop()
            r.update({"round": rnd, "load": label})
            rows.append(r)
            run.log(f"round {rnd} {label:14s} {r['rps']:>10.1f} req/s  p50 {r['p50_ms']:.2f} ms  "
                    f"p99 {r['p99_ms']:.2f} ms  err {r['errors']}  srvCPU {r['srv_cpu_pct']}%  "
                    f"peakRSS {r['peak_rss_mib']} MiB  other {r['other_cpu_pct']}%")

    print(f"\nmachine: {run.platform.processor() or run.platform.machine()}, {run.cores()} cores; "
          f"{args.conns} connections, {args.duration} s per load, {args.rounds} round(s), "
          f"gatehouse env {sorted(k for k in env if k in ('ALGORITHM', 'HTTP_THREADS'))}")
    def same_round(r, kind):
        return next((b for b in rows if b["round"] == r["round"] and b["load"].startswith(kind + "-")
                     and b["load"].split("-")[1] == r["load"].split("-")[1]), None)

    if base is not None:
        print(f"baseline: {args.baseline}; gatehouse: {args.gatehouse_bin}")
    print("\n| round | load | req/s | p50 ms | p99 ms | errors | server CPU % | peak RSS MiB | vs bare | vs base |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        ref, bref = same_round(r, "bare"), same_round(r, "base")
        ratio = f"{100.0 * r['rps'] / ref['rps']:.0f}%" if ref and ref["rps"] else ""
        bratio = f"{r['rps'] / bref['rps']:.3f}" if bref and bref["rps"] and r["load"].startswith("verify-") else ""
        r["vs_base"] = round(r["rps"] / bref["rps"], 4) if bratio else None
        print(f"| {r['round']} | {r['load']} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
              f"{r['errors']} | {r['srv_cpu_pct']} | {r['peak_rss_mib']} | {ratio} | {bratio} |")
    for lab in sorted({r["load"] for r in rows}):
        v = [r["rps"] for r in rows if r["load"] == lab]
        print(f"- {lab}: median {statistics.median(v):,.0f} req/s over {len(v)} round(s)")
    for lab in sorted({r["load"] for r in rows if r.get("vs_base") is not None}):
        v = [r["vs_base"] for r in rows if r["load"] == lab and r.get("vs_base") is not None]
        print(f"- {lab} ÷ base in the same round: median {statistics.median(v):.3f} "
              f"(rounds {', '.join(f'{x:.3f}' for x in v)}; spread {min(v):.3f}-{max(v):.3f})")
    with open(args.json, "w") as f:
        json.dump({"args": vars(args), "rows": rows, "time": time.time()}, f, indent=1)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except run.BenchError as e:
        print(f"fastpath.py: {e}", file=sys.stderr)
        sys.exit(1)
