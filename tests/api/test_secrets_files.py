"""DATABASE_URL_FILE (the container-secrets convention: the URL in a file, so
that its password shows neither in the environment nor in ps), and the mode of
the SQLite files, which hold the password hashes."""
import os
import stat
import subprocess

import pytest

from gh_helpers import BINARY, SECRET_KEY, base_env, sqlite_url

SECRET_PW = "s3cr3t-in-the-url-9f2"


def test_database_url_file_is_read(make_server, tmp_path):
    db = tmp_path / "from-file.db"
    f = tmp_path / "url"
    f.write_text(sqlite_url(db) + "\n")  # the trailing line break is dropped
    srv = make_server(env={"DATABASE_URL": None, "DATABASE_URL_FILE": str(f)}, db_path=db)
    u = srv.new_user()
    assert srv.stored_hash(u["username"])  # the users landed in the file's database
    assert db.exists()


def test_database_url_file_as_flag(make_server, tmp_path):
    db = tmp_path / "flag.db"
    f = tmp_path / "url"
    f.write_text(sqlite_url(db))
    srv = make_server(env={"DATABASE_URL": None}, db_path=db,
                      args=["--database-url-file", str(f)])
    srv.new_user()
    assert db.exists()


@pytest.mark.parametrize("content", ["", "\n", "\r\n"], ids=["empty", "newline", "crlf"])
def test_empty_database_url_file_exits_2(run_gatehouse, tmp_path, content):
    f = tmp_path / "url"
    f.write_text(content)
    res = run_gatehouse(env={"DATABASE_URL": None, "DATABASE_URL_FILE": str(f)})
    assert res.returncode == 2, res.stderr
    assert "DATABASE_URL_FILE" in res.stderr and "empty" in res.stderr


def test_unreadable_database_url_file_exits_2(run_gatehouse, tmp_path):
    missing = tmp_path / "no-such-file"
    res = run_gatehouse(env={"DATABASE_URL": None, "DATABASE_URL_FILE": str(missing)})
    assert res.returncode == 2, res.stderr
    assert "DATABASE_URL_FILE" in res.stderr and "cannot read" in res.stderr
    res = run_gatehouse(env={"DATABASE_URL": None, "DATABASE_URL_FILE": str(tmp_path)})
    assert res.returncode == 2, res.stderr  # a directory
    assert "DATABASE_URL_FILE" in res.stderr


def test_database_url_and_file_both_exit_2(run_gatehouse, tmp_path):
    f = tmp_path / "url"
    f.write_text(sqlite_url(tmp_path / "a.db"))
    res = run_gatehouse(env={"DATABASE_URL_FILE": str(f)})  # DATABASE_URL is set too
    assert res.returncode == 2, res.stderr
    assert "not both" in res.stderr
    res = run_gatehouse(env={"DATABASE_URL": None, "DATABASE_URL_FILE": str(f)},
                        args=["--database-url", sqlite_url(tmp_path / "b.db")])
    assert res.returncode == 2, res.stderr
    assert "not both" in res.stderr


def test_database_url_file_contents_never_echoed(run_gatehouse, tmp_path):
    # A PostgreSQL URL with an unknown parameter and a URL on two lines: the
    # refusals name the file, never its contents.
    f = tmp_path / "url"
    for content in (f"postgresql://app:{SECRET_PW}@db.invalid/app?sslmod=require\n",
                    f"postgresql://app:{SECRET_PW}@db.invalid/app\nsecond line\n"):
        f.write_text(content)
        res = run_gatehouse(env={"DATABASE_URL": None, "DATABASE_URL_FILE": str(f)})
        assert res.returncode == 2, res.stderr
        assert SECRET_PW not in res.stderr and SECRET_PW not in res.stdout


# ------------------------------------------------------------ file modes
def test_fresh_sqlite_files_are_owner_only(make_server, tmp_path):
    db = tmp_path / "private.db"
    old = os.umask(0o022)  # the usual umask, which lets SQLite make 0644 files
    try:
        srv = make_server(db_path=db)
    finally:
        os.umask(old)
    srv.new_user()  # a write: the -wal file has content, the -shm is mapped
    paths = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
    for p in paths:
        assert p.exists(), p
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode == 0o600, f"{p.name}: {oct(mode)}"


@pytest.mark.parametrize("command", [["users", "import", "users.csv"], ["migrate"],
                                     ["users", "add", "somebody"]],
                         ids=lambda c: " ".join(c))
def test_database_made_by_a_command_is_owner_only(run_gatehouse, tmp_path, command):
    """Not only serve: the first command run on a new SQLite file (an import,
    a migration, an added user) makes it 0600 under the usual umask."""
    db = tmp_path / "made.db"
    (tmp_path / "users.csv").write_text(
        "username,password_hash\nann,$2b$04$" + "a" * 53 + "\n")
    old = os.umask(0o022)
    try:
        res = subprocess.run([str(BINARY), *command], cwd=tmp_path, input="pw-of-somebody-9\n",
                             env=dict(base_env(), DATABASE_URL=sqlite_url(db),
                                      SECRET_KEY=SECRET_KEY, BCRYPT_ROUNDS="4"),
                             capture_output=True, text=True, timeout=60)
    finally:
        os.umask(old)
    assert res.returncode == 0, res.stderr
    for p in tmp_path.glob("made.db*"):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, f"{p.name}: {oct(p.stat().st_mode)}"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
