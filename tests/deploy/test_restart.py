"""Restarts that drop nothing: a running load of /verify, /login and /refresh
(keep-alive connections and a new connection per request) across 5 restarts
of gatehouse on a socket held by another process, in the order
`systemctl restart gatehouse` follows with gatehouse.socket: SIGTERM to the
old process, which finishes its requests and exits, then the new one
started; connections that arrive meanwhile wait in the socket's queue. Every
answer is counted (client rules: tests/deploy/holder.py).

    GATEHOUSE_BIN=$PWD/build/gatehouse /usr/bin/python3 -m pytest -q tests/deploy/test_restart.py
"""
import time

import pytest

import holder
from holder import TIMEOUT, Holder, Load

RESTARTS = 5
ANSWERS_PER_PROCESS = 1000  # before the next restart


def wait_answers(load, prefix_count, at_least):
    """Waits until the load has had answers from prefix_count processes and
    at_least answers in all (a hang fails the test at TIMEOUT); False as
    soon as the load has counted an error."""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        s = load.stats.summary()
        if s["errors"] or s["resets"] or s["stale"]:
            return False  # reported by the caller
        if s["processes"] >= prefix_count and load.total() >= at_least:
            return True
        time.sleep(0.02)
    raise AssertionError(f"the load stalled: {load.stats.summary()}")


def test_five_restarts_under_load_fail_no_request(tmp_path):
    if not holder.BINARY.exists():
        pytest.fail(f"no gatehouse binary at {holder.BINARY} (make build/gatehouse)")
    h = Holder(tmp_path)
    load = None
    try:
        proc = h.start()
        h.wait_log(proc, "listening on")
        account = holder.register_and_login(h.port, "verifier")
        users = holder.users_for_load(h.port, 2)
        load = Load(h.port, account, users, verify_threads=4).start()
        ok = wait_answers(load, 1, ANSWERS_PER_PROCESS)
        for i in range(RESTARTS if ok else 0):
            # systemctl restart: stop (SIGTERM, wait for the exit), start.
            assert h.stop(proc) == 0
            log = proc.log_path.read_text(errors="replace")
            assert "unanswered" not in log and "abandoning" not in log, log[-3000:]
            proc = h.start()
            if not wait_answers(load, i + 2, load.total() + ANSWERS_PER_PROCESS):
                h.wait_log(proc, "listening on")  # so that SIGTERM finds it serving
                break
        summary = load.stop()
        load = None
        assert h.stop(proc) == 0
    finally:
        if load is not None:
            load.stop()
        h.close()
    print(f"\nrestart load: {summary}")
    assert summary["errors"] == 0, summary
    assert summary["resets"] == 0, summary
    # Not even a request sent again: every keep-alive connection was closed
    # by an answer (Connection: close), none under a request.
    assert summary["stale"] == 0, summary
    # Every answer was the expected one, from each of the 6 processes.
    assert summary["ok"] == sum(summary["by_status"].values()), summary
    assert set(summary["by_status"]) <= {200, 204}, summary
    assert summary["processes"] == RESTARTS + 1, summary
