#!/bin/sh
# test_report.sh -- black-box tests of `heapkit report`: a page for a shipped trace and for
# a real program recorded here with --callsites; the page well-formed (elements nest, every
# <svg> is XML), self-contained, with the verdict, a row per policy whose figures are
# replay's, the maps and the call sites; the options; the errors (exit 2 with a message,
# no page left behind; a failing policy exit 1 with its FAIL row on the page); progress
# only on a terminal; and the page rendered by headless Chromium: a real picture, the
# script run without an error.
#
#   sh tests/tools/test_report.sh [path/to/heapkit]      (default: build/heapkit)
#
# Ends with the line "N passed, N failed" and exits non-zero if anything failed.

HEAPKIT=${1:-build/heapkit}
SHARED_TRACES=${HK_TRACES:-../shared/traces}
TRACE=traces/phased.rep
CHECK="python3 $(dirname "$0")/report_check.py"
. "$(dirname "$0")/../lib.sh"

# checked NAME CHECK-ARGS... : runs report_check.py, one pass or fail per line it prints.
checked() {
    name=$1
    shift
    $CHECK "$@" >"$tmp/check" 2>&1 || echo "FAIL report_check.py: exit status $?" >>"$tmp/check"
    while IFS= read -r line; do
        case $line in
        PASS*) pass ;;
        FAIL*) fail "$name: ${line#FAIL }" ;;
        *) fail "$name: $line" ;;
        esac
    done <"$tmp/check"
}

if [ ! -x "$HEAPKIT" ]; then
    echo "FAIL: $HEAPKIT is not built"
    echo "0 passed, 1 failed"
    exit 1
fi
policies=$("$HEAPKIT" policies | wc -l)

# ---- usage ----
run "report --help" 0 report --help
expect_in "$tmp/out" "report --help" "--maps LIST"
run "help lists report" 0 --help
expect_in "$tmp/out" "help lists report" "^  report "

# ---- a shipped trace (and a CS:APP one when present), every policy ----
traces=$TRACE
[ -r "$SHARED_TRACES/amptjp-bal.rep" ] && traces="$traces $SHARED_TRACES/amptjp-bal.rep"
ntraces=$(echo $traces | wc -w)
run "report of classic traces" 0 report --repeat 1 -o "$tmp/classic.html" $traces
run "replay of the same traces" 0 replay --repeat 0 --json $traces
cp "$tmp/out" "$tmp/classic.json"
checked "classic page" page "$tmp/classic.html" --traces "$ntraces" --rows "$policies" \
    --verdict "For this trace:" --map-of hkfit --map-of implicit-first \
    --max-bytes 5000000 --json "$tmp/classic.json"
if grep -q 'Who allocates what' "$tmp/classic.html"; then
    fail "a classic trace has a call-site section"
else
    pass
fi
[ "$ntraces" -gt 1 ] && expect_in "$tmp/classic.html" "an index of the traces" '<li><a href="#trace-2">'

# ---- a real program, recorded here with call sites ----
if "$HEAPKIT" record --callsites -q -o "$tmp/py.hkt" -- /usr/bin/python3 -c '
import json
rows = [{"id": i, "name": "row %d" % i, "tags": ["t%d" % (i % 7)] * (i % 5)} for i in range(20000)]
text = json.dumps(rows)
back = json.loads(text)
blobs = [bytearray(i * 97 % 6000) for i in range(3000)]
del rows, blobs' 2>"$tmp/rec.err"; then
    pass
    run "report of a recorded python3" 0 report --repeat 1 -o "$tmp/py.html" "$tmp/py.hkt"
    run "replay of it" 0 replay --repeat 0 --json "$tmp/py.hkt"
    cp "$tmp/out" "$tmp/py.json"
    checked "python3 page" page "$tmp/py.html" --traces 1 --rows "$policies" --sites \
        --verdict "For this program:" --map-of hkfit --json "$tmp/py.json"
    expect_in "$tmp/py.html" "the program" 'program <b>/usr/bin/python3'
    expect_in "$tmp/py.html" "the command" '<span class="cmd mono">/usr/bin/python3 -c'
    expect_in "$tmp/py.html" "threads and duration" 'thread <b>1</b>.*duration <b>'
    expect_in "$tmp/py.html" "how it ended" 'ended <b>exit'
    expect_in "$tmp/py.html" "curves" '<h3>Over time</h3>'
    expect_in "$tmp/py.html" "libc has a curve" '<span class="sw k[0-9]+( ks)?"></span>libc</span>'
else
    fail "record python3: $(head -n 2 "$tmp/rec.err")"
fi

# ---- real allocators: a table and a verdict of their own ----
run "report with real allocators" 0 report --policy hkfit,gnu --maps none --repeat 1 --peer glibc \
    -o "$tmp/peers.html" "$TRACE"
checked "peers page" page "$tmp/peers.html"
expect_in "$tmp/peers.html" "peer section" '<h3>Real allocators</h3>'
expect_in "$tmp/peers.html" "peer verdict" 'On the real allocators: <b>peer:glibc</b> wastes least'
expect_in "$tmp/peers.html" "peer row" '<td[^>]*>peer:glibc'
expect_in "$tmp/peers.html" "what a peer footprint is" 'peak resident memory above the player'
if grep -o '<div class="verdict">For this trace: <b>[a-z-]*</b>' "$tmp/peers.html" | grep -q 'peer:'; then
    fail "peers page: the lab verdict names a real allocator"
else
    pass
fi
run "unknown peer" 2 report --peer nosuch "$TRACE"
expect_in "$tmp/err" "unknown peer message" "nosuch"
run "bad threads" 2 report --peer glibc --threads some "$TRACE"

# ---- options ----
run "three policies, no maps, no timing, to stdout" 0 report --policy hkfit,libc,implicit-first \
    --maps none --repeat 0 "$TRACE"
cp "$tmp/out" "$tmp/three.html"
checked "three policies" page "$tmp/three.html" --rows 3 --maps 0
expect_in "$tmp/three.html" "no speed verdict" 'no speed verdict'
expect_in "$tmp/three.html" "untimed rows show a dash" '<td>–</td><td data-v="ok">ok</td>'
run "chosen maps, 50 columns" 0 report --policy hkfit --maps hkfit,libc --columns 50 --repeat 1 \
    -o "$tmp/maps.html" "$TRACE"
checked "chosen maps" page "$tmp/maps.html" --rows 1 --maps 1 --map-of hkfit
expect_in "$tmp/maps.html" "50 layouts" '20000 ops, 50 layouts'
expect_in "$tmp/maps.html" "libc is not drawn" 'libc <span class="note">.*chosen with --maps'
expect_in "$tmp/maps.html" "libc is not drawn: why" 'Not drawn: this is the system heap'

# ---- errors: exit 2 and a message, no page ----
printf '1\n2\n2\n1\na 0 8\nx 0\n' >"$tmp/bad.rep"
run "malformed trace" 2 report -o "$tmp/e.html" "$tmp/bad.rep"
expect_in "$tmp/err" "malformed trace message" "^heapkit: $tmp/bad.rep:6: .*unknown op"
run "missing trace" 2 report -o "$tmp/e.html" "$tmp/nothing-here.rep"
expect_in "$tmp/err" "missing trace message" "^heapkit: $tmp/nothing-here.rep: cannot open"
if [ -e "$tmp/e.html" ]; then fail "a page was written for a bad input"; else pass; fi
run "unwritable output" 2 report --repeat 0 -o "$tmp/no/such/dir.html" "$TRACE"
expect_in "$tmp/err" "unwritable output message" "cannot open $tmp/no/such/dir.html"
run "unknown policy" 2 report --policy hkfit,nosuch "$TRACE"
expect_in "$tmp/err" "unknown policy message" "unknown policy 'nosuch' in --policy"
run "unknown map policy" 2 report --maps nosuch "$TRACE"
run "bad repeat" 2 report --repeat 100 "$TRACE"
run "bad columns" 2 report --columns 5 "$TRACE"
run "bad align" 2 report --align 32 "$TRACE"
run "no trace" 2 report -o "$tmp/e.html"
run "unknown option" 2 report --frob "$TRACE"
run "option without value" 2 report "$TRACE" --policy

# ---- a policy that fails: exit 1, the page written with its FAIL row ----
printf '1\n1\n2\n1\na 0 4294967296\nf 0\n' >"$tmp/huge.rep"
run "failing policies" 1 report --policy minimal,pad --repeat 1 -o "$tmp/fail.html" "$TRACE" \
    "$tmp/huge.rep"
checked "page with failures" page "$tmp/fail.html" --traces 2 --rows 2
expect_in "$tmp/fail.html" "the FAIL row" '<td class="why" data-v="FAIL">FAIL op 1 \(line 5\): out of memory'
expect_in "$tmp/fail.html" "no verdict without a passed row" 'No row passed on this trace \(2 failed\)'
expect_in "$tmp/fail.html" "the other trace has its verdict" 'For this trace: <b>'

# ---- progress: on a terminal only ----
run "no progress without a terminal" 0 report --policy hkfit,gnu --maps none --repeat 0 \
    -o "$tmp/p.html" "$TRACE"
if [ -s "$tmp/err" ]; then fail "stderr not empty without a terminal: $(head -c 80 "$tmp/err")"; else pass; fi
if command -v script >/dev/null 2>&1; then
    script -qec "$HEAPKIT report --policy hkfit,gnu --maps hkfit --repeat 0 -o $tmp/p.html $TRACE" \
        /dev/null >"$tmp/tty" 2>&1
    expect_in "$tmp/tty" "progress on a terminal" 'heapkit report: phased.rep: replay 2/2: gnu'
    expect_in "$tmp/tty" "progress of the maps" 'heapkit report: phased.rep: map 1/1: hkfit'
else
    echo "note: script(1) not installed: the progress test is skipped"
fi

# ---- the page in a browser: headless Chromium ----
command -v chromium >/dev/null 2>&1 || sh scripts/deps.sh chromium >"$tmp/deps" 2>&1
page=$tmp/py.html
[ -s "$page" ] || page=$tmp/classic.html
if command -v chromium >/dev/null 2>&1; then
    chrome() {
        timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
            --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
            --user-data-dir="$tmp/chrome" --enable-logging=stderr --v=0 "$@"
    }
    chrome --window-size=1280,1600 --screenshot="$tmp/shot.png" "file://$page" >/dev/null 2>"$tmp/chrome.err"
    if [ -s "$tmp/shot.png" ]; then
        pass
        checked "screenshot" png "$tmp/shot.png"
    else
        fail "chromium wrote no screenshot: $(grep -v dbus "$tmp/chrome.err" | tail -n 2)"
    fi
    chrome --dump-dom "file://$page" >"$tmp/dom.html" 2>"$tmp/chrome2.err"
    expect_in "$tmp/dom.html" "the page's script ran" '<html lang="en" data-ready="1">'
    if grep -E ':CONSOLE' "$tmp/chrome.err" "$tmp/chrome2.err" | grep -Eq 'Uncaught|Error|Failed|ERR_'; then
        fail "the console shows an error: $(grep -h ':CONSOLE' "$tmp/chrome.err" "$tmp/chrome2.err" | head -n 2)"
    else
        pass
    fi
else
    echo "note: chromium cannot be installed here: the browser test is skipped"
fi

finish
