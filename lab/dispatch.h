/*
 * dispatch.h -- the front layer every caller of a lab policy goes through.
 *
 * Design:      A lab_heap_t binds one policy, its state and its own memory source,
 *              so any number of heaps (of the same or different policies) can live
 *              side by side. The functions below are the only place that handles
 *              the edge cases of the C allocation contract; policies receive clean
 *              preconditions (policy.h):
 *                malloc(0)        -> a unique, freeable block (asks the policy for 1 byte)
 *                free(NULL)       -> no-op, LAB_OK
 *                realloc(NULL, n) -> malloc(n)
 *                realloc(p, 0)    -> free(p), returns NULL (glibc's behaviour), errno untouched;
 *                                    an invalid p is rejected by free's checks, not freed
 *                n > LAB_MAX_REQUEST, calloc overflow -> NULL, errno = ENOMEM
 *              free/realloc of a pointer outside the heap or misaligned is rejected
 *              here before the policy sees it (for a policy with LAB_SCREENS_POINTERS:
 *              by the policy's own lookup, with the same errors); the policy catches
 *              interior pointers, double frees and damaged headers, with the same checks
 *              in free and in its realloc (which therefore finds the block once). Every
 *              rejected call returns an error (last_error) and leaves the heap as it was.
 *              With check_every = N > 0, the policy's check() runs after every N
 *              mutating calls and the first failure is kept in `report`.
 */
#ifndef LAB_DISPATCH_H
#define LAB_DISPATCH_H

#include "policy.h"

typedef struct lab_heap {
    const lab_policy_t *policy;
    void         *state;       /* policy state, state_size bytes */
    lab_mem_t     mem;         /* this heap's memory source */
    lab_cfg_t     cfg;
    unsigned long check_every; /* 0 = never */
    unsigned long calls;       /* mutating calls so far (malloc, free, realloc) */
    lab_err_t     last_error;  /* error of the last call (LAB_OK when it succeeded) */
    lab_report_t  report;      /* first failed check, if any */
} lab_heap_t;

/* Opens a heap of `policy` with `cfg` (NULL = align 16 defaults) and a footprint cap of
 * `limit` bytes (0 = LAB_DEFAULT_LIMIT). Returns 0 or an errno. */
int lab_heap_open(lab_heap_t *h, const lab_policy_t *policy, const lab_cfg_t *cfg, size_t limit);
void lab_heap_close(lab_heap_t *h);

void     *lab_malloc(lab_heap_t *h, size_t n);
void     *lab_calloc(lab_heap_t *h, size_t count, size_t size);
void     *lab_realloc(lab_heap_t *h, void *p, size_t n);
lab_err_t lab_free(lab_heap_t *h, void *p);
/* aligned_alloc for policies, which only know cfg.align: when align > cfg.align, a block
 * of n + align - cfg.align bytes and the first align-aligned address inside it (the way a
 * program without memalign gets one). *base receives the block to free and realloc (the
 * result itself when align <= cfg.align). align is a power of two. */
void     *lab_aligned_alloc(lab_heap_t *h, size_t align, size_t n, void **base);
size_t    lab_usable_size(lab_heap_t *h, const void *p);

/* Runs the memory source's and the policy's checks; returns the number of violations. */
int  lab_check(lab_heap_t *h, lab_report_t *r);
void lab_stats(lab_heap_t *h, lab_stats_t *s);
/* Calls fn for every region of the heap's footprint (policy.h, the walk contract).
 * Returns 0, or -1 when the policy cannot be walked (libc). */
int lab_walk(lab_heap_t *h, lab_walk_fn fn, void *ctx);
/* walk.c: runs the walk and verifies W1-W6 against the memory source and the stats.
 * Returns the number of violations (also in r->count), or -1 when there is no walk. */
int lab_walk_check(lab_heap_t *h, lab_report_t *r);
/* Bytes held from the memory source now / at most so far (the system's, for libc). */
size_t lab_footprint(lab_heap_t *h);
size_t lab_peak_footprint(lab_heap_t *h);

#endif
