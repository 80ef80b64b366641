"""A real SMTP server on loopback for the mail tests: Debian's aiosmtpd,
with STARTTLS under a certificate of a throwaway CA made for the run.

    ca = ThrowawayCA(tmp_path)               # ca.cert_file is SMTP_CA_FILE
    with MailSink(ca=ca) as sink:            # STARTTLS offered and required
        env = {"SMTP_URL": sink.url, "SMTP_CA_FILE": str(ca.cert_file), ...}
        ...
        msg = sink.wait_for(lambda m: m.to == "a@example.com")
        link = msg.link("/password/reset")

MailSink(ca=None) speaks plain SMTP (for SMTP_STARTTLS=off);
MailSink(ca=ca, implicit_tls=True) speaks TLS from the first byte (smtps://,
sink.url says so). MailSink(..., login=("user", "pass")) requires AUTH with
that login (over TLS) and keeps the login of each message (msg.login). Run as
a program (python3 tests/api/mailsink.py DIR), it is a plain sink that spools
each mail into DIR as JSON for the browser tests (SpoolSink). The sink keeps
every message it accepted, raw bytes and parsed, in arrival order; it can
refuse mail for a while (sink.refuse = True answers 451) to play an outage,
and be slow to answer (sink.data_delay seconds after the message is in).
"""
import asyncio
import datetime
import ipaddress
import email
import email.policy
import json
import re
import socket
import ssl
import sys
import threading
import time
import warnings
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

WAIT_TIMEOUT = 60.0  # detects a mail that never comes; nothing asserts on time


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


class ThrowawayCA:
    """A CA and one server certificate for localhost and 127.0.0.1, written
    as PEM files under directory."""

    def __init__(self, directory, hostname="localhost"):
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        now = datetime.datetime.now(datetime.timezone.utc)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(_name("gatehouse test CA"))
            .issuer_name(_name("gatehouse test CA"))
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(hostname))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName(hostname),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            ]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        self.cert_file = directory / "ca.pem"
        self.server_cert_file = directory / "server.pem"
        self.server_key_file = directory / "server.key"
        self.cert_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        self.server_cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.server_key_file.write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        self.server_key_file.chmod(0o600)

    def server_context(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.server_cert_file, self.server_key_file)
        return ctx


class Message:
    """One accepted mail: envelope, raw bytes, parsed (email.message)."""

    def __init__(self, mail_from, rcpt_tos, raw, tls, login=None):
        self.login = login  # the user name it authenticated as, or None
        self.mail_from = mail_from
        self.rcpt_tos = list(rcpt_tos)
        self.raw = raw
        self.tls = tls  # whether it came over TLS
        self.parsed = email.message_from_bytes(raw, policy=email.policy.default)

    @property
    def to(self):
        return self.rcpt_tos[0] if len(self.rcpt_tos) == 1 else self.rcpt_tos

    @property
    def subject(self):
        return str(self.parsed["Subject"])

    def part(self, content_type):
        """The decoded text of the part of that type (text/plain, text/html)."""
        for p in self.parsed.walk():
            if p.get_content_type() == content_type and not p.is_multipart():
                return p.get_content()
        raise AssertionError(f"no {content_type} part in {self.raw[:400]!r}")

    def link(self, path):
        """The link to path in the text part: on a line of its own."""
        text = self.part("text/plain")
        found = re.findall(r"^(https?://\S+" + re.escape(path) + r"\?token=[A-Za-z0-9_-]+)\s*$",
                           text, re.M)
        assert len(found) == 1, f"one {path} link on a line of its own expected in {text!r}"
        return found[0]

    def token(self, path):
        return self.link(path).rsplit("token=", 1)[1]


class _Handler:
    def __init__(self, sink):
        self.sink = sink

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.sink.refuse:
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.sink.refuse:
            return "451 4.3.0 try again later"
        if self.sink.data_delay:
            # A slow server: the message is in, the answer not yet.
            self.sink.data_received.set()
            await asyncio.sleep(self.sink.data_delay)
        tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        login = session.login_data.decode() if session.authenticated else None
        self.sink._accept(Message(envelope.mail_from, envelope.rcpt_tos, envelope.original_content
                                  or envelope.content, tls, login))
        return "250 Message accepted for delivery"


class _Controller(Controller):
    def __init__(self, sink, ca, port, **kw):
        self._ca = ca
        self._sink = sink
        if sink.implicit_tls:
            kw["ssl_context"] = ca.server_context()
        super().__init__(_Handler(sink), hostname="127.0.0.1", port=port, **kw)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = self._sink.login is not None and (auth_data.login.decode(),
                                               auth_data.password.decode()) == self._sink.login
        # handled=False: aiosmtpd answers 535 itself.
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def factory(self):
        kw = {}
        if self._sink.login is not None:
            # aiosmtpd sees TLS only after STARTTLS: on an implicit TLS
            # socket it would never offer AUTH if told to require TLS.
            kw = {"authenticator": self._authenticate, "auth_required": True,
                  "auth_require_tls": not self._sink.implicit_tls}
        if self._ca is None or self._sink.implicit_tls:
            with warnings.catch_warnings():
                # "AUTH without TLS": the socket is TLS, aiosmtpd cannot tell.
                warnings.simplefilter("ignore", UserWarning)
                return SMTPServer(self.handler, hostname="sink.test", **kw)
        return SMTPServer(self.handler, hostname="sink.test",
                          tls_context=self._ca.server_context(), require_starttls=True, **kw)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MailSink:
    """A loopback SMTP server; a context manager (start, stop)."""

    def __init__(self, ca=None, port=None, implicit_tls=False, login=None):
        assert ca is not None or not implicit_tls, "implicit TLS needs a CA"
        self.ca = ca
        self.implicit_tls = implicit_tls
        self.login = login
        self.port = port or free_port()
        self.messages = []
        self.refuse = False
        self.data_delay = 0.0  # seconds before each mail is answered
        self.data_received = threading.Event()  # set when a delayed mail's data is in
        self._cond = threading.Condition()
        self._controller = None

    @property
    def url(self):
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self):
        self._controller = _Controller(self, self.ca, self.port)
        self._controller.start()
        return self

    def stop(self):
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _accept(self, msg):
        with self._cond:
            self.messages.append(msg)
            self._cond.notify_all()

    def wait_for(self, match=lambda m: True, timeout=WAIT_TIMEOUT, count=1):
        """The first count messages that match (one Message when count is
        1), waiting for them to arrive."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [m for m in self.messages if match(m)]
                if len(found) >= count:
                    return found[0] if count == 1 else found[:count]
                left = deadline - time.monotonic()
                assert left > 0, f"{count} matching mail(s) expected; got {len(found)} " \
                                 f"of {len(self.messages)}"
                self._cond.wait(left)

    def to(self, address, timeout=WAIT_TIMEOUT, count=1):
        return self.wait_for(lambda m: address in m.rcpt_tos, timeout, count)

    def sent_to(self, address):
        """The messages accepted for address so far (no waiting)."""
        with self._cond:
            return [m for m in self.messages if address in m.rcpt_tos]


class SpoolSink(MailSink):
    """A MailSink that also writes each mail it accepts into directory, as
    NNNN.json ({"to", "subject", "text", "html"}, the parts decoded) beside
    NNNN.eml (the raw bytes), for a test in another language to read: the
    browser tests (tests/browser/) run it as a child process."""

    def __init__(self, directory, **kw):
        super().__init__(**kw)
        self.directory = Path(directory)

    def _accept(self, msg):
        n = len(self.messages) + 1
        (self.directory / f"{n:04d}.eml").write_bytes(msg.raw)
        body = {"to": msg.rcpt_tos, "subject": msg.subject,
                "text": msg.part("text/plain"), "html": msg.part("text/html")}
        tmp = self.directory / f".{n:04d}.json"
        tmp.write_text(json.dumps(body))
        tmp.rename(self.directory / f"{n:04d}.json")  # whole or not there
        super()._accept(msg)


if __name__ == "__main__":
    # python3 tests/api/mailsink.py DIR: a plain SMTP sink on a free loopback
    # port spooling into DIR; prints its SMTP_URL on a line, then serves
    # until its standard input closes.
    with SpoolSink(sys.argv[1]) as spool:
        print(spool.url, flush=True)
        sys.stdin.read()
