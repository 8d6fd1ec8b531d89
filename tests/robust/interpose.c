/*
 * interpose.c -- librbinterpose.so: a malloc interposer of the usual kind, preloaded
 * before libheapkit (LD_PRELOAD="librbinterpose.so libheapkit.so").
 *
 * It defines malloc, calloc, realloc and free as counting wrappers around the next
 * definitions (malloc and free; calloc and realloc are built on them), which
 * it finds with dlsym(RTLD_NEXT, ...) on first use (other libraries' constructors may
 * allocate before ours runs). While the lookup is going on, its malloc serves from a
 * small static arena (glibc's dlsym/dlerror may allocate during it). The lookup also
 * makes dlsym fail once, so that glibc allocates the error string in the middle of it.
 * The constructor then uses the pointer it got.
 *
 * Built with -DRB_MINIMAL (librbinterpose_min.so) it defines no allocation function:
 * its constructor only looks up malloc with dlsym(RTLD_NEXT) (a failing lookup first),
 * so glibc's allocations inside dlsym/dlerror go straight to libheapkit -- the first
 * heapkit allocations of a program that has not allocated yet -- and then uses it.
 */
#include <dlfcn.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct rb_interpose_report_s {
    int minimal; /* built with RB_MINIMAL: calls are not counted */
    int failures;
    int resolved;
    int owned;
    unsigned long calls;
    const char *message;
} rb_interpose_report_t;

#ifndef RB_MINIMAL
void *malloc(size_t n);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t n);
void free(void *p);
#endif
const rb_interpose_report_t *rb_interpose_report(void);

static void *(*next_malloc)(size_t);
static void (*next_free)(void *);
static int (*next_owned)(const void *);
static rb_interpose_report_t report;
static atomic_int resolving;
#ifndef RB_MINIMAL
static _Alignas(16) char arena[16384];
static atomic_size_t arena_used;
static atomic_ulong calls;
#endif

/* Runs once, from the first malloc or the constructor, whichever comes first. */
static void resolve(void)
{
    /* a failing lookup: glibc builds the error string on the heap */
    if (dlsym(RTLD_NEXT, "rb_no_such_symbol") != NULL)
        report.failures++;
    const char *err = dlerror();
    if (!err || !strstr(err, "rb_no_such_symbol"))
        report.failures++;
    void *(*m)(size_t);
    void (*f)(void *);
    *(void **)&m = dlsym(RTLD_NEXT, "malloc");
    *(void **)&f = dlsym(RTLD_NEXT, "free");
    *(void **)&next_owned = dlsym(RTLD_NEXT, "hk_is_owned");
#ifdef RB_MINIMAL
    report.minimal = 1;
    report.resolved = m != NULL && f != NULL;
#else
    report.resolved = m != NULL && f != NULL && m != malloc;
#endif
    if (!m || !f) {
        report.failures++;
        return;
    }
    next_free = f;
    next_malloc = m;
}

#ifndef RB_MINIMAL
void *malloc(size_t n)
{
    atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    if (!next_malloc && !atomic_exchange(&resolving, 1))
        resolve();
    if (next_malloc)
        return next_malloc(n);
    /* from the arena, with its size in a 16-byte header (for realloc) */
    if (n > sizeof arena)
        return NULL;
    size_t need = ((n + 15) & ~(size_t)15) + 16;
    size_t at = atomic_fetch_add(&arena_used, need);
    if (at + need > sizeof arena)
        return NULL;
    memcpy(arena + at, &n, sizeof n);
    return arena + at + 16;
}

static int in_arena(const void *p)
{
    return (const char *)p >= arena && (const char *)p < arena + sizeof arena;
}

void free(void *p)
{
    if (in_arena(p))
        return;
    if (next_free)
        next_free(p);
}

void *calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = malloc(n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

/* realloc = malloc + copy + free: the point is only to keep everything on our path */
void *realloc(void *p, size_t n)
{
    static size_t (*next_usable)(void *);
    if (!p)
        return malloc(n);
    if (n == 0) {
        free(p);
        return NULL;
    }
    size_t old;
    if (in_arena(p)) {
        memcpy(&old, (char *)p - 16, sizeof old);
    } else {
        if (!next_usable)
            *(void **)&next_usable = dlsym(RTLD_NEXT, "malloc_usable_size");
        if (!next_usable)
            return NULL;
        old = next_usable(p);
    }
    void *q = malloc(n);
    if (!q)
        return NULL;
    memcpy(q, p, old < n ? old : n);
    free(p);
    return q;
}

#endif

__attribute__((constructor)) static void interpose_ctor(void)
{
    if (!next_malloc && !atomic_exchange(&resolving, 1))
        resolve();
    if (!next_malloc) {
        report.failures++;
        return;
    }
    char *p = next_malloc(64);
    if (!p) {
        report.failures++;
        return;
    }
    memcpy(p, "interposer constructor ok", 26);
    report.owned = next_owned ? next_owned(p) : -1;
    report.message = p; /* kept: main reads it */
    for (int i = 0; i < 1000; i++) { /* through our own wrappers (or straight in) */
        char *q = next_malloc((size_t)i + 1);
        if (!q) {
            report.failures++;
            break;
        }
        q[i] = 1;
        free(q);
    }
    char *r = realloc(NULL, 10); /* ours, or straight to heapkit */
    if (!r || !(r = realloc(r, 200000)) || (next_owned && next_owned(r) != 1))
        report.failures++;
    free(r);
}

const rb_interpose_report_t *rb_interpose_report(void)
{
#ifndef RB_MINIMAL
    report.calls = atomic_load(&calls);
#endif
    return &report;
}
