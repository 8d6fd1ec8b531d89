#!/bin/sh
# run.sh -- AddressSanitizer sees heapkit's blocks (src/track.h): the bad-* cases of
# track_prog must be stopped by an ASan report naming a poisoned address, the ok-* cases
# must run clean. Usage: run.sh path/to/track_prog (built by make VARIANT=sanitize)
prog=$1
. "$(dirname "$0")/../lib.sh"
for case in ok-usable ok-remote; do
    if "$prog" "$case" >/dev/null 2>"$tmp/stderr"; then
        pass
    else
        fail "$case: status $?, stderr:"
        head -n 20 "$tmp/stderr"
    fi
done
for case in bad-read-after-free bad-write-after-free-medium bad-read-after-realloc \
            bad-after-remote-free; do
    "$prog" "$case" >/dev/null 2>"$tmp/stderr"
    st=$?
    if [ "$st" -ne 0 ] && grep -q 'ERROR: AddressSanitizer: use-after-poison' "$tmp/stderr"; then
        pass
    else
        fail "$case: status $st, no use-after-poison report; stderr:"
        head -n 20 "$tmp/stderr"
    fi
done
finish
