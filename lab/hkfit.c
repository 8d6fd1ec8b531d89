/*
 * hkfit.c -- heapkit's own lab policy: header-less size-class runs for small blocks,
 *            boundary-tag best fit for large ones, exact growth, page-exact mappings.
 *
 * Algorithm:   1. malloc(n <= SMALL_MAX): n is rounded to a multiple of the alignment
 *                 (an exact class, no other rounding) and served from a run: a span of
 *                 the region holding equal slots with no per-slot header. The run that
 *                 owns a pointer is found from its page: a fixed cache maps a region page
 *                 to the range its runs cover, from the lowest run's start to the highest
 *                 run's end (filled on a miss by binary search in a sorted index of runs,
 *                 kept exact when runs come and go; a page of a zone without runs, by a
 *                 bit per 256 KiB, needs no search). A pointer outside that range is in
 *                 no run; inside it, a walk along the span tiling from the lowest run
 *                 reaches the pointer. A new
 *                 run holds a quarter as many slots as the class has live blocks (2 to
 *                 RUN_MAX_BYTES worth), and when no free span fits it, any hole that
 *                 holds one slot is filled instead of growing the heap. An empty run is
 *                 released at once, so a size band that dies gives its space back.
 *              2. malloc(n > SMALL_MAX): a span of n + 8 bytes rounded to the alignment,
 *                 best fit over segregated free lists (exact lists below 1 KiB, then 16
 *                 per power of two, found with a two-level bitmap), split, or else the region
 *                 grows by exactly the span. A request whose page rounding costs no more
 *                 than a header (<= 8 bytes, or 1/256) gets its own header-less mapping,
 *                 unless a freed mapping of that size showed such blocks die young (the
 *                 floor rises as glibc's dynamic mmap threshold does).
 *              3. free: one lookup finds and validates the pointer (the policy screens
 *                 foreign and misaligned pointers itself, LAB_SCREENS_POINTERS, so the
 *                 range test is made once); runs take the slot back; spans coalesce with
 *                 both neighbours (boundary tags) and a free span that reaches the break
 *                 is trimmed, so the top span is never free.
 *              4. realloc: one lookup, which also validates the pointer as free does;
 *                 shrink in place; grow into a free next span, or at the break by
 *                 exactly the difference; otherwise move (a grown small block becomes
 *                 a span, since blocks that grew once tend to grow again).
 * Files:       hkfit.h lists them; each concept has its own, with the layout it defines and
 *              its invariants at its top: spans and bins (hkfit_span.h, H1-H4), runs
 *              (hkfit_run.h, H5), the run index and zones (hkfit_index.c) and the page
 *              cache (hkfit_pcache.h, H6), mappings (hkfit_map.c, H7); hkfit_check()
 *              (hkfit_check.c) verifies H1-H7, hkfit_walk() reports its walk of the spans,
 *              then each mapping. This file holds the method table and the operations.
 * Layout:
 *
 *   region: base [pad] | span | span | ... | span | break     (pad = 8 for align 16)
 *           a span is a large block, a free span, a run of small slots or the run index
 *   mappings: page-aligned ranges, one payload each, no header
 *
 * Cost:        small malloc O(1); free O(1) on a page cache hit: a pointer outside its
 *              page's run range is settled by the entry, one inside it walks the spans of
 *              the page from the lowest run up to it (O(log runs) more on a miss); the tag
 *              check is one multiply; large malloc O(1)
 *              bitmap search plus at most FIT_WALK list nodes; slot offsets are divided
 *              by a multiply with a per-class reciprocal, not a division instruction.
 *              The page cache (PC_N entries in the policy state) and the zone bits (2 KiB
 *              for a default 4 GiB region) are bookkeeping of fixed size, like the bins;
 *              the run index they summarize is in the footprint.
 * Pathology:   a class with few live blocks still pays a run header and up to one run
 *              of unused slots; a block that was blocked once by a neighbour keeps its
 *              old hole until something fits there; small blocks pinned between freed
 *              large ones fragment the region like any non-moving allocator.
 */
#include "hkfit_pcache.h"
#include "hkfit_run.h"

#include <errno.h>

/* ---- Large spans ---- */

static void large_free(hkfit_t *h, uint8_t *s)
{
    h->live_blocks--;
    h->block_bytes -= sz(s);
    hkfit_span_release(h, s);
}

/* ---- Locating a pointer ---- */

/* Finds and validates any pointer p (the policy has LAB_SCREENS_POINTERS: dispatch.c does
 * not screen p first): foreign and misaligned as dispatch.c would say, then slot or span or
 * mapping, each with its own checks. */
static inline __attribute__((always_inline)) lab_err_t locate(hkfit_t *h, const void *cp,
                                                          loc_t *l)
{
    uint8_t *p = (uint8_t *)(uintptr_t)cp;
    if (p >= h->base && p < hi(h)) {
        if ((uintptr_t)p & (h->align - 1))
            return LAB_ERR_MISALIGNED;
        uint8_t *s = run_containing(h, p);
        if (s) {
            *l = (loc_t){K_SLOT, s, 0};
            return slot_locate(s, p, &l->idx);
        }
        /* At gran 8, p may be the end of a run: the word span_locate would read as p's
         * tag is then the last 8 bytes of the run's last slot, user data. */
        if (h->gran == 8 && p - HDR >= lo(h) && run_containing(h, p - HDR))
            return LAB_ERR_MISALIGNED;
        return span_locate(h, p, l);
    }
    const lab_mapping_t *m = lab_mem_find_mapping(h->mem, p);
    if (!m)
        return LAB_ERR_FOREIGN;
    if ((uintptr_t)p != m->addr)
        return LAB_ERR_MISALIGNED;
    *l = (loc_t){K_MAP, NULL, m->size};
    return LAB_OK;
}

/* ---- Policy operations ---- */

static int hkfit_init(void *stp, lab_mem_t *mem, const lab_cfg_t *cfg, int variant)
{
    (void)variant;
    hkfit_t *h = stp;
    if (cfg->align > 16)
        return EINVAL; /* spans keep their tag at payload - 8; wider alignment needs pads */
    h->mem = mem;
    h->base = lab_mem_lo(mem);
    h->top = lab_mem_hi(mem);
    h->align = cfg->align;
    h->gran = cfg->align < 8 ? 8 : cfg->align;
    h->pad = h->gran - HDR;
    h->map_floor = LAB_PAGE_SIZE / 2;
    return 0;
}

static void *hkfit_malloc(void *stp, size_t n)
{
    hkfit_t *h = stp;
    return n <= SMALL_MAX ? small_malloc(h, n) : hkfit_large_malloc(h, n);
}

static lab_err_t hkfit_free(void *stp, void *p)
{
    hkfit_t *h = stp;
    loc_t l;
    lab_err_t e = locate(h, p, &l);
    if (e != LAB_OK)
        return e;
    if (l.kind == K_SLOT)
        small_free(h, l.s, p, l.idx);
    else if (l.kind == K_SPAN)
        large_free(h, l.s);
    else
        hkfit_map_free(h, p, l.idx, true);
    return LAB_OK;
}

static size_t usable(const loc_t *l)
{
    if (l->kind == K_SLOT)
        return slot_size(run_of(l->s));
    return l->kind == K_SPAN ? sz(l->s) - HDR : l->idx;
}

static size_t hkfit_usable_size(void *stp, const void *p)
{
    loc_t l;
    return locate(stp, p, &l) == LAB_OK ? usable(&l) : 0;
}

/* Resizes span s in place to `need` bytes if its neighbours or the break allow. */
static bool span_resize(hkfit_t *h, uint8_t *s, size_t need)
{
    size_t z = sz(s);
    uint8_t *n = s + z;
    uint64_t keep = flags(s) & F_PREV;
    if (need > z && n < hi(h) && !(flags(n) & F_ALLOC) && z + sz(n) >= need) {
        bin_remove(h, n);
        size_t nz = sz(n);
        st(n, 0);
        set_tag(s, z + nz, F_ALLOC | keep);
        if (s + z + nz < hi(h))
            set_prev_bit(s + z + nz, true);
        z += nz;
    } else if (need > z && n == hi(h)) {
        if (!lab_mem_sbrk(h->mem, need - z))
            return false;
        h->top = lab_mem_hi(h->mem);
        set_tag(s, need, F_ALLOC | keep);
        z = need;
    } else if (need > z) {
        return false;
    }
    if (z - need >= MIN_SPAN) { /* hand the tail back */
        set_tag(s, need, F_ALLOC | keep);
        set_tag(s + need, z - need, F_ALLOC | F_PREV);
        hkfit_span_release(h, s + need);
        z = need;
    }
    return true;
}

static void *move_block(hkfit_t *h, void *p, const loc_t *l, size_t n)
{
    uint8_t *q = hkfit_large_malloc(h, n);
    if (!q)
        return NULL;
    size_t old = usable(l);
    memcpy(q, p, old < n ? old : n);
    if (l->kind == K_SLOT)
        small_free(h, l->s, p, l->idx);
    else if (l->kind == K_SPAN)
        large_free(h, l->s);
    else
        hkfit_map_free(h, p, l->idx, false);
    return q;
}

static void *hkfit_realloc(void *stp, void *p, size_t n, lab_err_t *err)
{
    hkfit_t *h = stp;
    loc_t l;
    if ((*err = locate(h, p, &l)) != LAB_OK)
        return NULL;
    if (l.kind == K_SLOT && n <= usable(&l))
        return p;
    if (l.kind == K_MAP && lab_mem_round_page(n) == l.idx)
        return p;
    if (l.kind == K_MAP && hkfit_want_map(h, n)) {
        void *q = lab_mem_remap(h->mem, p, l.idx, n);
        if (q) {
            h->map_bytes += lab_mem_round_page(n) - l.idx;
            h->block_bytes += lab_mem_round_page(n) - l.idx;
            return q;
        }
    }
    if (l.kind == K_SPAN) {
        size_t before = sz(l.s);
        if (span_resize(h, l.s, span_for(h, n))) {
            h->block_bytes = h->block_bytes - before + sz(l.s);
            return p;
        }
    }
    void *q = move_block(h, p, &l, n);
    if (!q)
        *err = LAB_ERR_NOMEM;
    return q;
}

const lab_policy_t lab_policy_hkfit = {
    .name = "hkfit",
    .description = "heapkit fit: header-less class runs, tagged best fit, exact growth",
    .flags = LAB_SCREENS_POINTERS,
    .state_size = sizeof(hkfit_t),
    .init = hkfit_init,
    .malloc = hkfit_malloc,
    .free = hkfit_free,
    .realloc = hkfit_realloc,
    .usable_size = hkfit_usable_size,
    .check = hkfit_check,
    .stats = hkfit_stats,
    .walk = hkfit_walk,
};
