/*
 * segfit.c -- segregated fits (CS:APP 9.9.14): one free list per power-of-two size class.
 *
 * Algorithm:   The boundary-tag heap of tagheap.h (tags, merging, growth at the top,
 *              in-place realloc, bad-free checks) with size classes as its index:
 *              1. find: first fit in the list of the block size's class, looking at no
 *                 more than SEARCH_LIMIT blocks; then the first non-empty class above
 *                 it (found through a bitmap), whose head always fits. No fit: the heap
 *                 grows.
 *              2. a split's free tail goes to the class of its size.
 *              3. a freed block, merged with its neighbours, goes to the front of its
 *                 class (LIFO).
 * Layout:      blocks, prologue and epilogue as drawn in tagheap.h; a free block keeps
 *              lab_tagnode_t { next, prev } in its payload. The class array and the
 *              bitmap are fixed-size state, kept by bitbins.h (this file is its shape):
 *
 *   class k:   0        1         2          ...   k
 *   sizes:     [32,64)  [64,128)  [128,256)  ...   [2^(k+5), 2^(k+6))
 *   map:       bit k set <=> class k is non-empty
 *
 *   free block:  | hdr: size 0 0 0 | next | prev | ... | ftr == hdr |
 *
 * Errors:      as tagheap.h: tags and free neighbours are validated before a free or
 *              realloc changes anything, and nothing outside the region is read.
 * Invariants:  T1-T5 of tagheap.h, and
 *              S1 every free block is linked: prev->next == it (or it heads the list of
 *                 its class when prev is NULL) and next->prev == it when next is not NULL
 *              S2 the classes hold exactly the free blocks: each node is a free block
 *                 inside the heap whose size is in that class; classes together hold as
 *                 many nodes as the walk finds free blocks; the map is right (M1, M2,
 *                 L1-L3 of bitbins.h)
 *              segfit check() = lab_tagheap_check() (T1-T5) calling segfit_check_block
 *              (S1) and segfit_check_index (S2).
 * Cost:        free O(1); malloc visits at most SEARCH_LIMIT blocks of its class, then
 *              one bitmap lookup.
 * Pathology:   a class spans a factor of two, so a request near the top of its class
 *              often misses in its own list and splits a block of the next class; the
 *              search limit can miss a fit deep in a long list, trading footprint for
 *              bounded time.
 */
#include "tagheap.h"

#include <stdbool.h>

/* ---- Types and constants ---- */

#define MIN_SHIFT    5  /* class 0 starts at 32 = 1 << MIN_SHIFT */
#define NCLASSES     (64 - MIN_SHIFT)
#define SEARCH_LIMIT 16 /* blocks of the request's own class visited */

/* One range bin per power of two from 32 up: no exact bins, class k = log2(size) - 5. */
static const lab_binshape_t shape = {
    .nbins = NCLASSES,
    .first_range = 0,
    .range_lg = MIN_SHIFT,
    .per_lg = 0,
    .size_lg_max = 63,
    .sorted_from = NCLASSES,
};

typedef lab_tagnode_t node_t;

typedef struct segfit {
    lab_tagheap_t th;  /* first: the heap hands it to the index functions */
    uint64_t      map[LAB_BINMAP_WORDS(NCLASSES)]; /* bit k set <=> class k is non-empty */
    node_t       *list[NCLASSES];
} segfit_t;

static segfit_t *segfit_of(lab_tagheap_t *th) { return (segfit_t *)(void *)th; }

/* ---- Classes ---- */

static unsigned class_of(size_t size) { return lab_bin_of(&shape, size); }

static void segfit_insert(lab_tagheap_t *th, void *b, size_t size)
{
    segfit_t *h = segfit_of(th);
    lab_bin_push(&shape, h->list, h->map, class_of(size), b);
}

static void segfit_remove(lab_tagheap_t *th, void *b, size_t size)
{
    segfit_t *h = segfit_of(th);
    lab_bin_remove(&shape, h->list, h->map, class_of(size), b);
}

/* ---- Placement ---- */

/* First block >= size among the first SEARCH_LIMIT of a list. */
static node_t *first_in_list(node_t *b, size_t size)
{
    for (int seen = 0; b && seen < SEARCH_LIMIT; b = b->next, seen++)
        if (lab_blk_size(b) >= size)
            return b;
    return NULL;
}

static void *segfit_find(lab_tagheap_t *th, size_t size)
{
    const segfit_t *h = segfit_of(th);
    unsigned k = class_of(size);
    node_t *b = first_in_list(h->list[k], size);
    if (b)
        return b;
    k = lab_bin_next(&shape, h->map, k + 1); /* a higher class's blocks are all larger */
    return k < NCLASSES ? h->list[k] : NULL;
}

/* The top non-empty class holds the largest block. */
static size_t segfit_largest(lab_tagheap_t *th)
{
    const segfit_t *h = segfit_of(th);
    unsigned top = lab_bin_last(&shape, h->map);
    size_t largest = 0;
    for (node_t *b = top < NCLASSES ? h->list[top] : NULL; b; b = b->next)
        if (lab_blk_size(b) > largest)
            largest = lab_blk_size(b);
    return largest;
}

/* ---- Checker ---- */

static void segfit_check_block(lab_tagheap_t *th, void *b, lab_report_t *r)
{
    LAB_EXPECT(r, lab_tagnode_is_linked(th, segfit_of(th)->list[class_of(lab_blk_size(b))], b),
               "S1: free block %p is not linked both ways", b);
}

static void segfit_check_index(lab_tagheap_t *th, size_t free_walk, lab_report_t *r)
{
    const segfit_t *h = segfit_of(th);
    lab_tagheap_check_bins(th, &shape, h->list, h->map, free_walk, "S2", r);
}

static const lab_tagindex_t segfit_index = {
    .insert = segfit_insert,
    .remove = segfit_remove,
    .find = segfit_find,
    .largest = segfit_largest,
    .check_block = segfit_check_block,
    .check_index = segfit_check_index,
};

/* ---- Operations: the heap with this index ---- */

static int segfit_init(void *st, lab_mem_t *mem, const lab_cfg_t *cfg, int variant)
{
    (void)variant;
    return lab_tagheap_init(st, &segfit_index, mem, cfg);
}

static void *segfit_malloc(void *st, size_t n) { return lab_tagheap_malloc(st, &segfit_index, n); }
static lab_err_t segfit_free(void *st, void *p) { return lab_tagheap_free(st, &segfit_index, p); }
static void *segfit_realloc(void *st, void *p, size_t n, lab_err_t *err)
{
    return lab_tagheap_realloc(st, &segfit_index, p, n, err);
}

const lab_policy_t lab_policy_segfit = {
    .name = "segfit",
    .description = "CS:APP segregated fits: power-of-two classes, first fit, coalescing",
    .state_size = sizeof(segfit_t),
    .init = segfit_init,
    .malloc = segfit_malloc,
    .free = segfit_free,
    .realloc = segfit_realloc,
    .usable_size = lab_tagheap_usable_size,
    .check = lab_tagheap_check,
    .stats = lab_tagheap_stats,
    .walk = lab_tagheap_walk,
};
