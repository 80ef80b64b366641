"""Fixtures for the gatehouse black-box API tests.

Run from the repository root:  /usr/bin/python3 -m pytest -q tests/api

Environment:
  GATEHOUSE_BIN                 binary to test (default <repo>/build/gatehouse)
  GATEHOUSE_TEST_DATABASE_URL   database of the default server instead of a temp SQLite file
  GATEHOUSE_TEST_START_TIMEOUT  seconds to wait for GET /healthz == 200 (default 10)

Fixtures:
  server              module-scoped default server (BCRYPT_ROUNDS=4, fixed SECRET_KEY)
  make_server         factory, servers live for one test:  make_server(env={...}, args=[...])
  make_module_server  the same factory, servers live for the module
  run_gatehouse       run the binary to completion (configuration errors, --help)
  user                a freshly registered user on `server` (dict with id, username,
                      created_at, password)

Every server is stopped with SIGTERM on teardown; a non-zero exit status, a server
that died on its own, or a sanitizer report on its stderr fails the test.
"""
import re
import subprocess
import sys

import pytest

sys.dont_write_bytecode = True

from gh_helpers import TEST_DATABASE_URL, ServerPool, run_gatehouse as _run_gatehouse  # noqa: E402


@pytest.fixture
def make_server(tmp_path_factory, request):
    pool = ServerPool(tmp_path_factory, re.sub(r"[^A-Za-z0-9._-]", "_", request.node.name)[:60])
    yield pool.make
    pool.close()


@pytest.fixture(scope="module")
def make_module_server(tmp_path_factory, request):
    pool = ServerPool(tmp_path_factory, request.module.__name__)
    yield pool.make
    pool.close()


@pytest.fixture(scope="module", autouse=True)
def no_clients_left_behind():
    """On PostgreSQL every module's servers share one database, and a
    registered OpenID Connect client makes every later server without
    PUBLIC_URL refuse to start (API.md): the clients a module registered
    go when it ends, after its servers have stopped (this fixture is set
    up first, so it is torn down last)."""
    yield
    if TEST_DATABASE_URL:
        subprocess.run(["psql", "-X", "-q", TEST_DATABASE_URL, "-c",
                        "DELETE FROM oidc_clients"],
                       capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def server(make_module_server):
    if TEST_DATABASE_URL:
        return make_module_server(database_url=TEST_DATABASE_URL)
    return make_module_server()


@pytest.fixture
def user(server):
    return server.new_user()


@pytest.fixture
def run_gatehouse(tmp_path):
    def run(args=(), env=None, **kw):
        return _run_gatehouse(tmp_path, args=args, env=env, **kw)
    return run
