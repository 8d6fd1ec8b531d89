/*
 * alloc_hooks.c -- the allocation functions of the recorder library: each forwards to
 *                  the next allocator (normally glibc's) and logs what happened.
 *
 * Design:      The real functions are found with dlsym(RTLD_NEXT) at the first call.
 *              dlsym may itself allocate, so while it runs (and if another thread calls
 *              in meanwhile) requests are served from a static bootstrap arena that is
 *              never given back; its blocks are recognized by address in free and
 *              realloc. A thread already inside the recorder (rec_busy) passes through
 *              unrecorded, so nothing the recorder or the real allocator does inside a
 *              call can recurse into the log.
 *              What is logged follows rawlog.h: the seq of a free is taken before the
 *              block is released, that of an allocation after it is obtained; a realloc
 *              takes both, and when it moves the block logs the release at the first.
 *              Failed calls (NULL) change no heap and are not logged; realloc(p, 0),
 *              which frees p in glibc, is logged as the free it was (and, where the next
 *              allocator returns a block instead, as a free and a malloc(0)).
 * Call sites:  __builtin_return_address(0) of each entry point: the caller's code.
 */
#include "rec.h"

#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define CALLER __builtin_return_address(0)

/* ---- The next allocator ---- */

static void *(*next_malloc)(size_t);
static void (*next_free)(void *);
static void *(*next_calloc)(size_t, size_t);
static void *(*next_realloc)(void *, size_t);
static int (*next_posix_memalign)(void **, size_t, size_t);
static void *(*next_aligned_alloc)(size_t, size_t);
static void *(*next_memalign)(size_t, size_t);
static void *(*next_valloc)(size_t);
static void *(*next_pvalloc)(size_t);
static void (*next_free_sized)(void *, size_t);

enum { UNRESOLVED, RESOLVING, READY };
static _Atomic int state = UNRESOLVED;

/* ---- Bootstrap arena ---- */

#define BOOT_BYTES ((size_t)256 << 10)
static _Alignas(64) unsigned char boot[BOOT_BYTES];
static _Atomic size_t boot_used;

static int is_boot(const void *p)
{
    return (const unsigned char *)p >= boot && (const unsigned char *)p < boot + BOOT_BYTES;
}

/* 16-byte header holding the size, then the block; `align` a power of two <= 4096. */
static void *boot_alloc(size_t n, size_t align)
{
    if (align < 16)
        align = 16;
    if (n > BOOT_BYTES) {
        errno = ENOMEM;
        return NULL;
    }
    size_t need = n + align + 16, at = atomic_fetch_add(&boot_used, need);
    if (at + need > BOOT_BYTES) {
        errno = ENOMEM;
        return NULL;
    }
    uintptr_t p = ((uintptr_t)(boot + at + 16) + align - 1) & ~(uintptr_t)(align - 1);
    ((size_t *)p)[-1] = n;
    return (void *)p; /* the arena is zero and never reused: calloc needs no memset */
}

static size_t boot_size(const void *p) { return ((const size_t *)p)[-1]; }

/* POSIX's way from dlsym's void * to a function pointer (ISO C has no cast for it). */
#define RESOLVE(fn, name)                                                                          \
    do {                                                                                           \
        void *sym_ = dlsym(RTLD_NEXT, name);                                                       \
        memcpy(&(fn), &sym_, sizeof(fn));                                                          \
    } while (0)

static void resolve(void)
{
    int expected = UNRESOLVED;
    if (!atomic_compare_exchange_strong(&state, &expected, RESOLVING))
        return; /* another thread resolves; the caller uses the arena meanwhile */
    rec_busy++;
    RESOLVE(next_malloc, "malloc");
    RESOLVE(next_free, "free");
    RESOLVE(next_calloc, "calloc");
    RESOLVE(next_realloc, "realloc");
    RESOLVE(next_posix_memalign, "posix_memalign");
    RESOLVE(next_aligned_alloc, "aligned_alloc");
    RESOLVE(next_memalign, "memalign");
    RESOLVE(next_valloc, "valloc");
    RESOLVE(next_pvalloc, "pvalloc");
    RESOLVE(next_free_sized, "free_sized");
    if (next_malloc && next_free && next_calloc && next_realloc && next_posix_memalign)
        rec_start();
    rec_busy--;
    atomic_store(&state, READY);
}

/* True when the call must go straight to the next allocator without being logged. */
static inline int pass_through(void) { return rec_busy || !rec_on; }

__attribute__((constructor)) static void recorder_init(void)
{
    if (atomic_load(&state) == UNRESOLVED)
        resolve();
}

/* ---- Allocation ---- */

static void *log_alloc(void *p, uint8_t op, size_t n, size_t align, const void *caller)
{
    if (p)
        rec_log(op, (uintptr_t)p, n, align, caller);
    return p;
}

static void *do_malloc(size_t n, const void *caller)
{
    if (atomic_load_explicit(&state, memory_order_acquire) != READY) {
        resolve();
        if (atomic_load(&state) != READY || !next_malloc)
            return boot_alloc(n, 16);
    }
    if (pass_through())
        return next_malloc(n);
    rec_busy++;
    void *p = log_alloc(next_malloc(n), RAWLOG_MALLOC, n, 0, caller);
    rec_busy--;
    return p;
}

EXPORT void *malloc(size_t n) { return do_malloc(n, CALLER); }

EXPORT void *calloc(size_t count, size_t size)
{
    size_t n;
    if (atomic_load_explicit(&state, memory_order_acquire) != READY) {
        resolve();
        if (atomic_load(&state) != READY || !next_calloc) {
            if (__builtin_mul_overflow(count, size, &n)) {
                errno = ENOMEM;
                return NULL;
            }
            return boot_alloc(n, 16);
        }
    }
    if (pass_through() || __builtin_mul_overflow(count, size, &n))
        return next_calloc(count, size); /* an overflow fails there, with its errno */
    rec_busy++;
    void *p = log_alloc(next_calloc(count, size), RAWLOG_CALLOC, n, 0, CALLER);
    rec_busy--;
    return p;
}

/* ---- Free ---- */

static void do_free(void *p, size_t size, int sized)
{
    if (!p || is_boot(p))
        return;
    if (atomic_load_explicit(&state, memory_order_acquire) != READY)
        resolve(); /* a block from before the recorder cannot exist, but be safe */
    if (!next_free)
        return;
    if (!pass_through()) {
        rec_busy++;
        rec_log(RAWLOG_FREE, (uintptr_t)p, 0, 0, NULL);
        rec_busy--;
    }
    if (sized && next_free_sized)
        next_free_sized(p, size);
    else
        next_free(p);
}

/* C23; glibc 2.36 declares neither */
EXPORT void free_sized(void *p, size_t size);
EXPORT void free_aligned_sized(void *p, size_t align, size_t size);

EXPORT void free(void *p) { do_free(p, 0, 0); }
EXPORT void free_sized(void *p, size_t size) { do_free(p, size, 1); }
EXPORT void free_aligned_sized(void *p, size_t align, size_t size)
{
    (void)align;
    (void)size;
    do_free(p, 0, 0);
}

/* ---- Realloc ---- */

static void *boot_realloc(void *p, size_t n, const void *caller)
{
    void *q = do_malloc(n, caller);
    if (q) {
        size_t old = boot_size(p);
        unsigned char *d = q;
        const unsigned char *s = p;
        for (size_t i = 0; i < (old < n ? old : n); i++)
            d[i] = s[i];
    }
    return q;
}

static void log_realloc(void *p, void *q, size_t n, uint64_t before, const void *caller)
{
    if (!q) {
        if (n == 0) /* glibc: realloc(p, 0) freed p */
            rec_event(RAWLOG_FREE, before, (uintptr_t)p, 0, 0, NULL);
        return; /* else it failed and p is unchanged */
    }
    if (n == 0) { /* an allocator that returns a block for realloc(p, 0) */
        rec_event(RAWLOG_FREE, before, (uintptr_t)p, 0, 0, NULL);
        rec_log(RAWLOG_MALLOC, (uintptr_t)q, 0, 0, caller);
        return;
    }
    if (q != p)
        rec_event(RAWLOG_REALLOC_BEGIN, before, (uintptr_t)p, 0, 0, NULL);
    rec_log(RAWLOG_REALLOC, (uintptr_t)q, n, (uintptr_t)p, caller);
}

static void *do_realloc(void *p, size_t n, const void *caller)
{
    if (!p)
        return do_malloc(n, caller);
    if (is_boot(p))
        return boot_realloc(p, n, caller);
    if (pass_through())
        return next_realloc(p, n);
    rec_busy++;
    uint64_t before = rec_seq();
    void *q = next_realloc(p, n);
    int saved = errno;
    log_realloc(p, q, n, before, caller);
    errno = saved;
    rec_busy--;
    return q;
}

EXPORT void *realloc(void *p, size_t n) { return do_realloc(p, n, CALLER); }

EXPORT void *reallocarray(void *p, size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    return do_realloc(p, n, CALLER);
}

/* ---- Aligned ---- */

static int ready(void)
{
    if (atomic_load_explicit(&state, memory_order_acquire) != READY)
        resolve();
    return atomic_load(&state) == READY && next_malloc;
}

EXPORT int posix_memalign(void **out, size_t align, size_t n)
{
    if (!ready()) {
        if (align > 4096 || (align & (align - 1)) || align % sizeof(void *))
            return EINVAL;
        *out = boot_alloc(n, align);
        return *out ? 0 : ENOMEM;
    }
    if (pass_through())
        return next_posix_memalign(out, align, n);
    rec_busy++;
    int err = next_posix_memalign(out, align, n);
    if (err == 0)
        log_alloc(*out, RAWLOG_ALIGNED, n, align, CALLER);
    rec_busy--;
    return err;
}

/* The alignment a block really got: glibc takes memalign(24, n) and aligned_alloc(48, n)
 * and rounds the alignment up to a power of two; the log holds powers of two (R3). */
static size_t effective_align(size_t align)
{
    if (align <= 1)
        return 1;
    size_t a = 1;
    while (a < align && a < ((size_t)1 << 62))
        a <<= 1;
    return a;
}

/* aligned_alloc, memalign: the next allocator's, or posix_memalign's when it has none */
static void *aligned_via(void *(*next)(size_t, size_t), size_t align, size_t n,
                         const void *caller)
{
    if (!ready())
        return align <= 4096 ? boot_alloc(n, align) : NULL;
    void *p = NULL;
    if (next)
        p = next(align, n);
    else if (next_posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, n) != 0)
        p = NULL;
    if (pass_through())
        return p;
    rec_busy++;
    log_alloc(p, RAWLOG_ALIGNED, n, effective_align(align), caller);
    rec_busy--;
    return p;
}

EXPORT void *aligned_alloc(size_t align, size_t n)
{
    return aligned_via(next_aligned_alloc, align, n, CALLER);
}

EXPORT void *memalign(size_t align, size_t n) { return aligned_via(next_memalign, align, n, CALLER); }

static void *page_aligned(void *(*next)(size_t), size_t n, size_t logged, const void *caller)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    if (!ready())
        return boot_alloc(logged, page);
    void *p = next ? next(n) : NULL;
    if (pass_through())
        return p;
    rec_busy++;
    log_alloc(p, RAWLOG_ALIGNED, logged, page, caller);
    rec_busy--;
    return p;
}

EXPORT void *valloc(size_t n) { return page_aligned(next_valloc, n, n, CALLER); }

EXPORT void *pvalloc(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), rounded = (n + page - 1) & ~(page - 1);
    if (rounded < n) {
        errno = ENOMEM;
        return NULL;
    }
    return page_aligned(next_pvalloc, n, rounded ? rounded : page, CALLER);
}

/* Not logged (it changes nothing), but a bootstrap block must not reach the next one. */
EXPORT size_t malloc_usable_size(void *p)
{
    static size_t (*next_usable)(void *);
    if (!p)
        return 0;
    if (is_boot(p))
        return boot_size(p);
    if (!next_usable)
        RESOLVE(next_usable, "malloc_usable_size");
    return next_usable ? next_usable(p) : 0;
}
