/*
 * vm.c -- DMMgr 6 of the COS217 lecture: every chunk is its own mapping.
 *
 * Algorithm:   1. malloc(n): map round_page(off + n) fresh bytes, write a header at the
 *                 start of the mapping and return the payload at offset `off`.
 *              2. free(p): validate p against the mapping table of the memory source,
 *                 then unmap the whole mapping. Fragmentation is the page mapper's problem.
 *              3. realloc(p, n): resize the mapping like mremap (in place when the
 *                 pages after it are free, else moved by the kernel, never copied by us).
 *              The lecture's version keeps only the size; here a stamp is added so
 *              free can tell a live header from a damaged one.
 * Layout:      one mapping per live block, page aligned, size a multiple of LAB_PAGE_SIZE:
 *
 *   map ->  +----------------------------+---------------------------+ <- map + off
 *           | size | stamp | (pad to off)| payload ... page rounding |
 *           +----------------------------+---------------------------+ <- map + size
 *   off   = max(16, cfg->align): the payload keeps the requested alignment
 *   size  = bytes of the whole mapping (what the memory source rounded to)
 *   stamp = map ^ MAGIC_LIVE; a freed chunk has no stamp: its pages are gone
 *
 * Invariants:  V1 every live mapping of the memory source is a chunk: stamp == map ^ MAGIC_LIVE
 *              V2 each chunk's header size equals the size of its mapping
 *              V3 the number of mappings and their bytes equal the live_blocks and
 *                 block_bytes counters
 *              V4 the sbrk region is never used (brk == 0)
 *              vm_check() verifies V1-V4; vm_walk() reports each chunk of its walk as one
 *              BLOCK, the page rounding included (it is the block's tail, not free).
 * Cost:        malloc, free and realloc: one system call each, plus the memory source's
 *              O(log m) table search (and O(m) insertion) for m live mappings.
 * Pathology:   a whole page for every small request: a 1-byte malloc holds 4 KiB, so
 *              utilization on small-object traces is dismal. Double frees are caught
 *              only while the address is not mapped again (dispatch.c then reports
 *              LAB_ERR_FOREIGN); a later mapping at the same address hides them.
 */
#include "policy.h"

#include <stdint.h>

#define MAGIC_LIVE ((uintptr_t)0x766d6368756e6b31u)

typedef struct vm_hdr {
    size_t size;
    uintptr_t stamp;
} vm_hdr_t;

typedef struct vm {
    lab_mem_t *mem;
    size_t off; /* payload offset from the start of the mapping */
    size_t live_blocks;
    size_t block_bytes;
} vm_t;

/* ---- Helpers ---- */

static vm_hdr_t *header_of_map(uintptr_t map)
{
    return (vm_hdr_t *)map;
}

/* The header of live chunk p, or an error saying why p is not one. */
static lab_err_t find_chunk(const vm_t *v, const void *p, vm_hdr_t **out)
{
    const lab_mapping_t *map = lab_mem_find_mapping(v->mem, p);
    if (!map)
        return LAB_ERR_FOREIGN;
    if ((uintptr_t)p != map->addr + v->off)
        return LAB_ERR_MISALIGNED;
    vm_hdr_t *h = header_of_map(map->addr);
    if (h->stamp != (map->addr ^ MAGIC_LIVE) || h->size != map->size)
        return LAB_ERR_CORRUPT;
    *out = h;
    return LAB_OK;
}

/* ---- Operations ---- */

static int vm_init(void *st, lab_mem_t *mem, const lab_cfg_t *cfg, int variant)
{
    (void)variant;
    vm_t *v = st;
    v->mem = mem;
    v->off = cfg->align > sizeof(vm_hdr_t) ? cfg->align : sizeof(vm_hdr_t);
    return 0;
}

static void *vm_malloc(void *st, size_t n)
{
    vm_t *v = st;
    uint8_t *map = lab_mem_map(v->mem, v->off + n);
    if (!map)
        return NULL;
    vm_hdr_t *h = (vm_hdr_t *)(void *)map;
    h->size = lab_mem_round_page(v->off + n);
    h->stamp = (uintptr_t)map ^ MAGIC_LIVE;
    v->live_blocks++;
    v->block_bytes += h->size;
    return map + v->off;
}

static lab_err_t vm_free(void *st, void *p)
{
    vm_t *v = st;
    vm_hdr_t *h;
    lab_err_t e = find_chunk(v, p, &h);
    if (e != LAB_OK)
        return e;
    size_t size = h->size;
    if (lab_mem_unmap(v->mem, h, size) != 0)
        return LAB_ERR_CORRUPT; /* unreachable: find_chunk matched the table */
    v->live_blocks--;
    v->block_bytes -= size;
    return LAB_OK;
}

static void *vm_realloc(void *st, void *p, size_t n, lab_err_t *err)
{
    vm_t *v = st;
    vm_hdr_t *h;
    if ((*err = find_chunk(v, p, &h)) != LAB_OK)
        return NULL;
    size_t old = h->size, size = lab_mem_round_page(v->off + n);
    if (size == old)
        return p;
    uint8_t *map = lab_mem_remap(v->mem, h, old, size);
    if (!map) {
        *err = LAB_ERR_NOMEM;
        return NULL;
    }
    h = (vm_hdr_t *)(void *)map;
    h->size = size;
    h->stamp = (uintptr_t)map ^ MAGIC_LIVE; /* the stamp names the address: it may have moved */
    v->block_bytes = v->block_bytes - old + size;
    return map + v->off;
}

static size_t vm_usable_size(void *st, const void *p)
{
    vm_t *v = st;
    vm_hdr_t *h;
    return find_chunk(v, p, &h) == LAB_OK ? h->size - v->off : 0;
}

/* ---- Checker ---- */

/* V1, V2 over every mapping: the walk of check() and walk(), which passes fn (a chunk is
 * one BLOCK, page rounding included). Returns the bytes mapped. */
static size_t vm_scan(const vm_t *v, lab_report_t *r, lab_walk_fn fn, void *ctx)
{
    const lab_mem_t *m = v->mem;
    size_t bytes = 0;
    for (size_t i = 0; i < m->map_count; i++) {
        const lab_mapping_t *map = &m->maps[i];
        const vm_hdr_t *h = header_of_map(map->addr);
        LAB_EXPECT(r, h->stamp == (map->addr ^ MAGIC_LIVE), "V1: mapping %#zx has a bad stamp",
                   (size_t)map->addr);
        LAB_EXPECT(r, h->size == map->size, "V2: mapping %#zx of %zu bytes, header says %zu",
                   (size_t)map->addr, map->size, h->size);
        lab_walk_emit(fn, ctx, h, map->size, LAB_REGION_BLOCK, (const uint8_t *)h + v->off);
        bytes += map->size;
    }
    return bytes;
}

static int vm_check(void *st, lab_report_t *r)
{
    vm_t *v = st;
    const lab_mem_t *m = v->mem;
    int before = r->count;
    size_t bytes = vm_scan(v, r, NULL, NULL);
    LAB_EXPECT(r, m->map_count == v->live_blocks, "V3: %zu mappings, live_blocks says %zu",
               m->map_count, v->live_blocks);
    LAB_EXPECT(r, bytes == v->block_bytes, "V3: mappings hold %zu bytes, block_bytes says %zu",
               bytes, v->block_bytes);
    LAB_EXPECT(r, m->brk == 0, "V4: the region holds %zu bytes", m->brk);
    return r->count - before;
}

static void vm_walk(void *st, lab_walk_fn fn, void *ctx)
{
    lab_report_t unused = {0};
    vm_scan(st, &unused, fn, ctx);
}

static void vm_stats(void *st, lab_stats_t *s)
{
    vm_t *v = st;
    s->live_blocks = v->live_blocks;
    s->block_bytes = v->block_bytes; /* page rounding is internal fragmentation; no free blocks */
}

const lab_policy_t lab_policy_vm = {
    .name = "vm",
    .description = "DMMgr 6: one page-rounded mapping per chunk; free unmaps it",
    .state_size = sizeof(vm_t),
    .init = vm_init,
    .malloc = vm_malloc,
    .free = vm_free,
    .realloc = vm_realloc,
    .usable_size = vm_usable_size,
    .check = vm_check,
    .stats = vm_stats,
    .walk = vm_walk,
};
