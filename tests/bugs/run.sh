#!/bin/sh
# run.sh -- the bug-class suite (issue 8): every case of bug_prog under LD_PRELOAD of
# libheapkit, each with the outcome heapkit promises (the table below), and never a
# SIGSEGV/SIGBUS inside the allocator whatever the case. The peers' outcomes are printed,
# not asserted (they are not ours); scripts/bug_table.sh turns them into
# docs/HARDENING.md, which explains every row.
# Usage: run.sh path/to/bug_prog path/to/libheapkit.so [path/to/libheapkit-secure.so]
# (the `secure` lines run on the third library; without it they are skipped)
prog=$1
lib=$2
secure_lib=$3
here=$(dirname "$0")
. "$here/../lib.sh"
. "$here/outcome.sh"

# MODE CASE OUTCOME [REGEX]: what heapkit does with each bug (outcome keys: outcome.sh),
# and for a message, what it must say. MODE is the column of docs/HARDENING.md: the
# `secure` lines are the classes where libheapkit-secure.so differs from the default
# (expected() gives it the default's line for every other class); `quarantine` lines are
# what HEAPKIT_QUARANTINE adds to it. Their environments: mode_env below.
expected() {
    listed >"$tmp/listed.lines"
    awk 'NR == FNR { if ($1 == "secure") over[$2] = $0; next }
         $1 == "secure" { next }
         $1 == "default" { print; line = $0; sub(/^default/, "secure ", line)
                           print ($2 in over) ? over[$2] : line; next }
         { print }' "$tmp/listed.lines" "$tmp/listed.lines"
}
listed() {
    cat <<'EOF'
default double-free-small      message 'heapkit: error: double free of 0x[0-9a-f]+'
default double-free-large      message 'heapkit: error: double free of 0x[0-9a-f]+'
default double-free-delayed    message 'heapkit: error: double free of 0x[0-9a-f]+'
default free-invalid           message 'invalid pointer 0x[0-9a-f]+ passed to free \(not allocated by heapkit\)'
default free-unaligned         message 'interior pointer 0x[0-9a-f]+ passed to free'
default free-interior          message 'interior pointer 0x[0-9a-f]+ passed to free'
default free-never-allocated   message 'heapkit: error: double free of 0x[0-9a-f]+'
default free-uninitialized     message 'invalid pointer 0xbebebebebebebebe passed to free \(not allocated by heapkit\)'
default write-after-free-small message 'heapkit: fatal: heap corruption: the free list of page 0x[0-9a-f]+ leads to 0x[0-9a-f]+, not one of its blocks'
default write-after-free-large message 'heapkit: fatal: heap corruption: (the free list of page 0x[0-9a-f]+ leads to 0x[0-9a-f]+, not one of its blocks|the freed block at 0x[0-9a-f]+ was written after free)'
default read-after-free        none
default overflow-1-small       none
default overflow-8-small       none
default overflow-1-large       none
default overflow-8-large       none
default string-overflow        message 'heapkit: fatal: heap corruption: the free list of page'
default usable-size-freed      message 'malloc_usable_size of 0x[0-9a-f]+, a block already freed'
default usable-size-foreign    message 'invalid pointer 0x[0-9a-f]+ passed to malloc_usable_size \(not allocated by heapkit\)'
default realloc-freed          message 'realloc of 0x[0-9a-f]+, a block already freed'
secure  free-never-allocated   message 'heapkit: error: (interior pointer|double free)'
secure  overflow-1-small       message 'heapkit: error: overflow past the block at 0x[0-9a-f]+ \(free\): 32 bytes requested, byte 32 written'
secure  overflow-8-small       message 'heapkit: error: overflow past the block at 0x[0-9a-f]+ \(free\): 32 bytes requested, byte 32 written'
secure  overflow-1-large       message 'heapkit: error: overflow past the block at 0x[0-9a-f]+ \(free\): 262144 bytes requested, byte 262144 written'
secure  overflow-8-large       message 'heapkit: error: overflow past the block at 0x[0-9a-f]+ \(free\): 262144 bytes requested'
secure  string-overflow        message 'heapkit: error: overflow past the block at 0x[0-9a-f]+ \(free\): its canary word'
quarantine write-after-free-small message 'heapkit: error: write after free of the block at 0x[0-9a-f]+'
quarantine write-after-free-large message 'heapkit: error: write after free of the block at 0x[0-9a-f]+'
quarantine double-free-delayed    message 'heapkit: error: double free of 0x[0-9a-f]+ \(free\)'
EOF
}

mode_env() { # the environment a mode runs with (VAR=VALUE words)
    case $1 in
    default | secure) echo "HEAPKIT_ON_ERROR=abort" ;;
    quarantine) echo "HEAPKIT_ON_ERROR=abort HEAPKIT_QUARANTINE=1024" ;; # (secure, opt-in)
    esac
}
mode_lib() { # the library a mode runs on
    case $1 in
    default) echo "$lib" ;;
    *) echo "$secure_lib" ;;
    esac
}

# every case of the program has its line, and every line names a case of the program
"$prog" >"$tmp/cases"
expected | awk '{print $2}' | sort -u >"$tmp/listed"
if sort "$tmp/cases" | cmp -s - "$tmp/listed"; then pass; else
    fail "the table and bug_prog's cases differ:"
    sort "$tmp/cases" | diff - "$tmp/listed"
fi

expected | while read -r mode case want regex; do
    mlib=$(mode_lib "$mode")
    [ -n "$mlib" ] || continue
    # shellcheck disable=SC2046 # mode_env is words on purpose
    bug_outcome "$prog" "$case" "$mlib" $(mode_env "$mode")
    regex=$(echo "$regex" | sed "s/^'//; s/'\$//")
    if [ "$outcome" = crash-alloc ]; then
        echo "FAIL: $mode $case: heapkit crashed inside itself: $(head -c 300 "$tmp/bug.err")"
    elif [ "$outcome" != "$want" ]; then
        echo "FAIL: $mode $case: $outcome ($(bug_label "$outcome")), expected $want:" \
            "$(head -c 300 "$tmp/bug.err")"
    elif [ -n "$regex" ] && ! grep -Eq "$regex" "$tmp/bug.err"; then
        echo "FAIL: $mode $case: stderr lacks /$regex/: $(head -c 300 "$tmp/bug.err")"
    else
        echo "ok   $mode $case: $(bug_label "$outcome")"
    fi
done >"$tmp/results"
cat "$tmp/results"
passed=$((passed + $(grep -c '^ok ' "$tmp/results")))
failed=$((failed + $(grep -c '^FAIL' "$tmp/results")))

# the peers, recorded only
for peer in $BUG_PEERS; do
    name=${peer%%=*} plib=${peer#*=}
    if [ -n "$plib" ] && [ ! -e "$plib" ]; then
        echo "note: $name not installed ($plib): not recorded"
        continue
    fi
    line=""
    for case in $(cat "$tmp/cases"); do
        bug_outcome "$prog" "$case" "$plib"
        line="$line $case:$outcome"
    done
    echo "peer $name:$line"
done
finish
