/*
 * test_segfit.c -- focused tests of segfit.c (CS:APP segregated fits): the class a size
 * falls in, first fit inside a class, the jump to a higher class, coalescing, in-place
 * realloc, and bad frees.
 */
#include "policy_test.h"

#include <string.h>

/* Class k holds blocks of [2^(k+5), 2^(k+6)) bytes: a request is served from its own
 * class when a block there fits, else from a higher class, never from a lower one. */
static void classes(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "segfit", 16));
    static const size_t sizes[3] = {96, 300, 40}; /* blocks 112 [64,128), 320 [256,512), 64 */
    char *f[3];
    /* each hole has a live guard above it; freed in order */
    REQUIRE("craft", pt_make_holes(&h, sizes, 3, 8, f, NULL, false));
    /* class [64,128) lists the 64 and then the 112 (newest first) */
    CHECK("a 64-byte block: its class", lab_malloc(&h, 48) == f[2]);
    CHECK("a 112-byte block: its class", lab_malloc(&h, 96) == f[0]);
    CHECK("a 224-byte block: [128,256) is empty, so [256,512)", lab_malloc(&h, 200) == f[1]);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

/* Inside a class the first block that fits is taken, not the best one. */
static void first_fit_in_class(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "segfit", 16));
    static const size_t sizes[2] = {64, 96}; /* blocks 80 and 112, both [64,128) */
    char *f[2];
    REQUIRE("craft", pt_make_holes(&h, sizes, 2, 8, f, NULL, false));
    CHECK("first fit takes the 112 (listed first)", lab_malloc(&h, 64) == f[1]);
    CHECK("then the 80", lab_malloc(&h, 64) == f[0]);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

static void coalesce_three(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "segfit", 8));
    char *a = lab_malloc(&h, 20), *b = lab_malloc(&h, 700), *c = lab_malloc(&h, 5000);
    char *guard = lab_malloc(&h, 10);
    REQUIRE("mallocs", a && b && c && guard);
    CHECK("free a", lab_free(&h, a) == LAB_OK);
    CHECK("free c", lab_free(&h, c) == LAB_OK);
    CHECK("free b", lab_free(&h, b) == LAB_OK);
    lab_stats_t s = pt_stats(&h);
    CHECK("one free block", s.free_blocks == 1 && s.free_bytes == (size_t)(guard - a));
    CHECK("largest free", s.largest_free == s.free_bytes);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

static void realloc_in_place(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "segfit", 16));
    char *a = lab_malloc(&h, 100), *b = lab_malloc(&h, 100);
    REQUIRE("mallocs", a && b);
    memset(a, 'y', 100);
    size_t before = lab_footprint(&h);
    CHECK("free b", lab_free(&h, b) == LAB_OK);
    CHECK("grow into b and the top", lab_realloc(&h, a, 1000) == a && a[99] == 'y');
    CHECK("by the difference", lab_footprint(&h) - before == 1024 - 256);
    CHECK("shrink", lab_realloc(&h, a, 10) == a && a[9] == 'y');
    lab_stats_t s = pt_stats(&h);
    CHECK("tail freed", s.free_blocks == 1 && s.block_bytes == 32);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

/* The search of a class is capped; a fitting top block beyond the cap is still used
 * instead of growing the heap. */
static void capped_search_finds_top(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "segfit", 16));
    enum { N = 40 };
    char *small[N];
    for (int i = 0; i < N; i++)
        REQUIRE("fill", (small[i] = lab_malloc(&h, 1024)) && lab_malloc(&h, 8)); /* 1040 */
    char *top = lab_malloc(&h, 1900);                                             /* 1920 */
    REQUIRE("top", top != NULL);
    CHECK("free top", lab_free(&h, top) == LAB_OK); /* listed first, so searched last */
    for (int i = 0; i < N; i++)
        CHECK("free small", lab_free(&h, small[i]) == LAB_OK);
    size_t before = lab_footprint(&h);
    CHECK("top block reused", lab_malloc(&h, 1800) == top);
    CHECK("heap did not grow", lab_footprint(&h) == before);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

static void bad_frees(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "segfit", 16));
    char *a = lab_malloc(&h, 48), *b = lab_malloc(&h, 48);
    REQUIRE("mallocs", a && b);
    size_t *footer = pt_word_at(a, 48);
    CHECK("damaged footer", pt_free_damaged(&h, a, footer, *footer + 16) == LAB_ERR_CORRUPT);
    CHECK("interior", lab_free(&h, a + 16) != LAB_OK);
    CHECK("free", lab_free(&h, a) == LAB_OK);
    CHECK("double free", lab_free(&h, a) == LAB_ERR_DOUBLE_FREE);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

/* The checker names the invariant it finds broken: S1 for a free block the classes
 * does not link both ways, T3 (tagheap.h) for a free block whose footer != header. */
static void checker_ids(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "segfit", 16));
    pt_free_list_checker_ids(&h, "S1");
    lab_heap_close(&h);
}

int main(void)
{
    classes();
    first_fit_in_class();
    coalesce_three();
    realloc_in_place();
    capped_search_finds_top();
    bad_frees();
    checker_ids();
    return hk_test_summary();
}
