/*
 * page.c -- small-object pages: carving blocks, the three free lists, the page queues.
 *
 * Design:      a page serves one size class from one slot of a segment. Blocks are carved
 *              lazily from a bump area (HK_EXTEND_SIZE bytes at a time) so untouched
 *              memory is never committed. Three free lists, as in mimalloc's sharding:
 *                free        malloc pops here (owner)
 *                local_free  the owner's frees; swapped into free when free runs dry
 *                thread_free other threads' frees, pushed with CAS; the owner takes the
 *                            whole list with one exchange
 *              Links are encoded (next ^ key), see types.h "Block layout".
 * Layout:      types.h "Segment layout", "Block layout".
 * Invariants:  P1..P6 (types.h), checked by heapcheck.c.
 * Concurrency: owner thread only, except thread_free (CAS by anyone, exchange by owner).
 * Complexity:  O(1) except collect (O(length of thread_free)) and the checker walks.
 */
#include "config.h"
#include "heap.h"

/* ---- init and carving ---- */

#if HK_SECURE
/* The secure build (secure.c) gives each page a key of its own, so a link decoded with
 * one page's key (leaked, or guessed from a block the program can read) says nothing
 * about another page's, and carves blocks in random order, so that the block after a
 * given block is not predictable. Both derive from the process key with a bijective
 * mixer (no system call on the slow path). */
static uintptr_t secure_mix(uintptr_t x)
{
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ULL;
    x ^= x >> 27;
    x *= 0x81dadef4bc2dd44dULL;
    x ^= x >> 33;
    return x;
}

static uintptr_t page_key(uintptr_t start)
{
    uintptr_t key = secure_mix(start ^ hki_key) | 1u | (uintptr_t)1 << 63; /* as hki_init */
    if ((key >> HK_ADDR_BITS) == (UINTPTR_MAX >> HK_ADDR_BITS))
        key ^= (uintptr_t)1 << HK_ADDR_BITS;
    return key;
}

/* order[i] = a uniform pick among the i + 1 places of the permutation built so far (the
 * "inside-out" Fisher-Yates step: the value at the picked place moves to the end). r: 32
 * random bits, reduced to 0..i by a multiply (Lemire's reduction; no division, whose
 * latency was most of the carving's time; its bias, (i + 1) / 2^32, is negligible). */
static inline void shuffle_place(uint16_t *order, uint32_t i, uint32_t r)
{
    uint32_t j = (uint32_t)(((uint64_t)r * (i + 1)) >> 32);
    order[i] = order[j];
    order[j] = (uint16_t)i;
}

/* types.h P7. The options are read in hki_init, before any page exists, and never
 * change: with the quarantine or zeroing on free, no free takes the fast path. */
uint32_t hki_page_canary_end(size_t block_size)
{
    bool all_to_secure = block_size > HK_CANARY_BLOCK_MAX ||
                         hki_option(HK_OPT_QUARANTINE) != 0 ||
                         hki_option(HK_OPT_ZERO_ON_FREE) != 0;
    return all_to_secure ? 0 : (uint32_t)(block_size - 7);
}

/* Links blocks first .. first + (n-1)*bs onto free in a random order (a uniform random
 * permutation of their indices; n <= HK_EXTEND_SIZE / 16). One mix gives two picks. */
static void carve_shuffled(hk_page_t *page, uintptr_t first, uint32_t n, size_t bs)
{
    static _Thread_local uintptr_t state;
    uint16_t order[HK_EXTEND_SIZE / 16];
    hk_assert_internal(n >= 1 && n <= HK_EXTEND_SIZE / 16);
    /* (the page's secret key in the state: each step's mix spreads it) */
    uintptr_t s = state ^ first ^ page->key;
    order[0] = 0;
    for (uint32_t i = 1; i < n; i += 2) {
        s = secure_mix(s + 0x9e3779b97f4a7c15ULL);
        shuffle_place(order, i, (uint32_t)s);
        if (i + 1 < n)
            shuffle_place(order, i + 1, (uint32_t)(s >> 32));
    }
    state = s;
    uintptr_t head = (uintptr_t)page->free, key = page->key;
    for (uint32_t k = 0; k < n; k++) {
        uintptr_t b = first + (uintptr_t)order[k] * bs;
        ((hk_block_t *)b)->next_enc = head ^ key;
        head = b;
    }
    page->free = (hk_block_t *)head;
}
#endif

void hki_page_init(hk_page_t *page, hk_segment_t *seg, unsigned class_idx)
{
    uintptr_t base = (uintptr_t)seg;
    uintptr_t start = base + ((uintptr_t)page->slot << seg->page_shift);
    if (start < base + HK_SEG_HDR_SIZE)
        start = base + HK_SEG_HDR_SIZE;
    /* (a span: its run, whose slots hki_segment_span_alloc took; types.h P8) */
    uintptr_t end = hki_slot_end(seg, page->slot + (page->run_slots ? page->run_slots - 1u : 0u));
    size_t bs = hki_class_size[class_idx];
    hk_assert_internal(end > start && bs > 0);
    page->free = NULL;
    page->local_free = NULL;
    page->stat_used = 0;
    page->stat_fed = 0;
    page->capacity = 0;
#if HK_SECURE
    page->key = page_key(start);
    page->canary_end = hki_page_canary_end(bs);
#else
    page->key = hki_key;
#endif
    page->start = start;
    page->block_size = bs;
    page->div_magic = hki_block_magic(bs);
    hki_page_set_start_limit(page, 0);
    page->area_size = end - start;
    page->reserved = (uint32_t)((end - start) / bs);
    page->class_idx = (uint8_t)class_idx;
    page->in_full = 0;
    page->report_at = 0;
    hki_page_set_used(page, 0);
    page->next = page->prev = NULL;
    page->expire_ms = 0;
    atomic_store_explicit(&page->thread_free, 0, memory_order_relaxed);
}

void hki_page_extend(hk_page_t *page)
{
    uint32_t avail = page->reserved - page->capacity;
    size_t bs = page->block_size;
    size_t want = HK_EXTEND_SIZE / bs;
    uint32_t n = want < 1 ? 1u : want > avail ? avail : (uint32_t)want;
    if (n == 0)
        return;
    uintptr_t first = page->start + (uintptr_t)page->capacity * bs;
#if HK_SECURE
    carve_shuffled(page, first, n, bs);
#else
    /* (a pointer loop, no counter: 7 instructions per block instead of 9; carving is
     * most of malloc's slow path while a program's heap grows) */
    uintptr_t key = page->key, last = first + (uintptr_t)(n - 1) * bs;
    for (uintptr_t b = first; b != last; b += bs)
        ((hk_block_t *)b)->next_enc = (b + bs) ^ key;
    ((hk_block_t *)last)->next_enc = (uintptr_t)page->free ^ key;
    page->free = (hk_block_t *)first;
#endif
    page->capacity += n;
    page->stat_fed += n;
    hki_page_set_start_limit(page, page->capacity * hki_block_step(bs));
}

/* ---- collecting frees ---- */

void hki_page_collect(hk_heap_t *heap, hk_page_t *page)
{
    if (page->free == NULL && page->local_free != NULL) {
        page->free = page->local_free;
        page->local_free = NULL;
        page->stat_fed += page->capacity - hki_page_used(page); /* |local_free| by P2 */
    }
    if (atomic_load_explicit(&page->thread_free, memory_order_relaxed) == 0)
        return;
    uintptr_t head = atomic_exchange_explicit(&page->thread_free, 0, memory_order_acquire);
    if (head == 0)
        return;
    uintptr_t key = page->key;
    hk_block_t *tail = (hk_block_t *)head;
    uint32_t n = 1;
    for (;;) {
        uintptr_t next = tail->next_enc ^ key;
        if (next == 0)
            break;
        if (hk_unlikely(n > page->capacity || next - page->start >= page->area_size))
            hki_fatal("corrupted thread-free list in page %p (block %p)", (void *)page->start,
                      (void *)tail);
        tail = (hk_block_t *)next;
        n++;
    }
    tail->next_enc = (uintptr_t)page->free ^ key;
    page->free = (hk_block_t *)head;
    page->stat_fed += n;
    if (hk_unlikely(n > hki_page_used(page)))
        hki_fatal("page %p: more frees than allocations", (void *)page->start);
    page->used_rel -= n; /* (used - n: types.h) counted in the statistics at the next hki_page_stat_flush */
    hki_count(heap->handoff.remote_frees, n); /* (counted here: free's remote path stays as is) */
}

void *hki_page_damaged(const hk_page_t *page, const hk_block_t *b)
{
    hki_fatal("heap corruption: the free list of page %p leads to %p, not one of its blocks "
              "(a free block was overwritten: a write after free or a buffer overflow)",
              (void *)page->start, (const void *)b);
}

static bool list_contains(const hk_page_t *page, uintptr_t head, const hk_block_t *b)
{
    uint32_t steps = 0;
    while (head != 0 && steps <= page->capacity) {
        if (head == (uintptr_t)b)
            return true;
        if (head - page->start >= page->area_size)
            return false; /* corrupted: stop */
        head = ((const hk_block_t *)head)->next_enc ^ page->key;
        steps++;
    }
    return false;
}

uint32_t hki_page_free_count(const hk_page_t *page)
{
    /* bounded and range-checked like list_contains */
    uint32_t n = 0;
    uintptr_t b = (uintptr_t)page->free;
    while (b != 0 && n < page->capacity && b - page->start < page->area_size) {
        n++;
        b = ((const hk_block_t *)b)->next_enc ^ page->key;
    }
    return n;
}

bool hki_page_has_free_block(const hk_page_t *page, const hk_block_t *b)
{
    return list_contains(page, (uintptr_t)page->free, b) ||
           list_contains(page, (uintptr_t)page->local_free, b) ||
           list_contains(page, atomic_load_explicit(&((hk_page_t *)page)->thread_free,
                                                    memory_order_acquire),
                         b);
}

/* ---- queues: one per class, first page is heap->current[c] ---- */

/* The current page of a class does not report to free's slow path even when it becomes
 * empty (report_at = HK_REPORT_NEVER): malloc takes from it next, and heap.c retires it if
 * it stays empty a purge delay (free_local_slow let it be anyway; this spares the call, a
 * quarter of a malloc/free pair that empties its page each time). Without a purge delay
 * it reports as any page. The page it replaces reports again. */
void hki_heap_set_current(hk_heap_t *heap, unsigned c)
{
    hk_page_t *page = heap->queue[c].first ? heap->queue[c].first : &hki_page_empty;
    hk_page_t *old = heap->current[c];
    if (old != page && old != &hki_page_empty)
        hki_page_set_report_at(old, old->in_full ? hki_full_report_at(old->capacity) : 0);
    if (page != &hki_page_empty && hki_option(HK_OPT_PURGE_DELAY) != 0)
        hki_page_set_report_at(page, HK_REPORT_NEVER);
    heap->current[c] = page;
    size_t bs = hki_class_size[c];
    if (bs > HK_DIRECT_MAX)
        return;
    size_t lo = c == 1 ? 0 : hki_class_size[c - 1] / 16 + 1;
    for (size_t i = lo; i <= bs / 16; i++)
        heap->direct[i] = page;
}

/* page becomes the first of q (a queue, the full list or the span list) */
static void list_push_front(hk_page_queue_t *q, hk_page_t *page)
{
    page->prev = NULL;
    page->next = q->first;
    if (q->first)
        q->first->prev = page;
    else
        q->last = page;
    q->first = page;
}

void hki_queue_push_front(hk_heap_t *heap, hk_page_t *page)
{
    hk_page_queue_t *q = &heap->queue[page->class_idx];
    list_push_front(q, page);
    hki_heap_set_current(heap, page->class_idx);
}

void hki_queue_push_back(hk_heap_t *heap, hk_page_t *page)
{
    hk_page_queue_t *q = &heap->queue[page->class_idx];
    page->next = NULL;
    page->prev = q->last;
    if (q->last)
        q->last->next = page;
    else
        q->first = page;
    q->last = page;
    if (q->first == page)
        hki_heap_set_current(heap, page->class_idx);
}

static void list_unlink(hk_page_queue_t *q, hk_page_t *page)
{
    if (page->prev)
        page->prev->next = page->next;
    else
        q->first = page->next;
    if (page->next)
        page->next->prev = page->prev;
    else
        q->last = page->prev;
    page->next = page->prev = NULL;
}

void hki_queue_remove(hk_heap_t *heap, hk_page_t *page)
{
    hk_page_queue_t *q = &heap->queue[page->class_idx];
    bool was_first = q->first == page;
    list_unlink(q, page);
    if (was_first)
        hki_heap_set_current(heap, page->class_idx);
}

void hki_full_push(hk_heap_t *heap, hk_page_t *page)
{
    hk_page_queue_t *q = &heap->full;
    list_push_front(q, page);
    page->in_full = 1;
    /* Back to the queue when an eighth is free, not at the first free: a program that
     * frees here and there over many full pages (redis) made malloc's slow path find
     * pages with one free block each, one slow path per block (158k slow paths of
     * 128-byte blocks in 1.47M mallocs). The frees wait on local_free meanwhile, and
     * sweep_full (heap.c) takes them before a fresh page would be. */
    hki_page_set_report_at(page, hki_full_report_at(page->capacity));
    heap->full_count++;
}

void hki_full_remove(hk_heap_t *heap, hk_page_t *page)
{
    list_unlink(&heap->full, page);
    page->in_full = 0;
    hki_page_set_report_at(page, 0);
    heap->full_count--;
}

/* ---- the span list: a heap's live spans (types.h P8) ----
 * A span holds one block, so it is never on a queue: malloc takes a new run for each
 * span block (heap.c span_malloc) and the owner's free gives the run back at once. The
 * list is where the owner finds the spans other threads freed (heap.c sweep_spans). */

void hki_spans_push(hk_heap_t *heap, hk_page_t *page)
{
    hk_page_queue_t *q = &heap->spans;
    list_push_front(q, page);
    page->in_full = 0;
    hki_page_set_report_at(page, 0);
    heap->span_count++;
}

void hki_spans_remove(hk_heap_t *heap, hk_page_t *page)
{
    list_unlink(&heap->spans, page);
    heap->span_count--;
}
