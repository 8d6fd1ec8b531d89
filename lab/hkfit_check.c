/*
 * hkfit_check.c -- the methods of hkfit that read the whole heap: check() verifies H1-H7
 *                  (numbered in hkfit_span.h, hkfit_run.h, hkfit_index.c, hkfit_pcache.h and
 *                  hkfit_map.c); walk() is the same walk of the spans reporting regions;
 *                  stats() derives the free counts.
 *
 * The walk of the spans reports the pad below the first span, run headers and tails and
 * the run index's span as META; free spans and free slots, fresh ones included, as FREE;
 * slots in use and large spans as BLOCK; then each mapping as one BLOCK.
 */
#include "hkfit_pcache.h"
#include "hkfit_run.h"

#define RUN_SLOTS_MAX (RUN_SPAN_MAX / 8) /* more slots than any run has (H6) */

/* What the walk of the spans finds; it reports regions to fn when fn is not NULL. */
typedef struct walk {
    size_t live, bytes, free_spans, free_bytes, runs, partial, run_slots, run_slot_bytes;
    lab_walk_fn fn;
    void *ctx;
} walk_t;

/* Run s as regions: its tag and header (META), each slot (BLOCK when it was handed out and
 * is not on the free list, whose slots are the bits of `freed`; else FREE), its tail. */
static void emit_run(uint8_t *s, const uint64_t *freed, walk_t *w)
{
    run_t *run = run_of(s);
    size_t cap = run_cap(s), slot = slot_size(run);
    lab_walk_emit(w->fn, w->ctx, s, HDR + RUN_HDR, LAB_REGION_META, NULL);
    uint8_t *p = slots(s);
    for (size_t i = 0; i < cap; i++, p += slot) {
        bool live = i < run->fresh && !(freed[i / 64] >> (i % 64) & 1);
        lab_walk_emit(w->fn, w->ctx, p, slot, live ? LAB_REGION_BLOCK : LAB_REGION_FREE,
                      live ? p : NULL);
    }
    lab_walk_emit(w->fn, w->ctx, p, (size_t)(s + sz(s) - p), LAB_REGION_META, NULL);
}

static void check_run(hkfit_t *h, uint8_t *s, lab_report_t *r, walk_t *w)
{
    run_t *run = run_of(s);
    size_t cap = run_cap(s), nfree = 0, slot = slot_size(run);
    uint64_t freed[RUN_SLOTS_MAX / 64]; /* the walk's: slots on the free list */
    bool emit = w->fn && cap <= RUN_SLOTS_MAX; /* a damaged size: H6 reports it */
    if (emit)
        memset(freed, 0, (cap + 63) / 64 * sizeof *freed);
    LAB_EXPECT(r, slot >= h->align && slot <= SMALL_MAX && slot % h->align == 0,
               "H5: run %p has slot size %zu", (void *)s, slot);
    LAB_EXPECT(r, run->used >= 1 && run->used <= cap && run->fresh <= cap,
               "H5: run %p used %u fresh %u cap %zu", (void *)s, run->used, run->fresh, cap);
    for (unsigned i = run->free_head; i != NO_SLOT; nfree++) {
        if (i >= run->fresh || nfree > cap || !slot_marked(slots(s) + i * slot)) {
            lab_report_add(r, "H5: run %p free list broken at slot %u", (void *)s, i);
            return;
        }
        if (emit && i < cap)
            freed[i / 64] |= (uint64_t)1 << (i % 64);
        i = (unsigned)(ld(slots(s) + i * slot) & 0xffff);
    }
    LAB_EXPECT(r, run->used + nfree == run->fresh, "H5: run %p used %u + free %zu != fresh %u",
               (void *)s, run->used, nfree, run->fresh);
    w->partial += run->used < cap;
    w->live += run->used;
    w->bytes += run->used * slot;
    LAB_EXPECT(r, sz(s) < RUN_SPAN_MAX, "H6: run %p spans %zu bytes", (void *)s, sz(s));
    LAB_EXPECT(r, w->runs < h->rix_n && at8(h, h->rix[w->runs]) == s,
               "H6: run %p is not entry %zu of the index", (void *)s, w->runs);
    w->runs++;
    w->run_slots += cap;
    w->run_slot_bytes += cap * slot;
    if (emit)
        emit_run(s, freed, w);
    else
        lab_walk_emit(w->fn, w->ctx, s, sz(s), LAB_REGION_META, NULL);
}

static void check_free_span(hkfit_t *h, uint8_t *s, bool prev_free, lab_report_t *r, walk_t *w)
{
    size_t z = sz(s);
    LAB_EXPECT(r, ld(s + z - 8) == z, "H3: free span %p footer mismatch", (void *)s);
    LAB_EXPECT(r, !prev_free, "H3: free spans %p and its lower neighbour both free", (void *)s);
    LAB_EXPECT(r, s + z < hi(h), "H3: last span %p is free", (void *)s);
    unsigned b = bin_of(z);
    lab_binnode_t *f = h->bins[b];
    for (size_t k = 0; f && f != node(s) && k < h->free_spans; k++)
        f = f->next;
    LAB_EXPECT(r, f == node(s), "H4: free span %p missing from bin %u", (void *)s, b);
    w->free_spans++;
    w->free_bytes += z;
}

/* H1-H5 over the spans that tile the region, for check() and walk() (w->fn): the pad
 * below the first span and the run index's span are META, a free span FREE, a large
 * block BLOCK, a run its header, slots and tail. */
static void check_spans(hkfit_t *h, lab_report_t *r, walk_t *w)
{
    bool prev_alloc = true;
    lab_walk_emit(w->fn, w->ctx, h->base, h->top > h->base ? h->pad : 0, LAB_REGION_META, NULL);
    for (uint8_t *s = lo(h); s < hi(h);) {
        uint64_t t = ld(s);
        size_t z = (size_t)(t & SIZE_MASK);
        if (!tag_valid(s, t) || z < MIN_SPAN || z % h->gran || z > (size_t)(hi(h) - s)) {
            lab_report_add(r, "H1: span %p has a bad tag %#llx", (void *)s, (unsigned long long)t);
            return;
        }
        LAB_EXPECT(r, ((t & F_PREV) != 0) == prev_alloc, "H2: span %p P bit wrong", (void *)s);
        if (!(t & F_ALLOC)) {
            check_free_span(h, s, !prev_alloc, r, w);
            lab_walk_emit(w->fn, w->ctx, s, z, LAB_REGION_FREE, NULL);
        } else if (t & F_RUN) {
            check_run(h, s, r, w);
        } else if (s != h->rix_span) {
            w->live++;
            w->bytes += z;
            lab_walk_emit(w->fn, w->ctx, s, z, LAB_REGION_BLOCK, s + HDR);
        } else {
            lab_walk_emit(w->fn, w->ctx, s, z, LAB_REGION_META, NULL);
        }
        prev_alloc = (t & F_ALLOC) != 0;
        s += z;
    }
}

/* The size of the free span whose links are at n, or 0 when n is not a free span's. */
static size_t binned_size(const void *ctx, const lab_binnode_t *n)
{
    const hkfit_t *h = ctx;
    const uint8_t *s = (const uint8_t *)n - HDR;
    if (s < lo(h) || s >= hi(h) || (size_t)(s - lo(h)) % h->gran)
        return 0;
    uint64_t t = ld(s);
    return tag_valid(s, t) && !(t & F_ALLOC) ? (size_t)(t & SIZE_MASK) : 0;
}

static void check_bins(hkfit_t *h, lab_report_t *r, const walk_t *w)
{
    size_t partial = 0;
    size_t listed = lab_bins_check(&span_bins, h->bins, h->binmap, binned_size, h,
                                   w->free_spans, "H4", r);
    LAB_EXPECT(r, listed == w->free_spans && h->free_spans == listed &&
                      h->free_span_bytes == w->free_bytes,
               "H4: %zu spans listed, %zu found, counter %zu", listed, w->free_spans,
               h->free_spans);
    for (size_t c = 0; c < NCLASS; c++)
        for (uint8_t *s = h->partial[c]; s && partial <= w->runs;
             s = span_of_link(h, run_of(s)->next)) {
            partial++;
            LAB_EXPECT(r, run_of(s)->units == c && run_of(s)->used < run_cap(s),
                       "H5: run %p on partial list %zu wrongly", (void *)s, c);
        }
    LAB_EXPECT(r, partial == w->partial, "H5: %zu runs on partial lists, %zu partial runs",
               partial, w->partial);
}

int hkfit_check(void *stp, lab_report_t *r)
{
    hkfit_t *h = stp;
    int before = r->count;
    walk_t w = {0};
    LAB_EXPECT(r, h->base == lab_mem_lo(h->mem) && h->top == lab_mem_hi(h->mem),
               "H1: region mirror [%p, %p) is not the memory source's", (void *)h->base,
               (void *)h->top);
    check_spans(h, r, &w);
    if (r->count != before)
        return r->count - before;
    check_bins(h, r, &w);
    LAB_EXPECT(r, w.runs == h->rix_n, "H6: %zu runs found, index holds %zu", w.runs, h->rix_n);
    hkfit_pcache_check(h, r);
    hkfit_zones_check(h, r);
    size_t maps = h->mem->map_count, mbytes = h->mem->mapped;
    LAB_EXPECT(r, maps == h->map_blocks && mbytes == h->map_bytes,
               "H7: %zu mappings of %zu bytes, policy counts %zu of %zu", maps, mbytes,
               h->map_blocks, h->map_bytes);
    LAB_EXPECT(r, w.live + maps == h->live_blocks && w.bytes + mbytes == h->block_bytes,
               "H7: found %zu blocks / %zu bytes, counters say %zu / %zu", w.live + maps,
               w.bytes + mbytes, h->live_blocks, h->block_bytes);
    LAB_EXPECT(r, w.run_slots == h->run_slots && w.run_slot_bytes == h->run_slot_bytes,
               "H7: runs hold %zu slots / %zu bytes, counters say %zu / %zu", w.run_slots,
               w.run_slot_bytes, h->run_slots, h->run_slot_bytes);
    return r->count - before;
}

/* The spans' walk of hkfit_check, then each mapping: a header-less block. */
void hkfit_walk(void *stp, lab_walk_fn fn, void *ctx)
{
    hkfit_t *h = stp;
    lab_report_t unused = {0};
    walk_t w = {0};
    w.fn = fn;
    w.ctx = ctx;
    check_spans(h, &unused, &w);
    for (size_t i = 0; i < h->mem->map_count; i++) {
        const lab_mapping_t *m = &h->mem->maps[i];
        lab_walk_emit(fn, ctx, (void *)m->addr, m->size, LAB_REGION_BLOCK, (void *)m->addr);
    }
}

void hkfit_stats(void *stp, lab_stats_t *s)
{
    hkfit_t *h = stp;
    s->live_blocks = h->live_blocks;
    s->block_bytes = h->block_bytes;
    size_t live_slots = 0, live_slot_bytes = 0; /* free slots = run slots - live slots */
    for (size_t c = 1; c < NCLASS; c++) {
        live_slots += h->class_live[c];
        live_slot_bytes += h->class_live[c] * c * 8;
    }
    s->free_blocks = h->free_spans + h->run_slots - live_slots;
    s->free_bytes = h->free_span_bytes + h->run_slot_bytes - live_slot_bytes;
    unsigned b = lab_bin_last(&span_bins, h->binmap);
    for (lab_binnode_t *f = b < NBINS ? h->bins[b] : NULL; f; f = f->next)
        if (sz(span_of_node(f)) > s->largest_free)
            s->largest_free = sz(span_of_node(f));
    for (size_t c = NCLASS; c-- > 0 && s->largest_free < c * 8;)
        if (h->partial[c])
            s->largest_free = c * 8;
}
