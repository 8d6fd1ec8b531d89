/*
 * dlist.c -- DMMgr 4 of the COS217 lecture: one explicit doubly linked free list.
 *
 * Algorithm:   The boundary-tag heap of tagheap.h (tags, merging, growth at the top,
 *              in-place realloc, bad-free checks) with one list as its index:
 *              1. find: search the list with the variant's fit: first (first block
 *                 that is big enough), next (first fit resumed where the last search
 *                 stopped), best (smallest big enough, stops at an exact fit), worst
 *                 (largest). No fit: the heap grows.
 *              2. a split's free tail keeps the block's place in the list (and the
 *                 rover, when it pointed there): replace.
 *              3. a freed block, merged with its neighbours, goes to the front (LIFO).
 * Layout:      blocks, prologue and epilogue as drawn in tagheap.h; a free block keeps
 *              lab_tagnode_t { next, prev } in its payload. State: one head, the rover.
 *
 *   head -> [free] <-> [free] <-> ... <-> [free] -> NULL     (any address order)
 *                         ^ rover (next fit: where the next search starts; NULL = head)
 *
 * Invariants:  T1-T5 of tagheap.h, and
 *              D1 every free block is linked: prev->next == it (or head == it when
 *                 prev is NULL) and next->prev == it when next is not NULL
 *              D2 the list holds exactly the free blocks: each node is a free block
 *                 inside the heap, the list length equals the free blocks of the walk,
 *                 and the rover is NULL or on the list
 *              dlist check() = lab_tagheap_check() (T1-T5) calling dlist_check_block
 *              (D1) and dlist_check_index (D2).
 * Cost:        free O(1); malloc O(free blocks) for every fit (first/next stop early,
 *              best stops at an exact fit, worst always scans the whole list).
 * Pathology:   the search is linear: a long list of small blocks in front makes every
 *              large request slow. Next fit scatters small blocks over the whole heap;
 *              worst fit breaks up the large blocks a later large request needs.
 * Errors:      as tagheap.h: tags and free neighbours are validated before a free or
 *              realloc changes anything, and nothing outside the region is read.
 */
#include "tagheap.h"

#include <stdbool.h>

/* ---- Types ---- */

enum fit { FIT_FIRST, FIT_NEXT, FIT_BEST, FIT_WORST };

typedef lab_tagnode_t node_t;

typedef struct dlist {
    lab_tagheap_t th; /* first: the heap hands it to the index functions */
    int           fit;
    node_t       *head;
    node_t       *rover; /* next fit: where the next search starts (NULL = at head) */
} dlist_t;

static dlist_t *dlist_of(lab_tagheap_t *th) { return (dlist_t *)(void *)th; }

/* ---- The index: one list ---- */

static void dlist_insert(lab_tagheap_t *th, void *b, size_t size)
{
    (void)size;
    lab_binlist_push(&dlist_of(th)->head, b);
}

static void dlist_remove(lab_tagheap_t *th, void *b, size_t size)
{
    dlist_t *h = dlist_of(th);
    node_t *node = b;
    (void)size;
    if (h->rover == node)
        h->rover = node->next;
    lab_binlist_unlink(&h->head, node);
}

/* The tail `rest` of free block `old` takes old's place in the list (and the rover). */
static void dlist_replace(lab_tagheap_t *th, void *old, void *rest, size_t rest_size)
{
    dlist_t *h = dlist_of(th);
    node_t *from = old, *to = rest;
    (void)rest_size;
    to->next = from->next;
    to->prev = from->prev;
    if (to->prev)
        to->prev->next = to;
    else
        h->head = to;
    if (to->next)
        to->next->prev = to;
    if (h->rover == from)
        h->rover = to;
}

/* ---- Placement ---- */

static node_t *first_fit(node_t *from, const node_t *to, size_t size)
{
    for (node_t *b = from; b != to; b = b->next)
        if (lab_blk_size(b) >= size)
            return b;
    return NULL;
}

/* Best fit (smallest big enough, stops at an exact fit) or worst fit (largest). */
static node_t *extreme_fit(const dlist_t *h, size_t size, bool best)
{
    node_t *pick = NULL;
    size_t pick_size = 0;
    for (node_t *b = h->head; b; b = b->next) {
        size_t s = lab_blk_size(b);
        if (s < size || (pick && (best ? s >= pick_size : s <= pick_size)))
            continue;
        pick = b;
        pick_size = s;
        if (best && s == size)
            break;
    }
    return pick;
}

static void *dlist_find(lab_tagheap_t *th, size_t size)
{
    dlist_t *h = dlist_of(th);
    switch ((enum fit)h->fit) {
    case FIT_FIRST:
        return first_fit(h->head, NULL, size);
    case FIT_NEXT: {
        node_t *b = first_fit(h->rover, NULL, size);
        if (!b)
            b = first_fit(h->head, h->rover, size);
        if (b)
            h->rover = b; /* the split or unlink moves it past b */
        return b;
    }
    case FIT_BEST:
        return extreme_fit(h, size, true);
    case FIT_WORST:
        return extreme_fit(h, size, false);
    }
    return NULL;
}

static size_t dlist_largest(lab_tagheap_t *th)
{
    size_t largest = 0;
    for (node_t *b = dlist_of(th)->head; b; b = b->next)
        if (lab_blk_size(b) > largest)
            largest = lab_blk_size(b);
    return largest;
}

/* ---- Checker ---- */

static void dlist_check_block(lab_tagheap_t *th, void *b, lab_report_t *r)
{
    LAB_EXPECT(r, lab_tagnode_is_linked(th, dlist_of(th)->head, b),
               "D1: free block %p is not linked both ways", b);
}

static void dlist_check_index(lab_tagheap_t *th, size_t free_walk, lab_report_t *r)
{
    const dlist_t *h = dlist_of(th);
    int before = r->count;
    lab_tagnode_check_list(th, h->head, free_walk, "D2", r);
    if (r->count != before || !h->rover)
        return; /* a bad list: the walk below could run off it */
    const node_t *b = h->head;
    while (b && b != h->rover)
        b = b->next;
    LAB_EXPECT(r, b != NULL, "D2: rover %p is not on the list", (void *)h->rover);
}

static const lab_tagindex_t dlist_index = {
    .insert = dlist_insert,
    .remove = dlist_remove,
    .replace = dlist_replace,
    .find = dlist_find,
    .largest = dlist_largest,
    .check_block = dlist_check_block,
    .check_index = dlist_check_index,
};

/* ---- Operations: the heap with this index ---- */

static int dlist_init(void *st, lab_mem_t *mem, const lab_cfg_t *cfg, int variant)
{
    dlist_of(st)->fit = variant;
    return lab_tagheap_init(st, &dlist_index, mem, cfg);
}

static void *dlist_malloc(void *st, size_t n) { return lab_tagheap_malloc(st, &dlist_index, n); }
static lab_err_t dlist_free(void *st, void *p) { return lab_tagheap_free(st, &dlist_index, p); }
static void *dlist_realloc(void *st, void *p, size_t n, lab_err_t *err)
{
    return lab_tagheap_realloc(st, &dlist_index, p, n, err);
}

/* ---- The four fits: one table of functions ---- */

#define DLIST_POLICY(fit_, name_, what_)                                                           \
    {                                                                                              \
        .name = name_, .description = "DMMgr 4: explicit doubly linked free list, " what_,         \
        .variant = fit_, .state_size = sizeof(dlist_t), .init = dlist_init,                        \
        .malloc = dlist_malloc, .free = dlist_free, .realloc = dlist_realloc,                      \
        .usable_size = lab_tagheap_usable_size, .check = lab_tagheap_check,                        \
        .stats = lab_tagheap_stats, .walk = lab_tagheap_walk,                                      \
    }

const lab_policy_t lab_policy_dlist_first = DLIST_POLICY(FIT_FIRST, "dlist-first", "first fit");
const lab_policy_t lab_policy_dlist_next = DLIST_POLICY(FIT_NEXT, "dlist-next", "next fit");
const lab_policy_t lab_policy_dlist_best = DLIST_POLICY(FIT_BEST, "dlist-best", "best fit");
const lab_policy_t lab_policy_dlist_worst = DLIST_POLICY(FIT_WORST, "dlist-worst", "worst fit");
