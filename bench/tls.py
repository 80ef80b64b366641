#!/usr/bin/python3
"""What TLS costs /verify: GET /verify over HTTPS against the same over plain HTTP, beside the
bare libmicrohttpd server of bench/bare.c (plain HTTP, the ceiling), each with keep-alive at the
same connection count; then new TLS handshakes per second (openssl s_time, a new connection each).

    make build/gatehouse build/bench-bare
    /usr/bin/python3 bench/tls.py [--duration 15] [--conns 64] [--key ec|rsa]

Loads, each after a warm-up, one round in this order:
  bare        bench-bare, GET /verify (it ignores the header), plain HTTP
  plain       gatehouse GET /verify with one valid token, plain HTTP
  tls         the same gatehouse with TLS_CERT_FILE/TLS_KEY_FILE, wrk over https://
Handshakes: new connections to the TLS server for --handshake-seconds each, with TLS 1.3 and
with TLS 1.2, from one client thread: each a full handshake, one GET /healthz, close.
The certificate is self-signed, made here: P-256 (--key ec, the default) or RSA 2048.
Prints a markdown table and writes the results as JSON (--json). Stdlib only; wrk with
bench/gatehouse.lua (Debian's wrk speaks HTTPS, without verifying the certificate).
"""
import argparse
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import http.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the harness's process, wrk and sampling helpers)

BARE = os.path.join(run.ROOT, "build", "bench-bare")


class TlsServer(run.Server):
    """A run.Server whose readiness check speaks HTTPS."""

    def start(self, max_wait=60.0):
        self.spawn()
        ctx = ssl._create_unverified_context()  # the bench's own self-signed certificate
        t_end = time.monotonic() + max_wait
        while time.monotonic() < t_end:
            if self.proc.poll() is not None:
                raise run.BenchError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                c = http.client.HTTPSConnection(run.HOST, self.port, timeout=2.0, context=ctx)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    c.close()
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise run.BenchError(f"{self.name} did not answer over HTTPS:\n{self.log_tail()}")


def make_cert(tmp, key):
    cert, keyf = os.path.join(tmp, "tls.pem"), os.path.join(tmp, "tls.key")
    newkey = ["-newkey", "rsa:2048"] if key == "rsa" else \
        ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
    subprocess.run(["openssl", "req", "-x509", *newkey, "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", keyf, "-out", cert],
                   check=True, capture_output=True)
    os.chmod(keyf, 0o600)
    return cert, keyf


def wrk_load(server, args, sargs, scheme):
    """Warm-up, then one recorded wrk load on scheme://; the row with server CPU and peak RSS."""
    pids = server.pids()
    run.wait_server_idle(pids)

    def wrk(duration):
        cmd = ["wrk", "-t", str(args.wrk_threads), "-c", str(args.conns), "-d", f"{duration}s",
               "--timeout", "30s", "-s", run.LUA, f"{scheme}://{run.HOST}:{server.port}", "--", *sargs]
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        run.WRK_PROCS.append(p)
        return p, cmd

    p, cmd = wrk(args.warmup)
    run.collect_wrk(p, cmd, args.warmup, 30)
    run.wait_quiet(pids, args.max_other_cpu, args.quiet_wait)
    smp = run.Sampler(pids)
    smp.start()
    try:
        p, cmd = wrk(args.duration)
        o = run.collect_wrk(p, cmd, args.duration, 30)
    finally:
        res = smp.finish()
    return {**o, **res, "cmd": " ".join(cmd)}


def handshakes(port, seconds, version):
    """New connections per second from one client thread, each a full TLS handshake (no
    resumption) and one GET /healthz, then closed; TCP_NODELAY set as browsers and curl set it
    (without it the client's own Nagle delay is measured: openssl s_time's 40 ms in TLS 1.3)."""
    ctx = ssl._create_unverified_context()
    ctx.minimum_version = ctx.maximum_version = (ssl.TLSVersion.TLSv1_3 if version == "1.3"
                                                 else ssl.TLSVersion.TLSv1_2)
    lat, t_end = [], time.monotonic() + seconds
    while time.monotonic() < t_end:
        t0 = time.perf_counter()
        raw = socket.create_connection((run.HOST, port), timeout=30)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with ctx.wrap_socket(raw) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            if not data.startswith(b"HTTP/1.1 200"):
                raise run.BenchError(f"TLS {version}: {data[:100]!r}")
        lat.append(time.perf_counter() - t0)
    lat.sort()
    return {"version": version, "connections": len(lat), "per_s": round(len(lat) / seconds, 1),
            "p50_ms": round(lat[len(lat) // 2] * 1e3, 2), "p99_ms": round(lat[int(len(lat) * 0.99)] * 1e3, 2)}


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=int, default=15, help="seconds per recorded load (15)")
    ap.add_argument("--warmup", type=int, default=3, help="unrecorded seconds before each load (3)")
    ap.add_argument("--conns", type=int, default=64, help="keep-alive connections (64)")
    ap.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (2)")
    ap.add_argument("--handshake-seconds", type=int, default=10, help="seconds of s_time per version (10)")
    ap.add_argument("--key", choices=("ec", "rsa"), default="ec", help="certificate key: P-256 or RSA 2048")
    ap.add_argument("--port", type=int, default=8013, help="port of every server, one at a time")
    ap.add_argument("--gatehouse-bin", default=os.path.join(run.ROOT, "build", "gatehouse"))
    ap.add_argument("--max-other-cpu", type=float, default=25.0)
    ap.add_argument("--quiet-wait", type=float, default=60.0)
    ap.add_argument("--json", default="/tmp/gh-tls.json")
    args = ap.parse_args(argv)
    for b in (BARE, args.gatehouse_bin):
        if not os.access(b, os.X_OK):
            raise run.BenchError(f"no executable {b}; build it with: make build/gatehouse build/bench-bare")

    tmp = tempfile.mkdtemp(prefix="gh-tls-")
    cert, key = make_cert(tmp, args.key)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "PORT", "HOST")}
    env.update(run.NO_THROTTLE)
    env.update({"SECRET_KEY": run.GH_SECRET, "BCRYPT_ROUNDS": "4"})
    gh_cmd = [args.gatehouse_bin, "--port", str(args.port), "--host", run.HOST,
              "--database-url", f"sqlite:///{os.path.join(tmp, 'gh.db')}"]
    plain = run.Server("plain", gh_cmd, env, args.port, tmp)
    tls = TlsServer("tls", gh_cmd, dict(env, TLS_CERT_FILE=cert, TLS_KEY_FILE=key), args.port, tmp)
    bare = run.Server("bare", [BARE, str(args.port)], dict(os.environ), args.port, tmp, ready_path="/")

    plain.start()  # one user and a real token, valid on both (same database and key)
    try:
        st, _, text = run.http_call(args.port, "POST", "/register",
                                    {"username": "bench.tls", "password": run.PASSWORD})
        if st != 200:
            raise run.BenchError(f"register: HTTP {st} {text[:200]}")
        token = run.login_token(args.port, "bench.tls")
        run.check_get(args.port, "/verify", token, 204)
    finally:
        plain.stop()

    rows, shakes = [], []
    for label, server, scheme in (("bare", bare, "http"), ("plain", plain, "http"), ("tls", tls, "https")):
        server.start()
        try:
            r = wrk_load(server, args, ["get", token, "/verify"], scheme)
            if label == "tls":
                for v in ("1.3", "1.2"):
                    shakes.append(handshakes(args.port, args.handshake_seconds, v))
                    run.log(f"handshakes TLS {v}: {shakes[-1]['per_s']}/s")
        finally:
            server.stop()
        r["load"] = label
        rows.append(r)
        run.log(f"{label:6s} {r['rps']:>10.1f} req/s  p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  "
                f"err {r['errors']}  srvCPU {r['srv_cpu_pct']}%  peakRSS {r['peak_rss_mib']} MiB")

    print(f"\nmachine: {run.platform.processor() or run.platform.machine()}, {run.cores()} cores; "
          f"{args.conns} keep-alive connections, {args.duration} s per load, one round; "
          f"certificate key {'P-256' if args.key == 'ec' else 'RSA 2048'}")
    ref = rows[0]["rps"]
    print("\n| load | req/s | p50 ms | p99 ms | errors | server CPU % | peak RSS MiB | vs bare | vs plain |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        vs_plain = f"{100.0 * r['rps'] / rows[1]['rps']:.0f}%" if r["load"] == "tls" else ""
        print(f"| {r['load']} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']} | "
              f"{r['srv_cpu_pct']} | {r['peak_rss_mib']} | {100.0 * r['rps'] / ref:.0f}% | {vs_plain} |")
    for s in shakes:
        print(f"- new connections over TLS {s['version']} (handshake + GET /healthz + close, one client "
              f"thread): {s['per_s']:,.1f}/s, p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms "
              f"({s['connections']} in {args.handshake_seconds} s)")
    with open(args.json, "w") as f:
        json.dump({"args": vars(args), "rows": rows, "handshakes": shakes, "time": time.time()}, f, indent=1)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except run.BenchError as e:
        print(f"tls.py: {e}", file=sys.stderr)
        sys.exit(1)
