#!/bin/sh
# bug_table.sh -- measures every case of tests/bugs/bug_prog on every allocator and writes
# the table into docs/HARDENING.md, between its "bug-table" markers (the text around them
# is written by hand). `make bug-table` runs it.
# Usage: bug_table.sh path/to/bug_prog path/to/libheapkit.so [DOC]
#   HEAPKIT_SECURE_LIBRARY=path   measures a secure build too (else "not built yet")
prog=$1
lib=$2
doc=${3:-docs/HARDENING.md}
here=$(dirname "$0")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/heapkit-bugs.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
. "$here/../tests/bugs/outcome.sh"

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
            bug_outcome "$prog" "$case" "$clib"
            bug_detected "$outcome" && echo "$name" >>"$tmp/detected"
            row="$row $(bug_label "$outcome") |"
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
    echo "<sub>Measured by \`make bug-table\` on $(uname -sm) $(uname -r), $cpu, glibc" \
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
