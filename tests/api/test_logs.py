"""Logs: LOG_FORMAT=json (one object per line, the access log, the audit
events), LOG_LEVEL, lines a client cannot forge, and no secret in a whole
run's log."""
import json
import re
import socket

import pytest
from passlib.hash import bcrypt as passlib_bcrypt

from gh_helpers import (
    SECRET_KEY,
    TEST_DATABASE_URL,
    bearer,
    free_port,
    sqlite_url,
    unique_username,
)

TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
TEXT_LINE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z (debug|info|warn|error) "
                          r"gatehouse: ")
# A line a client would like to slip into the log.
FORGED = "2026-01-01T00:00:00.000Z error gatehouse: forged"


def raw_get(port, target):
    """Sends a request line with target as raw bytes (not percent-encoded:
    control bytes, quotes, backslashes, bytes over 0x7F); returns the status."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        return int(data.split(b" ", 2)[1])
    finally:
        sock.close()


def json_lines(text):
    lines = [line for line in text.split("\n") if line != ""]
    objs = []
    for line in lines:
        try:
            objs.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON line: {line!r}\n--- log ---\n{text[-5000:]}")
    for o in objs:
        assert isinstance(o, dict), o
        assert TIME_RE.match(o.get("time", "")), o
        assert o.get("level") in ("debug", "info", "warn", "error"), o
        assert ("msg" in o) != ("event" in o), o
    return objs


def events(objs, name):
    return [o for o in objs if o.get("event") == name]


def test_json_log_scenario_and_no_secrets(make_server, run_gatehouse, tmp_path):
    """A whole session's worth of requests with LOG_FORMAT=json: every stderr
    line is a JSON object, the audit events are there with who and from
    where, and none of the secrets used appears anywhere in the log."""
    env = {"LOG_FORMAT": "json", "ACCESS_LOG": "1"}
    srv = make_server(env=env, database_url=TEST_DATABASE_URL)
    secrets_used = {"SECRET_KEY": SECRET_KEY}
    name = unique_username("log")
    pw1, pw2, wrong = "first-Passw0rd-x1", "second-Passw0rd-y2", "wrong-Passw0rd-z3"
    secrets_used.update(pw1=pw1, pw2=pw2, wrong=wrong)

    r = srv.register(name, pw1, headers={"X-Request-Id": "req-register-1"})
    assert r.status_code == 200, r.text
    uid = r.json()["id"]
    login = srv.login(name, pw1)
    assert login.status_code == 200
    assert srv.login(name, wrong, headers={"X-Request-Id": "req-wrong-1"}).status_code == 401
    tok = srv.post("/token", data={"grant_type": "password", "username": name, "password": pw1})
    assert tok.status_code == 200, tok.text
    old_refresh = tok.json()["refresh_token"]
    ref = srv.post("/token", data={"grant_type": "refresh_token", "refresh_token": old_refresh})
    assert ref.status_code == 200, ref.text
    # The rotated-away token again: reuse detected, its session revoked.
    reuse = srv.post_json("/refresh", {"refresh_token": old_refresh},
                          headers={"X-Request-Id": "req-reuse-1"})
    assert reuse.status_code == 401
    ref2 = srv.post_json("/refresh", {"refresh_token": login.json()["refresh_token"]})
    assert ref2.status_code == 200, ref2.text
    for resp in (login, tok, ref, ref2):
        secrets_used[f"access {resp.url}"] = resp.json()["access_token"]
        secrets_used[f"refresh {resp.url}"] = resp.json()["refresh_token"]
    access = ref2.json()["access_token"]
    assert srv.post("/logout?scope=others", headers=bearer(access)).status_code == 204
    r = srv.request("PUT", "/me/password", headers=bearer(access),
                    json={"current_password": pw1, "new_password": pw2})
    assert r.status_code == 204, r.text
    second = srv.login(name, pw2)
    assert second.status_code == 200
    secrets_used["access second"] = second.json()["access_token"]
    secrets_used["refresh second"] = second.json()["refresh_token"]
    if srv.db_path is not None:
        secrets_used["hash"] = srv.stored_hash(name)
    r = srv.request("DELETE", "/me", headers=bearer(second.json()["access_token"]),
                    json={"password": pw2})
    assert r.status_code == 204, r.text
    # Client bytes that would end a line or start a forged one.
    assert srv.get("/x%0a" + FORGED.replace(" ", "%20")).status_code == 404
    raw = b"/y%0d%0a" + FORGED.replace(" ", "%20").encode() + b"\"\\\x1b\xff"
    assert raw_get(srv.port, raw) == 404
    srv.stop()
    log = srv.stderr()
    objs = json_lines(log)

    reg = events(objs, "user.registered")
    assert len(reg) == 1 and reg[0]["user_id"] == uid and reg[0]["username"] == name, reg
    assert reg[0]["request_id"] == "req-register-1" and reg[0]["client"] == "127.0.0.1", reg
    ok = events(objs, "login.succeeded")
    assert [o["via"] for o in ok] == ["login", "token", "login"], ok
    assert all(o["user_id"] == uid and o["username"] == name for o in ok), ok
    failed = events(objs, "login.failed")
    assert len(failed) == 1 and failed[0]["username"] == name, failed
    assert failed[0]["level"] == "warn" and failed[0]["request_id"] == "req-wrong-1", failed
    reused = events(objs, "refresh.reuse_detected")
    assert len(reused) == 1 and reused[0]["request_id"] == "req-reuse-1", reused
    out = events(objs, "logout")
    assert len(out) == 1 and out[0]["scope"] == "others" and out[0]["user_id"] == uid, out
    changed = events(objs, "password.changed")
    assert len(changed) == 1 and changed[0]["username"] == name, changed
    deleted = events(objs, "account.deleted")
    assert len(deleted) == 1 and deleted[0]["user_id"] == uid, deleted

    # The access log: one line per request, with what an operator needs.
    acc = events(objs, "access")
    assert len(acc) >= 14, acc
    for o in acc:
        for field in ("request_id", "client", "method", "path", "status", "duration_ms"):
            assert field in o, (field, o)
        assert isinstance(o["status"], int) and o["duration_ms"] >= 0, o
    wrong_line = [o for o in acc if o["request_id"] == "req-wrong-1"]
    assert len(wrong_line) == 1 and wrong_line[0]["route"] == "/login", wrong_line
    assert wrong_line[0]["status"] == 401 and wrong_line[0]["method"] == "POST"
    forged = [o for o in acc if o["status"] == 404]
    assert len(forged) == 2, forged
    for o in forged:
        assert "\n" not in o["path"] and "\r" not in o["path"] and "\x1b" not in o["path"], o
        assert "route" not in o, o
    assert forged[0]["path"] == "/x\\x0A" + FORGED, forged[0]
    assert forged[1]["path"] == "/y\\x0D\\x0A" + FORGED + "\"\\\\x1B\\xFF", forged[1]
    assert not any(o.get("msg", "").endswith("forged") for o in objs)

    # users import from the command line, its event in the same format.
    bcrypt_hash = passlib_bcrypt.using(rounds=4).hash("imported-Passw0rd-w4")
    secrets_used["imported hash"] = bcrypt_hash
    csv = tmp_path / "users.csv"
    csv.write_text(f"username,password_hash\n{unique_username('imp')},{bcrypt_hash}\n")
    db_url = TEST_DATABASE_URL or sqlite_url(srv.db_path)
    res = run_gatehouse(["users", "import", str(csv)],
                        env={"LOG_FORMAT": "json", "DATABASE_URL": db_url})
    assert res.returncode == 0, res.stderr
    imported = events(json_lines(res.stderr), "users.imported")
    assert len(imported) == 1 and imported[0]["imported"] == 1, res.stderr
    log += res.stderr
    # A database whose password is known: one that is down, so that the
    # error lines have their chance to show it.
    db_pw = "Db-Passw0rd-" + "q7" * 8
    secrets_used["database password"] = db_pw
    down = f"postgresql://gh:{db_pw}@127.0.0.1:{free_port()}/gh?connect_timeout=1"
    res = run_gatehouse(["users", "import", str(csv)],
                        env={"LOG_FORMAT": "json", "DATABASE_URL": down,
                             "DB_CONNECT_TIMEOUT_SECONDS": "1"})
    assert res.returncode != 0
    log += res.stderr
    if TEST_DATABASE_URL:
        m = re.match(r"^postgres(?:ql)?://[^:/@]+:([^@]+)@", TEST_DATABASE_URL)
        if m:
            secrets_used["test database password"] = m.group(1)

    for what, secret in secrets_used.items():
        assert secret and secret not in log, f"{what} appears in the log"


def test_text_log_escapes_client_bytes(make_server):
    """The default format: a path with %0a, CR LF or raw control bytes stays
    on its own line, quotes and backslashes escaped, and every line is one of
    ours."""
    srv = make_server(env={"ACCESS_LOG": "1"})
    assert srv.get("/x%0a" + FORGED.replace(" ", "%20") + "%22").status_code == 404
    raw = b"/y%0d%0a" + FORGED.replace(" ", "%20").encode() + b"\"\\\x01\xff"
    assert raw_get(srv.port, raw) == 404
    assert srv.login(unique_username("nobody"), "Wr0ng-passw0rd!").status_code == 401
    srv.stop()
    lines = srv.stderr().rstrip("\n").split("\n")
    for line in lines:
        assert TEXT_LINE_RE.match(line), f"not one of our lines: {line!r}"
        assert not line.endswith("forged"), line
    access = [line for line in lines if " access " in line and "status=404" in line]
    assert len(access) == 2, lines
    assert 'path="/x\\x0A' + FORGED + '\\""' in access[0], access[0]
    assert 'path="/y\\x0D\\x0A' + FORGED + '\\"\\\\\\x01\\xFF"' in access[1], access[1]
    assert any(" login.failed " in line and 'client="127.0.0.1"' in line for line in lines)
    assert any("listening on http://" in line for line in lines)


# Characters that are well-formed UTF-8 and yet end a line for some readers
# (NEL, LS, PS) or show a line's text in another order (bidi controls).
UNSAFE = {"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029",
          "\u202e": "\\u202E", "\u2066": "\\u2066", "\u200f": "\\u200F"}


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_logs_escape_unicode_line_breaks_and_bidi_controls(make_server, fmt):
    srv = make_server(env={"LOG_FORMAT": fmt})
    names = {f"u{i}{ch}{FORGED}": f"u{i}{shown}{FORGED}"
             for i, (ch, shown) in enumerate(UNSAFE.items())}
    for name in names:
        assert srv.login(name, "Wr0ng-passw0rd!").status_code == 401
    srv.stop()
    log = srv.stderr()
    for ch in UNSAFE:
        assert ch not in log, f"U+{ord(ch):04X} written raw"
    # split("\n"), not splitlines(): the latter would split at U+2028 too.
    lines = log.rstrip("\n").split("\n")
    failed = [line for line in lines if "login.failed" in line]
    if fmt == "json":
        got = {json.loads(line)["username"] for line in failed}
    else:
        assert all(TEXT_LINE_RE.match(line) for line in lines), lines
        got = {re.search(r' username="(.*?)" via=', line).group(1) for line in failed}
    assert got == set(names.values())


def test_users_list_escapes_as_the_log_does(run_gatehouse, tmp_path):
    hashed = passlib_bcrypt.using(rounds=4).hash("old-app-password")
    names = {f"u{i}{ch}x": f"u{i}{shown}x" for i, (ch, shown) in enumerate(UNSAFE.items())
             if ch != "\u0085"}  # a C1 control no stored name may hold
    csv = tmp_path / "users.csv"
    csv.write_text("username,password_hash\n" + "".join(f"{n},{hashed}\n" for n in names))
    env = {"DATABASE_URL": sqlite_url(tmp_path / "list.db")}
    res = run_gatehouse(["users", "import", str(csv)], env=env)
    assert res.returncode == 0, res.stderr
    res = run_gatehouse(["users", "list"], env=env)
    assert res.returncode == 0, res.stderr
    for ch in UNSAFE:
        assert ch not in res.stdout, f"U+{ord(ch):04X} listed raw"
    rows = res.stdout.rstrip("\n").split("\n")[1:]
    assert {row.split("\t")[1] for row in rows} == set(names.values())


def test_log_level_warn(make_server):
    srv = make_server(env={"LOG_LEVEL": "warn", "ACCESS_LOG": "1", "LOG_FORMAT": "json"})
    user = srv.new_user("lv")
    assert srv.login(user["username"], "Wr0ng-passw0rd!").status_code == 401
    srv.stop()
    objs = json_lines(srv.stderr())
    assert objs and all(o["level"] in ("warn", "error") for o in objs), objs
    assert len(events(objs, "login.failed")) == 1, objs
