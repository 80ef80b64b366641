"""`make install` into a scratch DESTDIR: what it installs, with which modes,
a systemd unit that systemd-analyze accepts, and an environment file that a
second install leaves alone.

    /usr/bin/python3 -m pytest -q tests/deploy/test_install.py

systemd-analyze verify checks that ExecStart's binary exists, so it runs on
a copy of the installed unit whose ExecStart points into the DESTDIR (the one
change); --man=no, since the man page it would look up is in the DESTDIR too
(the page itself is checked here with man -l when man is installed).
"""
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 120


def make_install(destdir, *extra):
    r = subprocess.run(["make", "-s", "-C", str(REPO), "install", f"DESTDIR={destdir}", *extra],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0, r.stdout + r.stderr
    return r


@pytest.fixture(scope="module")
def dest(tmp_path_factory):
    d = tmp_path_factory.mktemp("destdir")
    make_install(d)
    return d


def mode(p):
    return stat.S_IMODE(p.stat().st_mode)


def test_files_and_modes(dest):
    expected = {
        "usr/local/bin/gatehouse": 0o755,
        "usr/local/share/man/man1/gatehouse.1": 0o644,
        "usr/local/lib/systemd/system/gatehouse.service": 0o644,
        "usr/local/lib/systemd/system/gatehouse.socket": 0o644,
        "usr/local/share/doc/gatehouse/README.md": 0o644,
        "usr/local/share/doc/gatehouse/examples/nginx/gatehouse.conf": 0o644,
        "usr/local/share/doc/gatehouse/examples/nginx/signin.html": 0o644,
        "usr/local/share/doc/gatehouse/examples/apache/gatehouse-oidc.conf": 0o644,
        "usr/local/share/doc/gatehouse/examples/caddy/Caddyfile": 0o644,
        "usr/local/share/doc/gatehouse/examples/access-rules.json": 0o644,
        "etc/gatehouse/gatehouse.env": 0o600,
    }
    found = {str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file()}
    assert found == set(expected)
    for rel, m in expected.items():
        assert mode(dest / rel) == m, f"{rel}: {oct(mode(dest / rel))}"
    r = subprocess.run([dest / "usr/local/bin/gatehouse", "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("gatehouse ")
    assert (dest / "usr/local/lib/systemd/system/gatehouse.socket").read_bytes() == \
        (REPO / "dist/systemd/gatehouse.socket").read_bytes()
    assert (dest / "usr/local/share/doc/gatehouse/examples/nginx/gatehouse.conf").read_bytes() == \
        (REPO / "examples/nginx/gatehouse.conf").read_bytes()
    assert (dest / "usr/local/share/doc/gatehouse/examples/apache/gatehouse-oidc.conf").read_bytes() == \
        (REPO / "examples/apache/gatehouse-oidc.conf").read_bytes()
    for example in ("caddy/Caddyfile", "access-rules.json"):
        assert (dest / "usr/local/share/doc/gatehouse/examples" / example).read_bytes() == \
            (REPO / "examples" / example).read_bytes()


def test_the_unit_runs_the_installed_binary_with_the_environment_file(dest):
    unit = (dest / "usr/local/lib/systemd/system/gatehouse.service").read_text()
    assert re.search(r"^ExecStart=/usr/local/bin/gatehouse serve$", unit, re.M)
    assert re.search(r"^EnvironmentFile=-/etc/gatehouse/gatehouse.env$", unit, re.M)
    assert re.search(r"^StateDirectory=gatehouse$", unit, re.M)
    env = (dest / "etc/gatehouse/gatehouse.env").read_text()
    assert re.search(r"^DATABASE_URL=sqlite:////var/lib/gatehouse/gatehouse.db$", env, re.M)


def test_prefix_and_sysconfdir_move_the_files_and_the_units_paths(tmp_path):
    make_install(tmp_path, "PREFIX=/opt/gh", "SYSCONFDIR=/etc/opt/gh")
    unit = (tmp_path / "opt/gh/lib/systemd/system/gatehouse.service").read_text()
    assert re.search(r"^ExecStart=/opt/gh/bin/gatehouse serve$", unit, re.M)
    assert re.search(r"^EnvironmentFile=-/etc/opt/gh/gatehouse/gatehouse.env$", unit, re.M)
    assert (tmp_path / "opt/gh/bin/gatehouse").is_file()
    assert mode(tmp_path / "etc/opt/gh/gatehouse/gatehouse.env") == 0o600


def test_a_second_install_keeps_the_environment_file(tmp_path):
    make_install(tmp_path)
    env = tmp_path / "etc/gatehouse/gatehouse.env"
    env.write_text("SECRET_KEY=mine-and-only-mine-0123456789abcdef\n")
    os.chmod(env, 0o640)
    r = make_install(tmp_path)
    assert "keeping" in r.stdout
    assert env.read_text() == "SECRET_KEY=mine-and-only-mine-0123456789abcdef\n"
    assert mode(env) == 0o640


def test_systemd_analyze_verify_accepts_the_unit(dest, tmp_path):
    unit = (dest / "usr/local/lib/systemd/system/gatehouse.service").read_text()
    binary = dest / "usr/local/bin/gatehouse"
    copy = tmp_path / "gatehouse.service"
    copy.write_text(unit.replace("ExecStart=/usr/local/bin/gatehouse", f"ExecStart={binary}", 1))
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", str(copy)], capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == "", r.stderr

    # And it can fail: a unit whose ExecStart does not exist is refused.
    copy.write_text(unit.replace("ExecStart=/usr/local/bin/gatehouse", f"ExecStart={tmp_path}/nothing", 1))
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", str(copy)], capture_output=True, text=True)
    assert r.returncode != 0


def test_security_score_is_the_one_the_readme_states(dest):
    unit = dest / "usr/local/lib/systemd/system/gatehouse.service"
    r = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(unit)],
                       capture_output=True, text=True)
    m = re.search(r"Overall exposure level for gatehouse\.service: (\d+\.\d+) (\w+)", r.stdout)
    assert m, r.stdout + r.stderr
    readme = (REPO / "README.md").read_text()
    stated = re.search(r"systemd-analyze security --offline=yes .*?exposure level (\d+\.\d+) \((\w+)\)",
                       readme, re.S)
    assert stated, "the README states no systemd-analyze security score"
    assert (m.group(1), m.group(2)) == stated.groups()


def test_the_man_page_lists_every_setting_of_help(dest):
    page = (dest / "usr/local/share/man/man1/gatehouse.1").read_text()
    assert page.startswith(".\\\" DO NOT MODIFY") and '.TH GATEHOUSE "1"' in page
    help_text = subprocess.run([dest / "usr/local/bin/gatehouse", "--help"], capture_output=True,
                               text=True).stdout
    settings = re.findall(r"^  ([A-Z][A-Z0-9_]+) +--", help_text, re.M)
    assert len(settings) > 20
    for name in settings:
        assert name.replace("_", "\\_") in page or name in page, name
    for section in ("EXIT STATUS", "SIGNALS", "FILES", "SEE ALSO"):
        assert f'.SH "{section}"' in page or f".SH {section}" in page, section
    if shutil.which("man"):
        r = subprocess.run(["man", "-l", "-Tutf8", str(dest / "usr/local/share/man/man1/gatehouse.1")],
                           capture_output=True, text=True, env={**os.environ, "MANWIDTH": "100"})
        assert r.returncode == 0 and "DATABASE_URL" in r.stdout, r.stderr


def test_the_man_page_shows_each_usage_line_on_its_own(dest):
    # help2man takes the "or:" lines of --help into the SYNOPSIS, one a line;
    # indented ones went into the DESCRIPTION and were filled into one line.
    page = dest / "usr/local/share/man/man1/gatehouse.1"
    roff = page.read_text()
    synopsis = roff.split(".SH SYNOPSIS\n", 1)[1].split(".SH ", 1)[0]
    assert synopsis.count(".B gatehouse\n") == 3, synopsis
    description = roff.split(".SH DESCRIPTION\n", 1)[1]
    assert description.startswith("gatehouse registers users"), description[:200]
    if not shutil.which("man"):
        pytest.skip("man is not installed: the page was checked as roff only")
    r = subprocess.run(["man", "-l", "-Tutf8", str(page)], capture_output=True, text=True,
                       env={**os.environ, "MANWIDTH": "100"})
    text = re.sub(r".\x08", "", r.stdout)  # overstrike: bold and underline
    usage = re.search(r"^SYNOPSIS\n(.*?)\n\n", text, re.M | re.S).group(1).splitlines()
    assert [line.split()[0] for line in usage] == ["gatehouse"] * 3, usage
    assert usage[1].rstrip().endswith("--help") and usage[2].strip() == "gatehouse --version"
    paragraph = re.search(r"^DESCRIPTION\n(.*?)\n\n", text, re.M | re.S).group(1)
    assert paragraph.split() == "gatehouse registers users, logs them in and issues JWT access tokens.".split()


def test_systemd_analyze_verify_accepts_the_service_with_its_socket(dest, tmp_path):
    """The service with gatehouse.socket beside it (socket activation) and
    without it (the test above): both accepted."""
    units = dest / "usr/local/lib/systemd/system"
    binary = dest / "usr/local/bin/gatehouse"
    service = tmp_path / "gatehouse.service"
    service.write_text((units / "gatehouse.service").read_text().replace(
        "ExecStart=/usr/local/bin/gatehouse", f"ExecStart={binary}", 1))
    socket = tmp_path / "gatehouse.socket"
    shutil.copyfile(units / "gatehouse.socket", socket)
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", str(socket), str(service)],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    text = socket.read_text()
    # One TCP socket, the default address, and installed with sockets.target.
    assert re.findall(r"^ListenStream=(.*)$", text, re.M) == ["127.0.0.1:8000"]
    assert re.search(r"^WantedBy=sockets.target$", text, re.M)

    # And it can fail: a socket unit with a wrong setting is refused.
    socket.write_text(text.replace("ListenStream=127.0.0.1:8000", "ListenStream=127.0.0.1:8000\nNoSuchThing=1"))
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", str(socket), str(service)],
                       capture_output=True, text=True)
    assert r.returncode != 0 or "NoSuchThing" in r.stderr
