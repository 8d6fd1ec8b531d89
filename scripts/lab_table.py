#!/usr/bin/env python3
"""lab_table.py CSV... -- turns `heapkit replay --csv` output into the markdown tables of
docs/LAB-RESULTS.md: utilization per trace and policy with the graded mean (the 11
CS:APP traces but short1/short2) and the mean over our generated traces, then
throughput relative to the libc row of the same run (geometric mean over the graded
traces; above 1.00 = faster than glibc).

    heapkit replay --policy all --align 8 --csv TRACES > a8.csv
    python3 scripts/lab_table.py a8.csv
"""
import csv
import math
import os
import sys

UNGRADED = {"short1-bal", "short2-bal"}


def trace_key(path):
    name = os.path.basename(path).replace(".rep", "").replace(".gz", "")
    return name if name.endswith("-bal") else "gen:" + name


def load(path):
    policies, util, speed, ops = [], {}, {}, {}
    with open(path) as f:
        for row in csv.DictReader(f):
            p, t = row["policy"], trace_key(row["trace"])
            if p not in policies:
                policies.append(p)
            if row["verdict"] != "ok":
                util.setdefault(p, {})[t] = None
                continue
            util.setdefault(p, {})[t] = float(row["utilization_pct"])
            ops[t] = int(row["ops"])
            if row["ops_per_sec"]:
                speed.setdefault(p, {})[t] = float(row["ops_per_sec"])
    return policies, util, speed, ops


def mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else float("nan")


def short(t):
    return t.replace("-bal", "").replace("gen:", "g:")


def main():
    for path in sys.argv[1:]:
        policies, util, speed, ops = load(path)
        traces = list(util[policies[0]].keys())
        graded = [t for t in traces if not t.startswith("gen:") and t not in UNGRADED]
        ours = [t for t in traces if t.startswith("gen:")]
        print(f"\n#### {os.path.basename(path)}: utilization % (peak live / footprint high-water)\n")
        head = [short(t) for t in traces if t not in UNGRADED]
        print("| policy | " + " | ".join(head) + " | **graded mean** | generated mean |")
        print("|---" * (len(head) + 3) + "|")
        for p in policies:
            cells = ["FAIL" if util[p].get(t) is None else f"{util[p][t]:.1f}"
                     for t in traces if t not in UNGRADED]
            print(f"| {p} | " + " | ".join(cells)
                  + f" | **{mean(util[p].get(t) for t in graded):.1f}**"
                  + f" | {mean(util[p].get(t) for t in ours):.1f} |")
        if "libc" not in speed:
            continue
        print(f"\n#### {os.path.basename(path)}: throughput relative to libc (geometric mean over the graded traces)\n")
        print("| policy | Mops/s (graded, total ops / total time) | x libc (geomean of per-trace ratios) | traces faster than libc |")
        print("|---|---|---|---|")
        for p in policies:
            s = speed.get(p, {})
            common = [t for t in graded if t in s and t in speed["libc"]]
            if not common:
                continue
            ratios = [s[t] / speed["libc"][t] for t in common]
            geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
            faster = sum(r > 1 for r in ratios)
            total_ops = sum(ops[t] for t in common)
            total_time = sum(ops[t] / s[t] for t in common)
            print(f"| {p} | {total_ops / total_time / 1e6:.1f} | {geo:.2f} | {faster}/{len(common)} |")


if __name__ == "__main__":
    main()
