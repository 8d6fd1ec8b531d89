/*
 * bitbins.h -- bins of free blocks: size -> bin, a bitmap of the non-empty bins, and one
 *              doubly linked list of free blocks per bin.
 *
 * Design:      The one index mechanism under bins.c, segfit.c, gnu.c and hkfit's free
 *              spans. A policy describes which sizes share a bin by a shape
 *              (lab_binshape_t), a constant of its file; the bin count, the spacing of the
 *              bins and the list discipline are its fields, so the policies differ only in
 *              their shape, not in copies of this code. The hot functions are static inline
 *              and take the shape as a constant argument, so the compiler folds it away
 *              (a small map keeps no summary word, a shape with no exact bins tests no
 *              exact range, one that cannot overflow its last bin is not clamped).
 *              The lists and the map live in the policy's state: head[nbins] and
 *              map[LAB_BINMAP_WORDS(nbins)]; a node lives inside a free block.
 * Layout:
 *
 *   size:  0 .. exact_max           | 2^range_lg .. 2^(range_lg+1) - 1 | 2^(range_lg+1) ...
 *   bin:   size >> exact_shift      | first_range + 0 .. 2^per_lg - 1 | + 2^per_lg ...
 *          (exact bins: one size    | (range bins: 2^per_lg per power of two, each
 *           per bin)                |  holding an equal slice of it; the last bin also
 *                                   |  holds every larger size)
 *
 *   map, W <= 8:  | word 0 | ... | word W-1 |                 W = ceil(nbins / 64) words
 *   map, W >  8:  | word 0 | ... | word W-1 | summary |       (LAB_BINMAP_SCAN_WORDS = 8)
 *                 bit i % 64 of word i / 64 set: bin i is non-empty
 *                 bit w of the summary set: word w is non-zero
 *                 (a map of up to 8 words is scanned word by word: that costs less than
 *                 keeping a summary on every push and remove; bins, 4 words, took 3.8%
 *                 more instructions with one, in callgrind on random-bal and binary-bal)
 *
 *   head[i] -> | next | prev=NULL | -> | next | prev | -> ... -> | NULL | prev |
 *              a lab_binnode_t inside each free block (at the policy's offset)
 *
 * Invariants:  M1 bit i of the map is set iff head[i] != NULL; no bit at or above nbins
 *              M2 with a summary, summary bit w is set iff word w is non-zero
 *              L1 every list is doubly linked: its head has prev == NULL, and each node's
 *                 next is NULL or has prev == that node
 *              L2 each node of list i is a free block the policy knows, whose size maps
 *                 to bin i (lab_bin_of); the lists hold at most `limit` nodes together
 *              L3 from bin sorted_from up, each list is in ascending order of size
 *              lab_bins_check() (bitbins.c) verifies M1, M2 and L1-L3.
 * Cost:        lab_bin_of O(1): a compare, a count of leading zeros, shifts. lab_bin_next
 *              (the first non-empty bin >= i) reads at most 8 map words, or two and the
 *              summary, with one count of trailing zeros per word found: O(1) words for any
 *              bin count. Push, unlink and link-after O(1).
 */
#ifndef LAB_BITBINS_H
#define LAB_BITBINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/* The helpers below fold into a few instructions once the shape is known: inlined always,
 * so that a policy's own small index functions stay small enough to be inlined too. */
#define LAB_BINS_INLINE static inline __attribute__((always_inline))

#define LAB_BINS_MAX 4032u /* 63 words: the summary's "words above w" needs w < 63 */

/* Maps of up to this many words are scanned; larger ones keep a summary word. */
#define LAB_BINMAP_SCAN_WORDS 8u

/* Words of a map for n bins: the bin words, then the summary when the map keeps one. */
#define LAB_BINMAP_WORDS(n) (((n) + 63) / 64 + (((n) + 63) / 64 > LAB_BINMAP_SCAN_WORDS))

/* Which sizes share a bin; see the diagram above. A policy keeps one as a constant. */
typedef struct lab_binshape {
    unsigned nbins;       /* bins in all, 1 .. LAB_BINS_MAX */
    size_t   exact_max;   /* sizes <= exact_max have an exact bin (0: no exact bins) */
    unsigned exact_shift; /* ... which is size >> exact_shift */
    unsigned first_range; /* bin of the smallest size above exact_max */
    unsigned range_lg;    /* log2 of the smallest size of bin first_range */
    unsigned per_lg;      /* log2 of the range bins per power of two */
    unsigned size_lg_max; /* log2 of the largest size ever binned (63: any size_t) */
    unsigned sorted_from; /* lists of bins >= this are sorted by size (L3); nbins: none */
} lab_binshape_t;

/* The links a binned free block keeps. */
typedef struct lab_binnode {
    struct lab_binnode *next, *prev;
} lab_binnode_t;

/* ---- Size -> bin ---- */

LAB_BINS_INLINE unsigned lab_binmap_words(const lab_binshape_t *sh)
{
    return (sh->nbins + 63) / 64;
}

/* Does the map keep a summary word (at map[words])? */
LAB_BINS_INLINE bool lab_binmap_summary(const lab_binshape_t *sh)
{
    return lab_binmap_words(sh) > LAB_BINMAP_SCAN_WORDS;
}

/* Can a size reach past the last bin, so that it must be clamped to the last bin? */
LAB_BINS_INLINE bool lab_bins_clamp(const lab_binshape_t *sh)
{
    unsigned top = sh->first_range + ((sh->size_lg_max - sh->range_lg) << sh->per_lg) +
                   (1u << sh->per_lg) - 1;
    return top >= sh->nbins;
}

/* pre: size > 0, size >= 2^range_lg when it is above exact_max, log2(size) <= size_lg_max. */
LAB_BINS_INLINE unsigned lab_bin_of(const lab_binshape_t *sh, size_t size)
{
    if (sh->exact_max && size <= sh->exact_max)
        return (unsigned)(size >> sh->exact_shift);
    unsigned lg = 63u - (unsigned)__builtin_clzll((unsigned long long)size);
    unsigned slice = (unsigned)(size >> (lg - sh->per_lg)) & ((1u << sh->per_lg) - 1);
    unsigned i = sh->first_range + ((lg - sh->range_lg) << sh->per_lg) + slice;
    if (lab_bins_clamp(sh) && i >= sh->nbins)
        i = sh->nbins - 1;
    return i;
}

/* ---- The bitmap ---- */

LAB_BINS_INLINE bool lab_binmap_test(const uint64_t *map, unsigned i)
{
    return (map[i / 64] >> (i % 64)) & 1;
}

/* The map word of bin i: word 0 in a one-word map, where i < 64 need not be computed. */
LAB_BINS_INLINE unsigned lab_binmap_word(const lab_binshape_t *sh, unsigned i)
{
    return lab_binmap_words(sh) == 1 ? 0 : i / 64;
}

LAB_BINS_INLINE void lab_binmap_set(const lab_binshape_t *sh, uint64_t *map, unsigned i)
{
    map[lab_binmap_word(sh, i)] |= (uint64_t)1 << (i % 64);
    if (lab_binmap_summary(sh))
        map[lab_binmap_words(sh)] |= (uint64_t)1 << (i / 64);
}

LAB_BINS_INLINE void lab_binmap_clear(const lab_binshape_t *sh, uint64_t *map, unsigned i)
{
    if (!(map[lab_binmap_word(sh, i)] &= ~((uint64_t)1 << (i % 64))) && lab_binmap_summary(sh))
        map[lab_binmap_words(sh)] &= ~((uint64_t)1 << (i / 64));
}

/* The first non-empty bin >= i, or nbins: the word of i, else the next non-zero word,
 * which the summary names or a scan finds (M1, M2: no bit at or above nbins is set). */
LAB_BINS_INLINE unsigned lab_bin_next(const lab_binshape_t *sh, const uint64_t *map, unsigned i)
{
    if (i >= sh->nbins)
        return sh->nbins;
    unsigned w = lab_binmap_word(sh, i);
    uint64_t m = map[w] & (~(uint64_t)0 << (i % 64));
    if (m)
        return w * 64 + (unsigned)__builtin_ctzll(m);
    if (!lab_binmap_summary(sh)) {
        while (!m) {
            if (++w >= lab_binmap_words(sh))
                return sh->nbins;
            m = map[w];
        }
        return w * 64 + (unsigned)__builtin_ctzll(m);
    }
    uint64_t words = map[lab_binmap_words(sh)] & (~(uint64_t)1 << w); /* words above w */
    if (!words)
        return sh->nbins;
    w = (unsigned)__builtin_ctzll(words);
    return w * 64 + (unsigned)__builtin_ctzll(map[w]);
}

/* The highest non-empty bin, or nbins when all are empty. */
LAB_BINS_INLINE unsigned lab_bin_last(const lab_binshape_t *sh, const uint64_t *map)
{
    unsigned w = lab_binmap_words(sh);
    if (lab_binmap_summary(sh)) {
        if (!map[w])
            return sh->nbins;
        w = 64 - (unsigned)__builtin_clzll(map[w]);
    }
    while (w-- > 0)
        if (map[w])
            return w * 64 + 63u - (unsigned)__builtin_clzll(map[w]);
    return sh->nbins;
}

/* ---- Lists ---- */

/* Links n in front of the list at *head (LIFO). */
LAB_BINS_INLINE void lab_binlist_push(lab_binnode_t **head, lab_binnode_t *n)
{
    n->prev = NULL;
    n->next = *head;
    if (n->next)
        n->next->prev = n;
    *head = n;
}

/* Unlinks n from the list at *head; true when that list is now empty. */
LAB_BINS_INLINE bool lab_binlist_unlink(lab_binnode_t **head, lab_binnode_t *n)
{
    bool empty = false;
    if (n->prev)
        n->prev->next = n->next;
    else
        empty = (*head = n->next) == NULL;
    if (n->next)
        n->next->prev = n->prev;
    return empty;
}

/* ---- Bins: a list per bin, kept in step with the map ---- */

/* Links n in front of bin i. */
LAB_BINS_INLINE void lab_bin_push(const lab_binshape_t *sh, lab_binnode_t **head, uint64_t *map,
                                unsigned i, lab_binnode_t *n)
{
    lab_binlist_push(&head[i], n);
    lab_binmap_set(sh, map, i);
}

/* Links n into bin i just after `after` (NULL: in front), for a policy that keeps its
 * lists sorted (L3) and has found the place itself. */
LAB_BINS_INLINE void lab_bin_link_after(const lab_binshape_t *sh, lab_binnode_t **head,
                                      uint64_t *map, unsigned i, lab_binnode_t *after,
                                      lab_binnode_t *n)
{
    if (!after) {
        lab_bin_push(sh, head, map, i, n);
        return;
    }
    n->prev = after;
    n->next = after->next;
    if (n->next)
        n->next->prev = n;
    after->next = n;
}

/* Unlinks n from bin i, clearing the bin's bit when it empties. */
LAB_BINS_INLINE void lab_bin_remove(const lab_binshape_t *sh, lab_binnode_t **head, uint64_t *map,
                                  unsigned i, lab_binnode_t *n)
{
    if (lab_binlist_unlink(&head[i], n))
        lab_binmap_clear(sh, map, i);
}

/* ---- Checker (bitbins.c) ---- */

/* The size of the free block that holds node n, or 0 when n is not in a free block the
 * policy knows (a damaged link): the checker then stops that list there. */
typedef size_t (*lab_binsize_fn)(const void *ctx, const lab_binnode_t *n);

/* Verifies M1, M2 and L1-L3 over head[0 .. nbins) and map, following at most limit + 1
 * nodes (a cycle cannot hang it); violations are reported as "<id>: ...". Returns the
 * number of nodes the lists hold. */
size_t lab_bins_check(const lab_binshape_t *sh, lab_binnode_t *const *head, const uint64_t *map,
                      lab_binsize_fn size_of, const void *ctx, size_t limit, const char *id,
                      lab_report_t *r);

#endif
