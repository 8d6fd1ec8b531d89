/*
 * test_list.c -- focused tests of the list policy (lab/list.c): tail splitting, first
 * fit, coalescing on both sides, growth at the top, in-place realloc, magic checks.
 */
#include "policy_test.h"

#include <stdint.h>
#include <string.h>

#define HDR 16 /* list.c's header: size and stamp */

/* End of the block whose payload is p: where the next block starts. */
static char *block_end(lab_heap_t *h, char *p) { return p + lab_usable_size(h, p); }

/* A split hands out the tail of the free block: the first block ends at the break,
 * and each later one ends where the previous one starts. */
static void split_returns_tail(size_t align)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "list", align));
    char *a = lab_malloc(&h, 100), *b = lab_malloc(&h, 50);
    REQUIRE("mallocs", a && b);
    CHECK("aligned", (uintptr_t)a % align == 0 && (uintptr_t)b % align == 0);
    CHECK("a is the tail of the heap", block_end(&h, a) == (char *)lab_mem_hi(&h.mem));
    CHECK("b just below a", block_end(&h, b) == a - HDR);
    lab_stats_t s = pt_stats(&h);
    CHECK("one free block below b", s.free_blocks == 1 && s.largest_free == s.free_bytes);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

/* Freeing three adjacent blocks, in every order, leaves one free block: the whole heap. */
static void coalesces_three(void)
{
    static const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                     {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    for (int o = 0; o < 6; o++) {
        lab_heap_t h;
        REQUIRE("open", pt_open(&h, "list", 16));
        char *p[3];
        for (int i = 0; i < 3; i++)
            REQUIRE("malloc", (p[i] = lab_malloc(&h, 64 + 32 * (size_t)i)) != NULL);
        for (int i = 0; i < 3; i++)
            CHECK("free", lab_free(&h, p[orders[o][i]]) == LAB_OK);
        lab_stats_t s = pt_stats(&h);
        size_t heap = (size_t)(lab_mem_hi(&h.mem) - lab_mem_lo(&h.mem));
        CHECK("one free block", s.free_blocks == 1 && s.free_bytes == heap);
        CHECK("nothing live", pt_nothing_live(&h));
        CHECK("clean", pt_heap_is_clean(&h));
        lab_heap_close(&h);
    }
}

/* Holes of 300, 100 and 200 bytes, lowest first: first fit takes the lowest that fits
 * (best fit would take the 100) and hands out its tail, so the rest of the hole stays
 * where it was and serves the next request. */
static void first_fit(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "list", 16));
    size_t sizes[3] = {200, 100, 300}; /* allocated downwards: the 300 ends lowest */
    char *hole[3], *end[3];
    for (int i = 0; i < 3; i++) {
        REQUIRE("hole", (hole[i] = lab_malloc(&h, sizes[i])) != NULL);
        end[i] = block_end(&h, hole[i]);
        REQUIRE("guard", lab_malloc(&h, 16) != NULL);
    }
    lab_stats_t s = pt_stats(&h);
    REQUIRE("one free block left below", s.free_blocks == 1);
    REQUIRE("filler takes it all", lab_malloc(&h, s.free_bytes - HDR) != NULL);
    CHECK("no free block left", pt_stats(&h).free_blocks == 0);
    for (int i = 0; i < 3; i++)
        CHECK("free hole", lab_free(&h, hole[i]) == LAB_OK);
    char *p = lab_malloc(&h, 90);
    CHECK("tail of the lowest hole that fits", p > hole[2] && block_end(&h, p) == end[2]);
    char *q = lab_malloc(&h, 150);
    CHECK("rest of that hole next", q > hole[2] && block_end(&h, q) == p - HDR);
    CHECK("three holes left", pt_stats(&h).free_blocks == 3);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

/* Growth extends a free block that ends at the break instead of starting a new one. */
static void grows_top_block(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "list", 16));
    char *a = lab_malloc(&h, 100);
    REQUIRE("malloc", a != NULL);
    CHECK("free", lab_free(&h, a) == LAB_OK); /* the whole heap is one free block */
    size_t before = h.mem.brk;
    char *big = lab_malloc(&h, 3 * before);
    REQUIRE("big", big != NULL);
    CHECK("big starts at the bottom", big - HDR == (char *)lab_mem_lo(&h.mem));
    CHECK("break moved by the shortfall only", h.mem.brk <= HDR + 3 * before + 16);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

static void realloc_in_place(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "list", 16));
    char *a = lab_malloc(&h, 200), *b = lab_malloc(&h, 200); /* b just below a */
    REQUIRE("mallocs", a && b);
    memset(b, 'b', 200);
    CHECK("shrink in place", lab_realloc(&h, b, 40) == b);
    CHECK("shrink freed the tail", lab_usable_size(&h, b) < 200);
    CHECK("free a", lab_free(&h, a) == LAB_OK);
    CHECK("grow into the free block above", lab_realloc(&h, b, 300) == b);
    char *top = b;
    CHECK("grow at the top of the heap", (top = lab_realloc(&h, b, 100000)) == b);
    CHECK("content kept", top && top[0] == 'b' && top[39] == 'b');
    CHECK("clean", pt_heap_is_clean(&h));
    char *c = lab_malloc(&h, 16);
    CHECK("free top", lab_free(&h, top) == LAB_OK && lab_free(&h, c) == LAB_OK);
    CHECK("nothing live", pt_nothing_live(&h));
    lab_heap_close(&h);
}

static void magic_checks(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "list", 16));
    char *a = lab_malloc(&h, 64), *b = lab_malloc(&h, 64);
    REQUIRE("mallocs", a && b);
    size_t *stamp = pt_word_at(a, -8);
    *stamp ^= 0x40;
    CHECK("bad magic is corrupt", lab_free(&h, a) == LAB_ERR_CORRUPT);
    CHECK("check sees it", pt_check_finds(&h, "L2:") > 0);
    *stamp ^= 0x40;
    size_t *size = pt_word_at(a, -16);
    CHECK("bad size is corrupt", pt_free_damaged(&h, a, size, *size + 3) == LAB_ERR_CORRUPT);
    CHECK("interior", lab_free(&h, a + 16) != LAB_OK);
    CHECK("free", lab_free(&h, a) == LAB_OK);
    CHECK("double free", lab_free(&h, a) == LAB_ERR_DOUBLE_FREE);
    CHECK("free b (merges a into it)", lab_free(&h, b) == LAB_OK);
    CHECK("double free after merge", lab_free(&h, a) == LAB_ERR_DOUBLE_FREE);
    CHECK("clean", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

int main(void)
{
    split_returns_tail(16);
    split_returns_tail(8);
    split_returns_tail(64);
    coalesces_three();
    first_fit();
    grows_top_block();
    realloc_in_place();
    magic_checks();
    return hk_test_summary();
}
