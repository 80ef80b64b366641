"""Sending mail (API.md, "Email"): SMTP through libcurl to real servers on
loopback, the composed message as a mail client reads it, the outbox's
retries across an outage and a restart, several instances on one
PostgreSQL, and Debian's exim4.

The mails are caused through the API (registration with an address mails a
confirmation link; POST /password/forgot a reset link) and read back from
tests/api/mailsink.py: STARTTLS required and verified against a throwaway
CA, or TLS from the first byte (smtps://), or plain to loopback."""
import datetime
import email.utils
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from gh_helpers import MAIL_PUBLIC_URL as PUBLIC_URL
from gh_helpers import PASSWORD, free_port, unique_username
from gh_helpers import mail_env as gh_mail_env
from mailsink import MailSink, ThrowawayCA
from test_postgres import pg  # noqa: F401 (a pytest fixture, used by name)

FROM = "Гейтхаус <noreply@example.test>"
WAIT = 60.0  # detects a hang; nothing asserts on time


def mail_env(sink, ca=None, **more):
    """gh_helpers.mail_env with a From of non-ASCII name, quick retries and
    no interval between a user's mails."""
    mine = {"MAIL_FROM": FROM, "MAIL_RETRY_MAX_SECONDS": "1", "MAIL_MIN_INTERVAL_SECONDS": "0"}
    return gh_mail_env(sink, ca, **{**mine, **more})


def address():
    return f"{unique_username('m')}@example.test".lower()


def register(srv, email_addr):
    name = unique_username("e")
    r = srv.post_json("/register", {"username": name, "password": PASSWORD, "email": email_addr})
    assert r.status_code == 200, r.text
    return name


def forgot(srv, email_addr, **kw):
    r = srv.post_json("/password/forgot", {"email": email_addr}, **kw)
    assert r.status_code == 202, r.text


def wait_until(cond, what, timeout=WAIT):
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def outbox(srv):
    return srv.query("SELECT recipient, attempts, last_error FROM outbox")


def metric(srv, name):
    text = srv.get("/metrics").text
    m = re.search(rf"^{name} (\S+)$", text, re.M)
    assert m, f"{name} missing from /metrics"
    return float(m.group(1))


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    return ThrowawayCA(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def tls_sink(ca):
    with MailSink(ca=ca) as s:
        yield s


@pytest.fixture(scope="module")
def tls_srv(make_module_server, tls_sink, ca):
    return make_module_server(env=mail_env(tls_sink, ca))


# ------------------------------------------------------------ the message


def test_starttls_message_as_read(tls_srv, tls_sink):
    """Over STARTTLS verified against the CA: a reset mail whose headers,
    parts and link are what a mail client needs."""
    to = address()
    register(tls_srv, to)
    tls_sink.to(to)  # the confirmation first
    forgot(tls_srv, to)
    msg = tls_sink.wait_for(lambda m: to in m.rcpt_tos and "/password/reset?token=" in
                            m.part("text/plain"))
    assert msg.tls
    assert msg.mail_from == "noreply@example.test"
    p = msg.parsed
    assert p["To"] == to
    assert str(p["From"]) == FROM
    assert msg.subject == "Reset your password"
    assert p["MIME-Version"] == "1.0"
    # Date: RFC 5322, in UTC, now-ish.
    when = email.utils.parsedate_to_datetime(p["Date"])
    assert abs((when - datetime.datetime.now(datetime.timezone.utc)).total_seconds()) < 3600
    # Message-ID: unique, random, at MAIL_FROM's domain.
    assert re.fullmatch(r"<[0-9a-f]{32}@example\.test>", p["Message-ID"])
    assert p.get_content_type() == "multipart/alternative"
    parts = [x for x in p.walk() if not x.is_multipart()]
    assert [x.get_content_type() for x in parts] == ["text/plain", "text/html"]
    assert all(x.get_content_charset() == "utf-8" for x in parts)
    # The raw message: CRLF only, no line past 78, 7-bit (base64 parts).
    raw = msg.raw
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 78
    assert all(b < 0x80 for b in raw)
    link = msg.link("/password/reset")
    assert link.startswith(PUBLIC_URL + "/password/reset?token=")
    html = msg.part("text/html")
    assert f'href="{link}"' in html
    token = msg.token("/password/reset")
    # The link works: the token resets the password.
    r = tls_srv.post_json("/password/reset", {"token": token, "new_password": "another-pass-777"})
    assert r.status_code == 204, r.text
    # Sent: the outbox keeps nothing, the link included.
    wait_until(lambda: not tls_srv.query("SELECT 1 FROM outbox WHERE recipient = ?", (to,)),
               "the sent rows to go")


def test_message_ids_and_boundaries_differ(tls_srv, tls_sink):
    to = address()
    register(tls_srv, to)
    forgot(tls_srv, to)
    a, b = tls_sink.to(to, count=2)
    assert a.parsed["Message-ID"] != b.parsed["Message-ID"]
    assert a.parsed.get_boundary() != b.parsed.get_boundary()


def test_metrics_count_sent_mail(tls_srv, tls_sink):
    before = metric(tls_srv, "gatehouse_mail_sent_total")
    to = address()
    register(tls_srv, to)
    tls_sink.to(to)
    wait_until(lambda: metric(tls_srv, "gatehouse_mail_sent_total") >= before + 1, "the counter")
    wait_until(lambda: metric(tls_srv, "gatehouse_mail_outbox_depth") == 0, "an empty outbox")
    assert metric(tls_srv, "gatehouse_mail_failed_attempts_total") == 0


@pytest.mark.parametrize("lang,subject,phrase", [
    ("ru", "Сброс пароля", "пароль"),
    ("en", "Reset your password", "password"),
])
def test_language_of_the_request(tls_srv, tls_sink, lang, subject, phrase):
    to = address()
    register(tls_srv, to)
    forgot(tls_srv, to, headers={"Accept-Language": f"{lang};q=0.9, de;q=0.1"})
    msg = tls_sink.wait_for(lambda m: to in m.rcpt_tos and "/password/reset?token=" in
                            m.part("text/plain"))
    assert msg.subject == subject
    assert phrase in msg.part("text/plain") and phrase in msg.part("text/html")
    assert f'<html lang="{lang}">' in msg.part("text/html")


# ------------------------------------------------------------ TLS and SMTP_URL


def test_certificate_of_another_ca_refused_mail_stays_queued(make_server, ca, tmp_path):
    """A server certificate the configured CA did not sign: the mail is not
    sent, stays queued with the TLS error, and goes once the CA is right."""
    other = ThrowawayCA(tmp_path / "other")
    with MailSink(ca=ca) as sink:
        srv = make_server(env=mail_env(sink, other))
        to = address()
        register(srv, to)
        wait_until(lambda: any(r[1] >= 1 for r in outbox(srv)), "a failed attempt")
        rows = outbox(srv)
        assert len(rows) == 1 and rows[0][0] == to
        assert re.search(r"certificate|SSL|TLS", rows[0][2], re.I), rows[0][2]
        assert sink.messages == []
        assert metric(srv, "gatehouse_mail_failed_attempts_total") >= 1
        db = srv.db_path
        srv.stop()
        srv2 = make_server(env=mail_env(sink, ca), db_path=db)
        sink.to(to)
        wait_until(lambda: outbox(srv2) == [], "the sent row to go")


def test_host_name_verified(make_server, tmp_path):
    """A certificate of the right CA but for another name: refused."""
    other_name = ThrowawayCA(tmp_path / "ca", hostname="other.example")
    with MailSink(ca=other_name) as sink:
        url = f"smtp://localhost:{sink.port}"
        srv = make_server(env=mail_env(sink, other_name, SMTP_URL=url))
        to = address()
        register(srv, to)
        wait_until(lambda: any(r[1] >= 1 for r in outbox(srv)), "a failed attempt")
        assert sink.messages == []
        assert re.search(r"certificate|name|SSL", outbox(srv)[0][2], re.I), outbox(srv)[0][2]


def test_starttls_required_never_plain(make_server, tmp_path):
    """smtp:// to a server that offers no STARTTLS: refused, never sent in
    clear text."""
    with MailSink() as sink:  # plain, no STARTTLS
        srv = make_server(env=mail_env(sink, ThrowawayCA(tmp_path / "ca")))
        to = address()
        register(srv, to)
        wait_until(lambda: any(r[1] >= 1 for r in outbox(srv)), "a failed attempt")
        assert sink.messages == []
        assert "STARTTLS" in outbox(srv)[0][2] or "SSL" in outbox(srv)[0][2]


def test_smtps_and_login_from_the_url(make_server, ca):
    """smtps:// (TLS from the first byte) with the login of the URL; the
    password never reaches the log."""
    secret = "pw-" + os.urandom(6).hex()
    with MailSink(ca=ca, implicit_tls=True, login=("mailer", secret)) as sink:
        url = sink.url.replace("smtps://", f"smtps://mailer:{secret}@")
        srv = make_server(env=mail_env(sink, ca, SMTP_URL=url))
        to = address()
        register(srv, to)
        msg = sink.to(to)
        assert msg.tls and msg.login == "mailer"
        srv.stop()
        assert secret not in srv.stderr() + srv.stdout()
        assert f"smtps://mailer@127.0.0.1:{sink.port}" in srv.stderr()


def test_wrong_login_error_text_logged(make_server, ca):
    """The SMTP server's own error text reaches the log line and the row."""
    with MailSink(ca=ca, login=("mailer", "right")) as sink:
        url = sink.url.replace("smtp://", "smtp://mailer:wrong-pw@")
        srv = make_server(env=mail_env(sink, ca, SMTP_URL=url))
        to = address()
        register(srv, to)
        wait_until(lambda: any(r[1] >= 1 for r in outbox(srv)), "a failed attempt")
        assert "535" in outbox(srv)[0][2]
        assert srv.stderr_shows("535 5.7.8")
        srv.stop()
        assert "wrong-pw" not in srv.stderr()


def test_plain_to_loopback_allowed(make_server):
    with MailSink() as sink:
        srv = make_server(env=mail_env(sink))
        to = address()
        register(srv, to)
        assert not sink.to(to).tls


@pytest.mark.parametrize("env,needle", [
    ({"SMTP_URL": "smtp://mail.example.com", "SMTP_STARTTLS": "off"}, "loopback"),
    ({"SMTP_URL": "smtp://10.0.0.1:25", "SMTP_STARTTLS": "off"}, "loopback"),
    ({"SMTP_URL": "http://mail.example.com"}, "smtp://"),
    ({"SMTP_URL": "smtp://mail.example.com:99999"}, "1-65535"),
    ({"SMTP_URL": "smtp://u:hunter2@mail.example.com?x"}, "query"),
    ({"MAIL_FROM": None}, "MAIL_FROM is required"),
    ({"MAIL_FROM": "not an address"}, "MAIL_FROM"),
    ({"MAIL_FROM": "x <a@b.example>\r\nBcc: e@f.example"}, "MAIL_FROM"),
    ({"PUBLIC_URL": None}, "PUBLIC_URL is required"),
    ({"MAIL_TEMPLATES_DIR": "/nonexistent/templates"}, "MAIL_TEMPLATES_DIR"),
    ({"SMTP_CA_FILE": "/nonexistent/ca.pem"}, "SMTP_CA_FILE"),
])
def test_mail_settings_refused_at_start(run_gatehouse, env, needle):
    full = {"SMTP_URL": "smtp://127.0.0.1:25", "MAIL_FROM": "noreply@example.test",
            "PUBLIC_URL": PUBLIC_URL}
    full.update(env)
    r = run_gatehouse(env=full)
    assert r.returncode == 2, r.stderr
    assert needle in r.stderr
    assert "hunter2" not in r.stderr


def test_libcurl_loaded_only_with_smtp_url(make_server):
    """Without SMTP_URL nothing of libcurl (or the OpenSSL it brings) is in
    the process: its idle memory stays where it was."""
    srv = make_server()
    maps = Path(f"/proc/{srv.pid}/maps").read_text()
    assert "libcurl" not in maps
    with MailSink() as sink:
        srv2 = make_server(env=mail_env(sink))
        assert "libcurl" in Path(f"/proc/{srv2.pid}/maps").read_text()


# ------------------------------------------------------------ the outbox


def test_outage_restart_delivers_exactly_once(make_server, ca):
    """SMTP refuses (451) → a mail is asked for → gatehouse stops → starts
    again → SMTP is back → the mail arrives, once."""
    with MailSink(ca=ca) as sink:
        sink.refuse = True
        srv = make_server(env=mail_env(sink, ca))
        to = address()
        register(srv, to)
        wait_until(lambda: any(r[1] >= 2 for r in outbox(srv)), "two failed attempts")
        row = outbox(srv)[0]
        assert "451" in row[2] and "try again later" in row[2], row
        assert metric(srv, "gatehouse_mail_failed_attempts_total") >= 2
        wait_until(lambda: metric(srv, "gatehouse_mail_outbox_depth") == 1, "the depth gauge")
        db = srv.db_path
        srv.stop()
        assert outbox_rows(db) == 1
        srv2 = make_server(env=mail_env(sink, ca), db_path=db)
        sink.refuse = False
        msg = sink.to(to)
        assert msg.link("/email/confirm")
        wait_until(lambda: outbox(srv2) == [], "the sent row to go")
        # Once: nothing else comes for that address (the row is gone, and
        # the sender has polled again since).
        wait_until(lambda: metric(srv2, "gatehouse_mail_sent_total") >= 1, "the counter")
        assert len(sink.sent_to(to)) == 1


def test_stop_lets_a_send_in_progress_finish(make_server):
    """SIGTERM while the SMTP server holds the answer to a mail it has
    read: gatehouse waits for it (within SHUTDOWN_GRACE_SECONDS), takes the
    mail off the outbox, and exits; started again, it sends nothing more.
    Abandoning the send at once left the row queued, and the accepted mail
    went out a second time after the restart."""
    with MailSink() as sink:
        sink.data_delay = 2.0
        srv = make_server(env=mail_env(sink))
        to = address()
        register(srv, to)
        assert sink.data_received.wait(WAIT), "the mail's data never reached the sink"
        db = srv.db_path
        srv.stop()  # fails the test unless it exits, status 0, within STOP_TIMEOUT
        assert "sending abandoned" not in srv.stderr()
        assert len(sink.sent_to(to)) == 1
        assert outbox_rows(db) == 0


def test_smtp_server_gone_then_back(make_server, ca):
    """No SMTP server at all (connection refused) while a mail is asked
    for, across a restart of gatehouse; a server on the same port later:
    the mail arrives, once."""
    port = free_port()
    sink = MailSink(ca=ca, port=port)  # not started yet: nothing listens
    srv = make_server(env=mail_env(sink, ca))
    to = address()
    register(srv, to)
    wait_until(lambda: any(r[1] >= 2 for r in outbox(srv)), "two failed attempts")
    assert re.search(r"connect", outbox(srv)[0][2], re.I), outbox(srv)[0][2]
    db = srv.db_path
    srv.stop()
    srv2 = make_server(env=mail_env(sink, ca), db_path=db)
    with sink:
        assert sink.to(to).link("/email/confirm")
        wait_until(lambda: outbox(srv2) == [], "the sent row to go")
        assert len(sink.sent_to(to)) == 1


def test_command_beside_the_server_hands_over(make_server, run_gatehouse):
    """users reset-password beside a running server on one SQLite file,
    while SMTP refuses: the command's own try fails and leaves the mail
    queued; the server's sender takes it over (the claim is a
    compare-and-set between processes) and it arrives once."""
    from gh_helpers import sqlite_url
    with MailSink() as sink:
        srv = make_server(env=mail_env(sink))
        to = address()
        name = register(srv, to)
        sink.to(to)
        sink.refuse = True
        env = dict(mail_env(sink), DATABASE_URL=sqlite_url(srv.db_path))
        proc = run_gatehouse(["users", "reset-password", name], env=env)
        assert proc.returncode == 1, proc.stderr
        assert "451" in proc.stderr
        rows = outbox(srv)
        assert len(rows) == 1 and rows[0][1] >= 1
        sink.refuse = False
        msg = sink.wait_for(lambda m: to in m.rcpt_tos and "/password/reset?token=" in
                            m.part("text/plain"))
        assert msg.link("/password/reset")
        wait_until(lambda: outbox(srv) == [], "the sent row to go")
        assert len(sink.sent_to(to)) == 2  # the confirmation, and one reset link


def outbox_rows(db_path):
    import sqlite3
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    finally:
        conn.close()


def test_stop_while_smtp_hangs(make_server):
    """An SMTP server that accepts and never answers: gatehouse still stops
    at once (SHUTDOWN_GRACE_SECONDS), and the mail stays queued."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    port = lsock.getsockname()[1]
    held = []
    stop = threading.Event()

    def accept():
        lsock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(lsock.accept()[0])
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        class Fake:
            url = f"smtp://127.0.0.1:{port}"
        srv = make_server(env=mail_env(Fake, SHUTDOWN_GRACE_SECONDS="2"))
        to = address()
        register(srv, to)
        wait_until(lambda: held, "the connection")
        srv.stop()  # fails the test unless it exits, status 0, within STOP_TIMEOUT
        assert "sending abandoned to stop" in srv.stderr()
        # Queued, due at once, and the abandoned try counts as no attempt.
        import sqlite3
        conn = sqlite3.connect(f"file:{srv.db_path}?mode=ro", uri=True)
        rows = conn.execute("SELECT attempts, claim FROM outbox").fetchall()
        conn.close()
        assert rows == [(0, None)]
    finally:
        stop.set()
        t.join()
        for c in held:
            c.close()
        lsock.close()


# ------------------------------------------------------------ templates


def test_templates_dir_replaces_a_template(make_server, tmp_path):
    d = tmp_path / "tpl"
    (d / "ru").mkdir(parents=True)
    (d / "confirm.subject.txt").write_text("Welcome, {{username}}\n")
    (d / "confirm.txt").write_text("Confirm here:\n{{link}}\nThanks, {{@mail.signature}}\n")
    with MailSink() as sink:
        srv = make_server(env=mail_env(sink, MAIL_TEMPLATES_DIR=str(d)))
        to = address()
        name = register(srv, to)
        msg = sink.to(to)
        assert msg.subject == f"Welcome, {name}"
        assert msg.part("text/plain").startswith("Confirm here:")
        assert msg.link("/email/confirm")
        # The parts not replaced stay the built-in ones.
        assert "<!DOCTYPE html>" in msg.part("text/html")


def test_templates_dir_per_language(make_server, tmp_path):
    """LANG/NAME replaces a template for that language only, before NAME."""
    d = tmp_path / "tpl"
    (d / "ru").mkdir(parents=True)
    (d / "reset.subject.txt").write_text("Both: {{@mail.reset.subject}}\n")
    (d / "ru" / "reset.subject.txt").write_text("Только по-русски\n")
    with MailSink() as sink:
        srv = make_server(env=mail_env(sink, MAIL_TEMPLATES_DIR=str(d)))
        subjects = {}
        for lang in ("en", "ru"):
            to = address()
            register(srv, to)
            forgot(srv, to, headers={"Accept-Language": lang})
            msg = sink.wait_for(lambda m: to in m.rcpt_tos and "/password/reset?token=" in
                                m.part("text/plain"))
            subjects[lang] = msg.subject
        assert subjects == {"en": "Both: Reset your password", "ru": "Только по-русски"}


@pytest.mark.parametrize("files,needle", [
    ({"reset.text": "x"}, "not a mail template"),
    ({"ru/resett.txt": "x"}, "not a mail template"),
    ({"reset.txt": "no link here\n"}, "line of its own"),
    ({"confirm.txt": "see {{link}} now\n"}, "line of its own"),
    ({"reset.html": "{{#link}}unclosed"}, "reset.html"),
    ({"reset.subject.txt": "{{nosuchvar}}"}, "reset.subject.txt"),
    ({"reset.subject.txt": "two\nlines"}, "one line"),
    ({"reset.subject.txt": "a\ttab"}, "one line"),
    ({"en/reset.subject.txt": "{{@no.such.key}}"}, "en/reset.subject.txt"),
    # Fine with a short name, too long for the longest one a user may have.
    ({"reset.subject.txt": "{{username}} {{username}}"}, "reset.subject.txt"),
])
def test_bad_templates_refused_at_start(run_gatehouse, tmp_path, files, needle):
    d = tmp_path / "tpl"
    d.mkdir()
    for name, text in files.items():
        (d / name).parent.mkdir(parents=True, exist_ok=True)
        (d / name).write_text(text)
    r = run_gatehouse(env={"SMTP_URL": "smtp://127.0.0.1:25", "SMTP_STARTTLS": "off",
                           "MAIL_FROM": "noreply@example.test", "PUBLIC_URL": PUBLIC_URL,
                           "MAIL_TEMPLATES_DIR": str(d)})
    assert r.returncode == 2, r.stderr
    assert needle in r.stderr


# ------------------------------------------------------------ exim4

EXIM = Path("/usr/sbin/exim4")

EXIM_CONF = """\
primary_hostname = exim.gatehouse.invalid
spool_directory = {d}/spool
log_file_path = {d}/log/%slog
pid_file_path = {d}/exim.pid
notifier_socket = {d}/notifier
daemon_smtp_ports = {port}
local_interfaces = 127.0.0.1
domainlist local_domains = example.test
host_lookup =
rfc1413_hosts =
keep_environment =
tls_advertise_hosts = *
tls_certificate = {d}/server.pem
tls_privatekey = {d}/server.key
acl_smtp_rcpt = acl_check_rcpt

begin acl
acl_check_rcpt:
  accept hosts = 127.0.0.1
         domains = +local_domains
  deny message = relay not permitted

begin routers
local:
  driver = accept
  domains = +local_domains
  transport = to_maildir

begin transports
to_maildir:
  driver = appendfile
  directory = {d}/maildir
  maildir_format
  create_directory
  user = {user}
  mode = 0644

begin retry
* * F,1m,1m
"""


@pytest.fixture
def exim(tmp_path, ca):
    """Debian's exim4 on a free loopback port, with a configuration of this
    test's (STARTTLS under the throwaway CA's certificate), delivering every
    mail for example.test into one maildir. Run as the current user; as
    root, exim refuses to deliver as root (never_users), so the delivery
    runs as Debian-exim."""
    if not EXIM.exists():
        pytest.skip("exim4 is not installed (apt-get install exim4-daemon-light)")
    d = Path(tempfile.mkdtemp(prefix="gh-exim-", dir="/tmp"))
    # The delivery runs as another user than the daemon when root starts
    # it: both write the log, the spool and the maildir.
    os.chmod(d, 0o755)
    for sub in ("spool", "log", "maildir"):
        (d / sub).mkdir()
        os.chmod(d / sub, 0o777)
    shutil.copy(ca.server_cert_file, d / "server.pem")
    shutil.copy(ca.server_key_file, d / "server.key")
    os.chmod(d / "server.key", 0o644)  # a throwaway key, read by exim's user
    import pwd
    user = "Debian-exim" if os.getuid() == 0 else pwd.getpwuid(os.getuid()).pw_name
    port = free_port()
    (d / "exim.conf").write_text(EXIM_CONF.format(d=d, port=port, user=user))
    proc = subprocess.Popen([str(EXIM), "-C", str(d / "exim.conf"), "-bdf", "-q1m"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        def listening():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode()
                return False
        wait_until(listening, "exim to listen")
        yield {"url": f"smtp://127.0.0.1:{port}", "maildir": d / "maildir", "dir": d}
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(d, ignore_errors=True)


def test_exim4_delivers_over_starttls(make_server, exim, ca):
    class Exim:
        url = exim["url"]
    srv = make_server(env=mail_env(Exim, ca))
    to = address()
    register(srv, to)
    new = exim["maildir"] / "new"
    wait_until(lambda: new.is_dir() and any(new.iterdir()), "the mail in the maildir")
    files = list(new.iterdir())
    assert len(files) == 1
    import email as email_lib
    import email.policy
    msg = email_lib.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert msg["To"] == to
    assert str(msg["From"]) == FROM
    # exim took it over TLS (its Received header names the cipher).
    assert "TLS" in str(msg["Received"]), msg["Received"]
    text = next(p for p in msg.walk() if p.get_content_type() == "text/plain").get_content()
    links = re.findall(r"^(https://\S+/email/confirm\?token=[A-Za-z0-9_-]+)\s*$", text, re.M)
    assert len(links) == 1 and links[0].startswith(PUBLIC_URL)
    wait_until(lambda: outbox(srv) == [], "the sent row to go")


# ------------------------------------------------------------ PostgreSQL


def test_instances_on_postgresql_send_each_mail_once(pg, make_server):
    """Mails queued while SMTP refuses, then three instances on one
    PostgreSQL draining the outbox at once: every mail arrives exactly once,
    and the instances' sent counters add up to the mails."""
    url, db = pg.fresh_db()
    n = 30
    with MailSink() as sink:
        sink.refuse = True
        env = mail_env(sink)
        first = make_server(database_url=url, env=env)
        addresses = [address() for _ in range(n)]
        for a in addresses:
            register(first, a)
        wait_until(lambda: pg.psql("SELECT COUNT(*) FROM outbox WHERE attempts > 0", db=db)
                   != "0", "a refused attempt")
        others = [make_server(database_url=url, env=env) for _ in range(2)]
        sink.refuse = False
        for a in addresses:
            sink.to(a)
        wait_until(lambda: pg.psql("SELECT COUNT(*) FROM outbox", db=db) == "0",
                   "an empty outbox")
        servers = [first, *others]
        # Every instance has finished its sends (its counter is final) once
        # the sum reaches n; more than n would be a mail sent twice.
        wait_until(lambda: sum(metric(s, "gatehouse_mail_sent_total") for s in servers) >= n,
                   "the counters")
        for s in servers:
            s.stop()
        assert sum(metric_from_log(s) for s in servers) == n
        for a in addresses:
            assert len(sink.sent_to(a)) == 1, a
        assert len(sink.messages) == n


def metric_from_log(srv):
    """Mails an instance sent, from its log (it has stopped)."""
    return len(re.findall(r"^.* mail \d+ sent ", srv.stderr(), re.M))
