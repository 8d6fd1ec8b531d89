/*
 * test_pagemeta.c -- focused tests of the pagemeta policy through dispatch.c: blocks
 * carry no header (usable size is the class size, neighbours are one class apart),
 * bad frees are caught from the page table alone, and page runs merge and grow in place.
 */
#include "policy_test.h"

#include <stdint.h>
#include <string.h>

static void usable_is_class_size(void)
{
    static const size_t want[][2] = {{1, 16},      {16, 16},     {17, 32},     {128, 128},
                                     {129, 160},   {1000, 1024}, {1025, 1360}, {1361, 2048},
                                     {2048, 2048}, {2049, 4096}, {9000, 12288}};
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "pagemeta", 16));
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        void *p = lab_malloc(&h, want[i][0]);
        CHECK("class size", p && lab_usable_size(&h, p) == want[i][1]);
        lab_free(&h, p);
    }
    uint8_t *a = lab_malloc(&h, 40), *b = lab_malloc(&h, 40);
    CHECK("no header between neighbours", b == a + 48);
    CHECK("page table mapped from the memory source", h.mem.map_count == 1 && h.mem.mapped > 0);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

static void align_8_classes(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "pagemeta", 8));
    uint8_t *a = lab_malloc(&h, 20), *b = lab_malloc(&h, 20);
    CHECK("24-byte class", a && b == a + 24 && lab_usable_size(&h, a) == 24);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

static void bad_frees(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "pagemeta", 16));
    uint8_t *a = lab_malloc(&h, 48), *big = lab_malloc(&h, 3 * 4096);
    uint8_t *gone = lab_malloc(&h, 4096);
    REQUIRE("malloc", a && big && gone);
    CHECK("interior of a small block", lab_free(&h, a + 16) == LAB_ERR_MISALIGNED);
    CHECK("interior of a large block", lab_free(&h, big + 64) == LAB_ERR_MISALIGNED);
    CHECK("tail page of a large block", lab_free(&h, big + 4096) == LAB_ERR_MISALIGNED);
    CHECK("free a", lab_free(&h, a) == LAB_OK);
    CHECK("double free", lab_free(&h, a) == LAB_ERR_DOUBLE_FREE);
    CHECK("usable of freed", lab_usable_size(&h, a) == 0);
    CHECK("free gone", lab_free(&h, gone) == LAB_OK);
    CHECK("page that holds no block", lab_free(&h, gone) == LAB_ERR_DOUBLE_FREE);
    CHECK("the page table itself", lab_free(&h, (void *)h.mem.maps[0].addr) == LAB_ERR_FOREIGN);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

static void runs_merge_and_grow(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "pagemeta", 16));
    uint8_t *a = lab_malloc(&h, 2 * 4096), *b = lab_malloc(&h, 3 * 4096);
    uint8_t *c = lab_malloc(&h, 4096);
    REQUIRE("malloc", a && b == a + 2 * 4096 && c == b + 3 * 4096);
    lab_free(&h, a);
    lab_free(&h, b);
    lab_stats_t s = pt_stats(&h);
    CHECK("neighbour runs merged", s.free_blocks == 1 && s.largest_free == 5 * 4096);
    CHECK("first fit reuses the merged run", lab_malloc(&h, 4 * 4096) == a);
    memset(c, 3, 4096);
    uint8_t *d = lab_realloc(&h, c, 10 * 4096);
    CHECK("grows in place at the top", d == c && d[4095] == 3);
    CHECK("shrinks in place", lab_realloc(&h, d, 5000) == d && lab_usable_size(&h, d) == 8192);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

/* The checker notices a damaged page-table entry (white box: the table is the heap's only
 * mapping and `kind` is the first byte of each entry, as drawn in pagemeta.c). */
static void checker_catches_corruption(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "pagemeta", 16));
    uint8_t *p = lab_malloc(&h, 3 * 4096);
    REQUIRE("malloc", p != NULL && h.mem.map_count == 1);
    uint8_t *kind = (uint8_t *)h.mem.maps[0].addr + 56; /* page 1: a LARGE_TAIL page */
    uint8_t saved = *kind;
    *kind = 1; /* SMALL inside a run */
    CHECK("broken run reported", pt_check_finds(&h, "P2") > 0);
    *kind = saved;
    CHECK("clean again", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

/* The walk: objects one by one (a page's tail, if any, META), runs whole, and last the
 * page table's own mapping, META. */
static void walk_layout(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "pagemeta", 16));
    char *a = lab_malloc(&h, 1000), *big = lab_malloc(&h, 3 * 4096 + 1);
    REQUIRE("mallocs", a && big);
    lab_region_t g[16];
    long n = pt_walk(&h, g, 16);
    REQUIRE("a page of 4 objects, a run, the table", n == 6);
    CHECK("object", g[0].kind == LAB_REGION_BLOCK && g[0].payload == a && g[0].size == 1024);
    CHECK("free objects", g[1].kind == LAB_REGION_FREE && g[3].kind == LAB_REGION_FREE);
    CHECK("no tail: 1 KiB objects fill the page", g[4].kind == LAB_REGION_BLOCK);
    CHECK("the run", g[4].payload == big && g[4].size == 4 * LAB_PAGE_SIZE);
    CHECK("the table is META, in a mapping",
          g[5].kind == LAB_REGION_META &&
              lab_mem_in_mapping(&h.mem, (void *)g[5].start, g[5].size));
    CHECK("free the run", lab_free(&h, big) == LAB_OK && pt_walk(&h, g, 16) == 6);
    CHECK("a free run", g[4].kind == LAB_REGION_FREE && g[4].size == 4 * LAB_PAGE_SIZE);
    lab_heap_close(&h);
}

int main(void)
{
    usable_is_class_size();
    align_8_classes();
    bad_frees();
    runs_merge_and_grow();
    checker_catches_corruption();
    walk_layout();
    return hk_test_summary();
}
