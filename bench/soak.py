#!/usr/bin/python3
"""A soak: GET /verify and GET /me under wrk load while clients register, log in, refresh and log
out, for longer than the access-token lifetime, with gatehouse's memory sampled all along.

    make build/gatehouse
    # the real run: 35 minutes with the default 30-minute access tokens
    /usr/bin/python3 bench/soak.py --duration 2100 --token-minutes 30
    # a development run: 1-minute tokens for 4 minutes
    /usr/bin/python3 bench/soak.py --duration 240 --token-minutes 1
    # what a setting does to memory: the same run with it changed
    /usr/bin/python3 bench/soak.py --duration 240 --token-minutes 1 --gh-env VERIFY_CACHE_ENTRIES=0

What runs at the same time, on one gatehouse (fresh SQLite database in a temp directory, or
--database-url for PostgreSQL):
  load     two wrk processes, GET /verify and GET /me, --wrk-conns connections each, with the
           access token of one long-lived session; wrk is restarted every segment (at most half
           a token lifetime) with a token refreshed just before, so it never runs on an expired
           token (--no-wrk: none)
  clients  --clients threads, each repeating one cycle: register a new user (or, every other
           cycle, log in one registered before, or one of --preload-users imported before the start,
           at random), log in, /verify and /me with the access token,
           /refresh, /verify and /me with the new access token, /logout, and /verify once more
           (must be 401: the session is revoked). Each new session puts a token in the token
           cache and each logout an entry in the revocation set until that token's expiry.
  sampler  every --interval seconds: the server's VmRSS, VmHWM, RssAnon, RssFile and threads
           (/proc/PID/status), its resident memory by kind of mapping (/proc/PID/smaps: [heap],
           malloc's thread arenas, large blocks, small mappings, stacks, files: see smaps_kinds),
           and from /metrics the revoked sessions in memory, revocations so far, token
           cache hits and misses, and database connections in use; with cycles, errors and wrk
           requests so far, and the size of the SQLite file with its WAL. One CSV row per sample (--csv).
  kill -9  --kill-every S: SIGKILL the server every S seconds under load and restart it (the
           RSS curve starts again there). At the end, unless --no-final-kill, one more kill -9
           while the clients run. After each restart, and at the end, every user whose
           registration was answered 200 must be in `gatehouse users list`.

The summary (stdout and --json) gives RSS at the start (the first sample, as the load begins), at one token
lifetime, at the end and its peak, the growth per minute over the first and over the last third
of the time after one token lifetime plus one purge interval (where it should be flat), cycles,
errors by step and status, and users lost. Errors while the server is down for a kill -9 are
counted apart ("during restart"), not as errors.

The server runs with throttling off (every client is 127.0.0.1), BCRYPT_ROUNDS=4 (so that the
clients cycle fast; --bcrypt-rounds), a fixed SECRET_KEY, and SESSION_PURGE_INTERVAL_SECONDS=60
(--purge-seconds: the default 600 would keep expired revocations up to 10 more minutes, longer
than a short development run). The real run above uses it too: with 600, a 35-minute run would
end before the first purge that finds an expired revocation. --gh-env K=V (repeatable) adds or overrides settings, and
--server-env K=V sets the environment of the process only (MALLOC_ARENA_MAX=2). Stdlib only;
everything on 127.0.0.1; wrk and the server are stopped on every exit path.
"""
import argparse
import csv
import http.client
import json
import os
import random
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the harness's Server, wrk and /proc helpers)

KIB = 1024.0


# ------------------------------------------------------------------ memory
def status_fields(pid):
    """VmRSS, VmHWM, RssAnon, RssFile (KiB) and Threads from /proc/PID/status."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for ln in f:
            k, _, v = ln.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
                out[k] = int(v.split()[0])
    return out


ARENA_ALIGN = 64 << 20       # glibc's HEAP_MAX_SIZE on 64-bit: a thread arena starts on it
THREAD_STACK = 8 << 20       # the default thread stack (ulimit -s 8192), its guard page apart
MMAP_BLOCK = 128 << 10       # malloc's initial mmap threshold


def anon_kind(start, size):
    """What an anonymous read-write mapping most likely is, from its address and size."""
    if start % ARENA_ALIGN == 0:
        return "arena"      # malloc's per-thread arenas (each reserves 64 MiB, uses what it needs)
    if size == THREAD_STACK or size == THREAD_STACK + 4096:
        return "stack"      # a thread's stack
    if size >= MMAP_BLOCK:
        return "block"      # one large malloc (tables) or a pool libmicrohttpd mapped itself
    return "small"          # small mappings: libmicrohttpd's per-connection memory pools, TLS


def smaps_kinds(pid):
    """Resident KiB by kind of mapping: heap (brk: malloc's main arena), arena (its per-thread
    arenas), block (other anonymous mappings of 128 KiB and more: large allocations such as the
    token cache's and the revocation set's tables), small (smaller anonymous mappings), stack
    (the main thread's and the threads'), file (binary, libraries, SQLite's -shm), and the count
    of anonymous mappings."""
    kinds = {"heap": 0, "arena": 0, "block": 0, "small": 0, "stack": 0, "file": 0, "anon_maps": 0}
    kind = None
    with open(f"/proc/{pid}/smaps") as f:
        for ln in f:
            first = ln.split(None, 1)[0]
            if "-" in first and first[0] in "0123456789abcdef" and not first.endswith(":"):
                parts = ln.split()
                name = parts[5] if len(parts) > 5 else ""
                lo, hi = (int(x, 16) for x in first.split("-"))
                if name == "[heap]":
                    kind = "heap"
                elif name.startswith("[stack"):
                    kind = "stack"
                elif name.startswith("/"):
                    kind = "file"
                elif name == "" or name.startswith("[anon"):
                    kind = anon_kind(lo, hi - lo)
                    kinds["anon_maps"] += 1
                else:
                    kind = None  # [vdso], [vvar], [vsyscall]
            elif first == "Rss:" and kind is not None:
                kinds[kind] += int(ln.split()[1])
    return kinds


def sqlite_kib(url):
    """Size of a SQLite database with its WAL file (KiB); None for PostgreSQL."""
    if not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///"):]
    return sum(os.path.getsize(path + sfx) for sfx in ("", "-wal") if os.path.exists(path + sfx)) // 1024


def scrape_metrics(port):
    """The /metrics figures the soak follows (None for any that is missing)."""
    want = {
        'gatehouse_revoked_sessions': "revoked_in_memory",
        'gatehouse_revocations_total': "revocations_total",
        'gatehouse_token_cache_lookups_total{result="hit"}': "cache_hits",
        'gatehouse_token_cache_lookups_total{result="miss"}': "cache_misses",
        'gatehouse_token_cache_capacity': "cache_capacity",
        'gatehouse_db_connections{state="in_use"}': "db_in_use",
        'gatehouse_db_connections{state="idle"}': "db_idle",
    }
    out = {v: None for v in want.values()}
    try:
        st, _, text = run.http_call(port, "GET", "/metrics", timeout=10)
    except OSError:
        return out
    if st != 200:
        return out
    for ln in text.splitlines():
        if ln.startswith("#"):
            continue
        name, _, val = ln.rpartition(" ")
        if name in want:
            out[want[name]] = float(val)
    return out


def gatehouse_pid(server, binary):
    """The gatehouse process itself: the server's, or the one below a --wrap command."""
    want = os.path.realpath(binary)
    for pid in run.proc_tree(server.proc.pid):
        try:
            if os.path.realpath(f"/proc/{pid}/exe") == want:
                return pid
        except OSError:
            continue
    return server.proc.pid


def preloaded_name(i):
    return f"soak.pre.{i:07d}"


def preload(args, env, tmp):
    """--preload-users users imported before the server starts (one cheap hash for all)."""
    import scale  # noqa: E402  (bcrypt_hash), only when preloading
    hsh = scale.bcrypt_hash(run.PASSWORD, args.bcrypt_rounds)
    path = os.path.join(tmp, "preload.csv")
    with open(path, "w") as f:
        f.write("username,password_hash\n")
        for i in range(args.preload_users):
            f.write(f"{preloaded_name(i)},{hsh}\n")
    for argv in (["migrate"], ["users", "import", path]):
        p = subprocess.run([args.gatehouse_bin, *argv, "--database-url", env["DATABASE_URL"]], env=env,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=3600)
        if p.returncode != 0:
            raise run.BenchError(f"gatehouse {' '.join(argv)}: exit {p.returncode}: {p.stderr[-500:]}")
    os.unlink(path)
    run.log(f"preloaded {args.preload_users:,} users")


# ------------------------------------------------------------------ clients
class Tally:
    """Cycles, errors and acknowledged users, shared by the client threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.cycles = 0
        self.errors = {}          # "step status" -> count
        self.restart_errors = 0   # failures while the server was down on purpose
        self.users = []           # every username whose registration was answered 200
        self.down = threading.Event()
        self.generation = 0       # server starts: a client drops a connection of an older one
        self.kill_times = []      # time.time() just before each kill -9 and just after its restart

    def restarted_during(self, duration_s):
        """Whether a kill -9 fell in the last duration_s seconds (a wrk segment that just ended)."""
        t_end = time.time()
        return any(t_end - duration_s - 1 <= k <= t_end for k in self.kill_times)

    def error(self, what):
        with self.lock:
            if self.down.is_set():
                self.restart_errors += 1
            else:
                self.errors[what] = self.errors.get(what, 0) + 1

    def error_total(self):
        with self.lock:
            return sum(self.errors.values())


class Client(threading.Thread):
    """One user agent: the register / login / refresh / logout cycle on a keep-alive connection."""

    def __init__(self, no, port, tag, tally, stop, preloaded):
        super().__init__(daemon=True, name=f"soak-client-{no}")
        self.no, self.port, self.tag, self.tally, self.stop = no, port, tag, tally, stop
        self.preloaded = preloaded
        self.conn = None
        self.conn_generation = 0
        self.n = 0
        self.mine = []

    def call(self, method, path, body=None, token=None):
        data, headers = run.request_parts(body, token)
        if self.conn is not None and self.conn_generation != self.tally.generation:
            self.conn.close()  # a connection to the process killed: it is gone
            self.conn = None
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(run.HOST, self.port, timeout=30)
                self.conn_generation = self.tally.generation
            try:
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                text = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                try:
                    js = json.loads(text) if text else None
                except ValueError:
                    js = None
                return r.status, js
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt == 2:
                    return None, None
                # a keep-alive connection the server closed: one retry on a new one, but
                # never for a POST that may have been processed (it would be answered twice)
                if method == "POST":
                    return None, None
        return None, None

    def step(self, what, want, method, path, body=None, token=None):
        st, js = self.call(method, path, body, token)
        if st != want:
            self.tally.error(f"{what} {st}")
            return None
        return js if js is not None else {}

    def cycle(self):
        self.n += 1
        if self.n % 2 == 1 or not self.mine:
            name = f"soak.{self.tag}.{self.no}.{self.n}"
            if self.step("register", 200, "POST", "/register",
                         {"username": name, "password": run.PASSWORD}) is None:
                return False
            with self.tally.lock:
                self.tally.users.append(name)
            self.mine.append(name)
        elif self.preloaded:
            name = preloaded_name(random.randrange(self.preloaded))
        else:
            name = random.choice(self.mine)
        js = self.step("login", 200, "POST", "/login", {"username": name, "password": run.PASSWORD})
        if js is None or "access_token" not in js:
            return False
        access, refresh = js["access_token"], js["refresh_token"]
        if self.step("verify", 204, "GET", "/verify", token=access) is None or \
                self.step("me", 200, "GET", "/me", token=access) is None:
            return False
        js = self.step("refresh", 200, "POST", "/refresh", {"refresh_token": refresh})
        if js is None or "access_token" not in js:
            return False
        access = js["access_token"]
        if self.step("verify-refreshed", 204, "GET", "/verify", token=access) is None or \
                self.step("me-refreshed", 200, "GET", "/me", token=access) is None or \
                self.step("logout", 204, "POST", "/logout", token=access) is None or \
                self.step("verify-after-logout", 401, "GET", "/verify", token=access) is None:
            return False
        return True

    def run(self):
        while not self.stop.is_set():
            if self.tally.down.is_set():
                time.sleep(0.05)
                continue
            if self.cycle():
                with self.tally.lock:
                    self.tally.cycles += 1
        if self.conn is not None:
            self.conn.close()


# ------------------------------------------------------------------ wrk load
class Load(threading.Thread):
    """wrk on GET /verify and GET /me in segments, each with a freshly refreshed access token."""

    def __init__(self, args, port, tally, stop, segment):
        super().__init__(daemon=True, name="soak-load")
        self.args, self.port, self.tally, self.stop, self.segment = args, port, tally, stop, segment
        self.requests = {"/verify": 0, "/me": 0}
        self.errors = {"/verify": 0, "/me": 0}
        self.restart_errors = 0
        self.refresh_token = None
        self.failure = None
        self.procs = []

    def fresh_token(self):
        """The load session's next access token (a new login when there is no session yet)."""
        if self.refresh_token is not None:
            st, js, _ = run.http_call(self.port, "POST", "/refresh", {"refresh_token": self.refresh_token},
                                      timeout=30)
            if st == 200:
                self.refresh_token = js["refresh_token"]
                return js["access_token"]
            self.tally.error(f"load-refresh {st}")
        st, js, text = run.http_call(self.port, "POST", "/login",
                                     {"username": "soak.load", "password": run.PASSWORD}, timeout=60)
        if st != 200:
            raise run.BenchError(f"load login: HTTP {st} {text[:200]}")
        self.refresh_token = js["refresh_token"]
        return js["access_token"]

    def run(self):
        try:
            while not self.stop.is_set():
                if self.tally.down.is_set():
                    time.sleep(0.1)
                    continue
                try:
                    token = self.fresh_token()
                except (OSError, run.BenchError) as e:
                    if not self.tally.down.is_set():
                        self.tally.error(f"load-token {e.__class__.__name__}")
                    time.sleep(0.5)
                    continue
                procs = [(path, *run.start_wrk(self.port, self.args.wrk_conns, self.segment,
                                               self.args.wrk_threads, 30, ["get", token, path]))
                         for path in ("/verify", "/me")]
                self.procs = [p for _, p, _ in procs]
                for path, p, cmd in procs:
                    down_before = self.tally.down.is_set()
                    o = run.collect_wrk(p, cmd, self.segment, 30)
                    self.requests[path] += o["requests"]
                    if down_before or self.tally.down.is_set() or self.tally.restarted_during(o["duration_s"]):
                        self.restart_errors += o["errors"]
                    else:
                        self.errors[path] += o["errors"]
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            self.failure = e

    def stop_now(self):
        """Ends the wrk segment running now (collect_wrk in run() then reaps it)."""
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)


# ------------------------------------------------------------------ checks
def listed_users(args, env):
    """Usernames in the database, from `gatehouse users list` (header line skipped)."""
    p = subprocess.run([args.gatehouse_bin, "users", "list", "--database-url", env["DATABASE_URL"]],
                       env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        raise run.BenchError(f"users list: exit {p.returncode}: {p.stderr[-500:]}")
    return {ln.split("\t")[1] for ln in p.stdout.splitlines()[1:] if "\t" in ln}


def kill_and_restart(server, tally, kills):
    """SIGKILL the server's process group under load, restart it, and return the seconds down."""
    with tally.lock:
        acked = len(tally.users)
    tally.down.set()
    tally.kill_times.append(time.time())
    t0 = time.monotonic()
    pid = server.proc.pid
    os.killpg(pid, signal.SIGKILL)
    server.proc.wait(timeout=30)
    server.logf.close()
    server.proc = None
    server.start()
    down = time.monotonic() - t0
    time.sleep(0.2)  # let requests that failed while it was down finish failing
    with tally.lock:
        tally.generation += 1
    tally.kill_times.append(time.time())
    tally.down.clear()
    kills.append({"t": time.time(), "acked_before": acked, "down_s": round(down, 3)})
    run.log(f"kill -9 and restart: down {down:.2f} s, {acked} users acknowledged before")
    return down


def check_users(args, env, tally, when):
    with tally.lock:
        acked = list(tally.users)
    have = listed_users(args, env)
    lost = [u for u in acked if u not in have]
    run.log(f"{when}: {len(acked)} acknowledged users, {len(lost)} missing from users list")
    return {"when": when, "acknowledged": len(acked), "lost": len(lost), "lost_names": lost[:20]}


# ------------------------------------------------------------------ summary
def mib(kib):
    return None if kib is None else round(kib / KIB, 2)


def slope_mib_per_min(rows, t_from, t_to):
    """Least-squares slope of VmRSS (MiB per minute) over the samples with t_from <= t <= t_to."""
    pts = [(r["t_s"], r["vm_rss_kib"] / KIB) for r in rows if t_from <= r["t_s"] <= t_to]
    if len(pts) < 3:
        return None
    n = len(pts)
    mx = sum(p[0] for p in pts) / n
    my = sum(p[1] for p in pts) / n
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    if sxx == 0:
        return None
    return round(60.0 * sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx, 3)


def at(rows, t):
    """The last sample taken at or before t seconds."""
    best = None
    for r in rows:
        if r["t_s"] <= t:
            best = r
    return best


def summarise(args, rows, tally, load, checks, kills, env):
    lifetime = args.token_minutes * 60
    settle = lifetime + args.purge_seconds + args.interval
    end = rows[-1]["t_s"] if rows else 0
    first = rows[0] if rows else None
    at_lifetime = at(rows, lifetime) if end >= lifetime else None
    flat_from = min(settle, end)
    third = (end - flat_from) / 3.0
    s = {
        "duration_s": end,
        "token_minutes": args.token_minutes,
        "purge_seconds": args.purge_seconds,
        "settings": {k: env[k] for k in sorted(env) if k in args.reported_keys},
        "server_env": dict(kv.split("=", 1) for kv in args.server_env),
        "rss_start_mib": mib(first["vm_rss_kib"]) if first else None,
        "rss_at_lifetime_mib": mib(at_lifetime["vm_rss_kib"]) if at_lifetime else None,
        "rss_end_mib": mib(rows[-1]["vm_rss_kib"]) if rows else None,
        "rss_peak_mib": mib(max(r["vm_rss_kib"] for r in rows)) if rows else None,
        "hwm_mib": mib(rows[-1]["vm_hwm_kib"]) if rows else None,
        "slope_before_lifetime_mib_per_min": slope_mib_per_min(rows, 0, lifetime),
        "settled_from_s": flat_from,
        "slope_settled_first_third_mib_per_min": slope_mib_per_min(rows, flat_from, flat_from + third),
        "slope_settled_last_third_mib_per_min": slope_mib_per_min(rows, end - third, end),
        "end_breakdown_mib": {k[:-4]: mib(rows[-1][k]) for k in ("heap_kib", "arena_kib", "block_kib", "small_kib",
                                                                  "stack_kib", "file_kib")}
        if rows else None,
        "revoked_in_memory_peak": max((r["revoked_in_memory"] or 0) for r in rows) if rows else None,
        "revoked_in_memory_end": rows[-1]["revoked_in_memory"] if rows else None,
        "cycles": tally.cycles,
        "cycles_per_s": round(tally.cycles / end, 1) if end else None,
        "users_registered": len(tally.users),
        "errors": dict(tally.errors),
        "errors_total": sum(tally.errors.values()),
        "errors_during_restart": tally.restart_errors + (load.restart_errors if load else 0),
        "wrk_requests": dict(load.requests) if load else {},
        "wrk_errors": dict(load.errors) if load else {},
        "kills": kills,
        "user_checks": checks,
        "users_lost": max((c["lost"] for c in checks), default=None),
    }
    return s


def print_summary(s):
    print(f"\nsoak: {s['duration_s']:.0f} s, access tokens {s['token_minutes']} min, purge every "
          f"{s['purge_seconds']} s; settings {s['settings']}; process env {s['server_env']}")
    print(f"- RSS: start {s['rss_start_mib']} MiB, at one token lifetime {s['rss_at_lifetime_mib']} MiB, "
          f"end {s['rss_end_mib']} MiB, peak {s['rss_peak_mib']} MiB")
    print(f"- growth: {s['slope_before_lifetime_mib_per_min']} MiB/min before one token lifetime; after "
          f"{s['settled_from_s']:.0f} s (lifetime + purge interval): first third "
          f"{s['slope_settled_first_third_mib_per_min']}, last third "
          f"{s['slope_settled_last_third_mib_per_min']} MiB/min")
    print(f"- at the end, resident by mapping (MiB): {s['end_breakdown_mib']}")
    print(f"- revoked sessions in memory: peak {s['revoked_in_memory_peak']}, end {s['revoked_in_memory_end']}")
    print(f"- cycles {s['cycles']} ({s['cycles_per_s']}/s), users registered {s['users_registered']}, "
          f"errors {s['errors_total']} {s['errors'] or ''}, during restarts {s['errors_during_restart']}")
    print(f"- wrk requests {s['wrk_requests']}, wrk errors {s['wrk_errors']}")
    print(f"- kill -9: {len(s['kills'])}; users lost: {s['users_lost']} "
          f"({[(c['when'], c['acknowledged'], c['lost']) for c in s['user_checks']]})")


# ------------------------------------------------------------------ main
def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=float, default=240, help="seconds of soak (240)")
    ap.add_argument("--token-minutes", type=int, default=1,
                    help="ACCESS_TOKEN_EXPIRE_MINUTES (1; the real run: 30 with --duration 2100)")
    ap.add_argument("--purge-seconds", type=int, default=60, help="SESSION_PURGE_INTERVAL_SECONDS (60)")
    ap.add_argument("--interval", type=float, default=5, help="seconds between samples (5)")
    ap.add_argument("--clients", type=int, default=4, help="cycling client threads (4)")
    ap.add_argument("--wrk-conns", type=int, default=8, help="wrk connections on each of /verify and /me (8)")
    ap.add_argument("--wrk-threads", type=int, default=1, help="threads of each wrk (1)")
    ap.add_argument("--no-wrk", action="store_true", help="no wrk load, the clients only")
    ap.add_argument("--bcrypt-rounds", type=int, default=4, help="BCRYPT_ROUNDS (4)")
    ap.add_argument("--preload-users", type=int, default=0,
                    help="users imported before the start; the clients' logins of earlier users pick among "
                         "them at random, so the database's pages are touched all over (0)")
    ap.add_argument("--kill-every", type=float, default=0, help="kill -9 and restart every S seconds (0: never)")
    ap.add_argument("--no-final-kill", action="store_true", help="no kill -9 check at the end")
    ap.add_argument("--database-url", default=None, help="PostgreSQL URL (default: a fresh SQLite file)")
    ap.add_argument("--port", type=int, default=8014)
    ap.add_argument("--gatehouse-bin", default=os.path.join(run.ROOT, "build", "gatehouse"))
    ap.add_argument("--gh-env", action="append", default=[], metavar="K=V",
                    help="a gatehouse setting (repeatable), e.g. VERIFY_CACHE_ENTRIES=0, DB_POOL_SIZE=1")
    ap.add_argument("--server-env", action="append", default=[], metavar="K=V",
                    help="process environment of the server only (repeatable), e.g. MALLOC_ARENA_MAX=2")
    ap.add_argument("--wrap", default="", metavar="CMD",
                    help="a command the server runs under, e.g. 'heaptrack -o /tmp/gh-soak-heap' (the samples "
                         "are of the gatehouse process below it)")
    ap.add_argument("--csv", default="/tmp/gh-soak.csv")
    ap.add_argument("--json", default="/tmp/gh-soak.json")
    args = ap.parse_args(argv)
    if args.duration <= 0 or args.interval <= 0 or args.clients < 0 or args.token_minutes < 1:
        ap.error("--duration and --interval must be positive, --token-minutes at least 1")
    return args


def main(argv):
    args = parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, run._sigterm)
    signal.signal(signal.SIGHUP, run._sigterm)
    if not os.access(args.gatehouse_bin, os.X_OK):
        raise run.BenchError(f"no executable {args.gatehouse_bin}; build it with: make build/gatehouse")
    if not args.no_wrk and shutil.which("wrk") is None:
        raise run.BenchError("wrk is not installed (apt-get install wrk), or use --no-wrk")
    tmp = tempfile.mkdtemp(prefix="gh-soak-")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "PORT", "HOST")}
    env.update(run.NO_THROTTLE)
    env.update({"SECRET_KEY": run.GH_SECRET, "BCRYPT_ROUNDS": str(args.bcrypt_rounds),
                "ACCESS_TOKEN_EXPIRE_MINUTES": str(args.token_minutes),
                "SESSION_PURGE_INTERVAL_SECONDS": str(args.purge_seconds),
                "DATABASE_URL": args.database_url or f"sqlite:///{os.path.join(tmp, 'gh.db')}"})
    for kv in args.gh_env:
        k, _, v = kv.partition("=")
        env[k] = v
    args.reported_keys = {"BCRYPT_ROUNDS", "ACCESS_TOKEN_EXPIRE_MINUTES", "SESSION_PURGE_INTERVAL_SECONDS",
                          *(kv.partition("=")[0] for kv in args.gh_env)}
    server_env = dict(env)
    for kv in args.server_env:
        k, _, v = kv.partition("=")
        server_env[k] = v
    server = run.Server("gatehouse", [*shlex.split(args.wrap), args.gatehouse_bin, "--port", str(args.port),
                                      "--host", run.HOST], server_env, args.port, tmp)
    stop = threading.Event()
    tally = Tally()
    clients, load = [], None
    rows, checks, kills = [], [], []
    try:
        if args.preload_users:
            preload(args, env, tmp)
        server.start()
        st, _, text = run.http_call(args.port, "POST", "/register",
                                    {"username": "soak.load", "password": run.PASSWORD})
        if st != 200:
            raise run.BenchError(f"register soak.load: HTTP {st} {text[:200]}")
        segment = max(2, min(60, args.token_minutes * 60 // 2))
        if not args.no_wrk:
            load = Load(args, args.port, tally, stop, segment)
        tag = run.rand_tag()
        clients = [Client(i, args.port, tag, tally, stop, args.preload_users) for i in range(args.clients)]
        t0 = time.monotonic()
        for c in clients:
            c.start()
        if load:
            load.start()
        with open(args.csv, "w", newline="") as f:
            w = None
            next_kill = args.kill_every if args.kill_every > 0 else None
            next_sample = 0.0
            while True:
                now = time.monotonic() - t0
                if now >= args.duration:
                    break
                if load is not None and load.failure is not None:
                    raise run.BenchError(f"wrk load failed: {load.failure!r}")
                if next_kill is not None and now >= next_kill:
                    kill_and_restart(server, tally, kills)
                    checks.append(check_users(args, env, tally, f"after kill -9 at {now:.0f} s"))
                    next_kill += args.kill_every
                if now < next_sample:
                    time.sleep(min(0.2, next_sample - now))
                    continue
                next_sample += args.interval
                pid = gatehouse_pid(server, args.gatehouse_bin)
                row = {"t_s": round(now, 1), "unix_time": round(time.time(), 1), "pid": pid}
                try:
                    sf = status_fields(pid)
                    sk = smaps_kinds(pid)
                except OSError as e:
                    raise run.BenchError(f"server gone: {e}\n{server.log_tail()}")
                row.update({"vm_rss_kib": sf["VmRSS"], "vm_hwm_kib": sf["VmHWM"],
                            "rss_anon_kib": sf["RssAnon"], "rss_file_kib": sf["RssFile"],
                            "threads": sf["Threads"], **{f"{k}_kib": sk[k] for k in ("heap", "arena", "block", "small",
                                                                          "stack", "file")},
                            "anon_maps": sk["anon_maps"]})
                row.update(scrape_metrics(args.port))
                with tally.lock:
                    row.update({"cycles": tally.cycles, "users": len(tally.users),
                                "errors": sum(tally.errors.values())})
                row["wrk_requests"] = sum(load.requests.values()) if load else 0
                row["db_kib"] = sqlite_kib(env["DATABASE_URL"])
                rows.append(row)
                if w is None:
                    w = csv.DictWriter(f, fieldnames=list(row))
                    w.writeheader()
                w.writerow(row)
                f.flush()
                run.log(f"t={row['t_s']:7.1f}s RSS {row['vm_rss_kib'] / KIB:6.2f} MiB (heap "
                        f"{row['heap_kib'] / KIB:.2f}, arenas {row['arena_kib'] / KIB:.2f}, blocks "
                        f"{row['block_kib'] / KIB:.2f}, small {row['small_kib'] / KIB:.2f}) revoked "
                        f"{row['revoked_in_memory']} cache miss {row['cache_misses']} cycles {row['cycles']} "
                        f"errors {row['errors']}")
        if not args.no_final_kill:
            kill_and_restart(server, tally, kills)
            time.sleep(min(5.0, args.interval))
        stop.set()
        if load:
            load.stop_now()
            load.join(timeout=120)
        for c in clients:
            c.join(timeout=60)
        checks.append(check_users(args, env, tally, "at the end"))
    finally:
        stop.set()
        run.stop_everything([server])
    s = summarise(args, rows, tally, load, checks, kills, env)
    s["csv"] = args.csv
    s["command"] = " ".join(["bench/soak.py", *argv])
    print_summary(s)
    with open(args.json, "w") as f:
        json.dump(s, f, indent=1)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0 if s["errors_total"] == 0 and not s["users_lost"] else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except run.BenchError as e:
        print(f"soak.py: {e}", file=sys.stderr)
        sys.exit(1)
