/*
 * heap.c -- per-thread heaps: process and thread initialization, the malloc slow path,
 * page retirement, thread exit (abandonment) and adoption, fork safety.
 *
 * Design:      each thread owns a heap (hki_tls_heap, initial-exec TLS). Before its first
 *              allocation a thread's heap is hki_heap_empty, whose page pointers all name
 *              hki_page_empty (free == NULL), so the fast path falls into the slow path
 *              here without an extra test. Heap structs come from an internal pool (mmap),
 *              never from malloc, and are reused after their thread exits.
 *              Slow path for class c: walk queue[c] from the front, collecting each page's
 *              local and thread-free lists and extending its bump area; pages with nothing
 *              left move to the full list. If the queue runs dry: sweep the full list when
 *              enough fresh pages were taken since the last sweep (amortized O(1)), adopt
 *              an abandoned segment abandoned a purge delay ago, and finally take a fresh
 *              slot; when that needs a fresh segment, first adopt an abandoned one of the
 *              kind: an empty one, else one holding a single page in use or passed over
 *              HK_CLAIM_PATIENCE times. Others with more live blocks are left to the
 *              threads that free into them (claim on free, free.c: blocks go back to the
 *              thread that uses them). A page with free blocks is
 *              preferred to carving more of one (carving touches memory). When the OS
 *              refuses memory, hki_reclaim returns what the thread holds unused and the
 *              search runs once more before ENOMEM.
 *              An empty page is retired at once unless it is the current page of its
 *              class (free does not check those: a malloc/free loop costs nothing); the
 *              slow path looks at the current pages once per HEAPKIT_PURGE_DELAY and
 *              retires those found empty twice one delay apart.
 *              Thread exit (pthread key destructor): pages are collected, empty ones
 *              retired, and the heap waits whole as an orphan for a new thread to
 *              continue it ("orphans" below: its free slots beyond HEAPKIT_EXIT_KEEP are
 *              purged). An orphan nobody takes within a purge delay is dissolved (what an
 *              exit did before): empty segments go to the abandoned list still committed,
 *              the other segments' free slots are purged and they are abandoned too.
 * Invariants:  P5, P6 (types.h) are maintained here and in page.c.
 * Concurrency: the orphan state: pool_lock ("orphans" below).
 *              lock order: pool_lock -> stats; hki_abandoned_lock and hki_huge_lock are
 *              leaves (lock.h). All are spin locks held for O(1) or short walks, and all
 *              are taken by the fork prepare handler (then released in parent and child).
 * Complexity:  malloc slow path amortized O(1).
 */
#include "config.h"
#include "heap.h"

#include <errno.h>
#include <string.h>


/* The time `ms` before `now`, for "abandoned at least ms ago" cutoffs: 0 (nothing is that
 * old) when the clock, which counts from boot, has not reached ms yet; plain subtraction
 * would wrap to the far future on a host up for less than a long HEAPKIT_PURGE_DELAY and
 * make every segment look old enough. */
static inline uint64_t ms_ago(uint64_t now, uint64_t ms) { return now > ms ? now - ms : 0; }

/* ---- globals ---- */

// clang-format off
#define HK_R4(x)  x, x, x, x
#define HK_R16(x) HK_R4(x), HK_R4(x), HK_R4(x), HK_R4(x)
#define HK_R64(x) HK_R16(x), HK_R16(x), HK_R16(x), HK_R16(x)
// clang-format on

hk_page_t hki_page_empty;
hk_heap_t hki_heap_empty = {
    .free_seg = HK_SEG_NONE,
    .own_seg = {HK_R64(HK_SEG_NONE)},
    .direct = {HK_R64(&hki_page_empty), &hki_page_empty},
    .current = {HK_R64(&hki_page_empty), HK_R16(&hki_page_empty), HK_R16(&hki_page_empty),
                HK_R16(&hki_page_empty), &hki_page_empty},
};
_Thread_local hk_heap_t *hki_tls_heap = &hki_heap_empty;

_Static_assert(HK_DIRECT_COUNT == 65 && HK_CLASS_COUNT == 113 && HK_OWN_SEG_COUNT == 64,
               "update the initializers above");

/* ---- fork ---- */

static hk_lock_t pool_lock = HK_LOCK_INIT;

static void before_fork(void)
{
    hki_lock(&pool_lock);
    hki_lock(&hki_abandoned_lock);
    hki_lock(&hki_huge_lock);
}

static void after_fork(void)
{
    hki_unlock(&hki_huge_lock);
    hki_unlock(&hki_abandoned_lock);
    hki_unlock(&pool_lock);
}

/* ---- process initialization ---- */

static _Atomic int init_state; /* 0 not started, 1 running, 2 done */
static hk_lock_t init_lock = HK_LOCK_INIT;
static _Thread_local int init_running_here;
static void thread_done(void *arg);

bool hki_is_initialized(void)
{
    return atomic_load_explicit(&init_state, memory_order_acquire) == 2;
}

void hki_init(void)
{
    if (hk_likely(hki_is_initialized()) || init_running_here)
        return; /* done, or a re-entrant call from inside initialization */
    hki_lock(&init_lock);
    if (atomic_load_explicit(&init_state, memory_order_relaxed) == 0) {
        init_running_here = 1;
        atomic_store_explicit(&init_state, 1, memory_order_relaxed);
        uintptr_t key;
        hki_os_random(&key, sizeof key);
        /* odd (types.h "Block layout"); bit 63 set and the bits above HK_ADDR_BITS not
         * all ones, for free's cheap test (segment.h hki_block_link_shaped) */
        key |= (uintptr_t)1 | (uintptr_t)1 << 63;
        if ((key >> HK_ADDR_BITS) == (UINTPTR_MAX >> HK_ADDR_BITS))
            key ^= (uintptr_t)1 << HK_ADDR_BITS;
        hki_key = key;
        hki_options_init();
        if (hki_os_process_init(thread_done, before_fork, after_fork, after_fork) != 0)
            hki_verbose("thread-exit or fork hooks unavailable");
        atomic_store_explicit(&init_state, 2, memory_order_release);
        init_running_here = 0;
        hki_verbose("initialized (purge delay %ld ms)", hki_option(HK_OPT_PURGE_DELAY));
    }
    hki_unlock(&init_lock);
}

__attribute__((constructor)) static void heapkit_constructor(void)
{
    hki_init();
}

/* ---- heap pool ---- */

static hk_heap_t *pool_all;
static char *meta_cur;
static size_t meta_left;

/* ---- orphans: heaps of exited threads waiting for an heir ----
 * With a purge delay, an exiting thread does not abandon its segments: its heap becomes
 * an orphan, whole (pages, queues, free slots kept committed, the segments holding the
 * blocks it left live), and a new thread continues it as its own, the way glibc hands an
 * exited thread's arena to the next thread. The new thread reuses its predecessor's
 * partly used pages and committed free slots instead of faulting fresh memory, and the
 * exit purges only the free slots beyond HEAPKIT_EXIT_KEEP (counted over all orphans;
 * its empty segments go to the abandoned list whole, as before). thread_churn-2t: 2,140 madvise calls and 43k page
 * faults before, 712 and 14k after, peak RSS 20 -> 17 MiB (medians of 5 runs: the heir
 * fills the pages its predecessor left part used, where a fresh heap started new ones
 * beside them).
 *
 *      exit (thread_done)          first malloc, one orphan waiting (pool_pick)
 *   H owned ----------> ORPHAN H ---------------------------------------> H owned by
 *   by thread T       (in_use 0,  first free into H, no heap / undecided      the new
 *                     orphan_ms)  heap (hki_heap_take_orphan)                 thread
 *                         |
 *                         | a purge delay with no heir; malloc_trim; out of memory
 *                         v (orphans_dissolve: heap_abandon, what an exit did before)
 *                     segments ABANDONED (ownership.c), heap struct back to the pool
 *
 * Which thread continues which orphan:
 *   - a thread without a heap yet that frees a block of an orphan takes that orphan
 *     (larson: a new thread first frees its predecessor's blocks);
 *   - a thread's first malloc takes the orphan if exactly one waits (a thread exits,
 *     another starts);
 *   - when several wait, a new thread cannot tell whose blocks it will free (two exit,
 *     two start, each freeing the blocks of one: tests/robust/handoff). Its first malloc
 *     starts an empty heap, "undecided"; its first free of another heap's block decides:
 *     it takes that block's heap if it is an orphan, else the newest orphan, and the
 *     few pages of its own empty start are merged into the orphan it took (heap_merge).
 *     A malloc slow path of an undecided heap that already has a segment decides too
 *     (the newest orphan): a thread that allocates much before it frees would otherwise
 *     fill fresh pages beside the part-used ones of the heap it takes later.
 *     After deciding a thread never takes an orphan: one that has run a while does not
 *     steal the heap another thread is about to continue.
 * Invariants (hki_orphans_check, under pool_lock):
 *   E1  a heap is an orphan iff orphan_ms != 0; an orphan has in_use == 0; hki_orphan_count
 *       is the number of orphans. Both fields change only under pool_lock, and whoever
 *       takes an orphan (heir or dissolver) sets in_use in the same critical section:
 *       exactly one thread gets it.
 *   E2  orphan_warm (what the budget counts) is the sum of the orphans' orphan_warm, and
 *       an orphan's warm_bytes equals its orphan_warm: nobody takes or purges its slots
 *       while it waits.
 * Frees into an orphan's segments are remote frees (seg->heap names the orphan): they
 * wait on the pages' thread_free lists for the heir. Without a purge delay there are no
 * orphans: an exiting thread abandons its segments at once, as before. */
_Atomic size_t hki_orphan_count; /* (heap.h hki_orphans_waiting) */
static size_t orphan_warm; /* under pool_lock: the orphans' orphan_warm summed */
static _Thread_local bool heap_undecided; /* started empty while orphans waited */

/* under pool_lock: `heap`, an orphan, becomes the caller's */
static void orphan_take_locked(hk_heap_t *heap)
{
    atomic_store_explicit(&heap->in_use, 1, memory_order_relaxed);
    heap->orphan_ms = 0;
    orphan_warm -= heap->orphan_warm;
    heap->orphan_warm = 0;
    atomic_fetch_sub_explicit(&hki_orphan_count, 1, memory_order_relaxed);
}

static bool is_orphan_locked(const hk_heap_t *heap)
{
    return heap->orphan_ms != 0 && !atomic_load_explicit(&heap->in_use, memory_order_relaxed);
}

/* under pool_lock: the heap for a new thread: the orphan if exactly one waits, else an
 * unused heap (NULL: none, make one). */
static hk_heap_t *pool_pick(bool *inherited)
{
    bool one = atomic_load_explicit(&hki_orphan_count, memory_order_relaxed) == 1;
    hk_heap_t *idle = NULL;
    for (hk_heap_t *heap = pool_all; heap != NULL; heap = heap->pool_next) {
        if (one && is_orphan_locked(heap)) {
            orphan_take_locked(heap);
            *inherited = true;
            return heap;
        }
        if (idle == NULL && heap->orphan_ms == 0 &&
            !atomic_load_explicit(&heap->in_use, memory_order_relaxed))
            idle = heap;
    }
    return idle;
}

static hk_heap_t *pool_take(bool *inherited)
{
    hki_lock(&pool_lock);
    *inherited = false;
    hk_heap_t *heap = pool_pick(inherited);
    if (heap == NULL) {
        size_t sz = (sizeof(hk_heap_t) + 63) & ~(size_t)63;
        if (meta_left < sz) {
            size_t chunk = 64 * 1024;
            void *mem;
            if (hki_os_map_aligned(chunk, hki_os_page_size(), &mem) != 0) {
                hki_unlock(&pool_lock);
                return NULL;
            }
            hki_stat_mapped((ptrdiff_t)chunk);
            hki_stat_committed((ptrdiff_t)chunk);
            meta_cur = mem;
            meta_left = chunk;
        }
        heap = (hk_heap_t *)(void *)meta_cur;
        meta_cur += sz;
        meta_left -= sz;
        heap->pool_next = pool_all;
        pool_all = heap;
    }
    atomic_store_explicit(&heap->in_use, 1, memory_order_relaxed);
    hki_unlock(&pool_lock);
    return heap;
}

int hki_orphans_check(hki_check_fail_fn *fail, void *arg)
{
    int errors = 0;
    size_t count = 0, warm = 0;
    hki_lock(&pool_lock);
    for (hk_heap_t *heap = pool_all; heap != NULL; heap = heap->pool_next) {
        if (heap->orphan_ms == 0)
            continue;
        count++;
        warm += heap->orphan_warm;
        if (atomic_load_explicit(&heap->in_use, memory_order_relaxed)) {
            fail(arg, heap, "E1", "orphan heap marked in use");
            errors++;
        } else if (heap->warm_bytes != heap->orphan_warm) {
            fail(arg, heap, "E2", "orphan's committed free slots changed while it waited");
            errors++;
        }
    }
    if (count != atomic_load_explicit(&hki_orphan_count, memory_order_relaxed)) {
        fail(arg, NULL, "E1", "hki_orphan_count differs from the orphans in the pool");
        errors++;
    }
    if (warm != orphan_warm) {
        fail(arg, NULL, "E2", "orphan_warm differs from the orphans' sum");
        errors++;
    }
    hki_unlock(&pool_lock);
    return errors;
}

void hki_heaps_foreach(void (*fn)(hk_heap_t *, void *), void *arg)
{
    hki_lock(&pool_lock);
    for (hk_heap_t *heap = pool_all; heap != NULL; heap = heap->pool_next)
        fn(heap, arg);
    hki_unlock(&pool_lock);
}

static void heap_reset(hk_heap_t *heap)
{
    heap->free_seg = HK_SEG_NONE;
    for (size_t i = 0; i < HK_OWN_SEG_COUNT; i++)
        heap->own_seg[i] = HK_SEG_NONE;
    for (size_t i = 0; i < HK_DIRECT_COUNT; i++)
        heap->direct[i] = &hki_page_empty;
    for (size_t c = 0; c < HK_CLASS_COUNT; c++) {
        heap->current[c] = &hki_page_empty;
        heap->queue[c].first = heap->queue[c].last = NULL;
    }
    heap->full.first = heap->full.last = NULL;
    heap->full_count = heap->fresh_since_sweep = 0;
    heap->spans.first = heap->spans.last = NULL;
    heap->span_count = heap->spans_since_sweep = 0;
    for (size_t k = 0; k < HK_KIND_COUNT; k++)
        heap->segs[k] = NULL;
    heap->segs_full = NULL;
    heap->seg_count = heap->empty_segs = heap->purge_pending = heap->warm_bytes = 0;
    heap->next_purge_ms = UINT64_MAX;
    heap->next_kept_ms = 0;
    heap->slow_count = 0;
    /* stats were zeroed by hki_stats_merge (or are zero in fresh memory) */
}

static void heap_install(hk_heap_t *heap)
{
    hki_tls_heap = heap;
    hki_os_thread_register(heap);
}

hk_heap_t *hki_heap_init_thread(void)
{
    hki_init();
    bool inherited;
    hk_heap_t *heap = pool_take(&inherited);
    if (heap == NULL) { /* out of memory: this thread holds nothing yet but the huge cache */
        hki_huge_trim(true);
        heap = pool_take(&inherited);
    }
    if (heap == NULL)
        return NULL;
    if (inherited)
        hki_count(heap->handoff.adopted, heap->seg_count);
    else
        heap_reset(heap);
    heap_undecided = !inherited && atomic_load_explicit(&hki_orphan_count, memory_order_relaxed) != 0;
    heap_install(heap);
    return heap;
}

/* ---- retiring pages ---- */

/* Gives an unlinked empty page's slot back to its segment, its statistics counted first;
 * a second empty segment of the heap is given up (ownership.c). */
static void page_free_slot(hk_heap_t *heap, hk_page_t *page)
{
    if (page->class_idx != 0) {
        hki_page_stat_flush(heap, page);
        hki_page_alloc_flush(heap, page); /* walks `free`: O(blocks carved here) */
    }
    hk_segment_t *surplus = hki_segment_page_free(heap, page, false);
    if (surplus != NULL)
        hki_segment_give_up(surplus);
}

static void page_retire(hk_heap_t *heap, hk_page_t *page)
{
    if (page->run_slots != 0 && heap->queue[page->class_idx].first != page)
        hki_spans_remove(heap, page); /* (a span kept as its class's current page is not) */
    else if (page->in_full)
        hki_full_remove(heap, page);
    else
        hki_queue_remove(heap, page);
    page_free_slot(heap, page);
}

/* A page of the owner became empty. The only page of its class is kept (a malloc/free
 * loop must not retire and re-create it each time); the periodic check retires it once
 * it was seen empty twice, HEAPKIT_PURGE_DELAY ms apart (retire_kept_pages). */
static void page_empty(hk_heap_t *heap, hk_page_t *page)
{
    hk_page_queue_t *q = &heap->queue[page->class_idx];
    if (page->run_slots != 0 && q->first == NULL && hki_option(HK_OPT_PURGE_DELAY) != 0) {
        /* a span whose block came back: kept as its class's current page (types.h P8),
         * so that a malloc/free loop of its size takes the fast paths (a slow path each
         * way cost 880 instructions per pair of 100 KiB, 120 with the large kind) */
        hki_spans_remove(heap, page);
        hki_queue_push_front(heap, page);
    }
    if (q->first == page && page->next == NULL && hki_option(HK_OPT_PURGE_DELAY) != 0) {
        if (page->expire_ms == 0 && heap->next_purge_ms == UINT64_MAX)
            heap->next_purge_ms = 0; /* have the next slow path stamp it */
        return;
    }
    page_retire(heap, page);
}

void hki_page_free_slow(hk_heap_t *heap, hk_page_t *page)
{
    hki_page_stat_flush(heap, page);
    if (page->in_full) {
        hki_full_remove(heap, page);
        hki_queue_push_back(heap, page);
    }
    if (hki_page_used(page) == 0)
        page_empty(heap, page);
}

/* Retires kept empty pages: a page found empty is stamped with a deadline; if it is
 * empty again at the deadline it is retired (with force: every empty first page). */
static void retire_kept_pages(hk_heap_t *heap, uint64_t now, bool force)
{
    long delay = hki_option(HK_OPT_PURGE_DELAY);
    for (unsigned c = 1; c < HK_CLASS_COUNT; c++) {
        hk_page_t *page = heap->queue[c].first;
        if (page == NULL)
            continue;
        if (force || page->run_slots != 0)
            hki_page_collect(heap, page); /* (a kept span: its one block freed remotely) */
        if (hki_page_used(page) != 0) {
            page->expire_ms = 0;
            continue;
        }
        if (force || (page->expire_ms != 0 && page->expire_ms <= now)) {
            page_retire(heap, page);
            continue;
        }
        if (page->expire_ms == 0)
            page->expire_ms = delay < 0 ? UINT64_MAX : now + (uint64_t)delay;
        if (page->expire_ms < heap->next_purge_ms)
            heap->next_purge_ms = page->expire_ms;
    }
}

/* Collects the full pages: pages that received frees (other threads', or their own that
 * did not reach report_at: page.c hki_full_push) go back to their queue. */
static void sweep_full(hk_heap_t *heap)
{
    hk_page_t *page = heap->full.first;
    while (page != NULL) {
        hk_page_t *next = page->next;
        if (page->local_free != NULL ||
            atomic_load_explicit(&page->thread_free, memory_order_relaxed) != 0) {
            hki_page_collect(heap, page);
            hki_full_remove(heap, page);
            if (hki_page_used(page) == 0)
                page_free_slot(heap, page);
            else
                hki_queue_push_back(heap, page);
        }
        page = next;
    }
    heap->fresh_since_sweep = 0;
}

/* Collects the spans other threads freed: their runs go back to their segments. A span's
 * block freed by its owner went back at once (page_retire from free's slow path); one
 * freed by another thread waits on its thread_free until this sweep, which runs in the
 * span malloc path (amortized: every span_count / 2 span mallocs), once per purge delay
 * from any slow path (heap_periodic), on trim and at thread exit. */
static void sweep_spans(hk_heap_t *heap)
{
    hk_page_t *page = heap->spans.first;
    while (page != NULL) {
        hk_page_t *next = page->next;
        if (atomic_load_explicit(&page->thread_free, memory_order_relaxed) != 0) {
            hki_page_collect(heap, page);
            if (hki_page_used(page) == 0)
                page_retire(heap, page);
        }
        page = next;
    }
    heap->spans_since_sweep = 0;
}

/* ---- adoption ---- */

void hki_heap_adopt(hk_heap_t *heap, hk_segment_t *seg, hk_adopt_why_t why)
{
    hki_segment_take(heap, seg, why);
    uint64_t in_use = seg->valid_mask & ~seg->free_mask;
    uint64_t empty = 0;
    for (uint64_t m = in_use; m; m &= m - 1) {
        unsigned slot = (unsigned)__builtin_ctzll(m);
        hk_page_t *page = &seg->pages[slot];
        if (page->class_idx == 0)
            continue; /* a span's interior slot (types.h S2) */
        page->next = page->prev = NULL;
        page->in_full = 0;
        hki_page_set_report_at(page, 0);
        hki_page_collect(heap, page);
        if (hki_page_used(page) == 0)
            empty |= (uint64_t)1 << slot;
        else if (page->run_slots != 0)
            hki_spans_push(heap, page);
        else if (page->free || page->local_free || page->capacity < page->reserved)
            hki_queue_push_back(heap, page);
        else
            hki_full_push(heap, page);
    }
    /* free the empty pages last: the last one may release the segment */
    for (uint64_t m = empty; m; m &= m - 1)
        page_free_slot(heap, &seg->pages[__builtin_ctzll(m)]);
}

/* ---- thread exit ---- */

/* Collects every page of a list starting at `page`; retires the ones that became empty. */
static void collect_and_retire(hk_heap_t *heap, hk_page_t *page)
{
    while (page != NULL) {
        hk_page_t *next = page->next;
        hki_page_collect(heap, page);
        if (hki_page_used(page) == 0)
            page_retire(heap, page);
        page = next;
    }
}

/* Collects every page; retires the empty ones. */
static void collect_all(hk_heap_t *heap)
{
    for (unsigned c = 1; c < HK_CLASS_COUNT; c++)
        collect_and_retire(heap, heap->queue[c].first);
    collect_and_retire(heap, heap->full.first);
    collect_and_retire(heap, heap->spans.first);
}

static void heap_abandon(hk_heap_t *heap)
{
    /* 1. collect every page; retire the empty ones */
    collect_all(heap);
    hki_heap_stat_flush(heap, true); /* before the counters are merged (thread_done) */
    /* 2. empty segments go to the abandoned list as they are, for the next thread; the
     *    others' free slots are returned and they are abandoned too (ownership.c) */
    hki_heap_abandon_segments(heap);
    heap_reset(heap);
}

static _Thread_local int thread_exited; /* thread_done ran on this thread */

hk_heap_t *hki_heap_for_claim(void)
{
    hk_heap_t *heap = hki_tls_heap;
    if (heap != &hki_heap_empty)
        return heap;
    /* a thread whose first call is free gets its heap here; an exiting thread (free
     * called by a later TLS destructor) does not start a new one */
    return thread_exited ? NULL : hki_heap_init_thread();
}

/* Returns the heap struct of a thread that owned nothing any more to the pool. */
static void heap_release(hk_heap_t *heap)
{
    hki_lock(&pool_lock);
    hki_stats_merge(heap);
    atomic_store_explicit(&heap->in_use, 0, memory_order_relaxed);
    hki_unlock(&pool_lock);
}

/* An exiting thread's heap becomes an orphan; it keeps committed what the budget allows
 * of its free slots (HEAPKIT_EXIT_KEEP, over all orphans), the rest is purged now. */
static void heap_orphan(hk_heap_t *heap)
{
    collect_all(heap); /* empty pages become free slots, kept or purged below */
    /* Empty segments go to the abandoned list still committed, as an exit did before: a
     * thread about to map a segment takes them whole (seq-threads-work: 1,000 madvise
     * calls when the budget purged them), and those nobody takes expire. Kept in the
     * orphan, the empty large segments (then one 4 MiB page each) of threads exiting together
     * sat unused beside their heirs' new ones (tests/robust/adopt: RSS 95 MiB, not 67). */
    hki_heap_abandon_empty(heap);
    size_t budget = (size_t)hki_option(HK_OPT_EXIT_KEEP) << 10;
    hki_lock(&pool_lock);
    size_t room = budget > orphan_warm ? budget - orphan_warm : 0;
    hki_unlock(&pool_lock);
    if (heap->warm_bytes > room)
        hki_heap_purge_warm(heap, room);
    uint64_t now = hki_os_now_ms();
    hki_lock(&pool_lock);
    heap->orphan_warm = heap->warm_bytes;
    orphan_warm += heap->orphan_warm;
    heap->orphan_ms = now > 0 ? now : 1; /* 0 means "not an orphan" */
    atomic_fetch_add_explicit(&hki_orphan_count, 1, memory_order_relaxed);
    atomic_store_explicit(&heap->in_use, 0, memory_order_relaxed);
    hki_unlock(&pool_lock);
}

/* Moves every segment of `from` into `to` (adopted one by one, free slots still
 * committed); `from` goes back to the pool empty. */
static void heap_merge(hk_heap_t *to, hk_heap_t *from)
{
    hk_segment_t *seg;
    while ((seg = hki_segment_list_pop_any(from)) != NULL)
        hki_heap_adopt(to, seg, HK_ADOPT_TAKE_BACK);
    heap_reset(from);
    heap_release(from);
}

/* under pool_lock: the newest orphan, or NULL */
static hk_heap_t *newest_orphan_locked(void)
{
    hk_heap_t *newest = NULL;
    for (hk_heap_t *heap = pool_all; heap != NULL; heap = heap->pool_next) {
        if (is_orphan_locked(heap) && (newest == NULL || heap->orphan_ms > newest->orphan_ms))
            newest = heap;
    }
    return newest;
}

/* The calling thread, without a heap yet or undecided, takes an orphan: `owner` if it is
 * one (the heap of the block it frees; NULL: none), else, if the thread has a heap, the
 * newest; its own heap's few pages are merged into it. Returns the orphan taken or NULL. */
static hk_heap_t *heir_take(hk_heap_t *owner)
{
    hk_heap_t *heap = hki_tls_heap, *taken = NULL;
    heap_undecided = false;
    if (atomic_load_explicit(&hki_orphan_count, memory_order_relaxed) == 0)
        return NULL;
    hki_lock(&pool_lock);
    if (owner != NULL && is_orphan_locked(owner))
        taken = owner;
    else if (heap != &hki_heap_empty)
        taken = newest_orphan_locked();
    if (taken != NULL)
        orphan_take_locked(taken);
    hki_unlock(&pool_lock);
    if (taken == NULL)
        return NULL;
    heap_install(taken);
    if (taken == owner)
        hki_count(taken->handoff.claimed, taken->seg_count); /* taken by a free into them */
    else
        hki_count(taken->handoff.adopted, taken->seg_count);
    if (heap != &hki_heap_empty)
        heap_merge(taken, heap);
    return taken;
}

bool hki_heap_take_orphan(hk_heap_t *owner)
{
    if ((hki_tls_heap != &hki_heap_empty && !heap_undecided) || thread_exited)
        return false;
    return heir_take(owner) == owner;
}

/* Dissolves the orphans orphaned at or before before_ms (their thread's exit, deferred:
 * heap_abandon), in the calling thread. All are taken in one critical section, so no new
 * thread inherits one of several that were waiting together. */
void hki_orphans_dissolve(uint64_t before_ms)
{
    if (atomic_load_explicit(&hki_orphan_count, memory_order_relaxed) == 0)
        return;
    hk_heap_t *victims = NULL;
    hki_lock(&pool_lock);
    for (hk_heap_t *heap = pool_all; heap != NULL; heap = heap->pool_next) {
        if (is_orphan_locked(heap) && heap->orphan_ms <= before_ms) {
            orphan_take_locked(heap);
            heap->orphan_next = victims;
            victims = heap;
        }
    }
    hki_unlock(&pool_lock);
    while (victims != NULL) {
        hk_heap_t *heap = victims;
        victims = heap->orphan_next;
        heap_abandon(heap);
        heap_release(heap);
    }
}

#if HK_SECURE
void (*hki_quarantine_flush_hook)(hk_heap_t *heap);
#endif

static void thread_done(void *arg)
{
    hk_heap_t *heap = arg;
#if HK_SECURE
    if (hki_quarantine_flush_hook != NULL && heap != NULL && heap != &hki_heap_empty)
        hki_quarantine_flush_hook(heap); /* before thread_exited: its frees may claim */
#endif
    thread_exited = 1;
    if (heap == NULL || heap == &hki_heap_empty)
        return;
    hki_tls_heap = &hki_heap_empty;
    if (hki_option(HK_OPT_PURGE_DELAY) != 0) {
        heap_orphan(heap);
        return;
    }
    heap_abandon(heap);
    heap_release(heap);
}

/* ---- the slow path ---- */

static void heap_periodic(hk_heap_t *heap)
{
    /* reading the clock costs ~20 ns: look at it every 16th slow path only. free() does
     * not report that a class's current page became empty (that would cost the fast
     * path a call), so the current pages are looked at once per purge delay. */
    if ((heap->slow_count & 15) == 0) {
        uint64_t now = hki_os_now_ms();
        if (now >= heap->next_purge_ms)
            hki_heap_purge(heap, now, false); /* recomputes next_purge_ms */
        if (now >= heap->next_kept_ms) {
            long delay = hki_option(HK_OPT_PURGE_DELAY);
            retire_kept_pages(heap, now, false);
            sweep_spans(heap); /* spans other threads freed, whatever this thread allocates */
            heap->next_kept_ms = delay < 0 ? UINT64_MAX : now + (uint64_t)delay;
            if (delay > 0)
                hki_orphans_dissolve(ms_ago(now, (uint64_t)delay)); /* orphans nobody took */
            if (delay > 0 && now >= (uint64_t)delay)
                hki_abandoned_expire(ms_ago(now, (uint64_t)delay)); /* empty ones nobody took */
        }
    }
    if (heap->slow_count % 64 == 0)
        hki_huge_trim(false); /* expire cached huge blocks (cheap when the cache is empty) */
#if HK_DEBUG >= 3
    if (heap->slow_count % HK_CHECK_EVERY == 0) {
        hk_report_t r;
        if (hki_process_check(heap, &r) != 0)
            hki_fatal("heap check failed: %s at %p: %s", r.invariant, r.addr, r.message);
    }
#endif
}

static hk_page_t *fresh_page(hk_heap_t *heap, unsigned c)
{
    hk_page_t *page = hki_segment_page_alloc(heap, hki_class_kind(c));
    if (page == NULL)
        return NULL;
    hki_page_init(page, hki_page_segment(page), c);
    hki_page_extend(page);
    hki_queue_push_front(heap, page);
    heap->fresh_since_sweep++;
    return page;
}

/* One search for a page of class c with a free block (slow path order in the file
 * header); NULL when the OS refuses a fresh segment. */
static hk_page_t *find_page_once(hk_heap_t *heap, unsigned c)
{
    bool swept = false, adopted = false, adopted_young = false;
    for (;;) {
        /* Freed blocks first: carving more of a page touches new memory, so a page is
         * extended only when no page of the class has a free block. */
        hk_page_t *page = heap->queue[c].first, *chosen = NULL;
        while (page != NULL) {
            hk_page_t *next = page->next;
            hki_page_collect(heap, page);
            if (page->free != NULL) {
                chosen = page;
                break;
            }
            if (page->capacity < page->reserved) {
                if (chosen == NULL)
                    chosen = page; /* the first page that can be extended */
            } else {
                hki_queue_remove(heap, page);
                hki_full_push(heap, page);
            }
            page = next;
        }
        if (chosen != NULL) {
            if (chosen->free == NULL)
                hki_page_extend(chosen);
            if (chosen != heap->queue[c].first) {
                hki_queue_remove(heap, chosen);
                hki_queue_push_front(heap, chosen);
            }
            return chosen;
        }
        if (!swept && heap->full_count > 0 &&
            (heap->full_count <= 128 || heap->fresh_since_sweep * 8 >= heap->full_count)) {
            swept = true;
            sweep_full(heap);
            continue;
        }
        if (hki_abandoned_count() == 0)
            break;
        if (!adopted) {
            /* Adopt the oldest abandoned segment once it has been abandoned for a purge
             * delay: until then the threads that free into it claim it (free.c), so
             * blocks stay with the thread that uses them. */
            adopted = true;
            long delay = hki_option(HK_OPT_PURGE_DELAY);
            uint64_t now = hki_os_now_ms();
            uint64_t before = delay <= 0 ? now : ms_ago(now, (uint64_t)delay);
            hk_segment_t *seg = hki_abandoned_pop(heap, before);
            if (seg != NULL) {
                hki_heap_adopt(heap, seg, HK_ADOPT_BY_MALLOC);
                continue;
            }
        }
        unsigned kind = hki_class_kind(c);
        if (!adopted_young && heap->segs[kind] == NULL) {
            /* The alternative is mapping a fresh segment: rather adopt a younger one of
             * this kind (a new thread reuses its predecessors' segments instead of
             * mapping its own). An empty one first; one holding live blocks if it has
             * only one page in use (at most that page's frees turn remote) or was
             * passed over HK_CLAIM_PATIENCE times. Until then a segment full of live blocks
             * is left to the thread that frees them (claim on free, free.c): a new
             * thread whose first malloc took it would leave that thread freeing remotely
             * all along (larson: ~all of a table's frees). Never taking those would map
             * a segment per thread that exits leaving a block behind (tests/robust/
             * leftover: 7.2 GB for 2000 threads). */
            adopted_young = true;
            unsigned patience = hki_option(HK_OPT_PURGE_DELAY) == 0 ? 0 : HK_CLAIM_PATIENCE;
            hk_segment_t *seg = hki_abandoned_pop_kind(heap, kind, patience);
            if (seg != NULL) {
                hki_heap_adopt(heap, seg, HK_ADOPT_BY_MALLOC);
                continue;
            }
        }
        break;
    }
    return fresh_page(heap, c);
}

void hki_reclaim(void)
{
    hki_heap_collect(hki_tls_heap, true);
    hki_huge_trim(true);
}

static hk_page_t *find_page(hk_heap_t *heap, unsigned c)
{
    for (bool retried = false;; retried = true) {
        hk_page_t *page = find_page_once(heap, c); /* (one call site: inlined) */
        if (hk_likely(page != NULL) || retried)
            return page;
        hki_reclaim(); /* out of memory: give back what this thread holds unused, retry once */
    }
}

/* ---- spans (types.h "Span segment layout") ---- */

/* The empty spans kept as their classes' current pages go back to their segments. */
static void retire_kept_spans(hk_heap_t *heap)
{
    for (unsigned c = HK_SPAN_CLASS_MIN; c < HK_CLASS_COUNT; c++) {
        hk_page_t *page = heap->queue[c].first;
        if (page != NULL && hki_page_used(page) == 0)
            page_retire(heap, page);
    }
}

/* A new span for class c with its one block carved (on `free`), on the heap's span list;
 * NULL when the OS refuses a segment. The run comes from the heap's span segments; when
 * none has k free slots in a row, an abandoned segment is adopted as find_page_once does
 * (the oldest, abandoned a purge delay ago; else a span segment pop_kind's rule gives),
 * and only then is a fresh segment mapped. Spans freed by other threads are collected
 * first (sweep_spans), every span_count / 2 span mallocs: their runs may be the fit. */
static hk_page_t *find_span_once(hk_heap_t *heap, unsigned c)
{
    size_t bs = hki_class_size[c];
    unsigned k = hki_span_slots(bs);
    hk_page_t *page = heap->queue[c].first;
    if (page != NULL) { /* the span kept as the class's current page (types.h P8) */
        hki_page_collect(heap, page);
        if (page->free != NULL)
            return page;
        hki_queue_remove(heap, page); /* its block is live: it joins the span list */
        hki_spans_push(heap, page);
    }
    if (heap->span_count <= 8 || ++heap->spans_since_sweep * 2 >= heap->span_count)
        sweep_spans(heap);
    page = hki_segment_span_alloc(heap, k, bs);
    for (unsigned step = 0; page == NULL; step++) {
        hk_segment_t *seg = NULL;
        if (step == 0 && hki_abandoned_count() != 0) {
            long delay = hki_option(HK_OPT_PURGE_DELAY);
            uint64_t now = hki_os_now_ms();
            seg = hki_abandoned_pop(heap, delay <= 0 ? now : ms_ago(now, (uint64_t)delay));
        } else if (step == 1 && hki_abandoned_count() != 0) {
            unsigned patience = hki_option(HK_OPT_PURGE_DELAY) == 0 ? 0 : HK_CLAIM_PATIENCE;
            seg = hki_abandoned_pop_kind(heap, HK_KIND_SPAN, patience);
        } else if (step == 2) {
            retire_kept_spans(heap); /* their runs may make the fit */
        } else if (step == 3) {
            if (hki_segment_new(heap, HK_KIND_SPAN) == NULL)
                return NULL;
        } else if (step > 3) {
            return NULL; /* (a fresh segment has a run for any span) */
        }
        if (seg != NULL)
            hki_heap_adopt(heap, seg, HK_ADOPT_BY_MALLOC);
        if (seg != NULL || step >= 2)
            page = hki_segment_span_alloc(heap, k, bs);
    }
    hki_page_init(page, hki_page_segment(page), c);
    hki_page_extend(page); /* its one block */
    hki_spans_push(heap, page);
    return page;
}

static hk_page_t *find_span(hk_heap_t *heap, unsigned c)
{
    for (bool retried = false;; retried = true) {
        hk_page_t *page = find_span_once(heap, c); /* (one call site: inlined) */
        if (hk_likely(page != NULL) || retried)
            return page;
        hki_reclaim(); /* out of memory: give back what this thread holds unused, retry once */
    }
}

bool hki_span_resize(hk_heap_t *heap, hk_page_t *page, size_t size)
{
    unsigned c = hki_size_class(size), old = page->class_idx;
    size_t bs = hki_class_size[c];
    hk_assert_internal(hki_class_is_span(c) && page->run_slots != 0 && hki_page_used(page) == 1);
    if (!hki_segment_span_resize(heap, page, hki_span_slots(bs), bs)) {
        /* the slots after it may hold an empty span kept as its class's current page
         * (P8): a buffer growing in place goes before it (CPython's replay: the copies
         * of buffers it blocked cost 7 instructions per op) */
        hk_segment_t *seg = hki_page_segment(page);
        unsigned after = page->slot + page->run_slots;
        hk_page_t *next = after < seg->page_count ? &seg->pages[after] : NULL;
        if (next == NULL || next->run_slots == 0 || hki_page_used(next) != 0 ||
            heap->queue[next->class_idx].first != next)
            return false;
        page_retire(heap, next);
        if (!hki_segment_span_resize(heap, page, hki_span_slots(bs), bs))
            return false;
    }
    if (c != old && heap->queue[old].first == page) {
        hki_queue_remove(heap, page); /* (kept as current, now of another class) */
        hki_spans_push(heap, page);
    }
    if (c != old) {
        /* counted as a free from class old and an allocation of class c */
        hki_page_stat_flush(heap, page);
        hki_page_alloc_flush(heap, page);
        hki_count(heap->stats.live[old], (size_t)0 - 1u);
        hki_count(heap->stats.live[c], 1u);
        hki_count(heap->stats.alloc[c], 1u);
        page->class_idx = (uint8_t)c;
        page->block_size = bs;
        page->div_magic = hki_block_magic(bs);
        hki_page_set_start_limit(page, page->capacity * hki_block_step(bs));
#if HK_SECURE
        page->canary_end = hki_page_canary_end(bs);
#endif
    }
    return true;
}

/* Everything of malloc's slow path but its common case (hki_malloc_slow). */
static HK_NOINLINE void *malloc_slow_full(hk_heap_t *heap, unsigned c)
{
    if (hk_unlikely(heap == &hki_heap_empty)) {
        heap = hki_heap_init_thread();
        if (heap == NULL) {
            errno = ENOMEM;
            return NULL;
        }
    }
    if (hk_unlikely(heap_undecided) && heap->seg_count != 0) {
        /* an undecided heap wants more pages and no free has said whose heap to continue:
         * the newest (threads that allocate much before they free, tests/robust/adopt,
         * filled fresh pages beside the part-used ones of the heap they took later) */
        if (heir_take(NULL) != NULL)
            heap = hki_tls_heap;
    }
    heap->slow_count++;
    heap_periodic(heap);
    hk_page_t *cur = heap->current[c];
    if (cur != &hki_page_empty) {
        hki_page_stat_flush(heap, cur);
        /* malloc found its `free` empty: all stat_fed blocks were allocated (no walk) */
        if (hk_likely(cur->free == NULL)) {
            hki_count(heap->stats.alloc[c], cur->stat_fed);
            cur->stat_fed = 0;
        } else {
            hki_page_alloc_flush(heap, cur);
        }
    }
    hk_page_t *page = hki_class_is_span(c) ? find_span(heap, c) : find_page(heap, c);
    if (hk_unlikely(page == NULL)) {
        errno = ENOMEM;
        return NULL;
    }
    return hki_page_pop(heap, page, page->free);
}

/* The slow path's common case, alone and without a stack frame: the current page's `free`
 * ran dry while the owner's frees wait on its local_free, no other thread freed into it
 * and the periodic work is not due (15 slow paths in 16). malloc_slow_full would do the
 * same: flush the page's counts, then find_page's walk collects the first page of the
 * queue (P5: the current one), chooses it and leaves it in front. An undecided heap goes
 * the full way (it decides there), and so does a thread without a heap (hki_page_empty
 * has no local_free). larson-2t: 81% of its 888k slow paths, which took 126 instructions
 * each the full way (callgrind: all slow paths 112M -> 72M instructions). */
void *hki_malloc_slow(hk_heap_t *heap, unsigned c)
{
    hk_page_t *cur = heap->current[c];
    hk_block_t *b = cur->local_free;
    size_t count = heap->slow_count + 1;
    if (b == NULL || (count & 15) == 0 ||
        atomic_load_explicit(&cur->thread_free, memory_order_relaxed) != 0 || heap_undecided)
        return malloc_slow_full(heap, c);
    heap->slow_count = count;
    uint32_t used = hki_page_used(cur);
    hki_count(heap->stats.live[c], (size_t)used - (size_t)cur->stat_used); /* hki_page_stat_flush */
    cur->stat_used = used;
    hki_count(heap->stats.alloc[c], cur->stat_fed); /* `free` is empty: no walk */
    cur->stat_fed = cur->capacity - used;           /* |local_free| by P2 */
    cur->local_free = NULL;
    cur->free = b;
    return hki_page_pop(heap, cur, b);
}

/* Collects everything of the heap (and adopts every abandoned segment); with force,
 * returns all free memory to the OS now. */
void hki_heap_collect(hk_heap_t *heap, bool force)
{
    if (heap == &hki_heap_empty)
        return;
    hki_orphans_dissolve(UINT64_MAX);
    hk_segment_t *seg;
    while ((seg = hki_abandoned_pop(heap, UINT64_MAX)) != NULL)
        hki_heap_adopt(heap, seg, HK_ADOPT_BY_MALLOC);
    sweep_full(heap);
    sweep_spans(heap);
    for (unsigned c = 1; c < HK_CLASS_COUNT; c++) {
        hk_page_t *page = heap->queue[c].first;
        while (page != NULL) {
            hk_page_t *next = page->next;
            hki_page_collect(heap, page);
            if (hki_page_used(page) == 0 && (force || page != heap->queue[c].first))
                page_retire(heap, page);
            page = next;
        }
    }
    uint64_t now = hki_os_now_ms();
    retire_kept_pages(heap, now, force);
    /* the segments emptied above went to the abandoned list (ownership.c): take them back
     * so that a forced purge unmaps them */
    while (force && (seg = hki_abandoned_pop(heap, UINT64_MAX)) != NULL)
        hki_heap_adopt(heap, seg, HK_ADOPT_TAKE_BACK);
    hki_heap_purge(heap, now, force);
    hki_heap_stat_flush(heap, false);
}

static void page_flush(hk_heap_t *heap, hk_page_t *page, bool allocs)
{
    hki_page_stat_flush(heap, page);
    if (allocs)
        hki_page_alloc_flush(heap, page);
}

void hki_heap_stat_flush(hk_heap_t *heap, bool allocs)
{
    if (heap == &hki_heap_empty)
        return;
    for (unsigned c = 1; c < HK_CLASS_COUNT; c++) {
        for (hk_page_t *page = heap->queue[c].first; page != NULL; page = page->next)
            page_flush(heap, page, allocs);
    }
    for (hk_page_t *page = heap->full.first; page != NULL; page = page->next)
        page_flush(heap, page, allocs);
    for (hk_page_t *page = heap->spans.first; page != NULL; page = page->next)
        page_flush(heap, page, allocs);
}

/* ---- public ---- */

int hk_trim(size_t pad)
{
    (void)pad;
    hki_init();
    hk_heap_t *heap = hki_tls_heap;
    size_t before = 0, after = 0;
    hk_stats_t st;
    hk_stats_get(&st);
    before = st.committed;
    if (heap == &hki_heap_empty)
        heap = hki_heap_init_thread();
#if HK_SECURE
    if (heap != NULL && hki_quarantine_flush_hook != NULL)
        hki_quarantine_flush_hook(heap); /* what the quarantine holds back is unused too */
#endif
    if (heap != NULL)
        hki_heap_collect(heap, true);
    hki_huge_trim(true);
    hk_stats_get(&st);
    after = st.committed;
    return after < before ? 1 : 0;
}
