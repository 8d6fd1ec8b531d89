/*
 * override.c -- the standard allocator symbols, as thin forwards to the hk_* API.
 *
 * Linking libheapkit (statically, or with LD_PRELOAD) replaces the system allocator.
 * Nothing else lives here. C++ operator new/delete reach us through malloc/free.
 * malloc, calloc, free and realloc, the calls that programs make by the million, are
 * aliases defined beside their hk_* functions in the libraries' builds
 * (HK_OVERRIDE_ALIASES, config.h): a forward costs a jump per call (callgrind: the
 * malloc(32)/free pair 61.4 -> 59.4 instructions). The forwards below serve a build
 * without them.
 */
#include "config.h"
#include "internal.h"

#include <malloc.h>
#include <stdlib.h>

#define HK_OVERRIDE HK_EXPORT

#if !HK_OVERRIDE_ALIASES
HK_OVERRIDE void *malloc(size_t size)
{
    return hk_malloc(size);
}
HK_OVERRIDE void free(void *p)
{
    hk_free(p);
}
HK_OVERRIDE void *calloc(size_t count, size_t size)
{
    return hk_calloc(count, size);
}
HK_OVERRIDE void *realloc(void *p, size_t size)
{
    return hk_realloc(p, size);
}
#endif
HK_OVERRIDE void *reallocarray(void *p, size_t count, size_t size)
{
    return hk_reallocarray(p, count, size);
}
HK_OVERRIDE int posix_memalign(void **out, size_t alignment, size_t size)
{
    return hk_posix_memalign(out, alignment, size);
}
HK_OVERRIDE void *aligned_alloc(size_t alignment, size_t size)
{
    return hk_aligned_alloc(alignment, size);
}
HK_OVERRIDE void *memalign(size_t alignment, size_t size)
{
    return hk_memalign(alignment, size);
}
HK_OVERRIDE void *valloc(size_t size)
{
    return hk_valloc(size);
}
HK_OVERRIDE void *pvalloc(size_t size)
{
    return hk_pvalloc(size);
}
HK_OVERRIDE size_t malloc_usable_size(void *p)
{
    return hk_usable_size(p);
}
/* C23 */
void free_sized(void *p, size_t size);
void free_aligned_sized(void *p, size_t alignment, size_t size);
HK_OVERRIDE void free_sized(void *p, size_t size)
{
    hk_free_sized(p, size);
}
HK_OVERRIDE void free_aligned_sized(void *p, size_t alignment, size_t size)
{
    hk_free_aligned_sized(p, alignment, size);
}
HK_OVERRIDE int malloc_trim(size_t pad)
{
    return hk_trim(pad);
}
HK_OVERRIDE struct mallinfo2 mallinfo2(void)
{
    hk_stats_t s;
    hk_stats_get(&s);
    struct mallinfo2 mi = {0};
    mi.arena = s.committed - s.huge_bytes;  /* non-mmapped space: our segments */
    mi.ordblks = 1;
    mi.hblks = s.huge_blocks;
    mi.hblkhd = s.huge_bytes;
    mi.usmblks = s.peak_committed;
    mi.uordblks = s.allocated - s.huge_bytes;
    mi.fordblks = mi.arena > mi.uordblks ? mi.arena - mi.uordblks : 0;
    mi.keepcost = 0;
    return mi;
}
