/*
 * ownership.c -- who owns a segment: the abandoned list, claim, adopt, expire.
 */
#include "config.h"
#include "internal.h"
#include "os.h"

/* ---- abandoned segments ---- */

hk_lock_t hki_abandoned_lock = HK_LOCK_INIT;
static hk_segment_t *abandoned_head, *abandoned_tail; /* newest first */
static _Atomic size_t abandoned_count;

void hki_abandoned_push(hk_segment_t *seg)
{
    uint64_t now = hki_os_now_ms();
    hki_lock(&hki_abandoned_lock);
    atomic_store_explicit(&seg->heap, NULL, memory_order_release);
    seg->prev = NULL;
    seg->next = abandoned_head;
    if (abandoned_head)
        abandoned_head->prev = seg;
    else
        abandoned_tail = seg;
    abandoned_head = seg;
    seg->cached_ms = now; /* abandoned since */
    atomic_fetch_add_explicit(&abandoned_count, 1, memory_order_relaxed);
    hki_unlock(&hki_abandoned_lock);
}

/* under hki_abandoned_lock: seg is on the list */
static void abandoned_unlink(hk_segment_t *seg, hk_heap_t *heap)
{
    if (seg->prev)
        seg->prev->next = seg->next;
    else
        abandoned_head = seg->next;
    if (seg->next)
        seg->next->prev = seg->prev;
    else
        abandoned_tail = seg->prev;
    seg->next = seg->prev = NULL;
    atomic_fetch_sub_explicit(&abandoned_count, 1, memory_order_relaxed);
    /* set under the lock: seg->heap == NULL <=> seg is on the list */
    atomic_store_explicit(&seg->heap, heap, memory_order_release);
}

hk_segment_t *hki_abandoned_pop(hk_heap_t *heap, uint64_t before_ms)
{
    if (atomic_load_explicit(&abandoned_count, memory_order_relaxed) == 0)
        return NULL;
    hki_lock(&hki_abandoned_lock);
    hk_segment_t *seg = abandoned_tail;
    if (seg && seg->cached_ms <= before_ms)
        abandoned_unlink(seg, heap);
    else
        seg = NULL;
    hki_unlock(&hki_abandoned_lock);
    return seg;
}

hk_segment_t *hki_abandoned_pop_kind(hk_heap_t *heap, unsigned kind, uint64_t claimed_before)
{
    if (atomic_load_explicit(&abandoned_count, memory_order_relaxed) == 0)
        return NULL;
    hki_lock(&hki_abandoned_lock);
    hk_segment_t *found = NULL, *fallback = NULL, *seg = abandoned_tail;
    /* kind, used_pages and free_mask of an abandoned segment do not change (no owner) */
    for (unsigned i = 0; seg != NULL && i < HK_ADOPT_SCAN; i++, seg = seg->prev) {
        if (seg->kind != kind || seg->free_mask == 0)
            continue;
        if (seg->used_pages == 0) {
            found = seg;
            break;
        }
        /* one holding a single page in use risks at most that page's frees turning remote */
        if (fallback == NULL && (seg->cached_ms <= claimed_before || seg->used_pages <= 1))
            fallback = seg;
    }
    /* exiting threads push their empty segments at the newest end: look there too */
    seg = abandoned_head;
    for (unsigned i = 0; found == NULL && seg != NULL && i < HK_ADOPT_SCAN; i++, seg = seg->next) {
        if (seg->kind == kind && seg->used_pages == 0)
            found = seg;
    }
    if (found == NULL)
        found = fallback; /* rather than one more segment per thread that leaves a block */
    if (found != NULL)
        abandoned_unlink(found, heap);
    hki_unlock(&hki_abandoned_lock);
    return found;
}

void hki_abandoned_expire(uint64_t before_ms)
{
    bool more = true;
    while (more && atomic_load_explicit(&abandoned_count, memory_order_relaxed) != 0) {
        hk_segment_t *victims[HK_ADOPT_SCAN];
        unsigned n = 0, skipped = 0;
        more = false;
        hki_lock(&hki_abandoned_lock);
        hk_segment_t *seg = abandoned_tail;
        while (seg != NULL && seg->cached_ms <= before_ms && skipped < HK_ADOPT_SCAN) {
            hk_segment_t *newer = seg->prev;
            if (seg->used_pages != 0) {
                skipped++; /* holds live blocks: claimed or adopted in time */
            } else if (n == HK_ADOPT_SCAN) {
                more = true; /* unmap these outside the lock, then go on */
                break;
            } else {
                abandoned_unlink(seg, NULL);
                victims[n++] = seg;
            }
            seg = newer;
        }
        hki_unlock(&hki_abandoned_lock);
        while (n > 0)
            hki_segment_release(victims[--n]);
    }
}

bool hki_abandoned_claim(hk_segment_t *seg, hk_heap_t *heap)
{
    hki_lock(&hki_abandoned_lock);
    bool ok = atomic_load_explicit(&seg->heap, memory_order_relaxed) == NULL;
    if (ok)
        abandoned_unlink(seg, heap);
    hki_unlock(&hki_abandoned_lock);
    return ok;
}

size_t hki_abandoned_count(void)
{
    return atomic_load_explicit(&abandoned_count, memory_order_relaxed);
}

/* Thread exit, before the final purge: with a purge delay, the heap's empty segments go
 * to the abandoned list as they are (still committed, like the empty segments of a live
 * heap: hki_segment_page_free), so the next thread's first allocations take them
 * (hki_abandoned_pop_kind) instead of mapping and faulting a fresh one; those nobody
 * takes are unmapped a purge delay later (hki_abandoned_expire). Without a delay the
 * final purge releases them. */
void hki_heap_abandon_empty(hk_heap_t *heap)
{
    if (hki_option(HK_OPT_PURGE_DELAY) == 0)
        return;
    for (unsigned k = 0; k < HK_KIND_COUNT && heap->empty_segs > 0; k++) {
        hk_segment_t *seg = heap->segs[k];
        while (seg != NULL) {
            hk_segment_t *nxt = seg->next;
            if (seg->used_pages == 0) {
                hki_segment_unlink(heap, seg);
                hki_abandoned_push(seg);
            }
            seg = nxt;
        }
    }
}
