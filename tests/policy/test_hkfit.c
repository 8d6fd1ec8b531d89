/*
 * test_hkfit.c -- focused tests of the hkfit policy's own mechanisms (lab/hkfit.c):
 * header-less runs, band reuse, exact growth at the break, page-exact mappings and the
 * dynamic mapping floor, trimming, bad-free detection, the page cache of the run index and
 * the checker's invariants.
 * The conformance suite (test_policies) covers the generic contract.
 */
#include "dispatch.h"
#include "harness.h"

#include <stdint.h>
#include <string.h>

extern const lab_policy_t lab_policy_hkfit;

static int open_heap(lab_heap_t *h, size_t align)
{
    lab_cfg_t cfg = {.align = align};
    return lab_heap_open(h, &lab_policy_hkfit, &cfg, 0);
}

static int clean(lab_heap_t *h)
{
    lab_report_t r = {0};
    int n = lab_check(h, &r);
    if (n)
        fprintf(stderr, "  check: %s\n", r.first);
    return n == 0;
}

/* Small blocks of one class sit back to back: a 16-byte request costs 16 bytes. */
static void headerless_runs(size_t align)
{
    lab_heap_t h;
    REQUIRE("open", open_heap(&h, align) == 0);
    enum { N = 4000 };
    static char *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = lab_malloc(&h, 16);
        REQUIRE("malloc 16", p[i] != NULL);
        memset(p[i], i & 0xff, 16);
    }
    int adjacent = 0;
    for (int i = 1; i < N; i++)
        adjacent += p[i] - p[i - 1] == 16;
    CHECK("slots are adjacent", adjacent > N * 9 / 10);
    /* with a header each block would cost 24-32 bytes; runs cost headers and slack only */
    CHECK("footprint near payload", lab_peak_footprint(&h) < (size_t)N * 16 * 110 / 100);
    CHECK("usable size is the slot", lab_usable_size(&h, p[0]) == 16);
    CHECK("check", clean(&h));
    for (int i = 0; i < N; i++)
        CHECK("free", lab_free(&h, p[i]) == LAB_OK);
    lab_stats_t st;
    lab_stats(&h, &st);
    CHECK("all returned", st.live_blocks == 0 && st.block_bytes == 0);
    CHECK("region trimmed", h.mem.brk <= 8);
    lab_heap_close(&h);
}

/* A freed band of small blocks becomes space for a larger class (binary-bal's shape). */
static void band_reuse(void)
{
    lab_heap_t h;
    REQUIRE("open", open_heap(&h, 8) == 0);
    enum { N = 2000 };
    static char *small[N], *mid[N], *big[N];
    for (int i = 0; i < N; i++) {
        small[i] = lab_malloc(&h, 64);
        mid[i] = lab_malloc(&h, 448);
        REQUIRE("mallocs", small[i] && mid[i]);
    }
    for (int i = 0; i < N; i++)
        lab_free(&h, mid[i]);
    size_t before = h.mem.peak_footprint;
    for (int i = 0; i < N * 7 / 8; i++)
        REQUIRE("malloc 512", (big[i] = lab_malloc(&h, 512)) != NULL);
    CHECK("448 holes reused by 512s", h.mem.peak_footprint <= before + 16 * 1024);
    CHECK("check", clean(&h));
    lab_heap_close(&h);
}

/* A block at the break grows by exactly the difference, keeping its address. */
static void exact_growth_at_break(void)
{
    lab_heap_t h;
    REQUIRE("open", open_heap(&h, 8) == 0);
    char *keep = lab_malloc(&h, 100);
    char *p = lab_malloc(&h, 2000);
    REQUIRE("mallocs", keep && p);
    memset(p, 0x5a, 2000);
    size_t brk = h.mem.brk;
    char *q = lab_realloc(&h, p, 2000 + 800);
    CHECK("grown in place", q == p);
    CHECK("grew by the delta", h.mem.brk == brk + 800);
    CHECK("content kept", q && q[0] == 0x5a && q[1999] == 0x5a);
    q = lab_realloc(&h, q, 600);
    CHECK("shrunk in place", q == p);
    CHECK("tail given back", h.mem.brk < brk);
    CHECK("check", clean(&h));
    CHECK("free", lab_free(&h, q) == LAB_OK && lab_free(&h, keep) == LAB_OK);
    CHECK("empty again", h.mem.brk <= 8);
    lab_heap_close(&h);
}

/* Page-exact requests get their own mapping until one of them dies young. */
static void page_exact_mappings(void)
{
    lab_heap_t h;
    REQUIRE("open", open_heap(&h, 16) == 0);
    char *a = lab_malloc(&h, 4092);
    REQUIRE("malloc", a != NULL);
    CHECK("mapped", h.mem.map_count == 1 && h.mem.brk == 0);
    CHECK("payload is the whole page", lab_usable_size(&h, a) == LAB_PAGE_SIZE);
    CHECK("interior of mapping", lab_free(&h, a + 64) == LAB_ERR_MISALIGNED);
    char *s = lab_malloc(&h, 16);
    a = lab_realloc(&h, a, 5000);
    CHECK("moved to the region", a && h.mem.map_count == 0);
    char *b = lab_malloc(&h, 8190);
    CHECK("second page-exact mapped", b && h.mem.map_count == 1);
    CHECK("free mapped", lab_free(&h, b) == LAB_OK && h.mem.map_count == 0);
    CHECK("double free of mapped", lab_free(&h, b) != LAB_OK);
    b = lab_malloc(&h, 8190);
    CHECK("floor raised: now in the region", b && h.mem.map_count == 0);
    CHECK("check", clean(&h));
    lab_free(&h, a);
    lab_free(&h, b);
    lab_free(&h, s);
    lab_heap_close(&h);
}

/* Invalid frees are recognized and the heap stays intact. */
static void bad_frees(void)
{
    lab_heap_t h;
    REQUIRE("open", open_heap(&h, 8) == 0);
    char *s1 = lab_malloc(&h, 24), *s2 = lab_malloc(&h, 24);
    char *big = lab_malloc(&h, 3000);
    REQUIRE("mallocs", s1 && s2 && big);
    CHECK("interior slot", lab_free(&h, s1 + 8) == LAB_ERR_MISALIGNED);
    CHECK("interior span", lab_free(&h, big + 1024) != LAB_OK);
    CHECK("free slot", lab_free(&h, s1) == LAB_OK);
    CHECK("double free slot", lab_free(&h, s1) == LAB_ERR_DOUBLE_FREE);
    memset(s2, 0, 24); /* user data that mimics nothing */
    CHECK("free big", lab_free(&h, big) == LAB_OK);
    CHECK("double free big", lab_free(&h, big) != LAB_OK);
    CHECK("usable of freed", lab_usable_size(&h, s1) == 0);
    CHECK("check", clean(&h));
    CHECK("free s2", lab_free(&h, s2) == LAB_OK);
    lab_heap_close(&h);
}

/* The checker notices a damaged tag and a damaged free slot. */
static void checker_finds_damage(void)
{
    lab_heap_t h;
    REQUIRE("open", open_heap(&h, 8) == 0);
    char *keep = lab_malloc(&h, 40);
    char *big = lab_malloc(&h, 3000);
    char *top = lab_malloc(&h, 3000);
    REQUIRE("mallocs", keep && big && top);
    uint64_t saved;
    memcpy(&saved, big - 8, sizeof saved);
    uint64_t bad = saved ^ 0x100;
    memcpy(big - 8, &bad, sizeof bad);
    lab_report_t r = {0};
    CHECK("damaged tag found", lab_check(&h, &r) > 0 && strncmp(r.first, "H1", 2) == 0);
    CHECK("damaged block refused", lab_free(&h, big) != LAB_OK);
    memcpy(big - 8, &saved, sizeof saved);
    CHECK("repaired", clean(&h));
    char *k2 = lab_malloc(&h, 40);
    CHECK("free keep", lab_free(&h, keep) == LAB_OK);
    memset(keep, 0x77, 8); /* scribble over the free slot's link */
    r = (lab_report_t){0};
    CHECK("damaged free slot found", lab_check(&h, &r) > 0 && strncmp(r.first, "H5", 2) == 0);
    lab_heap_close(&h);
    (void)k2;
}

/* Runs come and go among large spans on shared pages: the page cache stays exact (H6), and
 * every small and large block is still found by usable_size, realloc (which validates it
 * itself) and free. */
static void page_cache_exact(void)
{
    lab_heap_t h;
    REQUIRE("open", open_heap(&h, 8) == 0);
    enum { N = 600 };
    static char *p[N];
    uint32_t x = 12345;
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < N; i++) {
            x = x * 1103515245u + 12345u;
            size_t n = (x >> 16) % 4 ? 8 + (x >> 8) % 200 : 600 + (x >> 4) % 3000;
            if (p[i]) {
                if ((x >> 20) & 1) {
                    CHECK("usable", lab_usable_size(&h, p[i]) > 0);
                    p[i] = lab_realloc(&h, p[i], n);
                    CHECK("realloc", p[i] != NULL);
                } else {
                    CHECK("free", lab_free(&h, p[i]) == LAB_OK);
                    p[i] = NULL;
                }
            } else {
                p[i] = lab_malloc(&h, n);
                CHECK("malloc", p[i] != NULL);
            }
            if (i % 50 == 0)
                CHECK("check", clean(&h));
        }
    }
    CHECK("check", clean(&h));
    for (int i = 0; i < N; i++)
        if (p[i])
            CHECK("free all", lab_free(&h, p[i]) == LAB_OK);
    CHECK("empty", h.mem.brk <= 8 && clean(&h));
    lab_heap_close(&h);
}

int main(void)
{
    headerless_runs(8);
    headerless_runs(16);
    band_reuse();
    exact_growth_at_break();
    page_exact_mappings();
    bad_frees();
    checker_finds_damage();
    page_cache_exact();
    return hk_test_summary();
}
