/*
 * heapcheck.c -- hk_heap_check: walks the calling thread's heap and verifies the
 * invariants of types.h (P1..P8, S1..S5) and size_class.c (C1); then the process-wide
 * ones: the abandoned list (O1..O4, ownership.c), the registry (R1, segment.c) and the
 * huge cache with its far blocks (H1..H3, F1, F2, huge.c), under their locks
 * (hki_ownership_check).
 *
 * Design:      only the owner can walk its heap (other heaps change under our feet), so
 *              the check covers the calling thread's heap; thread_free lists are read
 *              with an acquire load of the head (nodes are immutable until collected).
 *              Debug builds (HK_DEBUG >= 3) call it every HK_CHECK_EVERY slow paths and
 *              abort on the first violation.
 * Complexity:  O(blocks + pages + segments).
 */
#include "config.h"
#include "heap.h"

#include <string.h>

typedef struct ctx_s {
    int errors;
    hk_report_t *report;
} ctx_t;

static void fail(ctx_t *x, const void *addr, const char *inv, const char *msg)
{
    if (x->errors++ == 0 && x->report != NULL) {
        x->report->addr = addr;
        x->report->invariant = inv;
        x->report->message = msg;
    }
    hki_verbose("heap check: %s at %p: %s", inv, addr, msg);
}

#define MAX_BLOCKS 4096 /* 64 KiB / 16 */

/* P1: walks one encoded list, marking blocks in `seen`; returns its length. */
static uint32_t walk_list(ctx_t *x, const hk_page_t *page, uintptr_t head, uint8_t *seen)
{
    uint32_t n = 0;
    while (head != 0) {
        uintptr_t off = head - page->start;
        if (off >= (uintptr_t)page->capacity * page->block_size || off % page->block_size != 0) {
            fail(x, (void *)head, "P1", "free-list block outside the carved blocks or misaligned");
            return n;
        }
        size_t i = off / page->block_size;
        if (i < MAX_BLOCKS) {
            if (seen[i >> 3] & (1u << (i & 7))) {
                fail(x, (void *)head, "P1", "block twice on the free lists (cycle or double free)");
                return n;
            }
            seen[i >> 3] = (uint8_t)(seen[i >> 3] | (1u << (i & 7)));
        }
        n++;
        head = ((const hk_block_t *)head)->next_enc ^ page->key;
    }
    return n;
}

static void page_check(ctx_t *x, hk_heap_t *heap, hk_page_t *page)
{
    hk_segment_t *seg = hki_page_segment(page);
    if (atomic_load_explicit(&seg->heap, memory_order_relaxed) != heap)
        fail(x, seg, "S1", "page of a segment owned by another heap");
    if (page->class_idx == 0 || page->block_size != hki_class_size[page->class_idx]) {
        fail(x, (void *)page->start, "P4", "block size does not match the class");
        return;
    }
    if (page->capacity > page->reserved ||
        (size_t)page->reserved * page->block_size > page->area_size ||
        page->div_magic != hki_block_magic(page->block_size) ||
        hki_page_start_limit(page) != page->capacity * hki_block_step(page->block_size))
        fail(x, (void *)page->start, "P3", "capacity/reserved/carved inconsistent");
    if ((page->run_slots != 0) != hki_class_is_span(page->class_idx)) {
        fail(x, (void *)page->start, "P8", "run_slots does not match the class (span or not)");
        return;
    }
    if (page->run_slots != 0 &&
        (page->run_slots != hki_span_slots(page->block_size) || page->reserved != 1 ||
         page->slot + page->run_slots > seg->page_count ||
         page->start != (uintptr_t)seg + ((uintptr_t)page->slot << seg->page_shift) ||
         page->area_size != hki_slot_end(seg, page->slot + page->run_slots - 1u) - page->start)) {
        fail(x, (void *)page->start, "P8", "span run does not match its block size or slots");
        return;
    }
#if HK_SECURE
    if (page->canary_end != hki_page_canary_end(page->block_size))
        fail(x, (void *)page->start, "P7", "canary_end does not match the block size");
#endif
    uint8_t seen[MAX_BLOCKS / 8];
    memset(seen, 0, sizeof seen);
    uint32_t nfree = walk_list(x, page, (uintptr_t)page->free, seen);
    uint32_t n = nfree + walk_list(x, page, (uintptr_t)page->local_free, seen);
    uint32_t t = walk_list(x, page, atomic_load_explicit(&page->thread_free, memory_order_acquire),
                           seen);
    uint32_t used = hki_page_used(page);
    if (used + n != page->capacity || t > used)
        fail(x, (void *)page->start, "P2", "used + free + local_free != capacity");
    if (nfree > page->stat_fed)
        fail(x, (void *)page->start, "P2", "more blocks on free than counted onto it (stat_fed)");
}

static size_t segment_check(ctx_t *x, hk_heap_t *heap, hk_segment_t *seg, bool want_full)
{
    if (!hki_registry_has((uintptr_t)seg))
        fail(x, seg, "S1", "segment not in the registry");
    if (atomic_load_explicit(&seg->heap, memory_order_relaxed) != heap)
        fail(x, seg, "S1", "segment owner differs from the heap listing it");
    if ((seg->free_mask == 0) != want_full)
        fail(x, seg, "S1", "segment on the wrong list (full/available)");
    const char *inv;
    const void *at;
    const char *why = hki_segment_slots_check(seg, &inv, &at);
    if (why != NULL)
        fail(x, at, inv, why);
    return seg->used_pages;
}

static size_t queue_check(ctx_t *x, hk_heap_t *heap, hk_page_queue_t *q, unsigned c, bool full)
{
    size_t n = 0;
    hk_page_t *prev = NULL;
    for (hk_page_t *page = q->first; page != NULL; page = page->next) {
        if (page->prev != prev)
            fail(x, page, "P5", "broken queue links");
        if (!full && page->class_idx != c)
            fail(x, (void *)page->start, "P5", "page in the queue of another class");
        if (page->run_slots != 0 && (full || q->first != page || q->last != page))
            fail(x, (void *)page->start, "P8", "a span on a page queue, not its only page");
        if (page->in_full != full)
            fail(x, (void *)page->start, "P5", "in_full flag does not match the list");
        uint32_t want = full ? hki_full_report_at(page->capacity)
                    : page == heap->current[page->class_idx] &&
                            hki_option(HK_OPT_PURGE_DELAY) != 0
                        ? HK_REPORT_NEVER
                        : 0;
        if (page->report_at != want)
            fail(x, (void *)page->start, "P5", "report_at does not match the list");
        page_check(x, heap, page);
        prev = page;
        if (++n > ((size_t)1 << 32))
            break;
    }
    if (q->last != prev)
        fail(x, q, "P5", "queue last pointer wrong");
    return n;
}

/* P8: the span list holds spans only, well linked, span_count long. */
static size_t spans_check(ctx_t *x, hk_heap_t *heap)
{
    size_t n = 0;
    hk_page_t *prev = NULL;
    for (hk_page_t *page = heap->spans.first; page != NULL; page = page->next) {
        if (page->prev != prev)
            fail(x, page, "P8", "broken span list links");
        if (page->run_slots == 0 || page->in_full != 0 || page->report_at != 0)
            fail(x, (void *)page->start, "P8", "a page on the span list that is no span, or in_full / report_at set");
        page_check(x, heap, page);
        prev = page;
        if (++n > ((size_t)1 << 32))
            break;
    }
    if (heap->spans.last != prev)
        fail(x, &heap->spans, "P8", "span list last pointer wrong");
    if (n != heap->span_count)
        fail(x, heap, "P8", "span_count differs from the span list");
    return n;
}

/* S4's second half: every entry of own_seg[] names one of the heap's segments, at that
 * segment's slot (each segment has one slot, so the entries equal the segments found). */
static void own_seg_check(ctx_t *x, hk_heap_t *heap)
{
    size_t entries = 0, found = 0;
    for (unsigned i = 0; i < HK_OWN_SEG_COUNT; i++)
        entries += heap->own_seg[i] != HK_SEG_NONE;
    hk_segment_t *lists[HK_KIND_COUNT + 1];
    for (unsigned k = 0; k < HK_KIND_COUNT; k++)
        lists[k] = heap->segs[k];
    lists[HK_KIND_COUNT] = heap->segs_full;
    for (unsigned k = 0; k <= HK_KIND_COUNT; k++) {
        for (hk_segment_t *seg = lists[k]; seg != NULL; seg = seg->next)
            found += *hki_own_slot(heap, seg) == seg;
    }
    if (entries != found)
        fail(x, heap->own_seg, "S4", "own_seg names a segment not the heap's, or at a wrong slot");
}

int hki_heap_check(hk_heap_t *heap, hk_report_t *report)
{
    ctx_t x = {0, report};
    for (unsigned c = 2; c < HK_CLASS_COUNT; c++) {
        if (hki_class_size[c] <= hki_class_size[c - 1])
            fail(&x, &hki_class_size[c], "C1", "class sizes not increasing");
    }
    if (heap == &hki_heap_empty)
        return x.errors;
    size_t pages = 0, used_pages = 0;
    for (unsigned c = 1; c < HK_CLASS_COUNT; c++) {
        pages += queue_check(&x, heap, &heap->queue[c], c, false);
        hk_page_t *cur = heap->queue[c].first ? heap->queue[c].first : &hki_page_empty;
        if (heap->current[c] != cur)
            fail(&x, heap->current[c], "P5", "current[c] is not the first page of queue[c]");
    }
    pages += queue_check(&x, heap, &heap->full, 0, true);
    pages += spans_check(&x, heap);
    for (unsigned i = 0; i < HK_DIRECT_COUNT; i++) {
        if (heap->direct[i] != heap->current[hki_direct_class[i]])
            fail(&x, heap->direct[i], "P6", "direct[i] differs from current[class]");
    }
    size_t segs = 0, warm = 0;
    bool free_seg_found = heap->free_seg == HK_SEG_NONE;
    for (unsigned k = 0; k < HK_KIND_COUNT; k++) {
        for (hk_segment_t *seg = heap->segs[k]; seg != NULL; seg = seg->next, segs++) {
            if (seg->kind != k)
                fail(&x, seg, "S1", "segment on the list of another kind");
            used_pages += segment_check(&x, heap, seg, false);
            warm += hki_segment_warm_bytes(seg);
            free_seg_found |= seg == heap->free_seg;
        }
    }
    for (hk_segment_t *seg = heap->segs_full; seg != NULL; seg = seg->next, segs++) {
        used_pages += segment_check(&x, heap, seg, true);
        free_seg_found |= seg == heap->free_seg;
    }
    if (!free_seg_found)
        fail(&x, heap->free_seg, "S4", "free_seg is not one of the heap's segments");
    own_seg_check(&x, heap);
    if (segs != heap->seg_count)
        fail(&x, heap, "S1", "seg_count differs from the segment lists");
    if (warm != heap->warm_bytes)
        fail(&x, heap, "S5", "warm_bytes differs from the free slots awaiting purge");
    if (pages != used_pages)
        fail(&x, heap, "P5", "pages on the queues differ from the slots in use");
    return x.errors;
}

static void fail_shared(void *arg, const void *addr, const char *inv, const char *msg)
{
    fail(arg, addr, inv, msg);
}

int hki_process_check(hk_heap_t *heap, hk_report_t *report)
{
    ctx_t x = {hki_heap_check(heap, report), report};
    hki_ownership_check(fail_shared, &x); /* counts its violations in x */
    hki_orphans_check(fail_shared, &x);
    return x.errors;
}

int hk_heap_check(hk_report_t *report)
{
    return hki_process_check(hki_tls_heap, report);
}
