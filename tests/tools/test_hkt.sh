#!/bin/sh
# test_hkt.sh -- the heapkit-trace format (docs/TRACE-FORMAT.md) and `heapkit convert`:
# good recorded traces replay on every policy with their new kinds (calloc, aligned),
# malformed ones exit 2 naming FILE:LINE, and conversion round-trips both ways, gzip or not.
#
#   sh tests/tools/test_hkt.sh [path/to/heapkit]
#
# Ends with the line "N passed, N failed" and exits non-zero if anything failed.

HEAPKIT=${1:-build/heapkit}
. "$(dirname "$0")/../lib.sh"

head='heapkit-trace 1\nprogram /bin/demo\ncommand demo -x\npid 7\nthreads 2\nids 4\ncallsites 2\ns 0 main+0x10 (demo)\ns 1 0x1234 (libc.so.6)\n'
good=$(trace good.hkt "${head}ops 9\n0 0 a 0 100 @0\n10 0 c 1 50 @1\n20 1 m 2 1000 4096\n5 1 r 0 300\n3 0 f 1\n7 1 a 3 0\n1 0 f 2\n1 0 r 0 0\n2 1 m 1 24 64\n")

# ---- good traces: every policy, full checks, both alignments ----
run "recorded trace, every policy" 0 replay --policy all --repeat 1 --check-every 1 "$good"
rows=$(grep -c ' ok$' "$tmp/out")
policies=$("$HEAPKIT" policies | wc -l)
if [ "$rows" -eq "$policies" ]; then pass; else fail "every policy: $rows ok rows of $policies"; fi
run "recorded trace, align 8" 0 replay --policy all --repeat 0 --align 8 "$good"
run "json peak-live" 0 replay --policy hkfit --repeat 0 --json "$good"
expect_in "$tmp/out" "peak-live is the sum of live requests" '"peak_live": 1350'
gzip -c "$good" >"$tmp/good.hkt.gz"
run "gzip recorded trace" 0 replay --policy segfit --repeat 0 "$tmp/good.hkt.gz"
minimal=$(trace minimal.hkt 'heapkit-trace 1\nthreads 1\nids 1\nops 2\n0 0 a 0 8\n5 0 f 0\n')
run "only the required keys" 0 replay --policy list --repeat 0 "$minimal"
empty=$(trace empty.hkt 'heapkit-trace 1\nthreads 0\nids 0\nops 0\n')
run "no ops at all" 0 replay --policy list --repeat 0 "$empty"

if ! grep -q 'heapkit replay:' "$tmp/err"; then pass; else fail "replay: progress without a terminal"; fi
if command -v script >/dev/null 2>&1; then
    script -qec "$HEAPKIT replay --policy list,hkfit --repeat 0 $good" /dev/null >"$tmp/tty.out" 2>&1
    expect_in "$tmp/tty.out" "replay: progress on a terminal" 'heapkit replay: good.hkt \(1/1\): hkfit \(2/2\)'
fi

# ---- conversion: hkt -> rep -> hkt, compressed or not ----
run "convert to rep" 0 convert "$good" -o "$tmp/c.rep"
expect_in "$tmp/err" "convert says what the classic format drops" "calloc or aligned allocations became plain"
if [ "$(head -n 3 "$tmp/c.rep" | tr '\n' ' ')" = "1 4 9 " ]; then pass; else fail "rep header: $(head -n 4 "$tmp/c.rep" | tr '\n' ' ')"; fi
run "rep replays" 0 replay --policy hkfit --repeat 0 "$tmp/c.rep"
run "convert to hkt (gzip by name)" 0 convert "$good" -o "$tmp/c.hkt"
if gzip -t "$tmp/c.hkt" 2>/dev/null; then pass; else fail ".hkt output is not gzip"; fi
run "convert again, plain" 0 convert "$tmp/c.hkt" -o "$tmp/d.hkt" --plain
if zcat "$tmp/c.hkt" | cmp -s - "$tmp/d.hkt"; then pass; else fail "hkt round trip changed the file"; fi
# what the writer wrote is what the reader read: the header, the table, every op line
grep -v '^peak-live' "$tmp/d.hkt" >"$tmp/d.body"
if cmp -s "$tmp/d.body" "$good"; then pass; else fail "hkt rewrite differs from its source"; diff "$good" "$tmp/d.body" | head -5; fi
expect_in "$tmp/d.hkt" "writer states peak-live" '^peak-live 1350$'
run "rep to hkt" 0 convert "$tmp/c.rep" -o "$tmp/e.hkt" --plain
expect_in "$tmp/e.hkt" "rep to hkt: one thread" '^threads 1$'
run "convert --to rep to stdout name" 0 convert --to rep --gzip "$good" -o "$tmp/f.txt"
if gzip -t "$tmp/f.txt" 2>/dev/null; then pass; else fail "--gzip not honoured"; fi
run "convert without -o" 2 convert "$good"
run "convert two inputs" 2 convert "$good" "$good" -o "$tmp/x.hkt"
run "convert bad --to" 2 convert --to elf "$good" -o "$tmp/x.hkt"
run "convert bad input" 2 convert "$tmp/nothing.hkt" -o "$tmp/x.hkt"
run "convert unwritable" 2 convert "$good" -o "$tmp/no/such/dir/x.hkt"
expect_in "$tmp/err" "unwritable message" "cannot create"

# ---- malformed: exit 2, "heapkit: FILE:LINE: message", nothing replayed ----
bad() {
    f=$(trace "$1" "$2")
    run "malformed $1" 2 replay --policy minimal --repeat 0 "$f"
    expect_in "$tmp/err" "malformed $1 message" "^heapkit: $f:$3: .*$4"
    if [ -s "$tmp/out" ]; then fail "malformed $1: something was replayed"; else pass; fi
}
h='heapkit-trace 1\nthreads 1\nids 2\n'
bad version.hkt 'heapkit-trace 2\nthreads 1\nids 1\nops 0\n' 1 'version 2: this heapkit reads version 1'
bad magic.hkt 'heapkit-tracex 1\n' 1 "expected 'heapkit-trace 1'"
bad no-ops-line.hkt 'heapkit-trace 1\nthreads 1\nids 1\n' 3 "no 'ops' line"
bad no-ids.hkt 'heapkit-trace 1\nthreads 1\nops 0\n' 3 "no 'ids' line"
bad unknown-key.hkt 'heapkit-trace 1\ncolour blue\n' 2 "unknown header line 'colour blue'"
bad twice.hkt 'heapkit-trace 1\nthreads 1\nthreads 1\n' 3 "second 'threads' line"
bad cs-early.hkt 'heapkit-trace 1\ns 0 x\n' 2 "before the 'callsites' line"
bad cs-order.hkt 'heapkit-trace 1\ncallsites 2\ns 1 x\n' 3 'out of order'
bad cs-missing.hkt "${h}callsites 2\ns 0 x\nops 0\n" 6 'declares 2 call sites and lists 1'
bad cs-beyond.hkt "${h}callsites 1\ns 0 x\ns 1 y\n" 6 'beyond the 1'
bad kind.hkt "${h}ops 1\n0 0 x 0 8\n" 5 "unknown op 'x 0 8'"
bad thread-range.hkt "${h}ops 1\n0 1 a 0 8\n" 5 'thread 1 out of range'
bad id-range.hkt "${h}ops 1\n0 0 a 2 8\n" 5 'id 2 out of range'
bad missing-size.hkt "${h}ops 1\n0 0 a 0\n" 5 'missing size'
bad align-missing.hkt "${h}ops 1\n0 0 m 0 8\n" 5 'missing alignment'
bad align-pow2.hkt "${h}ops 1\n0 0 m 0 8 48\n" 5 'not a power of two'
bad align-huge.hkt "${h}ops 1\n0 0 m 0 8 2147483648\n" 5 'absurd'
bad cs-range.hkt "${h}ops 1\n0 0 a 0 8 @0\n" 5 'call site 0 out of range'
bad cs-free.hkt "${h}callsites 1\ns 0 x\nops 2\n0 0 a 0 8 @0\n0 0 f 0 @0\n" 8 'a free has no call site'
bad negative-dt.hkt "${h}ops 1\n-5 0 a 0 8\n" 5 'negative time delta'
bad double-free.hkt "${h}ops 3\n0 0 a 0 8\n0 0 f 0\n0 0 f 0\n" 7 'already freed \(line 6\)'
bad live-again.hkt "${h}ops 2\n0 0 c 0 8\n0 0 m 0 8 16\n" 6 'already live \(allocated at line 5\)'
bad truncated.hkt "${h}ops 3\n0 0 a 0 8\n0 0 f 0\n" 6 'truncated'
bad trailing.hkt "${h}ops 1\n0 0 a 0 8\n0 0 f 0\n" 6 'trailing garbage'
bad junk.hkt "${h}ops 1\n0 0 a 0 8 junk\n" 5 "unexpected text 'junk'"
bad sparse-id.hkt 'heapkit-trace 1\nthreads 1\nids 200000000\nops 2\n0 0 a 199999999 8\n0 0 f 199999999\n' 5 'id 199999999 is absurd for a trace of 2 ops'
bad sparse-id.rep '1\n4000000000\n2\n1\na 3999999999 8\nf 3999999999\n' 5 'is absurd for a trace of 2 ops'
bad threads-zero.hkt 'heapkit-trace 1\nthreads 0\nids 1\nops 1\n' 4 'declares 0 threads'
# a NUL byte inside a line must not silently cut it short
printf "${h}ops 1\n0 0 a 0 8\0 junk\n" >"$tmp/nul.hkt"
run "NUL byte" 2 replay --policy minimal --repeat 0 "$tmp/nul.hkt"
expect_in "$tmp/err" "NUL byte message" "^heapkit: $tmp/nul.hkt:5: NUL byte"
printf '1\n1\n1\n1\na 0 8\0\n' >"$tmp/nul.rep"
run "NUL byte in a classic trace" 2 replay --policy minimal --repeat 0 "$tmp/nul.rep"
expect_in "$tmp/err" "NUL byte message (rep)" "^heapkit: $tmp/nul.rep:5: NUL byte"
# an over-long line
awk 'BEGIN { printf "heapkit-trace 1\ncommand "; for (i = 0; i < 5000; i++) printf "x"; printf "\n" }' >"$tmp/long.hkt"
run "long line" 2 replay --policy minimal --repeat 0 "$tmp/long.hkt"
expect_in "$tmp/err" "long line message" "^heapkit: $tmp/long.hkt:2: line longer than"
# a gzip stream cut short
head -c 60 "$tmp/c.hkt" >"$tmp/cut.hkt"
run "truncated gzip" 2 replay --policy minimal --repeat 0 "$tmp/cut.hkt"
expect_in "$tmp/err" "truncated gzip message" "^heapkit: $tmp/cut.hkt:[0-9]+: "

finish
