/*
 * heapkit.h -- public API of libheapkit, the production allocator.
 *
 * Self-contained: includes only <stddef.h>. Every function follows the contract of its
 * C/POSIX namesake (malloc, free, ...). The library also defines the standard names
 * (malloc, free, ...) so that linking it, statically or with LD_PRELOAD, replaces the
 * system allocator. Runtime options: HEAPKIT_* environment variables (docs/OPTIONS.md).
 */
#ifndef HEAPKIT_H
#define HEAPKIT_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HEAPKIT_VERSION_MAJOR 0
#define HEAPKIT_VERSION_MINOR 1

#if defined(__GNUC__) || defined(__clang__)
#define HK_EXPORT            __attribute__((visibility("default")))
#define HK_ATTR_MALLOC       __attribute__((malloc))
#define HK_ATTR_ALLOC_SIZE(n) __attribute__((alloc_size(n)))
#define HK_ATTR_ALLOC_SIZE2(n, m) __attribute__((alloc_size(n, m)))
#define HK_ATTR_WUR          __attribute__((warn_unused_result))
#else
#define HK_EXPORT
#define HK_ATTR_MALLOC
#define HK_ATTR_ALLOC_SIZE(n)
#define HK_ATTR_ALLOC_SIZE2(n, m)
#define HK_ATTR_WUR
#endif

/* ---- the malloc family ---- */
HK_EXPORT HK_ATTR_MALLOC HK_ATTR_WUR HK_ATTR_ALLOC_SIZE(1) void *hk_malloc(size_t size);
HK_EXPORT HK_ATTR_MALLOC HK_ATTR_WUR HK_ATTR_ALLOC_SIZE2(1, 2) void *hk_calloc(size_t count,
                                                                               size_t size);
HK_EXPORT HK_ATTR_WUR HK_ATTR_ALLOC_SIZE(2) void *hk_realloc(void *p, size_t size);
HK_EXPORT HK_ATTR_WUR HK_ATTR_ALLOC_SIZE2(2, 3) void *hk_reallocarray(void *p, size_t count,
                                                                      size_t size);
HK_EXPORT void hk_free(void *p);
/* free with the size (and alignment) the block was requested with; the size is a hint. */
HK_EXPORT void hk_free_sized(void *p, size_t size);
HK_EXPORT void hk_free_aligned_sized(void *p, size_t alignment, size_t size);

/* ---- aligned allocation (alignment: a power of two, up to 2 MiB) ---- */
HK_EXPORT HK_ATTR_WUR int hk_posix_memalign(void **out, size_t alignment, size_t size);
HK_EXPORT HK_ATTR_MALLOC HK_ATTR_WUR HK_ATTR_ALLOC_SIZE(2) void *hk_aligned_alloc(size_t alignment,
                                                                                   size_t size);
HK_EXPORT HK_ATTR_MALLOC HK_ATTR_WUR HK_ATTR_ALLOC_SIZE(2) void *hk_memalign(size_t alignment,
                                                                              size_t size);
HK_EXPORT HK_ATTR_MALLOC HK_ATTR_WUR HK_ATTR_ALLOC_SIZE(1) void *hk_valloc(size_t size);
HK_EXPORT HK_ATTR_MALLOC HK_ATTR_WUR void *hk_pvalloc(size_t size);

/* ---- introspection ---- */
/* Bytes usable at p (>= the request); 0 for NULL. */
HK_EXPORT size_t hk_usable_size(const void *p);
/* 1 if p is the start of a live block of heapkit, 0 otherwise (never aborts). */
HK_EXPORT int hk_is_owned(const void *p);

/* Returns unused memory to the OS at once (empty pages, caches). Returns 1 if some memory
 * was released, 0 otherwise (malloc_trim's contract). */
HK_EXPORT int hk_trim(size_t pad);

/* Prints statistics (per size class, committed/mapped bytes) to stderr. */
HK_EXPORT void hk_stats_print(void);

typedef struct hk_stats_s {
    size_t allocated;      /* bytes in live blocks (block sizes, not request sizes) */
    size_t live_blocks;    /* blocks allocated and not yet returned */
    size_t committed;      /* bytes we hold committed (pages in use or awaiting purge) */
    size_t peak_committed; /* high-water mark of committed */
    size_t mapped;         /* address space reserved from the OS */
    size_t huge_blocks;    /* live huge (directly mapped) blocks */
    size_t huge_bytes;     /* bytes mapped for them */
    /* ownership handoffs between threads (src/types.h hk_handoff_stats_t) */
    size_t remote_frees;     /* frees into another thread's page (once its owner collects them) */
    size_t segments_claimed; /* abandoned segments taken by a thread freeing into them */
    size_t segments_adopted; /* abandoned segments taken by a thread needing a page */
} hk_stats_t;
HK_EXPORT void hk_stats_get(hk_stats_t *out);

/* Heap check: walks the calling thread's heap (and the abandoned segments) and verifies
 * every invariant documented in src/types.h. Returns the number of violations found; the
 * first one is described in `report` (if non-NULL) and, with verbose, on stderr. */
typedef struct hk_report_s {
    const void *addr;      /* address involved in the first violation */
    const char *invariant; /* its name, e.g. "P2" */
    const char *message;   /* a short explanation */
} hk_report_t;
HK_EXPORT int hk_heap_check(hk_report_t *report);

#ifdef __cplusplus
}
#endif

#endif /* HEAPKIT_H */
