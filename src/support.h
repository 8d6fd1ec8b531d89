/*
 * support.h -- the services every layer of libheapkit uses: branch hints and relaxed
 * atomics, size classes (size_class.c), options (options.c), formatted output
 * (output.c) and the mapped/committed byte counters (account.c).
 *
 * Layer:       above the OS (os.h, lock.h), below segments. Nothing here calls into a
 *              segment, an owner, a heap or the public API (docs/DESIGN-LIB.md "Layers",
 *              checked by tests/layers.sh).
 */
#ifndef HK_SUPPORT_H
#define HK_SUPPORT_H

#include "config.h"
#include "check.h"
#include "types.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define hk_likely(x)   __builtin_expect(!!(x), 1)
#define hk_unlikely(x) __builtin_expect(!!(x), 0)
#define HK_NOINLINE    __attribute__((noinline))
#define HK_COLD        __attribute__((cold, noinline))
#define HK_ALWAYS_INLINE inline __attribute__((always_inline))

#define hk_relaxed_load(p)     atomic_load_explicit((p), memory_order_relaxed)
#define hk_relaxed_store(p, v) atomic_store_explicit((p), (v), memory_order_relaxed)

/* ---- counters (no read-modify-write: owner-only stores) ---- */
#if HK_STATS
#define hki_count(c, n) hk_relaxed_store(&(c), hk_relaxed_load(&(c)) + (n))
#else
#define hki_count(c, n) ((void)0)
#endif

/* ---- size classes (size_class.c) ---- */
extern const uint32_t hki_class_size[HK_CLASS_COUNT];
extern const uint8_t hki_direct_class[HK_DIRECT_COUNT];

/* n in 1..HK_LARGE_MAX */
static inline unsigned hki_size_class(size_t n)
{
    if (n <= HK_DIRECT_MAX)
        return hki_direct_class[(n + 15) >> 4];
    size_t w = n - 1;
    unsigned p = 63u - (unsigned)__builtin_clzll((unsigned long long)w);
    return 17u + (p - 8u) * 8u + (unsigned)((w >> (p - 3u)) & 7u);
}
static inline unsigned hki_class_kind(unsigned c)
{
    size_t bs = hki_class_size[c];
    return bs <= HK_SMALL_MAX ? HK_KIND_SMALL : bs <= HK_MEDIUM_MAX ? HK_KIND_MEDIUM : HK_KIND_SPAN;
}
/* Classes above HK_MEDIUM_MAX are served as spans (types.h "Span segment layout"). */
static inline bool hki_class_is_span(unsigned c)
{
    return c >= HK_SPAN_CLASS_MIN;
}
/* The slots of a span's run for blocks of bs bytes. */
static inline unsigned hki_span_slots(size_t bs)
{
    return (unsigned)((bs + ((size_t)1 << HK_SPAN_SLOT_SHIFT) - 1) >> HK_SPAN_SLOT_SHIFT);
}

/* ---- options (options.c) ---- */
typedef enum {
    HK_OPT_STATS,
    HK_OPT_VERBOSE,
    HK_OPT_PURGE_DELAY,
    HK_OPT_ON_ERROR,
    HK_OPT_HUGE_CACHE,
    HK_OPT_QUARANTINE,
    HK_OPT_ZERO_ON_FREE,
    HK_OPT_EXIT_KEEP,
    HK_OPT_COUNT
} hk_option_t;
enum { HK_ON_ERROR_ABORT = 0, HK_ON_ERROR_WARN = 1, HK_ON_ERROR_IGNORE = 2 };
extern long hki_options[HK_OPT_COUNT];
void hki_options_init(void);
/* Row i of the options table, for tools/options_doc.c (the generator of docs/OPTIONS.md):
 * words is the NULL-terminated list of named values (index = value), or NULL when the
 * value is a plain number in min..max. Returns false, storing nothing, past the last row. */
bool hki_option_row(unsigned i, const char **name, long *def, long *min, long *max,
                    const char *const **words, const char **description);
static inline long hki_option(hk_option_t o)
{
    return hki_options[o];
}

/* ---- output (output.c) ---- */
int hki_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int hki_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void hki_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hki_verbose(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One line on stderr: prefix, then fmt formatted, then a newline. */
void hki_vprint_line(const char *prefix, const char *fmt, va_list ap);

/* ---- mapped and committed bytes (account.c; stats.c docs their meaning) ---- */
void hki_stat_mapped(ptrdiff_t delta);
void hki_stat_committed(ptrdiff_t delta);
void hki_stat_bytes(size_t *mapped, size_t *committed, size_t *peak_committed);

#endif
