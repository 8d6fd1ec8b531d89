/*
 * libc.c -- the baseline: the system allocator itself (glibc's ptmalloc on our targets).
 *
 * Algorithm:   malloc/free/realloc/malloc_usable_size are passed straight through. The
 *              policy only keeps the counters the tables need, since the system heap
 *              cannot be walked from outside; each costs a malloc_usable_size call, so
 *              with cfg->no_stats (timing runs, where nothing reads them) they are not
 *              kept and glibc is timed alone. For cfg->align > 16 (glibc's natural
 *              alignment) malloc uses aligned_alloc and realloc allocates, copies, frees.
 * Layout:      glibc's own; each block costs its usable size plus one 8-byte size word
 *              (the chunk header), which is what block_bytes counts.
 * Footprint:   footprint = what glibc holds now (mallinfo2 arena + hblkhd) minus what it
 *              held when the heap opened, never below block_bytes. The replay runs the
 *              libc heap in a thread of its own that has not allocated before init (the
 *              lab keeps its own state out of malloc), so glibc gives the trace a brand
 *              new arena: the footprint is that arena (its top pad included, as a fresh
 *              process would pay it) plus the trace's mappings, and free chunks the
 *              process left elsewhere cannot serve the trace for nothing.
 *              Under AddressSanitizer mallinfo2 describes glibc's idle heap, not ASan's,
 *              so the footprint falls back to block_bytes there.
 * Invariants:  L1 live_blocks == 0 exactly when block_bytes == 0
 *              L2 block_bytes >= live_blocks * (LIBC_HDR + 1): every block has a header
 *                 and at least one usable byte
 *              libc_check() verifies L1-L2; there is nothing else it can walk, and for the
 *              same reason it has no walk() (lab_walk() returns -1: nothing to draw).
 * Cost:        the system's; mallinfo2 (stats only) walks glibc's bins.
 * Pathology:   free performs no validation: glibc aborts on most bad frees, so the
 *              conformance suite skips the bad-free tests for LAB_USES_SYSTEM.
 *              largest_free is unknown (0): mallinfo2 does not report it.
 */
#include "policy.h"

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#define LIBC_HDR     ((size_t)8)  /* glibc's size word in front of every chunk */
#define LIBC_NATURAL ((size_t)16) /* alignment glibc gives every payload on 64-bit */

typedef struct libc_heap {
    size_t align;
    int    counting;     /* keeps live_blocks and block_bytes (not when cfg->no_stats) */
    size_t held_at_init; /* arena + hblkhd when the heap opened */
    size_t live_blocks;
    size_t block_bytes;
} libc_heap_t;

/* ---- Helpers ---- */

static size_t block_cost(void *p)
{
    return malloc_usable_size(p) + LIBC_HDR;
}

static void count_new(libc_heap_t *h, void *p)
{
    if (!h->counting)
        return;
    h->live_blocks++;
    h->block_bytes += block_cost(p);
}

static void *allocate(const libc_heap_t *h, size_t n)
{
    if (h->align <= LIBC_NATURAL)
        return malloc(n);
    return aligned_alloc(h->align, (n + h->align - 1) & ~(h->align - 1));
}

/* ---- Operations ---- */

static int libc_init(void *st, lab_mem_t *mem, const lab_cfg_t *cfg, int variant)
{
    (void)mem;
    (void)variant;
    libc_heap_t *h = st;
    h->align = cfg->align;
    h->counting = !cfg->no_stats;
    struct mallinfo2 mi = mallinfo2();
    h->held_at_init = mi.arena + mi.hblkhd;
    return 0;
}

static void *libc_malloc(void *st, size_t n)
{
    libc_heap_t *h = st;
    void *p = allocate(h, n);
    if (p)
        count_new(h, p);
    return p;
}

static lab_err_t libc_free(void *st, void *p)
{
    libc_heap_t *h = st;
    if (h->counting) {
        h->live_blocks--;
        h->block_bytes -= block_cost(p);
    }
    free(p);
    return LAB_OK;
}

/* Over-aligned heaps (align > 16): the system realloc would not keep the alignment. */
static void *realloc_over_aligned(libc_heap_t *h, void *p, size_t n)
{
    void *q = libc_malloc(h, n);
    if (!q)
        return NULL;
    size_t old = malloc_usable_size(p);
    memcpy(q, p, old < n ? old : n);
    libc_free(h, p);
    return q;
}

/* No validation is possible (see Pathology): only out of memory is reported. */
static void *libc_realloc(void *st, void *p, size_t n, lab_err_t *err)
{
    libc_heap_t *h = st;
    void *q;
    if (h->align > LIBC_NATURAL) {
        q = realloc_over_aligned(h, p, n);
    } else if (!h->counting) {
        q = realloc(p, n);
    } else {
        size_t old = block_cost(p);
        q = realloc(p, n);
        if (q)
            h->block_bytes = h->block_bytes - old + block_cost(q);
    }
    *err = q ? LAB_OK : LAB_ERR_NOMEM;
    return q;
}

static size_t libc_usable_size(void *st, const void *p)
{
    (void)st;
    return malloc_usable_size((void *)p);
}

/* ---- Checker ---- */

static int libc_check(void *st, lab_report_t *r)
{
    libc_heap_t *h = st;
    int before = r->count;
    LAB_EXPECT(r, (h->live_blocks == 0) == (h->block_bytes == 0),
               "L1: %zu live blocks but %zu block bytes", h->live_blocks, h->block_bytes);
    LAB_EXPECT(r, h->block_bytes >= h->live_blocks * (LIBC_HDR + 1),
               "L2: %zu block bytes too few for %zu live blocks", h->block_bytes, h->live_blocks);
    return r->count - before;
}

static void libc_stats(void *st, lab_stats_t *s)
{
    libc_heap_t *h = st;
    struct mallinfo2 mi = mallinfo2();
    size_t held = mi.arena + mi.hblkhd;
    size_t grown = held > h->held_at_init ? held - h->held_at_init : 0;
    s->live_blocks = h->live_blocks;
    s->block_bytes = h->block_bytes;
    s->free_blocks = mi.ordblks + mi.smblks;
    s->free_bytes = mi.fordblks;
    s->footprint = grown > h->block_bytes ? grown : h->block_bytes;
}

const lab_policy_t lab_policy_libc = {
    .name = "libc",
    .description = "the system allocator (glibc malloc): the baseline",
    .flags = LAB_USES_SYSTEM,
    .state_size = sizeof(libc_heap_t),
    .init = libc_init,
    .malloc = libc_malloc,
    .free = libc_free,
    .realloc = libc_realloc,
    .usable_size = libc_usable_size,
    .check = libc_check,
    .stats = libc_stats,
};
