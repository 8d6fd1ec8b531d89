#!/bin/sh
# run.sh -- runs the cases of fail_prog; each must die of SIGABRT (status 134) with the
# expected "heapkit: error: ..." line on stderr. Then checks HEAPKIT_ON_ERROR=warn and
# ignore (the program survives). Usage: run.sh path/to/fail_prog path/to/libheapkit.so [secure]
# With `secure` (fail_prog linked with the secure build, lib = libheapkit-secure.so), the
# cases only the secure build detects must abort too, and with its quarantine on
# (HEAPKIT_QUARANTINE) the frees, reallocs and sizes of held blocks are reported.
prog=$1
lib=$2
mode=${3:-default}
. "$(dirname "$0")/../lib.sh"
expect() { # expect STATUS REGEX|NONE CASE [ENV...]   (NONE: stderr has no message)
    want=$1 re=$2 case=$3
    shift 3
    env "$@" "$prog" "$case" >/dev/null 2>"$tmp/stderr"
    st=$?
    if [ "$re" = NONE ]; then
        grep -q heapkit "$tmp/stderr" && ok=1 || ok=0  # ok=1 means a message was printed: wrong
        ok=$((1 - ok))
    else
        grep -Eq "$re" "$tmp/stderr" && ok=1 || ok=0
    fi
    if [ "$st" -eq "$want" ] && [ "$ok" -eq 1 ] && [ "$(grep -c 'heapkit: error' "$tmp/stderr")" -le 1 ]; then
        pass
    else
        fail "$case $*: status $st (want $want), stderr:"
        cat "$tmp/stderr"
    fi
}
A=134
expect $A '^heapkit: error: double free of 0x[0-9a-f]+' double-small
expect $A '^heapkit: error: double free of 0x[0-9a-f]+' double-medium
expect $A '^heapkit: error: double free of 0x[0-9a-f]+' double-huge
if [ "$mode" = secure ]; then
    expect $A '^heapkit: error: overflow past the block at 0x[0-9a-f]+ \(free\): 32 bytes requested, byte 32 written' overflow-1
    expect $A '^heapkit: error: overflow past the block at 0x[0-9a-f]+ \(free\)' overflow-8
    expect $A '^heapkit: error: double free of 0x[0-9a-f]+ \(free\)' double-delayed
    # every distance between the request's end and the canary word, each reported once
    HEAPKIT_ON_ERROR=warn "$prog" overflow-sweep >"$tmp/out" 2>"$tmp/stderr"
    want=$(sed -n 's/^cases //p' "$tmp/out")
    got=$(grep -c '^heapkit: error: overflow past the block at 0x[0-9a-f]* (\(free\|realloc\))' "$tmp/stderr")
    if [ -n "$want" ] && [ "$got" = "$want" ] && [ "$(grep -c heapkit "$tmp/stderr")" = "$want" ]; then
        pass
    else
        fail "overflow-sweep: $got reports of ${want:-?} cases; first lines:"
        head -3 "$tmp/stderr"
    fi
    expect 0 NONE top-class
    # blocks are carved in a random order: about half of 255 steps go up (mean 127, sd 4.6)
    asc=$("$prog" carve-order | sed -n 's/^ascents //p')
    if [ -n "$asc" ] && [ "$asc" -ge 90 ] && [ "$asc" -le 165 ]; then pass; else fail "carve-order: ${asc:-?} ascents of 255"; fi
    # the guard pages at a segment's end and after its header: the write faults
    expect 139 NONE guard-tail
    expect 139 NONE guard-head
    expect 139 NONE guard-huge
    expect 139 NONE guard-huge-realloc
    expect 139 NONE guard-huge-head
    # HEAPKIT_ZERO_ON_FREE: nothing of a freed block's data reaches its next owner
    left() { env "$@" "$prog" zero-on-free 2>&1 | sed -n 's/^left //p'; }
    off=$(left) on=$(left HEAPKIT_ZERO_ON_FREE=1) onq=$(left HEAPKIT_ZERO_ON_FREE=1 HEAPKIT_QUARANTINE=1)
    if [ "${off:-0}" -gt 0 ] && [ "$on" = 0 ] && [ "$onq" = 0 ]; then
        pass
    else
        fail "zero-on-free: bytes left off ${off:-?}, on ${on:-?}, on with a quarantine ${onq:-?}"
    fi
    # the quarantine (HEAPKIT_QUARANTINE, off by default)
    Q=HEAPKIT_QUARANTINE=1024
    expect $A '^heapkit: error: write after free of the block at 0x[0-9a-f]+: byte 8 changed' write-after-free $Q
    expect $A '^heapkit: error: double free of 0x[0-9a-f]+ \(free\)' double-delayed $Q
    expect $A '^heapkit: error: double free of 0x[0-9a-f]+ \(free\)' double-small $Q
    expect $A '^heapkit: error: realloc of 0x[0-9a-f]+, a block already freed' realloc-freed $Q
    expect $A '^heapkit: error: malloc_usable_size of 0x[0-9a-f]+, a block already freed' usable-freed $Q
    expect 139 NONE huge-after-free $Q
    expect 0 NONE huge-after-free
    expect 0 NONE owned-freed $Q
else
    expect 0 NONE overflow-1
    expect 0 NONE write-after-free
    asc=$("$prog" carve-order | sed -n 's/^ascents //p')
    if [ "${asc:-0}" -ge 250 ]; then pass; else fail "carve-order (default): ${asc:-?} ascents of 255"; fi
fi
expect $A '^heapkit: error: double free of 0x[0-9a-f]+' double-remote
expect $A '^heapkit: error: invalid pointer 0x[0-9a-f]+ passed to free \(not allocated by heapkit\)' foreign-stack
expect $A 'not allocated by heapkit' foreign-static
expect $A 'not allocated by heapkit' foreign-mmap
expect $A '^heapkit: error: interior pointer 0x[0-9a-f]+ passed to free \(inside the block at 0x' interior
expect $A '^heapkit: error: interior pointer 0x[0-9a-f]+ passed to free \(inside the block at 0x' interior-span
expect $A '^heapkit: error: invalid pointer 0x[0-9a-f]+ passed to free \(past the end of the block at 0x' past-span
expect $A '^heapkit: error: double free of 0x[0-9a-f]+' double-span
expect $A 'invalid pointer 0x[0-9a-f]+ passed to free \(not a block start\)' interior-huge
expect $A 'invalid pointer 0x[0-9a-f]+ passed to free \(not a block start\)' interior-far
expect $A 'invalid pointer 0x[0-9a-f]+ passed to free \(not allocated by heapkit\)' double-far
expect $A 'invalid pointer 0x[0-9a-f]+ passed to free' never-allocated
expect $A 'passed to realloc \(not allocated by heapkit\)' realloc-foreign
expect $A '^heapkit: error: realloc of 0x[0-9a-f]+, a block already freed' realloc-freed
expect $A '^heapkit: error: double free of 0x[0-9a-f]+ \(realloc\)' realloc-freed-huge
expect $A '^heapkit: error: malloc_usable_size of 0x[0-9a-f]+, a block already freed' usable-freed
expect 0 NONE owned-freed
expect $A '^heapkit: error: double free of' libc-double LD_PRELOAD="$lib"
expect $A 'not allocated by heapkit' libc-foreign LD_PRELOAD="$lib"
# the action can be changed
expect 0 '^heapkit: error: double free of' double-small HEAPKIT_ON_ERROR=warn
expect 0 'interior pointer' interior HEAPKIT_ON_ERROR=warn
expect 0 NONE double-small HEAPKIT_ON_ERROR=ignore
# with the error only reported, the freed block is still not handed out twice
HEAPKIT_ON_ERROR=warn "$prog" realloc-freed >"$tmp/out" 2>/dev/null
if grep -q 'distinct' "$tmp/out"; then pass; else fail "realloc-freed (warn): $(cat "$tmp/out")"; fi
finish
