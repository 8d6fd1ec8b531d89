#!/usr/bin/env python3
"""bench_record.py -- what recording costs (issue 7): `heapkit record` against heaptrack.

For each real program from Debian (python3, sqlite3, perl, gcc's cc1), measured as a user meets
it, wall time of the whole command:
  plain       the program alone
  recorder    the program under the recorder library alone (what the program is slowed by;
              the raw log is written, not yet turned into a trace)
  record      `heapkit record` (recorder + the gzip trace, converted while the program runs)
  record-post the same with HEAPKIT_RECORD_LIVE=0: converted only after the program ended
  record-cs   `heapkit record --callsites`
  heaptrack   `heaptrack` 1.4 (Debian), which always records call stacks
Runs are interleaved (run 1 of every mode of every program, then run 2, ...), so a noisy
neighbour hurts all modes alike; we report medians and the ratio of each mode to plain,
of wall time and of CPU time (user + sys of the process tree: less sensitive to load, but
blind to what runs in parallel: heapkit record converts on the other core while the
program runs).
Targets: record <= 1.5x plain; record-cs < heaptrack.
"""
import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PY = "/usr/bin/python3"

PY_WORK = r'''
import json, re
data = [{"id": i, "name": "item%d" % i, "tags": ["t%d" % (i % 7)] * (i % 5)} for i in range(120000)]
text = json.dumps(data)
back = json.loads(text)
print(sum(len(re.findall(r"item\d+", json.dumps(x))) for x in back[:40000]))
'''

SQL_WORK = """
CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c REAL);
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 150000)
INSERT INTO t SELECT x, printf('row %d %s', x, hex(randomblob(8))), x * 0.5 FROM n;
CREATE INDEX tb ON t(b);
SELECT count(*), sum(c) FROM t WHERE b LIKE 'row 1%';
SELECT substr(b, 1, 6), count(*) FROM t GROUP BY 1 ORDER BY 2 DESC LIMIT 3;
"""

PERL_WORK = ('my %h; for my $i (1..200000) { $h{"k$i"} = [$i, "v" x ($i % 40)] } '
             'my $n = 0; for my $k (keys %h) { $n++ if $k =~ /7/ } print "$n\\n";')


def gen_c(path, functions):
    with open(path, "w") as f:
        for i in range(functions):
            f.write(f"int f{i}(int *a, int n) {{ int s = 0; for (int i = 0; i < n; i++) "
                    f"s += a[i] * {i} + (s >> 3); return s; }}\n")


def programs(tmp):
    py = os.path.join(tmp, "work.py")
    with open(py, "w") as f:
        f.write(PY_WORK)
    sql = os.path.join(tmp, "work.sql")
    with open(sql, "w") as f:
        f.write(SQL_WORK)
    c = os.path.join(tmp, "gen.c")
    gen_c(c, 120)
    # cc1 itself, not the gcc driver: heaptrack does not follow a driver into its children
    cc1 = subprocess.run(["gcc", "-print-prog-name=cc1"], capture_output=True,
                         text=True).stdout.strip()
    return [
        ("python3", [PY, py]),
        ("sqlite3", ["sqlite3", ":memory:", f".read {sql}"]),
        ("perl", ["perl", "-e", PERL_WORK]),
        ("gcc-cc1", [cc1, "-quiet", "-O2", c, "-o", os.path.join(tmp, "gen.s")]),
    ]


def ensure(pkgs):
    missing = [p for p in pkgs if subprocess.run(["dpkg-query", "-W", "-f=${Status}", p],
               capture_output=True, text=True).stdout.find("install ok installed") < 0]
    if missing:
        subprocess.run(["sh", "scripts/deps.sh"] + missing, check=False)


CPU = {}  # (program, mode) -> CPU seconds (user + sys) of each run, the whole process tree


def run(cmd, env=None):
    """Wall seconds of cmd; its CPU seconds (user + sys, children included) go to run.cpu."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    r = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    run.cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])}... failed ({r.returncode}): "
                           f"{r.stderr.decode(errors='replace')[-300:]}")
    return t


def modes(build, tmp):
    heapkit = os.path.join(build, "heapkit")
    recorder = os.path.abspath(os.path.join(build, "libheapkit-record.so"))
    raw = os.path.join(tmp, "raw")

    def plain(cmd):
        return run(cmd)

    def recorder_only(cmd):
        shutil.rmtree(raw, ignore_errors=True)
        os.mkdir(raw)
        env = dict(os.environ, LD_PRELOAD=recorder, HEAPKIT_RECORD_DIR=raw)
        return run(cmd, env)

    def record(cmd):
        return run([heapkit, "record", "-q", "-o", os.path.join(tmp, "t.hkt"), "--"] + cmd)

    def record_post(cmd):  # the conversion only after the program ended, as before live
        env = dict(os.environ, HEAPKIT_RECORD_LIVE="0")
        return run([heapkit, "record", "-q", "-o", os.path.join(tmp, "t.hkt"), "--"] + cmd, env)

    def record_cs(cmd):
        return run([heapkit, "record", "-q", "--callsites", "-o", os.path.join(tmp, "t.hkt"),
                    "--"] + cmd)

    def heaptrack(cmd):
        return run(["heaptrack", "-o", os.path.join(tmp, "ht")] + cmd)

    found = [("plain", plain), ("recorder", recorder_only), ("record", record),
             ("record-post", record_post), ("record-cs", record_cs)]
    if shutil.which("heaptrack"):
        found.append(("heaptrack", heaptrack))
    else:
        print("note: heaptrack not installed; its column is skipped")
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", help="comma-separated program names")
    args = ap.parse_args()
    ensure(["heaptrack", "sqlite3", "perl", "gcc"])
    tmp = tempfile.mkdtemp(prefix="heapkit-bench-record.")
    try:
        progs = programs(tmp)
        if args.only:
            progs = [p for p in progs if p[0] in args.only.split(",")]
        ms = modes(args.build, tmp)
        times = {(p, m): [] for p, _ in progs for m, _ in ms}
        for r in range(args.runs):
            for p, cmd in progs:
                for m, fn in ms:
                    times[(p, m)].append(fn(cmd))
                    CPU.setdefault((p, m), []).append(run.cpu)
            print(f"run {r + 1}/{args.runs} done", file=sys.stderr, flush=True)
        ops = {}
        for p, cmd in progs:  # the size of what was recorded, for the table
            subprocess.run([os.path.join(args.build, "heapkit"), "record", "-o",
                            os.path.join(tmp, "size.hkt"), "--"] + cmd,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            n = 0
            for f in os.listdir(tmp):
                if f.startswith("size") and f.endswith(".hkt"):
                    out = subprocess.run(["sh", "-c", f"zcat {os.path.join(tmp, f)} | sed -n '/^ops /{{s/ops //p;q}}'"],
                                         capture_output=True, text=True).stdout.strip()
                    n += int(out or 0)
                    os.unlink(os.path.join(tmp, f))
            ops[p] = n
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                if l.startswith("model name")), platform.processor())
    print(f"\nrecording overhead: commit {commit}, {cpu}, {os.cpu_count()} cpus, "
          f"median of {args.runs} interleaved runs, wall seconds (ratio to plain)")
    names = [m for m, _ in ms]
    print(f"{'program':10} {'ops':>9} " + " ".join(f"{m:>15}" for m in names))
    verdict = []
    for p, _ in progs:
        base = statistics.median(times[(p, "plain")])
        cells = []
        for m in names:
            med = statistics.median(times[(p, m)])
            cells.append(f"{med:7.2f} ({med / base:4.2f}x)" if m != "plain" else f"{med:15.2f}")
        print(f"{p:10} {ops[p]:9d} " + " ".join(f"{c:>15}" for c in cells))
        rec = statistics.median(times[(p, "record")]) / base
        verdict.append((p, rec, statistics.median(times[(p, "record-cs")]),
                        statistics.median(times[(p, "heaptrack")]) if "heaptrack" in names else None))
    print(f"\nCPU seconds (user + sys of the whole process tree), median (ratio to plain)")
    print(f"{'program':10} " + " ".join(f"{m:>15}" for m in names))
    for p, _ in progs:
        base = statistics.median(CPU[(p, "plain")])
        cells = [f"{statistics.median(CPU[(p, m)]):7.2f} ({statistics.median(CPU[(p, m)]) / base:4.2f}x)"
                 if m != "plain" else f"{base:15.2f}" for m in names]
        print(f"{p:10} " + " ".join(f"{c:>15}" for c in cells))
    print()
    for p, rec, cs, ht in verdict:
        line = f"{p}: record {rec:.2f}x plain ({'meets' if rec <= 1.5 else 'misses'} <= 1.5x)"
        if ht is not None:
            line += f"; record --callsites {cs:.2f} s vs heaptrack {ht:.2f} s " \
                    f"({'faster' if cs < ht else 'NOT faster'})"
        print(line)


if __name__ == "__main__":
    main()
