/*
 * test_pad.c -- focused tests of the pad policy (lab/pad.c): bump allocation, growth of
 * at least 8 KiB per call, no reuse, and bad-free detection through the stamps.
 */
#include "policy_test.h"

#include <stdint.h>
#include <string.h>

/* Consecutive requests are carved one after the other from the pad. */
static void bumps(size_t align)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "pad", align));
    char *a = lab_malloc(&h, 1), *b = lab_malloc(&h, 40);
    REQUIRE("mallocs", a && b);
    CHECK("aligned", (uintptr_t)a % align == 0 && (uintptr_t)b % align == 0);
    CHECK("b follows a", b == a + lab_usable_size(&h, a) + 16);
    CHECK("usable covers the request", lab_usable_size(&h, b) >= 40);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

/* The break moves by >= 8 KiB at a time, or by exactly a larger shortfall. */
static void grows_by_8k(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "pad", 16));
    REQUIRE("first", lab_malloc(&h, 1) != NULL);
    CHECK("one growth", h.mem.grow_calls == 1);
    CHECK("8 KiB pad", h.mem.brk >= 8192);
    for (int i = 0; i < 1000; i++)
        REQUIRE("small", lab_malloc(&h, 100) != NULL);
    CHECK("few growths", h.mem.grow_calls * 8192 <= h.mem.brk);
    size_t calls = h.mem.grow_calls;
    REQUIRE("large", lab_malloc(&h, 100000) != NULL);
    CHECK("one growth for a large block", h.mem.grow_calls == calls + 1);
    lab_stats_t s = pt_stats(&h);
    CHECK("pad reported as the free block", s.free_blocks <= 1 && s.free_bytes == s.largest_free);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

/* free never makes memory reusable, but the counters go back to zero. */
static void no_reuse(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "pad", 16));
    char *a = lab_malloc(&h, 64);
    REQUIRE("malloc", a != NULL);
    CHECK("free", lab_free(&h, a) == LAB_OK);
    char *b = lab_malloc(&h, 64);
    CHECK("not reused", b > a);
    CHECK("free b", lab_free(&h, b) == LAB_OK);
    CHECK("no live blocks", pt_nothing_live(&h));
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

static void bad_frees(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "pad", 16));
    char *a = lab_malloc(&h, 64), *b = lab_malloc(&h, 64);
    REQUIRE("mallocs", a && b);
    CHECK("interior", lab_free(&h, a + 32) != LAB_OK);
    CHECK("beyond the pad", lab_free(&h, b + 4096) != LAB_OK);
    size_t *stamp = pt_word_at(a, -8);
    CHECK("damaged stamp", pt_free_damaged(&h, a, stamp, *stamp ^ 0x100) == LAB_ERR_CORRUPT);
    CHECK("free", lab_free(&h, a) == LAB_OK);
    CHECK("double free", lab_free(&h, a) == LAB_ERR_DOUBLE_FREE);
    CHECK("usable of freed", lab_usable_size(&h, a) == 0);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

/* realloc (by copy in dispatch.c) keeps the content. */
static void realloc_copies(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "pad", 16));
    char *a = lab_malloc(&h, 10);
    REQUIRE("malloc", a != NULL);
    memcpy(a, "abcdefghi", 10);
    char *b = lab_realloc(&h, a, 5000);
    CHECK("content kept", b && memcmp(b, "abcdefghi", 10) == 0);
    CHECK("old block freed", lab_usable_size(&h, a) == 0);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

/* The walk: freed blocks are DEAD (never reused), live ones BLOCK, the pad one FREE. */
static void walk_layout(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "pad", 16));
    char *a = lab_malloc(&h, 100), *b = lab_malloc(&h, 50);
    REQUIRE("mallocs", a && b && lab_free(&h, a) == LAB_OK);
    lab_region_t g[8];
    CHECK("three regions", pt_walk(&h, g, 8) == 3);
    CHECK("a is dead", g[0].kind == LAB_REGION_DEAD && g[0].start == (uintptr_t)a - 16 &&
                           g[0].size == 128 && !g[0].payload);
    CHECK("b is a block", g[1].kind == LAB_REGION_BLOCK && g[1].payload == b && g[1].size == 80);
    CHECK("the pad is free, up to the break",
          g[2].kind == LAB_REGION_FREE && g[2].size == pt_stats(&h).free_bytes &&
              g[2].start + g[2].size == (uintptr_t)lab_mem_hi(&h.mem));
    lab_heap_close(&h);
}

int main(void)
{
    bumps(16);
    bumps(8);
    bumps(32);
    grows_by_8k();
    no_reuse();
    bad_frees();
    realloc_copies();
    walk_layout();
    return hk_test_summary();
}
