#!/bin/sh
# stats.sh -- the HEAPKIT_STATS=1 exit report of the stats program is there and
# consistent with what it did (see stats.c): per size class allocations, frees and live
# blocks; huge blocks; allocated, committed, peak committed and mapped bytes.
# Usage: stats.sh "COMMAND" (e.g. "build/tests/robust/stats_static" or
#        "LD_PRELOAD=/abs/libheapkit.so build/tests/robust/stats_dyn").
cmd=$1
. "$(dirname "$0")/../lib.sh"
check() { # check NAME CONDITION-EXIT-STATUS
    if [ "$2" -eq 0 ]; then pass; else fail "$1"; fi
}

HEAPKIT_STATS=1 sh -c "$cmd" > "$tmp/out" 2> "$tmp/err"
check "program passed its own checks (exit $?)" $?
tail -n 1 "$tmp/out"
grep -q 'heapkit: statistics' "$tmp/err"
check "report printed at exit" $?
if ! grep -q 'heapkit: statistics' "$tmp/err"; then
    cat "$tmp/err"
    finish
    exit 1
fi
sed -n '/heapkit: statistics/,$p' "$tmp/err" > "$tmp/report"
cat "$tmp/report"

# the class table: find the columns by the header's names
hdr=$(grep -E '^ *class +size' "$tmp/report" | head -n 1)
col() { echo "$hdr" | awk -v w="$1" '{ for (i = 1; i <= NF; i++) if ($i ~ w) { print i; exit } }'; }
c_size=$(col '^size$')
c_alloc=$(col '^alloc')
c_free=$(col '^frees?$')
c_live=$(col '^live$')
[ -n "$c_alloc" ] && [ -n "$c_free" ] && [ -n "$c_live" ] && [ -n "$c_size" ]
check "per-class columns: allocations, frees, live (header: '$hdr')" $?

# row SIZE COLUMN: the value in that column of the row of that class size
row() {
    [ -n "$2" ] || { echo -1; return; }
    awk -v s="$1" -v c_size="$c_size" -v c="$2" \
        '/^ *[0-9]+ +[0-9]+ / && $c_size == s { print $c; found = 1; exit } END { if (!found) print -1 }' \
        "$tmp/report"
}
# 100-byte blocks (class 112): 1000 allocated, 700 freed, 300 live (libc may add a few)
a=$(row 112 "$c_alloc"); f=$(row 112 "$c_free"); l=$(row 112 "$c_live")
[ "$l" -ge 300 ] && [ "$l" -le 320 ]
check "class 112: live blocks = 300 (got $l)" $?
[ "$a" -ge 1000 ] && [ "$f" -ge 700 ] && [ $((a - f)) -eq "$l" ]
check "class 112: allocations >= 1000, frees >= 700, allocs - frees = live (got $a, $f)" $?
# 4000-byte blocks (class 4096): 10000 allocated and freed
a=$(row 4096 "$c_alloc"); f=$(row 4096 "$c_free")
[ "$a" -ge 10000 ] && [ "$f" -ge 10000 ]
check "class 4096: allocations and frees >= 10000 (got $a, $f)" $?
# 3000-byte blocks (class 3072): 50 allocated and freed
a=$(row 3072 "$c_alloc"); f=$(row 3072 "$c_free")
[ "$a" -ge 50 ] && [ "$f" -ge 50 ]
check "class 3072: allocations and frees >= 50 (got $a, $f)" $?

# byte figures: "label: N KiB (B bytes)" or "label: B bytes"
bytes() {
    grep -E "^ *$1:" "$tmp/report" | head -n 1 |
        sed -E 's/.*\(([0-9]+) bytes\).*/\1/; s/^[^0-9]*([0-9]+) bytes$/\1/'
}
alloc=$(bytes allocated); comm=$(bytes committed); peak=$(bytes 'peak committed'); map=$(bytes mapped)
for v in "$alloc" "$comm" "$peak" "$map"; do
    case $v in '' | *[!0-9]*) v=x ;; esac
    [ "$v" != x ]
    check "byte figures parse (allocated/committed/peak committed/mapped)" $?
done
alloc=${alloc:-0}; comm=${comm:-0}; peak=${peak:-0}; map=${map:-0}
[ "$alloc" -ge $((300 * 112 + 3145728)) ]
check "allocated >= 300 x 112 + 3 MiB (got $alloc)" $?
[ "$peak" -ge 40000000 ]
check "peak committed >= the 40 MB live at once (got $peak)" $?
[ "$comm" -ge "$alloc" ] && [ "$peak" -ge "$comm" ] && [ "$map" -ge "$comm" ]
check "mapped >= committed >= allocated, peak >= committed" $?
[ "$comm" -lt 40000000 ]
check "committed at exit (after malloc_trim) below the peak's 40 MB (got $comm)" $?
huge=$(grep -E '^ *huge:' "$tmp/report" | sed -E 's/^ *huge: *([0-9]+) live blocks?, *([0-9]+) bytes.*/\1 \2/')
set -- $huge
[ "${1:-0}" -ge 1 ] && [ "${2:-0}" -ge 3145728 ]
check "huge: the 3 MiB block is live (got '$huge')" $?

finish
