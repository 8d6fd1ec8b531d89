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
#define HK_FILL_WORD   ((uintptr_t)0xDDDDDDDDDDDDDDDDULL) /* freed fill: bytes 0xDD */
#define HK_PAD_BYTE    0xDD /* the byte after the request (secure.c "Block layout") */
/* (HK_CANARY_BLOCK_MAX, the largest block size with a canary: config.h) */
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
/* The canary word of block p for a request of n bytes: n in its upper 56 bits under the
 * keyed multiply, and 0xDD in its low byte, the first in memory (little-endian), so that
 * the byte at offset n is 0xDD both when it is pad and when it is the canary word's first
 * (n = bs - 8). (A fixed byte, not a keyed one: a keyed byte would let a one-byte
 * overflow of any value pass on 1 block in 256; 0xDD lets only a write of 0xDD pass.) */
static inline uintptr_t hki_canary_word(const void *p, size_t n, uintptr_t key)
{
    return ((((uintptr_t)n << 8) ^ hki_canary(p, key)) & ~(uintptr_t)0xff) | HK_PAD_BYTE;
}
/* The request a canary word w says (far above the block size if w was overwritten). */
static inline size_t hki_canary_request(uintptr_t w, const void *p, uintptr_t key)
{
    return (w ^ hki_canary(p, key)) >> 8;
}
static inline bool hki_pad_intact(const void *p, size_t n)
{
    return ((const unsigned char *)p)[n] == HK_PAD_BYTE;
}
/* Two stores: the pad byte at n, then the canary word (bs >= n + 8). */
static inline void hki_secure_stamp_block(void *p, size_t n, size_t bs, uintptr_t key)
{
    ((unsigned char *)p)[n] = HK_PAD_BYTE;
    hki_store_word(p, bs - HK_CANARY_SIZE, hki_canary_word(p, n, key));
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

/* free's test for a block of a class page: does it need secure.c's side of free (its
 * canary changed: an overflow; or the page has canary_end 0: no canary, the largest
 * class, or the quarantine or zeroing on free is on, types.h P7)? One compare covers
 * both: a request below canary_end (bs - 7, or 0) and the pad byte intact. */
static inline bool hki_secure_free_diverted_local(const hk_page_t *page, const void *p,
                                                  uintptr_t key)
{
    size_t bs = page->block_size;
    size_t n = hki_canary_request(hki_load_word(p, bs - HK_CANARY_SIZE), p, key);
    return n >= page->canary_end || !hki_pad_intact(p, n);
}
/* The same for any validated block: huge blocks have no canary, and neither they nor a
 * page with canary_end 0 have their last word read (it may lie on an OS page the program
 * never touched: a fault, and memory). */
static inline bool hki_secure_free_diverted(const hk_segment_t *seg, const hk_page_t *page,
                                            const void *p, uintptr_t key)
{
    return seg->kind != HK_KIND_HUGE &&
           (page->canary_end == 0 || hki_secure_free_diverted_local(page, p, key));
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
