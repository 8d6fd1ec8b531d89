/*
 * implicit.c -- the implicit free list of CS:APP 9.9: the heap is its own list.
 *
 * Algorithm:   1. malloc(n): walk the blocks by their sizes and place the request in a
 *                 free block chosen by the variant's fit:
 *                   first: the lowest free block that fits;
 *                   next:  the first that fits at or after a rover left by the last
 *                          placement, wrapping around once;
 *                   best:  the smallest that fits (an exact fit ends the walk).
 *                 A block larger than needed is split; its head is returned. When
 *                 nothing fits, the break moves up by max(shortfall, GROWTH); a free
 *                 block at the top of the heap is extended instead.
 *              2. free(p): clear the allocated bit and merge at once with a free block
 *                 above (its header follows p's block) and below (found through its
 *                 footer, which only free blocks have: the prev-alloc bit says when).
 *              3. realloc(p, n): shrink by splitting; grow into a free block above or
 *                 by moving the break when p's block is the last one; else copy.
 * Layout:      blocks as lab/blocks.h draws them, with footers in free blocks only:
 *
 *   base                 first                                               break
 *   | lead | prologue hdr | pad | hdr | payload ... | hdr | payload ... | epilogue hdr |
 *          ^ base+align-8        ^ first block's payload at base + 2*align   ^ break-8
 *   prologue: an allocated block of `align` bytes (its header and padding), so the
 *             first real block has an allocated neighbour below and is aligned;
 *   epilogue: a header of size 0, allocated, whose prev-alloc bit tracks the last block.
 *
 *   allocated:  | size | P | 1 | payload (size - 8 bytes, no footer) ...           |
 *   free:       | size | P | 0 | ...                               | size | P | 0 |
 *
 * Invariants:  I1 the prologue header is (align, allocated, prev-allocated) and the
 *                 epilogue header at break-8 is (0, allocated)
 *              I2 blocks tile [first, epilogue) exactly; every size >= min_block and
 *                 size % align == 0, so every payload is align aligned
 *              I3 every prev-alloc bit (the epilogue's too) equals the allocated bit of
 *                 the block below
 *              I4 every free block has footer == header
 *              I5 no two adjacent blocks are both free (coalescing is immediate)
 *              I6 the allocated blocks number live_blocks and their sizes sum to block_bytes
 *              I7 the rover (next fit) is the start of a block or the epilogue
 *              implicit_check() verifies I1-I7; implicit_walk() reports the same walk:
 *              [base, first block) and the epilogue as META, then each block.
 * Cost:        malloc O(blocks), allocated and free alike; free O(1); check O(blocks).
 * Pathology:   every search walks past every allocated block, so malloc slows down as
 *              the heap fills; next fit is faster but scatters small blocks over the
 *              whole heap (worse fragmentation); best fit always walks to the end.
 */
#include "policy.h"

#include "blocks.h"

#include <errno.h>
#include <string.h>

#define GROWTH ((size_t)4 << 10) /* the break moves by at least this much */

enum fit { FIT_FIRST, FIT_NEXT, FIT_BEST };

typedef struct implicit {
    lab_mem_t *mem;
    size_t     align;
    size_t     min_block; /* header + footer, rounded to align */
    enum fit   fit;
    char      *first; /* payload of the first block (the epilogue's when the heap is empty) */
    char      *rover; /* next fit: where the next search starts */
    size_t     live_blocks;
    size_t     block_bytes;
} implicit_t;

/* ---- Block helpers (on top of blocks.h) ---- */

static char *epilogue(const implicit_t *h) { return (char *)lab_mem_hi(h->mem); }
static size_t flags_of(char *bp) { return *lab_hdr(bp) & LAB_TAG_FLAGS; }

static void set_prev_alloc(char *bp, bool prev_alloc)
{
    size_t *hdr = lab_hdr(bp);
    *hdr = prev_alloc ? *hdr | LAB_TAG_PREV_ALLOC : *hdr & ~LAB_TAG_PREV_ALLOC;
}

/* Writes b as a free block (header and footer) keeping its prev-alloc bit. */
static void make_free(char *bp, size_t size)
{
    lab_set_tags(bp, size, flags_of(bp) & LAB_TAG_PREV_ALLOC);
}

static void make_alloc(char *bp, size_t size)
{
    *lab_hdr(bp) = lab_tag(size, (flags_of(bp) & LAB_TAG_PREV_ALLOC) | LAB_TAG_ALLOC);
}

static size_t block_size(const implicit_t *h, size_t n)
{
    size_t size = lab_round_up(n + LAB_WORD, h->align);
    return size < h->min_block ? h->min_block : size;
}

/* A merge turned [bp, bp + size) into one block: a rover inside it must move to its start. */
static void keep_rover(implicit_t *h, char *bp)
{
    if (h->rover > bp && h->rover < (char *)lab_next_blk(bp))
        h->rover = bp;
}

/* Merges free block bp with free neighbours; returns the merged block. */
static char *coalesce(implicit_t *h, char *bp)
{
    size_t size = lab_blk_size(bp);
    char *next = lab_next_blk(bp);
    if (!lab_blk_is_alloc(next))
        size += lab_blk_size(next);
    if (!lab_tag_has_prev_alloc(*lab_hdr(bp))) {
        bp = lab_prev_blk(bp);
        size += lab_blk_size(bp);
    }
    make_free(bp, size);
    keep_rover(h, bp);
    return bp;
}

/* Turns the tail of block bp beyond `size` bytes into a free block when it is big
 * enough; bp itself keeps its allocated state. */
static void split(implicit_t *h, char *bp, size_t size)
{
    size_t excess = lab_blk_size(bp) - size;
    if (excess < h->min_block)
        return;
    *lab_hdr(bp) = lab_tag(size, flags_of(bp));
    char *tail = lab_next_blk(bp);
    *lab_hdr(tail) = lab_tag(excess, lab_blk_is_alloc(bp) ? LAB_TAG_PREV_ALLOC : 0);
    make_free(tail, excess);
    set_prev_alloc(lab_next_blk(tail), false);
    coalesce(h, tail);
}

/* Allocates `size` bytes at the head of free block bp. */
static void *place(implicit_t *h, char *bp, size_t size)
{
    make_alloc(bp, lab_blk_size(bp));
    set_prev_alloc(lab_next_blk(bp), true);
    split(h, bp, size);
    h->live_blocks++;
    h->block_bytes += lab_blk_size(bp);
    return bp;
}

/* Moves the break up by max(need, at_least) bytes (just `need` near the limit); the new
 * bytes become a free block merged with a free block at the top. Returns it, or NULL. */
static char *extend(implicit_t *h, size_t need, size_t at_least)
{
    size_t added = need > at_least ? need : at_least;
    char *bp = lab_mem_sbrk(h->mem, added); /* the old epilogue header becomes bp's */
    if (!bp) {
        added = need;
        if (!(bp = lab_mem_sbrk(h->mem, added)))
            return NULL;
    }
    make_free(bp, added);
    *lab_hdr(epilogue(h)) = lab_tag(0, LAB_TAG_ALLOC);
    return coalesce(h, bp);
}

/* Bytes the break must move so that the top of the heap holds a free block of `size`. */
static size_t shortfall_at_top(implicit_t *h, size_t size)
{
    char *end = epilogue(h);
    if (lab_tag_has_prev_alloc(*lab_hdr(end)))
        return size;
    return size - lab_blk_size(lab_prev_blk(end));
}

/* ---- Fits ---- */

static char *first_fit(char *from, char *to, size_t size)
{
    for (char *bp = from; bp < to; bp = lab_next_blk(bp))
        if (!lab_blk_is_alloc(bp) && lab_blk_size(bp) >= size)
            return bp;
    return NULL;
}

static char *best_fit(char *from, char *to, size_t size)
{
    char *best = NULL;
    for (char *bp = from; bp < to; bp = lab_next_blk(bp)) {
        size_t bsize = lab_blk_size(bp);
        if (lab_blk_is_alloc(bp) || bsize < size || (best && bsize >= lab_blk_size(best)))
            continue;
        best = bp;
        if (bsize == size)
            break;
    }
    return best;
}

static char *find_fit(implicit_t *h, size_t size)
{
    char *end = epilogue(h);
    switch (h->fit) {
    case FIT_NEXT: {
        char *bp = first_fit(h->rover, end, size);
        return bp ? bp : first_fit(h->first, h->rover, size);
    }
    case FIT_BEST:
        return best_fit(h->first, end, size);
    case FIT_FIRST:
        break;
    }
    return first_fit(h->first, end, size);
}

/* ---- Operations ---- */

static int implicit_init(void *st, lab_mem_t *mem, const lab_cfg_t *cfg, int variant)
{
    implicit_t *h = st;
    h->mem = mem;
    h->align = cfg->align;
    h->min_block = lab_round_up(2 * LAB_WORD, cfg->align);
    h->fit = (enum fit)variant;
    char *base = lab_mem_sbrk(mem, 2 * cfg->align);
    if (!base)
        return ENOMEM;
    char *prologue = base + cfg->align;
    *lab_hdr(prologue) = lab_tag(cfg->align, LAB_TAG_ALLOC | LAB_TAG_PREV_ALLOC);
    h->first = h->rover = epilogue(h);
    *lab_hdr(h->first) = lab_tag(0, LAB_TAG_ALLOC | LAB_TAG_PREV_ALLOC);
    return 0;
}

static void *implicit_malloc(void *st, size_t n)
{
    implicit_t *h = st;
    size_t size = block_size(h, n);
    char *bp = find_fit(h, size);
    if (!bp && !(bp = extend(h, shortfall_at_top(h, size), GROWTH)))
        return NULL;
    h->rover = bp;
    return place(h, bp, size);
}

/* A size a block starting at header `hdr` could have: aligned, big enough, inside. */
static bool size_is_sane(const implicit_t *h, const void *hdr, size_t size)
{
    return size >= h->min_block && size % h->align == 0 &&
           size <= (size_t)(epilogue(h) - LAB_WORD - (const char *)hdr);
}

/* LAB_OK if p is a live block. Reads only words between the prologue and the epilogue:
 * p's header, the header after its block, and a footer below it when P says so. */
static lab_err_t validate(const implicit_t *h, const void *cp)
{
    char *p = (char *)cp;
    if (p < h->first || p >= epilogue(h))
        return LAB_ERR_MISALIGNED;
    size_t tag = *lab_hdr(p), size = lab_tag_size(tag);
    if (!size_is_sane(h, lab_hdr(p), size))
        return LAB_ERR_CORRUPT;
    if (!lab_tag_is_alloc(tag))
        return LAB_ERR_DOUBLE_FREE;
    char *next = p + size;
    size_t next_tag = *lab_hdr(next);
    bool next_ok = next == epilogue(h) ? lab_tag_size(next_tag) == 0 && lab_tag_is_alloc(next_tag)
                                       : size_is_sane(h, lab_hdr(next), lab_tag_size(next_tag));
    if (!next_ok || !lab_tag_has_prev_alloc(next_tag))
        return LAB_ERR_CORRUPT;
    if (!lab_tag_has_prev_alloc(tag)) { /* the block below is free: its footer must agree */
        size_t below = *(lab_hdr(p) - 1), below_size = lab_tag_size(below);
        if (lab_tag_is_alloc(below) || below_size < h->min_block || below_size % h->align ||
            below_size > (size_t)(p - h->first) || *lab_hdr(p - below_size) != below)
            return LAB_ERR_CORRUPT;
    }
    return LAB_OK;
}

/* Frees live block p (validated). */
static void release(implicit_t *h, char *p)
{
    size_t size = lab_blk_size(p);
    h->live_blocks--;
    h->block_bytes -= size;
    make_free(p, size);
    set_prev_alloc(lab_next_blk(p), false);
    coalesce(h, p);
}

static lab_err_t implicit_free(void *st, void *p)
{
    implicit_t *h = st;
    lab_err_t e = validate(h, p);
    if (e == LAB_OK)
        release(h, p);
    return e;
}

/* Grows live block bp in place to at least `size` bytes: into a free block above, and
 * by moving the break when that reaches the top. False (bp untouched) if impossible. */
static bool grow_in_place(implicit_t *h, char *bp, size_t size)
{
    char *next = lab_next_blk(bp);
    size_t avail = lab_blk_size(bp);
    if (!lab_blk_is_alloc(next)) {
        avail += lab_blk_size(next);
        next = lab_next_blk(next);
    }
    /* exactly what is missing: slack above a growing block would invite a small block
     * that pins it, and the next growth would have to copy */
    if (avail < size && (next != epilogue(h) || !extend(h, size - avail, 0)))
        return false;
    next = lab_next_blk(bp); /* now free (or bp already big enough): absorb it */
    if (!lab_blk_is_alloc(next)) {
        if (h->rover == next)
            h->rover = bp;
        *lab_hdr(bp) = lab_tag(lab_blk_size(bp) + lab_blk_size(next), flags_of(bp));
        set_prev_alloc(lab_next_blk(bp), true);
    }
    return true;
}

static void *implicit_realloc(void *st, void *p, size_t n, lab_err_t *err)
{
    implicit_t *h = st;
    if ((*err = validate(h, p)) != LAB_OK)
        return NULL;
    size_t size = block_size(h, n), old = lab_blk_size(p);
    if (size > old && !grow_in_place(h, p, size)) {
        void *q = implicit_malloc(h, n);
        if (!q) {
            *err = LAB_ERR_NOMEM;
            return NULL;
        }
        memcpy(q, p, old - LAB_WORD);
        release(h, p);
        return q;
    }
    split(h, p, size);
    h->block_bytes += lab_blk_size(p) - old;
    return p;
}

static size_t implicit_usable_size(void *st, const void *p)
{
    if (validate(st, p) != LAB_OK)
        return 0;
    return lab_blk_size((void *)p) - LAB_WORD;
}

/* ---- Checker and statistics ---- */

/* I1-I7: the walk of check() and walk(), which passes fn: lead-in and prologue, the
 * blocks, the epilogue header. */
static int implicit_scan(implicit_t *h, lab_report_t *r, lab_walk_fn fn, void *ctx)
{
    int before = r->count;
    char *end = epilogue(h), *prologue = h->first - h->align;
    char *lo = (char *)lab_mem_lo(h->mem);
    lab_walk_emit(fn, ctx, lo, (size_t)(h->first - lo) - LAB_WORD, LAB_REGION_META, NULL);
    LAB_EXPECT(r, *lab_hdr(prologue) == lab_tag(h->align, LAB_TAG_ALLOC | LAB_TAG_PREV_ALLOC),
               "I1: prologue header %#zx", *lab_hdr(prologue));
    LAB_EXPECT(r, lab_tag_size(*lab_hdr(end)) == 0 && lab_blk_is_alloc(end),
               "I1: epilogue header %#zx", *lab_hdr(end));
    bool below_alloc = true, rover_seen = h->rover == end;
    size_t live = 0, live_bytes = 0;
    char *bp;
    for (bp = h->first; bp < end; bp = lab_next_blk(bp)) {
        size_t tag = *lab_hdr(bp), size = lab_tag_size(tag);
        if (!size_is_sane(h, lab_hdr(bp), size) || (uintptr_t)bp % h->align) {
            lab_report_add(r, "I2: block %p has bad size %zu", (void *)bp, size);
            return r->count - before;
        }
        LAB_EXPECT(r, lab_tag_has_prev_alloc(tag) == below_alloc,
                   "I3: block %p prev-alloc bit is wrong", (void *)bp);
        lab_walk_emit(fn, ctx, lab_hdr(bp), size,
                      lab_tag_is_alloc(tag) ? LAB_REGION_BLOCK : LAB_REGION_FREE,
                      lab_tag_is_alloc(tag) ? bp : NULL);
        if (lab_tag_is_alloc(tag)) {
            live++;
            live_bytes += size;
        } else {
            LAB_EXPECT(r, *lab_ftr(bp) == tag, "I4: free block %p footer %#zx != header %#zx",
                       (void *)bp, *lab_ftr(bp), tag);
            LAB_EXPECT(r, below_alloc, "I5: free block %p follows a free block", (void *)bp);
        }
        rover_seen |= bp == h->rover;
        below_alloc = lab_tag_is_alloc(tag);
    }
    LAB_EXPECT(r, bp == end, "I2: blocks overrun the epilogue by %td bytes", bp - end);
    LAB_EXPECT(r, lab_tag_has_prev_alloc(*lab_hdr(end)) == below_alloc,
               "I3: epilogue prev-alloc bit is wrong");
    LAB_EXPECT(r, live == h->live_blocks && live_bytes == h->block_bytes,
               "I6: walk finds %zu live blocks / %zu bytes, counters say %zu / %zu", live,
               live_bytes, h->live_blocks, h->block_bytes);
    LAB_EXPECT(r, h->fit != FIT_NEXT || rover_seen, "I7: rover %p is not a block",
               (void *)h->rover);
    if (bp == end)
        lab_walk_emit(fn, ctx, lab_hdr(end), LAB_WORD, LAB_REGION_META, NULL);
    return r->count - before;
}

static int implicit_check(void *st, lab_report_t *r) { return implicit_scan(st, r, NULL, NULL); }

static void implicit_walk(void *st, lab_walk_fn fn, void *ctx)
{
    lab_report_t unused = {0};
    implicit_scan(st, &unused, fn, ctx);
}

static void implicit_stats(void *st, lab_stats_t *s)
{
    implicit_t *h = st;
    s->live_blocks = h->live_blocks;
    s->block_bytes = h->block_bytes;
    for (char *bp = h->first; bp < epilogue(h); bp = lab_next_blk(bp)) {
        size_t size = lab_blk_size(bp);
        if (lab_blk_is_alloc(bp))
            continue;
        s->free_blocks++;
        s->free_bytes += size;
        if (size > s->largest_free)
            s->largest_free = size;
    }
}

/* One mechanism, three fits: the variants differ only by `.variant`. */
#define IMPLICIT_POLICY(fit_name, fit_variant, what)                                               \
    {                                                                                              \
        .name = "implicit-" fit_name,                                                              \
        .description = "CS:APP implicit free list, boundary tags, " what,                          \
        .variant = fit_variant,                                                                    \
        .state_size = sizeof(implicit_t),                                                          \
        .init = implicit_init,                                                                     \
        .malloc = implicit_malloc,                                                                 \
        .free = implicit_free,                                                                     \
        .realloc = implicit_realloc,                                                               \
        .usable_size = implicit_usable_size,                                                       \
        .check = implicit_check,                                                                   \
        .stats = implicit_stats,                                                                   \
        .walk = implicit_walk,                                                                     \
    }

const lab_policy_t lab_policy_implicit_first = IMPLICIT_POLICY("first", FIT_FIRST, "first fit");
const lab_policy_t lab_policy_implicit_next = IMPLICIT_POLICY("next", FIT_NEXT, "next fit");
const lab_policy_t lab_policy_implicit_best = IMPLICIT_POLICY("best", FIT_BEST, "best fit");
