/*
 * test_gnu.c -- the gnu policy (lab/gnu.c): the mmap threshold, coalescing, best fit,
 * realloc in place, trimming the top, and the validation of bad frees.
 */
#include "policy_test.h"

#include <stdint.h>
#include <string.h>

/* Requests at or above the threshold get a mapping; below it they come from the region. */
static void test_threshold(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "gnu", 16));
    size_t threshold = h.cfg.mmap_threshold;
    char *below = lab_malloc(&h, threshold - 1);
    CHECK("below: region",
          below && h.mem.map_calls == 0 && lab_mem_find_mapping(&h.mem, below) == NULL);
    char *at = lab_malloc(&h, threshold);
    CHECK("at: mapped", at && h.mem.map_calls == 1 && lab_mem_find_mapping(&h.mem, at) != NULL);
    CHECK("mapped chunk is aligned", ((uintptr_t)at & 15) == 0);
    CHECK("checks clean", pt_heap_is_clean(&h));
    CHECK("free mapped unmaps", lab_free(&h, at) == LAB_OK && h.mem.mapped == 0);
    CHECK("free region chunk", lab_free(&h, below) == LAB_OK && h.mem.unmap_calls == 1);
    CHECK("counters back to 0", pt_nothing_live(&h));
    lab_heap_close(&h);
}

/* Freeing three neighbours in any order leaves one free chunk, reused whole. */
static void test_coalesce(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "gnu", 16));
    char *a = lab_malloc(&h, 1000), *b = lab_malloc(&h, 1000), *c = lab_malloc(&h, 1000);
    char *guard = lab_malloc(&h, 10); /* keeps c from melting into the top */
    REQUIRE("mallocs", a && b && c && guard);
    lab_free(&h, a);
    lab_free(&h, c);
    lab_stats_t s = pt_stats(&h);
    CHECK("two holes and the top", s.free_blocks == 3);
    CHECK("free b", lab_free(&h, b) == LAB_OK);
    lab_stats(&h, &s);
    CHECK("one hole and the top", s.free_blocks == 2);
    CHECK("checks clean", pt_heap_is_clean(&h));
    /* The hole runs from a's chunk to guard's: exactly guard - a bytes, 8 of them header. */
    CHECK("reused whole", lab_malloc(&h, (size_t)(guard - a) - 8) == a);
    lab_stats(&h, &s);
    CHECK("only the top is left free", s.free_blocks == 1);
    lab_heap_close(&h);
}

/* The smallest hole that fits wins, whatever the order the holes were made in. */
static void test_best_fit(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "gnu", 16));
    char *big = lab_malloc(&h, 3000), *g1 = lab_malloc(&h, 8);
    char *mid = lab_malloc(&h, 2000), *g2 = lab_malloc(&h, 8);
    char *small = lab_malloc(&h, 1500), *g3 = lab_malloc(&h, 8);
    REQUIRE("mallocs", big && g1 && mid && g2 && small && g3);
    lab_free(&h, big);
    lab_free(&h, small);
    lab_free(&h, mid);
    /* Requests within min_chunk of a hole take it whole, so no remainder competes below. */
    CHECK("1490 goes to the 1500 hole", lab_malloc(&h, 1490) == small);
    CHECK("1990 goes to the 2000 hole", lab_malloc(&h, 1990) == mid);
    CHECK("40 splits the 3000 hole", lab_malloc(&h, 40) == big);
    CHECK("checks clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

/* Realloc stays in place when it can: shrink, grow into a free neighbour or the top. */
static void test_realloc_in_place(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "gnu", 8));
    char *a = lab_malloc(&h, 100), *b = lab_malloc(&h, 500), *c = lab_malloc(&h, 100);
    REQUIRE("mallocs", a && b && c);
    memset(a, 'a', 100);
    lab_free(&h, b);
    CHECK("grow into the free neighbour", lab_realloc(&h, a, 400) == a && a[99] == 'a');
    CHECK("shrink in place", lab_realloc(&h, a, 50) == a && lab_usable_size(&h, a) < 100);
    memset(c, 'c', 100);
    size_t grows = h.mem.grow_calls;
    CHECK("grow into the top, growing the region",
          lab_realloc(&h, c, 100000) == c && c[99] == 'c' && h.mem.grow_calls > grows);
    CHECK("checks clean", pt_heap_is_clean(&h));
    char *m = lab_malloc(&h, 200000);
    REQUIRE("mapped", m != NULL);
    m[0] = 'm';
    size_t remaps = h.mem.remap_calls;
    m = lab_realloc(&h, m, 400000);
    CHECK("mapped chunks grow by remap",
          m && m[0] == 'm' && h.mem.remap_calls == remaps + 1 && h.mem.map_count == 1);
    CHECK("checks clean after remap", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

/* A big top is given back to the region once everything is freed. */
static void test_trim(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "gnu", 16));
    size_t empty = lab_footprint(&h);
    char *p[100];
    for (int i = 0; i < 100; i++)
        p[i] = lab_malloc(&h, 10000);
    CHECK("region grew", lab_footprint(&h) > 100 * 10000);
    for (int i = 0; i < 100; i++)
        lab_free(&h, p[i]);
    CHECK("trimmed back", lab_footprint(&h) < empty + 2 * LAB_PAGE_SIZE);
    CHECK("checks clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

/* Bad frees return an error, leave the heap as it was, and check() spots damage. */
static void test_bad_frees(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "gnu", 16));
    char *a = lab_malloc(&h, 100), *b = lab_malloc(&h, 100), *c = lab_malloc(&h, 100);
    REQUIRE("mallocs", a && b && c);
    memset(b, 0x5a, 100);
    CHECK("interior pointer", lab_free(&h, b + 32) != LAB_OK);
    CHECK("before the first chunk", lab_free(&h, (char *)lab_mem_lo(&h.mem)) == LAB_ERR_MISALIGNED);
    CHECK("inside the top", lab_free(&h, c + 512) != LAB_OK);
    CHECK("free a", lab_free(&h, a) == LAB_OK);
    CHECK("free b coalesces with a", lab_free(&h, b) == LAB_OK);
    CHECK("double free after coalescing", lab_free(&h, b) == LAB_ERR_DOUBLE_FREE);
    CHECK("double free of the merged chunk", lab_free(&h, a) == LAB_ERR_DOUBLE_FREE);
    size_t *hdr = pt_word_at(c, -8), saved = *hdr;
    *hdr = saved + 4096; /* damaged size: runs past the top */
    CHECK("damaged header", lab_free(&h, c) == LAB_ERR_CORRUPT);
    CHECK("check reports G1", pt_check_finds(&h, "G1:") > 0);
    *hdr = saved;
    CHECK("heap intact", pt_heap_is_clean(&h));
    CHECK("free c", lab_free(&h, c) == LAB_OK);
    lab_stats_t s = pt_stats(&h);
    CHECK("empty", s.live_blocks == 0 && s.block_bytes == 0 && s.free_blocks == 1);
    lab_heap_close(&h);
}

/* A damaged link in a sorted range bin: check() reports G6, and a malloc or free that
 * walks that bin stops at the link instead of following it out of the heap. */
static void test_damaged_bin_link(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "gnu", 16));
    char *a = lab_malloc(&h, 2000), *x = lab_malloc(&h, 100), *b = lab_malloc(&h, 1950);
    char *y = lab_malloc(&h, 100), *c = lab_malloc(&h, 1990), *z = lab_malloc(&h, 100);
    REQUIRE("mallocs", a && x && b && y && c && z);
    CHECK("free a", lab_free(&h, a) == LAB_OK);
    CHECK("free b", lab_free(&h, b) == LAB_OK); /* one bin, sorted: b (1968), a (2016) */
    char **link = (char **)(void *)b, *saved = *link;
    REQUIRE("b links to a", saved == a);
    *link = (char *)16; /* outside the heap */
    CHECK("check reports G6", pt_check_finds(&h, "G6:") > 0);
    char *d = lab_malloc(&h, 2040); /* walks the bin past b, stops at the damaged link */
    CHECK("malloc past the damage", d != NULL && d != a && d != b);
    /* c goes in front of the bin: nothing is written through the damaged link */
    CHECK("free into the damaged bin", lab_free(&h, c) == LAB_OK);
    CHECK("the damage is still reported", pt_check_finds(&h, "G6:") > 0);
    lab_heap_close(&h);
}

/* The walk: the pad META, chunks from their header, the top FREE at the break, a mapped
 * chunk one BLOCK whose payload follows the pad and header. */
static void walk_layout(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "gnu", 16));
    char *a = lab_malloc(&h, 100), *big = lab_malloc(&h, 200000);
    REQUIRE("mallocs", a && big);
    lab_region_t g[8];
    REQUIRE("pad, a, top, mapping", pt_walk(&h, g, 8) == 4);
    CHECK("pad", g[0].kind == LAB_REGION_META && g[0].size == 8);
    CHECK("a from its header",
          g[1].kind == LAB_REGION_BLOCK && g[1].payload == a && g[1].start == (uintptr_t)a - 8);
    CHECK("the top",
          g[2].kind == LAB_REGION_FREE && g[2].start + g[2].size == (uintptr_t)lab_mem_hi(&h.mem));
    CHECK("the mapped chunk", g[3].kind == LAB_REGION_BLOCK && g[3].payload == big &&
                                  g[3].start == (uintptr_t)big - 16 &&
                                  g[3].size == lab_mem_round_page(200000 + 16));
    lab_heap_close(&h);
}

int main(void)
{
    test_threshold();
    test_coalesce();
    test_best_fit();
    test_realloc_in_place();
    test_trim();
    test_bad_frees();
    test_damaged_bin_link();
    walk_layout();
    return hk_test_summary();
}
