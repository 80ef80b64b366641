#!/usr/bin/python3
"""Rows per second of `gatehouse users import`, on PostgreSQL and on SQLite, from a CSV file and from
a FastAPI app's table (--from-database), in one run.

    make build/gatehouse
    /usr/bin/python3 bench/import_pg.py                      # 100,000 rows, every target
    /usr/bin/python3 bench/import_pg.py --rows 1000000 --targets pg-csv,pg-db

A throwaway PostgreSQL 15 cluster (scripts/pg-test.sh: loopback, fsync off, destroyed at the end)
holds the old app's database "oldapp" with the table the FastAPI app (SQLModel) creates,

    CREATE TABLE "user" (id SERIAL PRIMARY KEY, username VARCHAR NOT NULL, hashed_password VARCHAR NOT NULL)
    CREATE UNIQUE INDEX ix_user_username ON "user" (username)

filled with --rows rows by generate_series (ids 1..N, names legacy.0000001..., one bcrypt hash of
cost 4 shared by every row: the import checks a hash's form, never a password), and the same rows
as a CSV file (username,password_hash). Each target gets an empty gatehouse database (PostgreSQL:
a database created for it in the same cluster, dropped after; SQLite: a fresh file), `gatehouse
migrate` (not timed), then the timed `gatehouse users import`, from exec to exit:

  pg-csv       PostgreSQL, users import FILE.csv
  pg-db        PostgreSQL, users import --from-database oldapp's URL
  sqlite-csv   SQLite, the CSV file
  sqlite-db    SQLite, --from-database
  pg-ceiling   the ceiling: the same rows written into the migrated users table by one
               INSERT ... SELECT inside the server (no client, no round trip), timed by psql

The report gives seconds and rows/s per target (and per --rounds round, with the median), and
checks that the target then holds every row (`gatehouse users list`). The goal of issue 18 is at
least 50,000 rows/s on PostgreSQL. The cluster runs with fsync off, as in the tests: a server with
fsync on pays for its commits (an import is one transaction, so once). Stdlib only.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402
import scale  # noqa: E402  (bcrypt_hash)
import scaleout  # noqa: E402  (pg, pg_start: scripts/pg-test.sh)

TARGETS = ("pg-csv", "pg-db", "sqlite-csv", "sqlite-db", "pg-ceiling")


def psql(pgdir, sql, db="gatehouse"):
    return scaleout.pg("psql", pgdir, "-d", db, "-At", "-c", sql, timeout=1800)


def with_db(url, name):
    """url with its database name replaced."""
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def make_old_app(pgdir, url, rows, hsh):
    """The FastAPI app's database: table "user" as SQLModel creates it, rows rows."""
    psql(pgdir, "CREATE DATABASE oldapp OWNER gatehouse", db="postgres")
    psql(pgdir, 'CREATE TABLE "user" (id SERIAL PRIMARY KEY, username VARCHAR NOT NULL, '
                'hashed_password VARCHAR NOT NULL); '
                'CREATE UNIQUE INDEX ix_user_username ON "user" (username); '
                f'INSERT INTO "user" (username, hashed_password) SELECT '
                f"'legacy.' || lpad(i::text, 7, '0'), '{hsh}' FROM generate_series(1, {rows}) AS i; "
                "SELECT setval(pg_get_serial_sequence('\"user\"', 'id'), max(id)) FROM \"user\"; "
                'ALTER TABLE "user" OWNER TO gatehouse; ANALYZE "user"', db="oldapp")
    return with_db(url, "oldapp")


def write_csv(path, rows, hsh):
    with open(path, "w") as f:
        f.write("username,password_hash\n")
        for i in range(1, rows + 1):
            f.write(f"legacy.{i:07d},{hsh}\n")


def gh(args, env, url, *argv, timeout=7200):
    p = subprocess.run([args.gatehouse_bin, *argv, "--database-url", url], env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise run.BenchError(f"gatehouse {' '.join(argv)}: exit {p.returncode}: {p.stderr.strip()[-800:]}")
    return p


def one_import(args, env, target, pgdir, pg_url, old_url, csv_path, tmp, rnd, hsh):
    """A fresh target database, migrate, the timed import; (seconds, users listed after)."""
    kind, _, source = target.partition("-")
    if kind == "pg":
        name = f"target_{source}_{rnd}"
        psql(pgdir, f"CREATE DATABASE {name} OWNER gatehouse", db="postgres")
        url = with_db(pg_url, name)
    else:
        path = os.path.join(tmp, f"target-{source}-{rnd}.db")
        url = f"sqlite:///{path}"
    try:
        gh(args, env, url, "migrate")
        t0 = time.perf_counter()
        if source == "ceiling":
            psql(pgdir, "INSERT INTO users (id, username, username_key, password_hash, created_at, "
                        "updated_at) SELECT i, 'legacy.' || lpad(i::text, 7, '0'), "
                        f"'legacy.' || lpad(i::text, 7, '0'), '{hsh}', 0, 0 "
                        f"FROM generate_series(1, {args.rows}) AS i", db=name)
        else:
            argv = ["users", "import", *(["--from-database", old_url] if source == "db" else [csv_path])]
            gh(args, env, url, *argv)
        secs = time.perf_counter() - t0
        listed = len(gh(args, env, url, "users", "list").stdout.splitlines()) - 1
    finally:
        if kind == "pg":
            psql(pgdir, f"DROP DATABASE {name}", db="postgres")
        else:
            for sfx in ("", "-wal", "-shm", ".secret"):
                if os.path.exists(path + sfx):
                    os.unlink(path + sfx)
    return secs, listed


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=100000, help="rows in the old table and the CSV (100000)")
    ap.add_argument("--targets", default=",".join(TARGETS), help=f"comma-separated, of {', '.join(TARGETS)}")
    ap.add_argument("--rounds", type=int, default=1, help="imports per target, alternating targets (1)")
    ap.add_argument("--gatehouse-bin", default=os.path.join(run.ROOT, "build", "gatehouse"))
    ap.add_argument("--json", default="/tmp/gh-import.json")
    args = ap.parse_args(argv)
    targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    if not targets or any(t not in TARGETS for t in targets):
        ap.error(f"--targets takes {', '.join(TARGETS)}")
    if args.rows < 1 or args.rounds < 1:
        ap.error("--rows and --rounds must be at least 1")
    if not os.access(args.gatehouse_bin, os.X_OK):
        raise run.BenchError(f"no executable {args.gatehouse_bin}; build it with: make build/gatehouse")

    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "PORT", "HOST")}
    env["SECRET_KEY"] = run.GH_SECRET
    hsh = scale.bcrypt_hash(run.PASSWORD, 4)
    tmp = tempfile.mkdtemp(prefix="gh-import-")
    pgdir = tempfile.mkdtemp(prefix="gh-import-pg-")  # scripts/pg-test.sh gives it to its user
    rows = []
    try:
        pg_url = scaleout.pg_start(pgdir)
        t0 = time.perf_counter()
        old_url = make_old_app(pgdir, pg_url, args.rows, hsh)
        csv_path = os.path.join(tmp, "users.csv")
        write_csv(csv_path, args.rows, hsh)
        run.log(f"old app's table and CSV of {args.rows:,} rows made in {time.perf_counter() - t0:.1f} s")
        for rnd in range(1, args.rounds + 1):
            for target in targets:
                secs, listed = one_import(args, env, target, pgdir, pg_url, old_url, csv_path, tmp, rnd, hsh)
                if listed != args.rows:
                    raise run.BenchError(f"{target}: {listed} users listed after importing {args.rows}")
                r = {"round": rnd, "target": target, "rows": args.rows, "seconds": round(secs, 3),
                     "rows_per_s": round(args.rows / secs)}
                rows.append(r)
                run.log(f"round {rnd} {target:10s} {secs:8.2f} s  {r['rows_per_s']:>9,} rows/s")
    finally:
        try:
            scaleout.pg("destroy", pgdir)
        except run.BenchError as e:
            run.log(str(e))
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nusers import of {args.rows:,} rows, {args.rounds} round(s); {args.gatehouse_bin}; "
          "PostgreSQL 15 from scripts/pg-test.sh (fsync off)")
    print("\n| target | seconds | rows/s |")
    print("|---|---:|---:|")
    for t in targets:
        mine = [r for r in rows if r["target"] == t]
        secs = statistics.median(r["seconds"] for r in mine)
        rates = ", ".join(f"{r['rows_per_s']:,}" for r in mine)
        print(f"| {t} | {secs:.2f} | {round(args.rows / secs):,}" + (f" ({rates})" if len(mine) > 1 else "") + " |")
    with open(args.json, "w") as f:
        json.dump({"args": vars(args), "rows": rows, "time": time.time()}, f, indent=1)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except run.BenchError as e:
        print(f"import_pg.py: {e}", file=sys.stderr)
        sys.exit(1)
