#!/bin/sh
# test_cli.sh -- black-box tests of the `heapkit` command: usage, trace validation
# (every malformed input must exit 2 with "heapkit: FILE:LINE: message"), gzip input,
# the three output formats, exit statuses, and a replay of the real CS:APP traces when
# they are around.
#
#   sh tests/tools/test_cli.sh [path/to/heapkit]      (default: build/heapkit)
#
# Ends with the line "N passed, N failed" and exits non-zero if anything failed.

HEAPKIT=${1:-build/heapkit}
SHARED_TRACES=${HK_TRACES:-../shared/traces}
. "$(dirname "$0")/../lib.sh"


if [ ! -x "$HEAPKIT" ]; then
    echo "FAIL: $HEAPKIT is not built"
    echo "0 passed, 1 failed"
    exit 1
fi

# ---- usage ----
run "help" 0 --help
expect_in "$tmp/out" "help" "^usage: heapkit"
run "replay --help" 0 replay --help
expect_in "$tmp/out" "replay --help" "--check-every"
run "no command" 2
run "unknown command" 2 frobnicate
expect_in "$tmp/err" "unknown command" "unknown command 'frobnicate'"
run "policies" 0 policies
expect_in "$tmp/out" "policies lists minimal" "^minimal +[^ ]"
expect_in "$tmp/out" "policies lists libc" "^libc +[^ ]"

good=$(trace good.rep '20000\n4\n8\n1\na 0 512\na 1 128\nr 0 640\na 2 128\nf 1\nr 0 100\nf 0\nf 2\n')
run "unknown option" 2 replay --frob "$good"
expect_in "$tmp/err" "unknown option" "unknown option '--frob'"
run "unknown policy" 2 replay --policy minimal,nosuch "$good"
expect_in "$tmp/err" "unknown policy" "unknown policy 'nosuch'"
run "bad align" 2 replay --align 32 "$good"
run "bad check-every" 2 replay --check-every x "$good"
run "bad repeat" 2 replay --repeat 100 "$good"
run "missing value" 2 replay --policy
run "no traces" 2 replay --policy minimal
run "json and csv" 2 replay --json --csv "$good"

# ---- good traces ----
run "good trace" 0 replay --policy minimal --repeat 1 "$good"
expect_in "$tmp/out" "good trace row" "^good\.rep +minimal +8 .* ok$"
expect_in "$tmp/out" "good trace summary" "minimal +1 trace, 0 failed, mean util"
run "check every op, align 8" 0 replay --policy minimal --repeat 0 --check-every 1 --align 8 "$good"
# graded = the CS:APP "-bal" traces but short1/short2: here 1 of the 3 (the issue's means)
cp "$good" "$tmp/amptjp-bal.rep"
cp "$good" "$tmp/short1-bal.rep"
run "graded subset" 0 replay --policy minimal --repeat 0 "$good" "$tmp/amptjp-bal.rep" "$tmp/short1-bal.rep"
expect_in "$tmp/out" "graded mean over 1 trace" "minimal +3 traces, 0 failed, mean util [0-9.]+%, graded mean util [0-9.]+% \(1 traces\)"
# the 3e / later-CMU header meaning (weight first) and blank lines are accepted too
weight_first=$(trace weight.rep '1\n2\n4\n0\n\na 0 1\n  a 1 0\nf 1\nf 0\n\n')
run "weight-first header" 0 replay --policy minimal --repeat 1 "$weight_first"
# realloc to size 0 frees the id; it may be allocated again afterwards
realloc0=$(trace realloc0.rep '1\n1\n4\n1\na 0 10\nr 0 0\na 0 20\nf 0\n')
run "realloc to zero" 0 replay --policy minimal --repeat 1 "$realloc0"
gzip -c "$good" >"$tmp/zipped.rep.gz"
run "gzip trace" 0 replay --policy minimal --repeat 1 "$tmp/zipped.rep.gz"
expect_in "$tmp/out" "gzip trace row" "^zipped\.rep\.gz +minimal +8 .* ok$"

# ---- output formats ----
run "json" 0 replay --policy minimal --repeat 1 --json "$good" "$weight_first"
expect_in "$tmp/out" "json results" '"results": \['
expect_in "$tmp/out" "json verdict" '"verdict": "ok"'
if command -v python3 >/dev/null 2>&1; then
    if python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["results"]) == 2; assert d["summary"][0]["policy"] == "minimal"' <"$tmp/out"; then
        pass
    else
        fail "json: not valid JSON or wrong shape"
    fi
fi
run "csv" 0 replay --policy minimal --repeat 1 --csv "$good" "$weight_first"
expect_in "$tmp/out" "csv header" "^trace,policy,ops,peak_live,peak_footprint,"
rows=$(grep -c ',minimal,' "$tmp/out")
if [ "$rows" -eq 2 ]; then pass; else fail "csv: $rows rows for minimal, expected 2"; fi

# ---- a policy that fails: exit 1 and a verdict naming the op ----
huge=$(trace huge.rep '1\n1\n2\n1\na 0 4294967296\nf 0\n')
run "out of memory" 1 replay --policy minimal --repeat 1 "$huge"
expect_in "$tmp/out" "out of memory verdict" "FAIL op 1 \(line 5\): out of memory"

# ---- malformed traces: exit 2, "heapkit: FILE:LINE: message", nothing replayed ----
# bad NAME CONTENT LINE PATTERN
bad() {
    f=$(trace "$1" "$2")
    run "malformed $1" 2 replay --policy minimal --repeat 0 "$f"
    expect_in "$tmp/err" "malformed $1 message" "^heapkit: $f:$3: .*$4"
    if [ -s "$tmp/out" ]; then fail "malformed $1: something was replayed"; else pass; fi
}
bad empty.rep '' 1 'bad header'
bad short-header.rep '1\n4\n' 2 'bad header'
bad letters-header.rep '1\nfour\n8\n1\n' 2 'number of ids'
bad negative-header.rep '1\n-4\n8\n1\n' 2 'negative'
bad huge-header.rep '1\n4\n99999999999\n1\n' 3 'absurd'
bad unknown-op.rep '1\n2\n2\n1\na 0 8\nx 0\n' 6 "unknown op 'x 0'"
bad free-never.rep '1\n2\n2\n1\na 0 8\nf 1\n' 6 'never allocated'
bad double-free.rep '1\n2\n3\n1\na 0 8\nf 0\nf 0\n' 7 'already freed \(line 6\)'
bad realloc-dead.rep '1\n2\n2\n1\nr 0 8\nf 0\n' 5 'realloc of id 0, which was never allocated'
bad alloc-live.rep '1\n2\n3\n1\na 0 8\na 0 8\nf 0\n' 6 'already live \(allocated at line 5\)'
bad id-range.rep '1\n2\n2\n1\na 2 8\nf 2\n' 5 'out of range'
bad negative-id.rep '1\n2\n2\n1\na -1 8\nf 0\n' 5 'negative id'
bad negative-size.rep '1\n2\n2\n1\na 0 -8\nf 0\n' 5 'negative size'
bad absurd-size.rep '1\n2\n2\n1\na 0 4294967297\nf 0\n' 5 'absurd'
bad missing-size.rep '1\n2\n2\n1\na 0\nf 0\n' 5 'missing size'
bad truncated.rep '1\n2\n3\n1\na 0 8\nf 0\n' 6 'truncated'
bad trailing.rep '1\n2\n2\n1\na 0 8\nf 0\nf 0\n' 7 'trailing garbage'
bad trailing-text.rep '1\n2\n2\n1\na 0 8 junk\nf 0\n' 5 "unexpected text 'junk'"
head -c 400 /dev/urandom >"$tmp/noise.bin" 2>/dev/null && {
    run "random bytes" 2 replay --policy minimal "$tmp/noise.bin"
    expect_in "$tmp/err" "random bytes message" "^heapkit: $tmp/noise.bin:[0-9]+: "
}
head -c 30 "$tmp/zipped.rep.gz" >"$tmp/cut.rep.gz"
run "truncated gzip" 2 replay --policy minimal "$tmp/cut.rep.gz"
expect_in "$tmp/err" "truncated gzip message" "^heapkit: $tmp/cut.rep.gz:[0-9]+: "
run "missing file" 2 replay --policy minimal "$tmp/nothing-here.rep"
expect_in "$tmp/err" "missing file message" "^heapkit: $tmp/nothing-here.rep: cannot open"
# one bad trace among good ones: nothing runs at all
run "validate before replay" 2 replay --policy minimal "$good" "$tmp/trailing.rep"
if [ -s "$tmp/out" ]; then fail "validate before replay: the good trace was replayed"; else pass; fi

# ---- the CS:APP traces, when present ----
if [ -r "$SHARED_TRACES/short1-bal.rep" ]; then
    run "CS:APP short traces" 0 replay --policy minimal --repeat 1 --check-every 1 \
        "$SHARED_TRACES/short1-bal.rep" "$SHARED_TRACES/short2-bal.rep"
    expect_in "$tmp/out" "CS:APP short1 row" "^short1-bal\.rep +minimal +12 .* ok$"
fi

finish
