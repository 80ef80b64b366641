#!/usr/bin/python3
"""The memory of an idle gatehouse: VmRSS after start-up and one GET /healthz, over several
starts, for one or more binaries, each on a fresh SQLite file.

    /usr/bin/python3 bench/idle_rss.py /tmp/gh-before /tmp/gh-after
    /usr/bin/python3 bench/idle_rss.py build/gatehouse --env SMTP_URL=smtp://127.0.0.1:1 \\
        --env SMTP_STARTTLS=off --env MAIL_FROM=a@example.com --env PUBLIC_URL=http://127.0.0.1:8002

Prints the median, min and max in KiB of each binary. Stdlib only.
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402


def idle_rss_kib(binary, port, extra):
    d = tempfile.mkdtemp(prefix="gh-bench-rss-")
    env = dict(os.environ, SECRET_KEY="bench-idle-rss-secret-key-0123456789-abcdef", **extra)
    server = run.Server("gatehouse", [binary, "--host", run.HOST, "--port", str(port),
                                      "--database-url", f"sqlite:///{d}/idle.db"], env, port, d)
    server.start()  # answers /healthz once it is up
    try:
        time.sleep(0.5)
        return run.status_kb(server.proc.pid, "VmRSS")
    finally:
        server.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("binaries", nargs="+")
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--port", type=int, default=8002)
    ap.add_argument("--env", action="append", default=[], help="NAME=value (repeatable)")
    args = ap.parse_args()
    extra = dict(kv.split("=", 1) for kv in args.env)
    for b in args.binaries:
        v = [idle_rss_kib(b, args.port, extra) for _ in range(args.starts)]
        print(f"{b}: VmRSS median {statistics.median(v):.0f} KiB (min {min(v)}, max {max(v)}, "
              f"{args.starts} starts)")


if __name__ == "__main__":
    main()
