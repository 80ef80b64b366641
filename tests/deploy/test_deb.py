"""The Debian package (make deb) in a freshly bootstrapped Debian 12 root:
lintian's verdict, apt-get install of the .deb (its dependencies from the
mirror this machine uses), gatehouse --version, systemd-analyze verify of
the installed units, one registration and login served as the unit's user
would serve them, then apt-get remove and purge, after which nothing of the
package is left but what the postrm's policy keeps.

    /usr/bin/python3 -m pytest -q tests/deploy/test_deb.py     (as root)

The root is made once by debootstrap --variant=minbase with systemd, and
apt's lists, into build/debroot/base; each run works on an overlay of it,
so a second run spends its time on apt, not on debootstrap. The packages apt
downloads are kept in build/debroot/archives for the next run, which apt
checks against its lists before it uses them. Only the overlay and /proc in
it are mounted, and always unmounted. systemd is installed in the root but does not run there, as in a
build chroot or a container: the package must install without starting
anything. The host's systemd-analyze checks the units with --root (Debian 12
both sides).
"""
import fcntl
import os
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
VERSION = (REPO / "VERSION").read_text().strip()
CACHE = REPO / "build" / "debroot"
SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
# Hang detectors only: debootstrap and apt download from the mirror.
BOOTSTRAP_TIMEOUT = 1200
APT_TIMEOUT = 600
TIMEOUT = 60
CHROOT_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C", "HOME": "/root",
              "DEBIAN_FRONTEND": "noninteractive"}
PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="debootstrap and chroot need root")


def run(cmd, timeout=TIMEOUT, check=True, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check:
        assert r.returncode == 0, f"{shlex.join(map(str, cmd))}: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


def host_mirror():
    """The URI this machine's apt takes bookworm's main component from
    (deb822 .sources or one-line .list files), else deb.debian.org."""
    apt = Path("/etc/apt")
    files = [apt / "sources.list"] + sorted((apt / "sources.list.d").glob("*"))
    for f in files:
        if not f.is_file():
            continue
        text = "\n".join(line for line in f.read_text().splitlines() if not line.lstrip().startswith("#"))
        if f.suffix == ".sources":
            for para in re.split(r"\n\s*\n", text):
                fields = dict(re.findall(r"^([A-Za-z-]+):[ \t]*(.*)$", para, re.M))
                if ("deb" in fields.get("Types", "").split() and SUITE in fields.get("Suites", "").split()
                        and "main" in fields.get("Components", "").split() and fields.get("URIs")):
                    return fields["URIs"].split()[0]
        elif f.name == "sources.list" or f.suffix == ".list":
            for line in text.splitlines():
                words = re.sub(r"\[[^]]*\]", "", line).split()
                if len(words) >= 4 and words[0] == "deb" and words[2] == SUITE and "main" in words[3:]:
                    return words[1]
    return DEFAULT_MIRROR


def mounts_under(path):
    prefix = str(path.resolve()) + "/"
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if (line.split()[4] + "/").startswith(prefix)]


def remove_tree(path):
    # Never rm -rf through a mount point into the host's files.
    assert not mounts_under(path), f"still mounted under {path}: {mounts_under(path)}"
    shutil.rmtree(path, ignore_errors=True)


def base_root():
    """build/debroot/base: debootstrap's minbase of bookworm from the host's
    mirror with systemd (the system the units are for, not running), apt's
    lists fetched, no .debs kept. Made once (under a lock, so
    that parallel runs make it once); remade when the mirror changes."""
    CACHE.mkdir(parents=True, exist_ok=True)
    mirror = host_mirror()
    base, stamp = CACHE / "base", CACHE / "base.mirror"
    with open(CACHE / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        clear_stale_runs()
        if base.is_dir() and stamp.is_file() and stamp.read_text() == mirror:
            return base, mirror
        stamp.unlink(missing_ok=True)
        tmp = CACHE / "base.tmp"
        for d in (tmp, base):
            remove_tree(d)
        run(["debootstrap", "--variant=minbase", "--include=systemd", SUITE, tmp, mirror],
            timeout=BOOTSTRAP_TIMEOUT)
        shutil.copy("/etc/resolv.conf", tmp / "etc/resolv.conf")
        run(["chroot", tmp, "apt-get", "update"], timeout=APT_TIMEOUT, env=CHROOT_ENV)
        run(["chroot", tmp, "apt-get", "clean"], env=CHROOT_ENV)
        tmp.rename(base)
        stamp.write_text(mirror)
        return base, mirror


def readme_section():
    """The README's section "Installing the Debian package"."""
    text = (REPO / "README.md").read_text()
    return text.split("\n## Installing the Debian package\n", 1)[1].split("\n## ", 1)[0]


def unmount(path):
    """Unmounts /proc in the root, then the root itself; lazily when a
    process is still inside."""
    for m in (path / "proc", path):
        if str(m.resolve()) in mounts_under(path):
            if run(["umount", m], check=False).returncode != 0:
                run(["umount", "-l", m], check=False)


def clear_stale_runs():
    """What runs that were killed left: unmounted, removed."""
    for d in CACHE.glob("run-*"):
        pid = d.name[4:].removesuffix(".rw")
        if pid.isdigit() and Path(f"/proc/{pid}").exists():
            continue  # a run in progress
        unmount(d)
        remove_tree(d)


def deb_file():
    """The package make deb built (GATEHOUSE_DEB), or make deb now."""
    if os.environ.get("GATEHOUSE_DEB"):
        return Path(os.environ["GATEHOUSE_DEB"])
    run(["make", "-s", "-C", REPO, "deb"], timeout=600)
    arch = run(["dpkg", "--print-architecture"]).stdout.strip()
    return REPO / "build" / "deb" / f"gatehouse_{VERSION}_{arch}.deb"


class Root:
    """The base root for one run: an overlay on it (the run's changes go to
    build/debroot/run-PID.rw, the base stays as it is), with /proc mounted."""

    def __init__(self, base):
        self.path = CACHE / f"run-{os.getpid()}"
        self.rw = CACHE / f"run-{os.getpid()}.rw"
        for d in (self.path, self.rw):
            remove_tree(d)
        for d in (self.path, self.rw / "upper", self.rw / "work"):
            d.mkdir(parents=True)
        try:
            run(["mount", "-t", "overlay", "overlay", "-o",
                 f"lowerdir={base},upperdir={self.rw / 'upper'},workdir={self.rw / 'work'}", self.path])
            shutil.copy("/etc/resolv.conf", self.path / "etc/resolv.conf")
            run(["mount", "-t", "proc", "proc", self.path / "proc"])
        except BaseException:
            self.close()
            raise

    def close(self):
        unmount(self.path)
        remove_tree(self.path)
        remove_tree(self.rw)

    def chroot(self, *cmd, timeout=TIMEOUT, check=True):
        return run(["chroot", self.path, *cmd], timeout=timeout, check=check, env=CHROOT_ENV)

    def file(self, p):
        return self.path / p.lstrip("/")

    def processes(self):
        """Ids of the processes whose root is this one."""
        found = []
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                try:
                    if os.readlink(d / "root") == str(self.path.resolve()):
                        found.append(int(d.name))
                except OSError:
                    pass
        return found

    def status(self, pkg):
        r = self.chroot("dpkg-query", "-W", "-f=${Status}", pkg, check=False)
        return r.stdout if r.returncode == 0 else "absent"


@pytest.fixture(scope="module")
def deb():
    p = deb_file()
    assert p.is_file(), p
    return p


@pytest.fixture(scope="module")
def root(deb):
    base, mirror = base_root()
    r = Root(base)
    try:
        archives = CACHE / "archives"
        archives.mkdir(exist_ok=True)
        for f in archives.glob("*.deb"):
            shutil.copy(f, r.file("/var/cache/apt/archives"))
        # The lists may be older than the mirror: refresh them (unchanged
        # ones cost a request each).
        r.chroot("apt-get", "update", timeout=APT_TIMEOUT)
        # The README's command, in /root as in a clone, answering yes.
        r.file("/root/build/deb").mkdir(parents=True)
        shutil.copy(deb, r.file("/root/build/deb"))
        cmd = next(line for line in readme_section().splitlines() if line.startswith("apt-get install ./"))
        cmd = cmd.split("#")[0].replace("apt-get install ", "apt-get install -y ", 1)
        r.install = r.chroot("sh", "-c", f"cd /root && {cmd}", timeout=APT_TIMEOUT)
        for f in r.file("/var/cache/apt/archives").glob("*.deb"):
            if not (archives / f.name).exists():
                shutil.copy(f, archives)
        r.mirror = mirror
        yield r
    finally:
        r.close()


def mode(p):
    return stat.S_IMODE(os.lstat(p).st_mode)


def passwd_entry(root, name):
    for line in root.file("/etc/passwd").read_text().splitlines():
        fields = line.split(":")
        if fields[0] == name:
            return fields
    return None


def test_lintian_reports_no_error_or_warning(deb):
    r = run(["lintian", "--fail-on", "error,warning", "--display-info", "--pedantic", deb], timeout=300,
            check=False)
    tags = [line for line in r.stdout.splitlines() if re.match(r"^[EW]: ", line)]
    assert r.returncode == 0 and not tags, r.stdout + r.stderr
    # Each override says why, in the comment just above it.
    lines = (REPO / "debian/gatehouse.lintian-overrides").read_text().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("gatehouse:"):
            j = i - 1
            while j >= 0 and lines[j].startswith("gatehouse:"):
                j -= 1
            assert j >= 0 and lines[j].startswith("# "), f"override without a comment: {line}"


def test_installs_with_its_dependencies_and_starts_nothing(root):
    assert root.status("gatehouse") == "install ok installed"
    # The dlopen'ed libraries: libssl3 a dependency, libpq5 and libcurl4
    # recommended, which apt installs by default.
    for pkg in ("libssl3", "libpq5", "libcurl4"):
        assert root.status(pkg) == "install ok installed", pkg
    # systemd does not run in the root: nothing was started.
    assert not root.file("/run/systemd/system").exists()
    assert root.processes() == []
    # ... but both units are enabled for when it boots with systemd.
    wants = root.file("/etc/systemd/system/multi-user.target.wants/gatehouse.service")
    assert os.readlink(wants) == "/lib/systemd/system/gatehouse.service"
    wants = root.file("/etc/systemd/system/sockets.target.wants/gatehouse.socket")
    assert os.readlink(wants) == "/lib/systemd/system/gatehouse.socket"


def test_where_systemd_runs_the_socket_starts_first_and_outlives_an_upgrade(root):
    """What the maintainer scripts would do under a running systemd (none
    runs here): start the socket before the service, so that the service
    takes the socket rather than binding the address itself; on an upgrade,
    restart the service after the new files are in (prerm stops nothing but
    on remove) and only start the socket, which is already running."""
    postinst = root.file("/var/lib/dpkg/info/gatehouse.postinst").read_text()
    starts = re.findall(r"deb-systemd-invoke (\S+) '(gatehouse\.\w+)'", postinst)
    assert starts == [("start", "gatehouse.socket"), ("$_dh_action", "gatehouse.service")], starts
    assert re.search(r'_dh_action=restart', postinst)
    prerm = root.file("/var/lib/dpkg/info/gatehouse.prerm").read_text()
    stops = re.findall(r'if .*\[ "\$1" = (\w+) \].*\n\s*deb-systemd-invoke stop (.*)', prerm)
    assert stops and all(when == "remove" for when, _ in stops), prerm


def test_version(root):
    r = root.chroot("gatehouse", "--version")
    assert r.stdout.splitlines()[0] == f"gatehouse {VERSION}"


def test_files_user_and_state_directory(root):
    for p in ("/usr/bin/gatehouse", "/usr/share/man/man1/gatehouse.1.gz",
              "/usr/share/doc/gatehouse/README.md.gz", "/usr/share/doc/gatehouse/copyright",
              "/usr/share/doc/gatehouse/examples/nginx/gatehouse.conf",
              "/usr/share/doc/gatehouse/examples/apache/gatehouse-oidc.conf",
              "/lib/systemd/system/gatehouse.service",
              "/lib/systemd/system/gatehouse.service.d/debian.conf"):
        assert root.file(p).is_file(), p
    env = root.file("/etc/gatehouse/gatehouse.env")
    assert mode(env) == 0o600 and env.stat().st_uid == 0
    assert root.file("/var/lib/dpkg/info/gatehouse.conffiles").read_text().split() == \
        ["/etc/gatehouse/gatehouse.env"]
    user = passwd_entry(root, "gatehouse")
    assert user, "no user gatehouse"
    assert int(user[2]) < 1000 and user[5] == "/var/lib/gatehouse" and user[6] == "/usr/sbin/nologin", user
    state = root.file("/var/lib/gatehouse")
    assert state.is_dir() and mode(state) == 0o750
    assert (state.stat().st_uid, state.stat().st_gid) == (int(user[2]), int(user[3]))


def test_systemd_analyze_verify_accepts_the_installed_units(root):
    units = sorted(p.name for p in root.file("/lib/systemd/system").glob("gatehouse*")
                   if p.is_file())
    assert "gatehouse.service" in units
    r = run(["systemd-analyze", "verify", f"--root={root.path}", "--man=no", *units], check=False)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    # And it can fail: with ExecStart's binary gone, it is refused.
    binary = root.file("/usr/bin/gatehouse")
    binary.rename(binary.with_name("gatehouse.away"))
    try:
        r = run(["systemd-analyze", "verify", f"--root={root.path}", "--man=no", *units], check=False)
        assert r.returncode != 0
    finally:
        binary.with_name("gatehouse.away").rename(binary)


def test_the_packaged_units_security_score_is_the_readmes(root):
    r = run(["systemd-analyze", "security", "--offline=yes", f"--root={root.path}", "gatehouse.service"],
            check=False)
    m = re.search(r"Overall exposure level for gatehouse\.service: (\d+\.\d+) (\w+)", r.stdout)
    assert m, r.stdout + r.stderr
    # The drop-in is read: a static user, not DynamicUser=.
    assert re.search(r"User=/DynamicUser=.*static non-root user", r.stdout), r.stdout
    stated = re.search(r"still rates the packaged unit (\d+\.\d+) \((\w+)\)", re.sub(r"\s+", " ", readme_section()))
    assert stated, "the README states no score for the packaged unit"
    assert (m.group(1), m.group(2)) == stated.groups()


def test_make_deb_refuses_a_version_its_changelog_does_not_name(deb):
    # -o: the binary and the man page are not remade (with that version).
    r = run(["make", "-s", "-C", REPO, "-o", "build/gatehouse", "-o", "build/gatehouse.1", "deb",
             "VERSION=0.0.0~nochangelog"], check=False)
    assert r.returncode != 0
    assert "debian/changelog's newest entry is" in r.stderr and "0.0.0~nochangelog" in r.stderr, r.stderr
    assert not list((REPO / "build/deb").glob("gatehouse_0.0.0~nochangelog_*.deb"))


def unit_settings(root, name):
    """[Service]'s settings as systemd reads them: the unit, then its
    drop-ins in /lib and /etc by file name; an assignment replaces the one
    before it, except Environment=, which adds (an empty one resets)."""
    files = [root.file(f"/lib/systemd/system/{name}")]
    dropins = {}
    for d in (f"/lib/systemd/system/{name}.d", f"/etc/systemd/system/{name}.d"):
        for p in sorted(root.file(d).glob("*.conf")):
            dropins[p.name] = p
    files += [dropins[k] for k in sorted(dropins)]
    settings = {"Environment": []}
    for f in files:
        section = None
        for line in f.read_text().splitlines():
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line
                continue
            if section != "[Service]":
                continue
            key, _, value = line.partition("=")
            if key == "Environment":
                settings["Environment"] = settings["Environment"] + shlex.split(value) if value else []
            else:
                settings[key] = value
    return settings


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def curl(*args):
    r = run(["curl", "-sS", "--max-time", str(TIMEOUT), "-w", "\n%{http_code}", *args])
    body, _, code = r.stdout.rpartition("\n")
    return int(code), body


def unit_env(root, s):
    """The environment systemd gives the service: Environment=, then the
    file (read as root: it is 0600), whose values win."""
    env = dict(kv.split("=", 1) for kv in s["Environment"])
    for line in root.file(s["EnvironmentFile"].lstrip("-")).read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            k, _, v = line.partition("=")
            env[k.strip()] = v.strip()
    return env


def test_serves_as_the_units_user_on_the_units_socket(root):
    s = unit_settings(root, "gatehouse.service")
    assert s.get("DynamicUser") == "no" and s["User"] == "gatehouse" and s["Group"] == "gatehouse"
    sock = root.file("/lib/systemd/system/gatehouse.socket").read_text()
    assert re.findall(r"^ListenStream=(.*)$", sock, re.M) == ["127.0.0.1:8000"]
    # What systemd does with both units enabled: it binds the socket's
    # address (a free port here, not 8000) and passes the socket on as
    # descriptor 3 (LISTEN_FDS, LISTEN_PID); the service gets the unit's
    # environment, working directory, umask and user, then ExecStart. PORT
    # is moved off 8000 too, so that a server that ignored the socket would
    # not answer.
    env = unit_env(root, s)
    env["PORT"] = str(free_port())
    umask = int(s["UMask"], 8)
    exec_start = shlex.split(s["ExecStart"])
    assert exec_start[0] == "/usr/bin/gatehouse"
    # chroot, sh, setpriv and env each exec the next: gatehouse keeps the
    # pid of sh ($$), which LISTEN_PID must name.
    service = shlex.join(["setpriv", f"--reuid={s['User']}", f"--regid={s['Group']}", "--init-groups",
                          "--no-new-privs", "env", "-i", "-C", s["WorkingDirectory"],
                          *(f"{k}={v}" for k, v in env.items()), "LISTEN_FDS=1"])
    service += " LISTEN_PID=$$ " + shlex.join(exec_start)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = listener.getsockname()[1]

    def as_systemd():
        os.umask(umask)
        os.dup2(listener.fileno(), 3)  # the copy is inheritable

    # close_fds=False keeps descriptor 3; the others are not inheritable
    # (Python opens them so), so exec closes them.
    log = root.file("/root/serve.log")
    with open(log, "w") as out:
        proc = subprocess.Popen(["chroot", root.path, "sh", "-c", f"exec {service}"], stdout=out,
                                stderr=subprocess.STDOUT, close_fds=False, preexec_fn=as_systemd)
    listener.close()
    try:
        base = f"http://127.0.0.1:{port}"
        code, body = curl(f"{base}/healthz")
        assert code == 200 and '"ok"' in body, log.read_text()
        creds = '{"username": "debian", "password": "%s"}' % PASSWORD
        code, body = curl("-H", "Content-Type: application/json", "-d", creds, f"{base}/register")
        assert code == 200 and '"username":"debian"' in body, body
        code, body = curl("-H", "Content-Type: application/json", "-d", creds, f"{base}/login")
        assert code == 200 and '"access_token"' in body, body
        token = re.search(r'"access_token":"([^"]+)"', body).group(1)
        code, body = curl("-H", f"Authorization: Bearer {token}", f"{base}/me")
        assert code == 200 and '"username":"debian"' in body, body
    finally:
        proc.send_signal(signal.SIGTERM)
        status = proc.wait(timeout=TIMEOUT)
    assert status == 0, log.read_text()
    assert "LISTEN_FDS" in log.read_text(), log.read_text()
    # The database is where the unit says, the user's own and no one else's.
    uid = int(passwd_entry(root, "gatehouse")[2])
    db = root.file("/var/lib/gatehouse/gatehouse.db")
    assert env["DATABASE_URL"] == "sqlite:////var/lib/gatehouse/gatehouse.db"
    assert db.stat().st_uid == uid and mode(db) == 0o600
    log.unlink()

    # The README's command for the CLI on the same database, as that user.
    section = readme_section()
    cmd = next(line for line in section.splitlines() if line.startswith("runuser -u gatehouse"))
    r = root.chroot("sh", "-c", cmd)
    assert re.search(r"^1\s+debian\s", r.stdout, re.M), r.stdout


def test_remove_then_purge_leave_nothing_of_the_package(root, deb):
    owned = root.chroot("dpkg", "-L", "gatehouse").stdout.split()
    conffiles = set(root.file("/var/lib/dpkg/info/gatehouse.conffiles").read_text().split())
    ours = [p for p in owned if "gatehouse" in p]
    assert "/usr/bin/gatehouse" in ours and "/etc/gatehouse/gatehouse.env" in ours
    shutil.rmtree(root.file("/root/build"))
    # The data made by the service, which remove keeps and purge removes.
    state = root.file("/var/lib/gatehouse")
    (state / "gatehouse.db").touch()

    root.chroot("apt-get", "remove", "-y", "gatehouse", timeout=APT_TIMEOUT)
    assert root.status("gatehouse") == "deinstall ok config-files"
    left = [p for p in owned if os.path.lexists(root.file(p)) and not root.file(p).is_dir()]
    assert set(left) == conffiles, left
    assert (state / "gatehouse.db").exists()

    # A file the administrator put beside the settings (a TLS key, say).
    mine = root.file("/etc/gatehouse/mine.key")
    mine.write_text("not the package's\n")

    root.chroot("apt-get", "purge", "-y", "gatehouse", timeout=APT_TIMEOUT)
    assert root.status("gatehouse") in ("absent", "unknown ok not-installed")
    assert not state.exists()
    # The administrator's own file stays, and with it the directory; the
    # package's are gone.
    assert [p for p in ours if os.path.lexists(root.file(p))] == ["/etc/gatehouse"]
    assert os.listdir(root.file("/etc/gatehouse")) == ["mine.key"]
    mine.unlink()
    root.file("/etc/gatehouse").rmdir()
    # Nothing anywhere in the root is named after it any more (the enable
    # link and deb-systemd-helper's state included)...
    r = run(["find", root.path, "-path", root.file("/proc"), "-prune", "-o", "-name", "*gatehouse*", "-print"])
    assert r.stdout == ""
    # ... but the system user, which purge keeps (debian/gatehouse.postrm).
    assert passwd_entry(root, "gatehouse")
