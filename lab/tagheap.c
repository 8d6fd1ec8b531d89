/*
 * tagheap.c -- the cold half of the boundary-tag heap: set-up, the checker's walk (which
 *              walk() shares), stats, usable_size, and the checkers of free lists.
 *
 * Design:      tagheap.h holds the layout, the invariants T1-T5 and the hot paths; this
 *              file holds what runs once or only when asked, so it exists once for
 *              every policy built on the heap. It reaches the policy's index through
 *              th->ix.
 * Complexity:  check O(blocks), stats O(1) + the index's largest().
 */
#include "tagheap.h"

#include <errno.h>

/* ---- Set-up ---- */

int lab_tagheap_init(lab_tagheap_t *th, const lab_tagindex_t *ix, lab_mem_t *mem,
                     const lab_cfg_t *cfg)
{
    th->mem = mem;
    th->ix = ix;
    th->align = cfg->align;
    if (!lab_mem_sbrk(mem, LAB_TAGHEAP_FIRST_BP))
        return ENOMEM;
    *(size_t *)(void *)lab_mem_lo(mem) = lab_tag(0, LAB_TAG_ALLOC);
    tagheap_write_epilogue(th);
    return 0;
}

size_t lab_tagheap_usable_size(void *st, const void *p)
{
    void *bp = (void *)(uintptr_t)p;
    return lab_tagheap_live_status(st, bp) == LAB_OK
               ? lab_blk_size(bp) - LAB_TAGHEAP_TAG_BYTES
               : 0;
}

void lab_tagheap_stats(void *st, lab_stats_t *s)
{
    lab_tagheap_t *th = st;
    s->live_blocks = th->live_blocks;
    s->block_bytes = th->block_bytes;
    s->free_blocks = th->free_blocks;
    s->free_bytes = th->free_bytes;
    s->largest_free = th->ix->largest(th);
}

/* ---- Checker ---- */

bool lab_tagheap_is_free_block(const lab_tagheap_t *th, const void *b)
{
    const uint8_t *at = b;
    if (at < lab_mem_lo(th->mem) + LAB_TAGHEAP_FIRST_BP || at >= lab_mem_hi(th->mem) ||
        (uintptr_t)at % th->align)
        return false;
    size_t tag = tagheap_word(at - LAB_WORD);
    return lab_tagheap_tag_fits(th, b, tag) && !lab_tag_is_alloc(tag);
}

typedef struct tally {
    size_t live, live_bytes, nfree, free_bytes;
} tally_t;

/* T1-T4 and the index's check of each free block: the walk of check() and walk(), which
 * passes fn: prologue, blocks, epilogue. False when a bad tag stops it. */
static bool tagheap_scan(lab_tagheap_t *th, lab_report_t *r, tally_t *t, lab_walk_fn fn,
                         void *ctx)
{
    uint8_t *lo = lab_mem_lo(th->mem), *hi = lab_mem_hi(th->mem);
    LAB_EXPECT(r, tagheap_word(lo) == lab_tag(0, LAB_TAG_ALLOC), "T1: prologue damaged");
    LAB_EXPECT(r, tagheap_word(hi - LAB_WORD) == lab_tag(0, LAB_TAG_ALLOC),
               "T1: epilogue damaged");
    lab_walk_emit(fn, ctx, lo, LAB_WORD, LAB_REGION_META, NULL);
    bool prev_free = false;
    for (uint8_t *at = lo + LAB_TAGHEAP_FIRST_BP; at < hi; at += lab_blk_size(at)) {
        size_t tag = *lab_hdr(at);
        if ((uintptr_t)at % th->align || !lab_tagheap_tag_fits(th, at, tag)) {
            lab_report_add(r, "T2: block %p has bad tag %#zx", (void *)at, tag);
            return false;
        }
        LAB_EXPECT(r, *lab_ftr(at) == tag, "T3: block %p footer != header", (void *)at);
        bool is_free = !lab_tag_is_alloc(tag);
        LAB_EXPECT(r, !(is_free && prev_free), "T4: free blocks adjacent at %p", (void *)at);
        prev_free = is_free;
        lab_walk_emit(fn, ctx, lab_hdr(at), lab_tag_size(tag),
                      is_free ? LAB_REGION_FREE : LAB_REGION_BLOCK, is_free ? NULL : at);
        if (is_free) {
            th->ix->check_block(th, at, r);
            t->nfree++;
            t->free_bytes += lab_tag_size(tag);
        } else {
            t->live++;
            t->live_bytes += lab_tag_size(tag);
        }
    }
    lab_walk_emit(fn, ctx, hi - LAB_WORD, LAB_WORD, LAB_REGION_META, NULL);
    return true;
}

int lab_tagheap_check(void *st, lab_report_t *r)
{
    lab_tagheap_t *th = st;
    int before = r->count;
    tally_t t = {0};
    if (!tagheap_scan(th, r, &t, NULL, NULL))
        return r->count - before;
    th->ix->check_index(th, t.nfree, r);
    LAB_EXPECT(r, t.live == th->live_blocks && t.live_bytes == th->block_bytes,
               "T5: walk found %zu live blocks / %zu bytes, counters say %zu / %zu", t.live,
               t.live_bytes, th->live_blocks, th->block_bytes);
    LAB_EXPECT(r, t.nfree == th->free_blocks && t.free_bytes == th->free_bytes,
               "T5: walk found %zu free blocks / %zu bytes, counters say %zu / %zu", t.nfree,
               t.free_bytes, th->free_blocks, th->free_bytes);
    return r->count - before;
}

void lab_tagheap_walk(void *st, lab_walk_fn fn, void *ctx)
{
    lab_report_t unused = {0};
    tally_t t = {0};
    tagheap_scan(st, &unused, &t, fn, ctx);
}

/* ---- Checkers of free lists ---- */

bool lab_tagnode_is_linked(const lab_tagheap_t *th, const lab_tagnode_t *head,
                           const lab_tagnode_t *b)
{
    bool prev_ok = b->prev ? lab_tagheap_is_free_block(th, b->prev) && b->prev->next == b
                           : head == b;
    return prev_ok && (!b->next || (lab_tagheap_is_free_block(th, b->next) && b->next->prev == b));
}

/* The free block holding node n, vouched for by the heap: its size, else 0. */
static size_t listed_size(const void *th, const lab_binnode_t *n)
{
    return lab_tagheap_is_free_block(th, n) ? lab_blk_size((void *)(uintptr_t)n) : 0;
}

void lab_tagnode_check_list(const lab_tagheap_t *th, const lab_tagnode_t *head,
                            size_t free_walk, const char *id, lab_report_t *r)
{
    size_t nodes = 0;
    for (const lab_tagnode_t *b = head; b; b = b->next, nodes++) {
        if (nodes > free_walk || !listed_size(th, b)) {
            lab_report_add(r, "%s: the list holds %p, not a free block", id, (const void *)b);
            return;
        }
    }
    LAB_EXPECT(r, nodes == free_walk, "%s: the list holds %zu nodes, walk found %zu free blocks",
               id, nodes, free_walk);
}

void lab_tagheap_check_bins(const lab_tagheap_t *th, const lab_binshape_t *shape,
                            lab_tagnode_t *const *head, const uint64_t *map, size_t free_walk,
                            const char *id, lab_report_t *r)
{
    size_t nodes = lab_bins_check(shape, head, map, listed_size, th, free_walk, id, r);
    LAB_EXPECT(r, nodes == free_walk, "%s: bins hold %zu nodes, walk found %zu free blocks", id,
               nodes, free_walk);
}
