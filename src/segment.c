/*
 * segment.c -- segments: the registry, slots and purging.
 *
 * Design:      a segment is 4 MiB aligned to 4 MiB, so any block address finds its
 *              segment header by masking. Before free() touches a header it checks the
 *              registry: one bit per 4 MiB of the user address space (4 MiB of .bss,
 *              touched only where segments live). A segment is cut into slots of one
 *              kind (types.h table); a heap takes slots for pages and gives them back;
 *              a span takes a run of them (types.h "Span segment layout", "spans" below).
 *              A free slot stays committed for HEAPKIT_PURGE_DELAY ms (purge_mask), then
 *              madvise(DONTNEED) returns it. A heap keeps one empty segment; a second
 *              one is unlinked and handed to the caller, which gives it up (released, or
 *              abandoned still committed: ownership.c, which also owns the abandoned
 *              list and the handoffs between heaps).
 * Layout:      types.h "Segment layout".
 * Invariants:  S1..S5 (types.h), checked by heapcheck.c (S2, S3: hki_segment_slots_check);
 *              R1  every segment whose registry bit is set is mapped (free() reads the
 *                  header of any pointer whose bit is set), checked by hki_registry_check.
 * Concurrency: registry bits: atomic OR/AND (set before a segment is used, cleared before
 *              it is unmapped). The rest: the owner heap.
 * Complexity:  O(1) slot alloc/free; a span's run O(span segments x their free holes)
 *              (best fit; a few mask operations each), its free O(slots of the run);
 *              purge O(segments) every HEAPKIT_PURGE_DELAY ms.
 */
#include "config.h"
#include "segment.h"

_Atomic uint64_t hki_registry[HK_REGISTRY_WORDS];
uintptr_t hki_key = 1;

/* ---- registry ---- */

void hki_registry_set(hk_segment_t *seg, bool on)
{
    uintptr_t i = (uintptr_t)seg >> HK_SEG_SHIFT;
    if (i >= HK_REGISTRY_BITS)
        hki_fatal("segment %p outside the registry range", (void *)seg);
    uint64_t bit = (uint64_t)1 << (i & 63);
    if (on)
        atomic_fetch_or_explicit(&hki_registry[i >> 6], bit, memory_order_release);
    else
        atomic_fetch_and_explicit(&hki_registry[i >> 6], ~bit, memory_order_release);
}

/* ---- segment lists (doubly linked, head pointer) ---- */

void hki_segment_list_push(hk_segment_t **list, hk_segment_t *seg)
{
    seg->prev = NULL;
    seg->next = *list;
    if (*list)
        (*list)->prev = seg;
    *list = seg;
}

void hki_segment_list_remove(hk_segment_t **list, hk_segment_t *seg)
{
    if (seg->prev)
        seg->prev->next = seg->next;
    else
        *list = seg->next;
    if (seg->next)
        seg->next->prev = seg->prev;
    seg->next = seg->prev = NULL;
}

hk_segment_t *hki_page_segment(const hk_page_t *page)
{
    return (hk_segment_t *)((uintptr_t)page & ~(uintptr_t)HK_SEG_MASK);
}

static const uint8_t kind_shift[HK_KIND_COUNT] = {HK_SMALL_PAGE_SHIFT, HK_MEDIUM_PAGE_SHIFT,
                                                  HK_SPAN_SLOT_SHIFT};

static void slot_area(const hk_segment_t *seg, unsigned slot, uintptr_t *start, size_t *size)
{
    uintptr_t base = (uintptr_t)seg;
    uintptr_t s = base + ((uintptr_t)slot << seg->page_shift);
    if (s < base + HK_SEG_HDR_SIZE)
        s = base + HK_SEG_HDR_SIZE;
    uintptr_t e = hki_slot_end(seg, slot);
    *start = s;
    *size = e > s ? e - s : 0;
}

/* The number of slots in bits: a page's single slot without the popcount (a libgcc call
 * on x86-64 without -mpopcnt, on every page taken and retired). */
static inline size_t slot_count(uint64_t bits)
{
    return (bits & (bits - 1)) == 0 ? (size_t)(bits != 0) : (size_t)__builtin_popcountll(bits);
}

/* The area of the slots `bits` of seg: slot_area's, summed without a loop (the first
 * slot's area starts after the header, the last one's stops at the guard page). */
static size_t slots_bytes(const hk_segment_t *seg, uint64_t bits)
{
    size_t bytes = slot_count(bits) << seg->page_shift;
    if (bits & 1u)
        bytes -= HK_SEG_HDR_SIZE < ((size_t)1 << seg->page_shift) ? HK_SEG_HDR_SIZE
                                                                 : (size_t)1 << seg->page_shift;
    if (HK_SEG_GUARD != 0 && ((bits >> (seg->page_count - 1u)) & 1u))
        bytes -= HK_SEG_GUARD;
    return bytes;
}

/* Bit L set iff free holds a maximal run of exactly L free slots (a hole; L <= 63: slot 0
 * of a span segment is the header, never free). A span segment keeps it in hole_lengths
 * (S3), so the search for a run of k slots skips a segment without one in two
 * instructions. */
static uint64_t hole_lengths(uint64_t free)
{
    uint64_t lens = 0;
    for (uint64_t h = free & ~(free << 1); h != 0; h &= h - 1) {
        unsigned i = (unsigned)__builtin_ctzll(h);
        lens |= (uint64_t)1 << ((unsigned)__builtin_ctzll(~(free >> i)) & 63u);
    }
    return lens;
}

static size_t header_commit_size(const hk_segment_t *seg)
{
    size_t ps = hki_os_page_size();
    size_t h = sizeof(hk_segment_t) + seg->page_count * sizeof(hk_page_t);
    return (h + ps - 1) & ~(ps - 1);
}

/* ---- creation and release ---- */

/* The secure build's guard pages (segment.h). Without them (mprotect refused, or an OS
 * page larger than the guard) the segment works the same, unguarded. */
static void segment_guard(hk_segment_t *seg)
{
    char *base = (char *)seg;
    if (hki_os_page_size() != HK_SEG_GUARD)
        return;
    (void)hki_os_guard(base + HK_SEG_HDR_SIZE - HK_SEG_GUARD, HK_SEG_GUARD);
    (void)hki_os_guard(base + HK_SEG_SIZE - HK_SEG_GUARD, HK_SEG_GUARD);
}

hk_segment_t *hki_segment_new(hk_heap_t *heap, unsigned kind)
{
    void *mem;
    if (hki_os_map_aligned(HK_SEG_SIZE, HK_SEG_SIZE, &mem) != 0)
        return NULL;
    hk_segment_t *seg = mem;
    if (HK_SEG_GUARD != 0)
        segment_guard(seg);
    seg->kind = (uint8_t)kind;
    seg->page_shift = kind_shift[kind];
    seg->page_count = (uint8_t)(HK_SEG_SIZE >> seg->page_shift);
    seg->used_pages = 0;
    seg->valid_mask = 0;
    /* The descriptors are not written here: the fresh mapping reads as zero, which is a
     * valid free slot (class 0, nothing carved: free() rejects any pointer into it), and
     * an untouched descriptor costs no memory. A slot's descriptor is set up when the
     * slot is first taken (hki_segment_page_alloc). */
    for (unsigned i = 0; i < seg->page_count; i++) {
        uintptr_t s;
        size_t sz;
        slot_area(seg, i, &s, &sz);
        if (sz > 0)
            seg->valid_mask |= (uint64_t)1 << i;
    }
    seg->free_mask = seg->valid_mask;
    seg->purge_mask = 0;
    seg->marked_mask = 0;
    seg->hole_lengths = kind == HK_KIND_SPAN ? hole_lengths(seg->free_mask) : 0;
    seg->map_size = HK_SEG_SIZE;
    seg->cached_ms = 0;
    atomic_store_explicit(&seg->heap, heap, memory_order_release);
    hki_registry_set(seg, true);
    hki_stat_mapped((ptrdiff_t)HK_SEG_SIZE);
    hki_stat_committed((ptrdiff_t)header_commit_size(seg));
    hki_segment_list_push(&heap->segs[kind], seg);
    heap->seg_count++;
    heap->empty_segs++;
    hki_verbose("new %s segment %p", kind == HK_KIND_SMALL ? "small" : kind == HK_KIND_MEDIUM ? "medium" : "span",
                (void *)seg);
    return seg;
}

/* Unmaps a segment that is in no list. */
void hki_segment_release(hk_segment_t *seg)
{
    size_t committed = header_commit_size(seg);
    for (unsigned i = 0; i < seg->page_count; i++) {
        if (seg->purge_mask & ((uint64_t)1 << i))
            committed += seg->pages[i].area_size;
    }
    hki_registry_set(seg, false);
    hki_stat_committed(-(ptrdiff_t)committed);
    hki_stat_mapped(-(ptrdiff_t)seg->map_size);
    hki_verbose("release segment %p", (void *)seg);
    hki_os_unmap(seg, seg->map_size);
}

size_t hki_segment_warm_bytes(const hk_segment_t *seg)
{
    return slots_bytes(seg, seg->purge_mask);
}

hk_segment_t *hki_segment_list_pop_any(hk_heap_t *heap)
{
    hk_segment_t **lists[HK_KIND_COUNT + 1] = {&heap->segs[0], &heap->segs[1], &heap->segs[2],
                                               &heap->segs_full};
    for (unsigned k = 0; k <= HK_KIND_COUNT; k++) {
        hk_segment_t *seg = *lists[k];
        if (seg != NULL) {
            hki_segment_list_remove(lists[k], seg);
            hki_heap_forget_segment(heap, seg);
            return seg;
        }
    }
    return NULL;
}

/* Removes a segment from its heap's lists. */
void hki_heap_forget_segment(hk_heap_t *heap, const hk_segment_t *seg)
{
    if (heap->free_seg == seg)
        heap->free_seg = HK_SEG_NONE;
    hk_segment_t **own = hki_own_slot(heap, seg);
    if (*own == seg)
        *own = HK_SEG_NONE;
}

void hki_segment_unlink(hk_heap_t *heap, hk_segment_t *seg)
{
    hki_heap_forget_segment(heap, seg);
    if (seg->free_mask == 0)
        hki_segment_list_remove(&heap->segs_full, seg);
    else
        hki_segment_list_remove(&heap->segs[seg->kind], seg);
    heap->seg_count--;
    if (seg->used_pages == 0)
        heap->empty_segs--;
    heap->purge_pending -= (size_t)__builtin_popcountll(seg->purge_mask);
    heap->warm_bytes -= hki_segment_warm_bytes(seg);
}

/* ---- slots ---- */

/* The bits of slots slot .. slot + k - 1 (k >= 1, slot + k <= 64). */
static inline uint64_t run_bits(unsigned slot, unsigned k)
{
    return (k >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << k) - 1) << slot;
}

/* Slots purged one after another are returned with one madvise per run of adjacent
 * slots: in a process with threads each madvise(DONTNEED) costs a TLB shootdown on every
 * core running it, so a thread exit that returns 40 free slots paid 40 of them. */
typedef struct purge_run_s {
    uintptr_t start, end;
} purge_run_t;

static void purge_run_flush(purge_run_t *run)
{
    if (run->end > run->start)
        hki_os_purge((void *)run->start, run->end - run->start);
    run->start = run->end = 0;
}

static void purge_slot(purge_run_t *run, hk_page_t *page)
{
    if (page->start != run->end)
        purge_run_flush(run);
    if (run->end == 0)
        run->start = page->start;
    run->end = page->start + page->area_size;
    /* (no freed mark to check: the slot reads as zeros from now on, S3) */
    hki_page_segment(page)->marked_mask &= ~((uint64_t)1 << page->slot);
    hki_stat_committed(-(ptrdiff_t)page->area_size);
}

/* A span's block, freed, still starts with its freed mark (S3): a write after free
 * changed it. Checked when a span takes the slot again, which would overwrite it. */
static HK_COLD void span_written_after_free(const hk_page_t *d)
{
    hk_assert_internal(d->class_idx == 0);
    hki_fatal("heap corruption: the freed block at %p was written after free (its first "
              "word changed; found when its slots were taken again)",
              (void *)d->start);
}

/* Takes the free slots `bits` of seg for a page (or a span's run, or its growth): a slot
 * still committed leaves the purge list, the others count as committed now; a segment
 * left without a free slot moves to the heap's full list. */
static void slots_take(hk_heap_t *heap, hk_segment_t *seg, uint64_t bits)
{
    hk_assert_internal((seg->free_mask & bits) == bits);
    for (uint64_t m = bits & seg->marked_mask; m; m &= m - 1) {
        const hk_page_t *d = &seg->pages[__builtin_ctzll(m)];
        if (((const hk_block_t *)d->start)->next_enc != d->key)
            span_written_after_free(d);
    }
    uint64_t warm = bits & seg->purge_mask;
    heap->purge_pending -= slot_count(warm);
    heap->warm_bytes -= slots_bytes(seg, warm); /* (S5) */
    hki_stat_committed((ptrdiff_t)slots_bytes(seg, bits & ~warm));
    seg->marked_mask &= ~bits;
    seg->purge_mask &= ~bits;
    seg->free_mask &= ~bits;
    if (seg->kind == HK_KIND_SPAN)
        seg->hole_lengths = hole_lengths(seg->free_mask);
    if (seg->free_mask == 0) {
        hki_segment_list_remove(&heap->segs[seg->kind], seg);
        hki_segment_list_push(&heap->segs_full, seg);
    }
}

/* Gives the slots `bits` of seg back to its free mask, their descriptors those of free
 * slots (start and area of the slot alone; the caller resets a page's own fields):
 * purged now (one madvise per run of adjacent slots) with purge_now or without a purge
 * delay, else kept committed until their deadline (purge_mask). Returns the clock it
 * read, or 0. */
static uint64_t slots_release(hk_heap_t *heap, hk_segment_t *seg, uint64_t bits, bool purge_now)
{
    hk_assert_internal((seg->free_mask & bits) == 0);
    bool was_full = seg->free_mask == 0;
    long delay = hki_option(HK_OPT_PURGE_DELAY);
    bool purge = purge_now || delay == 0;
    uint64_t now = 0, expire = UINT64_MAX;
    if (!purge) {
        now = hki_os_now_ms();
        expire = delay < 0 ? UINT64_MAX : now + (uint64_t)delay;
    }
    purge_run_t run = {0, 0};
    for (uint64_t m = bits; m; m &= m - 1) {
        unsigned i = (unsigned)__builtin_ctzll(m);
        hk_page_t *d = &seg->pages[i];
        d->slot = (uint8_t)i;
        slot_area(seg, i, &d->start, &d->area_size);
        if (purge)
            purge_slot(&run, d);
        else
            d->expire_ms = expire;
    }
    purge_run_flush(&run);
    seg->free_mask |= bits;
    if (seg->kind == HK_KIND_SPAN)
        seg->hole_lengths = hole_lengths(seg->free_mask);
    if (!purge) {
        heap->purge_pending += slot_count(bits);
        heap->warm_bytes += slots_bytes(seg, bits);
        seg->purge_mask |= bits;
        if (expire < heap->next_purge_ms)
            heap->next_purge_ms = expire;
    }
    if (was_full) {
        hki_segment_list_remove(&heap->segs_full, seg);
        hki_segment_list_push(&heap->segs[seg->kind], seg);
    }
    return now;
}

/* The segment of `kind` a new page goes to: the first with a slot still committed (no
 * page faults), else the one with the most pages in use, among the first HK_ADOPT_SCAN
 * of the heap's list. Packing pages into the fullest segments lets the others empty and
 * go: a heap that took segments over from exited threads (heap.c "orphans") otherwise put
 * its new pages in whichever it took last, spreading sparse pages over ever more
 * segments (thread_churn-4t: peak RSS 25 MiB instead of 19). */
static hk_segment_t *segment_for_page(hk_heap_t *heap, unsigned kind)
{
    hk_segment_t *best = heap->segs[kind];
    if (best == NULL || (best->free_mask & best->purge_mask) != 0)
        return best;
    hk_segment_t *seg = best->next;
    for (unsigned i = 1; seg != NULL && i < HK_ADOPT_SCAN; i++, seg = seg->next) {
        if (seg->free_mask & seg->purge_mask)
            return seg;
        if (seg->used_pages > best->used_pages)
            best = seg;
    }
    return best;
}

hk_page_t *hki_segment_page_alloc(hk_heap_t *heap, unsigned kind)
{
    hk_assert_internal(kind != HK_KIND_SPAN);
    hk_segment_t *seg = segment_for_page(heap, kind);
    if (seg == NULL) {
        seg = hki_segment_new(heap, kind);
        if (seg == NULL)
            return NULL;
    }
    hk_assert_internal(seg->free_mask != 0);
    uint64_t warm = seg->free_mask & seg->purge_mask;
    unsigned slot = (unsigned)__builtin_ctzll(warm ? warm : seg->free_mask);
    hk_page_t *page = &seg->pages[slot];
    page->slot = (uint8_t)slot; /* (first use of the descriptor: see hki_segment_new) */
    slot_area(seg, slot, &page->start, &page->area_size);
    slots_take(heap, seg, (uint64_t)1 << slot);
    if (seg->used_pages++ == 0)
        heap->empty_segs--;
    return page;
}

hk_segment_t *hki_segment_page_free(hk_heap_t *heap, hk_page_t *page, bool purge_now)
{
    hk_segment_t *seg = hki_page_segment(page), *surplus = NULL;
    uint64_t bits = run_bits(page->slot, page->run_slots != 0 ? page->run_slots : 1u);
    bool span = page->run_slots != 0;
    /* reset to the "free slot" state: no class, nothing carved (free() rejects it) */
    page->class_idx = 0;
    page->run_slots = 0;
    hki_page_set_start_limit(page, 0);
    page->free = page->local_free = NULL;
    page->capacity = 0;
    page->in_full = 0;
    page->report_at = 0;
    hki_page_set_used(page, 0);
    page->div_magic = 1;
    uint64_t now = slots_release(heap, seg, bits, purge_now);
    /* A span's block starts with its freed mark now (the free wrote its link: NULL ^ key):
     * kept committed, the slot remembers it (marked_mask, S3) so that a span taking the
     * slot again finds a write after free (slots_take). */
    if (span && ((seg->purge_mask >> page->slot) & 1u) &&
        ((const hk_block_t *)page->start)->next_enc == page->key)
        seg->marked_mask |= (uint64_t)1 << page->slot;
    if (--seg->used_pages == 0) {
        heap->empty_segs++;
        /* Keep one empty segment per heap for good; the caller hands the others on
         * (hki_segment_give_up, ownership.c). Unlinked now, so that the purge below
         * does not see it. */
        if (heap->empty_segs > 1) {
            hki_segment_unlink(heap, seg);
            surplus = seg;
        }
    }
    /* Purge what expired: here too, not only in malloc's slow path, so that a thread
     * that mostly frees returns memory on time (the clock was read above). */
    if (now != 0 && heap->next_purge_ms <= now)
        hki_heap_purge(heap, now, false);
    return surplus;
}

/* ---- spans (types.h "Span segment layout") ---- */

/* Bit i of the result is set iff slots i .. i + k - 1 are all in m (1 <= k <= 64): each
 * step doubles the length of the runs the bits stand for (m & m >> len), and a last
 * overlapping step (k - len <= len) makes it exactly k; four steps at most for 16. */
static inline uint64_t run_starts(uint64_t m, unsigned k)
{
    unsigned len = 1;
    while (2 * len <= k) {
        m &= m >> len;
        len *= 2;
    }
    if (len < k)
        m &= m >> (k - len);
    return m;
}

/* The starts of the runs of k free slots of seg (among `avail`) that hold a block of bs
 * bytes: in the secure build the run that ends at the segment's last slot stops at the
 * guard page (hki_slot_end), which a block of k whole slots does not leave room for. */
static uint64_t span_starts(const hk_segment_t *seg, uint64_t avail, unsigned k, size_t bs)
{
    uint64_t starts = run_starts(avail, k);
    if (HK_SEG_GUARD != 0 && bs > ((size_t)k << HK_SPAN_SLOT_SHIFT) - HK_SEG_GUARD)
        starts &= ~((uint64_t)1 << (seg->page_count - k));
    return starts;
}

hk_page_t *hki_segment_span_alloc(hk_heap_t *heap, unsigned k, size_t bs)
{
    /* The first segment with a free hole of exactly k slots (it cuts no larger hole),
     * there the one whose slots are all still committed if it has one (no page faults);
     * else the first segment with a larger hole, there a run of k committed slots if it
     * has one, else the lowest run (the rest of the hole stays together). A segment
     * without a hole of k or more costs two instructions (hole_lengths). */
    hk_segment_t *pick = NULL;
    uint64_t pick_starts = 0;
    for (hk_segment_t *seg = heap->segs[HK_KIND_SPAN]; seg != NULL; seg = seg->next) {
        uint64_t lens = seg->hole_lengths >> k;
        if (lens == 0 || (pick != NULL && (lens & 1u) == 0))
            continue;
        uint64_t free = seg->free_mask;
        uint64_t starts = span_starts(seg, free, k, bs);
        uint64_t exact = starts & ~(free << 1) & ~(free >> k); /* (bounded on both sides) */
        uint64_t fit = exact != 0 ? exact : starts;
        if (fit == 0)
            continue; /* (the secure build: only a run ending at the guard page) */
        uint64_t warm = fit & run_starts(seg->purge_mask, k);
        pick = seg;
        pick_starts = warm != 0 ? warm : fit;
        if (exact != 0)
            break;
    }
    if (pick == NULL)
        return NULL;
    unsigned slot = (unsigned)__builtin_ctzll(pick_starts);
    hk_page_t *page = &pick->pages[slot];
    page->slot = (uint8_t)slot;
    page->run_slots = (uint8_t)k;
    slot_area(pick, slot, &page->start, &page->area_size); /* (the slot's, as when free) */
    slots_take(heap, pick, run_bits(slot, k));
    if (pick->used_pages++ == 0)
        heap->empty_segs--;
    return page;
}

bool hki_segment_span_resize(hk_heap_t *heap, hk_page_t *page, unsigned k, size_t bs)
{
    hk_segment_t *seg = hki_page_segment(page);
    unsigned slot = page->slot, old = page->run_slots;
    hk_assert_internal(old != 0 && k != 0);
    if (slot + k > seg->page_count || page->start + bs > hki_slot_end(seg, slot + k - 1))
        return false; /* (the secure build: a run ending at the guard page, span_starts) */
    if (k > old) {
        uint64_t more = run_bits(slot + old, k - old);
        if ((seg->free_mask & more) != more)
            return false;
        slots_take(heap, seg, more);
    } else if (k < old) {
        slots_release(heap, seg, run_bits(slot + k, old - k), false);
    }
    page->run_slots = (uint8_t)k;
    page->area_size = hki_slot_end(seg, slot + k - 1) - page->start;
    return true;
}

hk_page_t *hki_span_of(hk_segment_t *seg, const void *addr)
{
    unsigned i = (unsigned)(((uintptr_t)addr & HK_SEG_MASK) >> HK_SPAN_SLOT_SHIFT);
    if (seg->kind != HK_KIND_SPAN || i == 0 || ((seg->free_mask >> i) & 1u) != 0)
        return NULL;
    for (unsigned j = i; j >= 1; j--) {
        hk_page_t *page = &seg->pages[j];
        if (page->run_slots != 0)
            return j + page->run_slots > i ? page : NULL;
    }
    return NULL;
}

const char *hki_segment_slots_check(const hk_segment_t *seg, const char **inv, const void **addr)
{
    uint64_t in_use = seg->valid_mask & ~seg->free_mask, covered = 0;
    unsigned pages = 0;
    *inv = "S3";
    *addr = seg;
    if ((seg->free_mask & ~seg->valid_mask) != 0)
        return "free_mask outside valid_mask";
    if ((seg->purge_mask & ~seg->free_mask) != 0)
        return "purge_mask not a subset of free_mask";
    if ((seg->marked_mask & ~seg->purge_mask) != 0)
        return "marked_mask not a subset of purge_mask";
    *inv = "S2";
    for (unsigned i = 0; i < seg->page_count; i++) {
        const hk_page_t *page = &seg->pages[i];
        uint64_t bit = (uint64_t)1 << i;
        *addr = (const void *)((uintptr_t)seg + ((uintptr_t)i << seg->page_shift));
        if (covered & bit) {
            if (page->class_idx != 0 || page->run_slots != 0 || hki_page_start_limit(page) != 0)
                return "interior slot of a span with a class, a run or carved blocks";
            continue;
        }
        if (page->class_idx == 0) {
            if (in_use & bit)
                return "slot in use by no page";
            if (page->run_slots != 0 || hki_page_start_limit(page) != 0) {
                *inv = "S3";
                return "free slot with a run or carved blocks";
            }
            if (((seg->marked_mask >> i) & 1u) &&
                ((const hk_block_t *)page->start)->next_enc != page->key) {
                *inv = "S3";
                return "a freed span's first word changed (a write after free)";
            }
            continue;
        }
        unsigned k = page->run_slots != 0 ? page->run_slots : 1u;
        if ((page->run_slots != 0) != (seg->kind == HK_KIND_SPAN))
            return "run_slots and the segment kind disagree";
        if (i + k > seg->page_count || (in_use & run_bits(i, k)) != run_bits(i, k))
            return "page on a slot or run not in use";
        covered |= run_bits(i, k);
        pages++;
    }
    *addr = seg;
    if (pages != seg->used_pages)
        return "used_pages differs from the pages on the slots";
    *inv = "S3";
    if (seg->hole_lengths != (seg->kind == HK_KIND_SPAN ? hole_lengths(seg->free_mask) : 0))
        return "hole_lengths differs from the free holes of free_mask";
    return NULL;
}

/* ---- purging ---- */

/* Have all of seg's free-but-committed slots passed their purge deadline? */
static bool segment_expired(const hk_segment_t *seg, uint64_t now, bool force)
{
    if (force)
        return true;
    for (uint64_t m = seg->purge_mask; m; m &= m - 1) {
        if (seg->pages[__builtin_ctzll(m)].expire_ms > now)
            return false;
    }
    return true;
}

/* Purges seg's free slots whose deadline passed (all with force); returns how many, adds
 * their bytes to *bytes and lowers *next to the earliest deadline left. */
static unsigned purge_slots(hk_segment_t *seg, uint64_t now, bool force, uint64_t *next,
                            size_t *bytes)
{
    unsigned n = 0;
    purge_run_t run = {0, 0};
    for (uint64_t m = seg->purge_mask; m; m &= m - 1) {
        unsigned slot = (unsigned)__builtin_ctzll(m);
        hk_page_t *page = &seg->pages[slot];
        if (force || page->expire_ms <= now) {
            purge_slot(&run, page);
            seg->purge_mask &= ~((uint64_t)1 << slot);
            *bytes += page->area_size;
            n++;
        } else if (page->expire_ms < *next) {
            *next = page->expire_ms;
        }
    }
    purge_run_flush(&run);
    return n;
}

static size_t purge_list(hk_heap_t *heap, hk_segment_t *seg, uint64_t now, bool force,
                         uint64_t *next)
{
    size_t purged = 0;
    while (seg != NULL) {
        hk_segment_t *nxt = seg->next;
        if (seg->used_pages == 0 && (force || heap->empty_segs > 1) &&
            segment_expired(seg, now, force)) {
            /* an empty segment (beyond the one we keep) whose slots all expired: unmap it
             * whole instead of purging slot by slot */
            for (uint64_t m = seg->purge_mask; m; m &= m - 1)
                purged += seg->pages[__builtin_ctzll(m)].area_size;
            hki_segment_unlink(heap, seg);
            hki_segment_release(seg);
            seg = nxt;
            continue;
        }
        size_t slots = 0;
        heap->purge_pending -= purge_slots(seg, now, force, next, &slots);
        heap->warm_bytes -= slots;
        purged += slots;
        seg = nxt;
    }
    return purged;
}

size_t hki_heap_purge(hk_heap_t *heap, uint64_t now, bool force)
{
    uint64_t next = UINT64_MAX;
    size_t purged = 0;
    for (unsigned k = 0; k < HK_KIND_COUNT; k++)
        purged += purge_list(heap, heap->segs[k], now, force, &next);
    heap->next_purge_ms = next;
    return purged;
}

size_t hki_heap_purge_warm(hk_heap_t *heap, size_t keep)
{
    size_t purged = 0;
    for (unsigned k = 0; k < HK_KIND_COUNT && heap->warm_bytes > keep; k++) {
        for (hk_segment_t *seg = heap->segs[k]; seg != NULL && heap->warm_bytes > keep; seg = seg->next) {
            purge_run_t run = {0, 0};
            for (uint64_t m = seg->purge_mask; m && heap->warm_bytes > keep; m &= m - 1) {
                unsigned slot = (unsigned)__builtin_ctzll(m);
                hk_page_t *page = &seg->pages[slot];
                purge_slot(&run, page);
                seg->purge_mask &= ~((uint64_t)1 << slot);
                heap->purge_pending--;
                heap->warm_bytes -= page->area_size;
                purged += page->area_size;
            }
            purge_run_flush(&run);
        }
    }
    return purged;
}

/* ---- checker (R1) ---- */

/* Scans the registry words on resident pages of the bit array only (a page never written
 * holds no bit), and asks the OS whether each registered segment is mapped. A bit cleared
 * while we look is not a violation: its segment was being released. */
int hki_registry_check(hki_check_fail_fn *fail, void *arg)
{
    size_t ps = hki_os_page_size();
    uintptr_t lo = (uintptr_t)hki_registry & ~(uintptr_t)(ps - 1);
    uintptr_t end = (uintptr_t)(hki_registry + HK_REGISTRY_WORDS);
    size_t pages = (end - lo + ps - 1) / ps;
    unsigned char vec[sizeof hki_registry / 4096 + 2];
    bool all = pages > sizeof vec || hki_os_resident((void *)lo, pages * ps, vec) != 0;
    int errors = 0;
    for (size_t w = 0; w < HK_REGISTRY_WORDS; w++) {
        size_t pg = ((uintptr_t)&hki_registry[w] - lo) / ps;
        if (!all && !(vec[pg] & 1u)) {
            w = (lo + (pg + 1) * ps - (uintptr_t)hki_registry) / sizeof hki_registry[0] - 1;
            continue; /* the next word is the first of the next page */
        }
        for (uint64_t bits = hk_relaxed_load(&hki_registry[w]); bits; bits &= bits - 1) {
            uintptr_t seg = ((uintptr_t)w * 64 + (uintptr_t)__builtin_ctzll(bits)) << HK_SEG_SHIFT;
            if (!hki_os_is_mapped((void *)seg) && hki_registry_has(seg)) {
                fail(arg, (void *)seg, "R1", "registry bit set for an unmapped segment");
                errors++;
            }
        }
    }
    return errors;
}
