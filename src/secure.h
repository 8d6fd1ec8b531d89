/*
 * secure.h -- the hooks of libheapkit-secure.so (HK_SECURE=1, secure.c) that the public
 * entry points call: the canary after every block, the quarantine of freed blocks.
 *
 * Layer:       api (with internal.h). In the default build (HK_SECURE=0) every hook is
 *              an inline identity, so alloc.c, aligned.c and realloc.c compile to the
 *              code they had before the secure build existed (no branch, no call).
 */
#ifndef HK_SECURE_H
#define HK_SECURE_H

#include "config.h"
#include "types.h"

#include <stddef.h>

#if HK_SECURE
/* bytes added to every request for the canary word (secure.c "Block layout") */
#define HK_CANARY_SIZE ((size_t)8)

/* The size to ask the size classes for: the request plus the canary word (a request too
 * large to grow stays too large: SIZE_MAX, which every path refuses with ENOMEM). */
static inline size_t hki_secure_request(size_t n)
{
    return n > SIZE_MAX / 2 ? SIZE_MAX : n + HK_CANARY_SIZE;
}
/* Writes the canary of a block just allocated for a request of n bytes (p may be NULL);
 * returns p. */
void *hki_secure_stamp(void *p, size_t n);
/* hk_free of the secure build: validate, check the canary, fill, quarantine. */
void hki_secure_free(void *p);
/* hk_realloc of the secure build, after hki_block_validate accepted p. */
void *hki_secure_realloc(hk_segment_t *seg, hk_page_t *page, void *p, size_t size);
/* hk_usable_size of the secure build, after hki_block_validate accepted p: the request
 * (writing past it is the overflow the canary reports), 0 for a quarantined block. */
size_t hki_secure_usable(hk_segment_t *seg, hk_page_t *page, const void *p);
/* Is p (accepted by hki_block_validate) a block in the quarantine? (hk_is_owned) */
bool hki_secure_is_freed(const hk_segment_t *seg, const void *p);
/* The default build's hk_free (free.c): what secure.c calls for a pointer that
 * hki_block_validate refused, so that it is reported as the default build reports it. */
void hki_free_unguarded(void *p);
#else
static inline size_t hki_secure_request(size_t n)
{
    return n;
}
static inline void *hki_secure_stamp(void *p, size_t n)
{
    (void)n;
    return p;
}
#endif

#endif
