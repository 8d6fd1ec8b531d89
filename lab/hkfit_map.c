/*
 * hkfit_map.c -- hkfit's large requests (n > SMALL_MAX): a page-exact mapping when the
 *                page rounding costs no more than a header, else a span (hkfit_span.h).
 *
 * Layout:      mapping: a page-aligned range of the memory source holding one payload at
 *              its start, no header; its size is the mapping's (lab_mem_t.maps).
 * Invariants:  H7 every mapping of the memory source is a live block, and map_blocks and
 *                 map_bytes count them (live_blocks and block_bytes include them)
 *              hkfit_check.c verifies H7.
 * Algorithm:   a request whose page rounding wastes <= 8 bytes, or <= 1/256 of its size,
 *              is mapped, unless it is below the mapping floor. Freeing a mapped block
 *              raises the floor above its size (up to MAP_FLOOR_MAX), as glibc's dynamic
 *              mmap threshold does: page-exact blocks that die young then go to the region
 *              instead of costing a mapping per use.
 */
#include "hkfit_span.h"

bool hkfit_want_map(const hkfit_t *h, size_t n)
{
    size_t r = lab_mem_round_page(n), slack = r >> 8;
    return n >= h->map_floor && r - n <= (slack > HDR ? slack : HDR);
}

static void *map_malloc(hkfit_t *h, size_t n)
{
    void *p = lab_mem_map(h->mem, n);
    if (p) {
        h->map_blocks++;
        h->map_bytes += lab_mem_round_page(n);
        h->live_blocks++;
        h->block_bytes += lab_mem_round_page(n);
    }
    return p;
}

void hkfit_map_free(hkfit_t *h, void *p, size_t size, bool raise_floor)
{
    lab_mem_unmap(h->mem, p, size);
    h->map_blocks--;
    h->map_bytes -= size;
    h->live_blocks--;
    h->block_bytes -= size;
    if (raise_floor && size + 1 > h->map_floor)
        h->map_floor = size + 1 < MAP_FLOOR_MAX ? size + 1 : MAP_FLOOR_MAX;
}

void *hkfit_large_malloc(hkfit_t *h, size_t n)
{
    if (hkfit_want_map(h, n))
        return map_malloc(h, n);
    uint8_t *s = hkfit_span_alloc(h, span_for(h, n), 0);
    if (!s)
        return NULL;
    h->live_blocks++;
    h->block_bytes += sz(s);
    return s + HDR;
}
