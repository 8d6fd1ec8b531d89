#!/bin/sh
# test_options_doc.sh -- the options table of docs/OPTIONS.md is the one src/options.c
# generates (STYLE.md section 7), and the README's short table agrees with it.
#
#   sh tests/tools/test_options_doc.sh GENERATOR [DOC [README]]            check
#   sh tests/tools/test_options_doc.sh --update GENERATOR [DOC]            regenerate
#
# GENERATOR is build/tools/options_doc (tools/options_doc.c), which prints the table from
# src/options.c's table; DOC defaults to docs/OPTIONS.md and README to README.md. The
# table sits in DOC between a line "<!-- options:begin -->" and a line
# "<!-- options:end -->"; everything else in DOC is prose and is kept as written.
#
# Checks: the generator succeeds; DOC has the two markers once each, in order; the lines
# between them are exactly the generator's output (a diff is printed when not: run
# `make options-doc`); the README's rows name the same variables with the same defaults.
#
# Run from the top of the tree. Ends with the line "N passed, N failed"; exits non-zero
# if anything failed. With --update, exits non-zero only if DOC could not be rewritten.
update=0
if [ "$1" = --update ]; then
    update=1
    shift
fi
gen=$1
doc=${2:-docs/OPTIONS.md}
readme=${3:-README.md}
begin='<!-- options:begin -->'
end='<!-- options:end -->'
. "$(dirname "$0")/../lib.sh"


# markers_ok FILE: the markers appear once each, begin first, each alone on its line.
markers_ok() {
    awk -v b="$begin" -v e="$end" '
        $0 == b { nb++; if (!lb) lb = NR }
        $0 == e { ne++; if (!le) le = NR }
        END { exit !(nb == 1 && ne == 1 && lb < le) }' "$1"
}

# between FILE: the lines strictly between the markers.
between() {
    awk -v b="$begin" -v e="$end" '$0 == e { inside = 0 } inside { print } $0 == b { inside = 1 }' "$1"
}

# defaults: "NAME DEFAULT" for each row of a markdown table of options on stdin
# (first two cells, backquotes removed), sorted.
defaults() {
    awk -F'|' '/^\|[[:space:]]*`HEAPKIT_/ {
        n = $2; d = $3
        gsub(/[`[:space:]]/, "", n); gsub(/[`[:space:]]/, "", d)
        print n, d
    }' | sort
}

if [ -z "$gen" ] || [ ! -x "$gen" ]; then
    echo "usage: sh $0 [--update] GENERATOR [DOC [README]] (GENERATOR: build it first)" >&2
    [ "$update" -eq 1 ] && exit 2
    fail "generator '${gen}' not found or not executable"
    finish
    exit 1
fi

if "$gen" >"$tmp/table" 2>"$tmp/err"; then
    gen_ok=1
else
    gen_ok=0
fi

# ---- make options-doc ----
if [ "$update" -eq 1 ]; then
    if [ "$gen_ok" -ne 1 ]; then
        echo "$gen failed; $doc left as it was:" >&2
        cat "$tmp/err" >&2
        exit 1
    fi
    if ! markers_ok "$doc"; then
        echo "$doc: needs one line '$begin' and, after it, one line '$end'" >&2
        exit 1
    fi
    awk -v b="$begin" -v e="$end" -v t="$tmp/table" '
        $0 == b { print; while ((getline l < t) > 0) print l; skip = 1; next }
        $0 == e { skip = 0 }
        !skip { print }' "$doc" >"$tmp/doc" || exit 1
    if cmp -s "$tmp/doc" "$doc"; then
        echo "$doc: table already up to date"
    else
        cat "$tmp/doc" >"$doc" || exit 1 # keeps the file's mode and links
        echo "$doc: table regenerated from src/options.c"
    fi
    exit 0
fi

# ---- the checks ----
if [ "$gen_ok" -eq 1 ] && [ -s "$tmp/table" ]; then
    pass
else
    fail "$gen did not produce the table"
    sed 's/^/    /' "$tmp/err"
fi

if [ ! -f "$doc" ]; then
    fail "$doc is missing"
elif ! markers_ok "$doc"; then
    fail "$doc: needs one line '$begin' and, after it, one line '$end'"
else
    pass
    between "$doc" >"$tmp/doc_table"
    if diff -u "$tmp/doc_table" "$tmp/table" >"$tmp/diff"; then
        pass
    else
        fail "$doc: the options table differs from src/options.c's (run: make options-doc)"
        sed 's/^/    /' "$tmp/diff"
    fi
fi

if [ ! -f "$readme" ]; then
    fail "$readme is missing"
else
    defaults <"$tmp/table" >"$tmp/want"
    defaults <"$readme" >"$tmp/got"
    if [ ! -s "$tmp/want" ]; then
        fail "no option rows to compare $readme with"
    elif diff -u "$tmp/got" "$tmp/want" >"$tmp/diff"; then
        pass
    else
        fail "$readme: the options table's variables or defaults differ from src/options.c's" \
            "(- $readme, + src/options.c)"
        sed 's/^/    /' "$tmp/diff"
    fi
fi

finish
