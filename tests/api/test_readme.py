"""The README's shell examples, run against a real server, so that they
cannot drift from what the binary does.

Convention (README.md): every ```sh (or bash, shell, console) block has, on
the line before it, either
    <!-- readme-test: run -->
or  <!-- readme-test: run-mail -->
or  <!-- readme-test: run-sso -->
or  <!-- readme-test: skip (the reason) -->
A `run` block is a series of steps separated by blank lines: a command (its
lines joined by trailing backslashes) and, right under it, what it prints,
each line prefixed with "# ". A step without such lines must print nothing.
The blocks run in order in one bash (set -euo pipefail), so variables carry
over, in a scratch directory, against a new server on a fresh SQLite
database; "127.0.0.1:8000" in a command becomes that server's address. The
output is compared line by line: exactly, or, for a line of JSON, as JSON
with the values of created_at, access_token, refresh_token and mfa_token only checked
for their form. The `run-mail` blocks (the "Email" section) run the same
way in a bash of their own, against a server with mail settings and the
SMTP server the block starts; "127.0.0.1:8025" becomes its address. The
`run-sso` blocks (the "Single sign-on" section) run in the directory of a
server started there as that section starts it (PUBLIC_URL, its database
sso.db there), with "./build/gatehouse" the binary under test.
"""
import json
import os
import re
import subprocess

import pytest

from gh_helpers import BINARY, REPO, RFC3339_UTC_RE, base_env, free_port

README = REPO / "README.md"
SHELLS = {"sh", "bash", "shell", "console"}
MARKER = re.compile(r"^<!-- readme-test: (run|run-mail|run-sso|run-tls|skip \(.+\)) -->$")
VOLATILE = {
    "created_at": RFC3339_UTC_RE,
    "access_token": re.compile(r"^[\w-]+\.[\w-]+\.[\w-]+$"),
    "refresh_token": re.compile(r"^[\w-]{20,}$"),
    "mfa_token": re.compile(r"^[\w-]{43}$"),
}


def shell_blocks(text):
    """(line number, marker or None, block lines) of every shell block."""
    lines = text.split("\n")
    blocks, i = [], 0
    while i < len(lines):
        m = re.match(r"^```(\S*)", lines[i])
        if not m:
            i += 1
            continue
        start, lang = i, m.group(1)
        j = i + 1
        while j < len(lines) and not lines[j].startswith("```"):
            j += 1
        if lang in SHELLS:
            k = start - 1
            while k >= 0 and lines[k].strip() == "":
                k -= 1
            mk = MARKER.match(lines[k].strip()) if k >= 0 else None
            blocks.append((start + 1, mk.group(1) if mk else None, lines[start + 1:j]))
        i = j + 1
    return blocks


def steps(block):
    """[(command, [expected lines])] of a run block."""
    out, cmd, expected, in_cmd = [], [], [], False
    for line in block + [""]:
        if line.strip() == "":
            if cmd:
                out.append(("\n".join(cmd), expected))
            cmd, expected, in_cmd = [], [], False
        elif in_cmd or (not cmd and not line.startswith("#")):
            cmd.append(line)
            in_cmd = line.rstrip().endswith("\\")
        elif line.startswith("# ") or line == "#":
            expected.append(line[2:])
        else:
            raise AssertionError(f"README: a command after expected output without a blank line: {line!r}")
    return out


def same_json(expected, actual, path="$"):
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and set(actual) == set(expected), (path, expected, actual)
        for k, v in expected.items():
            if k in VOLATILE:
                assert isinstance(actual[k], str) and VOLATILE[k].match(actual[k]), (path, k, actual[k])
            else:
                same_json(v, actual[k], f"{path}.{k}")
    else:
        assert expected == actual and type(expected) is type(actual), (path, expected, actual)


def same_line(expected, actual):
    try:
        e = json.loads(expected)
    except ValueError:
        assert actual == expected
        return
    same_json(e, json.loads(actual))


def test_every_shell_block_is_marked():
    blocks = shell_blocks(README.read_text())
    unmarked = [line for line, marker, _ in blocks if marker is None]
    assert not unmarked, f"README.md: shell blocks at lines {unmarked} lack <!-- readme-test: run|skip (why) -->"
    assert any(marker == "run" for _, marker, _ in blocks)


def run_blocks(kind, replacements, tmp_path, env=None):
    """Runs every block marked kind, in order, in one bash in tmp_path, with
    each (text, by) of replacements applied to the commands; checks what
    each step prints. Background jobs a block starts are killed at the end."""
    all_steps = []
    for line, marker, block in shell_blocks(README.read_text()):
        if marker == kind:
            for cmd, exp in steps(block):
                for text, by in replacements:
                    cmd = cmd.replace(text, by)
                all_steps.append((line, cmd, exp))
    out = tmp_path / "out"
    out.mkdir()
    script = ["set -euo pipefail", "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT"]
    for i, (_, cmd, _) in enumerate(all_steps):
        script.append(f"{{\n{cmd}\n}} >'{out}/{i}' 2>&1")
        script.append(f"echo {i} >'{out}/done'")
    r = subprocess.run(["bash", "-c", "\n".join(script)], cwd=tmp_path, capture_output=True, text=True,
                       timeout=60, env=env)
    done = int((out / "done").read_text()) if (out / "done").exists() else -1
    if r.returncode != 0:
        line, cmd, _ = all_steps[done + 1]
        printed = (out / str(done + 1)).read_text() if (out / str(done + 1)).exists() else ""
        pytest.fail(f"README.md block at line {line}: exit status {r.returncode} from\n{cmd}\n"
                    f"which printed:\n{printed}{r.stderr}")
    assert done == len(all_steps) - 1
    for i, (line, cmd, expected) in enumerate(all_steps):
        actual = (out / str(i)).read_text().replace("\r\n", "\n").rstrip("\n")
        actual_lines = actual.split("\n") if actual else []
        try:
            assert len(actual_lines) == len(expected)
            for e, a in zip(expected, actual_lines):
                same_line(e, a)
        except AssertionError as exc:
            pytest.fail(f"README.md block at line {line}:\n{cmd}\nshould print\n" + "\n".join(expected)
                        + f"\nbut printed\n{actual}\n({exc})")
    return all_steps


def test_the_readme_examples_run(make_server, tmp_path):
    srv = make_server()
    all_steps = run_blocks("run", [("127.0.0.1:8000", f"127.0.0.1:{srv.port}")], tmp_path)
    assert len(all_steps) >= 6


# How the README's "Email" section starts gatehouse (a skip block): the test
# starts it with exactly these settings.
MAIL_START = ("PUBLIC_URL=http://127.0.0.1:8000 SMTP_URL=smtp://127.0.0.1:8025 SMTP_STARTTLS=off \\\n"
              "    MAIL_FROM='gatehouse <noreply@example.com>' ./build/gatehouse")


def test_the_readme_mail_example_runs(make_server, tmp_path):
    """The "run-mail" blocks: the README's local mail server (Debian's
    aiosmtpd, started by the block itself) and a gatehouse with the
    settings the README shows, each on a port of its own."""
    text = README.read_text()
    assert MAIL_START in text
    port, smtp_port = free_port(), free_port()
    srv = make_server(env={
        "PORT": str(port),
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "SMTP_STARTTLS": "off",
        "MAIL_FROM": "gatehouse <noreply@example.com>",
    })
    env = dict(os.environ, PATH="/usr/bin:" + os.environ.get("PATH", ""))
    all_steps = run_blocks("run-mail", [("127.0.0.1:8000", f"127.0.0.1:{srv.port}"),
                                        ("127.0.0.1:8025", f"127.0.0.1:{smtp_port}")], tmp_path, env)
    assert len(all_steps) >= 6


# How the README's "Single sign-on" section starts gatehouse (a skip block).
SSO_START = "DATABASE_URL=sqlite:///sso.db PUBLIC_URL=http://127.0.0.1:8000 COOKIE_SECURE=0 ./build/gatehouse"


def test_the_readme_sso_example_runs(make_server, tmp_path):
    """The "run-sso" blocks: `gatehouse clients add` on the database of the
    server the section starts (sso.db in the directory it runs in, where
    the block runs too), then discovery, a client_credentials grant, its
    introspection and its revocation with curl."""
    assert SSO_START in README.read_text()
    port = free_port()
    srv = make_server(env={"PORT": str(port), "DATABASE_URL": "sqlite:///sso.db",
                           "COOKIE_SECURE": "0",
                           "PUBLIC_URL": f"http://127.0.0.1:{port}"}, workdir=tmp_path)
    env = dict(base_env(), PATH="/usr/bin:" + os.environ.get("PATH", ""))
    all_steps = run_blocks("run-sso", [("127.0.0.1:8000", f"127.0.0.1:{srv.port}"),
                                       ("./build/gatehouse", str(BINARY))], tmp_path, env)
    assert len(all_steps) >= 5
    assert (tmp_path / "sso.db").exists(), "the server and the command shared its database"


def test_the_readme_tls_example_runs(tmp_path):
    """The "run-tls" blocks (the "TLS" section): they make a certificate
    with openssl, start gatehouse with it themselves (killed at the end) on
    a port of the test's own, ask it with curl, and reload a new one."""
    env = dict(base_env(), PATH="/usr/bin:" + os.environ.get("PATH", ""))
    port = free_port()
    all_steps = run_blocks("run-tls", [("localhost:8443", f"localhost:{port}"),
                                       ("PORT=8443", f"PORT={port}"),
                                       ("./build/gatehouse", str(BINARY))], tmp_path, env)
    assert len(all_steps) >= 8


def test_the_readme_apache_configuration_is_the_example():
    """The Apache site the README shows is examples/apache/gatehouse-oidc.conf,
    the file tests/browser/apache.test.mjs runs, from its <VirtualHost> on."""
    text = README.read_text()
    blocks = re.findall(r"^```apache\n(.*?)^```$", text, re.M | re.S)
    assert len(blocks) == 1, "one apache block in the README"
    conf = (REPO / "examples" / "apache" / "gatehouse-oidc.conf").read_text()
    assert blocks[0] == conf[conf.index("<VirtualHost"):]


def test_the_configuration_table_lists_every_setting():
    """Every setting of the settings table in config.c has its row in the
    README's configuration table, and the table names no other."""
    from gh_helpers import SETTINGS
    rows = re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \| `(--[a-z0-9-]+)` \|", README.read_text(), re.M)
    names = [name for name, _ in rows]
    assert sorted(names) == sorted(SETTINGS), {
        "missing": [s for s in SETTINGS if s not in names],
        "unknown": [n for n in names if n not in SETTINGS]}
    for name, flag in rows:
        assert flag == "--" + name.lower().replace("_", "-"), (name, flag)
