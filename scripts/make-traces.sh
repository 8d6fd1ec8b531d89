#!/bin/sh
# make-traces.sh -- regenerates the shipped synthetic traces in traces/, byte for byte.
#
#   sh scripts/make-traces.sh [HEAPKIT [OUTDIR]]    (defaults: build/heapkit, traces)
#
# The seeds and sizes below are the record of how each trace was made; traces/README.md
# describes them. Change a line here and rerun to change a trace; tests/tools/test_gen.sh
# checks that the files in traces/ still match this script.
set -eu
hk=${1:-build/heapkit}
out=${2:-traces}
mkdir -p "$out"

make_trace() { # make_trace NAME GEN-ARGS...
    name=$1
    shift
    "$hk" gen "$@" -o "$out/$name.rep"
}

make_trace random    --pattern random    --seed 1 --ops 12000 --max-live 1000
make_trace adversary --pattern adversary --seed 2 --ops 16000 --max-live 600
make_trace coalesce  --pattern coalesce  --seed 3 --ops 12000 --max-live 1000
make_trace realloc   --pattern realloc   --seed 4 --ops 16000 --max-live 500
make_trace phased    --pattern phased    --seed 5 --ops 20000 --max-live 2000
