/*
 * test_policies.c -- the conformance suite: every registered policy (or those named on
 * the command line) runs the same seeded random operation sequences through dispatch.c,
 * with the policy's check() and the walk contract (W1-W7, policy.h) after every operation
 * and every payload's content verified.
 *
 *   test_policies [--seed N] [--ops N] [policy ...]
 */
#include "policy_test.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 256

typedef struct slot {
    unsigned char *p;
    size_t         n;
    unsigned char  seed;
} slot_t;

static uint64_t rng_state;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Mostly small, some medium, a few large enough for the mapping policies' thresholds. */
static size_t random_size(void)
{
    unsigned r = (unsigned)(rng() % 100);
    if (r < 60)
        return 1 + rng() % 128;
    if (r < 90)
        return 1 + rng() % 4096;
    if (r < 98)
        return 1 + rng() % 65536;
    return 100000 + rng() % 300000;
}

static void fill(slot_t *s)
{
    for (size_t i = 0; i < s->n; i++)
        s->p[i] = (unsigned char)(s->seed + i * 7);
}

static int intact(const slot_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s->p[i] != (unsigned char)(s->seed + i * 7))
            return 0;
    return 1;
}

static int aligned(const void *p, size_t a) { return ((uintptr_t)p & (a - 1)) == 0; }

/* W1-W7 on the heap h that holds exactly the live slots (policies with a walk). */
static bool walk_matches(lab_heap_t *h, const slot_t *slots, int count)
{
    if (!h->policy->walk)
        return true;
    const void *live[SLOTS];
    size_t n = 0;
    for (int i = 0; i < count; i++)
        if (slots[i].p)
            live[n++] = slots[i].p;
    return pt_walk_is_exact(h, live, n);
}

/* One random sequence; returns after the first failure so the message points at it. */
static void random_ops(const lab_policy_t *pol, size_t align, unsigned long ops)
{
    lab_heap_t h;
    lab_cfg_t cfg = {.align = align};
    REQUIRE(pol->name, lab_heap_open(&h, pol, &cfg, 0) == 0);
    slot_t slots[SLOTS] = {{0}};
    int ok = 1;
    for (unsigned long op = 0; op < ops && ok; op++) {
        slot_t *s = &slots[rng() % SLOTS];
        unsigned kind = (unsigned)(rng() % 10);
        if (!s->p) {
            s->n = random_size();
            s->seed = (unsigned char)rng();
            s->p = kind == 0 ? lab_calloc(&h, 1, s->n) : lab_malloc(&h, s->n);
            ok = s->p && aligned(s->p, align) && lab_usable_size(&h, s->p) >= s->n;
            if (ok && kind == 0)
                for (size_t i = 0; i < s->n && ok; i++)
                    ok = s->p[i] == 0;
            if (ok)
                fill(s);
        } else if (kind < 3) {
            size_t n = random_size();
            unsigned char *q = lab_realloc(&h, s->p, n);
            ok = q && aligned(q, align) && lab_usable_size(&h, q) >= n;
            if (ok) {
                s->p = q;
                ok = intact(s, n < s->n ? n : s->n);
                s->n = n;
                fill(s);
            }
        } else {
            ok = intact(s, s->n) && lab_free(&h, s->p) == LAB_OK;
            s->p = NULL;
        }
        lab_report_t r = {0};
        if (ok && lab_check(&h, &r) != 0) {
            fprintf(stderr, "  %s align %zu op %lu: %s\n", pol->name, align, op, r.first);
            ok = 0;
        }
        if (ok && !walk_matches(&h, slots, SLOTS))
            ok = 0;
        if (!ok)
            fprintf(stderr, "  %s align %zu: failed at op %lu\n", pol->name, align, op);
    }
    CHECK(pol->name, ok);
    for (int i = 0; i < SLOTS && ok; i++)
        if (slots[i].p)
            CHECK("final free", intact(&slots[i], slots[i].n) && lab_free(&h, slots[i].p) == LAB_OK);
    lab_stats_t st;
    lab_stats(&h, &st);
    if (ok && !(pol->flags & LAB_USES_SYSTEM))
        CHECK("no live blocks after freeing all", st.live_blocks == 0 && st.block_bytes == 0);
    lab_heap_close(&h);
}

/* The walk on a heap shaped on purpose: mixed sizes, every third block freed, some grown
 * and shrunk in place or moved, and sizes that map (vm always; gnu from 128 KiB; hkfit for
 * page multiples; slab above 8 KiB). Checked at every stage, and empty at the end. */
static void walk_shaped(const lab_policy_t *pol, size_t align)
{
    static const size_t sizes[] = {1,     8,     24,    100,   500,    1000,   2048,  4000,
                                   8192,  12288, 16,    300,   65536,  200000, 33,    4096,
                                   20000, 3 * 4096 - 8, 512, 640, 131072, 700000, 48, 1 << 20};
    enum { N = sizeof sizes / sizeof sizes[0] };
    lab_heap_t h;
    lab_cfg_t cfg = {.align = align};
    if (!pol->walk) {
        CHECK("only the system heap has no walk", pol->flags & LAB_USES_SYSTEM);
        REQUIRE(pol->name, lab_heap_open(&h, pol, &cfg, 0) == 0);
        CHECK("lab_walk says -1 without a walk", lab_walk(&h, pt_collect_region, NULL) == -1);
        lab_report_t r = {0};
        CHECK("lab_walk_check says -1 without a walk", lab_walk_check(&h, &r) == -1);
        lab_heap_close(&h);
        return;
    }
    REQUIRE(pol->name, lab_heap_open(&h, pol, &cfg, 0) == 0);
    slot_t s[2 * N] = {{0}};
    CHECK("walk of an empty heap", walk_matches(&h, s, 2 * N));
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < N; i++)
            REQUIRE("malloc", (s[round * N + i].p = lab_malloc(&h, sizes[i])) != NULL);
    CHECK("walk after mallocs", walk_matches(&h, s, 2 * N));
    for (int i = 0; i < 2 * N; i += 3) {
        CHECK("free", lab_free(&h, s[i].p) == LAB_OK);
        s[i].p = NULL;
    }
    CHECK("walk after frees", walk_matches(&h, s, 2 * N));
    for (int i = 1; i < 2 * N; i += 3) {
        size_t n = i % 2 ? sizes[i % N] * 3 + 5000 : sizes[i % N] / 2 + 1;
        unsigned char *q = lab_realloc(&h, s[i].p, n);
        CHECK("realloc", q != NULL);
        s[i].p = q ? q : s[i].p;
    }
    CHECK("walk after reallocs", walk_matches(&h, s, 2 * N));
    for (int i = 0; i < 2 * N; i++)
        if (s[i].p) {
            CHECK("final free", lab_free(&h, s[i].p) == LAB_OK);
            s[i].p = NULL;
        }
    CHECK("walk after freeing all", walk_matches(&h, s, 2 * N));
    lab_heap_close(&h);
}

/* Edge cases of the contract, normalized by dispatch.c but exercised per policy. */
static void edge_cases(const lab_policy_t *pol)
{
    lab_heap_t h;
    REQUIRE(pol->name, lab_heap_open(&h, pol, NULL, 0) == 0);
    void *a = lab_malloc(&h, 0), *b = lab_malloc(&h, 0);
    CHECK("malloc(0) unique", a && b && a != b);
    CHECK("free(NULL)", lab_free(&h, NULL) == LAB_OK);
    errno = 0;
    CHECK("huge malloc", lab_malloc(&h, SIZE_MAX) == NULL && errno == ENOMEM);
    errno = 0;
    CHECK("calloc overflow", lab_calloc(&h, SIZE_MAX / 2, 3) == NULL && errno == ENOMEM);
    char *c = lab_realloc(&h, NULL, 10);
    CHECK("realloc(NULL)", c != NULL);
    CHECK("realloc(p, 0) frees", lab_realloc(&h, c, 0) == NULL);
    CHECK("free a", lab_free(&h, a) == LAB_OK && lab_free(&h, b) == LAB_OK);
    lab_report_t r = {0};
    CHECK("check after edges", lab_check(&h, &r) == 0);
    lab_heap_close(&h);
}

/* Invalid frees are reported, never crash, and leave a heap that still checks clean. */
static void bad_frees(const lab_policy_t *pol)
{
    if (pol->flags & LAB_USES_SYSTEM)
        return; /* the system allocator aborts on these by design */
    lab_heap_t h;
    REQUIRE(pol->name, lab_heap_open(&h, pol, NULL, 0) == 0);
    static char outside[64];
    char *keep = lab_malloc(&h, 100);
    char *p = lab_malloc(&h, 200);
    char *big = lab_malloc(&h, 300000);
    REQUIRE("mallocs", keep && p && big);
    CHECK("foreign pointer", lab_free(&h, outside + 16) == LAB_ERR_FOREIGN);
    CHECK("interior pointer", lab_free(&h, p + 16) != LAB_OK);
    CHECK("interior pointer of large", lab_free(&h, big + 4096) != LAB_OK);
    CHECK("misaligned pointer", lab_free(&h, p + 3) != LAB_OK);
    CHECK("free", lab_free(&h, p) == LAB_OK);
    lab_err_t e = lab_free(&h, p);
    CHECK("double free", e == LAB_ERR_DOUBLE_FREE || e == LAB_ERR_FOREIGN || e == LAB_ERR_CORRUPT);
    CHECK("free large", lab_free(&h, big) == LAB_OK);
    e = lab_free(&h, big);
    CHECK("double free of large", e != LAB_OK);
    CHECK("realloc of freed", lab_realloc(&h, p, 50) == NULL && h.last_error != LAB_OK);
    if (pol->realloc)
        CHECK("realloc of freed: free's error", lab_free(&h, p) == h.last_error);
    lab_report_t r = {0};
    CHECK("heap intact after bad frees", lab_check(&h, &r) == 0);
    if (r.count)
        fprintf(stderr, "  %s: %s\n", pol->name, r.first);
    CHECK("free keep", lab_free(&h, keep) == LAB_OK);
    lab_heap_close(&h);
}

/* realloc(p) while *word holds `damaged` (*word restored afterwards); *err gets last_error. */
static void *realloc_damaged(lab_heap_t *h, void *p, size_t n, size_t *word, size_t damaged,
                             lab_err_t *err)
{
    size_t saved = *word;
    *word = damaged;
    void *q = lab_realloc(h, p, n);
    *word = saved;
    *err = h->last_error;
    return q;
}

/* realloc validates p as free does: where free rejects a pointer, realloc returns NULL
 * with the same error (policies with their own realloc; dispatch.c's fallback can only say
 * "not a live block") and leaves the heap as it was. */
static void expect_realloc_like_free(lab_heap_t *h, const char *what, lab_err_t free_err,
                                     void *q, lab_err_t realloc_err)
{
    char msg[96];
    snprintf(msg, sizeof msg, "realloc of %s rejected like free", what);
    bool ok = free_err != LAB_OK && q == NULL &&
              (h->policy->realloc ? realloc_err == free_err : realloc_err != LAB_OK);
    CHECK(msg, ok);
    if (!ok)
        fprintf(stderr, "  %s: %s: free says \"%s\", realloc \"%s\"\n", h->policy->name, what,
                lab_strerror(free_err), lab_strerror(realloc_err));
    snprintf(msg, sizeof msg, "heap clean after realloc of %s", what);
    CHECK(msg, pt_heap_is_clean(h));
}

/* Policies that keep no header in front of a payload: nothing there for free to check. */
static bool headerless(const lab_policy_t *pol)
{
    return strcmp(pol->name, "pagemeta") == 0 || strcmp(pol->name, "slab") == 0;
}

/* realloc of an interior pointer and of a block with a damaged header: rejected with the
 * error free gives, heap untouched. The damage (0, then ~word, in the word before p, which
 * every policy with a header checks at alignment 8) is tried on free first; where free
 * accepts it (no header there) the block is simply freed and the next one is tried. */
static void bad_reallocs(const lab_policy_t *pol)
{
    if (pol->flags & LAB_USES_SYSTEM)
        return;
    lab_heap_t h;
    REQUIRE(pol->name, pt_open_policy(&h, pol, 8));
    char *before = lab_malloc(&h, 1000), *p = lab_malloc(&h, 1000);
    char *big = lab_malloc(&h, 300000);
    REQUIRE("mallocs", before && p && big);
    lab_err_t fe = lab_free(&h, p + 16), re;
    void *q = lab_realloc(&h, p + 16, 3000);
    expect_realloc_like_free(&h, "an interior pointer", fe, q, h.last_error);
    fe = lab_free(&h, big + 4096);
    q = lab_realloc(&h, big + 4096, 500000);
    expect_realloc_like_free(&h, "an interior pointer of large", fe, q, h.last_error);
    CHECK("realloc after rejections", (p = lab_realloc(&h, p, 1200)) != NULL);

    int detected = 0;
    for (int k = 0; k < 2; k++) {
        size_t *word = pt_word_at(p, -8);
        size_t damaged = k ? ~*word : 0;
        fe = pt_free_damaged(&h, p, word, damaged);
        if (fe == LAB_OK) { /* not checked there: p is gone, take a fresh block */
            CHECK("heap clean after an unchecked word", pt_heap_is_clean(&h));
            REQUIRE("malloc", (p = lab_malloc(&h, 1000)) != NULL);
            continue;
        }
        detected++;
        q = realloc_damaged(&h, p, 3000, word, damaged, &re);
        expect_realloc_like_free(&h, "a damaged header", fe, q, re);
        q = realloc_damaged(&h, p, 10, word, damaged, &re);
        expect_realloc_like_free(&h, "a damaged header (shrink)", fe, q, re);
    }
    if (!headerless(pol))
        CHECK("header damage is detected", detected == 2);
    CHECK("free p", lab_free(&h, p) == LAB_OK);
    CHECK("free before", lab_free(&h, before) == LAB_OK);
    CHECK("free big", lab_free(&h, big) == LAB_OK);
    CHECK("nothing live", pt_nothing_live(&h));
    lab_heap_close(&h);
}

/* Out of memory: NULL with ENOMEM, the heap stays consistent and usable. */
static void out_of_memory(const lab_policy_t *pol)
{
    if (pol->flags & LAB_USES_SYSTEM)
        return;
    lab_heap_t h;
    REQUIRE(pol->name, lab_heap_open(&h, pol, NULL, (size_t)1 << 20) == 0);
    void *ps[4096];
    int n = 0;
    errno = 0;
    while (n < 4096 && (ps[n] = lab_malloc(&h, 1000)) != NULL)
        n++;
    CHECK("limit reached with ENOMEM", n < 4096 && errno == ENOMEM);
    CHECK("footprint within limit", lab_peak_footprint(&h) <= ((size_t)1 << 20));
    lab_report_t r = {0};
    CHECK("check at OOM", lab_check(&h, &r) == 0);
    for (int i = 0; i < n; i++)
        lab_free(&h, ps[i]);
    if (!(pol->flags & LAB_NO_REUSE))
        CHECK("usable after OOM", (ps[0] = lab_malloc(&h, 1000)) != NULL);
    lab_heap_close(&h);
}

int main(int argc, char **argv)
{
    uint64_t seed = 42;
    unsigned long ops = 3000;
    int named = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--ops") == 0 && i + 1 < argc)
            ops = strtoul(argv[++i], NULL, 10);
        else
            named = 1;
    }
    printf("seed %llu, %lu ops per sequence\n", (unsigned long long)seed, ops);
    for (const lab_policy_t *const *p = lab_policies; *p; p++) {
        int wanted = !named;
        for (int i = 1; i < argc && !wanted; i++)
            wanted = strcmp(argv[i], (*p)->name) == 0;
        if (!wanted)
            continue;
        int before = hk_test_failed;
        rng_state = seed * 2654435761u + 1;
        random_ops(*p, 16, ops);
        random_ops(*p, 8, ops);
        walk_shaped(*p, 16);
        walk_shaped(*p, 8);
        edge_cases(*p);
        bad_frees(*p);
        bad_reallocs(*p);
        out_of_memory(*p);
        printf("%-16s %s\n", (*p)->name, hk_test_failed == before ? "ok" : "FAILED");
    }
    return hk_test_summary();
}
