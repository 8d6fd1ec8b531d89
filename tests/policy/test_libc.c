/*
 * test_libc.c -- the libc baseline (lab/libc.c): footprint from mallinfo2 (or the live
 * block bytes when mallinfo2 cannot see the allocator, as under ASan) and block counters.
 */
#include "policy_test.h"

#include <stdint.h>
#include <string.h>

#define MB ((size_t)1 << 20)

/* 10 MB of blocks show in the footprint; freeing them returns the counters to 0. */
static void test_footprint_and_counters(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "libc", 16));
    CHECK("flagged as the system allocator", h.policy->flags & LAB_USES_SYSTEM);
    size_t before = lab_footprint(&h);
    enum { COUNT = 1000 };
    const size_t each = 10 * MB / COUNT, total = COUNT * each; /* just under 10 MB */
    static char *p[COUNT];
    for (int i = 0; i < COUNT; i++) {
        p[i] = lab_malloc(&h, each);
        if (p[i])
            memset(p[i], i, each);
    }
    lab_stats_t s = pt_stats(&h);
    CHECK("footprint grew by 10 MB", lab_footprint(&h) >= before + total);
    CHECK("live blocks counted", s.live_blocks == COUNT);
    CHECK("block bytes cover payloads and headers", s.block_bytes >= total + COUNT * 8);
    CHECK("checks clean", pt_heap_is_clean(&h));
    for (int i = 0; i < COUNT; i++)
        CHECK("free", lab_free(&h, p[i]) == LAB_OK);
    CHECK("counters back to 0", pt_nothing_live(&h));
    lab_heap_close(&h);
}

/* realloc keeps the block accounting in step with the system's usable sizes. */
static void test_realloc_accounting(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "libc", 16));
    char *p = lab_malloc(&h, 10);
    REQUIRE("malloc", p != NULL);
    strcpy(p, "baseline");
    p = lab_realloc(&h, p, 100000);
    lab_stats_t s = pt_stats(&h);
    CHECK("contents kept", p && strcmp(p, "baseline") == 0);
    CHECK("block bytes follow", s.block_bytes == lab_usable_size(&h, p) + 8);
    CHECK("free", lab_free(&h, p) == LAB_OK);
    CHECK("counters back to 0", pt_nothing_live(&h));
    lab_heap_close(&h);
}

/* With no_stats (the replayer's timing runs) the counters, which cost a malloc_usable_size
 * per call, are not kept; malloc, realloc and free work as before. */
static void test_no_stats(void)
{
    lab_heap_t h;
    lab_cfg_t cfg = {.align = 16, .no_stats = 1};
    REQUIRE("open", lab_heap_open(&h, lab_policy_find("libc"), &cfg, 0) == 0);
    char *p = lab_malloc(&h, 10);
    REQUIRE("malloc", p != NULL);
    strcpy(p, "baseline");
    p = lab_realloc(&h, p, 100000);
    CHECK("contents kept", p && strcmp(p, "baseline") == 0);
    lab_stats_t s = pt_stats(&h);
    CHECK("nothing counted", s.live_blocks == 0 && s.block_bytes == 0);
    CHECK("free", lab_free(&h, p) == LAB_OK);
    lab_heap_close(&h);
}

/* Alignments above glibc's 16 go through aligned_alloc, also across realloc. */
static void test_over_alignment(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "libc", 256));
    char *p = lab_malloc(&h, 100);
    CHECK("aligned", p && ((uintptr_t)p & 255) == 0);
    p = lab_realloc(&h, p, 5000);
    CHECK("still aligned after realloc", p && ((uintptr_t)p & 255) == 0);
    CHECK("free", lab_free(&h, p) == LAB_OK);
    lab_heap_close(&h);
}

int main(void)
{
    test_footprint_and_counters();
    test_realloc_accounting();
    test_no_stats();
    test_over_alignment();
    return hk_test_summary();
}
