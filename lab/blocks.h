/*
 * blocks.h -- boundary-tag helpers shared by the list-based policies
 *             (list, implicit, dlist, bins, segfit, gnu, ...).
 *
 * Design:      Knuth's boundary tags as CS:APP 9.9 draws them. A block is named by
 *              its payload pointer `bp`; the header is the word before it. Sizes are
 *              whole blocks (header + payload + padding [+ footer]) and multiples of
 *              8, so the three low bits of a tag are free for flags.
 * Layout:
 *
 *        header                 payload (bp points here)               footer (optional)
 *   +---------------+-----------------------------------------+---------------+
 *   | size | p | a  |  ...                                    | size | p | a  |
 *   +---------------+-----------------------------------------+---------------+
 *   ^ bp - 8        ^ bp                                      ^ bp + size - 16
 *   a = LAB_TAG_ALLOC (bit 0): this block is allocated
 *   p = LAB_TAG_PREV_ALLOC (bit 1): the block just below is allocated (lets
 *       allocated blocks drop their footer, CS:APP practice problem 9.10)
 *
 * Invariants:  each policy that includes this header states which of these it keeps:
 *              B1 size >= the policy's minimum block and size % align == 0
 *              B2 a block with a footer has footer == header
 *              B3 next(bp) == bp + size(bp); prev(bp) is only valid when the block
 *                 below has a footer
 */
#ifndef LAB_BLOCKS_H
#define LAB_BLOCKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LAB_WORD             sizeof(size_t)
#define LAB_TAG_ALLOC        ((size_t)1)
#define LAB_TAG_PREV_ALLOC   ((size_t)2)
#define LAB_TAG_FLAGS        ((size_t)7)

static inline size_t lab_tag(size_t size, size_t flags) { return size | flags; }
static inline size_t lab_tag_size(size_t tag) { return tag & ~LAB_TAG_FLAGS; }
static inline bool lab_tag_is_alloc(size_t tag) { return (tag & LAB_TAG_ALLOC) != 0; }
static inline bool lab_tag_has_prev_alloc(size_t tag) { return (tag & LAB_TAG_PREV_ALLOC) != 0; }

static inline size_t *lab_hdr(void *bp) { return (size_t *)bp - 1; }
static inline size_t lab_blk_size(void *bp) { return lab_tag_size(*lab_hdr(bp)); }
static inline bool lab_blk_is_alloc(void *bp) { return lab_tag_is_alloc(*lab_hdr(bp)); }
static inline size_t *lab_ftr(void *bp)
{
    return (size_t *)(void *)((char *)bp + lab_blk_size(bp) - 2 * LAB_WORD);
}
static inline void *lab_next_blk(void *bp) { return (char *)bp + lab_blk_size(bp); }
/* Valid only when the block below has a footer (it is free, or the policy keeps footers). */
static inline void *lab_prev_blk(void *bp)
{
    return (char *)bp - lab_tag_size(*((size_t *)bp - 2));
}
/* Writes header and footer of a block of `size` bytes. */
static inline void lab_set_tags(void *bp, size_t size, size_t flags)
{
    *lab_hdr(bp) = lab_tag(size, flags);
    *(size_t *)(void *)((char *)bp + size - 2 * LAB_WORD) = lab_tag(size, flags);
}
static inline size_t lab_round_up(size_t n, size_t align)
{
    return (n + align - 1) & ~(align - 1);
}

#endif
