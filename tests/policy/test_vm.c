/*
 * test_vm.c -- the vm policy (lab/vm.c): one mapping per chunk, unmapped by free,
 * resized by remap, pointers validated against the mapping table.
 */
#include "policy_test.h"

#include <stdint.h>

/* V: every malloc is one mapping; free gives every byte back. */
static void test_one_mapping_per_chunk(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "vm", 16));
    char *p[8];
    for (int i = 0; i < 8; i++)
        p[i] = lab_malloc(&h, 1 + (size_t)i * 1000);
    CHECK("8 mappings", h.mem.map_calls == 8 && h.mem.map_count == 8);
    CHECK("small chunk takes a page", lab_mem_find_mapping(&h.mem, p[0])->size == LAB_PAGE_SIZE);
    CHECK("no region", h.mem.brk == 0);
    lab_stats_t s = pt_stats(&h);
    CHECK("block bytes are the mapped bytes", s.live_blocks == 8 && s.block_bytes == h.mem.mapped);
    CHECK("checks clean", pt_heap_is_clean(&h));
    for (int i = 0; i < 8; i++)
        CHECK("free", lab_free(&h, p[i]) == LAB_OK);
    CHECK("all unmapped", h.mem.mapped == 0 && h.mem.unmap_calls == 8);
    CHECK("counters back to 0", pt_nothing_live(&h));
    lab_heap_close(&h);
}

/* Realloc resizes the mapping in place or moves it, keeping the contents. */
static void test_realloc_remaps(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "vm", 16));
    unsigned char *p = lab_malloc(&h, 100);
    REQUIRE("malloc", p != NULL);
    for (int i = 0; i < 100; i++)
        p[i] = (unsigned char)(i * 3);
    CHECK("same page: no remap", lab_realloc(&h, p, 2000) == p && h.mem.remap_calls == 0);
    unsigned char *q = lab_realloc(&h, p, 100000);
    REQUIRE("grow", q != NULL);
    int same = 1;
    for (int i = 0; i < 100; i++)
        same &= q[i] == (unsigned char)(i * 3);
    CHECK("contents kept", same);
    CHECK("one remap, one mapping", h.mem.remap_calls == 1 && h.mem.map_count == 1);
    CHECK("usable grew", lab_usable_size(&h, q) >= 100000);
    q = lab_realloc(&h, q, 10);
    CHECK("shrink keeps contents", q && q[9] == 27);
    CHECK("shrunk to a page", h.mem.mapped == LAB_PAGE_SIZE);
    CHECK("checks clean", pt_heap_is_clean(&h));
    CHECK("free", lab_free(&h, q) == LAB_OK && h.mem.mapped == 0);
    lab_heap_close(&h);
}

/* Interior pointers, double frees and damaged headers are rejected. */
static void test_bad_frees(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "vm", 8));
    char *p = lab_malloc(&h, 5000), *q = lab_malloc(&h, 10);
    REQUIRE("malloc", p && q);
    CHECK("payload is 8-aligned", ((uintptr_t)p & 7) == 0);
    CHECK("interior", lab_free(&h, p + 4096) == LAB_ERR_MISALIGNED);
    CHECK("interior near start", lab_free(&h, p + 8) == LAB_ERR_MISALIGNED);
    size_t *stamp = pt_word_at(q, -8), saved = *stamp;
    *stamp ^= 1; /* damage the stamp */
    CHECK("damaged header", lab_free(&h, q) == LAB_ERR_CORRUPT);
    CHECK("check reports V1", pt_check_finds(&h, "V1:") == 1);
    *stamp = saved;
    CHECK("free", lab_free(&h, p) == LAB_OK);
    CHECK("double free", lab_free(&h, p) == LAB_ERR_FOREIGN);
    CHECK("heap intact", pt_heap_is_clean(&h) && h.mem.map_count == 1);
    CHECK("free q", lab_free(&h, q) == LAB_OK);
    lab_heap_close(&h);
}

/* The walk: one BLOCK per chunk, its page rounding included. */
static void walk_layout(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "vm", 16));
    char *p = lab_malloc(&h, 1);
    REQUIRE("malloc", p != NULL);
    lab_region_t g[4];
    CHECK("one region", pt_walk(&h, g, 4) == 1);
    CHECK("the whole page", g[0].kind == LAB_REGION_BLOCK && g[0].payload == p &&
                                g[0].start == (uintptr_t)p - 16 && g[0].size == LAB_PAGE_SIZE);
    CHECK("free", lab_free(&h, p) == LAB_OK && pt_walk(&h, g, 4) == 0);
    lab_heap_close(&h);
}

int main(void)
{
    test_one_mapping_per_chunk();
    test_realloc_remaps();
    test_bad_frees();
    walk_layout();
    return hk_test_summary();
}
