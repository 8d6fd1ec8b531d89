/*
 * policy_test.h -- helpers shared by the focused policy tests (tests/policy/test_<x>.c).
 *
 * Design:      A focused test opens a heap of one policy through dispatch.c, shapes it
 *              with mallocs and frees, damages a header on purpose and expects free or
 *              the checker to name the fault. These are those steps, written once.
 *              Most helpers return a result for the caller's own CHECK or REQUIRE, so
 *              each test keeps its assertions where a reader looks for them; the ones
 *              that record CHECKs themselves say so.
 *              A heap is opened in place: a policy's state may point at h->mem, so a
 *              lab_heap_t must not be copied once it is open.
 * Usage:       #include "policy_test.h" (it includes dispatch.h and harness.h); build
 *              with -Ilab -Itests, as tests/tests.mk does.
 */
#ifndef HK_POLICY_TEST_H
#define HK_POLICY_TEST_H

#include "dispatch.h"
#include "harness.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Opening a heap ---- */

/* Opens h on `pol` (NULL fails) with payload alignment `align` and the default limit. */
static inline bool pt_open_policy(lab_heap_t *h, const lab_policy_t *pol, size_t align)
{
    lab_cfg_t cfg = {.align = align};
    return pol && lab_heap_open(h, pol, &cfg, 0) == 0;
}

/* Opens h on the registered policy `name` (see registry.c) with alignment `align`. */
static inline bool pt_open(lab_heap_t *h, const char *name, size_t align)
{
    return pt_open_policy(h, lab_policy_find(name), align);
}

/* ---- Looking at a heap ---- */

/* True when the policy's checker finds nothing; else prints the first violation. */
static inline bool pt_heap_is_clean(lab_heap_t *h)
{
    lab_report_t r = {0};
    int n = lab_check(h, &r);
    if (n)
        fprintf(stderr, "  %s: check: %s\n", h->policy->name, r.first);
    return n == 0;
}

static inline lab_stats_t pt_stats(lab_heap_t *h)
{
    lab_stats_t s;
    lab_stats(h, &s);
    return s;
}

/* True when the policy's counters say no block is live: no live blocks, no block bytes. */
static inline bool pt_nothing_live(lab_heap_t *h)
{
    lab_stats_t s = pt_stats(h);
    return s.live_blocks == 0 && s.block_bytes == 0;
}

/*
 * Runs the checker on a heap the test has damaged. Returns the number of violations when
 * the first one names invariant `id` (e.g. "T3", or "L2:" to match the colon too), else 0
 * and prints what was found instead, so CHECK(..., pt_check_finds(h, "D1") > 0) states
 * "the damage is seen, and blamed on D1".
 */
static inline int pt_check_finds(lab_heap_t *h, const char *id)
{
    lab_report_t r = {0};
    int n = lab_check(h, &r);
    if (n > 0 && strncmp(r.first, id, strlen(id)) == 0)
        return n;
    fprintf(stderr, "  %s: expected %s, check found %d: %s\n", h->policy->name, id, n, r.first);
    return 0;
}

/* ---- Walking a heap (policy.h, the walk contract) ---- */

typedef struct pt_regions {
    lab_region_t *out; /* NULL: count only */
    size_t        cap, n;
} pt_regions_t;

static inline void pt_collect_region(void *ctx, const lab_region_t *g)
{
    pt_regions_t *c = ctx;
    if (c->out && c->n < c->cap)
        c->out[c->n] = *g;
    c->n++;
}

/* Runs h's walk, copying the first `cap` regions to out (out may be NULL). Returns how many
 * regions there were (more than cap: only cap were kept), or -1 when h has no walk. */
static inline long pt_walk(lab_heap_t *h, lab_region_t *out, size_t cap)
{
    pt_regions_t c = {out, cap, 0};
    return lab_walk(h, pt_collect_region, &c) < 0 ? -1 : (long)c.n;
}

static inline int pt_cmp_ptr(const void *a, const void *b)
{
    const void *const *pa = a, *const *pb = b;
    uintptr_t x = (uintptr_t)*pa, y = (uintptr_t)*pb;
    return x < y ? -1 : x > y;
}

/* True when h's walk keeps W1-W6 (lab_walk_check) and W7: its BLOCK payloads are exactly
 * the n pointers of live (any order; live is sorted in place). Else prints why. */
static inline bool pt_walk_is_exact(lab_heap_t *h, const void **live, size_t n)
{
    lab_report_t r = {0};
    if (lab_walk_check(h, &r) != 0) {
        fprintf(stderr, "  %s: walk: %s\n", h->policy->name, r.count ? r.first : "no walk");
        return false;
    }
    long count = pt_walk(h, NULL, 0);
    lab_region_t *g = calloc((size_t)count + 1, sizeof *g);
    const void **blocks = calloc((size_t)count + 1, sizeof *blocks);
    size_t nblocks = 0;
    bool same = g && blocks && pt_walk(h, g, (size_t)count) == count;
    for (long i = 0; same && i < count; i++)
        if (g[i].kind == LAB_REGION_BLOCK)
            blocks[nblocks++] = g[i].payload;
    qsort(blocks, nblocks, sizeof *blocks, pt_cmp_ptr);
    qsort(live, n, sizeof *live, pt_cmp_ptr);
    same = same && nblocks == n;
    for (size_t i = 0; same && i < n; i++)
        same = blocks[i] == live[i];
    if (!same)
        fprintf(stderr, "  %s: W7: the walk's %zu block payloads are not the %zu live ones\n",
                h->policy->name, nblocks, n);
    free(g);
    free(blocks);
    return same;
}

/* ---- Shaping a heap ---- */

/*
 * Free blocks ("holes") for the fit tests: for each i, mallocs hole[i] of sizes[i] bytes
 * and then a live guard of guard_size bytes (kept in guard[i] unless guard is NULL), so
 * no two holes touch; then frees the holes, first to last, or last to first when
 * `last_first` (a LIFO list then reads hole[0] first). CHECKs each malloc and free and
 * returns false at the first failure.
 */
static inline bool pt_make_holes(lab_heap_t *h, const size_t *sizes, int count,
                                 size_t guard_size, char **hole, char **guard, bool last_first)
{
    for (int i = 0; i < count; i++) {
        hole[i] = lab_malloc(h, sizes[i]);
        char *g = lab_malloc(h, guard_size);
        if (guard)
            guard[i] = g;
        CHECK("hole and its guard", hole[i] && g);
        if (!hole[i] || !g)
            return false;
    }
    for (int k = 0; k < count; k++) {
        int i = last_first ? count - 1 - k : k;
        lab_err_t err = lab_free(h, hole[i]);
        CHECK("free hole", err == LAB_OK);
        if (err != LAB_OK)
            return false;
    }
    return true;
}

/* ---- Damaging a heap ---- */

/* The machine word `offset` bytes from p (negative: a header before the payload). */
static inline size_t *pt_word_at(void *p, ptrdiff_t offset)
{
    return (size_t *)(void *)((char *)p + offset);
}

/* lab_free(h, p) while *word holds `damaged`; *word is restored afterwards. */
static inline lab_err_t pt_free_damaged(lab_heap_t *h, void *p, size_t *word, size_t damaged)
{
    size_t saved = *word;
    *word = damaged;
    lab_err_t err = lab_free(h, p);
    *word = saved;
    return err;
}

/*
 * For the explicit free lists on tagheap.h (dlist, bins, segfit), on an open empty heap
 * of alignment 16: a free block whose first link points at a live block must be reported
 * as `link_id` (the policy's "linked both ways" invariant), and a free block whose footer
 * differs from its header as T3. Both are repaired, and the heap must check clean again.
 * Records its own CHECKs; the caller closes h.
 */
static inline void pt_free_list_checker_ids(lab_heap_t *h, const char *link_id)
{
    char *a = lab_malloc(h, 48), *b = lab_malloc(h, 48); /* 64-byte blocks */
    REQUIRE("mallocs", a && b && lab_malloc(h, 8));
    CHECK("free a", lab_free(h, a) == LAB_OK);
    char **next = (char **)(void *)a; /* a free block's first link */
    char *saved = *next;
    *next = b; /* a live block */
    CHECK("damaged link", pt_check_finds(h, link_id) > 0);
    *next = saved;
    size_t *footer = pt_word_at(a, 48);
    *footer ^= 16;
    CHECK("damaged free footer: T3", pt_check_finds(h, "T3") > 0);
    *footer ^= 16;
    CHECK("clean after repair", pt_heap_is_clean(h));
}

#endif
