#!/bin/sh
# run.sh -- runs each test command given as an argument, shows its output, and adds up
# the closing "N passed, N failed" lines into one total. A command that exits non-zero
# without such a line counts as one failure. Exits non-zero if anything failed.
passed=0
failed=0
for t in "$@"; do
    echo "== $t"
    out=$(sh -c "$t" 2>&1)
    status=$?
    printf '%s\n' "$out"
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    if [ -n "$line" ]; then
        p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
        f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
        passed=$((passed + p))
        failed=$((failed + f))
        [ "$status" -ne 0 ] && [ "$f" -eq 0 ] && failed=$((failed + 1))
    elif [ "$status" -eq 0 ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: $t exited with status $status"
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
