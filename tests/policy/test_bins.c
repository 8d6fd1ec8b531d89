/*
 * test_bins.c -- focused tests of bins.c (DMMgr 5): exact-size reuse, best fit in the
 * range bins, coalescing, in-place realloc, bad frees, and a long range bin.
 */
#include "policy_test.h"

#include <string.h>

/* A freed small block comes back for the same size, even when a larger one was freed
 * after it (a LIFO list would hand out the larger one). */
static void exact_reuse(size_t align)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "bins", align));
    char *p[6];
    for (int i = 0; i < 6; i++)
        p[i] = lab_malloc(&h, i % 2 ? 8 : (size_t)(100 + 200 * i)); /* odd: guards */
    REQUIRE("mallocs", p[0] && p[2] && p[4] && p[5]);
    CHECK("free 100", lab_free(&h, p[0]) == LAB_OK);
    CHECK("free 500", lab_free(&h, p[2]) == LAB_OK);
    CHECK("free 900", lab_free(&h, p[4]) == LAB_OK);
    CHECK("same size, same block", lab_malloc(&h, 100) == p[0]);
    CHECK("500 back", lab_malloc(&h, 500) == p[2]);
    CHECK("no exact block: the next bin up", lab_malloc(&h, 600) == p[4]);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

/* Above 1 KiB the bins hold ranges, and the smallest block that fits is taken. */
static void best_fit_in_range_bin(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "bins", 16));
    static const size_t sizes[4] = {2400, 2100, 2900, 2200};
    char *f[4];
    REQUIRE("holes", pt_make_holes(&h, sizes, 4, 8, f, NULL, false));
    CHECK("best fit", lab_malloc(&h, 2050) == f[1]);
    CHECK("next best", lab_malloc(&h, 2050) == f[3]);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

static void coalesce_three(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "bins", 16));
    char *a = lab_malloc(&h, 100), *b = lab_malloc(&h, 2000), *c = lab_malloc(&h, 30);
    char *guard = lab_malloc(&h, 10);
    REQUIRE("mallocs", a && b && c && guard);
    CHECK("free c", lab_free(&h, c) == LAB_OK);
    CHECK("free a", lab_free(&h, a) == LAB_OK);
    CHECK("free b", lab_free(&h, b) == LAB_OK);
    lab_stats_t s = pt_stats(&h);
    CHECK("one free block", s.free_blocks == 1 && s.free_bytes == (size_t)(guard - a));
    CHECK("largest free", s.largest_free == s.free_bytes);
    CHECK("it is reused whole", lab_malloc(&h, (size_t)(guard - a) - 16) == a);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

static void realloc_in_place(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "bins", 16));
    char *a = lab_malloc(&h, 200), *b = lab_malloc(&h, 3000), *c = lab_malloc(&h, 8);
    REQUIRE("mallocs", a && b && c);
    memset(a, 'x', 200);
    CHECK("free b", lab_free(&h, b) == LAB_OK);
    CHECK("grow into b", lab_realloc(&h, a, 3100) == a && a[199] == 'x');
    CHECK("shrink", lab_realloc(&h, a, 50) == a && a[49] == 'x');
    size_t before = lab_footprint(&h);
    CHECK("grow the top block", lab_realloc(&h, c, 10000) == c);
    CHECK("by the difference", lab_footprint(&h) - before == 10016 - 32);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

static void bad_frees(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "bins", 16));
    char *a = lab_malloc(&h, 48), *b = lab_malloc(&h, 48);
    REQUIRE("mallocs", a && b);
    CHECK("damaged footer", pt_free_damaged(&h, a, pt_word_at(a, 48), 0) == LAB_ERR_CORRUPT);
    CHECK("free", lab_free(&h, a) == LAB_OK);
    CHECK("double free", lab_free(&h, a) == LAB_ERR_DOUBLE_FREE);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

/* Many free blocks in one range bin, all a little too small: the search is capped,
 * so a malloc costs the same, and the heap stays consistent. */
static void long_range_bin(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "bins", 16));
    enum { N = 5000 };
    static char *p[N];
    for (int i = 0; i < N; i++)
        REQUIRE("fill", (p[i] = lab_malloc(&h, 1100)) && lab_malloc(&h, 8));
    int freed = 0, served = 0;
    for (int i = 0; i < N; i++)
        freed += lab_free(&h, p[i]) == LAB_OK;
    lab_stats_t s = pt_stats(&h);
    CHECK("all in the lists", freed == N && s.free_blocks == N);
    for (int i = 0; i < 1000; i++)
        served += lab_malloc(&h, 1200) != NULL;
    CHECK("larger requests", served == 1000);
    CHECK("exact request reuses", lab_malloc(&h, 1100) == p[N - 1]);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

/* The checker names the invariant it finds broken: B1 for a free block the bins
 * does not link both ways, T3 (tagheap.h) for a free block whose footer != header. */
static void checker_ids(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "bins", 16));
    pt_free_list_checker_ids(&h, "B1");
    lab_heap_close(&h);
}

int main(void)
{
    exact_reuse(16);
    exact_reuse(8);
    best_fit_in_range_bin();
    coalesce_three();
    realloc_in_place();
    bad_frees();
    long_range_bin();
    checker_ids();
    return hk_test_summary();
}
