/*
 * secure.h -- the hooks of libheapkit-secure.so (HK_SECURE=1, secure.c) that the public
 * entry points call: the canary after every class block, the quarantine of freed blocks.
 *
 * Layer:       api (with internal.h). In the default build (HK_SECURE=0) every hook is
 *              an inline identity (or false), so alloc.c, free.c and aligned.c compile to
 *              the code they had before the secure build existed (no branch, no call;
 *              checked by comparing the disassembly, docs/HARDENING.md).
 * Layout:      secure.c "Block layout". Huge blocks (their own mapping) and the largest
 *              class's carry no canary (HK_CANARY_BLOCK_MAX).
 */
#ifndef HK_SECURE_H
#define HK_SECURE_H

#include "config.h"
#include "heap.h"

#include <string.h>

#if HK_SECURE
/* bytes added to every request for the canary word (secure.c "Block layout") */
#define HK_CANARY_SIZE ((size_t)8)
#define HK_FILL_WORD   ((uintptr_t)0xDDDDDDDDDDDDDDDDULL) /* pad (and freed fill) bytes 0xDD */
/* The largest block size with a canary: the class below the largest (the top classes step
 * by 1/16 of 1 MiB). Blocks of the largest class, 960 KiB..1 MiB, carry none, as huge
 * blocks: a 1 MiB request (a common buffer size) stays in its class instead of taking a
 * mapping of its own for its 8 more bytes (docs/HARDENING.md, the `large` benchmark). */
#define HK_CANARY_BLOCK_MAX   (HK_LARGE_MAX - HK_LARGE_MAX / 16)
#define HK_CANARY_REQUEST_MAX (HK_CANARY_BLOCK_MAX - HK_CANARY_SIZE)

/* Does a request of n bytes get a canary? (malloc's fast branch) */
static inline bool hki_secure_canary_for(size_t n)
{
    return n <= HK_CANARY_REQUEST_MAX;
}
/* Does a class block of this size carry a canary? (secure.c C1) */
static inline bool hki_secure_has_canary(size_t block_size)
{
    return block_size <= HK_CANARY_BLOCK_MAX;
}
/* The size to ask the size classes for: the request plus the canary word while the sum
 * fits a canary class; else at least the largest class (no canary), or a huge size. */
static inline size_t hki_secure_request(size_t n)
{
    return n <= HK_CANARY_REQUEST_MAX ? n + HK_CANARY_SIZE
           : n > HK_CANARY_BLOCK_MAX  ? n
                                      : HK_CANARY_BLOCK_MAX + 1;
}
/* the canary word's key for block p of a page with free-list key `key` (one multiply) */
static inline uintptr_t hki_canary(const void *p, uintptr_t key)
{
    return ((uintptr_t)p ^ key) * key; /* (page keys are odd; no constant to load) */
}
static inline uintptr_t hki_load_word(const void *p, size_t off)
{
    uintptr_t w;
    memcpy(&w, (const char *)p + off, sizeof w);
    return w;
}
static inline void hki_store_word(void *p, size_t off, uintptr_t w)
{
    memcpy((char *)p + off, &w, sizeof w);
}
/* Of the word at offset n (the request's end), the bytes that are pad: min(8, bs-8-n),
 * the first in memory being the lowest (little-endian: secure.c); the rest, if any, are
 * the canary word's. A request n > bs - 8 (an overwritten canary word) gives a
 * meaningless mask: callers test that first. */
extern const uintptr_t hki_pad_masks[9]; /* [k]: the low k bytes (secure.c) */
static inline uintptr_t hki_pad_mask(size_t n, size_t bs)
{
    size_t room = bs - HK_CANARY_SIZE - n;
    /* a table, no branch: room < 8 is a coin toss on mixed sizes (a branch there made
     * larson's frees 1.5x slower) */
    return hki_pad_masks[room < 8 ? room : 8];
}
/* Two stores: the pad word at n (bs >= n + 8), then the canary word over its tail. */
static inline void hki_secure_stamp_block(void *p, size_t n, size_t bs, uintptr_t key)
{
    hki_store_word(p, n, HK_FILL_WORD);
    hki_store_word(p, bs - HK_CANARY_SIZE, n ^ hki_canary(p, key));
}
/* Writes the canary of a class block just allocated for a request of n bytes (sized by
 * hki_secure_request: a canary block has room for it); returns p. */
static inline void *hki_secure_stamp(void *p, size_t n)
{
    if (p != NULL) {
        hk_page_t *page = hki_page_of(hki_segment_of(p), p);
        if (hki_secure_has_canary(page->block_size))
            hki_secure_stamp_block(p, n, page->block_size, page->key);
    }
    return p;
}

/* malloc's pop path: the popped block p of page gets the canary of request req */
static inline void *hki_secure_stamp_popped(hk_page_t *page, void *p, size_t req)
{
    hki_secure_stamp_block(p, req, page->block_size, page->key);
    return p;
}
/* malloc's slow path, then the canary (secure.c) */
void *hki_secure_malloc_slow(hk_heap_t *heap, unsigned c, size_t req);

/* Does every free go through secure.c (the quarantine, or zeroing on free)? One load:
 * hki_secure_free_always starts at 1, and secure.c's side of free sets it from the
 * options (read before the first malloc, so before any free of a block of ours). */
extern _Atomic long hki_secure_free_always;
static inline bool hki_secure_free_work(void)
{
    return hk_relaxed_load(&hki_secure_free_always) != 0;
}
/* free's test for a block of the calling thread's heap (so not huge): does it need
 * secure.c's side of free (its canary changed: an overflow, or the quarantine is on)? A
 * block without a canary (the largest class) decodes to garbage and goes there too, where
 * it is freed as it is: that costs its rare frees a call, and every other free a test. */
static inline bool hki_secure_free_diverted_local(const hk_page_t *page, const void *p,
                                                  uintptr_t key)
{
    size_t bs = page->block_size;
    size_t n = hki_load_word(p, bs - HK_CANARY_SIZE) ^ hki_canary(p, key);
    return n > bs - HK_CANARY_SIZE ||
           ((hki_load_word(p, n) ^ HK_FILL_WORD) & hki_pad_mask(n, bs)) != 0 ||
           hki_secure_free_work();
}
/* The same for any validated block (huge blocks and the largest class have no canary). */
static inline bool hki_secure_free_diverted(const hk_segment_t *seg, const hk_page_t *page,
                                            const void *p, uintptr_t key)
{
    if (seg->kind == HK_KIND_HUGE || !hki_secure_has_canary(page->block_size))
        return false;
    return hki_secure_free_diverted_local(page, p, key);
}
/* secure.c's side of free, reached by a tail call (no stack frame on free's path): the
 * overflow report, then the quarantine, or the free itself (hki_free_valid). */
void hki_secure_free_slow(hk_segment_t *seg, hk_page_t *page, void *p);

/* hk_realloc of a class block (secure.c), after hki_block_validate accepted p. */
void *hki_secure_realloc(hk_segment_t *seg, hk_page_t *page, void *p, size_t size);
/* hk_usable_size of a class block: the request (writing past it is the overflow the
 * canary reports); 0 after reporting a quarantined block. */
size_t hki_secure_usable(hk_page_t *page, const void *p);
/* Is p (a class block accepted by hki_block_validate) in the quarantine? (hk_is_owned) */
bool hki_secure_is_freed(const hk_page_t *page, const void *p);
#else
#define HK_CANARY_SIZE ((size_t)0)
static inline bool hki_secure_canary_for(size_t n)
{
    (void)n;
    return false;
}
static inline size_t hki_secure_request(size_t n)
{
    return n;
}
static inline void *hki_secure_stamp(void *p, size_t n)
{
    (void)n;
    return p;
}
/* macros, not functions: no trace in malloc's code, whose instructions stay as they were */
#define hki_secure_stamp_popped(page, p, req)  ((void)(req), (p))
#define hki_secure_malloc_slow(heap, c, req)   ((void)(req), hki_malloc_slow(heap, c))
#endif

#endif
