/*
 * huge.c -- blocks above 1 MiB (or with alignment > 64 KiB): one mapping each.
 *
 * Design:      a huge block lives in its own segment-aligned mapping, header first
 *              (types.h "Huge segment layout"), so free() finds and validates it like any
 *              block. Freed mappings go to a cache (HK_HUGE_CACHE_COUNT entries,
 *              HEAPKIT_HUGE_CACHE MiB in total) and are unmapped after
 *              HEAPKIT_PURGE_DELAY ms, so a malloc/free loop of one large size makes no
 *              system call. A cached segment stays in the registry with carved = 0, which
 *              makes a second free report "double free". When the OS refuses a mapping,
 *              the caller gives back the cache and the calling thread's unused segments
 *              and tries once more (alloc.c, hki_reclaim). realloc grows with mremap: in
 *              place when the address space after the block is free, otherwise the pages
 *              move (no copy) to a new aligned address.
 *              Alignments of a segment or more ("far" blocks, below) put the block one
 *              segment after its header.
 * Invariants:  of the cache, under hki_huge_lock (checked by hki_huge_check):
 *                H1  cache_count <= HK_HUGE_CACHE_COUNT, cache_nonempty == cache_count,
 *                    cache_bytes == the sum of the cached segments' map_size
 *                H2  a cached segment is registered and mapped, of kind huge, owned by
 *                    hki_heap_huge, with carved == 0 (a free into it reports), and its
 *                    map_size is a multiple of the OS page size above its header
 *                H3  no segment is cached twice
 *              and F1, F2 of the far blocks (below).
 * Concurrency: no owner; the cache is under hki_huge_lock (a leaf lock).
 * Complexity:  O(cached mappings) per operation (HK_HUGE_CACHE_COUNT at most, and no more
 *              than HEAPKIT_HUGE_CACHE MiB / 128 KiB) plus the system calls.
 */
#include "config.h"
#include "huge.h"
#include "track.h"

#include <errno.h>
#include <string.h>

hk_lock_t hki_huge_lock = HK_LOCK_INIT;
hk_heap_t hki_heap_huge;
static hk_segment_t *cache[HK_HUGE_CACHE_COUNT];
static size_t cache_count;
static size_t cache_bytes;
static _Atomic size_t cache_nonempty;
static _Atomic size_t huge_live_count;
static _Atomic size_t huge_live_bytes;

static size_t round_os(size_t n)
{
    size_t ps = hki_os_page_size();
    return (n + ps - 1) & ~(ps - 1);
}

/* The secure build puts an inaccessible OS page on both sides of every huge block
 * (segment.h "guard pages"): the mapping's last page, so an overflow past the block faults
 * there instead of running into the next mapping (map_size counts it; the block stops
 * short of it), and the page before the block, which starts two pages or more after the
 * header (block_offset), so an underflow faults before it reaches the header. */
static size_t guard_size(void)
{
    return HK_SEG_GUARD != 0 ? hki_os_page_size() : 0;
}

static void guard_tail(hk_segment_t *seg, size_t map_size)
{
    size_t g = guard_size();
    if (g != 0)
        (void)hki_os_guard((char *)seg + map_size - g, g);
}

/* The page before a block at offset: guarded, or made accessible again (the mapping is
 * one again for mremap, or the block moves: a cached mapping taken at another offset). */
static void guard_head(hk_segment_t *seg, size_t offset, bool on)
{
    size_t g = guard_size();
    if (g != 0)
        (void)(on ? hki_os_guard : hki_os_unguard)((char *)seg + offset - g, g);
}

/* The mapped bytes for a block of n bytes at offset: whole OS pages, and the guard. */
static size_t huge_map_size(size_t offset, size_t n)
{
    return round_os(offset + n) + guard_size();
}

#if HK_SECURE
/* HEAPKIT_QUARANTINE (secure build): a block waiting in the cache is inaccessible, from
 * its first whole OS page to its end, until a malloc takes its mapping: a read or a write
 * after free faults there (the header page stays readable: a second free reports). */
static void cached_block_protect(hk_segment_t *seg, bool protect)
{
    if (hki_option(HK_OPT_QUARANTINE) == 0)
        return;
    uintptr_t first = round_os(seg->pages[0].start);
    uintptr_t end = seg->pages[0].start + seg->pages[0].block_size;
    if (end > first)
        (void)(protect ? hki_os_guard : hki_os_unguard)((void *)first, end - first);
}
#else
#define cached_block_protect(seg, protect) ((void)0)
#endif

static size_t block_offset(size_t align)
{
    size_t min = guard_size() != 0 ? 2 * guard_size() : HK_HUGE_HDR_SIZE; /* header, guard */
    return align > min ? align : min;
}

static void huge_setup(hk_segment_t *seg, size_t map_size, size_t offset)
{
    seg->kind = HK_KIND_HUGE;
    seg->page_shift = 63;
    seg->page_count = 1;
    seg->used_pages = 1;
    seg->valid_mask = 1;
    seg->free_mask = 0;
    seg->purge_mask = 0;
    seg->marked_mask = 0;
    seg->map_size = map_size;
    seg->next = seg->prev = NULL;
    hk_page_t *page = &seg->pages[0];
    page->free = page->local_free = NULL;
    page->capacity = page->reserved = 1;
    page->key = hki_key;
    page->start = (uintptr_t)seg + offset;
    page->block_size = map_size - offset - guard_size();
    page->area_size = page->block_size;
    page->div_magic = hki_block_magic(HK_MIN_ALIGN); /* (one block: start_limit = its step) */
    page->class_idx = 0;
    page->in_full = 0;
    page->report_at = 0;
    hki_page_set_used(page, 1);
    page->slot = 0;
    atomic_store_explicit(&page->thread_free, 0, memory_order_relaxed);
    ((hk_block_t *)page->start)->next_enc = 0;
    atomic_store_explicit(&seg->heap, &hki_heap_huge, memory_order_relaxed);
    hki_page_set_start_limit(page, hki_block_step(HK_MIN_ALIGN)); /* the block is live */
}

static void huge_unmap(hk_segment_t *seg)
{
    size_t size = seg->map_size;
    hki_registry_set(seg, false);
    hki_stat_mapped(-(ptrdiff_t)size);
    hki_stat_committed(-(ptrdiff_t)size);
    hki_os_unmap(seg, size);
}

/* Resizes seg's mapping to size bytes, moving it when it grows and cannot grow in place;
 * *out is the segment that holds the block afterwards (seg itself if the call failed).
 * The registry bit is cleared BEFORE a call that may move the mapping: once mremap has
 * moved the pages, another thread can map a fresh segment at the old address at once,
 * and clearing the bit after that would disown that segment's blocks. */
static int huge_remap(hk_segment_t *seg, size_t old, size_t size, hk_segment_t **out)
{
    bool may_move = size > old;
    size_t g = guard_size(), offset = seg->pages[0].start - (uintptr_t)seg;
    if (g != 0) { /* one mapping again: mremap moves or resizes one at a time */
        (void)hki_os_unguard((char *)seg + old - g, g);
        guard_head(seg, offset, false);
    }
    if (may_move)
        hki_registry_set(seg, false);
    void *mem;
    int err = hki_os_remap(seg, old, size, HK_SEG_SIZE, may_move, &mem);
    *out = err ? seg : mem;
    if (may_move)
        hki_registry_set(*out, true);
    guard_tail(*out, err ? old : size);
    guard_head(*out, offset, true);
    return err;
}

/* Takes a cached mapping for a block needing `size` mapped bytes. Preference: the
 * smallest mapping of size..4*size bytes (as is, no system call); else the smallest larger
 * one, shrunk in place; else the largest smaller one, grown with mremap (in place or moved
 * without copying). Reusing a mapping keeps its pages resident: the block costs no page
 * faults where the old one was touched, which is most of the cost of a huge block. */
static hk_segment_t *cache_take(size_t size)
{
    if (atomic_load_explicit(&cache_nonempty, memory_order_relaxed) == 0)
        return NULL;
    size_t best_i = HK_HUGE_CACHE_COUNT, small_i = HK_HUGE_CACHE_COUNT;
    hki_lock(&hki_huge_lock);
    for (size_t i = 0; i < cache_count; i++) {
        size_t m = cache[i]->map_size;
        if (m >= size) {
            if (best_i == HK_HUGE_CACHE_COUNT || m < cache[best_i]->map_size)
                best_i = i;
        } else if (small_i == HK_HUGE_CACHE_COUNT || m > cache[small_i]->map_size) {
            small_i = i;
        }
    }
    size_t i = best_i != HK_HUGE_CACHE_COUNT ? best_i : small_i;
    hk_segment_t *seg = NULL;
    if (i != HK_HUGE_CACHE_COUNT) {
        seg = cache[i];
        cache[i] = cache[--cache_count];
        cache_bytes -= seg->map_size;
        atomic_store_explicit(&cache_nonempty, cache_count, memory_order_relaxed);
    }
    hki_unlock(&hki_huge_lock);
    if (seg != NULL)
        cached_block_protect(seg, false); /* (before anything resizes the mapping) */
    if (seg == NULL || (seg->map_size >= size && seg->map_size / 4 <= size))
        return seg;
    size_t old = seg->map_size, offset = seg->pages[0].start - (uintptr_t)seg;
    hk_segment_t *nseg;
    if (huge_remap(seg, old, size, &nseg) != 0) {
        huge_unmap(seg);
        return NULL;
    }
    nseg->map_size = size;
    /* start is an address: moved with the mapping (the caller's guard_head of the old
     * offset must not reach the old, unmapped or reused, place) */
    nseg->pages[0].start = (uintptr_t)nseg + offset;
    hki_stat_mapped((ptrdiff_t)size - (ptrdiff_t)old);
    hki_stat_committed((ptrdiff_t)size - (ptrdiff_t)old);
    return nseg;
}

/* ---- far blocks: alignment >= HK_SEG_SIZE ----
 *
 *   seg (registry bit set)           p = seg + 4 MiB, a multiple of the alignment
 *   | header | (untouched)           | block ...                              |
 *   +--------+-----------------------+----------------------------------------+
 *   <------------- 4 MiB ------------>                           seg + map_size
 *
 * Such a block starts on a segment boundary, so p & ~(4 MiB - 1) is p itself, not a
 * header, and the registry has no bit for it. far_bits (a bitmap like the registry,
 * mapped on the first far block) has one, for p's segment number: only the paths that
 * already missed the registry (free's cold path, hki_block_validate) look there.
 * Invariants (checked by hki_huge_check, under hki_huge_lock):
 *   F1  far bit of segment number g set => segment g-1 is in the registry, is huge, and
 *       its block starts at g * 4 MiB; every set bit lies in [far_lo, far_hi].
 *   F2  a far block is never in the cache and never moved by mremap (it is unmapped on
 *       free, and realloc copies), so its far bit is set once and cleared once.
 * Cost: 4 MiB of address space for the header (one page of it resident). */
static _Atomic uint64_t *_Atomic far_bits;
static _Atomic uintptr_t far_lo = UINTPTR_MAX, far_hi; /* segment numbers ever set */

static bool is_far(const hk_segment_t *seg)
{
    return seg->pages[0].start - (uintptr_t)seg >= HK_SEG_SIZE;
}

static bool far_bits_ready(void)
{
    if (atomic_load_explicit(&far_bits, memory_order_acquire) != NULL)
        return true;
    void *mem;
    if (hki_os_map_aligned(HK_REGISTRY_WORDS * sizeof(uint64_t), hki_os_page_size(), &mem) != 0)
        return false;
    _Atomic uint64_t *none = NULL;
    if (!atomic_compare_exchange_strong_explicit(&far_bits, &none, mem, memory_order_acq_rel,
                                                 memory_order_acquire))
        hki_os_unmap(mem, HK_REGISTRY_WORDS * sizeof(uint64_t)); /* another thread won */
    return true;
}

static void far_bit_set(uintptr_t block, bool on)
{
    _Atomic uint64_t *bits = atomic_load_explicit(&far_bits, memory_order_acquire);
    uintptr_t g = block >> HK_SEG_SHIFT;
    uint64_t bit = (uint64_t)1 << (g & 63);
    if (!on) {
        atomic_fetch_and_explicit(&bits[g >> 6], ~bit, memory_order_release);
        return;
    }
    uintptr_t lo = atomic_load_explicit(&far_lo, memory_order_relaxed);
    while (g < lo && !atomic_compare_exchange_weak_explicit(&far_lo, &lo, g, memory_order_relaxed,
                                                            memory_order_relaxed)) {
    }
    uintptr_t hi = atomic_load_explicit(&far_hi, memory_order_relaxed);
    while (g > hi && !atomic_compare_exchange_weak_explicit(&far_hi, &hi, g, memory_order_relaxed,
                                                            memory_order_relaxed)) {
    }
    atomic_fetch_or_explicit(&bits[g >> 6], bit, memory_order_release);
}

hk_segment_t *hki_huge_far_of(const void *p)
{
    _Atomic uint64_t *bits = atomic_load_explicit(&far_bits, memory_order_acquire);
    uintptr_t g = (uintptr_t)p >> HK_SEG_SHIFT;
    if (bits == NULL || g == 0 || g >= HK_REGISTRY_BITS)
        return NULL;
    if (!((atomic_load_explicit(&bits[g >> 6], memory_order_acquire) >> (g & 63)) & 1))
        return NULL;
    uintptr_t seg = (g - 1) << HK_SEG_SHIFT;
    return hki_registry_has(seg) ? (hk_segment_t *)seg : NULL;
}

/* F1 over the range of segment numbers ever used, F2 over the cache; under
 * hki_huge_lock (a far free clears its bit under it before unmapping). */
static int far_check(hki_check_fail_fn *fail, void *arg)
{
    _Atomic uint64_t *bits = atomic_load_explicit(&far_bits, memory_order_acquire);
    if (bits == NULL)
        return 0;
    int errors = 0;
    uintptr_t lo = atomic_load_explicit(&far_lo, memory_order_relaxed);
    uintptr_t hi = atomic_load_explicit(&far_hi, memory_order_relaxed);
    for (uintptr_t w = lo >> 6; lo <= hi && w <= hi >> 6; w++) {
        uint64_t word = atomic_load_explicit(&bits[w], memory_order_acquire);
        for (; word != 0; word &= word - 1) {
            uintptr_t g = w * 64 + (uintptr_t)__builtin_ctzll(word);
            hk_segment_t *seg = (hk_segment_t *)((g - 1) << HK_SEG_SHIFT);
            if (g < lo || g > hi || g == 0 || !hki_registry_has((uintptr_t)seg) ||
                seg->kind != HK_KIND_HUGE || seg->pages[0].start != g << HK_SEG_SHIFT) {
                fail(arg, (void *)(g << HK_SEG_SHIFT), "F1",
                     "far-block bit without a huge header one segment before");
                errors++;
            }
        }
    }
    for (size_t i = 0; i < cache_count && i < HK_HUGE_CACHE_COUNT; i++) {
        if (is_far(cache[i])) {
            fail(arg, cache[i], "F2", "a far block in the huge cache");
            errors++;
        }
    }
    return errors;
}

/* A block aligned to align >= HK_SEG_SIZE: its own mapping, never cached (F2). */
static hk_segment_t *far_map(size_t n, size_t align, bool *os_refused)
{
    size_t size = HK_SEG_SIZE + round_os(n) + guard_size();
    void *mem;
    if (!far_bits_ready() || hki_os_map_aligned_at(size, align, HK_SEG_SIZE, &mem) != 0) {
        *os_refused = true;
        errno = ENOMEM;
        return NULL;
    }
    hk_segment_t *seg = mem;
    hki_stat_mapped((ptrdiff_t)size);
    hki_stat_committed((ptrdiff_t)size);
    huge_setup(seg, size, HK_SEG_SIZE); /* (before the guards: hki_huge_malloc) */
    guard_tail(seg, size);
    guard_head(seg, HK_SEG_SIZE, true);
    hki_registry_set(seg, true);
    far_bit_set(seg->pages[0].start, true); /* after the header is findable (F1) */
    return seg;
}

void *hki_huge_malloc(size_t n, size_t align, bool zero, bool *os_refused)
{
    *os_refused = false;
    if (align < HK_MIN_ALIGN)
        align = HK_MIN_ALIGN;
    size_t offset = align >= HK_SEG_SIZE ? HK_SEG_SIZE : block_offset(align);
    if (n > ((size_t)1 << 46) - offset) {
        errno = ENOMEM;
        return NULL;
    }
    size_t size = huge_map_size(offset, n);
    hk_segment_t *seg = NULL;
    if (align >= HK_SEG_SIZE) {
        if ((seg = far_map(n, align, os_refused)) == NULL) /* fresh: zero already */
            return NULL;
    } else if ((seg = cache_take(size)) != NULL) {
        size_t old_offset = seg->pages[0].start - (uintptr_t)seg;
        if (old_offset != offset) { /* (the head guard sits before the block) */
            guard_head(seg, old_offset, false);
            guard_head(seg, offset, true);
        }
        huge_setup(seg, seg->map_size, offset);
        /* unpoisoned before our memset touches it (the caller's hk_track_malloc, too
         * late for that, does the same) */
        hk_track_unpoison((void *)seg->pages[0].start, seg->pages[0].block_size);
        if (zero)
            memset((void *)seg->pages[0].start, 0, n);
    } else {
        void *mem;
        if (hki_os_map_aligned(size, HK_SEG_SIZE, &mem) != 0) {
            *os_refused = true;
            errno = ENOMEM;
            return NULL;
        }
        seg = mem;
        hki_stat_mapped((ptrdiff_t)size);
        hki_stat_committed((ptrdiff_t)size);
        /* The header is written before the guards split the mapping: the kernel gives
         * the mapping its anonymous-memory identity (anon_vma) at its first write, and
         * pieces split off before that get one each when touched, which keeps them from
         * ever joining again: mremap, which takes one piece at a time, then failed on
         * every growth (EFAULT) and each realloc mapped afresh (`large` 1.25x). */
        huge_setup(seg, size, offset);
        guard_tail(seg, size);
        guard_head(seg, offset, true);
        hki_registry_set(seg, true);
    }
    atomic_fetch_add_explicit(&huge_live_count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&huge_live_bytes, seg->map_size, memory_order_relaxed);
    return (void *)seg->pages[0].start;
}

#if HK_SECURE
/* HEAPKIT_ZERO_ON_FREE (secure build): a cached block's data is gone before the next
 * malloc takes its mapping: the bytes before its first whole OS page are zeroed, its
 * pages given back (they read as zeros again; the guard page is not among them). */
static void huge_zero(hk_segment_t *seg)
{
    uintptr_t start = seg->pages[0].start, end = start + seg->pages[0].block_size;
    uintptr_t first = round_os(start);
    memset((void *)start, 0, first - start);
    if (end > first)
        (void)hki_os_purge((void *)first, end - first);
}
#endif

void hki_huge_free(hk_segment_t *seg)
{
    size_t size = seg->map_size;
    atomic_fetch_sub_explicit(&huge_live_count, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&huge_live_bytes, size, memory_order_relaxed);
    hki_page_set_start_limit(&seg->pages[0], 0); /* a second free now reports */
    if (is_far(seg)) { /* F2: cleared before the address can be mapped again */
        hki_lock(&hki_huge_lock); /* the checker reads headers under it */
        far_bit_set(seg->pages[0].start, false);
        hki_unlock(&hki_huge_lock);
        huge_unmap(seg);
        return;
    }
    long delay = hki_option(HK_OPT_PURGE_DELAY);
    size_t limit = (size_t)hki_option(HK_OPT_HUGE_CACHE) << 20;
#if HK_SECURE
    if (delay != 0 && hki_option(HK_OPT_ZERO_ON_FREE) != 0)
        huge_zero(seg);
#endif
    if (delay != 0)
        cached_block_protect(seg, true);
    if (delay != 0) {
        hki_lock(&hki_huge_lock);
        if (cache_count < HK_HUGE_CACHE_COUNT && cache_bytes + size <= limit) {
            seg->cached_ms = hki_os_now_ms();
            cache[cache_count++] = seg;
            cache_bytes += size;
            atomic_store_explicit(&cache_nonempty, cache_count, memory_order_relaxed);
            hki_unlock(&hki_huge_lock);
            return;
        }
        hki_unlock(&hki_huge_lock);
    }
    huge_unmap(seg);
}

size_t hki_huge_trim(bool force)
{
    if (atomic_load_explicit(&cache_nonempty, memory_order_relaxed) == 0)
        return 0;
    long delay = hki_option(HK_OPT_PURGE_DELAY);
    if (delay < 0 && !force)
        return 0;
    uint64_t now = hki_os_now_ms();
    size_t bytes = 0, nvictims;
    do { /* in batches: the unmapping is outside the lock, the batch on the stack */
        hk_segment_t *victims[32];
        nvictims = 0;
        hki_lock(&hki_huge_lock);
        for (size_t i = 0; i < cache_count && nvictims < 32;) {
            if (force || cache[i]->cached_ms + (uint64_t)delay <= now) {
                victims[nvictims++] = cache[i];
                cache_bytes -= cache[i]->map_size;
                cache[i] = cache[--cache_count];
            } else {
                i++;
            }
        }
        atomic_store_explicit(&cache_nonempty, cache_count, memory_order_relaxed);
        hki_unlock(&hki_huge_lock);
        for (size_t i = 0; i < nvictims; i++) {
            bytes += victims[i]->map_size;
            huge_unmap(victims[i]);
        }
    } while (nvictims == 32);
    return bytes;
}

size_t hki_huge_usable(const hk_segment_t *seg, const void *p)
{
    (void)p;
    return seg->pages[0].block_size;
}

void *hki_huge_realloc(hk_segment_t *seg, void *p, size_t n)
{
    size_t offset = (uintptr_t)p - (uintptr_t)seg;
    size_t old_size = seg->map_size;
    if (n > ((size_t)1 << 46))
        return NULL;
    size_t need = huge_map_size(offset, n);
    size_t new_size;
    if (is_far(seg)) /* F2: never moved; the caller copies when it does not fit */
        return need <= old_size && need >= old_size / 2 ? p : NULL;
    if (need <= old_size) {
        if (old_size - need < old_size / 2 || old_size - need < ((size_t)1 << 20))
            return p; /* keep: not worth a system call */
        new_size = need;
    } else {
        new_size = round_os(need + need / 8); /* amortize repeated growth */
    }
    hk_segment_t *nseg;
    if (huge_remap(seg, old_size, new_size, &nseg) != 0)
        return NULL;
    nseg->map_size = new_size;
    nseg->pages[0].start = (uintptr_t)nseg + offset;
    nseg->pages[0].block_size = new_size - offset - guard_size();
    nseg->pages[0].area_size = nseg->pages[0].block_size;
    hki_stat_mapped((ptrdiff_t)new_size - (ptrdiff_t)old_size);
    hki_stat_committed((ptrdiff_t)new_size - (ptrdiff_t)old_size);
    atomic_fetch_add_explicit(&huge_live_bytes, new_size - old_size, memory_order_relaxed);
    return (void *)nseg->pages[0].start;
}

void hki_huge_stats(size_t *count, size_t *bytes)
{
    *count = atomic_load_explicit(&huge_live_count, memory_order_relaxed);
    *bytes = atomic_load_explicit(&huge_live_bytes, memory_order_relaxed);
}

/* ---- checker (H1..H3) ---- */

static int cached_segment_check(const hk_segment_t *seg, hki_check_fail_fn *fail, void *arg)
{
    size_t ps = hki_os_page_size();
    const char *why = NULL;
    if (!hki_registry_has((uintptr_t)seg) || !hki_os_is_mapped(seg))
        why = "cached huge segment not registered or not mapped";
    else if (seg->kind != HK_KIND_HUGE ||
             atomic_load_explicit(&seg->heap, memory_order_relaxed) != &hki_heap_huge)
        why = "cached segment not a huge one (kind or owner)";
    else if (hki_page_start_limit(&seg->pages[0]) != 0)
        why = "cached huge block still carved (a free into it would not report)";
    else if (seg->map_size % ps != 0 || seg->map_size <= HK_HUGE_HDR_SIZE)
        why = "cached huge segment with a bad map_size";
    if (why == NULL)
        return 0;
    fail(arg, seg, "H2", why);
    return 1;
}

int hki_huge_check(hki_check_fail_fn *fail, void *arg)
{
    int errors = 0;
    hki_lock(&hki_huge_lock);
    size_t bytes = 0, n = cache_count <= HK_HUGE_CACHE_COUNT ? cache_count : HK_HUGE_CACHE_COUNT;
    if (cache_count > HK_HUGE_CACHE_COUNT ||
        atomic_load_explicit(&cache_nonempty, memory_order_relaxed) != cache_count) {
        fail(arg, &cache_count, "H1", "huge cache count out of range or differs from cache_nonempty");
        errors++;
    }
    for (size_t i = 0; i < n; i++) {
        int bad = cached_segment_check(cache[i], fail, arg);
        errors += bad;
        if (!bad)
            bytes += cache[i]->map_size;
        for (size_t j = 0; j < i; j++) {
            if (cache[j] == cache[i]) {
                fail(arg, cache[i], "H3", "segment twice in the huge cache");
                errors++;
            }
        }
    }
    if (errors == 0 && bytes != cache_bytes) {
        fail(arg, &cache_bytes, "H1", "huge cache bytes differ from the cached map sizes");
        errors++;
    }
    errors += far_check(fail, arg);
    hki_unlock(&hki_huge_lock);
    return errors;
}
