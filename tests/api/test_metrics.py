"""GET /metrics: the Prometheus text format, read with Debian's
python3-prometheus-client parser, and counters that move with the requests
made.  Runs on SQLite, and on PostgreSQL under scripts/with-pg.sh."""
import concurrent.futures
import math
import re
import socket
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gh_helpers import (
    TEST_DATABASE_URL,
    assert_problem,
    bearer,
    free_port,
    requests,
    unique_username,
)
from netns import namespace

CONTENT_TYPE = "text/plain; version=0.0.4"


def scrape(srv, path="/metrics", base=None):
    """{(sample name, frozenset(labels)): value} of one scrape."""
    url = (base or srv.base_url) + path
    r = requests.get(url, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith(CONTENT_TYPE), r.headers
    return parse(r.text)


def parse(text):
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            key = (s.name, frozenset(s.labels.items()))
            assert key not in samples, f"sample {key} twice"
            samples[key] = s.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def requests_of(samples, route, status, method):
    return value(samples, "gatehouse_http_requests_total", method=method, route=route,
                 status=str(status))


@pytest.fixture(scope="module")
def srv(make_module_server):
    return make_module_server(database_url=TEST_DATABASE_URL)


def test_format_and_families(srv):
    r = srv.get("/metrics")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == CONTENT_TYPE + "; charset=utf-8"
    assert r.headers["X-Request-Id"]
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    for name, kind in [
        ("gatehouse_build_info", "gauge"),
        ("process_start_time_seconds", "gauge"),
        ("gatehouse_http_requests", "counter"),
        ("gatehouse_http_request_duration_seconds", "histogram"),
        ("gatehouse_registrations", "counter"),
        ("gatehouse_logins", "counter"),
        ("gatehouse_refreshes", "counter"),
        ("gatehouse_token_requests", "counter"),
        ("gatehouse_queue_depth", "gauge"),
        ("gatehouse_queue_rejected", "counter"),
        ("gatehouse_queue_wait_seconds", "histogram"),
        ("gatehouse_db_connections", "gauge"),
        ("gatehouse_db_errors", "counter"),
        ("gatehouse_revocations", "counter"),
        ("gatehouse_revoked_sessions", "gauge"),
        ("gatehouse_password_checks", "counter"),
    ]:
        assert name in families, f"{name} missing:\n{r.text[:3000]}"
        assert families[name].type == kind, (name, families[name].type)
    samples = parse(r.text)
    info = [k for k in samples if k[0] == "gatehouse_build_info"]
    assert len(info) == 1 and samples[info[0]] == 1
    assert dict(info[0][1])["version"], info
    start = value(samples, "process_start_time_seconds")
    assert time.time() - 600 < start <= time.time()
    for queue in ("hash", "db"):
        assert ("gatehouse_queue_depth", frozenset({("queue", queue)})) in samples
        assert value(samples, "gatehouse_queue_capacity", queue=queue) >= 1
        assert value(samples, "gatehouse_queue_workers", queue=queue) >= 1
    # Every login outcome is there from the start, the throttled one too.
    for outcome in ("ok", "bad_credentials", "throttled", "overloaded"):
        assert ("gatehouse_logins_total", frozenset({("outcome", outcome)})) in samples
    # The connections of the pool, in use or idle, add up to its size.
    used = value(samples, "gatehouse_db_connections", state="in_use")
    idle = value(samples, "gatehouse_db_connections", state="idle")
    assert used >= 0 and idle >= 0 and used + idle >= 1


def test_counters_move_with_requests(srv):
    before = scrape(srv)
    name = unique_username("m")
    assert srv.register(name).status_code == 200
    ok = srv.login(name)
    assert ok.status_code == 200
    assert srv.login(name, "wrong-password-1").status_code == 401
    assert srv.login(unique_username("nobody")).status_code == 401
    token = ok.json()["access_token"]
    assert srv.verify(token).status_code == 204
    assert srv.verify(token + "x").status_code == 401
    assert srv.get("/verify").status_code == 401
    # Unknown paths all count under one label, whatever they are.
    assert srv.get("/no/such/path-%0a-\u00e9").status_code == 404
    assert srv.get("/another-unknown-path").status_code == 404
    assert srv.post("/healthz").status_code == 405
    after = scrape(srv)

    def delta(route, status, method):
        return requests_of(after, route, status, method) - requests_of(before, route, status,
                                                                       method)

    assert delta("/register", 200, "POST") == 1
    assert delta("/login", 200, "POST") == 1
    assert delta("/login", 401, "POST") == 2
    assert delta("/verify", 204, "GET") == 1
    assert delta("/verify", 401, "GET") == 2
    assert delta("unmatched", 404, "other") == 2
    assert delta("unmatched", 405, "other") == 1

    def outcome_delta(name_, outcome):
        return value(after, name_, outcome=outcome) - value(before, name_, outcome=outcome)

    assert outcome_delta("gatehouse_registrations_total", "ok") == 1
    assert outcome_delta("gatehouse_logins_total", "ok") == 1
    assert outcome_delta("gatehouse_logins_total", "bad_credentials") == 2
    # No label carries a raw path.
    routes = {dict(k[1]).get("route") for k in after if "route" in dict(k[1])}
    assert not any("no/such" in r or "another" in r for r in routes), routes
    # The latency of the routes used moved by as much as their requests.
    for route, method, n in (("/login", "POST", 3), ("/verify", "GET", 3)):
        key = ("gatehouse_http_request_duration_seconds_count",
               frozenset({("route", route), ("method", method)}))
        assert after[key] - before.get(key, 0) == n, route


def test_histograms_are_cumulative(srv):
    srv.new_user("h")
    samples = scrape(srv)
    series = {}
    for (name, labels), v in samples.items():
        if name.endswith("_bucket"):
            rest = frozenset((k, x) for k, x in labels if k != "le")
            le = dict(labels)["le"]
            series.setdefault((name[:-len("_bucket")], rest), []).append(
                (math.inf if le == "+Inf" else float(le), v))
    assert series
    for (base, labels), buckets in series.items():
        buckets.sort()
        counts = [c for _, c in buckets]
        assert counts == sorted(counts), (base, labels, buckets)
        assert buckets[-1][0] == math.inf
        assert buckets[-1][1] == samples[(base + "_count", labels)], (base, labels)
        assert samples[(base + "_sum", labels)] >= 0


def test_tokens_refresh_and_revocations(srv):
    user = srv.new_user("t")
    before = scrape(srv)
    r = srv.post("/token", data={"grant_type": "password", "username": user["username"],
                                 "password": user["password"]})
    assert r.status_code == 200, r.text
    refresh = r.json()["refresh_token"]
    r = srv.post("/token", data={"grant_type": "refresh_token", "refresh_token": refresh})
    assert r.status_code == 200, r.text
    newer = r.json()
    # The rotated-away token again: reuse, and the session is revoked.
    r = srv.post_json("/refresh", {"refresh_token": refresh})
    assert r.status_code == 401
    login = srv.login(user["username"]).json()
    assert srv.post("/logout", headers=bearer(login["access_token"])).status_code == 204
    after = scrape(srv)

    def d(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert d("gatehouse_token_requests_total", grant="password", outcome="ok") == 1
    assert d("gatehouse_token_requests_total", grant="refresh_token", outcome="ok") == 1
    assert d("gatehouse_refreshes_total", outcome="ok") == 1
    assert d("gatehouse_refreshes_total", outcome="token_reused") == 1
    assert d("gatehouse_logins_total", outcome="ok") == 2
    # Two sessions ended: the reused one, and the logged-out one.
    assert d("gatehouse_revocations_total") == 2
    assert value(after, "gatehouse_revoked_sessions") >= 2
    assert newer["access_token"]


def test_unknown_name_spends_a_hash(srv):
    """A login with a name nobody has is checked against a dummy hash, so
    that it takes as long as a wrong password: the password check counter
    shows the hash spent (no stopwatch needed). A wrong password of a real
    user is checked against its stored hash."""
    u = srv.new_user()

    def delta(fn):
        before = scrape(srv)
        fn()
        after = scrape(srv)
        return {k: value(after, "gatehouse_password_checks_total", against=k)
                - value(before, "gatehouse_password_checks_total", against=k)
                for k in ("stored", "dummy")}

    def refused(name):
        assert srv.login(name, "not-the-password").status_code == 401

    unknown = delta(lambda: refused(unique_username("nobody")))
    assert unknown["dummy"] >= 1 and unknown["stored"] == 0, unknown
    wrong = delta(lambda: refused(u["username"]))
    assert wrong == {"stored": 1, "dummy": 0}, wrong


def test_queue_full_counts_rejections(make_server):
    """One hashing worker, room for one waiting job: of a burst of logins,
    those that found the queue full got 503, and the counter says as many."""
    srv = make_server(env={"WORKERS": "1", "QUEUE_SIZE": "1", "BCRYPT_ROUNDS": "12"},
                      database_url=TEST_DATABASE_URL)
    before = scrape(srv)
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        codes = list(ex.map(lambda i: srv.login(unique_username("q")).status_code, range(8)))
    assert set(codes) <= {401, 503}, codes
    rejected = codes.count(503)
    assert rejected >= 1, codes
    after = scrape(srv)
    assert (value(after, "gatehouse_queue_rejected_total", queue="hash")
            - value(before, "gatehouse_queue_rejected_total", queue="hash")) == rejected
    # A login refused by the full queue never started: it is no login
    # outcome, only a rejection and a 503.
    assert (value(after, "gatehouse_logins_total", outcome="bad_credentials")
            - value(before, "gatehouse_logins_total", outcome="bad_credentials")) == 8 - rejected
    assert requests_of(after, "/login", 503, "POST") - requests_of(before, "/login", 503,
                                                                   "POST") == rejected
    waited = ("gatehouse_queue_wait_seconds_count", frozenset({("queue", "hash")}))
    assert after[waited] - before.get(waited, 0) == codes.count(401)


def test_metrics_off(make_server):
    srv = make_server(env={"METRICS": "0"}, database_url=TEST_DATABASE_URL)
    r = srv.get("/metrics")
    assert_problem(r, 404)


def test_metrics_address(make_server):
    port = free_port()
    srv = make_server(env={"METRICS_ADDRESS": f"127.0.0.1:{port}"},
                      database_url=TEST_DATABASE_URL)
    side = f"http://127.0.0.1:{port}"
    # Not on the public listener...
    assert_problem(srv.get("/metrics"), 404)
    srv.new_user("a")
    # ... but on its own, with /healthz and nothing else.
    samples = scrape(srv, base=side)
    assert requests_of(samples, "/register", 200, "POST") == 1
    assert requests_of(samples, "/metrics", 404, "GET") == 1
    assert requests.get(side + "/healthz", timeout=30).status_code == 200
    for path in ("/register", "/login", "/verify", "/docs"):
        assert requests.get(side + path, timeout=30).status_code in (404, 405), path
    # The side listener's own requests are not counted: only the main
    # listener's are.
    again = scrape(srv, base=side)
    assert requests_of(again, "/healthz", 200, "GET") == requests_of(samples, "/healthz", 200,
                                                                      "GET")
    assert requests_of(again, "unmatched", 404, "other") == 0
    assert srv.get("/healthz").status_code == 200
    third = scrape(srv, base=side)
    assert requests_of(third, "/healthz", 200, "GET") == requests_of(again, "/healthz", 200,
                                                                      "GET") + 1


def test_a_request_is_counted_before_its_answer_arrives(make_server):
    """A client that has its answer finds it counted by the next scrape,
    even while the server is still writing that answer. In a network
    namespace whose TCP buffers hold 4 KiB (tests/api/netns.py), a reader
    that reads only the status line holds the documentation bundle (over a
    megabyte) on the wire, so that the request cannot have ended."""
    with namespace() as ns:
        ns.sysctl("net.ipv4.tcp_wmem", "4096 4096 4096")
        ns.sysctl("net.ipv4.tcp_rmem", "4096 4096 4096")
        with ns.inside():
            srv = make_server()
            page = srv.get("/docs").text
            bundle = "/" + re.findall(r'docs/assets/[^"\']*swagger-ui-bundle\.js', page)[0]
            slow = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
            try:
                slow.sendall(f"GET {bundle} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
                head = b""
                while b"\r\n" not in head:
                    chunk = slow.recv(64)
                    assert chunk, "the server closed the connection"
                    head += chunk
                assert head.startswith(b"HTTP/1.1 200"), head
                samples = scrape(srv)
                assert requests_of(samples, "/docs/assets/", 200, "GET") == 1
            finally:
                slow.close()
