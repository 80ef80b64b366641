"""Moving from the FastAPI app: its users, with the hashes passlib made, move
to gatehouse and log in with their old passwords.

A throwaway PostgreSQL cluster (scripts/pg-test.sh, as test_postgres.py)
holds a database in the app's exact schema (SQLModel's DDL for its User
model).  The users move twice: with `users import --from-database` and the
app's postgresql+asyncpg:// URL, and through CSV with the psql command the
README gives, which this test reads out of the README and runs.  Then a
gatehouse on each target answers logins over HTTP.  The CSV error cases run
on SQLite.  Without PostgreSQL's server programs the PostgreSQL tests skip,
unless GATEHOUSE_TEST_REQUIRE_PG=1 (make test sets it), then they fail.
"""
import os
import re
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest
from passlib.hash import bcrypt

from gh_helpers import BINARY, REPO, SECRET_KEY, base_env, sqlite_url
# The throwaway cluster, one per module: test_postgres.py's fixture.
from test_postgres import pg  # noqa: F401 (a pytest fixture, used by name)

# The app's table as SQLModel 0.0.8 creates it for
# /work/shared/peers/fastapi-seed/main.py's User (SQLAlchemy 1.4 DDL).
OLD_SCHEMA = (
    'CREATE TABLE "user" (id SERIAL NOT NULL, username VARCHAR NOT NULL, '
    "hashed_password VARCHAR NOT NULL, PRIMARY KEY (id)); "
    'CREATE UNIQUE INDEX ix_user_username ON "user" (username);'
)

# (id, username, password, bcrypt ident): passlib's default $2b$, plus the
# $2y$ and $2a$ other systems write.  Gaps in the ids, as deletions leave.
OLD_USERS = [
    (3, "alice", "alice-old-password-1", "2b"),
    (5, "dave.c", "dave-old-password-2", "2b"),
    (8, "Bob Smith", "bob-old-password-3", "2b"),
    (13, "zoë", "zoe-old-password-4", "2b"),
    (21, "ab", "ab-old-password-5", "2b"),
    (34, "yvonne", "yvonne-old-password-6", "2y"),
    (55, "arthur", "arthur-old-password-7", "2a"),
]
CLI_TIMEOUT = 60


def login_params():
    # Bob Smith, zoë and ab break the registration rules and log in all the same.
    for uid, name, pw, _ in OLD_USERS:
        yield pytest.param(uid, name, pw, id=name)


def gatehouse(args, database_url, stdin=None, cwd=None, env=None):
    full = base_env()
    full.update({"DATABASE_URL": database_url, "SECRET_KEY": SECRET_KEY, "BCRYPT_ROUNDS": "4"})
    full.update(env or {})
    return subprocess.run([str(BINARY), *args], input=stdin, capture_output=True, text=True,
                          env=full, cwd=cwd, timeout=CLI_TIMEOUT)


def asyncpg_url(url):
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


def readme_copy_block():
    """The README's psql \\copy command and the import that follows it."""
    text = (REPO / "README.md").read_text()
    section = text.split("## Moving from the FastAPI app", 1)[1].split("\n## ", 1)[0]
    for block in re.findall(r"```sh\n(.*?)```", section, re.S):
        if "\\copy" in block:
            return block
    raise AssertionError("the README's Moving section has no psql \\copy command")


def old_app_db(pg, users=OLD_USERS, broken=None):
    """A database of the app's with users; broken names one whose hash is
    replaced by something no system writes."""
    url, name = pg.fresh_db()
    rows = []
    for uid, uname, pw, ident in users:
        h = bcrypt.using(rounds=4, ident=ident).hash(pw)
        if uname == broken:
            h = "pbkdf2:sha256:not-a-bcrypt-hash"
        rows.append("(%d, '%s', '%s')" % (uid, uname.replace("'", "''"), h))
    pg.psql(OLD_SCHEMA + ' ALTER TABLE "user" OWNER TO gatehouse; '
            'INSERT INTO "user" (id, username, hashed_password) VALUES ' + ", ".join(rows)
            + "; SELECT setval(pg_get_serial_sequence('\"user\"', 'id'), 55)", db=name)
    return url, name


@pytest.fixture(scope="module")
def from_database(pg, make_module_server):
    old_url, _ = old_app_db(pg)
    target, db = pg.fresh_db()
    proc = gatehouse(["users", "import", "--from-database", asyncpg_url(old_url)], target)
    assert proc.returncode == 0, proc.stderr
    assert "imported 7 users" in proc.stdout
    srv = make_module_server(database_url=target)
    srv.db_name = db
    return srv


@pytest.fixture(scope="module")
def from_csv(pg, make_module_server, tmp_path_factory):
    """The README's psql \\copy command and import, run as written, with
    OLD_DB and a gatehouse on PATH; the target is SQLite."""
    old_url, _ = old_app_db(pg)
    work = tmp_path_factory.mktemp("readme")
    bindir = work / "bin"
    bindir.mkdir()
    (bindir / "gatehouse").symlink_to(BINARY)
    db = work / "gh.db"
    env = base_env()
    env.update({"OLD_DB": old_url, "DATABASE_URL": sqlite_url(db), "SECRET_KEY": SECRET_KEY,
                "PATH": f"{bindir}:{env.get('PATH', '/usr/bin:/bin')}"})
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", readme_copy_block()], cwd=work,
                          env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT)
    assert proc.returncode == 0, proc.stderr
    assert "imported 7 users" in proc.stdout
    assert (work / "users.csv").read_text().splitlines()[0] == "username,password_hash"
    return make_module_server(db_path=db)


@pytest.mark.parametrize("uid,name,pw", login_params())
def test_from_database_logs_in_with_old_password(from_database, uid, name, pw):
    r = from_database.login(name, pw)
    assert r.status_code == 200, r.text
    me = from_database.me(r.json()["access_token"]).json()
    assert me["id"] == uid
    assert me["username"] == name
    assert from_database.login(name, pw + "x").status_code == 401


@pytest.mark.parametrize("uid,name,pw", login_params())
def test_csv_logs_in_with_old_password(from_csv, uid, name, pw):
    r = from_csv.login(name, pw)
    assert r.status_code == 200, r.text


def test_from_database_keeps_ids_and_new_ids_follow(from_database, pg):
    ids = pg.psql("SELECT string_agg(id::text, ',' ORDER BY id) FROM users",
                  db=from_database.db_name)
    assert ids.split(",")[:7] == [str(u[0]) for u in OLD_USERS]
    r = from_database.register("newcomer", "a-fresh-password-8")
    assert r.status_code == 200, r.text
    assert r.json()["id"] > max(u[0] for u in OLD_USERS)


def test_from_database_list_shows_no_hashes(from_database, pg):
    target = urllib.parse.urlunsplit(urllib.parse.urlsplit(pg.url)._replace(
        path="/" + from_database.db_name))
    proc = gatehouse(["users", "list"], target)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "id\tusername\tcreated_at"
    assert "3\talice\t" in proc.stdout and "13\tzoë\t" in proc.stdout
    assert "$2" not in proc.stdout


def test_from_database_broken_hash_imports_nothing(pg):
    old_url, _ = old_app_db(pg, broken="dave.c")
    target, db = pg.fresh_db()
    proc = gatehouse(["users", "import", "--from-database", asyncpg_url(old_url)], target)
    assert proc.returncode == 1
    assert 'id 5: the password hash of "dave.c" is in no format' in proc.stderr
    assert "nothing was imported" in proc.stderr
    assert pg.psql("SELECT COUNT(*) FROM users", db=db) == "0"


def test_from_database_bad_url_is_reported_without_password(pg, tmp_path):
    proc = gatehouse(["users", "import", "--from-database",
                      "postgresql+asyncpg://gatehouse:s3cret-pw@127.0.0.1:1/none"],
                     sqlite_url(tmp_path / "gh.db"))
    assert proc.returncode == 1
    assert "--from-database" in proc.stderr
    assert "s3cret-pw" not in proc.stderr


# ------------------------------------------------------------- CSV on SQLite
HASH = bcrypt.using(rounds=4).hash("csv-old-password-1")


def csv_import(tmp_path, text, *extra, db=None):
    path = tmp_path / "in.csv"
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    db = db or sqlite_url(tmp_path / "gh.db")
    return gatehouse(["users", "import", *extra, str(path)], db), db


def user_count(db):
    proc = gatehouse(["users", "list"], db)
    assert proc.returncode == 0, proc.stderr
    return len(proc.stdout.splitlines()) - 1


def test_csv_bad_header(tmp_path):
    proc, db = csv_import(tmp_path, f"user,hash\nalice,{HASH}\n")
    assert proc.returncode == 1
    assert 'line 1: the header must be "username,password_hash"' in proc.stderr


def test_csv_unknown_hash_format_imports_nothing(tmp_path):
    proc, db = csv_import(tmp_path, f"username,password_hash\nalice,{HASH}\nbob,md5$abc\n")
    assert proc.returncode == 1
    assert 'line 3: the password hash of "bob" is in no format' in proc.stderr
    assert user_count(db) == 0


def test_csv_duplicate_within_file(tmp_path):
    proc, db = csv_import(tmp_path, f"username,password_hash\nAlice,{HASH}\nx,{HASH}\n"
                                    f"alice,{HASH}\n")
    assert proc.returncode == 1
    assert 'line 4: the username "alice" is the same account as that of line 2' in proc.stderr
    assert user_count(db) == 0


def test_csv_existing_user_with_and_without_skip(tmp_path):
    proc, db = csv_import(tmp_path, f"username,password_hash\nalice,{HASH}\n")
    assert proc.returncode == 0, proc.stderr
    text = f"username,password_hash\nnew1,{HASH}\nALICE,{HASH}\n"
    proc, _ = csv_import(tmp_path, text, db=db)
    assert proc.returncode == 1
    assert 'line 3: the username "ALICE" exists already' in proc.stderr
    assert "gatehouse users import: 1 problem; nothing was imported" in proc.stderr
    assert user_count(db) == 1
    proc, _ = csv_import(tmp_path, text, "--skip-existing", db=db)
    assert proc.returncode == 0, proc.stderr
    assert "imported 1 user, skipped 1 that existed" in proc.stdout
    assert user_count(db) == 2


def test_csv_control_character_in_name(tmp_path):
    proc, db = csv_import(tmp_path, f'username,password_hash\nok,{HASH}\n"a\tb",{HASH}\n')
    assert proc.returncode == 1
    assert 'line 3: the username "a\\x09b" is not UTF-8 without control characters' in proc.stderr
    assert user_count(db) == 0


def test_csv_name_over_255_bytes(tmp_path):
    name = "é" * 128  # 256 bytes
    proc, db = csv_import(tmp_path, f"username,password_hash\n{'x' * 255},{HASH}\n"
                                    f"{name},{HASH}\n")
    assert proc.returncode == 1
    assert "line 3: the username" in proc.stderr and "longer than 255 bytes" in proc.stderr
    assert "line 2" not in proc.stderr
    assert user_count(db) == 0


def test_csv_quoted_fields_and_crlf(tmp_path):
    proc, db = csv_import(tmp_path, f'username,password_hash\r\n"Smith, ""Bob""",{HASH}\r\n')
    assert proc.returncode == 0, proc.stderr
    assert 'Smith, "Bob"' in gatehouse(["users", "list"], db).stdout


def test_import_usage_errors(tmp_path):
    db = sqlite_url(tmp_path / "gh.db")
    assert gatehouse(["users", "import"], db).returncode == 2
    assert gatehouse(["users", "import", "a.csv", "--from-database", "postgresql://x/y"],
                     db).returncode == 2
    assert gatehouse(["users", "import", "--no-such-flag", "a.csv"], db).returncode == 2
    proc = gatehouse(["users", "import", str(tmp_path / "missing.csv")], db)
    assert proc.returncode == 1


@pytest.mark.parametrize("cmd", ["import", "add", "delete", "list"])
def test_users_help(cmd, tmp_path):
    proc = gatehouse(["users", cmd, "--help"], sqlite_url(tmp_path / "gh.db"))
    assert proc.returncode == 0
    assert proc.stdout.startswith(f"Usage: gatehouse users {cmd}")
    assert "Exit status: 0 success, 1 failure, 2 bad usage or configuration." in proc.stdout


def test_add_delete_list(make_server, tmp_path):
    db_path = tmp_path / "gh.db"
    db = sqlite_url(db_path)
    proc = gatehouse(["users", "add", "carol"], db, stdin="short\n")
    assert proc.returncode == 1
    assert "password: must be at least 8 characters" in proc.stderr
    proc = gatehouse(["users", "add", "Bad Name"], db, stdin="a-good-password-9\n")
    assert proc.returncode == 1
    assert "username: may contain only" in proc.stderr
    proc = gatehouse(["users", "add", "carol"], db, stdin="a-good-password-9\n")
    assert proc.returncode == 0, proc.stderr
    assert gatehouse(["users", "add", "CAROL"], db, stdin="a-good-password-9\n").returncode == 1
    # The commands work beside a running server on the same SQLite file.
    srv = make_server(db_path=db_path)
    r = srv.login("carol", "a-good-password-9")
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    listed = gatehouse(["users", "list"], db)
    assert listed.returncode == 0 and "\tcarol\t" in listed.stdout
    proc = gatehouse(["users", "delete", "Carol"], db)
    assert proc.returncode == 0, proc.stderr
    assert gatehouse(["users", "delete", "carol"], db).returncode == 1
    assert srv.login("carol", "a-good-password-9").status_code == 401
    # /me reads the user, who is gone; the session's revocation is recorded.
    assert srv.me(token).status_code == 401
    assert srv.query("SELECT COUNT(*) FROM revocations")[0][0] == 1
    # The running server hears of it from the file (it looks twice a
    # second): /verify, which reads no database, refuses the token too.
    deadline = time.monotonic() + 2.0
    while srv.verify(token).status_code != 401 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.verify(token).status_code == 401


# ------------------------------------------------------------- the hint at start
def test_serve_names_the_import_when_old_users_wait(pg, make_server):
    """gatehouse served on the app's own database, "user" full and users
    empty: one line says how to import them; none once they are imported.
    The scheme record (migration 5's triggers) sees the imported hashes on
    PostgreSQL as on SQLite."""
    url, _ = old_app_db(pg)
    srv = make_server(database_url=url)
    hint = [line for line in srv.stderr().splitlines() if "users import --from-database" in line]
    assert len(hint) == 1, srv.stderr()
    assert 'table "user"' in hint[0] and "password" not in hint[0].split("gatehouse:", 1)[1]
    assert "password schemes stored: none" in srv.stderr()
    srv.stop()

    proc = gatehouse(["users", "import", "--from-database", url], url)
    assert proc.returncode == 0, proc.stderr
    again = make_server(database_url=url)
    assert "users import --from-database" not in again.stderr(), again.stderr()
    assert "password schemes stored: bcrypt" in again.stderr()


def test_serve_without_old_table_says_nothing_of_it(pg, make_server):
    url, _ = pg.fresh_db()
    srv = make_server(database_url=url)
    assert "users import" not in srv.stderr() and "cannot tell" not in srv.stderr()
