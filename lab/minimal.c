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
 *   hdr = { size_t size; size_t stamp; }   16 bytes, so payloads are 16-aligned
 *   size  = whole block bytes (header included), multiple of 16
 *   stamp = (address of payload) ^ MAGIC_LIVE while allocated,
 *           (address of payload) ^ MAGIC_FREED after free
 *
 * Invariants:  N1 blocks tile [base, break) exactly, each size >= 32 and % 16 == 0
 *              N2 every stamp is LIVE or FREED for its own address
 *              N3 the number of LIVE stamps equals the live-block counter
 *              minimal_check() verifies N1-N3.
 * Cost:        malloc O(1) but one growth call per request; free O(1).
 * Pathology:   never reuses memory: utilization falls to live/total-ever-allocated.
 */
#include "policy.h"

#include <stdint.h>

#define MAGIC_LIVE  ((uintptr_t)0x6d696e696d616c31u)
#define MAGIC_FREED ((uintptr_t)0x6672656564626c6bu)
#define HDR_SIZE    ((size_t)16)

typedef struct hdr {
    size_t    size;
    uintptr_t stamp;
} hdr_t;

typedef struct minimal {
    lab_mem_t *mem;
    size_t     live_blocks;
    size_t     block_bytes;
} minimal_t;

static hdr_t *hdr_of(const void *p) { return (hdr_t *)((uintptr_t)p - HDR_SIZE); }

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
    hdr_t *b = lab_mem_sbrk(h->mem, size);
    if (!b)
        return NULL;
    b->size = size;
    b->stamp = (uintptr_t)(b + 1) ^ MAGIC_LIVE;
    h->live_blocks++;
    h->block_bytes += size;
    return b + 1;
}

/* Header of p if p can be a block start: the header must lie inside the region. */
static hdr_t *header_in_region(minimal_t *h, const void *p)
{
    if ((uintptr_t)p < (uintptr_t)lab_mem_lo(h->mem) + HDR_SIZE)
        return NULL;
    return hdr_of(p);
}

static lab_err_t minimal_free(void *st, void *p)
{
    minimal_t *h = st;
    hdr_t *b = header_in_region(h, p);
    if (!b)
        return LAB_ERR_MISALIGNED;
    if (b->stamp == ((uintptr_t)p ^ MAGIC_FREED))
        return LAB_ERR_DOUBLE_FREE;
    if (b->stamp != ((uintptr_t)p ^ MAGIC_LIVE))
        return LAB_ERR_CORRUPT;
    b->stamp = (uintptr_t)p ^ MAGIC_FREED;
    h->live_blocks--;
    h->block_bytes -= b->size;
    return LAB_OK;
}

static size_t minimal_usable_size(void *st, const void *p)
{
    hdr_t *b = header_in_region(st, p);
    if (!b || b->stamp != ((uintptr_t)p ^ MAGIC_LIVE))
        return 0;
    return b->size - HDR_SIZE;
}

static int minimal_check(void *st, lab_report_t *r)
{
    minimal_t *h = st;
    int before = r->count;
    size_t live = 0;
    uint8_t *at = lab_mem_lo(h->mem), *end = lab_mem_hi(h->mem);
    while (at < end) {
        hdr_t *b = (hdr_t *)(void *)at;
        uintptr_t p = (uintptr_t)(b + 1);
        if (b->size < 2 * HDR_SIZE || b->size % 16 || b->size > (size_t)(end - at)) {
            lab_report_add(r, "N1: block at %p has bad size %zu", (void *)at, b->size);
            return r->count - before;
        }
        LAB_EXPECT(r, b->stamp == (p ^ MAGIC_LIVE) || b->stamp == (p ^ MAGIC_FREED),
                   "N2: block at %p has a bad stamp", (void *)at);
        live += b->stamp == (p ^ MAGIC_LIVE);
        at += b->size;
    }
    LAB_EXPECT(r, live == h->live_blocks, "N3: %zu live stamps, counter says %zu", live,
               h->live_blocks);
    return r->count - before;
}

static void minimal_stats(void *st, lab_stats_t *s)
{
    minimal_t *h = st;
    s->live_blocks = h->live_blocks;
    s->block_bytes = h->block_bytes;
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
};
