/*
 * segfit.c -- segregated fits (CS:APP 9.9.14): one free list per power-of-two size class.
 *
 * Algorithm:   1. malloc(n): the block needs size = round_up(n + 16, align), at least
 *                 32 bytes. First fit in the list of its class, looking at no more than
 *                 SEARCH_LIMIT blocks; then the first non-empty class above it (found
 *                 through a bitmap), whose head always fits. Split the block when the
 *                 rest can be a block of its own (the rest goes to its class). When
 *                 nothing fits, move the break up; a free block at the top of the heap
 *                 is merged, so the region grows only by the difference.
 *              2. free(p): validate the boundary tags, merge with free neighbours on
 *                 either side, push the result at the front of its class (LIFO).
 *              3. realloc(p, n): shrink by splitting off the tail; grow into a free
 *                 block that follows, or at the top of the heap by moving the break;
 *                 otherwise malloc, copy, free.
 * Layout:      blocks as in dlist.c (header and footer on every block, prologue and
 *              epilogue tag(0, ALLOC) at both ends of the region); the class array and
 *              the bitmap are fixed-size state:
 *
 *   class k:   0        1         2          ...   k
 *   sizes:     [32,64)  [64,128)  [128,256)  ...   [2^(k+5), 2^(k+6))
 *   map:       bit k set <=> class k is non-empty
 *
 *   free block:  | hdr: size 0 0 0 | next | prev | ... | ftr == hdr |
 *
 * Errors:      as in dlist.c: tags and free neighbours are validated before a free or
 *              realloc changes anything, and nothing outside the region is read.
 * Invariants:  S1 the prologue at lo and the epilogue at hi - 8 are tag(0, ALLOC)
 *              S2 blocks tile [lo + 8, hi - 8) exactly; each bp is align-aligned and
 *                 each size >= 32 and a multiple of align
 *              S3 footer == header on every block, and no flag but A is set
 *              S4 no two adjacent blocks are both free (coalescing is complete)
 *              S5 every free block is linked: prev->next == it (or it heads the list of
 *                 its class when prev is NULL) and next->prev == it when next is not NULL
 *              S6 the classes hold exactly the free blocks: each node is a free block
 *                 inside the heap whose size is in that class; classes together hold as
 *                 many nodes as the walk finds free blocks; map bit k <=> class k non-empty
 *              S7 the counters (live_blocks, block_bytes, free_blocks, free_bytes)
 *                 equal the sums of the walk
 *              segfit_check() verifies S1-S7.
 * Cost:        free O(1); malloc visits at most SEARCH_LIMIT blocks of its class, then
 *              one bitmap lookup.
 * Pathology:   a class spans a factor of two, so a request near the top of its class
 *              often misses in its own list and splits a block of the next class; the
 *              search limit can miss a fit deep in a long list, trading footprint for
 *              bounded time.
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
#define MIN_SHIFT    5  /* class 0 starts at 32 = 1 << MIN_SHIFT */
#define NCLASSES     (64 - MIN_SHIFT)
#define SEARCH_LIMIT 16 /* blocks of the request's own class visited */

typedef struct node {
    struct node *next, *prev;
} node_t;

typedef struct segfit {
    lab_mem_t *mem;
    size_t     align;
    uint64_t   map; /* bit k set <=> class k is non-empty */
    node_t    *list[NCLASSES];
    size_t     live_blocks, block_bytes, free_blocks, free_bytes;
} segfit_t;

/* ---- Tags ---- */

static size_t *word_at(void *a) { return a; }
static size_t tag_below(void *bp) { return *word_at((char *)bp - TAG_BYTES); }
static size_t tag_above(void *bp) { return *word_at((char *)bp + lab_blk_size(bp) - LAB_WORD); }
static void *bp_at(void *bp, size_t offset) { return (char *)bp + offset; }
static void *bp_below(void *bp, size_t offset) { return (char *)bp - offset; }

static void write_epilogue(segfit_t *h)
{
    *word_at(lab_mem_hi(h->mem) - LAB_WORD) = lab_tag(0, LAB_TAG_ALLOC);
}

static size_t block_size(const segfit_t *h, size_t n)
{
    size_t size = lab_round_up(n + TAG_BYTES, h->align);
    return size < MIN_BLOCK ? MIN_BLOCK : size;
}

static bool tag_fits(const segfit_t *h, const void *bp, size_t tag)
{
    size_t size = lab_tag_size(tag);
    return (tag & LAB_TAG_FLAGS & ~LAB_TAG_ALLOC) == 0 && size >= MIN_BLOCK &&
           size % h->align == 0 && size <= (size_t)(lab_mem_hi(h->mem) - (const uint8_t *)bp);
}

/* ---- Classes and the bitmap ---- */

static unsigned class_of(size_t size)
{
    return 63u - (unsigned)__builtin_clzll(size) - MIN_SHIFT;
}

/* First non-empty class >= k, or NCLASSES. */
static unsigned next_class(const segfit_t *h, unsigned k)
{
    uint64_t bits = k < NCLASSES ? h->map >> k << k : 0;
    return bits ? (unsigned)__builtin_ctzll(bits) : NCLASSES;
}

static void list_push(segfit_t *h, node_t *b, size_t size)
{
    unsigned k = class_of(size);
    lab_set_tags(b, size, 0);
    b->prev = NULL;
    b->next = h->list[k];
    if (b->next)
        b->next->prev = b;
    h->list[k] = b;
    h->map |= (uint64_t)1 << k;
    h->free_blocks++;
    h->free_bytes += size;
}

static void list_unlink(segfit_t *h, node_t *b)
{
    size_t size = lab_blk_size(b);
    unsigned k = class_of(size);
    if (b->prev)
        b->prev->next = b->next;
    else if (!(h->list[k] = b->next))
        h->map &= ~((uint64_t)1 << k);
    if (b->next)
        b->next->prev = b->prev;
    h->free_blocks--;
    h->free_bytes -= size;
}

/* Makes [b, b + size) free: merges it with free neighbours and lists the result. */
static node_t *release(segfit_t *h, node_t *b, size_t size)
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

/* First block >= size among the first SEARCH_LIMIT of a list. */
static node_t *first_in_list(node_t *b, size_t size)
{
    for (int seen = 0; b && seen < SEARCH_LIMIT; b = b->next, seen++)
        if (lab_blk_size(b) >= size)
            return b;
    return NULL;
}

static node_t *find_fit(const segfit_t *h, size_t size)
{
    unsigned k = class_of(size);
    node_t *b = first_in_list(h->list[k], size);
    if (b)
        return b;
    k = next_class(h, k + 1); /* every block of a higher class is larger than size */
    return k < NCLASSES ? h->list[k] : NULL;
}

/* Allocates `size` bytes at the front of listed free block b. */
static void *place(segfit_t *h, node_t *b, size_t size)
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
static node_t *grow(segfit_t *h, size_t size)
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

static int segfit_init(void *st, lab_mem_t *mem, const lab_cfg_t *cfg, int variant)
{
    segfit_t *h = st;
    (void)variant;
    h->mem = mem;
    h->align = cfg->align;
    if (!lab_mem_sbrk(mem, FIRST_BP))
        return ENOMEM;
    *word_at(lab_mem_lo(mem)) = lab_tag(0, LAB_TAG_ALLOC);
    write_epilogue(h);
    return 0;
}

static void *segfit_malloc(void *st, size_t n)
{
    segfit_t *h = st;
    size_t size = block_size(h, n);
    node_t *b = find_fit(h, size);
    if (!b && !(b = grow(h, size)))
        return NULL;
    return place(h, b, size);
}

/* LAB_OK when p is a live block with intact tags, else what is wrong with it. */
static lab_err_t live_status(const segfit_t *h, void *p)
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
static bool neighbours_intact(const segfit_t *h, void *bp)
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

static void free_block(segfit_t *h, node_t *b)
{
    size_t size = lab_blk_size(b);
    h->live_blocks--;
    h->block_bytes -= size;
    /* If b merges down this header stays behind, so a second free of b is a double free. */
    *lab_hdr(b) = lab_tag(size, 0);
    release(h, b, size);
}

static lab_err_t segfit_free(void *st, void *p)
{
    segfit_t *h = st;
    lab_err_t e = live_status(h, p);
    if (e == LAB_OK && !neighbours_intact(h, p))
        e = LAB_ERR_CORRUPT;
    if (e == LAB_OK)
        free_block(h, p);
    return e;
}

/* Splits the tail off live block b when it can stand as a free block. */
static void trim_tail(segfit_t *h, node_t *b, size_t need)
{
    size_t have = lab_blk_size(b);
    if (have - need < MIN_BLOCK)
        return;
    lab_set_tags(b, need, LAB_TAG_ALLOC);
    h->block_bytes -= have - need;
    release(h, bp_at(b, need), have - need);
}

/* Grows live block b to `need` bytes from a free block after it and/or the break. */
static bool grow_in_place(segfit_t *h, node_t *b, size_t need)
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

static void *segfit_realloc(void *st, void *p, size_t n)
{
    segfit_t *h = st;
    size_t need = block_size(h, n);
    if (!neighbours_intact(h, p))
        return NULL; /* a damaged neighbour: touch nothing */
    if (need <= lab_blk_size(p) || grow_in_place(h, p, need)) {
        trim_tail(h, p, need);
        return p;
    }
    void *q = segfit_malloc(h, n);
    if (!q)
        return NULL;
    memcpy(q, p, lab_blk_size(p) - TAG_BYTES);
    free_block(h, p);
    return q;
}

static size_t segfit_usable_size(void *st, const void *p)
{
    void *bp = (void *)(uintptr_t)p;
    return live_status(st, bp) == LAB_OK ? lab_blk_size(bp) - TAG_BYTES : 0;
}

/* ---- Checker ---- */

/* A pointer the checker may follow: an aligned free block inside the heap. */
static bool is_free_block(const segfit_t *h, const node_t *b)
{
    const uint8_t *at = (const uint8_t *)b;
    if (at < lab_mem_lo(h->mem) + FIRST_BP || at >= lab_mem_hi(h->mem) || (uintptr_t)at % h->align)
        return false;
    size_t tag = *lab_hdr((void *)(uintptr_t)b);
    return tag_fits(h, b, tag) && !lab_tag_is_alloc(tag);
}

/* S5: a free block found by the walk is linked from both sides. */
static void check_links(const segfit_t *h, node_t *b, lab_report_t *r)
{
    bool prev_ok = b->prev ? is_free_block(h, b->prev) && b->prev->next == b
                           : h->list[class_of(lab_blk_size(b))] == b;
    bool next_ok = !b->next || (is_free_block(h, b->next) && b->next->prev == b);
    LAB_EXPECT(r, prev_ok && next_ok, "S5: free block %p is not linked both ways", (void *)b);
}

/* S6: walks every class (at most free_walk + 1 nodes in all, so a cycle cannot hang it). */
static void check_classes(const segfit_t *h, size_t free_walk, lab_report_t *r)
{
    size_t count = 0;
    for (unsigned k = 0; k < NCLASSES; k++) {
        bool mapped = (h->map >> k) & 1;
        LAB_EXPECT(r, mapped == (h->list[k] != NULL), "S6: map bit %u is %d", k, (int)mapped);
        for (node_t *b = h->list[k]; b; b = b->next, count++) {
            if (count > free_walk || !is_free_block(h, b) || class_of(lab_blk_size(b)) != k) {
                lab_report_add(r, "S6: class %u holds %p, not a free block of its size", k,
                               (void *)b);
                return;
            }
        }
    }
    LAB_EXPECT(r, count == free_walk, "S6: classes hold %zu nodes, walk found %zu free blocks",
               count, free_walk);
}

static int segfit_check(void *st, lab_report_t *r)
{
    segfit_t *h = st;
    int before = r->count;
    uint8_t *lo = lab_mem_lo(h->mem), *hi = lab_mem_hi(h->mem);
    LAB_EXPECT(r, *word_at(lo) == lab_tag(0, LAB_TAG_ALLOC), "S1: prologue damaged");
    LAB_EXPECT(r, *word_at(hi - LAB_WORD) == lab_tag(0, LAB_TAG_ALLOC), "S1: epilogue damaged");
    size_t live = 0, live_bytes = 0, nfree = 0, free_bytes = 0;
    bool prev_free = false;
    for (uint8_t *at = lo + FIRST_BP; at < hi; at += lab_blk_size(at)) {
        size_t tag = *lab_hdr(at);
        if ((uintptr_t)at % h->align || !tag_fits(h, at, tag)) {
            lab_report_add(r, "S2: block %p has bad tag %#zx", (void *)at, tag);
            return r->count - before;
        }
        LAB_EXPECT(r, *lab_ftr(at) == tag, "S3: block %p footer != header", (void *)at);
        bool is_free = !lab_tag_is_alloc(tag);
        LAB_EXPECT(r, !(is_free && prev_free), "S4: free blocks adjacent at %p", (void *)at);
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
    check_classes(h, nfree, r);
    LAB_EXPECT(r, live == h->live_blocks && live_bytes == h->block_bytes,
               "S7: walk found %zu live blocks / %zu bytes, counters say %zu / %zu", live,
               live_bytes, h->live_blocks, h->block_bytes);
    LAB_EXPECT(r, nfree == h->free_blocks && free_bytes == h->free_bytes,
               "S7: walk found %zu free blocks / %zu bytes, counters say %zu / %zu", nfree,
               free_bytes, h->free_blocks, h->free_bytes);
    return r->count - before;
}

static void segfit_stats(void *st, lab_stats_t *s)
{
    segfit_t *h = st;
    s->live_blocks = h->live_blocks;
    s->block_bytes = h->block_bytes;
    s->free_blocks = h->free_blocks;
    s->free_bytes = h->free_bytes;
    unsigned top = h->map ? 63u - (unsigned)__builtin_clzll(h->map) : 0;
    for (node_t *b = h->list[top]; b; b = b->next)
        if (lab_blk_size(b) > s->largest_free)
            s->largest_free = lab_blk_size(b);
}

const lab_policy_t lab_policy_segfit = {
    .name = "segfit",
    .description = "CS:APP segregated fits: power-of-two classes, first fit, coalescing",
    .state_size = sizeof(segfit_t),
    .init = segfit_init,
    .malloc = segfit_malloc,
    .free = segfit_free,
    .realloc = segfit_realloc,
    .usable_size = segfit_usable_size,
    .check = segfit_check,
    .stats = segfit_stats,
};
