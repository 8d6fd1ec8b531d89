/*
 * realloc.c -- hk_realloc and hk_reallocarray.
 *
 * Design:      a block keeps its place if the new size still fits and is at least half
 *              of the block (no copy); huge blocks grow and shrink with mremap (huge.c);
 *              otherwise allocate, copy, free. A block that grows to HK_REALLOC_REMAP_MIN
 *              (128 KiB) or more is moved to a mapping of its own even below the huge
 *              threshold: programs grow buffers by ~1/8 at a time (CPython's lists and
 *              writers), so a class block was copied at every step (a recorded python3
 *              JSON run copied 154 MB in 1,575 reallocs, 88% of its instructions in
 *              malloc); from its own mapping it grows by moving pages. The block is
 *              validated once (hki_block_validate) and freed without a second check.
 *              A block of one of the calling thread's segments is validated inline, as
 *              free validates it, and moved without the general path's calls: a recorded
 *              sqlite3 run reallocates 300,000 times, and the general validation with its
 *              stack frames took 66 of realloc's 149 instructions each (callgrind);
 *              the move takes its new block and frees the old one by malloc's and free's
 *              fast paths inline, without calling them.
 *              realloc(p, 0) frees p and returns NULL (glibc's behaviour); realloc(NULL,
 *              n) is malloc(n). On failure p is intact, errno = ENOMEM.
 */
#include "config.h"
#include "internal.h"

#include <errno.h>
#include <string.h>

/* A span block of the calling thread's heap takes its new class in place, over the free
 * slots after its run or giving its tail back (heap.c hki_span_resize): no copy. */
static bool span_resize(hk_heap_t *heap, hk_page_t *page, void *p, size_t size)
{
    size_t before = page->block_size;
    if (!hki_span_resize(heap, page, size))
        return false;
    hk_track_poison(p, before); /* (ASan: the block's new extent) */
    hk_track_unpoison(p, page->block_size);
    return true;
}

/* every case: NULL, 0, huge blocks, blocks of other heaps or segments, the secure build */
static HK_NOINLINE void *realloc_general(void *p, size_t size)
{
    if (p == NULL)
        return hk_malloc(size);
    if (size == 0) {
        hk_free(p);
        return NULL;
    }
    hk_page_t *page;
    hk_segment_t *seg = hki_block_validate(p, "realloc", &page);
    if (seg == NULL) {
        errno = EINVAL;
        return NULL;
    }
#if HK_SECURE
    if (seg->kind != HK_KIND_HUGE)
        return hki_secure_realloc(seg, page, p, size); /* canary, quarantine: secure.c */
#endif
    size_t usable;
    if (seg->kind == HK_KIND_HUGE) {
        usable = hki_huge_usable(seg, p);
        if (size >= HK_REALLOC_REMAP_MIN) {
            void *q = hki_huge_realloc(seg, p, size);
            hk_track_malloc(q);
            if (q != NULL)
                return q;
        }
    } else {
        usable = page->block_size;
        if (size <= usable && size >= usable / 2)
            return p;
        if (hki_realloc_as_span(page, size) &&
            atomic_load_explicit(&seg->heap, memory_order_relaxed) == hki_tls_heap &&
            span_resize(hki_tls_heap, page, p, size))
            return p;
    }
    void *q;
    if (seg->kind == HK_KIND_HUGE ? size > usable && size >= HK_REALLOC_REMAP_MIN
                                  : hki_realloc_to_mapping(usable, size)) {
        q = hki_malloc_huge(size, 0, false); /* growing: from now on by mremap */
        hk_track_malloc(q);
    } else {
        q = hk_malloc(size);
    }
    if (q == NULL)
        return NULL;
    memcpy(q, p, size < usable ? size : usable);
    hki_free_valid(seg, page, p); /* validated above: not again */
    return q;
}

#if !HK_SECURE
/* The block of n bytes malloc's fast path would hand out (alloc.c), or NULL where malloc
 * would take its slow path. n < HK_REALLOC_REMAP_MIN: a class size. */
static HK_ALWAYS_INLINE hk_block_t *pop_fast(hk_heap_t *heap, size_t n)
{
    hk_page_t *page = n <= HK_DIRECT_MAX ? heap->direct[(n + 15) >> 4]
                                         : heap->current[hki_size_class(n)];
    hk_block_t *b = page->free;
    if (b == NULL || hki_page_head_damaged(page, b))
        return NULL; /* (malloc's slow path, or its report of the damaged list) */
    return hki_page_take(page, b);
}
#endif

void *hk_realloc(void *p, size_t size)
{
#if !HK_SECURE
    hk_heap_t *heap = hki_tls_heap;
    hk_segment_t *seg = hki_segment_of(p);
    /* one of the heap's segments: its known one (types.h S4), or a registered one it owns
     * (NULL is neither: not in the registry) */
    if (hk_likely(size - 1 < HK_REALLOC_REMAP_MIN - 1) &&
        hk_likely(seg == heap->free_seg ||
                  (hki_registry_has((uintptr_t)p) &&
                   atomic_load_explicit(&seg->heap, memory_order_relaxed) == heap))) {
        /* a live block start of the heap's known segment (segment.h "what a valid block
         * is"); a first word shaped like a link takes the general path's exact test */
        hk_page_t *page = hki_page_of(seg, p);
        const hk_block_t *b = p;
        if (hk_likely(hki_block_is_start((uintptr_t)p - page->start, page->start_limit,
                                         page->div_magic) &&
                      !hki_block_link_shaped(b->next_enc, page->key))) {
            size_t usable = page->block_size;
            if (size <= usable && size >= usable / 2)
                return p;
            /* (a block above HK_MEDIUM_MAX is a span's: types.h P8) */
            if (hk_unlikely(usable > HK_MEDIUM_MAX) && size > HK_MEDIUM_MAX &&
                span_resize(heap, page, p, size))
                return p;
            hk_block_t *moved = pop_fast(heap, size);
            if (hk_likely(moved != NULL)) {
                /* malloc's and free's fast paths inline: no slow path ran, so the heap
                 * is still the block's owner (callgrind: sqlite3's 300,000 moves
                 * lose two calls each) */
                hk_track_malloc(moved);
                memcpy(moved, p, size < usable ? size : usable);
                hki_free_own(heap, page, (hk_block_t *)p);
                return moved;
            }
            void *q = hk_malloc(size);
            if (q == NULL)
                return NULL;
            memcpy(q, p, size < usable ? size : usable);
            hki_free_valid(seg, page, p); /* (the owner is tested again: malloc may have
                                           * given the thread an orphan's heap) */
            return q;
        }
    }
#endif
    return realloc_general(p, size);
}

void *hk_reallocarray(void *p, size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    return hk_realloc(p, n);
}

#if HK_OVERRIDE_ALIASES
/* realloc itself (override.c has the other standard names) */
HK_EXPORT HK_ATTR_ALLOC_SIZE(2) void *realloc(void *p, size_t size)
    __attribute__((alias("hk_realloc")));
#endif
