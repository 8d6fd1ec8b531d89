/*
 * aligned.c -- aligned allocation: posix_memalign, aligned_alloc, memalign, valloc, pvalloc.
 *
 * Design:      no over-allocation and no interior pointers. For an alignment A <= 64 KiB
 *              and a size that fits a class, pick the smallest class whose block size is
 *              a multiple of A (>= the size rounded up to A): every page area starts at
 *              a multiple of 64 KiB, so all blocks of that class are A-aligned (types.h).
 *              Larger alignments or sizes use a huge segment with the block placed at an
 *              A-aligned offset (A < 4 MiB) or one segment after its header (A >= 4 MiB,
 *              up to HK_ALIGN_MAX = 1 TiB, address space permitting: huge.c far blocks).
 * Complexity:  O(1) (the class search is at most a few steps).
 */
#include "config.h"
#include "internal.h"
#include "os.h"

#include <errno.h>

static inline bool is_pow2(size_t x)
{
    return x != 0 && (x & (x - 1)) == 0;
}

/* pre: align is a power of two */
void *hki_malloc_aligned(size_t n, size_t align)
{
    if (align <= HK_MIN_ALIGN)
        return hk_malloc(n);
    if (n == 0)
        n = 1;
    size_t req = n; /* the secure build's canary follows the request (secure.h) */
    n = hki_secure_request(n);
    if (align <= HK_PAGE_ALIGN_MAX && n <= HK_LARGE_MAX) {
        size_t r = (n + align - 1) & ~(align - 1);
        if (r <= HK_LARGE_MAX) {
            unsigned c = hki_size_class(r);
            while (c < HK_CLASS_COUNT && hki_class_size[c] % align != 0)
                c++;
            if (c < HK_CLASS_COUNT) {
                void *p = hki_malloc_class(c);
                hk_track_malloc(p);
                return hki_secure_stamp(p, req);
            }
        }
    }
    if (align > HK_ALIGN_MAX) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = hki_malloc_huge(req, align, false); /* (huge blocks have no canary) */
    hk_track_malloc(p);
    return p;
}

int hk_posix_memalign(void **out, size_t alignment, size_t size)
{
    if (alignment < sizeof(void *) || !is_pow2(alignment))
        return EINVAL;
    if (alignment > HK_ALIGN_MAX)
        return ENOMEM;
    void *p = hki_malloc_aligned(size, alignment);
    if (p == NULL)
        return ENOMEM;
    *out = p;
    return 0;
}

void *hk_aligned_alloc(size_t alignment, size_t size)
{
    if (!is_pow2(alignment)) {
        errno = EINVAL;
        return NULL;
    }
    return hki_malloc_aligned(size, alignment);
}

void *hk_memalign(size_t alignment, size_t size)
{
    if (alignment <= HK_MIN_ALIGN)
        return hk_malloc(size);
    if (!is_pow2(alignment)) { /* glibc rounds up to a power of two */
        if (alignment > HK_ALIGN_MAX) {
            errno = EINVAL;
            return NULL;
        }
        size_t a = HK_MIN_ALIGN;
        while (a < alignment)
            a <<= 1;
        alignment = a;
    }
    return hki_malloc_aligned(size, alignment);
}

void *hk_valloc(size_t size)
{
    return hki_malloc_aligned(size, hki_os_page_size());
}

void *hk_pvalloc(size_t size)
{
    size_t ps = hki_os_page_size();
    if (size > SIZE_MAX - ps) {
        errno = ENOMEM;
        return NULL;
    }
    size_t n = size == 0 ? ps : (size + ps - 1) & ~(ps - 1);
    return hki_malloc_aligned(n, ps);
}
