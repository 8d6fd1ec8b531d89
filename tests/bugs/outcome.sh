#!/bin/sh
# outcome.sh -- runs one case of bug_prog on one allocator and names what happened; sourced
# by tests/bugs/run.sh (which asserts heapkit's outcomes) and scripts/bug_table.sh (which
# records everyone's into docs/HARDENING.md). Needs $tmp (tests/lib.sh makes one).
#
#   bug_outcome PROG CASE LIB [VAR=VALUE...]
#       runs PROG CASE with LD_PRELOAD=LIB (LIB empty: the system's malloc, glibc) under
#       `timeout 10`; sets $outcome to one of the keys below and leaves the program's
#       stderr in $tmp/bug.err
#   bug_label KEY      the words the table uses for an outcome key
#   bug_detected KEY   true when the allocator stopped or reported the bug itself
#
# Outcome keys:
#   message      killed by a signal (or a non-zero exit) with a message of the allocator
#                on stderr: any line bug_prog did not write itself names the error
#   reported     a message on stderr, but the program went on and exited 0
#   silent       killed by a signal other than SIGSEGV/SIGBUS, or a non-zero exit, and
#                no message
#   crash-alloc  SIGSEGV/SIGBUS inside a call into the allocator, or while the program
#                filled a block malloc had just returned (bug_prog.c: phases alloc, use)
#   crash-bug    SIGSEGV/SIGBUS at the program's own bad access (phase bug): the memory
#                was gone, which the program, not the allocator, ran into
#   hang         still running after 10 s
#   none         exited 0 with nothing on stderr: not detected
BUG_LIBDIR=/usr/lib/x86_64-linux-gnu
# NAME=LIBRARY for every peer, as docs/PEERS.md lists them (glibc: nothing preloaded)
BUG_PEERS="glibc= jemalloc=$BUG_LIBDIR/libjemalloc.so.2 tcmalloc=$BUG_LIBDIR/libtcmalloc_minimal.so.4 mimalloc=$BUG_LIBDIR/libmimalloc.so.2"

bug_outcome() {
    _prog=$1 _case=$2 _lib=$3
    shift 3
    timeout 10 env LD_PRELOAD="$_lib" "$@" "$_prog" "$_case" >"$tmp/bug.out" 2>"$tmp/bug.err"
    _st=$?
    _msg=$(grep -cv '^bug_prog:' "$tmp/bug.err")
    if [ "$_st" -eq 124 ]; then
        outcome=hang
    elif [ "$_st" -eq 139 ] || [ "$_st" -eq 135 ]; then
        if grep -Eq '^bug_prog: SIG[A-Z]+ in bug ' "$tmp/bug.err"; then
            outcome=crash-bug
        else
            outcome=crash-alloc
        fi
    elif [ "$_st" -ne 0 ]; then
        [ "$_msg" -gt 0 ] && outcome=message || outcome=silent
    else
        [ "$_msg" -gt 0 ] && outcome=reported || outcome=none
    fi
}

bug_label() {
    case $1 in
    message) echo "aborted with a message" ;;
    reported) echo "reported, went on" ;;
    silent) echo "aborted/killed silently" ;;
    crash-alloc) echo "crashed in the allocator" ;;  # SIGSEGV or SIGBUS
    crash-bug) echo "crashed at the bad access" ;;
    hang) echo "hung" ;;
    none) echo "not detected" ;;
    *) echo "$1" ;;
    esac
}

bug_detected() {
    [ "$1" = message ] || [ "$1" = reported ] || [ "$1" = silent ]
}
