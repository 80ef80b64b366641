#!/usr/bin/python3
"""One full benchmark run of gatehouse, and of the FastAPI peer it replaces when ../shared is there.

    /usr/bin/python3 bench/run.py --json /tmp/gh-bench.json --markdown /tmp/gh-bench.md [options]
    (make bench / bench/run.sh pass those two paths)

Stdlib only (the bcrypt timing runs passlib in a child /usr/bin/python3). Load comes from wrk with
bench/gatehouse.lua. Everything listens and connects on 127.0.0.1 only; every wait is bounded;
servers, wrk and the throwaway PostgreSQL are stopped on every exit path (also Ctrl-C / SIGTERM),
and the PostgreSQL cluster directory is deleted at the end.

Steps
  0. bcrypt: median of 5 verifies at cost 12 (passlib, as the peer; libxcrypt, as gatehouse);
     login bound = cores / t_verify.
  1. peer (if ../shared exists and --no-peer is not given): ../shared/bench/pg.sh start DIR PORT,
     the peer's table created once, INIT_DB=0 ../shared/peers/fastapi-seed/start.sh PORT (1 worker);
     users registered; scenarios register (8), login (8), me = GET /users/me (64),
     mixed = GET /users/me (64) + login (4); cold start (exec -> first 200 on GET /users/me).
  2. gatehouse on a fresh temp SQLite database (--gh-database pg: the peer's PostgreSQL), BCRYPT_ROUNDS=12 and a fixed SECRET_KEY: the same
     scenarios with GET /me, plus verify (64), verify+login4 and verify+login8 (GET /verify at 64
     while 4 / 8 clients log in); cold start (exec -> first 204 on GET /verify), idle RSS 2 s after
     start and after the runs, peak RSS (100 ms samples) and server CPU per scenario.
  3. markdown table and goal checks; full JSON.
"""
import argparse
import datetime
import http.client
import json
import os
import platform
import random
import resource
import shutil
import signal
import socket
import sqlite3
import statistics
import string
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LUA = os.path.join(ROOT, "bench", "gatehouse.lua")
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared"))
PG_SH = os.path.join(SHARED, "bench", "pg.sh")
INSTALL_DEPS = os.path.join(SHARED, "bench", "install-deps.sh")
PEER_DIR = os.path.join(SHARED, "peers", "fastapi-seed")
PEER_START = os.path.join(PEER_DIR, "start.sh")
PY = "/usr/bin/python3"
HOST = "127.0.0.1"
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Every load client is 127.0.0.1: gatehouse's throttling (on by default) would
# answer most logins and registrations 429, so the benchmarks turn it off.
NO_THROTTLE = {"THROTTLE_ADDRESS_FAILURES": "0", "THROTTLE_ACCOUNT_FAILURES": "0",
               "THROTTLE_REGISTRATIONS": "0", "HASH_JOBS_PER_ADDRESS": "0"}
GH_SECRET = "gatehouse-bench-fixed-secret-key-0123456789"  # fixed: tokens survive restarts
PASSWORD = "Bench-user-pass-7f3k!"                         # >= 8, not common, never a username

ALL_SCENARIOS = ["bcrypt", "register", "login", "me", "verify", "mixed",
                 "verify-login4", "verify-login8", "coldstart"]
PEER_SCENARIOS = {"register", "login", "me", "mixed", "coldstart"}

GOALS = {
    "verify_vs_peer_get": 100.0,   # /verify req/s / peer GET /users/me req/s >=
    "me_vs_peer_get": 25.0,        # /me req/s / peer GET /users/me req/s >=
    "p99_get_ms": 3.0,             # p99 of /verify and /me at 64 conns <=
    "p99_verify_login_ms": 5.0,    # p99 of /verify while 4-8 clients log in <=
    "login_frac_of_bound": 0.95,   # logins/s >= this x (cores / t_bcrypt)
    "idle_rss_mib": 8.0,           # <=
    "cold_start_ms": 50.0,         # <=
}


def log(*a):
    print("[bench]", *a, file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


def _sigterm(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


# ------------------------------------------------------------------ /proc helpers
def _children_map():
    kids = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            s = open(f"/proc/{d}/stat").read()
            pp = int(s[s.rindex(")") + 2:].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(pp, []).append(int(d))
    return kids


def proc_tree(pid):
    """pid and all its descendants (bounded walk)."""
    kids = _children_map()
    out, stack = [], [pid]
    while stack and len(out) < 4096:
        p = stack.pop()
        if p in out:
            continue
        out.append(p)
        stack.extend(kids.get(p, []))
    return out


def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for ln in f:
                if ln.startswith(key + ":"):
                    return int(ln.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def rss_kb(pids):
    return sum(status_kb(p, "VmRSS") for p in pids)


def cpu_ticks(pids, children=False):
    tot = 0
    for p in pids:
        try:
            s = open(f"/proc/{p}/stat").read()
            f = s[s.rindex(")") + 2:].split()
            tot += int(f[11]) + int(f[12])
            if children:
                tot += int(f[13]) + int(f[14])
        except (OSError, ValueError, IndexError):
            pass
    return tot


def machine_busy_ticks():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v) - v[3] - (v[4] if len(v) > 4 else 0)


PG_DATA = None  # data directory of the cluster this run started (other clusters on the machine are "other")


def pg_ticks():
    """CPU ticks of our PostgreSQL cluster: the postmaster's tree, with reaped children (backends)."""
    if not PG_DATA:
        return 0
    try:
        with open(os.path.join(PG_DATA, "postmaster.pid")) as f:
            pm = int(f.readline().strip())
    except (OSError, ValueError):
        return 0
    return cpu_ticks(proc_tree(pm), children=True)


def own_cpu_s():
    a = resource.getrusage(resource.RUSAGE_SELF)
    b = resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime, b.ru_utime + b.ru_stime


class CpuWindow:
    """CPU % (100 = one core) over a window: the server, postgres, this driver, its reaped children
    (wrk), the whole machine, and the rest ("other": unrelated processes)."""

    def __init__(self, pids):
        self.pids = pids
        self.t0 = time.monotonic()
        self.srv0 = cpu_ticks(pids)
        self.pg0 = pg_ticks()
        self.mach0 = machine_busy_ticks()
        self.self0, self.kids0 = own_cpu_s()

    def result(self):
        dt = max(1e-6, time.monotonic() - self.t0)
        srv = 100.0 * (cpu_ticks(self.pids) - self.srv0) / CLK_TCK / dt
        pg = 100.0 * (pg_ticks() - self.pg0) / CLK_TCK / dt
        mach = 100.0 * (machine_busy_ticks() - self.mach0) / CLK_TCK / dt
        self1, kids1 = own_cpu_s()
        drv = 100.0 * (self1 - self.self0) / dt
        kids = 100.0 * (kids1 - self.kids0) / dt
        return {"srv_cpu_pct": round(srv, 1), "pg_cpu_pct": round(pg, 1), "wrk_cpu_pct": round(kids, 1),
                "driver_cpu_pct": round(drv, 1), "machine_cpu_pct": round(mach, 1),
                "other_cpu_pct": round(max(0.0, mach - srv - pg - kids - drv), 1)}


class Sampler(threading.Thread):
    """Summed VmRSS of the server's processes every 100 ms; CPU split over the window."""

    def __init__(self, pids, interval=0.1):
        super().__init__(daemon=True)
        self.pids = pids
        self.interval = interval
        self.peak_kb = rss_kb(pids)
        self.samples = 0
        self._halt = threading.Event()
        self.cpu = CpuWindow(pids)

    def run(self):
        while not self._halt.is_set():
            self.peak_kb = max(self.peak_kb, rss_kb(self.pids))
            self.samples += 1
            self._halt.wait(self.interval)

    def finish(self):
        self._halt.set()
        self.join(5)
        self.peak_kb = max(self.peak_kb, rss_kb(self.pids))
        return {**self.cpu.result(), "peak_rss_mib": round(self.peak_kb / 1024, 2),
                "rss_samples": self.samples}


def wait_server_idle(pids, threshold_pct=10.0, window=0.5, max_wait=120.0):
    """Bounded wait until the server uses < threshold_pct CPU (drains queued bcrypt work)."""
    t_end = time.monotonic() + max_wait
    while time.monotonic() < t_end:
        c0 = cpu_ticks(pids)
        time.sleep(window)
        if 100.0 * (cpu_ticks(pids) - c0) / CLK_TCK / window < threshold_pct:
            return True
    log(f"warning: server still busy after {max_wait:.0f} s")
    return False


def wait_quiet(pids, max_other_pct, max_wait):
    """Bounded wait until unrelated processes use < max_other_pct CPU (1 s windows)."""
    t_end = time.monotonic() + max_wait
    said = False
    while True:
        w = CpuWindow(pids)
        time.sleep(1.0)
        other = w.result()["other_cpu_pct"]
        if other < max_other_pct:
            return other
        if time.monotonic() >= t_end:
            log(f"warning: unrelated processes use {other}% CPU; measuring anyway")
            return other
        if not said:
            log(f"unrelated processes use {other}% CPU; waiting up to {max_wait:.0f} s for a quieter machine")
            said = True


# ------------------------------------------------------------------ HTTP
def request_parts(body=None, token=None):
    """The encoded body and the headers of a request with a JSON body and a bearer token,
    either or both None."""
    headers = {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return data, headers


def http_call(port, method, path, body=None, token=None, timeout=120.0):
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        data, headers = request_parts(body, token)
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        text = r.read().decode("utf-8", "replace")
        try:
            js = json.loads(text) if text else None
        except ValueError:
            js = None
        return r.status, js, text
    finally:
        conn.close()


def port_open(port, timeout=0.5):
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_port_free(port, max_wait=15.0):
    t_end = time.monotonic() + max_wait
    while time.monotonic() < t_end:
        if not port_open(port):
            return
        time.sleep(0.1)
    raise BenchError(f"port {port} on {HOST} is in use by another process; pick another with --port-*")


def raw_status(port, request, timeout=2.0):
    """One raw HTTP request on a fresh connection; returns the status code or None."""
    try:
        s = socket.create_connection((HOST, port), timeout=timeout)
    except OSError:
        return None
    try:
        s.settimeout(timeout)
        s.sendall(request)
        data = b""
        while b"\r\n" not in data and len(data) < 65536:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        return None
    finally:
        s.close()
    parts = data.split(b" ", 2)
    if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
        return int(parts[1])
    return None


# ------------------------------------------------------------------ servers
class Server:
    """A server process started by this driver in its own session (so it is stopped by its id)."""

    def __init__(self, name, cmd, env, port, logdir, cwd=ROOT, ready_path="/healthz"):
        self.name, self.cmd, self.env, self.port, self.cwd = name, cmd, env, port, cwd
        self.ready_path = ready_path
        self.logdir = logdir
        self.proc = None
        self.logf = None
        self.starts = 0

    def spawn(self, check_port=True):
        """Start the process (no waiting). Output goes to a log file, never to a pipe."""
        if check_port:
            wait_port_free(self.port)
        self.starts += 1
        path = os.path.join(self.logdir, f"{self.name}-{self.starts}.log")
        self.logf = open(path, "wb")
        self.proc = subprocess.Popen(self.cmd, env=self.env, cwd=self.cwd, stdin=subprocess.DEVNULL,
                                     stdout=self.logf, stderr=subprocess.STDOUT, start_new_session=True)
        return self.proc

    def log_tail(self, n=20):
        try:
            with open(self.logf.name, "rb") as f:
                return b"\n".join(f.read().splitlines()[-n:]).decode("utf-8", "replace")
        except (OSError, AttributeError):
            return ""

    def start(self, max_wait=60.0):
        self.spawn()
        t_end = time.monotonic() + max_wait
        while time.monotonic() < t_end:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} exited with {self.proc.returncode} while starting:\n"
                                 f"{self.log_tail()}")
            try:
                st, _, _ = http_call(self.port, "GET", self.ready_path, timeout=2.0)
                if st == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise BenchError(f"{self.name} did not answer 200 on {self.ready_path} within {max_wait:.0f} s:\n"
                         f"{self.log_tail()}")

    def pids(self):
        if self.proc is None or self.proc.poll() is not None:
            return []
        return proc_tree(self.proc.pid)

    def stop(self, grace=15.0):
        """SIGTERM to the server's own process group, then SIGKILL after `grace` seconds."""
        p = self.proc
        if p is None:
            return None
        cpu_s = cpu_ticks(proc_tree(p.pid)) / CLK_TCK if p.poll() is None else None
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                log(f"{self.name} ignored SIGTERM for {grace:.0f} s; SIGKILL")
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(timeout=10)
        # leftovers of the same group (uvicorn children), if any
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.logf:
            self.logf.close()
        self.proc = None
        return cpu_s


def cold_start(server, path, token, max_wait):
    """Seconds from exec to the first 200/204 on GET path (fresh connection per poll)."""
    req = (f"GET {path} HTTP/1.1\r\nHost: {HOST}:{server.port}\r\nAuthorization: Bearer {token}\r\n"
           f"Connection: close\r\n\r\n").encode()
    wait_port_free(server.port)
    t0 = time.perf_counter()
    proc = server.spawn(check_port=False)
    deadline = t0 + max_wait
    polls = 0
    try:
        while True:
            polls += 1
            st = raw_status(server.port, req)
            if st in (200, 204):
                t = time.perf_counter() - t0
                break
            if proc.poll() is not None:
                raise BenchError(f"{server.name} exited with {proc.returncode} during cold start:\n"
                                 f"{server.log_tail()}")
            if time.perf_counter() > deadline:
                raise BenchError(f"{server.name}: no 200/204 on {path} within {max_wait:.0f} s (last {st})")
            time.sleep(0.0005)
    finally:
        server.stop()
    return t, polls


# ------------------------------------------------------------------ wrk
WRK_PROCS = []


def start_wrk(port, conns, duration, threads, timeout_s, script_args):
    threads = max(1, min(threads, conns))
    cmd = ["wrk", "-t", str(threads), "-c", str(conns), "-d", f"{duration}s", "--timeout", f"{timeout_s}s",
           "-s", LUA, f"http://{HOST}:{port}", "--", *script_args]
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    WRK_PROCS.append(p)
    return p, cmd


def collect_wrk(p, cmd, duration, timeout_s):
    try:
        out, _ = p.communicate(timeout=duration + timeout_s + 60)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate(timeout=10)
        raise BenchError(f"wrk did not finish: {' '.join(cmd)}")
    finally:
        if p in WRK_PROCS:
            WRK_PROCS.remove(p)
    res = None
    for ln in out.splitlines():
        if ln.startswith("BENCHJSON "):
            res = json.loads(ln[len("BENCHJSON "):])
    if res is None:
        raise BenchError(f"wrk printed no BENCHJSON line (exit {p.returncode}): {' '.join(cmd)}\n{out[-2000:]}")
    dur = res["duration_us"] / 1e6
    lat = res["latency_us"]
    return {
        "requests": res["requests"],
        "rps": round(res["requests"] / dur, 2) if dur > 0 else 0.0,
        "p50_ms": round(lat["p50"] / 1000, 3),
        "p90_ms": round(lat["p90"] / 1000, 3),
        "p99_ms": round(lat["p99"] / 1000, 3),
        "max_ms": round(lat["max"] / 1000, 3),
        "mean_ms": round(lat["mean"] / 1000, 3),
        "errors": res["errors"]["total"],
        "errors_detail": res["errors"],
        "duration_s": round(dur, 3),
        "wrk": res,
        "wrk_cmd": " ".join(cmd),
    }


def kill_wrks():
    for p in list(WRK_PROCS):
        if p.poll() is None:
            p.kill()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        WRK_PROCS.remove(p)


def stop_everything(servers):
    """wrk first, then every server started, each stop tried whatever the others did."""
    kill_wrks()
    for s in servers:
        try:
            s.stop()
        except Exception as e:  # noqa: BLE001 - keep cleaning up
            log(f"stopping {s.name}: {e!r}")


# ------------------------------------------------------------------ setup
def rand_tag(n=5):
    return "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(n))


def register_users(port, n, tag, par=4):
    names = [f"bench.{tag}.{i}" for i in range(n)]

    def reg(u):
        st, _, text = http_call(port, "POST", "/register", {"username": u, "password": PASSWORD})
        if st != 200:
            raise BenchError(f"register {u}: HTTP {st} {text[:200]}")

    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, min(par, n))) as ex:
        list(ex.map(reg, names))
    log(f"registered {n} users in {time.monotonic() - t0:.1f} s")
    return names


def login_token(port, user):
    st, js, text = http_call(port, "POST", "/login", {"username": user, "password": PASSWORD})
    if st != 200 or not isinstance(js, dict) or "access_token" not in js:
        raise BenchError(f"login {user}: HTTP {st} {text[:200]}")
    return js["access_token"]


def check_get(port, path, token, want):
    st, _, text = http_call(port, "GET", path, token=token, timeout=30)
    if st != want:
        raise BenchError(f"GET {path}: HTTP {st} (want {want}) {text[:200]}")


# ------------------------------------------------------------------ scenarios
def run_scenarios(server, args, plan, users_file, token, get_path, prefix):
    """plan: list of scenario names. Returns result rows (one per wrk load)."""
    rows = []
    D, T, TO = args.duration, args.wrk_threads, args.wrk_timeout
    login = ["login", users_file]
    get = ["get", token, get_path]
    verify = ["get", token, "/verify"]
    specs = {  # scenario -> loads run at the same time: (label, connections, gatehouse.lua args)
        "register": [("register", 8, ["register", f"{prefix}r"])],
        "login": [("login", 8, login)],
        "me": [(get_path, 64, get)],
        "verify": [("/verify", 64, verify)],
        "mixed": [(get_path, 64, get), ("login", 4, login)],
        "verify-login4": [("/verify", 64, verify), ("login", 4, login)],
        "verify-login8": [("/verify", 64, verify), ("login", 8, login)],
    }
    warmed = set()
    for name in plan:
        loads = specs[name]
        pids = server.pids()
        if not pids:
            raise BenchError(f"{server.name} is not running before scenario {name}:\n{server.log_tail()}")
        wait_server_idle(pids)
        # warm up each GET path once (keep-alive connections, caches), not recorded
        for label, conns, sargs in loads:
            if sargs[0] == "get" and sargs[2] not in warmed and args.warmup > 0:
                p, cmd = start_wrk(server.port, conns, args.warmup, T, TO, sargs)
                collect_wrk(p, cmd, args.warmup, TO)
                warmed.add(sargs[2])
        quiet_before = wait_quiet(pids, args.max_other_cpu, args.quiet_wait)
        smp = Sampler(pids)
        smp.start()
        try:
            started = [(label, conns, *start_wrk(server.port, conns, D, T, TO, sargs))
                       for label, conns, sargs in loads]
            outs = [(label, conns, collect_wrk(p, cmd, D, TO)) for label, conns, p, cmd in started]
        finally:
            res = smp.finish()
        for label, conns, o in outs:
            row = {"scenario": name, "load": label, "conns": conns, **o, **res,
                   "other_cpu_pct_before": quiet_before}
            rows.append(row)
            log(f"{server.name:9s} {name:14s} {label:10s} c={conns:<3d} {o['rps']:>10.1f} req/s  "
                f"p50 {o['p50_ms']:.2f} ms  p99 {o['p99_ms']:.2f} ms  err {o['errors']}  "
                f"srvCPU {res['srv_cpu_pct']}%  peakRSS {res['peak_rss_mib']} MiB  other {res['other_cpu_pct']}%")
    return rows


def write_users_file(path, names):
    with open(path, "w") as f:
        for u in names:
            f.write(f"{u} {PASSWORD}\n")


def measure_server(server, args, plan, get_path, get_ok, tmp, label, cold_runs, cold_path, cold_max_wait):
    """Start server, idle RSS, users, scenarios, RSS after, stop; then cold starts."""
    out = {"ran": True, "cmd": server.cmd, "get_path": get_path}
    tag = rand_tag()
    server.start()
    pid = server.proc.pid
    time.sleep(2.0)
    pids = server.pids()
    out["idle_rss_mib_start"] = round(rss_kb(pids) / 1024, 2)
    out["processes"] = len(pids)
    log(f"{label}: idle RSS 2 s after start {out['idle_rss_mib_start']} MiB ({len(pids)} process(es))")
    names = register_users(server.port, args.users, tag)
    users_file = os.path.join(tmp, f"{label}-users.txt")
    write_users_file(users_file, names)
    token = login_token(server.port, names[0])
    check_get(server.port, get_path, token, get_ok)
    if label.startswith("gatehouse"):
        check_get(server.port, "/verify", token, 204)
    out["users"] = len(names)
    scen = [s for s in plan if s not in ("bcrypt", "coldstart")]
    out["scenarios"] = run_scenarios(server, args, scen, users_file, token, get_path, f"{label[:2]}{tag}")
    pids = server.pids()
    if scen:
        wait_server_idle(pids)
        time.sleep(2.0)
    out["idle_rss_mib_after"] = round(rss_kb(pids) / 1024, 2)
    out["vmhwm_mib"] = round(sum(status_kb(p, "VmHWM") for p in pids) / 1024, 2)
    out["peak_rss_mib"] = max([r["peak_rss_mib"] for r in out["scenarios"]] + [out["idle_rss_mib_after"]])
    out["server_cpu_s_total"] = server.stop()
    log(f"{label}: idle RSS after runs {out['idle_rss_mib_after']} MiB, VmHWM {out['vmhwm_mib']} MiB")
    if "coldstart" in plan and cold_runs > 0:
        times = []
        for i in range(cold_runs):
            t, polls = cold_start(server, cold_path, token, cold_max_wait)
            times.append(t)
            log(f"{label}: cold start {i + 1}/{cold_runs}: {t * 1000:.1f} ms ({polls} polls)")
        out["cold_start"] = {"path": cold_path, "runs_ms": [round(t * 1000, 2) for t in times],
                             "median_ms": round(statistics.median(times) * 1000, 2)}
    return out


# ------------------------------------------------------------------ bcrypt
BCRYPT_CODE = r"""
import json, statistics, sys, time, warnings
rounds, n = int(sys.argv[1]), int(sys.argv[2])
pw = "Bench-bcrypt-timing-1!"
out = {"rounds": rounds, "n": n}
try:
    import passlib, bcrypt
    from passlib.context import CryptContext
    ctx = CryptContext(schemes=["bcrypt"], deprecated="auto", bcrypt__rounds=rounds)
    h = ctx.hash(pw)
    ts = []
    for _ in range(n):
        t = time.perf_counter(); ok = ctx.verify(pw, h); ts.append(time.perf_counter() - t)
        assert ok
    out["passlib"] = {"version": passlib.__version__, "bcrypt": getattr(bcrypt, "__version__", "?"),
                      "verify_ms": [round(1e3 * x, 2) for x in ts],
                      "verify_ms_median": round(1e3 * statistics.median(ts), 2)}
except Exception as e:
    out["passlib_error"] = repr(e)
try:
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt
    h = crypt.crypt(pw, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1 << rounds))
    ts = []
    for _ in range(n):
        t = time.perf_counter(); ok = crypt.crypt(pw, h) == h; ts.append(time.perf_counter() - t)
        assert ok
    out["libxcrypt"] = {"verify_ms": [round(1e3 * x, 2) for x in ts],
                        "verify_ms_median": round(1e3 * statistics.median(ts), 2)}
except Exception as e:
    out["libxcrypt_error"] = repr(e)
print(json.dumps(out))
"""


def cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def bcrypt_timing(rounds, n):
    p = subprocess.run([PY, "-c", BCRYPT_CODE, str(rounds), str(n)], capture_output=True, text=True,
                       timeout=60 + n * 2 * (2 ** max(0, rounds - 12)) * 5, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        raise BenchError(f"bcrypt timing failed: {p.stderr[-1000:]}")
    r = json.loads(p.stdout.strip().splitlines()[-1])
    src = "passlib" if "passlib" in r else ("libxcrypt" if "libxcrypt" in r else None)
    r["cores"] = cores()
    for k in ("passlib", "libxcrypt"):
        if k in r:
            r[k]["login_bound_per_s"] = round(cores() / (r[k]["verify_ms_median"] / 1000), 2)
    if src:  # the bound the goal uses: passlib (as the brief and the peer's numbers), else libxcrypt
        r["bound_source"] = src
        r["login_bound_per_s"] = r[src]["login_bound_per_s"]
    return r


# ------------------------------------------------------------------ peer
def peer_deps_ok():
    if not os.path.exists("/usr/lib/postgresql/15/bin/initdb"):
        return False, "PostgreSQL 15 is not installed"
    p = subprocess.run([PY, "-c", "import fastapi, uvicorn, sqlmodel, sqlalchemy, asyncpg, jose, passlib, bcrypt"],
                       capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        return False, "the peer's Python packages are missing: " + p.stderr.strip().splitlines()[-1]
    return True, ""


def ensure_peer_deps(args):
    ok, why = peer_deps_ok()
    if ok:
        return True, ""
    if args.no_install or os.geteuid() != 0:
        return False, why + " (run ../shared/bench/install-deps.sh as root)"
    log(f"{why}; running {INSTALL_DEPS} (Debian packages)")
    try:
        p = subprocess.run([INSTALL_DEPS], capture_output=True, text=True, timeout=1200, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return False, "install-deps.sh timed out"
    if p.returncode != 0:
        return False, "install-deps.sh failed: " + p.stderr[-500:]
    return peer_deps_ok()


def pg_cmd(*a, timeout=180):
    p = subprocess.run([PG_SH, *a], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        raise BenchError(f"pg.sh {' '.join(a)} failed ({p.returncode}): {p.stderr[-1500:]}")
    return p.stdout


def run_peer(args, plan, tmp, state):
    ok, why = ensure_peer_deps(args)
    if not ok:
        log(f"peer skipped: {why}")
        return {"ran": False, "reason": why}
    if os.path.exists(args.pg_dir):
        log(f"removing a stale cluster at {args.pg_dir}")
        pg_cmd("destroy", args.pg_dir)
    wait_port_free(args.pg_port)
    global PG_DATA
    state["pg_started"] = True
    out = pg_cmd("start", args.pg_dir, str(args.pg_port))
    PG_DATA = os.path.join(args.pg_dir, "data")
    url = None
    for ln in out.splitlines():
        if ln.startswith("DATABASE_URL="):
            url = ln.split("=", 1)[1].strip()
    if not url:
        raise BenchError(f"pg.sh start printed no DATABASE_URL: {out!r}")
    log(f"PostgreSQL up: {url}")
    env = dict(os.environ, DATABASE_URL=url, INIT_DB="0")
    # The peer's table, once (what start.sh does for INIT_DB=1), so every start is a plain uvicorn start.
    p = subprocess.run([PY, "-c", "import asyncio, main; asyncio.run(main.init_db())"], cwd=PEER_DIR, env=env,
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        raise BenchError(f"creating the peer's table failed: {p.stderr[-1500:]}")
    server = Server("peer", [PEER_START, str(args.port_peer)], env, args.port_peer, tmp, ready_path="/docs")
    state["servers"].append(server)
    res = measure_server(server, args, [s for s in plan if s in PEER_SCENARIOS], "/users/me", 200, tmp,
                         "peer", args.cold_runs_peer, "/users/me", 60.0)
    res["database_url"] = url
    res["cmd_str"] = f"INIT_DB=0 {os.path.relpath(PEER_START, ROOT)} {args.port_peer}"
    if args.gh_database == "pg":
        state["pg_url"] = url  # gatehouse runs on the same cluster next; destroyed at the end
        return res
    pg_cmd("destroy", args.pg_dir)
    state["pg_started"] = False
    PG_DATA = None
    return res


# ------------------------------------------------------------------ gatehouse
def revoke_sessions(binp, env, db_url, n):
    """Puts n revoked sessions in gatehouse's revocations table before it starts, as n logouts
    within the last access-token lifetime would: the server loads them into its in-memory set."""
    path = db_url[len("sqlite:///"):] if db_url.startswith("sqlite:///") else None
    if path is None:
        raise BenchError("--revoked needs the SQLite database (--gh-database sqlite)")
    r = subprocess.run([binp, "migrate", "--database-url", db_url], env=env, capture_output=True,
                       text=True, timeout=60)
    if r.returncode != 0:
        raise BenchError(f"gatehouse migrate failed: {r.stderr.strip()}")
    until = int(time.time()) + 86400
    con = sqlite3.connect(path)
    with con:
        con.executemany("INSERT INTO revocations (session_id, until) VALUES (?, ?)",
                        ((f"bench-revoked-{i:06d}-{rand_tag(8)}", until) for i in range(n)))
    con.close()
    log(f"gatehouse: {n} revoked sessions in the database before start")


def run_gatehouse(args, plan, tmp, state, revoked=0, label="gatehouse"):
    binp = args.gatehouse_bin if os.path.isabs(args.gatehouse_bin) else os.path.join(ROOT, args.gatehouse_bin)
    if not os.access(binp, os.X_OK):
        raise BenchError(f"no executable {binp}; build it with: make build/gatehouse")
    dbdir = os.path.join(tmp, f"{label}-db")
    os.makedirs(dbdir)
    db_url = f"sqlite:///{os.path.join(dbdir, 'gh.db')}"  # sqlite:////abs/path
    if args.gh_database == "pg":
        if not state.get("pg_url"):
            raise BenchError("--gh-database pg needs the peer's PostgreSQL cluster (run without --no-peer)")
        db_url = state["pg_url"]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "PORT", "HOST")}
    env.update({"SECRET_KEY": GH_SECRET, "BCRYPT_ROUNDS": str(args.bcrypt_rounds)})
    # Every load client is one loopback address, which throttling would
    # take for one attacker (4 hashing jobs, 20 registrations an hour); the
    # peer app has no throttling either. --gh-env can set them back.
    env.update(NO_THROTTLE)
    for kv in args.gh_env:
        k, _, v = kv.partition("=")
        env[k] = v
    if args.alg != "HS256":
        # A fresh signing key of the algorithm, made by gatehouse itself.
        key = os.path.join(tmp, f"{label}-{args.alg}.pem")
        subprocess.run([binp, "keys", "generate", "--alg", args.alg, "--out", key], check=True,
                       stdout=subprocess.DEVNULL, env=env)
        env.update({"ALGORITHM": args.alg, "JWT_PRIVATE_KEY_FILE": key})
    if revoked:
        revoke_sessions(binp, env, db_url, revoked)
    cmd = [binp, "--port", str(args.port_gh), "--host", HOST, "--database-url", db_url]
    server = Server("gatehouse", cmd, env, args.port_gh, tmp, ready_path="/healthz")
    state["servers"].append(server)
    res = measure_server(server, args, plan, "/me", 200, tmp, label, args.cold_runs, "/verify", 10.0)
    res["env"] = {k: env[k] for k in ("BCRYPT_ROUNDS", "WORKERS", "HTTP_THREADS", "QUEUE_SIZE",
                                      "ALGORITHM") if k in env}
    if revoked:
        res["revoked"] = revoked
    res["database_url"] = db_url
    return res


# ------------------------------------------------------------------ report
def find(rows, scenario, load):
    for r in rows or []:
        if r["scenario"] == scenario and r["load"] == load:
            return r
    return None


def goal_rows(R):
    gh = R.get("gatehouse") or {}
    peer = R.get("peer") or {}
    ghs, ps = gh.get("scenarios"), peer.get("scenarios")
    rows = []

    def add(goal, target, measured, ok):
        rows.append({"goal": goal, "target": target, "measured": measured, "ok": ok})

    peer_get = find(ps, "me", "/users/me")
    v = find(ghs, "verify", "/verify")
    m = find(ghs, "me", "/me")
    for r, name, key in ((v, "/verify", "verify_vs_peer_get"), (m, "/me", "me_vs_peer_get")):
        if r and peer_get and peer_get["rps"] > 0:
            x = r["rps"] / peer_get["rps"]
            add(f"{name} req/s ÷ peer GET /users/me req/s", f"≥ {GOALS[key]:.0f}×",
                f"{x:.1f}× ({r['rps']:.0f} / {peer_get['rps']:.1f})", x >= GOALS[key])
        else:
            add(f"{name} req/s ÷ peer GET /users/me req/s", f"≥ {GOALS[key]:.0f}×",
                "n/a (peer not run)" if not peer_get else "n/a", None)
    for r, name in ((v, "/verify"), (m, "/me")):
        if r:
            add(f"p99 of {name} at 64 conns", f"≤ {GOALS['p99_get_ms']:.0f} ms", f"{r['p99_ms']:.2f} ms",
                r["p99_ms"] <= GOALS["p99_get_ms"])
    for sc in ("verify-login4", "verify-login8"):
        r = find(ghs, sc, "/verify")
        lg = find(ghs, sc, "login")
        if r:
            n = sc[-1]
            add(f"p99 of /verify (64 conns) while {n} clients log in", f"≤ {GOALS['p99_verify_login_ms']:.0f} ms",
                f"{r['p99_ms']:.2f} ms (logins {lg['rps']:.2f}/s)" if lg else f"{r['p99_ms']:.2f} ms",
                r["p99_ms"] <= GOALS["p99_verify_login_ms"])
    b = R.get("bcrypt") or {}
    lg = find(ghs, "login", "login")
    bound = b.get("gatehouse_login_bound_per_s")
    if lg and bound:
        want = GOALS["login_frac_of_bound"] * bound
        gb = b.get("at_gh") or b.get("at12") or {}
        other = ""
        if gb.get("bound_source") == "passlib" and "libxcrypt" in gb:
            xb = gb["libxcrypt"]["login_bound_per_s"]
            other = f"; {100 * lg['rps'] / xb:.0f}% of the libxcrypt bound {xb:.2f}/s"
        add("logins/s (8 conns) vs 95% of cores / t_bcrypt", f"≥ {want:.2f}/s",
            f"{lg['rps']:.2f}/s = {100 * lg['rps'] / bound:.0f}% of {bound:.2f}/s{other}", lg["rps"] >= want)
    if "idle_rss_mib_start" in gh:
        add("idle RSS (VmRSS 2 s after start)", f"≤ {GOALS['idle_rss_mib']:.0f} MiB",
            f"{gh['idle_rss_mib_start']:.2f} MiB (after runs {gh.get('idle_rss_mib_after', 0):.2f} MiB)",
            gh["idle_rss_mib_start"] <= GOALS["idle_rss_mib"])
    cs = gh.get("cold_start")
    if cs:
        add("cold start: exec → first 204 on GET /verify (median)", f"≤ {GOALS['cold_start_ms']:.0f} ms",
            f"{cs['median_ms']:.1f} ms (n={len(cs['runs_ms'])})", cs["median_ms"] <= GOALS["cold_start_ms"])
    rv = R.get("gatehouse_revoked") or {}
    vr = find(rv.get("scenarios"), "verify", "/verify")
    if v and vr:
        n = rv.get("revoked", 0)
        rps_ratio, p99_ratio = vr["rps"] / v["rps"], vr["p99_ms"] / v["p99_ms"]
        add(f"/verify with {n} revoked sessions in the set, vs none", "req/s and p99 within 10%",
            f"{vr['rps']:.0f} req/s ({100 * (rps_ratio - 1):+.1f}%), p99 {vr['p99_ms']:.2f} ms "
            f"({100 * (p99_ratio - 1):+.1f}%)", rps_ratio >= 0.9 and p99_ratio <= 1.1)
    if ghs:
        errs = sum(r["errors"] for r in ghs) + sum(r["errors"] for r in rv.get("scenarios") or [])
        add("errors in gatehouse scenarios", "0", str(errs), errs == 0)
    return rows


def fmt_ok(ok):
    return "—" if ok is None else ("yes" if ok else "**NO**")


def markdown(R):
    L = []
    meta = R["meta"]
    L.append(f"# gatehouse benchmark — {meta['date']}")
    L.append("")
    if not meta["recordable"]:
        L.append(f"**Not a recordable run: {'; '.join(meta['not_recordable_because'])}.**")
        L.append("")
    L.append(f"- machine: {meta['cpu']}, {meta['cores']} cores, {meta['mem_gib']} GiB, kernel {meta['kernel']}; "
             f"load average at start {meta['loadavg']}")
    L.append(f"- gatehouse: {meta['gatehouse_rev']}, BCRYPT_ROUNDS={meta['bcrypt_rounds']}, "
             f"env {json.dumps((R.get('gatehouse') or {}).get('env', {}))}, database "
             f"{'PostgreSQL (the peer cluster)' if str((R.get('gatehouse') or {}).get('database_url', '')).startswith('postgres') else 'SQLite'}")
    L.append(f"- load: {meta['wrk']}, {meta['wrk_threads']} threads per wrk, {meta['duration']} s per scenario, "
             f"--timeout {meta['wrk_timeout']} s, {meta['warmup']} s warm-up per GET path, {meta['users']} users")
    peer = R.get("peer") or {}
    if peer.get("ran"):
        L.append(f"- peer: `{peer.get('cmd_str')}` (1 worker) on PostgreSQL 15 from ../shared/bench/pg.sh")
    else:
        L.append(f"- peer: not run — {peer.get('reason', 'not requested')}; gatehouse alone")
    L.append(f"- command: `{meta['command']}`")
    L.append("")
    L.append("## Scenarios")
    L.append("")
    L.append("| server | scenario | load | conns | req/s | p50 ms | p99 ms | max ms | errors | srv CPU % | "
             "peak RSS MiB | other CPU % |")
    L.append("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for who in ("peer", "gatehouse", "gatehouse_revoked"):
        for r in (R.get(who) or {}).get("scenarios") or []:
            name = who if who != "gatehouse_revoked" else f"gatehouse, {R[who].get('revoked', 0)} revoked"
            L.append(f"| {name} | {r['scenario']} | {r['load']} | {r['conns']} | {r['rps']:.1f} | {r['p50_ms']:.2f} | "
                     f"{r['p99_ms']:.2f} | {r['max_ms']:.2f} | {r['errors']} | {r['srv_cpu_pct']:.0f} | "
                     f"{r['peak_rss_mib']:.1f} | {r['other_cpu_pct']:.0f} |")
    L.append("")
    L.append("srv CPU: the server's processes, 100 = one core. other CPU: processes that are neither the server, "
             "this run's PostgreSQL, wrk nor this driver (a busy machine shows here).")
    disturbed = sorted({f"{who} {r['scenario']} ({r['other_cpu_pct']:.0f}%)"
                        for who in ("peer", "gatehouse") for r in (R.get(who) or {}).get("scenarios") or []
                        if r["other_cpu_pct"] >= meta["max_other_cpu"]})
    if disturbed:
        L.append("")
        L.append(f"**Disturbed by unrelated load (other CPU ≥ {meta['max_other_cpu']:.0f}%):** "
                 + ", ".join(disturbed) + ". Re-run those on a quiet machine before quoting them.")
    L.append("")
    L.append("## Goals")
    L.append("")
    L.append("| goal | target | measured | met |")
    L.append("|---|---|---|---|")
    for g in R.get("goals", []):
        L.append(f"| {g['goal']} | {g['target']} | {g['measured']} | {fmt_ok(g['ok'])} |")
    L.append("")
    L.append("## Other measures")
    L.append("")
    L.append("| measure | gatehouse | peer |")
    L.append("|---|---:|---:|")
    gh = R.get("gatehouse") or {}

    def cell(d, key, fmt="{:.2f}"):
        v = d.get(key)
        return fmt.format(v) if isinstance(v, (int, float)) else "—"

    L.append(f"| idle RSS 2 s after start, MiB | {cell(gh, 'idle_rss_mib_start')} | {cell(peer, 'idle_rss_mib_start')} |")
    L.append(f"| idle RSS after the runs, MiB | {cell(gh, 'idle_rss_mib_after')} | {cell(peer, 'idle_rss_mib_after')} |")
    L.append(f"| peak RSS during scenarios, MiB | {cell(gh, 'peak_rss_mib')} | {cell(peer, 'peak_rss_mib')} |")
    L.append(f"| server CPU over its whole run, s | {cell(gh, 'server_cpu_s_total', '{:.1f}')} | "
             f"{cell(peer, 'server_cpu_s_total', '{:.1f}')} |")

    def cold(d):
        c = d.get("cold_start")
        return f"{c['median_ms']:.1f} ms (GET {c['path']}, n={len(c['runs_ms'])})" if c else "—"

    L.append(f"| cold start, exec → first 2xx, median | {cold(gh)} | {cold(peer)} |")
    b = R.get("bcrypt") or {}
    for key, label in (("at12", "bcrypt cost 12 verify, median"), ("at_gh", f"bcrypt cost {meta['bcrypt_rounds']} verify, median")):
        d = b.get(key)
        if not d:
            continue
        parts = []
        for k, who in (("passlib", "passlib (peer)"), ("libxcrypt", "libxcrypt (gatehouse)")):
            if k in d:
                parts.append(f"{who} {d[k]['verify_ms_median']:.1f} ms → {d['cores']} cores / t = "
                             f"{d[k]['login_bound_per_s']:.2f} logins/s")
        L.append(f"| {label} (n={d['n']}) | {'; '.join(parts)} | |")
    L.append("")
    return "\n".join(L)


def machine_meta(args):
    cpu = "?"
    try:
        for ln in open("/proc/cpuinfo"):
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for ln in open("/proc/meminfo"):
            if ln.startswith("MemTotal:"):
                mem = int(ln.split()[1])
    except OSError:
        pass
    try:
        wrkv = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10).stdout.splitlines()[0]
        wrkv = " ".join(wrkv.split()[:2])
    except (OSError, IndexError, subprocess.TimeoutExpired):
        wrkv = "wrk ?"
    try:
        rev = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True,
                             text=True, timeout=10).stdout.strip() or "?"
    except (OSError, subprocess.TimeoutExpired):
        rev = "?"
    why = []
    if args.bcrypt_rounds != 12:
        why.append(f"BCRYPT_ROUNDS={args.bcrypt_rounds}, not 12")
    if args.duration < 10:
        why.append(f"{args.duration} s per scenario")
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu, "cores": cores(), "mem_gib": round(mem / 1048576, 1), "kernel": platform.release(),
        "loadavg": " ".join(open("/proc/loadavg").read().split()[:3]),
        "python": platform.python_version(), "wrk": wrkv, "gatehouse_rev": rev,
        "bcrypt_rounds": args.bcrypt_rounds, "duration": args.duration, "wrk_threads": args.wrk_threads,
        "wrk_timeout": args.wrk_timeout, "warmup": args.warmup, "users": args.users,
        "max_other_cpu": args.max_other_cpu,
        "command": " ".join([PY, "bench/run.py", *sys.argv[1:]]),
        "recordable": not why, "not_recordable_because": why,
    }


# ------------------------------------------------------------------ main
def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", required=True, help="write the full results as JSON here")
    ap.add_argument("--markdown", required=True, help="write the markdown report here")
    ap.add_argument("--duration", type=int, default=15, help="seconds per scenario (default 15)")
    ap.add_argument("--scenarios", default=",".join(ALL_SCENARIOS),
                    help="comma list of " + ",".join(ALL_SCENARIOS) + " (default: all)")
    ap.add_argument("--no-peer", action="store_true", help="benchmark gatehouse alone")
    ap.add_argument("--port-peer", type=int, default=8001)
    ap.add_argument("--port-gh", type=int, default=8002)
    ap.add_argument("--gatehouse-bin", default="build/gatehouse", help="relative to the project root")
    ap.add_argument("--bcrypt-rounds", type=int, default=12,
                    help="gatehouse BCRYPT_ROUNDS (default 12; anything else is only a smoke test)")
    ap.add_argument("--gh-env", action="append", default=[], metavar="KEY=VALUE",
                    help="extra environment for gatehouse, e.g. WORKERS=2 (repeatable)")
    ap.add_argument("--users", type=int, default=32, help="pre-registered users for login (default 32)")
    ap.add_argument("--wrk-threads", type=int, default=2)
    ap.add_argument("--wrk-timeout", type=int, default=30, help="wrk --timeout seconds (default 30)")
    ap.add_argument("--warmup", type=int, default=3, help="seconds of unrecorded GET load first (default 3)")
    ap.add_argument("--cold-runs", type=int, default=5, help="gatehouse cold starts (median; default 5)")
    ap.add_argument("--cold-runs-peer", type=int, default=3, help="peer cold starts (median; default 3)")
    ap.add_argument("--bcrypt-samples", type=int, default=5)
    ap.add_argument("--max-other-cpu", type=float, default=25.0,
                    help="before each scenario wait until unrelated processes use less CPU than this (%% of a core)")
    ap.add_argument("--quiet-wait", type=float, default=60.0, help="at most this many seconds of that wait")
    ap.add_argument("--pg-dir", default="/tmp/gh-bench-pg")
    ap.add_argument("--pg-port", type=int, default=55432)
    ap.add_argument("--no-install", action="store_true", help="never run ../shared/bench/install-deps.sh")
    ap.add_argument("--revoked", type=int, default=0, metavar="N",
                    help="after gatehouse's scenarios, measure verify again on a second gatehouse "
                         "started with N revoked sessions in its revocation set (SQLite only)")
    ap.add_argument("--gh-database", choices=("sqlite", "pg"), default="sqlite",
                    help="gatehouse's database: a temp SQLite file (default) or the peer's PostgreSQL "
                         "cluster (its own tables beside the peer's \"user\"; needs ../shared)")
    ap.add_argument("--alg", choices=("HS256", "EdDSA", "ES256", "RS256"), default="HS256",
                    help="gatehouse's token algorithm (default HS256); the others sign with a key "
                         "made by gatehouse keys generate. Run once per algorithm to compare /verify")
    a = ap.parse_args(argv)
    plan = [s.strip() for s in a.scenarios.split(",") if s.strip()]
    bad = [s for s in plan if s not in ALL_SCENARIOS]
    if bad:
        ap.error(f"unknown scenario(s) {bad}; choose from {ALL_SCENARIOS}")
    a.plan = [s for s in ALL_SCENARIOS if s in plan]  # canonical order
    if not 1 <= a.duration <= 600:
        ap.error("--duration must be 1..600")
    if not 4 <= a.bcrypt_rounds <= 16:
        ap.error("--bcrypt-rounds must be 4..16")
    if a.users < 1 or a.users > 1000:
        ap.error("--users must be 1..1000")
    a.pg_dir = os.path.abspath(a.pg_dir)
    if a.pg_dir.rstrip("/") in ("", "/tmp", "/var/tmp", "/root", "/home") or a.pg_dir.count("/") < 2:
        ap.error("--pg-dir must be a dedicated directory such as /tmp/gh-bench-pg")
    return a


def main(argv):
    args = parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _sigterm)
    signal.signal(signal.SIGHUP, _sigterm)
    os.chdir(ROOT)
    R = {"meta": machine_meta(args), "plan": args.plan}
    state = {"servers": [], "pg_started": False}
    tmp = tempfile.mkdtemp(prefix="gh-bench-")
    os.chmod(tmp, 0o755)
    rc = 0
    try:
        if "bcrypt" in args.plan or "login" in args.plan:
            log(f"bcrypt timing at cost 12 ({args.bcrypt_samples} verifies)")
            b = {"at12": bcrypt_timing(12, args.bcrypt_samples)}
            if args.bcrypt_rounds != 12:
                b["at_gh"] = bcrypt_timing(args.bcrypt_rounds, args.bcrypt_samples)
            gb = b.get("at_gh", b["at12"])
            b["gatehouse_login_bound_per_s"] = gb.get("login_bound_per_s")
            R["bcrypt"] = b
            log(f"bcrypt: {json.dumps({k: v for k, v in b['at12'].items() if k != 'n'})}")
        if args.plan == ["bcrypt"]:
            R["peer"] = {"ran": False, "reason": "only bcrypt selected"}
            R["gatehouse"] = {"ran": False, "reason": "only bcrypt selected"}
            args.plan = []
        if not args.plan:
            pass
        elif args.no_peer:
            R["peer"] = {"ran": False, "reason": "--no-peer"}
        elif not os.path.isdir(SHARED):
            R["peer"] = {"ran": False, "reason": f"{SHARED} is absent"}
            log("no ../shared beside the project: benchmarking gatehouse alone")
        else:
            R["peer"] = run_peer(args, args.plan, tmp, state)
        if args.plan:
            R["gatehouse"] = run_gatehouse(args, args.plan, tmp, state)
        if args.revoked and "verify" in args.plan:
            # The same /verify load on a second gatehouse whose revocation set holds N sessions.
            R["gatehouse_revoked"] = run_gatehouse(args, ["verify"], tmp, state, revoked=args.revoked,
                                                   label="gatehouse-revoked")
    except KeyboardInterrupt as e:
        log(f"interrupted ({str(e) or 'Ctrl-C'}); stopping everything")
        R["error"] = "interrupted"
        rc = 130
    except BenchError as e:
        log(f"error: {e}")
        R["error"] = str(e)
        rc = 1
    finally:
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)  # cleanup must not be cut short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            stop_everything(state["servers"])
            if state["pg_started"] or (not args.no_peer and os.path.exists(os.path.join(args.pg_dir, "data"))):
                try:
                    pg_cmd("destroy", args.pg_dir)
                except Exception as e:  # noqa: BLE001
                    log(f"destroying {args.pg_dir}: {e!r}")
            if rc == 0:
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                log(f"server logs kept in {tmp}")
        finally:
            signal.signal(signal.SIGINT, old)
    R["goals"] = goal_rows(R)
    md = markdown(R)
    with open(args.json, "w") as f:
        json.dump(R, f, indent=1)
    with open(args.markdown, "w") as f:
        f.write(md + "\n")
    print(md)
    log(f"wrote {args.json} and {args.markdown}")
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
