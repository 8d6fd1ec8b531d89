#!/bin/sh
# lib.sh -- what every shell test shares; source it with  . "$(dirname "$0")/../lib.sh"
#   $tmp         a scratch folder, removed when the script exits
#   pass         count a success
#   fail MSG     count a failure and print "FAIL: MSG"
#   finish       print the closing line "N passed, N failed" (read by tests/run.sh and CI)
#                and return non-zero if anything failed; end a script with it
#   same_preloaded LIB NAME CMD...
#                run CMD on the system allocator and with LD_PRELOAD=LIB: stdout and exit
#                status must match and the preloaded run must print no "heapkit: " line
tmp=$(mktemp -d "${TMPDIR:-/tmp}/heapkit-test.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
passed=0
failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
same_preloaded() {
    _lib=$1 _name=$2
    shift 2
    "$@" >"$tmp/plain.out" 2>"$tmp/plain.err"
    echo "status $?" >>"$tmp/plain.out"
    LD_PRELOAD="$_lib" "$@" >"$tmp/hk.out" 2>"$tmp/hk.err"
    echo "status $?" >>"$tmp/hk.out"
    if cmp -s "$tmp/plain.out" "$tmp/hk.out" && ! grep -q 'heapkit: ' "$tmp/hk.err"; then
        pass
        echo "ok   $_name"
    else
        fail "$_name"
        diff "$tmp/plain.out" "$tmp/hk.out" | head -5
        head -5 "$tmp/hk.err"
    fi
}
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
