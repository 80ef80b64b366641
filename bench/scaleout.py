#!/usr/bin/python3
"""Scale-out, in one run: one gatehouse behind nginx against two behind the same nginx, one PostgreSQL.

    make build/gatehouse
    /usr/bin/python3 bench/scaleout.py [--duration 15] [--warmup 3] [--conns 64] [--rounds 2]
                                       [--tokens 10000] [--no-direct] [--gh-env K=V ...]
                                       [--json /tmp/gh-scaleout.json] [--markdown /tmp/gh-scaleout.md]

One throwaway PostgreSQL cluster (scripts/pg-test.sh, loopback, fsync off) holds the database of
every gatehouse started here. Each instance has the same settings (the defaults plus --gh-env) and
its own application_name in DATABASE_URL, so pg_stat_activity tells its connections apart. Debian's
nginx (/usr/sbin/nginx, its own prefix and configuration in the run's temp directory) proxies
/verify, /me and /healthz to an upstream with keep-alive connections; nothing else is in its path
(no access log, no auth_request).

  A  one gatehouse behind nginx
  B  two gatehouses behind the same nginx configuration (the upstream names both; round-robin)
  direct (unless --no-direct), in A's setup: wrk straight at the one instance, so the difference
     to A is what nginx costs on this machine

Every round runs A (with direct) and then B, for --rounds rounds; each config starts fresh
processes. The loads, each after an unrecorded warm-up, at --conns connections with wrk using one
thread per CPU (the whole machine):
  verify-1   GET /verify with one token (a user's page loads)
  verify-N   GET /verify round-robin over N distinct valid tokens (--tokens; minted as
             bench/fastpath.py does; 0 leaves this load out)
  me         GET /me with one token: a database read per request
For each: req/s, p50/p99, errors, CPU % of each gatehouse, of nginx, of PostgreSQL (all its
processes) and of wrk, CPU microseconds per request, each gatehouse's peak RSS and its share of the
requests (its /metrics), and what each instance asks of the database: the connections it holds in
pg_stat_activity (one look mid-load, by state), the peak of its pool's in-use gauge (sampled every
0.1 s) and the mean wait of its database queue (gatehouse_queue_wait_seconds, queue "db").
Stdlib only; the process, wrk and sampling helpers are bench/run.py's. Everything listens on
127.0.0.1; only the processes started here are stopped, and the cluster is deleted at the end.
"""
import argparse
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fastpath  # noqa: E402  (token minting)
import run  # noqa: E402  (the harness's process, wrk and sampling helpers)

NGINX = "/usr/sbin/nginx"
PG_TEST = os.path.join(run.ROOT, "scripts", "pg-test.sh")
APP_PREFIX = "gatehouse-bench-"  # + instance number: the application_name of its connections


def free_ports(n):
    """n distinct ports that nothing listens on right now."""
    socks, ports = [], []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind((run.HOST, 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


# ------------------------------------------------------------------ PostgreSQL
def pg(*a, timeout=180):
    p = subprocess.run([PG_TEST, *a], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if p.returncode != 0:
        raise run.BenchError(f"pg-test.sh {' '.join(a[:2])} failed ({p.returncode}): {p.stderr[-1500:]}")
    return p.stdout


def pg_start(pgdir):
    out = pg("start", pgdir)
    url = next((ln.split("=", 1)[1].strip() for ln in out.splitlines() if ln.startswith("DATABASE_URL=")), None)
    if not url:
        raise run.BenchError(f"pg-test.sh start printed no DATABASE_URL: {out!r}")
    run.PG_DATA = os.path.join(pgdir, "data")  # run.pg_ticks() then counts this cluster's CPU
    return url


def pg_connections(pgdir):
    """{application_name: {state: count}} of the connections to database gatehouse, ours only."""
    out = pg("psql", pgdir, "-At", "-F", "|", "-c",
             "SELECT application_name, coalesce(state, '?'), count(*) FROM pg_stat_activity "
             f"WHERE datname = 'gatehouse' AND application_name LIKE '{APP_PREFIX}%' GROUP BY 1, 2",
             timeout=30)
    res = {}
    for ln in out.splitlines():
        parts = ln.split("|")
        if len(parts) == 3 and parts[2].isdigit():
            res.setdefault(parts[0], {})[parts[1]] = int(parts[2])
    return res


# ------------------------------------------------------------------ gatehouse /metrics
_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def scrape(port):
    """gatehouse's /metrics as {(name, frozenset(labels)): value}."""
    st, _, text = run.http_call(port, "GET", "/metrics", timeout=10)
    if st != 200:
        raise run.BenchError(f"GET /metrics on port {port}: HTTP {st} (is METRICS=0 set?)")
    out = {}
    for ln in text.splitlines():
        m = _SAMPLE.match(ln)
        if m and not ln.startswith("#"):
            try:
                out[(m.group(1), frozenset(_LABEL.findall(m.group(2) or "")))] = float(m.group(3))
            except ValueError:
                pass
    return out


def metric_sum(snap, name, **want):
    return sum(v for (n, labels), v in snap.items()
               if n == name and all((k, w) in labels for k, w in want.items()))


class PoolPoller(threading.Thread):
    """Peak of each instance's gatehouse_db_connections{state="in_use"}, every `interval` s."""

    def __init__(self, ports, interval=0.1):
        super().__init__(daemon=True)
        self.ports, self.interval = ports, interval
        self.peak = {p: 0 for p in ports}
        self.size = {p: 0 for p in ports}
        self.samples = 0
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            for p in self.ports:
                try:
                    s = scrape(p)
                except (OSError, run.BenchError):
                    continue
                used = metric_sum(s, "gatehouse_db_connections", state="in_use")
                self.peak[p] = max(self.peak[p], int(used))
                self.size[p] = int(used + metric_sum(s, "gatehouse_db_connections", state="idle"))
            self.samples += 1
            self._halt.wait(self.interval)

    def finish(self):
        self._halt.set()
        self.join(5)


# ------------------------------------------------------------------ nginx
def nginx_conf(d, listen_port, upstream_ports, workers, keepalive):
    user = "user root root;\n" if os.geteuid() == 0 else ""  # workers can read the temp directory
    servers = "".join(f"        server {run.HOST}:{p};\n" for p in upstream_ports)
    proxied = "".join(f"        location = {p} {{ proxy_pass http://gatehouse; }}\n"
                      for p in ("/verify", "/me", "/healthz"))
    return f"""{user}worker_processes {workers};
error_log {d}/error.log warn;
pid {d}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    keepalive_requests 1000000;
    upstream gatehouse {{
{servers}        keepalive {keepalive};
        keepalive_requests 1000000;
    }}
    server {{
        listen {run.HOST}:{listen_port};
        proxy_http_version 1.1;
        proxy_set_header Connection "";
{proxied}        location / {{ return 404; }}
    }}
}}
"""


def nginx_server(tmp, label, port, upstream_ports, args):
    d = os.path.join(tmp, f"nginx-{label}")
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        os.makedirs(os.path.join(d, "tmp", sub), exist_ok=True)
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write(nginx_conf(d, port, upstream_ports, args.nginx_workers, args.keepalive))
    cmd = [NGINX, "-p", d, "-e", os.path.join(d, "error.log"), "-c", conf]
    chk = subprocess.run(cmd + ["-t"], capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    if chk.returncode != 0:
        raise run.BenchError(f"nginx -t refused {conf}:\n{chk.stderr}")
    return run.Server(f"nginx-{label}", cmd + ["-g", "daemon off;"], dict(os.environ), port, tmp,
                      ready_path="/healthz")


# ------------------------------------------------------------------ one config
class Stack:
    """The gatehouse instances and nginx of one config, started and stopped together."""

    def __init__(self, label, ghs, nginx):
        self.label, self.ghs, self.nginx = label, ghs, nginx

    def start(self, state):
        for s in [*self.ghs, self.nginx]:
            state["servers"].append(s)
            s.start()

    def stop(self):
        for s in [self.nginx, *self.ghs]:
            s.stop()

    def pids(self):
        out = []
        for s in [*self.ghs, self.nginx]:
            p = s.pids()
            if not p:
                raise run.BenchError(f"{s.name} is not running:\n{s.log_tail()}")
            out += p
        return out


def measure(stack, port, sargs, args, pgdir):
    """Warm-up, quiet wait, then one recorded wrk load at `port` with every component sampled."""
    allp = stack.pids()
    run.wait_server_idle(allp)
    if args.warmup > 0:
        p, cmd = run.start_wrk(port, args.conns, args.warmup, args.wrk_threads, 30, sargs)
        run.collect_wrk(p, cmd, args.warmup, 30)
    other_before = run.wait_quiet(allp, args.max_other_cpu, args.quiet_wait)
    gh_ports = [g.port for g in stack.ghs]
    before = [scrape(p) for p in gh_ports]
    whole = run.Sampler(allp)
    per_gh = [run.Sampler(g.pids()) for g in stack.ghs]
    ngx = run.CpuWindow(stack.nginx.pids())
    poller = PoolPoller(gh_ports)
    snap = {}

    def look():
        try:
            snap.update(pg_connections(pgdir))
        except (OSError, subprocess.SubprocessError, run.BenchError) as e:
            run.log(f"pg_stat_activity: {e}")

    mid = threading.Timer(args.duration / 2, look)
    for t in (whole, *per_gh, poller, mid):
        t.start()
    try:
        p, cmd = run.start_wrk(port, args.conns, args.duration, args.wrk_threads, 30, sargs)
        o = run.collect_wrk(p, cmd, args.duration, 30)
    finally:
        mid.cancel()
        mid.join(35)
        poller.finish()
        res = whole.finish()
        gres = [s.finish() for s in per_gh]
        ngx_cpu = ngx.result()["srv_cpu_pct"]
    after = [scrape(p) for p in gh_ports]
    route = sargs[2]
    inst = []
    for i, (g, r, b, a) in enumerate(zip(stack.ghs, gres, before, after), 1):
        reqs = (metric_sum(a, "gatehouse_http_requests_total", route=route)
                - metric_sum(b, "gatehouse_http_requests_total", route=route))
        n = (metric_sum(a, "gatehouse_queue_wait_seconds_count", queue="db")
             - metric_sum(b, "gatehouse_queue_wait_seconds_count", queue="db"))
        w = (metric_sum(a, "gatehouse_queue_wait_seconds_sum", queue="db")
             - metric_sum(b, "gatehouse_queue_wait_seconds_sum", queue="db"))
        inst.append({"instance": i, "cpu_pct": r["srv_cpu_pct"], "peak_rss_mib": r["peak_rss_mib"],
                     "requests": int(reqs), "db_jobs": int(n),
                     "db_wait_mean_ms": round(1000 * w / n, 3) if n else None,
                     "pool_size": poller.size[g.port], "pool_in_use_peak": poller.peak[g.port],
                     "pg_connections": snap.get(f"{APP_PREFIX}{i}", {})})
    gh_cpu = sum(x["cpu_pct"] for x in inst)
    per_req = (lambda pct: round(pct / 100 * o["duration_s"] / o["requests"] * 1e6, 1)
               if o["requests"] else None)
    return {**o, **{k: res[k] for k in ("pg_cpu_pct", "wrk_cpu_pct", "driver_cpu_pct", "machine_cpu_pct",
                                        "other_cpu_pct")},
            "other_cpu_pct_before": other_before, "instances": inst, "gh_cpu_pct": round(gh_cpu, 1),
            "nginx_cpu_pct": ngx_cpu, "pool_samples": poller.samples,
            "cpu_us_per_req": {"gatehouse": per_req(gh_cpu), "nginx": per_req(ngx_cpu),
                               "postgres": per_req(res["pg_cpu_pct"]), "wrk": per_req(res["wrk_cpu_pct"])}}


# ------------------------------------------------------------------ report
def fmt_conns(c):
    return "+".join(f"{n} {s}" for s, n in sorted(c.items())) or "?"


def markdown(R):
    a = R["args"]
    m = R["meta"]
    L = [f"# gatehouse scale-out — {m['date']}", ""]
    if not m["recordable"]:
        L += [f"**Not a recordable run: {'; '.join(m['not_recordable_because'])}.**", ""]
    L += [f"- machine: {m['cpu']}, {m['cores']} cores, {m['mem_gib']} GiB, kernel {m['kernel']}; "
          f"load average at start {m['loadavg']}",
          f"- gatehouse {m['gatehouse_rev']}, each instance: {R['gh_settings']}; PostgreSQL "
          f"{R['pg_version']} from scripts/pg-test.sh (loopback, fsync off, max_connections 100)",
          f"- nginx {R['nginx_version']}: worker_processes {a['nginx_workers']}, upstream keepalive "
          f"{a['keepalive']}, access log off; plain proxy_pass of /verify and /me",
          f"- load: {m['wrk']}, -t {a['wrk_threads']} -c {a['conns']}, {a['duration']} s per load after "
          f"{a['warmup']} s warm-up, {a['rounds']} round(s), A then B in each",
          f"- command: `{m['command']}`", ""]
    L += ["| round | config | load | req/s | p50 ms | p99 ms | errors | gatehouse CPU % | nginx CPU % | "
          "postgres CPU % | wrk CPU % | CPU µs/req gh+nginx+pg | gatehouse peak RSS MiB | requests per instance | "
          "DB conns held (mid-load) | pool in use, peak | DB queue wait, mean ms | other CPU % |",
          "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|"]
    for r in R["rows"]:
        ins = r["instances"]
        tot = sum(x["requests"] for x in ins) or 1
        cu = r["cpu_us_per_req"]
        serve_us = sum(cu[k] or 0 for k in ("gatehouse", "nginx", "postgres"))

        cpu = " / ".join(f"{x['cpu_pct']:.0f}" for x in ins)
        rss = " / ".join(f"{x['peak_rss_mib']:.1f}" for x in ins)
        share = " / ".join(f"{100 * x['requests'] / tot:.0f}%" for x in ins)
        held = " / ".join(fmt_conns(x["pg_connections"]) for x in ins)
        pool = " / ".join(f"{x['pool_in_use_peak']} of {x['pool_size']}" for x in ins)
        waits = " / ".join(f"{x['db_wait_mean_ms']:.3f}" for x in ins if x["db_wait_mean_ms"] is not None)
        L.append(f"| {r['round']} | {r['config']} | {r['load']} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | "
                 f"{r['p99_ms']:.2f} | {r['errors']} | {cpu} | {r['nginx_cpu_pct']:.0f} | {r['pg_cpu_pct']:.0f} | "
                 f"{r['wrk_cpu_pct']:.0f} | {serve_us:.1f} | {rss} | {share} | {held} | {pool} | "
                 f"{waits or '—'} | {r['other_cpu_pct']:.0f} |")
    L += ["", "CPU %: 100 = one core; \"a / b\" = instance 1 / instance 2. CPU µs/req: the serving side's "
          "CPU time (gatehouse + nginx + PostgreSQL, not wrk) per answered request. DB conns held: that "
          "instance's rows in pg_stat_activity by state, one look mid-load (its pool and its LISTEN "
          "connection). Pool in use: peak of gatehouse_db_connections{state=\"in_use\"} sampled every "
          "0.1 s. Other CPU: processes that are none of these, nor wrk, nor this driver.", ""]
    L += ["## Medians over the rounds", "",
          "| load | direct req/s | A (1 behind nginx) req/s | B (2 behind nginx) req/s | B ÷ A | "
          "A ÷ direct | direct p99 ms | A p99 ms | B p99 ms |",
          "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for load in R["loads"]:
        med = {}
        for cfg in ("direct", "A", "B"):
            rows = [r for r in R["rows"] if r["config"] == cfg and r["load"] == load]
            if rows:
                med[cfg] = (statistics.median(r["rps"] for r in rows), statistics.median(r["p99_ms"] for r in rows))
        cell = (lambda c, i, f: f.format(med[c][i]) if c in med else "—")
        ratio = (lambda x, y: f"{100 * med[x][0] / med[y][0]:.0f}%" if x in med and y in med and med[y][0] else "—")
        L.append(f"| {load} | {cell('direct', 0, '{:,.0f}')} | {cell('A', 0, '{:,.0f}')} | "
                 f"{cell('B', 0, '{:,.0f}')} | {ratio('B', 'A')} | {ratio('A', 'direct')} | "
                 f"{cell('direct', 1, '{:.2f}')} | {cell('A', 1, '{:.2f}')} | {cell('B', 1, '{:.2f}')} |")
    held = [sum(x["pg_connections"].values()) for r in R["rows"] for x in r["instances"]]
    used = [x["pool_in_use_peak"] for r in R["rows"] for x in r["instances"]]
    size = [x["pool_size"] for r in R["rows"] for x in r["instances"]]
    if held:
        span = f"{min(held)}" if min(held) == max(held) else f"{min(held)}–{max(held)}"
        L += ["", f"- database connections per instance: {span} held in pg_stat_activity (DB_POOL_SIZE "
              f"{max(size)}, plus the connection that listens for revocations); at most {max(used)} of the "
              f"pool in use at once in any load (sampled every 0.1 s)"]
    disturbed = sorted({f"{r['config']} {r['load']} round {r['round']} ({r['other_cpu_pct']:.0f}%)"
                        for r in R["rows"] if r["other_cpu_pct"] >= a["max_other_cpu"]})
    if disturbed:
        L += ["", f"**Disturbed by unrelated load (other CPU ≥ {a['max_other_cpu']:.0f}%):** "
              + ", ".join(disturbed) + "."]
    L.append("")
    return "\n".join(L)


# ------------------------------------------------------------------ main
def parse_args(argv):
    cpus = os.cpu_count() or 1
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=15, help="seconds per recorded load (15)")
    ap.add_argument("--warmup", type=int, default=3, help="unrecorded seconds before each load (3)")
    ap.add_argument("--conns", type=int, default=64, help="wrk connections (64)")
    ap.add_argument("--rounds", type=int, default=2, help="rounds of A then B (2)")
    ap.add_argument("--wrk-threads", type=int, default=cpus, help=f"wrk threads (os.cpu_count() = {cpus})")
    ap.add_argument("--tokens", type=int, default=10000, help="distinct tokens of verify-N; 0: no verify-N (10000)")
    ap.add_argument("--no-direct", action="store_true", help="leave out the loads straight at one instance")
    ap.add_argument("--nginx-workers", default="auto", help="nginx worker_processes (auto = one per CPU)")
    ap.add_argument("--keepalive", type=int, default=64, help="idle upstream connections per nginx worker (64)")
    ap.add_argument("--gatehouse-bin", default=os.path.join(run.ROOT, "build", "gatehouse"))
    ap.add_argument("--gh-env", action="append", default=[], metavar="K=V",
                    help="environment of every gatehouse instance (repeatable), e.g. DB_POOL_SIZE=3")
    ap.add_argument("--max-other-cpu", type=float, default=25.0,
                    help="before each load wait until unrelated processes use less CPU than this (%% of a core)")
    ap.add_argument("--quiet-wait", type=float, default=60.0, help="at most this many seconds of that wait")
    ap.add_argument("--json", default="/tmp/gh-scaleout.json")
    ap.add_argument("--markdown", default="/tmp/gh-scaleout.md")
    a = ap.parse_args(argv)
    if not 1 <= a.duration <= 600 or a.warmup < 0 or a.rounds < 1 or a.conns < 1 or a.wrk_threads < 1:
        ap.error("need 1 <= --duration <= 600, --warmup >= 0, --rounds >= 1, --conns >= 1, --wrk-threads >= 1")
    return a


def gh_env(args):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "SECRET_KEY", "PORT", "HOST") and not k.startswith("PG")}
    env.update(run.NO_THROTTLE)
    env.update({"SECRET_KEY": run.GH_SECRET, "BCRYPT_ROUNDS": "4"})  # one login at start; no load hashes
    for kv in args.gh_env:
        k, _, v = kv.partition("=")
        env[k] = v
    return env


def tool_version(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (p.stdout + p.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def main(argv):
    args = parse_args(argv)
    for path, what in ((args.gatehouse_bin, "make build/gatehouse"), (NGINX, "apt-get install nginx"),
                       (PG_TEST, "the checkout's scripts/")):
        if not os.access(path, os.X_OK):
            raise run.BenchError(f"no executable {path} ({what})")
    if not shutil.which("wrk"):
        raise run.BenchError("wrk is not installed (apt-get install -y wrk)")
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, run._sigterm)
    signal.signal(signal.SIGHUP, run._sigterm)
    tmp = tempfile.mkdtemp(prefix="gh-scaleout-")
    os.chmod(tmp, 0o755)  # pg-test.sh's cluster owner must reach its directory inside
    pgdir = os.path.join(tmp, "pg")
    state = {"servers": []}
    meta_args = argparse.Namespace(**vars(args), bcrypt_rounds=4, wrk_timeout=30, users=1)
    meta = run.machine_meta(meta_args)
    meta["command"] = " ".join([run.PY, "bench/scaleout.py", *argv])
    meta["not_recordable_because"] = [f"{args.duration} s per load"] if args.duration < 10 else []
    meta["recordable"] = not meta["not_recordable_because"]
    R = {"meta": meta, "args": vars(args), "rows": [], "nginx_version": tool_version([NGINX, "-v"]).split("/")[-1]}
    rc = 0
    try:
        url = pg_start(pgdir)
        R["pg_version"] = pg("psql", pgdir, "-At", "-c", "SHOW server_version", timeout=30).strip()
        run.log(f"PostgreSQL {R['pg_version']} up in {pgdir}")
        env = gh_env(args)
        p_ngx, p1, p2 = free_ports(3)

        def instance(i, port):
            sep = "&" if "?" in url else "?"
            return run.Server(f"gatehouse-{i}", [args.gatehouse_bin, "--port", str(port), "--host", run.HOST,
                                                 "--database-url", f"{url}{sep}application_name={APP_PREFIX}{i}"],
                              env, port, tmp, ready_path="/readyz")

        gh1, gh2 = instance(1, p1), instance(2, p2)
        # One user and its token (the database is shared, the key fixed: valid on every instance).
        state["servers"].append(gh1)
        gh1.start()
        st, _, text = run.http_call(p1, "POST", "/register", {"username": "bench.scaleout", "password": run.PASSWORD})
        if st != 200:
            raise run.BenchError(f"register: HTTP {st} {text[:200]}")
        token = run.login_token(p1, "bench.scaleout")
        run.check_get(p1, "/me", token, 200)
        s = scrape(p1)
        R["gh_settings"] = (f"{int(metric_sum(s, 'gatehouse_queue_workers', queue='hash'))} hashing + "
                            f"{int(metric_sum(s, 'gatehouse_queue_workers', queue='db'))} database workers, "
                            f"DB_POOL_SIZE {int(metric_sum(s, 'gatehouse_db_connections'))}"
                            + (f" (--gh-env {' '.join(args.gh_env)})" if args.gh_env else ""))
        loads = [("verify-1", ["get", token, "/verify"])]
        if args.tokens > 0:
            if env.get("ALGORITHM", "HS256") != "HS256":
                raise run.BenchError("--tokens mints HS256 tokens with SECRET_KEY; use --tokens 0 with ALGORITHM")
            many = fastpath.mint_tokens(token, run.GH_SECRET, args.tokens)
            for t in (many[0], many[len(many) // 2], many[-1]):
                run.check_get(p1, "/verify", t, 204)
            tokens_file = os.path.join(tmp, "tokens.txt")
            with open(tokens_file, "w") as f:
                f.write("\n".join(many) + "\n")
            loads.append((f"verify-{args.tokens}", ["tokens", tokens_file, "/verify"]))
        loads.append(("me", ["get", token, "/me"]))
        R["loads"] = [label for label, _ in loads]
        gh1.stop()

        stacks = [Stack("A", [gh1], nginx_server(tmp, "A", p_ngx, [p1], args)),
                  Stack("B", [gh1, gh2], nginx_server(tmp, "B", p_ngx, [p1, p2], args))]
        for rnd in range(1, args.rounds + 1):
            for stack in stacks:
                stack.start(state)
                try:
                    targets = [(stack.label, p_ngx)]
                    if stack.label == "A" and not args.no_direct:
                        targets.append(("direct", p1))
                    for cfg, port in targets:
                        for label, sargs in loads:
                            r = measure(stack, port, sargs, args, pgdir)
                            r.update({"round": rnd, "config": cfg, "load": label})
                            R["rows"].append(r)
                            run.log(f"round {rnd} {cfg:6s} {label:12s} {r['rps']:>10.1f} req/s  "
                                    f"p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  err {r['errors']}  "
                                    f"gh {'/'.join(str(x['cpu_pct']) for x in r['instances'])}%  "
                                    f"nginx {r['nginx_cpu_pct']}%  pg {r['pg_cpu_pct']}%  "
                                    f"wrk {r['wrk_cpu_pct']}%  other {r['other_cpu_pct']}%")
                finally:
                    stack.stop()
    except KeyboardInterrupt as e:
        run.log(f"interrupted ({str(e) or 'Ctrl-C'}); stopping everything")
        R["error"] = "interrupted"
        rc = 130
    except run.BenchError as e:
        run.log(f"error: {e}")
        R["error"] = str(e)
        rc = 1
    finally:
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)  # cleanup must not be cut short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            run.stop_everything(state["servers"])
            try:
                pg("destroy", pgdir)
            except Exception as e:  # noqa: BLE001
                run.log(f"destroying {pgdir}: {e!r}")
            if rc == 0:
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                run.log(f"logs kept in {tmp}")
        finally:
            signal.signal(signal.SIGINT, old)
    with open(args.json, "w") as f:
        json.dump(R, f, indent=1, default=str)
    if R["rows"]:
        md = markdown(R)
        with open(args.markdown, "w") as f:
            f.write(md + "\n")
        print(md)
        run.log(f"wrote {args.json} and {args.markdown}")
    return rc


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except run.BenchError as e:
        print(f"scaleout.py: {e}", file=sys.stderr)
        sys.exit(1)
