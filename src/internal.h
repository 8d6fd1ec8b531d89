/*
 * internal.h -- cross-file internal API of libheapkit (hki_*), plus the static inline
 * helpers of the hot paths (size classes, registry, page pop).
 * All hki_ symbols have hidden visibility (-fvisibility=hidden).
 */
#ifndef HK_INTERNAL_H
#define HK_INTERNAL_H

#include "config.h"
#include "check.h"
#include "types.h"
#include "track.h"

#include "heapkit.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define hk_likely(x)   __builtin_expect(!!(x), 1)
#define hk_unlikely(x) __builtin_expect(!!(x), 0)
#define HK_NOINLINE    __attribute__((noinline))
#define HK_COLD        __attribute__((cold, noinline))

#define hk_relaxed_load(p)     atomic_load_explicit((p), memory_order_relaxed)
#define hk_relaxed_store(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)

/* ---- counters (no read-modify-write: owner-only stores) ---- */
#if HK_STATS
#define hki_count(c, n) hk_relaxed_store(&(c), hk_relaxed_load(&(c)) + (n))
#else
#define hki_count(c, n) ((void)0)
#endif

/* ---- size classes (size_class.c) ---- */
extern const uint32_t hki_class_size[HK_CLASS_COUNT];
extern const uint8_t hki_direct_class[HK_DIRECT_COUNT];

/* n in 1..HK_LARGE_MAX */
static inline unsigned hki_size_class(size_t n)
{
    if (n <= HK_DIRECT_MAX)
        return hki_direct_class[(n + 15) >> 4];
    size_t w = n - 1;
    unsigned p = 63u - (unsigned)__builtin_clzll((unsigned long long)w);
    return 17u + (p - 8u) * 8u + (unsigned)((w >> (p - 3u)) & 7u);
}
static inline unsigned hki_class_kind(unsigned c)
{
    size_t bs = hki_class_size[c];
    return bs <= HK_SMALL_MAX ? HK_KIND_SMALL : bs <= HK_MEDIUM_MAX ? HK_KIND_MEDIUM : HK_KIND_LARGE;
}

/* ---- segment registry (segment.c): one bit per 4 MiB of address space ---- */
#define HK_REGISTRY_BITS  ((size_t)1 << (HK_ADDR_BITS - HK_SEG_SHIFT))
#define HK_REGISTRY_WORDS (HK_REGISTRY_BITS / 64)
extern _Atomic uint64_t hki_registry[HK_REGISTRY_WORDS];

static inline bool hki_registry_has(uintptr_t addr)
{
    uintptr_t i = addr >> HK_SEG_SHIFT;
    if (hk_unlikely(i >= HK_REGISTRY_BITS))
        return false;
    return (hk_relaxed_load(&hki_registry[i >> 6]) >> (i & 63)) & 1u;
}
static inline hk_segment_t *hki_segment_of(const void *p)
{
    return (hk_segment_t *)((uintptr_t)p & ~(uintptr_t)HK_SEG_MASK);
}
static inline hk_page_t *hki_page_of(hk_segment_t *seg, const void *p)
{
    /* &seg->pages[i], spelled so that the compiler emits shift, shift, add (128-byte
     * descriptors, types.h) */
    uintptr_t i = ((uintptr_t)p & HK_SEG_MASK) >> seg->page_shift;
    return (hk_page_t *)((uintptr_t)seg + offsetof(hk_segment_t, pages) + (i << 7));
}
/* Is p the start of a carved block of page? (interior/uncarved pointers fail) */
static inline bool hki_page_is_block_start(hk_page_t *page, const void *p)
{
    uintptr_t off = (uintptr_t)p - page->start;
    return off < hk_relaxed_load(&page->carved) && off * page->div_magic <= page->div_magic - 1;
}
void hki_registry_set(hk_segment_t *seg, bool on);

/* ---- global state ---- */
extern uintptr_t hki_key;               /* free-list key (odd) */
extern hk_page_t hki_page_empty;        /* free == NULL: forces the slow path */
extern hk_heap_t hki_heap_empty;        /* every thread's heap before initialization */
extern hk_heap_t hki_heap_huge;         /* owner marker of huge segments */
extern _Thread_local hk_heap_t *hki_tls_heap;

/* ---- process init (heap.c) ---- */
void hki_init(void);
bool hki_is_initialized(void);

/* ---- options (options.c) ---- */
typedef enum {
    HK_OPT_STATS,
    HK_OPT_VERBOSE,
    HK_OPT_PURGE_DELAY,
    HK_OPT_ON_ERROR,
    HK_OPT_HUGE_CACHE,
    HK_OPT_COUNT
} hk_option_t;
enum { HK_ON_ERROR_ABORT = 0, HK_ON_ERROR_WARN = 1, HK_ON_ERROR_IGNORE = 2 };
extern long hki_options[HK_OPT_COUNT];
void hki_options_init(void);
/* Row i of the options table, for tools/options_doc.c (the generator of docs/OPTIONS.md):
 * words is the NULL-terminated list of named values (index = value), or NULL when the
 * value is a plain number in min..max. Returns false, storing nothing, past the last row. */
bool hki_option_row(unsigned i, const char **name, long *def, long *min, long *max,
                    const char *const **words, const char **description);
static inline long hki_option(hk_option_t o)
{
    return hki_options[o];
}

/* ---- output (output.c) ---- */
int hki_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int hki_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void hki_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hki_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A usage error (bad free...): one line on stderr, then the HEAPKIT_ON_ERROR action.
 * Returns only if the action is warn or ignore. */
void hki_usage_error(const char *fmt, ...) __attribute__((cold, format(printf, 1, 2)));

/* ---- locks (heap.c): tiny spin locks, taken around fork ---- */
typedef struct hk_lock_s {
    atomic_flag flag;
} hk_lock_t;
#define HK_LOCK_INIT {ATOMIC_FLAG_INIT}
void hki_lock(hk_lock_t *l);
void hki_unlock(hk_lock_t *l);

/* ---- segments (segment.c) ---- */
hk_segment_t *hki_segment_new(hk_heap_t *heap, unsigned kind);
void hki_segment_release(hk_segment_t *seg);
/* Takes a free slot of `kind` from the heap's segments (or a new segment). */
hk_page_t *hki_segment_page_alloc(hk_heap_t *heap, unsigned kind);
/* Returns a page's slot to its segment (page must be unlinked, empty). */
void hki_segment_page_free(hk_heap_t *heap, hk_page_t *page, bool purge_now);
hk_segment_t *hki_page_segment(const hk_page_t *page);
void hki_segment_list_remove(hk_segment_t **list, hk_segment_t *seg);
void hki_segment_list_push(hk_segment_t **list, hk_segment_t *seg);
/* Removes a segment from its heap's lists. */
void hki_segment_unlink(hk_heap_t *heap, hk_segment_t *seg);
/* Purges free slots whose delay expired (all of them if force); returns bytes purged. */
size_t hki_heap_purge(hk_heap_t *heap, uint64_t now, bool force);
void hki_abandoned_push(hk_segment_t *seg);
/* Takes the oldest segment off the abandoned list for heap (sets seg->heap under the
 * lock) if it was abandoned at or before before_ms (UINT64_MAX: any). */
hk_segment_t *hki_abandoned_pop(hk_heap_t *heap, uint64_t before_ms);
/* Takes, of the HK_ADOPT_SCAN oldest abandoned segments of `kind` with a free slot, the
 * oldest empty one (nobody will claim it by a free), else the oldest abandoned at or
 * before claimed_before (its blocks' threads had their chance to claim it), for heap;
 * NULL if there is none. */
hk_segment_t *hki_abandoned_pop_kind(hk_heap_t *heap, unsigned kind, uint64_t claimed_before);
/* Unmaps the empty abandoned segments abandoned at or before before_ms (oldest first;
 * stops after passing HK_ADOPT_SCAN that hold live blocks). */
void hki_abandoned_expire(uint64_t before_ms);
/* Thread exit: moves the heap's empty segments to the abandoned list (committed) unless
 * the purge delay is 0. */
void hki_heap_abandon_empty(hk_heap_t *heap);
/* Takes this abandoned segment for heap; false if another heap adopted it first. */
bool hki_abandoned_claim(hk_segment_t *seg, hk_heap_t *heap);
size_t hki_abandoned_count(void);
extern hk_lock_t hki_abandoned_lock;

/* accounting (stats.c) */
void hki_stat_mapped(ptrdiff_t delta);
void hki_stat_committed(ptrdiff_t delta);

/* ---- pages (page.c) ---- */
void hki_page_init(hk_page_t *page, hk_segment_t *seg, unsigned class_idx);
void hki_page_extend(hk_page_t *page);
/* Moves local_free (if free is empty) and the thread-free list into free. */
void hki_page_collect(hk_heap_t *heap, hk_page_t *page);
void hki_queue_push_front(hk_heap_t *heap, hk_page_t *page);
void hki_queue_push_back(hk_heap_t *heap, hk_page_t *page);
void hki_queue_remove(hk_heap_t *heap, hk_page_t *page);
void hki_full_push(hk_heap_t *heap, hk_page_t *page);
void hki_full_remove(hk_heap_t *heap, hk_page_t *page);
void hki_heap_set_current(hk_heap_t *heap, unsigned c);
/* |free| (walks the list) */
uint32_t hki_page_free_count(const hk_page_t *page);
/* Is b on one of page's free lists? (owner only: walks them) */
bool hki_page_has_free_block(const hk_page_t *page, const hk_block_t *b);

/* ---- heap (heap.c) ---- */
/* Pops a block from a page with a non-empty free list (the malloc fast path). */
static inline void *hki_page_pop(hk_heap_t *heap, hk_page_t *page, hk_block_t *b)
{
    page->free = (hk_block_t *)(b->next_enc ^ page->key);
    b->next_enc = 0; /* a live block never looks free (types.h "Block layout") */
    page->used++;
    (void)heap;
    return b;
}
/* Adds the page's change of `used` since its last report to the heap's live counts
 * (slow paths only; see types.h hk_class_stats_t). */
static inline void hki_page_stat_flush(hk_heap_t *heap, hk_page_t *page)
{
    hki_count(heap->stats.live[page->class_idx], (size_t)page->used - (size_t)page->stat_used);
    page->stat_used = page->used;
}
/* Adds the page's allocations since they were last counted to the heap's statistics
 * (types.h hk_class_stats_t); walks `free` only if both it and local_free are non-empty
 * (else P2 gives |free|). Slow paths only. */
static inline void hki_page_alloc_flush(hk_heap_t *heap, hk_page_t *page)
{
    uint32_t nfree = page->free == NULL         ? 0
                     : page->local_free == NULL ? page->capacity - page->used /* P2 */
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
/* Out of memory: returns everything the calling thread holds unused to the OS (empty
 * pages and segments, free slots: hki_heap_collect with force) and the huge cache, so
 * that the caller can retry its mapping once. Other threads' heaps are left alone (only
 * their owner may walk them). */
void hki_reclaim(void);
/* Calls fn for every heap ever created (in use or not), under the pool lock. */
void hki_heaps_foreach(void (*fn)(hk_heap_t *, void *), void *arg);
/* Makes heap the owner of seg, just taken off the abandoned list; `why` picks the handoff
 * counter (types.h hk_handoff_stats_t). */
typedef enum {
    HK_ADOPT_BY_FREE,   /* claimed by a free into it (counted as claimed) */
    HK_ADOPT_BY_MALLOC, /* taken by a heap needing a page or trimming (counted as adopted) */
    HK_ADOPT_TAKE_BACK  /* a forced trim taking back segments it just emptied (not counted) */
} hk_adopt_why_t;
void hki_heap_adopt(hk_heap_t *heap, hk_segment_t *seg, hk_adopt_why_t why);
/* Gives the calling thread its heap (first use); NULL if out of memory. */
hk_heap_t *hki_heap_init_thread(void);
/* The heap that may claim an abandoned segment on free (initializes the thread's heap if
 * needed); NULL for an exiting thread or out of memory. */
hk_heap_t *hki_heap_for_claim(void);

/* ---- huge blocks (huge.c) ---- */
void *hki_huge_malloc(size_t n, size_t align, bool zero);
void hki_huge_free(hk_segment_t *seg);
void *hki_huge_realloc(hk_segment_t *seg, void *p, size_t n);
size_t hki_huge_usable(const hk_segment_t *seg, const void *p);
size_t hki_huge_trim(bool force);
void hki_huge_stats(size_t *count, size_t *bytes);
extern hk_lock_t hki_huge_lock;

/* ---- free (free.c) ---- */
/* The validation of every entry point that takes a pointer (realloc, usable_size,
 * hk_is_owned; free makes the same checks inline, on its fast path): p must be a live
 * block of ours: registered segment, block start of a carved page (or a live huge block),
 * not freed. Returns its segment (and page), or NULL after reporting the error for `func`
 * ("realloc", ...; NULL: silently). */
hk_segment_t *hki_block_validate(const void *p, const char *func, hk_page_t **page_out);
void hki_free_block(hk_segment_t *seg, hk_page_t *page, void *p);

/* ---- alloc (alloc.c) ---- */
void *hki_malloc_class(unsigned c);
void *hki_malloc_aligned(size_t n, size_t align);

/* ---- stats (stats.c) ---- */
/* Adds an exiting heap's counters to the totals of exited threads and zeroes them
 * (called under the heap pool lock). */
void hki_stats_merge(hk_heap_t *heap);

/* ---- heap check (heapcheck.c) ---- */
int hki_heap_check(hk_heap_t *heap, hk_report_t *report);

#endif
