"""Concurrency, overload and process lifecycle: racing registrations, durability
across kill -9, 503 when the hashing queue is full (while the fast paths keep
answering), and SIGTERM finishing in-flight requests.

Timeouts here only detect hangs; no assertion is about elapsed time.
"""
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import requests

from gh_helpers import PASSWORD, assert_problem, decode_token, unique_username

HANG = 120  # seconds: hang detection only


def parallel(n, fn):
    """Run fn(i) for i in range(n) on n threads released together."""
    barrier = threading.Barrier(n, timeout=HANG)

    def run(i):
        barrier.wait()
        return fn(i)

    with ThreadPoolExecutor(max_workers=n) as ex:
        return list(ex.map(run, range(n)))


def test_200_parallel_registrations_of_one_name(make_server):
    srv = make_server(env={"QUEUE_SIZE": "512"})
    name = unique_username("race")
    results = parallel(200, lambda i: requests.post(
        srv.url("/register"), json={"username": name, "password": PASSWORD}, timeout=HANG))
    codes = Counter(r.status_code for r in results)
    assert codes == {200: 1, 409: 199}, codes
    conflicts = [r for r in results if r.status_code == 409]
    assert_problem(conflicts[0], 409)
    assert len({r.content for r in conflicts}) == 1, "409 bodies must be byte-identical"
    winner = next(r for r in results if r.status_code == 200).json()
    token = srv.token(name)
    assert decode_token(token)["sub"] == str(winner["id"])
    assert srv.query("SELECT count(*) FROM users WHERE username_key = ?",
                     (name.lower(),)) == [(1,)]


def test_parallel_registrations_case_variants(make_server):
    srv = make_server(env={"QUEUE_SIZE": "512"})
    base = unique_username("racecase").lower()
    variants = [base, base.upper(), base.capitalize(), base.swapcase().capitalize()]
    results = parallel(40, lambda i: srv.register(variants[i % 4], timeout=HANG))
    codes = Counter(r.status_code for r in results)
    assert codes == {200: 1, 409: 39}, codes


def test_parallel_registrations_distinct_names(server):
    names = [unique_username("par") for _ in range(50)]
    results = parallel(50, lambda i: server.register(names[i], timeout=HANG))
    assert [r.status_code for r in results] == [200] * 50, [r.text for r in results]
    ids = [r.json()["id"] for r in results]
    assert len(set(ids)) == 50
    assert [r.json()["username"] for r in results] == names


def test_parallel_logins_of_one_user(server, user):
    results = parallel(20, lambda i: server.login(user["username"], timeout=HANG))
    assert all(r.status_code == 200 for r in results), \
        [(r.status_code, r.headers.get("Retry-After"), r.text) for r in results if r.status_code != 200]
    claims = [decode_token(r.json()["access_token"]) for r in results]
    assert len({c["sid"] for c in claims}) == 20
    assert len({c["jti"] for c in claims}) == 20


def test_acknowledged_registrations_survive_kill_9(make_server, tmp_path):
    db = tmp_path / "durable.db"
    srv = make_server(db_path=db)
    acked, unexpected = [], []
    lock = threading.Lock()
    stop, enough = threading.Event(), threading.Event()

    def worker():
        with requests.Session() as session:
            while not stop.is_set():
                name = unique_username("dur")
                try:
                    r = session.post(srv.url("/register"),
                                     json={"username": name, "password": PASSWORD}, timeout=30)
                except requests.RequestException:
                    return  # the server is gone
                with lock:
                    if r.status_code == 200:
                        acked.append((name, r.json()["id"]))
                        if len(acked) >= 40:
                            enough.set()
                    else:
                        unexpected.append((r.status_code, r.text))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(16)]
    for t in threads:
        t.start()
    try:
        assert enough.wait(HANG), f"only {len(acked)} registrations acknowledged"
        srv.kill()  # SIGKILL in mid-stream
    finally:
        stop.set()
        for t in threads:
            t.join(HANG)
    assert not unexpected, unexpected[:5]
    with lock:
        survivors = list(acked)
    assert len(survivors) >= 40

    again = make_server(db_path=db)
    failed = []
    for name, uid in survivors:
        r = again.login(name)
        if r.status_code != 200 or decode_token(r.json()["access_token"])["sub"] != str(uid):
            failed.append((name, uid, r.status_code))
    assert not failed, f"{len(failed)} of {len(survivors)} acknowledged users lost: {failed[:5]}"


def test_queue_full_answers_503_while_fast_paths_answer(make_server, tmp_path):
    db = tmp_path / "busy.db"
    prep = make_server(db_path=db)  # cheap hashes: get a real token first
    u = prep.new_user()
    token = prep.token(u["username"])
    prep.stop()

    srv = make_server(db_path=db, env={"WORKERS": "1", "QUEUE_SIZE": "1",
                                       "BCRYPT_ROUNDS": "14"})
    n = 8
    results = [None] * n

    def fire(i):
        if i % 2 == 0:
            results[i] = srv.register(unique_username("busy"), timeout=HANG)
        else:
            results[i] = srv.login(unique_username("ghost"), timeout=HANG)

    barrier = threading.Barrier(n, timeout=HANG)
    threads = [threading.Thread(target=lambda i=i: (barrier.wait(), fire(i)), daemon=True)
               for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + HANG
    while time.monotonic() < deadline:
        if any(r is not None and r.status_code == 503 for r in results):
            break
        if all(r is not None for r in results):
            break
        time.sleep(0.005)

    # While the worker hashes (~1 s per job at cost 14), the fast paths answer.
    health = srv.get("/healthz", timeout=10)
    verify = srv.verify(token, timeout=10)
    still_hashing = sum(1 for r in results if r is None)

    for t in threads:
        t.join(HANG)
    assert all(r is not None for r in results), "a request never got an answer"
    statuses = [r.status_code for r in results]
    assert 503 in statuses, statuses
    for i, r in enumerate(results):
        if r.status_code == 503:
            assert_problem(r, 503)
            retry = r.headers.get("Retry-After")
            assert retry is not None and re.match(r"^\d+$", retry.strip()), retry
        elif i % 2 == 0:
            assert r.status_code == 200, r.text
        else:
            assert_problem(r, 401)
    assert health.status_code == 200
    assert verify.status_code == 204, verify.text
    assert still_hashing > 0, ("/healthz and /verify were answered only after every queued "
                               "hash had finished: they wait behind the hashing workers")


def test_me_answers_while_hashing_queue_is_full(make_server, tmp_path):
    # /me needs the database but no hash: it must not wait behind queued
    # bcrypt jobs. One hashing worker, cost 14 (about a second a job), four
    # logins queued: /me still answers while they are pending.
    db = tmp_path / "me-busy.db"
    prep = make_server(db_path=db)
    u = prep.new_user()
    token = prep.token(u["username"])
    prep.stop()

    srv = make_server(db_path=db, env={"WORKERS": "1", "QUEUE_SIZE": "16",
                                       "BCRYPT_ROUNDS": "14"})
    # Unknown users cost a full verification at cost 14, like real ones.
    n = 4
    results = [None] * n

    def fire(i):
        results[i] = srv.login(unique_username("ghost"), timeout=HANG)

    threads = [threading.Thread(target=fire, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    time.sleep(0.3)  # let the logins reach the queue
    me = srv.get("/me", headers={"Authorization": f"Bearer {token}"}, timeout=HANG)
    pending = sum(1 for r in results if r is None)
    for t in threads:
        t.join(HANG)
    assert me.status_code == 200, me.text
    assert me.json()["username"] == u["username"]
    assert pending > 0, "the logins finished before /me answered: nothing was shown"
    assert all(r is not None and r.status_code == 401 for r in results)


def test_sigterm_finishes_in_flight_request(make_server, tmp_path):
    db = tmp_path / "term.db"
    srv = make_server(db_path=db, env={"WORKERS": "1", "BCRYPT_ROUNDS": "14"})
    name = unique_username("term")
    box = {}

    def register():
        try:
            box["response"] = srv.register(name, timeout=HANG)
        except Exception as exc:  # noqa: BLE001 - reported below
            box["error"] = exc

    t = threading.Thread(target=register, daemon=True)
    t.start()
    time.sleep(0.3)  # let the request reach the worker; a cost-14 hash takes about a second
    srv.stop()  # SIGTERM; asserts exit status 0
    t.join(HANG)
    assert "error" not in box, f"in-flight request failed: {box.get('error')!r}"
    r = box["response"]
    assert r.status_code == 200, r.text
    assert r.json()["username"] == name

    again = make_server(db_path=db)
    assert again.login(name).status_code == 200
