#!/usr/bin/python3
"""Start-up time against the size of the users table: 1,000 users against 1,000,000, on SQLite and
on PostgreSQL, in one run, with the ratio of the two.

    make build/gatehouse
    /usr/bin/python3 bench/startup.py                      # SQLite, then a throwaway PostgreSQL
    /usr/bin/python3 bench/startup.py --db sqlite --starts 9
    /usr/bin/python3 bench/startup.py --db pg --database-url postgresql://...   # an empty database of yours

For each database: gatehouse migrate on an empty one (a fresh SQLite file; PostgreSQL from
scripts/pg-test.sh, loopback, fsync off, destroyed at the end, unless --database-url), then
gatehouse users import of --small users (CSV; one bcrypt hash of cost 4 shared by every row), one
login for an access token, and --starts cold starts timed two ways, alternating:
  /verify   exec -> the first 204 on GET /verify with that token (a fresh connection per poll,
            as run.py's coldstart): when the server answers its first request
  /readyz   exec -> the first 200 on GET /readyz: when it answers with the database reachable
Then users are imported up to --large and the same starts are timed again. The report gives the
median, min and max of each, and large ÷ small of the medians (the goal of issue 18: within 10%).
Every start is a new process on the same database; the first start after an import is not
counted apart (the file and the cluster's pages are warm from the import either way).
Works on any build that has `users import` (CSV): the figure before and after a change to
start-up comes from the same command. Stdlib only.
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402
import scale  # noqa: E402  (bcrypt_hash, gh, import_users)
import scaleout  # noqa: E402  (pg, pg_start: scripts/pg-test.sh)


def time_starts(args, env, tmp, token):
    """--starts cold starts to /verify and as many to /readyz, alternating; ms lists."""
    server = run.Server("gatehouse", [args.gatehouse_bin, "--port", str(args.port), "--host", run.HOST,
                                      "--database-url", args.database_url], env, args.port, tmp)
    out = {"/verify": [], "/readyz": []}
    for _ in range(args.starts):
        for path in out:
            t, _ = run.cold_start(server, path, token, args.max_wait)
            out[path].append(round(1000 * t, 1))
    return out


def first_token(args, env, tmp, name):
    server = run.Server("gatehouse", [args.gatehouse_bin, "--port", str(args.port), "--host", run.HOST,
                                      "--database-url", args.database_url], env, args.port, tmp)
    server.start()
    try:
        token = run.login_token(args.port, name)
        run.check_get(args.port, "/verify", token, 204)
    finally:
        server.stop()
    return token


def one_database(args, env, tmp, kind):
    """migrate, import small, time; import up to large, time. Returns the result dict."""
    hsh = scale.bcrypt_hash(run.PASSWORD, 4)
    res = {"database": kind, "sizes": []}
    scale.gh(args, env, "migrate")
    imported = 0
    for n in (args.small, args.large):
        s = scale.import_users(args, env, tmp, imported, n, hsh)
        res.setdefault("import_s", []).append(round(s, 2))
        imported = n
        if n == args.small:
            token = first_token(args, env, tmp, "bench.u0000000")
        ms = time_starts(args, env, tmp, token)
        row = {"users": n}
        for path, v in ms.items():
            row[path] = {"median_ms": round(statistics.median(v), 1), "min_ms": min(v), "max_ms": max(v), "all_ms": v}
        res["sizes"].append(row)
        run.log(f"{kind} {n:>9,} users: start-up to /verify median {row['/verify']['median_ms']} ms "
                f"{ms['/verify']}, to /readyz median {row['/readyz']['median_ms']} ms")
    small, large = res["sizes"]
    res["ratio"] = {p: round(large[p]["median_ms"] / small[p]["median_ms"], 3) for p in ("/verify", "/readyz")}
    return res


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", default="sqlite,pg", help="databases, in order: sqlite, pg or both (sqlite,pg)")
    ap.add_argument("--small", type=int, default=1000)
    ap.add_argument("--large", type=int, default=1000000)
    ap.add_argument("--starts", type=int, default=7, help="timed starts per path and size (7)")
    ap.add_argument("--database-url", default=None,
                    help="for --db pg: an empty PostgreSQL database of yours instead of a throwaway cluster")
    ap.add_argument("--max-wait", type=float, default=60.0, help="seconds one start may take (60)")
    ap.add_argument("--port", type=int, default=8015)
    ap.add_argument("--gatehouse-bin", default=os.path.join(run.ROOT, "build", "gatehouse"))
    ap.add_argument("--json", default="/tmp/gh-startup.json")
    args = ap.parse_args(argv)
    kinds = [k.strip() for k in args.db.split(",") if k.strip()]
    if not kinds or any(k not in ("sqlite", "pg") for k in kinds):
        ap.error("--db takes sqlite, pg or sqlite,pg")
    if not 0 < args.small < args.large or args.starts < 1:
        ap.error("need 0 < --small < --large and --starts >= 1")
    if not os.access(args.gatehouse_bin, os.X_OK):
        raise run.BenchError(f"no executable {args.gatehouse_bin}; build it with: make build/gatehouse")
    user_url = args.database_url

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "PORT", "HOST")}
    env.update(run.NO_THROTTLE)
    env.update({"SECRET_KEY": run.GH_SECRET, "BCRYPT_ROUNDS": "4"})
    R = {"args": vars(args), "results": [], "time": time.time()}
    for kind in kinds:
        tmp = tempfile.mkdtemp(prefix=f"gh-startup-{kind}-")
        pgdir = None
        try:
            if kind == "sqlite":
                args.database_url = f"sqlite:///{os.path.join(tmp, 'gh.db')}"
            elif user_url:
                args.database_url = user_url
            else:
                pgdir = tempfile.mkdtemp(prefix="gh-startup-pg-")  # pg-test.sh gives it to its user
                args.database_url = scaleout.pg_start(pgdir)
            R["results"].append(one_database(args, env, tmp, kind))
        finally:
            if pgdir is not None:
                try:
                    scaleout.pg("destroy", pgdir)
                except run.BenchError as e:
                    run.log(str(e))
            shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nstart-up (exec -> first answer), {args.starts} starts per cell, median (min-max) in ms; "
          f"{args.gatehouse_bin}")
    print(f"\n| database | path | {args.small:,} users | {args.large:,} users | large / small |")
    print("|---|---|---:|---:|---:|")
    for r in R["results"]:
        s, lg = r["sizes"]
        for p in ("/verify", "/readyz"):
            print(f"| {r['database']} | {p} | {s[p]['median_ms']} ({s[p]['min_ms']}-{s[p]['max_ms']}) | "
                  f"{lg[p]['median_ms']} ({lg[p]['min_ms']}-{lg[p]['max_ms']}) | {r['ratio'][p]:.2f} |")
    with open(args.json, "w") as f:
        json.dump(R, f, indent=1)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except run.BenchError as e:
        print(f"startup.py: {e}", file=sys.stderr)
        sys.exit(1)
