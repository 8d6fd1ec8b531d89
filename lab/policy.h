/*
 * policy.h -- the one interface every free-space strategy of the lab implements.
 *
 * Design:      A policy is a const method table (lab_policy_t) plus a state
 *              block the driver allocates (state_size bytes, zeroed, 16-byte
 *              aligned). Policies take memory only from the lab memory source
 *              (mem.h), so footprint is measured identically for all of them.
 *              Edge cases are normalized once in dispatch.c; a policy sees only
 *              the clean preconditions written next to each method below.
 * Variants:    several registered policies may share one table of functions and
 *              differ only by `variant` (for example the placement fit), which
 *              init() receives. No copied files for variants.
 * Errors:      free() returns a lab_err_t and realloc() reports one through *err;
 *              invalid pointers are detected by the policy's own cheap checks (magic
 *              numbers, allocated bits), the same for both, and by dispatch.c
 *              (pointer outside the heap, misaligned; unless the policy sets
 *              LAB_SCREENS_POINTERS and does that in its own lookup), never by crashing. check()
 *              walks the whole structure; walk() reports that structure as regions that
 *              tile the footprint (the walk contract, W1-W7 below), for tools that draw it.
 */
#ifndef LAB_POLICY_H
#define LAB_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "mem.h"

/* Largest request a policy is ever asked for; larger ones fail in dispatch.c with ENOMEM.
 * Leaves room for headers and rounding without overflow in any policy. */
#define LAB_MAX_REQUEST ((size_t)1 << 40)

typedef enum lab_err {
    LAB_OK = 0,
    LAB_ERR_FOREIGN,     /* pointer not from this heap */
    LAB_ERR_MISALIGNED,  /* inside the heap but not a block start */
    LAB_ERR_DOUBLE_FREE, /* block already free */
    LAB_ERR_CORRUPT,     /* header/magic/boundary tag damaged */
    LAB_ERR_NOMEM,       /* out of memory (malloc/realloc) */
} lab_err_t;

const char *lab_strerror(lab_err_t e);

/* Configuration shared by all policies. */
typedef struct lab_cfg {
    size_t align;          /* payload alignment: 8 or 16 (power of two, >= 8) */
    size_t mmap_threshold; /* gnu: requests >= this get their own mapping (0 = default 128 KiB) */
    int    no_stats;       /* 1: stats() and check() are never called on this heap (the timing
                              runs of the replayer), so a policy may skip bookkeeping that only
                              they read; libc then skips its malloc_usable_size per call */
} lab_cfg_t;

/* Statistics a policy reports. Footprint is NOT here: it is measured by the memory
 * source (mem.h), the same way for every policy. */
typedef struct lab_stats {
    size_t live_blocks;   /* blocks currently allocated */
    size_t block_bytes;   /* bytes of the footprint held by allocated blocks: payload, header,
                             footer, padding and rounding. internal fragmentation =
                             block_bytes - requested payload bytes */
    size_t free_blocks;   /* free blocks the policy could hand out */
    size_t free_bytes;    /* bytes in those free blocks */
    size_t largest_free;  /* largest free block, bytes (0 if none) */
    size_t footprint;     /* only for policies whose memory is not from lab_mem (libc):
                             bytes held from the system; 0 otherwise */
} lab_stats_t;

/* A check report: counts violations and keeps the first message. */
typedef struct lab_report {
    int  count;
    char first[256];
} lab_report_t;

/* Records a violation (printf-style message, should start with the invariant id). */
void lab_report_add(lab_report_t *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Checks `cond`; on failure records "<id>: <message>" and continues. */
#define LAB_EXPECT(r, cond, ...)                                                                   \
    do {                                                                                           \
        if (!(cond))                                                                               \
            lab_report_add((r), __VA_ARGS__);                                                      \
    } while (0)

/* flags */
#define LAB_USES_SYSTEM 1u /* memory comes from the system allocator, not lab_mem (libc) */
#define LAB_NO_REUSE    2u /* free never makes memory reusable (minimal, pad) */
/* free, realloc and usable_size reject foreign and misaligned pointers themselves, in the
 * lookup that finds the block, with the errors dispatch.c would give (LAB_ERR_FOREIGN for a
 * pointer outside the region in use and every mapping, else LAB_ERR_MISALIGNED): dispatch.c
 * then passes p on unscreened instead of making the same range test twice (hkfit). */
#define LAB_SCREENS_POINTERS 4u

/* ---- Walking the footprint: what a tool needs to draw the heap ---- */

typedef enum lab_region_kind {
    LAB_REGION_BLOCK, /* one allocated block: its header, payload, padding, footer; payload set */
    LAB_REGION_FREE,  /* free space the policy could hand out (a free block, a free slot or
                         object, a free buddy, the top chunk, the bump pad) */
    LAB_REGION_META,  /* the policy's own bytes in the footprint: prologue and epilogue, page
                         table, slab and run headers, the run index, alignment lead-in, and
                         the tail of a slab or page too short for one more object */
    LAB_REGION_DEAD,  /* a freed block the policy never hands out again (LAB_NO_REUSE only) */
} lab_region_kind_t;
#define LAB_REGION_KINDS 4

typedef struct lab_region {
    uintptr_t         start;
    size_t            size;    /* > 0 */
    lab_region_kind_t kind;
    const void       *payload; /* BLOCK: the pointer malloc returned for it; else NULL */
} lab_region_t;

typedef void (*lab_walk_fn)(void *ctx, const lab_region_t *region);

/*
 * The walk contract. walk(st, fn, ctx) calls fn once per region, and on a heap whose
 * check() passes the regions satisfy:
 *   W1 each region has size > 0 and lies inside the heap's memory: inside the region in
 *      use [lo, break), or inside one live mapping of lab_mem_t
 *   W2 they come in address order and do not overlap: first those in [lo, break), then
 *      those of each mapping in turn, in the order of lab_mem_t.maps (ascending)
 *   W3 they tile the footprint: their sizes sum to lab_footprint() (with W1 and W2, every
 *      byte of the footprint is in exactly one region)
 *   W4 the BLOCK regions number stats.live_blocks and their sizes sum to stats.block_bytes;
 *      each holds its payload, which is cfg.align aligned; other regions have no payload
 *   W5 the FREE regions number stats.free_blocks, their sizes sum to stats.free_bytes, and
 *      the largest is stats.largest_free
 *   W6 DEAD regions appear only in LAB_NO_REUSE policies
 *   W7 every live payload is the payload of exactly one BLOCK region
 * walk.c's lab_walk_check() verifies W1-W6 (W7 needs the caller's list of live payloads;
 * tests/policy/test_policies.c checks it). A policy's walk is the traversal its check()
 * makes, so the two cannot drift apart; on a damaged heap the walk stops where the
 * checker would, and the tiling then falls short (W3). The walk does not allocate and
 * does not change the heap; fn must not call into the heap either.
 */

/* Reports [start, start + size) to fn; nothing when fn is NULL (a checker running the walk
 * it shares with walk()) or size is 0 (an empty lead-in). */
static inline void lab_walk_emit(lab_walk_fn fn, void *ctx, const void *start, size_t size,
                                 lab_region_kind_t kind, const void *payload)
{
    if (!fn || size == 0)
        return;
    lab_region_t r = {(uintptr_t)start, size, kind, payload};
    fn(ctx, &r);
}

typedef struct lab_policy {
    const char *name;        /* "dlist-best" */
    const char *description; /* one line, shown by `heapkit policies` */
    unsigned    flags;
    int         variant;     /* passed to init(): fit, bin layout, ... */
    size_t      state_size;  /* bytes of state the driver allocates (zeroed) */

    /* 0 on success, else an errno. mem is ready (empty) and outlives the state. */
    int (*init)(void *st, lab_mem_t *mem, const lab_cfg_t *cfg, int variant);
    /* pre: 0 < n <= LAB_MAX_REQUEST. Returns a cfg->align aligned payload of >= n bytes,
     * or NULL when memory is exhausted. */
    void *(*malloc)(void *st, size_t n);
    /* pre: p != NULL and p lies inside the footprint and is cfg->align aligned (with
     * LAB_SCREENS_POINTERS: p != NULL only). Returns LAB_OK, or the error it detected (then
     * the heap is left unchanged). */
    lab_err_t (*free)(void *st, void *p);
    /* pre: p != NULL and p lies inside the footprint and is cfg->align aligned (screened
     * as for free; with LAB_SCREENS_POINTERS: p != NULL only), 0 < n <= LAB_MAX_REQUEST. p is NOT known to be live: the policy
     * validates it with the same checks as its free (interior pointer, double free,
     * damaged header), in the same lookup that finds the block, so a realloc costs one
     * lookup. Returns the resized block (p itself or a new one; then p is freed) with
     * *err = LAB_OK. On failure returns NULL, leaves p and the heap untouched and sets
     * *err: the error free would give for p, or LAB_ERR_NOMEM when p is live but the
     * memory for n bytes cannot be had.
     * May be NULL: dispatch.c then validates p with usable_size() (0: not a live block)
     * and does malloc + copy + free. */
    void *(*realloc)(void *st, void *p, size_t n, lab_err_t *err);
    /* Usable bytes of live block p, or 0 if p is not (cheaply recognizable as) a live block.
     * p is screened as for free. */
    size_t (*usable_size)(void *st, const void *p);
    /* Walks every structure and verifies the invariants documented in the policy's file.
     * Returns the number of violations (also in r->count). */
    int (*check)(void *st, lab_report_t *r);
    void (*stats)(void *st, lab_stats_t *s);
    /* Calls fn for every region of the footprint, per the walk contract above. NULL only
     * for a heap that cannot be walked (libc: the system heap is not ours to read). */
    void (*walk)(void *st, lab_walk_fn fn, void *ctx);
    /* Releases everything (the memory source is torn down by the driver after). May be NULL. */
    void (*fini)(void *st);
} lab_policy_t;

/* registry.c: NULL-terminated list of every policy, in display order. */
extern const lab_policy_t *const lab_policies[];
const lab_policy_t *lab_policy_find(const char *name);

#endif
