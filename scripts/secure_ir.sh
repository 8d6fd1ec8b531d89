#!/bin/sh
# secure_ir.sh -- the secure build's cost in instructions (callgrind: noise-free), program
# by program: make bench's programs at smaller sizes under libheapkit.so and
# libheapkit-secure.so. Usage: sh scripts/secure_ir.sh [build]   (needs valgrind; ~4 min)
build=${1:-build}
case $build in /*) ;; *) build=$(pwd)/$build ;; esac # (LD_PRELOAD needs a full path)
for lib in libheapkit.so libheapkit-secure.so; do
    [ -f "$build/$lib" ] || { echo "secure_ir.sh: no $build/$lib (run make)" >&2; exit 2; }
done
out=$(mktemp)
trap 'rm -f "$out"' EXIT
ir() { # lib prog args...: the program's total instruction count
    lib=$1
    shift
    LD_PRELOAD="$build/$lib" valgrind --tool=callgrind --callgrind-out-file="$out" \
        "$@" >/dev/null 2>&1 || return 1
    sed -n 's/^\(summary\|totals\): *\([0-9]*\).*/\2/p' "$out" | head -1
}
row() { # name prog args...
    name=$1
    shift
    d=$(ir libheapkit.so "$build/bench/$@") && s=$(ir libheapkit-secure.so "$build/bench/$@") &&
        echo "$name $d $s"
}
{
    row churn churn 2000000 20000
    row larson-1t larson 1 8 400000 4000
    row larson-2t larson 2 8 400000 4000
    row larson-rotate-2t larson 2 8 400000 4000 rotate
    row prodcons prodcons 1 500000
    row realloc realloc_grow 10 500 65536
    row large large 20000 8
    row false-sharing false_sharing 2 3000 50000 8
    row thread-churn-4t thread_churn 4 16 40000 16384
    row thread-churn-2t thread_churn 2 16 100000 131072
    row seq-threads seq_threads 1000 0
    row seq-threads-work seq_threads 1000 64 20000
} | awk '{ r = $3 / $2; s += log(r); n++; printf "%-18s %15.0f %15.0f  %.3f\n", $1, $2, $3, r }
         END { if (n) printf "geomean of %d: %.3f (heapkit-secure / heapkit instructions)\n", n, exp(s / n) }'
