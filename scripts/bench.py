#!/usr/bin/env python3
"""bench.py -- `make bench`: libheapkit against glibc, jemalloc, tcmalloc and mimalloc.

Every benchmark program (bench/progs/) calls plain malloc/free, so the allocator is chosen
with LD_PRELOAD. Runs are interleaved (run 1 of every benchmark under every allocator, then
run 2, ...) so that a noisy neighbour hurts all allocators alike; we report the median wall
time and median peak RSS of each (benchmark, allocator), the ratios of heapkit to each peer,
and their geometric means. Then:
  - larson scaling: throughput with 2 threads / throughput with 1 thread, per allocator;
  - fast path: instructions per malloc/free pair under callgrind (noise-free), measured as
    (Ir(2N) - Ir(N)) / N so start-up costs cancel out;
  - the secure build's cost: heapkit-secure (libheapkit-secure.so) / heapkit, time and RSS
    per benchmark and their geometric means (docs/HARDENING.md).
Peers come from Debian (libjemalloc2, libtcmalloc-minimal4, libmimalloc2.0); missing ones
are installed with apt-get when we are root, else skipped with a note.
"""
import argparse
import datetime
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

LIBDIR = "/usr/lib/x86_64-linux-gnu"
PEERS = [  # (name, library file, Debian package)
    ("jemalloc", "libjemalloc.so.2", "libjemalloc2"),
    ("tcmalloc", "libtcmalloc_minimal.so.4", "libtcmalloc-minimal4"),
    ("mimalloc", "libmimalloc.so.2", "libmimalloc2.0"),
]

# name, program, arguments. Sized for roughly 0.3-2 s each under glibc on a 2-core VM.
BENCHMARKS = [
    ("churn", "churn", ["8000000", "20000"]),
    # 400 live blocks of 64..512 KiB, replaced at random: wide classes, few blocks per page
    ("churn-mid", "churn", ["200000", "400", "65536", "524288"]),
    ("larson-1t", "larson", ["1", "8", "1500000", "4000"]),
    ("larson-2t", "larson", ["2", "8", "1500000", "4000"]),
    ("larson-rotate-2t", "larson", ["2", "8", "1500000", "4000", "rotate"]),
    ("prodcons", "prodcons", ["1", "2000000"]),
    ("realloc", "realloc_grow", ["40", "500", "65536"]),
    # buffers grown to 256 KiB: past 128 KiB each moves to a mapping of its own (realloc.c)
    ("realloc-large", "realloc_grow", ["10", "500", "262144"]),
    ("large", "large", ["20000", "8"]),
    ("false-sharing", "false_sharing", ["2", "3000", "50000", "8"]),
    ("trace-replay", "trace_replay", ["300"]),  # + trace files
    # issue 10: threads that come and go, handing blocks over and exiting with blocks live
    ("thread-churn-4t", "thread_churn", ["4", "64", "40000", "16384"]),
    ("thread-churn-2t", "thread_churn", ["2", "64", "100000", "131072"]),
    # 1000 threads one after another, each leaving a block: the address space left behind
    ("seq-threads", "seq_threads", ["1000", "0"]),
    ("seq-threads-work", "seq_threads", ["1000", "64", "20000"]),
]
THREAD_BENCHES = ["larson-2t", "larson-rotate-2t", "prodcons", "false-sharing", "thread-churn-4t",
                  "thread-churn-2t", "seq-threads", "seq-threads-work"]
REAL_TRACES = ["cccp-bal.rep", "cp-decl-bal.rep", "expr-bal.rep", "amptjp-bal.rep"]


def ensure_peers(install):
    missing = [pkg for _, lib, pkg in PEERS if not os.path.exists(os.path.join(LIBDIR, lib))]
    if missing and install and os.geteuid() == 0:
        print("installing peers from Debian:", " ".join(missing), flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq"] + missing, check=False,
                       stdout=subprocess.DEVNULL)
    found = []
    for name, lib, pkg in PEERS:
        path = os.path.join(LIBDIR, lib)
        if os.path.exists(path):
            found.append((name, path))
        else:
            print(f"note: {name} not available ({pkg} not installed); skipped")
    return found


def run_once(build, prog, args, preload):
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    if preload:
        env["LD_PRELOAD"] = preload
    out = subprocess.run([os.path.join(build, "bench", prog)] + args, env=env,
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError(f"{prog} {' '.join(args)} with {preload or 'glibc'} failed "
                           f"(status {out.returncode}): {out.stderr.strip()[:300]}")
    m = re.search(r"^result (\S+) (\S+) (\d+) (\d+) (\d+)$", out.stdout, re.M)
    if not m:
        raise RuntimeError(f"{prog}: no result line in {out.stdout!r}")
    return float(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5))


def geomean(xs):
    xs = [x for x in xs if x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def callgrind_ir(build, preload, pairs):
    with tempfile.TemporaryDirectory() as tmp:
        outfile = os.path.join(tmp, "cg.out")
        env = dict(os.environ)
        env.pop("LD_PRELOAD", None)
        if preload:
            env["LD_PRELOAD"] = preload
        subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={outfile}",
                        os.path.join(build, "bench", "fastpath"), str(pairs), "32"],
                       env=env, capture_output=True, check=True, timeout=600)
        with open(outfile) as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    return int(line.split()[1])
    raise RuntimeError("callgrind produced no totals")


def machine_description():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip() or "unknown"
    cc = subprocess.run(["cc", "--version"], capture_output=True, text=True).stdout
    return (f"{cpu}, {os.cpu_count()} cores, Linux {platform.release()}, "
            f"{cc.splitlines()[0] if cc else 'cc ?'}, commit {commit}, "
            f"{datetime.date.today().isoformat()}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", help="comma list of benchmarks to run")
    ap.add_argument("--no-install", action="store_true", help="never apt-get install peers")
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--traces", default=None, help="folder with the CS:APP traces")
    ap.add_argument("--allocators", help="comma list of allocators to run (e.g. "
                    "heapkit,heapkit-secure: the secure build's cost alone)")
    opts = ap.parse_args()

    allocators = [("glibc", None)] + ensure_peers(not opts.no_install)
    heapkit = os.path.abspath(os.path.join(opts.build, "libheapkit.so"))
    if os.path.exists(heapkit):
        allocators.append(("heapkit", heapkit))
    else:
        print(f"note: {heapkit} not built; heapkit column skipped")
    secure = os.path.abspath(os.path.join(opts.build, "libheapkit-secure.so"))
    if os.path.exists(secure):
        allocators.append(("heapkit-secure", secure))
    if opts.allocators:
        allocators = [a for a in allocators if a[0] in opts.allocators.split(",")]

    here = os.path.dirname(os.path.abspath(__file__))
    trace_dir = opts.traces or os.path.join(here, "..", "..", "shared", "traces")
    traces = [os.path.join(trace_dir, t) for t in REAL_TRACES
              if os.path.exists(os.path.join(trace_dir, t))]
    benches = []
    for name, prog, args in BENCHMARKS:
        if opts.only and name not in opts.only.split(","):
            continue
        if prog == "trace_replay":
            if not traces:
                print("note: no CS:APP traces found; trace-replay skipped")
                continue
            args = args + traces
        benches.append((name, prog, args))

    missing = sorted({prog for _, prog, _ in benches
                      if not os.path.exists(os.path.join(opts.build, "bench", prog))})
    if missing:
        print(f"bench.py: {', '.join(missing)} not built in {opts.build}/bench: "
              "run `make bench-progs` (or `make bench`)", file=sys.stderr)
        return 2

    results = {}  # (bench, alloc) -> list of (seconds, rss, ops)
    for run in range(opts.runs):
        print(f"run {run + 1}/{opts.runs}", flush=True)
        # the allocators' order turns by one each run: a program run right after another
        # can be faster or slower for it (seq-threads after thread churn: 0.024 s first,
        # 0.06 s second), which a fixed order charged to the same allocator every run
        k = run % len(allocators)
        for name, prog, args in benches:
            for alloc, preload in allocators[k:] + allocators[:k]:
                results.setdefault((name, alloc), []).append(
                    run_once(opts.build, prog, args, preload))

    names = [a for a, _ in allocators]
    med_t = {k: statistics.median(r[0] for r in v) for k, v in results.items()}
    med_m = {k: statistics.median(r[1] for r in v) for k, v in results.items()}
    spread = {k: (max(r[0] for r in v) - min(r[0] for r in v)) / med_t[k] if med_t[k] else 0
              for k, v in results.items()}

    lines = [f"Machine: {machine_description()}",
             f"Runs: {opts.runs}, interleaved, the allocators' order turned by one each run; "
             "medians. Spread = (max-min)/median of wall time.", ""]
    lines.append("| benchmark | " + " | ".join(f"{a} s" for a in names) + " | "
                 + " | ".join(f"{a} RSS MiB" for a in names) + " |")
    lines.append("|---" * (1 + 2 * len(names)) + "|")
    for name, _, _ in benches:
        ts = " | ".join(f"{med_t[(name, a)]:.3f} (±{100 * spread[(name, a)]:.0f}%)" for a in names)
        ms = " | ".join(f"{med_m[(name, a)] / 1024:.1f}" for a in names)
        lines.append(f"| {name} | {ts} | {ms} |")

    peer_names = [a for a in names if not a.startswith("heapkit")]
    if "heapkit" in names and peer_names:
        peers = peer_names
        lines += ["", "Ratios heapkit / peer (below 1.00 = heapkit better):", "",
                  "| benchmark | " + " | ".join(f"time vs {a}" for a in peers)
                  + " | " + " | ".join(f"RSS vs {a}" for a in peers) + " |",
                  "|---" * (1 + 2 * len(peers)) + "|"]
        tr = {a: [] for a in peers}
        mr = {a: [] for a in peers}
        for name, _, _ in benches:
            row_t, row_m = [], []
            for a in peers:
                t = med_t[(name, "heapkit")] / med_t[(name, a)]
                m = med_m[(name, "heapkit")] / med_m[(name, a)]
                tr[a].append(t)
                mr[a].append(m)
                row_t.append(f"{t:.2f}")
                row_m.append(f"{m:.2f}")
            lines.append(f"| {name} | " + " | ".join(row_t) + " | " + " | ".join(row_m) + " |")
        lines.append("| **geomean** | " + " | ".join(f"**{geomean(tr[a]):.2f}**" for a in peers)
                     + " | " + " | ".join(f"**{geomean(mr[a]):.2f}**" for a in peers) + " |")

    threaded = [n for n, _, _ in benches if n in THREAD_BENCHES]
    if threaded:
        med_v = {k: statistics.median(r[3] for r in v) for k, v in results.items()}
        lines += ["", "Threaded benchmarks: peak address space (VmPeak MiB) and peak RSS against the "
                  "leanest peer (issue 10):", "",
                  "| benchmark | " + " | ".join(f"{a} VmPeak" for a in names)
                  + " | VmPeak / glibc | RSS / leanest peer | time / mimalloc |",
                  "|---" * (4 + len(names)) + "|"]
        for name in threaded:
            vs = " | ".join(f"{med_v[(name, a)] / 1024:.0f}" for a in names)
            rss_ratio = time_ratio = vm_ratio = "-"
            peers = peer_names
            if "heapkit" in names and peers:
                lean = min(med_m[(name, a)] for a in peers)
                rss_ratio = f"{med_m[(name, 'heapkit')] / lean:.2f}"
                vm_ratio = f"{med_v[(name, 'heapkit')] / med_v[(name, 'glibc')]:.2f}"
                if "mimalloc" in names:
                    time_ratio = f"{med_t[(name, 'heapkit')] / med_t[(name, 'mimalloc')]:.2f}"
            lines.append(f"| {name} | {vs} | {vm_ratio} | {rss_ratio} | {time_ratio} |")

    if "heapkit" in names and "heapkit-secure" in names:
        # paired: the median of run k's ratio, the two builds' runs k being back to back
        # (a minute when the host slows both shifts neither ratio: steadier than the ratio
        # of the medians on a shared machine)
        lines += ["", "The secure build's cost: heapkit-secure / heapkit (1.00 = free); paired = "
                  "median of the per-run ratios (each run's two builds back to back):", "",
                  "| benchmark | time | time, paired | RSS |", "|---|---|---|---|"]
        st, sp, sm = [], [], []
        for name, _, _ in benches:
            t = med_t[(name, "heapkit-secure")] / med_t[(name, "heapkit")]
            pairs = zip(results[(name, "heapkit-secure")], results[(name, "heapkit")])
            p = statistics.median(s[0] / d[0] for s, d in pairs if d[0] > 0)
            m = med_m[(name, "heapkit-secure")] / med_m[(name, "heapkit")]
            st.append(t)
            sp.append(p)
            sm.append(m)
            lines.append(f"| {name} | {t:.2f} | {p:.2f} | {m:.2f} |")
        lines.append(f"| **geomean** | **{geomean(st):.2f}** | **{geomean(sp):.2f}** | "
                     f"**{geomean(sm):.2f}** |")

    if ("larson-1t", "glibc") in results:
        lines += ["", "Larson scaling: throughput with 2 threads / with 1 thread (same work per thread);",
                  "successor = the classic handoff, rotate = tables handed across lineages;",
                  "medians, and in parentheses the best run of each (least host interference):", ""]
        for a in names:
            one = statistics.median(r[2] / r[0] for r in results[("larson-1t", a)])
            best_one = max(r[2] / r[0] for r in results[("larson-1t", a)])
            row = []
            for bench, label in (("larson-2t", "successor"), ("larson-rotate-2t", "rotate")):
                if (bench, a) in results:
                    two = statistics.median(r[2] / r[0] for r in results[(bench, a)])
                    best_two = max(r[2] / r[0] for r in results[(bench, a)])
                    row.append(f"{label} {two / one:.2f}x (best runs {best_two / best_one:.2f}x)")
            lines.append(f"- {a}: " + ", ".join(row))

    if not opts.no_callgrind and shutil.which("valgrind"):
        lines += ["", "Fast path: instructions per malloc(32)/free pair (callgrind, (Ir(400k)-Ir(200k))/200k):", ""]
        for a, preload in allocators:
            try:
                lo = callgrind_ir(opts.build, preload, 200000)
                hi = callgrind_ir(opts.build, preload, 400000)
                lines.append(f"- {a}: {(hi - lo) / 200000:.1f}")
            except (subprocess.SubprocessError, RuntimeError) as e:
                lines.append(f"- {a}: failed ({e})")

    save_results("\n".join(lines), "bench")


def save_results(text, prefix):
    """Prints a report and keeps it as bench/results/<prefix>-<time>.md."""
    print(text)
    os.makedirs(os.path.join("bench", "results"), exist_ok=True)
    out = os.path.join("bench", "results", f"{prefix}-{datetime.datetime.now():%Y%m%d-%H%M%S}.md")
    with open(out, "w") as f:
        f.write(text + "\n")
    print(f"\n(saved to {out})")


if __name__ == "__main__":
    sys.exit(main())
