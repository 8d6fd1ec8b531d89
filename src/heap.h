/*
 * heap.h -- per-thread heaps and their pages (heap.c, page.c), statistics (stats.c) and
 * the heap checker (heapcheck.c).
 *
 * Layer:       above ownership.h (and so segments, huge blocks, support, OS), below the
 *              public entry points (internal.h). The four files of this layer call each
 *              other; nothing below calls into them.
 */
#ifndef HK_HEAP_H
#define HK_HEAP_H

#include "config.h"
#include "ownership.h"
#include "support.h"

#include "heapkit.h" /* hk_report_t, hk_stats_t: this layer defines hk_heap_check, hk_stats_get, hk_trim */

/* ---- global state ---- */
extern hk_page_t hki_page_empty;        /* free == NULL: forces the slow path */
extern hk_heap_t hki_heap_empty;        /* every thread's heap before initialization */
extern _Thread_local hk_heap_t *hki_tls_heap;

#if HK_SECURE
/* The secure build's quarantine flush (checks and frees the blocks a heap holds back),
 * set by secure.c (a layer above) when it first quarantines a block; thread exit runs it
 * before the heap is given up, hk_trim before it collects. */
extern void (*hki_quarantine_flush_hook)(hk_heap_t *heap);
#endif

/* ---- process init (heap.c) ---- */
void hki_init(void);
bool hki_is_initialized(void);

/* ---- pages (page.c) ---- */
void hki_page_init(hk_page_t *page, hk_segment_t *seg, unsigned class_idx);
#if HK_SECURE
uint32_t hki_page_canary_end(size_t block_size); /* types.h P7 */
#endif
void hki_page_extend(hk_page_t *page);
/* Moves local_free (if free is empty) and the thread-free list into free. */
void hki_page_collect(hk_heap_t *heap, hk_page_t *page);
void hki_queue_push_front(hk_heap_t *heap, hk_page_t *page);
void hki_queue_push_back(hk_heap_t *heap, hk_page_t *page);
void hki_queue_remove(hk_heap_t *heap, hk_page_t *page);
/* The full list. A page there reports to free's slow path (report_at) only once an eighth
 * of it is free again, not at its first free (page.c). */
void hki_full_push(hk_heap_t *heap, hk_page_t *page);
void hki_full_remove(hk_heap_t *heap, hk_page_t *page);
/* The span list (page.c): a heap's live spans, which are on no queue (types.h P8). */
void hki_spans_push(hk_heap_t *heap, hk_page_t *page);
void hki_spans_remove(hk_heap_t *heap, hk_page_t *page);
#define HK_REPORT_NEVER UINT32_MAX /* report_at of a current page (page.c) */
static inline uint32_t hki_full_report_at(uint32_t capacity)
{
    uint32_t eighth = capacity / 8;
    return capacity - (eighth ? eighth : 1);
}
void hki_heap_set_current(hk_heap_t *heap, unsigned c);
/* |free| (walks the list) */
uint32_t hki_page_free_count(const hk_page_t *page);
/* Is b on one of page's free lists? (owner only: walks them) */
bool hki_page_has_free_block(const hk_page_t *page, const hk_block_t *b);

/* ---- heap (heap.c) ---- */
/* The head of a page's free list is not one of its carved blocks (P1): the link that led
 * there was overwritten, by a write after free or an overflow. Reported and fatal
 * (page.c): malloc never reads through it. Never returns, but is not declared _Noreturn:
 * malloc reaches it by a tail call, which keeps the fast path free of a stack frame (gcc
 * does not tail-call a noreturn function). */
void *hki_page_damaged(const hk_page_t *page, const hk_block_t *b) HK_COLD;

/* Is b, the head of a page's non-empty free list, not one of its carved block starts (a
 * damaged link: hki_page_damaged)? One multiply and one compare (b != NULL is known),
 * made before b's link is read, so a damaged link stops the malloc that would follow
 * it, whether it leads out of the page or into the middle of a block. */
static inline bool hki_page_head_damaged(const hk_page_t *page, const hk_block_t *b)
{
    return hk_unlikely(!hki_block_is_start((uintptr_t)b - page->start, page->start_limit,
                                           page->div_magic)); /* (owner: plain) */
}
/* Takes b, the checked head of the page's free list (the malloc fast path). */
static inline void *hki_page_take(hk_page_t *page, hk_block_t *b)
{
    uintptr_t next = b->next_enc ^ page->key;
    page->free = (hk_block_t *)next;
    b->next_enc = 0; /* a live block never looks free (types.h "Block layout") */
    page->used_rel++; /* (used + 1: types.h) */
    return b;
}
/* Pops b, the head of a page's non-empty free list: checked, then taken. */
static inline void *hki_page_pop(hk_heap_t *heap, hk_page_t *page, hk_block_t *b)
{
    (void)heap;
    if (hki_page_head_damaged(page, b))
        return hki_page_damaged(page, b);
    return hki_page_take(page, b);
}
/* Adds the page's change of `used` since its last report to the heap's live counts
 * (slow paths only; see types.h hk_class_stats_t). */
static inline void hki_page_stat_flush(hk_heap_t *heap, hk_page_t *page)
{
    hki_count(heap->stats.live[page->class_idx],
              (size_t)hki_page_used(page) - (size_t)page->stat_used);
    page->stat_used = hki_page_used(page);
}
/* Adds the page's allocations since they were last counted to the heap's statistics
 * (types.h hk_class_stats_t); walks `free` only if both it and local_free are non-empty
 * (else P2 gives |free|). Slow paths only. */
static inline void hki_page_alloc_flush(hk_heap_t *heap, hk_page_t *page)
{
    uint32_t nfree = page->free == NULL         ? 0
                     : page->local_free == NULL ? page->capacity - hki_page_used(page) /* P2 */
                                                : hki_page_free_count(page);
    hki_count(heap->stats.alloc[page->class_idx], (uint32_t)(page->stat_fed - nfree));
    page->stat_fed = nfree;
}
/* Flushes the live counts of every page of the heap (queues and full list), and with
 * allocs their allocation counts too (a walk of each non-empty `free`). */
void hki_heap_stat_flush(hk_heap_t *heap, bool allocs);
/* Allocates from class c when the fast path found no block (also initializes the
 * thread's heap on its first allocation). Sets errno and returns NULL on failure. */
void *hki_malloc_slow(hk_heap_t *heap, unsigned c);
/* The owner freed into a page that became empty or was full. */
void hki_page_free_slow(hk_heap_t *heap, hk_page_t *page);
void hki_heap_collect(hk_heap_t *heap, bool force);
/* realloc of span page's block (one of heap's) to `size` bytes (HK_MEDIUM_MAX < size <=
 * HK_LARGE_MAX) in place: its class becomes size's, its run grows over the free slots
 * after it or gives its tail back (heap.c). false: no room after it (nothing changed). */
bool hki_span_resize(hk_heap_t *heap, hk_page_t *page, size_t size);
/* Out of memory: returns everything the calling thread holds unused to the OS (empty
 * pages and segments, free slots: hki_heap_collect with force) and the huge cache, so
 * that the caller can retry its mapping once. Other threads' heaps are left alone (only
 * their owner may walk them). */
void hki_reclaim(void);
/* Calls fn for every heap ever created (in use or not), under the pool lock. */
void hki_heaps_foreach(void (*fn)(hk_heap_t *, void *), void *arg);
/* Makes heap the owner of seg, just taken off the abandoned list (ownership.h T2/T3):
 * links it, then takes over its pages (collected and queued; empty ones retired). */
void hki_heap_adopt(hk_heap_t *heap, hk_segment_t *seg, hk_adopt_why_t why);
/* Gives the calling thread its heap (first use); NULL if out of memory. */
hk_heap_t *hki_heap_init_thread(void);
/* The heap that may claim an abandoned segment on free (initializes the thread's heap if
 * needed); NULL for an exiting thread or out of memory. */
hk_heap_t *hki_heap_for_claim(void);
/* The calling thread frees a block of another heap, `owner`. If it is the thread's first
 * such free and owner is an orphan (an exited thread's heap: heap.c "orphans"), the thread
 * takes owner over (as its heap, or merged into its heap) and returns true: the block is
 * now its own. */
bool hki_heap_take_orphan(hk_heap_t *owner);
/* The orphans waiting (heap.c E1). free's remote path reads it first, so that a remote
 * free costs one relaxed load for the orphan rule while none waits (almost always): a
 * consumer thread that only frees paid 37 instructions per free for the call chain. */
extern _Atomic size_t hki_orphan_count;
static inline bool hki_orphans_waiting(void)
{
    return atomic_load_explicit(&hki_orphan_count, memory_order_relaxed) != 0;
}

/* E1, E2 (heap.c "orphans"): the heaps of exited threads waiting for an heir, under the
 * pool lock. Calls fail for each violation; returns the number found. */
int hki_orphans_check(hki_check_fail_fn *fail, void *arg);
/* Dissolves the orphans orphaned at or before before_ms (UINT64_MAX: all): their
 * thread's exit, deferred (segments abandoned, free slots purged), in the calling thread. */
void hki_orphans_dissolve(uint64_t before_ms);

/* ---- stats (stats.c) ---- */
/* Adds an exiting heap's counters to the totals of exited threads and zeroes them
 * (called under the heap pool lock). */
void hki_stats_merge(hk_heap_t *heap);

/* ---- heap check (heapcheck.c) ---- */
int hki_heap_check(hk_heap_t *heap, hk_report_t *report);
/* hki_heap_check, then the process-wide invariants (hki_ownership_check): what
 * hk_heap_check and the debug build's periodic check run. */
int hki_process_check(hk_heap_t *heap, hk_report_t *report);

#endif
