#!/usr/bin/python3
"""Costs as the users grow: the same loads with a small and a large user table, in one run.

    make build/gatehouse
    /usr/bin/python3 bench/scale.py [--small 1000] [--large 1000000] [--database-url URL]
    scripts/with-pg.sh sh -c '/usr/bin/python3 bench/scale.py --database-url "$GATEHOUSE_TEST_DATABASE_URL"'

Steps, each timed:
  1. gatehouse migrate on an empty database (a fresh SQLite file unless --database-url).
  2. gatehouse users import of --small users (CSV, one bcrypt hash of cost --bcrypt-rounds shared by
     every row: the import checks each row's hash format, never the password).
  3. start-up (exec -> first 200 on /healthz), idle RSS, then GET /me (64 conns), GET /verify
     (64 conns) and POST /login (8 conns, round-robin over 1,000 users spread over the table).
  4. import more users up to --large, and 3. again; the database size per user at each size.
  5. --revoked N (SQLite only): N revoked sessions in the revocations table, then start-up,
     idle RSS and /verify again: the memory per revoked session in the in-memory set.
Prints a markdown table and writes JSON (--json). The hashes are cheap on purpose (cost 4,
BCRYPT_ROUNDS=4 so no login rehashes): login throughput then shows the database's share.
"""
import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fastpath  # noqa: E402
import run  # noqa: E402


def bcrypt_hash(password, rounds):
    """A $2b$ hash from the system's crypt(3), through the stdlib (deprecated, present in 3.11)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
    return crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=2 ** rounds))


def gh(args, env, *argv, stdin=None, timeout=3600):
    t0 = time.monotonic()
    r = subprocess.run([args.gatehouse_bin, *argv, "--database-url", args.database_url], env=env,
                       input=stdin, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise run.BenchError(f"gatehouse {' '.join(argv)}: exit {r.returncode}: {r.stderr.strip()[-500:]}")
    return time.monotonic() - t0


def import_users(args, env, tmp, start, stop, hsh):
    path = os.path.join(tmp, "users.csv")
    with open(path, "w") as f:
        f.write("username,password_hash\n")
        for i in range(start, stop):
            f.write(f"bench.u{i:07d},{hsh}\n")
    s = gh(args, env, "users", "import", path)
    os.unlink(path)
    run.log(f"imported users {start}..{stop - 1} in {s:.1f} s ({(stop - start) / s:,.0f} rows/s)")
    return s


def db_bytes(args, tmp):
    if args.database_url.startswith("sqlite:///"):
        p = args.database_url[len("sqlite:///"):]
        return sum(os.path.getsize(p + sfx) for sfx in ("", "-wal") if os.path.exists(p + sfx))
    # PostgreSQL: the whole database, as the SQLite figure is the whole file, through Debian's psql
    # (postgresql-client, installed with the test dependencies); None without it.
    if shutil.which("psql") is None:
        return None
    r = subprocess.run(["psql", "-XAtc", "SELECT pg_database_size(current_database())", args.database_url],
                       capture_output=True, text=True)
    return int(r.stdout.strip()) if r.returncode == 0 and r.stdout.strip().isdigit() else None


def startup_ms(server):
    run.wait_port_free(server.port)
    t0 = time.perf_counter()
    server.start()
    return round(1000 * (time.perf_counter() - t0), 1)


def loads(args, env, tmp, n, label):
    server = run.Server("gatehouse", [args.gatehouse_bin, "--port", str(args.port), "--host", run.HOST,
                                      "--database-url", args.database_url], env, args.port, tmp)
    out = {"users": n, "label": label}
    out["startup_ms"] = startup_ms(server)
    try:
        time.sleep(1.0)
        out["idle_rss_mib"] = round(run.rss_kb(server.pids()) / 1024, 2)
        step = max(1, n // 1000)
        names = [f"bench.u{i:07d}" for i in range(0, n, step)][:1000]
        users_file = os.path.join(tmp, "login-users.txt")
        run.write_users_file(users_file, names)
        token = run.login_token(args.port, names[-1])
        run.check_get(args.port, "/me", token, 200)
        for name, conns, sargs in (("/me", 64, ["get", token, "/me"]),
                                   ("/verify", 64, ["get", token, "/verify"]),
                                   ("login", 8, ["login", users_file])):
            a = argparse.Namespace(**{**vars(args), "conns": conns})
            r = fastpath.measure(server, a, sargs)
            out[name] = {k: r[k] for k in ("rps", "p50_ms", "p99_ms", "errors", "srv_cpu_pct",
                                           "peak_rss_mib", "other_cpu_pct")}
            run.log(f"{label:>10s} {name:8s} {r['rps']:>10.1f} req/s  p99 {r['p99_ms']:.2f} ms  "
                    f"err {r['errors']}  other {r['other_cpu_pct']}%")
    finally:
        server.stop()
    return out


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--small", type=int, default=1000)
    ap.add_argument("--large", type=int, default=1000000)
    ap.add_argument("--revoked", type=int, default=100000, help="SQLite only; 0 skips (100000)")
    ap.add_argument("--database-url", default=None, help="an empty database (default: a fresh SQLite file)")
    ap.add_argument("--bcrypt-rounds", type=int, default=4)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--port", type=int, default=8013)
    ap.add_argument("--gatehouse-bin", default=os.path.join(run.ROOT, "build", "gatehouse"))
    ap.add_argument("--max-other-cpu", type=float, default=25.0)
    ap.add_argument("--quiet-wait", type=float, default=60.0)
    ap.add_argument("--json", default="/tmp/gh-scale.json")
    args = ap.parse_args(argv)

    tmp = tempfile.mkdtemp(prefix="gh-scale-")
    if args.database_url is None:
        args.database_url = f"sqlite:///{os.path.join(tmp, 'gh.db')}"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "PORT", "HOST")}
    env.update(run.NO_THROTTLE)
    env.update({"SECRET_KEY": run.GH_SECRET, "BCRYPT_ROUNDS": str(args.bcrypt_rounds)})
    hsh = bcrypt_hash(run.PASSWORD, args.bcrypt_rounds)
    R = {"args": vars(args), "steps": {}, "sizes": []}
    R["steps"]["migrate_s"] = round(gh(args, env, "migrate"), 2)
    R["steps"]["import_small_s"] = round(import_users(args, env, tmp, 0, args.small, hsh), 2)
    small = loads(args, env, tmp, args.small, "small")
    small["db_bytes"] = db_bytes(args, tmp)
    R["sizes"].append(small)
    R["steps"]["import_large_s"] = round(import_users(args, env, tmp, args.small, args.large, hsh), 2)
    large = loads(args, env, tmp, args.large, "large")
    large["db_bytes"] = db_bytes(args, tmp)
    R["sizes"].append(large)

    if args.revoked and args.database_url.startswith("sqlite:///"):
        con = sqlite3.connect(args.database_url[len("sqlite:///"):])
        until = int(time.time()) + 86400
        with con:
            con.executemany("INSERT INTO revocations (session_id, until) VALUES (?, ?)",
                            ((f"bench-revoked-{i:07d}-{os.urandom(8).hex()}", until)
                             for i in range(args.revoked)))
        con.close()
        rv = loads(args, env, tmp, args.large, f"revoked{args.revoked}")
        rv["revoked"] = args.revoked
        rv["rss_per_revoked_bytes"] = round(1024 * 1024 * (rv["idle_rss_mib"] - large["idle_rss_mib"])
                                            / args.revoked, 1)
        R["sizes"].append(rv)

    print(f"\ndatabase: {args.database_url.split('@')[-1]}; {args.duration} s per load; "
          f"BCRYPT_ROUNDS={args.bcrypt_rounds}")
    print(f"- migrate {R['steps']['migrate_s']} s; import {args.small:,} users "
          f"{R['steps']['import_small_s']} s; import {args.large - args.small:,} more "
          f"{R['steps']['import_large_s']} s")
    print("\n| users | start-up ms | idle RSS MiB | DB bytes/user | /me req/s | /me p99 ms | "
          "/verify req/s | /verify p99 ms | login/s | login p99 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for s in R["sizes"]:
        per = f"{s['db_bytes'] / s['users']:.0f}" if s.get("db_bytes") else ""
        print(f"| {s['label']} {s['users']:,} | {s['startup_ms']} | {s['idle_rss_mib']} | {per} | "
              f"{s['/me']['rps']:,.0f} | {s['/me']['p99_ms']:.2f} | {s['/verify']['rps']:,.0f} | "
              f"{s['/verify']['p99_ms']:.2f} | {s['login']['rps']:,.0f} | {s['login']['p99_ms']:.2f} |")
    for k in ("/me", "/verify", "login"):
        print(f"- {k}: large/small {100.0 * large[k]['rps'] / small[k]['rps']:.0f}%")
    if len(R["sizes"]) > 2:
        print(f"- memory per revoked session: {R['sizes'][2]['rss_per_revoked_bytes']} bytes "
              f"(idle RSS difference / {args.revoked:,})")
    with open(args.json, "w") as f:
        json.dump(R, f, indent=1)
    shutil.rmtree(tmp, ignore_errors=True)  # a million users' SQLite file is 150 MB
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except run.BenchError as e:
        print(f"scale.py: {e}", file=sys.stderr)
        sys.exit(1)
