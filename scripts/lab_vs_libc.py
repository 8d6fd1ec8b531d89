#!/usr/bin/env python3
"""lab_vs_libc.py HEAPKIT TRACE... -- the lab's speed target, measured: does a policy
(hkfit by default) replay every graded trace faster than glibc's malloc?

Runs `HEAPKIT replay --policy P,libc --align A --repeat R --csv` over the graded CS:APP
traces (all *-bal.rep but short1/short2), BATCHES times per alignment, alternating the
alignments so that a noisy stretch of the host hurts both. Each batch gives a ratio
P ops/s / libc ops/s per trace (both measured in the same process, moments apart); the
table shows the median ratio over the batches and their range. Exit status 0 always
(a benchmark reports, it does not judge), the verdict line says whether the target holds.

    python3 scripts/lab_vs_libc.py build/heapkit ../shared/traces/*.rep
"""
import argparse
import csv
import io
import os
import statistics
import subprocess
import sys

UNGRADED = {"short1-bal.rep", "short2-bal.rep"}


def batch(heapkit, policy, align, repeat, traces):
    """ratio per trace path; None where either side did not replay it correctly (replay
    exits non-zero then, and its row says why)"""
    out = subprocess.run([heapkit, "replay", "--policy", f"{policy},libc", "--align", str(align),
                          "--repeat", str(repeat), "--csv"] + traces,
                         capture_output=True, text=True).stdout
    speed = {}
    for row in csv.DictReader(io.StringIO(out)):
        ok = row["verdict"] == "ok" and float(row["ops_per_sec"] or 0) > 0
        speed[(row["trace"], row["policy"])] = float(row["ops_per_sec"]) if ok else None
    ratios = {}
    for t in traces:
        mine, libc = speed.get((t, policy)), speed.get((t, "libc"))
        ratios[t] = mine / libc if mine and libc else None
    return ratios


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("heapkit")
    ap.add_argument("traces", nargs="+")
    ap.add_argument("--policy", default="hkfit")
    ap.add_argument("--batches", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=9)
    opts = ap.parse_args()
    traces = [t for t in opts.traces
              if t.endswith("-bal.rep") and os.path.basename(t) not in UNGRADED]
    if not traces:
        print("lab_vs_libc: no graded CS:APP traces given (../shared/traces missing?); skipped")
        return 0
    ratios = {}  # (align, trace) -> [ratio per batch]
    for _ in range(opts.batches):
        for align in (8, 16):
            for t, r in batch(opts.heapkit, opts.policy, align, opts.repeat, traces).items():
                ratios.setdefault((align, t), []).append(r)
    names = sorted({t for _, t in ratios}, key=os.path.basename)
    print(f"{opts.policy} ops/s / libc ops/s per graded trace: median of {opts.batches} batches "
          f"(range), each `replay --policy {opts.policy},libc --repeat {opts.repeat}`; "
          "above 1.00 = faster than glibc")
    print(f"{'trace':<20} {'align 8':>22} {'align 16':>22}")
    slower, failed = [], []
    for t in names:
        cells = []
        name = os.path.basename(t)
        for align in (8, 16):
            rs = ratios[(align, t)]
            if None in rs:
                failed.append(f"{name} at align {align}")
                cells.append("FAILED")
                continue
            med = statistics.median(rs)
            if med < 1.0:
                slower.append(f"{name} at align {align}")
            cells.append(f"{med:.2f}x ({min(rs):.2f}-{max(rs):.2f})")
        print(f"{name:<20} {cells[0]:>22} {cells[1]:>22}")
    if failed:
        print("verdict: no verdict, replays failed on " + ", ".join(failed) +
              " (see heapkit replay's rows for why)")
    elif slower:
        print(f"verdict: {opts.policy} is slower than glibc on " + ", ".join(slower))
    else:
        print(f"verdict: {opts.policy} is faster than glibc on all {len(names)} graded traces "
              "at both alignments (medians)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
