#!/bin/sh
# lib.sh -- what every shell test shares; source it with  . "$(dirname "$0")/../lib.sh"
#   $tmp         a scratch folder, removed when the script exits
#   pass         count a success
#   fail MSG     count a failure and print "FAIL: MSG"
#   finish       print the closing line "N passed, N failed" (read by tests/run.sh and CI)
#                and return non-zero if anything failed; end a script with it
#   run NAME STATUS ARGS...
#                run "$HEAPKIT" ARGS (stdout in $tmp/out, stderr in $tmp/err) and count
#                whether it exited with STATUS
#   expect_in FILE NAME REGEX
#                count whether FILE has a line matching the extended REGEX
#   trace NAME CONTENT
#                write CONTENT (printf escapes) to $tmp/NAME and print its path
#   same_preloaded LIB NAME CMD...
#                run CMD on the system allocator and with LD_PRELOAD=LIB: stdout and exit
#                status must match and the preloaded run must print no "heapkit: " line
tmp=$(mktemp -d "${TMPDIR:-/tmp}/heapkit-test.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
passed=0
failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
run() {
    _name=$1 _want=$2
    shift 2
    "$HEAPKIT" "$@" >"$tmp/out" 2>"$tmp/err"
    _got=$?
    if [ "$_got" -eq "$_want" ]; then
        pass
    else
        fail "$_name: exit status $_got, expected $_want"
        sed 's/^/    /' "$tmp/err" | head -n 5
    fi
}
expect_in() {
    if grep -Eq -- "$3" "$1"; then pass; else fail "$2: no line matching '$3' in $(basename "$1")"; fi
}
trace() {
    printf "$2" >"$tmp/$1"
    echo "$tmp/$1"
}
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
