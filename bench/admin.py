#!/usr/bin/python3
"""The admin API's user list, page by page: 100,000 users (inserted straight into SQLite in one
transaction, into the schema the server made with `gatehouse migrate`) listed from the first page
to the last with GET /admin/users?limit=N&cursor=..., one keep-alive connection, an API key made
with `gatehouse apikeys create`. Prints the milliseconds per page (median, p99, max) for each
limit, and the whole walk's time.

    /usr/bin/python3 bench/admin.py [--bin build/gatehouse] [--users 100000] [--limits 100,500]
"""
import argparse
import http.client
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SECRET = "gatehouse-bench-fixed-secret-key-0123456789"
# A bcrypt hash nobody logs in with: the list never reads it.
HASH = "$2b$04$" + "a" * 53


def run(binary, env, *args):
    p = subprocess.run([binary, *args], env=env, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise SystemExit(f"admin.py: gatehouse {' '.join(args)}: {p.stderr}")
    return p.stdout


def insert_users(db, n):
    conn = sqlite3.connect(db)
    now = int(time.time())
    with conn:
        conn.executemany(
            "INSERT INTO users (username, username_key, password_hash, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?)",
            ((f"user{i:06d}", f"user{i:06d}", HASH, now, now) for i in range(n)))
    conn.close()


def wait_ready(port):
    for _ in range(600):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit("admin.py: the server did not answer")


def walk(port, key, limit):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    times, seen, cursor = [], 0, None
    start = time.perf_counter()
    while True:
        path = f"/admin/users?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        t0 = time.perf_counter()
        c.request("GET", path, headers={"Authorization": "Bearer " + key})
        r = c.getresponse()
        body = r.read()
        times.append((time.perf_counter() - t0) * 1000)
        if r.status != 200:
            raise SystemExit(f"admin.py: {path}: {r.status} {body[:200]!r}")
        page = json.loads(body)
        seen += len(page["users"])
        cursor = page["next_cursor"]
        if cursor is None:
            return times, seen, time.perf_counter() - start


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "gatehouse"))
    ap.add_argument("--users", type=int, default=100000)
    ap.add_argument("--limits", default="100,500")
    ap.add_argument("--port", type=int, default=18791)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "admin.db")
        env = dict(os.environ, SECRET_KEY=SECRET, DATABASE_URL=f"sqlite:///{db}", LOG_LEVEL="warn",
                   PORT=str(a.port), HOST="127.0.0.1")
        run(a.bin, env, "migrate")
        t0 = time.perf_counter()
        insert_users(db, a.users)
        print(f"inserted {a.users} users in {time.perf_counter() - t0:.1f} s")
        out = run(a.bin, env, "apikeys", "create", "--role", "admin", "--name", "bench")
        key = next(ln.split(": ", 1)[1] for ln in out.splitlines() if ln.startswith("key: "))
        p = subprocess.Popen([a.bin], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_ready(a.port)
            for limit in (int(x) for x in a.limits.split(",")):
                times, seen, total = walk(a.port, key, limit)
                if seen < a.users:
                    raise SystemExit(f"admin.py: listed {seen} of {a.users} users")
                times.sort()
                p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
                print(f"limit {limit}: {len(times)} pages, {seen} users in {total:.2f} s; ms per page "
                      f"median {statistics.median(times):.2f}, p99 {p99:.2f}, max {times[-1]:.2f}")
        finally:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
