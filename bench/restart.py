#!/usr/bin/python3
"""The cost of a restart under a /verify load, with socket activation: what
`systemctl restart gatehouse` does with gatehouse.socket (README "Upgrading
without downtime"), played by tests/deploy/holder.py (this process holds the
listening socket; each gatehouse inherits it as descriptor 3).

    make build/gatehouse
    /usr/bin/python3 bench/restart.py                        # 8 threads, 10 s steady, 10 restarts
    /usr/bin/python3 bench/restart.py --threads 16 --restarts 20

--threads Python client threads send GET /verify with one access token,
half on keep-alive connections, half on a new connection per request (the
client rules of holder.py). First --steady seconds without a restart: req/s
and the latency percentiles. Then --restarts restarts one --every seconds
apart, each SIGTERM to the old process, its exit, the new process started
(systemctl restart's order). Reported: per restart the gap (SIGTERM sent ->
the first answer from the new process) and the longest answer that ended in
it, and over the restart phase: answers, errors, resets, requests sent
again, the answers slower than the steady p99 (delayed) beyond the 1% the
steady phase has, and the latency percentiles. Stdlib only.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "deploy"))
import holder  # noqa: E402


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * p / 100))] if s else 0.0


def run_load(port, token, threads, done, stats):
    def worker(keep_alive):
        c = holder.Client(port, stats, keep_alive)
        while not done.is_set():
            c.send("GET", "/verify", 204, headers={"Authorization": f"Bearer {token}"})
    ts = [threading.Thread(target=worker, args=(i % 2 == 0,)) for i in range(threads)]
    for t in ts:
        t.start()
    return ts


def first_answer_from(stats, known, since):
    """The end time of the first answer from a process not in known."""
    while True:
        with stats.lock:
            new = set(stats.processes) - known
            if new:
                return new, time.monotonic()
        if time.monotonic() - since > holder.TIMEOUT:
            raise SystemExit("no answer from the new process")
        time.sleep(0.001)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--steady", type=float, default=10.0)
    ap.add_argument("--restarts", type=int, default=10)
    ap.add_argument("--every", type=float, default=1.0)
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="gh-restart-")
    h = holder.Holder(tmp)
    done = threading.Event()
    threads = []
    try:
        proc = h.start()
        h.wait_log(proc, "listening on")
        token = holder.register_and_login(h.port, "bench")["access_token"]
        stats = holder.Stats()
        threads = run_load(h.port, token, args.threads, done, stats)
        time.sleep(1.0)  # warm-up, not counted
        t0 = time.monotonic()
        time.sleep(args.steady)
        t1 = time.monotonic()
        gaps = []
        for _ in range(args.restarts):
            with stats.lock:
                known = set(stats.processes)
            sent = time.monotonic()
            h.stop(proc)
            proc = h.start()
            _, first = first_answer_from(stats, known, sent)
            gaps.append((sent, first))
            time.sleep(args.every)
        t2 = time.monotonic()
        done.set()
        for t in threads:
            t.join(holder.TIMEOUT)
        h.stop(proc)
    finally:
        done.set()
        h.close()

    steady = [lat for end, lat in stats.latencies if t0 <= end < t1]
    during = [lat for end, lat in stats.latencies if t1 <= end < t2]
    p99 = pct(steady, 99)
    per_restart = []
    for sent, first in gaps:
        inside = [lat for end, lat in stats.latencies if sent <= end <= first + 0.05]
        per_restart.append({"gap_ms": round(1000 * (first - sent), 1),
                            "max_latency_ms": round(1000 * max(inside, default=0), 1)})
    slow = sum(1 for lat in during if lat > p99)
    s = stats.summary()
    report = {
        "threads": args.threads,
        "steady": {"seconds": args.steady, "answers": len(steady),
                   "req_per_s": round(len(steady) / (t1 - t0)),
                   "p50_ms": round(1000 * pct(steady, 50), 2), "p99_ms": round(1000 * p99, 2),
                   "max_ms": round(1000 * max(steady, default=0), 2)},
        "restart_phase": {"restarts": args.restarts, "seconds": round(t2 - t1, 1), "answers": len(during),
                          "req_per_s": round(len(during) / (t2 - t1)),
                          "p50_ms": round(1000 * pct(during, 50), 2), "p99_ms": round(1000 * pct(during, 99), 2),
                          "max_ms": round(1000 * max(during, default=0), 1),
                          "delayed_beyond_steady_p99": max(0, slow - len(during) // 100)},
        "per_restart": per_restart,
        "gap_ms_median": round(statistics.median(g["gap_ms"] for g in per_restart), 1) if per_restart else None,
        "errors": s["errors"], "resets": s["resets"], "sent_again": s["stale"],
        "first_errors": s["first_errors"], "by_status": s["by_status"], "processes": s["processes"],
    }
    print(json.dumps(report, indent=2))
    return 0 if s["errors"] == 0 and s["resets"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
