#!/bin/sh
# test_peers.sh -- `heapkit replay --peer`: traces played on real allocators by the player
# (heapkit-play): the shipped traces, a recorded multi-thread trace and a synthetic one
# full of cross-thread frees, on glibc, heapkit and the Debian peers, with --threads one
# and recorded; rows must pass, agree with the lab on ops and peak live, and have a
# footprint. Then the failures: bad options, missing peers, a broken allocator (NULL,
# misaligned, overlapping, dirty calloc, crash, hang), and play files that break each
# invariant of tools/play/playfile.h, written here by a writer of our own.
#
#   sh tests/tools/test_peers.sh HEAPKIT REC_PROG BAD_PEER_SO
#     HEAPKIT_LIBRARY: the heapkit peer's library, when the one beside HEAPKIT cannot be
#     preloaded (the sanitize build); without it there, the heapkit peer is left out.
# Ends with "N passed, N failed".

HEAPKIT=$1 PROG=$2 BAD=$3
PLAYER=$(dirname "$HEAPKIT")/heapkit-play
here=$(dirname "$0")
. "$here/../lib.sh"

ok() { pass; echo "ok   $1"; }
expect() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: got '$2', expected '$3'"; fi; }
expect_in() {
    if grep -Eq -- "$3" "$1"; then ok "$2"; else fail "$2: no line matching '$3'"; sed 's/^/    /' "$1" | head -5; fi
}
# run NAME STATUS ARGS...: heapkit, stdout in $tmp/out, stderr in $tmp/err
run() {
    name=$1 want=$2
    shift 2
    "$HEAPKIT" "$@" >"$tmp/out" 2>"$tmp/err"
    expect "$name: exit status" "$?" "$want"
}

for f in "$HEAPKIT" "$PLAYER" "$PROG" "$BAD"; do
    [ -e "$f" ] || { echo "FAIL: build $f first"; echo "0 passed, 1 failed"; exit 1; }
done
sh scripts/deps.sh libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0 >/dev/null 2>&1 ||
    echo "note: the Debian peers could not be installed; testing the others"
if [ -n "${HEAPKIT_LIBRARY:-}" ] && [ ! -r "$HEAPKIT_LIBRARY" ]; then
    echo "note: HEAPKIT_LIBRARY=$HEAPKIT_LIBRARY is missing: the heapkit peer is left out"
    unset HEAPKIT_LIBRARY
    SKIP_HEAPKIT=1
fi
# the peers `--peer all` must find
want_peers="glibc"
[ -z "${SKIP_HEAPKIT:-}" ] && "$HEAPKIT" replay --peer heapkit --repeat 0 traces/random.rep >/dev/null 2>&1 &&
    want_peers="$want_peers heapkit"
for p in jemalloc:libjemalloc.so.2 tcmalloc:libtcmalloc_minimal.so.4 mimalloc:libmimalloc.so.2; do
    [ -e "/usr/lib/x86_64-linux-gnu/${p#*:}" ] && want_peers="$want_peers ${p%%:*}"
done
echo "peers: $want_peers"

# ---- the traces ----
"$HEAPKIT" record -q -o "$tmp/mt.hkt" -- "$PROG" threads 4 200 >/dev/null 2>&1
expect "recorded a 4-thread trace" "$?" 0
# synthetic: 6 threads, every block freed (or grown) by another thread than its maker,
# ids reused across threads, calloc and aligned ops among them
python3 - "$tmp/cross.hkt" <<'EOF'
import random, sys
random.seed(11)
live, free_ids, ops = {}, list(range(300)), []
for n in range(30000):
    t = random.randrange(6)
    if free_ids and (not live or random.random() < 0.55):
        i = free_ids.pop(random.randrange(len(free_ids)))
        k = random.choice("aacm")
        size = random.choice([8, 24, 100, 700, 5000, 70000])
        live[i] = t
        ops.append(f"0 {t} {k} {i} {size}" + (" 64" if k == "m" else ""))
    else:
        i = random.choice(list(live))
        t = (live[i] + 1 + random.randrange(5)) % 6  # never its maker
        if random.random() < 0.2:
            live[i] = t
            ops.append(f"0 {t} r {i} {random.choice([16, 300, 9000])}")
        else:
            del live[i]
            free_ids.append(i)
            ops.append(f"0 {t} f {i}")
with open(sys.argv[1], "w") as f:
    f.write(f"heapkit-trace 1\nthreads 6\nids 300\nops {len(ops)}\n" + "\n".join(ops) + "\n")
EOF
TRACES="traces/adversary.rep traces/coalesce.rep traces/phased.rep traces/random.rep traces/realloc.rep $tmp/mt.hkt $tmp/cross.hkt"

# check_rows JSON MODE: every row ok; each peer row's ops and peak live equal the lab
# rows' for its trace; footprints > 0; every wanted peer has a row for every trace
check_rows() {
    if python3 - "$1" "$want_peers" "$2" <<'EOF'; then ok "$2: rows ok, peer = lab ops and peak live, footprints > 0"; else fail "$2: rows"; fi
import json, sys
d = json.load(open(sys.argv[1]))
want, mode = sys.argv[2].split(), sys.argv[3]
bad = []
lab, peers = {}, {}
for r in d["results"]:
    if r["verdict"] != "ok":
        bad.append(f"{r['trace']} {r['policy']}: {r.get('reason')}")
        continue
    if r["peer"] is None:
        lab[r["trace"]] = (r["ops"], r["peak_live"])
    else:
        peers.setdefault(r["trace"], {})[r["peer"]] = r
for t, (ops, live) in lab.items():
    got = peers.get(t, {})
    for p in want:
        r = got.get(p)
        if r is None:
            bad.append(f"{t}: no row for peer {p}")
        elif (r["ops"], r["peak_live"]) != (ops, live):
            bad.append(f"{t} {p}: ops/peak live {r['ops']}/{r['peak_live']}, lab {ops}/{live}")
        elif r["peak_footprint"] <= 0 or r["internal_frag"] is not None:
            bad.append(f"{t} {p}: footprint {r['peak_footprint']}, int-frag {r['internal_frag']}")
        elif r["seconds"] is None or r["policy"] != "peer:" + p:
            bad.append(f"{t} {p}: no time, or named {r['policy']}")
if d["peer_threads"] != mode or len(lab) < 7:
    bad.append(f"peer_threads {d['peer_threads']}, {len(lab)} traces")
for b in bad[:8]:
    print("   ", b)
sys.exit(1 if bad else 0)
EOF
}

for mode in one recorded; do
    run "replay --peer all --threads $mode" 0 replay --policy hkfit,libc --peer all \
        --threads $mode --repeat 2 --json $TRACES
    check_rows "$tmp/out" "$mode"
done
run "the table" 0 replay --peer glibc --repeat 1 traces/random.rep
expect_in "$tmp/out" "table: a peer row" "^random.rep +peer:glibc +12000 +3457128 +[0-9]+ .* ok$"
expect_in "$tmp/out" "table: the legend says what a peer's footprint is" "footprint = peak RSS above"
run "csv" 0 replay --peer glibc --repeat 0 --csv traces/random.rep
expect_in "$tmp/out" "csv: final_rss and instructions_per_op columns" "ops_per_sec,final_rss,instructions_per_op,verdict"
expect_in "$tmp/out" "csv: an untimed peer row" "^traces/random.rep,peer:glibc,12000,3457128,[1-9][0-9]*,"
run "--policy none without peers" 2 replay --policy none traces/random.rep
expect_in "$tmp/err" "--policy none without peers: message" "nothing to replay"

# ---- callgrind: the allocator's instructions per op ----
if command -v valgrind >/dev/null 2>&1; then
    run "--callgrind" 0 replay --peer glibc --callgrind --repeat 0 --json traces/realloc.rep "$tmp/mt.hkt"
    if python3 -c '
import json, sys
rows = json.load(open(sys.argv[1]))["results"]
sys.exit(0 if len(rows) == 2 and all((r["instructions_per_op"] or 0) > 10 and (r["player_instructions_per_op"] or 0) > 0 for r in rows) else 1)' "$tmp/out"; then
        ok "--callgrind: instructions per op"
    else
        fail "--callgrind: no instruction counts"
        head -c 600 "$tmp/out"
        cat "$tmp/err"
    fi
else
    echo "note: valgrind is not installed: --callgrind not tested"
fi

# ---- selection errors ----
run "unknown peer" 2 replay --peer glibc,frobmalloc traces/random.rep
expect_in "$tmp/err" "unknown peer: message" "unknown peer 'frobmalloc'"
HEAPKIT_LIBRARY=/nonexistent/libheapkit.so run "missing heapkit library" 2 replay --peer heapkit traces/random.rep
expect_in "$tmp/err" "missing heapkit library: message" "HEAPKIT_LIBRARY"
HEAPKIT_LIBRARY=/nonexistent/libheapkit.so run "--peer all skips a missing peer" 0 replay --peer all --repeat 0 traces/random.rep
expect_in "$tmp/err" "--peer all: the note" "note: skipping peer heapkit"
HEAPKIT_PLAYER=/nonexistent/heapkit-play run "missing player" 2 replay --peer glibc traces/random.rep
expect_in "$tmp/err" "missing player: message" "cannot find the player"
run "bad --threads" 2 replay --peer glibc --threads some traces/random.rep
for p in jemalloc tcmalloc mimalloc; do
    case " $want_peers " in *" $p "*) ;; *)
        run "$p not installed" 2 replay --peer $p traces/random.rep
        expect_in "$tmp/err" "$p not installed: names the package" "Debian package lib" ;;
    esac
done

# ---- the installed layout: bin/heapkit, lib/libheapkit.so, lib/heapkit/heapkit-play ----
if [ -z "${HEAPKIT_LIBRARY:-}" ] && [ -z "${SKIP_HEAPKIT:-}" ]; then
    mkdir -p "$tmp/prefix/bin" "$tmp/prefix/lib/heapkit"
    cp "$HEAPKIT" "$tmp/prefix/bin/heapkit"
    cp "$PLAYER" "$tmp/prefix/lib/heapkit/heapkit-play"
    cp "$(dirname "$HEAPKIT")/libheapkit.so" "$tmp/prefix/lib/libheapkit.so"
    "$tmp/prefix/bin/heapkit" replay --peer heapkit --repeat 0 --json traces/random.rep >"$tmp/out" 2>"$tmp/err"
    expect "installed: finds its player and library" "$?" 0
    expect_in "$tmp/out" "installed: the row" '"policy": "peer:heapkit", .*"verdict": "ok"'
fi

# ---- a broken allocator fails its row with the op, never a hang or a pass ----
# bad NAME MODE TRACE PATTERN: the heapkit peer is BAD, breaking as MODE says
bad() {
    BAD_PEER=$2 HEAPKIT_LIBRARY=$BAD run "broken allocator: $1" 1 replay --peer heapkit --repeat 1 "$3"
    expect_in "$tmp/out" "broken allocator: $1: verdict" "$4"
}
bad "NULL" null:50 traces/random.rep "FAIL op [0-9]+ \(line [0-9]+\): out of memory: malloc"
bad "misaligned" misalign:30 traces/random.rep "FAIL op [0-9]+ .*not 16-byte aligned"
bad "overlapping" overlap:40 traces/random.rep "FAIL op [0-9]+ .*contents of id [0-9]+ damaged"
bad "calloc not zeroed" dirty:3 "$tmp/mt.hkt" "FAIL op [0-9]+ .*calloc.*not zeroed"
bad "crash" crash:20 traces/random.rep "FAIL op [0-9]+ .*crashed \(signal 11"

# ---- the player on its own: play files written here (tools/play/playfile.h) ----
# mkplay.py IN OUT [CORRUPTION]: the trace IN (.rep or plain .hkt) as a play file
cat >"$tmp/mkplay.py" <<'EOF'
import struct, sys
src, out = sys.argv[1], sys.argv[2]
corrupt = sys.argv[3] if len(sys.argv) > 3 else ""
lines = [l.split() for l in open(src) if l.strip()]
ops, threads = [], []
if lines[0][0] == "heapkit-trace":
    nthreads = int(next(l[1] for l in lines if l[0] == "threads"))
    body = lines[next(i for i, l in enumerate(lines) if l[0] == "ops") + 1:]
    for l in body:
        threads.append(int(l[1]))
        k, i = l[2], int(l[3])
        size = int(l[4]) if len(l) > 4 else 0
        shift = int(l[5]).bit_length() - 1 if k == "m" else 0
        ops.append((k, i, size, shift))
else:
    nthreads = 1
    for l in lines[4:]:
        ops.append((l[0], int(l[1]), int(l[2]) if l[0] != "f" else 0, 0))
live, cur, peak, ids = {}, 0, 0, 0
for k, i, s, _ in ops:
    ids = max(ids, i + 1)
    if k in "rf":
        cur -= live.pop(i)
    if k != "f" and not (k == "r" and s == 0):
        live[i] = s
        cur += s
    peak = max(peak, cur)
flags = 1 if nthreads > 1 else 0
if corrupt == "kind":      ops[3] = ("x",) + ops[3][1:]
if corrupt == "id":        ops[2] = (ops[2][0], ids + 5) + ops[2][2:]
if corrupt == "align":     ops[0] = ops[0][:3] + (4,)
if corrupt == "lifecycle": ops.insert(0, ("f", ops[0][1], 0, 0))  # freed before it exists
if corrupt == "peak":      peak += 1
recs = b"".join(struct.pack("<QIBBH", s, i, ord(k), a, 0) for k, i, s, a in ops)
if flags:
    recs += struct.pack("<%dI" % len(threads), *threads) + b"\0" * (4 * (len(threads) % 2))
size = 48 + len(recs)
magic = b"HKPLAY2\n" if corrupt == "magic" else b"HKPLAY1\n"
version = 2 if corrupt == "version" else 1
if corrupt == "size": size += 16
data = magic + struct.pack("<IIIIIIQQ", version, flags, len(ops), ids, nthreads, 0, peak, size) + recs
if corrupt == "truncated": data = data[:-8]
open(out, "wb").write(data)
EOF
python3 "$tmp/mkplay.py" traces/random.rep "$tmp/random.play"
"$PLAYER" "$tmp/random.play" >"$tmp/pout" 2>"$tmp/perr"
expect "player: a play file written here" "$?" 0
expect_in "$tmp/pout" "player: the result line" "^ok ops=12000 ns=[0-9]+ baseline=[0-9]+ peak=[0-9]+ final=[0-9]+ peak_live=3457128 hwm_reset=1 threads=1$"
zcat -f "$tmp/cross.hkt" >"$tmp/cross.txt"
python3 "$tmp/mkplay.py" "$tmp/cross.txt" "$tmp/cross.play"
"$PLAYER" --threads recorded "$tmp/cross.play" >"$tmp/pout" 2>"$tmp/perr"
expect "player: --threads recorded on 6 threads" "$?" 0
expect_in "$tmp/pout" "player: 6 threads played" "^ok ops=30000 .* threads=6$"
"$PLAYER" --threads one "$tmp/cross.play" >"$tmp/pout" 2>"$tmp/perr"
expect_in "$tmp/pout" "player: --threads one plays on one thread" "^ok ops=30000 .* threads=1$"
for c in magic version size truncated kind id align lifecycle peak; do
    python3 "$tmp/mkplay.py" traces/random.rep "$tmp/bad.play" $c
    "$PLAYER" "$tmp/bad.play" >"$tmp/pout" 2>"$tmp/perr"
    expect "player: corrupt play file ($c): exit status" "$?" 2
    expect_in "$tmp/perr" "player: corrupt play file ($c): message" "^heapkit-play: .*bad.play: not a valid play file: .*P[1-7]: "
done
"$PLAYER" "$tmp/nonexistent.play" >"$tmp/pout" 2>"$tmp/perr"
expect "player: a missing file" "$?" 2
"$PLAYER" --expect /usr/lib/x86_64-linux-gnu/libc.so.6 "$tmp/random.play" >"$tmp/pout" 2>&1
expect "player: --expect LIB, the library malloc comes from" "$?" 0
LD_PRELOAD=$BAD "$PLAYER" --expect libc "$tmp/random.play" >"$tmp/pout" 2>"$tmp/perr"
expect "player: --expect libc with another malloc preloaded" "$?" 2
expect_in "$tmp/perr" "player: --expect names where malloc comes from" "malloc comes from .*bad_peer.so, not libc"
BAD_PEER=hang:20 LD_PRELOAD=$BAD "$PLAYER" --timeout 1 "$tmp/random.play" >"$tmp/pout" 2>"$tmp/perr"
expect "player: a hung allocator: exit status" "$?" 1
expect_in "$tmp/pout" "player: a hung allocator: the timeout names the op" "^fail op=[1-9][0-9]* timeout: "

finish
