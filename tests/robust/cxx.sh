#!/bin/sh
# cxx.sh -- the C++ program gives the same output plain, under LD_PRELOAD=libheapkit.so
# and linked with libheapkit.a (STATIC_BINARY, linked with -rdynamic so that it can find
# hk_is_owned), and its blocks are heapkit's in the last two.
# Usage: cxx.sh PLAIN_BINARY STATIC_BINARY /abs/path/libheapkit.so
plain=$1
static=$2
lib=$3
. "$(dirname "$0")/../lib.sh"
"$plain" > "$tmp/a" 2> "$tmp/ea"
sa=$?
if [ "$sa" -eq 0 ] && [ -s "$tmp/a" ]; then pass; else
    fail "plain run (status $sa)"; cat "$tmp/ea"; fi
cat "$tmp/a"
same() { # same NAME CMD...
    name=$1
    shift
    "$@" > "$tmp/b" 2> "$tmp/eb"
    sb=$?
    if [ "$sb" -eq 0 ] && cmp -s "$tmp/a" "$tmp/b" && ! grep -q 'heapkit: ' "$tmp/eb"; then
        pass
    else
        fail "$name (status $sb)"
        diff "$tmp/a" "$tmp/b" | head -5
        head -5 "$tmp/eb"
    fi
}
same "LD_PRELOAD" env LD_PRELOAD="$lib" timeout 30 "$plain" --expect-heapkit
same "libheapkit.a" timeout 30 "$static" --expect-heapkit
finish
