/*
 * alloc.c -- the malloc fast path: hk_malloc, hk_calloc, hk_usable_size.
 *
 * Design:      page = heap->direct[(n+15)/16] for n <= 1 KiB, heap->current[class] up to
 *              1 MiB; pop page->free. No lock, no atomic, no call on the fast path; the
 *              slow path (heap.c) runs when the page's free list is empty, and huge sizes
 *              go to huge.c. Edge cases (0, overflow) are normalized here, once.
 * Complexity:  O(1).
 */
#include "config.h"
#include "internal.h"

#include <errno.h>
#include <string.h>

/* Out of line in the secure build: inlined there, its stack frame became malloc's fast
 * path's (gcc 12, 4 instructions per call); in the default build gcc inlines it and keeps
 * the fast path frameless and one move shorter than with a tail call. */
#if HK_SECURE
HK_NOINLINE
#endif
void *hki_malloc_huge(size_t n, size_t align, bool zero)
{
    hki_init();
    bool refused;
    void *p = hki_huge_malloc(n, align, zero, &refused);
    if (hk_unlikely(p == NULL && refused)) {
        /* out of memory: give back what this thread and the cache hold, retry once */
        hki_reclaim();
        p = hki_huge_malloc(n, align, zero, &refused);
    }
    return p;
}

/* n: the size to allocate; req: the request; canary: the block gets the secure build's
 * canary after req (n = req + 8, secure.h; a constant at every call, so each call inlines
 * its own path; the default build's is always false and n == req) */
static HK_ALWAYS_INLINE void *heap_malloc(size_t n, size_t req, bool canary)
{
    hk_heap_t *heap = hki_tls_heap;
    hk_page_t *page;
    if (hk_likely(n <= HK_DIRECT_MAX))
        page = heap->direct[(n + 15) >> 4];
    else if (hk_likely(n <= HK_LARGE_MAX))
        page = heap->current[hki_size_class(n)];
    else
        return hki_malloc_huge(n, 0, false);
    hk_block_t *b = page->free;
    if (hk_unlikely(b == NULL))
        return canary ? hki_secure_malloc_slow(heap, hki_size_class(n), req)
                      : hki_malloc_slow(heap, hki_size_class(n));
    if (!canary)
        return hki_page_pop(heap, page, b);
    if (hki_page_head_damaged(page, b))
        return hki_page_damaged(page, b); /* (reported; NULL if the program goes on) */
    return hki_secure_stamp_popped(page, hki_page_take(page, b), req);
}

void *hki_malloc_class(unsigned c)
{
    hk_heap_t *heap = hki_tls_heap;
    hk_page_t *page = heap->current[c];
    hk_block_t *b = page->free;
    if (hk_unlikely(b == NULL))
        return hki_malloc_slow(heap, c);
    return hki_page_pop(heap, page, b);
}

void *hk_malloc(size_t size)
{
    void *p;
#if HK_SECURE
    if (hk_likely(size <= HK_DIRECT_MAX - HK_CANARY_SIZE)) /* one test for a small request */
        p = heap_malloc(size + HK_CANARY_SIZE, size, true);
    else
#endif
        p = hki_secure_canary_for(size) ? heap_malloc(size + HK_CANARY_SIZE, size, true)
                                        : heap_malloc(hki_secure_request(size), size, false);
    hk_track_malloc(p);
    return p;
}

void *hk_calloc(size_t count, size_t size)
{
    size_t n;
    if (hk_unlikely(__builtin_mul_overflow(count, size, &n))) {
        errno = ENOMEM;
        return NULL;
    }
    size_t want = hki_secure_request(n);
    if (want > HK_LARGE_MAX) {
        void *p = hki_malloc_huge(n, 0, true); /* (huge blocks have no canary) */
        hk_track_malloc(p);
        return p;
    }
    void *p = heap_malloc(want, n, hki_secure_canary_for(n));
    hk_track_malloc(p); /* before memset, which ASan checks */
    if (p != NULL)
        memset(p, 0, n);
    return p;
}

size_t hk_usable_size(const void *p)
{
    if (p == NULL)
        return 0;
    hk_page_t *page;
    hk_segment_t *seg = hki_block_validate(p, "malloc_usable_size", &page);
    if (seg == NULL)
        return 0;
    if (seg->kind == HK_KIND_HUGE)
        return hki_huge_usable(seg, p);
#if HK_SECURE
    return hki_secure_usable(page, p); /* the request: the canary follows it */
#endif
    return page->block_size;
}

int hk_is_owned(const void *p)
{
    hk_page_t *page;
    hk_segment_t *seg = p == NULL ? NULL : hki_block_validate(p, NULL, &page);
#if HK_SECURE
    if (seg != NULL && seg->kind != HK_KIND_HUGE && hki_secure_is_freed(page, p))
        return 0; /* in the quarantine */
#endif
    return seg != NULL;
}

#if HK_OVERRIDE_ALIASES
/* The standard names of the two (override.c has the others): the same code, no forward */
HK_EXPORT HK_ATTR_MALLOC HK_ATTR_ALLOC_SIZE(1) void *malloc(size_t size)
    __attribute__((alias("hk_malloc")));
HK_EXPORT HK_ATTR_MALLOC HK_ATTR_ALLOC_SIZE2(1, 2) void *calloc(size_t count, size_t size)
    __attribute__((alias("hk_calloc")));
#endif
