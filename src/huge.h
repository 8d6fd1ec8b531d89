/*
 * huge.h -- blocks above 1 MiB (or with alignment > 64 KiB), one mapping each, and the
 * small cache of freed mappings (huge.c).
 *
 * Layer:       beside segment.c (a huge block is a segment of kind HK_KIND_HUGE with one
 *              page), below ownership.h: a huge segment has no owning heap. The process
 *              initialization and the out-of-memory retry that gives back the calling
 *              thread's memory are done by the caller (alloc.c hki_malloc_huge).
 */
#ifndef HK_HUGE_H
#define HK_HUGE_H

#include "config.h"
#include "lock.h"
#include "segment.h"

/* Sets *os_refused (and errno = ENOMEM) when the OS refused the mapping: the caller may
 * give memory back and try once more. */
void *hki_huge_malloc(size_t n, size_t align, bool zero, bool *os_refused);
void hki_huge_free(hk_segment_t *seg);
void *hki_huge_realloc(hk_segment_t *seg, void *p, size_t n);
size_t hki_huge_usable(const hk_segment_t *seg, const void *p);
/* The header of the far block (alignment >= a segment) starting at p, or NULL: for the
 * paths that missed the registry (huge.c "far blocks"). */
hk_segment_t *hki_huge_far_of(const void *p);
size_t hki_huge_trim(bool force);
void hki_huge_stats(size_t *count, size_t *bytes);
/* H1..H3 and F1, F2 (huge.c), under hki_huge_lock; returns the number of violations. */
int hki_huge_check(hki_check_fail_fn *fail, void *arg);
extern hk_lock_t hki_huge_lock;
extern hk_heap_t hki_heap_huge; /* owner marker of huge segments */

#endif
