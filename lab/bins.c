/*
 * bins.c -- DMMgr 5 of the COS217 lecture: an array of bins of doubly linked free lists.
 *
 * Algorithm:   The boundary-tag heap of tagheap.h (tags, merging, growth at the top,
 *              in-place realloc, bad-free checks) with an array of bins as its index:
 *              1. find: look in the bin of the block size; then in the next non-empty
 *                 bins above it, found through a bitmap of non-empty bins. Exact bins
 *                 hold one size each, so their head is the best fit; in a range bin the
 *                 best fit among its first SEARCH_LIMIT blocks is taken. No fit: the
 *                 heap grows.
 *              2. a split's free tail goes to the bin of its size.
 *              3. a freed block, merged with its neighbours, goes to the front of its
 *                 bin (LIFO).
 *              The lecture's single "final bin" for every size >= MAX_BIN is split into
 *              range bins (4 per power of two) so that best fit there scans a short list.
 * Layout:      blocks, prologue and epilogue as drawn in tagheap.h; a free block keeps
 *              lab_tagnode_t { next, prev } in its payload. The bin array and the
 *              bitmap are fixed-size state, kept by bitbins.h (this file is its shape):
 *
 *   bin:   0..3     4   5   6  ...  128 | 129..132               | 133..136     | ... 255
 *   size:  unused  32  40  48  ... 1024 | (1024, 2048) quarters  | [2048, 4096) | ... rest
 *          exact bins: bin = size / 8     | range bins: 4 per power of two
 *          (with align 16 only the even exact bins are used)
 *   map:    bit i of map[i / 64] is set <=> bin i is non-empty
 *
 *   free block:  | hdr: size 0 0 0 | next | prev | ... | ftr == hdr |
 *
 * Errors:      as tagheap.h: tags and free neighbours are validated before a free or
 *              realloc changes anything, and nothing outside the region is read.
 * Invariants:  T1-T5 of tagheap.h, and
 *              B1 every free block is linked: prev->next == it (or it heads the bin of
 *                 its size when prev is NULL) and next->prev == it when next is not NULL
 *              B2 the bins hold exactly the free blocks: each node is a free block inside
 *                 the heap whose size maps to that bin; bins together hold as many nodes
 *                 as the walk finds free blocks; the map is right (M1, M2, L1-L3 of
 *                 bitbins.h)
 *              bins check() = lab_tagheap_check() (T1-T5) calling bins_check_block (B1)
 *              and bins_check_index (B2).
 * Cost:        free O(1); malloc O(1) for exact bins (bitbins.h's map), at most
 *              SEARCH_LIMIT blocks per range bin visited.
 * Pathology:   best fit leaves many small remainders; the search limit can miss a
 *              fitting block deep in a long range bin and take a larger one instead
 *              (or grow the heap), trading footprint for bounded time.
 */
#include "tagheap.h"

#include <stdbool.h>

/* ---- Types and constants ---- */

#define NBINS        256
#define SEARCH_LIMIT 32 /* blocks visited per range bin */

/* Exact bins up to 1 KiB (size / 8), then 4 range bins per power of two; the last bin
 * holds every larger size. */
static const lab_binshape_t shape = {
    .nbins = NBINS,
    .exact_max = 1024,
    .exact_shift = 3,
    .first_range = 1024 / 8 + 1,
    .range_lg = 10,
    .per_lg = 2,
    .size_lg_max = 63,
    .sorted_from = NBINS,
};

typedef lab_tagnode_t node_t;

typedef struct bins {
    lab_tagheap_t th; /* first: the heap hands it to the index functions */
    uint64_t      map[LAB_BINMAP_WORDS(NBINS)];
    node_t       *bin[NBINS];
} bins_t;

static bins_t *bins_of(lab_tagheap_t *th) { return (bins_t *)(void *)th; }

/* ---- Bins ---- */

static unsigned bin_of(size_t size) { return lab_bin_of(&shape, size); }

static void bins_insert(lab_tagheap_t *th, void *b, size_t size)
{
    bins_t *h = bins_of(th);
    lab_bin_push(&shape, h->bin, h->map, bin_of(size), b);
}

static void bins_remove(lab_tagheap_t *th, void *b, size_t size)
{
    bins_t *h = bins_of(th);
    lab_bin_remove(&shape, h->bin, h->map, bin_of(size), b);
}

/* ---- Placement ---- */

/* Smallest block >= size among the first SEARCH_LIMIT of a bin (an exact fit stops). */
static node_t *best_in_bin(node_t *b, size_t size)
{
    node_t *pick = NULL;
    size_t pick_size = SIZE_MAX;
    for (int seen = 0; b && seen < SEARCH_LIMIT; b = b->next, seen++) {
        size_t s = lab_blk_size(b);
        if (s < size || s >= pick_size)
            continue;
        pick = b;
        pick_size = s;
        if (s == size)
            break;
    }
    return pick;
}

static void *bins_find(lab_tagheap_t *th, size_t size)
{
    const bins_t *h = bins_of(th);
    for (unsigned i = lab_bin_next(&shape, h->map, bin_of(size)); i < NBINS;
         i = lab_bin_next(&shape, h->map, i + 1)) {
        node_t *b = i < shape.first_range ? h->bin[i] : best_in_bin(h->bin[i], size);
        if (b)
            return b;
    }
    return NULL;
}

/* The top non-empty bin holds the largest block. */
static size_t bins_largest(lab_tagheap_t *th)
{
    const bins_t *h = bins_of(th);
    unsigned top = lab_bin_last(&shape, h->map);
    size_t largest = 0;
    for (node_t *b = top < NBINS ? h->bin[top] : NULL; b; b = b->next)
        if (lab_blk_size(b) > largest)
            largest = lab_blk_size(b);
    return largest;
}

/* ---- Checker ---- */

static void bins_check_block(lab_tagheap_t *th, void *b, lab_report_t *r)
{
    LAB_EXPECT(r, lab_tagnode_is_linked(th, bins_of(th)->bin[bin_of(lab_blk_size(b))], b),
               "B1: free block %p is not linked both ways", b);
}

static void bins_check_index(lab_tagheap_t *th, size_t free_walk, lab_report_t *r)
{
    const bins_t *h = bins_of(th);
    lab_tagheap_check_bins(th, &shape, h->bin, h->map, free_walk, "B2", r);
}

static const lab_tagindex_t bins_index = {
    .insert = bins_insert,
    .remove = bins_remove,
    .find = bins_find,
    .largest = bins_largest,
    .check_block = bins_check_block,
    .check_index = bins_check_index,
};

/* ---- Operations: the heap with this index ---- */

static int bins_init(void *st, lab_mem_t *mem, const lab_cfg_t *cfg, int variant)
{
    (void)variant;
    return lab_tagheap_init(st, &bins_index, mem, cfg);
}

static void *bins_malloc(void *st, size_t n) { return lab_tagheap_malloc(st, &bins_index, n); }
static lab_err_t bins_free(void *st, void *p) { return lab_tagheap_free(st, &bins_index, p); }
static void *bins_realloc(void *st, void *p, size_t n, lab_err_t *err)
{
    return lab_tagheap_realloc(st, &bins_index, p, n, err);
}

const lab_policy_t lab_policy_bins = {
    .name = "bins",
    .description = "DMMgr 5: bins of free lists, exact up to 1 KiB, best fit, bitmap search",
    .state_size = sizeof(bins_t),
    .init = bins_init,
    .malloc = bins_malloc,
    .free = bins_free,
    .realloc = bins_realloc,
    .usable_size = lab_tagheap_usable_size,
    .check = lab_tagheap_check,
    .stats = lab_tagheap_stats,
    .walk = lab_tagheap_walk,
};
