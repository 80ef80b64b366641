"""Throttling: failed logins per address and per account (shared by every
instance on one PostgreSQL), growing lockouts, the registrations of an
address, the fair share of the hashing queue, TRUSTED_PROXIES, and the
bounded memory of the per-address counters.

Every test client is 127.0.0.1 unless it binds another loopback address
(Linux routes all of 127/8 to lo), which is how these tests play several
clients.  The test servers of the rest of the suite run with limits out of
reach (gh_helpers.THROTTLE_TEST_LIMITS); the servers here set their own.
Timed assertions are generous bounds that show an effect (no hash spent,
a login within a few hash times), never tight figures.
"""
import http.client
import json
import os
import re
import secrets
import statistics
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from gh_helpers import (
    PASSWORD,
    TEST_DATABASE_URL,
    RawResponse,
    ServerPool,
    assert_problem,
    unique_username,
)
from test_postgres import pg  # noqa: F401 (a pytest fixture, used by name)

HANG = 120

# Limits that lock at once and for long enough that no test races the end
# of a lock (lock times are whole seconds).
LOCK_LONG = {"THROTTLE_LOCKOUT_SECONDS": "300", "THROTTLE_LOCKOUT_MAX_SECONDS": "300"}


def send(srv, method, path, source="127.0.0.1", body=None, form=None, headers=None):
    """One request on a fresh connection from the loopback address source."""
    hdrs = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        hdrs["Content-Type"] = "application/x-www-form-urlencoded"
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=HANG,
                                      source_address=(source, 0))
    try:
        conn.request(method, path, body=data, headers=hdrs)
        r = conn.getresponse()
        return RawResponse(r.status, r.reason, r.headers, r.read())
    finally:
        conn.close()


def login(srv, username, password, source="127.0.0.1", headers=None):
    return send(srv, "POST", "/login", source, {"username": username, "password": password},
                headers=headers)


def timed_login(srv, username, password, source="127.0.0.1"):
    start = time.monotonic()
    r = login(srv, username, password, source)
    return r, time.monotonic() - start


def assert_429(r, most=None):
    assert_problem(r, 429)
    wait = r.headers.get("Retry-After")
    assert wait is not None and re.fullmatch(r"\d+", wait.strip()), wait
    assert int(wait) >= 1, wait
    if most is not None:
        assert int(wait) <= most, wait
    return int(wait)


def first_429(responses):
    """The index of the first 429 among responses, every earlier one a 401."""
    for i, r in enumerate(responses):
        if r.status_code == 429:
            return i
        assert r.status_code == 401, (i, r.status_code, r.text)
    return None


# ------------------------------------------------------------ per account
def test_account_locked_after_failures_even_for_the_right_password(make_server):
    # bcrypt cost 12 (a quarter of a second here): a refused request that
    # spent no hash answers far quicker than any that did.
    srv = make_server(env={"THROTTLE_ACCOUNT_FAILURES": "3", "BCRYPT_ROUNDS": "12", **LOCK_LONG})
    u = srv.new_user()
    failures = [timed_login(srv, u["username"], f"wrong-password-{i}") for i in range(4)]
    assert [r.status_code for r, _ in failures] == [401] * 4, [r.text for r, _ in failures]
    hash_time = statistics.median(t for _, t in failures)

    # Locked: the right password is refused with the same answer as a wrong
    # one, so the guess that was right cannot be told.
    right, right_time = timed_login(srv, u["username"], PASSWORD)
    wrong, wrong_time = timed_login(srv, u["username"], "wrong-password-x")
    for r in (right, wrong):
        assert_429(r, most=300)
    assert right.content == wrong.content
    assert "access_token" not in right.text
    # No password hash was spent on either.
    assert right_time < hash_time / 2, (right_time, hash_time)
    assert wrong_time < hash_time / 2, (wrong_time, hash_time)
    # From another address too: the lock is the account's.
    assert_429(login(srv, u["username"], PASSWORD, source="127.0.0.9"))
    # The OAuth password grant is locked alike (429 is a condition of the
    # service, answered as problem+json like the 503 of a full queue).
    tok = send(srv, "POST", "/token", form={"grant_type": "password",
                                            "username": u["username"], "password": PASSWORD})
    assert_429(tok)
    assert tok.headers.get("Cache-Control") == "no-store"
    # Other accounts are not affected.
    other = srv.new_user()
    assert login(srv, other["username"], PASSWORD).status_code == 200


def test_unknown_name_locks_after_as_many_failures(make_server):
    # An unknown name answers like an account: 401 for as many failures,
    # then 429, so a 429 does not tell that a name exists.
    srv = make_server(env={"THROTTLE_ACCOUNT_FAILURES": "3", **LOCK_LONG})
    u = srv.new_user()
    ghost = unique_username("ghost")
    # Spellings differing in case are one name, for an account and for an
    # unknown name alike.
    spell = (str.lower, str.upper, str.swapcase)
    known = [login(srv, spell[i % 3](u["username"]), f"wrong-{i}") for i in range(6)]
    unknown = [login(srv, spell[i % 3](ghost), f"wrong-{i}") for i in range(6)]
    assert first_429(known) == 4
    assert first_429(unknown) == 4
    assert known[5].content == unknown[5].content


def test_token_password_grant_counts_failures(make_server):
    srv = make_server(env={"THROTTLE_ACCOUNT_FAILURES": "2", **LOCK_LONG})
    u = srv.new_user()
    grant = {"grant_type": "password", "username": u["username"], "password": "wrong-one"}
    answers = [send(srv, "POST", "/token", form=grant) for _ in range(3)]
    assert [r.status_code for r in answers] == [400] * 3
    assert all(r.json()["error"] == "invalid_grant" for r in answers)
    # /login sees the same count.
    assert_429(login(srv, u["username"], PASSWORD))


def test_success_forgets_failures_and_lockout_grows(make_server):
    srv = make_server(env={"THROTTLE_ACCOUNT_FAILURES": "2", "THROTTLE_LOCKOUT_SECONDS": "2",
                           "THROTTLE_LOCKOUT_MAX_SECONDS": "3"})
    u = srv.new_user()
    name = u["username"]
    # Two failures, a success, two failures again: never locked.
    assert login(srv, name, "wrong-1").status_code == 401
    assert login(srv, name, "wrong-2").status_code == 401
    assert login(srv, name, PASSWORD).status_code == 200
    assert login(srv, name, "wrong-3").status_code == 401
    assert login(srv, name, "wrong-4").status_code == 401
    # The third in a row locks for 2 s; the next one after it for twice
    # that, capped at 3 s. Retry-After counts whole seconds from now.
    assert login(srv, name, "wrong-5").status_code == 401
    first = assert_429(login(srv, name, PASSWORD))
    assert first in (1, 2), first
    time.sleep(first + 0.2)
    assert login(srv, name, "wrong-6").status_code == 401
    second = assert_429(login(srv, name, PASSWORD))
    assert second in (2, 3), second
    time.sleep(second + 0.2)
    # Once the lock is over, the right password logs in.
    assert login(srv, name, PASSWORD).status_code == 200


def at_once(srv, requests):
    """Sends every (method, path, source, body) at the same moment, each on
    a connection of its own opened beforehand; returns the answers in order."""
    conns = [http.client.HTTPConnection("127.0.0.1", srv.port, timeout=HANG,
                                        source_address=(src, 0))
             for _, _, src, _ in requests]
    for c in conns:
        c.connect()
    barrier = threading.Barrier(len(conns), timeout=HANG)
    answers = [None] * len(conns)

    def run(i):
        method, path, _, body = requests[i]
        barrier.wait()
        conns[i].request(method, path, body=json.dumps(body).encode(),
                         headers={"Content-Type": "application/json"})
        r = conns[i].getresponse()
        answers[i] = RawResponse(r.status, r.reason, r.headers, r.read())
        conns[i].close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(conns))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(HANG)
    return answers


# Sixteen hashing workers: every attempt of a burst reads the counters
# before any has hashed, so only a check and count made in one step keeps
# the burst to the tries the limit allows.
BURST = {"WORKERS": "16", "BCRYPT_ROUNDS": "10", "QUEUE_SIZE": "64", **LOCK_LONG}


def test_concurrent_wrong_logins_get_no_more_tries_than_allowed(make_server):
    """Sixteen wrong passwords for one account at once, from sixteen
    addresses: exactly the four tries THROTTLE_ACCOUNT_FAILURES=3 allows
    one after another get 401, the rest 429 (issue 18: six got through)."""
    srv = make_server(env={"THROTTLE_ACCOUNT_FAILURES": "3", **BURST})
    u = srv.new_user()
    answers = at_once(srv, [("POST", "/login", f"127.0.1.{i + 1}",
                             {"username": u["username"], "password": f"wrong-{i}"})
                            for i in range(16)])
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [401] * 4 + [429] * 12, statuses
    for r in answers:
        if r.status_code == 429:
            assert_429(r, most=300)
    assert_429(login(srv, u["username"], PASSWORD))


def test_concurrent_wrong_logins_of_one_address_get_no_more_tries(make_server):
    """The same for the address (sixteen unknown names at once from one
    address), with no share of the hashing queue to hold the burst back."""
    srv = make_server(env={"THROTTLE_ADDRESS_FAILURES": "3", "HASH_JOBS_PER_ADDRESS": "0",
                           **BURST})
    answers = at_once(srv, [("POST", "/login", "127.0.2.1",
                             {"username": unique_username("burst"), "password": "wrong"})
                            for _ in range(16)])
    statuses = sorted(r.status_code for r in answers)
    assert statuses == [401] * 4 + [429] * 12, statuses


# ------------------------------------------------------------ step-up checks
def step_up(srv, method, path, access, body, source="127.0.0.1"):
    return send(srv, method, path, source, body, headers={"Authorization": f"Bearer {access}"})


@pytest.mark.parametrize("method,path,field", [
    ("PUT", "/me/password", "current_password"),
    ("DELETE", "/me", "password"),
])
def test_step_up_checks_count_as_failed_logins(make_server, method, path, field):
    """Wrong current passwords on PUT /me/password and DELETE /me are failed
    logins of the account: after as many as a login gets, the account is
    locked there and at /login, and even the right password gets 429 (a
    stolen access token buys no more guesses than a login)."""
    srv = make_server(env={"THROTTLE_ACCOUNT_FAILURES": "3", **LOCK_LONG})
    u = srv.new_user()
    access = srv.login(u["username"]).json()["access_token"]

    def body(password):
        b = {field: password}
        if field == "current_password":
            b["new_password"] = "a-brand-new-passphrase-7"
        return b

    tries = [step_up(srv, method, path, access, body(f"wrong-{i}")) for i in range(5)]
    assert first_429(tries) == 4
    assert_429(tries[4], most=300)
    right = step_up(srv, method, path, access, body(PASSWORD))
    assert_429(right, most=300)
    # Counted on the account: /login is locked too, from another address.
    assert_429(login(srv, u["username"], PASSWORD, source="127.0.0.9"))
    # Nothing changed: the user and its password are still there.
    me = step_up(srv, "GET", "/me", access, None)
    assert me.status_code == 200, me.content


def test_step_up_refused_while_a_login_lockout_holds(make_server):
    """An account locked by failed logins cannot change its password nor
    delete itself with a token it already holds."""
    srv = make_server(env={"THROTTLE_ACCOUNT_FAILURES": "2", **LOCK_LONG})
    u = srv.new_user()
    access = srv.login(u["username"]).json()["access_token"]
    assert first_429([login(srv, u["username"], f"wrong-{i}") for i in range(4)]) == 3
    assert_429(step_up(srv, "PUT", "/me/password", access,
                       {"current_password": PASSWORD, "new_password": "a-brand-new-passphrase-7"}))
    assert_429(step_up(srv, "DELETE", "/me", access, {"password": PASSWORD}))
    assert step_up(srv, "GET", "/me", access, None).status_code == 200


def test_step_up_failures_count_against_the_address(make_server):
    srv = make_server(env={"THROTTLE_ADDRESS_FAILURES": "2", **LOCK_LONG})
    u, other = srv.new_user(), srv.new_user()
    access = srv.login(u["username"]).json()["access_token"]
    tries = [step_up(srv, "DELETE", "/me", access, {"password": f"wrong-{i}"},
                     source="127.0.0.11") for i in range(3)]
    assert [r.status_code for r in tries] == [401] * 3
    # The address is locked now, for another account's right password too.
    assert_429(login(srv, other["username"], PASSWORD, source="127.0.0.11"))


# ------------------------------------------------------------ per address
def test_address_locked_after_failures_other_addresses_not(make_server):
    srv = make_server(env={"THROTTLE_ADDRESS_FAILURES": "3", **LOCK_LONG})
    u = srv.new_user()
    # Failures spread over many names still count against the address.
    tries = [login(srv, unique_username("spray"), "wrong", source="127.0.0.5") for _ in range(5)]
    assert first_429(tries) == 4
    # Even an existing user with the right password, from that address.
    assert_429(login(srv, u["username"], PASSWORD, source="127.0.0.5"))
    # Another address is not throttled, and the account itself is not.
    assert login(srv, u["username"], PASSWORD, source="127.0.0.6").status_code == 200


def test_refusals_by_address_are_audited_and_counted(make_server):
    # The address lock refuses before the handler runs: the audit line and
    # the outcome counter must still say so.
    srv = make_server(env={"THROTTLE_ADDRESS_FAILURES": "1", "THROTTLE_REGISTRATIONS": "1",
                           "THROTTLE_REGISTRATION_WINDOW_SECONDS": "600", "LOG_FORMAT": "json",
                           **LOCK_LONG})
    tries = [login(srv, unique_username("audit"), "wrong", source="127.0.0.9") for _ in range(3)]
    assert first_429(tries) == 2
    reg = [send(srv, "POST", "/register", "127.0.0.9",
                {"username": unique_username("audreg"), "password": PASSWORD}) for _ in range(2)]
    assert reg[0].status_code == 200
    assert_429(reg[1])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and '"login.throttled"' not in srv.stderr():
        time.sleep(0.05)
    events = [json.loads(line) for line in srv.stderr().splitlines() if line.startswith("{")]
    throttled = [e for e in events if e.get("event") == "login.throttled"]
    assert len(throttled) == 1 and throttled[0].get("client") == "127.0.0.9", throttled
    text = send(srv, "GET", "/metrics").text
    assert re.search(r'^gatehouse_logins_total\{outcome="throttled"\} 1$', text, re.M), text
    assert re.search(r'^gatehouse_registrations_total\{outcome="throttled"\} 1$', text, re.M)


def test_registrations_limited_per_address(make_server):
    srv = make_server(env={"THROTTLE_REGISTRATIONS": "3",
                           "THROTTLE_REGISTRATION_WINDOW_SECONDS": "600"})

    def register(source):
        return send(srv, "POST", "/register", source,
                    {"username": unique_username("reg"), "password": PASSWORD})

    assert [register("127.0.0.7").status_code for _ in range(3)] == [200] * 3
    assert_429(register("127.0.0.7"), most=600)
    # A refused rule costs no hash and does not count; another address
    # registers.
    assert register("127.0.0.8").status_code == 200


# ------------------------------------------------------------ proxies
def test_forwarded_for_believed_only_from_trusted_proxies(make_server):
    env = {"THROTTLE_ADDRESS_FAILURES": "2", **LOCK_LONG}
    trusting = make_server(env={**env, "TRUSTED_PROXIES": "127.0.0.1"})

    def fail(srv, headers, source="127.0.0.1"):
        return login(srv, unique_username("xff"), "wrong", source=source, headers=headers)

    a = {"X-Forwarded-For": "203.0.113.5"}
    assert first_429([fail(trusting, a) for _ in range(4)]) == 3
    # Another client behind the same proxy is not throttled.
    assert fail(trusting, {"X-Forwarded-For": "203.0.113.6"}).status_code == 401
    # The client cannot escape by writing its own entry on the left: the
    # right-most address the trusted proxy appended is the client.
    assert_429(fail(trusting, {"X-Forwarded-For": "198.51.100.77, 203.0.113.5"}))
    # Forwarded is not the header chosen (TRUSTED_PROXY_HEADER's default is
    # X-Forwarded-For): it names nobody, even alone, and never wins over
    # X-Forwarded-For. The client is the proxy itself, or the address in
    # X-Forwarded-For.
    forged = {"Forwarded": 'for="203.0.113.9"'}
    assert first_429([fail(trusting, forged) for _ in range(4)]) == 3
    assert_429(fail(trusting, {"Forwarded": 'for="203.0.113.77"'}))
    assert_429(fail(trusting, {"Forwarded": 'for="203.0.113.78"', **a}))
    assert fail(trusting, {"Forwarded": 'for="203.0.113.5"',
                           "X-Forwarded-For": "203.0.113.79"}).status_code == 401
    # A peer that is not a trusted proxy is the client, whatever it sends.
    b = {"X-Forwarded-For": "203.0.113.5"}
    assert fail(trusting, b, source="127.0.0.2").status_code == 401

    # Without TRUSTED_PROXIES (the default) the header is ignored: every
    # request here is the same client, 127.0.0.1.
    plain = make_server(env=env)
    tries = [fail(plain, {"X-Forwarded-For": f"203.0.113.{i}"}) for i in range(4)]
    assert first_429(tries) == 3


@pytest.mark.parametrize("header, named", [
    ("Forwarded", 'for="203.0.113.5:4711";proto=https'),
    ("X-Real-IP", "203.0.113.5"),
])
def test_trusted_proxy_header_chooses_the_one_header_read(make_server, header, named):
    env = {"THROTTLE_ADDRESS_FAILURES": "2", **LOCK_LONG, "TRUSTED_PROXIES": "127.0.0.1",
           "TRUSTED_PROXY_HEADER": header.lower()}
    srv = make_server(env=env)

    def fail(headers):
        return login(srv, unique_username("hdr"), "wrong", headers=headers)

    assert first_429([fail({header: named}) for _ in range(4)]) == 3
    # Another client named in the chosen header is not throttled.
    other = "for=203.0.113.6" if header == "Forwarded" else "203.0.113.6"
    assert fail({header: other}).status_code == 401
    # X-Forwarded-For is never read, alone or beside the chosen header.
    assert_429(fail({header: named, "X-Forwarded-For": "203.0.113.80"}))
    assert first_429([fail({"X-Forwarded-For": "203.0.113.81"}) for _ in range(4)]) == 3


def test_access_log_shows_the_client_throttling_counts(make_server):
    srv = make_server(env={"ACCESS_LOG": "1", "TRUSTED_PROXIES": "127.0.0.1"})
    ids = {}
    for source, xff in (("127.0.0.1", "203.0.113.5"), ("127.0.0.2", "203.0.113.5"),
                        ("127.0.0.1", None)):
        rid = secrets.token_hex(8)
        headers = {"X-Request-Id": rid}
        if xff:
            headers["X-Forwarded-For"] = xff
        assert send(srv, "GET", "/healthz", source, headers=headers).status_code == 200
        ids[rid] = (source, xff)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(r in srv.stderr() for r in ids):
        time.sleep(0.05)
    lines = srv.stderr().splitlines()
    got = {rid: next(line for line in lines if f'request_id="{rid}"' in line) for rid in ids}
    expect = ['client="203.0.113.5"', 'client="127.0.0.2"', 'client="127.0.0.1"']
    for (rid, line), want in zip(got.items(), expect):
        assert want in line, (line, ids[rid])


def test_trusted_proxies_setting_is_validated(run_gatehouse):
    for bad in ("10.0.0.1/8", "not-an-address", "10.0.0.0/33", "::1/200"):
        res = run_gatehouse(env={"TRUSTED_PROXIES": bad})
        assert res.returncode == 2, (bad, res.stderr)
        assert "TRUSTED_PROXIES" in res.stderr and bad in res.stderr, res.stderr
    for bad in ("X-Forwarded", "Forwarded-For", "X-Forwarded-For,Forwarded"):
        res = run_gatehouse(env={"TRUSTED_PROXY_HEADER": bad})
        assert res.returncode == 2, (bad, res.stderr)
        assert "TRUSTED_PROXY_HEADER" in res.stderr and "X-Real-IP" in res.stderr, res.stderr
    for name, value in (("THROTTLE_ACCOUNT_FAILURES", "-1"), ("THROTTLE_TABLE_SIZE", "7"),
                        ("HASH_JOBS_PER_ADDRESS", "x"), ("THROTTLE_LOCKOUT_SECONDS", "0")):
        res = run_gatehouse(env={name: value})
        assert res.returncode == 2 and name in res.stderr, (name, res.stderr)
    res = run_gatehouse(env={"THROTTLE_LOCKOUT_SECONDS": "60",
                             "THROTTLE_LOCKOUT_MAX_SECONDS": "30"})
    assert res.returncode == 2 and "THROTTLE_LOCKOUT_MAX_SECONDS" in res.stderr, res.stderr


def test_throttling_is_on_by_default(make_server):
    # Without the suite's raised limits: the defaults of the README.
    srv = make_server(env={"THROTTLE_ADDRESS_FAILURES": None, "THROTTLE_ACCOUNT_FAILURES": None,
                           "THROTTLE_REGISTRATIONS": None, "HASH_JOBS_PER_ADDRESS": None})
    u = srv.new_user()
    tries = [login(srv, u["username"], f"wrong-{i}") for i in range(7)]
    assert first_429(tries) == 6  # five free failures, the sixth locks


# ------------------------------------------------------------ fair queue
def test_flood_from_one_address_does_not_starve_another(make_server):
    # One hashing worker, cost 11. Without a per-address share, sixteen
    # clients of one address keep the queue full and a login of another
    # address waits behind all their hashes; with HASH_JOBS_PER_ADDRESS=2 it
    # waits behind two at most.
    srv = make_server(env={"WORKERS": "1", "BCRYPT_ROUNDS": "11", "HASH_JOBS_PER_ADDRESS": "2",
                           "QUEUE_SIZE": "256"})
    u = srv.new_user()
    alone = []
    for _ in range(3):
        r, t = timed_login(srv, u["username"], PASSWORD, source="127.0.0.2")
        assert r.status_code == 200, r.text
        alone.append(t)
    hash_time = statistics.median(alone)

    stop = threading.Event()
    seen = {"429": 0, "401": 0, "other": []}
    lock = threading.Lock()

    def flood():
        while not stop.is_set():
            r = login(srv, unique_username("flood"), "wrong-password")
            with lock:
                if r.status_code == 429:
                    seen["429"] += 1
                    assert_429(r)
                elif r.status_code == 401:
                    seen["401"] += 1
                else:
                    seen["other"].append((r.status_code, r.text))
            if r.status_code == 429:
                time.sleep(0.02)

    threads = [threading.Thread(target=flood, daemon=True) for _ in range(16)]
    for t in threads:
        t.start()
    try:
        time.sleep(4 * hash_time)  # the flood fills its share
        timings = []
        for _ in range(3):
            r, t = timed_login(srv, u["username"], PASSWORD, source="127.0.0.2")
            assert r.status_code == 200, r.text
            timings.append(t)
    finally:
        stop.set()
        for t in threads:
            t.join(HANG)
    assert not seen["other"], seen["other"][:3]
    assert seen["429"] > 0 and seen["401"] > 0, seen
    # Within a few hash times: two of the flood's ahead, then its own
    # (measured: 4 hash times; without the share, 9 to 12 with eight
    # flooding clients, so more with sixteen).
    assert statistics.median(timings) < 8 * hash_time + 0.5, (timings, hash_time)


# ------------------------------------------------------------ bounded memory
def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_address_counters_bounded(make_server):
    # A table of 64 addresses; 2000 source addresses each fail once. The
    # memory stays put, the oldest one-failure entries are forgotten, and a
    # locked address stays locked (locked entries are evicted last).
    srv = make_server(env={"THROTTLE_TABLE_SIZE": "64", "THROTTLE_ADDRESS_FAILURES": "1",
                           **LOCK_LONG})
    assert login(srv, unique_username("l"), "wrong", source="127.0.0.3").status_code == 401
    assert login(srv, unique_username("l"), "wrong", source="127.0.0.3").status_code == 401
    assert_429(login(srv, unique_username("l"), "wrong", source="127.0.0.3"))

    sources = [f"127.1.{i // 250}.{i % 250 + 1}" for i in range(2000)]

    def spray(part):
        bad = []
        for s in part:
            r = login(srv, unique_username("s"), "wrong", source=s)
            if r.status_code != 401:
                bad.append((s, r.status_code))
        return bad

    first = spray(sources[:200])  # warm up allocators with the same work
    before = rss_kib(srv.pid)
    results = []
    threads = [threading.Thread(target=lambda p=sources[200 + k::4]: results.append(spray(p)))
               for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(HANG)
    after = rss_kib(srv.pid)
    assert first == [] and all(r == [] for r in results), (first, results)
    # Measured: 68 KiB more with a table of 64, 760 KiB with the default
    # 16384 (whose test below then fails too). AddressSanitizer's
    # quarantine keeps freed memory, so the figure means nothing there.
    if os.environ.get("GATEHOUSE_ASAN") != "1":
        assert after - before < 512, (before, after)
    # The first sprayer's single failure was forgotten: its second one is
    # free again (remembered, the second would have locked it).
    assert login(srv, unique_username("s"), "wrong", source=sources[0]).status_code == 401
    assert login(srv, unique_username("s"), "wrong", source=sources[0]).status_code == 401
    assert_429(login(srv, unique_username("s"), "wrong", source=sources[0]))
    assert_429(login(srv, unique_username("l"), "wrong", source="127.0.0.3"))


# ------------------------------------------------------------ two instances
@pytest.fixture(scope="module")
def pg_url(request):
    if TEST_DATABASE_URL and TEST_DATABASE_URL.startswith("postgres"):
        return TEST_DATABASE_URL
    # Else test_postgres.py's throwaway cluster (it fails or skips as that
    # file does when PostgreSQL is missing).
    return request.getfixturevalue("pg").url


def test_two_instances_share_the_account_counter(pg_url, tmp_path_factory):
    # Its own pool, so that the servers stop before the cluster goes away.
    pool = ServerPool(tmp_path_factory, "throttle_pg")
    env = {"THROTTLE_ACCOUNT_FAILURES": "3", **LOCK_LONG}
    try:
        a = pool.make(database_url=pg_url, env=env)
        b = pool.make(database_url=pg_url, env=env)
        # One instance alone: locked at the fifth try.
        solo = a.new_user()
        alone = [login(a, solo["username"], f"wrong-{i}") for i in range(6)]
        # Failures alternating between the two: locked just as soon, not
        # after twice as many.
        u = a.new_user()
        spread = [login((a, b)[i % 2], u["username"], f"wrong-{i}") for i in range(6)]
        assert first_429(alone) == 4
        assert first_429(spread) == 4
        # Both refuse the right password now.
        assert_429(login(a, u["username"], PASSWORD))
        assert_429(login(b, u["username"], PASSWORD))
    finally:
        pool.close()
