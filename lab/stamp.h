/*
 * stamp.h -- the stamped block header of the policies that never reuse memory
 *            (minimal.c, pad.c): a size, and a stamp keyed by the payload address.
 *
 * Design:      These policies keep no free structure at all, so the header exists only
 *              so that usable_size, realloc and the double-free check have something
 *              to read. The stamp tells a live block from a freed one and from bytes
 *              that were never a header: it is the payload address XOR a magic, so a
 *              header copied elsewhere, or a pointer into the middle of a block, does
 *              not validate by accident. Each policy has its own pair of magics, so a
 *              stamp of one policy never passes as a stamp of another.
 * Layout:
 *
 *   hdr  -> +---------------------------------------------+
 *           | size: whole block bytes, header included    |  8 bytes
 *           | stamp: payload ^ live   (allocated)         |  8 bytes
 *           |        payload ^ freed  (after free)        |
 *   user -> +---------------------------------------------+  hdr + LAB_STAMP_HDR_SIZE
 *           | payload ... padding up to size              |
 *   next -> +---------------------------------------------+  hdr + size
 *
 * Invariants:  each policy numbers these its own way and checks them with
 *              lab_stamp_walk() (the ids it passes in lab_stamp_kind_t):
 *              tile   the blocks tile the walked range exactly; every size is at
 *                     least the policy's minimum block and a multiple of its alignment
 *              stamp  every stamp is live or freed for its own payload address
 *              A header is 16 bytes, so a block that starts 16-aligned has a 16-aligned
 *              payload (static assertion below). Free turns live into freed once; a
 *              freed stamp stays freed, since its memory is never handed out again.
 */
#ifndef LAB_STAMP_H
#define LAB_STAMP_H

#include "policy.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LAB_STAMP_HDR_SIZE ((size_t)16)

typedef struct lab_stamp_hdr {
    size_t    size;  /* whole block bytes, header included */
    uintptr_t stamp; /* payload ^ kind->live or payload ^ kind->freed */
} lab_stamp_hdr_t;

_Static_assert(sizeof(lab_stamp_hdr_t) == LAB_STAMP_HDR_SIZE, "stamp header is 16 bytes");

/* Live blocks and their bytes (headers included): a policy's counters, or what a walk found. */
typedef struct lab_stamp_tally {
    size_t blocks;
    size_t bytes;
} lab_stamp_tally_t;

/* One policy's magics and the ids of its invariants, used in the checker's messages. */
typedef struct lab_stamp_kind {
    uintptr_t   live;     /* stamp of an allocated block: payload ^ live */
    uintptr_t   freed;    /* stamp of a freed block: payload ^ freed */
    const char *tile_id;  /* "blocks tile the range" */
    const char *stamp_id; /* "every stamp is live or freed" */
} lab_stamp_kind_t;

static inline lab_stamp_hdr_t *lab_stamp_hdr_of(const void *p)
{
    return (lab_stamp_hdr_t *)((uintptr_t)p - LAB_STAMP_HDR_SIZE);
}

static inline bool lab_stamp_is_live(const lab_stamp_kind_t *k, const lab_stamp_hdr_t *b)
{
    return b->stamp == ((uintptr_t)(b + 1) ^ k->live);
}

static inline bool lab_stamp_is_freed(const lab_stamp_kind_t *k, const lab_stamp_hdr_t *b)
{
    return b->stamp == ((uintptr_t)(b + 1) ^ k->freed);
}

/* Writes a live header for a block of `size` bytes at `at`, counts it in *live and
 * returns its payload. */
static inline void *lab_stamp_make_live(const lab_stamp_kind_t *k, lab_stamp_tally_t *live,
                                        void *at, size_t size)
{
    lab_stamp_hdr_t *b = at;
    b->size = size;
    b->stamp = (uintptr_t)(b + 1) ^ k->live;
    live->blocks++;
    live->bytes += size;
    return b + 1;
}

/* Turns the live block b into a freed one and takes it off *live. LAB_ERR_DOUBLE_FREE if
 * it is freed already, LAB_ERR_CORRUPT if its stamp is neither; both change nothing. */
static inline lab_err_t lab_stamp_release(const lab_stamp_kind_t *k, lab_stamp_tally_t *live,
                                          lab_stamp_hdr_t *b)
{
    if (lab_stamp_is_freed(k, b))
        return LAB_ERR_DOUBLE_FREE;
    if (!lab_stamp_is_live(k, b))
        return LAB_ERR_CORRUPT;
    b->stamp = (uintptr_t)(b + 1) ^ k->freed;
    live->blocks--;
    live->bytes -= b->size;
    return LAB_OK;
}

/* Payload bytes of b when it is live (b may be NULL), else 0. */
static inline size_t lab_stamp_usable_size(const lab_stamp_kind_t *k, const lab_stamp_hdr_t *b)
{
    if (!b || !lab_stamp_is_live(k, b))
        return 0;
    return b->size - LAB_STAMP_HDR_SIZE;
}

/*
 * The walk over the blocks that tile [at, end), shared by the checker and walk(): reports
 * k->stamp_id for each stamp that is neither live nor freed and tallies the live blocks
 * into *t. A size below min_block, not a multiple of align, or running past `end` is
 * reported as k->tile_id and ends the walk, since the next header cannot be found; then
 * it returns false. The checker compares *t with the policy's own counters. Each block
 * goes to fn (when not NULL) as a BLOCK when live, else DEAD: its memory is never reused.
 */
static inline bool lab_stamp_walk(const lab_stamp_kind_t *k, uint8_t *at, uint8_t *end,
                                  size_t min_block, size_t align, lab_report_t *r,
                                  lab_stamp_tally_t *t, lab_walk_fn fn, void *ctx)
{
    t->blocks = t->bytes = 0;
    while (at < end) {
        lab_stamp_hdr_t *b = (lab_stamp_hdr_t *)(void *)at;
        if (b->size < min_block || b->size % align || b->size > (size_t)(end - at)) {
            lab_report_add(r, "%s: block at %p has bad size %zu", k->tile_id, (void *)at,
                           b->size);
            return false;
        }
        LAB_EXPECT(r, lab_stamp_is_live(k, b) || lab_stamp_is_freed(k, b),
                   "%s: block at %p has a bad stamp", k->stamp_id, (void *)at);
        if (lab_stamp_is_live(k, b)) {
            t->blocks++;
            t->bytes += b->size;
            lab_walk_emit(fn, ctx, b, b->size, LAB_REGION_BLOCK, b + 1);
        } else {
            lab_walk_emit(fn, ctx, b, b->size, LAB_REGION_DEAD, NULL);
        }
        at += b->size;
    }
    return true;
}

#endif
