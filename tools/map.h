/*
 * map.h -- `heapkit map`: a picture of one policy's heap over a trace, as one SVG.
 *
 * Design:      The trace is replayed on a fresh heap of the policy; at `columns` evenly
 *              spaced operations the policy's walk (policy.h) says what every byte of
 *              the footprint is. Each such layout becomes one column of the picture:
 *              x is time (operation index), y the heap address, lowest at the bottom,
 *              with the sbrk-like region first and then every mapping that was seen, in
 *              address order ("compacted", so a mapping far away in the address space
 *              does not leave the picture empty). Colours: payload (the bytes the
 *              program asked for), block overhead (the rest of an allocated block:
 *              header, footer, padding, rounding), free, policy metadata, freed memory
 *              never reused, and background (not in the footprint). Under it, the same
 *              x axis: footprint and live payload in bytes, and utilization (live
 *              payload / footprint) at every operation.
 * Size:        a column is rasterized to pixel rows (a row's colour by error diffusion,
 *              so every colour keeps its share of the area) and equal runs are merged
 *              down a column and across columns: a 600-column map of a CS:APP trace is
 *              0.1-0.4 MB, about 1.3 MB at worst (buddy, vm, slab on random-bal).
 */
#ifndef HK_TOOLS_MAP_H
#define HK_TOOLS_MAP_H

#include <stdbool.h>
#include <stdio.h>

#include "policy.h"
#include "trace.h"

#define MAP_DEFAULT_COLUMNS 600
#define MAP_MAX_COLUMNS     4000

typedef struct map_options {
    size_t   align;    /* payload alignment of the heap: 8 or 16 */
    unsigned columns;  /* layouts drawn (fewer when the trace has fewer ops), >= 1 */
    bool     check;    /* verify the walk contract (lab_walk_check) at every column */
    bool     fragment; /* no XML declaration: the <svg> goes inside an HTML page */
} map_options_t;

/* Replays t on a fresh heap of policy p and writes the picture to out. Returns 0; 1 when
 * the policy failed an operation (or, with check, its walk broke the contract); 2 when p
 * cannot be walked (libc), memory ran out or out could not be written. Every failure is
 * described on stderr as "heapkit: ..." first. */
int map_render(FILE *out, const trace_t *t, const lab_policy_t *p, const map_options_t *opt);

/* The subcommand: heapkit map [OPTIONS] TRACE. Exit status as map_render's, or 2 for bad
 * usage or a malformed trace. */
int map_main(int argc, char **argv);

#endif
