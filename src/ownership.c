/*
 * ownership.c -- which heap owns a segment: the abandoned list and the handoffs between
 * heaps (abandon, claim, adopt, expire), and the process-wide checker.
 *
 * Design:      every small/medium/span segment is owned by one heap (seg->heap) or by
 *              nobody, on the abandoned list. (The heap of an exited thread keeps its
 *              segments while it waits for a new thread to continue it: heap.c
 *              "orphans"; they are OWNED by it all along.) A heap abandons a segment when
 *              it is dissolved (an orphan nobody took; or at thread exit without a purge
 *              delay), or when it would keep a second empty one; a segment comes back to a
 *              heap when a thread frees into it (claim: the blocks return to the thread
 *              that uses them), when a heap that needs a page adopts the oldest one
 *              (abandoned a purge delay ago), or when a heap about to map a fresh segment
 *              takes one of its kind: an empty one, else one with a single page in use or
 *              passed over HK_CLAIM_PATIENCE times already (the others are left to the
 *              threads that free into them). Empty segments nobody took within a purge delay expire
 *              (unmapped). Huge segments are owned by the marker hki_heap_huge (huge.c).
 *
 *              The states of a segment, and who moves it between them:
 *
 *                          hki_segment_new                 release (no delay, or purge)
 *                (unmapped) --------------> OWNED by heap H ---------------> (unmapped)
 *                                            |          ^
 *                            T1 abandon      |          |   T2 claim (a free into it)
 *                            (H: dissolved,  |          |   T3 adopt (pop, pop_kind)
 *                            second empty)   v          |   (any heap, under the lock)
 *                                           ABANDONED (heap == NULL, on the list)
 *                                            |
 *                                            | T4 expire (empty, abandoned >= a delay ago)
 *                                            v
 *                                        (unmapped)
 *
 *              The abandoned list (doubly linked through seg->next/prev, newest first):
 *
 *                abandoned_head                                    abandoned_tail
 *                     |                                                  |
 *                     v        next             next             next    v
 *                  +------+  -------> +------+ -------> ... --> +------+ ---> NULL
 *       NULL <---  | seg  |  <------- | seg  | <------- ...     | seg  |
 *           prev   +------+    prev   +------+    prev          +------+
 *                  cached_ms (when abandoned): non-increasing from head to tail
 *
 * Invariants:  (checked by hki_ownership_check, under hki_abandoned_lock)
 *   O1  a segment on the list has heap == NULL; heap is set to NULL (T1) and to the
 *       taker (T2, T3) only under hki_abandoned_lock, in the same critical section that
 *       links or unlinks it. (The one segment with heap == NULL off the list is one T4
 *       just unlinked and is releasing: it is empty, so no valid free reaches it.)
 *   O2  the list is well formed: head->prev == NULL, tail->next == NULL, x->next->prev
 *       == x, the walk from head ends at tail, and its length is abandoned_count.
 *   O3  cached_ms is non-increasing from head to tail (so "the oldest" is the tail and
 *       the scans from the tail stop at the first one too young).
 *   O4  a listed segment is registered and mapped, of a kind < HK_KIND_COUNT (never
 *       huge), with S2, S3 (types.h) intact: nobody changes its masks while it is here.
 * Who may touch a segment:
 *   OWNED by H   H's thread alone reads and writes its header, masks and list links;
 *                other threads only push on its pages' thread_free and read seg->heap.
 *                While H is an orphan nobody does; then the thread that takes H (its
 *                heir, or the one dissolving it: heap.c) is H's thread.
 *   ABANDONED    next, prev, cached_ms, passed_over only under the lock; kind, used_pages, free_mask,
 *                purge_mask are read under the lock (stable: no owner writes them);
 *                anyone still pushes on its pages' thread_free.
 * What each transition requires:
 *   T1 abandon   the caller owns seg and has unlinked it from its lists (which clears
 *                its free_seg if it named seg: S4).
 *   T2 claim     the caller holds a live block of seg (so T4 cannot take seg: it is not
 *                empty) and read heap == NULL; it wins only if heap is still NULL under
 *                the lock (another claim or adoption may have come first).
 *   T3 adopt     under the lock: unlink, heap = taker; then the taker links seg into
 *                its lists (hki_segment_take) and takes over its pages (heap.c).
 *   T4 expire    only empty segments (used_pages == 0) abandoned at or before the
 *                cutoff; unlinked under the lock, released after it.
 * Concurrency: the abandoned list and every seg->heap store: hki_abandoned_lock (a leaf
 *              lock). abandoned_count is also read without it (a hint: 0 = nothing to
 *              look at).
 * Complexity:  O(1) push, pop, claim; pop_kind and expire O(HK_ADOPT_SCAN); the checker
 *              O(abandoned segments + registry pages + huge cache).
 */
#include "config.h"
#include "ownership.h"

/* ---- abandoned segments ---- */

hk_lock_t hki_abandoned_lock = HK_LOCK_INIT;
static hk_segment_t *abandoned_head, *abandoned_tail; /* newest first */
static _Atomic size_t abandoned_count;

void hki_abandoned_push(hk_segment_t *seg)
{
    uint64_t now = hki_os_now_ms();
    hki_lock(&hki_abandoned_lock);
    /* O3: a thread that read the clock before another pushed must not stamp its
     * segment older than that newer one */
    if (abandoned_head != NULL && now < abandoned_head->cached_ms)
        now = abandoned_head->cached_ms;
    atomic_store_explicit(&seg->heap, NULL, memory_order_release);
    seg->prev = NULL;
    seg->next = abandoned_head;
    if (abandoned_head)
        abandoned_head->prev = seg;
    else
        abandoned_tail = seg;
    abandoned_head = seg;
    seg->cached_ms = now; /* abandoned since */
    seg->passed_over = 0;
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

hk_segment_t *hki_abandoned_pop_kind(hk_heap_t *heap, unsigned kind, unsigned patience)
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
        /* one holding a single page in use risks at most that page's frees turning remote;
         * one passed over `patience` times had its chance to be claimed by a free. Counted
         * in chances, not milliseconds: on a busy machine a new thread's first malloc can
         * come any time after its predecessor exited, and a clock window then let it take
         * the segment another new thread was about to claim (tests/robust/handoff). */
        if (fallback == NULL && (seg->passed_over >= patience || seg->used_pages <= 1))
            fallback = seg;
        else if (seg->passed_over < UINT8_MAX)
            seg->passed_over++;
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

/* ---- the heap side of the handoffs ---- */

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

void hki_heap_abandon_segments(hk_heap_t *heap)
{
    /* empty segments go to the abandoned list as they are, for the next thread (without
     * a purge delay they are released by the purge); the others' free slots are
     * returned now, in one madvise per run of adjacent slots (segment.c). Leaving them
     * committed until their deadline, as a live heap does, made thread churn faster
     * (no TLB shootdowns) but its peak RSS 2-4x: threads that live a few ms exit long
     * before a 100 ms deadline (bench thread_churn). */
    hki_heap_abandon_empty(heap);
    hki_heap_purge(heap, 0, true);
    /* the remaining segments hold live blocks: abandon them */
    hk_segment_t *seg;
    while ((seg = hki_segment_list_pop_any(heap)) != NULL) {
        heap->seg_count--;
        hki_abandoned_push(seg);
    }
}

void hki_segment_give_up(hk_segment_t *seg)
{
    /* Without a delay it goes at once; with one it joins the abandoned list, still
     * committed: any heap that would map a fresh segment of this kind takes it (a
     * program that frees everything and allocates again within the delay, or a new
     * thread, maps and faults nothing), and if it is left there a purge delay it is
     * unmapped (hki_abandoned_expire). */
    if (hki_option(HK_OPT_PURGE_DELAY) == 0)
        hki_segment_release(seg);
    else
        hki_abandoned_push(seg);
}

void hki_segment_take(hk_heap_t *heap, hk_segment_t *seg, hk_adopt_why_t why)
{
    if (why == HK_ADOPT_BY_FREE)
        hki_count(heap->handoff.claimed, 1);
    else if (why == HK_ADOPT_BY_MALLOC)
        hki_count(heap->handoff.adopted, 1);
    atomic_store_explicit(&seg->heap, heap, memory_order_release);
    if (seg->free_mask == 0)
        hki_segment_list_push(&heap->segs_full, seg);
    else
        hki_segment_list_push(&heap->segs[seg->kind], seg);
    heap->seg_count++;
    if (seg->used_pages == 0)
        heap->empty_segs++; /* an empty segment another heap gave up */
    heap->purge_pending += (size_t)__builtin_popcountll(seg->purge_mask);
    heap->warm_bytes += hki_segment_warm_bytes(seg);
    if (seg->purge_mask)
        heap->next_purge_ms = 0;
}

/* ---- checker (O1..O4, then R1 and H1..H3) ---- */

static int listed_segment_check(const hk_segment_t *seg, hki_check_fail_fn *fail, void *arg)
{
    const char *inv = "O4", *why = NULL;
    const char *slots_inv;
    const void *slots_at;
    if (atomic_load_explicit(&seg->heap, memory_order_relaxed) != NULL)
        inv = "O1", why = "abandoned segment with an owner";
    else if (!hki_registry_has((uintptr_t)seg) || !hki_os_is_mapped(seg))
        why = "abandoned segment not registered or not mapped";
    else if (seg->kind >= HK_KIND_COUNT)
        why = "abandoned segment of a bad kind (huge?)";
    else if (hki_segment_slots_check(seg, &slots_inv, &slots_at) != NULL)
        why = "abandoned segment whose pages, used_pages and slot masks disagree (S2, S3)";
    if (why == NULL)
        return 0;
    fail(arg, seg, inv, why);
    return 1;
}

/* O1..O4 under the lock. The walk stops at a broken link (O2) rather than follow it, and
 * after abandoned_count + 1 segments (a cycle). */
static int abandoned_check(hki_check_fail_fn *fail, void *arg)
{
    int errors = 0;
    hki_lock(&hki_abandoned_lock);
    size_t n = 0, count = atomic_load_explicit(&abandoned_count, memory_order_relaxed);
    const hk_segment_t *prev = NULL, *seg = abandoned_head;
    for (; seg != NULL && n <= count; prev = seg, seg = seg->next, n++) {
        if (((uintptr_t)seg & HK_SEG_MASK) != 0 || !hki_registry_has((uintptr_t)seg) ||
            !hki_os_is_mapped(seg) || seg->prev != prev) {
            fail(arg, seg, "O2", "abandoned list link broken (prev, or a segment not ours)");
            errors++;
            break;
        }
        errors += listed_segment_check(seg, fail, arg);
        if (prev != NULL && seg->cached_ms > prev->cached_ms) {
            fail(arg, seg, "O3", "abandoned segment younger than the one before it");
            errors++;
        }
    }
    if (errors == 0 && (prev != abandoned_tail || n != count || seg != NULL)) {
        fail(arg, abandoned_tail, "O2", "abandoned list: tail or count differs from the walk");
        errors++;
    }
    hki_unlock(&hki_abandoned_lock);
    return errors;
}

int hki_ownership_check(hki_check_fail_fn *fail, void *arg)
{
    return abandoned_check(fail, arg) + hki_registry_check(fail, arg) + hki_huge_check(fail, arg);
}
