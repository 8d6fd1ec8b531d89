/*
 * internal.h -- the top layer of libheapkit: the public entry points' shared helpers
 * (alloc.c, free.c, aligned.c, realloc.c, override.c), over everything below.
 * All hki_ symbols have hidden visibility (-fvisibility=hidden).
 *
 * Layers (docs/DESIGN-LIB.md, checked by tests/layers.sh), each header including only
 * those below it:
 *   internal.h  alloc/free      alloc.c free.c aligned.c realloc.c override.c
 *   heap.h      heap            heap.c page.c stats.c heapcheck.c
 *   ownership.h ownership       ownership.c
 *   segment.h huge.h  segment   segment.c huge.c
 *   support.h   support         size_class.c options.c output.c account.c
 *   os.h lock.h os              os/posix.c
 *   config.h types.h check.h track.h   (types, macros and ASan primitives only)
 */
#ifndef HK_INTERNAL_H
#define HK_INTERNAL_H

#include "config.h"
#include "heap.h"
#include "secure.h"
#include "track.h"

#include "heapkit.h"

/* ---- block tracking for ASan (track.h): the events that need the public API ---- */
#if HK_TRACK_ASAN
static inline void hk_track_malloc(void *p)
{
    if (p != NULL)
        hk_track_unpoison(p, hk_usable_size(p));
}
static inline void hk_track_free(void *p)
{
    if (p != NULL && hk_is_owned(p))
        hk_track_poison(p, hk_usable_size(p));
}
#else
#define hk_track_malloc(p) ((void)(p))
#define hk_track_free(p)   ((void)(p))
#endif

/* A usage error (bad free...): one line on stderr, then the HEAPKIT_ON_ERROR action.
 * Returns only if the action is warn or ignore (free.c). */
void hki_usage_error(const char *fmt, ...) __attribute__((cold, format(printf, 1, 2)));

/* ---- free (free.c) ---- */
/* The validation of every entry point that takes a pointer (realloc, usable_size,
 * hk_is_owned; free makes the same checks inline, on its fast path): p must be a live
 * block of ours: registered segment, block start of a carved page (or a live huge block),
 * not freed. Returns its segment (and page), or NULL after reporting the error for `func`
 * ("realloc", ...; NULL: silently). */
hk_segment_t *hki_block_validate(const void *p, const char *func, hk_page_t **page_out);
void hki_free_block(hk_segment_t *seg, hk_page_t *page, void *p);
/* Frees a block hki_block_validate has just accepted (realloc: no second validation). */
void hki_free_valid(hk_segment_t *seg, hk_page_t *page, void *p);
/* The owner's free of b, a validated block of page: the push (free's fast path), and
 * the page's report when `used` reaches report_at (hki_free_local_slow). */
void hki_free_local_slow(hk_heap_t *heap, hk_page_t *page);
static inline void hki_free_own(hk_heap_t *heap, hk_page_t *page, hk_block_t *b)
{
    hk_track_free(b);
    b->next_enc = (uintptr_t)page->local_free ^ page->key;
    page->local_free = b;
    if (hk_unlikely(--page->used_rel == 0)) /* used == report_at (types.h) */
        hki_free_local_slow(heap, page);
}

/* ---- realloc (realloc.c, and secure.c's realloc) ----
 * Does a block of `usable` bytes (not huge) growing to `size` move to a mapping of its
 * own (huge.c: grown by mremap from then on)? When it leaves the class sizes, or reaches
 * HK_REALLOC_REMAP_MIN growing by half or more at once: a buffer that doubles keeps
 * doubling (sqlite3: 32 KiB .. 2 MiB), which a span would copy whole on leaving the span
 * sizes. A span growing by less (CPython's steps of 1/8, bench realloc-large) grows in
 * place over the free slots after it, or moves to another span: a copy, but no system
 * call and no fresh pages (measured: docs/BENCH.md "Spans"). */
static inline bool hki_realloc_to_mapping(size_t usable, size_t size)
{
    return size > usable && size >= HK_REALLOC_REMAP_MIN &&
           (size > HK_LARGE_MAX || size - usable >= usable / 2);
}
/* ... and may it grow or shrink in place as a span (heap.c hki_span_resize)? */
static inline bool hki_realloc_as_span(const hk_page_t *page, size_t size)
{
    return page->run_slots != 0 && size > HK_MEDIUM_MAX && size <= HK_LARGE_MAX &&
           !hki_realloc_to_mapping(page->block_size, size);
}

/* ---- alloc (alloc.c) ---- */
void *hki_malloc_class(unsigned c);
void *hki_malloc_aligned(size_t n, size_t align);
/* A huge block (huge.c) for the entry points: initializes the process first (the huge
 * path skips malloc's slow path), and when the OS refuses the mapping gives back what
 * the thread holds unused (hki_reclaim) and tries once more. */
void *hki_malloc_huge(size_t n, size_t align, bool zero);

#endif
