/*
 * list.c -- DMMgr 3 of the COS217 lecture: one singly linked free list in address order.
 *
 * Algorithm:   1. malloc(n): first fit along the list. A block with min_block bytes to
 *                 spare is split and its TAIL is returned, so the free part keeps its
 *                 address and its place in the list (no link changes). When nothing
 *                 fits, the break moves up by max(shortfall, LIST_GROWTH); a free block
 *                 ending at the break is extended instead of starting a new one.
 *              2. free(p): walk the list to the insertion point (the list is sorted,
 *                 so the predecessor in the list is the nearest free block below p),
 *                 link p in, then merge it with the next list block and with the
 *                 predecessor when they touch it in memory.
 *              3. realloc(p, n): shrink by splitting the tail off; grow into the free
 *                 block just above, or at the top of the heap by moving the break;
 *                 otherwise malloc, copy, free.
 * Layout:
 *
 *   base   first                                                                break
 *   | lead | block | block | ... | block |
 *   lead = round_up(16, align) - 16 bytes (0 for align 8 and 16) so payloads are aligned
 *
 *   blk ->  +---------------------------------------------------+
 *           | size: whole block bytes, multiple of align        |  +0
 *           | stamp: payload address ^ MAGIC_LIVE / MAGIC_FREED |  +8
 *   user -> +---------------------------------------------------+
 *           | free: next free block (higher address) or NULL    |  +16
 *           | allocated: payload ...                            |
 *   next -> +---------------------------------------------------+
 *
 * Invariants:  L1 blocks tile [first, break) exactly; size >= min_block and size % align == 0
 *              L2 every stamp is LIVE or FREED for its own payload address
 *              L3 the free list holds exactly the FREED blocks, in increasing address order
 *              L4 no two adjacent blocks are both free (coalescing is complete)
 *              L5 the LIVE blocks number live_blocks and their sizes sum to block_bytes
 *              list_check() verifies L1-L5; list_walk() reports the blocks of the same
 *              walk (lead-in META, FREED blocks FREE, LIVE blocks BLOCK).
 * Cost:        malloc O(free blocks) (first fit); free O(free blocks) (sorted insertion);
 *              check O(blocks).
 * Pathology:   both malloc and free walk the list, so a heap with many small holes makes
 *              every call slow; splitting from the low end of the list leaves splinters
 *              near the bottom of the heap that every later search must step over.
 */
#include "policy.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MAGIC_LIVE  ((uintptr_t)0x6c6973746c697665u)
#define MAGIC_FREED ((uintptr_t)0x6c69737466726565u)
#define HDR_SIZE    ((size_t)16)
#define LIST_GROWTH ((size_t)4 << 10) /* the break moves by at least this much */

/* ---- Types and helpers ---- */

typedef struct blk {
    size_t      size;  /* whole block bytes, header included */
    uintptr_t   stamp; /* payload address ^ MAGIC_LIVE or MAGIC_FREED */
    struct blk *next;  /* free blocks only: the next free block, at a higher address */
} blk_t;

_Static_assert(offsetof(blk_t, next) == HDR_SIZE, "the link is the first payload word");

typedef struct list {
    lab_mem_t *mem;
    size_t     align;
    size_t     min_block; /* sizeof(blk_t) rounded to align: a free block holds its link */
    uint8_t   *first;     /* where the first block starts */
    blk_t     *head;      /* lowest free block, or NULL */
    size_t     live_blocks;
    size_t     block_bytes;
} list_t;

static size_t round_up(size_t n, size_t align) { return (n + align - 1) & ~(align - 1); }
static void *payload_of(blk_t *b) { return (uint8_t *)b + HDR_SIZE; }
static blk_t *blk_of(const void *p) { return (blk_t *)((uintptr_t)p - HDR_SIZE); }
static blk_t *blk_at(void *addr) { return addr; }
static blk_t *blk_after(blk_t *b) { return blk_at((uint8_t *)b + b->size); }
static bool is_live(blk_t *b) { return b->stamp == ((uintptr_t)payload_of(b) ^ MAGIC_LIVE); }
static bool is_freed(blk_t *b) { return b->stamp == ((uintptr_t)payload_of(b) ^ MAGIC_FREED); }
static void mark_live(blk_t *b) { b->stamp = (uintptr_t)payload_of(b) ^ MAGIC_LIVE; }
static void mark_freed(blk_t *b) { b->stamp = (uintptr_t)payload_of(b) ^ MAGIC_FREED; }
static bool touches(blk_t *lower, blk_t *upper) { return blk_after(lower) == upper; }

static size_t block_size(const list_t *h, size_t n)
{
    size_t size = round_up(HDR_SIZE + n, h->align);
    return size < h->min_block ? h->min_block : size;
}

/* The free block just below address `at` in the list (the insertion point), or NULL. */
static blk_t *list_pred(const list_t *h, const void *at)
{
    blk_t *pred = NULL;
    for (blk_t *b = h->head; b && (void *)b < at; b = b->next)
        pred = b;
    return pred;
}

static void list_unlink(list_t *h, blk_t *pred, blk_t *b)
{
    if (pred)
        pred->next = b->next;
    else
        h->head = b->next;
}

/* Links the FREED block b in after pred (its list predecessor) and merges it with the
 * list neighbours that touch it. */
static void list_insert(list_t *h, blk_t *pred, blk_t *b)
{
    blk_t *succ = pred ? pred->next : h->head;
    b->next = succ;
    if (succ && touches(b, succ)) {
        b->size += succ->size;
        b->next = succ->next;
    }
    if (pred && touches(pred, b)) {
        pred->size += b->size;
        pred->next = b->next;
    } else if (pred) {
        pred->next = b;
    } else {
        h->head = b;
    }
}

/* Gives the bytes of b beyond `size` back to the free list when they form a block. */
static void trim_tail(list_t *h, blk_t *b, size_t size)
{
    size_t excess = b->size - size;
    if (excess < h->min_block)
        return;
    b->size = size;
    blk_t *tail = blk_after(b);
    tail->size = excess;
    mark_freed(tail);
    list_insert(h, list_pred(h, tail), tail);
}

/* Takes `size` bytes out of free block b (list predecessor pred): the tail if b is
 * worth splitting, else all of b. */
static void *take(list_t *h, blk_t *pred, blk_t *b, size_t size)
{
    if (b->size - size >= h->min_block) {
        b->size -= size;
        b = blk_after(b);
        b->size = size;
    } else {
        list_unlink(h, pred, b);
    }
    mark_live(b);
    h->live_blocks++;
    h->block_bytes += b->size;
    return payload_of(b);
}

/* Moves the break up by max(need, at_least) bytes (just `need` near the limit); returns
 * the old break and the bytes added, or NULL. */
static void *grow(list_t *h, size_t need, size_t at_least, size_t *added)
{
    *added = need > at_least ? need : at_least;
    void *old = lab_mem_sbrk(h->mem, *added);
    if (!old) {
        *added = need;
        old = lab_mem_sbrk(h->mem, need);
    }
    return old;
}

/* Makes a free block of at least `size` bytes at the top by moving the break: extends
 * `last` (the last free block) when it ends at the break, else appends a new one after
 * it. Returns that block or NULL. */
static blk_t *grow_top(list_t *h, blk_t *last, size_t size)
{
    size_t added;
    if (last && (uint8_t *)blk_after(last) == lab_mem_hi(h->mem)) {
        if (!grow(h, size - last->size, LIST_GROWTH, &added))
            return NULL;
        last->size += added;
        return last;
    }
    blk_t *b = grow(h, size, LIST_GROWTH, &added);
    if (!b)
        return NULL;
    b->size = added;
    mark_freed(b);
    list_insert(h, last, b);
    return b;
}

/* ---- Operations ---- */

static int list_init(void *st, lab_mem_t *mem, const lab_cfg_t *cfg, int variant)
{
    list_t *h = st;
    (void)variant;
    size_t lead = round_up(HDR_SIZE, cfg->align) - HDR_SIZE; /* 0 unless align > 16 */
    h->mem = mem;
    h->align = cfg->align;
    h->min_block = round_up(sizeof(blk_t), cfg->align);
    h->first = lab_mem_lo(mem) + lead;
    return lab_mem_sbrk(mem, lead) ? 0 : ENOMEM;
}

static void *list_malloc(void *st, size_t n)
{
    list_t *h = st;
    size_t size = block_size(h, n);
    blk_t *pred = NULL, *before_pred = NULL;
    for (blk_t *b = h->head; b; before_pred = pred, pred = b, b = b->next)
        if (b->size >= size)
            return take(h, pred, b, size);
    /* nothing fits: pred is the last free block, before_pred its list predecessor */
    blk_t *b = grow_top(h, pred, size);
    if (!b)
        return NULL;
    return take(h, b == pred ? before_pred : pred, b, size);
}

/* LAB_OK if p is a live block; otherwise why not. Reads only inside [first, break). */
static lab_err_t validate(const list_t *h, const void *p)
{
    uintptr_t at = (uintptr_t)p, hi = (uintptr_t)lab_mem_hi(h->mem);
    if (at < (uintptr_t)h->first + HDR_SIZE || at >= hi)
        return LAB_ERR_MISALIGNED;
    blk_t *b = blk_of(p);
    if (is_freed(b))
        return LAB_ERR_DOUBLE_FREE;
    if (!is_live(b) || b->size < h->min_block || b->size % h->align ||
        b->size > hi - (uintptr_t)b)
        return LAB_ERR_CORRUPT;
    return LAB_OK;
}

/* Frees live block b (validated). */
static void release(list_t *h, blk_t *b)
{
    h->live_blocks--;
    h->block_bytes -= b->size;
    mark_freed(b);
    list_insert(h, list_pred(h, b), b);
}

static lab_err_t list_free(void *st, void *p)
{
    list_t *h = st;
    lab_err_t e = validate(h, p);
    if (e == LAB_OK)
        release(h, blk_of(p));
    return e;
}

/* Grows live block b in place to `size` bytes, or returns false with b untouched. */
static bool grow_in_place(list_t *h, blk_t *b, size_t size)
{
    blk_t *above = blk_after(b);
    bool at_top = (uint8_t *)above == lab_mem_hi(h->mem);
    blk_t *pred = NULL;
    size_t avail = b->size;
    if (!at_top && is_freed(above)) {
        pred = list_pred(h, above);
        avail += above->size;
        at_top = (uint8_t *)blk_after(above) == lab_mem_hi(h->mem);
    }
    size_t added = 0; /* exactly what is missing: slack above b would invite a small
                         block that pins it, and the next growth would have to copy */
    if (avail < size && (!at_top || !grow(h, size - avail, 0, &added)))
        return false;
    if (avail > b->size) /* the free block above joins b */
        list_unlink(h, pred, above);
    h->block_bytes += avail + added - b->size;
    b->size = avail + added;
    return true;
}

static void *list_realloc(void *st, void *p, size_t n, lab_err_t *err)
{
    list_t *h = st;
    if ((*err = validate(h, p)) != LAB_OK)
        return NULL;
    blk_t *b = blk_of(p);
    size_t size = block_size(h, n), old = b->size;
    if (size > old && !grow_in_place(h, b, size)) {
        void *q = list_malloc(h, n);
        if (!q) {
            *err = LAB_ERR_NOMEM;
            return NULL;
        }
        memcpy(q, p, old - HDR_SIZE);
        release(h, b);
        return q;
    }
    size_t before = b->size;
    trim_tail(h, b, size);
    h->block_bytes -= before - b->size;
    return p;
}

static size_t list_usable_size(void *st, const void *p)
{
    if (validate(st, p) != LAB_OK)
        return 0;
    return blk_of(p)->size - HDR_SIZE;
}

/* ---- Checker and statistics ---- */

/* L1-L5: the walk of check() and walk(), which passes fn: the lead-in, then the blocks. */
static int list_scan(list_t *h, lab_report_t *r, lab_walk_fn fn, void *ctx)
{
    int before = r->count;
    uint8_t *at = h->first, *end = lab_mem_hi(h->mem);
    lab_walk_emit(fn, ctx, lab_mem_lo(h->mem), (size_t)(at - lab_mem_lo(h->mem)), LAB_REGION_META,
                  NULL);
    blk_t *expected = h->head; /* the next FREED block must be this list entry */
    bool list_ok = true, prev_free = false;
    size_t live = 0, live_bytes = 0;
    while (at < end) {
        blk_t *b = blk_at(at);
        if (b->size < h->min_block || b->size % h->align || b->size > (size_t)(end - at)) {
            lab_report_add(r, "L1: block at %p has bad size %zu", (void *)at, b->size);
            return r->count - before;
        }
        LAB_EXPECT(r, is_live(b) || is_freed(b), "L2: block at %p has a bad stamp", (void *)b);
        if (is_freed(b)) {
            LAB_EXPECT(r, !prev_free, "L4: free block at %p follows a free block", (void *)b);
            if (list_ok && b != expected) {
                lab_report_add(r, "L3: free block at %p, list has %p", (void *)b,
                               (void *)expected);
                list_ok = false;
            }
            if (list_ok)
                expected = b->next;
            lab_walk_emit(fn, ctx, b, b->size, LAB_REGION_FREE, NULL);
        } else if (is_live(b)) {
            live++;
            live_bytes += b->size;
            lab_walk_emit(fn, ctx, b, b->size, LAB_REGION_BLOCK, payload_of(b));
        } else {
            lab_walk_emit(fn, ctx, b, b->size, LAB_REGION_META, NULL); /* damaged: L2 */
        }
        prev_free = is_freed(b);
        at += b->size;
    }
    LAB_EXPECT(r, !list_ok || expected == NULL, "L3: list entry %p is not a free block",
               (void *)expected);
    LAB_EXPECT(r, live == h->live_blocks && live_bytes == h->block_bytes,
               "L5: walk finds %zu live blocks / %zu bytes, counters say %zu / %zu", live,
               live_bytes, h->live_blocks, h->block_bytes);
    return r->count - before;
}

static int list_check(void *st, lab_report_t *r) { return list_scan(st, r, NULL, NULL); }

static void list_walk(void *st, lab_walk_fn fn, void *ctx)
{
    lab_report_t unused = {0};
    list_scan(st, &unused, fn, ctx);
}

static void list_stats(void *st, lab_stats_t *s)
{
    list_t *h = st;
    s->live_blocks = h->live_blocks;
    s->block_bytes = h->block_bytes;
    for (blk_t *b = h->head; b; b = b->next) {
        s->free_blocks++;
        s->free_bytes += b->size;
        if (b->size > s->largest_free)
            s->largest_free = b->size;
    }
}

const lab_policy_t lab_policy_list = {
    .name = "list",
    .description = "DMMgr 3: address-ordered singly linked free list, first fit, tail split",
    .state_size = sizeof(list_t),
    .init = list_init,
    .malloc = list_malloc,
    .free = list_free,
    .realloc = list_realloc,
    .usable_size = list_usable_size,
    .check = list_check,
    .stats = list_stats,
    .walk = list_walk,
};
