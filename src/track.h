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
 */
#ifndef HK_TRACK_H
#define HK_TRACK_H

#include "config.h"

#include <stddef.h>

#if HK_TRACK_ASAN
#include "heapkit.h"

#include <sanitizer/asan_interface.h>

static inline void hk_track_malloc(void *p)
{
    if (p != NULL)
        __asan_unpoison_memory_region(p, hk_usable_size(p));
}
static inline void hk_track_free(void *p)
{
    if (p != NULL && hk_is_owned(p))
        __asan_poison_memory_region(p, hk_usable_size(p));
}
static inline void hk_track_unpoison(void *p, size_t size)
{
    __asan_unpoison_memory_region(p, size);
}
#else
#define hk_track_malloc(p)        ((void)(p))
#define hk_track_free(p)          ((void)(p))
#define hk_track_unpoison(p, size) ((void)(p), (void)(size))
#endif

#endif
