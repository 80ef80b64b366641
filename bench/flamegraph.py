#!/usr/bin/python3
"""A flame graph of GET /verify under load: where gatehouse's CPU time goes, as one SVG.

    make build/gatehouse
    /usr/bin/python3 bench/flamegraph.py [--bin build/gatehouse] [--out /tmp/flame-verify.svg]
                                         [--duration 10] [--title TEXT] [--call-graph dwarf|fp]

Starts the binary on a fresh SQLite database in a temp dir (fixed SECRET_KEY, throttling off and
the access log at its default, off, as in the benchmarks; settings by environment variables only,
which every version since the first benchmarks reads), registers and logs in one user, loads
GET /verify with wrk (bench/gatehouse.lua `get TOKEN /verify`, 2 threads, 64 connections) and, after
a 2 s warm-up, records the server with `perf record` for --duration seconds. The stacks of
`perf script` are folded here (one line per distinct stack: frames root to leaf joined by `;`, a
space, the sample count; the root is the thread name) into OUT with .folded for .svg, and drawn
as a self-contained SVG: width proportional to samples, hover for name, samples and percent.
The call graph is unwound from DWARF CFI by default: the release build has no frame pointers
(-O2 without -fno-omit-frame-pointer), nor do Debian's libmicrohttpd and libc, so frame-pointer
stacks stop at the first library frame. A sample whose copied stack (perf copies only the pages
present, at most 64 KiB) ends before the thread's first frame sits on a "[truncated stack]" frame.
Functions without a symbol (static ones in Debian's stripped libraries) show as [library.so].
Prints the 15 frames with the most self time. Needs root (perf) and wrk; stdlib only.
"""
import argparse
import collections
import hashlib
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the harness's server, HTTP and wrk helpers)

FREQ = 499          # Hz; odd so that it does not beat with periodic work
CONNS, THREADS = 64, 2
WARMUP = 2
TRUNCATED = "[truncated stack]"
FRAME_RE = re.compile(r"^\s*([0-9a-f]+)\s+(.*?)\s+\((.*)\)$")
# frame kind -> (hue range in degrees, legend label)
KINDS = {"gatehouse": ((0, 40), "gatehouse"), "mhd": ((90, 150), "libmicrohttpd"),
         "libc": ((45, 65), "libc / ld.so"), "lib": ((280, 330), "other libraries"),
         "kernel": ((185, 225), "kernel")}


def kind_of(addr, dso, binname):
    if dso.startswith("[kernel") or addr.startswith("ffff") and len(addr) == 16:
        return "kernel"
    base = os.path.basename(dso)
    if base == binname:
        return "gatehouse"
    if base.startswith("libmicrohttpd"):
        return "mhd"
    if base.startswith(("libc.so", "libc-", "ld-linux", "libpthread", "libm.so")):
        return "libc"
    return "lib"


def fold(script_out, binname):
    """perf script text -> ({stack: samples}, {frame name: kind})."""
    stacks, kinds = collections.Counter(), {}
    comm, frames = None, []

    def flush():
        if comm is not None:
            stacks[";".join([comm] + frames[::-1])] += 1

    for line in script_out.splitlines():
        if not line.strip():
            flush()
            comm, frames = None, []
        elif not line[0].isspace():
            flush()
            comm, frames = line.split(None, 1)[0].replace(";", ":"), []
        else:
            m = FRAME_RE.match(line)
            if not m or comm is None:
                continue
            addr, sym, dso = m.groups()
            sym = re.sub(r"\+0x[0-9a-f]+$", "", sym)
            if addr == "ffffffffffffffff" and dso == "[unknown]":
                sym = TRUNCATED  # the unwinder ran out of copied stack
            elif sym == "[unknown]":  # no symbol: one frame per library
                sym = f"[{os.path.basename(dso)}]" if dso != "[unknown]" else "[unknown]"
            sym = sym.replace(";", ":")
            if sym.startswith("[") and frames and frames[-1] == sym:
                continue  # nested unnamed frames of one library: one frame
            frames.append(sym)
            kinds.setdefault(sym, kind_of(addr, dso, binname))
    flush()
    return stacks, kinds


def colour(name, kind):
    (lo, hi), _ = KINDS[kind]
    h = hashlib.md5(name.encode()).digest()
    hue = lo + (hi - lo) * h[0] / 255
    sat, light = 70 + 25 * h[1] / 255, 52 + 14 * h[2] / 255
    return f"hsl({hue:.0f},{sat:.0f}%,{light:.0f}%)"


def build_tree(stacks):
    root = {"n": 0, "kids": {}}
    for stack, count in stacks.items():
        node = root
        node["n"] += count
        for f in stack.split(";"):
            node = node["kids"].setdefault(f, {"n": 0, "kids": {}})
            node["n"] += count
    return root


def self_times(stacks):
    """Samples with each frame at the leaf (its self time), most first."""
    c = collections.Counter()
    for stack, count in stacks.items():
        c[stack.rsplit(";", 1)[-1]] += count
    return c.most_common()


def render(stacks, kinds, title, subtitle, width=1200):
    tree = build_tree(stacks)
    total = max(tree["n"], 1)
    fh, pad, font, charw = 16, 10, 11, 6.6   # frame height, margin, font px, monospace advance
    header = 114   # title, four lines of text, the legend

    def depth(node):
        return 1 + max((depth(k) for k in node["kids"].values()), default=0)

    levels = depth(tree) - 1
    height = header + levels * fh + 2 * pad
    scale = (width - 2 * pad) / total
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="monospace" font-size="{font}">',
           f'<rect width="100%" height="100%" fill="#fdfaf5"/>',
           f'<text x="{width / 2}" y="22" font-size="16" text-anchor="middle">{html.escape(title)}</text>']
    for i, line in enumerate(subtitle):
        out.append(f'<text x="{pad}" y="{42 + 14 * i}">{html.escape(line)}</text>')
    x = pad
    for (lo, hi), label in KINDS.values():
        out.append(f'<rect x="{x:.1f}" y="{header - 24}" width="12" height="12" '
                   f'fill="hsl({(lo + hi) / 2:.0f},80%,58%)"/>'
                   f'<text x="{x + 16:.1f}" y="{header - 14}">{label}</text>')
        x += len(label) * charw + 30

    def draw(name, node, x, level):
        w = node["n"] * scale
        if w < 0.3:
            return
        y = height - pad - (level + 1) * fh
        pct = 100.0 * node["n"] / total
        kind = kinds.get(name, "gatehouse" if level == 0 else "lib")
        fill = "hsl(0,0%,80%)" if level == 0 or name == TRUNCATED else colour(name, kind)
        label = ""
        room = int((w - 4) // charw)
        if room >= 3:
            label = name if len(name) <= room else name[:room - 2] + ".."
        out.append(f'<g><title>{html.escape(name)} ({node["n"]:,} samples, {pct:.2f}%)</title>'
                   f'<rect x="{x:.2f}" y="{y}" width="{w:.2f}" height="{fh - 1}" fill="{fill}" rx="2"/>'
                   + (f'<text x="{x + 3:.2f}" y="{y + fh - 4.5}">{html.escape(label)}</text>' if label else "")
                   + "</g>")
        for kname in sorted(node["kids"]):
            draw(kname, node["kids"][kname], x, level + 1)
            x += node["kids"][kname]["n"] * scale

    x = pad
    for name in sorted(tree["kids"]):
        draw(name, tree["kids"][name], x, 0)
        x += tree["kids"][name]["n"] * scale
    out.append("</svg>\n")
    return "\n".join(out)


def commit_of(binp):
    """HEAD of the checkout the binary sits in (a build/ dir), +dirty if src/ differs from it; the
    binary itself may be older than HEAD if it was not rebuilt."""
    top = os.path.dirname(os.path.dirname(os.path.abspath(binp)))
    try:
        rev = subprocess.run(["git", "-C", top, "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", top, "status", "--porcelain", "--", "src"],
                               capture_output=True, text=True).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown commit"


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=os.path.join(run.ROOT, "build", "gatehouse"))
    ap.add_argument("--out", default="/tmp/flame-verify.svg", help="SVG path; the folded stacks go beside it")
    ap.add_argument("--duration", type=int, default=10, help="seconds recorded (10)")
    ap.add_argument("--title", default="GET /verify under wrk: where gatehouse's CPU time goes")
    ap.add_argument("--call-graph", choices=["dwarf", "fp"], default="dwarf",
                    help="unwinding: DWARF CFI (default), or frame pointers (a -fno-omit-frame-pointer build)")
    ap.add_argument("--port", type=int, default=18795)
    args = ap.parse_args(argv)
    binp = os.path.abspath(args.bin)
    if not os.access(binp, os.X_OK):
        raise run.BenchError(f"no executable {binp}; build it with: make build/gatehouse")
    for tool, pkg in (("perf", "linux-perf"), ("wrk", "wrk")):
        if not shutil.which(tool):
            raise run.BenchError(f"{tool} is missing: apt-get install {pkg}")
    tmp = tempfile.mkdtemp(prefix="gh-flame-")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SECRET_KEY", "PORT", "HOST")}
    env.update(run.NO_THROTTLE)
    env.update({"SECRET_KEY": run.GH_SECRET, "BCRYPT_ROUNDS": "4", "HOST": run.HOST, "PORT": str(args.port),
                "DATABASE_URL": f"sqlite:///{os.path.join(tmp, 'gh.db')}"})
    gh = run.Server("gatehouse", [binp], env, args.port, tmp)
    data = os.path.join(tmp, "perf.data")
    cg = ["--call-graph", "dwarf,65528"] if args.call_graph == "dwarf" else ["--call-graph", "fp"]
    gh.start()
    try:
        st, _, text = run.http_call(args.port, "POST", "/register",
                                    {"username": "flame.user", "password": run.PASSWORD})
        if st != 200:
            raise run.BenchError(f"register: HTTP {st} {text[:200]}")
        token = run.login_token(args.port, "flame.user")
        run.check_get(args.port, "/verify", token, 204)
        pids = gh.pids()
        run.wait_quiet(pids, 25.0, 60.0)
        cpu = run.CpuWindow(pids)
        wrk, cmd = run.start_wrk(args.port, CONNS, args.duration + WARMUP + 1, THREADS, 30,
                                 ["get", token, "/verify"])
        time.sleep(WARMUP)
        run.log(f"perf record ({args.call_graph}) of pid {gh.proc.pid} for {args.duration} s")
        subprocess.run(["perf", "record", "-q", "-F", str(FREQ), *cg, "-p", str(gh.proc.pid), "-o", data,
                        "--", "sleep", str(args.duration)], check=True, stdout=subprocess.DEVNULL)
        load = run.collect_wrk(wrk, cmd, args.duration + WARMUP + 1, 30)
        load.update(cpu.result())
    finally:
        run.kill_wrks()
        gh.stop()
    run.log("perf script")
    script = subprocess.run(["perf", "script", "-i", data, "-F", "comm,ip,sym,dso", "--no-inline"],
                            capture_output=True, text=True, check=True).stdout
    stacks, kinds = fold(script, os.path.basename(binp))
    samples = sum(stacks.values())
    cut = sum(n for st, n in stacks.items() if TRUNCATED in st.split(";"))
    if not samples:
        raise run.BenchError(f"perf recorded no samples (data kept in {tmp})")
    base = args.out[:-4] if args.out.endswith(".svg") else args.out
    with open(base + ".folded", "w") as f:
        f.writelines(f"{s} {n}\n" for s, n in sorted(stacks.items()))
    sub = [f"binary: {os.path.relpath(binp, run.ROOT) if binp.startswith(run.ROOT) else binp} "
           f"in a checkout at commit {commit_of(binp)}; {run.cores()} CPUs shared with wrk",
           f"load: wrk -t{THREADS} -c{CONNS} GET /verify, one token: {load['rps']:,.0f} req/s while profiled, "
           f"{load['errors']} errors; recorded {args.duration} s after a {WARMUP} s warm-up",
           f"CPU during the load (100 = one core): server {load['srv_cpu_pct']:.0f}, "
           f"wrk + perf {load['wrk_cpu_pct']:.0f}, other processes {load['other_cpu_pct']:.0f}",
           f"perf record -F {FREQ} --call-graph {cg[1]}: {samples:,} samples of the server's threads"
           + (f", {cut:,} ({100.0 * cut / samples:.1f}%) with a truncated stack" if cut else "")
           + "; hover a frame for its samples and percent"]
    with open(base + ".svg", "w") as f:
        f.write(render(stacks, kinds, args.title, sub))
    print(f"{base}.svg, {base}.folded: {samples:,} samples, {len(stacks):,} distinct stacks, "
          f"{load['rps']:,.0f} req/s under perf")
    print("self time (samples at the leaf):")
    for name, n in self_times(stacks)[:15]:
        print(f"  {100.0 * n / samples:5.1f}%  {n:7,}  {name}")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except run.BenchError as e:
        print(f"flamegraph.py: {e}", file=sys.stderr)
        sys.exit(1)
