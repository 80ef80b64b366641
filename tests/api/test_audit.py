"""The audit trail in the database (issue 22): the events the logs carry
become rows of audit_events, read back newest first through
GET /admin/audit with filters and a keyset cursor, purged after
AUDIT_RETENTION_DAYS.

Runs on SQLite, and on PostgreSQL under scripts/with-pg.sh, where every
module shares one database: each test filters by users it made itself, and
the API keys it makes are revoked when the module ends.
"""
import base64
import json
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest
from passlib.hash import bcrypt

from gh_helpers import (
    BINARY,
    PASSWORD,
    SECRET_KEY,
    TEST_DATABASE_URL,
    assert_problem,
    assert_www_authenticate,
    base_env,
    bearer,
    db_exec,
    unique_username,
)

AUDIT_FIELDS = {"user_id", "type", "since", "limit", "cursor"}
AUDIT_CODES = {"invalid", "repeated"}


def cli(server, *args, stdin=None):
    """Runs a gatehouse command on the server's database."""
    env = base_env()
    env.update({"DATABASE_URL": server.env["DATABASE_URL"], "SECRET_KEY": SECRET_KEY,
                "BCRYPT_ROUNDS": "4"})
    proc = subprocess.run([str(BINARY), *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, f"gatehouse {args}: {proc.returncode} {proc.stderr}"
    return proc.stdout


def user_id_of(server, name):
    r = server.login(name)
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    return server.me(token).json()["id"], token


@pytest.fixture(scope="module")
def admin(server):
    """An admin: a user given the role admin on the command line, signed in."""
    name = unique_username("adm")
    server.new_user(username=name)
    cli(server, "users", "roles", name, "add", "admin")
    uid, token = user_id_of(server, name)
    return {"name": name, "id": uid, "token": token}


@pytest.fixture(scope="module")
def apikey(server):
    out = cli(server, "apikeys", "create", "--role", "admin", "--name", "audit-tests")
    fields = dict(line.split(": ", 1) for line in out.strip().splitlines())
    yield fields
    cli(server, "apikeys", "revoke", fields["id"])


def audit(server, token, **params):
    return server.get("/admin/audit", params=params, headers=bearer(token))


def events(server, token, **params):
    r = audit(server, token, **params)
    assert r.status_code == 200, r.text
    assert r.headers.get("Cache-Control") == "no-store"
    body = r.json()
    assert set(body) == {"events", "next_cursor"}
    for e in body["events"]:
        assert {"id", "type", "at", "user_id", "actor", "client"} <= set(e), e
    return body


def all_events(server, token, **params):
    """Every page, following next_cursor."""
    out, cursor = [], None
    while True:
        q = dict(params, limit=500)
        if cursor:
            q["cursor"] = cursor
        body = events(server, token, **q)
        out += body["events"]
        cursor = body["next_cursor"]
        if cursor is None:
            return out


def types(evs):
    return [e["type"] for e in evs]


# ============================================================ the events
def test_account_events_are_rows_with_user_client_and_no_secret(server, admin):
    name = unique_username("aud")
    reg = server.new_user(username=name)
    uid = reg["id"]
    assert server.login(name, "wrong-password-1234").status_code == 401
    _, token = user_id_of(server, name)
    new_password = PASSWORD + "-new"
    r = server.request("PUT", "/me/password", headers=bearer(token),
                       json={"current_password": PASSWORD, "new_password": new_password})
    assert r.status_code == 204, r.text
    r = server.login(name, new_password)
    token2 = r.json()["access_token"]
    assert server.post("/logout", headers=bearer(token2)).status_code == 204

    mine = all_events(server, admin["token"], user_id=uid)
    # Newest first: logout, the second login, the change, the first login,
    # the registration.
    assert types(mine) == ["logout", "login.succeeded", "password.changed", "login.succeeded",
                           "user.registered"], mine
    ids = [e["id"] for e in mine]
    assert ids == sorted(ids, reverse=True)
    for e in mine:
        assert e["user_id"] == uid
        assert e["actor"] is None  # the user themself
        assert e["client"] == "127.0.0.1"
        datetime.strptime(e["at"], "%Y-%m-%dT%H:%M:%SZ")
    assert mine[0]["scope"] == "local"
    assert mine[1]["via"] == "login" and mine[1]["username"] == name
    assert mine[-1]["username"] == name

    failed = [e for e in all_events(server, admin["token"], type="login.failed")
              if e.get("username") == name]
    assert len(failed) == 1, failed
    assert failed[0]["client"] == "127.0.0.1"

    text = json.dumps(mine + failed)
    for secret in (PASSWORD, new_password, "wrong-password-1234", token, token2):
        assert secret not in text
    assert "hash" not in text


def test_account_deleted_is_kept_after_the_user(server, admin):
    name = unique_username("del")
    uid = server.new_user(username=name)["id"]
    _, token = user_id_of(server, name)
    r = server.request("DELETE", "/me", headers=bearer(token), json={"password": PASSWORD})
    assert r.status_code == 204, r.text
    mine = all_events(server, admin["token"], user_id=uid)
    assert types(mine) == ["account.deleted", "login.succeeded", "user.registered"]


def test_refresh_reuse_is_recorded(server, admin):
    name = unique_username("reu")
    server.new_user(username=name)
    r = server.login(name)
    first = r.json()["refresh_token"]
    assert server.post_json("/refresh", {"refresh_token": first}).status_code == 200
    assert server.post_json("/refresh", {"refresh_token": first}).status_code == 401
    reused = events(server, admin["token"], type="refresh.reuse_detected", limit=50)["events"]
    assert reused and reused[0]["via"] == "refresh"


def test_command_line_events_have_actor_cli(server, admin):
    name = unique_username("cli")
    cli(server, "users", "add", name, stdin=PASSWORD + "\n")
    uid, _ = user_id_of(server, name)
    cli(server, "users", "roles", name, "add", "ops")
    cli(server, "users", "delete", name)
    mine = all_events(server, admin["token"], user_id=uid)
    assert types(mine) == ["admin.user_deleted", "admin.roles_changed", "login.succeeded",
                           "admin.user_created"], mine
    for e in mine:
        if e["type"].startswith("admin."):
            assert e["actor"] == "cli" and e["client"] is None
    assert mine[1]["added"] == "ops"
    # The role given to the module's admin is one too.
    granted = all_events(server, admin["token"], user_id=admin["id"], type="admin.")
    assert [e["added"] for e in granted] == ["admin"]


def test_api_key_events_never_hold_the_key(server, admin, apikey):
    made = [e for e in all_events(server, admin["token"], type="admin.apikey_created")
            if e.get("apikey_id") == apikey["id"]]
    assert len(made) == 1
    assert made[0]["actor"] == "cli" and made[0]["roles"] == "admin"
    assert apikey["key"] not in json.dumps(made)
    # The key opens the trail too.
    assert events(server, apikey["key"], limit=1)["events"]


def test_admin_api_actions_have_their_actor(server, admin, apikey):
    """The admin API's actions, by an admin's token and by an API key: each
    an admin.* event of the user acted on, naming who acted."""
    name = unique_username("adu")
    r = server.post_json("/admin/users", {"username": name, "password": PASSWORD},
                         headers=bearer(admin["token"]))
    assert r.status_code == 201, r.text
    uid = r.json()["id"]
    server.login(name)
    r = server.request("DELETE", f"/admin/users/{uid}/sessions", headers=bearer(apikey["key"]))
    assert r.status_code == 204, r.text
    r = server.request("PATCH", f"/admin/users/{uid}", json={"disabled": True},
                       headers=bearer(admin["token"]))
    assert r.status_code == 200, r.text
    assert server.login(name).status_code == 401
    r = server.request("DELETE", f"/admin/users/{uid}", headers=bearer(apikey["key"]))
    assert r.status_code == 204, r.text

    mine = all_events(server, admin["token"], user_id=uid)
    assert types(mine) == ["admin.user_deleted", "login.failed", "admin.user_updated",
                           "admin.sessions_revoked", "login.succeeded",
                           "admin.user_created"], mine
    by_key, by_admin = "apikey:" + apikey["id"], "user:%d" % admin["id"]
    assert [e["actor"] for e in mine] == [by_key, None, by_admin, by_key, None, by_admin]
    assert mine[1]["reason"] == "disabled"
    assert mine[2]["disabled"] is True
    assert mine[-1]["username"] == name
    for e in mine:
        assert e["client"] == "127.0.0.1"
    only_admin = all_events(server, admin["token"], user_id=uid, type="admin.")
    assert types(only_admin) == [t for t in types(mine) if t.startswith("admin.")]
    assert PASSWORD not in json.dumps(mine)


def test_import_is_one_event_and_a_refused_one_none(server, admin, tmp_path):
    """users import: one users.imported (actor cli) with the rows, in the
    import's transaction; a refused import writes nothing."""
    hash_ = bcrypt.using(rounds=4).hash("imported-password-1")
    names = [unique_username("imp") for _ in range(3)]
    good = tmp_path / "good.csv"
    good.write_text("username,password_hash\n" + "".join(f"{n},{hash_}\n" for n in names))
    bad = tmp_path / "bad.csv"
    bad.write_text(f"username,password_hash\n{unique_username('imp')},md5$abc\n")
    before = [e["id"] for e in all_events(server, admin["token"], type="users.imported")]
    env = base_env()
    env.update({"DATABASE_URL": server.env["DATABASE_URL"], "SECRET_KEY": SECRET_KEY})
    proc = subprocess.run([str(BINARY), "users", "import", str(bad)], env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1, proc.stderr
    cli(server, "users", "import", str(good))
    after = [e for e in all_events(server, admin["token"], type="users.imported")
             if e["id"] not in before]
    assert len(after) == 1, after
    assert after[0]["actor"] == "cli" and after[0]["rows"] == 3 and after[0]["user_id"] is None


# ============================================================ filters
def test_filters_by_type_prefix_and_since(server, admin):
    name = unique_username("flt")
    uid = server.new_user(username=name)["id"]
    user_id_of(server, name)
    assert types(all_events(server, admin["token"], user_id=uid, type="login.")) == \
        ["login.succeeded"]
    assert types(all_events(server, admin["token"], user_id=uid, type="user.registered")) == \
        ["user.registered"]
    assert all_events(server, admin["token"], user_id=uid, type="logout") == []
    future = datetime.now(timezone.utc) + timedelta(days=1)
    assert all_events(server, admin["token"], user_id=uid,
                      since=future.strftime("%Y-%m-%dT%H:%M:%SZ")) == []
    assert all_events(server, admin["token"], user_id=uid, since=str(int(future.timestamp()))) == []
    past = datetime.now(timezone.utc) - timedelta(hours=1)
    assert len(all_events(server, admin["token"], user_id=uid,
                          since=past.strftime("%Y-%m-%dT%H:%M:%S+00:00"))) == 2
    assert len(all_events(server, admin["token"], user_id=uid, since="0")) == 2


def test_pages_newest_first_and_stable_under_inserts(server, admin):
    name = unique_username("pag")
    uid = server.new_user(username=name)["id"]
    for _ in range(6):
        assert server.login(name).status_code == 200
    seen = []
    body = events(server, admin["token"], user_id=uid, limit=3)
    seen += body["events"]
    # Events added between pages land before the first page, never in the
    # following ones.
    assert server.login(name).status_code == 200
    while body["next_cursor"] is not None:
        body = events(server, admin["token"], user_id=uid, limit=3, cursor=body["next_cursor"])
        assert len(body["events"]) <= 3
        seen += body["events"]
    ids = [e["id"] for e in seen]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 7
    assert types(seen) == ["login.succeeded"] * 6 + ["user.registered"]
    # Seven exactly: the last page says so with a null cursor.
    assert len(all_events(server, admin["token"], user_id=uid)) == 8


# ============================================================ refusals
@pytest.mark.parametrize("query", [
    "limit=0", "limit=501", "limit=abc", "limit=", "limit=-1", "limit=1&limit=2",
    "type=nope", "type=nope.", "type=login", "type=LOGIN.FAILED", "type=" + "a" * 100,
    "cursor=!!!", "cursor=" + base64.urlsafe_b64encode(b"abc").decode().rstrip("="),
    "cursor=" + base64.urlsafe_b64encode(b"0").decode().rstrip("="), "cursor=" + "A" * 200,
    "since=yesterday", "since=2026-13-01T00:00:00Z", "since=2026-02-30T00:00:00Z",
    "since=2026-01-01", "since=2026-01-01T00:00:00", "since=-5",
    "user_id=0", "user_id=-1", "user_id=x", "user_id=99999999999999999999",
])
def test_bad_parameters_are_422(server, admin, query):
    r = server.get("/admin/audit?" + query, headers=bearer(admin["token"]))
    assert_problem(r, 422, fields=AUDIT_FIELDS, codes=AUDIT_CODES)


def test_limit_bounds_are_accepted(server, admin):
    assert len(events(server, admin["token"], limit=1)["events"]) == 1
    assert len(events(server, admin["token"], limit=500)["events"]) <= 500


def test_only_admins_read_the_trail(server, admin):
    r = server.get("/admin/audit")
    assert_problem(r, 401, fields=None, codes=None)
    assert_www_authenticate(r, False)
    r = server.get("/admin/audit", headers=bearer("not-a-token"))
    assert_problem(r, 401, fields=None, codes=None)
    assert_www_authenticate(r, True)
    name = unique_username("usr")
    server.new_user(username=name)
    _, token = user_id_of(server, name)
    assert_problem(audit(server, token), 403, fields=None, codes=None)
    r = server.get("/admin/audit", headers=bearer("ghk_" + "A" * 43))
    assert_problem(r, 401, fields=None, codes=None)
    assert_www_authenticate(r, True)


# ============================================================ retention
def test_old_events_are_purged(make_server):
    extra = {"database_url": TEST_DATABASE_URL} if TEST_DATABASE_URL else {}
    srv = make_server(env={"SESSION_PURGE_INTERVAL_SECONDS": "1", "AUDIT_RETENTION_DAYS": "1"},
                      **extra)
    marker = unique_username("old")
    now = int(time.time())
    db_exec(srv, "INSERT INTO audit_events (type, at, request_id) VALUES "
                 f"('login.failed', {now - 2 * 86400 - 60}, '{marker}-old'), "
                 f"('login.failed', {now - 3600}, '{marker}-new')")
    query = f"SELECT COUNT(*) FROM audit_events WHERE request_id = '{marker}-old'"
    deadline = time.monotonic() + 60
    while count(srv, query) != 0:
        assert time.monotonic() < deadline, "the old audit event was never purged"
        time.sleep(0.2)
    assert count(srv, f"SELECT COUNT(*) FROM audit_events WHERE request_id = '{marker}-new'") == 1


def count(srv, sql):
    if srv.db_path is not None:
        return srv.query(sql)[0][0]
    out = subprocess.run(["psql", "-X", "-q", "-t", "-A", srv.env["DATABASE_URL"], "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return int(out.strip())


@pytest.mark.parametrize("value", ["0", "3651", "x"])
def test_retention_setting_bounds(run_gatehouse, value):
    r = run_gatehouse(["serve"], env={"AUDIT_RETENTION_DAYS": value})
    assert r.returncode == 2, r.stderr
    assert "AUDIT_RETENTION_DAYS" in r.stderr
