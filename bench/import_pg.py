#!/usr/bin/env python3
"""PostgreSQL import speed: `gatehouse users import --from-database` of the
FastAPI app's table "user" with N generated rows into an empty gatehouse
database on the same cluster, timed from start to exit (the count checked).

    scripts/with-pg.sh /usr/bin/python3 bench/import_pg.py [--rows 200000]
        [--binary build/gatehouse] [--binary OTHER ...]

Needs GATEHOUSE_TEST_DATABASE_URL (scripts/with-pg.sh sets it: a throwaway
cluster) and psql.  The app's table and gatehouse's live in that one
database, as they may in a deployment; gatehouse's tables are dropped before
each binary's run.
"""
import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# One bcrypt hash for every row: the import checks its format, not the
# password, so the rows cost what real ones do.
HASH = "$2b$12$GhvMmNVjRW29ulnudl.LbuAnUtN/LRfe1JsBm1Xu6LE3059z5Tr8m"
SCHEMA = ('CREATE TABLE "user" (id SERIAL NOT NULL, username VARCHAR NOT NULL, '
          "hashed_password VARCHAR NOT NULL, PRIMARY KEY (id)); "
          'CREATE UNIQUE INDEX ix_user_username ON "user" (username);')


def psql(url, sql):
    return subprocess.run(["psql", "-X", "-q", "-At", url, "-c", sql], check=True,
                          capture_output=True, text=True).stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--binary", action="append")
    args = ap.parse_args()
    base = os.environ.get("GATEHOUSE_TEST_DATABASE_URL")
    if not base:
        sys.exit("import_pg: run under scripts/with-pg.sh (GATEHOUSE_TEST_DATABASE_URL)")
    binaries = args.binary or [str(REPO / "build" / "gatehouse")]
    old = base
    psql(old, 'DROP TABLE IF EXISTS "user"; ' + SCHEMA
         + ' INSERT INTO "user" (id, username, hashed_password) '
         f"SELECT g, 'user' || g, '{HASH}' FROM generate_series(1, {args.rows}) g")
    for binary in binaries:
        target = base
        psql(target, "DROP TABLE IF EXISTS refresh_history, sessions, revocations, users, schema_migrations CASCADE")
        env = dict(os.environ, DATABASE_URL=target, DB_STATEMENT_TIMEOUT_MS="600000")
        # The schema first, so that the time is the import's alone.
        proc = subprocess.run([binary, "migrate"], env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"import_pg: {binary} migrate failed:\n{proc.stderr[-2000:]}")
        start = time.monotonic()
        before = os.times()
        proc = subprocess.run([binary, "users", "import", "--from-database", old], env=env,
                              capture_output=True, text=True)
        took = time.monotonic() - start
        after = os.times()
        cpu = (after.children_user - before.children_user
               + after.children_system - before.children_system)
        if proc.returncode != 0:
            sys.exit(f"import_pg: {binary} failed:\n{proc.stderr[-2000:]}")
        count = int(psql(target, "SELECT COUNT(*) FROM users"))
        assert count == args.rows, (count, args.rows)
        print(f"{binary}: {args.rows} rows in {took:.2f} s: {args.rows / took:,.0f} rows/s "
              f"(gatehouse's own CPU {cpu:.2f} s)")
    # The ceiling on this machine: the same rows copied by the server
    # itself, in one statement, with no client and no round trip.
    psql(base, "TRUNCATE users CASCADE")
    start = time.monotonic()
    psql(base, "INSERT INTO users (id, username, username_key, password_hash, created_at, "
         'updated_at) SELECT id, username, lower(username), hashed_password, 0, 0 FROM "user"')
    took = time.monotonic() - start
    print(f"ceiling (INSERT ... SELECT in the server): {args.rows / took:,.0f} rows/s")


if __name__ == "__main__":
    main()
