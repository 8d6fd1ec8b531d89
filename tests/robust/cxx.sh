#!/bin/sh
# cxx.sh -- the C++ program gives the same output plain, under LD_PRELOAD=libheapkit.so
# and linked with libheapkit.a (STATIC_BINARY, linked with -rdynamic so that it can find
# hk_is_owned), and its blocks are heapkit's in the last two.
# Usage: cxx.sh PLAIN_BINARY STATIC_BINARY /abs/path/libheapkit.so
plain=$1
static=$2
lib=$3
passed=0
failed=0
tmpd=$(mktemp -d)
trap 'rm -rf "$tmpd"' EXIT
"$plain" > "$tmpd/a" 2> "$tmpd/ea"
sa=$?
if [ "$sa" -eq 0 ] && [ -s "$tmpd/a" ]; then passed=$((passed + 1)); else
    failed=$((failed + 1)); echo "FAIL: plain run (status $sa)"; cat "$tmpd/ea"; fi
cat "$tmpd/a"
same() { # same NAME CMD...
    name=$1
    shift
    "$@" > "$tmpd/b" 2> "$tmpd/eb"
    sb=$?
    if [ "$sb" -eq 0 ] && cmp -s "$tmpd/a" "$tmpd/b" && ! grep -q 'heapkit: ' "$tmpd/eb"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL: $name (status $sb)"
        diff "$tmpd/a" "$tmpd/b" | head -5
        head -5 "$tmpd/eb"
    fi
}
same "LD_PRELOAD" env LD_PRELOAD="$lib" timeout 30 "$plain" --expect-heapkit
same "libheapkit.a" timeout 30 "$static" --expect-heapkit
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
