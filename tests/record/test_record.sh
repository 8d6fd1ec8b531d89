#!/bin/sh
# test_record.sh -- `heapkit record` end to end: a test program that makes allocations
# nothing else makes (found by size in the trace) across 8 threads, fork, exec, a crash
# and _exit, every entry point once, call sites; then real Debian programs (python3 with
# threads, sqlite3, perl, gcc, sort), whose traces must replay on every lab policy with
# its checker passing and reproduce the operation count and peak live bytes of an
# independent reading of the file (hkt_count.awk).
#
#   sh tests/record/test_record.sh HEAPKIT REC_PROG [--quick]
#     --quick: the test program only (the sanitize build runs this)
# Ends with "N passed, N failed".

HEAPKIT=$1 PROG=$2 QUICK=$3
HEAPKIT_LIB=$(dirname "$HEAPKIT")/libheapkit.so
here=$(dirname "$0")
. "$here/../lib.sh"

# count TRACE [SIZE]: the independent reading, one line of "name value" pairs
count() { zcat -f "$1" | awk -v size="${2:-}" -f "$here/hkt_count.awk"; }
# field NAME: the value of NAME in the count line on stdin
field() { awk -v k="$1" '{ for (i = 1; i < NF; i += 2) if ($i == k) print $(i + 1) }'; }

# expect NAME GOT WANT
expect() {
    if [ "$2" = "$3" ]; then pass; else fail "$1: got '$2', expected '$3'"; fi
}
# record NAME STATUS ARGS...: heapkit record, its stderr in $tmp/NAME.err
record() {
    name=$1 want=$2
    shift 2
    "$HEAPKIT" record "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
    got=$?
    expect "$name: exit status of heapkit record" "$got" "$want"
}

# replays_everywhere NAME TRACE: every lab policy, checker every 2000 ops and at the end,
# and the replay's op count and peak live bytes equal the independent reading and the header
replays_everywhere() {
    name=$1 trace=$2
    if "$HEAPKIT" replay --policy all --repeat 0 --check-every 2000 --json "$trace" \
        >"$tmp/replay.json" 2>"$tmp/replay.err"; then
        pass
    else
        fail "$name: a policy failed on the recorded trace"
        grep -o '"policy": "[^"]*", [^}]*"verdict": "FAIL[^"]*"' "$tmp/replay.json" | head -3
        head -3 "$tmp/replay.err"
        return
    fi
    c=$(count "$trace")
    ops=$(echo "$c" | field ops) peak=$(echo "$c" | field peak_live)
    hpeak=$(echo "$c" | field header_peak)
    if python3 - "$tmp/replay.json" "$ops" "$peak" <<'EOF'; then pass; else fail "$name: replay counts differ from the file's"; fi
import json, sys
rows = json.load(open(sys.argv[1]))["results"]
ops, peak = int(sys.argv[2]), int(sys.argv[3])
bad = [r["policy"] for r in rows if r["ops"] != ops or r["peak_live"] != peak]
if bad:
    print("  ops/peak differ for", bad[:3], "want", ops, peak, "got", rows[0]["ops"], rows[0]["peak_live"])
sys.exit(1 if bad else 0)
EOF
    expect "$name: header peak-live" "$hpeak" "$peak"
    [ "$ops" -gt 0 ] && pass || fail "$name: the trace is empty"
}

[ -x "$HEAPKIT" ] && [ -x "$PROG" ] || { echo "FAIL: build $HEAPKIT and $PROG first"; echo "0 passed, 1 failed"; exit 1; }

# ---- usage ----
"$HEAPKIT" record --help >"$tmp/help" 2>&1; expect "record --help" $? 0
expect_in "$tmp/help" "record --help" "--callsites"
"$HEAPKIT" record >/dev/null 2>&1; expect "record without a command" $? 2
"$HEAPKIT" record -o "$tmp/x.hkt" -- /nonexistent/program 2>"$tmp/noprog.err"; expect "record of a missing program" $? 2
expect_in "$tmp/noprog.err" "missing program message" "cannot run '/nonexistent/program'"
HEAPKIT_RECORDER=/nonexistent.so "$HEAPKIT" record -o "$tmp/x.hkt" -- true 2>"$tmp/norec.err"; expect "record without the recorder" $? 2
expect_in "$tmp/norec.err" "missing recorder message" "cannot find the recorder"

# ---- 8 threads, cross-thread frees ----
record threads 0 -o "$tmp/threads.hkt" -- "$PROG" threads 8 400
c=$(count "$tmp/threads.hkt")
expect "threads: threads used" "$(echo "$c" | field threads_used)" 9
for t in 0 3 7; do
    n=$(count "$tmp/threads.hkt" $((10000 + t)) | field sized)
    expect "threads: blocks of thread $t (malloc, calloc, realloc, aligned)" "$n" 400
done
zcat "$tmp/threads.hkt" >"$tmp/threads.txt"
expect_in "$tmp/threads.txt" "threads: header" "^threads 9$"
expect_in "$tmp/threads.txt" "threads: aligned ops keep their alignment" " m [0-9]+ 1000[0-7] 64$"
if awk '$3 == "f" { f[$2]++ } END { n = 0; for (t in f) n++; exit !(n >= 9) }' "$tmp/threads.txt"; then pass; else fail "threads: frees on every thread"; fi
replays_everywhere threads "$tmp/threads.hkt"
if ! grep -q 'repaired' "$tmp/threads.err"; then pass; else fail "threads: repairs were needed"; cat "$tmp/threads.err"; fi

# ---- fork: the child inherits the parent's blocks ----
record fork 0 -o "$tmp/fork.hkt" -- "$PROG" fork 50
child=$(ls "$tmp"/fork.*.hkt 2>/dev/null | head -n 1)
if [ -n "$child" ]; then pass; else fail "fork: no trace for the child"; fi
if [ -n "$child" ]; then
    expect "fork: parent blocks" "$(count "$tmp/fork.hkt" 20001 | field sized)" 50
    expect "fork: child's own blocks" "$(count "$child" 20002 | field sized)" 50
    expect "fork: child inherits the parent's blocks" "$(count "$child" 20001 | field sized)" 50
    expect_in "$tmp/fork.err" "fork: inherited blocks said" "starts with the [0-9]+ blocks it inherited"
    zcat "$child" >"$tmp/child.txt"
    expect_in "$tmp/child.txt" "fork: child header names the parent" "^parent [0-9]+$"
    replays_everywhere fork-child "$child"
fi

# ---- exec: the recorder follows into the new image; OUT is what the process became ----
record exec 0 -o "$tmp/exec.hkt" -- "$PROG" exec 40
first=$(ls "$tmp"/exec.[0-9]*.hkt 2>/dev/null | head -n 1)
if [ -n "$first" ]; then pass; else fail "exec: no trace for the image before the exec"; ls "$tmp"; fi
expect "exec: OUT is the exec'd image" "$(count "$tmp/exec.hkt" 30002 | field sized)" 40
if [ -n "$first" ]; then
    expect "exec: the first image" "$(count "$first" 30001 | field sized)" 40
    zcat "$first" >"$tmp/exec.txt"
    expect_in "$tmp/exec.txt" "exec: first image ended by exec" "^ended exec$"
fi

# ---- a crash: what was buffered is written, the status is the program's ----
record crash 139 -o "$tmp/crash.hkt" -- "$PROG" crash 30
expect "crash: blocks before the crash" "$(count "$tmp/crash.hkt" 40001 | field sized)" 30
zcat "$tmp/crash.hkt" >"$tmp/crash.txt"
expect_in "$tmp/crash.txt" "crash: ended by signal 11" "^ended signal 11$"

# ---- _exit skips destructors ----
record exit 3 -o "$tmp/exit.hkt" -- "$PROG" exit 20
expect "_exit: blocks" "$(count "$tmp/exit.hkt" 50001 | field sized)" 20
zcat "$tmp/exit.hkt" >"$tmp/exit.txt"
expect_in "$tmp/exit.txt" "_exit: ended" "^ended exit 3$"

# ---- every entry point, with call sites ----
record kinds 0 --callsites -o "$tmp/kinds.hkt" -- "$PROG" kinds
zcat "$tmp/kinds.hkt" >"$tmp/kinds.txt"
for pat in " a [0-9]+ 60001 @" " c [0-9]+ 60003 @" " r [0-9]+ 60005 @" " a [0-9]+ 60006 @" \
    " m [0-9]+ 60007 256 @" " m [0-9]+ 60008 4096 @" " m [0-9]+ 60009 128 @" " m [0-9]+ 60010 4096 @" \
    " m [0-9]+ 61440 4096 @"; do
    expect_in "$tmp/kinds.txt" "kinds: '$pat'" "$pat"
done
id=$(awk '$3 == "a" && $5 == 60012 { print $4 }' "$tmp/kinds.txt")
if [ -n "$id" ] && awk -v id="$id" 'found && $3 == "f" && $4 == id { ok = 1 } $3 == "a" && $5 == 60012 { found = 1 } END { exit !ok }' "$tmp/kinds.txt"; then
    pass
else
    fail "kinds: realloc(p, 0) is not recorded as a free"
fi
expect_in "$tmp/kinds.txt" "kinds: call sites name the caller" "^s [0-9]+ run_kinds\+0x[0-9a-f]+ \(rec_prog\)$"
replays_everywhere kinds "$tmp/kinds.hkt"
expect_in "$tmp/kinds.txt" "before main: a constructor's malloc" " a [0-9]+ 70001 @"
# on top of another allocator: the recorder forwards to whatever is next (libheapkit here;
# not in the sanitize build, whose library needs the ASan runtime first)
if [ "$QUICK" != "--quick" ] && [ -r "$HEAPKIT_LIB" ]; then
    LD_PRELOAD="$HEAPKIT_LIB" "$HEAPKIT" record -o "$tmp/onhk.hkt" -- "$PROG" threads 4 100 >/dev/null 2>"$tmp/onhk.err"
    expect "record a program running on libheapkit" $? 0
    expect "on libheapkit: blocks of thread 2" "$(count "$tmp/onhk.hkt" 10002 | field sized)" 100
fi
# the program closes every descriptor and opens its own file: the recorder never writes in it
record closefd 0 -o "$tmp/closefd.hkt" -- "$PROG" closefd "$tmp/user.txt"
expect "closefd: the program's file holds only its own data" "$(sort -u "$tmp/user.txt")" "user data"
expect "closefd: every block recorded" "$(count "$tmp/closefd.hkt" 80001 | field sized)" 20000
# glibc rounds odd alignments up: the trace holds what the blocks got
record oddalign 0 -o "$tmp/oddalign.hkt" -- "$PROG" oddalign
zcat "$tmp/oddalign.hkt" >"$tmp/oddalign.txt"
expect_in "$tmp/oddalign.txt" "memalign(24) as 32" " m [0-9]+ 90001 32$"
expect_in "$tmp/oddalign.txt" "aligned_alloc(48) as 64" " m [0-9]+ 90048 64$"
# threads that allocate after their TLS destructors must not keep a buffer and a descriptor
(ulimit -n 256 && "$HEAPKIT" record -q -o "$tmp/freeres.hkt" -- "$PROG" freeres 400) >/dev/null 2>"$tmp/freeres.err"
expect "freeres: 400 threads under ulimit -n 256" $? 0
"$HEAPKIT" replay --policy hkfit --repeat 0 "$tmp/freeres.hkt" >/dev/null 2>&1
expect "freeres: the trace replays" $? 0
# quick_exit skips destructors and _exit's hook
record quickexit 4 -o "$tmp/quick.hkt" -- "$PROG" quickexit 25
expect "quick_exit: blocks" "$(count "$tmp/quick.hkt" 50002 | field sized)" 25
# ---- converted while it runs (tools/rawlive.h), and after it when that cannot be exact ----
export HEAPKIT_RECORD_LIVE=say
# 100 rounds: 20000 events, so buffers of 256 KiB reach the file while the program runs
record live 0 -o "$tmp/live.hkt" -- "$PROG" steady 100
expect_in "$tmp/live.err" "live: converted while the program ran" "converted while the program ran$"
expect "live: every block" "$(count "$tmp/live.hkt" 100001 | field sized)" 10000
replays_everywhere live "$tmp/live.hkt"
record livecs 0 --callsites -o "$tmp/livecs.hkt" -- "$PROG" steady 100
expect_in "$tmp/livecs.err" "live --callsites: converted while the program ran" "converted while the program ran$"
zcat "$tmp/livecs.hkt" >"$tmp/livecs.txt"
expect_in "$tmp/livecs.txt" "live --callsites: call sites named at the end" '^s [0-9]+ [a-z_]+\+0x[0-9a-f]+ \(rec_prog\)$'
expect_in "$tmp/livecs.txt" "live --callsites: ops name them" ' a [0-9]+ 100001 @[0-9]+$'
HEAPKIT_RECORD_LIVE=0 "$HEAPKIT" record -q -o "$tmp/post.hkt" -- "$PROG" steady 100 >/dev/null 2>&1
# the same ops either way (only the times of a run differ): every line but pid, parent, times
ops_of() { zcat "$1" | awk '/^(pid|parent) / { next } NF >= 4 && $1 ~ /^[0-9]+$/ { $1 = "" } { print }'; }
if [ "$(ops_of "$tmp/live.hkt" | cksum)" = "$(ops_of "$tmp/post.hkt" | cksum)" ]; then pass; else fail "live: ops differ from the conversion after the end"; fi
# a thread holds an old event in its unwritten buffer while main's newer ones are converted
# (100 rounds: 20000 events, more than one 256 KiB buffer of main's reaches its file)
record oldbuffer 0 -o "$tmp/oldbuf.hkt" -- "$PROG" oldbuffer 100
expect_in "$tmp/oldbuffer.err" "oldbuffer: the live conversion gives up" "converted after the program ended: events arrived out of order$"
c=$(count "$tmp/oldbuf.hkt" 100002)
expect "oldbuffer: the held block" "$(echo "$c" | field sized)" 1
expect "oldbuffer: threads used" "$(echo "$c" | field threads_used)" 2
zcat "$tmp/oldbuf.hkt" >"$tmp/oldbuf.txt"
id=$(awk '$3 == "a" && $5 == 100002 { print $4 }' "$tmp/oldbuf.txt")
if [ -n "$id" ] && awk -v id="$id" 'held && $3 == "f" && $4 == id { ok = 1 } $5 == 100002 { held = 1 } END { exit !ok }' "$tmp/oldbuf.txt"; then pass; else fail "oldbuffer: the held block is never freed"; fi
# in the order it happened: the held block before main's first (a live merge breaks this)
if awk '$5 == 100002 { held = NR } $5 == 100001 && !first { first = NR } END { exit !(held && first && held < first) }' "$tmp/oldbuf.txt"; then pass; else fail "oldbuffer: the held block's malloc is not before main's blocks"; fi
expect "oldbuffer: main's blocks" "$(count "$tmp/oldbuf.hkt" 100001 | field sized)" 10000
if ! grep -q 'repaired' "$tmp/oldbuffer.err"; then pass; else fail "oldbuffer: repairs were needed"; cat "$tmp/oldbuffer.err"; fi
replays_everywhere oldbuffer "$tmp/oldbuf.hkt"
unset HEAPKIT_RECORD_LIVE

# a command line far longer than a meta line
record longcmd 0 -o "$tmp/long.hkt" -- "$PROG" kinds $(seq 1 1500)
zcat "$tmp/long.hkt" >"$tmp/long.txt"
expect_in "$tmp/long.txt" "long command line, cut" "^command .* 3 4 5 .*\.\.\.$"

# progress on stderr only when it is a terminal
if ! grep -q 'heapkit record:' "$tmp/kinds.err"; then pass; else fail "record: progress without a terminal"; fi
if command -v script >/dev/null 2>&1; then
    script -qec "$HEAPKIT record -o $tmp/tty.hkt -- $PROG kinds" /dev/null >"$tmp/tty.out" 2>&1
    expect_in "$tmp/tty.out" "record: progress on a terminal" 'heapkit record: writing the trace of'
fi
record named 0 -o "$tmp/p%p.hkt" -- "$PROG" fork 5
record longname 0 -o "$tmp/%p-a-rather-long-but-reasonable-name-for-a-trace.hkt" -- "$PROG" kinds
n=$(ls "$tmp"/[0-9]*-a-rather-long-but-reasonable-name-for-a-trace.hkt 2>/dev/null | wc -l)
expect "%p with a long name after it" "$n" 1
n=$(ls "$tmp"/p[0-9]*.hkt 2>/dev/null | wc -l)
expect "%p names every process's trace" "$n" 2

# ---- glibc's MALLOC_TRACE log, imported ----
debug=$(ls /lib/x86_64-linux-gnu/libc_malloc_debug.so.0 /usr/lib/x86_64-linux-gnu/libc_malloc_debug.so.0 2>/dev/null | head -n 1)
if [ -n "$debug" ]; then
    MALLOC_TRACE="$tmp/m.log" LD_PRELOAD="$debug" "$PROG" mtrace >/dev/null
    "$HEAPKIT" import mtrace "$tmp/m.log" -o "$tmp/m.hkt" 2>"$tmp/m.err"; expect "import mtrace" $? 0
    zcat "$tmp/m.hkt" >"$tmp/m.txt"
    for pat in " a [0-9]+ 60001 @" " a [0-9]+ 60003 @" " r [0-9]+ 60005 @" " a [0-9]+ 60009 @" " a [0-9]+ 61440 @"; do
        expect_in "$tmp/m.txt" "mtrace: '$pat'" "$pat"
    done
    expect_in "$tmp/m.txt" "mtrace: callers kept" '^s 0 .*rec_prog 0x[0-9a-f]+$'
    expect "mtrace: every block of the program freed" "$(grep -c ' f ' "$tmp/m.txt")" \
        "$(awk '$3 == "a" && $5 >= 60001 && $5 <= 61440' "$tmp/m.txt" | wc -l)"
    replays_everywhere mtrace "$tmp/m.hkt"
else
    echo "note: libc_malloc_debug.so.0 not found: mtrace import tested on a written log only"
fi
printf '= Start\n@ ./p:[0x10] + 0x1000 0x20\n@ ./p:[0x11] < 0x1000\n@ ./p:[0x11] > 0x2000 0x40\n- 0x2000\n! 0x3000 0x10\n= End\n' >"$tmp/w.log"
"$HEAPKIT" import mtrace "$tmp/w.log" -o "$tmp/w.txt" 2>"$tmp/w.err"
expect "import of a written log" $? 0
expect_in "$tmp/w.txt" "written log: realloc that moved" '^0 0 r 0 64 @1$'
expect_in "$tmp/w.txt" "written log: free after it" '^0 0 f 0$'
printf '= Start\n@ ./p:[0x10] + 0x1000 0x20\n@ ./p:[0x10] * 0x1000\n' >"$tmp/bad.log"
"$HEAPKIT" import mtrace "$tmp/bad.log" -o "$tmp/bad.hkt" 2>"$tmp/bad.err"; expect "import of a bad log" $? 2
expect_in "$tmp/bad.err" "bad log message" "^heapkit: $tmp/bad.log:3: not a glibc malloc trace line"
printf '@ ./p:[0x10] + 0x1000 0x20000000000\n' >"$tmp/bad3.log"
"$HEAPKIT" import mtrace "$tmp/bad3.log" -o "$tmp/bad.hkt" 2>"$tmp/bad.err"; expect "import: a size above 2^40" $? 2
expect_in "$tmp/bad.err" "oversized message" "^heapkit: $tmp/bad3.log:1: size [0-9]+ is absurd"
printf '@ ./p:[0x10] + 0x1000 0x1ffffffffffffffffff\n' >"$tmp/bad4.log"
"$HEAPKIT" import mtrace "$tmp/bad4.log" -o "$tmp/bad.hkt" 2>"$tmp/bad.err"; expect "import: a number that overflows" $? 2
printf '@ ./p:[0x10] > 0x1000 0x20\n' >"$tmp/bad2.log"
"$HEAPKIT" import mtrace "$tmp/bad2.log" -o "$tmp/bad.hkt" 2>"$tmp/bad.err"; expect "import: '>' alone" $? 2
expect_in "$tmp/bad.err" "'>' alone message" "^heapkit: $tmp/bad2.log:1: a '>' line without"
"$HEAPKIT" import mtrace 2>/dev/null; expect "import without a log" $? 2

if [ "$QUICK" = "--quick" ]; then finish; exit $?; fi

# ---- real programs from Debian ----
sh scripts/deps.sh sqlite3 perl gcc coreutils >/dev/null 2>&1
PY=/usr/bin/python3
cat >"$tmp/work.py" <<'EOF'
import json, re, threading
def work(n):
    data = [{"id": i, "name": "item%d" % i, "tags": ["t%d" % (i % 7)] * (i % 5)} for i in range(n)]
    text = json.dumps(data)
    back = json.loads(text)
    return sum(len(re.findall(r"item\d+", json.dumps(x))) for x in back)
threads = [threading.Thread(target=work, args=(3000,)) for _ in range(3)]
for t in threads: t.start()
for t in threads: t.join()
print(work(2000))
EOF
record python3 0 -o "$tmp/python3.hkt" -- "$PY" "$tmp/work.py"
expect "python3: threads used" "$(count "$tmp/python3.hkt" | field threads_used)" 4
replays_everywhere python3 "$tmp/python3.hkt"
# the recorder's signal handlers stay invisible: CPython still installs its own for SIGINT
printf 'import os, signal, time\ntry:\n    os.kill(os.getpid(), signal.SIGINT)\n    time.sleep(1)\n    print("not interrupted")\nexcept KeyboardInterrupt:\n    print("KeyboardInterrupt caught")\n' >"$tmp/ki.py"
"$HEAPKIT" record -q -o "$tmp/ki.hkt" -- "$PY" "$tmp/ki.py" >"$tmp/ki.out" 2>&1
expect "python3: SIGINT is still a KeyboardInterrupt" "$(cat "$tmp/ki.out")" "KeyboardInterrupt caught"

cat >"$tmp/work.sql" <<'EOF'
CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c REAL);
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 20000)
INSERT INTO t SELECT x, printf('row %d %s', x, hex(randomblob(8))), x * 0.5 FROM n;
CREATE INDEX tb ON t(b);
SELECT count(*), sum(c) FROM t WHERE b LIKE 'row 1%';
SELECT b FROM t ORDER BY c DESC LIMIT 3;
EOF
record sqlite3 0 -o "$tmp/sqlite3.hkt" -- sqlite3 :memory: ".read $tmp/work.sql"
replays_everywhere sqlite3 "$tmp/sqlite3.hkt"

record perl 0 -o "$tmp/perl.hkt" -- perl -e 'my %h; for my $i (1..6000) { $h{"k$i"} = [$i, "v" x ($i % 40)] } my $s = join ",", map { $_->[0] } values %h; print length($s), "\n";'
replays_everywhere perl "$tmp/perl.hkt"

awk 'BEGIN { for (i = 0; i < 20; i++) printf "int f%d(int *a, int n) { int s = 0; for (int i = 0; i < n; i++) s += a[i] * %d + (s >> 3); return s; }\n", i, i }' >"$tmp/gen.c"
record gcc 0 -o "$tmp/gcc.hkt" -- gcc -O2 -c "$tmp/gen.c" -o "$tmp/gen.o"
cc1=$(grep -l 'cc1' "$tmp"/gcc*.hkt 2>/dev/null | head -n 1)
for f in "$tmp"/gcc*.hkt; do
    zcat "$f" | grep -q '^program .*/cc1$' && cc1=$f
done
if [ -n "$cc1" ]; then pass; else fail "gcc: no trace of cc1 (the compiler proper, a child process)"; fi
[ -n "$cc1" ] && replays_everywhere gcc-cc1 "$cc1"
replays_everywhere gcc-driver "$tmp/gcc.hkt"

awk 'BEGIN { srand(7); for (i = 0; i < 60000; i++) printf "%08d line %d\n", int(rand() * 1e8), i }' >"$tmp/lines.txt"
record sort 0 -o "$tmp/sort.hkt" -- sort --parallel=2 -S 1M "$tmp/lines.txt" -o "$tmp/sorted.txt"
replays_everywhere sort "$tmp/sort.hkt"

finish
