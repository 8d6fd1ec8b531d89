#!/bin/sh
# lib.sh -- what every shell test shares; source it with  . "$(dirname "$0")/../lib.sh"
#   $tmp         a scratch folder, removed when the script exits
#   pass         count a success
#   fail MSG     count a failure and print "FAIL: MSG"
#   finish       print the closing line "N passed, N failed" (read by tests/run.sh and CI)
#                and return non-zero if anything failed; end a script with it
tmp=$(mktemp -d "${TMPDIR:-/tmp}/heapkit-test.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
passed=0
failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
