/*
 * pad.c -- DMMgr 2 of the COS217 lecture: bump allocation inside a pad at the top of the heap.
 *
 * Algorithm:   1. malloc(n): if the pad (the unused bytes between `pad` and the break)
 *                 holds the block, carve it off the bottom of the pad; otherwise move
 *                 the break up by max(shortfall, PAD_GROWTH) first, so growth calls are
 *                 rare (the lecture's MIN_ALLOC).
 *              2. free(p): mark the block freed; its memory is never reused.
 *              3. realloc: a new block, copy (dispatch.c does it).
 *              The header exists only so that usable_size, realloc and the
 *              double-free check have something to read.
 * Layout:
 *
 *   base   first                                      pad                    break
 *   | lead | hdr | payload ... | hdr | payload ... | ... |<------- pad -------->|
 *   lead = round_up(16, align) - 16 bytes (0 for align 8 and 16) so payloads are aligned
 *   hdr = the 16-byte stamped header drawn in stamp.h, so payloads keep the block's alignment
 *   size  = whole block bytes (header included), multiple of align
 *   stamp = (address of payload) ^ MAGIC_LIVE while allocated,
 *           (address of payload) ^ MAGIC_FREED after free
 *
 * Invariants:  D1 blocks tile [first, pad) exactly, each size >= min_block (header and
 *                 one aligned byte) and size % align == 0 (so every payload is aligned)
 *              D2 first <= pad <= break and pad + HDR_SIZE is align aligned
 *              D3 every stamp is LIVE or FREED for its own address
 *              D4 the LIVE blocks number live.blocks and their sizes sum to live.bytes
 *              pad_check() verifies D1-D4; pad_walk() reports the same walk: lead (META),
 *              live blocks (BLOCK), freed blocks (DEAD: never reused), the pad (FREE).
 * Cost:        malloc O(1), one growth call per PAD_GROWTH bytes at most; free O(1).
 * Pathology:   never reuses memory: utilization falls to live / total ever allocated,
 *              and the pad left at the top is up to PAD_GROWTH bytes of footprint nobody uses.
 */
#include "stamp.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#define MAGIC_LIVE  ((uintptr_t)0x7061646c69766531u)
#define MAGIC_FREED ((uintptr_t)0x7061646672656564u)
#define HDR_SIZE    LAB_STAMP_HDR_SIZE
#define PAD_GROWTH  ((size_t)8 << 10) /* the break moves by at least this much */

/* ---- Types and helpers ---- */

static const lab_stamp_kind_t pad_stamp = {
    .live = MAGIC_LIVE, .freed = MAGIC_FREED, .tile_id = "D1", .stamp_id = "D3"};

typedef struct pad {
    lab_mem_t *mem;
    size_t     align;
    size_t     min_block; /* the block of a 1-byte request */
    uint8_t   *first; /* first block: base + lead, so payloads (first + HDR_SIZE) are aligned */
    uint8_t   *pad; /* first byte not yet handed out; the pad is [pad, break) */
    lab_stamp_tally_t live; /* live blocks and their bytes */
} pad_t;

static size_t round_up(size_t n, size_t align) { return (n + align - 1) & ~(align - 1); }

static size_t pad_room(const pad_t *h) { return (size_t)(lab_mem_hi(h->mem) - h->pad); }

/* Header of p if p can be a handed-out block: header and smallest payload lie in [base, pad). */
static lab_stamp_hdr_t *header_in_use(const pad_t *h, const void *p)
{
    uintptr_t at = (uintptr_t)p;
    if (at < (uintptr_t)h->first + HDR_SIZE || at - HDR_SIZE + h->min_block > (uintptr_t)h->pad)
        return NULL;
    return lab_stamp_hdr_of(p);
}

/* ---- Operations ---- */

static int pad_init(void *st, lab_mem_t *mem, const lab_cfg_t *cfg, int variant)
{
    pad_t *h = st;
    (void)variant;
    size_t lead = round_up(HDR_SIZE, cfg->align) - HDR_SIZE; /* 0 unless align > 16 */
    h->mem = mem;
    h->align = cfg->align;
    h->min_block = round_up(HDR_SIZE + 1, cfg->align);
    h->first = lab_mem_lo(mem) + lead;
    h->pad = h->first;
    return lab_mem_sbrk(mem, lead) ? 0 : ENOMEM;
}

/* Moves the break so the pad holds `size` bytes; false when the limit forbids it. */
static bool pad_grow(pad_t *h, size_t size)
{
    size_t shortfall = size - pad_room(h);
    if (lab_mem_sbrk(h->mem, shortfall > PAD_GROWTH ? shortfall : PAD_GROWTH))
        return true;
    return lab_mem_sbrk(h->mem, shortfall) != NULL; /* near the limit: just what is needed */
}

static void *pad_malloc(void *st, size_t n)
{
    pad_t *h = st;
    size_t size = round_up(HDR_SIZE + n, h->align);
    if (size > pad_room(h) && !pad_grow(h, size))
        return NULL;
    void *at = h->pad;
    h->pad += size;
    return lab_stamp_make_live(&pad_stamp, &h->live, at, size);
}

static lab_err_t pad_free(void *st, void *p)
{
    pad_t *h = st;
    lab_stamp_hdr_t *b = header_in_use(h, p);
    if (!b)
        return LAB_ERR_MISALIGNED;
    return lab_stamp_release(&pad_stamp, &h->live, b);
}

static size_t pad_usable_size(void *st, const void *p)
{
    return lab_stamp_usable_size(&pad_stamp, header_in_use(st, p));
}

/* ---- Checker and statistics ---- */

/* D1-D3: the walk of check() and walk(), which passes fn: the lead-in, the blocks handed
 * out, then the pad. False when the blocks cannot be walked. */
static bool pad_scan(pad_t *h, lab_report_t *r, lab_stamp_tally_t *t, lab_walk_fn fn, void *ctx)
{
    uint8_t *at = h->first, *end = h->pad, *brk = lab_mem_hi(h->mem);
    bool pad_aligned = (uintptr_t)(end + HDR_SIZE) % h->align == 0;
    LAB_EXPECT(r, at <= end && end <= brk && pad_aligned,
               "D2: pad %p outside [first, break] or misaligned", (void *)end);
    if (end > brk)
        return false; /* walking to `pad` would leave the region */
    lab_walk_emit(fn, ctx, lab_mem_lo(h->mem), (size_t)(at - lab_mem_lo(h->mem)), LAB_REGION_META,
                  NULL);
    if (!lab_stamp_walk(&pad_stamp, at, end, h->min_block, h->align, r, t, fn, ctx))
        return false;
    lab_walk_emit(fn, ctx, end, pad_room(h), LAB_REGION_FREE, NULL);
    return true;
}

static int pad_check(void *st, lab_report_t *r)
{
    pad_t *h = st;
    int before = r->count;
    lab_stamp_tally_t t;
    if (!pad_scan(h, r, &t, NULL, NULL))
        return r->count - before;
    LAB_EXPECT(r, t.blocks == h->live.blocks && t.bytes == h->live.bytes,
               "D4: walk finds %zu live blocks / %zu bytes, counters say %zu / %zu", t.blocks,
               t.bytes, h->live.blocks, h->live.bytes);
    return r->count - before;
}

/* The lead-in (META), the blocks (BLOCK or, freed, DEAD), the pad (FREE). */
static void pad_walk(void *st, lab_walk_fn fn, void *ctx)
{
    lab_report_t unused = {0};
    lab_stamp_tally_t t;
    pad_scan(st, &unused, &t, fn, ctx);
}

/* The pad is the one free block: the next requests that fit are carved from it. */
static void pad_stats(void *st, lab_stats_t *s)
{
    pad_t *h = st;
    s->live_blocks = h->live.blocks;
    s->block_bytes = h->live.bytes;
    s->free_blocks = pad_room(h) ? 1 : 0;
    s->free_bytes = pad_room(h);
    s->largest_free = pad_room(h);
}

const lab_policy_t lab_policy_pad = {
    .name = "pad",
    .description = "DMMgr 2: bump allocation in a pad grown >= 8 KiB at a time; no reuse",
    .flags = LAB_NO_REUSE,
    .state_size = sizeof(pad_t),
    .init = pad_init,
    .malloc = pad_malloc,
    .free = pad_free,
    .usable_size = pad_usable_size,
    .check = pad_check,
    .stats = pad_stats,
    .walk = pad_walk,
};
