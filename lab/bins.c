/*
 * bins.c -- DMMgr 5 of the COS217 lecture: an array of bins of doubly linked free lists.
 *
 * Algorithm:   1. malloc(n): the block needs size = round_up(n + 16, align), at least
 *                 32 bytes. Look in the bin of that size; then in the next non-empty
 *                 bins above it, found through a bitmap of non-empty bins. Exact bins
 *                 hold one size each, so their head is the best fit; in a range bin the
 *                 best fit among its first SEARCH_LIMIT blocks is taken. Split the block
 *                 when the rest can be a block of its own (the rest goes to its bin).
 *                 When nothing fits, move the break up; a free block at the top of the
 *                 heap is merged, so the region grows only by the difference.
 *              2. free(p): validate the boundary tags, merge with free neighbours on
 *                 either side, push the result at the front of its bin (LIFO).
 *              3. realloc(p, n): shrink by splitting off the tail; grow into a free
 *                 block that follows, or at the top of the heap by moving the break;
 *                 otherwise malloc, copy, free.
 *              The lecture's single "final bin" for every size >= MAX_BIN is split into
 *              range bins (4 per power of two) so that best fit there scans a short list.
 * Layout:      blocks as in dlist.c (header and footer on every block, prologue and
 *              epilogue tag(0, ALLOC) at both ends of the region); the bin array and
 *              the bitmap are fixed-size state:
 *
 *   bin:   0..3     4   5   6  ...  128 | 129..132               | 133..136     | ... 255
 *   size:  unused  32  40  48  ... 1024 | (1024, 2048) quarters  | [2048, 4096) | ... rest
 *          exact bins: bin = size / 8     | range bins: 4 per power of two
 *          (with align 16 only the even exact bins are used)
 *   map:    bit i of map[i / 64] is set <=> bin i is non-empty
 *
 *   free block:  | hdr: size 0 0 0 | next | prev | ... | ftr == hdr |
 *
 * Errors:      as in dlist.c: tags and free neighbours are validated before a free or
 *              realloc changes anything, and nothing outside the region is read.
 * Invariants:  B1 the prologue at lo and the epilogue at hi - 8 are tag(0, ALLOC)
 *              B2 blocks tile [lo + 8, hi - 8) exactly; each bp is align-aligned and
 *                 each size >= 32 and a multiple of align
 *              B3 footer == header on every block, and no flag but A is set
 *              B4 no two adjacent blocks are both free (coalescing is complete)
 *              B5 every free block is linked: prev->next == it (or it heads the bin of
 *                 its size when prev is NULL) and next->prev == it when next is not NULL
 *              B6 the bins hold exactly the free blocks: each node is a free block inside
 *                 the heap whose size maps to that bin; bins together hold as many nodes
 *                 as the walk finds free blocks; map bit i set <=> bin i non-empty
 *              B7 the counters (live_blocks, block_bytes, free_blocks, free_bytes)
 *                 equal the sums of the walk
 *              bins_check() verifies B1-B7.
 * Cost:        free O(1); malloc O(1) for exact bins (bitmap of 4 words), at most
 *              SEARCH_LIMIT blocks per range bin visited.
 * Pathology:   best fit leaves many small remainders; the search limit can miss a
 *              fitting block deep in a long range bin and take a larger one instead
 *              (or grow the heap), trading footprint for bounded time.
 */
#include "blocks.h"
#include "policy.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* ---- Types and constants ---- */

#define TAG_BYTES    (2 * LAB_WORD) /* header + footer */
#define MIN_BLOCK    ((size_t)32)   /* header, next, prev, footer */
#define FIRST_BP     ((size_t)16)   /* prologue + first header: aligned for 8 and 16 */
#define EXACT_MAX    ((size_t)1024) /* largest size with a bin of its own */
#define FIRST_RANGE  ((unsigned)(EXACT_MAX / 8) + 1)
#define NBINS        256
#define MAP_WORDS    (NBINS / 64)
#define SEARCH_LIMIT 32 /* blocks visited per range bin */

typedef struct node {
    struct node *next, *prev;
} node_t;

typedef struct bins {
    lab_mem_t *mem;
    size_t     align;
    uint64_t   map[MAP_WORDS];
    node_t    *bin[NBINS];
    size_t     live_blocks, block_bytes, free_blocks, free_bytes;
} bins_t;

/* ---- Tags ---- */

static size_t *word_at(void *a) { return a; }
static size_t tag_below(void *bp) { return *word_at((char *)bp - TAG_BYTES); }
static size_t tag_above(void *bp) { return *word_at((char *)bp + lab_blk_size(bp) - LAB_WORD); }
static void *bp_at(void *bp, size_t offset) { return (char *)bp + offset; }
static void *bp_below(void *bp, size_t offset) { return (char *)bp - offset; }

static void write_epilogue(bins_t *h)
{
    *word_at(lab_mem_hi(h->mem) - LAB_WORD) = lab_tag(0, LAB_TAG_ALLOC);
}

static size_t block_size(const bins_t *h, size_t n)
{
    size_t size = lab_round_up(n + TAG_BYTES, h->align);
    return size < MIN_BLOCK ? MIN_BLOCK : size;
}

static bool tag_fits(const bins_t *h, const void *bp, size_t tag)
{
    size_t size = lab_tag_size(tag);
    return (tag & LAB_TAG_FLAGS & ~LAB_TAG_ALLOC) == 0 && size >= MIN_BLOCK &&
           size % h->align == 0 && size <= (size_t)(lab_mem_hi(h->mem) - (const uint8_t *)bp);
}

/* ---- Bins and the bitmap ---- */

static unsigned bin_of(size_t size)
{
    if (size <= EXACT_MAX)
        return (unsigned)(size >> 3);
    unsigned lg = 63u - (unsigned)__builtin_clzll(size);
    unsigned quarter = (unsigned)(size >> (lg - 2)) & 3u;
    unsigned i = FIRST_RANGE + (lg - 10) * 4 + quarter;
    return i < NBINS ? i : NBINS - 1;
}

/* First non-empty bin >= i, or NBINS. */
static unsigned next_bin(const bins_t *h, unsigned i)
{
    if (i >= NBINS)
        return NBINS;
    unsigned w = i / 64;
    uint64_t bits = h->map[w] & (~(uint64_t)0 << (i % 64));
    while (!bits) {
        if (++w == MAP_WORDS)
            return NBINS;
        bits = h->map[w];
    }
    return w * 64 + (unsigned)__builtin_ctzll(bits);
}

static void list_push(bins_t *h, node_t *b, size_t size)
{
    unsigned i = bin_of(size);
    lab_set_tags(b, size, 0);
    b->prev = NULL;
    b->next = h->bin[i];
    if (b->next)
        b->next->prev = b;
    h->bin[i] = b;
    h->map[i / 64] |= (uint64_t)1 << (i % 64);
    h->free_blocks++;
    h->free_bytes += size;
}

static void list_unlink(bins_t *h, node_t *b)
{
    size_t size = lab_blk_size(b);
    unsigned i = bin_of(size);
    if (b->prev)
        b->prev->next = b->next;
    else if (!(h->bin[i] = b->next))
        h->map[i / 64] &= ~((uint64_t)1 << (i % 64));
    if (b->next)
        b->next->prev = b->prev;
    h->free_blocks--;
    h->free_bytes -= size;
}

/* Makes [b, b + size) free: merges it with free neighbours and bins the result. */
static node_t *release(bins_t *h, node_t *b, size_t size)
{
    size_t below = tag_below(b);
    if (!lab_tag_is_alloc(below)) {
        b = bp_below(b, lab_tag_size(below));
        list_unlink(h, b);
        size += lab_tag_size(below);
    }
    size_t above = *word_at((char *)b + size - LAB_WORD);
    if (!lab_tag_is_alloc(above)) {
        list_unlink(h, bp_at(b, size));
        size += lab_tag_size(above);
    }
    list_push(h, b, size);
    return b;
}

/* ---- Placement ---- */

/* Smallest block >= size among the first SEARCH_LIMIT of a bin (an exact fit stops). */
static node_t *best_in_bin(node_t *b, size_t size)
{
    node_t *pick = NULL;
    size_t pick_size = SIZE_MAX;
    for (int seen = 0; b && seen < SEARCH_LIMIT; b = b->next, seen++) {
        size_t s = lab_blk_size(b);
        if (s < size || s >= pick_size)
            continue;
        pick = b;
        pick_size = s;
        if (s == size)
            break;
    }
    return pick;
}

static node_t *find_fit(const bins_t *h, size_t size)
{
    for (unsigned i = next_bin(h, bin_of(size)); i < NBINS; i = next_bin(h, i + 1)) {
        node_t *b = i < FIRST_RANGE ? h->bin[i] : best_in_bin(h->bin[i], size);
        if (b)
            return b;
    }
    return NULL;
}

/* Allocates `size` bytes at the front of binned free block b. */
static void *place(bins_t *h, node_t *b, size_t size)
{
    size_t have = lab_blk_size(b);
    list_unlink(h, b);
    if (have - size >= MIN_BLOCK)
        list_push(h, bp_at(b, size), have - size);
    else
        size = have;
    lab_set_tags(b, size, LAB_TAG_ALLOC);
    h->live_blocks++;
    h->block_bytes += size;
    return b;
}

/* Moves the break so that the top free block (made if need be) has `size` bytes.
 * A top block that is big enough already (a capped search can miss it) is returned. */
static node_t *grow(bins_t *h, size_t size)
{
    uint8_t *hi = lab_mem_hi(h->mem);
    size_t top = *word_at(hi - TAG_BYTES); /* last footer, or the prologue */
    size_t have = lab_tag_is_alloc(top) ? 0 : lab_tag_size(top);
    if (have >= size)
        return (void *)(hi - have);
    node_t *b = lab_mem_sbrk(h->mem, size - have);
    if (!b)
        return NULL;
    write_epilogue(h);
    return release(h, b, size - have);
}

/* ---- Operations ---- */

static int bins_init(void *st, lab_mem_t *mem, const lab_cfg_t *cfg, int variant)
{
    bins_t *h = st;
    (void)variant;
    h->mem = mem;
    h->align = cfg->align;
    if (!lab_mem_sbrk(mem, FIRST_BP))
        return ENOMEM;
    *word_at(lab_mem_lo(mem)) = lab_tag(0, LAB_TAG_ALLOC);
    write_epilogue(h);
    return 0;
}

static void *bins_malloc(void *st, size_t n)
{
    bins_t *h = st;
    size_t size = block_size(h, n);
    node_t *b = find_fit(h, size);
    if (!b && !(b = grow(h, size)))
        return NULL;
    return place(h, b, size);
}

/* LAB_OK when p is a live block with intact tags, else what is wrong with it. */
static lab_err_t live_status(const bins_t *h, void *p)
{
    if ((uint8_t *)p < lab_mem_lo(h->mem) + FIRST_BP)
        return LAB_ERR_MISALIGNED;
    size_t tag = *lab_hdr(p);
    if (!tag_fits(h, p, tag))
        return lab_tag_is_alloc(tag) ? LAB_ERR_CORRUPT : LAB_ERR_MISALIGNED;
    if (!lab_tag_is_alloc(tag))
        return LAB_ERR_DOUBLE_FREE;
    return *lab_ftr(p) == tag ? LAB_OK : LAB_ERR_CORRUPT;
}

/* The free neighbours a merge would touch have sane, matching tags. */
static bool neighbours_intact(const bins_t *h, void *bp)
{
    size_t below = tag_below(bp);
    if (!lab_tag_is_alloc(below)) {
        size_t room = (size_t)((uint8_t *)bp - lab_mem_lo(h->mem)) - FIRST_BP;
        if (lab_tag_size(below) > room)
            return false;
        void *prev = bp_below(bp, lab_tag_size(below));
        if (!tag_fits(h, prev, below) || *lab_hdr(prev) != below)
            return false;
    }
    void *next = lab_next_blk(bp);
    size_t above = *lab_hdr(next);
    return lab_tag_is_alloc(above) || (tag_fits(h, next, above) && *lab_ftr(next) == above);
}

static void free_block(bins_t *h, node_t *b)
{
    size_t size = lab_blk_size(b);
    h->live_blocks--;
    h->block_bytes -= size;
    /* If b merges down this header stays behind, so a second free of b is a double free. */
    *lab_hdr(b) = lab_tag(size, 0);
    release(h, b, size);
}

static lab_err_t bins_free(void *st, void *p)
{
    bins_t *h = st;
    lab_err_t e = live_status(h, p);
    if (e == LAB_OK && !neighbours_intact(h, p))
        e = LAB_ERR_CORRUPT;
    if (e == LAB_OK)
        free_block(h, p);
    return e;
}

/* Splits the tail off live block b when it can stand as a free block. */
static void trim_tail(bins_t *h, node_t *b, size_t need)
{
    size_t have = lab_blk_size(b);
    if (have - need < MIN_BLOCK)
        return;
    lab_set_tags(b, need, LAB_TAG_ALLOC);
    h->block_bytes -= have - need;
    release(h, bp_at(b, need), have - need);
}

/* Grows live block b to `need` bytes from a free block after it and/or the break. */
static bool grow_in_place(bins_t *h, node_t *b, size_t need)
{
    size_t have = lab_blk_size(b), above = tag_above(b);
    size_t next_free = lab_tag_is_alloc(above) ? 0 : lab_tag_size(above);
    size_t grown = have + next_free;
    if (grown < need) {
        bool at_top = (uint8_t *)b + grown == lab_mem_hi(h->mem);
        if (!at_top || !lab_mem_sbrk(h->mem, need - grown))
            return false;
        write_epilogue(h);
        grown = need;
    }
    if (next_free)
        list_unlink(h, bp_at(b, have));
    lab_set_tags(b, grown, LAB_TAG_ALLOC);
    h->block_bytes += grown - have;
    return true;
}

static void *bins_realloc(void *st, void *p, size_t n)
{
    bins_t *h = st;
    size_t need = block_size(h, n);
    if (!neighbours_intact(h, p))
        return NULL; /* a damaged neighbour: touch nothing */
    if (need <= lab_blk_size(p) || grow_in_place(h, p, need)) {
        trim_tail(h, p, need);
        return p;
    }
    void *q = bins_malloc(h, n);
    if (!q)
        return NULL;
    memcpy(q, p, lab_blk_size(p) - TAG_BYTES);
    free_block(h, p);
    return q;
}

static size_t bins_usable_size(void *st, const void *p)
{
    void *bp = (void *)(uintptr_t)p;
    return live_status(st, bp) == LAB_OK ? lab_blk_size(bp) - TAG_BYTES : 0;
}

/* ---- Checker ---- */

/* A pointer the checker may follow: an aligned free block inside the heap. */
static bool is_free_block(const bins_t *h, const node_t *b)
{
    const uint8_t *at = (const uint8_t *)b;
    if (at < lab_mem_lo(h->mem) + FIRST_BP || at >= lab_mem_hi(h->mem) || (uintptr_t)at % h->align)
        return false;
    size_t tag = *lab_hdr((void *)(uintptr_t)b);
    return tag_fits(h, b, tag) && !lab_tag_is_alloc(tag);
}

/* B5: a free block found by the walk is linked from both sides. */
static void check_links(const bins_t *h, node_t *b, lab_report_t *r)
{
    bool prev_ok = b->prev ? is_free_block(h, b->prev) && b->prev->next == b
                           : h->bin[bin_of(lab_blk_size(b))] == b;
    bool next_ok = !b->next || (is_free_block(h, b->next) && b->next->prev == b);
    LAB_EXPECT(r, prev_ok && next_ok, "B5: free block %p is not linked both ways", (void *)b);
}

/* B6: walks every bin (at most free_walk + 1 nodes in all, so a cycle cannot hang it). */
static void check_bins(const bins_t *h, size_t free_walk, lab_report_t *r)
{
    size_t count = 0;
    for (unsigned i = 0; i < NBINS; i++) {
        bool mapped = (h->map[i / 64] >> (i % 64)) & 1;
        LAB_EXPECT(r, mapped == (h->bin[i] != NULL), "B6: map bit %u is %d", i, (int)mapped);
        for (node_t *b = h->bin[i]; b; b = b->next, count++) {
            if (count > free_walk || !is_free_block(h, b) || bin_of(lab_blk_size(b)) != i) {
                lab_report_add(r, "B6: bin %u holds %p, not a free block of its size", i,
                               (void *)b);
                return;
            }
        }
    }
    LAB_EXPECT(r, count == free_walk, "B6: bins hold %zu nodes, walk found %zu free blocks",
               count, free_walk);
}

static int bins_check(void *st, lab_report_t *r)
{
    bins_t *h = st;
    int before = r->count;
    uint8_t *lo = lab_mem_lo(h->mem), *hi = lab_mem_hi(h->mem);
    LAB_EXPECT(r, *word_at(lo) == lab_tag(0, LAB_TAG_ALLOC), "B1: prologue damaged");
    LAB_EXPECT(r, *word_at(hi - LAB_WORD) == lab_tag(0, LAB_TAG_ALLOC), "B1: epilogue damaged");
    size_t live = 0, live_bytes = 0, nfree = 0, free_bytes = 0;
    bool prev_free = false;
    for (uint8_t *at = lo + FIRST_BP; at < hi; at += lab_blk_size(at)) {
        size_t tag = *lab_hdr(at);
        if ((uintptr_t)at % h->align || !tag_fits(h, at, tag)) {
            lab_report_add(r, "B2: block %p has bad tag %#zx", (void *)at, tag);
            return r->count - before;
        }
        LAB_EXPECT(r, *lab_ftr(at) == tag, "B3: block %p footer != header", (void *)at);
        bool is_free = !lab_tag_is_alloc(tag);
        LAB_EXPECT(r, !(is_free && prev_free), "B4: free blocks adjacent at %p", (void *)at);
        prev_free = is_free;
        if (is_free) {
            check_links(h, (void *)at, r);
            nfree++;
            free_bytes += lab_tag_size(tag);
        } else {
            live++;
            live_bytes += lab_tag_size(tag);
        }
    }
    check_bins(h, nfree, r);
    LAB_EXPECT(r, live == h->live_blocks && live_bytes == h->block_bytes,
               "B7: walk found %zu live blocks / %zu bytes, counters say %zu / %zu", live,
               live_bytes, h->live_blocks, h->block_bytes);
    LAB_EXPECT(r, nfree == h->free_blocks && free_bytes == h->free_bytes,
               "B7: walk found %zu free blocks / %zu bytes, counters say %zu / %zu", nfree,
               free_bytes, h->free_blocks, h->free_bytes);
    return r->count - before;
}

static void bins_stats(void *st, lab_stats_t *s)
{
    bins_t *h = st;
    s->live_blocks = h->live_blocks;
    s->block_bytes = h->block_bytes;
    s->free_blocks = h->free_blocks;
    s->free_bytes = h->free_bytes;
    unsigned top = NBINS;
    for (unsigned i = next_bin(h, 0); i < NBINS; i = next_bin(h, i + 1))
        top = i;
    for (node_t *b = top < NBINS ? h->bin[top] : NULL; b; b = b->next)
        if (lab_blk_size(b) > s->largest_free)
            s->largest_free = lab_blk_size(b);
}

const lab_policy_t lab_policy_bins = {
    .name = "bins",
    .description = "DMMgr 5: bins of free lists, exact up to 1 KiB, best fit, bitmap search",
    .state_size = sizeof(bins_t),
    .init = bins_init,
    .malloc = bins_malloc,
    .free = bins_free,
    .realloc = bins_realloc,
    .usable_size = bins_usable_size,
    .check = bins_check,
    .stats = bins_stats,
};
