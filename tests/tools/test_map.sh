#!/bin/sh
# test_map.sh -- black-box tests of `heapkit map`: a shipped trace drawn on several policies
# (with the walk contract and the layout checked at every column), the SVG well-formed XML
# with its legend and rects, the errors (exit 2 with a message; a failing policy exit 1
# naming the op), and gzip and CS:APP input.
#
#   sh tests/tools/test_map.sh [path/to/heapkit]      (default: build/heapkit)
#
# Ends with the line "N passed, N failed" and exits non-zero if anything failed.

HEAPKIT=${1:-build/heapkit}
SHARED_TRACES=${HK_TRACES:-../shared/traces}
TRACE=traces/phased.rep
. "$(dirname "$0")/../lib.sh"

# is_svg NAME FILE : FILE parses as XML, has an <svg> root, the legend, and many rects.
is_svg() {
    if python3 -c 'import xml.dom.minidom,sys; d=xml.dom.minidom.parse(sys.argv[1]); assert d.documentElement.tagName == "svg"' "$2" 2>"$tmp/xml.err"; then
        pass
    else
        fail "$1: not well-formed SVG: $(head -n 1 "$tmp/xml.err")"
    fi
    expect_in "$2" "$1 legend" '>payload \(requested\)</text>'
    expect_in "$2" "$1 legend" '>utilization \(right axis\)</text>'
    rects=$(grep -c '<rect' "$2")
    if [ "$rects" -ge 100 ]; then pass; else fail "$1: only $rects rects"; fi
    size=$(wc -c <"$2")
    if [ "$size" -lt 2000000 ]; then pass; else fail "$1: $size bytes, more than 2 MB"; fi
}

if [ ! -x "$HEAPKIT" ]; then
    echo "FAIL: $HEAPKIT is not built"
    echo "0 passed, 1 failed"
    exit 1
fi

# ---- usage ----
run "map --help" 0 map --help
expect_in "$tmp/out" "map --help" "--columns"
run "help lists map" 0 --help
expect_in "$tmp/out" "help lists map" "^  map "

# ---- a shipped trace on several policies, every layout checked ----
for policy in hkfit implicit-first dlist-best segfit buddy slab pagemeta vm gnu pad minimal; do
    run "map $policy" 0 map --check --policy "$policy" -o "$tmp/$policy.svg" "$TRACE"
    is_svg "map $policy" "$tmp/$policy.svg"
    expect_in "$tmp/$policy.svg" "map $policy title" "phased\.rep on $policy<"
done
expect_in "$tmp/hkfit.svg" "600 layouts by default" "20000 ops, 600 layouts, align 16"
expect_in "$tmp/pad.svg" "pad's freed blocks are drawn" '>freed, never reused</text>'
if grep -q 'freed, never reused' "$tmp/hkfit.svg"; then
    fail "hkfit's legend has freed, never reused blocks"
else
    pass
fi
expect_in "$tmp/vm.svg" "vm's mappings are drawn" '>mappings</text>'

# align 8, fewer columns, standard output, gzip input
run "align 8, 50 columns, to stdout" 0 map --align 8 --columns 50 --policy list "$TRACE"
expect_in "$tmp/out" "50 layouts" "20000 ops, 50 layouts, align 8"
cp "$tmp/out" "$tmp/stdout.svg"
is_svg "map to stdout" "$tmp/stdout.svg"
gzip -c "$TRACE" >"$tmp/phased.rep.gz"
run "gzip trace" 0 map --policy bins -o "$tmp/gz.svg" "$tmp/phased.rep.gz"
expect_in "$tmp/gz.svg" "gzip trace title" "phased\.rep\.gz on bins<"
# fewer ops than columns: one layout per op
printf '1\n3\n6\n1\na 0 100\na 1 5000\nr 0 300\nf 1\na 2 8\nf 0\n' >"$tmp/tiny.rep"
run "tiny trace" 0 map --check --policy gnu -o "$tmp/tiny.svg" "$tmp/tiny.rep"
expect_in "$tmp/tiny.svg" "one layout per op" "6 ops, 6 layouts"

# ---- errors: exit 2 and a message, no picture ----
run "unknown policy" 2 map --policy nosuch -o "$tmp/e.svg" "$TRACE"
expect_in "$tmp/err" "unknown policy" "unknown policy 'nosuch'"
run "libc cannot be walked" 2 map --policy libc -o "$tmp/e.svg" "$TRACE"
expect_in "$tmp/err" "libc cannot be walked" "policy 'libc' has no walk"
printf '1\n2\n2\n1\na 0 8\nx 0\n' >"$tmp/bad.rep"
run "malformed trace" 2 map -o "$tmp/e.svg" "$tmp/bad.rep"
expect_in "$tmp/err" "malformed trace message" "^heapkit: $tmp/bad.rep:6: .*unknown op"
run "missing trace" 2 map "$tmp/nothing-here.rep"
expect_in "$tmp/err" "missing trace message" "^heapkit: $tmp/nothing-here.rep: cannot open"
if [ -e "$tmp/e.svg" ]; then fail "a picture was written for a bad input"; else pass; fi
run "bad align" 2 map --align 32 "$TRACE"
run "bad columns" 2 map --columns 0 "$TRACE"
expect_in "$tmp/err" "bad columns message" "--columns needs a number"
run "no trace" 2 map --policy hkfit
run "two traces" 2 map "$TRACE" "$TRACE"
run "unknown option" 2 map --frob "$TRACE"
run "unwritable output" 2 map -o "$tmp/no/such/dir.svg" "$TRACE"
expect_in "$tmp/err" "unwritable output message" "cannot open $tmp/no/such/dir.svg"

# ---- a policy that fails: exit 1, the op named, no picture left behind ----
printf '1\n1\n2\n1\na 0 4294967296\nf 0\n' >"$tmp/huge.rep"
run "out of memory" 1 map --policy minimal -o "$tmp/oom.svg" "$tmp/huge.rep"
expect_in "$tmp/err" "out of memory names the op" "op 1 \(line 5\): malloc\(4294967296\) .*out of memory"
if [ -e "$tmp/oom.svg" ]; then fail "out of memory: a partial picture is left"; else pass; fi

# ---- a CS:APP trace, when present ----
if [ -r "$SHARED_TRACES/amptjp-bal.rep" ]; then
    run "CS:APP amptjp on hkfit" 0 map --check --policy hkfit -o "$tmp/amptjp.svg" \
        "$SHARED_TRACES/amptjp-bal.rep"
    is_svg "CS:APP amptjp on hkfit" "$tmp/amptjp.svg"
fi

finish
