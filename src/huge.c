/*
 * huge.c -- blocks above 1 MiB (or with alignment > 64 KiB): one mapping each.
 *
 * Design:      a huge block lives in its own segment-aligned mapping, header first
 *              (types.h "Huge segment layout"), so free() finds and validates it like any
 *              block. Freed mappings go to a small cache (HK_HUGE_CACHE_COUNT entries,
 *              HEAPKIT_HUGE_CACHE MiB in total) and are unmapped after
 *              HEAPKIT_PURGE_DELAY ms, so a malloc/free loop of one large size makes no
 *              system call. A cached segment stays in the registry with carved = 0, which
 *              makes a second free report "double free". When the OS refuses a mapping,
 *              the cache and the calling thread's unused segments are given back and
 *              the mapping is tried once more (hki_reclaim). realloc grows with mremap: in
 *              place when the address space after the block is free, otherwise the pages
 *              move (no copy) to a new aligned address.
 * Concurrency: no owner; the cache is under hki_huge_lock (a leaf lock).
 * Complexity:  O(HK_HUGE_CACHE_COUNT) per operation plus the system calls.
 */
#include "config.h"
#include "internal.h"
#include "os.h"

#include <errno.h>
#include <string.h>

hk_lock_t hki_huge_lock = HK_LOCK_INIT;
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

static size_t block_offset(size_t align)
{
    return align > HK_HUGE_HDR_SIZE ? align : HK_HUGE_HDR_SIZE;
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
    seg->map_size = map_size;
    seg->next = seg->prev = NULL;
    hk_page_t *page = &seg->pages[0];
    page->free = page->local_free = NULL;
    page->used = page->capacity = page->reserved = 1;
    page->key = hki_key;
    page->start = (uintptr_t)seg + offset;
    page->block_size = map_size - offset;
    page->area_size = page->block_size;
    page->div_magic = UINT64_MAX / HK_MIN_ALIGN + 1;
    page->class_idx = 0;
    page->in_full = 0;
    page->slot = 0;
    atomic_store_explicit(&page->thread_free, 0, memory_order_relaxed);
    ((hk_block_t *)page->start)->next_enc = 0;
    atomic_store_explicit(&seg->heap, &hki_heap_huge, memory_order_relaxed);
    hk_relaxed_store(&page->carved, 1); /* the block is live */
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
    if (may_move)
        hki_registry_set(seg, false);
    void *mem;
    int err = hki_os_remap(seg, old, size, HK_SEG_SIZE, may_move, &mem);
    *out = err ? seg : mem;
    if (may_move)
        hki_registry_set(*out, true);
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
    if (seg == NULL || (seg->map_size >= size && seg->map_size / 4 <= size))
        return seg;
    size_t old = seg->map_size;
    hk_segment_t *nseg;
    if (huge_remap(seg, old, size, &nseg) != 0) {
        huge_unmap(seg);
        return NULL;
    }
    nseg->map_size = size;
    hki_stat_mapped((ptrdiff_t)size - (ptrdiff_t)old);
    hki_stat_committed((ptrdiff_t)size - (ptrdiff_t)old);
    return nseg;
}

void *hki_huge_malloc(size_t n, size_t align, bool zero)
{
    hki_init();
    if (align < HK_MIN_ALIGN)
        align = HK_MIN_ALIGN;
    size_t offset = block_offset(align);
    if (n > ((size_t)1 << 46) - offset) {
        errno = ENOMEM;
        return NULL;
    }
    size_t size = round_os(offset + n);
    hk_segment_t *seg = cache_take(size);
    if (seg != NULL) {
        huge_setup(seg, seg->map_size, offset);
        hk_track_malloc((void *)seg->pages[0].start); /* before our memset touches it */
        if (zero)
            memset((void *)seg->pages[0].start, 0, n);
    } else {
        void *mem;
        if (hki_os_map_aligned(size, HK_SEG_SIZE, &mem) != 0) {
            /* out of memory: give back what this thread and the cache hold, retry once */
            hki_reclaim();
            if (hki_os_map_aligned(size, HK_SEG_SIZE, &mem) != 0) {
                errno = ENOMEM;
                return NULL;
            }
        }
        seg = mem;
        hki_stat_mapped((ptrdiff_t)size);
        hki_stat_committed((ptrdiff_t)size);
        huge_setup(seg, size, offset);
        hki_registry_set(seg, true);
    }
    atomic_fetch_add_explicit(&huge_live_count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&huge_live_bytes, seg->map_size, memory_order_relaxed);
    return (void *)seg->pages[0].start;
}

void hki_huge_free(hk_segment_t *seg)
{
    size_t size = seg->map_size;
    atomic_fetch_sub_explicit(&huge_live_count, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&huge_live_bytes, size, memory_order_relaxed);
    hk_relaxed_store(&seg->pages[0].carved, 0); /* a second free now reports */
    long delay = hki_option(HK_OPT_PURGE_DELAY);
    size_t limit = (size_t)hki_option(HK_OPT_HUGE_CACHE) << 20;
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
    hk_segment_t *victims[HK_HUGE_CACHE_COUNT];
    size_t nvictims = 0, bytes = 0;
    hki_lock(&hki_huge_lock);
    for (size_t i = 0; i < cache_count;) {
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
    size_t need = round_os(offset + n);
    size_t new_size;
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
    nseg->pages[0].block_size = new_size - offset;
    nseg->pages[0].area_size = new_size - offset;
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
