/*
 * test_buddy.c -- focused tests of the buddy policy through dispatch.c: block sizes are
 * powers of two at buddy-aligned offsets, freed buddies merge back into their parent,
 * blocks grow in place into a free upper buddy, and bad frees are refused.
 */
#include "policy_test.h"

#include <stdint.h>
#include <string.h>

static bool is_power_of_two(size_t n)
{
    return n && !(n & (n - 1));
}

/* usable + header is a power of two, and the block sits at a multiple of its size. */
static void sizes_are_powers_of_two(size_t align)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "buddy", align));
    for (size_t n = 1; n <= 5000; n += 37) {
        uint8_t *p = lab_malloc(&h, n);
        REQUIRE("malloc", p != NULL);
        size_t block = lab_usable_size(&h, p) + align;
        size_t off = (size_t)(p - align - h.mem.base);
        CHECK("power of two", is_power_of_two(block) && block >= n + align);
        CHECK("smallest order", block / 2 < n + align || block == 32);
        CHECK("buddy aligned", off % block == 0);
        CHECK("payload aligned", (uintptr_t)p % align == 0);
        lab_free(&h, p);
    }
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

static void buddies_coalesce(void)
{
    lab_heap_t h;
    lab_stats_t s0, s1, s2;
    REQUIRE("open", pt_open(&h, "buddy", 16));
    uint8_t *a = lab_malloc(&h, 100), *b = lab_malloc(&h, 100); /* two order-7 blocks */
    REQUIRE("malloc", a && b);
    CHECK("b is a's buddy", b == a + 128);
    lab_stats(&h, &s0);
    CHECK("one page, split", h.mem.brk == 4096 && s0.live_blocks == 2 && s0.block_bytes == 256);
    CHECK("free a", lab_free(&h, a) == LAB_OK);
    lab_stats(&h, &s1);
    CHECK("a stays alone while b lives", s1.free_blocks == s0.free_blocks + 1);
    CHECK("free b", lab_free(&h, b) == LAB_OK);
    lab_stats(&h, &s2);
    CHECK("everything merged into the page",
          s2.free_blocks == 1 && s2.free_bytes == 4096 && s2.largest_free == 4096);
    CHECK("no live bytes", s2.live_blocks == 0 && s2.block_bytes == 0);
    CHECK("double free of a merged buddy", lab_free(&h, b) == LAB_ERR_DOUBLE_FREE);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

static void realloc_in_place(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "buddy", 16));
    uint8_t *a = lab_malloc(&h, 100);
    REQUIRE("malloc", a != NULL);
    memset(a, 0x5a, 100);
    CHECK("grows into the free upper buddies", lab_realloc(&h, a, 900) == a);
    CHECK("usable is 1024 - 16", lab_usable_size(&h, a) == 1008);
    CHECK("content kept", a[0] == 0x5a && a[99] == 0x5a);
    CHECK("shrinks in place", lab_realloc(&h, a, 10) == a && lab_usable_size(&h, a) == 16);
    uint8_t *b = lab_malloc(&h, 10); /* a's buddy: a can no longer grow in place */
    CHECK("buddy taken", b == a + 32);
    uint8_t *c = lab_realloc(&h, a, 100);
    CHECK("moves when the buddy is live", c && c != a && c[0] == 0x5a);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

static void growth_and_large(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "buddy", 16));
    uint8_t *small = lab_malloc(&h, 5000); /* 8 KiB at 0 */
    uint8_t *big = lab_malloc(&h, 300000); /* 512 KiB: region padded to 512 KiB first */
    REQUIRE("malloc", small && big);
    CHECK("large block aligned to its size", (size_t)(big - 16 - h.mem.base) % (512 << 10) == 0);
    CHECK("footprint is the sum of blocks", h.mem.brk == (size_t)1 << 20);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_free(&h, small);
    lab_free(&h, big);
    lab_stats_t s = pt_stats(&h);
    CHECK("all merged back", s.free_blocks == 1 && s.largest_free == (size_t)1 << 20);
    lab_heap_close(&h);
}

static void bad_frees(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "buddy", 16));
    uint8_t *a = lab_malloc(&h, 200), *b = lab_malloc(&h, 40);
    REQUIRE("malloc", a && b);
    CHECK("interior, off the grid", lab_free(&h, a + 16) == LAB_ERR_MISALIGNED);
    CHECK("interior, on the grid", lab_free(&h, a + 32) == LAB_ERR_MISALIGNED);
    CHECK("heap base", lab_free(&h, h.mem.base) == LAB_ERR_MISALIGNED);
    CHECK("free b", lab_free(&h, b) == LAB_OK);
    CHECK("double free", lab_free(&h, b) == LAB_ERR_DOUBLE_FREE);
    CHECK("usable of freed", lab_usable_size(&h, b) == 0);
    CHECK("clean", pt_heap_is_clean(&h));
    CHECK("free a", lab_free(&h, a) == LAB_OK);
    lab_heap_close(&h);
}

/* The checker notices a damaged tag (white box: the tag is the word before the header's
 * end, order in its low byte, as drawn in buddy.c). */
static void checker_catches_corruption(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "buddy", 16));
    uint8_t *a = lab_malloc(&h, 100);
    REQUIRE("malloc", a != NULL);
    uint64_t *tag = (uint64_t *)(void *)(a - 16);
    *tag ^= 1; /* order 7 -> 6: the walk finds no block at offset 64 */
    CHECK("damaged order reported", pt_check_finds(&h, "D1") > 0);
    *tag ^= 1;
    CHECK("clean again", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

/* The walk: headers are inside the blocks, so there is no META; every region is a
 * power-of-two block at an offset that is a multiple of its size. */
static void walk_layout(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "buddy", 16));
    char *p[6];
    for (int i = 0; i < 6; i++)
        REQUIRE("malloc", (p[i] = lab_malloc(&h, 10 + (size_t)i * 700)) != NULL);
    CHECK("free", lab_free(&h, p[1]) == LAB_OK && lab_free(&h, p[4]) == LAB_OK);
    lab_region_t g[64];
    long n = pt_walk(&h, g, 64);
    REQUIRE("regions", n > 0 && n <= 64);
    bool buddies = true;
    for (long i = 0; i < n; i++) {
        size_t off = g[i].start - (uintptr_t)lab_mem_lo(&h.mem);
        buddies &= g[i].kind != LAB_REGION_META && (g[i].size & (g[i].size - 1)) == 0 &&
                   off % g[i].size == 0;
    }
    CHECK("power-of-two blocks, no META", buddies);
    lab_heap_close(&h);
}

int main(void)
{
    sizes_are_powers_of_two(16);
    sizes_are_powers_of_two(8);
    buddies_coalesce();
    realloc_in_place();
    growth_and_large();
    bad_frees();
    checker_catches_corruption();
    walk_layout();
    return hk_test_summary();
}
