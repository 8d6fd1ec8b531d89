/*
 * track.h -- tells AddressSanitizer which heapkit blocks are live, so that a program
 * using the hk_* API under ASan gets reports for use after free and for reads or writes
 * past a block's usable size into a free neighbour.
 *
 * Design:      active only when HK_TRACK_ASAN=1 (`make VARIANT=sanitize` builds the
 *              library that way, with UBSan but *without* ASan instrumentation of its own
 *              code: it reads and writes the links inside free blocks, which are poisoned).
 *              The library only calls the ASan runtime's poison functions:
 *
 *                event                                  shadow of the block's usable bytes
 *                -------------------------------------  -----------------------------------
 *                returned by an hk_* allocation call    unpoisoned (hk_track_malloc)
 *                freed (a block heapkit owns)           poisoned before it is linked into
 *                                                       any list (hk_track_free), so a
 *                                                       thread that reuses it at once
 *                                                       cannot have its unpoison undone
 *                memory unmapped or moved by mremap,    unpoisoned (hk_track_unpoison), so
 *                                                       whoever maps that range next starts
 *                                                       clean
 *
 *              Blocks are unpoisoned before the library's own memset (calloc) or memcpy
 *              (realloc) touch them: ASan intercepts those calls even from uninstrumented
 *              code. A pointer heapkit does not own is left alone by hk_track_free; the
 *              free path then reports it as usual.
 *              In every other build the macros are empty: no code, no cost.
 * Layer:       a leaf: the two ASan primitives only, so that the OS layer (os/posix.c,
 *              which unpoisons what it unmaps) depends on nothing above it. The per-block
 *              events, which ask the public API for a block's usable size
 *              (hk_track_malloc, hk_track_free), are in internal.h, the top layer.
 */
#ifndef HK_TRACK_H
#define HK_TRACK_H

#include "config.h"

#include <stddef.h>

#if HK_TRACK_ASAN
#include <sanitizer/asan_interface.h>

static inline void hk_track_poison(void *p, size_t size)
{
    __asan_poison_memory_region(p, size);
}
static inline void hk_track_unpoison(void *p, size_t size)
{
    __asan_unpoison_memory_region(p, size);
}
#else
#define hk_track_poison(p, size)   ((void)(p), (void)(size))
#define hk_track_unpoison(p, size) ((void)(p), (void)(size))
#endif

#endif
