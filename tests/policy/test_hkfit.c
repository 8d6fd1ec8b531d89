/*
 * test_hkfit.c -- focused tests of the hkfit policy's own mechanisms (lab/hkfit*.c):
 * header-less runs, band reuse, exact growth at the break, page-exact mappings and the
 * dynamic mapping floor, trimming, bad-free detection, the page cache of the run index and
 * the checker's invariants.
 * The conformance suite (test_policies) covers the generic contract.
 */
#include "policy_test.h"

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

/* User data in a slot that forges a valid span tag (hash and all, as lab/hkfit_span.h computes
 * it) does not make an interior slot pointer pass for a span: the run lookup comes before
 * any tag is trusted, for free, realloc and usable_size alike. */
static void forged_tag_in_slot(void)
{
    lab_heap_t h;
    REQUIRE("open", open_heap(&h, 8) == 0);
    char *keep = lab_malloc(&h, 4000); /* a span below the run, on the same page */
    char *a = lab_malloc(&h, 64), *b = lab_malloc(&h, 64);
    REQUIRE("mallocs", keep && a && b);
    uint8_t *s = (uint8_t *)a + 16; /* forged span s = [a + 16, a + 48), payload a + 24 */
    uint64_t size = 32, alloc = 1, prev = 2;
    uint64_t check = (((uint64_t)(uintptr_t)s ^ (size | alloc)) * 0x9e3779b97f4a7c15u) >> 48;
    uint64_t tag = check << 48 | size | prev | alloc, next = prev | alloc;
    memcpy(s, &tag, sizeof tag);
    memcpy(s + size, &next, sizeof next); /* the next "span" says its lower neighbour is live */
    CHECK("forged free refused", lab_free(&h, a + 24) == LAB_ERR_MISALIGNED);
    CHECK("forged realloc refused", lab_realloc(&h, a + 24, 100) == NULL &&
                                        h.last_error == LAB_ERR_MISALIGNED);
    CHECK("forged usable size", lab_usable_size(&h, a + 24) == 0);
    CHECK("check", clean(&h));
    CHECK("frees", lab_free(&h, a) == LAB_OK && lab_free(&h, b) == LAB_OK &&
                       lab_free(&h, keep) == LAB_OK);
    lab_heap_close(&h);
}

/* hkfit screens pointers itself (LAB_SCREENS_POINTERS): foreign and misaligned pointers get
 * the errors dispatch.c would give, from free, realloc and usable_size alike. */
/* At align 8 a run can end exactly where the span above it starts, so the word below a
 * pointer to that end is the last slot's user data: a tag forged there must not let a
 * free of the run's end (the span's tag word, not a block) through. */
static void forged_tag_at_run_end(void)
{
    lab_heap_t h;
    REQUIRE("open", open_heap(&h, 8) == 0);
    char *a = lab_malloc(&h, 64), *b = lab_malloc(&h, 64); /* a run of 2 x 64: no tail */
    char *big = lab_malloc(&h, 1000);                      /* the span right above it */
    REQUIRE("mallocs", a && b && big);
    uint8_t *run_end = (uint8_t *)big - 8;
    REQUIRE("b's slot ends where big's span starts", (uint8_t *)b + 64 == run_end);
    uint8_t *s = run_end - 8; /* b + 56: user data */
    uint64_t size = (uint64_t)(lab_mem_hi(&h.mem) - s), fl = 1 | 2;
    uint64_t check = (((uint64_t)(uintptr_t)s ^ (size | (fl & 5))) * 0x9e3779b97f4a7c15u) >> 48;
    uint64_t tag = check << 48 | size | fl;
    memcpy(b + 56, &tag, sizeof tag);
    CHECK("forged free at the run's end refused", lab_free(&h, run_end) != LAB_OK);
    CHECK("check", clean(&h));
    CHECK("frees", lab_free(&h, a) == LAB_OK && lab_free(&h, b) == LAB_OK &&
                       lab_free(&h, big) == LAB_OK);
    lab_heap_close(&h);
}

/* A span trimmed at the break leaves its tag in memory above the new break; when the
 * region regrows with a span ending exactly where the old one did, a double free of the
 * old pointer must not find that tag valid. */
static void stale_tag_above_break(size_t align)
{
    lab_heap_t h;
    REQUIRE("open", open_heap(&h, align) == 0);
    char *a = lab_malloc(&h, 1000), *x = lab_malloc(&h, 1000);
    REQUIRE("mallocs", a && x);
    size_t za = (size_t)(x - a); /* a's span; x's is the same size */
    CHECK("free x (trimmed)", lab_free(&h, x) == LAB_OK);
    CHECK("free a (trimmed)", lab_free(&h, a) == LAB_OK);
    char *c = lab_malloc(&h, 2 * za - 8); /* from a's start to where x's span ended */
    REQUIRE("malloc", c != NULL);
    CHECK("double free of x refused", lab_free(&h, x) != LAB_OK);
    CHECK("check", clean(&h));
    CHECK("free c", lab_free(&h, c) == LAB_OK);
    lab_heap_close(&h);
}

static void screens_pointers(size_t align)
{
    lab_heap_t h;
    REQUIRE("open", open_heap(&h, align) == 0);
    CHECK("flag", (h.policy->flags & LAB_SCREENS_POINTERS) != 0);
    static _Alignas(16) char outside[64];
    char *s = lab_malloc(&h, 48), *big = lab_malloc(&h, 3000), *map = lab_malloc(&h, 8192);
    REQUIRE("mallocs", s && big && map && h.mem.map_count == 1);
    char *top = (char *)lab_mem_hi(&h.mem);
    struct {
        const char *what;
        char       *p;
        lab_err_t   want;
    } cases[] = {
        {"foreign", outside + 16, LAB_ERR_FOREIGN},
        {"at the break", top, LAB_ERR_FOREIGN},
        {"beyond the break", top + 4096, LAB_ERR_FOREIGN},
        {"misaligned slot", s + align / 2, LAB_ERR_MISALIGNED},
        {"misaligned span", big + align / 2, LAB_ERR_MISALIGNED},
        {"misaligned in a mapping", map + 4, LAB_ERR_MISALIGNED},
        {"interior of a mapping", map + 4096, LAB_ERR_MISALIGNED},
        {"region start", (char *)h.mem.base, LAB_ERR_MISALIGNED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lab_err_t e = lab_free(&h, cases[i].p);
        if (e != cases[i].want)
            fprintf(stderr, "  align %zu %s: free says %s\n", align, cases[i].what,
                    lab_strerror(e));
        CHECK("free verdict", e == cases[i].want);
        CHECK("realloc verdict", lab_realloc(&h, cases[i].p, 100) == NULL &&
                                     h.last_error == cases[i].want);
        CHECK("usable size", lab_usable_size(&h, cases[i].p) == 0);
    }
    CHECK("huge realloc of foreign", lab_realloc(&h, outside + 16, SIZE_MAX) == NULL &&
                                         h.last_error == LAB_ERR_FOREIGN);
    CHECK("huge realloc of live", lab_realloc(&h, big, SIZE_MAX) == NULL &&
                                      h.last_error == LAB_ERR_NOMEM);
    CHECK("check", clean(&h));
    CHECK("frees", lab_free(&h, s) == LAB_OK && lab_free(&h, big) == LAB_OK &&
                       lab_free(&h, map) == LAB_OK);
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

/* The free span bins are bitbins.h's: a damaged link of a binned span is an H4 finding. */
static void checker_finds_bin_damage(void)
{
    lab_heap_t h;
    REQUIRE("open", open_heap(&h, 16) == 0);
    char *a = lab_malloc(&h, 3000), *guard = lab_malloc(&h, 3000), *b = lab_malloc(&h, 3000);
    char *top = lab_malloc(&h, 3000);
    REQUIRE("mallocs", a && guard && b && top);
    CHECK("free a", lab_free(&h, a) == LAB_OK);
    CHECK("free b", lab_free(&h, b) == LAB_OK); /* one bin: b, then a */
    char **next = (char **)(void *)b, *saved = *next; /* b's links follow its tag */
    REQUIRE("b links to a", saved == a);
    *next = guard; /* the links of an allocated span */
    lab_report_t r = {0};
    CHECK("damaged bin link found", lab_check(&h, &r) > 0 && strncmp(r.first, "H4", 2) == 0);
    *next = saved;
    CHECK("repaired", clean(&h));
    lab_heap_close(&h);
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

/* Runs spread over many 256 KiB zones of the region, then die zone by zone: the zone bits
 * (H6) follow, and large blocks in zones without runs are still found and freed. */
static void zones_follow_runs(void)
{
    lab_heap_t h;
    REQUIRE("open", open_heap(&h, 16) == 0);
    enum { N = 48 };
    static char *big[N], *small[N];
    for (int i = 0; i < N; i++) {
        big[i] = lab_malloc(&h, 60000);
        small[i] = lab_malloc(&h, 24 + 16 * (size_t)(i % 3)); /* a run each, between bigs */
        REQUIRE("mallocs", big[i] && small[i]);
    }
    CHECK("spans several zones", h.mem.brk > (size_t)8 << 18);
    CHECK("check", clean(&h));
    for (int i = 0; i < N; i += 2) {
        CHECK("free small", lab_free(&h, small[i]) == LAB_OK);
        small[i] = NULL;
        if (i % 8 == 0)
            CHECK("check", clean(&h));
    }
    for (int i = 0; i < N; i++)
        CHECK("big still found", lab_usable_size(&h, big[i]) >= 60000 &&
                                     lab_free(&h, big[i] + 16) != LAB_OK);
    for (int i = 0; i < N; i++) {
        CHECK("free big", lab_free(&h, big[i]) == LAB_OK);
        if (small[i])
            CHECK("free small", lab_free(&h, small[i]) == LAB_OK);
        if (i % 8 == 0)
            CHECK("check", clean(&h));
    }
    CHECK("empty", h.mem.brk <= 8 && clean(&h));
    lab_heap_close(&h);
}

/* The walk: a run is its tag and header (META), header-less slots, its tail; the run
 * index's span is META; a page-exact mapping is a header-less BLOCK. */
static void walk_layout(void)
{
    lab_heap_t h;
    REQUIRE("open", pt_open(&h, "hkfit", 16));
    char *a = lab_malloc(&h, 24), *b = lab_malloc(&h, 24), *big = lab_malloc(&h, 8192);
    REQUIRE("mallocs", a && b && big && lab_free(&h, a) == LAB_OK);
    lab_region_t g[16];
    long n = pt_walk(&h, g, 16);
    REQUIRE("pad, index, run header, 2 slots, tail, mapping", n == 7);
    CHECK("pad", g[0].kind == LAB_REGION_META && g[0].size == 8);
    CHECK("run index", g[1].kind == LAB_REGION_META);
    CHECK("run header", g[2].kind == LAB_REGION_META && g[2].size == 24 &&
                            g[2].start + 24 == (uintptr_t)a);
    CHECK("a freed slot", g[3].kind == LAB_REGION_FREE && g[3].start == (uintptr_t)a &&
                              g[3].size == 32);
    CHECK("b a header-less slot", g[4].kind == LAB_REGION_BLOCK && g[4].payload == b &&
                                      g[4].start == (uintptr_t)b && g[4].size == 32);
    CHECK("tail", g[5].kind == LAB_REGION_META);
    CHECK("the mapping", g[6].kind == LAB_REGION_BLOCK && g[6].payload == big &&
                             g[6].start == (uintptr_t)big && g[6].size == 8192);
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
    forged_tag_in_slot();
    forged_tag_at_run_end();
    stale_tag_above_break(8);
    stale_tag_above_break(16);
    screens_pointers(8);
    screens_pointers(16);
    checker_finds_damage();
    checker_finds_bin_damage();
    page_cache_exact();
    zones_follow_runs();
    walk_layout();
    return hk_test_summary();
}
