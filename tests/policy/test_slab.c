/*
 * test_slab.c -- focused tests of the slab policy through dispatch.c: objects of one
 * class share a slab, a freed object is the next one handed out, empty slabs go to the
 * pool and serve another class, large requests get mappings, bad frees are refused.
 */
#include "policy_test.h"

#include <stdint.h>
#include <string.h>

#define SLAB ((size_t)64 << 10)

static size_t slab_index(lab_heap_t *h, const void *p)
{
    return (size_t)((const uint8_t *)p - h->mem.base) / SLAB;
}

static void one_class_one_slab(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "slab", 16));
    uint8_t *p[10];
    for (int i = 0; i < 10; i++)
        p[i] = lab_malloc(&h, 40); /* class 48 */
    REQUIRE("malloc", p[0] && p[9]);
    for (int i = 1; i < 10; i++) {
        CHECK("same slab", slab_index(&h, p[i]) == slab_index(&h, p[0]));
        CHECK("consecutive objects", p[i] == p[i - 1] + 48);
    }
    CHECK("usable is the class size", lab_usable_size(&h, p[3]) == 48);
    uint8_t *q = lab_malloc(&h, 100); /* class 112: its own slab */
    CHECK("another class, another slab", q && slab_index(&h, q) != slab_index(&h, p[0]));
    CHECK("free p[4]", lab_free(&h, p[4]) == LAB_OK);
    CHECK("freed object reused first", lab_malloc(&h, 33) == p[4]);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

static void empty_slabs_are_pooled(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "slab", 16));
    enum { N = 3000 }; /* class 64: about 1000 per slab, so three slabs */
    static void *p[N];
    for (int i = 0; i < N; i++)
        p[i] = lab_malloc(&h, 64);
    REQUIRE("malloc", p[N - 1] != NULL);
    size_t footprint = lab_footprint(&h);
    for (int i = 0; i < N; i++)
        lab_free(&h, p[i]);
    lab_stats_t s = pt_stats(&h);
    CHECK("nothing live", pt_nothing_live(&h));
    CHECK("pooled slabs are whole free blocks", s.largest_free > 60000);
    CHECK("clean", pt_heap_is_clean(&h));
    void *big = lab_malloc(&h, 4000); /* class 4096 takes a pooled slab */
    CHECK("pool reused by another class", big && lab_footprint(&h) == footprint);
    lab_heap_close(&h);
}

static void large_blocks_are_mappings(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "slab", 16));
    uint8_t *p = lab_malloc(&h, 100000);
    REQUIRE("malloc", p != NULL);
    CHECK("own mapping", h.mem.map_count == 1 && h.mem.brk == 0);
    CHECK("page rounded", lab_usable_size(&h, p) == 102400);
    memset(p, 7, 100000);
    uint8_t *q = lab_realloc(&h, p, 300000);
    CHECK("remapped with content", q && q[99999] == 7);
    CHECK("remapped size", lab_usable_size(&h, q) == lab_mem_round_page(300000));
    CHECK("shrink in place", lab_realloc(&h, q, 200000) == q);
    CHECK("interior of large", lab_free(&h, q + 4096) == LAB_ERR_MISALIGNED);
    CHECK("clean", pt_heap_is_clean(&h));
    uint8_t *r = lab_realloc(&h, q, 100); /* back to a slab object */
    CHECK("moved to a slab", r && r[99] == 7 && h.mem.map_count == 0);
    CHECK("free", lab_free(&h, r) == LAB_OK);
    CHECK("nothing live", pt_nothing_live(&h));
    lab_heap_close(&h);
}

static void bad_frees(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "slab", 8));
    uint8_t *a = lab_malloc(&h, 24), *b = lab_malloc(&h, 24);
    REQUIRE("malloc", a && b);
    CHECK("align 8 classes", b == a + 24 && (uintptr_t)a % 8 == 0);
    CHECK("interior", lab_free(&h, a + 8) == LAB_ERR_MISALIGNED);
    CHECK("slab header", lab_free(&h, h.mem.base + 64) == LAB_ERR_MISALIGNED);
    CHECK("free a", lab_free(&h, a) == LAB_OK);
    CHECK("double free", lab_free(&h, a) == LAB_ERR_DOUBLE_FREE);
    CHECK("free b", lab_free(&h, b) == LAB_OK);
    CHECK("double free, slab empty", lab_free(&h, b) == LAB_ERR_DOUBLE_FREE);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

/* The checker notices a wrong used count (white box: `used` is the 32-bit field at byte
 * 28 of the slab header drawn in slab.c). */
static void checker_catches_corruption(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "slab", 16));
    REQUIRE("malloc", lab_malloc(&h, 10) != NULL);
    uint32_t *used = (uint32_t *)(void *)(h.mem.base + 28);
    CHECK("used is 1", *used == 1);
    (*used)++;
    CHECK("bitmap mismatch reported", pt_check_finds(&h, "S2") > 0);
    (*used)--;
    CHECK("clean again", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

/* The walk: a slab header is META, objects are BLOCK (header-less: payload == start) or
 * FREE one by one, a large block is its whole mapping. */
static void walk_layout(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "slab", 16));
    char *a = lab_malloc(&h, 40), *big = lab_malloc(&h, 10000); /* 48-byte objects: a tail */
    REQUIRE("mallocs", a && big);
    long n = pt_walk(&h, NULL, 0);
    lab_region_t *g = n > 4 ? calloc((size_t)n, sizeof *g) : NULL;
    REQUIRE("regions", g && pt_walk(&h, g, (size_t)n) == n);
    CHECK("slab header",
          g[0].kind == LAB_REGION_META && g[0].start == (uintptr_t)lab_mem_lo(&h.mem));
    CHECK("first object", g[1].kind == LAB_REGION_BLOCK && g[1].payload == a &&
                              g[1].start == (uintptr_t)a && g[1].size == 48);
    CHECK("next object free", g[2].kind == LAB_REGION_FREE && g[2].size == 48);
    lab_stats_t s = pt_stats(&h);
    size_t objects = 1 + s.free_blocks;
    CHECK("header, objects, tail, mapping", (size_t)n == 1 + objects + 1 + 1);
    CHECK("the tail is META",
          g[n - 2].kind == LAB_REGION_META && g[n - 2].start == (uintptr_t)a + objects * 48);
    CHECK("the large block is its mapping",
          g[n - 1].kind == LAB_REGION_BLOCK && g[n - 1].payload == big &&
              g[n - 1].start == (uintptr_t)big && g[n - 1].size == 3 * LAB_PAGE_SIZE);
    free(g);
    lab_heap_close(&h);
}

int main(void)
{
    one_class_one_slab();
    empty_slabs_are_pooled();
    large_blocks_are_mappings();
    bad_frees();
    checker_catches_corruption();
    walk_layout();
    return hk_test_summary();
}
