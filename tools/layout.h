/*
 * layout.h -- a policy's heap layouts over a replay: what `heapkit map` draws.
 *
 * Design:      layout_build() replays a trace on a fresh heap of one policy and, at
 *              `columns` evenly spaced ops, records the policy's walk (policy.h) as
 *              coloured cells; at every op it records footprint, live payload and
 *              utilization in the bucket of that op's pixel of x. A block's cells are
 *              header (overhead), payload up to the request size, and the rest
 *              (overhead). The mappings seen become lanes stacked after the region, so
 *              a compacted address (layout_y) puts the region first and every mapping
 *              after it, in address order, however far apart they are in memory.
 *              Cells shorter than a quarter of a pixel row (of `rows` rows over the
 *              largest footprint seen so far) are merged with their neighbours into
 *              one cell of the colour that owns most of their bytes: the final scale
 *              is never finer, so a drawing loses nothing, and a column costs a few
 *              cells per row however many blocks the heap holds.
 * Layout:
 *
 *   cells:  | column 0: c c c ... c | column 1: c c ... c | ... |   col[j] = first of j
 *   cell  = {addr, len, colour}: len bytes of the heap at addr, drawn in one colour
 *
 *   compacted addresses (layout_y):
 *   0                         region         region + len(lane 0)               extent
 *   |<----- the sbrk region ----->|<--- lane 0 --->|<--- lane 1 --->| ... |
 *   region = the highest break; a lane = the mappings seen that overlap or touch, merged
 *
 * Invariants:  Y1 col[0] == 0, col never decreases, col[ncols] == ncells
 *              Y2 within a column, cells have len > 0, a colour below LAYOUT_COLOURS,
 *                 and do not overlap: addresses increase within the region and within
 *                 each lane, the region's cells come first, then the lanes' in order
 *              Y3 every cell lies inside the region [base, base + region) or one lane
 *              Y4 lanes are sorted, neither overlap nor touch, lane i's base is region
 *                 plus the lengths of the lanes before it, and extent is region plus
 *                 the lengths of all lanes (at least 1)
 *              Y5 in every bucket live <= foot and the utilization sum is at most n
 *              layout_check() verifies Y1-Y5.
 * Complexity:  build O(ops + columns * (regions log live + lanes log lanes)).
 */
#ifndef HK_TOOLS_LAYOUT_H
#define HK_TOOLS_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "trace.h"

typedef enum layout_colour {
    LAYOUT_PAYLOAD,  /* bytes the program asked for */
    LAYOUT_OVERHEAD, /* the rest of an allocated block: header, footer, padding, rounding */
    LAYOUT_FREE,     /* free space the policy could hand out */
    LAYOUT_META,     /* the policy's own bytes */
    LAYOUT_DEAD,     /* freed, never reused (minimal, pad) */
} layout_colour_t;
#define LAYOUT_COLOURS 5

typedef struct layout_cell {
    uintptr_t addr;
    uint32_t  len;
    uint8_t   colour; /* layout_colour_t */
} layout_cell_t;

typedef struct layout_lane {
    uintptr_t lo, hi; /* the addresses it covers */
    size_t    base;   /* its compacted address */
} layout_lane_t;

typedef struct layout_bucket { /* the ops of one pixel of x */
    size_t   foot, live; /* their largest footprint and live payload (bytes) */
    double   util;       /* the sum of their utilizations (live / footprint) */
    uint32_t n;          /* the ops with a footprint, that util sums over */
} layout_bucket_t;

typedef struct layout {
    const trace_t      *trace;
    const lab_policy_t *policy;
    size_t              align;
    unsigned            ncols;
    size_t             *col; /* ncols + 1 entries */
    layout_cell_t      *cells;
    size_t              ncells;
    uintptr_t           base;   /* the region's start */
    size_t              region; /* its highest break */
    layout_lane_t      *lanes;
    size_t              nlanes;
    double              extent;
    layout_bucket_t    *buckets;
    unsigned            nbuckets;
    size_t              peak_live, peak_footprint;
} layout_t;

typedef struct layout_options {
    size_t   align;    /* of the heap: 8 or 16 */
    unsigned columns;  /* layouts (fewer when the trace has fewer ops) */
    unsigned buckets;  /* of the curves (fewer when the trace has fewer ops) */
    unsigned rows;     /* pixel rows the cells will be drawn on */
    bool     check;    /* lab_walk_check at every column */
} layout_options_t;

/* Builds *l (zeroed first). Returns 0; 1 when the policy failed an op or (check) its walk
 * broke the contract; 2 when it has no walk or memory ran out. Failures are described
 * on stderr as "heapkit: map: ...". */
int    layout_build(layout_t *l, const trace_t *t, const lab_policy_t *p,
                    const layout_options_t *opt);
void   layout_free(layout_t *l);
/* The compacted address of a heap address inside the region or a lane. */
double layout_y(const layout_t *l, uintptr_t addr);
/* Verifies Y1-Y5; returns the number of violations (also in r->count). */
int    layout_check(const layout_t *l, lab_report_t *r);

#endif
