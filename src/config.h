/*
 * config.h -- compile-time knobs of libheapkit, with their defaults.
 *
 * Tested with `#if HK_X` (never #ifdef) under -Wundef. Changing a size knob changes the
 * layout documented in types.h; the static assertions there keep them consistent.
 *
 *   knob                 default   meaning
 *   HK_DEBUG             0         0 release (always-on free validation), 1 hk_assert,
 *                                  2 hk_assert_internal, 3 hk_assert_expensive + periodic
 *                                  hk_heap_check in the slow path
 *   HK_STATS             1         per-heap counters (plain owner-thread stores, no RMW)
 *   HK_SEG_SHIFT         22        segment = 4 MiB, aligned to its size
 *   HK_SEG_HDR_SIZE      64 KiB    start of the segment reserved for its header
 *   HK_ADDR_BITS         47        user address bits covered by the segment registry
 *                                  (x86-64 Linux maps below 2^47 unless a program asks for
 *                                  more with a hint: 4 MiB of .bss; 48 elsewhere, arm64)
 *   HK_EXTEND_SIZE       4 KiB     bytes carved from a page's bump area per extension
 *   HK_HUGE_CACHE_COUNT  512       freed huge mappings kept for reuse (HEAPKIT_HUGE_CACHE
 *                                  bounds their bytes): blocks realloc moved to a mapping
 *                                  of their own are 128 KiB..1 MiB, and a program that
 *                                  grows hundreds of buffers so faulted in every page of
 *                                  them again each time with 8 (bench realloc-large)
 *   HK_OWN_SEG_COUNT     64        a heap's owned segments free() finds without the
 *                                  registry, by their address's low bits (types.h S4)
 *   HK_ADOPT_SCAN        16        abandoned segments looked at from each end of the list
 *                                  before a heap maps a fresh segment (and the most that
 *                                  hold live blocks passed over when unmapping expired
 *                                  empty ones); also a heap's segments looked at for the
 *                                  slot of a new page (segment.c)
 *   HK_CLAIM_PATIENCE    4         an abandoned segment holding live blocks is passed
 *                                  over this many times by heaps about to map a fresh
 *                                  segment (left to the threads that free into it) before
 *                                  one adopts it instead (0 with a purge delay of 0)
 *   HK_CHECK_EVERY       64        (HK_DEBUG >= 3) heap check every N slow-path calls
 *   HK_TRACK_ASAN        0         1: tell AddressSanitizer which blocks are live (track.h;
 *                                  set by `make VARIANT=sanitize`)
 *   HK_OS_FAULTS         0         1: tests can make the OS layer refuse memory
 *                                  (os.h hki_os_fail_after; set by `make VARIANT=debug`)
 *   HK_OVERRIDE_ALIASES  0         1: alloc.c, free.c and realloc.c also define malloc,
 *                                  calloc, free and realloc, as aliases of their hk_*
 *                                  functions (one jump less per call than override.c's
 *                                  forwards; set for the libraries' own copies of these
 *                                  files, src/src.mk, never for the objects the tests link)
 *   HK_SECURE            0         1: libheapkit-secure.so: canary after every block,
 *                                  freed blocks filled and quarantined, a key per page,
 *                                  blocks carved in random order, no huge cache
 *                                  (secure.c; built by `make` beside libheapkit.so)
 */
#ifndef HK_CONFIG_H
#define HK_CONFIG_H

#ifndef HK_DEBUG
#define HK_DEBUG 0
#endif
#ifndef HK_STATS
#define HK_STATS 1
#endif
#ifndef HK_TRACK_ASAN
#define HK_TRACK_ASAN 0
#endif
#ifndef HK_OS_FAULTS
#define HK_OS_FAULTS 0
#endif
#ifndef HK_SECURE
#define HK_SECURE 0
#endif
#ifndef HK_OVERRIDE_ALIASES
#define HK_OVERRIDE_ALIASES 0
#endif

#define HK_SEG_SHIFT        22
#define HK_SEG_SIZE         ((size_t)1 << HK_SEG_SHIFT)
#define HK_SEG_MASK         (HK_SEG_SIZE - 1)
#define HK_SEG_HDR_SIZE     ((size_t)64 * 1024)
#if defined(__x86_64__)
#define HK_ADDR_BITS        47
#else
#define HK_ADDR_BITS        48
#endif
#define HK_EXTEND_SIZE      ((size_t)4096)
#define HK_HUGE_CACHE_COUNT 512
#define HK_OWN_SEG_COUNT    64 /* (a power of two) */
#define HK_ADOPT_SCAN       16
#define HK_CLAIM_PATIENCE   4
#define HK_CHECK_EVERY      64

/* Page kinds: page size (shift) and largest block size served from them. */
#define HK_SMALL_PAGE_SHIFT  16 /* 64 KiB pages, blocks <= 8 KiB */
#define HK_MEDIUM_PAGE_SHIFT 17 /* 128 KiB pages, blocks <= 64 KiB */
#define HK_SPAN_SLOT_SHIFT   16 /* span segments: 64 KiB slots, one block per run of them */
#define HK_SMALL_MAX         ((size_t)8 * 1024)
#define HK_MEDIUM_MAX        ((size_t)64 * 1024)
#define HK_LARGE_MAX         ((size_t)1024 * 1024) /* largest size class; above: huge */
#define HK_SPAN_CLASS_MIN    81 /* the first class above HK_MEDIUM_MAX: 72 KiB (span kind) */
/* The secure build's largest block size with a canary (secure.h): the class below the
 * largest (the top classes step by 1/16 of 1 MiB). Blocks of the largest class, 960 KiB..
 * 1 MiB, carry none, as huge blocks: a 1 MiB request (a common buffer size) stays in its
 * class instead of taking a mapping of its own for its 8 more bytes (docs/HARDENING.md). */
#define HK_CANARY_BLOCK_MAX  (HK_LARGE_MAX - HK_LARGE_MAX / 16)
/* realloc growing a block to this size or more gives it a mapping of its own (huge.c),
 * which later growth moves with mremap instead of copying (realloc.c) */
#define HK_REALLOC_REMAP_MIN ((size_t)128 * 1024)

#define HK_DIRECT_MAX   ((size_t)1024) /* sizes served through heap->direct[] */
#define HK_DIRECT_COUNT 65             /* (HK_DIRECT_MAX / 16) + 1 */
#define HK_CLASS_COUNT  113            /* class 0 is "no class"; 1..112 */

#define HK_MIN_ALIGN       ((size_t)16)
#define HK_PAGE_ALIGN_MAX  ((size_t)64 * 1024) /* alignments served from pages */
#define HK_ALIGN_MAX       ((size_t)1 << 40)   /* largest alignment (address space permitting) */

#endif
