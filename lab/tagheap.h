/*
 * tagheap.h -- a boundary-tag heap whose free blocks are kept by a pluggable index.
 *
 * Design:      The one mechanism under dlist.c, bins.c and segfit.c. The heap owns the
 *              blocks: boundary tags, prologue and epilogue, coalescing, growth at the
 *              top, splitting, in-place realloc, validation of a freed pointer, and the
 *              walk of check() and stats(). Where the free blocks are kept and which
 *              one a request takes is the index's business (lab_tagindex_t): a policy
 *              is its index plus a few lines of glue. The heap writes the tags and keeps
 *              the free counters; the index only links and unlinks.
 *              Hot paths (malloc, free, realloc) are static inline and take the index
 *              as a constant argument, so the compiler calls the index directly and
 *              can inline it; the cold paths (check, stats, usable_size) live in
 *              tagheap.c once and reach the index through the heap (th->ix).
 * Layout:
 *
 *   lo                                                                            hi
 *   | prologue | hdr | payload ... | ftr | hdr | payload ... | ftr | ... | epilogue |
 *     8 bytes        ^ first bp = lo + 16                                 8 bytes
 *   prologue (a footer) and epilogue (a header) both hold tag(0, ALLOC): fake
 *   allocated neighbours, so the merge tests never look outside the region.
 *
 *   hdr ->  +------------------------------------------+
 *           | size (multiple of align, >= 32) | 0 0 A  |   A = allocated
 *   bp  ->  +------------------------------------------+
 *           | allocated: payload, size - 16 bytes      |
 *           | free:      the index's links (16 bytes;  |
 *           |            lab_tagnode_t for lists)      |
 *           +------------------------------------------+
 *           | footer == header                         |
 *   next -> +------------------------------------------+
 *
 * Algorithm:   malloc(n): size = round_up(n + 16, align), at least 32; the index finds a
 *              free block (or none: then the break moves up, merging a free block at the
 *              top, so the region grows only by the difference). The front part is
 *              handed out; a tail of >= 32 bytes stays free (the index may let it take
 *              the block's place: replace). free(p): validate, merge with free neighbours
 *              on either side (O(1) through the tags), index the result. realloc: shrink
 *              by splitting off the tail; grow into the next block when free, or at the
 *              top by moving the break; otherwise malloc, copy, free.
 * Invariants:  T1 the prologue at lo and the epilogue at hi - 8 are tag(0, ALLOC)
 *              T2 blocks tile [lo + 8, hi - 8) exactly; each bp is align-aligned and
 *                 each size >= 32 and a multiple of align
 *              T3 footer == header on every block, and no flag but A is set
 *              T4 no two adjacent blocks are both free (coalescing is complete)
 *              T5 the counters (live_blocks, block_bytes, free_blocks, free_bytes)
 *                 equal the sums of the walk
 *              lab_tagheap_check() verifies T1-T5 and calls the index's checks: for each
 *              free block of the walk (is it indexed?) and once after it (does the
 *              index hold exactly the free blocks?). Index invariants carry the policy's
 *              letter (D for dlist, B for bins, S for segfit). lab_tagheap_walk() is the
 *              same walk reporting regions: prologue and epilogue (8 bytes each) META,
 *              each block BLOCK or FREE.
 * Errors:      free(p) reads only inside the region: a header that is not a sane tag
 *              is an interior pointer (MISALIGNED) or, with A set, a damaged block
 *              (CORRUPT); A clear is a DOUBLE_FREE; footer != header is CORRUPT. The
 *              free neighbours a merge would touch are validated first, so a rejected
 *              free (or realloc) leaves the heap unchanged.
 * Cost:        the heap part of free and realloc is O(1); malloc is the index's find.
 *              check() is O(blocks).
 */
#ifndef LAB_TAGHEAP_H
#define LAB_TAGHEAP_H

#include "bitbins.h"
#include "blocks.h"
#include "policy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- Types and constants ---- */

#define LAB_TAGHEAP_TAG_BYTES (2 * LAB_WORD) /* header + footer */
#define LAB_TAGHEAP_MIN_BLOCK ((size_t)32)   /* header, two links, footer */
#define LAB_TAGHEAP_FIRST_BP  ((size_t)16)   /* prologue + first header: aligned for 8 and 16 */

typedef struct lab_tagheap lab_tagheap_t;

/* What a policy plugs in. `b` is always a free block's bp, `size` its block size; the
 * heap has written its tags before insert/replace and keeps them intact until remove
 * returns. The index must not touch tags or the heap's counters. */
typedef struct lab_tagindex {
    void (*insert)(lab_tagheap_t *th, void *b, size_t size);
    void (*remove)(lab_tagheap_t *th, void *b, size_t size);
    /* `rest` (rest_size bytes), the tail of indexed block `old`, takes old's place.
     * NULL: the heap removes old and inserts rest. */
    void (*replace)(lab_tagheap_t *th, void *old, void *rest, size_t rest_size);
    /* An indexed block of >= size bytes, or NULL (the heap then grows). */
    void *(*find)(lab_tagheap_t *th, size_t size);
    /* Size of the largest indexed block, 0 if none (for stats). */
    size_t (*largest)(lab_tagheap_t *th);
    /* check(): called for each free block the walk finds, then once with their count. */
    void (*check_block)(lab_tagheap_t *th, void *b, lab_report_t *r);
    void (*check_index)(lab_tagheap_t *th, size_t free_walk, lab_report_t *r);
} lab_tagindex_t;

/* The head of a policy's state: the policy's own index fields follow it. */
struct lab_tagheap {
    lab_mem_t            *mem;
    const lab_tagindex_t *ix; /* for the cold paths */
    size_t                align;
    size_t                live_blocks, block_bytes, free_blocks, free_bytes;
};

/* ---- Cold paths (tagheap.c); the last four fit lab_policy_t directly ---- */

/* Lays down prologue and epilogue. 0 or ENOMEM. */
int    lab_tagheap_init(lab_tagheap_t *th, const lab_tagindex_t *ix, lab_mem_t *mem,
                        const lab_cfg_t *cfg);
size_t lab_tagheap_usable_size(void *st, const void *p);
int    lab_tagheap_check(void *st, lab_report_t *r);
void   lab_tagheap_stats(void *st, lab_stats_t *s);
/* The walk of check(): prologue and epilogue META, every block BLOCK or FREE. */
void   lab_tagheap_walk(void *st, lab_walk_fn fn, void *ctx);
/* A pointer a checker may follow: an aligned free block inside the heap. */
bool   lab_tagheap_is_free_block(const lab_tagheap_t *th, const void *b);

/* ---- Tags ---- */

static inline size_t tagheap_word(const void *at) { return *(const size_t *)at; }
static inline size_t tagheap_tag_below(const void *bp)
{
    return tagheap_word((const char *)bp - LAB_TAGHEAP_TAG_BYTES);
}
static inline void *tagheap_at(void *bp, size_t offset) { return (char *)bp + offset; }

static inline void tagheap_write_epilogue(lab_tagheap_t *th)
{
    *(size_t *)(void *)(lab_mem_hi(th->mem) - LAB_WORD) = lab_tag(0, LAB_TAG_ALLOC);
}

static inline size_t lab_tagheap_block_size(const lab_tagheap_t *th, size_t n)
{
    size_t size = lab_round_up(n + LAB_TAGHEAP_TAG_BYTES, th->align);
    return size < LAB_TAGHEAP_MIN_BLOCK ? LAB_TAGHEAP_MIN_BLOCK : size;
}

/* True when `tag` can head a block at bp: flags, size and end inside the heap. */
static inline bool lab_tagheap_tag_fits(const lab_tagheap_t *th, const void *bp, size_t tag)
{
    size_t size = lab_tag_size(tag);
    return (tag & LAB_TAG_FLAGS & ~LAB_TAG_ALLOC) == 0 && size >= LAB_TAGHEAP_MIN_BLOCK &&
           size % th->align == 0 && size <= (size_t)(lab_mem_hi(th->mem) - (const uint8_t *)bp);
}

/* ---- Free blocks: tags, counters, index ---- */

static inline void tagheap_insert(lab_tagheap_t *th, const lab_tagindex_t *ix, void *b,
                                  size_t size)
{
    lab_set_tags(b, size, 0);
    ix->insert(th, b, size);
    th->free_blocks++;
    th->free_bytes += size;
}

static inline void tagheap_remove(lab_tagheap_t *th, const lab_tagindex_t *ix, void *b,
                                  size_t size)
{
    ix->remove(th, b, size);
    th->free_blocks--;
    th->free_bytes -= size;
}

/* Makes [b, b + size) free: merges it with free neighbours and indexes the result. */
static inline void *tagheap_release(lab_tagheap_t *th, const lab_tagindex_t *ix, void *b,
                                    size_t size)
{
    size_t below = tagheap_tag_below(b);
    if (!lab_tag_is_alloc(below)) {
        b = (char *)b - lab_tag_size(below);
        tagheap_remove(th, ix, b, lab_tag_size(below));
        size += lab_tag_size(below);
    }
    size_t above = tagheap_word((char *)b + size - LAB_WORD);
    if (!lab_tag_is_alloc(above)) {
        tagheap_remove(th, ix, tagheap_at(b, size), lab_tag_size(above));
        size += lab_tag_size(above);
    }
    tagheap_insert(th, ix, b, size);
    return b;
}

/* Allocates `size` bytes at the front of indexed free block b. */
static inline void *tagheap_place(lab_tagheap_t *th, const lab_tagindex_t *ix, void *b,
                                  size_t size)
{
    size_t have = lab_blk_size(b);
    if (have - size < LAB_TAGHEAP_MIN_BLOCK) {
        tagheap_remove(th, ix, b, have);
        size = have;
    } else if (ix->replace) {
        lab_set_tags(tagheap_at(b, size), have - size, 0);
        ix->replace(th, b, tagheap_at(b, size), have - size);
        th->free_bytes -= size;
    } else {
        tagheap_remove(th, ix, b, have);
        tagheap_insert(th, ix, tagheap_at(b, size), have - size);
    }
    lab_set_tags(b, size, LAB_TAG_ALLOC);
    th->live_blocks++;
    th->block_bytes += size;
    return b;
}

/* Moves the break so that the top free block (made if need be) has `size` bytes.
 * A top block that is big enough already (a capped search can miss it) is returned. */
static inline void *tagheap_grow(lab_tagheap_t *th, const lab_tagindex_t *ix, size_t size)
{
    uint8_t *hi = lab_mem_hi(th->mem);
    size_t top = tagheap_word(hi - LAB_TAGHEAP_TAG_BYTES); /* last footer, or the prologue */
    size_t have = lab_tag_is_alloc(top) ? 0 : lab_tag_size(top);
    if (have >= size)
        return hi - have;
    void *b = lab_mem_sbrk(th->mem, size - have);
    if (!b)
        return NULL;
    tagheap_write_epilogue(th);
    return tagheap_release(th, ix, b, size - have);
}

/* ---- Validation of a pointer handed back ---- */

/* LAB_OK when p is a live block with intact tags, else what is wrong with it. */
static inline lab_err_t lab_tagheap_live_status(const lab_tagheap_t *th, void *p)
{
    if ((uint8_t *)p < lab_mem_lo(th->mem) + LAB_TAGHEAP_FIRST_BP)
        return LAB_ERR_MISALIGNED;
    size_t tag = *lab_hdr(p);
    if (!lab_tagheap_tag_fits(th, p, tag))
        return lab_tag_is_alloc(tag) ? LAB_ERR_CORRUPT : LAB_ERR_MISALIGNED;
    if (!lab_tag_is_alloc(tag))
        return LAB_ERR_DOUBLE_FREE;
    return *lab_ftr(p) == tag ? LAB_OK : LAB_ERR_CORRUPT;
}

/* The free neighbours a merge would touch have sane, matching tags. */
static inline bool tagheap_neighbours_intact(const lab_tagheap_t *th, void *bp)
{
    size_t below = tagheap_tag_below(bp);
    if (!lab_tag_is_alloc(below)) {
        size_t room = (size_t)((uint8_t *)bp - lab_mem_lo(th->mem)) - LAB_TAGHEAP_FIRST_BP;
        if (lab_tag_size(below) > room)
            return false;
        void *prev = (char *)bp - lab_tag_size(below);
        if (!lab_tagheap_tag_fits(th, prev, below) || *lab_hdr(prev) != below)
            return false;
    }
    void *next = lab_next_blk(bp);
    size_t above = *lab_hdr(next);
    return lab_tag_is_alloc(above) ||
           (lab_tagheap_tag_fits(th, next, above) && *lab_ftr(next) == above);
}

/* ---- Hot paths: a policy's malloc, free and realloc call these with its index ---- */

static inline void *lab_tagheap_malloc(lab_tagheap_t *th, const lab_tagindex_t *ix, size_t n)
{
    size_t size = lab_tagheap_block_size(th, n);
    void *b = ix->find(th, size);
    if (!b && !(b = tagheap_grow(th, ix, size)))
        return NULL;
    return tagheap_place(th, ix, b, size);
}

static inline void tagheap_free_block(lab_tagheap_t *th, const lab_tagindex_t *ix, void *b)
{
    size_t size = lab_blk_size(b);
    th->live_blocks--;
    th->block_bytes -= size;
    /* If b merges down this header stays behind, so a second free of b is a double free. */
    *lab_hdr(b) = lab_tag(size, 0);
    tagheap_release(th, ix, b, size);
}

/* free's validation, shared by realloc: p is a live block and the free neighbours a
 * merge would touch are intact. */
static inline lab_err_t lab_tagheap_validate(const lab_tagheap_t *th, void *p)
{
    lab_err_t e = lab_tagheap_live_status(th, p);
    if (e == LAB_OK && !tagheap_neighbours_intact(th, p))
        e = LAB_ERR_CORRUPT;
    return e;
}

static inline lab_err_t lab_tagheap_free(lab_tagheap_t *th, const lab_tagindex_t *ix, void *p)
{
    lab_err_t e = lab_tagheap_validate(th, p);
    if (e == LAB_OK)
        tagheap_free_block(th, ix, p);
    return e;
}

/* Splits the tail off live block b when it can stand as a free block. */
static inline void tagheap_trim_tail(lab_tagheap_t *th, const lab_tagindex_t *ix, void *b,
                                     size_t need)
{
    size_t have = lab_blk_size(b);
    if (have - need < LAB_TAGHEAP_MIN_BLOCK)
        return;
    lab_set_tags(b, need, LAB_TAG_ALLOC);
    th->block_bytes -= have - need;
    tagheap_release(th, ix, tagheap_at(b, need), have - need);
}

/* Grows live block b to `need` bytes from a free block after it and/or the break. */
static inline bool tagheap_grow_in_place(lab_tagheap_t *th, const lab_tagindex_t *ix, void *b,
                                         size_t need)
{
    size_t have = lab_blk_size(b), above = tagheap_word((char *)b + have - LAB_WORD);
    size_t next_free = lab_tag_is_alloc(above) ? 0 : lab_tag_size(above);
    size_t grown = have + next_free;
    if (grown < need) {
        bool at_top = (uint8_t *)b + grown == lab_mem_hi(th->mem);
        if (!at_top || !lab_mem_sbrk(th->mem, need - grown))
            return false;
        tagheap_write_epilogue(th);
        grown = need;
    }
    if (next_free)
        tagheap_remove(th, ix, tagheap_at(b, have), next_free);
    lab_set_tags(b, grown, LAB_TAG_ALLOC);
    th->block_bytes += grown - have;
    return true;
}

/* realloc per policy.h: validated as free validates, so a rejected p (or a damaged
 * neighbour) touches nothing. */
static inline void *lab_tagheap_realloc(lab_tagheap_t *th, const lab_tagindex_t *ix, void *p,
                                        size_t n, lab_err_t *err)
{
    if ((*err = lab_tagheap_validate(th, p)) != LAB_OK)
        return NULL;
    size_t need = lab_tagheap_block_size(th, n);
    if (need <= lab_blk_size(p) || tagheap_grow_in_place(th, ix, p, need)) {
        tagheap_trim_tail(th, ix, p, need);
        return p;
    }
    void *q = lab_tagheap_malloc(th, ix, n);
    if (!q) {
        *err = LAB_ERR_NOMEM;
        return NULL;
    }
    memcpy(q, p, lab_blk_size(p) - LAB_TAGHEAP_TAG_BYTES);
    tagheap_free_block(th, ix, p);
    return q;
}

/* ---- Doubly linked lists of free blocks, for indexes made of lists ---- */

/* The links a listed free block keeps in its payload: bitbins.h's node, so an index of
 * bins (bins, segfit) or of one list (dlist, with lab_binlist_push and _unlink) is made of
 * the helpers there. */
typedef lab_binnode_t lab_tagnode_t;

/* Checker helpers (tagheap.c). is_linked: free block b is linked both ways, b heading
 * the list `head` when it has no prev. check_list: the list `head` holds exactly the
 * free_walk free blocks of the walk. check_bins: the bins of `shape` hold exactly the
 * free_walk free blocks of the walk, each in the bin of its size, and the map is right
 * (lab_bins_check: M1, M2, L1-L3 of bitbins.h). Both follow at most free_walk + 1 nodes
 * (a cycle cannot hang them) and report violations as "<id>: ...". */
bool lab_tagnode_is_linked(const lab_tagheap_t *th, const lab_tagnode_t *head,
                           const lab_tagnode_t *b);
void lab_tagnode_check_list(const lab_tagheap_t *th, const lab_tagnode_t *head,
                            size_t free_walk, const char *id, lab_report_t *r);
void lab_tagheap_check_bins(const lab_tagheap_t *th, const lab_binshape_t *shape,
                            lab_tagnode_t *const *head, const uint64_t *map, size_t free_walk,
                            const char *id, lab_report_t *r);

#endif
