/*
 * dlist.c -- DMMgr 4 of the COS217 lecture: one explicit doubly linked free list.
 *
 * Algorithm:   1. malloc(n): the block needs size = round_up(n + 16, align), at least
 *                 32 bytes. Search the free list with the variant's fit: first (first
 *                 block that is big enough), next (first fit resumed where the last
 *                 search stopped), best (smallest big enough), worst (largest). Split
 *                 the block when the rest can be a block of its own; the front part is
 *                 handed out and the rest keeps the block's place in the list. When no
 *                 block fits, move the break up; a free block at the top of the heap
 *                 is merged, so the region grows only by the difference.
 *              2. free(p): validate the boundary tags, then merge with a free block on
 *                 either side (header and footer make both tests O(1)) and push the
 *                 result at the front of the list (LIFO).
 *              3. realloc(p, n): shrink by splitting off the tail; grow into a free
 *                 block that follows, or at the top of the heap by moving the break;
 *                 otherwise malloc, copy, free.
 * Layout:
 *
 *   lo                                                                            hi
 *   | prologue | hdr | payload ... | ftr | hdr | payload ... | ftr | ... | epilogue |
 *     8 bytes        ^ first bp = lo + 16                                 8 bytes
 *   prologue (a footer) and epilogue (a header) both hold tag(0, ALLOC): fake
 *   allocated neighbours, so the merge tests never look outside the region.
 *
 *   hdr ->  +------------------------------------------+
 *           | size (multiple of align, >= 32) | 0 0 A  |   A = allocated
 *   bp  ->  +------------------------------------------+
 *           | allocated: payload, size - 16 bytes      |
 *           | free:      next, prev (node_t), unused   |
 *           +------------------------------------------+
 *           | footer == header                         |
 *   next -> +------------------------------------------+
 *
 * Invariants:  D1 the prologue at lo and the epilogue at hi - 8 are tag(0, ALLOC)
 *              D2 blocks tile [lo + 8, hi - 8) exactly; each bp is align-aligned and
 *                 each size >= 32 and a multiple of align
 *              D3 footer == header on every block, and no flag but A is set
 *              D4 no two adjacent blocks are both free (coalescing is complete)
 *              D5 every free block is linked: prev->next == it (or head == it when
 *                 prev is NULL) and next->prev == it when next is not NULL
 *              D6 the list holds exactly the free blocks: each node is a free block
 *                 inside the heap, the list length equals the free blocks of the walk,
 *                 and the rover is NULL or on the list
 *              D7 the counters (live_blocks, block_bytes, free_blocks, free_bytes)
 *                 equal the sums of the walk
 *              dlist_check() verifies D1-D7.
 * Cost:        free O(1); malloc O(free blocks) for every fit (first/next stop early,
 *              best stops at an exact fit, worst always scans the whole list).
 * Pathology:   the search is linear: a long list of small blocks in front makes every
 *              large request slow. Next fit scatters small blocks over the whole heap;
 *              worst fit breaks up the large blocks a later large request needs.
 * Errors:      free(p) reads only inside the region: a header that is not a sane tag
 *              is an interior pointer (MISALIGNED) or, with A set, a damaged block
 *              (CORRUPT); A clear is a DOUBLE_FREE; footer != header is CORRUPT. The
 *              free neighbours a merge would touch are validated first, so a rejected
 *              free (or realloc) leaves the heap unchanged.
 */
#include "blocks.h"
#include "policy.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* ---- Types and constants ---- */

enum fit { FIT_FIRST, FIT_NEXT, FIT_BEST, FIT_WORST };

#define TAG_BYTES (2 * LAB_WORD) /* header + footer */
#define MIN_BLOCK ((size_t)32)   /* header, next, prev, footer */
#define FIRST_BP  ((size_t)16)   /* prologue + first header: aligned for 8 and 16 */

/* The links a free block keeps in its payload. */
typedef struct node {
    struct node *next, *prev;
} node_t;

typedef struct dlist {
    lab_mem_t *mem;
    size_t     align;
    int        fit;
    node_t    *head;
    node_t    *rover; /* next fit: where the next search starts (NULL = at head) */
    size_t     live_blocks, block_bytes, free_blocks, free_bytes;
} dlist_t;

/* ---- Tags ---- */

static size_t *word_at(void *a) { return a; }
static size_t tag_below(void *bp) { return *word_at((char *)bp - TAG_BYTES); }
static size_t tag_above(void *bp) { return *word_at((char *)bp + lab_blk_size(bp) - LAB_WORD); }
static void *bp_at(void *bp, size_t offset) { return (char *)bp + offset; }
static void *bp_below(void *bp, size_t offset) { return (char *)bp - offset; }

static void write_epilogue(dlist_t *h)
{
    *word_at(lab_mem_hi(h->mem) - LAB_WORD) = lab_tag(0, LAB_TAG_ALLOC);
}

static size_t block_size(const dlist_t *h, size_t n)
{
    size_t size = lab_round_up(n + TAG_BYTES, h->align);
    return size < MIN_BLOCK ? MIN_BLOCK : size;
}

/* True when `tag` can head a block at bp: flags, size and end inside the heap. */
static bool tag_fits(const dlist_t *h, const void *bp, size_t tag)
{
    size_t size = lab_tag_size(tag);
    return (tag & LAB_TAG_FLAGS & ~LAB_TAG_ALLOC) == 0 && size >= MIN_BLOCK &&
           size % h->align == 0 && size <= (size_t)(lab_mem_hi(h->mem) - (const uint8_t *)bp);
}

/* ---- The free list ---- */

static void list_push(dlist_t *h, node_t *b, size_t size)
{
    lab_set_tags(b, size, 0);
    b->prev = NULL;
    b->next = h->head;
    if (h->head)
        h->head->prev = b;
    h->head = b;
    h->free_blocks++;
    h->free_bytes += size;
}

static void list_unlink(dlist_t *h, node_t *b)
{
    if (h->rover == b)
        h->rover = b->next;
    if (b->prev)
        b->prev->next = b->next;
    else
        h->head = b->next;
    if (b->next)
        b->next->prev = b->prev;
    h->free_blocks--;
    h->free_bytes -= lab_blk_size(b);
}

/* The tail `rest` of free block `old` takes old's place in the list (and the rover). */
static void list_replace(dlist_t *h, node_t *old, node_t *rest, size_t rest_size)
{
    node_t *next = old->next, *prev = old->prev;
    h->free_bytes -= lab_blk_size(old) - rest_size;
    lab_set_tags(rest, rest_size, 0);
    rest->next = next;
    rest->prev = prev;
    if (prev)
        prev->next = rest;
    else
        h->head = rest;
    if (next)
        next->prev = rest;
    if (h->rover == old)
        h->rover = rest;
}

/* Makes [b, b + size) free: merges it with free neighbours and lists the result. */
static node_t *release(dlist_t *h, node_t *b, size_t size)
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

static node_t *first_fit(node_t *from, const node_t *to, size_t size)
{
    for (node_t *b = from; b != to; b = b->next)
        if (lab_blk_size(b) >= size)
            return b;
    return NULL;
}

/* Best fit (smallest big enough, stops at an exact fit) or worst fit (largest). */
static node_t *extreme_fit(const dlist_t *h, size_t size, bool best)
{
    node_t *pick = NULL;
    size_t pick_size = 0;
    for (node_t *b = h->head; b; b = b->next) {
        size_t s = lab_blk_size(b);
        if (s < size || (pick && (best ? s >= pick_size : s <= pick_size)))
            continue;
        pick = b;
        pick_size = s;
        if (best && s == size)
            break;
    }
    return pick;
}

static node_t *find_fit(dlist_t *h, size_t size)
{
    switch ((enum fit)h->fit) {
    case FIT_FIRST:
        return first_fit(h->head, NULL, size);
    case FIT_NEXT: {
        node_t *b = first_fit(h->rover, NULL, size);
        if (!b)
            b = first_fit(h->head, h->rover, size);
        if (b)
            h->rover = b; /* place() moves it past b */
        return b;
    }
    case FIT_BEST:
        return extreme_fit(h, size, true);
    case FIT_WORST:
        return extreme_fit(h, size, false);
    }
    return NULL;
}

/* Allocates `size` bytes at the front of listed free block b. */
static void *place(dlist_t *h, node_t *b, size_t size)
{
    size_t have = lab_blk_size(b);
    if (have - size >= MIN_BLOCK) {
        list_replace(h, b, bp_at(b, size), have - size);
    } else {
        list_unlink(h, b);
        size = have;
    }
    lab_set_tags(b, size, LAB_TAG_ALLOC);
    h->live_blocks++;
    h->block_bytes += size;
    return b;
}

/* Moves the break so that the top free block (made if need be) has `size` bytes.
 * A top block that is big enough already (a capped search can miss it) is returned. */
static node_t *grow(dlist_t *h, size_t size)
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

static int dlist_init(void *st, lab_mem_t *mem, const lab_cfg_t *cfg, int variant)
{
    dlist_t *h = st;
    h->mem = mem;
    h->align = cfg->align;
    h->fit = variant;
    if (!lab_mem_sbrk(mem, FIRST_BP))
        return ENOMEM;
    *word_at(lab_mem_lo(mem)) = lab_tag(0, LAB_TAG_ALLOC);
    write_epilogue(h);
    return 0;
}

static void *dlist_malloc(void *st, size_t n)
{
    dlist_t *h = st;
    size_t size = block_size(h, n);
    node_t *b = find_fit(h, size);
    if (!b && !(b = grow(h, size)))
        return NULL;
    return place(h, b, size);
}

/* LAB_OK when p is a live block with intact tags, else what is wrong with it. */
static lab_err_t live_status(const dlist_t *h, void *p)
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
static bool neighbours_intact(const dlist_t *h, void *bp)
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

static void free_block(dlist_t *h, node_t *b)
{
    size_t size = lab_blk_size(b);
    h->live_blocks--;
    h->block_bytes -= size;
    /* If b merges down this header stays behind, so a second free of b is a double free. */
    *lab_hdr(b) = lab_tag(size, 0);
    release(h, b, size);
}

static lab_err_t dlist_free(void *st, void *p)
{
    dlist_t *h = st;
    lab_err_t e = live_status(h, p);
    if (e == LAB_OK && !neighbours_intact(h, p))
        e = LAB_ERR_CORRUPT;
    if (e == LAB_OK)
        free_block(h, p);
    return e;
}

/* Splits the tail off live block b when it can stand as a free block. */
static void trim_tail(dlist_t *h, node_t *b, size_t need)
{
    size_t have = lab_blk_size(b);
    if (have - need < MIN_BLOCK)
        return;
    lab_set_tags(b, need, LAB_TAG_ALLOC);
    h->block_bytes -= have - need;
    release(h, bp_at(b, need), have - need);
}

/* Grows live block b to `need` bytes from a free block after it and/or the break. */
static bool grow_in_place(dlist_t *h, node_t *b, size_t need)
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

static void *dlist_realloc(void *st, void *p, size_t n)
{
    dlist_t *h = st;
    size_t need = block_size(h, n);
    if (!neighbours_intact(h, p))
        return NULL; /* a damaged neighbour: touch nothing */
    if (need <= lab_blk_size(p) || grow_in_place(h, p, need)) {
        trim_tail(h, p, need);
        return p;
    }
    void *q = dlist_malloc(h, n);
    if (!q)
        return NULL;
    memcpy(q, p, lab_blk_size(p) - TAG_BYTES);
    free_block(h, p);
    return q;
}

static size_t dlist_usable_size(void *st, const void *p)
{
    void *bp = (void *)(uintptr_t)p;
    return live_status(st, bp) == LAB_OK ? lab_blk_size(bp) - TAG_BYTES : 0;
}

/* ---- Checker ---- */

/* A pointer the checker may follow: an aligned free block inside the heap. */
static bool is_free_block(const dlist_t *h, const node_t *b)
{
    const uint8_t *at = (const uint8_t *)b;
    if (at < lab_mem_lo(h->mem) + FIRST_BP || at >= lab_mem_hi(h->mem) || (uintptr_t)at % h->align)
        return false;
    size_t tag = *lab_hdr((void *)(uintptr_t)b);
    return tag_fits(h, b, tag) && !lab_tag_is_alloc(tag);
}

/* D5: a free block found by the walk is linked from both sides. */
static void check_links(const dlist_t *h, node_t *b, lab_report_t *r)
{
    bool prev_ok = b->prev ? is_free_block(h, b->prev) && b->prev->next == b : h->head == b;
    bool next_ok = !b->next || (is_free_block(h, b->next) && b->next->prev == b);
    LAB_EXPECT(r, prev_ok && next_ok, "D5: free block %p is not linked both ways", (void *)b);
}

/* D6: walks the list (at most free_walk + 1 nodes, so a cycle cannot hang it). */
static void check_list(const dlist_t *h, size_t free_walk, lab_report_t *r)
{
    size_t count = 0;
    bool rover_seen = h->rover == NULL;
    for (node_t *b = h->head; b && count <= free_walk; b = b->next, count++) {
        if (!is_free_block(h, b)) {
            lab_report_add(r, "D6: list node %p is not a free block", (void *)b);
            return;
        }
        rover_seen |= b == h->rover;
    }
    LAB_EXPECT(r, count == free_walk, "D6: list has %s%zu nodes, walk found %zu free blocks",
               count > free_walk ? "more than " : "", count, free_walk);
    LAB_EXPECT(r, rover_seen, "D6: rover %p is not on the list", (void *)h->rover);
}

static int dlist_check(void *st, lab_report_t *r)
{
    dlist_t *h = st;
    int before = r->count;
    uint8_t *lo = lab_mem_lo(h->mem), *hi = lab_mem_hi(h->mem);
    LAB_EXPECT(r, *word_at(lo) == lab_tag(0, LAB_TAG_ALLOC), "D1: prologue damaged");
    LAB_EXPECT(r, *word_at(hi - LAB_WORD) == lab_tag(0, LAB_TAG_ALLOC), "D1: epilogue damaged");
    size_t live = 0, live_bytes = 0, nfree = 0, free_bytes = 0;
    bool prev_free = false;
    uint8_t *at = lo + FIRST_BP;
    for (; at < hi; at += lab_blk_size(at)) {
        size_t tag = *lab_hdr(at);
        if ((uintptr_t)at % h->align || !tag_fits(h, at, tag)) {
            lab_report_add(r, "D2: block %p has bad tag %#zx", (void *)at, tag);
            return r->count - before;
        }
        LAB_EXPECT(r, *lab_ftr(at) == tag, "D3: block %p footer != header", (void *)at);
        bool is_free = !lab_tag_is_alloc(tag);
        LAB_EXPECT(r, !(is_free && prev_free), "D4: free blocks adjacent at %p", (void *)at);
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
    check_list(h, nfree, r);
    LAB_EXPECT(r, live == h->live_blocks && live_bytes == h->block_bytes,
               "D7: walk found %zu live blocks / %zu bytes, counters say %zu / %zu", live,
               live_bytes, h->live_blocks, h->block_bytes);
    LAB_EXPECT(r, nfree == h->free_blocks && free_bytes == h->free_bytes,
               "D7: walk found %zu free blocks / %zu bytes, counters say %zu / %zu", nfree,
               free_bytes, h->free_blocks, h->free_bytes);
    return r->count - before;
}

static void dlist_stats(void *st, lab_stats_t *s)
{
    dlist_t *h = st;
    s->live_blocks = h->live_blocks;
    s->block_bytes = h->block_bytes;
    s->free_blocks = h->free_blocks;
    s->free_bytes = h->free_bytes;
    for (node_t *b = h->head; b; b = b->next)
        if (lab_blk_size(b) > s->largest_free)
            s->largest_free = lab_blk_size(b);
}

/* ---- The four fits: one table of functions ---- */

#define DLIST_POLICY(fit_, name_, what_)                                                           \
    {                                                                                              \
        .name = name_, .description = "DMMgr 4: explicit doubly linked free list, " what_,         \
        .variant = fit_, .state_size = sizeof(dlist_t), .init = dlist_init,                        \
        .malloc = dlist_malloc, .free = dlist_free, .realloc = dlist_realloc,                      \
        .usable_size = dlist_usable_size, .check = dlist_check, .stats = dlist_stats,              \
    }

const lab_policy_t lab_policy_dlist_first = DLIST_POLICY(FIT_FIRST, "dlist-first", "first fit");
const lab_policy_t lab_policy_dlist_next = DLIST_POLICY(FIT_NEXT, "dlist-next", "next fit");
const lab_policy_t lab_policy_dlist_best = DLIST_POLICY(FIT_BEST, "dlist-best", "best fit");
const lab_policy_t lab_policy_dlist_worst = DLIST_POLICY(FIT_WORST, "dlist-worst", "worst fit");
