"""What lands in the SQLite file: password hashes that passlib verifies (bcrypt
cost, argon2id), the users and sessions rows, and no plaintext secrets.

These tests open the SQLite file read-only; those on the default server skip
when GATEHOUSE_TEST_DATABASE_URL points it at another database.
"""
import re
import sqlite3
from pathlib import Path

import pytest
from passlib.hash import argon2 as passlib_argon2
from passlib.hash import bcrypt as passlib_bcrypt

from gh_helpers import PASSWORD, assert_422, decode_token, insert_user, unique_username

ARGON2_RE = re.compile(r"^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$")
BCRYPT_RE = re.compile(r"^\$2b\$\d\d\$[./A-Za-z0-9]{53}$")


def check_argon2(stored, password):
    assert ARGON2_RE.match(stored), stored
    if passlib_argon2.has_backend():
        assert passlib_argon2.verify(password, stored)
        assert not passlib_argon2.verify(password + "x", stored)


# ------------------------------------------------------------------ bcrypt
def test_bcrypt_hash_cost_4_verified_by_passlib(server):
    u = server.new_user()
    stored = server.stored_hash(u["username"])
    assert stored.startswith("$2b$04$"), stored
    assert BCRYPT_RE.match(stored), stored
    assert passlib_bcrypt.verify(PASSWORD, stored)
    assert not passlib_bcrypt.verify(PASSWORD + "x", stored)


@pytest.mark.parametrize("password", ["\u20ac" * 24, "\u00e9" * 8, "\U0001F600" * 18],
                         ids=["euro24", "eacute8", "emoji18"])
def test_bcrypt_hashes_utf8_bytes(server, password):
    u = server.new_user(password=password)
    assert passlib_bcrypt.verify(password, server.stored_hash(u["username"]))


def test_bcrypt_hash_distinct_salts(server):
    a = server.new_user()
    b = server.new_user()
    assert server.stored_hash(a["username"]) != server.stored_hash(b["username"])


def test_default_bcrypt_cost_is_12(make_server):
    srv = make_server(env={"BCRYPT_ROUNDS": None})
    u = srv.new_user()
    stored = srv.stored_hash(u["username"])
    assert stored.startswith("$2b$12$"), stored
    assert passlib_bcrypt.verify(PASSWORD, stored)


def test_bcrypt_rounds_setting(make_server):
    srv = make_server(env={"BCRYPT_ROUNDS": "5"})
    u = srv.new_user()
    assert srv.stored_hash(u["username"]).startswith("$2b$05$")


# ----------------------------------------------------------------- argon2id
@pytest.fixture(scope="module")
def argon_server(make_module_server):
    return make_module_server(env={"PASSWORD_HASH": "argon2id"})


def test_argon2id_hash(argon_server):
    u = argon_server.new_user()
    check_argon2(argon_server.stored_hash(u["username"]), PASSWORD)
    assert argon_server.login(u["username"]).status_code == 200
    assert argon_server.login(u["username"], PASSWORD + "x").status_code == 401


@pytest.mark.parametrize("nbytes", [73, 200, 1024])
def test_argon2id_allows_up_to_1024_bytes(argon_server, nbytes):
    password = "q" * (nbytes - 3) + "\u20ac"  # 3-byte tail: counted in bytes, not chars
    assert len(password.encode()) == nbytes
    u = argon_server.new_user(password=password)
    assert argon_server.login(u["username"], password).status_code == 200
    # No truncation: changing only the last character (beyond bcrypt's 72 bytes) fails.
    assert argon_server.login(u["username"], password[:-1] + "x").status_code == 401


def test_argon2id_over_1024_bytes_too_long(argon_server):
    password = "q" * 1022 + "\u20ac"  # 1025 bytes
    assert_422(argon_server.register(unique_username(), password), "password", "too_long")


def test_argon2id_still_applies_other_rules(argon_server):
    assert_422(argon_server.register(unique_username(), "short"), "password", "too_short")
    assert_422(argon_server.register(unique_username(), "password"), "password", "too_common")
    assert_422(argon_server.register(unique_username(), "abcdefgh\u0000x"), "password",
               "contains_nul")


def test_switching_hash_scheme_keeps_old_users(make_server, tmp_path):
    db = tmp_path / "switch.db"
    first = make_server(db_path=db)
    bcrypt_user = first.new_user("bc")
    assert first.stored_hash(bcrypt_user["username"]).startswith("$2b$04$")
    first.stop()

    second = make_server(db_path=db, env={"PASSWORD_HASH": "argon2id"})
    assert second.login(bcrypt_user["username"]).status_code == 200
    argon_user = second.new_user("ar")
    check_argon2(second.stored_hash(argon_user["username"]), PASSWORD)
    second.stop()

    third = make_server(db_path=db)  # back to bcrypt
    assert third.login(argon_user["username"]).status_code == 200
    assert third.login(bcrypt_user["username"]).status_code == 200
    assert third.login(argon_user["username"], PASSWORD + "x").status_code == 401


def schemes_logged(srv):
    line = [x for x in srv.stderr().splitlines() if "password schemes stored" in x]
    assert len(line) == 1, srv.stderr()
    return line[0].split("password schemes stored: ", 1)[1].strip()


def test_stored_schemes_without_a_scan(make_server, tmp_path):
    """The dummy check of unknown names covers every scheme stored, read at
    start from the record migration 5 keeps (triggers on users), not from a
    scan of users: a hash written by hand counts, and so do the rows that
    were there before the migration."""
    db = tmp_path / "schemes.db"
    first = make_server(db_path=db)
    assert schemes_logged(first) == "none"
    first.new_user("bc")
    first.stop()
    # Written by hand, as another tool could; start-up never verifies it.
    argon = "$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHRzYWx0$" + "A" * 43
    insert_user(db, unique_username("ar"), argon)

    second = make_server(db_path=db)
    assert schemes_logged(second) == "bcrypt, argon2id"
    second.stop()

    # A database from before migration 5, with both schemes among its rows
    # (what migrations 6 to 9 added undone first, as it was not there either).
    conn = sqlite3.connect(str(db))
    with conn:
        conn.executescript("DROP TABLE audit_events; DROP TABLE api_keys;"
                           "ALTER TABLE users DROP COLUMN roles;"
                           "ALTER TABLE users DROP COLUMN disabled;"
                           "DROP TABLE oidc_requests; DROP TABLE oidc_consents;"
                           "DROP TABLE oidc_codes; DROP TABLE oidc_clients;"
                           "DROP INDEX sessions_sso_hash; DROP INDEX sessions_sso_session;"
                           "ALTER TABLE sessions DROP COLUMN client_id;"
                           "ALTER TABLE sessions DROP COLUMN scope;"
                           "ALTER TABLE sessions DROP COLUMN auth_time;"
                           "ALTER TABLE sessions DROP COLUMN sso_session;"
                           "ALTER TABLE sessions DROP COLUMN sso_hash;"
                           "DROP TABLE mfa_flows; DROP TABLE passkeys; DROP TABLE totp;"
                           "DROP TABLE recovery_codes; DROP INDEX users_webauthn_handle;"
                           "ALTER TABLE users DROP COLUMN webauthn_handle;"
                           "ALTER TABLE sessions DROP COLUMN amr;"
                           "DROP TABLE email_tokens; DROP TABLE password_requests;"
                           "DROP TABLE outbox; DROP INDEX users_email_key;"
                           "ALTER TABLE users DROP COLUMN email;"
                           "ALTER TABLE users DROP COLUMN email_key;"
                           "ALTER TABLE users DROP COLUMN email_verified;"
                           "ALTER TABLE users DROP COLUMN mail_requested_at;"
                           "DROP TRIGGER users_scheme_insert; DROP TRIGGER users_scheme_update;"
                           "DROP TABLE password_schemes;"
                           "DELETE FROM schema_migrations WHERE version >= 5;")
    conn.close()
    third = make_server(db_path=db)
    assert "migrated to version 9" in third.stderr()
    assert schemes_logged(third) == "bcrypt, argon2id"
    third.stop()

    # Only argon2id stored: the scan-free record says so exactly.
    only = tmp_path / "only.db"
    fourth = make_server(db_path=only, env={"PASSWORD_HASH": "argon2id"})
    fourth.new_user("ar")
    fourth.stop()
    assert schemes_logged(make_server(db_path=only)) == "argon2id"


# ------------------------------------------------------------------- rows
def test_users_row(server):
    name = unique_username("RowCheck")
    u = server.new_user(username=name)
    cols = {row[1] for row in server.query("PRAGMA table_info(users)")}
    assert {"id", "username", "username_key", "password_hash", "created_at",
            "updated_at"} <= cols, cols
    rows = server.query("SELECT id, username, username_key FROM users WHERE id = ?", (u["id"],))
    assert rows == [(u["id"], name, name.lower())]


def test_sessions_row(server):
    u = server.new_user()
    body = server.login(u["username"]).json()
    claims = decode_token(body["access_token"])
    cols = {row[1] for row in server.query("PRAGMA table_info(sessions)")}
    assert {"id", "user_id", "refresh_hash", "generation", "created_at", "expires_at",
            "revoked_at"} <= cols, cols
    rows = server.query("SELECT * FROM sessions WHERE user_id = ?", (u["id"],))
    assert len(rows) == 1, rows
    names = [row[1] for row in server.query("PRAGMA table_info(sessions)")]
    row = dict(zip(names, rows[0]))
    assert str(row["id"]) == claims["sid"]
    assert row["revoked_at"] is None
    # The refresh token is stored only as a hash.
    assert body["refresh_token"] not in [str(v) for v in row.values()]
    assert row["refresh_hash"] and str(row["refresh_hash"]) != body["refresh_token"]


def test_no_plaintext_password_in_database_files(make_server):
    srv = make_server()
    marker = "Plaintext-Marker-" + unique_username()[:20]
    u = srv.new_user(password=marker)
    assert srv.login(u["username"], marker).status_code == 200
    blob = b""
    for suffix in ("", "-wal", "-journal"):
        path = Path(str(srv.db_path) + suffix)
        if path.exists():
            blob += path.read_bytes()
    assert blob, "no database file found"
    assert marker.encode() not in blob
