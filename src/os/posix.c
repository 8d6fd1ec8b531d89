/*
 * os/posix.c -- the OS contract (os.h) for Linux/POSIX: mmap, munmap, madvise, mremap,
 * mincore, getenv, write, getrandom, clock_gettime, pthread keys and atfork.
 *
 * Design:      thin wrappers; the only file that includes OS headers. Aligned mappings
 *              first try an exact-size map (the kernel often places consecutive maps next
 *              to each other, which keeps them aligned) and otherwise over-map and trim.
 * Concurrency: all functions are thread-safe; `map_hint` is a relaxed atomic.
 */
#include "../config.h"
#include "../os.h"
#include "../track.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static size_t os_page_size = 4096;
static pthread_key_t os_thread_key;
static _Atomic uintptr_t map_hint;
static int os_err_fd = 2;

size_t hki_os_page_size(void)
{
    return os_page_size;
}

static void *os_mmap(void *hint, size_t size)
{
    void *p = mmap(hint, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

#if HK_OS_FAULTS
static _Atomic long fault_countdown = -1; /* < 0: off */
static _Atomic int fault_transient;
static _Atomic long fault_refused;

long hki_os_fail_after(long calls, int transient)
{
    atomic_store(&fault_transient, transient);
    atomic_store(&fault_countdown, calls);
    return atomic_exchange(&fault_refused, 0);
}

/* true if this memory request is to be refused */
static bool fault_now(void)
{
    long left = atomic_load(&fault_countdown);
    while (left > 0 && !atomic_compare_exchange_weak(&fault_countdown, &left, left - 1)) {
    }
    if (left != 0)
        return false;
    if (atomic_load(&fault_transient))
        atomic_store(&fault_countdown, -1);
    atomic_fetch_add(&fault_refused, 1);
    return true;
}
#else
static inline bool fault_now(void)
{
    return false;
}
#endif

/* Over-maps by `align` and trims both ends (the reservation is MAP_NORESERVE and only
 * the kept part is ever touched, so even a 1 GiB alignment costs its address space only
 * between the two calls). The result + offset is a multiple of align. */
static int map_trimmed(size_t size, size_t align, size_t offset, void **out)
{
    void *p = os_mmap(NULL, size + align);
    if (p == NULL)
        return errno ? errno : ENOMEM;
    uintptr_t mask = (uintptr_t)align - 1;
    uintptr_t base = (((uintptr_t)p + offset + mask) & ~mask) - offset;
    size_t pre = base - (uintptr_t)p; /* < align */
    size_t post = align - pre;
    if (pre)
        munmap(p, pre);
    if (post)
        munmap((void *)(base + size), post);
    if (offset == 0)
        atomic_store_explicit(&map_hint, base, memory_order_relaxed);
    *out = (void *)base;
    return 0;
}

int hki_os_map_aligned(size_t size, size_t align, void **out)
{
    if (size == 0 || size > ((size_t)1 << 46) || fault_now())
        return ENOMEM;
    /* 1. exact size, at the hint (just below the previous aligned map) */
    uintptr_t hint = atomic_load_explicit(&map_hint, memory_order_relaxed);
    void *hinted = NULL;
    if (hint > size + align)
        hinted = (void *)((hint - size) & ~(uintptr_t)(align - 1));
    void *p = os_mmap(hinted, size);
    if (p == NULL)
        return errno ? errno : ENOMEM;
    if (((uintptr_t)p & (align - 1)) == 0) {
        atomic_store_explicit(&map_hint, (uintptr_t)p, memory_order_relaxed);
        *out = p;
        return 0;
    }
    munmap(p, size);
    /* 2. over-map and trim */
    return map_trimmed(size, align, 0, out);
}

int hki_os_map_aligned_at(size_t size, size_t align, size_t offset, void **out)
{
    if (size == 0 || size > ((size_t)1 << 46) || align > ((size_t)1 << 46) || fault_now())
        return ENOMEM;
    return map_trimmed(size, align, offset, out);
}

int hki_os_unmap(void *p, size_t size)
{
    hk_track_unpoison(p, size);
    return munmap(p, size) == 0 ? 0 : errno;
}

bool hki_os_is_mapped(const void *p)
{
    unsigned char v;
    return mincore((void *)p, os_page_size, &v) == 0; /* ENOMEM: not mapped */
}

int hki_os_resident(const void *p, size_t size, unsigned char *vec)
{
    return mincore((void *)p, size, vec) == 0 ? 0 : errno;
}

int hki_os_purge(void *p, size_t size)
{
    return madvise(p, size, MADV_DONTNEED) == 0 ? 0 : errno;
}

int hki_os_guard(void *p, size_t size)
{
    return mprotect(p, size, PROT_NONE) == 0 ? 0 : errno;
}

int hki_os_unguard(void *p, size_t size)
{
    return mprotect(p, size, PROT_READ | PROT_WRITE) == 0 ? 0 : errno;
}

int hki_os_remap(void *p, size_t old_size, size_t new_size, size_t align, int may_move, void **out)
{
    if (new_size > old_size && fault_now())
        return ENOMEM;
    hk_track_unpoison(p, old_size); /* the range may move or shrink away */
    void *q = mremap(p, old_size, new_size, 0);
    if (q != MAP_FAILED) {
        *out = q;
        return 0;
    }
    if (!may_move)
        return errno;
    /* Reserve an aligned destination, then move the pages onto it (no copy). */
    void *dst;
    int err = hki_os_map_aligned(new_size, align, &dst);
    if (err)
        return err;
    q = mremap(p, old_size, new_size, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
    if (q == MAP_FAILED) {
        err = errno;
        munmap(dst, new_size);
        return err;
    }
    *out = q;
    return 0;
}

const char *hki_os_getenv(const char *name)
{
    return getenv(name);
}

void hki_os_write_stderr(const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(os_err_fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        buf += n;
        len -= (size_t)n;
    }
}

void hki_os_random(void *buf, size_t len)
{
    unsigned char *b = buf;
    ssize_t n = getrandom(buf, len, GRND_NONBLOCK);
    if (n == (ssize_t)len)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)&ts ^
                 ((uint64_t)getpid() << 16);
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        b[i] = (unsigned char)x;
    }
}

uint64_t hki_os_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void hki_os_keep_stderr(void)
{
    int fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
    if (fd >= 0)
        os_err_fd = fd;
}

_Noreturn void hki_os_abort(void)
{
    abort();
}

void hki_os_yield(void)
{
    sched_yield();
}

int hki_os_process_init(void (*thread_done)(void *), void (*before_fork)(void),
                        void (*after_fork_parent)(void), void (*after_fork_child)(void))
{
    long ps = sysconf(_SC_PAGESIZE);
    if (ps > 0)
        os_page_size = (size_t)ps;
    int err = pthread_key_create(&os_thread_key, thread_done);
    if (err)
        return err;
    return pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

void hki_os_thread_register(void *arg)
{
    pthread_setspecific(os_thread_key, arg);
}
