# hkt_count.awk -- an independent reading of a heapkit-trace (plain text; zcat it first):
# the tests compare what it counts with what `heapkit replay` and the trace header say.
# It shares no code with heapkit's reader: it follows docs/TRACE-FORMAT.md on its own.
#
#   zcat t.hkt | awk -f hkt_count.awk [-v size=N]
# prints:  ops N  peak_live N  header_peak N  threads_used N  a N c N m N r N f N  sized N
#   (sized: allocations, calloc, aligned or realloc ops whose size is exactly `size`)
BEGIN { in_ops = 0; live = 0; peak = 0; header_peak = -1 }
!in_ops && $1 == "peak-live" { header_peak = $2 }
!in_ops && $1 == "ops" { in_ops = 1; next }
!in_ops { next }
{
    t = $2; op = $3; id = $4
    ops++; count[op]++; used[t] = 1
    if (op == "f" || op == "r") { live -= sz[id]; sz[id] = 0 }
    if (op != "f") {
        sz[id] = $5; live += $5
        if (size != "" && $5 == size) sized++
    }
    if (live > peak) peak = live
}
END {
    n = 0; for (t in used) n++
    printf "ops %d peak_live %d header_peak %d threads_used %d a %d c %d m %d r %d f %d sized %d\n",
        ops, peak, header_peak, n, count["a"], count["c"], count["m"], count["r"], count["f"], sized
}
