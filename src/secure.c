/*
 * secure.c -- libheapkit-secure.so (HK_SECURE=1): a canary after every class block, and
 *             on request (HEAPKIT_QUARANTINE) freed blocks filled and held back.
 *
 * Design:      the secure build is the same sources compiled with -DHK_SECURE=1. Its
 *              hot hooks are inline in secure.h; this file has their cold side, realloc
 *              and usable_size of class blocks, and the quarantine. Elsewhere: page.c
 *              draws a free-list key per page and carves blocks in random order, heap.c
 *              flushes the quarantine at thread exit and in malloc_trim.
 *                canary     every request grows by 8 bytes before its class is chosen.
 *                           The block's last word holds the request size XOR a keyed
 *                           multiply of the address (the page's key), and the byte after
 *                           the request holds 0xDD: free, realloc and malloc_usable_size
 *                           check both, so an overflow of even one byte is reported
 *                           ("overflow past the block"). Two stores per malloc, two loads
 *                           per free. One pad byte, not eight: an overflow runs on from
 *                           the request's end, so its first byte is the one it always
 *                           writes, and one byte is one compare on free where eight
 *                           (fewer near the canary word) took a mask.
 *                quarantine HEAPKIT_QUARANTINE=KiB (default 0: off, for its cost, see
 *                           docs/HARDENING.md): each thread holds its last freed blocks
 *                           (at most 1024 and that many KiB) in a FIFO ring in its heap,
 *                           their first word a marker and their next bytes, up to 256,
 *                           0xDD (4 KiB cost 3x more on trace-replay), and
 *                           frees the oldest, checking its fill, when a new one would
 *                           exceed a bound: a double free of a held block is reported,
 *                           and a write after free is reported when the block leaves
 *                           (or at exit: the main thread's ring is checked). The first
 *                           256 bytes of freed data do not reach the block's next owner.
 *              Huge blocks (own mapping, > 1 MiB or moved there by realloc) and blocks
 *              of the largest class (960 KiB..1 MiB, secure.h) have neither: their double
 *              free is caught by the default checks.
 * Layout:      a class block of block size bs for a request of n bytes (bs >= n + 8):
 *
 *   live:   p -> +------------------------------+ 0
 *                | user data (n bytes)           |
 *                +------------------------------+ n
 *                | 0xDD                          |   pad byte (if n < bs - 8)
 *                | not written                   |
 *                +------------------------------+ bs - 8
 *                | 0xDD | upper 56 bits of       |   canary word: its first byte 0xDD,
 *                |      | (n << 8) ^ canary(p)   |   the rest the request, encoded
 *                +------------------------------+ bs
 *   in the quarantine:
 *                | marker(p) | 0xDD from 8 up to min(n, 256) | ... | pad | ... | canary |
 *
 *   so the byte at n is 0xDD for every n <= bs - 8 (at n = bs - 8 it is the canary word's
 *   first). canary(p) = (p ^ key) * key, marker(p) = key ^ (((p ^ key) *
 *   0xc2b2ae3d27d4eb4f) | 2^63) with key the page's secret free-list key: the marker is
 *   never "link shaped" (segment.h), so free's fast path always reaches the hook.
 * Invariants:  C1 a live class block of size bs <= HK_CANARY_BLOCK_MAX: its canary word
 *              decodes to n <= bs - 8 and the byte at n is 0xDD (checked by free,
 *              realloc, malloc_usable_size);
 *              Q1 every ring entry is a class block, counted in its page's `used`,
 *              holding marker(p) and its fill (checked when it leaves: freed_changed);
 *              Q2 bytes == sum of the entries' block sizes <= the limit, count <=
 *              HK_QUARANTINE_COUNT.
 * Concurrency: the ring belongs to its heap's thread; nothing else touches it.
 * Complexity:  O(1) per malloc and free; with the quarantine O(min(n, 256)) per free
 *              (the fill) and per eviction (its check).
 */
#include "config.h"
#include "internal.h"
#include "os.h"
#include "secure.h"

#if !HK_SECURE
#error "secure.c is built only into libheapkit-secure.so, with -DHK_SECURE=1 (src/src.mk)"
#endif

#include <errno.h>
#include <string.h>

#define FILL_MAX ((size_t)256)

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "the canary word: the first byte in memory is the lowest of a word");

/* ---- the canary (the check itself is inline: secure.h hki_secure_free_diverted) ---- */

static inline size_t request_of(const void *p, size_t bs, uintptr_t key)
{
    return hki_canary_request(hki_load_word(p, bs - HK_CANARY_SIZE), p, key);
}

static HK_COLD void report_overflow(const void *p, size_t bs, const char *func)
{
    hk_page_t *page = hki_page_of(hki_segment_of(p), p);
    size_t n = request_of(p, bs, page->key);
    if (n > bs - HK_CANARY_SIZE)
        hki_usage_error("overflow past the block at %p (%s): its canary word at %p was "
                        "overwritten",
                        p, func, (const void *)((uintptr_t)p + bs - HK_CANARY_SIZE));
    else
        hki_usage_error("overflow past the block at %p (%s): %zu bytes requested, byte %zu "
                        "written",
                        p, func, n, n);
}

/* C1 for a class block: its request size, or SIZE_MAX after reporting an overflow. */
static size_t canary_check(hk_page_t *page, const void *p, const char *func)
{
    size_t bs = page->block_size, n = request_of(p, bs, page->key);
    if (n > bs - HK_CANARY_SIZE || !hki_pad_intact(p, n)) {
        report_overflow(p, bs, func);
        return SIZE_MAX;
    }
    return n;
}

/* ---- the quarantine ---- */

/* HEAPKIT_ZERO_ON_FREE: the n bytes a block held, after its first word (the free-list
 * link, written next; with the quarantine, its marker). From 64 KiB on, the OS pages the
 * block covers whole are given back instead (madvise): they read as zeros and take no
 * memory until touched again, where a memset would fault in every page the program
 * never touched (make bench's `large`: RSS 2.5x). */
#define ZERO_PURGE_MIN ((size_t)64 * 1024)
static void zero_freed(void *p, size_t n)
{
    if (n <= sizeof(uintptr_t))
        return;
    char *from = (char *)p + sizeof(uintptr_t), *end = (char *)p + n;
    if (n >= ZERO_PURGE_MIN) {
        uintptr_t ps = hki_os_page_size();
        char *a = (char *)(((uintptr_t)from + ps - 1) & ~(ps - 1));
        char *b = (char *)((uintptr_t)end & ~(ps - 1));
        if (hki_os_purge(a, (size_t)(b - a)) == 0) {
            memset(from, 0, (size_t)(a - from));
            memset(b, 0, (size_t)(end - b));
            return;
        }
    }
    memset(from, 0, (size_t)(end - from));
}


static inline uintptr_t marker(const void *p, uintptr_t key)
{
    return key ^ ((((uintptr_t)p ^ key) * 0xc2b2ae3d27d4eb4fULL) | (uintptr_t)1 << 63);
}
static inline bool is_quarantined(const hk_page_t *page, const void *p)
{
    return hki_load_word(p, 0) == marker(p, page->key);
}

/* The fill of a freed block of request n: FILL over bytes 8 .. min(n, FILL_MAX), whole
 * words then bytes (not past the request: the pad byte at n stays), then the marker. */
static void fill_freed(const hk_page_t *page, void *p, size_t n)
{
    size_t end = n < FILL_MAX ? n : FILL_MAX, off = 8;
    for (; off + 8 <= end; off += 8)
        hki_store_word(p, off, HK_FILL_WORD);
    for (; off < end; off++)
        ((unsigned char *)p)[off] = (unsigned char)HK_FILL_WORD;
    hki_store_word(p, 0, marker(p, page->key));
}

/* Q1 for one entry: the offset of the first byte a write after free changed (0: the
 * marker), or SIZE_MAX if intact. */
static size_t freed_changed(const hk_page_t *page, const void *p)
{
    if (!is_quarantined(page, p))
        return 0;
    size_t bs = page->block_size, n = request_of(p, bs, page->key);
    if (n > bs - HK_CANARY_SIZE)
        return bs - HK_CANARY_SIZE;
    size_t end = n < FILL_MAX ? n : FILL_MAX, off = 8;
    for (; off + 8 <= end; off += 8) {
        uintptr_t diff = hki_load_word(p, off) ^ HK_FILL_WORD;
        if (diff != 0)
            return off + (size_t)__builtin_ctzll(diff) / 8;
    }
    for (; off < end; off++)
        if (((const unsigned char *)p)[off] != (unsigned char)HK_FILL_WORD)
            return off;
    bool bad = n >= 8 && !hki_pad_intact(p, n); /* (below 8: under the marker) */
    return bad ? n : SIZE_MAX;
}

static void quarantine_verify(const void *p)
{
    size_t at = freed_changed(hki_page_of(hki_segment_of(p), p), p);
    if (at != SIZE_MAX)
        hki_usage_error("write after free of the block at %p: byte %zu changed while it "
                        "waited in the quarantine",
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
    hki_store_word(p, 0, 0); /* no longer a marker: a later free is one of a freed block */
    if (hki_option(HK_OPT_ZERO_ON_FREE) != 0) { /* the fill too: the request's bytes */
        size_t n = request_of(p, page->block_size, page->key);
        zero_freed(p, n <= page->block_size - HK_CANARY_SIZE ? n : 0);
    }
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

/* p, a class block of request n whose canary was checked, is freed: filled and held
 * back. false: no quarantine for it (exiting thread, block larger than the limit). */
static bool quarantine_put(hk_page_t *page, void *p, size_t n)
{
    size_t limit = (size_t)hki_option(HK_OPT_QUARANTINE) << 10, bs = page->block_size;
    hk_heap_t *heap = hki_tls_heap;
    if (hk_unlikely(heap == &hki_heap_empty))
        heap = hki_heap_for_claim(); /* a thread whose first call is free; NULL: exiting */
    if (limit < bs || heap == NULL)
        return false;
    fill_freed(page, p, n);
    hk_quarantine_t *q = &heap->quarantine;
    if (hk_unlikely(hki_quarantine_flush_hook == NULL))
        hki_quarantine_flush_hook = quarantine_flush;
    while (q->count == HK_QUARANTINE_COUNT || (q->count > 0 && q->bytes + bs > limit))
        quarantine_evict(q);
    q->ring[(q->head + q->count) % HK_QUARANTINE_COUNT] = p;
    q->count++;
    q->bytes += bs;
    return true;
}

/* ---- the end of a free ---- */

/* p, a validated class block whose request n (its block size without a canary) was
 * checked, is freed: held in the quarantine, or zeroed and freed, as the options say. */
static void release(hk_segment_t *seg, hk_page_t *page, void *p, size_t n)
{
    bool canary = hki_secure_has_canary(page->block_size);
    if (canary && hki_option(HK_OPT_QUARANTINE) != 0 && quarantine_put(page, p, n))
        return; /* (zeroed when it leaves) */
    if (hki_option(HK_OPT_ZERO_ON_FREE) != 0)
        zero_freed(p, n);
    hki_free_valid(seg, page, p);
}

void hki_secure_free_slow(hk_segment_t *seg, hk_page_t *page, void *p)
{
    size_t bs = page->block_size;
    if (!hki_secure_has_canary(bs)) { /* the largest class (secure.h) */
        release(seg, page, p, bs);
        return;
    }
    if (hki_option(HK_OPT_QUARANTINE) != 0 && is_quarantined(page, p)) {
        /* (before the canary: a request under 8 bytes is under the marker) */
        hki_usage_error("double free of %p (free)", p);
        return;
    }
    size_t n = canary_check(page, p, "free");
    if (n == SIZE_MAX) /* reported; the free goes on (HEAPKIT_ON_ERROR=warn) */
        n = 0;
    release(seg, page, p, n);
}

void *hki_secure_malloc_slow(hk_heap_t *heap, unsigned c, size_t req)
{
    void *p = hki_malloc_slow(heap, c);
    if (p != NULL)
        hki_secure_stamp_block(p, req, hki_class_size[c], hki_page_of(hki_segment_of(p), p)->key);
    return p;
}

/* ---- realloc and usable_size of class blocks ---- */

bool hki_secure_is_freed(const hk_page_t *page, const void *p)
{
    return hki_option(HK_OPT_QUARANTINE) != 0 && hki_secure_has_canary(page->block_size) &&
           is_quarantined(page, p);
}

/* p accepted by hki_block_validate: its request, or SIZE_MAX after reporting a freed
 * (quarantined) block or an overflow. */
static size_t block_check(hk_page_t *page, const void *p, const char *func)
{
    if (hki_secure_is_freed(page, p)) {
        hki_usage_error("%s of %p, a block already freed", func, p);
        return SIZE_MAX;
    }
    return canary_check(page, p, func);
}

size_t hki_secure_usable(hk_page_t *page, const void *p)
{
    if (!hki_secure_has_canary(page->block_size))
        return page->block_size;
    size_t n = block_check(page, p, "malloc_usable_size");
    return n == SIZE_MAX ? 0 : n;
}

void *hki_secure_realloc(hk_segment_t *seg, hk_page_t *page, void *p, size_t size)
{
    size_t bs = page->block_size;
    bool canary = hki_secure_has_canary(bs);
    size_t n = canary ? block_check(page, p, "realloc") : bs;
    if (n == SIZE_MAX) {
        errno = EINVAL;
        return NULL;
    }
    size_t want = hki_secure_request(size);
    if (want <= bs && want >= bs / 2) { /* (want keeps a canary class's room for it) */
        if (canary)
            hki_secure_stamp_block(p, size, bs, page->key);
        return p;
    }
    /* a span of the thread's heap: its new class in place, as the default build does */
    if (hki_realloc_as_span(page, want) &&
        atomic_load_explicit(&seg->heap, memory_order_relaxed) == hki_tls_heap &&
        hki_span_resize(hki_tls_heap, page, want)) {
        if (hki_secure_has_canary(page->block_size))
            hki_secure_stamp_block(p, size, page->block_size, page->key);
        return p;
    }
    /* growing to 128 KiB or more: a mapping of its own, later moved by mremap (no canary:
     * a huge block), as the default build does (realloc.c) */
    void *q = size > n && hki_realloc_to_mapping(bs, want) ? hki_malloc_huge(size, 0, false)
                                                           : hk_malloc(size);
    if (q == NULL)
        return NULL;
    memcpy(q, p, size < n ? size : n);
    release(seg, page, p, n);
    return q;
}
