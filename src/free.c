/*
 * free.c -- hk_free: validation, local and remote frees, and the error reports.
 *
 * Design:      every free is validated before any write (STYLE §8 level 0); the checks
 *              are defined once, in segment.h ("what a valid block is"):
 *                1. the segment base (p & ~4MiB) must be in the registry (segment.c);
 *                   otherwise the pointer is foreign (stack, static, another mmap, libc).
 *                   Skipped when the base is the heap's free_seg (types.h): a segment
 *                   the heap owns, hence mapped;
 *                2. p must be a multiple of the block size from its page start, inside
 *                   the carved part (one multiply, one compare: segment.h); otherwise it is an
 *                   interior pointer, or lies in a retired page / the header;
 *                3. double free: a free block's first word decodes (with the secret key) to
 *                   NULL or an address inside its page; a live block's word never does
 *                   (zeroed at allocation, see types.h). Only on that rare match the owner
 *                   walks the page's free lists to confirm (exact: no false report); a
 *                   thread that is not the owner cannot walk them and reports on the match
 *                   itself (a false report needs the user to store key ^ an address of the
 *                   page, about 2^-50 for a random key).
 *              What is not detected: a double free after the block was allocated again,
 *              and frees of blocks whose first word a use-after-free overwrote.
 *              The secure build then checks the block's canary (secure.h; an overflow
 *              is reported, the quarantine may take the block: secure.c).
 *              Then: the owner pushes on the page's local_free (no atomics); anyone else
 *              pushes on the page's thread_free with one CAS.
 * Concurrency: see page.c.
 * Complexity:  O(1); confirmation of a suspected double free O(blocks in the page).
 */
#include "config.h"
#include "internal.h"
#include "os.h"

/* ---- error reports (cold) ---- */

void hki_usage_error(const char *fmt, ...)
{
    hki_init(); /* the options may not be read yet */
    long action = hki_option(HK_OPT_ON_ERROR);
    if (action == HK_ON_ERROR_IGNORE)
        return;
    va_list ap;
    va_start(ap, fmt);
    hki_vprint_line("heapkit: error: ", fmt, ap);
    va_end(ap);
    if (action == HK_ON_ERROR_ABORT)
        hki_os_abort();
}

static HK_COLD void report_bad_block(hk_segment_t *seg, hk_page_t *page, const void *p,
                                     const char *func)
{
    if (seg->kind == HK_KIND_HUGE) {
        if (p == (const void *)page->start && hki_page_start_limit(page) == 0)
            hki_usage_error("double free of %p (%s)", p, func);
        else
            hki_usage_error("invalid pointer %p passed to %s (not a block start)", p, func);
        return;
    }
    hk_page_t *span = page->class_idx == 0 ? hki_span_of(seg, p) : NULL;
    if (span != NULL) /* inside a span's run beyond its first slot (types.h S2) */
        page = span;
    uintptr_t off = (uintptr_t)p - page->start;
    if (page->class_idx == 0 && off == 0 && seg->kind == HK_KIND_SPAN &&
        ((seg->marked_mask >> page->slot) & 1u)) {
        /* a free slot where a freed span's block started (types.h S3) */
        hki_usage_error("double free of %p (%s)", p, func);
        return;
    }
    if (page->class_idx == 0 || off >= page->area_size) {
        hki_usage_error("invalid pointer %p passed to %s (not an allocated block; double free "
                        "of a released page or a stray pointer)",
                        p, func);
        return;
    }
    uintptr_t block = page->start + (off / page->block_size) * page->block_size;
    if (page->run_slots != 0 && off >= page->block_size)
        hki_usage_error("invalid pointer %p passed to %s (past the end of the block at %p, in "
                        "its run of slots)",
                        p, func, (void *)page->start);
    else if (block == (uintptr_t)p)
        hki_usage_error("invalid pointer %p passed to %s (never allocated)", p, func);
    else
        hki_usage_error("interior pointer %p passed to %s (inside the block at %p)", p, func,
                        (void *)block);
}

static HK_COLD void report_foreign(const void *p, const char *func)
{
    hki_usage_error("invalid pointer %p passed to %s (not allocated by heapkit)", p, func);
}

/* A block start whose first word decodes like a free-list link (free.c header, check 3):
 * freed, unless the owner's exact walk of the page's lists says otherwise. A thread that
 * is not the owner cannot walk them, and takes the match itself as the verdict, as free
 * does (a false report needs the user to store key ^ an address of the page). */
static bool block_is_freed(hk_segment_t *seg, hk_page_t *page, const hk_block_t *b)
{
    if (seg->kind == HK_KIND_HUGE)
        return false; /* a freed huge block has carved == 0: not a block start at all */
    if (!hki_block_link_shaped(b->next_enc, page->key) || !hki_page_block_looks_freed(page, b))
        return false;
    if (atomic_load_explicit(&seg->heap, memory_order_relaxed) == hki_tls_heap)
        return hki_page_has_free_block(page, b);
    return true;
}

hk_segment_t *hki_block_validate(const void *p, const char *func, hk_page_t **page_out)
{
    hk_segment_t *seg = hki_segment_of(p);
    if (hk_unlikely(!hki_registry_has((uintptr_t)p)) && (seg = hki_huge_far_of(p)) == NULL) {
        if (func)
            report_foreign(p, func);
        return NULL;
    }
    hk_page_t *page = hki_page_of(seg, p);
    if (hk_unlikely(!hki_page_is_block_start(page, p))) {
        if (func)
            report_bad_block(seg, page, p, func);
        return NULL;
    }
    if (hk_unlikely(block_is_freed(seg, page, p))) {
        if (func)
            hki_usage_error("%s of %p, a block already freed", func, p);
        return NULL;
    }
    *page_out = page;
    return seg;
}

/* The block's first word looks like a free-list link. Returns true if it is a double
 * free (reported), false if it was a false alarm. */
static HK_COLD bool free_suspect(hk_segment_t *seg, hk_page_t *page, hk_block_t *b)
{
    if (seg->kind == HK_KIND_HUGE)
        return false; /* huge blocks are validated by their carved flag */
    if (atomic_load_explicit(&seg->heap, memory_order_relaxed) == hki_tls_heap &&
        !hki_page_has_free_block(page, b))
        return false;
    hki_usage_error("double free of %p (free)", (void *)b);
    return true;
}

/* ---- the free paths ----
 * hk_free is written so that every uncommon case leaves through a tail call (no stack
 * frame on the fast path); the checks read each page field once. */

/* free_remote's rare cases: an orphan waits (the block's heap may be one, which the
 * thread then continues), or the segment is abandoned (the thread claims it). Returns
 * true if the block was freed here, as a local free. */
static HK_NOINLINE bool free_remote_takeover(hk_segment_t *seg, hk_page_t *page, hk_block_t *b)
{
    hk_heap_t *owner = atomic_load_explicit(&seg->heap, memory_order_relaxed);
    if (owner != NULL && hki_heap_take_orphan(owner)) {
        /* the thread's first free of another heap's block, an exited thread's: the thread
         * continues that heap (heap.c "orphans"), so this free is local */
        hki_free_block(seg, page, b);
        return true;
    }
    if (atomic_load_explicit(&seg->heap, memory_order_relaxed) == NULL) {
        /* Reclaim on free: the segment of an exited thread goes to the thread that frees
         * into it, so its blocks come back to the thread that uses them (no remote frees,
         * no cache lines shared with the thread that adopted it otherwise). */
        hk_heap_t *heap = hki_heap_for_claim();
        if (heap != NULL && hki_abandoned_claim(seg, heap)) {
            hki_heap_adopt(heap, seg, HK_ADOPT_BY_FREE); /* b is live, so its page and seg stay in use */
            hki_free_block(seg, page, b);
            return true;
        }
    }
    return false;
}

/* A block of another heap goes on its page's thread_free list (the owner collects it),
 * unless free_remote_takeover makes it the thread's own. Written without a stack frame
 * for the push, the common case (a producer-consumer free). */
static HK_NOINLINE void free_remote(hk_segment_t *seg, hk_page_t *page, hk_block_t *b)
{
    if (seg->kind == HK_KIND_HUGE) {
        hki_huge_free(seg);
        return;
    }
    if (hk_unlikely(hki_orphans_waiting() ||
                    atomic_load_explicit(&seg->heap, memory_order_relaxed) == NULL) &&
        free_remote_takeover(seg, page, b))
        return;
    uintptr_t key = page->key;
    uintptr_t head = atomic_load_explicit(&page->thread_free, memory_order_relaxed);
    do {
        b->next_enc = head ^ key;
    } while (!atomic_compare_exchange_weak_explicit(&page->thread_free, &head, (uintptr_t)b,
                                                    memory_order_release, memory_order_relaxed));
}

/* The owner's free made the page empty, or an eighth of a full page free. An empty page
 * that is its class's current page stays (malloc takes from it next; heap.c retires it
 * if it is still empty a purge delay later), unless the purge delay is 0. */
HK_NOINLINE void hki_free_local_slow(hk_heap_t *heap, hk_page_t *page)
{
    if (page->in_full || page != heap->current[page->class_idx] ||
        hki_option(HK_OPT_PURGE_DELAY) == 0)
        hki_page_free_slow(heap, page);
}

/* b is a validated block start of page. */
static inline void free_checked(hk_segment_t *seg, hk_page_t *page, hk_block_t *b)
{
    hk_heap_t *heap = hki_tls_heap;
    if (hk_unlikely(atomic_load_explicit(&seg->heap, memory_order_relaxed) != heap)) {
        free_remote(seg, page, b);
        return;
    }
    b->next_enc = (uintptr_t)page->local_free ^ page->key;
    page->local_free = b;
    if (hk_unlikely(--page->used_rel == 0)) /* used == report_at (types.h) */
        hki_free_local_slow(heap, page);
}

/* b's first word passed the cheap test (segment.h hki_block_link_shaped): the exact one,
 * then, if that matches too, the owner's walk. */
static HK_NOINLINE void free_suspected(hk_segment_t *seg, hk_page_t *page, hk_block_t *b)
{
    if (!hki_page_block_looks_freed(page, b) || !free_suspect(seg, page, b)) {
#if HK_SECURE
        if (hki_secure_free_diverted(seg, page, b, page->key)) { /* (live after all) */
            hki_secure_free_slow(seg, page, b);
            return;
        }
#endif
        free_checked(seg, page, b);
    }
}

static inline void free_block(hk_segment_t *seg, hk_page_t *page, void *p)
{
    hk_block_t *b = p;
    if (hk_unlikely(hki_page_block_looks_freed(page, b))) {
        free_suspected(seg, page, b);
        return;
    }
    free_checked(seg, page, b);
}

void hki_free_block(hk_segment_t *seg, hk_page_t *page, void *p)
{
    free_block(seg, page, p);
}

void hki_free_valid(hk_segment_t *seg, hk_page_t *page, void *p)
{
    hk_track_free(p);
    free_checked(seg, page, p);
}

/* free's path for a validated block of another heap (a remote free, huge, abandoned);
 * the secure build checks its canary first (the fast path checks only its own heap's
 * blocks, which are never huge). */
#if HK_SECURE
static HK_NOINLINE void free_other_heap(hk_segment_t *seg, hk_page_t *page, hk_block_t *b)
{
    if (hki_secure_free_diverted(seg, page, b, page->key))
        hki_secure_free_slow(seg, page, b);
    else
        free_remote(seg, page, b);
}
#else
#define free_other_heap free_remote
#endif

/* The cold path of free: NULL, a pointer outside the registry (foreign, or a far huge
 * block: huge.c), or one that failed the block-start check. */
static HK_NOINLINE void free_bad(void *p)
{
    if (p == NULL)
        return;
    hk_segment_t *seg = hki_segment_of(p);
    if (!hki_registry_has((uintptr_t)p)) {
        if ((seg = hki_huge_far_of(p)) == NULL) {
            report_foreign(p, "free");
            return;
        }
        if (hki_page_is_block_start(&seg->pages[0], p)) {
            hki_huge_free(seg);
            return;
        }
    }
    report_bad_block(seg, hki_page_of(seg, p), p, "free");
}

/* Validates p, a pointer into seg (a registered segment), and frees it: locally if `mine`
 * (seg is the calling thread's heap's), else by free_other_heap. Inlined twice into
 * hk_free, with `mine` a constant on its fast path. */
static HK_ALWAYS_INLINE void free_in_segment(hk_heap_t *heap, hk_segment_t *seg, void *p,
                                             bool mine)
{
    uintptr_t a = (uintptr_t)p;
    hk_page_t *page = hki_page_of(seg, p);
    /* validation (segment.h "what a valid block is"), each page field read once: block
     * start inside the carved part, and the first word does not look like a free-list
     * link */
    uintptr_t start = page->start, key = page->key;
    uint64_t limit = mine ? page->start_limit : hki_page_start_limit(page); /* (types.h) */
    if (hk_unlikely(!hki_block_is_start(a - start, limit, page->div_magic))) {
        free_bad(p);
        return;
    }
    hk_block_t *b = p;
    if (hk_unlikely(hki_block_link_shaped(b->next_enc, key))) {
        free_suspected(seg, page, b);
        return;
    }
    if (!mine) {
        free_other_heap(seg, page, b);
        return;
    }
#if HK_SECURE
    if (hk_unlikely(hki_secure_free_diverted_local(page, b, key))) {
        hki_secure_free_slow(seg, page, b); /* the canary changed, or the quarantine */
        return;
    }
#endif
    b->next_enc = (uintptr_t)page->local_free ^ key;
    page->local_free = b;
    if (hk_unlikely(--page->used_rel == 0)) /* used == report_at (types.h) */
        hki_free_local_slow(heap, page);
}

void hk_free(void *p)
{
    hk_track_free(p); /* before p is linked anywhere */
    hk_heap_t *heap = hki_tls_heap;
    hk_segment_t *seg = hki_segment_of(p);
    /* the heap's known segment: registered, and the heap's own (types.h S4), so neither
     * the registry nor the owner is looked up */
    if (hk_likely(seg == heap->free_seg)) {
        free_in_segment(heap, seg, p, true);
        return;
    }
    hk_segment_t **own = hki_own_slot(heap, seg); /* (S4 too) */
    if (hk_likely(*own == seg)) {
        heap->free_seg = seg;
        free_in_segment(heap, seg, p, true);
        return;
    }
    if (hk_unlikely(!hki_registry_has((uintptr_t)p))) {
        free_bad(p);
        return;
    }
    if (atomic_load_explicit(&seg->heap, memory_order_relaxed) == heap) {
        heap->free_seg = seg;
        *own = seg;
        free_in_segment(heap, seg, p, true);
    } else {
        free_in_segment(heap, seg, p, false);
    }
}

void hk_free_sized(void *p, size_t size)
{
    (void)size;
    hk_free(p);
}

void hk_free_aligned_sized(void *p, size_t alignment, size_t size)
{
    (void)alignment;
    (void)size;
    hk_free(p);
}

#if HK_OVERRIDE_ALIASES
/* free itself (override.c has the other standard names) */
HK_EXPORT void free(void *p) __attribute__((alias("hk_free")));
#endif
