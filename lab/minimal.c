/*
 * minimal.c -- DMMgr 1 of the COS217 lecture: grow the heap for every request.
 *
 * Algorithm:   1. malloc(n): move the break up by one block and return it.
 *              2. free(p): mark the block freed; its memory is never reused.
 *              3. realloc: a new block, copy (dispatch.c does it).
 *              The header exists only so that usable_size, realloc and the
 *              double-free check have something to read.
 * Layout:
 *
 *   base                                                       break
 *   | hdr | payload ... pad | hdr | payload ... pad | ... |
 *   hdr = the 16-byte stamped header drawn in stamp.h, so payloads are 16-aligned
 *   size  = whole block bytes (header included), multiple of 16
 *   stamp = (address of payload) ^ MAGIC_LIVE while allocated,
 *           (address of payload) ^ MAGIC_FREED after free
 *
 * Invariants:  N1 blocks tile [base, break) exactly, each size >= 32 and % 16 == 0
 *              N2 every stamp is LIVE or FREED for its own address
 *              N3 the number of LIVE stamps equals the live-block counter
 *              minimal_check() verifies N1-N3; minimal_walk() reports the blocks of the
 *              same walk: live ones as BLOCK, freed ones as DEAD (never reused).
 * Cost:        malloc O(1) but one growth call per request; free O(1).
 * Pathology:   never reuses memory: utilization falls to live/total-ever-allocated.
 */
#include "stamp.h"

#include <stdint.h>

#define MAGIC_LIVE  ((uintptr_t)0x6d696e696d616c31u)
#define MAGIC_FREED ((uintptr_t)0x6672656564626c6bu)
#define HDR_SIZE    LAB_STAMP_HDR_SIZE

static const lab_stamp_kind_t minimal_stamp = {
    .live = MAGIC_LIVE, .freed = MAGIC_FREED, .tile_id = "N1", .stamp_id = "N2"};

typedef struct minimal {
    lab_mem_t *mem;
    lab_stamp_tally_t live; /* live blocks and their bytes */
} minimal_t;

static int minimal_init(void *st, lab_mem_t *mem, const lab_cfg_t *cfg, int variant)
{
    (void)cfg;
    (void)variant;
    ((minimal_t *)st)->mem = mem;
    return 0;
}

static void *minimal_malloc(void *st, size_t n)
{
    minimal_t *h = st;
    size_t size = HDR_SIZE + ((n + 15) & ~(size_t)15);
    void *at = lab_mem_sbrk(h->mem, size);
    if (!at)
        return NULL;
    return lab_stamp_make_live(&minimal_stamp, &h->live, at, size);
}

/* Header of p if p can be a block start: the header must lie inside the region. */
static lab_stamp_hdr_t *header_in_region(minimal_t *h, const void *p)
{
    if ((uintptr_t)p < (uintptr_t)lab_mem_lo(h->mem) + HDR_SIZE)
        return NULL;
    return lab_stamp_hdr_of(p);
}

static lab_err_t minimal_free(void *st, void *p)
{
    minimal_t *h = st;
    lab_stamp_hdr_t *b = header_in_region(h, p);
    if (!b)
        return LAB_ERR_MISALIGNED;
    return lab_stamp_release(&minimal_stamp, &h->live, b);
}

static size_t minimal_usable_size(void *st, const void *p)
{
    return lab_stamp_usable_size(&minimal_stamp, header_in_region(st, p));
}

/* N1-N2 over the region: the walk of check() and walk(), which passes fn. */
static bool minimal_scan(minimal_t *h, lab_report_t *r, lab_stamp_tally_t *t, lab_walk_fn fn,
                         void *ctx)
{
    return lab_stamp_walk(&minimal_stamp, lab_mem_lo(h->mem), lab_mem_hi(h->mem), 2 * HDR_SIZE, 16,
                          r, t, fn, ctx);
}

static int minimal_check(void *st, lab_report_t *r)
{
    minimal_t *h = st;
    int before = r->count;
    lab_stamp_tally_t t;
    if (!minimal_scan(h, r, &t, NULL, NULL))
        return r->count - before;
    LAB_EXPECT(r, t.blocks == h->live.blocks, "N3: %zu live stamps, counter says %zu", t.blocks,
               h->live.blocks);
    return r->count - before;
}

/* Every block, live (BLOCK) or freed (DEAD): they tile the region. */
static void minimal_walk(void *st, lab_walk_fn fn, void *ctx)
{
    lab_report_t unused = {0};
    lab_stamp_tally_t t;
    minimal_scan(st, &unused, &t, fn, ctx);
}

static void minimal_stats(void *st, lab_stats_t *s)
{
    minimal_t *h = st;
    s->live_blocks = h->live.blocks;
    s->block_bytes = h->live.bytes;
}

const lab_policy_t lab_policy_minimal = {
    .name = "minimal",
    .description = "DMMgr 1: grow the heap for every request; free never reuses memory",
    .flags = LAB_NO_REUSE,
    .state_size = sizeof(minimal_t),
    .init = minimal_init,
    .malloc = minimal_malloc,
    .free = minimal_free,
    .usable_size = minimal_usable_size,
    .check = minimal_check,
    .stats = minimal_stats,
    .walk = minimal_walk,
};
