#!/usr/bin/python3
"""GET /verify with access rules in one run: 0, 10 and 100 rules, beside the bare server.

    make build/gatehouse build/bench-bare
    /usr/bin/python3 bench/verify_rules.py                   # defaults below
    /usr/bin/python3 bench/verify_rules.py --duration 15 --callgrind --json /tmp/rules.json

One gatehouse on a fresh SQLite file (TRUSTED_PROXIES=127.0.0.1, every limit that would stop
one client off: run.NO_THROTTLE), restarted for each rules file with the same database and
SECRET_KEY, so that one access token serves every run. Every GET /verify carries that token and
the original request as a proxy sends it (X-Forwarded-Method GET, -Proto https, -Host, -Uri
/api/v1/items?page=2), so /verify parses it, normalises the path and walks the rules.

The rules files are made here: rule i names host app<i>.example.com (exact; every fourth one
*.app<i>.example.com), the paths /api/ and /static/<i>/**, the methods GET and POST, and a
policy that varies (authenticated, two_factor, roles ["ops"], public): what a deployment with
many applications behind one gatehouse writes. The last rule is app<N-1>.example.com with
policy authenticated.

  0 rules     no ACCESS_RULES_FILE (DEFAULT_POLICY authenticated): the cost of the forwarded
              headers alone.
  N last      N rules, the request for app<N-1>.example.com: every rule before the last is
              tried (its hosts compared) and the last one decides.
  N none      N rules, the request for other.example.org: every rule tried, none matches,
              DEFAULT_POLICY decides.
  ceiling     build/bench-bare under the same wrk load (the same request, headers included):
              what the HTTP layer alone can do on this machine.

Each is one wrk run of --duration s (-c --conns, -t --threads) after a --warmup s unrecorded
one; the table gives req/s, p50, p99 and the ratio to 0 rules. --callgrind adds the
instructions of one /verify for each (bench/callgrind_verify.py with the same settings and
headers, the median of --callgrind-runs runs): repeatable on a busy machine where req/s are
not. Standard library only (and wrk,
valgrind for --callgrind).
"""
import argparse
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402

SECRET = "bench-verify-rules-secret-key-0123456789-abcdef"
POLICIES = ("authenticated", "two_factor", "roles", "public")


def rules(n):
    """n rules as described above; the last names app<n-1>.example.com, policy authenticated."""
    out = []
    for i in range(n):
        host = f"*.app{i}.example.com" if i % 4 == 3 else f"app{i}.example.com"
        rule = {"hosts": [host], "paths": ["/api/", f"/static/{i}/**"], "methods": ["GET", "POST"]}
        kind = "authenticated" if i == n - 1 else POLICIES[i % 4]
        if kind == "roles":
            rule.update(policy="authenticated", roles=["ops"])
        else:
            rule["policy"] = kind
        out.append(rule)
    return out


def forwarded(host):
    return [("X-Forwarded-Method", "GET"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", host),
            ("X-Forwarded-Uri", "/api/v1/items?page=2")]


def cases(tmp, counts):
    """(label, rules file or None, original host) for each run of gatehouse."""
    out = [("0 rules", None, "app0.example.com")]
    for n in counts:
        path = os.path.join(tmp, f"rules{n}.json")
        with open(path, "w") as f:
            json.dump(rules(n), f, indent=1)
        out.append((f"{n} rules, last matches", path, f"app{n - 1}.example.com"))
        out.append((f"{n} rules, none matches", path, "other.example.org"))
    return out


def gh_env(rules_file):
    env = dict(os.environ)
    env.update({"SECRET_KEY": SECRET, "BCRYPT_ROUNDS": "4", "LOG_LEVEL": "error",
                "TRUSTED_PROXIES": "127.0.0.1"})
    env.update(run.NO_THROTTLE)
    env.pop("ACCESS_RULES_FILE", None)
    if rules_file:
        env["ACCESS_RULES_FILE"] = rules_file
    return env


def load(args, port, token, host, want):
    """A warm-up, then the recorded wrk run."""
    extra = [f"{k}: {v}" for k, v in forwarded(host)]
    if args.warmup:
        p, cmd = run.start_wrk(port, args.conns, args.warmup, args.threads, 30, ["get", token, "/verify", *extra])
        run.collect_wrk(p, cmd, args.warmup, 30)
    p, cmd = run.start_wrk(port, args.conns, args.duration, args.threads, 30, ["get", token, "/verify", *extra])
    w = run.collect_wrk(p, cmd, args.duration, 30)
    if w["errors"]:
        raise run.BenchError(f"{w['errors']} errors (want {want} only): {w['errors_detail']}")
    return w


def check(port, token, host, want):
    c = http.client.HTTPConnection(run.HOST, port, timeout=30)
    c.request("GET", "/verify", headers={"Authorization": f"Bearer {token}", **dict(forwarded(host))})
    r = c.getresponse()
    r.read()
    c.close()
    if r.status != want:
        raise run.BenchError(f"GET /verify for {host}: {r.status}, want {want}")


def instructions(args, rules_file, host):
    """The median of --callgrind-runs counts: a run now and then includes work of a
    background thread (the janitor's purge, a WAL checkpoint) that the two-count
    difference of callgrind_verify.py does not cancel."""
    runs = sorted(one_count(args, rules_file, host) for _ in range(args.callgrind_runs))
    return runs[len(runs) // 2], runs


def one_count(args, rules_file, host):
    cmd = [sys.executable, os.path.join(run.ROOT, "bench", "callgrind_verify.py"), "--bin", args.gatehouse_bin,
           "--env", "TRUSTED_PROXIES=127.0.0.1"]
    if rules_file:
        cmd += ["--env", f"ACCESS_RULES_FILE={rules_file}"]
    for k, v in forwarded(host):
        cmd += ["--header", f"{k}: {v}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return int(re.search(r"([\d,]+) instructions per request", out).group(1).replace(",", ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gatehouse-bin", default=os.path.join(run.ROOT, "build", "gatehouse"))
    ap.add_argument("--bare-bin", default=os.path.join(run.ROOT, "build", "bench-bare"))
    ap.add_argument("--port", type=int, default=18451)
    ap.add_argument("--rules", default="10,100", help="rule counts besides 0 (comma-separated)")
    ap.add_argument("--conns", type=int, default=32)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--callgrind", action="store_true", help="also count instructions per /verify")
    ap.add_argument("--callgrind-runs", type=int, default=3, help="callgrind counts per case (the median)")
    ap.add_argument("--json")
    args = ap.parse_args()
    if not os.access(args.bare_bin, os.X_OK):
        raise run.BenchError(f"no executable {args.bare_bin}; build it with: make build/bench-bare")
    args.gatehouse_bin = os.path.abspath(args.gatehouse_bin)

    tmp = tempfile.mkdtemp(prefix="gh-bench-rules-")
    db = os.path.join(tmp, "gh.db")
    cmd = [args.gatehouse_bin, "--host", run.HOST, "--port", str(args.port), "--database-url", f"sqlite:///{db}"]
    counts = [int(n) for n in args.rules.split(",") if n]
    rows, token, servers = [], None, []
    try:
        for label, rules_file, host in cases(tmp, counts):
            server = run.Server("gatehouse", cmd, gh_env(rules_file), args.port, tmp)
            servers.append(server)
            server.start()
            if token is None:
                user = {"username": f"rules.{run.rand_tag()}", "password": run.PASSWORD}
                st, _, text = run.http_call(args.port, "POST", "/register", user)
                if st != 200:
                    raise run.BenchError(f"/register: {st} {text[:200]}")
                st, js, text = run.http_call(args.port, "POST", "/login", user)
                if st != 200:
                    raise run.BenchError(f"/login: {st} {text[:200]}")
                token = js["access_token"]
            check(args.port, token, host, 204)
            w = load(args, args.port, token, host, 204)
            server.stop()
            row = {"case": label, "rules": rules_file and os.path.basename(rules_file), "host": host,
                   **{k: w[k] for k in ("requests", "rps", "p50_ms", "p99_ms", "wrk_cmd")}}
            run.log(f"{label}: {w['rps']} req/s, p50 {w['p50_ms']} ms, p99 {w['p99_ms']} ms")
            if args.callgrind:
                row["instructions"], row["instruction_runs"] = instructions(args, rules_file, host)
                run.log(f"{label}: {row['instructions']:,} instructions per /verify "
                        f"(median of {row['instruction_runs']})")
            rows.append(row)
        bare = run.Server("bare", [args.bare_bin, str(args.port + 1)], dict(os.environ), args.port + 1, tmp,
                          ready_path="/")
        servers.append(bare)
        bare.start()
        w = load(args, args.port + 1, token, "app0.example.com", 200)
        rows.append({"case": "ceiling: bench-bare", **{k: w[k] for k in ("requests", "rps", "p50_ms", "p99_ms",
                                                                        "wrk_cmd")}})
        run.log(f"ceiling: {w['rps']} req/s, p99 {w['p99_ms']} ms")
        if args.callgrind:
            out = subprocess.run([sys.executable, os.path.join(run.ROOT, "bench", "callgrind_verify.py"), "--bare"]
                                 + sum((["--header", f"{k}: {v}"] for k, v in forwarded("app0.example.com")), []),
                                 capture_output=True, text=True, check=True).stdout
            rows[-1]["instructions"] = int(re.search(r"([\d,]+) instructions", out).group(1).replace(",", ""))
    finally:
        run.stop_everything(servers)
    base = rows[0]
    print("| case | req/s | vs 0 rules | p50 ms | p99 ms |" + (" instructions/request | vs 0 rules |"
                                                              if args.callgrind else ""))
    print("|---|---|---|---|---|" + ("---|---|" if args.callgrind else ""))
    for r in rows:
        line = (f"| {r['case']} | {r['rps']:,.0f} | {r['rps'] / base['rps']:.3f} | {r['p50_ms']} | "
                f"{r['p99_ms']} |")
        if args.callgrind:
            line += f" {r['instructions']:,} | {r['instructions'] / base['instructions']:.3f} |"
        print(line)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    try:
        main()
    except run.BenchError as e:
        print(f"bench/verify_rules.py: {e}", file=sys.stderr)
        sys.exit(1)
