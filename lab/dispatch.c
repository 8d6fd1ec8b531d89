/*
 * dispatch.c -- edge-case normalization and optional checking in front of every policy.
 *
 * Design:      see dispatch.h. This file is the boundary: after it, a policy can
 *              assume 0 < n <= LAB_MAX_REQUEST, p != NULL and p inside its heap and
 *              aligned (a policy with LAB_SCREENS_POINTERS: p != NULL only; it screens
 *              the rest itself).
 */
#include "dispatch.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *lab_strerror(lab_err_t e)
{
    switch (e) {
    case LAB_OK:
        return "ok";
    case LAB_ERR_FOREIGN:
        return "pointer not from this heap";
    case LAB_ERR_MISALIGNED:
        return "pointer is not the start of a block";
    case LAB_ERR_DOUBLE_FREE:
        return "double free";
    case LAB_ERR_CORRUPT:
        return "corrupted block header";
    case LAB_ERR_NOMEM:
        return "out of memory";
    }
    return "unknown error";
}

void lab_report_add(lab_report_t *r, const char *fmt, ...)
{
    if (r->count++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->first, sizeof r->first, fmt, ap);
        va_end(ap);
    }
}

int lab_heap_open(lab_heap_t *h, const lab_policy_t *policy, const lab_cfg_t *cfg, size_t limit)
{
    memset(h, 0, sizeof *h);
    h->policy = policy;
    h->cfg = cfg ? *cfg : (lab_cfg_t){.align = 16};
    if (h->cfg.align < 8 || (h->cfg.align & (h->cfg.align - 1)) || h->cfg.align > LAB_PAGE_SIZE)
        return EINVAL;
    if (h->cfg.mmap_threshold == 0)
        h->cfg.mmap_threshold = (size_t)128 << 10;
    int err = lab_mem_init(&h->mem, limit);
    if (err)
        return err;
    /* Not malloc: the libc baseline must see only the trace's own allocations. */
    h->state = lab_mem_scratch_alloc(policy->state_size);
    if (!h->state) {
        lab_mem_fini(&h->mem);
        return ENOMEM;
    }
    err = policy->init(h->state, &h->mem, &h->cfg, policy->variant);
    if (err) {
        lab_mem_scratch_free(h->state, policy->state_size);
        lab_mem_fini(&h->mem);
        h->state = NULL;
    }
    return err;
}

void lab_heap_close(lab_heap_t *h)
{
    if (h->policy && h->policy->fini)
        h->policy->fini(h->state);
    lab_mem_scratch_free(h->state, h->policy->state_size);
    lab_mem_fini(&h->mem);
    h->state = NULL;
}

static void maybe_check(lab_heap_t *h)
{
    h->calls++;
    if (h->check_every && h->calls % h->check_every == 0 && h->report.count == 0)
        lab_check(h, &h->report);
}

/* Rejects pointers outside the heap's memory or misaligned. Tests the alignment (a power
 * of two, checked by lab_heap_open) with a mask, not a division. */
static inline __attribute__((always_inline)) lab_err_t screen_region(const lab_heap_t *h,
                                                                     const void *p)
{
    if (!lab_mem_contains(&h->mem, p, 1))
        return LAB_ERR_FOREIGN;
    if ((uintptr_t)p & (h->cfg.align - 1))
        return LAB_ERR_MISALIGNED;
    return LAB_OK;
}

/* Rejects pointers the policy must never see. The system allocator has no lab memory to
 * test against, and a policy with LAB_SCREENS_POINTERS makes these tests in its own lookup. */
static inline __attribute__((always_inline)) lab_err_t screen_pointer(const lab_heap_t *h,
                                                                      const void *p)
{
    if (h->policy->flags & (LAB_USES_SYSTEM | LAB_SCREENS_POINTERS))
        return LAB_OK;
    return screen_region(h, p);
}

void *lab_malloc(lab_heap_t *h, size_t n)
{
    if (n > LAB_MAX_REQUEST) {
        h->last_error = LAB_ERR_NOMEM;
        errno = ENOMEM;
        return NULL;
    }
    void *p = h->policy->malloc(h->state, n ? n : 1);
    h->last_error = p ? LAB_OK : LAB_ERR_NOMEM;
    if (!p)
        errno = ENOMEM;
    maybe_check(h);
    return p;
}

void *lab_calloc(lab_heap_t *h, size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) {
        h->last_error = LAB_ERR_NOMEM;
        errno = ENOMEM;
        return NULL;
    }
    void *p = lab_malloc(h, n);
    if (p)
        memset(p, 0, n);
    return p;
}

void *lab_aligned_alloc(lab_heap_t *h, size_t align, size_t n, void **base)
{
    *base = NULL;
    if (align <= h->cfg.align)
        return *base = lab_malloc(h, n);
    size_t padded;
    if (__builtin_add_overflow(n ? n : 1, align - h->cfg.align, &padded)) {
        h->last_error = LAB_ERR_NOMEM;
        errno = ENOMEM;
        return NULL;
    }
    void *b = lab_malloc(h, padded);
    if (!b)
        return NULL;
    *base = b;
    return (void *)(((uintptr_t)b + align - 1) & ~(uintptr_t)(align - 1));
}

lab_err_t lab_free(lab_heap_t *h, void *p)
{
    if (!p)
        return h->last_error = LAB_OK;
    lab_err_t e = screen_pointer(h, p);
    if (e == LAB_OK)
        e = h->policy->free(h->state, p);
    h->last_error = e;
    maybe_check(h);
    return e;
}

/* realloc for policies without their own: usable_size() validates p (0: not a live
 * block; it cannot say more) and gives the old size; then a new block, the common
 * prefix, free. */
static void *realloc_by_copy(lab_heap_t *h, void *p, size_t n, lab_err_t *err)
{
    size_t old = h->policy->usable_size(h->state, p);
    if (old == 0) {
        *err = LAB_ERR_DOUBLE_FREE; /* freed already or never handed out */
        return NULL;
    }
    void *q = h->policy->malloc(h->state, n);
    if (!q) {
        *err = LAB_ERR_NOMEM;
        return NULL;
    }
    memcpy(q, p, old < n ? old : n);
    h->policy->free(h->state, p);
    *err = LAB_OK;
    return q;
}

void *lab_realloc(lab_heap_t *h, void *p, size_t n)
{
    if (!p)
        return lab_malloc(h, n);
    if (n == 0) { /* free's path validates p: an invalid p is rejected, not freed */
        lab_free(h, p);
        return NULL;
    }
    lab_err_t e = screen_pointer(h, p);
    if (e == LAB_OK && n > LAB_MAX_REQUEST) { /* cold: the pointer's verdict comes first */
        if (!(h->policy->flags & LAB_USES_SYSTEM))
            e = screen_region(h, p);
        if (e == LAB_OK)
            e = h->policy->usable_size(h->state, p) ? LAB_ERR_NOMEM : LAB_ERR_DOUBLE_FREE;
    }
    if (e != LAB_OK) {
        h->last_error = e;
        if (e == LAB_ERR_NOMEM)
            errno = ENOMEM;
        return NULL;
    }
    /* The policy validates p itself, in the lookup that finds the block. */
    void *q = h->policy->realloc ? h->policy->realloc(h->state, p, n, &e)
                                 : realloc_by_copy(h, p, n, &e);
    if (q) {
        h->last_error = LAB_OK;
        maybe_check(h);
        return q;
    }
    h->last_error = e == LAB_OK ? LAB_ERR_NOMEM : e; /* OK: a policy that did not say why */
    if (h->last_error == LAB_ERR_NOMEM) {
        errno = ENOMEM;
        maybe_check(h);
    } /* a rejected pointer changed nothing: not a mutating call */
    return NULL;
}

size_t lab_usable_size(lab_heap_t *h, const void *p)
{
    if (!p || screen_pointer(h, p) != LAB_OK)
        return 0;
    return h->policy->usable_size(h->state, p);
}

int lab_check(lab_heap_t *h, lab_report_t *r)
{
    int before = r->count;
    lab_mem_check(&h->mem, r);
    h->policy->check(h->state, r);
    return r->count - before;
}

int lab_walk(lab_heap_t *h, lab_walk_fn fn, void *ctx)
{
    if (!h->policy->walk)
        return -1;
    h->policy->walk(h->state, fn, ctx);
    return 0;
}

void lab_stats(lab_heap_t *h, lab_stats_t *s)
{
    memset(s, 0, sizeof *s);
    h->policy->stats(h->state, s);
}

size_t lab_footprint(lab_heap_t *h)
{
    if (h->policy->flags & LAB_USES_SYSTEM) {
        lab_stats_t s;
        lab_stats(h, &s);
        return s.footprint;
    }
    return lab_mem_footprint(&h->mem);
}

size_t lab_peak_footprint(lab_heap_t *h)
{
    return (h->policy->flags & LAB_USES_SYSTEM) ? lab_footprint(h) : h->mem.peak_footprint;
}
