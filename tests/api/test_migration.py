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
    assert "gatehouse users import: 1 row refused; nothing was imported" in proc.stderr
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


@pytest.mark.parametrize("cmd", ["import", "add", "delete", "reset-password", "list"])
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


# ---------------------------------------------- refused rows, ids, cutovers
COSTLY = "$2b$31$" + HASH[7:]  # a cost one login would spend days on
CONTROL_NAME = "tab\there"
FORMULA_NAME = "=HYPERLINK(\"http://x\",\"y\")"


def read_csv(path):
    import csv
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def dirty_csv():
    # (line, name, hash): a case-duplicate, a name over 255 bytes, a
    # control byte, a hash of a cost past the bounds, and a formula-like
    # name, which is a name like any other.
    return [(2, "alice", HASH), (3, "ALICE", HASH), (4, "x" * 256, HASH),
            (5, CONTROL_NAME, HASH), (6, "bob", COSTLY), (7, FORMULA_NAME, HASH)]


def csv_text(rows):
    def field(s):
        return '"' + s.replace('"', '""') + '"' if any(c in s for c in ',"\t') else s
    return "username,password_hash\n" + "".join(f"{field(n)},{h}\n" for _, n, h in rows)


def test_dirty_csv_refused_in_line_order_with_what_to_do(tmp_path):
    proc, db = csv_import(tmp_path, csv_text(dirty_csv()))
    assert proc.returncode == 1
    lines = [l for l in proc.stderr.splitlines() if ": line " in l]
    assert [int(re.search(r": line (\d+):", l).group(1)) for l in lines] == [3, 4, 5, 6]
    assert 'line 3: the username "ALICE" is the same account as that of line 2' in lines[0]
    assert 'line 6: the password hash of "bob" is of bcrypt cost 31, over the 16' in lines[3]
    assert "4 rows refused; nothing was imported" in proc.stderr
    assert "--skip-invalid" in proc.stderr and "--rejects FILE" in proc.stderr
    assert user_count(db) == 0


def test_skip_invalid_imports_the_rest_and_rejects_round_trip(make_server, tmp_path):
    rejects = tmp_path / "rejects.csv"
    proc, db = csv_import(tmp_path, csv_text(dirty_csv()), "--skip-invalid",
                          "--rejects", str(rejects))
    assert proc.returncode == 0, proc.stderr
    assert "imported 2 users, skipped 0 that existed, refused 4 rows" in proc.stdout
    rows = read_csv(rejects)
    assert rows[0] == ["id", "username", "password_hash", "reason"]
    # The refused rows exactly as they were (bytes kept, control byte and
    # all), each with its reason.
    assert [r[1:3] for r in rows[1:]] == [[n, h] for _, n, h in dirty_csv()[1:5]]
    assert rows[1][3].endswith('line 3: the username "ALICE" is the same account as that of '
                               'line 2')
    assert "is not UTF-8 without control characters" in rows[3][3]
    # Corrected (ALICE is another person, told a new name), the file imports.
    fixed = [r for r in rows if r[1] == "ALICE" or r[0] == "id"]
    fixed[1][1] = "alice2"
    import csv
    with open(rejects, "w", newline="") as f:
        csv.writer(f).writerows(fixed)
    proc = gatehouse(["users", "import", str(rejects)], db)
    assert proc.returncode == 0, proc.stderr
    assert "imported 1 user," in proc.stdout
    # The formula-like name is stored, listed and logs in as it was written.
    listed = gatehouse(["users", "list"], db).stdout
    assert f"\t{FORMULA_NAME}\t" in listed and "\talice2\t" in listed
    srv = make_server(db_path=tmp_path / "gh.db")
    assert srv.login(FORMULA_NAME, "csv-old-password-1").status_code == 200
    assert srv.login("alice2", "csv-old-password-1").status_code == 200
    assert srv.login(CONTROL_NAME, "csv-old-password-1").status_code == 401


def test_reimport_during_cutover(make_server, tmp_path):
    """The old app keeps registering (id 8) while gatehouse serves and a new
    user takes 8 there: a re-run skips what came over, and the clash is
    refused with the row named, or given a new id when asked."""
    first = "id,username,password_hash\n3,alice,%s\n5,dave,%s\n" % (HASH, HASH)
    proc, db = csv_import(tmp_path, first)
    assert proc.returncode == 0, proc.stderr
    srv = make_server(db_path=tmp_path / "gh.db")
    ids = [srv.register(f"new{i}", "a-fresh-password-8").json()["id"] for i in range(3)]
    assert ids == [6, 7, 8]
    second = first + "8,carol,%s\n" % HASH
    proc, _ = csv_import(tmp_path, second, db=db)
    assert proc.returncode == 1
    assert 'line 2: the username "alice" exists already (--skip-existing' in proc.stderr
    proc, _ = csv_import(tmp_path, second, "--skip-existing", db=db)
    assert proc.returncode == 1
    assert ('line 4: the id 8 of "carol" belongs to another user already ("new2"); --new-ids'
            in proc.stderr)
    proc, _ = csv_import(tmp_path, second, "--skip-existing", "--new-ids", db=db)
    assert proc.returncode == 0, proc.stderr
    assert "line 4: the id 8 was another user's; imported with the id 9" in proc.stdout
    assert "imported 1 user, skipped 2 that existed, 1 with a new id" in proc.stdout
    # Run again: carol, now 9, is the row imported before; nobody is lost.
    proc, _ = csv_import(tmp_path, second, "--skip-existing", "--new-ids", db=db)
    assert proc.returncode == 0, proc.stderr
    assert "imported 0 users, skipped 3 that existed" in proc.stdout
    assert srv.login("carol", "csv-old-password-1").json()["access_token"]
    assert srv.login("new2", "a-fresh-password-8").status_code == 200


@pytest.mark.parametrize("uid", [10**18, 9 * 10**18])
def test_large_ids_log_in_and_leave_room(make_server, tmp_path, uid):
    proc, db = csv_import(tmp_path, "id,username,password_hash\n%d,big,%s\n" % (uid, HASH))
    assert proc.returncode == 0, proc.stderr
    srv = make_server(db_path=tmp_path / "gh.db")
    token = srv.login("big", "csv-old-password-1").json()["access_token"]
    me = srv.me(token)
    assert me.status_code == 200 and me.json()["id"] == uid
    assert srv.verify(token).status_code == 204
    r = srv.register("after-big", "a-fresh-password-8")
    assert r.status_code == 200 and r.json()["id"] == uid + 1


@pytest.mark.parametrize("uid", [9 * 10**18 + 1, 2**63 - 1, 2**63])
def test_id_leaving_no_room_is_refused(tmp_path, uid):
    proc, db = csv_import(tmp_path, "id,username,password_hash\n%d,big,%s\n" % (uid, HASH))
    assert proc.returncode == 1
    assert "line 2: " in proc.stderr
    assert "leaves no room for new users" in proc.stderr or "not a number" in proc.stderr
    assert user_count(db) == 0


def first_line(proc):
    return proc.stderr.splitlines()[0]


def test_writing_commands_name_their_database_first(tmp_path):
    # No DATABASE_URL: the default file in the working directory, said so.
    env = base_env()
    env.update({"SECRET_KEY": SECRET_KEY, "BCRYPT_ROUNDS": "4", "LOG_LEVEL": "warn"})
    (tmp_path / "in.csv").write_text(f"username,password_hash\nalice,{HASH}\n")
    runs = [(["users", "import", "in.csv"], None, "importing users into"),
            (["users", "add", "carol"], "a-good-password-9\n", "adding a user to"),
            (["users", "reset-password", "carol", "--stdin"], "another-password-9\n",
             "setting a password in"),
            (["users", "delete", "carol"], None, "deleting a user from"),
            (["migrate"], None, "migrating")]
    for args, stdin, doing in runs:
        proc = subprocess.run([str(BINARY), *args], input=stdin, capture_output=True, text=True,
                              env=env, cwd=tmp_path, timeout=CLI_TIMEOUT)
        assert proc.returncode == 0, proc.stderr
        assert first_line(proc).endswith(
            f"{doing} the SQLite database {tmp_path.resolve()}/gatehouse.db "
            "(DATABASE_URL is not set: the default)"), proc.stderr
    # A PostgreSQL URL shows host, port and database, never the password,
    # before anything is tried.
    proc = gatehouse(["users", "import", "--from-database", "postgresql://x:y@127.0.0.1:1/old",
                      str(tmp_path / "in.csv")],
                     "postgresql://gatehouse:s3cret-pw@127.0.0.1:1/target")
    assert proc.returncode == 2
    proc = gatehouse(["users", "import", str(tmp_path / "in.csv")],
                     "postgresql://gatehouse:s3cret-pw@127.0.0.1:1/target",
                     env={"DB_CONNECT_TIMEOUT_SECONDS": "1"})
    assert proc.returncode == 1
    assert first_line(proc).endswith("importing users into the PostgreSQL database "
                                     "127.0.0.1:1/target")
    assert "s3cret-pw" not in proc.stderr


def test_reset_password(make_server, tmp_path):
    db_path = tmp_path / "gh.db"
    db = sqlite_url(db_path)
    assert gatehouse(["users", "add", "carol"], db, stdin="a-good-password-9\n").returncode == 0
    srv = make_server(db_path=db_path)
    r = srv.login("carol", "a-good-password-9")
    token, refresh = r.json()["access_token"], r.json()["refresh_token"]
    proc = gatehouse(["users", "reset-password", "carol", "--stdin"], db, stdin="short\n")
    assert proc.returncode == 1
    assert "password: must be at least 8 characters" in proc.stderr
    proc = gatehouse(["users", "reset-password", "nobody", "--stdin"], db,
                     stdin="a-new-password-7\n")
    assert proc.returncode == 1 and "no such user" in proc.stderr
    proc = gatehouse(["users", "reset-password", "CAROL", "--stdin"], db,
                     stdin="a-new-password-7\n")
    assert proc.returncode == 0, proc.stderr
    assert "user.password_reset user_id=1" in proc.stderr
    assert srv.login("carol", "a-good-password-9").status_code == 401
    assert srv.login("carol", "a-new-password-7").status_code == 200
    # Every session of the user ended with the old password.
    assert srv.post_json("/refresh", {"refresh_token": refresh}).status_code == 401
    assert srv.query("SELECT COUNT(*) FROM revocations")[0][0] == 1
    # The running server hears of it from the file (it looks twice a second).
    deadline = time.monotonic() + 2.0
    while srv.me(token).status_code != 401 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.me(token).status_code == 401
    assert gatehouse(["users", "reset-password", "carol"], db,
                     stdin="a-new-password-7\n").returncode == 2


def test_users_help_columns(tmp_path):
    proc = gatehouse(["users", "--help"], sqlite_url(tmp_path / "gh.db"))
    listed = [l for l in proc.stdout.splitlines() if l.startswith("  gatehouse users ")]
    assert [l.split()[2] for l in listed] == ["import", "add", "delete", "reset-password", "list",
                                              "roles", "disable", "enable"]
    starts = {re.match(r"  (gatehouse users \S+ +)", l).end() for l in listed}
    assert len(starts) == 1  # one column
    assert all(re.match(r"  gatehouse users \S+  +\S", l) for l in listed)


def readme_cutover_commands():
    """The README's cutover block: the first import, and the second."""
    text = (REPO / "README.md").read_text()
    section = text.split("### A cutover that loses nobody", 1)[1].split("\n## ", 1)[0]
    block = re.findall(r"```sh\n(.*?)```", section, re.S)[0]
    lines = [l for l in block.replace("\\\n", " ").splitlines() if l and not l.startswith("#")]
    assert len(lines) == 2, lines
    return lines


def test_readme_cutover_loses_nobody(pg, tmp_path):
    """The README's sequence, run as written: users the old app gains after
    the first import, one whose id a gatehouse registration took and a
    case-duplicate, all end in gatehouse or in rejects.csv."""
    first, second = readme_cutover_commands()
    old_url, old_db = old_app_db(pg)
    db = sqlite_url(tmp_path / "gh.db")
    env = base_env()
    env.update({"OLD_DB": old_url, "DATABASE_URL": db, "SECRET_KEY": SECRET_KEY,
                "BCRYPT_ROUNDS": "4", "PATH": f"{BINARY.parent}:{env.get('PATH', '/usr/bin')}"})

    def run(cmd):
        return subprocess.run(["bash", "-euo", "pipefail", "-c", cmd], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=CLI_TIMEOUT)
    proc = run(first)
    assert proc.returncode == 0, proc.stderr
    assert "imported 7 users" in proc.stdout
    # gatehouse serves: a registration takes id 56; the old app, still
    # open, gives 56 to someone else, and takes a second spelling of alice.
    assert gatehouse(["users", "add", "gh-newcomer"], db,
                     stdin="a-good-password-9\n").stdout.startswith("added user 56:")
    late = bcrypt.using(rounds=4).hash("late-password-1")
    pg.psql("INSERT INTO \"user\" (id, username, hashed_password) VALUES "
            f"(56, 'late', '{late}'), (57, 'ALICE', '{late}')", db=old_db)
    proc = run(second)
    assert proc.returncode == 0, proc.stderr
    assert "id 56: the id 56 was another user's; imported with the id 57" in proc.stdout
    assert "imported 1 user, skipped 7 that existed, 1 with a new id, refused 1 row" in proc.stdout
    listed = gatehouse(["users", "list"], db).stdout
    names = {l.split("\t")[1] for l in listed.splitlines()[1:]}
    assert names == {u[1] for u in OLD_USERS} | {"gh-newcomer", "late"}
    rejects = read_csv(tmp_path / "rejects.csv")
    assert [r[:3] for r in rejects[1:]] == [["57", "ALICE", late]]
    assert 'the username "ALICE" is the same account as that of id 3' in rejects[1][3]
    # Run again: nothing new, nobody twice.
    proc = run(second)
    assert proc.returncode == 0, proc.stderr
    assert "imported 0 users, skipped 8 that existed, refused 1 row" in proc.stdout


def test_from_database_in_batches(pg):
    """Past 64 rows the kept ids go in by batches (and the rest one by one):
    150 rows, every id and name kept, on PostgreSQL."""
    h = bcrypt.using(rounds=4).hash("batch-password-1")
    old_url, old_db = pg.fresh_db()
    pg.psql(OLD_SCHEMA + ' ALTER TABLE "user" OWNER TO gatehouse; INSERT INTO "user" '
            f"(id, username, hashed_password) SELECT 2 * g, 'b' || g, '{h}' "
            "FROM generate_series(1, 150) g", db=old_db)
    target, db = pg.fresh_db()
    proc = gatehouse(["users", "import", "--from-database", old_url], target)
    assert proc.returncode == 0, proc.stderr
    assert "imported 150 users" in proc.stdout
    assert pg.psql("SELECT COUNT(*) FROM users WHERE id = 2 * substr(username, 2)::int",
                   db=db) == "150"
    proc = gatehouse(["users", "import", "--from-database", old_url, "--skip-existing"], target)
    assert "imported 0 users, skipped 150 that existed" in proc.stdout


def test_csv_into_postgresql_in_batches(pg, tmp_path):
    """Rows without an id go in by batches on PostgreSQL too: 70 rows (one
    batch of 64 and 6 alone), new ids, every one there and able to log in."""
    rows = "".join(f"c{i},{HASH}\n" for i in range(70))
    target, db = pg.fresh_db()
    proc, _ = csv_import(tmp_path, "username,password_hash\n" + rows, db=target)
    assert proc.returncode == 0, proc.stderr
    assert "imported 70 users" in proc.stdout
    assert pg.psql("SELECT COUNT(DISTINCT id) FROM users WHERE username LIKE 'c%'", db=db) == "70"
    proc = gatehouse(["users", "add", "after-csv"], target, stdin="a-good-password-9\n")
    assert proc.stdout.startswith("added user 71:"), proc.stdout + proc.stderr


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
