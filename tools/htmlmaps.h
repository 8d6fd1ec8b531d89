/*
 * htmlmaps.h -- the heap maps of a `heapkit report` page: which policies to draw for a
 *               trace, and their pictures (map.h), each within a size budget.
 *
 * Design:      By default a trace gets the maps of the row that wastes least, the fastest
 *              row, hkfit and implicit-first (the textbook's first fit), each when it
 *              passed; when the least or the fastest cannot be drawn (libc: the system
 *              heap is not ours to walk; a row from another allocator) the best row that
 *              can be drawn stands in, and its caption says so. With a list of chosen
 *              policies, those are drawn instead; one that cannot be drawn, or failed in
 *              the replay, gets a note in place of its picture. A picture larger than
 *              HTMLMAPS_BUDGET is drawn again with 2/3 of the layouts, down to
 *              HTMLMAPS_MIN_COLUMNS, and its note says how many it kept.
 */
#ifndef HK_TOOLS_HTMLMAPS_H
#define HK_TOOLS_HTMLMAPS_H

#include <stddef.h>

#include "htmlpage.h"
#include "policy.h"

#define HTMLMAPS_BUDGET      (1u << 20) /* bytes of SVG one map may take: 1 MiB */
#define HTMLMAPS_MIN_COLUMNS 60         /* a map is not reduced below this */

/* Told before each map is drawn: the i-th of n, of `policy`. */
typedef void htmlmaps_progress_fn(void *ctx, const trace_t *t, size_t i, size_t n,
                                  const char *policy);

typedef struct htmlmaps_options {
    size_t align;                      /* payload alignment of the heaps: 8 or 16 */
    unsigned columns;                  /* layouts asked for, 1 .. MAP_MAX_COLUMNS */
    const lab_policy_t *const *chosen; /* the policies to draw, or NULL: the default picks */
    size_t nchosen;
    htmlmaps_progress_fn *progress; /* or NULL */
    void *ctx;
} htmlmaps_options_t;

/* Adds the maps of trace `trace` (an index into pg->traces, whose rows are in) to pg.
 * Returns 0, or -1 when out of memory. */
int htmlmaps_add(htmlpage_t *pg, size_t trace, const htmlmaps_options_t *o);

#endif
