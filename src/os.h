/*
 * os.h -- the only contract between libheapkit and the operating system.
 *
 * Shared preconditions: addresses and sizes are multiples of hki_os_page_size() (except
 * where stated), sizes are > 0, result pointers are non-NULL. Calls that can fail return 0
 * or an errno value. None of them allocates with malloc or uses stdio.
 * Implementation: os/posix.c (Linux/POSIX).
 */
#ifndef HK_OS_H
#define HK_OS_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

size_t hki_os_page_size(void);

/* Maps `size` bytes of zeroed read/write memory aligned to `align` (a power of two,
 * >= page size). Memory is committed lazily by the kernel on first touch. */
int hki_os_map_aligned(size_t size, size_t align, void **out);
/* The same, placed so that address + offset (offset < align, a multiple of the page size)
 * is a multiple of align. */
int hki_os_map_aligned_at(size_t size, size_t align, size_t offset, void **out);
int hki_os_unmap(void *p, size_t size);
/* Returns the physical pages to the OS; the range stays mapped and reads back as zero. */
int hki_os_purge(void *p, size_t size);
/* Makes [p, p+size) inaccessible (a guard: any access faults); 0 or an errno value. */
int hki_os_guard(void *p, size_t size);
/* Makes a guard [p, p+size) readable and writable again; 0 or an errno value. */
int hki_os_unguard(void *p, size_t size);
/* Resizes the mapping at p to new_size. Tries in place first; if that fails and `may_move`,
 * moves it (without copying) to a fresh address aligned to `align`. */
int hki_os_remap(void *p, size_t old_size, size_t new_size, size_t align, int may_move,
                 void **out);

/* For the checkers: is the page at p (page-aligned) mapped? Fills vec[i] with bit 0 set
 * when page i of [p, p + size) is resident (p page-aligned); returns 0 or an errno. */
bool hki_os_is_mapped(const void *p);
int hki_os_resident(const void *p, size_t size, unsigned char *vec);

#if HK_OS_FAULTS
/* Fault injection for tests: after `calls` more successful memory requests (map_aligned,
 * or remap growing), every request fails with ENOMEM; `transient` makes only the first of
 * them fail. calls < 0 switches it off (the default). Returns the number of requests
 * refused since the last call. */
long hki_os_fail_after(long calls, int transient);
#endif

const char *hki_os_getenv(const char *name);
void hki_os_write_stderr(const char *buf, size_t len);
/* Writes to a private duplicate of stderr from now on (so exit statistics survive a
 * program that closes fd 2 at exit, as coreutils do). */
void hki_os_keep_stderr(void);
/* Fills buf with random bytes (best effort: falls back to time and addresses). */
void hki_os_random(void *buf, size_t len);
uint64_t hki_os_now_ms(void);
_Noreturn void hki_os_abort(void);
void hki_os_yield(void);

/* Process hooks: `thread_done` runs at exit of every thread that called
 * hki_os_thread_register(arg), with that arg; the fork hooks run around fork(). */
int hki_os_process_init(void (*thread_done)(void *), void (*before_fork)(void),
                        void (*after_fork_parent)(void), void (*after_fork_child)(void));
void hki_os_thread_register(void *arg);

#endif
