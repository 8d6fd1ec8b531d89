/*
 * buddy.c -- binary buddy system (Knowlton 1965; OSTEP "Buddy Allocation").
 *
 * Algorithm:   Every block is 2^k bytes (its order k) and starts at an offset from
 *              the heap base that is a multiple of 2^k; its buddy is the block at
 *              offset ^ 2^k.
 *              1. malloc(n): k = smallest order with 2^k >= n + header. Take the
 *                 smallest free block of order >= k and halve it until it has order
 *                 k, pushing each upper half on the free list of its order.
 *              2. free(p): while the buddy lies inside the region and is a free
 *                 block of the same order, unlink it and merge (order + 1).
 *              3. growth: the region (offset 0 .. brk) grows at its top like sbrk.
 *                 To add a block of order g = max(k, 12) the top is first padded to
 *                 a multiple of 2^g with the largest aligned blocks that fit (each
 *                 freed, so they merge and serve smaller requests), then one free
 *                 block of order g is added. No block ever crosses the break, so the
 *                 footprint is exactly the sum of the blocks.
 *              4. realloc: in place when the order does not grow (surplus halves are
 *                 freed) or when the block is a lower half whose free upper buddies
 *                 cover the new order; otherwise malloc + copy + free.
 * Layout:
 *
 *   base (page aligned)                                                   base + brk
 *   |<- 2^k0 ->|<--- 2^k1 --->|<----------- 2^k2 ----------->| ...              |
 *   blocks tile [0, brk); block of order k at an offset % 2^k == 0
 *
 *   blk ->  +--------------------------------------------+
 *           | tag: ((offset << 8) ^ MAGIC) | order      |  8 bytes, padded to `align`
 *   user -> +--------------------------------------------+  (header = 8 or 16 bytes)
 *           | allocated: payload, 2^order - header bytes |
 *           | free:      next, prev (order's free list)  |
 *           +--------------------------------------------+
 *   MAGIC is MAGIC_LIVE or MAGIC_FREE (low byte 0); the offset in the tag makes a
 *   stray word unlikely to pass for a header. When buddies merge, the upper
 *   buddy's tag becomes a ghost (FREE magic, order 0): never taken for a block,
 *   but a second free of that pointer is still reported as a double free.
 *
 * Invariants:  D1 blocks tile [0, brk): each has a LIVE or FREE tag for its own
 *                 offset, MIN_ORDER <= order, offset % 2^order == 0, and it ends at
 *                 or below brk
 *              D2 no free block has a free buddy of the same order (merging is done)
 *              D3 free list k holds exactly the free blocks of order k, doubly linked
 *                 (next->prev == self), and bit k of `nonempty` is set iff it is
 *                 non-empty
 *              D4 the counters (live_blocks, block_bytes, free_blocks, free_bytes)
 *                 equal what a walk of the blocks finds
 *              buddy_check() verifies D1-D4; buddy_walk() reports the blocks of its walk
 *              (a whole 2^k block, header included, is one BLOCK or FREE region).
 * Cost:        malloc and free O(log heap) (at most one split or merge per order);
 *              growth O(log heap); check O(blocks).
 * Pathology:   internal fragmentation up to 50% (a 2^k + 1 byte request holds
 *              2^(k+1) bytes); a padding run before a large block can leave many
 *              small free blocks; the region never shrinks.
 */
#include "policy.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* ---- Types and tags ---- */

#define MIN_ORDER  5  /* 32 bytes: a 16-byte header plus two list pointers */
#define MAX_ORDER  47 /* above LAB_MAX_REQUEST (2^40) + header */
#define NORDERS    (MAX_ORDER + 1)
#define GROW_ORDER 12 /* the region grows by at least a page */
#define ORDER_MASK ((uint64_t)0xff)
#define MAGIC_LIVE ((uint64_t)0x6275646479a11c00u)
#define MAGIC_FREE ((uint64_t)0x62756464f4eeb100u)

typedef struct node {
    struct node *next, *prev;
} node_t;

typedef struct buddy {
    lab_mem_t *mem;
    size_t hdr;             /* header bytes = cfg->align */
    uint64_t nonempty;      /* bit k set iff lists[k] != NULL */
    node_t *lists[NORDERS]; /* free blocks of each order */
    size_t live_blocks, block_bytes, free_blocks, free_bytes;
} buddy_t;

static size_t order_bytes(unsigned k)
{
    return (size_t)1 << k;
}
static uint64_t make_tag(size_t off, unsigned k, uint64_t magic)
{
    return (((uint64_t)off << 8) ^ magic) | k;
}
static uint64_t *tag_at(const buddy_t *b, size_t off)
{
    return (uint64_t *)(void *)(b->mem->base + off);
}
static unsigned tag_order(uint64_t tag)
{
    return (unsigned)(tag & ORDER_MASK);
}
static bool tag_is(uint64_t tag, size_t off, uint64_t magic)
{
    return (tag & ~ORDER_MASK) == make_tag(off, 0, magic) && tag_order(tag) >= MIN_ORDER &&
           tag_order(tag) <= MAX_ORDER && off % order_bytes(tag_order(tag)) == 0;
}
static node_t *node_at(const buddy_t *b, size_t off)
{
    return (node_t *)(void *)(b->mem->base + off + b->hdr);
}
static size_t node_offset(const buddy_t *b, const node_t *n)
{
    return (size_t)((const uint8_t *)n - b->mem->base) - b->hdr;
}

/* Smallest order holding n payload bytes plus the header. */
static unsigned order_for(const buddy_t *b, size_t n)
{
    size_t need = n + b->hdr;
    unsigned k = MIN_ORDER;
    if (need > order_bytes(MIN_ORDER))
        k = (unsigned)(64 - __builtin_clzll((unsigned long long)(need - 1)));
    return k;
}

/* ---- Free lists ---- */

static void list_push(buddy_t *b, size_t off, unsigned k)
{
    node_t *n = node_at(b, off);
    *tag_at(b, off) = make_tag(off, k, MAGIC_FREE);
    n->prev = NULL;
    n->next = b->lists[k];
    if (n->next)
        n->next->prev = n;
    b->lists[k] = n;
    b->nonempty |= (uint64_t)1 << k;
    b->free_blocks++;
    b->free_bytes += order_bytes(k);
}

static void list_remove(buddy_t *b, size_t off, unsigned k)
{
    node_t *n = node_at(b, off);
    if (n->prev)
        n->prev->next = n->next;
    else
        b->lists[k] = n->next;
    if (n->next)
        n->next->prev = n->prev;
    if (!b->lists[k])
        b->nonempty &= ~((uint64_t)1 << k);
    b->free_blocks--;
    b->free_bytes -= order_bytes(k);
}

/* The tag of a block absorbed by a merge becomes a ghost (order 0, FREE magic): no walk
 * or merge takes it for a block, but a second free of the old pointer is still named a
 * double free. */
static void bury_tag(buddy_t *b, size_t off)
{
    *tag_at(b, off) = make_tag(off, 0, MAGIC_FREE);
}

/* True when the buddy of (off, k) is inside the region and a free block of order k. */
static bool buddy_is_free(const buddy_t *b, size_t off, unsigned k)
{
    size_t bud = off ^ order_bytes(k);
    if (bud > b->mem->brk || order_bytes(k) > b->mem->brk - bud)
        return false;
    return *tag_at(b, bud) == make_tag(bud, k, MAGIC_FREE);
}

/* Frees block (off, k), merging it with free buddies as far as they go. */
static void insert_free(buddy_t *b, size_t off, unsigned k)
{
    while (k < MAX_ORDER && buddy_is_free(b, off, k)) {
        size_t bud = off ^ order_bytes(k);
        list_remove(b, bud, k);
        bury_tag(b, off > bud ? off : bud);
        off = off < bud ? off : bud;
        k++;
    }
    list_push(b, off, k);
}

/* ---- Growth, allocation ---- */

/* Adds free blocks at the top until a block of order >= k is free; false at the limit.
 * One growth call covers the padding blocks and the new block. */
static bool grow(buddy_t *b, unsigned k)
{
    unsigned g = k > GROW_ORDER ? k : GROW_ORDER;
    size_t off = b->mem->brk;
    size_t pad = (order_bytes(g) - off % order_bytes(g)) % order_bytes(g);
    if (!lab_mem_sbrk(b->mem, pad + order_bytes(g)))
        return false;
    while (off % order_bytes(g) != 0) {
        unsigned j = (unsigned)__builtin_ctzll((unsigned long long)off);
        insert_free(b, off, j);
        off += order_bytes(j);
    }
    insert_free(b, off, g);
    return true;
}

/* Lowest order >= k with a free block, or NORDERS. */
static unsigned first_fit_order(const buddy_t *b, unsigned k)
{
    uint64_t mask = b->nonempty & ~(((uint64_t)1 << k) - 1);
    return mask ? (unsigned)__builtin_ctzll(mask) : NORDERS;
}

static void mark_live(buddy_t *b, size_t off, unsigned k)
{
    *tag_at(b, off) = make_tag(off, k, MAGIC_LIVE);
    b->live_blocks++;
    b->block_bytes += order_bytes(k);
}

static void *buddy_malloc(void *st, size_t n)
{
    buddy_t *b = st;
    unsigned k = order_for(b, n);
    unsigned j = first_fit_order(b, k);
    if (j == NORDERS) {
        if (!grow(b, k))
            return NULL;
        j = first_fit_order(b, k);
    }
    size_t off = node_offset(b, b->lists[j]);
    list_remove(b, off, j);
    while (j > k) { /* the upper halves' buddies are our lower halves: no merging */
        j--;
        list_push(b, off + order_bytes(j), j);
    }
    mark_live(b, off, k);
    return b->mem->base + off + b->hdr;
}

/* ---- Free, realloc ---- */

/* Offset of p's block: LAB_OK when it is live, else the error that describes p. */
static lab_err_t block_of(const buddy_t *b, const void *p, size_t *off)
{
    size_t pos = (size_t)((const uint8_t *)p - b->mem->base);
    if (pos < b->hdr || (pos - b->hdr) % order_bytes(MIN_ORDER) != 0)
        return LAB_ERR_MISALIGNED;
    *off = pos - b->hdr;
    uint64_t tag = *tag_at(b, *off);
    if ((tag & ~ORDER_MASK) == make_tag(*off, 0, MAGIC_FREE)) /* free block or ghost */
        return LAB_ERR_DOUBLE_FREE;
    if (!tag_is(tag, *off, MAGIC_LIVE))
        return LAB_ERR_MISALIGNED;
    if (order_bytes(tag_order(tag)) > b->mem->brk - *off)
        return LAB_ERR_CORRUPT;
    return LAB_OK;
}

/* Frees the live block at off (validated by block_of). */
static void release_block(buddy_t *b, size_t off)
{
    unsigned k = tag_order(*tag_at(b, off));
    b->live_blocks--;
    b->block_bytes -= order_bytes(k);
    insert_free(b, off, k);
}

static lab_err_t buddy_free(void *st, void *p)
{
    buddy_t *b = st;
    size_t off;
    lab_err_t e = block_of(b, p, &off);
    if (e == LAB_OK)
        release_block(b, off);
    return e;
}

static size_t buddy_usable_size(void *st, const void *p)
{
    buddy_t *b = st;
    size_t off;
    if (block_of(b, p, &off) != LAB_OK)
        return 0;
    return order_bytes(tag_order(*tag_at(b, off))) - b->hdr;
}

/* True when (off, k) is a lower half at every order up to `want` and all the upper
 * buddies are free: the block can then grow in place. */
static bool can_grow_in_place(const buddy_t *b, size_t off, unsigned k, unsigned want)
{
    for (unsigned j = k; j < want; j++)
        if ((off & order_bytes(j)) || !buddy_is_free(b, off, j))
            return false;
    return true;
}

static void *buddy_realloc(void *st, void *p, size_t n, lab_err_t *err)
{
    buddy_t *b = st;
    size_t off;
    if ((*err = block_of(b, p, &off)) != LAB_OK)
        return NULL;
    unsigned k = tag_order(*tag_at(b, off)), want = order_for(b, n);
    if (want > k && !can_grow_in_place(b, off, k, want)) {
        void *q = buddy_malloc(b, n);
        if (!q) {
            *err = LAB_ERR_NOMEM;
            return NULL;
        }
        memcpy(q, p, order_bytes(k) - b->hdr);
        release_block(b, off);
        return q;
    }
    b->live_blocks--;
    b->block_bytes -= order_bytes(k);
    for (unsigned j = k; j < want; j++) {
        list_remove(b, off + order_bytes(j), j);
        bury_tag(b, off + order_bytes(j));
    }
    while (k > want) { /* surplus upper halves: their buddies are ours, so no merging */
        k--;
        list_push(b, off + order_bytes(k), k);
    }
    mark_live(b, off, want);
    return p;
}

/* ---- Checker, stats ---- */

typedef struct tally {
    size_t live, live_bytes, free, free_bytes;
    size_t free_per_order[NORDERS];
} tally_t;

/* D1, D2: walks the tiling, for check() and walk() (which passes fn: each block is a BLOCK
 * or FREE region); returns false when the walk cannot continue. */
static bool walk_blocks(const buddy_t *b, lab_report_t *r, tally_t *t, lab_walk_fn fn, void *ctx)
{
    size_t off = 0, brk = b->mem->brk;
    while (off < brk) {
        uint64_t tag = *tag_at(b, off);
        bool live = tag_is(tag, off, MAGIC_LIVE), free = tag_is(tag, off, MAGIC_FREE);
        unsigned k = tag_order(tag);
        if ((!live && !free) || order_bytes(k) > brk - off) {
            lab_report_add(r, "D1: no valid block at offset %zu (tag %#llx)", off,
                           (unsigned long long)tag);
            return false;
        }
        lab_walk_emit(fn, ctx, tag_at(b, off), order_bytes(k),
                      free ? LAB_REGION_FREE : LAB_REGION_BLOCK,
                      free ? NULL : b->mem->base + off + b->hdr);
        if (free) {
            LAB_EXPECT(r, !buddy_is_free(b, off, k),
                       "D2: free block at %zu and its buddy (order %u) are both free", off, k);
            t->free++;
            t->free_bytes += order_bytes(k);
            t->free_per_order[k]++;
        } else {
            t->live++;
            t->live_bytes += order_bytes(k);
        }
        off += order_bytes(k);
    }
    return true;
}

/* D3: list k holds only free blocks of order k, links agree, count matches the walk. */
static void check_list(const buddy_t *b, lab_report_t *r, unsigned k, size_t expected)
{
    size_t count = 0;
    const node_t *prev = NULL;
    LAB_EXPECT(r, !b->lists[k] == !(b->nonempty >> k & 1), "D3: nonempty bit %u is wrong", k);
    for (const node_t *n = b->lists[k]; n && count <= expected; n = n->next, count++) {
        size_t off = node_offset(b, n);
        if (off >= b->mem->brk || *tag_at(b, off) != make_tag(off, k, MAGIC_FREE)) {
            lab_report_add(r, "D3: list %u holds %p, not a free block of that order", k,
                           (const void *)n);
            return;
        }
        LAB_EXPECT(r, n->prev == prev, "D3: list %u: bad prev link at offset %zu", k, off);
        prev = n;
    }
    LAB_EXPECT(r, count == expected, "D3: list %u has %s%zu blocks, the heap %zu", k,
               count > expected ? "over " : "", count, expected);
}

static int buddy_check(void *st, lab_report_t *r)
{
    buddy_t *b = st;
    int before = r->count;
    tally_t t;
    memset(&t, 0, sizeof t);
    if (!walk_blocks(b, r, &t, NULL, NULL))
        return r->count - before;
    for (unsigned k = 0; k < NORDERS; k++)
        check_list(b, r, k, t.free_per_order[k]);
    LAB_EXPECT(r, t.live == b->live_blocks && t.live_bytes == b->block_bytes,
               "D4: walk finds %zu live blocks (%zu bytes), counters say %zu (%zu)", t.live,
               t.live_bytes, b->live_blocks, b->block_bytes);
    LAB_EXPECT(r, t.free == b->free_blocks && t.free_bytes == b->free_bytes,
               "D4: walk finds %zu free blocks (%zu bytes), counters say %zu (%zu)", t.free,
               t.free_bytes, b->free_blocks, b->free_bytes);
    return r->count - before;
}

/* The blocks tile the region and carry their headers: no META at all. */
static void buddy_walk(void *st, lab_walk_fn fn, void *ctx)
{
    lab_report_t unused = {0};
    tally_t t;
    memset(&t, 0, sizeof t);
    walk_blocks(st, &unused, &t, fn, ctx);
}

static void buddy_stats(void *st, lab_stats_t *s)
{
    buddy_t *b = st;
    s->live_blocks = b->live_blocks;
    s->block_bytes = b->block_bytes;
    s->free_blocks = b->free_blocks;
    s->free_bytes = b->free_bytes;
    s->largest_free = b->nonempty ? order_bytes(63u - (unsigned)__builtin_clzll(b->nonempty)) : 0;
}

static int buddy_init(void *st, lab_mem_t *mem, const lab_cfg_t *cfg, int variant)
{
    (void)variant;
    buddy_t *b = st;
    b->mem = mem;
    b->hdr = cfg->align > 16 ? 16 : cfg->align;
    return cfg->align > 16 ? EINVAL : 0; /* the header size fixes the payload alignment */
}

const lab_policy_t lab_policy_buddy = {
    .name = "buddy",
    .description = "binary buddy system: power-of-two blocks, split on malloc, buddies merged",
    .state_size = sizeof(buddy_t),
    .init = buddy_init,
    .malloc = buddy_malloc,
    .free = buddy_free,
    .realloc = buddy_realloc,
    .usable_size = buddy_usable_size,
    .check = buddy_check,
    .stats = buddy_stats,
    .walk = buddy_walk,
};
