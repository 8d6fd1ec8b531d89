/*
 * stats.c -- mallinfo2 and hk_stats_get agree with what the program allocated, and the
 * HEAPKIT_STATS=1 exit report has something to show (stats.sh checks the report).
 *
 * Known workload: 1000 blocks of 100 bytes (300 stay live to the end), 50 blocks of
 * 3000 bytes (all freed), 10000 blocks of 4000 bytes live at once (~40 MB, all freed),
 * one huge block of 3 MiB live to the end. Checks: uordblks (live bytes outside huge
 * blocks) rises by the bytes allocated, within class rounding (< 25%), and drops back by
 * the bytes freed; usmblks (peak) covers the 40 MB; hblks/hblkhd count the huge block;
 * arena >= uordblks, fordblks = arena - uordblks; hk_stats_get agrees with mallinfo2.
 */
#include <malloc.h>

#include "robust.h"

static size_t uord(void)
{
    return mallinfo2().uordblks;
}

/* delta is within [want, want * 1.25 + slack] */
static int about(size_t delta, size_t want)
{
    return delta >= want && delta <= want + want / 4 + 256;
}

int main(void)
{
    printf("stats: start\n"); /* stdio's buffer now, before the baseline */
    void *probe = malloc(8);
    CHECK("heapkit is the allocator", rb_is_owned(probe) == 1);
    free(probe);

    size_t u0 = uord();
    static void *small[1000];
    for (int i = 0; i < 1000; i++) {
        small[i] = malloc(100);
        if (small[i])
            memset(small[i], 1, 100);
    }
    size_t u1 = uord();
    printf("stats: 1000 x 100 bytes: uordblks %zu -> %zu\n", u0, u1);
    CHECK("uordblks rises by 1000 x 100 bytes (within rounding)", u1 > u0 && about(u1 - u0, 100000));
    for (int i = 0; i < 700; i++)
        free(small[i]);
    size_t u2 = uord();
    CHECK("uordblks drops by 700 x 100 bytes (within rounding)", u2 < u1 && about(u1 - u2, 70000));

    void *mid[50];
    for (int i = 0; i < 50; i++)
        mid[i] = malloc(3000);
    size_t u3 = uord();
    CHECK("uordblks rises by 50 x 3000 bytes", u3 > u2 && about(u3 - u2, 150000));
    for (int i = 0; i < 50; i++)
        free(mid[i]);
    CHECK("uordblks back after freeing them", uord() == u2);

    static void *big[10000];
    for (int i = 0; i < 10000; i++) {
        big[i] = malloc(4000);
        if (big[i])
            memset(big[i], 2, 4000);
    }
    struct mallinfo2 m = mallinfo2();
    CHECK("uordblks rises by 10000 x 4000 bytes", m.uordblks > u2 && about(m.uordblks - u2, 40000000));
    CHECK("arena >= uordblks", m.arena >= m.uordblks);
    CHECK("fordblks = arena - uordblks", m.fordblks == m.arena - m.uordblks);
    CHECK("usmblks (peak) >= 40 MB", m.usmblks >= 40000000);
    for (int i = 0; i < 10000; i++)
        free(big[i]);
    m = mallinfo2();
    CHECK("uordblks back after freeing 40 MB", m.uordblks == u2);
    CHECK("usmblks (peak) still >= 40 MB", m.usmblks >= 40000000);

    size_t h0 = m.hblks, hd0 = m.hblkhd;
    char *huge = malloc((size_t)3 << 20);
    if (huge)
        memset(huge, 3, (size_t)3 << 20);
    m = mallinfo2();
    CHECK("hblks counts the huge block", m.hblks == h0 + 1);
    CHECK("hblkhd covers the huge block", m.hblkhd >= hd0 + ((size_t)3 << 20));
    CHECK("huge block not in uordblks", m.uordblks == u2);

    hk_stats_t s;
    if (rb_stats_get(&s)) {
        CHECK("hk_stats allocated = uordblks + huge bytes", s.allocated == m.uordblks + m.hblkhd);
        CHECK("hk_stats committed >= allocated", s.committed >= s.allocated);
        CHECK("hk_stats peak >= committed", s.peak_committed >= s.committed);
        CHECK("hk_stats mapped >= committed", s.mapped >= s.committed);
        CHECK("hk_stats huge_blocks", s.huge_blocks == m.hblks);
        CHECK("hk_stats live_blocks >= 301", s.live_blocks >= 301);
    } else {
        CHECK("hk_stats_get available", 0);
    }
    /* give the freed 40 MB back, so the report's committed figure is below its peak */
    malloc_trim(0);
    CHECK("committed drops below 40 MB after malloc_trim(0)",
          rb_stats_get(&s) && s.committed < 40000000 && s.peak_committed >= 40000000);
    /* left live for the exit report: small[700..999] and the huge block */
    printf("stats: exit with 300 x 100 bytes and 3 MiB live\n");
    return hk_test_summary();
}
