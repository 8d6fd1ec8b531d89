#!/bin/sh
# bug_table.sh -- measures every case of tests/bugs/bug_prog on every allocator and writes
# the table into docs/HARDENING.md, between its "bug-table" markers (the text around them
# is written by hand). `make bug-table` runs it.
# Usage: bug_table.sh path/to/bug_prog path/to/libheapkit.so [DOC]
#   HEAPKIT_SECURE_LIBRARY=path   measures a secure build too (else "not built yet")
#   BUG_RUNS=N                    runs of each case on each allocator (default 5)
prog=$1
lib=$2
doc=${3:-docs/HARDENING.md}
here=$(dirname "$0")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/heapkit-bugs.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
. "$here/../tests/bugs/outcome.sh"

# Some outcomes depend on where ASLR put the stack or a mapping, so each case runs
# $runs times: the cell is the most frequent outcome, then the others with their counts.
runs=${BUG_RUNS:-5}
cell() { # cell CASE LIB: sets $outcome (the most frequent) and $label
    : >"$tmp/runs"
    _i=0
    while [ "$_i" -lt "$runs" ]; do
        bug_outcome "$prog" "$1" "$2"
        echo "$outcome" >>"$tmp/runs"
        _i=$((_i + 1))
    done
    sort "$tmp/runs" | uniq -c | sort -k1,1nr -k2 >"$tmp/counts"
    # shellcheck disable=SC2046 # count/key pairs, one word each
    set -- $(cat "$tmp/counts")
    outcome=$2
    label=$(bug_label "$outcome")
    [ "$1" -eq "$runs" ] && return
    label="$label ($1 of $runs"
    shift 2
    while [ $# -gt 0 ]; do
        label="$label; $1: $(bug_label "$2")"
        shift 2
    done
    label="$label)"
}

# columns: NAME=LIBRARY; the heapkit columns, then the secure one when it exists
columns="$BUG_PEERS heapkit-default=$lib"
[ -n "$HEAPKIT_SECURE_LIBRARY" ] && columns="$columns heapkit-secure=$HEAPKIT_SECURE_LIBRARY"

header="| class |"
rule="|---|"
for c in $columns; do
    header="$header ${c%%=*} |"
    rule="$rule---|"
done
[ -z "$HEAPKIT_SECURE_LIBRARY" ] && header="$header heapkit-secure |" && rule="$rule---|"

{
    echo "$header"
    echo "$rule"
    for case in $("$prog"); do
        row="| \`$case\` |"
        for c in $columns; do
            name=${c%%=*} clib=${c#*=}
            if [ -n "$clib" ] && [ ! -e "$clib" ]; then
                row="$row not installed |"
                continue
            fi
            cell "$case" "$clib"
            bug_detected "$outcome" && echo "$name" >>"$tmp/detected"
            row="$row $label |"
        done
        [ -z "$HEAPKIT_SECURE_LIBRARY" ] && row="$row not built yet |"
        echo "$row"
    done
    row="| **detected** (of $("$prog" | wc -l)) |"
    for c in $columns; do
        n=$(grep -cx "${c%%=*}" "$tmp/detected" 2>/dev/null)
        row="$row **${n:-0}** |"
    done
    [ -z "$HEAPKIT_SECURE_LIBRARY" ] && row="$row |"
    echo "$row"
    echo
    cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
    echo "<sub>Each cell: the most frequent outcome of $runs runs. Measured by \`make bug-table\` on $(uname -sm) $(uname -r), $cpu, glibc" \
        "$(ldd --version | head -n1 | sed 's/.* //'), Debian packages jemalloc" \
        "$(dpkg-query -W -f='${Version}' libjemalloc2 2>/dev/null), tcmalloc" \
        "$(dpkg-query -W -f='${Version}' libtcmalloc-minimal4 2>/dev/null), mimalloc" \
        "$(dpkg-query -W -f='${Version}' libmimalloc2.0 2>/dev/null); heapkit at" \
        "$(git rev-parse --short HEAD 2>/dev/null), $(date -u +%Y-%m-%d).</sub>"
} >"$tmp/table"

awk -v table="$tmp/table" '
    /<!-- bug-table begin -->/ { print; while ((getline l < table) > 0) print l; skip = 1; next }
    /<!-- bug-table end -->/ { skip = 0 }
    !skip' "$doc" >"$tmp/doc" && cat "$tmp/doc" >"$doc"
grep -q 'bug-table begin' "$doc" || { echo "bug_table.sh: $doc has no bug-table markers" >&2; exit 1; }
echo "bug_table.sh: $doc updated"
