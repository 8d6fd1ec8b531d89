#!/bin/sh
# run.sh -- runs each libFuzzer target for SECONDS, starting from its committed seeds
# (tests/fuzz/corpus/NAME/: every one is replayed first, so a crash once found and kept
# there is a regression test) and what earlier runs learned (DIR/corpus/NAME/). A crash,
# leak, timeout (10 s on one input) or out-of-memory fails the target; its input is kept
# as DIR/NAME-crash-* and replayed once more with its message shown.
# Usage: run.sh SECONDS DIR NAME...
seconds=$1
dir=$2
shift 2
. "$(dirname "$0")/../lib.sh"
for name in "$@"; do
    bin=$dir/fuzz_$name
    mkdir -p "$dir/corpus/$name"
    rm -f "$dir/$name"-crash-* "$dir/$name"-leak-* "$dir/$name"-timeout-* "$dir/$name"-oom-*
    # -close_fd_mask=3: the readers' error messages stay quiet (libFuzzer keeps the
    # sanitizers' reports on a stderr of its own)
    "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
        -close_fd_mask=3 -print_final_stats=1 -artifact_prefix="$dir/$name-" \
        "$dir/corpus/$name" "tests/fuzz/corpus/$name" >"$tmp/$name.log" 2>&1
    st=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/$name.log")
    if [ "$st" -eq 0 ]; then
        pass
        echo "ok   fuzz_$name: ${runs:-?} inputs in ${seconds} s, no crash"
    else
        art=$(ls "$dir/$name"-* 2>/dev/null | head -n 1)
        fail "fuzz_$name (status $st): input kept as ${art:-?}"
        grep -E 'ERROR|SUMMARY|fuzz:' "$tmp/$name.log" | head -n 5
        [ -n "$art" ] && "$bin" "$art" 2>&1 | grep -E '^fuzz:|ERROR|SUMMARY' | head -n 5
    fi
done
finish
