/*
 * hkfit_pcache.h -- hkfit's page cache: which run, if any, holds a pointer, found from its
 *                   page without a search on a hit.
 *
 * Layout:      PC_N entries in the policy state (fixed size, not in the footprint), entry
 *              k % PC_N for region page k:
 *
 *   pcache_t:  | page: k + 1 (0: unused) : 32 | lo : 16 | hi : 16 |      8 bytes
 *
 *   page k:    start                                              start + 4096
 *              |  ...  [ lowest run ...  | span |  highest run ]  ...      |
 *                      ^ start + 8 * lo                        ^ start + 8 * hi
 *              (lo and hi may lie outside the page: runs cross page bounds; lo == hi:
 *               no run overlaps the page)
 *
 * Invariants:  H6 (its page cache part) every used entry sits at its page's slot and holds
 *              the range from the start of the page's lowest run to the end of its highest
 *              one (empty if no run overlaps it). Creating or releasing a run updates or
 *              drops the entries of its pages, so an entry is never stale.
 *              hkfit_pcache_check() verifies it.
 * Algorithm:   a pointer outside its page's range is in no run (most span pointers: a
 *              block at the break, above the runs of its page); inside it, a walk along
 *              the span tiling from the lowest run reaches the pointer, inside one page. A
 *              miss fills the entry from the run index (hkfit_index.c), without a search
 *              when the page's zone holds no run.
 */
#ifndef LAB_HKFIT_PCACHE_H
#define LAB_HKFIT_PCACHE_H

#include "hkfit_span.h"

static inline size_t page_of(const hkfit_t *h, const uint8_t *p)
{
    return (size_t)(p - h->base) / LAB_PAGE_SIZE;
}
static inline uint8_t *page_start(const hkfit_t *h, size_t k)
{
    return h->base + k * LAB_PAGE_SIZE;
}
static inline pcache_t *pc_entry(hkfit_t *h, size_t k) { return &h->pc[k & (PC_N - 1)]; }
/* 8-byte units from the start of page k to s (negative below the page). */
static inline int16_t pc_rel(const hkfit_t *h, size_t k, const uint8_t *s)
{
    return (int16_t)((s - page_start(h, k)) / 8);
}
static inline uint8_t *pc_at(const hkfit_t *h, size_t k, int16_t rel)
{
    return page_start(h, k) + (ptrdiff_t)rel * 8;
}

/* ---- hkfit_pcache.c ---- */

/* Fills entry e for page k from the run index. */
void hkfit_pc_fill(hkfit_t *h, pcache_t *e, size_t k);
/* Keeps the cached pages of run s exact when s is created (add) or released (!add). */
void hkfit_pc_update(hkfit_t *h, uint8_t *s, bool add);
/* H6, the page cache part. */
void hkfit_pcache_check(const hkfit_t *h, lab_report_t *r);

/* The run span containing p (base <= p < break), or NULL. A pointer outside the range of
 * runs on its page is settled by the cache entry alone; inside it, a walk along the tiling
 * of spans from the lowest run reaches p (the walk stays inside one page). */
static inline __attribute__((always_inline)) uint8_t *run_containing(hkfit_t *h,
                                                                     const uint8_t *p)
{
    size_t k = page_of(h, p);
    pcache_t *e = pc_entry(h, k);
    if (__builtin_expect(e->page != k + 1, 0))
        hkfit_pc_fill(h, e, k);
    uint8_t *s = pc_at(h, k, e->lo);
    if (p < s || p >= pc_at(h, k, e->hi))
        return NULL;
    for (;;) {
        uint64_t t = ld(s);
        size_t z = (size_t)(t & SIZE_MASK);
        if (p < s + z)
            return (t & F_RUN) && tag_valid(s, t) ? s : NULL;
        if (z < MIN_SPAN)
            return NULL; /* damaged tiling: the span checks report it */
        s += z;
    }
}

#endif
