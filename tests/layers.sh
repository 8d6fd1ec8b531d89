#!/bin/sh
# layers.sh -- the #include "..." graph of libheapkit's sources is acyclic and never goes
# up the layers of docs/DESIGN-LIB.md ("Layers"):
#
#   api  ->  heap  ->  ownership  ->  segment  ->  support  ->  os  ->  base
#
# Every file of the tree must be in the table below; a file may include files of its own
# layer or of a lower one. A header declares only its layer's functions, and a call needs
# a declaration (-Werror), so a lower layer that included nothing higher cannot call up.
# Then the same checks run on two small trees made to break them (an include that goes
# up, a cycle), which must fail: the test can fail.
# Usage: layers.sh [SRC_DIR]   (default: src)
. "$(dirname "$0")/lib.sh"
src=${1:-src}

# layer rank, then the files (relative to SRC_DIR; heapkit.h is include/heapkit.h: the
# public API, defined by the heap and api layers)
cat >"$tmp/table" <<'EOF'
0 base      config.h types.h check.h track.h
1 os        os.h lock.h os/posix.c
2 support   support.h size_class.c options.c output.c account.c
3 segment   segment.h segment.c huge.h huge.c
4 ownership ownership.h ownership.c
5 heap      heap.h heap.c page.c stats.c heapcheck.c heapkit.h
6 api       internal.h secure.h alloc.c free.c aligned.c realloc.c override.c secure.c
EOF

# edges DIR: "FILE INCLUDED" for each #include "..." of DIR's .c and .h files, the
# included name resolved against the including file's folder (os/../config.h ->
# config.h); a name not in DIR keeps its own name (heapkit.h)
edges() {
    (cd "$1" && find . -name '*.[ch]' | sed 's|^\./||' | sort) | while read -r f; do
        sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$1/$f" |
            while read -r inc; do
                to=$(realpath -m --relative-to="$1" "$1/$(dirname "$f")/$inc")
                [ -e "$1/$to" ] || to=$inc
                echo "$f $to"
            done
    done
}

# check DIR: prints one line per violation (unknown file, upward include, cycle)
check() {
    edges "$1" >"$tmp/edges"
    (cd "$1" && find . -name '*.[ch]' | sed 's|^\./||') >"$tmp/files"
    awk -v table="$tmp/table" -v files="$tmp/files" '
        BEGIN {
            while ((getline line < table) > 0) {
                n = split(line, w, " ")
                for (i = 3; i <= n; i++) { rank[w[i]] = w[1]; layer[w[i]] = w[2] }
            }
            while ((getline f < files) > 0)
                if (!(f in rank)) print f ": not in the layer table of tests/layers.sh"
        }
        !($2 in rank) { print $1 " includes " $2 ", which is not in the layer table"; next }
        ($1 in rank) && rank[$2] > rank[$1] {
            print $1 " (" layer[$1] ") includes " $2 " (" layer[$2] "): up the layers"
        }' "$tmp/edges"
    # tsort reports a loop of the graph (it reads "from to" pairs)
    awk '$1 != $2' "$tmp/edges" | tsort >/dev/null 2>"$tmp/tsort" ||
        echo "include cycle: $(grep -v 'input contains a loop' "$tmp/tsort" | sed 's/^tsort: //' | tr '\n' ' ')"
    awk '$1 == $2 { print $1 " includes itself" }' "$tmp/edges"
}

check "$src" >"$tmp/violations"
if [ -s "$tmp/violations" ]; then
    fail "$src: $(wc -l <"$tmp/violations") include(s) break the layers:"
    sed 's/^/    /' "$tmp/violations"
else
    pass
fi
echo "$src: $(wc -l <"$tmp/edges") includes in $(wc -l <"$tmp/files") files checked"

# the checker itself must fail on broken trees
broken() { # NAME: builds $tmp/NAME from the table's file names, every file empty
    mkdir -p "$tmp/$1/os"
    awk '{ for (i = 3; i <= NF; i++) if ($i != "heapkit.h") print $i }' "$tmp/table" |
        while read -r f; do : >"$tmp/$1/$f"; done
}
broken up
echo '#include "heap.h"' >"$tmp/up/segment.c"
echo '#include "../track.h"' >"$tmp/up/os/posix.c"
echo '#include "internal.h"' >"$tmp/up/track.h"
check "$tmp/up" >"$tmp/up.out"
if grep -q 'segment.c (segment) includes heap.h (heap): up the layers' "$tmp/up.out" &&
    grep -q 'track.h (base) includes internal.h (api)' "$tmp/up.out"; then
    pass
else
    fail "an include up the layers was not reported: $(cat "$tmp/up.out")"
fi
broken cycle
echo '#include "huge.h"' >"$tmp/cycle/segment.h"
echo '#include "segment.h"' >"$tmp/cycle/huge.h"
echo '#include "stray.h"' >"$tmp/cycle/heap.c"
check "$tmp/cycle" >"$tmp/cycle.out"
if grep -q 'include cycle' "$tmp/cycle.out" && grep -q 'stray.h, which is not in the layer table' "$tmp/cycle.out"; then
    pass
else
    fail "a cycle or an unknown file was not reported: $(cat "$tmp/cycle.out")"
fi
finish
