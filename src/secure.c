/*
 * secure.c -- libheapkit-secure.so (HK_SECURE=1): a canary after every block, freed
 *             blocks filled and held in a per-thread quarantine before reuse.
 *
 * Design:      the secure build is the same sources compiled with -DHK_SECURE=1; this
 *              file is its only large addition (the others: free.c and realloc.c route
 *              their entry point here, page.c draws a key per page and carves in random
 *              order, options.c turns the huge cache off, heap.c flushes the quarantine
 *              at thread exit). Every request grows by 8 bytes before its class is
 *              chosen, so each block ends with room for one canary word:
 *                canary    the last word of the block holds the request size XOR a secret
 *                          mixed with the block address, and the bytes right after the
 *                          request (up to 64) hold 0xFD. free, realloc and
 *                          malloc_usable_size check both: an overflow of even one byte
 *                          changes a 0xFD byte or the word ("overflow past the block").
 *                fill      a freed block's first word becomes a marker (another keyed mix
 *                          of its address) and its next bytes, up to 4 KiB, 0xDD: the
 *                          freed data does not leak to the next owner, a free or realloc
 *                          of a block that holds the marker is a double free, and a
 *                          changed byte when it leaves the quarantine is a write after
 *                          free.
 *                quarantine each thread holds its last freed blocks (at most 1024, and
 *                          HEAPKIT_QUARANTINE KiB, default 1024) in a FIFO ring kept in
 *                          its heap, and frees the oldest (after checking its fill) when
 *                          a new one would exceed either bound: a double free or a write
 *                          after free within that window meets a block nobody reused. At
 *                          thread exit the ring is flushed (checked and freed); at
 *                          process exit the calling thread's ring is checked.
 *              Huge blocks get the canary but no quarantine: with the huge cache off
 *              (HEAPKIT_HUGE_CACHE defaults to 0 here) a freed huge block is unmapped at
 *              once, so a later access faults and a second free is reported.
 *              What it costs, what it catches and what it leaves out: docs/HARDENING.md.
 * Layout:      a block of block size bs (a class block, or a huge block's usable size)
 *              for a request of n bytes (bs >= n + 8):
 *
 *   live:   p -> +-----------------------------+ 0
 *                | user data (n bytes)          |
 *                +-----------------------------+ n
 *                | 0xFD x min(64, bs - 8 - n)   |   (pad, checked on free)
 *                | not written                  |
 *                +-----------------------------+ bs - 8
 *                | n ^ canary(p)                |
 *                +-----------------------------+ bs
 *   freed (in the quarantine):
 *                | marker(p) | 0xDD up to min(n, 4096) | pad as above | ... | tail |
 *
 *   canary(p) = mix(p ^ hki_key), marker(p) = mix(p ^ ~hki_key), mix a bijective 64-bit
 *   finalizer: neither can be guessed without the process's secret key.
 * Invariants:  Q1 every ring entry is a block of a class page, counted in its page's
 *              `used`, holding marker(p) and its fill (checked at eviction:
 *              quarantine_verify); Q2 bytes == sum of the entries' block sizes <= the
 *              limit, count <= HK_QUARANTINE_COUNT.
 * Concurrency: the ring belongs to its heap's thread; nothing else touches it.
 * Complexity:  O(min(n, 4 KiB)) per free (the fill) and per eviction (its check), O(1)
 *              per malloc (up to 64 pad bytes written).
 */
#include "config.h"
#include "internal.h"
#include "secure.h"

#include <errno.h>
#include <string.h>

#define PAD_BYTE    0xFD
#define FREED_BYTE  0xDD
#define PAD_MAX     ((size_t)64)
#define FILL_MAX    ((size_t)4096)

/* ---- keyed words ---- */

static inline uintptr_t mix(uintptr_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}
static inline uintptr_t canary(const void *p)
{
    return mix((uintptr_t)p ^ hki_key);
}
static inline uintptr_t marker(const void *p)
{
    return mix((uintptr_t)p ^ ~hki_key);
}
static inline uintptr_t *tail_of(const void *p, size_t bs)
{
    return (uintptr_t *)((uintptr_t)p + bs - HK_CANARY_SIZE);
}

/* ---- block geometry ---- */

static size_t block_size(const hk_segment_t *seg, const hk_page_t *page, const void *p)
{
    return seg->kind == HK_KIND_HUGE ? hki_huge_usable(seg, p) : page->block_size;
}
/* end of the pad: the bytes after the request that hold PAD_BYTE */
static inline size_t pad_end(size_t n, size_t bs)
{
    size_t room = bs - HK_CANARY_SIZE - n;
    return n + (room < PAD_MAX ? room : PAD_MAX);
}
/* the first byte of [from, to) of p that is not `byte`, or `to` */
static size_t first_changed(const void *p, size_t from, size_t to, unsigned char byte)
{
    const unsigned char *b = p;
    for (size_t i = from; i < to; i++)
        if (b[i] != byte)
            return i;
    return to;
}

static void stamp(void *p, size_t n, size_t bs)
{
    memset((char *)p + n, PAD_BYTE, pad_end(n, bs) - n);
    *tail_of(p, bs) = n ^ canary(p);
}

/* The request size the canary holds, or SIZE_MAX if the canary was overwritten
 * (reported as an overflow). */
static size_t canary_check(const void *p, size_t bs, const char *func)
{
    size_t n = *tail_of(p, bs) ^ canary(p);
    if (n > bs - HK_CANARY_SIZE) {
        hki_usage_error("overflow past the block at %p (%s): its canary word at %p was "
                        "overwritten",
                        p, func, (void *)tail_of(p, bs));
        return SIZE_MAX;
    }
    size_t end = pad_end(n, bs), bad = first_changed(p, n, end, PAD_BYTE);
    if (bad != end) {
        hki_usage_error("overflow past the block at %p (%s): %zu bytes requested, byte %zu "
                        "written",
                        p, func, n, bad);
        return SIZE_MAX;
    }
    return n;
}

void *hki_secure_stamp(void *p, size_t n)
{
    if (p == NULL)
        return NULL;
    hk_segment_t *seg = hki_segment_of(p);
    if (!hki_registry_has((uintptr_t)p))
        seg = hki_huge_far_of(p); /* a block aligned to a segment (huge.c) */
    stamp(p, n, block_size(seg, hki_page_of(seg, p), p));
    return p;
}

/* ---- the quarantine ---- */

static inline bool is_quarantined(const void *p)
{
    return *(const uintptr_t *)p == marker(p);
}

/* Q1 for one entry: its marker, fill, pad and canary word; reports a write after free. */
static void quarantine_verify(void *p)
{
    size_t bs = hki_page_of(hki_segment_of(p), p)->block_size;
    size_t n = *tail_of(p, bs) ^ canary(p);
    size_t at = 0; /* the first changed byte */
    if (is_quarantined(p)) {
        if (n > bs - HK_CANARY_SIZE) {
            at = bs - HK_CANARY_SIZE;
        } else {
            size_t fill = n < FILL_MAX ? n : FILL_MAX, end = pad_end(n, bs);
            at = first_changed(p, 8, fill, FREED_BYTE);
            if (at >= fill)
                at = first_changed(p, n > 8 ? n : 8, end, PAD_BYTE);
            if (at >= end)
                return;
        }
    }
    hki_usage_error("write after free of the block at %p: byte %zu changed while it waited "
                    "in the quarantine",
                    p, at);
}

static void quarantine_evict(hk_quarantine_t *q)
{
    void *p = q->ring[q->head];
    q->head = (q->head + 1) % HK_QUARANTINE_COUNT;
    q->count--;
    hk_segment_t *seg = hki_segment_of(p);
    hk_page_t *page = hki_page_of(seg, p);
    q->bytes -= page->block_size;
    quarantine_verify(p);
    *(uintptr_t *)p = 0; /* no longer a marker: a later free is one of a freed block */
    hki_free_valid(seg, page, p);
}

static void quarantine_flush(hk_heap_t *heap)
{
    while (heap->quarantine.count > 0)
        quarantine_evict(&heap->quarantine);
}

/* At exit, the main thread's quarantine is checked (not freed: other destructors may
 * still use the heap). */
__attribute__((destructor)) static void quarantine_check_at_exit(void)
{
    hk_quarantine_t *q = &hki_tls_heap->quarantine;
    if (hki_tls_heap == &hki_heap_empty)
        return;
    for (uint32_t i = 0; i < q->count; i++)
        quarantine_verify(q->ring[(q->head + i) % HK_QUARANTINE_COUNT]);
}

/* p (request n, block size bs) is freed: filled, then held back, or freed at once when
 * there is no quarantine for it. */
static void quarantine_put(hk_segment_t *seg, hk_page_t *page, void *p, size_t n, size_t bs)
{
    size_t limit = (size_t)hki_option(HK_OPT_QUARANTINE) << 10;
    hk_heap_t *heap = seg->kind == HK_KIND_HUGE || limit < bs ? NULL : hki_heap_for_claim();
    if (heap == NULL) {
        hki_free_valid(seg, page, p);
        return;
    }
    size_t fill = n < FILL_MAX ? n : FILL_MAX;
    if (fill > 8)
        memset((char *)p + 8, FREED_BYTE, fill - 8);
    *(uintptr_t *)p = marker(p);
    hki_quarantine_flush_hook = quarantine_flush;
    hk_quarantine_t *q = &heap->quarantine;
    while (q->count == HK_QUARANTINE_COUNT || (q->count > 0 && q->bytes + bs > limit))
        quarantine_evict(q);
    q->ring[(q->head + q->count) % HK_QUARANTINE_COUNT] = p;
    q->count++;
    q->bytes += bs;
}

/* ---- the entry points ---- */

bool hki_secure_is_freed(const hk_segment_t *seg, const void *p)
{
    return seg->kind != HK_KIND_HUGE && is_quarantined(p);
}

/* p passed hki_block_validate: its request size, or SIZE_MAX after reporting a freed
 * block (quarantined) or an overflow. */
static size_t block_check(hk_segment_t *seg, hk_page_t *page, const void *p, const char *func)
{
    if (hki_secure_is_freed(seg, p)) {
        hki_usage_error("%s of %p, a block already freed", func, p);
        return SIZE_MAX;
    }
    return canary_check(p, block_size(seg, page, p), func);
}

void hki_secure_free(void *p)
{
    if (p == NULL)
        return;
    hk_page_t *page;
    hk_segment_t *seg = hki_block_validate(p, NULL, &page);
    if (seg == NULL) {
        hki_free_unguarded(p); /* reports it as the default build does */
        return;
    }
    size_t bs = block_size(seg, page, p);
    if (hki_secure_is_freed(seg, p)) {
        hki_usage_error("double free of %p (free)", p);
        return;
    }
    size_t n = canary_check(p, bs, "free");
    quarantine_put(seg, page, p, n == SIZE_MAX ? bs - HK_CANARY_SIZE : n, bs);
}

size_t hki_secure_usable(hk_segment_t *seg, hk_page_t *page, const void *p)
{
    size_t n = block_check(seg, page, p, "malloc_usable_size");
    return n == SIZE_MAX ? 0 : n;
}

void *hki_secure_realloc(hk_segment_t *seg, hk_page_t *page, void *p, size_t size)
{
    size_t n = block_check(seg, page, p, "realloc");
    if (n == SIZE_MAX) {
        errno = EINVAL;
        return NULL;
    }
    size_t bs = block_size(seg, page, p), want = hki_secure_request(size);
    if (seg->kind == HK_KIND_HUGE) {
        if (size >= HK_REALLOC_REMAP_MIN) {
            void *q = hki_huge_realloc(seg, p, want); /* mremap: in place or moved */
            if (q != NULL)
                return hki_secure_stamp(q, size);
        }
    } else if (want <= bs && want >= bs / 2) {
        stamp(p, size, bs);
        return p;
    }
    void *q = size > n && size >= HK_REALLOC_REMAP_MIN
                  ? hki_secure_stamp(hki_malloc_huge(want, 0, false), size)
                  : hk_malloc(size);
    if (q == NULL)
        return NULL;
    memcpy(q, p, size < n ? size : n);
    quarantine_put(seg, page, p, n, bs);
    return q;
}
