/*
 * test_implicit.c -- focused tests of the implicit free list (lab/implicit.c): the three
 * fits on a crafted heap, immediate coalescing, the rover across merges, in-place
 * realloc and the header checks of free.
 */
#include "policy_test.h"

#include <stdint.h>
#include <string.h>

extern const lab_policy_t lab_policy_implicit_first, lab_policy_implicit_next,
    lab_policy_implicit_best;

static const lab_policy_t *const variants[3] = {
    &lab_policy_implicit_first, &lab_policy_implicit_next, &lab_policy_implicit_best};

#define WORD sizeof(size_t)

static size_t header_of(const char *p) { return *((const size_t *)(const void *)p - 1); }
static size_t block_size_of(const char *p) { return header_of(p) & ~(size_t)7; }

/* Freeing three adjacent blocks, in every order, leaves them as one free block. */
static void coalesces_three(const lab_policy_t *pol, size_t align)
{
    static const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                     {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    for (int o = 0; o < 6; o++) {
        lab_heap_t h;
        REQUIRE("open", pt_open_policy(&h, pol, align));
        char *p[3];
        size_t sum = 0;
        for (int i = 0; i < 3; i++) {
            REQUIRE("malloc", (p[i] = lab_malloc(&h, 40 + 24 * (size_t)i)) != NULL);
            CHECK("aligned", (uintptr_t)p[i] % align == 0);
            sum += block_size_of(p[i]);
        }
        CHECK("adjacent", p[1] == p[0] + block_size_of(p[0]) && p[2] == p[1] + block_size_of(p[1]));
        REQUIRE("guard above", lab_malloc(&h, 8) != NULL);
        lab_stats_t before = pt_stats(&h);
        for (int i = 0; i < 3; i++)
            CHECK("free", lab_free(&h, p[orders[o][i]]) == LAB_OK);
        lab_stats_t after = pt_stats(&h);
        CHECK("one more free block", after.free_blocks == before.free_blocks + 1);
        CHECK("holding all three", after.free_bytes == before.free_bytes + sum);
        CHECK("one live block", after.live_blocks == 1);
        CHECK("block bytes", after.block_bytes == before.block_bytes - sum);
        CHECK("clean", pt_heap_is_clean(&h));
        lab_heap_close(&h);
    }
}

/* A heap whose free blocks are holes of 300, 100 and 200 bytes (low to high) and a
 * remainder at the top; the last placement (the rover) is the guard below the top. */
typedef struct crafted {
    lab_heap_t h;
    char      *hole[3];
    char      *last_guard;
} crafted_t;

static int craft(crafted_t *c, const lab_policy_t *pol)
{
    static const size_t sizes[3] = {300, 100, 200};
    char *guard[3];
    if (!pt_open_policy(&c->h, pol, 16) ||
        !pt_make_holes(&c->h, sizes, 3, 8, c->hole, guard, false))
        return 0;
    c->last_guard = guard[2];
    return pt_stats(&c->h).free_blocks == 4;
}

static void fits(void)
{
    crafted_t c;
    REQUIRE("craft first", craft(&c, &lab_policy_implicit_first));
    CHECK("first fit: lowest hole", lab_malloc(&c.h, 90) == c.hole[0]);
    CHECK("first fit: lowest again", lab_malloc(&c.h, 150) == c.hole[0] + 112);
    lab_heap_close(&c.h);

    REQUIRE("craft best", craft(&c, &lab_policy_implicit_best));
    CHECK("best fit: smallest hole", lab_malloc(&c.h, 90) == c.hole[1]);
    CHECK("best fit: next smallest", lab_malloc(&c.h, 150) == c.hole[2]);
    lab_heap_close(&c.h);

    REQUIRE("craft next", craft(&c, &lab_policy_implicit_next));
    char *top = c.last_guard + block_size_of(c.last_guard);
    CHECK("next fit: from the rover on", lab_malloc(&c.h, 90) == top);
    size_t rest = pt_stats(&c.h).largest_free; /* the top remainder */
    REQUIRE("top remainder", rest > 320);
    CHECK("next fit: all of the top", lab_malloc(&c.h, rest - WORD) == top + 112);
    CHECK("next fit: wraps to the lowest hole", lab_malloc(&c.h, 90) == c.hole[0]);
    CHECK("next fit: continues there", lab_malloc(&c.h, 90) == c.hole[0] + 112);
    CHECK("clean", pt_heap_is_clean(&c.h));
    lab_heap_close(&c.h);
}

/* The rover points at a block that a free merges into the block below: it must move. */
static void rover_survives_coalescing(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open_policy(&h, &lab_policy_implicit_next, 16));
    char *a = lab_malloc(&h, 100), *b = lab_malloc(&h, 100); /* rover: b */
    REQUIRE("mallocs", a && b);
    CHECK("free a", lab_free(&h, a) == LAB_OK);
    CHECK("free b (merges into a and the top)", lab_free(&h, b) == LAB_OK);
    CHECK("clean (I7)", pt_heap_is_clean(&h));
    CHECK("next fit restarts at the merged block", lab_malloc(&h, 50) == a);
    char *c = lab_malloc(&h, 100), *d = lab_malloc(&h, 30); /* rover: d */
    REQUIRE("mallocs", c && d);
    CHECK("free d (merges with the top)", lab_free(&h, d) == LAB_OK);
    CHECK("realloc c over d", lab_realloc(&h, c, 200) == c);
    CHECK("clean after realloc", pt_heap_is_clean(&h));
    lab_heap_close(&h);
}

static void realloc_in_place(const lab_policy_t *pol)
{
    lab_heap_t h;
    REQUIRE("open", pt_open_policy(&h, pol, 16));
    char *a = lab_malloc(&h, 200), *b = lab_malloc(&h, 200), *guard = lab_malloc(&h, 8);
    REQUIRE("mallocs", a && b && guard);
    memset(a, 'a', 200);
    CHECK("shrink in place", lab_realloc(&h, a, 40) == a && block_size_of(a) == 48);
    CHECK("free b", lab_free(&h, b) == LAB_OK);
    CHECK("grow into the free block above", lab_realloc(&h, a, 300) == a);
    CHECK("content kept", a[0] == 'a' && a[39] == 'a');
    CHECK("free guard", lab_free(&h, guard) == LAB_OK);
    size_t brk = h.mem.brk;
    CHECK("grow at the top", lab_realloc(&h, a, 100000) == a);
    CHECK("break moved by the shortfall", h.mem.brk - brk < 100000);
    CHECK("clean", pt_heap_is_clean(&h));
    CHECK("free", lab_free(&h, a) == LAB_OK);
    CHECK("nothing live", pt_nothing_live(&h));
    CHECK("one free block", pt_stats(&h).free_blocks == 1);
    lab_heap_close(&h);
}

static void bad_frees(const lab_policy_t *pol)
{
    lab_heap_t h;
    REQUIRE("open", pt_open_policy(&h, pol, 16));
    char *a = lab_malloc(&h, 64), *b = lab_malloc(&h, 64), *c = lab_malloc(&h, 64);
    REQUIRE("mallocs", a && b && c);
    size_t *hdr = pt_word_at(b, -8);
    CHECK("zero header", pt_free_damaged(&h, b, hdr, 0) == LAB_ERR_CORRUPT);
    CHECK("wrong size", pt_free_damaged(&h, b, hdr, *hdr + 16) == LAB_ERR_CORRUPT);
    CHECK("interior", lab_free(&h, b + 16) != LAB_OK);
    CHECK("prologue", lab_free(&h, (char *)lab_mem_lo(&h.mem) + 16) != LAB_OK);
    CHECK("free b", lab_free(&h, b) == LAB_OK);
    CHECK("double free", lab_free(&h, b) == LAB_ERR_DOUBLE_FREE);
    CHECK("free c (merges with b)", lab_free(&h, c) == LAB_OK);
    CHECK("double free after merge", lab_free(&h, c) == LAB_ERR_DOUBLE_FREE);
    CHECK("usable of freed", lab_usable_size(&h, c) == 0);
    CHECK("clean", pt_heap_is_clean(&h));
    CHECK("free a", lab_free(&h, a) == LAB_OK);
    lab_heap_close(&h);
}

/* The walk: [base, first header) and the epilogue header are META, blocks start at their
 * header. */
static void walk_layout(void)
{
    static const size_t aligns[] = {8, 16, 64};
    for (int k = 0; k < 3; k++) {
        lab_heap_t h;
        REQUIRE("open", pt_open(&h, "implicit-first", aligns[k]));
        char *a = lab_malloc(&h, 100);
        REQUIRE("malloc", a != NULL);
        lab_region_t g[8];
        long n = pt_walk(&h, g, 8);
        REQUIRE("lead, block, free rest, epilogue", n == 4);
        CHECK("lead-in and prologue", g[0].kind == LAB_REGION_META &&
                                          g[0].start == (uintptr_t)lab_mem_lo(&h.mem) &&
                                          g[0].size == 2 * aligns[k] - 8);
        CHECK("the block starts at its header",
              g[1].kind == LAB_REGION_BLOCK && g[1].payload == a && g[1].start == (uintptr_t)a - 8);
        CHECK("the rest of the growth is free", g[2].kind == LAB_REGION_FREE);
        CHECK("epilogue", g[3].kind == LAB_REGION_META && g[3].size == 8 &&
                              g[3].start == (uintptr_t)lab_mem_hi(&h.mem) - 8);
        lab_heap_close(&h);
    }
}

int main(void)
{
    for (int v = 0; v < 3; v++) {
        coalesces_three(variants[v], 16);
        coalesces_three(variants[v], 8);
        coalesces_three(variants[v], 64);
        realloc_in_place(variants[v]);
        bad_frees(variants[v]);
    }
    fits();
    rover_survives_coalescing();
    walk_layout();
    return hk_test_summary();
}
