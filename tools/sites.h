/*
 * sites.h -- "who allocates what": a recorded trace's allocations added up per call site.
 *
 * Design:      One pass over the ops of a trace that has call sites (trace.h: callsite[i]
 *              is index + 1 into callsites[], 0 when the op has none). Every allocation
 *              call (malloc, calloc, aligned, realloc to a size > 0) counts for its site:
 *              one call and its request size. A live block belongs to the site of the
 *              call that last gave it its size, so a block grown by realloc belongs to
 *              the realloc. At the op where the live bytes peak (trace_peak_live's op),
 *              the live blocks and bytes of each site are recorded. Calls without a site
 *              are counted under one extra entry, SITES_NONE.
 * Invariants:  S1 the calls of all entries add up to the trace's allocation calls
 *              S2 the live bytes at the peak of all entries add up to trace_peak_live()
 *              tests/tools/test_sites.c checks both on traces built in memory.
 * Complexity:  O(ops + sites log sites) time, O(ids + sites) space.
 */
#ifndef HK_TOOLS_SITES_H
#define HK_TOOLS_SITES_H

#include <stddef.h>
#include <stdint.h>

#include "trace.h"

#define SITES_NONE UINT32_MAX /* the entry of the calls that have no call site */

typedef struct site_stat {
    uint32_t site;        /* index into trace->callsites, or SITES_NONE */
    uint64_t calls;       /* allocation calls made there */
    uint64_t bytes;       /* bytes they requested */
    uint64_t peak_blocks; /* its blocks live at the peak of live bytes */
    uint64_t peak_bytes;  /* their requested bytes */
} site_stat_t;

typedef enum sites_order {
    SITES_BY_BYTES,      /* most bytes requested first */
    SITES_BY_PEAK_BYTES, /* most bytes live at the peak first */
} sites_order_t;

/* Counts t's allocations per site into *out (t->num_callsites + 1 entries, the last one
 * SITES_NONE, in site order; the caller frees it). Returns the number of entries, or 0
 * when t has no call sites or memory ran out (then *out is NULL). */
size_t sites_count(const trace_t *t, site_stat_t **out);

/* Sorts entries by `order`, ties by calls then by site index. */
void sites_sort(site_stat_t *s, size_t n, sites_order_t order);

#endif
