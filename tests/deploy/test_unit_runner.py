"""The unit test runner (tests/unit/test_main.c) says what did not run: a
case that needs PostgreSQL and finds none is counted as skipped, never as
passed, and fails when GATEHOUSE_TEST_REQUIRE_PG=1 asks for PostgreSQL; the
tests find their data files from the source tree, wherever they run from.

    make build/unit-tests && /usr/bin/python3 -m pytest -q tests/deploy/test_unit_runner.py
"""
import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RUNNER = Path(os.environ.get("GATEHOUSE_UNIT_TESTS", REPO / "build/unit-tests"))
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed, (\d+) skipped$")
# The cases on PostgreSQL: those of the store, flows, second factors, passkeys, the admin
# store (2) and the audit trail (3) that run on both backends, and 2 on PostgreSQL only
# (tests/unit/test_list.h, tests/unit/store/test_store.c).
PG_CASES = 57


def run(args, cwd=REPO, **env):
    if not RUNNER.exists():
        pytest.fail(f"{RUNNER} is missing: make build/unit-tests")
    base = {k: v for k, v in os.environ.items()
            if k not in ("GATEHOUSE_TEST_DATABASE_URL", "GATEHOUSE_TEST_REQUIRE_PG")}
    r = subprocess.run([str(RUNNER), *args], cwd=cwd, capture_output=True, text=True,
                       env={**base, **env}, timeout=300)
    lines = r.stdout.splitlines()
    m = SUMMARY.match(lines[-1]) if lines else None
    assert m, r.stdout + r.stderr
    return r, tuple(int(g) for g in m.groups())


def pg_case_names():
    listed = (REPO / "tests/unit/test_list.h").read_text()
    names = re.findall(r"^    STORE_CASE_BOTH\(X, (\w+)\)", listed, re.M)
    return {f"store_{n}_pg" for n in names} | {"store_pg_connection_terminated", "store_pg_watch"}


def test_the_postgresql_cases_are_counted_as_skipped_without_postgresql():
    assert len(pg_case_names()) == PG_CASES
    r, (passed, failed, skipped) = run(["_pg"])
    assert (passed, failed, skipped) == (0, 0, PG_CASES), r.stdout
    assert r.returncode == 0
    skips = re.findall(r"^\S+:\d+: (\w+): SKIP: (.+)$", r.stdout, re.M)
    assert {name for name, _ in skips} == pg_case_names()
    assert all("GATEHOUSE_TEST_DATABASE_URL" in why for _, why in skips)


def test_the_postgresql_cases_fail_when_postgresql_is_required():
    r, (passed, failed, skipped) = run(["_pg"], GATEHOUSE_TEST_REQUIRE_PG="1")
    assert (passed, failed, skipped) == (0, PG_CASES, 0), r.stdout
    assert r.returncode == 1
    assert "SKIP" not in r.stdout


def test_a_skip_does_not_hide_the_other_results():
    # The SQLite case beside its skipped PostgreSQL twin still passes.
    r, counts = run(["store_users_"])
    assert counts == (2, 0, 2), r.stdout  # users_ and users_hash_like, on each backend
    assert r.returncode == 0


def test_the_data_files_are_found_from_another_directory(tmp_path):
    # data/common-passwords.txt, read by the password list's test, is not
    # under the working directory here.
    r, counts = run(["password_pwlist_every_entry"], cwd=tmp_path)
    assert counts == (1, 0, 0), r.stdout
    assert r.returncode == 0
