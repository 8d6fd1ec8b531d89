/*
 * walk.c -- the checker of the walk contract: runs a policy's walk and verifies what it
 *           reports against the memory source and the policy's own statistics.
 *
 * Design:      The contract (W1-W7) is written once, in policy.h next to the method.
 *              This file checks W1-W6, streaming: W2 asks for the regions in address
 *              order part by part (the region in use, then each mapping in table order),
 *              so disjointness is one comparison with the end of the previous region and
 *              nothing is stored. With W1 (inside the heap's memory) and W2 (no
 *              overlap), W3 (the sizes add up to the footprint) means the regions cover
 *              every byte exactly once. W7 needs the caller's list of live payloads and
 *              is checked by the conformance test.
 * Complexity:  O(regions * log mappings): each region finds its part by binary search.
 */
#include "dispatch.h"

#include <stdbool.h>
#include <string.h>

/* ---- The walk's listener ---- */

typedef struct verifier {
    lab_heap_t   *h;
    lab_report_t *r;
    size_t        part;  /* 0: the region in use; i + 1: mapping i */
    uintptr_t     end;   /* end of the previous region of this part */
    size_t        bytes; /* all regions */
    size_t        blocks, block_bytes, frees, free_bytes, largest_free, deads;
} verifier_t;

/* The part [start, start + size) lies in (0 = region, i + 1 = mapping i), or SIZE_MAX when
 * it is not inside one part of the heap's memory. */
static size_t part_of(const lab_mem_t *m, uintptr_t start, size_t size)
{
    uintptr_t lo = (uintptr_t)lab_mem_lo(m), hi = (uintptr_t)lab_mem_hi(m);
    if (start >= lo && start < hi)
        return size <= hi - start ? 0 : SIZE_MAX;
    const lab_mapping_t *map = lab_mem_find_mapping(m, (const void *)start);
    if (!map || size > map->addr + map->size - start)
        return SIZE_MAX;
    return (size_t)(map - m->maps) + 1;
}

/* W4: a block holds its aligned payload; nothing else has one. */
static void check_payload(verifier_t *v, const lab_region_t *g)
{
    uintptr_t p = (uintptr_t)g->payload;
    if (g->kind != LAB_REGION_BLOCK) {
        LAB_EXPECT(v->r, g->payload == NULL, "W4: region %#zx of kind %d has a payload",
                   (size_t)g->start, (int)g->kind);
        return;
    }
    LAB_EXPECT(v->r, p >= g->start && p - g->start < g->size,
               "W4: block [%#zx, +%zu) does not hold its payload %p", (size_t)g->start, g->size,
               g->payload);
    LAB_EXPECT(v->r, p % v->h->cfg.align == 0, "W4: payload %p is not %zu-byte aligned", g->payload,
               v->h->cfg.align);
}

static void tally(verifier_t *v, const lab_region_t *g)
{
    v->bytes += g->size;
    switch (g->kind) {
    case LAB_REGION_BLOCK:
        v->blocks++;
        v->block_bytes += g->size;
        break;
    case LAB_REGION_FREE:
        v->frees++;
        v->free_bytes += g->size;
        if (g->size > v->largest_free)
            v->largest_free = g->size;
        break;
    case LAB_REGION_DEAD:
        v->deads++;
        break;
    case LAB_REGION_META:
        break;
    }
}

static void verify_region(void *ctx, const lab_region_t *g)
{
    verifier_t *v = ctx;
    if ((unsigned)g->kind >= LAB_REGION_KINDS || g->size == 0) {
        lab_report_add(v->r, "W1: region %#zx has kind %d and size %zu", (size_t)g->start,
                       (int)g->kind, g->size);
        return;
    }
    size_t part = part_of(&v->h->mem, g->start, g->size);
    if (part == SIZE_MAX) {
        lab_report_add(v->r, "W1: region [%#zx, +%zu) lies outside the heap's memory",
                       (size_t)g->start, g->size);
        return;
    }
    bool in_order = part > v->part || (part == v->part && g->start >= v->end);
    LAB_EXPECT(v->r, in_order, "W2: region [%#zx, +%zu) comes after %#zx of part %zu",
               (size_t)g->start, g->size, (size_t)v->end, v->part);
    v->part = part;
    v->end = g->start + g->size;
    check_payload(v, g);
    tally(v, g);
}

/* ---- The checker ---- */

int lab_walk_check(lab_heap_t *h, lab_report_t *r)
{
    int before = r->count;
    verifier_t v;
    memset(&v, 0, sizeof v);
    v.h = h;
    v.r = r;
    if (lab_walk(h, verify_region, &v) < 0)
        return -1;
    lab_stats_t s;
    lab_stats(h, &s);
    size_t footprint = lab_footprint(h);
    LAB_EXPECT(r, v.bytes == footprint, "W3: regions cover %zu bytes, the footprint is %zu",
               v.bytes, footprint);
    LAB_EXPECT(r, v.blocks == s.live_blocks && v.block_bytes == s.block_bytes,
               "W4: %zu blocks of %zu bytes walked, stats say %zu of %zu", v.blocks, v.block_bytes,
               s.live_blocks, s.block_bytes);
    LAB_EXPECT(r, v.frees == s.free_blocks && v.free_bytes == s.free_bytes,
               "W5: %zu free regions of %zu bytes walked, stats say %zu of %zu", v.frees,
               v.free_bytes, s.free_blocks, s.free_bytes);
    LAB_EXPECT(r, v.largest_free == s.largest_free,
               "W5: largest free region %zu bytes, stats say %zu", v.largest_free, s.largest_free);
    LAB_EXPECT(r, v.deads == 0 || (h->policy->flags & LAB_NO_REUSE),
               "W6: %zu dead regions in a policy that reuses memory", v.deads);
    return r->count - before;
}
