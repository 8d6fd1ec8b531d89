/*
 * segment.h -- 4 MiB segments (segment.c): the registry, slots, purging; and the
 * hot-path helpers that find a block's segment and page descriptor.
 *
 * Layer:       above support.h and the OS, below ownership.h. A segment's owner is a
 *              heap, but this layer only links a segment into or out of the lists of the
 *              heap it is given: which heap owns a segment, and what happens to a segment
 *              no heap keeps, is ownership.c's business.
 */
#ifndef HK_SEGMENT_H
#define HK_SEGMENT_H

#include "config.h"
#include "os.h"
#include "support.h"

/* ---- guard pages (the secure build) ----
 * The secure build keeps two OS pages of every segment inaccessible (segment.c
 * hki_segment_new): the last page of the header, so an underflow out of the first page
 * faults before it reaches the page descriptors, and the segment's last page, so a
 * linear overflow out of its last page faults before it reaches the header of the
 * segment mapped after it. The slot areas stop short of the latter (hki_slot_end). */
#if HK_SECURE
#define HK_SEG_GUARD ((size_t)4096)
#else
#define HK_SEG_GUARD ((size_t)0)
#endif
_Static_assert(sizeof(hk_segment_t) + HK_SEG_PAGES_MAX * sizeof(hk_page_t) <=
                   HK_SEG_HDR_SIZE - HK_SEG_GUARD,
               "the header's guard page holds no part of the header");

/* The end of a slot's area: the slot's end, short of the guard for the last slot. */
static inline uintptr_t hki_slot_end(const hk_segment_t *seg, unsigned slot)
{
    uintptr_t end = (uintptr_t)seg + ((uintptr_t)(slot + 1u) << seg->page_shift);
    return end == (uintptr_t)seg + HK_SEG_SIZE ? end - HK_SEG_GUARD : end;
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
/* heap->own_seg[]'s entry for segment base seg (types.h S4) */
static inline hk_segment_t **hki_own_slot(hk_heap_t *heap, const hk_segment_t *seg)
{
    return &heap->own_seg[((uintptr_t)seg >> HK_SEG_SHIFT) & (HK_OWN_SEG_COUNT - 1)];
}
static inline hk_page_t *hki_page_of(hk_segment_t *seg, const void *p)
{
    /* &seg->pages[i], spelled so that the compiler emits shift, shift, add (128-byte
     * descriptors, types.h) */
    uintptr_t i = ((uintptr_t)p & HK_SEG_MASK) >> seg->page_shift;
    return (hk_page_t *)((uintptr_t)seg + offsetof(hk_segment_t, pages) + (i << 7));
}
/* start_limit (types.h): written by the page's owner, read by any thread's free, so
 * stored and loaded atomically (relaxed); the owner reads it plainly (no other writer),
 * which lets the compiler fold the load into a compare (malloc's and free's fast paths) */
static inline uint64_t hki_page_start_limit(const hk_page_t *page)
{
    return __atomic_load_n(&page->start_limit, __ATOMIC_RELAXED);
}
static inline void hki_page_set_start_limit(hk_page_t *page, uint64_t limit)
{
    __atomic_store_n(&page->start_limit, limit, __ATOMIC_RELAXED);
}
/* `used` of a page (types.h): stored relative to report_at, so that free's fast path
 * counts down to its report with one decrement (no load and compare of report_at) */
static inline uint32_t hki_page_used(const hk_page_t *page)
{
    return page->used_rel + page->report_at;
}
static inline void hki_page_set_used(hk_page_t *page, uint32_t used)
{
    page->used_rel = used - page->report_at;
}
static inline void hki_page_set_report_at(hk_page_t *page, uint32_t report_at)
{
    uint32_t used = hki_page_used(page);
    page->report_at = report_at;
    hki_page_set_used(page, used);
}
/* ---- what a valid block is (free.c header, checks 1-3), written once ----
 * p is a live block of ours when
 *   1. its segment is in the registry (hki_registry_has; free() skips this for the
 *      heap's free_seg, known to be mapped);
 *   2. it is one of the carved block starts of its page: hki_block_is_start;
 *   3. its first word does not look like a free-list link: !hki_block_looks_freed
 *      (on a match only the owner's walk of the page's lists is exact, free.c). free's
 *      fast path first tests the cheaper hki_block_link_shaped, which every word that
 *      looks freed passes, and makes the exact test only when it does.
 * free's fast path (hk_free) reads the page fields once into registers and calls the
 * two predicates on them; hki_block_validate (realloc, usable_size, hk_is_owned) and the
 * other free paths call them through the page. */

/* The block-start test's multiplier for block size bs: m = floor(2^64 / bs) + 1, so
 * that the step e = m * bs - 2^64 is in 1..bs (a power of two gets e = bs, not 0). For
 * an offset off = k*bs + r (0 <= r < bs, off < 4 MiB), off * m mod 2^64 = k*e + r*m
 * without wrapping (k*e + r*m <= off + 2^64 + e - m < 2^64, as m >= 2^44): below m iff
 * r == 0, and then k*e, which is below count*e iff k < count; an offset "below" start
 * (p < start, off wrapped) gives 2^64 minus such a value, far above any bound. */
static inline uint64_t hki_block_magic(size_t bs)
{
    return UINT64_MAX / bs + 1 + ((bs & (bs - 1)) == 0);
}
/* e of hki_block_magic (the difference between consecutive block starts' products) */
static inline uint64_t hki_block_step(size_t bs)
{
    return hki_block_magic(bs) * bs;
}
/* off = p - page start: one of the first `count` block starts, where limit = count * e
 * (types.h start_limit); the range and the multiple tested with one multiply and one
 * compare (count * e <= count * bs <= 4 MiB < m, so a non-multiple never passes). */
static inline bool hki_block_is_start(uintptr_t off, uint64_t limit, uint64_t div_magic)
{
    return off * div_magic < limit;
}
/* word = the block's first word: it decodes with key to NULL or to a carved block start
 * of the page, as a free block's link does (a live block's word never does: zeroed at
 * allocation). */
static inline bool hki_block_looks_freed(uintptr_t word, uintptr_t key, uintptr_t start,
                                         uint64_t limit, uint64_t div_magic)
{
    return hki_block_is_start((word ^ key) - start, limit, div_magic) | (word == key);
}
/* The cheap half of hki_block_looks_freed, for free's fast path (3 instructions instead
 * of 8): a link, NULL or an address below 2^HK_ADDR_BITS, xor key keeps none of key's
 * bits above HK_ADDR_BITS; key has bit 63 set and not all of them (hki_init), so the
 * words live blocks usually start with (0, pointers, small or negative integers, text)
 * fail it at once. A live word that passes costs the exact test, never a false report. */
static inline bool hki_block_link_shaped(uintptr_t word, uintptr_t key)
{
    return ((word ^ key) >> HK_ADDR_BITS) == 0;
}
/* Is p the start of a carved block of page? (interior/uncarved pointers fail) */
static inline bool hki_page_is_block_start(hk_page_t *page, const void *p)
{
    return hki_block_is_start((uintptr_t)p - page->start, hki_page_start_limit(page),
                              page->div_magic);
}
static inline bool hki_page_block_looks_freed(hk_page_t *page, const hk_block_t *b)
{
    return hki_block_looks_freed(b->next_enc, page->key, page->start,
                                 hki_page_start_limit(page), page->div_magic);
}
void hki_registry_set(hk_segment_t *seg, bool on);
/* R1: every registered segment is mapped (process-wide; see segment.c). Calls
 * fail(arg, addr, invariant, message) for each violation; returns the number found. */
typedef void hki_check_fail_fn(void *arg, const void *addr, const char *inv, const char *msg);
int hki_registry_check(hki_check_fail_fn *fail, void *arg);

/* The free-list key of every page (odd; set once by hki_init). */
extern uintptr_t hki_key;

/* ---- segments ---- */
hk_segment_t *hki_segment_new(hk_heap_t *heap, unsigned kind);
void hki_segment_release(hk_segment_t *seg);
/* Takes a free slot of `kind` from the heap's segments (or a new segment). */
hk_page_t *hki_segment_page_alloc(hk_heap_t *heap, unsigned kind);
/* Returns a page's slot to its segment (page must be unlinked, empty, its statistics
 * flushed). When that leaves the heap a second empty segment, the segment is unlinked
 * from the heap and returned: the caller hands it on (hki_segment_give_up); else NULL. */
hk_segment_t *hki_segment_page_free(hk_heap_t *heap, hk_page_t *page, bool purge_now);
/* ---- spans (types.h "Span segment layout") ----
 * Takes a run of k free slots for a span of bs-byte blocks from the heap's span segments
 * (NULL: none has one; the caller adopts or maps a segment and asks again); the page's
 * slot and run_slots are set, the rest is hki_page_init's. A span goes back with
 * hki_segment_page_free, its whole run at once. */
hk_page_t *hki_segment_span_alloc(hk_heap_t *heap, unsigned k, size_t bs);
/* Makes span page's run k slots (for bs-byte blocks): grown over the free slots right
 * after it, or its tail given back (kept committed for the purge delay); false if the
 * slots after it are not free. Sets run_slots and area_size (the class is the caller's). */
bool hki_segment_span_resize(hk_heap_t *heap, hk_page_t *page, unsigned k, size_t bs);
/* The span whose run holds addr, an address of seg (NULL: seg is no span segment, or
 * addr is in the header or a free slot); for the reports of free.c. */
hk_page_t *hki_span_of(hk_segment_t *seg, const void *addr);
/* S2 and S3 (types.h) of one segment, from its masks and descriptors: NULL if they hold,
 * else what is wrong, with the invariant and the address to report. */
const char *hki_segment_slots_check(const hk_segment_t *seg, const char **inv, const void **addr);
hk_segment_t *hki_page_segment(const hk_page_t *page);
void hki_segment_list_remove(hk_segment_t **list, hk_segment_t *seg);
/* Takes one segment off heap's lists (the kinds' lists in order, then the full list), or
 * NULL when they are empty; seg_count and the heap's other counts are the caller's. */
hk_segment_t *hki_segment_list_pop_any(hk_heap_t *heap);
void hki_segment_list_push(hk_segment_t **list, hk_segment_t *seg);
/* Removes a segment from its heap's lists. */
void hki_segment_unlink(hk_heap_t *heap, hk_segment_t *seg);
/* free_seg and own_seg[] stop naming seg, which leaves the heap (S4). */
void hki_heap_forget_segment(hk_heap_t *heap, const hk_segment_t *seg);
/* The area of seg's free slots awaiting purge (purge_mask). */
size_t hki_segment_warm_bytes(const hk_segment_t *seg);
/* Purges free slots whose delay expired (all of them if force); returns bytes purged. */
size_t hki_heap_purge(hk_heap_t *heap, uint64_t now, bool force);
/* Purges free slots, whatever their deadline, until at most `keep` bytes of them are
 * left committed; returns the bytes purged. */
size_t hki_heap_purge_warm(hk_heap_t *heap, size_t keep);

#endif
