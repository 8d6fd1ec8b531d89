/*
 * test_dlist.c -- focused tests of dlist.c (DMMgr 4): coalescing, the four fits on a
 * crafted heap, the next-fit rover, in-place realloc, and bad-free detection.
 */
#include "policy_test.h"

#include <stdint.h>
#include <string.h>

static const char *const fits[] = {"dlist-first", "dlist-next", "dlist-best", "dlist-worst"};

/* Freeing three adjacent blocks, middle last, leaves one free block. */
static void coalesce_three(const char *name)
{
    lab_heap_t h;
    REQUIRE(name, pt_open(&h, name, 16));
    char *a = lab_malloc(&h, 100), *b = lab_malloc(&h, 200), *c = lab_malloc(&h, 300);
    char *guard = lab_malloc(&h, 10);
    REQUIRE("mallocs", a && b && c && guard);
    CHECK("free a", lab_free(&h, a) == LAB_OK);
    CHECK("free c", lab_free(&h, c) == LAB_OK);
    lab_stats_t s = pt_stats(&h);
    CHECK("two free blocks", s.free_blocks == 2);
    CHECK("free b", lab_free(&h, b) == LAB_OK);
    lab_stats(&h, &s);
    CHECK("one free block", s.free_blocks == 1 && s.largest_free == s.free_bytes);
    CHECK("it spans all three", s.free_bytes == (size_t)(guard - a));
    CHECK("one live block", s.live_blocks == 1);
    CHECK("clean", pt_heap_is_clean(&h));
    CHECK("free guard", lab_free(&h, guard) == LAB_OK);
    CHECK("nothing live", pt_nothing_live(&h));
    lab_heap_close(&h);
}

/*
 * Crafted heap, align 16: free blocks of 208, 112, 320 and 128 bytes separated by
 * live guards, freed in reverse so the LIFO list reads F1 F2 F3 F4.
 */
typedef struct crafted {
    lab_heap_t h;
    char      *f[4];
    char      *guard[4];
} crafted_t;

static int craft(crafted_t *c, const char *name)
{
    static const size_t payload[4] = {192, 96, 304, 112}; /* blocks 208, 112, 320, 128 */
    return pt_open(&c->h, name, 16) && pt_make_holes(&c->h, payload, 4, 16, c->f, c->guard, true);
}

/* A 112-byte request: first and next take F1, best takes F2 (exact), worst F3. */
static void fits_pick(void)
{
    static const int expect[4] = {0, 0, 1, 2};
    for (int v = 0; v < 4; v++) {
        crafted_t c;
        REQUIRE(fits[v], craft(&c, fits[v]));
        char *p = lab_malloc(&c.h, 96);
        CHECK(fits[v], p == c.f[expect[v]]);
        CHECK("clean after fit", pt_heap_is_clean(&c.h));
        lab_heap_close(&c.h);
    }
}

/* After a request only F3 fits, next fit resumes at F4 while first fit restarts at F1. */
static void next_fit_resumes(void)
{
    for (int v = 0; v < 2; v++) {
        crafted_t c;
        REQUIRE(fits[v], craft(&c, fits[v]));
        CHECK("only F3 fits", lab_malloc(&c.h, 304) == c.f[2]);
        char *p = lab_malloc(&c.h, 96);
        CHECK(fits[v], p == c.f[v == 0 ? 0 : 3]);
        lab_heap_close(&c.h);
    }
}

/* The rover survives the removal and merging of the block it points at. */
static void rover_survives_merges(void)
{
    crafted_t c;
    REQUIRE("craft", craft(&c, "dlist-next"));
    CHECK("take F3", lab_malloc(&c.h, 304) == c.f[2]); /* rover -> F4 */
    CHECK("merge F3's guard into F4", lab_free(&c.h, c.guard[2]) == LAB_OK);
    CHECK("clean after merge", pt_heap_is_clean(&c.h));
    CHECK("merge F4 and its guard", lab_free(&c.h, c.guard[3]) == LAB_OK);
    CHECK("clean after second merge", pt_heap_is_clean(&c.h));
    for (int i = 0; i < 8; i++)
        CHECK("malloc after merges", lab_malloc(&c.h, 40) != NULL);
    CHECK("clean at the end", pt_heap_is_clean(&c.h));
    lab_heap_close(&c.h);
}

/* Shrink splits, grow takes the next free block, and the top grows by the difference. */
static void realloc_in_place(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "dlist-best", 16));
    char *a = lab_malloc(&h, 500), *b = lab_malloc(&h, 500), *top = lab_malloc(&h, 100);
    REQUIRE("mallocs", a && b && top);
    memset(a, 'a', 500);
    CHECK("free b", lab_free(&h, b) == LAB_OK);
    CHECK("grow into b", lab_realloc(&h, a, 900) == a && a[499] == 'a');
    CHECK("shrink", lab_realloc(&h, a, 100) == a && a[99] == 'a');
    lab_stats_t s = pt_stats(&h);
    CHECK("shrink freed the tail", s.free_blocks == 1 && s.free_bytes >= 800);
    size_t before = lab_footprint(&h);
    CHECK("grow at the top", lab_realloc(&h, top, 4000) == top);
    CHECK("by the difference", lab_footprint(&h) - before == 4016 - 128);
    CHECK("clean", pt_heap_is_clean(&h));
    CHECK("free top", lab_free(&h, top) == LAB_OK); /* merges with a's free tail */
    lab_stats(&h, &s);
    CHECK("one free block at the top", s.free_blocks == 1);
    before = lab_footprint(&h);
    CHECK("malloc starts in the top block", lab_malloc(&h, 6000) == a + 128);
    CHECK("growth asks for the difference", lab_footprint(&h) - before == 6016 - s.free_bytes);
    lab_heap_close(&h);
}

/* Invalid frees are reported with the right error and change nothing. */
static void bad_frees(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "dlist-first", 16));
    char *a = lab_malloc(&h, 64), *b = lab_malloc(&h, 64), *c = lab_malloc(&h, 64);
    REQUIRE("mallocs", a && b && c);
    memset(b, 0, 64);
    CHECK("interior", lab_free(&h, b + 32) == LAB_ERR_MISALIGNED);
    size_t *footer = pt_word_at(b, 64), *header = pt_word_at(b, -8);
    CHECK("damaged footer", pt_free_damaged(&h, b, footer, *footer ^ 0x100) == LAB_ERR_CORRUPT);
    CHECK("damaged header",
          pt_free_damaged(&h, b, header, *header + 0x1000000) == LAB_ERR_CORRUPT);
    CHECK("clean after rejected frees", pt_heap_is_clean(&h));
    CHECK("free a", lab_free(&h, a) == LAB_OK);
    size_t *below = pt_word_at(b, -16); /* a's footer, now a free tag */
    size_t saved = *below;
    *below = saved + 4096;
    CHECK("damaged free neighbour", lab_free(&h, b) == LAB_ERR_CORRUPT);
    CHECK("realloc refuses too", lab_realloc(&h, b, 200) == NULL);
    *below = saved;
    CHECK("free b", lab_free(&h, b) == LAB_OK);
    CHECK("double free", lab_free(&h, b) == LAB_ERR_DOUBLE_FREE);
    CHECK("double free of a merged block", lab_free(&h, a) == LAB_ERR_DOUBLE_FREE);
    CHECK("usable_size of freed", lab_usable_size(&h, a) == 0);
    CHECK("clean at the end", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

/* Align 8: block sizes are multiples of 8, payloads 8-aligned, usable = block - 16. */
static void align_8(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "dlist-first", 8));
    char *p = lab_malloc(&h, 20), *q = lab_malloc(&h, 20);
    REQUIRE("mallocs", p && q);
    CHECK("aligned", (uintptr_t)p % 8 == 0 && (uintptr_t)q % 8 == 0);
    CHECK("8-byte rounding", q - p == 40 && lab_usable_size(&h, p) == 24);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

/* The checker names the invariant it finds broken: D1 for a free block the list
 * does not link both ways, T3 (tagheap.h) for a free block whose footer != header. */
static void checker_ids(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "dlist-first", 16));
    pt_free_list_checker_ids(&h, "D1");
    lab_heap_close(&h);
}

/* The walk of tagheap.h: prologue and epilogue are 8-byte META regions around the blocks. */
static void walk_layout(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "dlist-best", 16));
    char *a = lab_malloc(&h, 100), *b = lab_malloc(&h, 100);
    REQUIRE("mallocs", a && b && lab_free(&h, a) == LAB_OK);
    lab_region_t g[8];
    REQUIRE("prologue, free a, b, epilogue", pt_walk(&h, g, 8) == 4);
    CHECK("prologue", g[0].kind == LAB_REGION_META && g[0].size == 8 &&
                          g[0].start == (uintptr_t)lab_mem_lo(&h.mem));
    CHECK("a is free from its header", g[1].kind == LAB_REGION_FREE &&
                                           g[1].start == (uintptr_t)a - 8 && g[1].size == 128);
    CHECK("b is a block", g[2].kind == LAB_REGION_BLOCK && g[2].payload == b);
    CHECK("epilogue", g[3].kind == LAB_REGION_META && g[3].size == 8 &&
                          g[3].start + 8 == (uintptr_t)lab_mem_hi(&h.mem));
    lab_heap_close(&h);
}

int main(void)
{
    for (int v = 0; v < 4; v++)
        coalesce_three(fits[v]);
    fits_pick();
    next_fit_resumes();
    rover_survives_merges();
    realloc_in_place();
    bad_frees();
    align_8();
    checker_ids();
    walk_layout();
    return hk_test_summary();
}
