"""Addresses, confirmation and password reset by mail (API.md, "Email"),
end to end: a real gatehouse, a real database, and the mail it sends read
back from a loopback SMTP server (tests/api/mailsink.py, plain SMTP with
SMTP_STARTTLS=off, which loopback allows)."""
import concurrent.futures
import sqlite3
import time

import pytest

from gh_helpers import (
    PASSWORD,
    TEST_DATABASE_URL,
    bearer,
    mail_env,
    sqlite_url,
    unique_username,
)
from gh_helpers import MAIL_PUBLIC_URL as PUBLIC_URL
from mailsink import MailSink

NEW_PASSWORD = "a-brand-new-passphrase-7"


@pytest.fixture(scope="module")
def sink():
    with MailSink() as s:
        yield s


@pytest.fixture(scope="module")
def srv(make_module_server, sink):
    """On PostgreSQL too under scripts/with-pg.sh (the cases that read the
    database behind the server's back then skip)."""
    if TEST_DATABASE_URL:
        return make_module_server(env=mail_env(sink), database_url=TEST_DATABASE_URL)
    return make_module_server(env=mail_env(sink))


def address():
    return f"{unique_username('m')}@example.test".lower()


def register(srv, email, username=None, password=PASSWORD):
    username = username or unique_username("e")
    body = {"username": username, "password": password}
    if email is not None:
        body["email"] = email
    r = srv.post_json("/register", body)
    assert r.status_code == 200, r.text
    return username, r


def me(srv, token):
    r = srv.me(token)
    assert r.status_code == 200, r.text
    return r.json()


def link_mail(sink, email, path, count=1):
    """The count-th mail to email carrying a path link (waiting for it)."""
    found = sink.wait_for(lambda m: email in m.rcpt_tos and f"{path}?token=" in m.part(
        "text/plain"), count=count)
    return found if count == 1 else found[-1]


def confirm_token(sink, email, count=1):
    return link_mail(sink, email, "/email/confirm", count).token("/email/confirm")


def reset_token(sink, email, count=1):
    return link_mail(sink, email, "/password/reset", count).token("/password/reset")


# ------------------------------------------------------------ registration


def test_register_confirm_me(srv, sink):
    email = address()
    name, r = register(srv, email)
    assert set(r.json()) == {"id", "username", "created_at"}  # the address is not echoed
    token = srv.token(name)
    body = me(srv, token)
    assert body["email"] == email and body["email_verified"] is False
    msg = link_mail(sink, email, "/email/confirm")
    link = msg.link("/email/confirm")
    assert link.startswith(PUBLIC_URL + "/email/confirm?token=")
    tok = msg.token("/email/confirm")
    assert len(tok) == 43  # 256 bits of base64url
    assert srv.post_json("/email/confirm", {"token": tok}).status_code == 204
    body = me(srv, token)
    assert body["email"] == email and body["email_verified"] is True
    # Single use.
    r = srv.post_json("/email/confirm", {"token": tok})
    assert r.status_code == 400
    assert r.headers["Content-Type"].startswith("application/problem+json")


def test_me_without_address(srv):
    name, _ = register(srv, None)
    body = me(srv, srv.token(name))
    assert body["email"] is None and body["email_verified"] is False


def test_tokens_stored_only_as_hashes(srv, sink):
    email = address()
    register(srv, email)
    tok = confirm_token(sink, email)
    rows = srv.query("SELECT token_hash FROM email_tokens")
    assert rows and all(tok.encode() not in bytes(r[0]) and len(bytes(r[0])) == 32 for r in rows)


def test_register_taken_address_no_enumeration(srv, sink):
    email = address()
    owner, first = register(srv, email)
    sink.to(email)  # the owner's confirmation
    other, second = register(srv, email.upper())
    # The same answer as a free address: 200 and the same fields.
    assert second.status_code == first.status_code == 200
    assert set(second.json()) == set(first.json())
    assert me(srv, srv.token(other))["email"] is None
    assert me(srv, srv.token(owner))["email"] == email
    # The owner is told instead; nobody gets a link for the taken address.
    notices = sink.to(email, count=2)
    assert "/email/confirm" not in notices[1].part("text/plain")


def test_register_bad_address(srv):
    for bad in ["no-at", "a@localhost", "a@b@c.org", "x" * 65 + "@example.org",
                "a@" + "d" * 250 + ".org", "é@example.org", "a b@example.org", 7]:
        r = srv.post_json("/register", {"username": unique_username("b"), "password": PASSWORD,
                                        "email": bad})
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["errors"][0]["field"] == "email"


# ------------------------------------------------------------ confirmation


def test_verify_resends_and_throttles_per_account(srv, sink):
    email = address()
    name, _ = register(srv, email)
    sink.to(email)
    token = srv.token(name)
    # MAIL_MIN_INTERVAL_SECONDS (60) counts from the registration's request
    # too? No: only /email/verify and /password/forgot are limited.
    r = srv.post("/email/verify", headers=bearer(token))
    assert r.status_code == 202, r.text
    tok = confirm_token(sink, email, 2)
    r = srv.post("/email/verify", headers=bearer(token))
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) >= 1
    assert len(sink.sent_to(email)) == 2
    assert srv.post_json("/email/confirm", {"token": tok}).status_code == 204
    assert me(srv, token)["email_verified"] is True


def test_verify_without_address_409(srv):
    name, _ = register(srv, None)
    r = srv.post("/email/verify", headers=bearer(srv.token(name)))
    assert r.status_code == 409
    assert r.headers["Content-Type"].startswith("application/problem+json")


def test_verify_needs_a_token(srv):
    assert srv.post("/email/verify").status_code == 401


@pytest.mark.parametrize("tok", ["", "short", "A" * 43, "A" * 42 + "B", "A" * 44, "!" * 43])
def test_confirm_bad_tokens_400(srv, tok):
    r = srv.post_json("/email/confirm", {"token": tok})
    assert r.status_code == 400, r.text
    assert r.json()["status"] == 400


def test_confirm_missing_token_422(srv):
    assert srv.post_json("/email/confirm", {}).status_code == 422


def test_confirm_expired(make_server, sink):
    s = make_server(env=mail_env(sink, EMAIL_TOKEN_EXPIRE_MINUTES="1"))
    email = address()
    register(s, email)
    tok = confirm_token(sink, email)
    # Age the token by rewriting its expiry behind the server's back.
    conn = sqlite3.connect(s.db_path)
    conn.execute("UPDATE email_tokens SET expires_at = expires_at - 61")
    conn.commit()
    conn.close()
    assert s.post_json("/email/confirm", {"token": tok}).status_code == 400


# ------------------------------------------------------------ change


def test_change_email(srv, sink):
    old, new = address(), address()
    name, _ = register(srv, old)
    sink.to(old)
    token = srv.token(name)
    r = srv.request("PUT", "/me/email", json={"email": new, "password": PASSWORD},
                    headers=bearer(token))
    assert r.status_code == 202, r.text
    # Only once confirmed.
    assert me(srv, token)["email"] == old
    notice = sink.to(old, count=2)[1]
    assert new in notice.part("text/plain")
    tok = confirm_token(sink, new)
    assert srv.post_json("/email/confirm", {"token": tok}).status_code == 204
    body = me(srv, token)
    assert body["email"] == new and body["email_verified"] is True


def test_change_email_wrong_password(srv, sink):
    name, _ = register(srv, None)
    r = srv.request("PUT", "/me/email", json={"email": address(), "password": "wrong-one-123"},
                    headers=bearer(srv.token(name)))
    assert r.status_code == 401


def test_change_to_taken_address_same_answer(srv, sink):
    taken = address()
    register(srv, taken)
    sink.to(taken)
    name, _ = register(srv, None)
    token = srv.token(name)
    free = address()
    a = srv.request("PUT", "/me/email", json={"email": free, "password": PASSWORD},
                    headers=bearer(token))
    b = srv.request("PUT", "/me/email", json={"email": taken, "password": PASSWORD},
                    headers=bearer(token))
    assert a.status_code == b.status_code == 202
    assert a.json() == b.json()
    sink.to(free)
    notice = sink.to(taken, count=2)[1]
    assert "token=" not in notice.part("text/plain")
    assert me(srv, token)["email"] is None


# ------------------------------------------------------------ forgot / reset


def forgot(srv, **body):
    return srv.post_json("/password/forgot", body)


def test_forgot_and_reset_revokes_every_session(srv, sink):
    email = address()
    name, _ = register(srv, email)
    sink.to(email)
    t1 = srv.login(name).json()
    t2 = srv.login(name).json()
    r = forgot(srv, username=name)
    assert r.status_code == 202
    tok = reset_token(sink, email)
    assert len(tok) == 43
    r = srv.post_json("/password/reset", {"token": tok, "new_password": NEW_PASSWORD})
    assert r.status_code == 204, r.text
    for t in (t1, t2):
        assert srv.me(t["access_token"]).status_code == 401
        assert srv.post_json("/refresh", {"refresh_token": t["refresh_token"]}).status_code == 401
    assert srv.login(name).status_code == 401
    token = srv.token(name, NEW_PASSWORD)
    # The address the link went to counts as confirmed.
    assert me(srv, token)["email_verified"] is True
    # Single use.
    r = srv.post_json("/password/reset", {"token": tok, "new_password": NEW_PASSWORD + "x"})
    assert r.status_code == 400


def test_forgot_by_email_any_case(srv, sink):
    email = address()
    name, _ = register(srv, email)
    sink.to(email)
    assert forgot(srv, email=email.upper()).status_code == 202
    tok = reset_token(sink, email)
    assert srv.post_json("/password/reset",
                         {"token": tok, "new_password": NEW_PASSWORD}).status_code == 204


def test_forgot_same_answer_whatever_the_account(srv, sink):
    email = address()
    name, _ = register(srv, email)
    plain, _ = register(srv, None)
    answers = [forgot(srv, username=name), forgot(srv, username="nobody-" + name),
               forgot(srv, username=plain), forgot(srv, email=address()),
               forgot(srv, email=email)]
    assert {a.status_code for a in answers} == {202}
    assert len({a.content for a in answers}) == 1
    assert len({a.headers["Content-Type"] for a in answers}) == 1


def settled(srv):
    """Waits until every forgot request is resolved and every mail sent
    (the deadline only detects a hang)."""
    deadline = time.monotonic() + 30
    while srv.query("SELECT (SELECT COUNT(*) FROM password_requests) + "
                    "(SELECT COUNT(*) FROM outbox)")[0][0] != 0:
        assert time.monotonic() < deadline, "requests or mail left unresolved"
        time.sleep(0.02)


def test_forgot_per_account_interval(srv, sink):
    email = address()
    name, _ = register(srv, email)
    sink.to(email)
    assert forgot(srv, username=name).status_code == 202
    reset_token(sink, email)
    # Within MAIL_MIN_INTERVAL_SECONDS (60) of the first: the same 202, and
    # no second mail, whichever name the request gives.
    assert forgot(srv, username=name).status_code == 202
    assert forgot(srv, email=email).status_code == 202
    settled(srv)
    assert len(sink.sent_to(email)) == 2


def test_new_reset_token_voids_older(make_server, sink):
    s = make_server(env=mail_env(sink, MAIL_MIN_INTERVAL_SECONDS="0"))
    email = address()
    name, _ = register(s, email)
    sink.to(email)
    assert forgot(s, username=name).status_code == 202
    first = reset_token(sink, email)
    assert forgot(s, username=name).status_code == 202
    second = reset_token(sink, email, 2)
    assert s.post_json("/password/reset",
                       {"token": first, "new_password": NEW_PASSWORD}).status_code == 400
    assert s.post_json("/password/reset",
                       {"token": second, "new_password": NEW_PASSWORD}).status_code == 204


def test_reset_password_rules_keep_the_token(srv, sink):
    email = address()
    name, _ = register(srv, email)
    sink.to(email)
    forgot(srv, username=name)
    tok = reset_token(sink, email)
    r = srv.post_json("/password/reset", {"token": tok, "new_password": "short"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "new_password"
    r = srv.post_json("/password/reset", {"token": tok, "new_password": name})
    assert r.status_code == 422
    assert srv.post_json("/password/reset",
                         {"token": tok, "new_password": NEW_PASSWORD}).status_code == 204


def test_reset_concurrent_uses_one_wins(srv, sink):
    email = address()
    name, _ = register(srv, email)
    sink.to(email)
    forgot(srv, username=name)
    tok = reset_token(sink, email)
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        codes = list(ex.map(lambda i: srv.post_json(
            "/password/reset", {"token": tok, "new_password": f"{NEW_PASSWORD}-{i}"}).status_code,
            range(8)))
    assert sorted(codes) == [204] + [400] * 7


@pytest.mark.parametrize("tok", ["", "x" * 43, "A" * 43, "A" * 1000])
def test_reset_bad_token_400(srv, tok):
    r = srv.post_json("/password/reset", {"token": tok, "new_password": NEW_PASSWORD})
    assert r.status_code == 400


def test_reset_with_confirm_token_400(srv, sink):
    email = address()
    register(srv, email)
    tok = confirm_token(sink, email)
    r = srv.post_json("/password/reset", {"token": tok, "new_password": NEW_PASSWORD})
    assert r.status_code == 400


@pytest.mark.parametrize("body", [{}, {"username": "a", "email": "a@example.org"},
                                  {"email": "not-an-address"}, {"username": ""},
                                  {"username": "x" * 256}, {"username": 5}])
def test_forgot_bad_input_422(srv, body):
    assert forgot(srv, **body).status_code == 422


def test_forgot_left_by_a_crash_resolved_at_start(make_server, sink, tmp_path):
    s = make_server(env=mail_env(sink))
    email = address()
    name, _ = register(s, email)
    sink.to(email)
    s.stop()
    # A request answered 202 whose resolution the crash prevented.
    conn = sqlite3.connect(s.db_path)
    conn.execute("INSERT INTO password_requests (by_email, name, lang, created_at) "
                 "VALUES (0, ?, 'en', strftime('%s', 'now'))", (name,))
    conn.commit()
    conn.close()
    make_server(env=mail_env(sink), db_path=s.db_path)
    reset_token(sink, email)


def test_no_interval_mails_a_request_resolved_late(make_server, sink):
    """MAIL_MIN_INTERVAL_SECONDS=0 is no limit: a forgot request resolved
    after a later mail request of the same account (here left by a crash
    and taken up at start) still mails. The window compared the request's
    time with the later one's and sent nothing, silently (bench/mail.py
    lost 3 of 10,000 requests so under load)."""
    s = make_server(env=mail_env(sink, MAIL_MIN_INTERVAL_SECONDS="0"))
    email = address()
    name, _ = register(s, email)
    sink.to(email)
    assert s.post("/email/verify", headers=bearer(s.token(name))).status_code == 202
    sink.to(email, count=2)
    s.stop()
    conn = sqlite3.connect(s.db_path)
    conn.execute("INSERT INTO password_requests (by_email, name, lang, created_at) "
                 "VALUES (0, ?, 'en', strftime('%s', 'now') - 30)", (name,))
    conn.commit()
    conn.close()
    make_server(env=mail_env(sink, MAIL_MIN_INTERVAL_SECONDS="0"), db_path=s.db_path)
    reset_token(sink, email)


# ------------------------------------------------------------ throttles, 501


def test_per_address_limit(make_server, sink):
    s = make_server(env=mail_env(sink, THROTTLE_MAIL_REQUESTS="3"))
    codes = [forgot(s, username=f"nobody{i}").status_code for i in range(3)]
    assert codes == [202] * 3
    r = forgot(s, username="nobody")
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) >= 1
    name, _ = register(s, address())
    r = s.post("/email/verify", headers=bearer(s.token(name)))
    assert r.status_code == 429


def test_mail_off_501(make_server):
    s = make_server()
    name, _ = register(s, address())  # an address is kept without mail
    token = s.token(name)
    assert me(s, token)["email_verified"] is False
    for r in [s.post("/email/verify", headers=bearer(token)),
              s.request("PUT", "/me/email", json={"email": address(), "password": PASSWORD},
                        headers=bearer(token)),
              forgot(s, username=name)]:
        assert r.status_code == 501, r.text
        assert r.headers["Content-Type"].startswith("application/problem+json")
        assert "SMTP_URL" in r.json()["detail"]
    # Links that cannot have been mailed are simply bad.
    assert s.post_json("/email/confirm", {"token": "A" * 43}).status_code == 400


def test_user_delete_removes_its_tokens(srv, sink):
    email = address()
    name, _ = register(srv, email)
    sink.to(email)
    token = srv.token(name)
    uid = me(srv, token)["id"]
    assert srv.query("SELECT COUNT(*) FROM email_tokens WHERE user_id = ?", (uid,))[0][0] == 1
    r = srv.request("DELETE", "/me", json={"password": PASSWORD}, headers=bearer(token))
    assert r.status_code == 204
    assert srv.query("SELECT COUNT(*) FROM email_tokens WHERE user_id = ?", (uid,))[0][0] == 0


# ------------------------------------------------------------ CLI


def test_cli_reset_password_mails_a_link(make_server, sink, run_gatehouse, tmp_path):
    s = make_server(env=mail_env(sink))
    email = address()
    name, _ = register(s, email)
    sink.to(email)
    plain, _ = register(s, None)
    s.stop()
    env = dict(mail_env(sink), DATABASE_URL=sqlite_url(s.db_path))
    # No server runs: the command sends the mail itself.
    proc = run_gatehouse(["users", "reset-password", name], env=env)
    assert proc.returncode == 0, proc.stderr
    tok = reset_token(sink, email)
    proc = run_gatehouse(["users", "reset-password", plain], env=env)
    assert proc.returncode == 2 and "no address" in proc.stderr
    proc = run_gatehouse(["users", "reset-password", "nobody-at-all"], env=env)
    assert proc.returncode == 1
    off = {"DATABASE_URL": sqlite_url(s.db_path)}
    proc = run_gatehouse(["users", "reset-password", name], env=off)
    assert proc.returncode == 2 and "SMTP_URL" in proc.stderr
    s2 = make_server(env=mail_env(sink), db_path=s.db_path)
    assert s2.post_json("/password/reset",
                        {"token": tok, "new_password": NEW_PASSWORD}).status_code == 204
    s2.token(name, NEW_PASSWORD)


def test_cli_reset_password_help(run_gatehouse):
    proc = run_gatehouse(["users", "reset-password", "--help"])
    assert proc.returncode == 0
    assert "mails a password reset link" in proc.stdout
    assert "SMTP_URL" in proc.stdout


# ------------------------------------------------------------ audit


def test_audit_events_without_secrets(make_server, sink):
    import json
    s = make_server(env=mail_env(sink, LOG_FORMAT="json", MAIL_MIN_INTERVAL_SECONDS="0"))
    email, taken = address(), address()
    name, _ = register(s, email)
    ctok = confirm_token(sink, email)
    assert s.post_json("/email/confirm", {"token": ctok}).status_code == 204
    assert s.post_json("/email/confirm", {"token": ctok}).status_code == 400
    other, _ = register(s, taken)
    register(s, taken)  # taken: audited, not told
    token = s.token(name)
    assert s.post("/email/verify", headers=bearer(token)).status_code == 202
    s.request("PUT", "/me/email", json={"email": address(), "password": PASSWORD},
              headers=bearer(token))
    assert forgot(s, username=name).status_code == 202
    rtok = reset_token(sink, email)
    assert s.post_json("/password/reset",
                       {"token": rtok, "new_password": NEW_PASSWORD}).status_code == 204
    settled(s)
    log = s.stderr()
    seen = {json.loads(l).get("event") for l in log.splitlines() if l.startswith("{")}
    for event in ["email.confirmed", "email.bad_token", "email.taken", "email.verify_requested",
                  "email.change_requested", "password.reset_requested", "password.reset_mailed",
                  "password.reset"]:
        assert event in seen, (event, sorted(e for e in seen if e))
    for secret in [ctok, rtok, NEW_PASSWORD, PASSWORD]:
        assert secret not in log


def test_mail_in_the_requests_language(srv, sink):
    email = address()
    name, _ = register(srv, email)
    sink.to(email)
    r = srv.post_json("/password/forgot", {"username": name},
                      headers={"Accept-Language": "ru-RU, en;q=0.5"})
    assert r.status_code == 202
    msg = link_mail(sink, email, "/password/reset")
    assert 'lang="ru"' in msg.part("text/html")
    other = address()
    r = srv.post_json("/register", {"username": unique_username("l"), "password": PASSWORD,
                                    "email": other}, headers={"Accept-Language": "ru"})
    assert r.status_code == 200
    assert 'lang="ru"' in link_mail(sink, other, "/email/confirm").part("text/html")
    third = address()
    register(srv, third)  # no Accept-Language: English
    assert 'lang="en"' in link_mail(sink, third, "/email/confirm").part("text/html")


def test_used_and_expired_tokens_purged(make_server, sink):
    s = make_server(env=mail_env(sink, SESSION_PURGE_INTERVAL_SECONDS="1"))
    email, other = address(), address()
    register(s, email)
    register(s, other)
    tok = confirm_token(sink, email)
    confirm_token(sink, other)
    assert s.post_json("/email/confirm", {"token": tok}).status_code == 204
    conn = sqlite3.connect(s.db_path)
    conn.execute("UPDATE email_tokens SET expires_at = 1 WHERE email = ?", (other,))
    conn.commit()
    conn.close()
    deadline = time.monotonic() + 30
    while s.query("SELECT COUNT(*) FROM email_tokens")[0][0] != 0:
        assert time.monotonic() < deadline, "the janitor left used or expired tokens"
        time.sleep(0.05)
