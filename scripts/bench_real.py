#!/usr/bin/env python3
"""bench_real.py -- the allocators on real programs (issue 9): `make bench-real`, part of `make bench`.

Real workloads from Debian, recorded by heapkit itself each time (nothing to ship, nothing
stale): python3 (json + regex), sqlite3 (in-memory table, index, queries), perl (hash +
regex), gcc's cc1 -O2 on a generated file, lua5.4 (tables and strings), and redis-server
under redis-benchmark. Two measurements per allocator (glibc, jemalloc, tcmalloc, mimalloc,
heapkit):
  replay  each recorded trace played through the allocator's real malloc by heapkit-play
          (`heapkit replay --peer all --callgrind`): callgrind instructions per operation
          (noise-free), wall time, peak RSS above the player's baseline;
  live    the program itself under LD_PRELOAD: wall time and peak RSS (redis: the
          benchmark's wall time and the server's peak RSS).
Runs are interleaved and reported as medians. Targets (issue 9): instructions per op
<= 0.9x mimalloc's on every workload; live time geomean <= 0.95x mimalloc's and none slower
than glibc; live peak RSS geomean <= 1.0x glibc's.
"""
import argparse
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402  (machine_description, save_results)
import bench_record  # noqa: E402  (the workloads python3, sqlite3, perl, cc1)

LIBDIR = "/usr/lib/x86_64-linux-gnu"
ALLOCATORS = [  # name, preload (None: the system's malloc)
    ("glibc", None),
    ("jemalloc", os.path.join(LIBDIR, "libjemalloc.so.2")),
    ("tcmalloc", os.path.join(LIBDIR, "libtcmalloc_minimal.so.4")),
    ("mimalloc", os.path.join(LIBDIR, "libmimalloc.so.2")),
    ("heapkit", None),  # set from --build
]
PACKAGES = ["lua5.4", "redis-server", "redis-tools", "libjemalloc2", "libtcmalloc-minimal4",
            "libmimalloc2.0", "valgrind", "sqlite3"]

LUA_WORK = r'''
local t = {}
for i = 1, 200000 do t[i] = {id = i, name = "item" .. i, tags = {i % 7, i % 5}} end
local parts = {}
for i = 1, #t, 3 do parts[#parts + 1] = t[i].name .. ":" .. string.rep("x", i % 50) end
local text = table.concat(parts, ",")
local n = 0
for w in text:gmatch("item%d+") do n = n + 1 end
local words = {}
for i = 1, 60000 do words[("w" .. (i * 7919) % 50000)] = i end
print(n, #parts)
'''

REDIS_BENCH = ["-q", "-n", "20000", "-r", "20000", "-d", "120", "-P", "4",
               "-t", "set,get,incr,lpush,lpop,sadd,hset,mset"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=20):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"redis-server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def env_with(preload):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    if preload:
        env["LD_PRELOAD"] = preload
    return env


def redis_server_cmd(port):
    return ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--daemonize", "no", "--logfile", "/dev/null"]


def run_redis(prefix, env, work_env=None):
    """Runs redis-server (behind `prefix`, e.g. heapkit record) under env and the benchmark
    against it; returns (benchmark seconds, server peak RSS KiB or -1)."""
    port = free_port()
    server = subprocess.Popen(prefix + redis_server_cmd(port), env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, server)
        t0 = time.monotonic()
        subprocess.run(["redis-benchmark", "-p", str(port)] + REDIS_BENCH, env=work_env or
                       env_with(None), check=True, stdout=subprocess.DEVNULL, timeout=300)
        seconds = time.monotonic() - t0
        rss = -1
        if not prefix:
            with open(f"/proc/{server.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        rss = int(line.split()[1])
        subprocess.run(["redis-cli", "-p", str(port), "shutdown", "nosave"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
        server.wait(timeout=60)
        return seconds, rss
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def workloads(tmp):
    progs = bench_record.programs(tmp)
    lua = os.path.join(tmp, "work.lua")
    with open(lua, "w") as f:
        f.write(LUA_WORK)
    progs.append(("lua5.4", ["lua5.4", lua]))
    progs.append(("redis", None))  # server + redis-benchmark: run_redis
    return progs


def record_all(heapkit, progs, outdir):
    traces = []
    for name, cmd in progs:
        out = os.path.join(outdir, f"{name}.hkt")
        prefix = [heapkit, "record", "-q", "-o", out, "--"]
        if cmd is None:
            run_redis(prefix, env_with(None))
        else:
            subprocess.run(prefix + cmd, check=True, stdout=subprocess.DEVNULL, timeout=600)
        traces.append((name, out))
    return traces


def replay(heapkit, traces, runs, callgrind):
    cmd = [heapkit, "replay", "--peer", "all", "--repeat", str(runs), "--json"]
    if callgrind:
        cmd.append("--callgrind")
    out = subprocess.run(cmd + [t for _, t in traces], check=True, capture_output=True,
                         text=True, timeout=7200).stdout
    rows = {}
    for r in json.loads(out)["results"]:
        rows[(r["trace"], r["peer"])] = r
    return rows


def live(progs, allocators, runs):
    """(workload, allocator) -> list of (seconds, peak RSS KiB), interleaved runs."""
    res = {}
    for run in range(runs):
        print(f"live run {run + 1}/{runs}", flush=True)
        for name, cmd in progs:
            for alloc, preload in allocators:
                if cmd is None:
                    sample = run_redis([], env_with(preload))
                else:
                    t0 = time.monotonic()
                    p = subprocess.Popen(cmd, env=env_with(preload), stdout=subprocess.DEVNULL)
                    _, status, usage = os.wait4(p.pid, 0)
                    if status != 0:
                        raise RuntimeError(f"{name} under {alloc} failed ({status})")
                    sample = (time.monotonic() - t0, usage.ru_maxrss)
                res.setdefault((name, alloc), []).append(sample)
    return res


def geomean(xs):
    xs = [x for x in xs if x and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def fmt(x, spec):
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def report(names, traces, rows, lives, machine):
    lines = [f"Machine: {machine}", ""]
    peers = [a for a in names if a != "heapkit"]
    # 1. replay: instructions per op, time, footprint
    lines += ["Replay of the recorded traces through each allocator's malloc (heapkit-play): "
              "callgrind instructions per op; wall ms and peak RSS MiB above the baseline "
              "(medians):", "",
              "| workload | ops | " + " | ".join(f"{a} instr/op" for a in names)
              + " | heapkit / mimalloc instr | " + " | ".join(f"{a} ms" for a in names)
              + " | " + " | ".join(f"{a} MiB" for a in names) + " |",
              "|---" * (3 + 3 * len(names)) + "|"]
    ir_ratio = []
    for name, path in traces:
        r = {a: rows.get((path, a)) for a in names}
        ops = next((x["ops"] for x in r.values() if x), 0)
        ir = {a: r[a].get("instructions_per_op") if r[a] else None for a in names}
        ratio = (ir["heapkit"] / ir["mimalloc"]) if ir.get("heapkit") and ir.get("mimalloc") else None
        if ratio:
            ir_ratio.append(ratio)
        ms = {a: r[a]["seconds"] * 1e3 if r[a] and r[a].get("seconds") else None for a in names}
        mib = {a: r[a]["peak_footprint"] / 2**20 if r[a] else None for a in names}
        lines.append(f"| {name} | {ops:,} | " + " | ".join(fmt(ir[a], ".1f") for a in names)
                     + f" | {fmt(ratio, '.2f')} | " + " | ".join(fmt(ms[a], ".1f") for a in names)
                     + " | " + " | ".join(fmt(mib[a], ".1f") for a in names) + " |")
    # 2. live programs
    med_t = {k: statistics.median(s[0] for s in v) for k, v in lives.items()}
    med_m = {k: statistics.median(s[1] for s in v) for k, v in lives.items()}
    lines += ["", "Live programs under LD_PRELOAD: wall s and peak RSS MiB (medians; redis: "
              "redis-benchmark's time, the server's RSS):", "",
              "| workload | " + " | ".join(f"{a} s" for a in names) + " | "
              + " | ".join(f"{a} MiB" for a in names) + " |",
              "|---" * (1 + 2 * len(names)) + "|"]
    for name, _ in traces:
        lines.append(f"| {name} | " + " | ".join(fmt(med_t.get((name, a)), ".3f") for a in names)
                     + " | " + " | ".join(fmt(med_m.get((name, a), 0) / 1024, ".1f") for a in names)
                     + " |")
    lines += ["", "heapkit / peer, live (below 1.00 = heapkit better):", "",
              "| workload | " + " | ".join(f"time vs {a}" for a in peers) + " | "
              + " | ".join(f"RSS vs {a}" for a in peers) + " |",
              "|---" * (1 + 2 * len(peers)) + "|"]
    tr = {a: [] for a in peers}
    mr = {a: [] for a in peers}
    for name, _ in traces:
        row_t, row_m = [], []
        for a in peers:
            t = med_t[(name, "heapkit")] / med_t[(name, a)]
            m = med_m[(name, "heapkit")] / med_m[(name, a)] if med_m[(name, a)] > 0 else None
            tr[a].append(t)
            if m:
                mr[a].append(m)
            row_t.append(f"{t:.2f}")
            row_m.append(fmt(m, ".2f"))
        lines.append(f"| {name} | " + " | ".join(row_t) + " | " + " | ".join(row_m) + " |")
    lines.append("| **geomean** | " + " | ".join(f"**{geomean(tr[a]):.2f}**" for a in peers)
                 + " | " + " | ".join(f"**{geomean(mr[a]):.2f}**" for a in peers) + " |")
    worst_glibc = max(tr["glibc"]) if tr.get("glibc") else float("nan")
    lines += ["", "Targets (issue 9):",
              f"- instructions per op <= 0.9x mimalloc's on every workload: worst "
              f"{fmt(max(ir_ratio) if ir_ratio else None, '.2f')}x, geomean {geomean(ir_ratio):.2f}x",
              f"- live time geomean <= 0.95x mimalloc's: {geomean(tr.get('mimalloc', [])):.2f}x; "
              f"none slower than glibc: worst {worst_glibc:.2f}x",
              f"- live peak RSS geomean <= 1.0x glibc's: {geomean(mr.get('glibc', [])):.2f}x"]
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", help="comma list of workloads")
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--no-install", action="store_true")
    ap.add_argument("--keep", help="folder to keep the recorded traces in")
    opts = ap.parse_args()
    if not opts.no_install:
        subprocess.run(["sh", os.path.join(HERE, "deps.sh")] + PACKAGES, check=False)
    heapkit = os.path.abspath(os.path.join(opts.build, "heapkit"))
    lib = os.path.abspath(os.path.join(opts.build, "libheapkit.so"))
    allocators = [(a, lib if a == "heapkit" else p) for a, p in ALLOCATORS]
    allocators = [(a, p) for a, p in allocators if p is None or os.path.exists(p)]
    names = [a for a, _ in allocators]
    with tempfile.TemporaryDirectory() as tmp:
        progs = workloads(tmp)
        if opts.only:
            progs = [p for p in progs if p[0] in opts.only.split(",")]
        outdir = opts.keep or tmp
        os.makedirs(outdir, exist_ok=True)
        print("recording:", ", ".join(n for n, _ in progs), flush=True)
        traces = record_all(heapkit, progs, outdir)
        print("replaying through every allocator (callgrind too: a few minutes)", flush=True)
        rows = replay(heapkit, traces, opts.runs, not opts.no_callgrind)
        lives = live(progs, allocators, opts.runs)
    bench.save_results(report(names, traces, rows, lives, bench.machine_description()), "real")
    return 0


if __name__ == "__main__":
    sys.exit(main())
